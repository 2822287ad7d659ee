// SPDX-License-Identifier: GPL-3.0-or-later
// bench_links: the window's side of a flood. agentdeck-loadgen sends lines at a
// set rate to a host engine running in its own thread, as in the desktop app; a
// link (local or remote) brings them to the GUI thread, where the Fleet feeds
// the models and a ConsoleView on the merged "All agents" console (through the
// filter proxy) follows the newest line on the offscreen platform. In "window"
// mode the whole main window runs instead: agent list, forum, status bar, the
// merged console and one tab per agent, the tabs taking turns on screen.
//
// Measured on the GUI thread: how late a 5 ms timer fires (event-loop stalls),
// first with no load (the baseline of this machine in this run), then under the
// flood; and whether every line sent reached the models.
//
// Usage: QT_QPA_PLATFORM=offscreen bench_links [local|remote|window] [lines/s (200000)] [seconds (10)] [runs (3)]
#include "models/consolefiltermodel.h"
#include "models/consolemodel.h"
#include "models/fleet.h"
#include "server/engine/embeddedhost.h"
#include "server/engine/hostserver.h"
#include "server/link/locallink.h"
#include "server/link/remotelink.h"
#include "ui/consoleview.h"
#include "ui/mainwindow.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTimer>
#include <algorithm>
#include <cstdio>
#include <vector>

namespace {

const QString Token = QStringLiteral("bench");

double percentile(std::vector<double> values, double p)
{
    if (values.empty())
        return 0;
    std::sort(values.begin(), values.end());
    return values[std::min(values.size() - 1, size_t(p * double(values.size())))];
}

double median(std::vector<double> values)
{
    return percentile(std::move(values), 0.5);
}

/// Records how late a 5 ms timer fires while the loop runs for the given time.
class StallProbe final : public QObject
{
public:
    StallProbe()
    {
        m_timer.setTimerType(Qt::PreciseTimer);
        m_timer.setInterval(IntervalMs);
        connect(&m_timer, &QTimer::timeout, this, [this] {
            const double elapsed = m_clock.nsecsElapsed() / 1e6;
            m_stalls.push_back(std::max(0.0, elapsed - IntervalMs));
            m_clock.restart();
        });
    }
    void start()
    {
        m_stalls.clear();
        m_clock.start();
        m_timer.start();
    }
    std::vector<double> stop()
    {
        m_timer.stop();
        return m_stalls;
    }

private:
    static constexpr int IntervalMs = 5;
    QTimer m_timer;
    QElapsedTimer m_clock;
    std::vector<double> m_stalls;
};

struct Run
{
    double p50 = 0;
    double p99 = 0;
    double max = 0;
    double linesPerSecond = 0;
    qint64 sent = 0;
    qint64 received = 0;
};

enum class Mode { Local, Remote, Window };

Run run(Mode mode, double rate, double seconds, bool withLoad)
{
    QTemporaryDir dir;
    HostConfig config;
    config.port = 0;
    config.token = Token;
    config.logDirectory = dir.path();
    config.allowAgentEditing = true;
    EmbeddedHost host(config);
    host.start(nullptr);
    const QUrl url = host.url();

    Run result;
    {
        // The whole window (agent list, forum, the merged console and a tab per agent
        // shown in turn), or only the fleet and a view of the merged console.
        auto ownFleet = std::make_unique<Fleet>();
        std::unique_ptr<MainWindow> window;
        std::unique_ptr<ConsoleFilterModel> filter;
        std::unique_ptr<ConsoleView> view;
        HostLink* link = nullptr;
        Fleet* fleetPtr = nullptr;
        if (mode == Mode::Window) {
            window = std::make_unique<MainWindow>(ownFleet.get());
            window->setEmbeddedHostAddress(url, Token, QString());
            fleetPtr = ownFleet.get();
            link = new LocalLink(host.server());
            fleetPtr->addHost(link);
            for (int i = 1; i <= 4; ++i)
                window->openConsole(QStringLiteral("local"),
                                    QStringLiteral("bench-%1").arg(i, 2, 10, QLatin1Char('0')));
            window->tabs()->setCurrentIndex(0);
            window->resize(1400, 900);
            window->show();
        } else {
            fleetPtr = ownFleet.get();
            if (mode == Mode::Remote) {
                RemoteLink::Settings settings;
                settings.url = url;
                settings.token = Token;
                link = new RemoteLink(settings);
            } else {
                link = new LocalLink(host.server());
            }
            fleetPtr->addHost(link);
            filter = std::make_unique<ConsoleFilterModel>();
            filter->setSourceModel(fleetPtr->allAgents());
            view = std::make_unique<ConsoleView>();
            view->setModel(filter.get());
            view->resize(1200, 800);
            view->show();
        }
        Fleet& fleet = *fleetPtr;
        // In the window, the tabs take turns being on screen.
        QTimer tabCycle;
        if (window) {
            QObject::connect(&tabCycle, &QTimer::timeout, window.get(), [&window] {
                QTabWidget* tabs = window->tabs();
                tabs->setCurrentIndex((tabs->currentIndex() + 1) % tabs->count());
            });
            tabCycle.start(500);
        }

        QElapsedTimer wait;
        wait.start();
        while (link->state() != HostLink::State::Online && wait.elapsed() < 10000)
            QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 50);

        StallProbe probe;
        QProcess loadgen;
        const quint64 before = fleet.linesApplied();
        QElapsedTimer clock;
        clock.start();
        probe.start();
        if (withLoad) {
            loadgen.start(QStringLiteral(AGENTDECK_LOADGEN_PATH),
                          {QStringLiteral("--url"), url.toString(), QStringLiteral("--token"), Token,
                           QStringLiteral("--agents"), QStringLiteral("4"), QStringLiteral("--rate"),
                           QString::number(rate), QStringLiteral("--duration"), QString::number(seconds),
                           QStringLiteral("--line-bytes"), QStringLiteral("100"), QStringLiteral("--lines-per-frame"),
                           QStringLiteral("50")});
            while (loadgen.state() != QProcess::NotRunning)
                QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 20);
            const QJsonObject report = QJsonDocument::fromJson(loadgen.readAllStandardOutput()).object();
            result.sent = report.value(QStringLiteral("sent_lines")).toInteger();
            // Until every line sent has reached the models (or 30 s more).
            while (qint64(fleet.linesApplied() - before) < result.sent && clock.elapsed() < seconds * 1000 + 30000)
                QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 20);
        } else {
            while (clock.elapsed() < seconds * 1000)
                QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 20);
        }
        const std::vector<double> stalls = probe.stop();
        result.received = qint64(fleet.linesApplied() - before);
        result.linesPerSecond = result.received / (clock.nsecsElapsed() / 1e9);
        result.p50 = percentile(stalls, 0.5);
        result.p99 = percentile(stalls, 0.99);
        result.max = stalls.empty() ? 0 : *std::max_element(stalls.begin(), stalls.end());
    }
    return result;
}

} // namespace

