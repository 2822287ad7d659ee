// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/agenttreemodel.h"

#include <QAbstractItemModelTester>
#include <QDateTime>
#include <QSignalSpy>
#include <QTest>

#include <cmath>
#include <memory>

namespace {

const QString HostA = QStringLiteral("host-a");
const QString HostB = QStringLiteral("host-b");

Link::AgentInfo makeAgent(const QString& id, const QString& name = {}, const QString& state = QStringLiteral("running"))
{
    Link::AgentInfo info;
    info.id = id;
    info.name = name.isEmpty() ? id : name;
    info.origin = QStringLiteral("connected");
    info.state = state;
    info.pid = 4242;
    return info;
}

Link::Event snapshot(const QList<Link::AgentInfo>& agents, bool hostChanged = false)
{
    Link::Event event;
    event.type = Link::Event::Type::Snapshot;
    event.host.id = QStringLiteral("7f3c");
    event.host.name = QStringLiteral("bot-host-1");
    event.host.version = QStringLiteral("0.1.0");
    event.agents = agents;
    event.hostChanged = hostChanged;
    return event;
}

Link::Event agentEvent(Link::Event::Type type, const Link::AgentInfo& info)
{
    Link::Event event;
    event.type = type;
    event.agent = info.id;
    event.agentInfo = info;
    return event;
}

Link::Event logEvent(const QString& agent, const QList<std::pair<qint64, LogLevel>>& lines, bool partialError = false)
{
    Link::Event event;
    event.type = Link::Event::Type::Log;
    event.agent = agent;
    for (const auto& [seq, level] : lines) {
        Link::ConsoleLine line;
        line.seq = seq;
        line.level = level;
        line.text = "line";
        event.lines.append(line);
    }
    if (partialError) {
        Link::ConsoleLine line;
        line.partial = true;
        line.level = LogLevel::Error;
        event.lines.append(line);
    }
    return event;
}

Link::Event metricsEvent(const QString& agent, const QList<std::pair<QString, double>>& values)
{
    Link::Event event;
    event.type = agent.isEmpty() ? Link::Event::Type::HostMetrics : Link::Event::Type::Metrics;
    event.agent = agent;
    event.ts = 1763773200000;
    event.values = values;
    return event;
}

QStringList strings(std::initializer_list<const char*> items)
{
    QStringList list;
    for (const char* item : items)
        list.append(QString::fromLatin1(item));
    return list;
}

QString display(const QModelIndex& index, int column)
{
    return index.siblingAtColumn(column).data().toString();
}

} // namespace

/// The host/agent tree: snapshots, agent events, status, metrics, unread errors, formatting.
class TestAgentTreeModel final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void hostsAndHeaders();
    void snapshotKeepsOverlappingRows();
    void agentAddedChangedRemoved();
    void hostOfflineKeepsAgents();
    void statusUpdatesStateColumnAndRoles();
    void metricsUpdateTheirColumns();
    void loadOfWhatDoesNotRunIsNotCurrent();
    void hostMetrics();
    void unreadErrorsCountedAndReset();
    void hostChangedClearsUnread();
    void uptimeComputedWhenShown();
    void formatUptime_data();
    void formatUptime();
    void formatBytes_data();
    void formatBytes();

private:
    std::unique_ptr<AgentTreeModel> m_model;
    std::unique_ptr<QAbstractItemModelTester> m_tester;
};

void TestAgentTreeModel::init()
{
    m_model = std::make_unique<AgentTreeModel>();
    m_tester = std::make_unique<QAbstractItemModelTester>(m_model.get(),
                                                          QAbstractItemModelTester::FailureReportingMode::QtTest);
    m_model->addHost(HostA, QStringLiteral("Host A"));
    m_model->setHostState(HostA, AgentTreeModel::HostState::Online);
}

void TestAgentTreeModel::cleanup()
{
    m_tester.reset();
    m_model.reset();
}

