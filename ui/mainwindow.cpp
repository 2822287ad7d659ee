// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/mainwindow.h"

#include "models/agenttreemodel.h"
#include "models/alertcenter.h"
#include "models/alertmodel.h"
#include "models/askmodel.h"
#include "models/commandline.h"
#include "models/consolemodel.h"
#include "models/fleet.h"
#include "ui/agenttreeview.h"
#include "ui/alertnotifier.h"
#include "ui/alertrulesdialog.h"
#include "ui/alertsview.h"
#include "ui/consolepane.h"
#include "ui/consoleview.h"
#include "ui/conversationview.h"
#include "ui/forumview.h"
#include "ui/loadview.h"

#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QDockWidget>
#include <QFile>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QMouseEvent>
#include <QPushButton>
#include <QResizeEvent>
#include <QScreen>
#include <QSettings>
#include <QShortcut>
#include <QSslCertificate>
#include <QStatusBar>
#include <QTabBar>
#include <QTabWidget>
#include <QTimer>
#include <QToolBar>
#include <QVBoxLayout>

namespace {

const QString LocalHost = QStringLiteral("local");
constexpr int TearOffDistance = 40; // pixels a tab is dragged away from the bar to become a window

} // namespace

/// A console torn off into a window of its own.
struct MainWindow::Detached
{
    std::unique_ptr<QWidget> window;
    ConsolePane* pane = nullptr;
};

namespace {

/// The window a torn-off console lives in; closing it closes the console.
class DetachedWindow final : public QWidget
{
public:
    explicit DetachedWindow(std::function<void()> closed)
        : QWidget(nullptr, Qt::Window)
        , m_closed(std::move(closed))
    {
        auto* layout = new QVBoxLayout(this);
        layout->setContentsMargins(0, 0, 0, 0);
    }

protected:
    void closeEvent(QCloseEvent* event) override
    {
        event->accept();
        m_closed();
    }

private:
    std::function<void()> m_closed;
};

/// Moves (and if need be shrinks) a window into the available area of the screen
/// it is mostly on, else of the screen of reference.
void keepOnScreen(QWidget* window, const QWidget* reference = nullptr)
{
    QScreen* screen = QGuiApplication::screenAt(window->geometry().center());
    if (!screen)
        screen = reference ? reference->screen() : QGuiApplication::primaryScreen();
    if (!screen)
        return;
    const QRect area = screen->availableGeometry();
    const QSize decoration = window->frameGeometry().size() - window->size();
    const QSize size = window->size().boundedTo(area.size() - decoration).expandedTo(window->minimumSize());
    if (size != window->size())
        window->resize(size);
    // Larger than the screen (its minimum size): the top left corner, with the title, shows.
    const QRect frame = window->frameGeometry();
    const QPoint topLeft(std::max(area.left(), std::min(frame.left(), area.right() - frame.width() + 1)),
                         std::max(area.top(), std::min(frame.top(), area.bottom() - frame.height() + 1)));
    if (topLeft != frame.topLeft())
        window->move(topLeft);
}

} // namespace

