// SPDX-License-Identifier: GPL-3.0-or-later
// agentdeck-loadgen: many protocol agents publishing console lines to a host as
// fast as it takes them (or at a set rate), for the host benchmark (docs/benchmarks.md).
//
// Each line's text starts with "n=<counter> t=<CLOCK_MONOTONIC ns> " so that
// agentdeck-benchviewer can check order and measure end-to-end latency.
#include "server/protocol/protocol.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QList>
#include <QMutex>
#include <QObject>
#include <QThread>
#include <QTimer>
#include <QUrl>
#include <QWebSocket>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <vector>

namespace {

qint64 monotonicNs()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return qint64(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

struct Options
{
    QUrl url;
    QString token;
    int agents = 16;
    int linesPerFrame = 100;
    double rate = 0; // lines per second across all agents; 0: as fast as the host takes them
    double duration = 10;
    int lineBytes = 100;
    qint64 linesPerAgent = 0; // stop each agent after this many lines; 0: run for the duration
    QByteArray idPrefix = "bench-";
    int threads = 1;
    qint64 maxBuffer = 1 << 20; // unsent bytes per socket above which an agent waits
};

/// One agent connection and its counters.
struct AgentConn
{
    QWebSocket* socket = nullptr;
    QByteArray id;
    qint64 nextCounter = 1;
    qint64 sent = 0;
    bool welcomed = false;
    bool synced = false;
    bool closed = false;
};

/// Writes the decimal digits of value at p; returns the end.
char* writeNumber(char* p, qint64 value)
{
    char digits[24];
    int n = 0;
    do {
        digits[n++] = char('0' + value % 10);
        value /= 10;
    } while (value > 0);
    while (n > 0)
        *p++ = digits[--n];
    return p;
}

/// Copies the literal s (without its terminating zero) to p; returns the end.
template <size_t N>
char* writeLiteral(char* p, const char (&s)[N])
{
    std::memcpy(p, s, N - 1);
    return p + N - 1;
}

/*
 * The agents of one thread. Sends only while a socket has less than maxBuffer
 * unsent bytes, so that "sent" means handed to the kernel rather than queued in
 * our memory, and a slow host shows as a lower rate rather than as a backlog.
 */
class LoadWorker final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LoadWorker)

public:
    LoadWorker(const Options& options, const QList<QByteArray>& ids, double rate, QObject* parent = nullptr)
        : QObject(parent)
        , m_options(options)
        , m_ids(ids)
        , m_rate(rate)
    { }

    /// Called from the owning thread once everything is finished.
    const std::vector<AgentConn>& agents() const { return m_agents; }
    qint64 lastSendNs() const { return m_lastSendNs; }
    qint64 syncedNs() const { return m_syncedNs; }
    QString errorString() const { return m_error; }

public Q_SLOTS:
    void connectAgents()
    {
        m_agents.resize(size_t(m_ids.size()));
        m_timer = new QTimer(this);
        m_timer->setTimerType(Qt::PreciseTimer);
        connect(m_timer, &QTimer::timeout, this, &LoadWorker::onTick);
        buildFiller();
        for (size_t i = 0; i < m_agents.size(); ++i) {
            AgentConn& a = m_agents[i];
            a.id = m_ids[qsizetype(i)];
            a.socket = new QWebSocket(QString(), QWebSocketProtocol::VersionLatest, this);
            QWebSocket* socket = a.socket;
            connect(socket, &QWebSocket::connected, this, [this, i] { onConnected(i); });
            connect(socket, &QWebSocket::textMessageReceived, this,
                    [this, i](const QString& message) { onMessage(i, message); });
            connect(socket, &QWebSocket::bytesWritten, this, [this, i](qint64) {
                if (m_running && m_rate <= 0)
                    fill(m_agents[i]);
            });
            connect(socket, &QWebSocket::disconnected, this, [this, i] { onDisconnected(i); });
            socket->open(m_options.url);
        }
    }

