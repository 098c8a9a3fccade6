#!/bin/sh
# Installs what building, running and testing rollguard needs on Debian 12
# (bookworm). Safe to run again: it asks apt only for what is missing.
#
#   sh install-deps.sh            build, run, make test
#   sh install-deps.sh --bench    also what make bench compares against and
#                                 drives: nginx, wrk, hyperfine, gnuplot
set -eu

PKGS="make gcc libc6-dev pkg-config git ca-certificates curl python3 \
libevent-dev libcurl4-openssl-dev libjansson-dev libyaml-dev libssl-dev \
check valgrind prometheus faketime clang-format"
# The default static libcurl (tools/build-curl.sh) is built from Debian's curl
# source package: dpkg-dev fetches and unpacks it (apt-get source, dpkg-source)
# and gives Debian's build flags; curl's shipped configure needs no autotools,
# and the features it is built with need only libssl-dev from above. openssl
# (the command) serves its TLS check. libcurl4-openssl-dev stays for
# `make SYSTEM_CURL=1`.
PKGS="$PKGS dpkg-dev openssl"
if [ "${1:-}" = "--bench" ]; then
    PKGS="$PKGS nginx-light wrk hyperfine gnuplot-nox util-linux"
fi

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