void TestAgentTreeModel::hostsAndHeaders()
{
    m_model->addHost(HostB, QStringLiteral("Host B"));
    m_model->addHost(HostB, QStringLiteral("Again"));
    QCOMPARE(m_model->rowCount(), 2);
    QCOMPARE(m_model->columnCount(), int(AgentTreeModel::ColumnCount));
    QCOMPARE(m_model->headerData(AgentTreeModel::UptimeColumn, Qt::Horizontal).toString(), QStringLiteral("Uptime"));
    QCOMPARE(m_model->headerData(AgentTreeModel::LinesPerSecondColumn, Qt::Horizontal).toString(),
             QStringLiteral("Lines/s"));

    const QModelIndex hostB = m_model->indexOf(HostB);
    QCOMPARE(hostB.row(), 1);
    QCOMPARE(hostB.data().toString(), QStringLiteral("Host B"));
    QCOMPARE(hostB.data(AgentTreeModel::IsHostRole).toBool(), true);
    QCOMPARE(hostB.data(AgentTreeModel::StateRole).toString(), QStringLiteral("connecting"));
    QCOMPARE(m_model->indexOf(HostA).data(AgentTreeModel::StateRole).toString(), QStringLiteral("online"));

    m_model->applyEvent(HostA, snapshot({makeAgent(QStringLiteral("query"))}));
    QCOMPARE(m_model->indexOf(HostA).data(AgentTreeModel::HostNameRole).toString(), QStringLiteral("bot-host-1"));
    QCOMPARE(m_model->indexOf(HostA).data(AgentTreeModel::HostVersionRole).toString(), QStringLiteral("0.1.0"));

    m_model->removeHost(HostA);
    QCOMPARE(m_model->rowCount(), 1);
    QVERIFY(!m_model->indexOf(HostA).isValid());
    QCOMPARE(m_model->indexOf(HostB).row(), 0);
    QVERIFY(m_model->agentIds(HostA).isEmpty());
}

void TestAgentTreeModel::snapshotKeepsOverlappingRows()
{
    m_model->applyEvent(HostA,
                        snapshot({makeAgent(QStringLiteral("a")), makeAgent(QStringLiteral("b")),
                                  makeAgent(QStringLiteral("c")), makeAgent(QStringLiteral("e"))}));
    QCOMPARE(m_model->agentIds(HostA), strings({"a", "b", "c", "e"}));
    const QPersistentModelIndex b = m_model->indexOf(HostA, QStringLiteral("b"));
    const QPersistentModelIndex c = m_model->indexOf(HostA, QStringLiteral("c"));
    QVERIFY(b.isValid());

    QSignalSpy removed(m_model.get(), &QAbstractItemModel::rowsRemoved);
    QSignalSpy inserted(m_model.get(), &QAbstractItemModel::rowsInserted);
    QSignalSpy changed(m_model.get(), &QAbstractItemModel::dataChanged);
    QSignalSpy reset(m_model.get(), &QAbstractItemModel::modelReset);

    m_model->applyEvent(HostA,
                        snapshot({makeAgent(QStringLiteral("b")), makeAgent(QStringLiteral("c"), QStringLiteral("C2")),
                                  makeAgent(QStringLiteral("d"))}));

    QCOMPARE(m_model->agentIds(HostA), strings({"b", "c", "d"}));
    QCOMPARE(reset.count(), 0);
    // "a" and "e" are not adjacent: two removals, each of one row.
    QCOMPARE(removed.count(), 2);
    QCOMPARE(inserted.count(), 1);
    QCOMPARE(inserted.at(0).at(0).value<QModelIndex>(), m_model->indexOf(HostA));
    QCOMPARE(inserted.at(0).at(1).toInt(), 2);
    QCOMPARE(inserted.at(0).at(2).toInt(), 2);

    // Kept rows keep their identity; only the renamed one changed, in its name column only.
    QVERIFY(b.isValid());
    QCOMPARE(b.row(), 0);
    QCOMPARE(b.data(AgentTreeModel::AgentIdRole).toString(), QStringLiteral("b"));
    QCOMPARE(c.row(), 1);
    QCOMPARE(changed.count(), 1);
    const QModelIndex topLeft = changed.at(0).at(0).value<QModelIndex>();
    const QModelIndex bottomRight = changed.at(0).at(1).value<QModelIndex>();
    QCOMPARE(topLeft.row(), 1);
    QCOMPARE(topLeft.column(), int(AgentTreeModel::NameColumn));
    QCOMPARE(bottomRight.column(), int(AgentTreeModel::NameColumn));
    QCOMPARE(c.data().toString(), QStringLiteral("C2"));

    // The same snapshot again changes nothing.
    changed.clear();
    m_model->applyEvent(HostA,
                        snapshot({makeAgent(QStringLiteral("b")), makeAgent(QStringLiteral("c"), QStringLiteral("C2")),
                                  makeAgent(QStringLiteral("d"))}));
    QCOMPARE(changed.count(), 0);
    QCOMPARE(removed.count(), 2);
    QCOMPARE(inserted.count(), 1);
}

