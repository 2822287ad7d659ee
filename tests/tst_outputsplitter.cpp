// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/launcher/outputsplitter.h"
#include "support/fixtures.h"

#include <QElapsedTimer>
#include <QFile>
#include <QLocale>
#include <QRandomGenerator>
#include <QStringDecoder>
#include <QTest>

#include <functional>
#include <vector>

namespace {

constexpr qsizetype Default = OutputSplitter::DefaultMaxLineBytes;

// A byte array of the whole literal, NUL bytes included.
template <std::size_t N>
QByteArray bytes(const char (&text)[N])
{
    return QByteArray(text, qsizetype(N - 1));
}

const QByteArray Fffd = bytes("\xEF\xBF\xBD");

bool decodesCleanly(QByteArrayView text)
{
    QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    const QString decoded = decoder.decode(text);
    Q_UNUSED(decoded);
    return !decoder.hasError();
}

/*
 * An independent model of the splitter, written for clarity rather than speed: it
 * decodes code points instead of following Table 3-7, and splits the whole input at
 * once with QByteArray::split().
 */
namespace model {

int sequenceLength(uchar lead)
{
    if (lead < 0x80)
        return 1;
    if ((lead & 0xE0) == 0xC0)
        return 2;
    if ((lead & 0xF0) == 0xE0)
        return 3;
    if ((lead & 0xF8) == 0xF0)
        return 4;
    return 0;
}

// Whether the count bytes at p can begin (or are) a well-formed sequence.
bool startsWellFormed(const uchar* p, int count)
{
    const int length = sequenceLength(p[0]);
    if (length == 0 || count > length)
        return false;
    if (length == 1)
        return true;
    quint32 codePoint = p[0] & (0xFF >> (length + 1));
    for (int i = 1; i < count; ++i) {
        if ((p[i] & 0xC0) != 0x80)
            return false;
        codePoint = codePoint << 6 | (p[i] & 0x3F);
    }
    const int missing = 6 * (length - count);
    const quint32 lowest = qMax<quint32>(codePoint << missing, length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000);
    const quint32 highest = qMin<quint32>(codePoint << missing | ((1u << missing) - 1), 0x10FFFF);
    return lowest <= highest && !(lowest >= 0xD800 && highest <= 0xDFFF);
}

QByteArray repair(QByteArrayView text)
{
    QByteArray out;
    const auto* p = reinterpret_cast<const uchar*>(text.data());
    for (qsizetype i = 0; i < text.size();) {
        const int length = sequenceLength(p[i]);
        int good = 0;
        while (good < length && i + good < text.size() && startsWellFormed(p + i, good + 1))
            ++good;
        if (length > 0 && good == length) {
            out.append(text.sliced(i, length));
            i += length;
        } else {
            out.append(Fffd);
            i += qMax(good, 1);
        }
    }
    return out;
}

QByteArray lastPart(const QByteArray& line)
{
    const QList<QByteArray> parts = line.split('\r');
    for (auto it = parts.crbegin(); it != parts.crend(); ++it) {
        if (!it->isEmpty())
            return *it;
    }
    return {};
}

qsizetype cut(const QByteArray& part, qsizetype limit)
{
    qsizetype start = limit;
    while (start > limit - 3 && (uchar(part[start]) & 0xC0) == 0x80)
        --start;
    if (start < limit
        && startsWellFormed(reinterpret_cast<const uchar*>(part.constData()) + start, int(limit - start + 1)))
        return start;
    return limit;
}

qsizetype incompleteTail(const QByteArray& text)
{
    for (int back = 1; back <= 3 && back <= text.size(); ++back) {
        const auto* p = reinterpret_cast<const uchar*>(text.constData()) + text.size() - back;
        if (sequenceLength(*p) > back && startsWellFormed(p, back))
            return back;
    }
    return 0;
}

QByteArray line(const QByteArray& raw, qsizetype limit)
{
    const QByteArray part = lastPart(raw);
    if (part.size() <= limit)
        return repair(part);
    const qsizetype at = cut(part, limit);
    const qsizetype more = part.size() - at;
    QByteArray out = repair(part.first(at));
    out += bytes(" \xE2\x80\xA6 [line cut: ");
    out += QLocale(QLocale::English, QLocale::UnitedStates).toString(qlonglong(more)).toUtf8();
    out += more == 1 ? " more byte]" : " more bytes]";
    return out;
}

QList<QByteArray> lines(const QByteArray& input, qsizetype limit)
{
    QList<QByteArray> raw = input.split('\n');
    if (raw.constLast().isEmpty())
        raw.removeLast();
    QList<QByteArray> out;
    for (const QByteArray& r : qAsConst(raw))
        out.append(line(r, limit));
    return out;
}

// What partial() should show after input was fed.
QByteArray partial(const QByteArray& input, qsizetype limit)
{
    const QByteArray part = lastPart(input.sliced(input.lastIndexOf('\n') + 1));
    if (part.size() > limit)
        return repair(part.first(cut(part, limit)));
    return repair(part.chopped(incompleteTail(part)));
}

} // namespace model

/*
 * Feeds input in chunks of the sizes nextSize() returns, each chunk in an allocation
 * of its own so that the sanitizers see any read past it, then finishes. With
 * checkPartials, compares partial() with the model after every chunk and checks that
 * partialChanged() reports every change. Check QTest::currentTestFailed() after.
 */
void feedInChunks(const QByteArray& input, const std::function<qsizetype()>& nextSize, qsizetype limit,
                  bool checkPartials, QList<QByteArray>* lines)
{
    OutputSplitter splitter(limit);
    const auto collect = [lines](QByteArrayView line) {
        lines->append(line.toByteArray());
    };
    QByteArray shownBefore;
    bool hadBefore = false;
    for (qsizetype pos = 0; pos < input.size();) {
        const qsizetype size = qMin(nextSize(), input.size() - pos);
        const std::vector<char> chunk(input.cbegin() + pos, input.cbegin() + pos + size);
        splitter.feed(QByteArrayView(chunk.data(), size), collect);
        pos += size;
        if (!checkPartials)
            continue;
        const bool has = pos > 0 && input[pos - 1] != '\n';
        QCOMPARE(splitter.hasPartial(), has);
        const bool changed = splitter.partialChanged();
        const QByteArray shown = splitter.partial().toByteArray();
        QVERIFY(!splitter.partialChanged());
        QCOMPARE(shown, model::partial(input.first(pos), limit));
        if (shown != shownBefore || has != hadBefore)
            QVERIFY2(changed, qPrintable(QStringLiteral("after %1 bytes").arg(pos)));
        shownBefore = shown;
        hadBefore = has;
    }
    splitter.finish(collect);
    QVERIFY(!splitter.hasPartial());
    QVERIFY(splitter.partial().isEmpty());
}

QList<QByteArray> feedWhole(const QByteArray& input, qsizetype limit = Default)
{
    OutputSplitter splitter(limit);
    QList<QByteArray> lines;
    const auto collect = [&lines](QByteArrayView line) {
        lines.append(line.toByteArray());
    };
    splitter.feed(input, collect);
    splitter.finish(collect);
    return lines;
}

QList<QByteArray> feedBytewise(const QByteArray& input, qsizetype limit = Default)
{
    OutputSplitter splitter(limit);
    QList<QByteArray> lines;
    const auto collect = [&lines](QByteArrayView line) {
        lines.append(line.toByteArray());
    };
    for (qsizetype i = 0; i < input.size(); ++i) {
        const char byte = input[i];
        splitter.feed(QByteArrayView(&byte, 1), collect);
    }
    splitter.finish(collect);
    return lines;
}

QByteArray cutMarker(qint64 more)
{
    return OutputSplitter::CutMarker.toByteArray()
        + QLocale(QLocale::English, QLocale::UnitedStates).toString(qlonglong(more)).toUtf8() + " more bytes]";
}

// Mixed console output: CRLF, progress rewrites, ANSI colours, NUL and other control
// characters, multibyte and invalid UTF-8, a line longer than 256 bytes that a
// 256-byte limit cuts inside a character, an unfinished line ending in part of one.
QByteArray sample()
{
    QByteArray text = bytes("plain ascii line\n"
                            "crlf line\r\n"
                            "\n"
                            "\r\n"
                            "10%\r20%\r30%\n"
                            "progress\r\r\n"
                            "\x1b[32mINFO\x1b[0m: started\n"
                            "tab\there, NUL \0 and bell \a\n"
                            "caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x98\x80 done\n"
                            "bad \xC0\xAF \xED\xA0\x80 \xF5 \x80 end\n"
                            "truncated \xE2\x82 mid\n");
    text += QByteArray(254, 'L') + bytes("\xE2\x82\xAC") + QByteArray(43, 'y') + '\n';
    text += bytes("\r\x1b[2K\xE2\x96\x88\xE2\x96\x88   40%\r\x1b[2K\xE2\x96\x88\xE2\x96\x88\xE2\x96\x88\xE2\x96\x88 "
                  "80%\r\n"
                  "unfinished \xE2\x82");
    return text;
}

} // namespace

