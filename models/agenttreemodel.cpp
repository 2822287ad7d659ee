// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/agenttreemodel.h"

#include <QDateTime>
#include <QSet>
#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>

namespace {

constexpr double NotGiven = std::numeric_limits<double>::quiet_NaN();

QString stateName(AgentTreeModel::HostState state)
{
    switch (state) {
    case AgentTreeModel::HostState::Connecting:
        return QStringLiteral("connecting");
    case AgentTreeModel::HostState::Online:
        return QStringLiteral("online");
    case AgentTreeModel::HostState::Offline:
        return QStringLiteral("offline");
    }
    return {};
}

QString formatPercent(double value, int decimals = 1)
{
    return QString(QString::number(value, 'f', decimals) + QStringLiteral(" %"));
}

/// The task an agent works on: the first running one, else the first pending one.
QString currentTask(const Link::AgentStatus& status)
{
    for (const QLatin1StringView state : {QLatin1StringView("running"), QLatin1StringView("pending")}) {
        for (const Link::Task& task : status.tasks) {
            if (task.state == state)
                return task.title.isEmpty() ? task.id : task.title;
        }
    }
    return {};
}

/// The mark before a task in a tooltip.
QString taskMark(const QString& state)
{
    if (state == QLatin1String("done"))
        return QStringLiteral("\u2713"); // check mark
    if (state == QLatin1String("running"))
        return QStringLiteral("\u25B6"); // play
    if (state == QLatin1String("failed"))
        return QStringLiteral("\u2717"); // ballot x
    return QStringLiteral("\u25CB"); // circle: pending or unknown
}

QVariant optionalDouble(double value)
{
    return std::isnan(value) ? QVariant() : QVariant(value);
}

QVariant optionalBytes(qint64 value)
{
    return value < 0 ? QVariant() : QVariant(value);
}

// Equal where it matters to the model: everything a role or a column shows.
bool sameCommands(const QList<Link::AgentCommand>& a, const QList<Link::AgentCommand>& b)
{
    return std::equal(
        a.cbegin(), a.cend(), b.cbegin(), b.cend(),
        [](const Link::AgentCommand& x, const Link::AgentCommand& y) { return x.name == y.name && x.help == y.help; });
}

bool sameTasks(const QList<Link::Task>& a, const QList<Link::Task>& b)
{
    return std::equal(a.cbegin(), a.cend(), b.cbegin(), b.cend(), [](const Link::Task& x, const Link::Task& y) {
        return x.id == y.id && x.title == y.title && x.state == y.state;
    });
}

/// True when two descriptions differ only in values that have a column of their own.
bool sameRowOnlyData(const Link::AgentInfo& a, const Link::AgentInfo& b)
{
    return a.status.text == b.status.text && a.status.progress == b.status.progress
        && sameTasks(a.status.tasks, b.status.tasks) && sameCommands(a.commands, b.commands)
        && a.processState == b.processState && a.exitCode == b.exitCode && a.exitSignal == b.exitSignal
        && a.nextStartAt == b.nextStartAt && a.connected == b.connected && a.logFile == b.logFile
        && a.definition == b.definition;
}

/// Whether an agent runs, so that its load figures are current.
bool isRunning(const Link::AgentInfo& info)
{
    if (!info.processState.isEmpty() && !info.connected) {
        // Launched: its process. (A launched bot connected to the host reports its own state.)
        return info.processState == QLatin1String("RUNNING") || info.processState == QLatin1String("STARTING")
            || info.processState == QLatin1String("STOPPING");
    }
    return info.state != QLatin1String("stopped") && info.state != QLatin1String("crashed")
        && info.state != QLatin1String("offline");
}

/// "last seen at 14:02:11" (with the date when not today), for figures no longer current.
QString lastSeen(qint64 ts)
{
    const QDateTime when = QDateTime::fromMSecsSinceEpoch(ts);
    const bool today = when.date() == QDate::currentDate();
    return AgentTreeModel::tr("last seen at %1")
        .arg(when.toString(today ? QStringLiteral("HH:mm:ss") : QStringLiteral("yyyy-MM-dd HH:mm:ss")));
}

bool isNumericColumn(int column)
{
    switch (column) {
    case AgentTreeModel::PidColumn:
    case AgentTreeModel::UptimeColumn:
    case AgentTreeModel::RestartsColumn:
    case AgentTreeModel::CpuColumn:
    case AgentTreeModel::MemoryColumn:
    case AgentTreeModel::LinesPerSecondColumn:
    case AgentTreeModel::ErrorsColumn:
        return true;
    default:
        return false;
    }
}

} // namespace

