// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>
#include <array>
#include <optional>
#include <utility>
#include <vector>

namespace Json {
class Value;
}

/*
 * How the host launches and supervises one local agent. The keys follow
 * Supervisor and PM2 (README.md, "Local agents"): command, args, cwd, env,
 * autostart, autorestart, exitcodes, startsecs, startretries, backoff,
 * stopsignal, stopwaitsecs, stopasgroup. An agent with `follow` instead of
 * `command` is a log file the host reads (docs/configuration.md).
 */
struct AgentDefinition
{
    enum class Restart { Never, Unexpected, Always };

    /// An agent that is a file some bot writes: its lines become the console.
    struct Follow
    {
        QString path;
        QByteArray format = "plain"; // plain, bettafish-app, bettafish-forum, jsonl
        int historyLines = 1000; // of the file as it is on the first start, as history
        bool operator==(const Follow& other) const
        {
            return path == other.path && format == other.format && historyLines == other.historyLines;
        }
    };
    static constexpr std::array<const char*, 4> FollowFormats = {"plain", "bettafish-app", "bettafish-forum", "jsonl"};

    QByteArray id;
    QString name; // defaults to the id
    /// Set for a followed file; the process keys below then do not apply.
    std::optional<Follow> follow;
    QString command;
    QStringList args;
    QString cwd; // empty: the host's working directory
    std::vector<std::pair<QString, QString>> env; // added to the host's environment, in order
    bool autostart = true;
    Restart autorestart = Restart::Unexpected;
    QList<int> exitcodes = {0};
    /// Seconds a process must stay up to count as started (RUNNING).
    int startsecs = 1;
    /// Failed starts in a row before FATAL; -1 means no limit.
    int startretries = 3;
    int backoffInitialMs = 1000;
    double backoffFactor = 1.5;
    int backoffMaxMs = 30000;
    /// A run that lasts this long resets the backoff delay and the failed-start count.
    int backoffResetMs = 30000;
    int stopsignal = 15; // SIGTERM
    int stopwaitsecs = 10;
    /// Send stopsignal to the whole process group, not only to the process.
    bool stopasgroup = true;
    /// Kept in the configuration file when agents are saved; off for agents that run
    /// for this session only (the desktop's demo).
    bool saved = true;

    bool operator==(const AgentDefinition& other) const;
    bool operator!=(const AgentDefinition& other) const { return !(*this == other); }

    /// Whether code counts as an expected exit.
    bool isExpectedExit(int code) const { return exitcodes.contains(code); }
    /// The delay before the given failed start (1 for the first), after the factor and the cap.
    int backoffDelayMs(int attempt) const;

    /// Reads a definition from a JSON object. On failure returns false with an error
    /// naming the key, prefixed by path (e.g. "agents[2]."), and *errorAt (when given)
    /// pointing at the culprit in the parsed text. Unknown keys are errors.
    static bool fromJson(Json::Value object, const QString& path, AgentDefinition* definition, QString* error,
                         const char** errorAt = nullptr);
    /// The definition as a JSON object, with every key (the form saved to the configuration).
    QByteArray toJson() const;
};

/// A signal by name ("SIGTERM", "TERM", "term") or number ("15"); 0 when unknown.
int parseSignal(QByteArrayView name);
/// "SIGTERM" for 15; the number for signals without a name here.
QByteArray signalName(int signal);
