// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/engine/hostconfig.h"
#include "server/engine/hostserver.h"
#include "support/fixtures.h"
#include "support/testclient.h"

#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>
#include <memory>

namespace {

const QString Token = QStringLiteral("bettafish-bridge-test-token-0123456789");

QJsonObject json(const char* text)
{
    return QJsonDocument::fromJson(text).object();
}

/*
 * A BettaFish stand-in (tests/python/fake_bettafish.py): the real server's
 * endpoints, events and files, driven through its /_test/ endpoints.
 */
class FakeBettaFish
{
public:
    explicit FakeBettaFish(const QString& logsDir)
        : m_logsDir(logsDir)
    {
        m_http.setProxy(QNetworkProxy::NoProxy);
    }
    ~FakeBettaFish() { stop(); }

    bool start(quint16 port = 0)
    {
        m_process = std::make_unique<QProcess>();
        m_process->setProcessChannelMode(QProcess::SeparateChannels);
        m_process->start(QStringLiteral(AGENTDECK_PYTHON),
                         {QStringLiteral(AGENTDECK_SOURCE_DIR "/tests/python/fake_bettafish.py"),
                          QStringLiteral("--logs-dir"), m_logsDir, QStringLiteral("--port"), QString::number(port),
                          QStringLiteral("--start-delay"), QStringLiteral("0.3"), QStringLiteral("--forum-poll"),
                          QStringLiteral("0.2")});
        if (!m_process->waitForStarted(10000))
            return false;
        QByteArray out;
        QDeadlineTimer deadline(20000);
        while (!out.contains('\n') && !deadline.hasExpired()) {
            m_process->waitForReadyRead(200);
            out += m_process->readAllStandardOutput();
        }
        if (!out.startsWith("PORT ")) {
            qWarning("fake BettaFish did not start: %s %s", out.constData(),
                     m_process->readAllStandardError().constData());
            return false;
        }
        m_port = quint16(out.mid(5).trimmed().toUInt());
        return m_port != 0;
    }
    void stop()
    {
        if (!m_process)
            return;
        m_process->terminate();
        if (!m_process->waitForFinished(5000))
            m_process->kill();
        m_process->waitForFinished(5000);
        m_process.reset();
    }
    quint16 port() const { return m_port; }
    QString url() const { return QStringLiteral("http://127.0.0.1:%1").arg(m_port); }

    QJsonObject post(const QString& path, const QJsonObject& body)
    {
        QNetworkRequest request(QUrl(url() + path));
        request.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
        QNetworkReply* reply = m_http.post(request, QJsonDocument(body).toJson(QJsonDocument::Compact));
        return wait(reply);
    }
    QJsonObject get(const QString& path) { return wait(m_http.get(QNetworkRequest(QUrl(url() + path)))); }
    /// Writes child lines as an app's output; returns what went into its log file (with the time).
    QStringList lines(const QString& app, const QStringList& childLines)
    {
        QStringList written;
        const QJsonObject answer =
            post(QStringLiteral("/_test/lines"),
                 {{QStringLiteral("app"), app}, {QStringLiteral("lines"), QJsonArray::fromStringList(childLines)}});
        for (const QJsonValue& line : answer.value(QStringLiteral("lines")).toArray())
            written.append(line.toString());
        return written;
    }
    void socketMode(const QJsonObject& mode) { post(QStringLiteral("/_test/socket"), mode); }

private:
    QJsonObject wait(QNetworkReply* reply)
    {
        QEventLoop loop;
        QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
        loop.exec();
        const QJsonObject answer = QJsonDocument::fromJson(reply->readAll()).object();
        reply->deleteLater();
        return answer;
    }

    QString m_logsDir;
    std::unique_ptr<QProcess> m_process;
    quint16 m_port = 0;
    QNetworkAccessManager m_http;
};

/// What a viewer received, per agent: console texts, forum messages, the latest agent object.
struct Seen
{
    QHash<QString, QStringList> lines;
    QHash<QString, QList<QJsonObject>> forum;
    QHash<QString, QJsonObject> agents;
    QList<QJsonObject> results;

