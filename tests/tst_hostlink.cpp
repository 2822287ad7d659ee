// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/consolemodel.h"
#include "models/fleet.h"
#include "models/forummodel.h"
#include "server/engine/embeddedhost.h"
#include "server/engine/hostserver.h"
#include "server/link/linksession.h"
#include "server/link/locallink.h"
#include "server/link/remotelink.h"
#include "support/fixtures.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSslCertificate>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QWebSocket>
#include <csignal>
#include <map>
#include <memory>

using Link::Event;

namespace {

const QString Token = QStringLiteral("link-test-token");

QByteArray lineText(qint64 seq)
{
    return "line " + QByteArray::number(seq);
}

void sendJson(QWebSocket& socket, const QJsonObject& message)
{
    socket.sendTextMessage(QString::fromUtf8(QJsonDocument(message).toJson(QJsonDocument::Compact)));
}

/*
 * An agent that numbers its lines and, like a careful bot, reconnects when its
 * host goes away and resends from the host's resume_from. It answers commands.
 */
class NumberingAgent final : public QObject
{
public:
    NumberingAgent(const QUrl& url, const QString& id, int linesPerTick)
        : m_url(url)
        , m_id(id)
        , m_linesPerTick(linesPerTick)
    {
        connect(&m_socket, &QWebSocket::connected, this, [this] {
            QJsonObject agent{{QStringLiteral("id"), m_id}, {QStringLiteral("name"), m_id}};
            agent.insert(QStringLiteral("commands"),
                         QJsonArray{QJsonObject{{QStringLiteral("name"), QStringLiteral("ping")}}});
            send(QJsonObject{{QStringLiteral("type"), QStringLiteral("hello")},
                             {QStringLiteral("protocol"), 1},
                             {QStringLiteral("role"), QStringLiteral("agent")},
                             {QStringLiteral("token"), Token},
                             {QStringLiteral("agent"), agent}});
        });
        connect(&m_socket, &QWebSocket::textMessageReceived, this, [this](const QString& text) {
            const QJsonObject message = QJsonDocument::fromJson(text.toUtf8()).object();
            const QString type = message.value(QStringLiteral("type")).toString();
            if (type == QLatin1String("welcome")) {
                // Everything after what the host has is resent: this agent can rebuild any line.
                m_next =
                    message.value(QStringLiteral("resume_from")).toObject().value(QStringLiteral("log")).toInteger()
                    + 1;
                m_welcomed = true;
                ++m_welcomes;
            } else if (type == QLatin1String("command")) {
                const QString answer = QStringLiteral("did ") + message.value(QStringLiteral("name")).toString();
                send(QJsonObject{{QStringLiteral("type"), QStringLiteral("result")},
                                 {QStringLiteral("id"), message.value(QStringLiteral("id"))},
                                 {QStringLiteral("ok"), true},
                                 {QStringLiteral("text"), answer}});
            }
        });
        connect(&m_socket, &QWebSocket::disconnected, this, [this] {
            m_welcomed = false;
            QTimer::singleShot(50, this, [this] { m_socket.open(m_url); });
        });
        connect(&m_tick, &QTimer::timeout, this, &NumberingAgent::onTick);
        m_tick.start(5);
        m_socket.open(m_url);
    }

    /// Lines up to this number are written; 0: no limit.
    void setLimit(qint64 last) { m_limit = last; }
    qint64 lastSent() const { return m_next - 1; }
    bool isWelcomed() const { return m_welcomed; }
    int welcomes() const { return m_welcomes; }

private:
    void onTick()
    {
        if (!m_welcomed)
            return;
        QJsonArray lines;
        for (int i = 0; i < m_linesPerTick && (m_limit == 0 || m_next <= m_limit); ++i, ++m_next) {
            lines.append(QJsonObject{{QStringLiteral("seq"), m_next},
                                     {QStringLiteral("level"), QStringLiteral("INFO")},
                                     {QStringLiteral("text"), QString::fromLatin1(lineText(m_next))}});
        }
        if (!lines.isEmpty())
            send(QJsonObject{{QStringLiteral("type"), QStringLiteral("log")}, {QStringLiteral("lines"), lines}});
    }

    void send(const QJsonObject& message) { sendJson(m_socket, message); }

    QUrl m_url;
    QString m_id;
    int m_linesPerTick;
    QWebSocket m_socket;
    QTimer m_tick;
    qint64 m_next = 1;
    qint64 m_limit = 0;
    bool m_welcomed = false;
    int m_welcomes = 0;
};

/*
 * A bot that posts console lines or forum messages ("item 1", "item 2"...), with
 * its own numbers or without. Numbering, it resends everything after the host's
 * resume_from when it reconnects, as the protocol asks; not numbering, it goes on
 * with its next item.
 */
class PostingBot final : public QObject
{
public:
    PostingBot(const QUrl& url, const QString& kind, bool numbered)
        : m_url(url)
        , m_kind(kind)
        , m_numbered(numbered)
    {
        connect(&m_socket, &QWebSocket::connected, this, [this] {
            send(QJsonObject{{QStringLiteral("type"), QStringLiteral("hello")},
                             {QStringLiteral("protocol"), 1},
                             {QStringLiteral("role"), QStringLiteral("agent")},
                             {QStringLiteral("token"), Token},
                             {QStringLiteral("agent"), QJsonObject{{QStringLiteral("id"), QStringLiteral("bot")}}}});
        });
        connect(&m_socket, &QWebSocket::textMessageReceived, this, [this](const QString& text) {
            const QJsonObject message = QJsonDocument::fromJson(text.toUtf8()).object();
            if (message.value(QStringLiteral("type")).toString() != QLatin1String("welcome"))
                return;
            ++m_welcomes;
            const qint64 resume = message.value(QStringLiteral("resume_from")).toObject().value(m_kind).toInteger();
            if (m_numbered) {
                const qint64 posted = m_next - 1;
                m_next = resume + 1;
                post(int(posted - resume));
            }
        });
        connect(&m_socket, &QWebSocket::disconnected, this,
                [this] { QTimer::singleShot(50, this, [this] { m_socket.open(m_url); }); });
        m_socket.open(m_url);
    }