class TestOutputSplitter : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void sampleLines();
    void chunkBoundaries_data();
    void chunkBoundaries();
    void lineEnds_data();
    void lineEnds();
    void partialAndFinish();
    void partialHidesIncompleteCharacter();
    void partialChanged();
    void invalidUtf8_data();
    void invalidUtf8();
    void repairMatchesModel();
    void emojiAcrossChunks();
    void zeroCopy();
    void longLine_data();
    void longLine();
    void hugeLineWithoutNewline();
    void cutKeepsCharacters();
    void limitClamped();
    void randomInputsMatchModel();
    void mixedFixture();
    void throughput_data();
    void throughput();
};

void TestOutputSplitter::sampleLines()
{
    const QByteArray longLine = QByteArray(254, 'L') + bytes("\xE2\x82\xAC") + QByteArray(43, 'y');
    const QList<QByteArray> expected{
        "plain ascii line",
        "crlf line",
        "",
        "",
        "30%",
        "progress",
        bytes("\x1b[32mINFO\x1b[0m: started"),
        bytes("tab\there, NUL \0 and bell \a"),
        bytes("caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x98\x80 done"),
        "bad " + Fffd + Fffd + ' ' + Fffd + Fffd + Fffd + ' ' + Fffd + ' ' + Fffd + " end",
        "truncated " + Fffd + " mid",
        longLine,
        bytes("\x1b[2K\xE2\x96\x88\xE2\x96\x88\xE2\x96\x88\xE2\x96\x88 80%"),
        "unfinished " + Fffd,
    };
    QCOMPARE(feedWhole(sample()), expected);

    // A 256-byte limit cuts the long line before the euro sign that byte 256 is part of.
    QList<QByteArray> cut = expected;
    cut[11] = QByteArray(254, 'L') + cutMarker(46);
    QCOMPARE(feedWhole(sample(), 256), cut);
    QCOMPARE(model::lines(sample(), Default), expected);
    QCOMPARE(model::lines(sample(), 256), cut);
}

