// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/link/linksession.h"

#include "server/protocol/protocol.h"

#include <QDateTime>
#include <QMutexLocker>

using Link::Event;

namespace {

using Protocol::nowMs;

QString str(Json::Value value)
{
    return value.isString() ? value.toString() : QString();
}

QByteArray utf8Of(Json::Value value)
{
    return value.isString() ? value.toUtf8().toByteArray() : QByteArray();
}

QList<std::pair<QString, double>> readValues(Json::Value values)
{
    QList<std::pair<QString, double>> result;
    if (!values.isObject())
        return result;
    result.reserve(values.size());
    for (const Json::Value value : values.items()) {
        if (value.isNumber())
            result.append({QString::fromUtf8(value.key()), value.toDouble()});
    }
    return result;
}

Link::Ask readAsk(Json::Value value, const QString& agent)
{
    Link::Ask ask;
    ask.agent = value["agent"].isString() ? value["agent"].toString() : agent;
    ask.id = value["id"].isString() ? value["id"].toString() : QString::fromUtf8(value["id"].raw());
    ask.text = str(value["text"]);
    for (const Json::Value choice : value["choices"].items()) {
        if (choice.isString())
            ask.choices.append(choice.toString());
    }
    ask.ts = value["ts"].toInteger(0);
    return ask;
}

} // namespace

// ---------------------------------------------------------------------------

void LinkChannel::setNotify(std::function<void()> notify)
{
    QMutexLocker lock(&m_mutex);
    m_notify = std::move(notify);
}

void LinkChannel::push(Link::Event&& event, qint64 bytes)
{
    QMutexLocker lock(&m_mutex);
    m_events.append(std::move(event));
    m_bytes += bytes;
    notifyLocked();
}

void LinkChannel::setStatus(const Status& status)
{
    QMutexLocker lock(&m_mutex);
    m_status = status;
    notifyLocked();
}

void LinkChannel::notifyLocked()
{
    if (m_notified || !m_notify)
        return;
    m_notified = true;
    m_notify();
}

bool LinkChannel::acknowledge()
{
    QMutexLocker lock(&m_mutex);
    m_notified = false;
    return !m_events.isEmpty();
}

QList<Link::Event> LinkChannel::take(qint64* bytes)
{
    QMutexLocker lock(&m_mutex);
    if (bytes)
        *bytes = m_bytes;
    m_bytes = 0;
    return std::exchange(m_events, {});
}

LinkChannel::Status LinkChannel::status() const
{
    QMutexLocker lock(&m_mutex);
    return m_status;
}

qint64 LinkChannel::pendingBytes() const
{
    QMutexLocker lock(&m_mutex);
    return m_bytes;
}

// ---------------------------------------------------------------------------

LinkSession::LinkSession(LinkChannel* channel)
    : m_channel(channel)
{ }

QByteArray LinkSession::helloMessage(const QString& token) const
{
    return Protocol::helloMessage("viewer", token.toUtf8(), {}, ",\"client\":\"agentdeck/" AGENTDECK_VERSION "\"");
}

void LinkSession::connectionStarted()
{
    m_welcomed = false;
    m_subscribed = false;
    m_lastError.clear();
}

QByteArray LinkSession::handleMessage(const QByteArray& json)
{
    const Json::ReusedDocument::Lease parsed(m_doc);
    if (!parsed->parse(json)) {
        ++m_badMessages;
        return {};
    }
    const Json::Value root = parsed->root();
    const qint64 size = json.size();
    using Protocol::MessageType;
    switch (const MessageType type = Protocol::parseMessageType(root["type"].toUtf8())) {
    case MessageType::Log:
        onLog(root, size);
        break;
    case MessageType::Forum:
        onForum(root, size);
        break;
    case MessageType::Gap:
        onGap(root, size);
        break;
    case MessageType::History:
        onHistory(root, size);
        break;
    case MessageType::Agent:
        onAgent(root, size);
        break;
    case MessageType::Result:
        onResult(root, size);
        break;
    case MessageType::Welcome:
        m_welcomed = true;
        readHost(root["host"]);
        readAccess(root["access"]);
        break;
    case MessageType::Snapshot:
        onSnapshot(root, size);
        return subscribeMessage();
    case MessageType::Subscribed: {
        m_subscribed = true;
        Event e;
        e.type = Event::Type::Subscribed;
        m_channel->push(std::move(e), size);
        break;
    }
    case MessageType::Metrics:
    case MessageType::HostMetrics:
    case MessageType::Status:
    case MessageType::Ask:
    case MessageType::AskClosed:
    case MessageType::Error:
        m_channel->push(simpleEvent(type, root), size);
        break;
    default:
        ++m_badMessages;
        break;
    }
    return {};
}

