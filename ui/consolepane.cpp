// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/consolepane.h"

#include "models/consolemodel.h"
#include "ui/agentstatusbar.h"
#include "ui/ansi.h"
#include "ui/colors.h"
#include "ui/consoleview.h"
#include "ui/flowlayout.h"
#include "ui/linedetaildialog.h"

#include <QFileDialog>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSaveFile>
#include <QScrollBar>
#include <QStyle>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

namespace {

/// Pages of older lines "Search Older" loads at most per click.
constexpr int MaxSearchOlderPages = 25;

struct Chip
{
    const char* label;
    quint32 bits;
    LogLevel color; // the level whose colour the chip wears
};

constexpr quint32 bit(LogLevel level)
{
    return 1u << int(level);
}

// Lines without a level count as INFO; TRACE goes with DEBUG.
const Chip LevelChips[] = {
    {"DEBUG", bit(LogLevel::Trace) | bit(LogLevel::Debug), LogLevel::Debug},
    {"INFO", bit(LogLevel::Info) | bit(LogLevel::Unknown), LogLevel::Info},
    {"WARNING", bit(LogLevel::Warning), LogLevel::Warning},
    {"ERROR", bit(LogLevel::Error), LogLevel::Error},
    {"CRITICAL", bit(LogLevel::Critical), LogLevel::Critical},
};
const Chip StreamChips[] = {
    {"stdout", 1u << int(Protocol::Stream::Stdout), LogLevel::Debug},
    {"stderr", 1u << int(Protocol::Stream::Stderr), LogLevel::Error},
};

QToolButton* makeToggle(const QString& text, const QString& toolTip, QWidget* parent)
{
    auto* button = new QToolButton(parent);
    button->setText(text);
    button->setToolTip(toolTip);
    button->setCheckable(true);
    button->setAutoRaise(true);
    return button;
}

/// Matches no level or stream: what the chips ask for when none is checked.
constexpr quint32 NothingBit = 1u << 31;

/// The bits of the checked chips; 0 (everything) when all are checked.
quint32 checkedBits(const QList<QToolButton*>& chips)
{
    quint32 bits = 0;
    bool all = true;
    for (QToolButton* chip : chips) {
        if (chip->isChecked())
            bits |= chip->property("bits").toUInt();
        else
            all = false;
    }
    return all ? 0 : (bits ? bits : NothingBit);
}

} // namespace

