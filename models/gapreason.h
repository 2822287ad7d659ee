// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QString>

/// Why items did not come, in words for a person: a protocol gap reason
/// (`evicted`, `slow_consumer`, `rate_limited`, `agent_dropped`) or the link's own `missing`.
QString describeGapReason(const QString& reason);
