// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/commandbar.h"

#include "models/agenttreemodel.h"
#include "models/commandline.h"
#include "ui/colors.h"

#include <QAbstractItemView>
#include <QApplication>
#include <QCompleter>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QPushButton>
#include <QStringListModel>
#include <QToolButton>

CommandBar::CommandBar(AgentTreeModel* agents, QWidget* parent)
    : QWidget(parent)
    , m_agents(agents)
{
    setObjectName(QStringLiteral("commandBar"));
    auto* row = new QHBoxLayout(this);
    row->setContentsMargins(6, 4, 6, 4);
    row->setSpacing(6);

    m_target = new QToolButton(this);
    m_target->setObjectName(QStringLiteral("targetPicker"));
    m_target->setToolButtonStyle(Qt::ToolButtonTextOnly);
    m_target->setPopupMode(QToolButton::InstantPopup);
    m_target->setToolTip(tr("Which agents the line goes to"));
    connect(m_target, &QToolButton::pressed, this, &CommandBar::showTargetMenu);
    row->addWidget(m_target);

    m_edit = new QLineEdit(this);
    m_edit->setObjectName(QStringLiteral("commandEdit"));
    setReadOnlyReason({});
    m_edit->installEventFilter(this);
    connect(m_edit, &QLineEdit::returnPressed, this, &CommandBar::submit);
    row->addWidget(m_edit, 3);

    m_completions = new QStringListModel(this);
    m_completer = new QCompleter(m_completions, this);
    m_completer->setCaseSensitivity(Qt::CaseInsensitive);
    m_completer->setCompletionMode(QCompleter::PopupCompletion);
    m_edit->setCompleter(m_completer);

    m_send = new QPushButton(tr("Send"), this);
    QPushButton* send = m_send;
    send->setObjectName(QStringLiteral("sendButton"));
    connect(send, &QPushButton::clicked, this, &CommandBar::submit);
    row->addWidget(send);

    m_feedback = new QLabel(this);
    m_feedback->setObjectName(QStringLiteral("commandFeedback"));
    m_feedback->setTextFormat(Qt::PlainText);
    // Takes what room there is and never widens the window.
    m_feedback->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    row->addWidget(m_feedback, 2);

    connect(agents, &QAbstractItemModel::dataChanged, this, &CommandBar::updateCompletions);
    connect(agents, &QAbstractItemModel::rowsInserted, this, &CommandBar::updateCompletions);
    setTargetsAll();
}

QList<AgentRef> CommandBar::targets() const
{
    if (!m_all)
        return m_targets;
    QList<AgentRef> all;
    for (int hostRow = 0; hostRow < m_agents->rowCount(); ++hostRow) {
        const QString host = m_agents->index(hostRow, 0).data(AgentTreeModel::HostKeyRole).toString();
        for (const QString& agent : m_agents->agentIds(host))
            all.append({host, agent});
    }
    return all;
}

void CommandBar::setTargets(const QList<AgentRef>& agents)
{
    if (agents.isEmpty()) {
        setTargetsAll();
        return;
    }
    m_all = false;
    m_targets = agents;
    updateTargetLabel();
    updateCompletions();
}

void CommandBar::setTargetsAll()
{
    m_all = true;
    m_targets.clear();
    updateTargetLabel();
    updateCompletions();
}

void CommandBar::updateTargetLabel()
{
    QString label;
    if (m_all) {
        label = tr("All agents");
    } else if (m_targets.size() == 1) {
        label = m_targets.first().second;
        if (m_targets.first().first != QLatin1String("local")) {
            const QModelIndex host = m_agents->indexOf(m_targets.first().first);
            label += QLatin1Char('@') + host.data(Qt::DisplayRole).toString();
        }
    } else {
        label = tr("%n agents", nullptr, int(m_targets.size()));
    }
    m_target->setText(label + QStringLiteral(" ▾"));
}

