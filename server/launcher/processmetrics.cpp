// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/launcher/processmetrics.h"

#include <algorithm>
#include <cstring>

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

namespace {

/// The fields of /proc/<pid>/stat that the sampler uses.
struct ProcStat
{
    qint64 pid = 0;
    char state = '?';
    qint64 pgrp = 0;
    quint64 cpuTicks = 0; // utime + stime
    quint64 startTime = 0;
    qint64 rssPages = 0;
};

bool isZombie(char state)
{
    return state == 'Z' || state == 'X' || state == 'x';
}

/// Parses one number and moves `p` past it and the space that follows.
qint64 takeNumber(const char*& p, const char* end)
{
    bool negative = false;
    if (p < end && *p == '-') {
        negative = true;
        ++p;
    }
    qint64 v = 0;
    while (p < end && *p >= '0' && *p <= '9')
        v = v * 10 + (*p++ - '0');
    if (p < end && *p == ' ')
        ++p;
    return negative ? -v : v;
}

void skipField(const char*& p, const char* end)
{
    while (p < end && *p != ' ')
        ++p;
    if (p < end)
        ++p;
}

/// Reads <dir>/<name>/stat, where dir is an open /proc; false when the process is gone.
bool readStat(int procFd, const char* name, ProcStat* out)
{
    char path[64];
    const size_t nameLength = std::strlen(name);
    if (nameLength + sizeof("/stat") > sizeof(path))
        return false;
    std::memcpy(path, name, nameLength);
    std::memcpy(path + nameLength, "/stat", sizeof("/stat"));

    const int fd = ::openat(procFd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    char buffer[2048];
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    ::close(fd);
    if (n <= 0)
        return false;

    // Field 2, the command name, may hold spaces and parentheses: fields 3 and on
    // start after the last ')'.
    const char* end = buffer + n;
    const char* p = end;
    while (p > buffer && p[-1] != ')')
        --p;
    if (p == buffer || p + 2 > end)
        return false;
    ++p; // the space after ')'

    out->pid = 0;
    for (const char* c = name; *c; ++c)
        out->pid = out->pid * 10 + (*c - '0');
    out->state = *p;
    skipField(p, end); // 3 state
    skipField(p, end); // 4 ppid
    out->pgrp = takeNumber(p, end); // 5
    for (int field = 6; field < 14; ++field)
        skipField(p, end);
    const qint64 utime = takeNumber(p, end); // 14
    const qint64 stime = takeNumber(p, end); // 15
    for (int field = 16; field < 22; ++field)
        skipField(p, end);
    out->startTime = quint64(takeNumber(p, end)); // 22
    skipField(p, end); // 23 vsize
    if (p >= end)
        return false;
    out->rssPages = qMax<qint64>(0, takeNumber(p, end)); // 24
    out->cpuTicks = quint64(qMax<qint64>(0, utime)) + quint64(qMax<qint64>(0, stime));
    return true;
}

/// Calls f(const ProcStat&) for every process in /proc.
template <typename F>
void forEachProcess(F&& f)
{
    DIR* dir = ::opendir("/proc");
    if (!dir)
        return;
    const int procFd = ::dirfd(dir);
    while (const dirent* entry = ::readdir(dir)) {
        const char* name = entry->d_name;
        if (*name < '1' || *name > '9')
            continue;
        if (!std::all_of(name, name + std::strlen(name), [](char c) { return c >= '0' && c <= '9'; }))
            continue;
        ProcStat stat;
        if (readStat(procFd, name, &stat))
            f(stat);
    }
    ::closedir(dir);
}

} // namespace

ProcessGroupSampler::ProcessGroupSampler()
{
    m_clock.start();
}

QHash<qint64, ProcessGroupUsage> ProcessGroupSampler::sample(const QList<qint64>& pgids)
{
    static const qint64 pageSize = ::sysconf(_SC_PAGESIZE);
    static const double ticksPerSecond = double(::sysconf(_SC_CLK_TCK));

    QHash<qint64, ProcessGroupUsage> usage;
    for (const qint64 pgid : pgids) {
        if (pgid > 0)
            usage.insert(pgid, ProcessGroupUsage{pgid, 0, 0, 0});
    }
    QHash<qint64, quint64> ticks; // per pgid, gained since the previous call

    // Every process is remembered, not only the groups' ones: a process that moves
    // into a group, or a group asked for the first time, is then measured at once.
    QHash<qint64, Seen> seen;
    seen.reserve(m_seen.size() + 16);
    forEachProcess([&](const ProcStat& stat) {
        seen.insert(stat.pid, Seen{stat.startTime, stat.cpuTicks});
        const auto group = usage.find(stat.pgrp);
        if (group == usage.end())
            return;
        if (!isZombie(stat.state)) {
            ++group->processes;
            group->rssBytes += stat.rssPages * pageSize;
        }
        if (!m_sampled)
            return;
        const auto before = m_seen.constFind(stat.pid);
        if (before != m_seen.cend() && before->startTime == stat.startTime)
            ticks[stat.pgrp] += stat.cpuTicks >= before->cpuTicks ? stat.cpuTicks - before->cpuTicks : 0;
        else
            ticks[stat.pgrp] += stat.cpuTicks; // started since the previous call
    });

    const qint64 nowNs = m_clock.nsecsElapsed();
    const double seconds = double(nowNs - m_lastNs) / 1e9;
    if (m_sampled && seconds > 0) {
        for (auto it = ticks.cbegin(); it != ticks.cend(); ++it)
            usage[it.key()].cpuPercent = double(it.value()) / ticksPerSecond / seconds * 100.0;
    }
    m_seen = std::move(seen);
    m_lastNs = nowNs;
    m_sampled = true;
    return usage;
}

QList<qint64> ProcessGroupSampler::processesInGroup(qint64 pgid)
{
    QList<qint64> pids;
    if (pgid <= 0)
        return pids;
    forEachProcess([&](const ProcStat& stat) {
        if (stat.pgrp == pgid && !isZombie(stat.state))
            pids.append(stat.pid);
    });
    std::sort(pids.begin(), pids.end());
    return pids;
}
