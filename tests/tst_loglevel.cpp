// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/protocol/loglevel.h"
#include "support/fixtures.h"

#include <QFile>
#include <QTest>

#include <vector>

namespace {

// Infers from a heap copy of exactly the text's size, so that the sanitizers
// catch a read past the end of the view.
QByteArray inferredName(const QByteArray& text)
{
    const std::vector<char> exact(text.cbegin(), text.cend());
    return logLevelName(inferLogLevel(QByteArrayView(exact.data(), qsizetype(exact.size())))).toByteArray();
}

} // namespace

class TestLogLevel : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void names();
    void parse_data();
    void parse();
    void infer_data();
    void infer();
    void insightLog_data();
    void insightLog();
    void mixedConsole_data();
    void mixedConsole();
    void forumLog_data();
    void forumLog();
    void onlyTheStartIsRead();
    void records_data();
    void records();
    void recordsEndAfterAPause();
};

void TestLogLevel::names()
{
    QCOMPARE(logLevelName(LogLevel::Unknown), QByteArrayView());
    const LogLevel levels[] = {LogLevel::Trace,   LogLevel::Debug, LogLevel::Info,
                               LogLevel::Warning, LogLevel::Error, LogLevel::Critical};
    const char* expected[] = {"TRACE", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"};
    for (int i = 0; i < 6; ++i) {
        QCOMPARE(logLevelName(levels[i]), QByteArrayView(expected[i]));
        QCOMPARE(parseLogLevel(logLevelName(levels[i])), levels[i]);
    }
}

void TestLogLevel::parse_data()
{
    QTest::addColumn<QByteArray>("name");
    QTest::addColumn<QByteArray>("expected");

    QTest::addRow("TRACE") << QByteArray("TRACE") << QByteArray("TRACE");
    QTest::addRow("trace") << QByteArray("trace") << QByteArray("TRACE");
    QTest::addRow("Debug") << QByteArray("Debug") << QByteArray("DEBUG");
    QTest::addRow("INFO") << QByteArray("INFO") << QByteArray("INFO");
    QTest::addRow("info") << QByteArray("info") << QByteArray("INFO");
    QTest::addRow("WARNING") << QByteArray("WARNING") << QByteArray("WARNING");
    QTest::addRow("wArNiNg") << QByteArray("wArNiNg") << QByteArray("WARNING");
    QTest::addRow("WARN") << QByteArray("WARN") << QByteArray("WARNING");
    QTest::addRow("warn") << QByteArray("warn") << QByteArray("WARNING");
    QTest::addRow("ERROR") << QByteArray("ERROR") << QByteArray("ERROR");
    QTest::addRow("error") << QByteArray("error") << QByteArray("ERROR");
    QTest::addRow("CRITICAL") << QByteArray("CRITICAL") << QByteArray("CRITICAL");
    QTest::addRow("critical") << QByteArray("critical") << QByteArray("CRITICAL");
    QTest::addRow("FATAL") << QByteArray("FATAL") << QByteArray("CRITICAL");
    QTest::addRow("Fatal") << QByteArray("Fatal") << QByteArray("CRITICAL");
    QTest::addRow("SUCCESS") << QByteArray("SUCCESS") << QByteArray("INFO");
    QTest::addRow("success") << QByteArray("success") << QByteArray("INFO");

    QTest::addRow("empty") << QByteArray() << QByteArray();
    QTest::addRow("abbreviation INF") << QByteArray("INF") << QByteArray();
    QTest::addRow("abbreviation ERR") << QByteArray("ERR") << QByteArray();
    QTest::addRow("abbreviation ERRO") << QByteArray("ERRO") << QByteArray();
    QTest::addRow("NOTICE") << QByteArray("NOTICE") << QByteArray();
    QTest::addRow("PANIC") << QByteArray("PANIC") << QByteArray();
    QTest::addRow("trailing space") << QByteArray("INFO ") << QByteArray();
    QTest::addRow("leading space") << QByteArray(" INFO") << QByteArray();
    QTest::addRow("INFOS") << QByteArray("INFOS") << QByteArray();
    QTest::addRow("information") << QByteArray("information") << QByteArray();
    QTest::addRow("INFO1") << QByteArray("INFO1") << QByteArray();
    QTest::addRow("number") << QByteArray("30") << QByteArray();
    QTest::addRow("embedded NUL") << QByteArray("INFO\0X", 6) << QByteArray();
}

void TestLogLevel::parse()
{
    QFETCH(QByteArray, name);
    QFETCH(QByteArray, expected);
    QCOMPARE(logLevelName(parseLogLevel(name)).toByteArray(), expected);
}

void TestLogLevel::infer_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QByteArray>("expected");

    // loguru
    QTest::addRow("loguru INFO") << QByteArray("2025-11-14 14:02:12.000 | INFO     | module:func:40 - msg")
                                 << QByteArray("INFO");
    QTest::addRow("loguru SUCCESS") << QByteArray("2025-11-14 14:02:12.037 | SUCCESS  | a.b:run:41 - done")
                                    << QByteArray("INFO");
    QTest::addRow("loguru TRACE") << QByteArray("2025-11-14 14:02:12.037 | TRACE    | a:b:1 - x")
                                  << QByteArray("TRACE");
    QTest::addRow("loguru CRITICAL") << QByteArray("2025-11-14 14:02:12.037 | CRITICAL | a:b:1 - x")
                                     << QByteArray("CRITICAL");
    QTest::addRow("loguru BettaFish prefix")
        << QByteArray("[14:02:13] 2025-11-14 14:02:13.074 | WARNING  | InsightEngine.tools.search:query:42 - 第2轮")
        << QByteArray("WARNING");
    QTest::addRow("loguru coloured") << QByteArray(
        "\x1b[32m2025-11-14 14:02:12.000\x1b[0m | \x1b[31m\x1b[1mERROR   "
        "\x1b[0m | \x1b[36mmod\x1b[0m:\x1b[36mf\x1b[0m:\x1b[36m1\x1b[0m - boom")
                                     << QByteArray("ERROR");
    QTest::addRow("loguru without time") << QByteArray("| DEBUG | m:f:1 - x") << QByteArray("DEBUG");

    // Python logging
    QTest::addRow("logging name level") << QByteArray("2025-08-27 13:11:54,943 - ReportEngine - WARNING - msg")
                                        << QByteArray("WARNING");
    QTest::addRow("logging level only") << QByteArray("2025-08-27 13:11:54,943 - ERROR - msg") << QByteArray("ERROR");
    QTest::addRow("logging level colon") << QByteArray("2025-08-27 13:11:54,943 - app.db - CRITICAL: disk full")
                                         << QByteArray("CRITICAL");
    QTest::addRow("logging no time") << QByteArray("ReportEngine - INFO - loaded") << QByteArray("INFO");
    QTest::addRow("basicConfig") << QByteArray("WARNING:root:msg") << QByteArray("WARNING");
    QTest::addRow("basicConfig debug") << QByteArray("DEBUG:urllib3.connectionpool:Starting new HTTPS connection")
                                       << QByteArray("DEBUG");
    QTest::addRow("ERROR colon") << QByteArray("ERROR: msg") << QByteArray("ERROR");
    QTest::addRow("uvicorn") << QByteArray("INFO:     Started server process [4242]") << QByteArray("INFO");
    QTest::addRow("time level name") << QByteArray("2024-01-02 03:04:05,678 INFO werkzeug: GET /")
                                     << QByteArray("INFO");
    QTest::addRow("time bracket level") << QByteArray("2024-01-02 03:04:05 [WARNING] slow") << QByteArray("WARNING");
    QTest::addRow("flask") << QByteArray("[2024-01-02 03:04:05,678] ERROR in app: Exception on / [GET]")
                           << QByteArray("ERROR");
    QTest::addRow("gunicorn") << QByteArray("[2024-01-02 03:04:05 +0000] [4242] [INFO] Booting worker with pid: 4242")
                              << QByteArray("INFO");
    QTest::addRow("traceback") << QByteArray("Traceback (most recent call last):") << QByteArray("ERROR");
    QTest::addRow("traceback prefixed") << QByteArray("[14:03:55] Traceback (most recent call last):")
                                        << QByteArray("ERROR");

    // Tags
    QTest::addRow("[ERROR]") << QByteArray("[ERROR] msg") << QByteArray("ERROR");
    QTest::addRow("[error]") << QByteArray("[error] msg") << QByteArray("ERROR");
    QTest::addRow("[ warn ]") << QByteArray("[ warn ] disk almost full") << QByteArray("WARNING");
    QTest::addRow("<warning>") << QByteArray("<warning> x") << QByteArray("WARNING");
    QTest::addRow("[FATAL]") << QByteArray("[FATAL] x") << QByteArray("CRITICAL");
    QTest::addRow("(INFO)") << QByteArray("(INFO) x") << QByteArray("INFO");
    QTest::addRow("[ERR]") << QByteArray("[ERR] x") << QByteArray("ERROR");
    QTest::addRow("time then [DEBUG]") << QByteArray("[14:30:25] [DEBUG] x") << QByteArray("DEBUG");
    QTest::addRow("log4j") << QByteArray("2024-01-02 03:04:05,678 [main] ERROR com.foo.Bar - failed")
                           << QByteArray("ERROR");
    QTest::addRow("env_logger") << QByteArray("[2024-01-02T03:04:05Z WARN  my_crate::net] retry")
                                << QByteArray("WARNING");
    QTest::addRow("bare CRITICAL") << QByteArray("CRITICAL worker crashed") << QByteArray("CRITICAL");
    QTest::addRow("time CRITICAL") << QByteArray("[14:30:25] CRITICAL worker crashed with exit code 137")
                                   << QByteArray("CRITICAL");
    QTest::addRow("bare DEBUG") << QByteArray("DEBUG config: x=1") << QByteArray("DEBUG");
    QTest::addRow("bare TRACE") << QByteArray("TRACE entering fn") << QByteArray("TRACE");
    QTest::addRow("alone") << QByteArray("WARNING") << QByteArray("WARNING");
    QTest::addRow("FATAL colon") << QByteArray("FATAL: out of memory") << QByteArray("CRITICAL");
    QTest::addRow("Fatal colon") << QByteArray("Fatal: out of memory") << QByteArray("CRITICAL");
    QTest::addRow("SUCCESS colon") << QByteArray("SUCCESS: all tests passed") << QByteArray("INFO");
    QTest::addRow("indented") << QByteArray("   ERROR: indented") << QByteArray("ERROR");
    QTest::addRow("cargo error") << QByteArray("error: could not compile `foo`") << QByteArray("ERROR");
    QTest::addRow("rustc warning") << QByteArray("warning: unused variable: `x`") << QByteArray("WARNING");
    QTest::addRow("go panic") << QByteArray("panic: runtime error: index out of range [3] with length 3")
                              << QByteArray("CRITICAL");
    QTest::addRow("rust panic") << QByteArray("thread 'main' panicked at src/main.rs:2:5:") << QByteArray("CRITICAL");
    QTest::addRow("logrus ERRO") << QByteArray("ERRO[0000] failed to connect") << QByteArray("ERROR");
    QTest::addRow("logrus WARN") << QByteArray("WARN[0003] deprecated flag") << QByteArray("WARNING");
    QTest::addRow("logrus INFO") << QByteArray("INFO[0000] starting") << QByteArray("INFO");
    QTest::addRow("zerolog INF") << QByteArray("2024-01-02T03:04:05Z INF listening port=8080") << QByteArray("INFO");
    QTest::addRow("zerolog kitchen WRN") << QByteArray("3:04PM WRN slow request") << QByteArray("WARNING");
    QTest::addRow("zap tab") << QByteArray("2024-01-02T03:04:05.000Z\tinfo\tserver/main.go:12\tstarted")
                             << QByteArray("INFO");
    QTest::addRow("klog E") << QByteArray("E0102 15:04:05.123456    4242 main.go:42] boom") << QByteArray("ERROR");
    QTest::addRow("klog I") << QByteArray("I0102 15:04:05.123456       1 main.go:42] ok") << QByteArray("INFO");
    QTest::addRow("klog W") << QByteArray("W0102 15:04:05.123456       1 main.go:42] hm") << QByteArray("WARNING");

    // ANSI colours
    QTest::addRow("ansi uvicorn") << QByteArray("\x1b[32mINFO\x1b[0m:     Started") << QByteArray("INFO");
    QTest::addRow("ansi bold red") << QByteArray("\x1b[1;31mERROR\x1b[0m: connection refused") << QByteArray("ERROR");
    QTest::addRow("ansi tag") << QByteArray("\x1b[33m[WARN]\x1b[0m low disk") << QByteArray("WARNING");
    QTest::addRow("ansi 256 colour") << QByteArray("\x1b[38;5;196mCRITICAL\x1b[0m meltdown") << QByteArray("CRITICAL");
    QTest::addRow("ansi title then level") << QByteArray("\x1b]0;title\aERROR: x") << QByteArray("ERROR");

    // Keyed values
    QTest::addRow("json level") << QByteArray(R"({"level":"warn","msg":"x"})") << QByteArray("WARNING");
    QTest::addRow("json spaced") << QByteArray(R"({"time": "2024-01-02", "level": "ERROR", "message": "x"})")
                                 << QByteArray("ERROR");
    QTest::addRow("pino number") << QByteArray(R"({"level":50,"time":1700000000000,"msg":"x"})") << QByteArray("ERROR");
    QTest::addRow("pino 30") << QByteArray(R"({"level":30,"msg":"x"})") << QByteArray("INFO");
    QTest::addRow("gcp severity") << QByteArray(R"({"severity":"CRITICAL","message":"x"})") << QByteArray("CRITICAL");
    QTest::addRow("python dict") << QByteArray("{'levelname': 'DEBUG', 'msg': 'x'}") << QByteArray("DEBUG");
    QTest::addRow("ecs log.level") << QByteArray(R"({"@timestamp":"x","log.level":"info"})") << QByteArray("INFO");
    QTest::addRow("logfmt") << QByteArray("ts=2024-01-02T03:04:05Z level=info msg=started") << QByteArray("INFO");
    QTest::addRow("logfmt first") << QByteArray("level=error msg=\"boom\"") << QByteArray("ERROR");
    QTest::addRow("logrus text") << QByteArray(R"(time="2024-01-02T03:04:05Z" level=warning msg="x")")
                                 << QByteArray("WARNING");
    QTest::addRow("logfmt quoted") << QByteArray("lvl=\"debug\" msg=x") << QByteArray("DEBUG");

    // Prose and other lines that say nothing about their level
    QTest::addRow("no errors found") << QByteArray("no errors found") << QByteArray();
    QTest::addRow("info about x") << QByteArray("info about x") << QByteArray();
    QTest::addRow("Info about x") << QByteArray("Info about x") << QByteArray();
    QTest::addRow("LLM tokens") << QByteArray("LLM 返回 209 tokens") << QByteArray();
    QTest::addRow("error-free run") << QByteArray("error-free run") << QByteArray();
    QTest::addRow("Error handling") << QByteArray("Error handling is hard") << QByteArray();
    QTest::addRow("critical section") << QByteArray("critical section entered") << QByteArray();
    QTest::addRow("errors colon") << QByteArray("errors: 0") << QByteArray();
    QTest::addRow("Warnings") << QByteArray("Warnings were emitted") << QByteArray();
    QTest::addRow("counts") << QByteArray("3 errors, 2 warnings") << QByteArray();
    QTest::addRow("INFORMATION") << QByteArray("INFORMATION: x") << QByteArray();
    QTest::addRow("INFO1") << QByteArray("INFO1: x") << QByteArray();
    QTest::addRow("Error::new") << QByteArray("Error::new(kind)") << QByteArray();
    QTest::addRow("debug_mode") << QByteArray("debug_mode: on") << QByteArray();
    QTest::addRow("mid-line word") << QByteArray("user said: ERROR is just a word") << QByteArray();
    QTest::addRow("dashes") << QByteArray("a - b - c") << QByteArray();
    QTest::addRow("lower-case dashes") << QByteArray("x - error - y") << QByteArray();
    QTest::addRow("markdown table") << QByteArray("| name | error | count |") << QByteArray();
    QTest::addRow("level prose") << QByteArray("the level=high of water") << QByteArray();
    QTest::addRow("level key outside json") << QByteArray("\"level\": \"error\" is a string") << QByteArray();
    QTest::addRow("bracket prose") << QByteArray("see [docs] for info") << QByteArray();
    QTest::addRow("Tracebacks") << QByteArray("Tracebacks are useful") << QByteArray();
    QTest::addRow("thread fine") << QByteArray("thread 'main' is fine") << QByteArray();
    QTest::addRow("note") << QByteArray("Note: info") << QByteArray();
    QTest::addRow("traceback body") << QByteArray(
        "[14:03:55]   File \"/app/InsightEngine/tools/search.py\", line 88, in query")
                                    << QByteArray();
    QTest::addRow("exception line") << QByteArray(
        "[14:03:55] requests.exceptions.ReadTimeout: HTTPSConnectionPool(host='api.example.com', "
        "port=443): Read timed out.")
                                    << QByteArray();
    QTest::addRow("empty") << QByteArray() << QByteArray();
    QTest::addRow("spaces") << QByteArray("   ") << QByteArray();
    QTest::addRow("only escapes") << QByteArray("\x1b[2K\x1b[0m") << QByteArray();
    QTest::addRow("progress") << QByteArray("\x1b[2K\rprogress 50%") << QByteArray();
    QTest::addRow("chinese") << QByteArray("中文日志：分析完成 ✅") << QByteArray();
    QTest::addRow("invalid utf-8") << QByteArray("bad bytes here: \x7f\xfe\xc3\x28\xa0\xa1 end") << QByteArray();
    QTest::addRow("unclosed bracket") << QByteArray("[14:02:12 ERROR") << QByteArray();
    QTest::addRow("escape at end") << QByteArray("ERROR\x1b") << QByteArray("ERROR");
}

