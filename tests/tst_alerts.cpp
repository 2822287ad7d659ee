// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/desktop.h"
#include "models/agenttreemodel.h"
#include "models/alertcenter.h"
#include "models/alertmodel.h"
#include "models/consolemodel.h"
#include "models/fleet.h"
#include "models/linematcher.h"
#include "server/engine/embeddedhost.h"
#include "server/engine/hostserver.h"
#include "server/link/locallink.h"
#include "server/link/remotelink.h"
#include "support/windowtests.h"
#include "ui/agenttreeview.h"
#include "ui/alertnotifier.h"
#include "ui/alertrulesdialog.h"
#include "ui/consolepane.h"
#include "ui/consoleview.h"
#include "ui/mainwindow.h"

#include <QAbstractItemModelTester>
#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QDockWidget>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStyle>
#include <QTabWidget>
#include <QTest>
#include <QTimer>
#include <QTreeView>
#include <QWebSocket>

/*
 * Alerts from real events: an embedded host with launched test bots and bots
 * connected over WebSocket feed a Fleet, whose alert center is checked; then
 * the window on the offscreen platform, as a person uses its Alerts list,
 * badges, tray message and rules dialog.
 */
namespace {

constexpr int Slow = 30000;
const QString Local = QStringLiteral("local");
const QString Token = QStringLiteral("alerts-token");

/// A bot connected over WebSocket that sends what the test tells it.
class Bot final : public QObject
{
public:
    Bot(const QUrl& url, const QString& id)
    {
        connect(&m_socket, &QWebSocket::connected, this, [this, id] {
            send({{QStringLiteral("type"), QStringLiteral("hello")},
                  {QStringLiteral("protocol"), 1},
                  {QStringLiteral("role"), QStringLiteral("agent")},
                  {QStringLiteral("token"), Token},
                  {QStringLiteral("agent"), QJsonObject{{QStringLiteral("id"), id}}}});
        });
        connect(&m_socket, &QWebSocket::textMessageReceived, this, [this](const QString& text) {
            if (QJsonDocument::fromJson(text.toUtf8()).object().value(QStringLiteral("type")).toString()
                == QLatin1String("welcome"))
                welcomed = true;
        });
        m_socket.open(url);
    }
    void send(const QJsonObject& message)
    {
        m_socket.sendTextMessage(QString::fromUtf8(QJsonDocument(message).toJson(QJsonDocument::Compact)));
    }
    void log(const QString& level, const QStringList& texts)
    {
        QJsonArray lines;
        for (const QString& text : texts)
            lines.append(QJsonObject{{QStringLiteral("level"), level}, {QStringLiteral("text"), text}});
        send({{QStringLiteral("type"), QStringLiteral("log")}, {QStringLiteral("lines"), lines}});
    }
    void status(const QString& state)
    {
        send({{QStringLiteral("type"), QStringLiteral("status")}, {QStringLiteral("state"), state}});
    }
    void cpu(double percent)
    {
        send({{QStringLiteral("type"), QStringLiteral("metrics")},
              {QStringLiteral("values"), QJsonObject{{QStringLiteral("cpu"), percent}}}});
    }

    bool welcomed = false;

private:
    QWebSocket m_socket;
};

HostConfig hostConfig(std::vector<AgentDefinition> agents = {})
{
    HostConfig config;
    config.port = 0;
    config.token = Token;
    config.logDirectory.clear();
    config.metricsIntervalMs = 250;
    config.allowAgentEditing = true;
    config.agents = std::move(agents);
    return config;
}

AgentDefinition testBot(const QByteArray& id, const QStringList& args)
{
    AgentDefinition bot;
    bot.id = id;
    bot.command = QStringLiteral(AGENTDECK_TESTBOT);
    bot.args = args;
    bot.startsecs = 0;
    return bot;
}

AlertRule lineRule(const QString& id, const QString& pattern, LogLevel level = LogLevel::Unknown,
                   const QStringList& agents = {})
{
    AlertRule rule;
    rule.id = id;
    rule.name = id;
    rule.kind = AlertRule::Kind::Line;
    rule.pattern = pattern;
    rule.minLevel = level;
    rule.agents = agents;
    return rule;
}

AlertRule timedRule(const QString& id, AlertRule::Kind kind, int seconds)
{
    AlertRule rule;
    rule.id = id;
    rule.name = id;
    rule.kind = kind;
    rule.seconds = seconds;
    return rule;
}

/// "rule agent text" of every alert, oldest first.
QStringList alertsOf(const AlertModel* model)
{
    QStringList alerts;
    for (int row = model->rowCount() - 1; row >= 0; --row) {
        const QModelIndex index = model->index(row, 0);
        alerts.append(index.data(AlertModel::RuleIdRole).toString() + QLatin1Char(' ')
                      + index.data(AlertModel::AgentIdRole).toString() + QLatin1Char(' ')
                      + index.data(AlertModel::TextRole).toString());
    }
    return alerts;
}

/// How often the alert of a rule (and agent) happened; 0 without one.
int countOf(const AlertModel* model, const QString& ruleId, const QString& agentId = {})
{
    for (int row = 0; row < model->rowCount(); ++row) {
        const QModelIndex index = model->index(row, 0);
        if (index.data(AlertModel::RuleIdRole).toString() == ruleId
            && (agentId.isEmpty() || index.data(AlertModel::AgentIdRole).toString() == agentId))
            return index.data(AlertModel::CountRole).toInt();
    }
    return 0;
}

/// A fleet watching an embedded host, with its alert center.
struct Watch
{
    explicit Watch(std::vector<AgentDefinition> agents = {})
        : host(hostConfig(std::move(agents)))
    {
        // Repeats count toward their alert however slow the machine is.
        center.setRateWindowMs(3600 * 1000);
        started = host.start(nullptr);
        if (started)
            key = fleet.addHost(new LocalLink(host.server()));
    }
    bool online() const { return fleet.agents()->hostState(key) == AgentTreeModel::HostState::Online; }
    EmbeddedHost host;
    Fleet fleet;
    AlertCenter center{&fleet};
    QString key;
    bool started = false;
};

} // namespace

