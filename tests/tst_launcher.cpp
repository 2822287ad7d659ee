// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/engine/hostserver.h"
#include "server/launcher/outputsplitter.h"
#include "server/launcher/processmetrics.h"
#include "support/fixtures.h"
#include "support/testclient.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>
#include <csignal>
#include <functional>
#include <memory>

namespace {
const QString Token = QStringLiteral("launcher-token");

QString str(const QJsonObject& o, const char* key)
{
    return o.value(QLatin1String(key)).toString();
}

QByteArray testbotLine(qint64 n, qsizetype size = 50)
{
    QByteArray line = "line " + QByteArray::number(n).rightJustified(9, '0') + ' ';
    if (line.size() < size - 1)
        line.append(size - 1 - line.size(), 'x');
    return line;
}

AgentDefinition bot(const char* id, const QStringList& args)
{
    AgentDefinition d;
    d.id = id;
    d.command = QStringLiteral(AGENTDECK_TESTBOT);
    d.args = args;
    d.startsecs = 0;
    d.startretries = 3;
    d.backoffInitialMs = 100;
    d.backoffFactor = 2;
    d.backoffMaxMs = 2000;
    d.stopwaitsecs = 2;
    return d;
}

/// Every log line a viewer receives, by agent, with a way to wait for one.
class Console
{
public:
    /// snapshot: what the viewer saw of the agents before it subscribed.
    explicit Console(TestClient* client, const QJsonObject& snapshot = {})
        : m_client(client)
    {
        for (const QJsonValue a : snapshot.value(QStringLiteral("agents")).toArray())
            m_agents.append(a.toObject());
    }

    /// Waits for a line of agent whose text matches; returns it (empty object on timeout).
    QJsonObject waitLine(const QString& agent, const std::function<bool(const QJsonObject&)>& match,
                         int timeoutMs = 10000)
    {
        QElapsedTimer timer;
        timer.start();
        while (true) {
            for (int i = 0; i < m_lines[agent].size(); ++i) {
                if (match(m_lines[agent][i]))
                    return m_lines[agent][i];
            }
            if (timer.elapsed() > timeoutMs)
                return {};
            take(50);
        }
    }
    /// Waits for a line of the agent's own output that contains needle.
    QJsonObject waitText(const QString& agent, const QString& needle, int timeoutMs = 10000)
    {
        return waitLine(
            agent,
            [&](const QJsonObject& l) {
                return str(l, "source") != QLatin1String("agentdeck") && str(l, "text").contains(needle);
            },
            timeoutMs);
    }
    /// Waits for a line the launcher wrote itself that contains needle.
    QJsonObject waitMark(const QString& agent, const QString& needle, int timeoutMs = 10000)
    {
        return waitLine(
            agent,
            [&](const QJsonObject& l) {
                return str(l, "source") == QLatin1String("agentdeck") && str(l, "text").contains(needle);
            },
            timeoutMs);
    }
    /// Waits for an agent event whose process state is state.
    QJsonObject waitProcessState(const QString& agent, const QString& state, int timeoutMs = 10000)
    {
        QElapsedTimer timer;
        timer.start();
        while (timer.elapsed() < timeoutMs) {
            for (int i = m_checkedAgents; i < m_agents.size(); ++i) {
                m_checkedAgents = i + 1;
                const QJsonObject a = m_agents[i];
                if (str(a, "id") == agent && str(a.value(QStringLiteral("process")).toObject(), "state") == state)
                    return a;
            }
            take(50);
        }
        return {};
    }
    QJsonObject waitResult(const QString& id, int timeoutMs = 15000)
    {
        return waitTake(
            &m_results, [&](const QJsonObject& m) { return str(m, "id") == id; }, timeoutMs);
    }
    QJsonObject waitMessage(const QString& type, int timeoutMs = 10000)
    {
        return waitTake(
            &m_other, [&](const QJsonObject& m) { return str(m, "type") == type; }, timeoutMs);
    }
    const QList<QJsonObject>& lines(const QString& agent) { return m_lines[agent]; }
    QStringList texts(const QString& agent, bool withHostLines = false)
    {
        QStringList all;
        for (const QJsonObject& l : m_lines[agent]) {
            if (withHostLines || str(l, "source") != QLatin1String("agentdeck"))
                all.append(str(l, "text"));
        }
        return all;
    }
    QList<QJsonObject> partials;

private:
    /// Removes and returns the first message of list that matches, waiting for one.
    QJsonObject waitTake(QList<QJsonObject>* list, const std::function<bool(const QJsonObject&)>& match, int timeoutMs)
    {
        QElapsedTimer timer;
        timer.start();
        while (timer.elapsed() < timeoutMs) {
            for (int i = 0; i < list->size(); ++i) {
                if (match(list->at(i)))
                    return list->takeAt(i);
            }
            take(50);
        }
        return {};
    }

    void take(int waitMs)
    {
        const QJsonObject m = m_client->next({}, waitMs);
        if (m.isEmpty())
            return;
        const QString type = str(m, "type");
        if (type == QLatin1String("log")) {
            for (const QJsonValue v : m.value(QStringLiteral("lines")).toArray()) {
                QJsonObject l = v.toObject();
                if (l.value(QStringLiteral("partial")).toBool())
                    partials.append(l);
                else
                    m_lines[str(m, "agent")].append(l);
            }
        } else if (type == QLatin1String("agent")) {
            m_agents.append(m.value(QStringLiteral("agent")).toObject());
        } else if (type == QLatin1String("result")) {
            m_results.append(m);
        } else {
            m_other.append(m);
        }
    }

    TestClient* m_client;
    QHash<QString, QList<QJsonObject>> m_lines;
    QList<QJsonObject> m_agents;
    int m_checkedAgents = 0;
    QList<QJsonObject> m_results;
    QList<QJsonObject> m_other;
};

QJsonObject command(const QString& id, const QString& agent, const QString& name, const QJsonObject& args = {})
{
    return {{QStringLiteral("type"), QStringLiteral("command")},
            {QStringLiteral("id"), id},
            {QStringLiteral("agent"), agent},
            {QStringLiteral("name"), name},
            {QStringLiteral("args"), args}};
}

bool groupGone(qint64 pgid, int timeoutMs = 5000)
{
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < timeoutMs) {
        if (ProcessGroupSampler::processesInGroup(pgid).isEmpty())
            return true;
        QTest::qWait(20);
    }
    return false;
}

