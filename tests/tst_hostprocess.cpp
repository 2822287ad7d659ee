// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/launcher/processmetrics.h"
#include "support/fixtures.h"
#include "support/hostprocess.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkProxy>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <QWebSocket>

#include <csignal>
#include <memory>
#include <sys/stat.h>
#include <sys/types.h>

/*
 * Runs the real agentdeck-host executable and talks to it over real sockets on
 * 127.0.0.1, as a user and their bots would.
 */

namespace {

// Generous, for a busy machine and sanitizer builds; waits end as soon as the condition holds.
constexpr int Timeout = 30000;

const QString HostExecutable = QStringLiteral(AGENTDECK_HOST_EXECUTABLE);
const QString Version = QStringLiteral(AGENTDECK_VERSION);

/// The permission bits of a file, as ls shows them.
int modeOf(const QString& path)
{
    struct stat st = {};
    if (::stat(QFile::encodeName(path).constData(), &st) != 0)
        return -1;
    return int(st.st_mode & 07777);
}

/// A WebSocket client that records every message it receives, parsed.
class Client : public QObject
{
public:
    explicit Client(QObject* parent = nullptr)
        : QObject(parent)
    {
        socket.setProxy(QNetworkProxy::NoProxy);
        connect(&socket, &QWebSocket::textMessageReceived, this,
                [this](const QString& text) { messages.append(QJsonDocument::fromJson(text.toUtf8()).object()); });
        connect(&socket, &QWebSocket::connected, this, [this] { ++connects; });
        connect(&socket, &QWebSocket::disconnected, this, [this] { ++disconnects; });
    }

    void send(const QJsonObject& message)
    {
        socket.sendTextMessage(QString::fromUtf8(QJsonDocument(message).toJson(QJsonDocument::Compact)));
    }

    /// Connects and sends a hello; the caller waits for what comes back.
    void hello(const QUrl& url, const QJsonObject& message)
    {
        socket.open(url);
        // Sent once connected; a hello sent earlier would be lost.
        connect(&socket, &QWebSocket::connected, this, [this, message] { send(message); });
    }

    static QJsonObject viewerHello(const QString& token)
    {
        return {{QStringLiteral("type"), QStringLiteral("hello")},
                {QStringLiteral("protocol"), 1},
                {QStringLiteral("role"), QStringLiteral("viewer")},
                {QStringLiteral("token"), token},
                {QStringLiteral("client"), QStringLiteral("tst_hostprocess")}};
    }

    static QJsonObject agentHello(const QString& token, const QString& id)
    {
        const QJsonObject pause{{QStringLiteral("name"), QStringLiteral("pause")},
                                {QStringLiteral("help"), QStringLiteral("stop taking new tasks")}};
        const QJsonObject agent{{QStringLiteral("id"), id},
                                {QStringLiteral("name"), QStringLiteral("Process Agent")},
                                {QStringLiteral("pid"), 4242},
                                {QStringLiteral("commands"), QJsonArray{pause}}};
        return {{QStringLiteral("type"), QStringLiteral("hello")},
                {QStringLiteral("protocol"), 1},
                {QStringLiteral("role"), QStringLiteral("agent")},
                {QStringLiteral("token"), token},
                {QStringLiteral("agent"), agent}};
    }

    QString typeAt(int index) const
    {
        return index < messages.size() ? messages.at(index).value(QStringLiteral("type")).toString() : QString();
    }

    QWebSocket socket;
    QList<QJsonObject> messages;
    int connects = 0;
    int disconnects = 0;
};

} // namespace

class TestHostProcess : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void help();
    void version();
    void listensAndWelcomes();
    void wrongToken_data();
    void wrongToken();
    void shutdownOnSignal_data();
    void shutdownOnSignal();
    void configSyntaxError_data();
    void configSyntaxError();
    void configWrongType_data();
    void configWrongType();
    void configMissing();
    void badPort_data();
    void badPort();
    void configFile();
    void commandLineOverridesConfig();
    void generatedToken();
    void logFilesArePrivate();
    void listenAddress();
    void badListenAddress();
    void launchedAgentsStopWithTheHost();

private:
    QString writeFile(const QString& name, const QByteArray& content);
    /// Connects a viewer with token and waits for welcome and snapshot.
    void expectViewerWelcomed(const QUrl& url, const QString& token, QJsonObject* snapshot = nullptr);
    void expectUnauthorized(const QUrl& url, const QJsonObject& hello);

    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_configHome;
};

