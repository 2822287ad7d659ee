// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/conversationview.h"

#include "models/conversationlistmodel.h"
#include "models/forummodel.h"
#include "ui/colors.h"
#include "ui/emptyhint.h"
#include "ui/forumview.h"

#include <QAbstractTextDocumentLayout>
#include <QApplication>
#include <QCache>
#include <QClipboard>
#include <QDateTime>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QMenu>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QPushButton>
#include <QSaveFile>
#include <QScopedValueRollback>
#include <QScrollBar>
#include <QSet>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStyledItemDelegate>
#include <QTextBlock>
#include <QTextDocument>
#include <QTextTable>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>
#include <QtMath>

#include <algorithm>
#include <cstdlib>
#include <functional>

namespace ConversationViewDetail {

namespace {

constexpr int OuterH = 12; // between a bubble and the view's sides
constexpr int OuterV = 4; // half the space between bubbles
constexpr int Pad = 8; // inside a bubble
constexpr int HeaderGap = 4;
constexpr int CollapsedLines = 8;
constexpr int DocumentCacheSize = 300;
constexpr int HeightCacheSize = 50000;
constexpr int ScrollPause = 150; // ms without scrolling before rows are laid out again

QString messageCount(int count)
{
    return count == 1 ? ConversationView::tr("1 message") : ConversationView::tr("%1 messages").arg(count);
}

bool setApart(const QString& role)
{
    return role == QLatin1String("host") || role == QLatin1String("system");
}

QColor mixed(const QColor& a, const QColor& b, qreal amount)
{
    return QColor::fromRgbF(float(a.redF() + (b.redF() - a.redF()) * amount),
                            float(a.greenF() + (b.greenF() - a.greenF()) * amount),
                            float(a.blueF() + (b.blueF() - a.blueF()) * amount));
}

/// Agents write one line per line: each line break outside code is kept, as markdown's hard break.
QString withHardBreaks(const QString& text)
{
    QStringList lines = text.split(u'\n');
    bool code = false;
    for (qsizetype i = 0; i + 1 < lines.size(); ++i) {
        const QString trimmed = lines[i].trimmed();
        if (trimmed.startsWith(QLatin1String("```")) || trimmed.startsWith(QLatin1String("~~~")))
            code = !code;
        else if (!code && !trimmed.isEmpty() && !lines[i + 1].trimmed().isEmpty())
            lines[i] += QStringLiteral("  ");
    }
    return lines.join(u'\n');
}

/// A document that loads nothing a message names (images, style sheets): a message is only text.
class MessageDocument final : public QTextDocument
{
public:
    using QTextDocument::QTextDocument;

protected:
    QVariant loadResource(int, const QUrl&) override { return {}; }
};

} // namespace

/// The messages of one conversation, in the forum's (time) order.
class ConversationFilter final : public QSortFilterProxyModel
{
public:
    using QSortFilterProxyModel::QSortFilterProxyModel;

    void setConversation(int conversation)
    {
        m_conversation = conversation;
        invalidateRowsFilter();
    }

protected:
    bool filterAcceptsRow(int row, const QModelIndex& parent) const override
    {
        return sourceModel()->index(row, 0, parent).data(ForumModel::ConversationRole).toInt() == m_conversation;
    }

private:
    int m_conversation = -1;
};

/*
 * Paints a message as a bubble: sender, role and time above its text laid out from
 * markdown. Laid-out documents are cached per message and width (bounded); a row's
 * height is estimated from its text until the row is first laid out, then exact.
 */
class MessageDelegate final : public QStyledItemDelegate
{
public:
    explicit MessageDelegate(QObject* parent)
        : QStyledItemDelegate(parent)
        , m_documents(DocumentCacheSize)
    { }

    void setSearch(const QString& text) { m_search = text; }
    void setCurrentMatch(quint64 id) { m_currentMatch = id; }
    /// Called when a painted row's exact height differs from the one it was laid out with.
    void setHeightCorrected(std::function<void()> corrected) { m_corrected = std::move(corrected); }
    bool isExpanded(quint64 id) const { return m_expanded.contains(id); }
    void setExpanded(quint64 id, bool expanded)
    {
        if (expanded)
            m_expanded.insert(id);
        else
            m_expanded.remove(id);
        m_heights.remove(id);
    }
    void clear()
    {
        m_documents.clear();
        m_heights.clear();
    }

    bool isCollapsible(const QStyleOptionViewItem& option, const QModelIndex& index) const
    {
        const Geometry g = geometry(option, index);
        return document(index, option.font, g.textWidth)->collapsible;
    }

    QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override
    {
        const int width = viewWidth(option);
        if (width != m_heightsWidth) {
            m_heights.clear();
            m_heightsWidth = width;
        }
        const quint64 id = index.data(ForumModel::IdRole).toULongLong();
        const auto known = m_heights.constFind(id);
        if (known != m_heights.cend())
            return QSize(width, std::abs(known.value()));
        const Geometry g = geometry(option, index);
        const QFontMetrics metrics(option.font);
        int text = estimatedHeight(index.data(ForumModel::TextRole).toString(), g.textWidth, metrics);
        const int limit = CollapsedLines * metrics.lineSpacing();
        if (text > limit * 5 / 4 && !m_expanded.contains(id))
            text = limit + toggleHeight(metrics);
        const int height = rowHeight(metrics, text);
        remember(id, -height);
        return QSize(width, height);
    }

