// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * agentdeck-demo-agent: one agent of a make-believe research pipeline, for the
 * demo AgentDeck runs when nothing is configured (and for trying things out).
 *
 * Three engines (query, media, insight) gather and analyse material on a topic;
 * a moderator (the forum host) opens rounds, asks follow-up questions and sums
 * up. Each prints loguru-style logs at every level to stdout (with colours,
 * progress bars redrawn with '\r', bursts of debug lines and now and then a
 * traceback on stderr). Launched by a host, it also connects back with the
 * AGENTDECK_URL, AGENTDECK_TOKEN and AGENTDECK_AGENT_ID it is given, posts to
 * the forum, reports metrics and status, takes the commands pause, resume and
 * status, and asks a person a question once in a while. With --crash-after it
 * dies of an unhandled error (a traceback on stderr, exit code 1) some time
 * between MS and twice MS after starting, for its host to restart.
 *
 * Usage: agentdeck-demo-agent --role query|media|insight|moderator [--speed F]
 *        [--seed N] [--ask-after MS] [--crash-after MS]
 */
#include "server/engine/unixsignalwatcher.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDate>
#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QTimer>
#include <QWebSocket>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>

namespace {

struct Role
{
    const char* key;
    const char* name;
    const char* source; // forum source tag
    const char* module; // logger name
    QStringList debug;
    QStringList info;
    QStringList warning;
    QStringList error;
    QStringList findings; // forum messages, with %1 the topic and %2 a number
    bool asks = false;
    bool moderates = false;
};

const QStringList Topics = {
    QStringLiteral("the new campus cafeteria menu"),   QStringLiteral("the city's bike-lane plan"),
    QStringLiteral("a smartphone launch event"),       QStringLiteral("the library's extended opening hours"),
    QStringLiteral("an open-source AI model release"),
};

QList<Role> roles()
{
    const QStringList commonDebug = {
        QStringLiteral("cache hit for key article:{n}"),
        QStringLiteral("token usage so far: prompt={n}{k} completion={n}"),
        QStringLiteral("sleeping {ms} ms before the next request"),
        QStringLiteral("response parsed in {k} ms"),
    };
    return {
        {"query",
         "Query Engine",
         "QUERY",
         "query.search",
         commonDebug,
         {QStringLiteral("searching page {k} for '{topic}'"), QStringLiteral("fetched {k} results from news search"),
          QStringLiteral("kept {k} relevant articles after filtering"),
          QStringLiteral("\x1b[32m✓\x1b[0m search round {k} finished")},
         {QStringLiteral("search API slow: {ms} ms, retrying"), QStringLiteral("rate limit close: {k} requests left")},
         {QStringLiteral("HTTP 503 from news API, giving up on page {k}"),
          QStringLiteral("could not parse result JSON at offset {n}")},
         {QStringLiteral("Found %2 news reports on %1; most are from the last two days."),
          QStringLiteral("Official statements on %1 stress cost and timing; I have %2 sources so far."),
          QStringLiteral("Search volume on %1 doubled since yesterday. Sharing the top %2 links.")}},
        {"media",
         "Media Engine",
         "MEDIA",
         "media.vision",
         commonDebug,
         {QStringLiteral("downloaded {k} images for analysis"), QStringLiteral("OCR finished on {k} screenshots"),
          QStringLiteral("transcribed video {k} of the batch"),
          QStringLiteral("\x1b[36mframe sampler\x1b[0m: {k} fps")},
         {QStringLiteral("image img_{n}.jpg too large, downscaling"),
          QStringLiteral("video transcript incomplete ({k} s missing)")},
         {QStringLiteral("failed to decode image img_{n}.jpg: truncated file"),
          QStringLiteral("thumbnail service returned HTTP 500 (attempt {k})")},
         {QStringLiteral("Short videos about %1 show mostly positive reactions; %2 clips reviewed."),
          QStringLiteral("Memes about %1 are spreading on two platforms, %2 variants so far."),
          QStringLiteral("Photos from the scene of %1 match the official description in %2 cases.")}},
        {"insight",
         "Insight Engine",
         "INSIGHT",
         "insight.analysis",
         commonDebug,
         {QStringLiteral("sentiment model scored {n} posts"), QStringLiteral("clustered comments into {k} groups"),
          QStringLiteral("loaded {n} rows from the opinion database"),
          QStringLiteral("\x1b[1mreport draft\x1b[0m: section {k} written")},
         {QStringLiteral("sentiment confidence low ({k}%) on a cluster"),
          QStringLiteral("database query took {ms} ms, above the 500 ms budget")},
         {QStringLiteral("sentiment model timed out on batch {k}"),
          QStringLiteral("database connection reset, {n} rows lost from the batch")},
         {QStringLiteral("Sentiment on %1 is 62% positive across %2 comments, with a negative spike about prices."),
          QStringLiteral("Three themes dominate %1: cost, convenience and fairness. %2 posts sampled."),
          QStringLiteral("Younger users talk about %1 twice as often as others (%2 accounts).")},
         true},
        {"moderator",
         "Forum Host",
         "HOST",
         "forum.host",
         commonDebug,
         {QStringLiteral("round {k} opened"), QStringLiteral("collected {k} messages for the summary"),
          QStringLiteral("summary {k} published")},
         {QStringLiteral("engine silent for {k} s, nudging")},
         {QStringLiteral("summary model returned an empty answer (round {k})")},
         {QStringLiteral("Round %2 on %1: please each bring your strongest evidence."),
          QStringLiteral("Summary so far on %1: the engines agree on the facts, less on the mood. Round %2 next."),
          QStringLiteral("Follow-up for round %2 on %1: where do the media and the comments disagree?")},
         true,
         true},
    };
}

/// Writes straight to the file descriptor: stdout is a pipe and nothing may wait in a buffer.
void writeOut(int fd, const QByteArray& bytes)
{
    qsizetype done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.constData() + done, size_t(bytes.size() - done));
        if (n <= 0)
            return;
        done += n;
    }
}

