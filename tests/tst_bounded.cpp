// SPDX-License-Identifier: GPL-3.0-or-later
#include "support/fixtures.h"
#include "support/rawwebsocket.h"
#include "support/testclient.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkProxy>
#include <QProcess>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QTimer>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <functional>
#include <memory>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <thread>
#include <unistd.h>

/*
 * Attacks on the real agentdeck-host, on 127.0.0.1 only, from the security review of
 * its limits (docs/protocol.md, the `limits` keys of the configuration). Each test
 * starts a fresh host, lets an attacker loose on a thread of its own, and checks as
 * a rightful user would, on this thread:
 *  (a) the host's resident memory, sampled all along, stays under the baseline it
 *      had after its start plus a stated allowance in MiB, enough for an
 *      AddressSanitizer build too (the host runs with a small ASan quarantine);
 *  (b) during the attack an agent gets in (hello, welcome) and publishes a line, and
 *      a viewer gets in, gets its snapshot and sees that line, each within 1 s;
 *  (c) SIGTERM at the end stops the host within 2 s with exit code 0.
 * Every test prints what it measured (qInfo) before it checks it, so a run gives
 * the numbers for a report whether it passes or not.
 */

namespace {

const QString HostExecutable = QStringLiteral(AGENTDECK_HOST_EXECUTABLE);
const QString Token = QStringLiteral("bounded-token");
constexpr qint64 MiB = 1024 * 1024;
/// What a rightful agent and viewer may wait during an attack, and the host to stop.
constexpr qint64 ProbeLimitMs = 1000;
constexpr qint64 StopLimitMs = 2000;
/// How long a probe waits before it gives up (the measurement is reported either way).
constexpr int ProbeTimeoutMs = 3000;
/// Bytes an attacker keeps handed to its socket and not yet taken by the kernel.
constexpr qint64 WriteAhead = 256 * 1024;

/// How far above its baseline the host's memory may go. Bounded, the host stays within
/// 15 MiB in these attacks, and within 55 MiB under AddressSanitizer (its allocator
/// keeps more); an unbounded host passes the flood allowance in a second or two.
constexpr qint64 FloodAllowanceMiB = 96;
constexpr qint64 LightAllowanceMiB = 32;

// What the host gets besides the defaults in every test: small queues, so that a
// bounded host shows its bounds in a few seconds and a few MiB.
constexpr qint64 MaxQueuedBytes = 2 * MiB;
constexpr qint64 ViewerBacklogBytes = 512 * 1024;

// ---------------------------------------------------------------------------
// The host's resources, from /proc

QByteArray readProcFile(const QByteArray& path)
{
    // Plain reads: the resource watch calls this from a thread of its own, often.
    QByteArray data;
    FILE* file = std::fopen(path.constData(), "re");
    if (!file)
        return data;
    char buffer[4096];
    size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0)
        data.append(buffer, qsizetype(n));
    std::fclose(file);
    return data;
}

/// A "Name:   123 kB" field of /proc/PID/status in bytes; -1 when unreadable.
qint64 statusBytes(qint64 pid, QByteArrayView field)
{
    const QByteArray status = readProcFile("/proc/" + QByteArray::number(pid) + "/status");
    const qsizetype at = status.indexOf(field);
    if (at < 0)
        return -1;
    const qsizetype end = status.indexOf('\n', at);
    return status.mid(at + field.size(), end - at - field.size()).trimmed().split(' ').value(0).toLongLong() * 1024;
}

qint64 residentBytes(qint64 pid)
{
    return statusBytes(pid, "VmRSS:");
}

/// The most the process was resident at any time.
qint64 peakResidentBytes(qint64 pid)
{
    return statusBytes(pid, "VmHWM:");
}

/// User plus system CPU seconds of a process (/proc/PID/stat fields 14 and 15).
double cpuSeconds(qint64 pid)
{
    const QByteArray stat = readProcFile("/proc/" + QByteArray::number(pid) + "/stat");
    const qsizetype close = stat.lastIndexOf(')');
    if (close < 0)
        return -1;
    const QList<QByteArray> fields = stat.mid(close + 2).split(' ');
    if (fields.size() < 13)
        return -1;
    return double(fields[11].toLongLong() + fields[12].toLongLong()) / double(sysconf(_SC_CLK_TCK));
}

/// The open file handles of a process, and how many of them are sockets.
int openFiles(qint64 pid, int* sockets = nullptr)
{
    const QByteArray dir = "/proc/" + QByteArray::number(pid) + "/fd";
    DIR* d = ::opendir(dir.constData());
    if (!d)
        return -1;
    int files = 0;
    int socketCount = 0;
    while (const dirent* entry = ::readdir(d)) {
        if (entry->d_name[0] == '.')
            continue;
        ++files;
        if (sockets) {
            char target[64] = {};
            const QByteArray link = dir + '/' + entry->d_name;
            if (::readlink(link.constData(), target, sizeof target - 1) > 0 && std::strncmp(target, "socket:", 7) == 0)
                ++socketCount;
        }
    }
    ::closedir(d);
    if (sockets)
        *sockets = socketCount;
    return files;
}

double toMiB(qint64 bytes)
{
    return double(bytes) / double(MiB);
}

/*
 * Samples a process's resident memory and open files every 20 ms on a thread of its
 * own, so that peaks are seen while the test's thread waits on a client. When the
 * memory passes its limit it raises halt, which stops the attackers: an unbounded
 * host is caught before it takes the machine's memory.
 */
class ResourceWatch final
{
public:
    ResourceWatch(qint64 pid, qint64 rssLimit, std::atomic<bool>* halt)
        : m_pid(pid)
        , m_rssLimit(rssLimit)
        , m_halt(halt)
    {
        sample();
        m_thread = std::thread([this] {
            while (!m_stop.load()) {
                sample();
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
        });
    }
    ~ResourceWatch() { stop(); }
    Q_DISABLE_COPY_MOVE(ResourceWatch)

    void stop()
    {
        if (m_thread.joinable()) {
            m_stop = true;
            m_thread.join();
            // The high-water mark catches a peak between two samples.
            m_peakRss = std::max<qint64>(m_peakRss, peakResidentBytes(m_pid));
        }
    }

    qint64 peakRss() const { return m_peakRss; }
    int peakFiles() const { return m_peakFiles; }
    int peakSockets() const { return m_peakSockets; }
    bool tripped() const { return m_tripped; }

private:
    void sample()
    {
        const qint64 rss = residentBytes(m_pid);
        if (rss < 0)
            return; // gone
        m_peakRss = std::max<qint64>(m_peakRss, rss);
        int sockets = 0;
        const int files = openFiles(m_pid, &sockets);
        m_peakFiles = std::max<int>(m_peakFiles, files);
        m_peakSockets = std::max<int>(m_peakSockets, sockets);
        if (rss > m_rssLimit && !m_tripped) {
            m_tripped = true;
            m_halt->store(true);
        }
    }

    const qint64 m_pid;
    const qint64 m_rssLimit;
    std::atomic<bool>* m_halt;
    std::atomic<bool> m_stop{false};
    std::atomic<bool> m_tripped{false};
    std::atomic<qint64> m_peakRss{0};
    std::atomic<int> m_peakFiles{0};
    std::atomic<int> m_peakSockets{0};
    std::thread m_thread;
};

// ---------------------------------------------------------------------------
// Frames and messages, built once and sent as bytes

/// One frame from a client: masked with a random key, as RFC 6455 requires (or not, when told).
QByteArray textFrame(const QByteArray& json)
{
    return RawWebSocket::frame(0x1, json);
}

QByteArray compact(const QJsonObject& message)
{
    return QJsonDocument(message).toJson(QJsonDocument::Compact);
}

QByteArray agentHello(const QString& id)
{
    return compact({{QStringLiteral("type"), QStringLiteral("hello")},
                    {QStringLiteral("protocol"), 1},
                    {QStringLiteral("role"), QStringLiteral("agent")},
                    {QStringLiteral("token"), Token},
                    {QStringLiteral("agent"), QJsonObject{{QStringLiteral("id"), id}}}});
}

QByteArray viewerHello()
{
    return compact({{QStringLiteral("type"), QStringLiteral("hello")},
                    {QStringLiteral("protocol"), 1},
                    {QStringLiteral("role"), QStringLiteral("viewer")},
                    {QStringLiteral("token"), Token}});
}

QJsonObject logMessage(const QJsonArray& lines)
{
    return {{QStringLiteral("type"), QStringLiteral("log")}, {QStringLiteral("lines"), lines}};
}

QJsonObject textLine(const QString& text)
{
    return {{QStringLiteral("text"), text}};
}

/// The same frame count times, one after the other.
QByteArray repeated(const QByteArray& frame, int count)
{
    QByteArray chunk;
    chunk.reserve(frame.size() * count);
    for (int i = 0; i < count; ++i)
        chunk += frame;
    return chunk;
}

/// A console for the attack to work on: agent id publishes lines "1 <filler>" to
/// "total <filler>", perMessage in each message; true once the host has stored the
/// last (a history request for the newest line says so).
bool fillConsole(const QUrl& host, const QString& id, int total, int perMessage, const QString& filler)
{
    TestClient agent;
    if (!agent.open(host) || agent.helloAgent(Token, id).isEmpty())
        return false;
    for (int sent = 0; sent < total;) {
        QJsonArray lines;
        for (int i = 0; i < perMessage; ++i)
            lines.append(textLine(QString::number(++sent) + QLatin1Char(' ') + filler));
        agent.sendJson(logMessage(lines));
        QTest::qWait(1);
    }
    TestClient reader;
    if (!reader.open(host) || reader.helloViewer(Token).isEmpty())
        return false;
    QDeadlineTimer deadline(20000);
    while (!deadline.hasExpired()) {
        reader.sendJson({{QStringLiteral("type"), QStringLiteral("history")},
                         {QStringLiteral("id"), QStringLiteral("newest")},
                         {QStringLiteral("agent"), id},
                         {QStringLiteral("limit"), 1}});
        const QJsonArray lines = reader.next(QStringLiteral("history"), 5000).value(QStringLiteral("lines")).toArray();
        if (!lines.isEmpty() && lines.at(0).toObject().value(QStringLiteral("seq")).toInteger() == total)
            return true;
        QTest::qWait(100);
    }
    return false;
}

// ---------------------------------------------------------------------------
// Attackers

/// What an attack did, counted on its thread and read on the test's.
struct AttackStats
{
    std::atomic<qint64> bytesSent{0};
    std::atomic<qint64> items{0}; // what the attack counts: asks, commands, agents...
    std::atomic<qint64> connections{0}; // that got as far as attacking
    std::atomic<qint64> dropped{0}; // ended by the host
    std::atomic<qint64> rateLimited{0}; // "rate_limited" seen in what the host sent
    std::atomic<qint64> badMessages{0}; // "bad_message" seen in what the host sent
};

/// What one attacking connection does.
struct AttackPlan
{
    /// The address it connects from: any of 127.0.0.0/8.
    QHostAddress source = QHostAddress(QHostAddress::LocalHost);
    /// Whether it asks for the WebSocket upgrade at all.
    bool upgrade = true;
    /// The hello, sent after the upgrade; called for each connection. None when empty.
    std::function<QByteArray()> hello;
    /// Text to wait for from the host before attacking ("welcome", "snapshot").
    QByteArray waitFor;
    /// Frames to send once, when ready; called for each connection.
    std::function<QByteArray()> opening;
    /// Whether it reads what the host sends once ready; one that does not lets the
    /// host's queue for it grow.
    bool reads = true;
    /// The next bytes to send, as fast as the host takes them; empty: nothing more.
    std::function<QByteArray()> load;
    /// After its opening (and load) is sent, it closes and opens a new connection.
    bool cycle = false;
    /// A new connection this long after the host ended one; -1: none.
    int reconnectMs = 0;
};

/*
 * One attacking connection over a plain QTcpSocket, on an attack thread: the
 * upgrade and hello by hand, then bytes built in advance, as fast as the host takes
 * them, without a WebSocket library's per-message work in the way.
 */
class Attacker final : public QObject
{
public:
    Attacker(quint16 port, AttackPlan plan, AttackStats* stats, const std::atomic<bool>* halt, QObject* parent)
        : QObject(parent)
        , m_port(port)
        , m_plan(std::move(plan))
        , m_stats(stats)
        , m_halt(halt)
    { }