    void paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const override
    {
        const Geometry g = geometry(option, index);
        const QString role = index.data(ForumModel::RoleRole).toString();
        const QString sender = index.data(ForumModel::SenderRole).toString();
        const quint64 id = index.data(ForumModel::IdRole).toULongLong();
        const QPalette& palette = option.palette;
        const QFontMetrics metrics(option.font);
        Document* doc = document(index, option.font, g.textWidth);
        const bool expanded = m_expanded.contains(id);
        const int textHeight = doc->collapsible && !expanded ? doc->collapsedHeight : doc->height;

        // The first exact layout of a row corrects its estimated height.
        const int height = rowHeight(metrics, textHeight + (doc->collapsible ? toggleHeight(metrics) : 0));
        if (m_heights.value(id) != height) {
            remember(id, height);
            if (option.rect.height() != height && m_corrected)
                m_corrected();
        }

        painter->save();
        // Until the view lays the row out again, its text may be taller than its place.
        painter->setClipRect(option.rect, Qt::IntersectClip);
        painter->setRenderHint(QPainter::Antialiasing);
        const QColor base = palette.color(QPalette::Base);
        const QColor text = palette.color(QPalette::Text);
        const QColor color = ForumView::senderColor(sender, palette);
        QColor dim = text;
        dim.setAlphaF(0.6f);
        const QRect bubble = g.bubble.intersected(option.rect);
        QColor back;
        if (role == QLatin1String("host"))
            back = mixed(base, palette.color(QPalette::Highlight), Colors::isDark(palette) ? 0.22 : 0.12);
        else if (role == QLatin1String("system"))
            back = mixed(base, text, 0.06);
        else
            back = mixed(base, color, Colors::isDark(palette) ? 0.12 : 0.07);
        QPainterPath path;
        path.addRoundedRect(QRectF(bubble), 6, 6);
        painter->fillPath(path, back);
        painter->fillRect(QRect(bubble.left(), bubble.top() + 3, 3, bubble.height() - 6), color);
        if (option.state & QStyle::State_Selected || id == m_currentMatch) {
            painter->setPen(QPen(palette.color(QPalette::Highlight), 1.5));
            painter->drawPath(path);
        }

        // Header: sender, role, source, and the time at the right.
        QFont bold = option.font;
        bold.setBold(true);
        const int headerTop = bubble.top() + Pad;
        int x = g.textLeft;
        painter->setFont(bold);
        painter->setPen(color);
        const QString name = sender.isEmpty() ? index.data(ForumModel::AgentRole).toString() : sender;
        painter->drawText(QPoint(x, headerTop + metrics.ascent()), name);
        x += QFontMetrics(bold).horizontalAdvance(name) + Pad;
        painter->setFont(option.font);
        painter->setPen(dim);
        const qint64 ts = index.data(ForumModel::TimeRole).toLongLong();
        const QString time = QDateTime::fromMSecsSinceEpoch(ts).toString(QStringLiteral("HH:mm:ss"));
        const int timeWidth = metrics.horizontalAdvance(time);
        const int right = g.textLeft + g.textWidth;
        painter->drawText(QPoint(right - timeWidth, headerTop + metrics.ascent()), time);
        QStringList meta;
        if (role == QLatin1String("host"))
            meta.append(MessageDelegate::tr("moderator"));
        const QString source = index.data(ForumModel::SourceRole).toString();
        if (!source.isEmpty() && !name.startsWith(source, Qt::CaseInsensitive))
            meta.append(source);
        if (!meta.isEmpty())
            painter->drawText(QPoint(x, headerTop + metrics.ascent()),
                              metrics.elidedText(meta.join(QStringLiteral(" · ")), Qt::ElideRight,
                                                 std::max(0, right - timeWidth - Pad - x)));

        // The text, clipped to its first lines while collapsed; search matches marked.
        const int textTop = headerTop + metrics.height() + HeaderGap;
        painter->save();
        painter->translate(g.textLeft, textTop);
        const QRect clip(0, 0, g.textWidth + 1, textHeight);
        painter->setClipRect(clip, Qt::IntersectClip);
        QAbstractTextDocumentLayout::PaintContext context;
        context.clip = clip;
        context.palette = palette;
        context.palette.setColor(QPalette::Text, text);
        if (!m_search.isEmpty()) {
            if (doc->search != m_search) {
                doc->search = m_search;
                doc->matches.clear();
                for (QTextCursor found = doc->text->find(m_search); !found.isNull();
                     found = doc->text->find(m_search, found))
                    doc->matches.append(found);
            }
            QTextCharFormat mark;
            const bool dark = Colors::isDark(palette);
            const bool current = id == m_currentMatch;
            mark.setBackground(current ? (dark ? QColor(200, 110, 0) : QColor(255, 150, 50))
                                       : (dark ? QColor(120, 100, 0) : QColor(255, 225, 90)));
            mark.setForeground(dark ? QColor(255, 255, 255) : QColor(0, 0, 0));
            for (const QTextCursor& found : std::as_const(doc->matches))
                context.selections.append({found, mark});
        }
        doc->text->documentLayout()->draw(painter, context);
        painter->restore();

        if (doc->collapsible) {
            painter->setPen(palette.color(QPalette::Link));
            painter->drawText(toggleRect(g, textTop + textHeight, metrics), Qt::AlignLeft | Qt::AlignVCenter,
                              expanded ? MessageDelegate::tr("Show less") : MessageDelegate::tr("Show more"));
        }
        painter->restore();
    }

