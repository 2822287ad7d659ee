// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/bridge/socketioclient.h"

#include "server/protocol/json.h"
#include "server/protocol/protocol.h"

#include <QUrlQuery>
#include <QWebSocket>

SocketIoClient::SocketIoClient(QObject* parent)
    : QObject(parent)
{ }

SocketIoClient::~SocketIoClient()
{
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
    }
}

QUrl SocketIoClient::socketUrl(const QUrl& base)
{
    QUrl url = base;
    url.setScheme(base.scheme() == QLatin1String("https") ? QStringLiteral("wss") : QStringLiteral("ws"));
    QString path = base.path();
    if (!path.endsWith(QLatin1Char('/')))
        path += QLatin1Char('/');
    url.setPath(path + QStringLiteral("socket.io/"));
    QUrlQuery query;
    query.addQueryItem(QStringLiteral("EIO"), QStringLiteral("4"));
    query.addQueryItem(QStringLiteral("transport"), QStringLiteral("websocket"));
    url.setQuery(query);
    return url;
}

void SocketIoClient::open(const QUrl& base)
{
    abort();
    m_socket = new QWebSocket(QString(), QWebSocketProtocol::VersionLatest, this);
    m_finished = false;
    m_joined = false;
    m_lastFrameMs = Protocol::nowMs();
    connect(m_socket, &QWebSocket::textMessageReceived, this, &SocketIoClient::onText);
    connect(m_socket, &QWebSocket::disconnected, this, &SocketIoClient::onDisconnected);
    m_socket->open(socketUrl(base));
}

void SocketIoClient::abort()
{
    if (!m_socket)
        return;
    QWebSocket* socket = m_socket;
    m_socket = nullptr;
    socket->disconnect(this);
    socket->abort();
    socket->deleteLater();
    m_joined = false;
    m_finished = true;
}

void SocketIoClient::emitEvent(QByteArrayView name, QByteArrayView jsonArgument)
{
    if (!m_socket)
        return;
    QByteArray packet = "42";
    Json::Writer w(&packet);
    w.beginArray().string(name);
    if (!jsonArgument.isEmpty())
        w.raw(jsonArgument);
    w.endArray();
    m_socket->sendTextMessage(QString::fromUtf8(packet));
}

void SocketIoClient::onText(const QString& text)
{
    m_lastFrameMs = Protocol::nowMs();
    if (text.isEmpty())
        return;
    switch (text.at(0).unicode()) {
    case '0': { // Engine.IO open: the session's parameters; join the default namespace
        const Json::ReusedDocument::Lease doc(m_doc);
        if (doc->parse(text.mid(1).toUtf8())) {
            m_pingIntervalMs = int(doc->root()["pingInterval"].toInteger(m_pingIntervalMs));
            m_pingTimeoutMs = int(doc->root()["pingTimeout"].toInteger(m_pingTimeoutMs));
        }
        m_socket->sendTextMessage(QStringLiteral("40"));
        return;
    }
    case '1': // Engine.IO close
        finish(QStringLiteral("the server closed the session"));
        return;
    case '2': // ping
        m_socket->sendTextMessage(QStringLiteral("3"));
        return;
    case '4':
        break;
    default:
        return;
    }
    if (text.size() < 2)
        return;
    switch (text.at(1).unicode()) {
    case '0': // namespace joined
        if (!m_joined) {
            m_joined = true;
            Q_EMIT joined();
        }
        return;
    case '1':
        finish(QStringLiteral("the server left the namespace"));
        return;
    case '4':
        finish(QStringLiteral("the server refused the connection: %1").arg(text.mid(2)));
        return;
    case '2':
        break;
    default:
        return;
    }
    // 42["name",argument] (an ack id may sit between 42 and the array).
    qsizetype start = 2;
    while (start < text.size() && text.at(start).isDigit())
        ++start;
    const Json::ReusedDocument::Lease doc(m_doc);
    if (!doc->parse(text.mid(start).toUtf8()))
        return;
    const Json::Value array = doc->root();
    if (!array.isArray() || array.size() < 1)
        return;
    QByteArrayView name;
    Json::Value argument;
    int index = 0;
    for (const Json::Value item : array.items()) {
        if (index == 0)
            name = item.toUtf8();
        else if (index == 1)
            argument = item;
        ++index;
    }
    // Events may come before the acknowledgement of the join: the server has us by then.
    if (m_onEvent)
        m_onEvent(name, argument);
}

void SocketIoClient::onDisconnected()
{
    QString reason = m_socket ? m_socket->errorString() : QString();
    if (m_socket && m_socket->closeCode() != QWebSocketProtocol::CloseCodeNormal && reason.isEmpty())
        reason = QStringLiteral("closed with code %1").arg(int(m_socket->closeCode()));
    finish(reason.isEmpty() ? QStringLiteral("the connection closed") : reason);
}

void SocketIoClient::finish(const QString& reason)
{
    if (m_finished)
        return;
    abort();
    Q_EMIT closed(reason);
}