class DemoAgent final : public QObject
{
public:
    DemoAgent(const Role& role, double speed, quint32 seed, int askAfterMs, int crashAfterMs)
        : m_role(role)
        , m_speed(speed)
        , m_random(seed)
        // The same topic for every agent of the pipeline: they talk about one thing.
        , m_topic(Topics.at(QDate::currentDate().dayOfYear() % Topics.size()))
    {
        m_url = qEnvironmentVariable("AGENTDECK_URL");
        m_token = qEnvironmentVariable("AGENTDECK_TOKEN");
        m_id = qEnvironmentVariable("AGENTDECK_AGENT_ID", QString::fromLatin1(role.key));
        connect(&m_socket, &QWebSocket::connected, this, &DemoAgent::sayHello);
        connect(&m_socket, &QWebSocket::disconnected, this, &DemoAgent::onDisconnected);
        connect(&m_socket, &QWebSocket::textMessageReceived, this, &DemoAgent::onMessage);
        m_logTimer.setSingleShot(true);
        connect(&m_logTimer, &QTimer::timeout, this, &DemoAgent::logSomething);
        m_forumTimer.setSingleShot(true);
        connect(&m_forumTimer, &QTimer::timeout, this, &DemoAgent::postToForum);
        connect(&m_metricsTimer, &QTimer::timeout, this, &DemoAgent::sendMetrics);
        m_askTimer.setSingleShot(true);
        connect(&m_askTimer, &QTimer::timeout, this, &DemoAgent::ask);
        m_reconnect.setSingleShot(true);
        connect(&m_reconnect, &QTimer::timeout, this, &DemoAgent::connectToHost);

        log("INFO",
            QStringLiteral("%1 starting (pid %2), topic: %3")
                .arg(QLatin1String(role.name))
                .arg(QCoreApplication::applicationPid())
                .arg(m_topic));
        schedule(&m_logTimer, 300, 900);
        schedule(&m_forumTimer, role.moderates ? 1500 : 4000, role.moderates ? 3000 : 9000);
        m_metricsTimer.start(scaled(1000));
        if (role.asks)
            m_askTimer.start(askAfterMs >= 0 ? askAfterMs : scaled(60000 + int(m_random.bounded(30000))));
        if (crashAfterMs > 0) {
            m_crashTimer.setSingleShot(true);
            connect(&m_crashTimer, &QTimer::timeout, this, &DemoAgent::crash);
            m_crashTimer.start(crashAfterMs + int(m_random.bounded(crashAfterMs)));
        }
        if (!m_url.isEmpty())
            connectToHost();
    }

