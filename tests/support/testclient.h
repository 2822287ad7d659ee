// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QNetworkRequest>
#include <QObject>
#include <QWebSocket>

/*
 * A protocol client for tests: a real QWebSocket that records every message it
 * receives and lets a test wait for the next one of a given type.
 */
class TestClient final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TestClient)

public:
    explicit TestClient(QObject* parent = nullptr);
    ~TestClient() override;

    /// Opens the connection and waits for the upgrade; false if it did not happen.
    bool open(const QUrl& url, const QList<std::pair<QByteArray, QByteArray>>& headers = {}, int timeoutMs = 10000);
    void sendJson(const QJsonObject& message);
    void sendText(const QString& text);
    void sendBinary(const QByteArray& data);

    /// Sends hello as an agent and waits for welcome; returns the welcome (empty on failure).
    QJsonObject helloAgent(const QString& token, const QString& id, const QJsonObject& extra = {});
    /// Sends hello as a viewer and waits for welcome and snapshot; returns the snapshot.
    QJsonObject helloViewer(const QString& token);
    /// Subscribes and waits for `subscribed`; returns the messages of the replay before it.
    QList<QJsonObject> subscribe(const QJsonObject& subscribe);

    /// Removes and returns the first received message of type (any type if empty),
    /// waiting up to timeoutMs; an empty object when none came.
    QJsonObject next(const QString& type = {}, int timeoutMs = 10000);
    /// True if a message of type arrives within timeoutMs (it stays queued).
    bool has(const QString& type, int timeoutMs);
    /// The messages received and not yet taken.
    const QList<QJsonObject>& pending() const { return m_messages; }
    void clear() { m_messages.clear(); }

    bool waitClosed(int timeoutMs = 10000);
    bool isOpen() const;
    int closeCode() const { return m_closeCode; }
    QString closeReason() const { return m_closeReason; }
    QWebSocket* socket() { return &m_socket; }
    /// Text messages that were not JSON objects.
    int invalidMessages() const { return m_invalid; }

private:
    QWebSocket m_socket;
    QList<QJsonObject> m_messages;
    int m_closeCode = -1;
    QString m_closeReason;
    int m_invalid = 0;
    bool m_closed = false;
};

/// Collects the log lines and gaps a viewer received for one agent, in arrival order.
struct StreamRecord
{
    QList<qint64> seqs;
    QStringList texts;
    QList<QJsonObject> gaps;
    /// Checks that the seqs and gaps cover 1..last exactly once, in order.
    bool coversExactly(qint64 last, QString* problem) const;
};

/// Drains log and gap messages for agent from client into record until its last number
/// (line or gap) reaches last or timeoutMs passes.
bool collectUntil(TestClient& client, const QString& agent, qint64 last, StreamRecord* record, int timeoutMs = 20000);
