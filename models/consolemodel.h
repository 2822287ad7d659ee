// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/link/linkevent.h"
#include "server/protocol/loglevel.h"

#include <QAbstractListModel>
#include <QHash>
#include <QTimer>
#include <deque>
#include <memory>
#include <vector>

/*
 * Lines of a console in fixed blocks. A line costs a 32-byte record plus its
 * UTF-8 text; text is converted to QString only when a view asks for a row.
 * Blocks never grow or move once made, and a record is never written again
 * once stored, so a filter can read them on another thread (holding the
 * blocks it reads) while new lines arrive.
 */
namespace Console {

enum class Kind : quint8 { Line, Gap, Mark };

struct Record
{
    qint64 seq = 0; // for a gap: its first number
    qint64 ts = 0;
    quint32 offset = 0; // of the text in the block's bytes
    quint32 length = 0;
    quint16 source = 0; // index into the console's sources; 0: none
    quint16 agent = 0; // index into the console's agents (merged console)
    LogLevel level = LogLevel::Unknown;
    Protocol::Stream stream = Protocol::Stream::Stdout;
    Kind kind = Kind::Line;
    quint8 flags = 0; // Continues
};

/// The line continues the record of the line before it on its agent's stream (a
/// traceback or an indented dump under a log line), and has that line's level.
constexpr quint8 Continues = 1;
static_assert(sizeof(Record) == 32);

struct Block
{
    explicit Block(quint32 textCapacity);
    QByteArrayView text(const Record& record) const
    {
        return QByteArrayView(bytes.get() + record.offset, record.length);
    }

    static constexpr quint32 Records = 4096;
    std::unique_ptr<Record[]> records;
    std::unique_ptr<char[]> bytes;
    quint32 count = 0; // records written
    quint32 used = 0; // bytes written
    quint32 capacity;
    bool sealed = false; // takes no more records
};

/// Part of a console as it was at one moment: records [begin, end) of a block.
struct Span
{
    std::shared_ptr<const Block> block;
    quint32 begin;
    quint32 end;
    qint64 firstIndex; // the absolute index of record begin
};

} // namespace Console

/*
 * One console: an agent's lines, or (merged) the lines of all agents in time
 * order. Bounded by lines and by bytes, oldest first. New lines and evictions
 * are shown at most once every 30 ms, with one removal and one insertion.
 * Rows are also known by an absolute index that never changes while the row
 * exists (first index + row), which lets filters keep up cheaply.
 */
class ConsoleModel final : public QAbstractListModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConsoleModel)

