// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/store/logstore.h"

#include <algorithm>
#include <cstring>

namespace {
constexpr quint32 ChunkSize = 64 * 1024;
// Larger lines get a chunk of their own, so a chunk never wastes more than this.
constexpr quint32 LargeLine = 8 * 1024;
} // namespace

void GapList::add(qint64 from, qint64 to, Protocol::GapReason reason)
{
    if (!m_gaps.empty()) {
        SeqGap& last = m_gaps.back();
        if (last.to + 1 == from && (last.reason == reason || qsizetype(m_gaps.size()) >= m_limit)) {
            last.to = to;
            return;
        }
    }
    m_gaps.push_back({from, to, reason});
}

void GapList::dropBefore(qint64 seq)
{
    while (!m_gaps.empty() && m_gaps.front().to < seq)
        m_gaps.pop_front();
}

const SeqGap* GapList::firstEndingAtOrAfter(qint64 seq) const
{
    // Gaps do not overlap and come in order, so their ends rise.
    const auto it =
        std::lower_bound(m_gaps.begin(), m_gaps.end(), seq, [](const SeqGap& gap, qint64 s) { return gap.to < s; });
    return it == m_gaps.end() ? nullptr : &*it;
}

LogStore::LogStore() = default;
LogStore::~LogStore() = default;

void LogStore::setLimits(qint64 maxLines, qint64 maxBytes, qsizetype maxGaps)
{
    m_maxLines = std::max<qint64>(1, maxLines);
    m_maxBytes = std::max<qint64>(1, maxBytes);
    m_gaps.setLimit(maxGaps);
    evictWhileOverLimits();
}

void LogStore::evictWhileOverLimits()
{
    while (m_entries.size() > 1 && (qint64(m_entries.size()) > m_maxLines || m_bytes > m_maxBytes))
        evictOldest();
    // Gaps that cannot be joined (lines lie between them) count against retention:
    // the oldest goes with the lines before it.
    while (m_gaps.isOverLimit()) {
        const qint64 end = m_gaps.front().to;
        while (!m_entries.empty() && m_entries.front().seq < end)
            evictOldest();
        if (m_gaps.isOverLimit())
            m_gaps.popFront();
    }
}

qint64 LogStore::firstHeldSeq() const
{
    return m_gaps.firstHeld(m_entries.empty() ? m_lastSeq + 1 : m_entries.front().seq);
}

char* LogStore::reserve(quint32 size, quint32* chunk, quint32* offset)
{
    if (size > LargeLine) {
        Chunk big;
        big.data.reset(new char[size]);
        big.capacity = size;
        big.used = size;
        m_chunks.push_back(std::move(big));
        *chunk = m_firstChunk + quint32(m_chunks.size() - 1);
        *offset = 0;
        return m_chunks.back().data.get();
    }
    if (m_chunks.empty() || m_chunks.back().capacity - m_chunks.back().used < size
        || m_chunks.back().capacity != ChunkSize) {
        Chunk fresh;
        fresh.data.reset(new char[ChunkSize]);
        fresh.capacity = ChunkSize;
        m_chunks.push_back(std::move(fresh));
    }
    Chunk& current = m_chunks.back();
    *chunk = m_firstChunk + quint32(m_chunks.size() - 1);
    *offset = current.used;
    current.used += size;
    return current.data.get() + *offset;
}

void LogStore::append(qint64 seq, qint64 ts, Protocol::Stream stream, LogLevel level, QByteArrayView source,
                      QByteArrayView text)
{
    Q_ASSERT(seq > m_lastSeq);
    source.truncate(std::min<qsizetype>(source.size(), 0xffff));
    text.truncate(std::min<qsizetype>(text.size(), 0x7fffffff - 0xffff));
    const quint32 size = quint32(source.size() + text.size());
    Entry entry;
    entry.seq = seq;
    entry.ts = ts;
    entry.textSize = quint32(text.size());
    entry.sourceSize = quint16(source.size());
    entry.stream = stream;
    entry.level = level;
    char* dest = reserve(size, &entry.chunk, &entry.offset);
    if (!source.isEmpty())
        std::memcpy(dest, source.data(), size_t(source.size()));
    if (!text.isEmpty())
        std::memcpy(dest + source.size(), text.data(), size_t(text.size()));
    m_entries.push_back(entry);
    m_bytes += size + EntryOverhead;
    m_lastSeq = seq;
    evictWhileOverLimits();
}

void LogStore::addGap(qint64 from, qint64 to, Protocol::GapReason reason)
{
    Q_ASSERT(from > m_lastSeq && to >= from);
    m_gaps.add(from, to, reason);
    m_lastSeq = to;
    evictWhileOverLimits();
}

void LogStore::evictOldest()
{
    const Entry& oldest = m_entries.front();
    m_bytes -= oldest.sourceSize + oldest.textSize + EntryOverhead;
    const qint64 evictedSeq = oldest.seq;
    m_entries.pop_front();
    const quint32 nextChunk = m_entries.empty() ? m_firstChunk + quint32(m_chunks.size()) : m_entries.front().chunk;
    // Free the chunks that no remaining line uses, keeping the one being filled.
    while (m_firstChunk < nextChunk && m_chunks.size() > 1) {
        m_chunks.pop_front();
        ++m_firstChunk;
    }
    // A gap right after the evicted line is still known, so it stays.
    m_gaps.dropBefore(evictedSeq);
}

qsizetype LogStore::indexOfSeq(qint64 seq) const
{
    if (m_entries.empty() || seq <= m_entries.front().seq)
        return 0;
    // Without gaps the index follows from the number; otherwise search.
    const qint64 guess = seq - m_entries.front().seq;
    if (guess < qint64(m_entries.size()) && m_entries[size_t(guess)].seq == seq)
        return qsizetype(guess);
    auto it =
        std::lower_bound(m_entries.begin(), m_entries.end(), seq, [](const Entry& e, qint64 s) { return e.seq < s; });
    return qsizetype(it - m_entries.begin());
}

LogLine LogStore::lineAt(qsizetype index) const
{
    const Entry& e = m_entries[size_t(index)];
    const char* base = m_chunks[e.chunk - m_firstChunk].data.get() + e.offset;
    LogLine line;
    line.seq = e.seq;
    line.ts = e.ts;
    line.stream = e.stream;
    line.level = e.level;
    line.source = QByteArrayView(base, e.sourceSize);
    line.text = QByteArrayView(base + e.sourceSize, qsizetype(e.textSize));
    return line;
}
