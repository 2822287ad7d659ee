// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/demo.h"
#include "app/desktop.h"
#include "models/agenttreemodel.h"
#include "models/askmodel.h"
#include "models/commandmodel.h"
#include "models/consolefiltermodel.h"
#include "models/consolemodel.h"
#include "models/conversationlistmodel.h"
#include "models/fleet.h"
#include "models/forummodel.h"
#include "server/engine/embeddedhost.h"
#include "server/engine/hostserver.h"
#include "server/link/hostlink.h"
#include "support/fixtures.h"
#include "support/windowtests.h"
#include "ui/agentstatusbar.h"
#include "ui/agenttreeview.h"
#include "ui/askviews.h"
#include "ui/commandbar.h"
#include "ui/consolepane.h"
#include "ui/consoleview.h"
#include "ui/conversationview.h"
#include "ui/dialogs.h"
#include "ui/mainwindow.h"

#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QCompleter>
#include <QContextMenuEvent>
#include <QDateTime>
#include <QDialog>
#include <QDir>
#include <QDockWidget>
#include <QFileInfo>
#include <QIcon>
#include <QImage>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QMenu>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QScrollBar>
#include <QSettings>
#include <QSpinBox>
#include <QStringListModel>
#include <QStyle>
#include <QTabBar>
#include <QTabWidget>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QToolButton>
#include <QWheelEvent>
#include <algorithm>

/*
 * The window as a person uses it, on the offscreen platform, against a real
 * embedded host running real agent processes: the test bot (echoes what it
 * reads on stdin) and the demo agents (logs at every level, advertised
 * commands, questions).
 */
namespace {

// The longest wait for a child process, a host or a page of history to act: a
// bound for a test that is going wrong, generous for sanitizer builds on a busy machine.
constexpr int Slow = 30000;
const QString Local = QStringLiteral("local");

AgentDefinition testBot(const QByteArray& id, const QStringList& args)
{
    AgentDefinition bot;
    bot.id = id;
    bot.command = QStringLiteral(AGENTDECK_TESTBOT);
    bot.args = args;
    bot.startsecs = 0;
    return bot;
}

AgentDefinition demoAgent(const QByteArray& id, const QString& role)
{
    AgentDefinition agent;
    agent.id = id;
    agent.command = QStringLiteral(AGENTDECK_DEMO_AGENT);
    agent.args = {QStringLiteral("--role"), role, QStringLiteral("--speed"), QStringLiteral("8")};
    agent.startsecs = 0;
    return agent;
}

HostConfig hostConfig(std::vector<AgentDefinition> agents)
{
    HostConfig config;
    config.port = 0;
    config.token = QStringLiteral("window-token");
    config.logDirectory.clear();
    config.metricsIntervalMs = 250;
    config.allowAgentEditing = true; // as the desktop's own host
    config.agents = std::move(agents);
    return config;
}

/// An embedded host with its agents and the window watching it.
struct Deck
{
    explicit Deck(std::vector<AgentDefinition> agents)
        : Deck(hostConfig(std::move(agents)))
    { }
    explicit Deck(const HostConfig& config)
        : desktop(config)
        , host(desktop.host())
        , window(desktop.window())
    {
        started = desktop.start(nullptr);
    }
    bool show()
    {
        window->show();
        QApplication::setActiveWindow(window);
        return QTest::qWaitForWindowActive(window);
    }
    Fleet* fleet() const { return desktop.fleet(); }
    const Link::AgentInfo* agent(const QString& id) const { return fleet()->agents()->agent(Local, id); }
    bool isRunning(const QString& id) const
    {
        const Link::AgentInfo* info = agent(id);
        return info && info->processState == QLatin1String("RUNNING");
    }
    /// What the window knows of an agent and its host, for a failing wait.
    QByteArray describe(const QString& id) const
    {
        const HostLink* link = fleet()->link(Local);
        QString text = QStringLiteral("link state %1 (%2); ")
                           .arg(link ? int(link->state()) : -1)
                           .arg(link ? link->status().reason : QString());
        if (const Link::AgentInfo* info = agent(id)) {
            text += QStringLiteral("%1: process %2, state %3, pid %4, exit %5, connected %6")
                        .arg(id, info->processState, info->state)
                        .arg(info->pid)
                        .arg(info->exitCode)
                        .arg(info->connected);
        } else {
            text += id + QStringLiteral(": not known");
        }
        return text.toUtf8();
    }
    bool isConnected(const QString& id) const
    {
        const Link::AgentInfo* info = agent(id);
        return info && info->connected && !info->commands.isEmpty();
    }

    Desktop desktop;
    EmbeddedHost& host;
    MainWindow* window;
    bool started = false;
};

bool consoleHas(const QAbstractItemModel* model, const QString& text, Console::Kind kind = Console::Kind::Line)
{
    for (int row = 0; row < model->rowCount(); ++row) {
        const QModelIndex index = model->index(row, 0);
        if (Console::Kind(index.data(ConsoleModel::KindRole).toInt()) == kind
            && index.data(ConsoleModel::TextRole).toString().contains(text))
            return true;
    }
    return false;
}

/// A role of the latest mark row whose text is text; invalid when there is none.
QVariant markData(const QAbstractItemModel* model, const QString& text, int role)
{
    for (int row = model->rowCount() - 1; row >= 0; --row) {
        const QModelIndex index = model->index(row, 0);
        if (Console::Kind(index.data(ConsoleModel::KindRole).toInt()) == Console::Kind::Mark
            && index.data(ConsoleModel::TextRole).toString() == text)
            return index.data(role);
    }
    return {};
}

/// The state of the mark row whose text is text; -1 when there is none.
int markState(const QAbstractItemModel* model, const QString& text)
{
    const QVariant state = markData(model, text, ConsoleModel::MarkStateRole);
    return state.isValid() ? state.toInt() : -1;
}

/// Double-clicks an agent in the agent list, as a person opens its console.
void openFromTree(MainWindow* window, const QString& agentId)
{
    auto* tree = window->findChild<AgentTreeView*>(QStringLiteral("agentTree"));
    const QModelIndex index = window->fleet()->agents()->indexOf(Local, agentId);
    QVERIFY(index.isValid());
    tree->scrollTo(index);
    const QPoint center = tree->visualRect(index).center();
    QTest::mouseClick(tree->viewport(), Qt::LeftButton, {}, center);
    QTest::mouseDClick(tree->viewport(), Qt::LeftButton, {}, center);
}

/// Ctrl+L, the line, Enter.
void typeCommand(MainWindow* window, const QString& line)
{
    // Back to the window, as after a dialog (the offscreen platform does not do it).
    if (!window->isActiveWindow()) {
        window->activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(window));
    }
    QTest::keyClick(window, Qt::Key_L, Qt::ControlModifier);
    QLineEdit* edit = window->commandBar()->lineEdit();
    QVERIFY(edit->hasFocus());
    QTest::keyClicks(edit, line);
    // Enter sends the line whether or not completion is showing.
    QWidget* popup = edit->completer()->popup();
    QTest::keyClick(popup->isVisible() ? popup : static_cast<QWidget*>(edit), Qt::Key_Return);
    QCOMPARE(edit->text(), QString());
}

/// Clicks the button with this text in the next modal dialog that opens.
void answerNextDialog(const QString& buttonText, bool* seen)
{
    QTimer::singleShot(50, [buttonText, seen] {
        QWidget* modal = QApplication::activeModalWidget();
        if (!modal) {
            answerNextDialog(buttonText, seen);
            return;
        }
        *seen = true;
        for (QAbstractButton* button : modal->findChildren<QAbstractButton*>()) {
            if (button->text().remove(QLatin1Char('&')) == buttonText) {
                button->click();
                return;
            }
        }
        qWarning("no button %s in the dialog", qPrintable(buttonText));
        static_cast<QDialog*>(modal)->reject();
    });
}

int rowsWithLevel(const QAbstractItemModel* model, LogLevel level)
{
    int rows = 0;
    for (int row = 0; row < model->rowCount(); ++row)
        rows += LogLevel(model->index(row, 0).data(ConsoleModel::LevelRole).toInt()) == level;
    return rows;
}

QSet<QString> forumSenders(const QAbstractItemModel* forum)
{
    QSet<QString> senders;
    for (int row = 0; row < forum->rowCount(); ++row)
        senders.insert(forum->index(row, 0).data(ForumModel::SenderRole).toString());
    return senders;
}

} // namespace

class TestMainWindow final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void showsTheApplicationIcon();
    void typedLineReachesLaunchedAgent();
    void commandsAdvertisedByAnAgent();
    void consoleHeaderShowsPlanAndProgress();
    void demoCrashesNowAndThenAndIsRestarted();
    void namesReadableAtTheSmallestSize();
    void stoppingSeveralAgentsAsksFirst();
    void agentListMenuAndOfflineHost();
    void wrongHostTokenIsFixed();
    void readOnlyTokenOnlyWatches();
    void scrollsBackIntoTheLogFiles();
    void searchAndFilter();
    void selectCopyExportClear();
    void tabsCloseReorderTearOff();
    void restoresAfterRestart();
    void answersAnAgentsQuestion();
    void connectBotDialog();
    void addAndConnectThroughDialogs();
    void followLogFileThroughDialog();
    void addBettaFishThroughDialog();
    void screenshots();
};

void TestMainWindow::init()
{
    QSettings().clear();
    applyPalette(false);
}

void TestMainWindow::showsTheApplicationIcon()
{
    // The icon comes with the program the desktop puts together, not with an earlier test.
    QApplication::setWindowIcon(QIcon());
    Deck deck(std::vector<AgentDefinition>{});
    QVERIFY(deck.started);
    QVERIFY(deck.show());

    const QIcon icon = deck.window->windowIcon();
    QVERIFY(!icon.isNull());
    const QList<QSize> sizes = icon.availableSizes();
    for (const int side : {16, 22, 24, 32, 48, 64, 128, 256})
        QVERIFY2(sizes.contains(QSize(side, side)), qPrintable(QStringLiteral("no %1 px image").arg(side)));

    // At 16 px it is still a picture: mostly opaque, in more than one colour.
    const QImage small = icon.pixmap(QSize(16, 16), 1.0).toImage().convertToFormat(QImage::Format_ARGB32);
    QCOMPARE(small.size(), QSize(16, 16));
    int opaque = 0;
    QSet<QRgb> colours;
    for (int y = 0; y < small.height(); ++y) {
        for (int x = 0; x < small.width(); ++x) {
            const QRgb pixel = small.pixel(x, y);
            if (qAlpha(pixel) == 255) {
                ++opaque;
                colours.insert(pixel);
            }
        }
    }
    QVERIFY2(opaque > small.width() * small.height() / 2, qPrintable(QString::number(opaque)));
    QVERIFY2(colours.size() > 1, qPrintable(QString::number(colours.size())));
}

