// SPDX-License-Identifier: GPL-3.0-or-later
// bench_host: runs the host benchmark scenarios of docs/benchmarks.md. Each run
// starts a fresh agentdeck-host (temporary configuration, --port 0), a checking
// agentdeck-benchviewer and agentdeck-loadgen, and samples the host's memory and CPU
// time from /proc. Every scenario is repeated (--repeat) and the medians reported.
// The soak scenario, run only when named, is one long run that watches the host's
// memory for growth.
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMap>
#include <QProcess>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QStringList>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <vector>

namespace {

QByteArray readFile(const QString& path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

/// A "Name:   123 kB" field of /proc/PID/status, in bytes; -1 when unreadable.
qint64 procStatusBytes(qint64 pid, QByteArrayView field)
{
    const QByteArray status = readFile(QStringLiteral("/proc/%1/status").arg(pid));
    for (const QByteArray& line : status.split('\n')) {
        if (line.startsWith(field))
            return line.mid(field.size()).trimmed().split(' ').value(0).toLongLong() * 1024;
    }
    return -1;
}

/// User plus system CPU seconds of a running process (/proc/PID/stat fields 14 and 15).
double procCpuSeconds(qint64 pid)
{
    const QByteArray stat = readFile(QStringLiteral("/proc/%1/stat").arg(pid));
    const qsizetype close = stat.lastIndexOf(')');
    if (close < 0)
        return -1;
    const QList<QByteArray> fields = stat.mid(close + 2).split(' ');
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    if (fields.size() < 13)
        return -1;
    return double(fields[11].toLongLong() + fields[12].toLongLong()) / double(sysconf(_SC_CLK_TCK));
}

/// CPU seconds of the children this process has waited for.
double childrenCpuSeconds()
{
    rusage usage{};
    getrusage(RUSAGE_CHILDREN, &usage);
    return double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

QString cpuModel()
{
    for (const QByteArray& line : readFile(QStringLiteral("/proc/cpuinfo")).split('\n')) {
        if (line.startsWith("model name"))
            return QString::fromUtf8(line.mid(line.indexOf(':') + 1).trimmed());
    }
    return QStringLiteral("unknown");
}

QString loadAverage()
{
    return QString::fromUtf8(readFile(QStringLiteral("/proc/loadavg")).split(' ').mid(0, 3).join(' '));
}

/// The last line of output that is a JSON object.
QJsonObject lastJsonLine(const QByteArray& output)
{
    const QList<QByteArray> lines = output.trimmed().split('\n');
    for (auto it = lines.crbegin(); it != lines.crend(); ++it) {
        if (it->startsWith('{'))
            return QJsonDocument::fromJson(*it).object();
    }
    return {};
}

double median(std::vector<double> values)
{
    if (values.empty())
        return std::nan("");
    std::sort(values.begin(), values.end());
    const size_t n = values.size();
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

void stop(QProcess* process)
{
    if (process->state() == QProcess::NotRunning)
        return;
    process->terminate();
    if (!process->waitForFinished(10000)) {
        process->kill();
        process->waitForFinished(5000);
    }
}

bool waitForLine(QProcess* process, QByteArrayView line, int timeoutMs)
{
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < timeoutMs) {
        while (process->canReadLine()) {
            if (process->readLine().trimmed() == line)
                return true;
        }
        if (process->state() == QProcess::NotRunning)
            return false;
        process->waitForReadyRead(200);
    }
    return false;
}

QString readHostUrl(QProcess* host)
{
    static const QRegularExpression pattern(QStringLiteral("listening on (wss?://\\S+)"));
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < 10000) {
        while (host->canReadLine()) {
            const QRegularExpressionMatch match = pattern.match(QString::fromUtf8(host->readLine()));
            if (match.hasMatch())
                return match.captured(1);
        }
        if (host->state() == QProcess::NotRunning && !host->waitForStarted(0))
            return {};
        host->waitForReadyRead(200);
    }
    return {};
}

/// Starts the host at hostPath with config written into dir, its XDG directories in
/// dir too so that nothing of the user's is read; returns its URL, or empty.
QString startHost(const QString& hostPath, const QTemporaryDir& dir, const QJsonObject& config, const QString& token,
                  QProcess* host, QString* error)
{
    const QString configPath = dir.filePath(QStringLiteral("host.json"));
    QFile configFile(configPath);
    if (!configFile.open(QIODevice::WriteOnly) || configFile.write(QJsonDocument(config).toJson()) < 0) {
        if (error)
            *error = QStringLiteral("cannot write %1").arg(configPath);
        return {};
    }
    configFile.close();
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), dir.filePath(QStringLiteral("config")));
    env.insert(QStringLiteral("XDG_DATA_HOME"), dir.filePath(QStringLiteral("data")));
    env.insert(QStringLiteral("XDG_STATE_HOME"), dir.filePath(QStringLiteral("state")));
    host->setProcessEnvironment(env);
    host->setProcessChannelMode(QProcess::ForwardedErrorChannel);
    host->start(hostPath,
                {QStringLiteral("--port"), QStringLiteral("0"), QStringLiteral("--token"), token,
                 QStringLiteral("--config"), configPath});
    const QString url = readHostUrl(host);
    if (url.isEmpty()) {
        stop(host);
        if (error)
            *error = QStringLiteral("agentdeck-host did not report its URL");
    }
    return url;
}