void TestHostProcess::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY2(m_dir->isValid(), qPrintable(m_dir->errorString()));
    // Each test gets an empty configuration directory, so no run sees another's token.
    m_configHome = m_dir->filePath(QStringLiteral("xdg-config"));
}

QString TestHostProcess::writeFile(const QString& name, const QByteArray& content)
{
    const QString path = m_dir->filePath(name);
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(content) != content.size())
        QTest::qFail(qPrintable(QStringLiteral("cannot write ") + path), __FILE__, __LINE__);
    return path;
}

void TestHostProcess::expectViewerWelcomed(const QUrl& url, const QString& token, QJsonObject* snapshot)
{
    Client viewer;
    viewer.hello(url, Client::viewerHello(token));
    QTRY_VERIFY_WITH_TIMEOUT(viewer.messages.size() >= 2 || viewer.disconnects > 0, Timeout);
    QCOMPARE(viewer.typeAt(0), QStringLiteral("welcome"));
    QCOMPARE(viewer.typeAt(1), QStringLiteral("snapshot"));
    const QJsonObject welcome = viewer.messages.at(0);
    QCOMPARE(welcome.value(QStringLiteral("protocol")).toInt(), 1);
    QCOMPARE(welcome.value(QStringLiteral("role")).toString(), QStringLiteral("viewer"));
    QVERIFY(!welcome.contains(QStringLiteral("resume_from")));
    QCOMPARE(welcome.value(QStringLiteral("host")).toObject().value(QStringLiteral("version")).toString(), Version);
    QVERIFY(!welcome.value(QStringLiteral("host")).toObject().value(QStringLiteral("id")).toString().isEmpty());
    QCOMPARE(viewer.messages.at(1).value(QStringLiteral("host")).toObject().value(QStringLiteral("id")),
             welcome.value(QStringLiteral("host")).toObject().value(QStringLiteral("id")));
    QCOMPARE(viewer.disconnects, 0);
    if (snapshot)
        *snapshot = viewer.messages.at(1);
}

void TestHostProcess::expectUnauthorized(const QUrl& url, const QJsonObject& hello)
{
    Client client;
    client.hello(url, hello);
    QTRY_VERIFY_WITH_TIMEOUT(client.disconnects > 0, Timeout);
    QCOMPARE(client.connects, 1);
    QVERIFY2(client.messages.size() >= 1, "no error before the close");
    QCOMPARE(client.typeAt(0), QStringLiteral("error"));
    QCOMPARE(client.messages.at(0).value(QStringLiteral("code")).toString(), QStringLiteral("unauthorized"));
    QCOMPARE(client.messages.size(), 1); // no welcome
    QCOMPARE(client.socket.closeCode(), QWebSocketProtocol::CloseCodePolicyViolated);
}

void TestHostProcess::help()
{
    HostProcess host(m_configHome);
    host.start({QStringLiteral("--help")});
    QVERIFY(host.waitFinished());
    QCOMPARE(host.process.exitStatus(), QProcess::NormalExit);
    QCOMPARE(host.process.exitCode(), 0);
    const QString text = host.stdoutText();
    QVERIFY2(text.contains(QStringLiteral("Usage:")), qPrintable(text));
    for (const char* option : {"--help", "--version", "--config", "--listen", "--port", "--token"})
        QVERIFY2(text.contains(QLatin1String(option)), option);
    QVERIFY2(!text.contains(QStringLiteral("listening")), qPrintable(text));
}

void TestHostProcess::version()
{
    HostProcess host(m_configHome);
    host.start({QStringLiteral("--version")});
    QVERIFY(host.waitFinished());
    QCOMPARE(host.process.exitStatus(), QProcess::NormalExit);
    QCOMPARE(host.process.exitCode(), 0);
    QCOMPARE(host.stdoutText().trimmed(), QStringLiteral("agentdeck-host ") + Version);
}