class TestAlerts final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void matcherFallsBackPerPattern();
    void linesMatchByRegexLevelAndAgents();
    void floodIsOneAlertWithACount();
    void hostOfflineForSeconds();
    void silentAgent();
    void cpuOverThresholdForSeconds();
    void launchedAgentCrashes();
    void restartsRunOutIsFatal();
    void windowShowsAnAlertEverywhere();
    void rulesDialogEditsValidatesAndPersists();
};

void TestAlerts::init()
{
    QSettings().clear();
    applyPalette(false);
}

void TestAlerts::matcherFallsBackPerPattern()
{
    LineMatcher matcher;
    // A backreference Hyperscan rejects, between two it takes; and one that never compiles.
    matcher.setPatterns({QStringLiteral("timeout \\d+"), QStringLiteral("(\\w+) \\1"), QStringLiteral(""),
                         QStringLiteral("disk (full"), QStringLiteral("(?i)refused")});
    QVERIFY(!matcher.isFallback(0));
    QVERIFY(matcher.isFallback(1));
    QVERIFY(!matcher.isFallback(4));
    std::vector<int> hits;
    matcher.match("timeout 30 again again", &hits);
    QCOMPARE(hits, (std::vector<int>{0, 1, 2}));
    hits.clear();
    matcher.match("Connection REFUSED", &hits);
    QCOMPARE(hits, (std::vector<int>{2, 4}));
    QString reason;
    QVERIFY(!LineMatcher::fastPathAccepts(QStringLiteral("(\\w+) \\1"), &reason));
    QVERIFY(!reason.isEmpty());
    QVERIFY(LineMatcher::fastPathAccepts(QStringLiteral("ERROR|CRITICAL")));
}

