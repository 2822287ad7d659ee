// SPDX-License-Identifier: GPL-3.0-or-later
// agentdeck-benchviewer: a protocol viewer that subscribes to every agent and checks
// what agentdeck-loadgen published: host seqs contiguous (or covered by a gap),
// embedded counters rising, nothing missing; and measures end-to-end latency from
// the CLOCK_MONOTONIC time embedded in each line's text.
//
// With --snapshot it only prints the host's last log seq per agent and exits.
#include "server/protocol/json.h"
#include "server/protocol/protocol.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QHash>
#include <QSocketNotifier>
#include <QTimer>
#include <QUrl>
#include <QWebSocket>
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>
#include <unistd.h>
#include <vector>

namespace {

qint64 monotonicNs()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return qint64(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

/// Reads the decimal number after key ("n=", "t=") in text; -1 when absent.
qint64 numberAfter(QByteArrayView text, QByteArrayView key, qsizetype* from)
{
    const qsizetype at = text.indexOf(key, *from);
    if (at < 0)
        return -1;
    qsizetype p = at + key.size();
    qint64 value = 0;
    bool any = false;
    while (p < text.size() && text[p] >= '0' && text[p] <= '9') {
        value = value * 10 + (text[p] - '0');
        ++p;
        any = true;
    }
    *from = p;
    return any ? value : -1;
}

struct AgentState
{
    qint64 lastSeq = 0; // last seq received or covered by a gap
    qint64 lastCounter = 0;
    qint64 lines = 0;
    qint64 gapped = 0;
};

/// The checks and measurements of one subscribed viewer.
class BenchViewer final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(BenchViewer)

public:
    struct Options
    {
        QUrl url;
        QString token;
        QByteArray agentPrefix = "bench-";
        qint64 expectLines = -1; // total over the matching agents; -1: unknown
        bool stdinControl = false;
        bool snapshotOnly = false;
        int idleTimeoutMs = 5000;
        double maxSeconds = 600;
    };

    explicit BenchViewer(const Options& options, QObject* parent = nullptr)
        : QObject(parent)
        , m_options(options)
        , m_socket(new QWebSocket(QString(), QWebSocketProtocol::VersionLatest, this))
        , m_idleTimer(new QTimer(this))
    {
        m_latenciesUs.reserve(8 * 1024 * 1024);
        m_socket->setMaxAllowedIncomingMessageSize(256ull * 1024 * 1024);
        connect(m_socket, &QWebSocket::connected, this, &BenchViewer::onConnected);
        connect(m_socket, &QWebSocket::textMessageReceived, this, &BenchViewer::onMessage);
        connect(m_socket, &QWebSocket::disconnected, this, &BenchViewer::onDisconnected);
        m_idleTimer->setInterval(200);
        connect(m_idleTimer, &QTimer::timeout, this, &BenchViewer::onIdleCheck);
        QTimer::singleShot(int(options.maxSeconds * 1000), this, [this] {
            m_errors.append(QStringLiteral("stopped after --max-seconds"));
            finish();
        });
        if (options.stdinControl) {
            auto* notifier = new QSocketNotifier(STDIN_FILENO, QSocketNotifier::Read, this);
            connect(notifier, &QSocketNotifier::activated, this, [this, notifier] { onStdin(notifier); });
        }
    }

    void start() { m_socket->open(m_options.url); }

private:
    void onConnected()
    {
        const QByteArray hello =
            Protocol::helloMessage("viewer", m_options.token.toUtf8(), {}, ",\"client\":\"agentdeck-benchviewer\"");
        m_socket->sendTextMessage(QString::fromUtf8(hello));
    }

    void onStdin(QSocketNotifier* notifier)
    {
        char buffer[256];
        const ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
        if (n <= 0) {
            notifier->setEnabled(false);
            return;
        }
        m_stdin.append(buffer, qsizetype(n));
        qsizetype nl;
        while ((nl = m_stdin.indexOf('\n')) >= 0) {
            const QByteArray line = m_stdin.left(nl).trimmed();
            m_stdin.remove(0, nl + 1);
            if (line.startsWith("expect ")) {
                m_options.expectLines = line.mid(7).toLongLong();
                m_expectSetNs = monotonicNs();
                checkComplete();
            }
        }
    }

    void onMessage(const QString& message)
    {
        const qint64 now = monotonicNs();
        m_lastMessageNs = now;
        const QByteArray utf8 = message.toUtf8();
        m_bytes += utf8.size();
        if (!m_doc.parse(utf8)) {
            m_errors.append(QStringLiteral("unparsable message: %1").arg(message.left(200)));
            return;
        }
        const Json::Value root = m_doc.root();
        const QByteArrayView type = root["type"].toUtf8();
        if (type == "log") {
            onLog(root, now);
        } else if (type == "gap") {
            onGap(root);
        } else if (type == "snapshot") {
            onSnapshot(root);
        } else if (type == "subscribed") {
            std::printf("ready\n");
            std::fflush(stdout);
            m_idleTimer->start();
        } else if (type == "error") {
            m_errors.append(QStringLiteral("host error: %1").arg(message.left(300)));
        }
    }

    void onSnapshot(Json::Value root)
    {
        if (!m_options.snapshotOnly) {
            m_socket->sendTextMessage(
                QStringLiteral("{\"type\":\"subscribe\",\"agents\":[\"*\"],\"history\":0,\"id\":\"bench\"}"));
            return;
        }
        QByteArray out = "{\"tool\":\"snapshot\",\"last_seq\":{";
        qint64 total = 0;
        bool first = true;
        for (const Json::Value agent : root["agents"].items()) {
            const QByteArrayView id = agent["id"].toUtf8();
            if (!id.startsWith(m_options.agentPrefix))
                continue;
            const qint64 last = agent["last_seq"]["log"].toInteger();
            total += last;
            if (!first)
                out += ',';
            first = false;
            Json::appendString(out, id);
            out += ':';
            Json::appendInteger(out, last);
        }
        out += "},\"total\":";
        Json::appendInteger(out, total);
        out += '}';
        std::printf("%s\n", out.constData());
        std::fflush(stdout);
        m_done = true;
        m_socket->close();
        QCoreApplication::exit(0);
    }

    void onLog(Json::Value root, qint64 now)
    {
        const QByteArrayView agentId = root["agent"].toUtf8();
        if (!agentId.startsWith(m_options.agentPrefix))
            return;
        AgentState& state = stateOf(agentId);
        qint64 count = 0;
        for (const Json::Value line : root["lines"].items()) {
            const Json::Value seqValue = line["seq"];
            if (seqValue.isUndefined())
                continue; // a partial line
            const qint64 seq = seqValue.toInteger();
            if (seq != state.lastSeq + 1) {
                if (seq <= state.lastSeq)
                    ++m_seqBackwards;
                else
                    m_seqMissing += seq - state.lastSeq - 1;
                if (m_errors.size() < 20)
                    m_errors.append(QStringLiteral("%1: seq %2 after %3")
                                        .arg(QString::fromUtf8(agentId))
                                        .arg(seq)
                                        .arg(state.lastSeq));
            }
            state.lastSeq = std::max(state.lastSeq, seq);
            const QByteArrayView text = line["text"].toUtf8();
            qsizetype at = 0;
            const qint64 counter = numberAfter(text, "n=", &at);
            const qint64 sent = numberAfter(text, " t=", &at);
            if (counter <= state.lastCounter)
                ++m_counterErrors;
            state.lastCounter = std::max(state.lastCounter, counter);
            if (sent > 0)
                m_latenciesUs.push_back(quint32(std::clamp<qint64>((now - sent) / 1000, 0, 0xffffffffll)));
            ++count;
        }
        state.lines += count;
        m_lines += count;
        if (m_firstLineNs == 0)
            m_firstLineNs = now;
        m_lastLineNs = now;
        const size_t bucket = size_t((now - m_firstLineNs) / 100000000); // 100 ms
        if (m_buckets.size() <= bucket)
            m_buckets.resize(bucket + 1, 0);
        m_buckets[bucket] += count;
        checkComplete();
    }

    void onGap(Json::Value root)
    {
        const QByteArrayView agentId = root["agent"].toUtf8();
        if (!agentId.startsWith(m_options.agentPrefix) || root["kind"].toUtf8() != "log")
            return;
        AgentState& state = stateOf(agentId);
        const qint64 from = root["from"].toInteger();
        const qint64 to = root["to"].toInteger();
        if (from != state.lastSeq + 1 && m_errors.size() < 20)
            m_errors.append(QStringLiteral("%1: gap from %2 after %3")
                                .arg(QString::fromUtf8(agentId))
                                .arg(from)
                                .arg(state.lastSeq));
        const qint64 n = std::max<qint64>(0, to - std::max(from, state.lastSeq + 1) + 1);
        state.lastSeq = std::max(state.lastSeq, to);
        state.gapped += n;
        m_gapLines += n;
        m_gapsByReason[root["reason"].toUtf8().toByteArray()] += n;
        checkComplete();
    }

    AgentState& stateOf(QByteArrayView id)
    {
        auto it = m_agents.find(id.toByteArray());
        if (it == m_agents.end())
            it = m_agents.emplace(id.toByteArray(), AgentState()).first;
        return it->second;
    }

    void checkComplete()
    {
        if (m_options.expectLines >= 0 && m_lines + m_gapLines >= m_options.expectLines)
            finish();
    }

    void onIdleCheck()
    {
        // Without an expected count, or when lines stopped short of it, give up after a quiet spell.
        const qint64 now = monotonicNs();
        const qint64 since = std::max(m_lastLineNs, m_expectSetNs); // host_metrics come regardless
        if (m_options.idleTimeoutMs > 0 && m_lines > 0 && (m_options.expectLines >= 0 || !m_options.stdinControl)
            && now - since > qint64(m_options.idleTimeoutMs) * 1000000) {
            if (m_options.expectLines >= 0)
                m_errors.append(
                    QStringLiteral("idle for %1 ms before the expected lines arrived").arg(m_options.idleTimeoutMs));
            finish();
        }
    }

    void onDisconnected()
    {
        if (m_done)
            return;
        m_errors.append(QStringLiteral("disconnected: %1 %2").arg(m_socket->closeCode()).arg(m_socket->closeReason()));
        finish();
    }

    void finish()
    {
        if (m_done)
            return;
        m_done = true;
        m_idleTimer->stop();
        report();
        m_socket->close();
        QCoreApplication::exit(m_errors.isEmpty() ? 0 : 1);
    }

    void report()
    {
        std::vector<quint32>& lat = m_latenciesUs;
        auto percentile = [&lat](double p) -> double {
            if (lat.empty())
                return 0;
            const size_t k = std::min(lat.size() - 1, size_t(p * double(lat.size())));
            std::nth_element(lat.begin(), lat.begin() + qsizetype(k), lat.end());
            return lat[k] / 1000.0;
        };
        const double p50 = percentile(0.50);
        const double p99 = percentile(0.99);
        const double maxMs = lat.empty() ? 0 : *std::max_element(lat.begin(), lat.end()) / 1000.0;

        // The steady window leaves out the first and last second (ramp-up and drain).
        const double span = double(m_lastLineNs - m_firstLineNs) / 1e9;
        double steady = span > 0 ? double(m_lines) / span : 0;
        if (m_buckets.size() > 30) {
            qint64 sum = 0;
            for (size_t i = 10; i + 10 < m_buckets.size(); ++i)
                sum += m_buckets[i];
            steady = double(sum) / (double(m_buckets.size() - 20) / 10.0);
        }

        qint64 missing = m_seqMissing;
        if (m_options.expectLines >= 0)
            missing = std::max<qint64>(missing, m_options.expectLines - m_lines - m_gapLines);

        QByteArray out = "{\"tool\":\"viewer\",\"lines\":";
        Json::appendInteger(out, m_lines);
        out += ",\"agents\":";
        Json::appendInteger(out, qint64(m_agents.size()));
        out += ",\"bytes\":";
        Json::appendInteger(out, m_bytes);
        out += ",\"span_s\":";
        Json::appendDouble(out, span);
        out += ",\"lps\":";
        Json::appendInteger(out, qint64(span > 0 ? double(m_lines) / span : 0));
        out += ",\"steady_lps\":";
        Json::appendInteger(out, qint64(steady));
        out += ",\"latency_ms\":{\"p50\":";
        Json::appendDouble(out, p50);
        out += ",\"p99\":";
        Json::appendDouble(out, p99);
        out += ",\"max\":";
        Json::appendDouble(out, maxMs);
        out += "},\"gap_lines\":";
        Json::appendInteger(out, m_gapLines);
        out += ",\"gaps\":{";
        bool first = true;
        for (auto it = m_gapsByReason.cbegin(); it != m_gapsByReason.cend(); ++it) {
            if (!first)
                out += ',';
            first = false;
            Json::appendString(out, it.key());
            out += ':';
            Json::appendInteger(out, it.value());
        }
        out += "},\"expected\":";
        Json::appendInteger(out, m_options.expectLines);
        out += ",\"missing\":";
        Json::appendInteger(out, missing);
        out += ",\"seq_backwards\":";
        Json::appendInteger(out, m_seqBackwards);
        out += ",\"counter_errors\":";
        Json::appendInteger(out, m_counterErrors);
        out += ",\"errors\":[";
        for (qsizetype i = 0; i < m_errors.size(); ++i) {
            if (i > 0)
                out += ',';
            Json::appendString(out, m_errors[i]);
        }
        out += "]}";
        std::printf("%s\n", out.constData());
        std::fflush(stdout);
    }

    Options m_options;
    QWebSocket* m_socket;
    QTimer* m_idleTimer;
    Json::Document m_doc;
    std::map<QByteArray, AgentState> m_agents;
    QHash<QByteArray, qint64> m_gapsByReason;
    std::vector<quint32> m_latenciesUs;
    std::vector<qint64> m_buckets; // lines received per 100 ms since the first
    QStringList m_errors;
    QByteArray m_stdin;
    qint64 m_lines = 0;
    qint64 m_bytes = 0;
    qint64 m_gapLines = 0;
    qint64 m_seqMissing = 0;
    qint64 m_seqBackwards = 0;
    qint64 m_counterErrors = 0;
    qint64 m_firstLineNs = 0;
    qint64 m_lastLineNs = 0;
    qint64 m_lastMessageNs = 0;
    qint64 m_expectSetNs = 0;
    bool m_done = false;
};

} // namespace

