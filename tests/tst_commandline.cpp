// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/commandline.h"

#include <QTest>

/// What a typed line becomes, for launched and for connected agents.
class TestCommandLine final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parses_data();
    void parses();
    void completions();
};

void TestCommandLine::parses_data()
{
    QTest::addColumn<QString>("line");
    QTest::addColumn<bool>("launched");
    QTest::addColumn<QStringList>("advertised");
    QTest::addColumn<QString>("name");
    QTest::addColumn<QByteArray>("args");
    QTest::addColumn<QString>("error");

    const QStringList none;
    const QStringList demo{QStringLiteral("pause"), QStringLiteral("status")};
    QTest::newRow("built-in") << "restart" << true << none << "restart" << QByteArray("{}") << "";
    QTest::newRow("signal") << "signal SIGUSR1" << true << none << "signal" << QByteArray(R"({"signal":"SIGUSR1"})")
                            << "";
    QTest::newRow("signal without a name") << "signal" << true << none << "signal" << QByteArray("{}")
                                           << "signal needs a signal name, e.g. \"signal SIGUSR1\"";
    QTest::newRow("text to stdin") << "hello there  " << true << none << "stdin"
                                   << QByteArray(R"({"text":"hello there  "})") << "";
    QTest::newRow("stdin keeps what was typed")
        << "  print 3" << true << none << "stdin" << QByteArray(R"({"text":"  print 3"})") << "";
    QTest::newRow("explicit stdin") << "stdin quit" << true << none << "stdin" << QByteArray(R"({"text":"quit"})")
                                    << "";
    QTest::newRow("advertised by a launched agent") << "pause" << true << demo << "pause" << QByteArray("{}") << "";
    QTest::newRow("slash forces a command")
        << "/reload config" << true << none << "reload" << QByteArray(R"({"text":"config"})") << "";
    QTest::newRow("connected: own command") << "status" << false << demo << "status" << QByteArray("{}") << "";
    QTest::newRow("connected: unknown word is a command")
        << "summarise last hour" << false << demo << "summarise" << QByteArray(R"({"text":"last hour"})") << "";
    QTest::newRow("connected: built-in names are forwarded")
        << "restart" << false << none << "restart" << QByteArray("{}") << "";
    QTest::newRow("JSON arguments") << R"(/search {"q":"cats","n":3})" << false << none << "search"
                                    << QByteArray(R"({"q":"cats","n":3})") << "";
    QTest::newRow("broken JSON") << "/search {oops" << false << none << "search" << QByteArray("{}")
                                 << "the arguments are not a JSON object: {oops";
    QTest::newRow("empty") << "   " << true << none << "" << QByteArray("{}") << "nothing to send";
    QTest::newRow("slash alone") << "/" << false << none << "" << QByteArray("{}")
                                 << "a command name is missing after '/'";
}

void TestCommandLine::parses()
{
    QFETCH(QString, line);
    QFETCH(bool, launched);
    QFETCH(QStringList, advertised);
    QFETCH(QString, name);
    QFETCH(QByteArray, args);
    QFETCH(QString, error);
    const CommandLine::Command command = CommandLine::parse(line, launched, advertised);
    QCOMPARE(command.error, error);
    if (!error.isEmpty())
        return;
    QCOMPARE(command.name, name);
    QCOMPARE(command.args, args);
}

void TestCommandLine::completions()
{
    const QStringList launched = CommandLine::completions(true, {QStringLiteral("pause")});
    QVERIFY(launched.contains(QStringLiteral("restart")));
    QVERIFY(launched.contains(QStringLiteral("signal SIGUSR1")));
    QVERIFY(launched.contains(QStringLiteral("pause")));
    QVERIFY(std::is_sorted(launched.begin(), launched.end()));
    const QStringList connected = CommandLine::completions(false, {QStringLiteral("status"), QStringLiteral("status")});
    QCOMPARE(connected, QStringList{QStringLiteral("status")});
    QVERIFY(CommandLine::isDisruptive(QStringLiteral("kill")));
    QVERIFY(!CommandLine::isDisruptive(QStringLiteral("start")));
}

QTEST_MAIN(TestCommandLine)
#include "tst_commandline.moc"
