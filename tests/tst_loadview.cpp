// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/demo.h"
#include "app/desktop.h"
#include "models/agenttreemodel.h"
#include "models/fleet.h"
#include "models/metricshistory.h"
#include "server/engine/embeddedhost.h"
#include "support/windowtests.h"
#include "ui/agenttreeview.h"
#include "ui/loadchart.h"
#include "ui/loadview.h"
#include "ui/mainwindow.h"
#include "ui/sparklinedelegate.h"

#include <QAction>
#include <QApplication>
#include <QCategoryAxis>
#include <QChart>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QHeaderView>
#include <QImage>
#include <QLabel>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QMenuBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSettings>
#include <QStyle>
#include <QTest>
#include <QTimer>
#include <QTreeWidget>
#include <QValueAxis>
#include <cmath>

/*
 * The Load view and the agent list's sparklines, on the offscreen platform, fed
 * by real metrics events: applied to the real agent model and metrics history as
 * a link delivers them, and from the real embedded host running the demo agents.
 */
namespace {

const QString Host = QStringLiteral("h1");
constexpr int Slow = 30000;

Link::AgentInfo agentInfo(const QString& id)
{
    Link::AgentInfo info;
    info.id = id;
    info.name = id;
    info.origin = QStringLiteral("connected");
    info.state = QStringLiteral("running");
    info.connected = true;
    return info;
}

qint64 now()
{
    return QDateTime::currentMSecsSinceEpoch();
}

/// A host with agents, its events applied to the models the window shows.
struct Models
{
    explicit Models(const QStringList& agents)
    {
        tree.addHost(Host, QStringLiteral("Bot host"));
        tree.setHostState(Host, AgentTreeModel::HostState::Online);
        Link::Event snapshot;
        snapshot.type = Link::Event::Type::Snapshot;
        snapshot.host.id = QStringLiteral("7f3c");
        snapshot.host.name = QStringLiteral("bot-host-1");
        for (const QString& id : agents)
            snapshot.agents.append(agentInfo(id));
        apply(snapshot);
    }
    void apply(const Link::Event& event)
    {
        tree.applyEvent(Host, event);
        history.applyEvent(Host, event);
    }
    void hostMetrics(qint64 ts, double cpu)
    {
        Link::Event event;
        event.type = Link::Event::Type::HostMetrics;
        event.ts = ts;
        event.values = {{QStringLiteral("cpu"), cpu},
                        {QStringLiteral("mem_used_bytes"), 3.0 * 1024 * 1024 * 1024},
                        {QStringLiteral("mem_total_bytes"), 8.0 * 1024 * 1024 * 1024},
                        {QStringLiteral("load1"), 0.5},
                        {QStringLiteral("net_rx_bps"), 200000},
                        {QStringLiteral("net_tx_bps"), 50000}};
        apply(event);
    }
    void agentMetrics(const QString& agent, qint64 ts, double cpu, double lines = 4)
    {
        Link::Event event;
        event.type = Link::Event::Type::Metrics;
        event.agent = agent;
        event.ts = ts;
        event.values = {{QStringLiteral("cpu"), cpu},
                        {QStringLiteral("rss_bytes"), 70.0 * 1024 * 1024},
                        {QStringLiteral("lines_per_s"), lines},
                        {QStringLiteral("tokens_per_s"), 100}};
        apply(event);
    }
    /// Every owner once, at ts.
    void tick(qint64 ts, double value)
    {
        hostMetrics(ts, value);
        for (const QString& agent : tree.agentIds(Host))
            agentMetrics(agent, ts, value);
    }
    /// A second each, from seconds ago until now, with values 0, 1, 2 ...
    void past(int seconds)
    {
        const qint64 end = now();
        for (int i = seconds; i >= 0; --i)
            tick(end - qint64(i) * 1000, double((seconds - i) % 50));
    }

    AgentTreeModel tree;
    MetricsHistory history;
};

/// New points once a second, as a host sends them.
struct Live
{
    explicit Live(Models* models)
    {
        QObject::connect(&timer, &QTimer::timeout, &timer, [models] { models->tick(now(), 42); });
        timer.start(1000);
    }
    QTimer timer;
};

bool showView(QWidget* view)
{
    view->resize(1200, 640);
    view->show();
    return QTest::qWaitForWindowExposed(view);
}

QStringList seriesNames(const LoadChart* chart)
{
    QStringList names;
    for (const QLineSeries* series : chart->series())
        names.append(series->name());
    return names;
}

/// Minutes since local midnight.
int minutesOfDay(qint64 msecs)
{
    const QTime time = QDateTime::fromMSecsSinceEpoch(msecs).time();
    return time.hour() * 60 + time.minute();
}

qint64 axisEnd(const LoadChart* chart)
{
    return qint64(chart->timeAxis()->max());
}

} // namespace

