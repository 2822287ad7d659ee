// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/bridge/filefollower.h"

#include "server/bridge/linemerger.h"

#include "server/protocol/protocol.h"

#include <QDir>
#include <QFileInfo>
#include <QFileSystemWatcher>
#include <QTimer>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {

constexpr qsizetype ReadChunk = 1 << 20;
/// Bytes read in one go before the event loop gets its turn.
constexpr qint64 SliceBytes = 8 << 20;
/// How long a rotated file stays open after its last growth, for a writer that still has it.
constexpr qint64 RotatedGraceMs = 2000;
constexpr int DefaultPollMs = 500;

QString errnoText()
{
    return QString::fromLocal8Bit(strerror(errno));
}

} // namespace

FileFollower::FileFollower(const QString& path, qsizetype maxLineBytes, Callbacks callbacks, QObject* parent)
    : QObject(parent)
    , m_path(QFileInfo(path).absoluteFilePath())
    , m_callbacks(std::move(callbacks))
    , m_splitter(maxLineBytes)
    , m_oldSplitter(maxLineBytes)
    , m_watcher(new QFileSystemWatcher(this))
    , m_poll(new QTimer(this))
{
    m_poll->setInterval(DefaultPollMs);
    connect(m_poll, &QTimer::timeout, this, &FileFollower::check);
    connect(m_watcher, &QFileSystemWatcher::fileChanged, this, &FileFollower::scheduleCheck);
    connect(m_watcher, &QFileSystemWatcher::directoryChanged, this, &FileFollower::scheduleCheck);
}

FileFollower::~FileFollower()
{
    // Nothing is handed on from here: the owner may be going away too.
    closeOld(false);
    closeFile();
}

quint64 FileFollower::fingerprintAt(int fd, qint64 offset)
{
    char bytes[256];
    const qint64 from = std::max<qint64>(0, offset - qint64(sizeof bytes));
    const ssize_t n = offset > 0 ? ::pread(fd, bytes, size_t(offset - from), from) : 0;
    return LineMerger::hashOf(QByteArrayView(bytes, std::max<ssize_t>(n, 0)));
}

void FileFollower::setPollInterval(int ms)
{
    m_poll->setInterval(ms);
}

FileFollower::Position FileFollower::position() const
{
    Position p;
    if (m_fd >= 0) {
        p.device = m_identity.device;
        p.inode = m_identity.inode;
        p.offset = m_lineEnd;
        p.fingerprint = fingerprintAt(m_fd, m_lineEnd);
    }
    return p;
}

void FileFollower::start(const Position& resume, int historyLines)
{
    m_running = true;
    const QString folder = QFileInfo(m_path).absolutePath();
    if (QFileInfo::exists(folder))
        m_watcher->addPath(folder);
    Identity identity;
    bool resumed = false;
    if (!resume.isNull()) {
        if (openCurrent(&identity) && identity.device == resume.device && identity.inode == resume.inode) {
            struct stat st;
            const bool longEnough = ::fstat(m_fd, &st) == 0 && st.st_size >= resume.offset;
            if (longEnough && fingerprintAt(m_fd, resume.offset) == resume.fingerprint) {
                m_offset = m_lineEnd = resume.offset;
            } else {
                m_offset = m_lineEnd = 0;
                if (m_callbacks.note)
                    m_callbacks.note(QStringLiteral("%1 was truncated or made anew while it was not followed: reading "
                                                    "it from the start; lines written to it before that after the "
                                                    "last one read are not known")
                                         .arg(m_path),
                                     true);
            }
            resumed = true;
        } else {
            // Rotated while nobody watched: finish the old file first, if it is still in the folder.
            const QString rotated = findRotated({resume.device, resume.inode});
            if (!rotated.isEmpty()) {
                m_oldFd = ::open(QFile::encodeName(rotated).constData(), O_RDONLY | O_CLOEXEC);
                if (m_oldFd >= 0) {
                    m_oldOffset = m_oldLineEnd = resume.offset;
                    m_oldQuietSince = Protocol::nowMs();
                }
            } else if (m_callbacks.note) {
                m_callbacks.note(QStringLiteral("%1 was replaced while it was not followed, and the file read "
                                                "before is gone: lines written to it after the last one read are "
                                                "not known")
                                     .arg(m_path),
                                 true);
            }
            if (m_fd >= 0) {
                m_offset = m_lineEnd = 0;
                resumed = true;
            }
        }
    }
    if (!resumed && (m_fd >= 0 || openCurrent(&identity))) {
        struct stat st;
        const qint64 size = ::fstat(m_fd, &st) == 0 ? st.st_size : 0;
        m_offset = m_lineEnd = offsetOfLastLines(m_fd, size, historyLines);
    }
    if (m_fd < 0 && !QFileInfo::exists(m_path) && m_callbacks.note) {
        m_missingReported = true;
        m_callbacks.note(QStringLiteral("%1 does not exist yet; waiting for it").arg(m_path), false);
    }
    m_poll->start();
    check();
}

