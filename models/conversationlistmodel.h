// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QAbstractListModel>
#include <QHash>
#include <QPointer>
#include <vector>

class ForumModel;

/*
 * The conversations of a ForumModel that hold messages, one row each, newest first: title (from the
 * first message), host, participants, time span, message count, and how many
 * messages match a search. Follows the forum as messages come and go.
 */
class ConversationListModel final : public QAbstractListModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConversationListModel)

public:
    enum Role {
        ConversationRole = Qt::UserRole, // int, the forum's conversation number
        HostKeyRole,
        TitleRole,
        ParticipantsRole, // QStringList
        StartRole, // qint64, ms since the epoch
        EndRole,
        CountRole, // int, messages held
        MatchesRole, // int, messages that match the search
    };
    Q_ENUM(Role)

    explicit ConversationListModel(ForumModel* forum, QObject* parent = nullptr);
    ~ConversationListModel() override;

    /// Search matches per conversation number; conversations not named have none.
    void setMatches(const QHash<int, int>& matches);
    /// The row of a conversation, or -1.
    int rowOf(int conversation) const;
    int conversationAt(int row) const;

    /// A one-line title from a message: its first line of words, markdown marks dropped, at most 80 characters.
    static QString titleOf(const QString& text);

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

private:
    void refresh();

    QPointer<ForumModel> m_forum;
    std::vector<int> m_ids; // newest first
    QHash<int, int> m_matches;
};