class TestLoadView final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void chartsTakeNewPointsEverySecond();
    void rangeChangesTheAxis_data();
    void rangeChangesTheAxis();
    void pauseFreezesResumeCatchesUp();
    void hoverReportsTheNearestPoint();
    void legendClickHidesASeries();
    void overlaysTheCheckedAgents();
    void hiddenViewDoesNoWork();
    void unitsAreHumanised();
    void thinningKeepsPeaks();
    void sparklinesPaintInTheAgentList();
    void screenshots();
};

void TestLoadView::init()
{
    QSettings().clear();
    applyPalette(false);
}

void TestLoadView::chartsTakeNewPointsEverySecond()
{
    Models models({QStringLiteral("a"), QStringLiteral("b")});
    models.past(10);
    LoadView view(&models.tree, &models.history);
    QVERIFY(showView(&view));
    QTRY_VERIFY(view.chart(QStringLiteral("Host CPU")));
    const QStringList titles = {QStringLiteral("Host CPU"),     QStringLiteral("Host memory"),
                                QStringLiteral("Load average"), QStringLiteral("Network"),
                                QStringLiteral("Agent CPU"),    QStringLiteral("Agent memory"),
                                QStringLiteral("Lines/s"),      QStringLiteral("tokens/s")};
    QStringList shown;
    for (const LoadChart* chart : view.charts())
        shown.append(chart->objectName());
    QCOMPARE(shown, titles);

    LoadChart* cpu = view.chart(QStringLiteral("Agent CPU"));
    QCOMPARE(seriesNames(cpu), QStringList({QStringLiteral("a"), QStringLiteral("b")}));
    const qsizetype before = cpu->series().first()->count();
    QCOMPARE(before, 11);
    const qint64 end = axisEnd(cpu);
    Live live(&models);
    QTRY_VERIFY_WITH_TIMEOUT(cpu->series().first()->count() >= before + 2, 10000);
    QVERIFY(axisEnd(cpu) > end);
    QCOMPARE(cpu->series().first()->points().last().y(), 42.0);
    // The history's last point is the chart's, once the next tick has drawn it.
    live.timer.stop();
    QTRY_COMPARE(cpu->series().first()->points().last(),
                 models.history.series(Host, QStringLiteral("a"), QStringLiteral("cpu")).last());
}

void TestLoadView::rangeChangesTheAxis_data()
{
    QTest::addColumn<int>("index");
    QTest::addColumn<int>("minutes");
    QTest::addRow("5 minutes") << 0 << 5;
    QTest::addRow("15 minutes") << 1 << 15;
    QTest::addRow("60 minutes") << 2 << 60;
}

