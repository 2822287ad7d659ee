// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/engine/commandrouter.h"
#include "server/engine/hostconfig.h"

#include <QByteArray>
#include <map>
#include <memory>
#include <vector>

class AgentRegistry;
class Ingest;
class QObject;
class ViewerFeed;
struct Agent;
struct AgentDefinition;

/*
 * Agents read from elsewhere (origin "bridged"): the apps of a BettaFish server
 * (BettaFishBridge) and log files bots write (FileFollower, an agent with
 * `follow`). Their lines are numbered by the host and stored like any agent's;
 * where each stands in what it reads is kept in `<logs.dir>/<id>.follow`, written
 * right after the agents' log files, so a restarted host goes on after the last
 * line it stored. The built-in commands start, stop and restart reach them here.
 */
class Bridges final
{
    Q_DISABLE_COPY_MOVE(Bridges)

public:
    /// context: the engine's object, parent of the bridges' sockets and watchers.
    Bridges(const HostConfig& config, AgentRegistry& registry, ViewerFeed& feed, Ingest& ingest, QObject* context);
    ~Bridges();

    /// The configured bridges and followed files.
    void startConfigured();
    /// Follows the file of a definition with `follow`, replacing how the agent was followed.
    Agent* follow(const AgentDefinition& definition);
    /// Starts a bridge; false (with why) when one of its agents' ids is taken by another kind of agent.
    bool addBridge(const BridgeSpec& spec, QString* error);
    bool isFollowed(const Agent& agent) const;
    /// The agent is being removed: nothing more is read for it.
    void forget(Agent& agent);
    /// Keeps where every bridge and file stands; call right after the log files are flushed.
    void saveStates();
    /// Saves where everything stands and stops reading.
    void shutdown();

    void run(Agent& agent, QByteArrayView name, Json::Value args, CommandRouter::Builtins::Done done);

private:
    struct Followed;
    struct BettaFish;
    Agent* ensureAgent(const QByteArray& id, const QString& name, QByteArrayView commandsJson);
    void setState(Agent& agent, QByteArrayView state, const QString& text);
    void startFollowing(Followed& followed);
    /// Writes where a followed file stands, when it moved (or always).
    void saveFollowed(Followed& followed, bool always = false);
    QString statePath(const QByteArray& id) const;

    const HostConfig& m_config;
    AgentRegistry& m_registry;
    ViewerFeed& m_feed;
    Ingest& m_ingest;
    QObject* m_context;
    std::map<QByteArray, std::unique_ptr<Followed>> m_followed;
    std::vector<std::unique_ptr<BettaFish>> m_bettafish;
};
