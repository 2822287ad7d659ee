// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/consoleview.h"

#include "models/consolefiltermodel.h"
#include "models/consolemodel.h"
#include "ui/ansi.h"
#include "ui/colors.h"

#include <QApplication>
#include <QClipboard>
#include <QContextMenuEvent>
#include <QDateTime>
#include <QFontDatabase>
#include <QMenu>
#include <QMouseEvent>
#include <QPainter>
#include <QScrollBar>
#include <QWheelEvent>
#include <cmath>

namespace {

/// Text past this many characters is never on screen; longer lines are cut before painting.
constexpr int MaxPaintedChars = 4096;

QString timeText(qint64 ts)
{
    return ts > 0 ? QDateTime::fromMSecsSinceEpoch(ts).toString(QStringLiteral("HH:mm:ss.zzz")) : QString();
}

QString markStatus(const QModelIndex& index)
{
    const QString result = index.data(ConsoleModel::MarkResultRole).toString();
    const auto state = ConsoleModel::MarkState(index.data(ConsoleModel::MarkStateRole).toInt());
    QString status;
    switch (state) {
    case ConsoleModel::MarkPending:
        status = ConsoleView::tr("pending");
        break;
    case ConsoleModel::MarkOk:
        status = ConsoleView::tr("ok");
        break;
    case ConsoleModel::MarkTimeout:
        status = ConsoleView::tr("timeout");
        break;
    case ConsoleModel::MarkSent:
        status = ConsoleView::tr("sent to stdin");
        break;
    case ConsoleModel::MarkFailed:
        status = ConsoleView::tr("error");
        break;
    }
    return result.isEmpty() || result == status ? status : QString(status + QStringLiteral(": ") + result);
}

/// The sign a mark row starts with, and its colour: how its command went, at a glance.
std::pair<QString, QColor> markSign(ConsoleModel::MarkState state, const QPalette& palette, bool dark)
{
    switch (state) {
    case ConsoleModel::MarkOk:
        return {QStringLiteral("✓"), dark ? QColor(0x81, 0xc9, 0x95) : QColor(0x1e, 0x7b, 0x34)};
    case ConsoleModel::MarkFailed:
        return {QStringLiteral("✗"), Colors::error(dark)};
    case ConsoleModel::MarkTimeout:
        return {QStringLiteral("✗"), Colors::level(LogLevel::Warning, dark)};
    case ConsoleModel::MarkSent:
        return {QStringLiteral("→"), palette.color(QPalette::Highlight)};
    case ConsoleModel::MarkPending:
        break;
    }
    return {QStringLiteral("…"), Colors::level(LogLevel::Debug, dark)};
}

} // namespace

ConsoleView::ConsoleView(QWidget* parent)
    : QAbstractScrollArea(parent)
{
    setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    setFocusPolicy(Qt::StrongFocus);
    viewport()->setBackgroundRole(QPalette::Base);
    viewport()->setAutoFillBackground(true);
    viewport()->setCursor(Qt::IBeamCursor);
    verticalScrollBar()->setSingleStep(1);
    m_autoScroll.setInterval(40);
    connect(&m_autoScroll, &QTimer::timeout, this, &ConsoleView::autoScroll);
    changeEvent(nullptr);
}

ConsoleView::~ConsoleView() = default;

void ConsoleView::setModel(QAbstractItemModel* model)
{
    for (const QMetaObject::Connection& c : std::as_const(m_connections))
        disconnect(c);
    m_connections.clear();
    m_model = model;
    if (model) {
        m_connections = {
            connect(model, &QAbstractItemModel::rowsInserted, this,
                    [this](const QModelIndex& parent, int first, int last) {
                        if (!parent.isValid())
                            onRowsInserted(first, last);
                    }),
            connect(model, &QAbstractItemModel::rowsRemoved, this,
                    [this](const QModelIndex& parent, int first, int last) {
                        if (!parent.isValid())
                            onRowsRemoved(first, last);
                    }),
            connect(model, &QAbstractItemModel::modelReset, this, &ConsoleView::onReset),
            connect(model, &QAbstractItemModel::layoutChanged, this, [this] { updateScrollRange(); }),
            connect(model, &QAbstractItemModel::dataChanged, this, &ConsoleView::scheduleUpdate),
        };
    }
    m_unseen = 0;
    onReset();
}

int ConsoleView::visibleRows() const
{
    return std::max(1, viewport()->height() / m_lineHeight);
}

int ConsoleView::firstVisibleRow() const
{
    return verticalScrollBar()->value();
}

