// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/engine/gateway.h"

#include "server/engine/hostconfig.h"
#include "server/engine/socketguards.h"
#include "server/protocol/protocol.h"

#include <QFile>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslKey>
#include <QSslServer>
#include <QSslSocket>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>
#include <QWebSocket>
#include <QWebSocketCorsAuthenticator>
#include <QWebSocketServer>
#include <algorithm>
#include <memory>
#include <sys/resource.h>

using Protocol::nowMs;

namespace {

QString socketKey(const QHostAddress& address, quint16 port)
{
    return address.toString() + QLatin1Char('|') + QString::number(port);
}

/// The address to listen on: an IP address, "localhost", or "*"/"any".
bool listenAddress(const QString& text, QHostAddress* address)
{
    if (text == QLatin1String("localhost"))
        *address = QHostAddress::LocalHost;
    else if (text == QLatin1String("*") || text == QLatin1String("any"))
        *address = QHostAddress::Any;
    else
        return address->setAddress(text);
    return true;
}

/// A TLS server with the configured certificate chain and key (RSA or EC, PEM).
QSslServer* tlsServer(const HostConfig& config, QObject* parent, QString* error)
{
    const QList<QSslCertificate> chain = QSslCertificate::fromPath(config.tlsCertificate);
    QFile keyFile(config.tlsKey);
    if (chain.isEmpty() || !keyFile.open(QIODevice::ReadOnly)) {
        *error =
            QStringLiteral("cannot read the TLS certificate %1 or key %2").arg(config.tlsCertificate, config.tlsKey);
        return nullptr;
    }
    const QByteArray keyPem = keyFile.readAll();
    QSslKey key(keyPem, QSsl::Rsa);
    if (key.isNull())
        key = QSslKey(keyPem, QSsl::Ec);
    if (key.isNull()) {
        *error = QStringLiteral("cannot read the TLS key %1 (RSA or EC, PEM)").arg(config.tlsKey);
        return nullptr;
    }
    QSslConfiguration sslConfig = QSslConfiguration::defaultConfiguration();
    sslConfig.setLocalCertificateChain(chain);
    sslConfig.setPrivateKey(key);
    sslConfig.setPeerVerifyMode(QSslSocket::VerifyNone);
    auto* ssl = new QSslServer(parent);
    ssl->setSslConfiguration(sslConfig);
    ssl->setHandshakeTimeout(config.upgradeTimeoutMs);
    return ssl;
}

/// How long accepting pauses when the process is out of file handles.
constexpr int AcceptPauseMs = 200;

} // namespace

/// One counted connection, from the TCP accept until its socket is gone.
struct Gateway::Slot
{
    QString group;
    QString key; // "address|port" while it is pending
    QPointer<QTcpSocket> tcp;
    QPointer<QWebSocket> ws;
    QPointer<SocketGuard> guard;
    const QWebSocket* wsKey = nullptr; // in m_upgraded; ws is already null when it is destroyed
    qint64 acceptedMs = 0;
    bool overLimit = false;
    bool trusted = false;
    bool counted = true;
    std::list<SlotPtr>::iterator order;
    std::list<SlotPtr>::iterator untrusted;
    std::list<SlotPtr>::iterator inGroup;
};

Gateway::Gateway(const HostConfig& config, QObject* owner, Accepted accepted)
    : m_config(config)
    , m_owner(owner)
    , m_accepted(std::move(accepted))
    , m_linger(new CloseLinger(config.closeGraceMs, owner))
{ }

Gateway::~Gateway()
{
    close();
}

bool Gateway::makeServer(QString* error)
{
    m_secure = !m_config.tlsCertificate.isEmpty() || !m_config.tlsKey.isEmpty();
    if (m_secure)
        m_tcpServer = tlsServer(m_config, m_owner, error);
    else
        m_tcpServer = new QTcpServer(m_owner);
    if (!m_tcpServer)
        return false;
    m_tcpServer->setMaxPendingConnections(1024);
    QObject::connect(m_tcpServer, &QTcpServer::pendingConnectionAvailable, m_owner, [this] { onTcpConnection(); });
    // Out of file handles, the listening socket stays readable: pause rather than spin.
    QObject::connect(m_tcpServer, &QTcpServer::acceptError, m_owner, [this](QAbstractSocket::SocketError) {
        pauseAccepting();
        QTimer::singleShot(AcceptPauseMs, m_owner, [this] {
            if (m_tcpServer && m_paused && connectionCount() < m_maxConnections) {
                m_paused = false;
                m_tcpServer->resumeAccepting();
            }
        });
    });

    m_wsServer = new QWebSocketServer(QStringLiteral("AgentDeck/") + QLatin1String(AGENTDECK_VERSION),
                                      QWebSocketServer::NonSecureMode, m_owner);
    m_wsServer->setMaxPendingConnections(1024);
    QObject::connect(m_wsServer, &QWebSocketServer::originAuthenticationRequired, m_owner,
                     [this](QWebSocketCorsAuthenticator* auth) {
                         // Browsers always send an Origin; other clients do not.
                         const QString origin = auth->origin();
                         auth->setAllowed(origin.isEmpty() || m_config.allowedOrigins.contains(origin));
                     });
    QObject::connect(m_wsServer, &QWebSocketServer::newConnection, m_owner, [this] { onWebSocketConnection(); });
    return true;
}