    bool editorEvent(QEvent* event, QAbstractItemModel* model, const QStyleOptionViewItem& option,
                     const QModelIndex& index) override
    {
        if (event->type() != QEvent::MouseButtonRelease)
            return QStyledItemDelegate::editorEvent(event, model, option, index);
        const auto* mouse = static_cast<QMouseEvent*>(event);
        const Geometry g = geometry(option, index);
        const QFontMetrics metrics(option.font);
        Document* doc = document(index, option.font, g.textWidth);
        if (!doc->collapsible || mouse->button() != Qt::LeftButton)
            return false;
        const quint64 id = index.data(ForumModel::IdRole).toULongLong();
        const int textTop = g.bubble.top() + Pad + metrics.height() + HeaderGap;
        const int textHeight = m_expanded.contains(id) ? doc->height : doc->collapsedHeight;
        if (!toggleRect(g, textTop + textHeight, metrics).contains(mouse->position().toPoint()))
            return false;
        setExpanded(id, !m_expanded.contains(id));
        Q_EMIT sizeHintChanged(index);
        return true;
    }

private:
    struct Geometry
    {
        QRect bubble;
        int textLeft = 0;
        int textWidth = 0;
    };
    struct Document
    {
        std::unique_ptr<QTextDocument> text;
        int width = 0;
        int height = 0;
        int collapsedHeight = 0;
        bool collapsible = false;
        QString search;
        QList<QTextCursor> matches;
    };

    static int viewWidth(const QStyleOptionViewItem& option)
    {
        if (const auto* view = qobject_cast<const QAbstractItemView*>(option.widget))
            return view->viewport()->width();
        return std::max(200, option.rect.width());
    }

    static Geometry geometry(const QStyleOptionViewItem& option, const QModelIndex& index)
    {
        const int width = viewWidth(option);
        // Agents speak in bubbles; the moderator and AgentDeck's notices take the full width.
        const int indent = setApart(index.data(ForumModel::RoleRole).toString()) ? 0 : std::min(96, width / 8);
        Geometry g;
        g.bubble = QRect(option.rect.left() + OuterH, option.rect.top() + OuterV,
                         std::max(60, width - 2 * OuterH - indent), std::max(0, option.rect.height() - 2 * OuterV));
        g.textLeft = g.bubble.left() + Pad + 4;
        g.textWidth = g.bubble.width() - 2 * Pad - 4;
        return g;
    }

    static int toggleHeight(const QFontMetrics& metrics) { return metrics.height() + HeaderGap; }
    static QRect toggleRect(const Geometry& g, int top, const QFontMetrics& metrics)
    {
        const QString longer = MessageDelegate::tr("Show more");
        return QRect(g.textLeft, top + HeaderGap, metrics.horizontalAdvance(longer) + Pad, metrics.height());
    }
    static int rowHeight(const QFontMetrics& metrics, int text)
    {
        return 2 * OuterV + 2 * Pad + metrics.height() + HeaderGap + text;
    }

    /// Lines the text takes when wrapped at width, counting wide (CJK) characters twice.
    static int estimatedHeight(const QString& text, int width, const QFontMetrics& metrics)
    {
        const int perLine = std::max(1, width / std::max(1, metrics.averageCharWidth()));
        int lines = 0;
        int column = 0;
        for (const QChar c : text) {
            if (c == u'\n') {
                lines += 1 + column / perLine;
                column = 0;
            } else {
                column += c.unicode() >= 0x1100 ? 2 : 1;
            }
        }
        lines += 1 + column / perLine;
        return lines * metrics.lineSpacing();
    }

    void remember(quint64 id, int height) const
    {
        if (m_heights.size() >= HeightCacheSize)
            m_heights.clear();
        m_heights.insert(id, height);
    }

    Document* document(const QModelIndex& index, const QFont& font, int width) const
    {
        const quint64 id = index.data(ForumModel::IdRole).toULongLong();
        Document* doc = m_documents.object(id);
        if (!doc) {
            doc = new Document;
            doc->text = ConversationView::messageDocument(index.data(ForumModel::TextRole).toString(), font);
            m_documents.insert(id, doc);
        }
        if (doc->width != width) {
            doc->width = width;
            doc->text->setTextWidth(width);
            doc->height = qCeil(doc->text->size().height());
            const int limit = CollapsedLines * QFontMetrics(font).lineSpacing();
            doc->collapsible = doc->height > limit * 5 / 4;
            doc->collapsedHeight = doc->collapsible ? lastLineBottom(doc->text.get(), limit) : doc->height;
        }
        return doc;
    }

    /// The bottom of the last line that ends above limit, so that a collapsed text never shows half a line.
    static int lastLineBottom(QTextDocument* doc, int limit)
    {
        QAbstractTextDocumentLayout* layout = doc->documentLayout();
        qreal best = 0;
        for (QTextBlock block = doc->begin(); block.isValid(); block = block.next()) {
            const QRectF rect = layout->blockBoundingRect(block);
            if (rect.top() > limit)
                break;
            const QTextLayout* lines = block.layout();
            for (int i = 0; lines && i < lines->lineCount(); ++i) {
                const qreal bottom = rect.top() + lines->lineAt(i).y() + lines->lineAt(i).height();
                if (bottom <= limit)
                    best = std::max(best, bottom);
            }
        }
        return best > 0 ? qCeil(best) : limit;
    }

