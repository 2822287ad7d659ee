// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/loadchart.h"

#include "ui/colors.h"

#include <QCategoryAxis>
#include <QChart>
#include <QDateTime>
#include <QGraphicsEllipseItem>
#include <QGraphicsLayout>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QMouseEvent>
#include <QValueAxis>
#include <cmath>

namespace {

/// The smallest of 1, 2, 2.5, 5 times a power of ten that is at least value.
double niceCeil(double value)
{
    if (!(value > 0))
        return 1;
    const double power = std::pow(10.0, std::floor(std::log10(value)));
    for (const double step : {1.0, 2.0, 2.5, 5.0, 10.0}) {
        if (step * power >= value * (1 - 1e-9))
            return step * power;
    }
    return 10 * power;
}

struct Scale
{
    double divisor;
    QString unit;
};

/// The unit a largest value reads best in.
Scale scaleFor(LoadChart::Unit unit, double largest)
{
    const auto binary = [largest](const QString& suffix) {
        static const char* const prefixes[] = {"", "Ki", "Mi", "Gi", "Ti"};
        double divisor = 1;
        int prefix = 0;
        while (prefix < 4 && largest >= divisor * 1024) {
            divisor *= 1024;
            ++prefix;
        }
        return Scale{divisor, QLatin1String(prefixes[prefix]) + suffix};
    };
    switch (unit) {
    case LoadChart::Unit::Percent:
        return {1, QStringLiteral("%")};
    case LoadChart::Unit::Bytes:
        return binary(QStringLiteral("B"));
    case LoadChart::Unit::BytesPerSecond:
        return binary(QStringLiteral("B/s"));
    case LoadChart::Unit::LinesPerSecond:
        return {1, QStringLiteral("lines/s")};
    case LoadChart::Unit::Plain:
        break;
    }
    return {1, QString()};
}

/// The round step (10 s … 1 h) between time labels that puts at most maxLabels of them on span ms.
qint64 timeStep(qint64 span, int maxLabels)
{
    constexpr qint64 Second = 1000;
    constexpr qint64 Minute = 60 * Second;
    for (const qint64 step : {10 * Second, 15 * Second, 30 * Second, Minute, 2 * Minute, 5 * Minute, 10 * Minute,
                              15 * Minute, 20 * Minute, 30 * Minute}) {
        if (span / step <= maxLabels)
            return step;
    }
    return 60 * Minute;
}

} // namespace

// The chart is given at construction: setChart() would leave the view's own first chart behind.
LoadChart::LoadChart(const QString& title, Unit unit, QWidget* parent)
    : QChartView(new QChart, parent) // the view owns the chart
    , m_unit(unit)
{
    setObjectName(title);
    setRenderHint(QPainter::Antialiasing);
    setMouseTracking(true);
    setMinimumSize(220, 170);
    QChart* chart = this->chart();
    chart->setTitle(title);
    chart->setAnimationOptions(QChart::NoAnimation); // live data: every frame would be a tween
    chart->setMargins(QMargins(2, 2, 2, 2));
    chart->setBackgroundRoundness(0);
    chart->legend()->setAlignment(Qt::AlignBottom);

    m_timeAxis = new QCategoryAxis(chart);
    m_timeAxis->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
    chart->addAxis(m_timeAxis, Qt::AlignBottom);
    m_valueAxis = new QValueAxis(chart);
    m_valueAxis->setTickType(QValueAxis::TicksDynamic);
    m_valueAxis->setTickAnchor(0);
    m_valueAxis->setRange(0, 1);
    chart->addAxis(m_valueAxis, Qt::AlignLeft);

    m_dot = new QGraphicsEllipseItem(-3.5, -3.5, 7, 7, chart);
    m_dot->setZValue(20);
    m_dot->hide();
    applyPalette();
}

LoadChart::~LoadChart() = default;

QList<QPointF> LoadChart::thin(QList<QPointF>::const_iterator begin, QList<QPointF>::const_iterator end, qint64 from,
                               qint64 to, int columns)
{
    if (end - begin <= 2 * qsizetype(columns) || to <= from || columns < 1)
        return QList<QPointF>(begin, end);
    QList<QPointF> out;
    out.reserve(2 * columns + 2);
    const double step = double(to - from) / columns;
    auto it = begin;
    while (it != end) {
        const auto column = qint64(std::floor((it->x() - double(from)) / step));
        QPointF low = *it;
        QPointF high = *it;
        for (++it; it != end && qint64(std::floor((it->x() - double(from)) / step)) == column; ++it) {
            if (it->y() < low.y())
                low = *it;
            if (it->y() > high.y())
                high = *it;
        }
        // In time order, and only once when they are the same point.
        if (low.x() > high.x())
            std::swap(low, high);
        out.append(low);
        if (high != low)
            out.append(high);
    }
    // The ends stay where they are: the line starts at the edge and ends at the newest value.
    if (out.first() != *begin)
        out.prepend(*begin);
    if (out.last() != *(end - 1))
        out.append(*(end - 1));
    return out;
}