    int welcomes() const { return m_welcomes; }

    /// Posts the next count items, one message each.
    void post(int count)
    {
        for (int i = 0; i < count; ++i, ++m_next) {
            QJsonObject item{{QStringLiteral("text"), QStringLiteral("item %1").arg(m_next)}};
            if (m_numbered)
                item.insert(QStringLiteral("seq"), m_next);
            const bool log = m_kind == QLatin1String("log");
            send(QJsonObject{{QStringLiteral("type"), m_kind},
                             {log ? QStringLiteral("lines") : QStringLiteral("messages"), QJsonArray{item}}});
        }
    }

private:
    void send(const QJsonObject& message) { sendJson(m_socket, message); }

    QUrl m_url;
    QString m_kind;
    bool m_numbered;
    QWebSocket m_socket;
    qint64 m_next = 1;
    int m_welcomes = 0;
};

/*
 * Takes a link's events as a window would and checks, per agent, that every
 * log number arrives exactly once and in order, or inside a gap.
 */
class Recorder final : public QObject
{
public:
    explicit Recorder(HostLink* link)
        : m_link(link)
    {
        connect(link, &HostLink::eventsReady, this, &Recorder::take);
        connect(link, &HostLink::statusChanged, this, [this] {
            const HostLink::Status status = m_link->status();
            m_states.append(status.state);
            if (status.state == HostLink::State::Offline) {
                ++m_offline;
                m_lastOffline = status;
                m_retryDelays.append(status.retryDelayMs);
            }
        });
    }

    void take()
    {
        const QList<Event> events = m_link->takeEvents();
        for (const Event& e : events) {
            ++m_eventCounts[int(e.type)];
            switch (e.type) {
            case Event::Type::Log:
                for (const Link::ConsoleLine& line : e.lines) {
                    if (line.partial)
                        continue;
                    Stream& s = m_streams[e.agent];
                    if (s.next != 0 && line.seq != s.next)
                        m_problems.append(
                            QStringLiteral("%1: line %2 where %3 was due").arg(e.agent).arg(line.seq).arg(s.next));
                    if (line.text != lineText(line.seq) && e.agent != QLatin1String("free"))
                        m_problems.append(QStringLiteral("%1: line %2 reads %3")
                                              .arg(e.agent)
                                              .arg(line.seq)
                                              .arg(QString::fromUtf8(line.text)));
                    s.next = line.seq + 1;
                    ++s.lines;
                }
                break;
            case Event::Type::Gap:
                if (e.kind == QLatin1String("log")) {
                    Stream& s = m_streams[e.agent];
                    if (s.next != 0 && e.from != s.next)
                        m_problems.append(
                            QStringLiteral("%1: gap from %2 where %3 was due").arg(e.agent).arg(e.from).arg(s.next));
                    s.next = e.to + 1;
                    s.gaps.append(e.reason);
                }
                break;
            case Event::Type::Renumbered:
                if (e.kind == QLatin1String("log")) {
                    // The host lost e.to + 1 .. e.from: they come again, counted once.
                    Stream& s = m_streams[e.agent];
                    s.lines -= s.next - 1 - e.to;
                    s.next = e.to + 1;
                    ++s.renumberings;
                }
                break;
            case Event::Type::Snapshot:
                m_snapshots.append(e);
                break;
            case Event::Type::Result:
                m_results.insert(e.id, e);
                break;
            default:
                break;
            }
        }
    }

    struct Stream
    {
        qint64 next = 0;
        qint64 lines = 0;
        QStringList gaps;
        int renumberings = 0;
    };

    qint64 nextOf(const QString& agent) const { return m_streams.count(agent) ? m_streams.at(agent).next : 0; }
    const Stream& stream(const QString& agent) { return m_streams[agent]; }
    int count(Event::Type type) const { return m_eventCounts.value(int(type)); }

