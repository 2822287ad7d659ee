// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QObject>
#include <QVariant>

class QSystemTrayIcon;

/*
 * Tells the user of an alert outside the window: a message from the system
 * tray icon (with the application's icon) where the desktop has a tray. The
 * last message stays readable, so a window without a tray (the offscreen
 * platform) still knows what it would have shown. Clicking the message
 * reports the payload it was shown with.
 */
class AlertNotifier final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AlertNotifier)

public:
    explicit AlertNotifier(QObject* parent = nullptr);
    ~AlertNotifier() override;

    void notify(const QString& title, const QString& message, const QVariant& payload);
    bool usesTray() const { return m_tray != nullptr; }
    QString lastTitle() const { return m_title; }
    QString lastMessage() const { return m_message; }
    int shownCount() const { return m_shown; }
    /// As clicking the last message.
    void activateLast();

Q_SIGNALS:
    void activated(const QVariant& payload);

private:
    QSystemTrayIcon* m_tray = nullptr;
    QString m_title;
    QString m_message;
    QVariant m_payload;
    int m_shown = 0;
};