/// One benchmark case; see docs/benchmarks.md.
struct Scenario
{
    QString name;
    QString description;
    int agents = 16;
    int linesPerFrame = 100;
    double rate = 0;
    bool viewer = true;
    qint64 retentionLinesPerAgent = 0; // 0: the host's default
    qint64 linesPerAgent = 0; // 0: run for the duration
    bool memory = false;
};

/// A measured quantity with its target; lower or higher is better.
struct Target
{
    QString metric;
    QString label;
    double value;
    bool atLeast;
};

struct Paths
{
    QString host;
    QString loadgen;
    QString viewer;
};

using Values = QMap<QString, double>;

class BenchRunner
{
public:
    BenchRunner(const Paths& paths, double duration, int loadgenThreads)
        : m_paths(paths)
        , m_duration(duration)
        , m_loadgenThreads(loadgenThreads)
    { }

    /// Runs one repetition of scenario; on failure returns false with *error set.
    bool run(const Scenario& scenario, Values* values, QString* error)
    {
        QTemporaryDir dir;
        if (!dir.isValid())
            return fail(error, QStringLiteral("no temporary directory"));
        QJsonObject config{{QStringLiteral("name"), QStringLiteral("bench")}};
        if (scenario.retentionLinesPerAgent > 0) {
            config.insert(QStringLiteral("retention"),
                          QJsonObject{{QStringLiteral("log_lines"), scenario.retentionLinesPerAgent}});
        }
        QProcess host;
        const QString url = startHost(m_paths.host, dir, config, m_token, &host, error);
        if (url.isEmpty())
            return false;
        const qint64 hostPid = host.processId();
        QThread::msleep(300);
        const qint64 baselineRss = procStatusBytes(hostPid, "VmRSS:");
        values->insert(QStringLiteral("host_rss_start_mb"), double(baselineRss) / 1048576);

        QProcess viewer;
        if (scenario.viewer) {
            viewer.setProcessChannelMode(QProcess::ForwardedErrorChannel);
            viewer.start(m_paths.viewer,
                         {QStringLiteral("--url"), url, QStringLiteral("--token"), m_token,
                          QStringLiteral("--stdin-control"), QStringLiteral("--idle-timeout"),
                          QStringLiteral("10000")});
            if (!waitForLine(&viewer, "ready", 10000)) {
                stop(&viewer);
                stop(&host);
                return fail(error, QStringLiteral("agentdeck-benchviewer did not subscribe"));
            }
        }

        // The load.
        const double hostCpu0 = procCpuSeconds(hostPid);
        const double childCpu0 = childrenCpuSeconds();
        QElapsedTimer wall;
        wall.start();
        QProcess loadgen;
        loadgen.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        QStringList args{QStringLiteral("--url"),
                         url,
                         QStringLiteral("--token"),
                         m_token,
                         QStringLiteral("--agents"),
                         QString::number(scenario.agents),
                         QStringLiteral("--lines-per-frame"),
                         QString::number(scenario.linesPerFrame),
                         QStringLiteral("--rate"),
                         QString::number(scenario.rate),
                         QStringLiteral("--duration"),
                         QString::number(scenario.memory ? 120 : m_duration),
                         QStringLiteral("--threads"),
                         QString::number(m_loadgenThreads)};
        if (scenario.linesPerAgent > 0)
            args << QStringLiteral("--lines-per-agent") << QString::number(scenario.linesPerAgent);
        loadgen.start(m_paths.loadgen, args);
        const bool loadgenDone = loadgen.waitForFinished(int(m_duration * 1000) + 180000);
        const double loadgenCpu = childrenCpuSeconds() - childCpu0;
        const QJsonObject load = lastJsonLine(loadgen.readAllStandardOutput());
        if (!loadgenDone || loadgen.exitCode() != 0 || load.isEmpty()) {
            stop(&loadgen);
            stop(&viewer);
            stop(&host);
            return fail(error, QStringLiteral("agentdeck-loadgen failed"));
        }
        const qint64 sent = load.value(QStringLiteral("sent_lines")).toInteger();
        values->insert(QStringLiteral("sent_lines"), double(sent));
        values->insert(QStringLiteral("loadgen_send_lps"), load.value(QStringLiteral("send_lps")).toDouble());
        values->insert(QStringLiteral("loadgen_cpu_s"), loadgenCpu);
        const double syncedSeconds = load.value(QStringLiteral("synced_s")).toDouble();

        QJsonObject view;
        if (scenario.viewer) {
            const double viewerCpu0 = childrenCpuSeconds();
            viewer.write(QByteArray("expect ") + QByteArray::number(sent) + '\n');
            const bool viewerDone = viewer.waitForFinished(120000);
            values->insert(QStringLiteral("viewer_cpu_s"), childrenCpuSeconds() - viewerCpu0);
            view = lastJsonLine(viewer.readAllStandardOutput());
            if (!viewerDone || view.isEmpty()) {
                stop(&viewer);
                stop(&host);
                return fail(error, QStringLiteral("agentdeck-benchviewer did not finish"));
            }
        }
        const double wallSeconds = double(wall.nsecsElapsed()) / 1e9;
        const double hostCpu = procCpuSeconds(hostPid) - hostCpu0;
        if (scenario.memory)
            QThread::msleep(500);
        const qint64 rss = procStatusBytes(hostPid, "VmRSS:");
        const qint64 peakRss = procStatusBytes(hostPid, "VmHWM:");

        // What the host holds: the last seq per agent, from a snapshot.
        QProcess snapshot;
        snapshot.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        snapshot.start(m_paths.viewer,
                       {QStringLiteral("--url"), url, QStringLiteral("--token"), m_token, QStringLiteral("--snapshot"),
                        QStringLiteral("--max-seconds"), QStringLiteral("30")});
        snapshot.waitForFinished(40000);
        const QJsonObject snap = lastJsonLine(snapshot.readAllStandardOutput());
        stop(&host);
        if (snap.isEmpty())
            return fail(error, QStringLiteral("no snapshot from the host"));
        const qint64 ingested = snap.value(QStringLiteral("total")).toInteger();

        values->insert(QStringLiteral("host_lines"), double(ingested));
        values->insert(QStringLiteral("unaccounted"), double(sent - ingested));
        values->insert(QStringLiteral("ingest_lps"), syncedSeconds > 0 ? double(ingested) / syncedSeconds : 0);
        values->insert(QStringLiteral("host_cpu_s"), hostCpu);
        values->insert(QStringLiteral("host_cpu_pct"), wallSeconds > 0 ? 100 * hostCpu / wallSeconds : 0);
        values->insert(QStringLiteral("host_peak_rss_mb"), double(peakRss) / 1048576);
        values->insert(QStringLiteral("host_cpu_us_per_line"), ingested > 0 ? hostCpu * 1e6 / double(ingested) : 0);
        if (scenario.viewer) {
            const qint64 received = view.value(QStringLiteral("lines")).toInteger();
            const QJsonObject latency = view.value(QStringLiteral("latency_ms")).toObject();
            values->insert(QStringLiteral("delivered_lines"), double(received));
            values->insert(QStringLiteral("delivered_lps"), view.value(QStringLiteral("lps")).toDouble());
            values->insert(QStringLiteral("delivered_steady_lps"), view.value(QStringLiteral("steady_lps")).toDouble());
            values->insert(QStringLiteral("gap_lines"), view.value(QStringLiteral("gap_lines")).toDouble());
            values->insert(QStringLiteral("silent_loss"), view.value(QStringLiteral("missing")).toDouble());
            values->insert(QStringLiteral("order_errors"),
                           view.value(QStringLiteral("seq_backwards")).toDouble()
                               + view.value(QStringLiteral("counter_errors")).toDouble());
            values->insert(QStringLiteral("latency_p50_ms"), latency.value(QStringLiteral("p50")).toDouble());
            values->insert(QStringLiteral("latency_p99_ms"), latency.value(QStringLiteral("p99")).toDouble());
            values->insert(QStringLiteral("latency_max_ms"), latency.value(QStringLiteral("max")).toDouble());
            const QJsonObject gaps = view.value(QStringLiteral("gaps")).toObject();
            for (auto it = gaps.constBegin(); it != gaps.constEnd(); ++it)
                values->insert(QStringLiteral("gap_") + it.key(), it.value().toDouble());
            const QJsonArray errors = view.value(QStringLiteral("errors")).toArray();
            for (const QJsonValue& e : errors)
                std::fprintf(stderr, "  viewer: %s\n", e.toString().toUtf8().constData());
        }
        if (scenario.memory) {
            values->insert(QStringLiteral("host_rss_filled_mb"), double(rss) / 1048576);
            const double perLine = ingested > 0 ? double(rss - baselineRss) / double(ingested) : 0;
            values->insert(QStringLiteral("rss_bytes_per_line"), perLine);
            values->insert(QStringLiteral("rss_overhead_per_line"), perLine - 100);
        }
        return true;
    }

private:
    static bool fail(QString* error, const QString& text)
    {
        if (error)
            *error = text;
        return false;
    }