Link::Event LinkSession::simpleEvent(Protocol::MessageType type, Json::Value root)
{
    using Protocol::MessageType;
    Event e;
    e.agent = str(root["agent"]);
    switch (type) {
    case MessageType::Metrics:
    case MessageType::HostMetrics:
        e.type = type == MessageType::Metrics ? Event::Type::Metrics : Event::Type::HostMetrics;
        e.ts = root["ts"].toInteger(nowMs());
        e.values = readValues(root["values"]);
        break;
    case MessageType::Status:
        e.type = Event::Type::Status;
        e.status = readStatus(root);
        break;
    case MessageType::Ask:
        e.type = Event::Type::AskOpened;
        e.ask = readAsk(root, e.agent);
        break;
    case MessageType::AskClosed:
        e.type = Event::Type::AskClosed;
        e.id = str(root["id"]);
        e.text = str(root["choice"]);
        break;
    default: // error
        e.type = Event::Type::Error;
        e.error = str(root["code"]);
        e.text = str(root["text"]);
        e.id = root["ref"].isString() ? root["ref"].toString() : QString::fromUtf8(root["ref"].raw());
        m_lastError = e.error + QLatin1String(": ") + e.text;
        break;
    }
    return e;
}

void LinkSession::readHost(Json::Value host)
{
    m_host.id = str(host["id"]);
    m_host.name = str(host["name"]);
    m_host.version = str(host["version"]);
}

void LinkSession::readAccess(Json::Value access)
{
    m_host.tokenName = str(access["token"]);
    m_host.role = str(access["role"]);
    m_host.mayCommand = !access["commands"].isBool() || access["commands"].toBool();
}

void LinkSession::onAgent(Json::Value root, qint64 bytes)
{
    Event e;
    const QByteArrayView event = root["event"].toUtf8();
    e.agentInfo = readAgent(root["agent"]);
    e.agent = e.agentInfo.id;
    if (event == "removed") {
        e.type = Event::Type::AgentRemoved;
        m_positions.remove(e.agent);
    } else {
        e.type = event == "added" ? Event::Type::AgentAdded : Event::Type::AgentChanged;
        checkNumbering(e.agentInfo, false);
    }
    m_channel->push(std::move(e), bytes);
}

void LinkSession::onResult(Json::Value root, qint64 bytes)
{
    Event e;
    e.type = Event::Type::Result;
    e.id = str(root["id"]);
    e.agent = str(root["agent"]);
    e.ok = root["ok"].toBool();
    e.error = str(root["error"]);
    e.text = str(root["text"]);
    const auto pending = m_pending.find(e.id);
    if (pending != m_pending.end()) {
        if (e.agent.isEmpty())
            e.agent = pending->agent;
        // A command to "*" has one result per agent; the others are still coming.
        if (pending->agent == QLatin1String("*"))
            pending->answered = true;
        else
            m_pending.erase(pending);
    }
    m_channel->push(std::move(e), bytes);
}

