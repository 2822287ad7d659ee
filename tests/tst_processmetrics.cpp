// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/launcher/processmetrics.h"

#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <csignal>
#include <unistd.h>

/*
 * Runs the testbot in process groups of its own, as the launcher does, and checks
 * what ProcessGroupSampler reads about them from /proc.
 */

namespace {

// Generous, for a busy machine and sanitizer builds; waits end as soon as the condition holds.
constexpr int Timeout = 30000;

const QString Testbot = QStringLiteral(AGENTDECK_TESTBOT);

} // namespace

class TestProcessMetrics : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void cleanup();
    void unknownGroupIsEmpty();
    void busyGroupUsesCpu();
    void grandchildIsCountedAndKilled();
    void exitedProcessNeverMakesCpuNegative();
    void commandNameWithParentheses();

private:
    /// Starts program in a process group of its own; the pgid, or 0 when it did not start.
    qint64 startBot(QProcess* process, const QStringList& arguments, const QString& program = Testbot);
    /// SIGKILLs the group and reaps the bot.
    void killGroup(QProcess* process, qint64 pgid);

    QList<qint64> m_groups; // still to be killed
};

qint64 TestProcessMetrics::startBot(QProcess* process, const QStringList& arguments, const QString& program)
{
    process->setChildProcessModifier([] { ::setpgid(0, 0); });
    process->start(program, arguments);
    if (!process->waitForStarted(Timeout))
        return 0;
    // The modifier ran before exec, so the group exists once the start is reported.
    const qint64 pgid = process->processId();
    m_groups.append(pgid);
    return pgid;
}

void TestProcessMetrics::killGroup(QProcess* process, qint64 pgid)
{
    ::killpg(pid_t(pgid), SIGKILL);
    process->waitForFinished(Timeout);
    m_groups.removeAll(pgid);
}

void TestProcessMetrics::cleanup()
{
    for (const qint64 pgid : std::as_const(m_groups)) {
        if (!ProcessGroupSampler::processesInGroup(pgid).isEmpty())
            ::killpg(pid_t(pgid), SIGKILL);
    }
    m_groups.clear();
}

void TestProcessMetrics::unknownGroupIsEmpty()
{
    ProcessGroupSampler sampler;
    // pid_max is at most 2^22, so no group can have this id.
    const qint64 none = 1 << 23;
    for (int round = 0; round < 2; ++round) {
        const QHash<qint64, ProcessGroupUsage> usage = sampler.sample({none, 0, -1});
        QCOMPARE(usage.size(), 1);
        QCOMPARE(usage.value(none).pgid, none);
        QCOMPARE(usage.value(none).processes, 0);
        QCOMPARE(usage.value(none).rssBytes, 0);
        QCOMPARE(usage.value(none).cpuPercent, 0.0);
    }
    QVERIFY(ProcessGroupSampler::processesInGroup(none).isEmpty());
}

void TestProcessMetrics::busyGroupUsesCpu()
{
    QProcess busy;
    QProcess idle;
    const qint64 busyGroup = startBot(&busy, {QStringLiteral("--busy"), QStringLiteral("60000")});
    const qint64 idleGroup = startBot(&idle, {QStringLiteral("--forever")});
    QVERIFY(busyGroup > 0);
    QVERIFY(idleGroup > 0);

    ProcessGroupSampler sampler;
    QHash<qint64, ProcessGroupUsage> usage = sampler.sample({busyGroup, idleGroup});
    QCOMPARE(usage.value(busyGroup).cpuPercent, 0.0); // the first call has nothing to compare with
    // On a loaded machine one interval may fall short; one of several must not.
    double best = 0;
    // Two rounds at least, so that the idle bot's own start is behind it.
    for (int attempt = 0; attempt < 20 && (best <= 50 || attempt < 2); ++attempt) {
        QTest::qWait(500);
        usage = sampler.sample({busyGroup, idleGroup});
        best = qMax(best, usage.value(busyGroup).cpuPercent);
        QVERIFY(usage.value(busyGroup).cpuPercent >= 0);
        QVERIFY(usage.value(idleGroup).cpuPercent >= 0);
    }
    QVERIFY2(best > 50, qPrintable(QString::number(best)));
    QVERIFY2(usage.value(busyGroup).cpuPercent < 150, qPrintable(QString::number(best))); // one thread
    QVERIFY2(usage.value(idleGroup).cpuPercent < 20, qPrintable(QString::number(usage.value(idleGroup).cpuPercent)));
    QCOMPARE(usage.value(busyGroup).processes, 1);
    QCOMPARE(usage.value(idleGroup).processes, 1);
    QVERIFY(usage.value(busyGroup).rssBytes > 0);
    QVERIFY(usage.value(idleGroup).rssBytes > 0);

    killGroup(&busy, busyGroup);
    killGroup(&idle, idleGroup);
    QTRY_VERIFY_WITH_TIMEOUT(ProcessGroupSampler::processesInGroup(busyGroup).isEmpty(), Timeout);
    usage = sampler.sample({busyGroup});
    QCOMPARE(usage.value(busyGroup).processes, 0);
    QCOMPARE(usage.value(busyGroup).rssBytes, 0);
    QVERIFY(usage.value(busyGroup).cpuPercent >= 0);
}

