// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/engine/hostconfig.h"

#include <QFile>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <QVariantMap>

#include <memory>

namespace {

/// Every field of a configuration by name, so that tests can say which ones a load changed.
QVariantMap fields(const HostConfig& c)
{
    return {
        {QStringLiteral("listenAddress"), c.listenAddress},
        {QStringLiteral("port"), c.port},
        {QStringLiteral("hostName"), c.hostName},
        {QStringLiteral("token"), c.token},
        {QStringLiteral("agentToken"), c.agentToken},
        {QStringLiteral("viewerToken"), c.viewerToken},
        {QStringLiteral("tokenFile"), c.tokenFile},
        {QStringLiteral("tokens"), int(c.tokens.size())},
        {QStringLiteral("allowedOrigins"), c.allowedOrigins},
        {QStringLiteral("tlsCertificate"), c.tlsCertificate},
        {QStringLiteral("tlsKey"), c.tlsKey},
        {QStringLiteral("maxMessageBytes"), c.maxMessageBytes},
        {QStringLiteral("maxConnectionsPerAddress"), c.maxConnectionsPerAddress},
        {QStringLiteral("helloTimeoutMs"), c.helloTimeoutMs},
        {QStringLiteral("upgradeTimeoutMs"), c.upgradeTimeoutMs},
        {QStringLiteral("pingIntervalMs"), c.pingIntervalMs},
        {QStringLiteral("idleTimeoutMs"), c.idleTimeoutMs},
        {QStringLiteral("closeGraceMs"), c.closeGraceMs},
        {QStringLiteral("commandTimeoutMs"), c.commandTimeoutMs},
        {QStringLiteral("abuseLimit"), c.abuseLimit},
        {QStringLiteral("abuseWindowMs"), c.abuseWindowMs},
        {QStringLiteral("rateLimitLinesPerSecond"), c.rateLimitLinesPerSecond},
        {QStringLiteral("rateLimitBurst"), c.rateLimitBurst},
        {QStringLiteral("metricsIntervalMs"), c.metricsIntervalMs},
        {QStringLiteral("viewerBacklogBytes"), c.viewerBacklogBytes},
        {QStringLiteral("logRetentionLines"), c.logRetentionLines},
        {QStringLiteral("logRetentionBytes"), c.logRetentionBytes},
        {QStringLiteral("forumRetentionMessages"), c.forumRetentionMessages},
        {QStringLiteral("forumRetentionBytes"), c.forumRetentionBytes},
        {QStringLiteral("redactDefaults"), c.redactDefaults},
        {QStringLiteral("redactPatterns"), c.redactPatterns},
    };
}

/// The names of the fields whose values differ between two configurations.
QStringList changedFields(const HostConfig& before, const HostConfig& after)
{
    const QVariantMap a = fields(before);
    const QVariantMap b = fields(after);
    QStringList changed;
    for (auto it = a.cbegin(); it != a.cend(); ++it) {
        if (it.value() != b.value(it.key()))
            changed.append(it.key());
    }
    return changed;
}

/// True when text mentions name as a whole key (not as part of a longer key).
bool namesKey(const QString& text, const QString& name)
{
    const QRegularExpression re(QStringLiteral("(?<![A-Za-z0-9_.])") + QRegularExpression::escape(name)
                                + QStringLiteral("(?![A-Za-z0-9_])"));
    return re.match(text).hasMatch();
}

} // namespace

class TestHostConfig : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void defaults();
    void emptyObjectKeepsDefaults();
    void everyKey();
    void eachKeyAlone_data();
    void eachKeyAlone();
    void loadKeepsUnsetValues();
    void wrongType_data();
    void wrongType();
    void unknownKeys_data();
    void unknownKeys();
    void logFileMode_data();
    void logFileMode();
    void syntaxError_data();
    void syntaxError();
    void missingFile();
    void notAnObject_data();
    void notAnObject();
    void errorPointerMayBeNull();
    void tokenList();
    void badTokens_data();
    void badTokens();

private:
    QString writeConfig(const QByteArray& content);

    std::unique_ptr<QTemporaryDir> m_dir;
    int m_files = 0;
};

