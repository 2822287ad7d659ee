// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QList>
#include <QString>
#include <memory>
#include <vector>

/*
 * Who may do what on a host (docs/security.md): every token stands for an
 * Access — a role and the agents it covers — and a connection keeps the Access
 * of the token it presented for as long as it lives.
 */

/// Agent id patterns ("bf-*", "query", "worker-?"): '*' stands for any run of
/// characters, '?' for one. An empty list covers every agent.
class AgentScope final
{
public:
    /// Reads patterns of [A-Za-z0-9_.-*?]{1,64}; false with the culprit in *error otherwise.
    static bool parse(const QList<QByteArray>& patterns, AgentScope* scope, QString* error);
    static AgentScope exactly(const QByteArray& id);

    bool coversAll() const { return m_patterns.isEmpty(); }
    bool covers(QByteArrayView id) const;
    /// The patterns as a JSON array; ["*"] when it covers every agent.
    QByteArray json() const;

private:
    QList<QByteArray> m_patterns;
};

/// What a token lets its holder do.
struct Access
{
    enum class Role {
        Viewer, // reads what its scope covers
        Operator, // and sends commands, answers questions
        Admin, // and defines and removes agents (when the host allows editing)
        Agent, // speaks as an agent of its scope
        Any, // the single `token` of a configuration: admin and shared agent at once
    };

    QString name; // as configured, for messages and logs
    Role role = Role::Viewer;
    /// An agent token not bound to its ids: it may claim any id of its scope, but
    /// never take one over from a connection made with a bound token.
    bool shared = false;
    AgentScope agents;

    bool mayView() const { return role != Role::Agent; }
    bool mayCommand() const { return role == Role::Operator || role == Role::Admin || role == Role::Any; }
    bool mayEditAgents() const { return role == Role::Admin || role == Role::Any; }
    bool mayBeAgent() const { return role == Role::Agent || role == Role::Any; }
    /// Bound to the agent ids of its scope, rather than shared among agents.
    bool bound() const { return mayBeAgent() && !shared; }

    static const char* roleName(Role role);
    /// "viewer", "operator", "admin" or "agent"; false for anything else.
    static bool parseRole(QByteArrayView name, Role* role);
    /// The access a viewer is told of in its welcome.
    QByteArray viewerJson(bool hostAllowsEditing) const;
    /// Everything, for the desktop's own viewer in its own process.
    static std::shared_ptr<const Access> local();
};

using AccessPtr = std::shared_ptr<const Access>;

/*
 * The secrets a host accepts, each with its Access. Looking a token up compares
 * it with every secret, all the way, so the time taken tells nothing about which
 * one it resembles or whether it was found.
 */
class TokenTable final
{
public:
    /// False (and nothing added) when the secret is empty or another entry has it.
    bool add(const QByteArray& secret, AccessPtr access);
    /// Revokes the entry holding this access.
    void remove(const AccessPtr& access);
    AccessPtr find(QByteArrayView token) const;
    int size() const { return int(m_entries.size()); }

private:
    struct Entry
    {
        QByteArray secret;
        AccessPtr access;
    };
    std::vector<Entry> m_entries;
};
