// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/consolemodel.h"

#include "models/gapreason.h"

#include <QDateTime>
#include <algorithm>
#include <cstring>
#include <limits>

using Console::Block;
using Console::Kind;
using Console::Record;

namespace {

/// Text bytes of a new block; a longer line gets a block of its own size.
constexpr quint32 BlockBytes = 512 * 1024;
/// New rows and evictions are shown at most this often.
constexpr int FlushIntervalMs = 30;

} // namespace

Block::Block(quint32 textCapacity)
    : records(new Record[Records])
    , bytes(new char[textCapacity]) // not zeroed: only written bytes are ever read
    , capacity(textCapacity)
{ }

ConsoleModel::ConsoleModel(QObject* parent)
    : QAbstractListModel(parent)
{
    m_flushTimer.setSingleShot(true);
    m_flushTimer.setInterval(FlushIntervalMs);
    connect(&m_flushTimer, &QTimer::timeout, this, &ConsoleModel::flush);
}

ConsoleModel::~ConsoleModel() = default;

void ConsoleModel::setMerged(bool merged)
{
    m_merged = merged;
}

void ConsoleModel::setMaxLines(qint64 lines)
{
    m_maxLines = std::max<qint64>(1, lines);
    scheduleFlush();
}

void ConsoleModel::setMaxBytes(qint64 bytes)
{
    m_maxBytes = std::max<qint64>(1024, bytes);
    scheduleFlush();
}

QString ConsoleModel::gapText(qint64 from, qint64 to, const QString& reason)
{
    const qint64 count = to - from + 1;
    return count == 1 ? tr("1 line not received: %1").arg(describeGapReason(reason))
                      : tr("%1 lines not received: %2").arg(count).arg(describeGapReason(reason));
}

quint16 ConsoleModel::intern(QStringList& table, QHash<QString, quint16>& index, const QString& value)
{
    if (value.isEmpty())
        return 0;
    const auto it = index.constFind(value);
    if (it != index.constEnd())
        return *it;
    if (table.size() >= 0xffff)
        return 0; // more distinct names than anyone reads; the text still says it
    const quint16 id = quint16(table.size());
    table.append(value);
    index.insert(value, id);
    return id;
}

quint16 ConsoleModel::internSource(const QByteArray& source)
{
    if (source.isEmpty())
        return 0;
    // Looked up by bytes: most lines repeat a few sources, and this skips decoding them.
    const auto it = m_sourceBytesIndex.constFind(source);
    if (it != m_sourceBytesIndex.constEnd())
        return *it;
    const quint16 id = intern(m_sources, m_sourceIndex, QString::fromUtf8(source));
    m_sourceBytesIndex.insert(source, id);
    return id;
}

qint64 ConsoleModel::store(Record record, QByteArrayView text)
{
    Block* block = m_blocks.empty() ? nullptr : m_blocks.back().get();
    const quint32 length = quint32(std::min<qsizetype>(text.size(), std::numeric_limits<quint32>::max() / 2));
    if (!block || block->sealed || block->count == Block::Records || block->capacity - block->used < length) {
        if (block)
            block->sealed = true;
        m_blocks.push_back(std::make_shared<Block>(std::max(BlockBytes, length)));
        m_blockFirst.push_back(m_firstIndex + m_storedCount);
        if (m_blocks.size() == 1)
            m_frontSkip = 0;
        block = m_blocks.back().get();
    }
    if (length)
        std::memcpy(block->bytes.get() + block->used, text.data(), length);
    record.offset = block->used;
    record.length = length;
    block->records[block->count++] = record;
    block->used += length;
    m_textBytes += length;
    return m_firstIndex + m_storedCount++;
}