    HostLink* m_link;
    std::map<QString, Stream> m_streams;
    QHash<int, int> m_eventCounts;
    QStringList m_problems;
    QList<Event> m_snapshots;
    QHash<QString, Event> m_results;
    QList<HostLink::State> m_states;
    QList<int> m_retryDelays;
    int m_offline = 0;
    HostLink::Status m_lastOffline;
};

/// Forwards TCP connections to a target port, and can cut them all at once.
class TcpProxy final : public QObject
{
public:
    explicit TcpProxy(quint16 target)
        : m_target(target)
    {
        m_server.listen(QHostAddress::LocalHost, 0);
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket* client = m_server.nextPendingConnection()) {
                auto* upstream = new QTcpSocket(client);
                // Until the upstream connection is up, what the client sends waits in its buffer.
                connect(client, &QTcpSocket::readyRead, upstream, [client, upstream] {
                    if (upstream->state() == QAbstractSocket::ConnectedState)
                        upstream->write(client->readAll());
                });
                connect(upstream, &QTcpSocket::readyRead, client, [client, upstream] {
                    if (client->state() == QAbstractSocket::ConnectedState)
                        client->write(upstream->readAll());
                });
                connect(upstream, &QTcpSocket::connected, client,
                        [client, upstream] { upstream->write(client->readAll()); });
                connect(client, &QTcpSocket::disconnected, client, &QObject::deleteLater);
                connect(upstream, &QTcpSocket::disconnected, client, [client] { client->abort(); });
                upstream->connectToHost(QHostAddress::LocalHost, m_target);
                m_clients.append(client);
            }
        });
    }

    quint16 port() const { return m_server.serverPort(); }

    /// Cuts every connection, as a lost network would: no close frames.
    void dropAll()
    {
        for (const QPointer<QTcpSocket>& client : std::as_const(m_clients)) {
            if (client)
                client->abort();
        }
        m_clients.clear();
    }

private:
    quint16 m_target;
    QTcpServer m_server;
    QList<QPointer<QTcpSocket>> m_clients;
};

/// agentdeck-host as a child process, with its own state directory.
class HostProcess final
{
public:
    explicit HostProcess(const QString& home)
        : m_home(home)
    { }

    ~HostProcess()
    {
        if (m_process.state() != QProcess::NotRunning) {
            ::kill(pid_t(m_process.processId()), SIGCONT);
            m_process.kill();
            m_process.waitForFinished(5000);
        }
    }

    bool start(quint16 port)
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("XDG_CONFIG_HOME"), m_home + QStringLiteral("/config"));
        env.insert(QStringLiteral("XDG_STATE_HOME"), m_home + QStringLiteral("/state"));
        m_process.setProcessEnvironment(env);
        m_process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        endsWithTest(m_process);
        m_process.start(QStringLiteral(AGENTDECK_HOST_EXECUTABLE),
                        {QStringLiteral("--port"), QString::number(port), QStringLiteral("--token"), Token});
        if (!m_process.waitForStarted(10000))
            return false;
        // The host says where it listens once it does.
        return QTest::qWaitFor(
                   [this] {
                       m_output += m_process.readAllStandardOutput();
                       return m_output.contains("ws://") || m_process.state() == QProcess::NotRunning;
                   },
                   20000)
            && m_process.state() == QProcess::Running;
    }

    void signal(int signal) { ::kill(pid_t(m_process.processId()), signal); }

    bool waitForExit()
    {
        return QTest::qWaitFor([this] { return m_process.state() == QProcess::NotRunning; }, 10000);
    }

private:
    QString m_home;
    QProcess m_process;
    QByteArray m_output;
};

QUrl wsUrl(quint16 port)
{
    return QUrl(QStringLiteral("ws://127.0.0.1:%1/").arg(port));
}

RemoteLink::Settings quickSettings(const QUrl& url)
{
    RemoteLink::Settings settings;
    settings.url = url;
    settings.token = Token;
    settings.backoffInitialMs = 50;
    settings.backoffMaxMs = 400;
    return settings;
}

HostConfig hostConfig()
{
    HostConfig config;
    config.port = 0;
    config.token = Token;
    config.logDirectory.clear();
    return config;
}

} // namespace

class TestHostLink : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void sessionDecodesAndResumes();
    void localLinkDeliversAndCommands();
    void remoteLinkResumesAfterHostKilled();
    void restartedHostLosesNoItem_data();
    void restartedHostLosesNoItem();
    void hostThatLostItsFilesIsShown_data();
    void hostThatLostItsFilesIsShown();
    void remoteLinkSurvivesFiftyDrops();
    void hostThatNeverAnswers();
    void silentHostFoundByPing();
    void wrongTokenIsTheReason();
    void certificates();
    void commandsWithoutConnection();
};

