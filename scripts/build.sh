#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Configures and builds AgentDeck. Environment:
#   AGENTDECK_BUILD_DIR  build directory (default: build)
#   AGENTDECK_SANITIZE   1 for an AddressSanitizer + UndefinedBehaviorSanitizer build (no benchmarks)
#   AGENTDECK_WERROR     1 to treat warnings as errors
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${AGENTDECK_BUILD_DIR:-$root/build}"
sanitize="${AGENTDECK_SANITIZE:-0}"
werror="${AGENTDECK_WERROR:-0}"

"$root/scripts/install-deps.sh"

on_off() { [ "$1" = "1" ] && echo ON || echo OFF; }
if [ ! -f "$build/build.ninja" ]; then
    cmake -S "$root" -B "$build" -G Ninja \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DAGENTDECK_SANITIZE="$(on_off "$sanitize")" \
        -DAGENTDECK_BUILD_BENCH="$([ "$sanitize" = "1" ] && echo OFF || echo ON)" \
        -DAGENTDECK_WERROR="$(on_off "$werror")" >/dev/null
fi
cmake --build "$build" --parallel "$(nproc)"
