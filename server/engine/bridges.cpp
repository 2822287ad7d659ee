// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/engine/bridges.h"

#include "server/bridge/bettafishbridge.h"
#include "server/bridge/filefollower.h"
#include "server/bridge/logformats.h"
#include "server/engine/agentregistry.h"
#include "server/engine/ingest.h"
#include "server/engine/viewerfeed.h"
#include "server/engine/wire.h"
#include "server/protocol/agentdefinition.h"
#include "server/protocol/json.h"
#include "server/protocol/protocol.h"

#include <QDir>
#include <QFile>
#include <QSaveFile>

using namespace Protocol;

namespace {

constexpr QByteArrayView ControlCommands =
    R"([{"name":"start","help":"start reading again"},{"name":"stop","help":"stop reading"},)"
    R"({"name":"restart","help":"stop, then start reading again"}])";
constexpr QByteArrayView BettaFishCommands =
    R"([{"name":"start","help":"start the app in BettaFish"},{"name":"stop","help":"stop the app in BettaFish"},)"
    R"({"name":"restart","help":"stop the app in BettaFish, then start it"}])";

const char* const BettaFishNames[] = {"Insight Engine", "Media Engine", "Query Engine", "Forum Engine"};

/// Where a bridged agent stands in what it reads, as kept between runs, and what it reads
/// (a followed file's path, a bridge's address): a state kept for something else is not used.
struct SavedState
{
    QString source;
    BettaFishBridge::AppState at;
    bool operator==(const SavedState& o) const { return source == o.source && at == o.at; }
};

QByteArray hex(quint64 value)
{
    return QByteArray::number(value, 16);
}

quint64 fromHex(Json::Value value)
{
    return value.toUtf8().toULongLong(nullptr, 16);
}

SavedState readState(const QString& path, const QString& source)
{
    SavedState state;
    state.source = source;
    QFile file(path);
    if (path.isEmpty() || !file.open(QIODevice::ReadOnly))
        return state;
    Json::Document doc;
    if (!doc.parse(file.readAll()) || doc.root()["source"].toString() != source)
        return state;
    const Json::Value root = doc.root();
    BettaFishBridge::AppState& at = state.at;
    at.file.device = quint64(root["device"].toInteger(0));
    at.file.inode = quint64(root["inode"].toInteger(0));
    at.file.offset = root["offset"].toInteger(0);
    at.file.fingerprint = fromHex(root["fingerprint"]);
    at.linesRead = root["lines_read"].toInteger(0);
    at.lastLineHash = fromHex(root["last_line_hash"]);
    at.firstLineHash = fromHex(root["first_line_hash"]);
    for (const Json::Value hash : root["live_ahead"].items())
        at.liveAhead.push_back(fromHex(hash));
    at.known = true;
    return state;
}

bool writeState(const QString& path, const SavedState& state)
{
    if (path.isEmpty())
        return false;
    const BettaFishBridge::AppState& at = state.at;
    QByteArray json;
    Json::Writer w(&json);
    w.beginObject().key("source").string(state.source);
    w.key("device").integer(qint64(at.file.device)).key("inode").integer(qint64(at.file.inode));
    w.key("offset").integer(at.file.offset).key("fingerprint").string(hex(at.file.fingerprint));
    w.key("lines_read").integer(at.linesRead).key("last_line_hash").string(hex(at.lastLineHash));
    w.key("first_line_hash").string(hex(at.firstLineHash)).key("live_ahead").beginArray();
    for (const quint64 hash : at.liveAhead)
        w.string(hex(hash));
    w.endArray().endObject();
    json += '\n';
    QSaveFile file(path);
    file.setDirectWriteFallback(false);
    return file.open(QIODevice::WriteOnly) && file.write(json) == json.size() && file.commit();
}

} // namespace

struct Bridges::Followed
{
    QByteArray id;
    AgentDefinition::Follow definition;
    std::unique_ptr<FileFollower> follower;
    std::unique_ptr<LogFormats::LineReader> reader;
    SavedState saved;
    bool stopped = false;
};

