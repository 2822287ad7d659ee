// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/engine/hostserver.h"

#include "server/engine/access.h"
#include "server/engine/agenteditor.h"
#include "server/engine/agentregistry.h"
#include "server/engine/bridges.h"
#include "server/engine/commandrouter.h"
#include "server/engine/connection.h"
#include "server/engine/gateway.h"
#include "server/engine/handshake.h"
#include "server/engine/history.h"
#include "server/engine/hostmetrics.h"
#include "server/engine/ingest.h"
#include "server/engine/launchedagents.h"
#include "server/engine/redactor.h"
#include "server/engine/tokens.h"
#include "server/engine/viewerfeed.h"
#include "server/protocol/json.h"
#include "server/protocol/protocol.h"
#include "server/protocol/secretfile.h"
#include "server/protocol/threads.h"

#include <QDir>
#include <QHostInfo>
#include <QRandomGenerator>
#include <QTimer>
#include <QWebSocket>
#include <algorithm>
#include <map>
#include <memory>
#include <utility>
#include <vector>

using namespace Protocol;

namespace {

constexpr int FileFlushIntervalMs = 250;

} // namespace

/*
 * The engine's parts, and what happens between them: HostServer keeps the
 * connections, dispatches each message to the part that owns its type, and
 * carries the reactions that cross parts (an agent going offline fails its
 * commands and tells the viewers; a removed agent leaves every part).
 */
struct HostServer::Private final
{
    HostServer* q;
    HostConfig config;
    Redactor redactor;
    HostMetricsSampler sampler;
    TokenTable tokens;
    QString token;
    QString tokenPath;
    bool tokenGenerated = false;
    QByteArray hostId;
    QByteArray hostJson;

    AgentRegistry registry;
    ViewerFeed feed;
    Ingest ingest;
    LaunchedAgents launched;
    Bridges bridges;
    /// The built-in commands go to the launcher or to the bridges, by who the agent is.
    struct BuiltinRoutes final : CommandRouter::Builtins
    {
        LaunchedAgents& launched;
        Bridges& bridges;
        BuiltinRoutes(LaunchedAgents& l, Bridges& b)
            : launched(l)
            , bridges(b)
        { }
        void run(Agent& agent, QByteArrayView name, Json::Value args, Done done) override
        {
            if (agent.supervisor)
                launched.run(agent, name, args, std::move(done));
            else
                bridges.run(agent, name, args, std::move(done));
        }
    } builtins;
    CommandRouter router;
    History history;
    AgentEditor editor;
    Gateway gateway;

    std::map<const void*, std::unique_ptr<Connection>> connections; // by socket or local viewer
    std::vector<std::unique_ptr<Connection>> graveyard;
    quint64 nextConnectionSerial = 1;
    Json::ReusedDocument doc; // parses every incoming message
    QTimer* housekeeping = nullptr;
    QTimer* metricsTimer = nullptr;
    QTimer* fileFlush = nullptr;

    Private(HostServer* owner, const HostConfig& c);

    bool resolveTokens(QString* error);
    void startTimers();

    // Connections
    void accept(QWebSocket* socket, QTcpSocket* tcp, bool overLimit);
    void watch(QWebSocket* socket);
    template <typename C>
    C* add(const void* key, std::unique_ptr<C> connection);
    Connection* find(const void* key) const;
    void onDisconnected(const void* key);
    /// Tells of peers dropped for not reading, at most once every few seconds.
    void reportDropped();
    int droppedSinceReport = 0;
    qint64 lastDropReportMs = 0;
    void onHousekeeping();
    void onMetricsTick();

    // Messages
    /// Which part takes each message type after the hello. Who may send it comes from
    /// Protocol::senderOf(), shared with the links.
    struct Route
    {
        MessageType type;
        void (*handle)(Private& d, Connection* c, Json::Value root, QByteArrayView ref);
    };
    static const Route routes[12];
    void onTextMessage(Connection* c, const QByteArray& utf8);
    void refuse(Connection* c, QByteArrayView code, const QString& text, QByteArrayView ref = {});
    void hello(Connection* c, Json::Value root);
    void welcomeViewer(Connection* c, AccessPtr access);
    void welcomeAgent(Connection* c, const QByteArray& id, Json::Value info);
    /// Whether a connection with this access may speak as the agent (not taking it
    /// over from a stronger claim); why not in *why.
    bool mayClaim(const Agent& agent, const Access& access, QString* why) const;
    /// Whether an agent with this id may join, forgetting the agent offline longest if need be.
    bool makeRoomForAgent(const QByteArray& id);