    void startSending(qint64 endNs)
    {
        m_endNs = endNs;
        m_lastTickNs = monotonicNs();
        m_running = true;
        m_timer->start(1);
        if (m_rate <= 0) {
            for (AgentConn& a : m_agents)
                fill(a);
        }
    }

Q_SIGNALS:
    void agentsReady();
    void finished();
    void failed(const QString& error);

private:
    void buildFiller()
    {
        static const char words[] = "worker.pool dispatch job payload chunk processed ok lorem ipsum dolor sit amet ";
        const int size = std::max(m_options.lineBytes, 1);
        m_filler.reserve(size);
        while (m_filler.size() < size)
            m_filler.append(words, qsizetype(std::min<size_t>(sizeof(words) - 1, size_t(size - m_filler.size()))));
    }

    void onConnected(size_t i)
    {
        const QByteArray agent = "{\"id\":\"" + m_agents[i].id + "\",\"name\":\"Bench " + m_agents[i].id + "\"}";
        m_agents[i].socket->sendTextMessage(
            QString::fromUtf8(Protocol::helloMessage("agent", m_options.token.toUtf8(), agent)));
    }

    void onMessage(size_t i, const QString& message)
    {
        AgentConn& a = m_agents[i];
        if (!a.welcomed) {
            if (!message.contains(QLatin1String("\"welcome\""))) {
                fail(QStringLiteral("%1: expected welcome, got %2").arg(QLatin1String(a.id), message.left(200)));
                return;
            }
            // Number on from what the host already has, so that counters equal host seqs.
            const qsizetype at = message.indexOf(QLatin1String("\"log\":"));
            if (at >= 0) {
                qint64 resume = 0;
                for (qsizetype p = at + 6; p < message.size() && message[p].isDigit(); ++p)
                    resume = resume * 10 + message[p].digitValue();
                a.nextCounter = resume + 1;
            }
            a.welcomed = true;
            if (++m_welcomed == int(m_agents.size()))
                Q_EMIT agentsReady();
            return;
        }
        // The answer to the sync message: the host has handled every frame before it.
        if (message.contains(QLatin1String("bench-sync"))) {
            a.synced = true;
            a.socket->close(QWebSocketProtocol::CloseCodeNormal);
            if (++m_syncedCount == int(m_agents.size())) {
                m_syncedNs = monotonicNs();
                m_timer->stop();
                Q_EMIT finished();
            }
            return;
        }
        if (message.contains(QLatin1String("\"error\""))) {
            std::fprintf(stderr, "agentdeck-loadgen: %s: %s\n", a.id.constData(),
                         message.left(300).toUtf8().constData());
        }
    }

    void onDisconnected(size_t i)
    {
        AgentConn& a = m_agents[i];
        a.closed = true;
        if (!a.synced)
            fail(QStringLiteral("%1: disconnected: %2").arg(QLatin1String(a.id), a.socket->closeReason()));
    }

    void fail(const QString& error)
    {
        if (!m_error.isEmpty())
            return;
        m_error = error;
        m_running = false;
        if (m_timer)
            m_timer->stop();
        Q_EMIT failed(error);
    }

    bool wantsMore(const AgentConn& a) const
    {
        return m_options.linesPerAgent <= 0 || a.sent < m_options.linesPerAgent;
    }

    /// Sends one frame of up to linesPerFrame lines; false when the agent is done.
    bool sendFrame(AgentConn& a)
    {
        int count = m_options.linesPerFrame;
        if (m_options.linesPerAgent > 0)
            count = int(std::min<qint64>(count, m_options.linesPerAgent - a.sent));
        if (count <= 0)
            return false;
        // Written through a pointer into a buffer sized for the worst case: the
        // generator must cost the machine far less than the host it measures.
        const qsizetype perLine = 64 + std::max(m_options.lineBytes, 48);
        m_frame.resize(32 + count * perLine);
        char* const begin = m_frame.data();
        char* p = writeLiteral(begin, "{\"type\":\"log\",\"lines\":[");
        const qint64 t = monotonicNs();
        for (int k = 0; k < count; ++k) {
            if (k > 0)
                *p++ = ',';
            p = writeLiteral(p, "{\"text\":\"");
            char* const text = p;
            p = writeLiteral(p, "n=");
            p = writeNumber(p, a.nextCounter++);
            p = writeLiteral(p, " t=");
            p = writeNumber(p, t);
            *p++ = ' ';
            const qsizetype used = p - text;
            if (used < m_options.lineBytes) {
                std::memcpy(p, m_filler.constData(), size_t(m_options.lineBytes - used));
                p += m_options.lineBytes - used;
            }
            p = writeLiteral(p, "\"}");
        }
        p = writeLiteral(p, "]}");
        m_frame.truncate(p - begin);
        a.socket->sendTextMessage(QString::fromLatin1(m_frame));
        a.sent += count;
        m_lastSendNs = monotonicNs();
        return true;
    }

