// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/engine/access.h"

#include "server/engine/tokens.h"
#include "server/protocol/json.h"

#include <algorithm>

namespace {

bool isPatternChar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.'
        || c == '-' || c == '*' || c == '?';
}

/// Glob match with '*' and '?', by backtracking to the last '*' (linear for one star).
bool globMatch(QByteArrayView pattern, QByteArrayView text)
{
    qsizetype p = 0;
    qsizetype t = 0;
    qsizetype star = -1;
    qsizetype resume = 0;
    while (t < text.size()) {
        if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
            ++p;
            ++t;
        } else if (p < pattern.size() && pattern[p] == '*') {
            star = p++;
            resume = t;
        } else if (star >= 0) {
            p = star + 1;
            t = ++resume;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*')
        ++p;
    return p == pattern.size();
}

} // namespace

bool AgentScope::parse(const QList<QByteArray>& patterns, AgentScope* scope, QString* error)
{
    AgentScope parsed;
    for (const QByteArray& pattern : patterns) {
        if (pattern.isEmpty() || pattern.size() > 64 || !std::all_of(pattern.begin(), pattern.end(), isPatternChar)) {
            if (error)
                *error = QStringLiteral("\"%1\" is not an agent id pattern ([A-Za-z0-9_.-] with * and ?, at most 64)")
                             .arg(QString::fromUtf8(pattern));
            return false;
        }
        if (pattern == "*") {
            parsed.m_patterns.clear();
            break;
        }
        parsed.m_patterns.append(pattern);
    }
    *scope = parsed;
    return true;
}

AgentScope AgentScope::exactly(const QByteArray& id)
{
    AgentScope scope;
    // An id has no wildcard characters, so it matches only itself.
    scope.m_patterns.append(id);
    return scope;
}

bool AgentScope::covers(QByteArrayView id) const
{
    if (m_patterns.isEmpty())
        return true;
    return std::any_of(m_patterns.begin(), m_patterns.end(),
                       [id](const QByteArray& pattern) { return globMatch(pattern, id); });
}

QByteArray AgentScope::json() const
{
    QByteArray out;
    Json::Writer w(&out);
    w.beginArray();
    if (m_patterns.isEmpty())
        w.string("*");
    for (const QByteArray& pattern : m_patterns)
        w.string(pattern);
    w.endArray();
    return out;
}

const char* Access::roleName(Role role)
{
    switch (role) {
    case Role::Viewer:
        return "viewer";
    case Role::Operator:
        return "operator";
    case Role::Admin:
    case Role::Any:
        return "admin";
    case Role::Agent:
        return "agent";
    }
    return "viewer";
}

bool Access::parseRole(QByteArrayView name, Role* role)
{
    for (const Role r : {Role::Viewer, Role::Operator, Role::Admin, Role::Agent}) {
        if (name == roleName(r)) {
            *role = r;
            return true;
        }
    }
    return false;
}

QByteArray Access::viewerJson(bool hostAllowsEditing) const
{
    QByteArray out;
    Json::Writer w(&out);
    w.beginObject().key("token").string(name).key("role").string(roleName(role));
    w.key("commands").boolean(mayCommand()).key("answers").boolean(mayCommand());
    w.key("edit_agents").boolean(hostAllowsEditing && mayEditAgents());
    w.key("agents").raw(agents.json());
    w.endObject();
    return out;
}

std::shared_ptr<const Access> Access::local()
{
    static const AccessPtr everything = [] {
        auto access = std::make_shared<Access>();
        access->name = QStringLiteral("local");
        access->role = Role::Admin;
        return access;
    }();
    return everything;
}

bool TokenTable::add(const QByteArray& secret, AccessPtr access)
{
    if (secret.isEmpty() || find(secret))
        return false;
    m_entries.push_back({secret, std::move(access)});
    return true;
}

void TokenTable::remove(const AccessPtr& access)
{
    m_entries.erase(std::remove_if(m_entries.begin(), m_entries.end(),
                                   [&access](const Entry& entry) { return entry.access == access; }),
                    m_entries.end());
}

AccessPtr TokenTable::find(QByteArrayView token) const
{
    AccessPtr found;
    for (const Entry& entry : m_entries) {
        // No early exit: every secret is compared whatever matched before.
        if (Tokens::equal(token, entry.secret) && !found)
            found = entry.access;
    }
    return found;
}
