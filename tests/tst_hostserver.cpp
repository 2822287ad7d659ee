// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/engine/hostserver.h"
#include "support/fixtures.h"
#include "support/rawwebsocket.h"
#include "support/testclient.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QSignalSpy>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QTemporaryDir>
#include <QTest>
#include <QUrlQuery>
#include <QtEndian>
#include <memory>

namespace {
const QString Token = QStringLiteral("s3cret-token");

QJsonObject line(const QString& text, const QJsonObject& extra = {})
{
    QJsonObject l = extra;
    l[QStringLiteral("text")] = text;
    return l;
}

QJsonObject logMessage(const QJsonArray& lines)
{
    return {{QStringLiteral("type"), QStringLiteral("log")}, {QStringLiteral("lines"), lines}};
}

QJsonArray linesOf(const QList<QJsonObject>& messages, const QString& agent = {})
{
    QJsonArray all;
    for (const QJsonObject& m : messages) {
        if (m.value(QStringLiteral("type")).toString() != QLatin1String("log"))
            continue;
        if (!agent.isEmpty() && m.value(QStringLiteral("agent")).toString() != agent)
            continue;
        for (const QJsonValue& l : m.value(QStringLiteral("lines")).toArray())
            all.append(l);
    }
    return all;
}

QString str(const QJsonObject& o, const char* key)
{
    return o.value(QLatin1String(key)).toString();
}

/// A hand-made client connected as agent id and welcomed; false when a step failed.
bool rawAgent(RawWebSocket& raw, quint16 port, QByteArrayView id)
{
    if (!raw.connectTcp(port) || raw.upgrade() != 101)
        return false;
    raw.sendText(R"({"type":"hello","protocol":1,"role":"agent","token":")" + Token.toUtf8() + R"(","agent":{"id":")"
                 + id.toByteArray() + R"("}})");
    RawWebSocket::Frame frame;
    return raw.nextFrame(&frame) && frame.payload.contains("welcome");
}
} // namespace

/// Protocol v1 as the host engine implements it, over real sockets.
class TestHostServer final : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<HostServer> startHost(HostConfig config = {})
    {
        config.port = 0;
        if (config.token.isEmpty() && config.agentToken.isEmpty())
            config.token = Token;
        auto host = std::make_unique<HostServer>(config);
        QString error;
        if (!host->start(&error)) {
            qWarning("host did not start: %s", qPrintable(error));
            return nullptr; // the caller's QVERIFY(host) fails the test
        }
        return host;
    }

    std::unique_ptr<TestClient> connectClient(HostServer& host, const QUrl& url = {})
    {
        auto client = std::make_unique<TestClient>();
        if (!client->open(url.isEmpty() ? host.url() : url))
            qWarning("client did not connect");
        return client;
    }

    std::unique_ptr<TestClient> agent(HostServer& host, const QString& id, const QJsonObject& extra = {})
    {
        auto client = connectClient(host);
        client->helloAgent(Token, id, extra);
        return client;
    }

    std::unique_ptr<TestClient> viewer(HostServer& host, QList<QJsonObject>* replay = nullptr,
                                       const QJsonObject& subscribe = {
                                           {QStringLiteral("agents"), QJsonArray{QStringLiteral("*")}}})
    {
        auto client = connectClient(host);
        client->helloViewer(Token);
        const QList<QJsonObject> r = client->subscribe(subscribe);
        if (replay)
            *replay = r;
        return client;
    }

private Q_SLOTS:
    void helloAgentAndViewer();
    void tokenSources_data();
    void tokenSources();
    void separateRoleTokens();
    void helloRejected_data();
    void helloRejected();
    void secondHelloIsBadMessage();
    void helloTimeout();
    void browserOriginRefused();
    void allowedOriginAccepted();
    void perAddressLimit();
    void untrustedConnectionsMakeRoom();
    void unfinishedUpgradeTimesOut();
    void oversizeMessageClosed();
    void binaryFrameClosed();
    void invalidUtf8Closed();
    void unmaskedFrameClosed();
    void framesWithTheRequestClosed();
    void framesOfEveryLengthAccepted();
    void characterSplitAcrossFrames();
    void badMessagesKeepConnection_data();
    void badMessagesKeepConnection();
    void abuseLimitCloses();
    void seqOutOfRangeRefused();
    void statusMetricsAndAskSizeLimits();
    void askLimits();
    void oversizedHelloRefused();
    void offlineAgentsForgottenAtTheCap();
    void unsolicitedPongsDoNotKeepAlive();
    void commandArgsLimit();
    void forbiddenRoles();
    void linesNumberedSplitAndLevelled();
    void carriageReturnOnlyBeforeNewline();
    void replacedAgentsPartialIsDropped();
    void redactionBeforeStoreAndSend();
    void agentNumbersDeduplicatedAndGaps();
    void resumeFromAfterReconnect();
    void subscribeHistoryAndSince();
    void sinceBeforeRetentionGivesEvictedGap();
    void levelAndSourceFilters();
    void subscribeCoversLaterAgents();
    void unsubscribeStopsEvents();
    void partialLinesThrottledAndReplaced();
    void forumMessages();
    void forumKeptOnDiskAcrossRestarts();
    void metricsStatusAndHostMetrics();
    void askAnswerFlow();
    void changesBeforeSubscribeAreCaughtUp();
    void commandRoundTrip();
    void commandErrors();
    void commandTimeout();
    void commandFanOut();
    void commandDisconnectedWhenAgentLeaves();
    void reconnectReplacesOldConnection();
    void offlineAgentStaysListed();
    void silentPeerTimesOut();
    void pingsAreSent();
    void slowViewerGetsGapNotUnboundedQueue();
    void slowViewerDoesNotSlowOthers();
    void rateLimitDropsWithGap();
    void retentionBoundsMemory();
    void tokenGeneratedWhenNoneConfigured();
    void tlsWithCertificate();
};

void TestHostServer::helloAgentAndViewer()
{
    auto host = startHost();
    QVERIFY(host);
    auto a = connectClient(*host);
    const QJsonObject welcome =
        a->helloAgent(Token, QStringLiteral("query"),
                      {{QStringLiteral("name"), QStringLiteral("Query Engine")},
                       {QStringLiteral("pid"), 4242},
                       {QStringLiteral("commands"),
                        QJsonArray{QJsonObject{{QStringLiteral("name"), QStringLiteral("pause")},
                                               {QStringLiteral("help"), QStringLiteral("stop")}}}}});
    QCOMPARE(str(welcome, "role"), QStringLiteral("agent"));
    QCOMPARE(welcome.value(QStringLiteral("protocol")).toInt(), 1);
    QCOMPARE(welcome.value(QStringLiteral("resume_from")).toObject().value(QStringLiteral("log")).toInt(-1), 0);
    QCOMPARE(welcome.value(QStringLiteral("resume_from")).toObject().value(QStringLiteral("forum")).toInt(-1), 0);
    const QJsonObject hostInfo = welcome.value(QStringLiteral("host")).toObject();
    QCOMPARE(hostInfo.value(QStringLiteral("id")).toString(), QString::fromLatin1(host->hostId()));
    QVERIFY(!hostInfo.value(QStringLiteral("version")).toString().isEmpty());

    auto v = connectClient(*host);
    v->sendJson({{QStringLiteral("type"), QStringLiteral("hello")},
                 {QStringLiteral("protocol"), 1},
                 {QStringLiteral("role"), QStringLiteral("viewer")},
                 {QStringLiteral("token"), Token},
                 {QStringLiteral("client"), QStringLiteral("tst/1")}});
    const QJsonObject vw = v->next();
    QCOMPARE(str(vw, "type"), QStringLiteral("welcome"));
    QVERIFY(!vw.contains(QStringLiteral("resume_from")));
    const QJsonObject snapshot = v->next();
    QCOMPARE(str(snapshot, "type"), QStringLiteral("snapshot"));
    const QJsonArray agents = snapshot.value(QStringLiteral("agents")).toArray();
    QCOMPARE(agents.size(), 1);
    const QJsonObject q = agents[0].toObject();
    QCOMPARE(str(q, "id"), QStringLiteral("query"));
    QCOMPARE(str(q, "name"), QStringLiteral("Query Engine"));
    QCOMPARE(str(q, "origin"), QStringLiteral("connected"));
    QCOMPARE(str(q, "state"), QStringLiteral("running"));
    QCOMPARE(q.value(QStringLiteral("pid")).toInt(), 4242);
    QCOMPARE(q.value(QStringLiteral("commands")).toArray()[0].toObject().value(QStringLiteral("name")).toString(),
             QStringLiteral("pause"));
    QVERIFY(snapshot.value(QStringLiteral("asks")).isArray());
    QCOMPARE(host->agentCount(), 1);
    QCOMPARE(host->viewerCount(), 1);
}

void TestHostServer::tokenSources_data()
{
    QTest::addColumn<QString>("where");
    QTest::addColumn<QString>("token");
    QTest::addColumn<bool>("accepted");
    QTest::addRow("hello") << "hello" << Token << true;
    QTest::addRow("query") << "query" << Token << true;
    QTest::addRow("header") << "header" << Token << true;
    QTest::addRow("wrong in hello") << "hello"
                                    << "nope" << false;
    QTest::addRow("wrong in query") << "query"
                                    << "s3cret-tokeX" << false;
    QTest::addRow("wrong in header") << "header"
                                     << "s3cret" << false;
    QTest::addRow("missing") << "none" << QString() << false;
    QTest::addRow("empty") << "hello" << QString() << false;
}

void TestHostServer::tokenSources()
{
    QFETCH(QString, where);
    QFETCH(QString, token);
    QFETCH(bool, accepted);
    auto host = startHost();
    QVERIFY(host);
    QUrl url = host->url();
    QList<std::pair<QByteArray, QByteArray>> headers;
    if (where == QLatin1String("query"))
        url.setQuery(QStringLiteral("token=") + token);
    if (where == QLatin1String("header"))
        headers.append({"Authorization", "Bearer " + token.toUtf8()});
    TestClient c;
    QVERIFY(c.open(url, headers));
    QJsonObject hello{{QStringLiteral("type"), QStringLiteral("hello")},
                      {QStringLiteral("protocol"), 1},
                      {QStringLiteral("role"), QStringLiteral("viewer")}};
    if (where == QLatin1String("hello"))
        hello[QStringLiteral("token")] = token;
    c.sendJson(hello);
    const QJsonObject reply = c.next();
    if (accepted) {
        QCOMPARE(str(reply, "type"), QStringLiteral("welcome"));
        QVERIFY(c.isOpen());
    } else {
        QCOMPARE(str(reply, "type"), QStringLiteral("error"));
        QCOMPARE(str(reply, "code"), QStringLiteral("unauthorized"));
        QVERIFY(c.waitClosed());
        QCOMPARE(c.closeCode(), 1008);
    }
}

void TestHostServer::separateRoleTokens()
{
    HostConfig config;
    config.agentToken = QStringLiteral("agent-secret");
    config.viewerToken = QStringLiteral("viewer-secret");
    auto host = startHost(config);
    QVERIFY(host);

    TestClient a;
    QVERIFY(a.open(host->url()));
    QCOMPARE(str(a.helloAgent(QStringLiteral("agent-secret"), QStringLiteral("a1")), "type"),
             QStringLiteral("welcome"));

    TestClient wrongRole;
    QVERIFY(wrongRole.open(host->url()));
    wrongRole.helloAgent(QStringLiteral("viewer-secret"), QStringLiteral("a2"));
    QVERIFY(wrongRole.waitClosed());
    QCOMPARE(wrongRole.closeCode(), 1008);

    TestClient v;
    QVERIFY(v.open(host->url()));
    QCOMPARE(str(v.helloViewer(QStringLiteral("viewer-secret")), "type"), QStringLiteral("snapshot"));
}

void TestHostServer::helloRejected_data()
{
    QTest::addColumn<QString>("message");
    QTest::addColumn<QString>("code");
    QTest::addColumn<int>("closeCode");
    const QString t = Token;
    QTest::addRow("not hello first") << QStringLiteral(R"({"type":"log","lines":[{"text":"x"}]})") << "bad_message"
                                     << 1008;
    QTest::addRow("not json first") << QStringLiteral("{nope") << "bad_message" << 1008;
    QTest::addRow("protocol 2")
        << QStringLiteral(R"({"type":"hello","protocol":2,"role":"viewer","token":"%1"})").arg(t) << "unsupported"
        << 1002;
    QTest::addRow("protocol missing") << QStringLiteral(R"({"type":"hello","role":"viewer","token":"%1"})").arg(t)
                                      << "unsupported" << 1002;
    QTest::addRow("protocol as string")
        << QStringLiteral(R"({"type":"hello","protocol":"1","role":"viewer","token":"%1"})").arg(t) << "unsupported"
        << 1002;
    QTest::addRow("bad role") << QStringLiteral(R"({"type":"hello","protocol":1,"role":"admin","token":"%1"})").arg(t)
                              << "bad_message" << 1008;
    QTest::addRow("agent without id")
        << QStringLiteral(R"({"type":"hello","protocol":1,"role":"agent","token":"%1","agent":{}})").arg(t)
        << "bad_message" << 1008;
    QTest::addRow("agent id with space")
        << QStringLiteral(R"({"type":"hello","protocol":1,"role":"agent","token":"%1","agent":{"id":"a b"}})").arg(t)
        << "bad_message" << 1008;
    QTest::addRow("agent id too long")
        << QStringLiteral(R"({"type":"hello","protocol":1,"role":"agent","token":"%1","agent":{"id":"%2"}})")
               .arg(t, QString(65, QLatin1Char('a')))
        << "bad_message" << 1008;
    QTest::addRow("token checked before protocol")
        << QStringLiteral(R"({"type":"hello","protocol":9,"role":"viewer","token":"bad"})") << "unauthorized" << 1008;
}

