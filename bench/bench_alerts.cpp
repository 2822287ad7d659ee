// SPDX-License-Identifier: GPL-3.0-or-later
// bench_alerts: 100 regular-expression alert rules against console lines.
//
// 1. Matchers, one thread, the same 200,000 lines and rules for each: thread CPU
//    time to tell, for every line, which rules match it. Compared in one run:
//    Hyperscan (one database for all rules, LineMatcher), PCRE2 with JIT (one
//    match per rule; and one combined alternation, then the rules one by one on
//    the lines it matched) and QRegularExpression (one match per rule, the line
//    converted to UTF-16 once). At 200,000 lines/s, the CPU time per 200,000
//    lines is the share of one core.
// 2. The alert center as the window runs it: lines handed to it at 200,000
//    lines/s for some seconds from the GUI thread, in events of 2,000 lines
//    every 10 ms, while a 1 ms timer on the GUI thread measures how late it
//    fires (p99, max). The matcher thread's CPU time is the process's minus the
//    GUI thread's (no other thread is busy).
//
// Usage: bench_alerts [runs (5)] [seconds (5)] [matchers|center (both)]
#include "models/alertcenter.h"
#include "models/alertmodel.h"
#include "models/fleet.h"
#include "models/linematcher.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QTimer>
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <vector>