void TestHostLink::sessionDecodesAndResumes()
{
    LinkChannel channel;
    LinkSession session(&channel);
    session.setHistory(50);
    session.connectionStarted();
    session.handleMessage(
        R"({"type":"welcome","protocol":1,"role":"viewer","host":{"id":"H1","name":"box","version":"0.1.0"}})");
    QVERIFY(session.isWelcomed());
    QByteArray subscribe = session.handleMessage(
        R"({"type":"snapshot","host":{"id":"H1","name":"box","version":"0.1.0"},
            "agents":[{"id":"a","name":"A","origin":"launched","state":"running","pid":7,"started_at":5,"restarts":2,
                       "commands":[{"name":"pause","help":"p"}],"last_seq":{"log":9,"forum":1},
                       "process":{"state":"running","exit_code":3},"connected":false,
                       "definition":{"command":"/bin/true"}}],
            "asks":[{"agent":"a","id":"q1","text":"ok?","choices":["yes","no"],"ts":4}]})");
    QVERIFY(subscribe.contains("\"history\":50"));
    QVERIFY(subscribe.contains("\"since\":{}")); // nothing seen yet: history, not since
    QList<Event> events = channel.take();
    QCOMPARE(events.size(), 1);
    QCOMPARE(events[0].type, Event::Type::Snapshot);
    QCOMPARE(events[0].host.name, QStringLiteral("box"));
    QCOMPARE(events[0].agents.size(), 1);
    const Link::AgentInfo& a = events[0].agents[0];
    QCOMPARE(a.pid, 7);
    QCOMPARE(a.restarts, 2);
    QCOMPARE(a.commands.size(), 1);
    QCOMPARE(a.lastLogSeq, 9);
    QCOMPARE(a.processState, QStringLiteral("running"));
    QCOMPARE(a.exitCode, 3);
    QCOMPARE(a.definition, QByteArray(R"({"command":"/bin/true"})"));
    QCOMPARE(events[0].asks.size(), 1);
    QCOMPARE(events[0].asks[0].choices, QStringList({QStringLiteral("yes"), QStringLiteral("no")}));

    // Lines: in order once, duplicates dropped, a jump the host did not explain reported.
    session.handleMessage(R"({"type":"log","agent":"a","lines":[
        {"seq":8,"ts":1,"level":"error","stream":"stderr","source":"s","text":"eight"},
        {"seq":9,"ts":2,"text":"nine"},{"text":"progress","partial":true}]})");
    session.handleMessage(
        R"({"type":"log","agent":"a","lines":[{"seq":9,"text":"nine again"},{"seq":12,"text":"twelve"}]})");
    session.handleMessage(R"({"type":"gap","agent":"a","kind":"log","from":10,"to":20,"reason":"evicted"})");
    session.handleMessage(R"({"type":"log","agent":"a","lines":[{"seq":21,"text":"twenty-one"}]})");
    events = channel.take();
    QCOMPARE(events.size(), 5);
    QCOMPARE(events[0].lines.size(), 3);
    QCOMPARE(events[0].lines[0].level, LogLevel::Error);
    QCOMPARE(events[0].lines[0].stream, Protocol::Stream::Stderr);
    QCOMPARE(events[0].lines[0].source, QByteArray("s"));
    QVERIFY(events[0].lines[2].partial);
    QCOMPARE(events[1].type, Event::Type::Gap);
    QCOMPARE(events[1].reason, QLatin1String(Link::GapReasonName::Missing));
    QCOMPARE(events[1].from, 10);
    QCOMPARE(events[1].to, 11);
    QCOMPARE(events[2].lines.size(), 1);
    QCOMPARE(events[2].lines[0].text, QByteArray("twelve"));
    // The host's gap overlaps what was delivered; only the rest is a gap.
    QCOMPARE(events[3].type, Event::Type::Gap);
    QCOMPARE(events[3].from, 13);
    QCOMPARE(events[3].to, 20);
    QCOMPARE(events[4].lines[0].seq, 21);

    // A pending command fails when the connection ends; a reconnect resumes with since.
    session.commandMessage(QStringLiteral("c1"), QStringLiteral("a"), QStringLiteral("pause"), "{}");
    session.connectionEnded(QStringLiteral("cut"));
    events = channel.take();
    QCOMPARE(events.size(), 1);
    QCOMPARE(events[0].type, Event::Type::Result);
    QCOMPARE(events[0].error, QStringLiteral("disconnected"));
    session.connectionStarted();
    subscribe = session.handleMessage(R"({"type":"snapshot","host":{"id":"H1"},"agents":[{"id":"a"}],"asks":[]})");
    QVERIFY2(subscribe.contains(R"("since":{"a":{"log":21,"forum":0}})"), subscribe.constData());
    QVERIFY(!channel.take().constFirst().hostChanged);

    // The same history with fewer numbers than seen (the host lost what it had not saved,
    // or lost its files and numbered new lines anew while the link was away): said once,
    // the host's lines are asked for again (the models drop those they hold), and what
    // comes after is passed on.
    session.connectionStarted();
    subscribe = session.handleMessage(
        R"({"type":"snapshot","host":{"id":"H1"},"agents":[{"id":"a","last_seq":{"log":15,"forum":0}}],"asks":[]})");
    QVERIFY2(subscribe.contains(R"("since":{"a":{"log":0,"forum":0}})"), subscribe.constData());
    events = channel.take();
    QCOMPARE(events.size(), 2);
    QCOMPARE(events[0].type, Event::Type::Renumbered);
    QCOMPARE(events[0].kind, QStringLiteral("log"));
    QCOMPARE(events[0].from, 21);
    QCOMPARE(events[0].to, 15);
    QCOMPARE(events[0].resumeAfter, 0);
    QCOMPARE(events[1].type, Event::Type::Snapshot);
    QByteArray replay = R"({"type":"log","agent":"a","lines":[)";
    for (int seq = 1; seq <= 16; ++seq)
        replay += (seq > 1 ? "," : "") + QByteArray(R"({"seq":)") + QByteArray::number(seq) + R"(,"text":"x"})";
    session.handleMessage(replay + "]}");
    events = channel.take();
    QCOMPARE(events.size(), 1);
    QCOMPARE(events[0].lines.size(), 16);
    QCOMPARE(events[0].lines.constFirst().seq, 1);
    // An agent event with numbers at or above those seen is no renumbering.
    session.handleMessage(R"({"type":"agent","event":"changed","agent":{"id":"a","last_seq":{"log":16,"forum":0}}})");
    QCOMPARE(channel.take().size(), 1);
    session.handleMessage(R"({"type":"agent","event":"added","agent":{"id":"a","last_seq":{"log":2,"forum":0}}})");
    events = channel.take();
    QCOMPARE(events.size(), 2);
    QCOMPARE(events[0].type, Event::Type::Renumbered);
    QCOMPARE(events[0].from, 16);
    QCOMPARE(events[0].to, 2);
    // Subscribed already: the host sends only what comes next.
    QCOMPARE(events[0].resumeAfter, 2);

    // Another history: numbers start over.
    session.connectionStarted();
    subscribe = session.handleMessage(R"({"type":"snapshot","host":{"id":"H2"},"agents":[{"id":"a"}],"asks":[]})");
    QVERIFY(subscribe.contains("\"since\":{}"));
    QVERIFY(channel.take().constFirst().hostChanged);
    session.handleMessage(R"({"type":"log","agent":"a","lines":[{"seq":1,"text":"one"}]})");
    QCOMPARE(channel.take().size(), 1);
    // Forum numbers are apart from log numbers: a first message replayed from 5 is no hole.
    session.handleMessage(R"({"type":"forum","agent":"a","messages":[{"seq":5,"sender":"A","text":"hi"}]})");
    events = channel.take();
    QCOMPARE(events.size(), 1);
    QCOMPARE(events[0].type, Event::Type::Forum);
    QCOMPARE(events[0].messages[0].sender, QStringLiteral("A"));

    // Not JSON, and unknown types, are counted and skipped.
    session.handleMessage("{nope");
    session.handleMessage(R"({"type":"mystery"})");
    QCOMPARE(session.badMessages(), 2);
    QVERIFY(channel.take().isEmpty());
}

