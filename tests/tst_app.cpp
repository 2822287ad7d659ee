// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/agenttreemodel.h"
#include "models/consolemodel.h"
#include "models/fleet.h"
#include "models/forummodel.h"
#include "server/link/remotelink.h"
#include "support/fixtures.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>
#include <csignal>

/*
 * The desktop program itself, as a new user starts it: no configuration, so
 * the demo agents run, connect back and talk; Ctrl+C (SIGTERM) closes it and
 * takes the agents with it. Without a display it answers --help and --version
 * and otherwise says what is missing, as does the README's run command.
 */
class TestApp final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void startsTheDemoWhenNothingIsConfigured();
    void tokenFileForTheEmbeddedHost();
    void refusesABadPort_data();
    void refusesABadPort();
    void helpAndVersionNeedNoDisplay_data();
    void helpAndVersionNeedNoDisplay();
    void saysWhatIsMissingWithoutADisplay_data();
    void saysWhatIsMissingWithoutADisplay();
    void runScriptSaysSoBeforeBuilding();
};

namespace {

/// The environment of a machine without a display (no X, no Wayland, no Qt platform chosen).
QProcessEnvironment withoutDisplay()
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(QStringLiteral("DISPLAY"));
    env.remove(QStringLiteral("WAYLAND_DISPLAY"));
    env.remove(QStringLiteral("QT_QPA_PLATFORM"));
    return env;
}

struct Finished
{
    QProcess::ExitStatus status = QProcess::CrashExit;
    int code = -1;
    QString out;
    QString err;
};

Finished runToEnd(const QString& program, const QStringList& arguments, const QProcessEnvironment& env)
{
    QProcess process;
    process.setProcessEnvironment(env);
    endsWithTest(process);
    process.start(program, arguments);
    Finished finished;
    if (!process.waitForFinished(60000)) {
        process.kill();
        process.waitForFinished();
        return finished;
    }
    finished.status = process.exitStatus();
    finished.code = process.exitCode();
    finished.out = QString::fromUtf8(process.readAllStandardOutput());
    finished.err = QString::fromUtf8(process.readAllStandardError());
    return finished;
}

} // namespace

void TestApp::startsTheDemoWhenNothingIsConfigured()
{
    QTemporaryDir home;
    QProcess app;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), home.filePath(QStringLiteral("config")));
    env.insert(QStringLiteral("XDG_STATE_HOME"), home.filePath(QStringLiteral("state")));
    app.setProcessEnvironment(env);
    app.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    endsWithTest(app);
    app.start(QStringLiteral(AGENTDECK_APP), {QStringLiteral("--port"), QStringLiteral("0")});
    QVERIFY(app.waitForStarted());

    // It says where its host listens; the token is in the new configuration directory.
    QTRY_VERIFY_WITH_TIMEOUT(app.canReadLine(), 20000);
    const QString banner = QString::fromUtf8(app.readLine()).trimmed();
    const QString prefix = QStringLiteral("AgentDeck's host is listening on ");
    QVERIFY2(banner.startsWith(prefix), qPrintable(banner));
    QFile tokenFile(home.filePath(QStringLiteral("config/agentdeck/token")));
    QVERIFY(tokenFile.open(QIODevice::ReadOnly));

    RemoteLink::Settings settings;
    settings.url = QUrl(banner.mid(prefix.size()));
    settings.token = QString::fromUtf8(tokenFile.readAll()).trimmed();
    Fleet fleet;
    const QString host = fleet.addHost(new RemoteLink(settings));
    const QStringList demo{QStringLiteral("demo-query"), QStringLiteral("demo-media"), QStringLiteral("demo-insight"),
                           QStringLiteral("demo-moderator")};
    const auto allConnected = [&] {
        for (const QString& id : demo) {
            const Link::AgentInfo* agent = fleet.agents()->agent(host, id);
            if (!agent || !agent->connected || agent->pid <= 0)
                return false;
        }
        return true;
    };
    QTRY_VERIFY_WITH_TIMEOUT(allConnected(), 20000);
    QList<qint64> pids;
    for (const QString& id : demo)
        pids << fleet.agents()->agent(host, id)->pid;

    // They log, talk in the forum with their moderator, and report metrics.
    QTRY_VERIFY_WITH_TIMEOUT(fleet.console(host, QStringLiteral("demo-query"))->rowCount() > 5, 20000);
    const auto hasSender = [&](const QString& sender) {
        for (int row = 0; row < fleet.forum()->rowCount(); ++row) {
            if (fleet.forum()->index(row, 0).data(ForumModel::SenderRole).toString() == sender)
                return true;
        }
        return false;
    };
    QTRY_VERIFY_WITH_TIMEOUT(hasSender(QStringLiteral("Forum Host")), 30000);
    QTRY_VERIFY_WITH_TIMEOUT(
        !std::isnan(fleet.agents()->metric(host, QStringLiteral("demo-insight"), QStringLiteral("tokens_per_s"))),
        20000);

    // Nothing was written to the configuration: the demo is for this session only.
    QVERIFY(!QFile::exists(home.filePath(QStringLiteral("config/agentdeck/host.json"))));

    // SIGTERM closes the window the normal way; the agents go with it.
    fleet.removeHost(host);
    ::kill(pid_t(app.processId()), SIGTERM);
    QVERIFY(app.waitForFinished(30000));
    QCOMPARE(app.exitStatus(), QProcess::NormalExit);
    QCOMPARE(app.exitCode(), 0);
    for (const qint64 pid : std::as_const(pids))
        QVERIFY2(::kill(pid_t(pid), 0) != 0, qPrintable(QStringLiteral("demo agent %1 still runs").arg(pid)));
}