void TestAgentTreeModel::agentAddedChangedRemoved()
{
    m_model->applyEvent(HostA, snapshot({makeAgent(QStringLiteral("query"))}));
    Link::AgentInfo media = makeAgent(QStringLiteral("media"), QStringLiteral("Media Bot"));
    media.commands = {{QStringLiteral("pause"), QStringLiteral("stop taking tasks")},
                      {QStringLiteral("resume"), QString()}};
    media.definition = R"({"command":"/usr/bin/media"})";
    m_model->applyEvent(HostA, agentEvent(Link::Event::Type::AgentAdded, media));
    QCOMPARE(m_model->rowCount(m_model->indexOf(HostA)), 2);

    const QModelIndex index = m_model->indexOf(HostA, QStringLiteral("media"));
    QCOMPARE(index.row(), 1);
    QCOMPARE(index.parent(), m_model->indexOf(HostA));
    QCOMPARE(index.data().toString(), QStringLiteral("Media Bot"));
    QCOMPARE(index.data(AgentTreeModel::CommandsRole).toStringList(), strings({"pause", "resume"}));
    QCOMPARE(index.data(AgentTreeModel::DefinitionRole).toByteArray(), media.definition);
    QCOMPARE(index.siblingAtColumn(AgentTreeModel::PidColumn).data(AgentTreeModel::PidRole).toLongLong(), 4242);
    QVERIFY(!index.data(AgentTreeModel::ExitCodeRole).isValid());
    QVERIFY(m_model->agent(HostA, QStringLiteral("media")));
    QCOMPARE(m_model->agent(HostA, QStringLiteral("media"))->name, QStringLiteral("Media Bot"));
    QVERIFY(!m_model->agent(HostA, QStringLiteral("nobody")));

    QSignalSpy changed(m_model.get(), &QAbstractItemModel::dataChanged);
    media.restarts = 3;
    media.pid = 5000;
    m_model->applyEvent(HostA, agentEvent(Link::Event::Type::AgentChanged, media));
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed.at(0).at(0).value<QModelIndex>().column(), int(AgentTreeModel::PidColumn));
    QCOMPARE(changed.at(0).at(1).value<QModelIndex>().column(), int(AgentTreeModel::RestartsColumn));
    QCOMPARE(display(index, AgentTreeModel::RestartsColumn), QStringLiteral("3"));

    // A change without a column of its own announces the whole row.
    changed.clear();
    media.processState = QStringLiteral("backoff");
    media.exitCode = 2;
    m_model->applyEvent(HostA, agentEvent(Link::Event::Type::AgentChanged, media));
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed.at(0).at(0).value<QModelIndex>().column(), 0);
    QCOMPARE(changed.at(0).at(1).value<QModelIndex>().column(), AgentTreeModel::ColumnCount - 1);
    QCOMPARE(index.data(AgentTreeModel::ProcessStateRole).toString(), QStringLiteral("backoff"));
    QCOMPARE(index.data(AgentTreeModel::ExitCodeRole).toInt(), 2);

    Link::Event removed;
    removed.type = Link::Event::Type::AgentRemoved;
    removed.agent = QStringLiteral("query");
    m_model->applyEvent(HostA, removed);
    QCOMPARE(m_model->agentIds(HostA), strings({"media"}));
    QCOMPARE(m_model->indexOf(HostA, QStringLiteral("media")).row(), 0);
    QVERIFY(!m_model->indexOf(HostA, QStringLiteral("query")).isValid());

    // An event for another host's key does not touch this host.
    m_model->applyEvent(HostB, removed);
    QCOMPARE(m_model->agentIds(HostA), strings({"media"}));
}