void TestHostLink::localLinkDeliversAndCommands()
{
    // As in the desktop: the engine on its own thread, the link on this one.
    EmbeddedHost host(hostConfig());
    QString error;
    QVERIFY2(host.start(&error), qPrintable(error));
    const QUrl url = host.url();
    HostServer* server = host.server();

    NumberingAgent agent(url, QStringLiteral("worker"), 20);
    QTRY_VERIFY(agent.isWelcomed());
    {
        LocalLink link(server);
        QCOMPARE(link.displayName(), QStringLiteral("This computer"));
        Recorder recorder(&link);
        link.open();
        QTRY_COMPARE(link.state(), HostLink::State::Online);
        QTRY_VERIFY(recorder.nextOf(QStringLiteral("worker")) > 2000);
        QVERIFY2(recorder.m_problems.isEmpty(), qPrintable(recorder.m_problems.join(QLatin1Char('\n'))));
        QCOMPARE(recorder.count(Event::Type::Snapshot), 1);
        QCOMPARE(recorder.count(Event::Type::Subscribed), 1);

        const QString id = link.sendCommand(QStringLiteral("worker"), QStringLiteral("ping"));
        QTRY_VERIFY(recorder.m_results.contains(id));
        QVERIFY(recorder.m_results[id].ok);
        QCOMPARE(recorder.m_results[id].text, QStringLiteral("did ping"));
        const QString unknown = link.sendCommand(QStringLiteral("nobody"), QStringLiteral("ping"));
        QTRY_VERIFY(recorder.m_results.contains(unknown));
        QCOMPARE(recorder.m_results[unknown].error, QStringLiteral("unknown_agent"));

        // Stopping the engine closes the view.
        host.stop();
        QTRY_COMPARE(link.state(), HostLink::State::Offline);
        QVERIFY(link.status().reason.contains(QLatin1String("host shutting down")));
    }
}

void TestHostLink::remoteLinkResumesAfterHostKilled()
{
    QTemporaryDir home;
    const quint16 port = portOutsideEphemeralRange();
    auto host = std::make_unique<HostProcess>(home.path());
    QVERIFY(host->start(port));

    NumberingAgent agent(wsUrl(port), QStringLiteral("steady"), 25);
    RemoteLink link(quickSettings(wsUrl(port)));
    Recorder recorder(&link);
    link.open();
    QTRY_COMPARE(link.state(), HostLink::State::Online);
    QTRY_VERIFY(recorder.nextOf(QStringLiteral("steady")) > 3000);
    const QString hostId = link.status().host.id;

    // Killed outright mid-stream, then started again on the same port and state directory.
    host->signal(SIGKILL);
    QVERIFY(host->waitForExit());
    QTRY_COMPARE(link.state(), HostLink::State::Offline);
    QVERIFY(!link.status().reason.isEmpty());
    QVERIFY(link.status().nextAttemptAt > 0);
    const qint64 before = recorder.nextOf(QStringLiteral("steady"));
    host = std::make_unique<HostProcess>(home.path());
    QVERIFY(host->start(port));
    QTRY_COMPARE_WITH_TIMEOUT(link.state(), HostLink::State::Online, 15000);
    QCOMPARE(link.status().host.id, hostId); // the same history: the link resumed, not restarted

    QTRY_VERIFY_WITH_TIMEOUT(recorder.nextOf(QStringLiteral("steady")) > before + 3000, 20000);
    agent.setLimit(agent.lastSent() + 100);
    const qint64 last = agent.lastSent() + 100;
    QTRY_COMPARE_WITH_TIMEOUT(recorder.nextOf(QStringLiteral("steady")), last + 1, 20000);
    QVERIFY2(recorder.m_problems.isEmpty(), qPrintable(recorder.m_problems.join(QLatin1Char('\n'))));
    // Every number arrived as a line: the agent resent what the killed host had not kept,
    // which the link passes on again (the console drops what repeats a line it holds).
    QCOMPARE(recorder.stream(QStringLiteral("steady")).lines, last);
    QVERIFY(recorder.stream(QStringLiteral("steady")).gaps.isEmpty());
    QVERIFY(recorder.stream(QStringLiteral("steady")).renumberings <= 1);
}

