// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/conversationlistmodel.h"
#include "models/forummodel.h"

#include <QAbstractItemModelTester>
#include <QTest>

using namespace Qt::StringLiterals;

namespace {

constexpr qint64 T0 = 1763773200000;
constexpr qint64 Minute = 60 * 1000;

Link::Event said(const QString& agent, qint64 seq, qint64 ts, const QString& text, const QString& sender)
{
    Link::ForumMessage m;
    m.seq = seq;
    m.ts = ts;
    m.sender = sender;
    m.role = QStringLiteral("agent");
    m.text = text;
    Link::Event event;
    event.type = Link::Event::Type::Forum;
    event.agent = agent;
    event.messages = {m};
    return event;
}

} // namespace

/// One row per conversation of the forum, newest first, following the forum.
class TestConversationListModel final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void rowsPerConversation();
    void followsEviction();
    void titles_data();
    void titles();
};

void TestConversationListModel::rowsPerConversation()
{
    ForumModel forum;
    ConversationListModel list(&forum);
    QAbstractItemModelTester tester(&list, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(list.rowCount(), 0);

    forum.applyEvent(QStringLiteral("a"),
                     said(QStringLiteral("query"), 1, T0, QStringLiteral("# Plan\nfirst"), QStringLiteral("Query")));
    forum.applyEvent(QStringLiteral("a"),
                     said(QStringLiteral("media"), 1, T0 + Minute, QStringLiteral("reply"), QStringLiteral("Media")));
    forum.applyEvent(
        QStringLiteral("b"),
        said(QStringLiteral("bot"), 1, T0 + 2 * Minute, QStringLiteral("**Other** host"), QStringLiteral("Bot")));
    QCOMPARE(list.rowCount(), 2);
    // Newest first.
    const QModelIndex b = list.index(0);
    QCOMPARE(b.data(ConversationListModel::HostKeyRole).toString(), QStringLiteral("b"));
    QCOMPARE(b.data(ConversationListModel::TitleRole).toString(), QStringLiteral("Other host"));
    const QModelIndex a = list.index(1);
    QCOMPARE(a.data(ConversationListModel::ConversationRole).toInt(), 0);
    QCOMPARE(a.data().toString(), QStringLiteral("Plan"));
    QCOMPARE(a.data(ConversationListModel::ParticipantsRole).toStringList(), QStringList({u"Query"_s, u"Media"_s}));
    QCOMPARE(a.data(ConversationListModel::CountRole).toInt(), 2);
    QCOMPARE(a.data(ConversationListModel::StartRole).toLongLong(), T0);
    QCOMPARE(a.data(ConversationListModel::EndRole).toLongLong(), T0 + Minute);
    QCOMPARE(list.rowOf(0), 1);
    QCOMPARE(list.rowOf(1), 0);
    QCOMPARE(list.rowOf(2), -1);
    QCOMPARE(list.conversationAt(1), 0);

    // A late message from before the start becomes the title.
    forum.applyEvent(
        QStringLiteral("a"),
        said(QStringLiteral("insight"), 1, T0 - Minute, QStringLiteral("- Earlier"), QStringLiteral("Insight")));
    QCOMPARE(a.data().toString(), QStringLiteral("Earlier"));
    QCOMPARE(a.data(ConversationListModel::CountRole).toInt(), 3);
    QCOMPARE(a.data(ConversationListModel::StartRole).toLongLong(), T0 - Minute);

    list.setMatches({{0, 4}});
    QCOMPARE(a.data(ConversationListModel::MatchesRole).toInt(), 4);
    QCOMPARE(b.data(ConversationListModel::MatchesRole).toInt(), 0);
}

void TestConversationListModel::followsEviction()
{
    ForumModel forum;
    forum.setMaxMessages(2);
    ConversationListModel list(&forum);
    QAbstractItemModelTester tester(&list, QAbstractItemModelTester::FailureReportingMode::QtTest);
    forum.applyEvent(QStringLiteral("a"), said(QStringLiteral("q"), 1, T0, QStringLiteral("one"), QStringLiteral("Q")));
    forum.applyEvent(QStringLiteral("b"),
                     said(QStringLiteral("q"), 1, T0 + 1, QStringLiteral("two"), QStringLiteral("Q")));
    QCOMPARE(list.rowCount(), 2);
    forum.applyEvent(QStringLiteral("c"),
                     said(QStringLiteral("q"), 1, T0 + 2, QStringLiteral("three"), QStringLiteral("Q")));
    QCOMPARE(list.rowCount(), 2);
    QCOMPARE(list.index(0).data().toString(), QStringLiteral("three"));
    QCOMPARE(list.index(1).data().toString(), QStringLiteral("two"));
}

void TestConversationListModel::titles_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("title");
    QTest::newRow("heading") << QStringLiteral("\n## 阶段总结\n内容") << QStringLiteral("阶段总结");
    QTest::newRow("list") << QStringLiteral("1. First point") << QStringLiteral("First point");
    QTest::newRow("emphasis") << QStringLiteral("**Key** `finding`") << QStringLiteral("Key finding");
    QTest::newRow("table first") << QStringLiteral("| a | b |\n|---|---|\nafter") << QStringLiteral("after");
    QTest::newRow("long") << QString(100, u'x') << QString(79, u'x') + QChar(0x2026);
    QTest::newRow("html kept") << QStringLiteral("<b>x</b>") << QStringLiteral("<b>x</b>");
}

void TestConversationListModel::titles()
{
    QFETCH(QString, text);
    QFETCH(QString, title);
    QCOMPARE(ConversationListModel::titleOf(text), title);
}

QTEST_GUILESS_MAIN(TestConversationListModel)
#include "tst_conversationlistmodel.moc"
