// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/metricshistory.h"

#include <QDateTime>
#include <algorithm>
#include <cmath>
#include <limits>

namespace {

constexpr double NoValue = std::numeric_limits<double>::quiet_NaN();

qint64 bucketOf(qint64 ts)
{
    // Floor division, so that buckets stay aligned for times before the epoch too.
    const qint64 q = ts / MetricsHistory::BucketLength;
    return (ts % MetricsHistory::BucketLength < 0 ? q - 1 : q) * MetricsHistory::BucketLength;
}

qint64 secondOf(qint64 ts)
{
    return ts >= 0 ? ts / 1000 : (ts - 999) / 1000;
}

double valueAt(const MetricsHistory::Point& point, qsizetype column)
{
    return column < point.values.size() ? point.values.at(column) : NoValue;
}

bool sameValues(const QList<double>& a, const QList<double>& b)
{
    if (a.size() != b.size())
        return false;
    for (qsizetype i = 0; i < a.size(); ++i) {
        if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i]))))
            return false;
    }
    return true;
}

} // namespace

MetricsHistory::MetricsHistory(QObject* parent)
    : QObject(parent)
{ }

MetricsHistory::~MetricsHistory() = default;

void MetricsHistory::applyEvent(const QString& hostKey, const Link::Event& event)
{
    using Type = Link::Event::Type;
    switch (event.type) {
    case Type::HostMetrics:
    case Type::Metrics: {
        if (event.values.isEmpty())
            return;
        const QString agentId = event.type == Type::Metrics ? event.agent : QString();
        if (event.type == Type::Metrics && agentId.isEmpty())
            return;
        addPoint(m_owners[{hostKey, agentId}], event.ts, event.values);
        Q_EMIT seriesChanged(hostKey, agentId);
        break;
    }
    case Type::AgentRemoved:
        if (!event.agent.isEmpty() && m_owners.remove({hostKey, event.agent}))
            Q_EMIT seriesChanged(hostKey, event.agent);
        break;
    default:
        break;
    }
}

void MetricsHistory::removeHost(const QString& hostKey)
{
    QList<QString> removed;
    for (auto it = m_owners.begin(); it != m_owners.end();) {
        if (it.key().first == hostKey) {
            removed.append(it.key().second);
            it = m_owners.erase(it);
        } else {
            ++it;
        }
    }
    for (const QString& agentId : std::as_const(removed))
        Q_EMIT seriesChanged(hostKey, agentId);
}

void MetricsHistory::setThinAfter(qint64 msecs)
{
    m_thinAfter = qBound<qint64>(0, msecs, Retention);
}

QList<QPointF> MetricsHistory::series(const QString& hostKey, const QString& agentId, const QString& key) const
{
    const auto owner = m_owners.constFind({hostKey, agentId});
    if (owner == m_owners.cend())
        return {};
    const qsizetype column = owner->keys.indexOf(key);
    if (column < 0)
        return {};
    QList<QPointF> result;
    result.reserve(qsizetype(owner->coarse.size() + owner->fine.size()));
    const auto collect = [&result, column](const std::deque<Point>& points) {
        for (const Point& point : points) {
            const double value = valueAt(point, column);
            if (!std::isnan(value))
                result.append(QPointF(double(point.ts), value));
        }
    };
    collect(owner->coarse);
    collect(owner->fine);
    return result;
}

QStringList MetricsHistory::keys(const QString& hostKey, const QString& agentId) const
{
    const auto owner = m_owners.constFind({hostKey, agentId});
    return owner == m_owners.cend() ? QStringList() : owner->keys;
}

QList<MetricsHistory::Point> MetricsHistory::points(const QString& hostKey, const QString& agentId) const
{
    const auto owner = m_owners.constFind({hostKey, agentId});
    if (owner == m_owners.cend())
        return {};
    QList<Point> result;
    result.reserve(qsizetype(owner->coarse.size() + owner->fine.size()));
    const qsizetype width = owner->keys.size();
    const auto collect = [&result, width](const std::deque<Point>& points) {
        for (const Point& point : points) {
            result.append(point);
            // Keys that appeared after this point read as "no value".
            while (result.last().values.size() < width)
                result.last().values.append(NoValue);
        }
    };
    collect(owner->coarse);
    collect(owner->fine);
    return result;
}

