// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/store/forumstore.h"
#include "server/store/logstore.h"

#include <QTest>

/// The per-agent stores: numbering, gaps, and eviction by count and by bytes.
class TestLogStore final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void appendAndRead();
    void adjacentGapsJoinPastTheLimit();
    void separateGapsCountAgainstRetention();
    void evictsByLineCount();
    void evictsByBytes();
    void largeLinesAndChunks();
    void gapsKeptWithTheirLines();
    void indexOfSeqAcrossGaps_data();
    void indexOfSeqAcrossGaps();
    void keepsAtLeastOneLine();
    void forumStoreEvicts();
};

void TestLogStore::appendAndRead()
{
    LogStore store;
    QCOMPARE(store.lastSeq(), 0);
    QCOMPARE(store.firstHeldSeq(), 1);
    store.append(1, 1000, Protocol::Stream::Stdout, LogLevel::Info, "src.a", "hello");
    store.append(2, 1001, Protocol::Stream::Stderr, LogLevel::Error, {}, "boom");
    QCOMPARE(store.lineCount(), 2);
    QCOMPARE(store.lastSeq(), 2);
    QCOMPARE(store.firstHeldSeq(), 1);
    const LogLine first = store.lineAt(0);
    QCOMPARE(first.seq, 1);
    QCOMPARE(first.ts, 1000);
    QCOMPARE(first.source, QByteArrayView("src.a"));
    QCOMPARE(first.text, QByteArrayView("hello"));
    const LogLine second = store.lineAt(1);
    QCOMPARE(second.stream, Protocol::Stream::Stderr);
    QCOMPARE(second.level, LogLevel::Error);
    QVERIFY(second.source.isEmpty());
    QCOMPARE(store.byteSize(), 5 + 5 + 4 + 2 * LogStore::EntryOverhead);
}

void TestLogStore::evictsByLineCount()
{
    LogStore store;
    store.setLimits(100, 1 << 30);
    for (int i = 1; i <= 1000; ++i)
        store.append(i, i, Protocol::Stream::Stdout, LogLevel::Info, {}, QByteArray::number(i));
    QCOMPARE(store.lineCount(), 100);
    QCOMPARE(store.firstHeldSeq(), 901);
    QCOMPARE(store.lineAt(0).text, QByteArrayView("901"));
    QCOMPARE(store.lineAt(99).text, QByteArrayView("1000"));
    // Shrinking the limits evicts at once.
    store.setLimits(10, 1 << 30);
    QCOMPARE(store.lineCount(), 10);
    QCOMPARE(store.firstHeldSeq(), 991);
}

void TestLogStore::evictsByBytes()
{
    LogStore store;
    const QByteArray text(100, 'x');
    const qint64 perLine = text.size() + LogStore::EntryOverhead;
    store.setLimits(1000000, perLine * 50);
    for (int i = 1; i <= 500; ++i)
        store.append(i, i, Protocol::Stream::Stdout, LogLevel::Info, {}, text);
    QCOMPARE(store.lineCount(), 50);
    QVERIFY(store.byteSize() <= perLine * 50);
    QCOMPARE(store.firstHeldSeq(), 451);
}

void TestLogStore::largeLinesAndChunks()
{
    LogStore store;
    store.setLimits(5, 1 << 30);
    // Mix lines smaller and larger than a chunk, and check each reads back whole.
    QList<QByteArray> texts;
    for (int i = 0; i < 40; ++i)
        texts.append(QByteArray(i % 3 == 0 ? 1024 * 1024 : 100 + i, char('a' + i % 26)));
    for (int i = 0; i < texts.size(); ++i) {
        store.append(i + 1, i, Protocol::Stream::Stdout, LogLevel::Info, "s", texts[i]);
        const LogLine newest = store.lineAt(store.lineCount() - 1);
        QCOMPARE(newest.text.toByteArray(), texts[i]);
    }
    QCOMPARE(store.lineCount(), 5);
    for (qsizetype k = 0; k < store.lineCount(); ++k)
        QCOMPARE(store.lineAt(k).text.toByteArray(), texts[35 + k]);
}

void TestLogStore::gapsKeptWithTheirLines()
{
    LogStore store;
    store.setLimits(3, 1 << 30);
    store.append(1, 0, Protocol::Stream::Stdout, LogLevel::Info, {}, "1");
    store.addGap(2, 5, Protocol::GapReason::AgentDropped);
    store.append(6, 0, Protocol::Stream::Stdout, LogLevel::Info, {}, "6");
    store.addGap(7, 7, Protocol::GapReason::RateLimited);
    store.addGap(8, 9, Protocol::GapReason::RateLimited); // joins the previous one
    store.append(10, 0, Protocol::Stream::Stdout, LogLevel::Info, {}, "10");
    QCOMPARE(store.lastSeq(), 10);
    QCOMPARE(store.firstHeldSeq(), 1);
    const SeqGap* gap = store.gaps().firstEndingAtOrAfter(2);
    QVERIFY(gap);
    QCOMPARE(gap->from, 2);
    QCOMPARE(gap->to, 5);
    gap = store.gaps().firstEndingAtOrAfter(6);
    QCOMPARE(gap->from, 7);
    QCOMPARE(gap->to, 9);
    QCOMPARE(gap->reason, Protocol::GapReason::RateLimited);
    // Evicting line 1 keeps the gap right after it known.
    store.append(11, 0, Protocol::Stream::Stdout, LogLevel::Info, {}, "11");
    QCOMPARE(store.firstHeldSeq(), 2);
    // Evicting line 6 forgets the gap 2..5.
    store.append(12, 0, Protocol::Stream::Stdout, LogLevel::Info, {}, "12");
    QCOMPARE(store.firstHeldSeq(), 7);
    QVERIFY(!store.gaps().firstEndingAtOrAfter(2) || store.gaps().firstEndingAtOrAfter(2)->from == 7);
}

