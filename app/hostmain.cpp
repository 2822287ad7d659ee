// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/engine/hostconfig.h"
#include "server/engine/hostserver.h"
#include "server/engine/unixsignalwatcher.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QTextStream>
#include <csignal>

int main(int argc, char* argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("agentdeck-host"));
    QCoreApplication::setOrganizationName(QStringLiteral("agentdeck"));
    QCoreApplication::setApplicationVersion(QStringLiteral(AGENTDECK_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("AgentDeck host: the server that bots connect to and AgentDeck consoles watch."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption configOption(
        QStringLiteral("config"), QStringLiteral("Read the configuration from FILE (JSON)."), QStringLiteral("FILE"));
    const QCommandLineOption listenOption(
        QStringLiteral("listen"), QStringLiteral("Listen on ADDR (default 127.0.0.1; 0.0.0.0 for every interface)."),
        QStringLiteral("ADDR"));
    const QCommandLineOption portOption(QStringLiteral("port"),
                                        QStringLiteral("Listen on port N (default 7700; 0 picks a free one)."),
                                        QStringLiteral("N"));
    const QCommandLineOption tokenFileOption(
        QStringLiteral("token-file"),
        QStringLiteral("Require the token kept in FILE from agents and viewers (readable by its owner and group only). "
                       "The environment variable AGENTDECK_TOKEN does the same; without either, the configuration's "
                       "tokens or a generated one."),
        QStringLiteral("FILE"));
    const QCommandLineOption tokenOption(
        QStringLiteral("token"),
        QStringLiteral("Require TOKEN from agents and viewers (other users can see it in the process list: prefer "
                       "--token-file)."),
        QStringLiteral("TOKEN"));
    parser.addOptions({configOption, listenOption, portOption, tokenFileOption, tokenOption});
    parser.process(app);

    QTextStream out(stdout);
    QTextStream err(stderr);
    HostConfig config;
    QString error;
    if (!config.loadForProgram(parser.value(configOption), &error)) {
        err << "agentdeck-host: " << error << Qt::endl;
        return 2;
    }
    if (parser.isSet(listenOption))
        config.listenAddress = parser.value(listenOption);
    if (parser.isSet(portOption)) {
        bool ok = false;
        const int port = parser.value(portOption).toInt(&ok);
        if (!ok || port < 0 || port > 65535) {
            err << "agentdeck-host: --port needs a number from 0 to 65535" << Qt::endl;
            return 2;
        }
        config.port = port;
    }
    const QString token = parser.value(tokenOption);
    QString warning;
    if (!config.applyTokenOptions(parser.isSet(tokenOption) ? &token : nullptr, parser.value(tokenFileOption), &warning,
                                  &error)) {
        err << "agentdeck-host: " << error << Qt::endl;
        return 2;
    }
    if (!warning.isEmpty())
        err << "agentdeck-host: warning: " << warning << Qt::endl;

    HostServer server(config);
    // Watch signals before saying where we listen: whoever reads that line may signal at once.
    UnixSignalWatcher signalWatcher;
    // A hangup (the terminal it was started from closed) ends the session it belongs to: stop the same way.
    signalWatcher.watch(SIGTERM);
    signalWatcher.watch(SIGINT);
    signalWatcher.watch(SIGHUP);
    QObject::connect(&signalWatcher, &UnixSignalWatcher::signalReceived, &app, [&](int signum) {
        out << "Shutting down (signal " << signum << ")" << Qt::endl;
        server.stop();
        QCoreApplication::quit();
    });
    QObject::connect(&server, &HostServer::warning, &app,
                     [&err](const QString& message) { err << "agentdeck-host: " << message << Qt::endl; });
    if (!server.start(&error)) {
        err << "agentdeck-host: " << error << Qt::endl;
        return 1;
    }
    out << "AgentDeck host " << AGENTDECK_VERSION << " listening on " << server.url().toString() << Qt::endl;
    if (!server.tokenPath().isEmpty())
        out << "Token: in " << server.tokenPath() << (server.tokenWasGenerated() ? " (new)" : "") << Qt::endl;
    else
        out << "Token: as configured" << Qt::endl;
    if (!config.logDirectory.isEmpty())
        out << "Console logs: " << config.logDirectory << Qt::endl;
    if (!config.agents.empty())
        out << "Launched agents: " << config.agents.size() << Qt::endl;

    return app.exec();
}
