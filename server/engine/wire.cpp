// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/engine/wire.h"

#include "server/engine/redactor.h"

#include "server/store/logstore.h"

#include <algorithm>
#include <cstring>

using namespace Protocol;

namespace Wire {

void appendLine(QByteArray& out, const LogLine& line)
{
    // Written straight into the buffer instead of appended piece by piece. 128 holds
    // the rest: the keys, two integers of up to 20 characters and the longest level.
    const qsizetype bound = 128 + Json::maxStringSize(line.source.size()) + Json::maxStringSize(line.text.size());
    const qsizetype start = out.size();
    if (out.capacity() < start + bound)
        out.reserve(std::max(out.capacity() * 2, start + bound));
    out.resize(start + bound);
    char* p = out.data() + start;
    auto put = [&p](QByteArrayView literal) {
        std::memcpy(p, literal.data(), size_t(literal.size()));
        p += literal.size();
    };
    put("{\"seq\":");
    p = Json::writeInteger(p, line.seq);
    put(",\"ts\":");
    p = Json::writeInteger(p, line.ts);
    put(line.stream == Stream::Stderr ? QByteArrayView(",\"stream\":\"stderr\",\"level\":\"")
                                      : QByteArrayView(",\"stream\":\"stdout\",\"level\":\""));
    put(logLevelName(line.level));
    *p++ = '"';
    if (!line.source.isEmpty()) {
        put(",\"source\":");
        p = Json::writeString(p, line.source);
    }
    put(",\"text\":");
    p = Json::writeString(p, line.text);
    *p++ = '}';
    out.truncate(p - out.constData());
}

QByteArray forumMessage(qint64 seq, qint64 ts, QByteArrayView sender, QByteArrayView role,
                        std::optional<QByteArrayView> source, QByteArrayView text, bool startsConversation)
{
    QByteArray json;
    Json::Writer w(&json);
    w.beginObject().key("seq").integer(seq).key("ts").integer(ts).key("sender").string(sender);
    w.key("role").string(role);
    if (source)
        w.key("source").string(*source);
    w.key("text").string(text);
    if (startsConversation)
        w.key("starts_conversation").boolean(true);
    w.endObject();
    return json;
}

QByteArray error(QByteArrayView code, const QString& text, QByteArrayView ref)
{
    QByteArray json;
    Json::Writer w(&json);
    w.beginObject().key("type").string("error").key("code").string(code).key("text").string(text);
    if (!ref.isEmpty())
        w.key("ref").raw(ref);
    w.endObject();
    return json;
}

QByteArray result(QByteArrayView idJson, QByteArrayView agentId, bool ok, QByteArrayView text, QByteArrayView errorCode,
                  QByteArrayView extraRaw)
{
    QByteArray json;
    Json::Writer w(&json);
    w.beginObject().key("type").string("result").key("id").raw(idJson.isEmpty() ? QByteArrayView("null") : idJson);
    if (!agentId.isEmpty())
        w.key("agent").string(agentId);
    w.key("ok").boolean(ok);
    if (!text.isNull())
        w.key("text").string(text);
    if (!errorCode.isEmpty())
        w.key("error").string(errorCode);
    w.endObject();
    if (!extraRaw.isEmpty())
        json.insert(json.size() - 1, extraRaw.toByteArray());
    return json;
}

LogLevel defaultLevel(Stream stream)
{
    return stream == Stream::Stderr ? LogLevel::Warning : LogLevel::Info;
}

LogLevel lineLevel(LogLevel given, Stream stream, QByteArrayView text)
{
    if (given != LogLevel::Unknown)
        return given;
    const LogLevel inferred = inferLogLevel(text);
    return inferred != LogLevel::Unknown ? inferred : defaultLevel(stream);
}

QByteArray status(QByteArrayView state, Json::Value given, qint64 ts, const Redactor& redactor)
{
    QByteArray scratch;
    const auto clean = [&](QByteArrayView text) {
        return redactor.redacted(text, &scratch);
    };
    QByteArray status;
    Json::Writer w(&status);
    w.beginObject().key("state").string(state);
    if (given["text"].isString())
        w.key("text").string(clean(given["text"].toUtf8()));
    const Json::Value progress = given["progress"];
    if (progress.isNumber())
        w.key("progress").number(std::clamp(progress.toDouble(), 0.0, 1.0));
    const Json::Value tasks = given["tasks"];
    if (tasks.isArray()) {
        w.key("tasks").beginArray();
        for (const Json::Value task : tasks.items()) {
            if (!task.isObject())
                continue;
            w.beginObject();
            for (const char* key : {"id", "title", "state"}) {
                const Json::Value v = task[key];
                if (v.isString())
                    w.key(key).string(clean(v.toUtf8()));
                else if (v.isNumber())
                    w.key(key).raw(v.raw());
            }
            w.endObject();
        }
        w.endArray();
    }
    w.key("ts").integer(ts).endObject();
    return status;
}

} // namespace Wire
