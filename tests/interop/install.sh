#!/bin/sh
# Installs what tests/interop needs on Debian 12 (bookworm), as root; safe to
# run again: apt is asked only for what is missing, and `npm ci` runs only
# when node_modules was not installed from this very package-lock.json.
#
#   Debian: golang-go, golang-github-prometheus-client-golang-dev (client_golang
#           in /usr/share/gocode), python3-prometheus-client, prometheus, and
#           nodejs and npm unless `node` and `npm` are already on PATH
#   npm:    tests/interop/node/package-lock.json
set -eu

here=$(cd "$(dirname "$0")" && pwd)

missing=""
for p in golang-go golang-github-prometheus-client-golang-dev python3-prometheus-client \
         prometheus; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"

if [ -n "$missing" ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        SUDO="sudo"
    fi
    echo "interop install: installing:$missing"
    $SUDO apt-get update
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends $missing
fi

# The newest OpenTelemetry JS packages that run on Debian 12's Node 18.20 need 18.19.
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number);
              process.exit(a > 18 || (a === 18 && b >= 19) ? 0 : 1)'; then
    echo "interop install: Node $(node --version) is too old; 18.19 or newer is needed" >&2
    exit 1
fi

lock_sum=$(sha256sum "$here/node/package-lock.json" | cut -d' ' -f1)
stamp="$here/node/node_modules/.interop-lock.sha256"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lock_sum" ]; then
    echo "interop install: node_modules matches package-lock.json"
else
    (cd "$here/node" && npm ci --no-audit --no-fund)
    echo "$lock_sum" > "$stamp"
fi
