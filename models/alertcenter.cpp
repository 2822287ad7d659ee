// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/alertcenter.h"

#include "models/agenttreemodel.h"
#include "models/alertmodel.h"
#include "models/fleet.h"
#include "models/linematcher.h"
#include "server/link/hostlink.h"
#include "server/protocol/threads.h"

#include <QDateTime>

namespace {

constexpr int TickMs = 250;

QString agentKey(const QString& hostKey, const QString& agentId)
{
    return hostKey + QLatin1Char('\n') + agentId;
}

QString conditionKey(const AlertRule& rule, const QString& hostKey, const QString& agentId)
{
    return rule.id + QLatin1Char('\n') + agentKey(hostKey, agentId);
}

} // namespace

/// What the matcher thread keeps: the compiled patterns and, by pattern, the rest of its rule.
struct AlertCenter::Scanner
{
    struct Filter
    {
        QString ruleId;
        LogLevel minLevel = LogLevel::Unknown;
        QSet<QString> agents; // empty: all
    };
    LineMatcher matcher;
    std::vector<Filter> filters;
    LogLevel floor = LogLevel::Unknown; // lines below every rule's level are not looked at
    std::vector<int> hits;
};

AlertCenter::AlertCenter(Fleet* fleet, QObject* parent)
    : QObject(parent)
    , m_fleet(fleet)
    , m_alerts(std::make_unique<AlertModel>())
    , m_scanner(std::make_unique<Scanner>())
{
    m_clock.start();
    m_fromMatcher = new Mailbox(this);
    m_toMatcher = new Mailbox;
    m_toMatcher->moveToThread(&m_thread);
    m_thread.setObjectName(QStringLiteral("alerts"));
    // Lines may wait for the matcher a little; the window and the links may not.
    m_thread.start(QThread::LowPriority);

    connect(m_fleet, &Fleet::eventApplied, this, &AlertCenter::onEvent);
    connect(m_fleet, &Fleet::hostStatusChanged, this, &AlertCenter::onHostStatusChanged);
    connect(&m_tick, &QTimer::timeout, this, &AlertCenter::onTick);
    m_tick.start(TickMs);
    setRules(AlertRule::defaults());
}

AlertCenter::~AlertCenter()
{
    m_thread.quit();
    m_thread.wait();
    delete m_toMatcher;
}

void AlertCenter::setRules(const QList<AlertRule>& rules)
{
    AGENTDECK_CHECK_THREAD(this);
    m_rules = rules;
    QStringList patterns;
    std::vector<Scanner::Filter> filters;
    LogLevel floor = LogLevel::Critical;
    for (const AlertRule& rule : std::as_const(m_rules)) {
        if (!rule.enabled || rule.kind != AlertRule::Kind::Line || !rule.validate())
            continue;
        patterns.append(rule.pattern);
        filters.push_back({rule.id, rule.minLevel, QSet<QString>(rule.agents.begin(), rule.agents.end())});
        floor = std::min(floor, rule.minLevel);
    }
    m_matchLines = !patterns.isEmpty();
    Scanner* scanner = m_scanner.get();
    m_toMatcher->post([scanner, patterns, filters, floor] {
        scanner->matcher.setPatterns(patterns);
        scanner->filters = filters;
        scanner->floor = floor;
    });
    Q_EMIT rulesChanged();
}

const AlertRule* AlertCenter::rule(const QString& id) const
{
    for (const AlertRule& rule : m_rules) {
        if (rule.id == id)
            return &rule;
    }
    return nullptr;
}

