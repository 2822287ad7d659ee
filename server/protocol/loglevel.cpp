// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/protocol/loglevel.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>

/*
 * inferLogLevel runs on every console line, so it works on the raw bytes with
 * no allocation: at most the first 256 bytes are looked at, copied to a stack
 * buffer only when they hold an escape sequence to strip (CSI such as SGR
 * colours, OSC, two-byte escapes).
 *
 * Level words: TRACE DEBUG INFO WARNING ERROR CRITICAL and WARN, FATAL, SUCCESS
 * (Info), NOTICE (Info), PANIC (Critical) in any case where case is free; the
 * abbreviations TRAC TRC VRB DEBU DBG INF WRN ERRO ERR CRIT FATA FTL PANI PNC
 * only in capitals. A word is a whole run of letters: "ERRORS", "ERROR2",
 * "error_x", "error-free" are not level words.
 *
 * A level word only counts where loggers put it, never merely because it
 * appears in a message ("no errors found"):
 *   - at the start of the line, after leading blanks and a prefix of up to six
 *     timestamps/numbers ("2025-08-27 13:11:54,943", "3:04PM") and bracketed
 *     groups of up to 64 bytes ("[14:02:12]", "[main]", "(node:42)"), then an
 *     optional "- " or a "| ... |" pair:
 *       "[ERROR]", "<warn>", "(INFO)" (the group holds only the word; any case),
 *       "| INFO |" (any case), "ERROR: x" / "error: x" (any case before ':'
 *       but not "::"), "INFO\tx" (any case before a tab), "ERROR x",
 *       "ERRO[0000] x", "ERROR" at the end (capitals only), klog/glog
 *       "E0102 " (I W E F + four digits), "Traceback (most recent call last)"
 *       (Error), "thread '...' panicked at" (Critical);
 *   - inside a bracketed group after a timestamp: "[2024-01-02T03:04:05Z ERROR app]";
 *   - anywhere in the window, in capitals and not abbreviated, between
 *     separators: "| ERROR |" (loguru) and " - ERROR - " or " - ERROR:" (Python logging);
 *   - as the value of a level key (level, *level, lvl, severity, levelname; the
 *     value quoted or not, any case): logfmt "level=error"; and when the window
 *     holds a '{', JSON or dict keys "\"level\": \"warn\"", "'levelname': 'INFO'",
 *     and pino's numbers 10 20 30 40 50 60.
 */

namespace {

constexpr qsizetype Window = 256;

enum class WordKind : quint8 {
    None,
    Name, // a name or alias that parseLogLevel accepts too
    Extra, // a whole word that other loggers print (NOTICE, PANIC)
    Short, // an abbreviation (ERRO, WRN, ...): trusted only in capitals
};

struct Word
{
    LogLevel level = LogLevel::Unknown;
    WordKind kind = WordKind::None;
    bool upper = false;
    qsizetype end = 0;

