// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/agenttreemodel.h"
#include "models/askmodel.h"
#include "models/commandmodel.h"
#include "models/consolefiltermodel.h"
#include "models/consolemodel.h"
#include "models/fleet.h"
#include "models/forummodel.h"
#include "models/metricshistory.h"
#include "server/engine/embeddedhost.h"
#include "server/engine/hostserver.h"
#include "server/link/locallink.h"
#include "server/link/remotelink.h"
#include "support/fixtures.h"

#include <QAbstractItemModelTester>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QWebSocket>

namespace {

const QString Token = QStringLiteral("fleet-token");

/// A bot as a person would write one: it says hello, talks, reports, asks, obeys.
class ScriptedAgent final : public QObject
{
public:
    ScriptedAgent(const QUrl& url, const QString& id)
        : m_id(id)
    {
        connect(&m_socket, &QWebSocket::connected, this, [this] {
            send({{QStringLiteral("type"), QStringLiteral("hello")},
                  {QStringLiteral("protocol"), 1},
                  {QStringLiteral("role"), QStringLiteral("agent")},
                  {QStringLiteral("token"), Token},
                  {QStringLiteral("agent"),
                   QJsonObject{{QStringLiteral("id"), m_id},
                               {QStringLiteral("name"), QString(QStringLiteral("Scripted ") + m_id)},
                               {QStringLiteral("commands"),
                                QJsonArray{QJsonObject{{QStringLiteral("name"), QStringLiteral("pause")}}}}}}});
        });
        connect(&m_socket, &QWebSocket::textMessageReceived, this, [this](const QString& text) {
            const QJsonObject message = QJsonDocument::fromJson(text.toUtf8()).object();
            const QString type = message.value(QStringLiteral("type")).toString();
            if (type == QLatin1String("welcome"))
                m_welcomed = true;
            if (type == QLatin1String("command")) {
                const QString name = message.value(QStringLiteral("name")).toString();
                m_commands.append(name);
                send({{QStringLiteral("type"), QStringLiteral("result")},
                      {QStringLiteral("id"), message.value(QStringLiteral("id"))},
                      {QStringLiteral("ok"), name != QLatin1String("explode")},
                      {QStringLiteral("text"), answerTo(name)}});
            }
        });
        m_socket.open(url);
    }

    void send(const QJsonObject& message)
    {
        m_socket.sendTextMessage(QString::fromUtf8(QJsonDocument(message).toJson(QJsonDocument::Compact)));
    }

    static QString answerTo(const QString& command)
    {
        return command == QLatin1String("explode") ? QStringLiteral("refused") : QStringLiteral("paused");
    }

    bool m_welcomed = false;
    QStringList m_commands;

private:
    QString m_id;
    QWebSocket m_socket;
};

/// The embedded host of the desktop: a HostServer in its own thread.
HostConfig config()
{
    HostConfig c;
    c.port = 0;
    c.token = Token;
    c.logDirectory.clear();
    c.metricsIntervalMs = 200;
    return c;
}

QStringList consoleTexts(const QAbstractItemModel& model)
{
    QStringList texts;
    for (int row = 0; row < model.rowCount(); ++row)
        texts.append(model.index(row, 0).data(ConsoleModel::TextRole).toString());
    return texts;
}

} // namespace

class TestFleet : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void embeddedHostEndToEnd();
    void twoHostsOneOffline();
    void definesAndRemovesAgents();
};