void TestMainWindow::typedLineReachesLaunchedAgent()
{
    Deck deck({testBot("echo", {QStringLiteral("--stdin"), QStringLiteral("--forever")})});
    QVERIFY(deck.started);
    QVERIFY(deck.show());
    QTRY_VERIFY2_WITH_TIMEOUT(deck.isRunning(QStringLiteral("echo")), deck.describe(QStringLiteral("echo")).constData(),
                              Slow);

    openFromTree(deck.window, QStringLiteral("echo"));
    QTabWidget* tabs = deck.window->tabs();
    QCOMPARE(tabs->count(), 3); // all agents, the forum, echo
    QCOMPARE(tabs->tabText(tabs->currentIndex()), QStringLiteral("echo"));
    // The command bar now talks to the agent on screen.
    QCOMPARE(deck.window->commandBar()->targets(), QList<AgentRef>({{Local, QStringLiteral("echo")}}));

    // Plain text goes to the program's stdin; its answer and the command's result appear.
    typeCommand(deck.window, QStringLiteral("echo hello from the window"));
    ConsoleModel* console = deck.fleet()->console(Local, QStringLiteral("echo"));
    QTRY_VERIFY_WITH_TIMEOUT(consoleHas(console, QStringLiteral("hello from the window")), Slow);
    // It was written to the program's input, which is all a line to stdin can say.
    QTRY_COMPARE(markState(console, QStringLiteral("echo hello from the window")), int(ConsoleModel::MarkSent));
    auto* feedback = deck.window->findChild<QLabel*>(QStringLiteral("commandFeedback"));
    QTRY_COMPARE(feedback->toolTip(), QStringLiteral("echo: sent to stdin"));

    // A built-in with a missing argument is refused before anything is sent.
    const int commandsBefore = deck.fleet()->commands()->rowCount();
    typeCommand(deck.window, QStringLiteral("signal"));
    QVERIFY(feedback->toolTip().contains(QLatin1String("signal needs a signal name")));
    QCOMPARE(deck.fleet()->commands()->rowCount(), commandsBefore);

    // A built-in reaches the host: restart gives the agent a new process.
    const qint64 pid = deck.agent(QStringLiteral("echo"))->pid;
    typeCommand(deck.window, QStringLiteral("restart"));
    QTRY_COMPARE_WITH_TIMEOUT(markState(console, QStringLiteral("restart")), int(ConsoleModel::MarkOk), Slow);
    QTRY_VERIFY_WITH_TIMEOUT(deck.isRunning(QStringLiteral("echo")) && deck.agent(QStringLiteral("echo"))->pid != pid,
                             Slow);

    // Up brings the last lines back.
    QLineEdit* edit = deck.window->commandBar()->lineEdit();
    QTest::keyClick(edit, Qt::Key_Up);
    QCOMPARE(edit->text(), QStringLiteral("restart"));
    QTest::keyClick(edit, Qt::Key_Up);
    QCOMPARE(edit->text(), QStringLiteral("signal"));
    QTest::keyClick(edit, Qt::Key_Down);
    QTest::keyClick(edit, Qt::Key_Down);
    QCOMPARE(edit->text(), QString());
}

void TestMainWindow::consoleHeaderShowsPlanAndProgress()
{
    Deck deck({demoAgent("query", QStringLiteral("query"))});
    QVERIFY(deck.started);
    QVERIFY(deck.show());
    deck.window->resize(1280, 800);
    QTRY_VERIFY_WITH_TIMEOUT(deck.isConnected(QStringLiteral("query")), Slow);
    openFromTree(deck.window, QStringLiteral("query"));
    auto* pane = qobject_cast<ConsolePane*>(deck.window->tabs()->currentWidget());
    QVERIFY(pane);
    AgentStatusBar* status = pane->agentStatus();
    QVERIFY(status);
    // The demo works through four tasks and says so in its status.
    QTRY_VERIFY2_WITH_TIMEOUT(status->taskText().contains(QStringLiteral(" of 4 \u00B7 ")),
                              qPrintable(status->taskText()), Slow);
    const QModelIndex row = deck.fleet()->agents()->indexOf(Local, QStringLiteral("query"));
    const QString current = row.data(AgentTreeModel::CurrentTaskRole).toString();
    QVERIFY(!current.isEmpty());
    QVERIFY2(status->taskText().endsWith(current), qPrintable(status->taskText()));
    QCOMPARE(status->progressPercent(), qRound(row.data(AgentTreeModel::ProgressRole).toDouble() * 100));
    QCOMPARE(status->stateText(), row.data(AgentTreeModel::StateRole).toString());
    QVERIFY(status->toolTip().contains(QLatin1String("Tasks (")));
    // The agent list has the same progress, in a column of its own.
    auto* tree = deck.window->findChild<AgentTreeView*>();
    QVERIFY(!tree->isColumnHidden(AgentTreeModel::ProgressColumn));
    QVERIFY(row.siblingAtColumn(AgentTreeModel::ProgressColumn).data().toString().endsWith(QLatin1String(" %")));

    // At 1280x800 every pane keeps a usable size: the console no longer holds the window wide.
    QVERIFY2(pane->minimumSizeHint().width() <= 420, qPrintable(QString::number(pane->minimumSizeHint().width())));
    QTest::qWait(100);
    QVERIFY(deck.window->grab().save(screenshotPath(QStringLiteral("window-1280"))));
    // Pausing shows at once, in the header and the list.
    typeCommand(deck.window, QStringLiteral("pause"));
    QTRY_COMPARE_WITH_TIMEOUT(status->stateText(), QStringLiteral("idle"), Slow);
    QCOMPARE(row.data(AgentTreeModel::StateRole).toString(), QStringLiteral("idle"));
    for (const bool dark : {false, true}) {
        applyPalette(dark);
        QTest::qWait(50);
        QVERIFY(pane->grab(QRect(0, 0, pane->width(), 120))
                    .save(screenshotPath(dark ? QStringLiteral("plan-dark") : QStringLiteral("plan-light"))));
    }
    applyPalette(false);
}

void TestMainWindow::demoCrashesNowAndThenAndIsRestarted()
{
    // The demo as the app starts it, twenty times faster: the media engine dies of an
    // error within seconds and its host brings it back.
    std::vector<AgentDefinition> demo = demoAgentDefinitions(QStringLiteral(AGENTDECK_DEMO_AGENT), 20.0);
    demo.erase(std::remove_if(demo.begin(), demo.end(), [](const AgentDefinition& d) { return d.id != "demo-media"; }),
               demo.end());
    Deck deck(std::move(demo));
    QVERIFY(deck.started);
    QVERIFY(deck.show());
    QTRY_VERIFY2_WITH_TIMEOUT(deck.agent(QStringLiteral("demo-media"))
                                  && deck.agent(QStringLiteral("demo-media"))->restarts >= 1,
                              deck.describe(QStringLiteral("demo-media")).constData(), 30000);
    QTRY_VERIFY_WITH_TIMEOUT(deck.isRunning(QStringLiteral("demo-media")), Slow);
    // Its traceback is one ERROR record, the exception line included.
    ConsoleModel* console = deck.fleet()->console(Local, QStringLiteral("demo-media"));
    QTRY_VERIFY_WITH_TIMEOUT(consoleHas(console, QStringLiteral("ConnectionError: upstream closed")), Slow);
    int tracebackLines = 0;
    for (int row = 0; row < console->rowCount(); ++row) {
        const QModelIndex index = console->index(row, 0);
        const QString text = index.data(ConsoleModel::TextRole).toString();
        if (text.startsWith(QLatin1String("  File \"/srv/pipeline/"))
            || text.startsWith(QLatin1String("ConnectionError"))
            || text.startsWith(QLatin1String("    await self.collect"))) {
            ++tracebackLines;
            QVERIFY2(LogLevel(index.data(ConsoleModel::LevelRole).toInt()) == LogLevel::Error, qPrintable(text));
        }
    }
    QVERIFY(tracebackLines >= 5);
    // Its console folds it into its first line, which ends with the exception.
    ConsolePane* pane = deck.window->openConsole(Local, QStringLiteral("demo-media"));
    QVERIFY(pane);
    auto* fold = pane->findChild<QToolButton*>(QStringLiteral("foldButton"));
    QVERIFY(fold);
    fold->click();
    QAbstractItemModel* shown = pane->view()->model();
    int folded = 0;
    for (int row = 0; row < shown->rowCount(); ++row) {
        const QModelIndex index = shown->index(row, 0);
        QVERIFY(!index.data(ConsoleModel::TextRole).toString().startsWith(QLatin1String("  File \"/srv/pipeline/")));
        if (index.data(ConsoleFilterModel::RecordEndRole).toString()
            != QLatin1String("ConnectionError: upstream closed after 512 items"))
            continue;
        QCOMPARE(index.data(ConsoleFilterModel::FoldRole).toInt(), int(ConsoleFilterModel::Folded));
        QVERIFY(index.data(ConsoleFilterModel::RecordLinesRole).toInt() >= 7);
        ++folded;
    }
    QVERIFY(folded >= 1);
}

void TestMainWindow::namesReadableAtTheSmallestSize()
{
    // A first start at 1280x800 with the demo: its agents raise alerts, and every name
    // in the agent list is still whole with the badge after it.
    Deck deck(demoAgentDefinitions(QStringLiteral(AGENTDECK_DEMO_AGENT), 8.0));
    QVERIFY(deck.started);
    deck.window->resize(1280, 800);
    QVERIFY(deck.show());
    auto* tree = deck.window->findChild<AgentTreeView*>();
    QVERIFY(tree);
    AgentTreeModel* agents = deck.fleet()->agents();
    const QModelIndex host = agents->index(0, 0);
    QTRY_COMPARE_WITH_TIMEOUT(agents->rowCount(host), 4, Slow);
    const auto badges = [&] {
        int withBadge = 0;
        for (int row = 0; row < agents->rowCount(host); ++row)
            withBadge += tree->alertBadge(agents->index(row, 0, host)) > 0 ? 1 : 0;
        return withBadge;
    };
    QTRY_VERIFY_WITH_TIMEOUT(badges() >= 2, Slow);
    QTest::qWait(50);
    QCOMPARE(tree->shownName(host), host.data().toString());
    for (int row = 0; row < agents->rowCount(host); ++row) {
        const QModelIndex agent = agents->index(row, 0, host);
        QCOMPARE(tree->shownName(agent), agent.data().toString());
    }
    // The consoles and the forum keep their share.
    QVERIFY2(deck.window->tabs()->width() >= 1280 * 2 / 5, qPrintable(QString::number(deck.window->tabs()->width())));
    QVERIFY(deck.window->findChild<QDockWidget*>(QStringLiteral("forumDock"))->width() >= 250);
    QVERIFY(deck.window->grab().save(screenshotPath(QStringLiteral("names-1280"))));
}

void TestMainWindow::commandsAdvertisedByAnAgent()
{
    Deck deck({demoAgent("query", QStringLiteral("query"))});
    QVERIFY(deck.started);
    QVERIFY(deck.show());
    QTRY_VERIFY_WITH_TIMEOUT(deck.isConnected(QStringLiteral("query")), Slow);
    openFromTree(deck.window, QStringLiteral("query"));

    // Completion offers the host's built-ins and what the agent advertises.
    auto* completions = qobject_cast<QStringListModel*>(deck.window->commandBar()->lineEdit()->completer()->model());
    QVERIFY(completions);
    QTRY_VERIFY(completions->stringList().contains(QStringLiteral("pause")));
    QVERIFY(completions->stringList().contains(QStringLiteral("status")));
    QVERIFY(completions->stringList().contains(QStringLiteral("restart")));
    QVERIFY(completions->stringList().contains(QStringLiteral("signal SIGUSR1")));

    ConsoleModel* console = deck.fleet()->console(Local, QStringLiteral("query"));
    typeCommand(deck.window, QStringLiteral("status"));
    QTRY_COMPARE_WITH_TIMEOUT(markState(console, QStringLiteral("status")), int(ConsoleModel::MarkOk), Slow);
    QVERIFY(!markData(console, QStringLiteral("status"), ConsoleModel::MarkResultRole).toString().isEmpty());

    typeCommand(deck.window, QStringLiteral("pause"));
    QTRY_COMPARE_WITH_TIMEOUT(markState(console, QStringLiteral("pause")), int(ConsoleModel::MarkOk), Slow);
    typeCommand(deck.window, QStringLiteral("resume"));
    QTRY_COMPARE_WITH_TIMEOUT(markState(console, QStringLiteral("resume")), int(ConsoleModel::MarkOk), Slow);

    // A command the agent does not know comes back as an error next to its mark.
    typeCommand(deck.window, QStringLiteral("/frobnicate now"));
    QTRY_COMPARE_WITH_TIMEOUT(markState(console, QStringLiteral("/frobnicate now")), int(ConsoleModel::MarkFailed),
                              Slow);
}

