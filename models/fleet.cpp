// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/fleet.h"

#include "models/agenttreemodel.h"
#include "models/askmodel.h"
#include "models/commandmodel.h"
#include "models/consolemodel.h"
#include "models/forummodel.h"
#include "models/metricshistory.h"
#include "server/link/hostlink.h"
#include "server/protocol/json.h"
#include "server/protocol/threads.h"

#include <QTimer>

using Link::Event;

struct Fleet::Host
{
    QString key;
    Link::HostInfo info; // as its last snapshot told
    std::unique_ptr<HostLink> link;
    std::map<QString, std::unique_ptr<ConsoleModel>> consoles;
};

Fleet::Fleet(QObject* parent)
    : QObject(parent)
    , m_tree(std::make_unique<AgentTreeModel>())
    , m_forum(std::make_unique<ForumModel>())
    , m_metrics(std::make_unique<MetricsHistory>())
    , m_asks(std::make_unique<AskModel>())
    , m_commands(std::make_unique<CommandModel>())
    , m_all(std::make_unique<ConsoleModel>())
{
    m_all->setMerged(true);
}

Fleet::~Fleet()
{
    // Links first: their workers may still be handing over events.
    for (auto& entry : m_hosts)
        entry.second->link.reset();
}

QString Fleet::addHost(HostLink* link)
{
    AGENTDECK_CHECK_THREAD(this);
    const QString key = link->isLocal() ? QStringLiteral("local") : QStringLiteral("host-%1").arg(m_nextHost++);
    auto host = std::make_unique<Host>();
    host->key = key;
    host->link.reset(link);
    link->setParent(nullptr);
    connect(link, &HostLink::eventsReady, this, [this, key] { onEventsReady(key); });
    connect(link, &HostLink::statusChanged, this, [this, key] { onStatusChanged(key); });
    m_tree->addHost(key, link->displayName());
    m_hosts.emplace(key, std::move(host));
    link->open();
    onStatusChanged(key);
    return key;
}

QString Fleet::addRemoteHost(const RemoteLink::Settings& settings)
{
    AGENTDECK_CHECK_THREAD(this);
    return addHost(new RemoteLink(settings));
}

bool Fleet::changeRemoteHost(const QString& hostKey, const RemoteLink::Settings& settings)
{
    AGENTDECK_CHECK_THREAD(this);
    auto* remote = qobject_cast<RemoteLink*>(link(hostKey));
    if (!remote)
        return false;
    remote->setSettings(settings);
    return true;
}

void Fleet::reconnectNow(const QString& hostKey)
{
    AGENTDECK_CHECK_THREAD(this);
    if (auto* remote = qobject_cast<RemoteLink*>(link(hostKey)))
        remote->reconnectNow();
}

void Fleet::removeHost(const QString& hostKey)
{
    AGENTDECK_CHECK_THREAD(this);
    const auto it = m_hosts.find(hostKey);
    if (it == m_hosts.end())
        return;
    it->second->link->close();
    m_pending.erase(std::remove_if(m_pending.begin(), m_pending.end(),
                                   [&](const std::pair<QString, Event>& entry) { return entry.first == hostKey; }),
                    m_pending.end());
    m_tree->removeHost(hostKey);
    m_hosts.erase(it);
}

QStringList Fleet::hostKeys() const
{
    QStringList keys;
    for (const auto& entry : m_hosts)
        keys.append(entry.first);
    return keys;
}

HostLink* Fleet::link(const QString& hostKey) const
{
    const auto it = m_hosts.find(hostKey);
    return it == m_hosts.end() ? nullptr : it->second->link.get();
}

ConsoleModel* Fleet::console(const QString& hostKey, const QString& agentId)
{
    AGENTDECK_CHECK_THREAD(this);
    const auto it = m_hosts.find(hostKey);
    if (it == m_hosts.end())
        return nullptr;
    auto& consoles = it->second->consoles;
    auto found = consoles.find(agentId);
    if (found != consoles.end())
        return found->second.get();
    auto console = std::make_unique<ConsoleModel>();
    console->setMaxLines(m_consoleLines);
    console->setMaxBytes(m_consoleBytes);
    ConsoleModel* result = console.get();
    consoles.emplace(agentId, std::move(console));
    Q_EMIT consoleAdded(hostKey, agentId);
    return result;
}

