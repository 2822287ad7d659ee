// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/askmodel.h"
#include "models/commandmodel.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

namespace {

const QString HostA = QStringLiteral("host-a");
const QString HostB = QStringLiteral("host-b");

Link::Ask makeAsk(const QString& agent, const QString& id, const QString& text = QStringLiteral("Publish?"))
{
    Link::Ask ask;
    ask.agent = agent;
    ask.id = id;
    ask.text = text;
    ask.choices = QStringList({QStringLiteral("approve"), QStringLiteral("reject")});
    ask.ts = 1763773200300;
    return ask;
}

Link::Event askOpened(const Link::Ask& ask)
{
    Link::Event event;
    event.type = Link::Event::Type::AskOpened;
    event.agent = ask.agent;
    event.ask = ask;
    return event;
}

Link::Event askClosed(const QString& agent, const QString& id)
{
    Link::Event event;
    event.type = Link::Event::Type::AskClosed;
    event.agent = agent;
    event.id = id;
    event.text = QStringLiteral("approve");
    return event;
}

Link::Event snapshot(const QList<Link::Ask>& asks)
{
    Link::Event event;
    event.type = Link::Event::Type::Snapshot;
    event.asks = asks;
    return event;
}

Link::Event result(const QString& id, const QString& agent, bool ok, const QString& error, const QString& text)
{
    Link::Event event;
    event.type = Link::Event::Type::Result;
    event.id = id;
    event.agent = agent;
    event.ok = ok;
    event.error = error;
    event.text = text;
    return event;
}

QStringList askIds(const AskModel& model)
{
    QStringList ids;
    for (int row = 0; row < model.rowCount(); ++row) {
        const QModelIndex index = model.index(row);
        ids.append(QString(index.data(AskModel::HostKeyRole).toString() + QLatin1Char('/')
                           + index.data(AskModel::AgentRole).toString() + QLatin1Char('/')
                           + index.data(AskModel::IdRole).toString()));
    }
    return ids;
}

CommandModel::State stateAt(const CommandModel& model, int row)
{
    return model.index(row).data(CommandModel::StateRole).value<CommandModel::State>();
}

} // namespace

/// Open asks and sent commands.
class TestAskCommandModel final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void askOpenAndClose();
    void askSnapshotReplacesOneHost();
    void askAgentRemoved();
    void commandStates_data();
    void commandStates();
    void broadcastCollectsResults();
    void errorAndDisconnectFailPending();
    void keepsLastFinishedAndAllPending();
};

void TestAskCommandModel::askOpenAndClose()
{
    AskModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.applyEvent(HostA, askOpened(makeAsk(QStringLiteral("query"), QStringLiteral("q7"))));
    model.applyEvent(HostA, askOpened(makeAsk(QStringLiteral("media"), QStringLiteral("q7"))));
    QCOMPARE(model.rowCount(), 2);
    const QModelIndex first = model.index(0);
    QCOMPARE(first.data().toString(), QStringLiteral("Publish?"));
    QCOMPARE(first.data(AskModel::TextRole).toString(), QStringLiteral("Publish?"));
    QCOMPARE(first.data(AskModel::ChoicesRole).toStringList(),
             QStringList({QStringLiteral("approve"), QStringLiteral("reject")}));
    QCOMPARE(first.data(AskModel::TimeRole).toLongLong(), 1763773200300);

    // Opened again with a new text: updated in place.
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    model.applyEvent(HostA, askOpened(makeAsk(QStringLiteral("query"), QStringLiteral("q7"), QStringLiteral("Now?"))));
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(model.index(0).data().toString(), QStringLiteral("Now?"));

    // Closing needs host, agent and id to match.
    model.applyEvent(HostB, askClosed(QStringLiteral("query"), QStringLiteral("q7")));
    model.applyEvent(HostA, askClosed(QStringLiteral("query"), QStringLiteral("other")));
    QCOMPARE(model.rowCount(), 2);
    model.applyEvent(HostA, askClosed(QStringLiteral("query"), QStringLiteral("q7")));
    QCOMPARE(askIds(model), QStringList({QStringLiteral("host-a/media/q7")}));
    QCOMPARE(model.rowOf(HostA, QStringLiteral("media"), QStringLiteral("q7")), 0);
    QCOMPARE(model.rowOf(HostA, QStringLiteral("query"), QStringLiteral("q7")), -1);
}