MainWindow::MainWindow(Fleet* fleet, QWidget* parent)
    : QMainWindow(parent)
    , m_fleet(fleet)
{
    setWindowTitle(QStringLiteral("AgentDeck"));
    setObjectName(QStringLiteral("mainWindow"));
    setDockOptions(QMainWindow::AnimatedDocks | QMainWindow::AllowTabbedDocks);

    m_tree = new AgentTreeView(this);
    m_tree->setAgentModel(m_fleet->agents());
    auto* treeDock = new QDockWidget(tr("Agents"), this);
    treeDock->setObjectName(QStringLiteral("agentsDock"));
    treeDock->setWidget(m_tree);
    treeDock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable
                          | QDockWidget::DockWidgetClosable);
    addDockWidget(Qt::LeftDockWidgetArea, treeDock);
    connect(m_tree, &AgentTreeView::openConsoleRequested, this, &MainWindow::openConsole);
    connect(m_tree, &AgentTreeView::commandRequested, this, &MainWindow::sendCommand);
    connect(m_tree, &AgentTreeView::addAgentRequested, this, &MainWindow::showAddAgent);
    connect(m_tree, &AgentTreeView::editAgentRequested, this, &MainWindow::showEditAgent);
    connect(m_tree, &AgentTreeView::removeAgentRequested, this, &MainWindow::removeAgent);
    connect(m_tree, &AgentTreeView::removeHostRequested, this, &MainWindow::removeHost);
    connect(m_tree, &AgentTreeView::editHostRequested, this, &MainWindow::showEditHost);
    connect(m_tree, &AgentTreeView::reconnectHostRequested, this, &MainWindow::reconnectHost);

    auto* forum = new ForumView(this);
    forum->setMinimumWidth(fontMetrics().averageCharWidth() * 26); // a usable minimum beside a wide console
    forum->setForumModel(m_fleet->forum());
    auto* forumDock = new QDockWidget(tr("Forum"), this);
    forumDock->setObjectName(QStringLiteral("forumDock"));
    forumDock->setWidget(forum);
    addDockWidget(Qt::RightDockWidgetArea, forumDock);

    m_askList = new AskList(
        m_fleet->asks(), [this](int row) { return describeAsk(row); }, this);
    connect(m_askList, &AskList::answered, this, &MainWindow::answerAsk);
    auto* questionsDock = new QDockWidget(tr("Questions"), this);
    questionsDock->setObjectName(QStringLiteral("questionsDock"));
    questionsDock->setWidget(m_askList);
    addDockWidget(Qt::RightDockWidgetArea, questionsDock);
    splitDockWidget(forumDock, questionsDock, Qt::Vertical);
    questionsDock->hide();
    buildAlerts();

    auto* central = new QWidget(this);
    auto* layout = new QVBoxLayout(central);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    m_tabs = new QTabWidget(central);
    m_tabs->setObjectName(QStringLiteral("consoleTabs"));
    m_tabs->setDocumentMode(true);
    m_tabs->setMovable(true);
    m_tabs->setTabsClosable(true);
    m_tabs->setElideMode(Qt::ElideRight);
    m_tabs->tabBar()->installEventFilter(this);
    connect(m_tabs, &QTabWidget::tabCloseRequested, this, &MainWindow::closeTab);
    connect(m_tabs, &QTabWidget::currentChanged, this, &MainWindow::onCurrentTabChanged);
    layout->addWidget(m_tabs, 1);
    buildAskBar();
    layout->addWidget(m_askBar);
    m_commandBar = new CommandBar(m_fleet->agents(), central);
    connect(m_commandBar, &CommandBar::submitted, this, &MainWindow::sendLine);
    layout->addWidget(m_commandBar);
    setCentralWidget(central);

    // The console of all agents and the forum's conversations are always there, first.
    ConsolePane* all = makePane(QString(), QString());
    m_tabs->addTab(all, tr("All agents"));
    m_forumPage = new ConversationView(m_fleet->forum(), m_tabs);
    m_tabs->addTab(m_forumPage, tr("Forum"));
    m_tabs->setTabToolTip(1, tr("The agents' conversations, host by host"));
    for (const int fixed : {0, 1}) {
        m_tabs->tabBar()->setTabButton(fixed, QTabBar::RightSide, nullptr);
        m_tabs->tabBar()->setTabButton(fixed, QTabBar::LeftSide, nullptr);
    }

    m_endpointLabel = new QLabel(this);
    m_endpointLabel->setObjectName(QStringLiteral("endpointLabel"));
    m_endpointLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_statusLabel = new QLabel(this);
    m_statusLabel->setObjectName(QStringLiteral("statusLabel"));
    m_rateLabel = new QLabel(this);
    m_rateLabel->setObjectName(QStringLiteral("rateLabel"));
    statusBar()->addPermanentWidget(m_endpointLabel);
    statusBar()->addPermanentWidget(m_statusLabel);
    statusBar()->addPermanentWidget(m_rateLabel);
    auto* rateTimer = new QTimer(this);
    connect(rateTimer, &QTimer::timeout, this, &MainWindow::updateRate);
    rateTimer->start(1000);
    updateRate();

    connect(m_fleet, &Fleet::commandFinished, this, &MainWindow::onCommandFinished);
    connect(m_fleet, &Fleet::agentRemoved, this, &MainWindow::closeConsole);
    connect(m_fleet, &Fleet::historyFailed, this,
            [this](const QString& hostKey, const QString& agentId, const QString& reason) {
                statusBar()->showMessage(
                    tr("%1: could not load the lines of a gap: %2").arg(tabTitle(hostKey, agentId), reason), 8000);
            });
    // The agent counts follow the list, a few times a second at most.
    auto* countsTimer = new QTimer(this);
    countsTimer->setSingleShot(true);
    countsTimer->setInterval(250);
    connect(countsTimer, &QTimer::timeout, this, &MainWindow::updateAgentCounts);
    const auto recount = [countsTimer] {
        if (!countsTimer->isActive())
            countsTimer->start();
    };
    connect(m_fleet->agents(), &QAbstractItemModel::rowsInserted, countsTimer, recount);
    connect(m_fleet->agents(), &QAbstractItemModel::rowsRemoved, countsTimer, recount);
    connect(m_fleet->agents(), &QAbstractItemModel::modelReset, countsTimer, recount);
    connect(m_fleet->agents(), &QAbstractItemModel::dataChanged, countsTimer, recount);
    connect(m_fleet, &Fleet::snapshotApplied, this, &MainWindow::dropRemovedConsoles);
    // A host's welcome says what its token allows; it may differ after a reconnect.
    connect(m_fleet, &Fleet::snapshotApplied, this, [this] {
        updateCommandAccess();
        updateAskBar();
    });
    connect(m_fleet->asks(), &QAbstractItemModel::rowsInserted, this, &MainWindow::updateAskBar);
    connect(m_fleet->asks(), &QAbstractItemModel::rowsRemoved, this, &MainWindow::updateAskBar);
    connect(m_fleet->asks(), &QAbstractItemModel::modelReset, this, &MainWindow::updateAskBar);
    connect(m_fleet->asks(), &QAbstractItemModel::dataChanged, this, &MainWindow::updateAskBar);
    // Questions name who asks, as the agent list does.
    connect(m_fleet->agents(), &QAbstractItemModel::dataChanged, this, [this] {
        if (m_fleet->asks()->rowCount() > 0)
            updateAskBar();
    });
    connect(m_fleet, &Fleet::hostStatusChanged, this, [this](const QString& hostKey) {
        const QModelIndex host = m_fleet->agents()->indexOf(hostKey);
        if (host.data(AgentTreeModel::StateRole).toString() == QLatin1String("offline"))
            statusBar()->showMessage(tr("%1: %2").arg(host.data(Qt::DisplayRole).toString(),
                                                      host.data(AgentTreeModel::StateReasonRole).toString()),
                                     8000);
    });

    buildLoadDock();
    buildMenus();
    // Typing goes to the command line until the user clicks elsewhere.
    m_commandBar->lineEdit()->setFocus();
    // A first start: most of the screen, at least room for the three columns.
    const QSize available = screen() ? screen()->availableGeometry().size() : QSize(1600, 1000);
    resize(std::max(1280, available.width() * 85 / 100), std::max(800, available.height() * 85 / 100));
}

void MainWindow::buildAlerts()
{
    m_alertCenter = new AlertCenter(m_fleet, this);
    m_notifier = new AlertNotifier(this);
    m_alertsView = new AlertsView(m_alertCenter->alerts(), this);
    m_alertsDock = new QDockWidget(tr("Alerts"), this);
    m_alertsDock->setObjectName(QStringLiteral("alertsDock"));
    m_alertsDock->setWidget(m_alertsView);
    // Below the consoles, between the agent list and the forum: a table wants the width.
    setCorner(Qt::BottomLeftCorner, Qt::LeftDockWidgetArea);
    setCorner(Qt::BottomRightCorner, Qt::RightDockWidgetArea);
    addDockWidget(Qt::BottomDockWidgetArea, m_alertsDock);
    // It shows itself with the first alert (unless the saved layout shows it already).
    m_alertsDock->hide();
    m_tree->setAlertCount([this](const QString& hostKey, const QString& agentId) {
        return m_alertCenter->alerts()->unacknowledged(hostKey, agentId);
    });
    connect(m_alertCenter, &AlertCenter::alertRaised, this, &MainWindow::onAlertRaised);
    connect(m_alertCenter->alerts(), &AlertModel::unacknowledgedChanged, this, &MainWindow::updateAlertBadges);
    connect(m_alertsView, &AlertsView::openRequested, this, &MainWindow::showAlert);
    connect(m_alertsView, &AlertsView::rulesRequested, this, &MainWindow::showAlertRules);
    connect(m_notifier, &AlertNotifier::activated, this,
            [this](const QVariant& payload) { showAlert(payload.toULongLong()); });
}

void MainWindow::onAlertRaised(quint64 alertId)
{
    const AlertModel::Alert* alert = m_alertCenter->alerts()->alert(alertId);
    if (!alert)
        return;
    m_notifier->notify(tr("%1: %2").arg(alert->ruleName, alert->where), alert->text, QVariant::fromValue(alertId));
    if (!m_alertsDockShown && !m_alertsDock->isVisible()) {
        m_alertsDockShown = true;
        // The docks beside it keep their widths (the layout would give some of it to the new one).
        QList<QDockWidget*> besides;
        QList<int> widths;
        bool bottomTaken = false; // the Load dock: the Alerts dock takes its share, not its height
        for (QDockWidget* dock : findChildren<QDockWidget*>()) {
            const Qt::DockWidgetArea area = dockWidgetArea(dock);
            if (!dock->isVisible() || dock->isFloating())
                continue;
            if (area == Qt::LeftDockWidgetArea || area == Qt::RightDockWidgetArea) {
                besides.append(dock);
                widths.append(dock->width());
            } else if (area == Qt::BottomDockWidgetArea && dock != m_alertsDock) {
                bottomTaken = true;
            }
        }
        m_alertsDock->show();
        resizeDocks(besides, widths, Qt::Horizontal);
        if (!bottomTaken)
            resizeDocks({m_alertsDock}, {fontMetrics().height() * 9}, Qt::Vertical);
    }
}