    /// As fast as possible: tops the socket's buffer up.
    void fill(AgentConn& a)
    {
        if (!m_running || a.synced)
            return;
        if (monotonicNs() >= m_endNs) {
            finishSending();
            return;
        }
        while (a.socket->bytesToWrite() < m_options.maxBuffer && wantsMore(a)) {
            if (!sendFrame(a))
                break;
        }
        checkDone();
    }

    void onTick()
    {
        if (!m_running)
            return;
        const qint64 now = monotonicNs();
        if (now >= m_endNs) {
            finishSending();
            return;
        }
        if (m_rate <= 0) {
            for (AgentConn& a : m_agents)
                fill(a);
            return;
        }
        // Token bucket: at most 100 ms worth of lines in hand, so a stall is not made up in one burst.
        m_tokens =
            std::min(m_tokens + double(now - m_lastTickNs) * m_rate / 1e9, m_rate / 10 + m_options.linesPerFrame);
        m_lastTickNs = now;
        const size_t n = m_agents.size();
        size_t blocked = 0;
        while (m_tokens >= m_options.linesPerFrame && blocked < n) {
            AgentConn& a = m_agents[m_next++ % n];
            if (a.socket->bytesToWrite() >= m_options.maxBuffer || !wantsMore(a)) {
                ++blocked;
                continue;
            }
            blocked = 0;
            sendFrame(a);
            m_tokens -= m_options.linesPerFrame;
        }
        checkDone();
    }

    void checkDone()
    {
        if (m_options.linesPerAgent <= 0)
            return;
        for (const AgentConn& a : m_agents) {
            if (wantsMore(a))
                return;
        }
        finishSending();
    }

    /// Stops sending and asks each connection for an answer that comes after all its frames.
    void finishSending()
    {
        if (!m_running)
            return;
        m_running = false;
        // An unknown type is answered with an error carrying its id; the host handles a
        // connection's messages in order, so the answer means every frame was taken in.
        for (AgentConn& a : m_agents)
            a.socket->sendTextMessage(QStringLiteral("{\"type\":\"bench_sync\",\"id\":\"bench-sync\"}"));
    }

    Options m_options;
    QList<QByteArray> m_ids;
    double m_rate;
    std::vector<AgentConn> m_agents;
    QTimer* m_timer = nullptr;
    QByteArray m_filler;
    QByteArray m_frame;
    int m_welcomed = 0;
    int m_syncedCount = 0;
    bool m_running = false;
    qint64 m_endNs = 0;
    qint64 m_lastTickNs = 0;
    qint64 m_lastSendNs = 0;
    qint64 m_syncedNs = 0;
    double m_tokens = 0;
    size_t m_next = 0;
    QString m_error;
};

/// Runs the workers, each in a thread of its own, and reports.
class LoadGenerator final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LoadGenerator)

