// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/engine/agentregistry.h"

#include "server/engine/access.h"
#include "server/engine/hostconfig.h"
#include "server/engine/redactor.h"
#include "server/engine/wire.h"
#include "server/protocol/agentdefinition.h"
#include "server/protocol/json.h"

#include <QDir>
#include <QFile>
#include <algorithm>
#include <optional>

using namespace Protocol;

namespace {

/// Lines restored from an agent's log file into memory when the host starts.
constexpr int RestoredLines = 1000;

QByteArrayView originName(Agent::Origin origin)
{
    switch (origin) {
    case Agent::Origin::Launched:
        return "launched";
    case Agent::Origin::Bridged:
        return "bridged";
    case Agent::Origin::Connected:
        break;
    }
    return "connected";
}

} // namespace

void Agent::flushFiles()
{
    if (file)
        file->flush();
    if (forumFile)
        forumFile->flush();
}

void Agent::disconnected()
{
    connection = nullptr;
    lastSeenMs = nowMs();
    if (supervisor) {
        // The process goes on; what its connection reported does not.
        statusJson.clear();
        commandsJson = "[]";
    } else {
        for (PartialLine& p : partial)
            p.present = false;
    }
}

// ---------------------------------------------------------------------------

AgentRegistry::AgentRegistry(const HostConfig& config, const Redactor& redactor, Warn warn)
    : m_config(config)
    , m_redactor(redactor)
    , m_warn(std::move(warn))
    , m_fileHandles(config.maxOpenLogFiles)
{ }

AgentRegistry::~AgentRegistry() = default;

Agent* AgentRegistry::find(QByteArrayView id) const
{
    const auto it = m_agents.find(id.toByteArray());
    return it == m_agents.end() ? nullptr : it->second.get();
}

Agent* AgentRegistry::ensure(const QByteArray& id, bool* created)
{
    auto it = m_agents.find(id);
    *created = it == m_agents.end();
    if (!*created)
        return it->second.get();
    auto agent = std::make_unique<Agent>();
    agent->id = id;
    agent->lastSeenMs = nowMs();
    agent->name = QString::fromLatin1(id);
    agent->log.setLimits(m_config.logRetentionLines, m_config.logRetentionBytes, m_config.maxGapsPerAgent);
    agent->forum.setLimits(m_config.forumRetentionMessages, m_config.forumRetentionBytes, m_config.maxGapsPerAgent);
    Agent* raw = agent.get();
    m_agents.emplace(id, std::move(agent));
    openFiles(raw);
    return raw;
}

void AgentRegistry::erase(const QByteArray& id)
{
    const auto it = m_agents.find(id);
    if (it == m_agents.end())
        return;
    it->second->flushFiles();
    m_openAsks -= int(it->second->asks.size());
    m_agents.erase(it);
}

const Agent* AgentRegistry::longestOffline() const
{
    const Agent* oldest = nullptr;
    for (const auto& entry : m_agents) {
        const Agent* a = entry.second.get();
        if (a->connection || a->supervisor || a->origin != Agent::Origin::Connected)
            continue;
        if (!oldest || a->lastSeenMs < oldest->lastSeenMs)
            oldest = a;
    }
    return oldest;
}

void AgentRegistry::clear()
{
    flushFiles();
    m_agents.clear();
    m_openAsks = 0;
}

AgentRegistry::AskOutcome AgentRegistry::openAsk(Agent& agent, const QByteArray& id, const QByteArray& json)
{
    const auto existing =
        std::find_if(agent.asks.begin(), agent.asks.end(), [&](const OpenAsk& a) { return a.id == id; });
    if (existing != agent.asks.end()) {
        existing->json = json;
        return AskOutcome::Replaced;
    }
    if (qsizetype(agent.asks.size()) >= m_config.maxAsksPerAgent)
        return AskOutcome::OverAgentLimit;
    if (m_openAsks >= m_config.maxAsks)
        return AskOutcome::OverTotalLimit;
    agent.asks.push_back({id, json});
    ++m_openAsks;
    return AskOutcome::Opened;
}

bool AgentRegistry::closeAsk(Agent& agent, QByteArrayView id)
{
    const auto ask = std::find_if(agent.asks.begin(), agent.asks.end(), [&](const OpenAsk& a) { return a.id == id; });
    if (ask == agent.asks.end())
        return false;
    agent.asks.erase(ask);
    --m_openAsks;
    return true;
}

void AgentRegistry::appendLine(Agent& agent, qint64 seq, qint64 ts, Stream stream, LogLevel level,
                               QByteArrayView source, QByteArrayView text)
{
    agent.log.append(seq, ts, stream, level, source, text);
    if (agent.file)
        agent.file->appendLine(seq, ts, stream, level, source, text);
    ++agent.linesAppended;
    ++m_linesIngested;
}