ConsolePane::ConsolePane(ConsoleModel* console, const QString& hostKey, const QString& agentId, QWidget* parent)
    : QWidget(parent)
    , m_console(console)
    , m_hostKey(hostKey)
    , m_agentId(agentId)
{
    setObjectName(QStringLiteral("consolePane"));
    m_filter = new ConsoleFilterModel(this);
    m_filter->setSourceModel(console);
    m_matches = new ConsoleFilterModel(this);
    m_matches->setSourceModel(console);
    m_view = new ConsoleView(this);
    m_view->setModel(m_filter);
    m_view->setFrameShape(QFrame::NoFrame);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addWidget(buildChips());
    layout->addWidget(buildSearchBar());
    m_historyBar = new QWidget(this);
    m_historyBar->setObjectName(QStringLiteral("historyBar"));
    auto* historyRow = new QHBoxLayout(m_historyBar);
    historyRow->setContentsMargins(8, 2, 6, 2);
    m_historyText = new QLabel(m_historyBar);
    m_historyText->setObjectName(QStringLiteral("historyText"));
    m_historyText->setForegroundRole(QPalette::PlaceholderText);
    m_historyText->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred); // cut short in a narrow pane
    historyRow->addWidget(m_historyText, 1);
    m_historyButton = new QPushButton(m_historyBar);
    m_historyButton->setObjectName(QStringLiteral("loadOlder"));
    m_historyButton->setFlat(true);
    m_historyButton->setCursor(Qt::PointingHandCursor);
    connect(m_historyButton, &QPushButton::clicked, this, &ConsolePane::olderLinesWanted);
    historyRow->addWidget(m_historyButton);
    m_historyBar->hide();
    layout->addWidget(m_historyBar);
    layout->addWidget(m_view, 1);

    m_jump = new QPushButton(this);
    m_jump->setObjectName(QStringLiteral("jumpToLatest"));
    m_jump->setCursor(Qt::PointingHandCursor);
    m_jump->hide();
    connect(m_jump, &QPushButton::clicked, m_view, &ConsoleView::scrollToBottom);
    connect(m_view, &ConsoleView::followingChanged, this, &ConsolePane::updateJumpButton);
    connect(m_view, &ConsoleView::unseenRowsChanged, this, &ConsolePane::updateJumpButton);
    connect(console, &ConsoleModel::partialChanged, this, &ConsolePane::updatePartial);
    connect(m_view, &ConsoleView::lineActivated, this, &ConsolePane::openLineDetail);
    connect(console, &ConsoleModel::rowsTakenOut, m_view, &ConsoleView::beginPutBack);
    connect(console, &ConsoleModel::rowsPutBack, m_view, &ConsoleView::endPutBack);
    m_view->installEventFilter(this);
    if (!isMerged()) {
        // An agent's console reaches back into the host's log files.
        connect(m_view, &ConsoleView::topReached, this, [this] {
            if (m_console->historyState() == ConsoleModel::HistoryState::Idle)
                Q_EMIT olderLinesWanted();
            updateHistoryBar();
        });
        connect(m_view->verticalScrollBar(), &QScrollBar::valueChanged, this, &ConsolePane::updateHistoryBar);
        connect(m_view->verticalScrollBar(), &QScrollBar::rangeChanged, this, &ConsolePane::updateHistoryBar);
        connect(m_view, &ConsoleView::gapLoadRequested, this, [this](int row) {
            const QModelIndex source = m_filter->mapToSource(m_filter->index(row, 0));
            if (source.isValid())
                Q_EMIT gapLinesWanted(source.row());
        });
        connect(console, &ConsoleModel::historyChanged, this, &ConsolePane::onHistoryChanged);
        // Back at the newest lines: history loaded beyond the console's bound may go.
        connect(m_view, &ConsoleView::followingChanged, this, [this](bool following) {
            if (following)
                m_console->releaseHistory();
        });
        updateHistoryBar();
    }
}

void ConsolePane::updateHistoryBar()
{
    if (isMerged())
        return;
    QScrollBar* bar = m_view->verticalScrollBar();
    const bool atTop = bar->value() == 0;
    QString text;
    QString button;
    switch (m_console->historyState()) {
    case ConsoleModel::HistoryState::Idle:
        text = tr("Older lines may be in the host's log files.");
        button = tr("Load older lines");
        break;
    case ConsoleModel::HistoryState::Loading:
        text = m_searchOlderPages > 0 ? tr("Searching older lines on the host…") : tr("Loading older lines…");
        break;
    case ConsoleModel::HistoryState::Complete:
        text = tr("The start of this agent's log on the host.");
        break;
    case ConsoleModel::HistoryState::Failed:
        text = tr("Could not load older lines: %1").arg(m_console->historyError());
        button = tr("Try again");
        break;
    }
    m_historyText->setText(text);
    m_historyButton->setText(button);
    m_historyButton->setVisible(!button.isEmpty());
    m_historyBar->setVisible(atTop && m_console->rowCount() > 0);
}

void ConsolePane::onHistoryChanged(int rowsAdded)
{
    Q_UNUSED(rowsAdded);
    updateHistoryBar();
    if (m_searchOlderPages <= 0 || m_console->historyState() == ConsoleModel::HistoryState::Loading)
        return;
    // Searching back: another page while nothing new matched and there is more.
    const bool found = m_matches->rowCount() > m_matchesBeforeOlder;
    if (found || m_console->historyState() != ConsoleModel::HistoryState::Idle || --m_searchOlderPages == 0) {
        m_searchOlderPages = 0;
        if (found)
            find(true);
        updateSearchStatus();
        return;
    }
    Q_EMIT olderLinesWanted();
}

void ConsolePane::searchOlder()
{
    if (m_console->historyState() == ConsoleModel::HistoryState::Complete
        || m_console->historyState() == ConsoleModel::HistoryState::Loading)
        return;
    searchTypedTextNow();
    m_searchOlderPages = MaxSearchOlderPages;
    m_matchesBeforeOlder = m_matches->rowCount();
    Q_EMIT olderLinesWanted();
    updateSearchStatus();
}

