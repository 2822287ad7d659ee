// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/link/linkevent.h"

#include <QAbstractListModel>
#include <QHash>
#include <deque>
#include <vector>

/*
 * The forum messages of every agent of every host, in time order (a backlog that
 * arrives late goes where its times place it; equal times keep their arrival order),
 * grouped into conversations (one per forum run).
 *
 * A host's next message starts a new conversation when
 *  - its number restarts: it is not above the last one seen for that agent, it is
 *    not a message already held, and it is not older than that agent's last message
 *    (an older one is a replay of history the model no longer holds, and is dropped);
 *  - the host's history changed (a Snapshot with hostChanged);
 *  - more than conversationGap() passed (by message time) since the host's latest message;
 *  - startConversation() was called for the host.
 * A message older than the host's latest joins the host's conversation its time
 * falls in (the latest one started at or before it), not the current one.
 * Conversation numbers rise and are never reused; the model holds the conversations
 * firstConversation() to firstConversation() + conversationCount() - 1, and forgets
 * the oldest ones once their messages are evicted.
 *
 * A message whose (host, agent, seq) is held with the same time, sender and text is
 * a duplicate (a replay after a reconnect) and is dropped; after a Renumbered event,
 * the same sender and text suffice for the numbers the host lost (an agent resends
 * them, and the host stamps them anew). At most maxMessages()
 * are held; the oldest go first.
 *
 * Messages that will not come (a forum `gap`) and a host that numbers an agent's
 * messages anew (a `Renumbered` event) are shown as notices: messages with role
 * `system`, sender NoticeSender and no number.
 */
class ForumModel final : public QAbstractListModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ForumModel)

public:
    enum Role {
        SenderRole = Qt::UserRole,
        RoleRole, // agent, host, system, user
        SourceRole,
        TimeRole, // qint64, ms since the epoch
        TextRole,
        AgentRole,
        HostKeyRole,
        SeqRole,
        ConversationRole, // int
        IdRole, // quint64 above 0, unique and never reused: tells a message apart as rows move
    };
    Q_ENUM(Role)

    static constexpr int DefaultMaxMessages = 10000;
    static constexpr QLatin1StringView NoticeSender = QLatin1StringView("AgentDeck");
    static constexpr qint64 DefaultConversationGap = 10 * 60 * 1000;

    explicit ForumModel(QObject* parent = nullptr);
    ~ForumModel() override;

    /// Takes in one event of the host hostKey; events that do not concern this model are ignored.
    void applyEvent(const QString& hostKey, const Link::Event& event);
    /// The host's next message starts a new conversation.
    void startConversation(const QString& hostKey);

    void setConversationGap(qint64 msecs);
    qint64 conversationGap() const { return m_conversationGap; }
    /// Evicts the oldest messages at once when more than max are held.
    void setMaxMessages(int max);
    int maxMessages() const { return m_maxMessages; }

    int conversationCount() const { return int(m_conversations.size()); }
    int firstConversation() const { return m_firstConversation; }
    /// "2025-11-22 01:40 · Query Engine, Media Bot": start time (local) and senders in order of appearance.
    QString conversationTitle(int conversation) const;
    qint64 conversationStart(int conversation) const;
    QString conversationHost(int conversation) const;

    /// What a conversation list shows of a conversation.
    struct ConversationInfo
    {
        QString hostKey;
        qint64 start = 0; // the earliest message's time
        qint64 end = 0; // the latest message's time
        QStringList participants; // in order of appearance
        QString firstText; // the text of its earliest message from an agent or host
        int messages = 0;
    };
    /// An empty info (no messages) for a conversation not held.
    ConversationInfo conversationInfo(int conversation) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

Q_SIGNALS:
    void conversationStarted(int conversation);

private:
    struct Message
    {
        QString hostKey;
        QString agent;
        Link::ForumMessage message;
        int conversation = -1;
        quint64 serial = 0;
    };
    /// What deduplication compares of a held message.
    struct Held
    {
        quint64 serial = 0;
        qint64 ts = 0;
        QString sender;
        QString text;
    };
    struct Key
    {
        QString hostKey;
        QString agent;
        qint64 seq = 0;
        bool operator==(const Key& other) const
        {
            return seq == other.seq && agent == other.agent && hostKey == other.hostKey;
        }
        friend size_t qHash(const Key& key, size_t seed = 0)
        {
            return qHashMulti(seed, key.hostKey, key.agent, key.seq);
        }
    };
    struct AgentProgress
    {
        qint64 lastSeq = 0;
        qint64 lastTs = 0;
        qint64 resendUntil = 0; // numbers up to this one may come again from a host that lost them
    };
    struct HostProgress
    {
        int conversation = -1;
        bool startNew = true;
        bool hasMessages = false;
        qint64 lastTs = 0;
        QHash<QString, AgentProgress> agents;
    };
    struct Conversation
    {
        QString hostKey;
        qint64 start = 0;
        qint64 end = 0;
        qint64 firstTextTs = 0;
        QStringList participants;
        QString firstText;
        int messages = 0;
    };

    void addMessages(const QString& hostKey, const QString& agent, const QList<Link::ForumMessage>& messages);
    void forgetHistory(const QString& hostKey);
    /// A message of AgentDeck's own (role system) among an agent's messages.
    void addNotice(const QString& hostKey, const QString& agent, const QString& text);
    /// Inserts messages sorted by time where their times place them, one insertion per run.
    void insertInTimeOrder(std::vector<Message>& batch);
    Conversation* conversation(int id);
    /// The host's latest conversation started at or before ts (else its earliest), or fallback.
    int conversationAt(const QString& hostKey, qint64 ts, int fallback) const;
    /// Unregisters a message that leaves the model.
    void release(const Message& message);
    void evict(int count);
    void dropEmptyConversations();

    std::deque<Message> m_messages;
    quint64 m_nextSerial = 1; // 0 names no message
    QHash<Key, Held> m_bySeq;
    QHash<QString, HostProgress> m_hosts;
    std::deque<Conversation> m_conversations;
    int m_firstConversation = 0;
    qint64 m_conversationGap = DefaultConversationGap;
    int m_maxMessages = DefaultMaxMessages;
};