struct AgentTreeModel::AgentRow
{
    Link::AgentInfo info;
    QList<std::pair<QString, double>> metrics;
    double cpu = NotGiven;
    qint64 rss = -1;
    double linesPerSecond = NotGiven;
    qint64 metricsTs = 0; // when the last metrics came
    int unreadErrors = 0;
    // Lines at or below this number were counted already, so a replay after a reconnect counts nothing twice.
    qint64 countedLogSeq = 0;
};

struct AgentTreeModel::HostRow
{
    QString key;
    QString displayName;
    Link::HostInfo info;
    HostState state = HostState::Connecting;
    QString reason;
    qint64 nextAttemptAt = 0;
    QList<std::pair<QString, double>> metrics;
    double cpu = NotGiven;
    qint64 memUsed = -1;
    qint64 memTotal = -1;
    double load1 = NotGiven;
    qint64 metricsTs = 0;
    std::vector<AgentRow> agents;
    QHash<QString, int> rowById;

    int unreadErrors() const
    {
        int sum = 0;
        for (const AgentRow& agent : agents)
            sum += agent.unreadErrors;
        return sum;
    }
};

AgentTreeModel::AgentTreeModel(QObject* parent)
    : QAbstractItemModel(parent)
{ }

AgentTreeModel::~AgentTreeModel() = default;

void AgentTreeModel::addHost(const QString& hostKey, const QString& displayName)
{
    if (findHost(hostKey))
        return;
    const int row = int(m_hosts.size());
    beginInsertRows({}, row, row);
    auto host = std::make_unique<HostRow>();
    host->key = hostKey;
    host->displayName = displayName;
    m_hosts.push_back(std::move(host));
    endInsertRows();
}

void AgentTreeModel::removeHost(const QString& hostKey)
{
    const int row = hostRowOf(findHost(hostKey));
    if (row < 0)
        return;
    beginRemoveRows({}, row, row);
    m_hosts.erase(m_hosts.begin() + row);
    endRemoveRows();
}

void AgentTreeModel::setHostState(const QString& hostKey, HostState state, const QString& reason, qint64 nextAttemptAt)
{
    HostRow* host = findHost(hostKey);
    if (!host)
        return;
    if (host->state == state && host->reason == reason && host->nextAttemptAt == nextAttemptAt)
        return;
    const bool wasOnline = host->state == HostState::Online;
    host->state = state;
    host->reason = reason;
    host->nextAttemptAt = nextAttemptAt;
    // The host's tooltip follows its state as well: the whole row.
    emitHostChanged(host, 0, ColumnCount - 1);
    // Agents of a host that is not online show as offline, without uptime.
    if (wasOnline != (state == HostState::Online) && !host->agents.empty()) {
        const QModelIndex parent = hostIndex(host);
        Q_EMIT dataChanged(index(0, StateColumn, parent),
                           index(int(host->agents.size()) - 1, LinesPerSecondColumn, parent));
    }
}

AgentTreeModel::HostState AgentTreeModel::hostState(const QString& hostKey) const
{
    const HostRow* host = findHost(hostKey);
    return host ? host->state : HostState::Offline;
}

void AgentTreeModel::applyEvent(const QString& hostKey, const Link::Event& event)
{
    HostRow* host = findHost(hostKey);
    if (!host)
        return;
    using Type = Link::Event::Type;
    switch (event.type) {
    case Type::Snapshot:
        applySnapshot(host, event);
        break;
    case Type::AgentAdded:
    case Type::AgentChanged:
        addOrUpdateAgent(host, event.agentInfo);
        break;
    case Type::AgentRemoved:
        removeAgent(host, event.agent);
        break;
    case Type::Status:
        applyStatus(host, event);
        break;
    case Type::Metrics:
        applyMetrics(host, event);
        break;
    case Type::HostMetrics:
        applyHostMetrics(host, event);
        break;
    case Type::Log:
        applyLog(host, event);
        break;
    default:
        break;
    }
}

