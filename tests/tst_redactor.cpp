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
    void wideSeparatorsKeepCharacters();
    void stream_data();
    void stream();
    void streamWithoutDefaults();
    void arguments_data();
    void arguments();
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

    // "Token" as an authorization scheme, like Bearer and Basic
    row("authorization token", "Authorization: Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b",
        "Authorization: Token [REDACTED]");
    row("token scheme in a header", "curl -H 'authorization: token abc123' x",
        "curl -H 'authorization: token [REDACTED]' x");
    row("token scheme in a dict", "{'Authorization': 'TOKEN abc'}", "{'Authorization': 'TOKEN [REDACTED]'}");
    same("token scheme redacted", "Authorization: Token [REDACTED]");

    // Long flags of a secret name, their value after blanks
    row("--password value", "run --password hunter2 --user bob", "run --password [REDACTED] --user bob");
    row("--token value", "cli --token abc123", "cli --token [REDACTED]");
    row("--api-key value", "tool --api-key k-123 --verbose", "tool --api-key [REDACTED] --verbose");
    row("--db-password quoted", "app --db-password \"x y\" --port 1", "app --db-password \"[REDACTED]\" --port 1");
    row("flag first", "--client-secret\ts3 next", "--client-secret\t[REDACTED] next");
    row("flag after a quote", "cmd=\"--password hunter2\"", "cmd=\"--password [REDACTED]\"");
    row("--pass value", "sshpass --pass abc ssh host", "sshpass --pass [REDACTED] ssh host");
    same("--token-file", "run --token-file /etc/token --x");
    same("--password-file", "run --password-file /run/secrets/pw");
    same("flag then a flag", "login --password --stdin");
    same("flag at the end", "usage: tool --password");
    same("help metavar", "  --api-key API_KEY  the key to use");
    same("help metavar password", "  --password PASSWORD");
    same("help placeholder", "  --token <TOKEN>   an access token");
    same("--max-tokens", "generate --max-tokens 4096");
    same("dashes glued to a word", "a--password x");
    same("ruler", "---------------------------------------- done");
    same("flag value redacted", "run --password [REDACTED] --user bob");

    // -pSECRET of MySQL and MariaDB clients
    row("mysql -p", "mysql -u root -pS3cret db", "mysql -u root -p[REDACTED] db");
    row("mysqldump -p", "mysqldump -pS3cret --all-databases > dump.sql",
        "mysqldump -p[REDACTED] --all-databases > dump.sql");
    row("MariaDB quoted -p", "MariaDB-dump -u admin -p'pa ss' x", "MariaDB-dump -u admin -p'[REDACTED]' x");
    row("mysql in a shell command", "sh -c \"mysql -uroot -pS3cret\"", "sh -c \"mysql -uroot -p[REDACTED]\"");
    row("mysql full path", "/usr/bin/mysql -h db -pxyz", "/usr/bin/mysql -h db -p[REDACTED]");
    same("-pthread and friends", "gcc -O2 -pthread -pedantic -pipe -o x x.c");
    same("find -print", "find . -name '*.py' -print");
    same("mysql -p asks", "mysql -u root -p db");
    same("-p before mysql", "-pfoo mysql");
    same("-p inside a word", "mysql x-pfoo");
    same("mysql -P port", "mysql -P 3306");
    same("mysql -p redacted", "mysql -u root -p[REDACTED] db");
    // Found by fuzz_redactor: a client named only inside a redacted value made a
    // "-p" a password on the first pass and not on the second.
    row("mysql inside a redacted value", "password=mysql -pS3cret", "password=[REDACTED] -pS3cret");
    row("mysql between redacted values", "token=a mysql secret=b -pS3cret",
        "token=[REDACTED] mysql secret=[REDACTED] -p[REDACTED]");

    // Bare JSON Web Tokens
    row("jwt", "got eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U ok",
        "got [REDACTED] ok");
    row("jwt in a query", "GET /cb?jwt=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0xx.sig&x=1", "GET /cb?jwt=[REDACTED]&x=1");
    row("jwt without signature", "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxMjMifQ.", "[REDACTED]");
    row("jwt in json", R"({"jwt":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0xx.a-b_c"})", R"({"jwt":"[REDACTED]"})");
    same("eyJ too short", "eyJhbGciOi.eyJzdWIi.x");
    same("eyJ inside a word", "xeyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0xx.sig");
    same("eyJ with one dot", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0xx");
    same("words with e", "every eye eyes eyJust");

    // "pass" as a word of its own
    row("DB_PASS", "DB_PASS=x", "DB_PASS=[REDACTED]");
    row("MYSQL_PASS colon", "MYSQL_PASS: x", "MYSQL_PASS: [REDACTED]");
    row("pass=", "pass=x", "pass=[REDACTED]");
    row("quoted pass", "{'pass': 'x'}", "{'pass': '[REDACTED]'}");
    row("db.pass", "db.pass = hunter2", "db.pass = [REDACTED]");
    row("smtp-pass", "smtp-pass: abc", "smtp-pass: [REDACTED]");
    same("words ending in pass", "bypass=1 compass: north class=foo address=x success: true");
    same("test results", "PASS: tst_redactor pass: 12 fail: 0");
    same("passes", "passes=3 passage: x");

    // Chinese names and full-width separators
    row("密码 full-width colon", "密码：hunter2", "密码：[REDACTED]");
    row("密码 colon", "密码: hunter2", "密码: [REDACTED]");
    row("密码 equals", "密码=hunter2", "密码=[REDACTED]");
    row("密码 full-width equals", "密码＝hunter2", "密码＝[REDACTED]");
    row("password full-width colon", "password：hunter2", "password：[REDACTED]");
    row("api_key full-width colon", "api_key：sk123 ok", "api_key：[REDACTED] ok");
    row("密碼", "密碼：abc", "密碼：[REDACTED]");
    row("口令", "口令=abc", "口令=[REDACTED]");
    row("密钥", "密钥: abc", "密钥: [REDACTED]");
    row("密鑰", "密鑰＝abc", "密鑰＝[REDACTED]");
    row("令牌", "令牌：abc", "令牌：[REDACTED]");
    row("longer chinese key", "数据库密码：数据123，x", "数据库密码：[REDACTED]，x");
    row("ends at a full-width comma", "密码：abc123，用户名：bob", "密码：[REDACTED]，用户名：bob");
    row("ends at an ideographic full stop", "令牌：xyz。下一步", "令牌：[REDACTED]。下一步");
    row("ends at an ideographic space", "密码=abc　用户", "密码=[REDACTED]　用户");
    row("ideographic space after the separator", "密码：　abc", "密码：　[REDACTED]");
    row("spaces around a full-width colon", "密码 ： abc", "密码 ： [REDACTED]");
    row("ends at full-width brackets", "password=abc（旧）", "password=[REDACTED]（旧）");
    row("quoted chinese key", "{\"密码\": \"a b\"}", "{\"密码\": \"[REDACTED]\"}");
    same("chinese without a secret", "用户名：bob，状态：正常");
    same("密码学", "密码学：入门");
    same("key without separator", "请输入密码 然后继续");
    same("chinese redacted", "密码：[REDACTED]，用户名：bob");

    // Private keys in one text
    row("rsa key", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nZm9v+/==\n-----END RSA PRIVATE KEY-----",
        "-----BEGIN RSA PRIVATE KEY-----\n[REDACTED]\n-----END RSA PRIVATE KEY-----");
    row("key in a message",
        "here:\r\n-----BEGIN PRIVATE KEY-----\r\nMIIE\r\nAAA=\r\n-----END PRIVATE KEY-----\r\ndone password=x",
        "here:\r\n-----BEGIN PRIVATE KEY-----\r\n[REDACTED]\r\n-----END PRIVATE KEY-----\r\ndone password=[REDACTED]");
    row("encrypted key with headers",
        "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,3F17F5316E2BAC89\n\nxyz\n"
        "-----END RSA PRIVATE KEY-----",
        "-----BEGIN RSA PRIVATE KEY-----\n[REDACTED]\n-----END RSA PRIVATE KEY-----");
    row("openssh key", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEA\n-----END OPENSSH PRIVATE KEY-----\n",
        "-----BEGIN OPENSSH PRIVATE KEY-----\n[REDACTED]\n-----END OPENSSH PRIVATE KEY-----\n");
    row("ec key without END", "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\nmore\n",
        "-----BEGIN EC PRIVATE KEY-----\n[REDACTED]\n");
    row("key on one line", "KEY=-----BEGIN ENCRYPTED PRIVATE KEY----- MIIEvQIB -----END ENCRYPTED PRIVATE KEY-----",
        "KEY=-----BEGIN ENCRYPTED PRIVATE KEY----- [REDACTED] -----END ENCRYPTED PRIVATE KEY-----");
    row("key as a secret value", "PRIVATE_KEY=-----BEGIN DSA PRIVATE KEY-----\nb3Blbn\n-----END DSA PRIVATE KEY-----",
        "PRIVATE_KEY=-----BEGIN DSA PRIVATE KEY-----\n[REDACTED]\n-----END DSA PRIVATE KEY-----");
    row("pgp key",
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: x\n\nlQOYBF\n=abcd\n-----END PGP PRIVATE KEY BLOCK-----",
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\n[REDACTED]\n-----END PGP PRIVATE KEY BLOCK-----");
    row("key in escaped json", R"({"key": "-----BEGIN PRIVATE KEY-----\nMIIEv\n-----END PRIVATE KEY-----\n"})",
        R"({"key": "-----BEGIN PRIVATE KEY-----[REDACTED]-----END PRIVATE KEY-----\n"})");
    row("two keys",
        "-----BEGIN RSA PRIVATE KEY-----\na\n-----END RSA PRIVATE KEY-----\n-----BEGIN EC PRIVATE KEY-----\nb",
        "-----BEGIN RSA PRIVATE KEY-----\n[REDACTED]\n-----END RSA PRIVATE KEY-----\n"
        "-----BEGIN EC PRIVATE KEY-----\n[REDACTED]");
    same("certificate", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----");
    same("public key", "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----");
    same("empty key", "-----BEGIN RSA PRIVATE KEY-----\n-----END RSA PRIVATE KEY-----");
    same("BEGIN line alone", "-----BEGIN RSA PRIVATE KEY-----");
    same("key redacted", "-----BEGIN RSA PRIVATE KEY-----\n[REDACTED]\n-----END RSA PRIVATE KEY-----");
    same("six dashes", "------BEGIN RSA PRIVATE KEY-----\nabc");

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
    // Found by fuzz_redactor: a token redacted up to the ':' of "://" made a URL
    // scheme on the first pass only.
    row("url after a redacted token", "Bearer abcXYZ://u:pw@h token=a", "Bearer [REDACTED]://u:pw@h token=[REDACTED]");
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

void TestRedactor::wideSeparatorsKeepCharacters()
{
    // Every replaced range starts and ends between characters, whatever the key,
    // the separator, the value and the character that ends the value.
    Redactor redactor;
    const QStringList keys = {QStringLiteral("密码"),     QStringLiteral("密碼"),   QStringLiteral("口令"),
                              QStringLiteral("密钥"),     QStringLiteral("密鑰"),   QStringLiteral("令牌"),
                              QStringLiteral("password"), QStringLiteral("DB_PASS")};
    const QStringList separators = {QStringLiteral("："), QStringLiteral("＝"),   QStringLiteral(": "),
                                    QStringLiteral("="),  QStringLiteral(" ： "), QStringLiteral("：　")};
    // U+FFFD lies past the full-width forms and is part of a value.
    const QStringList values = {QStringLiteral("abc123"), QStringLiteral("数据123"), QStringLiteral("é🎉x"),
                                QStringLiteral("a\uFFFDb")};
    // Full-width and CJK punctuation, the half-width ideographic comma U+FF64 and the
    // full-width yen sign U+FFE5 at both ends of U+FF00-U+FFEF, then ASCII.
    const QStringList ends = {QStringLiteral("，"), QStringLiteral("。"), QStringLiteral("　"), QStringLiteral("）"),
                              QStringLiteral("､"),  QStringLiteral("￥"), QStringLiteral("〉"), QStringLiteral(" ")};
    for (const QString& key : keys) {
        for (const QString& separator : separators) {
            for (const QString& value : values) {
                for (const QString& end : ends) {
                    const QString text = key + separator + value + end + QStringLiteral("用户名");
                    const QString expected =
                        key + separator + QStringLiteral("[REDACTED]") + end + QStringLiteral("用户名");
                    const QByteArray once = redacted(redactor, text.toUtf8());
                    QVERIFY2(isValidUtf8(once), qPrintable(text));
                    QCOMPARE(QString::fromUtf8(once), expected);
                    QCOMPARE(redacted(redactor, once), once);
                }
            }
        }
    }
    // A value of full-width letters is cut at once: nothing to redact.
    QCOMPARE(redacted(redactor, "密码：ｐａｓｓ"), QByteArray("密码：ｐａｓｓ"));
}

void TestRedactor::stream_data()
{
    QTest::addColumn<QByteArrayList>("lines");
    QTest::addColumn<QByteArrayList>("expected");
    QTest::addColumn<bool>("openAtEnd");

    const QByteArray begin = "-----BEGIN RSA PRIVATE KEY-----";
    const QByteArray end = "-----END RSA PRIVATE KEY-----";
    const QByteArray marker = "[REDACTED]";
    QTest::addRow("5-line key in a console")
        << QByteArrayList{"generating a key", begin, "MIIEowIBAAKCAQEAx", "  Zm9vYmFy+/==", "AAAA", end,
                          "done password=x"}
        << QByteArrayList{"generating a key", begin, marker, marker, marker, end, "done password=[REDACTED]"} << false;
    QTest::addRow("stray BEGIN then a normal line")
        << QByteArrayList{begin, "INFO: server started on port 8080", "MIIEow"}
        << QByteArrayList{begin, "INFO: server started on port 8080", "MIIEow"} << false;
    QTest::addRow("stray BEGIN then a secret")
        << QByteArrayList{begin, "login ok, password: x", "MIIEow"}
        << QByteArrayList{begin, "login ok, password: [REDACTED]", "MIIEow"} << false;
    QTest::addRow("a line redacted whole keeps the key open")
        << QByteArrayList{begin, "sk-abcdefghijklmnopqrstuvwxyz", "MIIEow", "INFO: x"}
        << QByteArrayList{begin, marker, marker, "INFO: x"} << false;
    QTest::addRow("headers and a blank line")
        << QByteArrayList{begin, "Proc-Type: 4,ENCRYPTED", "DEK-Info: AES-128-CBC,3F17F5316E2BAC89", "", "MIIE", end}
        << QByteArrayList{begin, marker, marker, "", marker, end} << false;
    QTest::addRow("END glued to the body")
        << QByteArrayList{"-----BEGIN PRIVATE KEY-----", "MIIE", "abc=-----END PRIVATE KEY----- token=x"}
        << QByteArrayList{"-----BEGIN PRIVATE KEY-----", marker, "[REDACTED]-----END PRIVATE KEY----- token=[REDACTED]"}
        << false;
    QTest::addRow("body on the BEGIN line")
        << QByteArrayList{"-----BEGIN OPENSSH PRIVATE KEY-----b3Blbn", "more", "-----END OPENSSH PRIVATE KEY-----"}
        << QByteArrayList{"-----BEGIN OPENSSH PRIVATE KEY-----[REDACTED]", marker, "-----END OPENSSH PRIVATE KEY-----"}
        << false;
    QTest::addRow("BEGIN after text") << QByteArrayList{"key: " + begin, "MIIE", end}
                                      << QByteArrayList{"key: " + begin, marker, end} << false;
    QTest::addRow("already redacted") << QByteArrayList{begin, marker, marker, end}
                                      << QByteArrayList{begin, marker, marker, end} << false;
    QTest::addRow("two keys") << QByteArrayList{begin, "AAAA", end, "-----BEGIN EC PRIVATE KEY-----", "BBBB", end}
                              << QByteArrayList{begin, marker, end, "-----BEGIN EC PRIVATE KEY-----", marker, end}
                              << false;
    QTest::addRow("END then BEGIN on one line") << QByteArrayList{begin, "AAAA", end + " " + begin, "BBBB"}
                                                << QByteArrayList{begin, marker, end + " " + begin, marker} << true;
    QTest::addRow("open at the end") << QByteArrayList{"x", begin, "AAAA"} << QByteArrayList{"x", begin, marker}
                                     << true;
    QTest::addRow("whole key in one call") << QByteArrayList{begin + "\nAAAA\nBBBB\n" + end, "CCCC"}
                                           << QByteArrayList{begin + "\n[REDACTED]\n" + end, "CCCC"} << false;
    QTest::addRow("open key in one call") << QByteArrayList{"key:\n" + begin + "\nAAAA", "BBBB", end}
                                          << QByteArrayList{"key:\n" + begin + "\n[REDACTED]", marker, end} << false;
    QTest::addRow("certificate") << QByteArrayList{"-----BEGIN CERTIFICATE-----", "MIIB", "-----END CERTIFICATE-----"}
                                 << QByteArrayList{"-----BEGIN CERTIFICATE-----", "MIIB", "-----END CERTIFICATE-----"}
                                 << false;
}

void TestRedactor::stream()
{
    QFETCH(QByteArrayList, lines);
    QFETCH(QByteArrayList, expected);
    QFETCH(bool, openAtEnd);
    QCOMPARE(lines.size(), expected.size());
    Redactor redactor;
    Redactor::Stream state;
    QByteArrayList outputs;
    for (qsizetype i = 0; i < lines.size(); ++i) {
        QByteArray out("untouched");
        const bool changed = redactor.redact(lines.at(i), &out, &state);
        const QByteArray once = changed ? out : lines.at(i);
        QVERIFY2(changed || out == "untouched", "*out written without a redaction");
        QCOMPARE(changed, lines.at(i) != expected.at(i));
        QCOMPARE(once, expected.at(i));
        QVERIFY(isValidUtf8(once));
        // Redacting an output again, without the state, changes nothing.
        QCOMPARE(redacted(redactor, once), once);
        outputs.append(once);
    }
    QCOMPARE(state.inPrivateKey, openAtEnd);
    // Nor does passing the outputs through a fresh Stream.
    Redactor::Stream again;
    for (const QByteArray& line : std::as_const(outputs)) {
        QByteArray out;
        QVERIFY2(!redactor.redact(line, &out, &again), line.constData());
    }
    QCOMPARE(again.inPrivateKey, openAtEnd);
}

void TestRedactor::streamWithoutDefaults()
{
    Redactor redactor;
    QVERIFY(redactor.configure(false, {QStringLiteral("AAAA")}));
    Redactor::Stream state;
    QByteArray out;
    QVERIFY(!redactor.redact("-----BEGIN RSA PRIVATE KEY-----", &out, &state));
    QVERIFY(!state.inPrivateKey);
    QVERIFY(!redactor.redact("MIIE", &out, &state));
    QVERIFY(redactor.redact("MIIEAAAA", &out, &state));
    QCOMPARE(out, QByteArray("MIIE[REDACTED]"));

    // With the defaults, a body line goes whole before the patterns could cut it.
    QVERIFY(redactor.configure(true, {QStringLiteral("AAAA")}));
    QVERIFY(!redactor.redact("-----BEGIN RSA PRIVATE KEY-----", &out, &state));
    QVERIFY(state.inPrivateKey);
    QVERIFY(redactor.redact("MIIEAAAA", &out, &state));
    QCOMPARE(out, QByteArray("[REDACTED]"));
    QVERIFY(state.inPrivateKey);
    QVERIFY(!redactor.redact("-----END RSA PRIVATE KEY-----", &out, &state));
    QVERIFY(!state.inPrivateKey);
}

void TestRedactor::arguments_data()
{
    QTest::addColumn<bool>("defaults");
    QTest::addColumn<QString>("program");
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QStringList>("expected");

    const auto row = [](const char* name, const char* program, const QStringList& args, const QStringList& expected,
                        bool defaults = true) {
        QTest::addRow("%s", name) << defaults << QString::fromUtf8(program) << args << expected;
    };
    const auto list = [](std::initializer_list<const char*> items) {
        QStringList result;
        for (const char* item : items)
            result.append(QString::fromUtf8(item));
        return result;
    };
    row("flag and value", "bot", list({"--password", "hunter2", "--user", "bob"}),
        list({"--password", "[REDACTED]", "--user", "bob"}));
    row("api key", "bot.py", list({"--api-key", "-starts-with-a-dash", "-v"}), list({"--api-key", "[REDACTED]", "-v"}));
    row("flag then a flag", "bot", list({"--token", "--verbose"}), list({"--token", "--verbose"}));
    row("token file", "bot", list({"--token-file", "/run/token"}), list({"--token-file", "/run/token"}));
    row("flag last", "bot", list({"--password"}), list({"--password"}));
    row("flag with =", "bot", list({"--password=hunter2", "x"}), list({"--password=[REDACTED]", "x"}));
    row("line rules", "sh", list({"-c", "curl -H 'Authorization: Bearer abc123' x"}),
        list({"-c", "curl -H 'Authorization: Bearer [REDACTED]' x"}));
    row("mysql in one argument", "sh", list({"-c", "mysql -pS3cret db"}), list({"-c", "mysql -p[REDACTED] db"}));
    row("mysql program", "mysql", list({"-u", "root", "-pS3cret", "db"}), list({"-u", "root", "-p[REDACTED]", "db"}));
    row("mysql path", "/opt/MariaDB/bin/mariadb", list({"-pS3 cret"}), list({"-p[REDACTED]"}));
    row("mysql through env", "/usr/bin/env", list({"mysqldump", "-pS3cret"}), list({"mysqldump", "-p[REDACTED]"}));
    row("-p elsewhere", "gcc", list({"-pthread", "-pedantic", "-pipe"}), list({"-pthread", "-pedantic", "-pipe"}));
    row("-p before mysql", "sh", list({"-pfoo", "mysql"}), list({"-pfoo", "mysql"}));
    row("-p alone", "mysql", list({"-p", "db"}), list({"-p", "db"}));
    row("already redacted", "mysql", list({"--password", "[REDACTED]", "-p[REDACTED]"}),
        list({"--password", "[REDACTED]", "-p[REDACTED]"}));
    row("chinese", "bot", list({"密码：hunter2，ok"}), list({"密码：[REDACTED]，ok"}));
    row("without defaults", "mysql", list({"--password", "x", "-pS3cret", "secret=AAAA"}),
        list({"--password", "x", "-pS3cret", "secret=[REDACTED]"}), false);
}

void TestRedactor::arguments()
{
    QFETCH(bool, defaults);
    QFETCH(QString, program);
    QFETCH(QStringList, args);
    QFETCH(QStringList, expected);
    Redactor redactor;
    QVERIFY(redactor.configure(defaults, {QStringLiteral("AAAA")}));
    QStringList shown = args;
    QCOMPARE(redactor.redactArguments(&shown, program), args != expected);
    QCOMPARE(shown, expected);
    QVERIFY(!redactor.redactArguments(&shown, program));
    QCOMPARE(shown, expected);
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
