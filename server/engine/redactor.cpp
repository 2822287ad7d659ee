// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/engine/redactor.h"

#include "server/protocol/simd.h"

#include <QString>
#include <QtAlgorithms>

#include <array>
#include <cstring>

/*
 * The built-in rules run on every console line, so they are matched by hand on
 * the UTF-8 bytes: one pass looks only at a handful of trigger bytes
 * ('-', '_', 'A', 'b', 'B', ':', '='), and a line without a secret costs that
 * pass and nothing else, no allocation. Every replaced range starts and ends at
 * an ASCII byte or at the end of the line, so valid UTF-8 stays valid.
 *
 * What is replaced by [REDACTED] (docs/protocol.md repeats this):
 *   - API keys, the whole token, when not preceded by a letter or digit:
 *     "sk-" + 16 or more of [A-Za-z0-9_-] (OpenAI, Anthropic "sk-ant-...");
 *     "sk_live_", "sk_test_", "rk_live_", "rk_test_" + 16 or more of [A-Za-z0-9] (Stripe);
 *     "ghp_", "gho_", "ghu_", "ghs_", "ghr_" + 20 or more of [A-Za-z0-9] and
 *     "github_pat_" + 22 or more of [A-Za-z0-9_] (GitHub);
 *     "xoxb-", "xoxa-", "xoxp-", "xoxr-", "xoxs-" + 10 or more of [A-Za-z0-9-] (Slack);
 *     "AKIA" or "ASIA" + exactly 16 of [A-Z0-9], then no letter or digit (AWS key ids);
 *     "AIza" + exactly 35 of [A-Za-z0-9_-] (Google).
 *   - The value of a secret-named key. The key is an identifier of [A-Za-z0-9_.-]
 *     (not preceded by '/' or '\', so "/etc/passwd:" is a path) whose end matches,
 *     ignoring case, password, passwd, pwd, passphrase, secret, token, api_key,
 *     secret_key, access_key, private_key or authorization, where '_' stands for
 *     '_', '-', '.' or nothing: "OPENAI_API_KEY", "apikey", "x-api-token",
 *     "client_secret", "accessToken", "DB_PASSWORD", but not "tokens" or
 *     "max_tokens". It may be quoted ("password", 'password', \"password\").
 *     Then ':', '=', ':=' or '=>', with spaces allowed around ':', and around
 *     '=' only when there is one before it ("a= b" is not an assignment of b).
 *     Not "==", "!=", "<=", ">=", "::". Then the value: up to the closing quote
 *     when quoted (with \-escapes; \"...\" too), else up to whitespace, one of
 *     , ; & " ' ` ) ] } < > or \" \'. Values starting with { [ ( < are left alone.
 *     A leading "Bearer " or "Basic " (any case) is kept. The key and separator
 *     are kept: "password=[REDACTED]".
 *   - "Bearer" (any case, not preceded by a letter or digit), blanks, then a token
 *     of [A-Za-z0-9._~+/=-] holding something other than a-z (so "the bearer of
 *     bad news" stays): the token.
 *   - A URL's password: "scheme://user:PASSWORD@host", the scheme ending in a
 *     letter, up to the last '@' before whitespace, '/', '?', '#', quotes, < > \ `.
 * Text that already reads "[REDACTED]" is skipped, and a marker counts as part of
 * the word it touches, so redacting twice changes nothing.
 */

namespace {

constexpr qsizetype MarkerSize = 10;
static_assert(Redactor::Marker.size() == MarkerSize);

#if !AGENTDECK_SSE2
constexpr std::array<bool, 256> makeTriggers()
{
    std::array<bool, 256> t{};
    for (const char c : {'-', '_', 'A', 'b', 'B', ':', '='})
        t[quint8(c)] = true;
    return t;
}
constexpr std::array<bool, 256> Triggers = makeTriggers();
#endif

/*
 * Finds the trigger bytes of a line in order. With SSE2 it classifies sixteen
 * bytes at a time into a bit mask and walks its set bits, so the cost per line
 * is one compare per block plus the rules at the triggers; a byte-by-byte loop
 * alone would cost more than all the rules together. Elsewhere it falls back to
 * a table lookup per byte.
 */
class TriggerScanner
{
public:
    TriggerScanner(const char* s, qsizetype n)
        : m_s(s)
        , m_n(n)
    { }