void AlertCenter::onEvent(const QString& hostKey, const Link::Event& event)
{
    AGENTDECK_CHECK_THREAD(this);
    using Type = Link::Event::Type;
    switch (event.type) {
    case Type::Log: {
        qint64 last = -1;
        for (const Link::ConsoleLine& line : event.lines) {
            if (!line.partial)
                last = line.seq;
        }
        if (last < 0)
            return;
        if (m_matchLines) {
            m_batch.push_back({hostKey, event.agent, event.lines});
            m_batchLines += int(event.lines.size());
        }
        const QString key = agentKey(hostKey, event.agent);
        m_lastSeq.insert(key, last);
        m_lastLineAt.insert(key, m_clock.elapsed());
        for (const AlertRule& rule : std::as_const(m_rules)) {
            if (rule.kind == AlertRule::Kind::Silence)
                m_fired.remove(conditionKey(rule, hostKey, event.agent));
        }
        if (m_batchLines >= BatchLines) {
            flushLines();
        } else if (!m_batch.empty() && !m_flushQueued) {
            m_flushQueued = true;
            QTimer::singleShot(0, this, &AlertCenter::flushLines);
        }
        return;
    }
    case Type::Snapshot:
        for (const Link::AgentInfo& info : event.agents)
            checkAgentState(hostKey, info.id, info.state, info.processState, info.exitCode, info.exitSignal,
                            info.status.text);
        return;
    case Type::AgentAdded:
    case Type::AgentChanged: {
        const Link::AgentInfo& info = event.agentInfo;
        checkAgentState(hostKey, info.id, info.state, info.processState, info.exitCode, info.exitSignal,
                        info.status.text);
        return;
    }
    case Type::Status:
        checkAgentState(hostKey, event.agent, event.status.state, {}, -1, {}, event.status.text);
        return;
    case Type::Metrics:
        onMetrics(hostKey, event);
        return;
    case Type::AgentRemoved: {
        const QString key = agentKey(hostKey, event.agent);
        m_crashed.remove(key);
        m_lastLineAt.remove(key);
        m_lastSeq.remove(key);
        return;
    }
    default:
        return;
    }
}

void AlertCenter::checkAgentState(const QString& hostKey, const QString& agentId, const QString& state,
                                  const QString& processState, int exitCode, const QString& exitSignal,
                                  const QString& statusText)
{
    // docs/protocol.md: "crashed" is a launched agent's BACKOFF or unexpected exit, "error" its
    // FATAL; a connected agent says either in its status.
    const bool crashed = state == QLatin1String("crashed") || state == QLatin1String("error")
        || processState == QLatin1String("FATAL") || processState == QLatin1String("BACKOFF");
    const QString key = agentKey(hostKey, agentId);
    if (!crashed) {
        m_crashed.remove(key);
        return;
    }
    if (m_crashed.contains(key))
        return;
    m_crashed.insert(key);
    QString text;
    if (processState == QLatin1String("FATAL"))
        text = tr("FATAL: not restarted again");
    else if (!exitSignal.isEmpty())
        text = tr("killed by %1").arg(exitSignal);
    else if (exitCode >= 0)
        text = tr("exited with code %1 (unexpected)").arg(exitCode);
    else
        text = statusText.isEmpty() ? tr("status “%1”").arg(state) : statusText;
    for (const AlertRule& rule : std::as_const(m_rules)) {
        if (rule.enabled && rule.kind == AlertRule::Kind::Crash && rule.covers(agentId))
            raise(rule, hostKey, agentId, text, m_lastSeq.value(key), LogLevel::Critical,
                  processState == QLatin1String("FATAL"));
    }
}

void AlertCenter::onMetrics(const QString& hostKey, const Link::Event& event)
{
    for (const AlertRule& rule : std::as_const(m_rules)) {
        if (!rule.enabled || rule.kind != AlertRule::Kind::Metric || !rule.covers(event.agent))
            continue;
        const auto value =
            std::find_if(event.values.begin(), event.values.end(),
                         [&rule](const std::pair<QString, double>& v) { return v.first == rule.metric; });
        if (value == event.values.end())
            continue;
        const double limit =
            rule.metric == QLatin1String("rss_bytes") ? rule.threshold * 1024.0 * 1024.0 : rule.threshold;
        const QString key = conditionKey(rule, hostKey, event.agent);
        if (value->second > limit) {
            if (!m_overSince.contains(key))
                m_overSince.insert(key, m_clock.elapsed());
        } else {
            m_overSince.remove(key);
            m_fired.remove(key);
        }
    }
}

