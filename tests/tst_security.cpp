// SPDX-License-Identifier: GPL-3.0-or-later
#include "support/fixtures.h"
#include "support/hostprocess.h"
#include "support/testclient.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <functional>
#include <memory>
#include <sys/stat.h>

/*
 * Least privilege against the real agentdeck-host (docs/security.md): what each
 * kind of token may and may not do, with the exact error and close codes; a
 * launched child confined to its own id; no takeover of a connected agent;
 * secrets kept off the command line and out of every field a viewer or the disk
 * gets.
 */

namespace {

const QString Python = QStringLiteral(AGENTDECK_PYTHON);

QString s(const char* text)
{
    return QString::fromUtf8(text);
}

/// The real host with a configuration the test writes, its state and logs in dir.
class TestHost final
{
public:
    explicit TestHost(const QString& dir, const QProcessEnvironment& extra = {})
        : m_dir(dir)
        , m_host(dir + QStringLiteral("/config"), extra)
    { }

    QString configPath() const { return m_dir + QStringLiteral("/host.json"); }
    QString logsDir() const { return m_dir + QStringLiteral("/logs"); }

    /// Writes config (with the test's logs folder) and starts the host with args;
    /// true once it says where it listens.
    bool start(QJsonObject config, const QStringList& args = {})
    {
        config[s("logs")] = QJsonObject{{s("dir"), logsDir()}};
        QFile file(configPath());
        if (!file.open(QIODevice::WriteOnly) || file.write(QJsonDocument(config).toJson()) < 0)
            return false;
        file.close();
        m_host.start(QStringList{s("--config"), configPath(), s("--port"), s("0")} + args);
        QString error;
        return m_host.waitListening(&error);
    }

    /// The host's exit code once it has ended by itself (-1 if it did not in time).
    int exitCode() { return m_host.waitFinished() ? m_host.process.exitCode() : -1; }
    QUrl url() const { return m_host.url; }
    QString errors() const { return m_host.stderrText(); }
    qint64 pid() const { return m_host.process.processId(); }

private:
    QString m_dir;
    HostProcess m_host;
};

/// A hello with token as role (and agent id for an agent); returns the first reply.
QJsonObject sendHello(TestClient& client, const QString& role, const QString& token, const QString& id = {})
{
    QJsonObject hello{{s("type"), s("hello")}, {s("protocol"), 1}, {s("role"), role}, {s("token"), token}};
    if (!id.isEmpty())
        hello[s("agent")] = QJsonObject{{s("id"), id}};
    client.sendJson(hello);
    return client.next({}, 10000);
}

/// The next message of type about agent, skipping others.
QJsonObject nextFor(TestClient& client, const QString& type, const QString& agent, int timeoutMs = 10000)
{
    QDeadlineTimer deadline(timeoutMs);
    while (!deadline.hasExpired()) {
        const QJsonObject m = client.next(type, int(std::max<qint64>(1, deadline.remainingTime())));
        if (m.isEmpty())
            break;
        if (m.value(s("agent")).toString() == agent
            || m.value(s("agent")).toObject().value(s("id")).toString() == agent)
            return m;
    }
    return {};
}

QStringList agentIds(const QJsonObject& snapshot)
{
    QStringList ids;
    for (const QJsonValue a : snapshot.value(s("agents")).toArray())
        ids.append(a.toObject().value(s("id")).toString());
    ids.sort();
    return ids;
}

QJsonObject command(const QString& id, const QString& agent, const QString& name, const QJsonObject& args = {})
{
    return {{s("type"), s("command")}, {s("id"), id}, {s("agent"), agent}, {s("name"), name}, {s("args"), args}};
}

QJsonObject logLine(const QString& text)
{
    return {{s("type"), s("log")}, {s("lines"), QJsonArray{QJsonObject{{s("text"), text}}}}};
}

/// Writes secret to path with mode (octal permission bits).
bool writeSecret(const QString& path, const QByteArray& secret, QFileDevice::Permissions mode)
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(secret + '\n') < 0)
        return false;
    file.close();
    return QFile::setPermissions(path, mode);
}

constexpr QFileDevice::Permissions OwnerOnly = QFileDevice::ReadOwner | QFileDevice::WriteOwner;
constexpr QFileDevice::Permissions WorldReadable = OwnerOnly | QFileDevice::ReadGroup | QFileDevice::ReadOther;

/// The configuration of the role tests: one token of each kind.
QJsonObject rolesConfig()
{
    const auto token = [](const char* name, const char* role, const QJsonArray& agents = {}, bool shared = false) {
        QJsonObject t{{s("name"), s(name)}, {s("secret"), QString(s(name) + s("-secret"))}, {s("role"), s(role)}};
        if (!agents.isEmpty())
            t[s("agents")] = agents;
        if (shared)
            t[s("shared")] = true;
        return t;
    };
    return {
        {s("allow_agent_editing"), true},
        {s("tokens"),
         QJsonArray{token("watcher", "viewer"), token("ops", "operator", {s("bf-*"), s("query")}),
                    token("boss", "admin"), token("bf-bots", "agent", {s("bf-*")}), token("team", "agent", {}, true),
                    token("other-team", "agent", {}, true), token("bf-admin", "admin", {s("bf-*")})}}};
}

QString secretOf(const char* name)
{
    return QString(s(name) + s("-secret"));
}

} // namespace

class TestSecurity final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void tokensGrantOnlyTheirRole_data();
    void tokensGrantOnlyTheirRole();
    void viewerTokenOnlyWatches();
    void operatorSeesAndCommandsOnlyItsScope();
    void onlyAdminsEditAgents();
    void noTakeover();
    void launchedChildIsConfinedToItsId();
    void tokenFiles();
    void redactsEveryField_data();
    void redactsEveryField();
    void noSecretReachesTheDisk();
    void privateKeyPrintedLineByLine();
    void launchedDefinitionHidesItsSecrets();
    void hostSecretsPrintedAsTheyAre();