    mutable QCache<quint64, Document> m_documents;
    mutable QHash<quint64, int> m_heights; // exact, or estimated when negative
    mutable int m_heightsWidth = -1;
    QSet<quint64> m_expanded;
    QString m_search;
    quint64 m_currentMatch = 0;
    std::function<void()> m_corrected;
};

namespace {

/// A conversation in the list: title, host and participants, time span, count and search matches.
class ConversationDelegate final : public QStyledItemDelegate
{
public:
    using QStyledItemDelegate::QStyledItemDelegate;

    QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex&) const override
    {
        return QSize(200, 3 * QFontMetrics(option.font).lineSpacing() + 2 * Pad + 2);
    }

    void paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const override
    {
        painter->save();
        const QPalette& palette = option.palette;
        const bool selected = option.state & QStyle::State_Selected;
        if (selected)
            painter->fillRect(option.rect, palette.color(QPalette::Highlight));
        const QColor text = palette.color(selected ? QPalette::HighlightedText : QPalette::Text);
        QColor dim = text;
        dim.setAlphaF(0.65f);
        const QFontMetrics metrics(option.font);
        const QRect area = option.rect.adjusted(Pad + 2, Pad, -Pad, -Pad);
        const int line = metrics.lineSpacing();
        const int matches = index.data(ConversationListModel::MatchesRole).toInt();

        QFont bold = option.font;
        bold.setBold(true);
        painter->setFont(bold);
        painter->setPen(text);
        const QString title = index.data(ConversationListModel::TitleRole).toString();
        painter->drawText(QRect(area.left(), area.top(), area.width(), line), Qt::AlignLeft | Qt::AlignVCenter,
                          QFontMetrics(bold).elidedText(title, Qt::ElideRight, area.width()));

        painter->setFont(option.font);
        painter->setPen(dim);
        const QString who = index.data(ConversationListModel::HostKeyRole).toString() + QStringLiteral(" · ")
            + index.data(ConversationListModel::ParticipantsRole).toStringList().join(QStringLiteral(", "));
        painter->drawText(QRect(area.left(), area.top() + line, area.width(), line), Qt::AlignLeft | Qt::AlignVCenter,
                          metrics.elidedText(who, Qt::ElideRight, area.width()));

        const QDateTime start =
            QDateTime::fromMSecsSinceEpoch(index.data(ConversationListModel::StartRole).toLongLong());
        const QDateTime end = QDateTime::fromMSecsSinceEpoch(index.data(ConversationListModel::EndRole).toLongLong());
        const QString span = start.toString(QStringLiteral("yyyy-MM-dd HH:mm")) + QStringLiteral("–")
            + end.toString(start.date() == end.date() ? QStringLiteral("HH:mm") : QStringLiteral("yyyy-MM-dd HH:mm"));
        const int count = index.data(ConversationListModel::CountRole).toInt();
        const QString facts = span + QStringLiteral(" · ") + messageCount(count);
        QString badge;
        if (matches > 0)
            badge = matches == 1 ? ConversationView::tr("1 match") : ConversationView::tr("%1 matches").arg(matches);
        const int badgeWidth = badge.isEmpty() ? 0 : QFontMetrics(bold).horizontalAdvance(badge) + Pad;
        const QRect third(area.left(), area.top() + 2 * line, area.width(), line);
        painter->drawText(third.adjusted(0, 0, -badgeWidth, 0), Qt::AlignLeft | Qt::AlignVCenter,
                          metrics.elidedText(facts, Qt::ElideRight, area.width() - badgeWidth));
        if (!badge.isEmpty()) {
            painter->setFont(bold);
            painter->setPen(selected ? text : palette.color(QPalette::Link));
            painter->drawText(third, Qt::AlignRight | Qt::AlignVCenter, badge);
        }
        painter->setPen(mixed(palette.color(QPalette::Base), palette.color(QPalette::Text), 0.12));
        painter->drawLine(option.rect.bottomLeft(), option.rect.bottomRight());
        painter->restore();
    }
};

} // namespace

} // namespace ConversationViewDetail

using namespace ConversationViewDetail;

