// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/consolemodel.h"
#include "ui/consoleview.h"

#include <QApplication>
#include <QScrollBar>
#include <QSignalSpy>
#include <QTest>

namespace {

Link::ConsoleLine line(qint64 seq, const QByteArray& text, LogLevel level = LogLevel::Info,
                       Protocol::Stream stream = Protocol::Stream::Stdout)
{
    Link::ConsoleLine l;
    l.seq = seq;
    l.ts = 1763773200000 + seq * 137;
    l.level = level;
    l.stream = stream;
    l.text = text;
    return l;
}

void fill(ConsoleModel& console, qint64 from, qint64 to)
{
    QList<Link::ConsoleLine> lines;
    for (qint64 seq = from; seq <= to; ++seq)
        lines.append(line(seq, "line " + QByteArray::number(seq)));
    console.appendLines(lines);
    console.flush();
}

} // namespace

class TestConsoleView : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void followsTheNewestLine();
    void keepsTheReadersPlace();
    void screenshots();
};

void TestConsoleView::followsTheNewestLine()
{
    ConsoleModel console;
    ConsoleView view;
    view.resize(600, 300);
    view.setModel(&console);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    fill(console, 1, 1000);
    QVERIFY(view.isFollowing());
    const int visible = view.viewport()->height() / view.lineHeight();
    QCOMPARE(view.firstVisibleRow(), 1000 - visible);
    fill(console, 1001, 1100);
    QCOMPARE(view.firstVisibleRow(), 1100 - visible);
    QCOMPARE(view.unseenRows(), 0);
}

void TestConsoleView::keepsTheReadersPlace()
{
    ConsoleModel console;
    console.setMaxLines(1000);
    ConsoleView view;
    view.resize(600, 300);
    view.setModel(&console);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    fill(console, 1, 1000);
    QSignalSpy following(&view, &ConsoleView::followingChanged);
    view.verticalScrollBar()->setValue(500); // the reader scrolls up to line 501
    QCOMPARE(following.count(), 1);
    QVERIFY(!view.isFollowing());
    QCOMPARE(view.model()->index(view.firstVisibleRow(), 0).data().toString(), QStringLiteral("line 501"));

    // 200 new lines push the 200 oldest out: the reader still sees line 501 at the top.
    fill(console, 1001, 1200);
    QCOMPARE(view.model()->index(view.firstVisibleRow(), 0).data().toString(), QStringLiteral("line 501"));
    QCOMPARE(view.unseenRows(), 200);

    view.scrollToBottom();
    QVERIFY(view.isFollowing());
    QCOMPARE(view.unseenRows(), 0);
    QCOMPARE(view.model()
                 ->index(view.firstVisibleRow() + view.viewport()->height() / view.lineHeight() - 1, 0)
                 .data()
                 .toString(),
             QStringLiteral("line 1200"));
}

void TestConsoleView::screenshots()
{
    // Every kind of row, in the light and the dark palette.
    ConsoleModel console;
    console.appendLines({line(1, "2025-11-22 10:00:00 | DEBUG | loading config from /etc/bot.yaml", LogLevel::Debug),
                         line(2, "connected to the model server in 212 ms"),
                         line(3, "searching page 3 of 'agent frameworks'"),
                         line(4, "rate limit close: 3 requests left", LogLevel::Warning),
                         line(5, "Traceback (most recent call last):", LogLevel::Error, Protocol::Stream::Stderr),
                         line(6, "  File \"bot.py\", line 42, in fetch", LogLevel::Error, Protocol::Stream::Stderr),
                         line(7, "KeyError: 'results'", LogLevel::Error, Protocol::Stream::Stderr),
                         line(8, "giving up on this source", LogLevel::Critical)});
    console.appendGap(9, 108, QStringLiteral("evicted"));
    console.appendLines({line(109, "back: 17 results, writing summary")});
    console.appendMark(QStringLiteral("c1"), QStringLiteral("pause"));
    console.appendMark(QStringLiteral("c2"), QStringLiteral("signal SIGUSR1"));
    console.flush();
    console.setMarkResult(QStringLiteral("c1"), QStringLiteral("paused"), ConsoleModel::MarkOk);

    for (const bool dark : {false, true}) {
        ConsoleView view;
        QPalette palette = QApplication::palette();
        if (dark) {
            palette.setColor(QPalette::Base, QColor(0x1e, 0x1f, 0x22));
            palette.setColor(QPalette::Window, QColor(0x2b, 0x2d, 0x30));
            palette.setColor(QPalette::Text, QColor(0xdf, 0xe1, 0xe5));
            palette.setColor(QPalette::WindowText, QColor(0xdf, 0xe1, 0xe5));
            palette.setColor(QPalette::Highlight, QColor(0x35, 0x74, 0xf0));
        }
        view.setPalette(palette);
        view.resize(760, 260);
        view.setModel(&console);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        const QString path = QStringLiteral(AGENTDECK_BINARY_DIR "/consoleview-%1.png")
                                 .arg(dark ? QStringLiteral("dark") : QStringLiteral("light"));
        QVERIFY(view.grab().save(path));
    }
}

QTEST_MAIN(TestConsoleView)
#include "tst_consoleview.moc"