double LoadChart::lineWidth() const
{
    // A few lines read better a little bolder; many are drawn on the raster engine's
    // fast path for one-pixel pens (a wider pen is stroked into polygons first).
    return m_lines.size() <= MaxLegend ? 1.5 : 1.0;
}

void LoadChart::setFloor(double top)
{
    m_floor = top;
}

QString LoadChart::formatValue(double value, Unit unit)
{
    const Scale scale = scaleFor(unit, std::abs(value));
    const double shown = value / scale.divisor;
    const int decimals = unit == Unit::Plain ? (std::abs(shown) < 10 && shown != std::floor(shown) ? 2 : 0)
        : std::abs(shown) < 100              ? 1
                                             : 0;
    const QString number = QString::number(shown, 'f', decimals);
    return scale.unit.isEmpty() ? number : number + QLatin1Char(' ') + scale.unit;
}

double LoadChart::plotWidth() const
{
    const double plot = chart()->plotArea().width();
    return plot > 10 ? plot : width() - 50;
}

void LoadChart::updateTimeLabels()
{
    // As many labels as fit with room between them, at the round times of the local
    // clock; they keep their places on the lines as the range moves on.
    const int labelWidth = QFontMetrics(m_timeAxis->labelsFont()).horizontalAdvance(QStringLiteral("00:00"));
    const qint64 step = timeStep(m_to - m_from, std::max(1, int(plotWidth() / (labelWidth * 1.5))));
    const auto place = [&](qint64 offset) {
        const auto roundUp = [&](qint64 t) {
            return (t + offset + step - 1) / step * step - offset;
        };
        return std::pair(roundUp(m_from), roundUp(m_to + 1) - step); // the first in the range, the last
    };
    // The labels move on at least every step, and the clock's offset (a local-time
    // conversion) is looked up again then, not at every redraw.
    if (const auto [first, last] = place(m_labelOffset);
        step == m_labelStep && first == m_labelFirst && last == m_labelLast)
        return;
    m_labelOffset = qint64(QDateTime::fromMSecsSinceEpoch(m_to).offsetFromUtc()) * 1000;
    const auto [first, last] = place(m_labelOffset);
    m_labelStep = step;
    m_labelFirst = first;
    m_labelLast = last;
    const QString format = step % 60000 == 0 ? QStringLiteral("HH:mm") : QStringLiteral("HH:mm:ss");
    for (const QString& label : m_timeAxis->categoriesLabels())
        m_timeAxis->remove(label);
    m_timeAxis->setStartValue(double(first - step));
    for (qint64 t = first; t <= last; t += step)
        m_timeAxis->append(QDateTime::fromMSecsSinceEpoch(t).toString(format), double(t));
}

void LoadChart::setLines(const QList<Line>& lines, qint64 from, qint64 to)
{
    m_from = from;
    m_to = to;
    bool sameNames = lines.size() == m_series.size();
    for (qsizetype i = 0; sameNames && i < lines.size(); ++i)
        sameNames = lines.at(i).name == m_series.at(i)->name();
    // No more than a lowest and a highest point per pixel column: more would not show,
    // and each point costs Qt Charts a stroke segment when it lays the line out.
    const int columns = std::max(16, int(plotWidth()));
    m_lines.clear();
    m_lines.reserve(lines.size());
    for (const Line& line : lines) {
        // One point left of the range, so that the line comes in from the edge.
        const auto first = std::lower_bound(line.points.cbegin(), line.points.cend(), double(from),
                                            [](const QPointF& p, double x) { return p.x() < x; });
        const auto begin = first == line.points.cbegin() ? first : first - 1;
        m_lines.append({line.name, thin(begin, line.points.cend(), from, to, columns), line.dashed});
    }
    if (!sameNames)
        rebuild(lines);
    updateValueRange();
}