int ConsoleView::rowAt(int y) const
{
    const int rows = m_model ? m_model->rowCount() : 0;
    if (rows == 0)
        return -1;
    if (m_wrap && y >= 0) {
        int top = 0;
        for (int row = firstVisibleRow(); row < rows; ++row) {
            top += rowLines(m_model->index(row, 0)) * m_lineHeight;
            if (y < top)
                return row;
        }
        return rows - 1;
    }
    return std::clamp(firstVisibleRow() + (y < 0 ? -1 - (-y / m_lineHeight) : y / m_lineHeight), 0, rows - 1);
}

int ConsoleView::textLeft(const QModelIndex& index) const
{
    const QFontMetrics metrics(font());
    int x = 4 + m_foldWidth + m_timeWidth + m_levelWidth;
    for (const int role : {int(ConsoleModel::AgentRole), int(ConsoleModel::SourceRole)}) {
        const QString label = index.data(role).toString();
        if (!label.isEmpty())
            x += metrics.horizontalAdvance(label) + metrics.horizontalAdvance(QLatin1Char(' ')) * 2;
    }
    return x;
}

qreal ConsoleView::wrapWidthFrom(int left) const
{
    // Whole characters of the (fixed-pitch) console font, so no glyph is cut in two.
    const qreal character = std::max(1.0, QFontMetricsF(font()).horizontalAdvance(QLatin1Char('x')));
    return character * std::max(16, int((viewport()->width() - left - 4) / character));
}

int ConsoleView::rowLines(const QModelIndex& index) const
{
    if (!m_wrap)
        return 1;
    const QString shown = Ansi::strip(index.data(Qt::DisplayRole).toString().left(MaxPaintedChars));
    const qreal advance = QFontMetricsF(font()).horizontalAdvance(shown);
    return std::clamp(int(std::ceil(advance / wrapWidthFrom(textLeft(index)) - 0.001)), 1, MaxPaintedChars);
}

int ConsoleView::rowsFittingAtEnd() const
{
    if (!m_wrap)
        return visibleRows();
    const int rows = m_model ? m_model->rowCount() : 0;
    int room = viewport()->height() / m_lineHeight - (hasPartialRow() ? 1 : 0);
    int fitting = hasPartialRow() ? 1 : 0;
    for (int row = rows - 1; row >= 0; --row) {
        room -= rowLines(m_model->index(row, 0));
        if (room < 0)
            break;
        ++fitting;
    }
    return std::max(1, fitting);
}

void ConsoleView::setWrapLines(bool wrap)
{
    if (wrap == m_wrap)
        return;
    m_wrap = wrap;
    horizontalScrollBar()->setValue(0);
    setHorizontalScrollBarPolicy(wrap ? Qt::ScrollBarAlwaysOff : Qt::ScrollBarAsNeeded);
    updateScrollRange();
    scheduleUpdate();
}

int ConsoleView::shownRows() const
{
    return (m_model ? m_model->rowCount() : 0) + (m_partial.isEmpty() ? 0 : 1);
}

void ConsoleView::updateScrollRange()
{
    const int rows = shownRows();
    QScrollBar* bar = verticalScrollBar();
    m_adjusting = true;
    bar->setPageStep(visibleRows());
    bar->setRange(0, std::max(0, rows - rowsFittingAtEnd()));
    if (m_following)
        bar->setValue(bar->maximum());
    QScrollBar* across = horizontalScrollBar();
    across->setPageStep(viewport()->width());
    across->setSingleStep(std::max(1, fontMetrics().averageCharWidth() * 4));
    across->setRange(0, std::max(0, m_contentWidth - viewport()->width()));
    m_adjusting = false;
}

void ConsoleView::noteRowWidth(int width)
{
    if (width <= m_contentWidth)
        return;
    m_contentWidth = width;
    // After this paint: a new range repaints.
    QTimer::singleShot(0, this, [this] {
        QScrollBar* across = horizontalScrollBar();
        across->setRange(0, std::max(0, m_contentWidth - viewport()->width()));
    });
}

void ConsoleView::setPartialLine(const QString& text, int level)
{
    if (text == m_partial && level == m_partialLevel)
        return;
    const bool rowCame = m_partial.isEmpty() != text.isEmpty();
    m_partial = text;
    m_partialLevel = level;
    if (rowCame)
        updateScrollRange();
    scheduleUpdate();
}

void ConsoleView::scrollToBottom()
{
    setFollowing(true);
    updateScrollRange();
    scheduleUpdate();
}

void ConsoleView::setFollowing(bool following)
{
    if (following && m_unseen) {
        m_unseen = 0;
        Q_EMIT unseenRowsChanged(0);
    }
    if (following == m_following)
        return;
    m_following = following;
    Q_EMIT followingChanged(following);
}

