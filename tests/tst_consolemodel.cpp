// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/consolefiltermodel.h"
#include "models/consolemodel.h"

#include <QAbstractItemModelTester>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTest>

namespace {

Link::ConsoleLine line(qint64 seq, const QByteArray& text, LogLevel level = LogLevel::Info,
                       Protocol::Stream stream = Protocol::Stream::Stdout, const QByteArray& source = {}, qint64 ts = 0)
{
    Link::ConsoleLine l;
    l.seq = seq;
    l.ts = ts ? ts : 1000 + seq;
    l.level = level;
    l.stream = stream;
    l.source = source;
    l.text = text;
    return l;
}

QStringList texts(const QAbstractItemModel& model)
{
    QStringList result;
    for (int row = 0; row < model.rowCount(); ++row)
        result.append(model.index(row, 0).data(ConsoleModel::TextRole).toString());
    return result;
}

/// Random but realistic lines: levels, streams, sources, words, some ANSI and non-ASCII.
QList<Link::ConsoleLine> randomLines(qint64 firstSeq, int count, quint32 seed)
{
    static const QByteArray words[] = {
        "search", "Search", "page",  "error", "timeout", "fetch_url", "\x1b[31mred\x1b[0m", "über", "Über",
        "token",  "done",   "retry", "pages", "3",       "error:"};
    static const QByteArray sources[] = {"", "query.search", "query.fetch", "media", "media.ocr"};
    QRandomGenerator random(seed);
    QList<Link::ConsoleLine> lines;
    for (int i = 0; i < count; ++i) {
        QByteArray text;
        const int n = 1 + random.bounded(8);
        for (int w = 0; w < n; ++w) {
            if (w)
                text += ' ';
            text += words[random.bounded(int(std::size(words)))];
        }
        lines.append(line(firstSeq + i, text, LogLevel(1 + random.bounded(6)),
                          random.bounded(4) == 0 ? Protocol::Stream::Stderr : Protocol::Stream::Stdout,
                          sources[random.bounded(int(std::size(sources)))]));
    }
    return lines;
}

/// The filter's meaning, written plainly, for comparison.
bool reference(const ConsoleFilter& f, const Link::ConsoleLine& l)
{
    if (f.levels && !(f.levels & (1u << unsigned(l.level))))
        return false;
    if (f.streams && !(f.streams & (1u << unsigned(l.stream))))
        return false;
    if (!f.sources.isEmpty()) {
        const QString source = QString::fromUtf8(l.source);
        if (source.isEmpty()
            || std::none_of(f.sources.begin(), f.sources.end(), [&](const QString& p) { return source.startsWith(p); }))
            return false;
    }
    if (f.text.isEmpty())
        return true;
    const bool caseSensitive =
        f.smartCase ? std::any_of(f.text.begin(), f.text.end(), [](QChar c) { return c.isUpper(); }) : f.matchCase;
    QString pattern = f.regex ? f.text : QRegularExpression::escape(f.text);
    if (f.wholeWord)
        pattern = QStringLiteral("(?<![\\w])(?:%1)(?![\\w])").arg(pattern);
    static QHash<QString, QRegularExpression> compiled;
    const QString key = pattern + QLatin1Char(caseSensitive ? '1' : '0');
    if (!compiled.contains(key)) {
        compiled.insert(key,
                        QRegularExpression(pattern,
                                           caseSensitive ? QRegularExpression::UseUnicodePropertiesOption
                                                         : QRegularExpression::CaseInsensitiveOption
                                                   | QRegularExpression::UseUnicodePropertiesOption));
    }
    const QRegularExpression& re = compiled[key];
    return re.match(QString::fromUtf8(l.text)).hasMatch() != f.inverse;
}

} // namespace

class TestConsoleModel : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void linesAndRoles();
    void boundedByLines();
    void boundedByBytes();
    void batchesInserts();
    void gapsMarksAndPartials();
    void dropsWhatWasSeen();
    void renumberedKeepsNewLinesAndDropsResends();
    void mergedKeepsTimeOrder();
    void mergedMarkSurvivesLateLines();
    void olderLinesGoInFront();
    void historyKeepsItsBound();
    void gapFilledInPlace();
    void filterMatchesReference_data();
    void filterMatchesReference();
    void filterInBackgroundWhileLinesArrive();
    void newFilterCancelsRunningOne();
    void badRegexKeepsLastResult();
    void recordsFoldIntoTheirFirstLine();
    void mergedRecordsFoldPerAgentStream();
    void foldedRecordsAfterLateLinesAndGaps();
    void foldAllMatchesReferenceInBackground();
};

void TestConsoleModel::renumberedKeepsNewLinesAndDropsResends()
{
    // The host lost lines 4..6 it had sent: an agent resends 4 and 5 as they were,
    // and 6 comes with other text (an unnumbered agent's next line took the number).
    // The link asked for the host's lines after 1 again: 2 is the one held, 3 took
    // its number anew while the link was away.
    for (const bool merged : {false, true}) {
        ConsoleModel console;
        QAbstractItemModelTester tester(&console, QAbstractItemModelTester::FailureReportingMode::QtTest);
        console.setMerged(merged);
        const QString agent = merged ? QStringLiteral("bot") : QString();
        QList<Link::ConsoleLine> before;
        for (qint64 seq = 1; seq <= 6; ++seq)
            before.append(
                line(seq, "line " + QByteArray::number(seq), LogLevel::Info, Protocol::Stream::Stdout, {}, seq));
        console.appendLines(agent, before);
        console.flush();
        console.renumber(6, 3, 1, agent);
        console.appendLines(agent,
                            {line(2, "line 2", LogLevel::Info, Protocol::Stream::Stdout, {}, 20),
                             line(3, "a new three", LogLevel::Info, Protocol::Stream::Stdout, {}, 35),
                             line(4, "line 4", LogLevel::Info, Protocol::Stream::Stdout, {}, 40),
                             line(5, "line 5", LogLevel::Info, Protocol::Stream::Stdout, {}, 50),
                             line(6, "something new", LogLevel::Info, Protocol::Stream::Stdout, {}, 60),
                             line(7, "line 7", LogLevel::Info, Protocol::Stream::Stdout, {}, 70)});
        console.flush();
        QStringList texts;
        int notices = 0;
        for (int row = 0; row < console.rowCount(); ++row) {
            const QModelIndex index = console.index(row);
            if (index.data(ConsoleModel::KindRole).toInt() == int(Console::Kind::Line))
                texts.append(index.data(ConsoleModel::TextRole).toString());
            else
                ++notices;
        }
        QCOMPARE(
            texts,
            QStringList({QStringLiteral("line 1"), QStringLiteral("line 2"), QStringLiteral("line 3"),
                         QStringLiteral("line 4"), QStringLiteral("line 5"), QStringLiteral("line 6"),
                         QStringLiteral("a new three"), QStringLiteral("something new"), QStringLiteral("line 7")}));
        // An agent's own console says what happened, between the old lines and the new.
        QCOMPARE(notices, merged ? 0 : 1);
        if (!merged) {
            const QModelIndex notice = console.index(6);
            QCOMPARE(notice.data(ConsoleModel::KindRole).toInt(), int(Console::Kind::Gap));
            QVERIFY(notice.data(ConsoleModel::TextRole).toString().contains(QStringLiteral("4–6")));
        }
        // Past the numbers the host lost, lines are compared with nothing.
        console.appendLines(agent, {line(8, "line 4", LogLevel::Info, Protocol::Stream::Stdout, {}, 80)});
        console.flush();
        QCOMPARE(console.index(console.rowCount() - 1).data(ConsoleModel::TextRole).toString(),
                 QStringLiteral("line 4"));
    }
}

