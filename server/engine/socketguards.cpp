// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/engine/socketguards.h"

#include "server/protocol/protocol.h"

#include <QSocketNotifier>
#include <QTcpSocket>
#include <QTimer>
#include <QWebSocket>
#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

using Protocol::nowMs;

namespace {

/// The start of a socket's read buffer, copied (peeked) only as far as it is read:
/// first up to the longest frame header, then, when more is wanted, all of it at once.
class BufferStart
{
public:
    BufferStart(QIODevice* device, qint64 available)
        : m_device(device)
        , m_available(available)
    { }

    /// Whether the first n bytes are here (copying them if need be).
    bool reach(qint64 n)
    {
        if (n <= m_size)
            return true;
        if (n > m_available)
            return false;
        constexpr qint64 LongestHeader = 14;
        const qint64 want = m_size == 0 ? std::min(m_available, n + LongestHeader) : m_available;
        if (qint64(scratch().size()) < want)
            scratch().resize(size_t(want));
        m_size = m_device->peek(scratch().data(), want);
        return n <= m_size;
    }
    char at(qint64 i) const { return scratch()[size_t(i)]; }

private:
    // One per thread, kept: a read costs no allocation.
    static std::vector<char>& scratch()
    {
        thread_local std::vector<char> bytes;
        return bytes;
    }

    QIODevice* m_device;
    qint64 m_available;
    qint64 m_size = 0;
};

} // namespace

SocketGuard::SocketGuard(QTcpSocket* tcp, CloseLinger* linger)
    : QObject(tcp)
    , m_tcp(tcp)
    , m_linger(linger)
{
    QObject::connect(tcp, &QIODevice::readyRead, this, &SocketGuard::see);
    // Before QWebSocket relays it as its own aboutToClose: an abort reaches this
    // first, a closing handshake reaches the handler upgraded() connects first.
    QObject::connect(tcp, &QIODevice::aboutToClose, this, [this] {
        if (m_ending == Ending::Open)
            m_ending = Ending::Abort;
    });
}

bool SocketGuard::upgraded(QWebSocket* ws)
{
    m_ws = ws;
    QObject::connect(ws, &QWebSocket::aboutToClose, this, [this] {
        if (m_ending != Ending::Open)
            return;
        m_ending = Ending::Handshake;
        if (m_linger)
            m_linger->begin(m_tcp);
    });
    // Bytes still buffered after the upgrade are the rest of a frame QWebSocket has
    // begun: they came with the request, as did the frames it has read already.
    if (m_early || m_tcp->bytesAvailable() > 0) {
        m_phase = Phase::Done;
        return false;
    }
    m_phase = Phase::Frames;
    // After QWebSocket's own handler, connected during the upgrade.
    QObject::connect(m_tcp, &QIODevice::readyRead, this, &SocketGuard::taken);
    return true;
}

SocketGuard::Progress SocketGuard::progress() const
{
    // Bytes the socket has not read yet count: a client sends its request right after
    // connecting, and that may still be in the kernel when the host must choose.
    int unread = 0;
    const qintptr fd = m_tcp->socketDescriptor();
    if (m_tcp->bytesAvailable() > 0 || (fd >= 0 && ::ioctl(int(fd), FIONREAD, &unread) == 0 && unread > 0))
        return Progress::Talking;
    if (!m_heard)
        return Progress::Silent;
    if (m_phase == Phase::Frames && m_seen == 0)
        return Progress::UpgradedQuiet;
    return Progress::Talking;
}

void SocketGuard::see()
{
    m_heard = true;
    const qint64 available = m_tcp->bytesAvailable();
    switch (m_phase) {
    case Phase::Request: {
        // Nothing is read before the whole request is here.
        const QByteArray request = m_tcp->peek(available);
        const qsizetype end = request.indexOf("\r\n\r\n");
        if (end >= 0) {
            m_phase = Phase::RequestRead;
            m_early = request.size() > end + 4;
        }
        break;
    }
    case Phase::RequestRead:
        // More after a whole request, before the answer.
        m_early = true;
        break;
    case Phase::Frames:
        readHeaders(available);
        break;
    case Phase::Done:
        break;
    }
}

void SocketGuard::taken()
{
    if (m_phase == Phase::Frames)
        m_left = quint64(m_tcp->bytesAvailable());
}