ConversationView::ConversationView(ForumModel* forum, QWidget* parent)
    : QWidget(parent)
    , m_forum(forum)
    , m_conversations(new ConversationListModel(forum, this))
    , m_filter(new ConversationFilter(this))
    , m_delegate(nullptr)
{
    setObjectName(QStringLiteral("conversationView"));
    m_filter->setSourceModel(forum);

    m_search = new QLineEdit(this);
    m_search->setObjectName(QStringLiteral("forumSearch"));
    m_search->setPlaceholderText(tr("Search all conversations"));
    m_search->setClearButtonEnabled(true);
    m_previous = new QToolButton(this);
    m_previous->setArrowType(Qt::UpArrow);
    m_previous->setToolTip(tr("Previous match (Shift+Enter)"));
    m_next = new QToolButton(this);
    m_next->setArrowType(Qt::DownArrow);
    m_next->setToolTip(tr("Next match (Enter)"));
    m_matchLabel = new QLabel(this);
    m_matchLabel->setObjectName(QStringLiteral("forumMatches"));
    auto* searchBar = new QHBoxLayout;
    searchBar->setContentsMargins(6, 6, 6, 6);
    searchBar->addWidget(m_search, 1);
    searchBar->addWidget(m_previous);
    searchBar->addWidget(m_next);
    searchBar->addWidget(m_matchLabel);
    connect(m_search, &QLineEdit::textChanged, this, &ConversationView::setSearchText);
    connect(m_search, &QLineEdit::returnPressed, this, [this] {
        if (QApplication::keyboardModifiers() & Qt::ShiftModifier)
            previousMatch();
        else
            nextMatch();
    });
    connect(m_previous, &QToolButton::clicked, this, &ConversationView::previousMatch);
    connect(m_next, &QToolButton::clicked, this, &ConversationView::nextMatch);

    m_list = new QListView(this);
    m_list->setObjectName(QStringLiteral("conversationList"));
    m_list->setModel(m_conversations);
    m_list->setItemDelegate(new ConversationDelegate(m_list));
    m_list->setSelectionMode(QAbstractItemView::SingleSelection);
    m_list->setUniformItemSizes(true);
    m_list->setFrameShape(QFrame::NoFrame);
    setEmptyHint(m_list, tr("No conversations yet"));
    connect(m_list->selectionModel(), &QItemSelectionModel::currentChanged, this,
            &ConversationView::onConversationChosen);

    m_title = new QLabel(this);
    m_title->setObjectName(QStringLiteral("conversationTitle"));
    m_title->setTextFormat(Qt::PlainText);
    // As wide as the header lets it be, the title elided to fit (again on each resize).
    m_title->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_title->installEventFilter(this);
    m_status = new QLabel(this);
    m_status->setTextFormat(Qt::PlainText);
    m_export = new QToolButton(this);
    m_export->setObjectName(QStringLiteral("exportConversation"));
    m_export->setText(tr("Export…"));
    m_export->setToolTip(tr("Save this conversation as a Markdown file"));
    connect(m_export, &QToolButton::clicked, this, &ConversationView::exportWithDialog);
    auto* header = new QHBoxLayout;
    header->setContentsMargins(OuterH, 6, 6, 6);
    header->addWidget(m_title, 1);
    header->addWidget(m_status);
    header->addWidget(m_export);

    m_chat = new QListView(this);
    m_chat->setObjectName(QStringLiteral("conversationMessages"));
    m_delegate = new MessageDelegate(m_chat);
    m_chat->setItemDelegate(m_delegate);
    m_relayout = new QTimer(this);
    m_relayout->setSingleShot(true);
    connect(m_relayout, &QTimer::timeout, this, &ConversationView::relayoutInPlace);
    m_delegate->setHeightCorrected([this] {
        // Laying out every row again costs in proportion to the conversation: not while the reader scrolls.
        if (!m_relayout->isActive())
            m_relayout->start(m_sinceScroll.isValid() && !m_sinceScroll.hasExpired(ScrollPause) ? ScrollPause : 0);
    });
    m_chat->setModel(m_filter);
    m_chat->setVerticalScrollMode(QAbstractItemView::ScrollPerPixel);
    m_chat->verticalScrollBar()->setSingleStep(24);
    m_chat->setResizeMode(QListView::Adjust);
    m_chat->setSelectionMode(QAbstractItemView::SingleSelection);
    m_chat->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_chat->setFrameShape(QFrame::NoFrame);
    setEmptyHint(m_chat,
                 tr("The agents' conversations show here: what they post to the forum (a \"forum\" "
                    "message, or BettaFish's forum through its bridge), one conversation at a time."));
    m_chat->setContextMenuPolicy(Qt::CustomContextMenu);
    m_chat->installEventFilter(this);
    connect(m_chat, &QWidget::customContextMenuRequested, this, &ConversationView::showContextMenu);
    connect(m_chat->verticalScrollBar(), &QScrollBar::valueChanged, this, &ConversationView::onScrolled);
    connect(m_chat->verticalScrollBar(), &QScrollBar::actionTriggered, this, [this] { m_scrollTarget = 0; });
    connect(m_chat->verticalScrollBar(), &QScrollBar::rangeChanged, this, [this] {
        // Heights settle as rows are first laid out: stay at the newest message, or at the match gone to.
        const QScopedValueRollback own(m_ownScroll, true);
        if (m_following)
            m_chat->scrollToBottom();
        else if (const QModelIndex target = messageWithId(m_scrollTarget); target.isValid())
            m_chat->scrollTo(target, QAbstractItemView::PositionAtCenter);
    });
    connect(m_filter, &QAbstractItemModel::rowsInserted, this,
            [this](const QModelIndex&, int first, int last) { onMessagesInserted(last - first + 1); });
    connect(m_conversations, &QAbstractItemModel::rowsInserted, this, [this] {
        if (m_conversation < 0 || m_conversations->rowOf(m_conversation) < 0)
            selectConversation(m_conversations->conversationAt(0));
        else
            m_list->setCurrentIndex(m_conversations->index(m_conversations->rowOf(m_conversation)));
    });
    connect(m_conversations, &QAbstractItemModel::dataChanged, this, &ConversationView::updateHeader);
    connect(forum, &QAbstractItemModel::rowsInserted, this, &ConversationView::findMatches);
    connect(forum, &QAbstractItemModel::rowsRemoved, this, &ConversationView::findMatches);
    connect(forum, &QAbstractItemModel::modelReset, this, &ConversationView::findMatches);

    m_newButton = new QPushButton(m_chat);
    m_newButton->setObjectName(QStringLiteral("newMessagesButton"));
    m_newButton->setCursor(Qt::PointingHandCursor);
    m_newButton->hide();
    connect(m_newButton, &QPushButton::clicked, this, &ConversationView::jumpToNewest);

    auto* right = new QWidget(this);
    auto* rightLayout = new QVBoxLayout(right);
    rightLayout->setContentsMargins(0, 0, 0, 0);
    rightLayout->setSpacing(0);
    rightLayout->addLayout(header);
    rightLayout->addWidget(m_chat, 1);

    auto* splitter = new QSplitter(Qt::Horizontal, this);
    splitter->setObjectName(QStringLiteral("forumSplitter"));
    splitter->addWidget(m_list);
    splitter->addWidget(right);
    splitter->setStretchFactor(0, 0);
    splitter->setStretchFactor(1, 1);
    splitter->setSizes({fontMetrics().averageCharWidth() * 42, fontMetrics().averageCharWidth() * 100});
    splitter->setChildrenCollapsible(false);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addLayout(searchBar);
    layout->addWidget(splitter, 1);

    if (m_conversations->rowCount() > 0)
        selectConversation(m_conversations->conversationAt(0));
    updateHeader();
    findMatches();
}