    void take(const QJsonObject& m)
    {
        const QString type = m.value(QStringLiteral("type")).toString();
        const QString agent = m.value(QStringLiteral("agent")).toString();
        if (type == QLatin1String("log")) {
            for (const QJsonValue& l : m.value(QStringLiteral("lines")).toArray()) {
                const QJsonObject line = l.toObject();
                if (!line.value(QStringLiteral("partial")).toBool()
                    && line.value(QStringLiteral("source")).toString() != QLatin1String("agentdeck"))
                    lines[agent].append(line.value(QStringLiteral("text")).toString());
            }
        } else if (type == QLatin1String("forum")) {
            for (const QJsonValue& message : m.value(QStringLiteral("messages")).toArray())
                forum[agent].append(message.toObject());
        } else if (type == QLatin1String("agent")) {
            const QJsonObject object = m.value(QStringLiteral("agent")).toObject();
            agents[object.value(QStringLiteral("id")).toString()] = object;
        } else if (type == QLatin1String("snapshot")) {
            for (const QJsonValue& a : m.value(QStringLiteral("agents")).toArray())
                agents[a[QStringLiteral("id")].toString()] = a.toObject();
        } else if (type == QLatin1String("result")) {
            results.append(m);
        }
    }
    void drain(TestClient& viewer, int ms)
    {
        QDeadlineTimer deadline(ms);
        do {
            const QJsonObject m = viewer.next({}, 20);
            if (!m.isEmpty())
                take(m);
        } while (!deadline.hasExpired());
    }
    bool waitFor(TestClient& viewer, const std::function<bool()>& done, int timeoutMs = 20000)
    {
        QDeadlineTimer deadline(timeoutMs);
        while (!done()) {
            if (deadline.hasExpired())
                return false;
            const QJsonObject m = viewer.next({}, 50);
            if (!m.isEmpty())
                take(m);
        }
        return true;
    }
    QString state(const QString& agent) const { return agents.value(agent).value(QStringLiteral("state")).toString(); }
    QString statusText(const QString& agent) const
    {
        return agents.value(agent).value(QStringLiteral("status")).toObject().value(QStringLiteral("text")).toString();
    }
};

/// The console texts of BettaFish's log lines: the "[HH:MM:SS] " prefix gone.
QStringList consoleTexts(const QStringList& written)
{
    QStringList texts;
    for (const QString& line : written)
        texts.append(line.mid(11));
    return texts;
}

/// Child lines in BettaFish's real shapes: the fixture's loguru records and a traceback.
QStringList childLines(int from, int count)
{
    const QList<QByteArray> fixtureRecords = fixtureLines("insight.log");
    QStringList lines;
    for (int i = 0; i < count; ++i) {
        const int n = from + i;
        if (n % 40 == 7) {
            lines.append(QStringLiteral("Traceback (most recent call last): #%1").arg(n));
            continue;
        }
        const QString record = QString::fromUtf8(fixtureRecords[n % fixtureRecords.size()].mid(11)).trimmed();
        lines.append(QStringLiteral("%1 #%2").arg(record).arg(n));
    }
    return lines;
}

QString exactly(const QStringList& got, const QStringList& expected)
{
    if (got == expected)
        return {};
    QString problem = QStringLiteral("%1 lines, %2 expected").arg(got.size()).arg(expected.size());
    for (int i = 0; i < std::min(got.size(), expected.size()); ++i) {
        if (got[i] != expected[i])
            return problem
                + QStringLiteral("; first difference at %1: \"%2\" instead of \"%3\"").arg(i).arg(got[i], expected[i]);
    }
    return problem;
}

} // namespace

