// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/engine/hostmetrics.h"

#include "server/protocol/json.h"

#include <QDateTime>
#include <QFile>
#include <QList>

namespace {

QByteArray readProcFile(const char* path)
{
    // /proc files report size 0, so read until the end rather than by size.
    QFile file(QString::fromLatin1(path));
    if (!file.open(QIODevice::ReadOnly | QIODevice::Unbuffered))
        return {};
    return file.readAll();
}

void readCpu(quint64* total, quint64* idle)
{
    const QByteArray stat = readProcFile("/proc/stat");
    const qsizetype end = stat.indexOf('\n');
    const QList<QByteArray> fields = stat.left(end).simplified().split(' ');
    *total = 0;
    *idle = 0;
    // cpu user nice system idle iowait irq softirq steal (guest time is already in user)
    for (qsizetype i = 1; i < fields.size() && i <= 8; ++i) {
        const quint64 v = fields[i].toULongLong();
        *total += v;
        if (i == 4 || i == 5)
            *idle += v;
    }
}

void readNet(quint64* rx, quint64* tx)
{
    *rx = 0;
    *tx = 0;
    const QList<QByteArray> lines = readProcFile("/proc/net/dev").split('\n');
    for (const QByteArray& line : lines) {
        const qsizetype colon = line.indexOf(':');
        if (colon < 0)
            continue;
        if (line.left(colon).trimmed() == "lo")
            continue;
        const QList<QByteArray> f = line.mid(colon + 1).simplified().split(' ');
        if (f.size() >= 9) {
            *rx += f[0].toULongLong();
            *tx += f[8].toULongLong();
        }
    }
}

qint64 memInfoValue(const QByteArray& meminfo, QByteArrayView key)
{
    const qsizetype at = meminfo.indexOf(key);
    if (at < 0)
        return 0;
    const qsizetype end = meminfo.indexOf('\n', at);
    const QByteArray value = meminfo.mid(at + key.size(), end - at - key.size()).simplified();
    return value.left(value.indexOf(' ')).toLongLong() * 1024;
}

} // namespace

QByteArray HostMetrics::valuesJson() const
{
    QByteArray out;
    Json::Writer w(&out);
    w.beginObject();
    w.key("cpu").number(qRound(cpuPercent * 10) / 10.0);
    w.key("mem_used_bytes").integer(memUsedBytes);
    w.key("mem_total_bytes").integer(memTotalBytes);
    w.key("load1").number(load1);
    w.key("net_rx_bps").number(qRound64(netRxBytesPerSecond));
    w.key("net_tx_bps").number(qRound64(netTxBytesPerSecond));
    w.endObject();
    return out;
}

HostMetricsSampler::HostMetricsSampler()
{
    readCpu(&m_cpuTotal, &m_cpuIdle);
    readNet(&m_rxBytes, &m_txBytes);
    m_lastMs = QDateTime::currentMSecsSinceEpoch();
}

HostMetrics HostMetricsSampler::sample()
{
    HostMetrics m;
    m.ts = QDateTime::currentMSecsSinceEpoch();

    quint64 total, idle;
    readCpu(&total, &idle);
    if (total > m_cpuTotal) {
        const double dt = double(total - m_cpuTotal);
        const double di = idle >= m_cpuIdle ? double(idle - m_cpuIdle) : 0;
        m.cpuPercent = qBound(0.0, 100.0 * (dt - di) / dt, 100.0);
    }
    m_cpuTotal = total;
    m_cpuIdle = idle;

    const QByteArray meminfo = readProcFile("/proc/meminfo");
    m.memTotalBytes = memInfoValue(meminfo, "MemTotal:");
    m.memUsedBytes = m.memTotalBytes - memInfoValue(meminfo, "MemAvailable:");

    const QByteArray loadavg = readProcFile("/proc/loadavg");
    m.load1 = loadavg.left(loadavg.indexOf(' ')).toDouble();

    quint64 rx, tx;
    readNet(&rx, &tx);
    const double seconds = double(m.ts - m_lastMs) / 1000.0;
    if (seconds > 0) {
        m.netRxBytesPerSecond = rx >= m_rxBytes ? double(rx - m_rxBytes) / seconds : 0;
        m.netTxBytesPerSecond = tx >= m_txBytes ? double(tx - m_txBytes) / seconds : 0;
    }
    m_rxBytes = rx;
    m_txBytes = tx;
    m_lastMs = m.ts;
    return m;
}
