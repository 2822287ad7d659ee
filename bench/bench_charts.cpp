// SPDX-License-Identifier: GPL-3.0-or-later
// bench_charts: the Load view's cost, on the offscreen platform.
//
//  live: 25 agents each send cpu and lines_per_s once a second (their seconds
//        spread over the second, as real agents' are), so 50 lines are live on
//        two charts showing the last 5 minutes (filled beforehand). The process's
//        CPU time over a period with the Load dock shown, against the same window
//        with the dock hidden (the baseline: the metrics still arrive and are
//        recorded), alternating, medians of the runs.
//  open: 60 minutes of 50 agents x 4 metrics (200 lines) in the history; the time
//        from showing a new Load dock (range 60 minutes, every agent checked) to
//        its first frame painted, medians of the runs.
//
// Usage: QT_QPA_PLATFORM=offscreen bench_charts [live [seconds (60)] [runs (3)] | open [runs (5)]]
#include "models/agenttreemodel.h"
#include "models/metricshistory.h"
#include "ui/loadview.h"

#include <QApplication>
#include <QDateTime>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QMainWindow>
#include <QTimer>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <vector>

namespace {

const QString Host = QStringLiteral("bench");

double median(std::vector<double> values)
{
    std::sort(values.begin(), values.end());
    return values.empty() ? 0 : values[values.size() / 2];
}

double cpuSeconds()
{
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

/// Runs the event loop for ms, sleeping while there is nothing to do.
void wait(int ms)
{
    QEventLoop loop;
    QTimer::singleShot(ms, &loop, &QEventLoop::quit);
    loop.exec();
}

/// A host with agents, as its events leave the link.
struct Models
{
    explicit Models(int agents)
    {
        tree.addHost(Host, QStringLiteral("Bench host"));
        tree.setHostState(Host, AgentTreeModel::HostState::Online);
        Link::Event snapshot;
        snapshot.type = Link::Event::Type::Snapshot;
        for (int i = 0; i < agents; ++i) {
            Link::AgentInfo info;
            info.id = QStringLiteral("agent-%1").arg(i, 2, 10, QLatin1Char('0'));
            info.name = info.id;
            info.state = QStringLiteral("running");
            info.connected = true;
            snapshot.agents.append(info);
            ids.append(info.id);
        }
        tree.applyEvent(Host, snapshot);
    }
    void metrics(int agent, qint64 ts, const QStringList& keys)
    {
        Link::Event event;
        event.type = Link::Event::Type::Metrics;
        event.agent = ids.at(agent);
        event.ts = ts;
        const double angle = double(ts / 1000) / (20.0 + agent);
        for (qsizetype k = 0; k < keys.size(); ++k)
            event.values.append({keys.at(k), 50 + 40 * std::sin(angle + double(k))});
        tree.applyEvent(Host, event);
        history.applyEvent(Host, event);
    }
    void fill(int seconds, const QStringList& keys)
    {
        const qint64 end = QDateTime::currentMSecsSinceEpoch();
        for (int s = seconds; s > 0; --s) {
            for (int a = 0; a < ids.size(); ++a)
                metrics(a, end - qint64(s) * 1000 + a * 37, keys);
        }
    }

    AgentTreeModel tree;
    MetricsHistory history;
    QStringList ids;
};

/// The window the Load dock lives in, at the size the brief names.
struct Window
{
    explicit Window(Models* models)
    {
        view = new LoadView(&models->tree, &models->history);
        dock = new QDockWidget(QStringLiteral("Load"), &window);
        dock->setWidget(view);
        window.setCentralWidget(new QWidget(&window));
        window.addDockWidget(Qt::BottomDockWidgetArea, dock);
        window.resize(1280, 800);
        view->setShown(Host, QString(), false);
        for (const QString& id : std::as_const(models->ids))
            view->setShown(Host, id, true);
    }
    QMainWindow window;
    QDockWidget* dock;
    LoadView* view;
};

int live(int seconds, int runs)
{
    const QStringList keys = {QStringLiteral("cpu"), QStringLiteral("lines_per_s")};
    Models models(25);
    models.fill(5 * 60, keys);
    Window w(&models);
    w.window.show();
    // One agent every 40 ms: each of the 25 once a second.
    int next = 0;
    QTimer feed;
    QObject::connect(&feed, &QTimer::timeout, &feed, [&models, &next, &keys] {
        models.metrics(next, QDateTime::currentMSecsSinceEpoch(), keys);
        next = (next + 1) % 25;
    });
    feed.start(40);

    std::vector<double> hidden, shown;
    for (int run = 0; run < runs; ++run) {
        for (const bool visible : {false, true}) {
            w.dock->setVisible(visible);
            wait(2000);
            const int redraws = w.view->redrawCount();
            const double cpu = cpuSeconds();
            wait(seconds * 1000);
            const double percent = 100 * (cpuSeconds() - cpu) / seconds;
            (visible ? shown : hidden).push_back(percent);
            std::printf("run %d, %s: %.2f %% of a core, %d redraws\n", run + 1, visible ? "shown " : "hidden", percent,
                        w.view->redrawCount() - redraws);
            std::fflush(stdout);
        }
    }
    const int series = int(w.view->chart(QStringLiteral("Agent CPU"))->series().size()
                           + w.view->chart(QStringLiteral("Lines/s"))->series().size());
    std::printf("live: %d lines; median hidden %.2f %%, shown %.2f %%, the view's cost %.2f %% of a core\n", series,
                median(hidden), median(shown), median(shown) - median(hidden));
    return 0;
}

int open(int runs)
{
    const QStringList keys = {QStringLiteral("cpu"), QStringLiteral("rss_bytes"), QStringLiteral("lines_per_s"),
                              QStringLiteral("tokens_per_s")};
    Models models(50);
    QElapsedTimer fillClock;
    fillClock.start();
    models.fill(60 * 60, keys);
    std::printf("history: 50 agents x %lld points, filled in %lld ms\n",
                static_cast<long long>(models.history.pointCount(Host, models.ids.first())),
                static_cast<long long>(fillClock.elapsed()));
    std::vector<double> times;
    for (int run = 0; run < runs; ++run) {
        Window w(&models);
        w.view->setRangeMinutes(60);
        w.dock->hide();
        w.window.show();
        wait(300);
        QElapsedTimer clock;
        clock.start();
        w.dock->show();
        while (w.view->redrawCount() == 0)
            QCoreApplication::processEvents();
        const double redrawn = double(clock.nsecsElapsed()) / 1e6;
        QCoreApplication::processEvents(); // the charts' layout
        w.window.grab(); // the first frame, every chart painted
        const double ms = double(clock.nsecsElapsed()) / 1e6;
        int lines = 0;
        for (const LoadChart* chart : w.view->charts())
            lines += int(chart->series().size());
        std::printf("run %d: %d lines on %lld charts, data in %.1f ms, painted at %.1f ms\n", run + 1, lines,
                    static_cast<long long>(w.view->charts().size()), redrawn, ms);
        std::fflush(stdout);
        times.push_back(ms);
    }
    std::printf("open: median %.1f ms\n", median(times));
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    QApplication app(argc, argv);
    const QStringList args = app.arguments().mid(1);
    const QString mode = args.value(0, QStringLiteral("live"));
    if (mode == QLatin1String("live"))
        return live(args.value(1, QStringLiteral("60")).toInt(), args.value(2, QStringLiteral("3")).toInt());
    if (mode == QLatin1String("open"))
        return open(args.value(1, QStringLiteral("5")).toInt());
    std::fprintf(stderr, "usage: bench_charts [live [seconds] [runs] | open [runs]]\n");
    return 2;
}