void TestHostConfig::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY2(m_dir->isValid(), qPrintable(m_dir->errorString()));
}

QString TestHostConfig::writeConfig(const QByteArray& content)
{
    const QString path = m_dir->filePath(QStringLiteral("config-%1.json").arg(++m_files));
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(content) != content.size())
        QTest::qFail(qPrintable(QStringLiteral("cannot write ") + path), __FILE__, __LINE__);
    return path;
}

void TestHostConfig::defaults()
{
    // The defaults the protocol (protocol-v1.md) names.
    const HostConfig c;
    QCOMPARE(c.listenAddress, QStringLiteral("127.0.0.1"));
    QCOMPARE(c.port, 7700);
    QVERIFY(c.token.isEmpty());
    QVERIFY(c.agentToken.isEmpty());
    QVERIFY(c.viewerToken.isEmpty());
    QVERIFY(c.allowedOrigins.isEmpty());
    QVERIFY(c.tlsCertificate.isEmpty());
    QVERIFY(c.tlsKey.isEmpty());
    QCOMPARE(c.maxMessageBytes, qint64(1024 * 1024));
    QCOMPARE(c.maxConnectionsPerAddress, 32);
    QCOMPARE(c.helloTimeoutMs, 10000);
    QCOMPARE(c.upgradeTimeoutMs, 10000);
    QCOMPARE(c.pingIntervalMs, 15000);
    QCOMPARE(c.idleTimeoutMs, 45000);
    QCOMPARE(c.closeGraceMs, 5000);
    QCOMPARE(c.commandTimeoutMs, 30000);
    QCOMPARE(c.abuseLimit, 50);
    QCOMPARE(c.abuseWindowMs, 10000);
    QCOMPARE(c.rateLimitLinesPerSecond, 0.0); // off by default
    QCOMPARE(c.metricsIntervalMs, 1000);
    QVERIFY(c.logRetentionLines >= 100000);
    QVERIFY(c.forumRetentionMessages >= 10000);
    QVERIFY(c.redactDefaults);
    QVERIFY(c.redactPatterns.isEmpty());
}

void TestHostConfig::emptyObjectKeepsDefaults()
{
    HostConfig c;
    QString error;
    QVERIFY2(c.load(writeConfig("{}\n"), &error), qPrintable(error));
    QCOMPARE(changedFields(HostConfig(), c), QStringList());

    QVERIFY2(c.load(writeConfig(R"({"tls": {}, "limits": {}, "retention": {}, "redact": {}})"), &error),
             qPrintable(error));
    QCOMPARE(changedFields(HostConfig(), c), QStringList());
}