    void shutDown()
    {
        log("INFO", QStringLiteral("shutting down"));
        m_socket.close();
        QCoreApplication::quit();
    }

private:
    int scaled(int ms) const { return std::max(1, int(ms / m_speed)); }
    void schedule(QTimer* timer, int minMs, int maxMs)
    {
        timer->start(scaled(minMs + int(m_random.bounded(std::max(1, maxMs - minMs)))));
    }
    int number(int low, int high) { return low + int(m_random.bounded(high - low + 1)); }
    QString pick(const QStringList& list) { return list.at(int(m_random.bounded(quint32(list.size())))); }

    /// One log line: over the connection with its level and source when there is
    /// one, else printed the way loguru prints it.
    void log(const char* level, const QString& text, int fd = STDOUT_FILENO)
    {
        ++m_lines;
        if (m_online && fd == STDOUT_FILENO) {
            const QJsonObject line{{QStringLiteral("level"), QLatin1String(level)},
                                   {QStringLiteral("source"), QLatin1String(m_role.module)},
                                   {QStringLiteral("text"), text}};
            send({{QStringLiteral("type"), QStringLiteral("log")}, {QStringLiteral("lines"), QJsonArray{line}}});
            return;
        }
        const QString printed =
            QStringLiteral("%1 | %2 | %3:%4:%5 - %6\n")
                .arg(QDateTime::currentDateTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss.zzz")),
                     QString::fromLatin1(level).leftJustified(8), QLatin1String(m_role.module), QStringLiteral("run"))
                .arg(number(20, 400))
                .arg(text);
        writeOut(fd, printed.toUtf8());
    }

    /// A template with its numbers filled in: {k} small, {n} in the hundreds, {ms} a delay.
    QString fill(const QString& text)
    {
        QString out = text;
        out.replace(QLatin1String("{topic}"), m_topic);
        while (out.contains(QLatin1String("{k}")))
            out.replace(out.indexOf(QLatin1String("{k}")), 3, QString::number(number(2, 60)));
        while (out.contains(QLatin1String("{n}")))
            out.replace(out.indexOf(QLatin1String("{n}")), 3, QString::number(number(100, 900)));
        while (out.contains(QLatin1String("{ms}")))
            out.replace(out.indexOf(QLatin1String("{ms}")), 4, QString::number(number(520, 2400)));
        return out;
    }

    void logSomething()
    {
        schedule(&m_logTimer, 150, 900);
        if (m_paused || m_drawingProgress)
            return;
        const quint32 dice = m_random.bounded(1000u);
        if (dice < 12) {
            burst();
        } else if (dice < 20) {
            progress(0);
        } else if (dice < 24) {
            traceback();
        } else if (dice < 340) {
            log("DEBUG", fill(pick(m_role.debug)));
        } else if (dice < 820) {
            log("INFO", fill(pick(m_role.info)));
        } else if (dice < 950) {
            log("WARNING", fill(pick(m_role.warning)));
        } else if (dice < 996) {
            log("ERROR", fill(pick(m_role.error)));
        } else {
            log("CRITICAL", QStringLiteral("worker pool exhausted, %1 tasks dropped").arg(number(2, 20)));
        }
        m_task = (m_task + (dice % 7 == 0 ? 1 : 0)) % 4;
    }

    void burst()
    {
        const int lines = number(20, 50);
        for (int i = 0; i < lines; ++i)
            log("DEBUG",
                QStringLiteral("chunk %1/%2 tokenised (%3 tokens)").arg(i + 1).arg(lines).arg(number(80, 900)));
    }