/// The BettaFish bridge against a real Flask-SocketIO server in BettaFish's shapes.
class TestBettaFish final : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<HostServer> startHost(const QString& url, const QString& logsDir = {}, const QString& hostLogs = {})
    {
        HostConfig config;
        config.port = 0;
        config.token = Token;
        config.logDirectory = hostLogs;
        BridgeSpec bridge;
        bridge.url = url;
        bridge.prefix = "bf-";
        bridge.logsDir = logsDir;
        config.bridges.push_back(bridge);
        auto host = std::make_unique<HostServer>(config);
        QString error;
        if (!host->start(&error)) {
            qWarning("host did not start: %s", qPrintable(error));
            return nullptr;
        }
        return host;
    }
    /// Waits until the bridge shows agent's state and BettaFish has its socket.
    static bool bridged(Seen& seen, TestClient& client, FakeBettaFish& bettafish, const QString& agent)
    {
        return seen.waitFor(client, [&] { return seen.state(agent) == QLatin1String("stopped"); })
            && QTest::qWaitFor([&] {
                   return bettafish.get(QStringLiteral("/_test/state"))
                              .value(QStringLiteral("connected_clients"))
                              .toInt()
                       == 1;
               });
    }
    std::unique_ptr<TestClient> viewer(HostServer& host, Seen* seen)
    {
        auto client = std::make_unique<TestClient>();
        client->open(host.url());
        seen->take(client->helloViewer(Token));
        for (const QJsonObject& m : client->subscribe({{QStringLiteral("agents"), QJsonArray{QStringLiteral("*")}}}))
            seen->take(m);
        return client;
    }

private Q_SLOTS:
    void linesExactlyOnce_data();
    void linesExactlyOnce();
    void serverRestarted();
    void appRestarted();
    void forumConversations_data();
    void forumConversations();
    void commands();
    void unreachableThenUp();
    void hostRestartedGoesOn_data();
    void hostRestartedGoesOn();
    void halfWrittenReadIsNotANewFile();
};

void TestBettaFish::linesExactlyOnce_data()
{
    QTest::addColumn<QJsonObject>("socket");
    QTest::addColumn<bool>("files");
    QTest::newRow("socket flowing") << json(R"({"mode":"flow"})") << false;
    QTest::newRow("socket stalls after 40 events") << json(R"({"stall_after":40})") << false;
    QTest::newRow("socket carries status only") << json(R"({"mode":"drop_console"})") << false;
    QTest::newRow("socket silent: polling only") << json(R"({"mode":"stall"})") << false;
    QTest::newRow("socket flowing, files followed") << json(R"({"mode":"flow"})") << true;
    QTest::newRow("socket stalls, files followed") << json(R"({"stall_after":40})") << true;
}

void TestBettaFish::linesExactlyOnce()
{
    QFETCH(QJsonObject, socket);
    QFETCH(bool, files);
    QTemporaryDir dir;
    FakeBettaFish bettafish(dir.path());
    QVERIFY(bettafish.start());
    auto host = startHost(bettafish.url(), files ? dir.path() : QString());
    QVERIFY(host);
    Seen seen;
    auto client = viewer(*host, &seen);
    // The bridge is on the socket before the lines come.
    QVERIFY(bridged(seen, *client, bettafish, QStringLiteral("bf-insight")));
    bettafish.socketMode(socket);
    QStringList expected;
    for (int round = 0; round < 6; ++round) {
        expected += consoleTexts(bettafish.lines(QStringLiteral("insight"), childLines(round * 50, 50)));
        seen.drain(*client, 300);
    }
    expected += consoleTexts(bettafish.lines(QStringLiteral("media"), {QStringLiteral("媒体引擎 one line")}));
    QVERIFY2(seen.waitFor(*client, [&] { return seen.lines.value(QStringLiteral("bf-insight")).size() >= 300; }),
             qPrintable(exactly(seen.lines.value(QStringLiteral("bf-insight")), expected.mid(0, 300))));
    // A repeat would come within a poll or two.
    seen.drain(*client, 4500);
    QCOMPARE(exactly(seen.lines.value(QStringLiteral("bf-insight")), expected.mid(0, 300)), QString());
    QCOMPARE(seen.lines.value(QStringLiteral("bf-media")), QStringList{QStringLiteral("媒体引擎 one line")});
    QCOMPARE(seen.agents.value(QStringLiteral("bf-insight")).value(QStringLiteral("origin")).toString(),
             QStringLiteral("bridged"));
}