void TestApp::tokenFileForTheEmbeddedHost()
{
    QTemporaryDir home;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), home.filePath(QStringLiteral("config")));
    env.insert(QStringLiteral("XDG_STATE_HOME"), home.filePath(QStringLiteral("state")));
    env.remove(QStringLiteral("AGENTDECK_TOKEN"));
    const QString tokenPath = home.filePath(QStringLiteral("desk.token"));
    QFile file(tokenPath);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("desk-secret\n");
    file.close();

    // Other users could read it: refused, saying how to fix it.
    QVERIFY(QFile::setPermissions(
        tokenPath, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ReadGroup | QFileDevice::ReadOther));
    const Finished refused = runToEnd(QStringLiteral(AGENTDECK_APP),
                                      {QStringLiteral("--no-demo"), QStringLiteral("--port"), QStringLiteral("0"),
                                       QStringLiteral("--token-file"), tokenPath},
                                      env);
    QCOMPARE(refused.code, 2);
    QVERIFY2(refused.err.contains(QStringLiteral("chmod 600 ") + tokenPath), qPrintable(refused.err));

    // Owner-only: the embedded host takes that token.
    QVERIFY(QFile::setPermissions(tokenPath, QFileDevice::ReadOwner | QFileDevice::WriteOwner));
    QProcess app;
    app.setProcessEnvironment(env);
    app.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    endsWithTest(app);
    app.start(QStringLiteral(AGENTDECK_APP),
              {QStringLiteral("--no-demo"), QStringLiteral("--port"), QStringLiteral("0"),
               QStringLiteral("--token-file"), tokenPath});
    QTRY_VERIFY_WITH_TIMEOUT(app.canReadLine(), 20000);
    const QString banner = QString::fromUtf8(app.readLine()).trimmed();
    const QString prefix = QStringLiteral("AgentDeck's host is listening on ");
    QVERIFY2(banner.startsWith(prefix), qPrintable(banner));
    RemoteLink::Settings settings;
    settings.url = QUrl(banner.mid(prefix.size()));
    settings.tokenFile = tokenPath;
    Fleet fleet;
    const QString host = fleet.addHost(new RemoteLink(settings));
    QTRY_COMPARE_WITH_TIMEOUT(fleet.agents()->hostState(host), AgentTreeModel::HostState::Online, 20000);
    QVERIFY(!QFile::exists(home.filePath(QStringLiteral("config/agentdeck/token")))); // none generated
    fleet.removeHost(host);
    // A hangup (the terminal closed) ends it as cleanly as SIGTERM.
    ::kill(pid_t(app.processId()), SIGHUP);
    QVERIFY(app.waitForFinished(30000));
    QCOMPARE(app.exitStatus(), QProcess::NormalExit);
    QCOMPARE(app.exitCode(), 0);
}

void TestApp::refusesABadPort_data()
{
    QTest::addColumn<QString>("port");
    QTest::addRow("not a number") << QStringLiteral("77OO");
    QTest::addRow("too large") << QStringLiteral("70000");
    QTest::addRow("negative") << QStringLiteral("-1");
}

void TestApp::refusesABadPort()
{
    QFETCH(QString, port);
    QTemporaryDir home;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), home.filePath(QStringLiteral("config")));
    env.insert(QStringLiteral("XDG_STATE_HOME"), home.filePath(QStringLiteral("state")));
    const Finished run = runToEnd(QStringLiteral(AGENTDECK_APP), {QStringLiteral("--port"), port}, env);
    QCOMPARE(run.status, QProcess::NormalExit);
    QCOMPARE(run.code, 2);
    QVERIFY2(run.err.contains(QStringLiteral("--port needs a number from 0 to 65535")), qPrintable(run.err));
    // Refused before anything started: no host, no token.
    QVERIFY(run.out.isEmpty());
    QVERIFY(!QFile::exists(home.filePath(QStringLiteral("config/agentdeck/token"))));
}

