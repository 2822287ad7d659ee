// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/bridge/linemerger.h"

#include "server/protocol/protocol.h"

namespace {

quint64 lineHash(QByteArrayView line)
{
    // FNV-1a, 64 bits: the lines of one stream within a few seconds.
    quint64 h = 0xcbf29ce484222325ull;
    for (const char c : line) {
        h ^= quint8(c);
        h *= 0x100000001b3ull;
    }
    return h;
}

} // namespace

void LineMerger::Ahead::push(quint64 hash, qint64 since)
{
    order.push_back({hash, since});
    ++counts[hash];
    if (qsizetype(order.size()) > MaxWaiting)
        popFront();
}

void LineMerger::Ahead::popFront()
{
    const quint64 hash = order.front().hash;
    order.pop_front();
    auto count = counts.find(hash);
    if (--count.value() == 0)
        counts.erase(count);
}

void LineMerger::Ahead::clear()
{
    order.clear();
    counts.clear();
}

quint64 LineMerger::hashOf(QByteArrayView line)
{
    return lineHash(line);
}

bool LineMerger::take(Way way, QByteArrayView line)
{
    const quint64 hash = lineHash(line);
    Ahead& other = m_ahead[1 - way];
    if (other.counts.contains(hash)) {
        // The other way brought it; what it brought before this line, this way missed.
        while (other.order.front().hash != hash)
            other.popFront();
        other.popFront();
        return false;
    }
    if (way == Live)
        other.clear();
    m_ahead[way].push(hash, Protocol::nowMs());
    return true;
}

void LineMerger::forget(Way way)
{
    m_ahead[1 - way].clear();
}

std::vector<quint64> LineMerger::waitingHashes(Way way, qsizetype limit) const
{
    const std::deque<Held>& order = m_ahead[way].order;
    const size_t skip = order.size() > size_t(limit) ? order.size() - size_t(limit) : 0;
    std::vector<quint64> hashes;
    hashes.reserve(order.size() - skip);
    for (auto it = order.begin() + qsizetype(skip); it != order.end(); ++it)
        hashes.push_back(it->hash);
    return hashes;
}

void LineMerger::restoreWaiting(Way way, const std::vector<quint64>& hashes)
{
    const qint64 now = Protocol::nowMs();
    for (const quint64 hash : hashes)
        m_ahead[way].push(hash, now);
}

qint64 LineMerger::oldestWait(Way way, qint64 nowMs, qint64 broughtAfterMs) const
{
    for (const Held& held : m_ahead[way].order) {
        if (held.since > broughtAfterMs)
            return nowMs - held.since;
    }
    return 0;
}