void TestMainWindow::stoppingSeveralAgentsAsksFirst()
{
    Deck deck({testBot("one", {QStringLiteral("--forever")}), testBot("two", {QStringLiteral("--forever")})});
    QVERIFY(deck.started);
    QVERIFY(deck.show());
    QTRY_VERIFY2_WITH_TIMEOUT(
        deck.isRunning(QStringLiteral("one")) && deck.isRunning(QStringLiteral("two")),
        QByteArray(deck.describe(QStringLiteral("one")) + "; " + deck.describe(QStringLiteral("two"))).constData(),
        Slow);
    CommandBar* bar = deck.window->commandBar();
    bar->setTargetsAll();
    QCOMPARE(bar->targets().size(), 2);

    // Cancelled: nothing is sent.
    const int before = deck.fleet()->commands()->rowCount();
    bool asked = false;
    answerNextDialog(QStringLiteral("Cancel"), &asked);
    typeCommand(deck.window, QStringLiteral("stop"));
    QVERIFY(asked);
    QCOMPARE(deck.fleet()->commands()->rowCount(), before);
    QVERIFY(deck.isRunning(QStringLiteral("one")));

    // Confirmed: both stop, each with its own marked result.
    asked = false;
    answerNextDialog(QStringLiteral("Stop"), &asked);
    typeCommand(deck.window, QStringLiteral("stop"));
    QVERIFY(asked);
    QCOMPARE(deck.fleet()->commands()->rowCount(), before + 2);
    for (const QString& id : {QStringLiteral("one"), QStringLiteral("two")}) {
        QTRY_COMPARE_WITH_TIMEOUT(markState(deck.fleet()->console(Local, id), QStringLiteral("stop")),
                                  int(ConsoleModel::MarkOk), Slow);
        QTRY_VERIFY_WITH_TIMEOUT(!deck.isRunning(id), Slow);
    }
    // The console of all agents sums it up in one row, as does the command bar.
    ConsoleModel* all = deck.fleet()->allAgents();
    QTRY_COMPARE(markState(all, QStringLiteral("stop   (to 2 agents)")), int(ConsoleModel::MarkOk));
    QCOMPARE(markData(all, QStringLiteral("stop   (to 2 agents)"), ConsoleModel::MarkResultRole).toString(),
             QStringLiteral("2 of 2 ok"));
    auto* feedback = deck.window->findChild<QLabel*>(QStringLiteral("commandFeedback"));
    QCOMPARE(feedback->toolTip(), QStringLiteral("2 of 2 ok"));

    // A command that one of them fails: the summary says which and why.
    typeCommand(deck.window, QStringLiteral("signal SIGUSR1"));
    const QString summaryRow = QStringLiteral("signal SIGUSR1   (to 2 agents)");
    QTRY_COMPARE_WITH_TIMEOUT(markState(all, summaryRow), int(ConsoleModel::MarkFailed), Slow);
    const QString summary = markData(all, summaryRow, ConsoleModel::MarkResultRole).toString();
    QVERIFY2(summary.startsWith(QStringLiteral("0 of 2 ok, 2 failed: one: ")), qPrintable(summary));
    QVERIFY2(summary.contains(QStringLiteral("; two: ")), qPrintable(summary));

    // One agent at a time needs no confirmation.
    bar->setTargets({{Local, QStringLiteral("one")}});
    typeCommand(deck.window, QStringLiteral("start"));
    QTRY_VERIFY2_WITH_TIMEOUT(deck.isRunning(QStringLiteral("one")), deck.describe(QStringLiteral("one")).constData(),
                              Slow);
}

void TestMainWindow::agentListMenuAndOfflineHost()
{
    Deck deck({testBot("worker", {QStringLiteral("--forever")})});
    QVERIFY(deck.started);
    QVERIFY(deck.show());
    QTRY_VERIFY2_WITH_TIMEOUT(deck.isRunning(QStringLiteral("worker")),
                              deck.describe(QStringLiteral("worker")).constData(), Slow);
    // The status bar counts the agents the window shows, by what they do.
    auto* counts = deck.window->findChild<QLabel*>(QStringLiteral("statusLabel"));
    QTRY_VERIFY2(counts->text().startsWith(QStringLiteral("1 agent: 1 running")), qPrintable(counts->text()));
    auto* tree = deck.window->findChild<AgentTreeView*>(QStringLiteral("agentTree"));
    const QModelIndex worker = deck.fleet()->agents()->indexOf(Local, QStringLiteral("worker"));
    QCOMPARE(AgentTreeView::stateColor(worker.data(AgentTreeModel::StateRole).toString(), tree->palette()),
             AgentTreeView::stateColor(QStringLiteral("running"), tree->palette()));

    // Right-click, "Stop": the agent stops, its mark in its console says ok.
    QTimer::singleShot(100, [] {
        auto* menu = qobject_cast<QMenu*>(QApplication::activePopupWidget());
        QVERIFY(menu);
        for (QAction* action : menu->actions()) {
            if (action->text() == QLatin1String("Stop")) {
                QVERIFY(action->isEnabled());
                action->trigger();
            }
        }
        menu->close();
    });
    const QPoint at = tree->visualRect(worker).center();
    QContextMenuEvent click(QContextMenuEvent::Mouse, at, tree->viewport()->mapToGlobal(at));
    QApplication::sendEvent(tree->viewport(), &click);
    QTRY_VERIFY_WITH_TIMEOUT(!deck.isRunning(QStringLiteral("worker")), Slow);
    QTRY_COMPARE(markState(deck.fleet()->console(Local, QStringLiteral("worker")), QStringLiteral("stop")),
                 int(ConsoleModel::MarkOk));
    QTRY_VERIFY2(counts->text().startsWith(QStringLiteral("1 agent: 1 stopped")), qPrintable(counts->text()));
    // A stopped agent shows no load figures as if they were current.
    QVERIFY(worker.siblingAtColumn(AgentTreeModel::CpuColumn).data().toString().isEmpty());

    // A host that does not answer is greyed with the time until the next try.
    QTcpServer reserve;
    QVERIFY(reserve.listen(QHostAddress::LocalHost, 0));
    HostEntry entry;
    entry.url = QUrl(QStringLiteral("ws://127.0.0.1:%1/").arg(reserve.serverPort()));
    reserve.close();
    const QString key = deck.window->connectHost(entry);
    QTRY_COMPARE_WITH_TIMEOUT(deck.fleet()->agents()->hostState(key), AgentTreeModel::HostState::Offline, Slow);
    const QModelIndex host = deck.fleet()->agents()->indexOf(key);
    QTRY_VERIFY(AgentTreeView::hostStateText(host).startsWith(QLatin1String("offline, retry in ")));
    QVERIFY(!host.data(AgentTreeModel::StateReasonRole).toString().isEmpty());
}

namespace {

/// Whether a window lies within its screen, or (larger than the screen) starts at its top left.
bool onScreen(const QWidget* window)
{
    const QRect area = window->screen()->availableGeometry();
    const QRect frame = window->frameGeometry();
    return area.contains(frame)
        || (area.contains(frame.topLeft()) && (frame.width() <= area.width() || frame.left() == area.left())
            && (frame.height() <= area.height() || frame.top() == area.top()));
}

/// Right-clicks a row of the agent list and triggers the menu entry with this text.
void triggerTreeMenu(MainWindow* window, const QModelIndex& index, const QString& entry)
{
    auto* tree = window->findChild<AgentTreeView*>(QStringLiteral("agentTree"));
    bool found = false;
    QTimer::singleShot(100, [&entry, &found] {
        auto* menu = qobject_cast<QMenu*>(QApplication::activePopupWidget());
        QVERIFY(menu);
        QAction* chosen = nullptr;
        for (QAction* action : menu->actions()) {
            if (action->text() == entry)
                chosen = action;
        }
        menu->close();
        found = chosen != nullptr;
        if (chosen)
            chosen->trigger();
    });
    const QPoint at = tree->visualRect(index).center();
    QContextMenuEvent click(QContextMenuEvent::Mouse, at, tree->viewport()->mapToGlobal(at));
    QApplication::sendEvent(tree->viewport(), &click);
    QVERIFY2(found, qPrintable(entry));
}

} // namespace

void TestMainWindow::wrongHostTokenIsFixed()
{
    Deck deck(std::vector<AgentDefinition>{});
    QVERIFY(deck.started);
    QVERIFY(deck.show());
    HostConfig otherConfig = hostConfig({testBot("far", {QStringLiteral("--forever")})});
    otherConfig.token = QStringLiteral("the-right-token");
    // It stops and starts again on the same port below.
    otherConfig.port = portOutsideEphemeralRange();
    QVERIFY(otherConfig.port != 0);
    EmbeddedHost other(otherConfig);
    QVERIFY(other.start(nullptr));

    // A wrong token: the host stays offline and says why.
    HostEntry entry;
    entry.url = other.url();
    entry.token = QStringLiteral("a-wrong-token");
    const QString key = deck.window->connectHost(entry);
    AgentTreeModel* tree = deck.fleet()->agents();
    QTRY_COMPARE_WITH_TIMEOUT(tree->hostState(key), AgentTreeModel::HostState::Offline, Slow);
    QTRY_VERIFY(
        tree->indexOf(key).data(AgentTreeModel::StateReasonRole).toString().contains(QStringLiteral("unauthorized")));

    // Connecting to the same address again with the right token fixes it, at once.
    onNextDialog<ConnectHostDialog>([&other](ConnectHostDialog* dialog) {
        dialog->findChild<QLineEdit*>(QStringLiteral("hostUrl"))->setText(other.url().toString());
        dialog->findChild<QLineEdit*>(QStringLiteral("hostToken"))->setText(QStringLiteral("the-right-token"));
        dialog->accept();
    });
    deck.window->findChild<QAction*>(QStringLiteral("connectHostAction"))->trigger();
    QCOMPARE(deck.fleet()->hostKeys().size(), 2); // the same host, not a second one
    QTRY_COMPARE_WITH_TIMEOUT(tree->hostState(key), AgentTreeModel::HostState::Online, 5000);
    QTRY_VERIFY_WITH_TIMEOUT(tree->agent(key, QStringLiteral("far")), Slow);
    QCOMPARE(QSettings().value(QStringLiteral("hosts")).toList().size(), 1);

    // Edit Host… from the agent list: the host as it is, and a wrong token again.
    for (const bool dark : {false, true}) {
        applyPalette(dark);
        bool seen = false;
        onNextDialog<ConnectHostDialog>([dark, &seen](ConnectHostDialog* dialog) {
            seen = true;
            QCOMPARE(dialog->windowTitle(), QStringLiteral("Edit Host"));
            QCOMPARE(dialog->findChild<QLineEdit*>(QStringLiteral("hostToken"))->text(),
                     QStringLiteral("the-right-token"));
            QVERIFY(dialog->grab().save(
                screenshotPath(dark ? QStringLiteral("edit-host-dark") : QStringLiteral("edit-host-light"))));
            if (dark) {
                dialog->findChild<QLineEdit*>(QStringLiteral("hostToken"))->setText(QStringLiteral("wrong-again"));
                dialog->accept();
            } else {
                dialog->reject();
            }
        });
        triggerTreeMenu(deck.window, tree->indexOf(key), QStringLiteral("Edit Host…"));
        QVERIFY(seen);
    }
    applyPalette(false);
    QTRY_COMPARE_WITH_TIMEOUT(tree->hostState(key), AgentTreeModel::HostState::Offline, Slow);
    QVERIFY(tree->agent(key, QStringLiteral("far"))); // its agents stay listed while it is away

    // Fixed in Edit Host…: online again at once.
    onNextDialog<ConnectHostDialog>([](ConnectHostDialog* dialog) {
        dialog->findChild<QLineEdit*>(QStringLiteral("hostToken"))->setText(QStringLiteral("the-right-token"));
        dialog->accept();
    });
    triggerTreeMenu(deck.window, tree->indexOf(key), QStringLiteral("Edit Host…"));
    QTRY_COMPARE_WITH_TIMEOUT(tree->hostState(key), AgentTreeModel::HostState::Online, 5000);

    // A host that comes back while the link waits out its backoff: Reconnect Now.
    other.stop();
    QTRY_COMPARE_WITH_TIMEOUT(tree->hostState(key), AgentTreeModel::HostState::Offline, Slow);
    // A few failed attempts, until the next one is more than two seconds away.
    QTRY_VERIFY_WITH_TIMEOUT(
        deck.fleet()->link(key)->status().nextAttemptAt > QDateTime::currentMSecsSinceEpoch() + 2000, Slow);
    EmbeddedHost again(otherConfig);
    QVERIFY(again.start(nullptr));
    triggerTreeMenu(deck.window, tree->indexOf(key), QStringLiteral("Reconnect Now"));
    QTRY_COMPARE_WITH_TIMEOUT(tree->hostState(key), AgentTreeModel::HostState::Online, 1500);
}

