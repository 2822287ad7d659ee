// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>
#include <QtGlobal>

/// What to tell a user whose machine has no display for the window.
QString noDisplayMessage(const QString& reason);

/// Why no window can open here, judged from the environment before Qt's
/// platform starts; empty when a display (or an explicit platform) is given.
QString missingDisplay(const QStringList& arguments);

/**
 * Watches the start of Qt's platform (the QApplication constructor) while it
 * lives, until finish(). When the platform cannot start (a DISPLAY that does
 * not answer, no plugin), the program says so in one line with
 * noDisplayMessage() and exits with code 1 instead of aborting with a core
 * dump. The platform's own messages are held back meanwhile and passed on by
 * finish().
 */
class PlatformStartGuard final
{
public:
    PlatformStartGuard();
    ~PlatformStartGuard();
    Q_DISABLE_COPY_MOVE(PlatformStartGuard)

    /// Stops watching and passes the held messages on.
    void finish();

private:
    static void handleMessage(QtMsgType type, const QMessageLogContext& context, const QString& message);

    struct Held
    {
        QtMsgType type;
        QByteArray category;
        QString message;
    };
    static inline QList<Held> s_held;
    static inline QtMessageHandler s_previous = nullptr;
    bool m_watching = true;
};