namespace {

/// The texts the desktop shows for agent "bot": its console lines, or its forum
/// messages; notices of AgentDeck's own are counted apart.
QStringList shownItems(Fleet& fleet, const QString& host, const QString& kind, int* notices = nullptr)
{
    QStringList texts;
    int seen = 0;
    if (kind == QLatin1String("log")) {
        ConsoleModel* console = fleet.console(host, QStringLiteral("bot"));
        console->flush();
        for (int row = 0; row < console->rowCount(); ++row) {
            const QModelIndex index = console->index(row, 0);
            if (index.data(ConsoleModel::KindRole).toInt() == int(Console::Kind::Line))
                texts.append(index.data(ConsoleModel::TextRole).toString());
            else
                ++seen;
        }
    } else {
        ForumModel* forum = fleet.forum();
        for (int row = 0; row < forum->rowCount(); ++row) {
            const QModelIndex index = forum->index(row, 0);
            if (index.data(ForumModel::SenderRole).toString() == ForumModel::NoticeSender)
                ++seen;
            else
                texts.append(index.data(ForumModel::TextRole).toString());
        }
    }
    if (notices)
        *notices = seen;
    return texts;
}

QStringList items(int from, int to)
{
    QStringList texts;
    for (int i = from; i <= to; ++i)
        texts.append(QStringLiteral("item %1").arg(i));
    return texts;
}

} // namespace

void TestHostLink::restartedHostLosesNoItem_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<bool>("numbered");
    QTest::addColumn<int>("signal");
    for (const char* kind : {"log", "forum"}) {
        for (const bool numbered : {false, true}) {
            for (const int signal : {SIGTERM, SIGKILL}) {
                QTest::addRow("%s, %s, %s", kind, numbered ? "numbered" : "unnumbered",
                              signal == SIGTERM ? "SIGTERM" : "SIGKILL")
                    << QString::fromLatin1(kind) << numbered << signal;
            }
        }
    }
}

void TestHostLink::restartedHostLosesNoItem()
{
    // The real agentdeck-host with its default state folder, stopped mid-stream and
    // started again; a bot posts before and after, and the desktop watches.
    QFETCH(QString, kind);
    QFETCH(bool, numbered);
    QFETCH(int, signal);
    QTemporaryDir home;
    const quint16 port = portOutsideEphemeralRange();
    auto host = std::make_unique<HostProcess>(home.path());
    QVERIFY(host->start(port));
    Fleet fleet;
    const QString key = fleet.addHost(new RemoteLink(quickSettings(wsUrl(port))));
    PostingBot bot(wsUrl(port), kind, numbered);
    QTRY_COMPARE(bot.welcomes(), 1);
    bot.post(25);
    QTRY_COMPARE(shownItems(fleet, key, kind), items(1, 25));

    host->signal(signal);
    QVERIFY(host->waitForExit());
    host = std::make_unique<HostProcess>(home.path());
    QVERIFY(host->start(port));
    QTRY_COMPARE_WITH_TIMEOUT(bot.welcomes(), 2, 15000);
    bot.post(10);

    // Every item once, in order: none skipped as "already seen" though the host may
    // have lost some it had sent (killed before saving them) and numbered anew.
    int notices = 0;
    QTRY_COMPARE_WITH_TIMEOUT(shownItems(fleet, key, kind, &notices), items(1, 35), 15000);
    if (signal == SIGTERM)
        QCOMPARE(notices, 0); // a clean stop keeps every number
    QTest::qWait(300);
    QCOMPARE(shownItems(fleet, key, kind), items(1, 35));
}

void TestHostLink::hostThatLostItsFilesIsShown_data()
{
    QTest::addColumn<bool>("viewerFirst");
    QTest::newRow("viewer back first") << true;
    // The host numbered new messages from 1 before the viewer came back.
    QTest::newRow("messages first") << false;
}

void TestHostLink::hostThatLostItsFilesIsShown()
{
    // The host keeps its id but loses the agent's forum and console files between
    // runs: its numbers go back to 0. What it sends then is new and is shown, after a
    // notice in the console and in the forum; nothing is taken for a resend.
    QFETCH(bool, viewerFirst);
    QTemporaryDir home;
    const quint16 port = portOutsideEphemeralRange();
    auto host = std::make_unique<HostProcess>(home.path());
    QVERIFY(host->start(port));
    Fleet fleet;
    const QString key = fleet.addHost(new RemoteLink(quickSettings(wsUrl(port))));
    PostingBot forumBot(wsUrl(port), QStringLiteral("forum"), false);
    QTRY_COMPARE(forumBot.welcomes(), 1);
    forumBot.post(25);
    QTRY_COMPARE(shownItems(fleet, key, QStringLiteral("forum")), items(1, 25));
    const QString hostId = fleet.link(key)->status().host.id;

    host->signal(SIGTERM);
    QVERIFY(host->waitForExit());
    const QString logs = home.filePath(QStringLiteral("state/agentdeck/logs/"));
    QVERIFY(QFile::exists(logs + QStringLiteral("bot.forum")));
    QVERIFY(QFile::remove(logs + QStringLiteral("bot.forum")));
    if (!viewerFirst)
        fleet.link(key)->close();
    host = std::make_unique<HostProcess>(home.path());
    QVERIFY(host->start(port));
    QTRY_COMPARE_WITH_TIMEOUT(forumBot.welcomes(), 2, 15000);
    if (viewerFirst)
        QTRY_COMPARE_WITH_TIMEOUT(fleet.link(key)->state(), HostLink::State::Online, 15000);
    QTRY_COMPARE(fleet.link(key)->status().host.id, hostId);
    forumBot.post(5);
    if (!viewerFirst) {
        const auto stored = [&] {
            QFile file(logs + QStringLiteral("bot.forum"));
            return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
        };
        QTRY_VERIFY_WITH_TIMEOUT(stored().contains("item 30"), 15000);
        fleet.link(key)->open();
    }

    int notices = 0;
    QTRY_COMPARE_WITH_TIMEOUT(shownItems(fleet, key, QStringLiteral("forum"), &notices), items(1, 30), 15000);
    QCOMPARE(notices, 1);
    // The notice stands between the old messages and the new ones.
    QCOMPARE(fleet.forum()->index(25, 0).data(ForumModel::SenderRole).toString(), ForumModel::NoticeSender);
}

