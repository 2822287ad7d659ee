// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/protocol/loglevel.h"

#include <QAbstractTableModel>
#include <deque>

/*
 * The alerts raised so far, newest first: when, which rule, where (host and
 * agent), the line or what happened, and how often it repeated within the
 * rate limit's window. Acknowledged alerts stay listed, greyed, and no longer
 * count toward an agent's badge. At most MaxRows are kept.
 */
class AlertModel final : public QAbstractTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AlertModel)

public:
    enum Column { TimeColumn, RuleColumn, WhereColumn, TextColumn, CountColumn, ColumnCount };
    enum Role {
        IdRole = Qt::UserRole,
        RuleIdRole,
        HostKeyRole,
        AgentIdRole,
        SeqRole, // qint64, the console line's number; 0 when the alert is not about a line
        CountRole,
        AcknowledgedRole,
        TextRole,
        FirstTimeRole, // qint64 ms since the epoch
        LastTimeRole,
    };

    struct Alert
    {
        quint64 id = 0;
        QString ruleId;
        QString ruleName;
        QString hostKey;
        QString agentId; // empty for a host's alert
        QString where; // as the window names the agent or host
        QString text;
        qint64 seq = 0;
        LogLevel level = LogLevel::Unknown;
        qint64 firstTs = 0;
        qint64 lastTs = 0;
        int count = 1;
        bool acknowledged = false;
    };

    static constexpr int MaxRows = 1000;

    explicit AlertModel(QObject* parent = nullptr);
    ~AlertModel() override;

    /// Adds an alert at the top and returns its id (alert.id is ignored).
    quint64 add(Alert alert);
    /// The alert happened once more at ts (ms since the epoch); false when it is gone.
    /// It happened again at ts; text, when not empty, is what it is now (a crash that became FATAL).
    bool repeat(quint64 id, qint64 ts, const QString& text = {});
    const Alert* alert(quint64 id) const;
    int rowOf(quint64 id) const;
    void acknowledge(int row);
    void acknowledgeAll();
    /// Alerts not acknowledged, of an agent (or of a host itself, agentId empty).
    int unacknowledged(const QString& hostKey, const QString& agentId) const;
    int unacknowledged() const;

    /// "37 times in 10 s"; empty for one.
    static QString countText(int count, qint64 spanMs);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

Q_SIGNALS:
    /// Some alert was raised or acknowledged: badges change.
    void unacknowledgedChanged();

private:
    std::deque<Alert> m_alerts; // newest first
    quint64 m_nextId = 1;
};
