#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Installs what is missing, builds, and starts the AgentDeck desktop app.
# Arguments are passed on to the app (try --help).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${AGENTDECK_BUILD_DIR:-$root/build}"

# The window needs a display; say so before spending minutes on a build.
needs_display=1
for arg in "$@"; do
    case "$arg" in
    -h | --help | --help-all | -v | --version | -platform) needs_display=0 ;;
    esac
done
if [ "$needs_display" = 1 ] && [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] &&
    [ -z "${QT_QPA_PLATFORM:-}" ]; then
    echo "agentdeck: cannot open the window: no display (neither DISPLAY nor WAYLAND_DISPLAY is set)." \
        "On a machine without a display, run the host alone with agentdeck-host (see agentdeck-host --help)." >&2
    exit 1
fi

"$root/scripts/build.sh"
exec "$build/app/agentdeck" "$@"