void TestHostConfig::everyKey()
{
    const QByteArray json = R"({
    "listen": "0.0.0.0",
    "port": 8123,
    "name": "bench-host",
    "token": "tok",
    "agent_token": "agent-tok",
    "viewer_token": "viewer-tok",
    "allowed_origins": ["https://console.example", "null"],
    "tls": {"cert": "/etc/agentdeck/cert.pem", "key": "/etc/agentdeck/key.pem"},
    "limits": {
        "max_message_bytes": 2097152,
        "max_connections_per_address": 3,
        "hello_timeout_ms": 1100,
        "upgrade_timeout_ms": 1200,
        "ping_interval_ms": 1300,
        "idle_timeout_ms": 1400,
        "close_grace_ms": 1500,
        "command_timeout_ms": 1600,
        "abuse_limit": 7,
        "abuse_window_ms": 1700,
        "rate_limit_lines_per_s": 2.5,
        "rate_limit_burst": 10,
        "metrics_interval_ms": 250,
        "viewer_backlog_bytes": 131072
    },
    "retention": {"log_lines": 500, "log_bytes": 40960, "forum_messages": 50, "forum_bytes": 81920},
    "redact": {"defaults": false, "patterns": ["secret-[0-9]+", "ghp_[A-Za-z0-9]{36}"]}
}
)";
    HostConfig c;
    QString error;
    QVERIFY2(c.load(writeConfig(json), &error), qPrintable(error));
    QCOMPARE(c.listenAddress, QStringLiteral("0.0.0.0"));
    QCOMPARE(c.port, 8123);
    QCOMPARE(c.hostName, QStringLiteral("bench-host"));
    QCOMPARE(c.token, QStringLiteral("tok"));
    QCOMPARE(c.agentToken, QStringLiteral("agent-tok"));
    QCOMPARE(c.viewerToken, QStringLiteral("viewer-tok"));
    QCOMPARE(c.allowedOrigins, QStringList({QStringLiteral("https://console.example"), QStringLiteral("null")}));
    QCOMPARE(c.tlsCertificate, QStringLiteral("/etc/agentdeck/cert.pem"));
    QCOMPARE(c.tlsKey, QStringLiteral("/etc/agentdeck/key.pem"));
    QCOMPARE(c.maxMessageBytes, qint64(2097152));
    QCOMPARE(c.maxConnectionsPerAddress, 3);
    QCOMPARE(c.helloTimeoutMs, 1100);
    QCOMPARE(c.upgradeTimeoutMs, 1200);
    QCOMPARE(c.pingIntervalMs, 1300);
    QCOMPARE(c.idleTimeoutMs, 1400);
    QCOMPARE(c.closeGraceMs, 1500);
    QCOMPARE(c.commandTimeoutMs, 1600);
    QCOMPARE(c.abuseLimit, 7);
    QCOMPARE(c.abuseWindowMs, 1700);
    QCOMPARE(c.rateLimitLinesPerSecond, 2.5);
    QCOMPARE(c.rateLimitBurst, 10.0);
    QCOMPARE(c.metricsIntervalMs, 250);
    QCOMPARE(c.viewerBacklogBytes, qint64(131072));
    QCOMPARE(c.logRetentionLines, qint64(500));
    QCOMPARE(c.logRetentionBytes, qint64(40960));
    QCOMPARE(c.forumRetentionMessages, qint64(50));
    QCOMPARE(c.forumRetentionBytes, qint64(81920));
    QCOMPARE(c.redactDefaults, false);
    QCOMPARE(c.redactPatterns, QStringList({QStringLiteral("secret-[0-9]+"), QStringLiteral("ghp_[A-Za-z0-9]{36}")}));
}