void ConsoleModel::appendLines(const QList<Link::ConsoleLine>& lines)
{
    if (m_merged) {
        appendLines(QString(), lines);
        return;
    }
    qint64& last = m_lastSeq[0];
    for (const Link::ConsoleLine& line : lines) {
        const int stream = line.stream == Protocol::Stream::Stderr ? 1 : 0;
        if (line.partial) {
            const QString text = QString::fromUtf8(line.text);
            if (text != m_partial[stream]) {
                m_partial[stream] = text;
                Q_EMIT partialChanged(line.stream);
            }
            continue;
        }
        if (line.seq > 0 && line.seq <= last)
            continue;
        last = std::max(last, line.seq);
        if (Q_UNLIKELY(!m_resendable.isEmpty()) && isResend(0, line.seq, line.text))
            continue;
        if (!m_partial[stream].isEmpty()) {
            m_partial[stream].clear();
            Q_EMIT partialChanged(line.stream);
        }
        Record record;
        record.seq = line.seq;
        record.ts = line.ts;
        record.level = line.level;
        record.stream = line.stream;
        record.source = internSource(line.source);
        record.flags = records(0, line.stream).next(line);
        store(record, line.text);
        ++m_appended;
    }
    scheduleFlush();
}

void ConsoleModel::appendLines(const QString& agent, const QList<Link::ConsoleLine>& lines)
{
    if (!m_merged) {
        appendLines(lines);
        return;
    }
    const quint16 agentId = intern(m_agents, m_agentIndex, agent);
    qint64& last = m_lastSeq[agentId];
    for (const Link::ConsoleLine& line : lines) {
        if (line.partial || (line.seq > 0 && line.seq <= last))
            continue;
        last = std::max(last, line.seq);
        if (Q_UNLIKELY(!m_resendable.isEmpty()) && isResend(agentId, line.seq, line.text))
            continue;
        Pending row = lineRow(line, agentId);
        row.record.flags = records(agentId, line.stream).next(line);
        m_mergeQueue.push_back(std::move(row));
        ++m_appended;
    }
    scheduleFlush();
}

void ConsoleModel::appendGap(qint64 from, qint64 to, const QString& reason)
{
    if (to < from)
        return;
    Record record;
    record.kind = Kind::Gap;
    record.seq = from;
    record.ts = QDateTime::currentMSecsSinceEpoch();
    record.level = LogLevel::Warning;
    const qint64 index = store(record, gapText(from, to, reason).toUtf8());
    m_gapEnds.insert(index, {to, reason});
    qint64& last = m_lastSeq[0];
    last = std::max(last, to);
    scheduleFlush();
}

void ConsoleModel::renumber(qint64 previous, qint64 hostLast, qint64 resumeAfter, const QString& agent)
{
    resumeAfter = std::min(resumeAfter, hostLast);
    const quint16 agentId = m_merged ? intern(m_agents, m_agentIndex, agent) : 0;
    Resendable& resendable = m_resendable[agentId];
    resendable.until = std::max(resendable.until, previous);
    const auto remember = [&](const Record& r, QByteArrayView text) {
        if (r.kind != Kind::Line || r.agent != agentId || r.seq <= 0)
            return true;
        if (r.seq <= resumeAfter)
            return false; // older lines are not sent again
        if (r.seq <= previous)
            resendable.textHashes.insert(r.seq, qHash(text));
        return true;
    };
    bool more = true;
    for (auto it = m_mergeQueue.rbegin(); more && it != m_mergeQueue.rend(); ++it)
        more = remember(it->record, it->text);
    for (qint64 absolute = m_firstIndex + m_storedCount - 1; more && absolute >= m_firstIndex; --absolute) {
        const Block* block = nullptr;
        const Record* r = locate(absolute, &block);
        more = remember(*r, block->text(*r));
    }
    if (resendable.textHashes.isEmpty())
        m_resendable.remove(agentId);
    m_lastSeq[agentId] = std::min(m_lastSeq.value(agentId), resumeAfter);

    if (m_merged)
        return;
    Record record;
    record.kind = Kind::Gap;
    record.seq = hostLast + 1;
    record.ts = QDateTime::currentMSecsSinceEpoch();
    record.level = LogLevel::Warning;
    const QString text = hostLast > 0
        ? tr("The host no longer has lines %1–%2 (it stopped before saving them, or its log files are gone). "
             "What it sends with these numbers follows, unless it repeats a line above.")
              .arg(hostLast + 1)
              .arg(previous)
        : tr("The host numbers this console anew: it has none of its %1 lines (restarted without its log files). "
             "What it sends follows, unless it repeats a line above.")
              .arg(previous);
    const qint64 index = store(record, text.toUtf8());
    m_gapEnds.insert(index, {previous, QStringLiteral("renumbered")});
    scheduleFlush();
}

