// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/bridge/bettafishbridge.h"

#include "server/bridge/socketioclient.h"
#include "server/protocol/json.h"
#include "server/protocol/protocol.h"

#include <QDir>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QRandomGenerator>
#include <QTimer>
#include <algorithm>

namespace {

constexpr int TickMs = 250;
constexpr int FirstRetryMs = 500;
constexpr int LastRetryMs = 30000;
constexpr int PollTimeoutMs = 10000;
/// BettaFish's start blocks while the app comes up (about 15 s); stop is quick.
constexpr int StartTimeoutMs = 25000;
constexpr int StopTimeoutMs = 15000;
/// A socket dropped for stalling is tried again after this long.
constexpr int SocketRetryMs = 5000;
/// The longest wait before the socket is tried again after it failed.
constexpr int LastSocketRetryMs = 60000;
/// A socket that has not joined by then is given up and tried again.
constexpr int JoinTimeoutMs = 10000;
/// A stall is told by this many of the copy's lines, not one line BettaFish wrote to its file only.
constexpr qsizetype StallLines = 3;
/// Lines the socket brought ahead of the copy that are kept between runs.
constexpr qsizetype KeptLiveAhead = 20000;

QString appName(int app)
{
    return QString::fromLatin1(BettaFishBridge::Apps[size_t(app)]);
}

} // namespace

BettaFishBridge::BettaFishBridge(Options options, Sink* sink, QObject* parent)
    : QObject(parent)
    , m_options(std::move(options))
    , m_sink(sink)
    , m_http(new QNetworkAccessManager(this))
    , m_socket(new SocketIoClient(this))
    , m_tick(new QTimer(this))
    , m_retry(new QTimer(this))
{
    // BettaFish is reached directly, never through a proxy from the environment.
    m_http->setProxy(QNetworkProxy::NoProxy);
    m_http->setAutoDeleteReplies(true);
    m_tick->setInterval(TickMs);
    connect(m_tick, &QTimer::timeout, this, &BettaFishBridge::onTick);
    m_retry->setSingleShot(true);
    connect(m_retry, &QTimer::timeout, this, &BettaFishBridge::poll);
    connect(m_socket, &SocketIoClient::joined, this, &BettaFishBridge::onSocketJoined);
    m_socket->setEventHandler([this](QByteArrayView name, Json::Value argument) { onSocketEvent(name, argument); });
    connect(m_socket, &SocketIoClient::closed, this, &BettaFishBridge::onSocketClosed);
}

BettaFishBridge::~BettaFishBridge() = default;

void BettaFishBridge::start(const std::array<AppState, 4>& resume)
{
    m_running = true;
    for (int i = 0; i < int(Apps.size()); ++i) {
        App& app = m_apps[size_t(i)];
        app.reader = std::make_unique<LogFormats::LineReader>(i == ForumApp ? LogFormats::Format::BettaFishForum
                                                                            : LogFormats::Format::BettaFishApp);
        const AppState& kept = resume[size_t(i)];
        app.linesRead = kept.linesRead;
        app.lastLineHash = kept.lastLineHash;
        app.firstLineHash = kept.firstLineHash;
        app.resumePending = kept.known;
        app.everRead = kept.known;
        // What the socket showed that the copy had not yet brought: not shown again.
        app.merger.restoreWaiting(LineMerger::Live, kept.liveAhead);
        if (m_options.logsDir.isEmpty())
            continue;
        const QString file = QDir(m_options.logsDir).filePath(appName(i) + QStringLiteral(".log"));
        FileFollower::Callbacks callbacks;
        callbacks.line = [this, i](QByteArrayView line) {
            copyLine(i, line);
        };
        callbacks.note = [this, i](const QString& note, bool problem) {
            m_sink->bridgedNote(i, note, problem);
        };
        callbacks.batchDone = [this] {
            m_sink->bridgedBatchDone();
        };
        app.follower = std::make_unique<FileFollower>(file, m_options.maxLineBytes, std::move(callbacks), this);
    }
    // Files first, so their history comes before anything live.
    for (int i = 0; i < int(Apps.size()); ++i) {
        if (FileFollower* follower = m_apps[size_t(i)].follower.get())
            follower->start(resume[size_t(i)].file, m_options.historyLines);
    }
    m_tick->start();
    poll();
}

