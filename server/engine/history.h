// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/protocol/json.h"

class AgentRegistry;
class Connection;

/*
 * A viewer's `history` request: older console lines or forum messages of one
 * agent, from its log files (or from memory when the host keeps none), a page
 * at a time, with the gaps among them.
 */
class History final
{
    Q_DISABLE_COPY_MOVE(History)

public:
    /// A viewer with more than backlogBytes unread gets no more replies until it reads them.
    History(const AgentRegistry& registry, qint64 backlogBytes);

    void request(Connection* viewer, Json::Value root, QByteArrayView ref);

private:
    const AgentRegistry& m_registry;
    qint64 m_backlogBytes;
};