bool ConsoleModel::isResend(quint16 agent, qint64 seq, QByteArrayView text)
{
    const auto it = m_resendable.find(agent);
    if (it == m_resendable.end())
        return false;
    if (seq > it->until) {
        m_resendable.erase(it);
        return false;
    }
    const auto held = it->textHashes.constFind(seq);
    const bool repeat = held != it->textHashes.cend() && *held == qHash(text);
    if (held != it->textHashes.cend())
        it->textHashes.erase(held);
    if (it->textHashes.isEmpty())
        m_resendable.erase(it);
    return repeat;
}

void ConsoleModel::appendMark(const QString& markId, const QString& text)
{
    Record record;
    record.kind = Kind::Mark;
    record.ts = QDateTime::currentMSecsSinceEpoch();
    record.level = LogLevel::Info;
    const qint64 index = store(record, text.toUtf8());
    m_markIds.insert(index, markId);
    m_marks.insert(markId, Mark{QString(), MarkPending, index});
    scheduleFlush();
}

void ConsoleModel::setMarkResult(const QString& markId, const QString& text, MarkState state)
{
    const auto it = m_marks.find(markId);
    if (it == m_marks.end())
        return;
    it->result = text;
    it->state = state;
    const qint64 row = it->index - m_firstIndex;
    if (row >= 0 && row < m_shown)
        Q_EMIT dataChanged(index(int(row)), index(int(row)), {MarkResultRole, MarkStateRole});
}

void ConsoleModel::resetSequence(const QString& agent)
{
    if (m_merged && !agent.isEmpty()) {
        m_lastSeq.remove(m_agentIndex.value(agent));
        m_resendable.remove(m_agentIndex.value(agent));
    } else {
        m_lastSeq.clear();
        m_resendable.clear();
    }
}

void ConsoleModel::clear()
{
    m_flushTimer.stop();
    beginResetModel();
    m_firstIndex += m_storedCount;
    m_blocks.clear();
    m_blockFirst.clear();
    m_frontSkip = 0;
    m_storedCount = 0;
    m_shown = 0;
    m_textBytes = 0;
    m_mergeQueue.clear();
    m_marks.clear();
    m_markIds.clear();
    m_gapEnds.clear();
    m_historyAllowance = 0;
    m_historyState = HistoryState::Idle;
    endResetModel();
    // Numbers seen stay seen: a cleared console does not show old lines again.
}

void ConsoleModel::scheduleFlush()
{
    if (!m_flushTimer.isActive())
        m_flushTimer.start();
}

QString ConsoleModel::partialText(Protocol::Stream stream) const
{
    return m_partial[stream == Protocol::Stream::Stderr ? 1 : 0];
}

const Record* ConsoleModel::locate(qint64 absolute, const Block** block) const
{
    if (absolute < m_firstIndex || absolute >= m_firstIndex + m_storedCount)
        return nullptr;
    const auto it = std::upper_bound(m_blockFirst.begin(), m_blockFirst.end(), absolute);
    const size_t i = size_t(it - m_blockFirst.begin()) - 1;
    const Block* b = m_blocks[i].get();
    if (block)
        *block = b;
    return &b->records[absolute - m_blockFirst[i]];
}

const Record* ConsoleModel::record(int row, QByteArrayView* text) const
{
    if (row < 0 || row >= m_shown)
        return nullptr;
    const Block* block = nullptr;
    const Record* r = locate(m_firstIndex + row, &block);
    if (r && text)
        *text = block->text(*r);
    return r;
}