void TestAlerts::linesMatchByRegexLevelAndAgents()
{
    Watch watch;
    QVERIFY(watch.started);
    QAbstractItemModelTester tester(watch.center.alerts(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    watch.center.setRules({lineRule(QStringLiteral("timeouts"), QStringLiteral("timeout \\d+")),
                           lineRule(QStringLiteral("b-warnings"), QString(), LogLevel::Warning, {QStringLiteral("b")}),
                           lineRule(QStringLiteral("repeats"), QStringLiteral("\\b(\\w+) \\1\\b"))});
    Bot a(watch.host.url(), QStringLiteral("a"));
    Bot b(watch.host.url(), QStringLiteral("b"));
    QTRY_VERIFY(a.welcomed && b.welcomed);
    a.log(
        QStringLiteral("INFO"),
        {QStringLiteral("timeout 30 on fetch"), QStringLiteral("timeout soon"), QStringLiteral("said it twice twice")});
    a.log(QStringLiteral("WARNING"), {QStringLiteral("careful a")});
    b.log(QStringLiteral("WARNING"), {QStringLiteral("careful b")});
    b.log(QStringLiteral("INFO"), {QStringLiteral("fine")});
    b.log(QStringLiteral("ERROR"), {QStringLiteral("timeout 5 on save")});
    b.log(QStringLiteral("INFO"), {QStringLiteral("last")});
    QTRY_VERIFY_WITH_TIMEOUT(watch.fleet.hasConsole(watch.key, QStringLiteral("b"))
                                 && watch.fleet.console(watch.key, QStringLiteral("b"))->linesAppended() == 4,
                             Slow);
    QTRY_COMPARE(watch.center.linesInFlight(), 0);
    QStringList alerts = alertsOf(watch.center.alerts());
    alerts.sort();
    QCOMPARE(alerts,
             (QStringList{QStringLiteral("b-warnings b careful b"), QStringLiteral("repeats a said it twice twice"),
                          QStringLiteral("timeouts a timeout 30 on fetch"),
                          QStringLiteral("timeouts b timeout 5 on save")}));
    // The alert knows its line: its number in the agent's console.
    const AlertModel* model = watch.center.alerts();
    for (int row = 0; row < model->rowCount(); ++row)
        QVERIFY(model->index(row, 0).data(AlertModel::SeqRole).toLongLong() > 0);
    QCOMPARE(model->unacknowledged(watch.key, QStringLiteral("b")), 2);
    // b's error is a WARNING-or-above line of b again: a repeat, counted in the first one's row.
    QCOMPARE(countOf(model, QStringLiteral("b-warnings")), 2);
    QCOMPARE(countOf(model, QStringLiteral("timeouts"), QStringLiteral("b")), 1);

    // A rule switched off raises nothing more.
    QList<AlertRule> rules = watch.center.rules();
    rules[0].enabled = false;
    watch.center.setRules(rules);
    a.log(QStringLiteral("INFO"), {QStringLiteral("timeout 99"), QStringLiteral("done done")});
    QTRY_VERIFY_WITH_TIMEOUT(watch.fleet.console(watch.key, QStringLiteral("a"))->linesAppended() == 6, Slow);
    QTRY_COMPARE(watch.center.linesInFlight(), 0);
    // "done done" is a repeat of the same rule and agent: counted in the first one's row.
    QCOMPARE(model->rowCount(), 4);
    QCOMPARE(countOf(model, QStringLiteral("repeats")), 2);
    QCOMPARE(countOf(model, QStringLiteral("timeouts"), QStringLiteral("a")), 1);
}

void TestAlerts::floodIsOneAlertWithACount()
{
    Watch watch;
    QVERIFY(watch.started);
    watch.center.setRules(AlertRule::defaults());
    QSignalSpy raised(&watch.center, &AlertCenter::alertRaised);
    Bot bot(watch.host.url(), QStringLiteral("flood"));
    QTRY_VERIFY(bot.welcomed);
    for (int i = 0; i < 37; ++i)
        bot.log(QStringLiteral("ERROR"), {QStringLiteral("write failed %1").arg(i)});
    bot.log(QStringLiteral("INFO"), {QStringLiteral("all written")});
    QTRY_VERIFY_WITH_TIMEOUT(watch.fleet.hasConsole(watch.key, QStringLiteral("flood"))
                                 && watch.fleet.console(watch.key, QStringLiteral("flood"))->linesAppended() == 38,
                             Slow);
    QTRY_COMPARE(watch.center.linesInFlight(), 0);
    const AlertModel* model = watch.center.alerts();
    QCOMPARE(model->rowCount(), 1);
    QCOMPARE(raised.count(), 1);
    const QModelIndex alert = model->index(0, 0);
    QCOMPARE(alert.data(AlertModel::CountRole).toInt(), 37);
    QCOMPARE(alert.data(AlertModel::TextRole).toString(), QStringLiteral("write failed 0"));
    QVERIFY(model->index(0, AlertModel::CountColumn).data().toString().startsWith(QLatin1String("37 times in ")));
    QCOMPARE(AlertModel::countText(37, 9500), QStringLiteral("37 times in 10 s"));

    // Acknowledged, the next error is news again.
    watch.center.alerts()->acknowledgeAll();
    bot.log(QStringLiteral("CRITICAL"), {QStringLiteral("disk gone")});
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 2, Slow);
    QCOMPARE(raised.count(), 2);
    QCOMPARE(model->unacknowledged(), 1);

    // An error that keeps coming back, each time within the window of the one before,
    // stays that one alert however long it goes on; after a quiet window it is news.
    watch.center.setRateWindowMs(2500);
    for (int i = 0; i < 4; ++i) {
        QTest::qWait(700);
        bot.log(QStringLiteral("ERROR"), {QStringLiteral("retry %1 failed").arg(i)});
        QTRY_COMPARE_WITH_TIMEOUT(model->index(0, 0).data(AlertModel::CountRole).toInt(), 2 + i, Slow);
    }
    QCOMPARE(raised.count(), 2);
    QTest::qWait(3500);
    bot.log(QStringLiteral("ERROR"), {QStringLiteral("failed again")});
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 3, Slow);
    QCOMPARE(raised.count(), 3);
}