    /// The index of the first trigger byte at or after from, or the line's size.
    qsizetype next(qsizetype from)
    {
#if AGENTDECK_SSE2
        for (;;) {
            if (from < m_blockEnd) {
                const quint32 mask = m_mask >> (from - m_block);
                if (mask)
                    return from + qCountTrailingZeroBits(mask);
                from = m_blockEnd;
            }
            if (from >= m_n)
                return m_n;
            load(from);
        }
#else
        while (from < m_n && !Triggers[quint8(m_s[from])])
            ++from;
        return from;
#endif
    }

private:
#if AGENTDECK_SSE2
    // Bytes in [lo, hi], compared as unsigned.
    static __m128i inRange(__m128i x, char lo, char hi)
    {
        const __m128i offset = _mm_xor_si128(_mm_sub_epi8(x, _mm_set1_epi8(lo)), _mm_set1_epi8(char(0x80)));
        return _mm_cmplt_epi8(offset, _mm_set1_epi8(char((hi - lo + 1) ^ 0x80)));
    }

    template <typename... Bytes>
    static __m128i anyOf(__m128i x, Bytes... bytes)
    {
        __m128i hit = _mm_setzero_si128();
        ((hit = _mm_or_si128(hit, _mm_cmpeq_epi8(x, _mm_set1_epi8(bytes)))), ...);
        return hit;
    }

    void load(qsizetype from)
    {
        __m128i v;
        __m128i prev;
        if (m_n >= 16) {
            // The last block overlaps the one before it rather than leaving a tail.
            m_block = std::min(from, m_n - 16);
            v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(m_s + m_block));
            prev = m_block > 0 ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(m_s + m_block - 1))
                               : _mm_slli_si128(v, 1);
        } else {
            // A short line is padded with zero bytes, which trigger nothing.
            alignas(16) char padded[16] = {};
            std::memcpy(padded, m_s, size_t(m_n));
            m_block = 0;
            v = _mm_load_si128(reinterpret_cast<const __m128i*>(padded));
            prev = _mm_slli_si128(v, 1);
        }
        m_blockEnd = m_block + 16;
        const __m128i folded = _mm_or_si128(v, _mm_set1_epi8(0x20));
        const __m128i wordStart =
            _mm_or_si128(_mm_cmpeq_epi8(folded, _mm_set1_epi8('b')), _mm_cmpeq_epi8(v, _mm_set1_epi8('A')));
        const __m128i joint =
            _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('-')), _mm_cmpeq_epi8(v, _mm_set1_epi8('_')));
        const __m128i separator =
            _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(':')), _mm_cmpeq_epi8(v, _mm_set1_epi8('=')));
        m_mask = quint32(_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(wordStart, joint), separator)));
        if (!m_mask)
            return;
        // Drop the triggers that the byte before rules out, mostly the '-' and
        // ':' of timestamps and the letters inside words, which are the bulk of
        // them: each rule then costs a mispredicted branch or two for nothing.
        const __m128i letter = inRange(_mm_or_si128(prev, _mm_set1_epi8(0x20)), 'a', 'z');
        const __m128i alnum = _mm_or_si128(letter, inRange(prev, '0', '9'));
        const __m128i keep =
            _mm_or_si128(_mm_or_si128(_mm_andnot_si128(alnum, wordStart),
                                      _mm_and_si128(joint, anyOf(prev, 'k', 'b', 'a', 'p', 'r', 's', 'o', 'u'))),
                         _mm_and_si128(separator, _mm_or_si128(letter, anyOf(prev, '"', '\'', ' ', '\t'))));
        m_mask = quint32(_mm_movemask_epi8(keep));
    }

    qsizetype m_block = 0;
    qsizetype m_blockEnd = 0;
    quint32 m_mask = 0;
