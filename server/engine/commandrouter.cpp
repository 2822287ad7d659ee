// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/engine/commandrouter.h"

#include "server/engine/agentregistry.h"
#include "server/engine/connection.h"
#include "server/engine/hostconfig.h"
#include "server/engine/redactor.h"
#include "server/engine/viewerfeed.h"
#include "server/engine/wire.h"

#include <algorithm>
#include <array>

using namespace Protocol;

CommandRouter::CommandRouter(const HostConfig& config, AgentRegistry& registry, ViewerFeed& feed, Builtins& builtins,
                             const Redactor& redactor)
    : m_config(config)
    , m_registry(registry)
    , m_feed(feed)
    , m_builtins(builtins)
    , m_redactor(redactor)
{ }

CommandRouter::~CommandRouter() = default;

bool CommandRouter::isBuiltin(QByteArrayView name)
{
    static constexpr std::array<QByteArrayView, 6> builtins = {"start", "stop", "restart", "kill", "signal", "stdin"};
    return std::find(builtins.begin(), builtins.end(), name) != builtins.end();
}

void CommandRouter::command(Connection* c, Json::Value root)
{
    const Json::Value id = root["id"];
    if (!(id.isString() && !id.toUtf8().isEmpty()) && !id.isNumber()) {
        c->sendError(ErrorCode::BadMessage, QStringLiteral("a command needs an \"id\""));
        return;
    }
    const QByteArray idJson = id.raw().toByteArray();
    const Json::Value agentValue = root["agent"];
    const Json::Value nameValue = root["name"];
    const Json::Value args = root["args"];
    const QByteArray agentId = agentValue.toUtf8().toByteArray();
    auto reply = [&](QByteArrayView text, QByteArrayView error, QByteArrayView agent) {
        c->send(Wire::result(idJson, agent, false, text, error));
    };
    if (c->commands.contains(idJson)) {
        reply("this command id is still pending", ErrorCode::BadMessage, agentId);
        return;
    }
    if (!agentValue.isString() || !nameValue.isString() || nameValue.toUtf8().isEmpty()
        || (!args.isUndefined() && !args.isNull() && !args.isObject())) {
        reply("a command needs a string \"agent\" and \"name\"; \"args\" must be an object", ErrorCode::BadMessage,
              agentId);
        return;
    }
    if (!c->access || !c->access->mayCommand()) {
        reply(QByteArray("this connection's token (" + (c->access ? c->access->name.toUtf8() : QByteArray("none"))
                         + ") may watch but not send commands or answers"),
              ErrorCode::Forbidden, agentId);
        return;
    }
    if (args.raw().size() > m_config.maxCommandArgsBytes) {
        reply(QByteArray("\"args\" is " + QByteArray::number(args.raw().size()) + " bytes, over the host's limit of "
                         + QByteArray::number(m_config.maxCommandArgsBytes)),
              ErrorCode::BadMessage, agentId);
        return;
    }
    std::vector<Agent*> targets;
    if (agentId == "*") {
        for (const auto& entry : m_registry.all()) {
            if ((entry.second->connection || entry.second->supervisor) && c->sees(entry.first))
                targets.push_back(entry.second.get());
        }
        if (targets.empty()) {
            reply("no agents", ErrorCode::NoAgents, {});
            return;
        }
    } else if (Agent* agent = m_registry.find(agentId); agent && c->sees(agentId)) {
        targets.push_back(agent);
    } else {
        reply("no agent has this id", ErrorCode::UnknownAgent, agentId);
        return;
    }

    auto owned = std::make_unique<PendingCommand>();
    PendingCommand* command = owned.get();
    command->viewer = c;
    command->id = idJson;
    command->deadlineMs = nowMs() + m_config.commandTimeoutMs;
    command->remaining = int(targets.size());
    for (Agent* agent : targets)
        command->targets.push_back({agent->id, {}, false});
    m_commands.emplace(m_nextSerial++, std::move(owned));
    c->commands.insert(command->id, command);

    const QByteArrayView name = nameValue.toUtf8();
    const QByteArray argsJson = args.isObject() ? args.raw().toByteArray() : QByteArray("{}");
    // Each target may finish, and the last one frees the command: ids first.
    std::vector<QByteArray> ids;
    for (Agent* agent : targets)
        ids.push_back(agent->id);
    for (size_t i = 0; i < ids.size(); ++i) {
        if (Agent* agent = m_registry.find(ids[i]))
            dispatch(command, i, *agent, name, args, argsJson);
    }
}

