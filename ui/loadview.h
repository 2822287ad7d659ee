// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "ui/loadchart.h"

#include <QHash>
#include <QSet>
#include <QTimer>
#include <QWidget>
#include <utility>

class AgentTreeModel;
class MetricsHistory;
class QComboBox;
class QGridLayout;
class QLabel;
class QPushButton;
class QTreeWidget;
class QTreeWidgetItem;

/*
 * System load over time: for the hosts and agents checked in its list, charts of
 * CPU, memory, load average and network (hosts) and of CPU, memory, lines per
 * second and every other metric the agents report (agents), the checked ones
 * overlaid on each chart. The last 5, 15 or 60 minutes, live, or paused.
 *
 * It draws only while it is visible: once a second, with whatever metrics came
 * since, and when what it shows changes (at most four times a second); hidden, it
 * does nothing and catches up when shown again.
 */
class LoadView final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LoadView)

public:
    /// The shortest time between two redraws for changes of hosts and agents.
    static constexpr int RedrawIntervalMs = 250;
    /// Agents checked by themselves as they appear, up to this many.
    static constexpr int DefaultOverlay = 6;

    /// Shows the hosts and agents of agents with the metrics of history; both must outlive the view.
    LoadView(AgentTreeModel* agents, MetricsHistory* history, QWidget* parent = nullptr);
    ~LoadView() override;

    /// 5, 15 or 60.
    void setRangeMinutes(int minutes);
    int rangeMinutes() const { return m_rangeMinutes; }
    /// Paused, the charts stay where they are (metrics are still recorded); resuming jumps to now.
    void setPaused(bool paused);
    bool isPaused() const { return m_paused; }
    /// Checks or unchecks a host (empty agentId) or an agent in the list.
    void setShown(const QString& hostKey, const QString& agentId, bool shown);
    bool isShown(const QString& hostKey, const QString& agentId) const;

    QList<LoadChart*> charts() const { return m_charts; }
    /// The chart of that title ("Host CPU", "Agent memory", "tokens/s", ...), or nullptr.
    LoadChart* chart(const QString& title) const;
    /// How often the charts were brought up to date (tests, benchmarks).
    int redrawCount() const { return m_redraws; }
    /// The end of the time shown, ms since the epoch.
    qint64 shownUntil() const { return m_to; }
    /// Two rows of charts: opened at 1280 x 800, about half the window.
    QSize sizeHint() const override;

protected:
    void showEvent(QShowEvent* event) override;
    void hideEvent(QHideEvent* event) override;
    void changeEvent(QEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

private:
    using Owner = std::pair<QString, QString>; // host key, agent id (empty: the host)
    struct LineSpec
    {
        Owner owner;
        QString key;
        QString name;
        bool dashed = false;
    };
    struct ChartSpec
    {
        QString title;
        LoadChart::Unit unit;
        QList<LineSpec> lines;
        double floor = 0; // LoadChart::setFloor()
    };

    void onItemChanged(QTreeWidgetItem* item);
    /// Asks for a redraw within RedrawIntervalMs (a host or agent came or went); nothing while hidden.
    void scheduleRedraw();
    void redraw();
    /// Brings the list to the agent model's hosts and agents.
    void syncSources();
    QList<ChartSpec> plan() const;
    /// Puts the charts of the plan in the grid, reusing those of the same title.
    void placeCharts(const QList<ChartSpec>& specs);
    void layoutGrid();
    int columns() const;

    AgentTreeModel* m_agents;
    MetricsHistory* m_history;
    QTreeWidget* m_sources = nullptr;
    QComboBox* m_range = nullptr;
    QPushButton* m_pause = nullptr;
    QLabel* m_hover = nullptr;
    QWidget* m_grid = nullptr;
    QGridLayout* m_gridLayout = nullptr;
    QList<LoadChart*> m_charts;
    QList<ChartSpec> m_plan;
    QSet<Owner> m_shown;
    QSet<Owner> m_known; // seen once: a later appearance keeps the user's choice
    QList<Owner> m_listed; // in list order
    QTimer m_redrawTimer;
    QTimer m_tick; // moves the time axis once a second
    int m_rangeMinutes = 5;
    bool m_paused = false;
    bool m_sourcesDirty = true;
    int m_redraws = 0;
    int m_gridColumns = 0;
    qint64 m_to = 0;
};