    // Between the parts
    void agentWentOffline(Agent* agent);
    void removeAgent(const QByteArray& id);
};

HostServer::Private::Private(HostServer* owner, const HostConfig& c)
    : q(owner)
    , config(c)
    , registry(config, redactor, [owner](const QString& message) { Q_EMIT owner->warning(message); })
    , feed(config, registry, owner)
    , ingest(config, registry, feed, redactor, owner)
    , launched(config, registry, feed, ingest, tokens)
    , bridges(config, registry, feed, ingest, owner)
    , builtins(launched, bridges)
    , router(config, registry, feed, builtins, redactor)
    , history(registry, config.viewerBacklogBytes)
    , editor(
          config, registry, launched, bridges, owner, [this](const QByteArray& id) { removeAgent(id); },
          [this](quint64 serial) -> Connection* {
              for (auto& entry : connections) {
                  if (entry.second->serial == serial && !entry.second->closing)
                      return entry.second.get();
              }
              return nullptr;
          })
    , gateway(config, owner,
              [this](QWebSocket* socket, QTcpSocket* tcp, bool overLimit) { accept(socket, tcp, overLimit); })
{
    // "state/../logs" must not need "state" to exist.
    if (!config.logDirectory.isEmpty())
        config.logDirectory = QDir::cleanPath(config.logDirectory);
}

// ---------------------------------------------------------------------------
// Setup

HostServer::HostServer(const HostConfig& config, QObject* parent)
    : LocalEndpoint(parent)
    , d(std::make_unique<Private>(this, config))
{
    QString error;
    if (!d->redactor.configure(config.redactDefaults, config.redactPatterns, &error))
        Q_EMIT warning(error);
    d->hostId = QByteArray::number(QRandomGenerator::system()->generate64(), 16).rightJustified(16, '0');
    // Parented, so that moving the server to another thread moves its timers too.
    d->housekeeping = new QTimer(this);
    d->metricsTimer = new QTimer(this);
    d->fileFlush = new QTimer(this);
    connect(d->housekeeping, &QTimer::timeout, this, [this] { d->onHousekeeping(); });
    connect(d->metricsTimer, &QTimer::timeout, this, [this] { d->onMetricsTick(); });
    connect(d->fileFlush, &QTimer::timeout, this, [this] {
        d->registry.flushFiles();
        // Where the bridges stand, once what they read is on disk.
        d->bridges.saveStates();
    });
}

HostServer::~HostServer()
{
    stop();
    // The supervisors go while every part they report to is still there.
    d->registry.clear();
}

