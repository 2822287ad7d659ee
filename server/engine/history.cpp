// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/engine/history.h"

#include "server/engine/agentregistry.h"
#include "server/engine/connection.h"
#include "server/engine/wire.h"

#include <optional>
#include <vector>

using namespace Protocol;

namespace {

/// The most items one history request may ask for.
constexpr int MaxHistoryLines = 5000;

/// An item as it goes into the reply.
struct Item
{
    qint64 seq;
    QByteArray json;
};

/// One page of history, oldest first, with the gaps among its items.
struct Page
{
    std::vector<Item> items;
    std::vector<SeqGap> gaps;
    bool more = false;
};

bool readFromFile(LogFile& file, bool forum, qint64 before, int limit, Page* page, QString* error)
{
    std::vector<StoredLine> stored;
    if (!file.readBefore(before, limit, &stored, &page->gaps, &page->more, error))
        return false;
    page->items.reserve(stored.size());
    for (const StoredLine& l : stored) {
        QByteArray json;
        if (forum) {
            const auto source = l.source.isEmpty() ? std::nullopt : std::optional<QByteArrayView>(l.source);
            json = Wire::forumMessage(l.seq, l.ts, l.sender, l.role, source, l.text);
        } else {
            Wire::appendLine(json, {l.seq, l.ts, l.stream, l.level, l.source, l.text});
        }
        page->items.push_back({l.seq, std::move(json)});
    }
    return true;
}

/// Without files, history is what memory holds, so "more" means more in memory.
template <typename Store, typename ItemAt>
void readFromMemory(const Store& store, qsizetype count, qint64 before, int limit, ItemAt itemAt, Page* page)
{
    const qsizetype end = before > 0 ? store.indexOfSeq(before) : count;
    const qsizetype begin = std::max<qsizetype>(0, end - limit);
    for (qsizetype i = begin; i < end; ++i)
        page->items.push_back(itemAt(i));
    page->more = begin > 0;
    const qint64 low = page->items.empty() ? 0 : page->items.front().seq;
    const qint64 high = before > 0 ? before : store.lastSeq() + 1;
    for (const SeqGap* gap = store.gaps().firstEndingAtOrAfter(low); gap && gap->from < high;
         gap = store.gaps().firstEndingAtOrAfter(gap->to + 1))
        page->gaps.push_back(*gap);
}

QByteArray replyJson(QByteArrayView ref, const Agent& agent, bool forum, const Page& page)
{
    // Within one message: the newest items win.
    size_t first = page.items.size();
    qint64 bytes = 0;
    while (first > 0) {
        const qint64 cost = page.items[first - 1].json.size() + 16;
        if (bytes + cost > Wire::MaxBytesPerMessage && first < page.items.size())
            break;
        bytes += cost;
        --first;
    }
    QByteArray json;
    Json::Writer w(&json);
    w.beginObject().key("type").string("history").key("id").raw(ref.isEmpty() ? QByteArrayView("null") : ref);
    w.key("agent").string(agent.id);
    if (forum)
        w.key("kind").string("forum");
    w.key(forum ? "messages" : "lines").raw("[");
    for (size_t i = first; i < page.items.size(); ++i) {
        if (i > first)
            json += ',';
        json += page.items[i].json;
    }
    json += ']';
    w.key("gaps").beginArray();
    const qint64 low = first < page.items.size() ? page.items[first].seq : 0;
    for (const SeqGap& gap : page.gaps) {
        if (gap.to < low)
            continue;
        w.beginObject().key("from").integer(gap.from).key("to").integer(gap.to);
        w.key("reason").string(gapReasonName(gap.reason)).endObject();
    }
    w.endArray().key("more").boolean(page.more || first > 0).endObject();
    return json;
}

} // namespace

History::History(const AgentRegistry& registry, qint64 backlogBytes)
    : m_registry(registry)
    , m_backlogBytes(backlogBytes)
{ }

void History::request(Connection* c, Json::Value root, QByteArrayView ref)
{
    const Json::Value agentValue = root["agent"];
    const Json::Value beforeValue = root["before"];
    const Json::Value limitValue = root["limit"];
    const Json::Value kindValue = root["kind"];
    const bool valid = agentValue.isString() && (beforeValue.isUndefined() || beforeValue.isInteger())
        && (limitValue.isUndefined() || (limitValue.isInteger() && limitValue.toInteger() >= 1))
        && (kindValue.isUndefined() || kindValue.toUtf8() == "log" || kindValue.toUtf8() == "forum");
    if (!valid) {
        c->sendError(ErrorCode::BadMessage,
                     QStringLiteral("history needs a string \"agent\"; \"before\" and \"limit\" (from 1) are "
                                    "integers; \"kind\" is log or forum"),
                     ref);
        return;
    }
    const Agent* agent = m_registry.find(agentValue.toUtf8());
    // An agent outside the token's scope is one the viewer cannot know of.
    if (!agent || !c->sees(agent->id)) {
        c->sendError(ErrorCode::BadMessage, QStringLiteral("no agent has this id"), ref);
        return;
    }
    // One reply at a time: a viewer that has not taken the last one waits for it.
    if (c->queuedBytes() > m_backlogBytes) {
        c->sendError(ErrorCode::RateLimited,
                     QStringLiteral("the previous replies have not been read yet; ask again when they have"), ref);
        return;
    }
    const bool forum = kindValue.toUtf8() == "forum";
    const qint64 before = std::clamp<qint64>(beforeValue.toInteger(0), 0, MaxSeq + 1);
    const int limit = int(std::min<qint64>(limitValue.toInteger(1000), MaxHistoryLines));

    Page page;
    if (LogFile* file = forum ? agent->forumFile.get() : agent->file.get()) {
        QString error;
        if (!readFromFile(*file, forum, before, limit, &page, &error)) {
            c->sendError(ErrorCode::BadMessage, QStringLiteral("cannot read %1: %2").arg(file->path(), error), ref);
            return;
        }
    } else if (forum) {
        const ForumStore& store = agent->forum;
        readFromMemory(
            store, store.size(), before, limit,
            [&](qsizetype i) {
                return Item{store.at(i).seq, store.at(i).json};
            },
            &page);
    } else {
        const LogStore& store = agent->log;
        readFromMemory(
            store, store.lineCount(), before, limit,
            [&](qsizetype i) {
                const LogLine line = store.lineAt(i);
                Item item{line.seq, {}};
                Wire::appendLine(item.json, line);
                return item;
            },
            &page);
    }
    c->send(replyJson(ref, *agent, forum, page));
}
