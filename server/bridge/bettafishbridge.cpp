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

QString appName(int app)
{
    return QString::fromLatin1(BettaFishBridge::Apps[size_t(app)]);
}

} // namespace

quint64 BettaFishBridge::lineHash(QByteArrayView line)
{
    quint64 h = 0xcbf29ce484222325ull;
    for (const char c : line) {
        h ^= quint8(c);
        h *= 0x100000001b3ull;
    }
    return h;
}

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
        app.linesRead = resume[size_t(i)].linesRead;
        app.lastLineHash = resume[size_t(i)].lastLineHash;
        app.resumePending = app.linesRead > 0;
        app.everRead = app.resumePending;
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
    if (a.follower)
        s.file = a.follower->position();
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
    m_socket->open(m_options.url);
}

void BettaFishBridge::onSocketJoined()
{
    m_socketFlowing = true;
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
    Q_UNUSED(reason);
    m_socketFlowing = false;
    for (App& app : m_apps)
        app.merger.forget(LineMerger::Live);
    m_socketRetryAtMs = Protocol::nowMs() + (m_socketStalled ? SocketRetryMs : m_retryDelayMs + FirstRetryMs);
}

// ---------------------------------------------------------------------------
// Lines

void BettaFishBridge::liveLine(int app, QByteArrayView line)
{
    if (m_apps[size_t(app)].merger.take(LineMerger::Live, line))
        deliver(app, line);
}

void BettaFishBridge::copyLine(int app, QByteArrayView line)
{
    if (m_apps[size_t(app)].merger.take(LineMerger::Copy, line))
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
            const qint64 waited = m_apps[size_t(i)].merger.oldestWait(LineMerger::Copy, now, m_joinedAtMs + 1000);
            if (waited > m_options.stallMs) {
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
    Json::Document doc;
    if (!doc.parse(reply->readAll()))
        return;
    const Json::Value lines = doc.root()[appIndex == ForumApp ? "log_lines" : "output"];
    if (!lines.isArray())
        return;
    App& app = m_apps[size_t(appIndex)];
    const qint64 count = lines.size();
    qint64 from = app.linesRead;
    if (from > 0) {
        // The lines read before end in this file if its line there is the one read last;
        // otherwise the file was made anew (the app started again, a new forum session).
        bool same = count >= from;
        if (same) {
            qint64 index = 0;
            for (const Json::Value line : lines.items()) {
                if (++index == from) {
                    same = lineHash(line.toUtf8()) == app.lastLineHash;
                    break;
                }
            }
        }
        if (!same) {
            if (!app.resumePending) {
                m_sink->bridgedNote(
                    appIndex,
                    appIndex == ForumApp
                        ? QStringLiteral("forum.log was recreated: a new forum session")
                        : QStringLiteral("%1.log was recreated: the app started again").arg(appName(appIndex)),
                    false);
            }
            from = 0;
            app.reader->reset();
        }
    } else if (!app.everRead && count > m_options.historyLines) {
        // The first read: the newest lines of what the file holds are history.
        from = count - m_options.historyLines;
    }
    app.everRead = true;
    app.resumePending = false;
    qint64 index = 0;
    bool any = false;
    for (const Json::Value line : lines.items()) {
        if (index++ < from)
            continue;
        copyLine(appIndex, line.toUtf8());
        any = true;
    }
    if (count > 0) {
        qint64 last = 0;
        for (const Json::Value line : lines.items()) {
            if (++last == count)
                app.lastLineHash = lineHash(line.toUtf8());
        }
    }
    app.linesRead = count;
    if (any)
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
        QNetworkReply* stopping = request("stop");
        connect(stopping, &QNetworkReply::finished, this, [this, stopping, request, answer, done] {
            bool stopped = false;
            answer(stopping, [&stopped, done](bool ok, const QByteArray& text) {
                stopped = ok;
                if (!ok)
                    done(false, "stop failed: " + text);
            });
            if (!stopped)
                return;
            QNetworkReply* starting = request("start");
            connect(starting, &QNetworkReply::finished, this, [this, starting, answer, done] {
                answer(starting, done);
                poll();
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