void TestHostProcess::listensAndWelcomes()
{
    HostProcess host(m_configHome);
    host.start({QStringLiteral("--port"), QStringLiteral("0"), QStringLiteral("--token"), QStringLiteral("T")});
    QString error;
    QVERIFY2(host.waitListening(&error), qPrintable(error));
    QCOMPARE(host.version, Version);

    QJsonObject snapshot;
    expectViewerWelcomed(host.url, QStringLiteral("T"), &snapshot);
    if (QTest::currentTestFailed())
        return;
    QCOMPARE(snapshot.value(QStringLiteral("agents")).toArray(), QJsonArray());

    Client agent;
    agent.hello(host.url, Client::agentHello(QStringLiteral("T"), QStringLiteral("proc-agent")));
    QTRY_VERIFY_WITH_TIMEOUT(agent.messages.size() >= 1 || agent.disconnects > 0, Timeout);
    QCOMPARE(agent.typeAt(0), QStringLiteral("welcome"));
    const QJsonObject welcome = agent.messages.at(0);
    QCOMPARE(welcome.value(QStringLiteral("protocol")).toInt(), 1);
    QCOMPARE(welcome.value(QStringLiteral("role")).toString(), QStringLiteral("agent"));
    const QJsonObject resume = welcome.value(QStringLiteral("resume_from")).toObject();
    QCOMPARE(resume.value(QStringLiteral("log")), QJsonValue(0));
    QCOMPARE(resume.value(QStringLiteral("forum")), QJsonValue(0));

    // A viewer that connects now finds the agent in its snapshot.
    expectViewerWelcomed(host.url, QStringLiteral("T"), &snapshot);
    if (QTest::currentTestFailed())
        return;
    const QJsonArray agents = snapshot.value(QStringLiteral("agents")).toArray();
    QCOMPARE(agents.size(), 1);
    const QJsonObject listed = agents.at(0).toObject();
    QCOMPARE(listed.value(QStringLiteral("id")).toString(), QStringLiteral("proc-agent"));
    QCOMPARE(listed.value(QStringLiteral("name")).toString(), QStringLiteral("Process Agent"));
    QCOMPARE(listed.value(QStringLiteral("origin")).toString(), QStringLiteral("connected"));
    QCOMPARE(listed.value(QStringLiteral("state")).toString(), QStringLiteral("running"));
    QCOMPARE(listed.value(QStringLiteral("pid")).toInt(), 4242);
    QCOMPARE(agent.disconnects, 0);
}

void TestHostProcess::wrongToken_data()
{
    QTest::addColumn<QString>("role");
    QTest::addColumn<QString>("token");
    QTest::addRow("viewer, wrong token") << QStringLiteral("viewer") << QStringLiteral("not-T");
    QTest::addRow("agent, wrong token") << QStringLiteral("agent") << QStringLiteral("not-T");
    QTest::addRow("viewer, token with a prefix of T") << QStringLiteral("viewer") << QStringLiteral("TT");
    QTest::addRow("viewer, no token") << QStringLiteral("viewer") << QString();
}

void TestHostProcess::wrongToken()
{
    QFETCH(QString, role);
    QFETCH(QString, token);

    HostProcess host(m_configHome);
    host.start({QStringLiteral("--port"), QStringLiteral("0"), QStringLiteral("--token"), QStringLiteral("T")});
    QString error;
    QVERIFY2(host.waitListening(&error), qPrintable(error));

    QJsonObject hello = role == QLatin1String("agent") ? Client::agentHello(token, QStringLiteral("intruder"))
                                                       : Client::viewerHello(token);
    if (token.isNull())
        hello.remove(QStringLiteral("token"));
    expectUnauthorized(host.url, hello);
    if (QTest::currentTestFailed())
        return;
    // The host carries on for the rightful users.
    expectViewerWelcomed(host.url, QStringLiteral("T"));
}

void TestHostProcess::shutdownOnSignal_data()
{
    QTest::addColumn<int>("signum");
    QTest::addColumn<bool>("withClients");
    QTest::addRow("SIGTERM") << int(SIGTERM) << false;
    QTest::addRow("SIGINT") << int(SIGINT) << false;
    QTest::addRow("SIGTERM with clients") << int(SIGTERM) << true;
    QTest::addRow("SIGINT with clients") << int(SIGINT) << true;
    QTest::addRow("SIGHUP") << int(SIGHUP) << false;
}

