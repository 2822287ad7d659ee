// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QLayout>
#include <QList>

/*
 * Lays its items out left to right and starts a new row where the width runs
 * out, so a bar of many buttons never holds a pane wider than its widest item.
 * An item added with addTrailing() keeps to the right end of its row.
 */
class FlowLayout final : public QLayout
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(FlowLayout)

public:
    explicit FlowLayout(QWidget* parent = nullptr);
    ~FlowLayout() override;

    /// Extra room before the next item (between groups of buttons).
    void addGap(int width);
    /// Adds the widget at the right end of the row it lands on; the items after it start a new row.
    void addTrailing(QWidget* widget);

    void addItem(QLayoutItem* item) override;
    int count() const override;
    QLayoutItem* itemAt(int index) const override;
    QLayoutItem* takeAt(int index) override;
    Qt::Orientations expandingDirections() const override;
    bool hasHeightForWidth() const override;
    int heightForWidth(int width) const override;
    QSize minimumSize() const override;
    QSize sizeHint() const override;
    void setGeometry(const QRect& rect) override;

private:
    /// Places the items in rect (only measures when apply is false); returns the height used.
    int arrange(const QRect& rect, bool apply) const;

    QList<QLayoutItem*> m_items;
    QList<int> m_gapBefore; // per item
    QList<bool> m_trailing; // per item
    int m_pendingGap = 0;
};