void BettaFishBridge::stop()
{
    m_running = false;
    m_tick->stop();
    m_retry->stop();
    m_socket->abort();
    for (App& app : m_apps) {
        if (app.follower)
            app.follower->stop();
    }
}

BettaFishBridge::AppState BettaFishBridge::state(int app) const
{
    const App& a = m_apps[size_t(app)];
    AppState s;
    s.linesRead = a.linesRead;
    s.lastLineHash = a.lastLineHash;
    s.firstLineHash = a.firstLineHash;
    if (a.follower)
        s.file = a.follower->position();
    s.liveAhead = a.merger.waitingHashes(LineMerger::Live, KeptLiveAhead);
    s.known = true;
    return s;
}

QString BettaFishBridge::mode() const
{
    if (!m_reachable)
        return m_offlineWhy;
    const QString copy = m_options.logsDir.isEmpty() ? QStringLiteral("HTTP polling") : QStringLiteral("log files");
    if (m_socketFlowing)
        return QStringLiteral("Socket.IO, checked against %1").arg(copy);
    if (m_socketStalled)
        return QStringLiteral("%1 (the Socket.IO connection stalled)").arg(copy);
    return QStringLiteral("%1 (no Socket.IO connection)").arg(copy);
}

// ---------------------------------------------------------------------------
// The socket

void BettaFishBridge::connectSocket()
{
    m_socketFlowing = false;
    m_socketOpenedAtMs = Protocol::nowMs();
    m_socket->open(m_options.url);
}

void BettaFishBridge::onSocketJoined()
{
    m_socketFlowing = true;
    m_socketStalled = false;
    m_socketRetryMs = 0;
    m_joinedAtMs = Protocol::nowMs();
    m_socket->emitEvent("request_status");
    m_lastStatusRequestMs = Protocol::nowMs();
}

void BettaFishBridge::onSocketEvent(QByteArrayView name, Json::Value root)
{
    if (!m_running)
        return;
    if (name == "console_output") {
        const QByteArrayView appValue = root["app"].toUtf8();
        const Json::Value line = root["line"];
        if (!line.isString())
            return;
        for (int i = 0; i < int(Apps.size()); ++i) {
            if (appValue != Apps[size_t(i)])
                continue;
            if (i == ForumApp) {
                // BettaFish's forum reader is lossy; its lines only say forum.log grew.
                if (!m_options.logsDir.isEmpty())
                    m_apps[size_t(i)].follower->check();
                else
                    m_forumPollWanted = true;
            } else {
                liveLine(i, line.toUtf8());
                m_sink->bridgedBatchDone();
            }
        }
    } else if (name == "status_update") {
        readStatus(root);
    } else if (name == "forum_message" && m_options.logsDir.isEmpty()) {
        m_forumPollWanted = true;
    }
}

void BettaFishBridge::onSocketClosed(const QString& reason)
{
    const bool wasFlowing = m_socketFlowing;
    m_socketFlowing = false;
    for (App& app : m_apps)
        app.merger.forget(LineMerger::Live);
    // Tried again later each time it fails, sooner after a stall of a socket that had joined.
    m_socketRetryMs =
        m_socketStalled ? SocketRetryMs : std::min(LastSocketRetryMs, std::max(FirstRetryMs, m_socketRetryMs * 2));
    m_socketRetryAtMs = Protocol::nowMs() + m_socketRetryMs;
    if (wasFlowing && !m_socketStalled && m_reachable) {
        for (int i = 0; i < int(Apps.size()); ++i) {
            m_sink->bridgedNote(i,
                                QStringLiteral("the Socket.IO connection to %1 closed (%2); reading the log files "
                                               "until it is back")
                                    .arg(m_options.url.toString(), reason),
                                false);
        }
    }
}

// ---------------------------------------------------------------------------
// Lines

QByteArrayView BettaFishBridge::mergeKey(QByteArrayView line) const
{
    // A followed file's lines show what a terminal would: the part after the last carriage
    // return, and no more than max_line_bytes; the socket's are as printed. Both ways compare
    // what they have in common.
    const qsizetype cr = line.lastIndexOf('\r');
    if (cr >= 0)
        line = line.sliced(cr + 1);
    const qsizetype kept = std::clamp<qsizetype>(m_options.maxLineBytes - 64, 128, 4096);
    return line.size() > kept ? line.first(kept) : line;
}

