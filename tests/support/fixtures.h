// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QFile>
#include <QList>
#include <QString>

/// The bytes of tests/data/<name>; the test stops when the file is missing.
inline QByteArray fixture(const char* name)
{
    QFile file(QStringLiteral(AGENTDECK_SOURCE_DIR "/tests/data/") + QLatin1StringView(name));
    if (!file.open(QIODevice::ReadOnly))
        qFatal("cannot open fixture %s", name);
    return file.readAll();
}

/// The lines of tests/data/<name>, without their newlines.
inline QList<QByteArray> fixtureLines(const char* name)
{
    QList<QByteArray> lines = fixture(name).split('\n');
    if (!lines.isEmpty() && lines.constLast().isEmpty())
        lines.removeLast();
    return lines;
}