void AlertCenter::onHostStatusChanged(const QString& hostKey)
{
    if (m_fleet->agents()->hostState(hostKey) == AgentTreeModel::HostState::Offline) {
        if (!m_offlineSince.contains(hostKey))
            m_offlineSince.insert(hostKey, m_clock.elapsed());
        return;
    }
    m_offlineSince.remove(hostKey);
    for (const AlertRule& rule : std::as_const(m_rules)) {
        if (rule.kind == AlertRule::Kind::HostOffline)
            m_fired.remove(conditionKey(rule, hostKey, {}));
    }
}

bool AlertCenter::isRunning(const QString& hostKey, const QString& agentId) const
{
    if (m_fleet->agents()->hostState(hostKey) != AgentTreeModel::HostState::Online)
        return false;
    const Link::AgentInfo* info = m_fleet->agents()->agent(hostKey, agentId);
    if (!info)
        return false;
    static const QStringList quiet = {QStringLiteral("offline"), QStringLiteral("stopped"), QStringLiteral("stopping"),
                                      QStringLiteral("crashed"), QStringLiteral("error")};
    return !quiet.contains(info->state);
}

void AlertCenter::onTick()
{
    const qint64 now = m_clock.elapsed();
    const QStringList hosts = m_fleet->hostKeys();
    for (const AlertRule& rule : std::as_const(m_rules)) {
        if (!rule.enabled)
            continue;
        const qint64 holdMs = qint64(rule.seconds) * 1000;
        switch (rule.kind) {
        case AlertRule::Kind::HostOffline:
            for (auto it = m_offlineSince.cbegin(); it != m_offlineSince.cend(); ++it) {
                const QString key = conditionKey(rule, it.key(), {});
                if (now - it.value() < holdMs || m_fired.contains(key) || !hosts.contains(it.key()))
                    continue;
                m_fired.insert(key);
                const QModelIndex host = m_fleet->agents()->indexOf(it.key());
                const QString reason = host.data(AgentTreeModel::StateReasonRole).toString();
                const QString text = tr("offline for %1 s").arg(rule.seconds);
                raise(rule, it.key(), {}, reason.isEmpty() ? text : text + QStringLiteral(": ") + reason);
            }
            break;
        case AlertRule::Kind::Metric:
            for (auto it = m_overSince.cbegin(); it != m_overSince.cend(); ++it) {
                if (!it.key().startsWith(rule.id + QLatin1Char('\n')) || now - it.value() < holdMs
                    || m_fired.contains(it.key()))
                    continue;
                m_fired.insert(it.key());
                const QString hostKey = it.key().section(QLatin1Char('\n'), 1, 1);
                const QString agentId = it.key().section(QLatin1Char('\n'), 2);
                const QString text = rule.metric == QLatin1String("rss_bytes")
                    ? tr("memory over %1 MiB for %2 s").arg(rule.threshold).arg(rule.seconds)
                    : tr("CPU over %1 % for %2 s").arg(rule.threshold).arg(rule.seconds);
                raise(rule, hostKey, agentId, text, m_lastSeq.value(agentKey(hostKey, agentId)));
            }
            break;
        case AlertRule::Kind::Silence:
            for (auto it = m_lastLineAt.cbegin(); it != m_lastLineAt.cend(); ++it) {
                const QString hostKey = it.key().section(QLatin1Char('\n'), 0, 0);
                const QString agentId = it.key().section(QLatin1Char('\n'), 1);
                const QString key = conditionKey(rule, hostKey, agentId);
                if (now - it.value() < holdMs || m_fired.contains(key) || !rule.covers(agentId)
                    || !isRunning(hostKey, agentId))
                    continue;
                m_fired.insert(key);
                raise(rule, hostKey, agentId, tr("no line for %1 s").arg(rule.seconds), m_lastSeq.value(it.key()));
            }
            break;
        default:
            break;
        }
    }
}

