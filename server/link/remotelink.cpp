// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/link/remotelink.h"

#include "server/protocol/protocol.h"
#include "server/protocol/secretfile.h"
#include "server/protocol/threads.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QNetworkRequest>
#include <QRandomGenerator>
#include <QSslConfiguration>
#include <QSslError>
#include <QThread>
#include <QTimer>
#include <QWebSocket>
#include <algorithm>
#include <cmath>

namespace {

using Protocol::nowMs;

/// A connection that stayed up this long was a success: the next failure starts the backoff over.
constexpr qint64 StableMs = 10000;
/// Decoded events waiting for the window beyond this: the link disconnects until they are taken.
constexpr qint64 MaxPendingBytes = 256 * 1024 * 1024;

} // namespace

/*
 * The link's protocol work, on the link's own thread: one QWebSocket per
 * attempt, the session that decodes and resumes, and the timers for retries,
 * pings and attempts that hang.
 */
class RemoteLinkWorker final : public QObject
{
public:
    RemoteLinkWorker(const RemoteLink::Settings& settings, LinkChannel* channel, int history)
        : m_settings(settings)
        , m_channel(channel)
        , m_session(channel)
        , m_retry(this)
        , m_attemptTimer(this)
        , m_liveness(this)
    {
        // The timers are children so that they move to the link's thread with the worker.
        m_session.setHistory(history);
        m_retry.setSingleShot(true);
        m_attemptTimer.setSingleShot(true);
        connect(&m_retry, &QTimer::timeout, this, &RemoteLinkWorker::connectNow);
        connect(&m_attemptTimer, &QTimer::timeout, this, [this] {
            fail(QStringLiteral("no answer from the host within %1 s").arg(m_settings.connectTimeoutMs / 1000.0));
        });
        m_liveness.setInterval(std::clamp(m_settings.idleTimeoutMs / 4, 50, 1000));
        connect(&m_liveness, &QTimer::timeout, this, &RemoteLinkWorker::onLivenessTick);
    }

    ~RemoteLinkWorker() override { dropSocket(); }

    void start()
    {
        AGENTDECK_CHECK_THREAD(this);
        m_running = true;
        m_attempt = 0;
        connectNow();
    }

    void stop()
    {
        AGENTDECK_CHECK_THREAD(this);
        m_running = false;
        m_retry.stop();
        m_attemptTimer.stop();
        m_liveness.stop();
        if (m_socket) {
            QWebSocket* socket = std::exchange(m_socket, nullptr);
            disconnect(socket, nullptr, this, nullptr);
            if (socket->state() == QAbstractSocket::ConnectedState)
                socket->close(QWebSocketProtocol::CloseCodeNormal, QStringLiteral("viewer closed"));
            socket->deleteLater();
        }
        m_session.connectionEnded(QStringLiteral("the link was closed"));
        publish(LinkChannel::State::Idle, {}, 0);
    }

    void reconnectNow(const RemoteLink::Settings& settings)
    {
        AGENTDECK_CHECK_THREAD(this);
        m_settings = settings;
        if (!m_running)
            return;
        m_retry.stop();
        m_attemptTimer.stop();
        m_attempt = 0;
        connectNow();
    }

