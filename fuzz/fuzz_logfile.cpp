// SPDX-License-Identifier: GPL-3.0-or-later
// LogFile reading log files it did not write: the input, as a console file and as a
// forum file, its older half in the first backup. Opening, lastSeq() and paging
// through everything with readBefore() must not crash, hang or allocate without
// bound whatever the files hold; and a line appended then reads back as written.
#include "fuzz/fuzzcheck.h"
#include "server/store/logfile.h"

#include <QFile>

#include <algorithm>
#include <cstdint>

namespace {

using Fuzz::check;

constexpr qint64 SomeTime = 1763773200123; // 2025-11-22T01:00:00.123Z

void writeFile(const QString& path, QByteArrayView bytes)
{
    QFile file(path);
    check(file.open(QIODevice::WriteOnly | QIODevice::Truncate), "the scratch folder is writable");
    check(file.write(bytes.data(), bytes.size()) == bytes.size(), "the scratch folder is writable");
}

void checkPage(const std::vector<StoredLine>& lines, const std::vector<SeqGap>& gaps, qint64 before, int limit)
{
    check(lines.size() <= size_t(std::clamp(limit, 0, LogFile::MaxReadLimit)), "a page holds at most limit lines");
    for (const StoredLine& line : lines)
        check(before <= 0 || line.seq < before, "lines are numbered below before");
    for (const SeqGap& gap : gaps)
        check(gap.from <= gap.to && (before <= 0 || gap.to < before), "gaps are ranges below before");
}

// Reads everything, newest page first, then a few pages from other places.
void readAll(LogFile& file)
{
    std::vector<StoredLine> lines;
    std::vector<SeqGap> gaps;
    bool more = false;
    QString error;
    qint64 before = 0;
    for (int page = 0; page < 16; ++page) {
        check(file.readBefore(before, 64, &lines, &gaps, &more, &error), "files that exist can be read");
        checkPage(lines, gaps, before, 64);
        if (!more)
            break;
        check(!lines.empty(), "there are more lines only after a full page");
        // The files may not be in order: go on below the lowest number seen, so that this ends.
        before = std::min_element(lines.begin(), lines.end(), [](const StoredLine& a, const StoredLine& b) {
                     return a.seq < b.seq;
                 })->seq;
    }
    for (const qint64 bound : {file.lastSeq(), file.lastSeq() / 2, Protocol::MaxSeq}) {
        for (const int limit : {1, LogFile::MaxReadLimit + 1}) {
            check(file.readBefore(bound, limit, &lines, &gaps, &more, &error), "files that exist can be read");
            checkPage(lines, gaps, bound, limit);
        }
    }
}

// Appends a line and a gap after what the files hold, and reads them back.
void appendAndReread(LogFile& file)
{
    const qint64 seq = file.lastSeq() + 1;
    const QByteArray source = "src\t\\";
    const QByteArray text = "a\tline\r\nwith \\n escapes\\";
    if (file.kind() == LogFile::Kind::Console)
        file.appendLine(seq, SomeTime, Protocol::Stream::Stderr, LogLevel::Warning, source, text);
    else
        file.appendMessage(seq, SomeTime, "user", "some\tone", source, text);
    file.appendGap(seq + 1, seq + 3, Protocol::GapReason::RateLimited);
    check(file.lastSeq() == seq + 3, "lastSeq() counts what was appended");

    std::vector<StoredLine> lines;
    std::vector<SeqGap> gaps;
    bool more = false;
    check(file.readBefore(0, 1, &lines, &gaps, &more), "files that exist can be read");
    check(lines.size() == 1, "the appended line reads back");
    const StoredLine& line = lines.front();
    check(line.seq == seq && line.ts == SomeTime && line.source == source && line.text == text,
          "the appended line reads back as written");
    if (file.kind() == LogFile::Kind::Console)
        check(line.stream == Protocol::Stream::Stderr && line.level == LogLevel::Warning, "stream and level read back");
    else
        check(line.role == "user" && line.sender == "some\tone", "role and sender read back");
    check(!gaps.empty() && gaps.back().to == seq + 3 && gaps.back().from <= seq + 1
              && gaps.back().reason == Protocol::GapReason::RateLimited,
          "the appended gap reads back");
}

void readAs(LogFile::Kind kind, QByteArrayView older, QByteArrayView current)
{
    const QString path = Fuzz::scratchDirectory()
        + (kind == LogFile::Kind::Console ? QStringLiteral("/a.log") : QStringLiteral("/a.forum"));
    writeFile(path + QStringLiteral(".1"), older);
    writeFile(path, current);
    {
        LogFile file(path, LogFile::DefaultMaxBytes, 2, kind);
        QString error;
        check(file.open(&error), "a file that exists opens");
        file.lastTimestamp();
        readAll(file);
        if (file.lastSeq() < Protocol::MaxSeq - 3)
            appendAndReread(file);
    }
    for (const char* suffix : {"", ".1", ".2"})
        QFile::remove(path + QLatin1String(suffix));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const QByteArrayView input(reinterpret_cast<const char*>(data), qsizetype(size));
    // The backup ends at the newline nearest after the middle.
    const qsizetype split = input.indexOf('\n', input.size() / 2) + 1;
    readAs(LogFile::Kind::Console, input.first(split), input.sliced(split));
    readAs(LogFile::Kind::Forum, input.first(split), input.sliced(split));
    return 0;
}