void TestHostServer::helloRejected()
{
    QFETCH(QString, message);
    QFETCH(QString, code);
    QFETCH(int, closeCode);
    auto host = startHost();
    QVERIFY(host);
    TestClient c;
    QVERIFY(c.open(host->url()));
    c.sendText(message);
    const QJsonObject error = c.next(QStringLiteral("error"));
    QCOMPARE(str(error, "code"), code);
    QVERIFY(!str(error, "text").isEmpty());
    QVERIFY(c.waitClosed());
    QCOMPARE(c.closeCode(), closeCode);
}

void TestHostServer::secondHelloIsBadMessage()
{
    auto host = startHost();
    QVERIFY(host);
    auto v = connectClient(*host);
    v->helloViewer(Token);
    v->sendJson({{QStringLiteral("type"), QStringLiteral("hello")},
                 {QStringLiteral("protocol"), 1},
                 {QStringLiteral("role"), QStringLiteral("viewer")},
                 {QStringLiteral("token"), Token}});
    QCOMPARE(str(v->next(QStringLiteral("error")), "code"), QStringLiteral("bad_message"));
    QTest::qWait(100);
    QVERIFY(v->isOpen());
}

void TestHostServer::helloTimeout()
{
    HostConfig config;
    config.helloTimeoutMs = 300;
    auto host = startHost(config);
    QVERIFY(host);
    TestClient c;
    QVERIFY(c.open(host->url()));
    QVERIFY(c.waitClosed(5000));
    QCOMPARE(c.closeCode(), 1008);
    QCOMPARE(c.closeReason(), QStringLiteral("hello timeout"));
}

void TestHostServer::browserOriginRefused()
{
    auto host = startHost();
    QVERIFY(host);
    for (const QByteArray& origin : {QByteArray("http://evil.example"), QByteArray("null")}) {
        RawWebSocket raw;
        QVERIFY(raw.connectTcp(host->port()));
        QCOMPARE(raw.upgrade({"Origin: " + origin}), 403);
    }
    RawWebSocket plain;
    QVERIFY(plain.connectTcp(host->port()));
    QCOMPARE(plain.upgrade(), 101);
}

void TestHostServer::allowedOriginAccepted()
{
    HostConfig config;
    config.allowedOrigins = {QStringLiteral("http://localhost:3000")};
    auto host = startHost(config);
    QVERIFY(host);
    RawWebSocket ok;
    QVERIFY(ok.connectTcp(host->port()));
    QCOMPARE(ok.upgrade({"Origin: http://localhost:3000"}), 101);
    RawWebSocket other;
    QVERIFY(other.connectTcp(host->port()));
    QCOMPARE(other.upgrade({"Origin: http://localhost:3001"}), 403);
}

void TestHostServer::perAddressLimit()
{
    HostConfig config;
    config.maxConnectionsPerAddress = 3;
    auto host = startHost(config);
    QVERIFY(host);
    std::vector<std::unique_ptr<TestClient>> clients;
    for (int i = 0; i < 3; ++i) {
        clients.push_back(connectClient(*host));
        QVERIFY(clients.back()->isOpen());
        QCOMPARE(str(clients.back()->helloViewer(Token), "type"), QStringLiteral("snapshot"));
    }
    // All three proved who they are, so a fourth is refused (a raw client, since
    // QWebSocket misreads a close frame that arrives with the upgrade response).
    RawWebSocket extra;
    QVERIFY(extra.connectTcp(host->port()));
    QCOMPARE(extra.upgrade(), 101);
    RawWebSocket::Frame frame;
    QVERIFY(extra.nextFrame(&frame));
    QCOMPARE(frame.opcode, 0x8);
    QCOMPARE(qFromBigEndian<quint16>(frame.payload.constData()), quint16(1013));
    QCOMPARE(frame.payload.mid(2), QByteArray("too many connections"));
    // The first three still work, and a slot frees up when one leaves.
    clients[1]->socket()->close();
    QTRY_VERIFY(!clients[1]->isOpen());
    QTest::qWait(100);
    TestClient again;
    QVERIFY(again.open(host->url()));
    QCOMPARE(str(again.helloViewer(Token), "type"), QStringLiteral("snapshot"));
    QVERIFY(clients[0]->isOpen());
}

void TestHostServer::untrustedConnectionsMakeRoom()
{
    HostConfig config;
    config.maxConnectionsPerAddress = 3;
    auto host = startHost(config);
    QVERIFY(host);
    // One viewer proves who it is; two peers hold connections without a hello, from
    // other loopback addresses (all of 127/8 counts as one): one upgraded and went
    // quiet, then one that never even sent its request.
    TestClient viewer;
    QVERIFY(viewer.open(host->url()));
    QCOMPARE(str(viewer.helloViewer(Token), "type"), QStringLiteral("snapshot"));
    RawWebSocket idleUpgraded;
    QVERIFY(idleUpgraded.connectTcp(host->port(), QHostAddress(QStringLiteral("127.0.0.3"))));
    QCOMPARE(idleUpgraded.upgrade(), 101);
    QTest::qWait(50);
    RawWebSocket idleTcp;
    QVERIFY(idleTcp.connectTcp(host->port(), QHostAddress(QStringLiteral("127.0.0.2"))));
    QTest::qWait(50);
    // A newcomer takes the place of the one that never spoke, though it is newer...
    TestClient agent;
    QVERIFY(agent.open(host->url()));
    QVERIFY(idleTcp.waitDisconnected(5000));
    QCOMPARE(idleUpgraded.socket()->state(), QAbstractSocket::ConnectedState);
    QCOMPARE(str(agent.helloAgent(Token, QStringLiteral("newcomer")), "type"), QStringLiteral("welcome"));
    // ...and the next one of the quiet one.
    TestClient second;
    QVERIFY(second.open(host->url()));
    QVERIFY(idleUpgraded.waitDisconnected(5000));
    QCOMPARE(str(second.helloViewer(Token), "type"), QStringLiteral("snapshot"));
    QVERIFY(viewer.isOpen());
    QVERIFY(agent.isOpen());
}

void TestHostServer::unfinishedUpgradeTimesOut()
{
    HostConfig config;
    config.upgradeTimeoutMs = 500;
    auto host = startHost(config);
    QVERIFY(host);
    RawWebSocket idle;
    QVERIFY(idle.connectTcp(host->port()));
    QElapsedTimer timer;
    timer.start();
    QVERIFY(idle.waitDisconnected(5000));
    QVERIFY2(timer.elapsed() >= 400, qPrintable(QString::number(timer.elapsed())));
}

void TestHostServer::oversizeMessageClosed()
{
    HostConfig config;
    config.maxMessageBytes = 4096;
    auto host = startHost(config);
    QVERIFY(host);
    auto a = agent(*host, QStringLiteral("big"));
    a->sendJson(logMessage({line(QString(3000, QLatin1Char('x')))}));
    QTest::qWait(50);
    QVERIFY(a->isOpen());
    a->sendJson(logMessage({line(QString(5000, QLatin1Char('x')))}));
    QVERIFY(a->waitClosed());
    QCOMPARE(a->closeCode(), 1009);
}

void TestHostServer::binaryFrameClosed()
{
    auto host = startHost();
    QVERIFY(host);
    auto a = agent(*host, QStringLiteral("bin"));
    a->sendBinary(QByteArray("\x00\x01\x02", 3));
    QVERIFY(a->waitClosed());
    QCOMPARE(a->closeCode(), 1003);
}

void TestHostServer::invalidUtf8Closed()
{
    auto host = startHost();
    QVERIFY(host);
    RawWebSocket raw;
    QVERIFY(rawAgent(raw, host->port(), "u"));
    raw.sendText(QByteArray("{\"type\":\"log\",\"lines\":[{\"text\":\"bad \xC3\x28 bytes\"}]}"));
    QCOMPARE(raw.waitCloseCode(), 1007);
}

void TestHostServer::unmaskedFrameClosed()
{
    auto host = startHost();
    QVERIFY(host);
    auto v = viewer(*host);
    RawWebSocket raw;
    QVERIFY(rawAgent(raw, host->port(), "u"));
    v->sendJson({{QStringLiteral("type"), QStringLiteral("subscribe")},
                 {QStringLiteral("agents"), QJsonArray{QStringLiteral("u")}},
                 {QStringLiteral("history"), 0}});
    raw.sendText(R"({"type":"log","lines":[{"text":"masked"}]})");
    StreamRecord record;
    QVERIFY(collectUntil(*v, QStringLiteral("u"), 1, &record));
    raw.socket()->write(RawWebSocket::frame(0x1, R"({"type":"log","lines":[{"text":"unmasked"}]})", true, false));
    QCOMPARE(raw.waitCloseCode(), 1002);
    // What the host took before is kept; the unmasked frame is not taken.
    v->sendJson({{QStringLiteral("type"), QStringLiteral("history")},
                 {QStringLiteral("id"), QStringLiteral("h")},
                 {QStringLiteral("agent"), QStringLiteral("u")}});
    const QJsonArray lines = v->next(QStringLiteral("history")).value(QStringLiteral("lines")).toArray();
    QCOMPARE(lines.size(), 1);
    QCOMPARE(lines.at(0).toObject().value(QStringLiteral("text")).toString(), QStringLiteral("masked"));
}

void TestHostServer::framesWithTheRequestClosed()
{
    // A client must wait for the answer to its upgrade before it sends frames; those
    // sent with the request would be read before the host listens, so it says so.
    auto host = startHost();
    QVERIFY(host);
    RawWebSocket raw;
    QVERIFY(raw.connectTcp(host->port()));
    const QByteArray hello = QByteArray(R"({"type":"hello","protocol":1,"role":"agent","token":")") + Token.toUtf8()
        + R"(","agent":{"id":"early"}})";
    QCOMPARE(raw.upgrade({}, 5000, RawWebSocket::frame(0x1, hello)), 101);
    QCOMPARE(raw.waitCloseCode(), 1002);
    QCOMPARE(host->agentCount(), 0);
}

void TestHostServer::framesOfEveryLengthAccepted()
{
    // Every length form of a frame header (7, 16 and 64 bits), pings and fragments in
    // between, sent at once and then in pieces that split headers across reads: the
    // host's check of each header never mistakes a masked frame for an unmasked one.
    auto host = startHost();
    QVERIFY(host);
    auto v = viewer(*host);
    RawWebSocket raw;
    QVERIFY(rawAgent(raw, host->port(), "lengths"));

    // A log message of one line and exactly `size` bytes (unknown fields are ignored).
    const auto logOfSize = [](int n, int size) -> QByteArray {
        const QByteArray head = R"({"type":"log","lines":[{"text":")" + QByteArray::number(n) + R"("}],"pad":")";
        const QByteArray tail = R"("})";
        return head + QByteArray(std::max<qsizetype>(0, size - head.size() - tail.size()), 'x') + tail;
    };
    QByteArray stream;
    int sent = 0;
    for (const int size : {40, 125, 126, 127, 65535, 65536, 65537, 300000}) {
        stream += RawWebSocket::frame(0x1, logOfSize(++sent, size));
        stream += RawWebSocket::frame(0x9, "ping");
    }
    const QByteArray fragmented = logOfSize(++sent, 70000);
    stream += RawWebSocket::frame(0x1, fragmented.left(100), false);
    stream += RawWebSocket::frame(0xA, "unasked pong");
    stream += RawWebSocket::frame(0x0, fragmented.mid(100, 69000), false);
    stream += RawWebSocket::frame(0x0, fragmented.mid(69100), true);
    // All at once, then in pieces of 1, 2, 3 ... bytes at the start of each frame.
    raw.socket()->write(stream);
    for (qsizetype at = 0, piece = 1; at < stream.size(); ++piece) {
        const qsizetype n = piece <= 16 ? piece : 40000;
        raw.socket()->write(stream.mid(at, n));
        raw.socket()->flush();
        at += n;
        if (piece <= 16)
            QTest::qWait(2);
    }
    const int total = 2 * sent;

    v->sendJson({{QStringLiteral("type"), QStringLiteral("subscribe")},
                 {QStringLiteral("agents"), QJsonArray{QStringLiteral("lengths")}},
                 {QStringLiteral("history"), 0}});
    StreamRecord record;
    QVERIFY2(collectUntil(*v, QStringLiteral("lengths"), total, &record),
             qPrintable(QStringLiteral("%1 of %2 lines").arg(record.seqs.size()).arg(total)));
    QCOMPARE(record.seqs.size(), total);
    QVERIFY(record.gaps.isEmpty());
    QCOMPARE(raw.socket()->state(), QAbstractSocket::ConnectedState);
    QCOMPARE(host->agentCount(), 1);
}

void TestHostServer::characterSplitAcrossFrames()
{
    // The deviation docs/protocol.md names: QtWebSockets checks UTF-8 per frame.
    auto host = startHost();
    QVERIFY(host);
    RawWebSocket raw;
    QVERIFY(rawAgent(raw, host->port(), "split"));
    // "é" is C3 A9: the first frame ends after C3.
    const QByteArray message = "{\"type\":\"log\",\"lines\":[{\"text\":\"caf\xC3\xA9\"}]}";
    const qsizetype split = message.indexOf('\xC3') + 1;
    raw.sendFrame(0x1, message.left(split), false);
    raw.sendFrame(0x0, message.mid(split), true);
    QCOMPARE(raw.waitCloseCode(), 1007);
}

