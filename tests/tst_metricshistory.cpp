// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/metricshistory.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

#include <cmath>

namespace {

const QString HostA = QStringLiteral("host-a");
const QString Query = QStringLiteral("query");
const QString Cpu = QStringLiteral("cpu");
const QString Rss = QStringLiteral("rss_bytes");
// A multiple of the 10 s bucket, so that bucket contents are easy to tell.
constexpr qint64 Base = 1763773200000;

Link::Event metrics(const QString& agent, qint64 ts, const QList<std::pair<QString, double>>& values)
{
    Link::Event event;
    event.type = agent.isEmpty() ? Link::Event::Type::HostMetrics : Link::Event::Type::Metrics;
    event.agent = agent;
    event.ts = ts;
    event.values = values;
    return event;
}

/// Point i at Base + i s with value i, as an agent sends them once a second.
void feed(MetricsHistory& history, int first, int last, const QString& agent = Query)
{
    for (int i = first; i <= last; ++i)
        history.applyEvent(HostA, metrics(agent, Base + qint64(i) * 1000, {{Cpu, double(i)}}));
}

} // namespace

/// The metrics history: one point a second, thinning, the hour, and its table model.
class TestMetricsHistory final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void thinsOldPointsToBucketAverages();
    void thinAfterIsConfigurable_data();
    void thinAfterIsConfigurable();
    void dropsWhatIsOlderThanAnHour();
    void thinnedPointsAgeOutToo();
    void onePointPerSecond();
    void lateMetricsOfASecondSourceAreKept();
    void keysAndOwners();
    void oneSignalPerEvent();
    void agentRemovedForgetsSeries();
    void modelFollowsHistory();
    void modelForgetsRemovedOwner();
};

void TestMetricsHistory::thinsOldPointsToBucketAverages()
{
    MetricsHistory history;
    QCOMPARE(history.thinAfter(), MetricsHistory::DefaultThinAfter);
    qsizetype most = 0;
    for (int i = 0; i < 3700; ++i) {
        history.applyEvent(HostA, metrics(Query, Base + qint64(i) * 1000, {{Cpu, double(i)}}));
        most = qMax(most, history.pointCount(HostA, Query));
    }
    QVERIFY2(most <= 600 + 10 + 360 + 1, qPrintable(QString::number(most)));

    // Newest at Base + 3699 s: buckets starting before Base + 3090 s are thinned; the
    // hour keeps them from Base + 100 s on. 299 averages and 610 single seconds.
    const QList<QPointF> points = history.series(HostA, Query, Cpu);
    QCOMPARE(points.size(), 299 + 610);
    QCOMPARE(history.pointCount(HostA, Query), 299 + 610);
    QCOMPARE(points.first(), QPointF(double(Base + 100000), 104.5));
    QCOMPARE(points.at(298), QPointF(double(Base + 3080000), 3084.5));
    QCOMPARE(points.at(299), QPointF(double(Base + 3090000), 3090.0));
    QCOMPARE(points.last(), QPointF(double(Base + 3699000), 3699.0));
    for (qsizetype i = 1; i < points.size(); ++i) {
        const double step = points.at(i).x() - points.at(i - 1).x();
        QCOMPARE(step, i <= 299 ? 10000.0 : 1000.0);
    }
}

void TestMetricsHistory::thinAfterIsConfigurable_data()
{
    QTest::addColumn<qint64>("thinAfter");
    QTest::addRow("one minute") << qint64(60 * 1000);
    QTest::addRow("ten minutes") << qint64(10 * 60 * 1000);
    QTest::addRow("half an hour") << qint64(30 * 60 * 1000);
}

void TestMetricsHistory::thinAfterIsConfigurable()
{
    QFETCH(qint64, thinAfter);
    MetricsHistory history;
    history.setThinAfter(thinAfter);
    feed(history, 0, 4000);
    const qint64 newest = Base + 4000000;
    const QList<QPointF> points = history.series(HostA, Query, Cpu);
    QVERIFY(points.size() <= thinAfter / 1000 + 10 + 360);
    QVERIFY(points.first().x() >= double(newest - MetricsHistory::Retention));
    for (const QPointF& point : points) {
        const auto ts = qint64(point.x());
        const double second = double(ts - Base) / 1000.0;
        if (ts + MetricsHistory::BucketLength <= newest - thinAfter) {
            // A whole bucket older than thinAfter: its start and its average.
            QCOMPARE(ts % MetricsHistory::BucketLength, 0);
            QCOMPARE(point.y(), second + 4.5);
        } else if (ts > newest - thinAfter) {
            QCOMPARE(point.y(), second);
        }
    }
    const QPointF recent = points.at(points.size() - 1 - thinAfter / 1000 + 20);
    QCOMPARE(recent.y(), double(recent.x() - double(Base)) / 1000.0);
}

