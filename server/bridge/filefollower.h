// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/launcher/outputsplitter.h"

#include <QByteArray>
#include <QObject>
#include <QString>
#include <functional>
#include <memory>

class QFileSystemWatcher;
class QTimer;

/*
 * Follows a file the way `tail -F` does: it reads each complete line once, in
 * order, and keeps going when the file is renamed away and a new one takes its
 * place (rotation), deleted and created again, truncated, or not there yet. The
 * kernel tells of changes (inotify, through QFileSystemWatcher on the file and
 * its folder); a slow poll catches what it misses (a network file system, a
 * watch that could not be added).
 *
 * After a rotation the old file is read to its end, and kept open a little
 * while in case its writer still has it; then the new file is read from its
 * start. A file that shrinks was truncated: reading starts again at its start.
 *
 * position() is where reading would go on: the file (device and inode) and the
 * byte after the last complete line handed on. A follower started at a saved
 * position continues there, in the file with that inode even if it was rotated
 * away meanwhile (found again in the same folder), so a restart of the host
 * neither repeats nor skips a line.
 */
class FileFollower final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(FileFollower)

public:
    struct Position
    {
        quint64 device = 0;
        quint64 inode = 0;
        qint64 offset = 0;
        /// A hash of the bytes just before offset: a file made anew with the same inode
        /// (file systems reuse them at once) is told apart.
        quint64 fingerprint = 0;
        bool isNull() const { return inode == 0; }
        bool operator==(const Position& other) const
        {
            return device == other.device && inode == other.inode && offset == other.offset
                && fingerprint == other.fingerprint;
        }
    };
    /// The hash of the bytes of fd just before offset (at most 256).
    static quint64 fingerprintAt(int fd, qint64 offset);

    struct Callbacks
    {
        /// A complete line, without its newline; valid UTF-8, at most maxLineBytes.
        std::function<void(QByteArrayView line)> line;
        /// The unfinished last line as it shows now (carriage returns applied); empty: none.
        std::function<void(QByteArrayView text)> partial;
        /// What happened to the file (rotated, truncated, missing, back), for its console.
        std::function<void(const QString& note, bool problem)> note;
        /// After each read that handed on lines.
        std::function<void()> batchDone;
    };

    FileFollower(const QString& path, qsizetype maxLineBytes, Callbacks callbacks, QObject* parent = nullptr);
    ~FileFollower() override;

    QString path() const { return m_path; }
    /// Starts following: from resume when it names a file still there (or rotated
    /// into the same folder), else from the last historyLines lines of the file.
    void start(const Position& resume, int historyLines);
    void stop();
    Position position() const;
    bool isOpen() const { return m_fd >= 0; }
    /// How often the file is looked at without a notice from the kernel.
    void setPollInterval(int ms);
    /// Reads what is there now (the watcher's and the poll's way in).
    void check();

private:
    struct Identity
    {
        quint64 device = 0;
        quint64 inode = 0;
    };
    bool openCurrent(Identity* identity);
    /// Reads fd from m_offset to its end (at most a slice per call); true when at the end.
    bool readAvailable(int fd, qint64* offset, OutputSplitter& splitter, qint64* lineEnd);
    void handOnPartial();
    void closeFile();
    /// Hands on what the rotated file's writer left without a newline, and closes it.
    void closeOld(bool handOn = true);
    /// Tells once why the path cannot be followed now; empty: it can again.
    void reportProblem(const QString& problem);
    void watchFile();
    void scheduleCheck();
    QString findRotated(const Identity& identity) const;
    qint64 offsetOfLastLines(int fd, qint64 size, int lines) const;

    QString m_path;
    Callbacks m_callbacks;
    OutputSplitter m_splitter;
    OutputSplitter m_oldSplitter; // the rotated file's
    QFileSystemWatcher* m_watcher = nullptr;
    QTimer* m_poll = nullptr;
    int m_fd = -1;
    Identity m_identity;
    qint64 m_offset = 0; // the next byte to read
    qint64 m_lineEnd = 0; // the byte after the last complete line handed on
    // A rotated file still being read until it has been quiet a while.
    int m_oldFd = -1;
    qint64 m_oldOffset = 0;
    qint64 m_oldLineEnd = 0;
    qint64 m_oldQuietSince = 0;
    bool m_missingReported = false;
    QString m_problemReported;
    bool m_checkScheduled = false;
    bool m_running = false;
    QByteArray m_buffer;
};