void MainWindow::updateAlertBadges()
{
    const int waiting = m_alertCenter->alerts()->unacknowledged();
    m_alertsDock->setWindowTitle(waiting > 0 ? tr("Alerts (%1)").arg(waiting) : tr("Alerts"));
    m_tree->viewport()->update();
    updateTabStates();
}

void MainWindow::showAlert(quint64 alertId)
{
    const AlertModel::Alert* alert = m_alertCenter->alerts()->alert(alertId);
    if (!alert)
        return;
    const QString hostKey = alert->hostKey;
    const QString agentId = alert->agentId;
    const qint64 seq = alert->seq;
    if (agentId.isEmpty() || !m_fleet->link(hostKey)) {
        m_alertsDock->show();
        m_alertsDock->raise();
        return;
    }
    ConsolePane* pane = openConsole(hostKey, agentId);
    if (pane && seq > 0 && !pane->showLine(seq))
        statusBar()->showMessage(tr("%1: the console no longer shows that line").arg(tabTitle(hostKey, agentId)), 8000);
    if (pane)
        pane->window()->activateWindow();
}

void MainWindow::showAlertRules()
{
    AlertRulesDialog dialog(m_alertCenter->rules(), this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    m_alertCenter->setRules(dialog.rules());
    saveSession();
}

MainWindow::~MainWindow()
{
    m_detached.clear();
}

template <typename Predicate>
void MainWindow::eraseDetached(Predicate which)
{
    m_detached.erase(std::remove_if(m_detached.begin(), m_detached.end(),
                                    [&which](const auto& detached) { return which(*detached); }),
                     m_detached.end());
}

void MainWindow::buildLoadDock()
{
    // A dock, not a console tab: it spans the window's width below the consoles, where
    // a row of charts fits at 1280 x 800, and it can be floated onto a screen of its own.
    auto* loadView = new LoadView(m_fleet->agents(), m_fleet->metrics(), this);
    auto* loadDock = new QDockWidget(tr("Load"), this);
    loadDock->setObjectName(QStringLiteral("loadDock"));
    loadDock->setWidget(loadView);
    addDockWidget(Qt::BottomDockWidgetArea, loadDock);
    // It shares the bottom with the Alerts list as a tab: side by side, neither has room.
    tabifyDockWidget(m_alertsDock, loadDock);
    // Opened from the View menu; until then it draws nothing.
    loadDock->hide();
    // Opened by hand, it takes about half the window's height (two rows of charts),
    // whatever another bottom dock (Alerts) had set the area's height to.
    connect(loadDock->toggleViewAction(), &QAction::triggered, this, [this, loadDock](bool shown) {
        if (shown && !loadDock->isFloating()) {
            loadDock->raise();
            resizeDocks({loadDock}, {height() * 45 / 100}, Qt::Vertical);
        }
    });
    m_tree->setMetricsHistory(m_fleet->metrics());
}

void MainWindow::buildMenus()
{
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* connectHostAction = file->addAction(tr("Connect to &Host…"), this, &MainWindow::showConnectHost);
    connectHostAction->setObjectName(QStringLiteral("connectHostAction"));
    connectHostAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
    QAction* addAgent = file->addAction(tr("&Add Local Agent…"), this, [this] { showAddAgent(LocalHost); });
    addAgent->setObjectName(QStringLiteral("addAgentAction"));
    QAction* connectBot = file->addAction(tr("Connect a &Bot…"), this, &MainWindow::showConnectBot);
    connectBot->setObjectName(QStringLiteral("connectBotAction"));
    file->addSeparator();
    QAction* follow = file->addAction(tr("&Follow a Log File…"), this, &MainWindow::showFollowFile);
    follow->setObjectName(QStringLiteral("followFileAction"));
    m_addBettaFishAction = file->addAction(tr("Add &BettaFish…"), this, &MainWindow::showAddBettaFish);
    m_addBettaFishAction->setObjectName(QStringLiteral("addBettaFishAction"));
    m_addBettaFishAction->setEnabled(bool(m_addBridge));
    file->addSeparator();
    file->addAction(tr("&Export Shown Lines…"), this, [this] {
        if (ConsolePane* pane = currentConsole())
            pane->exportShown();
    });
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

    QMenu* view = menuBar()->addMenu(tr("&View"));
    QAction* find = view->addAction(tr("&Find…"), this, [this] {
        if (ConsolePane* pane = currentConsole())
            pane->showSearch();
    });
    find->setShortcut(QKeySequence::Find);
    find->setShortcutContext(Qt::WindowShortcut);
    view->addAction(tr("&Clear Console"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_K), this, [this] {
        if (ConsolePane* pane = currentConsole())
            pane->clear();
    });
    view->addAction(tr("Jump to &Latest"), QKeySequence(Qt::CTRL | Qt::Key_End), this, [this] {
        if (ConsolePane* pane = currentConsole())
            pane->view()->scrollToBottom();
    });
    view->addAction(tr("Command &Line"), QKeySequence(Qt::CTRL | Qt::Key_L), this, &MainWindow::focusCommandBar);
    view->addAction(tr("&Tear Off Console"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_D), this, [this] {
        if (ConsolePane* pane = currentConsole(); pane && !pane->isMerged())
            toggleDetached(pane);
    });
    view->addSeparator();
    view->addAction(findChild<QDockWidget*>(QStringLiteral("agentsDock"))->toggleViewAction());
    view->addAction(findChild<QDockWidget*>(QStringLiteral("forumDock"))->toggleViewAction());
    view->addAction(findChild<QDockWidget*>(QStringLiteral("questionsDock"))->toggleViewAction());
    view->addAction(m_alertsDock->toggleViewAction());
    QAction* rules = view->addAction(tr("Alert &Rules…"), this, &MainWindow::showAlertRules);
    rules->setObjectName(QStringLiteral("alertRulesAction"));
    QAction* load = findChild<QDockWidget*>(QStringLiteral("loadDock"))->toggleViewAction();
    load->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_G));
    view->addAction(load);
    for (int i = 1; i <= 9; ++i) {
        auto* shortcut = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key(Qt::Key_0 + i)), this);
        connect(shortcut, &QShortcut::activated, this, [this, i] {
            if (i - 1 < m_tabs->count())
                m_tabs->setCurrentIndex(i - 1);
        });
    }

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About AgentDeck"), this, [this] {
        QMessageBox::about(this, tr("About AgentDeck"),
                           tr("<b>AgentDeck %1</b><p>A native console for fleets of bots and AI agents.</p>")
                               .arg(QApplication::applicationVersion()));
    });

    QToolBar* toolbar = addToolBar(tr("Main"));
    toolbar->setObjectName(QStringLiteral("mainToolbar"));
    toolbar->setMovable(false);
    toolbar->setToolButtonStyle(Qt::ToolButtonTextOnly);
    toolbar->addAction(connectHostAction);
    toolbar->addAction(addAgent);
    toolbar->addAction(connectBot);
}

