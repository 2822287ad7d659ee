// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/bridge/filefollower.h"
#include "server/bridge/logformats.h"
#include "server/engine/hostconfig.h"
#include "server/engine/hostserver.h"
#include "server/protocol/agentdefinition.h"
#include "server/protocol/json.h"
#include "support/fixtures.h"
#include "support/testclient.h"

#include <QDateTime>
#include <QDir>
#include <QJsonArray>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTimeZone>

namespace {

const QString Token = QStringLiteral("followed-file-test-token-0123456789");

QString writerScript()
{
    return QStringLiteral(AGENTDECK_SOURCE_DIR "/tests/support/log_writer.py");
}

/// What log_writer.py writes as line n.
QByteArray writtenLine(int n)
{
    return QStringLiteral("line %1 日志 %2").arg(n).arg(QString(n % 37, QLatin1Char('x'))).toUtf8();
}

/// The lines a follower hands on, and its notes.
struct Collected
{
    QList<QByteArray> lines;
    QStringList notes;
    QByteArray partial;

    FileFollower::Callbacks callbacks()
    {
        FileFollower::Callbacks c;
        c.line = [this](QByteArrayView line) {
            lines.append(line.toByteArray());
        };
        c.partial = [this](QByteArrayView text) {
            partial = text.toByteArray();
        };
        c.note = [this](const QString& note, bool) {
            notes.append(note);
        };
        return c;
    }
    bool waitFor(qsizetype count, int timeoutMs = 20000)
    {
        return QTest::qWaitFor([&] { return lines.size() >= count; }, timeoutMs);
    }
};

/// "lines from..to are each there once, in order", or what is wrong.
QString checkExactly(const QList<QByteArray>& lines, int from, int to)
{
    if (lines.size() != to - from + 1)
        return QStringLiteral("%1 lines instead of %2").arg(lines.size()).arg(to - from + 1);
    for (int n = from; n <= to; ++n) {
        if (lines[n - from] != writtenLine(n))
            return QStringLiteral("line %1 is \"%2\"").arg(n - from).arg(QString::fromUtf8(lines[n - from]));
    }
    return {};
}

void appendLines(const QString& path, int from, int to)
{
    QFile file(path);
    QVERIFY(file.open(QIODevice::Append));
    for (int n = from; n <= to; ++n)
        file.write(writtenLine(n) + '\n');
}

/// Where a follower of path stands once it has read its first lines (null if it did not).
FileFollower::Position positionAfterReading(const QString& path, qsizetype lines)
{
    Collected got;
    FileFollower follower(path, 65536, got.callbacks());
    follower.start({}, 1000);
    return got.waitFor(lines, 5000) ? follower.position() : FileFollower::Position();
}

/// A host that follows path as the agent "worker" (plain) and keeps its files in logs.
HostConfig followingConfig(const QString& logs, const QString& path)
{
    HostConfig config;
    config.port = 0;
    config.token = Token;
    config.logDirectory = logs;
    AgentDefinition worker;
    worker.id = "worker";
    worker.follow = AgentDefinition::Follow{path, "plain", 1000};
    config.agents.push_back(worker);
    return config;
}

/// The file's lines a new viewer of "worker" gets from host in ms, history first (the
/// host's own notes left out).
QList<QByteArray> workerLines(HostServer& host, int ms)
{
    TestClient viewer;
    if (!viewer.open(host.url()))
        return {};
    viewer.helloViewer(Token);
    QList<QJsonObject> messages = viewer.subscribe(
        {{QStringLiteral("agents"), QJsonArray{QStringLiteral("worker")}}, {QStringLiteral("history"), 100000}});
    QDeadlineTimer deadline(ms);
    do {
        const QJsonObject m = viewer.next({}, 20);
        if (!m.isEmpty())
            messages.append(m);
    } while (!deadline.hasExpired());
    QList<QByteArray> texts;
    for (const QJsonObject& m : std::as_const(messages)) {
        for (const QJsonValue& line : m.value(QStringLiteral("lines")).toArray()) {
            const QString text = line[QStringLiteral("text")].toString();
            if (text.startsWith(QLatin1String("line ")))
                texts.append(text.toUtf8());
        }
    }
    return texts;
}

} // namespace