qint64 ConsoleModel::countToFree(qint64 skip, qint64 bytes) const
{
    qint64 count = 0;
    qint64 freed = 0;
    qint64 absolute = m_firstIndex + skip;
    const qint64 end = m_firstIndex + m_storedCount;
    while (freed < bytes && absolute < end) {
        freed += locate(absolute)->length;
        ++absolute;
        ++count;
    }
    return count;
}

void ConsoleModel::evictFront(qint64 count)
{
    while (count > 0 && !m_blocks.empty()) {
        Block& block = *m_blocks.front();
        const qint64 take = std::min<qint64>(count, qint64(block.count) - m_frontSkip);
        for (quint32 i = m_frontSkip; i < m_frontSkip + take; ++i) {
            const Record& r = block.records[i];
            m_textBytes -= r.length;
            if (r.kind != Kind::Line) {
                const qint64 absolute = m_blockFirst.front() + i;
                m_gapEnds.remove(absolute);
                const QString mark = m_markIds.take(absolute);
                m_marks.remove(mark);
            }
        }
        m_frontSkip += quint32(take);
        m_firstIndex += take;
        m_storedCount -= take;
        count -= take;
        if (m_frontSkip == block.count && (block.sealed || block.count == Block::Records)) {
            m_blocks.pop_front();
            m_blockFirst.pop_front();
            // The next block may have lost rows before: it begins where the console does.
            m_frontSkip = m_blocks.empty() ? 0 : quint32(m_firstIndex - m_blockFirst.front());
        } else if (take == 0) {
            break;
        }
    }
}

void ConsoleModel::truncate(qint64 absolute, std::vector<Pending>* removed)
{
    // Keeps records before absolute; the rest are copied out. Blocks are never
    // written again where they were read: the cut block is sealed, later ones
    // dropped (a filter reading them holds its own reference).
    const qint64 end = m_firstIndex + m_storedCount;
    removed->reserve(removed->size() + size_t(end - absolute));
    for (qint64 i = absolute; i < end; ++i) {
        const Block* block = nullptr;
        const Record* r = locate(i, &block);
        // Rows known by their index (marks, gaps) are found again by it once stored again.
        removed->push_back({*r, block->text(*r).toByteArray(), m_markIds.take(i), m_gapEnds.take(i)});
        m_textBytes -= r->length;
    }
    while (!m_blocks.empty() && m_blockFirst.back() >= absolute && m_blocks.size() > 1) {
        m_blocks.pop_back();
        m_blockFirst.pop_back();
    }
    if (!m_blocks.empty()) {
        Block& last = *m_blocks.back();
        last.count = quint32(std::max<qint64>(absolute - m_blockFirst.back(), m_blocks.size() == 1 ? m_frontSkip : 0));
        last.sealed = true;
    }
    m_storedCount = absolute - m_firstIndex;
}

void ConsoleModel::mergeQueued()
{
    if (m_mergeQueue.empty())
        return;
    std::vector<Pending> queue = std::exchange(m_mergeQueue, {});
    std::stable_sort(queue.begin(), queue.end(),
                     [](const Pending& a, const Pending& b) { return a.record.ts < b.record.ts; });
    const Record* tail = m_storedCount ? locate(m_firstIndex + m_storedCount - 1) : nullptr;
    if (tail && queue.front().record.ts < tail->ts) {
        // Late lines (a clock behind, a host replaying after a reconnect): take out the
        // rows newer than the oldest of them and put everything back in time order.
        qint64 lo = m_firstIndex;
        qint64 hi = m_firstIndex + m_storedCount;
        const qint64 ts = queue.front().record.ts;
        while (lo < hi) {
            const qint64 mid = lo + (hi - lo) / 2;
            if (locate(mid)->ts <= ts)
                lo = mid + 1;
            else
                hi = mid;
        }
        Q_EMIT rowsTakenOut();
        m_putBackPending = true; // said once they are shown again (flush)
        m_putBackNew += int(queue.size());
        std::vector<Pending> removed = takeFrom(lo);
        std::vector<Pending> merged;
        merged.reserve(removed.size() + queue.size());
        std::merge(std::make_move_iterator(removed.begin()), std::make_move_iterator(removed.end()),
                   std::make_move_iterator(queue.begin()), std::make_move_iterator(queue.end()),
                   std::back_inserter(merged),
                   [](const Pending& a, const Pending& b) { return a.record.ts < b.record.ts; });
        queue = std::move(merged);
    }
    for (const Pending& pending : queue)
        restore(pending);
}

