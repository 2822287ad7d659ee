// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/link/hostlink.h"

#include <QByteArray>
#include <QList>
#include <QSslCertificate>
#include <QUrl>

class Mailbox;
class QThread;
class RemoteLinkWorker;

/*
 * A link to a host over the network (ws:// or wss://), as a viewer. It never
 * gives up: after any failure it tries again with exponential backoff and
 * jitter, and resumes each agent's streams where they stopped, so every line
 * arrives exactly once and in order, or a gap says which did not and why.
 * Pings find connections that died without a word. TLS checks the host's
 * certificate against the system's trusted roots, or against one pinned
 * certificate (for a host with a self-signed one).
 */
class RemoteLink final : public HostLink
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RemoteLink)

public:
    struct Settings
    {
        QUrl url; // ws://host:port/ or wss://host:port/
        QString token;
        /// A file holding the token (SecretFile::read), read at every connection attempt
        /// so that a changed token is taken up; used when set, instead of token.
        QString tokenFile;
        /// SHA-256 of the host's certificate (DER), as written by fingerprint(); when
        /// set, exactly that certificate is accepted, whoever signed it.
        QByteArray pinnedSha256;
        /// Certificates trusted besides the system's roots.
        QList<QSslCertificate> caCertificates;
        int pingIntervalMs = 15000;
        /// Nothing heard (messages or pongs) for this long: the connection is dead.
        int idleTimeoutMs = 45000;
        /// From the start of an attempt until the snapshot.
        int connectTimeoutMs = 10000;
        int backoffInitialMs = 500;
        int backoffMaxMs = 30000;
    };

    explicit RemoteLink(const Settings& settings, QObject* parent = nullptr);
    ~RemoteLink() override;

    void open() override;
    void close() override;
    QString displayName() const override;
    bool isLocal() const override { return false; }
    const Settings& settings() const { return m_settings; }
    /// Takes new settings for the same address (a corrected token, another pinned
    /// certificate) and connects with them at once, without the backoff's wait.
    void setSettings(const Settings& settings);
    /// Gives up the wait before the next attempt and connects now.
    void reconnectNow();

    /// A certificate's SHA-256 as hex pairs joined by colons ("AB:CD:...").
    static QByteArray fingerprint(const QSslCertificate& certificate);

protected:
    void postCommand(const QString& id, const QString& agent, const QString& name, const QByteArray& argsJson) override;

private:
    Settings m_settings;
    QThread* m_thread = nullptr;
    RemoteLinkWorker* m_worker = nullptr;
    Mailbox* m_mailbox = nullptr; // to the worker: a child of it
};