private:
    /// The host the redaction rows share, with an agent per row and one viewer.
    std::unique_ptr<QTemporaryDir> m_redactDir;
    std::unique_ptr<TestHost> m_redactHost;
    std::unique_ptr<TestClient> m_redactViewer;
    QStringList m_secrets;
    int m_row = 0;
};

void TestSecurity::tokensGrantOnlyTheirRole_data()
{
    QTest::addColumn<QString>("role");
    QTest::addColumn<QString>("token");
    QTest::addColumn<QString>("id");
    QTest::addColumn<QString>("code"); // "welcome" when let in
    QTest::addColumn<int>("close");

    QTest::addRow("agent token as viewer") << s("viewer") << secretOf("team") << QString() << s("unauthorized") << 1008;
    QTest::addRow("bound agent token as viewer")
        << s("viewer") << secretOf("bf-bots") << QString() << s("unauthorized") << 1008;
    QTest::addRow("viewer token as agent") << s("agent") << secretOf("watcher") << s("x") << s("unauthorized") << 1008;
    QTest::addRow("operator token as agent") << s("agent") << secretOf("ops") << s("x") << s("unauthorized") << 1008;
    QTest::addRow("admin token as agent") << s("agent") << secretOf("boss") << s("x") << s("unauthorized") << 1008;
    QTest::addRow("bound token, other id") << s("agent") << secretOf("bf-bots") << s("query") << s("forbidden") << 1008;
    QTest::addRow("bound token, own id") << s("agent") << secretOf("bf-bots") << s("bf-media") << s("welcome") << 0;
    QTest::addRow("shared token, any id") << s("agent") << secretOf("team") << s("anything") << s("welcome") << 0;
    QTest::addRow("wrong token") << s("viewer") << s("nope") << QString() << s("unauthorized") << 1008;
    QTest::addRow("no token") << s("agent") << QString() << s("x") << s("unauthorized") << 1008;
    QTest::addRow("viewer token") << s("viewer") << secretOf("watcher") << QString() << s("welcome") << 0;
}

void TestSecurity::tokensGrantOnlyTheirRole()
{
    QFETCH(QString, role);
    QFETCH(QString, token);
    QFETCH(QString, id);
    QFETCH(QString, code);
    QFETCH(int, close);

    QTemporaryDir dir;
    TestHost host(dir.path());
    QVERIFY2(host.start(rolesConfig()), qPrintable(host.errors()));
    TestClient client;
    QVERIFY(client.open(host.url()));
    const QJsonObject reply = sendHello(client, role, token, id);
    if (code == QLatin1String("welcome")) {
        QCOMPARE(reply.value(s("type")).toString(), code);
        return;
    }
    QCOMPARE(reply.value(s("type")).toString(), s("error"));
    QCOMPARE(reply.value(s("code")).toString(), code);
    QVERIFY(client.waitClosed());
    QCOMPARE(client.closeCode(), close);
}

void TestSecurity::viewerTokenOnlyWatches()
{
    QTemporaryDir dir;
    TestHost host(dir.path());
    QVERIFY2(host.start(rolesConfig()), qPrintable(host.errors()));
    TestClient agent;
    QVERIFY(agent.open(host.url()));
    QVERIFY(!agent.helloAgent(secretOf("bf-bots"), s("bf-query")).isEmpty());
    agent.sendJson({{s("type"), s("ask")},
                    {s("id"), s("q1")},
                    {s("text"), s("Publish?")},
                    {s("choices"), QJsonArray{s("yes"), s("no")}}});

    TestClient viewer;
    QVERIFY(viewer.open(host.url()));
    const QJsonObject welcome = sendHello(viewer, s("viewer"), secretOf("watcher"));
    QCOMPARE(welcome.value(s("type")).toString(), s("welcome"));
    const QJsonObject access = welcome.value(s("access")).toObject();
    QCOMPARE(access.value(s("role")).toString(), s("viewer"));
    QCOMPARE(access.value(s("token")).toString(), s("watcher"));
    QCOMPARE(access.value(s("commands")).toBool(true), false);
    QCOMPARE(access.value(s("answers")).toBool(true), false);
    QCOMPARE(access.value(s("edit_agents")).toBool(true), false);
    QCOMPARE(access.value(s("agents")).toArray(), QJsonArray{s("*")});
    QCOMPARE(agentIds(viewer.next(s("snapshot"))), QStringList{s("bf-query")});

    // Reading works.
    viewer.subscribe({{s("agents"), QJsonArray{s("*")}}});
    agent.sendJson(logLine(s("visible to a viewer")));
    QCOMPARE(nextFor(viewer, s("log"), s("bf-query")).value(s("lines")).toArray().at(0)[s("text")].toString(),
             s("visible to a viewer"));

    // Commands and answers: one result each, refused, and nothing reaches the agent.
    viewer.sendJson(command(s("c1"), s("bf-query"), s("pause")));
    QJsonObject result = viewer.next(s("result"));
    QCOMPARE(result.value(s("ok")).toBool(true), false);
    QCOMPARE(result.value(s("error")).toString(), s("forbidden"));
    viewer.sendJson(command(s("c2"), s("bf-query"), s("answer"), {{s("ask"), s("q1")}, {s("choice"), s("yes")}}));
    result = viewer.next(s("result"));
    QCOMPARE(result.value(s("id")).toString(), s("c2"));
    QCOMPARE(result.value(s("error")).toString(), s("forbidden"));
    viewer.sendJson(command(s("c3"), s("*"), s("shutdown")));
    QCOMPARE(viewer.next(s("result")).value(s("error")).toString(), s("forbidden"));
    QVERIFY(!agent.has(s("command"), 300));

    // Editing: an error, the connection stays.
    viewer.sendJson({{s("type"), s("remove_agent")}, {s("id"), s("r1")}, {s("agent"), s("bf-query")}});
    const QJsonObject error = viewer.next(s("error"));
    QCOMPARE(error.value(s("code")).toString(), s("forbidden"));
    QVERIFY(viewer.isOpen());
}

