// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/engine/hostserver.h"

#include "server/engine/hostmetrics.h"
#include "server/engine/redactor.h"
#include "server/engine/tokens.h"
#include "server/launcher/processmetrics.h"
#include "server/launcher/supervisor.h"
#include "server/protocol/json.h"
#include "server/protocol/protocol.h"
#include "server/store/forumstore.h"
#include "server/store/logfile.h"
#include "server/store/logstore.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QHash>
#include <QHostInfo>
#include <QPointer>
#include <QRandomGenerator>
#include <QSet>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslKey>
#include <QSslServer>
#include <QSslSocket>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>
#include <QUrlQuery>
#include <QWebSocket>
#include <QWebSocketCorsAuthenticator>
#include <QWebSocketServer>
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <vector>

using namespace Protocol;

namespace {

constexpr int MaxLinesPerMessage = 2000;
constexpr qsizetype MaxBytesPerMessage = 512 * 1024;
constexpr int PartialIntervalMs = 100;
constexpr int MaxDeferredEvents = 10000;
constexpr int MaxHistoryLines = 5000;
constexpr int FileFlushIntervalMs = 250;
/// Lines restored from an agent's log file into memory when the host starts.
constexpr int RestoredLines = 1000;
constexpr QByteArrayView HostSource = "agentdeck";

qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

enum class Role { None, Agent, Viewer };
enum class Origin { Connected, Launched, Bridged };

QByteArrayView originName(Origin origin)
{
    switch (origin) {
    case Origin::Launched:
        return "launched";
    case Origin::Bridged:
        return "bridged";
    case Origin::Connected:
        break;
    }
    return "connected";
}

struct Agent;
struct Connection;

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

struct OpenAsk
{
    QByteArray id;
    QByteArray json; // the ask as viewers see it (with agent and ts)
};

struct Agent
{
    QByteArray id;
    QString name;
    Origin origin = Origin::Connected;
    Connection* connection = nullptr;
    qint64 pid = 0;
    qint64 startedAt = 0;
    int restarts = 0;
    QByteArray commandsJson = "[]";
    QByteArray state = "running";
    QByteArray statusJson; // the last status object, without agent
    LogStore log;
    ForumStore forum;
    PartialLine partial[2];
    std::vector<OpenAsk> asks;
    double rateTokens = 0;
    qint64 rateRefillMs = 0;
    qint64 lastRateErrorMs = 0;
    // The lines of the last unfiltered log message built, shared by viewers at the same position.
    qint64 cacheFrom = 0;
    qint64 cacheTo = -1;
    QByteArray cacheLines;
    // Launched agents
    std::unique_ptr<ProcessSupervisor> supervisor;
    quint64 linesAtLastSample = 0;
    quint64 linesAppended = 0; // console lines stored, from the process and from the connection
    bool removing = false;
    qint64 botLogSeq = 0; // the highest number a launched bot gave its own log lines
    std::unique_ptr<LogFile> file;
    std::unique_ptr<LogFile> forumFile;

    void flushFiles()
    {
        if (file)
            file->flush();
        if (forumFile)
            forumFile->flush();
    }
};

/// Where a viewer stands in one agent's streams.
struct Cursor
{
    Agent* agent = nullptr;
    qint64 log = 0; // last log number delivered or skipped
    qint64 forum = 0;
    qint64 logTarget = 0; // replay ends here
    qint64 forumTarget = 0;
    quint64 partialSent[2] = {0, 0};
    // The first eviction gap after a subscribe is "evicted", later ones "slow_consumer".
    bool freshLog = true;
    bool freshForum = true;
};

struct Subscription
{
    bool active = false;
    bool all = false;
    QSet<QByteArray> named;
    QSet<QByteArray> excluded; // unsubscribed after "*"
    QByteArray agentsJson = "[]";
    quint8 levelMask = 0; // bit per LogLevel; 0: every level
    QList<QByteArray> sources; // prefixes; empty: every line
    qint64 history = 1000;
    QHash<QByteArray, std::pair<qint64, qint64>> since;

    bool covers(const QByteArray& agentId) const
    {
        if (!active)
            return false;
        return all ? !excluded.contains(agentId) : named.contains(agentId);
    }
    bool filtersLines() const { return levelMask != 0 || !sources.isEmpty(); }
    bool accepts(LogLevel level, QByteArrayView source) const
    {
        if (levelMask && !(levelMask & (1u << unsigned(level))))
            return false;
        if (sources.isEmpty())
            return true;
        if (source.isEmpty())
            return false;
        for (const QByteArray& prefix : sources) {
            if (source.startsWith(prefix))
                return true;
        }
        return false;
    }
};

struct PendingCommand;

struct Connection
{
    QWebSocket* socket = nullptr;
    LocalViewer* local = nullptr; // an in-process viewer instead of a socket
    quint64 serial = 0;
    Role role = Role::None;
    Agent* agent = nullptr;
    qint64 acceptedMs = 0;
    qint64 lastActivityMs = 0;
    qint64 lastPingMs = 0;
    bool closing = false;
    qint64 closeStartedMs = 0;
    std::deque<qint64> errorTimes;
    // Viewers
    Subscription sub;
    std::map<QByteArray, Cursor> cursors;
    bool replaying = false;
    bool backlogged = false;
    size_t roundRobin = 0;
    QList<QByteArray> deferred;
    QHash<QByteArray, PendingCommand*> commands; // by the viewer's command id
};

struct CommandTarget
{
    QByteArray agentId;
    QByteArray hostCommandId;
    bool done = false;
    bool builtin = false; // handled by the launcher, not by the agent's connection
};

struct PendingCommand
{
    Connection* viewer = nullptr;
    QByteArray id;
    QByteArray idJson;
    qint64 deadlineMs = 0;
    std::vector<CommandTarget> targets;
    int remaining = 0;
};

/// The level a stored line gets: as given, else inferred from its text, else the stream's default.
LogLevel lineLevel(LogLevel given, Stream stream, QByteArrayView text)
{
    if (given != LogLevel::Unknown)
        return given;
    const LogLevel inferred = inferLogLevel(text);
    if (inferred != LogLevel::Unknown)
        return inferred;
    return stream == Stream::Stderr ? LogLevel::Warning : LogLevel::Info;
}

/// For an item its agent numbered: false for a duplicate (a resend after a reconnect);
/// otherwise records the numbers the agent skipped as an agent_dropped gap.
template <typename Store>
bool admitNumbered(Store& store, qint64 seq)
{
    if (seq <= store.lastSeq())
        return false;
    if (seq > store.lastSeq() + 1)
        store.addGap(store.lastSeq() + 1, seq - 1, GapReason::AgentDropped);
    return true;
}

/// A forum message as a ForumStore holds it and viewers get it (without agent).
QByteArray forumMessageJson(qint64 seq, qint64 ts, QByteArrayView sender, QByteArrayView role,
                            std::optional<QByteArrayView> source, QByteArrayView text)
{
    QByteArray json;
    Json::Writer w(&json);
    w.beginObject().key("seq").integer(seq).key("ts").integer(ts).key("sender").string(sender);
    w.key("role").string(role);
    if (source)
        w.key("source").string(*source);
    w.key("text").string(text).endObject();
    return json;
}

/// A reader of one message's fields by name, in a single pass over its members.
template <size_t N>
void readMembers(Json::Value object, const std::array<QByteArrayView, N>& names, std::array<Json::Value, N>* values)
{
    for (const Json::Value member : object.items()) {
        const QByteArrayView key = member.key();
        for (size_t i = 0; i < N; ++i) {
            if (key == names[i] && (*values)[i].isUndefined()) {
                (*values)[i] = member;
                break;
            }
        }
    }
}

} // namespace

struct HostServer::Private final : public ProcessSupervisor::Listener
{
    HostServer* q;
    HostConfig config;
    Redactor redactor;
    HostMetricsSampler sampler;
    QTcpServer* tcpServer = nullptr;
    QWebSocketServer* wsServer = nullptr;
    QTimer* housekeeping = nullptr;
    QTimer* metricsTimer = nullptr;
    QString token;
    QString agentToken;
    QString viewerToken;
    QString tokenPath;
    bool tokenGenerated = false;
    QByteArray hostId;
    QByteArray hostJson;
    bool secure = false;

    std::map<const void*, std::unique_ptr<Connection>> connections; // by socket or local viewer
    quint64 nextConnectionSerial = 1;
    std::vector<std::unique_ptr<Connection>> graveyard;
    std::map<QByteArray, std::unique_ptr<Agent>> agents;
    QHash<QString, int> perAddress;
    struct PendingSocket
    {
        QPointer<QTcpSocket> socket;
        qint64 acceptedMs;
        bool overLimit;
        std::function<void()> release;
    };
    QHash<QString, PendingSocket> pendingSockets; // by "address|port", until upgraded
    std::map<quint64, std::unique_ptr<PendingCommand>> commands;
    QHash<QByteArray, std::pair<PendingCommand*, size_t>> commandsByHostId;
    quint64 nextCommandSerial = 1;
    bool pumpQueued = false;
    quint64 linesIngested = 0;
    Json::Document doc;
    QByteArray redactScratch;
    QHash<const ProcessSupervisor*, Agent*> launched;
    ProcessGroupSampler groupSampler;
    qint64 lastGroupSampleMs = 0;
    QTimer* fileFlush = nullptr;

    explicit Private(HostServer* owner, const HostConfig& c)
        : q(owner)
        , config(c)
    {
        // "state/../logs" must not need "state" to exist.
        if (!config.logDirectory.isEmpty())
            config.logDirectory = QDir::cleanPath(config.logDirectory);
    }

    // Setup
    bool resolveTokens(QString* error);
    bool listen(QString* error);
    void onTcpConnection();
    void onWebSocketConnection();
    void onDisconnected(const void* key);
    void onHousekeeping();
    void onMetricsTick();

    // Sending
    void send(Connection* c, const QByteArray& json);
    void sendError(Connection* c, QByteArrayView code, const QString& text, QByteArrayView ref = {});
    void close(Connection* c, quint16 code, const QString& reason);
    void broadcast(const Agent& agent, const QByteArray& json, bool droppable);
    void broadcastToViewers(const QByteArray& json, bool droppable);
    void schedulePump();
    void pumpAll();
    void pumpViewer(Connection* v);
    void drainViewer(Connection* v);
    bool pumpLog(Connection* v, Cursor& cursor, qint64 end);
    bool pumpForum(Connection* v, Cursor& cursor, qint64 end);
    void sendGap(Connection* v, const Agent& agent, QByteArrayView kind, qint64 from, qint64 to, GapReason reason);
    /// At position + 1 in store: sends the gap that starts there (or the eviction gap
    /// before the oldest number held), moves position past it and returns -1; or
    /// returns the last number, at most end, of the run of items that starts there.
    template <typename Store>
    qint64 sendGapOrFindRun(Connection* v, const Agent& agent, const Store& store, QByteArrayView kind,
                            qint64* position, qint64 end, bool* fresh);
    void sendPartials(Connection* v, Cursor& cursor);
    qint64 pendingBytes(const Connection* v) const
    {
        return v->local ? v->local->backlogBytes() : v->socket->bytesToWrite();
    }
    bool overBacklog(Connection* v) const;

    // Messages
    void onTextMessage(Connection* c, const QByteArray& utf8);
    void handleHello(Connection* c, Json::Value root);
    void handleLog(Connection* c, Json::Value root, QByteArrayView ref);
    void handleForum(Connection* c, Json::Value root, QByteArrayView ref);
    void handleMetrics(Connection* c, Json::Value root, QByteArrayView ref);
    void handleStatus(Connection* c, Json::Value root, QByteArrayView ref);
    void handleResult(Connection* c, Json::Value root);
    void handleAsk(Connection* c, Json::Value root, QByteArrayView ref);
    void handleSubscribe(Connection* c, Json::Value root, QByteArrayView ref);
    void handleUnsubscribe(Connection* c, Json::Value root, QByteArrayView ref);
    void handleCommand(Connection* c, Json::Value root);

    // Agents
    Agent* ensureAgent(const QByteArray& id, bool* created);
    QByteArray agentJson(const Agent& agent) const;
    QByteArray agentEvent(const Agent& agent, QByteArrayView event) const;
    QByteArray publicDefinition(const AgentDefinition& definition) const;
    QByteArray snapshotJson() const;
    void agentWentOffline(Agent* agent);
    void appendLine(Agent& agent, qint64 seq, qint64 ts, Stream stream, LogLevel level, QByteArrayView source,
                    QByteArrayView text);
    bool rateAllows(Agent& agent, qint64 now);
    void setPartial(Agent& agent, Stream stream, qint64 ts, LogLevel level, QByteArrayView source, QByteArrayView text);
    void releasePartial(const QByteArray& agentId, int stream);
    void coverNewAgent(Agent* agent);
    /// Where a viewer starts in an agent's streams: after its `since` numbers, else
    /// at the last `history` lines and every forum message held. With replay, the
    /// cursor also knows where the subscribe's replay of this agent ends.
    Cursor placeCursor(const Subscription& sub, Agent* agent, bool replay) const;
    /// Opens the agent's console and forum files and puts their newest items back in memory.
    void openFiles(Agent* agent);
    template <typename Store, typename Restore>
    std::unique_ptr<LogFile> openFile(const Agent& agent, LogFile::Kind kind, qint64 restore, Store& store,
                                      Restore&& append);
    void addLogGap(Agent& agent, qint64 from, qint64 to, GapReason reason);
    void removeAgent(const QByteArray& id);

