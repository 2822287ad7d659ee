// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/protocol/loglevel.h"
#include "server/protocol/protocol.h"

#include <QByteArray>
#include <QByteArrayView>
#include <algorithm>
#include <deque>
#include <memory>

/// A range of sequence numbers that has no items, and why.
struct SeqGap
{
    qint64 from = 0;
    qint64 to = 0;
    Protocol::GapReason reason = Protocol::GapReason::Evicted;
};

/// The gaps recorded among a store's sequence numbers, oldest first.
class GapList final
{
public:
    /// Records [from, to]; joins it to the last gap when adjacent with the same reason,
    /// or with any reason once the list holds its limit.
    void add(qint64 from, qint64 to, Protocol::GapReason reason);
    /// Forgets the gaps that end before seq.
    void dropBefore(qint64 seq);
    /// The first gap that ends at or after seq, or nullptr (logarithmic).
    const SeqGap* firstEndingAtOrAfter(qint64 seq) const;
    /// How many gaps the list may hold before adjacent ones are joined whatever their
    /// reasons; a store holding more forgets its oldest numbers (isOverLimit()).
    void setLimit(qsizetype limit) { m_limit = std::max<qsizetype>(2, limit); }
    bool isOverLimit() const { return qsizetype(m_gaps.size()) > m_limit; }
    /// The oldest gap; only when the list is not empty.
    const SeqGap& front() const { return m_gaps.front(); }
    void popFront() { m_gaps.pop_front(); }
    qsizetype size() const { return qsizetype(m_gaps.size()); }
    /// The lowest number still known, given the number of the oldest item held.
    qint64 firstHeld(qint64 oldestItemSeq) const
    {
        return m_gaps.empty() ? oldestItemSeq : std::min(oldestItemSeq, m_gaps.front().from);
    }
    bool isEmpty() const { return m_gaps.empty(); }

private:
    std::deque<SeqGap> m_gaps;
    qsizetype m_limit = 10000;
};

/// One console line as held by a LogStore; the views stay valid until the line is evicted.
struct LogLine
{
    qint64 seq = 0;
    qint64 ts = 0;
    Protocol::Stream stream = Protocol::Stream::Stdout;
    LogLevel level = LogLevel::Info;
    QByteArrayView source;
    QByteArrayView text;
};

/*
 * The retained console lines of one agent: a ring bounded by line count and by
 * bytes, numbered by sequence.
 *
 * Text is packed into large chunks and each line costs a fixed 32-byte index entry
 * besides its bytes, so a retained line stays far below "its UTF-8 size plus 64
 * bytes" (docs/benchmarks.md), and eviction frees whole chunks.
 */
class LogStore final
{
public:
    LogStore();
    ~LogStore();
    Q_DISABLE_COPY_MOVE(LogStore)

    void setLimits(qint64 maxLines, qint64 maxBytes, qsizetype maxGaps = 10000);

    /// The highest sequence number used so far (by a line or a gap); 0 when none.
    qint64 lastSeq() const { return m_lastSeq; }
    /// The lowest sequence number still known (a line or a recorded gap); lastSeq() + 1 when nothing is.
    qint64 firstHeldSeq() const;

    /// Appends a line numbered seq, which must be above lastSeq(); numbers skipped
    /// in between must have been recorded with addGap() first.
    void append(qint64 seq, qint64 ts, Protocol::Stream stream, LogLevel level, QByteArrayView source,
                QByteArrayView text);
    /// Records that [from, to] will have no lines; from must be above lastSeq().
    void addGap(qint64 from, qint64 to, Protocol::GapReason reason);

    qsizetype lineCount() const { return qsizetype(m_entries.size()); }
    /// Bytes held: text and sources plus the index entries.
    qint64 byteSize() const { return m_bytes; }
    /// The index of the first line numbered seq or later; lineCount() when none.
    qsizetype indexOfSeq(qint64 seq) const;
    LogLine lineAt(qsizetype index) const;
    const GapList& gaps() const { return m_gaps; }

    /// Bytes each line costs besides its text and source.
    static constexpr qint64 EntryOverhead = 32;

private:
    struct Entry
    {
        qint64 seq;
        qint64 ts;
        quint32 chunk;
        quint32 offset;
        quint32 textSize;
        quint16 sourceSize;
        Protocol::Stream stream;
        LogLevel level;
    };
    static_assert(sizeof(Entry) == EntryOverhead);

    struct Chunk
    {
        std::unique_ptr<char[]> data;
        quint32 capacity = 0;
        quint32 used = 0;
    };

    char* reserve(quint32 size, quint32* chunk, quint32* offset);
    void evictOldest();
    void evictWhileOverLimits();

    std::deque<Entry> m_entries;
    std::deque<Chunk> m_chunks;
    quint32 m_firstChunk = 0; // absolute number of m_chunks.front()
    GapList m_gaps;
    qint64 m_lastSeq = 0;
    qint64 m_bytes = 0;
    qint64 m_maxLines = 100000;
    qint64 m_maxBytes = 256ll * 1024 * 1024;
};