void TestAgentTreeModel::hostOfflineKeepsAgents()
{
    Link::AgentInfo query = makeAgent(QStringLiteral("query"), {}, QStringLiteral("busy"));
    query.startedAt = QDateTime::currentMSecsSinceEpoch() - 60000;
    m_model->applyEvent(HostA, snapshot({query, makeAgent(QStringLiteral("media"))}));
    const QModelIndex index = m_model->indexOf(HostA, QStringLiteral("query"));
    QCOMPARE(index.data(AgentTreeModel::StateRole).toString(), QStringLiteral("busy"));
    QVERIFY(!display(index, AgentTreeModel::UptimeColumn).isEmpty());

    QSignalSpy changed(m_model.get(), &QAbstractItemModel::dataChanged);
    const qint64 next = QDateTime::currentMSecsSinceEpoch() + 4000;
    m_model->setHostState(HostA, AgentTreeModel::HostState::Offline, QStringLiteral("connection refused"), next);
    QCOMPARE(m_model->rowCount(m_model->indexOf(HostA)), 2);
    QCOMPARE(index.data(AgentTreeModel::StateRole).toString(), QStringLiteral("offline"));
    QCOMPARE(display(index, AgentTreeModel::StateColumn), QStringLiteral("offline"));
    QVERIFY(display(index, AgentTreeModel::UptimeColumn).isEmpty());
    const QModelIndex host = m_model->indexOf(HostA);
    QCOMPARE(host.data(AgentTreeModel::StateRole).toString(), QStringLiteral("offline"));
    QCOMPARE(host.data(AgentTreeModel::StateReasonRole).toString(), QStringLiteral("connection refused"));
    QCOMPARE(host.data(AgentTreeModel::NextAttemptRole).toLongLong(), next);
    QCOMPARE(m_model->hostState(HostA), AgentTreeModel::HostState::Offline);
    // The host row, and the agents' state to uptime columns.
    QCOMPARE(changed.count(), 2);
    const QModelIndex agentsTopLeft = changed.at(1).at(0).value<QModelIndex>();
    const QModelIndex agentsBottomRight = changed.at(1).at(1).value<QModelIndex>();
    QCOMPARE(agentsTopLeft.parent(), host);
    QCOMPARE(agentsTopLeft.row(), 0);
    QCOMPARE(agentsBottomRight.row(), 1);
    QCOMPARE(agentsTopLeft.column(), int(AgentTreeModel::StateColumn));
    // State, uptime and the load figures, which an offline agent does not show.
    QCOMPARE(agentsBottomRight.column(), int(AgentTreeModel::LinesPerSecondColumn));

    m_model->setHostState(HostA, AgentTreeModel::HostState::Online);
    QCOMPARE(index.data(AgentTreeModel::StateRole).toString(), QStringLiteral("busy"));
    QVERIFY(host.data(AgentTreeModel::StateReasonRole).toString().isEmpty());
}

void TestAgentTreeModel::statusUpdatesStateColumnAndRoles()
{
    m_model->applyEvent(HostA, snapshot({makeAgent(QStringLiteral("query"))}));
    const QModelIndex index = m_model->indexOf(HostA, QStringLiteral("query"));
    QVERIFY(!index.data(AgentTreeModel::ProgressRole).isValid());

    QSignalSpy changed(m_model.get(), &QAbstractItemModel::dataChanged);
    Link::Event status;
    status.type = Link::Event::Type::Status;
    status.agent = QStringLiteral("query");
    status.status.state = QStringLiteral("busy");
    status.status.text = QStringLiteral("analysing 42 posts");
    status.status.progress = 0.4;
    m_model->applyEvent(HostA, status);
    QCOMPARE(index.data(AgentTreeModel::StateRole).toString(), QStringLiteral("busy"));
    QCOMPARE(index.data(AgentTreeModel::StatusTextRole).toString(), QStringLiteral("analysing 42 posts"));
    QCOMPARE(index.data(AgentTreeModel::ProgressRole).toDouble(), 0.4);
    QCOMPARE(display(index, AgentTreeModel::ProgressColumn), QStringLiteral("40 %"));
    QCOMPARE(changed.count(), 1);
    QVERIFY(index.data(AgentTreeModel::TasksRole).toList().isEmpty());
    QCOMPARE(index.data(AgentTreeModel::CurrentTaskRole).toString(), QString());

    // The plan: the current task, and every task with its state in the tooltip.
    status.status.tasks = {{QStringLiteral("1"), QStringLiteral("search"), QStringLiteral("done")},
                           {QStringLiteral("2"), QStringLiteral("summarise"), QStringLiteral("running")},
                           {QStringLiteral("3"), QStringLiteral("publish"), QStringLiteral("pending")}};
    m_model->applyEvent(HostA, status);
    QCOMPARE(index.data(AgentTreeModel::CurrentTaskRole).toString(), QStringLiteral("summarise"));
    const QVariantList tasks = index.data(AgentTreeModel::TasksRole).toList();
    QCOMPARE(tasks.size(), 3);
    QCOMPARE(tasks.at(2).toMap().value(QStringLiteral("state")).toString(), QStringLiteral("pending"));
    const QString tip = index.siblingAtColumn(AgentTreeModel::ProgressColumn).data(Qt::ToolTipRole).toString();
    QVERIFY2(tip.contains(QStringLiteral("analysing 42 posts")) && tip.contains(QStringLiteral("Progress: 40 %"))
                 && tip.contains(QStringLiteral("Tasks (1 of 3 done):"))
                 && tip.contains(QStringLiteral("\u25B6 summarise")),
             qPrintable(tip));

    // Only the state moves: its dot before the name, the state column, and the load
    // figures that follow it.
    changed.clear();
    status.status.state = QStringLiteral("crashed");
    m_model->applyEvent(HostA, status);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed.at(0).at(0).value<QModelIndex>().column(), int(AgentTreeModel::NameColumn));
    QCOMPARE(changed.at(0).at(1).value<QModelIndex>().column(), int(AgentTreeModel::LinesPerSecondColumn));
    QCOMPARE(display(index, AgentTreeModel::StateColumn), QStringLiteral("crashed"));

    // Status of an unknown agent is ignored.
    status.agent = QStringLiteral("ghost");
    changed.clear();
    m_model->applyEvent(HostA, status);
    QCOMPARE(changed.count(), 0);
}