void TestHostConfig::eachKeyAlone_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("field");
    QTest::addColumn<QVariant>("expected");

    const auto row = [](const char* name, const char* json, const char* field, const QVariant& expected) {
        QTest::addRow("%s", name) << QByteArray(json) << QString::fromLatin1(field) << expected;
    };
    row("listen", R"({"listen": "::1"})", "listenAddress", QStringLiteral("::1"));
    row("port", R"({"port": 65535})", "port", 65535);
    row("port 0", R"({"port": 0})", "port", 0);
    row("name", R"({"name": "héllo-host"})", "hostName", QStringLiteral("héllo-host"));
    row("token", R"({"token": "s3cret"})", "token", QStringLiteral("s3cret"));
    row("agent_token", R"({"agent_token": "a"})", "agentToken", QStringLiteral("a"));
    row("viewer_token", R"({"viewer_token": "v"})", "viewerToken", QStringLiteral("v"));
    row("allowed_origins", R"({"allowed_origins": ["null"]})", "allowedOrigins", QStringList{QStringLiteral("null")});
    row("tls.cert", R"({"tls": {"cert": "c.pem"}})", "tlsCertificate", QStringLiteral("c.pem"));
    row("tls.key", R"({"tls": {"key": "k.pem"}})", "tlsKey", QStringLiteral("k.pem"));
    row("limits.max_message_bytes", R"({"limits": {"max_message_bytes": 65536}})", "maxMessageBytes", qint64(65536));
    row("limits.max_connections_per_address", R"({"limits": {"max_connections_per_address": 4}})",
        "maxConnectionsPerAddress", 4);
    row("limits.hello_timeout_ms", R"({"limits": {"hello_timeout_ms": 500}})", "helloTimeoutMs", 500);
    row("limits.upgrade_timeout_ms", R"({"limits": {"upgrade_timeout_ms": 501}})", "upgradeTimeoutMs", 501);
    row("limits.ping_interval_ms", R"({"limits": {"ping_interval_ms": 502}})", "pingIntervalMs", 502);
    row("limits.idle_timeout_ms", R"({"limits": {"idle_timeout_ms": 503}})", "idleTimeoutMs", 503);
    row("limits.close_grace_ms", R"({"limits": {"close_grace_ms": 504}})", "closeGraceMs", 504);
    row("limits.command_timeout_ms", R"({"limits": {"command_timeout_ms": 505}})", "commandTimeoutMs", 505);
    row("limits.abuse_limit", R"({"limits": {"abuse_limit": 5}})", "abuseLimit", 5);
    row("limits.abuse_window_ms", R"({"limits": {"abuse_window_ms": 506}})", "abuseWindowMs", 506);
    row("limits.rate_limit_lines_per_s", R"({"limits": {"rate_limit_lines_per_s": 100}})", "rateLimitLinesPerSecond",
        100.0);
    row("limits.rate_limit_burst", R"({"limits": {"rate_limit_burst": 0.5}})", "rateLimitBurst", 0.5);
    row("limits.metrics_interval_ms", R"({"limits": {"metrics_interval_ms": 2000}})", "metricsIntervalMs", 2000);
    row("limits.viewer_backlog_bytes", R"({"limits": {"viewer_backlog_bytes": 1048576}})", "viewerBacklogBytes",
        qint64(1048576));
    row("retention.log_lines", R"({"retention": {"log_lines": 7}})", "logRetentionLines", qint64(7));
    row("retention.log_bytes", R"({"retention": {"log_bytes": 10000000000}})", "logRetentionBytes",
        qint64(10000000000));
    row("retention.forum_messages", R"({"retention": {"forum_messages": 9}})", "forumRetentionMessages", qint64(9));
    row("retention.forum_bytes", R"({"retention": {"forum_bytes": 2048}})", "forumRetentionBytes", qint64(2048));
    row("redact.defaults", R"({"redact": {"defaults": false}})", "redactDefaults", false);
    row("redact.patterns", R"({"redact": {"patterns": ["a+", "b"]}})", "redactPatterns",
        QStringList({QStringLiteral("a+"), QStringLiteral("b")}));
}

void TestHostConfig::eachKeyAlone()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, field);
    QFETCH(QVariant, expected);

    HostConfig c;
    QString error;
    QVERIFY2(c.load(writeConfig(json), &error), qPrintable(error));
    // Exactly the one field changes, to the value in the file.
    QCOMPARE(changedFields(HostConfig(), c), QStringList{field});
    QCOMPARE(fields(c).value(field), expected);
}

void TestHostConfig::loadKeepsUnsetValues()
{
    HostConfig c;
    c.port = 1234;
    c.token = QStringLiteral("from-the-command-line");
    c.commandTimeoutMs = 777;
    QString error;
    QVERIFY2(c.load(writeConfig(R"({"listen": "0.0.0.0", "limits": {"abuse_limit": 3}})"), &error), qPrintable(error));
    QCOMPARE(c.listenAddress, QStringLiteral("0.0.0.0"));
    QCOMPARE(c.abuseLimit, 3);
    QCOMPARE(c.port, 1234);
    QCOMPARE(c.token, QStringLiteral("from-the-command-line"));
    QCOMPARE(c.commandTimeoutMs, 777);
}

