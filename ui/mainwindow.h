// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "ui/askviews.h"
#include "ui/commandbar.h"
#include "ui/dialogs.h"

#include <QMainWindow>
#include <QPointer>
#include <QUrl>
#include <map>
#include <memory>

class AgentTreeView;
class AlertCenter;
class AlertNotifier;
class AlertsView;
class ConsolePane;
class ConversationView;
class Fleet;
class QLabel;
class QPushButton;
class QDockWidget;
class QTabWidget;

/*
 * The AgentDeck window: the hosts and agents on the left, a console per agent
 * (and one for all of them) in tabs that can be reordered or torn off into
 * windows of their own, the command bar at the bottom, and open questions
 * from agents above it, and the alerts its rules raise (a dock, badges on tabs
 * and agents, a tray message). Hosts, tabs, the layout, the command history
 * and the alert rules are kept across restarts.
 */
class MainWindow final : public QMainWindow
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MainWindow)

public:
    /// Shows the hosts of the fleet, which must outlive the window.
    explicit MainWindow(Fleet* fleet, QWidget* parent = nullptr);
    ~MainWindow() override;

    Fleet* fleet() const { return m_fleet; }
    AlertCenter* alertCenter() const { return m_alertCenter; }
    AlertNotifier* alertNotifier() const { return m_notifier; }
    /// Opens the console of an alert's agent at its line (an alert of a host shows the Alerts list).
    void showAlert(quint64 alertId);
    /// Alert Rules…: edits the rules and keeps them for the next start.
    void showAlertRules();

    /// Where this computer's own host (embedded in this process) takes agents and
    /// viewers, for Connect a Bot… and the status bar.
    void setEmbeddedHostAddress(const QUrl& url, const QString& token, const QString& tokenPath);
    /// How Add BettaFish… adds a bridge to the embedded host; until it is set the entry is disabled.
    void setBridgeAdder(BettaFishDialog::AddBridge add);
    /// The embedded host's counts, once a second.
    void setHostStats(int agents, int viewers, quint64 linesIngested);
    /// A problem the embedded host reports (a port it cannot listen on, a file it cannot write):
    /// in the status bar and the program's log.
    void showHostWarning(const QString& message);
    /// Connects to a remote host and keeps it for the next start; returns its host key.
    /// A host already known by that address takes the entry's token and certificate
    /// settings and connects with them at once.
    QString connectHost(const HostEntry& entry);
    /// Edit Host…: the address, token and certificate settings of a remote host.
    void showEditHost(const QString& hostKey);
    /// Reconnect Now: connects to a remote host without waiting for the next attempt.
    void reconnectHost(const QString& hostKey);

    /// Reopens the saved hosts, tabs, layout and history (call once the fleet has its own host).
    void restoreSession();
    void saveSession() const;

    /// Opens (or brings forward) the console of an agent.
    ConsolePane* openConsole(const QString& hostKey, const QString& agentId);
    /// The console the user looks at: the current tab, or the active torn-off window;
    /// null on the forum's tab.
    ConsolePane* currentConsole() const;
    /// The console of a tab; null for the forum's.
    ConsolePane* paneAt(int index) const;
    /// The forum's tab: conversations and chat.
    ConversationView* forumPage() const { return m_forumPage; }
    /// Moves a console from the tabs into a window of its own, or back.
    void toggleDetached(ConsolePane* pane);
    QList<ConsolePane*> detachedConsoles() const;
    QTabWidget* tabs() const { return m_tabs; }
    CommandBar* commandBar() const { return m_commandBar; }

    /// Sends a line typed in the command bar to each target.
    void sendLine(const QList<AgentRef>& targets, const QString& line);
    /// Sends a built-in command from the agent list, asking first when it stops several agents.
    void sendCommand(const QList<AgentRef>& targets, const QString& name);

