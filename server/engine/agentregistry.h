// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/engine/redactor.h"
#include "server/launcher/supervisor.h"
#include "server/protocol/json.h"
#include "server/protocol/loglevel.h"
#include "server/protocol/protocol.h"
#include "server/store/forumstore.h"
#include "server/store/logfile.h"
#include "server/store/logstore.h"

#include <QByteArray>
#include <QString>
#include <functional>
#include <map>
#include <memory>
#include <vector>

class AgentScope;
class Connection;
struct Access;
struct AgentDefinition;
struct HostConfig;

/// The unfinished last line of one stream of an agent.
struct PartialLine
{
    bool present = false;
    QByteArray text;
    QByteArray source;
    LogLevel level = LogLevel::Info;
    qint64 ts = 0;
    quint64 version = 0; // the version viewers may see (throttled)
    quint64 latest = 0; // the newest version received
    qint64 lastForwardMs = 0;
    bool timerArmed = false;
};

/// A question an agent asked that nobody has answered yet.
struct OpenAsk
{
    QByteArray id;
    QByteArray json; // the ask as viewers see it (with agent and ts)
};

/// Everything the host knows of one agent: connected, launched or both.
struct Agent
{
    enum class Origin { Connected, Launched, Bridged };

    QByteArray id;
    QString name;
    Origin origin = Origin::Connected;
    Connection* connection = nullptr;
    qint64 pid = 0;
    qint64 startedAt = 0;
    qint64 lastSeenMs = 0; // when it was created or last went offline
    int restarts = 0;
    QByteArray commandsJson = "[]";
    QByteArray state = "running";
    QByteArray statusJson; // the last status object, without agent
    LogStore log;
    ForumStore forum;
    PartialLine partial[2];
    RecordLevels records[2]; // each console stream's multi-line records
    Redactor::Stream redactStreams[2]; // what each console stream's earlier lines showed the redactor
    std::vector<OpenAsk> asks;
    // Ingest's rate limit
    double rateTokens = 0;
    qint64 rateRefillMs = 0;
    qint64 lastRateErrorMs = 0;
    // The lines of the last unfiltered log message built, shared by viewers at the same position.
    qint64 cacheFrom = 0;
    qint64 cacheTo = -1;
    QByteArray cacheLines;
    // Launched agents
    std::unique_ptr<ProcessSupervisor> supervisor;
    /// The token its process was given, bound to its id alone; revoked when it is removed.
    std::shared_ptr<const Access> ownAccess;
    QByteArray ownToken;
    /// A token bound to this id has connected as it: shared tokens may not claim it.
    bool boundClaim = false;
    quint64 linesAtLastSample = 0;
    quint64 linesAppended = 0; // console lines stored, from the process and from the connection
    bool removing = false;
    qint64 botLogSeq = 0; // the highest number a launched bot gave its own log lines
    std::unique_ptr<LogFile> file;
    std::unique_ptr<LogFile> forumFile;

    void flushFiles();
    /// Its connection is gone: what only the connection could keep up is dropped.
    void disconnected();
};

/*
 * The agents a host knows, with their consoles and forums in memory and in log
 * files, and how viewers see them (agent objects, the snapshot). An agent is
 * created by its first hello or launch and stays, offline, until removed.
 */
class AgentRegistry final
{
    Q_DISABLE_COPY_MOVE(AgentRegistry)

public:
    using Warn = std::function<void(const QString&)>;
    /// config and redactor must outlive the registry; warn reports files it cannot use.
    AgentRegistry(const HostConfig& config, const Redactor& redactor, Warn warn);
    ~AgentRegistry();

    Agent* find(QByteArrayView id) const;
    /// The agent with this id, created (its files opened and their newest items back
    /// in memory) when there is none yet.
    Agent* ensure(const QByteArray& id, bool* created);
    /// Forgets the agent; its files stay on disk.
    void erase(const QByteArray& id);
    /// The agent that has been offline longest among those nothing keeps (connected
    /// agents that are not launched or bridged), or nullptr.
    const Agent* longestOffline() const;
    int size() const { return int(m_agents.size()); }
    const std::map<QByteArray, std::unique_ptr<Agent>>& all() const { return m_agents; }
    /// Forgets every agent (the engine is going away).
    void clear();

    /// Stores a console line (memory and file) and counts it.
    void appendLine(Agent& agent, qint64 seq, qint64 ts, Protocol::Stream stream, LogLevel level, QByteArrayView source,
                    QByteArrayView text);
    void addLogGap(Agent& agent, qint64 from, qint64 to, Protocol::GapReason reason);
    quint64 linesIngested() const { return m_linesIngested; }

    enum class AskOutcome { Opened, Replaced, OverAgentLimit, OverTotalLimit };
    /// Opens a question, or replaces the open one with the same id; refused over the limits.
    AskOutcome openAsk(Agent& agent, const QByteArray& id, const QByteArray& json);
    /// Closes an open question of the agent; false when none has this id.
    bool closeAsk(Agent& agent, QByteArrayView id);
    /// Open questions of every agent.
    int openAskCount() const { return m_openAsks; }
    int connectedCount() const;
    void flushFiles();
    /// Log files open for appending now (at most logs.max_open_files).
    int openFileCount() const { return m_fileHandles.openCount(); }
    void setOpenFileLimit(int limit) { m_fileHandles.setLimit(limit); }

    /// The host's id: kept in the log folder so numbers and id go on together across
    /// restarts; `fresh` when there are no log files or none was kept.
    QByteArray loadOrCreateHostId(const QByteArray& fresh) const;

    /// The agent object of protocol v1 (snapshot and agent events).
    QByteArray agentJson(const Agent& agent) const;
    /// An `agent` event ("added", "changed").
    QByteArray agentEvent(const Agent& agent, QByteArrayView event) const;
    /// A `removed` agent event.
    static QByteArray removedEvent(QByteArrayView id);
    /// ask_closed; a choice of undefined is sent as null (closed without an answer known).
    static QByteArray askClosedEvent(QByteArrayView agent, QByteArrayView askId, Json::Value choice);
    /// Every agent of the scope and its open questions.
    QByteArray snapshotJson(const QByteArray& hostJson, const AgentScope& scope) const;

private:
    void openFiles(Agent* agent);
    template <typename Store, typename Restore>
    std::unique_ptr<LogFile> openFile(const Agent& agent, LogFile::Kind kind, qint64 restore, Store& store,
                                      Restore&& append);
    QByteArray publicDefinition(const AgentDefinition& definition) const;

    const HostConfig& m_config;
    const Redactor& m_redactor;
    Warn m_warn;
    FileHandleBudget m_fileHandles; // outlives the agents' files
    std::map<QByteArray, std::unique_ptr<Agent>> m_agents;
    quint64 m_linesIngested = 0;
    int m_openAsks = 0;
};