    void command(const QString& id, const QString& agent, const QString& name, const QByteArray& argsJson)
    {
        AGENTDECK_CHECK_THREAD(this);
        if (!m_socket || !m_session.isSubscribed()) {
            const QString reason = m_reason.isEmpty() ? QStringLiteral("not connected yet") : m_reason;
            LinkSession::failCommand(m_channel, id, agent, QStringLiteral("not_connected"),
                                     QStringLiteral("the host is not connected: %1").arg(reason));
            return;
        }
        send(m_session.commandMessage(id, agent, name, argsJson));
    }

private:
    void connectNow()
    {
        if (!m_running)
            return;
        dropSocket();
        ++m_attempt;
        m_failReason.clear();
        m_tlsProblem.clear();
        m_session.connectionStarted();
        publish(LinkChannel::State::Connecting, m_reason, 0);

        m_socket = new QWebSocket(QString(), QWebSocketProtocol::VersionLatest, this);
        QWebSocket* socket = m_socket;
        socket->setMaxAllowedIncomingMessageSize(64 * 1024 * 1024);
        if (m_settings.url.scheme() == QLatin1String("wss")) {
            QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
            if (!m_settings.caCertificates.isEmpty())
                tls.addCaCertificates(m_settings.caCertificates);
            socket->setSslConfiguration(tls);
        }
        connect(socket, &QWebSocket::connected, this, [this, socket] {
            if (socket != m_socket)
                return;
            if (!m_settings.pinnedSha256.isEmpty() && !peerMatchesPin()) {
                fail(QStringLiteral("the host's certificate (SHA-256 %1) is not the pinned one")
                         .arg(QString::fromLatin1(RemoteLink::fingerprint(peerCertificate()))));
                return;
            }
            QByteArray token = m_settings.token.toUtf8();
            QString problem;
            if (!m_settings.tokenFile.isEmpty() && !SecretFile::read(m_settings.tokenFile, &token, &problem)) {
                fail(problem);
                return;
            }
            m_lastHeard = m_lastPing = nowMs();
            m_liveness.start();
            send(m_session.helloMessage(QString::fromUtf8(token)));
        });
        connect(socket, &QWebSocket::textMessageReceived, this, [this, socket](const QString& message) {
            if (socket != m_socket)
                return;
            m_lastHeard = nowMs();
            if (m_channel->pendingBytes() > MaxPendingBytes) {
                // The window is not taking what arrives. Step away and resume from the
                // last line it was given, instead of holding an ever longer queue.
                fail(QStringLiteral("the window fell behind; resuming shortly"));
                return;
            }
            const QByteArray reply = m_session.handleMessage(message.toUtf8());
            if (!reply.isEmpty()) {
                send(reply);
                if (m_channel->status().state != LinkChannel::State::Online) {
                    m_attemptTimer.stop();
                    m_onlineSince = nowMs();
                    m_reason.clear();
                    publish(LinkChannel::State::Online, {}, 0);
                }
            }
        });
        connect(socket, &QWebSocket::pong, this, [this, socket](quint64, const QByteArray&) {
            if (socket == m_socket)
                m_lastHeard = nowMs();
        });
        connect(socket, &QWebSocket::sslErrors, this, [this, socket](const QList<QSslError>& errors) {
            if (socket != m_socket)
                return;
            if (!m_settings.pinnedSha256.isEmpty() && peerMatchesPin()) {
                socket->ignoreSslErrors();
                return;
            }
            QStringList texts;
            for (const QSslError& error : errors)
                texts.append(error.errorString());
            texts.removeDuplicates();
            const QSslCertificate certificate =
                peerCertificate().isNull() && !errors.isEmpty() ? errors.first().certificate() : peerCertificate();
            m_tlsProblem =
                QStringLiteral("certificate not trusted: %1 (SHA-256 %2)")
                    .arg(texts.join(QLatin1String("; ")), QString::fromLatin1(RemoteLink::fingerprint(certificate)));
        });
        connect(socket, QOverload<QAbstractSocket::SocketError>::of(&QWebSocket::error), this,
                [this, socket](QAbstractSocket::SocketError) { attemptMayHaveEnded(socket); });
        connect(socket, &QWebSocket::disconnected, this, [this, socket] { attemptMayHaveEnded(socket); });

        m_attemptTimer.start(m_settings.connectTimeoutMs);
        QNetworkRequest request(m_settings.url);
        socket->open(request);
    }

    void attemptMayHaveEnded(QWebSocket* socket)
    {
        // The error and the disconnection come in either order and sometimes only one
        // of them; look once both had their chance.
        QTimer::singleShot(0, this, [this, socket] {
            if (socket != m_socket || socket->state() != QAbstractSocket::UnconnectedState)
                return;
            endAttempt(describeEnd(socket));
        });
    }

    QString describeEnd(QWebSocket* socket) const
    {
        if (!m_failReason.isEmpty())
            return m_failReason;
        if (!m_tlsProblem.isEmpty())
            return m_tlsProblem;
        QString reason;
        const int code = socket->closeCode();
        if (!socket->closeReason().isEmpty()) {
            reason = QStringLiteral("closed by the host (%1 %2)").arg(code).arg(socket->closeReason());
        } else if (m_session.isWelcomed()) {
            reason = QStringLiteral("the connection was lost (%1)").arg(socket->errorString());
        } else {
            reason = socket->errorString();
        }
        if (!m_session.lastHostError().isEmpty())
            reason += QStringLiteral(": ") + m_session.lastHostError();
        return reason;
    }

    void fail(const QString& reason)
    {
        if (!m_socket)
            return;
        m_failReason = reason;
        QWebSocket* socket = m_socket;
        socket->abort();
        if (socket == m_socket)
            endAttempt(reason);
    }

    void endAttempt(const QString& reason)
    {
        const bool wasStable = m_onlineSince > 0 && nowMs() - m_onlineSince >= StableMs;
        m_onlineSince = 0;
        dropSocket();
        m_attemptTimer.stop();
        m_liveness.stop();
        m_reason = reason;
        m_session.connectionEnded(reason);
        if (!m_running)
            return;
        if (wasStable)
            m_attempt = 1;
        // 0.5 s doubling to 30 s, each within ±20 % so that viewers of a restarted host
        // do not all come back in the same instant.
        const double base = std::min<double>(m_settings.backoffMaxMs,
                                             m_settings.backoffInitialMs * std::pow(2.0, std::max(0, m_attempt - 1)));
        const double jitter = 0.8 + 0.4 * QRandomGenerator::global()->generateDouble();
        const int delay = int(std::min<double>(m_settings.backoffMaxMs, base * jitter));
        m_retry.start(delay);
        publish(LinkChannel::State::Offline, reason, nowMs() + delay, delay);
    }