#endif
    const char* m_s;
    qsizetype m_n;
};

inline bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

inline bool isAlpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

inline bool isAlnum(char c)
{
    return isAlpha(c) || isDigit(c);
}

inline char toLower(char c)
{
    return c >= 'A' && c <= 'Z' ? char(c + ('a' - 'A')) : c;
}

inline bool isKeyTokenChar(char c)
{
    return isAlnum(c) || c == '_' || c == '-';
}

inline bool isIdentChar(char c)
{
    return isAlnum(c) || c == '_' || c == '-' || c == '.';
}

inline bool isBearerChar(char c)
{
    return isAlnum(c) || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '=' || c == '-';
}

inline bool isBlank(char c)
{
    return c == ' ' || c == '\t';
}

bool isValueEnd(char c)
{
    switch (c) {
    case ' ':
    case '\t':
    case '\r':
    case '\n':
    case '\v':
    case '\f':
    case ',':
    case ';':
    case '&':
    case '"':
    case '\'':
    case '`':
    case ')':
    case ']':
    case '}':
    case '<':
    case '>':
        return true;
    default:
        return false;
    }
}

/// A range to replace, [begin, end), and where the scan goes on.
struct Hit
{
    qsizetype begin = -1;
    qsizetype end = -1;
    qsizetype resume = -1;
};

class Line
{
public:
    Line(const char* s, qsizetype n)
        : m_s(s)
        , m_n(n)
    { }

    char at(qsizetype i) const { return i >= 0 && i < m_n ? m_s[i] : '\0'; }
    bool has(qsizetype i, QByteArrayView what) const
    {
        return i >= 0 && m_n - i >= what.size() && std::memcmp(m_s + i, what.data(), size_t(what.size())) == 0;
    }
    bool hasMarker(qsizetype i) const { return has(i, Redactor::Marker); }
    bool hasLower(qsizetype i, QByteArrayView lowerWhat) const
    {
        if (i < 0 || m_n - i < lowerWhat.size())
            return false;
        for (qsizetype k = 0; k < lowerWhat.size(); ++k) {
            if (toLower(m_s[i + k]) != lowerWhat[k])
                return false;
        }
        return true;
    }
    // True when a token may start at i: no letter or digit right before it. A
    // marker counts as a word, so that text a configured pattern cut short
    // ("AKIA" of "AKIABearer") does not start a new token on the next pass.
    bool startsWord(qsizetype i) const
    {
        return i == 0 || (!isAlnum(m_s[i - 1]) && !(m_s[i - 1] == ']' && hasMarker(i - MarkerSize)));
    }
    template <typename Pred>
    qsizetype span(qsizetype i, Pred pred) const
    {
        while (i < m_n && pred(m_s[i]))
            ++i;
        return i;
    }

    Hit dash(qsizetype i, qsizetype floor) const;
    Hit underscore(qsizetype i, qsizetype floor) const;
    Hit capitalA(qsizetype i) const;
    Hit bearer(qsizetype i) const;
    Hit url(qsizetype i) const;
    Hit keyValue(qsizetype i, qsizetype floor) const;

private:
    Hit skipWord(qsizetype i) const;
    qsizetype valueEnd(qsizetype i) const;
    bool secretKeyBefore(qsizetype end, qsizetype floor) const;
    Hit credential(qsizetype begin, qsizetype end, qsizetype resume) const;

    const char* m_s;
    qsizetype m_n;
};

// A whole token [begin, end) when its body from bodyStart is at least minBody long.
Hit token(qsizetype begin, qsizetype bodyStart, qsizetype end, qsizetype minBody)
{
    if (end - bodyStart < minBody)
        return {};
    return {begin, end, end};
}

