// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/engine/hostconfig.h"

#include <QThread>
#include <QUrl>

class HostServer;
class Mailbox;

/*
 * A host engine running on its own thread inside this process (the desktop's
 * embedded host), so socket I/O, JSON and process output never stall the
 * thread that owns the window.
 */
class EmbeddedHost final
{
    Q_DISABLE_COPY_MOVE(EmbeddedHost)

public:
    explicit EmbeddedHost(const HostConfig& config);
    /// Stops the engine (and the agents it launched) and ends its thread.
    ~EmbeddedHost();

    /// Starts listening. With fallbackToFreePort, a port already in use is replaced
    /// by a free one instead of failing.
    bool start(QString* error, bool fallbackToFreePort = false);
    void stop();
    /// Adds a bridge on the engine's thread and saves it (HostServer::addBridge); waits for the answer.
    bool addBridge(const BridgeSpec& spec, QString* error);

    /// Lives in the engine's thread: call it there, through mailbox().
    HostServer* server() const { return m_server; }
    /// Runs functions on the engine's thread.
    Mailbox* mailbox() const { return m_mailbox; }
    QUrl url() const { return m_url; }
    QString token() const { return m_token; }
    QString tokenPath() const { return m_tokenPath; }

private:
    QThread m_thread;
    HostServer* m_server = nullptr;
    Mailbox* m_mailbox = nullptr; // a child of m_server
    HostConfig m_config;
    bool m_running = false;
    QUrl m_url;
    QString m_token;
    QString m_tokenPath;
};
