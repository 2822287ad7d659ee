// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/engine/redactor.h"

#include "server/protocol/simd.h"

#include <QString>
#include <QtAlgorithms>

#include <array>
#include <cstring>
#include <utility>

/*
 * The built-in rules run on every console line, so they are matched by hand on
 * the UTF-8 bytes: one pass looks only at a handful of trigger bytes ('-', '_',
 * 'A', 'b', 'B', 'p', 'J', ':', '=' and the 0xBC of full-width forms), most of
 * them only after a particular byte, and a line without a secret costs that pass
 * and nothing else, no allocation. Every replaced range starts and ends on a
 * character boundary (at an ASCII byte, before a multi-byte character's first
 * byte, or at the end of the text), so valid UTF-8 stays valid.
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
 *   - JSON Web Tokens, the whole token, when not preceded by a letter or digit:
 *     "eyJ" + 10 or more of [A-Za-z0-9_-], '.', 10 or more of them, '.', and any
 *     number of them (the signature may be empty).
 *   - The value of a secret-named key. The key is an identifier of [A-Za-z0-9_.-]
 *     (not preceded by '/' or '\', so "/etc/passwd:" is a path) whose end matches,
 *     ignoring case, password, passwd, pwd, passphrase, secret, token, api_key,
 *     secret_key, access_key, private_key or authorization, where '_' stands for
 *     '_', '-', '.' or nothing: "OPENAI_API_KEY", "apikey", "x-api-token",
 *     "client_secret", "accessToken", "DB_PASSWORD", but not "tokens" or
 *     "max_tokens". Also pass, after '_', '-' or '.' ("DB_PASS", "MYSQL_PASS"),
 *     or alone before '=' or when quoted ("pass=x", "'pass': x", but not
 *     "PASS: test_x", "bypass=1" or "compass: north"). Also the Chinese names
 *     密码, 密碼, 口令, 密钥, 密鑰 and 令牌, whatever precedes them.
 *     It may be quoted ("password", 'password', \"password\").
 *     Then ':', '=', ':=' or '=>', with spaces allowed around ':', and around
 *     '=' only when there is one before it ("a= b" is not an assignment of b);
 *     or the full-width '：' (U+FF1A) or '＝' (U+FF1D), spaces allowed around.
 *     Not "==", "!=", "<=", ">=", "::". Then the value: up to the closing quote
 *     when quoted (with \-escapes; \"...\" too), else up to whitespace, one of
 *     , ; & " ' ` ) ] } < >, \" \', full-width punctuation (U+FF00-U+FFEF, such
 *     as '，') or CJK punctuation (U+3000-U+303F, such as '。' or the ideographic
 *     space). Values starting with { [ ( < are left alone, and one starting with
 *     "-----BEGIN " goes to the private-key rule. A leading "Bearer ", "Basic "
 *     or "Token " (any case) is kept. The key and separator are kept:
 *     "password=[REDACTED]".
 *   - The value of a long flag of a secret name as above, given after blanks:
 *     "--password x", "--api-key x", "--db-password "x y"", unless it starts
 *     with '-' or is the name in capitals (help text: "--password PASSWORD").
 *     The flag starts the line or follows a blank or quote. Not "--token-file x".
 *   - What is glued to "-p" at the start of the line or after a blank or quote,
 *     when the line before it names mysql or mariadb (any case): "mysql -u root
 *     -pS3cret db" (MySQL and MariaDB clients take their password so), but not
 *     "-pthread", "-pedantic" or "-print" elsewhere.
 *   - "Bearer" (any case, not preceded by a letter or digit), blanks, then a token
 *     of [A-Za-z0-9._~+/=-] holding something other than a-z (so "the bearer of
 *     bad news" stays): the token.
 *   - A URL's password: "scheme://user:PASSWORD@host", the scheme ending in a
 *     letter, up to the last '@' before whitespace, '/', '?', '#', quotes, < > \ `.
 *   - The body of a private key: after "-----BEGIN <label>-----", the label of
 *     [A-Z0-9 ] ending in "PRIVATE KEY" or "PRIVATE KEY BLOCK" ("RSA PRIVATE KEY",
 *     "OPENSSH PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "PGP PRIVATE KEY BLOCK"...),
 *     up to "-----END " or the end of the text, less the blank space and line
 *     breaks around it, becomes one [REDACTED]: the BEGIN and END lines are kept.
 *     Consoles that deliver a key one line per call keep a Redactor::Stream
 *     (redactor.h) for its lines after the BEGIN line.
 * Text that already reads "[REDACTED]" is skipped, and a marker counts as part of
 * the word it touches, so redacting twice changes nothing.
 */