void TestOutputSplitter::chunkBoundaries_data()
{
    QTest::addColumn<qsizetype>("limit");
    QTest::addRow("default limit") << Default;
    QTest::addRow("256-byte limit") << qsizetype(256);
}

void TestOutputSplitter::chunkBoundaries()
{
    QFETCH(qsizetype, limit);
    const QByteArray input = sample();
    const QList<QByteArray> expected = feedWhole(input, limit);
    QCOMPARE(expected, model::lines(input, limit));

    for (const qsizetype size : {1, 2, 7}) {
        QList<QByteArray> lines;
        feedInChunks(
            input, [size] { return size; }, limit, true, &lines);
        QVERIFY2(!QTest::currentTestFailed(), qPrintable(QStringLiteral("%1-byte chunks").arg(size)));
        QCOMPARE(lines, expected);
    }
    for (qsizetype at = 0; at <= input.size(); ++at) {
        QList<QByteArray> lines;
        bool first = true;
        feedInChunks(
            input,
            [&first, at] {
                const qsizetype size = first ? at : qsizetype(1) << 40;
                first = false;
                return size;
            },
            limit, true, &lines);
        QVERIFY2(!QTest::currentTestFailed(), qPrintable(QStringLiteral("split at %1").arg(at)));
        QVERIFY2(lines == expected, qPrintable(QStringLiteral("split at %1").arg(at)));
    }
    for (quint32 seed = 1; seed <= 50; ++seed) {
        QRandomGenerator random(seed);
        QList<QByteArray> lines;
        feedInChunks(
            input, [&random] { return qsizetype(random.bounded(1, 40)); }, limit, true, &lines);
        QVERIFY2(!QTest::currentTestFailed(), qPrintable(QStringLiteral("seed %1").arg(seed)));
        QVERIFY2(lines == expected, qPrintable(QStringLiteral("seed %1").arg(seed)));
    }
}

void TestOutputSplitter::lineEnds_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QList<QByteArray>>("expected");

    QTest::addRow("LF") << QByteArray("a\nb\n") << QList<QByteArray>{"a", "b"};
    QTest::addRow("CRLF") << QByteArray("a\r\nb\r\n") << QList<QByteArray>{"a", "b"};
    QTest::addRow("empty lines") << QByteArray("\n\r\n\n") << QList<QByteArray>{"", "", ""};
    QTest::addRow("mixed LF and CRLF") << QByteArray("a\r\nb\nc\r\n") << QList<QByteArray>{"a", "b", "c"};
    QTest::addRow("progress") << QByteArray("10%\r20%\r30%\n") << QList<QByteArray>{"30%"};
    QTest::addRow("progress then CRLF") << QByteArray("10%\r20%\r\n") << QList<QByteArray>{"20%"};
    QTest::addRow("CR CR LF") << QByteArray("abc\r\r\n") << QList<QByteArray>{"abc"};
    QTest::addRow("leading CR") << QByteArray("\rabc\n") << QList<QByteArray>{"abc"};
    QTest::addRow("shorter rewrite") << QByteArray("abcdef\rxy\n") << QList<QByteArray>{"xy"};
    QTest::addRow("empty parts between") << QByteArray("a\r\r\rb\r\r\n") << QList<QByteArray>{"b"};
    QTest::addRow("only CRs") << QByteArray("\r\r\n") << QList<QByteArray>{""};
    QTest::addRow("lone CR at the end") << QByteArray("x\n\r") << QList<QByteArray>{"x", ""};
    QTest::addRow("CR is not a line end") << QByteArray("a\rb") << QList<QByteArray>{"b"};
    QTest::addRow("ANSI in progress") << QByteArray("\x1b[2K 1/3\r\x1b[2K 3/3\r\n")
                                      << QList<QByteArray>{QByteArray("\x1b[2K 3/3")};
    QTest::addRow("no newline") << QByteArray("tail") << QList<QByteArray>{"tail"};
    QTest::addRow("nothing") << QByteArray() << QList<QByteArray>{};
}