bool HostServer::Private::resolveTokens(QString* error)
{
    tokens = {};
    token = config.token;
    if (token.isEmpty() && !config.tokenFile.isEmpty()) {
        QByteArray secret;
        if (!SecretFile::read(config.tokenFile, &secret, error))
            return false;
        token = QString::fromUtf8(secret);
    }
    QString agentToken = config.agentToken.isEmpty() ? token : config.agentToken;
    QString viewerToken = config.viewerToken.isEmpty() ? token : config.viewerToken;
    // A generated token stands in for what is not configured, unless a token list is.
    if ((agentToken.isEmpty() || viewerToken.isEmpty()) && config.tokens.empty()) {
        tokenPath = Tokens::defaultTokenPath();
        const QString generated = Tokens::loadOrCreate(tokenPath, &tokenGenerated, error);
        if (generated.isEmpty())
            return false;
        for (QString* t : {&token, &agentToken, &viewerToken}) {
            if (t->isEmpty())
                *t = generated;
        }
    }
    // The single tokens keep their powers: a shared agent token, an admin viewer token.
    QList<QByteArray> configured;
    const auto legacy = [this, &configured](const QString& secret, const char* name, Access::Role role) {
        configured.append(secret.toUtf8());
        auto access = std::make_shared<Access>();
        access->name = QString::fromLatin1(name);
        access->role = role;
        access->shared = true;
        tokens.add(secret.toUtf8(), std::move(access));
    };
    if (!agentToken.isEmpty() && agentToken == viewerToken) {
        legacy(agentToken, "token", Access::Role::Any);
    } else {
        if (!agentToken.isEmpty())
            legacy(agentToken, "agent_token", Access::Role::Agent);
        if (!viewerToken.isEmpty())
            legacy(viewerToken, "viewer_token", Access::Role::Admin);
    }
    for (const TokenSpec& spec : config.tokens) {
        QByteArray secret = spec.secret.toUtf8();
        if (!spec.secretFile.isEmpty() && !SecretFile::read(spec.secretFile, &secret, error))
            return false;
        configured.append(secret);
        auto access = std::make_shared<Access>();
        access->name = spec.name;
        Access::parseRole(spec.role.toUtf8(), &access->role);
        access->shared = spec.shared;
        AgentScope::parse(spec.agents, &access->agents, nullptr);
        if (!tokens.add(secret, std::move(access))) {
            if (error)
                *error = QStringLiteral("token \"%1\" has the same secret as another token").arg(spec.name);
            return false;
        }
    }
    ingest.setHostSecrets(configured);
    // Agents launched before a restart of the engine keep the tokens their processes have.
    for (const auto& entry : registry.all()) {
        if (entry.second->ownAccess)
            tokens.add(entry.second->ownToken, entry.second->ownAccess);
    }
    return true;
}

void HostServer::setPort(int port)
{
    d->config.port = port;
}

bool HostServer::start(QString* error)
{
    AGENTDECK_CHECK_THREAD(this);
    if (d->gateway.isListening())
        return true;
    QString problem;
    if (!d->redactor.configure(d->config.redactDefaults, d->config.redactPatterns, &problem)) {
        if (error)
            *error = problem;
        return false;
    }
    // Connections and log files share the process's file handles; the rest is left for
    // launched agents' pipes and the host's own files.
    const int handles = Gateway::raiseFileLimit();
    const int spare = std::max(16, handles - 64);
    const int maxConnections =
        d->config.maxConnections > 0 ? d->config.maxConnections : std::clamp(spare / 2, 16, 16384);
    d->registry.setOpenFileLimit(std::min(d->config.maxOpenLogFiles, std::max(8, spare / 4)));
    if (!d->resolveTokens(error) || !d->gateway.listen(maxConnections, error))
        return false;
    d->hostId = d->registry.loadOrCreateHostId(d->hostId);
    const QString name = d->config.hostName.isEmpty() ? QHostInfo::localHostName() : d->config.hostName;
    QByteArray host;
    Json::Writer w(&host);
    w.beginObject().key("id").string(d->hostId).key("name").string(name).key("version").string(AGENTDECK_VERSION);
    w.endObject();
    d->hostJson = host;
    d->startTimers();
    d->launched.setEndpoint(url());
    for (const AgentDefinition& definition : d->config.agents) {
        if (!definition.follow)
            d->launched.launch(definition);
    }
    d->bridges.startConfigured();
    return true;
}

void HostServer::Private::startTimers()
{
    const int shortest = std::min({config.helloTimeoutMs, config.pingIntervalMs, config.idleTimeoutMs,
                                   config.closeGraceMs, config.commandTimeoutMs, config.upgradeTimeoutMs});
    housekeeping->start(std::clamp(shortest / 4, 10, 1000));
    metricsTimer->start(config.metricsIntervalMs);
    fileFlush->start(FileFlushIntervalMs);
}