void TestHostConfig::wrongType_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("key");

    const auto row = [](const char* json, const char* key) {
        QTest::addRow("%s", json) << QByteArray(json) << QString::fromLatin1(key);
    };
    row(R"({"port": "x"})", "port");
    row(R"({"port": "7700"})", "port");
    row(R"({"port": 1.5})", "port");
    row(R"({"port": -1})", "port");
    row(R"({"port": 65536})", "port");
    row(R"({"port": true})", "port");
    row(R"({"listen": 127})", "listen");
    row(R"({"name": ["a"]})", "name");
    row(R"({"token": 1234})", "token");
    row(R"({"agent_token": {}})", "agent_token");
    row(R"({"viewer_token": false})", "viewer_token");
    row(R"({"allowed_origins": "https://a.example"})", "allowed_origins");
    row(R"({"allowed_origins": ["https://a.example", 1]})", "allowed_origins");
    row(R"({"tls": "cert.pem"})", "tls");
    row(R"({"tls": {"cert": 1}})", "tls.cert");
    row(R"({"tls": {"key": []}})", "tls.key");
    row(R"({"limits": [1]})", "limits");
    row(R"({"limits": {"max_message_bytes": "1MiB"}})", "limits.max_message_bytes");
    row(R"({"limits": {"max_connections_per_address": 2.5}})", "limits.max_connections_per_address");
    row(R"({"limits": {"hello_timeout_ms": "10s"}})", "limits.hello_timeout_ms");
    row(R"({"limits": {"upgrade_timeout_ms": null, "ping_interval_ms": {}}})", "limits.ping_interval_ms");
    row(R"({"limits": {"idle_timeout_ms": false}})", "limits.idle_timeout_ms");
    row(R"({"limits": {"close_grace_ms": [5000]}})", "limits.close_grace_ms");
    row(R"({"limits": {"command_timeout_ms": "30000"}})", "limits.command_timeout_ms");
    row(R"({"limits": {"abuse_limit": "many"}})", "limits.abuse_limit");
    row(R"({"limits": {"abuse_window_ms": 2.5}})", "limits.abuse_window_ms");
    row(R"({"limits": {"rate_limit_lines_per_s": "fast"}})", "limits.rate_limit_lines_per_s");
    row(R"({"limits": {"rate_limit_lines_per_s": -1}})", "limits.rate_limit_lines_per_s");
    row(R"({"limits": {"rate_limit_burst": true}})", "limits.rate_limit_burst");
    row(R"({"limits": {"metrics_interval_ms": "1s"}})", "limits.metrics_interval_ms");
    row(R"({"limits": {"viewer_backlog_bytes": "8M"}})", "limits.viewer_backlog_bytes");
    row(R"({"retention": 100000})", "retention");
    row(R"({"retention": {"log_lines": "all"}})", "retention.log_lines");
    row(R"({"retention": {"log_bytes": 1.25}})", "retention.log_bytes");
    row(R"({"retention": {"forum_messages": [1]}})", "retention.forum_messages");
    row(R"({"retention": {"forum_bytes": "64M"}})", "retention.forum_bytes");
    row(R"({"redact": true})", "redact");
    row(R"({"redact": {"defaults": "yes"}})", "redact.defaults");
    row(R"({"redact": {"defaults": 1}})", "redact.defaults");
    row(R"({"redact": {"patterns": "sk-.*"}})", "redact.patterns");
    row(R"({"redact": {"patterns": ["sk-.*", {}]}})", "redact.patterns");
    // A valid key before the bad one does not hide it, and is not applied.
    row(R"({"listen": "0.0.0.0", "port": "x"})", "port");
}

void TestHostConfig::wrongType()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, key);

    const QString path = writeConfig(json);
    HostConfig c;
    QString error;
    QVERIFY(!c.load(path, &error));
    QVERIFY2(error.contains(path), qPrintable(error));
    QVERIFY2(namesKey(error, key), qPrintable(QStringLiteral("\"%1\" does not name %2").arg(error, key)));
    // A rejected file changes nothing.
    QCOMPARE(changedFields(HostConfig(), c), QStringList());
}