void TestAlerts::hostOfflineForSeconds()
{
    Watch watch;
    QVERIFY(watch.started);
    EmbeddedHost remote(hostConfig());
    QVERIFY(remote.start(nullptr));
    RemoteLink::Settings settings;
    settings.url = remote.url();
    settings.token = Token;
    const QString remoteKey = watch.fleet.addRemoteHost(settings);
    watch.center.setRules({timedRule(QStringLiteral("soon"), AlertRule::Kind::HostOffline, 1),
                           timedRule(QStringLiteral("late"), AlertRule::Kind::HostOffline, 3600)});
    QTRY_COMPARE_WITH_TIMEOUT(watch.fleet.agents()->hostState(remoteKey), AgentTreeModel::HostState::Online, Slow);
    QTRY_VERIFY(watch.online());

    remote.stop();
    QTRY_COMPARE_WITH_TIMEOUT(watch.fleet.agents()->hostState(remoteKey), AgentTreeModel::HostState::Offline, Slow);
    QTRY_COMPARE_WITH_TIMEOUT(watch.center.alerts()->rowCount(), 1, Slow);
    const QModelIndex alert = watch.center.alerts()->index(0, 0);
    QCOMPARE(alert.data(AlertModel::RuleIdRole).toString(), QStringLiteral("soon"));
    QCOMPARE(alert.data(AlertModel::HostKeyRole).toString(), remoteKey);
    QVERIFY(alert.data(AlertModel::TextRole).toString().startsWith(QLatin1String("offline for 1 s")));
    // The embedded host stayed online: nothing about it.
    QCOMPARE(watch.center.alerts()->unacknowledged(watch.key, QString()), 0);
    // Once raised, an offline host stays one alert while it stays offline.
    QTest::qWait(1500);
    QCOMPARE(watch.center.alerts()->rowCount(), 1);
}

void TestAlerts::silentAgent()
{
    Watch watch;
    QVERIFY(watch.started);
    AlertRule quiet = timedRule(QStringLiteral("quiet"), AlertRule::Kind::Silence, 1);
    quiet.agents = {QStringLiteral("stuck")};
    watch.center.setRules({quiet});
    Bot stuck(watch.host.url(), QStringLiteral("stuck"));
    Bot other(watch.host.url(), QStringLiteral("other"));
    QTRY_VERIFY(stuck.welcomed && other.welcomed);
    stuck.status(QStringLiteral("busy"));
    other.status(QStringLiteral("busy"));
    stuck.log(QStringLiteral("INFO"), {QStringLiteral("working on it")});
    other.log(QStringLiteral("INFO"), {QStringLiteral("working on it")});
    QTRY_COMPARE_WITH_TIMEOUT(watch.center.alerts()->rowCount(), 1, Slow);
    const QModelIndex alert = watch.center.alerts()->index(0, 0);
    QCOMPARE(alert.data(AlertModel::AgentIdRole).toString(), QStringLiteral("stuck"));
    QCOMPARE(alert.data(AlertModel::TextRole).toString(), QStringLiteral("no line for 1 s"));
    QVERIFY(alert.data(AlertModel::SeqRole).toLongLong() > 0);

    // A new line ends the silence; the next one is a new alert once acknowledged.
    watch.center.alerts()->acknowledgeAll();
    stuck.log(QStringLiteral("INFO"), {QStringLiteral("still here")});
    QTRY_COMPARE_WITH_TIMEOUT(watch.center.alerts()->rowCount(), 2, Slow);
    QCOMPARE(watch.center.alerts()->unacknowledged(watch.key, QStringLiteral("other")), 0);
}

void TestAlerts::cpuOverThresholdForSeconds()
{
    Watch watch;
    QVERIFY(watch.started);
    AlertRule hot = timedRule(QStringLiteral("hot"), AlertRule::Kind::Metric, 1);
    hot.metric = QStringLiteral("cpu");
    hot.threshold = 80;
    watch.center.setRules({hot});
    AlertRule big = timedRule(QStringLiteral("big"), AlertRule::Kind::Metric, 1);
    big.metric = QStringLiteral("rss_bytes");
    big.threshold = 100; // MiB
    watch.center.setRules({hot, big});
    Bot busy(watch.host.url(), QStringLiteral("busy"));
    Bot calm(watch.host.url(), QStringLiteral("calm"));
    QTRY_VERIFY(busy.welcomed && calm.welcomed);
    busy.cpu(97);
    calm.cpu(12);
    calm.send({{QStringLiteral("type"), QStringLiteral("metrics")},
               {QStringLiteral("values"), QJsonObject{{QStringLiteral("rss_bytes"), 200.0 * 1024 * 1024}}}});
    QTRY_COMPARE_WITH_TIMEOUT(watch.center.alerts()->rowCount(), 2, Slow);
    QStringList alerts = alertsOf(watch.center.alerts());
    alerts.sort();
    QCOMPARE(alerts,
             (QStringList{QStringLiteral("big calm memory over 100 MiB for 1 s"),
                          QStringLiteral("hot busy CPU over 80 % for 1 s")}));
    // It holds: still one alert each.
    busy.cpu(99);
    QTest::qWait(1500);
    QCOMPARE(watch.center.alerts()->rowCount(), 2);
}