void TestSecurity::operatorSeesAndCommandsOnlyItsScope()
{
    QTemporaryDir dir;
    TestHost host(dir.path());
    QVERIFY2(host.start(rolesConfig()), qPrintable(host.errors()));
    TestClient inside;
    TestClient outside;
    QVERIFY(inside.open(host.url()));
    QVERIFY(outside.open(host.url()));
    QVERIFY(!inside.helloAgent(secretOf("bf-bots"), s("bf-query")).isEmpty());
    QVERIFY(!outside.helloAgent(secretOf("team"), s("media")).isEmpty());
    outside.sendJson({{s("type"), s("ask")}, {s("id"), s("secret-q")}, {s("text"), s("hidden question")}});
    outside.sendJson(logLine(s("hidden line")));

    TestClient ops;
    QVERIFY(ops.open(host.url()));
    const QJsonObject welcome = sendHello(ops, s("viewer"), secretOf("ops"));
    QCOMPARE(welcome.value(s("access")).toObject().value(s("role")).toString(), s("operator"));
    QCOMPARE(welcome.value(s("access")).toObject().value(s("agents")).toArray(), (QJsonArray{s("bf-*"), s("query")}));
    const QJsonObject snapshot = ops.next(s("snapshot"));
    QCOMPARE(agentIds(snapshot), QStringList{s("bf-query")});
    QVERIFY(snapshot.value(s("asks")).toArray().isEmpty());

    // "*" and a named agent outside the scope: nothing of it, in the replay or live.
    const QList<QJsonObject> replay =
        ops.subscribe({{s("agents"), QJsonArray{s("*"), s("media")}}, {s("history"), 100}});
    for (const QJsonObject& m : replay)
        QVERIFY2(m.value(s("agent")).toString() != QLatin1String("media"), QJsonDocument(m).toJson().constData());
    outside.sendJson(logLine(s("still hidden")));
    outside.sendJson({{s("type"), s("status")}, {s("state"), s("busy")}});
    inside.sendJson(logLine(s("in scope")));
    QCOMPARE(nextFor(ops, s("log"), s("bf-query")).value(s("lines")).toArray().at(0)[s("text")].toString(),
             s("in scope"));
    // A new agent out of scope is not announced; one in scope is.
    TestClient later;
    QVERIFY(later.open(host.url()));
    QVERIFY(!later.helloAgent(secretOf("team"), s("worker")).isEmpty());
    TestClient laterInside;
    QVERIFY(laterInside.open(host.url()));
    QVERIFY(!laterInside.helloAgent(secretOf("team"), s("query")).isEmpty());
    QVERIFY(!nextFor(ops, s("agent"), s("query")).isEmpty());
    for (const QJsonObject& m : ops.pending()) {
        const QString about =
            m.value(s("agent")).isObject() ? m.value(s("agent"))[s("id")].toString() : m.value(s("agent")).toString();
        QVERIFY2(about != QLatin1String("media") && about != QLatin1String("worker"),
                 QJsonDocument(m).toJson().constData());
    }

    // History of an agent out of scope: as if it did not exist.
    ops.sendJson({{s("type"), s("history")}, {s("id"), s("h1")}, {s("agent"), s("media")}});
    const QJsonObject historyError = ops.next(s("error"));
    QCOMPARE(historyError.value(s("code")).toString(), s("bad_message"));
    QCOMPARE(historyError.value(s("text")).toString(), s("no agent has this id"));

    // Commands: out of scope is unknown; "*" reaches only the scope.
    ops.sendJson(command(s("c1"), s("media"), s("shutdown")));
    QCOMPARE(ops.next(s("result")).value(s("error")).toString(), s("unknown_agent"));
    QVERIFY(!outside.has(s("command"), 200));
    ops.sendJson(command(s("c2"), s("*"), s("ping")));
    QJsonObject forwarded = inside.next(s("command"));
    QCOMPARE(forwarded.value(s("name")).toString(), s("ping"));
    inside.sendJson({{s("type"), s("result")}, {s("id"), forwarded.value(s("id"))}, {s("ok"), true}});
    forwarded = laterInside.next(s("command"));
    laterInside.sendJson({{s("type"), s("result")}, {s("id"), forwarded.value(s("id"))}, {s("ok"), true}});
    QStringList answered;
    for (int i = 0; i < 2; ++i) {
        const QJsonObject r = ops.next(s("result"));
        QVERIFY(r.value(s("ok")).toBool());
        answered.append(r.value(s("agent")).toString());
    }
    answered.sort();
    QCOMPARE(answered, (QStringList{s("bf-query"), s("query")}));
    QVERIFY(!outside.has(s("command"), 200));
    QVERIFY(!later.has(s("command"), 10));
    QVERIFY(!ops.has(s("result"), 200));
}