void TestLogLevel::infer()
{
    QFETCH(QByteArray, text);
    QFETCH(QByteArray, expected);
    QCOMPARE(inferredName(text), expected);
}

void TestLogLevel::insightLog_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QByteArray>("expected");
    int number = 0;
    int loguru = 0;
    for (const QByteArray& line : fixtureLines("insight.log")) {
        ++number;
        // The level is loguru's second column, padded: "| SUCCESS  |".
        const QList<QByteArray> columns = line.split('|');
        QByteArray expected;
        if (columns.size() >= 3) {
            expected = logLevelName(parseLogLevel(columns.at(1).trimmed())).toByteArray();
            QVERIFY2(!expected.isEmpty(), line.constData());
            ++loguru;
        } else if (line.contains("Traceback (most recent call last):")) {
            expected = "ERROR";
        }
        QTest::addRow("line %d", number) << line << expected;
    }
    QCOMPARE(number, 304);
    QCOMPARE(loguru, 300);
}

void TestLogLevel::insightLog()
{
    infer();
}

void TestLogLevel::mixedConsole_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QByteArray>("expected");
    const QList<QByteArray> lines = fixtureLines("mixed.bin");
    QCOMPARE(lines.size(), 10);
    const char* expected[] = {"INFO", "WARNING", "INFO", "ERROR", "DEBUG", "", "", "", "CRITICAL", ""};
    for (int i = 0; i < lines.size(); ++i) {
        QByteArray line = lines.at(i);
        QTest::addRow("line %d raw", i + 1) << line << QByteArray(expected[i]);
        if (line.endsWith('\r')) {
            line.chop(1);
            QTest::addRow("line %d without CR", i + 1) << line << QByteArray(expected[i]);
        }
    }
}

