// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QObject>

class QSocketNotifier;

/// Turns SIGTERM, SIGINT and SIGHUP into a Qt signal, delivered by the event loop.
class UnixSignalWatcher final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UnixSignalWatcher)

public:
    explicit UnixSignalWatcher(QObject* parent = nullptr);
    ~UnixSignalWatcher() override;

    /// Starts watching signum (replacing its handler). Returns false when that fails.
    bool watch(int signum);

Q_SIGNALS:
    void signalReceived(int signum);

private:
    void onReadable();

    QSocketNotifier* m_notifier = nullptr;
};
