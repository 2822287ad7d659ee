// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QtGlobal>

/// One sample of the machine's load, as sent in `host_metrics`.
struct HostMetrics
{
    qint64 ts = 0;
    double cpuPercent = 0; // of the whole machine
    qint64 memUsedBytes = 0;
    qint64 memTotalBytes = 0;
    double load1 = 0;
    double netRxBytesPerSecond = 0; // all interfaces but loopback
    double netTxBytesPerSecond = 0;

    /// The `values` object of a host_metrics message.
    QByteArray valuesJson() const;
};

/// Reads /proc and turns counters into rates between two calls of sample().
class HostMetricsSampler final
{
public:
    HostMetricsSampler();
    HostMetrics sample();

private:
    quint64 m_cpuTotal = 0;
    quint64 m_cpuIdle = 0;
    quint64 m_rxBytes = 0;
    quint64 m_txBytes = 0;
    qint64 m_lastMs = 0;
};
