// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/forummodel.h"

#include "models/gapreason.h"

#include <QDateTime>

#include <algorithm>
#include <limits>

namespace {

/// More runs than this in one event reset the model: a view then lays out once, not once per run.
constexpr size_t MaxInsertRuns = 16;

template <typename Held>
bool sameMessage(const Held& held, const Link::ForumMessage& message, bool sameTime)
{
    return (!sameTime || held.ts == message.ts) && held.sender == message.sender && held.text == message.text;
}

} // namespace

ForumModel::ForumModel(QObject* parent)
    : QAbstractListModel(parent)
{ }

ForumModel::~ForumModel() = default;

void ForumModel::applyEvent(const QString& hostKey, const Link::Event& event)
{
    using Type = Link::Event::Type;
    switch (event.type) {
    case Type::Forum:
        addMessages(hostKey, event.agent, event.messages);
        break;
    case Type::Snapshot:
        if (event.hostChanged)
            forgetHistory(hostKey);
        break;
    case Type::Gap:
        if (event.kind == QLatin1String("forum") && event.to >= event.from) {
            AgentProgress& progress = m_hosts[hostKey].agents[event.agent];
            progress.lastSeq = qMax(progress.lastSeq, event.to);
            const qint64 count = event.to - event.from + 1;
            addNotice(hostKey, event.agent,
                      (count == 1 ? tr("1 message of %2 not received: %3")
                                  : tr("%1 messages of %2 not received: %3").arg(count))
                          .arg(event.agent, describeGapReason(event.reason)));
        }
        break;
    case Type::Renumbered:
        if (event.kind == QLatin1String("forum")) {
            // Messages that come again with a number and text held here are still dropped.
            AgentProgress& progress = m_hosts[hostKey].agents[event.agent];
            progress.lastSeq = qMin(progress.lastSeq, event.to);
            progress.resendUntil = qMax(progress.resendUntil, event.from);
            addNotice(hostKey, event.agent,
                      event.to > 0 ? tr("The host no longer has messages %1–%2 of %3 (it stopped before saving "
                                        "them, or its files are gone); what it sends with these numbers follows.")
                                         .arg(event.to + 1)
                                         .arg(event.from)
                                         .arg(event.agent)
                                   : tr("The host numbers the messages of %1 anew (it has none of its %2 "
                                        "messages, e.g. restarted without its files); what it sends follows.")
                                         .arg(event.agent)
                                         .arg(event.from));
        }
        break;
    default:
        break;
    }
}

void ForumModel::startConversation(const QString& hostKey)
{
    m_hosts[hostKey].startNew = true;
}

void ForumModel::setConversationGap(qint64 msecs)
{
    m_conversationGap = qMax<qint64>(0, msecs);
}

void ForumModel::setMaxMessages(int max)
{
    m_maxMessages = qMax(1, max);
    const int excess = int(m_messages.size()) - m_maxMessages;
    if (excess > 0) {
        evict(excess);
        dropEmptyConversations();
    }
}

QString ForumModel::conversationTitle(int conversation) const
{
    const int index = conversation - m_firstConversation;
    if (index < 0 || index >= conversationCount())
        return {};
    const Conversation& c = m_conversations[size_t(index)];
    const QString start = QDateTime::fromMSecsSinceEpoch(c.start).toString(QStringLiteral("yyyy-MM-dd HH:mm"));
    return QString(start + QStringLiteral(" · ") + c.participants.join(QStringLiteral(", ")));
}

qint64 ForumModel::conversationStart(int conversation) const
{
    const int index = conversation - m_firstConversation;
    return index < 0 || index >= conversationCount() ? 0 : m_conversations[size_t(index)].start;
}

QString ForumModel::conversationHost(int conversation) const
{
    const int index = conversation - m_firstConversation;
    return index < 0 || index >= conversationCount() ? QString() : m_conversations[size_t(index)].hostKey;
}

ForumModel::ConversationInfo ForumModel::conversationInfo(int conversation) const
{
    const int index = conversation - m_firstConversation;
    if (index < 0 || index >= conversationCount())
        return {};
    const Conversation& c = m_conversations[size_t(index)];
    return {c.hostKey, c.start, c.end, c.participants, c.firstText, c.messages};
}

int ForumModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(m_messages.size());
}

QVariant ForumModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Message& entry = m_messages[size_t(index.row())];
    switch (role) {
    case Qt::DisplayRole:
    case TextRole:
        return entry.message.text;
    case SenderRole:
        return entry.message.sender;
    case RoleRole:
        return entry.message.role;
    case SourceRole:
        return entry.message.source;
    case TimeRole:
        return entry.message.ts;
    case AgentRole:
        return entry.agent;
    case HostKeyRole:
        return entry.hostKey;
    case SeqRole:
        return entry.message.seq;
    case ConversationRole:
        return entry.conversation;
    case IdRole:
        return entry.serial;
    default:
        return {};
    }
}

