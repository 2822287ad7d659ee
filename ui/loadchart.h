// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QChartView>
#include <QList>
#include <QPointF>
#include <QSet>
#include <QString>

class QCategoryAxis;
class QGraphicsEllipseItem;
class QLegendMarker;
class QLineSeries;
class QValueAxis;

/*
 * One load chart of the Load view: lines over a time axis, in one unit. Values
 * come in their own unit (percent, bytes, ...) and are shown in a readable one
 * (MiB or GiB, KiB/s ...) chosen from the largest visible value. Hovering shows
 * the nearest point; clicking a legend entry hides or shows its line.
 */
class LoadChart final : public QChartView
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LoadChart)

public:
    enum class Unit { Percent, Bytes, BytesPerSecond, LinesPerSecond, Plain };
    /// The most lines a legend is shown for.
    static constexpr int MaxLegend = 12;
    Q_ENUM(Unit)

    /// One line: raw values, x in ms since the epoch, oldest first.
    struct Line
    {
        QString name;
        QList<QPointF> points;
        bool dashed = false;
    };

    LoadChart(const QString& title, Unit unit, QWidget* parent = nullptr);
    ~LoadChart() override;

    Unit unit() const { return m_unit; }
    /// Shows the lines between from and to (ms since the epoch). Lines of the same
    /// names as before keep their series and take the new points in one replace().
    void setLines(const QList<Line>& lines, qint64 from, qint64 to);
    /// The value axis reaches at least this far (in the shown unit): 100 for a machine's CPU.
    void setFloor(double top);
    /// Follows the palette (light or dark); call when it changes.
    void applyPalette();

    /// The time axis: ms since the epoch, with its labels at round times ("12:35", "12:40").
    QCategoryAxis* timeAxis() const { return m_timeAxis; }
    QValueAxis* valueAxis() const { return m_valueAxis; }
    QList<QLineSeries*> series() const { return m_series; }
    /// The nearest shown point to a position in this view, as "name: value at 12:34:56"; empty if none.
    QString describeNearest(const QPoint& pos);
    /// The unit values are shown in ("%", "MiB", "KiB/s", ...).
    QString shownUnit() const { return m_shownUnit; }

    /// The points between begin and end, at most the lowest and the highest of each of
    /// columns equal slices of from..to (the pixel columns of the plot), and the first and
    /// the last, in time order.
    static QList<QPointF> thin(QList<QPointF>::const_iterator begin, QList<QPointF>::const_iterator end, qint64 from,
                               qint64 to, int columns);
    /// A value in a readable unit: "12.5 %", "1.2 GiB", "300 KiB/s", "4.0 lines/s".
    static QString formatValue(double value, Unit unit);

Q_SIGNALS:
    /// The point under the pointer, or an empty text when it leaves.
    void hovered(const QString& text);

protected:
    void mouseMoveEvent(QMouseEvent* event) override;
    void leaveEvent(QEvent* event) override;
    void changeEvent(QEvent* event) override;

private:
    void rebuild(const QList<Line>& lines);
    /// A click on a legend entry: hides its line, or shows it again.
    void toggle(QLegendMarker* marker);
    void styleMarker(QLegendMarker* marker);
    void updateValueRange();
    /// Labels and grid lines at the round times of the shown range.
    void updateTimeLabels();
    /// The plot's width; before its first layout, the view's less the value axis.
    double plotWidth() const;
    double lineWidth() const;

    Unit m_unit;
    QCategoryAxis* m_timeAxis = nullptr;
    QValueAxis* m_valueAxis = nullptr;
    QList<QLineSeries*> m_series;
    QList<Line> m_lines; // raw, cut to the shown range
    QSet<QString> m_hidden; // names of lines hidden through the legend
    QGraphicsEllipseItem* m_dot = nullptr;
    double m_floor = 0;
    double m_scale = 1; // shown value = raw value / m_scale
    QString m_shownUnit;
    qint64 m_from = 0;
    qint64 m_to = 0;
    qint64 m_labelStep = 0; // the time labels now shown: every m_labelStep ms
    qint64 m_labelFirst = 0; // from this one
    qint64 m_labelLast = 0; // to this one
    qint64 m_labelOffset = 0; // the local clock's offset from UTC in ms when they were made
};