qsizetype MetricsHistory::pointCount(const QString& hostKey, const QString& agentId) const
{
    const auto owner = m_owners.constFind({hostKey, agentId});
    return owner == m_owners.cend() ? 0 : qsizetype(owner->coarse.size() + owner->fine.size());
}

void MetricsHistory::addPoint(Owner& owner, qint64 ts, const QList<std::pair<QString, double>>& values)
{
    const Point* newest = !owner.fine.empty() ? &owner.fine.back()
        : !owner.coarse.empty()               ? &owner.coarse.back()
                                              : nullptr;
    Point* target = nullptr;
    if (newest && ts < newest->ts) {
        // An agent's metrics may come from two sources (the launcher's sample of its
        // process and the agent's own metrics messages), each stamped when it was made:
        // one may arrive after a newer one of the other. It joins its second, unless
        // its bucket is thinned already.
        if (!owner.coarse.empty() && bucketOf(ts) <= owner.coarse.back().ts)
            return;
        const qint64 second = secondOf(ts);
        auto at = std::lower_bound(owner.fine.begin(), owner.fine.end(), second,
                                   [](const Point& point, qint64 s) { return secondOf(point.ts) < s; });
        if (at == owner.fine.end() || secondOf(at->ts) != second)
            at = owner.fine.insert(at, Point{ts, {}});
        target = &*at;
    } else if (!owner.fine.empty() && secondOf(owner.fine.back().ts) == secondOf(ts)) {
        target = &owner.fine.back();
    } else {
        owner.fine.push_back({ts, {}});
        target = &owner.fine.back();
    }
    for (const auto& [key, value] : values) {
        qsizetype column = owner.keys.indexOf(key);
        if (column < 0) {
            owner.keys.append(key);
            column = owner.keys.size() - 1;
        }
        while (target->values.size() <= column)
            target->values.append(NoValue);
        target->values[column] = value;
    }
    age(owner);
}

void MetricsHistory::age(Owner& owner)
{
    if (owner.fine.empty())
        return;
    const qint64 newest = owner.fine.back().ts;

    const qint64 thinBefore = newest - m_thinAfter;
    while (!owner.fine.empty()) {
        const qint64 bucket = bucketOf(owner.fine.front().ts);
        if (bucket + BucketLength > thinBefore)
            break;
        QList<double> sums;
        QList<int> counts;
        while (!owner.fine.empty() && bucketOf(owner.fine.front().ts) == bucket) {
            const Point& point = owner.fine.front();
            for (qsizetype i = 0; i < point.values.size(); ++i) {
                if (std::isnan(point.values[i]))
                    continue;
                if (sums.size() <= i) {
                    sums.resize(i + 1, 0.0);
                    counts.resize(i + 1, 0);
                }
                sums[i] += point.values[i];
                ++counts[i];
            }
            owner.fine.pop_front();
        }
        Point thinned{bucket, {}};
        thinned.values.reserve(sums.size());
        for (qsizetype i = 0; i < sums.size(); ++i)
            thinned.values.append(counts[i] > 0 ? sums[i] / counts[i] : NoValue);
        owner.coarse.push_back(std::move(thinned));
    }

    const qint64 keepFrom = newest - Retention;
    while (!owner.coarse.empty() && owner.coarse.front().ts < keepFrom)
        owner.coarse.pop_front();
    while (!owner.fine.empty() && owner.fine.front().ts < keepFrom)
        owner.fine.pop_front();
}

MetricsModel::MetricsModel(MetricsHistory* history, QObject* parent)
    : QAbstractTableModel(parent)
    , m_history(history)
{
    if (history)
        connect(history, &MetricsHistory::seriesChanged, this, &MetricsModel::onSeriesChanged);
}

MetricsModel::~MetricsModel() = default;

void MetricsModel::setOwner(const QString& hostKey, const QString& agentId)
{
    if (hostKey == m_hostKey && agentId == m_agentId)
        return;
    beginResetModel();
    m_hostKey = hostKey;
    m_agentId = agentId;
    m_keys = m_history ? m_history->keys(hostKey, agentId) : QStringList();
    m_rows = m_history ? m_history->points(hostKey, agentId) : QList<MetricsHistory::Point>();
    endResetModel();
}

int MetricsModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int MetricsModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(m_keys.size());
}

QVariant MetricsModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const MetricsHistory::Point& point = m_rows.at(index.row());
    switch (role) {
    case Qt::DisplayRole: {
        const double value = valueAt(point, index.column());
        return std::isnan(value) ? QVariant() : QVariant(value);
    }
    case TimeRole:
        return point.ts;
    default:
        return {};
    }
}

QVariant MetricsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation == Qt::Horizontal) {
        if (role == Qt::DisplayRole && section >= 0 && section < m_keys.size())
            return m_keys.at(section);
        return {};
    }
    if (section < 0 || section >= m_rows.size())
        return {};
    if (role == Qt::DisplayRole)
        return QDateTime::fromMSecsSinceEpoch(m_rows.at(section).ts).toString(QStringLiteral("HH:mm:ss"));
    if (role == TimeRole)
        return m_rows.at(section).ts;
    return {};
}

void MetricsModel::onSeriesChanged(const QString& hostKey, const QString& agentId)
{
    if (hostKey == m_hostKey && agentId == m_agentId)
        sync();
}

void MetricsModel::sync()
{
    const QStringList keys = m_history ? m_history->keys(m_hostKey, m_agentId) : QStringList();
    const QList<MetricsHistory::Point> points =
        m_history ? m_history->points(m_hostKey, m_agentId) : QList<MetricsHistory::Point>();

    if (keys == m_keys) {
        syncRows(points);
        return;
    }
    if (keys.isEmpty()) {
        // The owner is gone: rows first, so that no row is left without columns.
        syncRows(points);
        beginRemoveColumns({}, 0, int(m_keys.size()) - 1);
        m_keys.clear();
        endRemoveColumns();
        return;
    }
    if (keys.size() > m_keys.size() && keys.mid(0, m_keys.size()) == m_keys) {
        // Keys are only ever appended while an owner lives.
        beginInsertColumns({}, int(m_keys.size()), int(keys.size()) - 1);
        m_keys = keys;
        for (MetricsHistory::Point& row : m_rows) {
            while (row.values.size() < m_keys.size())
                row.values.append(NoValue);
        }
        endInsertColumns();
        syncRows(points);
        return;
    }
    beginResetModel();
    m_keys = keys;
    m_rows = points;
    endResetModel();
}

void MetricsModel::syncRows(const QList<MetricsHistory::Point>& points)
{
    // Both lists are ordered by time without duplicates: a merge walk finds the
    // rows that went (old first points, thinned seconds), came (new points) and
    // changed (a second updated, a bucket replaced by its average).
    int row = 0;
    qsizetype next = 0;
    while (row < m_rows.size() || next < points.size()) {
        const bool rowsLeft = row < m_rows.size();
        const bool pointsLeft = next < points.size();
        if (rowsLeft && (!pointsLeft || m_rows.at(row).ts < points.at(next).ts)) {
            int last = row;
            while (last + 1 < m_rows.size() && (!pointsLeft || m_rows.at(last + 1).ts < points.at(next).ts))
                ++last;
            beginRemoveRows({}, row, last);
            m_rows.remove(row, last - row + 1);
            endRemoveRows();
        } else if (pointsLeft && (!rowsLeft || points.at(next).ts < m_rows.at(row).ts)) {
            qsizetype end = next + 1;
            while (end < points.size() && (!rowsLeft || points.at(end).ts < m_rows.at(row).ts))
                ++end;
            beginInsertRows({}, row, row + int(end - next) - 1);
            for (qsizetype i = next; i < end; ++i)
                m_rows.insert(row + int(i - next), points.at(i));
            endInsertRows();
            row += int(end - next);
            next = end;
        } else {
            if (!sameValues(m_rows.at(row).values, points.at(next).values)) {
                m_rows[row] = points.at(next);
                if (!m_keys.isEmpty())
                    Q_EMIT dataChanged(index(row, 0), index(row, int(m_keys.size()) - 1));
            }
            ++row;
            ++next;
        }
    }
}