    void onLivenessTick()
    {
        if (!m_socket)
            return;
        const qint64 now = nowMs();
        if (now - m_lastHeard >= m_settings.idleTimeoutMs) {
            fail(QStringLiteral("no answer from the host for %1 s (ping timeout)")
                     .arg(m_settings.idleTimeoutMs / 1000.0));
            return;
        }
        if (now - m_lastPing >= m_settings.pingIntervalMs) {
            m_lastPing = now;
            m_socket->ping();
        }
    }

    void send(const QByteArray& json)
    {
        if (m_socket)
            m_socket->sendTextMessage(QString::fromUtf8(json));
    }

    void dropSocket()
    {
        if (!m_socket)
            return;
        QWebSocket* socket = std::exchange(m_socket, nullptr);
        disconnect(socket, nullptr, this, nullptr);
        socket->abort();
        socket->deleteLater();
    }

    QSslCertificate peerCertificate() const
    {
        return m_socket ? m_socket->sslConfiguration().peerCertificate() : QSslCertificate();
    }

    bool peerMatchesPin() const
    {
        const QSslCertificate certificate = peerCertificate();
        return !certificate.isNull()
            && RemoteLink::fingerprint(certificate).compare(m_settings.pinnedSha256, Qt::CaseInsensitive) == 0;
    }

    void publish(LinkChannel::State state, const QString& reason, qint64 nextAttemptAt, int retryDelayMs = 0)
    {
        LinkChannel::Status status;
        status.state = state;
        status.reason = reason;
        status.nextAttemptAt = nextAttemptAt;
        status.retryDelayMs = retryDelayMs;
        status.attempt = m_attempt;
        status.host = m_session.host();
        m_channel->setStatus(status);
    }

    RemoteLink::Settings m_settings;
    LinkChannel* m_channel;
    LinkSession m_session;
    QWebSocket* m_socket = nullptr;
    QTimer m_retry;
    QTimer m_attemptTimer;
    QTimer m_liveness;
    bool m_running = false;
    int m_attempt = 0;
    qint64 m_lastHeard = 0;
    qint64 m_lastPing = 0;
    qint64 m_onlineSince = 0;
    QString m_failReason; // set by the link itself: timeouts, a certificate that is not the pinned one
    QString m_tlsProblem;
    QString m_reason; // why the last attempt ended
};

// ---------------------------------------------------------------------------

RemoteLink::RemoteLink(const Settings& settings, QObject* parent)
    : HostLink(parent)
    , m_settings(settings)
{ }

RemoteLink::~RemoteLink()
{
    if (m_thread) {
        m_thread->quit();
        m_thread->wait();
    }
}

void RemoteLink::open()
{
    AGENTDECK_CHECK_THREAD(this);
    if (!m_thread) {
        m_thread = new QThread(this);
        m_thread->setObjectName(QStringLiteral("link ") + displayName());
        m_worker = new RemoteLinkWorker(m_settings, &m_channel, m_history);
        m_mailbox = new Mailbox(m_worker);
        m_worker->moveToThread(m_thread);
        connect(m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
        m_thread->start();
    }
    m_mailbox->post([worker = m_worker] { worker->start(); });
}

void RemoteLink::close()
{
    AGENTDECK_CHECK_THREAD(this);
    if (m_worker)
        m_mailbox->post([worker = m_worker] { worker->stop(); });
}

void RemoteLink::setSettings(const Settings& settings)
{
    AGENTDECK_CHECK_THREAD(this);
    Q_ASSERT(settings.url == m_settings.url);
    m_settings = settings;
    reconnectNow();
}

void RemoteLink::reconnectNow()
{
    AGENTDECK_CHECK_THREAD(this);
    if (m_worker) {
        m_mailbox->post([worker = m_worker, settings = m_settings] { worker->reconnectNow(settings); });
    }
}

QString RemoteLink::displayName() const
{
    return m_settings.url.host() + QLatin1Char(':') + QString::number(m_settings.url.port(7700));
}

QByteArray RemoteLink::fingerprint(const QSslCertificate& certificate)
{
    return certificate.digest(QCryptographicHash::Sha256).toHex(':').toUpper();
}

void RemoteLink::postCommand(const QString& id, const QString& agent, const QString& name, const QByteArray& argsJson)
{
    AGENTDECK_CHECK_THREAD(this);
    if (!m_worker) {
        failUnsent(id, agent);
        return;
    }
    m_mailbox->post([worker = m_worker, id, agent, name, argsJson] { worker->command(id, agent, name, argsJson); });
}
