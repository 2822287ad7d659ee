// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/engine/unixsignalwatcher.h"

#include <QSocketNotifier>
#include <csignal>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {
// Written from the signal handler, which may only call async-signal-safe functions.
int g_pipe[2] = {-1, -1};

void onSignal(int signum)
{
    const unsigned char byte = static_cast<unsigned char>(signum);
    [[maybe_unused]] const ssize_t n = ::write(g_pipe[1], &byte, 1);
}
} // namespace

UnixSignalWatcher::UnixSignalWatcher(QObject* parent)
    : QObject(parent)
{
    if (g_pipe[0] < 0 && ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, g_pipe) != 0)
        return;
    m_notifier = new QSocketNotifier(g_pipe[0], QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &UnixSignalWatcher::onReadable);
}

UnixSignalWatcher::~UnixSignalWatcher() = default;

bool UnixSignalWatcher::watch(int signum)
{
    if (!m_notifier)
        return false;
    struct sigaction action = {};
    action.sa_handler = onSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    return ::sigaction(signum, &action, nullptr) == 0;
}

void UnixSignalWatcher::onReadable()
{
    unsigned char byte;
    while (::read(g_pipe[0], &byte, 1) == 1)
        Q_EMIT signalReceived(int(byte));
}