void TestAlerts::launchedAgentCrashes()
{
    // Exits with 3 soon after it starts; not restarted, so it stays crashed.
    AgentDefinition crasher = testBot(
        "crasher",
        {QStringLiteral("--exit-after"), QStringLiteral("300"), QStringLiteral("--exit-code"), QStringLiteral("3")});
    crasher.autorestart = AgentDefinition::Restart::Never;
    AgentDefinition fine = testBot("fine", {QStringLiteral("--exit-after"), QStringLiteral("300")});
    fine.autorestart = AgentDefinition::Restart::Never;
    Watch watch({crasher, fine});
    QVERIFY(watch.started);
    // The default rules: the launcher's ERROR line about the exit is left to the crash rule.
    watch.center.setRules(AlertRule::defaults());
    QTRY_COMPARE_WITH_TIMEOUT(watch.center.alerts()->rowCount(), 1, Slow);
    const QModelIndex alert = watch.center.alerts()->index(0, 0);
    QCOMPARE(alert.data(AlertModel::RuleIdRole).toString(), QStringLiteral("default-crashes"));
    QCOMPARE(alert.data(AlertModel::AgentIdRole).toString(), QStringLiteral("crasher"));
    QCOMPARE(alert.data(AlertModel::TextRole).toString(), QStringLiteral("exited with code 3 (unexpected)"));
    const QModelIndex agent = watch.fleet.agents()->indexOf(watch.key, QStringLiteral("crasher"));
    QCOMPARE(agent.data(AgentTreeModel::ExitCodeRole).toInt(), 3);
    // The one that exited as expected raised nothing.
    QTRY_VERIFY_WITH_TIMEOUT(watch.fleet.agents()->agent(watch.key, QStringLiteral("fine"))
                                 && watch.fleet.agents()->agent(watch.key, QStringLiteral("fine"))->processState
                                     == QLatin1String("EXITED"),
                             Slow);
    QCOMPARE(watch.center.alerts()->unacknowledged(watch.key, QStringLiteral("fine")), 0);
    QTRY_COMPARE(watch.center.linesInFlight(), 0);
    QCOMPARE(watch.center.alerts()->rowCount(), 1);
    // A connected bot that says it crashed.
    Bot bot(watch.host.url(), QStringLiteral("bot"));
    QTRY_VERIFY(bot.welcomed);
    bot.status(QStringLiteral("busy"));
    bot.status(QStringLiteral("error"));
    QTRY_COMPARE_WITH_TIMEOUT(watch.center.alerts()->unacknowledged(watch.key, QStringLiteral("bot")), 1, Slow);
    QCOMPARE(watch.center.alerts()->index(0, 0).data(AlertModel::TextRole).toString(),
             QStringLiteral("status “error”"));

    // Without a crash rule the error line is the alert.
    watch.center.setRules({AlertRule::defaults().at(0)});
    AgentDefinition again = crasher;
    again.id = "again";
    watch.fleet.defineAgent(watch.key, QStringLiteral("again"), again.toJson());
    QTRY_VERIFY_WITH_TIMEOUT(watch.center.alerts()->unacknowledged(watch.key, QStringLiteral("again")) == 1, Slow);
    QCOMPARE(watch.center.alerts()->index(0, 0).data(AlertModel::RuleIdRole).toString(),
             QStringLiteral("default-errors"));
}