void TestLogStore::indexOfSeqAcrossGaps_data()
{
    QTest::addColumn<qint64>("seq");
    QTest::addColumn<qsizetype>("index");
    QTest::addRow("before all") << qint64(0) << qsizetype(0);
    QTest::addRow("first") << qint64(1) << qsizetype(0);
    QTest::addRow("inside gap") << qint64(4) << qsizetype(3);
    QTest::addRow("after gap") << qint64(10) << qsizetype(3);
    QTest::addRow("last") << qint64(12) << qsizetype(5);
    QTest::addRow("beyond") << qint64(13) << qsizetype(6);
}

void TestLogStore::indexOfSeqAcrossGaps()
{
    QFETCH(qint64, seq);
    QFETCH(qsizetype, index);
    LogStore store;
    for (qint64 s : {1, 2, 3})
        store.append(s, 0, Protocol::Stream::Stdout, LogLevel::Info, {}, "x");
    store.addGap(4, 9, Protocol::GapReason::AgentDropped);
    for (qint64 s : {10, 11, 12})
        store.append(s, 0, Protocol::Stream::Stdout, LogLevel::Info, {}, "y");
    QCOMPARE(store.indexOfSeq(seq), index);
}

void TestLogStore::keepsAtLeastOneLine()
{
    LogStore store;
    store.setLimits(10, 64);
    store.append(1, 0, Protocol::Stream::Stdout, LogLevel::Info, {}, QByteArray(1000, 'z'));
    QCOMPARE(store.lineCount(), 1);
    store.append(2, 0, Protocol::Stream::Stdout, LogLevel::Info, {}, QByteArray(1000, 'w'));
    QCOMPARE(store.lineCount(), 1);
    QCOMPARE(store.lineAt(0).seq, 2);
}

void TestLogStore::forumStoreEvicts()
{
    ForumStore store;
    store.setLimits(3, 1 << 20);
    for (int i = 1; i <= 5; ++i)
        store.append(i, "{\"seq\":" + QByteArray::number(i) + '}');
    QCOMPARE(store.size(), 3);
    QCOMPARE(store.firstHeldSeq(), 3);
    QCOMPARE(store.at(0).seq, 3);
    store.addGap(6, 8, Protocol::GapReason::AgentDropped);
    store.append(9, "{}");
    QCOMPARE(store.lastSeq(), 9);
    QCOMPARE(store.size(), 3);
    QCOMPARE(store.indexOfSeq(7), 2); // 4, 5, 9 are held
}

void TestLogStore::adjacentGapsJoinPastTheLimit()
{
    LogStore store;
    store.setLimits(1000, 1 << 20, 4);
    // Reasons alternate, as when a rate-limited agent skips every other number.
    for (qint64 seq = 1; seq <= 100; ++seq)
        store.addGap(seq, seq, seq % 2 ? Protocol::GapReason::RateLimited : Protocol::GapReason::AgentDropped);
    QCOMPARE(store.gaps().size(), 4);
    QCOMPARE(store.firstHeldSeq(), 1);
    QCOMPARE(store.lastSeq(), 100);
    // Every number is still covered, once.
    qint64 next = 1;
    for (const SeqGap* gap = store.gaps().firstEndingAtOrAfter(1); gap;
         gap = store.gaps().firstEndingAtOrAfter(gap->to + 1)) {
        QCOMPARE(gap->from, next);
        next = gap->to + 1;
    }
    QCOMPARE(next, 101);
}

void TestLogStore::separateGapsCountAgainstRetention()
{
    LogStore store;
    store.setLimits(1000, 1 << 20, 3);
    // line, gap, line, gap...: gaps that cannot be joined.
    for (qint64 seq = 1; seq <= 20; seq += 2) {
        store.append(seq, seq, Protocol::Stream::Stdout, LogLevel::Info, {}, "x");
        store.addGap(seq + 1, seq + 1, Protocol::GapReason::AgentDropped);
    }
    QCOMPARE(store.gaps().size(), 3);
    // The oldest numbers went with the gaps: what is held is contiguous from firstHeldSeq().
    QCOMPARE(store.firstHeldSeq(), 15);
    QCOMPARE(store.lineAt(0).seq, 15);
    QCOMPARE(store.gaps().firstEndingAtOrAfter(1)->from, 16);
    QCOMPARE(store.gaps().firstEndingAtOrAfter(17)->from, 18);
}

QTEST_GUILESS_MAIN(TestLogStore)
#include "tst_logstore.moc"