    bool loose() const
    {
        return kind == WordKind::Name || kind == WordKind::Extra || (kind == WordKind::Short && upper);
    }
    bool capital() const { return kind != WordKind::None && upper; }
    bool capitalName() const { return (kind == WordKind::Name || kind == WordKind::Extra) && upper; }
};

constexpr quint64 pack(const char* s)
{
    quint64 key = 0;
    for (; *s; ++s)
        key = (key << 8) | quint8(*s);
    return key;
}

inline bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

inline bool isAlpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

inline bool isSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

void lookup(quint64 key, Word* word)
{
    struct Hit
    {
        LogLevel level;
        WordKind kind;
    };
    const Hit hit = [key]() -> Hit {
        switch (key) {
        case pack("TRACE"):
            return {LogLevel::Trace, WordKind::Name};
        case pack("DEBUG"):
            return {LogLevel::Debug, WordKind::Name};
        case pack("INFO"):
        case pack("SUCCESS"):
            return {LogLevel::Info, WordKind::Name};
        case pack("WARNING"):
        case pack("WARN"):
            return {LogLevel::Warning, WordKind::Name};
        case pack("ERROR"):
            return {LogLevel::Error, WordKind::Name};
        case pack("CRITICAL"):
        case pack("FATAL"):
            return {LogLevel::Critical, WordKind::Name};
        case pack("NOTICE"):
            return {LogLevel::Info, WordKind::Extra};
        case pack("PANIC"):
            return {LogLevel::Critical, WordKind::Extra};
        case pack("TRAC"):
        case pack("TRC"):
        case pack("VRB"):
            return {LogLevel::Trace, WordKind::Short};
        case pack("DEBU"):
        case pack("DBG"):
            return {LogLevel::Debug, WordKind::Short};
        case pack("INF"):
            return {LogLevel::Info, WordKind::Short};
        case pack("WRN"):
            return {LogLevel::Warning, WordKind::Short};
        case pack("ERRO"):
        case pack("ERR"):
            return {LogLevel::Error, WordKind::Short};
        case pack("CRIT"):
        case pack("FATA"):
        case pack("FTL"):
        case pack("PANI"):
        case pack("PNC"):
            return {LogLevel::Critical, WordKind::Short};
        default:
            return {LogLevel::Unknown, WordKind::None};
        }
    }();
    word->level = hit.level;
    word->kind = hit.kind;
}

// Reads the run of letters at i. A run longer than any level word, or one that
// goes on with a digit or underscore ("ERROR2", "info_x"), is no level word.
Word readWord(const char* s, qsizetype n, qsizetype i)
{
    Word word;
    quint64 key = 0;
    bool upper = true;
    qsizetype j = i;
    while (j < n && isAlpha(s[j])) {
        if (j - i == 8)
            return word;
        char c = s[j];
        if (c >= 'a') {
            upper = false;
            c = char(c - ('a' - 'A'));
        }
        key = (key << 8) | quint8(c);
        ++j;
    }
    word.end = j;
    if (j == i || (j < n && (isDigit(s[j]) || s[j] == '_')))
        return word;
    word.upper = upper;
    lookup(key, &word);
    return word;
}

qsizetype skipSpaces(const char* s, qsizetype n, qsizetype i)
{
    while (i < n && isSpace(s[i]))
        ++i;
    return i;
}

constexpr std::array<bool, 256> makeTimestampBytes()
{
    std::array<bool, 256> table{};
    for (char c = '0'; c <= '9'; ++c)
        table[quint8(c)] = true;
    for (const char c : {'-', ':', '.', ',', '/', '+'})
        table[quint8(c)] = true;
    return table;
}
constexpr std::array<bool, 256> TimestampBytes = makeTimestampBytes();

// Consumes a date, time, number or a run of them ("2025-11-14 14:02:12.000",
// "2024-01-02T03:04:05.123Z", "13:11:54,943").
qsizetype skipTimestamp(const char* s, qsizetype n, qsizetype i)
{
    const qsizetype start = i;
    for (;;) {
        while (i < n && TimestampBytes[quint8(s[i])])
            ++i;
        if (i >= n)
            break;
        const char c = s[i];
        if ((c == 'T' || c == 'Z') && i > start && isDigit(s[i - 1]))
            ++i;
        else if (c == ' ' && i + 1 < n && (isDigit(s[i + 1]) || s[i + 1] == '+'))
            ++i;
        else
            break;
    }
    // zerolog's default "3:04PM"
    if (i - start >= 3 && isDigit(s[i - 1]) && n - i >= 2 && (s[i] == 'A' || s[i] == 'P') && s[i + 1] == 'M'
        && (n - i == 2 || s[i + 2] == ' '))
        i += 2;
    return i;
}

bool startsWith(const char* s, qsizetype n, qsizetype i, QByteArrayView what)
{
    return n - i >= what.size() && std::memcmp(s + i, what.data(), size_t(what.size())) == 0;
}

// Copies s without terminal escape sequences (CSI such as SGR colours, OSC, and
// two-byte escapes), so that "\x1b[1;31mERROR\x1b[0m:" reads as "ERROR:".
qsizetype stripEscapes(const char* s, qsizetype n, char* out)
{
    qsizetype o = 0;
    qsizetype i = 0;
    while (i < n) {
        if (s[i] != '\x1b') {
            out[o++] = s[i++];
            continue;
        }
        ++i;
        if (i >= n)
            break;
        if (s[i] == '[') {
            ++i;
            while (i < n && quint8(s[i]) >= 0x20 && quint8(s[i]) <= 0x3f)
                ++i;
            if (i < n && quint8(s[i]) >= 0x40 && quint8(s[i]) <= 0x7e)
                ++i;
        } else if (s[i] == ']') {
            ++i;
            while (i < n && s[i] != '\a' && s[i] != '\x1b')
                ++i;
            if (i < n && s[i] == '\a')
                ++i;
            else if (i + 1 < n && s[i + 1] == '\\')
                i += 2;
        } else {
            ++i;
        }
    }
    return o;
}

// Which of the bytes that the later rules look for occur in the window: one
// pass, sixteen bytes at a time where the compiler offers vector types, instead
// of a memchr() per byte value.
struct Present
{
    bool escape = false;
    bool bar = false;
    bool dash = false;
    bool equals = false;
    bool brace = false;
};

Present present(const char* s, qsizetype n)
{
    Present found;
    qsizetype i = 0;
#if defined(__GNUC__) || defined(__clang__)
    typedef unsigned char Bytes16 __attribute__((vector_size(16)));
    typedef signed char Mask16 __attribute__((vector_size(16)));
    Mask16 escape{}, bar{}, dash{}, equals{}, brace{};
    for (; i < n && n >= 16; i += 16) {
        // The last block overlaps the one before it rather than leaving a tail.
        Bytes16 v;
        std::memcpy(&v, s + std::min(i, n - 16), sizeof v);
        escape |= v == 0x1b;
        bar |= v == '|';
        dash |= v == '-';
        equals |= v == '=';
        brace |= v == '{';
    }
    const auto any = [](const Mask16& mask) {
        quint64 halves[2];
        static_assert(sizeof mask == sizeof halves);
        std::memcpy(halves, &mask, sizeof halves);
        return (halves[0] | halves[1]) != 0;
    };
    found = {any(escape), any(bar), any(dash), any(equals), any(brace)};
#endif
    for (; i < n; ++i) {
        switch (s[i]) {
        case '\x1b':
            found.escape = true;
            break;
        case '|':
            found.bar = true;
            break;
        case '-':
            found.dash = true;
            break;
        case '=':
            found.equals = true;
            break;
        case '{':
            found.brace = true;
            break;
        default:
            break;
        }
    }
    return found;
}

char closingOf(char c)
{
    switch (c) {
    case '[':
        return ']';
    case '(':
        return ')';
    case '<':
        return '>';
    default:
        return 0;
    }
}

// "[ERROR]", "[ warn ]", "<INFO>": the group holds only a level word.
LogLevel bracketed(const char* s, qsizetype open, qsizetype close)
{
    const qsizetype i = skipSpaces(s, close, open + 1);
    const Word word = readWord(s, close, i);
    if (word.loose() && skipSpaces(s, close, word.end) == close)
        return word.level;
    // env_logger and friends: "[2024-01-02T03:04:05Z ERROR app]"
    if (i < close && isDigit(s[i])) {
        const qsizetype j = skipSpaces(s, close, skipTimestamp(s, close, i));
        const Word inner = readWord(s, close, j);
        if (inner.capital() && (inner.end == close || s[inner.end] == ' '))
            return inner.level;
    }
    return LogLevel::Unknown;
}

// "| INFO     |" with i on the first bar.
Word betweenBars(const char* s, qsizetype n, qsizetype i)
{
    const Word word = readWord(s, n, skipSpaces(s, n, i + 1));
    const qsizetype j = skipSpaces(s, n, word.end);
    if (word.kind != WordKind::None && j < n && s[j] == '|')
        return word;
    return {};
}

// The level word at the start of the line (after its prefix), judged by what follows it.
LogLevel atStart(const char* s, qsizetype n, qsizetype p)
{
    const Word word = readWord(s, n, p);
    if (word.kind == WordKind::None)
        return LogLevel::Unknown;
    if (word.end == n)
        return word.capital() ? word.level : LogLevel::Unknown;
    const char next = s[word.end];
    if (next == ':')
        return word.loose() && (word.end + 1 == n || s[word.end + 1] != ':') ? word.level : LogLevel::Unknown;
    if (next == '\t')
        return word.loose() ? word.level : LogLevel::Unknown;
    if (next == ' ' || next == '[' || next == ']' || next == '|')
        return word.capital() ? word.level : LogLevel::Unknown;
    return LogLevel::Unknown;
}

LogLevel specialStart(const char* s, qsizetype n, qsizetype p)
{
    // klog / glog: "E0102 15:04:05.000000 ..."
    if (n - p >= 6 && isDigit(s[p + 1]) && isDigit(s[p + 2]) && isDigit(s[p + 3]) && isDigit(s[p + 4])
        && s[p + 5] == ' ') {
        switch (s[p]) {
        case 'I':
            return LogLevel::Info;
        case 'W':
            return LogLevel::Warning;
        case 'E':
            return LogLevel::Error;
        case 'F':
            return LogLevel::Critical;
        default:
            break;
        }
    }
    if (s[p] == 'T' && startsWith(s, n, p, "Traceback (most recent call last)"))
        return LogLevel::Error;
    if (s[p] == 't' && startsWith(s, n, p, "thread '")) {
        const QByteArrayView rest(s + p + 8, n - p - 8);
        if (rest.indexOf(QByteArrayView("' panicked at")) >= 0)
            return LogLevel::Critical;
    }
    return LogLevel::Unknown;
}

LogLevel fromPrefix(const char* s, qsizetype n)
{
    qsizetype p = skipSpaces(s, n, 0);
    for (int groups = 0; groups < 6 && p < n; ++groups) {
        const char c = s[p];
        if (isDigit(c)) {
            p = skipSpaces(s, n, skipTimestamp(s, n, p));
            continue;
        }
        const char close = closingOf(c);
        if (!close)
            break;
        const void* found = std::memchr(s + p + 1, close, size_t(std::min<qsizetype>(n - p - 1, 64)));
        if (!found)
            break;
        const qsizetype e = static_cast<const char*>(found) - s;
        const LogLevel level = bracketed(s, p, e);
        if (level != LogLevel::Unknown)
            return level;
        p = skipSpaces(s, n, e + 1);
    }
    if (p >= n)
        return LogLevel::Unknown;
    if (s[p] == '|') {
        const Word word = betweenBars(s, n, p);
        return word.loose() ? word.level : LogLevel::Unknown;
    }
    if (s[p] == '-' && p + 1 < n && s[p + 1] == ' ')
        p = skipSpaces(s, n, p + 2);
    if (p >= n)
        return LogLevel::Unknown;
    const LogLevel level = atStart(s, n, p);
    return level != LogLevel::Unknown ? level : specialStart(s, n, p);
}

LogLevel betweenSeparators(const char* s, qsizetype n, const Present& has)
{
    for (const char* bar = s;
         has.bar && (bar = static_cast<const char*>(std::memchr(bar, '|', size_t(s + n - bar))));) {
        const Word word = betweenBars(s, n, bar - s);
        if (word.capitalName())
            return word.level;
        ++bar;
    }
    for (const char* dash = s + 1; has.dash && dash < s + n - 1;) {
        dash = static_cast<const char*>(std::memchr(dash, '-', size_t(s + n - 1 - dash)));
        if (!dash)
            break;
        if (dash[-1] == ' ' && dash[1] == ' ') {
            const qsizetype i = dash - s;
            const Word word = readWord(s, n, i + 2);
            if (word.capitalName() && word.end < n
                && (s[word.end] == ':' || startsWith(s, n, word.end, QByteArrayView(" - "))))
                return word.level;
        }
        ++dash;
    }
    return LogLevel::Unknown;
}

bool isKeyChar(char c)
{
    return isAlpha(c) || c == '.' || c == '_';
}

bool isLevelKey(const char* key, qsizetype len)
{
    char lower[16];
    if (len > qsizetype(sizeof lower))
        return false;
    for (qsizetype i = 0; i < len; ++i)
        lower[i] = char(key[i] | 0x20);
    const QByteArrayView k(lower, len);
    return k.endsWith(QByteArrayView("level")) || k == QByteArrayView("lvl") || k == QByteArrayView("severity")
        || k == QByteArrayView("levelname");
}

// The value of a level key whose separator ('=' or ':') is at i.
LogLevel keyedValue(const char* s, qsizetype n, qsizetype i, bool quotedKey)
{
    qsizetype k = i;
    while (k > 0 && s[k - 1] == ' ')
        --k;
    bool quoted = false;
    if (k > 0 && (s[k - 1] == '"' || s[k - 1] == '\'')) {
        quoted = true;
        --k;
    }
    if (quotedKey && !quoted)
        return LogLevel::Unknown;
    const qsizetype keyEnd = k;
    while (k > 0 && isKeyChar(s[k - 1]) && keyEnd - k <= 16)
        --k;
    if (k == keyEnd || (k > 0 && (isKeyChar(s[k - 1]) || isDigit(s[k - 1]) || s[k - 1] == '-')))
        return LogLevel::Unknown;
    if (!isLevelKey(s + k, keyEnd - k))
        return LogLevel::Unknown;
    qsizetype v = skipSpaces(s, n, i + 1);
    if (v < n && (s[v] == '"' || s[v] == '\''))
        ++v;
    if (v < n && isDigit(s[v])) {
        // pino's numeric levels
        if (v + 1 < n && s[v + 1] == '0' && (v + 2 == n || !isDigit(s[v + 2]))) {
            switch (s[v]) {
            case '1':
                return LogLevel::Trace;
            case '2':
                return LogLevel::Debug;
            case '3':
                return LogLevel::Info;
            case '4':
                return LogLevel::Warning;
            case '5':
                return LogLevel::Error;
            case '6':
                return LogLevel::Critical;
            default:
                break;
            }
        }
        return LogLevel::Unknown;
    }
    const Word word = readWord(s, n, v);
    return word.loose() && (word.end == n || !isAlpha(s[word.end])) ? word.level : LogLevel::Unknown;
}

LogLevel fromKeys(const char* s, qsizetype n, const Present& has)
{
    for (const char* eq = s; has.equals && (eq = static_cast<const char*>(std::memchr(eq, '=', size_t(s + n - eq))));) {
        const LogLevel level = keyedValue(s, n, eq - s, false);
        if (level != LogLevel::Unknown)
            return level;
        ++eq;
    }
    if (!has.brace)
        return LogLevel::Unknown;
    for (const char* colon = s; (colon = static_cast<const char*>(std::memchr(colon, ':', size_t(s + n - colon))));) {
        const LogLevel level = keyedValue(s, n, colon - s, true);
        if (level != LogLevel::Unknown)
            return level;
        ++colon;
    }
    return LogLevel::Unknown;
}

} // namespace