void TestOutputSplitter::lineEnds()
{
    QFETCH(QByteArray, input);
    QFETCH(QList<QByteArray>, expected);
    QCOMPARE(feedWhole(input), expected);
    QCOMPARE(feedBytewise(input), expected);
    QCOMPARE(model::lines(input, Default), expected);
    // Finishing is the same as a final newline.
    if (!input.isEmpty() && !input.endsWith('\n'))
        QCOMPARE(feedWhole(input + '\n'), expected);
}

void TestOutputSplitter::partialAndFinish()
{
    OutputSplitter splitter;
    QList<QByteArray> lines;
    const auto collect = [&lines](QByteArrayView line) {
        lines.append(line.toByteArray());
    };

    QVERIFY(!splitter.hasPartial());
    QVERIFY(splitter.partial().isEmpty());
    splitter.feed("first\nsec", collect);
    QCOMPARE(lines, QList<QByteArray>{"first"});
    QVERIFY(splitter.hasPartial());
    QCOMPARE(splitter.partial().toByteArray(), QByteArray("sec"));
    splitter.feed("ond, 10%", collect);
    QCOMPARE(splitter.partial().toByteArray(), QByteArray("second, 10%"));
    splitter.feed("\rsecond, 20%\r", collect);
    QCOMPARE(splitter.partial().toByteArray(), QByteArray("second, 20%"));
    QCOMPARE(lines.size(), 1);
    splitter.finish(collect);
    QCOMPARE(lines, (QList<QByteArray>{"first", "second, 20%"}));
    QVERIFY(!splitter.hasPartial());
    QVERIFY(splitter.partial().isEmpty());

    // Finishing again, or without an unfinished line, hands out nothing.
    splitter.finish(collect);
    QCOMPARE(lines.size(), 2);

    // The splitter can be fed after finish(); clear() drops the unfinished line.
    splitter.feed("third\nfourth", collect);
    splitter.clear();
    QVERIFY(!splitter.hasPartial());
    splitter.finish(collect);
    QCOMPARE(lines, (QList<QByteArray>{"first", "second, 20%", "third"}));
}

void TestOutputSplitter::partialHidesIncompleteCharacter()
{
    OutputSplitter splitter;
    QList<QByteArray> lines;
    const auto collect = [&lines](QByteArrayView line) {
        lines.append(line.toByteArray());
    };

    splitter.feed("caf\xC3", collect);
    QCOMPARE(splitter.partial().toByteArray(), QByteArray("caf"));
    splitter.feed("\xA9 ", collect);
    QCOMPARE(splitter.partial().toByteArray(), QByteArray("caf\xC3\xA9 "));

    // A four-byte character shows once complete.
    const QByteArray emoji("\xF0\x9F\x98\x80");
    for (int i = 0; i < 3; ++i) {
        splitter.feed(emoji.sliced(i, 1), collect);
        QCOMPARE(splitter.partial().toByteArray(), QByteArray("caf\xC3\xA9 "));
    }
    splitter.feed(emoji.sliced(3), collect);
    QCOMPARE(splitter.partial().toByteArray(), QByteArray("caf\xC3\xA9 \xF0\x9F\x98\x80"));

    // Bytes that no character begins with are replaced at once.
    splitter.feed("\xE0\x80", collect);
    QCOMPARE(splitter.partial().toByteArray(), QByteArray("caf\xC3\xA9 \xF0\x9F\x98\x80" + Fffd + Fffd));
    splitter.feed("\n", collect);
    QCOMPARE(lines, QList<QByteArray>{"caf\xC3\xA9 \xF0\x9F\x98\x80" + Fffd + Fffd});

    // At the end of the stream an incomplete character is ill-formed.
    splitter.feed("x\xE2\x82", collect);
    QCOMPARE(splitter.partial().toByteArray(), QByteArray("x"));
    splitter.finish(collect);
    QCOMPARE(lines.constLast(), QByteArray("x" + Fffd));
}

void TestOutputSplitter::partialChanged()
{
    OutputSplitter splitter(256);
    const auto ignore = [](QByteArrayView) {
    };

    QVERIFY(!splitter.partialChanged());
    splitter.feed("complete\n", ignore);
    QVERIFY(!splitter.partialChanged());
    splitter.feed("part", ignore);
    QVERIFY(splitter.partialChanged());
    QCOMPARE(splitter.partial().toByteArray(), QByteArray("part"));
    QVERIFY(!splitter.partialChanged());
    splitter.feed("\r", ignore); // replaces nothing yet
    QVERIFY(!splitter.partialChanged());
    splitter.feed("new", ignore);
    QVERIFY(splitter.partialChanged());
    QCOMPARE(splitter.partial().toByteArray(), QByteArray("new"));
    splitter.feed("\n", ignore); // the unfinished line is gone
    QVERIFY(splitter.partialChanged());
    QVERIFY(splitter.partial().isEmpty());

    // Bytes beyond the limit do not change what shows.
    splitter.feed(QByteArray(300, 'a'), ignore);
    QVERIFY(splitter.partialChanged());
    QCOMPARE(splitter.partial().toByteArray(), QByteArray(256, 'a'));
    splitter.feed(QByteArray(300, 'b'), ignore);
    QVERIFY(!splitter.partialChanged());
    splitter.clear();
    QVERIFY(splitter.partialChanged());
    QVERIFY(splitter.partial().isEmpty());
}