void TestMainWindow::readOnlyTokenOnlyWatches()
{
    Deck deck(std::vector<AgentDefinition>{});
    QVERIFY(deck.started);
    QVERIFY(deck.show());
    std::vector<AgentDefinition> agents{demoAgent("moderator", QStringLiteral("moderator")),
                                        testBot("hidden", {QStringLiteral("--forever")})};
    agents.front().args << QStringLiteral("--ask-after") << QStringLiteral("300");
    HostConfig otherConfig = hostConfig(agents);
    TokenSpec watcher;
    watcher.name = QStringLiteral("watcher");
    watcher.secret = QStringLiteral("watch-secret");
    watcher.role = QStringLiteral("viewer");
    watcher.agents = {"mod*"};
    otherConfig.tokens.push_back(watcher);
    EmbeddedHost other(otherConfig);
    QVERIFY(other.start(nullptr));

    // Connected with a token file; the token only watches agents named mod*.
    QTemporaryDir dir;
    const QString tokenFile = dir.filePath(QStringLiteral("watch.token"));
    QFile file(tokenFile);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("watch-secret\n");
    file.close();
    QVERIFY(QFile::setPermissions(tokenFile, QFileDevice::ReadOwner | QFileDevice::WriteOwner));
    onNextDialog<ConnectHostDialog>([&other, &tokenFile](ConnectHostDialog* dialog) {
        dialog->findChild<QLineEdit*>(QStringLiteral("hostUrl"))->setText(other.url().toString());
        dialog->findChild<QLineEdit*>(QStringLiteral("hostTokenFile"))->setText(tokenFile);
        QVERIFY(!dialog->findChild<QLineEdit*>(QStringLiteral("hostToken"))->isEnabled());
        dialog->accept();
    });
    deck.window->findChild<QAction*>(QStringLiteral("connectHostAction"))->trigger();
    QStringList keys = deck.fleet()->hostKeys();
    keys.removeAll(Local);
    QCOMPARE(keys.size(), 1);
    const QString key = keys.first();
    AgentTreeModel* tree = deck.fleet()->agents();
    QTRY_VERIFY_WITH_TIMEOUT(tree->agent(key, QStringLiteral("moderator")), Slow);
    QVERIFY(!tree->agent(key, QStringLiteral("hidden")));
    QCOMPARE(QSettings().value(QStringLiteral("hosts")).toList().first().toMap().value(QStringLiteral("token_file")),
             QVariant(tokenFile));

    // Its console: the command bar says why it takes no lines, and none is sent.
    ConsolePane* pane = deck.window->openConsole(key, QStringLiteral("moderator"));
    QVERIFY(pane);
    QLineEdit* edit = deck.window->commandBar()->lineEdit();
    QTRY_VERIFY(edit->isReadOnly());
    QCOMPARE(edit->placeholderText(), QStringLiteral("Read-only token “watcher”: no commands"));
    deck.window->activateWindow();
    QTest::keyClick(deck.window, Qt::Key_L, Qt::ControlModifier);
    QTest::keyClicks(edit, QStringLiteral("pause"));
    QTest::keyClick(edit, Qt::Key_Return);
    QCOMPARE(deck.fleet()->commands()->rowCount(), 0);
    // Nor from the agent list's menu: it says why instead.
    triggerTreeMenu(deck.window, tree->indexOf(key, QStringLiteral("moderator")), QStringLiteral("Restart"));
    QCOMPARE(deck.fleet()->commands()->rowCount(), 0);
    QVERIFY(deck.window->commandBar()
                ->findChild<QLabel*>(QStringLiteral("commandFeedback"))
                ->toolTip()
                .startsWith(QStringLiteral("Read-only token")));

    // Its question shows, and cannot be answered from here.
    auto* askBar = deck.window->findChild<QWidget*>(QStringLiteral("askBar"));
    QTRY_VERIFY_WITH_TIMEOUT(askBar->isVisible(), Slow);
    auto* card = askBar->findChild<AskCard*>();
    QTRY_VERIFY(card->isArmed());
    QPushButton* approve = card->findChild<QPushButton*>(QStringLiteral("answer-approve"));
    QVERIFY(approve);
    QVERIFY(!approve->isEnabled());
    QVERIFY(approve->toolTip().startsWith(QStringLiteral("Read-only")));
    for (const bool dark : {false, true}) {
        applyPalette(dark);
        QTest::qWait(50);
        QVERIFY(deck.window->grab().save(
            screenshotPath(dark ? QStringLiteral("read-only-dark") : QStringLiteral("read-only-light"))));
    }
    applyPalette(false);
}