void AlertCenter::flushLines()
{
    m_flushQueued = false;
    if (m_batch.empty())
        return;
    std::vector<Chunk> batch;
    batch.swap(m_batch);
    const int count = std::exchange(m_batchLines, 0);
    m_inFlight += count;
    Scanner* scanner = m_scanner.get();
    Mailbox* back = m_fromMatcher;
    QThread* matcherThread = &m_thread;
    m_toMatcher->post([this, scanner, back, count, matcherThread, batch = std::move(batch)] {
        // The scanner is the matcher thread's alone.
        if (Q_UNLIKELY(QThread::currentThread() != matcherThread))
            qFatal("alert lines matched off the matcher thread");
        std::vector<Hit> hits;
        for (const Chunk& chunk : batch) {
            for (const Link::ConsoleLine& line : chunk.lines) {
                if (line.partial || line.level < scanner->floor)
                    continue;
                scanner->hits.clear();
                scanner->matcher.match(line.text, &scanner->hits);
                for (const int index : scanner->hits) {
                    const Scanner::Filter& filter = scanner->filters[size_t(index)];
                    if (line.level < filter.minLevel
                        || (!filter.agents.isEmpty() && !filter.agents.contains(chunk.agentId)))
                        continue;
                    hits.push_back({filter.ruleId, chunk.hostKey, chunk.agentId, line.seq, line.level, line.text,
                                    line.source == "agentdeck"});
                }
            }
        }
        back->post([this, count, hits = std::move(hits)] { onHits(hits, count); });
    });
}

void AlertCenter::onHits(const std::vector<Hit>& hits, int lines)
{
    AGENTDECK_CHECK_THREAD(this);
    m_inFlight -= lines;
    for (const Hit& hit : hits) {
        // Rules may have changed while the lines were matched.
        const AlertRule* found = rule(hit.ruleId);
        if (!found || !found->enabled)
            continue;
        // The launcher's ERROR line about an unexpected exit is the crash a crash rule reports:
        // a rule that looks only at levels leaves it to that one, so one crash is one alert.
        if (hit.fromLauncher && found->pattern.isEmpty() && coveredByCrashRule(hit.agentId))
            continue;
        raise(*found, hit.hostKey, hit.agentId, QString::fromUtf8(hit.text), hit.seq, hit.level);
    }
}

bool AlertCenter::coveredByCrashRule(const QString& agentId) const
{
    return std::any_of(m_rules.begin(), m_rules.end(), [&agentId](const AlertRule& rule) {
        return rule.enabled && rule.kind == AlertRule::Kind::Crash && rule.covers(agentId);
    });
}

QString AlertCenter::where(const QString& hostKey, const QString& agentId) const
{
    const HostLink* link = m_fleet->link(hostKey);
    const QString hostName = link ? link->displayName() : hostKey;
    if (agentId.isEmpty())
        return hostName;
    return link && link->isLocal() ? agentId : agentId + QLatin1Char('@') + hostName;
}

void AlertCenter::raise(const AlertRule& rule, const QString& hostKey, const QString& agentId, const QString& text,
                        qint64 seq, LogLevel level, bool worse)
{
    const QString key = conditionKey(rule, hostKey, agentId);
    const qint64 now = m_clock.elapsed();
    const qint64 wall = QDateTime::currentMSecsSinceEpoch();
    const auto open = m_open.find(key);
    if (open != m_open.end() && now - open->last < m_rateWindowMs) {
        const AlertModel::Alert* alert = m_alerts->alert(open->alertId);
        if (alert && !alert->acknowledged) {
            // Still going: counted on the alert already shown, however long it lasts.
            open->last = now;
            m_alerts->repeat(open->alertId, wall, worse ? text : QString());
            if (worse)
                Q_EMIT alertRaised(open->alertId); // told again: it will not come back by itself
            return;
        }
    }
    AlertModel::Alert alert;
    alert.ruleId = rule.id;
    alert.ruleName = rule.name;
    alert.hostKey = hostKey;
    alert.agentId = agentId;
    alert.where = where(hostKey, agentId);
    alert.text = text;
    alert.seq = seq;
    alert.level = level;
    alert.firstTs = wall;
    alert.lastTs = wall;
    const quint64 id = m_alerts->add(alert);
    m_open.insert(key, {id, now});
    Q_EMIT alertRaised(id);
}