void TestConsoleModel::linesAndRoles()
{
    ConsoleModel console;
    QAbstractItemModelTester tester(&console, QAbstractItemModelTester::FailureReportingMode::QtTest);
    console.appendLines(
        {line(1, "hello", LogLevel::Warning, Protocol::Stream::Stderr, "net.http", 1234), line(2, "w\xc3\xb6rld")});
    QCOMPARE(console.rowCount(), 0); // shown at the next tick
    console.flush();
    QCOMPARE(console.rowCount(), 2);
    const QModelIndex first = console.index(0);
    QCOMPARE(first.data(ConsoleModel::TextRole).toString(), QStringLiteral("hello"));
    QCOMPARE(first.data(Qt::DisplayRole).toString(), QStringLiteral("hello"));
    QCOMPARE(first.data(ConsoleModel::TimeRole).toLongLong(), 1234);
    QCOMPARE(first.data(ConsoleModel::LevelRole).toInt(), int(LogLevel::Warning));
    QCOMPARE(first.data(ConsoleModel::LevelNameRole).toString(), QStringLiteral("WARNING"));
    QCOMPARE(first.data(ConsoleModel::StreamRole).toInt(), int(Protocol::Stream::Stderr));
    QCOMPARE(first.data(ConsoleModel::SourceRole).toString(), QStringLiteral("net.http"));
    QCOMPARE(first.data(ConsoleModel::SeqRole).toLongLong(), 1);
    QCOMPARE(first.data(ConsoleModel::KindRole).toInt(), int(Console::Kind::Line));
    QCOMPARE(console.index(1).data().toString(), QStringLiteral("wörld"));
    QVERIFY(!console.index(1).data(ConsoleModel::GapToRole).isValid());
    QCOMPARE(console.linesAppended(), 2u);
    QCOMPARE(console.textBytes(), 5 + 6);
}