void FileFollower::stop()
{
    m_running = false;
    m_poll->stop();
    if (!m_watcher->files().isEmpty())
        m_watcher->removePaths(m_watcher->files());
    if (!m_watcher->directories().isEmpty())
        m_watcher->removePaths(m_watcher->directories());
    closeOld();
    closeFile();
}

bool FileFollower::openCurrent(Identity* identity)
{
    const int fd = ::open(QFile::encodeName(m_path).constData(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return false;
    }
    m_fd = fd;
    m_identity = {quint64(st.st_dev), quint64(st.st_ino)};
    *identity = m_identity;
    m_splitter.clear();
    watchFile();
    return true;
}

void FileFollower::watchFile()
{
    if (!m_watcher->files().isEmpty())
        m_watcher->removePaths(m_watcher->files());
    m_watcher->addPath(m_path);
    const QString folder = QFileInfo(m_path).absolutePath();
    if (!m_watcher->directories().contains(folder) && QFileInfo::exists(folder))
        m_watcher->addPath(folder);
}

void FileFollower::closeFile()
{
    if (m_fd >= 0)
        ::close(m_fd);
    m_fd = -1;
    m_identity = {};
    m_offset = m_lineEnd = 0;
}

void FileFollower::closeOld(bool handOn)
{
    if (m_oldFd < 0)
        return;
    ::close(m_oldFd);
    m_oldFd = -1;
    if (!handOn) {
        m_oldSplitter.clear();
        return;
    }
    // What the old file's writer left without a newline is its last line.
    bool any = false;
    m_oldSplitter.finish([this, &any](QByteArrayView line) {
        m_callbacks.line(line);
        any = true;
    });
    if (any && m_callbacks.batchDone)
        m_callbacks.batchDone();
}

void FileFollower::reportProblem(const QString& problem)
{
    if (problem == m_problemReported)
        return;
    const bool cleared = problem.isEmpty();
    m_problemReported = problem;
    if (!cleared && m_callbacks.note)
        m_callbacks.note(problem, true);
}

void FileFollower::scheduleCheck()
{
    if (m_checkScheduled || !m_running)
        return;
    m_checkScheduled = true;
    QTimer::singleShot(0, this, [this] {
        m_checkScheduled = false;
        check();
    });
}

void FileFollower::check()
{
    if (!m_running)
        return;
    bool handedOn = false;
    bool more = false;
    const qint64 now = Protocol::nowMs();
    // A rotated file first: its lines came before the new file's.
    if (m_oldFd >= 0) {
        const qint64 before = m_oldOffset;
        more = !readAvailable(m_oldFd, &m_oldOffset, m_oldSplitter, &m_oldLineEnd);
        handedOn = m_oldOffset != before;
        if (handedOn)
            m_oldQuietSince = now;
        else if (now - m_oldQuietSince > RotatedGraceMs)
            closeOld();
    }
    struct stat st;
    const bool exists = ::stat(QFile::encodeName(m_path).constData(), &st) == 0;
    const bool isFile = exists && S_ISREG(st.st_mode);
    if (m_fd >= 0 && !more) {
        const bool replaced =
            !exists || quint64(st.st_dev) != m_identity.device || quint64(st.st_ino) != m_identity.inode;
        struct stat own;
        if (::fstat(m_fd, &own) == 0 && own.st_size < m_offset) {
            if (m_callbacks.note)
                m_callbacks.note(QStringLiteral("%1 was truncated; reading it from the start").arg(m_path), true);
            m_splitter.clear();
            m_offset = m_lineEnd = 0;
        }
        const qint64 before = m_offset;
        more = !readAvailable(m_fd, &m_offset, m_splitter, &m_lineEnd);
        handedOn = handedOn || m_offset != before;
        if (replaced && !more) {
            // Renamed away or deleted: read to its end, keep it a while for its writer, go on
            // with the new file.
            if (m_callbacks.note) {
                m_callbacks.note(isFile ? QStringLiteral("%1 was rotated; following the new file").arg(m_path)
                                     : exists
                                     ? QStringLiteral("%1 was replaced by something that is not a file; "
                                                      "waiting for a file")
                                           .arg(m_path)
                                     : QStringLiteral("%1 was deleted; waiting for it to come back").arg(m_path),
                                 !isFile);
            }
            closeOld();
            m_oldFd = m_fd;
            m_oldOffset = m_offset;
            m_oldLineEnd = m_lineEnd;
            m_oldQuietSince = now;
            std::swap(m_splitter, m_oldSplitter);
            m_fd = -1;
            m_identity = {};
            m_offset = m_lineEnd = 0;
            m_missingReported = !isFile;
        }
    }
    if (m_fd < 0 && !more && exists) {
        Identity identity;
        if (!isFile) {
            reportProblem(QStringLiteral("%1 is not a regular file; waiting for a file").arg(m_path));
        } else if (!openCurrent(&identity)) {
            reportProblem(QStringLiteral("cannot open %1: %2").arg(m_path, errnoText()));
        } else {
            m_offset = m_lineEnd = 0;
            if ((m_missingReported || !m_problemReported.isEmpty()) && m_callbacks.note)
                m_callbacks.note(QStringLiteral("%1 is there; following it").arg(m_path), false);
            m_missingReported = false;
            reportProblem({});
            const qint64 before = m_offset;
            more = !readAvailable(m_fd, &m_offset, m_splitter, &m_lineEnd);
            handedOn = handedOn || m_offset != before;
        }
    }
    if (handedOn) {
        handOnPartial();
        if (m_callbacks.batchDone)
            m_callbacks.batchDone();
    }
    if (more)
        scheduleCheck();
}

bool FileFollower::readAvailable(int fd, qint64* offset, OutputSplitter& splitter, qint64* lineEnd)
{
    if (m_buffer.size() < ReadChunk)
        m_buffer.resize(ReadChunk);
    qint64 read = 0;
    while (read < SliceBytes) {
        const ssize_t n = ::pread(fd, m_buffer.data(), size_t(ReadChunk), *offset);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            reportProblem(QStringLiteral("cannot read %1: %2").arg(m_path, errnoText()));
            return true;
        }
        if (n == 0)
            return true;
        const QByteArrayView chunk(m_buffer.constData(), n);
        splitter.feed(chunk, [this](QByteArrayView line) { m_callbacks.line(line); });
        const qsizetype newline = chunk.lastIndexOf('\n');
        if (newline >= 0)
            *lineEnd = *offset + newline + 1;
        *offset += n;
        read += n;
    }
    return false;
}