void MainWindow::buildAskBar()
{
    m_askBar = new QWidget(this);
    m_askBar->setObjectName(QStringLiteral("askBar"));
    m_askBar->setAttribute(Qt::WA_StyledBackground);
    styleAskBar();
    auto* row = new QHBoxLayout(m_askBar);
    row->setContentsMargins(8, 6, 8, 6);
    row->setSpacing(12);
    m_askCard = new AskCard(m_askBar);
    connect(m_askCard, &AskCard::answered, this, &MainWindow::answerAsk);
    m_askMore = new QPushButton(m_askBar);
    m_askMore->setObjectName(QStringLiteral("askMore"));
    m_askMore->setFlat(true);
    m_askMore->setToolTip(tr("Every open question, to answer in any order"));
    connect(m_askMore, &QPushButton::clicked, this, [this] {
        QDockWidget* dock = findChild<QDockWidget*>(QStringLiteral("questionsDock"));
        dock->show();
        dock->raise();
    });
    // On the left, so that the answer buttons keep their place when it comes and goes.
    row->addWidget(m_askMore, 0, Qt::AlignTop);
    row->addWidget(m_askCard, 1);
    m_askBar->hide();
}

Question MainWindow::describeAsk(int row) const
{
    const QModelIndex ask = m_fleet->asks()->index(row, 0);
    Question question;
    question.hostKey = ask.data(AskModel::HostKeyRole).toString();
    question.agent = ask.data(AskModel::AgentRole).toString();
    question.id = ask.data(AskModel::IdRole).toString();
    const Link::AgentInfo* info = m_fleet->agents()->agent(question.hostKey, question.agent);
    question.who = info && !info->name.isEmpty() ? info->name : tabTitle(question.hostKey, question.agent);
    question.text = ask.data(AskModel::TextRole).toString();
    question.choices = ask.data(AskModel::ChoicesRole).toStringList();
    question.ts = ask.data(AskModel::TimeRole).toLongLong();
    question.answering = m_answering.value(question.key());
    question.readOnlyReason = m_fleet->readOnlyReason(question.hostKey);
    return question;
}

void MainWindow::answerAsk(const Question& question, const QString& choice)
{
    const QString id = m_fleet->answerAsk(question.hostKey, question.agent, question.id, choice);
    if (id.isEmpty())
        return;
    m_ownCommands.insert(id);
    m_answering.insert(question.key(), choice);
    m_answerIds.insert(id, question.key());
    updateAskBar();
}

void MainWindow::styleAskBar()
{
    // Set off from the consoles in the palette's own accent colour.
    QColor tint = palette().color(QPalette::Highlight);
    tint.setAlphaF(0.18f);
    m_askBar->setStyleSheet(QStringLiteral("#askBar { background: %1; }").arg(tint.name(QColor::HexArgb)));
}

void MainWindow::changeEvent(QEvent* event)
{
    QMainWindow::changeEvent(event);
    if (event->type() == QEvent::PaletteChange && m_askBar)
        styleAskBar();
}

void MainWindow::updateAskBar()
{
    AskModel* asks = m_fleet->asks();
    // Answers in flight for questions that closed are done.
    QSet<QString> open;
    for (int row = 0; row < asks->rowCount(); ++row)
        open.insert(describeAsk(row).key());
    m_answering.removeIf([&open](const QHash<QString, QString>::iterator& it) { return !open.contains(it.key()); });
    m_askList->refresh();
    if (asks->rowCount() == 0) {
        m_askBar->hide();
        return;
    }
    m_askCard->setQuestion(describeAsk(0));
    m_askMore->setVisible(asks->rowCount() > 1);
    m_askMore->setText(tr("%n more waiting", nullptr, asks->rowCount() - 1));
    m_askBar->show();
}

void MainWindow::setEmbeddedHostAddress(const QUrl& url, const QString& token, const QString& tokenPath)
{
    m_localUrl = url;
    m_localToken = token;
    m_localTokenPath = tokenPath;
    m_endpointLabel->setText(tr("Listening on %1").arg(url.toString()));
}

void MainWindow::showHostWarning(const QString& message)
{
    qWarning("agentdeck: %s", qPrintable(message));
    statusBar()->showMessage(tr("This computer's host: %1").arg(message), 15000);
}

namespace {

RemoteLink::Settings linkSettings(const HostEntry& entry)
{
    RemoteLink::Settings settings;
    settings.url = entry.url;
    settings.token = entry.token;
    settings.tokenFile = entry.tokenFile;
    if (!entry.pinnedSha256.isEmpty())
        settings.pinnedSha256 = QByteArray::fromHex(entry.pinnedSha256.toLatin1()).toHex(':').toUpper();
    if (!entry.caFile.isEmpty())
        settings.caCertificates = QSslCertificate::fromPath(entry.caFile);
    return settings;
}

} // namespace

QString MainWindow::connectHost(const HostEntry& entry)
{
    // A known address takes the new token and certificate settings, and tries them now.
    for (auto& [key, known] : m_remoteHosts) {
        if (known.url != entry.url)
            continue;
        known = entry;
        m_fleet->changeRemoteHost(key, linkSettings(entry));
        return key;
    }
    const QString key = m_fleet->addRemoteHost(linkSettings(entry));
    m_remoteHosts[key] = entry;
    return key;
}

void MainWindow::showEditHost(const QString& hostKey)
{
    const auto it = m_remoteHosts.find(hostKey);
    if (it == m_remoteHosts.end())
        return;
    ConnectHostDialog dialog(this);
    dialog.setEntry(it->second, true);
    if (dialog.exec() != QDialog::Accepted)
        return;
    const HostEntry entry = dialog.entry();
    if (entry.url != it->second.url) {
        // Another address is another host: its consoles start empty.
        removeHost(hostKey);
    }
    connectHost(entry);
    saveSession();
}

void MainWindow::reconnectHost(const QString& hostKey)
{
    m_fleet->reconnectNow(hostKey);
}

QString MainWindow::hostAddress(const QString& hostKey) const
{
    const auto it = m_remoteHosts.find(hostKey);
    return it == m_remoteHosts.end() ? hostKey : it->second.url.toString();
}

QString MainWindow::hostKeyOf(const QString& address) const
{
    for (const auto& [key, entry] : m_remoteHosts) {
        if (entry.url.toString() == address)
            return key;
    }
    return address == LocalHost ? LocalHost : QString();
}

QString MainWindow::tabTitle(const QString& hostKey, const QString& agentId) const
{
    if (hostKey == LocalHost || hostKey.isEmpty())
        return agentId;
    return agentId + QLatin1Char('@') + m_fleet->agents()->indexOf(hostKey).data(Qt::DisplayRole).toString();
}