ConsolePane::~ConsolePane() = default;

QWidget* ConsolePane::buildChips()
{
    auto* bar = new QWidget(this);
    bar->setObjectName(QStringLiteral("chips"));
    // Chips wrap onto a second row in a narrow pane rather than widen it.
    auto* row = new FlowLayout(bar);
    row->setContentsMargins(6, 3, 6, 3);
    row->setSpacing(2);
    auto addChips = [&](const auto& chips, QList<QToolButton*>* list, const QString& what) {
        for (const Chip& chip : chips) {
            QToolButton* button = makeToggle(QLatin1String(chip.label), tr("Show %1 lines").arg(what), bar);
            button->setObjectName(QStringLiteral("chip-") + QLatin1String(chip.label));
            button->setProperty("bits", chip.bits);
            button->setProperty("color", int(chip.color));
            button->setChecked(true);
            connect(button, &QToolButton::toggled, this, &ConsolePane::applyFilter);
            row->addWidget(button);
            list->append(button);
        }
    };
    addChips(LevelChips, &m_levelChips, tr("level"));
    row->addGap(10);
    addChips(StreamChips, &m_streamChips, tr("stream"));
    styleChips();

    auto* actions = new QWidget(bar);
    actions->setObjectName(QStringLiteral("consoleActions"));
    auto* actionRow = new QHBoxLayout(actions);
    actionRow->setContentsMargins(0, 0, 0, 0);
    actionRow->setSpacing(2);
    row->addGap(10);
    row->addTrailing(actions);
    m_countLabel = new QLabel(actions);
    m_countLabel->setForegroundRole(QPalette::PlaceholderText);
    m_countLabel->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    m_countLabel->setMinimumWidth(m_countLabel->fontMetrics().horizontalAdvance(tr("%L1 lines").arg(9999999)));
    actionRow->addWidget(m_countLabel, 1);
    auto updateCount = [this] {
        const int shown = m_filter->rowCount();
        const int all = m_console->rowCount();
        m_countLabel->setText(shown != all   ? tr("%L1 of %L2 lines").arg(shown).arg(all)
                                  : all == 1 ? tr("1 line")
                                             : tr("%L1 lines").arg(all));
        if (m_searchBar && m_searchBar->isVisible())
            updateSearchStatus(); // matches keep coming with new lines
    };
    QTimer* countTimer = new QTimer(this);
    countTimer->setInterval(500);
    connect(countTimer, &QTimer::timeout, this, updateCount);
    countTimer->start();
    updateCount();

    auto addAction = [&](const QString& name, const QString& text, const QString& tip, auto slot) {
        auto* button = new QToolButton(actions);
        button->setObjectName(name);
        button->setText(text);
        button->setToolTip(tip);
        button->setAutoRaise(true);
        connect(button, &QToolButton::clicked, this, slot);
        actionRow->addWidget(button);
        return button;
    };
    m_wrap = makeToggle(tr("Wrap"), tr("Wrap long lines instead of scrolling sideways"), actions);
    m_wrap->setObjectName(QStringLiteral("wrapButton"));
    connect(m_wrap, &QToolButton::toggled, m_view, &ConsoleView::setWrapLines);
    actionRow->addWidget(m_wrap);
    m_fold =
        makeToggle(tr("Fold"), tr("Fold every record of several lines (a traceback) into its first line"), actions);
    m_fold->setObjectName(QStringLiteral("foldButton"));
    connect(m_fold, &QToolButton::toggled, m_filter, &ConsoleFilterModel::setFoldRecords);
    actionRow->addWidget(m_fold);
    addAction(QStringLiteral("findButton"), tr("Find"), tr("Search this console (Ctrl+F)"), &ConsolePane::showSearch);
    addAction(QStringLiteral("exportButton"), tr("Export…"), tr("Save the lines shown to a file"),
              &ConsolePane::exportShown);
    QToolButton* clear = addAction(QStringLiteral("clearButton"), tr("Clear"),
                                   tr("Clear: remove the lines up to now from this console"), &ConsolePane::clear);
    clear->setIcon(style()->standardIcon(QStyle::SP_LineEditClearButton));
    clear->setToolButtonStyle(Qt::ToolButtonIconOnly);
    addAction(QStringLiteral("detachButton"), QString(), QString(), &ConsolePane::detachRequested);
    setDetached(false);
    return bar;
}

