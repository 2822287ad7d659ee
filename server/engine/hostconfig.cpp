// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/engine/hostconfig.h"

#include "server/engine/access.h"
#include "server/protocol/configreader.h"
#include "server/protocol/json.h"
#include "server/protocol/protocol.h"
#include "server/protocol/secretfile.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>
#include <QUrl>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace {

void lineAndColumn(QByteArrayView text, qsizetype offset, int* line, int* column)
{
    *line = 1;
    *column = 1;
    offset = std::min(offset, text.size());
    for (qsizetype i = 0; i < offset; ++i) {
        if (text[i] == '\n') {
            ++*line;
            *column = 1;
        } else if ((uchar(text[i]) & 0xc0) != 0x80) {
            ++*column;
        }
    }
}

} // namespace

/// Whether a list member is absent (*present false) or an array; an error naming it otherwise.
static bool readList(Json::Value list, const char* name, const char* items, bool* present, QString* error,
                     const char** errorAt)
{
    *present = !list.isUndefined() && !list.isNull();
    if (!*present || list.isArray())
        return true;
    *error = QStringLiteral("%1: expected an array of %2").arg(QLatin1String(name), QLatin1String(items));
    if (errorAt)
        *errorAt = list.raw().data();
    return false;
}

bool readAgents(Json::Value list, std::vector<AgentDefinition>* agents, QString* error, const char** errorAt)
{
    agents->clear();
    bool present = false;
    if (!readList(list, "agents", "agent definitions", &present, error, errorAt))
        return false;
    if (!present)
        return true;
    int index = 0;
    for (const Json::Value item : list.items()) {
        AgentDefinition definition;
        if (!AgentDefinition::fromJson(item, QStringLiteral("agents[%1].").arg(index), &definition, error, errorAt))
            return false;
        for (const AgentDefinition& other : *agents) {
            if (other.id == definition.id) {
                *error = QStringLiteral("agents[%1].id: \"%2\" is defined twice")
                             .arg(index)
                             .arg(QString::fromLatin1(definition.id));
                if (errorAt)
                    *errorAt = item["id"].raw().data();
                return false;
            }
        }
        agents->push_back(definition);
        ++index;
    }
    return true;
}

/// The "tokens" list: each entry well formed, names and secrets told apart.
static void readTokens(Json::Value list, std::vector<TokenSpec>* tokens, ConfigProblem* problem)
{
    if (list.isUndefined() || list.isNull())
        return;
    if (!list.isArray()) {
        problem->message = QStringLiteral("tokens: expected an array of tokens");
        problem->at = list.raw().data();
        return;
    }
    int index = 0;
    for (const Json::Value item : list.items()) {
        const QString path = QStringLiteral("tokens[%1].").arg(index++);
        ConfigReader entry(item, path, problem);
        TokenSpec spec;
        entry.readString("name", &spec.name);
        entry.readString("secret", &spec.secret);
        entry.readString("secret_file", &spec.secretFile);
        entry.readString("role", &spec.role);
        QStringList agents;
        entry.readStringList("agents", &agents);
        entry.readBool("shared", &spec.shared);
        entry.rejectUnknownKeys();
        if (!entry.ok())
            return;
        for (const QString& pattern : agents)
            spec.agents.append(pattern.toUtf8());
        Access::Role role;
        AgentScope scope;
        QString scopeError;
        if (!item.isObject())
            entry.fail("name", QStringLiteral("an object"));
        else if (spec.name.isEmpty())
            entry.fail("name", QStringLiteral("a name for the token"));
        else if (std::any_of(tokens->begin(), tokens->end(), [&](const TokenSpec& t) { return t.name == spec.name; }))
            entry.fail("name", QStringLiteral("a name no other token has"));
        else if (spec.secret.isEmpty() == spec.secretFile.isEmpty())
            entry.fail("secret_file", QStringLiteral("either \"secret\" or \"secret_file\", not both"));
        else if (!Access::parseRole(spec.role.toUtf8(), &role))
            entry.fail("role", QStringLiteral("one of \"viewer\", \"operator\", \"admin\", \"agent\""));
        else if (!AgentScope::parse(spec.agents, &scope, &scopeError))
            entry.fail("agents", scopeError);
        else if (role == Access::Role::Agent && scope.coversAll() && !spec.shared)
            entry.fail("agents",
                       QStringLiteral("the agent ids this token may speak as, or \"shared\": true for any id"));
        else if (role != Access::Role::Agent && spec.shared)
            entry.fail("shared", QStringLiteral("false: only agent tokens are shared"));
        if (!entry.ok())
            return;
        tokens->push_back(spec);
    }
}

