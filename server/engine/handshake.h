// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/engine/connection.h"
#include "server/protocol/json.h"

#include <QByteArray>
#include <QString>

/*
 * The first message of every connection: who the peer is (agent or viewer),
 * whether its token is right, whether it speaks our protocol. Only the checks;
 * what a welcomed peer gets is the engine's business.
 */
namespace Handshake {

/// The secrets agents and viewers prove they know.
struct Secrets
{
    QByteArray agent;
    QByteArray viewer;
};

/// What a hello earns: a role, or an error and a close.
struct Outcome
{
    Connection::Role role = Connection::Role::None;
    QByteArray agentId; // for an agent
    // When refused:
    QByteArrayView errorCode;
    QString errorText;
    quint16 closeCode = 0;
    QString closeReason;
};

/// Checks a hello; transportToken is the token given outside it (URL, header), used
/// when the hello has none. Both secrets are compared every time, so timing tells
/// nothing about the role.
Outcome check(Json::Value hello, const QByteArray& transportToken, const Secrets& secrets);

/// An agent's advertised commands ("commands" of its hello) as the host shows them.
QByteArray commandsJson(Json::Value commands);

} // namespace Handshake
