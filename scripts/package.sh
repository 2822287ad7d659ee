#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Builds the Debian packages agentdeck-host, agentdeck and python3-agentdeck
# (with their -dbgsym packages) from the files git tracks in this clone, as
# they are now. Environment:
#   AGENTDECK_PACKAGE_DIR  where the packages go (default: build/packages)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${AGENTDECK_PACKAGE_DIR:-$root/build/packages}"

"$root/scripts/install-deps.sh" debhelper dh-python dpkg-dev

version="$(dpkg-parsechangelog -l "$root/debian/changelog" -S Version)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
src="$work/agentdeck-$version"
mkdir -p "$src"
# Only what git knows, so neither build folders nor caches end up in a package.
git -C "$root" ls-files -z --cached --others --exclude-standard |
    (cd "$root" && xargs -0 -r sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh) |
    tar -C "$root" --null -T - -cf - | tar -C "$src" -xf -

(cd "$src" && DEB_BUILD_OPTIONS="parallel=$(nproc) ${DEB_BUILD_OPTIONS:-}" \
    dpkg-buildpackage -b -us -uc --no-sign >"$work/build.log" 2>&1) || {
    tail -n 60 "$work/build.log"
    echo "package.sh: dpkg-buildpackage failed (log above)" >&2
    exit 1
}
mkdir -p "$out"
rm -f "$out"/*.deb "$out"/*.ddeb "$out"/*.changes "$out"/*.buildinfo
cp "$work"/*.deb "$work"/*.ddeb "$work"/*.changes "$work"/*.buildinfo "$out"/ 2>/dev/null || true
ls -1 "$out"