void TestHostServer::badMessagesKeepConnection_data()
{
    QTest::addColumn<QString>("message");
    QTest::addColumn<QString>("code");
    QTest::addRow("invalid json") << QStringLiteral("{\"type\":") << "bad_message";
    QTest::addRow("array") << QStringLiteral("[1,2]") << "bad_message";
    QTest::addRow("no type") << QStringLiteral(R"({"lines":[]})") << "bad_message";
    QTest::addRow("type not string") << QStringLiteral(R"({"type":5})") << "bad_message";
    QTest::addRow("unknown type") << QStringLiteral(R"({"type":"dance","id":"x1"})") << "bad_message";
    QTest::addRow("log without lines") << QStringLiteral(R"({"type":"log"})") << "bad_message";
    QTest::addRow("line without text") << QStringLiteral(R"({"type":"log","lines":[{"level":"INFO"}]})")
                                       << "bad_message";
    QTest::addRow("bad seq") << QStringLiteral(R"({"type":"log","lines":[{"text":"a","seq":-3}]})") << "bad_message";
    QTest::addRow("bad status") << QStringLiteral(R"({"type":"status","state":"sleepy"})") << "bad_message";
    QTest::addRow("metrics without values") << QStringLiteral(R"({"type":"metrics"})") << "bad_message";
    QTest::addRow("forum bad role") << QStringLiteral(R"({"type":"forum","messages":[{"text":"a","role":"king"}]})")
                                    << "bad_message";
    QTest::addRow("ask without id") << QStringLiteral(R"({"type":"ask","text":"?"})") << "bad_message";
}

void TestHostServer::badMessagesKeepConnection()
{
    QFETCH(QString, message);
    QFETCH(QString, code);
    auto host = startHost();
    QVERIFY(host);
    auto a = agent(*host, QStringLiteral("a"));
    auto v = viewer(*host);
    a->sendText(message);
    const QJsonObject error = a->next(QStringLiteral("error"));
    QCOMPARE(str(error, "code"), code);
    QVERIFY(!str(error, "text").isEmpty());
    if (message.contains(QLatin1String("x1")))
        QCOMPARE(str(error, "ref"), QStringLiteral("x1"));
    // Still usable.
    a->sendJson(logMessage({line(QStringLiteral("after"))}));
    StreamRecord r;
    QVERIFY(collectUntil(*v, QStringLiteral("a"), 1, &r));
    QCOMPARE(r.texts.last(), QStringLiteral("after"));
    QVERIFY(a->isOpen());
}

void TestHostServer::abuseLimitCloses()
{
    HostConfig config;
    config.abuseLimit = 50;
    auto host = startHost(config);
    QVERIFY(host);
    auto a = agent(*host, QStringLiteral("abuser"));
    for (int i = 0; i < 50; ++i)
        a->sendText(QStringLiteral("{\"type\":\"nonsense\"}"));
    QTRY_COMPARE_WITH_TIMEOUT(a->pending().size(), 50, 10000);
    QVERIFY(a->isOpen());
    a->sendText(QStringLiteral("{\"type\":\"nonsense\"}"));
    QVERIFY(a->waitClosed());
    QCOMPARE(a->closeCode(), 1008);
}

void TestHostServer::seqOutOfRangeRefused()
{
    auto host = startHost();
    QVERIFY(host);
    auto v = viewer(*host);
    auto a = agent(*host, QStringLiteral("counter"));
    a->sendJson(logMessage({line(QStringLiteral("one"), {{QStringLiteral("seq"), 1}})}));
    // 2^63-1 and 2^53 are beyond what JSON readers keep exactly; 2^40 beyond the last is too far.
    for (const QString& seq :
         {QStringLiteral("9223372036854775807"), QStringLiteral("9007199254740992"), QStringLiteral("1099511627778")}) {
        a->sendText(QStringLiteral(R"({"type":"log","lines":[{"text":"far","seq":%1}]})").arg(seq));
        const QJsonObject error = a->next(QStringLiteral("error"));
        QCOMPARE(str(error, "code"), QStringLiteral("bad_message"));
        QVERIFY2(str(error, "text").contains(QLatin1String("seq")), qPrintable(str(error, "text")));
    }
    // Numbering goes on from the last number, in order, live and in history.
    a->sendJson(logMessage({line(QStringLiteral("two")), line(QStringLiteral("three"))}));
    StreamRecord record;
    QVERIFY(collectUntil(*v, QStringLiteral("counter"), 3, &record));
    QCOMPARE(record.seqs, QList<qint64>({1, 2, 3}));
    QVERIFY(record.gaps.isEmpty());
    v->sendJson({{QStringLiteral("type"), QStringLiteral("history")},
                 {QStringLiteral("id"), QStringLiteral("h")},
                 {QStringLiteral("agent"), QStringLiteral("counter")}});
    const QJsonArray lines = v->next(QStringLiteral("history")).value(QStringLiteral("lines")).toArray();
    QCOMPARE(lines.size(), 3);
    QCOMPARE(lines.last().toObject().value(QStringLiteral("seq")).toInteger(), 3);

    // A console numbered up to 2^53-1, in steps of 2^40: a line without a number is
    // refused, not wrapped.
    auto full = agent(*host, QStringLiteral("full"));
    const qint64 maxSeq = (qint64(1) << 53) - 1;
    const qint64 step = qint64(1) << 40;
    QJsonArray steps;
    for (qint64 seq = step; seq < maxSeq; seq += step)
        steps.append(line(QStringLiteral("step"), {{QStringLiteral("seq"), seq}}));
    steps.append(line(QStringLiteral("last"), {{QStringLiteral("seq"), maxSeq}}));
    full->sendJson(logMessage(steps));
    full->sendJson(logMessage({line(QStringLiteral("one more"))}));
    const QJsonObject exhausted = full->next(QStringLiteral("error"));
    QCOMPARE(str(exhausted, "code"), QStringLiteral("bad_message"));
    QVERIFY2(str(exhausted, "text").contains(QLatin1String("every number")), qPrintable(str(exhausted, "text")));
}

void TestHostServer::statusMetricsAndAskSizeLimits()
{
    HostConfig config;
    config.maxStatusBytes = 1024;
    auto host = startHost(config);
    QVERIFY(host);
    auto v = viewer(*host);
    auto a = agent(*host, QStringLiteral("talker"));
    const QString big(2000, QLatin1Char('s'));
    a->sendJson({{QStringLiteral("type"), QStringLiteral("status")},
                 {QStringLiteral("state"), QStringLiteral("busy")},
                 {QStringLiteral("text"), big}});
    a->sendJson(
        {{QStringLiteral("type"), QStringLiteral("metrics")}, {QStringLiteral("values"), QJsonObject{{big, 1}}}});
    a->sendJson({{QStringLiteral("type"), QStringLiteral("ask")},
                 {QStringLiteral("id"), QStringLiteral("q")},
                 {QStringLiteral("text"), big}});
    for (int i = 0; i < 3; ++i) {
        const QJsonObject error = a->next(QStringLiteral("error"));
        QCOMPARE(str(error, "code"), QStringLiteral("bad_message"));
        QVERIFY2(str(error, "text").contains(QLatin1String("over the host's limit of 1024")),
                 qPrintable(str(error, "text")));
    }
    // A status within the limit still goes through, and is the first the viewer sees.
    a->sendJson({{QStringLiteral("type"), QStringLiteral("status")},
                 {QStringLiteral("state"), QStringLiteral("idle")},
                 {QStringLiteral("text"), QStringLiteral("fine")}});
    QCOMPARE(str(v->next(QStringLiteral("status")), "text"), QStringLiteral("fine"));
    QVERIFY(!v->has(QStringLiteral("ask"), 100));
    QVERIFY(!v->has(QStringLiteral("metrics"), 0));
}

void TestHostServer::askLimits()
{
    HostConfig config;
    config.maxAsksPerAgent = 3;
    config.maxAsks = 5;
    auto host = startHost(config);
    QVERIFY(host);
    auto v = viewer(*host);
    auto ask = [](TestClient& client, const QString& id) {
        client.sendJson({{QStringLiteral("type"), QStringLiteral("ask")},
                         {QStringLiteral("id"), id},
                         {QStringLiteral("text"), QStringLiteral("Go on?")},
                         {QStringLiteral("choices"), QJsonArray{QStringLiteral("yes"), QStringLiteral("no")}}});
    };
    auto a = agent(*host, QStringLiteral("a"));
    for (int i = 1; i <= 4; ++i)
        ask(*a, QStringLiteral("a%1").arg(i));
    QCOMPARE(str(a->next(QStringLiteral("error")), "code"), QStringLiteral("rate_limited"));
    // Asking again with an open id replaces it: not one more.
    ask(*a, QStringLiteral("a1"));
    auto b = agent(*host, QStringLiteral("b"));
    for (int i = 1; i <= 3; ++i)
        ask(*b, QStringLiteral("b%1").arg(i));
    const QJsonObject error = b->next(QStringLiteral("error"));
    QCOMPARE(str(error, "code"), QStringLiteral("rate_limited"));
    QVERIFY2(str(error, "text").contains(QLatin1String("5 open questions")), qPrintable(str(error, "text")));
    QVERIFY(!a->has(QStringLiteral("error"), 100));
    auto late = connectClient(*host);
    QCOMPARE(late->helloViewer(Token).value(QStringLiteral("asks")).toArray().size(), 5);
    // An answer makes room.
    v->sendJson({{QStringLiteral("type"), QStringLiteral("command")},
                 {QStringLiteral("id"), QStringLiteral("c1")},
                 {QStringLiteral("agent"), QStringLiteral("a")},
                 {QStringLiteral("name"), QStringLiteral("answer")},
                 {QStringLiteral("args"),
                  QJsonObject{{QStringLiteral("ask"), QStringLiteral("a2")},
                              {QStringLiteral("choice"), QStringLiteral("yes")}}}});
    QCOMPARE(str(a->next(QStringLiteral("command")), "name"), QStringLiteral("answer"));
    b->clear();
    v->clear();
    ask(*b, QStringLiteral("b3"));
    QCOMPARE(str(v->next(QStringLiteral("ask")), "id"), QStringLiteral("b3"));
    QVERIFY(!b->has(QStringLiteral("error"), 100));
}

void TestHostServer::oversizedHelloRefused()
{
    HostConfig config;
    config.maxStatusBytes = 1024;
    auto host = startHost(config);
    QVERIFY(host);
    auto c = connectClient(*host);
    c->sendJson({{QStringLiteral("type"), QStringLiteral("hello")},
                 {QStringLiteral("protocol"), 1},
                 {QStringLiteral("role"), QStringLiteral("agent")},
                 {QStringLiteral("token"), Token},
                 {QStringLiteral("agent"),
                  QJsonObject{{QStringLiteral("id"), QStringLiteral("big")},
                              {QStringLiteral("name"), QString(2000, QLatin1Char('n'))}}}});
    QCOMPARE(str(c->next(QStringLiteral("error")), "code"), QStringLiteral("bad_message"));
    QVERIFY(c->waitClosed());
    QCOMPARE(c->closeCode(), 1008);
    QCOMPARE(host->agentCount(), 0);
}

void TestHostServer::offlineAgentsForgottenAtTheCap()
{
    HostConfig config;
    config.maxAgents = 3;
    auto host = startHost(config);
    QVERIFY(host);
    auto v = viewer(*host);
    auto first = agent(*host, QStringLiteral("first"));
    auto second = agent(*host, QStringLiteral("second"));
    auto third = agent(*host, QStringLiteral("third"));
    first->socket()->close();
    QVERIFY(first->waitClosed());
    QTest::qWait(20);
    second->socket()->close();
    QVERIFY(second->waitClosed());
    // A fourth id: the agent offline longest is forgotten, and viewers are told.
    auto fourth = agent(*host, QStringLiteral("fourth"));
    QVERIFY(fourth->isOpen());
    for (QJsonObject event = v->next(QStringLiteral("agent")); !event.isEmpty();
         event = v->next(QStringLiteral("agent"))) {
        if (str(event, "event") == QLatin1String("removed")) {
            QCOMPARE(str(event.value(QStringLiteral("agent")).toObject(), "id"), QStringLiteral("first"));
            break;
        }
    }
    auto late = connectClient(*host);
    QStringList ids;
    for (const QJsonValue& a : late->helloViewer(Token).value(QStringLiteral("agents")).toArray())
        ids << a.toObject().value(QStringLiteral("id")).toString();
    ids.sort();
    QCOMPARE(ids, QStringList({QStringLiteral("fourth"), QStringLiteral("second"), QStringLiteral("third")}));
    // All three connected: a new id is refused with a reason; a known one gets in.
    auto back = agent(*host, QStringLiteral("second"));
    // (a raw client: QWebSocket reports 1013 as a protocol error)
    RawWebSocket fifth;
    QVERIFY(fifth.connectTcp(host->port()));
    QCOMPARE(fifth.upgrade(), 101);
    fifth.sendText(QStringLiteral(R"({"type":"hello","protocol":1,"role":"agent","token":"%1","agent":{"id":"fifth"}})")
                       .arg(Token)
                       .toUtf8());
    RawWebSocket::Frame frame;
    QVERIFY(fifth.nextFrame(&frame));
    QVERIFY2(frame.payload.contains("\"code\":\"rate_limited\""), frame.payload.constData());
    QCOMPARE(fifth.waitCloseCode(), 1013);
    QVERIFY(back->isOpen());
    QCOMPARE(host->agentCount(), 3);
}

void TestHostServer::unsolicitedPongsDoNotKeepAlive()
{
    HostConfig config;
    config.pingIntervalMs = 200;
    config.idleTimeoutMs = 800;
    auto host = startHost(config);
    QVERIFY(host);
    // A peer that answers no ping but sends pongs of its own...
    RawWebSocket raw;
    QVERIFY(raw.connectTcp(host->port()));
    QCOMPARE(raw.upgrade(), 101);
    raw.sendText(QStringLiteral(R"({"type":"hello","protocol":1,"role":"viewer","token":"%1"})").arg(Token).toUtf8());
    // ...next to one whose client answers pings.
    TestClient alive;
    QVERIFY(alive.open(host->url()));
    QCOMPARE(str(alive.helloViewer(Token), "type"), QStringLiteral("snapshot"));
    QElapsedTimer timer;
    timer.start();
    int closeCode = -1;
    while (timer.elapsed() < 5000 && closeCode < 0) {
        raw.sendFrame(0xA, "unasked");
        RawWebSocket::Frame frame;
        while (raw.nextFrame(&frame, 100)) {
            if (frame.opcode == 0x8) {
                closeCode = qFromBigEndian<quint16>(frame.payload.constData());
                break;
            }
        }
    }
    QCOMPARE(closeCode, 1011);
    QVERIFY2(timer.elapsed() < 3000, qPrintable(QString::number(timer.elapsed())));
    QVERIFY(alive.isOpen());
}