bool Fleet::hasConsole(const QString& hostKey, const QString& agentId) const
{
    const auto it = m_hosts.find(hostKey);
    return it != m_hosts.end() && it->second->consoles.count(agentId);
}

void Fleet::setConsoleLimits(qint64 lines, qint64 bytes)
{
    AGENTDECK_CHECK_THREAD(this);
    m_consoleLines = lines;
    m_consoleBytes = bytes;
}

namespace {

/// A command as a person would type it again.
QString commandText(const QString& name, const QByteArray& args)
{
    if (name == QLatin1String("stdin")) {
        Json::Document doc;
        return doc.parse(args) ? doc.root()["text"].toString() : QString();
    }
    return args == "{}" ? name : QString(name + QLatin1Char(' ') + QString::fromUtf8(args));
}

} // namespace

QString Fleet::sendCommand(const QString& hostKey, const QString& agent, const QString& name,
                           const QByteArray& argsJson, const QString& markText)
{
    AGENTDECK_CHECK_THREAD(this);
    const QByteArray args = argsJson.isEmpty() ? QByteArray("{}") : argsJson;
    const QString id = sendRequest(hostKey, agent, name, args);
    if (id.isEmpty())
        return id;
    const QString text = markText.isEmpty() ? commandText(name, args) : markText;
    if (name == QLatin1String("stdin"))
        m_stdinCommands.insert(id);
    Host& host = *m_hosts.at(hostKey);
    if (agent == QLatin1String("*")) {
        for (auto& entry : host.consoles)
            entry.second->appendMark(id, text);
    } else {
        console(hostKey, agent)->appendMark(id, text);
    }
    return id;
}

QString Fleet::defineAgent(const QString& hostKey, const QString& agentId, const QByteArray& definitionJson)
{
    return sendRequest(hostKey, agentId, QLatin1String(LinkSession::DefineAgentRequest), definitionJson);
}

QString Fleet::removeAgent(const QString& hostKey, const QString& agentId)
{
    return sendRequest(hostKey, agentId, QLatin1String(LinkSession::RemoveAgentRequest), {});
}

QString Fleet::sendRequest(const QString& hostKey, const QString& agentId, const QString& name,
                           const QByteArray& argsJson)
{
    AGENTDECK_CHECK_THREAD(this);
    HostLink* hostLink = link(hostKey);
    if (!hostLink)
        return {};
    const QString id = hostLink->sendCommand(agentId, name, argsJson);
    m_commands->addCommand(hostKey, id, agentId, name, argsJson.isEmpty() ? QByteArray("{}") : argsJson);
    return id;
}

bool Fleet::loadOlderLines(const QString& hostKey, const QString& agentId)
{
    AGENTDECK_CHECK_THREAD(this);
    if (!hasConsole(hostKey, agentId))
        return false;
    ConsoleModel* model = console(hostKey, agentId);
    if (model->historyState() == ConsoleModel::HistoryState::Loading
        || model->historyState() == ConsoleModel::HistoryState::Complete)
        return false;
    // A gap at the top that the host may still have is what comes before the first line.
    if (model->rowCount() > 0 && model->isLoadableGap(0))
        return loadGap(hostKey, agentId, 0);
    const qint64 before = model->firstLineSeq();
    if (before == 1) {
        model->setHistoryLoading();
        model->prependHistory({}, {}, false, 1);
        return false;
    }
    // No more than the console has room for while the reader reads history.
    const qint64 room = std::min<qint64>(HistoryPage, 2 * model->maxLines() - model->rowCount());
    if (room <= 0) {
        model->setHistoryLoading();
        model->prependHistory({}, {}, true, before); // says how much the console holds
        return false;
    }
    QByteArray args;
    Json::Writer w(&args);
    w.beginObject().key("kind").string("log").key("limit").integer(room);
    if (before > 0)
        w.key("before").integer(before);
    w.endObject();
    const QString id = link(hostKey)->sendCommand(agentId, QLatin1String(LinkSession::HistoryRequest), args);
    m_historyRequests.insert({hostKey, id}, {hostKey, agentId, 0, before});
    model->setHistoryLoading();
    return true;
}