/// The sections of the configuration, each checked for keys it does not know.
static void readSections(ConfigReader& top, HostConfig* c, ConfigProblem* problem)
{
    ConfigReader tls(top.object("tls"), QStringLiteral("tls."), problem);
    tls.readString("cert", &c->tlsCertificate);
    tls.readString("key", &c->tlsKey);
    tls.rejectUnknownKeys();

    ConfigReader limits(top.object("limits"), QStringLiteral("limits."), problem);
    limits.readInteger("max_message_bytes", &c->maxMessageBytes, 1024, qint64(1) << 31);
    limits.readInteger("max_connections_per_address", &c->maxConnectionsPerAddress, 1, 1 << 20);
    limits.readInteger("max_connections", &c->maxConnections, 0, 1 << 20);
    limits.readInteger("max_queued_bytes", &c->maxQueuedBytes, 64 * 1024, qint64(1) << 40);
    limits.readInteger("max_agents", &c->maxAgents, 1, 1 << 20);
    limits.readInteger("max_asks_per_agent", &c->maxAsksPerAgent, 1, 1 << 20);
    limits.readInteger("max_asks", &c->maxAsks, 1, 1 << 24);
    limits.readInteger("max_status_bytes", &c->maxStatusBytes, 256, qint64(1) << 30);
    limits.readInteger("max_gaps_per_agent", &c->maxGapsPerAgent, 2, 1 << 24);
    limits.readInteger("max_command_args_bytes", &c->maxCommandArgsBytes, 2, qint64(1) << 30);
    limits.readInteger("hello_timeout_ms", &c->helloTimeoutMs, 1);
    limits.readInteger("upgrade_timeout_ms", &c->upgradeTimeoutMs, 1);
    limits.readInteger("ping_interval_ms", &c->pingIntervalMs, 1);
    limits.readInteger("idle_timeout_ms", &c->idleTimeoutMs, 1);
    limits.readInteger("close_grace_ms", &c->closeGraceMs, 1);
    limits.readInteger("command_timeout_ms", &c->commandTimeoutMs, 1);
    limits.readInteger("abuse_limit", &c->abuseLimit, 1);
    limits.readInteger("abuse_window_ms", &c->abuseWindowMs, 1);
    limits.readNumber("rate_limit_lines_per_s", &c->rateLimitLinesPerSecond);
    limits.readNumber("rate_limit_burst", &c->rateLimitBurst);
    limits.readInteger("metrics_interval_ms", &c->metricsIntervalMs, 10);
    limits.readInteger("viewer_backlog_bytes", &c->viewerBacklogBytes, 64 * 1024);
    limits.rejectUnknownKeys();

    ConfigReader retention(top.object("retention"), QStringLiteral("retention."), problem);
    retention.readInteger("log_lines", &c->logRetentionLines, 1);
    retention.readInteger("log_bytes", &c->logRetentionBytes, 1024);
    retention.readInteger("forum_messages", &c->forumRetentionMessages, 1);
    retention.readInteger("forum_bytes", &c->forumRetentionBytes, 1024);
    retention.rejectUnknownKeys();

    ConfigReader redact(top.object("redact"), QStringLiteral("redact."), problem);
    redact.readBool("defaults", &c->redactDefaults);
    redact.readStringList("patterns", &c->redactPatterns);
    redact.rejectUnknownKeys();

    ConfigReader logs(top.object("logs"), QStringLiteral("logs."), problem);
    logs.readString("dir", &c->logDirectory);
    logs.readInteger("max_bytes", &c->logFileMaxBytes, 4096);
    logs.readInteger("backups", &c->logFileBackups, 0, 1000);
    logs.readInteger("max_open_files", &c->maxOpenLogFiles, 2, 1 << 20);
    logs.readInteger("max_line_bytes", &c->maxLineBytes, 256, 64ll * 1024 * 1024);
    QString fileMode;
    logs.readString("file_mode", &fileMode);
    if (!fileMode.isEmpty()) {
        bool valid = false;
        const uint mode = fileMode.toUInt(&valid, 8);
        if (!valid || mode > 0666 || !(mode & 0600))
            logs.fail("file_mode",
                      QStringLiteral("octal permissions such as \"0600\" or \"0640\", readable "
                                     "and writable by the owner, without execute bits"));
        else
            c->logFileMode = int(mode);
    }
    logs.rejectUnknownKeys();
}