void TestHostLink::remoteLinkSurvivesFiftyDrops()
{
    HostServer host(hostConfig());
    QVERIFY(host.start());
    TcpProxy proxy(host.port());
    NumberingAgent agent(host.url(), QStringLiteral("busy"), 100); // about 20,000 lines a second
    QTRY_VERIFY(agent.isWelcomed());

    RemoteLink link(quickSettings(wsUrl(proxy.port())));
    Recorder recorder(&link);
    link.open();
    int drops = 0;
    QTRY_COMPARE_WITH_TIMEOUT(link.state(), HostLink::State::Online, 10000);
    while (drops < 50) {
        const qint64 seen = recorder.nextOf(QStringLiteral("busy"));
        QTRY_VERIFY_WITH_TIMEOUT(recorder.nextOf(QStringLiteral("busy")) > seen + 500, 10000);
        proxy.dropAll();
        ++drops;
        // Back by itself: a new snapshot. (It can be offline for less time than one look
        // at its state takes, so the snapshots count the reconnections.)
        QTRY_VERIFY_WITH_TIMEOUT(recorder.count(Event::Type::Snapshot) > drops, 10000);
    }
    QTRY_COMPARE_WITH_TIMEOUT(link.state(), HostLink::State::Online, 10000);
    agent.setLimit(agent.lastSent() + 1000);
    const qint64 last = agent.lastSent() + 1000;
    QTRY_COMPARE_WITH_TIMEOUT(recorder.nextOf(QStringLiteral("busy")), last + 1, 30000);
    QVERIFY2(recorder.m_problems.isEmpty(), qPrintable(recorder.m_problems.join(QLatin1Char('\n'))));
    // Status changes that follow each other faster than the thread looks are seen as the last one.
    QVERIFY(recorder.m_offline > 0);
    QCOMPARE(recorder.count(Event::Type::Snapshot), 51);
    // Every number came as a line or inside a gap (checked above). A gap only says the
    // link fell behind the host (a slow machine); lines missed while away are resent.
    const Recorder::Stream& busy = recorder.stream(QStringLiteral("busy"));
    for (const QString& reason : busy.gaps)
        QCOMPARE(reason, QStringLiteral("slow_consumer"));
    QVERIFY(busy.lines > last / 2);
    qInfo("%lld lines over 51 connections, %lld of them in %lld gaps", last, last - busy.lines,
          qint64(busy.gaps.size()));
}

void TestHostLink::hostThatNeverAnswers()
{
    // It accepts the TCP connection and then says nothing at all.
    QTcpServer silent;
    QVERIFY(silent.listen(QHostAddress::LocalHost, 0));
    QList<QTcpSocket*> held;
    connect(&silent, &QTcpServer::newConnection, this, [&] {
        while (QTcpSocket* socket = silent.nextPendingConnection())
            held.append(socket);
    });
    RemoteLink::Settings settings = quickSettings(wsUrl(silent.serverPort()));
    settings.connectTimeoutMs = 300;
    settings.backoffInitialMs = 200;
    settings.backoffMaxMs = 800;
    RemoteLink link(settings);
    Recorder recorder(&link);
    link.open();
    QTRY_VERIFY_WITH_TIMEOUT(recorder.m_offline >= 4, 15000);
    QCOMPARE(recorder.m_lastOffline.reason, QStringLiteral("no answer from the host within 0.3 s"));
    QCOMPARE(link.state() == HostLink::State::Online, false);
    // Each try waits about twice as long as the one before (±20 %), up to the cap.
    const QList<int>& waits = recorder.m_retryDelays;
    QVERIFY(waits.size() >= 4);
    QVERIFY2(waits[0] >= 160 && waits[0] <= 240, qPrintable(QString::number(waits[0])));
    QVERIFY2(waits[1] >= 320 && waits[1] <= 480, qPrintable(QString::number(waits[1])));
    QVERIFY2(waits[2] >= 640 && waits[2] <= 800, qPrintable(QString::number(waits[2])));
    QVERIFY2(waits[3] >= 640 && waits[3] <= 800, qPrintable(QString::number(waits[3])));
    qDeleteAll(held);
}