void TestHostConfig::unknownKeys_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("expected"); // after "<file>:"
    QTest::addRow("top level, near miss")
        << QByteArray("{\n  \"port\": 7700,\n  \"retension\": {\"log_lines\": 5}\n}")
        << QStringLiteral(R"(3:3: retension: unknown key; did you mean "retention"?)");
    QTest::addRow("nested, near miss")
        << QByteArray(R"({"limits": {"max_mesage_bytes": 5000}})")
        << QStringLiteral(R"(1:13: limits.max_mesage_bytes: unknown key; did you mean "max_message_bytes"?)");
    QTest::addRow("case") << QByteArray(R"({"Port": 1})")
                          << QStringLiteral(R"(1:2: Port: unknown key; did you mean "port"?)");
    QTest::addRow("far off") << QByteArray(R"({"logs": {"dir": "", "colour": true}})")
                             << QStringLiteral("1:22: logs.colour: unknown key (known: dir, max_bytes, backups, "
                                               "max_open_files, max_line_bytes, file_mode)");
    QTest::addRow("after a valid key of the same object")
        << QByteArray("{\"tls\": {\"cert\": \"a.pem\",\n   \"kye\": \"b.pem\"}}")
        << QStringLiteral(R"(2:4: tls.kye: unknown key; did you mean "key"?)");
    QTest::addRow("in an agent") << QByteArray(R"({"agents": [{"id": "q", "command": "x", "autorestrat": true}]})")
                                 << QStringLiteral(
                                        R"(1:41: agents[0].autorestrat: unknown key; did you mean "autorestart"?)");
    QTest::addRow("in an agent's backoff")
        << QByteArray(R"({"agents": [{"id": "q", "command": "x", "backoff": {"inital_ms": 5}}]})")
        << QStringLiteral(R"(1:53: agents[0].backoff.inital_ms: unknown key; did you mean "initial_ms"?)");
    QTest::addRow("wrong type, with where") << QByteArray("{\n\"limits\": {\"abuse_limit\": \"many\"}}")
                                            << QStringLiteral("2:27: limits.abuse_limit: expected an integer");
    QTest::addRow("escaped quote in the key")
        << QByteArray(R"({"a\"b": 1})") << QStringLiteral(R"(1:2: a"b: unknown key (known: )");
}

void TestHostConfig::unknownKeys()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, expected);
    const QString path = writeConfig(json);
    HostConfig c;
    QString error;
    QVERIFY(!c.load(path, &error));
    QVERIFY2(error.startsWith(path + u':' + expected), qPrintable(error));
    QCOMPARE(changedFields(HostConfig(), c), QStringList());
}

void TestHostConfig::logFileMode_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<int>("mode"); // -1: rejected
    QTest::addRow("default") << QByteArray("{}") << 0600;
    QTest::addRow("group may read") << QByteArray(R"({"logs": {"file_mode": "0640"}})") << 0640;
    QTest::addRow("without the 0") << QByteArray(R"({"logs": {"file_mode": "644"}})") << 0644;
    QTest::addRow("not octal") << QByteArray(R"({"logs": {"file_mode": "0680"}})") << -1;
    QTest::addRow("executable") << QByteArray(R"({"logs": {"file_mode": "0700"}})") << -1;
    QTest::addRow("owner cannot write") << QByteArray(R"({"logs": {"file_mode": "0044"}})") << -1;
    QTest::addRow("a number") << QByteArray(R"({"logs": {"file_mode": 600}})") << -1;
}

void TestHostConfig::logFileMode()
{
    QFETCH(QByteArray, json);
    QFETCH(int, mode);
    HostConfig c;
    QString error;
    const bool loaded = c.load(writeConfig(json), &error);
    QCOMPARE(loaded, mode >= 0);
    if (loaded)
        QCOMPARE(c.logFileMode, mode);
    else
        QVERIFY2(error.contains(QStringLiteral("logs.file_mode: expected")), qPrintable(error));
}

