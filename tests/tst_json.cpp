// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/protocol/json.h"

#include <QRandomGenerator>
#include <QTest>

#include <cmath>
#include <limits>
#include <memory>

namespace {

// Keeps embedded NUL bytes that a plain QByteArray(const char*) would cut off.
template <size_t N>
QByteArray bytes(const char (&text)[N])
{
    return QByteArray(text, N - 1);
}

// A copy in a heap block of exactly text.size() bytes, without QByteArray's
// spare capacity and terminating NUL, so that ASan reports a read past the end.
class ExactBuffer
{
public:
    explicit ExactBuffer(const QByteArray& text)
        : m_data(new char[size_t(qMax<qsizetype>(text.size(), 1))])
    {
        std::memcpy(m_data.get(), text.constData(), size_t(text.size()));
        m_bytes = QByteArray::fromRawData(m_data.get(), text.size());
    }
    const QByteArray& bytes() const { return m_bytes; }

private:
    std::unique_ptr<char[]> m_data;
    QByteArray m_bytes;
};

QByteArray quoted(const QByteArray& utf8)
{
    QByteArray out;
    Json::appendString(out, QByteArrayView(utf8));
    return out;
}

QByteArray nested(int depth, bool objects)
{
    QByteArray text;
    for (int i = 0; i < depth; ++i)
        text += objects ? "{\"a\":" : "[";
    text += "1";
    for (int i = 0; i < depth; ++i)
        text += objects ? '}' : ']';
    return text;
}

// Visits every value and checks the invariants any successful parse must keep.
void walk(const Json::Value& value, const QByteArray& source, int depth, int* visited)
{
    ++*visited;
    QVERIFY(depth <= Json::Document::MaxDepth);
    const QByteArrayView raw = value.raw();
    QVERIFY(!raw.isEmpty());
    QVERIFY(raw.data() >= source.constData());
    QVERIFY(raw.data() + raw.size() <= source.constData() + source.size());
    switch (value.type()) {
    case Json::Type::Undefined:
        QFAIL("Undefined inside a parsed document");
        break;
    case Json::Type::Null:
        QCOMPARE(raw, "null");
        break;
    case Json::Type::Bool:
        QCOMPARE(raw, value.toBool() ? "true" : "false");
        break;
    case Json::Type::Number:
        if (value.isInteger())
            QCOMPARE(value.toDouble(), double(value.toInteger()));
        else
            QCOMPARE(value.toInteger(-7), -7);
        break;
    case Json::Type::String:
        QCOMPARE(raw.front(), '"');
        QCOMPARE(raw.back(), '"');
        QVERIFY(value.toUtf8().size() <= raw.size() - 2);
        QCOMPARE(value.toString(), QString::fromUtf8(value.toUtf8()));
        break;
    case Json::Type::Array:
    case Json::Type::Object: {
        qsizetype count = 0;
        for (const Json::Value child : value.items()) {
            ++count;
            if (value.isObject())
                QVERIFY(!value[child.key()].isUndefined());
            else
                QVERIFY(child.key().isEmpty());
            walk(child, source, depth + 1, visited);
            if (QTest::currentTestFailed())
                return;
        }
        QCOMPARE(count, value.size());
        break;
    }
    }
}

} // namespace

/// Tests Json::Document, Json::Value and Json::Writer.
class TestJson : public QObject
{
    Q_OBJECT

private slots:
    void parseValid_data();
    void parseValid();
    void parseInvalid_data();
    void parseInvalid();
    void stringEscapes_data();
    void stringEscapes();
    void invalidUtf8PassesThrough();
    void nestingLimit_data();
    void nestingLimit();
    void veryDeepNesting_data();
    void veryDeepNesting();
    void hugeInput();
    void numbers_data();
    void numbers();
    void duplicateKeys();
    void raw_data();
    void raw();
    void keys();
    void items();
    void defaultsOnOtherTypes();
    void stringsAreViews();
    void documentReuse();
    void reusedDocumentNests();
    void writerStructure();
    void escapeControlBytes_data();
    void escapeControlBytes();
    void otherBytesCopied();
    void appendStringUtf16_data();
    void appendStringUtf16();
    void appendDouble_data();
    void appendDouble();
    void appendInteger_data();
    void appendInteger();
    void writeStringMatchesAppendString_data();
    void writeStringMatchesAppendString();
    void writeInteger_data();
    void writeInteger();
    void roundTripRandomStrings();
    void roundTripRandomBytes();
    void fuzz();
};

void TestJson::parseValid_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<int>("type");

    const auto row = [](const char* name, const QByteArray& json, Json::Type type) {
        QTest::addRow("%s", name) << json << int(type);
    };
    row("null", "null", Json::Type::Null);
    row("true", "true", Json::Type::Bool);
    row("false", "false", Json::Type::Bool);
    row("zero", "0", Json::Type::Number);
    row("negative zero", "-0", Json::Type::Number);
    row("integer", "42", Json::Type::Number);
    row("negative", "-17", Json::Type::Number);
    row("fraction", "0.5", Json::Type::Number);
    row("exponent", "1E10", Json::Type::Number);
    row("signed exponent", "1e+2", Json::Type::Number);
    row("full number", "-123.456e-7", Json::Type::Number);
    row("huge integer", "123456789012345678901234567890", Json::Type::Number);
    row("empty string", "\"\"", Json::Type::String);
    row("string", "\"abc\"", Json::Type::String);
    row("escaped solidus", "\"\\/\"", Json::Type::String);
    row("escaped NUL", "[\"\\u0000\"]", Json::Type::Array);
    row("DEL in string", "\"\x7f\"", Json::Type::String);
    row("UTF-8 in string", "\"\xc3\xa9\xe4\xb8\xad\xf0\x9f\x9a\x80\"", Json::Type::String);
    row("empty array", "[]", Json::Type::Array);
    row("empty object", "{}", Json::Type::Object);
    row("whitespace around", " \t\r\n[ ] \n", Json::Type::Array);
    row("array", "[1,2,3]", Json::Type::Array);
    row("object", "{\"a\":1}", Json::Type::Object);
    row("empty key", "{\"\":0}", Json::Type::Object);
    row("nested", "{\"a\":{\"b\":[true,false,null]}}", Json::Type::Object);
    row("nested arrays", "[[[]],[[],[]]]", Json::Type::Array);
    row("spaced", "{ \"a\" : [ 1 , { } ] , \"b\" : \"c\" }", Json::Type::Object);
    row("largest double", "[1.7976931348623157e308]", Json::Type::Array);
    row("tiny double", "[-1.5E-300]", Json::Type::Array);
    row("log message",
        "{\"type\":\"log\",\"lines\":[{\"text\":\"hello\",\"stream\":\"stdout\",\"level\":\"INFO\",\"source\":\"a.b\","
        "\"ts\":1763773200123}]}",
        Json::Type::Object);
}