protected:
    void showEvent(QShowEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void changeEvent(QEvent* event) override;
    void closeEvent(QCloseEvent* event) override;
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    struct Detached;
    /// The Load dock (charts of hosts and agents) and the agent list's sparklines.
    void buildLoadDock();
    void buildMenus();
    void buildAskBar();
    void styleAskBar();
    void updateAskBar();
    /// A row of the open questions, with the names the window shows and the answer being sent.
    Question describeAsk(int row) const;
    void answerAsk(const Question& question, const QString& choice);
    void onCurrentTabChanged();
    /// Closes the command bar, with the reason, when the current target's host only lets this window watch.
    void updateCommandAccess();
    void closeTab(int index);
    void focusCommandBar();
    bool confirmDisruptive(const QList<AgentRef>& targets, const QString& name);
    void showConnectHost();
    void showAddAgent(const QString& hostKey);
    void showEditAgent(const QString& hostKey, const QString& agentId);
    void removeAgent(const QString& hostKey, const QString& agentId);
    void removeHost(const QString& hostKey);
    void showConnectBot();
    /// Follow a Log File…: a followed-file agent of the embedded host, through define_agent.
    void showFollowFile();
    /// Add BettaFish…: a bridge added to the embedded host and kept in its configuration.
    void showAddBettaFish();
    void onCommandFinished(const QString& hostKey, const QString& id, const QString& agent, bool ok,
                           const QString& text);
    /// Commands sent to several agents at once: a row in the console of all agents sums up their results.
    void groupResults(const QStringList& ids, const QString& text);
    /// Counts a result toward its group's summary; false for a command sent alone.
    bool takeGroupedResult(const QString& id, const QString& agentLabel, bool ok, const QString& text);
    void updateRate();
    /// "6 agents: 4 running, 1 stopped, 1 offline · 1 viewer" in the status bar.
    void updateAgentCounts();
    void updateTabStates();
    QString tabTitle(const QString& hostKey, const QString& agentId) const;
    /// "local", or the saved address of a remote host (how tabs name their host on disk).
    QString hostAddress(const QString& hostKey) const;
    QString hostKeyOf(const QString& address) const;
    ConsolePane* findConsole(const QString& hostKey, const QString& agentId) const;
    ConsolePane* makePane(const QString& hostKey, const QString& agentId);
    template <typename Predicate>
    void eraseDetached(Predicate which);
    /// Closes the console of an agent, in a tab or torn off.
    void closeConsole(const QString& hostKey, const QString& agentId);
    /// Drops restored consoles of launched agents that the host's first snapshot no longer lists.
    void dropRemovedConsoles(const QString& hostKey);

    void buildAlerts();
    void onAlertRaised(quint64 alertId);
    void updateAlertBadges();

    Fleet* m_fleet;
    AlertCenter* m_alertCenter = nullptr;
    AlertNotifier* m_notifier = nullptr;
    AlertsView* m_alertsView = nullptr;
    QDockWidget* m_alertsDock = nullptr;
    bool m_alertsDockShown = false; // by the first alert: after that, closed is closed
    AgentTreeView* m_tree = nullptr;
    QTabWidget* m_tabs = nullptr;
    ConversationView* m_forumPage = nullptr;
    CommandBar* m_commandBar = nullptr;
    QWidget* m_askBar = nullptr;
    AskCard* m_askCard = nullptr;
    QPushButton* m_askMore = nullptr;
    AskList* m_askList = nullptr;
    QHash<QString, QString> m_answering; // choice sent, by question key, until the question closes
    QHash<QString, QString> m_answerIds; // question key, by the id of the answer command
    BettaFishDialog::AddBridge m_addBridge;
    QAction* m_addBettaFishAction = nullptr;
    QLabel* m_endpointLabel = nullptr;
    QLabel* m_statusLabel = nullptr;
    QLabel* m_rateLabel = nullptr;
    std::map<QString, HostEntry> m_remoteHosts; // by host key
    std::vector<std::unique_ptr<Detached>> m_detached;
    QUrl m_localUrl;
    QString m_localToken;
    QString m_localTokenPath;
    QSet<QString> m_ownCommands; // ids of commands whose results the command bar reports
    /// Consoles reopened from the last session for launched agents, by host key, until
    /// the host's snapshot says whether those agents still exist.
    QHash<QString, QStringList> m_restoredLaunched;
    quint64 m_lastLines = 0;
    int m_localViewers = -1; // viewers of the embedded host; -1: none attached
    struct CommandGroup
    {
        int expected = 0;
        int ok = 0;
        QStringList failures; // "agent: reason"
    };
    QHash<QString, CommandGroup> m_groups; // by the id of their summary row
    QHash<QString, QString> m_groupOf; // group, by command id
    int m_groupSerial = 0;
    QPoint m_tabPressPos;
    bool m_layoutRestored = false; // the docks' sizes came from the saved session
};
