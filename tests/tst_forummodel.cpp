// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/forummodel.h"

#include <QAbstractItemModelTester>
#include <QDateTime>
#include <QSignalSpy>
#include <QTest>

#include <memory>

using namespace Qt::StringLiterals;

namespace {

const QString HostA = QStringLiteral("host-a");
const QString HostB = QStringLiteral("host-b");
constexpr qint64 T0 = 1763773200000;
constexpr qint64 Minute = 60 * 1000;

Link::ForumMessage message(qint64 seq, qint64 ts, const QString& text, const QString& sender = QStringLiteral("Query"))
{
    Link::ForumMessage m;
    m.seq = seq;
    m.ts = ts;
    m.sender = sender;
    m.role = QStringLiteral("agent");
    m.source = QStringLiteral("QUERY");
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

/// Messages seq first..last, one a second from ts, each with text "m<seq>".
Link::Event numbered(const QString& agent, qint64 first, qint64 last, qint64 ts = T0)
{
    QList<Link::ForumMessage> messages;
    for (qint64 seq = first; seq <= last; ++seq)
        messages.append(message(seq, ts + (seq - first) * 1000, QStringLiteral("m%1").arg(seq)));
    return forum(agent, messages);
}

QList<int> conversations(const ForumModel& model)
{
    QList<int> result;
    for (int row = 0; row < model.rowCount(); ++row)
        result.append(model.index(row).data(ForumModel::ConversationRole).toInt());
    return result;
}

} // namespace

/// The forum of all hosts: order, roles, dedupe, conversations, bounds.
class TestForumModel final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void timeOrderAndRoles();
    void lateBacklogGoesInPlace();
    void interleavedBacklogResetsOnce();
    void lateMessageJoinsItsConversation();
    void conversationInfo();
    void oneInsertPerEvent();
    void duplicatesDropped();
    void gapsAndRenumberingAreNotices();
    void seqRestartStartsConversation();
    void replayOfEvictedHistoryDropped();
    void hostChangeStartsConversation();
    void timeGapStartsConversation_data();
    void timeGapStartsConversation();
    void explicitConversation();
    void sessionStartStartsConversation();
    void hostsHaveTheirOwnConversations();
    void boundedWithOneRemoval();
    void oversizedEventKeepsNewest();

private:
    std::unique_ptr<ForumModel> m_model;
    std::unique_ptr<QAbstractItemModelTester> m_tester;
};

void TestForumModel::init()
{
    m_model = std::make_unique<ForumModel>();
    m_tester = std::make_unique<QAbstractItemModelTester>(m_model.get(),
                                                          QAbstractItemModelTester::FailureReportingMode::QtTest);
}

void TestForumModel::cleanup()
{
    m_tester.reset();
    m_model.reset();
}

void TestForumModel::timeOrderAndRoles()
{
    m_model->applyEvent(HostA, forum(QStringLiteral("query"), {message(1, T0, QStringLiteral("first"))}));
    Link::ForumMessage fromMedia = message(1, T0 - 5000, QStringLiteral("second"), QStringLiteral("Media"));
    fromMedia.role = QStringLiteral("system");
    fromMedia.source = QStringLiteral("MEDIA");
    m_model->applyEvent(HostB, forum(QStringLiteral("media"), {fromMedia}));

    QCOMPARE(m_model->rowCount(), 2);
    // Time order, not arrival order.
    const QModelIndex second = m_model->index(0);
    QCOMPARE(second.data().toString(), QStringLiteral("second"));
    QCOMPARE(second.data(ForumModel::TextRole).toString(), QStringLiteral("second"));
    QCOMPARE(second.data(ForumModel::SenderRole).toString(), QStringLiteral("Media"));
    QCOMPARE(second.data(ForumModel::RoleRole).toString(), QStringLiteral("system"));
    QCOMPARE(second.data(ForumModel::SourceRole).toString(), QStringLiteral("MEDIA"));
    QCOMPARE(second.data(ForumModel::TimeRole).toLongLong(), T0 - 5000);
    QCOMPARE(second.data(ForumModel::AgentRole).toString(), QStringLiteral("media"));
    QCOMPARE(second.data(ForumModel::HostKeyRole).toString(), HostB);
    QCOMPARE(second.data(ForumModel::SeqRole).toLongLong(), 1);
    QCOMPARE(m_model->index(1).data(ForumModel::HostKeyRole).toString(), HostA);
    QVERIFY(m_model->index(0).data(ForumModel::IdRole).toULongLong()
            != m_model->index(1).data(ForumModel::IdRole).toULongLong());

    // Equal times keep their arrival order.
    m_model->applyEvent(HostA, forum(QStringLiteral("query"), {message(2, T0, QStringLiteral("third"))}));
    QCOMPARE(m_model->index(2).data().toString(), QStringLiteral("third"));
}

