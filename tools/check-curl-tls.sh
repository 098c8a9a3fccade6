#!/bin/sh
# Checks that the libcurl rollguard links verifies TLS peers: against a local
# `openssl s_server` with a fresh self-signed certificate for "localhost",
#   - without CAINFO the default CA bundle is the system one and the peer is
#     rejected (CURLE_PEER_FAILED_VERIFICATION, not a missing-bundle error);
#   - with CAINFO naming that certificate the request succeeds (HTTP 200);
#   - with CAINFO but a name the certificate does not carry, it is rejected.
#
#   tools/check-curl-tls.sh WORKDIR "CFLAGS" "LIBS"
#
# CFLAGS/LIBS compile and link against the libcurl under test (the Makefile
# passes its own). Environment: CC (default cc), OPENSSL (default openssl).
set -eu

if [ $# -ne 3 ]; then
    echo "usage: $0 WORKDIR CFLAGS LIBS" >&2
    exit 2
fi
work=$1
cflags=$2
libs=$3
cc=${CC:-cc}
openssl=${OPENSSL:-openssl}
bundle=/etc/ssl/certs/ca-certificates.crt

rm -rf "$work"
mkdir -p "$work"
server=
cleanup() {
    if [ -n "$server" ]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
}
trap cleanup EXIT INT TERM

cat > "$work/tls_get.c" <<'EOF'
/* tls_get URL [CAFILE]: one verified GET; prints "<CURLcode> <HTTP status> <default CA file>". */
#include <curl/curl.h>
#include <stdio.h>

static size_t sink(char *p, size_t sz, size_t n, void *u)
{
    (void)p;
    (void)u;
    return sz * n;
}

int main(int argc, char **argv)
{
    CURL *e;
    CURLcode c;
    long status = 0;
    char *ca = NULL;

    if (argc < 2 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(e = curl_easy_init()))
        return 2;
    curl_easy_getinfo(e, CURLINFO_CAINFO, &ca);
    printf("default-ca %s\n", ca ? ca : "-");
    curl_easy_setopt(e, CURLOPT_URL, argv[1]);
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (argc > 2)
        curl_easy_setopt(e, CURLOPT_CAINFO, argv[2]);
    c = curl_easy_perform(e);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    printf("result %d %ld\n", (int)c, status);
    curl_easy_cleanup(e);
    curl_global_cleanup();
    return 0;
}
EOF
# shellcheck disable=SC2086 # word splitting of the flag lists is wanted
"$cc" $cflags -o "$work/tls_get" "$work/tls_get.c" $libs

"$openssl" req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$work/key.pem" -out "$work/cert.pem" -days 1 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost > "$work/req.log" 2>&1 ||
    { cat "$work/req.log" >&2; exit 1; }

: > "$work/server.log"
"$openssl" s_server -accept 0 -cert "$work/cert.pem" -key "$work/key.pem" -www \
    >> "$work/server.log" 2>&1 < /dev/null &
server=$!
port=
i=0
while [ $i -lt 50 ]; do
    port=$(sed -n 's/^ACCEPT .*:\([0-9][0-9]*\)$/\1/p' "$work/server.log")
    [ -n "$port" ] && break
    sleep 0.1
    i=$((i + 1))
done
if [ -z "$port" ]; then
    cat "$work/server.log" >&2
    echo "check-curl-tls: openssl s_server did not start" >&2
    exit 1
fi

fails=0
expect() { # NAME EXPECTED-RESULT-LINE ARGS...
    name=$1
    want=$2
    shift 2
    "$work/tls_get" "$@" > "$work/out" 2>&1 || true
    got=$(sed -n 's/^result //p' "$work/out")
    if [ "$got" = "$want" ]; then
        echo "check-curl-tls: ok   $name ($got)"
    else
        echo "check-curl-tls: FAIL $name: got '$got', want '$want'" >&2
        cat "$work/out" >&2
        fails=$((fails + 1))
    fi
}

"$work/tls_get" "http://localhost:1/" > "$work/out" 2>&1 || true
if grep -qx "default-ca $bundle" "$work/out"; then
    echo "check-curl-tls: ok   default CA bundle is $bundle"
else
    echo "check-curl-tls: FAIL default CA bundle: $(head -n1 "$work/out"), want $bundle" >&2
    fails=$((fails + 1))
fi
# 60 = CURLE_PEER_FAILED_VERIFICATION (77 would mean the bundle was not found).
expect "self-signed peer rejected with the system bundle" "60 0" "https://localhost:$port/"
expect "self-signed peer accepted with CAINFO" "0 200" "https://localhost:$port/" "$work/cert.pem"
expect "name mismatch rejected with CAINFO" "60 0" "https://127.0.0.1:$port/" "$work/cert.pem"

if [ $fails -ne 0 ]; then
    exit 1
fi
