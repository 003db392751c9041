#!/bin/sh
# Install what the browser tests need, if missing: Debian's Chromium and axe-core (npm).
# Called by the Makefile and CI; safe to run again.
set -eu
cd "$(dirname "$0")/../.."
if ! command -v chromium >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
    $SUDO apt-get update
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y chromium
fi
if [ ! -f .cache/axe/node_modules/axe-core/axe.min.js ]; then
    npm install --no-audit --no-fund --prefix .cache/axe axe-core@4
fi
