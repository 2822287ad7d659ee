// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/protocol/json.h"

#include "server/protocol/simd.h"

#include <QChar>
#include <QtAlgorithms>

#include <charconv>
#include <cstring>
#include <limits>

namespace Json {

namespace {

constexpr quint64 kOnes = 0x0101010101010101ULL;
constexpr quint64 kHighBits = 0x8080808080808080ULL;

inline bool isSpecial(uchar c)
{
    return c < 0x20 || c == '"' || c == '\\';
}

// Marks the bytes of v that are '"', '\\' or below 0x20. The lowest marked byte
// is always a real hit; bytes above it may be false positives from borrows,
// which is fine because only the first one is used.
inline quint64 specialMask(quint64 v)
{
    const quint64 quote = v ^ (kOnes * '"');
    const quint64 backslash = v ^ (kOnes * '\\');
    const quint64 zeroQuote = (quote - kOnes) & ~quote;
    const quint64 zeroBackslash = (backslash - kOnes) & ~backslash;
    const quint64 control = (v - kOnes * 0x20) & ~v;
    return (zeroQuote | zeroBackslash | control) & kHighBits;
}

// The first byte in [p, end) that a JSON string cannot hold as it is, or end.
// Strings are mostly long runs of plain bytes, so they are scanned eight at a time.
inline const char* findSpecial(const char* p, const char* end)
{
#if AGENTDECK_SSE2
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i lastControl = _mm_set1_epi8(0x1F);
    while (end - p >= 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(v, lastControl), v);
        const __m128i hits =
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)), control);
        if (const int mask = _mm_movemask_epi8(hits))
            return p + qCountTrailingZeroBits(uint(mask));
        p += 16;
    }
#endif
#if Q_BYTE_ORDER == Q_LITTLE_ENDIAN
    while (end - p >= 8) {
        quint64 v;
        std::memcpy(&v, p, 8);
        if (const quint64 mask = specialMask(v))
            return p + (qCountTrailingZeroBits(mask) >> 3);
        p += 8;
    }
#endif
    while (p < end && !isSpecial(uchar(*p)))
        ++p;
    return p;
}

inline bool isDigit(char c)
{
    return uchar(c - '0') < 10;
}

