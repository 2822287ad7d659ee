// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QPointer>
#include <QStyledItemDelegate>

class MetricsHistory;

/*
 * The last two minutes of a metric as a small area chart behind the number in a
 * cell of the agent list (CPU, lines per second). The cell itself (its text,
 * selection, greyed offline rows) is painted by the delegate it wraps.
 */
class SparklineDelegate final : public QStyledItemDelegate
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SparklineDelegate)

public:
    static constexpr qint64 Span = 2 * 60 * 1000;

    /// Draws metric key of each row's owner; inner paints the cell. Both must outlive the delegate.
    SparklineDelegate(MetricsHistory* history, const QString& key, QAbstractItemDelegate* inner,
                      QObject* parent = nullptr);
    ~SparklineDelegate() override;

    /// The points drawn in the cell of index, ending at now (ms since the epoch): x in ms, y the value.
    QList<QPointF> points(const QModelIndex& index, qint64 now) const;

    void paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const override;
    QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override;

private:
    void paintSparkline(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index,
                        bool selected) const;

    QPointer<MetricsHistory> m_history;
    QString m_key;
    QAbstractItemDelegate* m_inner;
};