/// Following files like tail -F, and reading the formats bots and BettaFish write.
class TestFollowedFile final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void bettafishAppFormat();
    void bettafishForumFormat();
    void jsonlFormat();
    void clockPrefixRollsBackAcrossMidnight();
    void followsWhileTheWriterWrites_data();
    void followsWhileTheWriterWrites();
    void historyIsTheLastLines();
    void partialLineShownUntilItEnds();
    void resumesAtTheSavedPosition();
    void resumesInTheRotatedFile();
    void hostGoesOnAfterARestart();
    void fileMadeAnewInPlaceIsReadFromTheStart();
    void notesForWhatCannotBeFollowed();
    void redefiningKeepsThePlace();
    void stopKeepsThePlace();
    void definitionErrors();
};

void TestFollowedFile::bettafishAppFormat()
{
    const QList<QByteArray> lines = fixtureLines("insight.log");
    QVERIFY(lines.size() > 150);
    LogFormats::LineReader reader(LogFormats::Format::BettaFishApp);
    const qint64 now = QDateTime(QDate(2025, 11, 14), QTime(15, 0)).toMSecsSinceEpoch();
    LogLevel previous = LogLevel::Unknown;
    int continuations = 0;
    for (const QByteArray& line : lines) {
        const LogFormats::Entry e = reader.read(line, now);
        // The text is the app's line as it printed it: only "[HH:MM:SS] " is gone.
        QCOMPARE(e.text, line.mid(11));
        const QTime time = QTime::fromString(QString::fromLatin1(line.mid(1, 8)), QStringLiteral("HH:mm:ss"));
        QCOMPARE(e.ts, QDateTime(QDate(2025, 11, 14), time).toMSecsSinceEpoch());
        if (const auto header = LogFormats::loguruHeader(e.text)) {
            QCOMPARE(e.level, header->level);
            QVERIFY(!e.source.isEmpty());
            QVERIFY(!e.source.contains(':'));
        } else {
            // A traceback's or a dump's line belongs to the record above it.
            QCOMPARE(e.level, previous);
            ++continuations;
        }
        previous = e.level;
    }
    QVERIFY(continuations >= 3);
    const LogFormats::Entry success = reader.read(
        "[14:02:12] 2025-11-14 14:02:12.037 | SUCCESS  | InsightEngine.agent:run:41 - 段落 1 总结完成", now);
    QCOMPARE(success.level, LogLevel::Info);
    QCOMPARE(success.source, QByteArray("InsightEngine.agent"));
    const LogFormats::Entry error =
        reader.read("[14:02:12] 2025-11-14 14:02:12.222 | ERROR    | utils.retry:call:46 - 失败", now);
    QCOMPARE(error.level, LogLevel::Error);
    QCOMPARE(reader.read("[14:02:12] Traceback (most recent call last):", now).level, LogLevel::Error);
}

void TestFollowedFile::bettafishForumFormat()
{
    const QList<QByteArray> lines = fixtureLines("forum.log");
    LogFormats::LineReader reader(LogFormats::Format::BettaFishForum);
    const qint64 now = QDateTime(QDate(2025, 11, 14), QTime(15, 0)).toMSecsSinceEpoch();
    int host = 0;
    int starts = 0;
    for (const QByteArray& line : lines) {
        const LogFormats::Entry e = reader.read(line, now);
        QVERIFY2(e.forum, line.constData());
        const QByteArray source = line.mid(12, line.indexOf(']', 12) - 12);
        QCOMPARE(e.forum->source, source);
        QVERIFY(!e.forum->text.contains(QLatin1String("\\n")));
        if (source == "HOST") {
            ++host;
            QCOMPARE(e.forum->role, QByteArrayView("host"));
            QVERIFY(e.forum->text.contains(QLatin1String("\n\n**二、观点整合与对比分析**\n")));
        } else if (source == "SYSTEM") {
            QCOMPARE(e.forum->role, QByteArrayView("system"));
            starts += e.forum->startsConversation ? 1 : 0;
        } else {
            QCOMPARE(e.forum->role, QByteArrayView("agent"));
            QCOMPARE(e.forum->sender, source + " Engine");
        }
    }
    QCOMPARE(host, 2);
    QCOMPARE(starts, 1);
    QCOMPARE(LogFormats::unescapedForumBody("a\\nb\\r\\nc"), QByteArray("a\nb\r\nc"));
    // Newer BettaFish writes the search session's id before the body.
    const LogFormats::Entry withId = reader.read("[14:03:40] [QUERY] [a1b2c3] ## 概述\\n- 一", now);
    QCOMPARE(withId.forum->text, QByteArray("## 概述\n- 一"));
}