QHash<int, QByteArray> ForumModel::roleNames() const
{
    QHash<int, QByteArray> names = QAbstractListModel::roleNames();
    names.insert({
        {SenderRole, "sender"},
        {RoleRole, "role"},
        {SourceRole, "source"},
        {TimeRole, "time"},
        {TextRole, "text"},
        {AgentRole, "agent"},
        {HostKeyRole, "hostKey"},
        {SeqRole, "seq"},
        {ConversationRole, "conversation"},
        {IdRole, "id"},
    });
    return names;
}

void ForumModel::addMessages(const QString& hostKey, const QString& agent, const QList<Link::ForumMessage>& messages)
{
    HostProgress& host = m_hosts[hostKey];
    std::vector<Message> batch;
    batch.reserve(size_t(messages.size()));
    QList<int> started;

    for (const Link::ForumMessage& message : messages) {
        const Key key{hostKey, agent, message.seq};
        bool restart = false;
        if (message.seq > 0) {
            const auto progress = host.agents.constFind(agent);
            const auto held = m_bySeq.constFind(key);
            if (held != m_bySeq.cend()) {
                // A resend of what a host lost gets a new time if its agent gave none.
                const bool resend = progress != host.agents.cend() && message.seq <= progress->resendUntil;
                if (sameMessage(held.value(), message, !resend))
                    continue;
            }
            if (progress != host.agents.cend() && message.seq <= progress->lastSeq) {
                if (message.ts < progress->lastTs)
                    continue;
                restart = true;
            }
        }

        const bool newConversation = restart || host.startNew || !conversation(host.conversation)
            || (message.startsConversation && host.hasMessages)
            || (host.hasMessages && message.ts - host.lastTs > m_conversationGap);
        if (newConversation) {
            m_conversations.push_back({hostKey, message.ts, message.ts, std::numeric_limits<qint64>::max(), {}, {}, 0});
            host.conversation = m_firstConversation + int(m_conversations.size()) - 1;
            host.startNew = false;
            started.append(host.conversation);
        }
        // A late message (older than the host's latest) joins the conversation its time falls in.
        const int target = !newConversation && host.hasMessages && message.ts < host.lastTs
            ? conversationAt(hostKey, message.ts, host.conversation)
            : host.conversation;
        Conversation* current = conversation(target);
        const QString participant = message.sender.isEmpty() ? agent : message.sender;
        if (!current->participants.contains(participant))
            current->participants.append(participant);
        ++current->messages;
        current->start = qMin(current->start, message.ts);
        current->end = qMax(current->end, message.ts);
        if (message.role != QLatin1String("system") && message.ts < current->firstTextTs) {
            current->firstTextTs = message.ts;
            current->firstText = message.text;
        }

        host.lastTs = host.hasMessages ? qMax(host.lastTs, message.ts) : message.ts;
        host.hasMessages = true;
        // Only the host's own (numbered) messages count: a notice's time is when the link
        // learned something, which can be later than messages the host still has to send.
        if (message.seq > 0) {
            AgentProgress& progress = host.agents[agent];
            progress.lastSeq = restart ? message.seq : qMax(progress.lastSeq, message.seq);
            progress.lastTs = restart ? message.ts : qMax(progress.lastTs, message.ts);
        }

        Message entry{hostKey, agent, message, target, m_nextSerial++};
        if (message.seq > 0)
            m_bySeq.insert(key, Held{entry.serial, message.ts, message.sender, message.text});
        batch.push_back(std::move(entry));
    }
    if (batch.empty())
        return;
    std::stable_sort(batch.begin(), batch.end(),
                     [](const Message& a, const Message& b) { return a.message.ts < b.message.ts; });

    // A batch larger than the model keeps only its newest messages.
    const auto overflow = qsizetype(batch.size()) - m_maxMessages;
    if (overflow > 0) {
        for (qsizetype i = 0; i < overflow; ++i)
            release(batch[size_t(i)]);
        batch.erase(batch.begin(), batch.begin() + overflow);
    }
    // Remove first, then insert, so that a view never holds more rows than the bound.
    const int excess = int(m_messages.size() + batch.size()) - m_maxMessages;
    if (excess > 0)
        evict(excess);

    insertInTimeOrder(batch);

    dropEmptyConversations();
    for (int id : std::as_const(started)) {
        if (conversation(id))
            Q_EMIT conversationStarted(id);
    }
}

