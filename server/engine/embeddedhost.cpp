// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/engine/embeddedhost.h"

#include "server/engine/hostserver.h"
#include "server/protocol/threads.h"

EmbeddedHost::EmbeddedHost(const HostConfig& config)
    : m_config(config)
{
    m_thread.setObjectName(QStringLiteral("host"));
    m_server = new HostServer(config);
    m_mailbox = new Mailbox(m_server);
    m_server->moveToThread(&m_thread);
    QObject::connect(&m_thread, &QThread::finished, m_server, &QObject::deleteLater);
    m_thread.start();
}

EmbeddedHost::~EmbeddedHost()
{
    stop();
    m_thread.quit();
    m_thread.wait();
}

bool EmbeddedHost::start(QString* error, bool fallbackToFreePort)
{
    QString why;
    m_mailbox->call([&] {
        m_running = m_server->start(&why);
        if (!m_running && fallbackToFreePort && m_config.port != 0) {
            // Another host already has the port: take a free one rather than fail.
            m_server->setPort(0);
            m_running = m_server->start(&why);
        }
        if (m_running) {
            m_url = m_server->url();
            m_token = m_server->token();
            m_tokenPath = m_server->tokenPath();
        }
    });
    if (!m_running && error)
        *error = why;
    return m_running;
}

void EmbeddedHost::stop()
{
    if (!m_running)
        return;
    m_running = false;
    m_mailbox->call([this] { m_server->stop(); });
}

bool EmbeddedHost::addBridge(const BridgeSpec& spec, QString* error)
{
    bool added = false;
    QString why;
    m_mailbox->call([&] { added = m_server->addBridge(spec, &why); });
    if (!added && error)
        *error = why;
    return added;
}