void TestSecurity::onlyAdminsEditAgents()
{
    QTemporaryDir dir;
    TestHost host(dir.path());
    QVERIFY2(host.start(rolesConfig()), qPrintable(host.errors()));
    const auto define = [](const QString& ref, const QString& id) {
        return QJsonObject{{s("type"), s("define_agent")},
                           {s("id"), ref},
                           {s("agent"),
                            QJsonObject{{s("id"), id},
                                        {s("command"), s("/bin/sleep")},
                                        {s("args"), QJsonArray{s("60")}},
                                        {s("autostart"), false}}}};
    };
    TestClient ops;
    QVERIFY(ops.open(host.url()));
    QCOMPARE(sendHello(ops, s("viewer"), secretOf("ops"))[s("access")][s("edit_agents")].toBool(true), false);
    ops.sendJson(define(s("d1"), s("bf-new")));
    QCOMPARE(ops.next(s("error")).value(s("code")).toString(), s("forbidden"));

    TestClient scopedAdmin;
    QVERIFY(scopedAdmin.open(host.url()));
    QCOMPARE(sendHello(scopedAdmin, s("viewer"), secretOf("bf-admin"))[s("access")][s("edit_agents")].toBool(), true);
    scopedAdmin.sendJson(define(s("d2"), s("elsewhere")));
    QCOMPARE(scopedAdmin.next(s("error")).value(s("code")).toString(), s("forbidden"));
    scopedAdmin.sendJson(define(s("d3"), s("bf-new")));
    QJsonObject result = scopedAdmin.next(s("result"));
    QVERIFY2(result.value(s("ok")).toBool(), QJsonDocument(result).toJson().constData());

    TestClient admin;
    QVERIFY(admin.open(host.url()));
    QCOMPARE(sendHello(admin, s("viewer"), secretOf("boss"))[s("access")][s("edit_agents")].toBool(), true);
    admin.sendJson(define(s("d4"), s("elsewhere")));
    result = admin.next(s("result"));
    QVERIFY2(result.value(s("ok")).toBool(), QJsonDocument(result).toJson().constData());
}

void TestSecurity::noTakeover()
{
    QTemporaryDir dir;
    TestHost host(dir.path());
    QVERIFY2(host.start(rolesConfig()), qPrintable(host.errors()));
    const auto connect = [&host](TestClient& client, const QString& token, const QString& id) {
        if (!client.open(host.url()))
            return QJsonObject();
        return sendHello(client, s("agent"), token, id);
    };

    // One shared token: a reconnect replaces the connection (protocol v1).
    TestClient first;
    TestClient again;
    QCOMPARE(connect(first, secretOf("team"), s("x"))[s("type")].toString(), s("welcome"));
    QCOMPARE(connect(again, secretOf("team"), s("x"))[s("type")].toString(), s("welcome"));
    QVERIFY(first.waitClosed());
    QCOMPARE(first.closeCode(), 4000);

    // Another shared token may not take it.
    TestClient intruder;
    const QJsonObject refused = connect(intruder, secretOf("other-team"), s("x"));
    QCOMPARE(refused[s("code")].toString(), s("forbidden"));
    QVERIFY(intruder.waitClosed());
    QCOMPARE(intruder.closeCode(), 1008);
    QVERIFY(again.isOpen());

    // A bound token takes its id back from a shared one...
    TestClient sharedHolder;
    TestClient bound;
    QCOMPARE(connect(sharedHolder, secretOf("team"), s("bf-one"))[s("type")].toString(), s("welcome"));
    QCOMPARE(connect(bound, secretOf("bf-bots"), s("bf-one"))[s("type")].toString(), s("welcome"));
    QVERIFY(sharedHolder.waitClosed());
    QCOMPARE(sharedHolder.closeCode(), 4000);
    // ...and no shared token, not even the one that held it, takes it from the bound one.
    for (const char* name : {"team", "other-team"}) {
        TestClient attempt;
        QCOMPARE(connect(attempt, secretOf(name), s("bf-one"))[s("code")].toString(), s("forbidden"));
        QVERIFY(attempt.waitClosed());
        QCOMPARE(attempt.closeCode(), 1008);
    }
    QVERIFY(bound.isOpen());
    // The same binding reconnects.
    TestClient boundAgain;
    QCOMPARE(connect(boundAgain, secretOf("bf-bots"), s("bf-one"))[s("type")].toString(), s("welcome"));
    QVERIFY(bound.waitClosed());
    QCOMPARE(bound.closeCode(), 4000);

    // While refused attempts came and went, commands still reached the rightful agent.
    TestClient ops;
    QVERIFY(ops.open(host.url()));
    sendHello(ops, s("viewer"), secretOf("boss"));
    ops.sendJson(command(s("c1"), s("bf-one"), s("ping")));
    const QJsonObject forwarded = boundAgain.next(s("command"));
    QCOMPARE(forwarded.value(s("name")).toString(), s("ping"));

    // Gone offline, its id still belongs to the bound token: a shared one cannot take it
    // between two reconnects, with its numbers and open questions.
    boundAgain.socket()->close();
    QVERIFY(boundAgain.waitClosed());
    TestClient meanwhile;
    QCOMPARE(connect(meanwhile, secretOf("team"), s("bf-one"))[s("code")].toString(), s("forbidden"));
    TestClient back;
    QCOMPARE(connect(back, secretOf("bf-bots"), s("bf-one"))[s("type")].toString(), s("welcome"));
}