qint64 pidFromText(const QString& text)
{
    // "pid <pid> pgid <pgid>" or "grandchild pid <pid>"
    const QStringList words = text.split(QLatin1Char(' '));
    const qsizetype at = words.indexOf(QStringLiteral("pid"));
    return at >= 0 && at + 1 < words.size() ? words[at + 1].toLongLong() : 0;
}
} // namespace

/// The launcher with real child processes: capture, supervision, control, log files.
class TestLauncher final : public QObject
{
    Q_OBJECT

private:
    QJsonObject m_snapshot;

    std::unique_ptr<HostServer> startHost(HostConfig config)
    {
        config.port = 0;
        config.token = Token;
        auto host = std::make_unique<HostServer>(config);
        QString error;
        if (!host->start(&error)) {
            qWarning("host did not start: %s", qPrintable(error));
            return nullptr; // the caller's QVERIFY(host) fails the test
        }
        return host;
    }

    std::unique_ptr<TestClient> viewer(HostServer& host, const QJsonObject& extra = {})
    {
        auto client = std::make_unique<TestClient>();
        if (!client->open(host.url()))
            qWarning("viewer did not connect");
        m_snapshot = client->helloViewer(Token);
        QJsonObject sub = extra;
        sub[QStringLiteral("type")] = QStringLiteral("subscribe");
        sub[QStringLiteral("agents")] = QJsonArray{QStringLiteral("*")};
        client->sendJson(sub);
        return client;
    }

private Q_SLOTS:
    void capturesStreamsWithLevelsAndMarks()
    {
        HostConfig config;
        config.agents.push_back(bot("a",
                                    {QStringLiteral("--pid"), QStringLiteral("--lines"), QStringLiteral("3"),
                                     QStringLiteral("--err-text"), QStringLiteral("ERROR: broken pipe\\n"),
                                     QStringLiteral("--text"), QStringLiteral("\\x1b[33mWARNING\\x1b[0m: hot\\n")}));
        config.agents.back().autorestart = AgentDefinition::Restart::Never;
        auto host = startHost(config);
        QVERIFY(host);
        auto client = viewer(*host);
        Console console(client.get(), m_snapshot);

        const QJsonObject started = console.waitMark(QStringLiteral("a"), QStringLiteral("started `"));
        QCOMPARE(str(started, "source"), QStringLiteral("agentdeck"));
        QCOMPARE(str(started, "level"), QStringLiteral("INFO"));
        const QJsonObject pid = console.waitText(QStringLiteral("a"), QStringLiteral("pgid"));
        QVERIFY(pidFromText(str(pid, "text")) > 0);
        const QJsonObject err = console.waitText(QStringLiteral("a"), QStringLiteral("broken pipe"));
        QCOMPARE(str(err, "stream"), QStringLiteral("stderr"));
        QCOMPARE(str(err, "level"), QStringLiteral("ERROR"));
        const QJsonObject warn = console.waitText(QStringLiteral("a"), QStringLiteral("hot"));
        QVERIFY2(str(warn, "level") == QLatin1String("WARNING"), QJsonDocument(warn).toJson().constData());
        QVERIFY(str(warn, "text").startsWith(QStringLiteral("\x1b[33m"))); // ANSI kept
        QVERIFY(warn.value(QStringLiteral("ts")).toDouble() > 1.7e12);
        const QJsonObject exited = console.waitMark(QStringLiteral("a"), QStringLiteral("exited with code 0"));
        QCOMPARE(str(exited, "source"), QStringLiteral("agentdeck"));
        const QStringList texts = console.texts(QStringLiteral("a"));
        for (int n = 1; n <= 3; ++n)
            QVERIFY2(texts.contains(QString::fromLatin1(testbotLine(n))), qPrintable(texts.join(u'|')));
        // Numbers are consecutive over output and the launcher's own lines.
        const QList<QJsonObject>& lines = console.lines(QStringLiteral("a"));
        for (int i = 1; i < lines.size(); ++i)
            QCOMPARE(lines[i].value(QStringLiteral("seq")).toInteger(),
                     lines[i - 1].value(QStringLiteral("seq")).toInteger() + 1);
        // A new viewer's snapshot shows how the run ended.
        TestClient late;
        QVERIFY(late.open(host->url()));
        const QJsonArray agents = late.helloViewer(Token).value(QStringLiteral("agents")).toArray();
        QCOMPARE(agents.size(), 1);
        const QJsonObject process = agents[0].toObject().value(QStringLiteral("process")).toObject();
        QCOMPARE(str(process, "state"), QStringLiteral("EXITED"));
        QCOMPARE(process.value(QStringLiteral("exit_code")).toInt(-1), 0);
    }

    void tracebackIsOneRecord()
    {
        // stderr lines default to WARNING; a traceback's lines all take its first line's ERROR.
        HostConfig config;
        config.agents.push_back(
            bot("t",
                {QStringLiteral("--err-text"),
                 QStringLiteral("Traceback (most recent call last):\\n  File \"bot.py\", line 3, in <module>\\n"
                                "    main()\\nValueError: bad input\\n"),
                 QStringLiteral("--text"), QStringLiteral("DEBUG state:\\n    queue: 3\\n")}));
        config.agents.back().autorestart = AgentDefinition::Restart::Never;
        auto host = startHost(config);
        QVERIFY(host);
        auto client = viewer(*host);
        Console console(client.get(), m_snapshot);
        console.waitMark(QStringLiteral("t"), QStringLiteral("exited with code 0"));
        const QStringList expected{QStringLiteral("Traceback (most recent call last):"),
                                   QStringLiteral("  File \"bot.py\", line 3, in <module>"),
                                   QStringLiteral("    main()"), QStringLiteral("ValueError: bad input")};
        for (const QString& text : expected) {
            const QJsonObject line = console.waitText(QStringLiteral("t"), text);
            QCOMPARE(str(line, "stream"), QStringLiteral("stderr"));
            QVERIFY2(str(line, "level") == QLatin1String("ERROR"), qPrintable(text));
        }
        QCOMPARE(str(console.waitText(QStringLiteral("t"), QStringLiteral("    queue: 3")), "level"),
                 QStringLiteral("DEBUG"));
    }