void LoadChart::updateValueRange()
{
    double largest = 0;
    for (const Line& line : std::as_const(m_lines)) {
        if (m_hidden.contains(line.name))
            continue;
        for (const QPointF& p : line.points) {
            if (p.x() >= double(m_from))
                largest = std::max(largest, p.y());
        }
    }
    const Scale scale = scaleFor(m_unit, largest);
    m_scale = scale.divisor;
    m_shownUnit = scale.unit;
    // Four or five gridlines at round numbers.
    double top = std::max(largest / m_scale, m_floor);
    const double step = niceCeil(top / 4);
    top = std::max(step, std::ceil(top / step - 1e-9) * step);

    // A new axis range lays out every line again (Qt Charts strokes each one for its
    // hover shape): emptied first, the lines are laid out once, with their new points.
    for (QLineSeries* series : std::as_const(m_series))
        series->clear();
    m_timeAxis->setRange(double(m_from), double(m_to));
    updateTimeLabels();
    m_valueAxis->setRange(0, top);
    m_valueAxis->setTickInterval(step);
    const int decimals = step == std::floor(step) ? 0 : step * 10 == std::floor(step * 10) ? 1 : 2;
    m_valueAxis->setLabelFormat(QStringLiteral("%.%1f").arg(decimals));
    const QString title = objectName();
    // "Lines/s" says its unit already.
    const bool said = m_shownUnit.isEmpty() || title.compare(m_shownUnit, Qt::CaseInsensitive) == 0;
    chart()->setTitle(said ? title : QStringLiteral("%1 (%2)").arg(title, m_shownUnit));
    // The plot's place follows the title, legend and axis labels: settled now, while
    // the lines are empty, it does not lay them out again once they are filled.
    if (QGraphicsLayout* layout = chart()->layout())
        layout->activate();
    for (qsizetype i = 0; i < m_lines.size(); ++i) {
        QList<QPointF> shown = m_lines.at(i).points;
        if (m_scale != 1) {
            for (QPointF& p : shown)
                p.setY(p.y() / m_scale);
        }
        m_series.at(i)->replace(shown);
    }
}

void LoadChart::rebuild(const QList<Line>& lines)
{
    QChart* chart = this->chart();
    m_dot->hide();
    chart->removeAllSeries();
    m_series.clear();
    for (const Line& line : lines) {
        auto* series = new QLineSeries(chart);
        series->setName(line.name);
        chart->addSeries(series);
        series->attachAxis(m_timeAxis);
        series->attachAxis(m_valueAxis);
        QPen pen = series->pen();
        pen.setWidthF(lineWidth());
        if (line.dashed) {
            // A limit (memory total) drawn in the colour of the line it bounds.
            pen.setStyle(Qt::DashLine);
            if (!m_series.isEmpty())
                pen.setColor(m_series.last()->pen().color());
        }
        series->setPen(pen);
        series->setVisible(!m_hidden.contains(line.name));
        m_series.append(series);
    }
    const QList<QLegendMarker*> markers = chart->legend()->markers();
    for (QLegendMarker* marker : markers) {
        connect(marker, &QLegendMarker::clicked, this, [this, marker] { toggle(marker); });
        styleMarker(marker);
    }
    // Past a dozen entries a legend's names are cut to nothing (and measuring them costs
    // more than drawing the lines): the list beside the charts names them, hovering tells.
    chart->legend()->setVisible(lines.size() > 1 && lines.size() <= MaxLegend);
    // A legend shown again shows its entries when its layout runs: now, not at some later event.
    if (QGraphicsLayout* legendLayout = chart->legend()->layout())
        legendLayout->activate();
}

void LoadChart::toggle(QLegendMarker* marker)
{
    if (!marker->series())
        return;
    QAbstractSeries* series = marker->series();
    series->setVisible(!series->isVisible());
    if (series->isVisible())
        m_hidden.remove(series->name());
    else
        m_hidden.insert(series->name());
    // The entry stays, so that the line can come back.
    marker->setVisible(true);
    styleMarker(marker);
    m_dot->hide();
    updateValueRange();
}

void LoadChart::styleMarker(QLegendMarker* marker)
{
    const bool shown = marker->series()->isVisible();
    QColor text = palette().color(QPalette::WindowText);
    if (!shown)
        text.setAlphaF(0.35);
    marker->setLabelBrush(text);
    QBrush brush = marker->brush();
    QColor color = brush.color();
    color.setAlphaF(shown ? 1.0 : 0.25);
    brush.setColor(color);
    marker->setBrush(brush);
}

