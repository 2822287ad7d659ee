// SPDX-License-Identifier: GPL-3.0-or-later
// Writes the seeds of fuzz_logfile (fuzz/corpus/logfile/) with LogFile itself:
// `fuzz_logfile_seeds <folder>`. Each seed is what the target splits again: the
// first backup, then the current file.
#include "server/store/logfile.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>

#include <cstdio>

namespace {

constexpr qint64 Start = 1763773200123; // 2025-11-22T01:00:00.123Z

QByteArray readFile(const QString& path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

// Writes what fill() appends to a LogFile of that kind, then saves backup 1 and the current file as one seed.
template <typename Fill>
bool makeSeed(const QString& out, const QString& name, LogFile::Kind kind, qint64 maxBytes, Fill fill)
{
    QTemporaryDir dir;
    const QString path =
        dir.filePath(kind == LogFile::Kind::Console ? QStringLiteral("a.log") : QStringLiteral("a.forum"));
    {
        LogFile file(path, maxBytes, 1, kind);
        if (!file.open())
            return false;
        fill(file);
    }
    QFile seed(QDir(out).filePath(name));
    const QByteArray bytes = readFile(path + QStringLiteral(".1")) + readFile(path);
    return seed.open(QIODevice::WriteOnly | QIODevice::Truncate) && seed.write(bytes) == bytes.size();
}

void consoleLines(LogFile& file, qint64 first, int count)
{
    static const QByteArrayView texts[] = {
        "plain line",
        "2025-11-14 14:02:12.037 | SUCCESS  | InsightEngine.agent:run:41 - \xe6\xae\xb5\xe8\x90\xbd 1",
        "tabs\tand\\backslashes\\n and a\r\ncarriage return",
        "",
        "\x1b[31mERROR\x1b[0m coloured",
        "Traceback (most recent call last):\n  File \"bot.py\", line 3",
    };
    static const LogLevel levels[] = {LogLevel::Unknown, LogLevel::Trace, LogLevel::Debug,   LogLevel::Info,
                                      LogLevel::Warning, LogLevel::Error, LogLevel::Critical};
    for (int i = 0; i < count; ++i) {
        const qint64 seq = first + i;
        file.appendLine(seq, Start + seq * 997, i % 3 ? Protocol::Stream::Stdout : Protocol::Stream::Stderr,
                        levels[i % 7], i % 4 ? QByteArrayView("main") : QByteArrayView("worker\t2"),
                        texts[i % std::size(texts)]);
    }
}

} // namespace

int main(int argc, char** argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s <folder>\n", argv[0]);
        return 2;
    }
    const QString out = QFile::decodeName(argv[1]);
    QDir().mkpath(out);
    bool ok = true;
    ok &= makeSeed(out, QStringLiteral("console.log"), LogFile::Kind::Console, LogFile::DefaultMaxBytes,
                   [](LogFile& file) {
                       consoleLines(file, 1, 12);
                       file.appendGap(13, 20, Protocol::GapReason::SlowConsumer);
                       consoleLines(file, 21, 6);
                       file.appendGap(27, 27, Protocol::GapReason::AgentDropped);
                   });
    ok &=
        makeSeed(out, QStringLiteral("times.log"), LogFile::Kind::Console, LogFile::DefaultMaxBytes, [](LogFile& file) {
            // Times far off either way are clamped to years 0000 and 9999.
            const qint64 times[] = {-62167219200001, -1, 0, 951782400000, 253402300799999, 253402300800000};
            qint64 seq = 1;
            for (const qint64 ts : times)
                file.appendLine(seq++, ts, Protocol::Stream::Stdout, LogLevel::Info, {}, "time");
            file.appendLine(Protocol::MaxSeq, Start, Protocol::Stream::Stdout, LogLevel::Info, {}, "last");
        });
    ok &= makeSeed(out, QStringLiteral("rotated.log"), LogFile::Kind::Console, 4096, [](LogFile& file) {
        consoleLines(file, 100, 60);
        file.appendGap(160, 199, Protocol::GapReason::RateLimited);
        consoleLines(file, 200, 20);
    });
    ok &= makeSeed(out, QStringLiteral("large.log"), LogFile::Kind::Console, LogFile::DefaultMaxBytes,
                   [](LogFile& file) { consoleLines(file, 1, 400); });
    ok &=
        makeSeed(out, QStringLiteral("forum.forum"), LogFile::Kind::Forum, LogFile::DefaultMaxBytes, [](LogFile& file) {
            file.appendMessage(1, Start, "agent", "Query Engine", {}, "## \xe6\xa0\xb8\xe5\xbf\x83 report");
            file.appendMessage(2, Start + 1000, "user", "me\tmyself", "cli", "approve\nplease");
            file.appendGap(3, 9, Protocol::GapReason::Evicted);
            file.appendMessage(10, Start + 2000, "host", "bot-host-1", {}, "agent query restarted");
            file.appendMessage(11, Start + 3000, "system", "", "\\", "tab\there");
        });
    if (!ok)
        std::fprintf(stderr, "could not write the seeds\n");
    return ok ? 0 : 1;
}