void TestJson::parseValid()
{
    QFETCH(QByteArray, json);
    QFETCH(int, type);

    const ExactBuffer buffer(json);
    Json::Document doc;
    QString error;
    QVERIFY2(doc.parse(buffer.bytes(), &error), qPrintable(error));
    QCOMPARE(doc.errorOffset(), -1);
    QCOMPARE(int(doc.root().type()), type);
    QCOMPARE(doc.root().raw(), json.trimmed());
    int visited = 0;
    walk(doc.root(), buffer.bytes(), 0, &visited);
}

void TestJson::parseInvalid_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<qsizetype>("offset");

    QTest::addRow("empty") << QByteArray() << qsizetype(0);
    QTest::addRow("only whitespace") << bytes("   ") << qsizetype(3);
    QTest::addRow("open array") << bytes("[") << qsizetype(1);
    QTest::addRow("unclosed array") << bytes("[1") << qsizetype(2);
    QTest::addRow("array ends after comma") << bytes("[1,") << qsizetype(3);
    QTest::addRow("open object") << bytes("{") << qsizetype(1);
    QTest::addRow("object ends after key") << bytes("{\"a\"") << qsizetype(4);
    QTest::addRow("object ends after colon") << bytes("{\"a\":") << qsizetype(5);
    QTest::addRow("unclosed object") << bytes("{\"a\":1") << qsizetype(6);
    QTest::addRow("trailing comma in array") << bytes("[1,]") << qsizetype(3);
    QTest::addRow("trailing comma in array, spaced") << bytes("[1 , ]") << qsizetype(5);
    QTest::addRow("trailing comma in object") << bytes("{\"a\":1,}") << qsizetype(7);
    QTest::addRow("leading comma") << bytes("[,1]") << qsizetype(1);
    QTest::addRow("double comma") << bytes("[1,,2]") << qsizetype(3);
    QTest::addRow("missing comma") << bytes("[1 2]") << qsizetype(3);
    QTest::addRow("missing colon") << bytes("{\"a\" 1}") << qsizetype(5);
    QTest::addRow("missing member comma") << bytes("{\"a\":1 \"b\":2}") << qsizetype(7);
    QTest::addRow("unquoted key") << bytes("{a:1}") << qsizetype(1);
    QTest::addRow("number key") << bytes("{1:1}") << qsizetype(1);
    QTest::addRow("member in array") << bytes("[1,\"a\":2]") << qsizetype(6);
    QTest::addRow("value missing in object") << bytes("{\"a\":}") << qsizetype(5);
    QTest::addRow("extra bracket") << bytes("[1]]") << qsizetype(3);
    QTest::addRow("extra brace") << bytes("{\"a\":1}}") << qsizetype(7);
    QTest::addRow("mismatched brackets") << bytes("[1}") << qsizetype(2);
    QTest::addRow("garbage after value") << bytes("[1] x") << qsizetype(4);
    QTest::addRow("two values") << bytes("1 2") << qsizetype(2);
    QTest::addRow("NUL after value") << bytes("[1]\0") << qsizetype(3);
    QTest::addRow("line comment") << bytes("// c\n1") << qsizetype(0);
    QTest::addRow("block comment") << bytes("/* c */ 1") << qsizetype(0);
    QTest::addRow("trailing comment") << bytes("[1] // c") << qsizetype(4);
    QTest::addRow("byte order mark") << bytes("\xef\xbb\xbf{}") << qsizetype(0);
    QTest::addRow("vertical tab") << bytes("[\v]") << qsizetype(1);
    QTest::addRow("NaN") << bytes("NaN") << qsizetype(0);
    QTest::addRow("Infinity") << bytes("Infinity") << qsizetype(0);
    QTest::addRow("-Infinity") << bytes("-Infinity") << qsizetype(1);
    QTest::addRow("capitalized True") << bytes("True") << qsizetype(0);
    QTest::addRow("truncated true") << bytes("tru") << qsizetype(0);
    QTest::addRow("truncated false") << bytes("[fals]") << qsizetype(1);
    QTest::addRow("misspelt null") << bytes("nulL") << qsizetype(0);
    QTest::addRow("leading zero") << bytes("01") << qsizetype(1);
    QTest::addRow("double zero") << bytes("00") << qsizetype(1);
    QTest::addRow("negative leading zero") << bytes("-01") << qsizetype(2);
    QTest::addRow("lone minus") << bytes("-") << qsizetype(1);
    QTest::addRow("minus in array") << bytes("[-]") << qsizetype(2);
    QTest::addRow("double minus") << bytes("--1") << qsizetype(1);
    QTest::addRow("plus sign") << bytes("+1") << qsizetype(0);
    QTest::addRow("dot without fraction") << bytes("1.") << qsizetype(2);
    QTest::addRow("dot before exponent") << bytes("1.e5") << qsizetype(2);
    QTest::addRow("leading dot") << bytes(".5") << qsizetype(0);
    QTest::addRow("empty exponent") << bytes("1e") << qsizetype(2);
    QTest::addRow("signed empty exponent") << bytes("1e+") << qsizetype(3);
    QTest::addRow("fractional exponent") << bytes("[1e5.5]") << qsizetype(4);
    QTest::addRow("hexadecimal") << bytes("0x10") << qsizetype(1);
    QTest::addRow("unterminated string") << bytes("\"abc") << qsizetype(4);
    QTest::addRow("lone quote") << bytes("\"") << qsizetype(1);
    QTest::addRow("string ends in backslash") << bytes("\"\\") << qsizetype(2);
    QTest::addRow("escaped closing quote") << bytes("\"a\\\"") << qsizetype(4);
    QTest::addRow("newline in string") << bytes("\"a\nb\"") << qsizetype(2);
    QTest::addRow("control byte in string") << bytes("\"\x01\"") << qsizetype(1);
    QTest::addRow("NUL in string") << bytes("\"ab\0\"") << qsizetype(3);
    QTest::addRow("tab after escape") << bytes("\"\\n\t\"") << qsizetype(3);
    QTest::addRow("invalid escape") << bytes("\"\\x\"") << qsizetype(1);
    QTest::addRow("escaped apostrophe") << bytes("\"\\'\"") << qsizetype(1);
    QTest::addRow("short unicode escape") << bytes("\"\\u12\"") << qsizetype(1);
    QTest::addRow("bad hex digit") << bytes("\"\\u12G4\"") << qsizetype(1);
    QTest::addRow("truncated unicode escape") << bytes("\"\\u00") << qsizetype(1);
    QTest::addRow("bad escape after high surrogate") << bytes("\"\\ud800\\u\"") << qsizetype(7);
    QTest::addRow("single quotes") << bytes("'a'") << qsizetype(0);
    QTest::addRow("invalid key escape") << bytes("{\"\\q\":1}") << qsizetype(2);
    QTest::addRow("too deep") << nested(Json::Document::MaxDepth + 1, false) << qsizetype(Json::Document::MaxDepth);
}