void TestHostConfig::syntaxError_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<int>("line");
    QTest::addColumn<int>("column");

    QTest::addRow("garbage at the start") << QByteArray("x") << 1 << 1;
    QTest::addRow("empty file") << QByteArray("") << 1 << 1;
    QTest::addRow("trailing comma") << QByteArray(R"({"port": 1,})") << 1 << 12;
    QTest::addRow("missing colon on line 3") << QByteArray("{\n  \"port\": 1,\n  \"listen\" \"x\"\n}\n") << 3 << 12;
    QTest::addRow("missing comma on line 3") << QByteArray("{\n  \"port\": 1\n  \"listen\": \"x\"\n}\n") << 3 << 3;
    QTest::addRow("bad literal") << QByteArray(R"({"redact": {"defaults": tru}})") << 1 << 25;
    QTest::addRow("unterminated string") << QByteArray(R"({"name": "abc)") << 1 << 14;
    QTest::addRow("CRLF line ends") << QByteArray("{\r\n  \"port\": 1\r\n  \"x\": 2\r\n}\r\n") << 3 << 3;
    // Columns count characters, not bytes: é and ö take two bytes each, 名 and 前 three.
    QTest::addRow("after two-byte characters")
        << QByteArray("{\n  \"name\": \"h\xc3\xa9llo w\xc3\xb6rld\" x\n}\n") << 2 << 25;
    QTest::addRow("after three-byte characters")
        << QByteArray("{\"name\": \"\xe5\x90\x8d\xe5\x89\x8d\", \"port\": 7700 x}") << 1 << 29;
    QTest::addRow("multibyte characters on an earlier line") << QByteArray("{\"name\": \"\xc3\xbcn\xc3\xaf"
                                                                           "c\xc3\xb6"
                                                                           "d\xc3\xa9\",\n \"port\": tru\n}")
                                                             << 2 << 10;
    QTest::addRow("after multibyte characters on line 5")
        << QByteArray("{\n\"listen\": \"127.0.0.1\",\n\"name\": \"caf\xc3\xa9\",\n\"token\": \"t\",\n"
                      "\"limits\": {\"\xc3\xa4\": 5,, \"x\": 1}\n}\n")
        << 5 << 19;
}

void TestHostConfig::syntaxError()
{
    QFETCH(QByteArray, json);
    QFETCH(int, line);
    QFETCH(int, column);

    const QString path = writeConfig(json);
    HostConfig c;
    QString error;
    QVERIFY(!c.load(path, &error));
    const QRegularExpression where(QRegularExpression::escape(path) + QStringLiteral(":(\\d+):(\\d+)"));
    const QRegularExpressionMatch match = where.match(error);
    QVERIFY2(match.hasMatch(), qPrintable(QStringLiteral("no file:line:column in \"%1\"").arg(error)));
    QCOMPARE(match.captured(1).toInt(), line);
    QCOMPARE(match.captured(2).toInt(), column);
    QCOMPARE(changedFields(HostConfig(), c), QStringList());
}

void TestHostConfig::missingFile()
{
    const QString path = m_dir->filePath(QStringLiteral("no-such-dir/agentdeck.json"));
    HostConfig c;
    QString error;
    QVERIFY(!c.load(path, &error));
    QVERIFY2(error.contains(path), qPrintable(error));
    QCOMPARE(changedFields(HostConfig(), c), QStringList());
}

void TestHostConfig::notAnObject_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addRow("array") << QByteArray(R"([{"port": 1}])");
    QTest::addRow("number") << QByteArray("7700");
    QTest::addRow("string") << QByteArray(R"("port")");
    QTest::addRow("null") << QByteArray("null");
    QTest::addRow("true") << QByteArray("true");
}

void TestHostConfig::notAnObject()
{
    QFETCH(QByteArray, json);
    const QString path = writeConfig(json);
    HostConfig c;
    QString error;
    QVERIFY(!c.load(path, &error));
    QVERIFY2(error.contains(path), qPrintable(error));
    QVERIFY2(error.contains(QStringLiteral("object")), qPrintable(error));
    QCOMPARE(changedFields(HostConfig(), c), QStringList());
}

void TestHostConfig::errorPointerMayBeNull()
{
    HostConfig c;
    QVERIFY(!c.load(writeConfig("{"), nullptr));
    QVERIFY(!c.load(writeConfig(R"({"port": "x"})"), nullptr));
    QVERIFY(!c.load(writeConfig("[]"), nullptr));
    QVERIFY(!c.load(m_dir->filePath(QStringLiteral("missing.json")), nullptr));
    QVERIFY(c.load(writeConfig(R"({"port": 1})"), nullptr));
    QCOMPARE(c.port, 1);
}