void TestSecurity::launchedChildIsConfinedToItsId()
{
    QTemporaryDir dir;
    TestHost host(dir.path());
    const QString tokenOut = dir.filePath(s("probe.token"));
    QJsonObject config{{s("token"), s("host-token")}, {s("allow_agent_editing"), true}};
    config[s("tokens")] = QJsonArray{QJsonObject{{s("name"), s("p-bots")},
                                                 {s("secret"), s("p-secret")},
                                                 {s("role"), s("agent")},
                                                 {s("agents"), QJsonArray{s("p*"), s("quiet")}}}};
    config[s("agents")] = QJsonArray{
        QJsonObject{{s("id"), s("probe")},
                    {s("command"), Python},
                    {s("args"), QJsonArray{QStringLiteral(AGENTDECK_SOURCE_DIR "/tests/support/probe_bot.py")}},
                    {s("env"), QJsonObject{{s("PROBE_OTHER_ID"), s("victim")}, {s("PROBE_TOKEN_OUT"), tokenOut}}},
                    {s("autorestart"), false}},
        QJsonObject{{s("id"), s("quiet")}, {s("command"), s("/bin/sleep")}, {s("args"), QJsonArray{s("60")}}}};
    QVERIFY2(host.start(config), qPrintable(host.errors()));

    TestClient victim;
    QVERIFY(victim.open(host.url()));
    QVERIFY(!victim.helloAgent(s("host-token"), s("victim")).isEmpty());
    TestClient viewer;
    QVERIFY(viewer.open(host.url()));
    QVERIFY(!viewer.helloViewer(s("host-token")).isEmpty());
    viewer.subscribe({{s("agents"), QJsonArray{s("probe")}}, {s("history"), 1000}});

    const QStringList expected{s("PROBE viewer: unauthorized 1008"), s("PROBE other id: forbidden 1008"),
                               s("PROBE own id: welcome 0"), s("PROBE command: forbidden 0"),
                               s("PROBE subscribe: forbidden 0")};
    QStringList seen;
    QDeadlineTimer deadline(20000);
    while (seen.size() < expected.size() && !deadline.hasExpired()) {
        const QJsonObject log = nextFor(viewer, s("log"), s("probe"), 1000);
        for (const QJsonValue line : log.value(s("lines")).toArray()) {
            const QString text = line[s("text")].toString();
            if (text.startsWith(QLatin1String("PROBE")) && !line[s("partial")].toBool())
                seen.append(text);
        }
    }
    QCOMPARE(seen, expected);
    QVERIFY(victim.isOpen());
    QVERIFY(!victim.has(s("command"), 200));

    // Its own token, not the host's; the host's shared token cannot take its id.
    QFile file(tokenOut);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QString childToken = QString::fromUtf8(file.readAll()).trimmed();
    QVERIFY(!childToken.isEmpty());
    QVERIFY(childToken != QLatin1String("host-token"));
    TestClient impostor;
    QVERIFY(impostor.open(host.url()));
    QCOMPARE(sendHello(impostor, s("agent"), s("host-token"), s("probe"))[s("code")].toString(), s("forbidden"));
    // Nor can a token whose patterns cover the id: a launched agent's id is its process's.
    for (const char* id : {"probe", "quiet"}) {
        TestClient covered;
        QVERIFY(covered.open(host.url()));
        QCOMPARE(sendHello(covered, s("agent"), s("p-secret"), s(id))[s("code")].toString(), s("forbidden"));
    }
    // The single token may speak for a launched agent nobody speaks for (protocol v1 bots
    // that read their token from elsewhere), and only then.
    TestClient single;
    QVERIFY(single.open(host.url()));
    QCOMPARE(sendHello(single, s("agent"), s("host-token"), s("quiet"))[s("type")].toString(), s("welcome"));

    // Removed, its token is revoked.
    viewer.sendJson({{s("type"), s("remove_agent")}, {s("id"), s("r1")}, {s("agent"), s("probe")}});
    QVERIFY(viewer.next(s("result"), 15000).value(s("ok")).toBool());
    TestClient revoked;
    QVERIFY(revoked.open(host.url()));
    QCOMPARE(sendHello(revoked, s("agent"), childToken, s("probe"))[s("code")].toString(), s("unauthorized"));
}

void TestSecurity::tokenFiles()
{
    QTemporaryDir dir;
    const QString open = dir.filePath(s("open.token"));
    const QString closed = dir.filePath(s("closed.token"));
    QVERIFY(writeSecret(open, "file-secret", WorldReadable));
    QVERIFY(writeSecret(closed, "file-secret", OwnerOnly));

    {
        QTemporaryDir hostDir;
        TestHost host(hostDir.path());
        QVERIFY(!host.start({}, {s("--token-file"), open}));
        QCOMPARE(host.exitCode(), 2);
        QVERIFY2(host.errors().contains(s("other users may read or change it")), qPrintable(host.errors()));
        QVERIFY2(host.errors().contains(s("chmod 600 ") + open), qPrintable(host.errors()));
    }
    {
        QTemporaryDir hostDir;
        TestHost host(hostDir.path());
        QJsonObject config{
            {s("tokens"),
             QJsonArray{QJsonObject{{s("name"), s("ops")}, {s("secret_file"), open}, {s("role"), s("operator")}}}}};
        QVERIFY(!host.start(config));
        QCOMPARE(host.exitCode(), 1);
        QVERIFY2(host.errors().contains(s("other users may read or change it")), qPrintable(host.errors()));
    }
    const QString groupWritable = dir.filePath(s("group.token"));
    QVERIFY(writeSecret(groupWritable, "file-secret", OwnerOnly | QFileDevice::WriteGroup));
    const QString fifo = dir.filePath(s("fifo.token"));
    QCOMPARE(::mkfifo(QFile::encodeName(fifo).constData(), 0600), 0);
    for (const auto& [path, problem] :
         {std::pair{groupWritable, s("other users may read or change it")}, std::pair{fifo, s("not a regular file")}}) {
        QTemporaryDir hostDir;
        TestHost host(hostDir.path());
        QVERIFY(!host.start({}, {s("--token-file"), path}));
        QCOMPARE(host.exitCode(), 2);
        QVERIFY2(host.errors().contains(problem), qPrintable(host.errors()));
    }
    const auto viewerGetsIn = [](TestHost& host, const QString& token) {
        TestClient viewer;
        return viewer.open(host.url()) && !viewer.helloViewer(token).isEmpty();
    };
    {
        QTemporaryDir hostDir;
        TestHost host(hostDir.path());
        QVERIFY2(host.start({}, {s("--token-file"), closed}), qPrintable(host.errors()));
        QVERIFY(viewerGetsIn(host, s("file-secret")));
        QVERIFY(!host.errors().contains(s("warning")));
    }
    {
        QTemporaryDir hostDir;
        QProcessEnvironment env;
        env.insert(s("AGENTDECK_TOKEN"), s("env-secret"));
        TestHost host(hostDir.path(), env);
        QVERIFY2(host.start({}), qPrintable(host.errors()));
        QVERIFY(viewerGetsIn(host, s("env-secret")));
        // Not left in the process's environment, where its launched agents could read it.
        QFile environment(QStringLiteral("/proc/%1/environ").arg(host.pid()));
        QVERIFY(environment.open(QIODevice::ReadOnly));
        QVERIFY(!environment.readAll().contains("env-secret"));
    }
    {
        QTemporaryDir hostDir;
        TestHost host(hostDir.path());
        QVERIFY2(host.start({{s("token_file"), closed}}), qPrintable(host.errors()));
        QVERIFY(viewerGetsIn(host, s("file-secret")));
    }
    {
        QTemporaryDir hostDir;
        TestHost host(hostDir.path());
        QVERIFY2(host.start({}, {s("--token"), s("cli-secret")}), qPrintable(host.errors()));
        QVERIFY(viewerGetsIn(host, s("cli-secret")));
        QVERIFY2(host.errors().contains(s("warning: --token can be read by every user")), qPrintable(host.errors()));
    }
}