void TestJson::parseInvalid()
{
    QFETCH(QByteArray, json);
    QFETCH(qsizetype, offset);

    const ExactBuffer buffer(json);
    Json::Document doc;
    QVERIFY(doc.parse(bytes("{\"previous\":true}")));
    QString error;
    QVERIFY(!doc.parse(buffer.bytes(), &error));
    QVERIFY(!error.isEmpty());
    QVERIFY2(error.contains(QString::number(offset)), qPrintable(error));
    QCOMPARE(doc.errorOffset(), offset);
    QVERIFY(doc.root().isUndefined());
    QVERIFY(doc.root().raw().isEmpty());

    // A failed parse leaves the document as reusable as a fresh one.
    QVERIFY(doc.parse(bytes("[1]")));
    QCOMPARE(doc.errorOffset(), -1);
    QCOMPARE(doc.root().size(), 1);
}

void TestJson::stringEscapes_data()
{
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<QByteArray>("expected");

    QTest::addRow("plain") << bytes("plain text") << bytes("plain text");
    QTest::addRow("short escapes") << bytes("a\\nb\\tc\\r\\b\\f\\/\\\\\\\"") << bytes("a\nb\tc\r\b\f/\\\"");
    QTest::addRow("escapes in long runs") << bytes("a long run of text\\nanother long run of text\\\\and the end")
                                          << bytes("a long run of text\nanother long run of text\\and the end");
    QTest::addRow("escape at start") << bytes("\\\"quoted\\\"") << bytes("\"quoted\"");
    QTest::addRow("ASCII") << bytes("\\u0041") << bytes("A");
    QTest::addRow("NUL") << bytes("\\u0000") << bytes("\0");
    QTest::addRow("two bytes") << bytes("\\u00e9") << bytes("\xc3\xa9");
    QTest::addRow("upper-case hex") << bytes("\\u00E9") << bytes("\xc3\xa9");
    QTest::addRow("three bytes") << bytes("\\u20AC") << bytes("\xe2\x82\xac");
    QTest::addRow("Chinese") << bytes("\\u4e2d\\u6587") << bytes("\xe4\xb8\xad\xe6\x96\x87");
    QTest::addRow("last BMP") << bytes("\\uFFFF") << bytes("\xef\xbf\xbf");
    QTest::addRow("surrogate pair") << bytes("\\uD83D\\uDE80") << bytes("\xf0\x9f\x9a\x80");
    QTest::addRow("lower-case pair") << bytes("\\ud83d\\ude80") << bytes("\xf0\x9f\x9a\x80");
    QTest::addRow("first astral") << bytes("\\uD800\\uDC00") << bytes("\xf0\x90\x80\x80");
    QTest::addRow("last astral") << bytes("\\uDBFF\\uDFFF") << bytes("\xf4\x8f\xbf\xbf");
    QTest::addRow("lone high surrogate") << bytes("\\uD800") << bytes("\xef\xbf\xbd");
    QTest::addRow("lone low surrogate") << bytes("\\uDC00") << bytes("\xef\xbf\xbd");
    QTest::addRow("high surrogate, then text") << bytes("\\uD800x") << bytes("\xef\xbf\xbdx");
    QTest::addRow("high surrogate, then BMP escape") << bytes("\\uD800\\u0041")
                                                     << bytes("\xef\xbf\xbd"
                                                              "A");
    QTest::addRow("high surrogate, then short escape") << bytes("\\uD800\\n") << bytes("\xef\xbf\xbd\n");
    QTest::addRow("two high surrogates, then low")
        << bytes("\\uD800\\uD800\\uDC00") << bytes("\xef\xbf\xbd\xf0\x90\x80\x80");
    QTest::addRow("reversed pair") << bytes("\\uDC00\\uD800") << bytes("\xef\xbf\xbd\xef\xbf\xbd");
    QTest::addRow("raw UTF-8 and escapes")
        << bytes("\xe4\xb8\xad\\u6587 \xf0\x9f\x98\x80\\n") << bytes("\xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80\n");
}

void TestJson::stringEscapes()
{
    QFETCH(QByteArray, content);
    QFETCH(QByteArray, expected);

    Json::Document doc;
    const QByteArray json = '[' + ('"' + content + '"') + ",{" + ('"' + content + '"') + ":0}]";
    const ExactBuffer buffer(json);
    QString error;
    QVERIFY2(doc.parse(buffer.bytes(), &error), qPrintable(error));
    const Json::Value string = doc.root().items().begin().operator*();
    QCOMPARE(string.toUtf8(), expected);
    QCOMPARE(string.toString(), QString::fromUtf8(expected));
    QCOMPARE(string.raw(), QByteArray('"' + content + '"'));
    int index = 0;
    for (const Json::Value value : doc.root().items()) {
        if (index++ == 1) {
            QCOMPARE(value.size(), 1);
            QCOMPARE((*value.items().begin()).key(), expected);
            QCOMPARE(value[QByteArrayView(expected)].toInteger(-1), 0);
        }
    }
}

void TestJson::invalidUtf8PassesThrough()
{
    // Not valid UTF-8, but JSON structure is intact: the bytes come back as they
    // were, and toString() replaces them.
    const QByteArray content = bytes("\xff\xfe\xc3 \xed\xa0\x80 \xf4\x90\x80\x80 \xe4\xb8");
    Json::Document doc;
    const ExactBuffer buffer('"' + content + '"');
    QVERIFY(doc.parse(buffer.bytes()));
    QCOMPARE(doc.root().toUtf8(), content);
    QVERIFY(doc.root().toString().contains(QChar::ReplacementCharacter));

    const ExactBuffer escaped("\"\\n" + content + '"');
    QVERIFY(doc.parse(escaped.bytes()));
    QCOMPARE(doc.root().toUtf8(), QByteArray('\n' + content));

    // Outside strings such bytes are plain garbage.
    QVERIFY(!doc.parse(bytes("[\xff]")));
    QCOMPARE(doc.errorOffset(), 1);
}

void TestJson::nestingLimit_data()
{
    QTest::addColumn<int>("depth");
    QTest::addColumn<bool>("objects");
    QTest::addColumn<bool>("valid");

    for (const bool objects : {false, true}) {
        const char* kind = objects ? "objects" : "arrays";
        QTest::addRow("%s, 1", kind) << 1 << objects << true;
        QTest::addRow("%s, 127", kind) << 127 << objects << true;
        QTest::addRow("%s, MaxDepth", kind) << Json::Document::MaxDepth << objects << true;
        QTest::addRow("%s, MaxDepth + 1", kind) << Json::Document::MaxDepth + 1 << objects << false;
        QTest::addRow("%s, 1000", kind) << 1000 << objects << false;
    }
}

void TestJson::nestingLimit()
{
    QFETCH(int, depth);
    QFETCH(bool, objects);
    QFETCH(bool, valid);

    Json::Document doc;
    QString error;
    QCOMPARE(doc.parse(nested(depth, objects), &error), valid);
    if (!valid) {
        QVERIFY(error.contains(QLatin1String("deep")));
        QCOMPARE(doc.errorOffset(), qsizetype(Json::Document::MaxDepth) * (objects ? 5 : 1));
        return;
    }
    Json::Value value = doc.root();
    for (int i = 0; i < depth; ++i) {
        QCOMPARE(value.size(), 1);
        value = *value.items().begin();
    }
    QCOMPARE(value.toInteger(), 1);
}

