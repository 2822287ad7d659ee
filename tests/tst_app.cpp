// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/agenttreemodel.h"
#include "models/consolemodel.h"
#include "models/fleet.h"
#include "models/forummodel.h"
#include "server/remotelink.h"

#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>
#include <csignal>

/*
 * The desktop program itself, as a new user starts it: no configuration, so
 * the demo agents run, connect back and talk; Ctrl+C (SIGTERM) closes it and
 * takes the agents with it.
 */
class TestApp final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void startsTheDemoWhenNothingIsConfigured();
};

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

QTEST_GUILESS_MAIN(TestApp)
#include "tst_app.moc"
