// SPDX-License-Identifier: GPL-3.0-or-later
// HostConfig::load() on any file: it loads or says where the problem is. Agents it
// loads survive saveAgents() and a second load unchanged, and every definition that
// AgentDefinition::fromJson() accepts reads back from its toJson().
#include "fuzz/fuzzcheck.h"
#include "server/engine/hostconfig.h"
#include "server/protocol/json.h"

#include <QFile>

#include <cstdint>

namespace {

using Fuzz::check;

// A definition read from its own JSON is the same definition.
void checkRoundTrip(const AgentDefinition& definition)
{
    Json::Document doc;
    const QByteArray json = definition.toJson();
    check(doc.parse(json), "a definition's JSON parses");
    AgentDefinition again;
    QString error;
    check(AgentDefinition::fromJson(doc.root(), {}, &again, &error), "a definition's JSON reads back");
    check(again == definition, "a definition reads back the same");
}

void loadFile(const QByteArray& text)
{
    const QString path = Fuzz::scratchDirectory() + QStringLiteral("/host.json");
    {
        QFile file(path);
        check(file.open(QIODevice::WriteOnly | QIODevice::Truncate) && file.write(text) == text.size(),
              "the scratch folder is writable");
    }
    HostConfig config;
    QString error;
    if (!config.load(path, &error)) {
        check(error.startsWith(path), "a problem names the file");
        return;
    }
    for (const AgentDefinition& agent : config.agents)
        checkRoundTrip(agent);
    // Agent edits are saved into the file; it then loads to the same agents.
    check(saveAgents(path, config.agents, &error), "the agents of a file that loaded can be saved into it");
    HostConfig again;
    check(again.load(path, &error), "a file with saved agents loads");
    check(again.agents == config.agents, "saved agents load the same");
    check(again.port == config.port && again.token == config.token, "saving agents keeps the rest of the file");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const QByteArray text(reinterpret_cast<const char*>(data), qsizetype(size));
    loadFile(text);

    // The parts on their own: a list of agents, or one definition.
    Json::Document doc;
    if (!doc.parse(text))
        return 0;
    std::vector<AgentDefinition> agents;
    QString error;
    const char* at = nullptr;
    const Json::Value root = doc.root();
    const Json::Value list = root.isArray() ? root : root["agents"];
    if (!readAgents(list, &agents, &error, &at))
        check(!error.isEmpty(), "a list of agents that does not read says why");
    AgentDefinition definition;
    if (AgentDefinition::fromJson(root, QStringLiteral("agent."), &definition, &error, &at))
        checkRoundTrip(definition);
    else
        check(!error.isEmpty(), "a definition that does not read says why");
    return 0;
}
