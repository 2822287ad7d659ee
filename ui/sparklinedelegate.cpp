// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/sparklinedelegate.h"

#include "models/agenttreemodel.h"
#include "models/metricshistory.h"

#include <QDateTime>
#include <QPainter>
#include <QPainterPath>
#include <algorithm>

SparklineDelegate::SparklineDelegate(MetricsHistory* history, const QString& key, QAbstractItemDelegate* inner,
                                     QObject* parent)
    : QStyledItemDelegate(parent)
    , m_history(history)
    , m_key(key)
    , m_inner(inner)
{ }

SparklineDelegate::~SparklineDelegate() = default;

QList<QPointF> SparklineDelegate::points(const QModelIndex& index, qint64 now) const
{
    // Only for figures shown as current: not for an agent that is not running.
    if (!m_history || !index.data(Qt::DisplayRole).isValid() || index.data(Qt::DisplayRole).toString().isEmpty())
        return {};
    const QString hostKey = index.data(AgentTreeModel::HostKeyRole).toString();
    const QString agentId = index.data(AgentTreeModel::AgentIdRole).toString();
    const QList<QPointF> all = m_history->series(hostKey, agentId, m_key);
    const auto first = std::lower_bound(all.cbegin(), all.cend(), double(now - Span),
                                        [](const QPointF& p, double x) { return p.x() < x; });
    return QList<QPointF>(first, all.cend());
}

void SparklineDelegate::paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const
{
    // Behind the number; over a selected row's highlight, which would hide it.
    const bool selected = option.state & QStyle::State_Selected;
    if (!selected)
        paintSparkline(painter, option, index, false);
    m_inner->paint(painter, option, index);
    if (selected)
        paintSparkline(painter, option, index, true);
}

QSize SparklineDelegate::sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const
{
    return m_inner->sizeHint(option, index);
}

void SparklineDelegate::paintSparkline(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index,
                                       bool selected) const
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    const QList<QPointF> points = this->points(index, now);
    if (points.size() < 2)
        return;
    double top = 0;
    for (const QPointF& p : points)
        top = std::max(top, p.y());
    // A floor, so that an idle agent's noise stays a flat line at the bottom.
    top = std::max(top, m_key == QLatin1String("cpu") ? 10.0 : 1.0);

    const QRectF area = QRectF(option.rect).adjusted(1, 2, -1, -1);
    const auto place = [&area, now, top](const QPointF& p) {
        const double x = area.right() - double(now - qint64(p.x())) / double(Span) * area.width();
        return QPointF(std::max(area.left(), x), area.bottom() - p.y() / top * area.height());
    };
    QPainterPath line(place(points.first()));
    for (qsizetype i = 1; i < points.size(); ++i)
        line.lineTo(place(points.at(i)));
    QPainterPath fill = line;
    fill.lineTo(place(points.last()).x(), area.bottom());
    fill.lineTo(place(points.first()).x(), area.bottom());
    fill.closeSubpath();

    QColor color = option.palette.color(selected ? QPalette::HighlightedText : QPalette::Highlight);
    painter->save();
    painter->setClipRect(option.rect);
    painter->setRenderHint(QPainter::Antialiasing);
    color.setAlphaF(selected ? 0.25f : 0.3f);
    painter->fillPath(fill, color);
    color.setAlphaF(selected ? 0.6f : 0.8f);
    painter->setPen(QPen(color, 1.0));
    painter->drawPath(line);
    painter->restore();
}