ConversationView::~ConversationView() = default;

void ConversationView::selectConversation(int conversation)
{
    const int row = m_conversations->rowOf(conversation);
    if (row < 0)
        return;
    if (conversation != m_conversation) {
        m_switching = true;
        m_conversation = conversation;
        m_filter->setConversation(conversation);
        m_switching = false;
        m_following = true;
        m_newMessages = 0;
        m_scrollTarget = 0;
        const QScopedValueRollback own(m_ownScroll, true);
        m_chat->scrollToBottom();
        updateNewButton();
    }
    const QModelIndex current = m_conversations->index(row);
    if (m_list->currentIndex() != current)
        m_list->setCurrentIndex(current);
    updateHeader();
}

void ConversationView::onConversationChosen()
{
    const int conversation = m_conversations->conversationAt(m_list->currentIndex().row());
    if (conversation >= 0)
        selectConversation(conversation);
}

void ConversationView::onMessagesInserted(int count)
{
    if (m_switching || m_following)
        return;
    m_newMessages += count;
    updateNewButton();
}

void ConversationView::relayoutInPlace()
{
    // The row at the top stays where it is on screen while the rows above it change height.
    const QModelIndex anchor = m_chat->indexAt(QPoint(m_chat->viewport()->width() / 2, 0));
    const int before = anchor.isValid() ? m_chat->visualRect(anchor).top() : 0;
    const QScopedValueRollback own(m_ownScroll, true);
    m_chat->doItemsLayout();
    if (m_following) {
        m_chat->scrollToBottom();
    } else if (const QModelIndex target = messageWithId(m_scrollTarget); target.isValid()) {
        m_chat->scrollTo(target, QAbstractItemView::PositionAtCenter);
    } else if (anchor.isValid()) {
        QScrollBar* bar = m_chat->verticalScrollBar();
        bar->setValue(bar->value() + m_chat->visualRect(anchor).top() - before);
    }
}

void ConversationView::onScrolled()
{
    if (!m_ownScroll) {
        m_sinceScroll.start();
        if (m_relayout->isActive())
            m_relayout->start(ScrollPause);
    }
    const QScrollBar* bar = m_chat->verticalScrollBar();
    m_following = bar->value() >= bar->maximum() - 4;
    if (m_following && m_newMessages > 0) {
        m_newMessages = 0;
        updateNewButton();
    }
}

void ConversationView::jumpToNewest()
{
    m_following = true;
    m_scrollTarget = 0;
    m_newMessages = 0;
    const QScopedValueRollback own(m_ownScroll, true);
    m_chat->scrollToBottom();
    updateNewButton();
}

void ConversationView::updateNewButton()
{
    if (m_newMessages == 0) {
        m_newButton->hide();
        return;
    }
    m_newButton->setText(tr("%n new ↓", nullptr, m_newMessages));
    m_newButton->adjustSize();
    const QRect area = m_chat->viewport()->geometry();
    m_newButton->move(area.right() - m_newButton->width() - OuterH, area.bottom() - m_newButton->height() - OuterH);
    m_newButton->show();
    m_newButton->raise();
}

void ConversationView::updateHeader()
{
    const int row = m_conversations->rowOf(m_conversation);
    if (row < 0) {
        m_title->setText(tr("No conversation yet"));
        m_export->setEnabled(false);
        return;
    }
    const QModelIndex index = m_conversations->index(row);
    const QString title = index.data(ConversationListModel::TitleRole).toString() + QStringLiteral("  —  ")
        + index.data(ConversationListModel::HostKeyRole).toString() + QStringLiteral(" · ")
        + messageCount(index.data(ConversationListModel::CountRole).toInt());
    QString shown = m_title->fontMetrics().elidedText(title, Qt::ElideRight, std::max(50, m_title->width()));
    const QString twice(2, QChar(0x2026)); // a title cut short, cut again right after
    if (shown.endsWith(twice))
        shown.chop(1);
    m_title->setText(shown);
    m_title->setToolTip(title);
    m_export->setEnabled(true);
}

void ConversationView::setSearchText(const QString& text)
{
    if (m_search->text() != text) {
        m_search->setText(text); // comes back here through textChanged
        return;
    }
    const QString search = text.trimmed();
    m_delegate->setSearch(search);
    m_currentMatch = -1;
    m_delegate->setCurrentMatch(0);
    findMatches();
    if (!m_matches.empty())
        goToMatch(0);
    m_chat->viewport()->update();
}

