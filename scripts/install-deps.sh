#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Installs the Debian packages AgentDeck needs to build, run and test.
# Does nothing (and needs no network) when they are all present. Further
# package names given as arguments are installed with them (the packaging
# scripts name the Debian tools they use).
set -euo pipefail

packages=(
    # the compiler and the build
    build-essential cmake ninja-build
    # Qt 6: Core, Network, Widgets, WebSockets, Charts; the xcb and offscreen
    # platforms come with the Gui library these pull in
    qt6-base-dev qt6-websockets-dev qt6-charts-dev
    # Qt6Charts' CMake package needs Qt6OpenGL's, which qt6-base-dev only recommends
    libqt6opengl6-dev
    # Hyperscan, which matches alert rules against console lines; PCRE2, which the
    # alert benchmark compares it with
    libhyperscan-dev libpcre2-dev pkg-config
    # rsvg-convert, which renders the application icon's PNGs during the build
    librsvg2-bin
    # a font with Chinese characters: the consoles of BettaFish, MaiMBot and LangBot are mostly Chinese
    fonts-wqy-microhei
    # the tests: a Python bot client, and certificates for the wss:// tests
    python3 python3-websockets openssl
    # the BettaFish bridge's tests: a Flask-SocketIO server in BettaFish's shapes
    python3-flask-socketio python3-eventlet
    # the Python client's tests: pytest, and a virtual environment it is installed into
    python3-pytest python3-venv python3-pip python3-setuptools
)
packages+=("$@")

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
