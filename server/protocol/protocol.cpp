// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/protocol/protocol.h"

#include "server/protocol/json.h"

#include <QDateTime>
#include <array>
#include <cmath>

namespace Protocol {

namespace {

struct TypeEntry
{
    MessageType type;
    QByteArrayView name;
    Sender sender;
};

constexpr std::array<TypeEntry, 22> MessageTypes = {{
    {MessageType::Hello, "hello", Sender::Anyone},
    {MessageType::Log, "log", Sender::Agent},
    {MessageType::Forum, "forum", Sender::Agent},
    {MessageType::Metrics, "metrics", Sender::Agent},
    {MessageType::Status, "status", Sender::Agent},
    {MessageType::Result, "result", Sender::Agent},
    {MessageType::Ask, "ask", Sender::Agent},
    {MessageType::Subscribe, "subscribe", Sender::Viewer},
    {MessageType::Unsubscribe, "unsubscribe", Sender::Viewer},
    {MessageType::Command, "command", Sender::Viewer},
    {MessageType::History, "history", Sender::Viewer},
    {MessageType::DefineAgent, "define_agent", Sender::Viewer},
    {MessageType::RemoveAgent, "remove_agent", Sender::Viewer},
    {MessageType::Welcome, "welcome", Sender::Nobody},
    {MessageType::Snapshot, "snapshot", Sender::Nobody},
    {MessageType::Agent, "agent", Sender::Nobody},
    {MessageType::Subscribed, "subscribed", Sender::Nobody},
    {MessageType::Gap, "gap", Sender::Nobody},
    {MessageType::AskClosed, "ask_closed", Sender::Nobody},
    {MessageType::HostMetrics, "host_metrics", Sender::Nobody},
    {MessageType::Error, "error", Sender::Nobody},
    {MessageType::Unknown, "", Sender::Nobody},
}};

const TypeEntry& entryOf(MessageType type)
{
    for (const TypeEntry& entry : MessageTypes) {
        if (entry.type == type)
            return entry;
    }
    return MessageTypes.back();
}

} // namespace

QByteArrayView messageTypeName(MessageType type)
{
    return entryOf(type).name;
}

MessageType parseMessageType(QByteArrayView name)
{
    if (name.isEmpty())
        return MessageType::Unknown;
    for (const TypeEntry& entry : MessageTypes) {
        if (entry.name == name)
            return entry.type;
    }
    return MessageType::Unknown;
}

Sender senderOf(MessageType type)
{
    return entryOf(type).sender;
}

QByteArray helloMessage(QByteArrayView role, QByteArrayView token, QByteArrayView agentJson, QByteArrayView extraJson)
{
    QByteArray json;
    Json::Writer w(&json);
    w.beginObject().key("type").string("hello").key("protocol").integer(Version).key("role").string(role);
    w.key("token").string(token);
    if (!agentJson.isEmpty())
        w.key("agent").raw(agentJson);
    w.endObject();
    if (!extraJson.isEmpty())
        json.insert(json.size() - 1, extraJson.toByteArray());
    return json;
}

qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

QByteArrayView streamName(Stream stream)
{
    return stream == Stream::Stderr ? QByteArrayView("stderr") : QByteArrayView("stdout");
}

QByteArrayView gapReasonName(GapReason reason)
{
    switch (reason) {
    case GapReason::Evicted:
        return "evicted";
    case GapReason::SlowConsumer:
        return "slow_consumer";
    case GapReason::RateLimited:
        return "rate_limited";
    case GapReason::AgentDropped:
        return "agent_dropped";
    }
    return "evicted";
}

QString seqProblem(qint64 seq, qint64 last)
{
    if (seq < 1 || seq > MaxSeq)
        return QStringLiteral("\"seq\" must be an integer from 1 to 2^53-1");
    if (seq - last > MaxSeqJump)
        return QStringLiteral("\"seq\" %1 is more than 2^40 beyond the last number, %2").arg(seq).arg(last);
    return {};
}

bool isValidAgentId(QByteArrayView id)
{
    if (id.isEmpty() || id.size() > 64)
        return false;
    for (char c : id) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
            || c == '.' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

bool isValidStatusState(QByteArrayView state)
{
    static constexpr std::array<QByteArrayView, 8> states = {"starting", "running", "idle",    "busy",
                                                             "stopping", "stopped", "crashed", "error"};
    for (QByteArrayView s : states) {
        if (s == state)
            return true;
    }
    return false;
}

bool isValidForumRole(QByteArrayView role)
{
    return role == "agent" || role == "host" || role == "system" || role == "user";
}

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
qint64 daysFromCivil(qint64 y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const qint64 era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<qint64>(doe) - 719468;
}

class Cursor
{
public:
    explicit Cursor(QByteArrayView text)
        : m_text(text)
    { }
    bool atEnd() const { return m_pos >= m_text.size(); }
    char peek() const { return atEnd() ? '\0' : m_text[m_pos]; }
    bool take(char c)
    {
        if (peek() != c)
            return false;
        ++m_pos;
        return true;
    }
    // Reads exactly n decimal digits.
    bool digits(int n, int* value)
    {
        int v = 0;
        for (int i = 0; i < n; ++i) {
            const char c = peek();
            if (c < '0' || c > '9')
                return false;
            v = v * 10 + (c - '0');
            ++m_pos;
        }
        *value = v;
        return true;
    }

private:
    QByteArrayView m_text;
    qsizetype m_pos = 0;
};

} // namespace

bool parseIsoTimestamp(QByteArrayView text, qint64* msecsSinceEpoch)
{
    Cursor c(text.trimmed());
    int year, month, day, hour = 0, minute = 0, second = 0, millis = 0;
    if (!c.digits(4, &year) || !c.take('-') || !c.digits(2, &month) || !c.take('-') || !c.digits(2, &day))
        return false;
    if (month < 1 || month > 12 || day < 1 || day > 31)
        return false;
    qint64 offsetMinutes = 0;
    if (!c.atEnd()) {
        if (!c.take('T') && !c.take('t') && !c.take(' '))
            return false;
        if (!c.digits(2, &hour) || !c.take(':') || !c.digits(2, &minute))
            return false;
        if (c.take(':')) {
            if (!c.digits(2, &second))
                return false;
            if (c.take('.') || c.take(',')) {
                int digitCount = 0;
                while (c.peek() >= '0' && c.peek() <= '9') {
                    int d;
                    c.digits(1, &d);
                    if (digitCount < 3)
                        millis = millis * 10 + d;
                    ++digitCount;
                }
                if (digitCount == 0)
                    return false;
                for (int i = digitCount; i < 3; ++i)
                    millis *= 10;
            }
        }
        if (hour > 24 || minute > 59 || second > 60)
            return false;
        if (c.take('Z') || c.take('z')) {
        } else if (c.peek() == '+' || c.peek() == '-') {
            const int sign = c.peek() == '-' ? -1 : 1;
            c.take(c.peek());
            int oh, om = 0;
            if (!c.digits(2, &oh))
                return false;
            if (c.take(':')) {
                if (!c.digits(2, &om))
                    return false;
            } else if (!c.atEnd()) {
                if (!c.digits(2, &om))
                    return false;
            }
            offsetMinutes = sign * (oh * 60 + om);
        }
    }
    if (!c.atEnd())
        return false;
    const qint64 days = daysFromCivil(year, unsigned(month), unsigned(day));
    const qint64 secs = days * 86400 + hour * 3600 + minute * 60 + second - offsetMinutes * 60;
    *msecsSinceEpoch = secs * 1000 + millis;
    return true;
}

qint64 readTimestamp(const Json::Value& value, qint64 fallback)
{
    if (value.isNumber()) {
        if (value.isInteger())
            return value.toInteger();
        const double d = value.toDouble();
        if (std::isfinite(d) && std::abs(d) < 9.0e15)
            return static_cast<qint64>(d);
        return fallback;
    }
    if (value.isString()) {
        qint64 ms;
        if (parseIsoTimestamp(value.toUtf8(), &ms))
            return ms;
    }
    return fallback;
}

} // namespace Protocol
