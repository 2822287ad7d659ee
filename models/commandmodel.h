// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/link/linkevent.h"

#include <QAbstractListModel>

/*
 * The commands the user sent, in the order sent, with their outcome.
 *
 * A command sent to one agent finishes with its result: Ok, Failed, or Timeout
 * (error code "timeout"). A command sent to every agent ("*") stays one row; each
 * agent's result is added to ResultsRole as it arrives, and the row's state sums
 * them up: Pending until the first result, then Failed when any agent failed,
 * else Timeout when any timed out, else Ok. Its ResultTextRole lists
 * "agent: text" lines, and ErrorRole holds the first error code.
 *
 * All pending commands are kept, and the last maxFinished() finished ones.
 */
class CommandModel final : public QAbstractListModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CommandModel)

public:
    enum class State { Pending, Ok, Failed, Timeout };
    Q_ENUM(State)

    enum Role {
        HostKeyRole = Qt::UserRole,
        IdRole,
        AgentRole, // an agent id, or "*"
        NameRole,
        ArgsRole, // QByteArray, the arguments as JSON
        StateRole, // CommandModel::State
        ErrorRole, // the error code, empty when none
        ResultTextRole,
        SentAtRole, // qint64 ms since the epoch
        FinishedAtRole, // qint64 ms since the epoch, 0 while pending
        ResultsRole, // QVariantList of QVariantMap {agent, state, error, text, finishedAt}, one per result
    };
    Q_ENUM(Role)

    static constexpr int DefaultMaxFinished = 1000;

    explicit CommandModel(QObject* parent = nullptr);
    ~CommandModel() override;

    /// Records a command just sent to agent (an agent id or "*") of the host hostKey.
    void addCommand(const QString& hostKey, const QString& commandId, const QString& agent, const QString& name,
                    const QByteArray& argsJson = QByteArrayLiteral("{}"));
    /// Takes in one event of the host hostKey (Result, and Error for a command's id).
    void applyEvent(const QString& hostKey, const Link::Event& event);
    /// Fails every pending command of the host: its results will not come (the connection is gone).
    void failPending(const QString& hostKey, const QString& error = QStringLiteral("disconnected"));

    /// The row of the latest command with that id, or -1.
    int rowOf(const QString& hostKey, const QString& id) const;

    void setMaxFinished(int max);
    int maxFinished() const { return m_maxFinished; }

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

Q_SIGNALS:
    /// One result came in: for "*" commands once per agent, with that agent.
    void commandFinished(const QString& hostKey, const QString& id, const QString& agent, CommandModel::State state,
                         const QString& text);

private:
    struct Result
    {
        QString agent;
        State state = State::Pending;
        QString error;
        QString text;
        qint64 finishedAt = 0;
    };
    struct Command
    {
        QString hostKey;
        QString id;
        QString agent;
        QString name;
        QByteArray args;
        qint64 sentAt = 0;
        QList<Result> results;

        bool isBroadcast() const { return agent == QLatin1String("*"); }
        State state() const;
        QString error() const;
        QString resultText() const;
        qint64 finishedAt() const;
    };

    void addResult(int row, Result result);
    void trimFinished();

    QList<Command> m_commands;
    int m_maxFinished = DefaultMaxFinished;
};