struct Bridges::BettaFish final : BettaFishBridge::Sink
{
    Bridges* owner = nullptr;
    BridgeSpec spec;
    std::array<QByteArray, 4> ids;
    std::array<SavedState, 4> saved;
    QString source(int app) const
    {
        return spec.url + QLatin1Char('#') + QLatin1String(BettaFishBridge::Apps[size_t(app)]);
    }
    std::unique_ptr<BettaFishBridge> bridge;

    Agent* agent(int app) const { return owner->m_registry.find(ids[size_t(app)]); }

    void bridgedEntry(int app, const LogFormats::Entry& e) override
    {
        Agent* a = agent(app);
        if (!a)
            return;
        owner->m_ingest.bridgedLine(*a, e.ts, e.level, e.source, e.text);
        if (e.forum) {
            owner->m_ingest.bridgedForum(*a, e.ts, e.forum->sender, e.forum->role, e.forum->source, e.forum->text,
                                         e.forum->startsConversation);
        }
    }
    void bridgedState(int app, QByteArrayView state, const QString& text) override
    {
        if (Agent* a = agent(app))
            owner->setState(*a, state, text);
    }
    void bridgedNote(int app, const QString& note, bool problem) override
    {
        if (Agent* a = agent(app))
            owner->m_ingest.hostLine(*a, problem ? LogLevel::Warning : LogLevel::Info, note.toUtf8());
    }
    void bridgedBatchDone() override { owner->m_feed.schedulePump(); }
};

Bridges::Bridges(const HostConfig& config, AgentRegistry& registry, ViewerFeed& feed, Ingest& ingest, QObject* context)
    : m_config(config)
    , m_registry(registry)
    , m_feed(feed)
    , m_ingest(ingest)
    , m_context(context)
{ }

Bridges::~Bridges() = default;

QString Bridges::statePath(const QByteArray& id) const
{
    if (m_config.logDirectory.isEmpty())
        return {};
    return QDir(m_config.logDirectory).filePath(QString::fromUtf8(id) + QStringLiteral(".follow"));
}

void Bridges::startConfigured()
{
    for (const AgentDefinition& definition : m_config.agents) {
        if (definition.follow)
            follow(definition);
    }
    for (const BridgeSpec& spec : m_config.bridges) {
        QString error;
        if (!addBridge(spec, &error)) {
            for (const int app : {0, 1, 2, 3}) {
                if (Agent* agent = m_registry.find(QByteArray(spec.prefix + BettaFishBridge::Apps[size_t(app)])))
                    m_ingest.hostLine(*agent, LogLevel::Error, error.toUtf8());
            }
        }
    }
}

Agent* Bridges::ensureAgent(const QByteArray& id, const QString& name, QByteArrayView commandsJson)
{
    bool created = false;
    Agent* agent = m_registry.ensure(id, &created);
    agent->origin = Agent::Origin::Bridged;
    agent->removing = false;
    agent->name = name;
    agent->commandsJson = commandsJson.toByteArray();
    if (created)
        m_feed.coverNewAgent(agent);
    m_feed.broadcastAgentEvent(agent->id, m_registry.agentEvent(*agent, created ? "added" : "changed"));
    return agent;
}

void Bridges::setState(Agent& agent, QByteArrayView state, const QString& text)
{
    QByteArray status;
    Json::Writer w(&status);
    w.beginObject().key("state").string(state);
    if (!text.isEmpty())
        w.key("text").string(text);
    w.key("ts").integer(nowMs()).endObject();
    if (agent.state == state && agent.statusJson == status)
        return;
    agent.state = state.toByteArray();
    agent.statusJson = status;
    m_feed.broadcastAgentEvent(agent.id, m_registry.agentEvent(agent, "changed"));
}

// ---------------------------------------------------------------------------
// Followed files

