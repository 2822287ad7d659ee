// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QWidget>

class AgentTreeModel;
class QCompleter;
class QLabel;
class QLineEdit;
class QPushButton;
class QStringListModel;
class QToolButton;

/// An agent of a host: (host key, agent id).
using AgentRef = std::pair<QString, QString>;

/*
 * The line at the bottom of the window for talking to agents: who it goes to
 * (one agent, several, or all), what to send, with the lines sent before a key
 * press away (Up and Down) and the commands the targets take offered as one
 * types.
 */
class CommandBar final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CommandBar)

public:
    explicit CommandBar(AgentTreeModel* agents, QWidget* parent = nullptr);

    /// The agents a line goes to; "all" means every agent known when it is sent.
    QList<AgentRef> targets() const;
    void setTargets(const QList<AgentRef>& agents);
    void setTargetsAll();

    QStringList history() const { return m_history; }
    void setHistory(const QStringList& history);
    /// Lines kept in the history.
    static constexpr int MaxHistory = 500;

    QLineEdit* lineEdit() const { return m_edit; }
    /// Shows the outcome of the last line sent next to the line.
    void showFeedback(const QString& text, bool error);
    /// Takes no lines while reason is not empty, and says why in place of the line.
    void setReadOnlyReason(const QString& reason);

Q_SIGNALS:
    /// The user pressed Enter on a line (already added to the history).
    void submitted(const QList<AgentRef>& targets, const QString& line);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

private:
    void submit();
    void showTargetMenu();
    void updateTargetLabel();
    void updateCompletions();
    void stepHistory(int direction);
    void elideFeedback();

    AgentTreeModel* m_agents;
    QToolButton* m_target = nullptr;
    QLineEdit* m_edit = nullptr;
    QPushButton* m_send = nullptr;
    QLabel* m_feedback = nullptr;
    QString m_feedbackText;
    QCompleter* m_completer = nullptr;
    QStringListModel* m_completions = nullptr;
    QList<AgentRef> m_targets;
    bool m_all = false;
    QStringList m_history;
    int m_historyPos = -1; // -1: editing a new line
    QString m_draft; // the new line while browsing the history
};