void TestBettaFish::serverRestarted()
{
    QTemporaryDir dir;
    auto bettafish = std::make_unique<FakeBettaFish>(dir.path());
    QVERIFY(bettafish->start());
    const quint16 port = bettafish->port();
    auto host = startHost(bettafish->url());
    QVERIFY(host);
    Seen seen;
    auto client = viewer(*host, &seen);
    QVERIFY(seen.waitFor(*client, [&] { return seen.state(QStringLiteral("bf-query")) == QLatin1String("stopped"); }));
    QStringList expected = consoleTexts(bettafish->lines(QStringLiteral("query"), childLines(0, 80)));
    QVERIFY(seen.waitFor(*client, [&] { return seen.lines.value(QStringLiteral("bf-query")).size() >= 80; }));
    bettafish->stop();
    QVERIFY(seen.waitFor(*client, [&] { return seen.state(QStringLiteral("bf-query")) == QLatin1String("offline"); }));
    QVERIFY2(seen.statusText(QStringLiteral("bf-query")).contains(QLatin1String("unreachable")),
             qPrintable(seen.statusText(QStringLiteral("bf-query"))));
    // Back on the same port, with the same files: only what is new shows.
    bettafish = std::make_unique<FakeBettaFish>(dir.path());
    QVERIFY(bettafish->start(port));
    QVERIFY(seen.waitFor(
        *client, [&] { return seen.state(QStringLiteral("bf-query")) == QLatin1String("stopped"); }, 40000));
    expected += consoleTexts(bettafish->lines(QStringLiteral("query"), childLines(80, 60)));
    QVERIFY(seen.waitFor(*client, [&] { return seen.lines.value(QStringLiteral("bf-query")).size() >= 140; }));
    seen.drain(*client, 4500);
    QCOMPARE(exactly(seen.lines.value(QStringLiteral("bf-query")), expected), QString());
}

void TestBettaFish::appRestarted()
{
    QTemporaryDir dir;
    FakeBettaFish bettafish(dir.path());
    QVERIFY(bettafish.start());
    auto host = startHost(bettafish.url());
    QVERIFY(host);
    Seen seen;
    auto client = viewer(*host, &seen);
    QVERIFY(
        seen.waitFor(*client, [&] { return seen.state(QStringLiteral("bf-insight")) == QLatin1String("stopped"); }));
    // Polling only, so that the restart is seen in the file alone.
    bettafish.socketMode(json(R"({"mode":"stall"})"));
    QStringList expected = consoleTexts(bettafish.lines(QStringLiteral("insight"), childLines(0, 120)));
    QVERIFY(seen.waitFor(*client, [&] { return seen.lines.value(QStringLiteral("bf-insight")).size() >= 120; }));
    // The app starts again: its log file is deleted and written anew, shorter.
    bettafish.post(QStringLiteral("/_test/app_restart"), json(R"({"app":"insight"})"));
    bettafish.lines(QStringLiteral("insight"), childLines(500, 30));
    // Everything the new file holds (BettaFish's own "starting" line first) follows.
    QFile file(dir.filePath(QStringLiteral("insight.log")));
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QStringList recreated = QString::fromUtf8(file.readAll()).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(recreated.size(), 31);
    expected += consoleTexts(recreated);
    QVERIFY(seen.waitFor(*client, [&] { return seen.lines.value(QStringLiteral("bf-insight")).size() >= 151; }));
    seen.drain(*client, 4500);
    QCOMPARE(exactly(seen.lines.value(QStringLiteral("bf-insight")), expected), QString());
}