void TestForumModel::lateBacklogGoesInPlace()
{
    m_model->applyEvent(HostA,
                        forum(QStringLiteral("query"),
                              {message(1, T0, QStringLiteral("q1")), message(2, T0 + 2000, QStringLiteral("q2")),
                               message(3, T0 + 4000, QStringLiteral("q3"))}));
    QSignalSpy inserted(m_model.get(), &QAbstractItemModel::rowsInserted);
    QSignalSpy reset(m_model.get(), &QAbstractItemModel::modelReset);
    // The media agent's backlog arrives after the query agent's messages, its times out of order.
    m_model->applyEvent(HostA,
                        forum(QStringLiteral("media"),
                              {message(1, T0 + 3000, QStringLiteral("b2"), QStringLiteral("Media")),
                               message(2, T0 + 1000, QStringLiteral("b1"), QStringLiteral("Media")),
                               message(3, T0 + 5000, QStringLiteral("b3"), QStringLiteral("Media"))}));
    QStringList texts;
    for (int row = 0; row < m_model->rowCount(); ++row)
        texts.append(m_model->index(row).data().toString());
    QCOMPARE(texts, QStringList({u"q1"_s, u"b1"_s, u"q2"_s, u"b2"_s, u"q3"_s, u"b3"_s}));
    // One insertion per place, each where it belongs; one conversation.
    QCOMPARE(reset.count(), 0);
    QCOMPARE(inserted.count(), 3);
    QCOMPARE(inserted.at(0).at(1).toInt(), 1);
    QCOMPARE(inserted.at(1).at(1).toInt(), 3);
    QCOMPARE(inserted.at(2).at(1).toInt(), 5);
    QCOMPARE(conversations(*m_model), QList<int>({0, 0, 0, 0, 0, 0}));

    // A message older than all goes first; the same backlog again is all duplicates.
    m_model->applyEvent(
        HostA,
        forum(QStringLiteral("insight"), {message(1, T0 - 1000, QStringLiteral("i1"), QStringLiteral("Insight"))}));
    QCOMPARE(m_model->index(0).data().toString(), QStringLiteral("i1"));
    m_model->applyEvent(HostA,
                        forum(QStringLiteral("media"),
                              {message(1, T0 + 3000, QStringLiteral("b2"), QStringLiteral("Media")),
                               message(2, T0 + 1000, QStringLiteral("b1"), QStringLiteral("Media"))}));
    QCOMPARE(m_model->rowCount(), 7);
    QCOMPARE(m_model->conversationCount(), 1);
}

void TestForumModel::interleavedBacklogResetsOnce()
{
    m_model->applyEvent(HostA, numbered(QStringLiteral("query"), 1, 100));
    QSignalSpy inserted(m_model.get(), &QAbstractItemModel::rowsInserted);
    QSignalSpy reset(m_model.get(), &QAbstractItemModel::modelReset);
    QList<Link::ForumMessage> backlog;
    for (qint64 seq = 1; seq <= 100; ++seq)
        backlog.append(
            message(seq, T0 + (seq - 1) * 1000 + 500, QStringLiteral("b%1").arg(seq), QStringLiteral("Media")));
    m_model->applyEvent(HostA, forum(QStringLiteral("media"), backlog));
    QCOMPARE(inserted.count(), 0);
    QCOMPARE(reset.count(), 1);
    QCOMPARE(m_model->rowCount(), 200);
    for (int row = 0; row < 200; ++row)
        QCOMPARE(m_model->index(row).data().toString(),
                 QStringLiteral("%1%2").arg(row % 2 ? QStringLiteral("b") : QStringLiteral("m")).arg(row / 2 + 1));
}

