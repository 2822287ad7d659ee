// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/link/hostlink.h"

#include <QPointer>

class LocalEndpoint;
class LocalLinkPeer;
class Mailbox;

/*
 * A link to the host engine embedded in this process. It skips sockets,
 * handshakes and tokens: the engine hands its viewer messages to the link on the
 * engine's own thread, where they are decoded, and only the decoded batches cross
 * to the link's thread. A link that falls behind is held back like a slow socket.
 */
class LocalLink final : public HostLink
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LocalLink)

public:
    /// server may live in another thread, which must run while the link is open.
    explicit LocalLink(LocalEndpoint* server, QObject* parent = nullptr);
    ~LocalLink() override;

    void open() override;
    void close() override;
    QString displayName() const override;
    bool isLocal() const override { return true; }

protected:
    void postCommand(const QString& id, const QString& agent, const QString& name, const QByteArray& argsJson) override;
    void eventsTaken(qint64 bytes) override;

private:
    QPointer<LocalEndpoint> m_server;
    LocalLinkPeer* m_peer = nullptr; // lives in the server's thread
    Mailbox* m_mailbox = nullptr; // to the peer, on the server's thread
};
