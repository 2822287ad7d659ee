// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QString>

namespace SecretFile {

/// Reads a secret (a token) kept in a file, surrounding whitespace dropped. Refuses,
/// with the reason in *error, a file that is not a regular file, that belongs to
/// another user than this one or root, that others may read or that anyone but its
/// owner may change (group reading is allowed: a service's group), that is empty,
/// or that holds more than one line.
bool read(const QString& path, QByteArray* secret, QString* error);

} // namespace SecretFile
