// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/link/linkevent.h"
#include "server/protocol/json.h"

#include <QHash>
#include <QMutex>
#include <functional>

/*
 * What a link's worker thread and the thread that shows its events share: the
 * decoded events not yet taken, and the link's state. The worker pushes; the
 * consumer takes everything at once, so events cross threads in batches.
 */
class LinkChannel final
{
    Q_DISABLE_COPY_MOVE(LinkChannel)

public:
    enum class State : quint8 { Idle, Connecting, Online, Offline };

    struct Status
    {
        State state = State::Idle;
        QString reason; // why the host is offline
        qint64 nextAttemptAt = 0; // when the next connection attempt starts (ms since the epoch)
        int retryDelayMs = 0; // the wait before that attempt
        int attempt = 0; // connection attempts since the host was last online
        Link::HostInfo host;
    };

    LinkChannel() = default;

    /// Called on the worker's thread when the channel has news and nobody was told yet.
    void setNotify(std::function<void()> notify);

    void push(Link::Event&& event, qint64 bytes);
    void setStatus(const Status& status);

    /// The consumer has heard the news: the next push or status change tells it again.
    /// Returns whether events are waiting.
    bool acknowledge();
    /// Takes every event pushed so far, oldest first, and the bytes they came in.
    QList<Link::Event> take(qint64* bytes = nullptr);
    Status status() const;
    /// Bytes of events pushed and not yet taken.
    qint64 pendingBytes() const;

private:
    void notifyLocked();

    mutable QMutex m_mutex;
    QList<Link::Event> m_events;
    qint64 m_bytes = 0;
    Status m_status;
    bool m_notified = false;
    std::function<void()> m_notify;
};

/*
 * The viewer side of protocol v1 for one link, on the link's worker thread:
 * decodes the host's messages into Link::Events, remembers the last number seen
 * per agent and kind so that a reconnect resumes with `since`, drops what was
 * already delivered, and answers commands that a lost connection leaves open.
 */
class LinkSession final
{
    Q_DISABLE_COPY_MOVE(LinkSession)

public:
    explicit LinkSession(LinkChannel* channel);

    /// Log lines asked for agents seen for the first time (default 1000).
    void setHistory(int lines) { m_history = lines; }

    QByteArray helloMessage(const QString& token) const;
    /// A new connection starts: nothing is subscribed yet.
    void connectionStarted();
    /// Handles one message from the host. Returns a message to send back, if any
    /// (the `subscribe` that follows a snapshot).
    QByteArray handleMessage(const QByteArray& json);
    /// The connection is gone: commands waiting for a result fail with `disconnected`.
    void connectionEnded(const QString& reason);

    /// The message for a command; a result event with id follows (from the host, or
    /// from the link when the connection is not up or goes away first). The names
    /// DefineAgentRequest (args: the definition) and RemoveAgentRequest make the
    /// launch-editing requests of the same names instead; HistoryRequest (args:
    /// kind, before, limit) asks for older items, which come as a History event.
    static constexpr const char* DefineAgentRequest = "define_agent";
    static constexpr const char* RemoveAgentRequest = "remove_agent";
    static constexpr const char* HistoryRequest = "history";
    QByteArray commandMessage(const QString& id, const QString& agent, const QString& name, const QByteArray& argsJson);
    /// Answers a command that could not be sent at all.
    static void failCommand(LinkChannel* channel, const QString& id, const QString& agent, const QString& error,
                            const QString& text);

    bool isWelcomed() const { return m_welcomed; }
    bool isSubscribed() const { return m_subscribed; }
    const Link::HostInfo& host() const { return m_host; }
    /// The last `error` the host sent, as "code: text"; kept for the offline reason.
    QString lastHostError() const { return m_lastError; }
    /// Messages that were not valid JSON or not understood.
    int badMessages() const { return m_badMessages; }

    /// Decodes an agent description (snapshot, agent events).
    static Link::AgentInfo readAgent(Json::Value value);
    static Link::AgentStatus readStatus(Json::Value value);

private:
    struct Position
    {
        qint64 log = 0;
        qint64 forum = 0;
        // The numbers are meaningful: what follows must continue them without a hole.
        bool logKnown = false;
        bool forumKnown = false;
    };
    template <typename Item>
    bool admit(Link::Event& e, QList<Item> Link::Event::*items, qint64& last, bool& known, qint64 seq,
               QByteArrayView kind);

    Link::Event simpleEvent(Protocol::MessageType type, Json::Value root);
    void readHost(Json::Value host);
    /// What the welcome says the token allows.
    void readAccess(Json::Value access);
    void onAgent(Json::Value root, qint64 bytes);
    void onResult(Json::Value root, qint64 bytes);
    void onSnapshot(Json::Value root, qint64 bytes);
    void onLog(Json::Value root, qint64 bytes);
    void onForum(Json::Value root, qint64 bytes);
    void onGap(Json::Value root, qint64 bytes);
    void onHistory(Json::Value root, qint64 bytes);
    void pushMissing(const QString& agent, QByteArrayView kind, qint64 from, qint64 to);
    /// Compares the host's last numbers for an agent with the ones seen. Numbers that
    /// went back mean the host lost items it had sent (it stopped before saving them,
    /// or its files are gone): a Renumbered event says so, and what the host sends
    /// with those numbers is passed on, not dropped as already seen. The items below
    /// the host's last number may be the ones seen or new ones numbered anew while
    /// this link was away: when a subscribe follows (subscribing), it asks for up to
    /// RenumberedReplay of them again, and the models keep only those that differ
    /// from what they hold. (An agent that appears while subscribed brings only what the
    /// host had saved before; its new items follow live.)
    void checkNumbering(const Link::AgentInfo& info, bool subscribing);
    static constexpr qint64 RenumberedReplay = 10000;
    QByteArray subscribeMessage() const;

    LinkChannel* m_channel;
    Json::ReusedDocument m_doc;
    int m_history = 1000;
    bool m_welcomed = false;
    bool m_subscribed = false;
    Link::HostInfo m_host;
    QString m_hostId; // the history the positions refer to
    QHash<QString, Position> m_positions;
    struct PendingCommand
    {
        QString agent;
        bool answered = false;
    };
    QHash<QString, PendingCommand> m_pending;
    QString m_lastError;
    int m_badMessages = 0;
};