int Gateway::raiseFileLimit()
{
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return 1024;
    if (limit.rlim_cur < limit.rlim_max) {
        rlimit raised = limit;
        raised.rlim_cur = limit.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
            limit = raised;
    }
    return int(std::min<rlim_t>(limit.rlim_cur, 1 << 30));
}

QString Gateway::addressGroup(const QHostAddress& address)
{
    bool isIPv4 = false;
    const quint32 v4 = address.toIPv4Address(&isIPv4);
    if (isIPv4)
        return (v4 >> 24) == 127 ? QStringLiteral("127.0.0.0/8") : QHostAddress(v4).toString();
    Q_IPV6ADDR v6 = address.toIPv6Address();
    std::fill(std::begin(v6.c) + 8, std::end(v6.c), quint8(0));
    return QHostAddress(v6).toString() + QLatin1String("/64");
}

bool Gateway::listen(int maxConnections, QString* error)
{
    m_maxConnections = std::max(1, maxConnections);
    // A lingering close holds a second handle for up to the close grace.
    if (m_linger)
        m_linger->setLimit(std::max(8, m_maxConnections / 4));
    QString problem;
    QHostAddress address;
    if (!listenAddress(m_config.listenAddress, &address))
        problem = QStringLiteral("not an IP address to listen on: %1").arg(m_config.listenAddress);
    else if (makeServer(&problem) && !m_tcpServer->listen(address, quint16(m_config.port)))
        problem = QStringLiteral("cannot listen on %1:%2: %3")
                      .arg(m_config.listenAddress)
                      .arg(m_config.port)
                      .arg(m_tcpServer->errorString());
    if (problem.isEmpty())
        return true;
    if (error)
        *error = problem;
    delete m_tcpServer;
    m_tcpServer = nullptr;
    delete m_wsServer;
    m_wsServer = nullptr;
    return false;
}

void Gateway::close()
{
    const QList<SlotPtr> pending = m_pending.values();
    for (const SlotPtr& slot : pending) {
        if (slot->tcp)
            slot->tcp->abort();
    }
    if (m_tcpServer) {
        m_tcpServer->close();
        delete m_tcpServer;
        m_tcpServer = nullptr;
    }
    if (m_wsServer) {
        m_wsServer->close();
        delete m_wsServer;
        m_wsServer = nullptr;
    }
}

bool Gateway::isListening() const
{
    return m_tcpServer && m_tcpServer->isListening();
}

quint16 Gateway::port() const
{
    return m_tcpServer ? m_tcpServer->serverPort() : 0;
}

QUrl Gateway::url() const
{
    QUrl u;
    u.setScheme(m_secure ? QStringLiteral("wss") : QStringLiteral("ws"));
    QHostAddress address = m_tcpServer ? m_tcpServer->serverAddress() : QHostAddress(QHostAddress::LocalHost);
    if (address == QHostAddress::Any || address == QHostAddress::AnyIPv4 || address == QHostAddress::AnyIPv6)
        address = QHostAddress::LocalHost;
    u.setHost(address.toString());
    u.setPort(port());
    u.setPath(QStringLiteral("/"));
    return u;
}

void Gateway::expireUpgrades(qint64 now)
{
    const QList<SlotPtr> pending = m_pending.values();
    for (const SlotPtr& slot : pending) {
        if (slot->tcp && now - slot->acceptedMs >= m_config.upgradeTimeoutMs)
            slot->tcp->abort();
    }
}

void Gateway::trust(const QWebSocket* socket)
{
    const auto it = m_upgraded.find(socket);
    if (it == m_upgraded.end() || (*it)->trusted || !(*it)->counted)
        return;
    (*it)->trusted = true;
    m_untrusted.erase((*it)->untrusted);
}

void Gateway::release(const SlotPtr& slot)
{
    if (!slot->counted)
        return;
    slot->counted = false;
    m_order.erase(slot->order);
    if (!slot->trusted)
        m_untrusted.erase(slot->untrusted);
    const auto group = m_groups.find(slot->group);
    group->erase(slot->inGroup);
    if (group->empty())
        m_groups.erase(group);
    if (!slot->key.isEmpty())
        m_pending.remove(slot->key);
    if (slot->wsKey)
        m_upgraded.remove(slot->wsKey);
    if (m_paused && m_tcpServer && connectionCount() < m_maxConnections) {
        m_paused = false;
        m_tcpServer->resumeAccepting();
    }
}

void Gateway::drop(const SlotPtr& slot)
{
    release(slot);
    if (slot->ws)
        slot->ws->abort();
    else if (slot->tcp)
        slot->tcp->abort();
}

void Gateway::pauseAccepting()
{
    if (m_tcpServer && !m_paused) {
        m_paused = true;
        m_tcpServer->pauseAccepting();
    }
}