void TestFleet::embeddedHostEndToEnd()
{
    HostConfig hostConfig = config();
    AgentDefinition bot;
    bot.id = "printer";
    bot.command = QStringLiteral(AGENTDECK_TESTBOT);
    bot.args = {QStringLiteral("--lines"), QStringLiteral("500"), QStringLiteral("--rate"), QStringLiteral("5000"),
                QStringLiteral("--stdin")};
    hostConfig.agents = {bot};
    EmbeddedHost host(hostConfig);
    QVERIFY(host.start(nullptr));

    Fleet fleet;
    QAbstractItemModelTester treeTester(fleet.agents(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester forumTester(fleet.forum(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester askTester(fleet.asks(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester commandTester(fleet.commands(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester allTester(fleet.allAgents(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    const QString key = fleet.addHost(new LocalLink(host.server()));
    QCOMPARE(key, QStringLiteral("local"));
    QTRY_COMPARE(fleet.link(key)->state(), HostLink::State::Online);
    QTRY_COMPARE(fleet.agents()->hostState(key), AgentTreeModel::HostState::Online);

    // The launched bot's lines reach its console, in order, and the merged console.
    QTRY_VERIFY(fleet.hasConsole(key, QStringLiteral("printer")));
    ConsoleModel* printer = fleet.console(key, QStringLiteral("printer"));
    QAbstractItemModelTester printerTester(printer, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QTRY_VERIFY_WITH_TIMEOUT(printer->rowCount() >= 501, 10000); // 500 lines and the launcher's spawn line
    QStringList lines = consoleTexts(*printer);
    lines.erase(std::remove_if(lines.begin(), lines.end(),
                               [](const QString& text) { return !text.startsWith(QLatin1String("line ")); }),
                lines.end());
    QCOMPARE(lines.size(), 500);
    for (int i = 0; i < 500; ++i)
        QVERIFY2(lines[i].startsWith(QStringLiteral("line %1 ").arg(i + 1, 9, 10, QLatin1Char('0'))),
                 qPrintable(lines[i]));
    QTRY_VERIFY(fleet.allAgents()->rowCount() >= 500);
    QCOMPARE(fleet.linesApplied() >= 500, true);

    // A connected bot: forum, status, metrics, an ask, a command.
    ScriptedAgent scripted(host.url(), QStringLiteral("writer"));
    QTRY_VERIFY(scripted.m_welcomed);
    QTRY_VERIFY(fleet.agents()->indexOf(key, QStringLiteral("writer")).isValid());
    scripted.send({{QStringLiteral("type"), QStringLiteral("forum")},
                   {QStringLiteral("messages"),
                    QJsonArray{QJsonObject{{QStringLiteral("sender"), QStringLiteral("Writer")},
                                           {QStringLiteral("role"), QStringLiteral("agent")},
                                           {QStringLiteral("text"), QStringLiteral("first draft ready")}}}}});
    scripted.send({{QStringLiteral("type"), QStringLiteral("status")},
                   {QStringLiteral("state"), QStringLiteral("busy")},
                   {QStringLiteral("text"), QStringLiteral("drafting")}});
    scripted.send({{QStringLiteral("type"), QStringLiteral("metrics")},
                   {QStringLiteral("values"), QJsonObject{{QStringLiteral("cpu"), 12.5}}}});
    scripted.send({{QStringLiteral("type"), QStringLiteral("ask")},
                   {QStringLiteral("id"), QStringLiteral("q1")},
                   {QStringLiteral("text"), QStringLiteral("Publish?")},
                   {QStringLiteral("choices"), QJsonArray{QStringLiteral("yes"), QStringLiteral("no")}}});
    scripted.send({{QStringLiteral("type"), QStringLiteral("log")},
                   {QStringLiteral("lines"),
                    QJsonArray{QJsonObject{{QStringLiteral("level"), QStringLiteral("ERROR")},
                                           {QStringLiteral("text"), QStringLiteral("disk full")}}}}});
    QTRY_COMPARE(fleet.forum()->rowCount(), 1);
    QCOMPARE(fleet.forum()->index(0, 0).data(ForumModel::TextRole).toString(), QStringLiteral("first draft ready"));
    QTRY_COMPARE(fleet.asks()->rowCount(), 1);
    const QModelIndex writer = fleet.agents()->indexOf(key, QStringLiteral("writer"));
    QTRY_COMPARE(writer.data(AgentTreeModel::StateRole).toString(), QStringLiteral("busy"));
    QTRY_COMPARE(writer.data(AgentTreeModel::UnreadErrorsRole).toInt(), 1);
    QTRY_VERIFY(!fleet.metrics()->series(key, QStringLiteral("writer"), QStringLiteral("cpu")).isEmpty());
    QTRY_VERIFY(!fleet.metrics()->keys(key, QString()).isEmpty()); // the host's own series

    ConsoleModel* writerConsole = fleet.console(key, QStringLiteral("writer"));
    QSignalSpy finished(&fleet, &Fleet::commandFinished);
    const QString id = fleet.sendCommand(key, QStringLiteral("writer"), QStringLiteral("pause"));
    QTRY_COMPARE(finished.count(), 1);
    QCOMPARE(finished[0][1].toString(), id);
    QVERIFY(finished[0][3].toBool());
    QCOMPARE(scripted.m_commands, QStringList{QStringLiteral("pause")});
    writerConsole->flush();
    const int markRow = writerConsole->rowCount() - 1;
    QCOMPARE(writerConsole->index(markRow).data(ConsoleModel::KindRole).toInt(), int(Console::Kind::Mark));
    QCOMPARE(writerConsole->index(markRow).data().toString(), QStringLiteral("pause"));
    QCOMPARE(writerConsole->index(markRow).data(ConsoleModel::MarkStateRole).toInt(), int(ConsoleModel::MarkOk));
    QCOMPARE(writerConsole->index(markRow).data(ConsoleModel::MarkResultRole).toString(), QStringLiteral("paused"));
    const int commandRow = fleet.commands()->rowOf(key, id);
    QVERIFY(commandRow >= 0);
    QCOMPARE(fleet.commands()->index(commandRow, 0).data(CommandModel::StateRole).value<CommandModel::State>(),
             CommandModel::State::Ok);

    // Plain text to a launched bot is its stdin; the bot echoes it.
    fleet.sendCommand(key, QStringLiteral("printer"), QStringLiteral("stdin"), R"({"text":"hello bot"})");
    QTRY_VERIFY(consoleTexts(*printer).join(QLatin1Char('\n')).contains(QLatin1String("hello bot")));

    // Answering the ask closes it.
    fleet.answerAsk(key, QStringLiteral("writer"), QStringLiteral("q1"), QStringLiteral("yes"));
    QTRY_COMPARE(fleet.asks()->rowCount(), 0);
    QTRY_VERIFY(scripted.m_commands.contains(QStringLiteral("answer")));

    // A failing command shows as failed next to its mark.
    const QString bad = fleet.sendCommand(key, QStringLiteral("writer"), QStringLiteral("explode"));
    QTRY_COMPARE(finished.count(), 4);
    writerConsole->flush();
    QCOMPARE(writerConsole->index(writerConsole->rowCount() - 1).data(ConsoleModel::MarkStateRole).toInt(),
             int(ConsoleModel::MarkFailed));
    QCOMPARE(fleet.commands()
                 ->index(fleet.commands()->rowOf(key, bad), 0)
                 .data(CommandModel::StateRole)
                 .value<CommandModel::State>(),
             CommandModel::State::Failed);

    // Filtering the merged console by agent.
    ConsoleFilterModel filter;
    filter.setSourceModel(fleet.allAgents());
    ConsoleFilter onlyWriter;
    onlyWriter.agents = {QStringLiteral("writer")};
    filter.setFilter(onlyWriter);
    QTRY_COMPARE(filter.rowCount(), 1);
    QCOMPARE(filter.index(0, 0).data().toString(), QStringLiteral("disk full"));
}

void TestFleet::twoHostsOneOffline()
{
    EmbeddedHost local(config());
    QVERIFY(local.start(nullptr));
    Fleet fleet;
    QAbstractItemModelTester treeTester(fleet.agents(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    fleet.addHost(new LocalLink(local.server()));

    // A remote host that is not there: offline, with the reason and the next try.
    const quint16 port = portOutsideEphemeralRange();
    QVERIFY(port != 0);
    RemoteLink::Settings settings;
    settings.url = QUrl(QStringLiteral("ws://127.0.0.1:%1/").arg(port));
    settings.token = Token;
    const QString remote = fleet.addHost(new RemoteLink(settings));
    QCOMPARE(fleet.hostKeys().size(), 2);
    QTRY_COMPARE(fleet.agents()->hostState(remote), AgentTreeModel::HostState::Offline);
    const QModelIndex hostIndex = fleet.agents()->indexOf(remote);
    QVERIFY(!hostIndex.data(AgentTreeModel::StateReasonRole).toString().isEmpty());
    QVERIFY(hostIndex.data(AgentTreeModel::NextAttemptRole).toLongLong() > QDateTime::currentMSecsSinceEpoch() - 1000);

    // Commands to it fail at once, and say why.
    QSignalSpy finished(&fleet, &Fleet::commandFinished);
    fleet.sendCommand(remote, QStringLiteral("anyone"), QStringLiteral("pause"));
    QTRY_COMPARE(finished.count(), 1);
    QVERIFY(!finished[0][3].toBool());
    QVERIFY(finished[0][4].toString().startsWith(QLatin1String("not_connected")));

    // It comes up later on that port: the link finds it.
    HostConfig late = config();
    late.port = port;
    HostServer lateHost(late);
    QVERIFY(lateHost.start());
    QTRY_COMPARE_WITH_TIMEOUT(fleet.agents()->hostState(remote), AgentTreeModel::HostState::Online, 10000);
    ScriptedAgent agent(lateHost.url(), QStringLiteral("far"));
    QTRY_VERIFY(fleet.agents()->indexOf(remote, QStringLiteral("far")).isValid());

    fleet.removeHost(remote);
    QCOMPARE(fleet.hostKeys(), QStringList{QStringLiteral("local")});
    QVERIFY(!fleet.agents()->indexOf(remote).isValid());
}

void TestFleet::definesAndRemovesAgents()
{
    QTemporaryDir dir;
    HostConfig hostConfig = config();
    hostConfig.allowAgentEditing = true;
    hostConfig.configPath = dir.filePath(QStringLiteral("host.json"));
    EmbeddedHost host(hostConfig);
    QVERIFY(host.start(nullptr));
    Fleet fleet;
    const QString key = fleet.addHost(new LocalLink(host.server()));
    QTRY_COMPARE(fleet.agents()->hostState(key), AgentTreeModel::HostState::Online);
    QSignalSpy finished(&fleet, &Fleet::commandFinished);

    AgentDefinition bot;
    bot.id = "added";
    bot.command = QStringLiteral(AGENTDECK_TESTBOT);
    bot.args = {QStringLiteral("--text"), QStringLiteral("added and running\\n"), QStringLiteral("--forever")};
    const QString defineId = fleet.defineAgent(key, QStringLiteral("added"), bot.toJson());
    QTRY_COMPARE(finished.count(), 1);
    QCOMPARE(finished[0][1].toString(), defineId);
    QVERIFY2(finished[0][3].toBool(), qPrintable(finished[0][4].toString()));
    QTRY_VERIFY(fleet.agents()->agent(key, QStringLiteral("added")));
    ConsoleModel* console = fleet.console(key, QStringLiteral("added"));
    QTRY_VERIFY_WITH_TIMEOUT(consoleTexts(*console).contains(QStringLiteral("added and running")), 10000);
    QVERIFY(QFile::exists(hostConfig.configPath));
    // No mark for editing requests: they are not commands to the agent.
    QCOMPARE(consoleTexts(*console).filter(QStringLiteral("define_agent")).size(), 0);

    // A definition with a mistake is refused with the key named.
    fleet.defineAgent(key, QStringLiteral("broken"), QByteArray(R"({"id":"broken","command":"x","autorestart":7})"));
    QTRY_COMPARE(finished.count(), 2);
    QVERIFY(!finished[1][3].toBool());
    QVERIFY2(finished[1][4].toString().contains(QLatin1String("autorestart")), qPrintable(finished[1][4].toString()));

    fleet.removeAgent(key, QStringLiteral("added"));
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 3, 15000);
    QVERIFY2(finished[2][3].toBool(), qPrintable(finished[2][4].toString()));
    QTRY_VERIFY(!fleet.agents()->agent(key, QStringLiteral("added")));
}

QTEST_GUILESS_MAIN(TestFleet)
#include "tst_fleet.moc"
