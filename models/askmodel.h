// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/link/linkevent.h"

#include <QAbstractListModel>

/*
 * The open asks (questions of agents for a person) of every host, in the order
 * they were opened. An ask is known by (host, agent, id).
 */
class AskModel final : public QAbstractListModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AskModel)

public:
    enum Role {
        HostKeyRole = Qt::UserRole,
        AgentRole,
        IdRole,
        TextRole,
        ChoicesRole, // QStringList
        TimeRole, // qint64 ms since the epoch
    };
    Q_ENUM(Role)

    explicit AskModel(QObject* parent = nullptr);
    ~AskModel() override;

    /// Takes in one event of the host hostKey; events that do not concern this model are ignored.
    void applyEvent(const QString& hostKey, const Link::Event& event);
    void removeHost(const QString& hostKey);
    /// The row of an open ask, or -1.
    int rowOf(const QString& hostKey, const QString& agent, const QString& id) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

private:
    struct Entry
    {
        QString hostKey;
        Link::Ask ask;
    };

    /// Replaces the host's asks: keeps and updates the ones still open, removes the others, appends new ones.
    void replaceAsks(const QString& hostKey, const QList<Link::Ask>& asks);
    void openAsk(const QString& hostKey, const Link::Ask& ask);
    /// Removes the rows for which remove(entry) holds, one contiguous run at a time.
    template <typename Predicate>
    void removeWhere(Predicate remove);

    QList<Entry> m_asks;
};
