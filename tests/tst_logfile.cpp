// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/store/logfile.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QFile>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <limits>
#include <vector>

namespace {

// Keeps embedded NUL bytes that a plain QByteArray(const char*) would cut off.
template <size_t N>
QByteArray bytes(const char (&text)[N])
{
    return QByteArray(text, N - 1);
}

qint64 isoTime(const char* text)
{
    qint64 ms = 0;
    if (!Protocol::parseIsoTimestamp(QByteArrayView(text), &ms))
        QTest::qFail("bad time in test", __FILE__, __LINE__);
    return ms;
}

QByteArray readFile(const QString& path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return file.readAll();
}

void appendRaw(const QString& path, const QByteArray& data)
{
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Append));
    QCOMPARE(file.write(data), data.size());
}

// One record as the test wrote it.
struct Written
{
    bool gap = false;
    qint64 seq = 0;
    qint64 to = 0;
    Protocol::GapReason reason = Protocol::GapReason::Evicted;
    QByteArray text;
};

struct ReadResult
{
    std::vector<StoredLine> lines;
    std::vector<SeqGap> gaps;
    bool more = false;
};

ReadResult readBefore(LogFile& log, qint64 before, int limit)
{
    ReadResult result;
    QString error;
    if (!log.readBefore(before, limit, &result.lines, &result.gaps, &result.more, &error))
        qWarning("readBefore failed: %s", qPrintable(error));
    return result;
}

QList<qint64> seqsOf(const std::vector<StoredLine>& lines)
{
    QList<qint64> seqs;
    for (const StoredLine& line : lines)
        seqs.append(line.seq);
    return seqs;
}

// What readBefore() must answer, worked out from the records on disk.
ReadResult expectedBefore(const std::vector<Written>& onDisk, qint64 before, int limit)
{
    const qint64 bound = before > 0 ? before : std::numeric_limits<qint64>::max();
    ReadResult result;
    std::vector<Written> candidates;
    for (const Written& w : onDisk) {
        if (!w.gap && w.seq < bound)
            candidates.push_back(w);
    }
    const size_t take = std::min(candidates.size(), size_t(limit));
    result.more = candidates.size() > take;
    for (size_t i = candidates.size() - take; i < candidates.size(); ++i) {
        StoredLine line;
        line.seq = candidates[i].seq;
        line.text = candidates[i].text;
        result.lines.push_back(line);
    }
    for (const Written& w : onDisk) {
        if (!w.gap || w.seq >= bound)
            continue;
        if (result.more && (result.lines.empty() || w.seq < result.lines.front().seq))
            continue;
        const SeqGap gap{w.seq, std::min(w.to, bound - 1), w.reason};
        if (!result.gaps.empty() && result.gaps.back().to + 1 == gap.from && result.gaps.back().reason == gap.reason)
            result.gaps.back().to = gap.to;
        else
            result.gaps.push_back(gap);
    }
    return result;
}

void compareResults(const ReadResult& actual, const ReadResult& expected)
{
    QCOMPARE(seqsOf(actual.lines), seqsOf(expected.lines));
    for (size_t i = 0; i < actual.lines.size(); ++i)
        QCOMPARE(actual.lines[i].text, expected.lines[i].text);
    QCOMPARE(actual.gaps.size(), expected.gaps.size());
    for (size_t i = 0; i < actual.gaps.size(); ++i) {
        QCOMPARE(actual.gaps[i].from, expected.gaps[i].from);
        QCOMPARE(actual.gaps[i].to, expected.gaps[i].to);
        QCOMPARE(actual.gaps[i].reason, expected.gaps[i].reason);
    }
    QCOMPARE(actual.more, expected.more);
}

// The records of the files of a set, oldest first, read by the test's own parser.
std::vector<Written> recordsOnDisk(const LogFile& log, int backups)
{
    std::vector<Written> records;
    static const QRegularExpression gapPattern(QStringLiteral("^(\\d+)-(\\d+)\\t[^\\t]+\\tgap\\t([a-z_]+)$"));
    for (int i = backups; i >= 0; --i) {
        const QByteArray data = readFile(log.filePath(i));
        for (const QByteArray& line : data.split('\n')) {
            if (line.isEmpty())
                continue;
            const QList<QByteArray> fields = line.split('\t');
            Written w;
            if (fields.size() == 6) {
                w.seq = w.to = fields[0].toLongLong();
                w.text = fields[5];
            } else {
                const QRegularExpressionMatch match = gapPattern.match(QString::fromUtf8(line));
                if (!match.hasMatch())
                    continue;
                w.gap = true;
                w.seq = match.captured(1).toLongLong();
                w.to = match.captured(2).toLongLong();
                for (auto reason : {Protocol::GapReason::Evicted, Protocol::GapReason::SlowConsumer,
                                    Protocol::GapReason::RateLimited, Protocol::GapReason::AgentDropped}) {
                    if (Protocol::gapReasonName(reason) == match.captured(3).toLatin1())
                        w.reason = reason;
                }
            }
            records.push_back(w);
        }
    }
    return records;
}

QByteArray randomText(QRandomGenerator& random, int maxSize)
{
    QByteArray text(random.bounded(maxSize + 1), Qt::Uninitialized);
    for (char& c : text)
        c = char('a' + random.bounded(26));
    return text;
}

} // namespace

/// Console log files: format, escaping, rotation, reading back, recovery and errors.
class TestLogFile final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void pathFor();
    void handleBudgetClosesLeastRecentlyWritten();
    void formatIsReadable();
    void roundTrip_data();
    void roundTrip();
    void escapesAtEveryPosition();
    void timestampsAcrossBoundaries();
    void gapsRoundTrip();
    void forumMessagesRoundTrip();
    void ignoresNumbersNotAboveLast();
    void rotation();
    void backupsZeroTruncates();
    void hugeRecordGetsAFileOfItsOwn();
    void readBeforeBounds_data();
    void readBeforeBounds();
    void readStopsAtMaxBytes();
    void randomReadsAcrossFiles();
    void garbageAndSearch();
    void reopenRecoversLastSeq();
    void reopenWithEmptyCurrentFile();
    void tornLastRecord();
    void writeErrorOnFullDisk();
    void openErrorAndRetry();
    void benchmarkAppend();