void HostServer::stop()
{
    AGENTDECK_CHECK_THREAD(this);
    d->launched.shutdown();
    d->housekeeping->stop();
    d->metricsTimer->stop();
    d->fileFlush->stop();
    d->registry.flushFiles();
    d->bridges.shutdown();
    std::vector<const void*> keys;
    for (auto& entry : d->connections)
        keys.push_back(entry.first);
    for (const void* key : keys) {
        if (Connection* c = d->find(key)) {
            c->close(CloseNormal, QStringLiteral("host shutting down"));
            c->abort();
        }
    }
    d->gateway.close();
    // Connections not yet disconnected by abort() are released here.
    for (auto& entry : d->connections) {
        Connection* c = entry.second.get();
        d->feed.removeViewer(c);
        if (c->agent && c->agent->connection == c)
            c->agent->connection = nullptr;
    }
    d->connections.clear();
    d->router.clear();
    d->graveyard.clear();
}

bool HostServer::isListening() const
{
    return d->gateway.isListening();
}

quint16 HostServer::port() const
{
    return d->gateway.port();
}

QUrl HostServer::url() const
{
    return d->gateway.url();
}

QString HostServer::token() const
{
    return d->token;
}

QString HostServer::tokenPath() const
{
    return d->tokenPath;
}

bool HostServer::tokenWasGenerated() const
{
    return d->tokenGenerated;
}

QByteArray HostServer::hostId() const
{
    return d->hostId;
}

bool HostServer::addBridge(const BridgeSpec& spec, QString* error)
{
    AGENTDECK_CHECK_THREAD(this);
    const auto fail = [error](const QString& why) {
        if (error)
            *error = why;
        return false;
    };
    if (!Protocol::isValidAgentId(QByteArray(spec.prefix + "forum")))
        return fail(QStringLiteral("the prefix \"%1\" cannot begin agent ids: use letters, digits, '_', '.' or '-'")
                        .arg(QString::fromUtf8(spec.prefix)));
    for (const BridgeSpec& other : d->config.bridges) {
        if (other.prefix == spec.prefix)
            return fail(QStringLiteral("the bridge to %1 already has the prefix \"%2\"")
                            .arg(other.url, QString::fromUtf8(spec.prefix)));
    }
    std::vector<BridgeSpec> bridges = d->config.bridges;
    bridges.push_back(spec);
    QString why;
    if (!d->config.configPath.isEmpty() && !saveBridges(d->config.configPath, bridges, &why))
        return fail(why);
    const std::vector<BridgeSpec> before = std::exchange(d->config.bridges, std::move(bridges));
    // Before start() the configured bridges start with the others.
    if (!isListening() || d->bridges.addBridge(spec, &why))
        return true;
    d->config.bridges = before;
    if (!d->config.configPath.isEmpty()) {
        QString undo;
        if (!saveBridges(d->config.configPath, before, &undo))
            why += QStringLiteral("; and the configuration file kept it: %1").arg(undo);
    }
    return fail(why);
}

int HostServer::agentCount() const
{
    return d->registry.connectedCount();
}

int HostServer::viewerCount() const
{
    return d->feed.viewerCount();
}

quint64 HostServer::linesIngested() const
{
    return d->registry.linesIngested();
}

// ---------------------------------------------------------------------------
// Connections

void HostServer::attachLocalViewer(LocalViewer* viewer)
{
    AGENTDECK_CHECK_THREAD(this);
    auto connection =
        std::make_unique<LocalConnection>(viewer, [this](LocalConnection* c) { d->onDisconnected(c->viewer()); });
    d->welcomeViewer(d->add(viewer, std::move(connection)), Access::local());
}

void HostServer::receiveFromLocalViewer(LocalViewer* viewer, const QByteArray& json)
{
    AGENTDECK_CHECK_THREAD(this);
    if (Connection* c = d->find(viewer))
        d->onTextMessage(c, json);
}

void HostServer::localViewerDrained(LocalViewer* viewer)
{
    AGENTDECK_CHECK_THREAD(this);
    if (Connection* c = d->find(viewer))
        d->feed.drain(c);
}

void HostServer::detachLocalViewer(LocalViewer* viewer)
{
    AGENTDECK_CHECK_THREAD(this);
    d->onDisconnected(viewer);
}

template <typename C>
C* HostServer::Private::add(const void* key, std::unique_ptr<C> connection)
{
    C* c = connection.get();
    c->serial = nextConnectionSerial++;
    c->abuseLimit = {config.abuseLimit, config.abuseWindowMs};
    connections.emplace(key, std::move(connection));
    return c;
}