void TestMainWindow::scrollsBackIntoTheLogFiles()
{
    // The host keeps every line in its log file; the console holds the last thousand.
    QTemporaryDir logs;
    HostConfig config =
        hostConfig({testBot("old", {QStringLiteral("--lines"), QStringLiteral("6000"), QStringLiteral("--forever")})});
    config.logDirectory = logs.path();
    Deck deck(config);
    deck.fleet()->setConsoleLimits(3500, 64 * 1024 * 1024);
    QVERIFY(deck.started);
    QVERIFY(deck.show());
    ConsolePane* pane = deck.window->openConsole(Local, QStringLiteral("old"));
    ConsoleModel* console = pane->console();
    QTRY_VERIFY_WITH_TIMEOUT(consoleHas(console, QStringLiteral("line 000006000 ")), Slow);
    QTest::qWait(200);
    ConsoleView* view = pane->view();
    const int before = console->rowCount();
    QVERIFY2(before <= 3500, qPrintable(QString::number(before)));

    // Scrolled to the top: older lines come in above, and the reader stays where they were.
    view->verticalScrollBar()->setValue(0);
    const QString top = view->model()->index(0, 0).data(ConsoleModel::TextRole).toString();
    auto* historyText = pane->findChild<QLabel*>(QStringLiteral("historyText"));
    QTRY_VERIFY_WITH_TIMEOUT(console->rowCount() > before, Slow);
    QCOMPARE(view->model()->index(view->firstVisibleRow(), 0).data(ConsoleModel::TextRole).toString(), top);
    QVERIFY(!view->isFollowing());
    for (const bool dark : {false, true}) {
        applyPalette(dark);
        QTest::qWait(600); // the palette reaches every widget, the line count its next update
        view->verticalScrollBar()->setValue(0);
        QTRY_VERIFY(historyText->isVisible());
        QVERIFY(
            pane->grab().save(screenshotPath(dark ? QStringLiteral("history-dark") : QStringLiteral("history-light"))));
        QTRY_VERIFY_WITH_TIMEOUT(console->historyState() != ConsoleModel::HistoryState::Loading, Slow);
    }
    applyPalette(false);

    // Further up, to the start of the log: it says so.
    for (int page = 0; page < 10 && console->historyState() != ConsoleModel::HistoryState::Complete; ++page) {
        view->verticalScrollBar()->setValue(0);
        QWheelEvent wheel(QPointF(10, 10), view->mapToGlobal(QPointF(10, 10)), QPoint(), QPoint(0, 120), Qt::NoButton,
                          Qt::NoModifier, Qt::NoScrollPhase, false);
        QApplication::sendEvent(view->viewport(), &wheel);
        QTRY_VERIFY_WITH_TIMEOUT(console->historyState() != ConsoleModel::HistoryState::Loading, Slow);
    }
    QCOMPARE(console->historyState(), ConsoleModel::HistoryState::Complete);
    QVERIFY(consoleHas(console, QStringLiteral("line 000000001 ")));
    QTRY_COMPARE(historyText->text(), QStringLiteral("The start of this agent's log on the host."));
    // Every line once, in order.
    qint64 previous = 0;
    for (int row = 0; row < console->rowCount(); ++row) {
        const QModelIndex index = console->index(row, 0);
        if (index.data(ConsoleModel::KindRole).toInt() != int(Console::Kind::Line))
            continue;
        const qint64 seq = index.data(ConsoleModel::SeqRole).toLongLong();
        QVERIFY2(seq == previous + 1, qPrintable(QStringLiteral("%1 after %2").arg(seq).arg(previous)));
        previous = seq;
    }

    // A gap the host still has on disk: a double click loads its lines in its place.
    console->appendGap(101, 150, QStringLiteral("evicted"));
    view->scrollToBottom(); // back at the newest: the bound holds again
    console->flush();
    QCOMPARE(console->rowCount(), 3500);
    const int gapRow = view->model()->rowCount() - 1;
    QVERIFY(view->model()->index(gapRow, 0).data(ConsoleModel::GapLoadableRole).toBool());
    QTest::qWait(50);
    const QRect row(0, (gapRow - view->firstVisibleRow()) * view->lineHeight(), 200, view->lineHeight());
    QTest::mouseDClick(view->viewport(), Qt::LeftButton, {}, row.center());
    // (The console keeps its bound: the oldest rows make room.)
    const auto seqAtEnd = [view](int fromEnd) {
        return view->model()
            ->index(view->model()->rowCount() - 1 - fromEnd, 0)
            .data(ConsoleModel::SeqRole)
            .toLongLong();
    };
    QTRY_COMPARE_WITH_TIMEOUT(seqAtEnd(0), 150, Slow);
    QCOMPARE(seqAtEnd(49), 101);
    QCOMPARE(view->model()->index(view->model()->rowCount() - 51, 0).data(ConsoleModel::TextRole).toString(),
             QStringLiteral("line 000006000 ") + QString(34, u'x'));

    // Search: lines the console no longer holds (back at the newest lines, its bound
    // holds again) are found on request in the host's files.
    QVERIFY(!consoleHas(console, QStringLiteral("line 000000007 ")));
    pane->showSearch();
    auto* search = pane->findChild<QLineEdit*>(QStringLiteral("searchEdit"));
    QTest::keyClicks(search, QStringLiteral("line 000000007 "));
    auto* status = pane->findChild<QLabel*>(QStringLiteral("searchStatus"));
    QTRY_VERIFY(status->text().contains(QStringLiteral("no match")));
    QTest::mouseClick(pane->findChild<QToolButton*>(QStringLiteral("searchOlder")), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(consoleHas(console, QStringLiteral("line 000000007 ")), Slow);
    QTRY_VERIFY_WITH_TIMEOUT(view->currentMatchRow() >= 0, Slow);
    QVERIFY(view->model()
                ->index(view->currentMatchRow(), 0)
                .data(ConsoleModel::TextRole)
                .toString()
                .startsWith(QStringLiteral("line 000000007 ")));
}

void TestMainWindow::searchAndFilter()
{
    // 2,000 numbered lines on stdout, then 3 on stderr.
    Deck deck({testBot("numbers",
                       {QStringLiteral("--lines"), QStringLiteral("2000"), QStringLiteral("--err-text"),
                        QStringLiteral("oops one\\noops two\\noops three\\n"), QStringLiteral("--forever")})});
    QVERIFY(deck.started);
    QVERIFY(deck.show());
    ConsolePane* pane = deck.window->openConsole(Local, QStringLiteral("numbers"));
    ConsoleModel* console = pane->console();
    // stdout and stderr are separate pipes: either may arrive first.
    QTRY_VERIFY_WITH_TIMEOUT(consoleHas(console, QStringLiteral("oops three"))
                                 && consoleHas(console, QStringLiteral("line 000002000 ")),
                             Slow);
    const int total = pane->filterModel()->rowCount();

    // Ctrl+F opens the search bar with the focus in it.
    QTest::keyClick(deck.window, Qt::Key_F, Qt::ControlModifier);
    auto* search = pane->findChild<QLineEdit*>(QStringLiteral("searchEdit"));
    QVERIFY(search->isVisible());
    QTRY_VERIFY(search->hasFocus());
    QTest::keyClicks(search, QStringLiteral("line 000001500"));
    auto* status = pane->findChild<QLabel*>(QStringLiteral("searchStatus"));
    QTRY_COMPARE(status->text(), QStringLiteral("1 match"));
    QTest::keyClick(search, Qt::Key_Return);
    QCOMPARE(status->text(), QStringLiteral("1 of 1"));
    ConsoleView* view = pane->view();
    QVERIFY(view->currentMatchRow() >= 0);
    QVERIFY(view->model()
                ->index(view->currentMatchRow(), 0)
                .data(ConsoleModel::TextRole)
                .toString()
                .startsWith(QLatin1String("line 000001500")));
    QVERIFY(!view->isFollowing());
    // Scrolled up: the way back to the newest line is offered.
    auto* jump = pane->findChild<QPushButton*>(QStringLiteral("jumpToLatest"));
    QVERIFY(jump->isVisible());
    QTest::mouseClick(jump, Qt::LeftButton);
    QVERIFY(view->isFollowing());
    QVERIFY(!jump->isVisible());

    // Regex over many matches, stepping backwards and forwards wraps around.
    search->clear();
    pane->findChild<QToolButton*>(QStringLiteral("regex"))->setChecked(true);
    QTest::keyClicks(search, QStringLiteral("^line 0000019[0-9]9 "));
    QTRY_COMPARE(status->text(), QStringLiteral("10 matches"));
    QTest::keyClick(search, Qt::Key_Return, Qt::ShiftModifier);
    QCOMPARE(status->text(), QStringLiteral("10 of 10"));
    const QString last = view->model()->index(view->currentMatchRow(), 0).data(ConsoleModel::TextRole).toString();
    QVERIFY2(last.startsWith(QLatin1String("line 000001999")), qPrintable(last));

    // Only the matching lines, then only the others.
    pane->findChild<QToolButton*>(QStringLiteral("onlyMatching"))->setChecked(true);
    QTRY_COMPARE(pane->filterModel()->rowCount(), 10);
    pane->findChild<QToolButton*>(QStringLiteral("inverse"))->setChecked(true);
    QTRY_COMPARE(pane->filterModel()->rowCount(), total - 10);

    // Enter at once after typing finds what was typed, and the pause after typing
    // does not take the found line away again.
    pane->findChild<QToolButton*>(QStringLiteral("inverse"))->setChecked(false);
    pane->findChild<QToolButton*>(QStringLiteral("onlyMatching"))->setChecked(false);
    pane->findChild<QToolButton*>(QStringLiteral("regex"))->setChecked(false);
    search->clear();
    QTest::keyClicks(search, QStringLiteral("line 000001234 "));
    QTest::keyClick(search, Qt::Key_Return);
    QCOMPARE(status->text(), QStringLiteral("1 of 1"));
    QTest::qWait(400);
    QCOMPARE(status->text(), QStringLiteral("1 of 1"));
    QVERIFY(view->model()
                ->index(view->currentMatchRow(), 0)
                .data(ConsoleModel::TextRole)
                .toString()
                .startsWith(QLatin1String("line 000001234 ")));

    // Escape closes the bar and every line is back.
    QTest::keyClick(search, Qt::Key_Escape);
    QVERIFY(!search->isVisible());
    QTRY_COMPARE(pane->filterModel()->rowCount(), total);

    // The stderr chip alone leaves the three stderr lines.
    pane->findChild<QToolButton*>(QStringLiteral("chip-stdout"))->click();
    QTRY_COMPARE(pane->filterModel()->rowCount(), 3);
    pane->findChild<QToolButton*>(QStringLiteral("chip-stdout"))->click();
    QTRY_COMPARE(pane->filterModel()->rowCount(), total);
}

void TestMainWindow::selectCopyExportClear()
{
    Deck deck({demoAgent("media", QStringLiteral("media"))});
    QVERIFY(deck.started);
    QVERIFY(deck.show());
    ConsolePane* pane = deck.window->openConsole(Local, QStringLiteral("media"));
    QTRY_VERIFY_WITH_TIMEOUT(rowsWithLevel(pane->console(), LogLevel::Warning) > 0
                                 && rowsWithLevel(pane->console(), LogLevel::Debug) > 0,
                             Slow);

    // Level chips: only warnings.
    for (const char* chip : {"chip-DEBUG", "chip-INFO", "chip-ERROR", "chip-CRITICAL"})
        pane->findChild<QToolButton*>(QLatin1String(chip))->click();
    QTRY_VERIFY(pane->filterModel()->rowCount() > 0);
    QCOMPARE(rowsWithLevel(pane->filterModel(), LogLevel::Warning), pane->filterModel()->rowCount());

    // Select everything shown and copy it: the lines, without ANSI escapes.
    ConsoleView* view = pane->view();
    view->setFocus();
    QTest::keyClick(view, Qt::Key_A, Qt::ControlModifier);
    QVERIFY(view->hasSelection());
    QTest::keyClick(view, Qt::Key_C, Qt::ControlModifier);
    const QString copied = QApplication::clipboard()->text();
    QVERIFY(copied.contains(QLatin1String("WARNING")));
    QVERIFY(!copied.contains(QLatin1Char('\x1b')));

    // Export writes the lines shown, one a line.
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("warnings.log"));
    QString error;
    const int shown = pane->filterModel()->rowCount();
    QVERIFY2(pane->exportTo(path, &error), qPrintable(error));
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = file.readAll().split('\n');
    QVERIFY(lines.size() - 1 >= shown);
    QVERIFY(lines.first().contains("WARNING"));

    // Clear empties the console; new lines keep coming.
    pane->findChild<QToolButton*>(QStringLiteral("clearButton"))->click();
    QCOMPARE(pane->console()->rowCount(), 0);
    for (const char* chip : {"chip-DEBUG", "chip-INFO", "chip-ERROR", "chip-CRITICAL"})
        pane->findChild<QToolButton*>(QLatin1String(chip))->click();
    QTRY_VERIFY_WITH_TIMEOUT(pane->console()->rowCount() > 0, Slow);
}

void TestMainWindow::tabsCloseReorderTearOff()
{
    Deck deck({testBot("a", {QStringLiteral("--forever")}), testBot("b", {QStringLiteral("--forever")}),
               testBot("c", {QStringLiteral("--forever")})});
    QVERIFY(deck.started);
    QVERIFY(deck.show());
    QTRY_VERIFY_WITH_TIMEOUT(deck.agent(QStringLiteral("c")) != nullptr, Slow);
    MainWindow* window = deck.window;
    QTabWidget* tabs = window->tabs();
    for (const char* id : {"a", "b", "c"})
        openFromTree(window, QLatin1String(id));
    QCOMPARE(tabs->count(), 5);
    QCOMPARE(tabs->tabText(0), QStringLiteral("All agents"));
    QCOMPARE(tabs->tabText(1), QStringLiteral("Forum"));
    // Neither "All agents" nor the forum can be closed or torn off.
    QVERIFY(!tabs->tabBar()->tabButton(0, QTabBar::RightSide));
    QVERIFY(!tabs->tabBar()->tabButton(1, QTabBar::RightSide));
    QTest::mouseDClick(tabs->tabBar(), Qt::LeftButton, {}, tabs->tabBar()->tabRect(1).center());
    QCOMPARE(window->detachedConsoles().size(), 0);
    QCOMPARE(tabs->count(), 5);
    // Agent tabs wear their agent's state.
    QTRY_VERIFY(!tabs->tabIcon(2).isNull());

    // Opening an open console brings its tab forward instead of adding one.
    openFromTree(window, QStringLiteral("a"));
    QCOMPARE(tabs->count(), 5);
    QCOMPARE(tabs->tabText(tabs->currentIndex()), QStringLiteral("a"));

    // Ctrl+4 picks the fourth tab; on the forum's tab the command bar talks to all agents.
    QTest::keyClick(window, Qt::Key_4, Qt::ControlModifier);
    QCOMPARE(tabs->currentIndex(), 3);
    QTest::keyClick(window, Qt::Key_2, Qt::ControlModifier);
    QCOMPARE(tabs->currentWidget(), window->forumPage());
    QVERIFY(!window->currentConsole());
    QCOMPARE(window->commandBar()->targets().size(), 3);

    // Reorder.
    tabs->tabBar()->moveTab(4, 2);
    QCOMPARE(tabs->tabText(2), QStringLiteral("c"));

    // Close "b" with its close button.
    const int bIndex = [&] {
        for (int i = 0; i < tabs->count(); ++i)
            if (tabs->tabText(i) == QLatin1String("b"))
                return i;
        return -1;
    }();
    auto* close = tabs->tabBar()->tabButton(bIndex, QTabBar::RightSide);
    QVERIFY(close);
    QTest::mouseClick(close, Qt::LeftButton);
    QCOMPARE(tabs->count(), 4);

    // Tear "c" off by dragging its tab down, out of the bar.
    QTabBar* bar = tabs->tabBar();
    const QPoint from = bar->tabRect(2).center();
    QTest::mousePress(bar, Qt::LeftButton, {}, from);
    QTest::mouseMove(bar, from + QPoint(0, 20));
    QTest::mouseMove(bar, from + QPoint(0, 120));
    QTRY_COMPARE(window->detachedConsoles().size(), 1);
    ConsolePane* torn = window->detachedConsoles().first();
    QCOMPARE(torn->agentId(), QStringLiteral("c"));
    QVERIFY(torn->window() != window);
    QVERIFY(torn->window()->isVisible());
    QCOMPARE(tabs->count(), 3);
    QVERIFY(torn->window()->windowTitle().startsWith(QLatin1String("c")));

    // Its "Back to Tabs" button puts it back.
    torn->findChild<QToolButton*>(QStringLiteral("detachButton"))->click();
    QCOMPARE(window->detachedConsoles().size(), 0);
    QCOMPARE(tabs->count(), 4);
    QCOMPARE(torn->window(), window);

    // Double-clicking a tab tears it off too; closing that window closes the console.
    QTest::mouseDClick(bar, Qt::LeftButton, {}, bar->tabRect(tabs->indexOf(torn)).center());
    QCOMPARE(window->detachedConsoles().size(), 1);
    window->detachedConsoles().first()->window()->close();
    QTRY_COMPARE(window->detachedConsoles().size(), 0);
    QCOMPARE(tabs->count(), 3);
}