void TestOutputSplitter::invalidUtf8_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QByteArray>("expected");

    const auto same = [](const char* name, const QByteArray& text) {
        QTest::addRow("%s", name) << text << text;
    };
    same("ASCII", "plain");
    same("two-byte edges", bytes("\xC2\x80 \xDF\xBF"));
    same("three-byte edges", bytes("\xE0\xA0\x80 \xED\x9F\xBF \xEE\x80\x80 \xEF\xBF\xBF"));
    same("four-byte edges", bytes("\xF0\x90\x80\x80 \xF4\x8F\xBF\xBF"));
    same("NUL and controls", bytes("a\0b\x01\x7f\x1b[31mred\x1b[0m\t\x0c"));
    same("byte order mark", bytes("\xEF\xBB\xBFtext"));
    same("U+FFFD itself", bytes("\xEF\xBF\xBD"));

    const auto row = [](const char* name, const QByteArray& text, const QByteArray& expected) {
        QTest::addRow("%s", name) << text << expected;
    };
    row("lone continuation", bytes("a\x80") + 'b', "a" + Fffd + "b");
    row("two continuations", bytes("\x80\xBF"), Fffd + Fffd);
    row("continuation after a character", bytes("\xC3\xA9\xA9"), bytes("\xC3\xA9") + Fffd);
    row("overlong C0 AF", bytes("\xC0\xAF"), Fffd + Fffd);
    row("overlong C1 BF", bytes("\xC1\xBF"), Fffd + Fffd);
    row("overlong E0 80 AF", bytes("\xE0\x80\xAF"), Fffd + Fffd + Fffd);
    row("overlong F0 80 80 AF", bytes("\xF0\x80\x80\xAF"), Fffd + Fffd + Fffd + Fffd);
    row("surrogate ED A0 80", bytes("\xED\xA0\x80"), Fffd + Fffd + Fffd);
    row("surrogate ED BF BF", bytes("\xED\xBF\xBF"), Fffd + Fffd + Fffd);
    row("above U+10FFFF", bytes("\xF4\x90\x80\x80"), Fffd + Fffd + Fffd + Fffd);
    row("F5", bytes("\xF5\x80\x80\x80"), Fffd + Fffd + Fffd + Fffd);
    row("FE FF", bytes("\xFE\xFF"), Fffd + Fffd);
    row("truncated two-byte", bytes("x\xC3y"), "x" + Fffd + "y");
    row("truncated three-byte", bytes("x\xE2\x82y"), "x" + Fffd + "y");
    row("truncated four-byte", bytes("x\xF0\x9F\x98y"), "x" + Fffd + "y");
    row("truncated before a character", bytes("\xE2\x82\xE2\x82\xAC"), Fffd + bytes("\xE2\x82\xAC"));
    row("truncated at the end", bytes("x\xF0\x9F\x98"), "x" + Fffd);
    row("between valid characters", bytes("\xE2\x82\xAC\xFF\xE2\x82\xAC"),
        bytes("\xE2\x82\xAC") + Fffd + bytes("\xE2\x82\xAC"));
    row("invalid in a long ASCII run", QByteArray(37, 'a') + bytes("\x80") + QByteArray(40, 'b'),
        QByteArray(37, 'a') + Fffd + QByteArray(40, 'b'));
}

void TestOutputSplitter::invalidUtf8()
{
    QFETCH(QByteArray, input);
    QFETCH(QByteArray, expected);

    QCOMPARE(model::repair(input), expected);
    QCOMPARE(isValidUtf8(input), input == expected);
    QByteArray repaired("untouched");
    QCOMPARE(repairUtf8(input, &repaired), input != expected);
    QCOMPARE(repaired, input == expected ? QByteArray("untouched") : expected);

    // Exactly the input's bytes, so that the sanitizers catch a read past them.
    const std::vector<char> exact(input.cbegin(), input.cend());
    const QByteArrayView view(exact.data(), qsizetype(exact.size()));
    QCOMPARE(isValidUtf8(view), input == expected);

    QCOMPARE(feedWhole(input + '\n'), QList<QByteArray>{expected});
    QCOMPARE(feedBytewise(input + "\r\n"), QList<QByteArray>{expected});
    QCOMPARE(feedWhole(input), QList<QByteArray>{expected});

    // The output may alias the input.
    QByteArray inPlace = input;
    repairUtf8(inPlace, &inPlace);
    QCOMPARE(inPlace, expected);
}