void AgentTreeModel::markRead(const QString& hostKey, const QString& agentId)
{
    HostRow* host = findHost(hostKey);
    AgentRow* agent = findAgent(host, agentId);
    if (!agent || agent->unreadErrors == 0)
        return;
    agent->unreadErrors = 0;
    emitRowChanged(host, host->rowById.value(agentId), ErrorsColumn, ErrorsColumn);
    emitHostChanged(host, ErrorsColumn, ErrorsColumn);
}

void AgentTreeModel::refreshUptime()
{
    for (const auto& host : m_hosts) {
        if (host->agents.empty())
            continue;
        const QModelIndex parent = hostIndex(host.get());
        Q_EMIT dataChanged(index(0, UptimeColumn, parent), index(int(host->agents.size()) - 1, UptimeColumn, parent),
                           {Qt::DisplayRole});
    }
}

QModelIndex AgentTreeModel::indexOf(const QString& hostKey, const QString& agentId) const
{
    HostRow* host = findHost(hostKey);
    if (!host)
        return {};
    if (agentId.isEmpty())
        return hostIndex(host);
    const int row = host->rowById.value(agentId, -1);
    return row < 0 ? QModelIndex() : createIndex(row, 0, host);
}

QStringList AgentTreeModel::agentIds(const QString& hostKey) const
{
    QStringList ids;
    if (const HostRow* host = findHost(hostKey)) {
        ids.reserve(qsizetype(host->agents.size()));
        for (const AgentRow& agent : host->agents)
            ids.append(agent.info.id);
    }
    return ids;
}

const Link::AgentInfo* AgentTreeModel::agent(const QString& hostKey, const QString& agentId) const
{
    const AgentRow* row = findAgent(findHost(hostKey), agentId);
    return row ? &row->info : nullptr;
}

double AgentTreeModel::metric(const QString& hostKey, const QString& agentId, const QString& key) const
{
    HostRow* host = findHost(hostKey);
    if (!host)
        return NotGiven;
    const AgentRow* agentRow = agentId.isEmpty() ? nullptr : findAgent(host, agentId);
    if (!agentId.isEmpty() && !agentRow)
        return NotGiven;
    const auto& metrics = agentRow ? agentRow->metrics : host->metrics;
    for (const auto& [name, value] : metrics) {
        if (name == key)
            return value;
    }
    return NotGiven;
}

QString AgentTreeModel::formatUptime(qint64 msecs)
{
    const qint64 seconds = qMax<qint64>(0, msecs / 1000);
    const auto twoDigits = [](qint64 n) {
        return QStringLiteral("%1").arg(n, 2, 10, QLatin1Char('0'));
    };
    if (seconds < 60)
        return QStringLiteral("%1 s").arg(seconds);
    if (seconds < 3600)
        return QStringLiteral("%1 m %2 s").arg(seconds / 60).arg(twoDigits(seconds % 60));
    if (seconds < 86400)
        return QStringLiteral("%1 h %2 m").arg(seconds / 3600).arg(twoDigits(seconds % 3600 / 60));
    return QStringLiteral("%1 d %2 h").arg(seconds / 86400).arg(twoDigits(seconds % 86400 / 3600));
}

QString AgentTreeModel::statusToolTip(const Link::AgentStatus& status)
{
    QStringList lines;
    if (!status.text.isEmpty())
        lines.append(status.text);
    if (status.progress >= 0)
        lines.append(tr("Progress: %1").arg(formatPercent(status.progress * 100.0, 0)));
    if (!status.tasks.isEmpty()) {
        int done = 0;
        for (const Link::Task& task : status.tasks)
            done += task.state == QLatin1String("done") ? 1 : 0;
        lines.append(tr("Tasks (%1 of %2 done):").arg(done).arg(status.tasks.size()));
        for (const Link::Task& task : status.tasks) {
            const QString title = task.title.isEmpty() ? task.id : task.title;
            lines.append(QStringLiteral("  %1 %2").arg(taskMark(task.state), title));
        }
    }
    return lines.join(QLatin1Char('\n'));
}

QString AgentTreeModel::formatBytes(qint64 bytes)
{
    if (bytes < 1024)
        return QStringLiteral("%1 B").arg(bytes);
    static const char* const units[] = {"KiB", "MiB", "GiB", "TiB"};
    double value = double(bytes) / 1024.0;
    int unit = 0;
    // Rounding to one decimal could show "1024.0 KiB": move on before that.
    while (value >= 1023.95 && unit < 3) {
        value /= 1024.0;
        ++unit;
    }
    return QString(QString::number(value, 'f', 1) + QLatin1Char(' ') + QLatin1String(units[unit]));
}