void TestProcessMetrics::grandchildIsCountedAndKilled()
{
    QProcess bot;
    const qint64 pgid = startBot(&bot, {QStringLiteral("--grandchild"), QStringLiteral("--forever")});
    QVERIFY(pgid > 0);
    QTRY_VERIFY_WITH_TIMEOUT(bot.canReadLine(), Timeout);
    const QByteArray line = bot.readLine().trimmed();
    QVERIFY2(line.startsWith("grandchild pid "), line.constData());
    const qint64 grandchild = line.mid(int(sizeof("grandchild pid ")) - 1).toLongLong();
    QVERIFY(grandchild > 0);

    QCOMPARE(ProcessGroupSampler::processesInGroup(pgid),
             (QList<qint64>{qMin(pgid, grandchild), qMax(pgid, grandchild)}));
    ProcessGroupSampler sampler;
    sampler.sample({pgid});
    QTest::qWait(200);
    const ProcessGroupUsage usage = sampler.sample({pgid}).value(pgid);
    QCOMPARE(usage.processes, 2);
    QVERIFY(usage.rssBytes > 0);
    QVERIFY(usage.cpuPercent >= 0);

    killGroup(&bot, pgid);
    // The grandchild is reaped by whoever adopts it, if anyone: a zombie does not count.
    QTRY_VERIFY_WITH_TIMEOUT(ProcessGroupSampler::processesInGroup(pgid).isEmpty(), Timeout);
    QCOMPARE(sampler.sample({pgid}).value(pgid).processes, 0);
}

void TestProcessMetrics::exitedProcessNeverMakesCpuNegative()
{
    // The bot burns CPU and exits; its grandchild stays, idle, in the group.
    QProcess bot;
    const qint64 pgid =
        startBot(&bot, {QStringLiteral("--grandchild"), QStringLiteral("--busy"), QStringLiteral("1500")});
    QVERIFY(pgid > 0);
    QTRY_VERIFY_WITH_TIMEOUT(bot.canReadLine(), Timeout);
    const qint64 grandchild = bot.readLine().trimmed().mid(int(sizeof("grandchild pid ")) - 1).toLongLong();
    QVERIFY(grandchild > 0);

    ProcessGroupSampler sampler;
    sampler.sample({pgid});
    bool exited = false;
    for (int round = 0; round < 100 && !exited; ++round) {
        QTest::qWait(100);
        exited = bot.state() == QProcess::NotRunning;
        const ProcessGroupUsage usage = sampler.sample({pgid}).value(pgid);
        QVERIFY2(usage.cpuPercent >= 0, qPrintable(QString::number(usage.cpuPercent)));
    }
    QTRY_COMPARE_WITH_TIMEOUT(bot.state(), QProcess::NotRunning, Timeout);
    QCOMPARE(bot.exitStatus(), QProcess::NormalExit);
    QTest::qWait(300);
    const ProcessGroupUsage usage = sampler.sample({pgid}).value(pgid);
    QCOMPARE(usage.processes, 1);
    QVERIFY(usage.rssBytes > 0);
    QVERIFY2(usage.cpuPercent >= 0 && usage.cpuPercent < 20, qPrintable(QString::number(usage.cpuPercent)));
    QCOMPARE(ProcessGroupSampler::processesInGroup(pgid), QList<qint64>{grandchild});

    killGroup(&bot, pgid);
    QTRY_VERIFY_WITH_TIMEOUT(ProcessGroupSampler::processesInGroup(pgid).isEmpty(), Timeout);
}

void TestProcessMetrics::commandNameWithParentheses()
{
    // /proc/<pid>/stat shows the first 15 bytes of the file name between parentheses;
    // this one looks like the fields that follow.
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString program = dir.filePath(QStringLiteral("b) R 1 (2) 3 4"));
    QVERIFY(QFile::copy(Testbot, program));
    QVERIFY(QFile::setPermissions(program, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner));

    QProcess bot;
    const qint64 pgid =
        startBot(&bot, {QStringLiteral("--pid"), QStringLiteral("--busy"), QStringLiteral("60000")}, program);
    QVERIFY(pgid > 0);
    QTRY_VERIFY_WITH_TIMEOUT(bot.canReadLine(), Timeout);
    QCOMPARE(bot.readLine().trimmed(),
             QByteArray("pid " + QByteArray::number(pgid) + " pgid " + QByteArray::number(pgid)));

    QCOMPARE(ProcessGroupSampler::processesInGroup(pgid), QList<qint64>{pgid});
    ProcessGroupSampler sampler;
    sampler.sample({pgid});
    double best = 0;
    ProcessGroupUsage usage;
    // A busy loop: on a loaded machine it may get a fraction of a core, but never none,
    // and never more than every core (fields read from the wrong place give either).
    const double ceiling = 100.0 * QThread::idealThreadCount() + 5;
    for (int attempt = 0; attempt < 20 && best <= 50; ++attempt) {
        QTest::qWait(500);
        usage = sampler.sample({pgid}).value(pgid);
        QVERIFY2(usage.cpuPercent <= ceiling, qPrintable(QString::number(usage.cpuPercent)));
        best = qMax(best, usage.cpuPercent);
    }
    QVERIFY2(best > 15, qPrintable(QString::number(best)));
    QCOMPARE(usage.processes, 1);
    QVERIFY(usage.rssBytes > 0);

    killGroup(&bot, pgid);
    QTRY_VERIFY_WITH_TIMEOUT(ProcessGroupSampler::processesInGroup(pgid).isEmpty(), Timeout);
}

QTEST_GUILESS_MAIN(TestProcessMetrics)
#include "tst_processmetrics.moc"