    void open()
    {
        if (m_halt->load())
            return;
        m_state = State::Connecting;
        m_ownClose = false;
        m_received.clear();
        m_tail.clear();
        m_socket = new QTcpSocket(this);
        m_socket->setProxy(QNetworkProxy::NoProxy);
        QTcpSocket* socket = m_socket;
        connect(socket, &QTcpSocket::connected, this, [this] { onConnected(); });
        connect(socket, &QTcpSocket::readyRead, this, [this] { onReadyRead(); });
        connect(socket, &QTcpSocket::bytesWritten, this, [this] { pump(); });
        connect(socket, &QTcpSocket::stateChanged, this, [this, socket](QAbstractSocket::SocketState state) {
            if (state == QAbstractSocket::UnconnectedState && socket == m_socket)
                onEnded();
        });
        if (!m_socket->bind(m_plan.source)) {
            qWarning("attacker: cannot bind %s: %s", qPrintable(m_plan.source.toString()),
                     qPrintable(m_socket->errorString()));
        }
        m_socket->connectToHost(QHostAddress(QHostAddress::LocalHost), m_port);
    }

private:
    enum class State { Connecting, Upgrading, Welcoming, Ready };

    void onConnected()
    {
        if (!m_plan.upgrade) {
            becomeReady();
            return;
        }
        m_state = State::Upgrading;
        m_socket->write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    }

    void onReadyRead()
    {
        if (m_state == State::Ready) {
            if (m_plan.reads)
                scan(m_socket->readAll());
            return;
        }
        m_received += m_socket->readAll();
        if (m_state == State::Upgrading) {
            const qsizetype end = m_received.indexOf("\r\n\r\n");
            if (end < 0)
                return;
            if (!m_received.startsWith("HTTP/1.1 101")) {
                m_socket->abort();
                return;
            }
            m_received.remove(0, end + 4);
            if (m_plan.hello)
                m_socket->write(textFrame(m_plan.hello()));
            m_state = State::Welcoming;
        }
        if (m_state == State::Welcoming && (m_plan.waitFor.isEmpty() || m_received.contains(m_plan.waitFor)))
            becomeReady();
    }

    void becomeReady()
    {
        m_state = State::Ready;
        ++m_stats->connections;
        m_received.clear();
        if (!m_plan.reads)
            m_socket->setReadBufferSize(1); // the kernel's buffer fills, then the host's queue
        if (m_plan.opening) {
            const QByteArray opening = m_plan.opening();
            m_socket->write(opening);
            m_stats->bytesSent += opening.size();
        }
        pump();
    }

    void pump()
    {
        if (m_state != State::Ready || !m_socket || m_ownClose)
            return;
        while (!m_halt->load() && m_socket->state() == QAbstractSocket::ConnectedState
               && m_socket->bytesToWrite() < WriteAhead) {
            const QByteArray chunk = m_plan.load ? m_plan.load() : QByteArray();
            if (chunk.isEmpty())
                break;
            m_socket->write(chunk);
            m_stats->bytesSent += chunk.size();
        }
        if (m_plan.cycle && !m_ownClose) {
            m_ownClose = true;
            m_socket->disconnectFromHost(); // after what is buffered
        }
    }

    /// Counts the error codes the host sent; a code may straddle two reads.
    void scan(const QByteArray& data)
    {
        const QByteArray text = m_tail + data;
        m_stats->rateLimited += text.count("rate_limited\"");
        m_stats->badMessages += text.count("bad_message\"");
        m_tail = text.right(16);
    }

    void onEnded()
    {
        const bool wasReady = m_state == State::Ready;
        if (!m_ownClose && wasReady)
            ++m_stats->dropped;
        m_socket->disconnect(this);
        m_socket->deleteLater();
        m_socket = nullptr;
        int delay = m_ownClose ? 0 : m_plan.reconnectMs;
        if (delay >= 0 && !wasReady)
            delay = std::max(delay, 10); // refused or cut short: no busy loop when the host is gone
        if (delay >= 0 && !m_halt->load())
            QTimer::singleShot(delay, this, [this] { open(); });
    }

    const quint16 m_port;
    const AttackPlan m_plan;
    AttackStats* m_stats;
    const std::atomic<bool>* m_halt;
    QTcpSocket* m_socket = nullptr;
    State m_state = State::Connecting;
    bool m_ownClose = false;
    QByteArray m_received;
    QByteArray m_tail;
};

/*
 * A thread with an event loop of its own for the attackers: setup() makes them (as
 * children of the context it is given) on that thread, and they end with it. The
 * thread runs a little below the test's own, whose clients' waits are measured.
 */
class AttackThread final : public QThread
{
public:
    using Setup = std::function<void(QObject* context)>;

    explicit AttackThread(Setup setup)
        : m_setup(std::move(setup))
    { }
    ~AttackThread() override { stop(); }
    Q_DISABLE_COPY_MOVE(AttackThread)