void CommandBar::showTargetMenu()
{
    QMenu menu(this);
    QAction* all = menu.addAction(tr("All Agents"));
    all->setCheckable(true);
    all->setChecked(m_all);
    connect(all, &QAction::triggered, this, &CommandBar::setTargetsAll);
    menu.addSeparator();
    for (int hostRow = 0; hostRow < m_agents->rowCount(); ++hostRow) {
        const QModelIndex hostIndex = m_agents->index(hostRow, 0);
        const QString host = hostIndex.data(AgentTreeModel::HostKeyRole).toString();
        menu.addSection(hostIndex.data(Qt::DisplayRole).toString());
        for (const QString& agent : m_agents->agentIds(host)) {
            QAction* action = menu.addAction(agent);
            action->setCheckable(true);
            action->setChecked(!m_all && m_targets.contains(AgentRef(host, agent)));
            connect(action, &QAction::triggered, this, [this, host, agent](bool checked) {
                QList<AgentRef> chosen = m_all ? QList<AgentRef>() : m_targets;
                // A plain click picks one agent; Ctrl adds or removes it.
                if (!(QApplication::keyboardModifiers() & Qt::ControlModifier))
                    chosen.clear();
                chosen.removeAll(AgentRef(host, agent));
                if (checked || chosen.isEmpty())
                    chosen.append({host, agent});
                setTargets(chosen);
            });
        }
    }
    menu.addSeparator();
    menu.addAction(tr("Ctrl+click to pick several"))->setEnabled(false);
    menu.exec(m_target->mapToGlobal(QPoint(0, m_target->height())));
    m_target->setDown(false);
}

void CommandBar::updateCompletions()
{
    bool anyLaunched = false;
    QStringList advertised;
    for (const auto& [host, agent] : targets()) {
        const Link::AgentInfo* info = m_agents->agent(host, agent);
        if (!info)
            continue;
        anyLaunched |= info->origin == QLatin1String("launched");
        for (const Link::AgentCommand& command : info->commands)
            advertised << command.name;
    }
    const QStringList words = CommandLine::completions(anyLaunched, advertised);
    if (words != m_completions->stringList())
        m_completions->setStringList(words);
}

void CommandBar::setHistory(const QStringList& history)
{
    m_history = history.mid(std::max<qsizetype>(0, history.size() - MaxHistory));
    m_historyPos = -1;
}

void CommandBar::setReadOnlyReason(const QString& reason)
{
    static const QString usual =
        tr("Command or input: restart, signal SIGUSR1, status, or text for the program (Ctrl+L)");
    m_edit->setReadOnly(!reason.isEmpty());
    m_edit->setPlaceholderText(reason.isEmpty() ? usual : reason);
    m_edit->setToolTip(reason);
    if (m_send)
        m_send->setEnabled(reason.isEmpty());
    if (!reason.isEmpty())
        m_edit->clear();
}

void CommandBar::submit()
{
    if (m_edit->isReadOnly())
        return;
    const QString line = m_edit->text();
    if (line.trimmed().isEmpty())
        return;
    if (m_history.isEmpty() || m_history.last() != line)
        m_history.append(line);
    if (m_history.size() > MaxHistory)
        m_history.removeFirst();
    m_historyPos = -1;
    m_draft.clear();
    m_edit->clear();
    Q_EMIT submitted(targets(), line);
}

void CommandBar::stepHistory(int direction)
{
    if (m_history.isEmpty())
        return;
    if (m_historyPos < 0) {
        if (direction > 0)
            return;
        m_draft = m_edit->text();
        m_historyPos = int(m_history.size());
    }
    m_historyPos += direction;
    if (m_historyPos < 0)
        m_historyPos = 0;
    if (m_historyPos >= m_history.size()) {
        m_historyPos = -1;
        m_edit->setText(m_draft);
        return;
    }
    m_edit->setText(m_history.at(m_historyPos));
}

void CommandBar::showFeedback(const QString& text, bool error)
{
    QPalette palette = this->palette();
    if (error)
        palette.setColor(QPalette::WindowText, Colors::error(Colors::isDark(palette)));
    m_feedback->setPalette(palette);
    m_feedbackText = text;
    m_feedback->setToolTip(text);
    elideFeedback();
}

bool CommandBar::eventFilter(QObject* watched, QEvent* event)
{
    if (watched == m_edit && event->type() == QEvent::KeyPress && !m_completer->popup()->isVisible()) {
        const int key = static_cast<QKeyEvent*>(event)->key();
        if (key == Qt::Key_Up || key == Qt::Key_Down) {
            stepHistory(key == Qt::Key_Up ? -1 : 1);
            return true;
        }
    }
    return QWidget::eventFilter(watched, event);
}

void CommandBar::elideFeedback()
{
    m_feedback->setText(m_feedback->fontMetrics().elidedText(m_feedbackText, Qt::ElideRight, m_feedback->width()));
}

void CommandBar::resizeEvent(QResizeEvent* event)
{
    QWidget::resizeEvent(event);
    elideFeedback();
}