qint64 ConsoleModel::restore(const Pending& pending)
{
    const qint64 index = store(pending.record, pending.text);
    if (!pending.markId.isEmpty()) {
        m_markIds.insert(index, pending.markId);
        m_marks[pending.markId].index = index;
    }
    if (pending.record.kind == Kind::Gap)
        m_gapEnds.insert(index, pending.gap);
    return index;
}

qint64 ConsoleModel::firstLineSeq() const
{
    for (qint64 absolute = m_firstIndex; absolute < m_firstIndex + m_storedCount; ++absolute) {
        const Record* r = locate(absolute);
        if (r->kind == Kind::Line && r->seq > 0)
            return r->seq;
        if (r->kind == Kind::Gap && r->seq > 0)
            return r->seq; // the lines of a leading gap are older than the first line
    }
    return 0;
}

ConsoleModel::Pending ConsoleModel::lineRow(const Link::ConsoleLine& line, quint16 agent)
{
    Pending row;
    row.record.seq = line.seq;
    row.record.ts = line.ts;
    row.record.level = line.level;
    row.record.stream = line.stream;
    row.record.source = internSource(line.source);
    row.record.agent = agent;
    row.text = line.text;
    return row;
}

quint8 ConsoleModel::Records::next(const Link::ConsoleLine& line)
{
    // The host gave every line its level, continuation lines their record's: a line
    // continues only when it looks like a continuation and has the same level.
    levels.next(LogLevel::Unknown, line.level, line.text, line.ts);
    if (levels.lastContinued() && line.level == first)
        return Console::Continues;
    first = line.level;
    return 0;
}

ConsoleModel::Records& ConsoleModel::records(quint16 agent, Protocol::Stream stream)
{
    return m_records[quint32(agent) << 8 | quint32(stream)];
}

ConsoleModel::Pending ConsoleModel::gapRow(qint64 from, qint64 to, const QString& reason, qint64 ts)
{
    Pending gap;
    gap.record.kind = Kind::Gap;
    gap.record.seq = from;
    gap.record.ts = ts;
    gap.record.level = LogLevel::Warning;
    gap.text = gapText(from, to, reason).toUtf8();
    gap.gap = {to, reason};
    return gap;
}

std::vector<ConsoleModel::Pending> ConsoleModel::historyRows(const QList<Link::ConsoleLine>& lines,
                                                             const QList<Link::Gap>& gaps, qint64 from, qint64 to)
{
    std::vector<Pending> rows;
    int g = 0;
    qint64 next = from; // the first number not yet accounted for
    Records streams[2]; // the page's own: it comes before the lines held
    const auto addGapsBelow = [&](qint64 seq, qint64 ts) {
        for (; g < gaps.size() && gaps[g].from < seq; ++g) {
            const qint64 gapFrom = std::max(gaps[g].from, next);
            const qint64 gapTo = std::min({gaps[g].to, seq - 1, to});
            if (gapFrom <= gapTo) {
                rows.push_back(gapRow(gapFrom, gapTo, gaps[g].reason, ts));
                next = gapTo + 1;
            }
        }
    };
    for (const Link::ConsoleLine& line : lines) {
        if (line.seq < next || line.seq > to)
            continue;
        addGapsBelow(line.seq, line.ts);
        rows.push_back(lineRow(line, 0));
        rows.back().record.flags = streams[line.stream == Protocol::Stream::Stderr ? 1 : 0].next(line);
        next = line.seq + 1;
    }
    addGapsBelow(to < std::numeric_limits<qint64>::max() ? to + 1 : to, rows.empty() ? 0 : rows.back().record.ts);
    return rows;
}

