// SPDX-License-Identifier: GPL-3.0-or-later
// bench_console: a console of 1,000,000 lines.
//
// 1. Memory: heap bytes held per line (mallinfo2 before and after), against the
//    lines' UTF-8 size.
// 2. Filter changes: from setFilter() until the new result is in place, for
//    several kinds of filter, and the longest time the GUI thread was held in
//    that span (the longest gap between 1 ms probe ticks). Baseline in the same
//    run: one thread testing every line with the same matcher logic written as
//    a plain loop over QStrings (what a QSortFilterProxyModel would do).
// 3. Folding: every record of several lines (a third of the lines continue a
//    record) folded and opened again, against a level filter change over the
//    same console as the baseline.
//
// Usage: bench_console [lines (1000000)] [runs (5)]
#include "models/consolefiltermodel.h"
#include "models/consolemodel.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QTimer>
#include <algorithm>
#include <cstdio>
#include <malloc.h>
#include <vector>

namespace {

double median(std::vector<double> values)
{
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

size_t heapInUse()
{
    malloc_trim(0);
    const struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd; // small blocks and mmap'd ones
}

/// Lines as agents print them: timestamps, levels, module names, ids, some colour.
QList<Link::ConsoleLine> makeLines(qint64 count)
{
    static const char* const words[] = {"request", "search", "page",    "fetched", "tokens", "answer",
                                        "cache",   "retry",  "user",    "session", "model",  "latency",
                                        "queue",   "worker", "timeout", "ok"};
    static const char* const sources[] = {"query.search", "query.fetch", "media.ocr", "insight.db", "forum", ""};
    static const LogLevel levels[] = {LogLevel::Debug, LogLevel::Info,    LogLevel::Info,  LogLevel::Info,
                                      LogLevel::Info,  LogLevel::Warning, LogLevel::Error, LogLevel::Critical};
    QRandomGenerator random(42);
    QList<Link::ConsoleLine> lines;
    lines.reserve(count);
    for (qint64 i = 1; i <= count; ++i) {
        Link::ConsoleLine line;
        line.seq = i;
        line.ts = 1763773200000 + i;
        line.level = levels[random.bounded(8)];
        line.stream = random.bounded(10) == 0 ? Protocol::Stream::Stderr : Protocol::Stream::Stdout;
        line.source = sources[random.bounded(6)];
        QByteArray text = "2025-11-22 10:00:00.123 | " + logLevelName(line.level).toByteArray() + " | ";
        if (random.bounded(20) == 0)
            text += "\x1b[33m";
        const int target = 40 + random.bounded(160);
        while (text.size() < target) {
            text += words[random.bounded(16)];
            text += ' ';
            if (random.bounded(4) == 0)
                text += "id=" + QByteArray::number(random.bounded(100000)) + ' ';
        }
        line.text = text;
        lines.append(std::move(line));
    }
    return lines;
}

struct Timing
{
    double ms = 0;
    double longestBlockMs = 0;
    int matches = 0;
};

/// Changes the filter (or what change does) and runs the event loop until the result is in place.
template <typename Change>
Timing timeChange(ConsoleFilterModel& proxy, Change change)
{
    Timing timing;
    QElapsedTimer clock;
    QElapsedTimer sinceTick;
    QTimer probe;
    probe.setTimerType(Qt::PreciseTimer);
    probe.setInterval(1);
    QObject::connect(&probe, &QTimer::timeout, &probe, [&] {
        timing.longestBlockMs = std::max(timing.longestBlockMs, sinceTick.nsecsElapsed() / 1e6);
        sinceTick.restart();
    });
    bool applied = false;
    const auto connection =
        QObject::connect(&proxy, &ConsoleFilterModel::filterApplied, &proxy, [&] { applied = true; });
    probe.start();
    clock.start();
    sinceTick.start();
    change();
    timing.longestBlockMs = std::max(timing.longestBlockMs, sinceTick.nsecsElapsed() / 1e6);
    sinceTick.restart();
    while (!applied)
        QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents);
    timing.ms = clock.nsecsElapsed() / 1e6;
    timing.longestBlockMs = std::max(timing.longestBlockMs, sinceTick.nsecsElapsed() / 1e6);
    QObject::disconnect(connection);
    timing.matches = proxy.rowCount();
    return timing;
}

Timing changeFilter(ConsoleFilterModel& proxy, const ConsoleFilter& filter)
{
    return timeChange(proxy, [&] { proxy.setFilter(filter); });
}

/// One thread, every line converted to QString and tested: the baseline.
double naiveFilter(const ConsoleModel& console, const ConsoleFilter& filter, int* matches)
{
    QElapsedTimer clock;
    clock.start();
    const bool caseSensitive = std::any_of(filter.text.begin(), filter.text.end(), [](QChar c) { return c.isUpper(); });
    const QRegularExpression re(filter.regex ? filter.text : QRegularExpression::escape(filter.text),
                                caseSensitive ? QRegularExpression::NoPatternOption
                                              : QRegularExpression::CaseInsensitiveOption);
    int count = 0;
    for (int row = 0; row < console.rowCount(); ++row) {
        const QModelIndex index = console.index(row);
        if (filter.levels && !(filter.levels & (1u << index.data(ConsoleModel::LevelRole).toUInt())))
            continue;
        const QString text = index.data(ConsoleModel::TextRole).toString();
        const bool hit = filter.text.isEmpty()
            || (filter.regex || filter.wholeWord
                    ? re.match(text).hasMatch()
                    : text.contains(filter.text, caseSensitive ? Qt::CaseSensitive : Qt::CaseInsensitive));
        count += hit != filter.inverse ? 1 : 0;
    }
    *matches = count;
    return clock.nsecsElapsed() / 1e6;
}

} // namespace