void TestJson::veryDeepNesting_data()
{
    QTest::addColumn<QByteArray>("json");

    QTest::addRow("100000 [") << QByteArray(100000, '[');
    QTest::addRow("100000 [ closed") << QByteArray(QByteArray(100000, '[') + QByteArray(100000, ']'));
    QTest::addRow("100000 {\"a\":") << QByteArray("{\"a\":").repeated(100000);
    QTest::addRow("100000 [{\"a\":") << QByteArray("[{\"a\":").repeated(100000);
}

void TestJson::veryDeepNesting()
{
    QFETCH(QByteArray, json);

    Json::Document doc;
    QVERIFY(!doc.parse(json));
    QVERIFY(doc.errorOffset() <= json.size());
}

void TestJson::hugeInput()
{
    QByteArray json = "[";
    for (int i = 0; i < 1'000'000; ++i)
        json += "{\"i\":" + QByteArray::number(i) + ",\"s\":\"x\\ty\"},";
    json += "null]";

    Json::Document doc;
    QString error;
    QVERIFY2(doc.parse(json, &error), qPrintable(error));
    const Json::Value root = doc.root();
    QCOMPARE(root.size(), 1'000'001);
    qint64 sum = 0;
    qsizetype strings = 0;
    for (const Json::Value element : root.items()) {
        sum += element["i"].toInteger();
        strings += element["s"].toUtf8() == "x\ty" ? 1 : 0;
    }
    QCOMPARE(sum, qint64(999'999) * 1'000'000 / 2);
    QCOMPARE(strings, 1'000'000);

    const QByteArray longText(50'000'000, 'x');
    QVERIFY(doc.parse('"' + longText + '"'));
    QCOMPARE(doc.root().toUtf8().size(), longText.size());
}

void TestJson::numbers_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<bool>("isInteger");
    QTest::addColumn<qint64>("integer");
    QTest::addColumn<double>("number");

    constexpr qint64 fallback = -4242;
    constexpr qint64 int64Max = std::numeric_limits<qint64>::max();
    constexpr qint64 int64Min = std::numeric_limits<qint64>::min();
    constexpr double infinity = std::numeric_limits<double>::infinity();

    QTest::addRow("0") << bytes("0") << true << qint64(0) << 0.0;
    QTest::addRow("-0") << bytes("-0") << true << qint64(0) << -0.0;
    QTest::addRow("1") << bytes("1") << true << qint64(1) << 1.0;
    QTest::addRow("-1") << bytes("-1") << true << qint64(-1) << -1.0;
    QTest::addRow("timestamp") << bytes("1763773200123") << true << qint64(1763773200123) << 1763773200123.0;
    QTest::addRow("2^53") << bytes("9007199254740992") << true << qint64(9007199254740992) << 9007199254740992.0;
    QTest::addRow("2^53 + 1") << bytes("9007199254740993") << true << qint64(9007199254740993) << 9007199254740992.0;
    QTest::addRow("-2^53") << bytes("-9007199254740992") << true << qint64(-9007199254740992) << -9007199254740992.0;
    QTest::addRow("int64 max") << bytes("9223372036854775807") << true << int64Max << 9223372036854775807.0;
    QTest::addRow("int64 min") << bytes("-9223372036854775808") << true << int64Min << -9223372036854775808.0;
    QTest::addRow("int64 max + 1") << bytes("9223372036854775808") << false << fallback << 9223372036854775808.0;
    QTest::addRow("int64 min - 1") << bytes("-9223372036854775809") << false << fallback << -9223372036854775809.0;
    QTest::addRow("uint64 max") << bytes("18446744073709551615") << false << fallback << 18446744073709551615.0;
    QTest::addRow("uint64 max + 1") << bytes("18446744073709551616") << false << fallback << 18446744073709551616.0;
    QTest::addRow("30 digits") << bytes("123456789012345678901234567890") << false << fallback
                               << 123456789012345678901234567890.0;
    QTest::addRow("1.0") << bytes("1.0") << false << fallback << 1.0;
    QTest::addRow("1e2") << bytes("1e2") << false << fallback << 100.0;
    QTest::addRow("1E+2") << bytes("1E+2") << false << fallback << 100.0;
    QTest::addRow("-1.5") << bytes("-1.5") << false << fallback << -1.5;
    QTest::addRow("0.1") << bytes("0.1") << false << fallback << 0.1;
    QTest::addRow("2.5e-3") << bytes("2.5e-3") << false << fallback << 2.5e-3;
    QTest::addRow("-0.0") << bytes("-0.0") << false << fallback << -0.0;
    QTest::addRow("largest double") << bytes("1.7976931348623157e308") << false << fallback
                                    << std::numeric_limits<double>::max();
    QTest::addRow("smallest subnormal") << bytes("4.9e-324") << false << fallback
                                        << std::numeric_limits<double>::denorm_min();
    QTest::addRow("1e400") << bytes("1e400") << false << fallback << infinity;
    QTest::addRow("-1e400") << bytes("-1e400") << false << fallback << -infinity;
    QTest::addRow("many digits, overflow") << bytes("1000000e303") << false << fallback << infinity;
    QTest::addRow("many digits, in range") << bytes("100000e303") << false << fallback << 1e308;
    QTest::addRow("big mantissa, negative exponent")
        << QByteArray(QByteArray(400, '9') + "e-10") << false << fallback << infinity;
    QTest::addRow("1e-400") << bytes("1e-400") << false << fallback << 0.0;
    QTest::addRow("-1e-400") << bytes("-1e-400") << false << fallback << -0.0;
    QTest::addRow("small fraction, underflow") << bytes("0.001e-322") << false << fallback << 0.0;
    QTest::addRow("huge exponent") << bytes("1e99999999999999999999") << false << fallback << infinity;
    QTest::addRow("huge negative exponent") << bytes("-1e-99999999999999999999") << false << fallback << -0.0;
    QTest::addRow("zero with huge exponent") << bytes("0e99999") << false << fallback << 0.0;
}

void TestJson::numbers()
{
    QFETCH(QByteArray, json);
    QFETCH(bool, isInteger);
    QFETCH(qint64, integer);
    QFETCH(double, number);

    Json::Document doc;
    // Inside an array too, so that the number is not at the end of the buffer.
    for (const QByteArray& text : {json, QByteArray('[' + json + ",0]")}) {
        const ExactBuffer buffer(text);
        QString error;
        QVERIFY2(doc.parse(buffer.bytes(), &error), qPrintable(error));
        const Json::Value value = text.startsWith('[') ? *doc.root().items().begin() : doc.root();
        QVERIFY(value.isNumber());
        QCOMPARE(value.isInteger(), isInteger);
        QCOMPARE(value.toInteger(-4242), integer);
        QVERIFY2(value.toDouble() == number, qPrintable(QString::number(value.toDouble(), 'g', 17)));
        QCOMPARE(std::signbit(value.toDouble()), std::signbit(number));
        QCOMPARE(value.raw(), json);
        QCOMPARE(value.toBool(true), true);
        QVERIFY(value.toUtf8().isEmpty());
    }
}

void TestJson::duplicateKeys()
{
    Json::Document doc;
    QVERIFY(doc.parse(bytes("{\"a\":1,\"b\":{\"a\":9},\"a\":3,\"\\u0063\":4,\"c\":5}")));
    const Json::Value root = doc.root();
    QCOMPARE(root.size(), 5);
    QCOMPARE(root["a"].toInteger(), 1);
    QCOMPARE(root["b"]["a"].toInteger(), 9);
    QCOMPARE(root["c"].toInteger(), 4);
    QVERIFY(root["d"].isUndefined());
    QVERIFY(root[""].isUndefined());

    QList<QByteArray> keys;
    QList<qint64> values;
    for (const Json::Value member : root.items()) {
        keys += member.key().toByteArray();
        values += member.isObject() ? -1 : member.toInteger();
    }
    QCOMPARE(keys, (QList<QByteArray>{"a", "b", "a", "c", "c"}));
    QCOMPARE(values, (QList<qint64>{1, -1, 3, 4, 5}));
}

void TestJson::raw_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QByteArray>("rootRaw");
    QTest::addColumn<QByteArrayList>("childRaws");

    QTest::addRow("scalars") << bytes("[ 1 , \"a\\n\" , -0.5e3 , true , false , null ]")
                             << bytes("[ 1 , \"a\\n\" , -0.5e3 , true , false , null ]")
                             << QByteArrayList{"1", "\"a\\n\"", "-0.5e3", "true", "false", "null"};
    QTest::addRow("containers") << bytes("\n {\"x\" : [ 1 , 2 ] ,\"y\":{ \"z\" :{}} , \"w\": [] }\t\r\n")
                                << bytes("{\"x\" : [ 1 , 2 ] ,\"y\":{ \"z\" :{}} , \"w\": [] }")
                                << QByteArrayList{"[ 1 , 2 ]", "{ \"z\" :{}}", "[]"};
    QTest::addRow("unicode") << bytes("[\"\xe4\xb8\xad\",\"\\u4e2d\"]") << bytes("[\"\xe4\xb8\xad\",\"\\u4e2d\"]")
                             << QByteArrayList{"\"\xe4\xb8\xad\"", "\"\\u4e2d\""};
    QTest::addRow("scalar root") << bytes("  -12.5e+3  ") << bytes("-12.5e+3") << QByteArrayList{};
}

