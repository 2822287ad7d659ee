// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/protocol/json.h"

#include <QByteArray>
#include <QObject>
#include <QUrl>
#include <functional>

class QWebSocket;

/*
 * A Socket.IO client (Engine.IO protocol 4) over one WebSocket, for the default
 * namespace: the framing a Flask-SocketIO server speaks, without its polling
 * transport. The server opens with `0{...}`; the client joins with `40`; events
 * are `42["name",data]`; the server pings with `2` and gets `3`; `41` and `1`
 * close. Events may come before the server's `40` acknowledgement.
 */
class SocketIoClient final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SocketIoClient)

public:
    explicit SocketIoClient(QObject* parent = nullptr);
    ~SocketIoClient() override;

    /// base: the server's http(s) address; the socket goes to /socket.io/ on it.
    void open(const QUrl& base);
    /// Closes the socket at once (no goodbye to a server that stopped talking).
    void abort();
    bool isOpen() const { return m_joined; }
    /// Opened and not yet joined (or closed).
    bool isConnecting() const { return !m_finished && !m_joined; }
    /// Sends an event with a JSON argument (raw JSON), or none when empty.
    void emitEvent(QByteArrayView name, QByteArrayView jsonArgument = {});
    /// When the last frame of any kind came from the server.
    qint64 lastFrameMs() const { return m_lastFrameMs; }
    /// The server's ping interval and timeout (from its open packet), in ms.
    int pingIntervalMs() const { return m_pingIntervalMs; }
    int pingTimeoutMs() const { return m_pingTimeoutMs; }

    static QUrl socketUrl(const QUrl& base);

    /// Called with each event: its name and its first argument (undefined when none),
    /// both valid during the call.
    using EventHandler = std::function<void(QByteArrayView name, Json::Value argument)>;
    void setEventHandler(EventHandler handler) { m_onEvent = std::move(handler); }

Q_SIGNALS:
    void joined();
    /// The connection ended or could not be made; why, in words.
    void closed(const QString& reason);

private:
    void onText(const QString& text);
    void onDisconnected();
    void finish(const QString& reason);

    QWebSocket* m_socket = nullptr;
    Json::ReusedDocument m_doc; // parses every frame
    EventHandler m_onEvent;
    bool m_joined = false;
    bool m_finished = true;
    qint64 m_lastFrameMs = 0;
    int m_pingIntervalMs = 25000;
    int m_pingTimeoutMs = 20000;
};
