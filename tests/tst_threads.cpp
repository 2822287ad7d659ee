// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/protocol/threads.h"

#include <QProcess>
#include <QTest>
#include <QThread>
#include <atomic>
#include <memory>
#include <vector>

namespace {

/// An object whose one method may only run on its own thread.
class Guarded final : public QObject
{
public:
    void touch() { AGENTDECK_CHECK_THREAD(this); }
};

/// A worker thread with a mailbox on it.
struct Worker
{
    Worker()
    {
        mailbox->moveToThread(&thread);
        thread.start();
    }
    ~Worker()
    {
        thread.quit();
        thread.wait();
    }
    QThread thread;
    std::unique_ptr<Mailbox> mailbox = std::make_unique<Mailbox>();
};

} // namespace

class TestThreads final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void postRunsInOrderOnTheMailboxThread();
    void callWaitsForTheResult();
    void callRunsHereWhenTheThreadIsNotRunning();
    void wrongThreadStopsTheProgram();
};

void TestThreads::postRunsInOrderOnTheMailboxThread()
{
    Worker worker;
    std::vector<int> seen; // written there, read here after the last post ran
    std::atomic<int> onWorker{0};
    std::atomic<bool> done{false};
    for (int i = 0; i < 1000; ++i) {
        worker.mailbox->post([&, i] {
            seen.push_back(i);
            if (QThread::currentThread() == &worker.thread)
                ++onWorker;
            if (i == 999)
                done = true;
        });
    }
    QTRY_VERIFY(done.load());
    worker.mailbox->call([] {}); // orders what the worker wrote before this thread reads it
    QCOMPARE(int(seen.size()), 1000);
    for (int i = 0; i < 1000; ++i)
        QCOMPARE(seen[size_t(i)], i);
    QCOMPARE(onWorker.load(), 1000);
}

void TestThreads::callWaitsForTheResult()
{
    Worker worker;
    QThread* ranOn = nullptr;
    int value = 0;
    worker.mailbox->call([&] {
        QThread::msleep(50);
        ranOn = QThread::currentThread();
        value = 42;
    });
    QCOMPARE(value, 42);
    QCOMPARE(ranOn, &worker.thread);

    // A function too large to be held in place: the caller frees it on return.
    QString text = QStringLiteral("before");
    const QString a = QStringLiteral("a"), b = QStringLiteral("b"), c = QStringLiteral("c");
    worker.mailbox->call([&text, a, b, c] { text = a + b + c; });
    QCOMPARE(text, QStringLiteral("abc"));

    // Also after this thread and the mailbox's have started child processes
    // (under ThreadSanitizer, tests/support/tsanclone.cpp makes this hold).
    QProcess here;
    here.start(QStringLiteral("/bin/true"), {});
    QVERIFY(here.waitForFinished(30000));
    text.clear();
    worker.mailbox->call([&text, a, b, c] {
        QProcess there;
        there.start(QStringLiteral("/bin/true"), {});
        there.waitForFinished(30000);
        text = a + b + c;
    });
    QCOMPARE(text, QStringLiteral("abc"));
}

void TestThreads::callRunsHereWhenTheThreadIsNotRunning()
{
    QThread stopped;
    Mailbox mailbox;
    mailbox.moveToThread(&stopped);
    QThread* ranOn = nullptr;
    mailbox.call([&] { ranOn = QThread::currentThread(); });
    QCOMPARE(ranOn, QThread::currentThread());
}

void TestThreads::wrongThreadStopsTheProgram()
{
    if (qEnvironmentVariableIsSet("AGENTDECK_WRONG_THREAD")) {
        // The child: touch an object of this thread from another one.
        Guarded guarded;
        Worker worker;
        worker.mailbox->call([&guarded] { guarded.touch(); });
        QFAIL("the check did not stop the program");
    }
    // A checked call on the right thread passes, and so does one on an object
    // whose thread has ended.
    Guarded here;
    here.touch();
    {
        QThread ended;
        Guarded orphan;
        orphan.moveToThread(&ended);
        ended.start();
        ended.quit();
        QVERIFY(ended.wait(30000));
        orphan.touch();
    }

    QProcess child;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("AGENTDECK_WRONG_THREAD"), QStringLiteral("1"));
    // A sanitizer's report of the abort would only add noise, and QtTest's
    // stack dump attaches a debugger, which can take longer than the wait on a
    // loaded machine under ThreadSanitizer.
    env.insert(QStringLiteral("ASAN_OPTIONS"), QStringLiteral("handle_abort=0"));
    env.insert(QStringLiteral("QTEST_DISABLE_STACK_DUMP"), QStringLiteral("1"));
    env.insert(QStringLiteral("QTEST_DISABLE_CORE_DUMP"), QStringLiteral("1"));
    child.setProcessEnvironment(env);
    child.start(QCoreApplication::applicationFilePath(), {QStringLiteral("wrongThreadStopsTheProgram")});
    QVERIFY(child.waitForFinished(30000));
    const QByteArray output = child.readAllStandardError() + child.readAllStandardOutput();
    QVERIFY2(child.exitStatus() == QProcess::CrashExit || child.exitCode() != 0, output.constData());
    QVERIFY2(output.contains("Guarded::touch") && output.contains("called on a thread other than its object's"),
             output.constData());
}

QTEST_GUILESS_MAIN(TestThreads)
#include "tst_threads.moc"