void TestHostServer::commandArgsLimit()
{
    HostConfig config;
    config.maxCommandArgsBytes = 1000;
    auto host = startHost(config);
    QVERIFY(host);
    auto v = viewer(*host);
    auto a = agent(*host, QStringLiteral("worker"));
    auto command = [&](const QString& id, int size) {
        v->sendJson({{QStringLiteral("type"), QStringLiteral("command")},
                     {QStringLiteral("id"), id},
                     {QStringLiteral("agent"), QStringLiteral("worker")},
                     {QStringLiteral("name"), QStringLiteral("say")},
                     {QStringLiteral("args"), QJsonObject{{QStringLiteral("text"), QString(size, QLatin1Char('a'))}}}});
    };
    command(QStringLiteral("big"), 2000);
    const QJsonObject result = v->next(QStringLiteral("result"));
    QCOMPARE(str(result, "id"), QStringLiteral("big"));
    QCOMPARE(result.value(QStringLiteral("ok")).toBool(), false);
    QCOMPARE(str(result, "error"), QStringLiteral("bad_message"));
    QVERIFY(!a->has(QStringLiteral("command"), 100));
    command(QStringLiteral("small"), 100);
    QCOMPARE(a->next(QStringLiteral("command"))
                 .value(QStringLiteral("args"))
                 .toObject()
                 .value(QStringLiteral("text"))
                 .toString()
                 .size(),
             100);
}

void TestHostServer::forbiddenRoles()
{
    auto host = startHost();
    QVERIFY(host);
    auto v = connectClient(*host);
    v->helloViewer(Token);
    v->sendJson(logMessage({line(QStringLiteral("I am not an agent"))}));
    QCOMPARE(str(v->next(QStringLiteral("error")), "code"), QStringLiteral("forbidden"));
    auto a = agent(*host, QStringLiteral("a"));
    a->sendJson({{QStringLiteral("type"), QStringLiteral("subscribe")},
                 {QStringLiteral("agents"), QJsonArray{QStringLiteral("*")}}});
    QCOMPARE(str(a->next(QStringLiteral("error")), "code"), QStringLiteral("forbidden"));
    a->sendJson({{QStringLiteral("type"), QStringLiteral("command")},
                 {QStringLiteral("id"), QStringLiteral("c1")},
                 {QStringLiteral("agent"), QStringLiteral("a")},
                 {QStringLiteral("name"), QStringLiteral("x")}});
    const QJsonObject e = a->next(QStringLiteral("error"));
    QCOMPARE(str(e, "code"), QStringLiteral("forbidden"));
    QCOMPARE(str(e, "ref"), QStringLiteral("c1"));
    QTest::qWait(50);
    QVERIFY(a->isOpen());
    QVERIFY(v->isOpen());
}

void TestHostServer::linesNumberedSplitAndLevelled()
{
    auto host = startHost();
    QVERIFY(host);
    auto a = agent(*host, QStringLiteral("q"));
    auto v = viewer(*host);
    a->sendJson(logMessage({
        line(QStringLiteral("2025-11-14 14:02:12.000 | ERROR    | mod:fn:1 - boom\r\nTraceback line\n  File x\n")),
        line(QStringLiteral("warned"), {{QStringLiteral("level"), QStringLiteral("warn")}}),
        line(QStringLiteral("on stderr"), {{QStringLiteral("stream"), QStringLiteral("stderr")}}),
        line(QStringLiteral("plain"),
             {{QStringLiteral("source"), QStringLiteral("query.search")},
              {QStringLiteral("ts"), QStringLiteral("2025-11-14T14:02:12.1239Z")}}),
        line(QStringLiteral("\x1b[1;31mERROR\x1b[0m: refused")),
        line(QStringLiteral("fatal"), {{QStringLiteral("level"), QStringLiteral("FATAL")}}),
        line(QString(), {{QStringLiteral("ts"), qint64(1763773200123)}}),
    }));
    StreamRecord r;
    QVERIFY(collectUntil(*v, QStringLiteral("q"), 9, &r));
    QCOMPARE(r.seqs, (QList<qint64>{1, 2, 3, 4, 5, 6, 7, 8, 9}));
    QCOMPARE(r.texts[0], QStringLiteral("2025-11-14 14:02:12.000 | ERROR    | mod:fn:1 - boom"));
    QCOMPARE(r.texts[1], QStringLiteral("Traceback line"));
    QCOMPARE(r.texts[2], QStringLiteral("  File x"));
    QCOMPARE(r.texts[6], QStringLiteral("\x1b[1;31mERROR\x1b[0m: refused"));
    QCOMPARE(r.texts[8], QString());
    // Levels and fields, read from a fresh subscribe so the raw lines can be inspected.
    TestClient v2;
    QVERIFY(v2.open(host->url()));
    v2.helloViewer(Token);
    const QJsonArray lines = linesOf(v2.subscribe({{QStringLiteral("agents"), QJsonArray{QStringLiteral("q")}}}));
    QCOMPARE(lines.size(), 9);
    auto level = [&](int i) {
        return lines[i].toObject().value(QStringLiteral("level")).toString();
    };
    QCOMPARE(level(0), QStringLiteral("ERROR"));
    QCOMPARE(level(1), QStringLiteral("ERROR")); // pieces keep the first piece's level
    QCOMPARE(level(2), QStringLiteral("ERROR"));
    QCOMPARE(level(3), QStringLiteral("WARNING"));
    QCOMPARE(level(4), QStringLiteral("WARNING")); // stderr without a level word
    QCOMPARE(level(5), QStringLiteral("INFO"));
    QCOMPARE(level(6), QStringLiteral("ERROR"));
    QCOMPARE(level(7), QStringLiteral("CRITICAL"));
    const QJsonObject l0 = lines[0].toObject();
    const QJsonObject l1 = lines[1].toObject();
    QCOMPARE(l0.value(QStringLiteral("ts")).toInteger(), l1.value(QStringLiteral("ts")).toInteger());
    QCOMPARE(lines[4].toObject().value(QStringLiteral("stream")).toString(), QStringLiteral("stderr"));
    QCOMPARE(lines[5].toObject().value(QStringLiteral("source")).toString(), QStringLiteral("query.search"));
    QCOMPARE(lines[5].toObject().value(QStringLiteral("ts")).toInteger(), 1763128932123);
    QCOMPARE(lines[8].toObject().value(QStringLiteral("ts")).toInteger(), 1763773200123);
}

void TestHostServer::carriageReturnOnlyBeforeNewline()
{
    auto host = startHost();
    QVERIFY(host);
    auto a = agent(*host, QStringLiteral("cr"));
    auto v = viewer(*host);
    a->sendJson(
        logMessage({line(QStringLiteral("abc\r")), line(QStringLiteral("x\r\ny\r")), line(QStringLiteral("z\r\n"))}));
    StreamRecord r;
    QVERIFY(collectUntil(*v, QStringLiteral("cr"), 4, &r));
    QCOMPARE(r.texts,
             (QStringList{QStringLiteral("abc\r"), QStringLiteral("x"), QStringLiteral("y\r"), QStringLiteral("z")}));
}

void TestHostServer::replacedAgentsPartialIsDropped()
{
    auto host = startHost();
    QVERIFY(host);
    auto first = agent(*host, QStringLiteral("twin"));
    first->sendJson(logMessage({line(QStringLiteral("stale 50%"), {{QStringLiteral("partial"), true}})}));
    auto watcher = viewer(*host);
    QVERIFY(watcher->has(QStringLiteral("log"), 5000)); // the partial reached a viewer, so the host has it
    auto second = agent(*host, QStringLiteral("twin"));
    QVERIFY(first->waitClosed());
    TestClient late;
    QVERIFY(late.open(host->url()));
    late.helloViewer(Token);
    late.subscribe({{QStringLiteral("agents"), QJsonArray{QStringLiteral("twin")}}});
    QVERIFY(!late.has(QStringLiteral("log"), 300));
}

void TestHostServer::redactionBeforeStoreAndSend()
{
    HostConfig config;
    config.redactPatterns = {QStringLiteral("internal-id-(\\d+)")};
    auto host = startHost(config);
    QVERIFY(host);
    auto a = agent(*host, QStringLiteral("r"));
    auto v = viewer(*host);
    a->sendJson(logMessage({line(QStringLiteral("OPENAI_API_KEY=sk-live-51Habcdefghijklmnopqrstuvwx password=hunter2 "
                                                "token: abcd1234efgh")),
                            line(QStringLiteral("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig")),
                            line(QStringLiteral("user internal-id-4711 logged in")),
                            line(QStringLiteral("LLM 返回 209 tokens 🙂"))}));
    a->sendJson({{QStringLiteral("type"), QStringLiteral("forum")},
                 {QStringLiteral("messages"),
                  QJsonArray{QJsonObject{{QStringLiteral("text"), QStringLiteral("use password=hunter2 please")}}}}});
    StreamRecord r;
    QVERIFY(collectUntil(*v, QStringLiteral("r"), 4, &r));
    const QString all = r.texts.join(QLatin1Char('\n'));
    QVERIFY2(!all.contains(QLatin1String("hunter2")), qPrintable(all));
    QVERIFY2(!all.contains(QLatin1String("sk-live")), qPrintable(all));
    QVERIFY2(!all.contains(QLatin1String("abcd1234efgh")), qPrintable(all));
    QVERIFY2(!all.contains(QLatin1String("eyJhbGci")), qPrintable(all));
    QVERIFY2(!all.contains(QLatin1String("4711")), qPrintable(all));
    QCOMPARE(r.texts[0], QStringLiteral("OPENAI_API_KEY=[REDACTED] password=[REDACTED] token: [REDACTED]"));
    QCOMPARE(r.texts[2], QStringLiteral("user internal-id-[REDACTED] logged in"));
    QCOMPARE(r.texts[3], QStringLiteral("LLM 返回 209 tokens 🙂"));
    // The forum message came through the replay of the subscribe, already redacted.
    TestClient v2;
    QVERIFY(v2.open(host->url()));
    v2.helloViewer(Token);
    const QList<QJsonObject> replay = v2.subscribe({{QStringLiteral("agents"), QJsonArray{QStringLiteral("r")}}});
    bool sawForum = false;
    for (const QJsonObject& m : replay) {
        if (str(m, "type") == QLatin1String("forum")) {
            sawForum = true;
            QCOMPARE(
                m.value(QStringLiteral("messages")).toArray()[0].toObject().value(QStringLiteral("text")).toString(),
                QStringLiteral("use password=[REDACTED] please"));
        }
    }
    QVERIFY(sawForum);
}

void TestHostServer::agentNumbersDeduplicatedAndGaps()
{
    auto host = startHost();
    QVERIFY(host);
    auto a = agent(*host, QStringLiteral("n"));
    auto v = viewer(*host);
    a->sendJson(logMessage({line(QStringLiteral("one"), {{QStringLiteral("seq"), 1}}),
                            line(QStringLiteral("two"), {{QStringLiteral("seq"), 2}}),
                            line(QStringLiteral("two again"), {{QStringLiteral("seq"), 2}}),
                            line(QStringLiteral("five\nstays one item"), {{QStringLiteral("seq"), 5}}),
                            line(QStringLiteral("one again"), {{QStringLiteral("seq"), 1}}),
                            line(QStringLiteral("six"), {{QStringLiteral("seq"), 6}})}));
    StreamRecord r;
    QVERIFY(collectUntil(*v, QStringLiteral("n"), 6, &r));
    QCOMPARE(r.seqs, (QList<qint64>{1, 2, 5, 6}));
    QCOMPARE(r.texts,
             (QStringList{QStringLiteral("one"), QStringLiteral("two"), QStringLiteral("five\nstays one item"),
                          QStringLiteral("six")}));
    QCOMPARE(r.gaps.size(), 1);
    QCOMPARE(r.gaps[0].value(QStringLiteral("from")).toInteger(), 3);
    QCOMPARE(r.gaps[0].value(QStringLiteral("to")).toInteger(), 4);
    QCOMPARE(str(r.gaps[0], "reason"), QStringLiteral("agent_dropped"));
    QString problem;
    QVERIFY2(r.coversExactly(6, &problem), qPrintable(problem));
    // An unnumbered line continues from the highest number.
    a->sendJson(logMessage({line(QStringLiteral("seven"))}));
    QVERIFY(collectUntil(*v, QStringLiteral("n"), 7, &r));
    QCOMPARE(r.seqs.last(), 7);
}

void TestHostServer::resumeFromAfterReconnect()
{
    auto host = startHost();
    QVERIFY(host);
    auto a = agent(*host, QStringLiteral("resumer"));
    auto v = viewer(*host);
    QJsonArray lines;
    for (int i = 1; i <= 5; ++i)
        lines.append(line(QStringLiteral("line %1").arg(i), {{QStringLiteral("seq"), i}}));
    a->sendJson(logMessage(lines));
    a->sendJson(
        {{QStringLiteral("type"), QStringLiteral("forum")},
         {QStringLiteral("messages"),
          QJsonArray{QJsonObject{{QStringLiteral("text"), QStringLiteral("hi")}, {QStringLiteral("seq"), 1}}}}});
    StreamRecord r;
    QVERIFY(collectUntil(*v, QStringLiteral("resumer"), 5, &r));
    a->socket()->abort();
    QTRY_COMPARE(host->agentCount(), 0);

    auto again = connectClient(*host);
    const QJsonObject welcome = again->helloAgent(Token, QStringLiteral("resumer"));
    QCOMPARE(welcome.value(QStringLiteral("resume_from")).toObject().value(QStringLiteral("log")).toInt(), 5);
    QCOMPARE(welcome.value(QStringLiteral("resume_from")).toObject().value(QStringLiteral("forum")).toInt(), 1);
    // The agent resends what it still has; only new numbers show.
    QJsonArray resend;
    for (int i = 3; i <= 8; ++i)
        resend.append(line(QStringLiteral("line %1").arg(i), {{QStringLiteral("seq"), i}}));
    again->sendJson(logMessage(resend));
    QVERIFY(collectUntil(*v, QStringLiteral("resumer"), 8, &r));
    QCOMPARE(r.seqs, (QList<qint64>{1, 2, 3, 4, 5, 6, 7, 8}));
    QString problem;
    QVERIFY2(r.coversExactly(8, &problem), qPrintable(problem));
}

