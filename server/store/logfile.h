// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/protocol/loglevel.h"
#include "server/protocol/protocol.h"
#include "server/store/logstore.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QElapsedTimer>
#include <QFile>
#include <QString>
#include <list>
#include <memory>
#include <vector>

class LogFile;

/*
 * A limit on the file handles a set of LogFiles keeps open: opening one more closes
 * the least recently written, which opens again when it is next written to.
 */
class FileHandleBudget final
{
    Q_DISABLE_COPY_MOVE(FileHandleBudget)

public:
    explicit FileHandleBudget(int limit);
    ~FileHandleBudget();
    void setLimit(int limit);
    int openCount() const { return int(m_open.size()); }

private:
    friend class LogFile;
    void makeRoom(LogFile* opening);
    void opening(LogFile* file);
    void used(LogFile* file);
    void closed(LogFile* file);

    std::list<LogFile*> m_open; // least recently written first
    int m_limit;
};

/// One console line, or one forum message, read back from a LogFile.
struct StoredLine
{
    qint64 seq = 0;
    qint64 ts = 0;
    Protocol::Stream stream = Protocol::Stream::Stdout; // console lines
    LogLevel level = LogLevel::Unknown; // console lines
    QByteArray role; // forum messages: agent, host, system or user
    QByteArray sender; // forum messages
    QByteArray source;
    QByteArray text;
};

/*
 * The console lines of one agent on disk, `<dir>/<agent-id>.log`, or its forum
 * messages, `<dir>/<agent-id>.forum`; rotated by size into `.1` (newest) ...
 * `.<backups>` (oldest) as logrotate and Supervisor do.
 *
 * One record per line, fields separated by tabs, so that `tail -F` and grep work:
 *
 *   <seq>\t<2026-11-22T08:52:40.123Z>\t<stdout|stderr>\t<LEVEL or ->\t<source>\t<text>\n   (console)
 *   <seq>\t<2026-11-22T08:52:40.123Z>\t<agent|host|system|user>\t<sender>\t<source>\t<text>\n   (forum)
 *   <from>-<to>\t<time recorded>\tgap\t<reason>\n
 *
 * Sender, source and text escape `\` `\n` `\r` `\t` as `\\` `\n` `\r` `\t`; every other byte
 * is written as it is. Readers skip lines that do not parse, and a last line without
 * its newline (a crash mid-write).
 *
 * appendLine() formats into an in-memory buffer and writes it when full; call
 * flush() on a timer. Reading back searches each file by byte offset (records are
 * ordered by number), so a request reads only a few blocks however large the files.
 * Not thread-safe: one thread writes and reads.
 */
class LogFile final
{
public:
    static constexpr qint64 DefaultMaxBytes = 50ll * 1024 * 1024;
    static constexpr int DefaultBackups = 10;
    /// readBefore() returns at most this many lines, and stops adding lines once their
    /// text reaches MaxReadBytes.
    static constexpr int MaxReadLimit = 10000;
    static constexpr qint64 MaxReadBytes = 16ll * 1024 * 1024;

    enum class Kind : quint8 { Console, Forum };

    explicit LogFile(const QString& path, qint64 maxBytes = DefaultMaxBytes, int backups = DefaultBackups,
                     Kind kind = Kind::Console);
    /// Flushes.
    ~LogFile();
    Q_DISABLE_COPY_MOVE(LogFile)

    /// `<dir>/<agentId>.log` (or `.forum`), or an empty string when agentId is not a valid agent id.
    static QString pathFor(const QString& dir, QByteArrayView agentId, Kind kind = Kind::Console);
    Kind kind() const { return m_kind; }

    /// Shares a limit on open handles with other files; set before open(). The budget
    /// must outlive the file or be destroyed first.
    void setHandleBudget(FileHandleBudget* budget) { m_handles = budget; }
    /// Whether the current file is open for appending now.
    bool isHandleOpen() const { return m_file.isOpen(); }

    /// Permissions of the files (default 0600: the output of bots is private); folders
    /// that open() creates get them with x where r is. Set before open().
    void setFileMode(int mode) { m_fileMode = mode; }
    /// Creates dir and its missing parents with the folder permissions for fileMode.
    static bool makeDirectory(const QString& dir, int fileMode);