void TestHostProcess::shutdownOnSignal()
{
    QFETCH(int, signum);
    QFETCH(bool, withClients);

    HostProcess host(m_configHome);
    host.start({QStringLiteral("--port"), QStringLiteral("0"), QStringLiteral("--token"), QStringLiteral("T")});
    QString error;
    QVERIFY2(host.waitListening(&error), qPrintable(error));

    Client viewer;
    Client agent;
    if (withClients) {
        viewer.hello(host.url, Client::viewerHello(QStringLiteral("T")));
        agent.hello(host.url, Client::agentHello(QStringLiteral("T"), QStringLiteral("worker")));
        QTRY_VERIFY_WITH_TIMEOUT(viewer.messages.size() >= 2 && agent.messages.size() >= 1, Timeout);
        QCOMPARE(viewer.typeAt(0), QStringLiteral("welcome"));
        QCOMPARE(agent.typeAt(0), QStringLiteral("welcome"));
    }

    QCOMPARE(::kill(pid_t(host.process.processId()), signum), 0);
    QVERIFY2(host.waitFinished(), "the host did not exit after the signal");
    QCOMPARE(host.process.exitStatus(), QProcess::NormalExit);
    QCOMPARE(host.process.exitCode(), 0);
    QVERIFY2(host.stdoutText().contains(QStringLiteral("Shutting down")), qPrintable(host.stdoutText()));

    if (withClients) {
        QTRY_VERIFY_WITH_TIMEOUT(viewer.disconnects > 0 && agent.disconnects > 0, Timeout);
        // A proper WebSocket close, not a dropped connection.
        QCOMPARE(viewer.socket.closeCode(), QWebSocketProtocol::CloseCodeNormal);
        QCOMPARE(agent.socket.closeCode(), QWebSocketProtocol::CloseCodeNormal);
    }
}

void TestHostProcess::configSyntaxError_data()
{
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<int>("line");
    QTest::addColumn<int>("column");

    QTest::addRow("missing colon") << QByteArray("{\n  \"port\": 0,\n  \"token\" \"T\"\n}\n") << 3 << 11;
    QTest::addRow("missing comma") << QByteArray("{\n  \"port\": 0\n  \"token\": \"T\"\n}\n") << 3 << 3;
    // é is two bytes, one column.
    QTest::addRow("after a multibyte character")
        << QByteArray("{\n  \"port\": 0,\n  \"name\": \"caf\xc3\xa9\",,\n  \"token\": \"T\"\n}\n") << 3 << 18;
}

void TestHostProcess::configSyntaxError()
{
    QFETCH(QByteArray, content);
    QFETCH(int, line);
    QFETCH(int, column);

    const QString path = writeFile(QStringLiteral("broken.json"), content);
    HostProcess host(m_configHome);
    host.start({QStringLiteral("--config"), path});
    QVERIFY(host.waitFinished());
    QCOMPARE(host.process.exitStatus(), QProcess::NormalExit);
    QVERIFY(host.process.exitCode() != 0);
    QVERIFY2(!host.stdoutText().contains(QStringLiteral("listening")), qPrintable(host.stdoutText()));
    const QString err = host.stderrText();
    const QString where = QStringLiteral("%1:%2:%3:").arg(path).arg(line).arg(column);
    QVERIFY2(err.contains(where), qPrintable(QStringLiteral("\"%1\" not in: %2").arg(where, err)));
}

void TestHostProcess::configWrongType_data()
{
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<QString>("key");
    QTest::addRow("port") << QByteArray(R"({"port": "x", "token": "T"})") << QStringLiteral("port");
    QTest::addRow("token") << QByteArray(R"({"port": 0, "token": 42})") << QStringLiteral("token");
    QTest::addRow("limits.abuse_limit") << QByteArray(R"({"port": 0, "token": "T", "limits": {"abuse_limit": "x"}})")
                                        << QStringLiteral("limits.abuse_limit");
}

void TestHostProcess::configWrongType()
{
    QFETCH(QByteArray, content);
    QFETCH(QString, key);

    const QString path = writeFile(QStringLiteral("typed.json"), content);
    HostProcess host(m_configHome);
    host.start({QStringLiteral("--config"), path});
    QVERIFY(host.waitFinished());
    QCOMPARE(host.process.exitStatus(), QProcess::NormalExit);
    QVERIFY(host.process.exitCode() != 0);
    QVERIFY2(!host.stdoutText().contains(QStringLiteral("listening")), qPrintable(host.stdoutText()));
    const QString err = host.stderrText();
    QVERIFY2(err.contains(path), qPrintable(err));
    const QRegularExpression namesKey(QStringLiteral("(?<![A-Za-z0-9_.])") + QRegularExpression::escape(key)
                                      + QStringLiteral("(?![A-Za-z0-9_])"));
    QVERIFY2(namesKey.match(err.mid(err.indexOf(path) + path.size())).hasMatch(), qPrintable(err));
}

