// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/engine/redactor.h"
#include "support/fixtures.h"

#include <QFile>
#include <QStringDecoder>
#include <QTest>

#include <vector>

namespace {

bool isValidUtf8(const QByteArray& text)
{
    QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    const QString decoded = decoder.decode(text);
    Q_UNUSED(decoded);
    return !decoder.hasError();
}

// Redacts a heap copy of exactly the text's size, so that the sanitizers catch
// a read past the end of the view; returns the text itself when nothing changed.
QByteArray redacted(const Redactor& redactor, const QByteArray& text, bool* changed = nullptr)
{
    const std::vector<char> exact(text.cbegin(), text.cend());
    QByteArray out("untouched");
    const bool result = redactor.redact(QByteArrayView(exact.data(), qsizetype(exact.size())), &out);
    if (changed)
        *changed = result;
    if (!result) {
        if (out != "untouched")
            return "BUG: *out written without a redaction";
        return text;
    }
    return out;
}

} // namespace

class TestRedactor : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void builtIn_data();
    void builtIn();
    void mixedConsole_data();
    void mixedConsole();
    void bettaFishLogs_data();
    void bettaFishLogs();
    void extraPatterns_data();
    void extraPatterns();
    void invalidPattern_data();
    void invalidPattern();
    void defaultsOff();
    void outputMayAliasInput();
    void longLines();
};

