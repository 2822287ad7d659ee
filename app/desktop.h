// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/engine/embeddedhost.h"

#include <memory>

class Fleet;
class MainWindow;
struct HostConfig;

/*
 * The desktop program put together: this computer's host engine on a thread of
 * its own, the fleet of hosts the window watches (this computer's first), and
 * the window. The window reaches hosts only through the fleet; what the engine
 * reports (counts, warnings) is wired to the window here.
 */
class Desktop final
{
    Q_DISABLE_COPY_MOVE(Desktop)

public:
    explicit Desktop(const HostConfig& config);
    /// The window goes first, then the links, then the engine and the agents it launched.
    ~Desktop();

    /// Starts the engine and opens the window's view of it. With fallbackToFreePort,
    /// a port already in use is replaced by a free one instead of failing.
    bool start(QString* error, bool fallbackToFreePort = false);

    EmbeddedHost& host() { return m_host; }
    Fleet* fleet() const { return m_fleet.get(); }
    MainWindow* window() const { return m_window.get(); }

private:
    EmbeddedHost m_host;
    std::unique_ptr<Fleet> m_fleet;
    std::unique_ptr<MainWindow> m_window;
};