void TestOutputSplitter::repairMatchesModel()
{
    // Bytes drawn mostly from around the boundaries of Table 3-7.
    static constexpr uchar Interesting[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0,
                                            0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0,
                                            0xF1, 0xF3, 0xF4, 0xF5, 0xF7, 0xF8, 0xFE, 0xFF};
    QRandomGenerator random(7);
    for (int round = 0; round < 20000; ++round) {
        QByteArray text(random.bounded(1, 24), Qt::Uninitialized);
        for (char& c : text) {
            const quint32 pick = random.bounded(4);
            c = char(pick == 0       ? Interesting[random.bounded(int(sizeof Interesting))]
                         : pick == 1 ? random.bounded(256)
                                     : 0x80 + random.bounded(64));
        }
        const QByteArray expected = model::repair(text);
        const bool valid = expected == text;
        QByteArray repaired;
        if (repairUtf8(text, &repaired) == valid || (!valid && repaired != expected) || isValidUtf8(text) != valid
            || decodesCleanly(text) != valid) {
            QFAIL(qPrintable(QStringLiteral("input %1: got %2, expected %3")
                                 .arg(QString::fromLatin1(text.toHex(' ')), QString::fromLatin1(repaired.toHex(' ')),
                                      QString::fromLatin1(expected.toHex(' ')))));
        }
    }
}

void TestOutputSplitter::emojiAcrossChunks()
{
    const QByteArray input("A\xF0\x9F\x98\x80"
                           "B\nC\xE2\x82\xAC\n");
    const QList<QByteArray> expected{"A\xF0\x9F\x98\x80"
                                     "B",
                                     "C\xE2\x82\xAC"};
    for (qsizetype at = 0; at <= input.size(); ++at) {
        OutputSplitter splitter;
        QList<QByteArray> lines;
        const auto collect = [&lines](QByteArrayView line) {
            lines.append(line.toByteArray());
        };
        splitter.feed(input.first(at), collect);
        splitter.feed(input.sliced(at), collect);
        splitter.finish(collect);
        QCOMPARE(lines, expected);
    }
}

void TestOutputSplitter::zeroCopy()
{
    OutputSplitter splitter;
    const QByteArray chunk("one\ntwo\r\nthree \xE2\x82\xAC\n10%\r20%\nbad \xFF\nrest");
    const auto inChunk = [&chunk](QByteArrayView line) {
        return line.data() >= chunk.constData() && line.data() + line.size() <= chunk.constData() + chunk.size();
    };
    QList<QByteArray> lines;
    QList<bool> views;
    splitter.feed(chunk, [&](QByteArrayView line) {
        lines.append(line.toByteArray());
        views.append(inChunk(line));
    });
    QCOMPARE(lines, (QList<QByteArray>{"one", "two", "three \xE2\x82\xAC", "20%", "bad " + Fffd}));
    // Only the repaired line is a copy; carriage returns only narrow the view.
    QCOMPARE(views, (QList<bool>{true, true, true, true, false}));

    // A line joined from two chunks is a copy.
    splitter.feed("\n", [&](QByteArrayView line) {
        QCOMPARE(line.toByteArray(), QByteArray("rest"));
        QVERIFY(!inChunk(line));
    });
}

void TestOutputSplitter::longLine_data()
{
    QTest::addColumn<qsizetype>("chunkSize");
    QTest::addRow("64 KiB chunks") << qsizetype(64 * 1024);
    QTest::addRow("1000-byte chunks") << qsizetype(1000);
    QTest::addRow("one chunk") << qsizetype(4 * 1024 * 1024);
}

void TestOutputSplitter::longLine()
{
    QFETCH(qsizetype, chunkSize);
    QByteArray input = "before\n" + QByteArray(1024 * 1024, 'x') + "\r\nafter\n";
    for (qsizetype i = 7; i < input.size(); i += 4099)
        input[i] = char('a' + i % 26);

    OutputSplitter splitter;
    QList<QByteArray> lines;
    qsizetype largestCapacity = 0;
    const auto collect = [&](QByteArrayView line) {
        lines.append(line.toByteArray());
        largestCapacity = qMax(largestCapacity, splitter.bufferCapacity());
    };
    for (qsizetype pos = 0; pos < input.size(); pos += chunkSize) {
        splitter.feed(QByteArrayView(input).sliced(pos, qMin(chunkSize, input.size() - pos)), collect);
        largestCapacity = qMax(largestCapacity, splitter.bufferCapacity());
    }
    splitter.finish(collect);
    QVERIFY2(largestCapacity <= 2 * Default + 1024, qPrintable(QString::number(largestCapacity)));
    QCOMPARE(lines.size(), 3);
    QCOMPARE(lines[0], "before");
    QCOMPARE(lines[1], input.sliced(7, Default) + cutMarker(983040));
    QVERIFY(lines[1].endsWith(bytes(" \xE2\x80\xA6 [line cut: 983,040 more bytes]")));
    QCOMPARE(lines[2], "after");
    QVERIFY(splitter.bufferCapacity() <= 2 * Default);
}

