// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/desktop.h"

#include "models/fleet.h"
#include "server/engine/hostserver.h"
#include "server/link/locallink.h"
#include "ui/appicon.h"
#include "ui/mainwindow.h"

#include <QApplication>

Desktop::Desktop(const HostConfig& config)
    : m_host(config)
    , m_fleet(std::make_unique<Fleet>())
    , m_window(std::make_unique<MainWindow>(m_fleet.get()))
{
    // Every window of the program shows it: the main one, torn-off consoles, dialogs.
    QApplication::setWindowIcon(applicationIcon());

    // The engine lives on its own thread: its signals reach the window queued.
    HostServer* server = m_host.server();
    QObject::connect(server, &HostServer::statsChanged, m_window.get(), &MainWindow::setHostStats);
    QObject::connect(server, &HostServer::warning, m_window.get(), &MainWindow::showHostWarning);
    // Add BettaFish…: the bridge is added on the engine's thread, which the window waits for.
    m_window->setBridgeAdder([this](const BettaFishEntry& entry, QString* error) {
        BridgeSpec spec;
        spec.url = entry.url;
        spec.prefix = entry.prefix.toUtf8();
        spec.logsDir = entry.logsDir;
        return m_host.addBridge(spec, error);
    });
}

Desktop::~Desktop()
{
    m_window.reset();
    m_fleet->removeHost(QStringLiteral("local"));
    m_fleet.reset();
    m_host.stop();
}

bool Desktop::start(QString* error, bool fallbackToFreePort)
{
    if (!m_host.start(error, fallbackToFreePort))
        return false;
    m_window->setEmbeddedHostAddress(m_host.url(), m_host.token(), m_host.tokenPath());
    m_fleet->addHost(new LocalLink(m_host.server()));
    return true;
}
