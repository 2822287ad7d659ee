// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/loadview.h"

#include "models/agenttreemodel.h"
#include "models/metricshistory.h"

#include <QComboBox>
#include <QCoreApplication>
#include <QDateTime>
#include <QEvent>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QScrollArea>
#include <QSplitter>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace {

constexpr int HostKeyRole = Qt::UserRole;
constexpr int AgentIdRole = Qt::UserRole + 1;
constexpr int ChartWidth = 330; // a chart narrower than this reads badly

const QString Cpu = QStringLiteral("cpu");
const QString Rss = QStringLiteral("rss_bytes");
const QString LinesPerSecond = QStringLiteral("lines_per_s");

/// "tokens_per_s" reads "tokens/s", "queue_length" "queue length".
QString metricTitle(QString key)
{
    if (key.endsWith(QLatin1String("_per_s")))
        key = key.chopped(6) + QStringLiteral("/s");
    return key.replace(QLatin1Char('_'), QLatin1Char(' '));
}

LoadChart::Unit metricUnit(const QString& key)
{
    if (key.endsWith(QLatin1String("_bytes")))
        return LoadChart::Unit::Bytes;
    if (key.endsWith(QLatin1String("_bps")))
        return LoadChart::Unit::BytesPerSecond;
    return LoadChart::Unit::Plain;
}

} // namespace

LoadView::LoadView(AgentTreeModel* agents, MetricsHistory* history, QWidget* parent)
    : QWidget(parent)
    , m_agents(agents)
    , m_history(history)
{
    setObjectName(QStringLiteral("loadView"));

    m_sources = new QTreeWidget(this);
    m_sources->setObjectName(QStringLiteral("loadSources"));
    m_sources->setHeaderHidden(true);
    m_sources->setRootIsDecorated(true);
    m_sources->setToolTip(tr("Checked hosts and agents are drawn together on each chart"));
    connect(m_sources, &QTreeWidget::itemChanged, this, &LoadView::onItemChanged);

    m_range = new QComboBox(this);
    m_range->setObjectName(QStringLiteral("loadRange"));
    for (const int minutes : {5, 15, 60})
        m_range->addItem(tr("Last %1 minutes").arg(minutes), minutes);
    connect(m_range, &QComboBox::currentIndexChanged, this,
            [this](int index) { setRangeMinutes(m_range->itemData(index).toInt()); });
    m_pause = new QPushButton(tr("Pause"), this);
    m_pause->setObjectName(QStringLiteral("loadPause"));
    m_pause->setCheckable(true);
    connect(m_pause, &QPushButton::toggled, this, &LoadView::setPaused);
    m_hover = new QLabel(this);
    m_hover->setObjectName(QStringLiteral("loadHover"));
    m_hover->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto* bar = new QHBoxLayout;
    bar->setContentsMargins(6, 4, 6, 2);
    bar->addWidget(m_range);
    bar->addWidget(m_pause);
    bar->addSpacing(12);
    bar->addWidget(m_hover, 1);

    m_grid = new QWidget;
    m_gridLayout = new QGridLayout(m_grid);
    m_gridLayout->setContentsMargins(4, 0, 4, 4);
    m_gridLayout->setSpacing(6);
    auto* scroll = new QScrollArea;
    scroll->setObjectName(QStringLiteral("loadCharts"));
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setWidget(m_grid);

    auto* right = new QWidget;
    auto* rightLayout = new QVBoxLayout(right);
    rightLayout->setContentsMargins(0, 0, 0, 0);
    rightLayout->setSpacing(0);
    rightLayout->addLayout(bar);
    rightLayout->addWidget(scroll, 1);

    auto* splitter = new QSplitter(this);
    splitter->addWidget(m_sources);
    splitter->addWidget(right);
    splitter->setStretchFactor(1, 1);
    splitter->setSizes({160, 1000});
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(splitter);

    m_redrawTimer.setSingleShot(true);
    m_redrawTimer.setInterval(RedrawIntervalMs);
    connect(&m_redrawTimer, &QTimer::timeout, this, &LoadView::redraw);
    // Metrics come once a second: the clock that moves the time axis brings whatever
    // arrived since, in one redraw however many hosts and agents sent some.
    m_tick.setInterval(1000);
    connect(&m_tick, &QTimer::timeout, this, &LoadView::redraw);
    const auto sourcesChanged = [this] {
        m_sourcesDirty = true;
        scheduleRedraw();
    };
    connect(m_agents, &QAbstractItemModel::rowsInserted, this, sourcesChanged);
    connect(m_agents, &QAbstractItemModel::rowsRemoved, this, sourcesChanged);
    connect(m_agents, &QAbstractItemModel::modelReset, this, sourcesChanged);
    // A name in the list and the legends (or a status, which changes the whole row):
    // taken with the next redraw, as statuses may change many times a second.
    connect(m_agents, &QAbstractItemModel::dataChanged, this, [this](const QModelIndex& topLeft) {
        if (topLeft.column() == AgentTreeModel::NameColumn)
            m_sourcesDirty = true;
    });
}