// ---------------------------------------------------------------------------
// Redaction of every field

namespace {

/// How an agent publishes text in one field, and where a viewer finds it. hello is
/// the agent's hello extra (for its name and command help).
struct Field
{
    const char* name;
    std::function<QJsonObject(const QString& text)> hello;
    std::function<void(TestClient& agent, TestClient& viewer, const QString& id, const QString& text)> publish;
    const char* type; // of the viewer's message that carries it
};

const std::vector<Field>& fields()
{
    static const std::vector<Field> all = {
        {"log text", nullptr,
         [](TestClient& a, TestClient&, const QString&, const QString& t) { a.sendJson(logLine(t)); }, "log"},
        {"log source", nullptr,
         [](TestClient& a, TestClient&, const QString&, const QString& t) {
             a.sendJson({{s("type"), s("log")},
                         {s("lines"), QJsonArray{QJsonObject{{s("text"), s("plain")}, {s("source"), t}}}}});
         },
         "log"},
        {"partial line source", nullptr,
         [](TestClient& a, TestClient&, const QString&, const QString& t) {
             a.sendJson({{s("type"), s("log")},
                         {s("lines"),
                          QJsonArray{QJsonObject{{s("text"), s("half")}, {s("source"), t}, {s("partial"), true}}}}});
         },
         "log"},
        {"forum text", nullptr,
         [](TestClient& a, TestClient&, const QString&, const QString& t) {
             a.sendJson({{s("type"), s("forum")}, {s("messages"), QJsonArray{QJsonObject{{s("text"), t}}}}});
         },
         "forum"},
        {"forum sender", nullptr,
         [](TestClient& a, TestClient&, const QString&, const QString& t) {
             a.sendJson({{s("type"), s("forum")},
                         {s("messages"), QJsonArray{QJsonObject{{s("text"), s("hi")}, {s("sender"), t}}}}});
         },
         "forum"},
        {"forum source", nullptr,
         [](TestClient& a, TestClient&, const QString&, const QString& t) {
             a.sendJson({{s("type"), s("forum")},
                         {s("messages"), QJsonArray{QJsonObject{{s("text"), s("hi")}, {s("source"), t}}}}});
         },
         "forum"},
        {"status text", nullptr,
         [](TestClient& a, TestClient&, const QString&, const QString& t) {
             a.sendJson({{s("type"), s("status")}, {s("state"), s("busy")}, {s("text"), t}});
         },
         "status"},
        {"task title", nullptr,
         [](TestClient& a, TestClient&, const QString&, const QString& t) {
             a.sendJson({{s("type"), s("status")},
                         {s("state"), s("busy")},
                         {s("tasks"),
                          QJsonArray{QJsonObject{{s("id"), s("1")}, {s("title"), t}, {s("state"), s("running")}}}}});
         },
         "status"},
        {"ask text", nullptr,
         [](TestClient& a, TestClient&, const QString&, const QString& t) {
             a.sendJson({{s("type"), s("ask")}, {s("id"), s("q")}, {s("text"), t}});
         },
         "ask"},
        {"ask choice", nullptr,
         [](TestClient& a, TestClient&, const QString&, const QString& t) {
             a.sendJson({{s("type"), s("ask")},
                         {s("id"), s("q")},
                         {s("text"), s("pick")},
                         {s("choices"), QJsonArray{s("fine"), t}}});
         },
         "ask"},
        {"agent name",
         [](const QString& t) {
             return QJsonObject{{s("name"), t}};
         },
         nullptr, "agent"},
        {"command help",
         [](const QString& t) {
             return QJsonObject{{s("commands"), QJsonArray{QJsonObject{{s("name"), s("go")}, {s("help"), t}}}}};
         },
         nullptr, "agent"},
        {"metric name", nullptr,
         [](TestClient& a, TestClient&, const QString&, const QString& t) {
             a.sendJson({{s("type"), s("metrics")}, {s("values"), QJsonObject{{t, 1.5}}}});
         },
         "metrics"},
        {"result error", nullptr,
         [](TestClient& a, TestClient& v, const QString& id, const QString& t) {
             v.sendJson(command(s("e-") + id, id, s("go")));
             const QJsonObject forwarded = a.next(s("command"));
             a.sendJson({{s("type"), s("result")}, {s("id"), forwarded[s("id")]}, {s("ok"), false}, {s("error"), t}});
         },
         "result"},
        {"result text", nullptr,
         [](TestClient& a, TestClient& v, const QString& id, const QString& t) {
             v.sendJson(command(s("c-") + id, id, s("go")));
             const QJsonObject forwarded = a.next(s("command"));
             a.sendJson({{s("type"), s("result")}, {s("id"), forwarded[s("id")]}, {s("ok"), true}, {s("text"), t}});
         },
         "result"},
    };
    return all;
}

/// Secrets as bots print them, and the secret part that must not get through.
struct Secret
{
    const char* name;
    const char* text;
    const char* secret;
};

const Secret Secrets[] = {
    {"api key", "key sk-proj4Hq9x2LmN8vB7cT1zR", "sk-proj4Hq9x2LmN8vB7cT1zR"},
    {"password=", "login password=hunter2hunter2 ok", "hunter2hunter2"},
    {"bearer", "Authorization: Bearer abcDEF123456789xyz", "abcDEF123456789xyz"},
    {"token scheme", "Authorization: Token tk9f8e7d6c5b4a", "tk9f8e7d6c5b4a"},
    {"long flag", "run --password s3cr3tpass --verbose", "s3cr3tpass"},
    {"jwt", "got eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
     "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"},
    {"DB_PASS", "DB_PASS=Pa55w0rdX", "Pa55w0rdX"},
    {"full-width colon", "密码：hunter3zz", "hunter3zz"},
    {"private key", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1b2c3d4e5f6\n-----END RSA PRIVATE KEY-----",
     "MIIEowIBAAKCAQEA1b2c3d4e5f6"},
};

} // namespace

