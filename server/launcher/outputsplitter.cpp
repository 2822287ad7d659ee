// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/launcher/outputsplitter.h"

#include <cstring>
#include <utility>

/*
 * The common chunk is many short, valid lines without '\r'. For it feed() makes
 * three passes over the chunk, each a tight loop: one UTF-8 check (eight bytes a
 * step while the text is ASCII), one memchr() for '\r' and one memchr() per line
 * for '\n'. Both checks remember where they found the first problem, so a line
 * that ends before both positions is handed out as a view at once; after a line
 * that needed work the check resumes from the next line, and each byte is still
 * looked at once. A '\n' cannot be part of a multibyte sequence, so checking the
 * chunk as a whole finds the same errors as checking each line.
 */

namespace {

// Buffers that grew past this for a long line are freed once it has been handed out,
// so that thousands of idle streams do not each hold a maximum-sized line.
constexpr qsizetype KeptCapacity = 16 * 1024;

constexpr quint64 HighBits = 0x8080808080808080ull;

inline quint64 load64(const uchar* p)
{
    quint64 v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

inline bool isContinuation(uchar b)
{
    return (b & 0xC0) == 0x80;
}

/*
 * The sequence that starts at p (p < end), by Table 3-7 of the Unicode standard:
 * its length when well-formed; otherwise minus the length of its maximal subpart,
 * the longest prefix of a well-formed sequence (at least 1). *truncated is set when
 * that prefix is ill-formed only because the text ends.
 */
inline int sequenceAt(const uchar* p, const uchar* end, bool* truncated)
{
    const uchar c = *p;
    if (c < 0x80)
        return 1;
    int length;
    uchar low = 0x80;
    uchar high = 0xBF;
    if (c < 0xC2) {
        return -1;
    } else if (c < 0xE0) {
        length = 2;
    } else if (c < 0xF0) {
        length = 3;
        if (c == 0xE0)
            low = 0xA0; // shorter forms are overlong
        else if (c == 0xED)
            high = 0x9F; // above are the surrogates
    } else if (c < 0xF5) {
        length = 4;
        if (c == 0xF0)
            low = 0x90; // overlong
        else if (c == 0xF4)
            high = 0x8F; // above U+10FFFF
    } else {
        return -1;
    }
    for (int i = 1; i < length; ++i) {
        if (p + i == end) {
            *truncated = true;
            return -i;
        }
        if (p[i] < low || p[i] > high)
            return -i;
        low = 0x80;
        high = 0xBF;
    }
    return length;
}

// The start of the first ill-formed (or truncated) sequence in [p, end), or end.
const uchar* findInvalidUtf8(const uchar* p, const uchar* end)
{
    while (true) {
        while (end - p >= 16) {
            if ((load64(p) | load64(p + 8)) & HighBits)
                break;
            p += 16;
        }
        if (end - p >= 8 && !(load64(p) & HighBits))
            p += 8;
        while (p < end && *p < 0x80)
            ++p;
        if (p == end)
            return end;
        // Non-ASCII text stays here until the next ASCII byte.
        do {
            bool truncated = false;
            const int length = sequenceAt(p, end, &truncated);
            if (length < 0)
                return p;
            p += length;
        } while (p < end && *p >= 0x80);
    }
}

inline const char* findInvalidUtf8(const char* p, const char* end)
{
    return reinterpret_cast<const char*>(
        findInvalidUtf8(reinterpret_cast<const uchar*>(p), reinterpret_cast<const uchar*>(end)));
}

// The last '\r' in [from, to), or nullptr.
const char* lastCarriageReturn(const char* from, const char* to)
{
    const char* last = nullptr;
    while (from < to) {
        const auto* cr = static_cast<const char*>(std::memchr(from, '\r', size_t(to - from)));
        if (!cr)
            break;
        last = cr;
        from = cr + 1;
    }
    return last;
}

// The part of a line after carriage returns: its last non-empty '\r'-separated part.
QByteArrayView lastPart(QByteArrayView line)
{
    const char* begin = line.data();
    const char* end = begin + line.size();
    while (end > begin && end[-1] == '\r')
        --end;
    if (const char* cr = lastCarriageReturn(begin, end))
        begin = cr + 1;
    return QByteArrayView(begin, end - begin);
}

// Where to cut text (longer than limit) to keep at most limit bytes: before the
// character that byte limit continues when bytes up to it are well-formed, else at
// limit. Only bytes up to limit count, as the splitter keeps no more of a long line.
qsizetype cutPoint(QByteArrayView text, qsizetype limit)
{
    const auto* p = reinterpret_cast<const uchar*>(text.data());
    for (qsizetype back = 1; back <= 3 && isContinuation(p[limit - back + 1]); ++back) {
        const uchar* start = p + limit - back;
        if (!isContinuation(*start)) {
            bool truncated = false;
            const int length = sequenceAt(start, p + limit + 1, &truncated);
            return truncated || length == back + 1 ? limit - back : limit;
        }
    }
    return limit;
}

// The length of a truncated but so far well-formed sequence at the end of text.
qsizetype incompleteTail(QByteArrayView text)
{
    const auto* begin = reinterpret_cast<const uchar*>(text.data());
    const auto* end = begin + text.size();
    for (qsizetype back = 1; back <= 3 && back <= text.size(); ++back) {
        const uchar b = end[-back];
        if (b < 0x80)
            return 0;
        if (b >= 0xC0) {
            bool truncated = false;
            sequenceAt(end - back, end, &truncated);
            return truncated ? back : 0;
        }
    }
    return 0;
}

// Appends text to out with ill-formed sequences replaced; firstBad is the start of
// the first one (text.end() when none).
void appendRepaired(QByteArrayView text, const char* firstBad, QByteArray* out)
{
    static constexpr char Replacement[] = "\xEF\xBF\xBD";
    const auto* p = reinterpret_cast<const uchar*>(text.data());
    const auto* end = p + text.size();
    const auto* bad = reinterpret_cast<const uchar*>(firstBad);
    while (true) {
        out->append(reinterpret_cast<const char*>(p), bad - p);
        if (bad == end)
            return;
        bool truncated = false;
        p = bad - sequenceAt(bad, end, &truncated);
        out->append(Replacement, 3);
        bad = findInvalidUtf8(p, end);
    }
}

void appendCount(qint64 count, QByteArray* out)
{
    char digits[32];
    int n = 0;
    do {
        if (n % 4 == 3)
            digits[n++] = ',';
        digits[n++] = char('0' + count % 10);
        count /= 10;
    } while (count > 0);
    while (n > 0)
        out->append(digits[--n]);
}

} // namespace

bool isValidUtf8(QByteArrayView text)
{
    return findInvalidUtf8(text.data(), text.data() + text.size()) == text.data() + text.size();
}

bool repairUtf8(QByteArrayView text, QByteArray* out)
{
    const char* bad = findInvalidUtf8(text.data(), text.data() + text.size());
    if (bad == text.data() + text.size())
        return false;
    QByteArray repaired;
    repaired.reserve(text.size() + 16);
    appendRepaired(text, bad, &repaired);
    *out = std::move(repaired);
    return true;
}

OutputSplitter::OutputSplitter(qsizetype maxLineBytes)
    : m_maxLineBytes(qBound(MinimumMaxLineBytes, maxLineBytes, MaximumMaxLineBytes))
{ }

void OutputSplitter::clear()
{
    m_pending.resize(0);
    m_leftOut = 0;
    m_checkedPending = 0;
    m_partialChanged = m_partialChanged || m_hasPartial;
    m_hasPartial = false;
    m_crAfterPending = false;
    releaseLargeBuffers();
}

void OutputSplitter::feedImpl(QByteArrayView data, LineSink sink, void* context)
{
    if (data.isEmpty())
        return;
    const char* p = data.data();
    const char* const end = p + data.size();
    const auto* nl = static_cast<const char*>(std::memchr(p, '\n', size_t(end - p)));
    if (m_hasPartial) {
        if (!nl) {
            appendPartial(p, end);
            return;
        }
        appendPartial(p, nl);
        emitPartial(sink, context);
        p = nl + 1;
        nl = static_cast<const char*>(std::memchr(p, '\n', size_t(end - p)));
    }
    if (nl) {
        const char* bad = findInvalidUtf8(p, end);
        const auto* cr = static_cast<const char*>(std::memchr(p, '\r', size_t(end - p)));
        if (!cr)
            cr = end;
        do {
            const qsizetype length = nl - p;
            if (nl < bad && nl < cr && length <= m_maxLineBytes) {
                sink(context, QByteArrayView(p, length));
            } else {
                QByteArrayView line(p, length);
                if (cr < nl) {
                    // CRLF, the only '\r' in the line, is common enough for a shortcut.
                    line = cr == nl - 1 ? line.first(length - 1) : lastPart(line);
                    cr = static_cast<const char*>(std::memchr(nl + 1, '\r', size_t(end - nl - 1)));
                    if (!cr)
                        cr = end;
                }
                const bool valid = bad > nl;
                if (!valid)
                    bad = findInvalidUtf8(nl + 1, end);
                sink(context, completeLine(line, 0, valid));
            }
            p = nl + 1;
            nl = static_cast<const char*>(std::memchr(p, '\n', size_t(end - p)));
        } while (nl);
    }
    if (p < end) {
        m_hasPartial = true;
        m_partialChanged = true;
        appendPartial(p, end);
    }
    releaseLargeBuffers();
}

void OutputSplitter::finishImpl(LineSink sink, void* context)
{
    if (m_hasPartial)
        emitPartial(sink, context);
    releaseLargeBuffers();
}

// Adds bytes (without '\n') to the unfinished line, keeping only its last part.
void OutputSplitter::appendPartial(const char* from, const char* to)
{
    const char* contentEnd = to;
    while (contentEnd > from && contentEnd[-1] == '\r')
        --contentEnd;
    if (contentEnd > from) {
        if (const char* cr = lastCarriageReturn(from, contentEnd)) {
            m_crAfterPending = true;
            from = cr + 1;
        }
        if (m_crAfterPending) {
            m_pending.resize(0);
            m_leftOut = 0;
            m_checkedPending = 0;
            m_partialChanged = true;
            m_crAfterPending = false;
        }
        appendSegment(from, contentEnd);
    }
    if (contentEnd < to)
        m_crAfterPending = true;
}

void OutputSplitter::appendSegment(const char* from, const char* to)
{
    const qsizetype keep = m_maxLineBytes + 1;
    const qsizetype room = keep - m_pending.size();
    const qsizetype size = to - from;
    const qsizetype taken = qMin(room, size);
    if (taken > 0) {
        const qsizetype needed = m_pending.size() + taken;
        if (needed > m_pending.capacity())
            m_pending.reserve(qMin(keep, qMax(needed, 2 * m_pending.capacity())));
        m_pending.append(from, taken);
        m_partialChanged = true;
    }
    m_leftOut += size - taken;
}

void OutputSplitter::emitPartial(LineSink sink, void* context)
{
    sink(context, completeLine(m_pending, m_leftOut, false));
    m_pending.resize(0);
    if (m_pending.capacity() > KeptCapacity)
        m_pending = QByteArray();
    m_leftOut = 0;
    m_checkedPending = 0;
    m_hasPartial = false;
    m_crAfterPending = false;
    m_partialChanged = true;
}

// The line to hand out for the last part of a line: cut, repaired and marked as needed.
QByteArrayView OutputSplitter::completeLine(QByteArrayView line, qint64 leftOut, bool knownValid)
{
    if (line.size() > m_maxLineBytes) {
        const qsizetype cut = cutPoint(line, m_maxLineBytes);
        leftOut += line.size() - cut;
        line.truncate(cut);
        knownValid = false;
    }
    const char* bad = knownValid ? line.data() + line.size() : findInvalidUtf8(line.data(), line.data() + line.size());
    if (leftOut == 0 && bad == line.data() + line.size())
        return line;
    m_line.resize(0);
    m_line.reserve(line.size() + 64);
    appendRepaired(line, bad, &m_line);
    if (leftOut > 0) {
        m_line.append(CutMarker);
        appendCount(leftOut, &m_line);
        m_line.append(leftOut == 1 ? QByteArrayView(" more byte]") : QByteArrayView(" more bytes]"));
    }
    return m_line;
}

QByteArrayView OutputSplitter::partial()
{
    m_partialChanged = false;
    if (!m_hasPartial)
        return {};
    QByteArrayView text(m_pending);
    if (text.size() > m_maxLineBytes)
        text.truncate(cutPoint(text, m_maxLineBytes));
    else
        text.chop(incompleteTail(text));
    // Both ends above are character boundaries, so the part checked before still is
    // well-formed; asking after every few bytes of a long line costs only those bytes.
    const char* end = text.data() + text.size();
    const char* bad = findInvalidUtf8(text.data() + qMin(m_checkedPending, text.size()), end);
    m_checkedPending = bad - text.data();
    if (bad == end)
        return text;
    m_line.resize(0);
    m_line.reserve(text.size() + 64);
    appendRepaired(text, bad, &m_line);
    return m_line;
}

void OutputSplitter::releaseLargeBuffers()
{
    if (m_line.capacity() > KeptCapacity)
        m_line = QByteArray();
}