void TestMainWindow::restoresAfterRestart()
{
    // Another host to connect to, as a remote one.
    HostConfig remoteConfig = hostConfig({testBot("far", {QStringLiteral("--forever")})});
    remoteConfig.viewerToken = QStringLiteral("viewer-secret");
    remoteConfig.agentToken = QStringLiteral("agent-secret");
    remoteConfig.token.clear();
    EmbeddedHost remote(remoteConfig);
    QVERIFY(remote.start(nullptr));

    const std::vector<AgentDefinition> agents{testBot("a", {QStringLiteral("--forever")}),
                                              testBot("b", {QStringLiteral("--forever")})};
    std::vector<AgentDefinition> before = agents;
    before.push_back(testBot("gone", {QStringLiteral("--forever")}));
    QByteArray geometry;
    {
        Deck deck(before);
        QVERIFY(deck.show());
        MainWindow* window = deck.window;
        HostEntry entry;
        entry.url = remote.url();
        entry.token = QStringLiteral("viewer-secret");
        const QString remoteKey = window->connectHost(entry);
        QTRY_VERIFY_WITH_TIMEOUT(deck.fleet()->agents()->agent(remoteKey, QStringLiteral("far")), Slow);
        QTRY_VERIFY_WITH_TIMEOUT(deck.agent(QStringLiteral("b")), Slow);
        window->openConsole(Local, QStringLiteral("a"));
        window->openConsole(remoteKey, QStringLiteral("far"));
        QTRY_VERIFY_WITH_TIMEOUT(deck.agent(QStringLiteral("gone")), Slow);
        window->openConsole(Local, QStringLiteral("gone"));
        ConsolePane* b = window->openConsole(Local, QStringLiteral("b"));
        b->findChild<QToolButton*>(QStringLiteral("chip-DEBUG"))->click();
        window->toggleDetached(b);
        QVERIFY(onScreen(b->window()));
        // Moved off the screen (a monitor that is not there next time).
        b->window()->move(5000, 4000);
        // The forum's tab moved after the remote agent's: its place is kept too.
        window->tabs()->tabBar()->moveTab(1, 3);
        window->tabs()->setCurrentIndex(1);
        QCOMPARE(window->currentConsole()->agentId(), QStringLiteral("a"));
        window->commandBar()->lineEdit()->setText(QStringLiteral("first line"));
        QTest::keyClick(window->commandBar()->lineEdit(), Qt::Key_Return);
        window->resize(1320, 760);
        geometry = window->saveGeometry();
        window->close();
        QCOMPARE(QSettings().value(QStringLiteral("consoles/tabs")).toList().size(), 6);
    }

    // The next start: "gone" is no longer defined on the host.
    Deck again(agents);
    MainWindow* window = again.window;
    window->restoreSession();
    QVERIFY(again.show());
    QTabWidget* tabs = window->tabs();
    // Its console is dropped once the host's snapshot shows it is not there.
    QTRY_COMPARE(tabs->count(), 4);
    QCOMPARE(tabs->tabText(0), QStringLiteral("All agents"));
    QCOMPARE(tabs->tabText(1), QStringLiteral("a"));
    QVERIFY(tabs->tabText(2).startsWith(QLatin1String("far@")));
    QCOMPARE(tabs->widget(3), window->forumPage());
    QCOMPARE(tabs->currentIndex(), 1);
    QCOMPARE(window->detachedConsoles().size(), 1);
    ConsolePane* b = window->detachedConsoles().first();
    QCOMPARE(b->agentId(), QStringLiteral("b"));
    // Back on a screen that exists.
    QVERIFY2(onScreen(b->window()), qPrintable(QStringLiteral("%1,%2").arg(b->window()->x()).arg(b->window()->y())));
    QVERIFY(!b->findChild<QToolButton*>(QStringLiteral("chip-DEBUG"))->isChecked());
    QVERIFY(b->findChild<QToolButton*>(QStringLiteral("chip-INFO"))->isChecked());
    QCOMPARE(window->size(), QSize(1320, 760));

    // The remote host is connected again with its saved token.
    QCOMPARE(again.fleet()->hostKeys().size(), 2);
    const QString remoteKey = again.fleet()->hostKeys().at(again.fleet()->hostKeys().indexOf(Local) == 0 ? 1 : 0);
    QTRY_VERIFY_WITH_TIMEOUT(again.fleet()->agents()->agent(remoteKey, QStringLiteral("far")), Slow);
    QCOMPARE(again.fleet()->agents()->hostState(remoteKey), AgentTreeModel::HostState::Online);

    // The command history too.
    QLineEdit* edit = window->commandBar()->lineEdit();
    edit->setFocus();
    QTest::keyClick(edit, Qt::Key_Up);
    QCOMPARE(edit->text(), QStringLiteral("first line"));

    // An agent removed from its host takes its console with it, in a tab or torn off.
    again.fleet()->removeAgent(Local, QStringLiteral("a"));
    QTRY_COMPARE_WITH_TIMEOUT(tabs->count(), 3, Slow);
    again.fleet()->removeAgent(Local, QStringLiteral("b"));
    QTRY_COMPARE_WITH_TIMEOUT(window->detachedConsoles().size(), 0, Slow);

    // Tokens are kept in a file only its owner can read.
    const QFileInfo settingsFile(QSettings().fileName());
    QCOMPARE(settingsFile.permissions() & (QFileDevice::ReadGroup | QFileDevice::ReadOther),
             QFileDevice::Permissions());
}