bool Fleet::loadGap(const QString& hostKey, const QString& agentId, int row)
{
    AGENTDECK_CHECK_THREAD(this);
    if (!hasConsole(hostKey, agentId))
        return false;
    ConsoleModel* model = console(hostKey, agentId);
    if (!model->isLoadableGap(row))
        return false;
    const QModelIndex index = model->index(row, 0);
    const qint64 from = index.data(ConsoleModel::GapFromRole).toLongLong();
    const qint64 to = index.data(ConsoleModel::GapToRole).toLongLong();
    for (const HistoryRequest& pending : std::as_const(m_historyRequests)) {
        if (pending.hostKey == hostKey && pending.agent == agentId && pending.gapFrom == from)
            return false; // on its way
    }
    QByteArray args;
    Json::Writer w(&args);
    w.beginObject().key("kind").string("log").key("before").integer(to + 1);
    w.key("limit").integer(std::min<qint64>(to - from + 1, HistoryPage)).endObject();
    const QString id = link(hostKey)->sendCommand(agentId, QLatin1String(LinkSession::HistoryRequest), args);
    m_historyRequests.insert({hostKey, id}, {hostKey, agentId, from, to + 1});
    return true;
}

void Fleet::applyHistory(const Host& host, const Link::Event& event)
{
    const HistoryRequest request = m_historyRequests.take({host.key, event.id});
    if (request.agent.isEmpty() || !hasConsole(host.key, request.agent))
        return;
    ConsoleModel* model = console(host.key, request.agent);
    if (request.gapFrom <= 0) {
        model->prependHistory(event.lines, event.gaps, event.more, request.before);
        return;
    }
    // Found by its numbers: filling another gap moves the rows after it.
    const qint64 gapIndex = model->gapRowNumbered(request.gapFrom);
    if (gapIndex < 0 || !model->fillGap(gapIndex, event.lines, event.gaps))
        Q_EMIT historyFailed(host.key, request.agent, tr("the gap is no longer in the console"));
}

void Fleet::failHistory(const QString& hostKey, const QString& id, const QString& reason)
{
    const HistoryRequest request = m_historyRequests.take({hostKey, id});
    if (request.agent.isEmpty() || !hasConsole(request.hostKey, request.agent))
        return;
    if (request.gapFrom <= 0)
        console(request.hostKey, request.agent)->setHistoryFailed(reason);
    else
        Q_EMIT historyFailed(request.hostKey, request.agent, reason);
}

QString Fleet::readOnlyReason(const QString& hostKey) const
{
    const auto it = m_hosts.find(hostKey);
    if (it == m_hosts.end() || it->second->info.mayCommand)
        return {};
    const QString token = it->second->info.tokenName;
    return token.isEmpty() ? tr("Read-only token: no commands") : tr("Read-only token “%1”: no commands").arg(token);
}

QString Fleet::answerAsk(const QString& hostKey, const QString& agent, const QString& askId, const QString& choice)
{
    AGENTDECK_CHECK_THREAD(this);
    // The console says it in words: which answer to which question.
    const int row = m_asks->rowOf(hostKey, agent, askId);
    const QString question = row >= 0 ? m_asks->index(row, 0).data(AskModel::TextRole).toString() : askId;
    return sendCommand(hostKey, agent, QStringLiteral("answer"), HostLink::answerArgs(askId, choice),
                       tr("answered “%1” to “%2”").arg(choice, question));
}

void Fleet::onEventsReady(const QString& hostKey)
{
    AGENTDECK_CHECK_THREAD(this);
    HostLink* hostLink = link(hostKey);
    if (!hostLink)
        return;
    QList<Event> events = hostLink->takeEvents();
    for (Event& event : events)
        m_pending.emplace_back(hostKey, std::move(event));
    runSlice(SliceMs);
}

void Fleet::onStatusChanged(const QString& hostKey)
{
    AGENTDECK_CHECK_THREAD(this);
    HostLink* hostLink = link(hostKey);
    if (!hostLink)
        return;
    const HostLink::Status status = hostLink->status();
    AgentTreeModel::HostState state = AgentTreeModel::HostState::Connecting;
    if (status.state == HostLink::State::Online)
        state = AgentTreeModel::HostState::Online;
    else if (status.state == HostLink::State::Offline)
        state = AgentTreeModel::HostState::Offline;
    // Idle: opened and not started yet, which the user sees as connecting.
    m_tree->setHostState(hostKey, state, status.reason, status.nextAttemptAt);
    Q_EMIT hostStatusChanged(hostKey);
}

void Fleet::processAll()
{
    for (auto& entry : m_hosts) {
        QList<Event> events = entry.second->link->takeEvents();
        for (Event& event : events)
            m_pending.emplace_back(entry.first, std::move(event));
    }
    runSlice(-1);
}