void TestJson::raw()
{
    QFETCH(QByteArray, json);
    QFETCH(QByteArray, rootRaw);
    QFETCH(QByteArrayList, childRaws);

    Json::Document doc;
    QVERIFY(doc.parse(json));
    QCOMPARE(doc.root().raw(), rootRaw);
    QByteArrayList raws;
    for (const Json::Value child : doc.root().items())
        raws += child.raw().toByteArray();
    QCOMPARE(raws, childRaws);
}

void TestJson::keys()
{
    Json::Document doc;
    QVERIFY(doc.parse(bytes("{\"a\":1,\"b\\n\":[2,{\"inner\":3}],\"\":4,\"\\u00e9\":5,\"\xe4\xb8\xad\":6}")));
    const Json::Value root = doc.root();
    QVERIFY(root.key().isEmpty());
    QByteArrayList keys;
    for (const Json::Value member : root.items())
        keys += member.key().toByteArray();
    QCOMPARE(keys, (QByteArrayList{"a", "b\n", "", "\xc3\xa9", "\xe4\xb8\xad"}));
    QCOMPARE(root["b\n"].size(), 2);
    QCOMPARE(root[""].toInteger(), 4);
    QCOMPARE(root["\xc3\xa9"].toInteger(), 5);
    QCOMPARE(root["\xe4\xb8\xad"].toInteger(), 6);
    for (const Json::Value element : root["b\n"].items())
        QVERIFY(element.key().isEmpty());
    const Json::Value inner = *(++root["b\n"].items().begin());
    QCOMPARE((*inner.items().begin()).key(), "inner");
    QCOMPARE(inner["inner"].key(), "inner");
}

void TestJson::items()
{
    Json::Document doc;
    QVERIFY(doc.parse(bytes("[[1,[2,3]],{\"a\":[4],\"b\":{\"c\":5}},6,\"s\",[]]")));
    QList<int> types;
    for (const Json::Value value : doc.root().items())
        types += int(value.type());
    QCOMPARE(types,
             (QList<int>{int(Json::Type::Array), int(Json::Type::Object), int(Json::Type::Number),
                         int(Json::Type::String), int(Json::Type::Array)}));

    QList<qint64> objectValues;
    for (const Json::Value member : (*++doc.root().items().begin()).items())
        objectValues += member.size();
    QCOMPARE(objectValues, (QList<qint64>{1, 1}));

    // Ranges over anything that is not a container are empty.
    for (const Json::Value value : {doc.root()["x"], Json::Value(), *(++ ++doc.root().items().begin())}) {
        const Json::Range range = value.items();
        QVERIFY(range.begin() == range.end());
    }
    int count = 0;
    for (const Json::Value value : doc.root().items().begin().operator*().items()) {
        Q_UNUSED(value);
        ++count;
    }
    QCOMPARE(count, 2);
}

void TestJson::defaultsOnOtherTypes()
{
    Json::Document doc;
    QVERIFY(doc.parse(bytes("{\"s\":\"text\",\"n\":1.5,\"b\":true,\"z\":null,\"a\":[1]}")));
    const Json::Value root = doc.root();
    const QString fallback = QStringLiteral("fallback");

    const Json::Document empty;
    for (const Json::Value value : {Json::Value(), root["missing"], root["s"]["x"], empty.root()}) {
        QVERIFY(value.isUndefined());
        QCOMPARE(value.toBool(true), true);
        QCOMPARE(value.toDouble(2.5), 2.5);
        QVERIFY(!value.isInteger());
        QCOMPARE(value.toInteger(7), 7);
        QVERIFY(value.toUtf8().isEmpty());
        QCOMPARE(value.toString(fallback), fallback);
        QCOMPARE(value.size(), 0);
        QVERIFY(value["a"].isUndefined());
        QVERIFY(value.items().begin() == value.items().end());
        QVERIFY(value.key().isEmpty());
        QVERIFY(value.raw().isEmpty());
    }

    QCOMPARE(root["s"].toInteger(3), 3);
    QCOMPARE(root["s"].toDouble(3), 3.0);
    QCOMPARE(root["s"].toBool(true), true);
    QCOMPARE(root["s"].size(), 0);
    QCOMPARE(root["s"].toString(fallback), QStringLiteral("text"));
    QCOMPARE(root["n"].toInteger(3), 3);
    QCOMPARE(root["n"].toDouble(), 1.5);
    QCOMPARE(root["n"].toString(fallback), fallback);
    QCOMPARE(root["b"].toBool(false), true);
    QCOMPARE(root["b"].toDouble(2), 2.0);
    QVERIFY(root["z"].isNull());
    QCOMPARE(root["z"].toBool(true), true);
    QCOMPARE(root["z"].toString(fallback), fallback);
    QCOMPARE(root["a"].toString(fallback), fallback);
    QVERIFY(root["a"]["0"].isUndefined());
    QCOMPARE(root.toString(fallback), fallback);
    QCOMPARE(root.toDouble(1), 1.0);
}