namespace {

constexpr qsizetype MarkerSize = 10;
static_assert(Redactor::Marker.size() == MarkerSize);

constexpr QByteArrayView KeyEnd = "-----END ";

#if !AGENTDECK_SSE2
constexpr std::array<bool, 256> makeTriggers()
{
    std::array<bool, 256> t{};
    for (const char c : {'-', '_', 'A', 'b', 'B', 'p', 'J', ':', '=', '\xBC'})
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
    Q_ALWAYS_INLINE qsizetype next(qsizetype from)
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

    static __m128i is(__m128i x, char byte)
    {
        return _mm_cmpeq_epi8(x, _mm_set1_epi8(byte));
    }

    template <typename... Bytes>
    static __m128i anyOf(__m128i x, Bytes... bytes)
    {
        __m128i hit = _mm_setzero_si128();
        ((hit = _mm_or_si128(hit, is(x, bytes))), ...);
        return hit;
    }

    Q_ALWAYS_INLINE void load(qsizetype from)
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
        const __m128i wordStart = _mm_or_si128(is(folded, 'b'), is(v, 'A'));
        const __m128i dash = is(v, '-');
        const __m128i joint = _mm_or_si128(dash, is(v, '_'));
        const __m128i separator = _mm_or_si128(is(v, ':'), is(v, '='));
        // 'p' is too common a letter to trigger anything but after '-' ("-p" of a
        // MySQL password); 'J' and 0xBC are rare enough in most text to be sorted
        // out below, with the rest.
        const __m128i afterDash = is(prev, '-');
        const __m128i dashP = _mm_and_si128(is(v, 'p'), afterDash);
        const __m128i j = is(v, 'J');
        const __m128i wide = is(v, char(0xBC));
        m_mask = quint32(_mm_movemask_epi8(_mm_or_si128(
            _mm_or_si128(wordStart, joint), _mm_or_si128(separator, _mm_or_si128(dashP, _mm_or_si128(j, wide))))));
        if (!m_mask)
            return;
        // Drop the triggers that the byte before rules out, mostly the '-' and
        // ':' of timestamps and the letters inside words, which are the bulk of
        // them: each rule then costs a mispredicted branch or two for nothing.
        // 'J' and 0xBC count only after one byte each, the "yJ" of a JWT's "eyJ"
        // and the 0xEF 0xBC of '：' and '＝'; '-' after '-' starts a long flag or
        // a private key's BEGIN line.
        const __m128i letter = inRange(_mm_or_si128(prev, _mm_set1_epi8(0x20)), 'a', 'z');
        const __m128i alnum = _mm_or_si128(letter, inRange(prev, '0', '9'));
        const __m128i nonAscii = _mm_cmplt_epi8(prev, _mm_setzero_si128());
        const __m128i afterOne =
            _mm_or_si128(_mm_or_si128(dashP, _mm_and_si128(dash, afterDash)),
                         _mm_or_si128(_mm_and_si128(j, is(prev, 'y')), _mm_and_si128(wide, is(prev, char(0xEF)))));
        const __m128i keep = _mm_or_si128(
            _mm_or_si128(_mm_andnot_si128(alnum, wordStart),
                         _mm_and_si128(joint, anyOf(prev, 'k', 'b', 'a', 'p', 'r', 's', 'o', 'u'))),
            _mm_or_si128(_mm_and_si128(separator,
                                       _mm_or_si128(_mm_or_si128(letter, nonAscii), anyOf(prev, '"', '\'', ' ', '\t'))),
                         afterOne));
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

inline char toUpper(char c)
{
    return c >= 'a' && c <= 'z' ? char(c - ('a' - 'A')) : c;
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

inline bool isSpace(char c)
{
    return isBlank(c) || c == '\r' || c == '\n';
}

inline bool isQuote(char c)
{
    return c == '"' || c == '\'';
}

inline bool isBase64Char(char c)
{
    return isAlnum(c) || c == '+' || c == '/' || c == '=';
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

// The last two bytes of the secret names, in any case: a cheap first test before
// secretNameBefore(), for the ':' of "module:function:line" and the like.
constexpr std::array<quint8, 256> makeNameEnds()
{
    std::array<quint8, 256> t{};
    // password, passwd, pwd, passphrase, secret, token, ..._key, authorization, pass
    for (const char c : {'d', 'e', 't', 'n', 'y', 's'}) {
        t[quint8(c)] |= 1;
        t[quint8(c - 'a' + 'A')] |= 1;
    }
    for (const char c : {'r', 'w', 's', 'e', 'o'}) {
        t[quint8(c)] |= 2;
        t[quint8(c - 'a' + 'A')] |= 2;
    }
    // 密码, 密碼, 口令, 密钥, 密鑰, 令牌
    for (const quint8 c : {0x81, 0xBC, 0xA4, 0xA5, 0xB0, 0x8C})
        t[c] |= 1;
    for (const quint8 c : {0xA0, 0xA2, 0xBB, 0x92, 0x91, 0x89})
        t[c] |= 2;
    return t;
}
constexpr std::array<quint8, 256> NameEnds = makeNameEnds();

// The authentication schemes kept before a credential: "Authorization: Bearer x".
constexpr QByteArrayView Schemes[] = {"bearer", "basic", "token"};

/// A range to replace, [begin, end), where the scan goes on, and whether the text
/// ends inside a private key.
struct Hit
{
    qsizetype begin = -1;
    qsizetype end = -1;
    qsizetype resume = -1;
    bool keyOpen = false;
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
    // True when a command-line argument may start at i.
    bool startsArgument(qsizetype i) const { return i == 0 || isBlank(m_s[i - 1]) || isQuote(m_s[i - 1]); }
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
    bool isGluedP(qsizetype i, qsizetype floor) const;
    Hit gluedValue(qsizetype i) const { return secretValue(i + 1); }
    Hit jwt(qsizetype i, qsizetype floor) const;
    Hit url(qsizetype i, qsizetype floor) const;
    Hit keyValue(qsizetype i, qsizetype floor) const;
    Hit wideKeyValue(qsizetype i, qsizetype floor) const;
    Hit keyBody(qsizetype begin) const;
    bool secretKeyBefore(qsizetype end, qsizetype floor, bool barePass) const
    {
        return end - 2 >= floor && (NameEnds[quint8(m_s[end - 1])] & 1) && (NameEnds[quint8(m_s[end - 2])] & 2)
            && secretNameBefore(end, floor, barePass);
    }

private:
    Hit skipWord(qsizetype i) const;
    Hit dashes(qsizetype i, qsizetype floor) const;
    Hit longFlag(qsizetype name, qsizetype floor, qsizetype resume) const;
    Hit privateKey(qsizetype label) const;
    bool isWidePunctuation(qsizetype i) const;
    qsizetype blanks(qsizetype i) const;
    qsizetype valueEnd(qsizetype i) const;
    qsizetype keyEndBefore(qsizetype separator, qsizetype floor, bool* spaceBefore, bool* quoted) const;
    bool secretNameBefore(qsizetype end, qsizetype floor, bool barePass) const;
    bool isScheme(qsizetype begin, qsizetype end) const;
    Hit secretValue(qsizetype v) const;
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
    if (at(i - 1) == '-')
        return dashes(i, floor);
    if (i - 2 >= floor && at(i - 2) == 's' && at(i - 1) == 'k' && startsWord(i - 2))
        return token(i - 2, i + 1, span(i + 1, isKeyTokenChar), 16);
    if (i - 4 >= floor && has(i - 4, "xox") && at(i - 1) && std::strchr("baprs", at(i - 1)) && startsWord(i - 4))
        return token(i - 4, i + 1, span(i + 1, [](char c) { return isAlnum(c) || c == '-'; }), 10);
    return {};
}

// i is on a '-' after another: two start a long flag ("--password x"), five a
// private key's BEGIN line. The scan goes on after the run, so that a ruler of
// dashes costs one look.
Hit Line::dashes(qsizetype i, qsizetype floor) const
{
    qsizetype begin = i - 1;
    while (begin > floor && m_s[begin - 1] == '-')
        --begin;
    const qsizetype end = span(i, [](char c) { return c == '-'; });
    if (end - begin == 2 && begin >= floor && startsArgument(begin))
        return longFlag(end, floor, end);
    if (end - begin == 5 && has(end, "BEGIN "))
        return privateKey(end + 6);
    return {-1, -1, end};
}

// The value after "--name" and blanks, when name is a secret's: not a flag, and
// not the name in capitals, which is help text ("--api-key API_KEY").
Hit Line::longFlag(qsizetype name, qsizetype floor, qsizetype resume) const
{
    const qsizetype nameEnd = span(name, isIdentChar);
    if (nameEnd == name || !isBlank(at(nameEnd)) || !secretKeyBefore(nameEnd, floor, true))
        return {-1, -1, resume};
    const qsizetype v = span(nameEnd, isBlank);
    if (v >= m_n || m_s[v] == '-')
        return {-1, -1, resume};
    if (valueEnd(v) - v == nameEnd - name) {
        qsizetype k = 0;
        while (k < nameEnd - name && m_s[v + k] == (isAlnum(m_s[name + k]) ? toUpper(m_s[name + k]) : '_'))
            ++k;
        if (k == nameEnd - name)
            return {-1, -1, resume};
    }
    return secretValue(v);
}

// label is after "-----BEGIN ".
Hit Line::privateKey(qsizetype label) const
{
    const qsizetype end = span(label, [](char c) { return (c >= 'A' && c <= 'Z') || isDigit(c) || c == ' '; });
    if (end - label <= 64 && has(end, "-----")) {
        for (const QByteArrayView tail : {QByteArrayView("PRIVATE KEY"), QByteArrayView("PRIVATE KEY BLOCK")}) {
            if (end - label >= tail.size() && has(end - tail.size(), tail))
                return keyBody(end + 5);
        }
    }
    return {-1, -1, label};
}

// The body of a private key from begin up to the line holding "-----END ", or to
// the end of the text, where the key stays open; less the blank space and line
// breaks around it, which keeps the BEGIN and END lines whole.
Hit Line::keyBody(qsizetype begin) const
{
    Hit hit;
    qsizetype end = QByteArrayView(m_s, m_n).indexOf(KeyEnd, begin);
    hit.keyOpen = end < 0;
    if (end < 0)
        end = m_n;
    hit.resume = end;
    while (begin < end && isSpace(m_s[begin]))
        ++begin;
    qsizetype last = end;
    while (last > begin && isSpace(m_s[last - 1]))
        --last;
    if (last > begin && !(last - begin == MarkerSize && hasMarker(begin))) {
        hit.begin = begin;
        hit.end = last;
    }
    return hit;
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

// i is on the 'p' of a "-p" that starts an argument, with something glued to it:
// a password for MySQL and MariaDB clients, another flag ("-pthread") elsewhere.
bool Line::isGluedP(qsizetype i, qsizetype floor) const
{
    const qsizetype flag = i - 1;
    return flag >= floor && at(flag) == '-' && startsArgument(flag) && i + 1 < m_n && !isBlank(m_s[i + 1]);
}

// i is on the 'J' of "eyJ", how the base64url of a JSON Web Token's header starts.
Hit Line::jwt(qsizetype i, qsizetype floor) const
{
    const qsizetype begin = i - 2;
    if (begin < floor || at(i - 1) != 'y' || at(begin) != 'e' || !startsWord(begin))
        return {};
    const qsizetype header = span(i + 1, isKeyTokenChar);
    if (header - (i + 1) < 10 || at(header) != '.')
        return {};
    const qsizetype payload = span(header + 1, isKeyTokenChar);
    if (payload - (header + 1) < 10 || at(payload) != '.')
        return {};
    const qsizetype end = span(payload + 1, isKeyTokenChar);
    return {begin, end, end};
}

Hit Line::url(qsizetype i, qsizetype floor) const
{
    // i is on the ':' of "://", after a scheme that ends in a letter. One that
    // ends in redacted text ends in a marker on the next pass, which is no scheme.
    if (i == 0 || i - 1 < floor || !isAlpha(m_s[i - 1]))
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

// Full-width forms (U+FF00-U+FFEF) and CJK punctuation (U+3000-U+303F) end a
// value: "密码：abc123，用户名：bob". i is on the character's first byte.
bool Line::isWidePunctuation(qsizetype i) const
{
    const quint8 c = quint8(m_s[i]);
    if (c < 0xE3)
        return false;
    const quint8 second = quint8(at(i + 1));
    if (c == 0xE3)
        return second == 0x80;
    return c == 0xEF && ((second >= 0xBC && second <= 0xBE) || (second == 0xBF && quint8(at(i + 2)) < 0xB0));
}

// Past blanks and ideographic spaces (U+3000).
qsizetype Line::blanks(qsizetype i) const
{
    for (;;) {
        if (isBlank(at(i)))
            ++i;
        else if (has(i, "\u3000"))
            i += 3;
        else
            return i;
    }
}

// The end of an unquoted value starting at i. A marker ends it too, so that a
// value glued to one is redacted the same way on every pass.
qsizetype Line::valueEnd(qsizetype i) const
{
    while (i < m_n && !isValueEnd(m_s[i]) && !(m_s[i] == '[' && hasMarker(i))
           && !(m_s[i] == '\\' && (at(i + 1) == '"' || at(i + 1) == '\'')) && !isWidePunctuation(i))
        ++i;
    return i;
}

// Does the identifier that ends at end carry a secret's name? A bare "pass" counts
// only when barePass: "pass=x" is a password, "PASS: test_x" a test's result.
bool Line::secretNameBefore(qsizetype end, qsizetype floor, bool barePass) const
{
    // A second test on the last two bytes, which every name below ends in.
    constexpr quint16 Pass = ('s' << 8) | 's';
    const quint16 lastTwo = (quint16(quint8(toLower(m_s[end - 2]))) << 8) | quint8(toLower(m_s[end - 1]));
    switch (lastTwo) {
    case ('r' << 8) | 'd': // password
    case ('w' << 8) | 'd': // passwd, pwd
    case ('s' << 8) | 'e': // passphrase
    case ('e' << 8) | 't': // secret
    case ('e' << 8) | 'n': // token
    case ('e' << 8) | 'y': // ..._key
    case ('o' << 8) | 'n': // authorization
        break;
    case Pass:
        if (!hasLower(end - 4, "pass"))
            return false;
        break;
    case (0xA0 << 8) | 0x81: // 密码
    case (0xA2 << 8) | 0xBC: // 密碼
    case (0xBB << 8) | 0xA4: // 口令
    case (0x92 << 8) | 0xA5: // 密钥
    case (0x91 << 8) | 0xB0: // 密鑰
    case (0x89 << 8) | 0x8C: // 令牌
        for (const QByteArrayView name : {"密码", "密碼", "口令", "密钥", "密鑰", "令牌"}) {
            if (end - name.size() >= floor && has(end - name.size(), name))
                return true;
        }
        return false;
    default:
        return false;
    }
    qsizetype begin = end;
    while (begin > floor && isIdentChar(m_s[begin - 1]) && end - begin < 128)
        --begin;
    if (begin > 0 && (m_s[begin - 1] == '/' || m_s[begin - 1] == '\\'))
        return false;
    if (lastTwo == Pass) {
        // Only as a word of its own: not "bypass", "compass", "class".
        const qsizetype before = end - 5;
        if (before + 1 < begin)
            return false;
        return before < begin ? barePass : (m_s[before] == '_' || m_s[before] == '-' || m_s[before] == '.');
    }
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

bool Line::isScheme(qsizetype begin, qsizetype end) const
{
    for (const QByteArrayView scheme : Schemes) {
        if (end - begin == scheme.size() && hasLower(begin, scheme))
            return true;
    }
    return false;
}

// The value [begin, end) of a secret key, less a leading auth scheme.
Hit Line::credential(qsizetype begin, qsizetype end, qsizetype resume) const
{
    for (const QByteArrayView scheme : Schemes) {
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

// Where the key before the separator at i ends: before blanks, and before the
// closing quote of a quoted key (\" too, JSON inside a string: {\"password\": \"x\"}).
inline qsizetype Line::keyEndBefore(qsizetype i, qsizetype floor, bool* spaceBefore, bool* quoted) const
{
    qsizetype k = i;
    while (k > floor && isBlank(m_s[k - 1])) {
        --k;
        *spaceBefore = true;
    }
    if (k > floor && isQuote(m_s[k - 1])) {
        --k;
        *quoted = true;
        if (k > floor && m_s[k - 1] == '\\')
            --k;
    }
    return k;
}

// The secret value that starts at v, after a key and its separator, or a flag.
Hit Line::secretValue(qsizetype v) const
{
    if (v >= m_n)
        return {};
    const char first = m_s[v];
    if (first == '{' || first == '[' || first == '(' || first == '<') {
        if (hasMarker(v))
            return {-1, -1, v + MarkerSize};
        return {};
    }
    // "PRIVATE_KEY=-----BEGIN ...": the rule for private keys takes the body.
    if (first == '-' && has(v, "-----BEGIN "))
        return {-1, -1, v};
    if (first == '\\' && (at(v + 1) == '"' || at(v + 1) == '\'')) {
        const char quote[] = {'\\', m_s[v + 1]};
        const qsizetype e = QByteArrayView(m_s, m_n).indexOf(QByteArrayView(quote, 2), v + 2);
        if (e >= 0)
            return credential(v + 2, e, e + 2);
        v += 2; // no closing quote: read the rest as unquoted
    } else if (isQuote(first)) {
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
    if (end < m_n && isBlank(m_s[end]) && isScheme(v, end)) {
        const qsizetype rest = span(end, isBlank);
        if (hasMarker(rest))
            return {-1, -1, rest + MarkerSize};
        const qsizetype e = valueEnd(rest);
        if (e > rest)
            end = e;
    }
    return credential(v, end, end);
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
    bool spaceBefore = false;
    bool quoted = false;
    const qsizetype k = keyEndBefore(i, floor, &spaceBefore, &quoted);
    if (!secretKeyBefore(k, floor, sep == '=' || quoted))
        return {};
    qsizetype v = i + 1;
    bool arrow = false;
    if ((sep == ':' && next == '=') || (sep == '=' && next == '>')) {
        ++v;
        arrow = true;
    }
    if (sep == ':' || spaceBefore || arrow)
        v = blanks(v);
    return secretValue(v);
}

// i is on the 0xBC of a full-width form: '：' (EF BC 9A) and '＝' (EF BC 9D)
// separate a key from its value as ':' does.
Hit Line::wideKeyValue(qsizetype i, qsizetype floor) const
{
    const quint8 last = quint8(at(i + 1));
    if (i - 1 < floor || quint8(at(i - 1)) != 0xEF || (last != 0x9A && last != 0x9D))
        return {};
    bool spaceBefore = false;
    bool quoted = false;
    const qsizetype k = keyEndBefore(i - 1, floor, &spaceBefore, &quoted);
    if (!secretKeyBefore(k, floor, true))
        return {};
    return secretValue(blanks(i + 2));
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
    /// What is written so far: the kept text before floor() and the markers.
    QByteArrayView written() const { return m_started ? QByteArrayView(*m_out) : QByteArrayView(); }

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

// Does text name a MySQL or MariaDB client, in any case?
bool namesClient(QByteArrayView text)
{
    const Line line(text.data(), text.size());
    for (qsizetype k = 0; k < text.size(); ++k) {
        if (toLower(text[k]) == 'm' && (line.hasLower(k, "mysql") || line.hasLower(k, "mariadb")))
            return true;
    }
    return false;
}

/*
 * Whether the text before a "-p" names a MySQL or MariaDB client, as the output
 * reads: a name inside a redacted value does not count, so that a second pass
 * decides the same. No name crosses a marker, so the text written so far and the
 * input after it are searched apart, each byte about once a line.
 */
class ClientMention
{
public:
    bool before(const Writer& writer, QByteArrayView in, qsizetype flag)
    {
        if (m_found)
            return true;
        const QByteArrayView written = writer.written();
        m_found = namesClient(written.sliced(std::min(m_writtenFrom, written.size())));
        m_writtenFrom = written.size();
        const qsizetype from = std::max(writer.floor(), m_inFrom);
        m_found = m_found || (from < flag && namesClient(in.sliced(from, flag - from)));
        m_inFrom = std::max(m_inFrom, flag);
        return m_found;
    }

private:
    bool m_found = false;
    qsizetype m_writtenFrom = 0;
    qsizetype m_inFrom = 0;
};

/// The built-in rules. inKey: the text continues a private key (Redactor::Stream),
/// so what precedes its "-----END " is key body. *keyOpen tells whether the text
/// ends inside a private key.
bool redactBuiltIn(QByteArrayView in, QByteArray* out, bool inKey, bool* keyOpen)
{
    const char* s = in.data();
    const qsizetype n = in.size();
    const Line line(s, n);
    Writer writer(in, out);
    TriggerScanner triggers(s, n);
    ClientMention client;
    qsizetype i = 0;
    bool open = false;
    if (inKey && in.contains(KeyEnd)) {
        const Hit hit = line.keyBody(0);
        if (hit.begin >= 0)
            writer.replace(hit.begin, hit.end);
        i = hit.resume;
    }
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
        case 'p':
            if (line.isGluedP(i, writer.floor()) && client.before(writer, in, i - 1))
                hit = line.gluedValue(i);
            break;
        case 'J':
            hit = line.jwt(i, writer.floor());
            break;
        case ':':
            if (line.at(i + 1) == '/' && line.at(i + 2) == '/') {
                hit = line.url(i, writer.floor());
                break;
            }
            hit = line.keyValue(i, writer.floor());
            break;
        case '=':
            hit = line.keyValue(i, writer.floor());
            break;
        case '\xBC':
            hit = line.wideKeyValue(i, writer.floor());
            break;
        default:
            break;
        }
        if (hit.begin >= 0)
            writer.replace(hit.begin, hit.end);
        open = open || hit.keyOpen;
        i = hit.resume > i ? hit.resume : i + 1;
    }
    writer.finish();
    if (keyOpen)
        *keyOpen = open;
    return writer.wrote();
}

enum class KeyLine { Other, Blank, Body };

// Does text read as the inside of a private key: lines of base64 and blanks, or
// headers (RFC 1421 "Proc-Type:", "DEK-Info:"; OpenPGP "Version:", "Comment:")?
KeyLine keyLine(QByteArrayView text)
{
    bool body = false;
    qsizetype begin = 0;
    while (begin <= text.size()) {
        qsizetype end = text.indexOf('\n', begin);
        if (end < 0)
            end = text.size();
        const Line line(text.data() + begin, end - begin);
        const qsizetype first = line.span(0, isSpace);
        if (first < end - begin) {
            body = true;
            bool header = false;
            for (const QByteArrayView name : {"proc-type:", "dek-info:", "version:", "comment:"})
                header = header || line.hasLower(first, name);
            if (!header && line.span(first, [](char c) { return isBase64Char(c) || isSpace(c); }) < end - begin)
                return KeyLine::Other;
        }
        begin = end + 1;
    }
    return body ? KeyLine::Body : KeyLine::Blank;
}

bool namesClient(QStringView text)
{
    return text.contains(u"mysql", Qt::CaseInsensitive) || text.contains(u"mariadb", Qt::CaseInsensitive);
}

// Is arg a long flag of a secret's name without a value: "--password", "--api-key"?
bool isSecretFlag(QByteArrayView arg)
{
    const Line line(arg.data(), arg.size());
    return arg.size() > 2 && arg.startsWith("--") && line.span(2, isIdentChar) == arg.size()
        && line.secretKeyBefore(arg.size(), 0, true);
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
    return redact(utf8, out, nullptr);
}

bool Redactor::redact(QByteArrayView utf8, QByteArray* out, Stream* stream) const
{
    const bool inKey = stream && stream->inPrivateKey && m_useDefaults;
    if (inKey) {
        // A line of the key goes whole, before the patterns could cut it into
        // something that no longer reads as key.
        const KeyLine kind = utf8 == Marker ? KeyLine::Blank : keyLine(utf8);
        if (kind == KeyLine::Blank)
            return false;
        if (kind == KeyLine::Body) {
            *out = Marker.toByteArray();
            return true;
        }
    }

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
    bool keyOpen = false;
    const bool builtIn =
        m_useDefaults && redactBuiltIn(utf8, aliased || byPattern ? &scratch : out, inKey, stream ? &keyOpen : nullptr);
    if (builtIn && (aliased || byPattern))
        *out = std::move(scratch);
    else if (!builtIn && byPattern)
        *out = std::move(patterned);
    const bool changed = builtIn || byPattern;
    // A line redacted whole reads as key body on a second pass: it keeps the key
    // open now too, so that the second pass decides the next line the same.
    if (stream)
        stream->inPrivateKey = keyOpen || (inKey && changed && *out == Marker);
    return changed;
}

bool Redactor::redactArguments(QStringList* args, QStringView program) const
{
    static const QString marker = QString::fromLatin1(Marker);
    bool changed = false;
    bool mysql = m_useDefaults && namesClient(program);
    bool secretNext = false;
    QByteArray redacted;
    for (QString& arg : *args) {
        const bool secret = std::exchange(secretNext, false);
        if (secret && !arg.startsWith(u"--")) {
            if (arg != marker) {
                arg = marker;
                changed = true;
            }
            continue;
        }
        if (mysql && arg.size() > 2 && arg.startsWith(u"-p") && QStringView(arg).mid(2) != marker) {
            arg = QStringLiteral("-p") + marker;
            changed = true;
            continue;
        }
        const QByteArray utf8 = arg.toUtf8();
        if (redact(utf8, &redacted)) {
            arg = QString::fromUtf8(redacted);
            changed = true;
        }
        if (m_useDefaults) {
            secretNext = isSecretFlag(utf8);
            mysql = mysql || namesClient(arg);
        }
    }
    return changed;
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
