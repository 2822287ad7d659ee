// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/store/logfile.h"

#include "server/protocol/simd.h"

#include <QDateTime>
#include <QDir>
#include <QFileInfo>

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <limits>
#include <utility>

namespace {

constexpr qsizetype BufferSize = 256 * 1024;
constexpr qsizetype MinBufferSize = 4 * 1024;
// Room for everything of a record but its source and text, and for the fixed-size copies.
constexpr qsizetype FixedRecordSize = 128;
// A file search narrows down to this many bytes, then reads them in order.
constexpr qint64 SearchWindow = 8 * 1024;
constexpr qint64 RetryIntervalMs = 5000;
constexpr qint64 MinTimestamp = -62167219200000; // 0000-01-01T00:00:00.000Z
constexpr qint64 MaxTimestamp = 253402300799999; // 9999-12-31T23:59:59.999Z

struct DigitPairs
{
    char pairs[200];
    constexpr DigitPairs()
        : pairs()
    {
        for (int i = 0; i < 100; ++i) {
            pairs[2 * i] = char('0' + i / 10);
            pairs[2 * i + 1] = char('0' + i % 10);
        }
    }
};
constexpr DigitPairs Digits;

// "000Z" ... "999Z": the end of a time.
struct MillisTable
{
    char fields[1000][4];
    constexpr MillisTable()
        : fields()
    {
        for (int i = 0; i < 1000; ++i) {
            fields[i][0] = char('0' + i / 100);
            fields[i][1] = char('0' + i / 10 % 10);
            fields[i][2] = char('0' + i % 10);
            fields[i][3] = 'Z';
        }
    }
};
constexpr MillisTable MillisFields;

inline char* writeTwoDigits(char* out, unsigned value)
{
    std::memcpy(out, Digits.pairs + 2 * value, 2);
    return out + 2;
}

char* writeUnsigned(char* out, quint64 value)
{
    int digits = 1;
    for (quint64 v = value; v >= 10; v /= 10)
        ++digits;
    char* p = out + digits;
    while (value >= 100) {
        p -= 2;
        writeTwoDigits(p, unsigned(value % 100));
        value /= 100;
    }
    if (value >= 10)
        writeTwoDigits(p - 2, unsigned(value));
    else
        p[-1] = char('0' + value);
    return out + digits;
}

// The level column with its tab; copied 16 bytes at a time.
struct LevelField
{
    char text[16];
    int size;
};
constexpr LevelField LevelFields[] = {{"-\t", 2},       {"TRACE\t", 6}, {"DEBUG\t", 6},   {"INFO\t", 5},
                                      {"WARNING\t", 8}, {"ERROR\t", 6}, {"CRITICAL\t", 9}};
static_assert(std::size(LevelFields) == size_t(LogLevel::Critical) + 1);

constexpr Protocol::GapReason GapReasons[] = {Protocol::GapReason::Evicted, Protocol::GapReason::SlowConsumer,
                                              Protocol::GapReason::RateLimited, Protocol::GapReason::AgentDropped};

// True when a byte of v is below 14 (tab, newline, carriage return, and other control
// bytes that then take the slow path) or a backslash.
inline bool mayNeedEscape(quint64 v)
{
    constexpr quint64 ones = 0x0101010101010101ull;
    constexpr quint64 highs = 0x8080808080808080ull;
    const quint64 backslashes = v ^ (ones * '\\');
    return ((((v - ones * 14) & ~v) | ((backslashes - ones) & ~backslashes)) & highs) != 0;
}

inline char* writeEscapedByte(char* out, char c)
{
    char escaped;
    switch (c) {
    case '\\':
        escaped = '\\';
        break;
    case '\n':
        escaped = 'n';
        break;
    case '\r':
        escaped = 'r';
        break;
    case '\t':
        escaped = 't';
        break;
    default:
        *out = c;
        return out + 1;
    }
    out[0] = '\\';
    out[1] = escaped;
    return out + 2;
}

// Writes at most 2 * bytes.size() bytes.
char* writeEscaped(char* out, QByteArrayView bytes)
{
    const char* p = bytes.data();
    const char* const end = p + bytes.size();
#if AGENTDECK_SSE2
    const __m128i thirteen = _mm_set1_epi8(13);
    const __m128i backslash = _mm_set1_epi8('\\');
    for (; end - p >= 16; p += 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        const __m128i special =
            _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(v, thirteen), v), _mm_cmpeq_epi8(v, backslash));
        if (_mm_movemask_epi8(special) == 0) {
            _mm_storeu_si128(reinterpret_cast<__m128i*>(out), v);
            out += 16;
            continue;
        }
        for (int i = 0; i < 16; ++i)
            out = writeEscapedByte(out, p[i]);
    }