    void progress(int percent)
    {
        // A bar redrawn in place, as tqdm does, then finished with a newline.
        const int width = 30;
        const int filled = percent * width / 100;
        const QString bar = QStringLiteral("downloading batch: %1% |%2%3|")
                                .arg(percent, 3)
                                .arg(QString(filled, QLatin1Char('#')), QString(width - filled, QLatin1Char(' ')));
        writeOut(STDOUT_FILENO,
                 (QLatin1Char('\r') + bar + (percent >= 100 ? QStringLiteral("\n") : QString())).toUtf8());
        m_drawingProgress = percent < 100;
        if (percent < 100)
            QTimer::singleShot(scaled(120), this,
                               [this, percent] { progress(std::min(100, percent + number(5, 20))); });
    }

    void traceback()
    {
        log("ERROR", QStringLiteral("unhandled error in worker, restarting it"), STDERR_FILENO);
        const QByteArray trace = "Traceback (most recent call last):\n"
                                 "  File \"/srv/pipeline/worker.py\", line 88, in run\n"
                                 "    result = await self.step(task)\n"
                                 "  File \"/srv/pipeline/worker.py\", line 131, in step\n"
                                 "    return json.loads(payload)[\"items\"]\n"
                                 "KeyError: 'items'\n";
        writeOut(STDERR_FILENO, trace);
    }

    /// Dies as a Python worker does of an exception nobody caught.
    void crash()
    {
        writeOut(STDERR_FILENO,
                 "Traceback (most recent call last):\n"
                 "  File \"/srv/pipeline/main.py\", line 42, in <module>\n"
                 "    asyncio.run(pipeline.serve())\n"
                 "  File \"/srv/pipeline/engine.py\", line 217, in serve\n"
                 "    await self.collect(batch)\n"
                 "  File \"/srv/pipeline/engine.py\", line 264, in collect\n"
                 "    raise ConnectionError(f\"upstream closed after {n} items\")\n"
                 "ConnectionError: upstream closed after 512 items\n");
        std::_Exit(1);
    }

    // --- the connection ------------------------------------------------------

    void connectToHost() { m_socket.open(QUrl(m_url)); }

    void onDisconnected()
    {
        m_online = false;
        m_reconnectDelay = std::min(5000, m_reconnectDelay * 2);
        m_reconnect.start(m_reconnectDelay);
    }

    void send(const QJsonObject& message)
    {
        if (m_online)
            m_socket.sendTextMessage(QString::fromUtf8(QJsonDocument(message).toJson(QJsonDocument::Compact)));
    }

    void sayHello()
    {
        const auto command = [](const char* name, const char* help) {
            return QJsonObject{{QStringLiteral("name"), QLatin1String(name)},
                               {QStringLiteral("help"), QLatin1String(help)}};
        };
        const QJsonObject agent{
            {QStringLiteral("id"), m_id},
            {QStringLiteral("name"), QLatin1String(m_role.name)},
            {QStringLiteral("pid"), QCoreApplication::applicationPid()},
            {QStringLiteral("commands"),
             QJsonArray{command("pause", "stop working until resume"), command("resume", "go on working"),
                        command("status", "say what I am doing")}},
        };
        m_online = true;
        send({{QStringLiteral("type"), QStringLiteral("hello")},
              {QStringLiteral("protocol"), 1},
              {QStringLiteral("role"), QStringLiteral("agent")},
              {QStringLiteral("token"), m_token},
              {QStringLiteral("agent"), agent}});
        m_reconnectDelay = 500;
        sendStatus();
    }

    void onMessage(const QString& text)
    {
        const QJsonObject message = QJsonDocument::fromJson(text.toUtf8()).object();
        const QString type = message.value(QStringLiteral("type")).toString();
        if (type == QLatin1String("welcome")) {
            log("INFO", QStringLiteral("connected to %1").arg(m_url));
        } else if (type == QLatin1String("error")) {
            log("WARNING", QStringLiteral("host says: %1").arg(message.value(QStringLiteral("text")).toString()));
        } else if (type == QLatin1String("command")) {
            handleCommand(message);
        }
    }

    void reply(const QJsonObject& command, bool ok, const QString& text)
    {
        send({{QStringLiteral("type"), QStringLiteral("result")},
              {QStringLiteral("id"), command.value(QStringLiteral("id"))},
              {QStringLiteral("ok"), ok},
              {QStringLiteral("text"), text}});
    }

