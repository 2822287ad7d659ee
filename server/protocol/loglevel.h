// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArrayView>

/// Severity of a console line, ordered from least to most severe.
enum class LogLevel : quint8 { Unknown = 0, Trace, Debug, Info, Warning, Error, Critical };

/// The protocol's name for level ("INFO", "WARNING", ...); empty for Unknown.
QByteArrayView logLevelName(LogLevel level);

/// Reads a level field: any case, with the aliases WARN (Warning), FATAL (Critical)
/// and SUCCESS (Info). Anything else is Unknown.
LogLevel parseLogLevel(QByteArrayView name);

/// Infers the level from the text of a line as printed by common loggers (loguru,
/// Python logging, "[ERROR]"-style tags, ANSI-coloured level words). Unknown when
/// the text does not say.
LogLevel inferLogLevel(QByteArrayView utf8Text);