void ConsoleView::onRowsInserted(int first, int last)
{
    const int count = last - first + 1;
    for (int* row : {&m_anchor, &m_cursor, &m_match}) {
        if (*row >= first)
            *row += count;
    }
    const int rows = m_model ? m_model->rowCount() : 0;
    if (first == 0 && last + 1 < rows) {
        // Older lines came in above: the reader keeps looking at the same ones.
        QScrollBar* bar = verticalScrollBar();
        const int value = bar->value();
        updateScrollRange();
        if (!m_following) {
            m_adjusting = true;
            bar->setValue(value + count);
            m_adjusting = false;
        }
        scheduleUpdate();
        return;
    }
    if (!m_following && !m_puttingBack && !m_toggling) {
        m_unseen += count;
        Q_EMIT unseenRowsChanged(m_unseen);
    }
    updateScrollRange();
    scheduleUpdate();
}

void ConsoleView::beginPutBack()
{
    m_puttingBack = true;
    m_valueBeforePutBack = verticalScrollBar()->value();
    m_unseenBeforePutBack = m_unseen;
}

void ConsoleView::endPutBack(int newRows)
{
    if (!m_puttingBack)
        return;
    m_puttingBack = false;
    updateScrollRange();
    if (!m_following) {
        QScrollBar* bar = verticalScrollBar();
        m_adjusting = true;
        bar->setValue(std::min(m_valueBeforePutBack, bar->maximum()));
        m_adjusting = false;
    }
    const int unseen = m_unseenBeforePutBack + (m_following ? 0 : newRows);
    if (m_unseen != unseen) {
        m_unseen = unseen;
        Q_EMIT unseenRowsChanged(m_unseen);
    }
    scheduleUpdate();
}

void ConsoleView::onRowsRemoved(int first, int last)
{
    // The reader keeps looking at the same lines when older ones leave.
    QScrollBar* bar = verticalScrollBar();
    const int value = bar->value();
    m_adjusting = true;
    if (!m_following && first < value)
        bar->setValue(std::max(first, value - (std::min(last, value - 1) - first + 1)));
    m_adjusting = false;

    // The selection and the match move with their rows; rows that left leave them.
    const int count = last - first + 1;
    const auto shift = [&](int row) {
        return row > last ? row - count : (row >= first ? -2 : row);
    };
    const bool hadSelection = hasSelection();
    m_match = shift(m_match) == -2 ? -1 : shift(m_match);
    if (hadSelection) {
        int anchor = shift(m_anchor);
        int cursor = shift(m_cursor);
        const int rows = m_model ? m_model->rowCount() : 0;
        if (anchor == -2 && cursor == -2) {
            anchor = cursor = -1;
        } else {
            // A selection that lost its first or last rows keeps the rest.
            const int edge = std::min(first, rows - 1);
            anchor = anchor == -2 ? edge : anchor;
            cursor = cursor == -2 ? edge : cursor;
        }
        m_anchor = anchor;
        m_cursor = cursor;
        Q_EMIT selectionChanged();
    }
    updateScrollRange();
    scheduleUpdate();
}

void ConsoleView::onReset()
{
    const bool hadSelection = hasSelection();
    m_anchor = m_cursor = m_match = -1;
    if (hadSelection)
        Q_EMIT selectionChanged();
    updateScrollRange();
    scheduleUpdate();
}

void ConsoleView::scheduleUpdate()
{
    viewport()->update();
}

void ConsoleView::scrollContentsBy(int, int dy)
{
    if (!m_adjusting && dy != 0) {
        QScrollBar* bar = verticalScrollBar();
        setFollowing(bar->value() >= bar->maximum());
        if (bar->value() == 0 && bar->maximum() > 0)
            Q_EMIT topReached();
    }
    viewport()->update();
}

void ConsoleView::wheelEvent(QWheelEvent* event)
{
    // Up at the top already: the reader wants what came before.
    if (event->angleDelta().y() > 0 && verticalScrollBar()->value() == 0)
        Q_EMIT topReached();
    QAbstractScrollArea::wheelEvent(event);
}

void ConsoleView::mouseDoubleClickEvent(QMouseEvent* event)
{
    const int row = rowAt(int(event->position().y()));
    if (row >= 0 && m_model && m_model->index(row, 0).data(ConsoleModel::GapLoadableRole).toBool()) {
        Q_EMIT gapLoadRequested(row);
        return;
    }
    const bool onPartialRow =
        hasPartialRow() && firstVisibleRow() + int(event->position().y()) / m_lineHeight >= m_model->rowCount();
    if (row >= 0 && !onPartialRow) {
        Q_EMIT lineActivated(row);
        return;
    }
    QAbstractScrollArea::mouseDoubleClickEvent(event);
}

