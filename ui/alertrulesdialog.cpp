// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/alertrulesdialog.h"

#include "models/linematcher.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace {

constexpr AlertRule::Kind Kinds[] = {AlertRule::Kind::Line, AlertRule::Kind::Crash, AlertRule::Kind::HostOffline,
                                     AlertRule::Kind::Metric, AlertRule::Kind::Silence};
constexpr LogLevel Levels[] = {LogLevel::Unknown, LogLevel::Debug, LogLevel::Info,
                               LogLevel::Warning, LogLevel::Error, LogLevel::Critical};

/// The pattern with the character at offset marked, as rich text.
QString markedPattern(const QString& pattern, int offset, const QColor& mark)
{
    const int at = std::clamp(offset, 0, int(pattern.size()));
    const QString marked = at < pattern.size() ? pattern.mid(at, 1).toHtmlEscaped() : QStringLiteral("&nbsp;");
    return QStringLiteral("<code>%1<span style=\"background-color:%2;color:white\">%3</span>%4</code>")
        .arg(pattern.left(at).toHtmlEscaped(), mark.name(), marked, pattern.mid(at + 1).toHtmlEscaped());
}

} // namespace

AlertRulesDialog::AlertRulesDialog(const QList<AlertRule>& rules, QWidget* parent)
    : QDialog(parent)
    , m_rules(rules)
{
    setWindowTitle(tr("Alert Rules"));
    setObjectName(QStringLiteral("alertRulesDialog"));
    auto* layout = new QVBoxLayout(this);
    auto* columns = new QHBoxLayout;
    layout->addLayout(columns, 1);

    auto* left = new QVBoxLayout;
    m_list = new QListWidget(this);
    m_list->setObjectName(QStringLiteral("alertRuleList"));
    m_list->setMinimumWidth(fontMetrics().averageCharWidth() * 26);
    left->addWidget(m_list, 1);
    auto* listButtons = new QHBoxLayout;
    auto* add = new QPushButton(tr("Add"), this);
    add->setObjectName(QStringLiteral("addAlertRule"));
    m_remove = new QPushButton(tr("Remove"), this);
    m_remove->setObjectName(QStringLiteral("removeAlertRule"));
    listButtons->addWidget(add);
    listButtons->addWidget(m_remove);
    listButtons->addStretch(1);
    left->addLayout(listButtons);
    columns->addLayout(left);

    m_editor = new QWidget(this);
    m_form = new QFormLayout(m_editor);
    m_form->setContentsMargins(8, 0, 0, 0);
    m_name = new QLineEdit(m_editor);
    m_name->setObjectName(QStringLiteral("ruleName"));
    m_form->addRow(tr("Name:"), m_name);
    m_kind = new QComboBox(m_editor);
    m_kind->setObjectName(QStringLiteral("ruleKind"));
    for (const AlertRule::Kind kind : Kinds)
        m_kind->addItem(AlertRule::kindName(kind));
    m_form->addRow(tr("When:"), m_kind);
    m_pattern = new QLineEdit(m_editor);
    m_pattern->setObjectName(QStringLiteral("rulePattern"));
    m_pattern->setPlaceholderText(tr("any line"));
    m_pattern->setClearButtonEnabled(true);
    m_form->addRow(tr("Regular expression:"), m_pattern);
    m_patternNote = new QLabel(m_editor);
    m_patternNote->setObjectName(QStringLiteral("rulePatternNote"));
    m_patternNote->setWordWrap(true);
    m_patternNote->setTextFormat(Qt::RichText);
    m_form->addRow(QString(), m_patternNote);
    m_level = new QComboBox(m_editor);
    m_level->setObjectName(QStringLiteral("ruleLevel"));
    for (const LogLevel level : Levels) {
        m_level->addItem(level == LogLevel::Unknown ? tr("any level")
                                                    : tr("%1 and above").arg(QLatin1String(logLevelName(level))));
    }
    m_form->addRow(tr("Level:"), m_level);
    m_metric = new QComboBox(m_editor);
    m_metric->setObjectName(QStringLiteral("ruleMetric"));
    m_metric->addItem(tr("CPU (% of a core)"), QStringLiteral("cpu"));
    m_metric->addItem(tr("Memory (MiB)"), QStringLiteral("rss_bytes"));
    m_form->addRow(tr("Measure:"), m_metric);
    m_threshold = new QDoubleSpinBox(m_editor);
    m_threshold->setObjectName(QStringLiteral("ruleThreshold"));
    m_threshold->setRange(0, 1e7);
    m_threshold->setDecimals(0);
    m_form->addRow(tr("Over:"), m_threshold);
    m_seconds = new QSpinBox(m_editor);
    m_seconds->setObjectName(QStringLiteral("ruleSeconds"));
    m_seconds->setRange(1, 86400);
    m_seconds->setSuffix(tr(" s"));
    m_form->addRow(tr("For:"), m_seconds);
    m_agents = new QLineEdit(m_editor);
    m_agents->setObjectName(QStringLiteral("ruleAgents"));
    m_agents->setPlaceholderText(tr("all agents"));
    m_agents->setToolTip(tr("Agent ids, separated by commas; empty for all agents"));
    m_form->addRow(tr("Agents:"), m_agents);
    m_error = new QLabel(m_editor);
    m_error->setObjectName(QStringLiteral("ruleError"));
    m_error->setWordWrap(true);
    QPalette errorPalette = m_error->palette();
    errorPalette.setColor(QPalette::WindowText, QColor(0xd0, 0x3a, 0x3a));
    m_error->setPalette(errorPalette);
    m_form->addRow(QString(), m_error);
    m_editor->setMinimumWidth(fontMetrics().averageCharWidth() * 52);
    columns->addWidget(m_editor, 1);

    auto* box = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    m_ok = box->button(QDialogButtonBox::Ok);
    layout->addWidget(box);
    connect(box, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(box, &QDialogButtonBox::rejected, this, &QDialog::reject);

    for (int i = 0; i < m_rules.size(); ++i) {
        auto* item = new QListWidgetItem(m_list);
        item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
        updateItem(i);
    }
    connect(m_list, &QListWidget::currentRowChanged, this, &AlertRulesDialog::showRule);
    connect(m_list, &QListWidget::itemChanged, this, [this](QListWidgetItem* item) {
        const int index = m_list->row(item);
        if (m_loading || index < 0 || index >= m_rules.size())
            return;
        m_rules[index].enabled = item->checkState() == Qt::Checked;
    });
    connect(add, &QPushButton::clicked, this, &AlertRulesDialog::addRule);
    connect(m_remove, &QPushButton::clicked, this, &AlertRulesDialog::removeRule);
    connect(m_name, &QLineEdit::textChanged, this, &AlertRulesDialog::takeFields);
    connect(m_pattern, &QLineEdit::textChanged, this, &AlertRulesDialog::takeFields);
    connect(m_agents, &QLineEdit::textChanged, this, &AlertRulesDialog::takeFields);
    connect(m_kind, &QComboBox::currentIndexChanged, this, &AlertRulesDialog::takeFields);
    connect(m_level, &QComboBox::currentIndexChanged, this, &AlertRulesDialog::takeFields);
    connect(m_metric, &QComboBox::currentIndexChanged, this, &AlertRulesDialog::takeFields);
    connect(m_seconds, &QSpinBox::valueChanged, this, &AlertRulesDialog::takeFields);
    connect(m_threshold, &QDoubleSpinBox::valueChanged, this, &AlertRulesDialog::takeFields);
    m_list->setCurrentRow(m_rules.isEmpty() ? -1 : 0);
    showRule(m_list->currentRow());
    resize(sizeHint().expandedTo(QSize(fontMetrics().averageCharWidth() * 96, fontMetrics().height() * 22)));
}

void AlertRulesDialog::updateItem(int index)
{
    const AlertRule& rule = m_rules.at(index);
    QListWidgetItem* item = m_list->item(index);
    const bool loading = std::exchange(m_loading, true);
    item->setText(rule.name.isEmpty() ? tr("(no name)") : rule.name);
    item->setToolTip(rule.summary());
    item->setCheckState(rule.enabled ? Qt::Checked : Qt::Unchecked);
    item->setForeground(rule.validate() ? QBrush() : QBrush(QColor(0xd0, 0x3a, 0x3a)));
    m_loading = loading;
}

void AlertRulesDialog::showRule(int index)
{
    m_editor->setEnabled(index >= 0);
    m_remove->setEnabled(index >= 0);
    if (index < 0 || index >= m_rules.size()) {
        validateAll();
        return;
    }
    const AlertRule& rule = m_rules.at(index);
    m_loading = true;
    m_name->setText(rule.name);
    m_kind->setCurrentIndex(int(std::find(std::begin(Kinds), std::end(Kinds), rule.kind) - std::begin(Kinds)));
    m_pattern->setText(rule.pattern);
    m_level->setCurrentIndex(
        std::max(0, int(std::find(std::begin(Levels), std::end(Levels), rule.minLevel) - std::begin(Levels))));
    m_agents->setText(rule.agents.join(QStringLiteral(", ")));
    m_seconds->setValue(rule.seconds);
    m_metric->setCurrentIndex(std::max(0, m_metric->findData(rule.metric)));
    m_threshold->setValue(rule.threshold);
    m_loading = false;
    validateAll();
    updateVisibility();
}

void AlertRulesDialog::takeFields()
{
    const int index = m_list->currentRow();
    if (m_loading || index < 0 || index >= m_rules.size())
        return;
    AlertRule& rule = m_rules[index];
    rule.name = m_name->text();
    rule.kind = Kinds[std::clamp(m_kind->currentIndex(), 0, int(std::size(Kinds)) - 1)];
    rule.pattern = m_pattern->text();
    rule.minLevel = Levels[std::clamp(m_level->currentIndex(), 0, int(std::size(Levels)) - 1)];
    rule.agents.clear();
    for (const QString& id : m_agents->text().split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        if (!id.trimmed().isEmpty())
            rule.agents.append(id.trimmed());
    }
    rule.seconds = m_seconds->value();
    rule.metric = m_metric->currentData().toString();
    rule.threshold = m_threshold->value();
    updateItem(index);
    validateAll();
    updateVisibility();
}

void AlertRulesDialog::updateVisibility()
{
    const AlertRule::Kind kind = Kinds[std::clamp(m_kind->currentIndex(), 0, int(std::size(Kinds)) - 1)];
    const bool line = kind == AlertRule::Kind::Line;
    const bool timed =
        kind == AlertRule::Kind::HostOffline || kind == AlertRule::Kind::Metric || kind == AlertRule::Kind::Silence;
    m_form->setRowVisible(m_pattern, line);
    m_form->setRowVisible(m_patternNote, line && !m_patternNote->text().isEmpty());
    m_form->setRowVisible(m_level, line);
    m_form->setRowVisible(m_metric, kind == AlertRule::Kind::Metric);
    m_form->setRowVisible(m_threshold, kind == AlertRule::Kind::Metric);
    m_form->setRowVisible(m_seconds, timed);
    m_form->setRowVisible(m_agents, kind != AlertRule::Kind::HostOffline);
    m_threshold->setSuffix(m_metric->currentData().toString() == QLatin1String("rss_bytes") ? tr(" MiB") : tr(" %"));
}

void AlertRulesDialog::validateAll()
{
    bool allValid = true;
    for (const AlertRule& rule : std::as_const(m_rules))
        allValid &= rule.validate();
    m_ok->setEnabled(allValid);

    const int index = m_list->currentRow();
    m_patternNote->clear();
    m_error->clear();
    if (index < 0 || index >= m_rules.size())
        return;
    const AlertRule& rule = m_rules.at(index);
    QString error;
    int offset = -1;
    if (!rule.validate(&error, &offset)) {
        m_error->setText(error);
        if (offset >= 0)
            m_patternNote->setText(markedPattern(rule.pattern, offset, QColor(0xd0, 0x3a, 0x3a)));
        return;
    }
    QString reason;
    if (rule.kind == AlertRule::Kind::Line && !LineMatcher::fastPathAccepts(rule.pattern, &reason)) {
        m_patternNote->setText(tr("Hyperscan cannot take this expression (%1): it is matched on its own, "
                                  "which costs more for every line.")
                                   .arg(reason.toHtmlEscaped()));
    }
}

void AlertRulesDialog::addRule()
{
    AlertRule rule;
    rule.id = AlertRule::newId();
    rule.name = tr("New rule");
    rule.kind = AlertRule::Kind::Line;
    rule.minLevel = LogLevel::Warning;
    m_rules.append(rule);
    // Not the user's check: the item is new.
    m_loading = true;
    auto* item = new QListWidgetItem(m_list);
    item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
    m_loading = false;
    updateItem(int(m_rules.size()) - 1);
    m_list->setCurrentRow(int(m_rules.size()) - 1);
    m_name->setFocus();
    m_name->selectAll();
}

void AlertRulesDialog::removeRule()
{
    const int index = m_list->currentRow();
    if (index < 0 || index >= m_rules.size())
        return;
    m_rules.removeAt(index);
    delete m_list->takeItem(index);
    showRule(m_list->currentRow());
}