ConsolePane* MainWindow::makePane(const QString& hostKey, const QString& agentId)
{
    ConsoleModel* console = agentId.isEmpty() ? m_fleet->allAgents() : m_fleet->console(hostKey, agentId);
    auto* pane = new ConsolePane(console, hostKey, agentId);
    pane->showAgentStatus(m_fleet->agents());
    connect(pane, &ConsolePane::detachRequested, this, [this, pane] {
        if (!pane->isMerged())
            toggleDetached(pane);
    });
    connect(pane, &ConsolePane::olderLinesWanted, this,
            [this, hostKey, agentId] { m_fleet->loadOlderLines(hostKey, agentId); });
    connect(pane, &ConsolePane::gapLinesWanted, this,
            [this, hostKey, agentId](int row) { m_fleet->loadGap(hostKey, agentId, row); });
    return pane;
}

ConsolePane* MainWindow::findConsole(const QString& hostKey, const QString& agentId) const
{
    for (int i = 0; i < m_tabs->count(); ++i) {
        auto* pane = paneAt(i);
        if (pane && pane->hostKey() == hostKey && pane->agentId() == agentId)
            return pane;
    }
    for (const auto& detached : m_detached) {
        if (detached->pane->hostKey() == hostKey && detached->pane->agentId() == agentId)
            return detached->pane;
    }
    return nullptr;
}

ConsolePane* MainWindow::openConsole(const QString& hostKey, const QString& agentId)
{
    if (ConsolePane* pane = findConsole(hostKey, agentId)) {
        const int index = m_tabs->indexOf(pane);
        if (index >= 0) {
            m_tabs->setCurrentIndex(index);
        } else {
            pane->window()->raise();
            pane->window()->activateWindow();
        }
        return pane;
    }
    ConsolePane* pane = makePane(hostKey, agentId);
    const int index = m_tabs->addTab(pane, tabTitle(hostKey, agentId));
    m_tabs->setTabToolTip(index, hostKey == LocalHost ? agentId : tabTitle(hostKey, agentId));
    m_tabs->setCurrentIndex(index);
    return pane;
}

void MainWindow::closeTab(int index)
{
    auto* pane = paneAt(index);
    if (!pane || pane->isMerged())
        return;
    m_tabs->removeTab(index);
    pane->deleteLater();
}

void MainWindow::closeConsole(const QString& hostKey, const QString& agentId)
{
    for (int i = m_tabs->count() - 1; i >= 0; --i) {
        const auto* pane = paneAt(i);
        if (pane && pane->hostKey() == hostKey && pane->agentId() == agentId)
            closeTab(i);
    }
    eraseDetached([&](const Detached& detached) {
        return detached.pane->hostKey() == hostKey && detached.pane->agentId() == agentId;
    });
}

void MainWindow::dropRemovedConsoles(const QString& hostKey)
{
    const QStringList restored = m_restoredLaunched.take(hostKey);
    for (const QString& agent : restored) {
        if (!m_fleet->agents()->agent(hostKey, agent))
            closeConsole(hostKey, agent);
    }
}

ConsolePane* MainWindow::paneAt(int index) const
{
    return qobject_cast<ConsolePane*>(m_tabs->widget(index));
}

ConsolePane* MainWindow::currentConsole() const
{
    for (const auto& detached : m_detached) {
        if (detached->window->isActiveWindow())
            return detached->pane;
    }
    return paneAt(m_tabs->currentIndex());
}

QList<ConsolePane*> MainWindow::detachedConsoles() const
{
    QList<ConsolePane*> panes;
    for (const auto& detached : m_detached)
        panes << detached->pane;
    return panes;
}

void MainWindow::toggleDetached(ConsolePane* pane)
{
    const auto found = std::find_if(m_detached.begin(), m_detached.end(),
                                    [pane](const auto& detached) { return detached->pane == pane; });
    if (found != m_detached.end()) {
        // Back into the tabs.
        std::unique_ptr<Detached> detached = std::move(*found);
        m_detached.erase(found);
        const int index = m_tabs->addTab(pane, tabTitle(pane->hostKey(), pane->agentId()));
        m_tabs->setCurrentIndex(index);
        pane->setDetached(false);
        detached->window->hide();
        return;
    }
    const int index = m_tabs->indexOf(pane);
    if (index < 0 || pane->isMerged())
        return;
    m_tabs->removeTab(index);
    auto detached = std::make_unique<Detached>();
    detached->pane = pane;
    Detached* raw = detached.get();
    detached->window = std::make_unique<DetachedWindow>([this, raw] {
        // After the window's close event is done with it.
        QMetaObject::invokeMethod(
            this, [this, raw] { eraseDetached([raw](const Detached& d) { return &d == raw; }); }, Qt::QueuedConnection);
    });
    QWidget* window = detached->window.get();
    window->setObjectName(QStringLiteral("detachedConsole"));
    window->setWindowTitle(tabTitle(pane->hostKey(), pane->agentId()) + QStringLiteral(" — AgentDeck"));
    window->layout()->addWidget(pane);
    pane->setDetached(true);
    pane->show();
    connect(new QShortcut(QKeySequence::Find, window), &QShortcut::activated, pane, &ConsolePane::showSearch);
    connect(new QShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_D), window), &QShortcut::activated, this,
            [this, pane] { toggleDetached(pane); });
    window->resize(std::max(600, m_tabs->width() * 3 / 4), std::max(400, m_tabs->height() * 3 / 4));
    window->move(QCursor::pos() - QPoint(window->width() / 2, 20));
    keepOnScreen(window, this);
    window->show();
    window->raise();
    m_detached.push_back(std::move(detached));
}

bool MainWindow::eventFilter(QObject* watched, QEvent* event)
{
    // Dragging a tab well away from the tab bar tears it off into a window.
    if (watched == m_tabs->tabBar()) {
        if (event->type() == QEvent::MouseButtonPress) {
            m_tabPressPos = static_cast<QMouseEvent*>(event)->position().toPoint();
        } else if (event->type() == QEvent::MouseMove) {
            auto* mouse = static_cast<QMouseEvent*>(event);
            const QPoint pos = mouse->position().toPoint();
            const QRect bar = m_tabs->tabBar()->rect();
            if ((mouse->buttons() & Qt::LeftButton)
                && (pos.y() < -TearOffDistance || pos.y() > bar.height() + TearOffDistance)) {
                const int index = m_tabs->tabBar()->tabAt(m_tabPressPos);
                auto* pane = paneAt(index);
                if (pane && !pane->isMerged()) {
                    // Let the bar finish its drag before the tab goes.
                    QMouseEvent release(QEvent::MouseButtonRelease, mouse->position(), mouse->globalPosition(),
                                        Qt::LeftButton, Qt::NoButton, mouse->modifiers());
                    QApplication::sendEvent(m_tabs->tabBar(), &release);
                    toggleDetached(pane);
                    return true;
                }
            }
        } else if (event->type() == QEvent::MouseButtonDblClick) {
            const int index = m_tabs->tabBar()->tabAt(static_cast<QMouseEvent*>(event)->position().toPoint());
            auto* pane = paneAt(index);
            if (pane && !pane->isMerged()) {
                toggleDetached(pane);
                return true;
            }
        }
    }
    return QMainWindow::eventFilter(watched, event);
}