public:
    explicit LoadGenerator(const Options& options, QObject* parent = nullptr)
        : QObject(parent)
        , m_options(options)
    { }

    ~LoadGenerator() override
    {
        for (QThread* thread : m_threads) {
            thread->quit();
            thread->wait();
        }
    }

    void start()
    {
        const int threads = std::clamp(m_options.threads, 1, m_options.agents);
        for (int t = 0; t < threads; ++t) {
            QList<QByteArray> ids;
            for (int i = t; i < m_options.agents; i += threads)
                ids.append(m_options.idPrefix + QByteArray::number(i + 1).rightJustified(2, '0'));
            const double rate = m_options.rate * double(ids.size()) / m_options.agents;
            auto* worker = new LoadWorker(m_options, ids, rate);
            auto* thread = new QThread(this);
            worker->moveToThread(thread);
            connect(thread, &QThread::finished, worker, &QObject::deleteLater);
            connect(worker, &LoadWorker::agentsReady, this, &LoadGenerator::onWorkerReady);
            connect(worker, &LoadWorker::finished, this, &LoadGenerator::onWorkerFinished);
            connect(worker, &LoadWorker::failed, this, &LoadGenerator::onWorkerFailed);
            m_workers.append(worker);
            m_threads.append(thread);
            thread->start();
            QMetaObject::invokeMethod(worker, &LoadWorker::connectAgents, Qt::QueuedConnection);
        }
        QTimer::singleShot(30000, this, [this] {
            if (m_ready < m_workers.size())
                onWorkerFailed(QStringLiteral("agents not welcomed within 30 s"));
        });
    }

private:
    void onWorkerReady()
    {
        if (++m_ready < m_workers.size())
            return;
        m_startNs = monotonicNs();
        const qint64 endNs = m_startNs + qint64(m_options.duration * 1e9);
        for (LoadWorker* worker : m_workers) {
            QMetaObject::invokeMethod(
                worker, [worker, endNs] { worker->startSending(endNs); }, Qt::QueuedConnection);
        }
        // A host that never answers the sync must not hang the benchmark.
        QTimer::singleShot(int(m_options.duration * 1000) + 120000, this,
                           [this] { onWorkerFailed(QStringLiteral("no answer to the final sync within 120 s")); });
    }

    void onWorkerFinished()
    {
        if (++m_finished < m_workers.size())
            return;
        report();
        QCoreApplication::exit(0);
    }

    void onWorkerFailed(const QString& error)
    {
        std::fprintf(stderr, "agentdeck-loadgen: %s\n", error.toUtf8().constData());
        QCoreApplication::exit(1);
    }

    void report()
    {
        // Workers have stopped (they signalled finished); reading their counters is safe.
        qint64 total = 0;
        qint64 lastSend = 0;
        qint64 synced = 0;
        QByteArray perAgent = "{";
        std::vector<std::pair<QByteArray, qint64>> rows;
        for (LoadWorker* worker : m_workers) {
            for (const AgentConn& a : worker->agents())
                rows.emplace_back(a.id, a.sent);
            lastSend = std::max(lastSend, worker->lastSendNs());
            synced = std::max(synced, worker->syncedNs());
        }
        std::sort(rows.begin(), rows.end());
        for (const auto& row : rows) {
            if (perAgent.size() > 1)
                perAgent += ',';
            perAgent += '"' + row.first + "\":" + QByteArray::number(row.second);
            total += row.second;
        }
        perAgent += '}';
        const double sendSeconds = double(lastSend - m_startNs) / 1e9;
        const double syncSeconds = double(synced - m_startNs) / 1e9;
        std::fprintf(stderr, "agentdeck-loadgen: %lld lines in %.3f s: %.0f lines/s sent, %.0f lines/s taken in\n",
                     static_cast<long long>(total), sendSeconds, sendSeconds > 0 ? double(total) / sendSeconds : 0.0,
                     syncSeconds > 0 ? double(total) / syncSeconds : 0.0);
        std::printf("{\"tool\":\"loadgen\",\"agents\":%d,\"lines_per_frame\":%d,\"line_bytes\":%d,\"rate\":%.0f,"
                    "\"threads\":%d,\"sent_lines\":%lld,\"send_s\":%.6f,\"synced_s\":%.6f,\"send_lps\":%.0f,"
                    "\"synced_lps\":%.0f,\"sent\":%s}\n",
                    m_options.agents, m_options.linesPerFrame, m_options.lineBytes, m_options.rate,
                    int(m_workers.size()), static_cast<long long>(total), sendSeconds, syncSeconds,
                    sendSeconds > 0 ? double(total) / sendSeconds : 0.0,
                    syncSeconds > 0 ? double(total) / syncSeconds : 0.0, perAgent.constData());
        std::fflush(stdout);
    }

    Options m_options;
    QList<LoadWorker*> m_workers;
    QList<QThread*> m_threads;
    int m_ready = 0;
    int m_finished = 0;
    qint64 m_startNs = 0;
};

} // namespace