QByteArrayView logLevelName(LogLevel level)
{
    switch (level) {
    case LogLevel::Trace:
        return "TRACE";
    case LogLevel::Debug:
        return "DEBUG";
    case LogLevel::Info:
        return "INFO";
    case LogLevel::Warning:
        return "WARNING";
    case LogLevel::Error:
        return "ERROR";
    case LogLevel::Critical:
        return "CRITICAL";
    case LogLevel::Unknown:
        break;
    }
    return {};
}

LogLevel parseLogLevel(QByteArrayView name)
{
    const Word word = readWord(name.data(), name.size(), 0);
    return word.kind == WordKind::Name && word.end == name.size() ? word.level : LogLevel::Unknown;
}

LogLevel inferLogLevel(QByteArrayView utf8Text)
{
    const char* s = utf8Text.data();
    qsizetype n = std::min(utf8Text.size(), Window);
    Present has = present(s, n);
    char clean[Window];
    if (has.escape) {
        n = stripEscapes(s, n, clean);
        s = clean;
        has = present(s, n);
    }
    if (n <= 0)
        return LogLevel::Unknown;
    LogLevel level = fromPrefix(s, n);
    if (level == LogLevel::Unknown && (has.bar || has.dash))
        level = betweenSeparators(s, n, has);
    if (level == LogLevel::Unknown && (has.equals || has.brace))
        level = fromKeys(s, n, has);
    return level;
}