void TestForumModel::lateMessageJoinsItsConversation()
{
    m_model->applyEvent(HostA, numbered(QStringLiteral("query"), 1, 3));
    m_model->startConversation(HostA);
    m_model->applyEvent(HostA, numbered(QStringLiteral("query"), 4, 5, T0 + 60000));
    // The media agent's backlog covers both runs: each message joins the run of its time.
    m_model->applyEvent(HostA,
                        forum(QStringLiteral("media"),
                              {message(1, T0 + 1500, QStringLiteral("early"), QStringLiteral("Media")),
                               message(2, T0 + 60500, QStringLiteral("later"), QStringLiteral("Media"))}));
    QCOMPARE(conversations(*m_model), QList<int>({0, 0, 0, 0, 1, 1, 1}));
    QCOMPARE(m_model->index(2).data().toString(), QStringLiteral("early"));
    QCOMPARE(m_model->index(5).data().toString(), QStringLiteral("later"));
    QCOMPARE(m_model->conversationInfo(0).messages, 4);
    QCOMPARE(m_model->conversationInfo(0).participants, QStringList({u"Query"_s, u"Media"_s}));
    QCOMPARE(m_model->conversationInfo(1).messages, 3);
    // Older than every run of the host: its first.
    m_model->applyEvent(HostA, forum(QStringLiteral("insight"), {message(1, T0 - 5000, QStringLiteral("first"))}));
    QCOMPARE(m_model->index(0).data(ForumModel::ConversationRole).toInt(), 0);
    QCOMPARE(m_model->conversationStart(0), T0 - 5000);
}

void TestForumModel::conversationInfo()
{
    m_model->applyEvent(HostA, forum(QStringLiteral("query"), {message(1, T0 + 1000, QStringLiteral("later"))}));
    Link::Event gap;
    gap.type = Link::Event::Type::Gap;
    gap.agent = QStringLiteral("media");
    gap.kind = QStringLiteral("forum");
    gap.from = 1;
    gap.to = 1;
    m_model->applyEvent(HostA, gap);
    m_model->applyEvent(
        HostA, forum(QStringLiteral("media"), {message(2, T0, QStringLiteral("## Opening"), QStringLiteral("Media"))}));
    const ForumModel::ConversationInfo info = m_model->conversationInfo(0);
    QCOMPARE(info.hostKey, HostA);
    QCOMPARE(info.start, T0);
    QCOMPARE(info.end, T0 + 1000);
    QCOMPARE(info.messages, 3);
    QCOMPARE(info.firstText, QStringLiteral("## Opening"));
    QCOMPARE(info.participants, QStringList({u"Query"_s, QString(ForumModel::NoticeSender), u"Media"_s}));
    QCOMPARE(m_model->conversationInfo(5).messages, 0);
}

void TestForumModel::oneInsertPerEvent()
{
    QSignalSpy inserted(m_model.get(), &QAbstractItemModel::rowsInserted);
    m_model->applyEvent(HostA, numbered(QStringLiteral("query"), 1, 25));
    QCOMPARE(inserted.count(), 1);
    QCOMPARE(inserted.at(0).at(1).toInt(), 0);
    QCOMPARE(inserted.at(0).at(2).toInt(), 24);
    m_model->applyEvent(HostA, numbered(QStringLiteral("query"), 26, 30, T0 + 25000));
    QCOMPARE(inserted.count(), 2);
    QCOMPARE(inserted.at(1).at(1).toInt(), 25);
    QCOMPARE(inserted.at(1).at(2).toInt(), 29);

    // Other event types are not for this model.
    Link::Event log;
    log.type = Link::Event::Type::Log;
    log.agent = QStringLiteral("query");
    m_model->applyEvent(HostA, log);
    QCOMPARE(m_model->rowCount(), 30);
}

void TestForumModel::duplicatesDropped()
{
    m_model->applyEvent(HostA, numbered(QStringLiteral("query"), 1, 10));
    QSignalSpy inserted(m_model.get(), &QAbstractItemModel::rowsInserted);
    // A replay after a reconnect: the same messages again, then two new ones.
    m_model->applyEvent(HostA, numbered(QStringLiteral("query"), 5, 12, T0 + 4000));
    QCOMPARE(m_model->rowCount(), 12);
    QCOMPARE(inserted.count(), 1);
    QCOMPARE(m_model->index(10).data(ForumModel::SeqRole).toLongLong(), 11);
    // Within one event too.
    m_model->applyEvent(
        HostA,
        forum(QStringLiteral("query"),
              {message(13, T0 + 20000, QStringLiteral("x")), message(13, T0 + 20000, QStringLiteral("x"))}));
    QCOMPARE(m_model->rowCount(), 13);
    // The same numbers of another agent or host are not duplicates.
    m_model->applyEvent(HostA, numbered(QStringLiteral("media"), 1, 3));
    m_model->applyEvent(HostB, numbered(QStringLiteral("query"), 1, 3));
    QCOMPARE(m_model->rowCount(), 19);
    QCOMPARE(m_model->conversationCount(), 2);
    QCOMPARE(conversations(*m_model).count(0), 16);
}