void ConsoleView::resizeEvent(QResizeEvent* event)
{
    QAbstractScrollArea::resizeEvent(event);
    updateScrollRange();
}

void ConsoleView::changeEvent(QEvent* event)
{
    if (event)
        QAbstractScrollArea::changeEvent(event);
    if (!event || event->type() == QEvent::FontChange) {
        const QFontMetrics metrics(font());
        m_lineHeight = std::max(1, metrics.lineSpacing());
        m_timeWidth = metrics.horizontalAdvance(QStringLiteral("00:00:00.000  "));
        m_levelWidth = metrics.horizontalAdvance(QStringLiteral("CRITICAL  "));
        m_foldWidth = std::max(metrics.horizontalAdvance(QLatin1Char('x')), m_lineHeight * 2 / 3) + 2;
        updateScrollRange();
    }
}

// --- search and selection ----------------------------------------------------

void ConsoleView::setHighlight(const QRegularExpression& expression)
{
    m_highlight = expression.isValid() && !expression.pattern().isEmpty() ? expression : QRegularExpression();
    scheduleUpdate();
}

void ConsoleView::setCurrentMatch(int row)
{
    m_match = row;
    if (row >= 0) {
        const int first = firstVisibleRow();
        if (row < first || row >= first + visibleRows()) {
            setFollowing(false);
            verticalScrollBar()->setValue(std::max(0, row - visibleRows() / 2));
        } else if (m_following && row < first + visibleRows()) {
            setFollowing(false);
        }
    }
    scheduleUpdate();
}

std::pair<int, int> ConsoleView::selection() const
{
    if (!hasSelection())
        return {-1, -1};
    return {std::min(m_anchor, m_cursor), std::max(m_anchor, m_cursor)};
}

void ConsoleView::setSelection(int first, int last)
{
    const int rows = m_model ? m_model->rowCount() : 0;
    if (rows == 0 || first < 0) {
        clearSelection();
        return;
    }
    m_anchor = std::clamp(first, 0, rows - 1);
    m_cursor = std::clamp(last, 0, rows - 1);
    Q_EMIT selectionChanged();
    scheduleUpdate();
}

void ConsoleView::selectAll()
{
    if (m_model && m_model->rowCount() > 0)
        setSelection(0, m_model->rowCount() - 1);
}

void ConsoleView::clearSelection()
{
    if (!hasSelection())
        return;
    m_anchor = m_cursor = -1;
    Q_EMIT selectionChanged();
    scheduleUpdate();
}

QString ConsoleView::selectedText() const
{
    const auto [first, last] = selection();
    if (first < 0 || !m_model)
        return {};
    QString text;
    for (int row = first; row <= last; ++row) {
        const QModelIndex index = m_model->index(row, 0);
        text += rowText(index);
        text += QLatin1Char('\n');
        // A folded record is copied whole.
        if (index.data(ConsoleFilterModel::FoldRole).toInt() != ConsoleFilterModel::Folded)
            continue;
        for (const QModelIndex& line : index.data(ConsoleFilterModel::RecordRowsRole).value<QModelIndexList>()) {
            text += rowText(line);
            text += QLatin1Char('\n');
        }
    }
    return text;
}

void ConsoleView::copy() const
{
    if (hasSelection())
        QApplication::clipboard()->setText(selectedText());
}

QString ConsoleView::rowText(const QModelIndex& index)
{
    const auto kind = Console::Kind(index.data(ConsoleModel::KindRole).toInt());
    QString line = timeText(index.data(ConsoleModel::TimeRole).toLongLong());
    if (!line.isEmpty())
        line += QLatin1Char(' ');
    const QString text = Ansi::strip(index.data(ConsoleModel::TextRole).toString());
    if (kind == Console::Kind::Gap)
        return line + QStringLiteral("GAP      ") + text;
    if (kind == Console::Kind::Mark)
        return line + QStringLiteral("> ") + text + QStringLiteral("  [") + markStatus(index) + QLatin1Char(']');
    line += QString::fromLatin1(logLevelName(LogLevel(index.data(ConsoleModel::LevelRole).toInt()))).leftJustified(8)
        + QLatin1Char(' ');
    for (const int role : {int(ConsoleModel::AgentRole), int(ConsoleModel::SourceRole)}) {
        const QString part = index.data(role).toString();
        if (!part.isEmpty())
            line += part + QLatin1Char(' ');
    }
    return line + text;
}

