// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "support/fixtures.h"

#include <QProcess>
#include <QProcessEnvironment>
#include <QRegularExpression>
#include <QTest>
#include <QUrl>

/// How long a host process may take to start, answer or end.
constexpr int HostProcessTimeoutMs = 30000;

/// One run of agentdeck-host, killed if a test leaves it running.
class HostProcess
{
public:
    /// configHome: its XDG_CONFIG_HOME (XDG_STATE_HOME is beside it); extra: more
    /// environment variables. AGENTDECK_TOKEN is set only when extra has it.
    explicit HostProcess(const QString& configHome, const QProcessEnvironment& extra = {})
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.remove(QStringLiteral("AGENTDECK_TOKEN"));
        env.insert(QStringLiteral("XDG_CONFIG_HOME"), configHome);
        env.insert(QStringLiteral("XDG_STATE_HOME"), configHome + QStringLiteral("/../xdg-state"));
        for (const QString& key : extra.keys())
            env.insert(key, extra.value(key));
        process.setProcessEnvironment(env);
        QObject::connect(&process, &QProcess::readyReadStandardOutput, &process,
                         [this] { out += process.readAllStandardOutput(); });
        QObject::connect(&process, &QProcess::readyReadStandardError, &process,
                         [this] { err += process.readAllStandardError(); });
    }
    ~HostProcess()
    {
        if (process.state() != QProcess::NotRunning) {
            process.kill();
            process.waitForFinished(HostProcessTimeoutMs);
        }
    }
    Q_DISABLE_COPY_MOVE(HostProcess)

    void start(const QStringList& arguments)
    {
        endsWithTest(process);
        process.start(QStringLiteral(AGENTDECK_HOST_EXECUTABLE), arguments);
    }

    /// Waits for the first line on stdout and reads the address from it. False
    /// (with the reason in error) when the host ends or says something else.
    bool waitListening(QString* error)
    {
        const bool done = QTest::qWaitFor(
            [this] { return out.contains('\n') || process.state() == QProcess::NotRunning; }, HostProcessTimeoutMs);
        if (!out.contains('\n')) {
            *error = done ? QStringLiteral("the host ended without a line on stdout; stderr: ") + QString::fromUtf8(err)
                          : QStringLiteral("no line on stdout in time");
            return false;
        }
        firstLine = QString::fromUtf8(out.left(out.indexOf('\n')));
        static const QRegularExpression re(
            QStringLiteral("^AgentDeck host (\\S+) listening on (ws://127\\.0\\.0\\.1:(\\d+)/)$"));
        const QRegularExpressionMatch m = re.match(firstLine);
        if (!m.hasMatch()) {
            *error = QStringLiteral("unexpected first line: ") + firstLine;
            return false;
        }
        version = m.captured(1);
        url = QUrl(m.captured(2));
        port = m.captured(3).toUShort();
        return port != 0;
    }

    bool waitFinished()
    {
        return QTest::qWaitFor([this] { return process.state() == QProcess::NotRunning; }, HostProcessTimeoutMs);
    }

    QString stdoutText() const { return QString::fromUtf8(out); }
    QString stderrText() const { return QString::fromUtf8(err); }

    QProcess process;
    QByteArray out;
    QByteArray err;
    QString firstLine;
    QString version;
    QUrl url;
    quint16 port = 0;
};