QModelIndex AgentTreeModel::index(int row, int column, const QModelIndex& parent) const
{
    if (!hasIndex(row, column, parent))
        return {};
    if (!parent.isValid())
        return createIndex(row, column, nullptr);
    return createIndex(row, column, m_hosts[size_t(parent.row())].get());
}

QModelIndex AgentTreeModel::parent(const QModelIndex& child) const
{
    if (!child.isValid() || !child.internalPointer())
        return {};
    return hostIndex(static_cast<const HostRow*>(child.internalPointer()));
}

int AgentTreeModel::rowCount(const QModelIndex& parent) const
{
    if (!parent.isValid())
        return int(m_hosts.size());
    if (parent.column() > 0 || parent.internalPointer())
        return 0;
    return int(m_hosts[size_t(parent.row())]->agents.size());
}

int AgentTreeModel::columnCount(const QModelIndex&) const
{
    return ColumnCount;
}

QVariant AgentTreeModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid))
        return {};
    if (!index.internalPointer())
        return hostData(*m_hosts[size_t(index.row())], index.column(), role);
    const auto* host = static_cast<const HostRow*>(index.internalPointer());
    return agentData(*host, host->agents[size_t(index.row())], index.column(), role);
}

QVariant AgentTreeModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || section < 0 || section >= ColumnCount)
        return {};
    if (role == Qt::TextAlignmentRole)
        return QVariant::fromValue(Qt::Alignment(isNumericColumn(section) ? Qt::AlignRight : Qt::AlignLeft)
                                   | Qt::AlignVCenter);
    if (role != Qt::DisplayRole)
        return {};
    switch (Column(section)) {
    case NameColumn:
        return tr("Name");
    case StateColumn:
        return tr("State");
    case ProgressColumn:
        return tr("Progress");
    case OriginColumn:
        return tr("Origin");
    case PidColumn:
        return tr("PID");
    case UptimeColumn:
        return tr("Uptime");
    case RestartsColumn:
        return tr("Restarts");
    case CpuColumn:
        return tr("CPU");
    case MemoryColumn:
        return tr("Memory");
    case LinesPerSecondColumn:
        return tr("Lines/s");
    case ErrorsColumn:
        return tr("Errors");
    case ColumnCount:
        break;
    }
    return {};
}

QHash<int, QByteArray> AgentTreeModel::roleNames() const
{
    QHash<int, QByteArray> names = QAbstractItemModel::roleNames();
    names.insert({
        {HostKeyRole, "hostKey"},
        {AgentIdRole, "agentId"},
        {IsHostRole, "isHost"},
        {StateRole, "state"},
        {StateReasonRole, "stateReason"},
        {NextAttemptRole, "nextAttempt"},
        {OriginRole, "origin"},
        {PidRole, "pid"},
        {StartedAtRole, "startedAt"},
        {RestartsRole, "restarts"},
        {CpuRole, "cpu"},
        {RssRole, "rss"},
        {LinesPerSecondRole, "linesPerSecond"},
        {UnreadErrorsRole, "unreadErrors"},
        {StatusTextRole, "statusText"},
        {ProgressRole, "progress"},
        {CommandsRole, "commands"},
        {ProcessStateRole, "processState"},
        {ExitCodeRole, "exitCode"},
        {NextStartRole, "nextStart"},
        {DefinitionRole, "definition"},
        {HostNameRole, "hostName"},
        {HostVersionRole, "hostVersion"},
        {HostIdRole, "hostId"},
        {MemoryTotalRole, "memoryTotal"},
        {Load1Role, "load1"},
    });
    return names;
}

AgentTreeModel::HostRow* AgentTreeModel::findHost(const QString& hostKey) const
{
    for (const auto& host : m_hosts) {
        if (host->key == hostKey)
            return host.get();
    }
    return nullptr;
}

int AgentTreeModel::hostRowOf(const HostRow* host) const
{
    for (size_t row = 0; row < m_hosts.size(); ++row) {
        if (m_hosts[row].get() == host)
            return int(row);
    }
    return -1;
}

QModelIndex AgentTreeModel::hostIndex(const HostRow* host, int column) const
{
    const int row = hostRowOf(host);
    return row < 0 ? QModelIndex() : createIndex(row, column, nullptr);
}

