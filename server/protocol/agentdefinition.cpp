// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/protocol/agentdefinition.h"

#include "server/protocol/configreader.h"
#include "server/protocol/json.h"
#include "server/protocol/protocol.h"

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
    return id == o.id && name == o.name && follow == o.follow && command == o.command && args == o.args && cwd == o.cwd
        && env == o.env && autostart == o.autostart && autorestart == o.autorestart && exitcodes == o.exitcodes
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

/// How the process runs: its environment, restarts, exit codes and stop signal.
static void readProcessRules(ConfigReader& r, AgentDefinition* d)
{
    const Json::Value env = r.value("env");
    if (!env.isUndefined() && !env.isNull()) {
        bool valid = env.isObject();
        for (const Json::Value e : env.items()) {
            if (!e.isString() || e.key().isEmpty() || e.key().contains('='))
                valid = false;
            else
                d->env.emplace_back(QString::fromUtf8(e.key()), e.toString());
        }
        if (!valid)
            r.fail("env", QStringLiteral("an object of strings, names without '='"));
    }
    r.readBool("autostart", &d->autostart);
    r.readBool("stopasgroup", &d->stopasgroup);

    const Json::Value restart = r.value("autorestart");
    if (restart.isBool()) {
        d->autorestart = restart.toBool() ? AgentDefinition::Restart::Always : AgentDefinition::Restart::Never;
    } else if (restart.isString() && restart.toUtf8() == "unexpected") {
        d->autorestart = AgentDefinition::Restart::Unexpected;
    } else if (restart.isString() && (restart.toUtf8() == "true" || restart.toUtf8() == "false")) {
        d->autorestart =
            restart.toUtf8() == "true" ? AgentDefinition::Restart::Always : AgentDefinition::Restart::Never;
    } else if (!restart.isUndefined() && !restart.isNull()) {
        r.fail("autorestart", QStringLiteral("false, \"unexpected\" or true"));
    }

    const Json::Value codes = r.value("exitcodes");
    if (!codes.isUndefined() && !codes.isNull()) {
        bool valid = codes.isArray();
        QList<int> list;
        for (const Json::Value c : codes.items()) {
            if (!c.isInteger() || c.toInteger() < 0 || c.toInteger() > 255)
                valid = false;
            else
                list.append(int(c.toInteger()));
        }
        if (valid)
            d->exitcodes = list;
        else
            r.fail("exitcodes", QStringLiteral("an array of integers from 0 to 255"));
    }
    r.readInteger("startsecs", &d->startsecs, 0, 3600);
    r.readInteger("startretries", &d->startretries, -1, 1000000);
    r.readInteger("stopwaitsecs", &d->stopwaitsecs, 0, 3600);

    const Json::Value signal = r.value("stopsignal");
    if (!signal.isUndefined() && !signal.isNull()) {
        const int number = signal.isString() ? parseSignal(signal.toUtf8())
            : signal.isInteger()             ? parseSignal(QByteArray::number(signal.toInteger()))
                                             : 0;
        if (number == 0)
            r.fail("stopsignal", QStringLiteral("a signal name such as \"TERM\" or \"INT\""));
        d->stopsignal = number;
    }
}

bool AgentDefinition::fromJson(Json::Value object, const QString& path, AgentDefinition* definition, QString* error,
                               const char** errorAt)
{
    if (!object.isObject()) {
        if (error)
            *error = QStringLiteral("%1: expected an object").arg(path.isEmpty() ? QStringLiteral("agent") : path);
        if (errorAt)
            *errorAt = object.isUndefined() ? nullptr : object.raw().data();
        return false;
    }
    ConfigProblem problem;
    const auto finish = [&] {
        if (!problem.isSet())
            return true;
        if (error)
            *error = problem.message;
        if (errorAt)
            *errorAt = problem.at;
        return false;
    };

    AgentDefinition d;
    ConfigReader r(object, path, &problem);
    const Json::Value id = r.value("id");
    if (!id.isString() || !Protocol::isValidAgentId(id.toUtf8()))
        r.fail("id", QStringLiteral("a string matching [A-Za-z0-9_.-]{1,64}"));
    d.id = id.toUtf8().toByteArray();
    const Json::Value follow = r.value("follow");
    const Json::Value command = r.value("command");
    if (!follow.isUndefined() && !follow.isNull()) {
        if (!command.isUndefined())
            r.fail("command",
                   QStringLiteral("absent when \"follow\" is given (an agent runs a program or "
                                  "follows a file, not both)"));
        AgentDefinition::Follow f;
        ConfigReader fr(follow, path + QStringLiteral("follow."), &problem);
        if (!follow.isObject())
            r.fail("follow", QStringLiteral("an object with \"path\" and \"format\""));
        fr.readString("path", &f.path);
        if (follow.isObject() && f.path.isEmpty())
            fr.fail("path", QStringLiteral("a non-empty string (the file to follow)"));
        QString format = QString::fromLatin1(f.format);
        fr.readString("format", &format);
        f.format = format.toUtf8();
        if (std::find(FollowFormats.begin(), FollowFormats.end(), f.format) == FollowFormats.end())
            fr.fail("format", QStringLiteral("\"plain\", \"bettafish-app\", \"bettafish-forum\" or \"jsonl\""));
        fr.readInteger("history_lines", &f.historyLines, 0, 1000000);
        if (follow.isObject())
            fr.rejectUnknownKeys();
        d.follow = f;
        d.autostart = true;
    } else {
        if (!command.isString() || command.toUtf8().isEmpty())
            r.fail("command", QStringLiteral("a non-empty string (the program to run), or \"follow\" for a file"));
        d.command = command.toString();
    }
    r.readString("name", &d.name);
    r.readString("cwd", &d.cwd);
    r.readStringList("args", &d.args);

    readProcessRules(r, &d);

    ConfigReader backoff(r.object("backoff"), path + QStringLiteral("backoff."), &problem);
    backoff.readInteger("initial_ms", &d.backoffInitialMs, 0, 3600000);
    backoff.readInteger("max_ms", &d.backoffMaxMs, 0, 86400000);
    backoff.readInteger("reset_after_ms", &d.backoffResetMs, 0, 86400000);
    backoff.readNumber("factor", &d.backoffFactor, 1, 100);
    backoff.rejectUnknownKeys();
    r.rejectUnknownKeys();
    if (!finish())
        return false;
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
    if (follow) {
        w.key("follow").beginObject().key("path").string(follow->path).key("format").string(follow->format);
        w.key("history_lines").integer(follow->historyLines).endObject().endObject();
        return json;
    }
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
