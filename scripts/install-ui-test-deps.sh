#!/bin/sh
# Installs what the browser tests (cargo test --test ui) need: Debian's chromium and
# chromium-driver, and axe-core from npm (package-lock.json). Idempotent; run as root in CI.
set -eu
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium chromium-driver
fi
if [ ! -f node_modules/axe-core/axe.min.js ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund
fi
echo "UI test dependencies ready: $(/usr/bin/chromium --version 2>/dev/null || echo chromium), axe-core $(node -p "require('./node_modules/axe-core/package.json').version")"
