// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QHash>
#include <QPointer>
#include <QString>
#include <QUrl>
#include <functional>

class QObject;
class QTcpServer;
class QTcpSocket;
class QWebSocket;
class QWebSocketServer;
struct HostConfig;

/*
 * Where peers come in: the listening socket (with TLS when configured), the
 * WebSocket upgrade with its time limit, the browser-origin check, and the
 * count of connections per address. Each upgraded socket is handed on, with
 * whether its address is over the limit (it is then closed with 1013).
 */
class Gateway final
{
    Q_DISABLE_COPY_MOVE(Gateway)

public:
    using Accepted = std::function<void(QWebSocket* socket, bool overLimit)>;
    /// owner: the engine's object, parent of the servers and sockets.
    Gateway(const HostConfig& config, QObject* owner, Accepted accepted);
    ~Gateway();

    bool listen(QString* error);
    /// Stops listening and drops connections that have not upgraded yet.
    void close();
    bool isListening() const;
    quint16 port() const;
    /// ws://address:port/ (wss:// with TLS); loopback for "any address".
    QUrl url() const;
    /// Drops TCP connections that did not complete the upgrade in time.
    void expireUpgrades(qint64 now);

private:
    bool makeServer(QString* error);
    void onTcpConnection();
    void onWebSocketConnection();

    struct PendingSocket
    {
        QPointer<QTcpSocket> socket;
        qint64 acceptedMs;
        bool overLimit;
        std::function<void()> release;
    };

    const HostConfig& m_config;
    QObject* m_owner;
    Accepted m_accepted;
    QTcpServer* m_tcpServer = nullptr;
    QWebSocketServer* m_wsServer = nullptr;
    bool m_secure = false;
    QHash<QString, int> m_perAddress;
    QHash<QString, PendingSocket> m_pending; // by "address|port", until upgraded
};
