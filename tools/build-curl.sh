#!/bin/sh
# Builds the minimal static libcurl that rollguard links by default.
#
#   tools/build-curl.sh PREFIX [UPSTREAM_VERSION]
#
# It fetches Debian's own curl source package (with Debian's security patches)
# from the Debian mirror this machine's apt already uses, and builds only
# libcurl.a: HTTP and HTTPS over OpenSSL, the threaded (asynchronous) resolver,
# the system CA bundle, and nothing else (no HTTP/2, IDN, PSL, SSH, LDAP, RTMP,
# GSSAPI, brotli, zstd, zlib, cookies, MIME, NTLM/Digest or other protocols).
# Proxy support stays: rollguard sets CURLOPT_NOPROXY, which a proxy-less
# libcurl rejects as an unknown option.
#
# The result goes to PREFIX (include/, lib/libcurl.a, lib/pkgconfig/, BUILDINFO),
# moved there in one rename once the build and a smoke test have passed, so an
# existing PREFIX/lib/libcurl.a is always complete. The system's apt
# configuration is only read: the source index lives in a private directory.
#
# Environment: CC (default cc), CURL_JOBS (make -j, default 2),
# CURL_DSC (a local curl_*.dsc to build from instead of fetching).
# Needs: dpkg-dev, gcc, make, libssl-dev (see install-deps.sh).
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 PREFIX [UPSTREAM_VERSION]" >&2
    exit 2
