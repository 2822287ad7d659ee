// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/flowlayout.h"

#include <QWidget>

FlowLayout::FlowLayout(QWidget* parent)
    : QLayout(parent)
{ }

FlowLayout::~FlowLayout()
{
    while (QLayoutItem* item = takeAt(0))
        delete item;
}

void FlowLayout::addGap(int width)
{
    m_pendingGap += width;
}

void FlowLayout::addTrailing(QWidget* widget)
{
    addWidget(widget);
    m_trailing.last() = true;
}

void FlowLayout::addItem(QLayoutItem* item)
{
    m_items.append(item);
    m_gapBefore.append(m_pendingGap);
    m_trailing.append(false);
    m_pendingGap = 0;
}

int FlowLayout::count() const
{
    return int(m_items.size());
}

QLayoutItem* FlowLayout::itemAt(int index) const
{
    return index >= 0 && index < m_items.size() ? m_items.at(index) : nullptr;
}

QLayoutItem* FlowLayout::takeAt(int index)
{
    if (index < 0 || index >= m_items.size())
        return nullptr;
    m_gapBefore.removeAt(index);
    m_trailing.removeAt(index);
    return m_items.takeAt(index);
}

Qt::Orientations FlowLayout::expandingDirections() const
{
    return {};
}

bool FlowLayout::hasHeightForWidth() const
{
    return true;
}

int FlowLayout::heightForWidth(int width) const
{
    return arrange(QRect(0, 0, width, 0), false);
}

QSize FlowLayout::minimumSize() const
{
    QSize size;
    for (const QLayoutItem* item : m_items)
        size = size.expandedTo(item->minimumSize());
    const QMargins margins = contentsMargins();
    return size + QSize(margins.left() + margins.right(), margins.top() + margins.bottom());
}

QSize FlowLayout::sizeHint() const
{
    int width = 0;
    int height = 0;
    for (qsizetype i = 0; i < m_items.size(); ++i) {
        if (m_items.at(i)->isEmpty())
            continue;
        width += m_items.at(i)->sizeHint().width() + spacing() + m_gapBefore.at(i);
        height = std::max(height, m_items.at(i)->sizeHint().height());
    }
    const QMargins margins = contentsMargins();
    return QSize(width + margins.left() + margins.right(), height + margins.top() + margins.bottom());
}

void FlowLayout::setGeometry(const QRect& rect)
{
    QLayout::setGeometry(rect);
    arrange(rect, true);
}

int FlowLayout::arrange(const QRect& rect, bool apply) const
{
    const QRect area = rect.marginsRemoved(contentsMargins());
    const int gap = std::max(0, spacing());
    struct Placed
    {
        QLayoutItem* item;
        int left;
        QSize size;
    };
    QList<Placed> row;
    int y = area.y();
    int rowHeight = 0;
    int x = area.x();
    // Items of a row share its height, centred in it.
    const auto endRow = [&] {
        if (apply) {
            for (const Placed& placed : std::as_const(row))
                placed.item->setGeometry(
                    QRect(QPoint(placed.left, y + (rowHeight - placed.size.height()) / 2), placed.size));
        }
        if (!row.isEmpty())
            y += rowHeight + gap;
        row.clear();
        rowHeight = 0;
        x = area.x();
    };
    for (qsizetype i = 0; i < m_items.size(); ++i) {
        QLayoutItem* item = m_items.at(i);
        if (item->isEmpty())
            continue;
        const QSize size = item->sizeHint().boundedTo(QSize(area.width(), QWIDGETSIZE_MAX));
        if (!row.isEmpty() && x + gap + m_gapBefore.at(i) + size.width() > area.x() + area.width())
            endRow();
        const int start = row.isEmpty() ? x : x + gap + m_gapBefore.at(i);
        const int left = m_trailing.at(i) ? std::max(start, area.x() + area.width() - size.width()) : start;
        row.append({item, left, size});
        rowHeight = std::max(rowHeight, size.height());
        x = left + size.width();
        if (m_trailing.at(i))
            endRow(); // what follows starts a new row
    }
    endRow();
    const int used = y > area.y() ? y - gap - area.y() : 0;
    const QMargins margins = contentsMargins();
    return used + margins.top() + margins.bottom();
}
