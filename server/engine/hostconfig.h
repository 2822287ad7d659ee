// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/protocol/agentdefinition.h"

#include <QString>
#include <QStringList>

/// A token of the "tokens" list: its secret (inline or in a file) and what it allows
/// (docs/security.md).
struct TokenSpec
{
    QString name;
    QString secret;
    QString secretFile;
    QString role; // viewer, operator, admin, agent
    QList<QByteArray> agents; // patterns; empty: every agent
    bool shared = false; // an agent token not bound to its ids
};

/// Everything a host engine can be configured with (docs/configuration in README.md).
/// Another system whose agents the host shows (docs/configuration.md, "bridges").
struct BridgeSpec
{
    QByteArray type = "bettafish";
    QString url; // http://host:port of its server
    QByteArray prefix; // put before each of its agents' ids
    QString logsDir; // its logs folder, when on this machine
    int historyLines = 1000;

    bool operator==(const BridgeSpec& other) const
    {
        return type == other.type && url == other.url && prefix == other.prefix && logsDir == other.logsDir
            && historyLines == other.historyLines;
    }
    QByteArray toJson() const;
};

struct HostConfig
{
    QString listenAddress = QStringLiteral("127.0.0.1");
    int port = 7700;
    QString hostName; // defaults to the machine's host name
    /// One token for both roles, or a token per role; when all are empty a generated token is used.
    QString token;
    QString agentToken;
    QString viewerToken;
    /// The single token, read from this file (see SecretFile::read) when token is empty.
    QString tokenFile;
    /// Tokens with roles and scopes, besides (or instead of) the ones above.
    std::vector<TokenSpec> tokens;
    QStringList allowedOrigins;
    QString tlsCertificate;
    QString tlsKey;

    qint64 maxMessageBytes = 1024 * 1024;
    /// Connections from one address (all of 127.0.0.0/8 is one, IPv6 counts per /64),
    /// counted from the TCP accept; when full, the oldest not yet past its hello makes room.
    int maxConnectionsPerAddress = 32;
    /// Connections in all; 0: as many as the file-handle limit leaves room for.
    int maxConnections = 0;
    /// Bytes waiting to go to one peer, of every kind (pongs included); over it the peer is dropped.
    qint64 maxQueuedBytes = 64ll * 1024 * 1024;
    /// Agents known, connected or not; offline ones beyond it are forgotten, oldest first.
    int maxAgents = 1000;
    /// Open questions per agent and in all.
    int maxAsksPerAgent = 100;
    int maxAsks = 1000;
    /// The largest status, metrics or question an agent may publish, and its hello's description.
    qint64 maxStatusBytes = 16 * 1024;
    /// Gap records per agent and kind; past it, neighbouring gaps are merged.
    int maxGapsPerAgent = 10000;
    /// The largest `args` of a command.
    qint64 maxCommandArgsBytes = 64 * 1024;
    int helloTimeoutMs = 10000;
    int upgradeTimeoutMs = 10000;
    int pingIntervalMs = 15000;
    int idleTimeoutMs = 45000;
    int closeGraceMs = 5000;
    int commandTimeoutMs = 30000;
    int abuseLimit = 50;
    int abuseWindowMs = 10000;
    /// Lines per second an agent may publish; 0 means no limit.
    double rateLimitLinesPerSecond = 0;
    double rateLimitBurst = 0; // 0: one second's worth
    int metricsIntervalMs = 1000;
    /// A viewer whose unsent bytes exceed this gets no more console lines until it drains.
    qint64 viewerBacklogBytes = 8 * 1024 * 1024;

    qint64 logRetentionLines = 100000;
    qint64 logRetentionBytes = 256ll * 1024 * 1024;
    qint64 forumRetentionMessages = 10000;
    qint64 forumRetentionBytes = 64ll * 1024 * 1024;

    bool redactDefaults = true;
    QStringList redactPatterns;

    /// Where each agent's console is written as <id>.log; empty: no log files.
    QString logDirectory;
    qint64 logFileMaxBytes = 50ll * 1024 * 1024;
    int logFileBackups = 10;
    /// Log files kept open at once; the least recently written are closed and reopened when needed.
    int maxOpenLogFiles = 256;
    /// Permissions of log files (and, with x where r is, of the folders the host creates).
    int logFileMode = 0600;
    /// A launched agent's output line longer than this is cut, with a marker.
    qint64 maxLineBytes = 65536;

    /// The local agents the host launches and supervises.
    std::vector<AgentDefinition> agents;
    /// Other systems whose agents are shown (BettaFish).
    std::vector<BridgeSpec> bridges;
    /// Whether viewers may add, change and remove agent definitions (run commands on
    /// this machine): off unless configured; the desktop app turns it on for its own host.
    bool allowAgentEditing = false;
    /// The file this configuration was loaded from; agent edits are saved there.
    QString configPath;

    /// Reads a JSON configuration file over the defaults. On failure (unreadable, not
    /// JSON, a value of the wrong type, a key it does not know) returns false with an
    /// error that names the file, the line and column, and the key's path.
    bool load(const QString& path, QString* error);

    /// The programs' start: file when given, else the default file when it exists
    /// (agent edits are saved there either way), with log files in the default
    /// directory unless the file says otherwise ("logs": {"dir": ""} turns them off).
    bool loadForProgram(const QString& file, QString* error);

    /// The single token from a program's command line or environment, over the file's:
    /// token when given (other users can read it in the process list: *warning says
    /// so), else the file tokenFile (see SecretFile::read), else the environment
    /// variable AGENTDECK_TOKEN (then taken out of the environment). False with *error
    /// when the file cannot be used.
    bool applyTokenOptions(const QString* token, const QString& tokenFile, QString* warning, QString* error);

    /// $XDG_CONFIG_HOME/agentdeck/host.json
    static QString defaultPath();
    /// $XDG_STATE_HOME/agentdeck/logs
    static QString defaultLogDirectory();
};

/// Reads the "agents" array of a configuration; an absent list is empty. On failure,
/// *errorAt (when given) points at the culprit in the parsed text.
bool readAgents(Json::Value list, std::vector<AgentDefinition>* agents, QString* error, const char** errorAt = nullptr);

/// Writes agents as the "agents" member of the configuration file at path, keeping
/// the rest of the file as written, by writing a temporary file and renaming it.
/// A file that does not parse is left untouched (false, with the reason); a missing
/// file is created. Agents whose `saved` is false are left out.
bool saveAgents(const QString& path, const std::vector<AgentDefinition>& agents, QString* error);

/// Reads the "bridges" array; an absent list is empty.
bool readBridges(Json::Value list, std::vector<BridgeSpec>* bridges, QString* error, const char** errorAt = nullptr);
/// Writes bridges as the "bridges" member of the configuration file, as saveAgents() does.
bool saveBridges(const QString& path, const std::vector<BridgeSpec>& bridges, QString* error);