private:
    QTemporaryDir m_dir;
};

void TestLogFile::forumMessagesRoundTrip()
{
    QCOMPARE(LogFile::pathFor(QStringLiteral("/x"), "query", LogFile::Kind::Forum), QStringLiteral("/x/query.forum"));
    const QString path = m_dir.filePath(QStringLiteral("forum/query.forum"));
    const qint64 ts = isoTime("2026-11-22T08:52:40.123Z");
    {
        LogFile forum(path, 1500, 3, LogFile::Kind::Forum);
        QVERIFY(forum.open());
        forum.appendMessage(1, ts, "agent", "Query Engine", "QUERY", "## Summary\n\tfirst round\\done");
        forum.appendMessage(2, ts + 1, "host", "Forum\tHost", {}, "");
        forum.appendGap(3, 5, Protocol::GapReason::AgentDropped);
        for (qint64 seq = 6; seq <= 40; ++seq)
            forum.appendMessage(seq, ts + seq, "system", "sys", {}, QByteArray("message " + QByteArray::number(seq)));
    }
    // Readable as it is, and rotated into backups like a console file.
    QVERIFY(QFile::exists(path + QStringLiteral(".1")));
    LogFile forum(path, 1500, 3, LogFile::Kind::Forum);
    QVERIFY(forum.open());
    QCOMPARE(forum.lastSeq(), 40);
    const ReadResult newest = readBefore(forum, 0, 3);
    QCOMPARE(seqsOf(newest.lines), QList<qint64>({38, 39, 40}));
    QCOMPARE(newest.lines.back().role, QByteArray("system"));
    QCOMPARE(newest.lines.back().text, QByteArray("message 40"));
    QVERIFY(newest.more);
    QVERIFY(!QFile::exists(path + QStringLiteral(".2")));
    const ReadResult all = readBefore(forum, 7, 100);
    QCOMPARE(seqsOf(all.lines), QList<qint64>({1, 2, 6}));
    const StoredLine& first = all.lines[0];
    QCOMPARE(first.role, QByteArray("agent"));
    QCOMPARE(first.sender, QByteArray("Query Engine"));
    QCOMPARE(first.source, QByteArray("QUERY"));
    QCOMPARE(first.text, QByteArray("## Summary\n\tfirst round\\done"));
    QCOMPARE(first.ts, ts);
    QCOMPARE(all.lines[1].role, QByteArray("host"));
    QCOMPARE(all.lines[1].sender, QByteArray("Forum\tHost"));
    QCOMPARE(all.lines[1].text, QByteArray());
    QCOMPARE(all.gaps.size(), size_t(1));
    QCOMPARE(all.gaps[0].from, 3);
    QCOMPARE(all.gaps[0].to, 5);
    QCOMPARE(all.gaps[0].reason, Protocol::GapReason::AgentDropped);
    // Read as a console file, a forum file holds no lines (only its gap records parse).
    LogFile console(path, 1500, 3, LogFile::Kind::Console);
    QVERIFY(console.open());
    QVERIFY(readBefore(console, 0, 100).lines.empty());
}

void TestLogFile::pathFor()
{
    QCOMPARE(LogFile::pathFor(QStringLiteral("/var/log/agentdeck"), "bot-1.a_b"),
             QStringLiteral("/var/log/agentdeck/bot-1.a_b.log"));
    QCOMPARE(LogFile::pathFor(QStringLiteral("/x"), ".."), QStringLiteral("/x/...log"));
    QVERIFY(LogFile::pathFor(QStringLiteral("/x"), "a/b").isEmpty());
    QVERIFY(LogFile::pathFor(QStringLiteral("/x"), "").isEmpty());
    QVERIFY(LogFile::pathFor(QStringLiteral("/x"), QByteArray(65, 'a')).isEmpty());
}

void TestLogFile::formatIsReadable()
{
    const QString path = m_dir.filePath(QStringLiteral("format/new/dir/agent.log"));
    {
        LogFile log(path);
        QVERIFY(log.open());
        log.appendLine(1, isoTime("2026-11-22T08:52:40.123Z"), Protocol::Stream::Stdout, LogLevel::Info, "app.main",
                       "hello world");
        log.appendLine(2, isoTime("2026-11-22T08:52:40.004Z"), Protocol::Stream::Stderr, LogLevel::Unknown, {},
                       bytes("a\tb\\c\nd\re\x1b[31m"));
        log.appendGap(3, 9, Protocol::GapReason::AgentDropped);
        log.appendLine(10, isoTime("2026-11-22T08:52:41Z"), Protocol::Stream::Stdout, LogLevel::Critical, "s\t", "");
        QVERIFY(!QFile::exists(path) || readFile(path).isEmpty()); // buffered until flush
    }
    const QList<QByteArray> lines = readFile(path).split('\n');
    QCOMPARE(lines.size(), 5);
    QCOMPARE(lines[0], QByteArray("1\t2026-11-22T08:52:40.123Z\tstdout\tINFO\tapp.main\thello world"));
    QCOMPARE(lines[1], bytes("2\t2026-11-22T08:52:40.004Z\tstderr\t-\t\ta\\tb\\\\c\\nd\\re\x1b[31m"));
    QVERIFY2(
        QRegularExpression(QStringLiteral("^3-9\\t\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z\\tgap\\tagent_"
                                          "dropped$"))
            .match(QString::fromUtf8(lines[2]))
            .hasMatch(),
        lines[2].constData());
    QCOMPARE(lines[3], QByteArray("10\t2026-11-22T08:52:41.000Z\tstdout\tCRITICAL\ts\\t\t"));
    QCOMPARE(lines[4], QByteArray());
}