void TestAlerts::restartsRunOutIsFatal()
{
    // Dies at once each time it starts: restarted once, then given up (FATAL).
    AgentDefinition crasher = testBot(
        "crasher",
        {QStringLiteral("--exit-after"), QStringLiteral("50"), QStringLiteral("--exit-code"), QStringLiteral("2")});
    crasher.startsecs = 5;
    crasher.startretries = 1;
    crasher.backoffInitialMs = 100;
    Watch watch({crasher});
    QVERIFY(watch.started);
    watch.center.setRules(AlertRule::defaults());
    QSignalSpy raised(&watch.center, &AlertCenter::alertRaised);
    QTRY_VERIFY_WITH_TIMEOUT(watch.fleet.agents()->agent(watch.key, QStringLiteral("crasher"))
                                 && watch.fleet.agents()->agent(watch.key, QStringLiteral("crasher"))->processState
                                     == QLatin1String("FATAL"),
                             Slow);
    // One alert, counted at each exit, that says at last that the agent is given up, and
    // is told again then.
    QTRY_COMPARE(countOf(watch.center.alerts(), QStringLiteral("default-crashes"), QStringLiteral("crasher")), 2);
    QCOMPARE(watch.center.alerts()->rowCount(), 1);
    QCOMPARE(watch.center.alerts()->index(0, 0).data(AlertModel::TextRole).toString(),
             QStringLiteral("FATAL: not restarted again"));
    QCOMPARE(raised.count(), 2);
    QCOMPARE(raised.at(0), raised.at(1));
}

void TestAlerts::windowShowsAnAlertEverywhere()
{
    Desktop desktop(hostConfig({testBot("echo", {QStringLiteral("--stdin"), QStringLiteral("--forever")})}));
    QVERIFY(desktop.start(nullptr));
    MainWindow* window = desktop.window();
    window->resize(1500, 860);
    window->show();
    QVERIFY(QTest::qWaitForWindowExposed(window));
    Fleet* fleet = desktop.fleet();
    QTRY_VERIFY_WITH_TIMEOUT(fleet->agents()->agent(Local, QStringLiteral("echo"))
                                 && fleet->agents()->agent(Local, QStringLiteral("echo"))->processState
                                     == QLatin1String("RUNNING"),
                             Slow);
    window->openConsole(Local, QStringLiteral("echo"));
    window->tabs()->setCurrentIndex(0); // the console of all agents in front
    window->alertCenter()->setRateWindowMs(3600 * 1000); // however slow the machine is
    AlertNotifier* notifier = window->alertNotifier();
    QVERIFY(!notifier->usesTray()); // offscreen: no tray, the message is kept for reading
    QCOMPARE(notifier->shownCount(), 0);

    // The host reads the level from the text: an error line raises the default rule.
    fleet->sendCommand(Local, QStringLiteral("echo"), QStringLiteral("stdin"),
                       QByteArrayLiteral("{\"text\":\"echo ERROR: disk on fire\"}"));
    QTRY_COMPARE_WITH_TIMEOUT(notifier->shownCount(), 1, Slow);
    QCOMPARE(notifier->lastTitle(), QStringLiteral("Errors: echo"));
    QVERIFY2(notifier->lastMessage().contains(QLatin1String("disk on fire")), qPrintable(notifier->lastMessage()));

    // A badge on the tab and on the agent's entry in the list, a row in the Alerts list.
    QTabWidget* tabs = window->tabs();
    int echoTab = -1;
    for (int i = 0; i < tabs->count(); ++i)
        echoTab = window->paneAt(i) && window->paneAt(i)->agentId() == QLatin1String("echo") ? i : echoTab;
    QVERIFY(echoTab >= 0);
    QTRY_VERIFY(tabs->tabText(echoTab).endsWith(QStringLiteral("⚠ 1")));
    auto* tree = window->findChild<AgentTreeView*>(QStringLiteral("agentTree"));
    const QModelIndex echo = fleet->agents()->indexOf(Local, QStringLiteral("echo"));
    QCOMPARE(tree->alertBadge(echo), 1);
    auto* list = window->findChild<QTreeView*>(QStringLiteral("alertList"));
    QCOMPARE(list->model()->rowCount(), 1);
    QCOMPARE(list->model()->index(0, AlertModel::RuleColumn).data().toString(), QStringLiteral("Errors"));
    QCOMPARE(list->model()->index(0, AlertModel::WhereColumn).data().toString(), QStringLiteral("echo"));
    auto* dock = window->findChild<QDockWidget*>(QStringLiteral("alertsDock"));
    QCOMPARE(dock->windowTitle(), QStringLiteral("Alerts (1)"));
    QVERIFY(dock->isVisible()); // hidden until the first alert

    // Clicking the message opens the agent's console at the line.
    notifier->activateLast();
    QCOMPARE(tabs->currentIndex(), echoTab);
    ConsolePane* pane = window->currentConsole();
    const auto [first, last] = pane->view()->selection();
    QCOMPARE(first, last);
    QVERIFY(first >= 0);
    QVERIFY(pane->view()
                ->model()
                ->index(first, 0)
                .data(ConsoleModel::TextRole)
                .toString()
                .contains(QLatin1String("disk on fire")));

    // Two more errors: the second is a repeat of the first, counted in its row.
    fleet->sendCommand(Local, QStringLiteral("echo"), QStringLiteral("stdin"),
                       QByteArrayLiteral("{\"text\":\"echo ERROR: disk on fire again\"}"));
    QTRY_COMPARE_WITH_TIMEOUT(list->model()->index(0, 0).data(AlertModel::CountRole).toInt(), 2, Slow);
    QCOMPARE(notifier->shownCount(), 1);
    QCOMPARE(list->model()->rowCount(), 1);

    // Screenshots of the list as it looks with an alert, in both palettes.
    for (const bool dark : {false, true}) {
        applyPalette(dark);
        QTest::qWait(50);
        QVERIFY(window->grab().save(
            screenshotPath(dark ? QStringLiteral("alerts-window-dark") : QStringLiteral("alerts-window-light"))));
        QVERIFY(dock->grab().save(
            screenshotPath(dark ? QStringLiteral("alerts-list-dark") : QStringLiteral("alerts-list-light"))));
    }
    applyPalette(false);

    // Acknowledge the one selected: the badges go.
    list->setCurrentIndex(list->model()->index(0, 0));
    auto* acknowledge = window->findChild<QPushButton*>(QStringLiteral("acknowledgeAlert"));
    QVERIFY(acknowledge->isEnabled());
    QTest::mouseClick(acknowledge, Qt::LeftButton);
    QCOMPARE(tree->alertBadge(echo), 0);
    QVERIFY(!tabs->tabText(1).contains(QStringLiteral("⚠")));
    QCOMPARE(dock->windowTitle(), QStringLiteral("Alerts"));

    // Two new ones (after the acknowledgement, news again), then Acknowledge All.
    fleet->sendCommand(Local, QStringLiteral("echo"), QStringLiteral("stdin"),
                       QByteArrayLiteral("{\"text\":\"echo CRITICAL: out of memory\"}"));
    QTRY_COMPARE_WITH_TIMEOUT(list->model()->rowCount(), 2, Slow);
    QCOMPARE(notifier->shownCount(), 2);
    QTRY_COMPARE(tree->alertBadge(echo), 1);
    // Double-click on the row opens the console at that line.
    tabs->setCurrentIndex(0);
    const QRect rect = list->visualRect(list->model()->index(0, AlertModel::TextColumn));
    QVERIFY(list->isVisible() && rect.isValid());
    QTest::mouseClick(list->viewport(), Qt::LeftButton, {}, rect.center());
    QTest::mouseDClick(list->viewport(), Qt::LeftButton, {}, rect.center());
    QCOMPARE(tabs->currentIndex(), echoTab);
    const int row = pane->view()->selection().first;
    QVERIFY(pane->view()
                ->model()
                ->index(row, 0)
                .data(ConsoleModel::TextRole)
                .toString()
                .contains(QLatin1String("out of memory")));
    QTest::mouseClick(window->findChild<QPushButton*>(QStringLiteral("acknowledgeAllAlerts")), Qt::LeftButton);
    // Rules… in the panel opens the rules dialog.
    bool rulesShown = false;
    onNextDialog<AlertRulesDialog>([&rulesShown](AlertRulesDialog* dialog) {
        rulesShown = true;
        dialog->reject();
    });
    QTest::mouseClick(window->findChild<QPushButton*>(QStringLiteral("editAlertRules")), Qt::LeftButton);
    QVERIFY(rulesShown);
    QCOMPARE(tree->alertBadge(echo), 0);
    QCOMPARE(window->alertCenter()->alerts()->unacknowledged(), 0);
    QVERIFY(!tabs->tabText(1).contains(QStringLiteral("⚠")));
}