void TestAskCommandModel::askSnapshotReplacesOneHost()
{
    AskModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.applyEvent(
        HostA,
        snapshot({makeAsk(QStringLiteral("a"), QStringLiteral("1")), makeAsk(QStringLiteral("a"), QStringLiteral("2")),
                  makeAsk(QStringLiteral("b"), QStringLiteral("1"))}));
    model.applyEvent(HostB, snapshot({makeAsk(QStringLiteral("a"), QStringLiteral("1"))}));
    QCOMPARE(model.rowCount(), 4);

    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    model.applyEvent(
        HostA,
        snapshot({makeAsk(QStringLiteral("b"), QStringLiteral("1")), makeAsk(QStringLiteral("c"), QStringLiteral("9")),
                  makeAsk(QStringLiteral("c"), QStringLiteral("9"))}));
    QCOMPARE(askIds(model),
             QStringList({QStringLiteral("host-a/b/1"), QStringLiteral("host-b/a/1"), QStringLiteral("host-a/c/9")}));
    QCOMPARE(reset.count(), 0);
    QCOMPARE(removed.count(), 1); // a/1 and a/2 are adjacent
    QCOMPARE(inserted.count(), 1);

    // An empty snapshot closes every ask of that host only.
    model.applyEvent(HostA, snapshot({}));
    QCOMPARE(askIds(model), QStringList({QStringLiteral("host-b/a/1")}));
}

void TestAskCommandModel::askAgentRemoved()
{
    AskModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.applyEvent(HostA, askOpened(makeAsk(QStringLiteral("query"), QStringLiteral("1"))));
    model.applyEvent(HostA, askOpened(makeAsk(QStringLiteral("media"), QStringLiteral("1"))));
    model.applyEvent(HostA, askOpened(makeAsk(QStringLiteral("query"), QStringLiteral("2"))));
    model.applyEvent(HostB, askOpened(makeAsk(QStringLiteral("query"), QStringLiteral("1"))));
    Link::Event removed;
    removed.type = Link::Event::Type::AgentRemoved;
    removed.agent = QStringLiteral("query");
    model.applyEvent(HostA, removed);
    QCOMPARE(askIds(model), QStringList({QStringLiteral("host-a/media/1"), QStringLiteral("host-b/query/1")}));
    model.removeHost(HostB);
    QCOMPARE(model.rowCount(), 1);
}

void TestAskCommandModel::commandStates_data()
{
    QTest::addColumn<bool>("ok");
    QTest::addColumn<QString>("error");
    QTest::addColumn<QString>("text");
    QTest::addColumn<CommandModel::State>("expected");
    QTest::addRow("ok") << true << QString() << QStringLiteral("paused") << CommandModel::State::Ok;
    QTest::addRow("failed") << false << QString() << QStringLiteral("cannot pause") << CommandModel::State::Failed;
    QTest::addRow("unknown agent") << false << QStringLiteral("unknown_agent") << QString()
                                   << CommandModel::State::Failed;
    QTest::addRow("not connected") << false << QStringLiteral("not_connected") << QString()
                                   << CommandModel::State::Failed;
    QTest::addRow("timeout") << false << QStringLiteral("timeout") << QStringLiteral("timeout")
                             << CommandModel::State::Timeout;
}

