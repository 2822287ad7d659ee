// SPDX-License-Identifier: GPL-3.0-or-later
// bench_forum: a forum conversation of 10,000 messages in the conversation view.
//
// 1. Open: from choosing the conversation until its newest messages are painted
//    with their exact heights (layout, the settling relayouts, a synchronous paint).
// 2. Scroll: the time of each frame (scroll bar moved by a third of the view, a
//    synchronous repaint, pending events) from the top of the conversation to its
//    end; median and 99th percentile.
// Baseline in the same run: the compact forum dock (ForumView, plain text, a size
// measured for every message) over the same model.
//
// Usage: QT_QPA_PLATFORM=offscreen bench_forum [messages (10000)] [runs (3)]
#include "models/forummodel.h"
#include "ui/conversationview.h"
#include "ui/forumview.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QListView>
#include <QRandomGenerator>
#include <QScrollBar>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

constexpr qint64 T0 = 1763100000000;

double percentile(std::vector<double> values, double p)
{
    std::sort(values.begin(), values.end());
    return values[std::min(values.size() - 1, size_t(double(values.size()) * p))];
}

/// Messages as BettaFish's engines and moderator write them: headings, lists, tables, Chinese and English.
QList<Link::ForumMessage> makeMessages(int count)
{
    static const char* const senders[] = {"QUERY Engine", "MEDIA Engine", "INSIGHT Engine"};
    const QString chinese =
        QStringLiteral("补偿方案发布后12小时内，负面情感占比由47%回落至35%，“价格保护”提及量上升23%。");
    const QString english = QStringLiteral("Short video platforms shift from the price cut to range and features; ");
    QRandomGenerator random(7);
    QList<Link::ForumMessage> messages;
    for (int i = 1; i <= count; ++i) {
        Link::ForumMessage m;
        m.seq = i;
        m.ts = T0 + i * 1000;
        const int kind = int(random.bounded(20));
        if (kind == 0) {
            m.sender = QStringLiteral("Forum Host");
            m.role = QStringLiteral("host");
            QString text;
            for (int section = 1; section <= 4; ++section)
                text += QStringLiteral("**%1. Section**\n- %2\n- %3\n\n").arg(section).arg(chinese, english);
            text += QStringLiteral("| Platform | Share |\n|---|---:|\n| Weibo | 31% |\n| Douyin | 27% |\n");
            m.text = text;
        } else {
            m.sender = QString::fromLatin1(senders[random.bounded(3)]);
            m.role = QStringLiteral("agent");
            QString text = kind < 4 ? QStringLiteral("## 核心发现概述\n") : QString();
            const int sentences = 1 + int(random.bounded(kind < 4 ? 12 : 4));
            for (int s = 0; s < sentences; ++s)
                text += (s % 2 ? english : chinese) + (s % 3 == 2 ? QStringLiteral("\n\n") : QString());
            if (kind == 5)
                text += QStringLiteral("\n1. **负面** 47%\n2. *中性* 35%\n3. `other` 18%");
            m.text = text;
        }
        messages.append(m);
    }
    return messages;
}

/// Paints the view's viewport now and runs what that scheduled, until heights settle.
void settle(QListView* view)
{
    for (int i = 0; i < 6; ++i) {
        QApplication::processEvents();
        view->viewport()->repaint();
    }
}

struct Result
{
    double openMs = 0;
    double frameMedianMs = 0;
    double frameP99Ms = 0;
    int frames = 0;
    double relayoutMs = 0;
};

Result scrollThrough(QListView* view, double openMs)
{
    QScrollBar* bar = view->verticalScrollBar();
    bar->setValue(0);
    settle(view);
    std::vector<double> frames;
    const int step = std::max(1, view->viewport()->height() / 3);
    QElapsedTimer timer;
    for (int value = 0; value <= bar->maximum(); value += step) {
        timer.start();
        bar->setValue(value);
        view->viewport()->repaint();
        QApplication::processEvents();
        frames.push_back(double(timer.nsecsElapsed()) / 1e6);
    }
    return {openMs, percentile(frames, 0.5), percentile(frames, 0.99), int(frames.size())};
}

Result benchConversationView(ForumModel* forum)
{
    ConversationView view(forum);
    view.resize(1400, 900);
    view.show();
    QApplication::processEvents();
    QElapsedTimer timer;
    timer.start();
    view.selectConversation(0);
    settle(view.messageView());
    const double openMs = double(timer.nsecsElapsed()) / 1e6;
    Result result = scrollThrough(view.messageView(), openMs);
    // What a pause in scrolling costs: every row laid out again with the heights found.
    timer.start();
    view.messageView()->doItemsLayout();
    result.relayoutMs = double(timer.nsecsElapsed()) / 1e6;
    return result;
}

Result benchForumDock(ForumModel* forum)
{
    ForumView view;
    view.resize(900, 900);
    view.show();
    QApplication::processEvents();
    QElapsedTimer timer;
    timer.start();
    view.setForumModel(forum);
    settle(&view);
    const double openMs = double(timer.nsecsElapsed()) / 1e6;
    return scrollThrough(&view, openMs);
}

void print(const char* name, const std::vector<Result>& runs)
{
    std::vector<double> open, median, p99, relayout;
    for (const Result& r : runs) {
        open.push_back(r.openMs);
        median.push_back(r.frameMedianMs);
        p99.push_back(r.frameP99Ms);
        relayout.push_back(r.relayoutMs);
    }
    std::printf("%-18s open %7.1f ms  frame median %6.2f ms  p99 %6.2f ms  relayout %6.1f ms  (%d frames, median of "
                "%zu runs)\n",
                name, percentile(open, 0.5), percentile(median, 0.5), percentile(p99, 0.5), percentile(relayout, 0.5),
                runs.front().frames, runs.size());
}

} // namespace

int main(int argc, char** argv)
{
    QApplication app(argc, argv);
    const int count = argc > 1 ? std::atoi(argv[1]) : 10000;
    const int runs = argc > 2 ? std::atoi(argv[2]) : 3;

    ForumModel forum;
    forum.setMaxMessages(count + 10);
    forum.applyEvent(QStringLiteral("local"), [&] {
        Link::Event event;
        event.type = Link::Event::Type::Forum;
        event.agent = QStringLiteral("bf-forum");
        event.messages = makeMessages(count);
        return event;
    }());
    // A second, newer conversation is what the view shows before the long one is chosen.
    Link::Event other;
    other.type = Link::Event::Type::Forum;
    other.agent = QStringLiteral("bot");
    Link::ForumMessage hello;
    hello.seq = 1;
    hello.ts = T0 + qint64(count + 1) * 1000;
    hello.sender = QStringLiteral("Bot");
    hello.text = QStringLiteral("hello");
    other.messages = {hello};
    forum.applyEvent(QStringLiteral("other"), other);
    std::printf("%d messages in conversation 0, %d conversations\n", forum.rowCount() - 1, forum.conversationCount());

    std::vector<Result> dock, conversation;
    for (int run = 0; run < runs; ++run) {
        dock.push_back(benchForumDock(&forum));
        conversation.push_back(benchConversationView(&forum));
    }
    print("ForumView (dock)", dock);
    print("ConversationView", conversation);
    return 0;
}
