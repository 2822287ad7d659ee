// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/protocol/json.h"
#include "server/protocol/loglevel.h"
#include "server/protocol/protocol.h"

#include <QByteArray>
#include <array>
#include <optional>

class Redactor;
struct LogLine;

/*
 * What the engine's parts write on the wire and read from it, shared so that a
 * message looks the same whichever part sends it.
 */
namespace Wire {

/// The most lines, and about the most bytes, one log, forum or history message carries.
constexpr int MaxLinesPerMessage = 2000;
constexpr qsizetype MaxBytesPerMessage = 512 * 1024;
/// The source of lines the host writes into a console itself (process started, exited...).
constexpr QByteArrayView HostSource = "agentdeck";

/// One stored line as its JSON object, appended to out. Runs for every line sent.
void appendLine(QByteArray& out, const LogLine& line);

/// A forum message as a ForumStore holds it and viewers get it (without agent).
QByteArray forumMessage(qint64 seq, qint64 ts, QByteArrayView sender, QByteArrayView role,
                        std::optional<QByteArrayView> source, QByteArrayView text, bool startsConversation = false);

/// An agent's status as viewers get it (without type and agent): the state, and of
/// what the agent sent only the known fields of the kinds they must have, its text and
/// task titles redacted; ts as given.
QByteArray status(QByteArrayView state, Json::Value given, qint64 ts, const Redactor& redactor);

/// An error message; ref is the raw JSON of the id it answers (or empty).
QByteArray error(QByteArrayView code, const QString& text, QByteArrayView ref = {});

/// A result message for the command with raw JSON id idJson.
QByteArray result(QByteArrayView idJson, QByteArrayView agentId, bool ok, QByteArrayView text,
                  QByteArrayView errorCode = {}, QByteArrayView extraRaw = {});

/// The level of a line that neither gives nor states one: WARNING on stderr, INFO on stdout.
LogLevel defaultLevel(Protocol::Stream stream);
/// The level a line gets on its own: as given, else inferred from its text, else the stream's default.
LogLevel lineLevel(LogLevel given, Protocol::Stream stream, QByteArrayView text);

/// A reader of one message's fields by name, in a single pass over its members.
template <size_t N>
void readMembers(Json::Value object, const std::array<QByteArrayView, N>& names, std::array<Json::Value, N>* values)
{
    for (const Json::Value member : object.items()) {
        const QByteArrayView key = member.key();
        for (size_t i = 0; i < N; ++i) {
            if (key == names[i] && (*values)[i].isUndefined()) {
                (*values)[i] = member;
                break;
            }
        }
    }
}

} // namespace Wire
