// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArrayView>

/// Severity of a console line, ordered from least to most severe.
enum class LogLevel : quint8 { Unknown = 0, Trace, Debug, Info, Warning, Error, Critical };

/// The protocol's name for level ("INFO", "WARNING", ...); empty for Unknown.
QByteArrayView logLevelName(LogLevel level);

/// Reads a level field: any case, with the aliases WARN (Warning), FATAL (Critical)
/// and SUCCESS (Info). Anything else is Unknown.
LogLevel parseLogLevel(QByteArrayView name);

/// Infers the level from the text of a line as printed by common loggers (loguru,
/// Python logging, "[ERROR]"-style tags, ANSI-coloured level words). Unknown when
/// the text does not say.
LogLevel inferLogLevel(QByteArrayView utf8Text);

/*
 * The level of each line of one stream, where a multi-line record (a Python
 * traceback, an indented dump or stack under a log line) is one message: its
 * continuation lines take the level of its first line instead of the stream's
 * default. A line continues the record before it when it comes within
 * ContinuationMs of it (by the lines' own times) and
 *   - it is indented (after any colour codes), or empty inside a traceback;
 *   - it belongs to a Python traceback begun by "Traceback (most recent call
 *     last):" (which itself continues a log line above it, as logging's
 *     exc_info prints it): its "File" lines, the chaining notes ("During
 *     handling of the above exception, ..."), and the exception line that ends
 *     it ("ValueError: bad input", "KeyboardInterrupt").
 * Any other line starts a record: with its given level, else the level its text
 * says, else the stream's default.
 */
class RecordLevels final
{
public:
    static constexpr qint64 ContinuationMs = 2000;

    /// The level of the next line of the stream. given: the level the line came with
    /// (Unknown: none); fallback: the stream's default; ts: the line's time in ms.
    LogLevel next(LogLevel given, LogLevel fallback, QByteArrayView utf8Text, qint64 ts);
    /// Whether the last line given to next() continued the record before it.
    bool lastContinued() const { return m_lastContinued; }

private:
    LogLevel m_level = LogLevel::Unknown; // the current record's
    qint64 m_lastTs = 0;
    bool m_inTraceback = false;
    bool m_afterException = false; // a traceback just ended: another may be chained to it
    bool m_lastContinued = false;
};