void TestLoadView::rangeChangesTheAxis()
{
    QFETCH(int, index);
    QFETCH(int, minutes);
    Models models({QStringLiteral("a")});
    models.past(70 * 60);
    LoadView view(&models.tree, &models.history);
    QVERIFY(showView(&view));
    QTRY_VERIFY(view.chart(QStringLiteral("Agent CPU")));
    auto* range = view.findChild<QComboBox*>(QStringLiteral("loadRange"));
    QVERIFY(range);
    range->setCurrentIndex(2);
    range->setCurrentIndex(index);
    QCOMPARE(view.rangeMinutes(), minutes);
    const LoadChart* chart = view.chart(QStringLiteral("Agent CPU"));
    const qint64 span = axisEnd(chart) - qint64(chart->timeAxis()->min());
    QCOMPARE(span, qint64(minutes) * 60 * 1000);
    // Cut to what is shown, with one point left of it, so that the line comes in from the
    // edge; the history keeps an hour, so at 60 minutes there is none left of it.
    const QList<QPointF> shown = chart->series().first()->points();
    const qint64 from = qint64(chart->timeAxis()->min());
    if (minutes < 60)
        QVERIFY(shown.first().x() < double(from));
    QVERIFY(shown.at(1).x() >= double(from));
    QCOMPARE(shown.last(), models.history.series(Host, QStringLiteral("a"), QStringLiteral("cpu")).last());
    // No more than a lowest and a highest point per pixel column of the plot ...
    const int columns = int(chart->chart()->plotArea().width());
    QVERIFY2(shown.size() <= 2 * columns + 2,
             qPrintable(QStringLiteral("%1 points, %2 px").arg(shown.size()).arg(columns)));
    // ... which at 5 minutes is every second.
    if (minutes == 5)
        QVERIFY2(shown.size() >= 300 && shown.size() <= 303, qPrintable(QString::number(shown.size())));
    // Time labels at round minutes of the local clock, within the range, several of them.
    QCategoryAxis* time = chart->timeAxis(); // its getters are not const
    const QStringList labels = time->categoriesLabels();
    QVERIFY2(labels.size() >= 3 && labels.size() <= 8, qPrintable(labels.join(QLatin1Char(' '))));
    qint64 step = 0;
    for (qsizetype i = 0; i < labels.size(); ++i) {
        const qint64 at = qint64(time->endValue(labels.at(i)));
        QVERIFY(at >= from && at <= axisEnd(chart));
        const QDateTime local = QDateTime::fromMSecsSinceEpoch(at);
        QCOMPARE(local.time().second(), 0);
        QCOMPARE(labels.at(i), local.toString(QStringLiteral("HH:mm")));
        if (i > 0) {
            const qint64 gap = at - qint64(time->endValue(labels.at(i - 1)));
            QVERIFY(step == 0 || gap == step);
            step = gap;
        }
    }
    QVERIFY(step % (60 * 1000) == 0);
    QCOMPARE(minutesOfDay(qint64(time->endValue(labels.first()))) % (step / 60000), 0);
}

void TestLoadView::pauseFreezesResumeCatchesUp()
{
    Models models({QStringLiteral("a")});
    models.past(5);
    LoadView view(&models.tree, &models.history);
    QVERIFY(showView(&view));
    QTRY_VERIFY(view.chart(QStringLiteral("Agent CPU")));
    Live live(&models);
    const LoadChart* chart = view.chart(QStringLiteral("Agent CPU"));
    QTRY_VERIFY_WITH_TIMEOUT(chart->series().first()->count() >= 8, 10000);

    auto* pause = view.findChild<QPushButton*>(QStringLiteral("loadPause"));
    QVERIFY(pause);
    QTest::mouseClick(pause, Qt::LeftButton);
    QVERIFY(view.isPaused());
    QCOMPARE(pause->text(), QStringLiteral("Resume"));
    const qint64 end = axisEnd(chart);
    const qsizetype count = chart->series().first()->count();
    const qsizetype recorded = models.history.pointCount(Host, QStringLiteral("a"));
    QTRY_VERIFY_WITH_TIMEOUT(models.history.pointCount(Host, QStringLiteral("a")) >= recorded + 2, 10000);
    QCOMPARE(axisEnd(chart), end);
    QCOMPARE(chart->series().first()->count(), count);

    QTest::mouseClick(pause, Qt::LeftButton);
    QVERIFY(!view.isPaused());
    QVERIFY(axisEnd(chart) >= models.history.series(Host, QStringLiteral("a"), QStringLiteral("cpu")).last().x());
    QVERIFY(chart->series().first()->count() >= count + 2);
}

void TestLoadView::hoverReportsTheNearestPoint()
{
    Models models({QStringLiteral("a"), QStringLiteral("b")});
    const qint64 end = now();
    for (int i = 60; i >= 0; --i) {
        models.agentMetrics(QStringLiteral("a"), end - i * 1000, i == 30 ? 40 : 10);
        models.agentMetrics(QStringLiteral("b"), end - i * 1000, 2);
    }
    LoadView view(&models.tree, &models.history);
    QVERIFY(showView(&view));
    QTRY_VERIFY(view.chart(QStringLiteral("Agent CPU")));
    LoadChart* chart = view.chart(QStringLiteral("Agent CPU"));
    QLineSeries* a = chart->series().first();
    QCOMPARE(a->name(), QStringLiteral("a"));
    const QPointF point = a->at(a->count() - 31); // a spike half a minute ago
    QCOMPARE(point.y(), 40.0);
    const QPointF inChart = chart->chart()->mapToPosition(point, a);
    const QPoint inView = chart->mapFromScene(chart->chart()->mapToScene(inChart)) + QPoint(1, 6);
    QTest::mouseMove(chart->viewport(), inView);
    auto* hover = view.findChild<QLabel*>(QStringLiteral("loadHover"));
    QVERIFY(hover);
    const QString expected = QStringLiteral("a: 40.0 % at ")
        + QDateTime::fromMSecsSinceEpoch(qint64(point.x())).toString(QStringLiteral("HH:mm:ss"));
    QTRY_COMPARE(hover->text(), expected);
    QCOMPARE(chart->describeNearest(inView), expected);
}