void TestHostServer::subscribeHistoryAndSince()
{
    auto host = startHost();
    QVERIFY(host);
    auto a = agent(*host, QStringLiteral("h"));
    QJsonArray lines;
    for (int i = 1; i <= 50; ++i)
        lines.append(line(QStringLiteral("line %1").arg(i)));
    a->sendJson(logMessage(lines));
    QTRY_COMPARE(host->linesIngested(), quint64(50));

    QList<QJsonObject> replay;
    auto v = viewer(*host, &replay,
                    {{QStringLiteral("agents"), QJsonArray{QStringLiteral("*")}}, {QStringLiteral("history"), 10}});
    QJsonArray got = linesOf(replay, QStringLiteral("h"));
    QCOMPARE(got.size(), 10);
    QCOMPARE(got.first().toObject().value(QStringLiteral("seq")).toInt(), 41);
    QCOMPARE(got.last().toObject().value(QStringLiteral("seq")).toInt(), 50);

    auto none = viewer(*host, &replay,
                       {{QStringLiteral("agents"), QJsonArray{QStringLiteral("h")}}, {QStringLiteral("history"), 0}});
    QCOMPARE(linesOf(replay).size(), 0);

    auto resumed = viewer(
        *host, &replay,
        {{QStringLiteral("agents"), QJsonArray{QStringLiteral("*")}},
         {QStringLiteral("since"), QJsonObject{{QStringLiteral("h"), QJsonObject{{QStringLiteral("log"), 37}}}}}});
    got = linesOf(replay, QStringLiteral("h"));
    QCOMPARE(got.size(), 13);
    QCOMPARE(got.first().toObject().value(QStringLiteral("seq")).toInt(), 38);

    // Default history is 1000; live lines follow `subscribed` without loss.
    a->sendJson(logMessage({line(QStringLiteral("live"))}));
    StreamRecord r;
    QVERIFY(collectUntil(*resumed, QStringLiteral("h"), 51, &r));
    QCOMPARE(r.seqs, QList<qint64>{51});
    QVERIFY(collectUntil(*none, QStringLiteral("h"), 51, &r));
}

void TestHostServer::sinceBeforeRetentionGivesEvictedGap()
{
    HostConfig config;
    config.logRetentionLines = 20;
    auto host = startHost(config);
    QVERIFY(host);
    auto a = agent(*host, QStringLiteral("e"));
    QJsonArray lines;
    for (int i = 1; i <= 100; ++i)
        lines.append(line(QStringLiteral("line %1").arg(i)));
    a->sendJson(logMessage(lines));
    QTRY_COMPARE(host->linesIngested(), quint64(100));

    QList<QJsonObject> replay;
    auto v = viewer(
        *host, &replay,
        {{QStringLiteral("agents"), QJsonArray{QStringLiteral("e")}},
         {QStringLiteral("since"), QJsonObject{{QStringLiteral("e"), QJsonObject{{QStringLiteral("log"), 10}}}}}});
    QVERIFY(!replay.isEmpty());
    const QJsonObject gap = replay.first();
    QCOMPARE(str(gap, "type"), QStringLiteral("gap"));
    QCOMPARE(str(gap, "kind"), QStringLiteral("log"));
    QCOMPARE(gap.value(QStringLiteral("from")).toInt(), 11);
    QCOMPARE(gap.value(QStringLiteral("to")).toInt(), 80);
    QCOMPARE(str(gap, "reason"), QStringLiteral("evicted"));
    QCOMPARE(linesOf(replay).size(), 20);

    // History never starts with a gap.
    auto h = viewer(*host, &replay, {{QStringLiteral("agents"), QJsonArray{QStringLiteral("e")}}});
    QCOMPARE(str(replay.first(), "type"), QStringLiteral("log"));
    QCOMPARE(linesOf(replay).size(), 20);
}

void TestHostServer::levelAndSourceFilters()
{
    auto host = startHost();
    QVERIFY(host);
    auto a = agent(*host, QStringLiteral("f"));
    a->sendJson(logMessage(
        {line(QStringLiteral("i1"),
              {{QStringLiteral("level"), QStringLiteral("INFO")},
               {QStringLiteral("source"), QStringLiteral("query.search")}}),
         line(QStringLiteral("e1"),
              {{QStringLiteral("level"), QStringLiteral("error")},
               {QStringLiteral("source"), QStringLiteral("query.search")}}),
         line(QStringLiteral("w1"),
              {{QStringLiteral("level"), QStringLiteral("WARN")}, {QStringLiteral("source"), QStringLiteral("media")}}),
         line(QStringLiteral("e2"), {{QStringLiteral("level"), QStringLiteral("ERROR")}})}));
    QTRY_COMPARE(host->linesIngested(), quint64(4));
    QList<QJsonObject> replay;
    auto v = viewer(*host, &replay,
                    {{QStringLiteral("agents"), QJsonArray{QStringLiteral("*")}},
                     {QStringLiteral("levels"), QJsonArray{QStringLiteral("warning"), QStringLiteral("ERROR")}},
                     {QStringLiteral("history"), 2}});
    QJsonArray got = linesOf(replay);
    QCOMPARE(got.size(), 2);
    QCOMPARE(got[0].toObject().value(QStringLiteral("text")).toString(), QStringLiteral("w1"));
    QCOMPARE(got[1].toObject().value(QStringLiteral("text")).toString(), QStringLiteral("e2"));

    auto s = viewer(*host, &replay,
                    {{QStringLiteral("agents"), QJsonArray{QStringLiteral("*")}},
                     {QStringLiteral("sources"), QJsonArray{QStringLiteral("query.")}}});
    got = linesOf(replay);
    QCOMPARE(got.size(), 2);
    QCOMPARE(got[0].toObject().value(QStringLiteral("text")).toString(), QStringLiteral("i1"));
    QCOMPARE(got[1].toObject().value(QStringLiteral("text")).toString(), QStringLiteral("e1"));

    // Live lines are filtered the same way; a later unfiltered line proves delivery went on.
    a->sendJson(logMessage({line(QStringLiteral("i2"), {{QStringLiteral("level"), QStringLiteral("INFO")}}),
                            line(QStringLiteral("c1"),
                                 {{QStringLiteral("level"), QStringLiteral("CRITICAL")},
                                  {QStringLiteral("source"), QStringLiteral("query.x")}}),
                            line(QStringLiteral("e3"),
                                 {{QStringLiteral("level"), QStringLiteral("ERROR")},
                                  {QStringLiteral("source"), QStringLiteral("query.y")}})}));
    const QJsonObject m = s->next(QStringLiteral("log"));
    got = m.value(QStringLiteral("lines")).toArray();
    QCOMPARE(got.size(), 2);
    QCOMPARE(got[0].toObject().value(QStringLiteral("seq")).toInt(), 6);
    const QJsonObject mv = v->next(QStringLiteral("log"));
    QCOMPARE(mv.value(QStringLiteral("lines")).toArray().size(), 1);
    QCOMPARE(mv.value(QStringLiteral("lines")).toArray()[0].toObject().value(QStringLiteral("text")).toString(),
             QStringLiteral("e3"));
}

void TestHostServer::subscribeCoversLaterAgents()
{
    auto host = startHost();
    QVERIFY(host);
    auto all = viewer(*host);
    QList<QJsonObject> replay;
    auto named = viewer(*host, &replay, {{QStringLiteral("agents"), QJsonArray{QStringLiteral("late")}}});
    auto other = viewer(*host, &replay, {{QStringLiteral("agents"), QJsonArray{QStringLiteral("someone-else")}}});
    auto a = agent(*host, QStringLiteral("late"));
    const QJsonObject added = all->next(QStringLiteral("agent"));
    QCOMPARE(str(added, "event"), QStringLiteral("added"));
    QCOMPARE(added.value(QStringLiteral("agent")).toObject().value(QStringLiteral("id")).toString(),
             QStringLiteral("late"));
    a->sendJson(logMessage({line(QStringLiteral("first words"))}));
    StreamRecord r1, r2, r3;
    QVERIFY(collectUntil(*all, QStringLiteral("late"), 1, &r1));
    QVERIFY(collectUntil(*named, QStringLiteral("late"), 1, &r2));
    QVERIFY(!collectUntil(*other, QStringLiteral("late"), 1, &r3, 300));
}

void TestHostServer::unsubscribeStopsEvents()
{
    auto host = startHost();
    QVERIFY(host);
    auto a = agent(*host, QStringLiteral("u1"));
    auto b = agent(*host, QStringLiteral("u2"));
    auto v = viewer(*host);
    v->sendJson({{QStringLiteral("type"), QStringLiteral("unsubscribe")},
                 {QStringLiteral("agents"), QJsonArray{QStringLiteral("u1")}}});
    QTest::qWait(50);
    a->sendJson(logMessage({line(QStringLiteral("hidden"))}));
    b->sendJson(logMessage({line(QStringLiteral("shown"))}));
    StreamRecord rb, ra;
    QVERIFY(collectUntil(*v, QStringLiteral("u2"), 1, &rb));
    QVERIFY(!collectUntil(*v, QStringLiteral("u1"), 1, &ra, 300));
}

void TestHostServer::partialLinesThrottledAndReplaced()
{
    auto host = startHost();
    QVERIFY(host);
    auto a = agent(*host, QStringLiteral("p"));
    auto v = viewer(*host);
    for (int i = 0; i <= 100; ++i) {
        a->sendJson(logMessage({line(QStringLiteral("progress %1%").arg(i), {{QStringLiteral("partial"), true}})}));
        QTest::qWait(2);
    }
    QTest::qWait(400);
    QList<QString> partials;
    for (const QJsonObject& m : v->pending()) {
        for (const QJsonValue& l : m.value(QStringLiteral("lines")).toArray()) {
            QVERIFY(l.toObject().value(QStringLiteral("partial")).toBool());
            QVERIFY(!l.toObject().contains(QStringLiteral("seq")));
            partials.append(l.toObject().value(QStringLiteral("text")).toString());
        }
    }
    // At most 10 a second, always ending with the latest.
    QVERIFY(!partials.isEmpty());
    QVERIFY2(partials.size() < 60, qPrintable(QString::number(partials.size())));
    QCOMPARE(partials.last(), QStringLiteral("progress 100%"));
    QCOMPARE(host->linesIngested(), quint64(0));

    // A new viewer gets the current partial right after `subscribed`.
    TestClient late;
    QVERIFY(late.open(host->url()));
    late.helloViewer(Token);
    late.subscribe({{QStringLiteral("agents"), QJsonArray{QStringLiteral("p")}}});
    const QJsonObject current = late.next(QStringLiteral("log"));
    QCOMPARE(current.value(QStringLiteral("lines")).toArray()[0].toObject().value(QStringLiteral("text")).toString(),
             QStringLiteral("progress 100%"));

    // The complete line replaces it; a later viewer gets no partial.
    a->sendJson(logMessage({line(QStringLiteral("done"))}));
    QTRY_COMPARE(host->linesIngested(), quint64(1));
    TestClient after;
    QVERIFY(after.open(host->url()));
    after.helloViewer(Token);
    const QList<QJsonObject> replay = after.subscribe({{QStringLiteral("agents"), QJsonArray{QStringLiteral("p")}}});
    QCOMPARE(linesOf(replay).size(), 1);
    QVERIFY(!after.has(QStringLiteral("log"), 300));
}

void TestHostServer::forumMessages()
{
    auto host = startHost();
    QVERIFY(host);
    auto a = agent(*host, QStringLiteral("forum"), {{QStringLiteral("name"), QStringLiteral("Forum Engine")}});
    auto v = viewer(*host);
    a->sendJson({{QStringLiteral("type"), QStringLiteral("forum")},
                 {QStringLiteral("messages"),
                  QJsonArray{QJsonObject{{QStringLiteral("text"), QStringLiteral("## 核心事件概述\n第一轮")},
                                         {QStringLiteral("sender"), QStringLiteral("Query Engine")},
                                         {QStringLiteral("source"), QStringLiteral("QUERY")},
                                         {QStringLiteral("ts"), qint64(1763773200200)}},
                             QJsonObject{{QStringLiteral("text"), QStringLiteral("summary")},
                                         {QStringLiteral("role"), QStringLiteral("host")}}}}});
    const QJsonObject m = v->next(QStringLiteral("forum"));
    QCOMPARE(str(m, "agent"), QStringLiteral("forum"));
    const QJsonArray messages = m.value(QStringLiteral("messages")).toArray();
    QCOMPARE(messages.size(), 2);
    const QJsonObject first = messages[0].toObject();
    QCOMPARE(first.value(QStringLiteral("seq")).toInt(), 1);
    QCOMPARE(str(first, "sender"), QStringLiteral("Query Engine"));
    QCOMPARE(str(first, "role"), QStringLiteral("agent"));
    QCOMPARE(str(first, "source"), QStringLiteral("QUERY"));
    QCOMPARE(str(first, "text"), QStringLiteral("## 核心事件概述\n第一轮"));
    QCOMPARE(first.value(QStringLiteral("ts")).toInteger(), 1763773200200);
    const QJsonObject second = messages[1].toObject();
    QCOMPARE(second.value(QStringLiteral("seq")).toInt(), 2);
    QCOMPARE(str(second, "sender"), QStringLiteral("Forum Engine"));
    QCOMPARE(str(second, "role"), QStringLiteral("host"));
}