namespace {

/// The text after leading colour codes (CSI sequences such as SGR).
QByteArrayView withoutLeadingEscapes(QByteArrayView text)
{
    while (text.size() >= 2 && text[0] == '\x1b' && text[1] == '[') {
        qsizetype i = 2;
        while (i < text.size() && !(text[i] >= 0x40 && text[i] <= 0x7e))
            ++i;
        text = text.sliced(std::min(i + 1, text.size()));
    }
    return text;
}

bool startsTraceback(QByteArrayView text)
{
    return text.startsWith("Traceback (most recent call last):");
}

bool chainsTracebacks(QByteArrayView text)
{
    return text.startsWith("During handling of the above exception")
        || text.startsWith("The above exception was the direct cause");
}

// "ValueError: bad input", "requests.exceptions.HTTPError: 500", "KeyboardInterrupt",
// "ExceptionGroup: x (2 sub-exceptions)".
bool endsTraceback(QByteArrayView text)
{
    qsizetype i = 0;
    while (i < text.size() && (isAlpha(text[i]) || isDigit(text[i]) || text[i] == '_' || text[i] == '.'))
        ++i;
    if (i == 0 || isDigit(text[0]) || text[0] == '.')
        return false;
    return i == text.size() || text[i] == ':' || text[i] == '\r';
}

} // namespace