    // Launched agents
    void loadOrCreateHostId();
    Agent* launch(const AgentDefinition& definition);
    QProcessEnvironment childEnvironment(const AgentDefinition& definition) const;
    void runBuiltin(PendingCommand* command, size_t target, Agent* agent, QByteArrayView name, Json::Value args);
    void sampleLaunched(qint64 ts);
    void shutdownLaunched();
    bool saveDefinitions(const std::vector<AgentDefinition>& definitions, QString* error);
    void handleHistory(Connection* c, Json::Value root, QByteArrayView ref);
    void handleDefineAgent(Connection* c, Json::Value root, QByteArrayView ref);
    void handleRemoveAgent(Connection* c, Json::Value root, QByteArrayView ref);
    void replyRequest(Connection* c, QByteArrayView ref, const QByteArray& agentId, bool ok, QByteArrayView text,
                      QByteArrayView error = {});

    // ProcessSupervisor::Listener
    void processLine(ProcessSupervisor* supervisor, Stream stream, qint64 ts, QByteArrayView text) override;
    void processPartial(ProcessSupervisor* supervisor, Stream stream, qint64 ts, QByteArrayView text) override;
    void processOutputDone(ProcessSupervisor* supervisor) override;
    void processEvent(ProcessSupervisor* supervisor, LogLevel level, const QByteArray& text) override;
    void processStateChanged(ProcessSupervisor* supervisor) override;

    // Commands
    void finishTarget(PendingCommand* command, size_t target, const QByteArray& resultJson);
    QByteArray resultJson(const PendingCommand& command, const QByteArray& agentId, bool ok, QByteArrayView text,
                          QByteArrayView error, QByteArrayView extraRaw = {}) const;
    /// Fails the commands waiting for agent's connection (and, with builtins, those
    /// waiting for its launcher).
    void failCommandsOf(const Agent& agent, QByteArrayView error, QByteArrayView text, bool builtins = false);
    void dropCommand(PendingCommand* command);
};

// ---------------------------------------------------------------------------
// Setup

HostServer::HostServer(const HostConfig& config, QObject* parent)
    : LocalEndpoint(parent)
    , d(std::make_unique<Private>(this, config))
{
    QString error;
    if (!d->redactor.configure(config.redactDefaults, config.redactPatterns, &error))
        Q_EMIT warning(error);
    const QByteArray random = QByteArray::number(QRandomGenerator::system()->generate64(), 16).rightJustified(16, '0');
    d->hostId = random;
    // Parented, so that moving the server to another thread moves its timers too.
    d->housekeeping = new QTimer(this);
    d->metricsTimer = new QTimer(this);
    connect(d->housekeeping, &QTimer::timeout, this, [this] { d->onHousekeeping(); });
    connect(d->metricsTimer, &QTimer::timeout, this, [this] { d->onMetricsTick(); });
    d->fileFlush = new QTimer(this);
    connect(d->fileFlush, &QTimer::timeout, this, [this] {
        for (auto& entry : d->agents)
            entry.second->flushFiles();
    });
}

HostServer::~HostServer()
{
    stop();
}

bool HostServer::Private::resolveTokens(QString* error)
{
    token = config.token;
    agentToken = config.agentToken.isEmpty() ? token : config.agentToken;
    viewerToken = config.viewerToken.isEmpty() ? token : config.viewerToken;
    if (!agentToken.isEmpty() && !viewerToken.isEmpty())
        return true;
    tokenPath = Tokens::defaultTokenPath();
    const QString generated = Tokens::loadOrCreate(tokenPath, &tokenGenerated, error);
    if (generated.isEmpty())
        return false;
    if (token.isEmpty())
        token = generated;
    if (agentToken.isEmpty())
        agentToken = generated;
    if (viewerToken.isEmpty())
        viewerToken = generated;
    return true;
}

void HostServer::setPort(int port)
{
    d->config.port = port;
}

bool HostServer::start(QString* error)
{
    if (d->tcpServer)
        return true;
    QString problem;
    if (!d->redactor.configure(d->config.redactDefaults, d->config.redactPatterns, &problem)) {
        if (error)
            *error = problem;
        return false;
    }
    if (!d->resolveTokens(error))
        return false;
    if (!d->listen(error))
        return false;
    d->loadOrCreateHostId();

    QString name = d->config.hostName.isEmpty() ? QHostInfo::localHostName() : d->config.hostName;
    QByteArray host;
    Json::Writer w(&host);
    w.beginObject().key("id").string(d->hostId).key("name").string(name).key("version").string(AGENTDECK_VERSION);
    w.endObject();
    d->hostJson = host;

    const int shortest = std::min({d->config.helloTimeoutMs, d->config.pingIntervalMs, d->config.idleTimeoutMs,
                                   d->config.closeGraceMs, d->config.commandTimeoutMs, d->config.upgradeTimeoutMs});
    d->housekeeping->start(std::clamp(shortest / 4, 10, 1000));
    d->metricsTimer->start(d->config.metricsIntervalMs);
    d->fileFlush->start(FileFlushIntervalMs);
    for (const AgentDefinition& definition : d->config.agents)
        d->launch(definition);
    return true;
}

bool HostServer::Private::listen(QString* error)
{
    QHostAddress address;
    if (config.listenAddress == QLatin1String("localhost"))
        address = QHostAddress::LocalHost;
    else if (config.listenAddress == QLatin1String("*") || config.listenAddress == QLatin1String("any"))
        address = QHostAddress::Any;
    else if (!address.setAddress(config.listenAddress)) {
        if (error)
            *error = QStringLiteral("not an IP address to listen on: %1").arg(config.listenAddress);
        return false;
    }

    secure = !config.tlsCertificate.isEmpty() || !config.tlsKey.isEmpty();
    if (secure) {
        QSslServer* ssl = new QSslServer(q);
        const QList<QSslCertificate> chain = QSslCertificate::fromPath(config.tlsCertificate);
        QFile keyFile(config.tlsKey);
        if (chain.isEmpty() || !keyFile.open(QIODevice::ReadOnly)) {
            if (error)
                *error = QStringLiteral("cannot read the TLS certificate %1 or key %2")
                             .arg(config.tlsCertificate, config.tlsKey);
            delete ssl;
            return false;
        }
        const QByteArray keyPem = keyFile.readAll();
        QSslKey key(keyPem, QSsl::Rsa);
        if (key.isNull())
            key = QSslKey(keyPem, QSsl::Ec);
        if (key.isNull()) {
            if (error)
                *error = QStringLiteral("cannot read the TLS key %1 (RSA or EC, PEM)").arg(config.tlsKey);
            delete ssl;
            return false;
        }
        QSslConfiguration sslConfig = QSslConfiguration::defaultConfiguration();
        sslConfig.setLocalCertificateChain(chain);
        sslConfig.setPrivateKey(key);
        sslConfig.setPeerVerifyMode(QSslSocket::VerifyNone);
        ssl->setSslConfiguration(sslConfig);
        ssl->setHandshakeTimeout(config.upgradeTimeoutMs);
        tcpServer = ssl;
        QObject::connect(ssl, &QTcpServer::pendingConnectionAvailable, q, [this] { onTcpConnection(); });
    } else {
        tcpServer = new QTcpServer(q);
        QObject::connect(tcpServer, &QTcpServer::pendingConnectionAvailable, q, [this] { onTcpConnection(); });
    }
    tcpServer->setMaxPendingConnections(1024);

    wsServer = new QWebSocketServer(QStringLiteral("AgentDeck/") + QLatin1String(AGENTDECK_VERSION),
                                    QWebSocketServer::NonSecureMode, q);
    wsServer->setMaxPendingConnections(1024);
    QObject::connect(wsServer, &QWebSocketServer::originAuthenticationRequired, q,
                     [this](QWebSocketCorsAuthenticator* auth) {
                         // Browsers always send an Origin; other clients do not.
                         const QString origin = auth->origin();
                         auth->setAllowed(origin.isEmpty() || config.allowedOrigins.contains(origin));
                     });
    QObject::connect(wsServer, &QWebSocketServer::newConnection, q, [this] { onWebSocketConnection(); });

    if (!tcpServer->listen(address, quint16(config.port))) {
        if (error)
            *error = QStringLiteral("cannot listen on %1:%2: %3")
                         .arg(config.listenAddress)
                         .arg(config.port)
                         .arg(tcpServer->errorString());
        delete tcpServer;
        tcpServer = nullptr;
        delete wsServer;
        wsServer = nullptr;
        return false;
    }
    return true;
}

void HostServer::stop()
{
    d->shutdownLaunched();
    d->housekeeping->stop();
    d->metricsTimer->stop();
    d->fileFlush->stop();
    for (auto& entry : d->agents)
        entry.second->flushFiles();
    std::vector<const void*> keys;
    for (auto& entry : d->connections)
        keys.push_back(entry.first);
    for (const void* key : keys) {
        auto it = d->connections.find(key);
        if (it == d->connections.end())
            continue;
        Connection* c = it->second.get();
        if (c->local) {
            d->close(c, CloseNormal, QStringLiteral("host shutting down"));
            continue;
        }
        c->closing = true;
        c->socket->close(QWebSocketProtocol::CloseCodeNormal, QStringLiteral("host shutting down"));
        c->socket->abort();
    }
    for (auto& entry : d->pendingSockets) {
        if (entry.socket)
            entry.socket->abort();
    }
    if (d->tcpServer) {
        d->tcpServer->close();
        delete d->tcpServer;
        d->tcpServer = nullptr;
    }
    if (d->wsServer) {
        d->wsServer->close();
        delete d->wsServer;
        d->wsServer = nullptr;
    }
    // Connections not yet disconnected by abort() are released here.
    for (auto& entry : d->connections) {
        if (entry.second->socket)
            entry.second->socket->deleteLater();
    }
    d->connections.clear();
    d->commands.clear();
    d->commandsByHostId.clear();
    d->graveyard.clear();
}

bool HostServer::isListening() const
{
    return d->tcpServer && d->tcpServer->isListening();
}

quint16 HostServer::port() const
{
    return d->tcpServer ? d->tcpServer->serverPort() : 0;
}