Hit Line::dash(qsizetype i, qsizetype floor) const
{
    if (i - 2 >= floor && at(i - 2) == 's' && at(i - 1) == 'k' && startsWord(i - 2))
        return token(i - 2, i + 1, span(i + 1, isKeyTokenChar), 16);
    if (i - 4 >= floor && has(i - 4, "xox") && at(i - 1) && std::strchr("baprs", at(i - 1)) && startsWord(i - 4))
        return token(i - 4, i + 1, span(i + 1, [](char c) { return isAlnum(c) || c == '-'; }), 10);
    return {};
}

Hit Line::underscore(qsizetype i, qsizetype floor) const
{
    if (i - 3 >= floor && has(i - 3, "gh") && at(i - 1) && std::strchr("pousr", at(i - 1)) && startsWord(i - 3))
        return token(i - 3, i + 1, span(i + 1, isAlnum), 20);
    if (i - 6 >= floor && has(i - 6, "github_pat_") && startsWord(i - 6))
        return token(i - 6, i + 5, span(i + 5, [](char c) { return isAlnum(c) || c == '_'; }), 22);
    if (i - 2 >= floor && (at(i - 2) == 's' || at(i - 2) == 'r') && at(i - 1) == 'k' && startsWord(i - 2)
        && (has(i + 1, "live_") || has(i + 1, "test_")))
        return token(i - 2, i + 6, span(i + 6, isAlnum), 16);
    return {};
}

// The letter triggers only count at the start of a word, so after a miss the
// rest of the word is skipped: a run of "AAAA..." costs one look per word.
Hit Line::skipWord(qsizetype i) const
{
    return {-1, -1, span(i + 1, isAlnum)};
}

Hit Line::capitalA(qsizetype i) const
{
    if (!startsWord(i))
        return skipWord(i);
    // These keys have an exact length, so a run that goes on into a marker is
    // left alone: it was longer before, and must not match on a second pass.
    if (has(i, "AKIA") || has(i, "ASIA")) {
        const qsizetype end = span(i + 4, [](char c) { return isDigit(c) || (c >= 'A' && c <= 'Z'); });
        if (end - (i + 4) == 16 && !isAlnum(at(end)) && !hasMarker(end))
            return {i, end, end};
    } else if (has(i, "AIza")) {
        const qsizetype end = span(i + 4, isKeyTokenChar);
        if (end - (i + 4) == 35 && !hasMarker(end))
            return {i, end, end};
    }
    return skipWord(i);
}

Hit Line::bearer(qsizetype i) const
{
    if (!startsWord(i) || !hasLower(i + 1, "earer") || !isBlank(at(i + 6)))
        return skipWord(i);
    const qsizetype begin = span(i + 6, isBlank);
    if (hasMarker(begin))
        return {-1, -1, begin + MarkerSize};
    const qsizetype end = span(begin, isBearerChar);
    for (qsizetype k = begin; k < end; ++k) {
        if (m_s[k] < 'a' || m_s[k] > 'z')
            return {begin, end, end};
    }
    return {-1, -1, begin};
}

Hit Line::url(qsizetype i) const
{
    // i is on the ':' of "://", after a scheme that ends in a letter
    if (i == 0 || !isAlpha(m_s[i - 1]))
        return {-1, -1, i + 3};
    const qsizetype begin = i + 3;
    qsizetype at_ = -1;
    qsizetype colon = -1;
    for (qsizetype k = begin; k < m_n && k - begin < 512; ++k) {
        const char c = m_s[k];
        if (c == '@') {
            at_ = k;
        } else if (c == ':') {
            if (colon < 0)
                colon = k;
        } else if (quint8(c) <= ' ' || c == '/' || c == '?' || c == '#' || c == '"' || c == '\'' || c == '<' || c == '>'
                   || c == '\\' || c == '`' || (c == '[' && hasMarker(k))) {
            // A marker ends the user info too: a value redacted after it may have
            // held the byte that ended it, and must not join it on the next pass.
            break;
        }
    }
    if (colon >= 0 && hasMarker(colon + 1) && at(colon + 1 + MarkerSize) == '@')
        return {-1, -1, colon + 1 + MarkerSize};
    if (at_ < 0 || colon < 0 || colon > at_ || colon + 1 == at_)
        return {-1, -1, begin};
    return {colon + 1, at_, at_};
}