#endif
    for (; end - p >= 8; p += 8) {
        quint64 word;
        std::memcpy(&word, p, 8);
        if (!mayNeedEscape(word)) {
            std::memcpy(out, &word, 8);
            out += 8;
            continue;
        }
        for (int i = 0; i < 8; ++i)
            out = writeEscapedByte(out, p[i]);
    }
    for (; p < end; ++p)
        out = writeEscapedByte(out, *p);
    return out;
}

QByteArray unescape(QByteArrayView escaped)
{
    if (escaped.isEmpty())
        return {};
    if (!std::memchr(escaped.data(), '\\', size_t(escaped.size())))
        return escaped.toByteArray();
    QByteArray out(escaped.size(), Qt::Uninitialized);
    char* o = out.data();
    const char* p = escaped.data();
    const char* const end = p + escaped.size();
    while (p < end) {
        const char c = *p++;
        if (c != '\\' || p == end) {
            *o++ = c;
            continue;
        }
        switch (*p) {
        case '\\':
            *o++ = '\\';
            break;
        case 'n':
            *o++ = '\n';
            break;
        case 'r':
            *o++ = '\r';
            break;
        case 't':
            *o++ = '\t';
            break;
        default: // not written by LogFile: keep the backslash
            *o++ = c;
            continue;
        }
        ++p;
    }
    out.truncate(o - out.constData());
    return out;
}

