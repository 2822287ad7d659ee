// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/engine/embeddedhost.h"

#include "server/engine/hostserver.h"

EmbeddedHost::EmbeddedHost(const HostConfig& config)
    : m_config(config)
{
    m_thread.setObjectName(QStringLiteral("host"));
    m_server = new HostServer(config);
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
    QMetaObject::invokeMethod(
        m_server,
        [&] {
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
        },
        Qt::BlockingQueuedConnection);
    if (!m_running && error)
        *error = why;
    return m_running;
}

void EmbeddedHost::stop()
{
    if (!m_running)
        return;
    m_running = false;
    QMetaObject::invokeMethod(
        m_server, [this] { m_server->stop(); }, Qt::BlockingQueuedConnection);
}