void Fleet::scheduleSlice()
{
    if (m_sliceQueued)
        return;
    m_sliceQueued = true;
    QTimer::singleShot(0, this, [this] {
        m_sliceQueued = false;
        runSlice(SliceMs);
    });
}

void Fleet::runSlice(qint64 budgetMs)
{
    QElapsedTimer clock;
    clock.start();
    while (!m_pending.empty()) {
        auto [key, event] = std::move(m_pending.front());
        m_pending.pop_front();
        const auto it = m_hosts.find(key);
        if (it != m_hosts.end())
            apply(*it->second, event);
        if (budgetMs >= 0 && clock.elapsed() >= budgetMs && !m_pending.empty()) {
            scheduleSlice();
            return;
        }
    }
}

QString Fleet::agentLabel(const Host& host, const QString& agentId) const
{
    // Agents of the embedded host go by their id; others say where they run.
    if (host.link->isLocal())
        return agentId;
    return agentId + QLatin1Char('@') + host.link->displayName();
}

void Fleet::apply(Host& host, const Event& event)
{
    const QString& key = host.key;
    switch (event.type) {
    case Event::Type::Log: {
        m_tree->applyEvent(key, event);
        for (const Link::ConsoleLine& line : event.lines)
            m_linesApplied += line.partial ? 0 : 1;
        console(key, event.agent)->appendLines(event.lines);
        m_all->appendLines(agentLabel(host, event.agent), event.lines);
        Q_EMIT eventApplied(key, event);
        return;
    }
    case Event::Type::Gap:
        if (event.kind == QLatin1String("log")) {
            console(key, event.agent)->appendGap(event.from, event.to, event.reason);
            return;
        }
        break;
    case Event::Type::Renumbered:
        if (event.kind == QLatin1String("log")) {
            console(key, event.agent)->renumber(event.from, event.to, event.resumeAfter);
            m_all->renumber(event.from, event.to, event.resumeAfter, agentLabel(host, event.agent));
            return;
        }
        break;
    case Event::Type::Snapshot:
        host.info = event.host;
        for (const Link::AgentInfo& agent : event.agents)
            console(key, agent.id);
        if (event.hostChanged) {
            // Another history: its numbers start over in every console of this host.
            for (auto& entry : host.consoles) {
                entry.second->resetSequence();
                m_all->resetSequence(agentLabel(host, entry.first));
            }
        }
        break;
    case Event::Type::AgentAdded:
        console(key, event.agent);
        break;
    case Event::Type::History:
        applyHistory(host, event);
        return;
    case Event::Type::Error:
        if (m_historyRequests.contains({key, event.id})) {
            failHistory(key, event.id, event.text);
            return;
        }
        break;
    case Event::Type::Result: {
        if (m_historyRequests.contains({key, event.id})) {
            // The request never reached the host, or its connection ended first.
            failHistory(key, event.id, event.text);
            return;
        }
        const bool toStdin = m_stdinCommands.remove(event.id);
        QString text = event.ok ? event.text
                                : (event.error.isEmpty() ? event.text : event.error + QLatin1String(": ") + event.text);
        ConsoleModel::MarkState state = event.ok      ? ConsoleModel::MarkOk
            : event.error == QLatin1String("timeout") ? ConsoleModel::MarkTimeout
                                                      : ConsoleModel::MarkFailed;
        if (toStdin && event.ok) {
            // Written to the program's input; whether it did anything shows in its output.
            state = ConsoleModel::MarkSent;
            text = tr("sent to stdin");
        }
        if (hasConsole(key, event.agent))
            console(key, event.agent)->setMarkResult(event.id, toStdin && event.ok ? QString() : text, state);
        Q_EMIT commandFinished(key, event.id, event.agent, event.ok, text);
        break;
    }
    default:
        break;
    }
    m_tree->applyEvent(key, event);
    m_forum->applyEvent(key, event);
    m_metrics->applyEvent(key, event);
    m_asks->applyEvent(key, event);
    m_commands->applyEvent(key, event);
    Q_EMIT eventApplied(key, event);
    if (event.type == Event::Type::Snapshot)
        Q_EMIT snapshotApplied(key);
    else if (event.type == Event::Type::AgentRemoved)
        Q_EMIT agentRemoved(key, event.agent);
}