void TestOutputSplitter::hugeLineWithoutNewline()
{
    constexpr qsizetype Total = qsizetype(100) * 1024 * 1024;
    constexpr qsizetype ChunkSize = 64 * 1024;
    QByteArray chunk(ChunkSize, Qt::Uninitialized);
    for (qsizetype i = 0; i < ChunkSize; ++i)
        chunk[i] = char('a' + i % 26);

    OutputSplitter splitter;
    qsizetype emitted = 0;
    QByteArray line;
    qsizetype largestCapacity = 0;
    const auto collect = [&](QByteArrayView l) {
        ++emitted;
        line = l.toByteArray();
        largestCapacity = qMax(largestCapacity, splitter.bufferCapacity());
    };
    for (qsizetype fed = 0; fed < Total; fed += ChunkSize) {
        splitter.feed(chunk, collect);
        largestCapacity = qMax(largestCapacity, splitter.bufferCapacity());
        if (fed % (16 * ChunkSize) == 0) {
            const QByteArrayView shown = splitter.partial();
            QCOMPARE(shown.size(), qMin(fed + ChunkSize, Default));
            QVERIFY(shown == QByteArrayView(chunk).first(shown.size()));
        }
    }
    QCOMPARE(emitted, 0);
    QVERIFY2(largestCapacity <= Default + 1024, qPrintable(QString::number(largestCapacity)));
    splitter.finish(collect);
    largestCapacity = qMax(largestCapacity, splitter.bufferCapacity());
    QCOMPARE(emitted, 1);
    QCOMPARE(line, chunk.first(Default) + cutMarker(Total - Default));
    QVERIFY(line.endsWith(bytes(" [line cut: 104,792,064 more bytes]")));
    QVERIFY2(largestCapacity <= 2 * Default + 1024, qPrintable(QString::number(largestCapacity)));
}

void TestOutputSplitter::cutKeepsCharacters()
{
    // Byte 256 falls on each byte of a two-, three- and four-byte character in turn:
    // the cut goes before the character.
    const QByteArray characters[] = {bytes("\xC3\xA9"), bytes("\xE2\x82\xAC"), bytes("\xF0\x9F\x98\x80")};
    for (const QByteArray& character : characters) {
        for (qsizetype offset = 0; offset < character.size(); ++offset) {
            const QByteArray head(256 - offset, 'h');
            const QByteArray input = head + character + QByteArray(10, 't');
            const QByteArray expected = head + cutMarker(character.size() + 10);
            QCOMPARE(feedWhole(input, 256), QList<QByteArray>{expected});
            QCOMPARE(feedBytewise(input, 256), QList<QByteArray>{expected});
        }
        // A character that ends at byte 256 stays.
        const QByteArray head(256 - character.size(), 'h');
        const QByteArray input = head + character + QByteArray(10, 't');
        QCOMPARE(feedWhole(input, 256), QList<QByteArray>{head + character + cutMarker(10)});
        QCOMPARE(feedBytewise(input, 256), QList<QByteArray>{head + character + cutMarker(10)});
    }
    // The marker counts a single byte as one.
    QCOMPARE(feedWhole(QByteArray(257, 'a'), 256),
             QList<QByteArray>{QByteArray(256, 'a') + OutputSplitter::CutMarker.toByteArray() + "1 more byte]"});
    // Ill-formed bytes at the limit are cut where they are.
    const QByteArray invalid = QByteArray(255, 'a') + bytes("\xE2\x41\x80");
    QCOMPARE(feedWhole(invalid, 256), QList<QByteArray>{QByteArray(255, 'a') + Fffd + cutMarker(2)});
    // A limit that ends in a run of continuation bytes does not back off.
    const QByteArray continuations = QByteArray(250, 'a') + QByteArray(10, '\x80');
    QCOMPARE(feedWhole(continuations, 256),
             QList<QByteArray>{QByteArray(250, 'a') + Fffd + Fffd + Fffd + Fffd + Fffd + Fffd + cutMarker(4)});
}

void TestOutputSplitter::limitClamped()
{
    QCOMPARE(OutputSplitter().maxLineBytes(), 65536);
    QCOMPARE(OutputSplitter(10).maxLineBytes(), OutputSplitter::MinimumMaxLineBytes);
    QCOMPARE(OutputSplitter(1000).maxLineBytes(), 1000);
    QCOMPARE(OutputSplitter(qsizetype(1) << 40).maxLineBytes(), OutputSplitter::MaximumMaxLineBytes);
}