// Howard Hinnant's civil_from_days: the proleptic Gregorian date of a day since 1970-01-01.
void civilFromDays(qint64 days, int* year, unsigned* month, unsigned* day)
{
    days += 719468;
    const qint64 era = (days >= 0 ? days : days - 146096) / 146097;
    const unsigned doe = unsigned(days - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *day = doy - (153 * mp + 2) / 5 + 1;
    *month = mp < 10 ? mp + 3 : mp - 9;
    *year = int(qint64(yoe) + era * 400 + (*month <= 2 ? 1 : 0));
}

// One parsed record; source and text are still escaped.
struct Record
{
    bool gap = false;
    qint64 seq = 0; // a line's number, or the first of a gap: the order of records
    qint64 to = 0; // the last number the record stands for
    qint64 ts = 0;
    Protocol::GapReason reason = Protocol::GapReason::Evicted;
    QByteArrayView tag; // stdout or stderr in a console file; the role in a forum file
    QByteArrayView field; // the level in a console file; the sender (escaped) in a forum file
    QByteArrayView source;
    QByteArrayView text;
};

// Reads 1 to 18 digits at *p.
bool readNumber(const char** p, const char* end, qint64* value)
{
    const char* q = *p;
    qint64 v = 0;
    while (q < end && q - *p < 18 && *q >= '0' && *q <= '9')
        v = v * 10 + (*q++ - '0');
    if (q == *p)
        return false;
    *p = q;
    *value = v;
    return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
qint64 daysFromCivil(qint64 year, unsigned month, unsigned day)
{
    year -= month <= 2;
    const qint64 era = (year >= 0 ? year : year - 399) / 400;
    const unsigned yoe = unsigned(year - era * 400);
    const unsigned doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + qint64(doe) - 719468;
}

// Reads exactly what writeTime() writes: "2026-11-22T08:52:40.123Z".
bool parseTime(const char* p, qint64* ts)
{
    if (p[4] != '-' || p[7] != '-' || p[10] != 'T' || p[13] != ':' || p[16] != ':' || p[19] != '.' || p[23] != 'Z')
        return false;
    unsigned invalid = 0;
    const auto digit = [&](int i) {
        const unsigned d = unsigned(quint8(p[i])) - unsigned('0');
        invalid |= unsigned(d > 9);
        return d;
    };
    const unsigned year = digit(0) * 1000 + digit(1) * 100 + digit(2) * 10 + digit(3);
    const unsigned month = digit(5) * 10 + digit(6);
    const unsigned day = digit(8) * 10 + digit(9);
    const unsigned hour = digit(11) * 10 + digit(12);
    const unsigned minute = digit(14) * 10 + digit(15);
    const unsigned second = digit(17) * 10 + digit(18);
    const unsigned millis = digit(20) * 100 + digit(21) * 10 + digit(22);
    if (invalid || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
        return false;
    const qint64 days = daysFromCivil(year, month, day);
    *ts = ((days * 24 + hour) * 60 + minute) * 60000 + second * 1000 + millis;
    return true;
}

LogLevel parseLevel(QByteArrayView name)
{
    for (size_t i = 0; i < std::size(LevelFields); ++i) {
        if (name.size() == LevelFields[i].size - 1
            && std::memcmp(name.data(), LevelFields[i].text, size_t(name.size())) == 0)
            return LogLevel(i);
    }
    return parseLogLevel(name);
}

// A record's third field: the stream in a console file, the role in a forum file.
bool isValidTag(LogFile::Kind kind, QByteArrayView tag)
{
    if (kind == LogFile::Kind::Console)
        return tag == "stdout" || tag == "stderr";
    return Protocol::isValidForumRole(tag);
}

// line is one line without its newline.
bool parseRecord(LogFile::Kind kind, QByteArrayView line, Record* record)
{
    const char* p = line.data();
    const char* const end = p + line.size();
    if (!readNumber(&p, end, &record->seq))
        return false;
    record->gap = p < end && *p == '-';
    record->to = record->seq;
    if (record->gap) {
        ++p;
        if (!readNumber(&p, end, &record->to) || record->to < record->seq)
            return false;
    }
    if (end - p < 26 || *p != '\t' || !parseTime(p + 1, &record->ts) || p[25] != '\t')
        return false;
    p += 26;
    if (record->gap) {
        if (end - p < 4 || std::memcmp(p, "gap\t", 4) != 0)
            return false;
        const QByteArrayView name(p + 4, end - p - 4);
        for (Protocol::GapReason reason : GapReasons) {
            if (Protocol::gapReasonName(reason) == name) {
                record->reason = reason;
                return true;
            }
        }
        return false;
    }
    const void* tagEnd = std::memchr(p, '\t', size_t(end - p));
    if (!tagEnd)
        return false;
    record->tag = QByteArrayView(p, static_cast<const char*>(tagEnd) - p);
    if (!isValidTag(kind, record->tag))
        return false;
    p = static_cast<const char*>(tagEnd) + 1;
    const void* fieldEnd = std::memchr(p, '\t', size_t(end - p));
    if (!fieldEnd)
        return false;
    record->field = QByteArrayView(p, static_cast<const char*>(fieldEnd) - p);
    p = static_cast<const char*>(fieldEnd) + 1;
    const void* sourceEnd = std::memchr(p, '\t', size_t(end - p));
    if (!sourceEnd)
        return false;
    record->source = QByteArrayView(p, static_cast<const char*>(sourceEnd) - p);
    p = static_cast<const char*>(sourceEnd) + 1;
    record->text = QByteArrayView(p, end - p);
    return record->text.isEmpty() || !std::memchr(p, '\t', size_t(end - p));
}

QString describeError(const QFile& file)
{
    return QStringLiteral("%1: %2").arg(QDir::toNativeSeparators(file.fileName()), file.errorString());
}

/*
 * Reads the complete lines of one file: forward from an offset, backward from an
 * offset, and a search by number. Lines are views into a buffer that the next read
 * reuses, so callbacks must copy what they keep.
 */
class FileReader
{
public:
    FileReader(const QString& path, LogFile::Kind kind)
        : m_file(path)
        , m_kind(kind)
    { }

    /// False when the file cannot be opened; *missing tells whether it does not exist.
    bool open(bool* missing)
    {
        if (!m_file.open(QIODevice::ReadOnly | QIODevice::Unbuffered)) {
            *missing = !m_file.exists();
            m_error = describeError(m_file);
            return false;
        }
        m_size = m_file.size();
        return true;
    }
    qint64 size() const { return m_size; }
    QString errorString() const { return m_error; }

    /// Calls fn(start, line) for each complete line that starts at or after `from` (a
    /// line that `from` falls inside does not count) and before `until`, in order,
    /// until fn returns true.
    template <typename Fn>
    bool forward(qint64 from, qint64 until, qint64 chunk, Fn fn)
    {
        // A line starts at `from` only if the byte before it ends a line.
        bool aligning = from > 0;
        qint64 pos = aligning ? from - 1 : 0;
        until = std::min(until, m_size);
        while (pos < until) {
            QByteArrayView data;
            if (!readAt(pos, chunk, &data))
                return false;
            const char* const begin = data.data();
            const char* const end = begin + data.size();
            const char* p = begin;
            if (aligning) {
                const void* newline = std::memchr(p, '\n', size_t(end - p));
                if (!newline) {
                    pos += data.size();
                    continue;
                }
                p = static_cast<const char*>(newline) + 1;
                aligning = false;
            }
            const char* consumed = p;
            while (p < end) {
                const void* newline = std::memchr(p, '\n', size_t(end - p));
                if (!newline)
                    break;
                if (pos + (p - begin) >= until)
                    return true;
                const char* lineEnd = static_cast<const char*>(newline);
                if (fn(pos + (p - begin), QByteArrayView(p, lineEnd - p)))
                    return true;
                p = lineEnd + 1;
                consumed = p;
            }
            if (consumed == begin) {
                if (pos + data.size() >= m_size)
                    return true; // a torn last line
                chunk *= 2; // a line longer than the chunk
                continue;
            }
            pos += consumed - begin;
        }
        return true;
    }

    /// Calls fn(start, line) for each complete line that ends before `end` (which is
    /// the size or the start of a line), newest first, until fn returns true.
    template <typename Fn>
    bool backward(qint64 end, qint64 chunk, Fn fn)
    {
        end = std::min(end, m_size);
        while (end > 0) {
            const qint64 start = std::max<qint64>(0, end - chunk);
            QByteArrayView data;
            if (!readAt(start, end - start, &data))
                return false;
            const qsizetype lastNewline = data.lastIndexOf('\n');
            if (lastNewline < 0) {
                end = start; // inside a torn last line
                continue;
            }
            data.truncate(lastNewline + 1);
            qsizetype first = 0;
            if (start > 0) {
                first = data.indexOf('\n') + 1;
                if (first == data.size()) {
                    // The only line here began before the chunk.
                    end = start + data.size();
                    chunk *= 2;
                    continue;
                }
            }
            m_starts.clear();
            for (qsizetype p = first; p < data.size(); p = data.indexOf('\n', p) + 1)
                m_starts.push_back(p);
            for (auto it = m_starts.rbegin(); it != m_starts.rend(); ++it) {
                const qsizetype lineEnd = it == m_starts.rbegin() ? data.size() - 1 : *(it - 1) - 1;
                if (fn(start + *it, data.sliced(*it, lineEnd - *it)))
                    return true;
            }
            end = start + first;
        }
        return true;
    }

    /// The newest valid record; false when there is none (or on a read error).
    bool newest(Record* record, qint64* start)
    {
        bool found = false;
        backward(m_size, 4096, [&](qint64 at, QByteArrayView line) {
            found = parseRecord(m_kind, line, record);
            *start = at;
            return found;
        });
        return found;
    }

    /// The offset of the first valid record numbered `bound` or above, else the end of
    /// the last complete line; -1 on a read error. Records are ordered by number, so
    /// this is a binary search over byte offsets.
    qint64 lowerBound(qint64 bound)
    {
        Record record;
        qint64 hi = 0;
        if (!newest(&record, &hi))
            return m_error.isEmpty() ? m_size : -1;
        if (record.seq < bound)
            return m_size;
        // The file may lie wholly above bound, as newer files do for older requests.
        qint64 first = -1;
        const bool gotFirst = forward(0, hi, 4096, [&](qint64 at, QByteArrayView line) {
            if (!parseRecord(m_kind, line, &record))
                return false;
            first = at;
            return true;
        });
        if (!gotFirst)
            return -1;
        if (first >= 0 && record.seq >= bound)
            return first;
        // Invariant: valid records starting before lo are below bound, those from hi on are not.
        qint64 lo = 0;
        while (hi - lo > SearchWindow) {
            const qint64 mid = lo + (hi - lo) / 2;
            qint64 found = -1;
            const bool ok = forward(mid, hi, 4096, [&](qint64 at, QByteArrayView line) {
                if (!parseRecord(m_kind, line, &record))
                    return false;
                found = at;
                return true;
            });
            if (!ok)
                return -1;
            if (found >= 0 && record.seq < bound)
                lo = found;
            else
                hi = mid;
        }
        qint64 result = lo;
        const bool ok = forward(lo, hi, SearchWindow + 1024, [&](qint64 at, QByteArrayView line) {
            if (parseRecord(m_kind, line, &record) && record.seq >= bound) {
                result = at;
                return true;
            }
            result = at + line.size() + 1;
            return false;
        });
        return ok ? result : -1;
    }

    /// The size without a torn last line.
    qint64 completeSize()
    {
        qint64 end = m_size;
        while (end > 0) {
            const qint64 start = std::max<qint64>(0, end - 64 * 1024);
            QByteArrayView data;
            if (!readAt(start, end - start, &data))
                return m_size;
            const qsizetype newline = data.lastIndexOf('\n');
            if (newline >= 0)
                return start + newline + 1;
            end = start;
        }
        return 0;
    }

private:
    bool readAt(qint64 offset, qint64 length, QByteArrayView* data)
    {
        length = std::min(length, m_size - offset);
        m_buffer.resize(qsizetype(length));
        const qint64 got = m_file.seek(offset) ? m_file.read(m_buffer.data(), length) : -1;
        if (got != length) {
            m_error = describeError(m_file);
            return false;
        }
        *data = m_buffer;
        return true;
    }

    QFile m_file;
    LogFile::Kind m_kind;
    qint64 m_size = 0;
    QByteArray m_buffer;
    std::vector<qsizetype> m_starts;
    QString m_error;
};

// Gathers the answer of readBefore() newest first.
class Collector
{
public:
    Collector(LogFile::Kind kind, qint64 bound, int limit, std::vector<StoredLine>* lines, std::vector<SeqGap>* gaps)
        : m_kind(kind)
        , m_bound(bound)
        , m_limit(size_t(limit))
        , m_lines(lines)
        , m_gaps(gaps)
    { }

    bool done() const { return m_more; }

    /// Takes one line of a file; true when enough lines are known.
    bool add(QByteArrayView line)
    {
        Record r;
        if (!parseRecord(m_kind, line, &r) || r.seq >= m_bound)
            return false;
        if (r.gap) {
            const qint64 to = std::min(r.to, m_bound - 1);
            if (!m_gaps->empty() && m_gaps->back().from == to + 1 && m_gaps->back().reason == r.reason)
                m_gaps->back().from = r.seq;
            else
                m_gaps->push_back({r.seq, to, r.reason});
            return false;
        }
        StoredLine stored;
        if (m_kind == LogFile::Kind::Console) {
            stored.stream = r.tag == "stderr" ? Protocol::Stream::Stderr : Protocol::Stream::Stdout;
            stored.level = parseLevel(r.field);
        } else {
            stored.role = r.tag.toByteArray();
            stored.sender = unescape(r.field);
        }
        if (m_lines->size() == m_limit || m_bytes >= LogFile::MaxReadBytes) {
            m_more = true;
            return true;
        }
        // Lines near each other mostly share their source: share its bytes as well.
        if (r.source != m_rawSource) {
            m_rawSource = r.source.toByteArray();
            m_source = unescape(r.source);
        }
        stored.seq = r.seq;
        stored.ts = r.ts;
        stored.source = m_source;
        stored.text = unescape(r.text);
        m_bytes += stored.text.size();
        m_lines->push_back(std::move(stored));
        return false;
    }

    /// Puts both lists oldest first; *more says whether a line older than them exists.
    void finish(bool* more)
    {
        if (m_more) {
            // Gaps below the oldest line returned belong to the next page.
            while (!m_gaps->empty() && (m_lines->empty() || m_gaps->back().from < m_lines->back().seq))
                m_gaps->pop_back();
        }
        std::reverse(m_lines->begin(), m_lines->end());
        std::reverse(m_gaps->begin(), m_gaps->end());
        *more = m_more;
    }

private:
    LogFile::Kind m_kind;
    qint64 m_bound;
    size_t m_limit;
    std::vector<StoredLine>* m_lines;
    std::vector<SeqGap>* m_gaps;
    QByteArray m_rawSource; // the source of the last line as written
    QByteArray m_source; // and unescaped
    qint64 m_bytes = 0;
    bool m_more = false;
};

} // namespace

LogFile::LogFile(const QString& path, qint64 maxBytes, int backups, Kind kind)
    : m_kind(kind)
    // Cleaned as the folders are made: "state/../logs" must not need "state" to exist.
    , m_path(QDir::cleanPath(path))
    , m_maxBytes(std::max<qint64>(1, maxBytes))
    , m_backups(std::max(0, backups))
    , m_file(m_path)
    , m_timePrefix()
    , m_seqText()
{
    setTimePrefix(MinTimestamp / 1000);
}

LogFile::~LogFile()
{
    flush();
    closeFile();
}

QString LogFile::pathFor(const QString& dir, QByteArrayView agentId, Kind kind)
{
    if (!Protocol::isValidAgentId(agentId))
        return {};
    return QDir(dir).filePath(QString::fromLatin1(agentId)
                              + (kind == Kind::Console ? QStringLiteral(".log") : QStringLiteral(".forum")));
}

QString LogFile::filePath(int index) const
{
    if (index == 0)
        return m_path;
    return m_path + QLatin1Char('.') + QString::number(index);
}

bool LogFile::open(QString* error)
{
    flush();
    m_opened = true;
    m_error.clear();
    const bool ok = openCurrent(false);
    for (int i = 0; i <= m_backups; ++i) {
        FileReader reader(filePath(i), m_kind);
        bool missing = false;
        Record newest;
        qint64 start = 0;
        if (reader.open(&missing) && reader.newest(&newest, &start)) {
            if (newest.to >= m_lastSeq) {
                m_lastSeq = newest.to;
                m_lastTs = newest.ts;
            }
            break;
        }
    }
    if (!ok && error)
        *error = m_error;
    return ok;
}

bool LogFile::makeDirectory(const QString& dir, int fileMode)
{
    const QFileInfo info(QDir::cleanPath(dir));
    if (info.isDir())
        return true;
    const QString parent = info.absolutePath();
    if (parent != info.absoluteFilePath() && !makeDirectory(parent, fileMode))
        return false;
    const mode_t mode = mode_t(fileMode | ((fileMode & 0444) >> 2) | 0700);
    return ::mkdir(QFile::encodeName(info.absoluteFilePath()).constData(), mode) == 0 || QFileInfo(dir).isDir();
}

bool LogFile::openCurrent(bool truncate)
{
    closeFile();
    m_released = false;
    const QString dir = QFileInfo(m_path).absolutePath();
    if (!makeDirectory(dir, m_fileMode)) {
        fail(QStringLiteral("Cannot create the directory %1").arg(QDir::toNativeSeparators(dir)));
        return false;
    }
    const QIODevice::OpenMode mode =
        QIODevice::WriteOnly | QIODevice::Unbuffered | (truncate ? QIODevice::Truncate : QIODevice::Append);
    const int owner = (m_fileMode >> 6) & 7;
    const auto permissions =
        QFile::Permissions::fromInt(owner << 12 | owner << 8 | ((m_fileMode >> 3) & 7) << 4 | (m_fileMode & 7));
    if (m_handles)
        m_handles->opening(this);
    if (!m_file.open(mode, permissions)) {
        fail(describeError(m_file));
        return false;
    }
    if (m_handles)
        m_handles->used(this);
    // A file from before keeps what it holds private as well.
    if (m_file.permissions() != permissions)
        m_file.setPermissions(permissions);
    // Appending after a torn record would join the next one to it.
    qint64 size = m_file.size();
    if (size > 0) {
        FileReader reader(m_path, m_kind);
        bool missing = false;
        const qint64 complete = reader.open(&missing) ? reader.completeSize() : size;
        if (complete < size && !m_file.resize(complete)) {
            fail(describeError(m_file));
            return false;
        }
        size = complete;
    }
    m_fileSize = size;
    m_failedSince.invalidate();
    return true;
}

void LogFile::fail(const QString& message)
{
    if (m_error.isEmpty())
        m_error = message;
    closeFile();
    m_failedSince.start();
}

void LogFile::rotate()
{
    closeFile();
    m_error.clear();
    bool renamed = true;
    if (m_backups > 0) {
        QFile::remove(filePath(m_backups));
        for (int i = m_backups - 1; i >= 0; --i) {
            const QString from = filePath(i);
            if (QFile::exists(from) && !QFile::rename(from, filePath(i + 1))) {
                if (m_error.isEmpty()) {
                    m_error = QStringLiteral("Cannot rename %1 to %2")
                                  .arg(QDir::toNativeSeparators(from), QDir::toNativeSeparators(filePath(i + 1)));
                }
                if (i == 0)
                    renamed = false;
            }
        }
    }
    if (openCurrent(m_backups == 0) && !renamed)
        m_fileSize = 0; // keep appending to the old file and try again after maxBytes more
}

inline char* LogFile::reserve(qsizetype size)
{
    if (Q_UNLIKELY(m_capacity - m_used < size)) {
        writeBuffer();
        // A file written now and then needs a small buffer; one that fills it between
        // flushes gets a larger one, up to BufferSize.
        if (m_capacity < size || m_capacity < BufferSize) {
            m_capacity = std::max(size, std::clamp(m_capacity * 2, MinBufferSize, BufferSize));
            m_buffer.reset(new char[size_t(m_capacity)]);
        }
    }
    m_written = true;
    return m_buffer.get() + m_used;
}

inline void LogFile::commit(char* start, char* end)
{
    const qsizetype size = end - start;
    const qint64 before = m_fileSize + m_used;
    if (Q_UNLIKELY(before + size > m_maxBytes) && before > 0) {
        writeBuffer();
        rotate();
        std::memmove(m_buffer.get(), start, size_t(size));
    }
    m_used += size;
}

void LogFile::writeBuffer()
{
    if (m_used > 0 && m_released) {
        // Closed to make room for other files' handles: open again.
        m_released = false;
        openCurrent(false);
    }
    if (m_used > 0 && m_file.isOpen()) {
        if (m_file.write(m_buffer.get(), m_used) != m_used)
            fail(describeError(m_file));
        else if (m_handles)
            m_handles->used(this);
    }
    m_fileSize += m_used;
    m_used = 0;
}

void LogFile::closeFile()
{
    m_file.close();
    if (m_handles)
        m_handles->closed(this);
}

void LogFile::releaseHandle()
{
    writeBuffer();
    closeFile();
    m_released = m_opened && m_error.isEmpty();
    m_buffer.reset();
    m_capacity = 0;
}

void LogFile::flush()
{
    if (m_opened && !m_file.isOpen() && m_failedSince.isValid() && m_failedSince.hasExpired(RetryIntervalMs)) {
        m_error.clear();
        openCurrent(false);
    }
    writeBuffer();
    // The buffer of a file nothing was written to since the last flush is given back.
    if (m_capacity > BufferSize || !std::exchange(m_written, false)) {
        m_buffer.reset();
        m_capacity = 0;
    }
}

char* LogFile::writeSeq(char* out, qint64 seq)
{
    // Lines mostly come numbered one after the other: count up the digits of the last
    // one. The digits change byte by byte in both copies, as reading back a just-changed
    // byte as part of a wider load would stall the CPU.
    if (seq == m_seqTextValue + 1) {
        std::memcpy(out, m_seqText, sizeof m_seqText);
        for (int i = m_seqDigits - 1; i >= 0; --i) {
            if (out[i] != '9') {
                ++out[i];
                ++m_seqText[i];
                m_seqTextValue = seq;
                return out + m_seqDigits;
            }
            out[i] = '0';
            m_seqText[i] = '0';
        }
    }
    char* const end = writeUnsigned(out, quint64(seq));
    m_seqDigits = int(end - out);
    std::memcpy(m_seqText, out, size_t(m_seqDigits));
    m_seqTextValue = seq;
    return end;
}

void LogFile::setTimePrefix(qint64 second)
{
    qint64 days = second / 86400;
    qint64 secondOfDay = second % 86400;
    if (secondOfDay < 0) {
        secondOfDay += 86400;
        --days;
    }
    int year;
    unsigned month, day;
    civilFromDays(days, &year, &month, &day);
    char* p = m_timePrefix;
    p = writeTwoDigits(p, unsigned(year / 100));
    p = writeTwoDigits(p, unsigned(year % 100));
    *p++ = '-';
    p = writeTwoDigits(p, month);
    *p++ = '-';
    p = writeTwoDigits(p, day);
    *p++ = 'T';
    p = writeTwoDigits(p, unsigned(secondOfDay / 3600));
    *p++ = ':';
    p = writeTwoDigits(p, unsigned(secondOfDay / 60 % 60));
    *p++ = ':';
    p = writeTwoDigits(p, unsigned(secondOfDay % 60));
    *p = '.';
    m_secondStart = second * 1000;
}

char* LogFile::writeTime(char* out, qint64 ts)
{
    // Unsigned, so that any ts outside the cached second (even one far off) gives a large offset.
    quint64 millis = quint64(ts) - quint64(m_secondStart);
    if (Q_UNLIKELY(millis >= 1000)) {
        ts = std::clamp(ts, MinTimestamp, MaxTimestamp);
        qint64 second = ts / 1000;
        if (ts % 1000 < 0)
            --second;
        setTimePrefix(second);
        millis = quint64(ts - m_secondStart);
    }
    std::memcpy(out, m_timePrefix, sizeof m_timePrefix);
    std::memcpy(out + sizeof m_timePrefix, MillisFields.fields[millis], 4);
    return out + sizeof m_timePrefix + 4;
}

void LogFile::appendLine(qint64 seq, qint64 ts, Protocol::Stream stream, LogLevel level, QByteArrayView source,
                         QByteArrayView text)
{
    Q_ASSERT(m_kind == Kind::Console);
    if (!m_opened || seq <= m_lastSeq)
        return;
    m_lastSeq = seq;
    m_lastTs = ts;
    char* const start = reserve(FixedRecordSize + 2 * (source.size() + text.size()));
    char* out = writeSeq(start, seq);
    *out++ = '\t';
    out = writeTime(out, ts);
    std::memcpy(out, stream == Protocol::Stream::Stderr ? "\tstderr\t" : "\tstdout\t", 8);
    out += 8;
    const LevelField& levelField = LevelFields[size_t(level) < std::size(LevelFields) ? size_t(level) : 0];
    std::memcpy(out, levelField.text, sizeof levelField.text);
    out += levelField.size;
    out = writeEscaped(out, source);
    *out++ = '\t';
    out = writeEscaped(out, text);
    *out++ = '\n';
    commit(start, out);
}

void LogFile::appendMessage(qint64 seq, qint64 ts, QByteArrayView role, QByteArrayView sender, QByteArrayView source,
                            QByteArrayView text)
{
    Q_ASSERT(m_kind == Kind::Forum && Protocol::isValidForumRole(role));
    if (!m_opened || seq <= m_lastSeq)
        return;
    m_lastSeq = seq;
    m_lastTs = ts;
    char* const start = reserve(FixedRecordSize + 2 * (sender.size() + source.size() + text.size()));
    char* out = writeSeq(start, seq);
    *out++ = '\t';
    out = writeTime(out, ts);
    *out++ = '\t';
    std::memcpy(out, role.data(), size_t(role.size()));
    out += role.size();
    *out++ = '\t';
    out = writeEscaped(out, sender);
    *out++ = '\t';
    out = writeEscaped(out, source);
    *out++ = '\t';
    out = writeEscaped(out, text);
    *out++ = '\n';
    commit(start, out);
}

void LogFile::appendGap(qint64 from, qint64 to, Protocol::GapReason reason)
{
    from = std::max(from, m_lastSeq + 1);
    if (!m_opened || to < from)
        return;
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    m_lastSeq = to;
    m_lastTs = now;
    const QByteArrayView name = Protocol::gapReasonName(reason);
    char* const start = reserve(FixedRecordSize + name.size());
    char* out = writeUnsigned(start, quint64(from));
    *out++ = '-';
    out = writeUnsigned(out, quint64(to));
    *out++ = '\t';
    out = writeTime(out, now);
    std::memcpy(out, "\tgap\t", 5);
    out += 5;
    std::memcpy(out, name.data(), size_t(name.size()));
    out += name.size();
    *out++ = '\n';
    commit(start, out);
}

bool LogFile::readBefore(qint64 before, int limit, std::vector<StoredLine>* lines, std::vector<SeqGap>* gaps,
                         bool* more, QString* error)
{
    flush();
    lines->clear();
    gaps->clear();
    *more = false;
    const qint64 bound = before > 0 ? before : std::numeric_limits<qint64>::max();
    Collector collector(m_kind, bound, std::clamp(limit, 0, MaxReadLimit), lines, gaps);
    for (int i = 0; i <= m_backups && !collector.done(); ++i) {
        FileReader reader(filePath(i), m_kind);
        bool missing = false;
        bool ok = reader.open(&missing);
        if (!ok && missing)
            continue; // no such backup (yet)
        if (ok) {
            const qint64 end = reader.lowerBound(bound);
            ok = end >= 0
                && reader.backward(end, 64 * 1024, [&](qint64, QByteArrayView line) { return collector.add(line); });
        }
        if (!ok) {
            if (error)
                *error = reader.errorString();
            lines->clear();
            gaps->clear();
            return false;
        }
    }
    collector.finish(more);
    return true;
}

// ---------------------------------------------------------------------------

FileHandleBudget::FileHandleBudget(int limit)
    : m_limit(std::max(1, limit))
{ }

FileHandleBudget::~FileHandleBudget()
{
    for (LogFile* file : m_open)
        file->m_handles = nullptr;
}

void FileHandleBudget::setLimit(int limit)
{
    m_limit = std::max(1, limit);
    makeRoom(nullptr);
}

void FileHandleBudget::makeRoom(LogFile* opening)
{
    // The least recently written go first; the file being opened is not counted yet.
    while (int(m_open.size()) >= m_limit + (opening ? 0 : 1)) {
        LogFile* oldest = m_open.front();
        if (oldest == opening)
            break;
        oldest->releaseHandle();
    }
}

void FileHandleBudget::opening(LogFile* file)
{
    if (!file->m_inBudget)
        makeRoom(file);
}

void FileHandleBudget::used(LogFile* file)
{
    if (file->m_inBudget) {
        m_open.splice(m_open.end(), m_open, file->m_budgetEntry);
    } else {
        file->m_budgetEntry = m_open.insert(m_open.end(), file);
        file->m_inBudget = true;
    }
}

void FileHandleBudget::closed(LogFile* file)
{
    if (!file->m_inBudget)
        return;
    m_open.erase(file->m_budgetEntry);
    file->m_inBudget = false;
}
