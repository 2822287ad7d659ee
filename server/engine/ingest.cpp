// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/engine/ingest.h"

#include "server/engine/agentregistry.h"
#include "server/engine/connection.h"
#include "server/engine/hostconfig.h"
#include "server/engine/redactor.h"
#include "server/engine/viewerfeed.h"
#include "server/engine/wire.h"
#include "server/protocol/simd.h"

#include <QObject>
#include <QTimer>
#include <QtAlgorithms>
#include <algorithm>
#include <cstring>
#include <optional>

using namespace Protocol;

namespace {

/// An unfinished line goes to viewers at most this often.
constexpr int PartialIntervalMs = 100;

/// For an item its agent numbered: false for a duplicate (a resend after a reconnect);
/// otherwise records the numbers the agent skipped as an agent_dropped gap.
template <typename Store>
bool admitNumbered(Store& store, qint64 seq)
{
    if (seq <= store.lastSeq())
        return false;
    if (seq > store.lastSeq() + 1)
        store.addGap(store.lastSeq() + 1, seq - 1, GapReason::AgentDropped);
    return true;
}

bool present(const Json::Value& v)
{
    return !v.isUndefined() && !v.isNull();
}

} // namespace

/// What one log message did, for the errors it earns.
struct Ingest::LogBatch
{
    qint64 now = 0;
    int rejected = 0;
    QString firstProblem;
    bool rateLimited = false;

    void reject(const QString& problem)
    {
        if (++rejected == 1)
            firstProblem = problem;
    }
};

Ingest::Ingest(const HostConfig& config, AgentRegistry& registry, ViewerFeed& feed, const Redactor& redactor,
               QObject* context)
    : m_config(config)
    , m_registry(registry)
    , m_feed(feed)
    , m_redactor(redactor)
    , m_context(context)
{ }

namespace {

/// Whether text holds secret (at least two bytes). With SSE2, sixteen places at a time
/// are tested for the secret's first and last bytes together, so a line without it
/// costs a few nanoseconds; QByteArrayView::indexOf and memmem spend tens of them
/// preparing their search for a long needle.
bool holds(QByteArrayView text, QByteArrayView secret)
{
    const qsizetype n = text.size();
    const qsizetype k = secret.size();
    if (k < 2 || n < k)
        return false;
    const char* s = text.data();
    qsizetype i = 0;
#if AGENTDECK_SSE2
    const __m128i first = _mm_set1_epi8(secret[0]);
    const __m128i last = _mm_set1_epi8(secret[k - 1]);
    for (; i + 16 <= n - k + 1; i += 16) {
        const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i));
        const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i + k - 1));
        quint32 mask = quint32(_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, first), _mm_cmpeq_epi8(b, last))));
        while (mask) {
            const int at = qCountTrailingZeroBits(mask);
            if (std::memcmp(s + i + at + 1, secret.data() + 1, size_t(k - 2)) == 0)
                return true;
            mask &= mask - 1;
        }
    }
#endif
    for (; i <= n - k; ++i) {
        if (s[i] == secret[0] && std::memcmp(s + i, secret.data(), size_t(k)) == 0)
            return true;
    }
    return false;
}

} // namespace

void Ingest::setHostSecrets(const QList<QByteArray>& secrets)
{
    m_hostSecrets.clear();
    for (const QByteArray& secret : secrets) {
        if (secret.size() >= MinSecretBytes)
            m_hostSecrets.append(secret);
    }
}

QByteArrayView Ingest::withoutHostSecrets(const Agent& agent, QByteArrayView text, QByteArray* scratch) const
{
    if (text.size() < MinSecretBytes)
        return text;
    QByteArray replaced;
    const auto scrub = [&](QByteArrayView secret) {
        if (secret.size() < MinSecretBytes || !holds(replaced.isNull() ? text : QByteArrayView(replaced), secret))
            return;
        if (replaced.isNull())
            replaced = text.toByteArray();
        replaced.replace(secret, Redactor::Marker);
    };
    // A launched process knows its own token (and whatever its environment held).
    scrub(agent.ownToken);
    for (const QByteArray& secret : m_hostSecrets)
        scrub(secret);
    if (replaced.isNull())
        return text;
    *scratch = std::move(replaced);
    return *scratch;
}

QByteArrayView Ingest::redactedLine(Agent& agent, Stream stream, bool partial, QByteArrayView text, QByteArray* scratch)
{
    // A partial line is the start of a line still to come: it reads the console's
    // state (a private key being printed) without moving it on.
    Redactor::Stream state = agent.redactStreams[int(stream)];
    const QByteArrayView result = m_redactor.redacted(text, scratch, &state);
    if (!partial)
        agent.redactStreams[int(stream)] = state;
    return withoutHostSecrets(agent, result, scratch);
}

