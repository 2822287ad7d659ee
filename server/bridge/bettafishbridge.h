// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/bridge/filefollower.h"
#include "server/bridge/linemerger.h"
#include "server/bridge/logformats.h"
#include "server/protocol/json.h"

#include <QByteArray>
#include <QObject>
#include <QUrl>
#include <array>
#include <functional>
#include <memory>
#include <vector>

class QNetworkAccessManager;
class QNetworkReply;
class QTimer;
class SocketIoClient;

/*
 * Watches a running BettaFish (Flask + Flask-SocketIO) without changing it: its
 * four apps (insight, media, query, forum) become console lines, forum.log
 * becomes forum messages, and start/stop go to its HTTP endpoints.
 *
 * Lines come by two ways at once and each shows once (LineMerger): live from the
 * socket's `console_output` events, and in order from a copy of each app's log
 * file, fetched over HTTP every couple of seconds (/api/output/<app>) or
 * followed on disk when logs_dir is given. A socket that stalls or carries only
 * some lines is found out by the copy's lines it does not bring within a few
 * seconds; it is then dropped and opened again, while the copy goes on. The
 * forum's socket events come from a reader in BettaFish that loses lines when
 * forum.log is recreated smaller: they only hasten the next read of the copy.
 *
 * Where the copy of each app stands (the lines read of the current file, or the
 * followed file's position) is kept by the owner between runs (state()).
 */
class BettaFishBridge final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(BettaFishBridge)

public:
    static constexpr std::array<const char*, 4> Apps = {"insight", "media", "query", "forum"};
    static constexpr int ForumApp = 3;

    struct Options
    {
        QUrl url;
        QString logsDir; // empty: the copy comes over HTTP
        qsizetype maxLineBytes = 65536;
        int historyLines = 1000;
        int pollMs = 2000;
        int stallMs = 3000;
        int statusMs = 5000;
    };

    /// What the bridge hands on, per app (an index into Apps).
    class Sink
    {
    public:
        virtual ~Sink() = default;
        virtual void bridgedEntry(int app, const LogFormats::Entry& entry) = 0;
        /// The app's state: stopped, starting, running, or offline (with why in text).
        virtual void bridgedState(int app, QByteArrayView state, const QString& text) = 0;
        /// A note for the app's console (the socket stalled, a file was recreated...).
        virtual void bridgedNote(int app, const QString& note, bool problem) = 0;
        /// After each batch of entries.
        virtual void bridgedBatchDone() = 0;
    };

    /// Where an app's copy stands, kept between runs.
    struct AppState
    {
        qint64 linesRead = 0; // of the current file over HTTP
        quint64 lastLineHash = 0; // of the last of them
        quint64 firstLineHash = 0; // of the file's first line: which file it is
        FileFollower::Position file;
        /// Lines the socket brought that the copy had not yet (their hashes): a
        /// restarted host does not show them again when the copy brings them.
        std::vector<quint64> liveAhead;
        bool known = false; // kept from an earlier run
        bool operator==(const AppState& o) const
        {
            return linesRead == o.linesRead && lastLineHash == o.lastLineHash && firstLineHash == o.firstLineHash
                && file == o.file && liveAhead == o.liveAhead;
        }
    };

    BettaFishBridge(Options options, Sink* sink, QObject* parent = nullptr);
    ~BettaFishBridge() override;

    void start(const std::array<AppState, 4>& resume);
    void stop();
    AppState state(int app) const;

    using Done = std::function<void(bool ok, const QByteArray& text)>;
    /// start, stop or restart on an app, through BettaFish's HTTP endpoints.
    void control(int app, QByteArrayView action, Done done);

    /// How lines come now, for the agents' status: "socket", "socket and files",
    /// "HTTP polling (socket stalled)"...
    QString mode() const;
    bool socketFlowing() const { return m_socketFlowing; }

private:
    struct App
    {
        LineMerger merger;
        std::unique_ptr<LogFormats::LineReader> reader;
        std::unique_ptr<FileFollower> follower;
        qint64 linesRead = 0;
        quint64 lastLineHash = 0;
        quint64 firstLineHash = 0;
        qint64 lastCount = -1; // lines in the previous answer
        int badReads = 0; // answers in a row that did not fit the lines read
        bool copyProblem = false; // told that the copy cannot be read
        bool everRead = false;
        bool resumePending = false;
        QByteArray state;
    };

    void connectSocket();
    void onSocketJoined();
    void onSocketEvent(QByteArrayView name, Json::Value argument);
    void onSocketClosed(const QString& reason);
    void onTick();
    void poll();
    void pollApp(int app);
    void onOutput(int app, QNetworkReply* reply);
    void onStatus(QNetworkReply* reply);
    void readStatus(Json::Value status);
    void copyLine(int app, QByteArrayView line);
    /// What a line is compared by: the same for a line on both ways.
    QByteArrayView mergeKey(QByteArrayView line) const;
    void liveLine(int app, QByteArrayView line);
    void deliver(int app, QByteArrayView line);
    void setReachable(bool reachable, const QString& why);
    void scheduleRetry();
    QNetworkReply* get(const QString& path, int timeoutMs);
    void setAppState(int app, QByteArrayView state);

    Options m_options;
    Sink* m_sink;
    QNetworkAccessManager* m_http;
    SocketIoClient* m_socket;
    QTimer* m_tick;
    QTimer* m_retry;
    std::array<App, 4> m_apps;
    bool m_running = false;
    bool m_reachable = false;
    bool m_socketFlowing = false;
    bool m_socketStalled = false;
    int m_pollsInFlight = 0;
    bool m_forumPollWanted = false;
    int m_retryDelayMs = 0;
    qint64 m_lastPollMs = 0;
    qint64 m_lastStatusRequestMs = 0;
    qint64 m_socketRetryAtMs = 0;
    qint64 m_joinedAtMs = 0;
    qint64 m_socketOpenedAtMs = 0;
    int m_socketRetryMs = 0;
    QString m_offlineWhy;
};