    void stop()
    {
        quit(); // also when exec() has not started yet: it then returns at once
        wait();
    }

protected:
    void run() override
    {
        ::setpriority(PRIO_PROCESS, id_t(::gettid()), 5);
        QObject context;
        m_setup(&context);
        exec();
    }

private:
    Setup m_setup;
};

// ---------------------------------------------------------------------------
// The host, and the rightful users' probe

/// What one rightful agent and viewer measured.
struct Probe
{
    bool ok = false;
    qint64 agentMs = -1; // connect, hello, welcome
    qint64 viewerMs = -1; // connect, hello, snapshot, subscribe, the agent's line
    QString error;
    QJsonObject snapshot;
    qint64 snapshotBytes = 0;
    int reconnects = 0; // connections the host dropped before their upgrade, tried again
};

/// Waits for a message of type on client until it comes, the connection ends, or the deadline.
QJsonObject awaitMessage(TestClient& client, const QString& type, const QDeadlineTimer& deadline)
{
    while (true) {
        const QJsonObject m = client.next(type, 10);
        if (!m.isEmpty())
            return m;
        if (!client.isOpen())
            return client.next(type, 0);
        if (deadline.hasExpired())
            return {};
    }
}

QString howItEnded(TestClient& client)
{
    if (client.isOpen())
        return QStringLiteral("no answer in %1 ms").arg(ProbeTimeoutMs);
    QStringList errors;
    for (const QJsonObject& m : client.pending()) {
        if (m.value(QStringLiteral("type")).toString() == QLatin1String("error"))
            errors << m.value(QStringLiteral("code")).toString();
    }
    return QStringLiteral("closed with %1 \"%2\"%3")
        .arg(client.closeCode())
        .arg(client.closeReason(), errors.isEmpty() ? QString() : QStringLiteral(" after error ") + errors.join(u','));
}

/// One run of agentdeck-host on 127.0.0.1, killed if a test leaves it running.
class HostUnderTest final
{
public:
    explicit HostUnderTest(const QString& dir)
        : m_dir(dir)
    {
        QObject::connect(&m_process, &QProcess::readyReadStandardOutput, &m_process,
                         [this] { keep(m_process.readAllStandardOutput()); });
        QObject::connect(&m_process, &QProcess::readyReadStandardError, &m_process,
                         [this] { keep(m_process.readAllStandardError()); });
    }
    ~HostUnderTest()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill();
            m_process.waitForFinished(10000);
        }
    }
    Q_DISABLE_COPY_MOVE(HostUnderTest)

    /// Starts the host with config, with at most fileLimit open files when above 0.
    bool start(const QJsonObject& config, int fileLimit, QString* error)
    {
        const QString configPath = m_dir + QStringLiteral("/host.json");
        QFile file(configPath);
        if (!file.open(QIODevice::WriteOnly) || file.write(QJsonDocument(config).toJson()) < 0) {
            *error = QStringLiteral("cannot write ") + configPath;
            return false;
        }
        file.close();

        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("XDG_CONFIG_HOME"), m_dir + QStringLiteral("/config"));
        env.insert(QStringLiteral("XDG_STATE_HOME"), m_dir + QStringLiteral("/state"));
        // AddressSanitizer keeps up to 256 MiB of freed memory from reuse by default, which
        // is resident and would hide a host's own bounds; a small quarantine keeps it honest.
        QString asan = env.value(QStringLiteral("ASAN_OPTIONS"));
        asan += (asan.isEmpty() ? QString() : QStringLiteral(":")) + QStringLiteral("quarantine_size_mb=16");
        env.insert(QStringLiteral("ASAN_OPTIONS"), asan);
        m_process.setProcessEnvironment(env);
        m_process.setChildProcessModifier([fileLimit] {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL); // ends with the test, also when it crashes
            if (fileLimit > 0) {
                const rlimit limit{rlim_t(fileLimit), rlim_t(fileLimit)};
                ::setrlimit(RLIMIT_NOFILE, &limit);
            }
        });
        m_process.start(HostExecutable,
                        {QStringLiteral("--config"), configPath, QStringLiteral("--port"), QStringLiteral("0"),
                         QStringLiteral("--token"), Token});

        static const QRegularExpression listening(QStringLiteral("listening on ws://127\\.0\\.0\\.1:(\\d+)/"));
        QRegularExpressionMatch match;
        const bool found = QTest::qWaitFor(
            [&] {
                match = listening.match(QString::fromUtf8(m_output));
                return match.hasMatch() || m_process.state() == QProcess::NotRunning;
            },
            30000);
        if (!found || !match.hasMatch()) {
            *error = QStringLiteral("the host did not say where it listens: ") + output();
            return false;
        }
        m_port = match.captured(1).toUShort();
        return m_port != 0;
    }

    qint64 pid() const { return m_process.processId(); }
    quint16 port() const { return m_port; }
    QUrl url() const { return QUrl(QStringLiteral("ws://127.0.0.1:%1/").arg(m_port)); }
    QString output() const { return QString::fromUtf8(m_output); }
    /// What tells most about a failure: a sanitizer's report from its start, else the end.
    QString outputExcerpt() const
    {
        for (const char* marker : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"}) {
            const qsizetype at = m_output.indexOf(marker);
            if (at >= 0)
                return QString::fromUtf8(m_output.mid(at, 8000));
        }
        return QString::fromUtf8(m_output.right(1500));
    }

    /// A rightful agent connects and publishes a line, and a rightful viewer sees it.
    Probe probe()
    {
        Probe p;
        const QString agentId = QStringLiteral("probe");
        const QString text = QStringLiteral("probe line %1").arg(++m_probes);
        QElapsedTimer clock;
        clock.start();
        QDeadlineTimer deadline(ProbeTimeoutMs);
        TestClient agent;
        if (!openAsRightfulUser(agent, &p)) {
            p.error = QStringLiteral("agent: no upgrade in %1 ms (%2)")
                          .arg(clock.elapsed())
                          .arg(agent.socket()->errorString());
            return p;
        }
        agent.socket()->sendTextMessage(QString::fromUtf8(agentHello(agentId)));
        if (awaitMessage(agent, QStringLiteral("welcome"), deadline).isEmpty()) {
            p.error = QStringLiteral("agent: ") + howItEnded(agent);
            return p;
        }
        p.agentMs = clock.elapsed();
        agent.sendJson(logMessage({textLine(text)}));

        clock.restart();
        deadline = QDeadlineTimer(ProbeTimeoutMs);
        TestClient viewer;
        if (!openAsRightfulUser(viewer, &p)) {
            p.error = QStringLiteral("viewer: no upgrade in %1 ms (%2)")
                          .arg(clock.elapsed())
                          .arg(viewer.socket()->errorString());
            return p;
        }
        viewer.socket()->sendTextMessage(QString::fromUtf8(viewerHello()));
        p.snapshot = awaitMessage(viewer, QStringLiteral("snapshot"), deadline);
        if (p.snapshot.isEmpty()) {
            p.error = QStringLiteral("viewer: ") + howItEnded(viewer);
            return p;
        }
        p.snapshotBytes = compact(p.snapshot).size();
        viewer.sendJson({{QStringLiteral("type"), QStringLiteral("subscribe")},
                         {QStringLiteral("agents"), QJsonArray{agentId}},
                         {QStringLiteral("history"), 1}});
        while (true) {
            const QJsonObject log = awaitMessage(viewer, QStringLiteral("log"), deadline);
            if (log.isEmpty()) {
                p.error = QStringLiteral("viewer: the agent's line did not come: ") + howItEnded(viewer);
                return p;
            }
            const QJsonArray lines = log.value(QStringLiteral("lines")).toArray();
            for (const QJsonValue& line : lines) {
                if (line.toObject().value(QStringLiteral("text")).toString() == text) {
                    p.viewerMs = clock.elapsed();
                    p.ok = true;
                    return p;
                }
            }
        }
    }

    /// Sends SIGTERM and waits: the time until it ended; -1 when it did not in 10 s (it is
    /// killed then), -2 when it had ended before.
    qint64 terminate(int* exitCode, bool* normalExit)
    {
        *exitCode = -1;
        *normalExit = false;
        qint64 ms = -2;
        if (m_process.state() != QProcess::NotRunning) {
            QElapsedTimer clock;
            clock.start();
            ::kill(pid_t(m_process.processId()), SIGTERM);
            if (!m_process.waitForFinished(10000)) {
                m_process.kill();
                m_process.waitForFinished(10000);
                return -1;
            }
            ms = clock.elapsed();
        }
        keep(m_process.readAllStandardOutput());
        keep(m_process.readAllStandardError());
        *exitCode = m_process.exitCode();
        *normalExit = m_process.exitStatus() == QProcess::NormalExit;
        return ms;
    }

private:
    void keep(const QByteArray& bytes)
    {
        // What it says under attack can be a lot; the start and the end tell enough.
        m_output += bytes;
        if (m_output.size() > 256 * 1024)
            m_output = m_output.left(64 * 1024) + "\n[...]\n" + m_output.right(64 * 1024);
    }

    /// Opens client, again when the host dropped it before its upgrade and reconnects
    /// allows it: a client that shares its address with an attacker's idle connections
    /// can be taken for one of them while its request is still on its way. It waits
    /// before each new attempt, longer each time and with jitter, as a real client's
    /// backoff does (scaled down), rather than landing in the same wave of attackers.
    bool openAsRightfulUser(TestClient& client, Probe* p)
    {
        QDeadlineTimer deadline(ProbeTimeoutMs);
        int attempt = 0;
        while (!client.open(url(), {}, int(deadline.remainingTime()))) {
            if (attempt >= m_reconnects || deadline.hasExpired()
                || client.socket()->error() != QAbstractSocket::RemoteHostClosedError) {
                return false;
            }
            ++attempt;
            ++p->reconnects;
            const int backoffMs = attempt * QRandomGenerator::global()->bounded(40, 120);
            QTest::qWait(int(std::min<qint64>(backoffMs, deadline.remainingTime())));
        }
        return true;
    }

public:
    /// How often a rightful user may connect again when dropped before its upgrade.
    void allowReconnects(int count) { m_reconnects = count; }

private:
    QString m_dir;
    QProcess m_process;
    QByteArray m_output;
    quint16 m_port = 0;
    int m_probes = 0;
    int m_reconnects = 0;
};

/// The base configuration of the host under attack, with extra limits merged in.
QJsonObject hostConfig(const QJsonObject& limits = {}, const QJsonObject& logs = {})
{
    QJsonObject allLimits{{QStringLiteral("max_queued_bytes"), MaxQueuedBytes},
                          {QStringLiteral("viewer_backlog_bytes"), ViewerBacklogBytes}};
    for (auto it = limits.constBegin(); it != limits.constEnd(); ++it)
        allLimits.insert(it.key(), it.value());
    QJsonObject allLogs{{QStringLiteral("dir"), QString()}}; // no log files unless a test wants them
    for (auto it = logs.constBegin(); it != logs.constEnd(); ++it)
        allLogs.insert(it.key(), it.value());
    return {{QStringLiteral("name"), QStringLiteral("bounded")},
            {QStringLiteral("listen"), QStringLiteral("127.0.0.1")},
            {QStringLiteral("limits"), allLimits},
            {QStringLiteral("logs"), allLogs}};
}

/*
 * One attack on a fresh host: the host, the watch on its resources from the
 * baseline on, the attack thread, and what the rightful users measured.
 */