void TestMetricsHistory::dropsWhatIsOlderThanAnHour()
{
    MetricsHistory history;
    // No thinning, so that the cut shows second by second.
    history.setThinAfter(MetricsHistory::Retention);
    feed(history, 0, 99);
    QCOMPARE(history.pointCount(HostA, Query), 100);
    // An hour and a second after the first point: only the first one goes.
    feed(history, 3600 + 1, 3600 + 1);
    QCOMPARE(history.series(HostA, Query, Cpu).first(), QPointF(double(Base + 1000), 1.0));
    QCOMPARE(history.pointCount(HostA, Query), 100);
    // Two hours later everything before is gone.
    feed(history, 7200 + 200, 7200 + 200);
    QCOMPARE(history.series(HostA, Query, Cpu), QList<QPointF>({QPointF(double(Base + 7400000), 7400.0)}));
}

void TestMetricsHistory::thinnedPointsAgeOutToo()
{
    MetricsHistory history;
    feed(history, 0, 99);
    // The first hundred seconds are thinned to ten buckets; the hour then drops the one at Base.
    feed(history, 3600 + 1, 3600 + 1);
    const QList<QPointF> points = history.series(HostA, Query, Cpu);
    QCOMPARE(points.size(), 9 + 1);
    QCOMPARE(points.first(), QPointF(double(Base + 10000), 14.5));
    QCOMPARE(points.at(8), QPointF(double(Base + 90000), 94.5));
    QCOMPARE(points.last(), QPointF(double(Base + 3601000), 3601.0));
}

void TestMetricsHistory::onePointPerSecond()
{
    MetricsHistory history;
    history.applyEvent(HostA, metrics(Query, Base + 100, {{Cpu, 1.0}, {Rss, 10.0}}));
    history.applyEvent(HostA, metrics(Query, Base + 900, {{Cpu, 2.0}}));
    QCOMPARE(history.pointCount(HostA, Query), 1);
    QCOMPARE(history.series(HostA, Query, Cpu), QList<QPointF>({QPointF(double(Base + 100), 2.0)}));
    QCOMPARE(history.series(HostA, Query, Rss), QList<QPointF>({QPointF(double(Base + 100), 10.0)}));

    history.applyEvent(HostA, metrics(Query, Base + 1000, {{Cpu, 3.0}}));
    QCOMPARE(history.pointCount(HostA, Query), 2);
    // Late: older than the newest point, it joins the point of its own second.
    history.applyEvent(HostA, metrics(Query, Base + 500, {{Cpu, 9.0}}));
    QCOMPARE(history.pointCount(HostA, Query), 2);
    QCOMPARE(history.series(HostA, Query, Cpu).first().y(), 9.0);
    QCOMPARE(history.series(HostA, Query, Cpu).last().y(), 3.0);
    // A key missing from a point has no value there.
    QCOMPARE(history.series(HostA, Query, Rss).size(), 1);
}

