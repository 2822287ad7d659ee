// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QElapsedTimer>
#include <QWidget>
#include <memory>
#include <vector>

class ConversationListModel;
class ForumModel;
class QLabel;
class QLineEdit;
class QListView;
class QModelIndex;
class QPushButton;
class QTextDocument;
class QTimer;
class QToolButton;

namespace ConversationViewDetail {
class ConversationFilter;
class MessageDelegate;
} // namespace ConversationViewDetail

/*
 * The forum as conversations: on the left the conversations of every host, newest
 * first (title from the first message, participants, time span, message count); on
 * the right the chosen one as a chat in time order, a bubble per message. Message
 * text is markdown shown as formatting; HTML in a message is never interpreted and
 * nothing it names is loaded. Long messages are collapsed, the chat follows the
 * newest message unless the reader scrolled up, and a search finds messages in
 * every conversation.
 */
class ConversationView final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConversationView)

public:
    explicit ConversationView(ForumModel* forum, QWidget* parent = nullptr);
    ~ConversationView() override;

    ConversationListModel* conversations() const { return m_conversations; }
    QListView* conversationList() const { return m_list; }
    /// The chat: its model holds the chosen conversation's messages (ForumModel roles).
    QListView* messageView() const { return m_chat; }

    /// Shows a conversation (a ForumModel conversation number) at its newest message.
    void selectConversation(int conversation);
    int currentConversation() const { return m_conversation; }

    /// Finds messages containing text (any case) in every conversation and goes to the first.
    void setSearchText(const QString& text);
    int matchCount() const { return int(m_matches.size()); }
    /// The match gone to (0-based), or -1.
    int currentMatch() const { return m_currentMatch; }
    void nextMatch();
    void previousMatch();

    /// Whether the chat stays at the newest message as messages come.
    bool isFollowing() const { return m_following; }
    /// Messages that came while the reader was scrolled up.
    int newMessages() const { return m_newMessages; }
    void jumpToNewest();

    /// Whether a long message (an index of messageView()'s model) shows in full.
    bool isExpanded(const QModelIndex& message) const;
    bool isCollapsible(const QModelIndex& message) const;
    void setExpanded(const QModelIndex& message, bool expanded);

    /// Puts a message's text (an index of messageView()'s model) on the clipboard.
    void copyMessage(const QModelIndex& message) const;
    /// A conversation as Markdown: a title, then each message under its sender and time.
    static QString conversationMarkdown(const ForumModel* forum, int conversation);
    /// Writes the shown conversation as Markdown to path.
    bool exportConversation(const QString& path, QString* error = nullptr) const;

    /// A message's text as the chat shows it: markdown as formatting, HTML as typed, nothing loaded.
    static std::unique_ptr<QTextDocument> messageDocument(const QString& text, const QFont& font);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;
    void changeEvent(QEvent* event) override;

private:
    struct Match
    {
        int conversation = -1;
        quint64 id = 0;
    };

    void onConversationChosen();
    void onMessagesInserted(int count);
    void onScrolled();
    /// Lays the rows out with their corrected heights, keeping the reader's place.
    void relayoutInPlace();
    void updateHeader();
    void updateNewButton();
    void findMatches();
    void goToMatch(int match);
    void showContextMenu(const QPoint& pos);
    void exportWithDialog();
    QModelIndex messageWithId(quint64 id) const;

    ForumModel* m_forum;
    ConversationListModel* m_conversations;
    ConversationViewDetail::ConversationFilter* m_filter;
    ConversationViewDetail::MessageDelegate* m_delegate;
    QLineEdit* m_search;
    QToolButton* m_previous;
    QToolButton* m_next;
    QLabel* m_matchLabel;
    QListView* m_list;
    QLabel* m_title;
    QLabel* m_status;
    QToolButton* m_export;
    QListView* m_chat;
    QPushButton* m_newButton;
    QTimer* m_relayout;
    QElapsedTimer m_sinceScroll; // since the reader last scrolled

    int m_conversation = -1;
    bool m_following = true;
    bool m_switching = false;
    bool m_ownScroll = false; // the view scrolls, not the reader
    int m_newMessages = 0;
    std::vector<Match> m_matches;
    int m_currentMatch = -1;
    quint64 m_scrollTarget = 0; // a match gone to, kept in view while heights settle
};