void TestJson::stringsAreViews()
{
    Json::Document doc;
    QByteArray source = "{\"plain\":\"hello\",\"escaped\":\"a\\nb\"}";
    QVERIFY(doc.parse(source));
    const auto inSource = [&](QByteArrayView view) {
        return view.data() >= source.constData() && view.data() + view.size() <= source.constData() + source.size();
    };
    const Json::Value plain = doc.root()["plain"];
    QVERIFY(inSource(plain.toUtf8()));
    QVERIFY(inSource(plain.key()));
    QVERIFY(!inSource(doc.root()["escaped"].toUtf8()));

    // The document holds its own reference to the source, so changing or
    // dropping the caller's copy does not affect it.
    source[10] = 'J';
    source.clear();
    QCOMPARE(doc.root()["plain"].toUtf8(), "hello");
    QCOMPARE(doc.root()["escaped"].toUtf8(), "a\nb");
}

void TestJson::documentReuse()
{
    Json::Document doc;
    QByteArray big = "[";
    for (int i = 0; i < 1000; ++i)
        big += "\"\\u00e9" + QByteArray::number(i) + "\",";
    big += "0]";
    QVERIFY(doc.parse(big));
    Json::Value old;
    for (const Json::Value value : doc.root().items())
        old = value;
    QCOMPARE(old.toInteger(), 0);

    for (int round = 0; round < 3; ++round) {
        QVERIFY(doc.parse(bytes("[\"\\n1\",{\"k\\t\":\"\\u4e2d\"}]")));
        QCOMPARE(doc.root().size(), 2);
        QCOMPARE((*doc.root().items().begin()).toUtf8(), "\n1");
        QCOMPARE(doc.root().items().begin().operator*().raw(), "\"\\n1\"");
        const Json::Value object = *(++doc.root().items().begin());
        QCOMPARE(object["k\t"].toUtf8(), "\xe4\xb8\xad");
        QCOMPARE(object["k\t"].key(), "k\t");
        // A handle from an earlier, larger document must not read out of bounds.
        QVERIFY(old.isUndefined());
        QVERIFY(old.raw().isEmpty());
        QVERIFY(doc.parse(big));
        QCOMPARE(doc.root().size(), 1001);
        QCOMPARE((*doc.root().items().begin()).toUtf8(),
                 "\xc3\xa9"
                 "0");
    }
}

void TestJson::reusedDocumentNests()
{
    Json::ReusedDocument shared;
    const Json::Document* first = nullptr;
    {
        const Json::ReusedDocument::Lease outer(shared);
        first = &*outer;
        QVERIFY(outer->parse(bytes(R"({"type":"command","args":{"text":"outer"}})")));
        const Json::Value args = outer->root()["args"];
        {
            // A message handled while the outer one is still being read.
            const Json::ReusedDocument::Lease inner(shared);
            QVERIFY(&*inner != first);
            QVERIFY(inner->parse(bytes(R"({"type":"log","line":"inner, and longer than the outer message"})")));
            QCOMPARE(inner->root()["line"].toString(), QStringLiteral("inner, and longer than the outer message"));
        }
        QCOMPARE(args["text"].toString(), QStringLiteral("outer"));
        QCOMPARE(shared.nestedLeases(), 1);
    }
    // Once the outer lease ends, the next one is the shared document again.
    const Json::ReusedDocument::Lease next(shared);
    QCOMPARE(&*next, first);
    QCOMPARE(shared.nestedLeases(), 1);
}

void TestJson::writerStructure()
{
    QByteArray out;
    Json::Writer writer(&out);
    writer.beginObject()
        .key("a")
        .integer(1)
        .key("b")
        .beginArray()
        .boolean(true)
        .boolean(false)
        .null()
        .string("x")
        .number(1.5)
        .string(QStringLiteral("\u00e9"))
        .endArray()
        .key("c")
        .beginObject()
        .endObject()
        .key("d")
        .beginArray()
        .endArray()
        .key("e")
        .beginObject()
        .key("f")
        .beginArray()
        .beginArray()
        .endArray()
        .beginObject()
        .endObject()
        .endArray()
        .endObject()
        .key("g")
        .raw("{\"pre\":[1,2]}")
        .key("h")
        .number(std::nan(""))
        .endObject();
    QCOMPARE(out,
             QByteArray("{\"a\":1,\"b\":[true,false,null,\"x\",1.5,\"\xc3\xa9\"],\"c\":{},\"d\":[],"
                        "\"e\":{\"f\":[[],{}]},\"g\":{\"pre\":[1,2]},\"h\":null}"));

    Json::Document doc;
    QVERIFY(doc.parse(out));
    QCOMPARE(doc.root()["g"]["pre"].size(), 2);

    QByteArray scalar;
    Json::Writer(&scalar).string("only");
    QCOMPARE(scalar, "\"only\"");
}

void TestJson::escapeControlBytes_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QByteArray>("escaped");

    for (int c = 0; c < 0x20; ++c) {
        QByteArray expected;
        switch (c) {
        case '\b':
            expected = "\\b";
            break;
        case '\t':
            expected = "\\t";
            break;
        case '\n':
            expected = "\\n";
            break;
        case '\f':
            expected = "\\f";
            break;
        case '\r':
            expected = "\\r";
            break;
        default:
            expected = "\\u00" + QByteArray::number(c, 16).rightJustified(2, '0');
            break;
        }
        QTest::addRow("0x%02x", c) << QByteArray(1, char(c)) << expected;
    }
    QTest::addRow("quote") << bytes("\"") << bytes("\\\"");
    QTest::addRow("backslash") << bytes("\\") << bytes("\\\\");
    QTest::addRow("solidus") << bytes("/") << bytes("/");
    QTest::addRow("all, in text") << bytes("ab\"c\\d\x01\x1f"
                                           "efghijklmnop\n")
                                  << bytes("ab\\\"c\\\\d\\u0001\\u001fefghijklmnop\\n");
}

void TestJson::escapeControlBytes()
{
    QFETCH(QByteArray, input);
    QFETCH(QByteArray, escaped);

    const QByteArray expected = '"' + escaped + '"';
    QCOMPARE(quoted(input), expected);
    QByteArray fromUtf16;
    Json::appendString(fromUtf16, QStringView(QString::fromLatin1(input)));
    QCOMPARE(fromUtf16, expected);

    // Appending keeps what is already there.
    QByteArray out = "prefix";
    Json::appendString(out, QByteArrayView(input));
    QCOMPARE(out, "prefix" + expected);

    Json::Document doc;
    QVERIFY(doc.parse(expected));
    QCOMPARE(doc.root().toUtf8(), input);
}

