// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/engine/access.h"
#include "server/engine/connection.h"
#include "server/protocol/json.h"

#include <QByteArray>

class Redactor;
#include <QString>

/*
 * The first message of every connection: who the peer is (agent or viewer),
 * whether its token is right, whether it speaks our protocol. Only the checks;
 * what a welcomed peer gets is the engine's business.
 */
namespace Handshake {

/// What a hello earns: a role, or an error and a close.
struct Outcome
{
    Connection::Role role = Connection::Role::None;
    AccessPtr access; // of the token presented
    QByteArray agentId; // for an agent
    // When refused:
    QByteArrayView errorCode;
    QString errorText;
    quint16 closeCode = 0;
    QString closeReason;
};

/// Checks a hello; transportToken is the token given outside it (URL, header), used
/// when the hello has none. The token must grant the role asked for (else
/// unauthorized), and an agent token must cover the id claimed (else forbidden).
Outcome check(Json::Value hello, const QByteArray& transportToken, const TokenTable& tokens);

/// An agent's advertised commands ("commands" of its hello) as the host shows them,
/// their texts redacted.
QByteArray commandsJson(Json::Value commands, const Redactor& redactor);

} // namespace Handshake