void TestBettaFish::forumConversations_data()
{
    QTest::addColumn<bool>("files");
    QTest::newRow("over HTTP") << false;
    QTest::newRow("files followed") << true;
}

void TestBettaFish::forumConversations()
{
    QFETCH(bool, files);
    QTemporaryDir dir;
    FakeBettaFish bettafish(dir.path());
    QVERIFY(bettafish.start());
    auto host = startHost(bettafish.url(), files ? dir.path() : QString());
    QVERIFY(host);
    Seen seen;
    auto client = viewer(*host, &seen);
    QVERIFY(seen.waitFor(*client, [&] { return seen.state(QStringLiteral("bf-forum")) == QLatin1String("stopped"); }));
    bettafish.post(QStringLiteral("/_test/forum_session"), json(R"({"start":true})"));
    // The fixture's session: agents' summaries and the moderator's markdown with \n escapes.
    QStringList firstSession;
    for (const QByteArray& line : fixtureLines("forum.log")) {
        if (!line.contains("[SYSTEM]"))
            firstSession.append(QString::fromUtf8(line.mid(11)));
    }
    bettafish.post(QStringLiteral("/_test/forum"),
                   {{QStringLiteral("lines"), QJsonArray::fromStringList(firstSession)}});
    const auto messages = [&] {
        return seen.forum.value(QStringLiteral("bf-forum"));
    };
    QVERIFY2(seen.waitFor(*client, [&] { return messages().size() >= firstSession.size() + 1; }),
             qPrintable(QString::number(messages().size())));
    // A new session: forum.log made anew, smaller than before.
    bettafish.post(QStringLiteral("/_test/forum_session"), json(R"({"start":true})"));
    bettafish.post(QStringLiteral("/_test/forum"), json(R"({"lines":["[QUERY] 第二场 一","[HOST] 小结\\n- 要点"]})"));
    QVERIFY(seen.waitFor(*client, [&] { return messages().size() >= firstSession.size() + 4; }));
    seen.drain(*client, 3000);
    const QList<QJsonObject> all = messages();
    QCOMPARE(all.size(), firstSession.size() + 4);
    int starts = 0;
    int hosts = 0;
    for (const QJsonObject& m : all) {
        QVERIFY(!m.value(QStringLiteral("text")).toString().contains(QLatin1String("\\n")));
        starts += m.value(QStringLiteral("starts_conversation")).toBool() ? 1 : 0;
        if (m.value(QStringLiteral("role")).toString() == QLatin1String("host")) {
            ++hosts;
            QCOMPARE(m.value(QStringLiteral("source")).toString(), QStringLiteral("HOST"));
        }
    }
    QCOMPARE(starts, 2);
    QCOMPARE(hosts, 3);
    QCOMPARE(all.first().value(QStringLiteral("role")).toString(), QStringLiteral("system"));
    QCOMPARE(all.last().value(QStringLiteral("text")).toString(), QStringLiteral("小结\n- 要点"));
    QCOMPARE(all[1].value(QStringLiteral("sender")).toString(), QStringLiteral("QUERY Engine"));
}