Agent* Bridges::follow(const AgentDefinition& definition)
{
    Agent* agent = ensureAgent(
        definition.id, definition.name.isEmpty() ? QString::fromUtf8(definition.id) : definition.name, ControlCommands);
    auto& slot = m_followed[definition.id];
    auto followed = std::make_unique<Followed>();
    followed->id = definition.id;
    followed->definition = *definition.follow;
    // The same file again (a new name, another history size) goes on where it is.
    if (slot && slot->definition.path == definition.follow->path) {
        followed->saved = slot->saved;
        if (slot->follower && !slot->stopped)
            followed->saved.at.file = slot->follower->position();
    } else {
        followed->saved = readState(statePath(definition.id), definition.follow->path);
    }
    if (slot && slot->follower)
        slot->follower->stop();
    slot = std::move(followed);
    startFollowing(*slot);
    return agent;
}

void Bridges::startFollowing(Followed& followed)
{
    const auto format = LogFormats::formatNamed(followed.definition.format);
    followed.reader = std::make_unique<LogFormats::LineReader>(format.value_or(LogFormats::Format::Plain));
    const QByteArray id = followed.id;
    FileFollower::Callbacks callbacks;
    callbacks.line = [this, id, reader = followed.reader.get()](QByteArrayView line) {
        Agent* agent = m_registry.find(id);
        if (!agent)
            return;
        const LogFormats::Entry e = reader->read(line, nowMs());
        m_ingest.bridgedLine(*agent, e.ts, e.level, e.source, e.text);
        if (e.forum) {
            m_ingest.bridgedForum(*agent, e.ts, e.forum->sender, e.forum->role, e.forum->source, e.forum->text,
                                  e.forum->startsConversation);
        }
    };
    callbacks.partial = [this, id](QByteArrayView text) {
        if (Agent* agent = m_registry.find(id))
            m_ingest.capturedPartial(*agent, Protocol::Stream::Stdout, nowMs(), text);
    };
    callbacks.note = [this, id, path = followed.definition.path](const QString& note, bool problem) {
        Agent* agent = m_registry.find(id);
        if (!agent)
            return;
        m_ingest.hostLine(*agent, problem ? LogLevel::Warning : LogLevel::Info, note.toUtf8());
        const auto found = m_followed.find(id);
        const bool open = found != m_followed.end() && found->second->follower && found->second->follower->isOpen();
        setState(*agent, open ? "running" : "idle", open ? QStringLiteral("following %1").arg(path) : note);
    };
    callbacks.batchDone = [this] {
        m_feed.schedulePump();
    };
    followed.follower = std::make_unique<FileFollower>(followed.definition.path, m_config.maxLineBytes,
                                                       std::move(callbacks), m_context);
    followed.stopped = false;
    followed.follower->start(followed.saved.at.file, followed.definition.historyLines);
    if (Agent* agent = m_registry.find(id)) {
        const bool open = followed.follower->isOpen();
        setState(*agent, open ? "running" : "idle",
                 open ? QStringLiteral("following %1").arg(followed.definition.path)
                      : QStringLiteral("waiting for %1").arg(followed.definition.path));
    }
}

bool Bridges::isFollowed(const Agent& agent) const
{
    return m_followed.count(agent.id) > 0;
}

// ---------------------------------------------------------------------------
// BettaFish

bool Bridges::addBridge(const BridgeSpec& spec, QString* error)
{
    auto b = std::make_unique<BettaFish>();
    b->owner = this;
    b->spec = spec;
    for (int app = 0; app < 4; ++app) {
        const QByteArray id = spec.prefix + BettaFishBridge::Apps[size_t(app)];
        const Agent* existing = m_registry.find(id);
        if (existing && (existing->supervisor || existing->connection || m_followed.count(id))) {
            *error = QStringLiteral("the bridge to %1 cannot show its app as \"%2\": another agent has that id; "
                                    "give the bridge a \"prefix\"")
                         .arg(spec.url, QString::fromUtf8(id));
            return false;
        }
        b->ids[size_t(app)] = id;
    }
    std::array<BettaFishBridge::AppState, 4> resume;
    for (int app = 0; app < 4; ++app) {
        const QByteArray& id = b->ids[size_t(app)];
        ensureAgent(id, QString::fromLatin1(BettaFishNames[app]), BettaFishCommands);
        b->saved[size_t(app)] = readState(statePath(id), b->source(app));
        resume[size_t(app)] = b->saved[size_t(app)].at;
    }
    BettaFishBridge::Options options;
    options.url = QUrl(spec.url);
    options.logsDir = spec.logsDir;
    options.maxLineBytes = m_config.maxLineBytes;
    options.historyLines = spec.historyLines;
    b->bridge = std::make_unique<BettaFishBridge>(options, b.get(), m_context);
    BettaFishBridge* bridge = b->bridge.get();
    m_bettafish.push_back(std::move(b));
    bridge->start(resume);
    return true;
}

