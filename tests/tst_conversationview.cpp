// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/conversationlistmodel.h"
#include "models/fleet.h"
#include "models/forummodel.h"
#include "support/windowtests.h"
#include "ui/conversationview.h"
#include "ui/emptyhint.h"
#include "ui/mainwindow.h"

#include <QAbstractItemModelTester>
#include <QAbstractTextDocumentLayout>
#include <QApplication>
#include <QClipboard>
#include <QDir>
#include <QFile>
#include <QListView>
#include <QPushButton>
#include <QRegularExpression>
#include <QScrollBar>
#include <QStringListModel>
#include <QStyle>
#include <QTabBar>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBlock>
#include <QTextDocument>
#include <QTextList>
#include <QTextTable>

#include <memory>

using namespace Qt::StringLiterals;

namespace {

const QString HostA = QStringLiteral("local");
const QString HostB = QStringLiteral("ws://127.0.0.1:7700");
const QDateTime Day(QDate(2025, 11, 14), QTime(14, 0));
const qint64 T0 = Day.toMSecsSinceEpoch();
constexpr qint64 Minute = 60 * 1000;

Link::ForumMessage message(qint64 seq, qint64 ts, const QString& text, const QString& sender,
                           const QString& role = QStringLiteral("agent"))
{
    Link::ForumMessage m;
    m.seq = seq;
    m.ts = ts;
    m.sender = sender;
    m.role = role;
    m.text = text;
    return m;
}

Link::Event forum(const QString& agent, const QList<Link::ForumMessage>& messages)
{
    Link::Event event;
    event.type = Link::Event::Type::Forum;
    event.agent = agent;
    event.messages = messages;
    return event;
}

/// BettaFish's forum log as its bridge turns it into messages: one agent, senders by source.
QList<Link::ForumMessage> bettaFishForum()
{
    QFile file(QStringLiteral(AGENTDECK_SOURCE_DIR "/tests/data/forum.log"));
    if (!file.open(QIODevice::ReadOnly))
        return {};
    static const QRegularExpression line(QStringLiteral("^\\[(\\d\\d):(\\d\\d):(\\d\\d)\\] \\[([A-Z]+)\\] (.*)$"));
    QList<Link::ForumMessage> messages;
    for (const QString& text : QString::fromUtf8(file.readAll()).split(u'\n')) {
        const QRegularExpressionMatch m = line.match(text);
        if (!m.hasMatch())
            continue;
        const QString source = m.captured(4);
        const qint64 ts =
            QDateTime(Day.date(), QTime(m.captured(1).toInt(), m.captured(2).toInt(), m.captured(3).toInt()))
                .toMSecsSinceEpoch();
        QString body = m.captured(5);
        body.replace(QStringLiteral("\\n"), QStringLiteral("\n"));
        Link::ForumMessage entry = message(messages.size() + 1, ts, body, source + QStringLiteral(" Engine"));
        entry.source = source;
        if (source == QLatin1String("HOST")) {
            entry.role = QStringLiteral("host");
            entry.sender = QStringLiteral("Forum Host");
        } else if (source == QLatin1String("SYSTEM")) {
            entry.role = QStringLiteral("system");
            entry.sender = QStringLiteral("ForumEngine");
            entry.startsConversation = body.contains(QStringLiteral("监控开始"));
        }
        messages.append(entry);
    }
    return messages;
}

QString markdownSample()
{
    return QStringLiteral("# Heading one\n\n"
                          "Some **bold words** and *slanted* with `inline code`.\n\n"
                          "- first item\n- second item\n\n"
                          "| Platform | Share |\n|---|---:|\n| Weibo | 31% |\n| Douyin | 27% |\n\n"
                          "```\nint x = 1;\n```\n\n"
                          "Tags stay text: <b>x</b> and <img src=\"file:///etc/hostname\">\n\n"
                          "<div>\n<script>alert(1)</script>\n</div>\n");
}

QString longMessage(int lines)
{
    QStringList all;
    for (int i = 1; i <= lines; ++i)
        all.append(QStringLiteral("Line %1 of a long report.").arg(i));
    return all.join(QStringLiteral("\n\n"));
}

bool monospace(const QTextCharFormat& format)
{
    return format.fontFixedPitch() || format.fontFamilies().toStringList().contains(u"monospace"_s);
}

/// Pixels of exactly this colour in an image.
int pixelsOf(const QImage& image, QRgb color)
{
    int count = 0;
    const QImage rgb = image.convertToFormat(QImage::Format_RGB32);
    for (int y = 0; y < rgb.height(); ++y) {
        const auto* line = reinterpret_cast<const QRgb*>(rgb.constScanLine(y));
        for (int x = 0; x < rgb.width(); ++x)
            count += (line[x] & 0xffffff) == (color & 0xffffff);
    }
    return count;
}

QStringList texts(const QAbstractItemModel* model)
{
    QStringList result;
    for (int row = 0; row < model->rowCount(); ++row)
        result.append(model->index(row, 0).data(ForumModel::TextRole).toString());
    return result;
}

} // namespace