int main(int argc, char* argv[])
{
    QCoreApplication app(argc, argv);
    const qint64 count = argc > 1 ? QByteArray(argv[1]).toLongLong() : 1000000;
    const int runs = argc > 2 ? QByteArray(argv[2]).toInt() : 5;

    QList<Link::ConsoleLine> lines = makeLines(count);
    qint64 textBytes = 0;
    for (const Link::ConsoleLine& line : lines)
        textBytes += line.text.size();

    const size_t before = heapInUse();
    ConsoleModel console;
    console.setMaxLines(count);
    console.setMaxBytes(qint64(1) << 40);
    for (qsizetype i = 0; i < lines.size(); i += 1000)
        console.appendLines(lines.mid(i, 1000));
    console.flush();
    const size_t after = heapInUse();
    const double perLine = double(after - before) / double(count);
    const double textPerLine = double(textBytes) / double(count);
    std::printf("memory: %lld lines, %.1f text bytes/line on average; console holds %.1f bytes/line = text + %.1f "
                "(limit: 2 x text + 64 = %.1f)\n",
                count, textPerLine, perLine, perLine - textPerLine, 2 * textPerLine + 64);
    lines.clear();
    lines.squeeze();

    ConsoleFilterModel proxy;
    proxy.setSourceModel(&console);

    struct Case
    {
        const char* name;
        ConsoleFilter filter;
    };
    auto text = [](const char* t, bool word, bool regex, bool inverse) {
        ConsoleFilter f;
        f.text = QString::fromUtf8(t);
        f.wholeWord = word;
        f.regex = regex;
        f.inverse = inverse;
        return f;
    };
    ConsoleFilter levels;
    levels.levels = (1u << unsigned(LogLevel::Error)) | (1u << unsigned(LogLevel::Critical));
    ConsoleFilter sources;
    sources.sources = {QStringLiteral("query.")};
    const std::vector<Case> cases = {
        {"levels ERROR+CRITICAL", levels},
        {"sources query.*", sources},
        {"text, any case: \"timeout\"", text("timeout", false, false, false)},
        {"text: \"retry id=1\"", text("retry id=1", false, false, false)},
        {"text, case: \"ERROR\"", text("ERROR", false, false, false)},
        {"whole word: \"page\"", text("page", true, false, false)},
        {"inverse: not \"cache\"", text("cache", false, false, true)},
        {"regex: id=4\\d+", text("id=4\\d+", false, true, false)},
        {"regex, no literal: \\d{5} ", text("\\d{5} ", false, true, false)},
    };

    std::printf("\nfilter change over %lld lines (median of %d; longest GUI-thread block in that time; baseline: one "
                "thread, QString per line)\n",
                count, runs);
    std::printf("%-28s %10s %10s %10s %12s\n", "filter", "ms", "block ms", "matches", "baseline ms");
    for (const Case& c : cases) {
        std::vector<double> ms, block, base;
        int matches = 0;
        int baseMatches = 0;
        for (int run = 0; run < runs; ++run) {
            proxy.setFilter(ConsoleFilter()); // from "everything" each time
            QCoreApplication::processEvents();
            QElapsedTimer settle;
            settle.start();
            while (proxy.isFiltering())
                QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents);
            const Timing t = changeFilter(proxy, c.filter);
            ms.push_back(t.ms);
            block.push_back(t.longestBlockMs);
            matches = t.matches;
            if (run < 2)
                base.push_back(naiveFilter(console, c.filter, &baseMatches));
        }
        std::printf("%-28s %10.1f %10.2f %10d %12.1f%s\n", c.name, median(ms), median(block), matches, median(base),
                    c.filter.sources.isEmpty() && !c.filter.wholeWord && baseMatches != matches ? "  (counts differ)"
                                                                                                : "");
    }

    // Records: a log line and the indented lines under it (every third line continues one).
    ConsoleModel records;
    records.setMaxLines(count);
    records.setMaxBytes(qint64(1) << 40);
    {
        QList<Link::ConsoleLine> batch;
        for (qint64 i = 1; i <= count; ++i) {
            Link::ConsoleLine line;
            line.seq = i;
            line.ts = 1763773200000 + i;
            line.level = LogLevel::Info;
            line.text = i % 3 == 0 ? QByteArray("    at frame " + QByteArray::number(i))
                                   : QByteArray("2025-11-22 | INFO | step " + QByteArray::number(i));
            batch.append(std::move(line));
            if (batch.size() == 1000) {
                records.appendLines(batch);
                batch.clear();
            }
        }
        records.appendLines(batch);
        records.flush();
    }
    ConsoleFilterModel folding;
    folding.setSourceModel(&records);
    std::printf("\nfolding over %lld lines, a third continuing a record (median of %d)\n", count, runs);
    std::printf("%-28s %10s %10s %10s\n", "change", "ms", "block ms", "rows");
    std::vector<double> foldMs, foldBlock, openMs, openBlock, levelMs, levelBlock;
    int folded = 0;
    ConsoleFilter info;
    info.levels = 1u << unsigned(LogLevel::Info);
    for (int run = 0; run < runs; ++run) {
        const Timing fold = timeChange(folding, [&] { folding.setFoldRecords(true); });
        foldMs.push_back(fold.ms);
        foldBlock.push_back(fold.longestBlockMs);
        folded = fold.matches;
        const Timing open = timeChange(folding, [&] { folding.setFoldRecords(false); });
        openMs.push_back(open.ms);
        openBlock.push_back(open.longestBlockMs);
        const Timing level = changeFilter(folding, run % 2 ? ConsoleFilter() : info);
        levelMs.push_back(level.ms);
        levelBlock.push_back(level.longestBlockMs);
    }
    std::printf("%-28s %10.1f %10.2f %10d\n", "fold every record", median(foldMs), median(foldBlock), folded);
    std::printf("%-28s %10.1f %10.2f %10d\n", "open every record", median(openMs), median(openBlock),
                folding.rowCount());
    std::printf("%-28s %10.1f %10.2f\n", "baseline: level filter", median(levelMs), median(levelBlock));
    return 0;
}