class Siege final
{
public:
    Siege(const QString& name, const QString& dir)
        : m_name(name)
        , m_host(dir)
    { }
    ~Siege()
    {
        // The attackers and the watch end first; the host is killed if still running.
        stopAttack();
        if (m_watch)
            m_watch->stop();
    }
    Q_DISABLE_COPY_MOVE(Siege)

    const QString& name() const { return m_name; }
    /// The problems found, for a failure message.
    QString describe(const QStringList& problems) const
    {
        return m_name + QStringLiteral(": ") + problems.join(QStringLiteral("; "));
    }
    HostUnderTest& host() { return m_host; }
    const std::atomic<bool>* halt() const { return &m_halt; }
    AttackStats& stats() { return m_stats; }
    const QList<Probe>& probes() const { return m_probes; }

    bool start(const QJsonObject& config, QString* error, int fileLimit = 0)
    {
        return m_host.start(config, fileLimit, error);
    }

    /// After the host warmed up with one probe: its memory now is the baseline, and
    /// the watch starts with the allowance above it.
    bool takeBaseline(qint64 allowanceMiB, QString* error)
    {
        const Probe warmUp = m_host.probe();
        if (!warmUp.ok) {
            *error = QStringLiteral("the host does not serve even before the attack: ") + warmUp.error;
            return false;
        }
        QTest::qWait(200);
        m_baselineRss = residentBytes(m_host.pid());
        m_baselineFiles = openFiles(m_host.pid());
        m_allowance = allowanceMiB * MiB;
        m_watch = std::make_unique<ResourceWatch>(m_host.pid(), m_baselineRss + m_allowance, &m_halt);
        return m_baselineRss > 0;
    }

    int baselineFiles() const { return m_baselineFiles; }

    /// Starts attackers, made by setup on the attack thread.
    void attack(AttackThread::Setup setup)
    {
        m_thread = std::make_unique<AttackThread>(std::move(setup));
        m_thread->start();
    }

    /// Runs one attacker plan count times on the attack thread.
    void attackWith(const AttackPlan& plan, int count = 1)
    {
        const quint16 port = m_host.port();
        AttackStats* stats = &m_stats;
        const std::atomic<bool>* halted = &m_halt;
        attack([=](QObject* context) {
            for (int i = 0; i < count; ++i)
                (new Attacker(port, plan, stats, halted, context))->open();
        });
    }

    void stopAttack()
    {
        m_halt = true;
        if (m_thread)
            m_thread->stop();
    }

    /// Probes now and then for durationMs (from the first probe after firstMs), calling
    /// tick in between; ends early when the host's memory passes its bound.
    void probeFor(int durationMs, int firstMs = 1000, const std::function<void()>& tick = {})
    {
        QElapsedTimer clock;
        clock.start();
        qint64 nextProbe = firstMs;
        while (clock.elapsed() < durationMs && !m_watch->tripped()) {
            if (clock.elapsed() >= nextProbe) {
                m_probes.append(m_host.probe());
                nextProbe = clock.elapsed() + 600;
            }
            if (tick)
                tick();
            QTest::qWait(20);
        }
        if (m_probes.isEmpty())
            m_probes.append(m_host.probe());
    }

    void probeOnce() { m_probes.append(m_host.probe()); }

    /// SIGTERM (with the attack still on unless it was stopped), timed; then the
    /// attack ends and the numbers are printed.
    void terminate()
    {
        m_watch->stop();
        m_stopMs = m_host.terminate(&m_exitCode, &m_normalExit);
        stopAttack();
        report();
    }

    qint64 peakAboveBaseline() const { return m_watch->peakRss() - m_baselineRss; }
    int peakFiles() const { return m_watch->peakFiles(); }
    int peakSockets() const { return m_watch->peakSockets(); }

    /// What every attack is checked for: memory, the rightful users, SIGTERM. Empty when all held.
    QStringList problems() const
    {
        QStringList found;
        if (m_watch->peakRss() > m_baselineRss + m_allowance) {
            found << QStringLiteral("the host's memory grew by %1 MiB, more than the %2 MiB allowed%3")
                         .arg(toMiB(peakAboveBaseline()), 0, 'f', 1)
                         .arg(toMiB(m_allowance), 0, 'f', 0)
                         .arg(m_watch->tripped() ? QStringLiteral(" (the attack was cut short)") : QString());
        }
        if (m_probes.isEmpty())
            found << QStringLiteral("no rightful user got to try");
        for (int i = 0; i < m_probes.size(); ++i) {
            const Probe& p = m_probes.at(i);
            if (!p.ok) {
                found
                    << QStringLiteral("rightful user %1 of %2 failed: %3").arg(i + 1).arg(m_probes.size()).arg(p.error);
                break;
            }
            if (p.agentMs > ProbeLimitMs || p.viewerMs > ProbeLimitMs) {
                found << QStringLiteral("rightful user %1 of %2 waited too long: agent %3 ms, viewer %4 ms (limit %5)")
                             .arg(i + 1)
                             .arg(m_probes.size())
                             .arg(p.agentMs)
                             .arg(p.viewerMs)
                             .arg(ProbeLimitMs);
                break;
            }
        }
        const QString said = QStringLiteral("; it said: ") + m_host.outputExcerpt().left(300);
        if (m_stopMs == -2) {
            found << QStringLiteral("the host had ended before SIGTERM, %1").arg(howItExited()) + said;
        } else if (m_stopMs == -1) {
            found << QStringLiteral("the host did not end within 10 s of SIGTERM") + said;
        } else if (m_stopMs > StopLimitMs || !m_normalExit || m_exitCode != 0) {
            found << QStringLiteral("after SIGTERM the host took %1 ms (limit %2) and %3")
                         .arg(m_stopMs)
                         .arg(StopLimitMs)
                         .arg(howItExited())
                    + said;
        }
        return found;
    }

private:
    QString howItExited() const
    {
        return m_normalExit ? QStringLiteral("exited with %1").arg(m_exitCode) : QStringLiteral("crashed");
    }

    void report() const
    {
        qint64 agentMs = 0;
        qint64 viewerMs = 0;
        int failed = 0;
        int reconnects = 0;
        for (const Probe& p : m_probes) {
            agentMs = std::max(agentMs, p.agentMs);
            viewerMs = std::max(viewerMs, p.viewerMs);
            failed += p.ok ? 0 : 1;
            reconnects += p.reconnects;
        }
        const QString stop = m_stopMs == -2 ? QStringLiteral("the host had ended before, ") + howItExited()
            : m_stopMs == -1                ? QStringLiteral("not ended in 10 s")
                                            : QStringLiteral("%1 in %2 ms").arg(howItExited()).arg(m_stopMs);
        qInfo("%s: peak RSS +%.1f MiB over a baseline of %.1f MiB (allowed +%.0f MiB)%s; "
              "rightful agent %lld ms, viewer %lld ms (worst of %lld, %d failed, %d reconnects); "
              "SIGTERM: %s; attack: %.1f MiB sent, %lld connections, %lld dropped by the host",
              qPrintable(m_name), toMiB(peakAboveBaseline()), toMiB(m_baselineRss), toMiB(m_allowance),
              m_watch->tripped() ? " (cut short)" : "", agentMs, viewerMs, qlonglong(m_probes.size()), failed,
              reconnects, qPrintable(stop), toMiB(m_stats.bytesSent), qlonglong(m_stats.connections.load()),
              qlonglong(m_stats.dropped.load()));
        // In full: QTest cuts long failure messages, and a sanitizer's report is long.
        if (!m_normalExit || m_exitCode != 0) {
            std::fprintf(stderr, "%s: what the host said:\n%s\n", qPrintable(m_name),
                         qPrintable(m_host.outputExcerpt()));
        }
    }

    QString m_name;
    HostUnderTest m_host;
    std::atomic<bool> m_halt{false};
    AttackStats m_stats;
    std::unique_ptr<ResourceWatch> m_watch;
    std::unique_ptr<AttackThread> m_thread;
    QList<Probe> m_probes;
    qint64 m_baselineRss = 0;
    int m_baselineFiles = 0;
    qint64 m_allowance = 0;
    qint64 m_stopMs = -1;
    int m_exitCode = -1;
    bool m_normalExit = false;
};

} // namespace

class TestBounded : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void pingFlood_data();
    void pingFlood();
    void lockoutWithoutToken();
    void agentIdChurn();
    void gapLists();
    void historyFloodFromStalledViewer();
    void hugeStatusToStalledViewer();
    void hugeCommandsToDeafAgent();
    void unsolicitedPongs();
    void askFlood();
    void sequenceOverflow();
    void idleTcpUnderFileLimit();
    void closeWithUnreadInput_data();
    void closeWithUnreadInput();

private:
    std::unique_ptr<QTemporaryDir> m_dir;
};

void TestBounded::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY2(m_dir->isValid(), qPrintable(m_dir->errorString()));
}

void TestBounded::pingFlood_data()
{
    QTest::addColumn<bool>("asAgent");
    QTest::addRow("without a token") << false;
    QTest::addRow("as an agent") << true;
}

void TestBounded::pingFlood()
{
    // Pings as fast as the host takes them, never reading its pongs: old hosts queued
    // every pong (19 MB to 3.6 GB in 10 s).
    QFETCH(bool, asAgent);
    Siege siege(QStringLiteral("ping flood, ") + QLatin1String(QTest::currentDataTag()), m_dir->path());
    QString error;
    QVERIFY2(siege.start(hostConfig(), &error), qPrintable(error));
    QVERIFY2(siege.takeBaseline(FloodAllowanceMiB, &error), qPrintable(error));

    AttackPlan plan;
    if (asAgent) {
        plan.hello = [] {
            return agentHello(QStringLiteral("pinger"));
        };
        plan.waitFor = "welcome";
    }
    plan.reads = false;
    const QByteArray pings = repeated(RawWebSocket::frame(0x9, QByteArray(125, 'p')), 512);
    plan.load = [pings] {
        return pings;
    };
    siege.attackWith(plan);
    siege.probeFor(6000);
    siege.terminate();

    QStringList problems = siege.problems();
    if (siege.stats().bytesSent < 16 * MiB)
        problems << QStringLiteral("the attack sent only %1 MiB of pings").arg(toMiB(siege.stats().bytesSent));
    QVERIFY2(problems.isEmpty(), qPrintable(siege.describe(problems)));
}