int main(int argc, char* argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("agentdeck-benchviewer"));
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Subscribes to an AgentDeck host, checks the lines of agentdeck-loadgen and measures latency."));
    parser.addHelpOption();
    const QCommandLineOption urlOption(QStringLiteral("url"), QStringLiteral("Host URL."), QStringLiteral("URL"),
                                       QStringLiteral("ws://127.0.0.1:7700/"));
    const QCommandLineOption tokenOption(QStringLiteral("token"), QStringLiteral("Viewer token."), QStringLiteral("T"));
    const QCommandLineOption expectOption(QStringLiteral("expect-lines"),
                                          QStringLiteral("Exit once N lines (in total) were received or gapped."),
                                          QStringLiteral("N"));
    const QCommandLineOption prefixOption(QStringLiteral("agent-prefix"),
                                          QStringLiteral("Check only agents whose id starts with P (bench-)."),
                                          QStringLiteral("P"), QStringLiteral("bench-"));
    const QCommandLineOption stdinOption(QStringLiteral("stdin-control"),
                                         QStringLiteral("Read \"expect N\" from standard input (for bench_host)."));
    const QCommandLineOption snapshotOption(QStringLiteral("snapshot"),
                                            QStringLiteral("Print the host's last log seq per agent and exit."));
    const QCommandLineOption idleOption(QStringLiteral("idle-timeout"),
                                        QStringLiteral("Stop after MS without messages once lines arrived (5000)."),
                                        QStringLiteral("MS"), QStringLiteral("5000"));
    const QCommandLineOption maxOption(QStringLiteral("max-seconds"), QStringLiteral("Stop after S seconds (600)."),
                                       QStringLiteral("S"), QStringLiteral("600"));
    parser.addOptions(
        {urlOption, tokenOption, expectOption, prefixOption, stdinOption, snapshotOption, idleOption, maxOption});
    parser.process(app);

    BenchViewer::Options options;
    options.url = QUrl(parser.value(urlOption));
    options.token = parser.value(tokenOption);
    options.agentPrefix = parser.value(prefixOption).toUtf8();
    if (parser.isSet(expectOption))
        options.expectLines = parser.value(expectOption).toLongLong();
    options.stdinControl = parser.isSet(stdinOption);
    options.snapshotOnly = parser.isSet(snapshotOption);
    options.idleTimeoutMs = parser.value(idleOption).toInt();
    options.maxSeconds = std::max(1.0, parser.value(maxOption).toDouble());

    BenchViewer viewer(options);
    viewer.start();
    return app.exec();
}

#include "benchviewer.moc"