QByteArrayView Ingest::redactedSource(QByteArrayView source)
{
    // An agent writes the same few sources over and over: the last one is remembered.
    if (source != m_lastSource) {
        m_lastSource = source.toByteArray();
        m_lastSourceRedacted = m_redactor.redact(source, &m_sourceScratch);
    }
    return m_lastSourceRedacted ? QByteArrayView(m_sourceScratch) : QByteArrayView(m_lastSource);
}

// ---------------------------------------------------------------------------
// Console lines

void Ingest::log(Connection* c, Json::Value root, QByteArrayView ref)
{
    Agent& agent = *c->agent;
    const Json::Value lines = root["lines"];
    if (!lines.isArray()) {
        c->sendError(ErrorCode::BadMessage, QStringLiteral("log needs an array \"lines\""), ref);
        return;
    }
    LogBatch batch;
    batch.now = nowMs();
    QByteArray scratch;
    static constexpr std::array<QByteArrayView, 7> names = {"text", "stream", "level",  "source",
                                                            "ts",   "seq",    "partial"};
    for (const Json::Value line : lines.items()) {
        std::array<Json::Value, 7> f;
        if (line.isObject())
            Wire::readMembers(line, names, &f);
        if (!f[0].isString()) {
            batch.reject(QStringLiteral("a line needs a string \"text\""));
            continue;
        }
        const Stream stream = f[1].isString() && f[1].toUtf8() == "stderr" ? Stream::Stderr : Stream::Stdout;
        const QByteArrayView text = redactedLine(agent, stream, f[6].toBool(), f[0].toUtf8(), &scratch);
        const LogLevel level = f[2].isString() ? parseLogLevel(f[2].toUtf8()) : LogLevel::Unknown;
        const QByteArrayView source = f[3].isString() ? redactedSource(f[3].toUtf8()) : QByteArrayView();
        const qint64 ts = readTimestamp(f[4], batch.now);
        if (f[6].toBool()) {
            setPartial(agent, stream, ts, level, source, text);
            continue;
        }
        if (present(f[5])) {
            const qint64 last = agent.supervisor ? agent.botLogSeq : agent.log.lastSeq();
            const QString problem =
                f[5].isInteger() ? seqProblem(f[5].toInteger(), last) : QStringLiteral("\"seq\" must be an integer");
            if (!problem.isEmpty()) {
                batch.reject(problem);
                continue;
            }
            numberedLine(agent, f[5].toInteger(), ts, stream, level, source, text, &batch);
        } else {
            unnumberedText(agent, ts, stream, level, source, text, &batch);
        }
        // A complete line ends the stream's unfinished one.
        agent.partial[int(stream)].present = false;
    }
    if (batch.rejected > 0) {
        c->sendError(
            ErrorCode::BadMessage,
            QStringLiteral("%1 of %2 lines rejected: %3").arg(batch.rejected).arg(lines.size()).arg(batch.firstProblem),
            ref);
    }
    if (batch.rateLimited && batch.now - agent.lastRateErrorMs >= 1000) {
        agent.lastRateErrorMs = batch.now;
        c->sendError(
            ErrorCode::RateLimited,
            QStringLiteral("over %1 lines per second; lines were dropped").arg(m_config.rateLimitLinesPerSecond));
    }
    m_feed.schedulePump();
}

void Ingest::numberedLine(Agent& agent, qint64 seq, qint64 ts, Stream stream, LogLevel level, QByteArrayView source,
                          QByteArrayView text, LogBatch* batch)
{
    if (agent.supervisor) {
        // The bot's numbers only tell resends apart; the host numbers what it stores,
        // because the child's captured output shares the agent's numbers.
        if (seq <= agent.botLogSeq)
            return;
        agent.botLogSeq = seq;
        seq = agent.log.lastSeq() + 1;
    }
    const qint64 previous = agent.log.lastSeq();
    if (!admitNumbered(agent.log, seq))
        return;
    if (agent.file && seq > previous + 1)
        agent.file->appendGap(previous + 1, seq - 1, GapReason::AgentDropped);
    storeLine(agent, seq, ts, stream, recordLevel(agent, level, stream, text, ts), source, text, batch);
}