void TestAgentTreeModel::metricsUpdateTheirColumns()
{
    m_model->applyEvent(HostA, snapshot({makeAgent(QStringLiteral("query"))}));
    const QModelIndex index = m_model->indexOf(HostA, QStringLiteral("query"));
    QVERIFY(!index.data(AgentTreeModel::CpuRole).isValid());
    QVERIFY(display(index, AgentTreeModel::CpuColumn).isEmpty());

    QSignalSpy changed(m_model.get(), &QAbstractItemModel::dataChanged);
    m_model->applyEvent(HostA,
                        metricsEvent(QStringLiteral("query"),
                                     {{QStringLiteral("cpu"), 12.5},
                                      {QStringLiteral("rss_bytes"), 75602739},
                                      {QStringLiteral("lines_per_s"), 3.26},
                                      {QStringLiteral("queue_depth"), 7}}));
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed.at(0).at(0).value<QModelIndex>().column(), int(AgentTreeModel::CpuColumn));
    QCOMPARE(changed.at(0).at(1).value<QModelIndex>().column(), int(AgentTreeModel::LinesPerSecondColumn));
    QCOMPARE(display(index, AgentTreeModel::CpuColumn), QStringLiteral("12.5 %"));
    QCOMPARE(display(index, AgentTreeModel::MemoryColumn), QStringLiteral("72.1 MiB"));
    QCOMPARE(display(index, AgentTreeModel::LinesPerSecondColumn), QStringLiteral("3.3"));
    QCOMPARE(index.data(AgentTreeModel::CpuRole).toDouble(), 12.5);
    QCOMPARE(index.data(AgentTreeModel::RssRole).toLongLong(), 75602739);
    QCOMPARE(m_model->metric(HostA, QStringLiteral("query"), QStringLiteral("queue_depth")), 7.0);
    QVERIFY(std::isnan(m_model->metric(HostA, QStringLiteral("query"), QStringLiteral("nothing"))));

    // Memory alone: the memory column alone.
    changed.clear();
    m_model->applyEvent(
        HostA,
        metricsEvent(QStringLiteral("query"), {{QStringLiteral("cpu"), 12.5}, {QStringLiteral("rss_bytes"), 1024}}));
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed.at(0).at(0).value<QModelIndex>().column(), int(AgentTreeModel::MemoryColumn));
    QCOMPARE(changed.at(0).at(1).value<QModelIndex>().column(), int(AgentTreeModel::MemoryColumn));
    QCOMPARE(display(index, AgentTreeModel::MemoryColumn), QStringLiteral("1.0 KiB"));
}

