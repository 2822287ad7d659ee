// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/forumview.h"

#include "models/forummodel.h"
#include "ui/colors.h"
#include "ui/emptyhint.h"

#include <QDateTime>
#include <QPainter>
#include <QScrollBar>
#include <QStyledItemDelegate>
#include <QTextLayout>

namespace {

constexpr int Margin = 8;
constexpr int Gap = 3;

/// Paints one message: a header (sender, source, time), the text wrapped below,
/// and a conversation title above the first message of a conversation.
class ForumDelegate final : public QStyledItemDelegate
{
public:
    using QStyledItemDelegate::QStyledItemDelegate;

    QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override
    {
        const QFontMetrics metrics(option.font);
        const int width = std::max(80, option.rect.width() - 2 * Margin);
        const QRect text = metrics.boundingRect(QRect(0, 0, width, 1 << 20), Qt::TextWordWrap,
                                                index.data(ForumModel::TextRole).toString());
        int height = Margin + metrics.height() + Gap + text.height() + Margin;
        if (startsConversation(index))
            height += metrics.height() + 2 * Gap;
        return QSize(width, height);
    }

    void paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const override
    {
        painter->save();
        const QPalette& palette = option.palette;
        const QFontMetrics metrics(option.font);
        QRect area = option.rect.adjusted(Margin, 0, -Margin, 0);
        QColor dim = palette.color(QPalette::Text);
        dim.setAlphaF(0.55f);

        if (startsConversation(index)) {
            const auto* model = static_cast<const ForumModel*>(index.model());
            const QString title = model->conversationTitle(index.data(ForumModel::ConversationRole).toInt());
            const QRect line(area.left(), area.top() + Gap, area.width(), metrics.height());
            painter->setPen(dim);
            painter->drawText(line, Qt::AlignCenter, metrics.elidedText(title, Qt::ElideRight, area.width()));
            area.setTop(line.bottom() + Gap);
        }

        const QString role = index.data(ForumModel::RoleRole).toString();
        const bool host = role == QLatin1String("host") || role == QLatin1String("system");
        if (host) {
            QColor back = palette.color(QPalette::Highlight);
            back.setAlphaF(0.10f);
            painter->fillRect(option.rect.adjusted(0, area.top() - option.rect.top(), 0, 0), back);
        }
        const QString sender = index.data(ForumModel::SenderRole).toString();
        QFont bold = option.font;
        bold.setBold(true);
        painter->setFont(bold);
        painter->setPen(ForumView::senderColor(sender, palette));
        const int top = area.top() + Margin;
        painter->drawText(area.left(), top + metrics.ascent(), sender);
        int x = area.left() + QFontMetrics(bold).horizontalAdvance(sender) + Margin;
        painter->setFont(option.font);
        painter->setPen(dim);
        const qint64 ts = index.data(ForumModel::TimeRole).toLongLong();
        QString meta = QDateTime::fromMSecsSinceEpoch(ts).toString(QStringLiteral("HH:mm:ss"));
        const QString source = index.data(ForumModel::SourceRole).toString();
        if (!source.isEmpty())
            meta = source + QStringLiteral(" · ") + meta;
        painter->drawText(x, top + metrics.ascent(), metrics.elidedText(meta, Qt::ElideRight, area.right() - x));

        painter->setPen(palette.color(QPalette::Text));
        const QRect text(area.left(), top + metrics.height() + Gap, area.width(), area.bottom() - top);
        painter->drawText(text, Qt::TextWordWrap, index.data(ForumModel::TextRole).toString());
        painter->restore();
    }

private:
    static bool startsConversation(const QModelIndex& index)
    {
        if (index.row() == 0)
            return true;
        const QModelIndex previous = index.siblingAtRow(index.row() - 1);
        return previous.data(ForumModel::ConversationRole) != index.data(ForumModel::ConversationRole);
    }
};

} // namespace

ForumView::ForumView(QWidget* parent)
    : QListView(parent)
{
    setObjectName(QStringLiteral("forumView"));
    setItemDelegate(new ForumDelegate(this));
    setVerticalScrollMode(QAbstractItemView::ScrollPerPixel);
    setResizeMode(QListView::Adjust);
    setWordWrap(true);
    setSelectionMode(QAbstractItemView::NoSelection);
    setFrameShape(QFrame::NoFrame);
    setEmptyHint(this, tr("The latest forum messages of every host show here."));
    connect(verticalScrollBar(), &QScrollBar::valueChanged, this,
            [this](int value) { m_atBottom = value >= verticalScrollBar()->maximum() - 4; });
    connect(verticalScrollBar(), &QScrollBar::rangeChanged, this, [this] {
        if (m_atBottom)
            scrollToBottom();
    });
}

void ForumView::setForumModel(ForumModel* model)
{
    setModel(model);
}

QSize ForumView::sizeHint() const
{
    return QSize(fontMetrics().averageCharWidth() * 52, QListView::sizeHint().height());
}

void ForumView::resizeEvent(QResizeEvent* event)
{
    QListView::resizeEvent(event);
    // Heights depend on the width: lay the messages out again.
    scheduleDelayedItemsLayout();
}

QColor ForumView::senderColor(const QString& sender, const QPalette& palette)
{
    const bool dark = Colors::isDark(palette);
    const int hue = int(qHash(sender) % 360);
    return QColor::fromHsl(hue, dark ? 150 : 170, dark ? 170 : 90);
}