void TestHostServer::forumKeptOnDiskAcrossRestarts()
{
    QTemporaryDir dir;
    HostConfig config;
    config.logDirectory = dir.path();
    config.forumRetentionMessages = 20;
    const auto post = [](TestClient& client, const QJsonObject& message) {
        client.sendJson(
            {{QStringLiteral("type"), QStringLiteral("forum")}, {QStringLiteral("messages"), QJsonArray{message}}});
    };
    QByteArray hostId;
    {
        auto host = startHost(config);
        QVERIFY(host);
        hostId = host->hostId();
        auto a = agent(*host, QStringLiteral("talker"), {{QStringLiteral("name"), QStringLiteral("Talker")}});
        auto v = viewer(*host);
        for (int i = 1; i <= 30; ++i)
            post(*a, {{QStringLiteral("text"), QStringLiteral("message %1\twith\ttabs\nand a second line").arg(i)}});
        // Numbered by the agent from here, with a jump: 31..34 dropped by the agent.
        post(*a,
             {{QStringLiteral("seq"), 35},
              {QStringLiteral("text"), QStringLiteral("after the jump")},
              {QStringLiteral("sender"), QStringLiteral("Host\\Moderator")},
              {QStringLiteral("role"), QStringLiteral("host")},
              {QStringLiteral("source"), QStringLiteral("FORUM")},
              {QStringLiteral("ts"), qint64(1763773200200)}});
        // (A first gap may say the viewer fell behind the 20 messages held.)
        QJsonObject gap = v->next(QStringLiteral("gap"));
        if (str(gap, "reason") != QLatin1String("agent_dropped"))
            gap = v->next(QStringLiteral("gap"));
        QCOMPARE(str(gap, "kind"), QStringLiteral("forum"));
        QCOMPARE(str(gap, "reason"), QStringLiteral("agent_dropped"));
        QCOMPARE(gap.value(QStringLiteral("from")).toInt(), 31);
        QCOMPARE(gap.value(QStringLiteral("to")).toInt(), 34);
        QVERIFY(QTest::qWaitFor([&] {
            for (const QJsonObject& m : v->pending()) {
                for (const QJsonValue message : m.value(QStringLiteral("messages")).toArray()) {
                    if (message.toObject().value(QStringLiteral("seq")).toInt() == 35)
                        return true;
                }
            }
            return false;
        }));
        host->stop();
    }
    QVERIFY(QFile::exists(dir.filePath(QStringLiteral("talker.forum"))));

    // A new host on the same folder: same id, numbering goes on, the newest 20 are back.
    auto host = startHost(config);
    QVERIFY(host);
    QCOMPARE(host->hostId(), hostId);
    auto a = connectClient(*host);
    const QJsonObject welcome = a->helloAgent(Token, QStringLiteral("talker"));
    QCOMPARE(welcome.value(QStringLiteral("resume_from")).toObject().value(QStringLiteral("forum")).toInt(), 35);
    post(*a, {{QStringLiteral("text"), QStringLiteral("after the restart")}});

    QList<QJsonObject> replay;
    auto v = viewer(*host, &replay);
    QList<QJsonObject> messages;
    for (const QJsonObject& m : std::as_const(replay)) {
        for (const QJsonValue message : m.value(QStringLiteral("messages")).toArray())
            messages.append(message.toObject());
    }
    if (messages.isEmpty() || messages.last().value(QStringLiteral("seq")).toInt() != 36) {
        const QJsonObject live = v->next(QStringLiteral("forum"));
        for (const QJsonValue message : live.value(QStringLiteral("messages")).toArray())
            messages.append(message.toObject());
    }
    QCOMPARE(messages.size(), 20); // 13..30, 35, 36: the 20 held (31..34 are a gap)
    QCOMPARE(messages.first().value(QStringLiteral("seq")).toInt(), 13);
    QCOMPARE(str(messages.first(), "text"), QStringLiteral("message 13\twith\ttabs\nand a second line"));
    QCOMPARE(str(messages.first(), "sender"), QStringLiteral("Talker")); // its name when it posted
    QCOMPARE(str(messages.first(), "role"), QStringLiteral("agent"));
    const QJsonObject jumped = messages.at(18);
    QCOMPARE(jumped.value(QStringLiteral("seq")).toInt(), 35);
    QCOMPARE(str(jumped, "sender"), QStringLiteral("Host\\Moderator"));
    QCOMPARE(str(jumped, "role"), QStringLiteral("host"));
    QCOMPARE(str(jumped, "source"), QStringLiteral("FORUM"));
    QCOMPARE(jumped.value(QStringLiteral("ts")).toInteger(), 1763773200200);
    QCOMPARE(messages.last().value(QStringLiteral("seq")).toInt(), 36);

    // Older messages come from the file with `history`, gaps included.
    v->sendJson({{QStringLiteral("type"), QStringLiteral("history")},
                 {QStringLiteral("id"), QStringLiteral("f1")},
                 {QStringLiteral("agent"), QStringLiteral("talker")},
                 {QStringLiteral("kind"), QStringLiteral("forum")},
                 {QStringLiteral("before"), 36},
                 {QStringLiteral("limit"), 10}});
    const QJsonObject history = v->next(QStringLiteral("history"));
    QCOMPARE(str(history, "id"), QStringLiteral("f1"));
    QCOMPARE(str(history, "kind"), QStringLiteral("forum"));
    const QJsonArray older = history.value(QStringLiteral("messages")).toArray();
    QCOMPARE(older.size(), 10);
    QCOMPARE(older.first().toObject().value(QStringLiteral("seq")).toInt(), 22);
    QCOMPARE(older.last().toObject().value(QStringLiteral("seq")).toInt(), 35);
    const QJsonArray gaps = history.value(QStringLiteral("gaps")).toArray();
    QCOMPARE(gaps.size(), 1);
    QCOMPARE(gaps.first().toObject().value(QStringLiteral("from")).toInt(), 31);
    QCOMPARE(gaps.first().toObject().value(QStringLiteral("to")).toInt(), 34);
    QCOMPARE(str(gaps.first().toObject(), "reason"), QStringLiteral("agent_dropped"));
    QVERIFY(history.value(QStringLiteral("more")).toBool());
    v->sendJson({{QStringLiteral("type"), QStringLiteral("history")},
                 {QStringLiteral("agent"), QStringLiteral("talker")},
                 {QStringLiteral("kind"), QStringLiteral("forum")},
                 {QStringLiteral("before"), 22}});
    const QJsonObject first = v->next(QStringLiteral("history"));
    QCOMPARE(first.value(QStringLiteral("messages")).toArray().size(), 21);
    QVERIFY(!first.value(QStringLiteral("more")).toBool());
    v->sendJson({{QStringLiteral("type"), QStringLiteral("history")},
                 {QStringLiteral("agent"), QStringLiteral("talker")},
                 {QStringLiteral("kind"), QStringLiteral("chat")}});
    QCOMPARE(str(v->next(QStringLiteral("error")), "code"), QStringLiteral("bad_message"));
}

void TestHostServer::metricsStatusAndHostMetrics()
{
    HostConfig config;
    config.metricsIntervalMs = 100;
    auto host = startHost(config);
    QVERIFY(host);
    auto a = agent(*host, QStringLiteral("m"));
    auto v = viewer(*host);
    a->sendJson({{QStringLiteral("type"), QStringLiteral("metrics")},
                 {QStringLiteral("ts"), qint64(1763773200000)},
                 {QStringLiteral("values"),
                  QJsonObject{{QStringLiteral("cpu"), 12.5},
                              {QStringLiteral("rss_bytes"), 73400320},
                              {QStringLiteral("label"), QStringLiteral("not a number")}}}});
    const QJsonObject metrics = v->next(QStringLiteral("metrics"));
    QCOMPARE(str(metrics, "agent"), QStringLiteral("m"));
    QCOMPARE(metrics.value(QStringLiteral("ts")).toInteger(), 1763773200000);
    const QJsonObject values = metrics.value(QStringLiteral("values")).toObject();
    QCOMPARE(values.value(QStringLiteral("cpu")).toDouble(), 12.5);
    QCOMPARE(values.value(QStringLiteral("rss_bytes")).toInteger(), 73400320);
    QVERIFY(!values.contains(QStringLiteral("label")));

    a->sendJson({{QStringLiteral("type"), QStringLiteral("status")},
                 {QStringLiteral("state"), QStringLiteral("busy")},
                 {QStringLiteral("text"), QStringLiteral("analysing 42 posts")},
                 {QStringLiteral("progress"), 0.4},
                 {QStringLiteral("tasks"),
                  QJsonArray{QJsonObject{{QStringLiteral("id"), QStringLiteral("1")},
                                         {QStringLiteral("title"), QStringLiteral("search")},
                                         {QStringLiteral("state"), QStringLiteral("done")}}}}});
    const QJsonObject status = v->next(QStringLiteral("status"));
    QCOMPARE(str(status, "agent"), QStringLiteral("m"));
    QCOMPARE(str(status, "state"), QStringLiteral("busy"));
    QCOMPARE(str(status, "text"), QStringLiteral("analysing 42 posts"));
    QCOMPARE(status.value(QStringLiteral("progress")).toDouble(), 0.4);
    QCOMPARE(status.value(QStringLiteral("tasks")).toArray().size(), 1);

    TestClient later;
    QVERIFY(later.open(host->url()));
    const QJsonObject snapshot = later.helloViewer(Token);
    const QJsonObject described = snapshot.value(QStringLiteral("agents")).toArray()[0].toObject();
    QCOMPARE(str(described, "state"), QStringLiteral("busy"));
    QCOMPARE(described.value(QStringLiteral("status")).toObject().value(QStringLiteral("text")).toString(),
             QStringLiteral("analysing 42 posts"));

    const QJsonObject hm = v->next(QStringLiteral("host_metrics"), 5000);
    QVERIFY(!hm.isEmpty());
    QVERIFY(hm.value(QStringLiteral("ts")).toInteger() > 0);
    const QJsonObject hv = hm.value(QStringLiteral("values")).toObject();
    for (const char* key : {"cpu", "mem_used_bytes", "mem_total_bytes", "load1", "net_rx_bps", "net_tx_bps"})
        QVERIFY2(hv.value(QLatin1String(key)).isDouble(), key);
    QVERIFY(hv.value(QStringLiteral("mem_total_bytes")).toDouble()
            > hv.value(QStringLiteral("mem_used_bytes")).toDouble());
    QVERIFY(hv.value(QStringLiteral("cpu")).toDouble() >= 0 && hv.value(QStringLiteral("cpu")).toDouble() <= 100);
}

void TestHostServer::askAnswerFlow()
{
    auto host = startHost();
    QVERIFY(host);
    auto a = agent(*host, QStringLiteral("asker"));
    auto v = viewer(*host);
    a->sendJson({{QStringLiteral("type"), QStringLiteral("ask")},
                 {QStringLiteral("id"), QStringLiteral("q7")},
                 {QStringLiteral("text"), QStringLiteral("Publish the report?")},
                 {QStringLiteral("choices"), QJsonArray{QStringLiteral("approve"), QStringLiteral("reject")}}});
    const QJsonObject ask = v->next(QStringLiteral("ask"));
    QCOMPARE(str(ask, "agent"), QStringLiteral("asker"));
    QCOMPARE(str(ask, "id"), QStringLiteral("q7"));
    QCOMPARE(ask.value(QStringLiteral("choices")).toArray().size(), 2);

    TestClient other;
    QVERIFY(other.open(host->url()));
    const QJsonObject snapshot = other.helloViewer(Token);
    QCOMPARE(snapshot.value(QStringLiteral("asks")).toArray().size(), 1);

    auto answer = [&](const QString& id, const QString& askId) {
        v->sendJson(
            {{QStringLiteral("type"), QStringLiteral("command")},
             {QStringLiteral("id"), id},
             {QStringLiteral("agent"), QStringLiteral("asker")},
             {QStringLiteral("name"), QStringLiteral("answer")},
             {QStringLiteral("args"),
              QJsonObject{{QStringLiteral("ask"), askId}, {QStringLiteral("choice"), QStringLiteral("approve")}}}});
    };
    answer(QStringLiteral("c1"), QStringLiteral("q7"));
    const QJsonObject forwarded = a->next(QStringLiteral("command"));
    QCOMPARE(str(forwarded, "name"), QStringLiteral("answer"));
    QCOMPARE(forwarded.value(QStringLiteral("args")).toObject().value(QStringLiteral("choice")).toString(),
             QStringLiteral("approve"));
    const QJsonObject closed = v->next(QStringLiteral("ask_closed"));
    QCOMPARE(str(closed, "id"), QStringLiteral("q7"));
    QCOMPARE(str(closed, "agent"), QStringLiteral("asker"));
    QCOMPARE(str(closed, "choice"), QStringLiteral("approve"));
    a->sendJson({{QStringLiteral("type"), QStringLiteral("result")},
                 {QStringLiteral("id"), forwarded.value(QStringLiteral("id"))},
                 {QStringLiteral("ok"), true}});
    const QJsonObject result = v->next(QStringLiteral("result"));
    QCOMPARE(str(result, "id"), QStringLiteral("c1"));
    QVERIFY(result.value(QStringLiteral("ok")).toBool());

    // Answering again: the ask is no longer open.
    answer(QStringLiteral("c2"), QStringLiteral("q7"));
    const QJsonObject again = v->next(QStringLiteral("result"));
    QCOMPARE(str(again, "id"), QStringLiteral("c2"));
    QVERIFY(!again.value(QStringLiteral("ok")).toBool(true));

    // An offline agent's ask stays open, and answering it gets not_connected.
    a->sendJson({{QStringLiteral("type"), QStringLiteral("ask")},
                 {QStringLiteral("id"), QStringLiteral("q8")},
                 {QStringLiteral("text"), QStringLiteral("Continue?")}});
    QVERIFY(!v->next(QStringLiteral("ask")).isEmpty());
    a->socket()->close();
    QTRY_COMPARE(host->agentCount(), 0);
    answer(QStringLiteral("c3"), QStringLiteral("q8"));
    const QJsonObject offline = v->next(QStringLiteral("result"));
    QCOMPARE(str(offline, "error"), QStringLiteral("not_connected"));
    TestClient third;
    QVERIFY(third.open(host->url()));
    QCOMPARE(third.helloViewer(Token).value(QStringLiteral("asks")).toArray().size(), 1);
}