void ForumModel::insertInTimeOrder(std::vector<Message>& batch)
{
    // Runs of the batch that go to one place among the held messages: (place, first, end).
    struct Run
    {
        size_t at;
        size_t first;
        size_t end;
    };
    std::vector<Run> runs;
    const auto later = [](qint64 ts, const Message& held) {
        return ts < held.message.ts;
    };
    for (size_t i = 0; i < batch.size();) {
        const auto at = std::upper_bound(m_messages.cbegin(), m_messages.cend(), batch[i].message.ts, later);
        size_t end = i + 1;
        if (at == m_messages.cend())
            end = batch.size();
        else
            while (end < batch.size() && batch[end].message.ts < at->message.ts)
                ++end;
        runs.push_back({size_t(at - m_messages.cbegin()), i, end});
        i = end;
    }

    if (runs.size() > MaxInsertRuns) {
        beginResetModel();
        std::deque<Message> merged;
        std::merge(std::make_move_iterator(m_messages.begin()), std::make_move_iterator(m_messages.end()),
                   std::make_move_iterator(batch.begin()), std::make_move_iterator(batch.end()),
                   std::back_inserter(merged),
                   [](const Message& a, const Message& b) { return a.message.ts < b.message.ts; });
        m_messages = std::move(merged);
        endResetModel();
        return;
    }
    size_t inserted = 0;
    for (const Run& run : runs) {
        const size_t at = run.at + inserted;
        const size_t count = run.end - run.first;
        beginInsertRows({}, int(at), int(at + count) - 1);
        m_messages.insert(m_messages.begin() + qsizetype(at),
                          std::make_move_iterator(batch.begin() + qsizetype(run.first)),
                          std::make_move_iterator(batch.begin() + qsizetype(run.end)));
        endInsertRows();
        inserted += count;
    }
}

void ForumModel::forgetHistory(const QString& hostKey)
{
    HostProgress& host = m_hosts[hostKey];
    host.startNew = true;
    host.agents.clear();
    // The new history numbers from scratch: its messages are not duplicates of the old ones.
    m_bySeq.removeIf([&hostKey](const QHash<Key, Held>::iterator& it) { return it.key().hostKey == hostKey; });
}

void ForumModel::addNotice(const QString& hostKey, const QString& agent, const QString& text)
{
    // A notice goes right after the agent's latest message (it is about what follows it),
    // not at the time the link learned of it, which can be later than messages still to come.
    const HostProgress& host = m_hosts[hostKey];
    const auto progress = host.agents.constFind(agent);
    Link::ForumMessage notice;
    notice.ts = progress != host.agents.cend() && progress->lastTs > 0 ? progress->lastTs
        : host.hasMessages                                             ? host.lastTs
                                                                       : QDateTime::currentMSecsSinceEpoch();
    notice.sender = NoticeSender;
    notice.role = QStringLiteral("system");
    notice.text = text;
    addMessages(hostKey, agent, {notice});
}

int ForumModel::conversationAt(const QString& hostKey, qint64 ts, int fallback) const
{
    int earliest = fallback;
    for (int index = conversationCount() - 1; index >= 0; --index) {
        const Conversation& c = m_conversations[size_t(index)];
        if (c.hostKey != hostKey)
            continue;
        if (c.start <= ts)
            return m_firstConversation + index;
        earliest = m_firstConversation + index;
    }
    return earliest;
}

ForumModel::Conversation* ForumModel::conversation(int id)
{
    const int index = id - m_firstConversation;
    if (id < 0 || index < 0 || index >= int(m_conversations.size()))
        return nullptr;
    return &m_conversations[size_t(index)];
}

void ForumModel::release(const Message& message)
{
    if (message.message.seq > 0) {
        const auto it = m_bySeq.find(Key{message.hostKey, message.agent, message.message.seq});
        if (it != m_bySeq.end() && it.value().serial == message.serial)
            m_bySeq.erase(it);
    }
    if (Conversation* c = conversation(message.conversation))
        --c->messages;
}

void ForumModel::evict(int count)
{
    beginRemoveRows({}, 0, count - 1);
    for (int i = 0; i < count; ++i) {
        release(m_messages.front());
        m_messages.pop_front();
    }
    endRemoveRows();
}

void ForumModel::dropEmptyConversations()
{
    // Only the front is dropped, so numbers stay contiguous; a host's current
    // conversation stays even when empty, since its next message belongs to it.
    while (!m_conversations.empty() && m_conversations.front().messages == 0) {
        const auto host = m_hosts.constFind(m_conversations.front().hostKey);
        if (host != m_hosts.cend() && host->conversation == m_firstConversation)
            break;
        m_conversations.pop_front();
        ++m_firstConversation;
    }
}
