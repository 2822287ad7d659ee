// SPDX-License-Identifier: GPL-3.0-or-later
// bench_bridges: what following a file and bridging BettaFish cost the host.
//
//   file     a writer process appends 100,000 lines/s to a file for 10 s; a
//            HostServer in this process follows it (and writes its own log
//            files). CPU of this process over the run, against the same host
//            following an idle file for as long (the baseline, same run).
//   latency  1,000 lines/s, each carrying the time it was written; a viewer in
//            this process measures write-to-viewer time: median and p99.
//   bridge   the BettaFish stand-in (tests/python/fake_bettafish.py) writes
//            5,000 lines/s for 10 s (file, then one Socket.IO event per line);
//            the host bridges it with logs_dir, then with HTTP polling; the
//            baseline is a bare QWebSocket in this process that only receives
//            the same events (joins, answers pings, counts).
// Every run checks that the host took in exactly the lines written.
//
// Usage: bench_bridges [runs (default 3)] [file|latency|bridge (default: all)]
#include "server/engine/hostconfig.h"
#include "server/engine/hostserver.h"
#include "server/protocol/agentdefinition.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QProcess>
#include <QTemporaryDir>
#include <QTimer>
#include <QWebSocket>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sys/resource.h>
#include <vector>

namespace {

const QString Token = QStringLiteral("bench-bridges-token-0123456789abcdef");

double cpuSeconds()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

void waitMs(int ms)
{
    QEventLoop loop;
    QTimer::singleShot(ms, &loop, &QEventLoop::quit);
    loop.exec();
}

/// Appends `rate` lines a second for `seconds` to path, in batches every 10 ms; each line
/// carries its write time in microseconds.
const char* WriterScript = R"(
import sys, time
path, rate, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
total = int(rate * seconds)
start = time.monotonic()
n = 0
with open(path, 'a', buffering=1 << 20) as f:
    while n < total:
        due = min(total, int((time.monotonic() - start) * rate) + 1)
        if due > n:
            now = int(time.time() * 1e6)
            f.write(''.join('%d t=%d worker line with some ordinary log text in it\n' % (i, now) for i in range(n + 1, due + 1)))
            f.flush()
            n = due
        time.sleep(0.005)
)";

QProcess* startWriter(const QString& path, int rate, double seconds)
{
    auto* writer = new QProcess;
    writer->start(QStringLiteral("/usr/bin/python3"),
                  {QStringLiteral("-c"), QString::fromLatin1(WriterScript), path, QString::number(rate),
                   QString::number(seconds)});
    writer->waitForStarted();
    return writer;
}

std::unique_ptr<HostServer> followingHost(const QString& logs, const QString& path)
{
    HostConfig config;
    config.port = 0;
    config.token = Token;
    config.logDirectory = logs;
    AgentDefinition worker;
    worker.id = "worker";
    worker.follow = AgentDefinition::Follow{path, "plain", 0};
    config.agents.push_back(worker);
    auto host = std::make_unique<HostServer>(config);
    host->start();
    return host;
}

/// CPU per wall second (% of one core) of the host following a file written at rate.
double followCost(int rate, double seconds, bool write, quint64* taken)
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("worker.log"));
    QFile(path).open(QIODevice::WriteOnly);
    auto host = followingHost(dir.filePath(QStringLiteral("logs")), path);
    waitMs(300);
    const quint64 before = host->linesIngested();
    const double cpu0 = cpuSeconds();
    QElapsedTimer wall;
    wall.start();
    if (write) {
        std::unique_ptr<QProcess> writer(startWriter(path, rate, seconds));
        while (writer->state() != QProcess::NotRunning)
            waitMs(50);
    } else {
        waitMs(int(seconds * 1000));
    }
    const quint64 expected = write ? quint64(rate * seconds) : 0;
    QElapsedTimer settle;
    settle.start();
    while (host->linesIngested() - before < expected && settle.elapsed() < 10000)
        waitMs(10);
    const double cost = (cpuSeconds() - cpu0) / (wall.elapsed() / 1000.0) * 100;
    *taken = host->linesIngested() - before;
    return cost;
}

