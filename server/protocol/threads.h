// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QMutex>
#include <QObject>
#include <QThread>
#include <deque>
#include <functional>

/*
 * The engine, the links and the fleet share data without locks because each
 * object is only ever used on its own thread; a call from another thread is a
 * data race that may corrupt state long before anything shows. The check is
 * cheap (one thread-local read) and stays on in release builds, so such a call
 * stops the program at once, naming the entry point, instead of losing data.
 * An object whose thread has ended may be used from any thread: nothing can
 * run beside it any more (tearing down after the engine has stopped).
 */
#define AGENTDECK_CHECK_THREAD(object)                                                                                 \
    do {                                                                                                               \
        if (Q_UNLIKELY((object)->thread() != QThread::currentThread()) && (object)->thread()->isRunning())             \
            qFatal("%s called on a thread other than its object's", Q_FUNC_INFO);                                      \
    } while (false)

/*
 * Hand-offs between threads that ThreadSanitizer cannot see by itself, because
 * they go through Qt's own queues and locks, which are not built with it: what
 * one thread wrote before AGENTDECK_HANDED_OVER(x) is visible to another after
 * AGENTDECK_TAKEN_OVER(x). Nothing in other builds.
 */
#if defined(__SANITIZE_THREAD__)
extern "C" void __tsan_acquire(void* address);
extern "C" void __tsan_release(void* address);
#define AGENTDECK_HANDED_OVER(address) __tsan_release(const_cast<void*>(static_cast<const void*>(address)))
#define AGENTDECK_TAKEN_OVER(address) __tsan_acquire(const_cast<void*>(static_cast<const void*>(address)))
#else
#define AGENTDECK_HANDED_OVER(address) static_cast<void>(address)
#define AGENTDECK_TAKEN_OVER(address) static_cast<void>(address)
#endif

/*
 * Runs functions on the thread the mailbox lives on, in the order they were
 * posted: how one thread asks another to act. It replaces posting lambdas with
 * QMetaObject::invokeMethod so that every hand-off goes through one lock the
 * sanitizers see, and so that a function posted after the receiving thread
 * ended is dropped instead of leaking or running nowhere.
 */
class Mailbox final : public QObject
{
    Q_OBJECT

public:
    using QObject::QObject;
    ~Mailbox() override;

    /// Runs f on this mailbox's thread, after what was posted before.
    void post(std::function<void()> f);
    /// Runs f on this mailbox's thread and returns when it has run: directly
    /// when called there or when that thread is not running.
    void call(const std::function<void()>& f);

private Q_SLOTS:
    void deliver();

private:
    QMutex m_mutex;
    std::deque<std::function<void()>> m_queue;
    bool m_scheduled = false;
};
