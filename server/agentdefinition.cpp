// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/agentdefinition.h"

#include "server/json.h"
#include "server/protocol.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <csignal>

namespace {

struct SignalEntry
{
    int number;
    const char* name; // without "SIG"
};

constexpr std::array<SignalEntry, 13> Signals = {{
    {SIGHUP, "HUP"},
    {SIGINT, "INT"},
    {SIGQUIT, "QUIT"},
    {SIGABRT, "ABRT"},
    {SIGKILL, "KILL"},
    {SIGUSR1, "USR1"},
    {SIGSEGV, "SEGV"},
    {SIGUSR2, "USR2"},
    {SIGPIPE, "PIPE"},
    {SIGALRM, "ALRM"},
    {SIGTERM, "TERM"},
    {SIGCONT, "CONT"},
    {SIGWINCH, "WINCH"},
}};

constexpr std::array<const char*, 15> Keys = {
    "id",        "name",      "command",      "args",    "cwd",        "env",          "autostart",   "autorestart",
    "exitcodes", "startsecs", "startretries", "backoff", "stopsignal", "stopwaitsecs", "stopasgroup",
};

bool fail(QString* error, const QString& path, const char* key, const QString& expected)
{
    if (error)
        *error = QStringLiteral("%1%2: expected %3").arg(path, QLatin1String(key), expected);
    return false;
}

/// Reads an optional integer member within [minimum, maximum].
bool readInt(Json::Value object, const char* key, int minimum, int maximum, int* target, const QString& path,
             QString* error)
{
    const Json::Value v = object[key];
    if (v.isUndefined() || v.isNull())
        return true;
    if (!v.isInteger() || v.toInteger() < minimum || v.toInteger() > maximum)
        return fail(error, path, key, QStringLiteral("an integer from %1 to %2").arg(minimum).arg(maximum));
    *target = int(v.toInteger());
    return true;
}

bool readBool(Json::Value object, const char* key, bool* target, const QString& path, QString* error)
{
    const Json::Value v = object[key];
    if (v.isUndefined() || v.isNull())
        return true;
    if (!v.isBool())
        return fail(error, path, key, QStringLiteral("true or false"));
    *target = v.toBool();
    return true;
}

bool readString(Json::Value object, const char* key, QString* target, const QString& path, QString* error)
{
    const Json::Value v = object[key];
    if (v.isUndefined() || v.isNull())
        return true;
    if (!v.isString())
        return fail(error, path, key, QStringLiteral("a string"));
    *target = v.toString();
    return true;
}

} // namespace

int parseSignal(QByteArrayView name)
{
    bool isNumber = !name.isEmpty();
    for (char c : name)
        isNumber = isNumber && c >= '0' && c <= '9';
    if (isNumber) {
        const int n = name.size() <= 2 ? name.toByteArray().toInt() : 0;
        return n > 0 && n < 65 ? n : 0;
    }
    QByteArray upper = name.toByteArray().toUpper();
    if (upper.startsWith("SIG"))
        upper.remove(0, 3);
    for (const SignalEntry& entry : Signals) {
        if (upper == entry.name)
            return entry.number;
    }
    return 0;
}

QByteArray signalName(int signal)
{
    for (const SignalEntry& entry : Signals) {
        if (entry.number == signal)
            return QByteArray("SIG") + entry.name;
    }
    return QByteArray::number(signal);
}

bool AgentDefinition::operator==(const AgentDefinition& o) const
{
    return id == o.id && name == o.name && command == o.command && args == o.args && cwd == o.cwd && env == o.env
        && autostart == o.autostart && autorestart == o.autorestart && exitcodes == o.exitcodes
        && startsecs == o.startsecs && startretries == o.startretries && backoffInitialMs == o.backoffInitialMs
        && backoffFactor == o.backoffFactor && backoffMaxMs == o.backoffMaxMs && backoffResetMs == o.backoffResetMs
        && stopsignal == o.stopsignal && stopwaitsecs == o.stopwaitsecs && stopasgroup == o.stopasgroup;
}

int AgentDefinition::backoffDelayMs(int attempt) const
{
    // Never a tight respawn loop, whatever the configuration says.
    constexpr int MinimumMs = 100;
    const double delay = backoffInitialMs * std::pow(backoffFactor, std::max(0, attempt - 1));
    return std::max(MinimumMs, int(std::min<double>(delay, backoffMaxMs)));
}

