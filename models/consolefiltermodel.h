// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "models/consolemodel.h"

#include <QAbstractProxyModel>
#include <QFutureWatcher>
#include <QHash>
#include <QSet>
#include <QStringList>
#include <memory>
#include <vector>

class ConsoleMatcher;

/// What a console view shows. An empty set or list means "all".
struct ConsoleFilter
{
    quint32 levels = 0; // bit (1 << LogLevel) per level shown
    quint32 streams = 0; // bit (1 << Protocol::Stream) per stream shown
    QStringList sources; // prefixes of the source field
    QStringList agents; // agents shown (merged console)
    QString text;
    /// Case-insensitive unless the text has a capital letter; off: case matters exactly when matchCase.
    bool smartCase = true;
    bool matchCase = false;
    bool wholeWord = false;
    bool regex = false;
    bool inverse = false; // shows the lines the text does not match

    bool isEmpty() const;
    bool operator==(const ConsoleFilter& other) const;
    bool operator!=(const ConsoleFilter& other) const { return !(*this == other); }
};
Q_DECLARE_METATYPE(ConsoleFilter)

/*
 * The rows of a ConsoleModel that pass a filter, as a list of absolute indices
 * (an index-vector proxy: a million rows cost 8 MB and no per-row objects).
 * New rows are filtered as they arrive, in the source's batches. A new filter
 * over many rows is worked out on other threads, from blocks of lines that do
 * not change; the old result stays visible meanwhile, and the new one replaces
 * it in one reset. Gap and mark rows pass the level, stream and source filters;
 * a text filter applies to their text too.
 *
 * A record of several lines (Console::Continues: a traceback under its log line)
 * can be folded into its first line, which then says how many lines it holds.
 * Its first line is the last line of its agent's stream before it that passes
 * the filter and continues nothing; a gap of its agent ends it.
 */
class ConsoleFilterModel final : public QAbstractProxyModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConsoleFilterModel)

public:
    enum Role {
        /// int (FoldState): whether the row is the first line of a record of several lines,
        /// and whether the rest is folded under it. setData with a bool folds or opens it.
        FoldRole = ConsoleModel::ContinuesRole + 1,
        RecordLinesRole, // int: on a record's first line, how many lines follow it
        RecordEndRole, // QString: on a record's first line, the text of its last line
        RecordRowsRole, // QModelIndexList: on a record's first line, the source's rows of the rest
    };
    enum FoldState { NoRecord, Open, Folded };

    explicit ConsoleFilterModel(QObject* parent = nullptr);
    ~ConsoleFilterModel() override;

    /// Must be a ConsoleModel.
    void setSourceModel(QAbstractItemModel* source) override;

    void setFilter(const ConsoleFilter& filter);
    ConsoleFilter filter() const { return m_filter; }
    /// Why the filter's regular expression does not compile; empty when it does.
    QString errorString() const { return m_error; }
    /// A new filter is being worked out in the background.
    bool isFiltering() const { return m_scan != nullptr; }
    int matchCount() const { return rowCount(); }

    /// Every record of several lines shows as its first line until it is opened (setData
    /// with FoldRole), and every one opens again when off. While the filter has text,
    /// every matching line shows and nothing is folded.
    void setFoldRecords(bool fold);
    bool foldRecords() const { return m_foldAll; }
    /// Folds or opens the record that starts at a row; false when none does.
    bool setRecordFolded(int row, bool folded);
    /// The row of a source row, opening the record it is folded in; invalid when the
    /// filter does not let it through.
    QModelIndex reveal(const QModelIndex& sourceIndex);

    /// Below this many rows a new filter is applied at once, on the calling thread.
    static constexpr int ForegroundRows = 20000;

    // QAbstractItemModel
    QModelIndex index(int row, int column, const QModelIndex& parent = QModelIndex()) const override;
    QModelIndex parent(const QModelIndex& child) const override;
    int rowCount(const QModelIndex& parent = QModelIndex()) const override;
    int columnCount(const QModelIndex& parent = QModelIndex()) const override;
    QModelIndex mapToSource(const QModelIndex& proxyIndex) const override;
    QModelIndex mapFromSource(const QModelIndex& sourceIndex) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    bool setData(const QModelIndex& index, const QVariant& value, int role = Qt::EditRole) override;