void TestConsoleModel::boundedByLines()
{
    ConsoleModel console;
    QAbstractItemModelTester tester(&console, QAbstractItemModelTester::FailureReportingMode::QtTest);
    console.setMaxLines(10000);
    qint64 seq = 1;
    // Across many blocks, in batches of odd sizes.
    for (int batch = 0; batch < 40; ++batch) {
        QList<Link::ConsoleLine> lines;
        for (int i = 0; i < 997; ++i, ++seq)
            lines.append(line(seq, "line " + QByteArray::number(seq)));
        console.appendLines(lines);
        if (batch % 3 == 0)
            console.flush();
    }
    console.flush();
    QCOMPARE(console.rowCount(), 10000);
    const qint64 last = seq - 1;
    QCOMPARE(console.index(0).data(ConsoleModel::SeqRole).toLongLong(), last - 9999);
    QCOMPARE(console.index(9999).data(ConsoleModel::SeqRole).toLongLong(), last);
    for (int row = 0; row < 10000; row += 777)
        QCOMPARE(console.index(row).data().toString(), QStringLiteral("line %1").arg(last - 9999 + row));

    // One batch larger than the console: only what survives is inserted.
    QSignalSpy inserted(&console, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(&console, &QAbstractItemModel::rowsRemoved);
    QList<Link::ConsoleLine> flood;
    for (int i = 0; i < 25000; ++i, ++seq)
        flood.append(line(seq, "flood " + QByteArray::number(seq)));
    console.appendLines(flood);
    console.flush();
    QCOMPARE(removed.count(), 1);
    QCOMPARE(removed[0][2].toInt(), 9999); // every old row, in one removal
    QCOMPARE(inserted.count(), 1);
    QCOMPARE(inserted[0][1].toInt(), 0);
    QCOMPARE(inserted[0][2].toInt(), 9999);
    QCOMPARE(console.index(0).data().toString(), QStringLiteral("flood %1").arg(seq - 10000));
}

void TestConsoleModel::boundedByBytes()
{
    ConsoleModel console;
    QAbstractItemModelTester tester(&console, QAbstractItemModelTester::FailureReportingMode::QtTest);
    console.setMaxBytes(100 * 1024);
    const QByteArray text(1000, 'x');
    QList<Link::ConsoleLine> lines;
    for (int i = 1; i <= 300; ++i)
        lines.append(line(i, text));
    // A line larger than a block gets one of its own.
    lines.append(line(301, QByteArray(600 * 1024, 'y')));
    lines.append(line(302, "small"));
    console.appendLines(lines);
    console.flush();
    QVERIFY(console.textBytes() <= 100 * 1024);
    QCOMPARE(console.rowCount(), 1);
    QCOMPARE(console.index(0).data().toString(), QStringLiteral("small"));
    for (int i = 303; i <= 400; ++i)
        console.appendLines({line(i, text)});
    console.flush();
    QCOMPARE(console.rowCount(), 99);
    QVERIFY(console.textBytes() <= 100 * 1024);
    QCOMPARE(console.index(98).data(ConsoleModel::SeqRole).toLongLong(), 400);
}

void TestConsoleModel::batchesInserts()
{
    ConsoleModel console;
    QSignalSpy inserted(&console, &QAbstractItemModel::rowsInserted);
    QElapsedTimer clock;
    clock.start();
    qint64 seq = 1;
    // 300 ms of lines arriving every millisecond or so.
    while (clock.elapsed() < 300) {
        console.appendLines({line(seq, "x"), line(seq + 1, "y")});
        seq += 2;
        QTest::qWait(1);
    }
    QTRY_COMPARE(console.rowCount(), int(seq - 1));
    // At most one insertion per 30 ms (and a few for timer slack on a busy machine).
    QVERIFY2(inserted.count() <= 300 / 30 + 3, qPrintable(QString::number(inserted.count())));
    QVERIFY(inserted.count() >= 2);
}

void TestConsoleModel::gapsMarksAndPartials()
{
    ConsoleModel console;
    QAbstractItemModelTester tester(&console, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy partial(&console, &ConsoleModel::partialChanged);
    Link::ConsoleLine progress = line(0, "downloading 40%");
    progress.partial = true;
    console.appendLines({line(1, "one"), progress});
    QCOMPARE(console.partialText(Protocol::Stream::Stdout), QStringLiteral("downloading 40%"));
    QCOMPARE(partial.count(), 1);
    console.appendGap(2, 101, QStringLiteral("evicted"));
    console.appendGap(102, 102, QStringLiteral("something_new"));
    console.appendLines({line(50, "old, inside the gap"), line(103, "done")});
    QCOMPARE(console.partialText(Protocol::Stream::Stdout), QString()); // the complete line replaced it
    console.appendMark(QStringLiteral("c1"), QStringLiteral("restart"));
    console.flush();
    QCOMPARE(
        texts(console),
        QStringList({QStringLiteral("one"), QStringLiteral("100 lines not received: evicted from the host's memory"),
                     QStringLiteral("1 line not received: something_new"), QStringLiteral("done"),
                     QStringLiteral("restart")}));
    QCOMPARE(console.index(1).data(ConsoleModel::KindRole).toInt(), int(Console::Kind::Gap));
    QCOMPARE(console.index(1).data(ConsoleModel::GapFromRole).toLongLong(), 2);
    QCOMPARE(console.index(1).data(ConsoleModel::GapToRole).toLongLong(), 101);
    const QModelIndex mark = console.index(4);
    QCOMPARE(mark.data(ConsoleModel::MarkIdRole).toString(), QStringLiteral("c1"));
    QCOMPARE(mark.data(ConsoleModel::MarkStateRole).toInt(), int(ConsoleModel::MarkPending));
    QSignalSpy changed(&console, &QAbstractItemModel::dataChanged);
    console.setMarkResult(QStringLiteral("c1"), QStringLiteral("restarted"), ConsoleModel::MarkOk);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed[0][0].toModelIndex().row(), 4);
    QCOMPARE(mark.data(ConsoleModel::MarkResultRole).toString(), QStringLiteral("restarted"));
    QCOMPARE(mark.data(ConsoleModel::MarkStateRole).toInt(), int(ConsoleModel::MarkOk));
}

void TestConsoleModel::dropsWhatWasSeen()
{
    ConsoleModel console;
    console.appendLines({line(1, "a"), line(2, "b")});
    console.appendLines({line(2, "b again"), line(1, "a again"), line(3, "c")});
    console.flush();
    QCOMPARE(texts(console), QStringList({QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")}));
    // Another history of the host: numbers start over.
    console.resetSequence();
    console.appendLines({line(1, "new one")});
    console.clear();
    console.appendLines({line(2, "new two")});
    console.flush();
    QCOMPARE(texts(console), QStringList({QStringLiteral("new two")}));
}

namespace {

QList<Link::ConsoleLine> numbered(qint64 first, qint64 last)
{
    QList<Link::ConsoleLine> lines;
    for (qint64 seq = first; seq <= last; ++seq)
        lines.append(line(seq, "line " + QByteArray::number(seq), LogLevel::Info, Protocol::Stream::Stdout, {}, seq));
    return lines;
}

} // namespace

void TestConsoleModel::olderLinesGoInFront()
{
    ConsoleModel console;
    QAbstractItemModelTester tester(&console, QAbstractItemModelTester::FailureReportingMode::QtTest);
    ConsoleFilterModel all;
    all.setSourceModel(&console);
    QAbstractItemModelTester allTester(&all, QAbstractItemModelTester::FailureReportingMode::QtTest);
    ConsoleFilterModel tens;
    tens.setSourceModel(&console);
    tens.setFilter({0, 0, {}, {}, QStringLiteral("0$"), true, false, false, true, false});
    console.appendLines(numbered(5001, 5100));
    console.flush();
    QCOMPARE(console.firstLineSeq(), 5001);
    const qint64 firstIndex = console.firstIndex();
    console.appendMark(QStringLiteral("m"), QStringLiteral("status"));
    console.flush();

    // A page bigger than one block, below the oldest line, with a gap the host recorded.
    QList<Link::ConsoleLine> page = numbered(1001, 3000);
    page.append(numbered(3101, 5000));
    console.prependHistory(page, {{3001, 3100, QStringLiteral("rate_limited")}}, true);
    QCOMPARE(console.rowCount(), 100 + 1 + 3900 + 1);
    QCOMPARE(console.firstIndex(), firstIndex - 3901); // the rows there were keep their index
    QCOMPARE(console.index(0).data(ConsoleModel::TextRole).toString(), QStringLiteral("line 1001"));
    const QModelIndex gap = console.index(2000);
    QCOMPARE(gap.data(ConsoleModel::KindRole).toInt(), int(Console::Kind::Gap));
    QCOMPARE(gap.data(ConsoleModel::GapFromRole).toLongLong(), 3001);
    QCOMPARE(gap.data(ConsoleModel::GapToRole).toLongLong(), 3100);
    QVERIFY(!gap.data(ConsoleModel::GapLoadableRole).toBool()); // the host never had them
    QCOMPARE(console.index(3901).data(ConsoleModel::TextRole).toString(), QStringLiteral("line 5001"));
    QCOMPARE(console.firstLineSeq(), 1001);
    // The filters follow, in order.
    QCOMPARE(all.rowCount(), console.rowCount());
    QCOMPARE(all.index(0, 0).data(ConsoleModel::TextRole).toString(), QStringLiteral("line 1001"));
    QCOMPARE(tens.index(0, 0).data(ConsoleModel::TextRole).toString(), QStringLiteral("line 1010"));
    QCOMPARE(tens.rowCount(), 390 + 10);
    // The mark still finds its row.
    console.setMarkResult(QStringLiteral("m"), QStringLiteral("done"), ConsoleModel::MarkOk);
    QCOMPARE(console.index(4001).data(ConsoleModel::MarkResultRole).toString(), QStringLiteral("done"));
    QCOMPARE(console.historyState(), ConsoleModel::HistoryState::Idle);

    // The start: nothing older on the host, and numbers below its oldest line are gone.
    console.prependHistory(numbered(900, 1000), {}, false);
    QCOMPARE(console.historyState(), ConsoleModel::HistoryState::Complete);
    const QModelIndex rotated = console.index(0);
    QCOMPARE(rotated.data(ConsoleModel::KindRole).toInt(), int(Console::Kind::Gap));
    QCOMPARE(rotated.data(ConsoleModel::GapToRole).toLongLong(), 899);
    QVERIFY2(rotated.data(ConsoleModel::TextRole).toString().contains(QStringLiteral("no longer in the host's log")),
             qPrintable(rotated.data(ConsoleModel::TextRole).toString()));
}

void TestConsoleModel::historyKeepsItsBound()
{
    ConsoleModel console;
    console.setMaxLines(100);
    QAbstractItemModelTester tester(&console, QAbstractItemModelTester::FailureReportingMode::QtTest);
    console.appendLines(numbered(1001, 1100));
    console.flush();
    // History the reader loads stays beyond the bound while they read it, and new
    // lines do not push it out...
    console.prependHistory(numbered(951, 1000), {}, true);
    console.appendLines(numbered(1101, 1110));
    console.flush();
    QCOMPARE(console.rowCount(), 160);
    QCOMPARE(console.index(0).data(ConsoleModel::TextRole).toString(), QStringLiteral("line 951"));
    // ...up to as much again: of a page beyond that, the newest lines that fit come...
    console.setHistoryLoading();
    console.prependHistory(numbered(801, 950), {}, false, 951);
    QCOMPARE(console.rowCount(), 200);
    QCOMPARE(console.index(0).data(ConsoleModel::TextRole).toString(), QStringLiteral("line 911"));
    QCOMPARE(console.historyState(), ConsoleModel::HistoryState::Idle); // 801..910 can still come
    // ...and the next page is refused, saying why.
    console.setHistoryLoading();
    console.prependHistory(numbered(801, 910), {}, true, 911);
    QCOMPARE(console.rowCount(), 200);
    QCOMPARE(console.historyState(), ConsoleModel::HistoryState::Failed);
    QVERIFY2(console.historyError().contains(QStringLiteral("at most 200 lines")), qPrintable(console.historyError()));
    // Back at the newest lines, the bound holds again.
    console.releaseHistory();
    console.flush();
    QCOMPARE(console.rowCount(), 100);
    QCOMPARE(console.index(99).data(ConsoleModel::TextRole).toString(), QStringLiteral("line 1110"));
    QCOMPARE(console.historyState(), ConsoleModel::HistoryState::Idle);
}

void TestConsoleModel::gapFilledInPlace()
{
    ConsoleModel console;
    QAbstractItemModelTester tester(&console, QAbstractItemModelTester::FailureReportingMode::QtTest);
    ConsoleFilterModel all;
    all.setSourceModel(&console);
    QAbstractItemModelTester allTester(&all, QAbstractItemModelTester::FailureReportingMode::QtTest);
    console.appendLines(numbered(1, 10));
    console.appendGap(11, 100, QStringLiteral("evicted"));
    console.appendLines(numbered(101, 110));
    console.appendMark(QStringLiteral("m"), QStringLiteral("status"));
    console.flush();
    QVERIFY(console.isLoadableGap(10));
    QVERIFY(console.index(10).data(ConsoleModel::GapLoadableRole).toBool());
    const qint64 gapIndex = console.firstIndex() + 10;

    // The host sends the newest 50 below the gap's end: 11..50 stay a gap, to load again.
    QVERIFY(console.fillGap(gapIndex, numbered(51, 100), {}));
    QCOMPARE(console.rowCount(), 10 + 1 + 50 + 10 + 1);
    const QModelIndex rest = console.index(10);
    QCOMPARE(rest.data(ConsoleModel::KindRole).toInt(), int(Console::Kind::Gap));
    QCOMPARE(rest.data(ConsoleModel::GapFromRole).toLongLong(), 11);
    QCOMPARE(rest.data(ConsoleModel::GapToRole).toLongLong(), 50);
    QVERIFY(console.isLoadableGap(10));
    QCOMPARE(console.index(11).data(ConsoleModel::TextRole).toString(), QStringLiteral("line 51"));
    QCOMPARE(console.index(61).data(ConsoleModel::TextRole).toString(), QStringLiteral("line 101"));
    QCOMPARE(all.rowCount(), console.rowCount());
    QCOMPARE(all.index(61, 0).data(ConsoleModel::TextRole).toString(), QStringLiteral("line 101"));
    console.setMarkResult(QStringLiteral("m"), QStringLiteral("ok"), ConsoleModel::MarkOk);
    QCOMPARE(console.index(71).data(ConsoleModel::MarkStateRole).toInt(), int(ConsoleModel::MarkOk));

    // The rest, with a range the agent dropped: that one stays, not loadable.
    QVERIFY(console.fillGap(console.firstIndex() + 10, numbered(11, 20) + numbered(31, 50),
                            {{21, 30, QStringLiteral("agent_dropped")}}));
    QCOMPARE(console.index(10).data(ConsoleModel::TextRole).toString(), QStringLiteral("line 11"));
    QCOMPARE(console.index(20).data(ConsoleModel::KindRole).toInt(), int(Console::Kind::Gap));
    QVERIFY(!console.isLoadableGap(20));
    QCOMPARE(console.index(21).data(ConsoleModel::TextRole).toString(), QStringLiteral("line 31"));
    // A row that is no longer a gap is not filled.
    QVERIFY(!console.fillGap(console.firstIndex() + 10, numbered(11, 20), {}));
}

void TestConsoleModel::mergedMarkSurvivesLateLines()
{
    ConsoleModel all;
    all.setMerged(true);
    QAbstractItemModelTester tester(&all, QAbstractItemModelTester::FailureReportingMode::QtTest);
    all.appendLines(QStringLiteral("a"), {line(1, "a1", LogLevel::Info, {}, {}, 100)});
    all.flush();
    all.appendMark(QStringLiteral("m1"), QStringLiteral("stop   (to 2 agents)"));
    all.flush();
    // Lines older than the mark come after it and are put before it.
    all.appendLines(QStringLiteral("b"), {line(1, "b1", LogLevel::Info, {}, {}, 200)});
    all.flush();
    QCOMPARE(texts(all).first(), QStringLiteral("a1"));
    QCOMPARE(texts(all).at(1), QStringLiteral("b1"));
    const QModelIndex mark = all.index(2);
    QCOMPARE(mark.data(ConsoleModel::KindRole).toInt(), int(Console::Kind::Mark));
    QCOMPARE(mark.data(ConsoleModel::MarkIdRole).toString(), QStringLiteral("m1"));
    // Its result still finds it.
    all.setMarkResult(QStringLiteral("m1"), QStringLiteral("2 of 2 ok"), ConsoleModel::MarkOk);
    QCOMPARE(all.index(2).data(ConsoleModel::MarkResultRole).toString(), QStringLiteral("2 of 2 ok"));
    QCOMPARE(all.index(2).data(ConsoleModel::MarkStateRole).toInt(), int(ConsoleModel::MarkOk));
}

void TestConsoleModel::mergedKeepsTimeOrder()
{
    ConsoleModel all;
    all.setMerged(true);
    QAbstractItemModelTester tester(&all, QAbstractItemModelTester::FailureReportingMode::QtTest);
    ConsoleFilterModel filter;
    filter.setSourceModel(&all);
    QAbstractItemModelTester filterTester(&filter, QAbstractItemModelTester::FailureReportingMode::QtTest);
    filter.setFilter({0, 0, {}, {QStringLiteral("b")}, {}, false, false, false});

    all.appendLines(QStringLiteral("a"),
                    {line(1, "a1", LogLevel::Info, {}, {}, 100), line(2, "a2", LogLevel::Info, {}, {}, 300)});
    all.appendLines(QStringLiteral("b"), {line(1, "b1", LogLevel::Info, {}, {}, 200)});
    all.flush();
    QCOMPARE(texts(all), QStringList({QStringLiteral("a1"), QStringLiteral("b1"), QStringLiteral("a2")}));
    QCOMPARE(all.index(1).data(ConsoleModel::AgentRole).toString(), QStringLiteral("b"));
    all.appendLines(QStringLiteral("a"), {line(3, "a3", LogLevel::Info, {}, {}, 500)});
    all.flush();
    // A host that comes back replays lines older than what is shown.
    all.appendLines(QStringLiteral("b"),
                    {line(2, "b2", LogLevel::Info, {}, {}, 250), line(3, "b3", LogLevel::Info, {}, {}, 400)});
    all.flush();
    QCOMPARE(texts(all),
             QStringList({QStringLiteral("a1"), QStringLiteral("b1"), QStringLiteral("b2"), QStringLiteral("a2"),
                          QStringLiteral("b3"), QStringLiteral("a3")}));
    QCOMPARE(texts(filter), QStringList({QStringLiteral("b1"), QStringLiteral("b2"), QStringLiteral("b3")}));
    // Agents' numbers are apart: b's 3 does not hide a's 4.
    all.appendLines(QStringLiteral("a"),
                    {line(3, "a3 again", LogLevel::Info, {}, {}, 600), line(4, "a4", LogLevel::Info, {}, {}, 600)});
    all.flush();
    QCOMPARE(all.rowCount(), 7);
    QCOMPARE(all.index(6).data().toString(), QStringLiteral("a4"));
}

void TestConsoleModel::filterMatchesReference_data()
{
    QTest::addColumn<ConsoleFilter>("filter");
    auto text = [](const char* t, bool word = false, bool regex = false, bool inverse = false) {
        ConsoleFilter f;
        f.text = QString::fromUtf8(t);
        f.wholeWord = word;
        f.regex = regex;
        f.inverse = inverse;
        return f;
    };
    QTest::addRow("everything") << ConsoleFilter();
    ConsoleFilter levels;
    levels.levels = (1u << unsigned(LogLevel::Error)) | (1u << unsigned(LogLevel::Critical));
    QTest::addRow("levels") << levels;
    ConsoleFilter streams;
    streams.streams = 1u << unsigned(Protocol::Stream::Stderr);
    QTest::addRow("stderr") << streams;
    ConsoleFilter sources;
    sources.sources = {QStringLiteral("query."), QStringLiteral("media.ocr")};
    QTest::addRow("sources") << sources;
    QTest::addRow("smart case, lower") << text("search");
    QTest::addRow("smart case, capital") << text("Search");
    QTest::addRow("whole word") << text("page", true);
    QTest::addRow("whole word, punctuation") << text("error", true);
    QTest::addRow("non-ascii, any case") << text("über");
    QTest::addRow("regex") << text("fetch_\\w+|time.ut", false, true);
    QTest::addRow("regex, whole word") << text("pages?", true, true);
    QTest::addRow("inverse") << text("retry", false, false, true);
    ConsoleFilter combined = text("error", false, false, true);
    combined.levels = levels.levels;
    combined.sources = {QStringLiteral("query")};
    QTest::addRow("inverse with levels and sources") << combined;
    QTest::addRow("escape codes") << text("\x1b[31m");
    ConsoleFilter anyCase = text("Search");
    anyCase.smartCase = false;
    QTest::addRow("capital, case ignored") << anyCase;
    ConsoleFilter exactCase = text("search");
    exactCase.smartCase = false;
    exactCase.matchCase = true;
    QTest::addRow("lower, case matters") << exactCase;
    ConsoleFilter regexCase = text("FETCH_\\w+", false, true);
    regexCase.smartCase = false;
    QTest::addRow("regex, capital, case ignored") << regexCase;
}

void TestConsoleModel::filterMatchesReference()
{
    QFETCH(ConsoleFilter, filter);
    const QList<Link::ConsoleLine> lines = randomLines(1, 50000, 7);
    ConsoleModel console;
    console.setMaxLines(40000); // some evicted
    console.appendLines(lines);
    console.flush();
    ConsoleFilterModel proxy;
    QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    proxy.setSourceModel(&console);
    QSignalSpy applied(&proxy, &ConsoleFilterModel::filterApplied);
    proxy.setFilter(filter);
    QTRY_COMPARE(applied.count(), 1); // 40,000 rows: filtered in the background
    QVERIFY(!proxy.isFiltering());

    QStringList expected;
    for (const Link::ConsoleLine& l : lines.mid(10000)) {
        if (reference(filter, l))
            expected.append(QString::fromUtf8(l.text));
    }
    QCOMPARE(proxy.rowCount(), expected.size());
    QCOMPARE(texts(proxy), expected);

    // Lines that arrive later are filtered as they come.
    const QList<Link::ConsoleLine> more = randomLines(50001, 3000, 8);
    console.appendLines(more);
    console.flush();
    for (const Link::ConsoleLine& l : more) {
        if (reference(filter, l))
            expected.append(QString::fromUtf8(l.text));
    }
    // ...and those evicted leave.
    int evicted = 0;
    for (const Link::ConsoleLine& l : lines.mid(10000, 3000))
        evicted += reference(filter, l) ? 1 : 0;
    expected = expected.mid(evicted);
    QCOMPARE(texts(proxy), expected);
}

void TestConsoleModel::filterInBackgroundWhileLinesArrive()
{
    ConsoleModel console;
    console.setMaxLines(300000);
    console.appendLines(randomLines(1, 300000, 1));
    console.flush();
    ConsoleFilterModel proxy;
    QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    proxy.setSourceModel(&console);
    QSignalSpy applied(&proxy, &ConsoleFilterModel::filterApplied);
    ConsoleFilter filter;
    filter.text = QStringLiteral("timeout");
    proxy.setFilter(filter);
    QVERIFY(proxy.isFiltering());
    // Lines keep coming and the oldest go, while the filter runs elsewhere.
    qint64 seq = 300001;
    for (int i = 0; i < 10; ++i) {
        console.appendLines(randomLines(seq, 5000, 100 + i));
        seq += 5000;
        console.flush();
    }
    QTRY_COMPARE(applied.count(), 1);
    int expected = 0;
    for (int row = 0; row < console.rowCount(); ++row)
        expected += console.index(row).data().toString().contains(QLatin1String("timeout")) ? 1 : 0;
    QCOMPARE(proxy.rowCount(), expected);
    QCOMPARE(console.index(0).data(ConsoleModel::SeqRole).toLongLong(), seq - 300000);
    QCOMPARE(proxy.index(proxy.rowCount() - 1, 0).data(ConsoleModel::SeqRole).toLongLong() <= seq - 1, true);
}

void TestConsoleModel::newFilterCancelsRunningOne()
{
    ConsoleModel console;
    console.appendLines(randomLines(1, 200000, 3));
    console.flush();
    ConsoleFilterModel proxy;
    proxy.setSourceModel(&console);
    QSignalSpy applied(&proxy, &ConsoleFilterModel::filterApplied);
    ConsoleFilter first;
    first.text = QStringLiteral("s.*e");
    first.regex = true;
    proxy.setFilter(first);
    ConsoleFilter second;
    second.text = QStringLiteral("done");
    proxy.setFilter(second);
    QTRY_COMPARE(applied.count(), 1);
    QTest::qWait(100);
    QCOMPARE(applied.count(), 1); // the first never lands
    for (int row = 0; row < proxy.rowCount(); ++row)
        QVERIFY(proxy.index(row, 0).data().toString().contains(QLatin1String("done")));
    QVERIFY(proxy.rowCount() > 1000);
}

void TestConsoleModel::badRegexKeepsLastResult()
{
    ConsoleModel console;
    console.appendLines({line(1, "alpha"), line(2, "beta")});
    console.flush();
    ConsoleFilterModel proxy;
    proxy.setSourceModel(&console);
    ConsoleFilter filter;
    filter.text = QStringLiteral("alp");
    proxy.setFilter(filter);
    QCOMPARE(proxy.rowCount(), 1);
    filter.text = QStringLiteral("alp(");
    filter.regex = true;
    proxy.setFilter(filter);
    QVERIFY(!proxy.errorString().isEmpty());
    QCOMPARE(proxy.rowCount(), 1);
}

namespace {

QList<Link::ConsoleLine> traceback(qint64 firstSeq, qint64 ts, const QByteArray& error = "ValueError: bad input",
                                   Protocol::Stream stream = Protocol::Stream::Stderr)
{
    const QByteArray texts[] = {"2026-12-07 10:00:00 | ERROR | job failed",
                                "Traceback (most recent call last):", "  File \"job.py\", line 3, in <module>",
                                "    run()", error};
    QList<Link::ConsoleLine> lines;
    for (const QByteArray& text : texts) {
        lines.append(line(firstSeq, text, LogLevel::Error, stream, {}, ts));
        ++firstSeq;
        ts += 1;
    }
    return lines;
}

QList<bool> continuations(const QAbstractItemModel& model)
{
    QList<bool> result;
    for (int row = 0; row < model.rowCount(); ++row)
        result.append(model.index(row, 0).data(ConsoleModel::ContinuesRole).toBool());
    return result;
}

} // namespace

void TestConsoleModel::recordsFoldIntoTheirFirstLine()
{
    ConsoleModel console;
    console.appendLines(traceback(1, 5000));
    // An indented line with a level of its own is a record of its own.
    console.appendLines({line(6, "  indented but a warning", LogLevel::Warning, Protocol::Stream::Stderr, {}, 5005),
                         line(7, "next", LogLevel::Info, Protocol::Stream::Stdout, {}, 5006)});
    console.flush();
    QCOMPARE(continuations(console), QList<bool>({false, true, true, true, true, false, false}));

    ConsoleFilterModel proxy;
    QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    proxy.setSourceModel(&console);
    QCOMPARE(proxy.rowCount(), 7);
    const QModelIndex head = proxy.index(0, 0);
    QCOMPARE(head.data(ConsoleFilterModel::FoldRole).toInt(), int(ConsoleFilterModel::Open));
    QCOMPARE(head.data(ConsoleFilterModel::RecordLinesRole).toInt(), 4);
    QCOMPARE(head.data(ConsoleFilterModel::RecordEndRole).toString(), QStringLiteral("ValueError: bad input"));
    for (int row = 1; row < 7; ++row)
        QCOMPARE(proxy.index(row, 0).data(ConsoleFilterModel::FoldRole).toInt(), int(ConsoleFilterModel::NoRecord));

    // Folded, the record is its first line, which knows the lines under it.
    QSignalSpy changed(&proxy, &QAbstractItemModel::dataChanged);
    QVERIFY(proxy.setData(head, true, ConsoleFilterModel::FoldRole));
    QCOMPARE(texts(proxy),
             QStringList({QStringLiteral("2026-12-07 10:00:00 | ERROR | job failed"),
                          QStringLiteral("  indented but a warning"), QStringLiteral("next")}));
    QCOMPARE(proxy.index(0, 0).data(ConsoleFilterModel::FoldRole).toInt(), int(ConsoleFilterModel::Folded));
    QCOMPARE(changed.count(), 1);
    const auto folded = proxy.index(0, 0).data(ConsoleFilterModel::RecordRowsRole).value<QModelIndexList>();
    QCOMPARE(folded.size(), 4);
    QCOMPARE(folded.last().data(ConsoleModel::TextRole).toString(), QStringLiteral("ValueError: bad input"));
    QVERIFY(!proxy.setData(proxy.index(2, 0), true, ConsoleFilterModel::FoldRole)); // no record starts there

    // Opened again, every line is back in its place.
    QVERIFY(proxy.setData(proxy.index(0, 0), false, ConsoleFilterModel::FoldRole));
    QCOMPARE(texts(proxy), texts(console));

    // Folding every record: a record still being written grows under its first line.
    proxy.setFoldRecords(true);
    QCOMPARE(proxy.rowCount(), 3);
    console.appendLines(
        {line(8, "2026-12-07 10:00:01 | ERROR | again", LogLevel::Error, Protocol::Stream::Stderr, {}, 5010),
         line(9, "  detail one", LogLevel::Error, Protocol::Stream::Stderr, {}, 5011)});
    console.flush();
    QCOMPARE(proxy.rowCount(), 4);
    changed.clear();
    console.appendLines({line(10, "  detail two", LogLevel::Error, Protocol::Stream::Stderr, {}, 5012)});
    console.flush();
    QCOMPARE(proxy.rowCount(), 4);
    QCOMPARE(changed.count(), 1); // the first line says how many lines it holds now
    QCOMPARE(proxy.index(3, 0).data(ConsoleFilterModel::RecordLinesRole).toInt(), 2);
    QCOMPARE(proxy.index(3, 0).data(ConsoleFilterModel::RecordEndRole).toString(), QStringLiteral("  detail two"));

    // A search shows every line that matches, folded or not.
    ConsoleFilter search;
    search.text = QStringLiteral("detail");
    proxy.setFilter(search);
    QCOMPARE(texts(proxy), QStringList({QStringLiteral("  detail one"), QStringLiteral("  detail two")}));
    QCOMPARE(proxy.index(0, 0).data(ConsoleFilterModel::FoldRole).toInt(), int(ConsoleFilterModel::NoRecord));
    proxy.setFilter({});
    QCOMPARE(proxy.rowCount(), 4);
    proxy.setFoldRecords(false);
    QCOMPARE(texts(proxy), texts(console));
}

void TestConsoleModel::mergedRecordsFoldPerAgentStream()
{
    ConsoleModel all;
    all.setMerged(true);
    ConsoleFilterModel proxy;
    QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    proxy.setSourceModel(&all);
    // a's traceback on stderr, with b's lines and a's own stdout between its lines.
    const QList<Link::ConsoleLine> a = traceback(1, 1000);
    all.appendLines(QStringLiteral("a"), a);
    all.appendLines(QStringLiteral("a"), {line(6, "a says hello", LogLevel::Info, Protocol::Stream::Stdout, {}, 1002)});
    all.appendLines(
        QStringLiteral("b"),
        {line(1, "b one", LogLevel::Info, {}, {}, 1001), line(2, "  b indented", LogLevel::Info, {}, {}, 1003)});
    all.flush();
    QCOMPARE(texts(all),
             QStringList({QString::fromUtf8(a[0].text), QString::fromUtf8(a[1].text), QStringLiteral("b one"),
                          QString::fromUtf8(a[2].text), QStringLiteral("a says hello"), QString::fromUtf8(a[3].text),
                          QStringLiteral("  b indented"), QString::fromUtf8(a[4].text)}));
    proxy.setFoldRecords(true);
    QCOMPARE(texts(proxy),
             QStringList({QString::fromUtf8(a[0].text), QStringLiteral("b one"), QStringLiteral("a says hello")}));
    QCOMPARE(proxy.index(0, 0).data(ConsoleFilterModel::RecordLinesRole).toInt(), 4);
    QCOMPARE(proxy.index(1, 0).data(ConsoleFilterModel::RecordLinesRole).toInt(), 1);
    // Opening a's record puts its lines back between the others, in three places.
    QSignalSpy inserted(&proxy, &QAbstractItemModel::rowsInserted);
    QVERIFY(proxy.setData(proxy.index(0, 0), false, ConsoleFilterModel::FoldRole));
    QCOMPARE(inserted.count(), 3);
    QCOMPARE(texts(proxy),
             QStringList({QString::fromUtf8(a[0].text), QString::fromUtf8(a[1].text), QStringLiteral("b one"),
                          QString::fromUtf8(a[2].text), QStringLiteral("a says hello"), QString::fromUtf8(a[3].text),
                          QString::fromUtf8(a[4].text)}));
    QSignalSpy removed(&proxy, &QAbstractItemModel::rowsRemoved);
    QVERIFY(proxy.setData(proxy.index(0, 0), true, ConsoleFilterModel::FoldRole));
    QCOMPARE(removed.count(), 3);
    QCOMPARE(proxy.rowCount(), 3);
    // Only b's agent filtered: a's records are not there to fold into.
    proxy.setFilter({0, 0, {}, {QStringLiteral("b")}, {}, false, false, false});
    QCOMPARE(texts(proxy), QStringList({QStringLiteral("b one")}));
    QVERIFY(proxy.setData(proxy.index(0, 0), false, ConsoleFilterModel::FoldRole));
    QCOMPARE(texts(proxy), QStringList({QStringLiteral("b one"), QStringLiteral("  b indented")}));
}

void TestConsoleModel::foldedRecordsAfterLateLinesAndGaps()
{
    ConsoleModel all;
    all.setMerged(true);
    ConsoleFilterModel proxy;
    QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    proxy.setSourceModel(&all);
    proxy.setFoldRecords(true);
    all.appendLines(QStringLiteral("a"), traceback(1, 1000).mid(0, 3));
    all.flush();
    QCOMPARE(proxy.rowCount(), 1);
    // A late line of b goes before a's last lines: they are taken out and put back, and
    // the lines a sends next still fold under its record's first line.
    all.appendLines(QStringLiteral("b"), {line(1, "b late", LogLevel::Info, {}, {}, 1001)});
    all.flush();
    all.appendLines(QStringLiteral("a"), traceback(1, 1000).mid(3));
    all.flush();
    QCOMPARE(texts(proxy),
             QStringList({QStringLiteral("2026-12-07 10:00:00 | ERROR | job failed"), QStringLiteral("b late")}));
    QCOMPARE(proxy.index(0, 0).data(ConsoleFilterModel::RecordLinesRole).toInt(), 4);

    // After a gap, a continuation line has no record to fold into: it shows.
    ConsoleModel one;
    ConsoleFilterModel oneProxy;
    oneProxy.setSourceModel(&one);
    oneProxy.setFoldRecords(true);
    one.appendLines(traceback(1, 1000).mid(0, 3));
    one.appendGap(4, 9, QStringLiteral("rate_limited"));
    one.appendLines({line(10, "  more of it", LogLevel::Error, Protocol::Stream::Stderr, {}, 1003)});
    one.flush();
    QCOMPARE(one.index(4).data(ConsoleModel::ContinuesRole).toBool(), true);
    QCOMPARE(oneProxy.rowCount(), 3);
    QCOMPARE(oneProxy.index(0, 0).data(ConsoleFilterModel::RecordLinesRole).toInt(), 2);
    QCOMPARE(oneProxy.index(2, 0).data().toString(), QStringLiteral("  more of it"));
}

void TestConsoleModel::foldAllMatchesReferenceInBackground()
{
    // Many rows: the folded result is worked out on other threads.
    ConsoleModel console;
    QList<Link::ConsoleLine> lines;
    QStringList expected;
    qint64 seq = 1;
    for (int record = 0; record < 8000; ++record) {
        const qint64 ts = 1000 + seq * 10;
        const int extra = record % 5;
        lines.append(line(seq++, "record " + QByteArray::number(record), LogLevel::Info, {}, {}, ts));
        expected.append(QStringLiteral("record %1").arg(record));
        for (int k = 0; k < extra; ++k)
            lines.append(line(seq++, "    part " + QByteArray::number(k), LogLevel::Info, {}, {}, ts + 1));
    }
    console.appendLines(lines);
    console.flush();
    QVERIFY(console.rowCount() > ConsoleFilterModel::ForegroundRows);
    ConsoleFilterModel proxy;
    QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    proxy.setSourceModel(&console);
    QSignalSpy applied(&proxy, &ConsoleFilterModel::filterApplied);
    proxy.setFoldRecords(true);
    QVERIFY(proxy.isFiltering());
    // Opened while the folded result is still being worked out: it stays open.
    QCOMPARE(proxy.index(10, 0).data().toString(), QStringLiteral("record 4"));
    QVERIFY(proxy.setData(proxy.index(10, 0), false, ConsoleFilterModel::FoldRole));
    QTRY_COMPARE(applied.count(), 1);
    for (int k = 3; k >= 0; --k)
        expected.insert(5, QStringLiteral("    part %1").arg(k));
    QCOMPARE(texts(proxy), expected);
    QCOMPARE(proxy.index(4, 0).data(ConsoleFilterModel::FoldRole).toInt(), int(ConsoleFilterModel::Open));
    QCOMPARE(proxy.index(4, 0).data(ConsoleFilterModel::RecordLinesRole).toInt(), 4);
    proxy.setFoldRecords(false);
    QTRY_COMPARE(applied.count(), 2);
    QCOMPARE(proxy.rowCount(), console.rowCount());

    // The scan also says which record is still open: a line that continues it joins it.
    console.appendLines({line(seq, "    part 4", LogLevel::Info, {}, {}, lines.last().ts + 1)});
    console.flush();
    const int last = proxy.rowCount() - 1;
    QCOMPARE(proxy.index(last - 5, 0).data().toString(), QStringLiteral("record 7999"));
    QCOMPARE(proxy.index(last - 5, 0).data(ConsoleFilterModel::RecordLinesRole).toInt(), 5);
    QVERIFY(proxy.setData(proxy.index(last - 5, 0), true, ConsoleFilterModel::FoldRole));
    QCOMPARE(proxy.rowCount(), last - 4);
    console.appendLines({line(seq + 1, "    part 5", LogLevel::Info, {}, {}, lines.last().ts + 2)});
    console.flush();
    QCOMPARE(proxy.rowCount(), last - 4);
    QCOMPARE(proxy.index(last - 5, 0).data(ConsoleFilterModel::RecordLinesRole).toInt(), 6);
}

QTEST_GUILESS_MAIN(TestConsoleModel)
#include "tst_consolemodel.moc"
