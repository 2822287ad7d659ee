// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QObject>
#include <QThread>

/*
 * The engine, the links and the fleet share data without locks because each
 * object is only ever used on its own thread; a call from another thread is a
 * data race that may corrupt state long before anything shows. This check is
 * cheap (one thread-local read) and stays on in release builds, so such a call
 * stops the program at once, naming the entry point, instead of losing data.
 */
#define AGENTDECK_CHECK_THREAD(object)                                                                                 \
    do {                                                                                                               \
        if (Q_UNLIKELY((object)->thread() != QThread::currentThread()))                                                \
            qFatal("%s called on a thread other than its object's", Q_FUNC_INFO);                                     \
    } while (false)