void TestMetricsHistory::lateMetricsOfASecondSourceAreKept()
{
    // A launched agent: the launcher samples its process, the agent sends its own
    // metrics; each is stamped when made, and they arrive in either order.
    const QString Tokens = QStringLiteral("tokens_per_s");
    MetricsHistory history;
    QSignalSpy changed(&history, &MetricsHistory::seriesChanged);
    history.applyEvent(HostA, metrics(Query, Base + 1200, {{Cpu, 5.0}, {Rss, 100.0}}));
    history.applyEvent(HostA, metrics(Query, Base + 1100, {{Tokens, 40.0}}));
    history.applyEvent(HostA, metrics(Query, Base + 3200, {{Cpu, 6.0}, {Rss, 100.0}}));
    // A second with no sample of the launcher takes its place in time.
    history.applyEvent(HostA, metrics(Query, Base + 2100, {{Tokens, 50.0}}));
    history.applyEvent(HostA, metrics(Query, Base + 3100, {{Tokens, 60.0}}));
    QCOMPARE(changed.count(), 5);
    QCOMPARE(history.keys(HostA, Query), QStringList({Cpu, Rss, Tokens}));
    QCOMPARE(history.pointCount(HostA, Query), 3);
    QCOMPARE(history.series(HostA, Query, Tokens),
             QList<QPointF>({QPointF(double(Base + 1200), 40.0), QPointF(double(Base + 2100), 50.0),
                             QPointF(double(Base + 3200), 60.0)}));
    QCOMPARE(history.series(HostA, Query, Cpu),
             QList<QPointF>({QPointF(double(Base + 1200), 5.0), QPointF(double(Base + 3200), 6.0)}));

    // Once its bucket is thinned, a late point has nowhere to go.
    history.setThinAfter(60 * 1000);
    history.applyEvent(HostA, metrics(Query, Base + 120000, {{Cpu, 7.0}}));
    const qsizetype before = history.pointCount(HostA, Query);
    history.applyEvent(HostA, metrics(Query, Base + 5000, {{Tokens, 70.0}}));
    QCOMPARE(history.pointCount(HostA, Query), before);
    QCOMPARE(history.series(HostA, Query, Tokens), QList<QPointF>({QPointF(double(Base), 50.0)}));

    // The table shows the late point where it belongs.
    MetricsHistory fresh;
    MetricsModel model(&fresh);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setOwner(HostA, Query);
    fresh.applyEvent(HostA, metrics(Query, Base + 1000, {{Cpu, 1.0}}));
    fresh.applyEvent(HostA, metrics(Query, Base + 3000, {{Cpu, 3.0}}));
    fresh.applyEvent(HostA, metrics(Query, Base + 2000, {{Tokens, 2.0}}));
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(model.index(1, 0).data(MetricsModel::TimeRole).toLongLong(), Base + 2000);
    QCOMPARE(model.index(1, 1).data().toDouble(), 2.0);
}

void TestMetricsHistory::keysAndOwners()
{
    MetricsHistory history;
    history.applyEvent(HostA, metrics({}, Base, {{Cpu, 23.1}, {QStringLiteral("load1"), 0.4}}));
    history.applyEvent(HostA, metrics(Query, Base, {{Rss, 100.0}, {Cpu, 5.0}}));
    history.applyEvent(HostA, metrics(Query, Base + 1000, {{QStringLiteral("lines_per_s"), 3.0}}));
    QCOMPARE(history.keys(HostA, {}), QStringList({Cpu, QStringLiteral("load1")}));
    QCOMPARE(history.keys(HostA, Query), QStringList({Rss, Cpu, QStringLiteral("lines_per_s")}));
    QCOMPARE(history.series(HostA, {}, Cpu), QList<QPointF>({QPointF(double(Base), 23.1)}));
    QCOMPARE(history.series(HostA, Query, Cpu), QList<QPointF>({QPointF(double(Base), 5.0)}));
    QVERIFY(history.series(HostA, Query, QStringLiteral("nothing")).isEmpty());
    QVERIFY(history.keys(QStringLiteral("other"), Query).isEmpty());

    const QList<MetricsHistory::Point> points = history.points(HostA, Query);
    QCOMPARE(points.size(), 2);
    QCOMPARE(points.at(0).values.size(), 3);
    QVERIFY(std::isnan(points.at(0).values.at(2)));
    QCOMPARE(points.at(1).values.at(2), 3.0);
}

void TestMetricsHistory::oneSignalPerEvent()
{
    MetricsHistory history;
    QSignalSpy changed(&history, &MetricsHistory::seriesChanged);
    history.applyEvent(HostA, metrics(Query, Base, {{Cpu, 1.0}, {Rss, 2.0}, {QStringLiteral("x"), 3.0}}));
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed.at(0).at(0).toString(), HostA);
    QCOMPARE(changed.at(0).at(1).toString(), Query);
    history.applyEvent(HostA, metrics({}, Base, {{Cpu, 1.0}}));
    QCOMPARE(changed.count(), 2);
    QVERIFY(changed.at(1).at(1).toString().isEmpty());
    Link::Event status;
    status.type = Link::Event::Type::Status;
    status.agent = Query;
    history.applyEvent(HostA, status);
    QCOMPARE(changed.count(), 2);
}