LoadView::~LoadView() = default;

void LoadView::setRangeMinutes(int minutes)
{
    if (minutes == m_rangeMinutes)
        return;
    m_rangeMinutes = minutes;
    m_range->setCurrentIndex(m_range->findData(minutes));
    if (isVisible())
        redraw();
}

void LoadView::setPaused(bool paused)
{
    if (paused == m_paused)
        return;
    m_paused = paused;
    m_pause->setChecked(paused);
    m_pause->setText(paused ? tr("Resume") : tr("Pause"));
    if (paused) {
        m_tick.stop();
        m_redrawTimer.stop();
    } else if (isVisible()) {
        m_tick.start();
        redraw();
    }
}

void LoadView::setShown(const QString& hostKey, const QString& agentId, bool shown)
{
    if (m_sourcesDirty)
        syncSources();
    for (QTreeWidgetItemIterator it(m_sources); *it; ++it) {
        if ((*it)->data(0, HostKeyRole).toString() == hostKey && (*it)->data(0, AgentIdRole).toString() == agentId)
            (*it)->setCheckState(0, shown ? Qt::Checked : Qt::Unchecked);
    }
}

bool LoadView::isShown(const QString& hostKey, const QString& agentId) const
{
    return m_shown.contains({hostKey, agentId});
}

QSize LoadView::sizeHint() const
{
    return {3 * ChartWidth, 2 * 175 + 40};
}

LoadChart* LoadView::chart(const QString& title) const
{
    for (LoadChart* chart : m_charts) {
        if (chart->objectName() == title)
            return chart;
    }
    return nullptr;
}

void LoadView::showEvent(QShowEvent* event)
{
    QWidget::showEvent(event);
    if (!m_paused)
        m_tick.start();
    // Catch up with what came while hidden.
    m_redrawTimer.start(0);
}

void LoadView::hideEvent(QHideEvent* event)
{
    QWidget::hideEvent(event);
    m_tick.stop();
    m_redrawTimer.stop();
}

void LoadView::changeEvent(QEvent* event)
{
    QWidget::changeEvent(event);
    // The charts follow a palette change on their own (LoadChart::changeEvent).
}

void LoadView::resizeEvent(QResizeEvent* event)
{
    QWidget::resizeEvent(event);
    if (columns() != m_gridColumns)
        layoutGrid();
}

void LoadView::onItemChanged(QTreeWidgetItem* item)
{
    const Owner owner{item->data(0, HostKeyRole).toString(), item->data(0, AgentIdRole).toString()};
    if (item->checkState(0) == Qt::Checked)
        m_shown.insert(owner);
    else
        m_shown.remove(owner);
    if (isVisible())
        redraw();
}

void LoadView::scheduleRedraw()
{
    if (!isVisible() || m_redrawTimer.isActive())
        return;
    m_redrawTimer.start(RedrawIntervalMs);
}

void LoadView::redraw()
{
    m_redrawTimer.stop();
    ++m_redraws;
    if (m_sourcesDirty)
        syncSources();
    if (!m_paused || m_to == 0)
        m_to = QDateTime::currentMSecsSinceEpoch();
    const qint64 from = m_to - qint64(m_rangeMinutes) * 60 * 1000;
    const QList<ChartSpec> specs = plan();
    placeCharts(specs);
    for (qsizetype i = 0; i < specs.size(); ++i) {
        QList<LoadChart::Line> lines;
        lines.reserve(specs.at(i).lines.size());
        for (const LineSpec& spec : specs.at(i).lines)
            lines.append({spec.name, m_history->series(spec.owner.first, spec.owner.second, spec.key), spec.dashed});
        m_charts.at(i)->setLines(lines, from, m_to);
    }
}