AgentTreeModel::AgentRow* AgentTreeModel::findAgent(HostRow* host, const QString& agentId) const
{
    if (!host)
        return nullptr;
    const int row = host->rowById.value(agentId, -1);
    return row < 0 ? nullptr : &host->agents[size_t(row)];
}

void AgentTreeModel::reindex(HostRow* host)
{
    host->rowById.clear();
    host->rowById.reserve(qsizetype(host->agents.size()));
    for (size_t row = 0; row < host->agents.size(); ++row)
        host->rowById.insert(host->agents[row].info.id, int(row));
}

void AgentTreeModel::applySnapshot(HostRow* host, const Link::Event& event)
{
    const QModelIndex parent = hostIndex(host);

    if (host->info.id != event.host.id || host->info.name != event.host.name
        || host->info.version != event.host.version) {
        host->info = event.host;
        emitHostChanged(host, 0, ColumnCount - 1);
    }

    QSet<QString> present;
    present.reserve(event.agents.size());
    for (const Link::AgentInfo& info : event.agents)
        present.insert(info.id);

    const int unreadBefore = host->unreadErrors();
    // Gone agents leave in contiguous runs, last run first, so the rows before a run keep their numbers.
    for (int row = int(host->agents.size()) - 1; row >= 0; --row) {
        if (present.contains(host->agents[size_t(row)].info.id))
            continue;
        const int last = row;
        while (row > 0 && !present.contains(host->agents[size_t(row - 1)].info.id))
            --row;
        beginRemoveRows(parent, row, last);
        host->agents.erase(host->agents.begin() + row, host->agents.begin() + last + 1);
        reindex(host);
        endRemoveRows();
    }

    if (event.hostChanged && !host->agents.empty()) {
        // A different history: its line numbers say nothing about what was read.
        for (AgentRow& agent : host->agents) {
            agent.unreadErrors = 0;
            agent.countedLogSeq = 0;
        }
        Q_EMIT dataChanged(index(0, ErrorsColumn, parent), index(int(host->agents.size()) - 1, ErrorsColumn, parent));
    }
    if (host->unreadErrors() != unreadBefore)
        emitHostChanged(host, ErrorsColumn, ErrorsColumn);

    std::vector<AgentRow> added;
    QSet<QString> addedIds;
    for (const Link::AgentInfo& info : event.agents) {
        const int row = host->rowById.value(info.id, -1);
        if (row >= 0) {
            updateAgent(host, row, info);
        } else if (!addedIds.contains(info.id)) {
            addedIds.insert(info.id);
            AgentRow agentRow;
            agentRow.info = info;
            added.push_back(std::move(agentRow));
        }
    }
    if (added.empty())
        return;
    const int first = int(host->agents.size());
    beginInsertRows(parent, first, first + int(added.size()) - 1);
    std::move(added.begin(), added.end(), std::back_inserter(host->agents));
    reindex(host);
    endInsertRows();
}

void AgentTreeModel::addOrUpdateAgent(HostRow* host, const Link::AgentInfo& info)
{
    if (info.id.isEmpty())
        return;
    const int row = host->rowById.value(info.id, -1);
    if (row >= 0) {
        updateAgent(host, row, info);
        return;
    }
    const int first = int(host->agents.size());
    beginInsertRows(hostIndex(host), first, first);
    AgentRow agentRow;
    agentRow.info = info;
    host->agents.push_back(std::move(agentRow));
    host->rowById.insert(info.id, first);
    endInsertRows();
}

void AgentTreeModel::removeAgent(HostRow* host, const QString& agentId)
{
    const int row = host->rowById.value(agentId, -1);
    if (row < 0)
        return;
    const int unread = host->agents[size_t(row)].unreadErrors;
    beginRemoveRows(hostIndex(host), row, row);
    host->agents.erase(host->agents.begin() + row);
    reindex(host);
    endRemoveRows();
    if (unread > 0)
        emitHostChanged(host, ErrorsColumn, ErrorsColumn);
}

void AgentTreeModel::applyStatus(HostRow* host, const Link::Event& event)
{
    const AgentRow* agentRow = findAgent(host, event.agent);
    if (!agentRow)
        return;
    Link::AgentInfo info = agentRow->info;
    info.status = event.status;
    if (!event.status.state.isEmpty())
        info.state = event.status.state;
    updateAgent(host, host->rowById.value(event.agent), info);
}