QWidget* ConsolePane::buildSearchBar()
{
    m_searchBar = new QWidget(this);
    m_searchBar->setObjectName(QStringLiteral("searchBar"));
    m_searchBar->setAutoFillBackground(true);
    m_searchBar->setBackgroundRole(QPalette::AlternateBase);
    auto* row = new QHBoxLayout(m_searchBar);
    row->setContentsMargins(6, 3, 6, 3);
    row->setSpacing(2);
    m_searchEdit = new QLineEdit(m_searchBar);
    m_searchEdit->setObjectName(QStringLiteral("searchEdit"));
    m_searchEdit->setPlaceholderText(tr("Find in console"));
    m_searchEdit->setClearButtonEnabled(true);
    m_searchEdit->installEventFilter(this);
    row->addWidget(m_searchEdit, 1);
    m_searchDebounce = new QTimer(this);
    m_searchDebounce->setSingleShot(true);
    m_searchDebounce->setInterval(150);
    connect(m_searchDebounce, &QTimer::timeout, this, &ConsolePane::updateSearch);
    connect(m_searchEdit, &QLineEdit::textChanged, m_searchDebounce, qOverload<>(&QTimer::start));

    m_matchCase = makeToggle(tr("Aa"), tr("Match case"), m_searchBar);
    m_matchCase->setObjectName(QStringLiteral("matchCase"));
    m_wholeWord = makeToggle(tr("W"), tr("Whole words"), m_searchBar);
    m_wholeWord->setObjectName(QStringLiteral("wholeWord"));
    m_regex = makeToggle(tr(".*"), tr("Regular expression"), m_searchBar);
    m_regex->setObjectName(QStringLiteral("regex"));
    m_onlyMatching = makeToggle(tr("Filter"), tr("Show only the lines that match"), m_searchBar);
    m_onlyMatching->setObjectName(QStringLiteral("onlyMatching"));
    m_inverse = makeToggle(tr("Invert"), tr("Show only the lines that do not match"), m_searchBar);
    m_inverse->setObjectName(QStringLiteral("inverse"));
    for (QToolButton* toggle : {m_matchCase, m_wholeWord, m_regex, m_onlyMatching, m_inverse}) {
        row->addWidget(toggle);
        connect(toggle, &QToolButton::toggled, this, &ConsolePane::updateSearch);
    }

    for (const bool backwards : {true, false}) {
        auto* step = new QToolButton(m_searchBar);
        step->setObjectName(backwards ? QStringLiteral("findPrevious") : QStringLiteral("findNext"));
        step->setArrowType(backwards ? Qt::UpArrow : Qt::DownArrow);
        step->setToolTip(backwards ? tr("Previous match (Shift+Enter)") : tr("Next match (Enter)"));
        step->setAutoRaise(true);
        connect(step, &QToolButton::clicked, this, [this, backwards] { find(backwards); });
        row->addWidget(step);
    }

    if (!isMerged()) {
        m_searchOlder = new QToolButton(m_searchBar);
        m_searchOlder->setObjectName(QStringLiteral("searchOlder"));
        m_searchOlder->setText(tr("Search Older"));
        m_searchOlder->setToolTip(tr("Load older lines from the host's log files until the search finds them"));
        m_searchOlder->setAutoRaise(true);
        connect(m_searchOlder, &QToolButton::clicked, this, &ConsolePane::searchOlder);
        row->addWidget(m_searchOlder);
    }

    m_searchStatus = new QLabel(m_searchBar);
    m_searchStatus->setObjectName(QStringLiteral("searchStatus"));
    m_searchStatus->setMinimumWidth(m_searchStatus->fontMetrics().horizontalAdvance(QStringLiteral("no match, 000")));
    row->addWidget(m_searchStatus);

    auto* close = new QToolButton(m_searchBar);
    close->setText(QStringLiteral("✕"));
    close->setToolTip(tr("Close (Esc)"));
    close->setAutoRaise(true);
    connect(close, &QToolButton::clicked, this, &ConsolePane::hideSearch);
    row->addWidget(close);

    connect(m_filter, &ConsoleFilterModel::filteringChanged, this, &ConsolePane::updateSearchStatus);
    connect(m_matches, &ConsoleFilterModel::filteringChanged, this, &ConsolePane::updateSearchStatus);
    m_searchBar->hide();
    return m_searchBar;
}