void TestBounded::lockoutWithoutToken()
{
    // Idle connections without a token, reopened as the host closes them, from
    // 127.0.0.1 and from other loopback addresses, which count as the same address:
    // on old hosts every rightful agent got 1013.
    Siege siege(QStringLiteral("lockout without a token"), m_dir->path());
    QString error;
    QVERIFY2(siege.start(hostConfig(), &error), qPrintable(error));
    QVERIFY2(siege.takeBaseline(FloodAllowanceMiB, &error), qPrintable(error));

    const int perAddress = 32; // limits.max_connections_per_address, by default
    // The rightful users come from 127.0.0.1 too: until its request is read, the host
    // cannot tell one from an attacker's idle connection.
    siege.host().allowReconnects(5);
    const quint16 port = siege.host().port();
    AttackStats* stats = &siege.stats();
    const std::atomic<bool>* halt = siege.halt();
    siege.attack([=](QObject* context) {
        for (int i = 0; i < 80; ++i) {
            AttackPlan plan;
            // 40 from 127.0.0.1, then 5 each from 127.0.0.2 to 127.0.0.9.
            plan.source = QHostAddress(quint32(i < 40 ? 0x7f000001 : 0x7f000002 + (i - 40) / 5));
            plan.upgrade = i % 2 == 1; // half stop after TCP, half after the upgrade
            plan.reconnectMs = 100;
            (new Attacker(port, plan, stats, halt, context))->open();
        }
    });
    siege.probeFor(6000);
    siege.terminate();

    qInfo("%s: the host held at most %d sockets (%d open files)", qPrintable(siege.name()), siege.peakSockets(),
          siege.peakFiles());
    QStringList problems = siege.problems();
    // The listening socket and a few on their way out besides the address's budget.
    if (siege.peakSockets() > perAddress + 8) {
        problems << QStringLiteral("the host held %1 sockets for loopback peers: 127.x.y.z do not share one "
                                   "budget of %2")
                        .arg(siege.peakSockets())
                        .arg(perAddress);
    }
    if (siege.stats().connections < 80)
        problems << QStringLiteral("only %1 attackers got connected").arg(siege.stats().connections.load());
    QVERIFY2(problems.isEmpty(), qPrintable(siege.describe(problems)));
}

void TestBounded::agentIdChurn()
{
    // Fresh agent ids, each posting a line and leaving: old hosts kept every one
    // (100,000 ids: 1.4 GB, an 18 MB snapshot, no file handles left).
    const int maxAgents = 200;
    const int maxOpenFiles = 32;
    const int churners = 8;
    const QString logs = m_dir->filePath(QStringLiteral("logs"));
    Siege siege(QStringLiteral("agent id churn"), m_dir->path());
    QString error;
    QVERIFY2(siege.start(hostConfig({{QStringLiteral("max_agents"), maxAgents}},
                                    {{QStringLiteral("dir"), logs}, {QStringLiteral("max_open_files"), maxOpenFiles}}),
                         &error, 256),
             qPrintable(error));
    QVERIFY2(siege.takeBaseline(FloodAllowanceMiB, &error), qPrintable(error));

    // A viewer of everything counts the agents the host forgets.
    TestClient watcher;
    QVERIFY(watcher.open(siege.host().url()));
    QVERIFY(!watcher.helloViewer(Token).isEmpty());
    watcher.subscribe({{QStringLiteral("agents"), QJsonArray{QStringLiteral("*")}}, {QStringLiteral("history"), 0}});
    int removed = 0;
    const auto countRemoved = [&] {
        for (const QJsonObject& m : watcher.pending()) {
            if (m.value(QStringLiteral("type")).toString() == QLatin1String("agent")
                && m.value(QStringLiteral("event")).toString() == QLatin1String("removed"))
                ++removed;
        }
        watcher.clear();
    };

    const quint16 port = siege.host().port();
    AttackStats* stats = &siege.stats();
    const std::atomic<bool>* halt = siege.halt();
    siege.attack([=](QObject* context) {
        for (int k = 0; k < churners; ++k) {
            const auto serial = std::make_shared<qint64>(0);
            const auto id = [k, serial] {
                return QStringLiteral("churn-%1-%2").arg(k).arg(*serial);
            };
            AttackPlan plan;
            plan.hello = [serial, id, stats] {
                ++*serial;
                ++stats->items;
                return agentHello(id());
            };
            plan.waitFor = "welcome";
            plan.opening = [id]() -> QByteArray {
                const QByteArray closeNormal("\x03\xe8", 2);
                return textFrame(compact(logMessage({textLine(QStringLiteral("hello from ") + id())})))
                    + textFrame(R"({"type":"forum","messages":[{"text":"here and gone"}]})")
                    + RawWebSocket::frame(0x8, closeNormal);
            };
            plan.cycle = true;
            (new Attacker(port, plan, stats, halt, context))->open();
        }
    });
    siege.probeFor(8000, 1000, countRemoved);
    siege.terminate();
    countRemoved();

    qsizetype mostAgents = 0;
    qint64 largestSnapshot = 0;
    for (const Probe& p : siege.probes()) {
        mostAgents = std::max(mostAgents, p.snapshot.value(QStringLiteral("agents")).toArray().size());
        largestSnapshot = std::max(largestSnapshot, p.snapshotBytes);
    }
    const qsizetype logFiles = QDir(logs).entryList({QStringLiteral("*.log")}, QDir::Files).size();
    const int filesAllowed = siege.baselineFiles() + maxOpenFiles + 2 * churners + 16;
    qInfo("%s: %lld agent ids; snapshots of at most %lld agents and %lld bytes; %d removed events; "
          "at most %d open files (baseline %d, allowed %d); %lld log files on disk",
          qPrintable(siege.name()), qlonglong(siege.stats().items.load()), qlonglong(mostAgents), largestSnapshot,
          removed, siege.peakFiles(), siege.baselineFiles(), filesAllowed, qlonglong(logFiles));

    QStringList problems = siege.problems();
    if (mostAgents > maxAgents)
        problems << QStringLiteral("a snapshot listed %1 agents, over max_agents %2").arg(mostAgents).arg(maxAgents);
    if (largestSnapshot > 256 * 1024)
        problems << QStringLiteral("a snapshot was %1 bytes").arg(largestSnapshot);
    if (removed == 0)
        problems << QStringLiteral("no agent was ever removed");
    if (siege.peakFiles() > filesAllowed)
        problems << QStringLiteral("the host had %1 files open, over %2").arg(siege.peakFiles()).arg(filesAllowed);
    if (siege.stats().items < 2 * maxAgents)
        problems << QStringLiteral("only %1 agent ids were tried").arg(siege.stats().items.load());
    if (logFiles <= maxAgents && problems.isEmpty())
        problems << QStringLiteral("only %1 log files on disk: forgotten agents' files must stay").arg(logFiles);
    QVERIFY2(problems.isEmpty(), qPrintable(siege.describe(problems)));
}