    void handleCommand(const QJsonObject& command)
    {
        const QString name = command.value(QStringLiteral("name")).toString();
        const QJsonObject args = command.value(QStringLiteral("args")).toObject();
        if (name == QLatin1String("pause")) {
            m_paused = true;
            log("WARNING", QStringLiteral("paused by the operator"));
            sendStatus();
            reply(command, true, QStringLiteral("paused"));
        } else if (name == QLatin1String("resume")) {
            m_paused = false;
            log("INFO", QStringLiteral("resumed by the operator"));
            sendStatus();
            reply(command, true, QStringLiteral("resumed"));
        } else if (name == QLatin1String("status")) {
            reply(command, true,
                  QStringLiteral("%1, %2 lines written, working on: %3")
                      .arg(m_paused ? QStringLiteral("paused") : QStringLiteral("busy"))
                      .arg(m_lines)
                      .arg(taskTitles().at(m_task)));
        } else if (name == QLatin1String("answer")) {
            const QString choice = args.value(QStringLiteral("choice")).toString();
            log("INFO",
                QStringLiteral("the operator answered %1: %2")
                    .arg(args.value(QStringLiteral("ask")).toString(), choice));
            if (m_role.moderates)
                postForum(QStringLiteral("The operator chose \"%1\" for the round summary.").arg(choice));
            m_askOpen = false;
            m_askTimer.start(scaled(60000 + int(m_random.bounded(30000))));
            reply(command, true, QStringLiteral("noted: %1").arg(choice));
        } else {
            reply(command, false, QStringLiteral("unknown command \"%1\"; I take pause, resume and status").arg(name));
        }
    }

    // --- forum, metrics, status, questions -------------------------------------

    void postForum(const QString& text)
    {
        const QJsonObject message{
            {QStringLiteral("sender"), QLatin1String(m_role.name)},
            {QStringLiteral("role"), m_role.moderates ? QStringLiteral("host") : QStringLiteral("agent")},
            {QStringLiteral("source"), QLatin1String(m_role.source)},
            {QStringLiteral("text"), text}};
        send({{QStringLiteral("type"), QStringLiteral("forum")}, {QStringLiteral("messages"), QJsonArray{message}}});
    }

    void postToForum()
    {
        schedule(&m_forumTimer, m_role.moderates ? 12000 : 6000, m_role.moderates ? 18000 : 12000);
        if (m_paused)
            return;
        ++m_round;
        postForum(pick(m_role.findings).arg(m_topic).arg(m_role.moderates ? m_round : number(3, 80)));
        log("INFO", QStringLiteral("posted to the forum (round %1)").arg(m_round));
    }

    QStringList taskTitles() const
    {
        return {QStringLiteral("gather sources"), QStringLiteral("analyse material"),
                QStringLiteral("discuss in the forum"), QStringLiteral("write the report")};
    }

    void sendStatus()
    {
        QJsonArray tasks;
        const QStringList titles = taskTitles();
        for (int i = 0; i < titles.size(); ++i) {
            const QString state = i < m_task ? QStringLiteral("done")
                : i == m_task                ? QStringLiteral("running")
                                             : QStringLiteral("pending");
            tasks.append(QJsonObject{{QStringLiteral("id"), QString::number(i + 1)},
                                     {QStringLiteral("title"), titles.at(i)},
                                     {QStringLiteral("state"), state}});
        }
        send({{QStringLiteral("type"), QStringLiteral("status")},
              {QStringLiteral("state"), m_paused ? QStringLiteral("idle") : QStringLiteral("busy")},
              {QStringLiteral("text"), m_paused ? QStringLiteral("paused") : titles.at(m_task)},
              {QStringLiteral("progress"), (m_task + 0.5) / titles.size()},
              {QStringLiteral("tasks"), tasks}});
    }

    void sendMetrics()
    {
        const double tokens = m_paused ? 0 : 40 + m_random.bounded(120.0);
        send({{QStringLiteral("type"), QStringLiteral("metrics")},
              {QStringLiteral("values"),
               QJsonObject{{QStringLiteral("tokens_per_s"), tokens},
                           {QStringLiteral("queue"), m_paused ? 0 : number(0, 25)},
                           {QStringLiteral("pages"), m_round * 7 + number(0, 6)}}}});
        if (++m_ticks % 5 == 0)
            sendStatus();
    }

