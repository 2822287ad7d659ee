// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QObject>
#include <QPointer>
#include <unordered_map>

class QSocketNotifier;
class QTcpSocket;
class QTimer;
class QWebSocket;

/*
 * Closing handshakes that reach the peer. QWebSocket::close() writes the close
 * frame and closes its socket at once; when the peer has sent input nobody read,
 * the kernel answers with a reset, which throws away what was still on its way to
 * the peer, close frame included: the peer sees 1006, not why it was closed. For
 * each connection closed with a handshake the linger keeps a second handle on the
 * socket: it reads and discards the peer's input, half-closes once QWebSocket's
 * handle is gone (so everything written goes out, then the end of stream), and
 * ends at the peer's end of stream, or at the deadline with a reset.
 */
class CloseLinger final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CloseLinger)

public:
    explicit CloseLinger(int graceMs, QObject* parent = nullptr);
    ~CloseLinger() override;

    /// At most this many sockets linger at once; more are closed as QWebSocket does.
    void setLimit(int maxLingering) { m_limit = maxLingering; }
    /// The socket's closing handshake has begun (its close frame is written).
    void begin(QTcpSocket* tcp);
    int lingering() const { return int(m_sockets.size()); }

private:
    struct Lingering;
    void drain(int fd);
    void halfClose(int fd);
    void end(int fd, bool reset);
    void onTick();

    int m_graceMs;
    int m_limit = 256;
    QTimer* m_timer;
    std::unordered_map<int, Lingering> m_sockets; // by the second handle
};

/*
 * What RFC 6455 asks of a server and QtWebSockets 6.4 does not do, for one
 * connection from its TCP accept on:
 *  - every frame from a client is masked (5.1): QWebSocket takes unmasked ones.
 *    The guard reads each frame header as the bytes arrive, before QWebSocket
 *    reads them, and closes with 1002 at the first unmasked frame, before it is
 *    taken;
 *  - a client waits for the handshake's answer before it sends frames (4.1):
 *    QWebSocket reads such frames before anyone can listen to it, so they would be
 *    lost without a word; the connection is closed with 1002 instead;
 *  - a closing handshake lingers (CloseLinger); an abort does not.
 * It follows the socket's readyRead twice: once before anyone else reads (see()),
 * and once after QWebSocket has read (taken()), which is how it knows where in the
 * stream the buffered bytes start.
 */
class SocketGuard final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SocketGuard)

public:
    /// Made before the socket is handed to QWebSocketServer, so that it hears the
    /// socket first; a child of the socket.
    SocketGuard(QTcpSocket* tcp, CloseLinger* linger);

    /// The socket upgraded: from now on its bytes are frames. False when the client
    /// sent frames before the handshake's answer (the caller closes it, 1002).
    bool upgraded(QWebSocket* ws);

    /// How far the peer has come, for choosing whom to drop when the host is full:
    /// a peer that never spoke goes before one that upgraded and then said nothing,
    /// which goes before one sending its request or its first messages.
    enum class Progress { Silent, UpgradedQuiet, Talking };
    Progress progress() const;

private:
    void see();
    void taken();
    void readHeaders(qint64 available);

    QTcpSocket* m_tcp;
    QPointer<QWebSocket> m_ws;
    QPointer<CloseLinger> m_linger;
    enum class Phase { Request, RequestRead, Frames, Done };
    Phase m_phase = Phase::Request;
    /// How the connection ends, decided by which comes first: QWebSocket's closing
    /// handshake, or the socket closing without one (an abort, a refused upgrade).
    enum class Ending { Open, Handshake, Abort };
    Ending m_ending = Ending::Open;
    bool m_heard = false; // any byte from the peer
    bool m_early = false; // bytes after the request, before the answer
    quint64 m_seen = 0; // stream bytes seen, from the first frame on
    quint64 m_left = 0; // of those, still in the socket's buffer when QWebSocket had read
    quint64 m_next = 0; // where the next frame header starts
};