int main(int argc, char* argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("agentdeck-loadgen"));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Publishes console lines from many agents to an AgentDeck host."));
    parser.addHelpOption();
    const QCommandLineOption urlOption(QStringLiteral("url"), QStringLiteral("Host URL (ws://127.0.0.1:7700/)."),
                                       QStringLiteral("URL"), QStringLiteral("ws://127.0.0.1:7700/"));
    const QCommandLineOption tokenOption(QStringLiteral("token"), QStringLiteral("Agent token."), QStringLiteral("T"));
    const QCommandLineOption agentsOption(QStringLiteral("agents"), QStringLiteral("Agent connections (16)."),
                                          QStringLiteral("N"), QStringLiteral("16"));
    const QCommandLineOption frameOption(QStringLiteral("lines-per-frame"),
                                         QStringLiteral("Lines per log message (100)."), QStringLiteral("K"),
                                         QStringLiteral("100"));
    const QCommandLineOption rateOption(QStringLiteral("rate"),
                                        QStringLiteral("Lines per second across all agents; 0 = as fast as possible."),
                                        QStringLiteral("R"), QStringLiteral("0"));
    const QCommandLineOption durationOption(QStringLiteral("duration"), QStringLiteral("Seconds to send (10)."),
                                            QStringLiteral("S"), QStringLiteral("10"));
    const QCommandLineOption bytesOption(QStringLiteral("line-bytes"), QStringLiteral("Bytes of text per line (100)."),
                                         QStringLiteral("B"), QStringLiteral("100"));
    const QCommandLineOption countOption(QStringLiteral("lines-per-agent"),
                                         QStringLiteral("Stop each agent after N lines (0 = run for the duration)."),
                                         QStringLiteral("N"), QStringLiteral("0"));
    const QCommandLineOption prefixOption(QStringLiteral("id-prefix"), QStringLiteral("Agent id prefix (bench-)."),
                                          QStringLiteral("P"), QStringLiteral("bench-"));
    const QCommandLineOption threadsOption(QStringLiteral("threads"), QStringLiteral("Sending threads (1)."),
                                           QStringLiteral("N"), QStringLiteral("1"));
    const QCommandLineOption bufferOption(QStringLiteral("max-buffer"),
                                          QStringLiteral("Unsent bytes per connection above which it waits (1048576)."),
                                          QStringLiteral("BYTES"), QStringLiteral("1048576"));
    parser.addOptions({urlOption, tokenOption, agentsOption, frameOption, rateOption, durationOption, bytesOption,
                       countOption, prefixOption, threadsOption, bufferOption});
    parser.process(app);

    Options options;
    options.url = QUrl(parser.value(urlOption));
    options.token = parser.value(tokenOption);
    options.agents = std::max(1, parser.value(agentsOption).toInt());
    options.linesPerFrame = std::max(1, parser.value(frameOption).toInt());
    options.rate = std::max(0.0, parser.value(rateOption).toDouble());
    options.duration = std::max(0.1, parser.value(durationOption).toDouble());
    options.lineBytes = std::max(1, parser.value(bytesOption).toInt());
    options.linesPerAgent = std::max<qint64>(0, parser.value(countOption).toLongLong());
    options.idPrefix = parser.value(prefixOption).toUtf8();
    options.threads = std::max(1, parser.value(threadsOption).toInt());
    options.maxBuffer = std::max<qint64>(1024, parser.value(bufferOption).toLongLong());
    if (!options.url.isValid()) {
        std::fprintf(stderr, "agentdeck-loadgen: invalid --url\n");
        return 2;
    }

    LoadGenerator generator(options);
    generator.start();
    return app.exec();
}

#include "loadgen.moc"