void TestForumModel::gapsAndRenumberingAreNotices()
{
    m_model->applyEvent(HostA, numbered(QStringLiteral("query"), 1, 5));
    Link::Event gap;
    gap.type = Link::Event::Type::Gap;
    gap.agent = QStringLiteral("query");
    gap.kind = QStringLiteral("forum");
    gap.from = 6;
    gap.to = 8;
    gap.reason = QStringLiteral("evicted");
    m_model->applyEvent(HostA, gap);
    gap.kind = QStringLiteral("log"); // not the forum's
    m_model->applyEvent(HostA, gap);
    QCOMPARE(m_model->rowCount(), 6);
    const QModelIndex notice = m_model->index(5);
    QCOMPARE(notice.data(ForumModel::SenderRole).toString(), ForumModel::NoticeSender);
    QCOMPARE(notice.data(ForumModel::RoleRole).toString(), QStringLiteral("system"));
    QVERIFY2(notice.data(ForumModel::TextRole).toString().contains(QStringLiteral("3 messages of query")),
             qPrintable(notice.data(ForumModel::TextRole).toString()));
    QCOMPARE(notice.data(ForumModel::SeqRole).toLongLong(), 0);

    // The host lost 4..5: a resend of 4 with a new time is dropped, another 5 is shown.
    Link::Event renumbered;
    renumbered.type = Link::Event::Type::Renumbered;
    renumbered.agent = QStringLiteral("query");
    renumbered.kind = QStringLiteral("forum");
    renumbered.from = 5;
    renumbered.to = 3;
    m_model->applyEvent(HostA, renumbered);
    QCOMPARE(m_model->rowCount(), 7);
    QVERIFY(m_model->index(6).data(ForumModel::TextRole).toString().contains(QStringLiteral("4–5")));
    m_model->applyEvent(
        HostA,
        forum(QStringLiteral("query"),
              {message(4, T0 + 90000, QStringLiteral("m4")), message(5, T0 + 91000, QStringLiteral("other"))}));
    QCOMPARE(m_model->rowCount(), 8);
    QCOMPARE(m_model->index(7).data(ForumModel::TextRole).toString(), QStringLiteral("other"));
}

void TestForumModel::seqRestartStartsConversation()
{
    QSignalSpy started(m_model.get(), &ForumModel::conversationStarted);
    m_model->applyEvent(HostA, numbered(QStringLiteral("query"), 1, 3));
    QCOMPARE(started.count(), 1);
    // A new run numbers from 1 again, with new messages.
    QList<Link::ForumMessage> run;
    run.append(message(1, T0 + 60000, QStringLiteral("new run"), QStringLiteral("Query")));
    run.append(message(2, T0 + 61000, QStringLiteral("reply"), QStringLiteral("Media")));
    m_model->applyEvent(HostA, forum(QStringLiteral("query"), run));

    QCOMPARE(m_model->rowCount(), 5);
    QCOMPARE(conversations(*m_model), QList<int>({0, 0, 0, 1, 1}));
    QCOMPARE(m_model->conversationCount(), 2);
    QCOMPARE(m_model->firstConversation(), 0);
    QCOMPARE(started.count(), 2);
    QCOMPARE(started.at(1).at(0).toInt(), 1);
    QCOMPARE(m_model->conversationStart(1), T0 + 60000);
    QCOMPARE(m_model->conversationHost(1), HostA);
    const QString title = m_model->conversationTitle(1);
    QVERIFY2(title.endsWith(QStringLiteral(" · Query, Media")), qPrintable(title));
    QVERIFY2(title.startsWith(QDateTime::fromMSecsSinceEpoch(T0 + 60000).toString(QStringLiteral("yyyy-MM-dd HH:mm"))),
             qPrintable(title));
    QVERIFY(m_model->conversationTitle(7).isEmpty());
}

void TestForumModel::replayOfEvictedHistoryDropped()
{
    m_model->setMaxMessages(5);
    m_model->applyEvent(HostA, numbered(QStringLiteral("query"), 1, 10));
    QCOMPARE(m_model->rowCount(), 5);
    // seq 2 is no longer held, and older than what was seen: history, not a new run.
    m_model->applyEvent(HostA, numbered(QStringLiteral("query"), 2, 2, T0 + 1000));
    QCOMPARE(m_model->rowCount(), 5);
    QCOMPARE(m_model->conversationCount(), 1);
}

