// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/link/locallink.h"

#include "server/protocol/localendpoint.h"
#include "server/protocol/threads.h"

#include <atomic>

/*
 * The link's viewer connection inside the host engine, on the engine's thread.
 */
class LocalLinkPeer final : public QObject, public LocalViewer
{
public:
    LocalLinkPeer(LocalEndpoint* server, LinkChannel* channel, int history)
        : m_server(server)
        , m_channel(channel)
        , m_session(channel)
    {
        m_session.setHistory(history);
    }

    void attach()
    {
        AGENTDECK_CHECK_THREAD(this);
        m_session.connectionStarted();
        publish(LinkChannel::State::Connecting, {});
        m_server->attachLocalViewer(this);
        m_attached = true;
    }

    void detach()
    {
        AGENTDECK_CHECK_THREAD(this);
        if (m_attached && m_server)
            m_server->detachLocalViewer(this);
        m_attached = false;
        m_session.connectionEnded(QStringLiteral("the link was closed"));
        publish(LinkChannel::State::Idle, {});
    }

    void command(const QString& id, const QString& agent, const QString& name, const QByteArray& argsJson)
    {
        AGENTDECK_CHECK_THREAD(this);
        if (!m_attached || !m_session.isSubscribed()) {
            LinkSession::failCommand(m_channel, id, agent, QStringLiteral("not_connected"),
                                     QStringLiteral("the embedded host is not running"));
            return;
        }
        m_server->receiveFromLocalViewer(this, m_session.commandMessage(id, agent, name, argsJson));
    }

    void drained()
    {
        AGENTDECK_CHECK_THREAD(this);
        m_drainPosted = false;
        if (m_attached && m_server)
            m_server->localViewerDrained(this);
    }

    std::atomic<bool> m_drainPosted{false};

    // LocalViewer
    void deliver(const QByteArray& json) override
    {
        AGENTDECK_CHECK_THREAD(this);
        const QByteArray reply = m_session.handleMessage(json);
        if (reply.isEmpty())
            return;
        // Not from inside the engine's send: it answers the subscribe right away.
        QMetaObject::invokeMethod(
            this,
            [this, reply] {
                if (!m_attached)
                    return;
                m_server->receiveFromLocalViewer(this, reply);
                publish(LinkChannel::State::Online, {});
            },
            Qt::QueuedConnection);
    }
    qint64 backlogBytes() const override { return m_channel->pendingBytes(); }
    void closed(quint16 code, const QString& reason) override
    {
        AGENTDECK_CHECK_THREAD(this);
        m_attached = false;
        const QString text = QStringLiteral("the embedded host closed the view (%1 %2)").arg(code).arg(reason);
        m_session.connectionEnded(text);
        publish(LinkChannel::State::Offline, text);
    }

private:
    void publish(LinkChannel::State state, const QString& reason)
    {
        LinkChannel::Status status;
        status.state = state;
        status.reason = reason;
        status.host = m_session.host();
        m_channel->setStatus(status);
    }

    QPointer<LocalEndpoint> m_server;
    LinkChannel* m_channel;
    LinkSession m_session;
    bool m_attached = false;
};

// ---------------------------------------------------------------------------

LocalLink::LocalLink(LocalEndpoint* server, QObject* parent)
    : HostLink(parent)
    , m_server(server)
{ }

LocalLink::~LocalLink()
{
    if (!m_peer)
        return;
    LocalLinkPeer* peer = std::exchange(m_peer, nullptr);
    Mailbox* mailbox = std::exchange(m_mailbox, nullptr);
    // The peer must be gone before the channel it writes to.
    mailbox->call([peer] {
        peer->detach();
        delete peer;
    });
    if (mailbox->thread()->isRunning())
        mailbox->deleteLater();
    else
        delete mailbox;
}

void LocalLink::open()
{
    AGENTDECK_CHECK_THREAD(this);
    if (!m_server)
        return;
    if (!m_peer) {
        m_peer = new LocalLinkPeer(m_server, &m_channel, m_history);
        m_peer->moveToThread(m_server->thread());
        m_mailbox = new Mailbox;
        m_mailbox->moveToThread(m_server->thread());
    }
    m_mailbox->post([peer = m_peer] { peer->attach(); });
}

void LocalLink::close()
{
    AGENTDECK_CHECK_THREAD(this);
    if (m_peer)
        m_mailbox->post([peer = m_peer] { peer->detach(); });
}

QString LocalLink::displayName() const
{
    return tr("This computer");
}

void LocalLink::postCommand(const QString& id, const QString& agent, const QString& name, const QByteArray& argsJson)
{
    AGENTDECK_CHECK_THREAD(this);
    if (!m_peer) {
        failUnsent(id, agent);
        return;
    }
    m_mailbox->post([peer = m_peer, id, agent, name, argsJson] { peer->command(id, agent, name, argsJson); });
}

void LocalLink::eventsTaken(qint64 bytes)
{
    AGENTDECK_CHECK_THREAD(this);
    Q_UNUSED(bytes);
    if (!m_peer || m_peer->m_drainPosted.exchange(true))
        return;
    m_mailbox->post([peer = m_peer] { peer->drained(); });
}
