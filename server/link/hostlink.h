// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/link/linkevent.h"
#include "server/link/linksession.h"

#include <QObject>

/*
 * A live connection to one host, as the desktop sees it: it delivers the host's
 * events in batches (eventsReady, then takeEvents()), reports whether the host
 * is reachable, and sends commands. The protocol work happens on another thread
 * (LocalLink: the embedded host's; RemoteLink: its own), so a flood of lines
 * reaches the thread that shows them as a few large batches. Use it from the
 * thread it was created in.
 */
class HostLink : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HostLink)

public:
    using State = LinkChannel::State;
    using Status = LinkChannel::Status;

    ~HostLink() override;

    /// Starts connecting (again, after close()).
    virtual void open() = 0;
    /// Disconnects and stops trying; state() becomes Idle.
    virtual void close() = 0;
    /// The host as the user knows it: "This computer", or host:port of a remote one.
    virtual QString displayName() const = 0;
    virtual bool isLocal() const = 0;

    Status status() const { return m_channel.status(); }
    State state() const { return m_channel.status().state; }

    /// Every event that has arrived since the last call, oldest first.
    QList<Link::Event> takeEvents();

    /// Sends a command to an agent ("*" for all of them) and returns its id. Its
    /// results arrive as Result events with that id: from the host, or from the
    /// link (error "not_connected", "disconnected") when the host cannot answer.
    QString sendCommand(const QString& agent, const QString& name, const QByteArray& argsJson = {});
    /// Answers an agent's open question.
    QString answerAsk(const QString& agent, const QString& askId, const QString& choice);
    /// The args of the `answer` command.
    static QByteArray answerArgs(const QString& askId, const QString& choice);

    /// Log lines asked for agents seen the first time (default 1000); set before open().
    void setHistory(int lines) { m_history = lines; }

Q_SIGNALS:
    /// Events are waiting in takeEvents(). Emitted once until they are taken.
    void eventsReady();
    /// state(), its reason, or the time of the next attempt changed.
    void statusChanged();

protected:
    explicit HostLink(QObject* parent = nullptr);

    /// Hands a command to the worker: it sends it, or answers it as not sent.
    virtual void postCommand(const QString& id, const QString& agent, const QString& name,
                             const QByteArray& argsJson) = 0;
    /// Answers a command that no worker could take (the link was never opened).
    void failUnsent(const QString& id, const QString& agent);
    /// Events worth bytes were taken; a worker that holds back may go on.
    virtual void eventsTaken(qint64 bytes) { Q_UNUSED(bytes); }

    LinkChannel m_channel;
    int m_history = 1000;

private Q_SLOTS:
    void onChannelNews();

private:
    quint64 m_nextCommand = 1;
    Status m_lastStatus;
    bool m_eventsAnnounced = false;
};
