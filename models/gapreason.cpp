// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/gapreason.h"

#include "server/link/linkevent.h"

#include <QCoreApplication>

QString describeGapReason(const QString& reason)
{
    if (reason == QLatin1String("evicted"))
        return QCoreApplication::translate("Gap", "evicted from the host's memory");
    if (reason == QLatin1String("slow_consumer"))
        return QCoreApplication::translate("Gap", "this console fell behind");
    if (reason == QLatin1String("rate_limited"))
        return QCoreApplication::translate("Gap", "rate limited by the host");
    if (reason == QLatin1String("agent_dropped"))
        return QCoreApplication::translate("Gap", "dropped by the agent");
    if (reason == QLatin1String("rotated"))
        return QCoreApplication::translate("Gap", "no longer in the host's log files");
    if (reason == QLatin1String("renumbered"))
        return QCoreApplication::translate("Gap", "lost by the host");
    if (reason == QLatin1String(Link::GapReasonName::Missing))
        return QCoreApplication::translate("Gap", "missing from the host's numbering");
    return reason;
}
