// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QAbstractScrollArea>
#include <QPointer>

#include <QAbstractItemModel>

/*
 * A console's lines, painted straight from the model: only the rows on screen
 * are asked for, and nothing is kept per row, so a change costs the same with
 * ten lines or ten million (Qt's item views lay out every row again when rows
 * come and go at both ends). It follows the newest line while scrolled to the
 * bottom and otherwise stays where the reader is.
 */
class ConsoleView final : public QAbstractScrollArea
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConsoleView)

public:
    explicit ConsoleView(QWidget* parent = nullptr);
    ~ConsoleView() override;

    /// A ConsoleModel, or a proxy over one (rows with ConsoleModel's roles).
    void setModel(QAbstractItemModel* model);
    QAbstractItemModel* model() const { return m_model; }

    /// Whether the newest line is kept in view as lines arrive.
    bool isFollowing() const { return m_following; }
    void scrollToBottom();
    /// Rows that arrived while not following.
    int unseenRows() const { return m_unseen; }
    int lineHeight() const { return m_lineHeight; }
    /// The first row on screen.
    int firstVisibleRow() const;

Q_SIGNALS:
    void followingChanged(bool following);
    void unseenRowsChanged(int rows);

protected:
    void paintEvent(QPaintEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void changeEvent(QEvent* event) override;
    void scrollContentsBy(int dx, int dy) override;

private:
    void onRowsInserted(int first, int last);
    void onRowsRemoved(int first, int last);
    void updateScrollRange();
    void scheduleUpdate();
    int visibleRows() const;
    void setFollowing(bool following);

    QPointer<QAbstractItemModel> m_model;
    QList<QMetaObject::Connection> m_connections;
    int m_lineHeight = 16;
    int m_timeWidth = 0;
    int m_levelWidth = 0;
    bool m_following = true;
    bool m_adjusting = false; // the scroll bar moves because rows came or went, not the reader
    int m_unseen = 0;
};