void LinkSession::onSnapshot(Json::Value root, qint64 bytes)
{
    Event e;
    e.type = Event::Type::Snapshot;
    if (root["host"].isObject())
        readHost(root["host"]);
    e.host = m_host;
    // Numbers belong to one history; another history starts over.
    if (!m_hostId.isEmpty() && m_hostId != m_host.id) {
        e.hostChanged = true;
        m_positions.clear();
    }
    m_hostId = m_host.id;

    // Agents missing from the snapshot keep their positions: after a host restart a
    // connected agent is unknown until it connects again, and then resumes from there.
    for (const Json::Value value : root["agents"].items()) {
        e.agents.append(readAgent(value));
        checkNumbering(e.agents.constLast(), true);
    }
    for (const Json::Value value : root["asks"].items())
        e.asks.append(readAsk(value, QString()));
    m_channel->push(std::move(e), bytes);
}

QByteArray LinkSession::subscribeMessage() const
{
    QByteArray json;
    Json::Writer w(&json);
    w.beginObject().key("type").string("subscribe").key("agents").beginArray().string("*").endArray();
    w.key("history").integer(m_history);
    w.key("since").beginObject();
    for (auto it = m_positions.begin(); it != m_positions.end(); ++it) {
        if (!it->logKnown && !it->forumKnown)
            continue;
        w.key(it.key().toUtf8()).beginObject().key("log").integer(it->log).key("forum").integer(it->forum).endObject();
    }
    w.endObject().endObject();
    return json;
}

void LinkSession::onLog(Json::Value root, qint64 bytes)
{
    Event e;
    e.type = Event::Type::Log;
    e.agent = str(root["agent"]);
    Position& position = m_positions[e.agent];
    const Json::Value lines = root["lines"];
    e.lines.reserve(lines.size());
    for (const Json::Value value : lines.items()) {
        Link::ConsoleLine line;
        line.partial = value["partial"].toBool();
        line.seq = value["seq"].toInteger(0);
        if (!line.partial && !admit(e, &Event::lines, position.log, position.logKnown, line.seq, "log"))
            continue;
        line.ts = value["ts"].toInteger(0);
        line.level = parseLogLevel(value["level"].toUtf8());
        line.stream = value["stream"].toUtf8() == "stderr" ? Protocol::Stream::Stderr : Protocol::Stream::Stdout;
        line.source = utf8Of(value["source"]);
        line.text = utf8Of(value["text"]);
        e.lines.append(std::move(line));
    }
    if (!e.lines.isEmpty())
        m_channel->push(std::move(e), bytes);
}

void LinkSession::onForum(Json::Value root, qint64 bytes)
{
    Event e;
    e.type = Event::Type::Forum;
    e.agent = str(root["agent"]);
    Position& position = m_positions[e.agent];
    for (const Json::Value value : root["messages"].items()) {
        Link::ForumMessage message;
        message.seq = value["seq"].toInteger(0);
        if (!admit(e, &Event::messages, position.forum, position.forumKnown, message.seq, "forum"))
            continue;
        message.ts = value["ts"].toInteger(0);
        message.sender = str(value["sender"]);
        message.role = str(value["role"]);
        message.source = str(value["source"]);
        message.text = str(value["text"]);
        message.startsConversation = value["starts_conversation"].toBool(false);
        e.messages.append(std::move(message));
    }
    if (!e.messages.isEmpty())
        m_channel->push(std::move(e), bytes);
}

template <typename Item>
bool LinkSession::admit(Event& e, QList<Item> Event::*items, qint64& last, bool& known, qint64 seq, QByteArrayView kind)
{
    if (seq <= 0 || (known && seq <= last))
        return false; // delivered before this reconnect
    if (known && seq > last + 1) {
        // The host promises every number or a gap; say so if it ever does not.
        if (!(e.*items).isEmpty()) {
            Event head;
            head.type = e.type;
            head.agent = e.agent;
            head.*items = std::exchange(e.*items, {});
            m_channel->push(std::move(head), 0);
        }
        pushMissing(e.agent, kind, last + 1, seq - 1);
    }
    last = seq;
    known = true;
    return true;
}

