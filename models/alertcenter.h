// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "models/alertrule.h"
#include "server/link/linkevent.h"

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QSet>
#include <QThread>
#include <QTimer>
#include <memory>
#include <vector>

class AlertModel;
class Fleet;
class Mailbox;

/*
 * Watches the fleet for what the alert rules describe and raises alerts in
 * its AlertModel. Console lines are matched off this thread: they are handed
 * to a matcher thread in batches, and the rules they match come back by the
 * same way. Crashes, hosts offline, metrics over a threshold and silent agents
 * are followed here, from the fleet's events and a tick. A rule raises one
 * alert per agent for a run of occurrences: what happens again within the rate
 * window (60 s) of the one before counts toward the alert already shown instead
 * of making a new one (and a new notification), until it is acknowledged.
 */
class AlertCenter final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AlertCenter)

public:
    /// Watches the fleet, which must outlive the center.
    explicit AlertCenter(Fleet* fleet, QObject* parent = nullptr);
    ~AlertCenter() override;

    void setRules(const QList<AlertRule>& rules);
    const QList<AlertRule>& rules() const { return m_rules; }
    AlertModel* alerts() const { return m_alerts.get(); }

    /// Lines taken in whose rules have not been matched yet (waiting for a batch, or in the matcher).
    int linesInFlight() const { return m_inFlight + m_batchLines; }

    /// How long after an occurrence a repeat still counts toward its alert instead of raising a new one.
    void setRateWindowMs(qint64 ms) { m_rateWindowMs = ms; }
    qint64 rateWindowMs() const { return m_rateWindowMs; }
    /// Lines handed over at once at most; more wait for the next turn of the loop.
    static constexpr int BatchLines = 4096;

Q_SIGNALS:
    /// A new alert (a new row, not a repeat): a notification is due.
    void alertRaised(quint64 alertId);
    void rulesChanged();

private:
    /// One event's lines, shared with the models (no copy of a line is made to hand them over).
    struct Chunk
    {
        QString hostKey;
        QString agentId;
        QList<Link::ConsoleLine> lines;
    };
    struct Hit
    {
        QString ruleId;
        QString hostKey;
        QString agentId;
        qint64 seq = 0;
        LogLevel level = LogLevel::Unknown;
        QByteArray text;
        bool fromLauncher = false; // the host's own line about the agent's process (source "agentdeck")
    };
    struct Scanner;
    struct Open
    {
        quint64 alertId = 0;
        qint64 last = 0; // m_clock ms of its latest occurrence
    };

    void onEvent(const QString& hostKey, const Link::Event& event);
    void onHostStatusChanged(const QString& hostKey);
    void checkAgentState(const QString& hostKey, const QString& agentId, const QString& state,
                         const QString& processState, int exitCode, const QString& exitSignal,
                         const QString& statusText);
    void onMetrics(const QString& hostKey, const Link::Event& event);
    void onTick();
    void flushLines();
    void onHits(const std::vector<Hit>& hits, int lines);
    /// Raises an alert for rule, or counts one more toward its open alert for that agent.
    /// worse: what happened is worse than the open alert says (its text is replaced, and it is told again).
    void raise(const AlertRule& rule, const QString& hostKey, const QString& agentId, const QString& text,
               qint64 seq = 0, LogLevel level = LogLevel::Unknown, bool worse = false);
    const AlertRule* rule(const QString& id) const;
    bool coveredByCrashRule(const QString& agentId) const;
    QString where(const QString& hostKey, const QString& agentId) const;
    /// Whether an agent is expected to write (not stopped, crashed or offline).
    bool isRunning(const QString& hostKey, const QString& agentId) const;

    Fleet* m_fleet;
    std::unique_ptr<AlertModel> m_alerts;
    QList<AlertRule> m_rules;
    qint64 m_rateWindowMs = 60000;
    bool m_matchLines = false; // some enabled rule looks at lines
    QElapsedTimer m_clock;
    QTimer m_tick;

    QThread m_thread;
    Mailbox* m_toMatcher = nullptr; // lives on m_thread
    Mailbox* m_fromMatcher = nullptr; // lives here
    std::unique_ptr<Scanner> m_scanner; // used on m_thread only
    std::vector<Chunk> m_batch;
    int m_batchLines = 0;
    bool m_flushQueued = false;
    int m_inFlight = 0;

    QHash<QString, Open> m_open; // by rule id, host key and agent id
    QSet<QString> m_crashed; // agents (host key and id) in a crashed state
    QHash<QString, qint64> m_lastSeq; // of each agent's newest line
    QHash<QString, qint64> m_lastLineAt; // m_clock ms of each agent's newest line
    QHash<QString, qint64> m_offlineSince; // hosts, m_clock ms
    QHash<QString, qint64> m_overSince; // metric rules, by rule id, host key and agent id
    QSet<QString> m_fired; // conditions that have raised their alert and hold still
};