void TestHostServer::changesBeforeSubscribeAreCaughtUp()
{
    auto host = startHost();
    QVERIFY(host);
    auto quiet = agent(*host, QStringLiteral("quiet"));
    auto busy = agent(*host, QStringLiteral("busy"));
    auto leaving = agent(*host, QStringLiteral("leaving"));
    auto watcher = viewer(*host);
    busy->sendJson({{QStringLiteral("type"), QStringLiteral("ask")},
                    {QStringLiteral("id"), QStringLiteral("old")},
                    {QStringLiteral("text"), QStringLiteral("Keep going?")}});
    QVERIFY(!watcher->next(QStringLiteral("ask")).isEmpty());

    // A viewer that has its snapshot but has not subscribed yet.
    TestClient late;
    QVERIFY(late.open(host->url()));
    const QJsonObject snapshot = late.helloViewer(Token);
    QCOMPARE(snapshot.value(QStringLiteral("agents")).toArray().size(), 3);
    QCOMPARE(snapshot.value(QStringLiteral("asks")).toArray().size(), 1);

    // Meanwhile: a status, a new question, an answered one, a new agent, one gone offline.
    busy->sendJson({{QStringLiteral("type"), QStringLiteral("status")},
                    {QStringLiteral("state"), QStringLiteral("busy")},
                    {QStringLiteral("text"), QStringLiteral("crawling")}});
    busy->sendJson({{QStringLiteral("type"), QStringLiteral("ask")},
                    {QStringLiteral("id"), QStringLiteral("new")},
                    {QStringLiteral("text"), QStringLiteral("Publish?")}});
    watcher->sendJson({{QStringLiteral("type"), QStringLiteral("command")},
                       {QStringLiteral("id"), QStringLiteral("c1")},
                       {QStringLiteral("agent"), QStringLiteral("busy")},
                       {QStringLiteral("name"), QStringLiteral("answer")},
                       {QStringLiteral("args"),
                        QJsonObject{{QStringLiteral("ask"), QStringLiteral("old")},
                                    {QStringLiteral("choice"), QStringLiteral("yes")}}}});
    auto fresh = agent(*host, QStringLiteral("fresh"));
    leaving->socket()->close();
    QVERIFY(!watcher->next(QStringLiteral("status")).isEmpty());
    QVERIFY(!watcher->next(QStringLiteral("ask")).isEmpty());
    QVERIFY(!watcher->next(QStringLiteral("ask_closed")).isEmpty());
    QTRY_COMPARE(host->agentCount(), 3);
    QTRY_VERIFY(std::any_of(watcher->pending().begin(), watcher->pending().end(), [](const QJsonObject& m) {
        const QJsonObject a = m.value(QStringLiteral("agent")).toObject();
        return str(a, "id") == QLatin1String("leaving") && str(a, "state") == QLatin1String("offline");
    }));

    // The subscribe brings each of them, and nothing for the agent that did not change.
    const QList<QJsonObject> replay = late.subscribe({{QStringLiteral("agents"), QJsonArray{QStringLiteral("*")}}});
    QHash<QString, QJsonObject> agentEvents;
    QStringList asks;
    QStringList closed;
    for (const QJsonObject& m : replay) {
        const QString type = str(m, "type");
        if (type == QLatin1String("agent")) {
            const QJsonObject a = m.value(QStringLiteral("agent")).toObject();
            QVERIFY2(!agentEvents.contains(str(a, "id")), qPrintable(str(a, "id")));
            agentEvents.insert(str(a, "id"), m);
        } else if (type == QLatin1String("ask")) {
            asks.append(str(m, "id"));
        } else if (type == QLatin1String("ask_closed")) {
            closed.append(str(m, "id"));
            QCOMPARE(str(m, "agent"), QStringLiteral("busy"));
        }
    }
    QCOMPARE(agentEvents.size(), 3);
    QVERIFY(!agentEvents.contains(QStringLiteral("quiet")));
    QCOMPARE(str(agentEvents.value(QStringLiteral("fresh")), "event"), QStringLiteral("added"));
    QCOMPARE(str(agentEvents.value(QStringLiteral("leaving")), "event"), QStringLiteral("changed"));
    QCOMPARE(str(agentEvents.value(QStringLiteral("leaving")).value(QStringLiteral("agent")).toObject(), "state"),
             QStringLiteral("offline"));
    const QJsonObject busyNow = agentEvents.value(QStringLiteral("busy")).value(QStringLiteral("agent")).toObject();
    QCOMPARE(str(busyNow, "state"), QStringLiteral("busy"));
    QCOMPARE(str(busyNow.value(QStringLiteral("status")).toObject(), "text"), QStringLiteral("crawling"));
    QCOMPARE(asks, QStringList{QStringLiteral("new")});
    QCOMPARE(closed, QStringList{QStringLiteral("old")});

    // A second subscribe has nothing new to tell.
    const QList<QJsonObject> again = late.subscribe({{QStringLiteral("agents"), QJsonArray{QStringLiteral("*")}}});
    QVERIFY(std::none_of(again.begin(), again.end(), [](const QJsonObject& m) {
        const QString type = str(m, "type");
        return type == QLatin1String("agent") || type == QLatin1String("ask") || type == QLatin1String("ask_closed");
    }));
}

void TestHostServer::commandRoundTrip()
{
    auto host = startHost();
    QVERIFY(host);
    auto a = agent(*host, QStringLiteral("worker"));
    auto v1 = viewer(*host);
    auto v2 = viewer(*host);
    // Two viewers use the same command id; each gets its own result.
    for (TestClient* v : {v1.get(), v2.get()}) {
        v->sendJson({{QStringLiteral("type"), QStringLiteral("command")},
                     {QStringLiteral("id"), QStringLiteral("c42")},
                     {QStringLiteral("agent"), QStringLiteral("worker")},
                     {QStringLiteral("name"), QStringLiteral("pause")},
                     {QStringLiteral("args"), QJsonObject{{QStringLiteral("for"), 5}}}});
    }
    const QJsonObject c1 = a->next(QStringLiteral("command"));
    const QJsonObject c2 = a->next(QStringLiteral("command"));
    QCOMPARE(str(c1, "name"), QStringLiteral("pause"));
    QCOMPARE(c1.value(QStringLiteral("args")).toObject().value(QStringLiteral("for")).toInt(), 5);
    QVERIFY(str(c1, "id") != str(c2, "id"));
    a->sendJson({{QStringLiteral("type"), QStringLiteral("result")},
                 {QStringLiteral("id"), c2.value(QStringLiteral("id"))},
                 {QStringLiteral("ok"), false},
                 {QStringLiteral("text"), QStringLiteral("second")}});
    a->sendJson({{QStringLiteral("type"), QStringLiteral("result")},
                 {QStringLiteral("id"), c1.value(QStringLiteral("id"))},
                 {QStringLiteral("ok"), true},
                 {QStringLiteral("text"), QStringLiteral("first")}});
    const QJsonObject r1 = v1->next(QStringLiteral("result"));
    const QJsonObject r2 = v2->next(QStringLiteral("result"));
    QCOMPARE(str(r1, "id"), QStringLiteral("c42"));
    QCOMPARE(str(r2, "id"), QStringLiteral("c42"));
    QCOMPARE(str(r1, "text"), QStringLiteral("first"));
    QVERIFY(r1.value(QStringLiteral("ok")).toBool());
    QCOMPARE(str(r2, "text"), QStringLiteral("second"));
    QVERIFY(!r2.value(QStringLiteral("ok")).toBool(true));
    // Exactly one result each: a duplicate answer goes nowhere.
    a->sendJson({{QStringLiteral("type"), QStringLiteral("result")},
                 {QStringLiteral("id"), c1.value(QStringLiteral("id"))},
                 {QStringLiteral("ok"), true}});
    QVERIFY(!v1->has(QStringLiteral("result"), 300));
}

void TestHostServer::commandErrors()
{
    auto host = startHost();
    QVERIFY(host);
    auto a = agent(*host, QStringLiteral("present"));
    auto gone = agent(*host, QStringLiteral("gone"));
    gone->socket()->close();
    QTRY_COMPARE(host->agentCount(), 1);
    auto v = viewer(*host);
    auto command = [&](const QJsonValue& id, const QJsonValue& agentId, const QJsonValue& name) {
        QJsonObject c{{QStringLiteral("type"), QStringLiteral("command")}, {QStringLiteral("id"), id}};
        if (!agentId.isUndefined())
            c[QStringLiteral("agent")] = agentId;
        if (!name.isUndefined())
            c[QStringLiteral("name")] = name;
        v->sendJson(c);
        return v->next(QStringLiteral("result"));
    };
    QCOMPARE(str(command(QStringLiteral("c1"), QStringLiteral("nobody"), QStringLiteral("x")), "error"),
             QStringLiteral("unknown_agent"));
    QCOMPARE(str(command(QStringLiteral("c2"), QStringLiteral("gone"), QStringLiteral("x")), "error"),
             QStringLiteral("not_connected"));
    QCOMPARE(str(command(QStringLiteral("c3"), QStringLiteral("present"), QJsonValue::Undefined), "error"),
             QStringLiteral("bad_message"));
    // A reused id while the first is pending.
    v->sendJson({{QStringLiteral("type"), QStringLiteral("command")},
                 {QStringLiteral("id"), QStringLiteral("dup")},
                 {QStringLiteral("agent"), QStringLiteral("present")},
                 {QStringLiteral("name"), QStringLiteral("slow")}});
    QVERIFY(!a->next(QStringLiteral("command")).isEmpty());
    const QJsonObject dup = command(QStringLiteral("dup"), QStringLiteral("present"), QStringLiteral("slow"));
    QCOMPARE(str(dup, "id"), QStringLiteral("dup"));
    QCOMPARE(str(dup, "error"), QStringLiteral("bad_message"));
    QVERIFY(!dup.value(QStringLiteral("ok")).toBool(true));
    // A command without an id cannot get a result: an error instead.
    v->sendJson({{QStringLiteral("type"), QStringLiteral("command")},
                 {QStringLiteral("agent"), QStringLiteral("present")},
                 {QStringLiteral("name"), QStringLiteral("x")}});
    QCOMPARE(str(v->next(QStringLiteral("error")), "code"), QStringLiteral("bad_message"));
}

void TestHostServer::commandTimeout()
{
    HostConfig config;
    config.commandTimeoutMs = 300;
    auto host = startHost(config);
    QVERIFY(host);
    auto a = agent(*host, QStringLiteral("mute"));
    auto v = viewer(*host);
    v->sendJson({{QStringLiteral("type"), QStringLiteral("command")},
                 {QStringLiteral("id"), QStringLiteral("t1")},
                 {QStringLiteral("agent"), QStringLiteral("mute")},
                 {QStringLiteral("name"), QStringLiteral("think")}});
    const QJsonObject forwarded = a->next(QStringLiteral("command"));
    const QJsonObject result = v->next(QStringLiteral("result"), 5000);
    QCOMPARE(str(result, "id"), QStringLiteral("t1"));
    QCOMPARE(str(result, "error"), QStringLiteral("timeout"));
    QCOMPARE(str(result, "text"), QStringLiteral("timeout"));
    // A late answer is dropped, and the id can be used again.
    a->sendJson({{QStringLiteral("type"), QStringLiteral("result")},
                 {QStringLiteral("id"), forwarded.value(QStringLiteral("id"))},
                 {QStringLiteral("ok"), true}});
    QVERIFY(!v->has(QStringLiteral("result"), 300));
    v->sendJson({{QStringLiteral("type"), QStringLiteral("command")},
                 {QStringLiteral("id"), QStringLiteral("t1")},
                 {QStringLiteral("agent"), QStringLiteral("mute")},
                 {QStringLiteral("name"), QStringLiteral("think")}});
    QVERIFY(!a->next(QStringLiteral("command")).isEmpty());
}

void TestHostServer::commandFanOut()
{
    auto host = startHost();
    QVERIFY(host);
    auto v = viewer(*host);
    v->sendJson({{QStringLiteral("type"), QStringLiteral("command")},
                 {QStringLiteral("id"), QStringLiteral("all0")},
                 {QStringLiteral("agent"), QStringLiteral("*")},
                 {QStringLiteral("name"), QStringLiteral("status")}});
    const QJsonObject none = v->next(QStringLiteral("result"));
    QCOMPARE(str(none, "error"), QStringLiteral("no_agents"));

    auto a = agent(*host, QStringLiteral("fa"));
    auto b = agent(*host, QStringLiteral("fb"));
    auto c = agent(*host, QStringLiteral("fc"));
    c->socket()->close();
    QTRY_COMPARE(host->agentCount(), 2);
    v->sendJson({{QStringLiteral("type"), QStringLiteral("command")},
                 {QStringLiteral("id"), QStringLiteral("all1")},
                 {QStringLiteral("agent"), QStringLiteral("*")},
                 {QStringLiteral("name"), QStringLiteral("status")}});
    for (TestClient* agentClient : {a.get(), b.get()}) {
        const QJsonObject cmd = agentClient->next(QStringLiteral("command"));
        agentClient->sendJson({{QStringLiteral("type"), QStringLiteral("result")},
                               {QStringLiteral("id"), cmd.value(QStringLiteral("id"))},
                               {QStringLiteral("ok"), true},
                               {QStringLiteral("text"), QStringLiteral("fine")}});
    }
    QSet<QString> answered;
    for (int i = 0; i < 2; ++i) {
        const QJsonObject r = v->next(QStringLiteral("result"));
        QCOMPARE(str(r, "id"), QStringLiteral("all1"));
        answered.insert(str(r, "agent"));
    }
    QCOMPARE(answered, (QSet<QString>{QStringLiteral("fa"), QStringLiteral("fb")}));
    QVERIFY(!v->has(QStringLiteral("result"), 300));
}