void MainWindow::onCurrentTabChanged()
{
    auto* pane = paneAt(m_tabs->currentIndex());
    if (!pane || pane->isMerged()) {
        m_commandBar->setTargetsAll(); // the forum's tab too: its agents are all the agents
    } else {
        m_commandBar->setTargets({{pane->hostKey(), pane->agentId()}});
        m_fleet->agents()->markRead(pane->hostKey(), pane->agentId());
        updateTabStates();
    }
    updateCommandAccess();
}

void MainWindow::updateCommandAccess()
{
    auto* pane = paneAt(m_tabs->currentIndex());
    QString reason;
    if (pane && !pane->isMerged()) {
        reason = m_fleet->readOnlyReason(pane->hostKey());
    } else {
        // All agents: closed only when no host takes commands.
        const QStringList hosts = m_fleet->hostKeys();
        for (const QString& host : hosts) {
            const QString why = m_fleet->readOnlyReason(host);
            if (why.isEmpty()) {
                reason.clear();
                break;
            }
            reason = why;
        }
    }
    m_commandBar->setReadOnlyReason(reason);
}

void MainWindow::focusCommandBar()
{
    m_commandBar->lineEdit()->setFocus(Qt::ShortcutFocusReason);
    m_commandBar->lineEdit()->selectAll();
}

bool MainWindow::confirmDisruptive(const QList<AgentRef>& targets, const QString& name)
{
    if (targets.size() < 2 || !CommandLine::isDisruptive(name))
        return true;
    QStringList names;
    for (const auto& [host, agent] : targets)
        names << tabTitle(host, agent);
    QMessageBox box(QMessageBox::Question, tr("%1 %n Agents?", nullptr, int(targets.size())).arg(name),
                    tr("Send \"%1\" to %n agents?", nullptr, int(targets.size())).arg(name), QMessageBox::Cancel, this);
    box.setObjectName(QStringLiteral("confirmDialog"));
    box.setInformativeText(names.join(QStringLiteral(", ")));
    QPushButton* go = box.addButton(name.at(0).toUpper() + name.mid(1), QMessageBox::DestructiveRole);
    box.setDefaultButton(QMessageBox::Cancel);
    box.exec();
    return box.clickedButton() == go;
}

void MainWindow::sendLine(const QList<AgentRef>& targets, const QString& line)
{
    if (targets.isEmpty()) {
        m_commandBar->showFeedback(tr("No agent to send to yet."), true);
        return;
    }
    struct Outgoing
    {
        AgentRef target;
        CommandLine::Command command;
    };
    QList<Outgoing> outgoing;
    QString readOnly;
    for (const AgentRef& target : targets) {
        if (const QString why = m_fleet->readOnlyReason(target.first); !why.isEmpty()) {
            readOnly = why;
            continue;
        }
        const Link::AgentInfo* info = m_fleet->agents()->agent(target.first, target.second);
        QStringList advertised;
        if (info) {
            for (const Link::AgentCommand& command : info->commands)
                advertised << command.name;
        }
        const bool launched = info && info->origin == QLatin1String("launched");
        CommandLine::Command command = CommandLine::parse(line, launched, advertised);
        if (!command.error.isEmpty()) {
            m_commandBar->showFeedback(command.error, true);
            return;
        }
        outgoing.append({target, command});
    }
    if (outgoing.isEmpty()) {
        m_commandBar->showFeedback(readOnly, true);
        return;
    }
    if (!confirmDisruptive(targets, outgoing.first().command.name)) {
        m_commandBar->showFeedback(tr("Not sent."), false);
        return;
    }
    QStringList ids;
    for (const Outgoing& out : std::as_const(outgoing)) {
        const QString id = m_fleet->sendCommand(out.target.first, out.target.second, out.command.name, out.command.args,
                                                line.trimmed());
        m_ownCommands.insert(id);
        ids.append(id);
    }
    groupResults(ids, line.trimmed());
    m_commandBar->showFeedback(outgoing.size() == 1 ? tr("Sent…") : tr("Sent to %1 agents…").arg(outgoing.size()),
                               false);
}

void MainWindow::groupResults(const QStringList& ids, const QString& text)
{
    if (ids.size() < 2)
        return;
    // One row in the console of all agents sums up the results; each agent's console has its own.
    const QString group = QStringLiteral("group-%1").arg(++m_groupSerial);
    m_fleet->allAgents()->appendMark(group, tr("%1   (to %n agents)", nullptr, int(ids.size())).arg(text));
    CommandGroup& results = m_groups[group];
    results.expected = int(ids.size());
    for (const QString& id : ids)
        m_groupOf.insert(id, group);
}

bool MainWindow::takeGroupedResult(const QString& id, const QString& agentLabel, bool ok, const QString& text)
{
    const QString group = m_groupOf.take(id);
    if (group.isEmpty())
        return false;
    CommandGroup& results = m_groups[group];
    if (ok)
        ++results.ok;
    else
        results.failures.append(agentLabel + QStringLiteral(": ") + text);
    const int done = results.ok + int(results.failures.size());
    QString summary = tr("%1 of %2 ok").arg(results.ok).arg(results.expected);
    if (!results.failures.isEmpty()) {
        QStringList shown = results.failures.mid(0, 3);
        if (results.failures.size() > 3)
            shown.append(tr("%n more", nullptr, int(results.failures.size()) - 3));
        summary += tr(", %n failed: ", nullptr, int(results.failures.size())) + shown.join(QStringLiteral("; "));
    }
    if (done < results.expected)
        summary += tr(", %n waiting", nullptr, results.expected - done);
    const ConsoleModel::MarkState state = done < results.expected ? ConsoleModel::MarkPending
        : results.failures.isEmpty()                              ? ConsoleModel::MarkOk
                                                                  : ConsoleModel::MarkFailed;
    m_fleet->allAgents()->setMarkResult(group, summary, state);
    m_commandBar->showFeedback(summary, !results.failures.isEmpty());
    if (done == results.expected) {
        if (!results.failures.isEmpty())
            statusBar()->showMessage(summary, 8000);
        m_groups.remove(group);
    }
    return true;
}

void MainWindow::sendCommand(const QList<AgentRef>& chosen, const QString& name)
{
    QList<AgentRef> targets;
    QString readOnly;
    for (const AgentRef& target : chosen) {
        if (const QString why = m_fleet->readOnlyReason(target.first); !why.isEmpty())
            readOnly = why;
        else
            targets.append(target);
    }
    if (targets.isEmpty()) {
        m_commandBar->showFeedback(readOnly, true);
        return;
    }
    if (!confirmDisruptive(targets, name))
        return;
    QStringList ids;
    for (const auto& [host, agent] : targets) {
        ids.append(m_fleet->sendCommand(host, agent, name));
        m_ownCommands.insert(ids.constLast());
    }
    groupResults(ids, name);
}

void MainWindow::onCommandFinished(const QString& hostKey, const QString& id, const QString& agent, bool ok,
                                   const QString& text)
{
    if (!m_ownCommands.remove(id))
        return;
    if (const QString question = m_answerIds.take(id); !question.isEmpty() && !ok) {
        // The question stays open: it can be answered again.
        m_answering.remove(question);
        updateAskBar();
    }
    const QString who = tabTitle(hostKey, agent);
    const QString outcome = ok ? (text.isEmpty() ? tr("ok") : text) : text;
    if (takeGroupedResult(id, who, ok, outcome))
        return;
    m_commandBar->showFeedback(tr("%1: %2").arg(who, outcome), !ok);
    if (!ok)
        statusBar()->showMessage(tr("%1: %2").arg(who, outcome), 8000);
}