QUrl HostServer::url() const
{
    QUrl u;
    u.setScheme(d->secure ? QStringLiteral("wss") : QStringLiteral("ws"));
    QHostAddress address = d->tcpServer ? d->tcpServer->serverAddress() : QHostAddress(QHostAddress::LocalHost);
    if (address == QHostAddress::Any || address == QHostAddress::AnyIPv4 || address == QHostAddress::AnyIPv6)
        address = QHostAddress::LocalHost;
    u.setHost(address.toString());
    u.setPort(port());
    u.setPath(QStringLiteral("/"));
    return u;
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

void HostServer::attachLocalViewer(LocalViewer* viewer)
{
    auto connection = std::make_unique<Connection>();
    Connection* c = connection.get();
    c->local = viewer;
    c->serial = d->nextConnectionSerial++;
    c->role = Role::Viewer;
    c->acceptedMs = c->lastActivityMs = c->lastPingMs = nowMs();
    d->connections.emplace(viewer, std::move(connection));
    d->send(c, "{\"type\":\"welcome\",\"protocol\":1,\"role\":\"viewer\",\"host\":" + d->hostJson + '}');
    d->send(c, d->snapshotJson());
}

void HostServer::receiveFromLocalViewer(LocalViewer* viewer, const QByteArray& json)
{
    const auto it = d->connections.find(viewer);
    if (it != d->connections.end())
        d->onTextMessage(it->second.get(), json);
}

void HostServer::localViewerDrained(LocalViewer* viewer)
{
    const auto it = d->connections.find(viewer);
    if (it != d->connections.end())
        d->drainViewer(it->second.get());
}

void HostServer::detachLocalViewer(LocalViewer* viewer)
{
    if (d->connections.count(viewer))
        d->onDisconnected(viewer);
}

int HostServer::agentCount() const
{
    int n = 0;
    for (const auto& entry : d->agents)
        n += entry.second->connection != nullptr;
    return n;
}

int HostServer::viewerCount() const
{
    int n = 0;
    for (const auto& entry : d->connections)
        n += entry.second->role == Role::Viewer;
    return n;
}

quint64 HostServer::linesIngested() const
{
    return d->linesIngested;
}

static QString socketKey(const QHostAddress& address, quint16 port)
{
    return address.toString() + QLatin1Char('|') + QString::number(port);
}

void HostServer::Private::onTcpConnection()
{
    while (tcpServer && tcpServer->hasPendingConnections()) {
        QTcpSocket* socket = tcpServer->nextPendingConnection();
        if (!socket)
            break;
        // Small messages (a command, a result, a few lines) must not wait for delayed ACKs.
        socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        const QString address = socket->peerAddress().toString();
        const int count = ++perAddress[address];
        const QString key = socketKey(socket->peerAddress(), socket->peerPort());
        // Runs once, when the connection is gone, whichever object goes last.
        auto released = std::make_shared<bool>(false);
        std::function<void()> release = [this, address, key, released] {
            if (*released)
                return;
            *released = true;
            if (--perAddress[address] <= 0)
                perAddress.remove(address);
            pendingSockets.remove(key);
        };
        pendingSockets.insert(key, {socket, nowMs(), count > config.maxConnectionsPerAddress, release});
        QObject::connect(socket, &QObject::destroyed, q, release);
        // Until the upgrade the socket is ours; afterwards its QWebSocket owns it.
        QObject::connect(socket, &QAbstractSocket::disconnected, socket, [this, socket, key] {
            if (pendingSockets.contains(key))
                socket->deleteLater();
        });
        wsServer->handleConnection(socket);
    }
}

void HostServer::Private::onWebSocketConnection()
{
    while (wsServer && wsServer->hasPendingConnections()) {
        QWebSocket* socket = wsServer->nextPendingConnection();
        if (!socket)
            break;
        socket->setParent(q);
        const QString key = socketKey(socket->peerAddress(), socket->peerPort());
        const auto pending = pendingSockets.find(key);
        bool overLimit = false;
        if (pending != pendingSockets.end()) {
            overLimit = pending->overLimit;
            if (pending->socket)
                pending->socket->setParent(socket);
            // QWebSocket drops every connection of its TCP socket, so count from the QWebSocket now.
            QObject::connect(socket, &QObject::destroyed, q, pending->release);
            pendingSockets.erase(pending);
        }

        auto connection = std::make_unique<Connection>();
        Connection* c = connection.get();
        c->socket = socket;
        c->serial = nextConnectionSerial++;
        c->acceptedMs = c->lastActivityMs = c->lastPingMs = nowMs();
        connections.emplace(socket, std::move(connection));

        socket->setMaxAllowedIncomingMessageSize(quint64(config.maxMessageBytes));
        socket->setMaxAllowedIncomingFrameSize(quint64(config.maxMessageBytes));
        // Read at most about one message ahead: an agent that sends faster than the host
        // takes in is slowed by TCP, and one busy socket cannot hold the loop for long.
        // QWebSocket needs a whole frame in the buffer, so it must fit the largest one.
        socket->setReadBufferSize(std::max<qint64>(config.maxMessageBytes, 1024 * 1024) + 64 * 1024);
        QObject::connect(socket, &QWebSocket::textMessageReceived, q, [this, socket](const QString& message) {
            auto it = connections.find(socket);
            if (it != connections.end())
                onTextMessage(it->second.get(), message.toUtf8());
        });
        QObject::connect(socket, &QWebSocket::binaryMessageReceived, q, [this, socket](const QByteArray&) {
            auto it = connections.find(socket);
            if (it != connections.end() && !it->second->closing) {
                it->second->lastActivityMs = nowMs();
                close(it->second.get(), CloseUnsupportedData, QStringLiteral("binary frames are not accepted"));
            }
        });
        QObject::connect(socket, &QWebSocket::pong, q, [this, socket](quint64, const QByteArray&) {
            auto it = connections.find(socket);
            if (it != connections.end())
                it->second->lastActivityMs = nowMs();
        });
        QObject::connect(socket, &QWebSocket::bytesWritten, q, [this, socket](qint64) {
            auto it = connections.find(socket);
            if (it != connections.end() && it->second->role == Role::Viewer)
                drainViewer(it->second.get());
        });
        QObject::connect(socket, &QWebSocket::disconnected, q, [this, socket] { onDisconnected(socket); });

        if (overLimit)
            close(c, CloseTryAgainLater, QStringLiteral("too many connections"));
    }
}

void HostServer::Private::onDisconnected(const void* key)
{
    auto it = connections.find(key);
    if (it == connections.end())
        return;
    std::unique_ptr<Connection> c = std::move(it->second);
    connections.erase(it);
    c->closing = true;
    if (c->role == Role::Agent && c->agent && c->agent->connection == c.get())
        agentWentOffline(c->agent);
    // Commands this viewer is waiting for are dropped; late results find nothing.
    const QList<PendingCommand*> pending = c->commands.values();
    for (PendingCommand* command : pending)
        dropCommand(command);
    // Its handlers find no connection from now on; the destroyed hook still counts it out.
    if (c->socket)
        c->socket->deleteLater();
    // The connection may be on the stack of a handler that closed it; free it later.
    graveyard.push_back(std::move(c));
    QMetaObject::invokeMethod(
        q, [this] { graveyard.clear(); }, Qt::QueuedConnection);
}

void HostServer::Private::onHousekeeping()
{
    const qint64 now = nowMs();
    std::vector<Connection*> all;
    all.reserve(connections.size());
    for (auto& entry : connections)
        all.push_back(entry.second.get());
    for (Connection* c : all) {
        if (c->local)
            continue; // in-process: no handshake, no pings
        if (c->closing) {
            if (now - c->closeStartedMs >= config.closeGraceMs)
                c->socket->abort();
            continue;
        }
        if (c->role == Role::None && now - c->acceptedMs >= config.helloTimeoutMs) {
            close(c, ClosePolicy, QStringLiteral("hello timeout"));
            continue;
        }
        if (now - c->lastActivityMs >= config.idleTimeoutMs) {
            close(c, CloseHostError, QStringLiteral("ping timeout"));
            continue;
        }
        if (now - c->lastPingMs >= config.pingIntervalMs) {
            c->lastPingMs = now;
            c->socket->ping();
        }
    }
    // TCP connections that never complete the upgrade.
    const QList<PendingSocket> pending = pendingSockets.values();
    for (const PendingSocket& p : pending) {
        if (p.socket && now - p.acceptedMs >= config.upgradeTimeoutMs)
            p.socket->abort();
    }
    // Commands whose agents did not answer in time.
    std::vector<PendingCommand*> expired;
    for (auto& entry : commands) {
        if (entry.second->deadlineMs <= now)
            expired.push_back(entry.second.get());
    }
    for (PendingCommand* command : expired) {
        // The last finishTarget() frees the command, so build every result first.
        std::vector<std::pair<size_t, QByteArray>> results;
        for (size_t i = 0; i < command->targets.size(); ++i) {
            if (!command->targets[i].done)
                results.emplace_back(
                    i, resultJson(*command, command->targets[i].agentId, false, "timeout", ErrorCode::Timeout));
        }
        for (const auto& [i, json] : results)
            finishTarget(command, i, json);
    }
}

void HostServer::Private::onMetricsTick()
{
    const HostMetrics m = sampler.sample();
    QByteArray json;
    Json::Writer w(&json);
    w.beginObject().key("type").string("host_metrics").key("ts").integer(m.ts).key("values").raw(m.valuesJson());
    w.endObject();
    broadcastToViewers(json, true);
    sampleLaunched(m.ts);
    Q_EMIT q->statsChanged(q->agentCount(), q->viewerCount(), linesIngested);
}

// ---------------------------------------------------------------------------
// Sending

void HostServer::Private::send(Connection* c, const QByteArray& json)
{
    if (c->closing)
        return;
    if (c->local)
        c->local->deliver(json);
    else
        c->socket->sendTextMessage(QString::fromUtf8(json));
}

void HostServer::Private::sendError(Connection* c, QByteArrayView code, const QString& text, QByteArrayView ref)
{
    QByteArray json;
    Json::Writer w(&json);
    w.beginObject().key("type").string("error").key("code").string(code).key("text").string(text);
    if (!ref.isEmpty())
        w.key("ref").raw(ref);
    w.endObject();
    send(c, json);

    const qint64 now = nowMs();
    c->errorTimes.push_back(now);
    while (!c->errorTimes.empty() && now - c->errorTimes.front() >= config.abuseWindowMs)
        c->errorTimes.pop_front();
    if (int(c->errorTimes.size()) > config.abuseLimit)
        close(c, ClosePolicy, QStringLiteral("too many bad messages"));
}

void HostServer::Private::close(Connection* c, quint16 code, const QString& reason)
{
    if (c->closing)
        return;
    c->closing = true;
    c->closeStartedMs = nowMs();
    if (c->local) {
        LocalViewer* viewer = c->local;
        onDisconnected(viewer);
        viewer->closed(code, reason);
        return;
    }
    c->socket->close(QWebSocketProtocol::CloseCode(code), reason);
}

bool HostServer::Private::overBacklog(Connection* v) const
{
    return pendingBytes(v) > config.viewerBacklogBytes;
}

void HostServer::Private::broadcast(const Agent& agent, const QByteArray& json, bool droppable)
{
    for (auto& entry : connections) {
        Connection* v = entry.second.get();
        if (v->role != Role::Viewer || !v->sub.covers(agent.id))
            continue;
        if (!v->replaying && !v->backlogged && overBacklog(v))
            v->backlogged = true; // drainViewer() sends what is held once it drains
        if (v->replaying || v->backlogged) {
            if (!droppable && v->deferred.size() < MaxDeferredEvents)
                v->deferred.append(json);
            continue;
        }
        send(v, json);
    }
}

void HostServer::Private::broadcastToViewers(const QByteArray& json, bool droppable)
{
    for (auto& entry : connections) {
        Connection* v = entry.second.get();
        if (v->role != Role::Viewer || !v->sub.active)
            continue;
        if (!v->replaying && !v->backlogged && overBacklog(v))
            v->backlogged = true; // drainViewer() sends what is held once it drains
        if (v->replaying || v->backlogged) {
            if (!droppable && v->deferred.size() < MaxDeferredEvents)
                v->deferred.append(json);
            continue;
        }
        send(v, json);
    }
}

void HostServer::Private::schedulePump()
{
    if (pumpQueued)
        return;
    pumpQueued = true;
    // Deliver after the event loop has read every socket that is ready, so one
    // viewer message carries the lines of many agent messages.
    QMetaObject::invokeMethod(
        q,
        [this] {
            pumpQueued = false;
            pumpAll();
        },
        Qt::QueuedConnection);
}

void HostServer::Private::pumpAll()
{
    std::vector<Connection*> viewers;
    for (auto& entry : connections) {
        if (entry.second->role == Role::Viewer && entry.second->sub.active)
            viewers.push_back(entry.second.get());
    }
    for (Connection* v : viewers) {
        if (!v->closing && !v->backlogged) {
            pumpViewer(v);
            drainViewer(v);
        }
    }
}

void HostServer::Private::drainViewer(Connection* v)
{
    // A write notification hands the kernel only one buffered block, which starves a
    // viewer while agents keep the loop busy; so write all the kernel takes, now.
    // bytesWritten is not emitted for writes made inside its own handler, so the
    // backlog is checked here after every flush rather than left to that signal.
    while (!v->closing) {
        if (v->backlogged && pendingBytes(v) < config.viewerBacklogBytes / 2) {
            v->backlogged = false;
            pumpViewer(v);
        }
        if (v->local)
            break; // the viewer calls localViewerDrained() when it has taken what it was given
        const qint64 before = v->socket->bytesToWrite();
        if (before == 0 || v->closing)
            break;
        v->socket->flush();
        if (v->socket->bytesToWrite() >= before)
            break; // the kernel's buffer is full; the next write notification goes on
    }
}

void HostServer::Private::sendGap(Connection* v, const Agent& agent, QByteArrayView kind, qint64 from, qint64 to,
                                  GapReason reason)
{
    QByteArray json;
    Json::Writer w(&json);
    w.beginObject().key("type").string("gap").key("agent").string(agent.id).key("kind").string(kind);
    w.key("from").integer(from).key("to").integer(to).key("reason").string(gapReasonName(reason));
    w.endObject();
    send(v, json);
}

template <typename Store>
qint64 HostServer::Private::sendGapOrFindRun(Connection* v, const Agent& agent, const Store& store, QByteArrayView kind,
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

// Writes one stored line as its JSON object. Runs for every line sent, so it writes
// straight into the buffer instead of appending piece by piece.
static void appendLineJson(QByteArray& out, const LogLine& line)
{
    const qsizetype bound = 96 + Json::maxStringSize(line.source.size()) + Json::maxStringSize(line.text.size());
    const qsizetype start = out.size();
    if (out.capacity() < start + bound)
        out.reserve(std::max(out.capacity() * 2, start + bound));
    out.resize(start + bound);
    char* p = out.data() + start;
    auto put = [&p](QByteArrayView literal) {
        std::memcpy(p, literal.data(), size_t(literal.size()));
        p += literal.size();
    };
    put("{\"seq\":");
    p = Json::writeInteger(p, line.seq);
    put(",\"ts\":");
    p = Json::writeInteger(p, line.ts);
    put(line.stream == Stream::Stderr ? QByteArrayView(",\"stream\":\"stderr\",\"level\":\"")
                                      : QByteArrayView(",\"stream\":\"stdout\",\"level\":\""));
    put(logLevelName(line.level));
    *p++ = '"';
    if (!line.source.isEmpty()) {
        put(",\"source\":");
        p = Json::writeString(p, line.source);
    }
    put(",\"text\":");
    p = Json::writeString(p, line.text);
    *p++ = '}';
    out.truncate(p - out.constData());
}

bool HostServer::Private::pumpLog(Connection* v, Cursor& cursor, qint64 end)
{
    Agent& agent = *cursor.agent;
    const LogStore& store = agent.log;
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
        const qint64 stop = sendGapOrFindRun(v, agent, store, "log", &cursor.log, end, &cursor.freshLog);
        if (stop < 0)
            continue;

        if (!filtered && agent.cacheFrom == next && agent.cacheTo <= stop && agent.cacheTo >= next) {
            send(v, agent.cacheLines);
            cursor.log = agent.cacheTo;
            continue;
        }

        QByteArray json;
        json.reserve(std::min<qsizetype>(MaxBytesPerMessage + 4096, (stop - next + 1) * 160 + 64));
        json += "{\"type\":\"log\",\"agent\":\"";
        json += agent.id;
        json += "\",\"lines\":[";
        int count = 0;
        qint64 covered = stop; // unless a message fills up first
        for (qsizetype index = store.indexOfSeq(next); index < store.lineCount(); ++index) {
            const LogLine line = store.lineAt(index);
            if (line.seq > stop)
                break;
            if (count >= MaxLinesPerMessage || json.size() >= MaxBytesPerMessage) {
                covered = line.seq - 1;
                break;
            }
            if (filtered && !v->sub.accepts(line.level, line.source))
                continue;
            if (count > 0)
                json += ',';
            appendLineJson(json, line);
            ++count;
        }
        json += "]}";
        if (count > 0) {
            if (!filtered) {
                agent.cacheFrom = next;
                agent.cacheTo = covered;
                agent.cacheLines = json;
            }
            send(v, json);
        }
        cursor.log = covered;
    }
    return true;
}

bool HostServer::Private::pumpForum(Connection* v, Cursor& cursor, qint64 end)
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
            if (++count >= MaxLinesPerMessage || json.size() >= MaxBytesPerMessage)
                break;
        }
        json += "]}";
        if (count > 0)
            send(v, json);
        else
            cursor.forum = stop;
    }
    return true;
}