int main(int argc, char* argv[])
{
    QApplication app(argc, argv);
    const QStringList args = app.arguments();
    const QString modeName = args.value(1, QStringLiteral("local"));
    const Mode mode = modeName == QLatin1String("remote") ? Mode::Remote
        : modeName == QLatin1String("window")             ? Mode::Window
                                                          : Mode::Local;
    const double rate = args.value(2, QStringLiteral("200000")).toDouble();
    const double seconds = args.value(3, QStringLiteral("10")).toDouble();
    const int runs = args.value(4, QStringLiteral("3")).toInt();

    std::vector<double> idleP99, loadP50, loadP99, loadMax, lps;
    bool complete = true;
    for (int i = 0; i < runs; ++i) {
        const Run idle = run(mode, rate, 3, false);
        const Run load = run(mode, rate, seconds, true);
        std::printf("run %d (%s): idle p99 %.2f ms | load: %lld/%lld lines, %.0f lines/s, stall p50 %.2f p99 %.2f "
                    "max %.2f ms\n",
                    i + 1, qPrintable(modeName), idle.p99, qint64(load.received), qint64(load.sent),
                    load.linesPerSecond, load.p50, load.p99, load.max);
        std::fflush(stdout);
        idleP99.push_back(idle.p99);
        loadP50.push_back(load.p50);
        loadP99.push_back(load.p99);
        loadMax.push_back(load.max);
        lps.push_back(load.linesPerSecond);
        complete = complete && load.received == load.sent;
    }
    std::printf("median of %d (%s, %.0f lines/s offered): idle stall p99 %.2f ms; under load %.0f lines/s "
                "absorbed, stall p50 %.2f ms, p99 %.2f ms, max %.2f ms; every line arrived: %s\n",
                runs, qPrintable(modeName), rate, median(idleP99), median(lps), median(loadP50), median(loadP99),
                median(loadMax), complete ? "yes" : "no");
    return complete ? 0 : 1;
}
