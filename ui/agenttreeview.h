// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QTimer>
#include <QTreeView>
#include <functional>

class AgentTreeModel;
class MetricsHistory;
class QPainter;

/*
 * The hosts and their agents, left of the consoles: a coloured dot for each
 * agent's state, live cpu, memory and lines per second, offline hosts greyed
 * with the time until the next connection attempt. Double-click opens an
 * agent's console; the context menu starts, stops, restarts or kills it.
 */
class AgentTreeView final : public QTreeView
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AgentTreeView)

public:
    explicit AgentTreeView(QWidget* parent = nullptr);

    void setAgentModel(AgentTreeModel* model);
    /// How many alerts wait for an agent (agent id empty: for a host itself), shown in a badge.
    using AlertCount = std::function<int(const QString& hostKey, const QString& agentId)>;
    void setAlertCount(AlertCount count);
    /// The count the badge of a row shows; 0 without one.
    int alertBadge(const QModelIndex& index) const;
    static QColor alertBadgeColor();
    /// A row's name as the list paints it now: elided when its column is too narrow.
    QString shownName(const QModelIndex& index) const;
    /// Draws the last minutes of CPU and lines per second behind their numbers.
    void setMetricsHistory(MetricsHistory* history);
    QSize sizeHint() const override;

    /// The agents selected (host key, agent id); a selected host stands for all its agents.
    QList<std::pair<QString, QString>> selectedAgents() const;

    /// What a host row says besides its name: "connecting…", "offline, retry in 4 s", or nothing when online.
    static QString hostStateText(const QModelIndex& host);
    /// The dot that stands for a state, in the list and on console tabs.
    static QIcon stateIcon(const QString& state, const QPalette& palette, QSize size);
    /// The mark after the name of an agent read from elsewhere (origin "bridged": BettaFish, a log file).
    static void paintOriginMark(QPainter* painter, const QRectF& rect, const QColor& color);
    /// The colour a state is shown in ("running", "busy", "crashed", "offline"...).
    static QColor stateColor(const QString& state, const QPalette& palette);

Q_SIGNALS:
    void openConsoleRequested(const QString& hostKey, const QString& agentId);
    /// A command for these agents from the context menu (start, stop, restart, kill).
    void commandRequested(const QList<std::pair<QString, QString>>& agents, const QString& name);
    void editAgentRequested(const QString& hostKey, const QString& agentId);
    void removeAgentRequested(const QString& hostKey, const QString& agentId);
    void addAgentRequested(const QString& hostKey);
    void removeHostRequested(const QString& hostKey);
    void editHostRequested(const QString& hostKey);
    void reconnectHostRequested(const QString& hostKey);

protected:
    void contextMenuEvent(QContextMenuEvent* event) override;

private:
    void showHeaderMenu(const QPoint& pos);

    AgentTreeModel* m_model = nullptr;
    int m_numbersWidth = 0; // the columns shown besides the names
    QTimer m_tick; // uptimes and retry countdowns
};