void TestBettaFish::commands()
{
    QTemporaryDir dir;
    FakeBettaFish bettafish(dir.path());
    QVERIFY(bettafish.start());
    auto host = startHost(bettafish.url());
    QVERIFY(host);
    Seen seen;
    auto client = viewer(*host, &seen);
    QVERIFY(seen.waitFor(*client, [&] { return seen.state(QStringLiteral("bf-media")) == QLatin1String("stopped"); }));
    const auto command = [&](const QString& id, const QString& agent, const QString& name) {
        client->sendJson({{QStringLiteral("type"), QStringLiteral("command")},
                          {QStringLiteral("id"), id},
                          {QStringLiteral("agent"), agent},
                          {QStringLiteral("name"), name}});
        QJsonObject result;
        seen.waitFor(*client, [&] {
            for (const QJsonObject& r : std::as_const(seen.results)) {
                if (r.value(QStringLiteral("id")).toString() == id)
                    result = r;
            }
            return !result.isEmpty();
        });
        return result;
    };
    QJsonObject result = command(QStringLiteral("1"), QStringLiteral("bf-media"), QStringLiteral("start"));
    QVERIFY2(result.value(QStringLiteral("ok")).toBool(), QJsonDocument(result).toJson().constData());
    QVERIFY(seen.waitFor(*client, [&] { return seen.state(QStringLiteral("bf-media")) == QLatin1String("running"); }));
    result = command(QStringLiteral("2"), QStringLiteral("bf-media"), QStringLiteral("restart"));
    QVERIFY(result.value(QStringLiteral("ok")).toBool());
    result = command(QStringLiteral("3"), QStringLiteral("bf-media"), QStringLiteral("stop"));
    QVERIFY(result.value(QStringLiteral("ok")).toBool());
    QVERIFY(seen.waitFor(*client, [&] { return seen.state(QStringLiteral("bf-media")) == QLatin1String("stopped"); }));
    // A restart of an app that is not running starts it.
    result = command(QStringLiteral("31"), QStringLiteral("bf-media"), QStringLiteral("restart"));
    QVERIFY2(result.value(QStringLiteral("ok")).toBool(), QJsonDocument(result).toJson().constData());
    QVERIFY(seen.waitFor(*client, [&] { return seen.state(QStringLiteral("bf-media")) == QLatin1String("running"); }));
    result = command(QStringLiteral("32"), QStringLiteral("bf-media"), QStringLiteral("stop"));
    QVERIFY(result.value(QStringLiteral("ok")).toBool());
    result = command(QStringLiteral("4"), QStringLiteral("bf-forum"), QStringLiteral("start"));
    QVERIFY(result.value(QStringLiteral("ok")).toBool());
    // What BettaFish cannot do is refused, with why.
    result = command(QStringLiteral("5"), QStringLiteral("bf-media"), QStringLiteral("kill"));
    QVERIFY(!result.value(QStringLiteral("ok")).toBool());
    QVERIFY(result.value(QStringLiteral("text")).toString().contains(QLatin1String("start, stop and restart")));
    result = command(QStringLiteral("6"), QStringLiteral("bf-media"), QStringLiteral("pause"));
    QVERIFY(!result.value(QStringLiteral("ok")).toBool());
}

void TestBettaFish::unreachableThenUp()
{
    QTemporaryDir dir;
    const quint16 port = portOutsideEphemeralRange();
    auto host = startHost(QStringLiteral("http://127.0.0.1:%1").arg(port));
    QVERIFY(host);
    Seen seen;
    auto client = viewer(*host, &seen);
    QVERIFY(
        seen.waitFor(*client, [&] { return seen.state(QStringLiteral("bf-insight")) == QLatin1String("offline"); }));
    QVERIFY2(seen.statusText(QStringLiteral("bf-insight")).contains(QLatin1String("unreachable")),
             qPrintable(seen.statusText(QStringLiteral("bf-insight"))));
    QVERIFY(seen.statusText(QStringLiteral("bf-insight")).contains(QLatin1String("next try")));
    FakeBettaFish bettafish(dir.path());
    QVERIFY(bettafish.start(port));
    QVERIFY(seen.waitFor(
        *client, [&] { return seen.state(QStringLiteral("bf-insight")) == QLatin1String("stopped"); }, 40000));
    const QStringList expected = consoleTexts(bettafish.lines(QStringLiteral("insight"), childLines(0, 10)));
    QVERIFY(seen.waitFor(*client, [&] { return seen.lines.value(QStringLiteral("bf-insight")).size() >= 10; }));
    QCOMPARE(seen.lines.value(QStringLiteral("bf-insight")), expected);
}

void TestBettaFish::hostRestartedGoesOn_data()
{
    QTest::addColumn<bool>("files");
    QTest::newRow("over HTTP") << false;
    QTest::newRow("files followed") << true;
}

