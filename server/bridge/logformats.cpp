// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/bridge/logformats.h"

#include "server/protocol/json.h"

#include <QDateTime>
#include <QTimeZone>
#include <array>

namespace LogFormats {

namespace {

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

int twoDigits(QByteArrayView s, qsizetype at)
{
    return (s[at] - '0') * 10 + (s[at + 1] - '0');
}

QByteArrayView trimmed(QByteArrayView s)
{
    return s.trimmed();
}

} // namespace

std::optional<Format> formatNamed(QByteArrayView name)
{
    static constexpr std::array<std::pair<QByteArrayView, Format>, 4> names = {{
        {"plain", Format::Plain},
        {"bettafish-app", Format::BettaFishApp},
        {"bettafish-forum", Format::BettaFishForum},
        {"jsonl", Format::Jsonl},
    }};
    for (const auto& [known, format] : names) {
        if (name == known)
            return format;
    }
    return std::nullopt;
}

QByteArrayView formatName(Format format)
{
    switch (format) {
    case Format::Plain:
        return "plain";
    case Format::BettaFishApp:
        return "bettafish-app";
    case Format::BettaFishForum:
        return "bettafish-forum";
    case Format::Jsonl:
        return "jsonl";
    }
    return "plain";
}

std::optional<ClockPrefix> clockPrefix(QByteArrayView line)
{
    // "[HH:MM:SS]" and an optional space.
    if (line.size() < 10 || line[0] != '[' || line[3] != ':' || line[6] != ':' || line[9] != ']')
        return std::nullopt;
    for (const qsizetype at : {1, 2, 4, 5, 7, 8}) {
        if (!isDigit(line[at]))
            return std::nullopt;
    }
    const int h = twoDigits(line, 1);
    const int m = twoDigits(line, 4);
    const int s = twoDigits(line, 7);
    if (h > 23 || m > 59 || s > 60)
        return std::nullopt;
    ClockPrefix prefix;
    prefix.msOfDay = ((h * 60 + m) * 60 + s) * 1000;
    prefix.length = line.size() > 10 && line[10] == ' ' ? 11 : 10;
    return prefix;
}

qint64 timeToday(int msOfDay, qint64 nowMs)
{
    // Local midnights take a time-zone look-up: today's and yesterday's are kept.
    thread_local qint64 today = 0;
    thread_local qint64 yesterday = 0;
    thread_local qint64 tomorrow = 0;
    if (nowMs < today || nowMs >= tomorrow) {
        const QDate date = QDateTime::fromMSecsSinceEpoch(nowMs).date();
        today = QDateTime(date, QTime(0, 0)).toMSecsSinceEpoch();
        yesterday = QDateTime(date.addDays(-1), QTime(0, 0)).toMSecsSinceEpoch();
        tomorrow = QDateTime(date.addDays(1), QTime(0, 0)).toMSecsSinceEpoch();
    }
    qint64 ts = today + msOfDay;
    if (ts - nowMs > 60 * 60 * 1000)
        ts = yesterday + msOfDay;
    return ts;
}

std::optional<LoguruHeader> loguruHeader(QByteArrayView text)
{
    // "2025-11-14 14:02:12.037 | INFO     | InsightEngine.agent:run:41 - message"
    constexpr qsizetype DateTime = 23;
    if (text.size() < DateTime + 3 || text[4] != '-' || text[7] != '-' || text[10] != ' ' || text[13] != ':'
        || text.sliced(DateTime, 3) != " | ")
        return std::nullopt;
    const QByteArrayView rest = text.sliced(DateTime + 3);
    const qsizetype levelEnd = rest.indexOf(" | ");
    if (levelEnd <= 0 || levelEnd > 16)
        return std::nullopt;
    LoguruHeader header;
    header.level = parseLogLevel(trimmed(rest.first(levelEnd)));
    if (header.level == LogLevel::Unknown)
        return std::nullopt;
    const QByteArrayView location = rest.sliced(levelEnd + 3);
    const qsizetype dash = location.indexOf(" - ");
    const QByteArrayView where = dash < 0 ? location : location.first(dash);
    const qsizetype colon = where.indexOf(':');
    header.module = colon < 0 ? where : where.first(colon);
    return header;
}

std::optional<ForumLine> forumLine(QByteArrayView line)
{
    const std::optional<ClockPrefix> clock = clockPrefix(line);
    if (!clock)
        return std::nullopt;
    QByteArrayView rest = line.sliced(clock->length);
    if (rest.isEmpty() || rest[0] != '[')
        return std::nullopt;
    const qsizetype close = rest.indexOf(']');
    if (close < 2)
        return std::nullopt;
    ForumLine forum;
    forum.msOfDay = clock->msOfDay;
    forum.source = rest.sliced(1, close - 1);
    for (const char c : forum.source) {
        if (c < 'A' || c > 'Z')
            return std::nullopt;
    }
    rest = rest.sliced(close + 1);
    forum.body = rest.startsWith(' ') ? rest.sliced(1) : rest;
    return forum;
}

QByteArray unescapedForumBody(QByteArrayView body)
{
    QByteArray text;
    text.reserve(body.size());
    for (qsizetype i = 0; i < body.size(); ++i) {
        if (body[i] == '\\' && i + 1 < body.size() && (body[i + 1] == 'n' || body[i + 1] == 'r')) {
            text.append(body[i + 1] == 'n' ? '\n' : '\r');
            ++i;
        } else {
            text.append(body[i]);
        }
    }
    return text;
}

SessionMark sessionMark(QByteArrayView body)
{
    // "=== ForumEngine 监控开始 - <date> <time> ===" and "=== ForumEngine 论坛结束 - ... ==="
    if (!body.startsWith("=== ForumEngine "))
        return SessionMark::None;
    if (body.contains("监控开始"))
        return SessionMark::Start;
    if (body.contains("论坛结束"))
        return SessionMark::End;
    return SessionMark::None;
}

ForumEntry forumEntry(const ForumLine& line)
{
    ForumEntry entry;
    entry.source = line.source.toByteArray();
    // Newer BettaFish puts the search session's id first: "[<id>] body".
    QByteArrayView body = line.body;
    if (body.startsWith('[')) {
        const qsizetype close = body.indexOf("] ");
        if (close > 1 && close <= 64 && !body.first(close).contains(' '))
            body = body.sliced(close + 2);
    }
    entry.text = unescapedForumBody(body).trimmed();
    if (line.source == "HOST") {
        entry.role = "host";
        entry.sender = "Forum Host";
    } else if (line.source == "SYSTEM") {
        entry.role = "system";
        entry.sender = "ForumEngine";
        entry.startsConversation = sessionMark(line.body) == SessionMark::Start;
    } else {
        entry.role = "agent";
        entry.sender = line.source.toByteArray() + " Engine";
    }
    return entry;
}

void LineReader::reset()
{
    m_lastLevel = LogLevel::Unknown;
    m_lastSource.clear();
}

Entry LineReader::read(QByteArrayView line, qint64 nowMs)
{
    switch (m_format) {
    case Format::Plain:
        break;
    case Format::BettaFishApp:
        return readBettaFishApp(line, nowMs);
    case Format::BettaFishForum:
        if (const std::optional<ForumLine> forum = forumLine(line)) {
            Entry entry;
            entry.ts = timeToday(forum->msOfDay, nowMs);
            entry.level = LogLevel::Info;
            entry.source = forum->source.toByteArray();
            entry.text = forum->body.toByteArray();
            entry.forum = forumEntry(*forum);
            return entry;
        }
        return readBettaFishApp(line, nowMs);
    case Format::Jsonl:
        return readJson(line, nowMs);
    }
    Entry entry;
    entry.ts = nowMs;
    entry.level = inferLogLevel(line);
    if (entry.level == LogLevel::Unknown)
        entry.level = LogLevel::Info;
    entry.text = line.toByteArray();
    return entry;
}

Entry LineReader::readBettaFishApp(QByteArrayView line, qint64 nowMs)
{
    Entry entry;
    entry.ts = nowMs;
    if (const std::optional<ClockPrefix> clock = clockPrefix(line)) {
        entry.ts = timeToday(clock->msOfDay, nowMs);
        line = line.sliced(clock->length);
    }
    entry.text = line.toByteArray();
    if (const std::optional<LoguruHeader> header = loguruHeader(line)) {
        m_lastLevel = header->level;
        m_lastSource = header->module.toByteArray();
    } else if (m_lastLevel == LogLevel::Unknown) {
        // A line before any record: what it says of itself.
        const LogLevel inferred = inferLogLevel(line);
        entry.level = inferred == LogLevel::Unknown ? LogLevel::Info : inferred;
        return entry;
    }
    // A continuation line (a traceback's, a JSON dump's) belongs to the record above it.
    entry.level = m_lastLevel;
    entry.source = m_lastSource;
    return entry;
}

Entry LineReader::readJson(QByteArrayView line, qint64 nowMs)
{
    Entry entry;
    entry.ts = nowMs;
    const QByteArray bytes = line.toByteArray();
    if (!m_json.parse(bytes) || !m_json.root().isObject()) {
        // Not an object: shown as it is, so nothing is lost.
        entry.text = bytes;
        entry.level = LogLevel::Warning;
        entry.source = "jsonl";
        return entry;
    }
    const Json::Value root = m_json.root();
    const auto first = [&](std::initializer_list<const char*> keys) {
        for (const char* key : keys) {
            const Json::Value value = root[key];
            if (!value.isUndefined() && !value.isNull())
                return value;
        }
        return Json::Value();
    };
    const Json::Value message = first({"msg", "message", "text"});
    entry.text = message.isString() ? message.toUtf8().toByteArray() : bytes;
    const Json::Value source = first({"logger", "source", "name"});
    if (source.isString())
        entry.source = source.toUtf8().toByteArray();
    const Json::Value level = first({"level", "levelname", "severity"});
    entry.level = level.isString() ? parseLogLevel(level.toUtf8()) : LogLevel::Unknown;
    if (entry.level == LogLevel::Unknown)
        entry.level = inferLogLevel(entry.text);
    if (entry.level == LogLevel::Unknown)
        entry.level = LogLevel::Info;
    const Json::Value time = first({"time", "ts", "timestamp", "asctime"});
    if (time.isNumber()) {
        const double t = time.toDouble();
        // Seconds (with a fraction) or milliseconds since the epoch.
        entry.ts = t < 1e11 ? qint64(t * 1000) : qint64(t);
    } else if (time.isString()) {
        QDateTime parsed = QDateTime::fromString(time.toString(), Qt::ISODateWithMs);
        if (!parsed.isValid())
            parsed = QDateTime::fromString(time.toString().replace(QLatin1Char(','), QLatin1Char('.')),
                                           QStringLiteral("yyyy-MM-dd HH:mm:ss.zzz"));
        if (parsed.isValid())
            entry.ts = parsed.toMSecsSinceEpoch();
    }
    return entry;
}

} // namespace LogFormats