/// Write-to-viewer latencies in ms of lines written at rate for seconds.
std::vector<double> latencies(int rate, double seconds)
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("worker.log"));
    QFile(path).open(QIODevice::WriteOnly);
    auto host = followingHost(dir.filePath(QStringLiteral("logs")), path);
    QWebSocket viewer;
    std::vector<double> ms;
    QObject::connect(&viewer, &QWebSocket::textMessageReceived, [&](const QString& text) {
        const double now = double(std::chrono::duration_cast<std::chrono::microseconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count())
            / 1000.0;
        const QJsonObject m = QJsonDocument::fromJson(text.toUtf8()).object();
        if (m.value(QStringLiteral("type")).toString() == QLatin1String("welcome")) {
            viewer.sendTextMessage(QStringLiteral(R"({"type":"subscribe","agents":["*"],"history":0})"));
            return;
        }
        if (m.value(QStringLiteral("type")).toString() != QLatin1String("log"))
            return;
        for (const QJsonValue& line : m.value(QStringLiteral("lines")).toArray()) {
            const QString t = line[QStringLiteral("text")].toString();
            const qsizetype at = t.indexOf(QLatin1String(" t="));
            if (at < 0)
                continue;
            const double written = t.mid(at + 3, 16).toDouble() / 1000.0;
            ms.push_back(now - written);
        }
    });
    QObject::connect(&viewer, &QWebSocket::connected, [&] {
        viewer.sendTextMessage(
            QStringLiteral(R"({"type":"hello","protocol":1,"role":"viewer","token":"%1"})").arg(Token));
    });
    viewer.open(host->url());
    waitMs(500);
    std::unique_ptr<QProcess> writer(startWriter(path, rate, seconds));
    while (writer->state() != QProcess::NotRunning)
        waitMs(50);
    waitMs(500);
    return ms;
}

QJsonObject call(QNetworkAccessManager& http, const QString& url, const QByteArray& body = {})
{
    QNetworkRequest request{QUrl(url)};
    request.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
    QNetworkReply* reply = body.isEmpty() ? http.get(request) : http.post(request, body);
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    reply->deleteLater();
    return QJsonDocument::fromJson(reply->readAll()).object();
}

enum class Bridging { RawSocket, Files, Http };

const char* bridgingName(Bridging how)
{
    switch (how) {
    case Bridging::RawSocket:
        return "bare QWebSocket, events only";
    case Bridging::Files:
        return "socket + logs_dir";
    case Bridging::Http:
        return "socket + HTTP";
    }
    return "";
}