// The end of an unquoted value starting at i. A marker ends it too, so that a
// value glued to one is redacted the same way on every pass.
qsizetype Line::valueEnd(qsizetype i) const
{
    while (i < m_n && !isValueEnd(m_s[i]) && !(m_s[i] == '[' && hasMarker(i))
           && !(m_s[i] == '\\' && (at(i + 1) == '"' || at(i + 1) == '\'')))
        ++i;
    return i;
}

// Does the identifier that ends at end carry a secret's name?
bool Line::secretKeyBefore(qsizetype end, qsizetype floor) const
{
    // A cheap first test on the last two letters, which every name below ends
    // in, for the ':' of "module:function:line" and the like.
    if (end - 2 < floor)
        return false;
    switch ((quint16(quint8(toLower(m_s[end - 2]))) << 8) | quint8(toLower(m_s[end - 1]))) {
    case ('r' << 8) | 'd': // password
    case ('w' << 8) | 'd': // passwd, pwd
    case ('s' << 8) | 'e': // passphrase
    case ('e' << 8) | 't': // secret
    case ('e' << 8) | 'n': // token
    case ('e' << 8) | 'y': // ..._key
    case ('o' << 8) | 'n': // authorization
        break;
    default:
        return false;
    }
    qsizetype begin = end;
    while (begin > floor && isIdentChar(m_s[begin - 1]) && end - begin < 128)
        --begin;
    if (begin > 0 && (m_s[begin - 1] == '/' || m_s[begin - 1] == '\\'))
        return false;
    static constexpr QByteArrayView Names[] = {"password",   "passwd",      "pwd",          "passphrase",
                                               "secret",     "token",       "api_key",      "secret_key",
                                               "access_key", "private_key", "authorization"};
    for (const QByteArrayView name : Names) {
        // Compare backwards; '_' in a name matches '_', '-', '.' or nothing.
        qsizetype k = end - 1;
        qsizetype j = name.size() - 1;
        for (; j >= 0; --j) {
            if (name[j] == '_') {
                if (k >= begin && (m_s[k] == '_' || m_s[k] == '-' || m_s[k] == '.'))
                    --k;
                continue;
            }
            if (k < begin || toLower(m_s[k]) != name[j])
                break;
            --k;
        }
        if (j < 0)
            return true;
    }
    return false;
}

// The value [begin, end) of a secret key, less a leading auth scheme.
Hit Line::credential(qsizetype begin, qsizetype end, qsizetype resume) const
{
    for (const QByteArrayView scheme : {QByteArrayView("bearer"), QByteArrayView("basic")}) {
        if (hasLower(begin, scheme) && begin + scheme.size() < end && isBlank(m_s[begin + scheme.size()])) {
            const qsizetype rest = span(begin + scheme.size(), isBlank);
            if (rest < end)
                begin = rest;
            break;
        }
    }
    if (hasMarker(begin))
        return {-1, -1, std::max(resume, begin + MarkerSize)};
    if (begin >= end)
        return {-1, -1, resume};
    return {begin, end, resume};
}