void HostServer::Private::sendPartials(Connection* v, Cursor& cursor)
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
        send(v, json);
    }
}

void HostServer::Private::pumpViewer(Connection* v)
{
    if (v->closing || !v->sub.active)
        return;
    if (overBacklog(v)) {
        v->backlogged = true;
        return;
    }
    v->backlogged = false;
    if (!v->replaying && !v->deferred.isEmpty()) {
        const QList<QByteArray> deferred = std::exchange(v->deferred, {});
        for (const QByteArray& event : deferred)
            send(v, event);
    }
    // Start with a different agent each time, so a busy agent cannot starve the others.
    const size_t n = v->cursors.size();
    std::vector<Cursor*> order;
    order.reserve(n);
    for (auto& entry : v->cursors)
        order.push_back(&entry.second);
    const size_t start = n ? v->roundRobin++ % n : 0;
    bool complete = true;
    for (size_t k = 0; k < n; ++k) {
        Cursor& cursor = *order[(start + k) % n];
        const qint64 logEnd = v->replaying ? cursor.logTarget : cursor.agent->log.lastSeq();
        const qint64 forumEnd = v->replaying ? cursor.forumTarget : cursor.agent->forum.lastSeq();
        if (!pumpForum(v, cursor, forumEnd) || !pumpLog(v, cursor, logEnd)) {
            complete = false;
            break;
        }
        cursor.freshLog = cursor.freshForum = false;
        if (!v->replaying && cursor.log == cursor.agent->log.lastSeq())
            sendPartials(v, cursor);
    }
    if (!complete || !v->replaying)
        return;

    v->replaying = false;
    QByteArray json = "{\"type\":\"subscribed\",\"agents\":" + v->sub.agentsJson + '}';
    send(v, json);
    for (auto& entry : v->cursors) {
        if (entry.second.log == entry.second.agent->log.lastSeq())
            sendPartials(v, entry.second);
    }
    const QList<QByteArray> deferred = std::exchange(v->deferred, {});
    for (const QByteArray& event : deferred)
        send(v, event);
    // Lines that arrived during the replay follow at once.
    pumpViewer(v);
}

// ---------------------------------------------------------------------------
// Messages

void HostServer::Private::onTextMessage(Connection* c, const QByteArray& utf8)
{
    if (c->closing)
        return;
    c->lastActivityMs = nowMs();
    QString parseError;
    if (!doc.parse(utf8, &parseError)) {
        sendError(c, ErrorCode::BadMessage,
                  QStringLiteral("not JSON: %1 at byte %2").arg(parseError).arg(doc.errorOffset()));
        if (c->role == Role::None)
            close(c, ClosePolicy, QStringLiteral("expected hello"));
        return;
    }
    const Json::Value root = doc.root();
    const Json::Value typeValue = root["type"];
    if (!root.isObject() || !typeValue.isString()) {
        sendError(c, ErrorCode::BadMessage, QStringLiteral("a message must be a JSON object with a string \"type\""));
        if (c->role == Role::None)
            close(c, ClosePolicy, QStringLiteral("expected hello"));
        return;
    }
    const QByteArrayView type = typeValue.toUtf8();
    const Json::Value id = root["id"];
    const QByteArrayView ref = id.isString() || id.isNumber() ? id.raw() : QByteArrayView();

    if (c->role == Role::None) {
        if (type != "hello") {
            sendError(c, ErrorCode::BadMessage, QStringLiteral("the first message must be hello"), ref);
            close(c, ClosePolicy, QStringLiteral("expected hello"));
            return;
        }
        handleHello(c, root);
        return;
    }
    if (type == "hello") {
        sendError(c, ErrorCode::BadMessage, QStringLiteral("hello was already received on this connection"), ref);
        return;
    }

    static constexpr std::array<QByteArrayView, 6> agentTypes = {"log", "forum", "metrics", "status", "result", "ask"};
    static constexpr std::array<QByteArrayView, 6> viewerTypes = {"subscribe", "unsubscribe",  "command",
                                                                  "history",   "define_agent", "remove_agent"};
    const bool isAgentType = std::find(agentTypes.begin(), agentTypes.end(), type) != agentTypes.end();
    const bool isViewerType = std::find(viewerTypes.begin(), viewerTypes.end(), type) != viewerTypes.end();
    if (!isAgentType && !isViewerType) {
        sendError(c, ErrorCode::BadMessage, QStringLiteral("unknown message type \"%1\"").arg(typeValue.toString()),
                  ref);
        return;
    }
    if ((isAgentType && c->role != Role::Agent) || (isViewerType && c->role != Role::Viewer)) {
        sendError(c, ErrorCode::Forbidden,
                  QStringLiteral("%1 may not send \"%2\"")
                      .arg(c->role == Role::Agent ? QStringLiteral("an agent") : QStringLiteral("a viewer"),
                           typeValue.toString()),
                  ref);
        return;
    }

    if (type == "log")
        handleLog(c, root, ref);
    else if (type == "forum")
        handleForum(c, root, ref);
    else if (type == "metrics")
        handleMetrics(c, root, ref);
    else if (type == "status")
        handleStatus(c, root, ref);
    else if (type == "result")
        handleResult(c, root);
    else if (type == "ask")
        handleAsk(c, root, ref);
    else if (type == "subscribe")
        handleSubscribe(c, root, ref);
    else if (type == "unsubscribe")
        handleUnsubscribe(c, root, ref);
    else if (type == "command")
        handleCommand(c, root);
    else if (type == "history")
        handleHistory(c, root, ref);
    else if (type == "define_agent")
        handleDefineAgent(c, root, ref);
    else if (type == "remove_agent")
        handleRemoveAgent(c, root, ref);
}

void HostServer::Private::handleHello(Connection* c, Json::Value root)
{
    const Json::Value roleValue = root["role"];
    const QByteArrayView role = roleValue.toUtf8();
    const bool isAgent = roleValue.isString() && role == "agent";
    const bool isViewer = roleValue.isString() && role == "viewer";

    // The token: from hello, else ?token=, else "Authorization: Bearer".
    QByteArray given;
    const Json::Value tokenValue = root["token"];
    if (tokenValue.isString()) {
        given = tokenValue.toUtf8().toByteArray();
    } else {
        const QUrlQuery query(c->socket->requestUrl());
        if (query.hasQueryItem(QStringLiteral("token"))) {
            given = query.queryItemValue(QStringLiteral("token"), QUrl::FullyDecoded).toUtf8();
        } else {
            const QByteArray auth = c->socket->request().rawHeader("Authorization").trimmed();
            if (auth.size() > 7 && auth.left(7).compare("Bearer ", Qt::CaseInsensitive) == 0)
                given = auth.mid(7).trimmed();
        }
    }
    const QByteArray agentSecret = agentToken.toUtf8();
    const QByteArray viewerSecret = viewerToken.toUtf8();
    // Compare with both secrets every time, so timing tells nothing about the role.
    const bool matchesAgent = Tokens::equal(given, agentSecret);
    const bool matchesViewer = Tokens::equal(given, viewerSecret);
    const bool authorized = isAgent ? matchesAgent : isViewer ? matchesViewer : (matchesAgent || matchesViewer);
    if (!authorized) {
        sendError(c, ErrorCode::Unauthorized,
                  given.isEmpty() ? QStringLiteral("a token is required") : QStringLiteral("wrong token"));
        close(c, ClosePolicy, QStringLiteral("unauthorized"));
        return;
    }

    const Json::Value protocol = root["protocol"];
    if (!protocol.isNumber() || protocol.toDouble() != Protocol::Version) {
        sendError(c, ErrorCode::Unsupported, QStringLiteral("this host speaks protocol 1"));
        close(c, CloseProtocolError, QStringLiteral("unsupported protocol"));
        return;
    }
    if (!isAgent && !isViewer) {
        sendError(c, ErrorCode::BadMessage, QStringLiteral("role must be \"agent\" or \"viewer\""));
        close(c, ClosePolicy, QStringLiteral("bad hello"));
        return;
    }

    if (isViewer) {
        c->role = Role::Viewer;
        QByteArray welcome = "{\"type\":\"welcome\",\"protocol\":1,\"role\":\"viewer\",\"host\":" + hostJson + '}';
        send(c, welcome);
        send(c, snapshotJson());
        return;
    }

    const Json::Value info = root["agent"];
    const Json::Value idValue = info["id"];
    if (!info.isObject() || !idValue.isString() || !isValidAgentId(idValue.toUtf8())) {
        sendError(c, ErrorCode::BadMessage,
                  QStringLiteral("an agent hello needs agent.id matching [A-Za-z0-9_.-]{1,64}"));
        close(c, ClosePolicy, QStringLiteral("bad hello"));
        return;
    }
    const QByteArray id = idValue.toUtf8().toByteArray();
    bool created = false;
    Agent* agent = ensureAgent(id, &created);
    if (agent->connection) {
        Connection* old = agent->connection;
        agent->connection = nullptr;
        old->agent = nullptr;
        // The old connection's unfinished lines will never be completed.
        for (PartialLine& partial : agent->partial)
            partial.present = false;
        failCommandsOf(*agent, ErrorCode::Disconnected, "the agent's connection was replaced");
        close(old, CloseReplaced, QStringLiteral("replaced"));
    }
    c->role = Role::Agent;
    c->agent = agent;
    agent->connection = c;
    if (!agent->supervisor || agent->supervisor->definition().name.isEmpty())
        agent->name = info["name"].isString() ? info["name"].toString() : QString::fromLatin1(id);
    agent->pid = info["pid"].isInteger() ? info["pid"].toInteger() : 0;
    agent->startedAt = nowMs();
    agent->state = "running";
    agent->statusJson.clear();
    agent->commandsJson = "[]";
    const Json::Value commandsValue = info["commands"];
    if (commandsValue.isArray()) {
        QByteArray list;
        Json::Writer w(&list);
        w.beginArray();
        for (const Json::Value command : commandsValue.items()) {
            const Json::Value name = command.isString() ? command : command["name"];
            if (!name.isString() || name.toUtf8().isEmpty())
                continue;
            w.beginObject().key("name").string(name.toUtf8());
            if (command["help"].isString())
                w.key("help").string(command["help"].toUtf8());
            if (command["args"].isString())
                w.key("args").string(command["args"].toUtf8());
            w.endObject();
        }
        w.endArray();
        agent->commandsJson = list;
    }

    QByteArray welcome;
    Json::Writer w(&welcome);
    w.beginObject().key("type").string("welcome").key("protocol").integer(1).key("role").string("agent");
    w.key("host").raw(hostJson);
    // A launched bot numbers its own lines apart from its captured output.
    w.key("resume_from").beginObject().key("log").integer(agent->supervisor ? agent->botLogSeq : agent->log.lastSeq());
    w.key("forum").integer(agent->forum.lastSeq()).endObject();
    w.endObject();
    send(c, welcome);

    if (created)
        coverNewAgent(agent);
    broadcastToViewers(agentEvent(*agent, created ? "added" : "changed"), false);
}

