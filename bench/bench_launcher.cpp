// SPDX-License-Identifier: GPL-3.0-or-later
// bench_launcher: how fast the host takes in a launched child's output.
//
// A test bot writes N numbered 50-byte lines as fast as it can (large writes).
// Each run measures, in the same process and on the same bot:
//   baseline  QProcess reading the pipe and throwing the bytes away;
//   host      a HostServer that launched the bot: read, split, repair, infer
//             levels, redact, number, store in memory and write the log file.
// The host's time runs from the spawn until it has taken in every line. Then
// the log files are read back and every line is checked: count and content.
//
// Usage: bench_launcher [lines (default 5000000)] [runs (default 3)]
#include "server/engine/hostserver.h"
#include "server/store/logfile.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QProcess>
#include <QTemporaryDir>
#include <QTimer>
#include <algorithm>
#include <cstdio>
#include <vector>

namespace {

QByteArray botLine(qint64 n)
{
    QByteArray line = "line " + QByteArray::number(n).rightJustified(9, '0') + ' ';
    line.append(49 - line.size(), 'x');
    return line;
}

QStringList botArgs(qint64 lines)
{
    return {QStringLiteral("--flood"), QStringLiteral("--lines"), QString::number(lines)};
}

double median(std::vector<double> values)
{
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

/// Lines per second of a QProcess that only drains the pipe.
double baseline(qint64 lines)
{
    QProcess process;
    qint64 bytes = 0;
    QByteArray buffer(256 * 1024, Qt::Uninitialized);
    QObject::connect(&process, &QProcess::readyReadStandardOutput, [&] {
        qint64 n;
        while ((n = process.read(buffer.data(), buffer.size())) > 0)
            bytes += n;
    });
    QElapsedTimer timer;
    timer.start();
    process.start(QStringLiteral(AGENTDECK_TESTBOT), botArgs(lines));
    process.waitForFinished(-1);
    while (process.bytesAvailable() > 0 || process.waitForReadyRead(0))
        bytes += process.readAll().size();
    const double seconds = timer.nsecsElapsed() / 1e9;
    if (bytes != lines * 50)
        std::printf("baseline: expected %lld bytes, got %lld\n", lines * 50, bytes);
    return lines / seconds;
}

struct HostRun
{
    double linesPerSecond = 0;
    bool verified = false;
};

HostRun hostRun(qint64 lines)
{
    QTemporaryDir dir;
    HostConfig config;
    config.port = 0;
    config.token = QStringLiteral("bench");
    config.logDirectory = dir.path();
    AgentDefinition bot;
    bot.id = "flood";
    bot.command = QStringLiteral(AGENTDECK_TESTBOT);
    bot.args = botArgs(lines);
    bot.autorestart = AgentDefinition::Restart::Never;
    bot.startsecs = 0;
    config.agents.push_back(bot);

    HostServer host(config);
    QElapsedTimer timer;
    QEventLoop loop;
    QTimer poll;
    // The launcher writes a "started" line and an "exited" line besides the output.
    const quint64 expected = quint64(lines) + 2;
    QObject::connect(&poll, &QTimer::timeout, [&] {
        if (host.linesIngested() >= expected)
            loop.quit();
    });
    poll.start(1);
    timer.start();
    QString error;
    if (!host.start(&error)) {
        std::printf("host: %s\n", qPrintable(error));
        return {};
    }
    loop.exec();
    HostRun run;
    run.linesPerSecond = lines / (timer.nsecsElapsed() / 1e9);
    host.stop();

    // Every line, in order, from the files on disk.
    LogFile file(LogFile::pathFor(dir.path(), "flood"), config.logFileMaxBytes, config.logFileBackups);
    std::vector<StoredLine> all;
    qint64 before = 0;
    qint64 checked = 0;
    bool ok = true;
    qint64 next = lines; // checked from the newest down
    while (true) {
        std::vector<StoredLine> page;
        std::vector<SeqGap> gaps;
        bool more = false;
        if (!file.readBefore(before, LogFile::MaxReadLimit, &page, &gaps, &more, &error) || page.empty())
            break;
        for (auto it = page.rbegin(); it != page.rend(); ++it) {
            if (it->source == "agentdeck")
                continue;
            // Line n of the bot is seq n + 1, after the "started" line.
            if (it->seq != next + 1 || it->text != botLine(next)) {
                if (ok)
                    std::printf("mismatch at seq %lld: %s\n", it->seq, it->text.left(60).constData());
                ok = false;
            }
            --next;
            ++checked;
        }
        before = page.front().seq;
        if (!more)
            break;
    }
    run.verified = ok && checked == lines && next == 0;
    if (!run.verified)
        std::printf("verified %lld of %lld lines from the files (%s)\n", checked, lines, qPrintable(error));
    return run;
}

} // namespace

int main(int argc, char* argv[])
{
    QCoreApplication app(argc, argv);
    const qint64 lines = argc > 1 ? QByteArray(argv[1]).toLongLong() : 5000000;
    const int runs = argc > 2 ? QByteArray(argv[2]).toInt() : 3;
    std::vector<double> base, host;
    bool allVerified = true;
    for (int i = 0; i < runs; ++i) {
        base.push_back(baseline(lines));
        const HostRun run = hostRun(lines);
        host.push_back(run.linesPerSecond);
        allVerified = allVerified && run.verified;
        std::printf("run %d: baseline %.0f lines/s, host %.0f lines/s, files %s\n", i + 1, base.back(), host.back(),
                    run.verified ? "verified" : "NOT verified");
        std::fflush(stdout);
    }
    std::printf("median of %d: baseline %.0f lines/s, host (capture, store, file) %.0f lines/s, %lld lines each, "
                "every line verified on disk: %s\n",
                runs, median(base), median(host), lines, allVerified ? "yes" : "no");
    return allVerified ? 0 : 1;
}