void TestLogFile::roundTrip_data()
{
    QTest::addColumn<QByteArray>("source");
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<int>("stream");
    QTest::addColumn<int>("level");
    QTest::addColumn<qint64>("ts");

    const qint64 now = isoTime("2026-11-22T08:52:40.123Z");
    const int out = int(Protocol::Stream::Stdout);
    const int err = int(Protocol::Stream::Stderr);
    const int info = int(LogLevel::Info);
    QTest::addRow("plain") << QByteArray("src") << QByteArray("hello") << out << info << now;
    QTest::addRow("tabs") << QByteArray("a\tb") << QByteArray("\tx\t\ty\t") << out << info << now;
    QTest::addRow("newlines") << QByteArray() << QByteArray("\nline one\nline two\n\n") << out << info << now;
    QTest::addRow("carriage returns") << QByteArray() << QByteArray("\r\nprogress 10%\rprogress 20%\r") << err << info
                                      << now;
    QTest::addRow("backslashes") << QByteArray("C:\\x") << QByteArray("\\\\server\\share\\") << out << info << now;
    QTest::addRow("escape-like text") << QByteArray("\\n") << QByteArray("\\n\\t\\r\\\\ \\x \\") << out << info << now;
    QTest::addRow("trailing backslash") << QByteArray() << QByteArray("path\\") << out << info << now;
    QTest::addRow("invalid utf-8") << QByteArray("\xff") << QByteArray("\xc3\x28 \xa0\xa1 \xf0\x28\x8c\xbc \xff\xfe")
                                   << out << info << now;
    QTest::addRow("ansi") << QByteArray() << QByteArray("\x1b[1;31mERROR\x1b[0m done \x1b]0;title\x07") << err
                          << int(LogLevel::Error) << now;
    QTest::addRow("nul bytes") << bytes("a\0b") << bytes("\0\0x\0") << out << info << now;
    QTest::addRow("empty text") << QByteArray("src") << QByteArray() << out << info << now;
    QTest::addRow("empty both") << QByteArray() << QByteArray() << err << info << now;
    QTest::addRow("utf-8") << QByteArray("m\xc3\xb3"
                                         "dulo")
                           << QByteArray("\xe2\x9c\x93 \xf0\x9f\x9a\x80 \xe6\x97\xa5") << out << info << now;
    QByteArray all;
    for (int i = 0; i < 256; ++i)
        all.append(char(i));
    QTest::addRow("every byte") << all << all + all << out << info << now;
    QByteArray big;
    for (int i = 0; i < 5000; ++i)
        big.append(i % 7 == 0 ? "\t\\\n" : "abcdefgh");
    QTest::addRow("long escaped") << QByteArray() << big << out << info << now;
    QTest::addRow("long plain") << QByteArray() << QByteArray(300000, 'z') << out << info << now;
    for (int l = int(LogLevel::Unknown); l <= int(LogLevel::Critical); ++l) {
        QTest::addRow("level %d stdout", l) << QByteArray("s") << QByteArray("x") << out << l << now;
        QTest::addRow("level %d stderr", l) << QByteArray("s") << QByteArray("x") << err << l << now;
    }
    QTest::addRow("epoch") << QByteArray() << QByteArray("t") << out << info << qint64(0);
    QTest::addRow("before epoch") << QByteArray() << QByteArray("t") << out << info << qint64(-1);
    QTest::addRow("year 1") << QByteArray() << QByteArray("t") << out << info << isoTime("0001-02-03T04:05:06.789Z");
    QTest::addRow("year 9999") << QByteArray() << QByteArray("t") << out << info << isoTime("9999-12-31T23:59:59.999Z");
    QTest::addRow("leap day") << QByteArray() << QByteArray("t") << out << info << isoTime("2028-02-29T23:59:59.999Z");
}

void TestLogFile::roundTrip()
{
    QFETCH(QByteArray, source);
    QFETCH(QByteArray, text);
    QFETCH(int, stream);
    QFETCH(int, level);
    QFETCH(qint64, ts);

    const QString path =
        m_dir.filePath(QStringLiteral("roundtrip/%1.log").arg(QString::fromLatin1(QTest::currentDataTag())));
    LogFile log(path);
    QVERIFY(log.open());
    log.appendLine(1, 5, Protocol::Stream::Stdout, LogLevel::Info, "before", "neighbour");
    log.appendLine(2, ts, Protocol::Stream(stream), LogLevel(level), source, text);
    log.appendLine(3, 5, Protocol::Stream::Stdout, LogLevel::Info, "after", "neighbour");
    log.flush();
    QCOMPARE(readFile(path).count('\n'), 3);

    const ReadResult result = readBefore(log, 0, 100);
    QCOMPARE(result.lines.size(), size_t(3));
    const StoredLine& line = result.lines[1];
    QCOMPARE(line.seq, 2);
    QCOMPARE(line.ts, ts);
    QCOMPARE(int(line.stream), stream);
    QCOMPARE(int(line.level), level);
    QCOMPARE(line.source, source);
    QCOMPARE(line.text, text);
    QCOMPARE(result.lines[2].source, QByteArray("after"));
    QVERIFY(!result.more);
}

void TestLogFile::escapesAtEveryPosition()
{
    // Special bytes at every offset of texts of many lengths, so that each byte of
    // an 8-byte word and the tail after the last whole word are checked.
    const QString path = m_dir.filePath(QStringLiteral("positions.log"));
    LogFile log(path);
    QVERIFY(log.open());
    const QByteArray specials = bytes("\\\n\r\t\0\x01\x0b\x0c\x0d\x0e\x1b\x5b\x5d\x7f\x80\xdc\xff");
    std::vector<QByteArray> texts;
    for (int size = 1; size <= 26; ++size) {
        for (int pos = 0; pos < size; ++pos) {
            for (char special : specials) {
                QByteArray text(size, 'a');
                text[pos] = special;
                texts.push_back(text);
                log.appendLine(qint64(texts.size()), 0, Protocol::Stream::Stdout, LogLevel::Info, text, text);
            }
        }
    }
    qint64 before = 0;
    size_t count = 0;
    for (;;) {
        const ReadResult result = readBefore(log, before, 1000);
        for (const StoredLine& line : result.lines) {
            QCOMPARE(line.text, texts[size_t(line.seq - 1)]);
            QCOMPARE(line.source, texts[size_t(line.seq - 1)]);
        }
        count += result.lines.size();
        if (!result.more)
            break;
        before = result.lines.front().seq;
    }
    QCOMPARE(count, texts.size());
}