// ---------------------------------------------------------------------------
// Both

void Bridges::forget(Agent& agent)
{
    const auto found = m_followed.find(agent.id);
    if (found != m_followed.end()) {
        if (found->second->follower)
            found->second->follower->stop();
        m_followed.erase(found);
        // An agent added again later with this id starts afresh.
        if (!m_config.logDirectory.isEmpty())
            QFile::remove(statePath(agent.id));
    }
}

void Bridges::saveStates()
{
    if (m_config.logDirectory.isEmpty())
        return;
    for (auto& [id, followed] : m_followed) {
        if (followed->follower && !followed->stopped)
            saveFollowed(*followed);
    }
    for (auto& b : m_bettafish) {
        for (int app = 0; app < 4; ++app) {
            SavedState now = b->saved[size_t(app)];
            now.at = b->bridge->state(app);
            // A file missing for a moment (deleted before it is made anew) keeps its place.
            if (now.at.file.isNull())
                now.at.file = b->saved[size_t(app)].at.file;
            if (now == b->saved[size_t(app)])
                continue;
            if (writeState(statePath(b->ids[size_t(app)]), now))
                b->saved[size_t(app)] = now;
        }
    }
}

void Bridges::saveFollowed(Followed& followed, bool always)
{
    SavedState now = followed.saved;
    const FileFollower::Position position = followed.follower->position();
    if (!position.isNull())
        now.at.file = position;
    if ((!always && now == followed.saved) || now.at.file.isNull())
        return;
    if (writeState(statePath(followed.id), now))
        followed.saved = now;
}

void Bridges::shutdown()
{
    saveStates();
    for (auto& [id, followed] : m_followed) {
        if (followed->follower)
            followed->follower->stop();
    }
    for (auto& b : m_bettafish)
        b->bridge->stop();
}

void Bridges::run(Agent& agent, QByteArrayView name, Json::Value args, CommandRouter::Builtins::Done done)
{
    Q_UNUSED(args);
    const bool control = name == "start" || name == "stop" || name == "restart";
    for (auto& b : m_bettafish) {
        for (int app = 0; app < 4; ++app) {
            if (b->ids[size_t(app)] != agent.id)
                continue;
            if (!control) {
                done(false, "a BettaFish app takes start, stop and restart only", ErrorCode::BadMessage);
                return;
            }
            b->bridge->control(app, name, [done](bool ok, const QByteArray& text) { done(ok, text, {}); });
            return;
        }
    }
    const auto found = m_followed.find(agent.id);
    if (found == m_followed.end()) {
        done(false, "the agent is not read from anywhere", ErrorCode::NotConnected);
        return;
    }
    Followed& followed = *found->second;
    if (!control) {
        done(false, "a followed file takes start, stop and restart only", ErrorCode::BadMessage);
        return;
    }
    if (name != "start" && !followed.stopped) {
        // Where it stopped is kept now, with what it read on disk.
        m_registry.flushFiles();
        saveFollowed(followed, true);
        followed.follower->stop();
        followed.stopped = true;
        setState(agent, "stopped", QStringLiteral("not reading %1").arg(followed.definition.path));
        if (name == "stop") {
            done(true, "stopped reading the file", {});
            return;
        }
    }
    if (!followed.stopped) {
        done(true, "already reading the file", {});
        return;
    }
    startFollowing(followed);
    done(true, "reading the file from where it stopped", {});
}