void ConsolePane::styleChips()
{
    // Rounded chips in their level's colour, filled while checked.
    const bool dark = Colors::isDark(palette());
    const QColor border = palette().color(QPalette::Mid);
    for (QToolButton* chip : m_levelChips + m_streamChips) {
        const QColor color = Colors::level(LogLevel(chip->property("color").toInt()), dark);
        QColor fill = color;
        fill.setAlphaF(dark ? 0.28f : 0.16f);
        chip->setStyleSheet(QStringLiteral("QToolButton { border: 1px solid %1; border-radius: 9px; padding: 1px 8px; "
                                           "color: %2; }"
                                           "QToolButton:checked { background: %3; border-color: %4; color: %5; }")
                                .arg(border.name(), palette().color(QPalette::PlaceholderText).name(),
                                     fill.name(QColor::HexArgb), color.name(), color.name()));
    }
}

void ConsolePane::changeEvent(QEvent* event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange)
        styleChips();
}

void ConsolePane::setDetached(bool detached)
{
    auto* button = findChild<QToolButton*>(QStringLiteral("detachButton"));
    button->setText(detached ? tr("Back to Tabs") : tr("Tear Off"));
    button->setToolTip(detached ? tr("Put this console back into the main window's tabs")
                                : tr("Open this console in a window of its own (or drag its tab out)"));
    button->setVisible(!isMerged());
}

void ConsolePane::showSearch()
{
    m_searchBar->show();
    m_searchEdit->setFocus(Qt::ShortcutFocusReason);
    m_searchEdit->selectAll();
    updateSearch();
}

void ConsolePane::hideSearch()
{
    m_searchBar->hide();
    m_searchEdit->clear();
    updateSearch();
    m_view->setFocus();
}

bool ConsolePane::isFilteringBySearch() const
{
    return !m_searchEdit->text().isEmpty() && (m_onlyMatching->isChecked() || m_inverse->isChecked());
}

void ConsolePane::applyFilter()
{
    ConsoleFilter shown;
    shown.levels = checkedBits(m_levelChips);
    shown.streams = checkedBits(m_streamChips);
    // The lines the search finds among those the chips let through.
    ConsoleFilter matches = shown;
    matches.text = m_searchEdit->text();
    matches.smartCase = false;
    matches.matchCase = m_matchCase->isChecked();
    matches.wholeWord = m_wholeWord->isChecked();
    matches.regex = m_regex->isChecked();
    if (matches.text.isEmpty() || !m_searchBar->isVisibleTo(this))
        matches.levels = NothingBit; // no search: nothing to keep up with
    if (isFilteringBySearch()) {
        shown = matches;
        shown.inverse = m_inverse->isChecked();
    }
    if (shown != m_filter->filter())
        m_filter->setFilter(shown);
    if (matches != m_matches->filter())
        m_matches->setFilter(matches);
}

void ConsolePane::updateSearch()
{
    // Done now: the pause after typing must not redo it later and drop the current match.
    m_searchDebounce->stop();
    applyFilter();
    QString error;
    const QRegularExpression expression = ConsoleView::searchExpression(
        m_searchEdit->text(), m_matchCase->isChecked(), m_wholeWord->isChecked(), m_regex->isChecked(), &error);
    m_view->setHighlight(m_inverse->isChecked() ? QRegularExpression() : expression);
    m_view->setCurrentMatch(-1);
    m_searchStatus->setToolTip(error);
    updateSearchStatus();
}