void TestLogFile::timestampsAcrossBoundaries()
{
    const QString path = m_dir.filePath(QStringLiteral("times.log"));
    LogFile log(path);
    QVERIFY(log.open());
    QList<qint64> times;
    const qint64 base = isoTime("2024-12-31T23:59:58.000Z");
    for (qint64 t = base; t < base + 4000; t += 250)
        times.append(t);
    // Going back in time, and jumping around, must not reuse a stale cached second.
    times << base + 999 << base - 86400000 << base + 1000 << isoTime("2000-02-29T12:00:00.500Z") << -86400001 << -1000
          << -999 << base;
    for (qsizetype i = 0; i < times.size(); ++i)
        log.appendLine(i + 1, times[i], Protocol::Stream::Stdout, LogLevel::Info, {}, "t");
    log.flush();
    const QList<QByteArray> lines = readFile(path).split('\n');
    for (qsizetype i = 0; i < times.size(); ++i) {
        const QByteArray expected =
            QDateTime::fromMSecsSinceEpoch(times[i], Qt::UTC).toString(Qt::ISODateWithMs).toLatin1();
        QCOMPARE(lines[i].split('\t').value(1), expected);
    }
    const ReadResult result = readBefore(log, 0, 1000);
    QCOMPARE(qsizetype(result.lines.size()), times.size());
    for (qsizetype i = 0; i < times.size(); ++i)
        QCOMPARE(result.lines[size_t(i)].ts, times[i]);
}

void TestLogFile::gapsRoundTrip()
{
    LogFile log(m_dir.filePath(QStringLiteral("gaps.log")));
    QVERIFY(log.open());
    log.appendGap(1, 3, Protocol::GapReason::Evicted);
    log.appendLine(4, 0, Protocol::Stream::Stdout, LogLevel::Info, {}, "4");
    log.appendGap(5, 5, Protocol::GapReason::SlowConsumer);
    log.appendGap(6, 8, Protocol::GapReason::SlowConsumer); // joined with the one before on reading
    log.appendGap(9, 9, Protocol::GapReason::RateLimited);
    log.appendLine(10, 0, Protocol::Stream::Stdout, LogLevel::Info, {}, "10");
    log.appendGap(12, 20, Protocol::GapReason::AgentDropped); // 11 is simply missing
    log.appendGap(15, 30, Protocol::GapReason::Evicted); // overlaps: 21..30 recorded
    QCOMPARE(log.lastSeq(), 30);

    ReadResult result = readBefore(log, 0, 10);
    QCOMPARE(seqsOf(result.lines), QList<qint64>({4, 10}));
    QCOMPARE(result.gaps.size(), size_t(5));
    QCOMPARE(result.gaps[0].from, 1);
    QCOMPARE(result.gaps[0].to, 3);
    QCOMPARE(result.gaps[0].reason, Protocol::GapReason::Evicted);
    QCOMPARE(result.gaps[1].from, 5);
    QCOMPARE(result.gaps[1].to, 8);
    QCOMPARE(result.gaps[1].reason, Protocol::GapReason::SlowConsumer);
    QCOMPARE(result.gaps[2].from, 9);
    QCOMPARE(result.gaps[2].reason, Protocol::GapReason::RateLimited);
    QCOMPARE(result.gaps[3].from, 12);
    QCOMPARE(result.gaps[3].to, 20);
    QCOMPARE(result.gaps[3].reason, Protocol::GapReason::AgentDropped);
    QCOMPARE(result.gaps[4].from, 21);
    QCOMPARE(result.gaps[4].to, 30);
    QCOMPARE(result.gaps[4].reason, Protocol::GapReason::Evicted);
    QVERIFY(!result.more);

    // One line: gaps below it are left for the next page.
    result = readBefore(log, 0, 1);
    QCOMPARE(seqsOf(result.lines), QList<qint64>({10}));
    QVERIFY(result.more);
    QCOMPARE(result.gaps.size(), size_t(2));
    QCOMPARE(result.gaps[0].from, 12);
}

void TestLogFile::ignoresNumbersNotAboveLast()
{
    LogFile log(m_dir.filePath(QStringLiteral("order.log")));
    log.appendLine(1, 0, Protocol::Stream::Stdout, LogLevel::Info, {}, "before open");
    QCOMPARE(log.lastSeq(), 0);
    QVERIFY(log.open());
    log.appendLine(5, 0, Protocol::Stream::Stdout, LogLevel::Info, {}, "5");
    log.appendLine(5, 0, Protocol::Stream::Stdout, LogLevel::Info, {}, "5 again");
    log.appendLine(3, 0, Protocol::Stream::Stdout, LogLevel::Info, {}, "3");
    log.appendGap(2, 4, Protocol::GapReason::Evicted);
    log.appendLine(6, 0, Protocol::Stream::Stdout, LogLevel::Info, {}, "6");
    QCOMPARE(log.lastSeq(), 6);
    const ReadResult result = readBefore(log, 0, 10);
    QCOMPARE(seqsOf(result.lines), QList<qint64>({5, 6}));
    QVERIFY(result.gaps.empty());
}