bool HostConfig::load(const QString& path, QString* error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        if (error)
            *error = QStringLiteral("%1: %2").arg(path, file.errorString());
        return false;
    }
    const QByteArray text = file.readAll();
    Json::Document doc;
    QString parseError;
    if (!doc.parse(text, &parseError)) {
        int line, column;
        lineAndColumn(text, doc.errorOffset(), &line, &column);
        if (error)
            *error = QStringLiteral("%1:%2:%3: %4").arg(path).arg(line).arg(column).arg(parseError);
        return false;
    }
    if (!doc.root().isObject()) {
        if (error)
            *error = QStringLiteral("%1: the configuration must be a JSON object").arg(path);
        return false;
    }

    HostConfig c = *this;
    ConfigProblem problem;
    ConfigReader top(doc.root(), QString(), &problem);
    top.readString("listen", &c.listenAddress);
    top.readInteger("port", &c.port, 0, 65535);
    top.readString("name", &c.hostName);
    top.readString("token", &c.token);
    top.readString("agent_token", &c.agentToken);
    top.readString("viewer_token", &c.viewerToken);
    top.readString("token_file", &c.tokenFile);
    c.tokens.clear();
    readTokens(top.value("tokens"), &c.tokens, &problem);
    top.readStringList("allowed_origins", &c.allowedOrigins);

    readSections(top, &c, &problem);
    top.readBool("allow_agent_editing", &c.allowAgentEditing);

    if (!problem.isSet()) {
        QString agentsError;
        const char* at = nullptr;
        if (!readAgents(top.value("agents"), &c.agents, &agentsError, &at)
            || !readBridges(top.value("bridges"), &c.bridges, &agentsError, &at)) {
            problem.message = agentsError;
            problem.at = at;
        }
    }
    top.rejectUnknownKeys();

    if (problem.isSet()) {
        if (error) {
            const QString where = problem.position(text);
            *error = where.isEmpty() ? QStringLiteral("%1: %2").arg(path, problem.message)
                                     : QStringLiteral("%1:%2: %3").arg(path, where, problem.message);
        }
        return false;
    }
    c.configPath = path;
    *this = c;
    return true;
}

bool HostConfig::applyTokenOptions(const QString* givenToken, const QString& givenFile, QString* warning,
                                   QString* error)
{
    // Taken out of the environment whether or not it is used, and its bytes overwritten:
    // unsetting alone leaves it in /proc/PID/environ, which launched agents could read.
    QByteArray fromEnvironment;
    if (char* value = ::getenv("AGENTDECK_TOKEN")) {
        fromEnvironment = QByteArray(value).trimmed();
        std::memset(value, 0, std::strlen(value));
        qunsetenv("AGENTDECK_TOKEN");
    }
    if (givenToken) {
        token = *givenToken;
        if (warning)
            *warning = QStringLiteral("--token can be read by every user of this machine in the process list; "
                                      "use --token-file FILE or the environment variable AGENTDECK_TOKEN instead");
        return true;
    }
    if (!givenFile.isEmpty()) {
        QByteArray secret;
        if (!SecretFile::read(givenFile, &secret, error))
            return false;
        token = QString::fromUtf8(secret);
        return true;
    }
    if (!fromEnvironment.isEmpty())
        token = QString::fromUtf8(fromEnvironment);
    return true;
}

static QString xdgDirectory(const char* variable, const char* fallback)
{
    const QString value = qEnvironmentVariable(variable);
    if (!value.isEmpty() && QDir::isAbsolutePath(value))
        return value;
    return QDir::homePath() + QLatin1Char('/') + QLatin1String(fallback);
}

QString HostConfig::defaultPath()
{
    return xdgDirectory("XDG_CONFIG_HOME", ".config") + QStringLiteral("/agentdeck/host.json");
}

QString HostConfig::defaultLogDirectory()
{
    return xdgDirectory("XDG_STATE_HOME", ".local/state") + QStringLiteral("/agentdeck/logs");
}

bool HostConfig::loadForProgram(const QString& file, QString* error)
{
    logDirectory = defaultLogDirectory();
    const QString chosen = file.isEmpty() ? defaultPath() : file;
    if (file.isEmpty() && !QFile::exists(chosen)) {
        configPath = chosen;
        return true;
    }
    return load(chosen, error);
}