inline bool isWhitespace(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

inline int hexValue(char c)
{
    if (isDigit(c))
        return c - '0';
    const char lower = char(c | 0x20);
    if (lower >= 'a' && lower <= 'f')
        return lower - 'a' + 10;
    return -1;
}

// Reads the four hex digits of a \u escape; -1 when p does not hold four of them.
inline int readHex4(const char* p, const char* end)
{
    if (end - p < 4)
        return -1;
    int value = 0;
    for (int i = 0; i < 4; ++i) {
        const int digit = hexValue(p[i]);
        if (digit < 0)
            return -1;
        value = (value << 4) | digit;
    }
    return value;
}

inline char* writeUtf8(char* out, char32_t cp)
{
    if (cp < 0x80) {
        *out++ = char(cp);
    } else if (cp < 0x800) {
        *out++ = char(0xC0 | (cp >> 6));
        *out++ = char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *out++ = char(0xE0 | (cp >> 12));
        *out++ = char(0x80 | ((cp >> 6) & 0x3F));
        *out++ = char(0x80 | (cp & 0x3F));
    } else {
        *out++ = char(0xF0 | (cp >> 18));
        *out++ = char(0x80 | ((cp >> 12) & 0x3F));
        *out++ = char(0x80 | ((cp >> 6) & 0x3F));
        *out++ = char(0x80 | (cp & 0x3F));
    }
    return out;
}

// Writes the escape for a byte that findSpecial() stopped at; at most six bytes.
inline char* writeEscape(char* out, uchar c)
{
    static constexpr char hexDigits[] = "0123456789abcdef";
    *out++ = '\\';
    switch (c) {
    case '"':
        *out++ = '"';
        break;
    case '\\':
        *out++ = '\\';
        break;
    case '\b':
        *out++ = 'b';
        break;
    case '\f':
        *out++ = 'f';
        break;
    case '\n':
        *out++ = 'n';
        break;
    case '\r':
        *out++ = 'r';
        break;
    case '\t':
        *out++ = 't';
        break;
    default:
        *out++ = 'u';
        *out++ = '0';
        *out++ = '0';
        *out++ = hexDigits[c >> 4];
        *out++ = hexDigits[c & 0xF];
        break;
    }
    return out;
}

// from_chars leaves the value alone when it is out of range; decide between
// overflow and underflow from the decimal exponent of the leading digit.
double outOfRangeValue(const char* p, const char* end)
{
    const bool negative = *p == '-';
    if (negative)
        ++p;
    qint64 exponent = 0;
    bool seenNonZero = false;
    for (; p < end && isDigit(*p); ++p) {
        if (seenNonZero || *p != '0') {
            seenNonZero = true;
            ++exponent;
        }
    }
    if (seenNonZero) {
        --exponent; // 123 is 1.23e2
    }
    if (p < end && *p == '.') {
        for (++p; p < end && isDigit(*p); ++p) {
            if (seenNonZero)
                continue;
            --exponent;
            seenNonZero = *p != '0';
        }
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        ++p;
        const bool negativeExponent = p < end && *p == '-';
        if (p < end && (*p == '-' || *p == '+'))
            ++p;
        qint64 value = 0;
        for (; p < end && isDigit(*p); ++p)
            value = qMin<qint64>(value * 10 + (*p - '0'), 1'000'000'000);
        exponent += negativeExponent ? -value : value;
    }
    const double magnitude = exponent > 0 ? std::numeric_limits<double>::infinity() : 0.0;
    return negative ? -magnitude : magnitude;
}

} // namespace

// The parser is iterative: containers push a frame onto a fixed stack of
// MaxDepth entries, so hostile nesting can never exhaust the call stack.
class Document::Parser
{
public:
    explicit Parser(Document& doc)
        : m_doc(doc)
        , m_nodes(doc.m_nodes)
        , m_begin(doc.m_source.constData())
        , m_p(m_begin)
        , m_end(m_begin + doc.m_source.size())
    { }

    bool run();
    const char* error() const { return m_error; }
    qsizetype errorOffset() const { return m_errorAt - m_begin; }
    qsizetype unescapedSize() const { return m_unescapedSize; }

private:
    struct Frame
    {
        quint32 index;
        quint32 count;
        bool object;
    };

    bool fail(const char* at, const char* message)
    {
        m_errorAt = at;
        m_error = message;
        return false;
    }
    quint32 offsetOf(const char* p) const { return quint32(p - m_begin); }
    void skipWhitespace()
    {
        while (m_p < m_end && isWhitespace(*m_p))
            ++m_p;
    }
    Node& addNode(Type type, const char* start);
    // m_p is at the closing bracket of the innermost container.
    void closeContainer()
    {
        const Frame& frame = m_stack[--m_depth];
        Node& node = m_nodes[frame.index];
        ++m_p;
        node.raw.length = offsetOf(m_p) - node.raw.offset;
        node.next = quint32(m_nodes.size());
        node.count = frame.count;
    }
    bool parseString(Span* content, bool* escaped);
    bool parseEscapedString(const char* contentStart, Span* content);
    bool parseNumber();
    bool parseLiteral(const char* text, int length, Type type, quint8 flags);
    char* reserveUnescaped(qsizetype size);

    Document& m_doc;
    std::vector<Node>& m_nodes;
    const char* const m_begin;
    const char* m_p;
    const char* const m_end;
    const char* m_errorAt = nullptr;
    const char* m_error = nullptr;
    qsizetype m_unescapedSize = 0;
    Span m_key = {0, 0};
    bool m_keyEscaped = false;
    int m_depth = 0;
    Frame m_stack[MaxDepth];
};

// Forced inline (with parseString) because GCC keeps these out of line in
// run(), which costs a quarter of the throughput.
Q_ALWAYS_INLINE Document::Node& Document::Parser::addNode(Type type, const char* start)
{
    const quint32 index = quint32(m_nodes.size());
    Node& node = m_nodes.emplace_back();
    node.raw = {offsetOf(start), 0};
    node.next = index + 1;
    node.type = type;
    if (m_depth > 0) {
        Frame& parent = m_stack[m_depth - 1];
        ++parent.count;
        if (parent.object) {
            node.key = m_key;
            node.flags = m_keyEscaped ? Member | KeyEscaped : Member;
        }
    }
    return node;
}

char* Document::Parser::reserveUnescaped(qsizetype size)
{
    QByteArray& buffer = m_doc.m_unescaped;
    if (m_unescapedSize + size > buffer.size())
        buffer.resize(qMax(qMax(m_unescapedSize + size, buffer.size() * 2), qsizetype(256)));
    return buffer.data() + m_unescapedSize;
}

// m_p is at the opening quote. Strings without escapes stay where they are in
// the source; only those with escapes are copied.
Q_ALWAYS_INLINE bool Document::Parser::parseString(Span* content, bool* escaped)
{
    const char* start = ++m_p;
    const char* p = findSpecial(start, m_end);
    if (p == m_end)
        return fail(m_end, "Unterminated string");
    if (*p == '"') {
        *content = {offsetOf(start), quint32(p - start)};
        *escaped = false;
        m_p = p + 1;
        return true;
    }
    if (*p != '\\')
        return fail(p, "Unescaped control character in string");
    m_p = p;
    *escaped = true;
    return parseEscapedString(start, content);
}

// Longer than most functions on purpose: one pass over a string with escapes,
// decoding and validating as it copies, on the parser's hot path for lines with
// quotes or escapes; each escape kind is one case of the same loop.
bool Document::Parser::parseEscapedString(const char* contentStart, Span* content)
{
    const qsizetype outStart = m_unescapedSize;
    const char* runStart = contentStart;
    const char* p = m_p; // at a backslash
    for (;;) {
        // Unescaping never makes text longer, so each run plus one escape fits in
        // what is reserved here.
        char* out = reserveUnescaped(p - runStart + 4);
        std::memcpy(out, runStart, size_t(p - runStart));
        out += p - runStart;
        if (m_end - p < 2)
            return fail(m_end, "Unterminated string");
        switch (p[1]) {
        case '"':
        case '\\':
        case '/':
            *out++ = p[1];
            p += 2;
            break;
        case 'b':
            *out++ = '\b';
            p += 2;
            break;
        case 'f':
            *out++ = '\f';
            p += 2;
            break;
        case 'n':
            *out++ = '\n';
            p += 2;
            break;
        case 'r':
            *out++ = '\r';
            p += 2;
            break;
        case 't':
            *out++ = '\t';
            p += 2;
            break;
        case 'u': {
            const int unit = readHex4(p + 2, m_end);
            if (unit < 0)
                return fail(p, "Invalid \\u escape in string");
            p += 6;
            char32_t cp = char32_t(unit);
            if (QChar::isHighSurrogate(cp)) {
                const int low = m_end - p >= 6 && p[0] == '\\' && p[1] == 'u' ? readHex4(p + 2, m_end) : -1;
                if (low >= 0 && QChar::isLowSurrogate(char32_t(low))) {
                    cp = QChar::surrogateToUcs4(char16_t(unit), char16_t(low));
                    p += 6;
                } else {
                    cp = QChar::ReplacementCharacter;
                }
            } else if (QChar::isLowSurrogate(cp)) {
                cp = QChar::ReplacementCharacter;
            }
            out = writeUtf8(out, cp);
            break;
        }
        default:
            return fail(p, "Invalid escape sequence in string");
        }
        m_unescapedSize = out - m_doc.m_unescaped.constData();

        runStart = p;
        p = findSpecial(p, m_end);
        if (p == m_end)
            return fail(m_end, "Unterminated string");
        if (*p == '\\')
            continue;
        if (*p != '"')
            return fail(p, "Unescaped control character in string");
        out = reserveUnescaped(p - runStart);
        std::memcpy(out, runStart, size_t(p - runStart));
        m_unescapedSize += p - runStart;
        *content = {quint32(outStart), quint32(m_unescapedSize - outStart)};
        m_p = p + 1;
        return true;
    }
}

bool Document::Parser::parseNumber()
{
    const char* start = m_p;
    const char* p = m_p;
    const bool negative = *p == '-';
    if (negative)
        ++p;
    if (p == m_end || !isDigit(*p))
        return fail(p, "Expected a digit");
    quint64 magnitude = 0;
    bool overflow = false;
    bool integer = true;
    if (*p == '0') {
        ++p;
        if (p < m_end && isDigit(*p))
            return fail(p, "Leading zeros are not allowed in numbers");
    } else {
        for (; p < m_end && isDigit(*p); ++p) {
            const unsigned digit = unsigned(*p - '0');
            if (magnitude > (std::numeric_limits<quint64>::max() - digit) / 10)
                overflow = true;
            else
                magnitude = magnitude * 10 + digit;
        }
    }
    if (p < m_end && *p == '.') {
        ++p;
        if (p == m_end || !isDigit(*p))
            return fail(p, "Expected a digit after the decimal point");
        while (p < m_end && isDigit(*p))
            ++p;
        integer = false;
    }
    if (p < m_end && (*p == 'e' || *p == 'E')) {
        ++p;
        if (p < m_end && (*p == '+' || *p == '-'))
            ++p;
        if (p == m_end || !isDigit(*p))
            return fail(p, "Expected a digit in the exponent");
        while (p < m_end && isDigit(*p))
            ++p;
        integer = false;
    }

    Node& node = addNode(Type::Number, start);
    node.raw.length = quint32(p - start);
    constexpr quint64 maxMagnitude = quint64(std::numeric_limits<qint64>::max());
    if (integer && !overflow && magnitude <= maxMagnitude + (negative ? 1 : 0)) {
        node.flags |= Integer;
        // Negating in unsigned arithmetic keeps -2^63 well defined.
        node.integer = negative ? qint64(0 - magnitude) : qint64(magnitude);
    }
    m_p = p;
    return true;
}

bool Document::Parser::parseLiteral(const char* text, int length, Type type, quint8 flags)
{
    if (m_end - m_p < length || std::memcmp(m_p, text, size_t(length)) != 0)
        return fail(m_p, "Invalid literal");
    Node& node = addNode(type, m_p);
    node.raw.length = quint32(length);
    node.flags |= flags;
    m_p += length;
    return true;
}

// One loop with an explicit stack instead of recursion, so nesting depth costs no
// C++ stack and every value kind is handled in one place; it reads as a table of
// cases, one per token, and is kept whole for that reason.
bool Document::Parser::run()
{
    skipWhitespace();

value:
    if (m_p == m_end)
        return fail(m_p, "Unexpected end of input, expected a value");
    switch (*m_p) {
    case '{':
    case '[': {
        if (m_depth == MaxDepth)
            return fail(m_p, "Nesting is too deep");
        const bool object = *m_p == '{';
        addNode(object ? Type::Object : Type::Array, m_p).count = 0;
        m_stack[m_depth++] = {quint32(m_nodes.size() - 1), 0, object};
        ++m_p;
        skipWhitespace();
        if (m_p < m_end && *m_p == (object ? '}' : ']'))
            goto close;
        if (object)
            goto member;
        goto value;
    }
    case '"': {
        Span content;
        bool escaped;
        const char* start = m_p;
        if (!parseString(&content, &escaped))
            return false;
        Node& node = addNode(Type::String, start);
        node.raw.length = quint32(m_p - start);
        node.string = content;
        if (escaped)
            node.flags |= StringEscaped;
        goto after;
    }
    case 't':
        if (!parseLiteral("true", 4, Type::Bool, True))
            return false;
        goto after;
    case 'f':
        if (!parseLiteral("false", 5, Type::Bool, 0))
            return false;
        goto after;
    case 'n':
        if (!parseLiteral("null", 4, Type::Null, 0))
            return false;
        goto after;
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
        if (!parseNumber())
            return false;
        goto after;
    default:
        return fail(m_p, "Unexpected character, expected a value");
    }

member:
    if (m_p == m_end)
        return fail(m_p, "Unexpected end of input, expected an object key");
    if (*m_p != '"')
        return fail(m_p, *m_p == '}' ? "Trailing comma" : "Expected a string as object key");
    if (!parseString(&m_key, &m_keyEscaped))
        return false;
    skipWhitespace();
    if (m_p == m_end)
        return fail(m_p, "Unexpected end of input, expected ':'");
    if (*m_p != ':')
        return fail(m_p, "Expected ':' after object key");
    ++m_p;
    skipWhitespace();
    goto value;

after:
    if (m_depth == 0) {
        skipWhitespace();
        if (m_p != m_end)
            return fail(m_p, "Unexpected data after the JSON value");
        return true;
    }
    skipWhitespace();
    if (m_p == m_end)
        return fail(m_p, "Unexpected end of input inside a container");
    if (*m_p == ',') {
        ++m_p;
        skipWhitespace();
        if (m_stack[m_depth - 1].object)
            goto member;
        if (m_p < m_end && *m_p == ']')
            return fail(m_p, "Trailing comma");
        goto value;
    }
    if (*m_p != (m_stack[m_depth - 1].object ? '}' : ']')) {
        return fail(m_p,
                    m_stack[m_depth - 1].object ? "Expected ',' or '}' after object member"
                                                : "Expected ',' or ']' after array element");
    }

close:
    closeContainer();
    goto after;
}

bool Document::parse(const QByteArray& utf8, QString* error)
{
    m_source = utf8;
    m_nodes.clear();
    m_unescaped.resize(0);
    m_errorOffset = -1;

    // Offsets are 32-bit to keep nodes small.
    if (quint64(utf8.size()) >= std::numeric_limits<quint32>::max()) {
        m_source.clear();
        m_errorOffset = 0;
        if (error)
            *error = QStringLiteral("Input is too large (4 GiB or more)");
        return false;
    }
    // A typical message has a value every 16 bytes or more; growth covers the rest.
    m_nodes.reserve(size_t(utf8.size()) / 16 + 16);

    Parser parser(*this);
    if (parser.run()) {
        m_unescaped.resize(parser.unescapedSize());
        return true;
    }
    m_nodes.clear();
    m_unescaped.resize(0);
    m_source.clear();
    m_errorOffset = parser.errorOffset();
    if (error)
        *error = QStringLiteral("%1 at byte offset %2").arg(QLatin1String(parser.error())).arg(m_errorOffset);
    return false;
}

ReusedDocument::Lease::Lease(ReusedDocument& owner)
    : m_owner(owner.m_leased ? nullptr : &owner)
{
    if (m_owner) {
        m_owner->m_leased = true;
        m_doc = &m_owner->m_doc;
    } else {
        ++owner.m_nested;
        m_own = std::make_unique<Document>();
        m_doc = m_own.get();
    }
}

ReusedDocument::Lease::~Lease()
{
    if (m_owner)
        m_owner->m_leased = false;
}

Value Document::root() const
{
    return m_nodes.empty() ? Value() : Value(this, 0);
}

Type Value::type() const
{
    const Document::Node* node = m_doc ? m_doc->node(m_index) : nullptr;
    return node ? node->type : Type::Undefined;
}

bool Value::toBool(bool defaultValue) const
{
    const Document::Node* node = m_doc ? m_doc->node(m_index) : nullptr;
    if (!node || node->type != Type::Bool)
        return defaultValue;
    return node->flags & Document::True;
}

double Value::toDouble(double defaultValue) const
{
    const Document::Node* node = m_doc ? m_doc->node(m_index) : nullptr;
    if (!node || node->type != Type::Number)
        return defaultValue;
    const char* first = m_doc->m_source.constData() + node->raw.offset;
    constexpr qint64 exactLimit = qint64(1) << 53;
    if ((node->flags & Document::Integer) && node->integer != 0 && node->integer >= -exactLimit
        && node->integer <= exactLimit) {
        return double(node->integer);
    }
    const char* last = first + node->raw.length;
    double result = 0;
    const auto [ptr, ec] = std::from_chars(first, last, result);
    Q_UNUSED(ptr);
    if (ec == std::errc::result_out_of_range)
        return outOfRangeValue(first, last);
    return result;
}

bool Value::isInteger() const
{
    const Document::Node* node = m_doc ? m_doc->node(m_index) : nullptr;
    return node && node->type == Type::Number && (node->flags & Document::Integer);
}

qint64 Value::toInteger(qint64 defaultValue) const
{
    const Document::Node* node = m_doc ? m_doc->node(m_index) : nullptr;
    if (!node || node->type != Type::Number || !(node->flags & Document::Integer))
        return defaultValue;
    return node->integer;
}

QByteArrayView Value::toUtf8() const
{
    const Document::Node* node = m_doc ? m_doc->node(m_index) : nullptr;
    if (!node || node->type != Type::String)
        return {};
    return m_doc->bytes(node->string, node->flags & Document::StringEscaped);
}

QString Value::toString(const QString& defaultValue) const
{
    if (!isString())
        return defaultValue;
    return QString::fromUtf8(toUtf8());
}

qsizetype Value::size() const
{
    const Document::Node* node = m_doc ? m_doc->node(m_index) : nullptr;
    if (!node || (node->type != Type::Array && node->type != Type::Object))
        return 0;
    return node->count;
}

Value Value::operator[](QByteArrayView key) const
{
    const Document::Node* node = m_doc ? m_doc->node(m_index) : nullptr;
    if (!node || node->type != Type::Object)
        return {};
    const std::vector<Document::Node>& nodes = m_doc->m_nodes;
    for (quint32 i = m_index + 1; i < node->next; i = nodes[i].next) {
        const Document::Node& member = nodes[i];
        if (member.key.length == quint32(key.size())
            && m_doc->bytes(member.key, member.flags & Document::KeyEscaped) == key) {
            return Value(m_doc, i);
        }
    }
    return {};
}

Range Value::items() const
{
    const Document::Node* node = m_doc ? m_doc->node(m_index) : nullptr;
    if (!node || (node->type != Type::Array && node->type != Type::Object))
        return Range(nullptr, 0, 0);
    return Range(m_doc, m_index + 1, node->next);
}

QByteArrayView Value::key() const
{
    const Document::Node* node = m_doc ? m_doc->node(m_index) : nullptr;
    if (!node || !(node->flags & Document::Member))
        return {};
    return m_doc->bytes(node->key, node->flags & Document::KeyEscaped);
}

QByteArrayView Value::raw() const
{
    const Document::Node* node = m_doc ? m_doc->node(m_index) : nullptr;
    if (!node)
        return {};
    return QByteArrayView(m_doc->m_source.constData() + node->raw.offset, node->raw.length);
}

Range::iterator& Range::iterator::operator++()
{
    m_index = m_doc->m_nodes[m_index].next;
    return *this;
}

void appendString(QByteArray& out, QByteArrayView utf8)
{
    out.append('"');
    const char* p = utf8.data();
    const char* end = p + utf8.size();
    for (;;) {
        const char* special = findSpecial(p, end);
        if (special != p)
            out.append(p, special - p);
        if (special == end)
            break;
        char escape[6];
        out.append(escape, writeEscape(escape, uchar(*special)) - escape);
        p = special + 1;
    }
    out.append('"');
}

char* writeString(char* out, QByteArrayView utf8)
{
    *out++ = '"';
    const char* p = utf8.data();
    const char* end = p + utf8.size();
    for (;;) {
        const char* special = findSpecial(p, end);
        if (special != p) {
            std::memcpy(out, p, size_t(special - p));
            out += special - p;
        }
        if (special == end)
            break;
        out = writeEscape(out, uchar(*special));
        p = special + 1;
    }
    *out++ = '"';
    return out;
}

char* writeInteger(char* out, qint64 value)
{
    return std::to_chars(out, out + 20, value).ptr;
}

void appendString(QByteArray& out, QStringView s)
{
    // Encodes and escapes in one pass, straight into out, a bounded chunk at a
    // time so that a huge string does not reserve six times its size at once.
    // Lone surrogates become U+FFFD, as in the parser (QString::toUtf8() would
    // write '?').
    constexpr qsizetype chunkSize = 4096;
    out.append('"');
    const char16_t* p = s.utf16();
    const char16_t* end = p + s.size();
    while (p < end) {
        const char16_t* chunkEnd = p + qMin(end - p, chunkSize);
        const qsizetype start = out.size();
        // Six bytes per unit covers \u00XX; a surrogate pair straddling the end
        // of the chunk adds one unit of four bytes.
        out.resize(start + (chunkEnd - p) * 6 + 4);
        char* o = out.data() + start;
        while (p < chunkEnd) {
            const char16_t unit = *p++;
            if (unit < 0x80) {
                if (isSpecial(uchar(unit)))
                    o = writeEscape(o, uchar(unit));
                else
                    *o++ = char(unit);
            } else if (!QChar::isSurrogate(unit)) {
                o = writeUtf8(o, unit);
            } else if (QChar::isHighSurrogate(unit) && p < end && QChar::isLowSurrogate(*p)) {
                o = writeUtf8(o, QChar::surrogateToUcs4(unit, *p++));
            } else {
                o = writeUtf8(o, QChar::ReplacementCharacter);
            }
        }
        out.resize(o - out.constData());
    }
    out.append('"');
}

void appendInteger(QByteArray& out, qint64 value)
{
    char buffer[24];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, result.ptr - buffer);
}

