// SPDX-License-Identifier: GPL-3.0-or-later
#include "testclient.h"

#include <algorithm>

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QTest>

TestClient::TestClient(QObject* parent)
    : QObject(parent)
{
    connect(&m_socket, &QWebSocket::textMessageReceived, this, [this](const QString& text) {
        const QJsonDocument doc = QJsonDocument::fromJson(text.toUtf8());
        if (!doc.isObject()) {
            ++m_invalid;
            return;
        }
        m_messages.append(doc.object());
    });
    connect(&m_socket, &QWebSocket::disconnected, this, [this] {
        m_closed = true;
        m_closeCode = m_socket.closeCode();
        m_closeReason = m_socket.closeReason();
    });
}

TestClient::~TestClient()
{
    m_socket.abort();
}

bool TestClient::open(const QUrl& url, const QList<std::pair<QByteArray, QByteArray>>& headers, int timeoutMs)
{
    QNetworkRequest request(url);
    for (const auto& header : headers)
        request.setRawHeader(header.first, header.second);
    QSignalSpy connected(&m_socket, &QWebSocket::connected);
    QSignalSpy ended(&m_socket, &QWebSocket::disconnected);
    m_socket.open(request);
    // Not waiting on when the connection ended before its upgrade: a caller may try again.
    QDeadlineTimer deadline(timeoutMs);
    while (connected.isEmpty() && ended.isEmpty() && !deadline.hasExpired())
        connected.wait(int(std::min<qint64>(deadline.remainingTime(), 20)));
    return !connected.isEmpty() || m_socket.state() == QAbstractSocket::ConnectedState;
}

void TestClient::sendJson(const QJsonObject& message)
{
    m_socket.sendTextMessage(QString::fromUtf8(QJsonDocument(message).toJson(QJsonDocument::Compact)));
}

void TestClient::sendText(const QString& text)
{
    m_socket.sendTextMessage(text);
}

void TestClient::sendBinary(const QByteArray& data)
{
    m_socket.sendBinaryMessage(data);
}

QJsonObject TestClient::helloAgent(const QString& token, const QString& id, const QJsonObject& extra)
{
    QJsonObject agent = extra;
    agent[QStringLiteral("id")] = id;
    sendJson({{QStringLiteral("type"), QStringLiteral("hello")},
              {QStringLiteral("protocol"), 1},
              {QStringLiteral("role"), QStringLiteral("agent")},
              {QStringLiteral("token"), token},
              {QStringLiteral("agent"), agent}});
    return next(QStringLiteral("welcome"));
}

QJsonObject TestClient::helloViewer(const QString& token)
{
    sendJson({{QStringLiteral("type"), QStringLiteral("hello")},
              {QStringLiteral("protocol"), 1},
              {QStringLiteral("role"), QStringLiteral("viewer")},
              {QStringLiteral("token"), token}});
    if (next(QStringLiteral("welcome")).isEmpty())
        return {};
    return next(QStringLiteral("snapshot"));
}

QList<QJsonObject> TestClient::subscribe(const QJsonObject& subscribe)
{
    QJsonObject message = subscribe;
    message[QStringLiteral("type")] = QStringLiteral("subscribe");
    sendJson(message);
    QList<QJsonObject> replay;
    while (true) {
        const QJsonObject m = next({}, 10000);
        if (m.isEmpty() || m.value(QStringLiteral("type")).toString() == QLatin1String("subscribed"))
            return replay;
        replay.append(m);
    }
}

QJsonObject TestClient::next(const QString& type, int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    while (true) {
        for (qsizetype i = 0; i < m_messages.size(); ++i) {
            if (type.isEmpty() || m_messages[i].value(QStringLiteral("type")).toString() == type)
                return m_messages.takeAt(i);
        }
        if (deadline.hasExpired())
            return {};
        QTest::qWait(5);
    }
}

bool TestClient::has(const QString& type, int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    while (true) {
        for (const QJsonObject& m : m_messages) {
            if (m.value(QStringLiteral("type")).toString() == type)
                return true;
        }
        if (deadline.hasExpired())
            return false;
        QTest::qWait(5);
    }
}

bool TestClient::waitClosed(int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    while (!m_closed && !deadline.hasExpired())
        QTest::qWait(5);
    return m_closed;
}

bool TestClient::isOpen() const
{
    return !m_closed && m_socket.state() == QAbstractSocket::ConnectedState;
}

bool StreamRecord::coversExactly(qint64 last, QString* problem) const
{
    // Merge lines and gaps by number and walk 1..last.
    QList<std::pair<qint64, qint64>> ranges;
    for (qint64 s : seqs)
        ranges.append({s, s});
    for (const QJsonObject& g : gaps)
        ranges.append({g.value(QStringLiteral("from")).toInteger(), g.value(QStringLiteral("to")).toInteger()});
    std::sort(ranges.begin(), ranges.end());
    qint64 expected = 1;
    for (const auto& r : ranges) {
        if (r.first != expected) {
            *problem = QStringLiteral("expected %1, got %2..%3").arg(expected).arg(r.first).arg(r.second);
            return false;
        }
        expected = r.second + 1;
    }
    if (expected != last + 1) {
        *problem = QStringLiteral("ended at %1, expected %2").arg(expected - 1).arg(last);
        return false;
    }
    // Arrival order must be increasing too.
    for (qsizetype i = 1; i < seqs.size(); ++i) {
        if (seqs[i] <= seqs[i - 1]) {
            *problem = QStringLiteral("out of order: %1 after %2").arg(seqs[i]).arg(seqs[i - 1]);
            return false;
        }
    }
    return true;
}

bool collectUntil(TestClient& client, const QString& agent, qint64 last, StreamRecord* record, int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    qint64 reached = 0;
    auto update = [&] {
        for (qint64 s : record->seqs)
            reached = std::max(reached, s);
        for (const QJsonObject& g : record->gaps)
            reached = std::max(reached, g.value(QStringLiteral("to")).toInteger());
    };
    update();
    while (reached < last && !deadline.hasExpired()) {
        QJsonObject m = client.next({}, 50);
        if (m.isEmpty())
            continue;
        const QString type = m.value(QStringLiteral("type")).toString();
        if (m.value(QStringLiteral("agent")).toString() != agent)
            continue;
        if (type == QLatin1String("gap") && m.value(QStringLiteral("kind")).toString() == QLatin1String("log")) {
            record->gaps.append(m);
        } else if (type == QLatin1String("log")) {
            const QJsonArray lines = m.value(QStringLiteral("lines")).toArray();
            for (const QJsonValue& l : lines) {
                const QJsonObject line = l.toObject();
                if (line.value(QStringLiteral("partial")).toBool())
                    continue;
                record->seqs.append(line.value(QStringLiteral("seq")).toInteger());
                record->texts.append(line.value(QStringLiteral("text")).toString());
            }
        }
        update();
    }
    return reached >= last;
}