void TestHostProcess::configMissing()
{
    const QString path = m_dir->filePath(QStringLiteral("does-not-exist.json"));
    HostProcess host(m_configHome);
    host.start({QStringLiteral("--config"), path, QStringLiteral("--port"), QStringLiteral("0")});
    QVERIFY(host.waitFinished());
    QVERIFY(host.process.exitCode() != 0);
    QVERIFY2(!host.stdoutText().contains(QStringLiteral("listening")), qPrintable(host.stdoutText()));
    QVERIFY2(host.stderrText().contains(path), qPrintable(host.stderrText()));
}

void TestHostProcess::badPort_data()
{
    QTest::addColumn<QString>("port");
    QTest::addRow("99999") << QStringLiteral("99999");
    QTest::addRow("65536") << QStringLiteral("65536");
    QTest::addRow("-1") << QStringLiteral("-1");
    QTest::addRow("not a number") << QStringLiteral("http");
    QTest::addRow("empty") << QString(QLatin1String(""));
}

void TestHostProcess::badPort()
{
    QFETCH(QString, port);
    HostProcess host(m_configHome);
    host.start({QStringLiteral("--port"), port, QStringLiteral("--token"), QStringLiteral("T")});
    QVERIFY(host.waitFinished());
    QCOMPARE(host.process.exitStatus(), QProcess::NormalExit);
    QVERIFY(host.process.exitCode() != 0);
    QVERIFY2(!host.stdoutText().contains(QStringLiteral("listening")), qPrintable(host.stdoutText()));
    QVERIFY2(host.stderrText().contains(QStringLiteral("port")), qPrintable(host.stderrText()));
}

void TestHostProcess::configFile()
{
    // The port was free a moment ago; another process may take it first, so try a few.
    std::unique_ptr<HostProcess> host;
    quint16 port = 0;
    QString error;
    for (int attempt = 0; attempt < 5; ++attempt) {
        port = portOutsideEphemeralRange();
        QVERIFY(port != 0);
        const QString path = writeFile(
            QStringLiteral("agentdeck.json"),
            QStringLiteral(R"({"listen": "127.0.0.1", "port": %1, "token": "from-config"})").arg(port).toUtf8());
        host = std::make_unique<HostProcess>(m_configHome);
        host->start({QStringLiteral("--config"), path});
        if (host->waitListening(&error))
            break;
        host.reset();
    }
    QVERIFY2(host, qPrintable(error));
    QCOMPARE(host->port, port);

    expectViewerWelcomed(host->url, QStringLiteral("from-config"));
    if (QTest::currentTestFailed())
        return;
    expectUnauthorized(host->url, Client::viewerHello(QStringLiteral("T")));
    // A configured token is not written anywhere.
    QVERIFY(!QFileInfo::exists(m_configHome + QStringLiteral("/agentdeck/token")));
}

void TestHostProcess::commandLineOverridesConfig()
{
    const QString path = writeFile(QStringLiteral("agentdeck.json"),
                                   QByteArray(R"({"listen": "127.0.0.1", "port": 1, "token": "from-config"})"));
    HostProcess host(m_configHome);
    host.start({QStringLiteral("--config"), path, QStringLiteral("--port"), QStringLiteral("0"),
                QStringLiteral("--token"), QStringLiteral("from-cli")});
    QString error;
    QVERIFY2(host.waitListening(&error), qPrintable(error));
    QVERIFY(host.port != 1);
    expectViewerWelcomed(host.url, QStringLiteral("from-cli"));
    if (QTest::currentTestFailed())
        return;
    expectUnauthorized(host.url, Client::viewerHello(QStringLiteral("from-config")));
}

