// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/consolefiltermodel.h"
#include "models/consolemodel.h"
#include "support/windowtests.h"
#include "ui/ansi.h"
#include "ui/consolepane.h"
#include "ui/consoleview.h"
#include "ui/linedetaildialog.h"

#include <QApplication>
#include <QClipboard>
#include <QDateTime>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollBar>
#include <QSignalSpy>
#include <QTest>
#include <QToolButton>

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

/// A 600×300 view of the model, on screen.
bool showView(ConsoleView& view, QAbstractItemModel* model)
{
    view.resize(600, 300);
    view.setModel(model);
    view.show();
    return QTest::qWaitForWindowExposed(&view);
}

} // namespace

class TestConsoleView : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void followsTheNewestLine();
    void keepsTheReadersPlace();
    void ansiColours();
    void ansiMalformed();
    void selectsWithTheMouseAndCopies();
    void selectionFollowsItsRows();
    void rowText();
    void currentMatchIsBroughtIntoView();
    void searchExpression();
    void longLinesScrollSideways();
    void partialLineIsALiveRow();
    void wrapsLongLines();
    void doubleClickShowsTheLineInFull();
    void foldsARecordIntoOneRow();
    void screenshots();
};

void TestConsoleView::followsTheNewestLine()
{
    ConsoleModel console;
    ConsoleView view;
    QVERIFY(showView(view, &console));
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
    QVERIFY(showView(view, &console));
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

void TestConsoleView::ansiColours()
{
    QList<Ansi::Run> runs;
    const QString text = QStringLiteral("\x1b[1;31mERROR\x1b[0m disk \x1b[38;5;208mfull\x1b[39m, "
                                        "\x1b[38;2;10;20;30;48;5;4mtrue\x1b[m end");
    QCOMPARE(Ansi::strip(text, &runs), QStringLiteral("ERROR disk full, true end"));
    QCOMPARE(runs.size(), 3);
    QCOMPARE(runs[0].begin, 0);
    QCOMPARE(runs[0].length, 5);
    QVERIFY(runs[0].bold);
    QVERIFY(runs[0].foreground.red() > 150 && runs[0].foreground.green() < 100);
    QCOMPARE(runs[1].begin, 11);
    QCOMPARE(runs[1].length, 4);
    QCOMPARE(runs[1].foreground, QColor(255, 135, 0)); // 208 in the 6x6x6 cube
    QVERIFY(!runs[1].bold);
    QCOMPARE(runs[2].begin, 17);
    QCOMPARE(runs[2].foreground, QColor(10, 20, 30));
    QVERIFY(runs[2].background.isValid());

    // The basic colours are lighter on a dark base.
    QList<Ansi::Run> dark;
    Ansi::strip(QStringLiteral("\x1b[34mblue"), &dark, true);
    QList<Ansi::Run> light;
    Ansi::strip(QStringLiteral("\x1b[34mblue"), &light, false);
    QVERIFY(dark[0].foreground.lightness() > light[0].foreground.lightness());

    // Text without escapes comes back as it is, with no runs.
    runs.clear();
    QCOMPARE(Ansi::strip(QStringLiteral("plain"), &runs), QStringLiteral("plain"));
    QVERIFY(runs.isEmpty());
}

void TestConsoleView::ansiMalformed()
{
    // Cursor moves, erasing, window titles and broken sequences leave only the text.
    QCOMPARE(Ansi::strip(QStringLiteral("\x1b[2K\x1b[1Gprogress 40%")), QStringLiteral("progress 40%"));
    QCOMPARE(Ansi::strip(QStringLiteral("\x1b]0;my title\x07"
                                        "after")),
             QStringLiteral("after"));
    QCOMPARE(Ansi::strip(QStringLiteral("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\")), QStringLiteral("link"));
    QCOMPARE(Ansi::strip(QStringLiteral("cut \x1b[31")), QStringLiteral("cut "));
    QCOMPARE(Ansi::strip(QStringLiteral("lone \x1b")), QStringLiteral("lone "));
    QCOMPARE(Ansi::strip(QStringLiteral("\x1b[38;5mhalf")), QStringLiteral("half"));
    QCOMPARE(Ansi::strip(QStringLiteral("\x1b(Bcharset")), QStringLiteral("charset"));
    QCOMPARE(Ansi::strip(QStringLiteral("\x1b]unterminated title")), QString());
    QList<Ansi::Run> runs;
    QCOMPARE(Ansi::strip(QStringLiteral("\x1b[999;38;2;1mx"), &runs), QStringLiteral("x"));
}

void TestConsoleView::selectsWithTheMouseAndCopies()
{
    ConsoleModel console;
    QList<Link::ConsoleLine> lines;
    for (qint64 seq = 1; seq <= 100; ++seq)
        lines.append(line(seq, "\x1b[32mline\x1b[0m " + QByteArray::number(seq)));
    console.appendLines(lines);
    console.flush();
    ConsoleView view;
    QVERIFY(showView(view, &console));
    view.verticalScrollBar()->setValue(10);
    QSignalSpy changed(&view, &ConsoleView::selectionChanged);

    // Press on the first row on screen, drag to the third.
    const int h = view.lineHeight();
    QWidget* port = view.viewport();
    QTest::mousePress(port, Qt::LeftButton, {}, QPoint(50, h / 2));
    QTest::mouseMove(port, QPoint(60, h * 2 + h / 2));
    QTest::mouseRelease(port, Qt::LeftButton, {}, QPoint(60, h * 2 + h / 2));
    QCOMPARE(view.selection(), std::pair(10, 12));
    QVERIFY(changed.count() >= 2);

    // Shift+click extends it.
    QTest::mouseClick(port, Qt::LeftButton, Qt::ShiftModifier, QPoint(50, h * 4 + h / 2));
    QCOMPARE(view.selection(), std::pair(10, 14));

    // Ctrl+C copies the rows as plain lines, without escapes.
    view.setFocus();
    QTest::keyClick(&view, Qt::Key_C, Qt::ControlModifier);
    const QStringList copied = QApplication::clipboard()->text().split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(copied.size(), 5);
    QVERIFY2(copied.first().endsWith(QLatin1String("INFO     line 11")), qPrintable(copied.first()));
    QVERIFY(copied.last().endsWith(QLatin1String("line 15")));

    // Ctrl+A takes everything; Escape lets go.
    QTest::keyClick(&view, Qt::Key_A, Qt::ControlModifier);
    QCOMPARE(view.selection(), std::pair(0, 99));
    QTest::keyClick(&view, Qt::Key_Escape);
    QVERIFY(!view.hasSelection());

    // Dragging past the bottom edge scrolls and keeps selecting.
    view.verticalScrollBar()->setValue(0);
    QTest::mousePress(port, Qt::LeftButton, {}, QPoint(50, h / 2));
    QMouseEvent below(QEvent::MouseMove, QPointF(50, port->height() + 40),
                      port->mapToGlobal(QPointF(50, port->height() + 40)), Qt::NoButton, Qt::LeftButton,
                      Qt::NoModifier);
    QApplication::sendEvent(port, &below);
    QTRY_VERIFY(view.firstVisibleRow() > 5);
    QTest::mouseRelease(port, Qt::LeftButton, {}, QPoint(50, port->height() - 1));
    QVERIFY(view.selection().second > port->height() / h);
}

void TestConsoleView::selectionFollowsItsRows()
{
    ConsoleModel console;
    console.setMaxLines(100);
    fill(console, 1, 100);
    ConsoleView view;
    QVERIFY(showView(view, &console));
    view.setSelection(40, 44);
    QCOMPARE(view.selectedText().count(QLatin1Char('\n')), 5);
    // 30 old lines leave: the same lines stay selected.
    fill(console, 101, 130);
    QCOMPARE(view.selection(), std::pair(10, 14));
    QVERIFY(view.selectedText().startsWith(view.rowText(console.index(10, 0))));
    QVERIFY(view.selectedText().contains(QLatin1String("line 41\n")));
    // The selected lines themselves leave: nothing is selected.
    fill(console, 131, 160);
    QVERIFY(!view.hasSelection());
    // A reset drops the selection.
    view.setSelection(1, 2);
    console.clear();
    QVERIFY(!view.hasSelection());
}

void TestConsoleView::rowText()
{
    ConsoleModel console;
    Link::ConsoleLine l = line(1, "\x1b[31mdisk full\x1b[0m", LogLevel::Error, Protocol::Stream::Stderr);
    l.source = "store.disk";
    console.appendLines({l});
    console.appendGap(2, 11, QStringLiteral("evicted"));
    console.appendMark(QStringLiteral("c1"), QStringLiteral("restart"));
    console.flush();
    console.setMarkResult(QStringLiteral("c1"), QStringLiteral("restarted"), ConsoleModel::MarkOk);
    const QString time = QDateTime::fromMSecsSinceEpoch(1763773200000 + 137).toString(QStringLiteral("HH:mm:ss.zzz"));
    QCOMPARE(ConsoleView::rowText(console.index(0, 0)), time + QStringLiteral(" ERROR    store.disk disk full"));
    QVERIFY(ConsoleView::rowText(console.index(1, 0)).contains(QLatin1String("GAP      ")));
    QVERIFY(ConsoleView::rowText(console.index(1, 0)).contains(QLatin1String("10")));
    QVERIFY2(ConsoleView::rowText(console.index(2, 0)).endsWith(QLatin1String("> restart  [ok: restarted]")),
             qPrintable(ConsoleView::rowText(console.index(2, 0))));
}

void TestConsoleView::currentMatchIsBroughtIntoView()
{
    ConsoleModel console;
    fill(console, 1, 1000);
    ConsoleView view;
    QVERIFY(showView(view, &console));
    QVERIFY(view.isFollowing());
    view.setCurrentMatch(100);
    QVERIFY(!view.isFollowing());
    const int visible = view.viewport()->height() / view.lineHeight();
    QVERIFY(view.firstVisibleRow() <= 100 && view.firstVisibleRow() + visible > 100);
    QCOMPARE(view.currentMatchRow(), 100);
    // New lines do not move it.
    fill(console, 1001, 1010);
    QCOMPARE(view.currentMatchRow(), 100);
}

void TestConsoleView::searchExpression()
{
    QString error;
    const QRegularExpression plain = ConsoleView::searchExpression(QStringLiteral("a.b"), false, false, false);
    QVERIFY(plain.match(QStringLiteral("xA.Bx")).hasMatch());
    QVERIFY(!plain.match(QStringLiteral("aXb")).hasMatch());
    const QRegularExpression word = ConsoleView::searchExpression(QStringLiteral("page"), true, true, false);
    QVERIFY(word.match(QStringLiteral("on page 3")).hasMatch());
    QVERIFY(!word.match(QStringLiteral("pages")).hasMatch());
    QVERIFY(!word.match(QStringLiteral("PAGE")).hasMatch());
    const QRegularExpression bad = ConsoleView::searchExpression(QStringLiteral("(open"), false, false, true, &error);
    QVERIFY(!bad.isValid());
    QVERIFY(!error.isEmpty());
    QVERIFY(ConsoleView::searchExpression(QString(), false, false, false).pattern().isEmpty());
}

void TestConsoleView::longLinesScrollSideways()
{
    ConsoleModel console;
    ConsoleView view;
    QVERIFY(showView(view, &console));
    fill(console, 1, 50);
    QTRY_COMPARE(view.horizontalScrollBar()->maximum(), 0);
    console.appendLines({line(51, "wide " + QByteArray(2000, 'x') + " end")});
    console.flush();
    // The widest line painted sets how far the view scrolls sideways.
    QTRY_VERIFY(view.horizontalScrollBar()->maximum() > view.fontMetrics().averageCharWidth() * 1500);
    QVERIFY(view.isFollowing());
    view.horizontalScrollBar()->setValue(view.horizontalScrollBar()->maximum());
    // Scrolling sideways is no scrolling up: the view still follows new lines.
    QVERIFY(view.isFollowing());
    fill(console, 52, 60);
    QCOMPARE(view.firstVisibleRow(), 60 - view.viewport()->height() / view.lineHeight());
}

void TestConsoleView::wrapsLongLines()
{
    ConsoleModel console;
    ConsolePane pane(&console, QStringLiteral("local"), QStringLiteral("bot"));
    pane.resize(700, 400);
    pane.show();
    QVERIFY(QTest::qWaitForWindowExposed(&pane));
    ConsoleView* view = pane.view();
    fill(console, 1, 100);
    console.appendLines({line(101, "wide " + QByteArray(600, 'x') + " \x1b[31mred end\x1b[0m")});
    console.flush();
    QCOMPARE(view->rowLines(console.index(100, 0)), 1);
    const int visibleLines = view->viewport()->height() / view->lineHeight();
    QCOMPARE(view->firstVisibleRow(), 101 - visibleLines);

    // The pane's Wrap button: the wide line takes several screen lines, all on screen.
    auto* wrap = pane.findChild<QToolButton*>(QStringLiteral("wrapButton"));
    QVERIFY(wrap);
    wrap->click();
    QVERIFY(view->wrapLines());
    const int lines = view->rowLines(console.index(100, 0));
    const int perLine = int((view->viewport()->width() - view->textLeft(console.index(100, 0)) - 4)
                            / QFontMetricsF(view->font()).horizontalAdvance(QLatin1Char('x')));
    QCOMPARE(lines, (5 + 600 + 8 + perLine - 1) / perLine);
    QVERIFY(lines >= 5);
    QVERIFY(view->isFollowing());
    QCOMPARE(view->firstVisibleRow(), 101 - (visibleLines - lines + 1));
    // Every screen line of the wrapped row is painted, the last one included.
    const QImage image = view->viewport()->grab().toImage();
    const int top = (100 - view->firstVisibleRow()) * view->lineHeight();
    for (int k = 0; k < lines; ++k) {
        const int y0 = top + k * view->lineHeight();
        const QRgb background = image.pixel(1, y0 + 1);
        int inked = 0;
        for (int y = y0; y < y0 + view->lineHeight(); ++y) {
            for (int x = view->textLeft(console.index(100, 0)); x < image.width(); ++x)
                inked += image.pixel(x, y) != background ? 1 : 0;
        }
        QVERIFY2(inked > 5, qPrintable(QStringLiteral("screen line %1 of %2 is empty").arg(k + 1).arg(lines)));
    }
    // A click on any of its screen lines is on that row.
    QCOMPARE(view->rowAt(top + (lines - 1) * view->lineHeight() + 2), 100);
    QCOMPARE(view->rowAt(top - 2), 99);
    QVERIFY(pane.state().value(QStringLiteral("wrap")).toBool());
    QVERIFY(pane.grab().save(QStringLiteral(AGENTDECK_BINARY_DIR "/consoleview-wrapped.png")));

    // Off again: one line a row, scrolled sideways; a restored state brings wrapping back.
    wrap->click();
    QCOMPARE(view->rowLines(console.index(100, 0)), 1);
    QCOMPARE(view->firstVisibleRow(), 101 - visibleLines);
    pane.restoreState({{QStringLiteral("wrap"), true}});
    QVERIFY(view->wrapLines());
}

void TestConsoleView::partialLineIsALiveRow()
{
    ConsoleModel console;
    ConsolePane pane(&console, QStringLiteral("local"), QStringLiteral("bot"));
    pane.resize(700, 300);
    pane.show();
    QVERIFY(QTest::qWaitForWindowExposed(&pane));
    ConsoleView* view = pane.view();
    fill(console, 1, 100);
    const int visible = view->viewport()->height() / view->lineHeight();
    QCOMPARE(view->firstVisibleRow(), 100 - visible);

    // A progress bar rewrites its line: one live row after the last line, replaced in place.
    Link::ConsoleLine progress = line(0, "downloading  12%");
    progress.partial = true;
    console.appendLines({progress});
    console.flush();
    QTRY_COMPARE(view->partialLine(), QStringLiteral("downloading  12%"));
    QCOMPARE(view->firstVisibleRow(), 101 - visible);
    progress.text = "downloading  87%";
    console.appendLines({progress});
    console.flush();
    QTRY_COMPARE(view->partialLine(), QStringLiteral("downloading  87%"));
    QCOMPARE(view->firstVisibleRow(), 101 - visible);
    // It is painted in the last row on screen.
    const QImage image = view->viewport()->grab().toImage();
    const int y = (100 - view->firstVisibleRow()) * view->lineHeight() + view->lineHeight() / 2;
    const QRgb background = image.pixel(image.width() - 2, y);
    int inked = 0;
    for (int x = 0; x < image.width() / 2; ++x)
        inked += image.pixel(x, y) != background ? 1 : 0;
    QVERIFY2(inked > 20, qPrintable(QString::number(inked)));

    // The complete line takes its place.
    console.appendLines({line(101, "downloaded 100%")});
    console.flush();
    QTRY_VERIFY(view->partialLine().isEmpty());
    QCOMPARE(view->firstVisibleRow(), 101 - visible);
    QCOMPARE(console.index(100, 0).data().toString(), QStringLiteral("downloaded 100%"));
}

void TestConsoleView::doubleClickShowsTheLineInFull()
{
    ConsoleModel console;
    ConsolePane pane(&console, QStringLiteral("local"), QStringLiteral("bot"));
    pane.resize(700, 300);
    pane.show();
    QVERIFY(QTest::qWaitForWindowExposed(&pane));
    const QByteArray wide = "Traceback: " + QByteArray(5000, 'y') + " \x1b[31mthe end\x1b[0m";
    console.appendLines({line(1, "first"), line(2, wide, LogLevel::Error, Protocol::Stream::Stderr)});
    console.flush();
    ConsoleView* view = pane.view();
    QSignalSpy activated(view, &ConsoleView::lineActivated);
    const int y = (1 - view->firstVisibleRow()) * view->lineHeight() + view->lineHeight() / 2;
    QTest::mouseDClick(view->viewport(), Qt::LeftButton, {}, QPoint(40, y));
    QCOMPARE(activated.count(), 1);
    QCOMPARE(activated.at(0).at(0).toInt(), 1);
    auto* dialog = pane.findChild<LineDetailDialog*>();
    QVERIFY(dialog);
    QVERIFY(dialog->isVisible());
    // The whole text, colour codes removed, and every field.
    QCOMPARE(dialog->text(), QString::fromUtf8("Traceback: " + QByteArray(5000, 'y') + " the end"));
    const QString all = dialog->allFields();
    for (const QString& field : {QStringLiteral("Level: ERROR"), QStringLiteral("Stream: stderr"),
                                 QStringLiteral("Number: 2"), QStringLiteral("Time: 2025-11-22 ")}) {
        QVERIFY2(all.contains(field), qPrintable(all.left(300)));
    }
    dialog->findChild<QPushButton*>(QStringLiteral("copyAll"))->click();
    QCOMPARE(QApplication::clipboard()->text(), all);
    dialog->findChild<QPushButton*>(QStringLiteral("copyText"))->click();
    QCOMPARE(QApplication::clipboard()->text(), dialog->text());
    dialog->close();
}

void TestConsoleView::foldsARecordIntoOneRow()
{
    ConsoleModel console;
    ConsolePane pane(&console, QStringLiteral("local"), QStringLiteral("bot"));
    pane.resize(760, 300);
    pane.show();
    QVERIFY(QTest::qWaitForWindowExposed(&pane));
    const QByteArray record[] = {"2025-11-22 10:00:00 | ERROR | fetch failed",
                                 "Traceback (most recent call last):", "  File \"bot.py\", line 42, in fetch",
                                 "    data = page['results']", "KeyError: 'results'"};
    QList<Link::ConsoleLine> lines{line(1, "connected")};
    for (const QByteArray& text : record)
        lines.append(line(lines.size() + 1, text, LogLevel::Error, Protocol::Stream::Stderr));
    lines.append(line(7, "retrying in 5 s", LogLevel::Warning));
    console.appendLines(lines);
    console.flush();
    ConsoleView* view = pane.view();
    QAbstractItemModel* shown = view->model();
    QCOMPARE(shown->rowCount(), 7);
    const auto rowY = [view](int row) {
        return (row - view->firstVisibleRow()) * view->lineHeight() + view->lineHeight() / 2;
    };

    // A click on the fold marker of the record's first line folds it into that line.
    QCOMPARE(shown->index(1, 0).data(ConsoleFilterModel::FoldRole).toInt(), int(ConsoleFilterModel::Open));
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, QPoint(8, rowY(1)));
    QCOMPARE(shown->rowCount(), 3);
    QCOMPARE(shown->index(1, 0).data(ConsoleFilterModel::FoldRole).toInt(), int(ConsoleFilterModel::Folded));
    QVERIFY(!view->hasSelection()); // the click was on the marker, not on the line
    // The folded line shows how many lines it holds: blue ink after its text.
    const QImage image = view->viewport()->grab().toImage();
    const QColor link = view->palette().color(QPalette::Link);
    int linkInk = 0;
    for (int x = view->textLeft(shown->index(1, 0)); x < image.width(); ++x) {
        for (int y = rowY(1) - 3; y <= rowY(1) + 3; ++y) {
            const QColor c = image.pixelColor(x, y);
            linkInk +=
                std::abs(c.red() - link.red()) + std::abs(c.green() - link.green()) + std::abs(c.blue() - link.blue())
                < 60;
        }
    }
    QVERIFY2(linkInk > 10, qPrintable(QString::number(linkInk)));

    // Copied, the folded record is whole.
    view->setSelection(1, 1);
    view->copy();
    const QStringList copied = QApplication::clipboard()->text().split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(copied.size(), 5);
    QVERIFY(copied.last().endsWith(QStringLiteral("KeyError: 'results'")));
    // Shown in full, it is the whole record.
    LineDetailDialog* dialog = pane.openLineDetail(1);
    QVERIFY(dialog);
    QCOMPARE(dialog->text().split(QLatin1Char('\n')).size(), 5);
    QVERIFY(dialog->allFields().contains(QStringLiteral("Lines: 5")));
    dialog->close();

    // A search that finds a line inside the folded record opens it.
    pane.showSearch();
    auto* edit = pane.findChild<QLineEdit*>(QStringLiteral("searchEdit"));
    edit->setText(QStringLiteral("KeyError"));
    QTest::keyClick(edit, Qt::Key_Return);
    QCOMPARE(shown->rowCount(), 7);
    QCOMPARE(view->currentMatchRow(), 5);
    pane.hideSearch();

    // The Fold button folds every record, and the pane remembers it.
    auto* fold = pane.findChild<QToolButton*>(QStringLiteral("foldButton"));
    QVERIFY(fold);
    fold->click();
    QTRY_COMPARE(shown->rowCount(), 3);
    QVERIFY(pane.state().value(QStringLiteral("fold")).toBool());
    // Lines that continue the folded record while it is folded join it.
    console.appendLines(
        {line(8, "2025-11-22 10:00:07 | ERROR | still failing", LogLevel::Error, Protocol::Stream::Stderr),
         line(9, "  attempt 2 of 3", LogLevel::Error, Protocol::Stream::Stderr)});
    console.flush();
    QCOMPARE(shown->rowCount(), 4);
    QCOMPARE(shown->index(3, 0).data(ConsoleFilterModel::RecordLinesRole).toInt(), 1);
    // ...and a click on the line count opens it again.
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, QPoint(view->textLeft(shown->index(1, 0)) - 4, rowY(1)));
    QCOMPARE(shown->rowCount(), 4); // not on the count: nothing opened
    const int countX =
        view->textLeft(shown->index(1, 0)) + view->fontMetrics().horizontalAdvance(QString::fromUtf8(record[0])) + 14;
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, QPoint(countX, rowY(1)));
    QCOMPARE(shown->rowCount(), 8);

    for (const bool dark : {false, true}) {
        applyPalette(dark);
        QCoreApplication::processEvents();
        QVERIFY(pane.grab().save(screenshotPath(dark ? QStringLiteral("fold-dark") : QStringLiteral("fold-light"))));
    }
    applyPalette(false);
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
    Link::ConsoleLine coloured = line(9, "\x1b[32m✓ done\x1b[0m: 17 results, \x1b[1;33m3 skipped\x1b[0m");
    coloured.source = "query.search";
    console.appendLines({coloured});
    console.appendGap(10, 108, QStringLiteral("evicted"));
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
        view.setHighlight(ConsoleView::searchExpression(QStringLiteral("results"), false, false, false));
        view.setCurrentMatch(8);
        view.setSelection(1, 2);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        const QString path = QStringLiteral(AGENTDECK_BINARY_DIR "/consoleview-%1.png")
                                 .arg(dark ? QStringLiteral("dark") : QStringLiteral("light"));
        QVERIFY(view.grab().save(path));
    }
}

QTEST_MAIN(TestConsoleView)
#include "tst_consoleview.moc"
