// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/alertnotifier.h"

#include "ui/appicon.h"

#include <QSystemTrayIcon>

namespace {

constexpr int MessageMs = 8000;

} // namespace

AlertNotifier::AlertNotifier(QObject* parent)
    : QObject(parent)
{
    if (!QSystemTrayIcon::isSystemTrayAvailable())
        return;
    m_tray = new QSystemTrayIcon(applicationIcon(), this);
    m_tray->setToolTip(QStringLiteral("AgentDeck"));
    connect(m_tray, &QSystemTrayIcon::messageClicked, this, &AlertNotifier::activateLast);
    m_tray->show();
}

AlertNotifier::~AlertNotifier() = default;

void AlertNotifier::notify(const QString& title, const QString& message, const QVariant& payload)
{
    m_title = title;
    m_message = message;
    m_payload = payload;
    ++m_shown;
    if (m_tray)
        m_tray->showMessage(title, message, applicationIcon(), MessageMs);
}

void AlertNotifier::activateLast()
{
    if (m_shown > 0)
        Q_EMIT activated(m_payload);
}
