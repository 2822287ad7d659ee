// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/engine/viewerfeed.h"

#include "server/engine/agentregistry.h"
#include "server/engine/connection.h"
#include "server/engine/hostconfig.h"
#include "server/engine/wire.h"

#include <QObject>
#include <algorithm>

using namespace Protocol;

ViewerFeed::ViewerFeed(const HostConfig& config, AgentRegistry& registry, QObject* context)
    : m_config(config)
    , m_registry(registry)
    , m_context(context)
{ }

void ViewerFeed::addViewer(Connection* viewer)
{
    m_viewers.push_back(viewer);
}

void ViewerFeed::removeViewer(Connection* viewer)
{
    m_viewers.erase(std::remove(m_viewers.begin(), m_viewers.end(), viewer), m_viewers.end());
}

bool ViewerFeed::overBacklog(const Connection* v) const
{
    return v->pendingBytes() > m_config.viewerBacklogBytes;
}

void ViewerFeed::deliver(Connection* v, const QByteArray& json, bool droppable)
{
    if (!v->replaying && !v->backlogged && overBacklog(v))
        v->backlogged = true; // drain() sends what is held once it drains
    if (v->replaying || v->backlogged) {
        // Held events count toward the viewer's budget: one that never catches up is
        // dropped (Connection::dropIfOverBudget), never silently missing events.
        if (!droppable) {
            v->deferred.append(json);
            v->deferredBytes += json.size();
            v->dropIfOverBudget();
        }
        return;
    }
    v->send(json);
}

void ViewerFeed::sendDeferred(Connection* v)
{
    const QList<QByteArray> deferred = std::exchange(v->deferred, {});
    v->deferredBytes = 0;
    for (const QByteArray& event : deferred)
        v->send(event);
}

void ViewerFeed::broadcast(const Agent& agent, const QByteArray& json, bool droppable)
{
    for (Connection* v : m_viewers) {
        if (v->sub.covers(agent.id))
            deliver(v, json, droppable);
    }
}

void ViewerFeed::broadcastToViewers(const QByteArray& json, bool droppable)
{
    for (Connection* v : m_viewers) {
        if (v->sub.active)
            deliver(v, json, droppable);
    }
}

void ViewerFeed::broadcastAgentEvent(QByteArrayView agentId, const QByteArray& json)
{
    for (Connection* v : m_viewers) {
        if (v->sub.active && v->sees(agentId))
            deliver(v, json, false);
    }
}

void ViewerFeed::schedulePump()
{
    if (m_pumpQueued)
        return;
    m_pumpQueued = true;
    QMetaObject::invokeMethod(
        m_context,
        [this] {
            m_pumpQueued = false;
            pumpAll();
        },
        Qt::QueuedConnection);
}

void ViewerFeed::pumpAll()
{
    // Delivery may close a viewer, which leaves the list: walk a copy.
    const std::vector<Connection*> viewers = m_viewers;
    for (Connection* v : viewers) {
        if (v->sub.active && !v->closing && !v->backlogged) {
            pumpViewer(v);
            drain(v);
        }
    }
}

void ViewerFeed::drain(Connection* v)
{
    // bytesWritten is not emitted for writes made inside its own handler, so the
    // backlog is checked here after every flush rather than left to that signal.
    while (!v->closing) {
        if (v->backlogged && v->pendingBytes() < m_config.viewerBacklogBytes / 2) {
            v->backlogged = false;
            pumpViewer(v);
        }
        if (!v->flush())
            break;
    }
}

void ViewerFeed::coverNewAgent(Agent* agent)
{
    for (Connection* v : m_viewers) {
        if (v->sub.covers(agent->id) && !v->cursors.count(agent->id))
            v->cursors.emplace(agent->id, placeCursor(v->sub, agent, v->replaying));
    }
}

void ViewerFeed::forgetAgent(const QByteArray& id)
{
    for (Connection* v : m_viewers)
        v->cursors.erase(id);
}

// ---------------------------------------------------------------------------
// Subscriptions

void ViewerFeed::subscribe(Connection* c, Json::Value root, QByteArrayView ref)
{
    Subscription sub;
    if (!readSubscription(root, &sub)) {
        c->sendError(ErrorCode::BadMessage,
                     QStringLiteral("subscribe needs \"agents\" (an array of ids or \"*\"); \"since\", \"history\", "
                                    "\"levels\" and \"sources\" are optional and must be well formed"),
                     ref);
        return;
    }
    sub.scope = c->access ? &c->access->agents : nullptr;
    c->sub = sub;
    catchUp(c);
    c->cursors.clear();
    c->deferred.clear();
    c->deferredBytes = 0;
    c->replaying = true;
    for (const auto& entry : m_registry.all()) {
        Agent* agent = entry.second.get();
        if (c->sub.covers(agent->id))
            c->cursors.emplace(agent->id, placeCursor(c->sub, agent, true));
    }
    pumpViewer(c);
}

