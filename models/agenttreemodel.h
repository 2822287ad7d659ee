// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/link/linkevent.h"

#include <QAbstractItemModel>
#include <QHash>
#include <memory>
#include <vector>

/*
 * The hosts a console watches (top level) and their agents (children), kept up to
 * date from the hosts' events.
 *
 * Every semantic role is answered on every column of a row. A change to a value
 * shown in a column is announced for the smallest column range that holds it; a
 * change to a value that has no column of its own (status text, progress,
 * commands, definition, ...) is announced for the whole row.
 *
 * While a host is not online its agents stay listed with the state "offline".
 */
class AgentTreeModel final : public QAbstractItemModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AgentTreeModel)

public:
    enum Column {
        NameColumn,
        StateColumn,
        ProgressColumn, // the agent's progress as it reports it, "45 %"
        OriginColumn,
        PidColumn,
        UptimeColumn,
        RestartsColumn,
        CpuColumn,
        MemoryColumn,
        LinesPerSecondColumn,
        ErrorsColumn,
        ColumnCount
    };
    Q_ENUM(Column)

    enum Role {
        HostKeyRole = Qt::UserRole,
        AgentIdRole,
        IsHostRole,
        StateRole, // agents: the status state or "offline"; hosts: "connecting", "online" or "offline"
        StateReasonRole, // hosts: why the host is offline
        NextAttemptRole, // hosts: ms since the epoch of the next connection attempt, 0 for none
        OriginRole,
        PidRole,
        StartedAtRole,
        RestartsRole,
        CpuRole, // double, percent (of one core for agents, of the machine for hosts)
        RssRole, // qint64 bytes (hosts: memory in use)
        LinesPerSecondRole,
        UnreadErrorsRole, // hosts: the sum over their agents
        StatusTextRole,
        ProgressRole, // double 0..1, invalid when not given
        CommandsRole, // QStringList of the command names the agent advertises
        ProcessStateRole,
        ExitCodeRole, // invalid when none
        NextStartRole,
        DefinitionRole, // QByteArray, the launch definition as JSON
        HostNameRole, // hosts: the name the host gives itself
        HostVersionRole,
        HostIdRole,
        MemoryTotalRole, // hosts: qint64 bytes
        Load1Role, // hosts
        TasksRole, // QVariantList of QVariantMap {id, title, state}: the agent's plan as it reports it
        CurrentTaskRole, // QString: the title of the first running task (else the first pending one)
    };
    Q_ENUM(Role)

    enum class HostState { Connecting, Online, Offline };
    Q_ENUM(HostState)

    explicit AgentTreeModel(QObject* parent = nullptr);
    ~AgentTreeModel() override;

    /// Adds a host row (in state Connecting); does nothing when hostKey is known.
    void addHost(const QString& hostKey, const QString& displayName);
    void removeHost(const QString& hostKey);
    /// nextAttemptAt: ms since the epoch of the next connection attempt, 0 for none.
    void setHostState(const QString& hostKey, HostState state, const QString& reason = {}, qint64 nextAttemptAt = 0);
    HostState hostState(const QString& hostKey) const;

    /// Takes in one event of the host hostKey; events that do not concern this model are ignored.
    void applyEvent(const QString& hostKey, const Link::Event& event);

    /// Forgets the unread error lines of an agent.
    void markRead(const QString& hostKey, const QString& agentId);
    /// Announces a change of the uptime column of every agent; call it once a second.
    void refreshUptime();

    /// The index (column 0) of an agent, or of the host itself when agentId is empty.
    QModelIndex indexOf(const QString& hostKey, const QString& agentId = {}) const;
    QStringList agentIds(const QString& hostKey) const;
    /// The agent as last described by its host; valid until the model changes. nullptr when unknown.
    const Link::AgentInfo* agent(const QString& hostKey, const QString& agentId) const;
    /// The latest value of any numeric metric of an agent (or of the host when agentId is empty); NaN when unknown.
    double metric(const QString& hostKey, const QString& agentId, const QString& key) const;

    /// "45 s", "3 m 12 s", "2 h 05 m", "4 d 03 h".
    static QString formatUptime(qint64 msecs);
    /// "512 B", "3.0 KiB", "72.1 MiB", "1.5 GiB".
    static QString formatBytes(qint64 bytes);
    /// An agent's status for a tooltip: its text, progress and each task with its state.
    static QString statusToolTip(const Link::AgentStatus& status);

    QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
    QModelIndex parent(const QModelIndex& child) const override;
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

private:
    struct AgentRow;
    struct HostRow;

    HostRow* findHost(const QString& hostKey) const;
    int hostRowOf(const HostRow* host) const;
    QModelIndex hostIndex(const HostRow* host, int column = 0) const;
    AgentRow* findAgent(HostRow* host, const QString& agentId) const;
    void reindex(HostRow* host);

    void applySnapshot(HostRow* host, const Link::Event& event);
    void addOrUpdateAgent(HostRow* host, const Link::AgentInfo& info);
    void removeAgent(HostRow* host, const QString& agentId);
    void applyStatus(HostRow* host, const Link::Event& event);
    void applyMetrics(HostRow* host, const Link::Event& event);
    void applyHostMetrics(HostRow* host, const Link::Event& event);
    void applyLog(HostRow* host, const Link::Event& event);

    /// Replaces an agent's description and announces what changed.
    void updateAgent(HostRow* host, int row, const Link::AgentInfo& info);
    void emitRowChanged(const HostRow* host, int row, int firstColumn, int lastColumn);
    void emitHostChanged(const HostRow* host, int firstColumn, int lastColumn);

    QVariant hostData(const HostRow& host, int column, int role) const;
    QVariant agentData(const HostRow& host, const AgentRow& agent, int column, int role) const;

    std::vector<std::unique_ptr<HostRow>> m_hosts;
};