void ConsolePane::updateSearchStatus()
{
    if (!m_searchStatus->toolTip().isEmpty()) {
        m_searchStatus->setText(tr("bad pattern"));
    } else if (m_searchEdit->text().isEmpty()) {
        m_searchStatus->clear();
    } else if (isFilteringBySearch()) {
        m_searchStatus->setText(m_filter->isFiltering() ? tr("filtering…") : tr("%L1 lines").arg(m_filter->rowCount()));
    } else if (m_matches->isFiltering()) {
        m_searchStatus->setText(tr("searching…"));
    } else if (m_matches->rowCount() == 0) {
        m_searchStatus->setText(tr("no match"));
    } else if (m_view->currentMatchRow() >= 0) {
        const int current = matchIndexOf(m_view->currentMatchRow());
        m_searchStatus->setText(tr("%L1 of %L2").arg(current + 1).arg(m_matches->rowCount()));
    } else {
        const int count = m_matches->rowCount();
        m_searchStatus->setText(count == 1 ? tr("1 match") : tr("%L1 matches").arg(count));
    }
}

int ConsolePane::matchIndexOf(int viewRow) const
{
    // The first match at or after the view row's line, by a binary search over the matches.
    const QModelIndex line = m_filter->mapToSource(m_filter->index(viewRow, 0));
    int low = 0;
    int high = m_matches->rowCount();
    while (low < high) {
        const int middle = (low + high) / 2;
        if (m_matches->mapToSource(m_matches->index(middle, 0)).row() < line.row())
            low = middle + 1;
        else
            high = middle;
    }
    return low;
}

void ConsolePane::searchTypedTextNow()
{
    // Enter or Search Older right after typing: the pause after typing has not ended yet.
    if (m_searchDebounce->isActive() || m_matches->filter().text != m_searchEdit->text())
        updateSearch();
}

void ConsolePane::find(bool backwards)
{
    searchTypedTextNow();
    const int rows = m_filter->rowCount();
    if (rows == 0 || m_searchEdit->text().isEmpty() || !m_searchStatus->toolTip().isEmpty())
        return;
    int row = -1;
    if (isFilteringBySearch()) {
        // Every line shown is a match: step through them.
        const int current = m_view->currentMatchRow();
        row = current < 0 ? m_view->firstVisibleRow() : (current + (backwards ? rows - 1 : 1)) % rows;
    } else {
        const int matches = m_matches->rowCount();
        if (matches == 0) {
            updateSearchStatus();
            return;
        }
        const int current = m_view->currentMatchRow();
        int at = 0;
        if (current >= 0) {
            at = matchIndexOf(current) + (backwards ? -1 : 1);
        } else {
            // From the top of the screen down, or from its bottom up.
            const int edge = backwards
                ? std::min(rows - 1, m_view->firstVisibleRow() + m_view->height() / m_view->lineHeight())
                : m_view->firstVisibleRow();
            at = matchIndexOf(edge);
            if (backwards)
                at -= 1;
        }
        at = (at % matches + matches) % matches;
        const QModelIndex line = m_matches->mapToSource(m_matches->index(at, 0));
        row = m_filter->reveal(line).row();
        if (row < 0)
            return; // the view's filter is still being worked out
    }
    m_view->setCurrentMatch(row);
    updateSearchStatus();
}

bool ConsolePane::showLine(qint64 seq)
{
    if (seq <= 0)
        return false;
    m_console->flush();
    // Newest first: an alert is usually about a recent line.
    for (int row = m_console->rowCount() - 1; row >= 0; --row) {
        const Console::Record* record = m_console->record(row);
        if (!record || record->kind != Console::Kind::Line || record->seq != seq)
            continue;
        const int shown = m_filter->reveal(m_console->index(row, 0)).row();
        if (shown < 0)
            return false;
        m_view->setSelection(shown, shown);
        m_view->setCurrentMatch(shown);
        return true;
    }
    return false;
}

void ConsolePane::updateJumpButton()
{
    const bool show = !m_view->isFollowing();
    const int unseen = m_view->unseenRows();
    m_jump->setText(unseen > 0 ? tr("Jump to latest (%L1 new)").arg(unseen) : tr("Jump to latest"));
    m_jump->adjustSize();
    m_jump->setVisible(show);
    placeJumpButton();
}

void ConsolePane::placeJumpButton()
{
    if (!m_jump || !m_jump->isVisible())
        return;
    // Bottom right over the lines, clear of the scroll bar.
    const QRect area = m_view->geometry();
    const int margin = 12;
    m_jump->move(area.right() - m_jump->width() - margin - m_view->verticalScrollBar()->width(),
                 area.bottom() - m_jump->height() - margin);
    m_jump->raise();
}

