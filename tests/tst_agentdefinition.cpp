// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/engine/hostconfig.h"
#include "server/protocol/agentdefinition.h"
#include "server/protocol/json.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>
#include <csignal>

namespace {
bool parse(const QByteArray& json, AgentDefinition* d, QString* error)
{
    Json::Document doc;
    if (!doc.parse(json, error))
        return false;
    return AgentDefinition::fromJson(doc.root(), QStringLiteral("agents[0]."), d, error);
}

QByteArray readFile(const QString& path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

void writeFile(const QString& path, const QByteArray& bytes)
{
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
    file.write(bytes);
}
} // namespace

/// Agent definitions: the Supervisor/PM2-style keys, their checks, and saving them.
class TestAgentDefinition final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void defaults()
    {
        AgentDefinition d;
        QString error;
        QVERIFY2(parse(R"({"id":"bot","command":"python3"})", &d, &error), qPrintable(error));
        QCOMPARE(d.id, QByteArray("bot"));
        QVERIFY(d.autostart);
        QCOMPARE(d.autorestart, AgentDefinition::Restart::Unexpected);
        QCOMPARE(d.exitcodes, QList<int>{0});
        QCOMPARE(d.startsecs, 1);
        QCOMPARE(d.startretries, 3);
        QCOMPARE(d.stopsignal, SIGTERM);
        QCOMPARE(d.stopwaitsecs, 10);
        QVERIFY(d.stopasgroup);
        QCOMPARE(d.backoffFactor, 1.5);
    }

