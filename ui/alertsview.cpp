// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/alertsview.h"

#include "models/alertmodel.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QStyledItemDelegate>
#include <QTreeView>
#include <QVBoxLayout>

namespace {

/// Acknowledged alerts step back (greyed); the rule of a waiting one stands out (bold).
class AlertDelegate final : public QStyledItemDelegate
{
public:
    using QStyledItemDelegate::QStyledItemDelegate;

protected:
    void initStyleOption(QStyleOptionViewItem* option, const QModelIndex& index) const override
    {
        QStyledItemDelegate::initStyleOption(option, index);
        if (index.data(AlertModel::AcknowledgedRole).toBool()) {
            option->palette.setColor(QPalette::Text, option->palette.color(QPalette::Disabled, QPalette::Text));
            return;
        }
        if (index.column() == AlertModel::RuleColumn)
            option->font.setBold(true);
    }
};

} // namespace

AlertsView::AlertsView(AlertModel* model, QWidget* parent)
    : QWidget(parent)
    , m_model(model)
{
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->setSpacing(4);

    m_list = new QTreeView(this);
    m_list->setObjectName(QStringLiteral("alertList"));
    m_list->setModel(m_model);
    m_list->setRootIsDecorated(false);
    m_list->setUniformRowHeights(true);
    m_list->setAlternatingRowColors(true);
    m_list->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_list->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_list->setItemDelegate(new AlertDelegate(m_list));
    m_list->setTextElideMode(Qt::ElideRight);
    QHeaderView* header = m_list->header();
    header->setStretchLastSection(false);
    header->setSectionResizeMode(AlertModel::TimeColumn, QHeaderView::ResizeToContents);
    header->setSectionResizeMode(AlertModel::RuleColumn, QHeaderView::Interactive);
    header->setSectionResizeMode(AlertModel::WhereColumn, QHeaderView::Interactive);
    header->setSectionResizeMode(AlertModel::TextColumn, QHeaderView::Stretch);
    header->setSectionResizeMode(AlertModel::CountColumn, QHeaderView::Interactive);
    header->resizeSection(AlertModel::RuleColumn, fontMetrics().averageCharWidth() * 18);
    header->resizeSection(AlertModel::WhereColumn, fontMetrics().averageCharWidth() * 18);
    header->resizeSection(AlertModel::CountColumn,
                          fontMetrics().horizontalAdvance(AlertModel::countText(999, 99000)) + 16);
    // The repeats before the line, which takes what is left.
    header->moveSection(AlertModel::CountColumn, AlertModel::TextColumn);
    layout->addWidget(m_list, 1);

    m_empty = new QLabel(tr("No alerts. Rules decide what raises one: errors, crashes and hosts offline "
                            "unless you change them."),
                         this);
    m_empty->setObjectName(QStringLiteral("alertsEmpty"));
    m_empty->setWordWrap(true);
    m_empty->setForegroundRole(QPalette::PlaceholderText);
    m_empty->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_empty->setMargin(6);
    layout->addWidget(m_empty, 1);

    auto* buttons = new QHBoxLayout;
    m_acknowledge = new QPushButton(tr("Acknowledge"), this);
    m_acknowledge->setObjectName(QStringLiteral("acknowledgeAlert"));
    m_acknowledgeAll = new QPushButton(tr("Acknowledge All"), this);
    m_acknowledgeAll->setObjectName(QStringLiteral("acknowledgeAllAlerts"));
    auto* rules = new QPushButton(tr("Rules…"), this);
    rules->setObjectName(QStringLiteral("editAlertRules"));
    buttons->addWidget(m_acknowledge);
    buttons->addWidget(m_acknowledgeAll);
    buttons->addStretch(1);
    buttons->addWidget(rules);
    layout->addLayout(buttons);

    connect(m_acknowledge, &QPushButton::clicked, this, &AlertsView::acknowledgeSelected);
    connect(m_acknowledgeAll, &QPushButton::clicked, m_model, &AlertModel::acknowledgeAll);
    connect(rules, &QPushButton::clicked, this, &AlertsView::rulesRequested);
    connect(m_list, &QTreeView::doubleClicked, this,
            [this](const QModelIndex& index) { Q_EMIT openRequested(index.data(AlertModel::IdRole).toULongLong()); });
    connect(m_model, &AlertModel::unacknowledgedChanged, this, &AlertsView::updateButtons);
    connect(m_model, &AlertModel::rowsInserted, this, &AlertsView::updateButtons);
    connect(m_model, &AlertModel::rowsRemoved, this, &AlertsView::updateButtons);
    connect(m_list->selectionModel(), &QItemSelectionModel::selectionChanged, this, &AlertsView::updateButtons);
    updateButtons();
}

void AlertsView::acknowledgeSelected()
{
    QList<quint64> ids;
    for (const QModelIndex& index : m_list->selectionModel()->selectedRows())
        ids.append(index.data(AlertModel::IdRole).toULongLong());
    for (const quint64 id : std::as_const(ids))
        m_model->acknowledge(m_model->rowOf(id));
}

void AlertsView::updateButtons()
{
    const bool any = m_model->rowCount() > 0;
    m_list->setVisible(any);
    m_empty->setVisible(!any);
    bool waiting = false;
    for (const QModelIndex& index : m_list->selectionModel()->selectedRows())
        waiting |= !index.data(AlertModel::AcknowledgedRole).toBool();
    m_acknowledge->setEnabled(waiting);
    m_acknowledgeAll->setEnabled(m_model->unacknowledged() > 0);
}
