// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArrayView>
#include <QString>

namespace Tokens {

/// Compares two secrets in time that depends only on their lengths, not their contents.
bool equal(QByteArrayView a, QByteArrayView b);

/// A new random token: 32 bytes from the system's secure generator, base64url.
QString generate();

/// Where a generated token is kept: $XDG_CONFIG_HOME/agentdeck/token.
QString defaultTokenPath();

/// Reads the token kept at path, or creates one there (directory 0700, file 0600).
/// Returns an empty string and sets error when neither works.
QString loadOrCreate(const QString& path, bool* created, QString* error);

} // namespace Tokens