void TestAgentTreeModel::loadOfWhatDoesNotRunIsNotCurrent()
{
    Link::AgentInfo launched = makeAgent(QStringLiteral("worker"));
    launched.origin = QStringLiteral("launched");
    launched.processState = QStringLiteral("RUNNING");
    m_model->applyEvent(HostA, snapshot({makeAgent(QStringLiteral("query")), launched}));
    m_model->applyEvent(HostA, metricsEvent(QString(), {{QStringLiteral("cpu"), 40}}));
    for (const char* id : {"query", "worker"}) {
        m_model->applyEvent(HostA,
                            metricsEvent(QLatin1String(id),
                                         {{QStringLiteral("cpu"), 12.5},
                                          {QStringLiteral("rss_bytes"), 1024},
                                          {QStringLiteral("lines_per_s"), 3}}));
    }
    const QModelIndex query = m_model->indexOf(HostA, QStringLiteral("query"));
    const QModelIndex worker = m_model->indexOf(HostA, QStringLiteral("worker"));
    QCOMPARE(display(query, AgentTreeModel::CpuColumn), QStringLiteral("12.5 %"));
    QCOMPARE(display(worker, AgentTreeModel::CpuColumn), QStringLiteral("12.5 %"));

    // A connected agent gone offline, a launched one stopped: no figures, the last ones in the tooltip.
    QSignalSpy changed(m_model.get(), &QAbstractItemModel::dataChanged);
    m_model->applyEvent(
        HostA,
        agentEvent(Link::Event::Type::AgentChanged, makeAgent(QStringLiteral("query"), {}, QStringLiteral("offline"))));
    launched.processState = QStringLiteral("EXITED");
    launched.state = QStringLiteral("stopped");
    m_model->applyEvent(HostA, agentEvent(Link::Event::Type::AgentChanged, launched));
    for (const QModelIndex& agent : {query, worker}) {
        for (const int column :
             {AgentTreeModel::CpuColumn, AgentTreeModel::MemoryColumn, AgentTreeModel::LinesPerSecondColumn}) {
            QVERIFY(display(agent, column).isEmpty());
            const QString tip = m_model->index(agent.row(), column, agent.parent()).data(Qt::ToolTipRole).toString();
            QVERIFY2(tip.contains(QStringLiteral("last seen at ")), qPrintable(tip));
        }
        QVERIFY(!agent.data(AgentTreeModel::CpuRole).isValid());
    }
    // The views were told.
    bool cpuTold = false;
    for (const QList<QVariant>& arguments : std::as_const(changed)) {
        const auto from = arguments.at(0).value<QModelIndex>();
        const auto to = arguments.at(1).value<QModelIndex>();
        cpuTold |= from.row() == query.row() && from.column() <= AgentTreeModel::CpuColumn
            && to.column() >= AgentTreeModel::LinesPerSecondColumn;
    }
    QVERIFY(cpuTold);

    // A host that is not online shows no load either.
    const QModelIndex host = m_model->indexOf(HostA);
    QCOMPARE(display(host, AgentTreeModel::CpuColumn), QStringLiteral("40.0 %"));
    m_model->setHostState(HostA, AgentTreeModel::HostState::Offline, QStringLiteral("connection refused"));
    QVERIFY(display(host, AgentTreeModel::CpuColumn).isEmpty());
    QVERIFY(!host.data(AgentTreeModel::CpuRole).isValid());
    // Back online and running: current figures again, once they come.
    launched.processState = QStringLiteral("RUNNING");
    launched.state = QStringLiteral("running");
    m_model->setHostState(HostA, AgentTreeModel::HostState::Online);
    m_model->applyEvent(HostA, agentEvent(Link::Event::Type::AgentChanged, launched));
    QCOMPARE(display(worker, AgentTreeModel::CpuColumn), QStringLiteral("12.5 %"));
}

void TestAgentTreeModel::hostMetrics()
{
    const QModelIndex host = m_model->indexOf(HostA);
    QSignalSpy changed(m_model.get(), &QAbstractItemModel::dataChanged);
    m_model->applyEvent(HostA,
                        metricsEvent({},
                                     {{QStringLiteral("cpu"), 23.1},
                                      {QStringLiteral("mem_used_bytes"), 2 * 1073741824.0},
                                      {QStringLiteral("mem_total_bytes"), 8 * 1073741824.0},
                                      {QStringLiteral("load1"), 0.4},
                                      {QStringLiteral("net_rx_bps"), 1000}}));
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed.at(0).at(0).value<QModelIndex>(), host.siblingAtColumn(AgentTreeModel::CpuColumn));
    QCOMPARE(changed.at(0).at(1).value<QModelIndex>(), host.siblingAtColumn(AgentTreeModel::MemoryColumn));
    QCOMPARE(host.data(AgentTreeModel::CpuRole).toDouble(), 23.1);
    QCOMPARE(host.data(AgentTreeModel::Load1Role).toDouble(), 0.4);
    QCOMPARE(host.data(AgentTreeModel::MemoryTotalRole).toLongLong(), 8 * Q_INT64_C(1073741824));
    QCOMPARE(display(host, AgentTreeModel::CpuColumn), QStringLiteral("23.1 % · load 0.40"));
    QCOMPARE(display(host, AgentTreeModel::MemoryColumn), QStringLiteral("2.0 GiB / 8.0 GiB"));
    QCOMPARE(m_model->metric(HostA, {}, QStringLiteral("net_rx_bps")), 1000.0);
}