// Kept whole: the key's quoting, the separator and the value's extent are decided
// together, and each step narrows what the next may accept.
Hit Line::keyValue(qsizetype i, qsizetype floor) const
{
    const char sep = m_s[i];
    const char next = at(i + 1);
    const char prev = at(i - 1);
    // Operators, not assignments: "==", "!=", "<=", ">=", "::"
    if (next == sep || (sep == '=' && (prev == '=' || prev == '!' || prev == '<' || prev == '>'))
        || (sep == ':' && prev == ':'))
        return {};
    qsizetype k = i;
    bool spaceBefore = false;
    while (k > floor && isBlank(m_s[k - 1])) {
        --k;
        spaceBefore = true;
    }
    if (k > floor && (m_s[k - 1] == '"' || m_s[k - 1] == '\'')) {
        --k;
        if (k > floor && m_s[k - 1] == '\\') // JSON inside a string: {\"password\": \"x\"}
            --k;
    }
    if (!secretKeyBefore(k, floor))
        return {};
    qsizetype v = i + 1;
    bool arrow = false;
    if ((sep == ':' && next == '=') || (sep == '=' && next == '>')) {
        ++v;
        arrow = true;
    }
    if (sep == ':' || spaceBefore || arrow)
        v = span(v, isBlank);
    if (v >= m_n)
        return {};
    const char first = m_s[v];
    if (first == '{' || first == '[' || first == '(' || first == '<') {
        if (hasMarker(v))
            return {-1, -1, v + MarkerSize};
        return {};
    }
    if (first == '\\' && (at(v + 1) == '"' || at(v + 1) == '\'')) {
        const char quote[] = {'\\', m_s[v + 1]};
        const qsizetype e = QByteArrayView(m_s, m_n).indexOf(QByteArrayView(quote, 2), v + 2);
        if (e >= 0)
            return credential(v + 2, e, e + 2);
        v += 2; // no closing quote: read the rest as unquoted
    } else if (first == '"' || first == '\'') {
        for (qsizetype e = v + 1; e < m_n; ++e) {
            if (m_s[e] == '\\') {
                ++e;
            } else if (m_s[e] == first) {
                return credential(v + 1, e, e + 1);
            }
        }
        ++v; // no closing quote: read the rest as unquoted
    }
    qsizetype end = valueEnd(v);
    // "Bearer abc": the value goes on past the space after the scheme
    if (end < m_n && isBlank(m_s[end]) && (hasLower(v, "bearer") || hasLower(v, "basic"))) {
        const qsizetype rest = span(end, isBlank);
        if (hasMarker(rest))
            return {-1, -1, rest + MarkerSize};
        const qsizetype e = valueEnd(rest);
        if (e > rest)
            end = e;
    }
    return credential(v, end, end);
}

/// Appends the kept text and the markers to an output buffer made on the first hit.
class Writer
{
public:
    Writer(QByteArrayView in, QByteArray* out)
        : m_in(in)
        , m_out(out)
    { }

    qsizetype floor() const { return m_last; }
    bool wrote() const { return m_started; }

    void replace(qsizetype begin, qsizetype end)
    {
        if (!m_started) {
            m_started = true;
            m_out->resize(0);
            m_out->reserve(m_in.size() + 2 * MarkerSize);
        }
        m_out->append(m_in.data() + m_last, begin - m_last);
        m_out->append(Redactor::Marker);
        m_last = end;
    }

    void finish()
    {
        if (m_started)
            m_out->append(m_in.data() + m_last, m_in.size() - m_last);
    }

private:
    QByteArrayView m_in;
    QByteArray* m_out;
    qsizetype m_last = 0;
    bool m_started = false;
};

bool redactBuiltIn(QByteArrayView in, QByteArray* out)
{
    const char* s = in.data();
    const qsizetype n = in.size();
    const Line line(s, n);
    Writer writer(in, out);
    TriggerScanner triggers(s, n);
    qsizetype i = 0;
    while ((i = triggers.next(i)) < n) {
        Hit hit;
        switch (s[i]) {
        case '-':
            hit = line.dash(i, writer.floor());
            break;
        case '_':
            hit = line.underscore(i, writer.floor());
            break;
        case 'A':
            hit = line.capitalA(i);
            break;
        case 'b':
        case 'B':
            hit = line.bearer(i);
            break;
        case ':':
            if (line.at(i + 1) == '/' && line.at(i + 2) == '/') {
                hit = line.url(i);
                break;
            }
            hit = line.keyValue(i, writer.floor());
            break;
        case '=':
            hit = line.keyValue(i, writer.floor());
            break;
        default:
            break;
        }
        if (hit.begin >= 0)
            writer.replace(hit.begin, hit.end);
        i = hit.resume > i ? hit.resume : i + 1;
    }
    writer.finish();
    return writer.wrote();
}