void LinkSession::onGap(Json::Value root, qint64 bytes)
{
    Event e;
    e.type = Event::Type::Gap;
    e.agent = str(root["agent"]);
    e.kind = str(root["kind"]);
    e.from = root["from"].toInteger(0);
    e.to = root["to"].toInteger(0);
    e.reason = str(root["reason"]);
    Position& position = m_positions[e.agent];
    const bool forum = e.kind == QLatin1String("forum");
    qint64& last = forum ? position.forum : position.log;
    bool& known = forum ? position.forumKnown : position.logKnown;
    if (known && e.to <= last)
        return; // already covered
    if (known && e.from <= last)
        e.from = last + 1;
    last = std::max(last, e.to);
    known = true;
    m_channel->push(std::move(e), bytes);
}

void LinkSession::checkNumbering(const Link::AgentInfo& info, bool subscribing)
{
    Position& position = m_positions[info.id];
    const auto check = [&](qint64& last, bool known, qint64 hostLast, QByteArrayView kind) {
        if (!known || hostLast < 0 || hostLast >= last)
            return;
        Event e;
        e.type = Event::Type::Renumbered;
        e.agent = info.id;
        e.kind = QString::fromUtf8(kind);
        e.from = last;
        e.to = hostLast;
        e.resumeAfter = subscribing ? std::max<qint64>(0, hostLast - RenumberedReplay) : hostLast;
        // What the host sends after that is not a resend to drop here: the models tell
        // resent items from new ones.
        last = e.resumeAfter;
        m_channel->push(std::move(e), 0);
    };
    check(position.log, position.logKnown, info.lastLogSeq, "log");
    check(position.forum, position.forumKnown, info.lastForumSeq, "forum");
}

void LinkSession::onHistory(Json::Value root, qint64 bytes)
{
    Event e;
    e.type = Event::Type::History;
    e.id = str(root["id"]);
    e.agent = str(root["agent"]);
    e.kind = root["kind"].isString() ? root["kind"].toString() : QStringLiteral("log");
    m_pending.remove(e.id);
    // Older items: not checked against the live numbers, which they are all below.
    for (const Json::Value value : root["lines"].items()) {
        Link::ConsoleLine line;
        line.seq = value["seq"].toInteger(0);
        line.ts = value["ts"].toInteger(0);
        line.level = parseLogLevel(value["level"].toUtf8());
        line.stream = value["stream"].toUtf8() == "stderr" ? Protocol::Stream::Stderr : Protocol::Stream::Stdout;
        line.source = utf8Of(value["source"]);
        line.text = utf8Of(value["text"]);
        if (line.seq > 0)
            e.lines.append(std::move(line));
    }
    for (const Json::Value value : root["messages"].items()) {
        Link::ForumMessage message;
        message.seq = value["seq"].toInteger(0);
        message.ts = value["ts"].toInteger(0);
        message.sender = str(value["sender"]);
        message.role = str(value["role"]);
        message.source = str(value["source"]);
        message.text = str(value["text"]);
        message.startsConversation = value["starts_conversation"].toBool(false);
        if (message.seq > 0)
            e.messages.append(std::move(message));
    }
    for (const Json::Value gap : root["gaps"].items())
        e.gaps.append({gap["from"].toInteger(0), gap["to"].toInteger(0), str(gap["reason"])});
    e.more = root["more"].toBool();
    m_channel->push(std::move(e), bytes);
}

void LinkSession::pushMissing(const QString& agent, QByteArrayView kind, qint64 from, qint64 to)
{
    Event e;
    e.type = Event::Type::Gap;
    e.agent = agent;
    e.kind = QString::fromUtf8(kind);
    e.from = from;
    e.to = to;
    e.reason = QLatin1String(Link::GapReasonName::Missing);
    m_channel->push(std::move(e), 0);
}

void LinkSession::connectionEnded(const QString& reason)
{
    const bool wasWelcomed = m_welcomed;
    m_welcomed = false;
    m_subscribed = false;
    const auto pending = std::exchange(m_pending, {});
    for (auto it = pending.begin(); it != pending.end(); ++it) {
        if (it->answered)
            continue;
        Event e;
        e.type = Event::Type::Result;
        e.id = it.key();
        e.agent = it->agent;
        e.ok = false;
        e.error = QStringLiteral("disconnected");
        e.text = wasWelcomed ? QStringLiteral("the connection to the host was lost: %1").arg(reason)
                             : QStringLiteral("not connected to the host: %1").arg(reason);
        m_channel->push(std::move(e), 0);
    }
}

