// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/protocol/secretfile.h"

#include <QFile>
#include <cerrno>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

namespace SecretFile {

bool read(const QString& path, QByteArray* secret, QString* error)
{
    const auto fail = [&](const QString& why) {
        if (error)
            *error = QStringLiteral("token file %1: %2").arg(path, why);
        return false;
    };
    // Looked at before it is opened: opening a FIFO would wait for a writer.
    struct stat info
    { };
    if (::stat(QFile::encodeName(path).constData(), &info) != 0)
        return fail(QString::fromLocal8Bit(std::strerror(errno)));
    if (!S_ISREG(info.st_mode))
        return fail(QStringLiteral("not a regular file"));
    if (info.st_uid != ::geteuid() && info.st_uid != 0)
        return fail(
            QStringLiteral("it belongs to another user (uid %1); it must be this user's or root's").arg(info.st_uid));
    if (info.st_mode & (S_IROTH | S_IWOTH | S_IWGRP))
        return fail(QStringLiteral("other users may read or change it (mode %1); "
                                   "make it private with: chmod 600 %2")
                        .arg(info.st_mode & 07777, 4, 8, QLatin1Char('0'))
                        .arg(path));
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return fail(file.errorString());
    const QByteArray text = file.read(64 * 1024).trimmed();
    if (text.isEmpty())
        return fail(QStringLiteral("it is empty"));
    if (text.contains('\n'))
        return fail(QStringLiteral("it holds more than one line"));
    *secret = text;
    return true;
}

} // namespace SecretFile
