// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/alertrule.h"

#include <QCoreApplication>
#include <QRegularExpression>
#include <QUuid>

namespace {

struct KindName
{
    AlertRule::Kind kind;
    const char* key; // as saved
};

constexpr KindName KindNames[] = {
    {AlertRule::Kind::Line, "line"},           {AlertRule::Kind::Crash, "crash"},
    {AlertRule::Kind::HostOffline, "offline"}, {AlertRule::Kind::Metric, "metric"},
    {AlertRule::Kind::Silence, "silence"},
};

QString tr(const char* text)
{
    return QCoreApplication::translate("AlertRule", text);
}

QString levelName(LogLevel level)
{
    return QString::fromLatin1(logLevelName(level));
}

} // namespace

QVariantMap AlertRule::toMap() const
{
    QString kindKey;
    for (const KindName& entry : KindNames) {
        if (entry.kind == kind)
            kindKey = QLatin1String(entry.key);
    }
    return {{QStringLiteral("id"), id},
            {QStringLiteral("name"), name},
            {QStringLiteral("kind"), kindKey},
            {QStringLiteral("enabled"), enabled},
            {QStringLiteral("pattern"), pattern},
            {QStringLiteral("agents"), agents},
            {QStringLiteral("level"), levelName(minLevel)},
            {QStringLiteral("seconds"), seconds},
            {QStringLiteral("metric"), metric},
            {QStringLiteral("threshold"), threshold}};
}

AlertRule AlertRule::fromMap(const QVariantMap& map)
{
    AlertRule rule;
    rule.id = map.value(QStringLiteral("id")).toString();
    if (rule.id.isEmpty())
        rule.id = newId();
    rule.name = map.value(QStringLiteral("name")).toString();
    const QString kindKey = map.value(QStringLiteral("kind")).toString();
    for (const KindName& entry : KindNames) {
        if (kindKey == QLatin1String(entry.key))
            rule.kind = entry.kind;
    }
    rule.enabled = map.value(QStringLiteral("enabled"), true).toBool();
    rule.pattern = map.value(QStringLiteral("pattern")).toString();
    rule.agents = map.value(QStringLiteral("agents")).toStringList();
    rule.minLevel = parseLogLevel(map.value(QStringLiteral("level")).toString().toLatin1());
    rule.seconds = std::max(1, map.value(QStringLiteral("seconds"), 30).toInt());
    rule.metric = map.value(QStringLiteral("metric"), QStringLiteral("cpu")).toString();
    rule.threshold = map.value(QStringLiteral("threshold"), 90.0).toDouble();
    return rule;
}

QList<AlertRule> AlertRule::defaults()
{
    AlertRule errors;
    errors.id = QStringLiteral("default-errors");
    errors.name = tr("Errors");
    errors.kind = Kind::Line;
    errors.minLevel = LogLevel::Error;
    AlertRule crashes;
    crashes.id = QStringLiteral("default-crashes");
    crashes.name = tr("Crashes");
    crashes.kind = Kind::Crash;
    AlertRule offline;
    offline.id = QStringLiteral("default-offline");
    offline.name = tr("Host offline");
    offline.kind = Kind::HostOffline;
    offline.seconds = 30;
    return {errors, crashes, offline};
}

QString AlertRule::newId()
{
    return QUuid::createUuid().toString(QUuid::WithoutBraces).left(8);
}

QString AlertRule::kindName(Kind kind)
{
    switch (kind) {
    case Kind::Line:
        return tr("Console line");
    case Kind::Crash:
        return tr("Agent crashed");
    case Kind::HostOffline:
        return tr("Host offline");
    case Kind::Metric:
        return tr("CPU or memory high");
    case Kind::Silence:
        return tr("No line for a while");
    }
    return {};
}

QString AlertRule::summary() const
{
    const QString who = agents.isEmpty() ? tr("all agents") : agents.join(QStringLiteral(", "));
    switch (kind) {
    case Kind::Line: {
        QString text = pattern.isEmpty() ? tr("every line") : tr("lines matching “%1”").arg(pattern);
        if (minLevel != LogLevel::Unknown)
            text += tr(" at %1 and above").arg(levelName(minLevel));
        return text + QStringLiteral(" · ") + who;
    }
    case Kind::Crash:
        return tr("crashed, FATAL or exited unexpectedly · %1").arg(who);
    case Kind::HostOffline:
        return tr("offline for %1 s").arg(seconds);
    case Kind::Metric:
        return (metric == QLatin1String("rss_bytes") ? tr("memory over %1 MiB for %2 s") : tr("CPU over %1 % for %2 s"))
                   .arg(threshold)
                   .arg(seconds)
            + QStringLiteral(" · ") + who;
    case Kind::Silence:
        return tr("no line for %1 s · %2").arg(seconds).arg(who);
    }
    return {};
}

bool AlertRule::validate(QString* error, int* errorOffset) const
{
    if (errorOffset)
        *errorOffset = -1;
    const auto fail = [error](const QString& reason) {
        if (error)
            *error = reason;
        return false;
    };
    if (name.trimmed().isEmpty())
        return fail(tr("The rule needs a name."));
    if (kind == Kind::Line) {
        const QRegularExpression expression(pattern);
        if (!expression.isValid()) {
            if (errorOffset)
                *errorOffset = int(expression.patternErrorOffset());
            return fail(tr("%1 at character %2").arg(expression.errorString()).arg(expression.patternErrorOffset()));
        }
    }
    if ((kind == Kind::HostOffline || kind == Kind::Metric || kind == Kind::Silence) && seconds < 1)
        return fail(tr("The time must be at least 1 s."));
    if (kind == Kind::Metric && threshold <= 0)
        return fail(tr("The threshold must be above 0."));
    if (error)
        error->clear();
    return true;
}

QVariantList AlertRules::toVariant(const QList<AlertRule>& rules)
{
    QVariantList list;
    for (const AlertRule& rule : rules)
        list.append(rule.toMap());
    return list;
}

QList<AlertRule> AlertRules::fromVariant(const QVariantList& list)
{
    QList<AlertRule> rules;
    for (const QVariant& value : list)
        rules.append(AlertRule::fromMap(value.toMap()));
    return rules;
}