void MainWindow::showConnectHost()
{
    ConnectHostDialog dialog(this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    connectHost(dialog.entry());
    saveSession();
}

void MainWindow::showAddAgent(const QString& hostKey)
{
    AgentDialog dialog(this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    m_ownCommands.insert(m_fleet->defineAgent(hostKey, dialog.agentId(), dialog.definition()));
    openConsole(hostKey, dialog.agentId());
}

void MainWindow::showFollowFile()
{
    FollowFileDialog dialog(m_fleet->agents()->agentIds(LocalHost), this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    // The host's answer shows as a command's does: in the command bar, and in the status bar when it fails.
    m_ownCommands.insert(m_fleet->defineAgent(LocalHost, dialog.agentId(), dialog.definition()));
    openConsole(LocalHost, dialog.agentId());
}

void MainWindow::setBridgeAdder(BettaFishDialog::AddBridge add)
{
    m_addBridge = std::move(add);
    if (m_addBettaFishAction)
        m_addBettaFishAction->setEnabled(bool(m_addBridge));
}

void MainWindow::showAddBettaFish()
{
    if (!m_addBridge)
        return;
    BettaFishDialog dialog(m_fleet->agents()->agentIds(LocalHost), m_addBridge, this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    const BettaFishEntry entry = dialog.entry();
    statusBar()->showMessage(
        tr("BettaFish at %1 added: its apps are %2insight, %2media, %2query and %2forum").arg(entry.url, entry.prefix),
        8000);
}

void MainWindow::showEditAgent(const QString& hostKey, const QString& agentId)
{
    const Link::AgentInfo* info = m_fleet->agents()->agent(hostKey, agentId);
    if (!info)
        return;
    AgentDialog dialog(this);
    dialog.setDefinition(info->definition);
    if (dialog.exec() != QDialog::Accepted)
        return;
    m_ownCommands.insert(m_fleet->defineAgent(hostKey, agentId, dialog.definition()));
}

void MainWindow::removeAgent(const QString& hostKey, const QString& agentId)
{
    const QMessageBox::StandardButton answer =
        QMessageBox::question(this, tr("Remove Agent"),
                              tr("Remove %1? A launched agent is stopped first; its log file stays on disk.")
                                  .arg(tabTitle(hostKey, agentId)));
    if (answer != QMessageBox::Yes)
        return;
    // Its console closes when the host says the agent is gone (closeConsole).
    m_ownCommands.insert(m_fleet->removeAgent(hostKey, agentId));
}

void MainWindow::removeHost(const QString& hostKey)
{
    for (int i = m_tabs->count() - 1; i >= 0; --i) {
        if (paneAt(i) && paneAt(i)->hostKey() == hostKey)
            closeTab(i);
    }
    eraseDetached([&hostKey](const Detached& detached) { return detached.pane->hostKey() == hostKey; });
    m_fleet->removeHost(hostKey);
    m_remoteHosts.erase(hostKey);
    saveSession();
}

void MainWindow::showConnectBot()
{
    ConnectBotDialog dialog(m_localUrl, m_localToken, m_localTokenPath, this);
    dialog.exec();
}

void MainWindow::setHostStats(int agents, int viewers, quint64 linesIngested)
{
    Q_UNUSED(agents);
    Q_UNUSED(linesIngested);
    m_localViewers = viewers;
    updateAgentCounts();
}

void MainWindow::updateAgentCounts()
{
    // Every agent the window shows, by what it is doing.
    int total = 0, running = 0, stopped = 0, failed = 0, offline = 0;
    const AgentTreeModel* tree = m_fleet->agents();
    for (int h = 0; h < tree->rowCount(); ++h) {
        const QModelIndex host = tree->index(h, 0);
        for (int a = 0; a < tree->rowCount(host); ++a) {
            const QString state = tree->index(a, 0, host).data(AgentTreeModel::StateRole).toString();
            ++total;
            if (state == QLatin1String("offline"))
                ++offline;
            else if (state == QLatin1String("stopped"))
                ++stopped;
            else if (state == QLatin1String("crashed") || state == QLatin1String("error"))
                ++failed;
            else
                ++running;
        }
    }
    QStringList parts;
    if (running > 0)
        parts.append(tr("%1 running").arg(running));
    if (stopped > 0)
        parts.append(tr("%1 stopped").arg(stopped));
    if (failed > 0)
        parts.append(tr("%1 crashed").arg(failed));
    if (offline > 0)
        parts.append(tr("%1 offline").arg(offline));
    QString text = total == 1 ? tr("1 agent") : tr("%1 agents").arg(total);
    if (!parts.isEmpty())
        text += QStringLiteral(": ") + parts.join(QStringLiteral(", "));
    if (m_localViewers >= 0)
        text += QStringLiteral(" · ") + (m_localViewers == 1 ? tr("1 viewer") : tr("%1 viewers").arg(m_localViewers));
    m_statusLabel->setText(text);
}

void MainWindow::updateTabStates()
{
    // Each agent's tab wears its state's dot, and says how many errors wait unread and how
    // many alerts wait (until acknowledged, also on the tab shown).
    const auto withAlerts = [this](const QString& text, const ConsolePane* pane) {
        const int alerts = m_alertCenter->alerts()->unacknowledged(pane->hostKey(), pane->agentId());
        return alerts > 0 ? tr("%1  ⚠ %2").arg(text).arg(alerts) : text;
    };
    for (int i = 0; i < m_tabs->count(); ++i) {
        auto* pane = paneAt(i);
        if (!pane || pane->isMerged())
            continue;
        const QModelIndex agent = m_fleet->agents()->indexOf(pane->hostKey(), pane->agentId());
        const QString state = agent.isValid() ? agent.data(AgentTreeModel::StateRole).toString() : QString();
        m_tabs->setTabIcon(i, AgentTreeView::stateIcon(state, palette(), QSize(12, 12)));
        const QString title = tabTitle(pane->hostKey(), pane->agentId());
        if (i == m_tabs->currentIndex()) {
            // Errors on screen count as read.
            m_fleet->agents()->markRead(pane->hostKey(), pane->agentId());
            m_tabs->setTabText(i, withAlerts(title, pane));
            continue;
        }
        const int errors = agent.data(AgentTreeModel::UnreadErrorsRole).toInt();
        m_tabs->setTabText(i, withAlerts(errors > 0 ? tr("%1 (%2)").arg(title).arg(errors) : title, pane));
    }
}

void MainWindow::updateRate()
{
    updateTabStates();
    const quint64 lines = m_fleet->linesApplied();
    const quint64 perSecond = lines - m_lastLines;
    m_lastLines = lines;
    m_rateLabel->setText(tr("%L1 lines/s").arg(perSecond));
}

void MainWindow::showEvent(QShowEvent* event)
{
    QMainWindow::showEvent(event);
    // Torn-off consoles stay in front of the window they came from, also after a restart.
    QTimer::singleShot(0, this, [this] {
        for (const auto& detached : m_detached)
            detached->window->raise();
    });
    if (!m_layoutRestored) {
        // A first start: room for the agent list's columns and for the forum's messages.
        m_layoutRestored = true;
        QTimer::singleShot(0, this, [this] {
            // The consoles get some half of the window.
            resizeDocks({findChild<QDockWidget*>(QStringLiteral("agentsDock")),
                         findChild<QDockWidget*>(QStringLiteral("forumDock"))},
                        {std::min(m_tree->sizeHint().width(), width() / 3),
                         std::min(fontMetrics().averageCharWidth() * 52, width() * 2 / 9)},
                        Qt::Horizontal);
        });
    }
}

void MainWindow::resizeEvent(QResizeEvent* event)
{
    QMainWindow::resizeEvent(event);
    const int oldWidth = event->oldSize().width();
    const int newWidth = event->size().width();
    if (!isVisible() || oldWidth <= 0 || newWidth == oldWidth)
        return;
    // The docks beside the consoles grow and shrink with the window, in proportion,
    // instead of leaving every pixel of a maximised window to the consoles.
    QList<QDockWidget*> docks;
    QList<int> widths;
    for (QDockWidget* dock : findChildren<QDockWidget*>(Qt::FindDirectChildrenOnly)) {
        const Qt::DockWidgetArea area = dockWidgetArea(dock);
        if (dock->isFloating() || dock->isHidden()
            || (area != Qt::LeftDockWidgetArea && area != Qt::RightDockWidgetArea))
            continue;
        docks.append(dock);
        widths.append(std::max(dock->minimumSizeHint().width(), int(qint64(dock->width()) * newWidth / oldWidth)));
    }
    if (!docks.isEmpty())
        resizeDocks(docks, widths, Qt::Horizontal);
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    saveSession();
    m_detached.clear();
    QMainWindow::closeEvent(event);
}

void MainWindow::saveSession() const
{
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/state"), saveState());
    settings.setValue(QStringLiteral("commands/history"), m_commandBar->history());
    settings.setValue(QStringLiteral("alerts/rules"), AlertRules::toVariant(m_alertCenter->rules()));

    QVariantList hosts;
    for (const auto& [key, entry] : m_remoteHosts) {
        hosts.append(QVariantMap{{QStringLiteral("url"), entry.url.toString()},
                                 {QStringLiteral("token"), entry.token},
                                 {QStringLiteral("token_file"), entry.tokenFile},
                                 {QStringLiteral("pin"), entry.pinnedSha256},
                                 {QStringLiteral("ca"), entry.caFile}});
    }
    settings.setValue(QStringLiteral("hosts"), hosts);

    QVariantList tabs;
    const auto describe = [this](ConsolePane* pane, bool detached) {
        QVariantMap tab = pane->state();
        tab.insert(QStringLiteral("host"), pane->isMerged() ? QString() : hostAddress(pane->hostKey()));
        tab.insert(QStringLiteral("agent"), pane->agentId());
        if (const Link::AgentInfo* info = m_fleet->agents()->agent(pane->hostKey(), pane->agentId()))
            tab.insert(QStringLiteral("origin"), info->origin);
        tab.insert(QStringLiteral("detached"), detached);
        if (detached)
            tab.insert(QStringLiteral("geometry"), pane->window()->saveGeometry());
        return tab;
    };
    for (int i = 0; i < m_tabs->count(); ++i) {
        if (ConsolePane* pane = paneAt(i))
            tabs.append(describe(pane, false));
        else
            tabs.append(QVariantMap{{QStringLiteral("forum"), true}}); // where the forum's tab is
    }
    for (const auto& detached : m_detached)
        tabs.append(describe(detached->pane, true));
    settings.setValue(QStringLiteral("consoles/tabs"), tabs);
    settings.setValue(QStringLiteral("consoles/current"), m_tabs->currentIndex());
    settings.sync();
    // Tokens of remote hosts are in there.
    QFile::setPermissions(settings.fileName(), QFileDevice::ReadOwner | QFileDevice::WriteOwner);
}

void MainWindow::restoreSession()
{
    QSettings settings;
    m_commandBar->setHistory(settings.value(QStringLiteral("commands/history")).toStringList());
    // A first start keeps the center's own rules (AlertRule::defaults()).
    if (settings.contains(QStringLiteral("alerts/rules")))
        m_alertCenter->setRules(AlertRules::fromVariant(settings.value(QStringLiteral("alerts/rules")).toList()));
    const QVariantList hosts = settings.value(QStringLiteral("hosts")).toList();
    for (const QVariant& value : hosts) {
        const QVariantMap map = value.toMap();
        HostEntry entry;
        entry.url = QUrl(map.value(QStringLiteral("url")).toString());
        entry.token = map.value(QStringLiteral("token")).toString();
        entry.tokenFile = map.value(QStringLiteral("token_file")).toString();
        entry.pinnedSha256 = map.value(QStringLiteral("pin")).toString();
        entry.caFile = map.value(QStringLiteral("ca")).toString();
        if (entry.url.isValid())
            connectHost(entry);
    }
    const QVariantList tabs = settings.value(QStringLiteral("consoles/tabs")).toList();
    int position = 0;
    bool forumPlaced = false;
    for (const QVariant& value : tabs) {
        const QVariantMap tab = value.toMap();
        if (tab.value(QStringLiteral("forum")).toBool()) {
            m_tabs->tabBar()->moveTab(m_tabs->indexOf(m_forumPage), position++);
            forumPlaced = true;
            continue;
        }
        const QString agent = tab.value(QStringLiteral("agent")).toString();
        ConsolePane* pane = nullptr;
        if (agent.isEmpty()) {
            pane = findConsole(QString(), QString());
        } else {
            const QString host = hostKeyOf(tab.value(QStringLiteral("host")).toString());
            if (host.isEmpty())
                continue;
            pane = openConsole(host, agent);
            // A launched agent is defined on its host: one the host no longer lists was removed.
            if (tab.value(QStringLiteral("origin")).toString() == QLatin1String("launched"))
                m_restoredLaunched[host].append(agent);
        }
        pane->restoreState(tab);
        if (tab.value(QStringLiteral("detached")).toBool()) {
            toggleDetached(pane);
            pane->window()->restoreGeometry(tab.value(QStringLiteral("geometry")).toByteArray());
            keepOnScreen(pane->window());
        } else {
            m_tabs->tabBar()->moveTab(m_tabs->indexOf(pane), position++);
        }
    }
    if (!forumPlaced)
        m_tabs->tabBar()->moveTab(m_tabs->indexOf(m_forumPage), std::min(1, m_tabs->count() - 1));
    m_tabs->setCurrentIndex(
        std::clamp(settings.value(QStringLiteral("consoles/current")).toInt(), 0, m_tabs->count() - 1));
    restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
    m_layoutRestored = restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
}