void TestAgentTreeModel::unreadErrorsCountedAndReset()
{
    m_model->applyEvent(HostA, snapshot({makeAgent(QStringLiteral("query")), makeAgent(QStringLiteral("media"))}));
    const QModelIndex query = m_model->indexOf(HostA, QStringLiteral("query"));
    const QModelIndex host = m_model->indexOf(HostA);

    QSignalSpy changed(m_model.get(), &QAbstractItemModel::dataChanged);
    m_model->applyEvent(HostA,
                        logEvent(QStringLiteral("query"),
                                 {{1, LogLevel::Info},
                                  {2, LogLevel::Error},
                                  {3, LogLevel::Warning},
                                  {4, LogLevel::Critical},
                                  {5, LogLevel::Error}},
                                 true));
    QCOMPARE(query.data(AgentTreeModel::UnreadErrorsRole).toInt(), 3);
    QCOMPARE(display(query, AgentTreeModel::ErrorsColumn), QStringLiteral("3"));
    QCOMPARE(changed.count(), 2); // the agent's and the host's errors column
    for (const QList<QVariant>& args : std::as_const(changed)) {
        QCOMPARE(args.at(0).value<QModelIndex>().column(), int(AgentTreeModel::ErrorsColumn));
        QCOMPARE(args.at(1).value<QModelIndex>().column(), int(AgentTreeModel::ErrorsColumn));
    }

    // A replay of lines already seen counts nothing twice.
    m_model->applyEvent(HostA, logEvent(QStringLiteral("query"), {{4, LogLevel::Critical}, {5, LogLevel::Error}}));
    QCOMPARE(query.data(AgentTreeModel::UnreadErrorsRole).toInt(), 3);

    m_model->applyEvent(HostA, logEvent(QStringLiteral("media"), {{1, LogLevel::Error}}));
    QCOMPARE(host.data(AgentTreeModel::UnreadErrorsRole).toInt(), 4);

    m_model->markRead(HostA, QStringLiteral("query"));
    QCOMPARE(query.data(AgentTreeModel::UnreadErrorsRole).toInt(), 0);
    QVERIFY(display(query, AgentTreeModel::ErrorsColumn).isEmpty());
    QCOMPARE(host.data(AgentTreeModel::UnreadErrorsRole).toInt(), 1);

    m_model->applyEvent(HostA, logEvent(QStringLiteral("query"), {{6, LogLevel::Error}}));
    QCOMPARE(query.data(AgentTreeModel::UnreadErrorsRole).toInt(), 1);
    QCOMPARE(host.data(AgentTreeModel::UnreadErrorsRole).toInt(), 2);

    // An agent that leaves takes its unread lines along.
    changed.clear();
    m_model->applyEvent(HostA, snapshot({makeAgent(QStringLiteral("query"))}));
    QCOMPARE(host.data(AgentTreeModel::UnreadErrorsRole).toInt(), 1);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed.at(0).at(0).value<QModelIndex>(), host.siblingAtColumn(AgentTreeModel::ErrorsColumn));
}

void TestAgentTreeModel::hostChangedClearsUnread()
{
    m_model->applyEvent(HostA, snapshot({makeAgent(QStringLiteral("query"))}));
    m_model->applyEvent(HostA, logEvent(QStringLiteral("query"), {{10, LogLevel::Error}, {11, LogLevel::Error}}));
    const QModelIndex query = m_model->indexOf(HostA, QStringLiteral("query"));
    QCOMPARE(query.data(AgentTreeModel::UnreadErrorsRole).toInt(), 2);

    // Same history: the count stays.
    m_model->applyEvent(HostA, snapshot({makeAgent(QStringLiteral("query"))}));
    QCOMPARE(query.data(AgentTreeModel::UnreadErrorsRole).toInt(), 2);

    m_model->applyEvent(HostA, snapshot({makeAgent(QStringLiteral("query"))}, true));
    QCOMPARE(query.data(AgentTreeModel::UnreadErrorsRole).toInt(), 0);
    QCOMPARE(m_model->indexOf(HostA).data(AgentTreeModel::UnreadErrorsRole).toInt(), 0);
    // The new history numbers from 1 again, and those lines count.
    m_model->applyEvent(HostA, logEvent(QStringLiteral("query"), {{1, LogLevel::Error}}));
    QCOMPARE(query.data(AgentTreeModel::UnreadErrorsRole).toInt(), 1);
}

