// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/engine/handshake.h"

#include "server/engine/tokens.h"
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

Outcome check(Json::Value hello, const QByteArray& transportToken, const Secrets& secrets)
{
    const Json::Value roleValue = hello["role"];
    const bool isAgent = roleValue.isString() && roleValue.toUtf8() == "agent";
    const bool isViewer = roleValue.isString() && roleValue.toUtf8() == "viewer";

    const Json::Value tokenValue = hello["token"];
    const QByteArray given = tokenValue.isString() ? tokenValue.toUtf8().toByteArray() : transportToken;
    const bool matchesAgent = Tokens::equal(given, secrets.agent);
    const bool matchesViewer = Tokens::equal(given, secrets.viewer);
    const bool authorized = isAgent ? matchesAgent : isViewer ? matchesViewer : (matchesAgent || matchesViewer);
    if (!authorized) {
        return refuse(ErrorCode::Unauthorized,
                      given.isEmpty() ? QStringLiteral("a token is required") : QStringLiteral("wrong token"),
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
    outcome.role = Connection::Role::Agent;
    outcome.agentId = idValue.toUtf8().toByteArray();
    return outcome;
}

QByteArray commandsJson(Json::Value commands)
{
    if (!commands.isArray())
        return "[]";
    QByteArray list;
    Json::Writer w(&list);
    w.beginArray();
    for (const Json::Value command : commands.items()) {
        const Json::Value name = command.isString() ? command : command["name"];
        if (!name.isString() || name.toUtf8().isEmpty())
            continue;
        w.beginObject().key("name").string(name.toUtf8());
        if (command["help"].isString())
            w.key("help").string(command["help"].toUtf8());
        if (command["args"].isString())
            w.key("args").string(command["args"].toUtf8());
        w.endObject();
    }
    w.endArray();
    return list;
}

} // namespace Handshake