void TestBounded::gapLists()
{
    // Only odd numbers, as fast as possible, under a rate limit: every line leaves a
    // gap behind it, and old hosts kept and replayed every one.
    const int maxGaps = 1000;
    Siege siege(QStringLiteral("gap lists"), m_dir->path());
    QString error;
    QVERIFY2(siege.start(hostConfig({{QStringLiteral("rate_limit_lines_per_s"), 1000},
                                     {QStringLiteral("max_gaps_per_agent"), maxGaps}}),
                         &error),
             qPrintable(error));
    QVERIFY2(siege.takeBaseline(FloodAllowanceMiB, &error), qPrintable(error));

    AttackPlan plan;
    plan.hello = [] {
        return agentHello(QStringLiteral("gappy"));
    };
    plan.waitFor = "welcome";
    const auto next = std::make_shared<qint64>(1);
    AttackStats* stats = &siege.stats();
    plan.load = [next, stats] {
        QByteArray chunk;
        for (int f = 0; f < 16; ++f) {
            QByteArray json = R"({"type":"log","lines":[)";
            for (int i = 0; i < 100; ++i) {
                json += (i ? R"(,{"seq":)" : R"({"seq":)") + QByteArray::number(*next) + R"(,"text":"x"})";
                *next += 2;
            }
            json += "]}";
            chunk += textFrame(json);
        }
        stats->items += 1600;
        return chunk;
    };
    siege.attackWith(plan);
    siege.probeFor(5000);
    siege.stopAttack();

    // A viewer that wants everything from the start gets it, gaps and all, at once.
    TestClient viewer;
    QVERIFY(viewer.open(siege.host().url()));
    QVERIFY(!viewer.helloViewer(Token).isEmpty());
    const double cpu0 = cpuSeconds(siege.host().pid());
    QElapsedTimer clock;
    clock.start();
    viewer.sendJson(
        {{QStringLiteral("type"), QStringLiteral("subscribe")},
         {QStringLiteral("agents"), QJsonArray{QStringLiteral("gappy")}},
         {QStringLiteral("since"), QJsonObject{{QStringLiteral("gappy"), QJsonObject{{QStringLiteral("log"), 0}}}}}});
    StreamRecord replay;
    qint64 last = 0;
    bool subscribed = false;
    const QDeadlineTimer deadline(30000);
    while (!subscribed && !deadline.hasExpired()) {
        const QJsonObject m = viewer.next({}, 100);
        const QString type = m.value(QStringLiteral("type")).toString();
        if (type == QLatin1String("gap")) {
            replay.gaps.append(m);
            last = std::max(last, m.value(QStringLiteral("to")).toInteger());
        } else if (type == QLatin1String("log")) {
            for (const QJsonValue& line : m.value(QStringLiteral("lines")).toArray()) {
                replay.seqs.append(line.toObject().value(QStringLiteral("seq")).toInteger());
                last = std::max(last, replay.seqs.constLast());
            }
        }
        subscribed = type == QLatin1String("subscribed");
    }
    const qint64 replayMs = clock.elapsed();
    const qsizetype gaps = replay.gaps.size();
    const qsizetype lines = replay.seqs.size();
    const double replayCpu = cpuSeconds(siege.host().pid()) - cpu0;
    siege.probeOnce();
    siege.terminate();

    qInfo("%s: %lld odd numbers sent; replay from 0 to %lld: %lld lines and %lld gaps in %lld ms%s, host CPU %.2f s",
          qPrintable(siege.name()), qlonglong(siege.stats().items.load()), last, qlonglong(lines), qlonglong(gaps),
          replayMs, subscribed ? "" : " (unfinished)", replayCpu);
    QStringList problems = siege.problems();
    if (!subscribed || replayMs > ProbeLimitMs)
        problems << QStringLiteral("the replay took %1 ms%2")
                        .arg(replayMs)
                        .arg(subscribed ? QString() : QStringLiteral(" and did not end"));
    if (gaps > maxGaps + 2)
        problems << QStringLiteral("%1 gaps replayed, over max_gaps_per_agent %2").arg(gaps).arg(maxGaps);
    // Merged gaps still account for every number once: each is a line or inside one gap.
    QString uncovered;
    if (subscribed && !replay.coversExactly(last, &uncovered))
        problems << QStringLiteral("the replay does not account for every number: ") + uncovered;
    if (siege.stats().items < 10 * maxGaps)
        problems << QStringLiteral("only %1 lines were sent").arg(siege.stats().items.load());
    QVERIFY2(problems.isEmpty(), qPrintable(siege.describe(problems)));
}

void TestBounded::historyFloodFromStalledViewer()
{
    // A viewer that never reads asks for 5,000 lines of a big console, again and again.
    Siege siege(QStringLiteral("history flood from a stalled viewer"), m_dir->path());
    QString error;
    QVERIFY2(siege.start(hostConfig(), &error), qPrintable(error));

    // The console: 40,000 lines of 200 bytes, held in memory (no log files).
    const int total = 40000;
    QVERIFY(fillConsole(siege.host().url(), QStringLiteral("big"), total, 1000, QString(190, QLatin1Char('h'))));
    QVERIFY2(siege.takeBaseline(FloodAllowanceMiB, &error), qPrintable(error));

    AttackPlan plan;
    plan.hello = [] {
        return viewerHello();
    };
    plan.reads = false;
    QByteArray requests;
    for (int i = 0; i < 200; ++i) {
        requests +=
            textFrame(R"({"type":"history","id":"h)" + QByteArray::number(i) + R"(","agent":"big","limit":5000})");
    }
    plan.load = [requests] {
        return requests;
    };
    siege.attackWith(plan);
    siege.probeFor(6000);
    siege.terminate();

    QStringList problems = siege.problems();
    QVERIFY2(problems.isEmpty(), qPrintable(siege.describe(problems)));
}

void TestBounded::hugeStatusToStalledViewer()
{
    // An agent sends statuses, questions and metrics of almost 1 MB each while viewers
    // that never read are subscribed to everything: old hosts stored them and queued
    // each for every viewer.
    Siege siege(QStringLiteral("huge statuses to stalled viewers"), m_dir->path());
    QString error;
    QVERIFY2(siege.start(hostConfig(), &error), qPrintable(error));
    QVERIFY2(siege.takeBaseline(FloodAllowanceMiB, &error), qPrintable(error));

    // A hello whose description is too big is refused as well.
    QString fatHello;
    {
        TestClient fat;
        QVERIFY(fat.open(siege.host().url()));
        fat.sendJson({{QStringLiteral("type"), QStringLiteral("hello")},
                      {QStringLiteral("protocol"), 1},
                      {QStringLiteral("role"), QStringLiteral("agent")},
                      {QStringLiteral("token"), Token},
                      {QStringLiteral("agent"),
                       QJsonObject{{QStringLiteral("id"), QStringLiteral("fat")},
                                   {QStringLiteral("name"), QString(100000, QLatin1Char('n'))}}}});
        const QJsonObject answer = awaitMessage(fat, {}, QDeadlineTimer(5000));
        const QString type = answer.value(QStringLiteral("type")).toString();
        const QString code = answer.value(QStringLiteral("code")).toString();
        if (type != QLatin1String("error") || code != QLatin1String("bad_message")) {
            fatHello = QStringLiteral("a hello with a 100 KB agent name got %1, not bad_message")
                           .arg(type.isEmpty() ? QStringLiteral("nothing") : QString(type + u' ' + code).trimmed());
        }
    }

    const int huge = 900000;
    QByteArray metrics = R"({"type":"metrics","values":{)";
    for (int i = 0; metrics.size() < huge; ++i)
        metrics += (i ? ",\"k" : "\"k") + QByteArray::number(i) + "\":" + QByteArray::number(i);
    metrics += "}}";
    const QByteArray frames = textFrame(R"({"type":"status","state":"busy","text":")" + QByteArray(huge, 'S') + R"("})")
        + textFrame(R"({"type":"ask","id":"huge","text":")" + QByteArray(huge, 'A') + R"("})") + textFrame(metrics);

    const quint16 port = siege.host().port();
    AttackStats* stats = &siege.stats();
    const std::atomic<bool>* halt = siege.halt();
    siege.attack([=](QObject* context) {
        AttackPlan stalled;
        stalled.hello = [] {
            return viewerHello();
        };
        stalled.waitFor = "\"snapshot\"";
        stalled.opening = [] {
            return textFrame(R"({"type":"subscribe","agents":["*"],"history":0})");
        };
        stalled.reads = false;
        for (int i = 0; i < 2; ++i)
            (new Attacker(port, stalled, stats, halt, context))->open();
        AttackPlan bomb;
        bomb.hello = [] {
            return agentHello(QStringLiteral("statusbomb"));
        };
        bomb.waitFor = "welcome";
        bomb.load = [frames, stats] {
            stats->items += 3;
            return frames;
        };
        auto* attacker = new Attacker(port, bomb, stats, halt, context);
        QTimer::singleShot(300, attacker, [attacker] { attacker->open(); }); // after the viewers subscribed
    });
    siege.probeFor(6000);
    siege.terminate();

    qint64 largestSnapshot = 0;
    for (const Probe& p : siege.probes())
        largestSnapshot = std::max(largestSnapshot, p.snapshotBytes);
    qInfo("%s: %lld huge messages sent, %lld bad_message errors seen; snapshots of at most %lld bytes",
          qPrintable(siege.name()), qlonglong(siege.stats().items.load()), qlonglong(siege.stats().badMessages.load()),
          largestSnapshot);
    QStringList problems = siege.problems();
    if (siege.stats().badMessages == 0)
        problems << QStringLiteral("the agent never got bad_message for a message over max_status_bytes");
    if (largestSnapshot > 64 * 1024)
        problems
            << QStringLiteral("a snapshot was %1 bytes: a huge status or question was stored").arg(largestSnapshot);
    if (!fatHello.isEmpty())
        problems << fatHello;
    QVERIFY2(problems.isEmpty(), qPrintable(siege.describe(problems)));
}

void TestBounded::hugeCommandsToDeafAgent()
{
    // A viewer sends commands with 1 MiB of args, and with 60 KB of args, to an agent
    // that never reads: the first are refused outright, the second once the agent's
    // connection has more than viewer_backlog_bytes unsent.
    Siege siege(QStringLiteral("huge commands to a deaf agent"), m_dir->path());
    QString error;
    QVERIFY2(siege.start(hostConfig(), &error), qPrintable(error));
    QVERIFY2(siege.takeBaseline(FloodAllowanceMiB, &error), qPrintable(error));

    const quint16 port = siege.host().port();
    AttackStats* stats = &siege.stats();
    const std::atomic<bool>* halt = siege.halt();
    siege.attack([=](QObject* context) {
        AttackPlan deaf;
        deaf.hello = [] {
            return agentHello(QStringLiteral("deaf"));
        };
        deaf.waitFor = "welcome";
        deaf.reads = false;
        (new Attacker(port, deaf, stats, halt, context))->open();

        AttackPlan commander;
        commander.hello = [] {
            return viewerHello();
        };
        commander.waitFor = "\"snapshot\"";
        const auto serial = std::make_shared<qint64>(0);
        const QByteArray bigArgs = R"({"blob":")" + QByteArray(1000000, 'B') + R"("})";
        const QByteArray smallArgs = R"({"blob":")" + QByteArray(60000, 's') + R"("})";
        commander.load = [serial, bigArgs, smallArgs, stats] {
            QByteArray chunk;
            for (const QByteArray* args : {&bigArgs, &smallArgs}) {
                chunk += textFrame(R"({"type":"command","id":"c)" + QByteArray::number(++*serial)
                                   + R"(","agent":"deaf","name":"eat","args":)" + *args + '}');
            }
            stats->items += 2;
            return chunk;
        };
        auto* attacker = new Attacker(port, commander, stats, halt, context);
        QTimer::singleShot(300, attacker, [attacker] { attacker->open(); }); // once the agent is there
    });
    siege.probeFor(6000);
    siege.terminate();

    qInfo("%s: %lld commands sent; results seen: %lld bad_message, %lld rate_limited", qPrintable(siege.name()),
          qlonglong(siege.stats().items.load()), qlonglong(siege.stats().badMessages.load()),
          qlonglong(siege.stats().rateLimited.load()));
    QStringList problems = siege.problems();
    if (siege.stats().badMessages == 0)
        problems << QStringLiteral("no command with args over max_command_args_bytes was refused with bad_message");
    if (siege.stats().rateLimited == 0)
        problems << QStringLiteral("no command to the agent that never reads was refused with rate_limited");
    QVERIFY2(problems.isEmpty(), qPrintable(siege.describe(problems)));
}

