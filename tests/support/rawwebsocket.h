// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QTcpSocket>

/*
 * A hand-made WebSocket client over a plain QTcpSocket, for what a well-behaved
 * client library refuses to do: send invalid UTF-8, send arbitrary headers, never
 * answer pings, or stop reading.
 */
class RawWebSocket final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RawWebSocket)

public:
    struct Frame
    {
        int opcode = 0;
        bool fin = true;
        QByteArray payload;
    };

    explicit RawWebSocket(QObject* parent = nullptr);

    /// Connects to 127.0.0.1:port; false if TCP did not connect.
    bool connectTcp(quint16 port, int timeoutMs = 5000);
    /// From a given local address (e.g. another loopback address, 127.0.0.2).
    bool connectTcp(quint16 port, const QHostAddress& from, int timeoutMs = 5000);
    /// Sends the upgrade request with extra header lines and returns the HTTP status
    /// line's code (101 on success, 0 when no answer came). withRequest: bytes sent
    /// in the same write as the request, before its answer.
    int upgrade(const QList<QByteArray>& extraHeaders = {}, int timeoutMs = 5000, const QByteArray& withRequest = {});
    /// One client frame, masked unless told otherwise (RFC 6455 asks every client frame to be).
    static QByteArray frame(int opcode, QByteArrayView payload, bool fin = true, bool masked = true);
    /// Sends one masked frame.
    void sendFrame(int opcode, const QByteArray& payload, bool fin = true);
    void sendText(const QByteArray& utf8) { sendFrame(0x1, utf8); }

    /// Waits for the next frame (pings included), joining fragmented messages into one;
    /// false on timeout or disconnect.
    bool nextFrame(Frame* frame, int timeoutMs = 5000);
    /// Reads frames until a close frame; returns its code, or -1.
    int waitCloseCode(int timeoutMs = 10000);
    /// True once the TCP connection is gone.
    bool waitDisconnected(int timeoutMs = 10000);
    /// Stops taking bytes from the kernel, so the peer's sends back up.
    void stopReading();
    void resumeReading();
    QTcpSocket* socket() { return &m_socket; }

private:
    bool parseFrame(Frame* frame);

    QTcpSocket m_socket;
    QByteArray m_buffer;
    Frame m_partial; // a fragmented message being put together
    bool m_assembling = false;
};