void TestLogFile::rotation()
{
    const QString path = m_dir.filePath(QStringLiteral("rotation/agent.log"));
    const qint64 maxBytes = 4096;
    const int backups = 3;
    LogFile log(path, maxBytes, backups);
    QVERIFY(log.open());
    QRandomGenerator random(7);
    qint64 seq = 0;
    for (int i = 0; i < 600; ++i) {
        if (i % 50 == 49) {
            log.appendGap(seq + 1, seq + 3, Protocol::GapReason::RateLimited);
            seq += 3;
        }
        ++seq;
        log.appendLine(seq, 1000 * seq, Protocol::Stream::Stdout, LogLevel::Info, "src", randomText(random, 120));
        if (i % 97 == 0)
            log.flush();
    }
    log.flush();

    for (int i = 0; i <= backups; ++i)
        QVERIFY2(QFile::exists(log.filePath(i)), qPrintable(log.filePath(i)));
    QVERIFY(!QFile::exists(log.filePath(backups + 1)));

    // Each file is whole records, under the limit, and was rotated only when the
    // next record would not fit.
    qint64 previousEnd = -1;
    for (int i = backups; i >= 0; --i) {
        const QByteArray data = readFile(log.filePath(i));
        QVERIFY(data.size() <= maxBytes);
        QVERIFY(data.endsWith('\n'));
        const QList<QByteArray> lines = data.split('\n');
        for (qsizetype k = 0; k + 1 < lines.size(); ++k) {
            const int tabs = int(lines[k].count('\t'));
            QVERIFY2(tabs == 5 || (tabs == 3 && lines[k].contains("\tgap\t")), lines[k].constData());
        }
        if (i < backups) {
            const qint64 firstRecordSize = lines[0].size() + 1;
            QVERIFY(previousEnd + firstRecordSize > maxBytes);
        }
        previousEnd = data.size();
    }

    // The records on disk follow each other without a hole, and the oldest were dropped.
    const std::vector<Written> onDisk = recordsOnDisk(log, backups);
    QVERIFY(onDisk.size() > 10);
    QVERIFY(onDisk.front().seq > 1);
    for (size_t i = 1; i < onDisk.size(); ++i)
        QCOMPARE(onDisk[i].seq, onDisk[i - 1].to + 1);
    QCOMPARE(onDisk.back().seq, seq);

    // Paging back reads every line on disk once, in order, across the files.
    std::vector<qint64> collected;
    std::vector<SeqGap> gaps;
    qint64 before = 0;
    int pages = 0;
    for (;;) {
        const ReadResult page = readBefore(log, before, 7);
        ++pages;
        collected.insert(collected.begin(), page.lines.size(), 0);
        for (size_t k = 0; k < page.lines.size(); ++k)
            collected[k] = page.lines[k].seq;
        gaps.insert(gaps.begin(), page.gaps.begin(), page.gaps.end());
        compareResults(page, expectedBefore(onDisk, before, 7));
        if (!page.more)
            break;
        QCOMPARE(page.lines.size(), size_t(7));
        before = page.lines.front().seq;
    }
    std::vector<qint64> expected;
    size_t gapCount = 0;
    for (const Written& w : onDisk) {
        if (w.gap)
            ++gapCount;
        else
            expected.push_back(w.seq);
    }
    QCOMPARE(collected, expected);
    QCOMPARE(gaps.size(), gapCount);
    QVERIFY(pages > 3);

    // The older files hold exactly what a request for them returns.
    const std::vector<Written> oldest = [&] {
        std::vector<Written> records;
        const QList<QByteArray> lines = readFile(log.filePath(backups)).split('\n');
        for (const QByteArray& line : lines) {
            if (line.count('\t') == 5)
                records.push_back({false, line.split('\t')[0].toLongLong(), 0, {}, {}});
        }
        return records;
    }();
    const ReadResult last = readBefore(log, oldest.back().seq + 1, LogFile::MaxReadLimit);
    QCOMPARE(qsizetype(last.lines.size()), qsizetype(oldest.size()));
    QCOMPARE(last.lines.front().seq, oldest.front().seq);
    QVERIFY(!last.more);
}

void TestLogFile::backupsZeroTruncates()
{
    const QString path = m_dir.filePath(QStringLiteral("nobackups.log"));
    LogFile log(path, 1000, 0);
    QVERIFY(log.open());
    for (int i = 1; i <= 100; ++i)
        log.appendLine(i, 0, Protocol::Stream::Stdout, LogLevel::Info, {}, QByteArray(40, 'x'));
    log.flush();
    QVERIFY(!QFile::exists(log.filePath(1)));
    const QByteArray data = readFile(path);
    QVERIFY(data.size() <= 1000);
    QVERIFY(data.startsWith(QByteArray(QByteArray::number(100 - data.count('\n') + 1) + '\t')));
    const ReadResult result = readBefore(log, 0, 1000);
    QCOMPARE(result.lines.back().seq, 100);
    QCOMPARE(qsizetype(result.lines.size()), data.count('\n'));
    QVERIFY(!result.more);
}

void TestLogFile::hugeRecordGetsAFileOfItsOwn()
{
    LogFile log(m_dir.filePath(QStringLiteral("huge.log")), 1000, 2);
    QVERIFY(log.open());
    log.appendLine(1, 0, Protocol::Stream::Stdout, LogLevel::Info, {}, "small");
    log.appendLine(2, 0, Protocol::Stream::Stdout, LogLevel::Info, {}, QByteArray(5000, '\n'));
    log.appendLine(3, 0, Protocol::Stream::Stdout, LogLevel::Info, {}, "small");
    log.flush();
    QCOMPARE(readFile(log.filePath(2)).count('\n'), 1);
    QCOMPARE(readFile(log.filePath(1)).count('\n'), 1);
    QVERIFY(readFile(log.filePath(1)).size() > 10000);
    const ReadResult result = readBefore(log, 0, 10);
    QCOMPARE(seqsOf(result.lines), QList<qint64>({1, 2, 3}));
    QCOMPARE(result.lines[1].text, QByteArray(5000, '\n'));
}