void TestBounded::unsolicitedPongs()
{
    // A peer that answers no ping but sends a pong of its own every 200 ms: only
    // answers to the host's pings keep a connection alive.
    const int idleTimeoutMs = 2000;
    Siege siege(QStringLiteral("unsolicited pongs"), m_dir->path());
    QString error;
    QVERIFY2(siege.start(hostConfig({{QStringLiteral("ping_interval_ms"), 500},
                                     {QStringLiteral("idle_timeout_ms"), idleTimeoutMs},
                                     {QStringLiteral("close_grace_ms"), 1000}}),
                         &error),
             qPrintable(error));
    QVERIFY2(siege.takeBaseline(LightAllowanceMiB, &error), qPrintable(error));

    RawWebSocket ponger;
    QVERIFY(ponger.connectTcp(siege.host().port()));
    QCOMPARE(ponger.upgrade(), 101);
    QElapsedTimer sinceHello;
    sinceHello.start();
    ponger.sendText(agentHello(QStringLiteral("ponger")));
    RawWebSocket::Frame frame;
    bool welcomed = false;
    while (!welcomed && ponger.nextFrame(&frame, 5000))
        welcomed = frame.opcode == 0x1 && frame.payload.contains("\"welcome\"");
    QVERIFY(welcomed);

    int closeCode = -1;
    qint64 closedMs = -1;
    const auto check = [&] {
        RawWebSocket::Frame f;
        while (closedMs < 0 && ponger.nextFrame(&f, 0)) {
            if (f.opcode == 0x8) {
                closeCode = f.payload.size() >= 2 ? (uchar(f.payload[0]) << 8 | uchar(f.payload[1])) : 1005;
                closedMs = sinceHello.elapsed();
            }
        }
        if (closedMs < 0 && ponger.socket()->state() == QAbstractSocket::UnconnectedState)
            closedMs = sinceHello.elapsed();
    };
    QObject::connect(ponger.socket(), &QTcpSocket::readyRead, &ponger, check);
    QObject::connect(ponger.socket(), &QTcpSocket::disconnected, &ponger, check);
    QTimer pongs;
    int sent = 0;
    QObject::connect(&pongs, &QTimer::timeout, &ponger, [&] {
        if (closedMs < 0)
            ponger.sendFrame(0xA, "unsolicited " + QByteArray::number(++sent));
    });
    pongs.start(200);
    siege.probeFor(idleTimeoutMs + 2500, 500);
    pongs.stop();
    check();
    siege.terminate();

    const QString outcome = closedMs < 0
        ? QStringLiteral("never")
        : QStringLiteral("%1 ms after its hello, close code %2").arg(closedMs).arg(closeCode);
    qInfo("%s: %d pongs sent; closed %s", qPrintable(siege.name()), sent, qPrintable(outcome));
    QStringList problems = siege.problems();
    if (closedMs < 0 || closedMs > idleTimeoutMs + 1500) {
        problems << QStringLiteral("the connection was still open %1 ms after its hello (idle_timeout_ms %2)")
                        .arg(closedMs < 0 ? sinceHello.elapsed() : closedMs)
                        .arg(idleTimeoutMs);
    } else if (closedMs < idleTimeoutMs - 200) {
        problems << QStringLiteral("the connection was closed after %1 ms, before idle_timeout_ms").arg(closedMs);
    }
    QVERIFY2(problems.isEmpty(), qPrintable(siege.describe(problems)));
}

void TestBounded::askFlood()
{
    // Two agents send 150,000 questions each as fast as they can: old hosts kept
    // every one and put them all in each viewer's snapshot.
    const int maxAsksPerAgent = 100;
    const int maxAsks = 150;
    Siege siege(QStringLiteral("ask flood"), m_dir->path());
    QString error;
    // The abuse limit would cut the agents off after 50 errors; here they go on.
    QVERIFY2(siege.start(hostConfig({{QStringLiteral("max_asks_per_agent"), maxAsksPerAgent},
                                     {QStringLiteral("max_asks"), maxAsks},
                                     {QStringLiteral("abuse_limit"), 100000000}}),
                         &error),
             qPrintable(error));
    QVERIFY2(siege.takeBaseline(FloodAllowanceMiB, &error), qPrintable(error));

    const quint16 port = siege.host().port();
    AttackStats* stats = &siege.stats();
    const std::atomic<bool>* halt = siege.halt();
    siege.attack([=](QObject* context) {
        for (const QString& id : {QStringLiteral("asker-a"), QStringLiteral("asker-b")}) {
            AttackPlan plan;
            plan.hello = [id] {
                return agentHello(id);
            };
            plan.waitFor = "welcome";
            const auto serial = std::make_shared<qint64>(0);
            plan.load = [serial, stats] {
                QByteArray chunk;
                for (int i = 0; i < 1000 && *serial < 150000; ++i) {
                    const QByteArray n = QByteArray::number(++*serial);
                    chunk += textFrame(R"({"type":"ask","id":"q)" + n + R"(","text":"Publish report )" + n
                                       + R"(?","choices":["approve","reject"]})");
                    ++stats->items;
                }
                return chunk;
            };
            (new Attacker(port, plan, stats, halt, context))->open();
        }
    });
    siege.probeFor(5000);
    siege.terminate();

    qsizetype mostAsks = 0;
    qsizetype mostOfOne = 0;
    qint64 largestSnapshot = 0;
    for (const Probe& p : siege.probes()) {
        const QJsonArray asks = p.snapshot.value(QStringLiteral("asks")).toArray();
        mostAsks = std::max(mostAsks, asks.size());
        QHash<QString, qsizetype> perAgent;
        for (const QJsonValue& ask : asks)
            mostOfOne = std::max(mostOfOne, ++perAgent[ask.toObject().value(QStringLiteral("agent")).toString()]);
        largestSnapshot = std::max(largestSnapshot, p.snapshotBytes);
    }
    qInfo("%s: %lld questions sent, %lld rate_limited errors seen; snapshots of at most %lld questions "
          "(%lld of one agent) and %lld bytes",
          qPrintable(siege.name()), qlonglong(siege.stats().items.load()), qlonglong(siege.stats().rateLimited.load()),
          qlonglong(mostAsks), qlonglong(mostOfOne), largestSnapshot);
    QStringList problems = siege.problems();
    if (mostAsks > maxAsks)
        problems << QStringLiteral("a snapshot held %1 questions, over max_asks %2").arg(mostAsks).arg(maxAsks);
    if (mostOfOne > maxAsksPerAgent) {
        problems << QStringLiteral("a snapshot held %1 questions of one agent, over max_asks_per_agent %2")
                        .arg(mostOfOne)
                        .arg(maxAsksPerAgent);
    }
    if (largestSnapshot > 128 * 1024)
        problems << QStringLiteral("a snapshot was %1 bytes").arg(largestSnapshot);
    if (siege.stats().rateLimited == 0)
        problems << QStringLiteral("the agents never got rate_limited");
    if (siege.stats().items < 10 * maxAsks)
        problems << QStringLiteral("only %1 questions were sent").arg(siege.stats().items.load());
    QVERIFY2(problems.isEmpty(), qPrintable(siege.describe(problems)));
}