QRegularExpression ConsoleView::searchExpression(const QString& text, bool matchCase, bool wholeWord, bool regex,
                                                 QString* error)
{
    if (text.isEmpty())
        return {};
    QString pattern = regex ? text : QRegularExpression::escape(text);
    if (wholeWord)
        pattern = QStringLiteral("\\b(?:%1)\\b").arg(pattern);
    QRegularExpression::PatternOptions options = QRegularExpression::UseUnicodePropertiesOption;
    if (!matchCase)
        options |= QRegularExpression::CaseInsensitiveOption;
    QRegularExpression expression(pattern, options);
    if (!expression.isValid() && error)
        *error = expression.errorString();
    return expression;
}

void ConsoleView::extendSelectionTo(int row)
{
    if (row < 0 || row == m_cursor)
        return;
    if (m_anchor < 0)
        m_anchor = row;
    m_cursor = row;
    Q_EMIT selectionChanged();
    scheduleUpdate();
}

void ConsoleView::autoScroll()
{
    const int height = viewport()->height();
    const int beyond = m_dragY < 0 ? m_dragY : m_dragY - height;
    if (!m_dragging || (m_dragY >= 0 && m_dragY < height)) {
        m_autoScroll.stop();
        return;
    }
    QScrollBar* bar = verticalScrollBar();
    bar->setValue(bar->value() + std::clamp(beyond / 4, -50, 50) + (beyond < 0 ? -1 : 1));
    extendSelectionTo(rowAt(m_dragY));
}

void ConsoleView::mousePressEvent(QMouseEvent* event)
{
    if (event->button() != Qt::LeftButton) {
        QAbstractScrollArea::mousePressEvent(event);
        return;
    }
    if (toggleRecordAt(event->position().toPoint()))
        return;
    const int row = rowAt(int(event->position().y()));
    if (row < 0)
        return;
    if ((event->modifiers() & Qt::ShiftModifier) && hasSelection()) {
        extendSelectionTo(row);
    } else {
        m_anchor = m_cursor = row;
        Q_EMIT selectionChanged();
        scheduleUpdate();
    }
    m_dragging = true;
    m_dragY = int(event->position().y());
}

bool ConsoleView::toggleRecordAt(const QPoint& point)
{
    for (const auto& [box, row] : std::as_const(m_foldCounts)) {
        if (box.contains(point)) {
            toggleRecord(row);
            return true;
        }
    }
    const int x = point.x() + (m_wrap ? 0 : horizontalScrollBar()->value());
    const int row = rowAt(point.y());
    if (x < 2 || x >= 4 + m_foldWidth || row < 0
        || m_model->index(row, 0).data(ConsoleFilterModel::FoldRole).toInt() == ConsoleFilterModel::NoRecord)
        return false;
    toggleRecord(row);
    return true;
}

void ConsoleView::toggleRecord(int row)
{
    const QModelIndex index = m_model ? m_model->index(row, 0) : QModelIndex();
    const int fold = index.data(ConsoleFilterModel::FoldRole).toInt();
    if (fold == ConsoleFilterModel::NoRecord)
        return;
    QScrollBar* bar = verticalScrollBar();
    const int top = bar->value();
    m_toggling = true;
    m_model->setData(index, fold != ConsoleFilterModel::Folded, ConsoleFilterModel::FoldRole);
    m_toggling = false;
    // A record opened at the end stays where it is rather than pushing its first line away.
    if (m_following && row < bar->value()) {
        setFollowing(false);
        m_adjusting = true;
        bar->setValue(top);
        m_adjusting = false;
    }
    scheduleUpdate();
}

void ConsoleView::mouseMoveEvent(QMouseEvent* event)
{
    if (!m_dragging || !(event->buttons() & Qt::LeftButton))
        return;
    m_dragY = int(event->position().y());
    extendSelectionTo(rowAt(m_dragY));
    if ((m_dragY < 0 || m_dragY >= viewport()->height()) && !m_autoScroll.isActive())
        m_autoScroll.start();
}

void ConsoleView::mouseReleaseEvent(QMouseEvent* event)
{
    if (event->button() == Qt::LeftButton) {
        m_dragging = false;
        m_autoScroll.stop();
    }
}

