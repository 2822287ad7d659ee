// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/engine/handshake.h"

#include "server/engine/redactor.h"
#include "server/protocol/protocol.h"

using namespace Protocol;

namespace Handshake {

namespace {

Outcome refuse(QByteArrayView code, const QString& text, quint16 closeCode, const QString& closeReason)
{
    Outcome outcome;
    outcome.errorCode = code;
    outcome.errorText = text;
    outcome.closeCode = closeCode;
    outcome.closeReason = closeReason;
    return outcome;
}

} // namespace

Outcome check(Json::Value hello, const QByteArray& transportToken, const TokenTable& tokens)
{
    const Json::Value roleValue = hello["role"];
    const bool isAgent = roleValue.isString() && roleValue.toUtf8() == "agent";
    const bool isViewer = roleValue.isString() && roleValue.toUtf8() == "viewer";

    const Json::Value tokenValue = hello["token"];
    const QByteArray given = tokenValue.isString() ? tokenValue.toUtf8().toByteArray() : transportToken;
    const AccessPtr access = tokens.find(given);
    if (!access) {
        return refuse(ErrorCode::Unauthorized,
                      given.isEmpty() ? QStringLiteral("a token is required") : QStringLiteral("wrong token"),
                      ClosePolicy, QStringLiteral("unauthorized"));
    }
    if ((isAgent && !access->mayBeAgent()) || (isViewer && !access->mayView())) {
        return refuse(ErrorCode::Unauthorized,
                      isAgent ? QStringLiteral("this token is for viewers, not agents")
                              : QStringLiteral("this token is for agents, not viewers"),
                      ClosePolicy, QStringLiteral("unauthorized"));
    }
    const Json::Value protocol = hello["protocol"];
    if (!protocol.isNumber() || protocol.toDouble() != Protocol::Version) {
        return refuse(ErrorCode::Unsupported, QStringLiteral("this host speaks protocol 1"), CloseProtocolError,
                      QStringLiteral("unsupported protocol"));
    }
    if (!isAgent && !isViewer) {
        return refuse(ErrorCode::BadMessage, QStringLiteral("role must be \"agent\" or \"viewer\""), ClosePolicy,
                      QStringLiteral("bad hello"));
    }
    Outcome outcome;
    outcome.access = access;
    if (isViewer) {
        outcome.role = Connection::Role::Viewer;
        return outcome;
    }
    const Json::Value info = hello["agent"];
    const Json::Value idValue = info["id"];
    if (!info.isObject() || !idValue.isString() || !isValidAgentId(idValue.toUtf8())) {
        return refuse(ErrorCode::BadMessage,
                      QStringLiteral("an agent hello needs agent.id matching [A-Za-z0-9_.-]{1,64}"), ClosePolicy,
                      QStringLiteral("bad hello"));
    }
    if (!access->agents.covers(idValue.toUtf8())) {
        return refuse(ErrorCode::Forbidden,
                      QStringLiteral("this token may not speak as agent \"%1\"").arg(idValue.toString()), ClosePolicy,
                      QStringLiteral("agent id not allowed"));
    }
    outcome.role = Connection::Role::Agent;
    outcome.agentId = idValue.toUtf8().toByteArray();
    return outcome;
}

QByteArray commandsJson(Json::Value commands, const Redactor& redactor)
{
    QByteArray scratch;
    const auto clean = [&](QByteArrayView text) {
        return redactor.redacted(text, &scratch);
    };
    if (!commands.isArray())
        return "[]";
    QByteArray list;
    Json::Writer w(&list);
    w.beginArray();
    for (const Json::Value command : commands.items()) {
        const Json::Value name = command.isString() ? command : command["name"];
        if (!name.isString() || name.toUtf8().isEmpty())
            continue;
        w.beginObject().key("name").string(clean(name.toUtf8()));
        if (command["help"].isString())
            w.key("help").string(clean(command["help"].toUtf8()));
        if (command["args"].isString())
            w.key("args").string(clean(command["args"].toUtf8()));
        w.endObject();
    }
    w.endArray();
    return list;
}

} // namespace Handshake