void AgentRegistry::addLogGap(Agent& agent, qint64 from, qint64 to, GapReason reason)
{
    agent.log.addGap(from, to, reason);
    if (agent.file)
        agent.file->appendGap(from, to, reason);
}

int AgentRegistry::connectedCount() const
{
    return int(std::count_if(m_agents.begin(), m_agents.end(),
                             [](const auto& entry) { return entry.second->connection != nullptr; }));
}

void AgentRegistry::flushFiles()
{
    for (auto& entry : m_agents)
        entry.second->flushFiles();
}

QByteArray AgentRegistry::loadOrCreateHostId(const QByteArray& fresh) const
{
    if (m_config.logDirectory.isEmpty())
        return fresh;
    QFile file(QDir(m_config.logDirectory).filePath(QStringLiteral("host-id")));
    if (file.open(QIODevice::ReadOnly)) {
        const QByteArray id = file.readAll().trimmed();
        if (id.size() == 16 && QByteArray::fromHex(id).size() == 8)
            return id;
        file.close();
    }
    LogFile::makeDirectory(m_config.logDirectory, m_config.logFileMode);
    if (file.open(QIODevice::WriteOnly | QIODevice::Truncate))
        file.write(fresh + '\n');
    return fresh;
}

// ---------------------------------------------------------------------------
// Log files

void AgentRegistry::openFiles(Agent* agent)
{
    if (m_config.logDirectory.isEmpty())
        return;
    // Numbering goes on where each file ends, and the newest items are back in memory.
    agent->file = openFile(*agent, LogFile::Kind::Console, std::min<qint64>(RestoredLines, m_config.logRetentionLines),
                           agent->log, [agent](const StoredLine& line) {
                               agent->log.append(line.seq, line.ts, line.stream, line.level, line.source, line.text);
                           });
    agent->forumFile =
        openFile(*agent, LogFile::Kind::Forum, std::min<qint64>(m_config.forumRetentionMessages, LogFile::MaxReadLimit),
                 agent->forum, [agent](const StoredLine& message) {
                     const std::optional<QByteArrayView> source =
                         message.source.isEmpty() ? std::nullopt : std::optional<QByteArrayView>(message.source);
                     agent->forum.append(message.seq,
                                         Wire::forumMessage(message.seq, message.ts, message.sender, message.role,
                                                            source, message.text));
                 });
}

template <typename Store, typename Restore>
std::unique_ptr<LogFile> AgentRegistry::openFile(const Agent& agent, LogFile::Kind kind, qint64 restore, Store& store,
                                                 Restore&& append)
{
    auto file = std::make_unique<LogFile>(LogFile::pathFor(m_config.logDirectory, agent.id, kind),
                                          m_config.logFileMaxBytes, m_config.logFileBackups, kind);
    file->setFileMode(m_config.logFileMode);
    file->setHandleBudget(&m_fileHandles);
    QString error;
    if (!file->open(&error)) {
        m_warn(QStringLiteral("no %1 file for agent %2: %3")
                   .arg(kind == LogFile::Kind::Console ? QStringLiteral("log") : QStringLiteral("forum"),
                        QString::fromLatin1(agent.id), error));
        return {};
    }
    const qint64 last = file->lastSeq();
    if (last <= 0)
        return file;
    std::vector<StoredLine> items;
    std::vector<SeqGap> gaps;
    bool more = false;
    if (!file->readBefore(0, int(restore), &items, &gaps, &more, &error))
        m_warn(QStringLiteral("cannot read back %1: %2").arg(file->path(), error));
    auto gapReason = [&](qint64 seq) {
        for (const SeqGap& gap : gaps) {
            if (gap.from <= seq && seq <= gap.to)
                return gap.reason;
        }
        return GapReason::Evicted;
    };
    for (const StoredLine& item : items) {
        if (item.seq > store.lastSeq() + 1)
            store.addGap(store.lastSeq() + 1, item.seq - 1, gapReason(item.seq - 1));
        append(item);
    }
    if (last > store.lastSeq())
        store.addGap(store.lastSeq() + 1, last, gapReason(last));
    return file;
}

// ---------------------------------------------------------------------------
// What viewers see

