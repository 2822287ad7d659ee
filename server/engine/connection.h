// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/engine/access.h"
#include "server/engine/subscription.h"

#include <QByteArray>
#include <QHash>
#include <QPointer>
#include <QString>
#include <QWebSocket>
#include <deque>
#include <functional>
#include <map>

class LocalViewer;

struct Agent;
struct PendingCommand;

/*
 * One peer of the engine: an agent or a viewer, over a WebSocket or inside this
 * process. The engine's parts speak to it only through this interface; what
 * differs between a socket and an in-process viewer is behind it.
 */
class Connection
{
public:
    enum class Role { None, Agent, Viewer };

    /// How many bad messages a peer may send within a window before it is closed.
    struct AbuseLimit
    {
        int count = 20;
        int windowMs = 10000;
    };

    virtual ~Connection() = default;

    /// One message for the peer; nothing once the connection is closing.
    void send(const QByteArray& json);
    /// An error message; a peer that sends too many bad messages is closed (1008).
    void sendError(QByteArrayView code, const QString& text, QByteArrayView ref = {});
    /// Starts closing: the peer is told why, and sent nothing more.
    void close(quint16 code, const QString& reason);

    /// Bytes handed to the peer and not yet taken.
    virtual qint64 pendingBytes() const = 0;
    /// Bytes waiting for the peer: handed over, and held back (deferred events).
    qint64 queuedBytes() const { return pendingBytes() + deferredBytes; }
    /// Drops a peer over its budget of queued bytes (a peer that does not read); true if it was.
    virtual bool dropIfOverBudget() { return false; }
    /// Hands the peer what it can take now; false when nothing more can go until it drains.
    virtual bool flush() = 0;
    /// Pings, times out a silent peer, and ends a close that takes too long.
    struct Timeouts
    {
        int helloMs;
        int idleMs;
        int pingIntervalMs;
        int closeGraceMs;
    };
    virtual void keepAlive(qint64 now, const Timeouts& timeouts) = 0;
    /// The token the peer presented outside its hello (URL query or Authorization header).
    virtual QByteArray transportToken() const = 0;
    /// Ends the connection at once, without a close handshake.
    virtual void abort() = 0;

    /// Whether this viewer may see the agent at all (its token's scope).
    bool sees(QByteArrayView agentId) const { return access && access->agents.covers(agentId); }

    quint64 serial = 0;
    Role role = Role::None;
    AccessPtr access; // of the token presented in the hello
    Agent* agent = nullptr; // an agent's connection: the agent it speaks for
    AbuseLimit abuseLimit;
    qint64 acceptedMs = 0;
    qint64 lastActivityMs = 0;
    bool closing = false;
    qint64 closeStartedMs = 0;

    // A viewer's state (the viewer feed and the command router keep it here).
    Subscription sub;
    ViewerBaseline baseline;
    std::map<QByteArray, Cursor> cursors;
    bool replaying = false;
    bool backlogged = false;
    size_t roundRobin = 0;
    QList<QByteArray> deferred;
    qint64 deferredBytes = 0;
    bool droppedOverBudget = false;
    qint64 queueBudget = 64ll * 1024 * 1024; // see dropIfOverBudget()
    QHash<QByteArray, PendingCommand*> commands; // by the viewer's command id

protected:
    virtual void write(const QByteArray& json) = 0;
    virtual void closeTransport(quint16 code, const QString& reason) = 0;

private:
    std::deque<qint64> m_errorTimes;
};

/// A peer on a WebSocket.
class SocketConnection final : public Connection
{
public:
    explicit SocketConnection(QWebSocket* socket);

    ~SocketConnection() override;

    QWebSocket* socket() const { return m_socket; }

    qint64 pendingBytes() const override;
    bool flush() override;
    void keepAlive(qint64 now, const Timeouts& timeouts) override;
    QByteArray transportToken() const override;
    void abort() override;
    bool dropIfOverBudget() override;
    /// A pong came: it keeps the peer alive only when it answers the host's last ping.
    void ponged(const QByteArray& payload);

protected:
    void write(const QByteArray& json) override;
    void closeTransport(quint16 code, const QString& reason) override;

private:
    QPointer<QWebSocket> m_socket;
    qint64 m_lastPingMs = 0;
    QByteArray m_pingPayload; // of the host's last ping not answered yet
    quint64 m_pings = 0;
};

/// A viewer in the same process (LocalViewer), on the engine's thread: no handshake,
/// no token, no pings. It ends at once when closed.
class LocalConnection final : public Connection
{
public:
    /// ended: called when the host closes it, before the viewer is told.
    LocalConnection(LocalViewer* viewer, std::function<void(LocalConnection*)> ended);

    LocalViewer* viewer() const { return m_viewer; }

    qint64 pendingBytes() const override;
    bool flush() override { return false; } // the viewer says when it has taken what it was given
    void keepAlive(qint64, const Timeouts&) override { }
    QByteArray transportToken() const override { return {}; }
    void abort() override { }

protected:
    void write(const QByteArray& json) override;
    void closeTransport(quint16 code, const QString& reason) override;

private:
    LocalViewer* m_viewer;
    std::function<void(LocalConnection*)> m_ended;
};