void TestBounded::sequenceOverflow()
{
    // Numbers at the end of what JSON and 64 bits hold: old hosts took 2^63 - 1 and
    // numbered the next line past it.
    Siege siege(QStringLiteral("sequence overflow"), m_dir->path());
    QString error;
    QVERIFY2(siege.start(hostConfig(), &error), qPrintable(error));
    QVERIFY2(siege.takeBaseline(LightAllowanceMiB, &error), qPrintable(error));

    TestClient viewer;
    QVERIFY(viewer.open(siege.host().url()));
    QVERIFY(!viewer.helloViewer(Token).isEmpty());
    viewer.subscribe({{QStringLiteral("agents"), QJsonArray{QStringLiteral("seq")}}, {QStringLiteral("history"), 0}});
    TestClient agent;
    QVERIFY(agent.open(siege.host().url()));
    QVERIFY(!agent.helloAgent(Token, QStringLiteral("seq")).isEmpty());

    QStringList problems;
    const auto expectRefused = [&](const QByteArray& json) {
        agent.sendText(QString::fromUtf8(json));
        const QString code = agent.next(QStringLiteral("error"), 3000).value(QStringLiteral("code")).toString();
        if (code != QLatin1String("bad_message")) {
            problems << QStringLiteral("%1 got %2, not bad_message")
                            .arg(QString::fromUtf8(json), code.isEmpty() ? QStringLiteral("no error") : code);
        }
    };
    QList<qint64> seqs;
    QStringList texts;
    const auto collect = [&](int count) {
        const QDeadlineTimer deadline(3000);
        while (seqs.size() < count && !deadline.hasExpired()) {
            const QJsonObject m = viewer.next(QStringLiteral("log"), 50);
            for (const QJsonValue& v : m.value(QStringLiteral("lines")).toArray()) {
                seqs.append(v.toObject().value(QStringLiteral("seq")).toInteger());
                texts.append(v.toObject().value(QStringLiteral("text")).toString());
            }
        }
    };

    expectRefused(R"({"type":"log","lines":[{"seq":9223372036854775807,"text":"2^63 - 1"}]})");
    expectRefused(R"({"type":"log","lines":[{"seq":9007199254740992,"text":"2^53"}]})");
    expectRefused(R"({"type":"forum","messages":[{"seq":9223372036854775807,"text":"2^63 - 1"}]})");
    agent.sendJson(logMessage({textLine(QStringLiteral("a")), textLine(QStringLiteral("b"))}));
    collect(2);
    // More than 2^40 beyond the last number (2).
    expectRefused(R"({"type":"log","lines":[{"seq":1099511627779,"text":"2 + 2^40 + 1"}]})");
    agent.sendJson(logMessage({textLine(QStringLiteral("c")), textLine(QStringLiteral("d"))}));
    collect(4);

    viewer.sendJson({{QStringLiteral("type"), QStringLiteral("history")},
                     {QStringLiteral("id"), QStringLiteral("h1")},
                     {QStringLiteral("agent"), QStringLiteral("seq")},
                     {QStringLiteral("limit"), 100}});
    QList<qint64> historySeqs;
    QStringList historyTexts;
    for (const QJsonValue& v : viewer.next(QStringLiteral("history"), 3000).value(QStringLiteral("lines")).toArray()) {
        historySeqs.append(v.toObject().value(QStringLiteral("seq")).toInteger());
        historyTexts.append(v.toObject().value(QStringLiteral("text")).toString());
    }
    siege.probeOnce();
    siege.terminate();

    const auto list = [](const QList<qint64>& numbers) {
        QStringList shown;
        for (qint64 n : numbers)
            shown << QString::number(n);
        return shown.join(u',');
    };
    qInfo("%s: live %s (%s), history %s (%s)", qPrintable(siege.name()), qPrintable(list(seqs)),
          qPrintable(texts.join(u',')), qPrintable(list(historySeqs)), qPrintable(historyTexts.join(u',')));
    problems << siege.problems();
    const QList<qint64> expected{1, 2, 3, 4};
    const QStringList expectedTexts{QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c"), QStringLiteral("d")};
    if (seqs != expected || texts != expectedTexts)
        problems
            << QStringLiteral("a live viewer got %1 (%2), not 1,2,3,4 (a,b,c,d)").arg(list(seqs), texts.join(u','));
    if (historySeqs != expected || historyTexts != expectedTexts) {
        problems << QStringLiteral("history gave %1 (%2), not 1,2,3,4 (a,b,c,d)")
                        .arg(list(historySeqs), historyTexts.join(u','));
    }
    QVERIFY2(problems.isEmpty(), qPrintable(siege.describe(problems)));
}

void TestBounded::idleTcpUnderFileLimit()
{
    // 300 TCP connections that send nothing, against a host allowed 256 open files:
    // old hosts ran out of handles and spun on the listening socket.
    const int fileLimit = 256;
    const int attackers = 300;
    Siege siege(QStringLiteral("idle TCP under a file limit"), m_dir->path());
    QString error;
    // Only the total counts here, not the address's share.
    QVERIFY2(siege.start(hostConfig({{QStringLiteral("max_connections_per_address"), 100000}}), &error, fileLimit),
             qPrintable(error));
    QVERIFY2(siege.takeBaseline(FloodAllowanceMiB, &error), qPrintable(error));

    const quint16 port = siege.host().port();
    AttackStats* stats = &siege.stats();
    const std::atomic<bool>* halt = siege.halt();
    siege.attack([=](QObject* context) {
        AttackPlan plan;
        plan.upgrade = false;
        plan.reconnectMs = -1;
        for (int i = 0; i < attackers; ++i) {
            auto* attacker = new Attacker(port, plan, stats, halt, context);
            // Ten every 10 ms, not to overflow the listening socket's backlog at once.
            QTimer::singleShot(i / 10 * 10, attacker, [attacker] { attacker->open(); });
        }
    });
    // Those the kernel turned away at first retry a second or three later.
    const bool allConnected = QTest::qWaitFor([&] { return siege.stats().connections >= attackers; }, 5000);

    const qint64 pid = siege.host().pid();
    const double cpu0 = cpuSeconds(pid);
    QElapsedTimer wall;
    wall.start();
    siege.probeFor(4000, 200);
    const double cpuShare = (cpuSeconds(pid) - cpu0) / (double(wall.elapsed()) / 1000);
    siege.terminate();

    const int filesAllowed = fileLimit - fileLimit / 8;
    qInfo("%s: %lld of %d connected%s, %lld dropped by the host; host CPU %.0f %% while they were held; at most %d "
          "open files (%d sockets), allowed %d",
          qPrintable(siege.name()), qlonglong(siege.stats().connections.load()), attackers,
          allConnected ? "" : " (not all in 5 s)", qlonglong(siege.stats().dropped.load()), cpuShare * 100,
          siege.peakFiles(), siege.peakSockets(), filesAllowed);
    QStringList problems = siege.problems();
    if (cpuShare > 0.2)
        problems << QStringLiteral("the host used %1 % of a core with idle connections").arg(cpuShare * 100, 0, 'f', 0);
    if (siege.peakFiles() > filesAllowed) {
        problems << QStringLiteral("the host had %1 files open of its %2: connections are not kept well under it")
                        .arg(siege.peakFiles())
                        .arg(fileLimit);
    }
    QVERIFY2(problems.isEmpty(), qPrintable(siege.describe(problems)));
}

void TestBounded::closeWithUnreadInput_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<int>("closeCode");
    QTest::addRow("200 bad messages") << QStringLiteral("abuse") << 1008;
    QTest::addRow("a message over the limit") << QStringLiteral("oversize") << 1009;
    QTest::addRow("an unmasked frame") << QStringLiteral("unmasked") << 1002;
}

void TestBounded::closeWithUnreadInput()
{
    // The host closes while the client is still sending and has not read what the host
    // sent it: closing a socket with unread input resets the connection, which throws
    // away what was still queued for the client, close frame included.
    QFETCH(QString, kind);
    QFETCH(int, closeCode);
    Siege siege(QStringLiteral("close with unread input, ") + QLatin1String(QTest::currentDataTag()), m_dir->path());
    QString error;
    QVERIFY2(siege.start(hostConfig({{QStringLiteral("max_message_bytes"), 65536}}), &error), qPrintable(error));

    // 600 lines of 1 KB for the client to fall behind on.
    const int total = 600;
    QVERIFY(fillConsole(siege.host().url(), QStringLiteral("filler"), total, 50, QString(1000, QLatin1Char('f'))));
    QVERIFY2(siege.takeBaseline(LightAllowanceMiB, &error), qPrintable(error));

    // A viewer asks for the lines and stops reading: they fill what the kernel holds for it.
    RawWebSocket client;
    QVERIFY(client.connectTcp(siege.host().port()));
    QCOMPARE(client.upgrade(), 101);
    client.sendText(viewerHello());
    RawWebSocket::Frame frame;
    bool welcomed = false;
    while (!welcomed && client.nextFrame(&frame, 5000))
        welcomed = frame.opcode == 0x1 && frame.payload.contains("\"snapshot\"");
    QVERIFY(welcomed);
    client.stopReading();
    client.sendText(R"({"type":"subscribe","agents":["filler"],"history":1000})");
    QTest::qWait(300);

    // Then, as fast as it can, what makes the host close.
    QByteArray flood;
    if (kind == QLatin1String("abuse")) {
        for (int i = 0; i < 200; ++i) {
            flood += textFrame(R"({"type":"no_such_type","n":)" + QByteArray::number(i) + R"(,"pad":")"
                               + QByteArray(4000, 'p') + R"("})");
        }
    } else if (kind == QLatin1String("oversize")) {
        flood = textFrame(R"({"type":"unsubscribe","agents":[")" + QByteArray(1024 * 1024, 'o') + R"("]})");
    } else {
        // Frames from a client must be masked.
        const QByteArray unsubscribe = R"({"type":"unsubscribe","agents":[")" + QByteArray(4000, 'u') + R"("]})";
        flood = repeated(RawWebSocket::frame(0x1, unsubscribe, true, false), 64);
    }
    client.socket()->write(flood);
    QTest::qWait(500);
    client.resumeReading();
    const int seen = client.waitCloseCode(5000);
    const bool stillOpen = seen < 0 && client.socket()->state() == QAbstractSocket::ConnectedState;
    siege.probeOnce();
    siege.terminate();

    const QString outcome = stillOpen ? QStringLiteral("no close: the connection stayed open")
        : seen < 0                    ? QStringLiteral("no close frame before the connection ended (1006)")
                                      : QStringLiteral("close code %1").arg(seen);
    qInfo("%s: the client saw %s (expected close code %d)", qPrintable(siege.name()), qPrintable(outcome), closeCode);
    QStringList problems = siege.problems();
    if (seen != closeCode)
        problems << QStringLiteral("the client saw %1, not close code %2").arg(outcome).arg(closeCode);
    QVERIFY2(problems.isEmpty(), qPrintable(siege.describe(problems)));
}

QTEST_GUILESS_MAIN(TestBounded)
#include "tst_bounded.moc"