void TestRedactor::builtIn_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QByteArray>("expected");

    const auto row = [](const char* name, const char* text, const char* expected) {
        QTest::addRow("%s", name) << QByteArray(text) << QByteArray(expected);
    };
    const auto same = [](const char* name, const char* text) {
        QTest::addRow("%s", name) << QByteArray(text) << QByteArray(text);
    };

    // The fixture's secrets
    row("fixture line",
        "DEBUG config: OPENAI_API_KEY=sk-live-51Habcdefghijklmnopqrstuvwx password=hunter2 token: abcd1234efgh",
        "DEBUG config: OPENAI_API_KEY=[REDACTED] password=[REDACTED] token: [REDACTED]");

    // API keys
    row("sk-proj", "key sk-proj-abcdefghijklmnop1234 used", "key [REDACTED] used");
    row("sk-ant", "sk-ant-api03-abcdefghijklmnopqrstuvwxyz", "[REDACTED]");
    row("sk in quotes", "client = OpenAI(api=\"sk-abcdefghijklmnop1234\")", "client = OpenAI(api=\"[REDACTED]\")");
    same("sk too short", "using sk-short1");
    same("sk inside a word", "task-abcdefghijklmnopqrstuv and desk-0123456789abcdefgh");
    row("stripe", "charge with sk_live_4eC39HqLyjWDarjtT1zdp7dc now", "charge with [REDACTED] now");
    same("stripe too short", "sk_test_abc");
    row("github ghp", "push with ghp_abcdefghijklmnopqrstuvwxyz0123456789 ok", "push with [REDACTED] ok");
    row("github pat", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "[REDACTED]");
    same("ghp too short", "ghp_abc");
    row("slack", "slack xoxb-1234567890-abcdefghij done", "slack [REDACTED] done");
    row("aws", "aws AKIAIOSFODNN7EXAMPLE key", "aws [REDACTED] key");
    same("aws too long", "AKIAIOSFODNN7EXAMPLEX");
    same("aws too short", "AKIAIOSFODNN7");
    row("google", "maps AIzaSyA-1234567890abcdefghijklmnopqrstu end", "maps [REDACTED] end");

    // Secret-named keys
    row("password=", "password=hunter2", "password=[REDACTED]");
    row("spaced =", "PASSWORD = hunter2 next", "PASSWORD = [REDACTED] next");
    row("DB_PASSWORD", "DB_PASSWORD=s3cr3t;port=5432", "DB_PASSWORD=[REDACTED];port=5432");
    row("passwd", "passwd: abc", "passwd: [REDACTED]");
    row("pwd", "pwd=abc", "pwd=[REDACTED]");
    row("secret", "secret: x", "secret: [REDACTED]");
    row("client_secret", "client_secret=abc&grant_type=x", "client_secret=[REDACTED]&grant_type=x");
    row("access_token", "GET /cb?code=1&access_token=abc.def&x=1", "GET /cb?code=1&access_token=[REDACTED]&x=1");
    row("auth_token", "auth_token: abc", "auth_token: [REDACTED]");
    row("apikey", "apikey=abc", "apikey=[REDACTED]");
    row("api-key", "api-key: abc", "api-key: [REDACTED]");
    row("X-Api-Key", "X-Api-Key: abc", "X-Api-Key: [REDACTED]");
    row("x-api-token", "x-api-token: abc", "x-api-token: [REDACTED]");
    row("AWS secret", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG", "AWS_SECRET_ACCESS_KEY=[REDACTED]");
    row("camelCase", "accessToken=abc123", "accessToken=[REDACTED]");
    row("dotted", "db.password: x", "db.password: [REDACTED]");
    row("flag", "--password=hunter2 --user=bob", "--password=[REDACTED] --user=bob");
    row("token colon", "token: abcd1234efgh", "token: [REDACTED]");
    row("json", R"({"password": "p@ss w0rd", "user": "bob"})", R"({"password": "[REDACTED]", "user": "bob"})");
    row("json compact", R"({"token":"abc\"def","n":1})", R"({"token":"[REDACTED]","n":1})");
    row("python dict", "{'api_key': 'abc'}", "{'api_key': '[REDACTED]'}");
    row("php arrow", "'password' => 'x'", "'password' => '[REDACTED]'");
    row("go assign", "token := abc123", "token := [REDACTED]");
    row("yaml", "  password: hunter2", "  password: [REDACTED]");
    row("unclosed quote", "password=\"abc def", "password=\"[REDACTED] def");
    row("two keys", "token=a,secret=b", "token=[REDACTED],secret=[REDACTED]");
    row("escaped json", R"(body="{\"password\": \"hunter2\", \"user\": \"bob\"}")",
        R"(body="{\"password\": \"[REDACTED]\", \"user\": \"bob\"}")");
    row("backslash in value", "password=ab\\cd next", "password=[REDACTED] next");
    row("value glued to a marker", "secret=s3[REDACTED]Bearer abc1", "secret=[REDACTED][REDACTED]Bearer abc1");
    row("chinese value", "密码 password=密码123 结束", "密码 password=[REDACTED] 结束");
    row("chinese value after colon", "Password: 你好", "Password: [REDACTED]");

    // Bearer and authorization
    row("authorization bearer", "Authorization: Bearer abc.def", "Authorization: Bearer [REDACTED]");
    row("curl header", "curl -H \"Authorization: Bearer eyJhbGciOi.x.y\" https://api",
        "curl -H \"Authorization: Bearer [REDACTED]\" https://api");
    row("headers dict", "headers={'Authorization': 'Bearer abc123'}", "headers={'Authorization': 'Bearer [REDACTED]'}");
    row("basic", "Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic [REDACTED]");
    row("authorization plain", "authorization=abc", "authorization=[REDACTED]");
    row("bare Bearer", "Bearer XYZ", "Bearer [REDACTED]");
    row("bearer in prose", "sent bearer eyJhbGciOiJIUzI1NiJ9.e30.abc to server", "sent bearer [REDACTED] to server");

    // URLs with credentials
    row("postgres url", "postgres://admin:s3cret@db.example.com:5432/app",
        "postgres://admin:[REDACTED]@db.example.com:5432/app");
    row("url with @ in password", "https://user:p@ss@host/x", "https://user:[REDACTED]@host/x");
    row("url in env", "DATABASE_URL=mysql://root:toor@localhost/db",
        "DATABASE_URL=mysql://root:[REDACTED]@localhost/db");

    // Text that holds no secret
    same("LLM tokens", "LLM 返回 209 tokens");
    same("token count", "token count 5");
    same("tokens colon", "tokens: 209");
    same("max_tokens", "max_tokens=4096 prompt_tokens: 12");
    same("plain prose", "no secrets here, just a passphrase-free pass");
    same("bearer of news", "the bearer of bad news");
    same("Bearer alone", "Bearer");
    same("passwords prose", "passwords must be 8 chars");
    same("etc passwd", "cat: /etc/passwd: No such file or directory");
    same("comparison", "if token == expected and secret != x:");
    same("scope", "Token::parse failed");
    same("url with port", "https://example.com:8080/path?q=1");
    same("url without password", "ssh://git@github.com/x and https://user@host/");
    same("empty value", "password=");
    same("empty value space", "password= ");
    same("nested object", R"({"password": {"nested": 1}})");
    same("loguru line", "2025-11-14 14:02:12.000 | INFO     | module:func:40 - msg");
    same("key=value", "key=value monkey: banana secretary: bob");
    same("timestamps", "[14:02:12] 12:00:00 a:b:c");
    same("chinese", "中文日志：分析完成 ✅");
    same("emoji", "done 🎉👍🏽 password");
    same("invalid utf-8", "bad bytes here: \x7f\xfe\xc3\x28\xa0\xa1 end");

    same("AIza glued to a marker", "AIzaSyA-1234567890abcdefghijklmnopqrstu[REDACTED]");
    same("AKIA glued to a marker", "AKIAIOSFODNN7EXAMPLE[REDACTED]");
    same("spaced after = only", "token= next=1");

    // Already redacted
    same("marker after key", "password=[REDACTED]");
    same("marker after bearer", "Authorization: Bearer [REDACTED]");
    same("marker in quotes", R"({"token": "[REDACTED]"})");
    same("marker in url", "postgres://admin:[REDACTED]@db/app");
    // Found by fuzz_redactor: a value redacted inside a URL's user info swallowed the
    // byte that ended it, and the next pass took the user info up to a later '@'.
    row("url ended inside a redacted value", "h://user:p@spwd=a/]b@c", "h://user:[REDACTED]@spwd=[REDACTED]]b@c");
    row("url without @ before a redacted value", "h://u:pwd=a?]@c", "h://u:pwd=[REDACTED]]@c");
    row("key in the user info of a redacted url", "o://a,secret=admin@:rhn:@s/", "o://a,secret=admin@:[REDACTED]@s/");
    QTest::addRow("url ended by a control byte in a value")
        << QByteArrayLiteral("h:tps://user:p@spwd=a\0\0\0\0\0]bs@ch")
        << QByteArray("h:tps://user:[REDACTED]@spwd=[REDACTED]]bs@ch");
}