void TestFollowedFile::jsonlFormat()
{
    LogFormats::LineReader reader(LogFormats::Format::Jsonl);
    const qint64 now = 1763773200000;
    LogFormats::Entry e =
        reader.read(R"({"ts":1763773100.5,"level":"warning","msg":"queue is long","logger":"worker.queue"})", now);
    QCOMPARE(e.ts, qint64(1763773100500));
    QCOMPARE(e.level, LogLevel::Warning);
    QCOMPARE(e.text, QByteArray("queue is long"));
    QCOMPARE(e.source, QByteArray("worker.queue"));
    e = reader.read(R"({"time":"2025-11-14T14:02:12.037Z","message":"Traceback: boom","source":"bot"})", now);
    QCOMPARE(e.ts, QDateTime(QDate(2025, 11, 14), QTime(14, 2, 12, 37), QTimeZone::utc()).toMSecsSinceEpoch());
    QCOMPARE(e.text, QByteArray("Traceback: boom"));
    QCOMPARE(e.source, QByteArray("bot"));
    // Not an object: kept as it is, so nothing is lost.
    e = reader.read("not json at all", now);
    QCOMPARE(e.text, QByteArray("not json at all"));
    QCOMPARE(e.ts, now);
}

void TestFollowedFile::clockPrefixRollsBackAcrossMidnight()
{
    const qint64 justAfterMidnight = QDateTime(QDate(2025, 11, 15), QTime(0, 0, 5)).toMSecsSinceEpoch();
    QCOMPARE(LogFormats::timeToday((23 * 3600 + 59 * 60 + 58) * 1000, justAfterMidnight),
             QDateTime(QDate(2025, 11, 14), QTime(23, 59, 58)).toMSecsSinceEpoch());
    QCOMPARE(LogFormats::timeToday(3000, justAfterMidnight),
             QDateTime(QDate(2025, 11, 15), QTime(0, 0, 3)).toMSecsSinceEpoch());
    QVERIFY(!LogFormats::clockPrefix("[24:00:00] x"));
    QVERIFY(!LogFormats::clockPrefix("[1:00:00] x"));
}

void TestFollowedFile::followsWhileTheWriterWrites_data()
{
    QTest::addColumn<QStringList>("events");
    QTest::addColumn<bool>("createdLater");
    QTest::newRow("appended") << QStringList() << false;
    QTest::newRow("not there yet") << QStringList() << true;
    QTest::newRow("rotated") << QStringList{QStringLiteral("rotate@700"), QStringLiteral("rotate@1400")} << false;
    QTest::newRow("rotated, old file still written")
        << QStringList{QStringLiteral("held@1"), QStringLiteral("rotate@800"), QStringLiteral("reopen@950")} << false;
    QTest::newRow("truncated") << QStringList{QStringLiteral("truncate@1000")} << false;
    QTest::newRow("deleted and created again")
        << QStringList{QStringLiteral("delete@600"), QStringLiteral("delete@1500")} << false;
}

