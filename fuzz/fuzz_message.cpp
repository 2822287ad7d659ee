// SPDX-License-Identifier: GPL-3.0-or-later
// A message as the host takes it apart, without sockets or agents: the type and
// its sender, the id echoed in replies, the fields of log lines, forum messages,
// status, metrics and questions, timestamps, levels and numbers; and what the host
// writes from them (Wire::appendLine, forumMessage, error, result), which must be
// JSON that reads back to what went in.
#include "fuzz/fuzzcheck.h"
#include "server/engine/redactor.h"
#include "server/engine/wire.h"
#include "server/protocol/agentdefinition.h"
#include "server/store/logstore.h"

#include <array>
#include <cstdint>

namespace {

using Fuzz::check;

// Parses json, which the host wrote, and returns its root object.
Json::Value reread(Json::Document& doc, const QByteArray& json)
{
    QString error;
    check(doc.parse(json, &error), "what the host writes is JSON");
    check(doc.root().isObject(), "what the host writes is an object");
    return doc.root();
}

// The fields of one console line, read as Ingest::log() does, written back as Wire::appendLine() does.
void logLine(Json::Value line)
{
    static constexpr std::array<QByteArrayView, 7> names = {"text", "stream", "level",  "source",
                                                            "ts",   "seq",    "partial"};
    std::array<Json::Value, 7> f;
    if (line.isObject())
        Wire::readMembers(line, names, &f);
    for (size_t i = 0; i < names.size(); ++i)
        check(f[i].isUndefined() || f[i].key() == names[i], "readMembers() takes members by name");
    if (!f[0].isString())
        return;
    const QByteArrayView text = f[0].toUtf8();
    const Protocol::Stream stream =
        f[1].isString() && f[1].toUtf8() == "stderr" ? Protocol::Stream::Stderr : Protocol::Stream::Stdout;
    const LogLevel given = f[2].isString() ? parseLogLevel(f[2].toUtf8()) : LogLevel::Unknown;
    const qint64 ts = Protocol::readTimestamp(f[4], 0);
    f[6].toBool();
    if (f[5].isInteger())
        Protocol::seqProblem(f[5].toInteger(), 0);

    LogLine stored;
    stored.seq = f[5].isInteger() ? f[5].toInteger() : 1;
    stored.ts = ts;
    stored.stream = stream;
    stored.level = Wire::lineLevel(given, stream, text);
    stored.source = f[3].isString() ? f[3].toUtf8() : QByteArrayView();
    stored.text = text;
    check(stored.level != LogLevel::Unknown, "every stored line has a level");
    QByteArray json;
    Wire::appendLine(json, stored);
    Json::Document doc;
    const Json::Value back = reread(doc, json);
    check(back["text"].toUtf8() == text, "a line's text reads back");
    check(back["source"].toUtf8() == stored.source, "a line's source reads back");
    check(back["seq"].toInteger() == stored.seq && back["ts"].toInteger() == ts, "a line's numbers read back");
    check(parseLogLevel(back["level"].toUtf8()) == stored.level, "a line's level reads back");
}

void forumMessage(Json::Value m)
{
    const QByteArrayView role = m["role"].toUtf8();
    if (!m["text"].isString() || !Protocol::isValidForumRole(role))
        return;
    const std::optional<QByteArrayView> source =
        m["source"].isString() ? std::optional(m["source"].toUtf8()) : std::nullopt;
    const qint64 ts = Protocol::readTimestamp(m["ts"], 0);
    const QByteArray json =
        Wire::forumMessage(m["seq"].toInteger(1), ts, m["sender"].toUtf8(), role, source, m["text"].toUtf8());
    Json::Document doc;
    const Json::Value back = reread(doc, json);
    check(back["text"].toUtf8() == m["text"].toUtf8() && back["role"].toUtf8() == role, "a forum message reads back");
    check(back["source"].isUndefined() == !source, "a forum message has a source when it was given one");
}

// Status, metrics and questions: the parts the host copies into what it sends viewers.
void copiedParts(Json::Value root)
{
    Protocol::isValidStatusState(root["state"].toUtf8());
    static const Redactor redactor;
    Json::Document statusDoc;
    const Json::Value status =
        reread(statusDoc, Wire::status(root["state"].toUtf8(), root, Protocol::readTimestamp(root["ts"], 0), redactor));
    check(status["state"].toUtf8() == root["state"].toUtf8(), "a status keeps its state");

    QByteArray json;
    Json::Writer w(&json);
    w.beginObject().key("values").beginObject();
    for (const Json::Value v : root["values"].items()) {
        if (v.isNumber())
            w.key(v.key()).raw(v.raw());
    }
    w.endObject().key("choices").beginArray();
    for (const Json::Value choice : root["choices"].items()) {
        if (choice.isString())
            w.string(choice.toUtf8());
    }
    w.endArray().endObject();
    Json::Document doc;
    reread(doc, json);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static Json::ReusedDocument reused;
    const Json::ReusedDocument::Lease parsed(reused);
    if (!parsed->parse(QByteArray(reinterpret_cast<const char*>(data), qsizetype(size))))
        return 0;
    const Json::Value root = parsed->root();
    const Json::Value typeValue = root["type"];
    if (!root.isObject() || !typeValue.isString())
        return 0;

    const Protocol::MessageType type = Protocol::parseMessageType(typeValue.toUtf8());
    check(type == Protocol::MessageType::Unknown || Protocol::messageTypeName(type) == typeValue.toUtf8(),
          "a known type's name is the name it was read from");
    Protocol::senderOf(type);
    const Json::Value id = root["id"];
    const QByteArrayView ref = id.isString() || id.isNumber() ? id.raw() : QByteArrayView();
    {
        Json::Document doc;
        const QByteArray error = Wire::error(Protocol::ErrorCode::BadMessage, typeValue.toString(), ref);
        check(ref.isEmpty() || reread(doc, error)["ref"].raw() == ref, "an error echoes the id");
    }
    {
        // A result as CommandRouter::result() passes it on to the viewer.
        const Json::Value text = root["text"];
        const Json::Value errorCode = root["error"];
        const Json::Value payload = root["data"];
        const QByteArray extra = payload.isUndefined() ? QByteArray() : ",\"data\":" + payload.raw().toByteArray();
        const QByteArray result =
            Wire::result(ref, "agent", root["ok"].toBool(false), text.isString() ? text.toUtf8() : QByteArrayView(),
                         errorCode.isString() ? errorCode.toUtf8() : QByteArrayView(), extra);
        Json::Document doc;
        const Json::Value back = reread(doc, result);
        check(back["data"].raw() == payload.raw() && back["text"].toUtf8() == text.toUtf8(), "a result passes data on");
    }

    if (Protocol::isValidAgentId(root["agent"].toUtf8()))
        check(root["agent"].toUtf8().size() <= 64, "agent ids are short");
    for (const Json::Value line : root["lines"].items())
        logLine(line);
    for (const Json::Value m : root["messages"].items())
        forumMessage(m);
    copiedParts(root);

    // hello and define_agent carry an agent; a definition reads back from its JSON.
    AgentDefinition definition;
    QString problem;
    const char* at = nullptr;
    if (AgentDefinition::fromJson(root["agent"], QStringLiteral("agent."), &definition, &problem, &at)) {
        Json::Document doc;
        const QByteArray json = definition.toJson();
        AgentDefinition again;
        check(doc.parse(json) && AgentDefinition::fromJson(doc.root(), {}, &again, &problem),
              "a definition's JSON reads back");
        check(again == definition, "a definition reads back the same");
    } else if (at) {
        const QByteArrayView raw = root.raw();
        check(at >= raw.data() && at < raw.data() + raw.size(), "a definition's problem points into the message");
    }
    return 0;
}