/// Replaces the value of member key in the configuration file at path with list (raw
/// JSON), keeping the rest of the file as written; adds the member when missing.
static bool saveMember(const QString& path, QByteArrayView key, const QByteArray& list, QString* error)
{
    QByteArray text;
    QFile existing(path);
    if (existing.exists()) {
        if (!existing.open(QIODevice::ReadOnly)) {
            *error = QStringLiteral("%1: %2").arg(path, existing.errorString());
            return false;
        }
        text = existing.readAll();
        existing.close();
        Json::Document doc;
        QString parseError;
        if (!doc.parse(text, &parseError)) {
            int line, column;
            lineAndColumn(text, doc.errorOffset(), &line, &column);
            *error = QStringLiteral("%1:%2:%3: %4; the file was not changed")
                         .arg(path)
                         .arg(line)
                         .arg(column)
                         .arg(parseError);
            return false;
        }
        if (!doc.root().isObject()) {
            *error = QStringLiteral("%1: the configuration must be a JSON object; the file was not changed").arg(path);
            return false;
        }
        const Json::Value old = doc.root()[key];
        if (!old.isUndefined()) {
            // Replace the old value in place, so the rest of the file stays as written.
            const qsizetype offset = old.raw().data() - text.constData();
            text.replace(offset, old.raw().size(), list);
        } else {
            const qsizetype end = text.lastIndexOf('}');
            const bool empty = doc.root().size() == 0;
            text.insert(end, QByteArray(empty ? "\n" : ",\n") + "  \"" + key.toByteArray() + "\": " + list + '\n');
        }
    } else {
        text = "{\n  \"" + key.toByteArray() + "\": " + list + "\n}\n";
        QDir().mkpath(QFileInfo(path).absolutePath());
    }

    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(text) != text.size() || !file.commit()) {
        *error = QStringLiteral("%1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

/// A JSON array of items' toJson(), one per line, indented as saveMember() writes.
template <typename Item, typename Keep>
static QByteArray listJson(const std::vector<Item>& items, Keep keep)
{
    QByteArray list = "[";
    bool first = true;
    for (const Item& item : items) {
        if (!keep(item))
            continue;
        list += (first ? "\n    " : ",\n    ") + item.toJson();
        first = false;
    }
    list += first ? "]" : "\n  ]";
    return list;
}

bool saveAgents(const QString& path, const std::vector<AgentDefinition>& agents, QString* error)
{
    return saveMember(path, "agents", listJson(agents, [](const AgentDefinition& a) { return a.saved; }), error);
}

bool saveBridges(const QString& path, const std::vector<BridgeSpec>& bridges, QString* error)
{
    return saveMember(path, "bridges", listJson(bridges, [](const BridgeSpec&) { return true; }), error);
}

QByteArray BridgeSpec::toJson() const
{
    QByteArray json;
    Json::Writer w(&json);
    w.beginObject().key("type").string(type).key("url").string(url).key("prefix").string(prefix);
    if (!logsDir.isEmpty())
        w.key("logs_dir").string(logsDir);
    if (historyLines != 1000)
        w.key("history_lines").integer(historyLines);
    w.endObject();
    return json;
}

bool readBridges(Json::Value list, std::vector<BridgeSpec>* bridges, QString* error, const char** errorAt)
{
    bridges->clear();
    bool present = false;
    if (!readList(list, "bridges", "bridges", &present, error, errorAt))
        return false;
    if (!present)
        return true;
    int index = 0;
    for (const Json::Value item : list.items()) {
        const QString path = QStringLiteral("bridges[%1].").arg(index++);
        ConfigProblem problem;
        BridgeSpec spec;
        if (!item.isObject()) {
            *error = path + QStringLiteral(": expected an object");
            if (errorAt)
                *errorAt = item.raw().data();
            return false;
        }
        ConfigReader r(item, path, &problem);
        QString type = QStringLiteral("bettafish");
        r.readString("type", &type);
        if (type != QLatin1String("bettafish"))
            r.fail("type", QStringLiteral("\"bettafish\" (the one kind of bridge there is)"));
        r.readString("url", &spec.url);
        const QUrl url(spec.url);
        if (!url.isValid() || url.host().isEmpty()
            || (url.scheme() != QLatin1String("http") && url.scheme() != QLatin1String("https")))
            r.fail("url", QStringLiteral("the http:// address of the BettaFish server, such as http://127.0.0.1:5000"));
        QString prefix;
        r.readString("prefix", &prefix);
        spec.prefix = prefix.toUtf8();
        if (!spec.prefix.isEmpty() && !Protocol::isValidAgentId(QByteArray(spec.prefix + "forum")))
            r.fail("prefix", QStringLiteral("letters, digits, '_', '.' or '-' (it begins agent ids)"));
        r.readString("logs_dir", &spec.logsDir);
        r.readInteger("history_lines", &spec.historyLines, 0, 1000000);
        r.rejectUnknownKeys();
        if (problem.isSet()) {
            *error = problem.message;
            if (errorAt)
                *errorAt = problem.at;
            return false;
        }
        for (const BridgeSpec& other : *bridges) {
            if (other.prefix == spec.prefix) {
                *error = path
                    + QStringLiteral("prefix: another bridge has the prefix \"%1\"; its agents' ids "
                                     "would be the same")
                          .arg(QString::fromUtf8(spec.prefix));
                if (errorAt)
                    *errorAt = item.raw().data();
                return false;
            }
        }
        bridges->push_back(spec);
    }
    return true;
}