public:
    enum Role {
        TimeRole = Qt::UserRole + 1, // qint64 ms since the epoch
        LevelRole, // int (LogLevel)
        LevelNameRole, // QString
        StreamRole, // int (Protocol::Stream)
        SourceRole,
        TextRole,
        SeqRole,
        KindRole, // int (Console::Kind)
        AgentRole,
        GapFromRole,
        GapToRole,
        MarkIdRole,
        MarkResultRole, // the result's text, once there is one
        MarkStateRole, // int (MarkState)
        GapLoadableRole, // bool: the host may still have the gap's lines (isLoadableGap)
        ContinuesRole, // bool: the line continues the record above it (Console::Continues)
    };
    /// Where loading older lines from the host's history stands.
    enum class HistoryState { Idle, Loading, Complete, Failed };

    /// MarkSent: handed to the program (a line to its stdin), which answers nothing.
    enum MarkState { MarkPending, MarkOk, MarkFailed, MarkTimeout, MarkSent };

    explicit ConsoleModel(QObject* parent = nullptr);
    ~ConsoleModel() override;

    /// A merged console takes lines of many agents and keeps them in time order.
    void setMerged(bool merged);
    bool isMerged() const { return m_merged; }
    void setMaxLines(qint64 lines);
    void setMaxBytes(qint64 bytes);
    qint64 maxLines() const { return m_maxLines; }
    qint64 maxBytes() const { return m_maxBytes; }

    /// Lines of this console's agent, in order. Lines not above the last number
    /// seen are dropped; a partial line replaces its stream's partial line.
    void appendLines(const QList<Link::ConsoleLine>& lines);
    /// Lines of one agent, for a merged console.
    void appendLines(const QString& agent, const QList<Link::ConsoleLine>& lines);
    /// Numbers from..to that will not come, and why (a protocol gap reason).
    void appendGap(qint64 from, qint64 to, const QString& reason);
    /// The number of the oldest line held; 0 when none is.
    qint64 firstLineSeq() const;
    /// Older lines (and the gaps among them) from the host's history, oldest first and all
    /// below firstLineSeq(): shown before the first row, the rows on screen staying put.
    /// more false: the host has nothing older. While lines loaded so are held, the
    /// console's bound is twice as high, until releaseHistory(); of a page that would go
    /// beyond it, the newest lines that fit are taken, and once it is reached a page is
    /// refused (historyState() Failed, with the reason).
    /// requestedBefore: the number the request asked for lines below (-1: not from a
    /// request); lines that left the console since become a gap, and a reply that
    /// comes when no request is on its way (the console was cleared) is dropped.
    void prependHistory(const QList<Link::ConsoleLine>& lines, const QList<Link::Gap>& gaps, bool more,
                        qint64 requestedBefore = -1);
    /// Lines the host still had for the gap row at absolute index gapIndex, in its place;
    /// what the reply does not cover stays a gap. False when that row is gone.
    bool fillGap(qint64 gapIndex, const QList<Link::ConsoleLine>& lines, const QList<Link::Gap>& gaps);
    /// The absolute index of the gap row for numbers from `from` on; -1 when there is none.
    qint64 gapRowNumbered(qint64 from) const;
    /// Whether the host may still have the lines of a gap row (it was in its memory
    /// or files, not dropped by the agent or the rate limit).
    bool isLoadableGap(int row) const;
    /// The console's bound holds again: history lines beyond it go at the next tick.
    void releaseHistory();
    HistoryState historyState() const { return m_historyState; }
    QString historyError() const { return m_historyError; }
    void setHistoryLoading();
    void setHistoryFailed(const QString& reason);

    /// A row for something the user did (a command sent), to carry its result later.
    void appendMark(const QString& markId, const QString& text);
    void setMarkResult(const QString& markId, const QString& text, MarkState state);
    /// Numbering starts over (another host history): the next line is taken whatever its number.
    void resetSequence(const QString& agent = QString());
    /// The host's numbers for an agent went back from `previous` to `hostLast`: it lost
    /// the lines after hostLast (stopped before saving them, or its files are gone). The
    /// console takes numbers after `resumeAfter` (at most hostLast) again: the host
    /// sends them anew, and they may be the lines held or new ones that took their
    /// numbers. A line that comes again with the same number and text (a replay, or an
    /// agent resending what the host lost) is dropped, any other is shown. A single
    /// agent's console says so in a row; agent is for a merged console.
    void renumber(qint64 previous, qint64 hostLast, qint64 resumeAfter, const QString& agent = QString());
    void clear();

    /// Shows what is queued now instead of at the next tick.
    void flush();

    /// The current unfinished line of a stream (progress bars, streaming answers).
    QString partialText(Protocol::Stream stream) const;

    // QAbstractItemModel
    int rowCount(const QModelIndex& parent = QModelIndex()) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

    /// Absolute index of row 0.
    qint64 firstIndex() const { return m_firstIndex; }
    /// The record and text of a shown row.
    const Console::Record* record(int row, QByteArrayView* text = nullptr) const;
    QString sourceName(quint16 source) const { return m_sources.value(source); }
    QString agentName(quint16 agent) const { return m_agents.value(agent); }
    /// The shown rows as immutable spans, for a filter running elsewhere.
    std::vector<Console::Span> snapshot() const;
    const QStringList& sources() const { return m_sources; }
    const QStringList& agents() const { return m_agents; }
    /// Bytes of line text held (shown and queued).
    qint64 textBytes() const { return m_textBytes; }
    /// Complete lines taken in since creation.
    quint64 linesAppended() const { return m_appended; }

    static QString gapText(qint64 from, qint64 to, const QString& reason);

Q_SIGNALS:
    void partialChanged(Protocol::Stream stream);
    /// historyState() changed, or older lines came (count of rows added, 0 if none).
    void historyChanged(int rowsAdded);
    /// Rows are about to be taken out from some row to the end, to be put back in
    /// another order or with rows between them (late lines, a gap filled); then
    /// rowsPutBack. A view keeps its place: these are not new lines.
    void rowsTakenOut();
    /// newRows: how many of the rows put back are lines that just came (late lines), not
    /// rows that were there before or history loaded.
    void rowsPutBack(int newRows);