    void partialCrlfAndInvalidBytes()
    {
        HostConfig config;
        config.agents.push_back(bot("p",
                                    {QStringLiteral("--text"),
                                     QStringLiteral("dos line\\r\\n10%\\r20%\\r30%\\nbad \\xff\\xfe end\\nprogress 5%"),
                                     QStringLiteral("--sleep"), QStringLiteral("2000")}));
        config.agents.back().autorestart = AgentDefinition::Restart::Never;
        auto host = startHost(config);
        QVERIFY(host);
        auto client = viewer(*host);
        Console console(client.get(), m_snapshot);
        QVERIFY(!console.waitText(QStringLiteral("p"), QStringLiteral("dos line")).isEmpty());
        const QJsonObject bad = console.waitText(QStringLiteral("p"), QStringLiteral("bad "));
        QCOMPARE(str(bad, "text"), QStringLiteral("bad \uFFFD\uFFFD end"));
        // The unfinished line is shown as a partial line first, then completed at exit.
        const QJsonObject last = console.waitText(QStringLiteral("p"), QStringLiteral("progress 5%"));
        QCOMPARE(str(last, "text"), QStringLiteral("progress 5%"));
        const QStringList texts = console.texts(QStringLiteral("p"));
        QVERIFY(texts.contains(QStringLiteral("dos line")));
        QVERIFY(texts.contains(QStringLiteral("30%")));
        QVERIFY(!texts.contains(QStringLiteral("10%")));
        bool sawPartial = false;
        for (const QJsonObject& l : console.partials)
            sawPartial = sawPartial || str(l, "text") == QLatin1String("progress 5%");
        QVERIFY(sawPartial);
    }

    void longLinesAreCutWithAMarker()
    {
        HostConfig config;
        config.maxLineBytes = 4096;
        config.agents.push_back(bot(
            "big",
            {QStringLiteral("--big-line"), QStringLiteral("1048576"), QStringLiteral("--lines"), QStringLiteral("1")}));
        config.agents.back().autorestart = AgentDefinition::Restart::Never;
        auto host = startHost(config);
        QVERIFY(host);
        auto client = viewer(*host);
        Console console(client.get(), m_snapshot);
        const QJsonObject cut = console.waitText(QStringLiteral("big"), QStringLiteral("xxxx"));
        const QString text = str(cut, "text");
        QVERIFY2(text.size() < 4096 + 100, qPrintable(QString::number(text.size())));
        QVERIFY(text.startsWith(QString(4000, u'x')));
        QVERIFY2(text.contains(QStringLiteral("cut")), qPrintable(text.right(80)));
        // The line after it is intact.
        QVERIFY(!console.waitText(QStringLiteral("big"), QString::fromLatin1(testbotLine(1))).isEmpty());
    }

    void fixtureOutputMatchesTheSplitter()
    {
        const QString path = fixturePath("mixed.bin");
        const QByteArray bytes = fixture("mixed.bin");
        QStringList expected;
        OutputSplitter splitter;
        splitter.feed(bytes, [&](QByteArrayView line) { expected.append(QString::fromUtf8(line)); });
        splitter.finish([&](QByteArrayView line) { expected.append(QString::fromUtf8(line)); });

        HostConfig config;
        config.redactDefaults = false;
        config.redactPatterns = {QStringLiteral("(?!)")};
        config.agents.push_back(bot("mixed", {QStringLiteral("--cat"), path}));
        config.agents.back().autorestart = AgentDefinition::Restart::Never;
        auto host = startHost(config);
        QVERIFY(host);
        auto client = viewer(*host);
        Console console(client.get(), m_snapshot);
        QVERIFY(!console.waitMark(QStringLiteral("mixed"), QStringLiteral("exited with code 0"), 20000).isEmpty());
        const QStringList texts = console.texts(QStringLiteral("mixed"));
        QCOMPARE(texts.size(), expected.size());
        QCOMPARE(texts, expected);
    }

    void restartPolicies_data()
    {
        QTest::addColumn<int>("policy");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<bool>("restarts");
        QTest::newRow("unexpected, exit 0") << int(AgentDefinition::Restart::Unexpected) << 0 << false;
        QTest::newRow("unexpected, exit 3") << int(AgentDefinition::Restart::Unexpected) << 3 << true;
        QTest::newRow("true, exit 0") << int(AgentDefinition::Restart::Always) << 0 << true;
        QTest::newRow("false, exit 3") << int(AgentDefinition::Restart::Never) << 3 << false;
    }

    void restartPolicies()
    {
        QFETCH(int, policy);
        QFETCH(int, exitCode);
        QFETCH(bool, restarts);
        HostConfig config;
        AgentDefinition d = bot("r", {QStringLiteral("--exit-code"), QString::number(exitCode)});
        d.autorestart = AgentDefinition::Restart(policy);
        d.autostart = false;
        config.agents.push_back(d);
        auto host = startHost(config);
        QVERIFY(host);
        auto client = viewer(*host);
        Console console(client.get(), m_snapshot);
        QCOMPARE(str(console.waitProcessState(QStringLiteral("r"), QStringLiteral("STOPPED")), "state"),
                 QStringLiteral("stopped"));
        client->sendJson(command(QStringLiteral("go"), QStringLiteral("r"), QStringLiteral("start")));
        QVERIFY(!console.waitMark(QStringLiteral("r"), QStringLiteral("exited with code")).isEmpty());
        const QJsonObject second = console.waitMark(QStringLiteral("r"), QStringLiteral("run 2)"), 1500);
        QCOMPARE(!second.isEmpty(), restarts);
        if (!restarts) {
            const QJsonObject exited = console.waitProcessState(QStringLiteral("r"), QStringLiteral("EXITED"));
            QCOMPARE(exited.value(QStringLiteral("process")).toObject().value(QStringLiteral("exit_code")).toInt(),
                     exitCode);
            QCOMPARE(str(exited, "state"), exitCode == 0 ? QStringLiteral("stopped") : QStringLiteral("crashed"));
        }
    }