void TestOutputSplitter::randomInputsMatchModel()
{
    // Pieces that meet at chunk boundaries in every way: line ends, carriage returns,
    // characters, ill-formed bytes and runs long enough to cross a 256-byte limit.
    const QList<QByteArray> pieces{"\n",
                                   "\r\n",
                                   "\r",
                                   "\r\r",
                                   "a",
                                   "text ",
                                   QByteArray(100, 'x'),
                                   QByteArray(300, 'y'),
                                   bytes("\xC3\xA9"),
                                   bytes("\xE2\x82\xAC"),
                                   bytes("\xF0\x9F\x98\x80"),
                                   bytes("\xE2\x82"),
                                   bytes("\xF0\x9F"),
                                   bytes("\x80"),
                                   bytes("\xC0\xAF"),
                                   bytes("\xED\xA0\x80"),
                                   bytes("\xFF"),
                                   bytes("\0"),
                                   bytes("\x1b[1;31m")};
    for (quint32 seed = 1; seed <= 300; ++seed) {
        QRandomGenerator random(seed);
        QByteArray input;
        const int count = random.bounded(1, 60);
        for (int i = 0; i < count; ++i)
            input += pieces[random.bounded(pieces.size())];
        for (const qsizetype limit : {qsizetype(256), Default}) {
            const QList<QByteArray> expected = model::lines(input, limit);
            QList<QByteArray> lines;
            feedInChunks(
                input, [&random] { return qsizetype(random.bounded(1, 64)); }, limit, true, &lines);
            QVERIFY2(!QTest::currentTestFailed(), qPrintable(QStringLiteral("seed %1").arg(seed)));
            QVERIFY2(lines == expected, qPrintable(QStringLiteral("seed %1, limit %2").arg(seed).arg(limit)));
        }
    }
}

void TestOutputSplitter::mixedFixture()
{
    const QByteArray input = fixture("mixed.bin");

    const QList<QByteArray> whole = feedWhole(input);
    QCOMPARE(whole.size(), input.count('\n') + (input.endsWith('\n') ? 0 : 1));
    QVERIFY(whole.contains(bytes("\x1b[1;31mERROR\x1b[0m: connection refused (attempt 3)")));
    for (const qsizetype limit : {Default, qsizetype(4096), qsizetype(256)}) {
        const QList<QByteArray> expected = feedWhole(input, limit);
        QCOMPARE(expected, model::lines(input, limit));
        for (const QByteArray& line : expected) {
            QVERIFY(isValidUtf8(line));
            QVERIFY(decodesCleanly(line));
        }
        for (quint32 seed = 1; seed <= 20; ++seed) {
            QRandomGenerator random(seed);
            QList<QByteArray> lines;
            feedInChunks(
                input, [&random] { return qsizetype(random.bounded(1, 8192)); }, limit, true, &lines);
            QVERIFY2(!QTest::currentTestFailed(), qPrintable(QStringLiteral("seed %1").arg(seed)));
            QVERIFY2(lines == expected, qPrintable(QStringLiteral("seed %1, limit %2").arg(seed).arg(limit)));
        }
    }
}

void TestOutputSplitter::throughput_data()
{
    QTest::addColumn<QByteArray>("line");
    // Padded to 50 bytes, line end included.
    QTest::addRow("ASCII") << QByteArray("2025-08-27 13:11:54,943 - worker - INFO - step 42\n");
    QTest::addRow("UTF-8") << QByteArray("2025-08-27 13:11:54 - w\xC3\xB6rker - \xE2\x86\x92 \xE6\xAD\xA5 42 ok\n");
    QTest::addRow("CRLF") << QByteArray("2025-08-27 13:11:54,943 - worker - INFO - step\r\n");
    QTest::addRow("progress") << QByteArray("\r\x1b[2K 10%\r\x1b[2K 20%\r\x1b[2K 30%\n");
    QTest::addRow("invalid byte") << QByteArray("2025-08-27 13:11:54,943 - worker - INFO - \xFF ste\n");
}

void TestOutputSplitter::throughput()
{
    QFETCH(QByteArray, line);
    line.insert(line.indexOf(line.endsWith("\r\n") ? "\r\n" : "\n"), QByteArray(50 - line.size(), '.'));
    QCOMPARE(line.size(), 50);
    QByteArray text;
    while (text.size() < 4 * 1024 * 1024)
        text += line;

    OutputSplitter splitter;
    qint64 lines = 0;
    qint64 bytes = 0;
    const auto count = [&](QByteArrayView l) {
        ++lines;
        bytes += l.size();
    };
    constexpr qsizetype ChunkSize = 64 * 1024;
    QElapsedTimer timer;
    timer.start();
    do {
        for (qsizetype pos = 0; pos < text.size(); pos += ChunkSize)
            splitter.feed(QByteArrayView(text).sliced(pos, qMin(ChunkSize, text.size() - pos)), count);
    } while (timer.elapsed() < 500);
    const double seconds = double(timer.nsecsElapsed()) / 1e9;
    qInfo("%s: %.1f million lines/s, %.0f MB/s (%lld lines of 50 bytes in 64 KiB chunks)", QTest::currentDataTag(),
          double(lines) / seconds / 1e6, double(lines) * 50 / seconds / 1e6, qlonglong(lines));
    QVERIFY(lines > 0);
    QVERIFY(bytes > 0);
}

QTEST_GUILESS_MAIN(TestOutputSplitter)
#include "tst_outputsplitter.moc"
