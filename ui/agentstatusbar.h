// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QPersistentModelIndex>
#include <QWidget>

class AgentTreeModel;
class QLabel;
class QProgressBar;

/*
 * The strip above an agent's console that says what the agent is doing: its
 * state, its status text, the task it works on ("2 of 5 · summarise", every task
 * in the tooltip) and its progress. It follows the agent's row of the agent
 * model, so a change shows as soon as the host reports it.
 */
class AgentStatusBar final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AgentStatusBar)

public:
    AgentStatusBar(AgentTreeModel* agents, const QString& hostKey, const QString& agentId, QWidget* parent = nullptr);

    QString stateText() const;
    QString taskText() const;
    /// -1 when the agent reports no progress.
    int progressPercent() const;

protected:
    void changeEvent(QEvent* event) override;

private:
    void findRow();
    void onDataChanged(const QModelIndex& topLeft, const QModelIndex& bottomRight);
    void refresh();

    AgentTreeModel* m_agents;
    QString m_hostKey;
    QString m_agentId;
    QPersistentModelIndex m_row;
    QLabel* m_dot;
    QLabel* m_state;
    QLabel* m_text;
    QLabel* m_task;
    QProgressBar* m_progress;
};