void ViewerFeed::sendSnapshot(Connection* v, const QByteArray& hostJson)
{
    if (!v->access)
        return;
    v->send(m_registry.snapshotJson(hostJson, v->access->agents));
    v->baseline = {};
    for (const auto& [id, agent] : m_registry.all()) {
        if (!v->sees(id))
            continue;
        v->baseline.agents.insert(id, qHash(m_registry.agentJson(*agent)));
        QSet<QByteArray>& asks = v->baseline.asks[id];
        for (const OpenAsk& ask : agent->asks)
            asks.insert(ask.id);
    }
}

void ViewerFeed::catchUp(Connection* v)
{
    ViewerBaseline& told = v->baseline;
    for (auto it = told.agents.begin(); it != told.agents.end();) {
        if (m_registry.find(it.key())) {
            ++it;
            continue;
        }
        // Its questions went with it.
        v->send(AgentRegistry::removedEvent(it.key()));
        told.asks.remove(it.key());
        it = told.agents.erase(it);
    }
    for (const auto& [id, agent] : m_registry.all()) {
        if (!v->sees(id))
            continue;
        // Agent events go to every subscribed viewer; questions only where the agent is covered.
        const size_t hash = qHash(m_registry.agentJson(*agent));
        const auto known = told.agents.constFind(id);
        if (known == told.agents.constEnd() || *known != hash) {
            v->send(m_registry.agentEvent(*agent, known == told.agents.constEnd() ? "added" : "changed"));
            told.agents.insert(id, hash);
        }
        if (!v->sub.covers(id))
            continue;
        QSet<QByteArray>& asked = told.asks[id];
        QSet<QByteArray> open;
        for (const OpenAsk& ask : agent->asks) {
            open.insert(ask.id);
            if (!asked.contains(ask.id))
                v->send("{\"type\":\"ask\"," + ask.json.mid(1));
        }
        for (const QByteArray& askId : std::as_const(asked)) {
            if (!open.contains(askId))
                v->send(AgentRegistry::askClosedEvent(id, askId, {}));
        }
        asked = std::move(open);
    }
}

bool ViewerFeed::readSubscription(Json::Value root, Subscription* sub) const
{
    const Json::Value agentsValue = root["agents"];
    if (!agentsValue.isArray())
        return false;
    sub->active = true;
    sub->agentsJson = agentsValue.raw().toByteArray();
    for (const Json::Value a : agentsValue.items()) {
        if (!a.isString())
            return false;
        if (a.toUtf8() == "*")
            sub->all = true;
        else
            sub->named.insert(a.toUtf8().toByteArray());
    }
    const auto absent = [](const Json::Value& v) {
        return v.isUndefined() || v.isNull();
    };
    const Json::Value history = root["history"];
    if (!absent(history)) {
        if (!history.isInteger() || history.toInteger() < 0)
            return false;
        sub->history = history.toInteger();
    }
    const Json::Value levels = root["levels"];
    if (!absent(levels) && !levels.isArray())
        return false;
    for (const Json::Value l : levels.items()) {
        const LogLevel level = l.isString() ? parseLogLevel(l.toUtf8()) : LogLevel::Unknown;
        if (level == LogLevel::Unknown)
            return false;
        sub->levelMask |= quint8(1u << unsigned(level));
    }
    const Json::Value sources = root["sources"];
    if (!absent(sources) && !sources.isArray())
        return false;
    for (const Json::Value s : sources.items()) {
        if (!s.isString())
            return false;
        sub->sources.append(s.toUtf8().toByteArray());
    }
    const Json::Value since = root["since"];
    if (!absent(since) && !since.isObject())
        return false;
    for (const Json::Value entry : since.items()) {
        const Json::Value log = entry["log"];
        const Json::Value forum = entry["forum"];
        if (!entry.isObject() || (!log.isUndefined() && !log.isInteger())
            || (!forum.isUndefined() && !forum.isInteger()))
            return false;
        sub->since.insert(
            entry.key().toByteArray(),
            {std::clamp<qint64>(log.toInteger(0), 0, MaxSeq), std::clamp<qint64>(forum.toInteger(0), 0, MaxSeq)});
    }
    return true;
}

void ViewerFeed::unsubscribe(Connection* c, Json::Value root, QByteArrayView ref)
{
    const Json::Value agentsValue = root["agents"];
    if (!agentsValue.isArray()) {
        c->sendError(ErrorCode::BadMessage, QStringLiteral("unsubscribe needs an array \"agents\""), ref);
        return;
    }
    for (const Json::Value a : agentsValue.items()) {
        if (!a.isString())
            continue;
        const QByteArray id = a.toUtf8().toByteArray();
        if (id == "*") {
            c->sub.all = false;
            c->sub.named.clear();
            c->cursors.clear();
            continue;
        }
        c->sub.named.remove(id);
        if (c->sub.all)
            c->sub.excluded.insert(id);
        c->cursors.erase(id);
    }
}

