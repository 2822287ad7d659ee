// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QString>
#include <QStringList>

/// Everything a host engine can be configured with (docs/configuration in README.md).
struct HostConfig
{
    QString listenAddress = QStringLiteral("127.0.0.1");
    int port = 7700;
    QString hostName; // defaults to the machine's host name
    /// One token for both roles, or a token per role; when all are empty a generated token is used.
    QString token;
    QString agentToken;
    QString viewerToken;
    QStringList allowedOrigins;
    QString tlsCertificate;
    QString tlsKey;

    qint64 maxMessageBytes = 1024 * 1024;
    int maxConnectionsPerAddress = 32;
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

    /// Reads a JSON configuration file over the defaults. On failure (unreadable, not
    /// JSON, a value of the wrong type) returns false with an error that names the
    /// file and, for syntax errors, the line and column.
    bool load(const QString& path, QString* error);
};