void TestMetricsHistory::agentRemovedForgetsSeries()
{
    MetricsHistory history;
    feed(history, 0, 5);
    feed(history, 0, 5, QStringLiteral("media"));
    Link::Event removed;
    removed.type = Link::Event::Type::AgentRemoved;
    removed.agent = Query;
    QSignalSpy changed(&history, &MetricsHistory::seriesChanged);
    history.applyEvent(HostA, removed);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(history.pointCount(HostA, Query), 0);
    QVERIFY(history.keys(HostA, Query).isEmpty());
    QCOMPARE(history.pointCount(HostA, QStringLiteral("media")), 6);

    history.removeHost(HostA);
    QCOMPARE(history.pointCount(HostA, QStringLiteral("media")), 0);
    QCOMPARE(changed.count(), 2);
}

void TestMetricsHistory::modelFollowsHistory()
{
    MetricsHistory history;
    history.setThinAfter(60 * 1000);
    MetricsModel model(&history);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setOwner(HostA, Query);
    QCOMPARE(model.rowCount(), 0);
    QCOMPARE(model.columnCount(), 0);

    const auto checkSame = [&history, &model] {
        const QList<MetricsHistory::Point> points = history.points(HostA, Query);
        QCOMPARE(model.rowCount(), int(points.size()));
        QCOMPARE(model.columnCount(), int(history.keys(HostA, Query).size()));
        for (int row = 0; row < model.rowCount(); ++row) {
            QCOMPARE(model.index(row, 0).data(MetricsModel::TimeRole).toLongLong(), points.at(row).ts);
            for (int column = 0; column < model.columnCount(); ++column) {
                const QVariant value = model.index(row, column).data();
                if (std::isnan(points.at(row).values.at(column)))
                    QVERIFY(!value.isValid());
                else
                    QCOMPARE(value.toDouble(), points.at(row).values.at(column));
            }
        }
    };

    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    for (int i = 0; i < 150; ++i) {
        QList<std::pair<QString, double>> values{{Cpu, double(i)}};
        if (i >= 40) // a key that appears later: a new column
            values.append({Rss, double(1000 + i)});
        history.applyEvent(HostA, metrics(Query, Base + qint64(i) * 1000, values));
        if (QTest::currentTestFailed())
            return;
        checkSame();
        if (QTest::currentTestFailed())
            return;
    }
    QCOMPARE(model.columnCount(), 2);
    QCOMPARE(model.headerData(1, Qt::Horizontal).toString(), Rss);
    QCOMPARE(reset.count(), 0);
    QVERIFY(inserted.count() >= 150);
    QVERIFY(removed.count() > 0); // thinned seconds
    QVERIFY(model.rowCount() < 150);

    // Two hours later: everything before goes, in one removal.
    removed.clear();
    history.applyEvent(HostA, metrics(Query, Base + 7200000, {{Cpu, 1.0}}));
    checkSame();
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(removed.count(), 1);

    // Another owner's events leave the model alone.
    inserted.clear();
    history.applyEvent(HostA, metrics(QStringLiteral("media"), Base + 7200000, {{Cpu, 1.0}}));
    QCOMPARE(inserted.count(), 0);
}

void TestMetricsHistory::modelForgetsRemovedOwner()
{
    MetricsHistory history;
    feed(history, 0, 20);
    MetricsModel model(&history);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setOwner(HostA, Query);
    QCOMPARE(model.rowCount(), 21);
    QCOMPARE(model.columnCount(), 1);
    QCOMPARE(model.headerData(3, Qt::Vertical, MetricsModel::TimeRole).toLongLong(), Base + 3000);

    Link::Event removed;
    removed.type = Link::Event::Type::AgentRemoved;
    removed.agent = Query;
    history.applyEvent(HostA, removed);
    QCOMPARE(model.rowCount(), 0);
    QCOMPARE(model.columnCount(), 0);

    // The agent comes back: the model follows again.
    feed(history, 30, 32);
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(model.columnCount(), 1);
    QCOMPARE(model.index(2, 0).data().toDouble(), 32.0);
}

QTEST_GUILESS_MAIN(TestMetricsHistory)
#include "tst_metricshistory.moc"