void TestForumModel::hostChangeStartsConversation()
{
    m_model->applyEvent(HostA, numbered(QStringLiteral("query"), 1, 3));
    Link::Event snapshot;
    snapshot.type = Link::Event::Type::Snapshot;
    snapshot.hostChanged = false;
    m_model->applyEvent(HostA, snapshot);
    m_model->applyEvent(HostA, numbered(QStringLiteral("query"), 4, 4, T0 + 3000));
    QCOMPARE(conversations(*m_model), QList<int>({0, 0, 0, 0}));

    snapshot.hostChanged = true;
    m_model->applyEvent(HostA, snapshot);
    // The new history's seq 1 to 3 carry the same text as the old ones: not duplicates now.
    m_model->applyEvent(HostA, numbered(QStringLiteral("query"), 1, 3, T0 + 10000));
    QCOMPARE(m_model->rowCount(), 7);
    QCOMPARE(conversations(*m_model), QList<int>({0, 0, 0, 0, 1, 1, 1}));
}

void TestForumModel::timeGapStartsConversation_data()
{
    QTest::addColumn<qint64>("threshold");
    QTest::addColumn<qint64>("gap");
    QTest::addColumn<bool>("splits");
    QTest::addRow("default, 5 min") << qint64(0) << 5 * Minute << false;
    QTest::addRow("default, exactly 10 min") << qint64(0) << 10 * Minute << false;
    QTest::addRow("default, 11 min") << qint64(0) << 11 * Minute << true;
    QTest::addRow("2 min, 3 min") << 2 * Minute << 3 * Minute << true;
    QTest::addRow("1 h, 30 min") << 60 * Minute << 30 * Minute << false;
}

void TestForumModel::timeGapStartsConversation()
{
    QFETCH(qint64, threshold);
    QFETCH(qint64, gap);
    QFETCH(bool, splits);
    if (threshold > 0)
        m_model->setConversationGap(threshold);
    QCOMPARE(m_model->conversationGap(), threshold > 0 ? threshold : ForumModel::DefaultConversationGap);

    m_model->applyEvent(HostA, forum(QStringLiteral("query"), {message(1, T0, QStringLiteral("a"))}));
    // The gap counts from the host's latest message, whichever agent sent it.
    m_model->applyEvent(HostA, forum(QStringLiteral("media"), {message(1, T0 + 1000, QStringLiteral("b"))}));
    m_model->applyEvent(HostA, forum(QStringLiteral("query"), {message(2, T0 + 1000 + gap, QStringLiteral("c"))}));
    QCOMPARE(conversations(*m_model), QList<int>({0, 0, splits ? 1 : 0}));
    QCOMPARE(m_model->conversationCount(), splits ? 2 : 1);
}

void TestForumModel::explicitConversation()
{
    m_model->applyEvent(HostA, numbered(QStringLiteral("query"), 1, 2));
    m_model->applyEvent(HostB, numbered(QStringLiteral("query"), 1, 2));
    m_model->startConversation(HostA);
    m_model->applyEvent(HostA, numbered(QStringLiteral("query"), 3, 3, T0 + 2000));
    m_model->applyEvent(HostB, numbered(QStringLiteral("query"), 3, 3, T0 + 2000));
    // Rows in time order: A1 B1 A2 B2 A3 B3.
    QCOMPARE(conversations(*m_model), QList<int>({0, 1, 0, 1, 2, 1}));
}

void TestForumModel::sessionStartStartsConversation()
{
    // A bridged forum marks the first message of each new session.
    m_model->applyEvent(HostA, numbered(QStringLiteral("forum"), 1, 3));
    Link::ForumMessage start = message(4, T0 + 3000, QStringLiteral("=== ForumEngine 监控开始 ==="));
    start.role = QStringLiteral("system");
    start.startsConversation = true;
    m_model->applyEvent(HostA, forum(QStringLiteral("forum"), {start, message(5, T0 + 4000, QStringLiteral("next"))}));
    QCOMPARE(conversations(*m_model), QList<int>({0, 0, 0, 1, 1}));
}

