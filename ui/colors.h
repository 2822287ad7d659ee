// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/protocol/loglevel.h"

#include <QColor>
#include <QPalette>

/// The window's own colours, chosen to read well on light and on dark palettes.
namespace Colors {

/// Whether the palette's base (where text is read) is dark.
bool isDark(const QPalette& palette);
/// The colour a log level is written in.
QColor level(LogLevel level, bool dark);
/// Text that reports a failure.
QColor error(bool dark);

} // namespace Colors