void TestRedactor::builtIn()
{
    QFETCH(QByteArray, text);
    QFETCH(QByteArray, expected);
    Redactor redactor;
    bool changed = false;
    const QByteArray once = redacted(redactor, text, &changed);
    QCOMPARE(once, expected);
    QCOMPARE(changed, text != expected);
    if (isValidUtf8(text))
        QVERIFY(isValidUtf8(once));
    // Idempotent: a second pass finds nothing more.
    bool changedAgain = true;
    QCOMPARE(redacted(redactor, once, &changedAgain), once);
    QVERIFY(!changedAgain);
}

void TestRedactor::mixedConsole_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QByteArray>("expected");
    const QList<QByteArray> lines = fixtureLines("mixed.bin");
    QCOMPARE(lines.size(), 10);
    for (int i = 0; i < lines.size(); ++i) {
        const QByteArray& line = lines.at(i);
        QByteArray expected = line;
        if (i == 4)
            expected = "DEBUG config: OPENAI_API_KEY=[REDACTED] password=[REDACTED] token: [REDACTED]";
        QTest::addRow("line %d", i + 1) << line << expected;
    }
}

void TestRedactor::mixedConsole()
{
    builtIn();
}

void TestRedactor::bettaFishLogs_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QByteArray>("expected");
    for (const char* name : {"insight.log", "forum.log"}) {
        int number = 0;
        for (const QByteArray& line : fixtureLines(name))
            QTest::addRow("%s:%d", name, ++number) << line << line;
    }
}