void Ingest::unnumberedText(Agent& agent, qint64 ts, Stream stream, LogLevel level, QByteArrayView source,
                            QByteArrayView text, LogBatch* batch)
{
    // One line per "\n"; a trailing newline adds none. The first line's level is
    // the level of them all.
    if (text.endsWith('\n'))
        text.chop(text.endsWith("\r\n") ? 2 : 1);
    bool first = true;
    qsizetype start = 0;
    while (true) {
        const qsizetype nl = text.indexOf('\n', start);
        QByteArrayView piece = text.sliced(start, (nl < 0 ? text.size() : nl) - start);
        if (nl >= 0 && piece.endsWith('\r'))
            piece.chop(1);
        if (first) {
            level = recordLevel(agent, level, stream, piece, ts);
            first = false;
        }
        if (agent.log.lastSeq() >= MaxSeq) {
            batch->reject(QStringLiteral("this agent's console has used every number up to 2^53-1"));
            break;
        }
        storeLine(agent, agent.log.lastSeq() + 1, ts, stream, level, source, piece, batch);
        if (nl < 0)
            break;
        start = nl + 1;
    }
}

void Ingest::storeLine(Agent& agent, qint64 seq, qint64 ts, Stream stream, LogLevel level, QByteArrayView source,
                       QByteArrayView text, LogBatch* batch)
{
    if (rateAllows(agent, batch->now)) {
        m_registry.appendLine(agent, seq, ts, stream, level, source, text);
    } else {
        m_registry.addLogGap(agent, seq, seq, GapReason::RateLimited);
        batch->rateLimited = true;
    }
}

LogLevel Ingest::recordLevel(Agent& agent, LogLevel given, Stream stream, QByteArrayView text, qint64 ts)
{
    return agent.records[int(stream)].next(given, Wire::defaultLevel(stream), text, ts);
}

bool Ingest::rateAllows(Agent& agent, qint64 now)
{
    if (m_config.rateLimitLinesPerSecond <= 0)
        return true;
    const double burst = m_config.rateLimitBurst > 0 ? m_config.rateLimitBurst : m_config.rateLimitLinesPerSecond;
    if (agent.rateRefillMs == 0) {
        agent.rateTokens = burst;
    } else {
        agent.rateTokens = std::min(
            burst, agent.rateTokens + double(now - agent.rateRefillMs) * m_config.rateLimitLinesPerSecond / 1000.0);
    }
    agent.rateRefillMs = now;
    if (agent.rateTokens >= 1) {
        agent.rateTokens -= 1;
        return true;
    }
    return false;
}

void Ingest::setPartial(Agent& agent, Stream stream, qint64 ts, LogLevel level, QByteArrayView source,
                        QByteArrayView text)
{
    PartialLine& p = agent.partial[int(stream)];
    p.present = true;
    p.text = text.toByteArray();
    p.source = source.toByteArray();
    p.level = Wire::lineLevel(level, stream, text);
    p.ts = ts;
    ++p.latest;
    const qint64 now = nowMs();
    if (now - p.lastForwardMs >= PartialIntervalMs) {
        p.version = p.latest;
        p.lastForwardMs = now;
        m_feed.schedulePump();
    } else if (!p.timerArmed) {
        p.timerArmed = true;
        const QByteArray id = agent.id;
        const int s = int(stream);
        QTimer::singleShot(int(PartialIntervalMs - (now - p.lastForwardMs)), m_context,
                           [this, id, s] { releasePartial(id, s); });
    }
}

void Ingest::releasePartial(const QByteArray& agentId, int stream)
{
    Agent* agent = m_registry.find(agentId);
    if (!agent)
        return;
    PartialLine& p = agent->partial[stream];
    p.timerArmed = false;
    if (p.present && p.version != p.latest) {
        p.version = p.latest;
        p.lastForwardMs = nowMs();
        m_feed.schedulePump();
    }
}

// ---------------------------------------------------------------------------
// Launched processes

void Ingest::capturedLine(Agent& agent, Stream stream, qint64 ts, QByteArrayView text)
{
    text = redactedLine(agent, stream, false, text, &m_scratch);
    const LogLevel level = recordLevel(agent, LogLevel::Unknown, stream, text, ts);
    m_registry.appendLine(agent, agent.log.lastSeq() + 1, ts, stream, level, {}, text);
}

void Ingest::capturedPartial(Agent& agent, Stream stream, qint64 ts, QByteArrayView text)
{
    if (text.isEmpty()) {
        agent.partial[int(stream)].present = false;
        return;
    }
    setPartial(agent, stream, ts, LogLevel::Unknown, {}, redactedLine(agent, stream, true, text, &m_scratch));
}

