// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/engine/gateway.h"

#include "server/engine/hostconfig.h"
#include "server/protocol/protocol.h"

#include <QFile>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslKey>
#include <QSslServer>
#include <QSslSocket>
#include <QTcpServer>
#include <QTcpSocket>
#include <QWebSocket>
#include <QWebSocketCorsAuthenticator>
#include <QWebSocketServer>
#include <memory>

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

} // namespace

Gateway::Gateway(const HostConfig& config, QObject* owner, Accepted accepted)
    : m_config(config)
    , m_owner(owner)
    , m_accepted(std::move(accepted))
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

bool Gateway::listen(QString* error)
{
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
    for (auto& entry : m_pending) {
        if (entry.socket)
            entry.socket->abort();
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
    const QList<PendingSocket> pending = m_pending.values();
    for (const PendingSocket& p : pending) {
        if (p.socket && now - p.acceptedMs >= m_config.upgradeTimeoutMs)
            p.socket->abort();
    }
}

void Gateway::onTcpConnection()
{
    while (m_tcpServer && m_tcpServer->hasPendingConnections()) {
        QTcpSocket* socket = m_tcpServer->nextPendingConnection();
        if (!socket)
            break;
        // Small messages (a command, a result, a few lines) must not wait for delayed ACKs.
        socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        const QString address = socket->peerAddress().toString();
        const int count = ++m_perAddress[address];
        const QString key = socketKey(socket->peerAddress(), socket->peerPort());
        // Runs once, when the connection is gone, whichever object goes last.
        auto released = std::make_shared<bool>(false);
        std::function<void()> release = [this, address, key, released] {
            if (*released)
                return;
            *released = true;
            if (--m_perAddress[address] <= 0)
                m_perAddress.remove(address);
            m_pending.remove(key);
        };
        m_pending.insert(key, {socket, nowMs(), count > m_config.maxConnectionsPerAddress, release});
        QObject::connect(socket, &QObject::destroyed, m_owner, release);
        // Until the upgrade the socket is ours; afterwards its QWebSocket owns it.
        QObject::connect(socket, &QAbstractSocket::disconnected, socket, [this, socket, key] {
            if (m_pending.contains(key))
                socket->deleteLater();
        });
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
        const auto pending = m_pending.find(key);
        bool overLimit = false;
        if (pending != m_pending.end()) {
            overLimit = pending->overLimit;
            if (pending->socket)
                pending->socket->setParent(socket);
            // QWebSocket drops every connection of its TCP socket, so count from the QWebSocket now.
            QObject::connect(socket, &QObject::destroyed, m_owner, pending->release);
            m_pending.erase(pending);
        }
        m_accepted(socket, overLimit);
    }
}