    void everyKey()
    {
        AgentDefinition d;
        QString error;
        QVERIFY2(parse(R"({"id":"q.1","name":"Query","command":"/usr/bin/env","args":["python3","-u","bot.py"],
                         "cwd":"/srv/bot","env":{"A":"1","B":"two words"},"autostart":false,"autorestart":true,
                         "exitcodes":[0,2],"startsecs":5,"startretries":-1,
                         "backoff":{"initial_ms":250,"factor":2,"max_ms":8000,"reset_after_ms":60000},
                         "stopsignal":"INT","stopwaitsecs":3,"stopasgroup":false})",
                       &d, &error),
                 qPrintable(error));
        QCOMPARE(d.name, QStringLiteral("Query"));
        QCOMPARE(d.args, (QStringList{QStringLiteral("python3"), QStringLiteral("-u"), QStringLiteral("bot.py")}));
        QCOMPARE(d.env.size(), size_t(2));
        QCOMPARE(d.env[1].second, QStringLiteral("two words"));
        QVERIFY(!d.autostart);
        QCOMPARE(d.autorestart, AgentDefinition::Restart::Always);
        QCOMPARE(d.exitcodes, (QList<int>{0, 2}));
        QVERIFY(d.isExpectedExit(2));
        QVERIFY(!d.isExpectedExit(1));
        QCOMPARE(d.startretries, -1);
        QCOMPARE(d.stopsignal, SIGINT);
        QVERIFY(!d.stopasgroup);
        QCOMPARE(d.backoffDelayMs(1), 250);
        QCOMPARE(d.backoffDelayMs(3), 1000);
        QCOMPARE(d.backoffDelayMs(10), 8000);

        // What is saved reads back the same.
        AgentDefinition again;
        QVERIFY2(parse(d.toJson(), &again, &error), qPrintable(error));
        QVERIFY(again == d);
    }

    void mistakesNameTheKey_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QString>("key");
        QTest::newRow("no id") << QByteArray(R"({"command":"x"})") << QStringLiteral("agents[0].id");
        QTest::newRow("bad id") << QByteArray(R"({"id":"a b","command":"x"})") << QStringLiteral("agents[0].id");
        QTest::newRow("no command") << QByteArray(R"({"id":"a"})") << QStringLiteral("agents[0].command");
        QTest::newRow("typo") << QByteArray(R"({"id":"a","command":"x","autorestrat":true})")
                              << QStringLiteral("agents[0].autorestrat: unknown key");
        QTest::newRow("autorestart") << QByteArray(R"({"id":"a","command":"x","autorestart":"sometimes"})")
                                     << QStringLiteral("agents[0].autorestart");
        QTest::newRow("exitcodes") << QByteArray(R"({"id":"a","command":"x","exitcodes":[0,300]})")
                                   << QStringLiteral("agents[0].exitcodes");
        QTest::newRow("signal") << QByteArray(R"({"id":"a","command":"x","stopsignal":"SIGNOPE"})")
                                << QStringLiteral("agents[0].stopsignal");
        QTest::newRow("retries") << QByteArray(R"({"id":"a","command":"x","startretries":-2})")
                                 << QStringLiteral("agents[0].startretries");
        QTest::newRow("factor") << QByteArray(R"({"id":"a","command":"x","backoff":{"factor":0.5}})")
                                << QStringLiteral("agents[0].backoff.factor");
        QTest::newRow("env") << QByteArray(R"({"id":"a","command":"x","env":{"A":1}})")
                             << QStringLiteral("agents[0].env");
        QTest::newRow("args") << QByteArray(R"({"id":"a","command":"x","args":"--flag"})")
                              << QStringLiteral("agents[0].args");
    }

    void mistakesNameTheKey()
    {
        QFETCH(QByteArray, json);
        QFETCH(QString, key);
        AgentDefinition d;
        QString error;
        QVERIFY(!parse(json, &d, &error));
        QVERIFY2(error.startsWith(key), qPrintable(error));
    }

    void signalNames()
    {
        QCOMPARE(parseSignal("SIGUSR1"), SIGUSR1);
        QCOMPARE(parseSignal("usr2"), SIGUSR2);
        QCOMPARE(parseSignal("9"), SIGKILL);
        QCOMPARE(parseSignal("SIGFOO"), 0);
        QCOMPARE(parseSignal(""), 0);
        QCOMPARE(parseSignal("123456"), 0);
        QCOMPARE(signalName(SIGTERM), QByteArray("SIGTERM"));
        QCOMPARE(signalName(40), QByteArray("40"));
    }

    void configReadsAgentsAndRejectsDuplicates()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("host.json"));
        writeFile(path, R"({"agents":[{"id":"a","command":"x"},{"id":"b","command":"y"}],
                           "logs":{"dir":"/tmp/logs","max_bytes":1048576,"backups":3,"max_line_bytes":1024}})");
        HostConfig config;
        QString error;
        QVERIFY2(config.load(path, &error), qPrintable(error));
        QCOMPARE(config.agents.size(), size_t(2));
        QCOMPARE(config.logDirectory, QStringLiteral("/tmp/logs"));
        QCOMPARE(config.logFileBackups, 3);
        QCOMPARE(config.maxLineBytes, qint64(1024));
        QCOMPARE(config.configPath, path);

        writeFile(path, R"({"agents":[{"id":"a","command":"x"},{"id":"a","command":"y"}]})");
        QVERIFY(!config.load(path, &error));
        QVERIFY2(error.contains(QStringLiteral("agents[1].id")), qPrintable(error));
    }

    void saveKeepsTheRestOfTheFile()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("host.json"));
        const QByteArray before = "{\n  \"port\": 7701,\n  \"name\": \"keep me\",\n  \"agents\": [],\n"
                                  "  \"redact\": {\"patterns\": [\"x+\"]}\n}\n";
        writeFile(path, before);
        AgentDefinition d;
        d.id = "bot";
        d.command = QStringLiteral("python3");
        QString error;
        QVERIFY2(saveAgents(path, {d}, &error), qPrintable(error));
        const QByteArray after = readFile(path);
        QVERIFY(
            after.startsWith("{\n  \"port\": 7701,\n  \"name\": \"keep me\",\n  \"agents\": [\n    {\"id\":\"bot\""));
        QVERIFY(after.endsWith("  \"redact\": {\"patterns\": [\"x+\"]}\n}\n"));
        HostConfig config;
        QVERIFY2(config.load(path, &error), qPrintable(error));
        QCOMPARE(config.port, 7701);
        QCOMPARE(config.agents.size(), size_t(1));
        QVERIFY(config.agents[0] == d);

        // No "agents" yet: added at the end.
        writeFile(path, "{\"port\": 7702}");
        QVERIFY2(saveAgents(path, {d}, &error), qPrintable(error));
        QVERIFY2(config.load(path, &error), qPrintable(error));
        QCOMPARE(config.port, 7702);
        QCOMPARE(config.agents.size(), size_t(1));

        // No file: created.
        const QString fresh = dir.filePath(QStringLiteral("sub/new.json"));
        QVERIFY2(saveAgents(fresh, {d}, &error), qPrintable(error));
        QVERIFY2(config.load(fresh, &error), qPrintable(error));
        QCOMPARE(config.agents.size(), size_t(1));

        // Agents that run for the session only are not written.
        AgentDefinition session = d;
        session.id = "demo";
        session.saved = false;
        QVERIFY2(saveAgents(fresh, {session, d, session}, &error), qPrintable(error));
        QVERIFY2(config.load(fresh, &error), qPrintable(error));
        QCOMPARE(config.agents.size(), size_t(1));
        QCOMPARE(config.agents[0].id, QByteArray("bot"));
        QVERIFY2(saveAgents(fresh, {session}, &error), qPrintable(error));
        QVERIFY2(config.load(fresh, &error), qPrintable(error));
        QCOMPARE(config.agents.size(), size_t(0));
    }

    void brokenFileIsNeverOverwritten()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("host.json"));
        const QByteArray broken = "{\n  \"port\": 7701,\n  \"agents\": [ oops ]\n}\n";
        writeFile(path, broken);
        QString error;
        QVERIFY(!saveAgents(path, {}, &error));
        QVERIFY2(error.contains(QStringLiteral(":3:")), qPrintable(error));
        QVERIFY(error.contains(QStringLiteral("not changed")));
        QCOMPARE(readFile(path), broken);
        const QStringList left = QDir(dir.path()).entryList(QDir::Files);
        QCOMPARE(left, QStringList{QStringLiteral("host.json")});
    }
};

QTEST_GUILESS_MAIN(TestAgentDefinition)
#include "tst_agentdefinition.moc"