void SocketGuard::readHeaders(qint64 available)
{
    // The buffer holds what QWebSocket left last time, then what came since.
    const quint64 start = m_seen - m_left;
    m_seen = start + quint64(available);
    m_left = quint64(available); // until QWebSocket has read
    if (m_next >= m_seen)
        return; // inside a frame's payload
    BufferStart buffer(m_tcp, available);
    while (m_next < m_seen) {
        const qint64 at = qint64(m_next - start);
        if (!buffer.reach(at + 2))
            break;
        const auto second = quint8(buffer.at(at + 1));
        const quint8 length7 = second & 0x7f;
        const int lengthBytes = length7 == 126 ? 2 : length7 == 127 ? 8 : 0;
        if (!buffer.reach(at + 2 + lengthBytes))
            break;
        if (!(second & 0x80)) {
            m_phase = Phase::Done;
            if (m_ws)
                m_ws->close(QWebSocketProtocol::CloseCode(Protocol::CloseProtocolError),
                            QStringLiteral("frames from a client must be masked"));
            return;
        }
        quint64 length = length7;
        if (lengthBytes > 0) {
            length = 0;
            for (int i = 0; i < lengthBytes; ++i)
                length = (length << 8) | quint8(buffer.at(at + 2 + i));
        }
        if (length > (quint64(1) << 62)) {
            // QWebSocket refuses a frame this long itself (1009).
            m_phase = Phase::Done;
            break;
        }
        m_next += 2 + quint64(lengthBytes) + 4 + length;
    }
}

// ---------------------------------------------------------------------------

struct CloseLinger::Lingering
{
    QSocketNotifier* notifier = nullptr;
    QMetaObject::Connection disconnected;
    QMetaObject::Connection destroyed;
    qint64 deadlineMs = 0;
    bool halfClosed = false;
    bool peerDone = false;
};

CloseLinger::CloseLinger(int graceMs, QObject* parent)
    : QObject(parent)
    , m_graceMs(graceMs)
    , m_timer(new QTimer(this))
{
    m_timer->setInterval(100);
    QObject::connect(m_timer, &QTimer::timeout, this, &CloseLinger::onTick);
}

CloseLinger::~CloseLinger()
{
    while (!m_sockets.empty())
        end(m_sockets.begin()->first, true);
}

void CloseLinger::begin(QTcpSocket* tcp)
{
    if (int(m_sockets.size()) >= m_limit)
        return;
    const int fd = int(tcp->socketDescriptor());
    if (fd < 0)
        return;
    const int second = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (second < 0)
        return;
    Lingering& l = m_sockets[second];
    l.deadlineMs = nowMs() + m_graceMs;
    l.notifier = new QSocketNotifier(second, QSocketNotifier::Read, this);
    QObject::connect(l.notifier, &QSocketNotifier::activated, this, [this, second] { drain(second); });
    // QWebSocket's handle goes when all it wrote is out: then the end of stream.
    l.disconnected = QObject::connect(tcp, &QAbstractSocket::disconnected, this, [this, second] { halfClose(second); });
    l.destroyed = QObject::connect(tcp, &QObject::destroyed, this, [this, second] { halfClose(second); });
    if (!m_timer->isActive())
        m_timer->start();
}

void CloseLinger::drain(int fd)
{
    const auto it = m_sockets.find(fd);
    if (it == m_sockets.end())
        return;
    char discard[16384];
    for (;;) {
        const ssize_t got = ::read(fd, discard, sizeof discard);
        if (got > 0)
            continue;
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        break; // the peer's end of stream, or the connection is gone
    }
    it->second.peerDone = true;
    it->second.notifier->setEnabled(false);
    if (it->second.halfClosed)
        end(fd, false);
}

void CloseLinger::halfClose(int fd)
{
    const auto it = m_sockets.find(fd);
    if (it == m_sockets.end() || it->second.halfClosed)
        return;
    it->second.halfClosed = true;
    ::shutdown(fd, SHUT_WR);
    if (it->second.peerDone)
        end(fd, false);
}

void CloseLinger::end(int fd, bool reset)
{
    const auto it = m_sockets.find(fd);
    if (it == m_sockets.end())
        return;
    if (reset) {
        // Not a lingering close of its own: release the connection now.
        const linger now{1, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &now, sizeof now);
    }
    // The handle's number may come back for another socket: nothing of this one may reach it.
    QObject::disconnect(it->second.disconnected);
    QObject::disconnect(it->second.destroyed);
    delete it->second.notifier;
    m_sockets.erase(it);
    ::close(fd);
    if (m_sockets.empty())
        m_timer->stop();
}

void CloseLinger::onTick()
{
    const qint64 now = nowMs();
    std::vector<int> late;
    for (const auto& [fd, l] : m_sockets) {
        if (now >= l.deadlineMs)
            late.push_back(fd);
    }
    for (const int fd : late)
        end(fd, true);
}
