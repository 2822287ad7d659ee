// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/engine/access.h"
#include "server/protocol/loglevel.h"

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QSet>

struct Agent;

/// What a viewer asked to see: which agents, which lines, and from where.
struct Subscription
{
    bool active = false;
    bool all = false;
    QSet<QByteArray> named;
    QSet<QByteArray> excluded; // unsubscribed after "*"
    QByteArray agentsJson = "[]";
    quint8 levelMask = 0; // bit per LogLevel; 0: every level
    QList<QByteArray> sources; // prefixes; empty: every line
    qint64 history = 1000;
    QHash<QByteArray, std::pair<qint64, qint64>> since;
    /// The agents the viewer's token lets it see; a subscription never reaches past them.
    const AgentScope* scope = nullptr;

    bool covers(const QByteArray& agentId) const
    {
        if (!active || !scope || !scope->covers(agentId))
            return false;
        return all ? !excluded.contains(agentId) : named.contains(agentId);
    }
    bool filtersLines() const { return levelMask != 0 || !sources.isEmpty(); }
    bool accepts(LogLevel level, QByteArrayView source) const
    {
        if (levelMask && !(levelMask & (1u << unsigned(level))))
            return false;
        if (sources.isEmpty())
            return true;
        if (source.isEmpty())
            return false;
        for (const QByteArray& prefix : sources) {
            if (source.startsWith(prefix))
                return true;
        }
        return false;
    }
};

/*
 * What a viewer was told of the agents and their open questions outside the live
 * events: by the snapshot, then by each subscribe. Live events reach only a
 * subscribed viewer, so whatever changed between the snapshot and the subscribe
 * is sent again when the subscribe comes, instead of being missed for good.
 */
struct ViewerBaseline
{
    QHash<QByteArray, size_t> agents; // id -> hash of the agent's JSON as told
    QHash<QByteArray, QSet<QByteArray>> asks; // agent id -> open ask ids as told
};

/// Where a viewer stands in one agent's streams.
struct Cursor
{
    Agent* agent = nullptr;
    qint64 log = 0; // last log number delivered or skipped
    qint64 forum = 0;
    qint64 logTarget = 0; // replay ends here
    qint64 forumTarget = 0;
    quint64 partialSent[2] = {0, 0};
    // The first eviction gap after a subscribe is "evicted", later ones "slow_consumer".
    bool freshLog = true;
    bool freshForum = true;
};