void ConsolePane::showAgentStatus(AgentTreeModel* agents)
{
    if (m_status || isMerged())
        return;
    m_status = new AgentStatusBar(agents, m_hostKey, m_agentId, this);
    static_cast<QVBoxLayout*>(layout())->insertWidget(0, m_status);
}

LineDetailDialog* ConsolePane::openLineDetail(int viewRow)
{
    const QModelIndex index = m_filter->index(viewRow, 0);
    if (!index.isValid())
        return nullptr;
    auto* dialog = new LineDetailDialog(index, this);
    dialog->show();
    return dialog;
}

void ConsolePane::updatePartial()
{
    QString text = m_console->partialText(Protocol::Stream::Stdout);
    LogLevel level = LogLevel::Info;
    if (text.isEmpty()) {
        text = m_console->partialText(Protocol::Stream::Stderr);
        level = LogLevel::Warning;
    }
    m_view->setPartialLine(text, int(level));
}

void ConsolePane::resizeEvent(QResizeEvent* event)
{
    QWidget::resizeEvent(event);
    placeJumpButton();
}

bool ConsolePane::eventFilter(QObject* watched, QEvent* event)
{
    if (watched == m_view && event->type() == QEvent::Resize)
        placeJumpButton();
    if (event->type() == QEvent::KeyPress) {
        auto* key = static_cast<QKeyEvent*>(event);
        if (watched == m_searchEdit && (key->key() == Qt::Key_Return || key->key() == Qt::Key_Enter)) {
            find(key->modifiers() & Qt::ShiftModifier);
            return true;
        }
        if (key->key() == Qt::Key_Escape && m_searchBar->isVisible()) {
            hideSearch();
            return true;
        }
        if (watched == m_searchEdit && key->key() == Qt::Key_F3) {
            find(key->modifiers() & Qt::ShiftModifier);
            return true;
        }
    }
    return QWidget::eventFilter(watched, event);
}

bool ConsolePane::exportTo(const QString& path, QString* error) const
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Text)) {
        *error = file.errorString();
        return false;
    }
    const int rows = m_filter->rowCount();
    QByteArray chunk;
    for (int row = 0; row < rows; ++row) {
        chunk += ConsoleView::rowText(m_filter->index(row, 0)).toUtf8();
        chunk += '\n';
        if (chunk.size() > (1 << 20)) {
            file.write(chunk);
            chunk.clear();
        }
    }
    file.write(chunk);
    if (!file.commit()) {
        *error = file.errorString();
        return false;
    }
    return true;
}

void ConsolePane::exportShown()
{
    const QString name = (isMerged() ? QStringLiteral("all-agents") : m_agentId) + QStringLiteral(".log");
    const QString path = QFileDialog::getSaveFileName(this, tr("Export Lines"), name, tr("Log files (*.log *.txt)"));
    if (path.isEmpty())
        return;
    QString error;
    if (!exportTo(path, &error))
        QMessageBox::warning(this, tr("Export Lines"), tr("Could not write %1: %2").arg(path, error));
}

void ConsolePane::clear()
{
    m_console->clear();
}

QVariantMap ConsolePane::state() const
{
    QVariantMap state;
    state.insert(QStringLiteral("levels"), checkedBits(m_levelChips));
    state.insert(QStringLiteral("streams"), checkedBits(m_streamChips));
    state.insert(QStringLiteral("wrap"), m_view->wrapLines());
    state.insert(QStringLiteral("fold"), m_filter->foldRecords());
    return state;
}

void ConsolePane::restoreState(const QVariantMap& state)
{
    const auto restoreChips = [](const QList<QToolButton*>& chips, quint32 bits) {
        for (QToolButton* chip : chips)
            chip->setChecked(bits == 0 || (chip->property("bits").toUInt() & bits));
    };
    restoreChips(m_levelChips, state.value(QStringLiteral("levels")).toUInt());
    restoreChips(m_streamChips, state.value(QStringLiteral("streams")).toUInt());
    m_wrap->setChecked(state.value(QStringLiteral("wrap")).toBool());
    m_fold->setChecked(state.value(QStringLiteral("fold")).toBool());
}