void TestSecurity::redactsEveryField_data()
{
    QTest::addColumn<int>("field");
    QTest::addColumn<int>("secret");
    for (int f = 0; f < int(fields().size()); ++f) {
        for (int k = 0; k < int(std::size(Secrets)); ++k)
            QTest::addRow("%s: %s", fields()[size_t(f)].name, Secrets[k].name) << f << k;
    }
}

void TestSecurity::redactsEveryField()
{
    QFETCH(int, field);
    QFETCH(int, secret);
    const Field& f = fields()[size_t(field)];
    const Secret& k = Secrets[secret];
    if (!m_redactHost) {
        m_redactDir = std::make_unique<QTemporaryDir>();
        m_redactHost = std::make_unique<TestHost>(m_redactDir->path());
        QVERIFY2(m_redactHost->start({{s("token"), s("redact-token")}}), qPrintable(m_redactHost->errors()));
        m_redactViewer = std::make_unique<TestClient>();
        QVERIFY(m_redactViewer->open(m_redactHost->url()));
        QVERIFY(!m_redactViewer->helloViewer(s("redact-token")).isEmpty());
        m_redactViewer->subscribe({{s("agents"), QJsonArray{s("*")}}, {s("history"), 0}});
    }
    m_secrets.append(s(k.secret));
    const QString id = QStringLiteral("row%1").arg(m_row++);
    TestClient agent;
    QVERIFY(agent.open(m_redactHost->url()));
    QVERIFY(!agent.helloAgent(s("redact-token"), id, f.hello ? f.hello(s(k.text)) : QJsonObject()).isEmpty());
    if (f.publish)
        f.publish(agent, *m_redactViewer, id, s(k.text));
    const QJsonObject received = nextFor(*m_redactViewer, s(f.type), id);
    QVERIFY2(!received.isEmpty(), "the viewer got nothing");
    const QString json = QString::fromUtf8(QJsonDocument(received).toJson(QJsonDocument::Compact));
    QVERIFY2(!json.contains(s(k.secret)), qPrintable(json));
    QVERIFY2(json.contains(s("[REDACTED]")), qPrintable(json));
}

void TestSecurity::noSecretReachesTheDisk()
{
    QVERIFY(m_redactHost);
    // Log files are flushed every 250 ms.
    QTest::qWait(600);
    int files = 0;
    QDirIterator it(m_redactHost->logsDir(), QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        QFile file(it.next());
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(file.readAll());
        ++files;
        for (const QString& secret : std::as_const(m_secrets))
            QVERIFY2(!text.contains(secret), qPrintable(file.fileName() + QStringLiteral(": ") + secret));
    }
    QVERIFY2(files >= 2, "no log files were written");
}

void TestSecurity::privateKeyPrintedLineByLine()
{
    // The same key, printed by a launched program and sent line by line by an agent.
    const QStringList key{s("-----BEGIN OPENSSH PRIVATE KEY-----"), s("b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ"),
                          s("AAAAMwAAAAtzc2gtZWQyNTUxOQAAACBtZXRhbGxpY2E="), s("-----END OPENSSH PRIVATE KEY-----"),
                          s("key loaded")};
    QTemporaryDir dir;
    TestHost host(dir.path());
    QJsonObject config{{s("token"), s("key-token")}};
    config[s("agents")] = QJsonArray{
        QJsonObject{{s("id"), s("printer")},
                    {s("command"), Python},
                    {s("args"), QJsonArray{s("-c"), s("import sys; print(sys.argv[1])"), key.join(QLatin1Char('\n'))}},
                    {s("autorestart"), false}}};
    QVERIFY2(host.start(config), qPrintable(host.errors()));
    TestClient agent;
    QVERIFY(agent.open(host.url()));
    QVERIFY(!agent.helloAgent(s("key-token"), s("sender")).isEmpty());
    for (const QString& line : key)
        agent.sendJson(logLine(line));

    TestClient viewer;
    QVERIFY(viewer.open(host.url()));
    QVERIFY(!viewer.helloViewer(s("key-token")).isEmpty());
    QList<QJsonObject> received =
        viewer.subscribe({{s("agents"), QJsonArray{s("printer"), s("sender")}}, {s("history"), 1000}});
    const QStringList expected{key[0], s("[REDACTED]"), s("[REDACTED]"), key[3], key[4]};
    QHash<QString, QStringList> texts;
    QDeadlineTimer deadline(15000);
    while (!(texts[s("printer")].contains(key[4]) && texts[s("sender")].contains(key[4])) && !deadline.hasExpired()) {
        for (const QJsonObject& log : std::as_const(received)) {
            for (const QJsonValue line : log.value(s("lines")).toArray()) {
                // The program's own lines, not the launcher's notes about it.
                if (log[s("type")].toString() == QLatin1String("log") && !line[s("partial")].toBool()
                    && !line[s("source")].toString().startsWith(QLatin1String("agentdeck")))
                    texts[log[s("agent")].toString()].append(line[s("text")].toString());
            }
        }
        received = {viewer.next(s("log"), 1000)};
    }
    QCOMPARE(texts.value(s("printer")), expected);
    QCOMPARE(texts.value(s("sender")), expected);
}

