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

enum class Stream : quint8 { Stdout = 0, Stderr = 1 };
QByteArrayView streamName(Stream stream);

/// Why a viewer does not get a range of sequence numbers.
enum class GapReason : quint8 { Evicted, SlowConsumer, RateLimited, AgentDropped };
QByteArrayView gapReasonName(GapReason reason);

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