void Ingest::hostLine(Agent& agent, LogLevel level, const QByteArray& text)
{
    // The launcher's notes quote the command line, which may hold a password.
    QByteArray scratch;
    m_registry.appendLine(agent, agent.log.lastSeq() + 1, nowMs(), Stream::Stdout, level, Wire::HostSource,
                          withoutHostSecrets(agent, m_redactor.redacted(text, &scratch), &scratch));
    m_feed.schedulePump();
}

void Ingest::bridgedLine(Agent& agent, qint64 ts, LogLevel level, QByteArrayView source, QByteArrayView text)
{
    text = redactedLine(agent, Stream::Stdout, false, text, &m_scratch);
    m_registry.appendLine(agent, agent.log.lastSeq() + 1, ts, Stream::Stdout,
                          recordLevel(agent, level, Stream::Stdout, text, ts), redactedSource(source), text);
}

void Ingest::bridgedForum(Agent& agent, qint64 ts, QByteArrayView sender, QByteArrayView role, QByteArrayView source,
                          QByteArrayView text, bool startsConversation)
{
    QByteArray scratch;
    QByteArray senderScratch;
    const QByteArrayView body = withoutHostSecrets(agent, m_redactor.redacted(text, &scratch), &scratch);
    const QByteArray cleanSender = m_redactor.redacted(sender, &senderScratch).toByteArray();
    const QByteArray cleanSource = redactedSource(source).toByteArray();
    const qint64 seq = agent.forum.lastSeq() + 1;
    agent.forum.append(seq,
                       Wire::forumMessage(seq, ts, cleanSender, role, std::optional<QByteArrayView>(cleanSource), body,
                                          startsConversation));
    if (agent.forumFile)
        agent.forumFile->appendMessage(seq, ts, role, cleanSender, cleanSource, body);
}

// ---------------------------------------------------------------------------
// Forum, metrics, status, questions

void Ingest::forum(Connection* c, Json::Value root, QByteArrayView ref)
{
    Agent& agent = *c->agent;
    const Json::Value messages = root["messages"];
    if (!messages.isArray()) {
        c->sendError(ErrorCode::BadMessage, QStringLiteral("forum needs an array \"messages\""), ref);
        return;
    }
    const qint64 now = nowMs();
    LogBatch batch;
    QByteArray scratch;
    QByteArray senderScratch;
    QByteArray sourceScratch;
    for (const Json::Value m : messages.items()) {
        const Json::Value text = m["text"];
        if (!m.isObject() || !text.isString()) {
            batch.reject(QStringLiteral("a message needs a string \"text\""));
            continue;
        }
        const Json::Value roleValue = m["role"];
        const QByteArrayView role = roleValue.isString() ? roleValue.toUtf8() : QByteArrayView("agent");
        if (!isValidForumRole(role)) {
            batch.reject(QStringLiteral("\"role\" must be agent, host, system or user"));
            continue;
        }
        if (agent.forum.lastSeq() >= MaxSeq) {
            batch.reject(QStringLiteral("this agent's forum has used every number up to 2^53-1"));
            continue;
        }
        qint64 seq = agent.forum.lastSeq() + 1;
        const Json::Value seqValue = m["seq"];
        if (present(seqValue)) {
            const QString problem = seqValue.isInteger() ? seqProblem(seqValue.toInteger(), agent.forum.lastSeq())
                                                         : QStringLiteral("\"seq\" must be an integer");
            if (!problem.isEmpty()) {
                batch.reject(problem);
                continue;
            }
            seq = seqValue.toInteger();
            const qint64 previous = agent.forum.lastSeq();
            if (!admitNumbered(agent.forum, seq))
                continue;
            if (agent.forumFile && seq > previous + 1)
                agent.forumFile->appendGap(previous + 1, seq - 1, GapReason::AgentDropped);
        }
        const QByteArrayView body = withoutHostSecrets(agent, m_redactor.redacted(text.toUtf8(), &scratch), &scratch);
        const qint64 ts = readTimestamp(m["ts"], now);
        QByteArray sender = agent.name.toUtf8();
        if (m["sender"].isString())
            sender = m_redactor.redacted(m["sender"].toUtf8(), &senderScratch).toByteArray();
        const std::optional<QByteArrayView> source = m["source"].isString()
            ? std::optional(m_redactor.redacted(m["source"].toUtf8(), &sourceScratch))
            : std::nullopt;
        agent.forum.append(seq, Wire::forumMessage(seq, ts, sender, role, source, body));
        if (agent.forumFile)
            agent.forumFile->appendMessage(seq, ts, role, sender, source.value_or(QByteArrayView()), body);
    }
    if (batch.rejected > 0) {
        c->sendError(ErrorCode::BadMessage,
                     QStringLiteral("%1 of %2 messages rejected: %3")
                         .arg(batch.rejected)
                         .arg(messages.size())
                         .arg(batch.firstProblem),
                     ref);
    }
    m_feed.schedulePump();
}