void CommandRouter::dispatch(PendingCommand* command, size_t target, Agent& agent, QByteArrayView name,
                             Json::Value args, const QByteArray& argsJson)
{
    if (isBuiltin(name) && (agent.supervisor || agent.origin == Agent::Origin::Bridged)) {
        runBuiltin(command, target, agent, name, args);
        return;
    }
    if (agent.origin == Agent::Origin::Bridged && !agent.connection) {
        fail(command, target, "the agent is read from another system or a file: it takes start, stop and restart only",
             ErrorCode::NotConnected);
        return;
    }
    if (name == "answer" && !closeAsk(command, target, agent, args))
        return;
    if (!agent.connection) {
        fail(command, target, "the agent is offline", ErrorCode::NotConnected);
        return;
    }
    if (agent.connection->queuedBytes() > m_config.viewerBacklogBytes) {
        fail(command, target, "the agent is not reading what was sent to it; try again later", ErrorCode::RateLimited);
        return;
    }
    const QByteArray hostCommandId = newHostCommandId(command, target);
    QByteArray forward;
    Json::Writer w(&forward);
    w.beginObject().key("type").string("command").key("id").string(hostCommandId).key("name").string(name);
    w.key("args").raw(argsJson).endObject();
    agent.connection->send(forward);
}

bool CommandRouter::closeAsk(PendingCommand* command, size_t target, Agent& agent, Json::Value args)
{
    const QByteArrayView askId = args["ask"].toUtf8();
    const bool open = args["ask"].isString()
        && std::any_of(agent.asks.begin(), agent.asks.end(), [&](const OpenAsk& a) { return a.id == askId; });
    if (!open) {
        fail(command, target, "no open question with this id", {});
        return false;
    }
    if (!agent.connection) {
        fail(command, target, "the agent is offline", ErrorCode::NotConnected);
        return false;
    }
    // Answered: every viewer's question closes, whatever the agent does with the answer.
    const QByteArray closed = AgentRegistry::askClosedEvent(agent.id, askId, args["choice"]);
    m_registry.closeAsk(agent, askId);
    m_feed.broadcast(agent, closed, false);
    return true;
}

void CommandRouter::runBuiltin(PendingCommand* command, size_t target, Agent& agent, QByteArrayView name,
                               Json::Value args)
{
    const QByteArray hostCommandId = newHostCommandId(command, target);
    command->targets[target].builtin = true;
    const QByteArray agentId = agent.id;
    // Late, or never: the command may have timed out, or its viewer gone, by then.
    m_builtins.run(agent, name, args, [this, hostCommandId](bool ok, const QByteArray& text, QByteArrayView error) {
        const auto found = m_byHostId.find(hostCommandId);
        if (found == m_byHostId.end())
            return;
        PendingCommand* pending = found->first;
        const size_t index = found->second;
        finishTarget(pending, index, resultFor(*pending, index, ok, text, error));
    });
}

QByteArray CommandRouter::newHostCommandId(PendingCommand* command, size_t target)
{
    const QByteArray hostCommandId = 'c' + QByteArray::number(m_nextSerial++);
    command->targets[target].hostCommandId = hostCommandId;
    m_byHostId.insert(hostCommandId, {command, target});
    return hostCommandId;
}