void HostServer::Private::coverNewAgent(Agent* agent)
{
    for (auto& entry : connections) {
        Connection* v = entry.second.get();
        if (v->role == Role::Viewer && v->sub.covers(agent->id) && !v->cursors.count(agent->id))
            v->cursors.emplace(agent->id, placeCursor(v->sub, agent, v->replaying));
    }
}

Cursor HostServer::Private::placeCursor(const Subscription& sub, Agent* agent, bool replay) const
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

Agent* HostServer::Private::ensureAgent(const QByteArray& id, bool* created)
{
    auto it = agents.find(id);
    *created = it == agents.end();
    if (!*created)
        return it->second.get();
    auto agent = std::make_unique<Agent>();
    agent->id = id;
    agent->name = QString::fromLatin1(id);
    agent->log.setLimits(config.logRetentionLines, config.logRetentionBytes);
    agent->forum.setLimits(config.forumRetentionMessages, config.forumRetentionBytes);
    Agent* raw = agent.get();
    agents.emplace(id, std::move(agent));
    openFiles(raw);
    return raw;
}

QByteArray HostServer::Private::agentJson(const Agent& agent) const
{
    QByteArray json;
    Json::Writer w(&json);
    w.beginObject().key("id").string(agent.id).key("name").string(agent.name);
    w.key("origin").string(originName(agent.origin));
    const ProcessSupervisor* process = agent.supervisor.get();
    if (process) {
        // A launched bot that also connected reports its own state while it runs.
        const bool reported =
            agent.connection && !agent.statusJson.isEmpty() && process->state() == ProcessSupervisor::State::Running;
        w.key("state").string(reported ? QByteArrayView(agent.state) : process->protocolState());
        if (process->pid() > 0)
            w.key("pid").integer(process->pid());
        if (process->startedAt() > 0)
            w.key("started_at").integer(process->startedAt());
        w.key("restarts").integer(process->restarts());
    } else {
        w.key("state").string(agent.connection || agent.origin != Origin::Connected ? QByteArrayView(agent.state)
                                                                                    : QByteArrayView("offline"));
        if (agent.pid > 0)
            w.key("pid").integer(agent.pid);
        if (agent.startedAt > 0)
            w.key("started_at").integer(agent.startedAt);
        w.key("restarts").integer(agent.restarts);
    }
    w.key("commands").raw(agent.commandsJson);
    if (!agent.statusJson.isEmpty())
        w.key("status").raw(agent.statusJson);
    w.key("last_seq").beginObject().key("log").integer(agent.log.lastSeq());
    w.key("forum").integer(agent.forum.lastSeq()).endObject();
    if (process) {
        w.key("connected").boolean(agent.connection != nullptr);
        w.key("process").beginObject().key("state").string(ProcessSupervisor::stateName(process->state()));
        if (process->hasExited()) {
            if (process->lastExitSignal())
                w.key("exit_signal").string(signalName(process->lastExitSignal()));
            else
                w.key("exit_code").integer(process->lastExitCode());
        }
        if (process->nextStartAt() > 0)
            w.key("next_start_at").integer(process->nextStartAt());
        w.endObject();
        w.key("definition").raw(publicDefinition(process->definition()));
    }
    if (agent.file)
        w.key("log_file").string(agent.file->path());
    w.endObject();
    return json;
}

QByteArray HostServer::Private::publicDefinition(const AgentDefinition& definition) const
{
    // Environment values often hold keys: those of secret-sounding names are not shown,
    // the others pass the redactor like console text.
    AgentDefinition shown = definition;
    static const char* const secretWords[] = {"KEY", "TOKEN", "SECRET", "PASS", "AUTH", "CREDENTIAL", "PRIVATE"};
    QByteArray redacted;
    for (auto& [name, value] : shown.env) {
        const QString upper = name.toUpper();
        const bool secret = std::any_of(std::begin(secretWords), std::end(secretWords),
                                        [&](const char* word) { return upper.contains(QLatin1String(word)); });
        const QByteArray utf8 = value.toUtf8();
        if (secret)
            value = QStringLiteral("[REDACTED]");
        else if (redactor.redact(utf8, &redacted))
            value = QString::fromUtf8(redacted);
    }
    return shown.toJson();
}

QByteArray HostServer::Private::agentEvent(const Agent& agent, QByteArrayView event) const
{
    return "{\"type\":\"agent\",\"event\":\"" + event.toByteArray() + "\",\"agent\":" + agentJson(agent) + '}';
}

QByteArray HostServer::Private::snapshotJson() const
{
    QByteArray json;
    Json::Writer w(&json);
    w.beginObject().key("type").string("snapshot").key("host").raw(hostJson);
    w.key("agents").beginArray();
    for (const auto& entry : agents)
        w.raw(agentJson(*entry.second));
    w.endArray().key("asks").beginArray();
    for (const auto& entry : agents) {
        for (const OpenAsk& ask : entry.second->asks)
            w.raw(ask.json);
    }
    w.endArray().endObject();
    return json;
}

void HostServer::Private::agentWentOffline(Agent* agent)
{
    agent->connection = nullptr;
    if (agent->supervisor) {
        // The process goes on; what its connection reported does not.
        agent->statusJson.clear();
        agent->commandsJson = "[]";
    } else {
        for (int s = 0; s < 2; ++s)
            agent->partial[s].present = false;
    }
    failCommandsOf(*agent, ErrorCode::Disconnected, "the agent disconnected before answering");
    broadcastToViewers(agentEvent(*agent, "changed"), false);
}

bool HostServer::Private::rateAllows(Agent& agent, qint64 now)
{
    if (config.rateLimitLinesPerSecond <= 0)
        return true;
    const double burst = config.rateLimitBurst > 0 ? config.rateLimitBurst : config.rateLimitLinesPerSecond;
    if (agent.rateRefillMs == 0) {
        agent.rateTokens = burst;
    } else {
        agent.rateTokens = std::min(
            burst, agent.rateTokens + double(now - agent.rateRefillMs) * config.rateLimitLinesPerSecond / 1000.0);
    }
    agent.rateRefillMs = now;
    if (agent.rateTokens >= 1) {
        agent.rateTokens -= 1;
        return true;
    }
    return false;
}

void HostServer::Private::appendLine(Agent& agent, qint64 seq, qint64 ts, Stream stream, LogLevel level,
                                     QByteArrayView source, QByteArrayView text)
{
    agent.log.append(seq, ts, stream, level, source, text);
    if (agent.file)
        agent.file->appendLine(seq, ts, stream, level, source, text);
    ++agent.linesAppended;
    ++linesIngested;
}

void HostServer::Private::addLogGap(Agent& agent, qint64 from, qint64 to, GapReason reason)
{
    agent.log.addGap(from, to, reason);
    if (agent.file)
        agent.file->appendGap(from, to, reason);
}

void HostServer::Private::handleLog(Connection* c, Json::Value root, QByteArrayView ref)
{
    Agent& agent = *c->agent;
    const Json::Value lines = root["lines"];
    if (!lines.isArray()) {
        sendError(c, ErrorCode::BadMessage, QStringLiteral("log needs an array \"lines\""), ref);
        return;
    }
    const qint64 now = nowMs();
    int rejected = 0;
    QString firstProblem;
    bool rateLimited = false;
    QByteArray redacted;
    static constexpr std::array<QByteArrayView, 7> names = {"text", "stream", "level",  "source",
                                                            "ts",   "seq",    "partial"};
    for (const Json::Value line : lines.items()) {
        std::array<Json::Value, 7> f;
        if (line.isObject())
            readMembers(line, names, &f);
        if (!f[0].isString()) {
            if (++rejected == 1)
                firstProblem = QStringLiteral("a line needs a string \"text\"");
            continue;
        }
        QByteArrayView text = f[0].toUtf8();
        const Stream stream = f[1].isString() && f[1].toUtf8() == "stderr" ? Stream::Stderr : Stream::Stdout;
        LogLevel level = f[2].isString() ? parseLogLevel(f[2].toUtf8()) : LogLevel::Unknown;
        const QByteArrayView source = f[3].isString() ? f[3].toUtf8() : QByteArrayView();
        const qint64 ts = readTimestamp(f[4], now);
        if (redactor.redact(text, &redacted))
            text = redacted;

        if (f[6].toBool()) {
            setPartial(agent, stream, ts, level, source, text);
            continue;
        }

        if (!f[5].isUndefined() && !f[5].isNull()) {
            if (!f[5].isInteger() || f[5].toInteger() < 1) {
                if (++rejected == 1)
                    firstProblem = QStringLiteral("\"seq\" must be an integer from 1");
                continue;
            }
            qint64 seq = f[5].toInteger();
            if (agent.supervisor) {
                // The bot's numbers only tell resends apart; the host numbers what it stores,
                // because the child's captured output shares the agent's numbers.
                if (seq <= agent.botLogSeq)
                    continue;
                agent.botLogSeq = seq;
                seq = agent.log.lastSeq() + 1;
            }
            const qint64 previous = agent.log.lastSeq();
            if (!admitNumbered(agent.log, seq))
                continue;
            if (agent.file && seq > previous + 1)
                agent.file->appendGap(previous + 1, seq - 1, GapReason::AgentDropped);
            level = lineLevel(level, stream, text);
            if (rateAllows(agent, now)) {
                appendLine(agent, seq, ts, stream, level, source, text);
            } else {
                addLogGap(agent, seq, seq, GapReason::RateLimited);
                rateLimited = true;
            }
        } else {
            // An unnumbered text is one line per "\n"; a trailing newline adds none.
            if (text.endsWith('\n'))
                text.chop(text.endsWith("\r\n") ? 2 : 1);
            bool first = true;
            qsizetype start = 0;
            while (true) {
                qsizetype nl = text.indexOf('\n', start);
                QByteArrayView piece = text.sliced(start, (nl < 0 ? text.size() : nl) - start);
                if (nl >= 0 && piece.endsWith('\r'))
                    piece.chop(1);
                if (first) {
                    level = lineLevel(level, stream, piece);
                    first = false;
                }
                const qint64 seq = agent.log.lastSeq() + 1;
                if (rateAllows(agent, now)) {
                    appendLine(agent, seq, ts, stream, level, source, piece);
                } else {
                    addLogGap(agent, seq, seq, GapReason::RateLimited);
                    rateLimited = true;
                }
                if (nl < 0)
                    break;
                start = nl + 1;
            }
        }
        // A complete line ends the stream's unfinished one.
        agent.partial[int(stream)].present = false;
    }
    if (rejected > 0) {
        sendError(c, ErrorCode::BadMessage,
                  QStringLiteral("%1 of %2 lines rejected: %3").arg(rejected).arg(lines.size()).arg(firstProblem), ref);
    }
    if (rateLimited && now - agent.lastRateErrorMs >= 1000) {
        agent.lastRateErrorMs = now;
        sendError(c, ErrorCode::RateLimited,
                  QStringLiteral("over %1 lines per second; lines were dropped").arg(config.rateLimitLinesPerSecond));
    }
    schedulePump();
}

void HostServer::Private::setPartial(Agent& agent, Stream stream, qint64 ts, LogLevel level, QByteArrayView source,
                                     QByteArrayView text)
{
    PartialLine& p = agent.partial[int(stream)];
    level = lineLevel(level, stream, text);
    p.present = true;
    p.text = text.toByteArray();
    p.source = source.toByteArray();
    p.level = level;
    p.ts = ts;
    ++p.latest;
    const qint64 now = nowMs();
    if (now - p.lastForwardMs >= PartialIntervalMs) {
        p.version = p.latest;
        p.lastForwardMs = now;
        schedulePump();
    } else if (!p.timerArmed) {
        p.timerArmed = true;
        const QByteArray id = agent.id;
        const int s = int(stream);
        QTimer::singleShot(int(PartialIntervalMs - (now - p.lastForwardMs)), q,
                           [this, id, s] { releasePartial(id, s); });
    }
}

void HostServer::Private::releasePartial(const QByteArray& agentId, int stream)
{
    auto it = agents.find(agentId);
    if (it == agents.end())
        return;
    PartialLine& p = it->second->partial[stream];
    p.timerArmed = false;
    if (p.present && p.version != p.latest) {
        p.version = p.latest;
        p.lastForwardMs = nowMs();
        schedulePump();
    }
}