Cursor ViewerFeed::placeCursor(const Subscription& sub, Agent* agent, bool replay) const
{
    Cursor cursor;
    cursor.agent = agent;
    if (replay) {
        cursor.logTarget = agent->log.lastSeq();
        cursor.forumTarget = agent->forum.lastSeq();
    }
    const auto resume = sub.since.find(agent->id);
    if (resume != sub.since.end()) {
        cursor.log = std::min(resume->first, agent->log.lastSeq());
        cursor.forum = std::min(resume->second, agent->forum.lastSeq());
        return cursor;
    }
    // The last `history` lines that pass the filter; no leading gap.
    const LogStore& store = agent->log;
    qsizetype index = store.lineCount();
    qint64 wanted = sub.history;
    while (wanted > 0 && index > 0) {
        const LogLine line = store.lineAt(index - 1);
        --index;
        if (sub.accepts(line.level, line.source))
            --wanted;
    }
    cursor.log = index < store.lineCount() && sub.history > 0 ? store.lineAt(index).seq - 1 : store.lastSeq();
    cursor.forum = agent->forum.size() > 0 ? agent->forum.at(0).seq - 1 : agent->forum.lastSeq();
    return cursor;
}

// ---------------------------------------------------------------------------
// Delivery

void ViewerFeed::pumpViewer(Connection* v)
{
    if (v->closing || !v->sub.active)
        return;
    if (overBacklog(v)) {
        v->backlogged = true;
        return;
    }
    v->backlogged = false;
    if (!v->replaying && !v->deferred.isEmpty()) {
        sendDeferred(v);
    }
    // Start with a different agent each time, so a busy agent cannot starve the others.
    const size_t n = v->cursors.size();
    std::vector<Cursor*> order;
    order.reserve(n);
    for (auto& entry : v->cursors)
        order.push_back(&entry.second);
    const size_t start = n ? v->roundRobin++ % n : 0;
    for (size_t k = 0; k < n; ++k) {
        Cursor& cursor = *order[(start + k) % n];
        const qint64 logEnd = v->replaying ? cursor.logTarget : cursor.agent->log.lastSeq();
        const qint64 forumEnd = v->replaying ? cursor.forumTarget : cursor.agent->forum.lastSeq();
        if (!pumpForum(v, cursor, forumEnd) || !pumpLog(v, cursor, logEnd))
            return; // behind: the rest goes when it drains
        cursor.freshLog = cursor.freshForum = false;
        if (!v->replaying && cursor.log == cursor.agent->log.lastSeq())
            sendPartials(v, cursor);
    }
    if (v->replaying)
        finishReplay(v);
}

void ViewerFeed::finishReplay(Connection* v)
{
    v->replaying = false;
    v->send("{\"type\":\"subscribed\",\"agents\":" + v->sub.agentsJson + '}');
    for (auto& entry : v->cursors) {
        if (entry.second.log == entry.second.agent->log.lastSeq())
            sendPartials(v, entry.second);
    }
    sendDeferred(v);
    // Lines that arrived during the replay follow at once.
    pumpViewer(v);
}

void ViewerFeed::sendGap(Connection* v, const Agent& agent, QByteArrayView kind, qint64 from, qint64 to,
                         GapReason reason)
{
    QByteArray json;
    Json::Writer w(&json);
    w.beginObject().key("type").string("gap").key("agent").string(agent.id).key("kind").string(kind);
    w.key("from").integer(from).key("to").integer(to).key("reason").string(gapReasonName(reason));
    w.endObject();
    v->send(json);
}

template <typename Store>
qint64 ViewerFeed::sendGapOrFindRun(Connection* v, const Agent& agent, const Store& store, QByteArrayView kind,
                                    qint64* position, qint64 end, bool* fresh)
{
    const qint64 next = *position + 1;
    const qint64 firstHeld = store.firstHeldSeq();
    if (next < firstHeld) {
        const qint64 to = std::min(firstHeld - 1, end);
        sendGap(v, agent, kind, next, to, *fresh ? GapReason::Evicted : GapReason::SlowConsumer);
        *position = to;
        return -1;
    }
    *fresh = false;
    const SeqGap* gap = store.gaps().firstEndingAtOrAfter(next);
    if (gap && gap->from <= next) {
        const qint64 to = std::min(gap->to, end);
        sendGap(v, agent, kind, next, to, gap->reason);
        *position = to;
        return -1;
    }
    return gap ? std::min(end, gap->from - 1) : end;
}

