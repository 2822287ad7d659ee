// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/consolefiltermodel.h"

#include "models/consolemodel.h"
#include "server/protocol/threads.h"

#include <QPromise>
#include <QRegularExpression>
#include <QThread>
#include <QThreadPool>
#include <algorithm>
#include <atomic>
#include <cstring>

using Console::Kind;
using Console::Record;

bool ConsoleFilter::isEmpty() const
{
    return levels == 0 && streams == 0 && sources.isEmpty() && agents.isEmpty() && text.isEmpty();
}

bool ConsoleFilter::operator==(const ConsoleFilter& other) const
{
    return levels == other.levels && streams == other.streams && sources == other.sources && agents == other.agents
        && text == other.text && wholeWord == other.wholeWord && regex == other.regex && inverse == other.inverse
        && matchCase == other.matchCase && smartCase == other.smartCase;
}

namespace {

bool isWordByte(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

bool isWordChar(QChar c)
{
    return c.isLetterOrNumber() || c == QLatin1Char('_') || c.isMark();
}

unsigned char foldAscii(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/// An agent's stream, whose lines make records.
quint32 recordKey(const Record& r)
{
    return quint32(r.agent) << 8 | quint32(r.stream);
}

bool continues(const Record& r)
{
    return r.kind == Kind::Line && (r.flags & Console::Continues);
}

using Heads = QHash<quint32, qint64>;

/// The first line of the record a matching row is folded away under; -1 when it shows.
/// heads follows the rows given, in order. on: records fold (the filter has no text);
/// all and toggled: which records are folded.
qint64 foldedUnder(qint64 absolute, const Record& record, Heads* heads, qint64 firstIndex, bool on, bool all,
                   const QSet<qint64>& toggled)
{
    if (record.kind == Kind::Gap) {
        // Lines after a gap cannot be said to belong to a record before it.
        heads->remove(recordKey(record));
        heads->remove(recordKey(record) ^ 1);
        return -1;
    }
    if (record.kind != Kind::Line)
        return -1;
    if (!continues(record)) {
        heads->insert(recordKey(record), absolute);
        return -1;
    }
    const auto it = heads->constFind(recordKey(record));
    // A record whose first line left the console shows what is left of it.
    if (it == heads->constEnd() || *it < firstIndex || !on || all == toggled.contains(*it))
        return -1;
    return *it;
}

/// Rows looked at, at most, to find where a record ends (a record this long, or this
/// far from its first line among other agents' lines, ends there).
constexpr qint64 MaxRecordScan = 100000;

} // namespace

/*
 * A filter compiled for fast tests on records and UTF-8 text. Read-only once
 * built, so the parts of a background scan share one; each part brings its own
 * regular expression.
 */
class ConsoleMatcher
{
public:
    ConsoleMatcher(const ConsoleFilter& filter, const QStringList& sources, const QStringList& agents)
        : m_levels(filter.levels)
        , m_streams(filter.streams)
        , m_sourcePrefixes(filter.sources)
        , m_agentNames(filter.agents)
        , m_wholeWord(filter.wholeWord)
        , m_inverse(filter.inverse)
    {
        extendTables(sources, agents);
        const QString& text = filter.text;
        if (text.isEmpty())
            return;
        // Smart case: a capital letter in the search means case matters.
        const bool caseSensitive = filter.smartCase
            ? std::any_of(text.begin(), text.end(), [](QChar c) { return c.isUpper(); })
            : filter.matchCase;
        if (filter.regex) {
            m_mode = Mode::Regex;
            m_pattern = filter.wholeWord ? QStringLiteral("\\b(?:%1)\\b").arg(text) : text;
            m_options = QRegularExpression::UseUnicodePropertiesOption;
            if (!caseSensitive)
                m_options |= QRegularExpression::CaseInsensitiveOption;
            const QRegularExpression re(m_pattern, m_options);
            if (!re.isValid())
                m_error = re.errorString();
            m_prefilter = requiredLiteral(text);
            m_prefilterFolded = !caseSensitive;
            if (m_prefilterFolded) {
                for (char& c : m_prefilter)
                    c = char(foldAscii(uchar(c)));
            }
            return;
        }
        bool ascii = std::all_of(text.begin(), text.end(), [](QChar c) { return c.unicode() < 0x80; });
        m_needle = text.toUtf8();
        if (caseSensitive) {
            m_mode = Mode::Exact;
        } else if (ascii) {
            m_mode = Mode::AsciiFold;
            for (char& c : m_needle)
                c = char(foldAscii(uchar(c)));
        } else {
            m_mode = Mode::Unicode;
            m_unicodeNeedle = text;
        }
    }

    QString error() const { return m_error; }
    bool usesRegex() const { return m_mode == Mode::Regex; }
    QRegularExpression makeRegex() const { return QRegularExpression(m_pattern, m_options); }

    /// Names first seen after the matcher was built (on the thread that owns the console).
    void extendTables(const QStringList& sources, const QStringList& agents)
    {
        for (qsizetype i = qsizetype(m_sourceOk.size()); i < sources.size(); ++i) {
            const QString& name = sources[i];
            m_sourceOk.push_back(!name.isEmpty()
                                 && std::any_of(m_sourcePrefixes.begin(), m_sourcePrefixes.end(),
                                                [&](const QString& prefix) { return name.startsWith(prefix); }));
        }
        for (qsizetype i = qsizetype(m_agentOk.size()); i < agents.size(); ++i)
            m_agentOk.push_back(m_agentNames.contains(agents[i]));
    }
    size_t knownSources() const { return m_sourceOk.size(); }
    size_t knownAgents() const { return m_agentOk.size(); }

    bool matches(const Record& r, QByteArrayView text, const QRegularExpression* re) const
    {
        if (r.kind == Kind::Line) {
            if (m_levels && !(m_levels & (1u << unsigned(r.level))))
                return false;
            if (m_streams && !(m_streams & (1u << unsigned(r.stream))))
                return false;
            if (!m_sourcePrefixes.isEmpty() && !(r.source < m_sourceOk.size() && m_sourceOk[r.source]))
                return false;
        }
        if (!m_agentNames.isEmpty() && !(r.agent < m_agentOk.size() && m_agentOk[r.agent]))
            return false;
        if (m_mode == Mode::None)
            return true;
        return textMatches(text, re) != m_inverse;
    }

private:
    enum class Mode { None, Exact, AsciiFold, Unicode, Regex };

    bool wordAt(const char* h, qsizetype n, qsizetype pos, qsizetype length) const
    {
        if (!m_wholeWord)
            return true;
        const bool before = pos > 0 && isWordByte(uchar(h[pos - 1]));
        const bool after = pos + length < n && isWordByte(uchar(h[pos + length]));
        return !before && !after;
    }

    /// Whether h holds needle (folded: needle is lower case and ASCII case is ignored);
    /// with word, only as a whole word when the filter asks for that.
    bool find(const char* h, qsizetype n, const QByteArray& needle, bool folded, bool word) const
    {
        const qsizetype m = needle.size();
        const uchar lower = uchar(needle[0]);
        const uchar upper = folded && lower >= 'a' && lower <= 'z' ? uchar(lower - ('a' - 'A')) : lower;
        qsizetype from = 0;
        while (from + m <= n) {
            const size_t span = size_t(n - m + 1 - from);
            const char* a = static_cast<const char*>(std::memchr(h + from, lower, span));
            const char* b = upper != lower ? static_cast<const char*>(std::memchr(h + from, upper, span)) : nullptr;
            const char* hit = a && b ? std::min(a, b) : (a ? a : b);
            if (!hit)
                return false;
            const qsizetype pos = hit - h;
            qsizetype k = 1;
            if (folded) {
                while (k < m && foldAscii(uchar(h[pos + k])) == uchar(needle[k]))
                    ++k;
            } else {
                k = std::memcmp(h + pos + 1, needle.constData() + 1, size_t(m - 1)) == 0 ? m : 0;
            }
            if (k == m && (!word || wordAt(h, n, pos, m)))
                return true;
            from = pos + 1;
        }
        return false;
    }

    /// The literal text a pattern starts with that every match must contain, when
    /// that is plain to see (no alternatives, no optional last character); else empty.
    static QByteArray requiredLiteral(const QString& pattern)
    {
        if (pattern.contains(QLatin1Char('|')))
            return {};
        qsizetype i = pattern.startsWith(QLatin1Char('^')) ? 1 : 0;
        QByteArray literal;
        static const QByteArrayView plain = " =:-_/,;'\"<>@#%&!~`";
        for (; i < pattern.size(); ++i) {
            const char16_t c = pattern[i].unicode();
            const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                || (c < 0x80 && plain.contains(char(c)));
            if (!ok)
                break;
            literal += char(c);
        }
        if (i < pattern.size() && !literal.isEmpty()) {
            const QChar next = pattern[i];
            if (next == QLatin1Char('?') || next == QLatin1Char('*') || next == QLatin1Char('{'))
                literal.chop(1);
        }
        return literal.size() >= 2 ? literal : QByteArray();
    }

    bool textMatches(QByteArrayView text, const QRegularExpression* re) const
    {
        const char* h = text.data();
        const qsizetype n = text.size();
        switch (m_mode) {
        case Mode::None:
            return true;
        case Mode::Exact:
            return find(h, n, m_needle, false, true);
        case Mode::AsciiFold:
            return find(h, n, m_needle, true, true);
        case Mode::Unicode: {
            const QString s = QString::fromUtf8(text);
            qsizetype from = 0;
            while (true) {
                const qsizetype pos = s.indexOf(m_unicodeNeedle, from, Qt::CaseInsensitive);
                if (pos < 0)
                    return false;
                const qsizetype end = pos + m_unicodeNeedle.size();
                if (!m_wholeWord || ((pos == 0 || !isWordChar(s[pos - 1])) && (end >= s.size() || !isWordChar(s[end]))))
                    return true;
                from = pos + 1;
            }
        }
        case Mode::Regex: {
            // A literal every match must contain rules out most lines without the regex.
            if (!re || (!m_prefilter.isEmpty() && !find(h, n, m_prefilter, m_prefilterFolded, false)))
                return false;
            return re
                ->match(QString::fromUtf8(text), 0, QRegularExpression::NormalMatch,
                        QRegularExpression::DontCheckSubjectStringMatchOption)
                .hasMatch();
        }
        }
        return false;
    }

    quint32 m_levels;
    quint32 m_streams;
    QStringList m_sourcePrefixes;
    QStringList m_agentNames;
    bool m_wholeWord;
    bool m_inverse;
    std::vector<char> m_sourceOk;
    std::vector<char> m_agentOk;
    Mode m_mode = Mode::None;
    QByteArray m_needle;
    QString m_unicodeNeedle;
    QString m_pattern;
    QRegularExpression::PatternOptions m_options;
    QByteArray m_prefilter;
    bool m_prefilterFolded = false;
    QString m_error;
};

namespace {

/// One background filter run: parts of the snapshot on pool threads.
struct ScanWork
{
    std::vector<Console::Span> spans;
    std::shared_ptr<const ConsoleMatcher> matcher;
    std::vector<std::vector<qint64>> parts;
    // Which records fold, and each stream's newest record at the end (out).
    qint64 firstIndex = 0;
    bool foldOn = false;
    bool foldAll = false;
    QSet<qint64> toggled;
    Heads heads;
    std::atomic<int> remaining{0};
    std::atomic<bool> cancelled{false};
    QPromise<std::vector<qint64>> promise;

    void runPart(size_t part, size_t firstSpan, size_t endSpan)
    {
        const QRegularExpression re = matcher->usesRegex() ? matcher->makeRegex() : QRegularExpression();
        std::vector<qint64>& out = parts[part];
        for (size_t s = firstSpan; s < endSpan && !cancelled.load(std::memory_order_relaxed); ++s) {
            const Console::Span& span = spans[s];
            const Console::Block& block = *span.block;
            for (quint32 i = span.begin; i < span.end; ++i) {
                const Record& r = block.records[i];
                if (matcher->matches(r, block.text(r), &re))
                    out.push_back(span.firstIndex + (i - span.begin));
            }
        }
        if (remaining.fetch_sub(1) == 1) {
            std::vector<qint64> all;
            if (!cancelled.load()) {
                size_t total = 0;
                for (const auto& p : parts)
                    total += p.size();
                all.reserve(total);
                for (const auto& p : parts)
                    all.insert(all.end(), p.begin(), p.end());
                foldInOrder(&all);
            }
            AGENTDECK_HANDED_OVER(this);
            promise.addResult(std::move(all));
            promise.finish();
        }
    }

    /// The parts match rows each on their own; which fold away, and the newest records, take them in order.
    void foldInOrder(std::vector<qint64>* rows)
    {
        size_t s = 0;
        rows->erase(
            std::remove_if(rows->begin(), rows->end(),
                           [&](qint64 absolute) {
                               while (spans[s].firstIndex + (spans[s].end - spans[s].begin) <= absolute)
                                   ++s;
                               const Console::Span& span = spans[s];
                               const Record& r = span.block->records[span.begin + quint32(absolute - span.firstIndex)];
                               return foldedUnder(absolute, r, &heads, firstIndex, foldOn, foldAll, toggled) >= 0;
                           }),
            rows->end());
    }
};

/// One part of a scan, run on a pool thread.
class ScanPart final : public QRunnable
{
public:
    ScanPart(std::shared_ptr<ScanWork> work, size_t part, size_t firstSpan, size_t endSpan)
        : m_work(std::move(work))
        , m_part(part)
        , m_firstSpan(firstSpan)
        , m_endSpan(endSpan)
    { }

    void run() override
    {
        AGENTDECK_TAKEN_OVER(this);
        m_work->runPart(m_part, m_firstSpan, m_endSpan);
    }

private:
    const std::shared_ptr<ScanWork> m_work;
    const size_t m_part;
    const size_t m_firstSpan;
    const size_t m_endSpan;
};

} // namespace

struct ConsoleFilterModel::Scan
{
    std::shared_ptr<ScanWork> work;
    QFutureWatcher<std::vector<qint64>> watcher;
    std::unique_ptr<ConsoleMatcher> matcher; // the new filter's, for the rows after the snapshot
    qint64 end = 0; // the snapshot's end (absolute)
    qint64 validBelow = std::numeric_limits<qint64>::max(); // rows from here were replaced meanwhile
};

ConsoleFilterModel::ConsoleFilterModel(QObject* parent)
    : QAbstractProxyModel(parent)
{ }

ConsoleFilterModel::~ConsoleFilterModel()
{
    cancelScan();
}

void ConsoleFilterModel::setSourceModel(QAbstractItemModel* source)
{
    cancelScan();
    beginResetModel();
    for (const QMetaObject::Connection& c : std::as_const(m_sourceConnections))
        disconnect(c);
    m_sourceConnections.clear();
    m_console = qobject_cast<ConsoleModel*>(source);
    QAbstractProxyModel::setSourceModel(m_console);
    m_rows.clear();
    m_front = 0;
    m_heads.clear();
    m_toggled.clear();
    m_extents.clear();
    if (m_console) {
        m_matcher = std::make_unique<ConsoleMatcher>(m_filter, m_console->sources(), m_console->agents());
        m_rows = filterRange(m_console->firstIndex(), m_console->firstIndex() + m_console->rowCount(), &m_heads);
        m_sourceConnections = {
            connect(m_console, &QAbstractItemModel::rowsAboutToBeRemoved, this,
                    &ConsoleFilterModel::onRowsAboutToBeRemoved),
            connect(m_console, &QAbstractItemModel::rowsRemoved, this, &ConsoleFilterModel::onRowsRemoved),
            connect(m_console, &QAbstractItemModel::rowsInserted, this, &ConsoleFilterModel::onRowsInserted),
            connect(m_console, &QAbstractItemModel::dataChanged, this, &ConsoleFilterModel::onDataChanged),
            connect(m_console, &QAbstractItemModel::modelAboutToBeReset, this,
                    [this] {
                        cancelScan();
                        beginResetModel();
                    }),
            connect(m_console, &QAbstractItemModel::modelReset, this,
                    [this] {
                        m_heads.clear();
                        m_extents.clear();
                        m_rows = filterRange(m_console->firstIndex(), m_console->firstIndex() + m_console->rowCount(),
                                             &m_heads);
                        m_front = 0;
                        endResetModel();
                    }),
        };
    }
    endResetModel();
}

void ConsoleFilterModel::setFilter(const ConsoleFilter& filter)
{
    if (filter == m_filter && !m_scan && m_error.isEmpty()) {
        Q_EMIT filterApplied();
        return;
    }
    m_filter = filter;
    rebuild();
}

void ConsoleFilterModel::rebuild()
{
    cancelScan();
    if (!m_console)
        return;
    auto matcher = std::make_unique<ConsoleMatcher>(m_filter, m_console->sources(), m_console->agents());
    m_error = matcher->error();
    if (!m_error.isEmpty()) {
        // An unfinished pattern while typing: keep showing the last good result.
        Q_EMIT filterApplied();
        return;
    }
    if (m_console->rowCount() <= ForegroundRows) {
        beginResetModel();
        m_matcher = std::move(matcher);
        m_heads.clear();
        m_extents.clear();
        m_rows = filterRange(m_console->firstIndex(), m_console->firstIndex() + m_console->rowCount(), &m_heads);
        m_front = 0;
        endResetModel();
        Q_EMIT filterApplied();
        return;
    }

    m_scan = std::make_unique<Scan>();
    auto work = std::make_shared<ScanWork>();
    work->spans = m_console->snapshot();
    work->matcher = std::make_shared<const ConsoleMatcher>(*matcher);
    work->firstIndex = m_console->firstIndex();
    work->foldOn = m_filter.text.isEmpty();
    work->foldAll = m_foldAll;
    work->toggled = m_toggled;
    m_scan->matcher = std::move(matcher);
    m_scan->end = m_console->firstIndex() + m_console->rowCount();
    m_scan->work = work;

    // Split the spans into parts of about equal size, one per pool thread.
    const int threads = std::clamp(QThread::idealThreadCount(), 1, 8);
    qint64 total = 0;
    for (const Console::Span& span : work->spans)
        total += span.end - span.begin;
    std::vector<std::pair<size_t, size_t>> ranges;
    size_t start = 0;
    qint64 acc = 0;
    for (size_t s = 0; s < work->spans.size(); ++s) {
        acc += work->spans[s].end - work->spans[s].begin;
        if (acc * threads >= total * qint64(ranges.size() + 1) || s + 1 == work->spans.size()) {
            ranges.emplace_back(start, s + 1);
            start = s + 1;
        }
    }
    if (ranges.empty())
        ranges.emplace_back(0, 0);
    work->parts.resize(ranges.size());
    work->remaining = int(ranges.size());
    work->promise.start();
    m_scan->watcher.setFuture(work->promise.future());
    connect(&m_scan->watcher, &QFutureWatcherBase::finished, this, &ConsoleFilterModel::onScanFinished);
    for (size_t p = 0; p < ranges.size(); ++p) {
        const auto [first, end] = ranges[p];
        auto* part = new ScanPart(work, p, first, end);
        AGENTDECK_HANDED_OVER(part); // with the snapshot and everything else written so far
        QThreadPool::globalInstance()->start(part);
    }
    Q_EMIT filteringChanged(true);
}

void ConsoleFilterModel::cancelScan()
{
    if (!m_scan)
        return;
    m_scan->work->cancelled = true;
    disconnect(&m_scan->watcher, nullptr, this, nullptr);
    // The parts hold the work (and the blocks) until they end; nothing waits for them.
    m_scan.reset();
    Q_EMIT filteringChanged(false);
}

void ConsoleFilterModel::onScanFinished()
{
    std::unique_ptr<Scan> scan = std::move(m_scan);
    std::vector<qint64> rows =
        scan->watcher.future().resultCount() ? scan->watcher.future().takeResult() : std::vector<qint64>();
    // Rows evicted meanwhile go; rows replaced meanwhile, and rows that came after
    // the snapshot, are filtered here.
    const qint64 first = m_console->firstIndex();
    const qint64 end = first + m_console->rowCount();
    const qint64 redoFrom = std::max(first, std::min(scan->end, scan->validBelow));
    rows.erase(rows.begin(), std::lower_bound(rows.begin(), rows.end(), first));
    rows.erase(std::lower_bound(rows.begin(), rows.end(), redoFrom), rows.end());
    m_matcher = std::move(scan->matcher);
    AGENTDECK_TAKEN_OVER(scan->work.get());
    m_heads = std::move(scan->work->heads);
    m_extents.clear();
    reopenHeads(redoFrom, rows.data(), rows.data() + rows.size());
    const std::vector<qint64> tail = filterRange(redoFrom, end, &m_heads);
    rows.insert(rows.end(), tail.begin(), tail.end());

    beginResetModel();
    m_rows = std::move(rows);
    m_front = 0;
    endResetModel();
    Q_EMIT filteringChanged(false);
    Q_EMIT filterApplied();
}

bool ConsoleFilterModel::matchesRow(int sourceRow) const
{
    QByteArrayView text;
    const Record* r = m_console->record(sourceRow, &text);
    return r && m_matcher->matches(*r, text, nullptr);
}

std::vector<qint64> ConsoleFilterModel::filterRange(qint64 fromAbsolute, qint64 toAbsolute, Heads* heads,
                                                    QSet<qint64>* foldedInto) const
{
    std::vector<qint64> rows;
    if (!m_console || !m_matcher || toAbsolute <= fromAbsolute)
        return rows;
    m_matcher->extendTables(m_console->sources(), m_console->agents());
    const QRegularExpression re = m_matcher->usesRegex() ? m_matcher->makeRegex() : QRegularExpression();
    const qint64 first = m_console->firstIndex();
    for (qint64 a = fromAbsolute; a < toAbsolute; ++a) {
        QByteArrayView text;
        const Record* r = m_console->record(int(a - first), &text);
        if (!r || !m_matcher->matches(*r, text, &re))
            continue;
        const qint64 head = foldedUnder(a, *r, heads);
        if (head < 0)
            rows.push_back(a);
        else if (foldedInto)
            foldedInto->insert(head);
    }
    return rows;
}

qint64 ConsoleFilterModel::foldedUnder(qint64 absolute, const Record& record, Heads* heads) const
{
    return ::foldedUnder(absolute, record, heads, m_console->firstIndex(), folds(), m_foldAll, m_toggled);
}

std::vector<qint64> ConsoleFilterModel::recordRows(qint64 head, qint64 from, Extent* extent) const
{
    std::vector<qint64> rows;
    const qint64 first = m_console->firstIndex();
    const qint64 end = first + m_console->rowCount();
    const Record* start = head >= first ? m_console->record(int(head - first)) : nullptr;
    extent->scannedTo = end;
    if (!start || start->kind != Kind::Line || continues(*start)) {
        extent->complete = true;
        return rows;
    }
    const quint32 key = recordKey(*start);
    const QRegularExpression re = m_matcher->usesRegex() ? m_matcher->makeRegex() : QRegularExpression();
    const qint64 limit = std::min(end, head + 1 + MaxRecordScan);
    for (qint64 a = std::max(from, head + 1); a < limit; ++a) {
        QByteArrayView text;
        const Record* r = m_console->record(int(a - first), &text);
        if (!r || (r->kind == Kind::Line && recordKey(*r) != key) || r->kind == Kind::Mark)
            continue;
        if (r->kind == Kind::Gap && (recordKey(*r) | 1) != (key | 1))
            continue;
        if (!m_matcher->matches(*r, text, &re))
            continue;
        if (r->kind == Kind::Gap || !continues(*r)) {
            extent->scannedTo = a;
            extent->complete = true;
            return rows;
        }
        rows.push_back(a);
    }
    extent->complete = limit < end;
    extent->scannedTo = limit;
    return rows;
}

const ConsoleFilterModel::Extent& ConsoleFilterModel::extent(qint64 head) const
{
    if (m_extents.size() > 20000)
        m_extents.clear();
    Extent& known = m_extents[head];
    if (known.complete)
        return known;
    Extent more;
    const std::vector<qint64> rows = recordRows(head, known.scannedTo, &more);
    known.lines += int(rows.size());
    if (!rows.empty())
        known.last = rows.back();
    known.scannedTo = more.scannedTo;
    known.complete = more.complete;
    return known;
}

void ConsoleFilterModel::setFoldRecords(bool fold)
{
    if (fold == m_foldAll && m_toggled.isEmpty())
        return;
    m_foldAll = fold;
    m_toggled.clear();
    if (folds())
        rebuild();
}

bool ConsoleFilterModel::setRecordFolded(int row, bool folded)
{
    if (!m_console || row < 0 || row >= rowCount() || !folds())
        return false;
    const qint64 head = m_rows[m_front + size_t(row)];
    Extent unused;
    const std::vector<qint64> rows = recordRows(head, head + 1, &unused);
    if (rows.empty())
        return false;
    if (folded == isFolded(head))
        return true;
    if (folded == m_foldAll)
        m_toggled.remove(head);
    else
        m_toggled.insert(head);
    if (m_scan) {
        // The result on its way was worked out with the record as it was.
        rebuild();
        return true;
    }
    // The record's rows go or come back in runs of rows next to each other here, the
    // last run first, so that the runs before it keep their places.
    const auto begin = m_rows.begin() + qsizetype(m_front);
    struct Run
    {
        int at; // the first row's place here
        size_t from; // the run's rows in rows
        size_t to;
    };
    std::vector<Run> runs;
    for (size_t k = 0; k < rows.size(); ++k) {
        const auto it = std::lower_bound(begin, m_rows.end(), rows[k]);
        const bool shown = it != m_rows.end() && *it == rows[k];
        if (shown != folded)
            continue;
        const int at = int(it - begin);
        // Shown rows run on when they are next to each other; rows to put back, when
        // they go in the same place.
        if (!runs.empty() && runs.back().to == k && at == runs.back().at + (folded ? int(k - runs.back().from) : 0))
            runs.back().to = k + 1;
        else
            runs.push_back({at, k, k + 1});
    }
    for (auto run = runs.rbegin(); run != runs.rend(); ++run) {
        const int count = int(run->to - run->from);
        const auto at = m_rows.begin() + qsizetype(m_front) + run->at;
        if (folded) {
            beginRemoveRows(QModelIndex(), run->at, run->at + count - 1);
            m_rows.erase(at, at + count);
            endRemoveRows();
        } else {
            beginInsertRows(QModelIndex(), run->at, run->at + count - 1);
            m_rows.insert(at, rows.begin() + qsizetype(run->from), rows.begin() + qsizetype(run->to));
            endInsertRows();
        }
    }
    const QModelIndex first = index(row, 0);
    Q_EMIT dataChanged(first, first, {FoldRole, RecordLinesRole});
    return true;
}

QModelIndex ConsoleFilterModel::reveal(const QModelIndex& sourceIndex)
{
    const QModelIndex shown = mapFromSource(sourceIndex);
    if (shown.isValid() || !m_console || !sourceIndex.isValid())
        return shown;
    const qint64 absolute = m_console->firstIndex() + sourceIndex.row();
    const Record* r = m_console->record(sourceIndex.row());
    if (!r || !continues(*r))
        return {};
    // Its record's first line is the last line of its stream shown before it that continues nothing.
    const auto begin = m_rows.begin() + qsizetype(m_front);
    auto it = std::lower_bound(begin, m_rows.end(), absolute);
    for (int looked = 0; it != begin && looked < MaxRecordScan; ++looked) {
        --it;
        const Record* before = m_console->record(int(*it - m_console->firstIndex()));
        if (!before || before->kind != Kind::Line || recordKey(*before) != recordKey(*r) || continues(*before))
            continue;
        setRecordFolded(int(it - begin), false);
        break;
    }
    return mapFromSource(sourceIndex);
}

void ConsoleFilterModel::reopenHeads(qint64 below, const qint64* begin, const qint64* end)
{
    QSet<quint32> lost;
    for (auto it = m_heads.begin(); it != m_heads.end();) {
        if (*it >= below) {
            lost.insert(it.key());
            it = m_heads.erase(it);
        } else {
            ++it;
        }
    }
    if (!lost.isEmpty())
        findHeads(begin, std::lower_bound(begin, end, below), &lost);
}

void ConsoleFilterModel::findHeads(const qint64* begin, const qint64* end, QSet<quint32>* wanted)
{
    const qint64 first = m_console->firstIndex();
    for (qint64 looked = 0; end != begin && looked < MaxRecordScan && !(wanted && wanted->isEmpty()); ++looked) {
        --end;
        const Record* r = m_console->record(int(*end - first));
        if (!r || r->kind != Kind::Line || continues(*r))
            continue;
        const quint32 key = recordKey(*r);
        if (wanted ? wanted->remove(key) : !m_heads.contains(key))
            m_heads.insert(key, *end);
    }
}

void ConsoleFilterModel::announceRecords(const QSet<qint64>& heads)
{
    for (const qint64 head : heads) {
        const int row = proxyRowOf(head);
        if (row >= 0)
            Q_EMIT dataChanged(index(row, 0), index(row, 0), {RecordLinesRole, RecordEndRole});
    }
}

int ConsoleFilterModel::proxyRowOf(qint64 absolute) const
{
    const auto begin = m_rows.begin() + qsizetype(m_front);
    const auto it = std::lower_bound(begin, m_rows.end(), absolute);
    if (it == m_rows.end() || *it != absolute)
        return -1;
    return int(it - begin);
}

void ConsoleFilterModel::compact()
{
    if (m_front > 65536 && m_front * 2 > m_rows.size()) {
        m_rows.erase(m_rows.begin(), m_rows.begin() + qsizetype(m_front));
        m_front = 0;
    }
}

void ConsoleFilterModel::onRowsAboutToBeRemoved(const QModelIndex& parent, int first, int last)
{
    m_removing = 0;
    if (parent.isValid())
        return;
    const qint64 base = m_console->firstIndex();
    const auto begin = m_rows.begin() + qsizetype(m_front);
    if (first == 0) {
        // Evicted from the front (or every row taken out to be put back: a scan from
        // before cannot say which of the rows stored again match).
        m_removingFront = true;
        if (m_scan && last == m_console->rowCount() - 1)
            m_scan->validBelow = std::min(m_scan->validBelow, base + first);
        const auto cut = std::lower_bound(begin, m_rows.end(), base + last + 1);
        m_removing = size_t(cut - begin);
        if (m_removing)
            beginRemoveRows(QModelIndex(), 0, int(m_removing) - 1);
    } else {
        // The tail is taken out to be put back in another order (merged console).
        m_removingFront = false;
        if (m_scan)
            m_scan->validBelow = std::min(m_scan->validBelow, base + first);
        reopenHeads(base + first, m_rows.data() + m_front, m_rows.data() + m_rows.size());
        m_extents.clear();
        const auto cut = std::lower_bound(begin, m_rows.end(), base + first);
        m_removing = size_t(m_rows.end() - cut);
        if (m_removing)
            beginRemoveRows(QModelIndex(), int(cut - begin), rowCount() - 1);
    }
}

void ConsoleFilterModel::onRowsRemoved()
{
    if (!m_removing)
        return;
    if (m_removingFront) {
        m_front += m_removing;
        compact();
    } else {
        m_rows.resize(m_rows.size() - m_removing);
    }
    m_removing = 0;
    endRemoveRows();
}

void ConsoleFilterModel::onRowsInserted(const QModelIndex& parent, int first, int last)
{
    if (parent.isValid())
        return;
    const qint64 base = m_console->firstIndex();
    if (first == 0 && last + 1 < m_console->rowCount()) {
        // Older rows put before the first (history loaded from the host).
        if (m_scan) {
            cancelScan();
            rebuild();
            return;
        }
        // Their records are their own: a record's lines come in one page or the next.
        Heads heads;
        const std::vector<qint64> rows = filterRange(base, base + last + 1, &heads);
        if (rows.empty())
            return;
        m_rows.erase(m_rows.begin(), m_rows.begin() + qsizetype(m_front));
        m_front = 0;
        beginInsertRows(QModelIndex(), 0, int(rows.size()) - 1);
        m_rows.insert(m_rows.begin(), rows.begin(), rows.end());
        endInsertRows();
        return;
    }
    QSet<qint64> grown;
    const std::vector<qint64> rows = filterRange(base + first, base + last + 1, &m_heads, &grown);
    announceRecords(grown);
    if (rows.empty())
        return;
    const int at = rowCount();
    beginInsertRows(QModelIndex(), at, at + int(rows.size()) - 1);
    m_rows.insert(m_rows.end(), rows.begin(), rows.end());
    endInsertRows();
}

void ConsoleFilterModel::onDataChanged(const QModelIndex& topLeft, const QModelIndex& bottomRight,
                                       const QList<int>& roles)
{
    const qint64 base = m_console->firstIndex();
    for (int row = topLeft.row(); row <= bottomRight.row(); ++row) {
        const int proxyRow = proxyRowOf(base + row);
        if (proxyRow >= 0)
            Q_EMIT dataChanged(index(proxyRow, 0), index(proxyRow, 0), roles);
    }
}

QModelIndex ConsoleFilterModel::index(int row, int column, const QModelIndex& parent) const
{
    if (parent.isValid() || row < 0 || row >= rowCount() || column != 0)
        return {};
    return createIndex(row, column);
}

QModelIndex ConsoleFilterModel::parent(const QModelIndex&) const
{
    return {};
}

int ConsoleFilterModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size() - m_front);
}

int ConsoleFilterModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : 1;
}

QModelIndex ConsoleFilterModel::mapToSource(const QModelIndex& proxyIndex) const
{
    if (!m_console || !proxyIndex.isValid() || proxyIndex.row() >= rowCount())
        return {};
    const qint64 absolute = m_rows[m_front + size_t(proxyIndex.row())];
    return m_console->index(int(absolute - m_console->firstIndex()), 0);
}

QVariant ConsoleFilterModel::data(const QModelIndex& proxyIndex, int role) const
{
    if (role < FoldRole || !m_console)
        return QAbstractProxyModel::data(proxyIndex, role);
    if (!proxyIndex.isValid() || proxyIndex.row() >= rowCount())
        return {};
    const qint64 head = m_rows[m_front + size_t(proxyIndex.row())];
    // While a search shows lines on their own, no line stands for others.
    const Extent& record = folds() ? extent(head) : Extent();
    switch (role) {
    case FoldRole:
        return record.lines == 0 ? NoRecord : (isFolded(head) ? Folded : Open);
    case RecordLinesRole:
        return record.lines;
    case RecordEndRole:
        return record.last >= 0
            ? m_console->index(int(record.last - m_console->firstIndex()), 0).data(ConsoleModel::TextRole)
            : QVariant();
    case RecordRowsRole: {
        QModelIndexList rows;
        if (record.lines > 0) {
            Extent unused;
            for (const qint64 absolute : recordRows(head, head + 1, &unused))
                rows.append(m_console->index(int(absolute - m_console->firstIndex()), 0));
        }
        return QVariant::fromValue(rows);
    }
    default:
        return {};
    }
}

bool ConsoleFilterModel::setData(const QModelIndex& proxyIndex, const QVariant& value, int role)
{
    if (role != FoldRole)
        return QAbstractProxyModel::setData(proxyIndex, value, role);
    return proxyIndex.isValid() && setRecordFolded(proxyIndex.row(), value.toBool());
}

QModelIndex ConsoleFilterModel::mapFromSource(const QModelIndex& sourceIndex) const
{
    if (!m_console || !sourceIndex.isValid())
        return {};
    const int row = proxyRowOf(m_console->firstIndex() + sourceIndex.row());
    return row < 0 ? QModelIndex() : index(row, 0);
}