void TestJson::otherBytesCopied()
{
    for (int c = 0x20; c < 0x100; ++c) {
        if (c == '"' || c == '\\')
            continue;
        const QByteArray input(1, char(c));
        QCOMPARE(quoted(input), '"' + input + '"');
        // And inside a run long enough for the word-at-a-time scan.
        const QByteArray run = QByteArray(13, 'a') + input + QByteArray(5, 'b');
        QCOMPARE(quoted(run), '"' + run + '"');
    }
    const QByteArray text = "Gr\xc3\xbc\xc3\x9f \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x9a\x80\x7f";
    QCOMPARE(quoted(text), '"' + text + '"');
    QCOMPARE(quoted(QByteArray()), "\"\"");
}

void TestJson::appendStringUtf16_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<QByteArray>("expected");

    QTest::addRow("empty") << QString() << bytes("\"\"");
    QTest::addRow("ASCII") << QStringLiteral("abc") << bytes("\"abc\"");
    QTest::addRow("escapes") << QStringLiteral("a\"b\\c\n\u0001") << bytes("\"a\\\"b\\\\c\\n\\u0001\"");
    QTest::addRow("two-byte") << QStringLiteral("\u00e9\u07ff") << bytes("\"\xc3\xa9\xdf\xbf\"");
    QTest::addRow("three-byte") << QStringLiteral("\u0800\u4e2d\uffff")
                                << bytes("\"\xe0\xa0\x80\xe4\xb8\xad\xef\xbf\xbf\"");
    QTest::addRow("emoji") << QStringLiteral("\U0001F680") << bytes("\"\xf0\x9f\x9a\x80\"");
    QTest::addRow("lone high surrogate") << QString(QChar(0xD800)) << bytes("\"\xef\xbf\xbd\"");
    QTest::addRow("lone low surrogate") << QString(QChar(0xDC00)) << bytes("\"\xef\xbf\xbd\"");
    QTest::addRow("reversed pair") << QString(QString(QChar(0xDC00)) + QChar(0xD800) + u'x')
                                   << bytes("\"\xef\xbf\xbd\xef\xbf\xbdx\"");
    // Chunk boundaries: a pair straddling one, and control bytes filling them.
    QTest::addRow("pair across a chunk") << QString(QString(4095, u'a') + QStringLiteral("\U0001F680") + u'z')
                                         << QByteArray('"' + QByteArray(4095, 'a') + "\xf0\x9f\x9a\x80z\"");
    QTest::addRow("high surrogate ends a chunk")
        << QString(QString(4095, u'a') + QChar(0xD800)) << QByteArray('"' + QByteArray(4095, 'a') + "\xef\xbf\xbd\"");
    QTest::addRow("many control bytes") << QString(10000, QChar(1))
                                        << QByteArray('"' + QByteArray("\\u0001").repeated(10000) + '"');
}

void TestJson::appendStringUtf16()
{
    QFETCH(QString, input);
    QFETCH(QByteArray, expected);

    QByteArray out;
    Json::appendString(out, QStringView(input));
    QCOMPARE(out, expected);
    // Same as through toUtf8(), except that lone surrogates become U+FFFD (as
    // the parser makes them) where toUtf8() writes '?'.
    if (input.isValidUtf16()) {
        QByteArray viaUtf8;
        Json::appendString(viaUtf8, QByteArrayView(input.toUtf8()));
        QCOMPARE(viaUtf8, expected);
    }
}

void TestJson::appendDouble_data()
{
    QTest::addColumn<double>("value");
    QTest::addColumn<QByteArray>("expected");

    QTest::addRow("0") << 0.0 << bytes("0");
    QTest::addRow("-0") << -0.0 << bytes("-0");
    QTest::addRow("1") << 1.0 << bytes("1");
    QTest::addRow("1.5") << 1.5 << bytes("1.5");
    QTest::addRow("0.1") << 0.1 << bytes("0.1");
    QTest::addRow("1/3") << 1.0 / 3 << bytes("0.3333333333333333");
    QTest::addRow("123456.789") << 123456.789 << bytes("123456.789");
    QTest::addRow("1e300") << 1e300 << bytes("1e+300");
    QTest::addRow("1e-7") << 1e-7 << bytes("1e-07");
    QTest::addRow("max") << std::numeric_limits<double>::max() << bytes("1.7976931348623157e+308");
    QTest::addRow("lowest") << std::numeric_limits<double>::lowest() << bytes("-1.7976931348623157e+308");
    QTest::addRow("denorm min") << std::numeric_limits<double>::denorm_min() << bytes("5e-324");
    QTest::addRow("NaN") << std::numeric_limits<double>::quiet_NaN() << bytes("null");
    QTest::addRow("infinity") << std::numeric_limits<double>::infinity() << bytes("null");
    QTest::addRow("-infinity") << -std::numeric_limits<double>::infinity() << bytes("null");
}

void TestJson::appendDouble()
{
    QFETCH(double, value);
    QFETCH(QByteArray, expected);

    QByteArray out;
    Json::appendDouble(out, value);
    QCOMPARE(out, expected);

    Json::Document doc;
    QVERIFY(doc.parse(out));
    if (std::isfinite(value)) {
        QVERIFY(doc.root().toDouble() == value);
        QCOMPARE(std::signbit(doc.root().toDouble()), std::signbit(value));
    } else {
        QVERIFY(doc.root().isNull());
    }
}

void TestJson::appendInteger_data()
{
    QTest::addColumn<qint64>("value");
    QTest::addColumn<QByteArray>("expected");

    QTest::addRow("0") << qint64(0) << bytes("0");
    QTest::addRow("-1") << qint64(-1) << bytes("-1");
    QTest::addRow("timestamp") << qint64(1763773200123) << bytes("1763773200123");
    QTest::addRow("max") << std::numeric_limits<qint64>::max() << bytes("9223372036854775807");
    QTest::addRow("min") << std::numeric_limits<qint64>::min() << bytes("-9223372036854775808");
}

void TestJson::appendInteger()
{
    QFETCH(qint64, value);
    QFETCH(QByteArray, expected);

    QByteArray out;
    Json::appendInteger(out, value);
    QCOMPARE(out, expected);
    Json::Document doc;
    QVERIFY(doc.parse(out));
    QVERIFY(doc.root().isInteger());
    QCOMPARE(doc.root().toInteger(), value);
}