    QString path() const { return m_path; }
    /// The path of backup `index` (1 is the newest); index 0 is the current file.
    QString filePath(int index) const;

    /// Opens the current file for appending, creating its directory, and drops a torn
    /// last record. Finds the newest record on disk (current file, else the newest
    /// backup that has one) for lastSeq() and lastTimestamp(). On failure the error is
    /// also errorString(), lines are dropped, and opening is retried later (see errorString()).
    bool open(QString* error = nullptr);

    /// The highest number on disk or written since open(), by a line or a gap; 0 if none.
    qint64 lastSeq() const { return m_lastSeq; }
    /// The time of the record that holds lastSeq(): a line's ts, or when a gap was recorded.
    qint64 lastTimestamp() const { return m_lastTs; }

    /// Appends a line. seq must be above lastSeq(), else the line is ignored; so are
    /// lines before open(). Times are written with a 4-digit year, clamped to 0000..9999.
    void appendLine(qint64 seq, qint64 ts, Protocol::Stream stream, LogLevel level, QByteArrayView source,
                    QByteArrayView text);
    /// Appends a forum message (a Forum file's record); role is agent, host, system or user.
    void appendMessage(qint64 seq, qint64 ts, QByteArrayView role, QByteArrayView sender, QByteArrayView source,
                       QByteArrayView text);
    /// Records that [from, to] have no lines; the part not above lastSeq() is left out.
    void appendGap(qint64 from, qint64 to, Protocol::GapReason reason);
    /// Writes the buffered records to the file.
    void flush();
    /// Hands the buffered records to the operating system, if there are any: they
    /// outlive the process from then on (a kill, not a power loss). Cheap when empty.
    void writeBuffered()
    {
        if (m_used > 0)
            writeBuffer();
    }

    /// The newest `limit` (see MaxReadLimit) lines numbered below `before` (before <= 0:
    /// no bound), oldest first, from the current file and the backups; and the gaps in the
    /// range those lines cover, which reaches down to the first record on disk when *more
    /// is false, clipped to end below `before`, adjacent ones of the same reason joined.
    /// *more is true when older lines exist on disk. Flushes first.
    bool readBefore(qint64 before, int limit, std::vector<StoredLine>* lines, std::vector<SeqGap>* gaps, bool* more,
                    QString* error = nullptr);

    /// The first error (cannot create, write or rotate the file) since the file was last
    /// (re)opened; empty while all is well. After a failed open or write, lines are
    /// dropped until a reopen succeeds: reopening is tried at the next open(), at the
    /// next rotation (dropped bytes count toward maxBytes), and by flush() every few seconds.
    QString errorString() const { return m_error; }

private:
    friend class FileHandleBudget;
    bool openCurrent(bool truncate);
    void closeFile();
    /// Writes what is buffered and closes the handle until the next write.
    void releaseHandle();
    void rotate();
    void fail(const QString& message);
    char* reserve(qsizetype size);
    void commit(char* start, char* end);
    void writeBuffer();
    char* writeSeq(char* out, qint64 seq);
    void setTimePrefix(qint64 second);
    char* writeTime(char* out, qint64 ts);

    Kind m_kind;
    int m_fileMode = 0600;
    QString m_path;
    qint64 m_maxBytes;
    int m_backups;
    QFile m_file;
    std::unique_ptr<char[]> m_buffer;
    qsizetype m_capacity = 0;
    qsizetype m_used = 0;
    qint64 m_fileSize = 0; // bytes in the current file, counting those dropped after a write error
    qint64 m_lastSeq = 0;
    qint64 m_lastTs = 0;
    qint64 m_secondStart = 0; // the first millisecond of the second m_timePrefix shows
    char m_timePrefix[20]; // "2026-11-22T08:52:40."
    qint64 m_seqTextValue = -1; // the number m_seqText holds
    char m_seqText[20];
    int m_seqDigits = 0;
    QString m_error;
    QElapsedTimer m_failedSince;
    bool m_opened = false;
    bool m_released = false; // closed by the handle budget, to be opened at the next write
    bool m_written = false; // appended to since the last flush()
    FileHandleBudget* m_handles = nullptr;
    std::list<LogFile*>::iterator m_budgetEntry;
    bool m_inBudget = false;
};