/// CPU (% of one core) of a host bridging the stand-in while it writes rate lines/s.
double bridgeCost(int rate, double seconds, Bridging how, bool write, quint64* taken)
{
    const bool files = how == Bridging::Files;
    QTemporaryDir dir;
    QProcess server;
    server.start(QStringLiteral("/usr/bin/python3"),
                 {QStringLiteral(AGENTDECK_SOURCE_DIR "/tests/python/fake_bettafish.py"), QStringLiteral("--logs-dir"),
                  dir.path(), QStringLiteral("--port"), QStringLiteral("0")});
    server.waitForStarted();
    QByteArray out;
    while (!out.contains('\n') && server.waitForReadyRead(20000))
        out += server.readAllStandardOutput();
    const QString url = QStringLiteral("http://127.0.0.1:%1").arg(out.mid(5).trimmed().toInt());
    HostConfig config;
    config.port = 0;
    config.token = Token;
    BridgeSpec bridge;
    bridge.url = url;
    bridge.logsDir = files ? dir.path() : QString();
    config.bridges.push_back(bridge);
    std::unique_ptr<HostServer> bridging;
    QWebSocket raw;
    quint64 rawEvents = 0;
    if (how == Bridging::RawSocket) {
        QObject::connect(&raw, &QWebSocket::textMessageReceived, [&](const QString& text) {
            if (text.startsWith(QLatin1Char('0')))
                raw.sendTextMessage(QStringLiteral("40"));
            else if (text == QLatin1String("2"))
                raw.sendTextMessage(QStringLiteral("3"));
            else if (text.startsWith(QLatin1String("42[\"console_output\"")))
                ++rawEvents;
        });
        QUrl socket(url);
        socket.setScheme(QStringLiteral("ws"));
        socket.setPath(QStringLiteral("/socket.io/"));
        socket.setQuery(QStringLiteral("EIO=4&transport=websocket"));
        raw.open(socket);
    } else {
        bridging = std::make_unique<HostServer>(config);
        bridging->start();
    }
    const auto ingested = [&] {
        return bridging ? bridging->linesIngested() : rawEvents;
    };
    waitMs(2000);
    QNetworkAccessManager http;
    http.setProxy(QNetworkProxy::NoProxy);
    const quint64 before = ingested();
    const double cpu0 = cpuSeconds();
    QElapsedTimer wall;
    wall.start();
    if (write) {
        call(http, url + QStringLiteral("/_test/generate"),
             QStringLiteral(R"({"app":"insight","rate":%1,"seconds":%2})").arg(rate).arg(seconds).toUtf8());
        waitMs(500);
        while (call(http, url + QStringLiteral("/_test/generate_status")).value(QStringLiteral("running")).toBool())
            waitMs(200);
    } else {
        waitMs(int(seconds * 1000));
    }
    const quint64 expected = write ? quint64(rate * seconds) : 0;
    QElapsedTimer settle;
    settle.start();
    while (ingested() - before < expected && settle.elapsed() < 15000)
        waitMs(20);
    const double cost = (cpuSeconds() - cpu0) / (wall.elapsed() / 1000.0) * 100;
    *taken = ingested() - before;
    server.terminate();
    server.waitForFinished();
    return cost;
}

} // namespace

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    const int runs = argc > 1 ? std::max(1, atoi(argv[1])) : 3;
    const QByteArray only = argc > 2 ? QByteArray(argv[2]) : QByteArray();
    const auto wanted = [&](const char* part) {
        return only.isEmpty() || only == part;
    };
    constexpr int FileRate = 100000;
    constexpr double Seconds = 10;
    std::vector<double> idle, busy;
    for (int run = 0; run < runs && wanted("file"); ++run) {
        quint64 taken = 0;
        idle.push_back(followCost(FileRate, Seconds, false, &taken));
        busy.push_back(followCost(FileRate, Seconds, true, &taken));
        std::printf("file run %d: idle %.1f %%, %d lines/s %.1f %% of a core, %llu of %d lines taken\n", run + 1,
                    idle.back(), FileRate, busy.back(), (unsigned long long)taken, int(FileRate * Seconds));
        std::fflush(stdout);
    }
    if (wanted("file"))
        std::printf("file: median %.1f %% of a core at %d lines/s (idle baseline %.1f %%)\n", median(busy), FileRate,
                    median(idle));

    const std::vector<double> ms = wanted("latency") ? latencies(1000, 10) : std::vector<double>();
    if (!ms.empty()) {
        std::vector<double> sorted = ms;
        std::sort(sorted.begin(), sorted.end());
        std::printf("latency: %zu lines, median %.1f ms, p99 %.1f ms, max %.1f ms\n", sorted.size(),
                    sorted[sorted.size() / 2], sorted[size_t(sorted.size() * 0.99)], sorted.back());
    }

    constexpr int BridgeRate = 5000;
    for (const Bridging how : {Bridging::RawSocket, Bridging::Files, Bridging::Http}) {
        if (!wanted("bridge"))
            break;
        std::vector<double> bridgeIdle, bridgeBusy;
        for (int run = 0; run < runs; ++run) {
            quint64 taken = 0;
            bridgeIdle.push_back(bridgeCost(BridgeRate, Seconds, how, false, &taken));
            bridgeBusy.push_back(bridgeCost(BridgeRate, Seconds, how, true, &taken));
            std::printf("bridge (%s) run %d: idle %.1f %%, %d lines/s %.1f %% of a core, %llu of %d lines taken\n",
                        bridgingName(how), run + 1, bridgeIdle.back(), BridgeRate, bridgeBusy.back(),
                        (unsigned long long)taken, int(BridgeRate * Seconds));
            std::fflush(stdout);
        }
        std::printf("bridge (%s): median %.1f %% of a core at %d lines/s (idle baseline %.1f %%)\n", bridgingName(how),
                    median(bridgeBusy), BridgeRate, median(bridgeIdle));
    }
    return 0;
}