void LoadView::syncSources()
{
    m_sourcesDirty = false;
    QList<Owner> listed;
    QHash<Owner, QString> names;
    for (int h = 0; h < m_agents->rowCount(); ++h) {
        const QModelIndex host = m_agents->index(h, 0);
        const QString hostKey = host.data(AgentTreeModel::HostKeyRole).toString();
        listed.append({hostKey, QString()});
        names.insert(listed.last(), host.data(Qt::DisplayRole).toString());
        for (int a = 0; a < m_agents->rowCount(host); ++a) {
            const QModelIndex agent = m_agents->index(a, 0, host);
            listed.append({hostKey, agent.data(AgentTreeModel::AgentIdRole).toString()});
            names.insert(listed.last(), agent.data(Qt::DisplayRole).toString());
        }
    }
    int shownAgents = 0;
    for (const Owner& owner : std::as_const(m_shown))
        shownAgents += owner.second.isEmpty() ? 0 : 1;
    for (const Owner& owner : std::as_const(listed)) {
        if (m_known.contains(owner))
            continue;
        m_known.insert(owner);
        if (owner.second.isEmpty() || shownAgents < DefaultOverlay) {
            m_shown.insert(owner);
            shownAgents += owner.second.isEmpty() ? 0 : 1;
        }
    }
    // Owners that went are forgotten, so that coming back they are new again.
    const QSet<Owner> present(listed.cbegin(), listed.cend());
    m_known.intersect(present);
    m_shown.intersect(present);

    const QSignalBlocker blocker(m_sources);
    if (listed != m_listed) {
        m_listed = listed;
        m_sources->clear();
        QTreeWidgetItem* hostItem = nullptr;
        for (const Owner& owner : std::as_const(listed)) {
            auto* item = owner.second.isEmpty() ? new QTreeWidgetItem(m_sources) : new QTreeWidgetItem(hostItem);
            if (owner.second.isEmpty())
                hostItem = item;
            item->setData(0, HostKeyRole, owner.first);
            item->setData(0, AgentIdRole, owner.second);
            item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsUserCheckable);
        }
        m_sources->expandAll();
    }
    for (QTreeWidgetItemIterator it(m_sources); *it; ++it) {
        const Owner owner{(*it)->data(0, HostKeyRole).toString(), (*it)->data(0, AgentIdRole).toString()};
        (*it)->setText(0, names.value(owner));
        (*it)->setCheckState(0, m_shown.contains(owner) ? Qt::Checked : Qt::Unchecked);
    }
}

