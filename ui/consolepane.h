// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "models/consolefiltermodel.h"

#include <QWidget>

class AgentStatusBar;
class AgentTreeModel;
class ConsoleModel;
class ConsoleView;
class LineDetailDialog;
class QCheckBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTimer;
class QToolButton;

/*
 * One console as the user works with it: level and stream chips above the
 * lines, a search bar (Ctrl+F) that highlights matches and steps through them
 * or shows only the matching lines, a "jump to latest" button while scrolled
 * up, the line a program is still writing, and copy, export and clear.
 */
class ConsolePane final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConsolePane)

public:
    /// agentId is empty for the merged console of all agents.
    ConsolePane(ConsoleModel* console, const QString& hostKey, const QString& agentId, QWidget* parent = nullptr);
    ~ConsolePane() override;

    QString hostKey() const { return m_hostKey; }
    QString agentId() const { return m_agentId; }
    bool isMerged() const { return m_agentId.isEmpty(); }
    ConsoleView* view() const { return m_view; }
    ConsoleModel* console() const { return m_console; }
    ConsoleFilterModel* filterModel() const { return m_filter; }

    /// Shows the agent's state, status text, task and progress above the lines.
    void showAgentStatus(AgentTreeModel* agents);
    AgentStatusBar* agentStatus() const { return m_status; }

    /// Whether the pane is in a window of its own (the tear-off button says where it goes).
    void setDetached(bool detached);
    /// Opens the search bar with the focus in it.
    void showSearch();
    void hideSearch();
    /// Writes the lines shown (after chips and search filtering) to a file, plain text.
    bool exportTo(const QString& path, QString* error) const;
    /// Asks where to, then exports.
    void exportShown();
    /// Empties the console (its agent's lines up to now).
    void clear();
    /// Opens a window with one line of the view in full, its fields and copy buttons.
    LineDetailDialog* openLineDetail(int viewRow);
    /// Brings the line numbered seq into view and selects it (an alert's line). False
    /// when the console no longer holds it or its chips hide it.
    bool showLine(qint64 seq);

    /// The chips and search options, to be restored later.
    QVariantMap state() const;
    void restoreState(const QVariantMap& state);

Q_SIGNALS:
    /// The pane asks to be moved into a window of its own, or back into the tabs.
    void detachRequested();
    /// The reader wants the lines before the oldest one shown, from the host's history.
    void olderLinesWanted();
    /// The reader wants the lines of a gap row (a row of console()) from the host.
    void gapLinesWanted(int consoleRow);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void changeEvent(QEvent* event) override;

private:
    QWidget* buildChips();
    QWidget* buildSearchBar();
    void styleChips();
    void applyFilter();
    void updateSearch();
    void searchTypedTextNow();
    void updateSearchStatus();
    bool isFilteringBySearch() const;
    /// The index among the matches of the first match at or after a row of the view.
    int matchIndexOf(int viewRow) const;
    void find(bool backwards);
    void updateJumpButton();
    void placeJumpButton();
    void updatePartial();
    /// The row above the lines that says how far back the console goes, while at the top.
    void updateHistoryBar();
    void onHistoryChanged(int rowsAdded);
    /// "Search older lines": loads pages until the search finds something or the start is reached.
    void searchOlder();

    ConsoleModel* m_console;
    QString m_hostKey;
    QString m_agentId;
    ConsoleFilterModel* m_filter = nullptr; // what the view shows
    ConsoleFilterModel* m_matches = nullptr; // the search's matches among them
    ConsoleView* m_view = nullptr;
    QList<QToolButton*> m_levelChips;
    QList<QToolButton*> m_streamChips;
    QWidget* m_searchBar = nullptr;
    QLineEdit* m_searchEdit = nullptr;
    QTimer* m_searchDebounce = nullptr; // the search follows typing after a pause
    QToolButton* m_matchCase = nullptr;
    QToolButton* m_wholeWord = nullptr;
    QToolButton* m_regex = nullptr;
    QToolButton* m_onlyMatching = nullptr;
    QToolButton* m_inverse = nullptr;
    QLabel* m_searchStatus = nullptr;
    QLabel* m_countLabel = nullptr;
    AgentStatusBar* m_status = nullptr;
    QToolButton* m_wrap = nullptr;
    QToolButton* m_fold = nullptr;
    QPushButton* m_jump = nullptr;
    QWidget* m_historyBar = nullptr;
    QLabel* m_historyText = nullptr;
    QPushButton* m_historyButton = nullptr;
    QToolButton* m_searchOlder = nullptr;
    int m_searchOlderPages = 0; // pages still to load while searching older lines; 0: not searching
    int m_matchesBeforeOlder = 0;
};