void TestJson::roundTripRandomStrings()
{
    static const char32_t pool[] = {
        U'a', U'Z', U'0', U' ', U'"',  U'\\', U'/',   U'\n',  U'\r',  U'\t',  U'\b',   U'\f',   0x00,    0x01,
        0x1F, 0x7F, 0x80, 0xE9, 0x7FF, 0x800, 0x4E2D, 0x6587, 0xFFFD, 0xFFFF, 0x10000, 0x1F680, 0x1F600, 0x10FFFF,
    };
    QRandomGenerator random(20251122);
    Json::Document doc;
    for (int i = 0; i < 2000; ++i) {
        QString text;
        const int length = int(random.bounded(40));
        for (int j = 0; j < length; ++j) {
            const char32_t cp = random.bounded(4) == 0 ? pool[random.bounded(int(std::size(pool)))]
                                                       : char32_t(0x20 + random.bounded(0x5F));
            text += QString::fromUcs4(&cp, 1);
        }
        const QByteArray utf8 = text.toUtf8();

        QByteArray out;
        Json::Writer writer(&out);
        writer.beginObject().key(utf8).string(text).key("bytes").string(QByteArrayView(utf8)).key("list");
        writer.beginArray().string(text).string(QByteArrayView(utf8)).endArray().endObject();

        QString error;
        QVERIFY2(doc.parse(out, &error), qPrintable(error + QLatin1Char('\n') + QString::fromUtf8(out)));
        const Json::Value root = doc.root();
        QCOMPARE(root.size(), 3);
        const Json::Value first = *root.items().begin();
        QCOMPARE(first.key(), utf8);
        QCOMPARE(first.toString(), text);
        QCOMPARE(root["bytes"].toUtf8(), utf8);
        for (const Json::Value element : root["list"].items()) {
            QCOMPARE(element.toUtf8(), utf8);
            QCOMPARE(element.toString(), text);
        }
    }
}

void TestJson::roundTripRandomBytes()
{
    // Even bytes that are not UTF-8 survive writer -> parser unchanged.
    QRandomGenerator random(7);
    Json::Document doc;
    for (int i = 0; i < 2000; ++i) {
        QByteArray input(int(random.bounded(64)), Qt::Uninitialized);
        for (char& c : input)
            c = char(random.bounded(256));
        const ExactBuffer buffer(quoted(input));
        QVERIFY(doc.parse(buffer.bytes()));
        QCOMPARE(doc.root().toUtf8(), input);
    }
}

void TestJson::fuzz()
{
    static const char interesting[] = "[]{}\",:\\/u0123456789-+.eEtrufalsn \t\n\x01\x7f\x80\xff";
    const QList<QByteArray> seeds = {
        bytes("{\"type\":\"log\",\"lines\":[{\"text\":\"hello \\\"world\\\"\",\"stream\":\"stdout\",\"level\":\"INFO\","
              "\"source\":\"a.b\",\"ts\":1763773200123},{\"text\":\"\\u4e2d\\ud83d\\ude80\",\"stream\":\"stderr\","
              "\"level\":\"ERROR\",\"source\":\"c\",\"ts\":-1.5e-3}]}"),
        bytes("[1,-0,0.5e+10,true,false,null,\"\",{},[],{\"a\":[{\"b\":null}]}]"),
        bytes("\"\\b\\f\\n\\r\\t\\/\\\\\\\"\\u0000\\uD800\\uDC00\""),
        bytes("  { \"k\" : [ 1 , 2 , [ 3 , { \"x\" : \"y\" } ] ] }  "),
        nested(Json::Document::MaxDepth, true),
    };

    // More iterations for a longer run, e.g. under the sanitizers.
    bool ok = false;
    int iterations = qEnvironmentVariableIntValue("AGENTDECK_JSON_FUZZ_ITERATIONS", &ok);
    if (!ok)
        iterations = 20000;

    QRandomGenerator random(0x5EED);
    Json::Document doc;
    int accepted = 0;
    for (int i = 0; i < iterations; ++i) {
        QByteArray text = seeds[random.bounded(int(seeds.size()))];
        const int mutations = 1 + int(random.bounded(4));
        for (int m = 0; m < mutations && !text.isEmpty(); ++m) {
            const int at = int(random.bounded(int(text.size())));
            const char byte = random.bounded(2) ? interesting[random.bounded(int(sizeof interesting - 1))]
                                                : char(random.bounded(256));
            switch (random.bounded(5)) {
            case 0:
                text[at] = byte;
                break;
            case 1:
                text.insert(at, byte);
                break;
            case 2:
                text.remove(at, 1 + int(random.bounded(4)));
                break;
            case 3:
                text.truncate(at);
                break;
            default:
                text.insert(at, text.mid(int(random.bounded(int(text.size()))), int(random.bounded(16))));
                break;
            }
        }
        const ExactBuffer buffer(text);
        QString error;
        if (doc.parse(buffer.bytes(), &error)) {
            ++accepted;
            QCOMPARE(doc.errorOffset(), -1);
            int visited = 0;
            walk(doc.root(), buffer.bytes(), 0, &visited);
            if (QTest::currentTestFailed())
                qWarning() << "input" << text;
            QVERIFY(visited >= 1);
        } else {
            QVERIFY(!error.isEmpty());
            QVERIFY(doc.errorOffset() >= 0 && doc.errorOffset() <= text.size());
            QVERIFY(doc.root().isUndefined());
        }
    }
    // The mutations are mild enough that some documents stay valid.
    QVERIFY(accepted > iterations / 200);
}

void TestJson::writeStringMatchesAppendString_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addRow("empty") << QByteArray();
    QTest::addRow("plain") << QByteArray("searching page 3");
    QTest::addRow("quotes and backslash") << QByteArray(R"(say "hi" \ ok)");
    QTest::addRow("every control byte") << [] {
        QByteArray b;
        for (int c = 0; c < 0x20; ++c)
            b.append(char(c));
        return b;
    }();
    QTest::addRow("ansi") << QByteArray("\x1b[1;31mERROR\x1b[0m: refused");
    QTest::addRow("chinese and emoji") << QByteArray("核心事件概述 🙂");
    QTest::addRow("long") << QByteArray(70000, 'A') + "\n" + QByteArray(100, 'b');
}

void TestJson::writeStringMatchesAppendString()
{
    QFETCH(QByteArray, input);
    QByteArray expected;
    Json::appendString(expected, input);
    // Surround the write with guard bytes to see that it stays inside its bound.
    QByteArray buffer(Json::maxStringSize(input.size()) + 2, '#');
    char* end = Json::writeString(buffer.data() + 1, input);
    QVERIFY(end - buffer.constData() <= buffer.size() - 1);
    QCOMPARE(QByteArray(buffer.constData() + 1, end - buffer.constData() - 1), expected);
    QCOMPARE(buffer.front(), '#');
    QCOMPARE(buffer.back(), '#');
}

void TestJson::writeInteger_data()
{
    QTest::addColumn<qint64>("value");
    QTest::addRow("zero") << qint64(0);
    QTest::addRow("seq") << qint64(58);
    QTest::addRow("ts") << qint64(1763773200123);
    QTest::addRow("negative") << qint64(-42);
    QTest::addRow("min") << std::numeric_limits<qint64>::min();
    QTest::addRow("max") << std::numeric_limits<qint64>::max();
}

void TestJson::writeInteger()
{
    QFETCH(qint64, value);
    char buffer[20];
    char* end = Json::writeInteger(buffer, value);
    QCOMPARE(QByteArray(buffer, end - buffer), QByteArray::number(value));
}

QTEST_GUILESS_MAIN(TestJson)
#include "tst_json.moc"