    void ask()
    {
        if (m_askOpen || !m_online) {
            m_askTimer.start(scaled(10000));
            return;
        }
        m_askOpen = true;
        const QString id = QStringLiteral("q%1").arg(++m_asks);
        const QString text = m_role.moderates
            ? QStringLiteral("Publish the summary of round %1?").arg(m_round)
            : QStringLiteral("Include the %1 low-confidence comments in the report?").arg(number(5, 40));
        send({{QStringLiteral("type"), QStringLiteral("ask")},
              {QStringLiteral("id"), id},
              {QStringLiteral("text"), text},
              {QStringLiteral("choices"), QJsonArray{QStringLiteral("approve"), QStringLiteral("reject")}}});
        log("INFO", QStringLiteral("waiting for the operator: %1").arg(text));
    }

    const Role m_role;
    const double m_speed;
    QRandomGenerator m_random;
    const QString m_topic;
    QString m_url;
    QString m_token;
    QString m_id;
    QWebSocket m_socket;
    bool m_online = false;
    int m_reconnectDelay = 500;
    QTimer m_reconnect;
    QTimer m_logTimer;
    QTimer m_forumTimer;
    QTimer m_metricsTimer;
    QTimer m_crashTimer;
    QTimer m_askTimer;
    bool m_paused = false;
    bool m_drawingProgress = false; // other output waits until the bar is done
    bool m_askOpen = false;
    int m_asks = 0;
    int m_round = 0;
    int m_task = 0;
    int m_ticks = 0;
    qint64 m_lines = 0;
};

} // namespace

int main(int argc, char* argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("agentdeck-demo-agent"));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("One agent of AgentDeck's demo research pipeline."));
    parser.addHelpOption();
    const QCommandLineOption roleOption(QStringLiteral("role"), QStringLiteral("query, media, insight or moderator."),
                                        QStringLiteral("ROLE"));
    const QCommandLineOption speedOption(QStringLiteral("speed"), QStringLiteral("Time runs this many times faster."),
                                         QStringLiteral("F"), QStringLiteral("1"));
    const QCommandLineOption seedOption(QStringLiteral("seed"), QStringLiteral("Random seed."), QStringLiteral("N"));
    const QCommandLineOption askOption(QStringLiteral("ask-after"),
                                       QStringLiteral("Ask the first question after MS milliseconds."),
                                       QStringLiteral("MS"));
    const QCommandLineOption crashOption(QStringLiteral("crash-after"),
                                         QStringLiteral("Crash between MS and twice MS milliseconds after starting."),
                                         QStringLiteral("MS"));
    parser.addOptions({roleOption, speedOption, seedOption, askOption, crashOption});
    parser.process(app);

    const QList<Role> all = roles();
    const QString wanted = parser.value(roleOption);
    const auto role =
        std::find_if(all.begin(), all.end(), [&](const Role& r) { return wanted == QLatin1String(r.key); });
    if (role == all.end()) {
        std::fprintf(stderr, "agentdeck-demo-agent: --role must be query, media, insight or moderator\n");
        return 2;
    }
    const double speed = std::max(0.01, parser.value(speedOption).toDouble());
    const quint32 seed = parser.isSet(seedOption) ? parser.value(seedOption).toUInt()
                                                  : quint32(QDateTime::currentMSecsSinceEpoch() ^ app.applicationPid());
    DemoAgent agent(*role, speed, seed, parser.isSet(askOption) ? parser.value(askOption).toInt() : -1,
                    parser.isSet(crashOption) ? parser.value(crashOption).toInt() : -1);

    UnixSignalWatcher signalWatcher;
    signalWatcher.watch(SIGTERM);
    signalWatcher.watch(SIGINT);
    QObject::connect(&signalWatcher, &UnixSignalWatcher::signalReceived, &agent, [&agent] { agent.shutDown(); });
    return app.exec();
}
