// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/protocol/loglevel.h"

#include <QList>
#include <QString>
#include <QStringList>
#include <QVariantMap>

/*
 * One alert rule as the user set it up: what it watches (console lines that
 * match a regular expression, crashes, a host offline, a metric over a
 * threshold, an agent that has gone quiet), which agents it covers, and for
 * how long a condition must hold. Rules are saved with the window's session
 * as maps (toMap/fromMap).
 */
struct AlertRule
{
    enum class Kind { Line, Crash, HostOffline, Metric, Silence };

    QString id; // stable, for rate limiting and saved alerts
    QString name;
    Kind kind = Kind::Line;
    bool enabled = true;
    QString pattern; // Line: a PCRE-like regular expression, empty matches every line
    QStringList agents; // agent ids it covers; empty: all
    LogLevel minLevel = LogLevel::Unknown; // Line: lines at this level or above; Unknown: any
    int seconds = 30; // HostOffline, Metric, Silence: how long the condition holds first
    QString metric = QStringLiteral("cpu"); // Metric: "cpu" (percent of a core) or "rss_bytes"
    double threshold = 90; // Metric: cpu percent, or MiB for rss_bytes

    /// Whether the rule looks at an agent (by id); agent rules only.
    bool covers(const QString& agentId) const { return agents.isEmpty() || agents.contains(agentId); }

    QVariantMap toMap() const;
    static AlertRule fromMap(const QVariantMap& map);
    /// The rules of a first start: ERROR and CRITICAL lines of every agent, crashes,
    /// hosts offline for 30 s.
    static QList<AlertRule> defaults();
    /// A new id, unique enough to tell rules apart across restarts.
    static QString newId();

    static QString kindName(Kind kind);
    /// What the rule watches, in a few words ("lines matching “error” (WARNING and above)").
    QString summary() const;

    /// Whether the rule can be used; the reason, and for a pattern the character
    /// position of the error (-1 when none), when not.
    bool validate(QString* error = nullptr, int* errorOffset = nullptr) const;
};

/// Rules to and from what QSettings keeps.
namespace AlertRules {
QVariantList toVariant(const QList<AlertRule>& rules);
QList<AlertRule> fromVariant(const QVariantList& list);
} // namespace AlertRules
