// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/link/linkevent.h"

#include <QAbstractTableModel>
#include <QHash>
#include <QList>
#include <QObject>
#include <QPointF>
#include <QPointer>
#include <QStringList>
#include <deque>
#include <utility>

/*
 * The last hour of metrics of each host (HostMetrics) and each agent (Metrics),
 * one series per metric key.
 *
 * Time is the events' ts, not the clock: each series owner (a host, or an agent)
 * ages by its own newest point.
 *  - At most one point a second: a second value within the same second replaces
 *    the first. A point older than the owner's newest joins the point of its own
 *    second (or takes its place in time), as the launcher's sample of an agent and
 *    the agent's own metrics arrive in either order; it is dropped only when its
 *    bucket is thinned already.
 *  - Points older than thinAfter() (default 10 minutes: recent enough to show
 *    every second of a spike, old enough for an overview chart) are thinned to one
 *    point per 10-second bucket aligned to the epoch, at the bucket's start, whose
 *    value is the average of the bucket's values. A bucket is thinned once all of
 *    it is older than thinAfter().
 *  - Points older than an hour are dropped.
 * So an owner holds at most thinAfter() / 1 s + 10 + 360 points (970 by default).
 */
class MetricsHistory final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MetricsHistory)

public:
    static constexpr qint64 DefaultThinAfter = 10 * 60 * 1000;
    static constexpr qint64 BucketLength = 10 * 1000;
    static constexpr qint64 Retention = 60 * 60 * 1000;

    /// One point in time of an owner; values follow keys(), NaN where a key has no value.
    struct Point
    {
        qint64 ts = 0;
        QList<double> values;
    };

    explicit MetricsHistory(QObject* parent = nullptr);
    ~MetricsHistory() override;

    /// Takes in one event of the host hostKey; events that do not concern this class are ignored.
    void applyEvent(const QString& hostKey, const Link::Event& event);
    /// Forgets the host's and its agents' series.
    void removeHost(const QString& hostKey);

    /// Applies to points that arrive from now on.
    void setThinAfter(qint64 msecs);
    qint64 thinAfter() const { return m_thinAfter; }

    /// x: ms since the epoch, y: value; oldest first. An empty agentId means the host.
    QList<QPointF> series(const QString& hostKey, const QString& agentId, const QString& key) const;
    /// The owner's metric keys in order of first appearance.
    QStringList keys(const QString& hostKey, const QString& agentId) const;
    /// Every point of the owner, oldest first, with one value per key.
    QList<Point> points(const QString& hostKey, const QString& agentId) const;
    qsizetype pointCount(const QString& hostKey, const QString& agentId) const;

Q_SIGNALS:
    /// At most once per applyEvent() (and once per owner on removeHost()).
    void seriesChanged(const QString& hostKey, const QString& agentId);

private:
    struct Owner
    {
        QStringList keys;
        std::deque<Point> coarse; // thinned, one per bucket
        std::deque<Point> fine; // one per second
    };
    using OwnerKey = std::pair<QString, QString>;

    void addPoint(Owner& owner, qint64 ts, const QList<std::pair<QString, double>>& values);
    void age(Owner& owner);

    QHash<OwnerKey, Owner> m_owners;
    qint64 m_thinAfter = DefaultThinAfter;
};

/*
 * One owner's history of a MetricsHistory as a table: a row per point in time
 * (oldest first), a column per key. It follows the history live.
 */
class MetricsModel final : public QAbstractTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MetricsModel)

public:
    enum Role {
        TimeRole = Qt::UserRole, // qint64 ms since the epoch, on every column and the vertical header
    };
    Q_ENUM(Role)

    explicit MetricsModel(MetricsHistory* history, QObject* parent = nullptr);
    ~MetricsModel() override;

    /// Shows the host (empty agentId) or one of its agents.
    void setOwner(const QString& hostKey, const QString& agentId = {});
    QString hostKey() const { return m_hostKey; }
    QString agentId() const { return m_agentId; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    void onSeriesChanged(const QString& hostKey, const QString& agentId);
    /// Brings rows and columns to the history's state with the smallest changes.
    void sync();
    void syncRows(const QList<MetricsHistory::Point>& points);

    QPointer<MetricsHistory> m_history;
    QString m_hostKey;
    QString m_agentId;
    QStringList m_keys;
    QList<MetricsHistory::Point> m_rows;
};
