// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/engine/hostconfig.h"
#include "server/protocol/localendpoint.h"

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
class HostServer final : public LocalEndpoint
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

    // LocalEndpoint: a viewer in the same process. All calls on the host's thread.
    void attachLocalViewer(LocalViewer* viewer) override;
    void receiveFromLocalViewer(LocalViewer* viewer, const QByteArray& json) override;
    void localViewerDrained(LocalViewer* viewer) override;
    void detachLocalViewer(LocalViewer* viewer) override;

    /// Adds a BettaFish bridge at run time and keeps it in the configuration file (when
    /// there is one), saved first: false with the reason, and nothing changed, when its
    /// prefix is taken by a configured bridge, the file cannot be written or one of its
    /// agents' ids belongs to another kind of agent.
    bool addBridge(const BridgeSpec& spec, QString* error = nullptr);

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