    void backoffGrowsThenFatal()
    {
        HostConfig config;
        AgentDefinition d = bot("f", {QStringLiteral("--exit-code"), QStringLiteral("7")});
        d.startsecs = 1; // exiting at once is a failed start
        d.startretries = 3;
        d.backoffInitialMs = 200;
        d.backoffFactor = 2;
        config.agents.push_back(d);
        auto host = startHost(config);
        QVERIFY(host);
        auto client = viewer(*host);
        Console console(client.get(), m_snapshot);
        const QJsonObject fatal = console.waitMark(QStringLiteral("f"), QStringLiteral("FATAL"), 15000);
        QVERIFY(!fatal.isEmpty());
        QCOMPARE(str(fatal, "level"), QStringLiteral("CRITICAL"));
        // Four runs (one start, three retries), spaced by 200, 400 and 800 ms.
        QList<qint64> starts;
        for (const QJsonObject& l : console.lines(QStringLiteral("f"))) {
            if (str(l, "text").startsWith(QStringLiteral("started `")))
                starts.append(l.value(QStringLiteral("ts")).toInteger());
        }
        QCOMPARE(starts.size(), 4);
        for (int i = 1; i < starts.size(); ++i) {
            const qint64 expected = 200ll << (i - 1);
            const qint64 spacing = starts[i] - starts[i - 1];
            // Measured between "started" lines, which come a moment after each spawn.
            QVERIFY2(spacing >= expected - 50 && spacing < expected + 1500,
                     qPrintable(QStringLiteral("start %1 after %2 ms, expected %3").arg(i).arg(spacing).arg(expected)));
        }
        const QJsonObject state = console.waitProcessState(QStringLiteral("f"), QStringLiteral("FATAL"));
        QCOMPARE(str(state, "state"), QStringLiteral("error"));
        QCOMPARE(state.value(QStringLiteral("restarts")).toInt(), 3);

        // A start by hand tries again and reports the failure honestly.
        client->sendJson(command(QStringLiteral("s1"), QStringLiteral("f"), QStringLiteral("start")));
        const QJsonObject result = console.waitResult(QStringLiteral("s1"));
        QCOMPARE(result.value(QStringLiteral("ok")).toBool(true), false);
        QVERIFY2(str(result, "text").contains(QStringLiteral("exited with code 7")), qPrintable(str(result, "text")));
    }

    void backoffResetsAfterAStableRun()
    {
        HostConfig config;
        AgentDefinition d = bot("stable",
                                {QStringLiteral("--exit-after"), QStringLiteral("500"), QStringLiteral("--exit-code"),
                                 QStringLiteral("1")});
        d.backoffInitialMs = 100;
        d.backoffFactor = 8;
        d.backoffResetMs = 300; // each 500 ms run counts as stable
        config.agents.push_back(d);
        auto host = startHost(config);
        QVERIFY(host);
        auto client = viewer(*host);
        Console console(client.get(), m_snapshot);
        QVERIFY(!console.waitMark(QStringLiteral("stable"), QStringLiteral("run 4)"), 15000).isEmpty());
        QStringList delays;
        for (const QJsonObject& l : console.lines(QStringLiteral("stable"))) {
            if (str(l, "text").startsWith(QStringLiteral("restarting in")))
                delays.append(str(l, "text"));
        }
        // Without the reset the delays would be 0.1 s, 0.8 s, 6.4 s.
        QVERIFY(delays.size() >= 3);
        for (const QString& delay : delays)
            QCOMPARE(delay, QStringLiteral("restarting in 0.1 s (attempt 1)"));
    }

    void stopRightAfterStartReachesTheChild()
    {
        HostConfig config;
        AgentDefinition d =
            bot("quick", {QStringLiteral("--on-sigterm-exit"), QStringLiteral("5"), QStringLiteral("--forever")});
        d.autostart = false;
        d.stopasgroup = false;
        config.agents.push_back(d);
        auto host = startHost(config);
        QVERIFY(host);
        auto client = viewer(*host);
        Console console(client.get(), m_snapshot);
        // Both in one go: the stop comes before the host has heard that the child started.
        client->sendJson(command(QStringLiteral("go"), QStringLiteral("quick"), QStringLiteral("start")));
        client->sendJson(command(QStringLiteral("halt"), QStringLiteral("quick"), QStringLiteral("stop")));
        const QJsonObject stopped = console.waitResult(QStringLiteral("halt"));
        QVERIFY(stopped.value(QStringLiteral("ok")).toBool());
        QVERIFY2(str(stopped, "text").contains(QStringLiteral("exited with code 5"))
                     || str(stopped, "text").contains(QStringLiteral("SIGTERM")),
                 qPrintable(str(stopped, "text")));
        QCOMPARE(console.waitResult(QStringLiteral("go")).value(QStringLiteral("ok")).toBool(true), false);
    }

    void hostStopDuringBackoffSpawnsNothing()
    {
        HostConfig config;
        AgentDefinition d = bot("loop", {QStringLiteral("--exit-code"), QStringLiteral("1")});
        d.backoffInitialMs = 400;
        config.agents.push_back(d);
        auto host = startHost(config);
        QVERIFY(host);
        auto client = viewer(*host);
        Console console(client.get(), m_snapshot);
        QVERIFY(!console.waitMark(QStringLiteral("loop"), QStringLiteral("restarting in")).isEmpty());
        host->stop();
        const quint64 lines = host->linesIngested();
        QTest::qWait(900);
        QCOMPARE(host->linesIngested(), lines);
    }

