#!/bin/sh
# Installs what building, running and testing rollguard needs on Debian 12
# (bookworm). Safe to run again: it asks apt only for what is missing.
set -eu

PKGS="make gcc libc6-dev pkg-config git ca-certificates curl python3 \
libevent-dev libcurl4-openssl-dev libjansson-dev libyaml-dev libssl-dev \
check valgrind prometheus"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done

if [ -n "$missing" ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        SUDO="sudo"
    fi
    echo "install-deps: installing:$missing"
    $SUDO apt-get update
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends $missing
fi