namespace {

constexpr int Lines = 200000;
constexpr int Rules = 100;

double median(std::vector<double> values)
{
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

double cpuMs(clockid_t clock)
{
    timespec ts{};
    clock_gettime(clock, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/// 100 rules as people write them: words with alternatives, numbers, classes, some case-insensitive.
QStringList makeRules()
{
    static const char* const subjects[] = {"database",  "socket",  "upstream", "worker", "cache",
                                           "scheduler", "payment", "session",  "token",  "index"};
    static const char* const templates[] = {
        "%1 (timeout|timed out) after \\d+ ?ms",
        "(?i)%1 connection (refused|reset)",
        "%1_[0-9]{3,} failed",
        "failed to (open|read|write) %1",
        "%1 quota exceeded for user \\w+",
        "(?i)panic: .*%1",
        "%1 retry [5-9] of \\d+",
        "\\b%1\\b.*\\bdeadlock\\b",
        "%1: HTTP 5\\d\\d",
        "unexpected EOF (from|in) %1",
    };
    QStringList rules;
    for (const char* subject : subjects) {
        for (const char* pattern : templates)
            rules.append(QString::fromLatin1(pattern).arg(QLatin1String(subject)));
    }
    return rules;
}

/// Lines as agents print them; about one in 200 matches some rule.
std::vector<QByteArray> makeLines()
{
    static const char* const words[] = {"request", "search", "page",    "fetched", "tokens", "answer",
                                        "cache",   "retry",  "user",    "session", "model",  "latency",
                                        "queue",   "worker", "timeout", "ok",      "socket", "index"};
    static const char* const matching[] = {
        "database timed out after 350 ms", "socket connection Refused", "payment_4411 failed",
        "failed to write cache",           "worker: HTTP 503",          "unexpected EOF from upstream"};
    QRandomGenerator random(7);
    std::vector<QByteArray> lines;
    lines.reserve(Lines);
    for (int i = 0; i < Lines; ++i) {
        QByteArray line = "2026-12-07 02:40:11.123 | INFO | query.search:fetch:88 - ";
        const int count = 6 + int(random.bounded(10));
        for (int w = 0; w < count; ++w) {
            line += words[random.bounded(int(std::size(words)))];
            line += w % 3 == 2 ? " " + QByteArray::number(random.bounded(100000)) + " " : QByteArray(" ");
        }
        if (random.bounded(200) == 0)
            line += matching[random.bounded(int(std::size(matching)))];
        lines.push_back(line);
    }
    return lines;
}

using Counts = std::vector<int>; // matches per rule

double runHyperscan(const QStringList& rules, const std::vector<QByteArray>& lines, Counts* counts)
{
    LineMatcher matcher;
    matcher.setPatterns(rules);
    std::vector<int> hits;
    counts->assign(size_t(rules.size()), 0);
    const double start = cpuMs(CLOCK_THREAD_CPUTIME_ID);
    for (const QByteArray& line : lines) {
        hits.clear();
        matcher.match(line, &hits);
        for (const int hit : hits)
            ++(*counts)[size_t(hit)];
    }
    return cpuMs(CLOCK_THREAD_CPUTIME_ID) - start;
}

struct Pcre
{
    explicit Pcre(const QString& pattern)
    {
        const QByteArray utf8 = pattern.toUtf8();
        int error = 0;
        PCRE2_SIZE offset = 0;
        code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(utf8.constData()), PCRE2_SIZE(utf8.size()), PCRE2_UTF, &error,
                             &offset, nullptr);
        if (code)
            pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
        data = pcre2_match_data_create(1, nullptr);
    }
    ~Pcre()
    {
        pcre2_match_data_free(data);
        pcre2_code_free(code);
    }
    bool matches(const QByteArray& line) const
    {
        return pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(line.constData()), PCRE2_SIZE(line.size()), 0, 0, data,
                           nullptr)
            >= 0;
    }
    pcre2_code* code = nullptr;
    pcre2_match_data* data = nullptr;
};

double runPcrePerRule(const QStringList& rules, const std::vector<QByteArray>& lines, Counts* counts)
{
    std::vector<std::unique_ptr<Pcre>> compiled;
    for (const QString& rule : rules)
        compiled.push_back(std::make_unique<Pcre>(rule));
    counts->assign(size_t(rules.size()), 0);
    const double start = cpuMs(CLOCK_THREAD_CPUTIME_ID);
    for (const QByteArray& line : lines) {
        for (size_t i = 0; i < compiled.size(); ++i)
            (*counts)[i] += compiled[i]->matches(line);
    }
    return cpuMs(CLOCK_THREAD_CPUTIME_ID) - start;
}

double runPcreCombined(const QStringList& rules, const std::vector<QByteArray>& lines, Counts* counts)
{
    QStringList groups;
    for (const QString& rule : rules)
        groups.append(QStringLiteral("(?:") + rule + QLatin1Char(')'));
    const Pcre any(groups.join(QLatin1Char('|')));
    std::vector<std::unique_ptr<Pcre>> compiled;
    for (const QString& rule : rules)
        compiled.push_back(std::make_unique<Pcre>(rule));
    counts->assign(size_t(rules.size()), 0);
    const double start = cpuMs(CLOCK_THREAD_CPUTIME_ID);
    for (const QByteArray& line : lines) {
        if (!any.matches(line))
            continue;
        // Which rules: the alternation only says that one did.
        for (size_t i = 0; i < compiled.size(); ++i)
            (*counts)[i] += compiled[i]->matches(line);
    }
    return cpuMs(CLOCK_THREAD_CPUTIME_ID) - start;
}

double runQRegularExpression(const QStringList& rules, const std::vector<QByteArray>& lines, Counts* counts)
{
    std::vector<QRegularExpression> compiled;
    for (const QString& rule : rules) {
        compiled.emplace_back(rule);
        compiled.back().optimize();
    }
    counts->assign(size_t(rules.size()), 0);
    const double start = cpuMs(CLOCK_THREAD_CPUTIME_ID);
    for (const QByteArray& line : lines) {
        const QString text = QString::fromUtf8(line);
        for (size_t i = 0; i < compiled.size(); ++i)
            (*counts)[i] += compiled[i].match(text).hasMatch();
    }
    return cpuMs(CLOCK_THREAD_CPUTIME_ID) - start;
}

struct Pipeline
{
    double matcherCpuPercent = 0; // of one core
    double guiCpuPercent = 0;
    double p99LateMs = 0;
    double maxLateMs = 0;
    int alerts = 0;
};

Pipeline runPipeline(const QStringList& patterns, const std::vector<QByteArray>& lines, int seconds)
{
    Fleet fleet;
    AlertCenter center(&fleet);
    QList<AlertRule> rules;
    for (int i = 0; i < patterns.size(); ++i) {
        AlertRule rule;
        rule.id = QString::number(i);
        rule.name = rule.id;
        rule.pattern = patterns.at(i);
        rules.append(rule);
    }
    center.setRules(rules);

    // Events of 2,000 lines made beforehand: the run measures the center, not the making.
    constexpr int PerEvent = 2000;
    std::vector<Link::Event> events;
    qint64 seq = 0;
    for (size_t first = 0; first + PerEvent <= lines.size(); first += PerEvent) {
        Link::Event event;
        event.type = Link::Event::Type::Log;
        event.agent = QStringLiteral("agent-%1").arg(events.size() % 8);
        for (size_t i = first; i < first + PerEvent; ++i) {
            Link::ConsoleLine line;
            line.seq = ++seq;
            line.level = LogLevel::Info;
            line.text = lines[i];
            event.lines.append(line);
        }
        events.push_back(std::move(event));
    }

    std::vector<double> late;
    QElapsedTimer clock;
    clock.start();
    qint64 lastProbe = 0;
    QTimer probe;
    probe.setTimerType(Qt::PreciseTimer);
    QObject::connect(&probe, &QTimer::timeout, &probe, [&] {
        const qint64 now = clock.nsecsElapsed();
        if (lastProbe > 0)
            late.push_back(std::max(0.0, (now - lastProbe) / 1e6 - 1.0));
        lastProbe = now;
    });
    size_t next = 0;
    QTimer feed;
    feed.setTimerType(Qt::PreciseTimer);
    const QString host = QStringLiteral("local");
    QObject::connect(&feed, &QTimer::timeout, &feed, [&] {
        Q_EMIT fleet.eventApplied(host, events[next]);
        next = (next + 1) % events.size();
    });
    QEventLoop loop;
    QTimer::singleShot(seconds * 1000, &loop, &QEventLoop::quit);
    const double processStart = cpuMs(CLOCK_PROCESS_CPUTIME_ID);
    const double guiStart = cpuMs(CLOCK_THREAD_CPUTIME_ID);
    const qint64 wallStart = clock.elapsed();
    probe.start(1);
    feed.start(1000 * PerEvent / 200000);
    loop.exec();
    feed.stop();
    probe.stop();
    // What is still queued is part of the work.
    while (center.linesInFlight() > 0)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 10);
    const double wall = double(clock.elapsed() - wallStart);
    const double gui = cpuMs(CLOCK_THREAD_CPUTIME_ID) - guiStart;
    const double process = cpuMs(CLOCK_PROCESS_CPUTIME_ID) - processStart;
    Pipeline result;
    result.matcherCpuPercent = 100.0 * (process - gui) / wall;
    result.guiCpuPercent = 100.0 * gui / wall;
    std::sort(late.begin(), late.end());
    result.p99LateMs = late.empty() ? 0 : late[std::min(late.size() - 1, late.size() * 99 / 100)];
    result.maxLateMs = late.empty() ? 0 : late.back();
    result.alerts = center.alerts()->rowCount();
    return result;
}

} // namespace

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    const int runs = argc > 1 ? std::max(1, atoi(argv[1])) : 5;
    const int seconds = argc > 2 ? std::max(1, atoi(argv[2])) : 5;
    const QByteArray part = argc > 3 ? QByteArray(argv[3]) : QByteArray();
    const QStringList rules = makeRules();
    const std::vector<QByteArray> lines = makeLines();
    qint64 bytes = 0;
    for (const QByteArray& line : lines)
        bytes += line.size();
    std::printf("%d rules, %d lines (%.0f bytes on average)\n\n", int(rules.size()), Lines, double(bytes) / Lines);

    struct Backend
    {
        const char* name;
        double (*run)(const QStringList&, const std::vector<QByteArray>&, Counts*);
        std::vector<double> ms;
        Counts counts;
    };
    Backend backends[] = {{"Hyperscan, one database", runHyperscan, {}, {}},
                          {"PCRE2 JIT, one match per rule", runPcrePerRule, {}, {}},
                          {"PCRE2 JIT, one alternation first", runPcreCombined, {}, {}},
                          {"QRegularExpression, one per rule", runQRegularExpression, {}, {}}};
    if (part != "center") {
        for (int run = 0; run < runs; ++run) {
            for (Backend& backend : backends)
                backend.ms.push_back(backend.run(rules, lines, &backend.counts));
        }
        std::printf("1. matchers: CPU ms per %d lines (= %% of a core at 200,000 lines/s), median of %d\n", Lines,
                    runs);
        for (const Backend& backend : backends) {
            int matches = 0;
            for (const int count : backend.counts)
                matches += count;
            const bool same = backend.counts == backends[0].counts;
            std::printf("   %-34s %9.1f ms  %6.1f %%  (%d matches%s)\n", backend.name, median(backend.ms),
                        median(backend.ms) / 10.0, matches, same ? "" : ", DIFFERENT from Hyperscan");
        }
    }
    if (part == "matchers")
        return 0;

    std::printf("\n2. alert center, 200,000 lines/s for %d s, median of %d\n", seconds, runs);
    std::vector<double> matcher, gui, p99, worst;
    int alerts = 0;
    for (int run = 0; run < runs; ++run) {
        const Pipeline result = runPipeline(rules, lines, seconds);
        matcher.push_back(result.matcherCpuPercent);
        gui.push_back(result.guiCpuPercent);
        p99.push_back(result.p99LateMs);
        worst.push_back(result.maxLateMs);
        alerts = result.alerts;
    }
    std::printf("   matcher thread CPU    %6.1f %% of a core\n", median(matcher));
    std::printf("   GUI thread CPU        %6.1f %% of a core (handing lines over, raising alerts, the probe)\n",
                median(gui));
    std::printf("   GUI timer lateness    p99 %.2f ms, max %.2f ms\n", median(p99), median(worst));
    std::printf("   alerts in the list    %d\n", alerts);
    return 0;
}