QByteArray LinkSession::commandMessage(const QString& id, const QString& agent, const QString& name,
                                       const QByteArray& argsJson)
{
    m_pending.insert(id, PendingCommand{agent, false});
    QByteArray json;
    Json::Writer w(&json);
    const QByteArrayView args = argsJson.isEmpty() ? QByteArrayView("{}") : QByteArrayView(argsJson);
    if (name == QLatin1String(DefineAgentRequest)) {
        w.beginObject().key("type").string("define_agent").key("id").string(id).key("agent").raw(args).endObject();
        return json;
    }
    if (name == QLatin1String(HistoryRequest)) {
        Json::Document doc;
        doc.parse(args.toByteArray());
        const Json::Value a = doc.root();
        w.beginObject().key("type").string("history").key("id").string(id).key("agent").string(agent);
        w.key("kind").string(a["kind"].isString() ? a["kind"].toUtf8() : QByteArrayView("log"));
        if (a["before"].isInteger())
            w.key("before").integer(a["before"].toInteger());
        if (a["limit"].isInteger())
            w.key("limit").integer(a["limit"].toInteger());
        w.endObject();
        return json;
    }
    if (name == QLatin1String(RemoveAgentRequest)) {
        w.beginObject().key("type").string("remove_agent").key("id").string(id).key("agent").string(agent).endObject();
        return json;
    }
    w.beginObject().key("type").string("command").key("id").string(id).key("agent").string(agent);
    w.key("name").string(name).key("args").raw(args);
    w.endObject();
    return json;
}

void LinkSession::failCommand(LinkChannel* channel, const QString& id, const QString& agent, const QString& error,
                              const QString& text)
{
    Event e;
    e.type = Event::Type::Result;
    e.id = id;
    e.agent = agent;
    e.error = error;
    e.text = text;
    channel->push(std::move(e), 0);
}

Link::AgentStatus LinkSession::readStatus(Json::Value value)
{
    Link::AgentStatus status;
    status.state = str(value["state"]);
    status.text = str(value["text"]);
    if (value["progress"].isNumber())
        status.progress = value["progress"].toDouble();
    for (const Json::Value task : value["tasks"].items()) {
        status.tasks.append({task["id"].isString() ? task["id"].toString() : QString::fromUtf8(task["id"].raw()),
                             str(task["title"]), str(task["state"])});
    }
    status.ts = value["ts"].toInteger(0);
    return status;
}

Link::AgentInfo LinkSession::readAgent(Json::Value value)
{
    Link::AgentInfo info;
    info.id = str(value["id"]);
    info.name = str(value["name"]);
    info.origin = str(value["origin"]);
    info.state = str(value["state"]);
    info.pid = value["pid"].toInteger(0);
    info.startedAt = value["started_at"].toInteger(0);
    info.restarts = int(value["restarts"].toInteger(0));
    for (const Json::Value command : value["commands"].items())
        info.commands.append({str(command["name"]), str(command["help"])});
    if (value["status"].isObject())
        info.status = readStatus(value["status"]);
    info.lastLogSeq = value["last_seq"]["log"].toInteger(-1);
    info.lastForumSeq = value["last_seq"]["forum"].toInteger(-1);
    const Json::Value process = value["process"];
    if (process.isObject()) {
        info.processState = str(process["state"]);
        info.exitCode = int(process["exit_code"].toInteger(-1));
        info.exitSignal = str(process["exit_signal"]);
        info.nextStartAt = process["next_start_at"].toInteger(0);
    }
    info.connected =
        value["connected"].toBool(info.origin == QLatin1String("connected") && info.state != QLatin1String("offline"));
    info.logFile = str(value["log_file"]);
    if (value["definition"].isObject())
        info.definition = value["definition"].raw().toByteArray();
    return info;
}
