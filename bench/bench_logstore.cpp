// SPDX-License-Identifier: GPL-3.0-or-later
// bench_logstore: the per-line costs inside the host, without any networking:
// LogStore append throughput and exact heap bytes per retained line (mallinfo2),
// and the cost of Redactor::redact and inferLogLevel on typical console lines.
#include "server/engine/redactor.h"
#include "server/protocol/loglevel.h"
#include "server/store/logstore.h"

#include <QByteArray>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <cstdio>
#include <malloc.h>
#include <memory>
#include <vector>

namespace {

constexpr qint64 Lines = 1000000;
constexpr int TextBytes = 100;

/// Heap bytes in use, both from the arenas and from mmap.
qint64 heapInUse()
{
    const struct mallinfo2 info = mallinfo2();
    return qint64(info.uordblks + info.hblkhd);
}

/// 1024 distinct lines of exactly TextBytes bytes, like the load generator's.
std::vector<QByteArray> makeTexts()
{
    static const char filler[] = "worker.pool dispatch job payload chunk processed ok lorem ipsum dolor sit amet ";
    std::vector<QByteArray> texts;
    for (int i = 0; i < 1024; ++i) {
        QByteArray t = "n=" + QByteArray::number(i * 7919) + " t=" + QByteArray::number(1234567890123ll + i) + ' ';
        while (t.size() < TextBytes)
            t.append(filler, std::min<qsizetype>(qsizetype(sizeof(filler) - 1), TextBytes - t.size()));
        texts.push_back(t);
    }
    return texts;
}

/// Typical console output: what the redactor and the level inference see most.
const char* const TypicalLines[] = {
    "2025-11-22 01:00:00.123 | INFO     | worker.pool:dispatch:88 - job 4711 finished in 12.5 ms",
    "Downloading shard 17/64 from https://example.org/data/shard-17.tar (1.2 GiB)",
    "WARNING:root:retrying request after HTTP 503, attempt 3 of 5, backoff 4.0 s",
    "[ERROR] connection to db-3 refused (errno 111)",
    "epoch 3 step 1200 loss=0.03417 lr=2.5e-4 grad_norm=1.93 tokens/s=48211",
    "\x1b[32mINFO\x1b[0m  server started on port 8080",
    "Traceback (most recent call last):",
    "n=123456 t=98765432101234 worker.pool dispatch job payload chunk processed ok lorem ipsum dolor sit am",
};

const char* const SecretLines[] = {
    "using api key sk-proj-abcdefghijklmnopqrstuvwxyz0123456789 for the request",
    "login ok password=hunter2 user=alice",
    "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc",
};

template <typename F>
double nsPerCall(qint64 calls, F&& f)
{
    QElapsedTimer timer;
    timer.start();
    f();
    return double(timer.nsecsElapsed()) / double(calls);
}

} // namespace