void ConsoleModel::prependHistory(const QList<Link::ConsoleLine>& lines, const QList<Link::Gap>& gaps, bool more,
                                  qint64 requestedBefore)
{
    if (m_historyState != HistoryState::Loading && requestedBefore >= 0)
        return; // cleared (or answered) since it was asked for
    flush();
    const qint64 before = firstLineSeq();
    std::vector<Pending> page =
        historyRows(lines, gaps, 1, before > 0 ? before - 1 : std::numeric_limits<qint64>::max() - 1);
    // Lines that left the console while the request was on its way: a gap, to load again.
    if (requestedBefore > 0 && before > requestedBefore) {
        const qint64 ts = page.empty() ? 0 : page.back().record.ts;
        page.push_back(gapRow(requestedBefore, before - 1, QStringLiteral("evicted"), ts));
    }
    if (!more) {
        // The host has nothing older: numbers below the oldest it had are gone from its files.
        const qint64 oldest = page.empty() ? before : page.front().record.seq;
        if (oldest > 1 && !(page.empty() && before == 0)) {
            const qint64 ts = page.empty() ? 0 : page.front().record.ts;
            page.insert(page.begin(), gapRow(1, oldest - 1, QStringLiteral("rotated"), ts));
        }
    }
    m_historyError.clear();
    const qint64 room = 2 * m_maxLines - m_storedCount;
    if (room <= 0 && (!page.empty() || more)) {
        // Loaded, its oldest lines would be the first to go: the reader sees where the console ends.
        m_historyState = HistoryState::Failed;
        m_historyError = tr("this console holds at most %L1 lines; older ones stay in the host's log files "
                            "(Export… saves what it shows)")
                             .arg(2 * m_maxLines);
        Q_EMIT historyChanged(0);
        return;
    }
    if (qint64(page.size()) > room) {
        // What fits, next to the lines held; the rest can be loaded after.
        page.erase(page.begin(), page.end() - room);
        more = true;
    }
    m_historyState = more ? HistoryState::Idle : HistoryState::Complete;
    if (page.empty()) {
        Q_EMIT historyChanged(0);
        return;
    }
    const int count = int(page.size());
    beginInsertRows(QModelIndex(), 0, count - 1);
    if (m_frontSkip > 0) {
        // The first block lost rows before: it starts where the console does now, so that
        // blocks put in front of it keep the index ranges in order.
        const Block& old = *m_blocks.front();
        quint32 bytes = 0;
        for (quint32 i = m_frontSkip; i < old.count; ++i)
            bytes += old.records[i].length;
        auto copy = std::make_shared<Block>(std::max<quint32>(bytes, 1));
        for (quint32 i = m_frontSkip; i < old.count; ++i) {
            Record record = old.records[i];
            if (record.length)
                std::memcpy(copy->bytes.get() + copy->used, old.bytes.get() + record.offset, record.length);
            record.offset = copy->used;
            copy->used += record.length;
            copy->records[copy->count++] = record;
        }
        copy->sealed = true;
        m_blocks.front() = std::move(copy);
        m_blockFirst.front() = m_firstIndex;
        m_frontSkip = 0;
    }
    // New blocks in front, each filled from its start; the last rows of the page go in first.
    for (qsizetype end = count; end > 0;) {
        const qsizetype begin = std::max<qsizetype>(0, end - Block::Records);
        quint32 bytes = 0;
        for (qsizetype i = begin; i < end; ++i)
            bytes += quint32(page[size_t(i)].text.size());
        auto block = std::make_shared<Block>(std::max<quint32>(bytes, 1));
        const qint64 first = m_firstIndex - (end - begin);
        for (qsizetype i = begin; i < end; ++i) {
            Pending& row = page[size_t(i)];
            Record record = row.record;
            record.offset = block->used;
            record.length = quint32(row.text.size());
            if (record.length)
                std::memcpy(block->bytes.get() + block->used, row.text.constData(), record.length);
            block->used += record.length;
            block->records[block->count++] = record;
            m_textBytes += record.length;
            if (record.kind == Kind::Gap)
                m_gapEnds.insert(first + (i - begin), row.gap);
        }
        block->sealed = true;
        m_blocks.push_front(std::move(block));
        m_blockFirst.push_front(first);
        m_firstIndex = first;
        m_storedCount += end - begin;
        m_shown += int(end - begin);
        end = begin;
    }
    m_historyAllowance += count;
    endInsertRows();
    Q_EMIT historyChanged(count);
}

