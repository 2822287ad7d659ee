// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/protocol/json.h"

#include <QByteArray>
#include <functional>
#include <vector>

class AgentRegistry;
class Connection;
class Bridges;
class LaunchedAgents;
class QObject;
struct AgentDefinition;
struct HostConfig;

/*
 * Viewers adding, changing and removing launched agents (define_agent,
 * remove_agent), when the host allows it. A change is saved to the host's
 * configuration file first; when that fails, nothing changes.
 */
class AgentEditor final
{
    Q_DISABLE_COPY_MOVE(AgentEditor)

public:
    /// Forgets an agent everywhere in the engine (its process has stopped).
    using Remove = std::function<void(const QByteArray& id)>;
    /// Finds a connection by serial, if it is still open.
    using FindConnection = std::function<Connection*(quint64 serial)>;

    /// config's agent list is kept up to date; context: the engine's object.
    AgentEditor(HostConfig& config, AgentRegistry& registry, LaunchedAgents& launched, Bridges& bridges,
                QObject* context, Remove remove, FindConnection findConnection);

    void define(Connection* viewer, Json::Value root, QByteArrayView ref);
    void remove(Connection* viewer, Json::Value root, QByteArrayView ref);

private:
    /// Whether the host allows editing and the viewer's token may edit this agent; tells it why not.
    bool allowed(Connection* viewer, QByteArrayView agentId, QByteArrayView ref) const;
    bool save(const std::vector<AgentDefinition>& definitions, QString* error);
    void finishRemoval(const QByteArray& id, const QByteArray& refJson, quint64 serial);

    HostConfig& m_config;
    AgentRegistry& m_registry;
    LaunchedAgents& m_launched;
    Bridges& m_bridges;
    QObject* m_context;
    Remove m_remove;
    FindConnection m_findConnection;
};