Connection* HostServer::Private::find(const void* key) const
{
    const auto it = connections.find(key);
    return it == connections.end() ? nullptr : it->second.get();
}

void HostServer::Private::accept(QWebSocket* socket, QTcpSocket* tcp, bool overLimit)
{
    Connection* c = add(socket, std::make_unique<SocketConnection>(socket));
    c->queueBudget = config.maxQueuedBytes;
    // Pings are answered inside QWebSocket, unseen: what a peer that sends and never
    // reads leaves queued is checked at each read.
    if (tcp) {
        QObject::connect(tcp, &QIODevice::readyRead, q, [this, socket] {
            if (Connection* found = find(socket))
                found->dropIfOverBudget();
        });
    }
    socket->setMaxAllowedIncomingMessageSize(quint64(config.maxMessageBytes));
    socket->setMaxAllowedIncomingFrameSize(quint64(config.maxMessageBytes));
    // Read at most about one message ahead: an agent that sends faster than the host
    // takes in is slowed by TCP, and one busy socket cannot hold the loop for long.
    // QWebSocket needs a whole frame in the buffer, so it must fit the largest one.
    socket->setReadBufferSize(std::max<qint64>(config.maxMessageBytes, 1024 * 1024) + 64 * 1024);
    watch(socket);
    if (overLimit)
        c->close(CloseTryAgainLater, QStringLiteral("too many connections"));
}

void HostServer::Private::watch(QWebSocket* socket)
{
    QObject::connect(socket, &QWebSocket::textMessageReceived, q, [this, socket](const QString& message) {
        if (Connection* c = find(socket))
            onTextMessage(c, message.toUtf8());
    });
    QObject::connect(socket, &QWebSocket::binaryMessageReceived, q, [this, socket](const QByteArray&) {
        Connection* c = find(socket);
        if (c && !c->closing) {
            c->lastActivityMs = nowMs();
            c->close(CloseUnsupportedData, QStringLiteral("binary frames are not accepted"));
        }
    });
    QObject::connect(socket, &QWebSocket::pong, q, [this, socket](quint64, const QByteArray& payload) {
        if (Connection* c = find(socket))
            static_cast<SocketConnection*>(c)->ponged(payload);
    });
    QObject::connect(socket, &QWebSocket::bytesWritten, q, [this, socket](qint64) {
        Connection* c = find(socket);
        if (c && c->role == Connection::Role::Viewer)
            feed.drain(c);
    });
    QObject::connect(socket, &QWebSocket::disconnected, q, [this, socket] { onDisconnected(socket); });
}

void HostServer::Private::onDisconnected(const void* key)
{
    auto it = connections.find(key);
    if (it == connections.end())
        return;
    std::unique_ptr<Connection> c = std::move(it->second);
    connections.erase(it);
    c->closing = true;
    if (c->droppedOverBudget)
        reportDropped();
    feed.removeViewer(c.get());
    if (c->role == Connection::Role::Agent && c->agent && c->agent->connection == c.get())
        agentWentOffline(c->agent);
    router.forgetViewer(c.get());
    // The connection may be on the stack of a handler that closed it; free it later.
    graveyard.push_back(std::move(c));
    QMetaObject::invokeMethod(
        q, [this] { graveyard.clear(); }, Qt::QueuedConnection);
}

void HostServer::Private::reportDropped()
{
    ++droppedSinceReport;
    const qint64 now = nowMs();
    if (now - lastDropReportMs < 10000)
        return;
    Q_EMIT q->warning(QStringLiteral("dropped %1 connection(s) that did not read what was sent to them "
                                     "(over limits.max_queued_bytes, %2 bytes)")
                          .arg(droppedSinceReport)
                          .arg(config.maxQueuedBytes));
    droppedSinceReport = 0;
    lastDropReportMs = now;
}

void HostServer::Private::onHousekeeping()
{
    const qint64 now = nowMs();
    const Connection::Timeouts timeouts{config.helloTimeoutMs, config.idleTimeoutMs, config.pingIntervalMs,
                                        config.closeGraceMs};
    std::vector<Connection*> all;
    all.reserve(connections.size());
    for (auto& entry : connections)
        all.push_back(entry.second.get());
    for (Connection* c : all)
        c->keepAlive(now, timeouts);
    gateway.expireUpgrades(now);
    router.expire(now);
}