void TestMainWindow::answersAnAgentsQuestion()
{
    // Three agents ask at once.
    std::vector<AgentDefinition> agents;
    for (const char* id : {"moderator", "moderator2", "moderator3"}) {
        agents.push_back(demoAgent(id, QStringLiteral("moderator")));
        agents.back().args << QStringLiteral("--ask-after") << QStringLiteral("300");
    }
    Deck deck(agents);
    QVERIFY(deck.started);
    QVERIFY(deck.show());
    AskModel* asks = deck.fleet()->asks();
    auto* askBar = deck.window->findChild<QWidget*>(QStringLiteral("askBar"));
    QTRY_COMPARE_WITH_TIMEOUT(asks->rowCount(), 3, Slow);
    QTRY_VERIFY(askBar->isVisible());
    auto* card = askBar->findChild<AskCard*>();
    const QString first = card->question().agent;
    // Who asks and since when, then the question.
    const QLabel* headerLabel = card->findChild<QLabel*>(QStringLiteral("askHeader"));
    QTRY_VERIFY2(headerLabel->text().startsWith(QStringLiteral("Forum Host asks · ")), qPrintable(headerLabel->text()));
    const QString header = headerLabel->text();
    QVERIFY2(header.contains(QLatin1String("just now")) || header.contains(QLatin1String(" s ago")),
             qPrintable(header));
    QVERIFY(card->findChild<QLabel*>(QStringLiteral("askText"))->text().startsWith(QLatin1String("Publish the ")));
    auto* more = askBar->findChild<QPushButton*>(QStringLiteral("askMore"));
    QVERIFY(more->isVisible());
    QCOMPARE(more->text(), QStringLiteral("2 more waiting"));
    for (const bool dark : {false, true}) {
        applyPalette(dark);
        QTest::qWait(50);
        // The bar with the window behind it, as it is seen.
        const QRect bar(askBar->mapTo(deck.window, QPoint(0, 0)), askBar->size());
        QVERIFY(deck.window->grab(bar.adjusted(-8, -40, 8, 40))
                    .save(screenshotPath(dark ? QStringLiteral("question-dark") : QStringLiteral("question-light"))));
    }
    applyPalette(false);

    // "Show all" lists every question; the last one is answered first, from there.
    QTest::mouseClick(more, Qt::LeftButton);
    auto* list = deck.window->findChild<AskList*>(QStringLiteral("askList"));
    QTRY_VERIFY(list->isVisible());
    QCOMPARE(list->cards().size(), 3);
    QVERIFY(deck.window->grab().save(screenshotPath(QStringLiteral("questions"))));
    AskCard* last = list->cards().last();
    const QString lastAgent = last->question().agent;
    QTRY_VERIFY(last->isArmed());
    QTest::mouseClick(last->findChild<QPushButton*>(QStringLiteral("answer-reject")), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(asks->rowCount(), 2, Slow);
    QCOMPARE(card->question().agent, first); // the bar still shows the first question
    // The console says which answer went to which question, in words.
    QTRY_VERIFY_WITH_TIMEOUT(consoleHas(deck.fleet()->console(Local, lastAgent),
                                        QStringLiteral("answered “reject” to “Publish the "), Console::Kind::Mark),
                             Slow);

    // A double click on "approve": the first click answers the question shown; the
    // second lands on the next question's button, which does not take it yet.
    QTRY_VERIFY(card->isArmed());
    QPushButton* approve = card->findChild<QPushButton*>(QStringLiteral("answer-approve"));
    const QPoint spot = approve->mapTo(askBar, approve->rect().center());
    QTest::mouseClick(approve, Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(asks->rowCount(), 1, Slow);
    QVERIFY(card->question().agent != first);
    // (once the bar has laid out the next question's buttons)
    QTRY_VERIFY(qobject_cast<QPushButton*>(askBar->childAt(spot)));
    QWidget* under = askBar->childAt(spot);
    QVERIFY(!under->isEnabled());
    QTest::mouseClick(under, Qt::LeftButton);
    QTest::mouseDClick(under, Qt::LeftButton);
    QTest::qWait(300);
    QCOMPARE(asks->rowCount(), 1);
    // A moment later it does.
    QTRY_VERIFY(card->isArmed());
    QTest::mouseClick(card->findChild<QPushButton*>(QStringLiteral("answer-approve")), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(asks->rowCount(), 0, Slow);
    QTRY_VERIFY(!askBar->isVisible());
    QCOMPARE(list->cards().size(), 0);
}

void TestMainWindow::connectBotDialog()
{
    ConnectBotDialog dialog(QUrl(QStringLiteral("ws://127.0.0.1:7701/")), QStringLiteral("tok123"),
                            QStringLiteral("/home/u/.config/agentdeck/token"));
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    QCOMPARE(dialog.findChild<QLineEdit*>(QStringLiteral("botUrl"))->text(), QStringLiteral("ws://127.0.0.1:7701/"));
    QTest::mouseClick(dialog.findChild<QPushButton*>(QStringLiteral("botTokenCopy")), Qt::LeftButton);
    QCOMPARE(QApplication::clipboard()->text(), QStringLiteral("tok123"));
    QTest::mouseClick(dialog.findChild<QPushButton*>(QStringLiteral("copySnippet")), Qt::LeftButton);
    const QString snippet = QApplication::clipboard()->text();
    QVERIFY(snippet.contains(QLatin1String("websockets.connect(\"ws://127.0.0.1:7701/\")")));
    QVERIFY(snippet.contains(QLatin1String("\"token\": \"tok123\"")));
    QVERIFY(dialog.grab().save(screenshotPath(QStringLiteral("connect-bot"))));

    // The agent dialog refuses what the host would refuse, and says why.
    AgentDialog agentDialog;
    agentDialog.show();
    agentDialog.findChild<QLineEdit*>(QStringLiteral("agentId"))->setText(QStringLiteral("bad id!"));
    agentDialog.accept();
    QVERIFY(agentDialog.isVisible());
    QVERIFY(agentDialog.findChild<QLabel*>(QStringLiteral("errorLabel"))->isVisible());
    agentDialog.findChild<QLineEdit*>(QStringLiteral("agentId"))->setText(QStringLiteral("query"));
    agentDialog.findChild<QLineEdit*>(QStringLiteral("agentCommand"))->setText(QStringLiteral("/usr/bin/python3"));
    agentDialog.findChild<QLineEdit*>(QStringLiteral("agentArgs"))->setText(QStringLiteral("bot.py \"two words\""));
    agentDialog.accept();
    QVERIFY(!agentDialog.isVisible());
    const QByteArray json = agentDialog.definition();
    QVERIFY(json.contains("\"args\":[\"bot.py\",\"two words\"]"));
}

void TestMainWindow::addAndConnectThroughDialogs()
{
    QTemporaryDir dir;
    HostConfig config = hostConfig({});
    config.allowAgentEditing = true;
    config.configPath = dir.filePath(QStringLiteral("host.json"));
    Desktop desktop(config);
    QVERIFY(desktop.start(nullptr));
    MainWindow& window = *desktop.window();
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));

    // File > Add Local Agent…: fill in the dialog and save; the agent starts and its console opens.
    QTimer::singleShot(100, [] {
        auto* dialog = qobject_cast<AgentDialog*>(QApplication::activeModalWidget());
        QVERIFY(dialog);
        dialog->findChild<QLineEdit*>(QStringLiteral("agentId"))->setText(QStringLiteral("added"));
        dialog->findChild<QLineEdit*>(QStringLiteral("agentCommand"))->setText(QStringLiteral(AGENTDECK_TESTBOT));
        dialog->findChild<QLineEdit*>(QStringLiteral("agentArgs"))
            ->setText(QStringLiteral("--print-env GREETING --forever"));
        dialog->findChild<QPlainTextEdit*>(QStringLiteral("agentEnv"))
            ->setPlainText(QStringLiteral("GREETING=hi there"));
        dialog->accept();
    });
    QAction* add = window.findChild<QAction*>(QStringLiteral("addAgentAction"));
    QVERIFY(add);
    add->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(window.fleet()->agents()->agent(Local, QStringLiteral("added")), Slow);
    QCOMPARE(window.tabs()->tabText(window.tabs()->currentIndex()), QStringLiteral("added"));
    QTRY_VERIFY_WITH_TIMEOUT(
        consoleHas(window.fleet()->console(Local, QStringLiteral("added")), QStringLiteral("GREETING=hi there")), Slow);
    QVERIFY(QFile(config.configPath).exists());

    // Edit… shows the definition as it is.
    AgentDialog edit;
    edit.setDefinition(window.fleet()->agents()->agent(Local, QStringLiteral("added"))->definition);
    QCOMPARE(edit.findChild<QLineEdit*>(QStringLiteral("agentArgs"))->text(),
             QStringLiteral("--print-env GREETING --forever"));
    QVERIFY(edit.findChild<QLineEdit*>(QStringLiteral("agentId"))->isReadOnly());
    QCOMPARE(edit.findChild<QPlainTextEdit*>(QStringLiteral("agentEnv"))->toPlainText(),
             QStringLiteral("GREETING=hi there"));

    // File > Connect to Host…: another host, with its viewer token.
    HostConfig otherConfig = hostConfig({testBot("far", {QStringLiteral("--forever")})});
    EmbeddedHost other(otherConfig);
    QVERIFY(other.start(nullptr));
    QTimer::singleShot(100, [&other] {
        auto* dialog = qobject_cast<ConnectHostDialog*>(QApplication::activeModalWidget());
        QVERIFY(dialog);
        // A wrong address is refused with a reason, and the dialog stays.
        dialog->findChild<QLineEdit*>(QStringLiteral("hostUrl"))->setText(QStringLiteral("http://nowhere"));
        dialog->accept();
        QVERIFY(dialog->isVisible());
        QVERIFY(dialog->findChild<QLabel*>(QStringLiteral("errorLabel"))->isVisible());
        dialog->findChild<QLineEdit*>(QStringLiteral("hostUrl"))->setText(other.url().toString());
        dialog->findChild<QLineEdit*>(QStringLiteral("hostToken"))->setText(QStringLiteral("window-token"));
        dialog->accept();
    });
    window.findChild<QAction*>(QStringLiteral("connectHostAction"))->trigger();
    QCOMPARE(window.fleet()->hostKeys().size(), 2);
    const QString remote = window.fleet()->hostKeys().at(window.fleet()->hostKeys().indexOf(Local) == 0 ? 1 : 0);
    QTRY_VERIFY_WITH_TIMEOUT(window.fleet()->agents()->agent(remote, QStringLiteral("far")), Slow);
    // It is kept for the next start.
    QCOMPARE(QSettings().value(QStringLiteral("hosts")).toList().size(), 1);
}

namespace {

/// tests/python/fake_bettafish.py, BettaFish's stand-in, on a free port of 127.0.0.1.
class BettaFishStandIn
{
public:
    explicit BettaFishStandIn(const QString& logsDir)
        : m_logsDir(logsDir)
    { }
    ~BettaFishStandIn()
    {
        m_process.terminate();
        if (!m_process.waitForFinished(5000))
            m_process.kill();
        m_process.waitForFinished(5000);
    }
    bool start()
    {
        m_process.start(QStringLiteral(AGENTDECK_PYTHON),
                        {QStringLiteral(AGENTDECK_SOURCE_DIR "/tests/python/fake_bettafish.py"),
                         QStringLiteral("--logs-dir"), m_logsDir, QStringLiteral("--port"), QStringLiteral("0"),
                         QStringLiteral("--start-delay"), QStringLiteral("0.3")});
        if (!m_process.waitForStarted(10000))
            return false;
        QByteArray out;
        QDeadlineTimer deadline(20000);
        while (!out.contains('\n') && !deadline.hasExpired()) {
            m_process.waitForReadyRead(200);
            out += m_process.readAllStandardOutput();
        }
        if (!out.startsWith("PORT ")) {
            qWarning("the BettaFish stand-in did not start: %s %s", out.constData(),
                     m_process.readAllStandardError().constData());
            return false;
        }
        m_port = quint16(out.mid(5).trimmed().toUInt());
        return m_port != 0;
    }
    QString url() const { return QStringLiteral("http://127.0.0.1:%1").arg(m_port); }

private:
    QString m_logsDir;
    QProcess m_process;
    quint16 m_port = 0;
};

/// A port of 127.0.0.1 nothing listens on.
quint16 closedPort()
{
    QTcpServer server;
    if (!server.listen(QHostAddress::LocalHost, 0))
        return 0;
    const quint16 port = server.serverPort();
    server.close();
    return port;
}

/// The text of the dialog's error line, empty when it is hidden.
QString shownError(const QWidget* dialog)
{
    const auto* label = dialog->findChild<QLabel*>(QStringLiteral("errorLabel"));
    return label && label->isVisible() ? label->text() : QString();
}

} // namespace

void TestMainWindow::followLogFileThroughDialog()
{
    QTemporaryDir dir;
    const QString logPath = dir.filePath(QStringLiteral("crawler.log"));
    {
        QFile log(logPath);
        QVERIFY(log.open(QIODevice::WriteOnly));
        log.write("crawler started\npage 1 fetched\nWARNING: slow answer from the site\n");
    }
    HostConfig config = hostConfig({testBot("taken", {QStringLiteral("--forever")})});
    config.configPath = dir.filePath(QStringLiteral("host.json"));
    Desktop desktop(config);
    QVERIFY(desktop.start(nullptr));
    MainWindow& window = *desktop.window();
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QTRY_VERIFY_WITH_TIMEOUT(window.fleet()->agents()->agent(Local, QStringLiteral("taken")), Slow);

    // What the dialog says at each step; checked once it has closed, so a failure cannot leave it open.
    QString badId, takenId, folder, missing, missingWarning, waitUnticked;
    bool waitOffered = false, stayedOpen = true;
    onNextDialog<FollowFileDialog>([&](FollowFileDialog* dialog) {
        auto* id = dialog->findChild<QLineEdit*>(QStringLiteral("followId"));
        auto* path = dialog->findChild<QLineEdit*>(QStringLiteral("followPath"));
        auto* format = dialog->findChild<QComboBox*>(QStringLiteral("followFormat"));
        auto* history = dialog->findChild<QSpinBox*>(QStringLiteral("followHistory"));
        auto* wait = dialog->findChild<QCheckBox*>(QStringLiteral("followWaitForFile"));
        if (!id || !path || !format || !history || !wait) {
            dialog->reject();
            return;
        }
        QTest::keyClicks(id, QStringLiteral("bad id!"));
        QTest::keyClicks(path, logPath);
        dialog->accept();
        badId = shownError(dialog);
        id->setText(QStringLiteral("taken"));
        dialog->accept();
        takenId = shownError(dialog);
        id->setText(QStringLiteral("crawler"));
        path->setText(dir.path());
        dialog->accept();
        folder = shownError(dialog);
        // A file that is not there yet: said at once, followed only when the user agrees.
        path->setText(dir.filePath(QStringLiteral("later.log")));
        const auto* warning = dialog->findChild<QLabel*>(QStringLiteral("followMissing"));
        missingWarning = warning && warning->isVisible() ? warning->text() : QString();
        waitOffered = wait->isVisible() && !wait->isChecked();
        dialog->accept();
        waitUnticked = shownError(dialog);
        dialog->grab().save(screenshotPath(QStringLiteral("follow-file-light")));
        stayedOpen = dialog->isVisible();
        path->setText(logPath);
        dialog->findChild<QLineEdit*>(QStringLiteral("followName"))->setText(QStringLiteral("Crawler"));
        format->setCurrentIndex(format->findText(QStringLiteral("plain")));
        history->setValue(500);
        dialog->accept();
        missing = dialog->isVisible() ? shownError(dialog) : QString();
        if (dialog->isVisible())
            dialog->reject();
    });
    QAction* follow = window.findChild<QAction*>(QStringLiteral("followFileAction"));
    QVERIFY(follow);
    follow->trigger();
    QVERIFY2(badId.contains(QLatin1String("letters, digits")), qPrintable(badId));
    QVERIFY2(takenId.contains(QLatin1String("already has an agent \"taken\"")), qPrintable(takenId));
    QVERIFY2(folder.contains(QLatin1String("is a folder")), qPrintable(folder));
    QVERIFY2(missingWarning.contains(QLatin1String("does not exist yet")), qPrintable(missingWarning));
    QVERIFY(waitOffered);
    QVERIFY2(waitUnticked.contains(QLatin1String("Follow it once it appears")), qPrintable(waitUnticked));
    QVERIFY(stayedOpen);
    QVERIFY2(missing.isEmpty(), qPrintable(missing));

    // The agent is there, read from the file, and its console (opened at once) shows the file's lines.
    QTRY_VERIFY_WITH_TIMEOUT(window.fleet()->agents()->agent(Local, QStringLiteral("crawler")), Slow);
    const Link::AgentInfo* agent = window.fleet()->agents()->agent(Local, QStringLiteral("crawler"));
    QCOMPARE(agent->origin, QStringLiteral("bridged"));
    QCOMPARE(agent->name, QStringLiteral("Crawler"));
    QCOMPARE(window.tabs()->tabText(window.tabs()->currentIndex()), QStringLiteral("crawler"));
    const ConsoleModel* console = window.fleet()->console(Local, QStringLiteral("crawler"));
    QTRY_VERIFY_WITH_TIMEOUT(consoleHas(console, QStringLiteral("crawler started")), Slow);
    QVERIFY(consoleHas(console, QStringLiteral("page 1 fetched")));
    QVERIFY(consoleHas(console, QStringLiteral("slow answer from the site")));
    {
        QFile log(logPath);
        QVERIFY(log.open(QIODevice::Append));
        log.write("page 2 fetched\n");
    }
    QTRY_VERIFY_WITH_TIMEOUT(consoleHas(console, QStringLiteral("page 2 fetched")), Slow);

    // The list tags it and says where it is read from; launched agents are not tagged.
    const QModelIndex row = window.fleet()->agents()->indexOf(Local, QStringLiteral("crawler"));
    QVERIFY(row.data(Qt::ToolTipRole).toString().contains(QLatin1String("Read from BettaFish or a log file")));
    const QModelIndex launched = window.fleet()->agents()->indexOf(Local, QStringLiteral("taken"));
    QVERIFY(!launched.data(Qt::ToolTipRole).toString().contains(QLatin1String("Read from")));

    // The host kept the definition in its configuration.
    QFile saved(config.configPath);
    QVERIFY(saved.open(QIODevice::ReadOnly));
    const QByteArray json = saved.readAll();
    QVERIFY2(json.contains("\"follow\"") && json.contains("crawler.log") && json.contains("\"history_lines\":500"),
             json.constData());

    // Right-click: a followed file stops and starts reading; it has no process to kill.
    bool stopEnabled = false;
    bool killEnabled = true;
    QTimer::singleShot(100, [&] {
        auto* menu = qobject_cast<QMenu*>(QApplication::activePopupWidget());
        if (!menu)
            return;
        for (QAction* action : menu->actions()) {
            if (action->text() == QLatin1String("Kill"))
                killEnabled = action->isEnabled();
            if (action->text() == QLatin1String("Stop")) {
                stopEnabled = action->isEnabled();
                action->trigger();
            }
        }
        menu->close();
    });
    auto* tree = window.findChild<AgentTreeView*>(QStringLiteral("agentTree"));
    QVERIFY(tree);
    tree->scrollTo(row);
    const QPoint at = tree->visualRect(row).center();
    QContextMenuEvent click(QContextMenuEvent::Mouse, at, tree->viewport()->mapToGlobal(at));
    QApplication::sendEvent(tree->viewport(), &click);
    QVERIFY(stopEnabled);
    QVERIFY(!killEnabled);
    QTRY_COMPARE_WITH_TIMEOUT(window.fleet()->agents()->agent(Local, QStringLiteral("crawler"))->state,
                              QStringLiteral("stopped"), Slow);
}

void TestMainWindow::addBettaFishThroughDialog()
{
    QTemporaryDir dir;
    const QString logs = dir.filePath(QStringLiteral("logs"));
    QVERIFY(QDir().mkpath(logs));
    BettaFishStandIn bettafish(logs);
    QVERIFY(bettafish.start());
    const quint16 closed = closedPort();
    QVERIFY(closed != 0);

    HostConfig config = hostConfig({});
    config.configPath = dir.filePath(QStringLiteral("host.json"));
    Desktop desktop(config);
    QVERIFY(desktop.start(nullptr));
    MainWindow& window = *desktop.window();
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));

    QString closedStatus, closedRefusal, reachableStatus, logsRefusal, leftOpen, defaultPrefix;
    bool closedOkEnabled = true, reachableOkEnabled = false, closedChecked = false, reachableChecked = false;
    onNextDialog<BettaFishDialog>([&](BettaFishDialog* dialog) {
        auto* url = dialog->findChild<QLineEdit*>(QStringLiteral("bettafishUrl"));
        auto* prefix = dialog->findChild<QLineEdit*>(QStringLiteral("bettafishPrefix"));
        auto* logsEdit = dialog->findChild<QLineEdit*>(QStringLiteral("bettafishLogs"));
        auto* status = dialog->findChild<QLabel*>(QStringLiteral("bettafishStatus"));
        auto* ok = dialog->findChild<QPushButton*>(QStringLiteral("bettafishAdd"));
        if (!url || !prefix || !logsEdit || !status || !ok) {
            dialog->reject();
            return;
        }
        const auto checkedUrl = [dialog, url](const QString& address) {
            bool reachable = false;
            bool done = false;
            const QMetaObject::Connection c =
                QObject::connect(dialog, &BettaFishDialog::checked, dialog, [&](bool answer) {
                    reachable = answer;
                    done = true;
                });
            url->setText(address);
            const bool answered = QTest::qWaitFor([&] { return done; }, BettaFishDialog::CheckTimeoutMs + 5000);
            QObject::disconnect(c);
            return answered;
        };
        // Nothing listens there: said in the dialog, and OK stays off.
        closedChecked = checkedUrl(QStringLiteral("http://127.0.0.1:%1").arg(closed));
        closedStatus = status->text();
        closedOkEnabled = ok->isEnabled();
        dialog->accept();
        closedRefusal = shownError(dialog);
        // The stand-in answers as BettaFish does.
        reachableChecked = checkedUrl(bettafish.url());
        reachableStatus = status->text();
        reachableOkEnabled = ok->isEnabled() && dialog->isReachable();
        defaultPrefix = prefix->text();
        logsEdit->setText(dir.filePath(QStringLiteral("no-such-folder")));
        dialog->accept();
        logsRefusal = shownError(dialog);
        logsEdit->setText(logs);
        dialog->grab().save(screenshotPath(QStringLiteral("add-bettafish-light")));
        QTest::mouseClick(ok, Qt::LeftButton);
        if (dialog->isVisible()) {
            leftOpen = shownError(dialog) + status->text();
            dialog->reject();
        }
    });
    QAction* add = window.findChild<QAction*>(QStringLiteral("addBettaFishAction"));
    QVERIFY(add);
    QVERIFY(add->isEnabled());
    add->trigger();
    QVERIFY(closedChecked);
    QVERIFY2(closedStatus.startsWith(QLatin1String("No BettaFish at http://127.0.0.1:")), qPrintable(closedStatus));
    QVERIFY(!closedOkEnabled);
    QVERIFY2(closedRefusal.contains(QLatin1String("must answer")), qPrintable(closedRefusal));
    QVERIFY(reachableChecked);
    QVERIFY2(reachableStatus.startsWith(QLatin1String("BettaFish answers")), qPrintable(reachableStatus));
    QVERIFY2(reachableStatus.contains(QLatin1String("insight")) && reachableStatus.contains(QLatin1String("forum")),
             qPrintable(reachableStatus));
    QVERIFY(reachableOkEnabled);
    QCOMPARE(defaultPrefix, QStringLiteral("bf-"));
    QVERIFY2(logsRefusal.contains(QLatin1String("does not exist")), qPrintable(logsRefusal));
    QVERIFY2(leftOpen.isEmpty(), qPrintable(leftOpen));

    // Its four apps are agents of this computer's host, read from BettaFish.
    for (const char* app : {"insight", "media", "query", "forum"}) {
        const QString id = QStringLiteral("bf-") + QLatin1String(app);
        QTRY_VERIFY2_WITH_TIMEOUT(window.fleet()->agents()->agent(Local, id), qPrintable(id), Slow);
        QCOMPARE(window.fleet()->agents()->agent(Local, id)->origin, QStringLiteral("bridged"));
    }
    // The bridge is in the configuration, for the next start.
    QFile saved(config.configPath);
    QVERIFY(saved.open(QIODevice::ReadOnly));
    const QByteArray json = saved.readAll();
    QVERIFY2(json.contains("\"bridges\"") && json.contains(bettafish.url().toUtf8()) && json.contains("\"bf-\""),
             json.constData());

    // The host refuses a second bridge with the same prefix, and the file stays as it was.
    BridgeSpec again;
    again.url = bettafish.url();
    again.prefix = "bf-";
    QString error;
    QVERIFY(!desktop.host().addBridge(again, &error));
    QVERIFY2(error.contains(QLatin1String("prefix")), qPrintable(error));
    QFile after(config.configPath);
    QVERIFY(after.open(QIODevice::ReadOnly));
    QCOMPARE(after.readAll(), json);

    // BettaFish writes its apps' output and the forum: the consoles and the forum show them.
    const auto append = [&](const QString& file, const char* fixtureName) {
        QFile out(QDir(logs).filePath(file));
        QVERIFY(out.open(QIODevice::Append));
        out.write(fixture(fixtureName));
    };
    append(QStringLiteral("insight.log"), "insight.log");
    append(QStringLiteral("forum.log"), "forum.log");
    window.resize(1600, 900);
    // As a user arranges it: a wider agent list and forum.
    window.resizeDocks({window.findChild<QDockWidget*>(QStringLiteral("agentsDock")),
                        window.findChild<QDockWidget*>(QStringLiteral("forumDock"))},
                       {420, 420}, Qt::Horizontal);
    window.openConsole(Local, QStringLiteral("bf-insight"));
    window.openConsole(Local, QStringLiteral("bf-query"));
    window.openConsole(Local, QStringLiteral("bf-insight"));
    QTRY_VERIFY_WITH_TIMEOUT(window.fleet()->console(Local, QStringLiteral("bf-insight"))->rowCount() >= 200, Slow);
    QTRY_VERIFY_WITH_TIMEOUT(forumSenders(window.fleet()->forum()).contains(QStringLiteral("Forum Host")), Slow);
    QTest::qWait(500);
    QVERIFY(window.grab().save(screenshotPath(QStringLiteral("bettafish-light"))));
    applyPalette(true);
    QTest::qWait(300);
    QVERIFY(window.grab().save(screenshotPath(QStringLiteral("bettafish-dark"))));
    applyPalette(false);
}