void TestRedactor::bettaFishLogs()
{
    builtIn();
}

void TestRedactor::extraPatterns_data()
{
    QTest::addColumn<bool>("defaults");
    QTest::addColumn<QStringList>("patterns");
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QByteArray>("expected");

    QTest::addRow("whole match") << true << QStringList{QStringLiteral("\\bemployee-\\d+\\b")}
                                 << QByteArray("user employee-1234 logged in")
                                 << QByteArray("user [REDACTED] logged in");
    QTest::addRow("first group") << true << QStringList{QStringLiteral("session=(\\w+)")}
                                 << QByteArray("session=abc123; path=/") << QByteArray("session=[REDACTED]; path=/");
    QTest::addRow("only the first group") << true << QStringList{QStringLiteral("(\\w+)@(\\w+)")}
                                          << QByteArray("mail bob@example") << QByteArray("mail [REDACTED]@example");
    QTest::addRow("every match") << true << QStringList{QStringLiteral("id-\\d+")} << QByteArray("id-1 id-22 id-333")
                                 << QByteArray("[REDACTED] [REDACTED] [REDACTED]");
    QTest::addRow("case option") << true << QStringList{QStringLiteral("(?i)internal-[a-z]+")}
                                 << QByteArray("host INTERNAL-Host up") << QByteArray("host [REDACTED] up");
    QTest::addRow("chinese") << true << QStringList{QStringLiteral("身份证号(\\d{18})")}
                             << QByteArray("身份证号110101199003074512 ✅") << QByteArray("身份证号[REDACTED] ✅");
    QTest::addRow("with built-ins") << true << QStringList{QStringLiteral("user=(\\w+)")}
                                    << QByteArray("user=bob password=x")
                                    << QByteArray("user=[REDACTED] password=[REDACTED]");
    QTest::addRow("without built-ins") << false << QStringList{QStringLiteral("user=(\\w+)")}
                                       << QByteArray("password=x user=bob") << QByteArray("password=x user=[REDACTED]");
    QTest::addRow("two patterns") << true << QStringList{QStringLiteral("alpha"), QStringLiteral("beta")}
                                  << QByteArray("alpha beta gamma") << QByteArray("[REDACTED] [REDACTED] gamma");
    QTest::addRow("no match") << true << QStringList{QStringLiteral("zzz\\d")} << QByteArray("nothing here 中文")
                              << QByteArray("nothing here 中文");
    QTest::addRow("group not taken") << true << QStringList{QStringLiteral("a(b)?c")} << QByteArray("ac abc")
                                     << QByteArray("ac a[REDACTED]c");
    QTest::addRow("empty match") << true << QStringList{QStringLiteral("x*")} << QByteArray("abc") << QByteArray("abc");
    QTest::addRow("marker is not redacted again")
        << true << QStringList{QStringLiteral("[A-Z]{8}")} << QByteArray("password=x ABCDEFGH")
        << QByteArray("password=[REDACTED] [REDACTED]");
    QTest::addRow("marker keeps a word glued")
        << true << QStringList{QStringLiteral("AKIA")} << QByteArray("AKIABearer abcDEF1")
        << QByteArray("[REDACTED]Bearer abcDEF1");
    QTest::addRow("invalid utf-8 left alone")
        << true << QStringList{QStringLiteral("zzz")} << QByteArray("bad \xfe\xff password=x")
        << QByteArray("bad \xfe\xff password=[REDACTED]");
}