void TestLogLevel::mixedConsole()
{
    infer();
}

void TestLogLevel::forumLog_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QByteArray>("expected");
    int number = 0;
    for (const QByteArray& line : fixtureLines("forum.log"))
        QTest::addRow("line %d", ++number) << line << QByteArray();
    QVERIFY(number > 10);
}

void TestLogLevel::forumLog()
{
    infer();
}

void TestLogLevel::onlyTheStartIsRead()
{
    QCOMPARE(inferredName(QByteArray(300, 'x').append(" - ERROR - late")), QByteArray());
    QCOMPARE(inferredName(QByteArray(250, 'x').append(" | ERROR | late")), QByteArray());
    QCOMPARE(inferredName(QByteArray(200, 'x').append(" | ERROR | early")), QByteArray("ERROR"));
    QCOMPARE(inferredName(QByteArray("ERROR: x").append(QByteArray(100000, 'y'))), QByteArray("ERROR"));
    // An escape sequence that the window cuts in half
    QCOMPARE(inferredName(QByteArray(254, ' ').append("\x1b[31mERROR")), QByteArray());
}

// Lines of one stream with no level given, each "<expected level>|<text>", 10 ms apart.
void TestLogLevel::records_data()
{
    QTest::addColumn<bool>("stderrStream");
    QTest::addColumn<QStringList>("lines");
    QTest::newRow("bare traceback on stderr")
        << true
        << QStringList{QStringLiteral("ERROR|Traceback (most recent call last):"),
                       QStringLiteral("ERROR|  File \"/srv/bot.py\", line 12, in <module>"),
                       QStringLiteral("ERROR|    main()"),
                       QStringLiteral("ERROR|    ^^^^^^"),
                       QStringLiteral("ERROR|ValueError: bad input"),
                       QStringLiteral("WARNING|next thing on stderr")};
    QTest::newRow("logging with exc_info keeps the record's level")
        << true
        << QStringList{QStringLiteral("WARNING|2025-11-22 01:40:01,003 - WARNING - retrying"),
                       QStringLiteral("WARNING|Traceback (most recent call last):"),
                       QStringLiteral("WARNING|  File \"x.py\", line 1, in f"),
                       QStringLiteral("WARNING|requests.exceptions.ConnectionError: refused"),
                       QStringLiteral("INFO|2025-11-22 01:40:02,000 - INFO - ok")};
    QTest::newRow("chained tracebacks")
        << true
        << QStringList{QStringLiteral("ERROR|Traceback (most recent call last):"),
                       QStringLiteral("ERROR|  File \"a.py\", line 3, in g"),
                       QStringLiteral("ERROR|KeyError: 'x'"),
                       QStringLiteral("ERROR|"),
                       QStringLiteral("ERROR|During handling of the above exception, another exception occurred:"),
                       QStringLiteral("ERROR|"),
                       QStringLiteral("ERROR|Traceback (most recent call last):"),
                       QStringLiteral("ERROR|  File \"a.py\", line 5, in g"),
                       QStringLiteral("ERROR|RuntimeError: wrapped"),
                       QStringLiteral("WARNING|done")};
    QTest::newRow("an indented dump under a log line")
        << false
        << QStringList{QStringLiteral("ERROR|[ERROR] request failed:"), QStringLiteral("ERROR|    {\"status\": 500,"),
                       QStringLiteral("ERROR|     \"body\": \"...\"}"), QStringLiteral("INFO|back to normal")};
    QTest::newRow("coloured continuation")
        << false
        << QStringList{QStringLiteral("CRITICAL|\x1b[31mCRITICAL\x1b[0m pool exhausted"),
                       QStringLiteral("CRITICAL|\x1b[2m    at worker.run (worker.js:10)\x1b[0m"),
                       QStringLiteral("INFO|recovered")};
    QTest::newRow("a traceback never ended by its exception line")
        << true
        << QStringList{QStringLiteral("ERROR|Traceback (most recent call last):"),
                       QStringLiteral("ERROR|  File \"a.py\", line 3, in g"), QStringLiteral("INFO|INFO: restarted"),
                       QStringLiteral("WARNING|a plain stderr line")};
    QTest::newRow("a line stating its own level starts a record")
        << false
        << QStringList{QStringLiteral("DEBUG|DEBUG polling"), QStringLiteral("ERROR|ERROR: failed"),
                       QStringLiteral("ERROR|  detail")};
}