void TestAskCommandModel::commandStates()
{
    QFETCH(bool, ok);
    QFETCH(QString, error);
    QFETCH(QString, text);
    QFETCH(CommandModel::State, expected);

    CommandModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy finished(&model, &CommandModel::commandFinished);
    model.addCommand(HostA, QStringLiteral("c1"), QStringLiteral("query"), QStringLiteral("pause"),
                     R"({"reason":"test"})");
    model.addCommand(HostB, QStringLiteral("c1"), QStringLiteral("query"), QStringLiteral("pause"));
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.rowOf(HostA, QStringLiteral("c1")), 0);
    QCOMPARE(model.rowOf(HostB, QStringLiteral("c1")), 1);
    QCOMPARE(model.rowOf(HostA, QStringLiteral("c2")), -1);
    const QModelIndex index = model.index(0);
    QCOMPARE(stateAt(model, 0), CommandModel::State::Pending);
    QCOMPARE(index.data(CommandModel::FinishedAtRole).toLongLong(), 0);
    QVERIFY(index.data(CommandModel::SentAtRole).toLongLong() > 0);
    QCOMPARE(index.data(CommandModel::NameRole).toString(), QStringLiteral("pause"));
    QCOMPARE(index.data(CommandModel::ArgsRole).toByteArray(), QByteArray(R"({"reason":"test"})"));

    model.applyEvent(HostA, result(QStringLiteral("c1"), QStringLiteral("query"), ok, error, text));
    QCOMPARE(stateAt(model, 0), expected);
    QCOMPARE(stateAt(model, 1), CommandModel::State::Pending);
    QCOMPARE(index.data(CommandModel::ErrorRole).toString(), error);
    QCOMPARE(index.data(CommandModel::ResultTextRole).toString(), text);
    QVERIFY(index.data(CommandModel::FinishedAtRole).toLongLong() >= index.data(CommandModel::SentAtRole).toLongLong());
    QCOMPARE(finished.count(), 1);
    QCOMPARE(finished.at(0).at(0).toString(), HostA);
    QCOMPARE(finished.at(0).at(1).toString(), QStringLiteral("c1"));
    QCOMPARE(finished.at(0).at(2).toString(), QStringLiteral("query"));
    QCOMPARE(finished.at(0).at(3).value<CommandModel::State>(), expected);
    QCOMPARE(finished.at(0).at(4).toString(), text.isEmpty() ? error : text);

    // A second result for a single agent changes nothing.
    model.applyEvent(HostA, result(QStringLiteral("c1"), QStringLiteral("query"), !ok, QString(), QString()));
    QCOMPARE(stateAt(model, 0), expected);
    QCOMPARE(finished.count(), 1);
}

void TestAskCommandModel::broadcastCollectsResults()
{
    CommandModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy finished(&model, &CommandModel::commandFinished);
    model.addCommand(HostA, QStringLiteral("c9"), QStringLiteral("*"), QStringLiteral("pause"));
    const QModelIndex index = model.index(0);

    model.applyEvent(HostA, result(QStringLiteral("c9"), QStringLiteral("query"), true, {}, QStringLiteral("paused")));
    QCOMPARE(stateAt(model, 0), CommandModel::State::Ok);
    model.applyEvent(HostA,
                     result(QStringLiteral("c9"), QStringLiteral("media"), false, QStringLiteral("timeout"),
                            QStringLiteral("timeout")));
    QCOMPARE(stateAt(model, 0), CommandModel::State::Timeout);
    model.applyEvent(HostA, result(QStringLiteral("c9"), QStringLiteral("crawler"), true, {}, QStringLiteral("ok")));
    QCOMPARE(stateAt(model, 0), CommandModel::State::Timeout);
    model.applyEvent(
        HostA, result(QStringLiteral("c9"), QStringLiteral("writer"), false, QStringLiteral("not_connected"), {}));

    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(stateAt(model, 0), CommandModel::State::Failed);
    QCOMPARE(index.data(CommandModel::AgentRole).toString(), QStringLiteral("*"));
    QCOMPARE(index.data(CommandModel::ErrorRole).toString(), QStringLiteral("timeout"));
    QCOMPARE(index.data(CommandModel::ResultTextRole).toString(),
             QStringLiteral("query: paused\nmedia: timeout\ncrawler: ok\nwriter: not_connected"));
    const QVariantList results = index.data(CommandModel::ResultsRole).toList();
    QCOMPARE(results.size(), 4);
    QCOMPARE(results.at(1).toMap().value(QStringLiteral("agent")).toString(), QStringLiteral("media"));
    QCOMPARE(results.at(1).toMap().value(QStringLiteral("state")).value<CommandModel::State>(),
             CommandModel::State::Timeout);
    QCOMPARE(finished.count(), 4);
    QCOMPARE(finished.at(2).at(2).toString(), QStringLiteral("crawler"));
    QCOMPARE(finished.at(2).at(3).value<CommandModel::State>(), CommandModel::State::Ok);

    // No agents at all: one result without an agent.
    model.addCommand(HostA, QStringLiteral("c10"), QStringLiteral("*"), QStringLiteral("pause"));
    model.applyEvent(HostA, result(QStringLiteral("c10"), {}, false, QStringLiteral("no_agents"), {}));
    QCOMPARE(stateAt(model, 1), CommandModel::State::Failed);
    QCOMPARE(model.index(1).data(CommandModel::ErrorRole).toString(), QStringLiteral("no_agents"));
}

