// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/agenttreeview.h"

#include "models/agenttreemodel.h"
#include "ui/colors.h"
#include "ui/sparklinedelegate.h"

#include <QApplication>
#include <QContextMenuEvent>
#include <QDateTime>
#include <QHeaderView>
#include <QMenu>
#include <QPainter>
#include <QStyledItemDelegate>

namespace {

bool isHostOffline(const QModelIndex& index)
{
    const QModelIndex host = index.parent().isValid() ? index.parent() : index;
    return host.data(AgentTreeModel::StateRole).toString() != QLatin1String("online");
}

bool isBridged(const QModelIndex& index)
{
    return index.column() == AgentTreeModel::NameColumn && !index.data(AgentTreeModel::IsHostRole).toBool()
        && index.data(AgentTreeModel::OriginRole).toString() == QLatin1String("bridged");
}

/// Paints the state dot before names, greys offline hosts and their agents,
/// tells how long until an offline host is tried again, tags agents read
/// from elsewhere (a BettaFish server, a log file), and shows the count of an
/// agent's waiting alerts in a badge after its name.
class AgentDelegate final : public QStyledItemDelegate
{
public:
    using QStyledItemDelegate::QStyledItemDelegate;

    AgentTreeView::AlertCount alertCount;

    int alertsOf(const QModelIndex& index) const
    {
        if (!alertCount || index.column() != AgentTreeModel::NameColumn)
            return 0;
        const bool isHost = index.data(AgentTreeModel::IsHostRole).toBool();
        return alertCount(index.data(AgentTreeModel::HostKeyRole).toString(),
                          isHost ? QString() : index.data(AgentTreeModel::AgentIdRole).toString());
    }

    void paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const override
    {
        if (index.column() == AgentTreeModel::ProgressColumn && index.data(AgentTreeModel::ProgressRole).isValid()) {
            paintProgress(painter, option, index);
            return;
        }
        // Most rows have neither mark nor badge: the style paints them (every cell, every second).
        const bool bridged = isBridged(index);
        const int alerts = alertsOf(index);
        if (!bridged && alerts == 0) {
            QStyledItemDelegate::paint(painter, option, index);
            return;
        }
        const NameLayout name = layoutName(option, index, bridged, alerts);
        const QStyleOptionViewItem& item = name.item;
        const QWidget* widget = item.widget;
        QStyle* style = widget ? widget->style() : QApplication::style();
        style->drawControl(QStyle::CE_ItemViewItem, &item, painter, widget);

        const QRect& text = name.textRect;
        const int gap = NameLayout::Gap;
        int left = std::min(text.left() + name.margin + QFontMetrics(item.font).horizontalAdvance(item.text) + gap,
                            text.right() - name.reserve + gap);
        if (bridged) {
            const QRectF mark(left, text.center().y() - name.markSize / 2.0 + 0.5, name.markSize, name.markSize);
            const bool selected = item.state & QStyle::State_Selected;
            QColor color = selected ? item.palette.color(QPalette::HighlightedText)
                                    : item.palette.color(QPalette::PlaceholderText);
            if (isHostOffline(index))
                color = item.palette.color(QPalette::Disabled, QPalette::Text);
            AgentTreeView::paintOriginMark(painter, mark, color);
            left += name.markSize + gap;
        }
        if (alerts > 0) {
            const QRectF pill(left, text.center().y() - name.badgeHeight / 2.0 + 0.5, name.badgeWidth,
                              name.badgeHeight);
            painter->save();
            painter->setRenderHint(QPainter::Antialiasing);
            painter->setPen(Qt::NoPen);
            painter->setBrush(AgentTreeView::alertBadgeColor());
            painter->drawRoundedRect(pill, name.badgeHeight / 2.0, name.badgeHeight / 2.0);
            painter->setFont(name.badgeFont);
            painter->setPen(Qt::white);
            painter->drawText(pill, Qt::AlignCenter, name.badge);
            painter->restore();
        }
    }

    /// Where a name and what follows it go: the name elided to leave room for the
    /// origin mark and the alert badge after it.
    struct NameLayout
    {
        static constexpr int Gap = 5; // between the name, the mark and the badge
        QStyleOptionViewItem item; // its text as painted
        QRect textRect;
        int margin = 0; // of the text inside textRect
        int markSize = 0;
        int reserve = 0; // for the mark and the badge
        int badgeWidth = 0;
        int badgeHeight = 0;
        QFont badgeFont;
        QString badge;
    };