QByteArray AgentRegistry::agentJson(const Agent& agent) const
{
    QByteArray json;
    Json::Writer w(&json);
    w.beginObject().key("id").string(agent.id).key("name").string(agent.name);
    w.key("origin").string(originName(agent.origin));
    const ProcessSupervisor* process = agent.supervisor.get();
    if (process) {
        // A launched bot that also connected reports its own state while it runs.
        const bool reported =
            agent.connection && !agent.statusJson.isEmpty() && process->state() == ProcessSupervisor::State::Running;
        w.key("state").string(reported ? QByteArrayView(agent.state) : process->protocolState());
        if (process->pid() > 0)
            w.key("pid").integer(process->pid());
        if (process->startedAt() > 0)
            w.key("started_at").integer(process->startedAt());
        w.key("restarts").integer(process->restarts());
    } else {
        w.key("state").string(agent.connection || agent.origin != Agent::Origin::Connected ? QByteArrayView(agent.state)
                                                                                           : QByteArrayView("offline"));
        if (agent.pid > 0)
            w.key("pid").integer(agent.pid);
        if (agent.startedAt > 0)
            w.key("started_at").integer(agent.startedAt);
        w.key("restarts").integer(agent.restarts);
    }
    w.key("commands").raw(agent.commandsJson);
    if (!agent.statusJson.isEmpty())
        w.key("status").raw(agent.statusJson);
    w.key("last_seq").beginObject().key("log").integer(agent.log.lastSeq());
    w.key("forum").integer(agent.forum.lastSeq()).endObject();
    if (process) {
        w.key("connected").boolean(agent.connection != nullptr);
        w.key("process").beginObject().key("state").string(ProcessSupervisor::stateName(process->state()));
        if (process->hasExited()) {
            if (process->lastExitSignal())
                w.key("exit_signal").string(signalName(process->lastExitSignal()));
            else
                w.key("exit_code").integer(process->lastExitCode());
        }
        if (process->nextStartAt() > 0)
            w.key("next_start_at").integer(process->nextStartAt());
        w.endObject();
        w.key("definition").raw(publicDefinition(process->definition()));
    }
    if (agent.file)
        w.key("log_file").string(agent.file->path());
    w.endObject();
    return json;
}

QByteArray AgentRegistry::publicDefinition(const AgentDefinition& definition) const
{
    // Environment values often hold keys: those of secret-sounding names are not shown,
    // the others pass the redactor like console text.
    AgentDefinition shown = definition;
    static const char* const secretWords[] = {"KEY", "TOKEN", "SECRET", "PASS", "AUTH", "CREDENTIAL", "PRIVATE"};
    QByteArray redacted;
    for (auto& [name, value] : shown.env) {
        const QString upper = name.toUpper();
        const bool secret = std::any_of(std::begin(secretWords), std::end(secretWords),
                                        [&](const char* word) { return upper.contains(QLatin1String(word)); });
        const QByteArray utf8 = value.toUtf8();
        if (secret)
            value = QStringLiteral("[REDACTED]");
        else if (m_redactor.redact(utf8, &redacted))
            value = QString::fromUtf8(redacted);
    }
    m_redactor.redactArguments(&shown.args, shown.command);
    return shown.toJson();
}

QByteArray AgentRegistry::agentEvent(const Agent& agent, QByteArrayView event) const
{
    return "{\"type\":\"agent\",\"event\":\"" + event.toByteArray() + "\",\"agent\":" + agentJson(agent) + '}';
}

QByteArray AgentRegistry::removedEvent(QByteArrayView id)
{
    QByteArray json;
    Json::Writer w(&json);
    w.beginObject().key("type").string("agent").key("event").string("removed");
    w.key("agent").beginObject().key("id").string(id).endObject().endObject();
    return json;
}

QByteArray AgentRegistry::askClosedEvent(QByteArrayView agent, QByteArrayView askId, Json::Value choice)
{
    QByteArray json;
    Json::Writer w(&json);
    w.beginObject().key("type").string("ask_closed").key("agent").string(agent).key("id").string(askId);
    w.key("choice");
    if (choice.isUndefined())
        w.null();
    else
        w.raw(choice.raw());
    w.endObject();
    return json;
}

QByteArray AgentRegistry::snapshotJson(const QByteArray& hostJson, const AgentScope& scope) const
{
    QByteArray json;
    Json::Writer w(&json);
    w.beginObject().key("type").string("snapshot").key("host").raw(hostJson);
    w.key("agents").beginArray();
    for (const auto& entry : m_agents) {
        if (scope.covers(entry.first))
            w.raw(agentJson(*entry.second));
    }
    w.endArray().key("asks").beginArray();
    for (const auto& entry : m_agents) {
        if (!scope.covers(entry.first))
            continue;
        for (const OpenAsk& ask : entry.second->asks)
            w.raw(ask.json);
    }
    w.endArray().endObject();
    return json;
}
