// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArrayView>
#include <QHash>
#include <deque>
#include <vector>

/*
 * One stream of lines that reaches us by two ways at once: a live one (a
 * socket), in order but free to miss lines or stall, and a copy (a file read,
 * or fetched over HTTP), in order and complete but later. take() says whether a
 * line is new (pass it on) or the one the other way already brought.
 *
 * Each way keeps, in order, the lines it brought first that the other has not
 * brought yet. A line the other way holds is a repeat: it is taken off, and so is
 * every line held before it (the other way skipped them). A line it does not
 * hold is new, and waits for the other way. A new line from the live way also
 * means the copy's waiting lines all came before it (the copy would have brought
 * it first otherwise): the live way skipped them, and they wait no more. So the
 * copy's lines wait only while the live way brings nothing: waiting long means
 * the live way stalled. Lines are compared by a 64-bit hash of their text: a
 * BettaFish line carries the time it was read, so equal texts are the same line
 * but for repeats within one second, which both ways bring in the same order.
 */
class LineMerger final
{
public:
    enum Way { Live = 0, Copy = 1 };

    /// The hash lines are compared by.
    static quint64 hashOf(QByteArrayView line);
    /// True: the line is new; false: the other way brought it already.
    bool take(Way way, QByteArrayView line);
    /// The way stopped (a closed or stalled socket): the other way's lines no longer
    /// wait for it.
    void forget(Way way);
    /// Lines brought by way and not yet by the other.
    qsizetype waiting(Way way) const { return qsizetype(m_ahead[way].order.size()); }
    /// How long the oldest line of way brought after broughtAfterMs has waited for the
    /// other, in ms at now; 0 if none.
    qint64 oldestWait(Way way, qint64 nowMs, qint64 broughtAfterMs = 0) const;
    /// The hashes of the lines waiting on way, oldest first, at most limit (the newest).
    std::vector<quint64> waitingHashes(Way way, qsizetype limit) const;
    /// Lines way brought in an earlier run, waiting for the other way again.
    void restoreWaiting(Way way, const std::vector<quint64>& hashes);
    /// At most this many lines wait per way; older ones are let go.
    static constexpr qsizetype MaxWaiting = 200000;

private:
    struct Held
    {
        quint64 hash;
        qint64 since;
    };
    struct Ahead
    {
        std::deque<Held> order;
        QHash<quint64, int> counts;
        void push(quint64 hash, qint64 since);
        void popFront();
        void clear();
    };
    Ahead m_ahead[2];
};