void TestFollowedFile::followsWhileTheWriterWrites()
{
    QFETCH(QStringList, events);
    QFETCH(bool, createdLater);
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("worker.log"));
    if (!createdLater) {
        QFile empty(path);
        QVERIFY(empty.open(QIODevice::WriteOnly));
    }
    Collected got;
    FileFollower follower(path, 65536, got.callbacks());
    follower.start({}, 1000);
    QCOMPARE(follower.isOpen(), !createdLater);
    constexpr int Count = 2000;
    QProcess writer;
    writer.start(QStringLiteral(AGENTDECK_PYTHON), QStringList{writerScript(), path, QString::number(Count)} + events);
    QVERIFY(writer.waitForStarted());
    QVERIFY2(got.waitFor(Count), qPrintable(QStringLiteral("%1 lines").arg(got.lines.size())));
    if (writer.state() != QProcess::NotRunning)
        QVERIFY(writer.waitForFinished(20000));
    QCOMPARE(writer.exitStatus(), QProcess::NormalExit);
    QCOMPARE(writer.exitCode(), 0);
    // Nothing more comes: no line twice.
    QTest::qWait(1200);
    const QString problem = checkExactly(got.lines, 1, Count);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    if (!events.isEmpty())
        QVERIFY2(!got.notes.isEmpty(), "the console is told what happened to the file");
}

void TestFollowedFile::historyIsTheLastLines()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("big.log"));
    appendLines(path, 1, 5000);
    Collected got;
    FileFollower follower(path, 65536, got.callbacks());
    follower.start({}, 1000);
    QVERIFY(got.waitFor(1000, 5000));
    QCOMPARE(checkExactly(got.lines, 4001, 5000), QString());
    appendLines(path, 5001, 5010);
    QVERIFY(got.waitFor(1010, 5000));
    QCOMPARE(checkExactly(got.lines, 4001, 5010), QString());
}

void TestFollowedFile::partialLineShownUntilItEnds()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("progress.log"));
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Unbuffered));
    Collected got;
    FileFollower follower(path, 65536, got.callbacks());
    follower.start({}, 1000);
    file.write("downloading 10%");
    QTRY_COMPARE(got.partial, QByteArray("downloading 10%"));
    file.write("\rdownloading 90%");
    QTRY_COMPARE(got.partial, QByteArray("downloading 90%"));
    QVERIFY(got.lines.isEmpty());
    file.write("\rdone\n");
    QTRY_COMPARE(got.lines.size(), 1);
    QCOMPARE(got.lines[0], QByteArray("done"));
    QTRY_COMPARE(got.partial, QByteArray());
    // A restart goes on after the last complete line.
    QCOMPARE(follower.position().offset, file.size());
}

void TestFollowedFile::resumesAtTheSavedPosition()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("worker.log"));
    appendLines(path, 1, 100);
    const FileFollower::Position saved = positionAfterReading(path, 100);
    QVERIFY(!saved.isNull());
    appendLines(path, 101, 150);
    Collected got;
    FileFollower follower(path, 65536, got.callbacks());
    follower.start(saved, 1000);
    QVERIFY(got.waitFor(50, 5000));
    QTest::qWait(300);
    QCOMPARE(checkExactly(got.lines, 101, 150), QString());
}

void TestFollowedFile::resumesInTheRotatedFile()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("worker.log"));
    appendLines(path, 1, 100);
    const FileFollower::Position saved = positionAfterReading(path, 100);
    QVERIFY(!saved.isNull());
    // While nobody follows: more lines, a rotation, lines in the new file.
    appendLines(path, 101, 130);
    QVERIFY(QFile::rename(path, path + QStringLiteral(".1")));
    appendLines(path, 131, 160);
    Collected got;
    FileFollower follower(path, 65536, got.callbacks());
    follower.start(saved, 1000);
    QVERIFY(got.waitFor(60, 8000));
    QTest::qWait(2500); // the rotated file is let go after a quiet while
    QCOMPARE(checkExactly(got.lines, 101, 160), QString());
}

void TestFollowedFile::hostGoesOnAfterARestart()
{
    QTemporaryDir logs;
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("worker.log"));
    appendLines(path, 1, 200);
    const HostConfig config = followingConfig(logs.path(), path);
    {
        HostServer host(config);
        QVERIFY(host.start());
        TestClient viewer;
        QVERIFY(viewer.open(host.url()));
        const QJsonArray agents = viewer.helloViewer(Token).value(QStringLiteral("agents")).toArray();
        QCOMPARE(agents.size(), 1);
        QCOMPARE(agents[0].toObject().value(QStringLiteral("origin")).toString(), QStringLiteral("bridged"));
        QCOMPARE(checkExactly(workerLines(host, 1500), 1, 200), QString());
    }
    // Lines written while the host is down come after what it stored, once.
    appendLines(path, 201, 300);
    HostServer host(config);
    QVERIFY(host.start());
    QCOMPARE(checkExactly(workerLines(host, 2000), 1, 300), QString());
    QVERIFY(QFile::exists(logs.filePath(QStringLiteral("worker.follow"))));
}

