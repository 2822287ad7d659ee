// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QString>

/// Why items did not come, in words for a person: a protocol gap reason
/// (`evicted`, `slow_consumer`, `rate_limited`, `agent_dropped`), the link's own `missing`,
/// or the console's `rotated` (older than the host's log files reach) and `renumbered`.
QString describeGapReason(const QString& reason);
