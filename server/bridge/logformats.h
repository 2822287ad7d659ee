// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/protocol/json.h"
#include "server/protocol/loglevel.h"

#include <QByteArray>
#include <QByteArrayView>
#include <optional>

/*
 * The line formats a followed file or a bridged system writes, read into what a
 * console line and a forum message need. Nothing here touches a file or a socket.
 */
namespace LogFormats {

enum class Format {
    Plain, // any text: the level is inferred as for a launched agent's output
    BettaFishApp, // "[HH:MM:SS] " + the app's line, usually loguru's format
    BettaFishForum, // "[HH:MM:SS] [SOURCE] body", newlines escaped as \n
    Jsonl, // one JSON object per line: time/ts, level, msg/message, logger/source
};

/// "plain", "bettafish-app", "bettafish-forum", "jsonl".
std::optional<Format> formatNamed(QByteArrayView name);
QByteArrayView formatName(Format format);

/// The milliseconds since midnight of a leading "[HH:MM:SS]" and the length of the
/// prefix with the space after it; nullopt when the line has none.
struct ClockPrefix
{
    int msOfDay = 0;
    qsizetype length = 0;
};
std::optional<ClockPrefix> clockPrefix(QByteArrayView line);

/// The time of a wall-clock reading taken today (local time); a reading more than
/// an hour ahead of now was taken yesterday, before midnight.
qint64 timeToday(int msOfDay, qint64 nowMs);

/// The header loguru writes by default:
/// "YYYY-MM-DD HH:mm:ss.SSS | LEVEL    | module:function:line - message".
struct LoguruHeader
{
    LogLevel level = LogLevel::Unknown;
    QByteArrayView module; // "InsightEngine.agent"
};
std::optional<LoguruHeader> loguruHeader(QByteArrayView text);

/// A line of BettaFish's forum.log: "[HH:MM:SS] [SOURCE] body".
struct ForumLine
{
    int msOfDay = 0;
    QByteArrayView source; // SYSTEM, INSIGHT, MEDIA, QUERY, HOST
    QByteArrayView body; // as written: newlines escaped
};
std::optional<ForumLine> forumLine(QByteArrayView line);

/// A forum body with BettaFish's escapes undone: the two characters \n become a
/// newline, \r a carriage return.
QByteArray unescapedForumBody(QByteArrayView body);

/// What a SYSTEM line of forum.log marks.
enum class SessionMark { None, Start, End };
SessionMark sessionMark(QByteArrayView body);

/// A forum message as the bridge publishes it.
struct ForumEntry
{
    QByteArray sender;
    QByteArrayView role; // agent, host, system (a literal)
    QByteArray source;
    QByteArray text;
    bool startsConversation = false;
};
/// The message a forum.log line carries: the sender is "<SOURCE> Engine" as
/// BettaFish names its agents, "Forum Host" for the moderator, "ForumEngine" for SYSTEM.
ForumEntry forumEntry(const ForumLine& line);

/// One line of a followed file or of a bridged app, read.
struct Entry
{
    qint64 ts = 0;
    LogLevel level = LogLevel::Unknown;
    QByteArray source;
    QByteArray text; // what the console shows
    std::optional<ForumEntry> forum;
};

/*
 * Reads the lines of one stream in one format. It keeps what a line needs from
 * the lines before it: a continuation line (a traceback's, a JSON dump's) takes
 * the level and source of the record it continues.
 */
class LineReader final
{
    Q_DISABLE_COPY_MOVE(LineReader)

public:
    explicit LineReader(Format format)
        : m_format(format)
    { }
    Format format() const { return m_format; }
    /// One line without its newline; now is the time it was read.
    Entry read(QByteArrayView line, qint64 nowMs);
    /// The next line starts a new record (a restarted app, a recreated file).
    void reset();

private:
    Entry readBettaFishApp(QByteArrayView line, qint64 nowMs);
    Entry readJson(QByteArrayView line, qint64 nowMs);

    Format m_format;
    Json::Document m_json; // parses jsonl lines, its buffers kept
    LogLevel m_lastLevel = LogLevel::Unknown;
    QByteArray m_lastSource;
};

} // namespace LogFormats