void HostServer::Private::onMetricsTick()
{
    const HostMetrics m = sampler.sample();
    QByteArray json;
    Json::Writer w(&json);
    w.beginObject().key("type").string("host_metrics").key("ts").integer(m.ts).key("values").raw(m.valuesJson());
    w.endObject();
    feed.broadcastToViewers(json, true);
    launched.sample(m.ts);
    Q_EMIT q->statsChanged(q->agentCount(), q->viewerCount(), registry.linesIngested());
}

// ---------------------------------------------------------------------------
// Messages

const HostServer::Private::Route HostServer::Private::routes[12] = {
    {MessageType::Log, [](Private& d, Connection* c, Json::Value r, QByteArrayView ref) { d.ingest.log(c, r, ref); }},
    {MessageType::Forum,
     [](Private& d, Connection* c, Json::Value r, QByteArrayView ref) { d.ingest.forum(c, r, ref); }},
    {MessageType::Metrics,
     [](Private& d, Connection* c, Json::Value r, QByteArrayView ref) { d.ingest.metrics(c, r, ref); }},
    {MessageType::Status,
     [](Private& d, Connection* c, Json::Value r, QByteArrayView ref) { d.ingest.status(c, r, ref); }},
    {MessageType::Ask, [](Private& d, Connection* c, Json::Value r, QByteArrayView ref) { d.ingest.ask(c, r, ref); }},
    {MessageType::Result, [](Private& d, Connection* c, Json::Value r, QByteArrayView) { d.router.result(c, r); }},
    {MessageType::Subscribe,
     [](Private& d, Connection* c, Json::Value r, QByteArrayView ref) { d.feed.subscribe(c, r, ref); }},
    {MessageType::Unsubscribe,
     [](Private& d, Connection* c, Json::Value r, QByteArrayView ref) { d.feed.unsubscribe(c, r, ref); }},
    {MessageType::Command, [](Private& d, Connection* c, Json::Value r, QByteArrayView) { d.router.command(c, r); }},
    {MessageType::History,
     [](Private& d, Connection* c, Json::Value r, QByteArrayView ref) { d.history.request(c, r, ref); }},
    {MessageType::DefineAgent,
     [](Private& d, Connection* c, Json::Value r, QByteArrayView ref) { d.editor.define(c, r, ref); }},
    {MessageType::RemoveAgent,
     [](Private& d, Connection* c, Json::Value r, QByteArrayView ref) { d.editor.remove(c, r, ref); }},
};

void HostServer::Private::onTextMessage(Connection* c, const QByteArray& utf8)
{
    if (c->closing)
        return;
    c->lastActivityMs = nowMs();
    const Json::ReusedDocument::Lease parsed(doc);
    QString parseError;
    if (!parsed->parse(utf8, &parseError)) {
        refuse(c, ErrorCode::BadMessage,
               QStringLiteral("not JSON: %1 at byte %2").arg(parseError).arg(parsed->errorOffset()));
        return;
    }
    const Json::Value root = parsed->root();
    const Json::Value typeValue = root["type"];
    if (!root.isObject() || !typeValue.isString()) {
        refuse(c, ErrorCode::BadMessage, QStringLiteral("a message must be a JSON object with a string \"type\""));
        return;
    }
    const MessageType type = parseMessageType(typeValue.toUtf8());
    const Json::Value id = root["id"];
    const QByteArrayView ref = id.isString() || id.isNumber() ? id.raw() : QByteArrayView();
    if (c->role == Connection::Role::None) {
        if (type != MessageType::Hello)
            refuse(c, ErrorCode::BadMessage, QStringLiteral("the first message must be hello"), ref);
        else
            hello(c, root);
        return;
    }
    if (type == MessageType::Hello) {
        c->sendError(ErrorCode::BadMessage, QStringLiteral("hello was already received on this connection"), ref);
        return;
    }
    const Sender sender = senderOf(type);
    if (sender != Sender::Agent && sender != Sender::Viewer) {
        c->sendError(ErrorCode::BadMessage, QStringLiteral("unknown message type \"%1\"").arg(typeValue.toString()),
                     ref);
        return;
    }
    const Connection::Role needed = sender == Sender::Agent ? Connection::Role::Agent : Connection::Role::Viewer;
    if (c->role != needed) {
        c->sendError(
            ErrorCode::Forbidden,
            QStringLiteral("%1 may not send \"%2\"")
                .arg(c->role == Connection::Role::Agent ? QStringLiteral("an agent") : QStringLiteral("a viewer"),
                     typeValue.toString()),
            ref);
        return;
    }
    const auto route =
        std::find_if(std::begin(routes), std::end(routes), [type](const Route& r) { return r.type == type; });
    if (route != std::end(routes))
        route->handle(*this, c, root, ref);
}

