// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/askmodel.h"

#include <QSet>
#include <algorithm>

namespace {

bool sameAsk(const Link::Ask& a, const Link::Ask& b)
{
    return a.text == b.text && a.choices == b.choices && a.ts == b.ts;
}

} // namespace

AskModel::AskModel(QObject* parent)
    : QAbstractListModel(parent)
{ }

AskModel::~AskModel() = default;

void AskModel::applyEvent(const QString& hostKey, const Link::Event& event)
{
    using Type = Link::Event::Type;
    switch (event.type) {
    case Type::Snapshot:
        replaceAsks(hostKey, event.asks);
        break;
    case Type::AskOpened:
        openAsk(hostKey, event.ask);
        break;
    case Type::AskClosed:
        removeWhere([&](const Entry& entry) {
            return entry.hostKey == hostKey && entry.ask.agent == event.agent && entry.ask.id == event.id;
        });
        break;
    case Type::AgentRemoved:
        removeWhere([&](const Entry& entry) { return entry.hostKey == hostKey && entry.ask.agent == event.agent; });
        break;
    default:
        break;
    }
}

void AskModel::removeHost(const QString& hostKey)
{
    removeWhere([&hostKey](const Entry& entry) { return entry.hostKey == hostKey; });
}

int AskModel::rowOf(const QString& hostKey, const QString& agent, const QString& id) const
{
    for (qsizetype row = 0; row < m_asks.size(); ++row) {
        const Entry& entry = m_asks.at(row);
        if (entry.hostKey == hostKey && entry.ask.agent == agent && entry.ask.id == id)
            return int(row);
    }
    return -1;
}

int AskModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(m_asks.size());
}

QVariant AskModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Entry& entry = m_asks.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
    case TextRole:
        return entry.ask.text;
    case HostKeyRole:
        return entry.hostKey;
    case AgentRole:
        return entry.ask.agent;
    case IdRole:
        return entry.ask.id;
    case ChoicesRole:
        return entry.ask.choices;
    case TimeRole:
        return entry.ask.ts;
    default:
        return {};
    }
}

QHash<int, QByteArray> AskModel::roleNames() const
{
    QHash<int, QByteArray> names = QAbstractListModel::roleNames();
    names.insert({
        {HostKeyRole, "hostKey"},
        {AgentRole, "agent"},
        {IdRole, "id"},
        {TextRole, "text"},
        {ChoicesRole, "choices"},
        {TimeRole, "time"},
    });
    return names;
}

void AskModel::replaceAsks(const QString& hostKey, const QList<Link::Ask>& asks)
{
    QSet<std::pair<QString, QString>> open;
    for (const Link::Ask& ask : asks)
        open.insert({ask.agent, ask.id});
    removeWhere([&](const Entry& entry) {
        return entry.hostKey == hostKey && !open.contains({entry.ask.agent, entry.ask.id});
    });

    QList<Entry> added;
    for (const Link::Ask& ask : asks) {
        const int row = rowOf(hostKey, ask.agent, ask.id);
        if (row >= 0) {
            if (!sameAsk(m_asks.at(row).ask, ask)) {
                m_asks[row].ask = ask;
                Q_EMIT dataChanged(index(row), index(row));
            }
            continue;
        }
        const bool listedTwice = std::any_of(added.cbegin(), added.cend(), [&ask](const Entry& entry) {
            return entry.ask.agent == ask.agent && entry.ask.id == ask.id;
        });
        if (!listedTwice)
            added.append({hostKey, ask});
    }
    if (added.isEmpty())
        return;
    const int first = int(m_asks.size());
    beginInsertRows({}, first, first + int(added.size()) - 1);
    m_asks.append(added);
    endInsertRows();
}

void AskModel::openAsk(const QString& hostKey, const Link::Ask& ask)
{
    if (ask.id.isEmpty())
        return;
    const int row = rowOf(hostKey, ask.agent, ask.id);
    if (row >= 0) {
        if (!sameAsk(m_asks.at(row).ask, ask)) {
            m_asks[row].ask = ask;
            Q_EMIT dataChanged(index(row), index(row));
        }
        return;
    }
    const int first = int(m_asks.size());
    beginInsertRows({}, first, first);
    m_asks.append({hostKey, ask});
    endInsertRows();
}

template <typename Predicate>
void AskModel::removeWhere(Predicate remove)
{
    // Last run first, so that the rows before a run keep their numbers.
    for (int row = int(m_asks.size()) - 1; row >= 0; --row) {
        if (!remove(m_asks.at(row)))
            continue;
        const int last = row;
        while (row > 0 && remove(m_asks.at(row - 1)))
            --row;
        beginRemoveRows({}, row, last);
        m_asks.remove(row, last - row + 1);
        endRemoveRows();
    }
}