    void stopEscalatesAndKillsTheGroup()
    {
        HostConfig config;
        AgentDefinition d = bot("s",
                                {QStringLiteral("--ignore-sigterm"), QStringLiteral("--grandchild-ignore-sigterm"),
                                 QStringLiteral("--pid"), QStringLiteral("--grandchild"), QStringLiteral("--forever")});
        d.stopwaitsecs = 1;
        config.agents.push_back(d);
        auto host = startHost(config);
        QVERIFY(host);
        auto client = viewer(*host);
        Console console(client.get(), m_snapshot);
        const qint64 pid = pidFromText(str(console.waitText(QStringLiteral("s"), QStringLiteral("pgid")), "text"));
        const qint64 grandchild =
            pidFromText(str(console.waitText(QStringLiteral("s"), QStringLiteral("grandchild pid")), "text"));
        QVERIFY(pid > 0 && grandchild > 0);
        QCOMPARE(ProcessGroupSampler::processesInGroup(pid).size(), 2);

        QElapsedTimer timer;
        timer.start();
        client->sendJson(command(QStringLiteral("stop1"), QStringLiteral("s"), QStringLiteral("stop")));
        const QJsonObject result = console.waitResult(QStringLiteral("stop1"));
        QVERIFY(result.value(QStringLiteral("ok")).toBool());
        QVERIFY2(str(result, "text").contains(QStringLiteral("SIGKILL")), qPrintable(str(result, "text")));
        QVERIFY(timer.elapsed() >= 900);
        QVERIFY(!console.waitText(QStringLiteral("s"), QStringLiteral("ignoring SIGTERM")).isEmpty());
        QVERIFY(groupGone(pid));
        QCOMPARE(str(console.waitProcessState(QStringLiteral("s"), QStringLiteral("STOPPED")), "state"),
                 QStringLiteral("stopped"));

        // Stopping what is stopped is refused, honestly.
        client->sendJson(command(QStringLiteral("stop2"), QStringLiteral("s"), QStringLiteral("stop")));
        QCOMPARE(console.waitResult(QStringLiteral("stop2")).value(QStringLiteral("ok")).toBool(true), false);
    }

    void killIsAcceptedWhileStopping()
    {
        HostConfig config;
        AgentDefinition d = bot("k",
                                {QStringLiteral("--ignore-sigterm"), QStringLiteral("--pid"),
                                 QStringLiteral("--grandchild"), QStringLiteral("--forever")});
        d.stopwaitsecs = 60;
        config.agents.push_back(d);
        auto host = startHost(config);
        QVERIFY(host);
        auto client = viewer(*host);
        Console console(client.get(), m_snapshot);
        const qint64 pid = pidFromText(str(console.waitText(QStringLiteral("k"), QStringLiteral("pgid")), "text"));
        QVERIFY(!console.waitText(QStringLiteral("k"), QStringLiteral("grandchild pid")).isEmpty());
        client->sendJson(command(QStringLiteral("stop"), QStringLiteral("k"), QStringLiteral("stop")));
        QVERIFY(!console.waitProcessState(QStringLiteral("k"), QStringLiteral("STOPPING")).isEmpty());
        QElapsedTimer timer;
        timer.start();
        client->sendJson(command(QStringLiteral("kill"), QStringLiteral("k"), QStringLiteral("kill")));
        const QJsonObject killed = console.waitResult(QStringLiteral("kill"));
        QVERIFY(killed.value(QStringLiteral("ok")).toBool());
        QVERIFY2(str(killed, "text").contains(QStringLiteral("SIGKILL")), qPrintable(str(killed, "text")));
        QVERIFY(timer.elapsed() < 5000);
        QVERIFY(console.waitResult(QStringLiteral("stop")).value(QStringLiteral("ok")).toBool());
        QVERIFY(groupGone(pid));
    }

    void stdinSignalAndRestartCommands()
    {
        HostConfig config;
        config.agents.push_back(bot("io", {QStringLiteral("--signal-report"), QStringLiteral("--stdin")}));
        auto host = startHost(config);
        QVERIFY(host);
        auto client = viewer(*host);
        Console console(client.get(), m_snapshot);
        QVERIFY(!console.waitMark(QStringLiteral("io"), QStringLiteral("started `")).isEmpty());

        client->sendJson(command(QStringLiteral("1"), QStringLiteral("io"), QStringLiteral("stdin"),
                                 {{QStringLiteral("text"), QStringLiteral("echo hello there")}}));
        QVERIFY(console.waitResult(QStringLiteral("1")).value(QStringLiteral("ok")).toBool());
        QVERIFY(!console.waitText(QStringLiteral("io"), QStringLiteral("hello there")).isEmpty());

        client->sendJson(command(QStringLiteral("2"), QStringLiteral("io"), QStringLiteral("signal"),
                                 {{QStringLiteral("signal"), QStringLiteral("SIGUSR1")}}));
        const QJsonObject sent = console.waitResult(QStringLiteral("2"));
        QVERIFY(sent.value(QStringLiteral("ok")).toBool());
        QVERIFY(!console.waitText(QStringLiteral("io"), QStringLiteral("got SIGUSR1")).isEmpty());

        client->sendJson(command(QStringLiteral("3"), QStringLiteral("io"), QStringLiteral("signal"),
                                 {{QStringLiteral("signal"), QStringLiteral("SIGBOGUS")}}));
        const QJsonObject bogus = console.waitResult(QStringLiteral("3"));
        QCOMPARE(bogus.value(QStringLiteral("ok")).toBool(true), false);
        QCOMPARE(str(bogus, "error"), QStringLiteral("bad_message"));

        client->sendJson(command(QStringLiteral("4"), QStringLiteral("io"), QStringLiteral("restart")));
        const QJsonObject restarted = console.waitResult(QStringLiteral("4"));
        QVERIFY2(restarted.value(QStringLiteral("ok")).toBool(), qPrintable(str(restarted, "text")));
        QVERIFY(!console.waitMark(QStringLiteral("io"), QStringLiteral("run 2)")).isEmpty());

        client->sendJson(command(QStringLiteral("5"), QStringLiteral("io"), QStringLiteral("start")));
        const QJsonObject again = console.waitResult(QStringLiteral("5"));
        QCOMPARE(again.value(QStringLiteral("ok")).toBool(true), false);
        QVERIFY(str(again, "text").contains(QStringLiteral("already running")));

        // A command the launcher does not know goes to the agent's connection, which it has none of.
        client->sendJson(command(QStringLiteral("6"), QStringLiteral("io"), QStringLiteral("pause")));
        QCOMPARE(str(console.waitResult(QStringLiteral("6")), "error"), QStringLiteral("not_connected"));

        client->sendJson(command(QStringLiteral("7"), QStringLiteral("io"), QStringLiteral("stdin"),
                                 {{QStringLiteral("text"), QStringLiteral("exit 0")}}));
        QVERIFY(!console.waitProcessState(QStringLiteral("io"), QStringLiteral("EXITED")).isEmpty());
        client->sendJson(command(QStringLiteral("8"), QStringLiteral("io"), QStringLiteral("stdin"),
                                 {{QStringLiteral("text"), QStringLiteral("echo nobody")}}));
        const QJsonObject closed = console.waitResult(QStringLiteral("8"));
        QCOMPARE(closed.value(QStringLiteral("ok")).toBool(true), false);
        QCOMPARE(str(closed, "text"), QStringLiteral("not running"));
    }