void HostServer::Private::handleForum(Connection* c, Json::Value root, QByteArrayView ref)
{
    Agent& agent = *c->agent;
    const Json::Value messages = root["messages"];
    if (!messages.isArray()) {
        sendError(c, ErrorCode::BadMessage, QStringLiteral("forum needs an array \"messages\""), ref);
        return;
    }
    const qint64 now = nowMs();
    int rejected = 0;
    QString firstProblem;
    QByteArray redacted;
    for (const Json::Value m : messages.items()) {
        const Json::Value text = m["text"];
        if (!m.isObject() || !text.isString()) {
            if (++rejected == 1)
                firstProblem = QStringLiteral("a message needs a string \"text\"");
            continue;
        }
        const Json::Value roleValue = m["role"];
        QByteArrayView role = "agent";
        if (roleValue.isString()) {
            role = roleValue.toUtf8();
            if (role != "agent" && role != "host" && role != "system" && role != "user") {
                if (++rejected == 1)
                    firstProblem = QStringLiteral("\"role\" must be agent, host, system or user");
                continue;
            }
        }
        qint64 seq = agent.forum.lastSeq() + 1;
        const Json::Value seqValue = m["seq"];
        if (!seqValue.isUndefined() && !seqValue.isNull()) {
            if (!seqValue.isInteger() || seqValue.toInteger() < 1) {
                if (++rejected == 1)
                    firstProblem = QStringLiteral("\"seq\" must be an integer from 1");
                continue;
            }
            seq = seqValue.toInteger();
            const qint64 previous = agent.forum.lastSeq();
            if (!admitNumbered(agent.forum, seq))
                continue;
            if (agent.forumFile && seq > previous + 1)
                agent.forumFile->appendGap(previous + 1, seq - 1, GapReason::AgentDropped);
        }
        QByteArrayView body = text.toUtf8();
        if (redactor.redact(body, &redacted))
            body = redacted;
        const qint64 ts = readTimestamp(m["ts"], now);
        const QByteArray sender = m["sender"].isString() ? m["sender"].toUtf8().toByteArray() : agent.name.toUtf8();
        const std::optional<QByteArrayView> source =
            m["source"].isString() ? std::optional(m["source"].toUtf8()) : std::nullopt;
        agent.forum.append(seq, forumMessageJson(seq, ts, sender, role, source, body));
        if (agent.forumFile)
            agent.forumFile->appendMessage(seq, ts, role, sender, source.value_or(QByteArrayView()), body);
    }
    if (rejected > 0) {
        sendError(c, ErrorCode::BadMessage,
                  QStringLiteral("%1 of %2 messages rejected: %3").arg(rejected).arg(messages.size()).arg(firstProblem),
                  ref);
    }
    schedulePump();
}

void HostServer::Private::handleMetrics(Connection* c, Json::Value root, QByteArrayView ref)
{
    const Json::Value values = root["values"];
    if (!values.isObject()) {
        sendError(c, ErrorCode::BadMessage, QStringLiteral("metrics needs an object \"values\""), ref);
        return;
    }
    QByteArray json;
    Json::Writer w(&json);
    w.beginObject().key("type").string("metrics").key("agent").string(c->agent->id);
    w.key("ts").integer(readTimestamp(root["ts"], nowMs())).key("values").beginObject();
    for (const Json::Value v : values.items()) {
        if (v.isNumber())
            w.key(v.key()).raw(v.raw());
    }
    w.endObject().endObject();
    broadcast(*c->agent, json, true);
}

void HostServer::Private::handleStatus(Connection* c, Json::Value root, QByteArrayView ref)
{
    const Json::Value state = root["state"];
    if (!state.isString() || !isValidStatusState(state.toUtf8())) {
        sendError(c, ErrorCode::BadMessage,
                  QStringLiteral("status.state must be one of starting, running, idle, busy, stopping, stopped, "
                                 "crashed, error"),
                  ref);
        return;
    }
    Agent& agent = *c->agent;
    const qint64 ts = readTimestamp(root["ts"], nowMs());
    QByteArray status;
    Json::Writer w(&status);
    w.beginObject().key("state").string(state.toUtf8());
    if (root["text"].isString())
        w.key("text").string(root["text"].toUtf8());
    const Json::Value progress = root["progress"];
    if (progress.isNumber())
        w.key("progress").number(std::clamp(progress.toDouble(), 0.0, 1.0));
    const Json::Value tasks = root["tasks"];
    if (tasks.isArray()) {
        w.key("tasks").beginArray();
        for (const Json::Value task : tasks.items()) {
            if (!task.isObject())
                continue;
            w.beginObject();
            for (const char* key : {"id", "title", "state"}) {
                const Json::Value v = task[key];
                if (v.isString())
                    w.key(key).string(v.toUtf8());
                else if (v.isNumber())
                    w.key(key).raw(v.raw());
            }
            w.endObject();
        }
        w.endArray();
    }
    w.key("ts").integer(ts).endObject();
    agent.state = state.toUtf8().toByteArray();
    agent.statusJson = status;

    QByteArray json = "{\"type\":\"status\",\"agent\":\"" + agent.id + "\"," + status.mid(1);
    broadcast(agent, json, false);
}

void HostServer::Private::handleAsk(Connection* c, Json::Value root, QByteArrayView ref)
{
    const Json::Value id = root["id"];
    const Json::Value text = root["text"];
    if (!id.isString() || id.toUtf8().isEmpty() || !text.isString()) {
        sendError(c, ErrorCode::BadMessage, QStringLiteral("ask needs a string \"id\" and \"text\""), ref);
        return;
    }
    Agent& agent = *c->agent;
    QByteArray redacted;
    QByteArrayView body = text.toUtf8();
    if (redactor.redact(body, &redacted))
        body = redacted;
    QByteArray askJson;
    Json::Writer w(&askJson);
    w.beginObject().key("agent").string(agent.id).key("id").string(id.toUtf8()).key("text").string(body);
    const Json::Value choices = root["choices"];
    if (choices.isArray()) {
        w.key("choices").beginArray();
        for (const Json::Value choice : choices.items()) {
            if (choice.isString())
                w.string(choice.toUtf8());
        }
        w.endArray();
    }
    w.key("ts").integer(readTimestamp(root["ts"], nowMs())).endObject();

    const QByteArray askId = id.toUtf8().toByteArray();
    auto existing = std::find_if(agent.asks.begin(), agent.asks.end(), [&](const OpenAsk& a) { return a.id == askId; });
    if (existing != agent.asks.end())
        existing->json = askJson;
    else
        agent.asks.push_back({askId, askJson});
    broadcast(agent, "{\"type\":\"ask\"," + askJson.mid(1), false);
}

void HostServer::Private::handleResult(Connection* c, Json::Value root)
{
    const Json::Value id = root["id"];
    if (!id.isString())
        return;
    const auto found = commandsByHostId.find(id.toUtf8().toByteArray());
    // A result after its timeout, or for a command this agent never got, has nobody waiting.
    if (found == commandsByHostId.end())
        return;
    PendingCommand* command = found->first;
    const size_t target = found->second;
    if (command->targets[target].agentId != c->agent->id)
        return;
    const Json::Value text = root["text"];
    const Json::Value error = root["error"];
    const Json::Value data = root["data"];
    QByteArray extra;
    if (!data.isUndefined())
        extra = ",\"data\":" + data.raw().toByteArray();
    finishTarget(command, target,
                 resultJson(*command, c->agent->id, root["ok"].toBool(false),
                            text.isString() ? text.toUtf8() : QByteArrayView(),
                            error.isString() ? error.toUtf8() : QByteArrayView(), extra));
}

void HostServer::Private::handleSubscribe(Connection* c, Json::Value root, QByteArrayView ref)
{
    const Json::Value agentsValue = root["agents"];
    bool valid = agentsValue.isArray();
    Subscription sub;
    sub.active = true;
    if (valid) {
        for (const Json::Value a : agentsValue.items()) {
            if (!a.isString()) {
                valid = false;
                break;
            }
            if (a.toUtf8() == "*")
                sub.all = true;
            else
                sub.named.insert(a.toUtf8().toByteArray());
        }
    }
    const Json::Value history = root["history"];
    if (!history.isUndefined() && !history.isNull()) {
        if (!history.isInteger() || history.toInteger() < 0)
            valid = false;
        else
            sub.history = history.toInteger();
    }
    const Json::Value levels = root["levels"];
    if (levels.isArray()) {
        for (const Json::Value l : levels.items()) {
            const LogLevel level = l.isString() ? parseLogLevel(l.toUtf8()) : LogLevel::Unknown;
            if (level == LogLevel::Unknown)
                valid = false;
            else
                sub.levelMask |= quint8(1u << unsigned(level));
        }
    } else if (!levels.isUndefined() && !levels.isNull()) {
        valid = false;
    }
    const Json::Value sources = root["sources"];
    if (sources.isArray()) {
        for (const Json::Value s : sources.items()) {
            if (s.isString())
                sub.sources.append(s.toUtf8().toByteArray());
            else
                valid = false;
        }
    } else if (!sources.isUndefined() && !sources.isNull()) {
        valid = false;
    }
    const Json::Value since = root["since"];
    if (since.isObject()) {
        for (const Json::Value entry : since.items()) {
            if (!entry.isObject()) {
                valid = false;
                continue;
            }
            const Json::Value log = entry["log"];
            const Json::Value forum = entry["forum"];
            if ((!log.isUndefined() && !log.isInteger()) || (!forum.isUndefined() && !forum.isInteger())) {
                valid = false;
                continue;
            }
            sub.since.insert(entry.key().toByteArray(),
                             {std::max<qint64>(0, log.toInteger(0)), std::max<qint64>(0, forum.toInteger(0))});
        }
    } else if (!since.isUndefined() && !since.isNull()) {
        valid = false;
    }
    if (!valid) {
        sendError(c, ErrorCode::BadMessage,
                  QStringLiteral("subscribe needs \"agents\" (an array of ids or \"*\"); \"since\", \"history\", "
                                 "\"levels\" and \"sources\" are optional and must be well formed"),
                  ref);
        return;
    }
    sub.agentsJson = agentsValue.raw().toByteArray();

    c->sub = sub;
    c->cursors.clear();
    c->deferred.clear();
    c->replaying = true;
    for (auto& entry : agents) {
        Agent* agent = entry.second.get();
        if (c->sub.covers(agent->id))
            c->cursors.emplace(agent->id, placeCursor(c->sub, agent, true));
    }
    pumpViewer(c);
}