Q_SIGNALS:
    void filteringChanged(bool filtering);
    /// The current filter's result is in place.
    void filterApplied();

private:
    struct Scan;
    /// Works out the current filter again over every row.
    void rebuild();
    void onScanFinished();
    void cancelScan();
    bool matchesRow(int sourceRow) const;
    /// The first line of the newest record of each agent's stream, by agent and stream.
    using Heads = QHash<quint32, qint64>;
    /// The rows of [from, to) that match and are not folded away; heads: the records open
    /// before from, brought up to to. foldedInto: the first lines rows were folded under.
    std::vector<qint64> filterRange(qint64 fromAbsolute, qint64 toAbsolute, Heads* heads,
                                    QSet<qint64>* foldedInto = nullptr) const;
    /// The first line of the record a matching row is folded away under; -1 when it shows.
    /// heads follows the rows given, in order.
    qint64 foldedUnder(qint64 absolute, const Console::Record& record, Heads* heads) const;
    bool isFolded(qint64 head) const { return m_foldAll != m_toggled.contains(head); }
    /// Whether records fold: not while the filter has text.
    bool folds() const { return m_filter.text.isEmpty(); }
    /// How far the record that starts at head goes: the rows after it that match.
    struct Extent
    {
        int lines = 0;
        qint64 last = -1; // its last row that matches; -1: none after the first
        qint64 scannedTo = 0; // rows from here on are not looked at yet
        bool complete = false; // a later record of its stream began: it grows no more
    };
    /// The rows of head's record from `from` on (after head), up to the console's end;
    /// extent says where the scan stopped.
    std::vector<qint64> recordRows(qint64 head, qint64 from, Extent* extent) const;
    /// head's record (cached; rows that came since are looked at).
    const Extent& extent(qint64 head) const;
    /// After rows from `below` on went: each stream's newest record that is left, from the
    /// rows [begin, end) that stay.
    void reopenHeads(qint64 below, const qint64* begin, const qint64* end);
    /// Adds each stream's newest record among the rows [begin, end) (those of wanted, which
    /// it empties; every stream when null), looking back a bounded way.
    void findHeads(const qint64* begin, const qint64* end, QSet<quint32>* wanted);
    /// Tells the views that the first lines of these records hold more lines now.
    void announceRecords(const QSet<qint64>& heads);
    int proxyRowOf(qint64 absolute) const;
    void compact();

    void onRowsAboutToBeRemoved(const QModelIndex& parent, int first, int last);
    void onRowsRemoved();
    void onRowsInserted(const QModelIndex& parent, int first, int last);
    void onDataChanged(const QModelIndex& topLeft, const QModelIndex& bottomRight, const QList<int>& roles);

    ConsoleModel* m_console = nullptr;
    ConsoleFilter m_filter;
    std::unique_ptr<ConsoleMatcher> m_matcher;
    QString m_error;
    std::vector<qint64> m_rows; // absolute indices of the rows shown, ascending
    size_t m_front = 0; // m_rows before this index are gone
    size_t m_removing = 0; // rows announced by onRowsAboutToBeRemoved
    bool m_removingFront = true;
    std::unique_ptr<Scan> m_scan;
    QList<QMetaObject::Connection> m_sourceConnections;
    Heads m_heads; // as of the last row in m_rows
    bool m_foldAll = false;
    QSet<qint64> m_toggled; // first lines of records folded unlike the rest
    mutable QHash<qint64, Extent> m_extents; // by first line
};
