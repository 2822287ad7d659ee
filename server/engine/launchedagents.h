// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/engine/commandrouter.h"
#include "server/launcher/processmetrics.h"
#include "server/launcher/supervisor.h"

#include <QHash>
#include <QUrl>

class AgentRegistry;
class Ingest;
class TokenTable;
class ViewerFeed;
struct Agent;
struct AgentDefinition;
struct HostConfig;

/*
 * The agents the host starts itself: one ProcessSupervisor each, whose output
 * becomes the agent's console (through ingest), whose state changes reach the
 * viewers, and which run the built-in commands (start, stop, restart, kill,
 * signal, stdin). Once a second each gets its process group's CPU, memory and
 * lines per second as metrics.
 */
class LaunchedAgents final : public ProcessSupervisor::Listener, public CommandRouter::Builtins
{
    Q_DISABLE_COPY_MOVE(LaunchedAgents)

public:
    /// tokens: where each launched agent's own token is entered, and revoked when it goes.
    LaunchedAgents(const HostConfig& config, AgentRegistry& registry, ViewerFeed& feed, Ingest& ingest,
                   TokenTable& tokens);
    ~LaunchedAgents() override;

    /// Where children connect back (AGENTDECK_URL). Each gets a token of its own,
    /// bound to its id (AGENTDECK_TOKEN): it can neither watch nor command others,
    /// nor speak as another agent.
    void setEndpoint(const QUrl& url);
    /// Adds (or replaces the supervisor of) a launched agent, and starts it when autostart.
    Agent* launch(const AgentDefinition& definition);
    /// A launched agent's new definition; takes effect at its next start.
    void redefine(Agent& agent, const AgentDefinition& definition);
    /// The agent is being removed: its process is no longer heard, its token is revoked.
    void forget(Agent& agent);
    /// Stops every process (stopsignal, then kill at the longest stopwaitsecs).
    void shutdown();
    /// Metrics of every running launched agent.
    void sample(qint64 ts);

    // CommandRouter::Builtins
    void run(Agent& agent, QByteArrayView name, Json::Value args, Done done) override;

private:
    QProcessEnvironment childEnvironment(const Agent& agent, const AgentDefinition& definition) const;
    /// A signal by name ("SIGUSR1", "USR1") or number; 0 for none.
    static int signalOf(Json::Value value);

    // ProcessSupervisor::Listener
    void processLine(ProcessSupervisor* supervisor, Protocol::Stream stream, qint64 ts, QByteArrayView text) override;
    void processPartial(ProcessSupervisor* supervisor, Protocol::Stream stream, qint64 ts,
                        QByteArrayView text) override;
    void processOutputDone(ProcessSupervisor* supervisor) override;
    void processEvent(ProcessSupervisor* supervisor, LogLevel level, const QByteArray& text) override;
    void processStateChanged(ProcessSupervisor* supervisor) override;

    const HostConfig& m_config;
    AgentRegistry& m_registry;
    ViewerFeed& m_feed;
    Ingest& m_ingest;
    TokenTable& m_tokens;
    QUrl m_url;
    QHash<const ProcessSupervisor*, Agent*> m_launched;
    ProcessGroupSampler m_groupSampler;
    qint64 m_lastSampleMs = 0;
};
