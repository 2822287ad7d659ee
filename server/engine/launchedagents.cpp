// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/engine/launchedagents.h"

#include "server/engine/access.h"
#include "server/engine/agentregistry.h"
#include "server/engine/hostconfig.h"
#include "server/engine/ingest.h"
#include "server/engine/tokens.h"
#include "server/engine/viewerfeed.h"
#include "server/protocol/agentdefinition.h"

#include <cmath>

using namespace Protocol;

LaunchedAgents::LaunchedAgents(const HostConfig& config, AgentRegistry& registry, ViewerFeed& feed, Ingest& ingest,
                               TokenTable& tokens)
    : m_config(config)
    , m_registry(registry)
    , m_feed(feed)
    , m_ingest(ingest)
    , m_tokens(tokens)
{ }

LaunchedAgents::~LaunchedAgents() = default;

void LaunchedAgents::setEndpoint(const QUrl& url)
{
    m_url = url;
}

QProcessEnvironment LaunchedAgents::childEnvironment(const Agent& agent, const AgentDefinition& definition) const
{
    QProcessEnvironment environment;
    environment.insert(QStringLiteral("AGENTDECK_URL"), m_url.toString());
    environment.insert(QStringLiteral("AGENTDECK_TOKEN"), QString::fromLatin1(agent.ownToken));
    environment.insert(QStringLiteral("AGENTDECK_AGENT_ID"), QString::fromLatin1(definition.id));
    environment.insert(QStringLiteral("AGENTDECK_AGENT_NAME"),
                       definition.name.isEmpty() ? QString::fromLatin1(definition.id) : definition.name);
    return environment;
}

Agent* LaunchedAgents::launch(const AgentDefinition& definition)
{
    bool created = false;
    Agent* agent = m_registry.ensure(definition.id, &created);
    agent->origin = Agent::Origin::Launched;
    agent->removing = false;
    if (!definition.name.isEmpty())
        agent->name = definition.name;
    if (agent->supervisor)
        m_launched.remove(agent->supervisor.get());
    if (!agent->ownAccess) {
        auto access = std::make_shared<Access>();
        access->name = QStringLiteral("agent %1").arg(QString::fromLatin1(definition.id));
        access->role = Access::Role::Agent;
        access->agents = AgentScope::exactly(definition.id);
        // A fresh random token cannot collide with a configured one but by chance: draw again.
        do {
            agent->ownToken = Tokens::generate().toLatin1();
        } while (!m_tokens.add(agent->ownToken, access));
        agent->ownAccess = std::move(access);
    }
    agent->supervisor = std::make_unique<ProcessSupervisor>(definition, this);
    agent->supervisor->setExtraEnvironment(childEnvironment(*agent, definition));
    agent->supervisor->setMaxLineBytes(m_config.maxLineBytes);
    m_launched.insert(agent->supervisor.get(), agent);
    agent->linesAtLastSample = agent->linesAppended;
    if (created)
        m_feed.coverNewAgent(agent);
    m_feed.broadcastAgentEvent(agent->id, m_registry.agentEvent(*agent, created ? "added" : "changed"));
    if (definition.autostart)
        agent->supervisor->start();
    return agent;
}

void LaunchedAgents::redefine(Agent& agent, const AgentDefinition& definition)
{
    agent.supervisor->setDefinition(definition);
    agent.supervisor->setExtraEnvironment(childEnvironment(agent, definition));
    if (!definition.name.isEmpty())
        agent.name = definition.name;
    m_feed.broadcastAgentEvent(agent.id, m_registry.agentEvent(agent, "changed"));
}

void LaunchedAgents::forget(Agent& agent)
{
    if (agent.supervisor)
        m_launched.remove(agent.supervisor.get());
    if (agent.ownAccess) {
        m_tokens.remove(agent.ownAccess);
        agent.ownAccess.reset();
        agent.ownToken.clear();
    }
}

void LaunchedAgents::shutdown()
{
    qint64 wait = 0;
    for (auto it = m_launched.cbegin(); it != m_launched.cend(); ++it) {
        ProcessSupervisor* s = it.value()->supervisor.get();
        if (s->isAlive())
            wait = std::max<qint64>(wait, s->definition().stopwaitsecs * 1000ll);
        // Also for those waiting to restart: no new process after this.
        s->beginShutdown();
    }
    const qint64 deadline = nowMs() + wait;
    for (auto it = m_launched.cbegin(); it != m_launched.cend(); ++it)
        it.value()->supervisor->finishShutdown(deadline);
}

