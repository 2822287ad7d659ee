// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QColor>
#include <QList>
#include <QString>

/*
 * Terminal colour codes in console lines. Programs colour their output with
 * ANSI SGR sequences (ESC [ ... m); the console shows the colours and hides
 * every escape sequence (cursor moves, window titles and the like too).
 */
namespace Ansi {

/// A stretch of the stripped text with one look. An invalid colour means the default.
struct Run
{
    int begin = 0;
    int length = 0;
    QColor foreground;
    QColor background;
    bool bold = false;
};

/// The text without escape sequences; runs (when asked for) cover the coloured parts.
/// darkPalette picks the shades of the 16 basic colours that read well on that base.
QString strip(const QString& text, QList<Run>* runs = nullptr, bool darkPalette = false);

/// Whether the text has an escape character at all (nothing to strip otherwise).
inline bool hasEscapes(const QString& text)
{
    return text.contains(QChar(0x1b));
}

} // namespace Ansi