void LoadChart::changeEvent(QEvent* event)
{
    QChartView::changeEvent(event);
    // Its own palette has changed by now (its parent may hear of the change first).
    if (event->type() == QEvent::PaletteChange)
        applyPalette();
}

void LoadChart::applyPalette()
{
    QChart* chart = this->chart();
    const QPalette pal = palette();
    const bool dark = Colors::isDark(pal);
    // The theme picks line colours that read on the background; the rest follows the window.
    chart->setTheme(dark ? QChart::ChartThemeDark : QChart::ChartThemeLight);
    chart->setBackgroundBrush(pal.color(QPalette::Base));
    chart->setBackgroundPen(Qt::NoPen);
    setBackgroundBrush(pal.color(QPalette::Base));
    chart->setTitleBrush(pal.color(QPalette::Text));
    QFont titleFont = font();
    titleFont.setBold(true);
    chart->setTitleFont(titleFont);
    QFont small = font();
    small.setPointSizeF(small.pointSizeF() * 0.8);
    chart->legend()->setFont(small);
    chart->legend()->setLabelColor(pal.color(QPalette::Text));
    QColor grid = pal.color(QPalette::Text);
    grid.setAlphaF(0.12);
    QColor axisLine = pal.color(QPalette::Text);
    axisLine.setAlphaF(0.4);
    for (QAbstractAxis* axis : {static_cast<QAbstractAxis*>(m_timeAxis), static_cast<QAbstractAxis*>(m_valueAxis)}) {
        axis->setLabelsFont(small);
        axis->setLabelsColor(pal.color(QPalette::Text));
        axis->setGridLineColor(grid);
        axis->setLinePenColor(axisLine);
    }
    m_dot->setBrush(pal.color(QPalette::Text));
    m_dot->setPen(QPen(pal.color(QPalette::Base), 1.5));
    // The theme restyled the lines; dashed limits take their line's colour again.
    for (qsizetype i = 0; i < m_series.size() && i < m_lines.size(); ++i) {
        QPen pen = m_series.at(i)->pen();
        pen.setWidthF(lineWidth());
        if (m_lines.at(i).dashed) {
            pen.setStyle(Qt::DashLine);
            if (i > 0)
                pen.setColor(m_series.at(i - 1)->pen().color());
        }
        m_series.at(i)->setPen(pen);
    }
    const QList<QLegendMarker*> markers = chart->legend()->markers();
    for (QLegendMarker* marker : markers)
        styleMarker(marker);
}

QString LoadChart::describeNearest(const QPoint& pos)
{
    QChart* chart = this->chart();
    const QPointF at = chart->mapFromScene(mapToScene(pos));
    if (!chart->plotArea().adjusted(-4, -4, 4, 4).contains(at)) {
        m_dot->hide();
        return {};
    }
    double best = std::numeric_limits<double>::max();
    qsizetype bestLine = -1;
    QPointF bestPoint;
    QPointF bestPosition;
    for (qsizetype i = 0; i < m_series.size(); ++i) {
        QLineSeries* series = m_series.at(i);
        if (!series->isVisible())
            continue;
        const QList<QPointF> points = series->points();
        for (const QPointF& p : points) {
            if (p.x() < double(m_from) || p.x() > double(m_to))
                continue;
            const QPointF position = chart->mapToPosition(p, series);
            const QPointF d = position - at;
            const double distance = d.x() * d.x() + d.y() * d.y();
            if (distance < best) {
                best = distance;
                bestLine = i;
                bestPoint = p;
                bestPosition = position;
            }
        }
    }
    if (bestLine < 0) {
        m_dot->hide();
        return {};
    }
    m_dot->setPos(bestPosition);
    m_dot->show();
    return QStringLiteral("%1: %2 at %3")
        .arg(m_series.at(bestLine)->name(), formatValue(bestPoint.y() * m_scale, m_unit),
             QDateTime::fromMSecsSinceEpoch(qint64(bestPoint.x())).toString(QStringLiteral("HH:mm:ss")));
}

void LoadChart::mouseMoveEvent(QMouseEvent* event)
{
    QChartView::mouseMoveEvent(event);
    Q_EMIT hovered(describeNearest(event->position().toPoint()));
}

void LoadChart::leaveEvent(QEvent* event)
{
    QChartView::leaveEvent(event);
    m_dot->hide();
    Q_EMIT hovered({});
}