void BettaFishBridge::liveLine(int app, QByteArrayView line)
{
    if (m_apps[size_t(app)].merger.take(LineMerger::Live, mergeKey(line)))
        deliver(app, line);
}

void BettaFishBridge::copyLine(int app, QByteArrayView line)
{
    if (m_apps[size_t(app)].merger.take(LineMerger::Copy, mergeKey(line)))
        deliver(app, line);
}

void BettaFishBridge::deliver(int app, QByteArrayView line)
{
    const LogFormats::Entry entry = m_apps[size_t(app)].reader->read(line, Protocol::nowMs());
    m_sink->bridgedEntry(app, entry);
}

// ---------------------------------------------------------------------------
// HTTP: the copy, the state, the commands

QNetworkReply* BettaFishBridge::get(const QString& path, int timeoutMs)
{
    QUrl url = m_options.url;
    QString base = url.path();
    if (base.endsWith(QLatin1Char('/')))
        base.chop(1);
    url.setPath(base + path);
    QNetworkRequest request(url);
    request.setTransferTimeout(timeoutMs);
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    return m_http->get(request);
}

void BettaFishBridge::onTick()
{
    const qint64 now = Protocol::nowMs();
    if (m_socket->isOpen()) {
        // A socket that brings none of the lines the copy shows, for a few seconds, stalled.
        for (int i = 0; i < ForumApp; ++i) {
            // Lines the copy brought around the join may have been written before the server had
            // this socket: only later ones tell.
            const LineMerger& merger = m_apps[size_t(i)].merger;
            const qint64 waited = merger.oldestWait(LineMerger::Copy, now, m_joinedAtMs + 1000);
            if (waited > m_options.stallMs && merger.waiting(LineMerger::Copy) >= StallLines) {
                m_socketStalled = true;
                m_sink->bridgedNote(i,
                                    QStringLiteral("the Socket.IO connection to %1 brought none of the %2 lines "
                                                   "the log file got in %3 s; reading the file until it flows again")
                                        .arg(m_options.url.toString())
                                        .arg(m_apps[size_t(i)].merger.waiting(LineMerger::Copy))
                                        .arg(waited / 1000.0, 0, 'f', 1),
                                    true);
                m_socket->abort();
                onSocketClosed(QStringLiteral("stalled"));
                break;
            }
        }
        // Silent past the server's own ping deadline: dead, whatever TCP thinks.
        if (m_socket->isOpen()
            && now - m_socket->lastFrameMs() > m_socket->pingIntervalMs() + m_socket->pingTimeoutMs()) {
            m_socket->abort();
            onSocketClosed(QStringLiteral("no ping"));
        }
        if (m_socket->isOpen() && now - m_lastStatusRequestMs >= m_options.statusMs) {
            m_socket->emitEvent("request_status");
            m_lastStatusRequestMs = now;
        }
    } else if (m_socket->isConnecting()) {
        // A server that takes the connection and never opens the session.
        if (now - m_socketOpenedAtMs > JoinTimeoutMs) {
            m_socket->abort();
            onSocketClosed(QStringLiteral("no Socket.IO session within %1 s").arg(JoinTimeoutMs / 1000));
        }
    } else if (m_reachable && now >= m_socketRetryAtMs && m_socketRetryAtMs > 0) {
        m_socketRetryAtMs = 0;
        connectSocket();
    }
    if (m_reachable && m_pollsInFlight == 0 && !m_retry->isActive()
        && (now - m_lastPollMs >= m_options.pollMs || m_forumPollWanted))
        poll();
}

void BettaFishBridge::poll()
{
    if (!m_running || m_pollsInFlight > 0)
        return;
    m_lastPollMs = Protocol::nowMs();
    m_forumPollWanted = false;
    ++m_pollsInFlight;
    QNetworkReply* status = get(QStringLiteral("/api/status"), PollTimeoutMs);
    connect(status, &QNetworkReply::finished, this, [this, status] { onStatus(status); });
}