void TestFollowedFile::fileMadeAnewInPlaceIsReadFromTheStart()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("worker.log"));
    appendLines(path, 1, 20);
    const FileFollower::Position saved = positionAfterReading(path, 20);
    QVERIFY(!saved.isNull());
    // While nobody follows, the file is written anew in place (same inode), longer than before.
    {
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
    }
    appendLines(path, 101, 160);
    Collected got;
    FileFollower follower(path, 65536, got.callbacks());
    follower.start(saved, 1000);
    QVERIFY(got.waitFor(60, 5000));
    QTest::qWait(300);
    QCOMPARE(checkExactly(got.lines, 101, 160), QString());
    QVERIFY(!got.notes.isEmpty());
    QVERIFY(got.notes.constFirst().contains(QLatin1String("made anew")));
}

void TestFollowedFile::notesForWhatCannotBeFollowed()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("worker.log"));
    appendLines(path, 1, 2);
    Collected got;
    FileFollower follower(path, 65536, got.callbacks());
    follower.start({}, 1000);
    QVERIFY(got.waitFor(2, 5000));
    // Replaced by a folder: said once, not as a rotation to a file.
    QVERIFY(QFile::remove(path));
    QVERIFY(QDir(dir.path()).mkdir(QStringLiteral("worker.log")));
    QTRY_VERIFY(got.notes.join(QLatin1Char('\n')).contains(QLatin1String("not a file")));
    QTest::qWait(1200);
    const qsizetype notes = got.notes.size();
    QVERIFY(!got.notes.join(QLatin1Char('\n')).contains(QLatin1String("following the new file")));
    // A file again: followed from its start, and said so.
    QVERIFY(QDir(dir.path()).rmdir(QStringLiteral("worker.log")));
    appendLines(path, 3, 4);
    QVERIFY(got.waitFor(4, 5000));
    QCOMPARE(checkExactly(got.lines, 1, 4), QString());
    QTRY_VERIFY(got.notes.size() > notes);
    QVERIFY(got.notes.constLast().contains(QLatin1String("is there")));
}

namespace {

/// A host with an editable configuration, following files defined at run time.
struct EditingHost
{
    QTemporaryDir dir;
    QTemporaryDir logs;
    std::unique_ptr<HostServer> host;
    TestClient viewer;

    bool start()
    {
        const QString configPath = dir.filePath(QStringLiteral("host.json"));
        QFile file(configPath);
        if (!file.open(QIODevice::WriteOnly) || file.write("{\"agents\": []}\n") <= 0)
            return false;
        file.close();
        HostConfig config;
        QString error;
        if (!config.load(configPath, &error))
            return false;
        config.port = 0;
        config.token = Token;
        config.allowAgentEditing = true;
        config.logDirectory = logs.path();
        host = std::make_unique<HostServer>(config);
        if (!host->start(&error) || !viewer.open(host->url()))
            return false;
        viewer.helloViewer(Token);
        viewer.subscribe({{QStringLiteral("agents"), QJsonArray{QStringLiteral("*")}}});
        return true;
    }
    void define(const QString& name, const QString& path)
    {
        const QJsonObject follow{{QStringLiteral("path"), path}, {QStringLiteral("format"), QStringLiteral("plain")}};
        viewer.sendJson({{QStringLiteral("type"), QStringLiteral("define_agent")},
                         {QStringLiteral("id"), name},
                         {QStringLiteral("agent"),
                          QJsonObject{{QStringLiteral("id"), QStringLiteral("worker")},
                                      {QStringLiteral("name"), name},
                                      {QStringLiteral("follow"), follow}}}});
    }
    /// The file's lines the viewer got in ms (the host's own notes left out).
    QList<QByteArray> lines(int ms)
    {
        QList<QByteArray> texts;
        QDeadlineTimer deadline(ms);
        do {
            const QJsonObject m = viewer.next({}, 20);
            if (m.value(QStringLiteral("type")).toString() != QLatin1String("log"))
                continue;
            for (const QJsonValue& line : m.value(QStringLiteral("lines")).toArray()) {
                const QString text = line[QStringLiteral("text")].toString();
                if (text.startsWith(QLatin1String("line ")))
                    texts.append(text.toUtf8());
            }
        } while (!deadline.hasExpired());
        return texts;
    }
};

} // namespace