// Is [begin, end) part of a marker already in text?
bool insideMarker(const QString& text, qsizetype begin, qsizetype end)
{
    static const QString marker = QString::fromLatin1(Redactor::Marker);
    for (qsizetype m = std::max<qsizetype>(0, end - MarkerSize); m <= begin; ++m) {
        if (QStringView(text).mid(m, MarkerSize) == marker)
            return true;
    }
    return false;
}

} // namespace

Redactor::Redactor() = default;

bool Redactor::configure(bool useDefaults, const QStringList& extraPatterns, QString* error)
{
    QList<QRegularExpression> extra;
    extra.reserve(extraPatterns.size());
    for (const QString& pattern : extraPatterns) {
        QRegularExpression re(pattern);
        QString problem;
        if (pattern.isEmpty())
            problem = QStringLiteral("Redaction pattern %1 is empty").arg(extra.size() + 1);
        else if (!re.isValid())
            problem = QStringLiteral("Invalid redaction pattern \"%1\": %2 at offset %3")
                          .arg(pattern, re.errorString())
                          .arg(re.patternErrorOffset());
        if (!problem.isEmpty()) {
            if (error)
                *error = problem;
            return false;
        }
        re.optimize();
        extra.append(re);
    }
    m_useDefaults = useDefaults;
    m_extra = std::move(extra);
    return true;
}

bool Redactor::redact(QByteArrayView utf8, QByteArray* out) const
{
    // The configured patterns run first: the built-in rules look at what
    // surrounds a secret, and markers put in by a pattern afterwards could
    // change that on a second pass.
    QByteArray patterned;
    const bool byPattern = !m_extra.isEmpty() && redactPatterns(utf8, &patterned);
    if (byPattern)
        utf8 = patterned;

    // Write to a scratch buffer when the caller passes text that lives in *out.
    const bool aliased =
        !out->isEmpty() && utf8.data() >= out->constData() && utf8.data() < out->constData() + out->size();
    QByteArray scratch;
    const bool builtIn = m_useDefaults && redactBuiltIn(utf8, aliased || byPattern ? &scratch : out);
    if (builtIn && (aliased || byPattern))
        *out = std::move(scratch);
    else if (!builtIn && byPattern)
        *out = std::move(patterned);
    return builtIn || byPattern;
}

bool Redactor::redactPatterns(QByteArrayView utf8, QByteArray* out) const
{
    // The patterns work on UTF-16; invalid UTF-8 comes back as U+FFFD on the
    // lines they change.
    QString text = QString::fromUtf8(utf8);
    bool changed = false;
    for (const QRegularExpression& re : m_extra) {
        const int group = re.captureCount() > 0 ? 1 : 0;
        QString result;
        qsizetype last = 0;
        auto it = re.globalMatch(text);
        while (it.hasNext()) {
            const QRegularExpressionMatch match = it.next();
            const qsizetype begin = match.capturedStart(group);
            const qsizetype end = match.capturedEnd(group);
            if (begin < last || end <= begin || insideMarker(text, begin, end))
                continue;
            result.append(QStringView(text).mid(last, begin - last));
            result.append(QLatin1StringView(Marker.data(), Marker.size()));
            last = end;
        }
        if (last > 0) {
            result.append(QStringView(text).mid(last));
            text = std::move(result);
            changed = true;
        }
    }
    if (changed)
        *out = text.toUtf8();
    return changed;
}