void TestMainWindow::screenshots()
{
    for (const bool dark : {false, true}) {
        applyPalette(dark);
        // What a new user sees: the demo, as the app starts it (a little faster).
        Deck deck(demoAgentDefinitions(QStringLiteral(AGENTDECK_DEMO_AGENT), 3.0));
        QVERIFY(deck.show());
        MainWindow* window = deck.window;
        window->resize(1600, 900);
        // The demo's forum fills: the moderator and the engines talk.
        QTRY_VERIFY_WITH_TIMEOUT(forumSenders(deck.fleet()->forum()).contains(QStringLiteral("Forum Host"))
                                     && forumSenders(deck.fleet()->forum()).size() >= 3,
                                 30000);
        QTest::qWait(1000);
        QVERIFY(window->grab().save(
            screenshotPath(dark ? QStringLiteral("mainwindow-dark") : QStringLiteral("mainwindow-light"))));
        // The forum page shows the demo's conversation as a chat.
        ConversationView* forumPage = window->forumPage();
        QVERIFY(forumPage);
        window->tabs()->setCurrentWidget(forumPage);
        QVERIFY(!window->currentConsole());
        QVERIFY(forumPage->conversations()->rowCount() >= 1);
        QTRY_VERIFY(forumPage->messageView()->model()->rowCount() >= 3);
        QTest::qWait(300);
        QVERIFY(window->grab().save(
            screenshotPath(dark ? QStringLiteral("forum-demo-dark") : QStringLiteral("forum-demo-light"))));
        ConsolePane* pane = window->openConsole(Local, QStringLiteral("demo-query"));
        typeCommand(window, QStringLiteral("status"));
        QTest::qWait(1500);
        pane->showSearch();
        QTest::keyClicks(pane->findChild<QLineEdit*>(QStringLiteral("searchEdit")), QStringLiteral("page"));
        QTest::qWait(400);
        QVERIFY(window->grab().save(
            screenshotPath(dark ? QStringLiteral("console-dark") : QStringLiteral("console-light"))));
    }
    applyPalette(false);
}

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
