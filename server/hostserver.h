// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/hostconfig.h"

#include <QObject>
#include <QUrl>
#include <memory>

class QWebSocket;

/*
 * The host engine: a WebSocket server speaking protocol v1 (docs/protocol.md).
 *
 * Agents connect and publish console lines, forum messages, metrics, status and
 * questions; viewers subscribe to them and send commands. The engine keeps a
 * bounded history per agent, numbers everything, and never lets one slow viewer
 * hold up agents or other viewers. It lives in one thread (any thread) and needs
 * no GUI.
 */
class HostServer final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HostServer)

public:
    explicit HostServer(const HostConfig& config, QObject* parent = nullptr);
    ~HostServer() override;

    /// Resolves the token (generating one when none is configured) and starts listening.
    bool start(QString* error = nullptr);
    /// Before start(): the port to listen on (0: a free one).
    void setPort(int port);
    /// Closes every connection (1000) and stops listening.
    void stop();

    bool isListening() const;
    quint16 port() const;
    /// ws://address:port/ (wss:// with TLS).
    QUrl url() const;
    /// The token agents and viewers use when a single one is in force.
    QString token() const;
    /// Where the generated token is kept; empty when the token came from the configuration.
    QString tokenPath() const;
    bool tokenWasGenerated() const;
    QByteArray hostId() const;

    /// A viewer in the same process: it speaks the viewer side of the protocol
    /// without a socket, a handshake or a token. All calls on the host's thread.
    class LocalViewer
    {
    public:
        virtual ~LocalViewer() = default;
        /// One message for the viewer (a JSON object in UTF-8).
        virtual void deliver(const QByteArray& json) = 0;
        /// Bytes delivered and not yet taken; above the viewer backlog the host
        /// holds back and the viewer later gets slow_consumer gaps, as a socket would.
        virtual qint64 backlogBytes() const = 0;
        /// The host ended the connection (stopped, or the viewer misbehaved).
        virtual void closed(quint16 code, const QString& reason) = 0;
    };
    /// Opens an in-process viewer connection: `welcome` and `snapshot` are delivered at once.
    void attachLocalViewer(LocalViewer* viewer);
    /// Hands the host a message from the viewer (subscribe, command...).
    void receiveFromLocalViewer(LocalViewer* viewer, const QByteArray& json);
    /// The viewer has taken what it was given; the host may send what it held back.
    void localViewerDrained(LocalViewer* viewer);
    /// Ends the viewer's connection without calling closed().
    void detachLocalViewer(LocalViewer* viewer);

    int agentCount() const;
    int viewerCount() const;
    quint64 linesIngested() const;

Q_SIGNALS:
    /// A runtime problem worth telling the user about (listening failed, TLS files unreadable...).
    void warning(const QString& message);
    /// Once a second: connected agents, viewers, and console lines taken in so far.
    void statsChanged(int agents, int viewers, quint64 linesIngested);

private:
    struct Private;
    std::unique_ptr<Private> d;
};
