// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/link/linkevent.h"
#include "server/link/remotelink.h"

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QSet>
#include <deque>
#include <map>
#include <memory>

class AgentTreeModel;
class AskModel;
class CommandModel;
class ConsoleModel;
class ForumModel;
class HostLink;
class MetricsHistory;

/*
 * Every host the desktop watches, and the models that show them. The fleet
 * owns the links, takes their event batches and feeds them to the models: the
 * agent tree, one console per agent (kept from the moment the agent is seen,
 * whether or not a view shows it), the merged console of all agents, the forum,
 * metrics history, open asks and sent commands. It works in slices of a few
 * milliseconds, so a burst of lines never holds the thread it runs on for long.
 */
class Fleet final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Fleet)

public:
    explicit Fleet(QObject* parent = nullptr);
    ~Fleet() override;

    /// Takes the link, opens it, and returns the key its host is known by.
    QString addHost(HostLink* link);
    /// Connects to a remote host (reconnecting whenever it is lost) and returns its key.
    QString addRemoteHost(const RemoteLink::Settings& settings);
    /// A remote host's new token or certificate settings, tried at once. False for another kind of host.
    bool changeRemoteHost(const QString& hostKey, const RemoteLink::Settings& settings);
    /// Connects to a remote host now instead of at its next attempt.
    void reconnectNow(const QString& hostKey);
    /// Closes the link and forgets the host, its agents and their consoles.
    void removeHost(const QString& hostKey);
    QStringList hostKeys() const;
    HostLink* link(const QString& hostKey) const;

    AgentTreeModel* agents() const { return m_tree.get(); }
    ForumModel* forum() const { return m_forum.get(); }
    MetricsHistory* metrics() const { return m_metrics.get(); }
    AskModel* asks() const { return m_asks.get(); }
    CommandModel* commands() const { return m_commands.get(); }
    /// All agents' lines in time order.
    ConsoleModel* allAgents() const { return m_all.get(); }
    /// One agent's console; created (empty) for an agent not seen yet.
    ConsoleModel* console(const QString& hostKey, const QString& agentId);
    bool hasConsole(const QString& hostKey, const QString& agentId) const;

    /// Bounds for consoles created from now on.
    void setConsoleLimits(qint64 lines, qint64 bytes);

    /// Sends a command, records it, and marks it in the console of each agent it is
    /// for, as markText (by default the name and arguments); the result is shown next
    /// to the mark. Returns the command id.
    QString sendCommand(const QString& hostKey, const QString& agent, const QString& name,
                        const QByteArray& argsJson = {}, const QString& markText = {});
    /// Adds or changes a launched agent of the host (definitionJson: an object with at
    /// least "id" and "command"). The result comes as commandFinished with the id returned.
    QString defineAgent(const QString& hostKey, const QString& agentId, const QByteArray& definitionJson);
    /// Stops a launched agent and forgets it (or forgets an offline connected agent).
    QString removeAgent(const QString& hostKey, const QString& agentId);
    /// Loads the lines before the oldest one an agent's console holds from its host's
    /// history (its log files), a page at a time; a loadable gap at the top is filled
    /// first. False when there is nothing to ask for (loading, or the start is reached).
    bool loadOlderLines(const QString& hostKey, const QString& agentId);
    /// Loads the lines of a gap row (its row in the agent's console) that the host still has.
    bool loadGap(const QString& hostKey, const QString& agentId, int row);
    /// Lines asked for per history request.
    static constexpr int HistoryPage = 2000;

    /// Why commands and answers cannot go to this host (its token only watches); empty when they can.
    QString readOnlyReason(const QString& hostKey) const;

    /// Answers an agent's open question.
    QString answerAsk(const QString& hostKey, const QString& agent, const QString& askId, const QString& choice);

    /// Complete console lines applied to the consoles so far (all hosts).
    quint64 linesApplied() const { return m_linesApplied; }

    /// Takes every waiting event from every link and applies it now (tests, benchmarks).
    void processAll();

    /// How long one slice of event processing may run before the loop gets a turn.
    static constexpr int SliceMs = 8;

Q_SIGNALS:
    void consoleAdded(const QString& hostKey, const QString& agentId);
    /// A host's link state, reason or next attempt changed.
    void hostStatusChanged(const QString& hostKey);
    /// Lines of a gap could not be loaded (older lines for the top say so in their console).
    void historyFailed(const QString& hostKey, const QString& agentId, const QString& reason);
    /// A host's snapshot was applied: the agents it lists are known.
    void snapshotApplied(const QString& hostKey);
    /// An agent was removed from its host (its console stays until the window lets it go).
    void agentRemoved(const QString& hostKey, const QString& agentId);
    /// Results of commands sent through sendCommand(); a line written to a program's
    /// stdin reports "sent to stdin" (it has no answer of its own).
    void commandFinished(const QString& hostKey, const QString& id, const QString& agent, bool ok, const QString& text);
    /// An event of a host was applied to the models (lines, agents' states, metrics...), for
    /// parts that watch the fleet as it changes (alerts). Connect directly and stay quick:
    /// it comes for every event.
    void eventApplied(const QString& hostKey, const Link::Event& event);

private:
    struct Host;
    /// Sends through the host's link and records it in the command model.
    QString sendRequest(const QString& hostKey, const QString& agentId, const QString& name,
                        const QByteArray& argsJson);
    void onEventsReady(const QString& hostKey);
    void onStatusChanged(const QString& hostKey);
    void scheduleSlice();
    /// Applies waiting events for up to budgetMs (-1: all of them).
    void runSlice(qint64 budgetMs);
    void apply(Host& host, const Link::Event& event);
    QString agentLabel(const Host& host, const QString& agentId) const;

    std::unique_ptr<AgentTreeModel> m_tree;
    std::unique_ptr<ForumModel> m_forum;
    std::unique_ptr<MetricsHistory> m_metrics;
    std::unique_ptr<AskModel> m_asks;
    std::unique_ptr<CommandModel> m_commands;
    std::unique_ptr<ConsoleModel> m_all;
    std::map<QString, std::unique_ptr<Host>> m_hosts;
    std::deque<std::pair<QString, Link::Event>> m_pending;
    QSet<QString> m_stdinCommands; // ids of lines sent to a program's stdin, until their result
    struct HistoryRequest
    {
        QString hostKey;
        QString agent;
        qint64 gapFrom = 0; // the first number of the gap it fills; 0: older lines for the top
        qint64 before = 0; // the number it asked for lines below
    };
    /// By host key and request id (ids are a link's own).
    QHash<std::pair<QString, QString>, HistoryRequest> m_historyRequests;
    void applyHistory(const Host& host, const Link::Event& event);
    void failHistory(const QString& hostKey, const QString& id, const QString& reason);
    bool m_sliceQueued = false;
    quint64 m_linesApplied = 0;
    int m_nextHost = 1;
    qint64 m_consoleLines = 200000;
    qint64 m_consoleBytes = 64 * 1024 * 1024;
};