void AgentTreeModel::applyMetrics(HostRow* host, const Link::Event& event)
{
    AgentRow* agentRow = findAgent(host, event.agent);
    if (!agentRow)
        return;
    int first = ColumnCount;
    int last = -1;
    const auto touch = [&first, &last](int column) {
        first = qMin(first, column);
        last = qMax(last, column);
    };
    for (const auto& [key, value] : event.values) {
        if (key == QLatin1String("cpu")) {
            if (agentRow->cpu != value)
                touch(CpuColumn);
            agentRow->cpu = value;
        } else if (key == QLatin1String("rss_bytes")) {
            const auto rss = qint64(value);
            if (agentRow->rss != rss)
                touch(MemoryColumn);
            agentRow->rss = rss;
        } else if (key == QLatin1String("lines_per_s")) {
            if (agentRow->linesPerSecond != value)
                touch(LinesPerSecondColumn);
            agentRow->linesPerSecond = value;
        }
        auto it = std::find_if(agentRow->metrics.begin(), agentRow->metrics.end(),
                               [&key = key](const auto& entry) { return entry.first == key; });
        if (it == agentRow->metrics.end())
            agentRow->metrics.append({key, value});
        else
            it->second = value;
    }
    agentRow->metricsTs = event.ts;
    if (last >= 0)
        emitRowChanged(host, host->rowById.value(event.agent), first, last);
}

void AgentTreeModel::applyHostMetrics(HostRow* host, const Link::Event& event)
{
    const double oldCpu = host->cpu;
    const double oldLoad = host->load1;
    const qint64 oldUsed = host->memUsed;
    const qint64 oldTotal = host->memTotal;
    for (const auto& [key, value] : event.values) {
        if (key == QLatin1String("cpu"))
            host->cpu = value;
        else if (key == QLatin1String("mem_used_bytes"))
            host->memUsed = qint64(value);
        else if (key == QLatin1String("mem_total_bytes"))
            host->memTotal = qint64(value);
        else if (key == QLatin1String("load1"))
            host->load1 = value;
        auto it = std::find_if(host->metrics.begin(), host->metrics.end(),
                               [&key = key](const auto& entry) { return entry.first == key; });
        if (it == host->metrics.end())
            host->metrics.append({key, value});
        else
            it->second = value;
    }
    // NaN never compares equal, so a value still not given counts as unchanged only through isnan.
    const auto changed = [](double a, double b) {
        return !(a == b || (std::isnan(a) && std::isnan(b)));
    };
    const bool cpuChanged = changed(oldCpu, host->cpu) || changed(oldLoad, host->load1);
    const bool memChanged = oldUsed != host->memUsed || oldTotal != host->memTotal;
    host->metricsTs = event.ts;
    if (cpuChanged || memChanged)
        emitHostChanged(host, cpuChanged ? CpuColumn : MemoryColumn, memChanged ? MemoryColumn : CpuColumn);
}

void AgentTreeModel::applyLog(HostRow* host, const Link::Event& event)
{
    AgentRow* agentRow = findAgent(host, event.agent);
    if (!agentRow)
        return;
    int added = 0;
    for (const Link::ConsoleLine& line : event.lines) {
        if (line.partial)
            continue;
        if (line.seq > 0) {
            if (line.seq <= agentRow->countedLogSeq)
                continue;
            agentRow->countedLogSeq = line.seq;
        }
        if (line.level == LogLevel::Error || line.level == LogLevel::Critical)
            ++added;
    }
    if (added == 0)
        return;
    agentRow->unreadErrors += added;
    emitRowChanged(host, host->rowById.value(event.agent), ErrorsColumn, ErrorsColumn);
    emitHostChanged(host, ErrorsColumn, ErrorsColumn);
}

void AgentTreeModel::updateAgent(HostRow* host, int row, const Link::AgentInfo& info)
{
    AgentRow& agentRow = host->agents[size_t(row)];
    const Link::AgentInfo& old = agentRow.info;
    int first = ColumnCount;
    int last = -1;
    const auto touch = [&first, &last](int column) {
        first = qMin(first, column);
        last = qMax(last, column);
    };
    if (old.name != info.name)
        touch(NameColumn);
    if (old.state != info.state) {
        touch(NameColumn); // its dot
        touch(StateColumn);
        // A stopped agent's load figures go, a started one's come back.
        touch(LinesPerSecondColumn);
    }
    if (old.origin != info.origin) {
        touch(OriginColumn);
        touch(NameColumn); // its tag and tooltip
    }
    if (old.pid != info.pid)
        touch(PidColumn);
    if (old.startedAt != info.startedAt)
        touch(UptimeColumn);
    if (old.restarts != info.restarts)
        touch(RestartsColumn);
    if (!sameRowOnlyData(old, info)) {
        first = 0;
        last = ColumnCount - 1;
    }
    agentRow.info = info;
    if (last >= 0)
        emitRowChanged(host, row, first, last);
}