std::vector<ConsoleModel::Pending> ConsoleModel::takeFrom(qint64 absolute)
{
    std::vector<Pending> removed;
    const int firstRow = int(absolute - m_firstIndex);
    if (firstRow < m_shown) {
        beginRemoveRows(QModelIndex(), firstRow, m_shown - 1);
        truncate(absolute, &removed);
        m_shown = firstRow;
        endRemoveRows();
    } else {
        truncate(absolute, &removed);
    }
    return removed;
}

bool ConsoleModel::fillGap(qint64 gapIndex, const QList<Link::ConsoleLine>& lines, const QList<Link::Gap>& gaps)
{
    flush();
    const Record* r = locate(gapIndex);
    if (!r || r->kind != Kind::Gap || !m_gapEnds.contains(gapIndex))
        return false;
    const qint64 from = r->seq;
    const GapInfo gap = m_gapEnds.value(gapIndex);
    std::vector<Pending> page = historyRows(lines, gaps, from, gap.to);
    // The host answers with the newest lines below the gap's end: what it did not send
    // (older, or more than one reply holds) stays a gap, to be loaded again.
    const qint64 oldest = page.empty() ? gap.to + 1 : page.front().record.seq;
    if (oldest > from)
        page.insert(page.begin(), gapRow(from, oldest - 1, gap.reason, r->ts));
    Q_EMIT rowsTakenOut();
    std::vector<Pending> rest = takeFrom(gapIndex);
    rest.erase(rest.begin()); // the gap row itself
    for (const Pending& row : page)
        restore(row);
    for (const Pending& row : rest)
        restore(row);
    // Like older lines, these stay while the reader reads them.
    m_historyAllowance += qint64(page.size());
    m_putBackPending = true;
    flush();
    Q_EMIT historyChanged(int(page.size()));
    return true;
}

bool ConsoleModel::isLoadableGap(int row) const
{
    const Record* r = record(row);
    if (!r || r->kind != Kind::Gap)
        return false;
    const QString reason = m_gapEnds.value(m_firstIndex + row).reason;
    return reason == QLatin1String("evicted") || reason == QLatin1String("slow_consumer")
        || reason == QLatin1String(Link::GapReasonName::Missing);
}

void ConsoleModel::releaseHistory()
{
    if (m_historyState == HistoryState::Failed)
        m_historyState = HistoryState::Idle;
    if (m_historyAllowance == 0)
        return;
    m_historyAllowance = 0;
    // The oldest lines go: older ones can be loaded again, one page at a time.
    if (m_historyState == HistoryState::Complete)
        m_historyState = HistoryState::Idle;
    scheduleFlush();
}

void ConsoleModel::setHistoryLoading()
{
    m_historyState = HistoryState::Loading;
    m_historyError.clear();
    // Nothing leaves the top while the page is on its way.
    m_historyAllowance = std::max<qint64>(m_historyAllowance, 1);
    Q_EMIT historyChanged(0);
}

qint64 ConsoleModel::gapRowNumbered(qint64 from) const
{
    for (auto it = m_gapEnds.cbegin(); it != m_gapEnds.cend(); ++it) {
        const Record* r = locate(it.key());
        if (r && r->kind == Kind::Gap && r->seq == from)
            return it.key();
    }
    return -1;
}

void ConsoleModel::setHistoryFailed(const QString& reason)
{
    m_historyState = HistoryState::Failed;
    m_historyError = reason;
    Q_EMIT historyChanged(0);
}

