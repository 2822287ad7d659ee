// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QIcon>

/// AgentDeck's own icon, for its windows: one image per size from 16 to 256
/// pixels, each drawn for its size (resources/), so none is scaled at run time.
QIcon applicationIcon();