    void childGetsHostEnvironmentAndConnectsBack()
    {
        HostConfig config;
        AgentDefinition d;
        d.id = "py";
        d.name = QStringLiteral("Python bot");
        d.command = QStringLiteral(AGENTDECK_PYTHON);
        d.args = {QStringLiteral(AGENTDECK_SOURCE_DIR "/tests/support/launched_bot.py")};
        d.env = {{QStringLiteral("BOT_GREETING"), QStringLiteral("hello forum")}};
        d.startsecs = 0;
        d.autorestart = AgentDefinition::Restart::Never;
        config.agents.push_back(d);
        auto host = startHost(config);
        QVERIFY(host);
        auto client = viewer(*host);
        Console console(client.get(), m_snapshot);
        QVERIFY(!console.waitText(QStringLiteral("py"), QStringLiteral("connecting to ws://127.0.0.1:")).isEmpty());
        const QJsonObject forum = console.waitMessage(QStringLiteral("forum"), 15000);
        QCOMPARE(str(forum, "agent"), QStringLiteral("py"));
        QCOMPARE(str(forum.value(QStringLiteral("messages")).toArray().first().toObject(), "text"),
                 QStringLiteral("hello forum"));
        const QJsonObject connected = console.waitLine(
            QStringLiteral("py"), [](const QJsonObject& l) { return str(l, "source") == QLatin1String("bot"); });
        QCOMPARE(str(connected, "text"), QStringLiteral("published over the protocol"));
        // The agent stays one agent: launched, connected, named by its definition.
        client->sendJson(command(QStringLiteral("ping"), QStringLiteral("py"), QStringLiteral("ping")));
        const QJsonObject pong = console.waitResult(QStringLiteral("ping"));
        QVERIFY(pong.value(QStringLiteral("ok")).toBool());
        QCOMPARE(str(pong, "text"), QStringLiteral("pong"));
        QVERIFY(!console.waitText(QStringLiteral("py"), QStringLiteral("numbered by the bot")).isEmpty());

        // A restart answers for the process, though the bot's connection goes with it.
        client->sendJson(command(QStringLiteral("again"), QStringLiteral("py"), QStringLiteral("restart")));
        const QJsonObject restarted = console.waitResult(QStringLiteral("again"));
        QVERIFY2(restarted.value(QStringLiteral("ok")).toBool(), qPrintable(str(restarted, "text")));
        QVERIFY(!console.waitMark(QStringLiteral("py"), QStringLiteral("run 2)")).isEmpty());

        client->sendJson(command(QStringLiteral("bye"), QStringLiteral("py"), QStringLiteral("stdin"),
                                 {{QStringLiteral("text"), QStringLiteral("quit")}}));
        QVERIFY(console.waitResult(QStringLiteral("bye")).value(QStringLiteral("ok")).toBool());
        QVERIFY2(!console.waitProcessState(QStringLiteral("py"), QStringLiteral("EXITED"), 15000).isEmpty(),
                 qPrintable(console.texts(QStringLiteral("py"), true).join(u'\n')));
    }

    void metricsForTheProcessGroup()
    {
        HostConfig config;
        config.metricsIntervalMs = 200;
        config.agents.push_back(bot("m",
                                    {QStringLiteral("--grandchild"), QStringLiteral("--rate"), QStringLiteral("200"),
                                     QStringLiteral("--lines"), QStringLiteral("100000"), QStringLiteral("--busy"),
                                     QStringLiteral("100000")}));
        auto host = startHost(config);
        QVERIFY(host);
        auto client = viewer(*host);
        Console console(client.get(), m_snapshot);
        QElapsedTimer timer;
        timer.start();
        QJsonObject best;
        while (timer.elapsed() < 15000) {
            const QJsonObject m = console.waitMessage(QStringLiteral("metrics"), 2000);
            const QJsonObject values = m.value(QStringLiteral("values")).toObject();
            if (str(m, "agent") == QLatin1String("m") && values.value(QStringLiteral("lines_per_s")).toDouble() > 50) {
                best = values;
                break;
            }
        }
        QVERIFY2(!best.isEmpty(), "no metrics with lines_per_s for the launched agent");
        QVERIFY(best.value(QStringLiteral("rss_bytes")).toDouble() > 100000);
        QCOMPARE(best.value(QStringLiteral("processes")).toInt(), 2);
        QVERIFY(best.contains(QStringLiteral("cpu")));
    }