    Paths m_paths;
    double m_duration;
    int m_loadgenThreads;
    const QString m_token = QStringLiteral("bench-token");
};

/*
 * The soak run: the host for a long time at a steady 20,000 lines/s from
 * agentdeck-loadgen (16 agents, 10 lines a frame, log files on and rotating),
 * with viewers that connect, watch for a few seconds and drop, again and again.
 * The host's resident memory is sampled every 10 s. Once retention has filled,
 * it must stay flat: the peak of the last third of the run within 10 % of the
 * peak of the middle third.
 */
class SoakRunner
{
public:
    SoakRunner(const Paths& paths, double duration, int loadgenThreads)
        : m_paths(paths)
        , m_duration(duration)
        , m_loadgenThreads(loadgenThreads)
    { }

    /// Runs it, printing the samples as they come and the verdict; false when the
    /// memory grew or the run failed (*error set).
    bool run(QString* error)
    {
        QTemporaryDir dir;
        if (!dir.isValid()) {
            *error = QStringLiteral("no temporary directory");
            return false;
        }
        // Small log files, so that rotation is part of the soak and the disk stays clean.
        const QJsonObject config{
            {QStringLiteral("name"), QStringLiteral("soak")},
            {QStringLiteral("logs"),
             QJsonObject{{QStringLiteral("max_bytes"), 8 * 1024 * 1024}, {QStringLiteral("backups"), 2}}}};
        QProcess host;
        const QString url = startHost(m_paths.host, dir, config, m_token, &host, error);
        if (url.isEmpty())
            return false;
        const qint64 hostPid = host.processId();
        QThread::msleep(300);
        const qint64 startRss = procStatusBytes(hostPid, "VmRSS:");
        const double hostCpu0 = procCpuSeconds(hostPid);
        const double fillSeconds = double(Agents) * double(DefaultRetentionLines) / Rate;
        std::printf("soak: %g s at %.0f lines/s (%d agents, %d lines a frame), %d viewers coming and going; "
                    "RSS every %d s\n",
                    m_duration, Rate, Agents, LinesPerFrame, Viewers, SampleIntervalMs / 1000);
        std::printf(
            "soak: retention (%d lines per agent) fills after about %.0f s%s\n", DefaultRetentionLines, fillSeconds,
            fillSeconds > m_duration / 3 ? "; that is after the first third, so the middle third still fills" : "");
        std::printf("soak: %7.0f s  RSS %8.1f MiB\n", 0.0, double(startRss) / 1048576);
        std::fflush(stdout);

        QProcess loadgen;
        loadgen.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        loadgen.start(m_paths.loadgen,
                      {QStringLiteral("--url"), url, QStringLiteral("--token"), m_token, QStringLiteral("--agents"),
                       QString::number(Agents), QStringLiteral("--lines-per-frame"), QString::number(LinesPerFrame),
                       QStringLiteral("--rate"), QString::number(Rate), QStringLiteral("--duration"),
                       QString::number(m_duration), QStringLiteral("--threads"), QString::number(m_loadgenThreads)});

        QEventLoop loop;
        QElapsedTimer clock;
        clock.start();
        std::vector<std::pair<double, qint64>> samples;
        QTimer sampler;
        QObject::connect(&sampler, &QTimer::timeout, &loop, [&] {
            const double t = double(clock.elapsed()) / 1000;
            const qint64 rss = procStatusBytes(hostPid, "VmRSS:");
            samples.emplace_back(t, rss);
            std::printf("soak: %7.0f s  RSS %8.1f MiB\n", t, double(rss) / 1048576);
            std::fflush(stdout);
        });
        sampler.start(SampleIntervalMs);

        // Each viewer watches for 2 to 6 s, drops, and comes back 0.5 to 2 s later.
        int sessions = 0;
        std::vector<std::unique_ptr<QProcess>> viewers;
        std::function<void(QProcess*)> startViewer = [&](QProcess* viewer) {
            if (clock.elapsed() >= qint64(m_duration * 1000) || host.state() == QProcess::NotRunning)
                return;
            const int seconds = QRandomGenerator::global()->bounded(2, 7);
            viewer->start(m_paths.viewer,
                          {QStringLiteral("--url"), url, QStringLiteral("--token"), m_token,
                           QStringLiteral("--max-seconds"), QString::number(seconds), QStringLiteral("--idle-timeout"),
                           QStringLiteral("0")});
            ++sessions;
        };
        for (int i = 0; i < Viewers; ++i) {
            auto viewer = std::make_unique<QProcess>();
            viewer->setStandardOutputFile(QProcess::nullDevice());
            viewer->setStandardErrorFile(QProcess::nullDevice());
            QProcess* v = viewer.get();
            QObject::connect(v, &QProcess::finished, &loop, [&, v] {
                QTimer::singleShot(QRandomGenerator::global()->bounded(500, 2001), &loop, [&, v] { startViewer(v); });
            });
            startViewer(v);
            viewers.push_back(std::move(viewer));
        }

        bool hostEnded = false;
        QObject::connect(&host, &QProcess::finished, &loop, [&] {
            hostEnded = true;
            loop.quit();
        });
        QObject::connect(&loadgen, &QProcess::finished, &loop, &QEventLoop::quit);
        QTimer::singleShot(int(m_duration * 1000) + 180000, &loop, &QEventLoop::quit);
        loop.exec();
        sampler.stop();
        const bool hostEndedEarly = hostEnded; // before stopping it below ends it

        const double wall = double(clock.elapsed()) / 1000;
        const double hostCpu = procCpuSeconds(hostPid) - hostCpu0;
        const QJsonObject load = lastJsonLine(loadgen.readAllStandardOutput());
        for (const auto& viewer : viewers) {
            viewer->disconnect();
            stop(viewer.get());
        }
        stop(&loadgen);
        stop(&host);
        if (hostEndedEarly) {
            *error = QStringLiteral("agentdeck-host ended during the soak");
            return false;
        }
        if (load.isEmpty()) {
            *error = QStringLiteral("agentdeck-loadgen failed");
            return false;
        }

        QStringList series;
        qint64 middlePeak = 0;
        qint64 lastPeak = 0;
        for (const auto& [t, rss] : samples) {
            series << QStringLiteral("%1:%2").arg(t, 0, 'f', 0).arg(double(rss) / 1048576, 0, 'f', 1);
            if (t >= m_duration / 3 && t < 2 * m_duration / 3)
                middlePeak = std::max(middlePeak, rss);
            else if (t >= 2 * m_duration / 3)
                lastPeak = std::max(lastPeak, rss);
        }
        const bool flat = middlePeak > 0 && lastPeak > 0 && double(lastPeak) <= 1.10 * double(middlePeak);
        std::printf("\nsoak: series (s:MiB): %s\n", series.join(QLatin1Char(' ')).toUtf8().constData());
        std::printf("soak: %lld lines sent in %.0f s, %d viewer sessions, host CPU %.0f %%\n",
                    qlonglong(load.value(QStringLiteral("sent_lines")).toInteger()), wall, sessions,
                    wall > 0 ? 100 * hostCpu / wall : 0);
        std::printf("soak: RSS %.1f MiB at the start; peak of the middle third %.1f MiB, of the last third "
                    "%.1f MiB (%+.1f %%): %s\n",
                    double(startRss) / 1048576, double(middlePeak) / 1048576, double(lastPeak) / 1048576,
                    middlePeak > 0 ? 100.0 * double(lastPeak - middlePeak) / double(middlePeak) : 0.0,
                    flat ? "flat" : "GROWING (or too few samples)");
        std::fflush(stdout);
        if (!flat)
            *error = QStringLiteral("the host's memory was not flat after retention filled");
        return flat;
    }

private:
    static constexpr double Rate = 20000;
    static constexpr int Agents = 16;
    static constexpr int LinesPerFrame = 10;
    static constexpr int Viewers = 2;
    static constexpr int SampleIntervalMs = 10000;
    static constexpr int DefaultRetentionLines = 100000; // the host's retention.log_lines

