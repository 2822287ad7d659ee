// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/commandline.h"

#include "server/protocol/json.h"

namespace CommandLine {

namespace {

QByteArray objectWith(const char* key, const QString& value)
{
    QByteArray json;
    Json::Writer w(&json);
    w.beginObject().key(key).string(value).endObject();
    return json;
}

/// The arguments written after a command's name.
Command withArguments(const QString& name, const QString& rest)
{
    Command command;
    command.name = name;
    if (name == QLatin1String("signal")) {
        if (rest.isEmpty())
            command.error = QStringLiteral("signal needs a signal name, e.g. \"signal SIGUSR1\"");
        else
            command.args = objectWith("signal", rest);
    } else if (name == QLatin1String("stdin")) {
        command.args = objectWith("text", rest);
    } else if (rest.startsWith(QLatin1Char('{'))) {
        const QByteArray json = rest.toUtf8();
        Json::Document document;
        if (document.parse(json) && document.root().isObject())
            command.args = json;
        else
            command.error = QStringLiteral("the arguments are not a JSON object: %1").arg(rest);
    } else if (!rest.isEmpty()) {
        command.args = objectWith("text", rest);
    }
    return command;
}

} // namespace

const QStringList& builtins()
{
    static const QStringList names{QStringLiteral("start"), QStringLiteral("stop"),   QStringLiteral("restart"),
                                   QStringLiteral("kill"),  QStringLiteral("signal"), QStringLiteral("stdin")};
    return names;
}

bool isDisruptive(const QString& name)
{
    return name == QLatin1String("stop") || name == QLatin1String("kill") || name == QLatin1String("restart");
}

Command parse(const QString& line, bool launched, const QStringList& advertised)
{
    QString text = line;
    while (text.endsWith(QLatin1Char('\n')) || text.endsWith(QLatin1Char('\r')))
        text.chop(1);
    const QString trimmed = text.trimmed();
    if (trimmed.isEmpty()) {
        Command empty;
        empty.error = QStringLiteral("nothing to send");
        return empty;
    }
    const bool forced = trimmed.startsWith(QLatin1Char('/'));
    const QString body = forced ? trimmed.mid(1).trimmed() : trimmed;
    const qsizetype space = body.indexOf(QLatin1Char(' '));
    const QString name = space < 0 ? body : body.left(space);
    const QString rest = space < 0 ? QString() : body.mid(space + 1).trimmed();
    if (name.isEmpty()) {
        Command empty;
        empty.error = QStringLiteral("a command name is missing after '/'");
        return empty;
    }
    const bool known = (launched && builtins().contains(name)) || advertised.contains(name);
    if (forced || known || !launched)
        return withArguments(name, rest);
    // Anything else is input for the program, exactly as typed.
    Command input;
    input.name = QStringLiteral("stdin");
    input.args = objectWith("text", text);
    return input;
}

QStringList completions(bool anyLaunched, const QStringList& advertised)
{
    QStringList words;
    if (anyLaunched) {
        words = builtins();
        for (const char* signal : {"SIGHUP", "SIGINT", "SIGTERM", "SIGUSR1", "SIGUSR2"})
            words << QStringLiteral("signal ") + QLatin1String(signal);
    }
    for (const QString& name : advertised) {
        if (!words.contains(name))
            words << name;
    }
    words.sort();
    return words;
}

} // namespace CommandLine
