// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QListView>

class ForumModel;

/*
 * The agents' conversation as a chat: who spoke and when above each message,
 * senders told apart by colour, the moderator's (host role) messages set off,
 * and a title where a new conversation starts. It stays at the newest message
 * while the reader is there.
 */
class ForumView final : public QListView
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ForumView)

public:
    explicit ForumView(QWidget* parent = nullptr);

    void setForumModel(ForumModel* model);
    QSize sizeHint() const override;

    /// A colour for a sender's name, the same every time, readable on the palette's base.
    static QColor senderColor(const QString& sender, const QPalette& palette);

protected:
    void resizeEvent(QResizeEvent* event) override;

private:
    bool m_atBottom = true;
};