void TestLoadView::legendClickHidesASeries()
{
    Models models({QStringLiteral("a"), QStringLiteral("b")});
    models.past(20);
    LoadView view(&models.tree, &models.history);
    QVERIFY(showView(&view));
    QTRY_VERIFY(view.chart(QStringLiteral("Agent CPU")));
    LoadChart* chart = view.chart(QStringLiteral("Agent CPU"));
    QLineSeries* b = chart->series().at(1);
    const QList<QLegendMarker*> markers = chart->chart()->legend()->markers(b);
    QCOMPARE(markers.size(), 1);
    Q_EMIT markers.first()->clicked();
    QVERIFY(!b->isVisible());
    QVERIFY(markers.first()->isVisible()); // to bring it back
    // It stays hidden as new points come.
    const int redraws = view.redrawCount();
    models.tick(now(), 5);
    QTRY_VERIFY(view.redrawCount() > redraws);
    QVERIFY(!chart->series().at(1)->isVisible());
    Q_EMIT markers.first()->clicked();
    QVERIFY(b->isVisible());
}

void TestLoadView::overlaysTheCheckedAgents()
{
    Models models({QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")});
    models.past(20);
    LoadView view(&models.tree, &models.history);
    QVERIFY(showView(&view));
    QTRY_VERIFY(view.chart(QStringLiteral("Agent CPU")));
    const LoadChart* chart = view.chart(QStringLiteral("Agent CPU"));
    QCOMPARE(seriesNames(chart), QStringList({QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")}));

    // Unchecking c in the list, as a person does, leaves a and b to compare.
    auto* sources = view.findChild<QTreeWidget*>(QStringLiteral("loadSources"));
    QVERIFY(sources);
    const QList<QTreeWidgetItem*> found =
        sources->findItems(QStringLiteral("c"), Qt::MatchExactly | Qt::MatchRecursive);
    QCOMPARE(found.size(), 1);
    QCOMPARE(found.first()->checkState(0), Qt::Checked);
    found.first()->setCheckState(0, Qt::Unchecked);
    QVERIFY(!view.isShown(Host, QStringLiteral("c")));
    chart = view.chart(QStringLiteral("Agent CPU"));
    QCOMPARE(seriesNames(chart), QStringList({QStringLiteral("a"), QStringLiteral("b")}));
    QCOMPARE(chart->series().at(1)->points(), models.history.series(Host, QStringLiteral("b"), QStringLiteral("cpu")));
    // Host charts stay as they were; without the host, only agent charts are left.
    QVERIFY(view.chart(QStringLiteral("Host CPU")));
    view.setShown(Host, QString(), false);
    QVERIFY(!view.chart(QStringLiteral("Host CPU")));
    QCOMPARE(view.charts().first()->objectName(), QStringLiteral("Agent CPU"));
    found.first()->setCheckState(0, Qt::Checked);
    QCOMPARE(seriesNames(view.chart(QStringLiteral("Agent CPU"))).size(), 3);
}

void TestLoadView::hiddenViewDoesNoWork()
{
    Models models({QStringLiteral("a")});
    models.past(5);
    LoadView view(&models.tree, &models.history);
    QVERIFY(showView(&view));
    QTRY_VERIFY(view.chart(QStringLiteral("Agent CPU")));
    QTRY_VERIFY(view.redrawCount() > 0);
    view.hide();
    const int redraws = view.redrawCount();
    Live live(&models);
    const qsizetype recorded = models.history.pointCount(Host, QStringLiteral("a"));
    QTRY_VERIFY_WITH_TIMEOUT(models.history.pointCount(Host, QStringLiteral("a")) >= recorded + 3, 10000);
    QCOMPARE(view.redrawCount(), redraws);

    live.timer.stop();
    view.show();
    QTRY_VERIFY(view.redrawCount() > redraws);
    const LoadChart* chart = view.chart(QStringLiteral("Agent CPU"));
    QCOMPARE(chart->series().first()->points().last(),
             models.history.series(Host, QStringLiteral("a"), QStringLiteral("cpu")).last());

    // Visible, a burst of metrics is drawn with the clock's tick, not once per event.
    const int before = view.redrawCount();
    QElapsedTimer clock;
    clock.start();
    for (int i = 0; i < 200; ++i) {
        models.agentMetrics(QStringLiteral("a"), now(), i % 10);
        QTest::qWait(5);
    }
    const qint64 ms = clock.elapsed();
    const int done = view.redrawCount() - before;
    QVERIFY2(done <= ms / 1000 + 1, qPrintable(QStringLiteral("%1 redraws in %2 ms").arg(done).arg(ms)));
    // The next tick brings the last of them.
    const int afterBurst = view.redrawCount();
    QTRY_VERIFY(view.redrawCount() > afterBurst);
    QCOMPARE(chart->series().first()->points().last(),
             models.history.series(Host, QStringLiteral("a"), QStringLiteral("cpu")).last());
}

void TestLoadView::unitsAreHumanised()
{
    QCOMPARE(LoadChart::formatValue(12.5, LoadChart::Unit::Percent), QStringLiteral("12.5 %"));
    QCOMPARE(LoadChart::formatValue(70.0 * 1024 * 1024, LoadChart::Unit::Bytes), QStringLiteral("70.0 MiB"));
    QCOMPARE(LoadChart::formatValue(3.0 * 1024 * 1024 * 1024, LoadChart::Unit::Bytes), QStringLiteral("3.0 GiB"));
    QCOMPARE(LoadChart::formatValue(200000, LoadChart::Unit::BytesPerSecond), QStringLiteral("195 KiB/s"));
    QCOMPARE(LoadChart::formatValue(4, LoadChart::Unit::LinesPerSecond), QStringLiteral("4.0 lines/s"));

    Models models({QStringLiteral("a")});
    models.past(10);
    LoadView view(&models.tree, &models.history);
    QVERIFY(showView(&view));
    QTRY_VERIFY(view.chart(QStringLiteral("Host memory")));
    // Memory in GiB up to the total; the total dashed.
    const LoadChart* memory = view.chart(QStringLiteral("Host memory"));
    QCOMPARE(memory->shownUnit(), QStringLiteral("GiB"));
    QCOMPARE(memory->valueAxis()->max(), 8.0);
    QCOMPARE(memory->valueAxis()->tickInterval(), 2.0);
    QCOMPARE(memory->series().at(1)->points().last().y(), 8.0);
    QCOMPARE(memory->series().at(1)->pen().style(), Qt::DashLine);
    QCOMPARE(memory->chart()->title(), QStringLiteral("Host memory (GiB)"));
    // CPU from 0 to 100 %.
    const LoadChart* cpu = view.chart(QStringLiteral("Host CPU"));
    QCOMPARE(cpu->valueAxis()->min(), 0.0);
    QCOMPARE(cpu->valueAxis()->max(), 100.0);
    QCOMPARE(view.chart(QStringLiteral("Agent memory"))->shownUnit(), QStringLiteral("MiB"));
    QCOMPARE(view.chart(QStringLiteral("Network"))->shownUnit(), QStringLiteral("KiB/s"));
    QCOMPARE(view.chart(QStringLiteral("Lines/s"))->shownUnit(), QStringLiteral("lines/s"));
    QCOMPARE(view.chart(QStringLiteral("Lines/s"))->chart()->title(), QStringLiteral("Lines/s"));
    // An agent's CPU is a share of one core: the axis follows the largest, from 10 % up,
    // past 100 % for an agent using several cores.
    QCOMPARE(view.chart(QStringLiteral("Agent CPU"))->valueAxis()->max(), 10.0);
    models.agentMetrics(QStringLiteral("a"), now() + 500, 340);
    QTRY_COMPARE(view.chart(QStringLiteral("Agent CPU"))->valueAxis()->max(), 400.0);
}

void TestLoadView::thinningKeepsPeaks()
{
    // An hour a second, flat but for one spike and one dip.
    QList<QPointF> points;
    for (int i = 0; i < 3600; ++i)
        points.append(QPointF(double(i) * 1000, i == 1234 ? 90.0 : i == 2345 ? 0.0 : 10.0));
    const QList<QPointF> thinned = LoadChart::thin(points.cbegin(), points.cend(), 0, 3600 * 1000, 200);
    QVERIFY2(thinned.size() <= 400, qPrintable(QString::number(thinned.size())));
    QVERIFY(thinned.contains(QPointF(1234000, 90.0)));
    QVERIFY(thinned.contains(QPointF(2345000, 0.0)));
    QCOMPARE(thinned.first(), points.first());
    QCOMPARE(thinned.last(), points.last());
    for (qsizetype i = 1; i < thinned.size(); ++i)
        QVERIFY(thinned.at(i).x() > thinned.at(i - 1).x());
    // Fewer points than pixels: all of them.
    QCOMPARE(LoadChart::thin(points.cbegin(), points.cbegin() + 300, 0, 300 * 1000, 200).size(), 300);
}

void TestLoadView::sparklinesPaintInTheAgentList()
{
    Models models({QStringLiteral("a"), QStringLiteral("b")});
    const qint64 end = now();
    // Older than the two minutes a sparkline shows.
    models.agentMetrics(QStringLiteral("a"), end - 150 * 1000, 99, 99);
    for (int i = 90; i >= 0; --i)
        models.agentMetrics(QStringLiteral("a"), end - i * 1000, 30 + 25 * std::sin(i / 8.0), 5 + i % 7);
    models.agentMetrics(QStringLiteral("b"), end, 30, 5);
    AgentTreeView tree;
    tree.setAgentModel(&models.tree);
    tree.setMetricsHistory(&models.history);
    tree.resize(500, 200);
    tree.show();
    QVERIFY(QTest::qWaitForWindowExposed(&tree));

    const QModelIndex a = models.tree.indexOf(Host, QStringLiteral("a"));
    const QModelIndex b = models.tree.indexOf(Host, QStringLiteral("b"));
    for (const int column : {int(AgentTreeModel::CpuColumn), int(AgentTreeModel::LinesPerSecondColumn)}) {
        auto* delegate = qobject_cast<SparklineDelegate*>(tree.itemDelegateForColumn(column));
        QVERIFY(delegate);
        QCOMPARE(delegate->points(a.siblingAtColumn(column), now()).size(), 91);
        QCOMPARE(delegate->points(b.siblingAtColumn(column), now()).size(), 1);

        // The same number in both cells; a's has the sparkline behind it, b's (one point: no line yet) is bare.
        const QImage image = tree.viewport()->grab().toImage();
        const QRect cellA = tree.visualRect(a.siblingAtColumn(column));
        const QRect cellB = tree.visualRect(b.siblingAtColumn(column));
        QVERIFY(cellA.isValid() && cellB.isValid());
        const int scale = int(image.devicePixelRatio());
        int differing = 0;
        for (int x = 0; x < cellA.width(); ++x) {
            for (int y = 0; y < cellA.height(); ++y) {
                const QColor pa = image.pixelColor((cellA.left() + x) * scale, (cellA.top() + y) * scale);
                const QColor pb = image.pixelColor((cellB.left() + x) * scale, (cellB.top() + y) * scale);
                differing += pa != pb ? 1 : 0;
            }
        }
        QVERIFY2(differing > cellA.width() * cellA.height() / 5,
                 qPrintable(QStringLiteral("column %1: %2 pixels").arg(column).arg(differing)));
    }
    tree.grab().save(screenshotPath(QStringLiteral("sparklines-light")));
}

void TestLoadView::screenshots()
{
    HostConfig config;
    config.port = 0;
    config.token = QStringLiteral("load-token");
    config.logDirectory.clear();
    config.allowAgentEditing = true;
    config.agents = demoAgentDefinitions(QStringLiteral(AGENTDECK_DEMO_AGENT), 2.0);
    Desktop desktop(config);
    QVERIFY(desktop.start(nullptr));
    Fleet* fleet = desktop.fleet();
    MainWindow* window = desktop.window();
    const QString local = QStringLiteral("local");
    const QStringList agents = {QStringLiteral("demo-query"), QStringLiteral("demo-media"),
                                QStringLiteral("demo-insight"), QStringLiteral("demo-moderator")};

    window->resize(1280, 800);
    window->show();
    QVERIFY(QTest::qWaitForWindowExposed(window));
    // The demo agents' own metrics and their processes' samples, live.
    MetricsHistory* history = fleet->metrics();
    for (const QString& agent : agents)
        QTRY_VERIFY_WITH_TIMEOUT(history->keys(local, agent).contains(QStringLiteral("lines_per_s"))
                                     && history->keys(local, agent).contains(QStringLiteral("tokens_per_s"))
                                     && fleet->agents()->indexOf(local, agent).isValid(),
                                 Slow);
    QTRY_VERIFY_WITH_TIMEOUT(history->keys(local, QString()).contains(QStringLiteral("net_tx_bps")), Slow);

    // Fifteen minutes before that, as a host that ran so long would have sent them:
    // around the live values, so that the picture joins up.
    QStringList owners = agents;
    owners.prepend(QString());
    for (qsizetype o = 0; o < owners.size(); ++o) {
        const QString& owner = owners.at(o);
        const QStringList keys = history->keys(local, owner);
        const qint64 first = history->points(local, owner).first().ts;
        const qint64 start = first - 15 * 60 * 1000;
        for (int s = 0; s < 15 * 60; ++s) {
            Link::Event event;
            event.type = owner.isEmpty() ? Link::Event::Type::HostMetrics : Link::Event::Type::Metrics;
            event.agent = owner;
            event.ts = start + qint64(s) * 1000;
            for (qsizetype k = 0; k < keys.size(); ++k) {
                const QString& key = keys.at(k);
                const double latest = history->series(local, owner, key).last().y();
                if (key.contains(QLatin1String("total")) || key == QLatin1String("processes")) {
                    event.values.append({key, latest});
                    continue;
                }
                const double base = std::max(latest, key == QLatin1String("cpu") ? 3.0 + 2 * double(o) : 1.0);
                const double wave = std::sin(double(s) / (25.0 + 9 * double(k) + 5 * double(o)) + double(o));
                const double value = base * (1 + 0.35 * wave);
                // The host's CPU is a share of the machine.
                event.values.append(
                    {key, owner.isEmpty() && key == QLatin1String("cpu") ? std::min(value, 100.0) : value});
            }
            history->applyEvent(local, event);
        }
    }

    auto* dock = window->findChild<QDockWidget*>(QStringLiteral("loadDock"));
    QVERIFY(dock);
    QVERIFY(!dock->isVisible());
    // Opened from the View menu, as a person does.
    QAction* open = nullptr;
    for (QAction* menu : window->menuBar()->actions()) {
        if (!menu->menu())
            continue;
        for (QAction* action : menu->menu()->actions()) {
            if (action == dock->toggleViewAction())
                open = action;
        }
    }
    QVERIFY(open);
    QCOMPARE(open->shortcut(), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_G));
    open->trigger();
    QTRY_VERIFY(dock->isVisible());
    auto* view = dock->findChild<LoadView*>();
    QVERIFY(view);
    view->setRangeMinutes(15);
    QTRY_VERIFY(view->chart(QStringLiteral("Agent CPU")));
    QTRY_COMPARE(view->chart(QStringLiteral("Agent CPU"))->series().size(), 4);
    // Opened at about half the window's height: two rows of charts.
    QVERIFY2(dock->height() >= 300 && dock->height() <= 460, qPrintable(QString::number(dock->height())));

    for (const bool dark : {false, true}) {
        applyPalette(dark);
        QTest::qWait(1200);
        QVERIFY(window->grab().save(screenshotPath(dark ? QStringLiteral("load-dark") : QStringLiteral("load-light"))));
        QVERIFY(view->grab().save(
            screenshotPath(dark ? QStringLiteral("load-view-dark") : QStringLiteral("load-view-light"))));
        // Every chart, also those below the fold.
        auto* charts = view->findChild<QScrollArea*>(QStringLiteral("loadCharts"));
        QVERIFY(charts && charts->widget());
        QVERIFY(charts->widget()->grab().save(
            screenshotPath(dark ? QStringLiteral("load-charts-dark") : QStringLiteral("load-charts-light"))));
    }
    applyPalette(false);
    // The sparklines in the agent list: a CPU cell of a running demo agent has its two minutes.
    auto* tree = window->findChild<AgentTreeView*>();
    QVERIFY(tree);
    auto* sparkline = qobject_cast<SparklineDelegate*>(tree->itemDelegateForColumn(AgentTreeModel::CpuColumn));
    QVERIFY(sparkline);
    QVERIFY(
        sparkline
            ->points(fleet->agents()->indexOf(local, agents.first()).siblingAtColumn(AgentTreeModel::CpuColumn), now())
            .size()
        > 60);
}

QTEST_MAIN(TestLoadView)
#include "tst_loadview.moc"