    Paths m_paths;
    double m_duration;
    int m_loadgenThreads;
    const QString m_token = QStringLiteral("bench-token");
};

QList<Scenario> allScenarios()
{
    QList<Scenario> list;
    Scenario s;
    // A target rate the host must take in and deliver in full, without gaps.
    s.name = QStringLiteral("throughput-viewer");
    s.description = QStringLiteral("16 agents x 100 lines/frame, 320,000 lines/s, 1 viewer");
    s.rate = 320000;
    list.append(s);
    // Agents as fast as they can: more than one core can take in and deliver, so the
    // viewer is expected to fall behind and get slow_consumer gaps, never silent loss.
    s = Scenario();
    s.name = QStringLiteral("saturation-viewer");
    s.description = QStringLiteral("16 agents x 100 lines/frame, max rate, 1 viewer");
    list.append(s);
    s = Scenario();
    s.name = QStringLiteral("throughput-noviewer");
    s.description = QStringLiteral("16 agents x 100 lines/frame, max rate, no viewer");
    s.viewer = false;
    list.append(s);
    s = Scenario();
    s.name = QStringLiteral("small-frames");
    s.description = QStringLiteral("16 agents x 1 line/frame, 120,000 lines/s, 1 viewer");
    s.linesPerFrame = 1;
    s.rate = 120000;
    list.append(s);
    s = Scenario();
    s.name = QStringLiteral("saturation-small-frames");
    s.description = QStringLiteral("16 agents x 1 line/frame, max rate, 1 viewer");
    s.linesPerFrame = 1;
    list.append(s);
    s = Scenario();
    s.name = QStringLiteral("latency");
    s.description = QStringLiteral("20,000 lines/s, 16 agents x 10 lines/frame, 1 viewer");
    s.linesPerFrame = 10;
    s.rate = 20000;
    list.append(s);
    s = Scenario();
    s.name = QStringLiteral("memory");
    s.description = QStringLiteral("1,000,000 retained 100-byte lines (16 x 62,500), no viewer");
    s.viewer = false;
    s.retentionLinesPerAgent = 62500;
    s.linesPerAgent = 62500;
    s.memory = true;
    list.append(s);
    return list;
}