void TestRedactor::extraPatterns()
{
    QFETCH(bool, defaults);
    QFETCH(QStringList, patterns);
    QFETCH(QByteArray, text);
    QFETCH(QByteArray, expected);
    Redactor redactor;
    QString error;
    QVERIFY2(redactor.configure(defaults, patterns, &error), qPrintable(error));
    QVERIFY(error.isEmpty());
    bool changed = false;
    const QByteArray once = redacted(redactor, text, &changed);
    QCOMPARE(once, expected);
    QCOMPARE(changed, text != expected);
    bool changedAgain = true;
    QCOMPARE(redacted(redactor, once, &changedAgain), once);
    QVERIFY(!changedAgain);
}

void TestRedactor::invalidPattern_data()
{
    QTest::addColumn<QString>("pattern");
    QTest::addColumn<QString>("mention");
    QTest::addRow("unclosed group") << QStringLiteral("(unclosed") << QStringLiteral("offset 9");
    QTest::addRow("bad class") << QStringLiteral("a[z-a]") << QStringLiteral("offset");
    QTest::addRow("empty") << QString() << QStringLiteral("empty");
}

void TestRedactor::invalidPattern()
{
    QFETCH(QString, pattern);
    QFETCH(QString, mention);
    Redactor redactor;
    QVERIFY(redactor.configure(true, {QStringLiteral("keep-\\d+")}));

    QString error;
    QVERIFY(!redactor.configure(false, {QStringLiteral("fine"), pattern}, &error));
    QVERIFY2(error.contains(mention), qPrintable(error));
    if (!pattern.isEmpty()) {
        QVERIFY2(error.contains(pattern), qPrintable(error));
        const QRegularExpression re(pattern);
        QVERIFY2(error.contains(re.errorString()), qPrintable(error));
    }
    QVERIFY(!redactor.configure(false, {pattern}));

    // The earlier rules still hold.
    QCOMPARE(redacted(redactor, "keep-12 password=x fine"), QByteArray("[REDACTED] password=[REDACTED] fine"));
}

void TestRedactor::defaultsOff()
{
    Redactor redactor;
    QVERIFY(redactor.configure(false, {}));
    bool changed = true;
    QCOMPARE(redacted(redactor, "password=x sk-abcdefghijklmnop1234", &changed),
             QByteArray("password=x sk-abcdefghijklmnop1234"));
    QVERIFY(!changed);
    QVERIFY(redactor.configure(true, {}));
    QCOMPARE(redacted(redactor, "password=x"), QByteArray("password=[REDACTED]"));
}

void TestRedactor::outputMayAliasInput()
{
    Redactor redactor;
    QByteArray buffer("token=abc and password=def");
    QVERIFY(redactor.redact(buffer, &buffer));
    QCOMPARE(buffer, QByteArray("token=[REDACTED] and password=[REDACTED]"));

    QVERIFY(redactor.configure(true, {QStringLiteral("and")}));
    QByteArray again("token=abc and x");
    QVERIFY(redactor.redact(again, &again));
    QCOMPARE(again, QByteArray("token=[REDACTED] [REDACTED] x"));
}

void TestRedactor::longLines()
{
    Redactor redactor;
    const QByteArray big(100000, 'A');
    bool changed = true;
    QCOMPARE(redacted(redactor, big, &changed), big);
    QVERIFY(!changed);
    QCOMPARE(redacted(redactor, big + " password=x"), big + " password=[REDACTED]");
    QByteArray many;
    for (int i = 0; i < 1000; ++i)
        many += "token=abc ";
    QByteArray expected;
    for (int i = 0; i < 1000; ++i)
        expected += "token=[REDACTED] ";
    QCOMPARE(redacted(redactor, many), expected);
}

QTEST_GUILESS_MAIN(TestRedactor)
#include "tst_redactor.moc"
