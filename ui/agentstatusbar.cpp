// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/agentstatusbar.h"

#include "models/agenttreemodel.h"
#include "ui/agenttreeview.h"

#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>

namespace {

/// A label whose text gives way (elided) when the strip is narrow.
class ElidedLabel final : public QLabel
{
public:
    using QLabel::QLabel;

    void setFullText(const QString& text)
    {
        m_full = text;
        updateGeometry();
        elide();
    }
    QString fullText() const { return m_full; }
    QSize minimumSizeHint() const override { return QSize(0, QLabel::minimumSizeHint().height()); }
    QSize sizeHint() const override
    {
        return QSize(fontMetrics().horizontalAdvance(m_full) + 4, QLabel::sizeHint().height());
    }

protected:
    void resizeEvent(QResizeEvent* event) override
    {
        QLabel::resizeEvent(event);
        elide();
    }

private:
    void elide() { setText(fontMetrics().elidedText(m_full, Qt::ElideRight, width())); }

    QString m_full;
};

ElidedLabel* elided(QLabel* label)
{
    return static_cast<ElidedLabel*>(label);
}

} // namespace

AgentStatusBar::AgentStatusBar(AgentTreeModel* agents, const QString& hostKey, const QString& agentId, QWidget* parent)
    : QWidget(parent)
    , m_agents(agents)
    , m_hostKey(hostKey)
    , m_agentId(agentId)
{
    setObjectName(QStringLiteral("agentStatus"));
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(8, 3, 8, 3);
    layout->setSpacing(6);
    m_dot = new QLabel(this);
    m_state = new QLabel(this);
    m_state->setObjectName(QStringLiteral("agentState"));
    QFont bold = m_state->font();
    bold.setBold(true);
    m_state->setFont(bold);
    m_text = new ElidedLabel(this);
    m_text->setObjectName(QStringLiteral("agentStatusText"));
    m_task = new ElidedLabel(this);
    m_task->setObjectName(QStringLiteral("agentTask"));
    m_task->setForegroundRole(QPalette::PlaceholderText);
    m_task->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    m_progress = new QProgressBar(this);
    m_progress->setObjectName(QStringLiteral("agentProgress"));
    m_progress->setRange(0, 100);
    m_progress->setTextVisible(true);
    m_progress->setFormat(QStringLiteral("%p %"));
    m_progress->setFixedWidth(fontMetrics().averageCharWidth() * 16);
    m_progress->setMaximumHeight(fontMetrics().height());
    layout->addWidget(m_dot);
    layout->addWidget(m_state);
    layout->addWidget(m_text, 3);
    layout->addWidget(m_task, 2);
    layout->addWidget(m_progress);

    connect(agents, &QAbstractItemModel::dataChanged, this, &AgentStatusBar::onDataChanged);
    for (const auto signal : {&QAbstractItemModel::rowsInserted, &QAbstractItemModel::rowsRemoved}) {
        connect(agents, signal, this, [this] {
            findRow();
            refresh();
        });
    }
    connect(agents, &QAbstractItemModel::modelReset, this, [this] {
        findRow();
        refresh();
    });
    findRow();
    refresh();
}

QString AgentStatusBar::stateText() const
{
    return m_state->text();
}

QString AgentStatusBar::taskText() const
{
    return elided(m_task)->fullText();
}

int AgentStatusBar::progressPercent() const
{
    return m_progress->isHidden() ? -1 : m_progress->value();
}

void AgentStatusBar::changeEvent(QEvent* event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange)
        refresh();
}

void AgentStatusBar::findRow()
{
    if (!m_row.isValid())
        m_row = m_agents->indexOf(m_hostKey, m_agentId);
}

void AgentStatusBar::onDataChanged(const QModelIndex& topLeft, const QModelIndex& bottomRight)
{
    if (!m_row.isValid()) {
        findRow();
        refresh();
        return;
    }
    if (topLeft.parent() == m_row.parent() && topLeft.row() <= m_row.row() && m_row.row() <= bottomRight.row())
        refresh();
}

void AgentStatusBar::refresh()
{
    const QModelIndex row = m_row;
    const QString state = row.isValid() ? row.data(AgentTreeModel::StateRole).toString() : QStringLiteral("offline");
    const int size = fontMetrics().height() * 2 / 3;
    m_dot->setPixmap(AgentTreeView::stateIcon(state, palette(), QSize(size, size)).pixmap(size, size));
    m_state->setText(state);
    QPalette statePalette = m_state->palette();
    statePalette.setColor(QPalette::WindowText, AgentTreeView::stateColor(state, palette()));
    m_state->setPalette(statePalette);
    elided(m_text)->setFullText(row.isValid() ? row.data(AgentTreeModel::StatusTextRole).toString() : QString());

    const QVariantList tasks = row.isValid() ? row.data(AgentTreeModel::TasksRole).toList() : QVariantList();
    const QString current = row.isValid() ? row.data(AgentTreeModel::CurrentTaskRole).toString() : QString();
    QString task;
    if (!tasks.isEmpty()) {
        int number = 0;
        int done = 0;
        for (int i = 0; i < tasks.size(); ++i) {
            const QVariantMap t = tasks.at(i).toMap();
            done += t.value(QStringLiteral("state")).toString() == QLatin1String("done") ? 1 : 0;
            const QString title = t.value(QStringLiteral("title")).toString();
            if (number == 0 && !current.isEmpty()
                && (title == current || t.value(QStringLiteral("id")).toString() == current))
                number = i + 1;
        }
        task = number > 0 ? tr("task %1 of %2 \u00B7 %3").arg(number).arg(tasks.size()).arg(current)
                          : tr("%1 of %2 tasks done").arg(done).arg(tasks.size());
    }
    elided(m_task)->setFullText(task);
    const QString tip = row.isValid()
        ? row.siblingAtColumn(AgentTreeModel::ProgressColumn).data(Qt::ToolTipRole).toString()
        : QString();
    setToolTip(tip);

    const QVariant progress = row.isValid() ? row.data(AgentTreeModel::ProgressRole) : QVariant();
    m_progress->setVisible(progress.isValid());
    if (progress.isValid())
        m_progress->setValue(qRound(std::clamp(progress.toDouble(), 0.0, 1.0) * 100.0));
}