void TestHostConfig::tokenList()
{
    const QByteArray json = R"({
    "token_file": "/etc/agentdeck/token",
    "tokens": [
        {"name": "ops", "secret_file": "/etc/agentdeck/ops.token", "role": "operator", "agents": ["bf-*", "query"]},
        {"name": "bots", "secret": "b0ts", "role": "agent", "shared": true},
        {"name": "watch", "secret": "w", "role": "viewer"}
    ]
})";
    HostConfig c;
    QString error;
    QVERIFY2(c.load(writeConfig(json), &error), qPrintable(error));
    QCOMPARE(c.tokenFile, QStringLiteral("/etc/agentdeck/token"));
    QCOMPARE(c.tokens.size(), size_t(3));
    QCOMPARE(c.tokens[0].name, QStringLiteral("ops"));
    QCOMPARE(c.tokens[0].secretFile, QStringLiteral("/etc/agentdeck/ops.token"));
    QCOMPARE(c.tokens[0].role, QStringLiteral("operator"));
    QCOMPARE(c.tokens[0].agents, (QList<QByteArray>{"bf-*", "query"}));
    QCOMPARE(c.tokens[1].secret, QStringLiteral("b0ts"));
    QVERIFY(c.tokens[1].shared);
    QVERIFY(c.tokens[2].agents.isEmpty());
}

void TestHostConfig::badTokens_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("expected");
    QTest::addRow("not a list") << QByteArray(R"({"tokens": {}})") << QStringLiteral("tokens: expected an array");
    QTest::addRow("no name") << QByteArray(R"({"tokens": [{"secret": "x", "role": "viewer"}]})")
                             << QStringLiteral("tokens[0].name: expected a name");
    QTest::addRow("same name") << QByteArray(R"({"tokens": [{"name": "a", "secret": "x", "role": "viewer"},
                                                            {"name": "a", "secret": "y", "role": "viewer"}]})")
                               << QStringLiteral("tokens[1].name: expected a name no other token has");
    QTest::addRow("no secret") << QByteArray(R"({"tokens": [{"name": "a", "role": "viewer"}]})")
                               << QStringLiteral("tokens[0].secret_file: expected either");
    QTest::addRow("both secrets") << QByteArray(R"({"tokens": [{"name": "a", "secret": "x", "secret_file": "/f",
                                                                "role": "viewer"}]})")
                                  << QStringLiteral("tokens[0].secret_file: expected either");
    QTest::addRow("unknown role") << QByteArray(R"({"tokens": [{"name": "a", "secret": "x", "role": "root"}]})")
                                  << QStringLiteral("tokens[0].role: expected one of");
    QTest::addRow("bad pattern") << QByteArray(R"({"tokens": [{"name": "a", "secret": "x", "role": "viewer",
                                                               "agents": ["a b"]}]})")
                                 << QStringLiteral("tokens[0].agents: expected \"a b\" is not an agent id pattern");
    QTest::addRow("agent token bound to nothing")
        << QByteArray(R"({"tokens": [{"name": "a", "secret": "x", "role": "agent"}]})")
        << QStringLiteral("tokens[0].agents: expected the agent ids this token may speak as");
    QTest::addRow("agent token bound to every id")
        << QByteArray(R"({"tokens": [{"name": "a", "secret": "x", "role": "agent", "agents": ["*"]}]})")
        << QStringLiteral("tokens[0].agents: expected the agent ids this token may speak as");
    QTest::addRow("shared viewer") << QByteArray(R"({"tokens": [{"name": "a", "secret": "x", "role": "viewer",
                                                                 "shared": true}]})")
                                   << QStringLiteral("tokens[0].shared: expected false");
    QTest::addRow("misspelt key") << QByteArray(R"({"tokens": [{"name": "a", "secret": "x", "role": "viewer",
                                                                "agent": ["q"]}]})")
                                  << QStringLiteral("tokens[0].agent: unknown key");
}

void TestHostConfig::badTokens()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, expected);
    const QString path = writeConfig(json);
    HostConfig c;
    QString error;
    QVERIFY(!c.load(path, &error));
    QVERIFY2(error.contains(expected), qPrintable(error));
    QCOMPARE(changedFields(HostConfig(), c), QStringList());
}

QTEST_GUILESS_MAIN(TestHostConfig)
#include "tst_hostconfig.moc"