LogLevel RecordLevels::next(LogLevel given, LogLevel fallback, QByteArrayView utf8Text, qint64 ts)
{
    const bool recent = m_level != LogLevel::Unknown && std::abs(ts - m_lastTs) <= ContinuationMs;
    const QByteArrayView text = withoutLeadingEscapes(utf8Text);
    m_lastContinued = false;
    if (given == LogLevel::Unknown && recent) {
        const bool indented = !text.isEmpty() && (text[0] == ' ' || text[0] == '\t');
        bool continues = false;
        const bool blank = text.isEmpty() || text == "\r";
        const bool afterException = m_afterException;
        m_afterException = false;
        if (startsTraceback(text)) {
            continues = true;
            m_inTraceback = true;
        } else if (m_inTraceback) {
            if (indented || blank || chainsTracebacks(text)) {
                continues = true;
            } else {
                m_inTraceback = false;
                continues = endsTraceback(text) && inferLogLevel(text) == LogLevel::Unknown;
                m_afterException = continues;
            }
        } else if (afterException && (blank || chainsTracebacks(text))) {
            // Between chained tracebacks: "During handling of the above exception, ...".
            continues = true;
            m_afterException = blank;
            m_inTraceback = !blank;
        } else {
            continues = indented;
        }
        if (continues) {
            m_lastTs = ts;
            m_lastContinued = true;
            return m_level;
        }
    }
    LogLevel level = given;
    if (level == LogLevel::Unknown)
        level = inferLogLevel(utf8Text);
    if (level == LogLevel::Unknown)
        level = fallback;
    m_level = level;
    m_lastTs = ts;
    m_inTraceback = startsTraceback(text);
    m_afterException = false;
    return level;
}