void TestLogLevel::records()
{
    QFETCH(bool, stderrStream);
    QFETCH(QStringList, lines);
    RecordLevels records;
    const LogLevel fallback = stderrStream ? LogLevel::Warning : LogLevel::Info;
    qint64 ts = 1'700'000'000'000;
    QStringList got;
    QStringList expected;
    for (const QString& line : lines) {
        const qsizetype bar = line.indexOf(u'|');
        QString text = line.mid(bar + 1);
        text.replace(QStringLiteral("\\x1b"), QStringLiteral("\x1b"));
        const QByteArray utf8 = text.toUtf8();
        got << QString::fromLatin1(logLevelName(records.next(LogLevel::Unknown, fallback, utf8, ts))) + u'|' + text;
        expected << line.left(bar) + u'|' + text;
        ts += 10;
    }
    QCOMPARE(got, expected);
}

void TestLogLevel::recordsEndAfterAPause()
{
    RecordLevels records;
    QCOMPARE(records.next(LogLevel::Unknown, LogLevel::Warning, "Traceback (most recent call last):", 1000),
             LogLevel::Error);
    QCOMPARE(records.next(LogLevel::Unknown, LogLevel::Warning, "  File \"a.py\", line 1", 1500), LogLevel::Error);
    QVERIFY(records.lastContinued());
    // An indented line long after the record is a record of its own.
    QCOMPARE(
        records.next(LogLevel::Unknown, LogLevel::Warning, "  progress 10%", 1500 + RecordLevels::ContinuationMs + 1),
        LogLevel::Warning);
    QVERIFY(!records.lastContinued());
    // A given level always starts a record, and its continuation lines take it.
    QCOMPARE(records.next(LogLevel::Debug, LogLevel::Info, "dumping state:", 9000), LogLevel::Debug);
    QCOMPARE(records.next(LogLevel::Unknown, LogLevel::Info, "  queue: 3", 9001), LogLevel::Debug);
    QCOMPARE(records.next(LogLevel::Info, LogLevel::Info, "  given INFO", 9002), LogLevel::Info);
}

QTEST_GUILESS_MAIN(TestLogLevel)
#include "tst_loglevel.moc"
