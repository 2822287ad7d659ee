// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/store/forumstore.h"

#include <algorithm>

void ForumStore::setLimits(qint64 maxMessages, qint64 maxBytes, qsizetype maxGaps)
{
    m_maxMessages = std::max<qint64>(1, maxMessages);
    m_maxBytes = std::max<qint64>(1, maxBytes);
    m_gaps.setLimit(maxGaps);
    evictWhileOverLimits();
}

void ForumStore::evictWhileOverLimits()
{
    auto evictOldest = [this] {
        const qint64 evicted = m_messages.front().seq;
        m_bytes -= m_messages.front().json.size();
        m_messages.pop_front();
        m_gaps.dropBefore(evicted);
    };
    while (m_messages.size() > 1 && (qint64(m_messages.size()) > m_maxMessages || m_bytes > m_maxBytes))
        evictOldest();
    while (m_gaps.isOverLimit()) {
        const qint64 end = m_gaps.front().to;
        while (!m_messages.empty() && m_messages.front().seq < end)
            evictOldest();
        if (m_gaps.isOverLimit())
            m_gaps.popFront();
    }
}

qint64 ForumStore::firstHeldSeq() const
{
    return m_gaps.firstHeld(m_messages.empty() ? m_lastSeq + 1 : m_messages.front().seq);
}

void ForumStore::append(qint64 seq, const QByteArray& json)
{
    Q_ASSERT(seq > m_lastSeq);
    m_messages.push_back({seq, json});
    m_bytes += json.size();
    m_lastSeq = seq;
    evictWhileOverLimits();
}

void ForumStore::addGap(qint64 from, qint64 to, Protocol::GapReason reason)
{
    m_gaps.add(from, to, reason);
    m_lastSeq = to;
    evictWhileOverLimits();
}

qsizetype ForumStore::indexOfSeq(qint64 seq) const
{
    auto it = std::lower_bound(m_messages.begin(), m_messages.end(), seq,
                               [](const Message& m, qint64 s) { return m.seq < s; });
    return qsizetype(it - m_messages.begin());
}