    void hostShutdownLeavesNoProcess()
    {
        HostConfig config;
        AgentDefinition d = bot("x",
                                {QStringLiteral("--ignore-sigterm"), QStringLiteral("--grandchild-ignore-sigterm"),
                                 QStringLiteral("--pid"), QStringLiteral("--grandchild"), QStringLiteral("--forever")});
        d.stopwaitsecs = 1;
        config.agents.push_back(d);
        auto host = startHost(config);
        QVERIFY(host);
        qint64 pid = 0;
        {
            auto client = viewer(*host);
            Console console(client.get(), m_snapshot);
            pid = pidFromText(str(console.waitText(QStringLiteral("x"), QStringLiteral("pgid")), "text"));
            QVERIFY(!console.waitText(QStringLiteral("x"), QStringLiteral("grandchild pid")).isEmpty());
        }
        QCOMPARE(ProcessGroupSampler::processesInGroup(pid).size(), 2);
        QElapsedTimer timer;
        timer.start();
        host.reset();
        QVERIFY(timer.elapsed() < 5000);
        QVERIFY(groupGone(pid, 2000));
    }

    void logFilesServeHistoryAndSurviveRestarts()
    {
        QTemporaryDir dir;
        HostConfig config;
        config.logDirectory = dir.path();
        config.logRetentionLines = 100;
        config.agents.push_back(bot("h", {QStringLiteral("--lines"), QStringLiteral("5000")}));
        config.agents.back().autorestart = AgentDefinition::Restart::Never;
        QByteArray hostId;
        qint64 last = 0;
        {
            auto host = startHost(config);
            QVERIFY(host);
            hostId = host->hostId();
            auto client = viewer(*host);
            Console console(client.get(), m_snapshot);
            QVERIFY2(!console.waitMark(QStringLiteral("h"), QStringLiteral("exited with code 0"), 20000).isEmpty(),
                     qPrintable(console.texts(QStringLiteral("h"), true).mid(0, 5).join(u'\n') + u'\n'
                                + console.texts(QStringLiteral("h"), true).mid(-1, 5).join(u'\n')
                                + QString::number(console.lines(QStringLiteral("h")).size())));
            last = console.lines(QStringLiteral("h")).last().value(QStringLiteral("seq")).toInteger();

            // Line n of the bot is seq n + 1: the launcher's "started" line comes first.
            client->sendJson({{QStringLiteral("type"), QStringLiteral("history")},
                              {QStringLiteral("id"), QStringLiteral("h1")},
                              {QStringLiteral("agent"), QStringLiteral("h")},
                              {QStringLiteral("before"), 1001},
                              {QStringLiteral("limit"), 200}});
            const QJsonObject history = console.waitMessage(QStringLiteral("history"));
            QCOMPARE(str(history, "id"), QStringLiteral("h1"));
            const QJsonArray lines = history.value(QStringLiteral("lines")).toArray();
            QCOMPARE(lines.size(), 200);
            for (int i = 0; i < lines.size(); ++i) {
                const QJsonObject l = lines[i].toObject();
                QCOMPARE(l.value(QStringLiteral("seq")).toInteger(), 801 + i);
                QCOMPARE(str(l, "text"), QString::fromLatin1(testbotLine(800 + i)));
            }
            QVERIFY(history.value(QStringLiteral("more")).toBool());
            QVERIFY(QFile::exists(dir.filePath(QStringLiteral("h.log"))));
        }
        // A new host on the same directory goes on numbering and keeps its id.
        config.agents.back().autostart = false;
        auto host = startHost(config);
        QVERIFY(host);
        QCOMPARE(host->hostId(), hostId);
        auto client = std::make_unique<TestClient>();
        QVERIFY(client->open(host->url()));
        const QJsonObject snapshot = client->helloViewer(Token);
        const QJsonObject agent = snapshot.value(QStringLiteral("agents")).toArray().first().toObject();
        QCOMPARE(agent.value(QStringLiteral("last_seq")).toObject().value(QStringLiteral("log")).toInteger(), last);
        const QList<QJsonObject> replay =
            client->subscribe({{QStringLiteral("type"), QStringLiteral("subscribe")},
                               {QStringLiteral("agents"), QJsonArray{QStringLiteral("h")}},
                               {QStringLiteral("history"), 10}});
        qint64 newest = 0;
        for (const QJsonObject& m : replay) {
            for (const QJsonValue l : m.value(QStringLiteral("lines")).toArray())
                newest = std::max(newest, l.toObject().value(QStringLiteral("seq")).toInteger());
        }
        QCOMPARE(newest, last);
        client->sendJson(command(QStringLiteral("go"), QStringLiteral("h"), QStringLiteral("start")));
        Console console(client.get(), m_snapshot);
        const QJsonObject started = console.waitMark(QStringLiteral("h"), QStringLiteral("started `"));
        QCOMPARE(started.value(QStringLiteral("seq")).toInteger(), last + 1);
    }

