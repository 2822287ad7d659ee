// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/demo.h"
#include "app/desktop.h"
#include "app/displaycheck.h"
#include "server/engine/hostconfig.h"
#include "server/engine/unixsignalwatcher.h"
#include "ui/mainwindow.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QFileInfo>
#include <csignal>
#include <cstdio>

int main(int argc, char* argv[])
{
    QApplication::setApplicationName(QStringLiteral("AgentDeck"));
    QApplication::setOrganizationName(QStringLiteral("agentdeck"));
    QApplication::setApplicationVersion(QStringLiteral(AGENTDECK_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("io.github.agentdeck.agentdeck"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("AgentDeck: a native console for fleets of bots and AI agents."));
    const QCommandLineOption helpOption = parser.addHelpOption();
    const QCommandLineOption versionOption = parser.addVersionOption();
    const QCommandLineOption configOption(QStringLiteral("config"),
                                          QStringLiteral("Read the embedded host's configuration from FILE (JSON)."),
                                          QStringLiteral("FILE"));
    const QCommandLineOption portOption(QStringLiteral("port"),
                                        QStringLiteral("Embedded host port (default 7700; 0 picks a free one)."),
                                        QStringLiteral("N"));
    const QCommandLineOption demoOption(QStringLiteral("demo"),
                                        QStringLiteral("Start the demo agents even when agents are configured."));
    const QCommandLineOption noDemoOption(QStringLiteral("no-demo"),
                                          QStringLiteral("Do not start the demo agents when none are configured."));
    const QCommandLineOption tokenFileOption(
        QStringLiteral("token-file"),
        QStringLiteral("The embedded host's token, kept in FILE (readable by its owner and group only). The "
                       "environment variable AGENTDECK_TOKEN does the same; without either, the configuration's "
                       "tokens or a generated one."),
        QStringLiteral("FILE"));
    parser.addOptions({configOption, portOption, tokenFileOption, demoOption, noDemoOption});

    // --help and --version answer before the window's platform starts, so they
    // work without a display. Errors wait for process(), which knows Qt's own options.
    QStringList arguments;
    for (int i = 0; i < argc; ++i)
        arguments.append(QString::fromLocal8Bit(argv[i]));
    parser.parse(arguments);
    if (parser.isSet(helpOption) || parser.isSet(QStringLiteral("help-all")) || parser.isSet(versionOption)) {
        const QCoreApplication withoutWindow(argc, argv); // names the program in the usage line
        if (parser.isSet(versionOption))
            std::printf("%s %s\n", qPrintable(QCoreApplication::applicationName()), AGENTDECK_VERSION);
        else
            std::fputs(qPrintable(parser.helpText()), stdout);
        return 0;
    }
    if (const QString missing = missingDisplay(arguments); !missing.isEmpty()) {
        std::fprintf(stderr, "%s\n", qPrintable(noDisplayMessage(missing)));
        return 1;
    }

    PlatformStartGuard platformGuard;
    QApplication app(argc, argv);
    platformGuard.finish();
    parser.process(app);

    HostConfig config;
    // The embedded host listens on loopback for this user's own window and bots.
    config.allowAgentEditing = true;
    QString error;
    if (!config.loadForProgram(parser.value(configOption), &error)) {
        qCritical("agentdeck: %s", qPrintable(error));
        return 2;
    }
    if (!config.applyTokenOptions(nullptr, parser.value(tokenFileOption), nullptr, &error)) {
        qCritical("agentdeck: %s", qPrintable(error));
        return 2;
    }
    if (parser.isSet(portOption)) {
        bool ok = false;
        const int port = parser.value(portOption).toInt(&ok);
        if (!ok || port < 0 || port > 65535) {
            qCritical("agentdeck: --port needs a number from 0 to 65535");
            return 2;
        }
        config.port = port;
    }
    // With nothing configured, a few demo agents show what the window does.
    const bool nothingConfigured = config.agents.empty() && !QFileInfo::exists(config.configPath);
    if (parser.isSet(demoOption) || (nothingConfigured && !parser.isSet(noDemoOption))) {
        for (AgentDefinition& demo : demoAgentDefinitions(demoAgentProgram()))
            config.agents.push_back(std::move(demo));
    }

    Desktop desktop(config);
    if (!desktop.start(&error, !parser.isSet(portOption))) {
        qCritical("agentdeck: %s", qPrintable(error));
        return 1;
    }

    std::printf("AgentDeck's host is listening on %s\n", qPrintable(desktop.host().url().toString()));
    std::fflush(stdout);

    MainWindow& window = *desktop.window();
    window.restoreSession();
    window.show();

    // Ctrl+C in a terminal, the terminal closing or a session logout closes the window the normal way.
    UnixSignalWatcher signalWatcher;
    signalWatcher.watch(SIGTERM);
    signalWatcher.watch(SIGINT);
    signalWatcher.watch(SIGHUP);
    QObject::connect(&signalWatcher, &UnixSignalWatcher::signalReceived, &window, &QWidget::close);

    return app.exec();
}
