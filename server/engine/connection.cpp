// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/engine/connection.h"

#include "server/engine/wire.h"
#include "server/protocol/localendpoint.h"
#include "server/protocol/protocol.h"

#include <QUrlQuery>
#include <QWebSocket>

using namespace Protocol;

void Connection::send(const QByteArray& json)
{
    if (closing)
        return;
    write(json);
    dropIfOverBudget();
}

void Connection::sendError(QByteArrayView code, const QString& text, QByteArrayView ref)
{
    send(Wire::error(code, text, ref));
    const qint64 now = nowMs();
    m_errorTimes.push_back(now);
    while (!m_errorTimes.empty() && now - m_errorTimes.front() >= abuseLimit.windowMs)
        m_errorTimes.pop_front();
    if (int(m_errorTimes.size()) > abuseLimit.count)
        close(ClosePolicy, QStringLiteral("too many bad messages"));
}

void Connection::close(quint16 code, const QString& reason)
{
    if (closing)
        return;
    closing = true;
    closeStartedMs = nowMs();
    closeTransport(code, reason);
}

// ---------------------------------------------------------------------------

SocketConnection::SocketConnection(QWebSocket* socket)
    : m_socket(socket)
{
    acceptedMs = lastActivityMs = m_lastPingMs = nowMs();
}

SocketConnection::~SocketConnection()
{
    // Its handlers find no connection from now on; the gateway still counts it out when it goes.
    if (m_socket)
        m_socket->deleteLater();
}

qint64 SocketConnection::pendingBytes() const
{
    return m_socket->bytesToWrite();
}

bool SocketConnection::flush()
{
    // A write notification hands the kernel only one buffered block, which starves a
    // viewer while agents keep the loop busy; so the caller writes all the kernel takes.
    const qint64 before = m_socket->bytesToWrite();
    if (before == 0 || closing)
        return false;
    m_socket->flush();
    return m_socket->bytesToWrite() < before; // else the kernel's buffer is full
}

void SocketConnection::keepAlive(qint64 now, const Timeouts& timeouts)
{
    if (closing) {
        if (now - closeStartedMs >= timeouts.closeGraceMs)
            m_socket->abort();
        return;
    }
    if (role == Role::None && now - acceptedMs >= timeouts.helloMs) {
        close(ClosePolicy, QStringLiteral("hello timeout"));
        return;
    }
    if (now - lastActivityMs >= timeouts.idleMs) {
        close(CloseHostError, QStringLiteral("ping timeout"));
        return;
    }
    if (now - m_lastPingMs >= timeouts.pingIntervalMs) {
        m_lastPingMs = now;
        // Numbered, so that only the answer to this ping counts as a sign of life.
        m_pingPayload = "agentdeck-" + QByteArray::number(++m_pings);
        m_socket->ping(m_pingPayload);
    }
}

void SocketConnection::ponged(const QByteArray& payload)
{
    if (!m_pingPayload.isEmpty() && payload == m_pingPayload) {
        m_pingPayload.clear();
        lastActivityMs = nowMs();
    }
}

bool SocketConnection::dropIfOverBudget()
{
    if (closing || !m_socket || queuedBytes() <= queueBudget)
        return false;
    // It does not read: a close frame would wait behind the rest, so the connection
    // ends, once the handler that sent this has returned.
    closing = true;
    droppedOverBudget = true;
    closeStartedMs = nowMs();
    deferred.clear();
    deferredBytes = 0;
    QMetaObject::invokeMethod(
        m_socket.data(), [socket = m_socket] { socket->abort(); }, Qt::QueuedConnection);
    return true;
}

QByteArray SocketConnection::transportToken() const
{
    // ?token=, else "Authorization: Bearer".
    const QUrlQuery query(m_socket->requestUrl());
    if (query.hasQueryItem(QStringLiteral("token")))
        return query.queryItemValue(QStringLiteral("token"), QUrl::FullyDecoded).toUtf8();
    const QByteArray auth = m_socket->request().rawHeader("Authorization").trimmed();
    if (auth.size() > 7 && auth.left(7).compare("Bearer ", Qt::CaseInsensitive) == 0)
        return auth.mid(7).trimmed();
    return {};
}

void SocketConnection::abort()
{
    m_socket->abort();
}

void SocketConnection::write(const QByteArray& json)
{
    m_socket->sendTextMessage(QString::fromUtf8(json));
}

void SocketConnection::closeTransport(quint16 code, const QString& reason)
{
    m_socket->close(QWebSocketProtocol::CloseCode(code), reason);
}

// ---------------------------------------------------------------------------

LocalConnection::LocalConnection(LocalViewer* viewer, std::function<void(LocalConnection*)> ended)
    : m_viewer(viewer)
    , m_ended(std::move(ended))
{
    role = Role::Viewer;
    acceptedMs = lastActivityMs = nowMs();
}

qint64 LocalConnection::pendingBytes() const
{
    return m_viewer->backlogBytes();
}

void LocalConnection::write(const QByteArray& json)
{
    m_viewer->deliver(json);
}

void LocalConnection::closeTransport(quint16 code, const QString& reason)
{
    // Nothing waits for a close handshake: the connection ends now.
    LocalViewer* viewer = m_viewer;
    m_ended(this);
    viewer->closed(code, reason);
}
