// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/protocol/json.h"

#include <QByteArray>
#include <QHash>
#include <functional>
#include <map>
#include <memory>
#include <vector>

class AgentRegistry;
class Connection;
class Redactor;
class ViewerFeed;
struct Agent;
struct HostConfig;

/// One agent a command goes to.
struct CommandTarget
{
    QByteArray agentId;
    QByteArray hostCommandId;
    bool done = false;
    bool builtin = false; // handled by the launcher, not by the agent's connection
};

/// A viewer's command, until every agent it went to has answered or the time is up.
struct PendingCommand
{
    Connection* viewer = nullptr;
    QByteArray id; // the viewer's id as written, so "1" and 1 are different ids
    qint64 deadlineMs = 0;
    std::vector<CommandTarget> targets;
    int remaining = 0;
};

/*
 * Commands from viewers to agents, and their results back: each command gets
 * one result per agent it went to, from the agent, from the launcher (built-in
 * commands of launched agents), or from the host (offline, timed out,
 * disconnected). Answers to questions close the question for every viewer.
 */
class CommandRouter final
{
    Q_DISABLE_COPY_MOVE(CommandRouter)

public:
    /// The launcher's side of built-in commands (start, stop, restart, kill, signal, stdin).
    class Builtins
    {
    public:
        virtual ~Builtins() = default;
        using Done = std::function<void(bool ok, const QByteArray& text, QByteArrayView error)>;
        /// Runs a built-in command on a launched agent; done may be called later, or never
        /// (the command then times out).
        virtual void run(Agent& agent, QByteArrayView name, Json::Value args, Done done) = 0;
    };

    /// redactor: what an agent's result text passes before the viewer gets it.
    CommandRouter(const HostConfig& config, AgentRegistry& registry, ViewerFeed& feed, Builtins& builtins,
                  const Redactor& redactor);
    ~CommandRouter();

    static bool isBuiltin(QByteArrayView name);

    /// A viewer's `command`.
    void command(Connection* viewer, Json::Value root);
    /// An agent's `result`.
    void result(Connection* agentConnection, Json::Value root);
    /// Fails the commands waiting for the agent's connection (and, with builtins, those
    /// waiting for its launcher).
    void failCommandsOf(const Agent& agent, QByteArrayView error, QByteArrayView text, bool builtins = false);
    /// The viewer is gone: its commands are dropped, late results find nothing.
    void forgetViewer(Connection* viewer);
    /// Results for the commands whose agents did not answer in time.
    void expire(qint64 now);
    void clear();

private:
    void dispatch(PendingCommand* command, size_t target, Agent& agent, QByteArrayView name, Json::Value args,
                  const QByteArray& argsJson);
    bool closeAsk(PendingCommand* command, size_t target, Agent& agent, Json::Value args);
    void runBuiltin(PendingCommand* command, size_t target, Agent& agent, QByteArrayView name, Json::Value args);
    void finishTarget(PendingCommand* command, size_t target, const QByteArray& result);
    void fail(PendingCommand* command, size_t target, QByteArrayView text, QByteArrayView error);
    QByteArray resultFor(const PendingCommand& command, size_t target, bool ok, QByteArrayView text,
                         QByteArrayView error, QByteArrayView extraRaw = {}) const;
    QByteArray newHostCommandId(PendingCommand* command, size_t target);
    void drop(PendingCommand* command);

    const HostConfig& m_config;
    AgentRegistry& m_registry;
    ViewerFeed& m_feed;
    Builtins& m_builtins;
    const Redactor& m_redactor;
    std::map<quint64, std::unique_ptr<PendingCommand>> m_commands;
    QHash<QByteArray, std::pair<PendingCommand*, size_t>> m_byHostId;
    quint64 m_nextSerial = 1;
};