void TestAgentTreeModel::uptimeComputedWhenShown()
{
    Link::AgentInfo query = makeAgent(QStringLiteral("query"));
    // Well inside the 12th second, so that a slow machine still reads "3 m 12 s".
    query.startedAt = QDateTime::currentMSecsSinceEpoch() - (3 * 60 + 12) * 1000 - 200;
    Link::AgentInfo stopped = makeAgent(QStringLiteral("stopped"), {}, QStringLiteral("stopped"));
    m_model->applyEvent(HostA, snapshot({query, stopped}));
    const QModelIndex index = m_model->indexOf(HostA, QStringLiteral("query"));
    QCOMPARE(display(index, AgentTreeModel::UptimeColumn), QStringLiteral("3 m 12 s"));
    QCOMPARE(index.data(AgentTreeModel::StartedAtRole).toLongLong(), query.startedAt);
    QVERIFY(display(m_model->indexOf(HostA, QStringLiteral("stopped")), AgentTreeModel::UptimeColumn).isEmpty());

    m_model->addHost(HostB, QStringLiteral("Host B")); // no agents: nothing to refresh there
    QSignalSpy changed(m_model.get(), &QAbstractItemModel::dataChanged);
    m_model->refreshUptime();
    QCOMPARE(changed.count(), 1);
    const QModelIndex topLeft = changed.at(0).at(0).value<QModelIndex>();
    const QModelIndex bottomRight = changed.at(0).at(1).value<QModelIndex>();
    QCOMPARE(topLeft.parent(), m_model->indexOf(HostA));
    QCOMPARE(topLeft.row(), 0);
    QCOMPARE(bottomRight.row(), 1);
    QCOMPARE(topLeft.column(), int(AgentTreeModel::UptimeColumn));
    QCOMPARE(bottomRight.column(), int(AgentTreeModel::UptimeColumn));
}

void TestAgentTreeModel::formatUptime_data()
{
    QTest::addColumn<qint64>("msecs");
    QTest::addColumn<QString>("expected");
    QTest::addRow("zero") << qint64(0) << QStringLiteral("0 s");
    QTest::addRow("negative") << qint64(-5000) << QStringLiteral("0 s");
    QTest::addRow("seconds") << qint64(45999) << QStringLiteral("45 s");
    QTest::addRow("minutes") << qint64(192000) << QStringLiteral("3 m 12 s");
    QTest::addRow("padded seconds") << qint64(65000) << QStringLiteral("1 m 05 s");
    QTest::addRow("hours") << qint64((2 * 3600 + 5 * 60 + 59) * 1000) << QStringLiteral("2 h 05 m");
    QTest::addRow("just under a day") << qint64(86399000) << QStringLiteral("23 h 59 m");
    QTest::addRow("days") << qint64((2 * 86400 + 3 * 3600) * 1000) << QStringLiteral("2 d 03 h");
}

void TestAgentTreeModel::formatUptime()
{
    QFETCH(qint64, msecs);
    QFETCH(QString, expected);
    QCOMPARE(AgentTreeModel::formatUptime(msecs), expected);
}

void TestAgentTreeModel::formatBytes_data()
{
    QTest::addColumn<qint64>("bytes");
    QTest::addColumn<QString>("expected");
    QTest::addRow("bytes") << qint64(512) << QStringLiteral("512 B");
    QTest::addRow("kib") << qint64(3072) << QStringLiteral("3.0 KiB");
    QTest::addRow("mib") << qint64(75602739) << QStringLiteral("72.1 MiB");
    QTest::addRow("rounds up to next unit") << qint64(1048575) << QStringLiteral("1.0 MiB");
    QTest::addRow("gib") << qint64(1610612736) << QStringLiteral("1.5 GiB");
}

void TestAgentTreeModel::formatBytes()
{
    QFETCH(qint64, bytes);
    QFETCH(QString, expected);
    QCOMPARE(AgentTreeModel::formatBytes(bytes), expected);
}

QTEST_GUILESS_MAIN(TestAgentTreeModel)
#include "tst_agenttreemodel.moc"
