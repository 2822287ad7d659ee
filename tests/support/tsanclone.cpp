// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * Linked into the tests of ThreadSanitizer builds only.
 *
 * QProcess starts a child with clone(CLONE_VM | CLONE_VFORK): until it execs,
 * the child runs in its parent's memory, with the starting thread's
 * thread-local storage, where the sanitizer keeps that thread's state. The
 * child's calls through the sanitizer's interceptors leave that state changed,
 * and from then on the sanitizer misses the thread's synchronisation and
 * reports races that are not there. This clone() gives the child a copy of the
 * memory instead, as fork() does; nothing else changes for either process.
 */
#include <cstdarg>
#include <dlfcn.h>
#include <sched.h>
#include <sys/types.h>

int clone(int (*fn)(void*), void* stack, int flags, void* arg, ...) noexcept
{
    va_list rest;
    va_start(rest, arg);
    pid_t* parentTid = va_arg(rest, pid_t*); // also where CLONE_PIDFD puts the pidfd
    void* tls = va_arg(rest, void*);
    pid_t* childTid = va_arg(rest, pid_t*);
    va_end(rest);
    using Clone = int (*)(int (*)(void*), void*, int, void*, ...);
    static const auto next = reinterpret_cast<Clone>(dlsym(RTLD_NEXT, "clone"));
    if ((flags & CLONE_VM) && (flags & CLONE_VFORK))
        flags &= ~(CLONE_VM | CLONE_VFORK);
    return next(fn, stack, flags, arg, parentTid, tls, childTid);
}