    void historyFromMemoryAndItsMistakes()
    {
        HostConfig config;
        config.allowAgentEditing = false;
        config.agents.push_back(bot("mem", {QStringLiteral("--lines"), QStringLiteral("300")}));
        config.agents.back().autorestart = AgentDefinition::Restart::Never;
        auto host = startHost(config);
        QVERIFY(host);
        auto client = viewer(*host);
        Console console(client.get(), m_snapshot);
        QVERIFY(!console.waitMark(QStringLiteral("mem"), QStringLiteral("exited with code 0")).isEmpty());

        // No log files: the lines held in memory, newest first within the limit.
        client->sendJson({{QStringLiteral("type"), QStringLiteral("history")},
                          {QStringLiteral("id"), 7},
                          {QStringLiteral("agent"), QStringLiteral("mem")},
                          {QStringLiteral("before"), 102},
                          {QStringLiteral("limit"), 50}});
        const QJsonObject history = console.waitMessage(QStringLiteral("history"));
        QCOMPARE(history.value(QStringLiteral("id")).toInt(), 7);
        const QJsonArray lines = history.value(QStringLiteral("lines")).toArray();
        QCOMPARE(lines.size(), 50);
        QCOMPARE(lines.first().toObject().value(QStringLiteral("seq")).toInteger(), 52);
        QCOMPARE(str(lines.last().toObject(), "text"), QString::fromLatin1(testbotLine(100)));
        QVERIFY(history.value(QStringLiteral("more")).toBool());

        client->sendJson({{QStringLiteral("type"), QStringLiteral("history")},
                          {QStringLiteral("id"), QStringLiteral("x")},
                          {QStringLiteral("agent"), QStringLiteral("nobody")}});
        const QJsonObject unknown = console.waitMessage(QStringLiteral("error"));
        QCOMPARE(str(unknown, "code"), QStringLiteral("bad_message"));
        QCOMPARE(str(unknown, "ref"), QStringLiteral("x"));
        client->sendJson({{QStringLiteral("type"), QStringLiteral("history")},
                          {QStringLiteral("agent"), QStringLiteral("mem")},
                          {QStringLiteral("limit"), 0}});
        QCOMPARE(str(console.waitMessage(QStringLiteral("error")), "code"), QStringLiteral("bad_message"));

        // This host does not let viewers edit agents.
        client->sendJson({{QStringLiteral("type"), QStringLiteral("remove_agent")},
                          {QStringLiteral("id"), QStringLiteral("r")},
                          {QStringLiteral("agent"), QStringLiteral("mem")}});
        QCOMPARE(str(console.waitMessage(QStringLiteral("error")), "code"), QStringLiteral("forbidden"));
        // An agent cannot ask for history.
        auto agent = std::make_unique<TestClient>();
        QVERIFY(agent->open(host->url()));
        QVERIFY(!agent->helloAgent(Token, QStringLiteral("someone")).isEmpty());
        agent->sendJson(
            {{QStringLiteral("type"), QStringLiteral("history")}, {QStringLiteral("agent"), QStringLiteral("mem")}});
        QCOMPARE(str(agent->next(QStringLiteral("error")), "code"), QStringLiteral("forbidden"));
    }

    void agentsAreEditedAndSavedAtomically()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("host.json"));
        {
            QFile file(path);
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write("{\n  \"name\": \"edit-host\",\n  \"agents\": []\n}\n");
        }
        HostConfig config;
        QString error;
        QVERIFY2(config.load(path, &error), qPrintable(error));
        config.allowAgentEditing = true;
        auto host = startHost(config);
        QVERIFY(host);
        auto client = viewer(*host);
        Console console(client.get(), m_snapshot);

        QJsonObject definition{
            {QStringLiteral("id"), QStringLiteral("new")},
            {QStringLiteral("command"), QStringLiteral(AGENTDECK_TESTBOT)},
            {QStringLiteral("args"),
             QJsonArray{QStringLiteral("--text"), QStringLiteral("made at run time\\n"), QStringLiteral("--forever")}},
            {QStringLiteral("startsecs"), 0}};
        client->sendJson({{QStringLiteral("type"), QStringLiteral("define_agent")},
                          {QStringLiteral("id"), QStringLiteral("d1")},
                          {QStringLiteral("agent"), definition}});
        const QJsonObject added = console.waitResult(QStringLiteral("d1"));
        QVERIFY2(added.value(QStringLiteral("ok")).toBool(), qPrintable(str(added, "text")));
        QVERIFY(!console.waitText(QStringLiteral("new"), QStringLiteral("made at run time")).isEmpty());
        HostConfig saved;
        QVERIFY2(saved.load(path, &error), qPrintable(error));
        QCOMPARE(saved.hostName, QStringLiteral("edit-host"));
        QCOMPARE(saved.agents.size(), size_t(1));
        QCOMPARE(saved.agents[0].id, QByteArray("new"));

        // A definition with a mistake is refused with the reason.
        definition[QStringLiteral("autorestart")] = QStringLiteral("sometimes");
        client->sendJson({{QStringLiteral("type"), QStringLiteral("define_agent")},
                          {QStringLiteral("id"), QStringLiteral("d2")},
                          {QStringLiteral("agent"), definition}});
        const QJsonObject refused = console.waitResult(QStringLiteral("d2"));
        QCOMPARE(refused.value(QStringLiteral("ok")).toBool(true), false);
        QVERIFY(str(refused, "text").contains(QStringLiteral("autorestart")));

        // A file broken by hand is never overwritten.
        QByteArray broken = "{ \"name\": \"edit-host\", oops }";
        {
            QFile file(path);
            QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
            file.write(broken);
        }
        client->sendJson({{QStringLiteral("type"), QStringLiteral("remove_agent")},
                          {QStringLiteral("id"), QStringLiteral("r1")},
                          {QStringLiteral("agent"), QStringLiteral("new")}});
        const QJsonObject notSaved = console.waitResult(QStringLiteral("r1"));
        QCOMPARE(notSaved.value(QStringLiteral("ok")).toBool(true), false);
        QVERIFY(str(notSaved, "text").contains(QStringLiteral("1:")));
        {
            QFile file(path);
            QVERIFY(file.open(QIODevice::ReadOnly));
            QCOMPARE(file.readAll(), broken);
        }

        // Repaired, the removal goes through: the process stops and the agent goes.
        definition.remove(QStringLiteral("autorestart"));
        {
            QFile file(path);
            QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
            file.write("{\"name\": \"edit-host\", \"agents\": [" + QJsonDocument(definition).toJson() + "]}");
        }
        client->sendJson({{QStringLiteral("type"), QStringLiteral("remove_agent")},
                          {QStringLiteral("id"), QStringLiteral("r2")},
                          {QStringLiteral("agent"), QStringLiteral("new")}});
        const QJsonObject removed = console.waitResult(QStringLiteral("r2"));
        QVERIFY2(removed.value(QStringLiteral("ok")).toBool(), qPrintable(str(removed, "text")));
        QVERIFY(QFile::exists(path));
        QVERIFY2(saved.load(path, &error), qPrintable(error));
        QCOMPARE(saved.agents.size(), size_t(0));
        QCOMPARE(saved.hostName, QStringLiteral("edit-host"));
        client->sendJson(command(QStringLiteral("gone"), QStringLiteral("new"), QStringLiteral("start")));
        QCOMPARE(str(console.waitResult(QStringLiteral("gone")), "error"), QStringLiteral("unknown_agent"));
    }
};

QTEST_GUILESS_MAIN(TestLauncher)
#include "tst_launcher.moc"