void TestSecurity::launchedDefinitionHidesItsSecrets()
{
    QTemporaryDir dir;
    TestHost host(dir.path());
    QJsonObject config{{s("token"), s("def-token")}};
    config[s("agents")] = QJsonArray{QJsonObject{
        {s("id"), s("db")},
        {s("command"), s("/usr/bin/mysqldump")},
        {s("args"), QJsonArray{s("-u"), s("root"), s("-pS3cretDb"), s("--password"), s("hunter2x"), s("shop")}},
        {s("env"), QJsonObject{{s("DB_PASSWORD"), s("envsecret1")}, {s("MODE"), s("fast")}}},
        {s("autostart"), false}}};
    QJsonArray agents = config[s("agents")].toArray();
    agents.append(QJsonObject{
        {s("id"), s("runner")},
        {s("command"), Python},
        {s("args"), QJsonArray{s("-c"), s("import time; time.sleep(60)"), s("--password"), s("hunter2y")}}});
    config[s("agents")] = agents;
    QVERIFY2(host.start(config), qPrintable(host.errors()));
    TestClient viewer;
    QVERIFY(viewer.open(host.url()));
    const QJsonObject snapshot = viewer.helloViewer(s("def-token"));
    // The launcher's note of the command it started quotes no password either.
    QList<QJsonObject> received = viewer.subscribe({{s("agents"), QJsonArray{s("runner")}}, {s("history"), 100}});
    QString started;
    QDeadlineTimer deadline(15000);
    while (started.isEmpty() && !deadline.hasExpired()) {
        for (const QJsonObject& log : std::as_const(received)) {
            for (const QJsonValue line : log.value(s("lines")).toArray()) {
                if (line[s("text")].toString().startsWith(QLatin1String("started")))
                    started = line[s("text")].toString();
            }
        }
        received = {viewer.next(s("log"), 1000)};
    }
    QVERIFY2(started.contains(s("--password [REDACTED]")) && !started.contains(s("hunter2y")), qPrintable(started));
    const QJsonObject definition = snapshot[s("agents")][0][s("definition")].toObject();
    QCOMPARE(definition[s("args")].toArray(),
             (QJsonArray{s("-u"), s("root"), s("-p[REDACTED]"), s("--password"), s("[REDACTED]"), s("shop")}));
    QCOMPARE(definition[s("env")][s("DB_PASSWORD")].toString(), s("[REDACTED]"));
    QCOMPARE(definition[s("env")][s("MODE")].toString(), s("fast"));
}

void TestSecurity::hostSecretsPrintedAsTheyAre()
{
    // A bot that prints its own token, or the host's, bare: no pattern knows it, the host does.
    QTemporaryDir dir;
    TestHost host(dir.path());
    const QString hostToken = s("host-secret-0123456789");
    QJsonObject config{{s("token"), hostToken}};
    config[s("agents")] = QJsonArray{QJsonObject{
        {s("id"), s("talker")},
        {s("command"), Python},
        {s("args"),
         QJsonArray{s("-c"),
                    s("import os, sys; t = os.environ['AGENTDECK_TOKEN']; print('mine', t); "
                      "print('x' * 40 + t + ' then more text after it'); print('host', sys.argv[1], '.' * 30); "
                      "print('done')"),
                    hostToken}},
        {s("autorestart"), false}}};
    QVERIFY2(host.start(config), qPrintable(host.errors()));
    TestClient viewer;
    QVERIFY(viewer.open(host.url()));
    QVERIFY(!viewer.helloViewer(hostToken).isEmpty());
    QList<QJsonObject> received = viewer.subscribe({{s("agents"), QJsonArray{s("talker")}}, {s("history"), 100}});
    QStringList texts;
    QDeadlineTimer deadline(15000);
    while (!texts.contains(s("done")) && !deadline.hasExpired()) {
        for (const QJsonObject& log : std::as_const(received)) {
            for (const QJsonValue line : log.value(s("lines")).toArray()) {
                // The launcher's note of the command line neither.
                QVERIFY2(!line[s("text")].toString().contains(hostToken), qPrintable(line[s("text")].toString()));
                if (!line[s("partial")].toBool() && line[s("source")].toString() != QLatin1String("agentdeck"))
                    texts.append(line[s("text")].toString());
            }
        }
        received = {viewer.next(s("log"), 1000)};
    }
    const QString dots(30, QLatin1Char('.'));
    const QString xs(40, QLatin1Char('x'));
    QCOMPARE(texts,
             (QStringList{s("mine [REDACTED]"), xs + s("[REDACTED] then more text after it"),
                          s("host [REDACTED] ") + dots, s("done")}));
}

QTEST_GUILESS_MAIN(TestSecurity)
#include "tst_security.moc"
