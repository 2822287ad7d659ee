// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/engine/redactor.h"
#include "server/protocol/json.h"
#include "server/protocol/loglevel.h"
#include "server/protocol/protocol.h"

#include <QByteArray>

class AgentRegistry;
class Connection;
class QObject;
class ViewerFeed;
struct Agent;
struct HostConfig;

/*
 * What agents publish, taken in: console lines (numbered by the agent or by the
 * host, under the rate limit), unfinished lines, forum messages, metrics,
 * status and questions; and the output of launched processes. Everything
 * passes the redactor before it is stored or sent, and goes to the viewers
 * through the feed.
 */
class Ingest final
{
    Q_DISABLE_COPY_MOVE(Ingest)

public:
    /// context: the engine's object, on whose thread unfinished lines are released.
    Ingest(const HostConfig& config, AgentRegistry& registry, ViewerFeed& feed, const Redactor& redactor,
           QObject* context);

    /// The host's own secrets (its configured tokens), replaced wherever an agent
    /// prints them as they are, like each launched agent's own token in its console
    /// and forum. Secrets shorter than MinSecretBytes are too likely to be ordinary text.
    void setHostSecrets(const QList<QByteArray>& secrets);
    static constexpr qsizetype MinSecretBytes = 16;

    // From an agent's connection (c->agent is the agent).
    void log(Connection* c, Json::Value root, QByteArrayView ref);
    void forum(Connection* c, Json::Value root, QByteArrayView ref);
    void metrics(Connection* c, Json::Value root, QByteArrayView ref);
    void status(Connection* c, Json::Value root, QByteArrayView ref);
    void ask(Connection* c, Json::Value root, QByteArrayView ref);

    // From a launched agent's process.
    /// A complete line of its output.
    void capturedLine(Agent& agent, Protocol::Stream stream, qint64 ts, QByteArrayView text);
    /// Its unfinished last line; empty: there is none any more.
    void capturedPartial(Agent& agent, Protocol::Stream stream, qint64 ts, QByteArrayView text);
    /// A line the host writes into the agent's console (started, exited...).
    void hostLine(Agent& agent, LogLevel level, const QByteArray& text);

    // From a bridge or a followed file (the caller schedules the delivery).
    /// A console line with the time, level and source it was read with.
    void bridgedLine(Agent& agent, qint64 ts, LogLevel level, QByteArrayView source, QByteArrayView text);
    /// A forum message; startsConversation: the first of a new session of the forum.
    void bridgedForum(Agent& agent, qint64 ts, QByteArrayView sender, QByteArrayView role, QByteArrayView source,
                      QByteArrayView text, bool startsConversation);

private:
    /// The level of an agent's next complete line on a stream: as given, else its
    /// record's when it continues one (a traceback), else inferred or the stream's default.
    static LogLevel recordLevel(Agent& agent, LogLevel given, Protocol::Stream stream, QByteArrayView text, qint64 ts);
    struct LogBatch; // what one log message did
    void numberedLine(Agent& agent, qint64 seq, qint64 ts, Protocol::Stream stream, LogLevel level,
                      QByteArrayView source, QByteArrayView text, LogBatch* batch);
    void unnumberedText(Agent& agent, qint64 ts, Protocol::Stream stream, LogLevel level, QByteArrayView source,
                        QByteArrayView text, LogBatch* batch);
    void storeLine(Agent& agent, qint64 seq, qint64 ts, Protocol::Stream stream, LogLevel level, QByteArrayView source,
                   QByteArrayView text, LogBatch* batch);
    bool rateAllows(Agent& agent, qint64 now);
    void setPartial(Agent& agent, Protocol::Stream stream, qint64 ts, LogLevel level, QByteArrayView source,
                    QByteArrayView text);
    void releasePartial(const QByteArray& agentId, int stream);
    /// One line of an agent's console, redacted with what its earlier lines showed.
    QByteArrayView redactedLine(Agent& agent, Protocol::Stream stream, bool partial, QByteArrayView text,
                                QByteArray* scratch);
    /// text without the host's secrets nor the agent's own token as they are (in *scratch when any was there).
    QByteArrayView withoutHostSecrets(const Agent& agent, QByteArrayView text, QByteArray* scratch) const;
    /// A line's source, redacted; valid until the next call.
    QByteArrayView redactedSource(QByteArrayView source);
    /// False, with an error to the agent, for a status, metrics or question over max_status_bytes.
    bool withinItemLimit(Connection* c, Json::Value root, QByteArrayView what, QByteArrayView ref);

    const HostConfig& m_config;
    AgentRegistry& m_registry;
    ViewerFeed& m_feed;
    const Redactor& m_redactor;
    QObject* m_context;
    QByteArray m_scratch;
    QList<QByteArray> m_hostSecrets;
    QByteArray m_lastSource;
    QByteArray m_sourceScratch;
    bool m_lastSourceRedacted = false;
};