void FileFollower::handOnPartial()
{
    if (!m_callbacks.partial || !m_splitter.partialChanged())
        return;
    m_callbacks.partial(m_splitter.partial());
}

QString FileFollower::findRotated(const Identity& identity) const
{
    // Rotated names vary (worker.log.1, worker.2025-11-14.log, worker.log-20251114): every file of the folder.
    const QDir folder = QFileInfo(m_path).absoluteDir();
    const QStringList names = folder.entryList(QDir::Files | QDir::Hidden);
    for (const QString& name : names) {
        const QString candidate = folder.filePath(name);
        struct stat st;
        if (::stat(QFile::encodeName(candidate).constData(), &st) == 0 && quint64(st.st_dev) == identity.device
            && quint64(st.st_ino) == identity.inode)
            return candidate;
    }
    return {};
}

qint64 FileFollower::offsetOfLastLines(int fd, qint64 size, int lines) const
{
    if (lines <= 0 || size <= 0)
        return size;
    // Back from the end, counting newlines; a last line without one counts too.
    QByteArray block(64 * 1024, Qt::Uninitialized);
    qint64 end = size;
    int newlines = 0;
    bool first = true;
    while (end > 0) {
        const qint64 start = std::max<qint64>(0, end - block.size());
        const ssize_t n = ::pread(fd, block.data(), size_t(end - start), start);
        if (n <= 0)
            return 0;
        for (qint64 i = n - 1; i >= 0; --i) {
            if (block[i] != '\n')
                continue;
            if (first && start + i == size - 1) {
                first = false;
                continue; // the newline that ends the last line
            }
            first = false;
            if (++newlines == lines)
                return start + i + 1;
        }
        first = false;
        end = start;
    }
    return 0;
}