void ConsoleView::keyPressEvent(QKeyEvent* event)
{
    QScrollBar* bar = verticalScrollBar();
    if (event->matches(QKeySequence::Copy)) {
        copy();
    } else if (event->matches(QKeySequence::SelectAll)) {
        selectAll();
    } else if (event->key() == Qt::Key_Escape && hasSelection()) {
        clearSelection();
    } else if (event->matches(QKeySequence::MoveToEndOfDocument) || event->key() == Qt::Key_End) {
        scrollToBottom();
    } else if (event->matches(QKeySequence::MoveToStartOfDocument) || event->key() == Qt::Key_Home) {
        bar->setValue(0);
    } else if (event->key() == Qt::Key_PageUp) {
        bar->triggerAction(QAbstractSlider::SliderPageStepSub);
    } else if (event->key() == Qt::Key_PageDown) {
        bar->triggerAction(QAbstractSlider::SliderPageStepAdd);
    } else if (event->key() == Qt::Key_Up) {
        bar->triggerAction(QAbstractSlider::SliderSingleStepSub);
    } else if (event->key() == Qt::Key_Down) {
        bar->triggerAction(QAbstractSlider::SliderSingleStepAdd);
    } else {
        QAbstractScrollArea::keyPressEvent(event);
    }
}

void ConsoleView::contextMenuEvent(QContextMenuEvent* event)
{
    QMenu menu(this);
    QAction* copyAction = menu.addAction(tr("Copy"), this, &ConsoleView::copy);
    copyAction->setShortcut(QKeySequence::Copy);
    copyAction->setEnabled(hasSelection());
    menu.addAction(tr("Select All"), this, &ConsoleView::selectAll)->setShortcut(QKeySequence::SelectAll);
    menu.addSeparator();
    const int row = rowAt(viewport()->mapFromGlobal(event->globalPos()).y());
    if (row >= 0 && m_model && m_model->index(row, 0).data(ConsoleModel::GapLoadableRole).toBool()) {
        menu.addAction(tr("Load These Lines"), this, [this, row] { Q_EMIT gapLoadRequested(row); });
        menu.addSeparator();
    } else if (row >= 0) {
        menu.addAction(tr("Show Line…"), this, [this, row] { Q_EMIT lineActivated(row); });
        const QModelIndex index = m_model->index(row, 0);
        const int fold = index.data(ConsoleFilterModel::FoldRole).toInt();
        if (fold != ConsoleFilterModel::NoRecord) {
            const int lines = index.data(ConsoleFilterModel::RecordLinesRole).toInt() + 1;
            menu.addAction(fold == ConsoleFilterModel::Folded ? tr("Open Record (%L1 lines)").arg(lines)
                                                              : tr("Fold Record (%L1 lines)").arg(lines),
                           this, [this, row] { toggleRecord(row); });
        }
        menu.addSeparator();
    }
    menu.addAction(tr("Jump to Latest"), this, &ConsoleView::scrollToBottom)->setEnabled(!m_following);
    menu.exec(event->globalPos());
}

// --- painting ------------------------------------------------------------------