QList<Target> targetsOf(const QString& scenario)
{
    if (scenario == QLatin1String("throughput-viewer")) {
        return {
            {QStringLiteral("ingest_lps"), QStringLiteral("ingested lines/s"), 300000, true},
            {QStringLiteral("delivered_steady_lps"), QStringLiteral("delivered lines/s (steady window)"), 300000, true},
            {QStringLiteral("gap_lines"), QStringLiteral("lines the viewer missed (gaps)"), 0, false},
            {QStringLiteral("silent_loss"), QStringLiteral("lines lost without a gap"), 0, false}};
    }
    if (scenario.startsWith(QLatin1String("saturation")))
        return {{QStringLiteral("silent_loss"), QStringLiteral("lines lost without a gap"), 0, false}};
    if (scenario == QLatin1String("throughput-noviewer"))
        return {{QStringLiteral("ingest_lps"), QStringLiteral("ingested lines/s"), 500000, true}};
    if (scenario == QLatin1String("small-frames")) {
        return {
            {QStringLiteral("ingest_lps"), QStringLiteral("ingested lines/s"), 100000, true},
            {QStringLiteral("delivered_steady_lps"), QStringLiteral("delivered lines/s (steady window)"), 100000, true},
            {QStringLiteral("gap_lines"), QStringLiteral("lines the viewer missed (gaps)"), 0, false},
            {QStringLiteral("silent_loss"), QStringLiteral("lines lost without a gap"), 0, false}};
    }
    if (scenario == QLatin1String("latency")) {
        return {{QStringLiteral("latency_p99_ms"), QStringLiteral("p99 latency ms"), 20, false},
                {QStringLiteral("silent_loss"), QStringLiteral("lines lost without a gap"), 0, false}};
    }
    if (scenario == QLatin1String("memory"))
        return {{QStringLiteral("rss_overhead_per_line"), QStringLiteral("RSS bytes/line beyond text"), 64, false}};
    return {};
}