private:
    struct GapInfo
    {
        qint64 to = 0; // the last number
        QString reason; // a protocol reason, "renumbered" or "rotated"
    };
    struct Pending
    {
        Console::Record record;
        QByteArray text;
        QString markId; // a mark row taken out to be merged again
        GapInfo gap; // a gap row's end and reason, likewise
    };
    /// Stores a row taken out (or made) as Pending, with its mark or gap.
    qint64 restore(const Pending& pending);
    /// History rows in number order: lines, and gaps among and before them.
    std::vector<Pending> historyRows(const QList<Link::ConsoleLine>& lines, const QList<Link::Gap>& gaps, qint64 from,
                                     qint64 to);
    static Pending gapRow(qint64 from, qint64 to, const QString& reason, qint64 ts);
    Pending lineRow(const Link::ConsoleLine& line, quint16 agent);
    /// Which lines continue the record before them on their agent's stream.
    struct Records
    {
        RecordLevels levels;
        LogLevel first = LogLevel::Unknown; // the level of the record's first line
        /// Console::Continues when the line continues the record before it.
        quint8 next(const Link::ConsoleLine& line);
    };
    /// The records of an agent's stream as its lines arrive.
    Records& records(quint16 agent, Protocol::Stream stream);
    /// Takes out the rows from absolute on, telling the views, and returns them.
    std::vector<Pending> takeFrom(qint64 absolute);
    qint64 store(Console::Record record, QByteArrayView text);
    void scheduleFlush();
    quint16 intern(QStringList& table, QHash<QString, quint16>& index, const QString& value);
    quint16 internSource(const QByteArray& source);
    void evictFront(qint64 count);
    qint64 countToFree(qint64 skip, qint64 bytes) const;
    const Console::Record* locate(qint64 absolute, const Console::Block** block = nullptr) const;
    void mergeQueued();
    /// True for a line that repeats, number and text, one held before a renumbering.
    bool isResend(quint16 agent, qint64 seq, QByteArrayView text);
    void truncate(qint64 absolute, std::vector<Pending>* removed);

    bool m_merged = false;
    qint64 m_maxLines = 1000000;
    qint64 m_maxBytes = 256 * 1024 * 1024;
    std::deque<std::shared_ptr<Console::Block>> m_blocks;
    std::deque<qint64> m_blockFirst; // absolute index of each block's record 0, parallel to m_blocks
    quint32 m_frontSkip = 0; // records of the first block already evicted
    qint64 m_firstIndex = 0;
    qint64 m_storedCount = 0; // records stored (shown + queued)
    int m_shown = 0; // rows the view knows about
    qint64 m_textBytes = 0;
    quint64 m_appended = 0;
    std::vector<Pending> m_mergeQueue; // merged console: lines waiting to be put in time order
    QStringList m_sources{QString()};
    QHash<QString, quint16> m_sourceIndex;
    QHash<QByteArray, quint16> m_sourceBytesIndex;
    QStringList m_agents{QString()};
    QHash<QString, quint16> m_agentIndex;
    QHash<quint16, qint64> m_lastSeq; // by agent
    QHash<quint32, Records> m_records; // by agent and stream
    struct Resendable
    {
        qint64 until = 0; // the last number the host gave up
        QHash<qint64, size_t> textHashes; // by number, of the lines held with numbers the host gave up
    };
    QHash<quint16, Resendable> m_resendable; // by agent
    QString m_partial[2];
    struct Mark
    {
        QString result;
        MarkState state = MarkPending;
        qint64 index = 0; // absolute index of its row
    };
    QHash<QString, Mark> m_marks;
    QHash<qint64, QString> m_markIds; // absolute index -> mark id
    QHash<qint64, GapInfo> m_gapEnds; // by absolute index of the gap row
    HistoryState m_historyState = HistoryState::Idle;
    QString m_historyError;
    qint64 m_historyAllowance = 0; // rows of history loaded; while any, the bound doubles
    bool m_putBackPending = false; // rowsPutBack is due at the end of the next flush
    int m_putBackNew = 0; // new lines among the rows put back
    QTimer m_flushTimer;
};