void TestFollowedFile::redefiningKeepsThePlace()
{
    EditingHost h;
    QVERIFY(h.start());
    const QString path = h.dir.filePath(QStringLiteral("worker.log"));
    appendLines(path, 1, 5);
    h.define(QStringLiteral("first"), path);
    QCOMPARE(checkExactly(h.lines(1500), 1, 5), QString());
    // A new name for the same file: nothing is read again.
    h.define(QStringLiteral("renamed"), path);
    QCOMPARE(h.lines(1500), QList<QByteArray>());
    appendLines(path, 6, 7);
    QCOMPARE(checkExactly(h.lines(1500), 6, 7), QString());
}

void TestFollowedFile::stopKeepsThePlace()
{
    QTemporaryDir dir;
    QTemporaryDir logs;
    const QString path = dir.filePath(QStringLiteral("worker.log"));
    appendLines(path, 1, 5);
    const HostConfig config = followingConfig(logs.path(), path);
    {
        HostServer host(config);
        QVERIFY(host.start());
        QCOMPARE(checkExactly(workerLines(host, 800), 1, 5), QString());
        appendLines(path, 6, 10);
        TestClient viewer;
        QVERIFY(viewer.open(host.url()));
        viewer.helloViewer(Token);
        QTRY_COMPARE(host.linesIngested() >= 10, true);
        // Stopped at once after reading: the place is kept now, not at the next flush.
        viewer.sendJson({{QStringLiteral("type"), QStringLiteral("command")},
                         {QStringLiteral("id"), QStringLiteral("s")},
                         {QStringLiteral("agent"), QStringLiteral("worker")},
                         {QStringLiteral("name"), QStringLiteral("stop")}});
        const QJsonObject result = viewer.next(QStringLiteral("result"));
        QVERIFY(result.value(QStringLiteral("ok")).toBool());
    }
    HostServer host(config);
    QVERIFY(host.start());
    QCOMPARE(checkExactly(workerLines(host, 1000), 1, 10), QString());
}

void TestFollowedFile::definitionErrors()
{
    const auto problem = [](const QByteArray& json) {
        Json::Document doc;
        if (!doc.parse(json))
            return QStringLiteral("unparsable");
        AgentDefinition d;
        QString error;
        AgentDefinition::fromJson(doc.root(), QStringLiteral("agents[0]."), &d, &error);
        return error;
    };
    QCOMPARE(problem(R"({"id":"w","follow":{"path":"/tmp/x.log","format":"plain"}})"), QString());
    QVERIFY(problem(R"({"id":"w","follow":{"path":"/tmp/x.log","format":"xml"}})")
                .contains(QLatin1String("agents[0].follow.format")));
    QVERIFY(problem(R"({"id":"w","follow":{"format":"plain"}})").contains(QLatin1String("agents[0].follow.path")));
    QVERIFY(problem(R"({"id":"w","command":"x","follow":{"path":"/a"}})").contains(QLatin1String("agents[0].command")));
    QVERIFY(problem(R"({"id":"w","follow":{"path":"/a","histroy_lines":3}})").contains(QLatin1String("history_lines")));
    AgentDefinition d;
    d.id = "w";
    d.follow = AgentDefinition::Follow{QStringLiteral("/var/log/bot/w.log"), "jsonl", 50};
    Json::Document doc;
    QVERIFY(doc.parse(d.toJson()));
    AgentDefinition back;
    QString error;
    QVERIFY2(AgentDefinition::fromJson(doc.root(), {}, &back, &error), qPrintable(error));
    QVERIFY(back == d);
}

QTEST_GUILESS_MAIN(TestFollowedFile)
#include "tst_followedfile.moc"
