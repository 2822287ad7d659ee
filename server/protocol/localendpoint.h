// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QObject>

/*
 * The viewer side of protocol v1 inside one process, without a socket, a
 * handshake or a token: the host engine implements LocalEndpoint, the desktop's
 * link implements LocalViewer. Both speak the same JSON messages as over a
 * WebSocket. Every call, both ways, is made on the endpoint's thread.
 */
class LocalViewer
{
public:
    virtual ~LocalViewer() = default;
    /// One message for the viewer (a JSON object in UTF-8).
    virtual void deliver(const QByteArray& json) = 0;
    /// Bytes delivered and not yet taken; above the viewer backlog the host
    /// holds back and the viewer later gets slow_consumer gaps, as a socket would.
    virtual qint64 backlogBytes() const = 0;
    /// The host ended the connection (stopped, or the viewer misbehaved).
    virtual void closed(quint16 code, const QString& reason) = 0;
};

class LocalEndpoint : public QObject
{
public:
    using QObject::QObject;

    /// Opens an in-process viewer connection: `welcome` and `snapshot` are delivered at once.
    virtual void attachLocalViewer(LocalViewer* viewer) = 0;
    /// Hands the host a message from the viewer (subscribe, command...).
    virtual void receiveFromLocalViewer(LocalViewer* viewer, const QByteArray& json) = 0;
    /// The viewer has taken what it was given; the host may send what it held back.
    virtual void localViewerDrained(LocalViewer* viewer) = 0;
    /// Ends the viewer's connection without calling closed().
    virtual void detachLocalViewer(LocalViewer* viewer) = 0;
};
