// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/alertmodel.h"

#include <QDateTime>

AlertModel::AlertModel(QObject* parent)
    : QAbstractTableModel(parent)
{ }

AlertModel::~AlertModel() = default;

quint64 AlertModel::add(Alert alert)
{
    if (int(m_alerts.size()) >= MaxRows) {
        const int last = int(m_alerts.size()) - 1;
        beginRemoveRows({}, last, last);
        m_alerts.pop_back();
        endRemoveRows();
    }
    alert.id = m_nextId++;
    beginInsertRows({}, 0, 0);
    m_alerts.push_front(std::move(alert));
    endInsertRows();
    Q_EMIT unacknowledgedChanged();
    return m_alerts.front().id;
}

bool AlertModel::repeat(quint64 id, qint64 ts, const QString& text)
{
    const int row = rowOf(id);
    if (row < 0)
        return false;
    Alert& alert = m_alerts[size_t(row)];
    ++alert.count;
    alert.lastTs = ts;
    if (!text.isEmpty())
        alert.text = text;
    Q_EMIT dataChanged(index(row, TimeColumn), index(row, CountColumn));
    return true;
}

const AlertModel::Alert* AlertModel::alert(quint64 id) const
{
    const int row = rowOf(id);
    return row < 0 ? nullptr : &m_alerts[size_t(row)];
}

int AlertModel::rowOf(quint64 id) const
{
    // Ids grow from the bottom row to the top one.
    const auto it = std::lower_bound(m_alerts.begin(), m_alerts.end(), id,
                                     [](const Alert& alert, quint64 wanted) { return alert.id > wanted; });
    return it != m_alerts.end() && it->id == id ? int(it - m_alerts.begin()) : -1;
}

void AlertModel::acknowledge(int row)
{
    if (row < 0 || row >= int(m_alerts.size()) || m_alerts[size_t(row)].acknowledged)
        return;
    m_alerts[size_t(row)].acknowledged = true;
    Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
    Q_EMIT unacknowledgedChanged();
}

void AlertModel::acknowledgeAll()
{
    bool changed = false;
    for (Alert& alert : m_alerts)
        changed |= !std::exchange(alert.acknowledged, true);
    if (!changed)
        return;
    Q_EMIT dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1));
    Q_EMIT unacknowledgedChanged();
}

int AlertModel::unacknowledged(const QString& hostKey, const QString& agentId) const
{
    int count = 0;
    for (const Alert& alert : m_alerts)
        count += !alert.acknowledged && alert.hostKey == hostKey && alert.agentId == agentId;
    return count;
}

int AlertModel::unacknowledged() const
{
    return int(std::count_if(m_alerts.begin(), m_alerts.end(), [](const Alert& alert) { return !alert.acknowledged; }));
}

QString AlertModel::countText(int count, qint64 spanMs)
{
    if (count <= 1)
        return {};
    const qint64 seconds = std::max<qint64>(1, (spanMs + 999) / 1000);
    return tr("%L1 times in %2 s").arg(count).arg(seconds);
}

int AlertModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(m_alerts.size());
}

int AlertModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant AlertModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Alert& alert = m_alerts[size_t(index.row())];
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case TimeColumn:
            return QDateTime::fromMSecsSinceEpoch(alert.lastTs).toString(QStringLiteral("HH:mm:ss"));
        case RuleColumn:
            return alert.ruleName;
        case WhereColumn:
            return alert.where;
        case TextColumn:
            return alert.text;
        case CountColumn:
            return countText(alert.count, alert.lastTs - alert.firstTs);
        default:
            return {};
        }
    case Qt::ToolTipRole:
        if (index.column() == TextColumn)
            return alert.text;
        if (index.column() == TimeColumn)
            return QDateTime::fromMSecsSinceEpoch(alert.firstTs).toString(Qt::ISODateWithMs);
        return {};
    case IdRole:
        return alert.id;
    case RuleIdRole:
        return alert.ruleId;
    case HostKeyRole:
        return alert.hostKey;
    case AgentIdRole:
        return alert.agentId;
    case SeqRole:
        return alert.seq;
    case CountRole:
        return alert.count;
    case AcknowledgedRole:
        return alert.acknowledged;
    case TextRole:
        return alert.text;
    case FirstTimeRole:
        return alert.firstTs;
    case LastTimeRole:
        return alert.lastTs;
    default:
        return {};
    }
}

QVariant AlertModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case TimeColumn:
        return tr("Time");
    case RuleColumn:
        return tr("Rule");
    case WhereColumn:
        return tr("Agent");
    case TextColumn:
        return tr("Line");
    case CountColumn:
        return tr("Repeats");
    default:
        return {};
    }
}