void TestHostProcess::logFilesArePrivate()
{
    // Every bot's output lands in the log folder: only its owner reads it, also a
    // file an older version left readable by everyone.
    const QString logs = QDir::cleanPath(m_configHome + QStringLiteral("/../xdg-state/agentdeck/logs"));
    QVERIFY(!QFileInfo::exists(logs));
    {
        // The folders the host creates are owner-only.
        HostProcess host(m_configHome);
        host.start({QStringLiteral("--port"), QStringLiteral("0"), QStringLiteral("--token"), QStringLiteral("T")});
        QString error;
        QVERIFY2(host.waitListening(&error), qPrintable(error));
        Client agent;
        agent.hello(host.url, Client::agentHello(QStringLiteral("T"), QStringLiteral("talker")));
        QTRY_COMPARE_WITH_TIMEOUT(agent.typeAt(0), QStringLiteral("welcome"), Timeout);
        agent.send(
            {{QStringLiteral("type"), QStringLiteral("log")},
             {QStringLiteral("lines"), QJsonArray{QJsonObject{{QStringLiteral("text"), QStringLiteral("hi")}}}}});
        agent.send({{QStringLiteral("type"), QStringLiteral("forum")},
                    {QStringLiteral("messages"),
                     QJsonArray{QJsonObject{{QStringLiteral("text"), QStringLiteral("hello all")}}}}});
        QTRY_VERIFY_WITH_TIMEOUT(QFileInfo(logs + QStringLiteral("/talker.forum")).size() > 0, Timeout);
        QCOMPARE(::kill(pid_t(host.process.processId()), SIGTERM), 0);
        QVERIFY(host.waitFinished());
    }
    QCOMPARE(modeOf(QDir::cleanPath(logs + QStringLiteral("/.."))), 0700);
    QCOMPARE(modeOf(logs), 0700);
    QCOMPARE(modeOf(logs + QStringLiteral("/talker.log")), 0600);
    QCOMPARE(modeOf(logs + QStringLiteral("/talker.forum")), 0600);

    // An existing file readable by all is made private; a configured mode is kept.
    QVERIFY(QFile::setPermissions(logs + QStringLiteral("/talker.log"),
                                  QFile::ReadOwner | QFile::WriteOwner | QFile::ReadGroup | QFile::ReadOther));
    const QString config = writeFile(QStringLiteral("host.json"), R"({"logs": {"file_mode": "0640"}})");
    HostProcess host(m_configHome);
    host.start({QStringLiteral("--port"), QStringLiteral("0"), QStringLiteral("--token"), QStringLiteral("T"),
                QStringLiteral("--config"), config});
    QString error;
    QVERIFY2(host.waitListening(&error), qPrintable(error));
    Client agent;
    agent.hello(host.url, Client::agentHello(QStringLiteral("T"), QStringLiteral("talker")));
    QTRY_COMPARE_WITH_TIMEOUT(agent.typeAt(0), QStringLiteral("welcome"), Timeout);
    QTRY_COMPARE_WITH_TIMEOUT(modeOf(logs + QStringLiteral("/talker.log")), 0640, Timeout);
    QCOMPARE(modeOf(logs + QStringLiteral("/talker.forum")), 0640);
}

void TestHostProcess::generatedToken()
{
    const QString tokenDir = m_configHome + QStringLiteral("/agentdeck");
    const QString tokenPath = tokenDir + QStringLiteral("/token");
    QVERIFY(!QFileInfo::exists(m_configHome));

    QString token;
    {
        HostProcess host(m_configHome);
        host.start({QStringLiteral("--port"), QStringLiteral("0")});
        QString error;
        QVERIFY2(host.waitListening(&error), qPrintable(error));
        // The user is told where the token is.
        QTRY_VERIFY_WITH_TIMEOUT(host.stdoutText().contains(tokenPath), Timeout);

        QVERIFY(QFileInfo::exists(tokenPath));
        QCOMPARE(modeOf(tokenPath), 0600);
        QCOMPARE(modeOf(tokenDir), 0700);
        QFile file(tokenPath);
        QVERIFY(file.open(QIODevice::ReadOnly));
        token = QString::fromUtf8(file.readAll()).trimmed();
        QVERIFY2(token.size() >= 16, qPrintable(token));

        expectViewerWelcomed(host.url, token);
        if (QTest::currentTestFailed())
            return;
        expectUnauthorized(host.url, Client::viewerHello(QString()));
        if (QTest::currentTestFailed())
            return;

        QCOMPARE(::kill(pid_t(host.process.processId()), SIGTERM), 0);
        QVERIFY(host.waitFinished());
        QCOMPARE(host.process.exitCode(), 0);
    }

    // A second run keeps the token it made.
    HostProcess again(m_configHome);
    again.start({QStringLiteral("--port"), QStringLiteral("0")});
    QString error;
    QVERIFY2(again.waitListening(&error), qPrintable(error));
    QTRY_VERIFY_WITH_TIMEOUT(again.stdoutText().contains(tokenPath), Timeout);
    QFile file(tokenPath);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(QString::fromUtf8(file.readAll()).trimmed(), token);
    QCOMPARE(modeOf(tokenPath), 0600);
    expectViewerWelcomed(again.url, token);
}