void TestLogFile::readBeforeBounds_data()
{
    QTest::addColumn<qint64>("before");
    QTest::addColumn<int>("limit");
    QTest::addColumn<QList<qint64>>("seqs");
    QTest::addColumn<QList<qint64>>("gapBounds"); // from, to, from, to, ...
    QTest::addColumn<bool>("more");

    // Lines 1..10, gap 11..20, lines 21..30, gap 31..35 (the newest record).
    QTest::addRow("no bound") << qint64(0) << 3 << QList<qint64>{28, 29, 30} << QList<qint64>{31, 35} << true;
    QTest::addRow("beyond last") << qint64(1000) << 3 << QList<qint64>{28, 29, 30} << QList<qint64>{31, 35} << true;
    QTest::addRow("inside last gap") << qint64(33) << 2 << QList<qint64>{29, 30} << QList<qint64>{31, 32} << true;
    QTest::addRow("inside gap") << qint64(15) << 3 << QList<qint64>{8, 9, 10} << QList<qint64>{11, 14} << true;
    QTest::addRow("at gap end") << qint64(21) << 2 << QList<qint64>{9, 10} << QList<qint64>{11, 20} << true;
    QTest::addRow("more than there is") << qint64(0) << 5000 << QList<qint64>{1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                                                              21, 22, 23, 24, 25, 26, 27, 28, 29, 30}
                                        << QList<qint64>{11, 20, 31, 35} << false;
    QTest::addRow("exactly what there is")
        << qint64(11) << 10 << QList<qint64>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10} << QList<qint64>{} << false;
    QTest::addRow("one short") << qint64(11) << 9 << QList<qint64>{2, 3, 4, 5, 6, 7, 8, 9, 10} << QList<qint64>{}
                               << true;
    QTest::addRow("first line") << qint64(2) << 10 << QList<qint64>{1} << QList<qint64>{} << false;
    QTest::addRow("nothing below") << qint64(1) << 10 << QList<qint64>{} << QList<qint64>{} << false;
    QTest::addRow("limit zero") << qint64(0) << 0 << QList<qint64>{} << QList<qint64>{} << true;
    QTest::addRow("negative limit") << qint64(5) << -3 << QList<qint64>{} << QList<qint64>{} << true;
    QTest::addRow("negative before") << qint64(-7) << 1 << QList<qint64>{30} << QList<qint64>{31, 35} << true;
    QTest::addRow("lines and gap after") << qint64(25) << 100
                                         << QList<qint64>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 21, 22, 23, 24}
                                         << QList<qint64>{11, 20} << false;
}

void TestLogFile::readBeforeBounds()
{
    QFETCH(qint64, before);
    QFETCH(int, limit);
    QFETCH(QList<qint64>, seqs);
    QFETCH(QList<qint64>, gapBounds);
    QFETCH(bool, more);

    // Spread over files of ~3 records so that every answer crosses files.
    const QString path =
        m_dir.filePath(QStringLiteral("bounds/%1.log").arg(QString::fromLatin1(QTest::currentDataTag())));
    LogFile log(path, 200, 20);
    QVERIFY(log.open());
    for (qint64 s = 1; s <= 10; ++s)
        log.appendLine(s, s, Protocol::Stream::Stdout, LogLevel::Info, {}, QByteArray::number(s));
    log.appendGap(11, 20, Protocol::GapReason::AgentDropped);
    for (qint64 s = 21; s <= 30; ++s)
        log.appendLine(s, s, Protocol::Stream::Stdout, LogLevel::Info, {}, QByteArray::number(s));
    log.appendGap(31, 35, Protocol::GapReason::Evicted);
    QVERIFY(QFile::exists(log.filePath(5)));

    const ReadResult result = readBefore(log, before, limit);
    QCOMPARE(seqsOf(result.lines), seqs);
    for (const StoredLine& line : result.lines)
        QCOMPARE(line.text, QByteArray::number(line.seq));
    QList<qint64> actualGaps;
    for (const SeqGap& gap : result.gaps)
        actualGaps << gap.from << gap.to;
    QCOMPARE(actualGaps, gapBounds);
    QCOMPARE(result.more, more);
}

void TestLogFile::readStopsAtMaxBytes()
{
    LogFile log(m_dir.filePath(QStringLiteral("bigread.log")));
    QVERIFY(log.open());
    const QByteArray text(1024 * 1024, 'm');
    const qint64 perRead = LogFile::MaxReadBytes / text.size();
    const qint64 total = perRead + 6;
    for (qint64 s = 1; s <= total; ++s)
        log.appendLine(s, s, Protocol::Stream::Stdout, LogLevel::Info, {}, text);
    ReadResult result = readBefore(log, 0, 100);
    QCOMPARE(qint64(result.lines.size()), perRead);
    QCOMPARE(result.lines.back().seq, total);
    QVERIFY(result.more);
    result = readBefore(log, result.lines.front().seq, 100);
    QCOMPARE(seqsOf(result.lines), QList<qint64>({1, 2, 3, 4, 5, 6}));
    QVERIFY(!result.more);
}

void TestLogFile::randomReadsAcrossFiles()
{
    // Files large enough for the binary search to run, with random lines and gaps.
    const QString path = m_dir.filePath(QStringLiteral("random/agent.log"));
    const int backups = 4;
    LogFile log(path, 256 * 1024, backups);
    QVERIFY(log.open());
    QRandomGenerator random(42);
    std::vector<Written> written;
    qint64 seq = 0;
    for (int i = 0; i < 12000; ++i) {
        if (random.bounded(20) == 0) {
            const qint64 length = 1 + random.bounded(5);
            const auto reason = Protocol::GapReason(random.bounded(4));
            log.appendGap(seq + 1, seq + length, reason);
            written.push_back({true, seq + 1, seq + length, reason, {}});
            seq += length;
            continue;
        }
        ++seq;
        QByteArray text = randomText(random, random.bounded(10) == 0 ? 2000 : 150);
        if (random.bounded(10) == 0)
            text.insert(random.bounded(text.size() + 1), "\t\\\n");
        log.appendLine(seq, seq, Protocol::Stream::Stdout, LogLevel::Info, {}, text);
        written.push_back({false, seq, seq, {}, text});
    }
    log.flush();
    QVERIFY(QFile::exists(log.filePath(backups)));
    QVERIFY(QFile(log.filePath(1)).size() > 200 * 1024);

    // What is on disk: the records from the first one of the oldest file on.
    const std::vector<Written> raw = recordsOnDisk(log, backups);
    const qint64 firstOnDisk = raw.front().seq;
    const auto firstIt =
        std::find_if(written.begin(), written.end(), [&](const Written& w) { return w.seq == firstOnDisk; });
    QVERIFY(firstIt != written.end());
    const std::vector<Written> onDisk(firstIt, written.end());
    QCOMPARE(raw.size(), onDisk.size());

    for (int query = 0; query < 300; ++query) {
        const qint64 before = query == 0 ? 0 : random.bounded(firstOnDisk - 50, seq + 50);
        const int limit = query % 10 == 0 ? 5000 : random.bounded(1, 300);
        compareResults(readBefore(log, before, limit), expectedBefore(onDisk, before, limit));
    }
}