void CommandRouter::result(Connection* c, Json::Value root)
{
    const Json::Value id = root["id"];
    if (!id.isString())
        return;
    const auto found = m_byHostId.find(id.toUtf8().toByteArray());
    // A result after its timeout, or for a command this agent never got, has nobody waiting.
    if (found == m_byHostId.end())
        return;
    PendingCommand* command = found->first;
    const size_t target = found->second;
    if (command->targets[target].agentId != c->agent->id)
        return;
    const Json::Value text = root["text"];
    const Json::Value error = root["error"];
    const Json::Value data = root["data"];
    QByteArray extra;
    if (!data.isUndefined())
        extra = ",\"data\":" + data.raw().toByteArray();
    QByteArray textScratch;
    QByteArray errorScratch;
    const QByteArrayView shownText =
        m_redactor.redacted(text.isString() ? text.toUtf8() : QByteArrayView(), &textScratch);
    const QByteArrayView shownError =
        m_redactor.redacted(error.isString() ? error.toUtf8() : QByteArrayView(), &errorScratch);
    finishTarget(command, target, resultFor(*command, target, root["ok"].toBool(false), shownText, shownError, extra));
}

QByteArray CommandRouter::resultFor(const PendingCommand& command, size_t target, bool ok, QByteArrayView text,
                                    QByteArrayView error, QByteArrayView extraRaw) const
{
    return Wire::result(command.id, command.targets[target].agentId, ok, text, error, extraRaw);
}

void CommandRouter::fail(PendingCommand* command, size_t target, QByteArrayView text, QByteArrayView error)
{
    finishTarget(command, target, resultFor(*command, target, false, text, error));
}

void CommandRouter::finishTarget(PendingCommand* command, size_t target, const QByteArray& result)
{
    CommandTarget& t = command->targets[target];
    if (t.done)
        return;
    t.done = true;
    if (!t.hostCommandId.isEmpty())
        m_byHostId.remove(t.hostCommandId);
    if (command->viewer)
        command->viewer->send(result);
    if (--command->remaining <= 0)
        drop(command);
}

void CommandRouter::drop(PendingCommand* command)
{
    for (const CommandTarget& t : command->targets) {
        if (!t.hostCommandId.isEmpty())
            m_byHostId.remove(t.hostCommandId);
    }
    if (command->viewer) {
        const auto it = command->viewer->commands.find(command->id);
        if (it != command->viewer->commands.end() && it.value() == command)
            command->viewer->commands.erase(it);
    }
    for (auto it = m_commands.begin(); it != m_commands.end(); ++it) {
        if (it->second.get() == command) {
            m_commands.erase(it);
            break;
        }
    }
}

void CommandRouter::failCommandsOf(const Agent& agent, QByteArrayView error, QByteArrayView text, bool builtins)
{
    std::vector<std::pair<PendingCommand*, size_t>> affected;
    for (auto& entry : m_commands) {
        PendingCommand* command = entry.second.get();
        for (size_t i = 0; i < command->targets.size(); ++i) {
            const CommandTarget& t = command->targets[i];
            if (!t.done && t.agentId == agent.id && (builtins || !t.builtin))
                affected.emplace_back(command, i);
        }
    }
    // finishTarget may free a command, so every result is built before any is sent.
    std::vector<QByteArray> results;
    for (const auto& [command, i] : affected)
        results.push_back(resultFor(*command, i, false, text, error));
    for (size_t k = 0; k < affected.size(); ++k)
        finishTarget(affected[k].first, affected[k].second, results[k]);
}

void CommandRouter::forgetViewer(Connection* viewer)
{
    const QList<PendingCommand*> pending = viewer->commands.values();
    for (PendingCommand* command : pending)
        drop(command);
}

void CommandRouter::expire(qint64 now)
{
    std::vector<PendingCommand*> expired;
    for (auto& entry : m_commands) {
        if (entry.second->deadlineMs <= now)
            expired.push_back(entry.second.get());
    }
    for (PendingCommand* command : expired) {
        // The last finishTarget() frees the command, so build every result first.
        std::vector<std::pair<size_t, QByteArray>> results;
        for (size_t i = 0; i < command->targets.size(); ++i) {
            if (!command->targets[i].done)
                results.emplace_back(i, resultFor(*command, i, false, "timeout", ErrorCode::Timeout));
        }
        for (const auto& [i, json] : results)
            finishTarget(command, i, json);
    }
}

void CommandRouter::clear()
{
    m_commands.clear();
    m_byHostId.clear();
}
