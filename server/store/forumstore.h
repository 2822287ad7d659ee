// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/store/logstore.h"

#include <QByteArray>
#include <deque>

/// The retained forum messages of one agent, each kept as its serialized JSON object.
class ForumStore final
{
public:
    struct Message
    {
        qint64 seq;
        QByteArray json;
    };

    void setLimits(qint64 maxMessages, qint64 maxBytes, qsizetype maxGaps = 10000);
    qint64 lastSeq() const { return m_lastSeq; }
    qint64 firstHeldSeq() const;
    void append(qint64 seq, const QByteArray& json);
    void addGap(qint64 from, qint64 to, Protocol::GapReason reason);

    qsizetype size() const { return qsizetype(m_messages.size()); }
    qsizetype indexOfSeq(qint64 seq) const;
    const Message& at(qsizetype index) const { return m_messages[size_t(index)]; }
    const GapList& gaps() const { return m_gaps; }

private:
    void evictWhileOverLimits();

    std::deque<Message> m_messages;
    GapList m_gaps;
    qint64 m_lastSeq = 0;
    qint64 m_bytes = 0;
    qint64 m_maxMessages = 10000;
    qint64 m_maxBytes = 64ll * 1024 * 1024;
};