void BettaFishBridge::onStatus(QNetworkReply* reply)
{
    --m_pollsInFlight;
    if (!m_running)
        return;
    const int code = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (reply->error() != QNetworkReply::NoError || code != 200) {
        setReachable(false,
                     reply->error() != QNetworkReply::NoError ? reply->errorString()
                                                              : QStringLiteral("HTTP status %1").arg(code));
        return;
    }
    const QByteArray body = reply->readAll();
    Json::Document doc;
    if (!doc.parse(body) || !doc.root().isObject()) {
        setReachable(false, QStringLiteral("/api/status did not answer with JSON; is this BettaFish?"));
        return;
    }
    setReachable(true, {});
    if (!m_socketFlowing)
        readStatus(doc.root());
    // The copy: over HTTP unless the files are followed.
    for (int i = 0; i < int(Apps.size()); ++i) {
        if (!m_apps[size_t(i)].follower)
            pollApp(i);
    }
}

void BettaFishBridge::pollApp(int app)
{
    ++m_pollsInFlight;
    const QString path =
        app == ForumApp ? QStringLiteral("/api/forum/log") : QStringLiteral("/api/output/") + appName(app);
    QNetworkReply* reply = get(path, PollTimeoutMs);
    connect(reply, &QNetworkReply::finished, this, [this, app, reply] { onOutput(app, reply); });
}

void BettaFishBridge::onOutput(int appIndex, QNetworkReply* reply)
{
    --m_pollsInFlight;
    if (!m_running || reply->error() != QNetworkReply::NoError)
        return;
    App& app = m_apps[size_t(appIndex)];
    Json::Document doc;
    const Json::Value answer = doc.parse(reply->readAll()) ? doc.root() : Json::Value();
    const Json::Value array = answer[appIndex == ForumApp ? "log_lines" : "output"];
    if (!array.isArray()) {
        // BettaFish answers {"success": false, "message": ...} when it cannot read the file.
        const QString why = answer["message"].isString() ? answer["message"].toString()
                                                         : QStringLiteral("the answer is not the JSON BettaFish sends");
        if (!app.copyProblem) {
            app.copyProblem = true;
            m_sink->bridgedNote(appIndex,
                                QStringLiteral("cannot read %1's log over HTTP: %2").arg(appName(appIndex), why), true);
        }
        return;
    }
    app.copyProblem = false;
    std::vector<QByteArrayView> lines;
    lines.reserve(size_t(array.size()));
    for (const Json::Value line : array.items())
        lines.push_back(line.toUtf8());
    const qint64 count = qint64(lines.size());
    const bool grew = count != app.lastCount;
    app.lastCount = count;

    qint64 from = app.linesRead;
    if (from > 0) {
        // The lines read before end in this file if its line there is the one read last.
        const bool same = count >= from && LineMerger::hashOf(lines[size_t(from - 1)]) == app.lastLineHash;
        if (!same) {
            // BettaFish answers [] when a read meets a character half written, and a shorter
            // list when a line is: a file that still begins with the same line was not made
            // anew, and the next answer will fit.
            const bool sameFile = count == 0 || LineMerger::hashOf(lines[0]) == app.firstLineHash;
            if (sameFile && ++app.badReads < 3)
                return;
            if (app.resumePending) {
                m_sink->bridgedNote(appIndex,
                                    QStringLiteral("%1's log was made anew while this host was away: lines written "
                                                   "to the old one after the last one stored are not known")
                                        .arg(appName(appIndex)),
                                    true);
            } else {
                m_sink->bridgedNote(
                    appIndex,
                    appIndex == ForumApp
                        ? QStringLiteral("forum.log was made anew: a new forum session")
                        : QStringLiteral("%1.log was made anew: the app started again").arg(appName(appIndex)),
                    false);
            }
            from = 0;
            app.reader->reset();
        }
    } else if (!app.everRead && count > m_options.historyLines) {
        // The first read: the newest lines of what the file holds are history.
        from = count - m_options.historyLines;
    }
    app.badReads = 0;
    app.everRead = true;
    app.resumePending = false;
    // The last line may be one BettaFish was still writing: it is taken once the file grew
    // past it or stayed as it is for a poll.
    const qint64 until = grew ? count - 1 : count;
    for (qint64 i = from; i < until; ++i)
        copyLine(appIndex, lines[size_t(i)]);
    if (until > 0 && until >= from) {
        app.linesRead = until;
        app.lastLineHash = LineMerger::hashOf(lines[size_t(until - 1)]);
        app.firstLineHash = LineMerger::hashOf(lines[0]);
    } else if (from == 0) {
        app.linesRead = 0;
    }
    if (until > from)
        m_sink->bridgedBatchDone();
}