/// The forum's conversation view: list, chat, markdown, collapse, following, search, copy, export.
class TestConversationView final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void conversationsListed();
    void messagesInTimeOrder();
    void markdownWithoutHtml();
    void longMessageCollapses();
    void followsNewestUnlessScrolledUp();
    void searchAcrossConversations();
    void copyMessage();
    void exportMarkdown();
    void emptyViewsSayWhatWillShow();
    void inMainWindow();

private:
    /// A view shown at a readable size over m_forum.
    ConversationView* show();

    std::unique_ptr<ForumModel> m_forum;
    std::unique_ptr<ConversationView> m_view;
};

void TestConversationView::init()
{
    applyPalette(false);
    m_forum = std::make_unique<ForumModel>();
}

void TestConversationView::cleanup()
{
    m_view.reset();
    m_forum.reset();
}

ConversationView* TestConversationView::show()
{
    m_view = std::make_unique<ConversationView>(m_forum.get());
    m_view->resize(1000, 700);
    m_view->show();
    if (!QTest::qWaitForWindowExposed(m_view.get()))
        return nullptr;
    return m_view.get();
}

void TestConversationView::conversationsListed()
{
    // Host A: two runs (the second marked as the start of a new forum run); host B: one.
    m_forum->applyEvent(HostA,
                        forum(QStringLiteral("query"),
                              {message(1, T0, QStringLiteral("## Opening plan"), QStringLiteral("Query")),
                               message(2, T0 + Minute, QStringLiteral("ok"), QStringLiteral("Query"))}));
    m_forum->applyEvent(
        HostA,
        forum(QStringLiteral("media"), {message(1, T0 + 2 * Minute, QStringLiteral("seen"), QStringLiteral("Media"))}));
    Link::ForumMessage second = message(3, T0 + 3 * Minute, QStringLiteral("**Second run**"), QStringLiteral("Query"));
    second.startsConversation = true;
    m_forum->applyEvent(HostA, forum(QStringLiteral("query"), {second}));
    m_forum->applyEvent(HostB,
                        forum(QStringLiteral("bot"),
                              {message(1, T0 + 4 * Minute, QStringLiteral("From elsewhere"), QStringLiteral("Bot"))}));

    ConversationView* view = show();
    QVERIFY(view);
    QAbstractItemModelTester tester(view->conversations(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    const QAbstractItemModel* list = view->conversationList()->model();
    QCOMPARE(list->rowCount(), 3);
    QCOMPARE(list->index(0, 0).data().toString(), QStringLiteral("From elsewhere"));
    QCOMPARE(list->index(0, 0).data(ConversationListModel::HostKeyRole).toString(), HostB);
    QCOMPARE(list->index(1, 0).data().toString(), QStringLiteral("Second run"));
    const QModelIndex first = list->index(2, 0);
    QCOMPARE(first.data().toString(), QStringLiteral("Opening plan"));
    QCOMPARE(first.data(ConversationListModel::ParticipantsRole).toStringList(), QStringList({u"Query"_s, u"Media"_s}));
    QCOMPARE(first.data(ConversationListModel::CountRole).toInt(), 3);
    QCOMPARE(first.data(ConversationListModel::EndRole).toLongLong()
                 - first.data(ConversationListModel::StartRole).toLongLong(),
             2 * Minute);

    // The newest is shown first; choosing another in the list shows its messages.
    QCOMPARE(view->currentConversation(), list->index(0, 0).data(ConversationListModel::ConversationRole).toInt());
    QCOMPARE(texts(view->messageView()->model()), QStringList({u"From elsewhere"_s}));
    view->conversationList()->setCurrentIndex(first);
    QCOMPARE(view->currentConversation(), first.data(ConversationListModel::ConversationRole).toInt());
    QCOMPARE(texts(view->messageView()->model()), QStringList({u"## Opening plan"_s, u"ok"_s, u"seen"_s}));
}

void TestConversationView::messagesInTimeOrder()
{
    m_forum->applyEvent(HostA,
                        forum(QStringLiteral("query"),
                              {message(1, T0, QStringLiteral("q1"), QStringLiteral("Query")),
                               message(2, T0 + 20000, QStringLiteral("q2"), QStringLiteral("Query"))}));
    ConversationView* view = show();
    QVERIFY(view);
    QCOMPARE(texts(view->messageView()->model()), QStringList({u"q1"_s, u"q2"_s}));
    // The media agent's backlog arrives late: its messages land between the others.
    m_forum->applyEvent(HostA,
                        forum(QStringLiteral("media"),
                              {message(1, T0 + 10000, QStringLiteral("m1"), QStringLiteral("Media")),
                               message(2, T0 + 30000, QStringLiteral("m2"), QStringLiteral("Media"))}));
    QCOMPARE(texts(view->messageView()->model()), QStringList({u"q1"_s, u"m1"_s, u"q2"_s, u"m2"_s}));
    QCOMPARE(view->conversationList()->model()->index(0, 0).data(ConversationListModel::CountRole).toInt(), 4);
    // Another host's messages are not in this conversation.
    m_forum->applyEvent(
        HostB,
        forum(QStringLiteral("query"), {message(1, T0 + 15000, QStringLiteral("other"), QStringLiteral("Query"))}));
    QCOMPARE(texts(view->messageView()->model()), QStringList({u"q1"_s, u"m1"_s, u"q2"_s, u"m2"_s}));
}

void TestConversationView::markdownWithoutHtml()
{
    const std::unique_ptr<QTextDocument> doc = ConversationView::messageDocument(markdownSample(), QFont());
    const QString plain = doc->toPlainText();
    // HTML is text, shown as typed; nothing of it is markup.
    QVERIFY2(plain.contains(QStringLiteral("<b>x</b>")), qPrintable(plain));
    QVERIFY2(plain.contains(QStringLiteral("<img src=\"file:///etc/hostname\">")), qPrintable(plain));
    QVERIFY2(plain.contains(QStringLiteral("<script>alert(1)</script>")), qPrintable(plain));
    QVERIFY(!doc->toHtml().contains(QStringLiteral("<img")));
    // Markdown is formatting: its marks are gone.
    QVERIFY(!plain.contains(QStringLiteral("**")));
    QVERIFY(!plain.contains(QStringLiteral("# Heading")));
    // Each line break of the message is kept.
    const std::unique_ptr<QTextDocument> lines =
        ConversationView::messageDocument(QStringLiteral("**一、事件梳理**\n降价\n\n```\na\nb\n```"), QFont());
    QCOMPARE(lines->toPlainText(), QStringLiteral("一、事件梳理\n降价\na\nb"));

    bool heading = false, bold = false, italic = false, code = false, codeBlock = false, list = false;
    for (QTextBlock block = doc->begin(); block.isValid(); block = block.next()) {
        heading |= block.blockFormat().headingLevel() == 1 && block.text() == QStringLiteral("Heading one");
        list |= block.textList() && block.text() == QStringLiteral("second item");
        codeBlock |= block.text() == QStringLiteral("int x = 1;") && monospace(block.begin().fragment().charFormat());
        for (auto it = block.begin(); !it.atEnd(); ++it) {
            const QTextFragment fragment = it.fragment();
            bold |=
                fragment.text() == QStringLiteral("bold words") && fragment.charFormat().fontWeight() >= QFont::Bold;
            italic |= fragment.text() == QStringLiteral("slanted") && fragment.charFormat().fontItalic();
            code |= fragment.text() == QStringLiteral("inline code") && monospace(fragment.charFormat());
        }
    }
    QVERIFY(heading);
    QVERIFY(bold);
    QVERIFY(italic);
    QVERIFY(code);
    QVERIFY(codeBlock);
    QVERIFY(list);
    QTextTable* table = nullptr;
    for (QTextFrame* frame : doc->rootFrame()->childFrames())
        table = table ? table : qobject_cast<QTextTable*>(frame);
    QVERIFY(table);
    QCOMPARE(table->rows(), 3);
    QCOMPARE(table->columns(), 2);
    QCOMPARE(table->cellAt(2, 0).firstCursorPosition().block().text(), QStringLiteral("Douyin"));
    // Cells line up: the second column starts at one x in every row.
    QTextCursor one = table->cellAt(0, 1).firstCursorPosition();
    QTextCursor three = table->cellAt(2, 1).firstCursorPosition();
    doc->setTextWidth(600);
    QCOMPARE(doc->documentLayout()->blockBoundingRect(one.block()).left(),
             doc->documentLayout()->blockBoundingRect(three.block()).left());

    // The chat shows it: the bubble paints, with the tags as text.
    m_forum->applyEvent(HostA,
                        forum(QStringLiteral("query"), {message(1, T0, markdownSample(), QStringLiteral("Query"))}));
    ConversationView* view = show();
    QVERIFY(view);
    QCOMPARE(view->messageView()->model()->rowCount(), 1);
    QVERIFY(!view->messageView()->viewport()->grab().toImage().isNull());
}

void TestConversationView::longMessageCollapses()
{
    m_forum->applyEvent(HostA,
                        forum(QStringLiteral("query"),
                              {message(1, T0, longMessage(40), QStringLiteral("Query")),
                               message(2, T0 + 1000, QStringLiteral("short"), QStringLiteral("Media"))}));
    ConversationView* view = show();
    QVERIFY(view);
    QListView* chat = view->messageView();
    const QModelIndex longOne = chat->model()->index(0, 0);
    const QModelIndex shortOne = chat->model()->index(1, 0);
    QVERIFY(view->isCollapsible(longOne));
    QVERIFY(!view->isCollapsible(shortOne));
    QVERIFY(!view->isExpanded(longOne));
    const int line = chat->fontMetrics().lineSpacing();
    // Collapsed: about eight lines of text, whatever the estimate was before the first paint.
    QTRY_VERIFY(chat->visualRect(longOne).height() < 14 * line);
    QVERIFY(chat->visualRect(longOne).height() > 8 * line);

    // "Show more" is below the text, at the left of the bubble.
    chat->scrollToTop();
    QTest::qWait(50);
    QRect rect = chat->visualRect(longOne);
    const QPoint showMore(rect.left() + 30, rect.bottom() - 4 - 8 - chat->fontMetrics().height() / 2);
    QTest::mouseClick(chat->viewport(), Qt::LeftButton, {}, showMore);
    QVERIFY(view->isExpanded(longOne));
    QTRY_VERIFY(chat->visualRect(longOne).height() > 40 * line);
    QVERIFY(chat->visualRect(shortOne).height() < 5 * line);

    view->setExpanded(longOne, false);
    QVERIFY(!view->isExpanded(longOne));
    QTRY_VERIFY(chat->visualRect(longOne).height() < 14 * line);
}

void TestConversationView::followsNewestUnlessScrolledUp()
{
    QList<Link::ForumMessage> messages;
    for (int i = 1; i <= 100; ++i)
        messages.append(message(i, T0 + i * 1000, QStringLiteral("message %1").arg(i), QStringLiteral("Query")));
    m_forum->applyEvent(HostA, forum(QStringLiteral("query"), messages));
    ConversationView* view = show();
    QVERIFY(view);
    QScrollBar* bar = view->messageView()->verticalScrollBar();
    auto* button = view->findChild<QPushButton*>(QStringLiteral("newMessagesButton"));
    QVERIFY(button);
    QTRY_VERIFY(bar->maximum() > 0 && bar->value() == bar->maximum());
    QVERIFY(view->isFollowing());

    // At the newest message, new ones are followed.
    m_forum->applyEvent(
        HostA,
        forum(QStringLiteral("query"), {message(101, T0 + 101000, QStringLiteral("next"), QStringLiteral("Query"))}));
    QTRY_COMPARE(bar->value(), bar->maximum());
    QTest::qWait(50);
    QCOMPARE(bar->value(), bar->maximum());
    QVERIFY(button->isHidden());

    // Scrolled up, the reader stays where they are and is told how many came.
    bar->setValue(0);
    QVERIFY(!view->isFollowing());
    QList<Link::ForumMessage> more;
    for (int i = 102; i <= 104; ++i)
        more.append(message(i, T0 + i * 1000, QStringLiteral("later %1").arg(i), QStringLiteral("Query")));
    m_forum->applyEvent(HostA, forum(QStringLiteral("query"), more));
    QTest::qWait(50);
    QCOMPARE(bar->value(), 0);
    QCOMPARE(view->newMessages(), 3);
    QVERIFY(button->isVisible());
    QVERIFY2(button->text().contains(QStringLiteral("3 new")), qPrintable(button->text()));

    QTest::mouseClick(button, Qt::LeftButton);
    QVERIFY(view->isFollowing());
    QCOMPARE(view->newMessages(), 0);
    QVERIFY(button->isHidden());
    QTRY_COMPARE(bar->value(), bar->maximum());
    const QModelIndex last = view->messageView()->model()->index(103, 0);
    QCOMPARE(last.data(ForumModel::TextRole).toString(), QStringLiteral("later 104"));
    QVERIFY(view->messageView()->viewport()->rect().intersects(view->messageView()->visualRect(last)));
}

void TestConversationView::searchAcrossConversations()
{
    QList<Link::ForumMessage> first;
    for (int i = 1; i <= 60; ++i)
        first.append(message(i, T0 + i * 1000,
                             i == 5 || i == 50 ? QStringLiteral("The Price rose") : QStringLiteral("filler %1").arg(i),
                             QStringLiteral("Query")));
    m_forum->applyEvent(HostA, forum(QStringLiteral("query"), first));
    m_forum->applyEvent(HostB,
                        forum(QStringLiteral("bot"),
                              {message(1, T0, QStringLiteral("no match here"), QStringLiteral("Bot")),
                               message(2, T0 + 1000, QStringLiteral("a **price** war"), QStringLiteral("Bot"))}));
    ConversationView* view = show();
    QVERIFY(view);
    const QAbstractItemModel* list = view->conversationList()->model();
    QCOMPARE(list->rowCount(), 2);
    const int a = 0, b = 1; // conversation numbers, in order of their first message's arrival

    view->setSearchText(QStringLiteral("price"));
    QCOMPARE(view->matchCount(), 3);
    // The list shows which conversations match and how often.
    QCOMPARE(list->index(view->conversations()->rowOf(a), 0).data(ConversationListModel::MatchesRole).toInt(), 2);
    QCOMPARE(list->index(view->conversations()->rowOf(b), 0).data(ConversationListModel::MatchesRole).toInt(), 1);
    // The first match is in the newest conversation; the next ones move to the other.
    QCOMPARE(view->currentMatch(), 0);
    QCOMPARE(view->currentConversation(), b);
    QCOMPARE(view->messageView()->currentIndex().data(ForumModel::TextRole).toString(),
             QStringLiteral("a **price** war"));
    view->nextMatch();
    QCOMPARE(view->currentConversation(), a);
    QCOMPARE(view->messageView()->currentIndex().row(), 4);
    view->nextMatch();
    QCOMPARE(view->messageView()->currentIndex().row(), 49);
    QVERIFY(!view->isFollowing());
    // The match is in view, its words marked in the current match's colour.
    QListView* chat = view->messageView();
    QTRY_VERIFY(chat->viewport()->rect().contains(chat->visualRect(chat->currentIndex()).center()));
    QTRY_VERIFY(pixelsOf(chat->viewport()->grab().toImage(), qRgb(255, 150, 50)) > 20);
    view->nextMatch();
    QCOMPARE(view->currentConversation(), b);
    view->previousMatch();
    QCOMPARE(view->currentConversation(), a);
    QCOMPARE(chat->currentIndex().row(), 49);

    // Back up to the first match of this conversation: it is in view and marked.
    view->previousMatch();
    QCOMPARE(chat->currentIndex().row(), 4);
    chat->scrollToTop();
    QTRY_VERIFY(pixelsOf(chat->viewport()->grab().toImage(), qRgb(255, 150, 50)) > 20);

    view->setSearchText(QString());
    QCOMPARE(view->matchCount(), 0);
    QCOMPARE(list->index(0, 0).data(ConversationListModel::MatchesRole).toInt(), 0);
    QCOMPARE(pixelsOf(chat->viewport()->grab().toImage(), qRgb(255, 150, 50)), 0);
    view->setSearchText(QStringLiteral("nowhere"));
    QCOMPARE(view->matchCount(), 0);
}

void TestConversationView::copyMessage()
{
    const QString text = QStringLiteral("**Finding**: 47% negative\n\n- one\n- two");
    m_forum->applyEvent(HostA,
                        forum(QStringLiteral("query"),
                              {message(1, T0, QStringLiteral("first"), QStringLiteral("Query")),
                               message(2, T0 + 1000, text, QStringLiteral("Query"))}));
    ConversationView* view = show();
    QVERIFY(view);
    QListView* chat = view->messageView();
    QApplication::clipboard()->clear();
    QTest::mouseClick(chat->viewport(), Qt::LeftButton, {}, chat->visualRect(chat->model()->index(1, 0)).center());
    QCOMPARE(chat->currentIndex().row(), 1);
    QTest::keyClick(chat, Qt::Key_C, Qt::ControlModifier);
    QCOMPARE(QApplication::clipboard()->text(), text);
    view->copyMessage(chat->model()->index(0, 0));
    QCOMPARE(QApplication::clipboard()->text(), QStringLiteral("first"));
}

void TestConversationView::exportMarkdown()
{
    Link::ForumMessage host = message(2, T0 + 61000, QStringLiteral("**Summary**\n\n1. one\n"),
                                      QStringLiteral("Forum Host"), QStringLiteral("host"));
    m_forum->applyEvent(HostA,
                        forum(QStringLiteral("forum"),
                              {message(1, T0 + 1000, QStringLiteral("## 核心事件概述\nText <b>as is</b>"),
                                       QStringLiteral("QUERY Engine")),
                               host}));
    const QString expected =
        QStringLiteral("# 核心事件概述\n\n"
                       "local · 2025-11-14 14:00:01 – 2025-11-14 14:01:01 · QUERY Engine, Forum Host · 2 messages\n"
                       "\n## QUERY Engine · 2025-11-14 14:00:01\n\n## 核心事件概述\nText <b>as is</b>\n"
                       "\n## Forum Host (moderator) · 2025-11-14 14:01:01\n\n**Summary**\n\n1. one\n");
    QCOMPARE(ConversationView::conversationMarkdown(m_forum.get(), 0), expected);

    ConversationView* view = show();
    QVERIFY(view);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("forum.md"));
    QString error;
    QVERIFY2(view->exportConversation(path, &error), qPrintable(error));
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(QString::fromUtf8(file.readAll()), expected);
    // A place that cannot be written says why.
    QVERIFY(!view->exportConversation(dir.filePath(QStringLiteral("missing/forum.md")), &error));
    QVERIFY(!error.isEmpty());
}

void TestConversationView::emptyViewsSayWhatWillShow()
{
    // Ink in the middle of the view: the hint while there are no rows, nothing once there are.
    const auto inkInMiddle = [](QListView& view) {
        const QImage image = view.viewport()->grab().toImage();
        const QRgb background = image.pixel(2, 2);
        int ink = 0;
        for (int y = image.height() / 3; y < image.height() * 2 / 3; ++y) {
            for (int x = 0; x < image.width(); ++x)
                ink += image.pixel(x, y) != background ? 1 : 0;
        }
        return ink;
    };
    QStringListModel rows;
    QListView view;
    view.setModel(&rows);
    setEmptyHint(&view, QStringLiteral("Nothing here yet"));
    view.resize(300, 200);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    QVERIFY(inkInMiddle(view) > 20);
    rows.setStringList({QStringLiteral("one row")});
    QCOMPARE(inkInMiddle(view), 0);

    // The forum's page, before anything was said.
    ConversationView* page = show();
    for (const bool dark : {false, true}) {
        applyPalette(dark);
        QCoreApplication::processEvents();
        QVERIFY(page->grab().save(
            screenshotPath(dark ? QStringLiteral("forum-empty-dark") : QStringLiteral("forum-empty-light"))));
    }
    applyPalette(false);
}

void TestConversationView::inMainWindow()
{
    Fleet fleet;
    MainWindow window(&fleet);
    window.resize(1600, 900);
    // The forum is a tab beside the consoles, right after "All agents".
    QTabWidget* tabs = window.tabs();
    QCOMPARE(tabs->tabText(1), QStringLiteral("Forum"));
    auto* view = qobject_cast<ConversationView*>(tabs->widget(1));
    QVERIFY(view);
    QCOMPARE(view, window.forumPage());
    QVERIFY(!window.paneAt(1));
    QVERIFY(!tabs->tabBar()->tabButton(1, QTabBar::RightSide)); // it does not close

    // BettaFish's forum, as its bridge reports it, with one agent's backlog arriving late.
    QList<Link::ForumMessage> messages = bettaFishForum();
    QVERIFY(messages.size() >= 15);
    QList<Link::ForumMessage> late;
    for (qsizetype i = messages.size() - 1; i >= 0; --i) {
        if (messages[i].source == QLatin1String("MEDIA"))
            late.prepend(messages.takeAt(i));
    }
    fleet.forum()->applyEvent(HostA, forum(QStringLiteral("bf-forum"), messages));
    Link::Event backlog = forum(QStringLiteral("bf-media"), late);
    fleet.forum()->applyEvent(HostA, backlog);
    fleet.forum()->applyEvent(
        HostA,
        forum(QStringLiteral("bf-insight"),
              {message(1, T0 + 20 * Minute, markdownSample(), QStringLiteral("INSIGHT Engine"))}));

    tabs->setCurrentIndex(1);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    // The discussion, and its end mark, which comes after a pause longer than a conversation's gap.
    QCOMPARE(view->conversations()->rowCount(), 2);
    const QModelIndex discussion = view->conversations()->index(1);
    QVERIFY2(discussion.data().toString().startsWith(QStringLiteral("核心事件概述")),
             qPrintable(discussion.data().toString()));
    view->conversationList()->setCurrentIndex(discussion);
    const QAbstractItemModel* chat = view->messageView()->model();
    // Every message but the end mark, the media engine's late ones among them.
    QCOMPARE(chat->rowCount(), messages.size() - 1 + late.size() + 1);
    for (int row = 1; row < chat->rowCount(); ++row)
        QVERIFY(chat->index(row - 1, 0).data(ForumModel::TimeRole).toLongLong()
                <= chat->index(row, 0).data(ForumModel::TimeRole).toLongLong());
    view->setSearchText(QStringLiteral("价格"));
    QVERIFY(view->matchCount() > 0);
    view->setSearchText(QString());
    // The newest message (markdown with a table and tags) shown in full.
    view->setExpanded(chat->index(chat->rowCount() - 1, 0), true);
    view->jumpToNewest();

    for (const bool dark : {false, true}) {
        applyPalette(dark);
        QTest::qWait(300);
        QVERIFY(
            window.grab().save(screenshotPath(dark ? QStringLiteral("forum-dark") : QStringLiteral("forum-light"))));
    }
    view->setSearchText(QStringLiteral("价格"));
    QTest::qWait(300);
    QVERIFY(window.grab().save(screenshotPath(QStringLiteral("forum-search-dark"))));
    applyPalette(false);
}

QTEST_MAIN(TestConversationView)
#include "tst_conversationview.moc"