void TestApp::helpAndVersionNeedNoDisplay_data()
{
    QTest::addColumn<QString>("option");
    QTest::addColumn<QString>("expected");
    QTest::addRow("--help") << QStringLiteral("--help") << QStringLiteral("--no-demo");
    QTest::addRow("-h") << QStringLiteral("-h") << QStringLiteral("--config <FILE>");
    QTest::addRow("--help-all") << QStringLiteral("--help-all") << QStringLiteral("--port <N>");
    QTest::addRow("--version") << QStringLiteral("--version") << QStringLiteral("AgentDeck " AGENTDECK_VERSION "\n");
    QTest::addRow("-v") << QStringLiteral("-v") << QStringLiteral("AgentDeck " AGENTDECK_VERSION "\n");
}

void TestApp::helpAndVersionNeedNoDisplay()
{
    QFETCH(QString, option);
    QFETCH(QString, expected);
    for (const QString& display : {QString(), QStringLiteral(":987")}) {
        QProcessEnvironment env = withoutDisplay();
        if (!display.isEmpty())
            env.insert(QStringLiteral("DISPLAY"), display); // nothing answers there
        const Finished run = runToEnd(QStringLiteral(AGENTDECK_APP), {option}, env);
        QCOMPARE(run.status, QProcess::NormalExit);
        QVERIFY2(run.code == 0, qPrintable(run.err));
        QVERIFY2(run.out.contains(expected), qPrintable(run.out));
        QVERIFY2(run.err.isEmpty(), qPrintable(run.err));
    }
}

void TestApp::saysWhatIsMissingWithoutADisplay_data()
{
    QTest::addColumn<QString>("display");
    QTest::addColumn<QString>("reason");
    QTest::addRow("none set") << QString() << QStringLiteral("neither DISPLAY nor WAYLAND_DISPLAY is set");
    QTest::addRow("nothing answers") << QStringLiteral(":987") << QStringLiteral(":987");
}

void TestApp::saysWhatIsMissingWithoutADisplay()
{
    QFETCH(QString, display);
    QFETCH(QString, reason);
    QTemporaryDir home;
    QProcessEnvironment env = withoutDisplay();
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), home.filePath(QStringLiteral("config")));
    env.insert(QStringLiteral("XDG_STATE_HOME"), home.filePath(QStringLiteral("state")));
    if (!display.isEmpty())
        env.insert(QStringLiteral("DISPLAY"), display);
    const Finished run = runToEnd(QStringLiteral(AGENTDECK_APP), {QStringLiteral("--port"), QStringLiteral("0")}, env);
    // An ordinary exit with a code, not an abort with a core dump.
    QCOMPARE(run.status, QProcess::NormalExit);
    QCOMPARE(run.code, 1);
    const QStringList lines = run.err.trimmed().split(u'\n');
    QVERIFY2(lines.size() == 1, qPrintable(run.err));
    QVERIFY2(lines.first().startsWith(QStringLiteral("agentdeck: cannot open the window: ")), qPrintable(run.err));
    QVERIFY2(lines.first().contains(reason), qPrintable(run.err));
    QVERIFY2(lines.first().contains(QStringLiteral("agentdeck-host")), qPrintable(run.err));
    // Nothing started: no host, no token, no demo.
    QVERIFY(run.out.isEmpty());
    QVERIFY(!QFile::exists(home.filePath(QStringLiteral("config/agentdeck/token"))));
}

void TestApp::runScriptSaysSoBeforeBuilding()
{
    QTemporaryDir build;
    QProcessEnvironment env = withoutDisplay();
    env.insert(QStringLiteral("AGENTDECK_BUILD_DIR"), build.path());
    const Finished run =
        runToEnd(QStringLiteral("/bin/bash"), {QStringLiteral(AGENTDECK_SOURCE_DIR "/scripts/run.sh")}, env);
    QCOMPARE(run.status, QProcess::NormalExit);
    QCOMPARE(run.code, 1);
    QVERIFY2(run.err.contains(QStringLiteral("no display")), qPrintable(run.err));
    QVERIFY2(run.err.contains(QStringLiteral("agentdeck-host")), qPrintable(run.err));
    // It stopped before building anything.
    QVERIFY(QDir(build.path()).isEmpty());
}

QTEST_GUILESS_MAIN(TestApp)
#include "tst_app.moc"
