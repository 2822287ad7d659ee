// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QHash>
#include <QPointer>
#include <QString>
#include <QUrl>
#include <functional>
#include <list>
#include <memory>

class QHostAddress;
class QObject;
class QTcpServer;
class QTcpSocket;
class QWebSocket;
class QWebSocketServer;
class CloseLinger;
struct HostConfig;

/*
 * Where peers come in: the listening socket (with TLS when configured), the
 * WebSocket upgrade with its time limit, the browser-origin check, and the
 * count of connections, per address and in all, from the TCP accept on. When
 * an address (or the host) is full, a connection that has not proven who it is
 * (trust()) is dropped to make room, so peers without a token cannot lock out
 * those with one: one that never spoke first, then one that upgraded and said
 * nothing since, the oldest of them (SocketGuard::progress()). Each upgraded socket is handed on, with whether it
 * is over the limit all the same (it is then closed with 1013). What QtWebSockets
 * leaves to the server (masked frames, closes that reach the peer) is done by
 * the socket guards (socketguards.h).
 */
class Gateway final
{
    Q_DISABLE_COPY_MOVE(Gateway)

public:
    /// tcp: the socket under it, whose every read the engine may follow.
    using Accepted = std::function<void(QWebSocket* socket, QTcpSocket* tcp, bool overLimit)>;
    /// owner: the engine's object, parent of the servers and sockets.
    Gateway(const HostConfig& config, QObject* owner, Accepted accepted);
    ~Gateway();

    /// Raises the process's open-file limit to its hard limit and returns it.
    static int raiseFileLimit();

    /// maxConnections: connections in all (accepted and not yet closed).
    bool listen(int maxConnections, QString* error);
    /// Stops listening and drops connections that have not upgraded yet.
    void close();
    bool isListening() const;
    quint16 port() const;
    /// ws://address:port/ (wss:// with TLS); loopback for "any address".
    QUrl url() const;
    /// Drops TCP connections that did not complete the upgrade in time.
    void expireUpgrades(qint64 now);
    /// The peer on this socket proved who it is: it is never dropped to make room.
    void trust(const QWebSocket* socket);
    /// Connections counted now, from accept until their socket is gone.
    int connectionCount() const { return int(m_order.size()); }

    /// The group an address counts in: IPv4 addresses each (all of 127.0.0.0/8 as
    /// one), IPv6 by /64.
    static QString addressGroup(const QHostAddress& address);

private:
    struct Slot;
    using SlotPtr = std::shared_ptr<Slot>;

    bool makeServer(QString* error);
    void onTcpConnection();
    void onWebSocketConnection();
    /// Drops an untrusted connection of the group when it is full, and one of all
    /// when the host is; false when a limit stays reached.
    bool makeRoom(const QString& group, bool* hostFull);
    void drop(const SlotPtr& slot);
    void release(const SlotPtr& slot);
    void pauseAccepting();

    const HostConfig& m_config;
    QObject* m_owner;
    Accepted m_accepted;
    QTcpServer* m_tcpServer = nullptr;
    QWebSocketServer* m_wsServer = nullptr;
    QPointer<CloseLinger> m_linger;
    bool m_secure = false;
    bool m_paused = false;
    int m_maxConnections = 1024;
    std::list<SlotPtr> m_order; // every counted connection, oldest first
    std::list<SlotPtr> m_untrusted; // those not yet trusted, oldest first
    QHash<QString, std::list<SlotPtr>> m_groups; // by address group, oldest first
    QHash<QString, SlotPtr> m_pending; // by "address|port", until upgraded
    QHash<const QWebSocket*, SlotPtr> m_upgraded;
};
