// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/conversationlistmodel.h"

#include "models/forummodel.h"

#include <QRegularExpression>

#include <algorithm>
#include <functional>

ConversationListModel::ConversationListModel(ForumModel* forum, QObject* parent)
    : QAbstractListModel(parent)
    , m_forum(forum)
{
    connect(forum, &QAbstractItemModel::rowsInserted, this, &ConversationListModel::refresh);
    connect(forum, &QAbstractItemModel::rowsRemoved, this, &ConversationListModel::refresh);
    connect(forum, &QAbstractItemModel::modelReset, this, &ConversationListModel::refresh);
    refresh();
}

ConversationListModel::~ConversationListModel() = default;

void ConversationListModel::setMatches(const QHash<int, int>& matches)
{
    if (matches == m_matches)
        return;
    m_matches = matches;
    if (!m_ids.empty())
        Q_EMIT dataChanged(index(0), index(rowCount() - 1), {MatchesRole});
}

int ConversationListModel::rowOf(int conversation) const
{
    const auto it = std::find(m_ids.begin(), m_ids.end(), conversation);
    return it == m_ids.end() ? -1 : int(it - m_ids.begin());
}

int ConversationListModel::conversationAt(int row) const
{
    return row >= 0 && row < rowCount() ? m_ids[size_t(row)] : -1;
}

QString ConversationListModel::titleOf(const QString& text)
{
    static const QRegularExpression marks(QStringLiteral("^(\\s*([#>*+-]|\\d+[.)])\\s*)+|[*_`~]+"));
    for (const QStringView line : QStringView(text).split(u'\n')) {
        QString title = line.toString().remove(marks).simplified();
        if (title.isEmpty() || title.startsWith(u'|') || title.startsWith(QLatin1String("---")))
            continue;
        if (title.size() > 80)
            title = title.left(79) + QChar(0x2026);
        return title;
    }
    return {};
}

int ConversationListModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(m_ids.size());
}

QVariant ConversationListModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid) || !m_forum)
        return {};
    const int id = m_ids[size_t(index.row())];
    if (role == ConversationRole)
        return id;
    if (role == MatchesRole)
        return m_matches.value(id);
    const ForumModel::ConversationInfo info = m_forum->conversationInfo(id);
    switch (role) {
    case Qt::DisplayRole:
    case TitleRole: {
        const QString title = titleOf(info.firstText);
        return title.isEmpty() ? tr("Conversation %1").arg(id + 1) : title;
    }
    case Qt::ToolTipRole:
        return info.participants.join(QStringLiteral(", "));
    case HostKeyRole:
        return info.hostKey;
    case ParticipantsRole:
        return info.participants;
    case StartRole:
        return info.start;
    case EndRole:
        return info.end;
    case CountRole:
        return info.messages;
    default:
        return {};
    }
}

QHash<int, QByteArray> ConversationListModel::roleNames() const
{
    QHash<int, QByteArray> names = QAbstractListModel::roleNames();
    names.insert({
        {ConversationRole, "conversation"},
        {HostKeyRole, "hostKey"},
        {TitleRole, "title"},
        {ParticipantsRole, "participants"},
        {StartRole, "start"},
        {EndRole, "end"},
        {CountRole, "count"},
        {MatchesRole, "matches"},
    });
    return names;
}

void ConversationListModel::refresh()
{
    if (!m_forum)
        return;
    // Conversations with messages, newest first; one emptied by eviction but kept as its host's current is not listed.
    std::vector<int> wanted;
    const int first = m_forum->firstConversation();
    for (int id = first + m_forum->conversationCount() - 1; id >= first; --id) {
        if (m_forum->conversationInfo(id).messages > 0)
            wanted.push_back(id);
    }
    const auto listed = [&wanted](int id) {
        return std::binary_search(wanted.begin(), wanted.end(), id, std::greater<int>());
    };
    for (int row = rowCount() - 1; row >= 0; --row) {
        if (!listed(m_ids[size_t(row)])) {
            beginRemoveRows({}, row, row);
            m_ids.erase(m_ids.begin() + row);
            endRemoveRows();
        }
    }
    for (size_t i = 0; i < wanted.size(); ++i) {
        if (i >= m_ids.size() || m_ids[i] != wanted[i]) {
            beginInsertRows({}, int(i), int(i));
            m_ids.insert(m_ids.begin() + qsizetype(i), wanted[i]);
            endInsertRows();
        }
    }
    if (!m_ids.empty())
        Q_EMIT dataChanged(index(0), index(rowCount() - 1));
}