void ConversationView::findMatches()
{
    const QString search = m_search->text().trimmed();
    const quint64 current =
        m_currentMatch >= 0 && m_currentMatch < matchCount() ? m_matches[size_t(m_currentMatch)].id : 0;
    m_matches.clear();
    m_currentMatch = -1;
    QHash<int, int> counts;
    if (!search.isEmpty()) {
        for (int row = 0; row < m_forum->rowCount(); ++row) {
            const QModelIndex index = m_forum->index(row);
            if (index.data(ForumModel::TextRole).toString().contains(search, Qt::CaseInsensitive)) {
                const int conversation = index.data(ForumModel::ConversationRole).toInt();
                const quint64 id = index.data(ForumModel::IdRole).toULongLong();
                if (id == current)
                    m_currentMatch = int(m_matches.size());
                m_matches.push_back({conversation, id});
                ++counts[conversation];
            }
        }
        // Conversation by conversation, newest first as listed; in time order within one.
        std::stable_sort(m_matches.begin(), m_matches.end(),
                         [](const Match& a, const Match& b) { return a.conversation > b.conversation; });
        if (m_currentMatch >= 0)
            m_currentMatch = int(
                std::find_if(m_matches.begin(), m_matches.end(), [current](const Match& m) { return m.id == current; })
                - m_matches.begin());
    }
    m_conversations->setMatches(counts);
    m_previous->setEnabled(!m_matches.empty());
    m_next->setEnabled(!m_matches.empty());
    if (search.isEmpty())
        m_matchLabel->clear();
    else if (m_matches.empty())
        m_matchLabel->setText(tr("No match"));
    else
        m_matchLabel->setText(tr("%1 of %2").arg(m_currentMatch + 1).arg(matchCount()));
}

void ConversationView::nextMatch()
{
    if (!m_matches.empty())
        goToMatch((m_currentMatch + 1) % matchCount());
}

void ConversationView::previousMatch()
{
    if (!m_matches.empty())
        goToMatch(m_currentMatch <= 0 ? matchCount() - 1 : m_currentMatch - 1);
}

void ConversationView::goToMatch(int match)
{
    m_currentMatch = match;
    const Match& found = m_matches[size_t(match)];
    selectConversation(found.conversation);
    m_delegate->setCurrentMatch(found.id);
    m_matchLabel->setText(tr("%1 of %2").arg(match + 1).arg(matchCount()));
    const QModelIndex index = messageWithId(found.id);
    if (!index.isValid())
        return;
    m_following = false;
    m_scrollTarget = found.id;
    const QScopedValueRollback own(m_ownScroll, true);
    m_chat->setCurrentIndex(index);
    m_chat->scrollTo(index, QAbstractItemView::PositionAtCenter);
    m_chat->viewport()->update();
}

QModelIndex ConversationView::messageWithId(quint64 id) const
{
    if (id == 0)
        return {};
    for (int row = m_filter->rowCount() - 1; row >= 0; --row) {
        const QModelIndex index = m_filter->index(row, 0);
        if (index.data(ForumModel::IdRole).toULongLong() == id)
            return index;
    }
    return {};
}

bool ConversationView::isExpanded(const QModelIndex& message) const
{
    return m_delegate->isExpanded(message.data(ForumModel::IdRole).toULongLong());
}

bool ConversationView::isCollapsible(const QModelIndex& message) const
{
    QStyleOptionViewItem option;
    option.initFrom(m_chat);
    option.widget = m_chat;
    option.font = m_chat->font();
    return m_delegate->isCollapsible(option, message);
}

void ConversationView::setExpanded(const QModelIndex& message, bool expanded)
{
    m_delegate->setExpanded(message.data(ForumModel::IdRole).toULongLong(), expanded);
    Q_EMIT m_delegate->sizeHintChanged(message);
}

void ConversationView::copyMessage(const QModelIndex& message) const
{
    if (message.isValid())
        QApplication::clipboard()->setText(message.data(ForumModel::TextRole).toString());
}

QString ConversationView::conversationMarkdown(const ForumModel* forum, int conversation)
{
    const ForumModel::ConversationInfo info = forum->conversationInfo(conversation);
    const QString title = ConversationListModel::titleOf(info.firstText);
    const auto time = [](qint64 ts, const QString& format) {
        return QDateTime::fromMSecsSinceEpoch(ts).toString(format);
    };
    QString out = QStringLiteral("# ") + (title.isEmpty() ? tr("Conversation") : title) + QStringLiteral("\n\n");
    out += QStringList({info.hostKey,
                        time(info.start, QStringLiteral("yyyy-MM-dd HH:mm:ss")) + QStringLiteral(" – ")
                            + time(info.end, QStringLiteral("yyyy-MM-dd HH:mm:ss")),
                        info.participants.join(QStringLiteral(", ")), messageCount(info.messages)})
               .join(QStringLiteral(" · "))
        + QStringLiteral("\n");
    for (int row = 0; row < forum->rowCount(); ++row) {
        const QModelIndex index = forum->index(row);
        if (index.data(ForumModel::ConversationRole).toInt() != conversation)
            continue;
        QString sender = index.data(ForumModel::SenderRole).toString();
        if (sender.isEmpty())
            sender = index.data(ForumModel::AgentRole).toString();
        QString heading = QStringLiteral("\n## ") + sender;
        if (index.data(ForumModel::RoleRole).toString() == QLatin1String("host"))
            heading += QStringLiteral(" (") + tr("moderator") + QStringLiteral(")");
        heading += QStringLiteral(" · ")
            + time(index.data(ForumModel::TimeRole).toLongLong(), QStringLiteral("yyyy-MM-dd HH:mm:ss"));
        out += heading + QStringLiteral("\n\n") + index.data(ForumModel::TextRole).toString().trimmed()
            + QStringLiteral("\n");
    }
    return out;
}