void ConsoleModel::flush()
{
    m_flushTimer.stop();
    if (m_merged)
        mergeQueued();
    // History the reader loaded stays while they read it: the bound is twice as high then.
    const bool reading = m_historyAllowance > 0;
    qint64 evict = std::max<qint64>(0, m_storedCount - (reading ? 2 * m_maxLines : m_maxLines));
    const qint64 maxBytes = reading ? 2 * m_maxBytes : m_maxBytes;
    if (m_textBytes > maxBytes)
        evict += countToFree(evict, m_textBytes - maxBytes);
    if (evict > 0) {
        const int shownGone = int(std::min<qint64>(evict, m_shown));
        if (shownGone > 0) {
            beginRemoveRows(QModelIndex(), 0, shownGone - 1);
            evictFront(shownGone);
            m_shown -= shownGone;
            endRemoveRows();
        }
        // Queued rows that would only be inserted to be removed are never shown.
        evictFront(evict - shownGone);
    }
    const qint64 add = m_storedCount - m_shown;
    if (add > 0) {
        beginInsertRows(QModelIndex(), m_shown, int(m_shown + add - 1));
        m_shown = int(m_storedCount);
        endInsertRows();
    }
    if (std::exchange(m_putBackPending, false))
        Q_EMIT rowsPutBack(std::exchange(m_putBackNew, 0));
}

int ConsoleModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : m_shown;
}

QVariant ConsoleModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    QByteArrayView text;
    const Record* r = record(index.row(), &text);
    if (!r)
        return {};
    const qint64 absolute = m_firstIndex + index.row();
    switch (role) {
    case Qt::DisplayRole:
    case TextRole:
        return QString::fromUtf8(text);
    case TimeRole:
        return r->ts;
    case LevelRole:
        return int(r->level);
    case LevelNameRole:
        return QString::fromLatin1(logLevelName(r->level));
    case StreamRole:
        return int(r->stream);
    case SourceRole:
        return m_sources.value(r->source);
    case SeqRole:
        return r->seq;
    case KindRole:
        return int(r->kind);
    case AgentRole:
        return m_agents.value(r->agent);
    case GapFromRole:
        return r->kind == Kind::Gap ? QVariant(r->seq) : QVariant();
    case GapLoadableRole:
        return isLoadableGap(index.row());
    case GapToRole:
        return r->kind == Kind::Gap ? QVariant(m_gapEnds.value(absolute).to) : QVariant();
    case MarkIdRole:
        return r->kind == Kind::Mark ? QVariant(m_markIds.value(absolute)) : QVariant();
    case MarkResultRole:
        return r->kind == Kind::Mark ? QVariant(m_marks.value(m_markIds.value(absolute)).result) : QVariant();
    case MarkStateRole:
        return r->kind == Kind::Mark ? QVariant(int(m_marks.value(m_markIds.value(absolute)).state)) : QVariant();
    case ContinuesRole:
        return (r->flags & Console::Continues) != 0;
    default:
        return {};
    }
}

QHash<int, QByteArray> ConsoleModel::roleNames() const
{
    return {{Qt::DisplayRole, "display"}, {TimeRole, "time"},
            {LevelRole, "level"},         {LevelNameRole, "levelName"},
            {StreamRole, "stream"},       {SourceRole, "source"},
            {TextRole, "text"},           {SeqRole, "seq"},
            {KindRole, "kind"},           {AgentRole, "agent"},
            {GapFromRole, "gapFrom"},     {GapToRole, "gapTo"},
            {MarkIdRole, "markId"},       {MarkResultRole, "markResult"},
            {MarkStateRole, "markState"}, {GapLoadableRole, "gapLoadable"},
            {ContinuesRole, "continues"}};
}

std::vector<Console::Span> ConsoleModel::snapshot() const
{
    std::vector<Console::Span> spans;
    const qint64 end = m_firstIndex + m_shown;
    for (size_t i = 0; i < m_blocks.size(); ++i) {
        const qint64 blockFirst = m_blockFirst[i];
        const qint64 begin = std::max(blockFirst + (i == 0 ? m_frontSkip : 0), m_firstIndex);
        const qint64 stop = std::min(blockFirst + qint64(m_blocks[i]->count), end);
        if (stop > begin)
            spans.push_back({m_blocks[i], quint32(begin - blockFirst), quint32(stop - blockFirst), begin});
    }
    return spans;
}