void appendDouble(QByteArray& out, double value)
{
    if (!qIsFinite(value)) {
        out.append("null", 4);
        return;
    }
    char buffer[32];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, result.ptr - buffer);
}

void Writer::separate()
{
    if (m_afterKey) {
        m_afterKey = false;
        return;
    }
    if (m_needComma)
        m_out->append(',');
}

Writer& Writer::beginObject()
{
    separate();
    m_out->append('{');
    m_needComma = false;
    return *this;
}

Writer& Writer::endObject()
{
    Q_ASSERT(!m_afterKey);
    m_out->append('}');
    m_needComma = true;
    return *this;
}

Writer& Writer::beginArray()
{
    separate();
    m_out->append('[');
    m_needComma = false;
    return *this;
}

Writer& Writer::endArray()
{
    m_out->append(']');
    m_needComma = true;
    return *this;
}

Writer& Writer::key(QByteArrayView utf8)
{
    Q_ASSERT(!m_afterKey);
    separate();
    appendString(*m_out, utf8);
    m_out->append(':');
    m_afterKey = true;
    return *this;
}

Writer& Writer::string(QByteArrayView utf8)
{
    separate();
    appendString(*m_out, utf8);
    m_needComma = true;
    return *this;
}

Writer& Writer::string(QStringView s)
{
    separate();
    appendString(*m_out, s);
    m_needComma = true;
    return *this;
}

Writer& Writer::integer(qint64 value)
{
    separate();
    appendInteger(*m_out, value);
    m_needComma = true;
    return *this;
}

Writer& Writer::number(double value)
{
    separate();
    appendDouble(*m_out, value);
    m_needComma = true;
    return *this;
}

Writer& Writer::boolean(bool value)
{
    separate();
    if (value)
        m_out->append("true", 4);
    else
        m_out->append("false", 5);
    m_needComma = true;
    return *this;
}

Writer& Writer::null()
{
    separate();
    m_out->append("null", 4);
    m_needComma = true;
    return *this;
}

Writer& Writer::raw(QByteArrayView json)
{
    separate();
    m_out->append(json.data(), json.size());
    m_needComma = true;
    return *this;
}

} // namespace Json