bool Ingest::withinItemLimit(Connection* c, Json::Value root, QByteArrayView what, QByteArrayView ref)
{
    if (root.raw().size() <= m_config.maxStatusBytes)
        return true;
    c->sendError(ErrorCode::BadMessage,
                 QStringLiteral("%1 is %2 bytes, over the host's limit of %3")
                     .arg(QLatin1String(what))
                     .arg(root.raw().size())
                     .arg(m_config.maxStatusBytes),
                 ref);
    return false;
}

void Ingest::metrics(Connection* c, Json::Value root, QByteArrayView ref)
{
    if (!withinItemLimit(c, root, "a metrics message", ref))
        return;
    const Json::Value values = root["values"];
    if (!values.isObject()) {
        c->sendError(ErrorCode::BadMessage, QStringLiteral("metrics needs an object \"values\""), ref);
        return;
    }
    QByteArray json;
    Json::Writer w(&json);
    w.beginObject().key("type").string("metrics").key("agent").string(c->agent->id);
    w.key("ts").integer(readTimestamp(root["ts"], nowMs())).key("values").beginObject();
    QByteArray scratch;
    for (const Json::Value v : values.items()) {
        if (v.isNumber())
            w.key(m_redactor.redacted(v.key(), &scratch)).raw(v.raw());
    }
    w.endObject().endObject();
    m_feed.broadcast(*c->agent, json, true);
}

void Ingest::status(Connection* c, Json::Value root, QByteArrayView ref)
{
    if (!withinItemLimit(c, root, "a status", ref))
        return;
    const Json::Value state = root["state"];
    if (!state.isString() || !isValidStatusState(state.toUtf8())) {
        c->sendError(ErrorCode::BadMessage,
                     QStringLiteral("status.state must be one of starting, running, idle, busy, stopping, stopped, "
                                    "crashed, error"),
                     ref);
        return;
    }
    Agent& agent = *c->agent;
    const qint64 ts = readTimestamp(root["ts"], nowMs());
    const QByteArray status = Wire::status(state.toUtf8(), root, ts, m_redactor);
    agent.state = state.toUtf8().toByteArray();
    agent.statusJson = status;
    m_feed.broadcast(agent, "{\"type\":\"status\",\"agent\":\"" + agent.id + "\"," + status.mid(1), false);
}

void Ingest::ask(Connection* c, Json::Value root, QByteArrayView ref)
{
    if (!withinItemLimit(c, root, "a question", ref))
        return;
    const Json::Value id = root["id"];
    const Json::Value text = root["text"];
    if (!id.isString() || id.toUtf8().isEmpty() || !text.isString()) {
        c->sendError(ErrorCode::BadMessage, QStringLiteral("ask needs a string \"id\" and \"text\""), ref);
        return;
    }
    Agent& agent = *c->agent;
    QByteArray scratch;
    QByteArray askJson;
    Json::Writer w(&askJson);
    w.beginObject().key("agent").string(agent.id).key("id").string(id.toUtf8());
    w.key("text").string(m_redactor.redacted(text.toUtf8(), &scratch));
    const Json::Value choices = root["choices"];
    if (choices.isArray()) {
        w.key("choices").beginArray();
        for (const Json::Value choice : choices.items()) {
            if (choice.isString())
                w.string(m_redactor.redacted(choice.toUtf8(), &scratch));
        }
        w.endArray();
    }
    w.key("ts").integer(readTimestamp(root["ts"], nowMs())).endObject();

    switch (m_registry.openAsk(agent, id.toUtf8().toByteArray(), askJson)) {
    case AgentRegistry::AskOutcome::Opened:
    case AgentRegistry::AskOutcome::Replaced:
        break;
    case AgentRegistry::AskOutcome::OverAgentLimit:
        c->sendError(ErrorCode::RateLimited,
                     QStringLiteral("this agent already has %1 open questions; answer or close some first")
                         .arg(m_config.maxAsksPerAgent),
                     ref);
        return;
    case AgentRegistry::AskOutcome::OverTotalLimit:
        c->sendError(ErrorCode::RateLimited,
                     QStringLiteral("the host already holds %1 open questions").arg(m_config.maxAsks), ref);
        return;
    }
    m_feed.broadcast(agent, "{\"type\":\"ask\"," + askJson.mid(1), false);
}