bool ConversationView::exportConversation(const QString& path, QString* error) const
{
    if (m_conversations->rowOf(m_conversation) < 0) {
        if (error)
            *error = tr("No conversation is shown");
        return false;
    }
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(conversationMarkdown(m_forum, m_conversation).toUtf8()) < 0
        || !file.commit()) {
        if (error)
            *error = file.errorString();
        return false;
    }
    return true;
}

std::unique_ptr<QTextDocument> ConversationView::messageDocument(const QString& text, const QFont& font)
{
    auto doc = std::make_unique<MessageDocument>();
    doc->setDefaultFont(font);
    doc->setDocumentMargin(0);
    doc->setUndoRedoEnabled(false);
    // NoHTML: tags in a message are text, never markup; images and links name nothing to load.
    doc->setMarkdown(
        withHardBreaks(text),
        QTextDocument::MarkdownFeatures(QTextDocument::MarkdownDialectGitHub | QTextDocument::MarkdownNoHTML));
    const QColor rule(128, 128, 128, 110);
    for (QTextFrame* frame : doc->rootFrame()->childFrames()) {
        if (auto* table = qobject_cast<QTextTable*>(frame)) {
            QTextTableFormat format = table->format();
            format.setBorder(1);
            format.setBorderStyle(QTextFrameFormat::BorderStyle_Solid);
            format.setBorderBrush(rule);
            format.setBorderCollapse(true);
            format.setCellPadding(3);
            format.setCellSpacing(0);
            table->setFormat(format);
        }
    }
    // Code blocks on a faint ground, so they read as code in either palette; headings only a
    // little larger than the text, as agents often write a whole paragraph as one.
    QTextCursor cursor(doc.get());
    for (QTextBlock block = doc->begin(); block.isValid(); block = block.next()) {
        if (block.blockFormat().hasProperty(QTextFormat::BlockCodeFence)) {
            QTextBlockFormat format;
            format.setBackground(QColor(128, 128, 128, 40));
            cursor.setPosition(block.position());
            cursor.mergeBlockFormat(format);
        }
        if (const int level = block.blockFormat().headingLevel(); level > 0) {
            QTextCharFormat format;
            format.setProperty(QTextFormat::FontSizeAdjustment, level == 1 ? 1 : 0);
            cursor.setPosition(block.position());
            cursor.setPosition(block.position() + block.length() - 1, QTextCursor::KeepAnchor);
            cursor.mergeCharFormat(format);
        }
    }
    return doc;
}

bool ConversationView::eventFilter(QObject* watched, QEvent* event)
{
    if (watched == m_title && event->type() == QEvent::Resize)
        updateHeader();
    if (watched == m_chat) {
        if (event->type() == QEvent::KeyPress && static_cast<QKeyEvent*>(event)->matches(QKeySequence::Copy)) {
            copyMessage(m_chat->currentIndex());
            return true;
        }
        if (event->type() == QEvent::Resize)
            updateNewButton();
    }
    return QWidget::eventFilter(watched, event);
}

void ConversationView::changeEvent(QEvent* event)
{
    // Documents hold colours and fonts of the palette they were made with.
    if (event->type() == QEvent::PaletteChange || event->type() == QEvent::FontChange) {
        m_delegate->clear();
        Q_EMIT m_delegate->sizeHintChanged({});
    }
    QWidget::changeEvent(event);
}

void ConversationView::showContextMenu(const QPoint& pos)
{
    const QModelIndex index = m_chat->indexAt(pos);
    QMenu menu(this);
    QAction* copy = menu.addAction(tr("Copy message"));
    copy->setShortcut(QKeySequence::Copy);
    copy->setEnabled(index.isValid());
    QAction* toggle = nullptr;
    if (index.isValid() && isCollapsible(index))
        toggle = menu.addAction(isExpanded(index) ? tr("Show less") : tr("Show more"));
    menu.addSeparator();
    QAction* exportAction = menu.addAction(tr("Export conversation…"));
    QAction* chosen = menu.exec(m_chat->viewport()->mapToGlobal(pos));
    if (chosen == copy)
        copyMessage(index);
    else if (chosen && chosen == toggle)
        setExpanded(index, !isExpanded(index));
    else if (chosen == exportAction)
        exportWithDialog();
}

void ConversationView::exportWithDialog()
{
    const int row = m_conversations->rowOf(m_conversation);
    if (row < 0)
        return;
    const QString start =
        QDateTime::fromMSecsSinceEpoch(m_conversations->index(row).data(ConversationListModel::StartRole).toLongLong())
            .toString(QStringLiteral("yyyyMMdd-HHmm"));
    const QString path =
        QFileDialog::getSaveFileName(this, tr("Export conversation"), QStringLiteral("forum-%1.md").arg(start),
                                     tr("Markdown (*.md);;All files (*)"));
    if (path.isEmpty())
        return;
    QString error;
    if (exportConversation(path, &error))
        m_status->setText(tr("Saved to %1").arg(QFileInfo(path).fileName()));
    else
        m_status->setText(tr("Not saved: %1").arg(error));
}