void TestAlerts::rulesDialogEditsValidatesAndPersists()
{
    {
        Desktop desktop(hostConfig());
        QVERIFY(desktop.start(nullptr));
        MainWindow* window = desktop.window();
        window->restoreSession();
        // A first start: the default rules.
        const QList<AlertRule> defaults = window->alertCenter()->rules();
        QCOMPARE(defaults.size(), 3);
        QCOMPARE(defaults[0].kind, AlertRule::Kind::Line);
        QCOMPARE(defaults[0].minLevel, LogLevel::Error);
        QVERIFY(defaults[0].pattern.isEmpty() && defaults[0].agents.isEmpty());
        QCOMPARE(defaults[1].kind, AlertRule::Kind::Crash);
        QCOMPARE(defaults[2].kind, AlertRule::Kind::HostOffline);
        QCOMPARE(defaults[2].seconds, 30);
        bool seen = false;
        onNextDialog<AlertRulesDialog>([&seen](AlertRulesDialog* dialog) {
            seen = true;
            auto* list = dialog->findChild<QListWidget*>(QStringLiteral("alertRuleList"));
            QCOMPARE(list->count(), 3);
            QTest::mouseClick(dialog->findChild<QPushButton*>(QStringLiteral("addAlertRule")), Qt::LeftButton);
            QCOMPARE(list->count(), 4);
            auto* name = dialog->findChild<QLineEdit*>(QStringLiteral("ruleName"));
            name->selectAll();
            QTest::keyClicks(name, QStringLiteral("Disk trouble"));
            auto* pattern = dialog->findChild<QLineEdit*>(QStringLiteral("rulePattern"));
            QTest::keyClicks(pattern, QStringLiteral("disk (full"));
            auto* error = dialog->findChild<QLabel*>(QStringLiteral("ruleError"));
            auto* note = dialog->findChild<QLabel*>(QStringLiteral("rulePatternNote"));
            auto* ok = dialog->findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Ok);
            QVERIFY2(error->text().contains(QLatin1String("at character 10")), qPrintable(error->text()));
            QVERIFY(!note->text().isEmpty()); // the pattern, its error's place marked
            QVERIFY(!ok->isEnabled());
            for (const bool dark : {false, true}) {
                applyPalette(dark);
                QTest::qWait(50);
                QVERIFY(dialog->grab().save(screenshotPath(dark ? QStringLiteral("alert-rules-error-dark")
                                                                : QStringLiteral("alert-rules-error-light"))));
            }
            applyPalette(false);
            // A backreference is fine, only slower: said so, and OK is back.
            pattern->clear();
            QTest::keyClicks(pattern, QStringLiteral("disk (\\w+) \\1"));
            QVERIFY(error->text().isEmpty());
            QVERIFY2(note->text().contains(QLatin1String("Hyperscan")), qPrintable(note->text()));
            QVERIFY(ok->isEnabled());
            pattern->clear();
            QTest::keyClicks(pattern, QStringLiteral("disk (full|gone)"));
            QVERIFY(note->text().isEmpty());
            auto* agents = dialog->findChild<QLineEdit*>(QStringLiteral("ruleAgents"));
            QTest::keyClicks(agents, QStringLiteral("store, cache"));
            // The host-offline rule: its time changes, and the crash rule is switched off.
            list->setCurrentRow(2);
            auto* seconds = dialog->findChild<QSpinBox*>(QStringLiteral("ruleSeconds"));
            QVERIFY(seconds->isVisibleTo(dialog));
            QVERIFY(!pattern->isVisibleTo(dialog));
            seconds->setValue(45);
            list->item(1)->setCheckState(Qt::Unchecked);
            list->setCurrentRow(3);
            for (const bool dark : {false, true}) {
                applyPalette(dark);
                QTest::qWait(50);
                QVERIFY(dialog->grab().save(
                    screenshotPath(dark ? QStringLiteral("alert-rules-dark") : QStringLiteral("alert-rules-light"))));
            }
            applyPalette(false);
            QVERIFY(ok->isEnabled());
            ok->click();
        });
        window->findChild<QAction*>(QStringLiteral("alertRulesAction"))->trigger();
        QVERIFY(seen);
        const QList<AlertRule> rules = window->alertCenter()->rules();
        QCOMPARE(rules.size(), 4);
        QCOMPARE(rules[3].name, QStringLiteral("Disk trouble"));
        QCOMPARE(rules[3].pattern, QStringLiteral("disk (full|gone)"));
        QCOMPARE(rules[3].agents, (QStringList{QStringLiteral("store"), QStringLiteral("cache")}));
        QCOMPARE(rules[3].minLevel, LogLevel::Warning);
        QVERIFY(rules[3].enabled);
        QCOMPARE(rules[2].seconds, 45);
        QVERIFY(!rules[1].enabled);
        window->close();
    }

    // The next start has them.
    Desktop again(hostConfig());
    QVERIFY(again.start(nullptr));
    again.window()->restoreSession();
    const QList<AlertRule> rules = again.window()->alertCenter()->rules();
    QCOMPARE(rules.size(), 4);
    QCOMPARE(rules[3].name, QStringLiteral("Disk trouble"));
    QCOMPARE(rules[3].pattern, QStringLiteral("disk (full|gone)"));
    QCOMPARE(rules[3].agents, (QStringList{QStringLiteral("store"), QStringLiteral("cache")}));
    QCOMPARE(rules[2].seconds, 45);
    QVERIFY(!rules[1].enabled);
    QCOMPARE(rules[0].minLevel, LogLevel::Error);
}

QTEST_MAIN(TestAlerts)
#include "tst_alerts.moc"