void TestHostProcess::listenAddress()
{
    HostProcess host(m_configHome);
    host.start({QStringLiteral("--listen"), QStringLiteral("127.0.0.1"), QStringLiteral("--port"), QStringLiteral("0"),
                QStringLiteral("--token"), QStringLiteral("T")});
    QString error;
    QVERIFY2(host.waitListening(&error), qPrintable(error));
    QCOMPARE(host.url.host(), QStringLiteral("127.0.0.1"));
    expectViewerWelcomed(host.url, QStringLiteral("T"));
}

void TestHostProcess::badListenAddress()
{
    HostProcess host(m_configHome);
    host.start({QStringLiteral("--listen"), QStringLiteral("not-an-address"), QStringLiteral("--port"),
                QStringLiteral("0"), QStringLiteral("--token"), QStringLiteral("T")});
    QVERIFY(host.waitFinished());
    QVERIFY(host.process.exitCode() != 0);
    QVERIFY2(!host.stdoutText().contains(QStringLiteral("listening")), qPrintable(host.stdoutText()));
    QVERIFY2(host.stderrText().contains(QStringLiteral("not-an-address")), qPrintable(host.stderrText()));
}

void TestHostProcess::launchedAgentsStopWithTheHost()
{
    // A bot that ignores SIGTERM, with a grandchild that ignores it too.
    const QString logs = m_dir->filePath(QStringLiteral("launch-logs"));
    const QString path = writeFile(QStringLiteral("launch.json"),
                                   QStringLiteral(R"({
  "logs": {"dir": "%1"},
  "agents": [{"id": "stubborn", "command": "%2", "stopwaitsecs": 1,
              "args": ["--ignore-sigterm", "--grandchild-ignore-sigterm", "--pid", "--grandchild", "--forever"]}]
})")
                                       .arg(logs, QStringLiteral(AGENTDECK_TESTBOT))
                                       .toUtf8());
    HostProcess host(m_configHome);
    host.start({QStringLiteral("--config"), path, QStringLiteral("--port"), QStringLiteral("0"),
                QStringLiteral("--token"), QStringLiteral("T")});
    QString error;
    QVERIFY2(host.waitListening(&error), qPrintable(error));

    // The console goes to the log file; read the group's id from it.
    QFile file(logs + QStringLiteral("/stubborn.log"));
    qint64 pgid = 0;
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            if (!file.open(QIODevice::ReadOnly))
                return false;
            const QByteArray text = file.readAll();
            file.close();
            const qsizetype at = text.indexOf("\tpid ");
            if (at < 0 || !text.contains("grandchild pid"))
                return false;
            pgid = text.mid(at + 5, text.indexOf(' ', at + 5) - at - 5).toLongLong();
            return true;
        }(),
        Timeout);
    QCOMPARE(ProcessGroupSampler::processesInGroup(pgid).size(), 2);

    QCOMPARE(::kill(pid_t(host.process.processId()), SIGTERM), 0);
    QVERIFY2(host.waitFinished(), "the host did not exit after SIGTERM");
    QCOMPARE(host.process.exitCode(), 0);
    QVERIFY(ProcessGroupSampler::processesInGroup(pgid).isEmpty());
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray console = file.readAll();
    QVERIFY2(console.contains("ignoring SIGTERM"), console.constData());
    QVERIFY2(console.contains("killed by SIGKILL"), console.constData());
}

QTEST_GUILESS_MAIN(TestHostProcess)
#include "tst_hostprocess.moc"