void TestLogFile::garbageAndSearch()
{
    // Garbage lines between records do not break the search or the reading.
    const QString path = m_dir.filePath(QStringLiteral("garbage.log"));
    LogFile log(path, 1 << 30, 1);
    QVERIFY(log.open());
    const QList<QByteArray> garbage = {
        "\n",
        "not a record\n",
        "12345\tnot\ta\trecord\n",
        "99999999\t2026-11-22T08:52:40.123Z\tstdout\tINFO\tsrc\ttext\textra field\n",
        "99999999\t2026-11-22T08:52:40.123Z\tstdnet\tINFO\tsrc\ttext\n",
        "99999999\t2026-11-22 08:52:40\tstdout\tINFO\tsrc\ttext\n",
        "-5\t2026-11-22T08:52:40.123Z\tstdout\tINFO\tsrc\ttext\n",
        "9-1\t2026-11-22T08:52:40.123Z\tgap\tevicted\n",
        "99999998-99999999\t2026-11-22T08:52:40.123Z\tgap\tunknown_reason\n",
        QByteArray(100000, 'g') + '\n',
    };
    std::vector<Written> written;
    QRandomGenerator random(3);
    for (qint64 seq = 1; seq <= 30000; ++seq) {
        const QByteArray text = randomText(random, 100);
        log.appendLine(seq, seq, Protocol::Stream::Stdout, LogLevel::Debug, "g", text);
        written.push_back({false, seq, seq, {}, text});
        if (seq % 500 == 0) {
            log.flush();
            appendRaw(path, garbage[(seq / 500) % garbage.size()]);
        }
    }
    for (int query = 0; query < 200; ++query) {
        const qint64 before = random.bounded(-5, 30100);
        const int limit = random.bounded(0, 700);
        compareResults(readBefore(log, before, limit), expectedBefore(written, before, limit));
    }
}

void TestLogFile::reopenRecoversLastSeq()
{
    const QString path = m_dir.filePath(QStringLiteral("reopen/agent.log"));
    const qint64 ts = isoTime("2026-01-02T03:04:05.678Z");
    {
        LogFile log(path, 2000, 2);
        QVERIFY(log.open());
        QCOMPARE(log.lastSeq(), 0);
        for (qint64 s = 1; s <= 100; ++s)
            log.appendLine(s, ts + s, Protocol::Stream::Stdout, LogLevel::Info, {}, "some text for the line");
    }
    {
        LogFile log(path, 2000, 2);
        QVERIFY(log.open());
        QCOMPARE(log.lastSeq(), 100);
        QCOMPARE(log.lastTimestamp(), ts + 100);
        log.appendLine(101, ts, Protocol::Stream::Stdout, LogLevel::Info, {}, "after reopening");
        log.appendGap(102, 110, Protocol::GapReason::AgentDropped);
    }
    {
        LogFile log(path, 2000, 2);
        QVERIFY(log.open());
        QCOMPARE(log.lastSeq(), 110);
        const ReadResult result = readBefore(log, 0, 2);
        QCOMPARE(seqsOf(result.lines), QList<qint64>({100, 101}));
        QCOMPARE(result.lines[1].text, QByteArray("after reopening"));
        QCOMPARE(result.gaps.size(), size_t(1));
    }
}

void TestLogFile::reopenWithEmptyCurrentFile()
{
    const QString path = m_dir.filePath(QStringLiteral("emptycurrent/agent.log"));
    {
        LogFile log(path, 100000, 3);
        QVERIFY(log.open());
        for (qint64 s = 1; s <= 50; ++s)
            log.appendLine(s, s, Protocol::Stream::Stdout, LogLevel::Info, {}, "x");
    }
    // As after a crash right after a rotation: the current file is new and empty,
    // or holds only a torn record.
    QVERIFY(QFile::rename(path, path + QStringLiteral(".1")));
    appendRaw(path, QByteArray());
    QVERIFY(QFile::exists(path));
    {
        LogFile log(path, 100000, 3);
        QVERIFY(log.open());
        QCOMPARE(log.lastSeq(), 50);
        QCOMPARE(log.lastTimestamp(), 50);
        const ReadResult result = readBefore(log, 0, 5);
        QCOMPARE(seqsOf(result.lines), QList<qint64>({46, 47, 48, 49, 50}));
    }
    appendRaw(path, "51\t1970-01-01T00:00:00.051Z\tstd");
    {
        LogFile log(path, 100000, 3);
        QVERIFY(log.open());
        QCOMPARE(log.lastSeq(), 50);
        QCOMPARE(QFile(path).size(), 0); // the torn record was cut off
        log.appendLine(51, 51, Protocol::Stream::Stdout, LogLevel::Info, {}, "y");
    }
    LogFile log(path, 100000, 3);
    QVERIFY(log.open());
    QCOMPARE(log.lastSeq(), 51);
}

void TestLogFile::tornLastRecord()
{
    const QString path = m_dir.filePath(QStringLiteral("torn.log"));
    {
        LogFile log(path);
        QVERIFY(log.open());
        for (qint64 s = 1; s <= 10; ++s)
            log.appendLine(s, s, Protocol::Stream::Stdout, LogLevel::Info, {},
                           QByteArray("line " + QByteArray::number(s)));
    }
    // A crash in the middle of writing record 11: the file ends without a newline,
    // here after a prefix that would parse.
    appendRaw(path, "11\t1970-01-01T00:00:00.011Z\tstdout\tINFO\t\tline 1");
    {
        LogFile reader(path); // never opened for writing: reading works all the same
        const ReadResult result = readBefore(reader, 0, 100);
        QCOMPARE(result.lines.size(), size_t(10));
        QCOMPARE(result.lines.back().text, QByteArray("line 10"));
        QVERIFY(!result.more);
    }
    LogFile log(path);
    QVERIFY(log.open());
    QCOMPARE(log.lastSeq(), 10);
    log.appendLine(11, 11, Protocol::Stream::Stdout, LogLevel::Info, {}, "line 11");
    const ReadResult result = readBefore(log, 0, 100);
    QCOMPARE(result.lines.size(), size_t(11));
    QCOMPARE(result.lines.back().text, QByteArray("line 11"));
    QVERIFY(readFile(path).endsWith("\tline 10\n11\t1970-01-01T00:00:00.011Z\tstdout\tINFO\t\tline 11\n"));
}