fi
want=${2:-7.88.1}
case $1 in
/*) prefix=$1 ;;
*) prefix=$(pwd)/$1 ;;
esac
jobs=${CURL_JOBS:-2}
cc=${CC:-cc}

# Nothing from a calling make (jobserver, flags) leaks into curl's build.
unset MAKEFLAGS MFLAGS MAKELEVEL CFLAGS CPPFLAGS LDFLAGS LIBS || true

log() { echo "build-curl: $*" >&2; }

mkdir -p "$(dirname "$prefix")"
work=$(mktemp -d "$prefix.tmp.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

start=$(date +%s)

# --- 1. the source package --------------------------------------------------
mkdir -p "$work/src"
if [ -n "${CURL_DSC:-}" ]; then
    dsc=$(cd "$(dirname "$CURL_DSC")" && pwd)/$(basename "$CURL_DSC")
else
    # deb-src twins of this machine's own Debian entries (same mirror, same
    # keyring), for this release only; third-party repositories are skipped.
    # shellcheck disable=SC1091 # a system file
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    if [ -z "$codename" ]; then
        log "cannot tell the Debian release from /etc/os-release"
        exit 1
    fi
    apt="$work/apt"
    mkdir -p "$apt/sources.list.d" "$apt/lists/partial" "$apt/cache/archives/partial"
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        # One-line format: deb [opts] URI SUITE COMPONENT...
        awk -v rel="$codename" '
            $1 != "deb" { next }
            {
                i = 2; opts = ""
                if ($2 ~ /^\[/) {
                    while (i <= NF) { opts = opts " " $i; if ($i ~ /\]$/) break; i++ }
                    i++
                }
                uri = $i; suite = $(i + 1)
                if (index(suite, rel) != 1) next
                comps = ""
                for (j = i + 2; j <= NF && $j !~ /^#/; j++) comps = comps " " $j
                print "Types: deb-src"
                print "URIs: " uri
                print "Suites: " suite
                print "Components:" comps
                gsub(/[][]/, "", opts)
                n = split(opts, o, " ")
                for (k = 1; k <= n; k++) {
                    if (o[k] ~ /^signed-by=/) print "Signed-By: " substr(o[k], 11)
                    if (o[k] == "trusted=yes") print "Trusted: yes"
                }
                print ""
            }' "$f" >> "$apt/sources.list.d/debian-src.sources"
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        # deb822 stanzas: keep those of type deb for this release, as deb-src.
        awk -v rel="$codename" '
            BEGIN { RS = ""; FS = "\n" }
            {
                types = ""; suites = ""; enabled = "yes"
                for (i = 1; i <= NF; i++) {
                    if ($i ~ /^Types:/) types = " " substr($i, 7) " "
                    if ($i ~ /^Suites:/) suites = substr($i, 8)
                    if ($i ~ /^Enabled:/) enabled = substr($i, 9)
                }
                gsub(/[ \t]/, "", enabled)
                if (types !~ /[ \t]deb[ \t]/ || enabled == "no") next
                keep = ""
                n = split(suites, s, /[ \t]+/)
                for (k = 1; k <= n; k++)
                    if (index(s[k], rel) == 1) keep = keep " " s[k]
                if (keep == "") next
                for (i = 1; i <= NF; i++) {
                    if ($i ~ /^Types:/) print "Types: deb-src"
                    else if ($i ~ /^Suites:/) print "Suites:" keep
                    else print $i
                }
                print ""
            }' "$f" >> "$apt/sources.list.d/debian-src.sources"
    done
    if ! grep -q '^Types: deb-src' "$apt/sources.list.d/debian-src.sources" 2>/dev/null; then
        log "no Debian '$codename' entry found in /etc/apt/sources.list{,.d}"
        exit 1
    fi
    set -- -o Dir::Etc::SourceList=/dev/null \
        -o Dir::Etc::SourceParts="$apt/sources.list.d" \
        -o Dir::State::Lists="$apt/lists" \
        -o Dir::Cache="$apt/cache"
    if [ "$(id -u)" -eq 0 ]; then
        # The private directories are not readable by apt's _apt sandbox user.
        set -- "$@" -o APT::Sandbox::User=root
    fi
    log "fetching the curl source index ($codename)"
    # A failed secondary index (e.g. -updates) is not fatal; a missing
    # curl source is, below.
    apt-get -q "$@" update > "$work/apt-update.log" 2>&1 ||
        { cat "$work/apt-update.log" >&2; log "apt-get update reported errors"; }
    (cd "$work/src" && apt-get -q "$@" source --download-only curl) > "$work/apt-source.log" 2>&1 ||
        { cat "$work/apt-source.log" >&2; log "apt-get source curl failed"; exit 1; }
    dsc=$(ls "$work"/src/curl_*.dsc)
fi

debver=$(sed -n 's/^Version: //p' "$dsc")
case $debver in
"$want"-*) ;;
*)
    log "Debian's curl source is $debver, expected upstream $want"
    exit 1
    ;;
esac
log "unpacking curl $debver"
dpkg-source -x "$dsc" "$work/curl" > "$work/dpkg-source.log" 2>&1 ||
    { cat "$work/dpkg-source.log" >&2; exit 1; }
cd "$work/curl"
# Debian builds its OpenSSL flavour without the last two patches of the
# series (they rename the library for the GnuTLS and NSS flavours): undo them
# as debian/rules does. The patches that touch configure.ac (GSSAPI, LDAP)
# concern features disabled here, so the shipped configure is used as is.
for p in 99_nss 90_gnutls; do
    patch -s -R -p1 < "debian/patches/$p.patch"
done

# --- 2. configure and build -------------------------------------------------
# Debian's own compiler flags for curl (hardening=+all, as in debian/rules).
bf() { DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get "$1"; }
log "configuring"
./configure -q \
    CC="$cc" CFLAGS="$(bf CFLAGS)" CPPFLAGS="$(bf CPPFLAGS)" LDFLAGS="$(bf LDFLAGS)" \
    --prefix="$prefix" \
    --disable-dependency-tracking --disable-silent-rules \
    --disable-shared --enable-static --with-pic \
    --with-openssl \
    --with-ca-bundle=/etc/ssl/certs/ca-certificates.crt \
    --with-ca-path=/etc/ssl/certs \
    --enable-threaded-resolver --disable-ares \
    --enable-http --disable-ftp --disable-file --disable-ldap --disable-ldaps \
    --disable-rtsp --disable-dict --disable-telnet --disable-tftp \
    --disable-pop3 --disable-imap --disable-smb --disable-smtp --disable-gopher \
    --disable-mqtt --disable-websockets \
    --disable-manual --disable-libcurl-option \
    --disable-crypto-auth --disable-ntlm --disable-ntlm-wb --disable-tls-srp \
    --disable-unix-sockets --disable-cookies --disable-doh --disable-mime \
    --disable-netrc --disable-progress-meter --disable-alt-svc --disable-hsts \
    --disable-headers-api --disable-get-easy-options \
    --without-zlib --without-brotli --without-zstd \
    --without-libpsl --without-libidn2 --without-libgsasl \
    --without-nghttp2 --without-nghttp3 --without-ngtcp2 --without-quiche \
    --without-msh3 --without-hyper \
    --without-libssh2 --without-libssh --without-wolfssh --without-librtmp \
    --without-gssapi \
    > "$work/configure.log" 2>&1 || { tail -40 config.log >&2; exit 1; }

log "building libcurl.a (make -j$jobs)"
make -j"$jobs" -C lib > "$work/make.log" 2>&1 || { tail -40 "$work/make.log" >&2; exit 1; }
dest="$work/dest"
{
    make -C lib install DESTDIR="$dest"
    make -C include install DESTDIR="$dest"
    make install-pkgconfigDATA DESTDIR="$dest"
} > "$work/install.log" 2>&1 || { cat "$work/install.log" >&2; exit 1; }
out="$dest$prefix"
rm -f "$out/lib/libcurl.la"

# --- 3. smoke test: the library is what rollguard requires ------------------
cat > "$work/smoke.c" <<'EOF'
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    const char *const *p;
    int n = 0, http = 0, https = 0;

    for (p = v->protocols; *p; p++, n++) {
        http |= !strcmp(*p, "http");
        https |= !strcmp(*p, "https");
    }
    printf("%s; CA bundle %s; CA path %s\n", curl_version(), v->cainfo ? v->cainfo : "-",
           v->capath ? v->capath : "-");
    if (!(v->features & CURL_VERSION_ASYNCHDNS) || !(v->features & CURL_VERSION_SSL) ||
        (v->features & (CURL_VERSION_HTTP2 | CURL_VERSION_IDN | CURL_VERSION_LIBZ)) ||
        !http || !https || n != 2 || !v->cainfo)
        return 1;
    return curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK;
}
EOF
"$cc" -I"$out/include" -o "$work/smoke" "$work/smoke.c" "$out/lib/libcurl.a" \
    -lssl -lcrypto -lpthread
if ! "$work/smoke" > "$work/smoke.out"; then
    cat "$work/smoke.out" >&2
    log "smoke test failed: the library lacks or has unwanted features"
    exit 1
fi

{
    echo "debian_source: curl $debver"
    echo "dsc_sha256: $(sha256sum < "$dsc" | cut -d' ' -f1)"
    echo "compiler: $("$cc" --version | head -n1)"
    echo "version: $(cat "$work/smoke.out")"
    echo "configure:"
    sed -n 's/^  \$ //p' config.log | head -n1
} > "$out/BUILDINFO"

rm -rf "$prefix"
# -T: never nest into a PREFIX that a concurrent run has just put in place.
mv -T "$out" "$prefix" || [ -f "$prefix/lib/libcurl.a" ]
log "done in $(($(date +%s) - start)) s: $(cat "$work/smoke.out")"