void TestAskCommandModel::errorAndDisconnectFailPending()
{
    CommandModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.addCommand(HostA, QStringLiteral("c1"), QStringLiteral("query"), QStringLiteral("pause"));
    model.addCommand(HostA, QStringLiteral("c2"), QStringLiteral("query"), QStringLiteral("resume"));
    model.addCommand(HostB, QStringLiteral("c3"), QStringLiteral("query"), QStringLiteral("resume"));

    Link::Event error;
    error.type = Link::Event::Type::Error;
    error.error = QStringLiteral("forbidden");
    error.text = QStringLiteral("not allowed");
    error.id = QStringLiteral("c1");
    model.applyEvent(HostA, error);
    QCOMPARE(stateAt(model, 0), CommandModel::State::Failed);
    QCOMPARE(model.index(0).data(CommandModel::ErrorRole).toString(), QStringLiteral("forbidden"));
    QCOMPARE(model.index(0).data(CommandModel::ResultTextRole).toString(), QStringLiteral("not allowed"));

    QSignalSpy finished(&model, &CommandModel::commandFinished);
    model.failPending(HostA);
    QCOMPARE(stateAt(model, 1), CommandModel::State::Failed);
    QCOMPARE(model.index(1).data(CommandModel::ErrorRole).toString(), QStringLiteral("disconnected"));
    QCOMPARE(stateAt(model, 2), CommandModel::State::Pending);
    QCOMPARE(finished.count(), 1);
}

void TestAskCommandModel::keepsLastFinishedAndAllPending()
{
    CommandModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(model.maxFinished(), CommandModel::DefaultMaxFinished);
    model.setMaxFinished(5);
    for (int i = 0; i < 12; ++i)
        model.addCommand(HostA, QStringLiteral("c%1").arg(i), QStringLiteral("query"), QStringLiteral("ping"));
    // Every third stays pending; the others finish in order.
    for (int i = 0; i < 12; ++i) {
        if (i % 3 != 0)
            model.applyEvent(HostA, result(QStringLiteral("c%1").arg(i), QStringLiteral("query"), true, {}, {}));
    }
    // 8 finished, 4 pending: the three oldest finished ones went.
    QCOMPARE(model.rowCount(), 4 + 5);
    QStringList ids;
    for (int row = 0; row < model.rowCount(); ++row)
        ids.append(model.index(row).data(CommandModel::IdRole).toString());
    QCOMPARE(ids.join(QLatin1Char(' ')), QStringLiteral("c0 c3 c5 c6 c7 c8 c9 c10 c11"));
    QCOMPARE(model.rowOf(HostA, QStringLiteral("c1")), -1);
    QCOMPARE(model.rowOf(HostA, QStringLiteral("c9")), 6);
}

QTEST_GUILESS_MAIN(TestAskCommandModel)
#include "tst_askcommandmodel.moc"
