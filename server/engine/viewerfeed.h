// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/engine/subscription.h"
#include "server/protocol/json.h"
#include "server/protocol/protocol.h"

#include <QByteArray>
#include <vector>

class AgentRegistry;
class Connection;
class QObject;
struct Agent;
struct HostConfig;

/*
 * What viewers get: their subscriptions, where each stands in every agent's
 * console and forum (cursors), the replay after a subscribe, live delivery in
 * batches, gaps, and events. A viewer that cannot keep up is held back at the
 * viewer backlog and later told what it missed (slow_consumer gaps); it never
 * holds up agents or other viewers.
 */
class ViewerFeed final
{
    Q_DISABLE_COPY_MOVE(ViewerFeed)

public:
    /// context: the engine's object, on whose thread delivery is scheduled.
    ViewerFeed(const HostConfig& config, AgentRegistry& registry, QObject* context);

    void addViewer(Connection* viewer);
    void removeViewer(Connection* viewer);
    int viewerCount() const { return int(m_viewers.size()); }

    /// An event of one agent, to the viewers subscribed to it. Droppable events
    /// (metrics) are not kept for a viewer that is replaying or behind.
    void broadcast(const Agent& agent, const QByteArray& json, bool droppable);
    /// An event for every subscribed viewer.
    void broadcastToViewers(const QByteArray& json, bool droppable);
    /// An agent event (added, changed, removed) for every subscribed viewer that may see the agent.
    void broadcastAgentEvent(QByteArrayView agentId, const QByteArray& json);
    /// New lines or messages are stored: delivery follows once the event loop has
    /// read every socket that is ready, so one message carries many.
    void schedulePump();
    /// The viewer took some of what it was given: more may go now.
    void drain(Connection* viewer);
    /// A new agent: viewers subscribed to everything start following it.
    void coverNewAgent(Agent* agent);
    /// The agent is gone: no viewer follows it any more.
    void forgetAgent(const QByteArray& id);

    /// Sends the snapshot and remembers what it told.
    void sendSnapshot(Connection* viewer, const QByteArray& hostJson);
    void subscribe(Connection* viewer, Json::Value root, QByteArrayView ref);
    void unsubscribe(Connection* viewer, Json::Value root, QByteArrayView ref);

private:
    bool readSubscription(Json::Value root, Subscription* sub) const;
    void catchUp(Connection* v);
    /// Where a viewer starts in an agent's streams: after its `since` numbers, else
    /// at the last `history` lines and every forum message held. With replay, the
    /// cursor also knows where the subscribe's replay of this agent ends.
    Cursor placeCursor(const Subscription& sub, Agent* agent, bool replay) const;
    void pumpAll();
    void pumpViewer(Connection* v);
    void finishReplay(Connection* v);
    bool pumpLog(Connection* v, Cursor& cursor, qint64 end);
    bool pumpForum(Connection* v, Cursor& cursor, qint64 end);
    QByteArray logMessage(Connection* v, Agent& agent, qint64 next, qint64 stop, qint64* covered) const;
    void sendGap(Connection* v, const Agent& agent, QByteArrayView kind, qint64 from, qint64 to,
                 Protocol::GapReason reason);
    /// At position + 1 in store: sends the gap that starts there (or the eviction gap
    /// before the oldest number held), moves position past it and returns -1; or
    /// returns the last number, at most end, of the run of items that starts there.
    template <typename Store>
    qint64 sendGapOrFindRun(Connection* v, const Agent& agent, const Store& store, QByteArrayView kind,
                            qint64* position, qint64 end, bool* fresh);
    void sendPartials(Connection* v, Cursor& cursor);
    bool overBacklog(const Connection* v) const;
    void deliver(Connection* v, const QByteArray& json, bool droppable);
    /// Sends the events held while the viewer replayed or was behind.
    void sendDeferred(Connection* v);

    const HostConfig& m_config;
    AgentRegistry& m_registry;
    QObject* m_context;
    std::vector<Connection*> m_viewers;
    bool m_pumpQueued = false;
};