void AgentTreeModel::emitRowChanged(const HostRow* host, int row, int firstColumn, int lastColumn)
{
    Q_EMIT dataChanged(createIndex(row, firstColumn, host), createIndex(row, lastColumn, host));
}

void AgentTreeModel::emitHostChanged(const HostRow* host, int firstColumn, int lastColumn)
{
    Q_EMIT dataChanged(hostIndex(host, firstColumn), hostIndex(host, lastColumn));
}

QVariant AgentTreeModel::hostData(const HostRow& host, int column, int role) const
{
    switch (role) {
    case Qt::DisplayRole:
        switch (column) {
        case NameColumn:
            return host.displayName;
        case StateColumn:
            return stateName(host.state);
        case CpuColumn:
            if (std::isnan(host.cpu) || host.state != HostState::Online)
                return {};
            if (std::isnan(host.load1))
                return formatPercent(host.cpu);
            return QString(formatPercent(host.cpu) + QStringLiteral(" · load ") + QString::number(host.load1, 'f', 2));
        case MemoryColumn:
            if (host.memUsed < 0 || host.state != HostState::Online)
                return {};
            if (host.memTotal <= 0)
                return formatBytes(host.memUsed);
            return QString(formatBytes(host.memUsed) + QStringLiteral(" / ") + formatBytes(host.memTotal));
        case ErrorsColumn: {
            const int unread = host.unreadErrors();
            return unread > 0 ? QString::number(unread) : QString();
        }
        default:
            return {};
        }
    case Qt::ToolTipRole: {
        QString tip;
        if (host.state == HostState::Online)
            tip = QString(host.info.name + QLatin1Char(' ') + host.info.version).trimmed();
        else if ((column == CpuColumn || column == MemoryColumn) && host.metricsTs > 0)
            tip = lastSeen(host.metricsTs);
        else
            tip = host.reason;
        // The list may show the name cut short.
        if (column == NameColumn && tip != host.displayName)
            tip = tip.isEmpty() ? host.displayName : QString(host.displayName + QLatin1Char('\n') + tip);
        return tip.isEmpty() ? QVariant() : QVariant(tip);
    }
    case Qt::TextAlignmentRole:
        return QVariant::fromValue(Qt::Alignment(isNumericColumn(column) ? Qt::AlignRight : Qt::AlignLeft)
                                   | Qt::AlignVCenter);
    case HostKeyRole:
        return host.key;
    case AgentIdRole:
        return QString();
    case IsHostRole:
        return true;
    case StateRole:
        return stateName(host.state);
    case StateReasonRole:
        return host.reason;
    case NextAttemptRole:
        return host.nextAttemptAt;
    case CpuRole:
        return host.state == HostState::Online ? optionalDouble(host.cpu) : QVariant();
    case RssRole:
        return host.state == HostState::Online ? optionalBytes(host.memUsed) : QVariant();
    case MemoryTotalRole:
        return optionalBytes(host.memTotal);
    case Load1Role:
        return host.state == HostState::Online ? optionalDouble(host.load1) : QVariant();
    case UnreadErrorsRole:
        return host.unreadErrors();
    case HostNameRole:
        return host.info.name;
    case HostVersionRole:
        return host.info.version;
    case HostIdRole:
        return host.info.id;
    default:
        return {};
    }
}

