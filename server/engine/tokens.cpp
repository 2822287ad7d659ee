// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/engine/tokens.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRandomGenerator>
#include <QSaveFile>
#include <QStandardPaths>

namespace Tokens {

bool equal(QByteArrayView a, QByteArrayView b)
{
    // Walk the expected length in full whatever the input is, and fold every
    // difference into one value, so timing reveals no prefix.
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    const qsizetype n = b.size();
    for (qsizetype i = 0; i < n; ++i) {
        const unsigned char ca = i < a.size() ? uchar(a[i]) : 0;
        diff |= ca ^ uchar(b[i]);
    }
    return diff == 0 && n > 0;
}

QString generate()
{
    QByteArray bytes(32, Qt::Uninitialized);
    QRandomGenerator::system()->generate(reinterpret_cast<quint32*>(bytes.data()),
                                         reinterpret_cast<quint32*>(bytes.data() + bytes.size()));
    return QString::fromLatin1(bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
}

QString defaultTokenPath()
{
    return QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation) + QStringLiteral("/agentdeck/token");
}

QString loadOrCreate(const QString& path, bool* created, QString* error)
{
    if (created)
        *created = false;
    QFile existing(path);
    if (existing.open(QIODevice::ReadOnly)) {
        const QString token = QString::fromUtf8(existing.readAll()).trimmed();
        if (!token.isEmpty())
            return token;
    }
    const QString dir = QFileInfo(path).absolutePath();
    if (!QDir().mkpath(dir)) {
        if (error)
            *error = QStringLiteral("cannot create %1").arg(dir);
        return {};
    }
    QFile::setPermissions(dir, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
    const QString token = generate();
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        if (error)
            *error = QStringLiteral("%1: %2").arg(path, file.errorString());
        return {};
    }
    file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    file.write(token.toUtf8() + '\n');
    if (!file.commit()) {
        if (error)
            *error = QStringLiteral("%1: %2").arg(path, file.errorString());
        return {};
    }
    if (created)
        *created = true;
    return token;
}

} // namespace Tokens