void HostServer::Private::refuse(Connection* c, QByteArrayView code, const QString& text, QByteArrayView ref)
{
    // Before the hello, a bad message ends the connection.
    c->sendError(code, text, ref);
    if (c->role == Connection::Role::None)
        c->close(ClosePolicy, QStringLiteral("expected hello"));
}

void HostServer::Private::hello(Connection* c, Json::Value root)
{
    const Handshake::Outcome outcome = Handshake::check(root, c->transportToken(), tokens);
    switch (outcome.role) {
    case Connection::Role::None:
        c->sendError(outcome.errorCode, outcome.errorText);
        c->close(outcome.closeCode, outcome.closeReason);
        break;
    case Connection::Role::Viewer:
        welcomeViewer(c, outcome.access);
        break;
    case Connection::Role::Agent:
        c->access = outcome.access;
        welcomeAgent(c, outcome.agentId, root["agent"]);
        break;
    }
    if (c->role != Connection::Role::None && !c->closing) {
        if (auto* socketConnection = dynamic_cast<SocketConnection*>(c))
            gateway.trust(socketConnection->socket());
    }
}

void HostServer::Private::welcomeViewer(Connection* c, AccessPtr access)
{
    c->role = Connection::Role::Viewer;
    c->access = std::move(access);
    c->sub.scope = &c->access->agents;
    feed.addViewer(c);
    c->send("{\"type\":\"welcome\",\"protocol\":1,\"role\":\"viewer\",\"host\":" + hostJson
            + ",\"access\":" + c->access->viewerJson(config.allowAgentEditing) + '}');
    feed.sendSnapshot(c, hostJson);
}

bool HostServer::Private::makeRoomForAgent(const QByteArray& id)
{
    if (registry.find(id) || registry.size() < config.maxAgents)
        return true;
    // The agent offline longest is forgotten (its files stay on disk).
    if (const Agent* oldest = registry.longestOffline()) {
        const QByteArray forgotten = oldest->id; // a copy: the agent goes
        removeAgent(forgotten);
        return true;
    }
    return false;
}

