// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/engine/wire.h"
#include "server/store/logstore.h"

#include <QTest>

#include <limits>

class TestWire : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void appendLine_data();
    void appendLine();
};

void TestWire::appendLine_data()
{
    QTest::addColumn<qint64>("seq");
    QTest::addColumn<qint64>("ts");
    QTest::addColumn<QByteArray>("source");
    QTest::addColumn<QByteArray>("text");

    constexpr qint64 lowest = std::numeric_limits<qint64>::min();
    QTest::addRow("plain") << qint64(1) << qint64(1763773200123) << QByteArray("main") << QByteArray("hello");
    QTest::addRow("empty") << qint64(1) << qint64(0) << QByteArray() << QByteArray();
    // Found by fuzz_message: the longest numbers and level, with strings that are
    // all escapes, were written past the room reserved for the line.
    QTest::addRow("longest numbers, escaped strings")
        << lowest << lowest << QByteArrayLiteral("\x01") << QByteArrayLiteral("\x01");
    QTest::addRow("largest seq, escaped strings")
        << Protocol::MaxSeq << lowest << QByteArray(40, '\x1f') << QByteArray(100, '\x02');
}

void TestWire::appendLine()
{
    QFETCH(qint64, seq);
    QFETCH(qint64, ts);
    QFETCH(QByteArray, source);
    QFETCH(QByteArray, text);
    for (const LogLevel level : {LogLevel::Info, LogLevel::Critical}) {
        LogLine line;
        line.seq = seq;
        line.ts = ts;
        line.stream = Protocol::Stream::Stderr;
        line.level = level;
        line.source = source;
        line.text = text;
        QByteArray out = "[";
        Wire::appendLine(out, line);
        out += ']';
        Json::Document doc;
        QString error;
        QVERIFY2(doc.parse(out, &error), qPrintable(error));
        const Json::Value read = *doc.root().items().begin();
        QCOMPARE(read["seq"].toInteger(), seq);
        QCOMPARE(read["ts"].toInteger(), ts);
        QCOMPARE(read["stream"].toUtf8().toByteArray(), QByteArray("stderr"));
        QCOMPARE(read["level"].toUtf8().toByteArray(), logLevelName(level).toByteArray());
        QCOMPARE(read["source"].toUtf8().toByteArray(), source);
        QCOMPARE(read["text"].toUtf8().toByteArray(), text);
    }
}

QTEST_GUILESS_MAIN(TestWire)
#include "tst_wire.moc"
