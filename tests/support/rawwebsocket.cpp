// SPDX-License-Identifier: GPL-3.0-or-later
#include "rawwebsocket.h"

#include <QDeadlineTimer>
#include <QRandomGenerator>
#include <QTest>
#include <QtEndian>

RawWebSocket::RawWebSocket(QObject* parent)
    : QObject(parent)
{
    // Take bytes as they come: after the peer closes, unread bytes may be gone.
    connect(&m_socket, &QTcpSocket::readyRead, this, [this] {
        if (m_socket.readBufferSize() != 1)
            m_buffer += m_socket.readAll();
    });
}

bool RawWebSocket::connectTcp(quint16 port, const QHostAddress& from, int timeoutMs)
{
    if (!m_socket.bind(from))
        return false;
    return connectTcp(port, timeoutMs);
}

bool RawWebSocket::connectTcp(quint16 port, int timeoutMs)
{
    m_socket.connectToHost(QHostAddress::LocalHost, port);
    QDeadlineTimer deadline(timeoutMs);
    while (m_socket.state() != QAbstractSocket::ConnectedState && !deadline.hasExpired())
        QTest::qWait(5);
    return m_socket.state() == QAbstractSocket::ConnectedState;
}

int RawWebSocket::upgrade(const QList<QByteArray>& extraHeaders, int timeoutMs, const QByteArray& withRequest)
{
    QByteArray request = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
    for (const QByteArray& header : extraHeaders)
        request += header + "\r\n";
    request += "\r\n";
    m_socket.write(request + withRequest);
    QDeadlineTimer deadline(timeoutMs);
    while (!deadline.hasExpired()) {
        m_buffer += m_socket.readAll();
        const qsizetype end = m_buffer.indexOf("\r\n\r\n");
        if (end >= 0) {
            const QByteArray head = m_buffer.left(end);
            m_buffer.remove(0, end + 4);
            const qsizetype eol = head.indexOf("\r\n");
            const QList<QByteArray> status = (eol < 0 ? head : head.left(eol)).split(' ');
            return status.size() >= 2 ? status[1].toInt() : 0;
        }
        if (m_socket.state() != QAbstractSocket::ConnectedState && m_socket.bytesAvailable() == 0)
            break;
        QTest::qWait(5);
    }
    return 0;
}

QByteArray RawWebSocket::frame(int opcode, QByteArrayView payload, bool fin, bool masked)
{
    QByteArray frame;
    frame.reserve(payload.size() + 14);
    frame.append(char((fin ? 0x80 : 0) | (opcode & 0x0f)));
    const int maskBit = masked ? 0x80 : 0;
    const quint64 size = quint64(payload.size());
    if (size < 126) {
        frame.append(char(maskBit | int(size)));
    } else if (size < 65536) {
        frame.append(char(maskBit | 126));
        const quint16 be = qToBigEndian(quint16(size));
        frame.append(reinterpret_cast<const char*>(&be), 2);
    } else {
        frame.append(char(maskBit | 127));
        const quint64 be = qToBigEndian(size);
        frame.append(reinterpret_cast<const char*>(&be), 8);
    }
    if (!masked) {
        frame.append(payload);
        return frame;
    }
    const quint32 key = QRandomGenerator::global()->generate();
    const char* mask = reinterpret_cast<const char*>(&key);
    frame.append(mask, 4);
    const qsizetype start = frame.size();
    frame.append(payload);
    char* p = frame.data() + start;
    for (qsizetype i = 0; i < payload.size(); ++i)
        p[i] = char(p[i] ^ mask[i & 3]);
    return frame;
}

void RawWebSocket::sendFrame(int opcode, const QByteArray& payload, bool fin)
{
    m_socket.write(frame(opcode, payload, fin));
    m_socket.flush();
}

bool RawWebSocket::parseFrame(Frame* frame)
{
    if (m_buffer.size() < 2)
        return false;
    const uchar b0 = uchar(m_buffer[0]);
    const uchar b1 = uchar(m_buffer[1]);
    qsizetype header = 2;
    quint64 size = b1 & 0x7f;
    if (size == 126) {
        if (m_buffer.size() < 4)
            return false;
        size = qFromBigEndian<quint16>(m_buffer.constData() + 2);
        header = 4;
    } else if (size == 127) {
        if (m_buffer.size() < 10)
            return false;
        size = qFromBigEndian<quint64>(m_buffer.constData() + 2);
        header = 10;
    }
    if (quint64(m_buffer.size()) < header + size)
        return false;
    frame->opcode = b0 & 0x0f;
    frame->fin = (b0 & 0x80) != 0;
    frame->payload = m_buffer.mid(header, qsizetype(size));
    m_buffer.remove(0, header + qsizetype(size));
    return true;
}

bool RawWebSocket::nextFrame(Frame* frame, int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    while (true) {
        m_buffer += m_socket.readAll();
        Frame f;
        while (parseFrame(&f)) {
            // Control frames may come between the fragments of a message.
            if (f.opcode >= 0x8) {
                *frame = f;
                return true;
            }
            if (m_assembling) {
                m_partial.payload += f.payload;
                m_partial.fin = f.fin;
            } else {
                m_partial = f;
            }
            m_assembling = !m_partial.fin;
            if (!m_assembling) {
                *frame = m_partial;
                return true;
            }
        }
        if (deadline.hasExpired()
            || (m_socket.state() == QAbstractSocket::UnconnectedState && !m_socket.bytesAvailable()))
            return false;
        QTest::qWait(5);
    }
}

int RawWebSocket::waitCloseCode(int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    Frame frame;
    while (nextFrame(&frame, int(std::max<qint64>(1, deadline.remainingTime())))) {
        if (frame.opcode == 0x8)
            return frame.payload.size() >= 2 ? qFromBigEndian<quint16>(frame.payload.constData()) : 1005;
    }
    return -1;
}

bool RawWebSocket::waitDisconnected(int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    while (m_socket.state() != QAbstractSocket::UnconnectedState && !deadline.hasExpired()) {
        m_socket.readAll();
        QTest::qWait(5);
    }
    return m_socket.state() == QAbstractSocket::UnconnectedState;
}

void RawWebSocket::stopReading()
{
    m_socket.setReadBufferSize(1);
}

void RawWebSocket::resumeReading()
{
    m_socket.setReadBufferSize(0);
}