QVariant AgentTreeModel::agentData(const HostRow& host, const AgentRow& agent, int column, int role) const
{
    const Link::AgentInfo& info = agent.info;
    const bool online = host.state == HostState::Online && info.state != QLatin1String("offline");
    const QString state = online ? info.state : QStringLiteral("offline");
    // Load figures of an agent that is not running are the last it had: not shown as current.
    const bool measured = online && isRunning(info);
    const bool loadColumn = column == CpuColumn || column == MemoryColumn || column == LinesPerSecondColumn;
    switch (role) {
    case Qt::DisplayRole:
        switch (column) {
        case NameColumn:
            return info.name.isEmpty() ? info.id : info.name;
        case StateColumn:
            return state;
        case ProgressColumn:
            return info.status.progress < 0 ? QString() : formatPercent(info.status.progress * 100.0, 0);
        case OriginColumn:
            return info.origin;
        case PidColumn:
            return info.pid > 0 ? QString::number(info.pid) : QString();
        case UptimeColumn:
            if (!online || info.startedAt <= 0)
                return QString();
            return formatUptime(QDateTime::currentMSecsSinceEpoch() - info.startedAt);
        case RestartsColumn:
            return QString::number(info.restarts);
        case CpuColumn:
            return std::isnan(agent.cpu) || !measured ? QString() : formatPercent(agent.cpu);
        case MemoryColumn:
            return agent.rss < 0 || !measured ? QString() : formatBytes(agent.rss);
        case LinesPerSecondColumn:
            return std::isnan(agent.linesPerSecond) || !measured ? QString()
                                                                 : QString::number(agent.linesPerSecond, 'f', 1);
        case ErrorsColumn:
            return agent.unreadErrors > 0 ? QString::number(agent.unreadErrors) : QString();
        default:
            return {};
        }
    case Qt::ToolTipRole:
        if (loadColumn && !measured && agent.metricsTs > 0) {
            const QString value = column == CpuColumn ? (std::isnan(agent.cpu) ? QString() : formatPercent(agent.cpu))
                : column == MemoryColumn
                ? (agent.rss < 0 ? QString() : formatBytes(agent.rss))
                : (std::isnan(agent.linesPerSecond) ? QString()
                                                    : tr("%1 lines/s").arg(agent.linesPerSecond, 0, 'f', 1));
            return value.isEmpty() ? QVariant() : QVariant(tr("%1, %2").arg(value, lastSeen(agent.metricsTs)));
        }
        {
            QStringList tip;
            if (column == NameColumn) // the list may show the name cut short
                tip.append(info.name.isEmpty() || info.name == info.id ? info.id
                                                                       : tr("%1 (%2)").arg(info.name, info.id));
            if (info.origin == QLatin1String("bridged") && (column == NameColumn || column == OriginColumn))
                tip.append(tr("Read from BettaFish or a log file"));
            if (const QString status = statusToolTip(info.status); !status.isEmpty())
                tip.append(status);
            return tip.isEmpty() ? QVariant() : QVariant(tip.join(QLatin1Char('\n')));
        }
    case Qt::TextAlignmentRole:
        return QVariant::fromValue(Qt::Alignment(isNumericColumn(column) ? Qt::AlignRight : Qt::AlignLeft)
                                   | Qt::AlignVCenter);
    case HostKeyRole:
        return host.key;
    case AgentIdRole:
        return info.id;
    case IsHostRole:
        return false;
    case StateRole:
        return state;
    case OriginRole:
        return info.origin;
    case PidRole:
        return info.pid;
    case StartedAtRole:
        return info.startedAt;
    case RestartsRole:
        return info.restarts;
    case CpuRole:
        return measured ? optionalDouble(agent.cpu) : QVariant();
    case RssRole:
        return measured ? optionalBytes(agent.rss) : QVariant();
    case LinesPerSecondRole:
        return measured ? optionalDouble(agent.linesPerSecond) : QVariant();
    case UnreadErrorsRole:
        return agent.unreadErrors;
    case StatusTextRole:
        return info.status.text;
    case ProgressRole:
        return info.status.progress < 0 ? QVariant() : QVariant(info.status.progress);
    case TasksRole: {
        QVariantList tasks;
        tasks.reserve(info.status.tasks.size());
        for (const Link::Task& task : info.status.tasks)
            tasks.append(QVariantMap{{QStringLiteral("id"), task.id},
                                     {QStringLiteral("title"), task.title},
                                     {QStringLiteral("state"), task.state}});
        return tasks;
    }
    case CurrentTaskRole:
        return currentTask(info.status);
    case CommandsRole: {
        QStringList names;
        names.reserve(info.commands.size());
        for (const Link::AgentCommand& command : info.commands)
            names.append(command.name);
        return names;
    }
    case ProcessStateRole:
        return info.processState;
    case ExitCodeRole:
        return info.exitCode < 0 ? QVariant() : QVariant(info.exitCode);
    case NextStartRole:
        return info.nextStartAt;
    case DefinitionRole:
        return info.definition;
    default:
        return {};
    }
}
