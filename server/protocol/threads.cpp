// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/protocol/threads.h"

#include <atomic>
#include <condition_variable>
#include <mutex>

Mailbox::~Mailbox()
{
    // Deleted after its thread ended, by another: what the last delivery wrote
    // is ordered before this by the thread's end, which ThreadSanitizer cannot see
    // through QThread::wait.
    AGENTDECK_TAKEN_OVER(this);
}

void Mailbox::post(std::function<void()> f)
{
    // The mailbox may have been made on this thread and be delivered on another: its
    // mutex's first lock there must come after its construction for ThreadSanitizer,
    // which checks the mutex's memory before the lock orders anything.
    AGENTDECK_HANDED_OVER(this);
    bool schedule = false;
    {
        const QMutexLocker lock(&m_mutex);
        m_queue.push_back(std::move(f));
        schedule = !std::exchange(m_scheduled, true);
    }
    // By name: the call event is made inside Qt and carries nothing of ours.
    if (schedule)
        QMetaObject::invokeMethod(this, "deliver", Qt::QueuedConnection);
}

void Mailbox::call(const std::function<void()>& f)
{
    if (thread() == QThread::currentThread() || !thread()->isRunning()) {
        f();
        return;
    }
    std::mutex mutex;
    std::condition_variable ran;
    // Atomic although the mutex guards it: the waiting side's re-lock happens
    // inside the C++ library, where ThreadSanitizer does not see it, and this
    // release and acquire is what orders f's effects before the return.
    std::atomic<bool> done{false};
    post([&] {
        f();
        AGENTDECK_HANDED_OVER(&done);
        const std::lock_guard lock(mutex);
        done.store(true, std::memory_order_release);
        ran.notify_one();
    });
    std::unique_lock lock(mutex);
    ran.wait(lock, [&done] { return done.load(std::memory_order_acquire); });
    AGENTDECK_TAKEN_OVER(&done);
}

void Mailbox::deliver()
{
    AGENTDECK_TAKEN_OVER(this);
    std::deque<std::function<void()>> batch;
    {
        const QMutexLocker lock(&m_mutex);
        batch.swap(m_queue);
        m_scheduled = false;
    }
    for (const std::function<void()>& f : batch)
        f();
    AGENTDECK_HANDED_OVER(this);
}
