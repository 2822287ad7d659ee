// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/link/hostlink.h"

#include "server/protocol/json.h"

HostLink::HostLink(QObject* parent)
    : QObject(parent)
{
    // Called on the worker's thread at most once until the news is read here. By
    // name: the call event is made inside Qt and carries nothing of the worker's.
    m_channel.setNotify([this] { QMetaObject::invokeMethod(this, "onChannelNews", Qt::QueuedConnection); });
}

HostLink::~HostLink() = default;

QList<Link::Event> HostLink::takeEvents()
{
    qint64 bytes = 0;
    QList<Link::Event> events = m_channel.take(&bytes);
    m_eventsAnnounced = false;
    if (bytes > 0)
        eventsTaken(bytes);
    return events;
}

void HostLink::onChannelNews()
{
    const bool hasEvents = m_channel.acknowledge();
    const Status now = m_channel.status();
    if (now.state != m_lastStatus.state || now.reason != m_lastStatus.reason
        || now.nextAttemptAt != m_lastStatus.nextAttemptAt || now.host.id != m_lastStatus.host.id) {
        m_lastStatus = now;
        Q_EMIT statusChanged();
    }
    if (hasEvents && !m_eventsAnnounced) {
        m_eventsAnnounced = true;
        Q_EMIT eventsReady();
    }
}

QString HostLink::sendCommand(const QString& agent, const QString& name, const QByteArray& argsJson)
{
    const QString id = QLatin1Char('c') + QString::number(m_nextCommand++);
    postCommand(id, agent, name, argsJson.isEmpty() ? QByteArray("{}") : argsJson);
    return id;
}

QByteArray HostLink::answerArgs(const QString& askId, const QString& choice)
{
    QByteArray args;
    Json::Writer w(&args);
    w.beginObject().key("ask").string(askId).key("choice").string(choice).endObject();
    return args;
}

QString HostLink::answerAsk(const QString& agent, const QString& askId, const QString& choice)
{
    return sendCommand(agent, QStringLiteral("answer"), answerArgs(askId, choice));
}

void HostLink::failUnsent(const QString& id, const QString& agent)
{
    LinkSession::failCommand(&m_channel, id, agent, QStringLiteral("not_connected"),
                             QStringLiteral("the link is not open"));
}
