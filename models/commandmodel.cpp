// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/commandmodel.h"

#include <QDateTime>
#include <QVariantMap>

namespace {

CommandModel::State stateOf(bool ok, const QString& error)
{
    if (ok)
        return CommandModel::State::Ok;
    return error == QLatin1String("timeout") ? CommandModel::State::Timeout : CommandModel::State::Failed;
}

} // namespace

CommandModel::State CommandModel::Command::state() const
{
    if (results.isEmpty())
        return State::Pending;
    if (!isBroadcast())
        return results.first().state;
    bool timedOut = false;
    for (const Result& result : results) {
        if (result.state == State::Failed)
            return State::Failed;
        timedOut = timedOut || result.state == State::Timeout;
    }
    return timedOut ? State::Timeout : State::Ok;
}

QString CommandModel::Command::error() const
{
    for (const Result& result : results) {
        if (!result.error.isEmpty())
            return result.error;
    }
    return {};
}

QString CommandModel::Command::resultText() const
{
    if (results.isEmpty())
        return {};
    if (!isBroadcast())
        return results.first().text;
    QStringList lines;
    lines.reserve(results.size());
    for (const Result& result : results) {
        const QString text = result.text.isEmpty() ? result.error : result.text;
        lines.append(QString(result.agent + QStringLiteral(": ") + text));
    }
    return lines.join(QLatin1Char('\n'));
}

qint64 CommandModel::Command::finishedAt() const
{
    qint64 latest = 0;
    for (const Result& result : results)
        latest = qMax(latest, result.finishedAt);
    return latest;
}

CommandModel::CommandModel(QObject* parent)
    : QAbstractListModel(parent)
{ }

CommandModel::~CommandModel() = default;

void CommandModel::addCommand(const QString& hostKey, const QString& commandId, const QString& agent,
                              const QString& name, const QByteArray& argsJson)
{
    const int row = int(m_commands.size());
    beginInsertRows({}, row, row);
    m_commands.append({hostKey, commandId, agent, name, argsJson, QDateTime::currentMSecsSinceEpoch(), {}});
    endInsertRows();
}

void CommandModel::applyEvent(const QString& hostKey, const Link::Event& event)
{
    using Type = Link::Event::Type;
    if (event.type != Type::Result && event.type != Type::Error)
        return;
    if (event.id.isEmpty())
        return;
    const int row = rowOf(hostKey, event.id);
    if (row < 0)
        return;
    const Command& command = m_commands.at(row);
    Result result;
    result.finishedAt = QDateTime::currentMSecsSinceEpoch();
    result.error = event.error;
    result.text = event.text;
    if (event.type == Type::Result) {
        // A second result for a single agent is not news; a "*" command collects one per agent.
        if (!command.isBroadcast() && !command.results.isEmpty())
            return;
        result.agent = event.agent.isEmpty() ? command.agent : event.agent;
        result.state = stateOf(event.ok, event.error);
    } else {
        // The host refused the command itself (bad_message, forbidden, ...).
        if (command.state() != State::Pending)
            return;
        result.agent = command.agent;
        result.state = State::Failed;
    }
    addResult(row, std::move(result));
    trimFinished();
}

void CommandModel::failPending(const QString& hostKey, const QString& error)
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    for (int row = 0; row < m_commands.size(); ++row) {
        const Command& command = m_commands.at(row);
        if (command.hostKey != hostKey || command.state() != State::Pending)
            continue;
        addResult(row, {command.agent, State::Failed, error, {}, now});
    }
    trimFinished();
}

int CommandModel::rowOf(const QString& hostKey, const QString& id) const
{
    for (int row = int(m_commands.size()) - 1; row >= 0; --row) {
        const Command& command = m_commands.at(row);
        if (command.id == id && command.hostKey == hostKey)
            return row;
    }
    return -1;
}

void CommandModel::setMaxFinished(int max)
{
    m_maxFinished = qMax(0, max);
    trimFinished();
}

int CommandModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(m_commands.size());
}

QVariant CommandModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Command& command = m_commands.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
    case NameRole:
        return command.name;
    case HostKeyRole:
        return command.hostKey;
    case IdRole:
        return command.id;
    case AgentRole:
        return command.agent;
    case ArgsRole:
        return command.args;
    case StateRole:
        return QVariant::fromValue(command.state());
    case ErrorRole:
        return command.error();
    case ResultTextRole:
        return command.resultText();
    case SentAtRole:
        return command.sentAt;
    case FinishedAtRole:
        return command.finishedAt();
    case ResultsRole: {
        QVariantList results;
        results.reserve(command.results.size());
        for (const Result& result : command.results) {
            results.append(QVariantMap{
                {QStringLiteral("agent"), result.agent},
                {QStringLiteral("state"), QVariant::fromValue(result.state)},
                {QStringLiteral("error"), result.error},
                {QStringLiteral("text"), result.text},
                {QStringLiteral("finishedAt"), result.finishedAt},
            });
        }
        return results;
    }
    default:
        return {};
    }
}

QHash<int, QByteArray> CommandModel::roleNames() const
{
    QHash<int, QByteArray> names = QAbstractListModel::roleNames();
    names.insert({
        {HostKeyRole, "hostKey"},
        {IdRole, "commandId"},
        {AgentRole, "agent"},
        {NameRole, "name"},
        {ArgsRole, "args"},
        {StateRole, "state"},
        {ErrorRole, "error"},
        {ResultTextRole, "resultText"},
        {SentAtRole, "sentAt"},
        {FinishedAtRole, "finishedAt"},
        {ResultsRole, "results"},
    });
    return names;
}

void CommandModel::addResult(int row, Result result)
{
    Command& command = m_commands[row];
    command.results.append(result);
    Q_EMIT dataChanged(index(row), index(row));
    const QString text = result.text.isEmpty() ? result.error : result.text;
    Q_EMIT commandFinished(command.hostKey, command.id, result.agent, result.state, text);
}

void CommandModel::trimFinished()
{
    qsizetype finished = 0;
    for (const Command& command : std::as_const(m_commands))
        finished += command.state() != State::Pending ? 1 : 0;
    qsizetype excess = finished - m_maxFinished;
    if (excess <= 0)
        return;

    // The oldest finished ones go; pending ones among them stay, so removal runs are contiguous stretches.
    QList<int> doomed;
    for (int row = 0; row < m_commands.size() && excess > 0; ++row) {
        if (m_commands.at(row).state() != State::Pending) {
            doomed.append(row);
            --excess;
        }
    }
    for (qsizetype i = doomed.size() - 1; i >= 0; --i) {
        const int last = doomed.at(i);
        while (i > 0 && doomed.at(i - 1) == doomed.at(i) - 1)
            --i;
        const int first = doomed.at(i);
        beginRemoveRows({}, first, last);
        m_commands.remove(first, last - first + 1);
        endRemoveRows();
    }
}
