// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QElapsedTimer>
#include <QHash>
#include <QList>
#include <QtGlobal>

/// What one process group used, as measured by ProcessGroupSampler::sample().
struct ProcessGroupUsage
{
    qint64 pgid = 0;
    double cpuPercent = 0; // of one core, since the previous sample(); above 100 with several busy threads
    qint64 rssBytes = 0; // summed over the group's live processes
    int processes = 0; // live processes, zombies not counted
};

/*
 * Measures the CPU and memory of the process groups the host launched, from
 * /proc/<pid>/stat of every process, scanned once per sample().
 *
 * CPU is user + system time (children that were reaped are not included, as they
 * were counted while they lived). Between two calls a process counts with the time
 * it gained since the previous call, or with all its time when it started after
 * the previous call; a process that exited in between loses its last slice, so a
 * group's figure is never negative, and may be slightly low when processes come
 * and go quickly.
 */
class ProcessGroupSampler final
{
    Q_DISABLE_COPY_MOVE(ProcessGroupSampler)

public:
    ProcessGroupSampler();

    /// One entry per positive pgid asked for (all zero when the group has no live
    /// process). The first call reports 0 CPU; later calls measure since the one before.
    QHash<qint64, ProcessGroupUsage> sample(const QList<qint64>& pgids);

    /// The live pids (zombies excluded) whose process group is pgid, ascending.
    static QList<qint64> processesInGroup(qint64 pgid);

private:
    struct Seen
    {
        quint64 startTime = 0; // clock ticks after boot: tells a reused pid apart
        quint64 cpuTicks = 0;
    };

    QHash<qint64, Seen> m_seen; // every process of the previous scan, by pid
    QElapsedTimer m_clock;
    qint64 m_lastNs = 0;
    bool m_sampled = false;
};