int main(int argc, char* argv[])
{
    QCoreApplication app(argc, argv);
    const std::vector<QByteArray> texts = makeTexts();
    const QByteArrayView source = "worker.pool";

    // Memory: exact heap growth for Lines retained lines.
    const qint64 before = heapInUse();
    auto store = std::make_unique<LogStore>();
    store->setLimits(Lines, qint64(1) << 40);
    const double appendNs = nsPerCall(Lines, [&] {
        for (qint64 i = 0; i < Lines; ++i)
            store->append(i + 1, 1763773200000 + i, Protocol::Stream::Stdout, LogLevel::Info, {},
                          texts[size_t(i) % texts.size()]);
    });
    const qint64 after = heapInUse();
    const double heapPerLine = double(after - before) / double(Lines);
    std::printf("LogStore append (growing, %lld lines of %d bytes): %.1f ns/line\n", static_cast<long long>(Lines),
                TextBytes, appendNs);
    std::printf("LogStore heap per retained line: %.2f bytes (%.2f beyond the %d-byte text); byteSize() says %.2f\n",
                heapPerLine, heapPerLine - TextBytes, TextBytes, double(store->byteSize()) / double(Lines));
    store.reset();

    // Steady state: a full ring of the default 100,000 lines, evicting one per append.
    {
        LogStore ring;
        ring.setLimits(100000, qint64(1) << 40);
        const qint64 n = 5 * Lines;
        const double ns = nsPerCall(n, [&] {
            for (qint64 i = 0; i < n; ++i)
                ring.append(i + 1, 1763773200000 + i, Protocol::Stream::Stdout, LogLevel::Info, source,
                            texts[size_t(i) % texts.size()]);
        });
        std::printf("LogStore append (full ring of 100,000, evicting, with source): %.1f ns/line\n", ns);
    }

    // Reading back, as a viewer's pump does.
    {
        LogStore ring;
        ring.setLimits(Lines, qint64(1) << 40);
        for (qint64 i = 0; i < Lines; ++i)
            ring.append(i + 1, 0, Protocol::Stream::Stdout, LogLevel::Info, {}, texts[size_t(i) % texts.size()]);
        qint64 sum = 0;
        const double ns = nsPerCall(Lines, [&] {
            for (qsizetype i = ring.indexOfSeq(1); i < ring.lineCount(); ++i)
                sum += ring.lineAt(i).text.size();
        });
        std::printf("LogStore lineAt (sequential read): %.1f ns/line (checksum %lld)\n", ns,
                    static_cast<long long>(sum));
    }

    // Redaction and level inference, per line.
    Redactor redactor;
    redactor.configure(true, {});
    const qint64 rounds = 200000;
    QByteArray out;
    qint64 redacted = 0;
    const double redactTypical = nsPerCall(rounds * qint64(std::size(TypicalLines)), [&] {
        for (qint64 r = 0; r < rounds; ++r) {
            for (const char* line : TypicalLines)
                redacted += redactor.redact(QByteArrayView(line), &out);
        }
    });
    const double redactBench = nsPerCall(qint64(texts.size()) * 200, [&] {
        for (int r = 0; r < 200; ++r) {
            for (const QByteArray& t : texts)
                redacted += redactor.redact(t, &out);
        }
    });
    const double redactSecret = nsPerCall(rounds / 10 * qint64(std::size(SecretLines)), [&] {
        for (qint64 r = 0; r < rounds / 10; ++r) {
            for (const char* line : SecretLines)
                redacted += redactor.redact(QByteArrayView(line), &out);
        }
    });
    int levels = 0;
    const double inferTypical = nsPerCall(rounds * qint64(std::size(TypicalLines)), [&] {
        for (qint64 r = 0; r < rounds; ++r) {
            for (const char* line : TypicalLines)
                levels += int(inferLogLevel(QByteArrayView(line)));
        }
    });
    const double inferBench = nsPerCall(qint64(texts.size()) * 200, [&] {
        for (int r = 0; r < 200; ++r) {
            for (const QByteArray& t : texts)
                levels += int(inferLogLevel(t));
        }
    });
    std::printf("Redactor::redact, typical lines without secrets: %.1f ns/line\n", redactTypical);
    std::printf("Redactor::redact, loadgen lines (100 bytes): %.1f ns/line\n", redactBench);
    std::printf("Redactor::redact, lines with a secret: %.1f ns/line\n", redactSecret);
    std::printf("inferLogLevel, typical lines: %.1f ns/line\n", inferTypical);
    std::printf("inferLogLevel, loadgen lines (100 bytes): %.1f ns/line\n", inferBench);
    std::printf("(checksums %lld %d)\n", static_cast<long long>(redacted), levels);
    std::printf("{\"tool\":\"bench_logstore\",\"append_ns\":%.1f,\"heap_bytes_per_line\":%.2f,"
                "\"overhead_bytes_per_line\":%.2f,\"redact_typical_ns\":%.1f,\"redact_loadgen_ns\":%.1f,"
                "\"redact_secret_ns\":%.1f,\"infer_typical_ns\":%.1f,\"infer_loadgen_ns\":%.1f}\n",
                appendNs, heapPerLine, heapPerLine - TextBytes, redactTypical, redactBench, redactSecret, inferTypical,
                inferBench);
    return 0;
}