namespace {

/// Of the connections from first to last not yet trusted, the one to drop: the least
/// far along (SocketGuard::progress()), the oldest of those; last when there is none.
template <typename Iterator, typename Untrusted>
Iterator leastAlong(Iterator first, Iterator last, Untrusted untrusted)
{
    Iterator best = last;
    int bestRank = 0;
    for (Iterator it = first; it != last; ++it) {
        if (!untrusted(*it))
            continue;
        const SocketGuard* guard = (*it)->guard;
        const int rank = guard ? int(guard->progress()) : int(SocketGuard::Progress::Talking);
        if (best == last || rank < bestRank) {
            best = it;
            bestRank = rank;
            if (rank == 0)
                break;
        }
    }
    return best;
}

/// How many of the oldest untrusted connections of all are weighed when the host is full.
constexpr int HostWideCandidates = 64;

} // namespace

bool Gateway::makeRoom(const QString& group, bool* hostFull)
{
    *hostFull = false;
    const auto members = m_groups.constFind(group);
    if (members != m_groups.cend() && members->size() >= size_t(m_config.maxConnectionsPerAddress)) {
        const auto victim =
            leastAlong(members->begin(), members->end(), [](const SlotPtr& slot) { return !slot->trusted; });
        if (victim == members->end())
            return false;
        // drop() takes the slot out of the lists it is named from: hold our own reference.
        const SlotPtr slot = *victim;
        drop(slot);
    }
    if (connectionCount() >= m_maxConnections) {
        if (m_untrusted.empty()) {
            *hostFull = true;
            return false;
        }
        auto last = m_untrusted.begin();
        std::advance(last, std::min<size_t>(m_untrusted.size(), HostWideCandidates));
        const SlotPtr slot = *leastAlong(m_untrusted.begin(), last, [](const SlotPtr&) { return true; });
        drop(slot);
    }
    return true;
}

void Gateway::onTcpConnection()
{
    while (m_tcpServer && m_tcpServer->hasPendingConnections()) {
        QTcpSocket* socket = m_tcpServer->nextPendingConnection();
        if (!socket)
            break;
        const QString group = addressGroup(socket->peerAddress());
        bool hostFull = false;
        const bool room = makeRoom(group, &hostFull);
        if (hostFull) {
            // Every connection has proven who it is: take no more until one goes.
            socket->abort();
            socket->deleteLater();
            pauseAccepting();
            continue;
        }
        // Small messages (a command, a result, a few lines) must not wait for delayed ACKs.
        socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        auto slot = std::make_shared<Slot>();
        slot->group = group;
        slot->key = socketKey(socket->peerAddress(), socket->peerPort());
        slot->tcp = socket;
        slot->acceptedMs = nowMs();
        slot->overLimit = !room;
        slot->order = m_order.insert(m_order.end(), slot);
        slot->untrusted = m_untrusted.insert(m_untrusted.end(), slot);
        std::list<SlotPtr>& members = m_groups[group];
        slot->inGroup = members.insert(members.end(), slot);
        m_pending.insert(slot->key, slot);
        // Counted out once, when the connection is gone, whichever object goes last.
        QObject::connect(socket, &QObject::destroyed, m_owner, [this, slot] { release(slot); });
        // Until the upgrade the socket is ours; afterwards its QWebSocket owns it.
        QObject::connect(socket, &QAbstractSocket::disconnected, socket, [this, socket, slot] {
            if (!slot->ws)
                socket->deleteLater();
        });
        slot->guard = new SocketGuard(socket, m_linger);
        m_wsServer->handleConnection(socket);
    }
}

void Gateway::onWebSocketConnection()
{
    while (m_wsServer && m_wsServer->hasPendingConnections()) {
        QWebSocket* socket = m_wsServer->nextPendingConnection();
        if (!socket)
            break;
        socket->setParent(m_owner);
        const QString key = socketKey(socket->peerAddress(), socket->peerPort());
        const SlotPtr slot = m_pending.take(key);
        bool overLimit = false;
        bool inOrder = true;
        QTcpSocket* tcp = nullptr;
        if (slot) {
            if (slot->guard)
                inOrder = slot->guard->upgraded(socket);
            tcp = slot->tcp;
            slot->key.clear();
            overLimit = slot->overLimit;
            if (slot->tcp)
                slot->tcp->setParent(socket);
            if (slot->counted) {
                slot->ws = socket;
                slot->wsKey = socket;
                m_upgraded.insert(socket, slot);
                // QWebSocket drops every connection of its TCP socket, so count from the QWebSocket now.
                QObject::connect(socket, &QObject::destroyed, m_owner, [this, slot] { release(slot); });
            } else {
                overLimit = true; // dropped to make room while it upgraded
            }
        }
        m_accepted(socket, tcp, overLimit);
        if (!inOrder) {
            socket->close(QWebSocketProtocol::CloseCode(Protocol::CloseProtocolError),
                          QStringLiteral("frames sent before the handshake was answered"));
        }
    }
}