void TestForumModel::hostsHaveTheirOwnConversations()
{
    m_model->applyEvent(HostA, numbered(QStringLiteral("query"), 1, 1));
    m_model->applyEvent(HostB, numbered(QStringLiteral("query"), 1, 1));
    m_model->applyEvent(HostA, numbered(QStringLiteral("query"), 2, 2, T0 + 1000));
    QCOMPARE(conversations(*m_model), QList<int>({0, 1, 0}));
    QCOMPARE(m_model->conversationHost(0), HostA);
    QCOMPARE(m_model->conversationHost(1), HostB);
}

void TestForumModel::boundedWithOneRemoval()
{
    QCOMPARE(m_model->maxMessages(), ForumModel::DefaultMaxMessages);
    m_model->setMaxMessages(100);
    for (qint64 first = 1; first <= 60; first += 30)
        m_model->applyEvent(HostA, numbered(QStringLiteral("query"), first, first + 29, T0 + (first - 1) * 1000));
    QCOMPARE(m_model->rowCount(), 60);

    QSignalSpy removed(m_model.get(), &QAbstractItemModel::rowsRemoved);
    QSignalSpy inserted(m_model.get(), &QAbstractItemModel::rowsInserted);
    // A restart (new conversation) whose arrival pushes out the whole first conversation.
    m_model->startConversation(HostA);
    m_model->applyEvent(HostA, numbered(QStringLiteral("query"), 61, 150, T0 + 60000));
    QCOMPARE(m_model->rowCount(), 100);
    QCOMPARE(removed.count(), 1);
    QCOMPARE(removed.at(0).at(1).toInt(), 0);
    QCOMPARE(removed.at(0).at(2).toInt(), 49);
    QCOMPARE(inserted.count(), 1);
    QCOMPARE(inserted.at(0).at(1).toInt(), 10);
    QCOMPARE(inserted.at(0).at(2).toInt(), 99);
    QCOMPARE(m_model->index(0).data(ForumModel::SeqRole).toLongLong(), 51);
    QCOMPARE(m_model->index(99).data(ForumModel::SeqRole).toLongLong(), 150);
    QCOMPARE(m_model->conversationCount(), 2);

    m_model->applyEvent(HostA, numbered(QStringLiteral("query"), 151, 160, T0 + 150000));
    QCOMPARE(m_model->rowCount(), 100);
    // The first conversation has no messages left and is forgotten.
    QCOMPARE(m_model->firstConversation(), 1);
    QCOMPARE(m_model->conversationCount(), 1);
    QCOMPARE(m_model->index(0).data(ForumModel::ConversationRole).toInt(), 1);

    // An evicted message seen again is not new.
    m_model->applyEvent(HostA, numbered(QStringLiteral("query"), 1, 5));
    QCOMPARE(m_model->index(99).data(ForumModel::SeqRole).toLongLong(), 160);

    m_model->setMaxMessages(10);
    QCOMPARE(m_model->rowCount(), 10);
    QCOMPARE(m_model->index(0).data(ForumModel::SeqRole).toLongLong(), 151);
}

void TestForumModel::oversizedEventKeepsNewest()
{
    m_model->setMaxMessages(10);
    m_model->applyEvent(HostA, numbered(QStringLiteral("query"), 1, 5));
    QSignalSpy removed(m_model.get(), &QAbstractItemModel::rowsRemoved);
    m_model->applyEvent(HostA, numbered(QStringLiteral("query"), 6, 40, T0 + 5000));
    QCOMPARE(m_model->rowCount(), 10);
    QCOMPARE(removed.count(), 1);
    QCOMPARE(m_model->index(0).data(ForumModel::SeqRole).toLongLong(), 31);
    QCOMPARE(m_model->index(9).data(ForumModel::SeqRole).toLongLong(), 40);
    // Messages the bound dropped do not come back when replayed.
    m_model->applyEvent(HostA, numbered(QStringLiteral("query"), 20, 22, T0 + 19000));
    QCOMPARE(m_model->rowCount(), 10);
    QCOMPARE(m_model->index(9).data(ForumModel::SeqRole).toLongLong(), 40);
    // Held ones are duplicates; only the new one is added.
    m_model->applyEvent(HostA, numbered(QStringLiteral("query"), 39, 41, T0 + 38000));
    QCOMPARE(m_model->rowCount(), 10);
    QCOMPARE(m_model->index(9).data(ForumModel::SeqRole).toLongLong(), 41);
}

QTEST_GUILESS_MAIN(TestForumModel)
#include "tst_forummodel.moc"