bool AgentDefinition::fromJson(Json::Value object, const QString& path, AgentDefinition* definition, QString* error)
{
    if (!object.isObject()) {
        if (error)
            *error = QStringLiteral("%1: expected an object").arg(path.isEmpty() ? QStringLiteral("agent") : path);
        return false;
    }
    for (const Json::Value member : object.items()) {
        if (std::find_if(Keys.begin(), Keys.end(), [&](const char* k) { return member.key() == k; }) == Keys.end()) {
            if (error) {
                *error = QStringLiteral("%1%2: unknown key (known: %3)")
                             .arg(path, QString::fromUtf8(member.key()),
                                  QStringLiteral("id, name, command, args, cwd, env, autostart, autorestart, "
                                                 "exitcodes, startsecs, startretries, backoff, stopsignal, "
                                                 "stopwaitsecs, stopasgroup"));
            }
            return false;
        }
    }

    AgentDefinition d;
    const Json::Value id = object["id"];
    if (!id.isString() || !Protocol::isValidAgentId(id.toUtf8()))
        return fail(error, path, "id", QStringLiteral("a string matching [A-Za-z0-9_.-]{1,64}"));
    d.id = id.toUtf8().toByteArray();
    const Json::Value command = object["command"];
    if (!command.isString() || command.toUtf8().isEmpty())
        return fail(error, path, "command", QStringLiteral("a non-empty string (the program to run)"));
    d.command = command.toString();
    if (!readString(object, "name", &d.name, path, error) || !readString(object, "cwd", &d.cwd, path, error))
        return false;

    const Json::Value args = object["args"];
    if (!args.isUndefined() && !args.isNull()) {
        if (!args.isArray())
            return fail(error, path, "args", QStringLiteral("an array of strings"));
        for (const Json::Value a : args.items()) {
            if (!a.isString())
                return fail(error, path, "args", QStringLiteral("an array of strings"));
            d.args.append(a.toString());
        }
    }
    const Json::Value env = object["env"];
    if (!env.isUndefined() && !env.isNull()) {
        if (!env.isObject())
            return fail(error, path, "env", QStringLiteral("an object of strings"));
        for (const Json::Value e : env.items()) {
            if (!e.isString() || e.key().isEmpty() || e.key().contains('='))
                return fail(error, path, "env", QStringLiteral("an object of strings, names without '='"));
            d.env.emplace_back(QString::fromUtf8(e.key()), e.toString());
        }
    }
    if (!readBool(object, "autostart", &d.autostart, path, error)
        || !readBool(object, "stopasgroup", &d.stopasgroup, path, error))
        return false;

    const Json::Value restart = object["autorestart"];
    if (restart.isBool()) {
        d.autorestart = restart.toBool() ? Restart::Always : Restart::Never;
    } else if (restart.isString() && restart.toUtf8() == "unexpected") {
        d.autorestart = Restart::Unexpected;
    } else if (restart.isString() && (restart.toUtf8() == "true" || restart.toUtf8() == "false")) {
        d.autorestart = restart.toUtf8() == "true" ? Restart::Always : Restart::Never;
    } else if (!restart.isUndefined() && !restart.isNull()) {
        return fail(error, path, "autorestart", QStringLiteral("false, \"unexpected\" or true"));
    }

    const Json::Value codes = object["exitcodes"];
    if (!codes.isUndefined() && !codes.isNull()) {
        if (!codes.isArray())
            return fail(error, path, "exitcodes", QStringLiteral("an array of integers from 0 to 255"));
        d.exitcodes.clear();
        for (const Json::Value c : codes.items()) {
            if (!c.isInteger() || c.toInteger() < 0 || c.toInteger() > 255)
                return fail(error, path, "exitcodes", QStringLiteral("an array of integers from 0 to 255"));
            d.exitcodes.append(int(c.toInteger()));
        }
    }
    if (!readInt(object, "startsecs", 0, 3600, &d.startsecs, path, error)
        || !readInt(object, "startretries", -1, 1000000, &d.startretries, path, error)
        || !readInt(object, "stopwaitsecs", 0, 3600, &d.stopwaitsecs, path, error))
        return false;

    const Json::Value signal = object["stopsignal"];
    if (!signal.isUndefined() && !signal.isNull()) {
        const int number = signal.isString() ? parseSignal(signal.toUtf8())
            : signal.isInteger()             ? parseSignal(QByteArray::number(signal.toInteger()))
                                             : 0;
        if (number == 0)
            return fail(error, path, "stopsignal", QStringLiteral("a signal name such as \"TERM\" or \"INT\""));
        d.stopsignal = number;
    }

    const Json::Value backoff = object["backoff"];
    if (!backoff.isUndefined() && !backoff.isNull()) {
        const QString inner = path + QStringLiteral("backoff.");
        if (!backoff.isObject())
            return fail(error, path, "backoff", QStringLiteral("an object"));
        if (!readInt(backoff, "initial_ms", 0, 3600000, &d.backoffInitialMs, inner, error)
            || !readInt(backoff, "max_ms", 0, 86400000, &d.backoffMaxMs, inner, error)
            || !readInt(backoff, "reset_after_ms", 0, 86400000, &d.backoffResetMs, inner, error))
            return false;
        const Json::Value factor = backoff["factor"];
        if (!factor.isUndefined() && !factor.isNull()) {
            if (!factor.isNumber() || factor.toDouble() < 1 || factor.toDouble() > 100)
                return fail(error, inner, "factor", QStringLiteral("a number from 1 to 100"));
            d.backoffFactor = factor.toDouble();
        }
    }
    *definition = d;
    return true;
}

QByteArray AgentDefinition::toJson() const
{
    QByteArray json;
    Json::Writer w(&json);
    w.beginObject().key("id").string(id);
    if (!name.isEmpty())
        w.key("name").string(name);
    w.key("command").string(command).key("args").beginArray();
    for (const QString& a : args)
        w.string(a);
    w.endArray();
    if (!cwd.isEmpty())
        w.key("cwd").string(cwd);
    w.key("env").beginObject();
    for (const auto& [key, value] : env)
        w.key(key.toUtf8()).string(value);
    w.endObject();
    w.key("autostart").boolean(autostart).key("autorestart");
    if (autorestart == Restart::Unexpected)
        w.string("unexpected");
    else
        w.boolean(autorestart == Restart::Always);
    w.key("exitcodes").beginArray();
    for (int c : exitcodes)
        w.integer(c);
    w.endArray();
    w.key("startsecs").integer(startsecs).key("startretries").integer(startretries);
    w.key("backoff").beginObject().key("initial_ms").integer(backoffInitialMs).key("factor").number(backoffFactor);
    w.key("max_ms").integer(backoffMaxMs).key("reset_after_ms").integer(backoffResetMs).endObject();
    QByteArray signal = signalName(stopsignal);
    if (signal.startsWith("SIG"))
        signal.remove(0, 3);
    w.key("stopsignal").string(signal);
    w.key("stopwaitsecs").integer(stopwaitsecs).key("stopasgroup").boolean(stopasgroup);
    w.endObject();
    return json;
}