void TestLogFile::writeErrorOnFullDisk()
{
    QVERIFY2(QFile::exists(QStringLiteral("/dev/full")), "this test needs Linux's /dev/full");
    // A large maxBytes: rotating would rename /dev/full.
    LogFile log(QStringLiteral("/dev/full"), 1ll << 40, 1);
    // QFile's own complaint about appending to a character device.
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("Cannot call seek on a sequential device")));
    QVERIFY(log.open());
    QVERIFY(log.errorString().isEmpty());
    for (qint64 s = 1; s <= 100000; ++s)
        log.appendLine(s, s, Protocol::Stream::Stdout, LogLevel::Info, {}, "written to a full disk");
    QVERIFY(!log.errorString().isEmpty());
    log.flush();
    QVERIFY(log.errorString().contains(QStringLiteral("/dev/full")));
    QCOMPARE(log.lastSeq(), 100000);
    std::vector<StoredLine> lines;
    std::vector<SeqGap> gaps;
    bool more = true;
    QVERIFY(log.readBefore(0, 10, &lines, &gaps, &more, nullptr));
    QVERIFY(lines.empty());
    QVERIFY(!more);
}

void TestLogFile::openErrorAndRetry()
{
    // A path whose parent is a regular file cannot be created, even by root.
    const QString blocker = m_dir.filePath(QStringLiteral("blocker"));
    appendRaw(blocker, "a file, not a directory\n");
    const QString path = blocker + QStringLiteral("/agent.log");
    LogFile log(path, 4096, 2);
    QString error;
    QVERIFY(!log.open(&error));
    QVERIFY(!error.isEmpty());
    QCOMPARE(log.errorString(), error);
    for (qint64 s = 1; s <= 20; ++s)
        log.appendLine(s, s, Protocol::Stream::Stdout, LogLevel::Info, {}, QByteArray(50, 'a'));
    log.flush();
    QCOMPARE(log.errorString(), error);
    std::vector<StoredLine> lines;
    std::vector<SeqGap> gaps;
    bool more = true;
    QVERIFY(log.readBefore(0, 10, &lines, &gaps, &more, nullptr));
    QVERIFY(lines.empty());

    // Once the way is clear, the next rotation opens the file again.
    QVERIFY(QFile::remove(blocker));
    for (qint64 s = 21; s <= 200; ++s)
        log.appendLine(s, s, Protocol::Stream::Stdout, LogLevel::Info, {}, QByteArray(50, 'b'));
    QVERIFY(log.errorString().isEmpty());
    log.flush();
    QVERIFY(QFile::exists(path));
    const ReadResult result = readBefore(log, 0, 1000);
    QVERIFY(!result.lines.empty());
    QCOMPARE(result.lines.back().seq, 200);
    QVERIFY(result.lines.front().seq > 20);

    // And open() retries as well.
    const QString other = m_dir.filePath(QStringLiteral("blocker2"));
    appendRaw(other, "x");
    LogFile second(other + QStringLiteral("/agent.log"));
    QVERIFY(!second.open());
    QVERIFY(QFile::remove(other));
    QVERIFY(second.open());
    QVERIFY(second.errorString().isEmpty());
}

void TestLogFile::benchmarkAppend()
{
    const QString path = m_dir.filePath(QStringLiteral("bench/agent.log"));
    LogFile log(path, 32ll * 1024 * 1024, 1);
    QVERIFY(log.open());
    const QByteArray text = "2026-11-22 08:52:40 worker-3 processed item 482135"; // 50 bytes
    QCOMPARE(text.size(), 50);
    const int count = 1000000;
    const qint64 ts = QDateTime::currentMSecsSinceEpoch();
    QElapsedTimer timer;
    timer.start();
    for (int i = 1; i <= count; ++i)
        log.appendLine(i, ts + i / 1000, Protocol::Stream::Stdout, LogLevel::Info, {}, text);
    log.flush();
    const qint64 ns = timer.nsecsElapsed();
    qInfo("appendLine: %d lines of 50 bytes in %.1f ms: %.2f M lines/s, %.0f ns/line", count, ns / 1e6,
          count / (ns / 1e9) / 1e6, double(ns) / count);
    QVERIFY(log.errorString().isEmpty());
}

void TestLogFile::handleBudgetClosesLeastRecentlyWritten()
{
    FileHandleBudget budget(2);
    std::vector<std::unique_ptr<LogFile>> files;
    for (int i = 0; i < 4; ++i) {
        files.push_back(std::make_unique<LogFile>(m_dir.filePath(QStringLiteral("budget%1.log").arg(i))));
        files.back()->setHandleBudget(&budget);
        QVERIFY(files.back()->open());
        QVERIFY(budget.openCount() <= 2);
    }
    // Written in turns, each file is reopened when needed and keeps every line.
    for (qint64 seq = 1; seq <= 30; ++seq) {
        for (auto& file : files) {
            file->appendLine(seq, seq, Protocol::Stream::Stdout, LogLevel::Info, {}, "line");
            file->flush();
            QVERIFY(budget.openCount() <= 2);
        }
    }
    QVERIFY(files[3]->isHandleOpen());
    QVERIFY(!files[0]->isHandleOpen());
    for (auto& file : files) {
        const ReadResult result = readBefore(*file, 0, 100);
        QCOMPARE(result.lines.size(), size_t(30));
        QCOMPARE(result.lines.back().seq, 30);
        QVERIFY(file->errorString().isEmpty());
    }
    files.clear();
    QCOMPARE(budget.openCount(), 0);
}

QTEST_GUILESS_MAIN(TestLogFile)
#include "tst_logfile.moc"
