// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/appicon.h"

#include <QDir>

QIcon applicationIcon()
{
    QIcon icon;
    // The sizes are those the build rendered: one PNG each, its size read from the file.
    const QDir sizes(QStringLiteral(":/icons/agentdeck"), QStringLiteral("*.png"), QDir::NoSort, QDir::Files);
    for (const QFileInfo& image : sizes.entryInfoList())
        icon.addFile(image.filePath());
    return icon;
}
