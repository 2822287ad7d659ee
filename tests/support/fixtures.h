// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QFile>
#include <QHostAddress>
#include <QList>
#include <QProcess>
#include <QRandomGenerator>
#include <QString>
#include <QTcpServer>
#include <QTest>

#include <csignal>
#include <sys/prctl.h>

/// The path of tests/data/<name>.
inline QString fixturePath(const char* name)
{
    return QStringLiteral(AGENTDECK_SOURCE_DIR "/tests/data/") + QLatin1StringView(name);
}

/// The bytes of tests/data/<name>; a missing file fails the test.
inline QByteArray fixture(const char* name)
{
    QFile file(fixturePath(name));
    if (!file.open(QIODevice::ReadOnly))
        QTest::qFail(qPrintable(QStringLiteral("cannot open fixture ") + file.fileName()), __FILE__, __LINE__);
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

/// Writes a self-signed certificate for 127.0.0.1 and its key (PEM) with openssl.
inline bool makeCertificate(const QString& certificatePath, const QString& keyPath)
{
    QProcess openssl;
    openssl.start(QStringLiteral("openssl"),
                  {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"),
                   QStringLiteral("rsa:2048"), QStringLiteral("-nodes"), QStringLiteral("-days"), QStringLiteral("2"),
                   QStringLiteral("-subj"), QStringLiteral("/CN=127.0.0.1"), QStringLiteral("-addext"),
                   QStringLiteral("subjectAltName=IP:127.0.0.1"), QStringLiteral("-keyout"), keyPath,
                   QStringLiteral("-out"), certificatePath});
    return openssl.waitForFinished(60000) && openssl.exitStatus() == QProcess::NormalExit && openssl.exitCode() == 0;
}

/// Makes process end with the test: a test binary that crashes or is stopped by
/// a sanitizer leaves no child behind holding the test runner's output open.
inline void endsWithTest(QProcess& process)
{
    process.setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGKILL); });
}

/// A port on 127.0.0.1 that is free now, below the kernel's range of ephemeral ports:
/// the connections other tests make in parallel cannot take it while a host is stopped
/// and started again on it (a port from listen(0) can be). 0 if none was found.
inline quint16 portOutsideEphemeralRange()
{
    int low = 32768;
    QFile range(QStringLiteral("/proc/sys/net/ipv4/ip_local_port_range"));
    if (range.open(QIODevice::ReadOnly)) {
        const QList<QByteArray> bounds = range.readAll().simplified().split(' ');
        if (!bounds.isEmpty() && bounds.constFirst().toInt() > 0)
            low = bounds.constFirst().toInt();
    }
    const int first = 10000;
    if (low <= first + 100)
        return 0;
    for (int attempt = 0; attempt < 200; ++attempt) {
        const auto port = quint16(QRandomGenerator::global()->bounded(first, low));
        QTcpServer probe;
        if (probe.listen(QHostAddress::LocalHost, port))
            return port;
    }
    return 0;
}
