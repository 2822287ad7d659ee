// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QAbstractProxyModel>
#include <QFutureWatcher>
#include <QStringList>
#include <memory>
#include <vector>

class ConsoleModel;
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
 */
class ConsoleFilterModel final : public QAbstractProxyModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConsoleFilterModel)

public:
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

    /// Below this many rows a new filter is applied at once, on the calling thread.
    static constexpr int ForegroundRows = 20000;

    // QAbstractItemModel
    QModelIndex index(int row, int column, const QModelIndex& parent = QModelIndex()) const override;
    QModelIndex parent(const QModelIndex& child) const override;
    int rowCount(const QModelIndex& parent = QModelIndex()) const override;
    int columnCount(const QModelIndex& parent = QModelIndex()) const override;
    QModelIndex mapToSource(const QModelIndex& proxyIndex) const override;
    QModelIndex mapFromSource(const QModelIndex& sourceIndex) const override;

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
    std::vector<qint64> filterRange(qint64 fromAbsolute, qint64 toAbsolute) const;
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
};
