// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/colors.h"

namespace Colors {

bool isDark(const QPalette& palette)
{
    return palette.color(QPalette::Base).lightness() < 128;
}

QColor level(LogLevel level, bool dark)
{
    switch (level) {
    case LogLevel::Trace:
    case LogLevel::Debug:
        return dark ? QColor(0x8a, 0x8f, 0x98) : QColor(0x6a, 0x70, 0x78);
    case LogLevel::Warning:
        return dark ? QColor(0xe5, 0xc0, 0x7b) : QColor(0x9a, 0x67, 0x00);
    case LogLevel::Error:
        return dark ? QColor(0xf2, 0x8b, 0x82) : QColor(0xc5, 0x22, 0x1f);
    case LogLevel::Critical:
        return dark ? QColor(0xff, 0x6b, 0xd6) : QColor(0xa1, 0x00, 0x7d);
    default:
        return dark ? QColor(0x8a, 0xb4, 0xf8) : QColor(0x1a, 0x5f, 0xb4);
    }
}

QColor error(bool dark)
{
    return level(LogLevel::Error, dark);
}

} // namespace Colors
