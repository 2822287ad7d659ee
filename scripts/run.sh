#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Installs what is missing, builds, and starts the AgentDeck desktop app.
# Arguments are passed on to the app (try --help).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${AGENTDECK_BUILD_DIR:-$root/build}"
"$root/scripts/build.sh"
exec "$build/app/agentdeck" "$@"