void TestHostServer::commandDisconnectedWhenAgentLeaves()
{
    auto host = startHost();
    QVERIFY(host);
    auto a = agent(*host, QStringLiteral("leaver"));
    auto v = viewer(*host);
    v->sendJson({{QStringLiteral("type"), QStringLiteral("command")},
                 {QStringLiteral("id"), QStringLiteral("d1")},
                 {QStringLiteral("agent"), QStringLiteral("leaver")},
                 {QStringLiteral("name"), QStringLiteral("work")}});
    QVERIFY(!a->next(QStringLiteral("command")).isEmpty());
    a->socket()->abort();
    const QJsonObject r = v->next(QStringLiteral("result"));
    QCOMPARE(str(r, "id"), QStringLiteral("d1"));
    QCOMPARE(str(r, "error"), QStringLiteral("disconnected"));
}

void TestHostServer::reconnectReplacesOldConnection()
{
    auto host = startHost();
    QVERIFY(host);
    auto first = agent(*host, QStringLiteral("twin"));
    auto v = viewer(*host);
    v->sendJson({{QStringLiteral("type"), QStringLiteral("command")},
                 {QStringLiteral("id"), QStringLiteral("r1")},
                 {QStringLiteral("agent"), QStringLiteral("twin")},
                 {QStringLiteral("name"), QStringLiteral("work")}});
    QVERIFY(!first->next(QStringLiteral("command")).isEmpty());
    auto second = agent(*host, QStringLiteral("twin"));
    QVERIFY(first->waitClosed());
    QCOMPARE(first->closeCode(), 4000);
    QCOMPARE(first->closeReason(), QStringLiteral("replaced"));
    const QJsonObject r = v->next(QStringLiteral("result"));
    QCOMPARE(str(r, "error"), QStringLiteral("disconnected"));
    QCOMPARE(host->agentCount(), 1);
    second->sendJson(logMessage({line(QStringLiteral("from the new connection"))}));
    StreamRecord rec;
    QVERIFY(collectUntil(*v, QStringLiteral("twin"), 1, &rec));
}

void TestHostServer::offlineAgentStaysListed()
{
    auto host = startHost();
    QVERIFY(host);
    auto a = agent(*host, QStringLiteral("ghost"));
    a->sendJson(logMessage({line(QStringLiteral("last words"))}));
    auto v = viewer(*host);
    a->socket()->close();
    const QJsonObject changed = v->next(QStringLiteral("agent"));
    QCOMPARE(str(changed, "event"), QStringLiteral("changed"));
    QCOMPARE(changed.value(QStringLiteral("agent")).toObject().value(QStringLiteral("state")).toString(),
             QStringLiteral("offline"));
    TestClient later;
    QVERIFY(later.open(host->url()));
    const QJsonObject snapshot = later.helloViewer(Token);
    const QJsonObject ghost = snapshot.value(QStringLiteral("agents")).toArray()[0].toObject();
    QCOMPARE(str(ghost, "state"), QStringLiteral("offline"));
    QCOMPARE(ghost.value(QStringLiteral("last_seq")).toObject().value(QStringLiteral("log")).toInt(), 1);
    const QList<QJsonObject> replay = later.subscribe({{QStringLiteral("agents"), QJsonArray{QStringLiteral("*")}}});
    QCOMPARE(linesOf(replay).size(), 1);
}

void TestHostServer::silentPeerTimesOut()
{
    HostConfig config;
    config.pingIntervalMs = 100;
    config.idleTimeoutMs = 600;
    config.closeGraceMs = 300;
    auto host = startHost(config);
    QVERIFY(host);
    // A raw client never answers pings, as a half-open connection would not.
    RawWebSocket raw;
    QVERIFY(raw.connectTcp(host->port()));
    QCOMPARE(raw.upgrade(), 101);
    raw.sendText(QByteArray(R"({"type":"hello","protocol":1,"role":"agent","token":")") + Token.toUtf8()
                 + R"(","agent":{"id":"silent"}})");
    QElapsedTimer timer;
    timer.start();
    QCOMPARE(raw.waitCloseCode(10000), 1011);
    QVERIFY(timer.elapsed() >= 400);
    QVERIFY(raw.waitDisconnected(5000));
    QTRY_COMPARE(host->agentCount(), 0);

    // A client that answers pings stays connected well past the idle timeout.
    auto alive = agent(*host, QStringLiteral("alive"));
    QTest::qWait(1500);
    QVERIFY(alive->isOpen());
}

void TestHostServer::pingsAreSent()
{
    HostConfig config;
    config.pingIntervalMs = 100;
    auto host = startHost(config);
    QVERIFY(host);
    RawWebSocket raw;
    QVERIFY(raw.connectTcp(host->port()));
    QCOMPARE(raw.upgrade(), 101);
    RawWebSocket::Frame frame;
    QVERIFY(raw.nextFrame(&frame, 3000));
    QCOMPARE(frame.opcode, 0x9);
}

void TestHostServer::slowViewerGetsGapNotUnboundedQueue()
{
    HostConfig config;
    config.logRetentionLines = 2000;
    config.viewerBacklogBytes = 256 * 1024;
    auto host = startHost(config);
    QVERIFY(host);
    auto a = agent(*host, QStringLiteral("flood"));

    // A viewer that stops reading.
    RawWebSocket raw;
    QVERIFY(raw.connectTcp(host->port()));
    QCOMPARE(raw.upgrade(), 101);
    raw.sendText(QByteArray(R"({"type":"hello","protocol":1,"role":"viewer","token":")") + Token.toUtf8() + "\"}");
    raw.sendText(R"({"type":"subscribe","agents":["*"]})");
    RawWebSocket::Frame frame;
    bool subscribed = false;
    while (!subscribed && raw.nextFrame(&frame, 5000))
        subscribed = frame.payload.contains("\"subscribed\"");
    QVERIFY(subscribed);
    raw.stopReading();

    const QString filler(200, QLatin1Char('x'));
    const int total = 60000;
    for (int sent = 0; sent < total;) {
        QJsonArray lines;
        for (int i = 0; i < 500; ++i, ++sent)
            lines.append(line(QStringLiteral("%1 %2").arg(sent + 1).arg(filler)));
        a->sendJson(logMessage(lines));
        QTest::qWait(1);
    }
    QTRY_COMPARE_WITH_TIMEOUT(host->linesIngested(), quint64(total), 30000);

    // Reading again: every number arrives once, in order, or inside a slow_consumer gap.
    raw.resumeReading();
    QMap<qint64, bool> seen;
    qint64 expected = 1;
    int gaps = 0;
    QString problem;
    while (expected <= total && raw.nextFrame(&frame, 10000)) {
        if (frame.opcode != 0x1)
            continue;
        const QJsonObject m = QJsonDocument::fromJson(frame.payload).object();
        const QString type = str(m, "type");
        if (type == QLatin1String("gap")) {
            QCOMPARE(m.value(QStringLiteral("from")).toInteger(), expected);
            QCOMPARE(str(m, "reason"), QStringLiteral("slow_consumer"));
            expected = m.value(QStringLiteral("to")).toInteger() + 1;
            ++gaps;
        } else if (type == QLatin1String("log")) {
            for (const QJsonValue& l : m.value(QStringLiteral("lines")).toArray()) {
                const qint64 seq = l.toObject().value(QStringLiteral("seq")).toInteger();
                QCOMPARE(seq, expected);
                QVERIFY(l.toObject().value(QStringLiteral("text")).toString().startsWith(QString::number(seq) + u' '));
                ++expected;
            }
        }
    }
    QCOMPARE(expected, qint64(total + 1));
    QVERIFY(gaps >= 1);
}

void TestHostServer::slowViewerDoesNotSlowOthers()
{
    HostConfig config;
    config.viewerBacklogBytes = 128 * 1024;
    auto host = startHost(config);
    QVERIFY(host);
    auto a = agent(*host, QStringLiteral("busy"));
    RawWebSocket stuck;
    QVERIFY(stuck.connectTcp(host->port()));
    QCOMPARE(stuck.upgrade(), 101);
    stuck.sendText(QByteArray(R"({"type":"hello","protocol":1,"role":"viewer","token":")") + Token.toUtf8() + "\"}");
    stuck.sendText(R"({"type":"subscribe","agents":["*"]})");
    QTest::qWait(100);
    stuck.stopReading();
    auto good = viewer(*host);

    const QString filler(300, QLatin1Char('y'));
    const int total = 20000;
    for (int sent = 0; sent < total;) {
        QJsonArray lines;
        for (int i = 0; i < 400; ++i, ++sent)
            lines.append(line(filler));
        a->sendJson(logMessage(lines));
        QTest::qWait(1);
    }
    StreamRecord r;
    QVERIFY(collectUntil(*good, QStringLiteral("busy"), total, &r, 60000));
    QString problem;
    QVERIFY2(r.coversExactly(total, &problem), qPrintable(problem));
    QVERIFY(r.gaps.isEmpty());
}

void TestHostServer::rateLimitDropsWithGap()
{
    HostConfig config;
    config.rateLimitLinesPerSecond = 50;
    config.rateLimitBurst = 50;
    auto host = startHost(config);
    QVERIFY(host);
    auto a = agent(*host, QStringLiteral("chatty"));
    auto v = viewer(*host);
    QJsonArray lines;
    for (int i = 0; i < 200; ++i)
        lines.append(line(QStringLiteral("spam %1").arg(i)));
    a->sendJson(logMessage(lines));
    const QJsonObject error = a->next(QStringLiteral("error"));
    QCOMPARE(str(error, "code"), QStringLiteral("rate_limited"));
    StreamRecord r;
    QVERIFY(collectUntil(*v, QStringLiteral("chatty"), 200, &r));
    QString problem;
    QVERIFY2(r.coversExactly(200, &problem), qPrintable(problem));
    QVERIFY(r.seqs.size() >= 50 && r.seqs.size() < 60);
    QVERIFY(!r.gaps.isEmpty());
    for (const QJsonObject& g : r.gaps)
        QCOMPARE(str(g, "reason"), QStringLiteral("rate_limited"));
    // Only one error per second.
    a->sendJson(logMessage(lines));
    QVERIFY(!a->has(QStringLiteral("error"), 200));
    QVERIFY(a->isOpen());
}

void TestHostServer::retentionBoundsMemory()
{
    HostConfig config;
    config.logRetentionLines = 1000000;
    config.logRetentionBytes = 64 * 1024;
    auto host = startHost(config);
    QVERIFY(host);
    auto a = agent(*host, QStringLiteral("bytes"));
    const QString filler(1000, QLatin1Char('z'));
    QJsonArray lines;
    for (int i = 0; i < 500; ++i)
        lines.append(line(filler));
    a->sendJson(logMessage(lines));
    QTRY_COMPARE(host->linesIngested(), quint64(500));
    QList<QJsonObject> replay;
    auto v = viewer(*host, &replay);
    const int kept = int(linesOf(replay).size());
    // 64 KiB holds about 60 lines of 1 KB plus their entries.
    QVERIFY2(kept >= 55 && kept <= 64, qPrintable(QString::number(kept)));
}

void TestHostServer::tokenGeneratedWhenNoneConfigured()
{
    QTemporaryDir dir;
    qputenv("XDG_CONFIG_HOME", dir.path().toUtf8());
    HostConfig config;
    config.port = 0;
    HostServer host(config);
    QVERIFY(host.start());
    const QString path = dir.path() + QStringLiteral("/agentdeck/token");
    QCOMPARE(host.tokenPath(), path);
    QVERIFY(host.tokenWasGenerated());
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QString token = QString::fromUtf8(file.readAll()).trimmed();
    QVERIFY(token.size() >= 40);
    QCOMPARE(
        file.permissions()
            & (QFileDevice::ReadGroup | QFileDevice::ReadOther | QFileDevice::WriteGroup | QFileDevice::WriteOther),
        QFileDevice::Permissions());
    TestClient v;
    QVERIFY(v.open(host.url()));
    QCOMPARE(str(v.helloViewer(token), "type"), QStringLiteral("snapshot"));
    host.stop();

    HostServer second(config);
    QVERIFY(second.start());
    QVERIFY(!second.tokenWasGenerated());
    QCOMPARE(second.token(), token);
}

void TestHostServer::tlsWithCertificate()
{
    QTemporaryDir dir;
    const QString cert = dir.filePath(QStringLiteral("cert.pem"));
    const QString key = dir.filePath(QStringLiteral("key.pem"));
    QVERIFY(makeCertificate(cert, key));

    HostConfig config;
    config.tlsCertificate = cert;
    config.tlsKey = key;
    auto host = startHost(config);
    QVERIFY(host);
    QCOMPARE(host->url().scheme(), QStringLiteral("wss"));

    // A client that trusts exactly this certificate.
    TestClient client;
    QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
    ssl.setCaCertificates(QSslCertificate::fromPath(cert));
    client.socket()->setSslConfiguration(ssl);
    QVERIFY(client.open(host->url()));
    QCOMPARE(str(client.helloAgent(Token, QStringLiteral("secure")), "type"), QStringLiteral("welcome"));

    // One that does not trust it fails the handshake.
    TestClient untrusting;
    QSignalSpy errors(untrusting.socket(), &QWebSocket::sslErrors);
    QVERIFY(!untrusting.open(host->url(), {}, 3000));
    QVERIFY(errors.count() >= 1);

    // Plain ws:// to a TLS host gets nowhere.
    QUrl plain = host->url();
    plain.setScheme(QStringLiteral("ws"));
    TestClient cleartext;
    QVERIFY(!cleartext.open(plain, {}, 3000));
}

QTEST_GUILESS_MAIN(TestHostServer)
#include "tst_hostserver.moc"