void HostServer::Private::welcomeAgent(Connection* c, const QByteArray& id, Json::Value info)
{
    if (info.raw().size() > config.maxStatusBytes) {
        c->sendError(ErrorCode::BadMessage,
                     QStringLiteral("the hello's \"agent\" is %1 bytes, over the host's limit "
                                    "of %2")
                         .arg(info.raw().size())
                         .arg(config.maxStatusBytes));
        c->close(ClosePolicy, QStringLiteral("hello too large"));
        return;
    }
    QString why;
    if (const Agent* known = registry.find(id); known && !mayClaim(*known, *c->access, &why)) {
        c->sendError(ErrorCode::Forbidden, why);
        c->close(ClosePolicy, QStringLiteral("agent id in use"));
        return;
    }
    if (!makeRoomForAgent(id)) {
        c->sendError(ErrorCode::RateLimited,
                     QStringLiteral("the host already serves %1 agents, all connected").arg(config.maxAgents));
        c->close(CloseTryAgainLater, QStringLiteral("too many agents"));
        return;
    }
    bool created = false;
    Agent* agent = registry.ensure(id, &created);
    if (Connection* old = agent->connection) {
        agent->connection = nullptr;
        old->agent = nullptr;
        // The old connection's unfinished lines will never be completed.
        for (PartialLine& partial : agent->partial)
            partial.present = false;
        router.failCommandsOf(*agent, ErrorCode::Disconnected, "the agent's connection was replaced");
        old->close(CloseReplaced, QStringLiteral("replaced"));
    }
    c->role = Connection::Role::Agent;
    c->agent = agent;
    agent->connection = c;
    // Once a bound token has spoken as this id, shared tokens cannot have it, offline or not.
    agent->boundClaim = agent->boundClaim || c->access->bound();
    QByteArray scratch;
    if (!agent->supervisor || agent->supervisor->definition().name.isEmpty()) {
        agent->name = info["name"].isString() ? QString::fromUtf8(redactor.redacted(info["name"].toUtf8(), &scratch))
                                              : QString::fromLatin1(id);
    }
    agent->pid = info["pid"].isInteger() ? info["pid"].toInteger() : 0;
    agent->startedAt = nowMs();
    agent->state = "running";
    agent->statusJson.clear();
    agent->commandsJson = Handshake::commandsJson(info["commands"], redactor);

    QByteArray welcome;
    Json::Writer w(&welcome);
    w.beginObject()
        .key("type")
        .string("welcome")
        .key("protocol")
        .integer(Protocol::Version)
        .key("role")
        .string("agent");
    w.key("host").raw(hostJson);
    // A launched bot numbers its own lines apart from its captured output.
    w.key("resume_from").beginObject().key("log").integer(agent->supervisor ? agent->botLogSeq : agent->log.lastSeq());
    w.key("forum").integer(agent->forum.lastSeq()).endObject();
    w.endObject();
    c->send(welcome);

    if (created)
        feed.coverNewAgent(agent);
    feed.broadcastAgentEvent(agent->id, registry.agentEvent(*agent, created ? "added" : "changed"));
}

bool HostServer::Private::mayClaim(const Agent& agent, const Access& access, QString* why) const
{
    const QString id = QString::fromLatin1(agent.id);
    const Access* holder = agent.connection ? agent.connection->access.get() : nullptr;
    if (agent.ownAccess) {
        // A launched agent's id is its process's: its own token always gets it back.
        // The single token, which may run any program on the host anyway, may claim
        // it while nobody holds it (a bot that reads its token from elsewhere).
        if (&access == agent.ownAccess.get() || (access.role == Access::Role::Any && !holder))
            return true;
        *why = QStringLiteral("agent \"%1\" is launched by this host and connects with the token it was started "
                              "with (AGENTDECK_TOKEN)")
                   .arg(id);
        return false;
    }
    // A token bound to the id (its scope was checked in the hello) always may: that is
    // how an agent gets its id back from a connection the host has not seen die yet.
    if (access.bound())
        return true;
    if (agent.boundClaim) {
        *why = QStringLiteral("agent \"%1\" belongs to a token bound to it").arg(id);
        return false;
    }
    if (holder && holder != &access) {
        *why = QStringLiteral("agent \"%1\" is connected with another token").arg(id);
        return false;
    }
    return true;
}

// ---------------------------------------------------------------------------
// Between the parts

void HostServer::Private::agentWentOffline(Agent* agent)
{
    agent->disconnected();
    router.failCommandsOf(*agent, ErrorCode::Disconnected, "the agent disconnected before answering");
    feed.broadcastAgentEvent(agent->id, registry.agentEvent(*agent, "changed"));
}

void HostServer::Private::removeAgent(const QByteArray& id)
{
    Agent* agent = registry.find(id);
    if (!agent)
        return;
    router.failCommandsOf(*agent, ErrorCode::Disconnected, "the agent was removed", true);
    if (Connection* c = agent->connection) {
        c->agent = nullptr;
        agent->connection = nullptr;
        c->close(CloseNormal, QStringLiteral("agent removed"));
    }
    feed.forgetAgent(id);
    launched.forget(*agent);
    bridges.forget(*agent);
    registry.erase(id);
    feed.broadcastAgentEvent(id, AgentRegistry::removedEvent(id));
}
