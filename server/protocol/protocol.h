// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArrayView>
#include <QtGlobal>

namespace Json {
class Value;
}

/// Names, codes and small parsers of protocol v1 (docs/protocol.md).
namespace Protocol {

constexpr int Version = 1;
constexpr quint16 DefaultPort = 7700;

/// WebSocket close codes used by the host.
enum CloseCode : quint16 {
    CloseNormal = 1000,
    CloseProtocolError = 1002,
    CloseUnsupportedData = 1003,
    CloseInvalidPayload = 1007,
    ClosePolicy = 1008,
    CloseTooBig = 1009,
    CloseHostError = 1011,
    CloseTryAgainLater = 1013,
    CloseReplaced = 4000,
};

namespace ErrorCode {
constexpr QByteArrayView BadMessage = "bad_message";
constexpr QByteArrayView Unauthorized = "unauthorized";
constexpr QByteArrayView Unsupported = "unsupported";
constexpr QByteArrayView Forbidden = "forbidden";
constexpr QByteArrayView RateLimited = "rate_limited";
// Command results only.
constexpr QByteArrayView UnknownAgent = "unknown_agent";
constexpr QByteArrayView NotConnected = "not_connected";
constexpr QByteArrayView Disconnected = "disconnected";
constexpr QByteArrayView Timeout = "timeout";
constexpr QByteArrayView NoAgents = "no_agents";
} // namespace ErrorCode

/// Every message type of the protocol, whoever sends it.
enum class MessageType : quint8 {
    Unknown,
    // Agent or viewer to host
    Hello,
    // Agent to host
    Log,
    Forum,
    Metrics,
    Status,
    Result,
    Ask,
    // Viewer to host
    Subscribe,
    Unsubscribe,
    Command,
    History,
    DefineAgent,
    RemoveAgent,
    // Host to agents and viewers (log, forum, metrics, status, result, ask and history too)
    Welcome,
    Snapshot,
    Agent,
    Subscribed,
    Gap,
    AskClosed,
    HostMetrics,
    Error,
};
/// The type's name on the wire ("define_agent"); empty for Unknown.
QByteArrayView messageTypeName(MessageType type);
/// The type a name on the wire stands for; Unknown for any other name.
MessageType parseMessageType(QByteArrayView name);

/// Who may send a message type to a host.
enum class Sender : quint8 { Nobody, Agent, Viewer, Anyone };
Sender senderOf(MessageType type);

/// A hello message: role "agent" or "viewer", the token (escaped), and for an agent
/// its `agent` object as JSON; extraJson: more members, written as given (",\"client\":...").
QByteArray helloMessage(QByteArrayView role, QByteArrayView token, QByteArrayView agentJson = {},
                        QByteArrayView extraJson = {});

/// Milliseconds since the epoch, the unit of every `ts`.
qint64 nowMs();

enum class Stream : quint8 { Stdout = 0, Stderr = 1 };
QByteArrayView streamName(Stream stream);

/// Why a viewer does not get a range of sequence numbers.
enum class GapReason : quint8 { Evicted, SlowConsumer, RateLimited, AgentDropped };
QByteArrayView gapReasonName(GapReason reason);

/// The highest sequence number (the largest integer a JSON reader keeps exactly).
constexpr qint64 MaxSeq = (qint64(1) << 53) - 1;
/// How far beyond an agent's last number a number it gives may be.
constexpr qint64 MaxSeqJump = qint64(1) << 40;

/// Why an agent may not number its next item seq when its last was last; empty when it may.
QString seqProblem(qint64 seq, qint64 last);

/// True for an agent id matching [A-Za-z0-9_.-]{1,64}.
bool isValidAgentId(QByteArrayView id);

/// True for the status states of the protocol (starting, running, idle, ...).
bool isValidStatusState(QByteArrayView state);

/// True for the roles of a forum message: agent, host, system, user.
bool isValidForumRole(QByteArrayView role);

/// Reads a `ts` field: integer milliseconds since the epoch, or an ISO-8601 string
/// (no offset means UTC, sub-millisecond digits truncated). Returns fallback when
/// the value is missing or unreadable.
qint64 readTimestamp(const Json::Value& value, qint64 fallback);

/// Parses an ISO-8601 date-time; false when it is not one.
bool parseIsoTimestamp(QByteArrayView text, qint64* msecsSinceEpoch);

} // namespace Protocol