QList<LoadView::ChartSpec> LoadView::plan() const
{
    QList<Owner> hosts;
    QList<Owner> agents;
    QSet<QString> agentHosts;
    for (const Owner& owner : m_listed) {
        if (!m_shown.contains(owner))
            continue;
        if (owner.second.isEmpty()) {
            hosts.append(owner);
        } else {
            agents.append(owner);
            agentHosts.insert(owner.first);
        }
    }
    const auto nameOf = [this](const Owner& owner) {
        const QModelIndex index = m_agents->indexOf(owner.first, owner.second);
        return index.isValid() ? index.data(Qt::DisplayRole).toString() : owner.second;
    };
    const auto has = [this](const Owner& owner, const QString& key) {
        return m_history->keys(owner.first, owner.second).contains(key);
    };

    QList<ChartSpec> specs;
    const auto add = [&specs](ChartSpec spec) {
        if (!spec.lines.isEmpty())
            specs.append(std::move(spec));
    };
    // One host: the lines say what they are; several: whose they are too.
    const bool oneHost = hosts.size() == 1;
    const auto hostLine = [&nameOf, oneHost](const Owner& host, const QString& what) {
        return oneHost ? what : nameOf(host) + QLatin1Char(' ') + what;
    };
    // A machine's CPU from 0 to 100 %, so that a glance says how busy it is.
    ChartSpec cpu{tr("Host CPU"), LoadChart::Unit::Percent, {}, 100};
    ChartSpec memory{tr("Host memory"), LoadChart::Unit::Bytes, {}};
    ChartSpec load{tr("Load average"), LoadChart::Unit::Plain, {}};
    ChartSpec network{tr("Network"), LoadChart::Unit::BytesPerSecond, {}};
    for (const Owner& host : std::as_const(hosts)) {
        if (has(host, Cpu))
            cpu.lines.append({host, Cpu, nameOf(host)});
        if (has(host, QStringLiteral("mem_used_bytes")))
            memory.lines.append({host, QStringLiteral("mem_used_bytes"), hostLine(host, tr("used"))});
        if (has(host, QStringLiteral("mem_total_bytes")))
            memory.lines.append({host, QStringLiteral("mem_total_bytes"), hostLine(host, tr("total")), true});
        if (has(host, QStringLiteral("load1")))
            load.lines.append({host, QStringLiteral("load1"), nameOf(host)});
        if (has(host, QStringLiteral("net_rx_bps")))
            network.lines.append({host, QStringLiteral("net_rx_bps"), hostLine(host, tr("received"))});
        if (has(host, QStringLiteral("net_tx_bps")))
            network.lines.append({host, QStringLiteral("net_tx_bps"), hostLine(host, tr("sent"))});
    }
    add(cpu);
    add(memory);
    add(load);
    add(network);

    const bool oneAgentHost = agentHosts.size() <= 1;
    const auto agentName = [&nameOf, oneAgentHost](const Owner& agent) {
        return oneAgentHost ? nameOf(agent) : nameOf(agent) + QLatin1Char('@') + nameOf({agent.first, QString()});
    };
    // Percent of one core: most agents idle at a few percent and one may use several
    // cores, so the axis follows the largest, from 10 % up.
    ChartSpec agentCpu{tr("Agent CPU"), LoadChart::Unit::Percent, {}, 10};
    ChartSpec agentMemory{tr("Agent memory"), LoadChart::Unit::Bytes, {}};
    ChartSpec lines{tr("Lines/s"), LoadChart::Unit::LinesPerSecond, {}};
    QStringList otherKeys;
    for (const Owner& agent : std::as_const(agents)) {
        const QStringList keys = m_history->keys(agent.first, agent.second);
        for (const QString& key : keys) {
            if (key == Cpu)
                agentCpu.lines.append({agent, key, agentName(agent)});
            else if (key == Rss)
                agentMemory.lines.append({agent, key, agentName(agent)});
            else if (key == LinesPerSecond)
                lines.lines.append({agent, key, agentName(agent)});
            else if (!otherKeys.contains(key))
                otherKeys.append(key);
        }
    }
    add(agentCpu);
    add(agentMemory);
    add(lines);
    for (const QString& key : std::as_const(otherKeys)) {
        ChartSpec other{metricTitle(key), metricUnit(key), {}};
        for (const Owner& agent : std::as_const(agents)) {
            if (has(agent, key))
                other.lines.append({agent, key, agentName(agent)});
        }
        add(other);
    }
    return specs;
}

void LoadView::placeCharts(const QList<ChartSpec>& specs)
{
    bool same = specs.size() == m_plan.size();
    for (qsizetype i = 0; same && i < specs.size(); ++i)
        same = specs.at(i).title == m_plan.at(i).title;
    m_plan = specs;
    if (same)
        return;
    QList<LoadChart*> charts;
    for (const ChartSpec& spec : specs) {
        LoadChart* chart = this->chart(spec.title);
        if (chart) {
            m_charts.removeOne(chart);
        } else {
            chart = new LoadChart(spec.title, spec.unit, m_grid);
            chart->setFloor(spec.floor);
            connect(chart, &LoadChart::hovered, m_hover, &QLabel::setText);
        }
        charts.append(chart);
    }
    qDeleteAll(m_charts); // those no plan needs any more
    m_charts = charts;
    layoutGrid();
}

int LoadView::columns() const
{
    const int width = m_grid->parentWidget() ? m_grid->parentWidget()->width() : m_grid->width();
    return std::max(1, width / ChartWidth);
}

void LoadView::layoutGrid()
{
    m_gridColumns = columns();
    for (LoadChart* chart : std::as_const(m_charts))
        m_gridLayout->removeWidget(chart);
    for (int c = 0; c < m_gridLayout->columnCount(); ++c)
        m_gridLayout->setColumnStretch(c, 0);
    for (qsizetype i = 0; i < m_charts.size(); ++i) {
        m_gridLayout->addWidget(m_charts.at(i), int(i) / m_gridColumns, int(i) % m_gridColumns);
        m_charts.at(i)->show();
    }
    for (int c = 0; c < m_gridColumns; ++c)
        m_gridLayout->setColumnStretch(c, 1);
    // Sizes now (the grid, then the scroll area around it, then the grid again), so that
    // the charts thin their lines to the pixels they will have and lay them out once,
    // not again when they get their size.
    m_gridLayout->activate();
    QCoreApplication::sendPostedEvents(nullptr, QEvent::LayoutRequest);
    m_gridLayout->activate();
}
