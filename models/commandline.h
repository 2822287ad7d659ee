// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QString>
#include <QStringList>

/*
 * What a line typed in the command bar means for one agent.
 *
 * A first word that names a command the agent takes (the host's built-ins for
 * launched agents, or a command the agent advertises) sends that command: the
 * rest of the line becomes its arguments ("signal SIGUSR1" -> {"signal":
 * "SIGUSR1"}; a JSON object is passed as it is; other text as {"text": ...}).
 * A line starting with '/' is always a command. Any other line goes to a
 * launched agent's stdin, and to a connected agent as a command named by its
 * first word.
 */
namespace CommandLine {

struct Command
{
    QString name;
    QByteArray args = QByteArrayLiteral("{}"); // a JSON object
    QString error; // why the line cannot be sent; empty when it can
};

/// The commands the host itself handles for agents it launched.
const QStringList& builtins();
/// Built-ins that end or interrupt a run: sending them to several agents asks first.
bool isDisruptive(const QString& name);

Command parse(const QString& line, bool launched, const QStringList& advertised);

/// What completion offers for agents of these kinds: built-ins (with the common
/// signals spelled out) when any is launched, and every advertised command.
QStringList completions(bool anyLaunched, const QStringList& advertised);

} // namespace CommandLine
