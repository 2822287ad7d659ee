// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/demo.h"

#include <QCoreApplication>
#include <QFileInfo>

std::vector<AgentDefinition> demoAgentDefinitions(const QString& program, double speed)
{
    const std::pair<const char*, const char*> agents[] = {
        {"query", "Query Engine"},
        {"media", "Media Engine"},
        {"insight", "Insight Engine"},
        {"moderator", "Forum Host"},
    };
    std::vector<AgentDefinition> definitions;
    for (const auto& [role, name] : agents) {
        AgentDefinition d;
        d.id = QByteArray("demo-") + role;
        d.name = QLatin1String(name);
        d.command = program;
        d.args = {QStringLiteral("--role"), QLatin1String(role)};
        if (speed != 1.0)
            d.args << QStringLiteral("--speed") << QString::number(speed);
        // Now and then (the first time within a minute) the media engine dies of an error
        // and its host restarts it.
        if (qstrcmp(role, "media") == 0)
            d.args << QStringLiteral("--crash-after") << QString::number(int(30000 / speed));
        d.saved = false;
        definitions.push_back(d);
    }
    return definitions;
}

QString demoAgentProgram()
{
    const QString name = QStringLiteral("agentdeck-demo-agent");
    const QString dir = QCoreApplication::applicationDirPath();
    // Beside this program in a build tree; in the installed libexec folder (relative to
    // the program's own, so a relocated prefix works too).
    const QString candidates[] = {dir + QLatin1Char('/') + name,
                                  dir + QStringLiteral("/" AGENTDECK_BINDIR_TO_LIBEXEC "/") + name};
    for (const QString& candidate : candidates) {
        const QFileInfo program(candidate);
        if (program.isExecutable())
            return program.canonicalFilePath();
    }
    return name;
}
