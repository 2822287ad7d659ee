// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "server/protocol/agentdefinition.h"

#include <vector>

/// The demo's agents: a research pipeline of agentdeck-demo-agent processes
/// (three engines and the forum host), for this session only (never saved).
std::vector<AgentDefinition> demoAgentDefinitions(const QString& program, double speed = 1.0);

/// agentdeck-demo-agent next to this program, else in the installed libexec/agentdeck
/// folder, else by name through PATH.
QString demoAgentProgram();