void HostServer::Private::handleUnsubscribe(Connection* c, Json::Value root, QByteArrayView ref)
{
    const Json::Value agentsValue = root["agents"];
    if (!agentsValue.isArray()) {
        sendError(c, ErrorCode::BadMessage, QStringLiteral("unsubscribe needs an array \"agents\""), ref);
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

// ---------------------------------------------------------------------------
// Commands

QByteArray HostServer::Private::resultJson(const PendingCommand& command, const QByteArray& agentId, bool ok,
                                           QByteArrayView text, QByteArrayView error, QByteArrayView extraRaw) const
{
    QByteArray json;
    Json::Writer w(&json);
    w.beginObject().key("type").string("result").key("id").raw(command.idJson);
    if (!agentId.isEmpty())
        w.key("agent").string(agentId);
    w.key("ok").boolean(ok);
    if (!text.isNull())
        w.key("text").string(text);
    if (!error.isEmpty())
        w.key("error").string(error);
    w.endObject();
    if (!extraRaw.isEmpty())
        json.insert(json.size() - 1, extraRaw.toByteArray());
    return json;
}

void HostServer::Private::finishTarget(PendingCommand* command, size_t target, const QByteArray& result)
{
    CommandTarget& t = command->targets[target];
    if (t.done)
        return;
    t.done = true;
    if (!t.hostCommandId.isEmpty())
        commandsByHostId.remove(t.hostCommandId);
    if (command->viewer)
        send(command->viewer, result);
    if (--command->remaining <= 0)
        dropCommand(command);
}

void HostServer::Private::dropCommand(PendingCommand* command)
{
    for (const CommandTarget& t : command->targets) {
        if (!t.hostCommandId.isEmpty())
            commandsByHostId.remove(t.hostCommandId);
    }
    if (command->viewer) {
        const auto it = command->viewer->commands.find(command->id);
        if (it != command->viewer->commands.end() && it.value() == command)
            command->viewer->commands.erase(it);
    }
    for (auto it = commands.begin(); it != commands.end(); ++it) {
        if (it->second.get() == command) {
            commands.erase(it);
            break;
        }
    }
}

void HostServer::Private::failCommandsOf(const Agent& agent, QByteArrayView error, QByteArrayView text, bool builtins)
{
    std::vector<std::pair<PendingCommand*, size_t>> affected;
    for (auto& entry : commands) {
        PendingCommand* command = entry.second.get();
        for (size_t i = 0; i < command->targets.size(); ++i) {
            const CommandTarget& t = command->targets[i];
            if (!t.done && t.agentId == agent.id && (builtins || !t.builtin))
                affected.emplace_back(command, i);
        }
    }
    // finishTarget may free a command, so every result is built before any is sent.
    std::vector<QByteArray> results;
    for (const auto& [command, i] : affected)
        results.push_back(resultJson(*command, agent.id, false, text, error));
    for (size_t k = 0; k < affected.size(); ++k)
        finishTarget(affected[k].first, affected[k].second, results[k]);
}

void HostServer::Private::handleCommand(Connection* c, Json::Value root)
{
    const Json::Value id = root["id"];
    if (!(id.isString() && !id.toUtf8().isEmpty()) && !id.isNumber()) {
        sendError(c, ErrorCode::BadMessage, QStringLiteral("a command needs an \"id\""));
        return;
    }
    auto owned = std::make_unique<PendingCommand>();
    PendingCommand* command = owned.get();
    command->viewer = c;
    // Keyed by the id as written, so "1" and 1 are different ids.
    command->id = id.raw().toByteArray();
    command->idJson = id.raw().toByteArray();
    command->deadlineMs = nowMs() + config.commandTimeoutMs;

    const Json::Value agentValue = root["agent"];
    const Json::Value nameValue = root["name"];
    const Json::Value args = root["args"];
    const QByteArray agentId = agentValue.toUtf8().toByteArray();
    auto reply = [&](bool ok, QByteArrayView text, QByteArrayView error, const QByteArray& agent = {}) {
        send(c, resultJson(*command, agent, ok, text, error));
    };

    if (c->commands.contains(command->id)) {
        reply(false, "this command id is still pending", ErrorCode::BadMessage, agentId);
        return;
    }
    if (!agentValue.isString() || !nameValue.isString() || nameValue.toUtf8().isEmpty()
        || (!args.isUndefined() && !args.isNull() && !args.isObject())) {
        reply(false, "a command needs a string \"agent\" and \"name\"; \"args\" must be an object",
              ErrorCode::BadMessage, agentId);
        return;
    }
    const QByteArrayView name = nameValue.toUtf8();
    const QByteArray argsJson = args.isObject() ? args.raw().toByteArray() : QByteArray("{}");

    std::vector<Agent*> targets;
    if (agentId == "*") {
        for (auto& entry : agents) {
            if (entry.second->connection || entry.second->supervisor)
                targets.push_back(entry.second.get());
        }
        if (targets.empty()) {
            reply(false, "no agents", ErrorCode::NoAgents);
            return;
        }
    } else {
        auto it = agents.find(agentId);
        if (it == agents.end()) {
            reply(false, "no agent has this id", ErrorCode::UnknownAgent, agentId);
            return;
        }
        targets.push_back(it->second.get());
    }

    PendingCommand* pending = command;
    commands.emplace(nextCommandSerial++, std::move(owned));
    c->commands.insert(pending->id, pending);
    pending->remaining = int(targets.size());
    for (Agent* agent : targets)
        pending->targets.push_back({agent->id, {}, false});

    const bool isAnswer = name == "answer";
    static constexpr std::array<QByteArrayView, 6> builtins = {"start", "stop", "restart", "kill", "signal", "stdin"};
    const bool isBuiltin = std::find(builtins.begin(), builtins.end(), name) != builtins.end();
    for (size_t i = 0; i < targets.size(); ++i) {
        Agent* agent = targets[i];
        if (isBuiltin && agent->supervisor) {
            runBuiltin(pending, i, agent, name, args);
            continue;
        }
        if (isAnswer) {
            const QByteArrayView askId = args["ask"].toUtf8();
            const auto ask =
                std::find_if(agent->asks.begin(), agent->asks.end(), [&](const OpenAsk& a) { return a.id == askId; });
            if (!args["ask"].isString() || ask == agent->asks.end()) {
                finishTarget(pending, i, resultJson(*pending, agent->id, false, "no open question with this id", {}));
                continue;
            }
            if (!agent->connection) {
                finishTarget(pending, i,
                             resultJson(*pending, agent->id, false, "the agent is offline", ErrorCode::NotConnected));
                continue;
            }
            QByteArray closed;
            Json::Writer w(&closed);
            w.beginObject().key("type").string("ask_closed").key("agent").string(agent->id).key("id").string(askId);
            w.key("choice");
            const Json::Value choice = args["choice"];
            if (choice.isUndefined())
                w.null();
            else
                w.raw(choice.raw());
            w.endObject();
            agent->asks.erase(ask);
            broadcast(*agent, closed, false);
        }
        if (!agent->connection) {
            finishTarget(pending, i,
                         resultJson(*pending, agent->id, false, "the agent is offline", ErrorCode::NotConnected));
            continue;
        }
        const QByteArray hostCommandId = 'c' + QByteArray::number(nextCommandSerial++);
        pending->targets[i].hostCommandId = hostCommandId;
        commandsByHostId.insert(hostCommandId, {pending, i});
        QByteArray forward;
        Json::Writer w(&forward);
        w.beginObject().key("type").string("command").key("id").string(hostCommandId).key("name").string(name);
        w.key("args").raw(argsJson).endObject();
        send(agent->connection, forward);
    }
}

// ---------------------------------------------------------------------------
// Log files

void HostServer::Private::openFiles(Agent* agent)
{
    if (config.logDirectory.isEmpty())
        return;
    // Numbering goes on where each file ends, and the newest items are back in memory.
    agent->file = openFile(*agent, LogFile::Kind::Console, std::min<qint64>(RestoredLines, config.logRetentionLines),
                           agent->log, [agent](const StoredLine& line) {
                               agent->log.append(line.seq, line.ts, line.stream, line.level, line.source, line.text);
                           });
    agent->forumFile =
        openFile(*agent, LogFile::Kind::Forum, std::min<qint64>(config.forumRetentionMessages, LogFile::MaxReadLimit),
                 agent->forum, [agent](const StoredLine& message) {
                     const std::optional<QByteArrayView> source =
                         message.source.isEmpty() ? std::nullopt : std::optional<QByteArrayView>(message.source);
                     agent->forum.append(
                         message.seq,
                         forumMessageJson(message.seq, message.ts, message.sender, message.role, source, message.text));
                 });
}

template <typename Store, typename Restore>
std::unique_ptr<LogFile> HostServer::Private::openFile(const Agent& agent, LogFile::Kind kind, qint64 restore,
                                                       Store& store, Restore&& append)
{
    auto file = std::make_unique<LogFile>(LogFile::pathFor(config.logDirectory, agent.id, kind), config.logFileMaxBytes,
                                          config.logFileBackups, kind);
    file->setFileMode(config.logFileMode);
    QString error;
    if (!file->open(&error)) {
        Q_EMIT q->warning(QStringLiteral("no %1 file for agent %2: %3")
                              .arg(kind == LogFile::Kind::Console ? QStringLiteral("log") : QStringLiteral("forum"),
                                   QString::fromLatin1(agent.id), error));
        return {};
    }
    const qint64 last = file->lastSeq();
    if (last <= 0)
        return file;
    std::vector<StoredLine> items;
    std::vector<SeqGap> gaps;
    bool more = false;
    if (!file->readBefore(0, int(restore), &items, &gaps, &more, &error))
        Q_EMIT q->warning(QStringLiteral("cannot read back %1: %2").arg(file->path(), error));
    auto gapReason = [&](qint64 seq) {
        for (const SeqGap& gap : gaps) {
            if (gap.from <= seq && seq <= gap.to)
                return gap.reason;
        }
        return GapReason::Evicted;
    };
    for (const StoredLine& item : items) {
        if (item.seq > store.lastSeq() + 1)
            store.addGap(store.lastSeq() + 1, item.seq - 1, gapReason(item.seq - 1));
        append(item);
    }
    if (last > store.lastSeq())
        store.addGap(store.lastSeq() + 1, last, gapReason(last));
    return file;
}

void HostServer::Private::loadOrCreateHostId()
{
    if (config.logDirectory.isEmpty())
        return;
    // With log files the numbers go on across restarts, so the host keeps its id too.
    QFile file(QDir(config.logDirectory).filePath(QStringLiteral("host-id")));
    if (file.open(QIODevice::ReadOnly)) {
        const QByteArray id = file.readAll().trimmed();
        if (id.size() == 16 && QByteArray::fromHex(id).size() == 8) {
            hostId = id;
            return;
        }
        file.close();
    }
    LogFile::makeDirectory(config.logDirectory, config.logFileMode);
    if (file.open(QIODevice::WriteOnly | QIODevice::Truncate))
        file.write(hostId + '\n');
}

void HostServer::Private::handleHistory(Connection* c, Json::Value root, QByteArrayView ref)
{
    const Json::Value agentValue = root["agent"];
    const Json::Value beforeValue = root["before"];
    const Json::Value limitValue = root["limit"];
    const Json::Value kindValue = root["kind"];
    const bool valid = agentValue.isString() && (beforeValue.isUndefined() || beforeValue.isInteger())
        && (limitValue.isUndefined() || (limitValue.isInteger() && limitValue.toInteger() >= 1))
        && (kindValue.isUndefined() || kindValue.toUtf8() == "log" || kindValue.toUtf8() == "forum");
    if (!valid) {
        sendError(c, ErrorCode::BadMessage,
                  QStringLiteral("history needs a string \"agent\"; \"before\" and \"limit\" (from 1) are "
                                 "integers; \"kind\" is log or forum"),
                  ref);
        return;
    }
    const auto it = agents.find(agentValue.toUtf8().toByteArray());
    if (it == agents.end()) {
        sendError(c, ErrorCode::BadMessage, QStringLiteral("no agent has this id"), ref);
        return;
    }
    Agent& agent = *it->second;
    const bool forum = kindValue.toUtf8() == "forum";
    const qint64 before = beforeValue.toInteger(0);
    const int limit = int(std::min<qint64>(limitValue.toInteger(1000), MaxHistoryLines));

    // Each item as it goes into the reply, oldest first.
    struct Item
    {
        qint64 seq;
        QByteArray json;
    };
    std::vector<Item> items;
    std::vector<SeqGap> gaps;
    bool more = false;
    LogFile* file = forum ? agent.forumFile.get() : agent.file.get();
    if (file) {
        std::vector<StoredLine> stored;
        QString error;
        if (!file->readBefore(before, limit, &stored, &gaps, &more, &error)) {
            sendError(c, ErrorCode::BadMessage, QStringLiteral("cannot read %1: %2").arg(file->path(), error), ref);
            return;
        }
        items.reserve(stored.size());
        for (const StoredLine& l : stored) {
            QByteArray json;
            if (forum) {
                json = forumMessageJson(l.seq, l.ts, l.sender, l.role,
                                        l.source.isEmpty() ? std::nullopt : std::optional<QByteArrayView>(l.source),
                                        l.text);
            } else {
                appendLineJson(json, {l.seq, l.ts, l.stream, l.level, l.source, l.text});
            }
            items.push_back({l.seq, std::move(json)});
        }
    } else {
        // Without files, history is what memory holds, so "more" means more in memory.
        const auto fromMemory = [&](const auto& store, qsizetype count, auto itemAt) {
            const qsizetype end = before > 0 ? store.indexOfSeq(before) : count;
            const qsizetype begin = std::max<qsizetype>(0, end - limit);
            for (qsizetype i = begin; i < end; ++i)
                items.push_back(itemAt(i));
            more = begin > 0;
            const qint64 low = items.empty() ? 0 : items.front().seq;
            const qint64 high = before > 0 ? before : store.lastSeq() + 1;
            for (const SeqGap* gap = store.gaps().firstEndingAtOrAfter(low); gap && gap->from < high;
                 gap = store.gaps().firstEndingAtOrAfter(gap->to + 1))
                gaps.push_back(*gap);
        };
        if (forum) {
            fromMemory(agent.forum, agent.forum.size(), [&](qsizetype i) {
                return Item{agent.forum.at(i).seq, agent.forum.at(i).json};
            });
        } else {
            fromMemory(agent.log, agent.log.lineCount(), [&](qsizetype i) {
                const LogLine line = agent.log.lineAt(i);
                Item item{line.seq, {}};
                appendLineJson(item.json, line);
                return item;
            });
        }
    }
    // Keep the reply within one message: the newest items win.
    size_t first = items.size();
    qint64 bytes = 0;
    while (first > 0) {
        const qint64 cost = items[first - 1].json.size() + 16;
        if (bytes + cost > MaxBytesPerMessage && first < items.size())
            break;
        bytes += cost;
        --first;
    }
    if (first > 0)
        more = true;

    QByteArray json;
    Json::Writer w(&json);
    w.beginObject().key("type").string("history").key("id").raw(ref.isEmpty() ? QByteArrayView("null") : ref);
    w.key("agent").string(agent.id);
    if (forum)
        w.key("kind").string("forum");
    w.key(forum ? "messages" : "lines").raw("[");
    for (size_t i = first; i < items.size(); ++i) {
        if (i > first)
            json += ',';
        json += items[i].json;
    }
    json += ']';
    w.key("gaps").beginArray();
    const qint64 low = first < items.size() ? items[first].seq : 0;
    for (const SeqGap& gap : gaps) {
        if (gap.to < low)
            continue;
        w.beginObject().key("from").integer(gap.from).key("to").integer(gap.to);
        w.key("reason").string(gapReasonName(gap.reason)).endObject();
    }
    w.endArray().key("more").boolean(more).endObject();
    send(c, json);
}

// ---------------------------------------------------------------------------
// Launched agents

QProcessEnvironment HostServer::Private::childEnvironment(const AgentDefinition& definition) const
{
    QProcessEnvironment environment;
    environment.insert(QStringLiteral("AGENTDECK_URL"), q->url().toString());
    environment.insert(QStringLiteral("AGENTDECK_TOKEN"), agentToken);
    environment.insert(QStringLiteral("AGENTDECK_AGENT_ID"), QString::fromLatin1(definition.id));
    environment.insert(QStringLiteral("AGENTDECK_AGENT_NAME"),
                       definition.name.isEmpty() ? QString::fromLatin1(definition.id) : definition.name);
    return environment;
}

Agent* HostServer::Private::launch(const AgentDefinition& definition)
{
    bool created = false;
    Agent* agent = ensureAgent(definition.id, &created);
    agent->origin = Origin::Launched;
    agent->removing = false;
    if (!definition.name.isEmpty())
        agent->name = definition.name;
    if (agent->supervisor)
        launched.remove(agent->supervisor.get());
    agent->supervisor = std::make_unique<ProcessSupervisor>(definition, this);
    agent->supervisor->setExtraEnvironment(childEnvironment(definition));
    agent->supervisor->setMaxLineBytes(config.maxLineBytes);
    launched.insert(agent->supervisor.get(), agent);
    agent->linesAtLastSample = agent->linesAppended;
    if (created)
        coverNewAgent(agent);
    broadcastToViewers(agentEvent(*agent, created ? "added" : "changed"), false);
    if (definition.autostart)
        agent->supervisor->start();
    return agent;
}

void HostServer::Private::shutdownLaunched()
{
    qint64 wait = 0;
    for (auto& entry : agents) {
        ProcessSupervisor* s = entry.second->supervisor.get();
        if (!s)
            continue;
        if (s->isAlive())
            wait = std::max<qint64>(wait, s->definition().stopwaitsecs * 1000ll);
        // Also for those waiting to restart: no new process after this.
        s->beginShutdown();
    }
    const qint64 deadline = nowMs() + wait;
    for (auto& entry : agents) {
        if (ProcessSupervisor* s = entry.second->supervisor.get())
            s->finishShutdown(deadline);
    }
}

void HostServer::Private::runBuiltin(PendingCommand* command, size_t target, Agent* agent, QByteArrayView name,
                                     Json::Value args)
{
    const QByteArray hostCommandId = 'c' + QByteArray::number(nextCommandSerial++);
    command->targets[target].hostCommandId = hostCommandId;
    command->targets[target].builtin = true;
    commandsByHostId.insert(hostCommandId, {command, target});
    const QByteArray agentId = agent->id;
    auto done = [this, hostCommandId, agentId](bool ok, const QByteArray& text) {
        const auto found = commandsByHostId.find(hostCommandId);
        if (found == commandsByHostId.end())
            return; // timed out, or the viewer went away
        PendingCommand* pending = found->first;
        finishTarget(pending, found->second, resultJson(*pending, agentId, ok, text, {}));
    };
    ProcessSupervisor& process = *agent->supervisor;
    if (agent->removing) {
        done(false, "the agent is being removed");
    } else if (name == "start") {
        process.start(done);
    } else if (name == "stop") {
        process.stop(done);
    } else if (name == "restart") {
        process.restart(done);
    } else if (name == "kill") {
        process.kill(done);
    } else if (name == "signal") {
        const Json::Value signalValue = args["signal"];
        const int signal = signalValue.isString() ? parseSignal(signalValue.toUtf8())
            : signalValue.isInteger()             ? parseSignal(QByteArray::number(signalValue.toInteger()))
                                                  : 0;
        QByteArray text = "args.signal must name a signal, such as \"SIGUSR1\"";
        if (signal == 0) {
            finishTarget(command, target, resultJson(*command, agentId, false, text, ErrorCode::BadMessage));
            return;
        }
        const bool ok = process.sendSignal(signal, &text);
        done(ok, text);
    } else {
        const Json::Value text = args["text"];
        if (!text.isString()) {
            finishTarget(command, target,
                         resultJson(*command, agentId, false, "args.text must be a string", ErrorCode::BadMessage));
            return;
        }
        QByteArray message;
        const bool ok = process.writeStdin(text.toUtf8(), &message);
        done(ok, message);
    }
}

void HostServer::Private::sampleLaunched(qint64 ts)
{
    QList<qint64> groups;
    for (auto it = launched.cbegin(); it != launched.cend(); ++it) {
        if (it.key()->isAlive() && it.key()->pid() > 0)
            groups.append(it.key()->pid());
    }
    const qint64 now = nowMs();
    const double seconds = lastGroupSampleMs > 0 ? std::max<qint64>(1, now - lastGroupSampleMs) / 1000.0 : 1.0;
    lastGroupSampleMs = now;
    const auto usage = groupSampler.sample(groups);
    for (auto it = launched.cbegin(); it != launched.cend(); ++it) {
        const ProcessSupervisor* process = it.key();
        Agent& agent = *it.value();
        // Whatever way they came: the process's output or the agent's own connection.
        const quint64 lines = agent.linesAppended;
        const double linesPerSecond = double(lines - agent.linesAtLastSample) / seconds;
        agent.linesAtLastSample = lines;
        if (!process->isAlive() || process->pid() <= 0)
            continue;
        const ProcessGroupUsage group = usage.value(process->pid());
        QByteArray json;
        Json::Writer w(&json);
        w.beginObject().key("type").string("metrics").key("agent").string(agent.id).key("ts").integer(ts);
        w.key("values").beginObject().key("cpu").number(std::round(group.cpuPercent * 10) / 10);
        w.key("rss_bytes").integer(group.rssBytes).key("lines_per_s").number(std::round(linesPerSecond * 10) / 10);
        w.key("processes").integer(group.processes).endObject().endObject();
        broadcast(agent, json, true);
    }
}

void HostServer::Private::processLine(ProcessSupervisor* supervisor, Stream stream, qint64 ts, QByteArrayView text)
{
    Agent* agent = launched.value(supervisor);
    if (!agent)
        return;
    if (redactor.redact(text, &redactScratch))
        text = redactScratch;
    const LogLevel level = lineLevel(LogLevel::Unknown, stream, text);
    appendLine(*agent, agent->log.lastSeq() + 1, ts, stream, level, {}, text);
}

void HostServer::Private::processPartial(ProcessSupervisor* supervisor, Stream stream, qint64 ts, QByteArrayView text)
{
    Agent* agent = launched.value(supervisor);
    if (!agent)
        return;
    if (text.isEmpty()) {
        agent->partial[int(stream)].present = false;
        return;
    }
    if (redactor.redact(text, &redactScratch))
        text = redactScratch;
    setPartial(*agent, stream, ts, LogLevel::Unknown, {}, text);
}

void HostServer::Private::processOutputDone(ProcessSupervisor* supervisor)
{
    Q_UNUSED(supervisor);
    schedulePump();
}

void HostServer::Private::processEvent(ProcessSupervisor* supervisor, LogLevel level, const QByteArray& text)
{
    Agent* agent = launched.value(supervisor);
    if (!agent)
        return;
    appendLine(*agent, agent->log.lastSeq() + 1, nowMs(), Stream::Stdout, level, HostSource, text);
    schedulePump();
}

void HostServer::Private::processStateChanged(ProcessSupervisor* supervisor)
{
    Agent* agent = launched.value(supervisor);
    if (!agent)
        return;
    if (supervisor->state() != ProcessSupervisor::State::Running)
        agent->statusJson.clear();
    broadcastToViewers(agentEvent(*agent, "changed"), false);
}

// ---------------------------------------------------------------------------
// Editing agent definitions

void HostServer::Private::replyRequest(Connection* c, QByteArrayView ref, const QByteArray& agentId, bool ok,
                                       QByteArrayView text, QByteArrayView error)
{
    PendingCommand reply;
    reply.idJson = ref.isEmpty() ? QByteArray("null") : ref.toByteArray();
    send(c, resultJson(reply, agentId, ok, text, error));
}

bool HostServer::Private::saveDefinitions(const std::vector<AgentDefinition>& definitions, QString* error)
{
    if (config.configPath.isEmpty())
        return true;
    return saveAgents(config.configPath, definitions, error);
}

void HostServer::Private::handleDefineAgent(Connection* c, Json::Value root, QByteArrayView ref)
{
    if (!config.allowAgentEditing) {
        sendError(c, ErrorCode::Forbidden, QStringLiteral("this host does not allow editing agents"), ref);
        return;
    }
    AgentDefinition definition;
    QString problem;
    if (!AgentDefinition::fromJson(root["agent"], QStringLiteral("agent."), &definition, &problem)) {
        replyRequest(c, ref, root["agent"]["id"].toUtf8().toByteArray(), false, problem.toUtf8(),
                     ErrorCode::BadMessage);
        return;
    }
    const auto existing = agents.find(definition.id);
    Agent* agent = existing != agents.end() ? existing->second.get() : nullptr;
    if (agent && agent->removing) {
        replyRequest(c, ref, definition.id, false, "the agent is being removed", ErrorCode::BadMessage);
        return;
    }
    if (agent && !agent->supervisor && agent->connection) {
        replyRequest(c, ref, definition.id, false, "a connected agent has this id; it must disconnect first",
                     ErrorCode::BadMessage);
        return;
    }
    std::vector<AgentDefinition> definitions = config.agents;
    auto slot = std::find_if(definitions.begin(), definitions.end(),
                             [&](const AgentDefinition& d) { return d.id == definition.id; });
    const bool changed = slot != definitions.end();
    if (changed)
        *slot = definition;
    else
        definitions.push_back(definition);
    if (!saveDefinitions(definitions, &problem)) {
        replyRequest(c, ref, definition.id, false, QByteArray("not saved, nothing changed: " + problem.toUtf8()));
        return;
    }
    config.agents = definitions;

    if (agent && agent->supervisor) {
        const bool running = agent->supervisor->isAlive();
        agent->supervisor->setDefinition(definition);
        agent->supervisor->setExtraEnvironment(childEnvironment(definition));
        if (!definition.name.isEmpty())
            agent->name = definition.name;
        broadcastToViewers(agentEvent(*agent, "changed"), false);
        replyRequest(c, ref, definition.id, true, running ? "changed; takes effect at the next start" : "changed");
        return;
    }
    launch(definition);
    replyRequest(c, ref, definition.id, true, definition.autostart ? "added and starting" : "added");
}

void HostServer::Private::handleRemoveAgent(Connection* c, Json::Value root, QByteArrayView ref)
{
    if (!config.allowAgentEditing) {
        sendError(c, ErrorCode::Forbidden, QStringLiteral("this host does not allow editing agents"), ref);
        return;
    }
    const Json::Value idValue = root["agent"];
    const QByteArray id = idValue.toUtf8().toByteArray();
    if (!idValue.isString()) {
        replyRequest(c, ref, {}, false, "remove_agent needs a string \"agent\"", ErrorCode::BadMessage);
        return;
    }
    const auto it = agents.find(id);
    if (it == agents.end()) {
        replyRequest(c, ref, id, false, "no agent has this id", ErrorCode::UnknownAgent);
        return;
    }
    Agent* agent = it->second.get();
    if (agent->removing) {
        replyRequest(c, ref, id, false, "the agent is already being removed");
        return;
    }
    if (!agent->supervisor && agent->connection) {
        replyRequest(c, ref, id, false, "the agent is connected; only offline or launched agents can be removed");
        return;
    }
    if (agent->supervisor) {
        std::vector<AgentDefinition> definitions = config.agents;
        definitions.erase(std::remove_if(definitions.begin(), definitions.end(),
                                         [&](const AgentDefinition& d) { return d.id == id; }),
                          definitions.end());
        QString problem;
        if (!saveDefinitions(definitions, &problem)) {
            replyRequest(c, ref, id, false, QByteArray("not saved, nothing changed: " + problem.toUtf8()));
            return;
        }
        config.agents = definitions;
    }
    agent->removing = true;
    const QByteArray refJson = ref.toByteArray();
    const quint64 serial = c->serial;
    auto finish = [this, id, refJson, serial] {
        // Later, so that the supervisor is not on the stack when it goes.
        QMetaObject::invokeMethod(
            q,
            [this, id, refJson, serial] {
                removeAgent(id);
                for (auto& entry : connections) {
                    if (entry.second->serial == serial && !entry.second->closing)
                        replyRequest(entry.second.get(), refJson, id, true, "removed");
                }
            },
            Qt::QueuedConnection);
    };
    const bool active = agent->supervisor
        && (agent->supervisor->isAlive() || agent->supervisor->state() == ProcessSupervisor::State::Backoff);
    if (active)
        agent->supervisor->stop([finish](bool, const QByteArray&) { finish(); });
    else
        finish();
}

void HostServer::Private::removeAgent(const QByteArray& id)
{
    const auto it = agents.find(id);
    if (it == agents.end())
        return;
    Agent* agent = it->second.get();
    failCommandsOf(*agent, ErrorCode::Disconnected, "the agent was removed", true);
    if (agent->connection) {
        agent->connection->agent = nullptr;
        close(agent->connection, CloseNormal, QStringLiteral("agent removed"));
        agent->connection = nullptr;
    }
    for (auto& entry : connections)
        entry.second->cursors.erase(id);
    if (agent->supervisor)
        launched.remove(agent->supervisor.get());
    QByteArray json;
    Json::Writer w(&json);
    w.beginObject().key("type").string("agent").key("event").string("removed");
    w.key("agent").beginObject().key("id").string(id).endObject().endObject();
    agent->flushFiles();
    agents.erase(it);
    broadcastToViewers(json, false);
}