void LaunchedAgents::sample(qint64 ts)
{
    QList<qint64> groups;
    for (auto it = m_launched.cbegin(); it != m_launched.cend(); ++it) {
        if (it.key()->isAlive() && it.key()->pid() > 0)
            groups.append(it.key()->pid());
    }
    const qint64 now = nowMs();
    const double seconds = m_lastSampleMs > 0 ? std::max<qint64>(1, now - m_lastSampleMs) / 1000.0 : 1.0;
    m_lastSampleMs = now;
    const auto usage = m_groupSampler.sample(groups);
    for (auto it = m_launched.cbegin(); it != m_launched.cend(); ++it) {
        const ProcessSupervisor* process = it.key();
        Agent& agent = *it.value();
        // Whatever way they came: the process's output or the agent's own connection.
        const quint64 lines = agent.linesAppended;
        const double linesPerSecond = double(lines - agent.linesAtLastSample) / seconds;
        agent.linesAtLastSample = lines;
        if (!process->isAlive() || process->pid() <= 0)
            continue;
        const ProcessGroupUsage group = usage.value(process->pid());
        QByteArray json;
        Json::Writer w(&json);
        w.beginObject().key("type").string("metrics").key("agent").string(agent.id).key("ts").integer(ts);
        w.key("values").beginObject().key("cpu").number(std::round(group.cpuPercent * 10) / 10);
        w.key("rss_bytes").integer(group.rssBytes).key("lines_per_s").number(std::round(linesPerSecond * 10) / 10);
        w.key("processes").integer(group.processes).endObject().endObject();
        m_feed.broadcast(agent, json, true);
    }
}

// ---------------------------------------------------------------------------
// Built-in commands

void LaunchedAgents::run(Agent& agent, QByteArrayView name, Json::Value args, Done done)
{
    ProcessSupervisor& process = *agent.supervisor;
    // The supervisor's answers carry no error code.
    auto answer = [done](bool ok, const QByteArray& text) {
        done(ok, text, {});
    };
    if (agent.removing) {
        answer(false, "the agent is being removed");
    } else if (name == "start") {
        process.start(answer);
    } else if (name == "stop") {
        process.stop(answer);
    } else if (name == "restart") {
        process.restart(answer);
    } else if (name == "kill") {
        process.kill(answer);
    } else if (name == "signal") {
        const int signal = signalOf(args["signal"]);
        if (signal == 0) {
            done(false, "args.signal must name a signal, such as \"SIGUSR1\"", ErrorCode::BadMessage);
            return;
        }
        QByteArray text;
        const bool ok = process.sendSignal(signal, &text);
        answer(ok, text);
    } else {
        const Json::Value text = args["text"];
        if (!text.isString()) {
            done(false, "args.text must be a string", ErrorCode::BadMessage);
            return;
        }
        QByteArray message;
        const bool ok = process.writeStdin(text.toUtf8(), &message);
        answer(ok, message);
    }
}

int LaunchedAgents::signalOf(Json::Value value)
{
    if (value.isString())
        return parseSignal(value.toUtf8());
    if (value.isInteger())
        return parseSignal(QByteArray::number(value.toInteger()));
    return 0;
}

// ---------------------------------------------------------------------------
// ProcessSupervisor::Listener

void LaunchedAgents::processLine(ProcessSupervisor* supervisor, Stream stream, qint64 ts, QByteArrayView text)
{
    if (Agent* agent = m_launched.value(supervisor))
        m_ingest.capturedLine(*agent, stream, ts, text);
}

void LaunchedAgents::processPartial(ProcessSupervisor* supervisor, Stream stream, qint64 ts, QByteArrayView text)
{
    if (Agent* agent = m_launched.value(supervisor))
        m_ingest.capturedPartial(*agent, stream, ts, text);
}

void LaunchedAgents::processOutputDone(ProcessSupervisor* supervisor)
{
    Q_UNUSED(supervisor);
    m_feed.schedulePump();
}

void LaunchedAgents::processEvent(ProcessSupervisor* supervisor, LogLevel level, const QByteArray& text)
{
    if (Agent* agent = m_launched.value(supervisor))
        m_ingest.hostLine(*agent, level, text);
}

void LaunchedAgents::processStateChanged(ProcessSupervisor* supervisor)
{
    Agent* agent = m_launched.value(supervisor);
    if (!agent)
        return;
    if (supervisor->state() != ProcessSupervisor::State::Running)
        agent->statusJson.clear();
    m_feed.broadcastAgentEvent(agent->id, m_registry.agentEvent(*agent, "changed"));
}