void TestHostLink::silentHostFoundByPing()
{
    // A host that stops answering with its connection open (a frozen machine, a dead
    // route) is found by pings, not by TCP.
    QTemporaryDir home;
    const quint16 port = portOutsideEphemeralRange();
    HostProcess host(home.path());
    QVERIFY(host.start(port));
    RemoteLink::Settings settings = quickSettings(wsUrl(port));
    settings.pingIntervalMs = 200;
    settings.idleTimeoutMs = 1000;
    settings.connectTimeoutMs = 2000;
    RemoteLink link(settings);
    Recorder recorder(&link);
    link.open();
    QTRY_COMPARE(link.state(), HostLink::State::Online);
    // Pings keep a quiet but living host online.
    QTest::qWait(1500);
    QCOMPARE(link.state(), HostLink::State::Online);
    host.signal(SIGSTOP);
    // The reason stays while the link tries again (and the host keeps failing to answer).
    QTRY_VERIFY_WITH_TIMEOUT(link.status().reason.contains(QLatin1String("ping timeout")), 5000);
    QVERIFY(link.state() != HostLink::State::Online);
    host.signal(SIGCONT);
    QTRY_COMPARE_WITH_TIMEOUT(link.state(), HostLink::State::Online, 10000);
}

void TestHostLink::wrongTokenIsTheReason()
{
    HostServer host(hostConfig());
    QVERIFY(host.start());
    RemoteLink::Settings settings = quickSettings(host.url());
    settings.token = QStringLiteral("wrong");
    RemoteLink link(settings);
    Recorder recorder(&link);
    link.open();
    QTRY_VERIFY(recorder.m_offline >= 1);
    QVERIFY2(recorder.m_lastOffline.reason.contains(QLatin1String("unauthorized")),
             qPrintable(recorder.m_lastOffline.reason));
}

void TestHostLink::certificates()
{
    QTemporaryDir dir;
    const QString cert = dir.filePath(QStringLiteral("cert.pem"));
    const QString key = dir.filePath(QStringLiteral("key.pem"));
    QVERIFY(makeCertificate(cert, key));
    const QList<QSslCertificate> certificates = QSslCertificate::fromPath(cert);
    QCOMPARE(certificates.size(), 1);
    const QByteArray fingerprint = RemoteLink::fingerprint(certificates.first());

    HostConfig config = hostConfig();
    config.tlsCertificate = cert;
    config.tlsKey = key;
    HostServer host(config);
    QVERIFY(host.start());
    QCOMPARE(host.url().scheme(), QStringLiteral("wss"));

    // Not trusted by default: offline, saying why and which certificate it was.
    {
        RemoteLink link(quickSettings(host.url()));
        Recorder recorder(&link);
        link.open();
        QTRY_VERIFY(recorder.m_offline >= 1);
        const QString reason = recorder.m_lastOffline.reason;
        QVERIFY2(reason.startsWith(QLatin1String("certificate not trusted")), qPrintable(reason));
        QVERIFY2(reason.contains(QString::fromLatin1(fingerprint)), qPrintable(reason));
        QVERIFY(link.state() != HostLink::State::Online);
    }
    // Pinned: accepted although self-signed.
    {
        RemoteLink::Settings settings = quickSettings(host.url());
        settings.pinnedSha256 = fingerprint.toLower();
        RemoteLink link(settings);
        link.open();
        QTRY_COMPARE(link.state(), HostLink::State::Online);
    }
    // Trusted as a CA but pinned to another certificate: refused.
    {
        RemoteLink::Settings settings = quickSettings(host.url());
        settings.caCertificates = certificates;
        settings.pinnedSha256 = QByteArray(fingerprint).replace(0, 2, fingerprint.startsWith("00") ? "11" : "00");
        RemoteLink link(settings);
        Recorder recorder(&link);
        link.open();
        QTRY_VERIFY(recorder.m_offline >= 1);
        QVERIFY2(recorder.m_lastOffline.reason.contains(QLatin1String("not the pinned one")),
                 qPrintable(recorder.m_lastOffline.reason));
    }
    // Trusted as a CA.
    {
        RemoteLink::Settings settings = quickSettings(host.url());
        settings.caCertificates = certificates;
        RemoteLink link(settings);
        link.open();
        QTRY_COMPARE(link.state(), HostLink::State::Online);
    }
}

void TestHostLink::commandsWithoutConnection()
{
    HostServer host(hostConfig());
    QVERIFY(host.start());
    TcpProxy proxy(host.port());
    RemoteLink link(quickSettings(wsUrl(proxy.port())));
    Recorder recorder(&link);

    // Not open yet: answered at once by the link.
    const QString early = link.sendCommand(QStringLiteral("x"), QStringLiteral("ping"));
    QTRY_VERIFY(recorder.m_results.contains(early));
    QCOMPARE(recorder.m_results[early].error, QStringLiteral("not_connected"));

    // An agent that takes its time; the connection goes while the command waits.
    QWebSocket agent;
    agent.open(host.url());
    QTRY_COMPARE(agent.state(), QAbstractSocket::ConnectedState);
    agent.sendTextMessage(
        QStringLiteral(R"({"type":"hello","protocol":1,"role":"agent","token":"%1","agent":{"id":"slow"}})")
            .arg(Token));
    link.open();
    QTRY_COMPARE(link.state(), HostLink::State::Online);
    QTRY_VERIFY(host.agentCount() == 1);
    const QString pending = link.sendCommand(QStringLiteral("slow"), QStringLiteral("think"));
    QTest::qWait(200);
    QVERIFY(!recorder.m_results.contains(pending));
    proxy.dropAll();
    QTRY_VERIFY(recorder.m_results.contains(pending));
    QCOMPARE(recorder.m_results[pending].error, QStringLiteral("disconnected"));
    QVERIFY(!recorder.m_results[pending].ok);
}

QTEST_GUILESS_MAIN(TestHostLink)
#include "tst_hostlink.moc"