void BettaFishBridge::readStatus(Json::Value status)
{
    if (!status.isObject())
        return;
    for (int i = 0; i < int(Apps.size()); ++i) {
        const Json::Value state = status[Apps[size_t(i)]]["status"];
        if (state.isString())
            setAppState(i, state.toUtf8());
    }
}

void BettaFishBridge::setAppState(int app, QByteArrayView state)
{
    App& a = m_apps[size_t(app)];
    QByteArray normal = state.toByteArray();
    if (normal != "running" && normal != "starting" && normal != "stopped")
        normal = "error";
    if (a.state == normal && m_reachable)
        return;
    a.state = normal;
    m_sink->bridgedState(app, normal, mode());
}

void BettaFishBridge::setReachable(bool reachable, const QString& why)
{
    if (reachable) {
        const bool was = m_reachable;
        m_reachable = true;
        m_retryDelayMs = 0;
        if (!was) {
            for (int i = 0; i < int(Apps.size()); ++i) {
                m_apps[size_t(i)].state.clear();
                m_sink->bridgedNote(i, QStringLiteral("BettaFish at %1 is reachable").arg(m_options.url.toString()),
                                    false);
            }
            if (!m_socket->isOpen())
                connectSocket();
        }
        return;
    }
    m_socket->abort();
    m_socketFlowing = false;
    for (App& app : m_apps)
        app.merger.forget(LineMerger::Live);
    m_retryDelayMs = m_retryDelayMs == 0 ? FirstRetryMs : std::min(LastRetryMs, m_retryDelayMs * 2);
    const int jittered = int(m_retryDelayMs * (0.8 + 0.4 * QRandomGenerator::global()->generateDouble()));
    m_offlineWhy = QStringLiteral("BettaFish at %1 is unreachable: %2; next try in %3 s")
                       .arg(m_options.url.toString(), why)
                       .arg(jittered / 1000.0, 0, 'f', 1);
    const bool wasReachable = m_reachable;
    m_reachable = false;
    for (int i = 0; i < int(Apps.size()); ++i) {
        m_apps[size_t(i)].state = "offline";
        m_sink->bridgedState(i, "offline", m_offlineWhy);
        if (wasReachable)
            m_sink->bridgedNote(i, m_offlineWhy, true);
    }
    m_retry->start(jittered);
}

void BettaFishBridge::control(int app, QByteArrayView action, Done done)
{
    const QString name = appName(app);
    const auto request = [this, app, name](QByteArrayView what) {
        const bool start = what == "start";
        const QString path = app == ForumApp ? QStringLiteral("/api/forum/%1").arg(QLatin1String(what))
                                             : QStringLiteral("/api/%1/%2").arg(QLatin1String(what), name);
        return get(path, start ? StartTimeoutMs : StopTimeoutMs);
    };
    const auto answer = [](QNetworkReply* reply, const Done& reportTo) {
        if (reply->error() != QNetworkReply::NoError) {
            reportTo(false, "BettaFish did not answer: " + reply->errorString().toUtf8());
            return false;
        }
        Json::Document doc;
        if (!doc.parse(reply->readAll()) || !doc.root()["success"].isBool()) {
            reportTo(false, "BettaFish's answer was not the JSON it sends");
            return false;
        }
        const bool ok = doc.root()["success"].toBool();
        reportTo(ok, doc.root()["message"].toUtf8().toByteArray());
        return ok;
    };
    if (action == "restart") {
        // Stopped first if it runs; a stop refused because it was not running is no reason not to start.
        QNetworkReply* stopping = request("stop");
        connect(stopping, &QNetworkReply::finished, this, [this, stopping, request, answer, done] {
            QByteArray stopText;
            answer(stopping, [&](bool, const QByteArray& text) { stopText = text; });
            QNetworkReply* starting = request("start");
            connect(starting, &QNetworkReply::finished, this, [this, starting, answer, done, stopText] {
                answer(starting,
                       [&](bool ok, const QByteArray& text) { done(ok, "stop: " + stopText + "; start: " + text); });
                m_forumPollWanted = true;
            });
        });
        return;
    }
    QNetworkReply* reply = request(action);
    connect(reply, &QNetworkReply::finished, this, [this, reply, answer, done] {
        answer(reply, done);
        m_forumPollWanted = true;
        if (m_socket->isOpen())
            m_socket->emitEvent("request_status");
    });
}