void TestBettaFish::hostRestartedGoesOn()
{
    QFETCH(bool, files);
    QTemporaryDir dir;
    QTemporaryDir hostLogs;
    FakeBettaFish bettafish(dir.path());
    QVERIFY(bettafish.start());
    QStringList expected;
    {
        auto host = startHost(bettafish.url(), files ? dir.path() : QString(), hostLogs.path());
        QVERIFY(host);
        Seen seen;
        auto client = viewer(*host, &seen);
        QVERIFY(
            seen.waitFor(*client, [&] { return seen.state(QStringLiteral("bf-query")) == QLatin1String("stopped"); }));
        QVERIFY(QTest::qWaitFor([&] {
            return bettafish.get(QStringLiteral("/_test/state")).value(QStringLiteral("connected_clients")).toInt()
                == 1;
        }));
        expected = consoleTexts(bettafish.lines(QStringLiteral("query"), childLines(0, 20)));
        seen.drain(*client, 3000);
        // These come by the socket at once; the host stops before the copy brings them.
        expected += consoleTexts(bettafish.lines(QStringLiteral("query"), childLines(20, 10)));
        QVERIFY(seen.waitFor(*client, [&] { return seen.lines.value(QStringLiteral("bf-query")).size() >= 30; }));
        seen.drain(*client, 300);
    }
    expected += consoleTexts(bettafish.lines(QStringLiteral("query"), childLines(30, 5)));
    auto host = startHost(bettafish.url(), files ? dir.path() : QString(), hostLogs.path());
    QVERIFY(host);
    TestClient client;
    QVERIFY(client.open(host->url()));
    client.helloViewer(Token);
    Seen seen;
    for (const QJsonObject& m : client.subscribe(
             {{QStringLiteral("agents"), QJsonArray{QStringLiteral("bf-query")}}, {QStringLiteral("history"), 100000}}))
        seen.take(m);
    QVERIFY(seen.waitFor(client, [&] { return seen.lines.value(QStringLiteral("bf-query")).size() >= 35; }));
    seen.drain(client, 4500);
    QCOMPARE(exactly(seen.lines.value(QStringLiteral("bf-query")), expected), QString());
}

void TestBettaFish::halfWrittenReadIsNotANewFile()
{
    QTemporaryDir dir;
    FakeBettaFish bettafish(dir.path());
    QVERIFY(bettafish.start());
    auto host = startHost(bettafish.url());
    QVERIFY(host);
    Seen seen;
    auto client = viewer(*host, &seen);
    QVERIFY(seen.waitFor(*client, [&] { return seen.state(QStringLiteral("bf-query")) == QLatin1String("stopped"); }));
    bettafish.socketMode(json(R"({"mode":"stall"})"));
    QStringList expected = consoleTexts(bettafish.lines(QStringLiteral("query"), childLines(0, 50)));
    QVERIFY(seen.waitFor(*client, [&] { return seen.lines.value(QStringLiteral("bf-query")).size() >= 50; }));
    // BettaFish reading its file while a character is half written answers []; a moment
    // later the line is whole.
    QFile file(dir.filePath(QStringLiteral("query.log")));
    QVERIFY(file.open(QIODevice::Append));
    file.write("[12:00:00] \xe4\xb8");
    file.close();
    seen.drain(*client, 4500);
    QVERIFY(file.open(QIODevice::Append));
    file.write("\xad\xe6\x96\x87\n");
    file.close();
    expected.append(QStringLiteral("中文"));
    QVERIFY(seen.waitFor(*client, [&] { return seen.lines.value(QStringLiteral("bf-query")).size() >= 51; }));
    seen.drain(*client, 4500);
    QCOMPARE(exactly(seen.lines.value(QStringLiteral("bf-query")), expected), QString());
}

QTEST_GUILESS_MAIN(TestBettaFish)
#include "tst_bettafish.moc"
