// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/engine/agenteditor.h"

#include "server/engine/agentregistry.h"
#include "server/engine/bridges.h"
#include "server/engine/connection.h"
#include "server/engine/hostconfig.h"
#include "server/engine/launchedagents.h"
#include "server/engine/wire.h"
#include "server/protocol/agentdefinition.h"

#include <QObject>
#include <algorithm>

using namespace Protocol;

namespace {

void reply(Connection* c, QByteArrayView ref, QByteArrayView agentId, bool ok, QByteArrayView text,
           QByteArrayView error = {})
{
    c->send(Wire::result(ref, agentId, ok, text, error));
}

} // namespace

AgentEditor::AgentEditor(HostConfig& config, AgentRegistry& registry, LaunchedAgents& launched, Bridges& bridges,
                         QObject* context, Remove remove, FindConnection findConnection)
    : m_config(config)
    , m_registry(registry)
    , m_launched(launched)
    , m_bridges(bridges)
    , m_context(context)
    , m_remove(std::move(remove))
    , m_findConnection(std::move(findConnection))
{ }

bool AgentEditor::allowed(Connection* c, QByteArrayView agentId, QByteArrayView ref) const
{
    if (!m_config.allowAgentEditing) {
        c->sendError(ErrorCode::Forbidden, QStringLiteral("this host does not allow editing agents"), ref);
        return false;
    }
    if (!c->access || !c->access->mayEditAgents()) {
        c->sendError(ErrorCode::Forbidden, QStringLiteral("only an admin token may edit agents"), ref);
        return false;
    }
    if (!c->sees(agentId)) {
        c->sendError(ErrorCode::Forbidden,
                     QStringLiteral("this token may not edit agent \"%1\"").arg(QString::fromUtf8(agentId)), ref);
        return false;
    }
    return true;
}

bool AgentEditor::save(const std::vector<AgentDefinition>& definitions, QString* error)
{
    if (!m_config.configPath.isEmpty() && !saveAgents(m_config.configPath, definitions, error))
        return false;
    m_config.agents = definitions;
    return true;
}

void AgentEditor::define(Connection* c, Json::Value root, QByteArrayView ref)
{
    if (!allowed(c, root["agent"]["id"].toUtf8(), ref))
        return;
    AgentDefinition definition;
    QString problem;
    if (!AgentDefinition::fromJson(root["agent"], QStringLiteral("agent."), &definition, &problem)) {
        reply(c, ref, root["agent"]["id"].toUtf8(), false, problem.toUtf8(), ErrorCode::BadMessage);
        return;
    }
    Agent* agent = m_registry.find(definition.id);
    if (agent && agent->removing) {
        reply(c, ref, definition.id, false, "the agent is being removed", ErrorCode::BadMessage);
        return;
    }
    if (agent && !agent->supervisor && agent->connection) {
        reply(c, ref, definition.id, false, "a connected agent has this id; it must disconnect first",
              ErrorCode::BadMessage);
        return;
    }
    const bool followed = agent && m_bridges.isFollowed(*agent);
    if (agent && (agent->origin == Agent::Origin::Bridged) && !followed) {
        reply(c, ref, definition.id, false, "a bridged agent has this id; change the bridge in the configuration",
              ErrorCode::BadMessage);
        return;
    }
    if (agent && ((definition.follow && agent->supervisor) || (!definition.follow && followed))) {
        reply(c, ref, definition.id, false,
              "an agent of another kind (launched or followed file) has this id; remove it first",
              ErrorCode::BadMessage);
        return;
    }
    std::vector<AgentDefinition> definitions = m_config.agents;
    auto slot = std::find_if(definitions.begin(), definitions.end(),
                             [&](const AgentDefinition& d) { return d.id == definition.id; });
    if (slot != definitions.end())
        *slot = definition;
    else
        definitions.push_back(definition);
    if (!save(definitions, &problem)) {
        reply(c, ref, definition.id, false, QByteArray("not saved, nothing changed: " + problem.toUtf8()));
        return;
    }
    if (definition.follow) {
        m_bridges.follow(definition);
        reply(c, ref, definition.id, true, followed ? "changed" : "added and following the file");
        return;
    }
    if (agent && agent->supervisor) {
        const bool running = agent->supervisor->isAlive();
        m_launched.redefine(*agent, definition);
        reply(c, ref, definition.id, true, running ? "changed; takes effect at the next start" : "changed");
        return;
    }
    m_launched.launch(definition);
    reply(c, ref, definition.id, true, definition.autostart ? "added and starting" : "added");
}

void AgentEditor::remove(Connection* c, Json::Value root, QByteArrayView ref)
{
    const Json::Value idValue = root["agent"];
    if (!allowed(c, idValue.toUtf8(), ref))
        return;
    const QByteArray id = idValue.toUtf8().toByteArray();
    if (!idValue.isString()) {
        reply(c, ref, {}, false, "remove_agent needs a string \"agent\"", ErrorCode::BadMessage);
        return;
    }
    Agent* agent = m_registry.find(id);
    if (!agent) {
        reply(c, ref, id, false, "no agent has this id", ErrorCode::UnknownAgent);
        return;
    }
    if (agent->removing) {
        reply(c, ref, id, false, "the agent is already being removed");
        return;
    }
    if (!agent->supervisor && agent->connection) {
        reply(c, ref, id, false, "the agent is connected; only offline or launched agents can be removed");
        return;
    }
    if (agent->origin == Agent::Origin::Bridged && !m_bridges.isFollowed(*agent)) {
        reply(c, ref, id, false, "the agent belongs to a bridge; remove the bridge from the configuration");
        return;
    }
    if (agent->supervisor || m_bridges.isFollowed(*agent)) {
        std::vector<AgentDefinition> definitions = m_config.agents;
        definitions.erase(std::remove_if(definitions.begin(), definitions.end(),
                                         [&](const AgentDefinition& d) { return d.id == id; }),
                          definitions.end());
        QString problem;
        if (!save(definitions, &problem)) {
            reply(c, ref, id, false, QByteArray("not saved, nothing changed: " + problem.toUtf8()));
            return;
        }
    }
    agent->removing = true;
    auto finish = [this, id, refJson = ref.toByteArray(), serial = c->serial] {
        finishRemoval(id, refJson, serial);
    };
    const bool active = agent->supervisor
        && (agent->supervisor->isAlive() || agent->supervisor->state() == ProcessSupervisor::State::Backoff);
    if (active)
        agent->supervisor->stop([finish](bool, const QByteArray&) { finish(); });
    else
        finish();
}

void AgentEditor::finishRemoval(const QByteArray& id, const QByteArray& refJson, quint64 serial)
{
    // Later, so that the supervisor is not on the stack when it goes.
    QMetaObject::invokeMethod(
        m_context,
        [this, id, refJson, serial] {
            m_remove(id);
            if (Connection* c = m_findConnection(serial))
                reply(c, refJson, id, true, "removed");
        },
        Qt::QueuedConnection);
}