void ConsoleView::paintEvent(QPaintEvent*)
{
    QPainter painter(viewport());
    if (!m_model)
        return;
    const QPalette& pal = palette();
    const bool dark = Colors::isDark(pal);
    const QColor text = pal.color(QPalette::Text);
    QColor dim = text;
    dim.setAlphaF(0.55f);
    const QColor stderrTint = dark ? QColor(0xff, 0x50, 0x50, 28) : QColor(0xd0, 0x20, 0x20, 18);
    QColor markBack = pal.color(QPalette::Highlight);
    markBack.setAlphaF(0.14f);
    const QColor gapBack = dark ? QColor(0xe5, 0xc0, 0x7b, 36) : QColor(0xf0, 0xb0, 0x00, 40);
    QColor selectionBack = pal.color(QPalette::Highlight);
    selectionBack.setAlphaF(dark ? 0.45f : 0.30f);
    const QColor matchBack = dark ? QColor(0xb5, 0x89, 0x00, 150) : QColor(0xff, 0xd8, 0x4d, 190);
    const QColor currentMatchBack = dark ? QColor(0xe0, 0x7b, 0x00, 210) : QColor(0xff, 0x9e, 0x1f, 220);

    const int rows = m_model->rowCount();
    const int first = verticalScrollBar()->value();
    const int width = viewport()->width();
    const int shift = m_wrap ? 0 : horizontalScrollBar()->value();
    const QFontMetrics metrics = painter.fontMetrics();
    const int ascent = metrics.ascent();
    const int height = viewport()->height();
    const auto [selectedFirst, selectedLast] = selection();
    const QColor foldCountBack = dark ? QColor(0x3a, 0x7b, 0xd5, 70) : QColor(0x1a, 0x5f, 0xb4, 28);
    m_foldCounts.clear();
    QList<Ansi::Run> runs;
    int nextY = 0;
    int row = first;
    for (; row < rows && nextY < height; ++row) {
        const QModelIndex index = m_model->index(row, 0);
        const int lines = rowLines(index);
        const int y = nextY;
        nextY += lines * m_lineHeight;
        const QRect line(0, y, width, lines * m_lineHeight);
        const auto kind = Console::Kind(index.data(ConsoleModel::KindRole).toInt());
        const auto level = LogLevel(index.data(ConsoleModel::LevelRole).toInt());
        if (kind == Console::Kind::Gap)
            painter.fillRect(line, gapBack);
        else if (kind == Console::Kind::Mark)
            painter.fillRect(line, markBack);
        else if (index.data(ConsoleModel::StreamRole).toInt() == int(Protocol::Stream::Stderr))
            painter.fillRect(line, stderrTint);
        if (row >= selectedFirst && row <= selectedLast)
            painter.fillRect(line, selectionBack);

        int x = 4 - shift;
        // The fold marker of a record's first line; a thin rule beside the lines it holds.
        const int fold = index.data(ConsoleFilterModel::FoldRole).toInt();
        const qreal middle = x + (m_foldWidth - 2) / 2.0;
        if (fold != ConsoleFilterModel::NoRecord) {
            const qreal half = m_lineHeight * 0.24;
            const qreal cy = y + m_lineHeight / 2.0;
            const QPointF open[] = {
                {middle - half, cy - half / 2}, {middle + half, cy - half / 2}, {middle, cy + half * 0.8}};
            const QPointF closed[] = {
                {middle - half / 2, cy - half}, {middle - half / 2, cy + half}, {middle + half * 0.8, cy}};
            painter.save();
            painter.setRenderHint(QPainter::Antialiasing);
            painter.setPen(Qt::NoPen);
            painter.setBrush(fold == ConsoleFilterModel::Folded ? pal.color(QPalette::Link) : dim);
            painter.drawPolygon(fold == ConsoleFilterModel::Folded ? closed : open, 3);
            painter.restore();
        } else if (index.data(ConsoleModel::ContinuesRole).toBool()) {
            painter.fillRect(QRectF(middle - 0.5, y, 1, lines * m_lineHeight), dim);
        }
        x += m_foldWidth;
        painter.setPen(dim);
        painter.drawText(x, y + ascent, timeText(index.data(ConsoleModel::TimeRole).toLongLong()));
        x += m_timeWidth;
        QString body = index.data(Qt::DisplayRole).toString();
        // A folded record ends its first line with how many lines it holds, and its last line.
        const int foldedLines =
            fold == ConsoleFilterModel::Folded ? index.data(ConsoleFilterModel::RecordLinesRole).toInt() : 0;
        const QString foldCount = foldedLines == 1 ? tr("+1 line") : tr("+%L1 lines").arg(foldedLines);
        const QString foldEnd = foldedLines
            ? Ansi::strip(index.data(ConsoleFilterModel::RecordEndRole).toString().left(200)).trimmed()
            : QString();
        const int foldTailWidth =
            foldedLines ? 16 + metrics.horizontalAdvance(foldCount) + 8 + metrics.horizontalAdvance(foldEnd) : 0;
        QColor markColor;
        QString markTail; // the command's outcome, after its text, in the outcome's colour
        if (kind == Console::Kind::Gap && index.data(ConsoleModel::GapLoadableRole).toBool()) {
            markColor = pal.color(QPalette::Link);
            markTail = tr("   — double-click to load these lines from the host");
        }
        if (kind == Console::Kind::Mark) {
            const auto state = ConsoleModel::MarkState(index.data(ConsoleModel::MarkStateRole).toInt());
            const auto [sign, color] = markSign(state, pal, dark);
            markColor = color;
            painter.setPen(color);
            painter.drawText(x, y + ascent, sign);
            markTail = QStringLiteral("   [") + markStatus(index) + QLatin1Char(']');
        } else {
            painter.setPen(Colors::level(level, dark));
            painter.drawText(x, y + ascent,
                             kind == Console::Kind::Gap ? tr("GAP") : QString::fromLatin1(logLevelName(level)));
        }
        x += m_levelWidth;
        painter.setPen(dim);
        for (const int role : {int(ConsoleModel::AgentRole), int(ConsoleModel::SourceRole)}) {
            const QString label = index.data(role).toString();
            if (label.isEmpty())
                continue;
            painter.drawText(x, y + ascent, label);
            x += metrics.horizontalAdvance(label) + metrics.horizontalAdvance(QLatin1Char(' ')) * 2;
        }

        // The text: colour runs from its escapes, highlighted matches behind it.
        runs.clear();
        const QString shown = Ansi::strip(body.left(MaxPaintedChars), &runs, dark);
        const auto advance = [&](int from, int length) {
            return metrics.horizontalAdvance(shown.mid(from, length));
        };
        if (row == m_match) {
            painter.setPen(pal.color(QPalette::Highlight));
            painter.drawRect(line.adjusted(0, 0, -1, -1));
        }
        const QColor plain = kind == Console::Kind::Gap ? Colors::level(LogLevel::Warning, dark) : text;
        // A wrapped row paints its text once per screen line, shifted left by the
        // lines before it and clipped to its own, so colours and matches carry over.
        const qreal wrapWidth = lines > 1 ? wrapWidthFrom(x + shift) : 0;
        for (int k = 0; k < lines; ++k) {
            const int limit = width + int(std::ceil(k * wrapWidth));
            if (lines > 1) {
                painter.save();
                painter.setClipRect(QRect(x, y + k * m_lineHeight, width - x, m_lineHeight));
                painter.translate(-k * wrapWidth, qreal(k * m_lineHeight));
            }
            for (const Ansi::Run& run : std::as_const(runs)) {
                if (run.background.isValid())
                    painter.fillRect(QRect(x + advance(0, run.begin), y, advance(run.begin, run.length), m_lineHeight),
                                     run.background);
            }
            if (!m_highlight.pattern().isEmpty() && kind != Console::Kind::Mark) {
                QRegularExpressionMatchIterator it = m_highlight.globalMatch(shown);
                while (it.hasNext()) {
                    const QRegularExpressionMatch match = it.next();
                    if (match.capturedLength() == 0)
                        continue;
                    const int start = int(match.capturedStart());
                    const QRect box(x + advance(0, start), y, advance(start, int(match.capturedLength())),
                                    m_lineHeight);
                    painter.fillRect(box, row == m_match ? currentMatchBack : matchBack);
                }
            }
            int position = 0;
            int px = x;
            const auto drawPart = [&](int end, const QColor& color, bool bold) {
                if (end <= position || px >= limit)
                    return;
                const QString part = shown.mid(position, end - position);
                QFont font = painter.font();
                if (font.bold() != bold) {
                    font.setBold(bold);
                    painter.setFont(font);
                }
                painter.setPen(color.isValid() ? color : plain);
                painter.drawText(px, y + ascent, part);
                px += painter.fontMetrics().horizontalAdvance(part);
                position = end;
            };
            for (const Ansi::Run& run : std::as_const(runs)) {
                drawPart(run.begin, plain, false);
                drawPart(run.begin + run.length, run.foreground, run.bold);
            }
            drawPart(int(shown.size()), plain, false);
            if (!markTail.isEmpty() && px < limit) {
                painter.setPen(markColor);
                painter.drawText(px, y + ascent, markTail);
            }
            if (foldedLines && px < limit) {
                const QRect box(px + 8, y + 1, metrics.horizontalAdvance(foldCount) + 8, m_lineHeight - 2);
                painter.save();
                painter.setRenderHint(QPainter::Antialiasing);
                painter.setPen(Qt::NoPen);
                painter.setBrush(foldCountBack);
                painter.drawRoundedRect(box, 3, 3);
                painter.restore();
                painter.setPen(pal.color(QPalette::Link));
                painter.drawText(box, Qt::AlignCenter, foldCount);
                painter.setPen(dim);
                painter.drawText(box.right() + 8, y + ascent, foldEnd);
                if (lines == 1)
                    m_foldCounts.append({box, row});
            }
            if (lines > 1)
                painter.restore();
        }
        noteRowWidth(x + shift + metrics.horizontalAdvance(shown) + metrics.horizontalAdvance(markTail) + foldTailWidth
                     + 8);
        if (painter.font().bold()) {
            QFont font = painter.font();
            font.setBold(false);
            painter.setFont(font);
        }
    }
    // The line still being written, after the last one: dim, with a caret where it goes on.
    if (hasPartialRow() && row == rows && nextY < height) {
        const int y = nextY;
        int x = 4 - shift + m_foldWidth;
        painter.setPen(dim);
        painter.drawText(x, y + ascent, QStringLiteral("\u2026"));
        x += m_timeWidth;
        const auto level = LogLevel(m_partialLevel);
        painter.setPen(Colors::level(level, dark));
        painter.drawText(x, y + ascent, QString::fromLatin1(logLevelName(level)));
        x += m_levelWidth;
        runs.clear();
        const QString shown = Ansi::strip(m_partial.left(MaxPaintedChars), &runs, dark) + QStringLiteral(" \u258D");
        painter.setPen(pal.color(QPalette::PlaceholderText));
        painter.drawText(x, y + ascent, shown);
        noteRowWidth(x + shift + metrics.horizontalAdvance(shown) + 8);
    }
}
