// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QAbstractItemModel>
#include <QAbstractScrollArea>
#include <QPointer>
#include <QRegularExpression>
#include <QTimer>

/*
 * A console's lines, painted straight from the model: only the rows on screen
 * are asked for, and nothing is kept per row, so a change costs the same with
 * ten lines or ten million (Qt's item views lay out every row again when rows
 * come and go at both ends). It follows the newest line while scrolled to the
 * bottom and otherwise stays where the reader is. Lines show the program's ANSI
 * colours; search matches are highlighted; rows are selected with the mouse
 * or Ctrl+A and copied as plain text. Over a ConsoleFilterModel, a record of
 * several lines (a traceback) has a fold marker on its first line: a click
 * folds it into that line, which then says how many lines it holds and ends
 * with the last one, and opens it again; copied, a folded record is all there.
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
    /// The row under a point of the viewport (clamped to the rows there are); -1 without rows.
    int rowAt(int y) const;

    /// Rows are taken out and put back (ConsoleModel::rowsTakenOut / rowsPutBack): the
    /// view stays where it is and counts nothing as new meanwhile.
    void beginPutBack();
    /// newRows of the rows put back are new lines (counted as unseen when not following).
    void endPutBack(int newRows);

    /// The line the program is still writing (a progress bar, a streaming answer), shown
    /// as a live row after the last one until it completes; empty text: none.
    void setPartialLine(const QString& text, int level);
    QString partialLine() const { return m_partial; }
    /// Whether the live row is there (it follows the rows the model has).
    bool hasPartialRow() const { return !m_partial.isEmpty(); }

    /// Long lines wrap onto as many screen lines as they need instead of scrolling sideways.
    void setWrapLines(bool wrap);
    bool wrapLines() const { return m_wrap; }
    /// How many screen lines a row takes (1 unless lines wrap).
    int rowLines(const QModelIndex& index) const;
    /// Where a row's text starts (after time, level, agent and source), in pixels.
    int textLeft(const QModelIndex& index) const;
    /// Folds the record that starts at a row, or opens it when it is folded.
    void toggleRecord(int row);

    /// Highlights every match of the expression in the rows' text (invalid or empty: none).
    void setHighlight(const QRegularExpression& expression);
    /// Marks a row as the current search match and brings it into view (centred when it
    /// was off screen); following stops. -1 clears it.
    void setCurrentMatch(int row);
    int currentMatchRow() const { return m_match; }

    bool hasSelection() const { return m_anchor >= 0; }
    /// The selected rows, first and last (both -1 without a selection).
    std::pair<int, int> selection() const;
    void setSelection(int first, int last);
    /// The selected rows as plain lines (rowText), one a line.
    QString selectedText() const;
    /// One row as a plain line: time, level, agent, source and text without escapes.
    static QString rowText(const QModelIndex& index);

    /// The expression the search bar's text and options stand for; empty text gives an
    /// empty expression. A regular expression that does not compile is returned as it
    /// is, with the reason in error.
    static QRegularExpression searchExpression(const QString& text, bool matchCase, bool wholeWord, bool regex,
                                               QString* error = nullptr);

public Q_SLOTS:
    void copy() const;
    void selectAll();
    void clearSelection();

Q_SIGNALS:
    void followingChanged(bool following);
    /// The reader scrolled to the top and on: older lines are wanted.
    void topReached();
    /// The reader asked for the lines of a gap row (double click, or its menu).
    void gapLoadRequested(int row);
    /// The reader asked to see a line in full (double click on it, or Enter).
    void lineActivated(int row);
    void unseenRowsChanged(int rows);
    void selectionChanged();

protected:
    void paintEvent(QPaintEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void changeEvent(QEvent* event) override;
    void scrollContentsBy(int dx, int dy) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    void contextMenuEvent(QContextMenuEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;

private:
    void onRowsInserted(int first, int last);
    void onRowsRemoved(int first, int last);
    void onReset();
    void updateScrollRange();
    /// Widens the horizontal scroll range to a row as wide as this (in pixels).
    void noteRowWidth(int width);
    /// Rows of the model, and the live row when there is one.
    int shownRows() const;
    /// The width of one wrapped line of text that starts at left.
    qreal wrapWidthFrom(int left) const;
    /// Rows that fit on screen above the end (the bottom-most scroll position).
    int rowsFittingAtEnd() const;
    void scheduleUpdate();
    int visibleRows() const;
    void setFollowing(bool following);
    void extendSelectionTo(int row);
    void autoScroll();
    /// Toggles the record whose fold marker (or folded line count) is at a point.
    bool toggleRecordAt(const QPoint& point);

    QPointer<QAbstractItemModel> m_model;
    QList<QMetaObject::Connection> m_connections;
    int m_lineHeight = 16;
    int m_timeWidth = 0;
    int m_levelWidth = 0;
    int m_foldWidth = 0; // the fold markers' column, before the time
    QList<std::pair<QRect, int>> m_foldCounts; // a folded record's line count on screen, and its row
    bool m_toggling = false; // rows come and go because a record was folded or opened
    bool m_following = true;
    bool m_puttingBack = false;
    int m_valueBeforePutBack = 0;
    int m_unseenBeforePutBack = 0;
    bool m_adjusting = false; // the scroll bar moves because rows came or went, not the reader
    int m_unseen = 0;
    QString m_partial;
    int m_partialLevel = 0;
    int m_contentWidth = 0; // the widest row painted so far
    bool m_wrap = false;
    QRegularExpression m_highlight;
    int m_match = -1;
    int m_anchor = -1; // where the selection started; -1: none
    int m_cursor = -1; // where it ends
    bool m_dragging = false;
    int m_dragY = 0;
    QTimer m_autoScroll; // while dragging a selection past the top or bottom edge
};