    NameLayout layoutName(const QStyleOptionViewItem& option, const QModelIndex& index, bool bridged, int alerts) const
    {
        NameLayout name;
        name.item = option;
        initStyleOption(&name.item, index);
        const QWidget* widget = name.item.widget;
        QStyle* style = widget ? widget->style() : QApplication::style();
        name.textRect = style->subElementRect(QStyle::SE_ItemViewItemText, &name.item, widget);
        name.margin = style->pixelMetric(QStyle::PM_FocusFrameHMargin, nullptr, widget) + 1;
        name.markSize = std::clamp(name.textRect.height() - 6, 8, 12);
        name.badgeFont = name.item.font;
        name.badgeFont.setBold(true);
        name.badgeFont.setPointSizeF(name.badgeFont.pointSizeF() * 0.85);
        const QFontMetrics badgeMetrics(name.badgeFont);
        name.badge = QString::number(alerts);
        name.badgeHeight = std::min(name.textRect.height() - 2, badgeMetrics.height() + 2);
        name.badgeWidth = alerts > 0 ? std::max(badgeMetrics.horizontalAdvance(name.badge) + 10, name.badgeHeight) : 0;
        name.reserve =
            (bridged ? name.markSize + NameLayout::Gap : 0) + (alerts > 0 ? name.badgeWidth + NameLayout::Gap : 0);
        // The name gives way to the mark and the badge, which follow it.
        name.item.text = QFontMetrics(name.item.font)
                             .elidedText(name.item.text, name.item.textElideMode,
                                         std::max(0, name.textRect.width() - 2 * name.margin - name.reserve));
        return name;
    }

private:
    /// A thin bar under the percentage, in the agent's state colour.
    void paintProgress(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const
    {
        QStyleOptionViewItem item = option;
        initStyleOption(&item, index);
        const QWidget* widget = item.widget;
        QStyle* style = widget ? widget->style() : QApplication::style();
        style->drawControl(QStyle::CE_ItemViewItem, &item, painter, widget);
        const double progress = std::clamp(index.data(AgentTreeModel::ProgressRole).toDouble(), 0.0, 1.0);
        const QRect text = style->subElementRect(QStyle::SE_ItemViewItemText, &item, widget).adjusted(3, 0, -3, 0);
        const QRectF track(text.left(), text.bottom() - 3.5, text.width(), 3);
        painter->save();
        painter->setRenderHint(QPainter::Antialiasing);
        painter->setPen(Qt::NoPen);
        QColor trackColor = item.palette.color(QPalette::PlaceholderText);
        trackColor.setAlphaF(0.3);
        painter->setBrush(trackColor);
        painter->drawRoundedRect(track, 1.5, 1.5);
        QColor fill = AgentTreeView::stateColor(index.data(AgentTreeModel::StateRole).toString(), item.palette);
        if (isHostOffline(index))
            fill = item.palette.color(QPalette::Disabled, QPalette::Text);
        painter->setBrush(fill);
        painter->drawRoundedRect(QRectF(track.left(), track.top(), track.width() * progress, track.height()), 1.5, 1.5);
        painter->restore();
    }

protected:
    void initStyleOption(QStyleOptionViewItem* option, const QModelIndex& index) const override
    {
        QStyledItemDelegate::initStyleOption(option, index);
        if (isHostOffline(index))
            option->palette.setColor(QPalette::Text, option->palette.color(QPalette::Disabled, QPalette::Text));
        const bool isHost = index.data(AgentTreeModel::IsHostRole).toBool();
        if (index.column() != AgentTreeModel::NameColumn) {
            // A host's load and memory total stay in its tooltip; the columns are narrow.
            if (isHost)
                option->text = option->text.section(QStringLiteral(" · "), 0, 0).section(QStringLiteral(" / "), 0, 0);
            return;
        }
        if (isHost) {
            option->font.setBold(true);
            const QString state = AgentTreeView::hostStateText(index);
            if (!state.isEmpty())
                option->text += QStringLiteral("  ") + state;
        }
        option->icon =
            AgentTreeView::stateIcon(index.data(AgentTreeModel::StateRole).toString(), option->palette,
                                     option->decorationSize.isValid() ? option->decorationSize : QSize(12, 12));
        option->features |= QStyleOptionViewItem::HasDecoration;
    }
};

} // namespace

AgentTreeView::AgentTreeView(QWidget* parent)
    : QTreeView(parent)
{
    setObjectName(QStringLiteral("agentTree"));
    setItemDelegate(new AgentDelegate(this));
    setSelectionMode(QAbstractItemView::ExtendedSelection);
    setUniformRowHeights(true);
    setAllColumnsShowFocus(true);
    setRootIsDecorated(true);
    // Agent and host names often differ only at the end ("Insight Engine 2", "127.0.0.1:7701").
    setTextElideMode(Qt::ElideMiddle);
    header()->setStretchLastSection(false);
    header()->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(header(), &QWidget::customContextMenuRequested, this, &AgentTreeView::showHeaderMenu);
    connect(this, &QAbstractItemView::activated, this, [this](const QModelIndex& index) {
        if (!index.data(AgentTreeModel::IsHostRole).toBool())
            Q_EMIT openConsoleRequested(index.data(AgentTreeModel::HostKeyRole).toString(),
                                        index.data(AgentTreeModel::AgentIdRole).toString());
    });
    m_tick.setInterval(1000);
    connect(&m_tick, &QTimer::timeout, this, [this] {
        if (m_model)
            m_model->refreshUptime();
        viewport()->update(); // retry countdowns
    });
    m_tick.start();
}

void AgentTreeView::setAlertCount(AlertCount count)
{
    static_cast<AgentDelegate*>(itemDelegate())->alertCount = std::move(count);
    viewport()->update();
}

int AgentTreeView::alertBadge(const QModelIndex& index) const
{
    return static_cast<const AgentDelegate*>(itemDelegate())->alertsOf(index.siblingAtColumn(0));
}

QString AgentTreeView::shownName(const QModelIndex& index) const
{
    QStyleOptionViewItem option;
    initViewItemOption(&option);
    const QModelIndex name = index.siblingAtColumn(AgentTreeModel::NameColumn);
    const auto* delegate = static_cast<const AgentDelegate*>(itemDelegate());
    option.rect = visualRect(name);
    return delegate->layoutName(option, name, isBridged(name), delegate->alertsOf(name)).item.text;
}

QColor AgentTreeView::alertBadgeColor()
{
    // Readable with white digits on light and dark lists alike.
    return QColor(0xc6, 0x28, 0x28);
}

void AgentTreeView::setAgentModel(AgentTreeModel* model)
{
    m_model = model;
    setModel(model);
    QHeaderView* head = header();
    head->setSectionResizeMode(AgentTreeModel::NameColumn, QHeaderView::Stretch);
    QFont bold = font(); // host rows are bold
    bold.setBold(true);
    const QFontMetrics values(bold);
    const QFontMetrics labels(head->font());
    int numbers = 0;
    for (int column = 1; column < AgentTreeModel::ColumnCount; ++column) {
        // As wide as the header or the widest value it usually shows, whichever is wider.
        const QString widest = column == AgentTreeModel::MemoryColumn ? QStringLiteral("999.9 MiB")
            : column == AgentTreeModel::CpuColumn                     ? QStringLiteral("100.0 %")
            : column == AgentTreeModel::ProgressColumn                ? QStringLiteral("100 %")
                                                                      : QStringLiteral("999.9");
        const QString label = model->headerData(column, Qt::Horizontal).toString();
        head->setSectionResizeMode(column, QHeaderView::Interactive);
        head->resizeSection(column, std::max(values.horizontalAdvance(widest), labels.horizontalAdvance(label)) + 10);
        // Memory and the rest are a right click on the header away: the list shares the window.
        const bool shown = column == AgentTreeModel::ProgressColumn || column == AgentTreeModel::CpuColumn
            || column == AgentTreeModel::LinesPerSecondColumn || column == AgentTreeModel::ErrorsColumn;
        setColumnHidden(column, !shown);
        numbers += shown ? head->sectionSize(column) : 0;
    }
    m_numbersWidth = numbers;
    // Never so narrow that the names go.
    setMinimumWidth(numbers + indentation() + values.averageCharWidth() * 10);
    connect(model, &QAbstractItemModel::rowsInserted, this, [this](const QModelIndex& parent) {
        if (!parent.isValid())
            expandAll();
    });
    expandAll();
}

void AgentTreeView::setMetricsHistory(MetricsHistory* history)
{
    // The sparklines move on with the view's once-a-second repaint.
    for (const auto& [column, key] :
         {std::pair(AgentTreeModel::CpuColumn, "cpu"), std::pair(AgentTreeModel::LinesPerSecondColumn, "lines_per_s")})
        setItemDelegateForColumn(column,
                                 new SparklineDelegate(history, QString::fromLatin1(key), itemDelegate(), this));
}

QSize AgentTreeView::sizeHint() const
{
    // The numbers, and the names shown (some sixteen characters when there are none yet)
    // with room for an alert badge after them.
    const int chars = fontMetrics().averageCharWidth();
    const int icon = style()->pixelMetric(QStyle::PM_SmallIconSize, nullptr, this);
    const int names = std::max(sizeHintForColumn(AgentTreeModel::NameColumn), indentation() * 2 + icon + chars * 16);
    return QSize(m_numbersWidth + names + chars * 5 + frameWidth() * 2, QTreeView::sizeHint().height());
}

void AgentTreeView::showHeaderMenu(const QPoint& pos)
{
    QMenu menu(this);
    for (int column = 1; column < AgentTreeModel::ColumnCount; ++column) {
        QAction* action = menu.addAction(m_model->headerData(column, Qt::Horizontal).toString());
        action->setCheckable(true);
        action->setChecked(!isColumnHidden(column));
        connect(action, &QAction::toggled, this, [this, column](bool on) { setColumnHidden(column, !on); });
    }
    menu.exec(header()->mapToGlobal(pos));
}

QList<std::pair<QString, QString>> AgentTreeView::selectedAgents() const
{
    QList<std::pair<QString, QString>> agents;
    if (!m_model)
        return agents;
    const QModelIndexList rows = selectionModel()->selectedRows();
    for (const QModelIndex& index : rows) {
        const QString host = index.data(AgentTreeModel::HostKeyRole).toString();
        if (index.data(AgentTreeModel::IsHostRole).toBool()) {
            for (const QString& agent : m_model->agentIds(host)) {
                if (!agents.contains(std::pair(host, agent)))
                    agents.append({host, agent});
            }
        } else {
            const std::pair<QString, QString> agent(host, index.data(AgentTreeModel::AgentIdRole).toString());
            if (!agents.contains(agent))
                agents.append(agent);
        }
    }
    return agents;
}

void AgentTreeView::contextMenuEvent(QContextMenuEvent* event)
{
    const QModelIndex index = indexAt(viewport()->mapFromGlobal(event->globalPos()));
    if (!index.isValid() || !m_model)
        return;
    if (!selectionModel()->isRowSelected(index.row(), index.parent()))
        setCurrentIndex(index);
    const QString host = index.data(AgentTreeModel::HostKeyRole).toString();
    QMenu menu(this);
    if (index.data(AgentTreeModel::IsHostRole).toBool()) {
        if (host == QLatin1String("local")) {
            menu.addAction(tr("Add Local Agent…"), this, [this, host] { Q_EMIT addAgentRequested(host); });
        } else {
            menu.addAction(tr("Reconnect Now"), this, [this, host] { Q_EMIT reconnectHostRequested(host); });
            menu.addAction(tr("Edit Host…"), this, [this, host] { Q_EMIT editHostRequested(host); });
            menu.addSeparator();
            menu.addAction(tr("Remove Host"), this, [this, host] { Q_EMIT removeHostRequested(host); });
        }
        menu.exec(event->globalPos());
        return;
    }
    const QString agent = index.data(AgentTreeModel::AgentIdRole).toString();
    const auto agents = selectedAgents();
    // Launched agents take every process command; bridged ones (BettaFish apps, followed
    // files) start, stop and restart.
    bool anyLaunched = false;
    bool anyBridged = false;
    for (const auto& [agentHost, agentId] : agents) {
        const QString origin = m_model->indexOf(agentHost, agentId).data(AgentTreeModel::OriginRole).toString();
        anyLaunched |= origin == QLatin1String("launched");
        anyBridged |= origin == QLatin1String("bridged");
    }
    menu.addAction(tr("Open Console"), this, [this, host, agent] { Q_EMIT openConsoleRequested(host, agent); });
    menu.addSeparator();
    const QString processState = index.data(AgentTreeModel::ProcessStateRole).toString();
    const QString state = index.data(AgentTreeModel::StateRole).toString();
    const bool bridged = index.data(AgentTreeModel::OriginRole).toString() == QLatin1String("bridged");
    const bool running = bridged ? state != QLatin1String("stopped") && state != QLatin1String("offline")
                                 : processState == QLatin1String("RUNNING") || processState == QLatin1String("STARTING")
            || processState == QLatin1String("BACKOFF");
    for (const char* name : {"start", "stop", "restart", "kill"}) {
        const QString command = QLatin1String(name);
        QString label = command.at(0).toUpper() + command.mid(1);
        if (agents.size() > 1)
            label += tr(" %n Agents", nullptr, int(agents.size()));
        QAction* action =
            menu.addAction(label, this, [this, agents, command] { Q_EMIT commandRequested(agents, command); });
        const bool kill = command == QLatin1String("kill");
        action->setEnabled(anyLaunched || (anyBridged && !kill));
        if (agents.size() == 1 && (anyLaunched || (bridged && !kill)))
            action->setEnabled(command == QLatin1String("start") ? !running
                                                                 : running || command == QLatin1String("restart"));
    }
    if (agents.size() == 1) {
        menu.addSeparator();
        const bool editable = index.data(AgentTreeModel::OriginRole).toString() == QLatin1String("launched")
            && !index.data(AgentTreeModel::DefinitionRole).toByteArray().isEmpty();
        menu.addAction(tr("Edit…"), this, [this, host, agent] { Q_EMIT editAgentRequested(host, agent); })
            ->setEnabled(editable);
        menu.addAction(tr("Remove…"), this, [this, host, agent] { Q_EMIT removeAgentRequested(host, agent); });
    }
    menu.exec(event->globalPos());
}

QString AgentTreeView::hostStateText(const QModelIndex& host)
{
    const QString state = host.data(AgentTreeModel::StateRole).toString();
    if (state == QLatin1String("connecting"))
        return tr("connecting…");
    if (state != QLatin1String("offline"))
        return QString();
    const qint64 next = host.data(AgentTreeModel::NextAttemptRole).toLongLong();
    const qint64 wait = (next - QDateTime::currentMSecsSinceEpoch() + 999) / 1000;
    return next > 0 && wait > 0 ? tr("offline, retry in %1 s").arg(wait) : tr("offline");
}

QIcon AgentTreeView::stateIcon(const QString& state, const QPalette& palette, QSize size)
{
    QPixmap dot(size);
    dot.fill(Qt::transparent);
    QPainter painter(&dot);
    painter.setRenderHint(QPainter::Antialiasing);
    const QColor color = stateColor(state, palette);
    const qreal diameter = std::min(size.width(), size.height()) * 0.6;
    const QRectF circle((size.width() - diameter) / 2, (size.height() - diameter) / 2, diameter, diameter);
    // Not running: a ring; running in any way: a dot.
    if (state == QLatin1String("offline") || state == QLatin1String("stopped")) {
        painter.setPen(QPen(color, 1.5));
        painter.drawEllipse(circle);
    } else {
        painter.setPen(Qt::NoPen);
        painter.setBrush(color);
        painter.drawEllipse(circle);
    }
    return QIcon(dot);
}

void AgentTreeView::paintOriginMark(QPainter* painter, const QRectF& rect, const QColor& color)
{
    // An arrow into a tray: lines taken in from elsewhere.
    painter->save();
    painter->setRenderHint(QPainter::Antialiasing);
    QPen pen(color, std::max(1.2, rect.width() / 9));
    pen.setCapStyle(Qt::RoundCap);
    pen.setJoinStyle(Qt::RoundJoin);
    painter->setPen(pen);
    painter->setBrush(Qt::NoBrush);
    const qreal w = rect.width();
    const qreal h = rect.height();
    const QPointF o = rect.topLeft();
    painter->drawLine(o + QPointF(w / 2, h * 0.05), o + QPointF(w / 2, h * 0.62));
    painter->drawPolyline(
        QPolygonF({o + QPointF(w * 0.25, h * 0.38), o + QPointF(w / 2, h * 0.64), o + QPointF(w * 0.75, h * 0.38)}));
    painter->drawPolyline(QPolygonF({o + QPointF(w * 0.06, h * 0.62), o + QPointF(w * 0.06, h * 0.94),
                                     o + QPointF(w * 0.94, h * 0.94), o + QPointF(w * 0.94, h * 0.62)}));
    painter->restore();
}

QColor AgentTreeView::stateColor(const QString& state, const QPalette& palette)
{
    const bool dark = Colors::isDark(palette);
    if (state == QLatin1String("running") || state == QLatin1String("idle") || state == QLatin1String("online"))
        return dark ? QColor(0x5c, 0xc9, 0x7b) : QColor(0x1e, 0x8e, 0x3e);
    if (state == QLatin1String("busy"))
        return dark ? QColor(0x6c, 0xb6, 0xff) : QColor(0x1a, 0x6f, 0xd8);
    if (state == QLatin1String("starting") || state == QLatin1String("stopping") || state == QLatin1String("backoff")
        || state == QLatin1String("connecting"))
        return Colors::level(LogLevel::Warning, dark);
    if (state == QLatin1String("crashed") || state == QLatin1String("error") || state == QLatin1String("fatal"))
        return Colors::error(dark);
    return palette.color(QPalette::Disabled, QPalette::Text);
}
