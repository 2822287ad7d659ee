// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/displaycheck.h"

#include <cstdio>
#include <cstdlib>

QString noDisplayMessage(const QString& reason)
{
    return QStringLiteral("agentdeck: cannot open the window: %1. On a machine without a display, "
                          "run the host alone with agentdeck-host (see agentdeck-host --help).")
        .arg(reason);
}

QString missingDisplay(const QStringList& arguments)
{
    if (!qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM") || arguments.contains(QStringLiteral("-platform")))
        return {};
    if (qEnvironmentVariableIsEmpty("DISPLAY") && qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY"))
        return QStringLiteral("no display (neither DISPLAY nor WAYLAND_DISPLAY is set)");
    return {};
}

PlatformStartGuard::PlatformStartGuard()
{
    s_held.clear();
    s_previous = qInstallMessageHandler(&PlatformStartGuard::handleMessage);
}

PlatformStartGuard::~PlatformStartGuard()
{
    finish();
}

void PlatformStartGuard::finish()
{
    if (!m_watching)
        return;
    m_watching = false;
    qInstallMessageHandler(s_previous);
    for (const Held& held : std::as_const(s_held)) {
        const QMessageLogContext context(nullptr, 0, nullptr, held.category.constData());
        if (s_previous)
            s_previous(held.type, context, held.message);
        else
            qt_message_output(held.type, context, held.message);
    }
    s_held.clear();
}

void PlatformStartGuard::handleMessage(QtMsgType type, const QMessageLogContext& context, const QString& message)
{
    if (type != QtFatalMsg) {
        s_held.append({type, QByteArray(context.category), message});
        return;
    }
    // The platform's own warning names the cause ("could not connect to display :1");
    // the fatal message that follows only says that no plugin started.
    QString reason = message.section(u'\n', 0, 0).trimmed();
    for (const Held& held : std::as_const(s_held)) {
        if (held.category.startsWith("qt.qpa") && (held.type == QtWarningMsg || held.type == QtCriticalMsg)) {
            reason = held.message.section(u'\n', 0, 0).trimmed();
            break;
        }
    }
    if (reason.endsWith(u'.'))
        reason.chop(1);
    std::fprintf(stderr, "%s\n", qPrintable(noDisplayMessage(reason)));
    std::fflush(stderr);
    std::_Exit(1);
}
