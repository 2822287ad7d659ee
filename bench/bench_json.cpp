// SPDX-License-Identifier: GPL-3.0-or-later
// Compares Json::Document with QJsonDocument on the protocol's busiest message,
// a batch of 100 console lines, to justify keeping a parser of our own.
#include "server/protocol/json.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTextStream>

#include <functional>

namespace {

constexpr int Iterations = 20000;

QByteArray makeLogMessage()
{
    static const char* const texts[] = {
        "2025-11-22 01:00:00.123 | INFO     | worker.pool:dispatch:88 - job 4711 finished in 12.5 ms",
        "Downloading shard 17/64 from https://example.org/data/shard-17.tar (1.2 GiB)",
        "WARNING: retrying request after HTTP 503, attempt 3 of 5, backoff 4.0 s",
        "Traceback (most recent call last):\tFile \"/srv/bot/main.py\", line 42, in <module>",
        "epoch 3 step 1200 loss=0.03417 lr=2.5e-4 grad_norm=1.93 tokens/s=48211",
        "用户 alice 已连接，会话 7f3a 🚀",
    };
    static const char* const levels[] = {"INFO", "DEBUG", "WARNING", "ERROR"};
    QByteArray out;
    Json::Writer writer(&out);
    writer.beginObject().key("type").string("log").key("lines").beginArray();
    for (int i = 0; i < 100; ++i) {
        writer.beginObject()
            .key("text")
            .string(texts[i % std::size(texts)])
            .key("stream")
            .string(i % 7 == 0 ? "stderr" : "stdout")
            .key("level")
            .string(levels[i % std::size(levels)])
            .key("source")
            .string("worker.pool")
            .key("ts")
            .integer(1763773200123 + i * 17)
            .endObject();
    }
    writer.endArray().endObject();
    return out;
}

// Runs body Iterations times and returns MB/s over size bytes per run.
double measure(qsizetype size, const std::function<void()>& body)
{
    body(); // warm-up
    QElapsedTimer timer;
    timer.start();
    for (int i = 0; i < Iterations; ++i)
        body();
    const double seconds = double(timer.nsecsElapsed()) / 1e9;
    return double(size) * Iterations / seconds / 1e6;
}

} // namespace

int main(int argc, char* argv[])
{
    QCoreApplication app(argc, argv);
    QTextStream out(stdout);
    const QByteArray message = makeLogMessage();
    qint64 checksum = 0;

    Json::Document doc;
    const double ours = measure(message.size(), [&] {
        doc.parse(message);
        checksum += doc.root()["lines"].size();
    });
    const double oursWalk = measure(message.size(), [&] {
        doc.parse(message);
        for (const Json::Value line : doc.root()["lines"].items()) {
            checksum += line["text"].toUtf8().size() + line["stream"].toUtf8().size() + line["level"].toUtf8().size()
                + line["source"].toUtf8().size() + line["ts"].toInteger();
        }
    });
    const double qt = measure(message.size(), [&] {
        const QJsonDocument qdoc = QJsonDocument::fromJson(message);
        checksum += qdoc.object().value(QLatin1String("lines")).toArray().size();
    });
    const double qtWalk = measure(message.size(), [&] {
        const QJsonDocument qdoc = QJsonDocument::fromJson(message);
        const QJsonArray lines = qdoc.object().value(QLatin1String("lines")).toArray();
        for (const QJsonValue& value : lines) {
            const QJsonObject line = value.toObject();
            checksum += line.value(QLatin1String("text")).toString().size()
                + line.value(QLatin1String("stream")).toString().size()
                + line.value(QLatin1String("level")).toString().size()
                + line.value(QLatin1String("source")).toString().size() + line.value(QLatin1String("ts")).toInteger();
        }
    });

    out << "message: " << message.size() << " bytes, " << Iterations << " iterations\n";
    out << "Json::Document       parse: " << qRound(ours) << " MB/s, parse + read all fields: " << qRound(oursWalk)
        << " MB/s\n";
    out << "QJsonDocument::fromJson parse: " << qRound(qt) << " MB/s, parse + read all fields: " << qRound(qtWalk)
        << " MB/s\n";
    out << "speed-up: " << QString::number(ours / qt, 'f', 1) << "x (parse), "
        << QString::number(oursWalk / qtWalk, 'f', 1) << "x (parse + read)\n";
    out << "(checksum " << checksum << ")\n";
    return 0;
}
