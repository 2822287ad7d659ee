// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/consoleview.h"

#include "models/consolemodel.h"

#include <QAbstractItemModel>
#include <QDateTime>
#include <QEvent>
#include <QFontDatabase>
#include <QPainter>
#include <QScrollBar>

namespace {

QColor levelColor(LogLevel level, bool dark)
{
    switch (level) {
    case LogLevel::Trace:
    case LogLevel::Debug:
        return dark ? QColor(0x8a, 0x8f, 0x98) : QColor(0x6a, 0x70, 0x78);
    case LogLevel::Warning:
        return dark ? QColor(0xe5, 0xc0, 0x7b) : QColor(0x9a, 0x67, 0x00);
    case LogLevel::Error:
        return dark ? QColor(0xf2, 0x8b, 0x82) : QColor(0xc5, 0x22, 0x1f);
    case LogLevel::Critical:
        return dark ? QColor(0xff, 0x6b, 0xd6) : QColor(0xa1, 0x00, 0x7d);
    default:
        return dark ? QColor(0x8a, 0xb4, 0xf8) : QColor(0x1a, 0x5f, 0xb4);
    }
}

} // namespace

ConsoleView::ConsoleView(QWidget* parent)
    : QAbstractScrollArea(parent)
{
    setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    setFocusPolicy(Qt::StrongFocus);
    viewport()->setBackgroundRole(QPalette::Base);
    viewport()->setAutoFillBackground(true);
    verticalScrollBar()->setSingleStep(1);
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
            connect(model, &QAbstractItemModel::modelReset, this,
                    [this] {
                        updateScrollRange();
                        scheduleUpdate();
                    }),
            connect(model, &QAbstractItemModel::layoutChanged, this, [this] { updateScrollRange(); }),
            connect(model, &QAbstractItemModel::dataChanged, this, &ConsoleView::scheduleUpdate),
        };
    }
    m_unseen = 0;
    updateScrollRange();
    scheduleUpdate();
}

int ConsoleView::visibleRows() const
{
    return std::max(1, viewport()->height() / m_lineHeight);
}

int ConsoleView::firstVisibleRow() const
{
    return verticalScrollBar()->value();
}

void ConsoleView::updateScrollRange()
{
    const int rows = m_model ? m_model->rowCount() : 0;
    QScrollBar* bar = verticalScrollBar();
    m_adjusting = true;
    bar->setPageStep(visibleRows());
    bar->setRange(0, std::max(0, rows - visibleRows()));
    if (m_following)
        bar->setValue(bar->maximum());
    m_adjusting = false;
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
    if (!m_following) {
        m_unseen += last - first + 1;
        Q_EMIT unseenRowsChanged(m_unseen);
    }
    updateScrollRange();
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
    updateScrollRange();
    scheduleUpdate();
}

void ConsoleView::scheduleUpdate()
{
    viewport()->update();
}

void ConsoleView::scrollContentsBy(int, int)
{
    if (!m_adjusting) {
        QScrollBar* bar = verticalScrollBar();
        setFollowing(bar->value() >= bar->maximum());
    }
    viewport()->update();
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
        updateScrollRange();
    }
}

void ConsoleView::paintEvent(QPaintEvent*)
{
    QPainter painter(viewport());
    if (!m_model)
        return;
    const QPalette& pal = palette();
    const bool dark = pal.color(QPalette::Base).lightness() < 128;
    const QColor text = pal.color(QPalette::Text);
    QColor dim = text;
    dim.setAlphaF(0.55f);
    QColor stderrTint = dark ? QColor(0xff, 0x50, 0x50, 28) : QColor(0xd0, 0x20, 0x20, 18);
    QColor markBack = pal.color(QPalette::Highlight);
    markBack.setAlphaF(0.14f);
    QColor gapBack = dark ? QColor(0xe5, 0xc0, 0x7b, 36) : QColor(0xf0, 0xb0, 0x00, 40);

    const int rows = m_model->rowCount();
    const int first = verticalScrollBar()->value();
    const int width = viewport()->width();
    const int ascent = painter.fontMetrics().ascent();
    const int count = std::min(rows - first, visibleRows() + 1);
    for (int i = 0; i < count; ++i) {
        const QModelIndex index = m_model->index(first + i, 0);
        const int y = i * m_lineHeight;
        const QRect line(0, y, width, m_lineHeight);
        const auto kind = Console::Kind(index.data(ConsoleModel::KindRole).toInt());
        const auto level = LogLevel(index.data(ConsoleModel::LevelRole).toInt());
        if (kind == Console::Kind::Gap)
            painter.fillRect(line, gapBack);
        else if (kind == Console::Kind::Mark)
            painter.fillRect(line, markBack);
        else if (index.data(ConsoleModel::StreamRole).toInt() == int(Protocol::Stream::Stderr))
            painter.fillRect(line, stderrTint);

        int x = 4;
        const qint64 ts = index.data(ConsoleModel::TimeRole).toLongLong();
        painter.setPen(dim);
        if (ts > 0)
            painter.drawText(x, y + ascent,
                             QDateTime::fromMSecsSinceEpoch(ts).toString(QStringLiteral("HH:mm:ss.zzz")));
        x += m_timeWidth;
        QString body = index.data(Qt::DisplayRole).toString();
        if (kind == Console::Kind::Mark) {
            painter.setPen(pal.color(QPalette::Highlight));
            painter.drawText(x, y + ascent, QStringLiteral("›"));
            const QString result = index.data(ConsoleModel::MarkResultRole).toString();
            const auto state = ConsoleModel::MarkState(index.data(ConsoleModel::MarkStateRole).toInt());
            const QString status = state == ConsoleModel::MarkPending ? tr("pending")
                : state == ConsoleModel::MarkOk                       ? tr("ok")
                : state == ConsoleModel::MarkTimeout                  ? tr("timeout")
                                                                      : tr("error");
            body += QStringLiteral("   [%1]").arg(result.isEmpty() ? status : status + QStringLiteral(": ") + result);
        } else {
            painter.setPen(levelColor(level, dark));
            painter.drawText(x, y + ascent,
                             kind == Console::Kind::Gap ? tr("GAP") : QString::fromLatin1(logLevelName(level)));
        }
        x += m_levelWidth;
        const QString agent = index.data(ConsoleModel::AgentRole).toString();
        if (!agent.isEmpty()) {
            painter.setPen(dim);
            const QString label = agent + QStringLiteral("  ");
            painter.drawText(x, y + ascent, label);
            x += painter.fontMetrics().horizontalAdvance(label);
        }
        painter.setPen(kind == Console::Kind::Gap ? levelColor(LogLevel::Warning, dark) : text);
        painter.drawText(QRect(x, y, width - x, m_lineHeight), Qt::AlignLeft | Qt::AlignVCenter | Qt::TextSingleLine,
                         body);
    }
}
