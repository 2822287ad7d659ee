// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/hostconfig.h"
#include "server/hostserver.h"
#include "server/unixsignalwatcher.h"
#include "ui/mainwindow.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QThread>
#include <csignal>

int main(int argc, char* argv[])
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("AgentDeck"));
    QApplication::setOrganizationName(QStringLiteral("agentdeck"));
    QApplication::setApplicationVersion(QStringLiteral(AGENTDECK_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("io.github.agentdeck.AgentDeck"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("AgentDeck: a native console for fleets of bots and AI agents."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption configOption(QStringLiteral("config"),
                                          QStringLiteral("Read the embedded host's configuration from FILE (JSON)."),
                                          QStringLiteral("FILE"));
    const QCommandLineOption portOption(QStringLiteral("port"),
                                        QStringLiteral("Embedded host port (default 7700; 0 picks a free one)."),
                                        QStringLiteral("N"));
    parser.addOptions({configOption, portOption});
    parser.process(app);

    HostConfig config;
    // The embedded host listens on loopback for this user's own window and bots.
    config.allowAgentEditing = true;
    QString error;
    if (!config.loadForProgram(parser.value(configOption), &error)) {
        qCritical("agentdeck: %s", qPrintable(error));
        return 2;
    }
    if (parser.isSet(portOption))
        config.port = parser.value(portOption).toInt();

    MainWindow window;

    // The host engine runs in its own thread, so socket I/O and JSON never stall the window.
    QThread hostThread;
    hostThread.setObjectName(QStringLiteral("host"));
    auto* server = new HostServer(config);
    server->moveToThread(&hostThread);
    QObject::connect(&hostThread, &QThread::finished, server, &QObject::deleteLater);
    QObject::connect(server, &HostServer::statsChanged, &window, &MainWindow::setHostStats);
    hostThread.start();

    bool started = false;
    QMetaObject::invokeMethod(
        server, [&] { started = server->start(&error); }, Qt::BlockingQueuedConnection);
    if (!started && config.port != 0 && !parser.isSet(portOption)) {
        // Another host already has the default port; take a free one rather than fail.
        config.port = 0;
        QMetaObject::invokeMethod(
            server, [&] { started = server->start(&error); }, Qt::BlockingQueuedConnection);
    }
    if (!started) {
        qCritical("agentdeck: %s", qPrintable(error));
        hostThread.quit();
        hostThread.wait();
        return 1;
    }
    QUrl url;
    QString token, tokenPath;
    QMetaObject::invokeMethod(
        server,
        [&] {
            url = server->url();
            token = server->token();
            tokenPath = server->tokenPath();
        },
        Qt::BlockingQueuedConnection);
    window.setHostEndpoint(url, token, tokenPath);
    window.show();

    // Ctrl+C in a terminal or a session logout closes the window the normal way.
    UnixSignalWatcher signalWatcher;
    signalWatcher.watch(SIGTERM);
    signalWatcher.watch(SIGINT);
    QObject::connect(&signalWatcher, &UnixSignalWatcher::signalReceived, &window, &QWidget::close);

    const int code = app.exec();
    QMetaObject::invokeMethod(
        server, [server] { server->stop(); }, Qt::BlockingQueuedConnection);
    hostThread.quit();
    hostThread.wait();
    return code;
}
