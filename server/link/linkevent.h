// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/protocol/loglevel.h"
#include "server/protocol/protocol.h"

#include <QByteArray>
#include <QList>
#include <QMetaType>
#include <QString>
#include <QStringList>
#include <utility>

/*
 * What a link (server/hostlink.h) brings from one host, already decoded: the
 * viewer side of protocol v1 as plain values, so that models never see JSON.
 */
namespace Link {

/// One console line. Text and source stay UTF-8; a view converts only what it paints.
struct ConsoleLine
{
    qint64 seq = 0; // 0 for a partial line
    qint64 ts = 0;
    LogLevel level = LogLevel::Unknown;
    Protocol::Stream stream = Protocol::Stream::Stdout;
    bool partial = false;
    QByteArray source;
    QByteArray text;
};

struct ForumMessage
{
    qint64 seq = 0;
    qint64 ts = 0;
    QString sender;
    QString role; // agent, host, system, user
    QString source;
    QString text;
    bool startsConversation = false; // the first message of a new session of the forum
};

struct AgentCommand
{
    QString name;
    QString help;
};

struct Task
{
    QString id;
    QString title;
    QString state; // pending, running, done, failed
};

struct AgentStatus
{
    QString state;
    QString text;
    double progress = -1; // -1: not given
    QList<Task> tasks;
    qint64 ts = 0;
};

/// An agent as the host describes it in `snapshot` and `agent` events.
struct AgentInfo
{
    QString id;
    QString name;
    QString origin; // launched, connected, bridged
    QString state; // the status state, or offline
    qint64 pid = 0;
    qint64 startedAt = 0; // 0: not running
    int restarts = 0;
    QList<AgentCommand> commands;
    AgentStatus status;
    qint64 lastLogSeq = -1; // -1: not given
    qint64 lastForumSeq = -1;
    // Extensions for launched agents (docs/protocol.md).
    QString processState; // stopped, starting, running, backoff, stopping, exited, fatal
    int exitCode = -1; // -1: none
    QString exitSignal;
    qint64 nextStartAt = 0;
    bool connected = false;
    QString logFile;
    QByteArray definition; // the launch definition as JSON, for editing
};

struct Ask
{
    QString agent;
    QString id;
    QString text;
    QStringList choices;
    qint64 ts = 0;
};

/// A range of numbers without items, and why (a protocol gap reason).
struct Gap
{
    qint64 from = 0;
    qint64 to = 0;
    QString reason;
};

struct HostInfo
{
    QString id;
    QString name;
    QString version;
    // What the connection's token allows (the welcome's "access"; a host without it allows everything).
    QString tokenName;
    QString role; // viewer, operator, admin
    bool mayCommand = true; // commands and answers
};

/// One thing that happened on a host. Which members are set depends on type.
struct Event
{
    enum class Type : quint8 {
        Snapshot, // host, agents, asks; hostChanged when the host's history is not the one seen before
        Subscribed, // the replay after (re)subscribing is complete; live events follow
        AgentAdded, // agentInfo
        AgentChanged, // agentInfo
        AgentRemoved, // agent
        Log, // agent, lines (complete lines in order by seq, partial lines with seq 0)
        Forum, // agent, messages
        Metrics, // agent, ts, values
        HostMetrics, // ts, values
        Status, // agent, status
        AskOpened, // ask
        AskClosed, // agent, id, text (the choice)
        Gap, // agent, kind ("log" or "forum"), from, to, reason
        Renumbered, // agent, kind: the host's last number went back from `from` to `to`; it lost what was after.
                    // Its items after `resumeAfter` (at most `to`) come again, old and new alike
        History, // id, agent, kind, lines or messages (oldest first), gaps, more: a `history` reply
        Result, // id, agent, ok, error, text
        Error, // error (the code), text, id (the ref)
    };

    Type type = Type::Error;
    QString agent;
    // Snapshot
    HostInfo host;
    QList<AgentInfo> agents;
    QList<Ask> asks;
    bool hostChanged = false;
    // AgentAdded, AgentChanged
    AgentInfo agentInfo;
    // Log, Forum
    QList<ConsoleLine> lines;
    QList<ForumMessage> messages;
    // Metrics, HostMetrics
    qint64 ts = 0;
    QList<std::pair<QString, double>> values;
    // Status
    AgentStatus status;
    // AskOpened
    Ask ask;
    // Gap
    QString kind;
    qint64 from = 0;
    qint64 to = 0;
    QString reason;
    // Renumbered (also kind, from, to)
    qint64 resumeAfter = 0;
    // History (also kind, lines, messages)
    QList<Gap> gaps;
    bool more = false;
    // Result, Error, AskClosed
    QString id;
    bool ok = false;
    QString error;
    QString text;
};

/// The reason names of gaps the link itself reports, besides the host's.
namespace GapReasonName {
/// The host's numbers jumped without a gap from the host (should not happen).
inline constexpr char Missing[] = "missing";
} // namespace GapReasonName

} // namespace Link

Q_DECLARE_METATYPE(Link::Event)