bool ViewerFeed::pumpLog(Connection* v, Cursor& cursor, qint64 end)
{
    Agent& agent = *cursor.agent;
    // Written before any viewer sees them: a host killed right after still has every
    // number it handed out, and never gives one to another line after its restart.
    if (agent.file && cursor.log < end)
        agent.file->writeBuffered();
    const bool filtered = v->sub.filtersLines();
    while (cursor.log < end) {
        if (v->closing || overBacklog(v)) {
            v->backlogged = !v->closing;
            return false;
        }
        const qint64 next = cursor.log + 1;
        const qint64 stop = sendGapOrFindRun(v, agent, agent.log, "log", &cursor.log, end, &cursor.freshLog);
        if (stop < 0)
            continue;
        // Viewers at the same place share the message of the last one.
        if (!filtered && agent.cacheFrom == next && agent.cacheTo <= stop && agent.cacheTo >= next) {
            v->send(agent.cacheLines);
            cursor.log = agent.cacheTo;
            continue;
        }
        qint64 covered = stop;
        const QByteArray json = logMessage(v, agent, next, stop, &covered);
        if (!json.isEmpty()) {
            if (!filtered) {
                agent.cacheFrom = next;
                agent.cacheTo = covered;
                agent.cacheLines = json;
            }
            v->send(json);
        }
        cursor.log = covered;
    }
    return true;
}

QByteArray ViewerFeed::logMessage(Connection* v, Agent& agent, qint64 next, qint64 stop, qint64* covered) const
{
    const LogStore& store = agent.log;
    const bool filtered = v->sub.filtersLines();
    QByteArray json;
    json.reserve(std::min<qsizetype>(Wire::MaxBytesPerMessage + 4096, (stop - next + 1) * 160 + 64));
    json += "{\"type\":\"log\",\"agent\":\"";
    json += agent.id;
    json += "\",\"lines\":[";
    int count = 0;
    *covered = stop; // unless the message fills up first
    for (qsizetype index = store.indexOfSeq(next); index < store.lineCount(); ++index) {
        const LogLine line = store.lineAt(index);
        if (line.seq > stop)
            break;
        if (count >= Wire::MaxLinesPerMessage || json.size() >= Wire::MaxBytesPerMessage) {
            *covered = line.seq - 1;
            break;
        }
        if (filtered && !v->sub.accepts(line.level, line.source))
            continue;
        if (count > 0)
            json += ',';
        Wire::appendLine(json, line);
        ++count;
    }
    json += "]}";
    return count > 0 ? json : QByteArray();
}

bool ViewerFeed::pumpForum(Connection* v, Cursor& cursor, qint64 end)
{
    Agent& agent = *cursor.agent;
    const ForumStore& store = agent.forum;
    if (agent.forumFile && cursor.forum < end)
        agent.forumFile->writeBuffered();
    while (cursor.forum < end) {
        if (v->closing || overBacklog(v)) {
            v->backlogged = !v->closing;
            return false;
        }
        const qint64 next = cursor.forum + 1;
        const qint64 stop = sendGapOrFindRun(v, agent, store, "forum", &cursor.forum, end, &cursor.freshForum);
        if (stop < 0)
            continue;
        QByteArray json = "{\"type\":\"forum\",\"agent\":\"" + agent.id + "\",\"messages\":[";
        int count = 0;
        for (qsizetype i = store.indexOfSeq(next); i < store.size() && store.at(i).seq <= stop; ++i) {
            if (count > 0)
                json += ',';
            json += store.at(i).json;
            cursor.forum = store.at(i).seq;
            if (++count >= Wire::MaxLinesPerMessage || json.size() >= Wire::MaxBytesPerMessage)
                break;
        }
        json += "]}";
        if (count > 0)
            v->send(json);
        else
            cursor.forum = stop;
    }
    return true;
}

void ViewerFeed::sendPartials(Connection* v, Cursor& cursor)
{
    Agent& agent = *cursor.agent;
    for (int s = 0; s < 2; ++s) {
        PartialLine& p = agent.partial[s];
        if (!p.present || p.version <= cursor.partialSent[s])
            continue;
        cursor.partialSent[s] = p.version;
        if (!v->sub.accepts(p.level, p.source))
            continue;
        QByteArray json;
        Json::Writer w(&json);
        w.beginObject().key("type").string("log").key("agent").string(agent.id).key("lines").beginArray();
        w.beginObject().key("partial").boolean(true).key("ts").integer(p.ts);
        w.key("stream").string(streamName(Stream(s))).key("level").string(logLevelName(p.level));
        if (!p.source.isEmpty())
            w.key("source").string(p.source);
        w.key("text").string(p.text).endObject();
        w.endArray().endObject();
        v->send(json);
    }
}