QString formatValue(double v)
{
    if (std::isnan(v))
        return QStringLiteral("-");
    if (std::fabs(v) >= 1000)
        return QString::number(qint64(std::llround(v)));
    return QString::number(v, 'f', std::fabs(v) >= 100 ? 1 : 2);
}

} // namespace

int main(int argc, char* argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("bench_host"));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Benchmarks agentdeck-host (docs/benchmarks.md)."));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("scenario"),
                                 QStringLiteral("Scenarios to run (default all): throughput-viewer, "
                                                "saturation-viewer, throughput-noviewer, small-frames, "
                                                "saturation-small-frames, latency, memory; and soak, run only "
                                                "when named (--duration defaults to 1800 for it)."));
    const QCommandLineOption repeatOption(QStringLiteral("repeat"), QStringLiteral("Runs per scenario (3)."),
                                          QStringLiteral("N"), QStringLiteral("3"));
    const QCommandLineOption durationOption(QStringLiteral("duration"),
                                            QStringLiteral("Seconds of load per run (10; soak: 1800)."),
                                            QStringLiteral("S"), QStringLiteral("10"));
    const QCommandLineOption threadsOption(QStringLiteral("loadgen-threads"),
                                           QStringLiteral("Sending threads of agentdeck-loadgen (1)."),
                                           QStringLiteral("N"), QStringLiteral("1"));
    const QCommandLineOption hostOption(QStringLiteral("host"), QStringLiteral("agentdeck-host to benchmark."),
                                        QStringLiteral("PATH"), QStringLiteral(AGENTDECK_HOST_PATH));
    const QCommandLineOption jsonOption(
        QStringLiteral("json"), QStringLiteral("Also write every run's values to FILE."), QStringLiteral("FILE"));
    const QCommandLineOption verboseOption(QStringLiteral("verbose"),
                                           QStringLiteral("Print every value of every run."));
    parser.addOptions({repeatOption, durationOption, threadsOption, hostOption, jsonOption, verboseOption});
    parser.process(app);

    const Paths paths{parser.value(hostOption), QStringLiteral(AGENTDECK_LOADGEN_PATH),
                      QStringLiteral(AGENTDECK_BENCHVIEWER_PATH)};
    const int repeat = std::max(1, parser.value(repeatOption).toInt());
    const double duration = std::max(1.0, parser.value(durationOption).toDouble());
    const bool verbose = parser.isSet(verboseOption);

    QList<Scenario> scenarios = allScenarios();
    QStringList wanted = parser.positionalArguments();
    const bool soak = wanted.removeAll(QStringLiteral("soak")) > 0;
    if (soak && wanted.isEmpty())
        scenarios.clear();
    if (!wanted.isEmpty()) {
        QList<Scenario> chosen;
        for (const QString& name : wanted) {
            auto it = std::find_if(scenarios.cbegin(), scenarios.cend(),
                                   [&name](const Scenario& s) { return s.name == name; });
            if (it == scenarios.cend()) {
                std::fprintf(stderr, "bench_host: unknown scenario %s\n", name.toUtf8().constData());
                return 2;
            }
            chosen.append(*it);
        }
        scenarios = chosen;
    }

    utsname uts{};
    uname(&uts);
    std::printf("machine: %d CPUs (nproc), %s, Linux %s, Qt %s\n", QThread::idealThreadCount(),
                cpuModel().toUtf8().constData(), uts.release, qVersion());
    std::printf("load average at start: %s\n", loadAverage().toUtf8().constData());
    std::printf("host: %s\n\n", paths.host.toUtf8().constData());
    std::fflush(stdout);

    const int loadgenThreads = std::max(1, parser.value(threadsOption).toInt());
    int missed = 0;
    if (soak) {
        SoakRunner soakRunner(paths, parser.isSet(durationOption) ? duration : 1800, loadgenThreads);
        QString error;
        if (!soakRunner.run(&error)) {
            std::printf("soak: FAILED: %s\n", error.toUtf8().constData());
            ++missed;
        }
        if (scenarios.isEmpty())
            return missed > 0 ? 1 : 0;
        std::printf("\n");
    }

    BenchRunner runner(paths, duration, loadgenThreads);
    QJsonArray allRuns;
    struct Row
    {
        Scenario scenario;
        QMap<QString, std::vector<double>> samples;
        int failures = 0;
    };
    QList<Row> rows;
    for (const Scenario& scenario : scenarios) {
        Row row{scenario, {}, 0};
        for (int r = 0; r < repeat; ++r) {
            const QString load = loadAverage();
            Values values;
            QString error;
            if (!runner.run(scenario, &values, &error)) {
                ++row.failures;
                std::printf("%-20s run %d: FAILED: %s\n", scenario.name.toUtf8().constData(), r + 1,
                            error.toUtf8().constData());
                std::fflush(stdout);
                continue;
            }
            QJsonObject record{{QStringLiteral("scenario"), scenario.name},
                               {QStringLiteral("run"), r + 1},
                               {QStringLiteral("loadavg_before"), load}};
            QStringList brief;
            for (auto it = values.constBegin(); it != values.constEnd(); ++it) {
                row.samples[it.key()].push_back(it.value());
                record.insert(it.key(), it.value());
                if (verbose)
                    brief << it.key() + QLatin1Char('=') + formatValue(it.value());
            }
            allRuns.append(record);
            if (!verbose) {
                for (const char* key :
                     {"ingest_lps", "delivered_steady_lps", "gap_lines", "silent_loss", "latency_p50_ms",
                      "latency_p99_ms", "host_cpu_pct", "host_peak_rss_mb", "rss_overhead_per_line"}) {
                    const QString k = QLatin1String(key);
                    if (values.contains(k))
                        brief << k + QLatin1Char('=') + formatValue(values.value(k));
                }
            }
            std::printf("%-20s run %d (load %s): %s\n", scenario.name.toUtf8().constData(), r + 1,
                        load.toUtf8().constData(), brief.join(QLatin1Char(' ')).toUtf8().constData());
            std::fflush(stdout);
        }
        rows.append(row);
    }

    std::printf("\nMedians of %d run(s), %g s of load each:\n\n", repeat, duration);
    std::printf("| scenario | metric | median | target | result |\n|---|---|---|---|---|\n");
    for (const Row& row : rows) {
        const QList<Target> targets = targetsOf(row.scenario.name);
        QStringList shown;
        for (const Target& t : targets) {
            const double m = median(row.samples.value(t.metric));
            const bool ok = !std::isnan(m) && (t.atLeast ? m >= t.value : m <= t.value);
            missed += !ok;
            shown << t.metric;
            std::printf("| %s | %s | %s | %s %s | %s |\n", row.scenario.name.toUtf8().constData(),
                        t.label.toUtf8().constData(), formatValue(m).toUtf8().constData(),
                        t.atLeast ? ">=" : "<=", formatValue(t.value).toUtf8().constData(), ok ? "met" : "MISSED");
        }
        for (const char* key :
             {"ingest_lps", "delivered_steady_lps", "delivered_lps", "delivered_lines", "gap_lines", "latency_p50_ms",
              "latency_p99_ms", "latency_max_ms", "host_cpu_pct", "host_cpu_us_per_line", "loadgen_cpu_s",
              "viewer_cpu_s", "host_peak_rss_mb", "rss_bytes_per_line"}) {
            const QString k = QLatin1String(key);
            if (shown.contains(k) || !row.samples.contains(k))
                continue;
            std::printf("| %s | %s | %s | | |\n", row.scenario.name.toUtf8().constData(), key,
                        formatValue(median(row.samples.value(k))).toUtf8().constData());
        }
        if (row.failures > 0)
            std::printf("| %s | failed runs | %d | 0 | MISSED |\n", row.scenario.name.toUtf8().constData(),
                        row.failures);
        missed += row.failures;
    }
    std::fflush(stdout);

    if (parser.isSet(jsonOption)) {
        QFile out(parser.value(jsonOption));
        if (out.open(QIODevice::WriteOnly))
            out.write(QJsonDocument(allRuns).toJson());
    }
    return missed > 0 ? 1 : 0;
}
