#!/usr/bin/env bash
# image.sh — build the Dockerfile without a Docker engine and check the image
# from inside.
#
#   tests/ship/image.sh            build, inspect, run, probe; prints "N passed, N failed"
#   tests/ship/image.sh --build    only build (and make the base image if needed)
#
# Uses buildah with the vfs storage driver and chroot isolation, so it needs
# neither a daemon nor overlayfs nor user namespaces. The Dockerfile's base,
# docker.io/library/debian:bookworm-slim, is used from local storage when
# present, pulled when a registry answers, and otherwise made here with
# `debootstrap --variant=minbase` from the Debian mirror this machine's apt
# already uses (read from the apt sources at run time, never hard-coded). The
# base stays in buildah's storage, so later runs skip that step.
#
# Environment:
#   SHIP_IMAGE        tag to build (default localhost/rollguard:<VERSION>)
#   SHIP_BASE         auto (default: local, else pull, else debootstrap) |
#                     debootstrap (never try a registry)
#   SHIP_MAX_BYTES    runtime image size limit (default 30000000)
#   SHIP_KEEP=1       keep the built image (default: kept; set 0 to remove)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

version=$(cat VERSION)
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
source_url=$(git config --get remote.origin.url 2>/dev/null || true)
source_url=${source_url:-unknown}
image=${SHIP_IMAGE:-localhost/rollguard:$version}
base=docker.io/library/debian:bookworm-slim
max_bytes=${SHIP_MAX_BYTES:-30000000}
B=(buildah --storage-driver vfs)

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   - $*"; }
bad() { fail=$((fail + 1)); echo "FAIL - $*"; }
stamp() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(stamp)" 'BEGIN { printf "%.1fs", b - a }'; }

need_pkgs() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "image.sh: installing ${missing[*]}"
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo=sudo
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null
    fi
}

have_image() {
    "${B[@]}" images --format '{{.Name}}:{{.Tag}}' 2>/dev/null | grep -qx "$1"
}

# The Debian base, made locally when no registry can give it.
make_base() {
    local t0 mirror work ctr mnt
    if have_image "$base"; then
        echo "image.sh: base $base found in local storage"
        return 0
    fi
    if [ "${SHIP_BASE:-auto}" != debootstrap ]; then
        if timeout 120 "${B[@]}" pull --quiet "$base" >/dev/null 2>&1; then
            echo "image.sh: base $base pulled"
            return 0
        fi
        echo "image.sh: no registry gave $base; making it with debootstrap"
    fi
    t0=$(stamp)
    mirror=$(python3 "$here/apt_sources.py" mirror)
    work=$(mktemp -d /var/tmp/rollguard-base.XXXXXX)
    # shellcheck disable=SC2064
    trap "rm -rf '$work'" RETURN
    debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
        tail -20 "$work/debootstrap.log"
        return 1
    }
    # apt inside the image goes through the same mirrors as the host's apt.
    python3 "$here/apt_sources.py" list >"$work/rootfs/etc/apt/sources.list"
    rm -f "$work"/rootfs/etc/apt/sources.list.d/*.sources "$work"/rootfs/etc/apt/sources.list.d/*.list
    rm -rf "$work"/rootfs/var/cache/apt/archives/*.deb "$work"/rootfs/var/lib/apt/lists/*
    ctr=$("${B[@]}" from scratch)
    mnt=$("${B[@]}" mount "$ctr")
    tar -C "$work/rootfs" -cf - . | tar -C "$mnt" -xpf -
    "${B[@]}" umount "$ctr" >/dev/null
    "${B[@]}" config --cmd /bin/bash \
        --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$ctr"
    "${B[@]}" commit --quiet --rm "$ctr" "$base" >/dev/null
    echo "image.sh: base $base made with debootstrap from $mirror in $(took "$t0")"
}

# The build stage's toolchain, cached as its own image: the Dockerfile's base with the
# packages its build stage installs (read from the Dockerfile, so they cannot drift).
# The build then starts from it (--build-arg BASE_IMAGE) and its apt-get install has
# nothing left to fetch. The tag carries a hash of the package list.
builder_pkgs() {
    sed -n '/^FROM .* AS build/,/^FROM /p' Dockerfile |
        sed -n '/apt-get install/,/rm -rf/p' | tr -d '\\&' | tr ' ' '\n' |
        grep -E '^[a-z0-9][a-z0-9.+-]+$' | grep -vE '^(apt-get|install|rm|rf)$' | sort -u
}

make_builder() {
    local pkgs sum ctr t0
    pkgs=$(builder_pkgs)
    sum=$(printf '%s\n' "$pkgs" | sha256sum | cut -c1-12)
    builder=localhost/rollguard-builder:$sum
    if have_image "$builder"; then
        return 0
    fi
    t0=$(stamp)
    ctr=$("${B[@]}" from --quiet "$base")
    # shellcheck disable=SC2086
    "${B[@]}" run --isolation chroot "$ctr" -- sh -c \
        "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(echo $pkgs) >/dev/null" ||
        { "${B[@]}" rm "$ctr" >/dev/null; return 1; }
    "${B[@]}" commit --quiet --rm "$ctr" "$builder" >/dev/null
    # Older toolchains of this tag family are of no more use.
    "${B[@]}" images --format '{{.Name}}:{{.Tag}}' | grep '^localhost/rollguard-builder:' |
        grep -vx "$builder" | xargs -r "${B[@]}" rmi >/dev/null 2>&1 || true
    echo "image.sh: toolchain $builder made in $(took "$t0")"
}

build_image() {
    local t0
    t0=$(stamp)
    make_builder
    "${B[@]}" bud --isolation chroot --quiet \
        --build-arg BASE_IMAGE="$builder" \
        --build-arg VERSION="$version" \
        --build-arg REVISION="$revision" \
        --build-arg SOURCE="$source_url" \
        -f Dockerfile -t "$image" . >/dev/null
    # The previous build of this tag is now a nameless image: drop it.
    "${B[@]}" rmi --prune >/dev/null 2>&1 || true
    echo "image.sh: built $image in $(took "$t0")"
}

inspect_json() { "${B[@]}" inspect --type image "$image"; }

# User, entrypoint, port and labels, read from the image's OCI config.
check_config() {
    local out
    out=$(inspect_json | python3 "$here/image_config.py" "$version" "$revision")
    while IFS= read -r line; do
        case "$line" in
        "ok "*) ok "${line#ok }" ;;
        "bad "*) bad "${line#bad }" ;;
        esac
    done <<<"$out"
}

# The runtime tree: only the binary, its libraries, CA certificates and the
# passwd files; its size is the number the issue asks for.
check_contents() {
    local ctr mnt bytes files writable
    ctr=$("${B[@]}" from --quiet "$image")
    mnt=$("${B[@]}" mount "$ctr")
    bytes=$(du -sb --apparent-size "$mnt" | cut -f1)
    files=$(cd "$mnt" && find . -type f -o -type l | sort)
    # Nothing in the tree is writable by the runtime user: the daemon must
    # not need to write, so a read-only root filesystem changes nothing.
    writable=$(cd "$mnt" && find . ! -type l \( -perm -0002 -o -uid 65532 -o -gid 65532 \) | head -5)
    "${B[@]}" umount "$ctr" >/dev/null
    "${B[@]}" rm "$ctr" >/dev/null
    echo "image.sh: runtime image: $bytes bytes uncompressed ($(awk -v b="$bytes" 'BEGIN{printf "%.1f MB", b/1e6}')), $(wc -l <<<"$files") files"
    if [ "$bytes" -lt "$max_bytes" ]; then
        ok "runtime image $bytes bytes < $max_bytes"
    else
        bad "runtime image $bytes bytes >= $max_bytes"
    fi
    if grep -qE '^\./(bin|usr/bin)/(sh|bash|dash|busybox)$' <<<"$files"; then
        bad "runtime image carries a shell"
    else
        ok "no shell or package manager in the runtime image"
    fi
    if [ -z "$writable" ]; then
        ok "nothing in the image is writable by the runtime user"
    else
        bad "writable by the runtime user: $writable"
    fi
    local f missing=""
    for f in ./usr/local/bin/rollguard ./etc/ssl/certs/ca-certificates.crt ./etc/passwd ./etc/group; do
        grep -qx "$f" <<<"$files" || missing="$missing $f"
    done
    if [ -z "$missing" ]; then ok "binary, CA bundle and passwd present"; else bad "missing:$missing"; fi
    echo "$bytes" >"${SHIP_SIZE_FILE:-/dev/null}"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Descendants of a pid (buildah run -> its chroot child -> the daemon).
descendants() {
    local p kids
    for p in $(ps -o pid= --ppid "$1" 2>/dev/null); do
        echo "$p"
        descendants "$p"
    done
}

# Run the image's own ENTRYPOINT with a config mounted where the ConfigMap
# goes, then ask it from inside the container (busybox wget run in the same
# container) for /health, /ready, /livez and /metrics.
check_run() {
    local port cfg ctr cli entry busybox runpid daemon="" body i code rc uid
    port=$(free_port)
    cfg=$(mktemp -d /var/tmp/rollguard-cfg.XXXXXX)
    chmod 0755 "$cfg"
    # The app's liveness is the sidecar's own /livez: the image needs no app.
    cat >"$cfg/rollguard.yaml" <<EOF
listen: "127.0.0.1:$port"
admin_listen: ""
log: {level: info, format: json}
app:
  liveness: {http: {url: "http://127.0.0.1:$port/livez", timeout: 1s}, period: 1s}
  readiness: {http: {url: "http://127.0.0.1:$port/livez", timeout: 1s}, period: 1s}
  metrics: {url: ""}
rollback: {mode: "off"}
EOF
    chmod 0644 "$cfg/rollguard.yaml"
    busybox=$(command -v busybox)
    # The daemon and the wget client run in two containers of the same image
    # (host network under chroot isolation): two concurrent `buildah run` on
    # one container race on its rootfs mount.
    ctr=$("${B[@]}" from --quiet "$image")
    cli=$("${B[@]}" from --quiet "$image")
    mapfile -t entry < <(inspect_json | python3 -c \
        'import json,sys; print("\n".join(json.load(sys.stdin)["OCIv1"]["config"]["Entrypoint"]))')
    # buildah itself can fail to set up the namespace ("error running
    # subprocess"); that is the tool, not the image: start once more.
    for i in 1 2 3; do
        "${B[@]}" run --isolation chroot -v "$cfg:/etc/rollguard:ro" "$ctr" -- "${entry[@]}" \
            >"$cfg/daemon.log" 2>&1 &
        runpid=$!
        sleep 1
        if kill -0 "$runpid" 2>/dev/null || ! grep -q 'error running subprocess' "$cfg/daemon.log"; then
            break
        fi
        echo "image.sh: buildah run failed to start ($(head -1 "$cfg/daemon.log")); retrying"
        wait "$runpid" 2>/dev/null || true
    done

    code=""
    for i in $(seq 1 50); do
        body=$(timeout 10 "${B[@]}" run --isolation chroot -v "$busybox:/busybox:ro" "$cli" -- \
            /busybox wget -q -O - "http://127.0.0.1:$port/health" 2>/dev/null) && {
            code=200
            break
        }
        kill -0 "$runpid" 2>/dev/null || break
        sleep 0.2
    done
    if [ "$code" = 200 ] && [ "$body" = ok ]; then
        ok "/health answers 200 'ok' from inside the container"
    else
        bad "/health did not answer 200 from inside the container (body '${body:-}')"
        sed 's/^/    daemon: /' "$cfg/daemon.log" | tail -20
    fi
    # /ready follows the first readiness probe (period 1 s): give it a few tries.
    for path in /ready /livez; do
        code=""
        for i in $(seq 1 20); do
            if timeout 10 "${B[@]}" run --isolation chroot -v "$busybox:/busybox:ro" "$cli" -- \
                /busybox wget -q -O /dev/null "http://127.0.0.1:$port$path" 2>/dev/null; then
                code=200
                break
            fi
            sleep 0.25
        done
        if [ "$code" = 200 ]; then
            ok "$path answers 200 from inside the container"
        else
            bad "$path does not answer 200 from inside the container"
        fi
    done
    body=$(timeout 10 "${B[@]}" run --isolation chroot -v "$busybox:/busybox:ro" "$cli" -- \
        /busybox wget -q -O - "http://127.0.0.1:$port/metrics" 2>/dev/null || true)
    if grep -q "^rollguard_build_info{version=\"$version\"" <<<"$body"; then
        ok "/metrics reports rollguard_build_info version $version"
    else
        bad "/metrics has no rollguard_build_info for $version"
    fi

    for i in $(descendants "$runpid"); do
        if [ "$(readlink "/proc/$i/exe" 2>/dev/null | sed 's/ (deleted)$//')" != "" ] &&
            tr '\0' ' ' <"/proc/$i/cmdline" 2>/dev/null | grep -q '^/usr/local/bin/rollguard '; then
            daemon=$i
        fi
    done
    if [ -n "$daemon" ]; then
        uid=$(awk '/^Uid:/ {print $2}' "/proc/$daemon/status")
        if [ "$uid" = 65532 ]; then ok "daemon process runs as UID $uid"; else bad "daemon UID $uid"; fi
        kill -TERM "$daemon"
    else
        bad "could not find the daemon process under buildah run"
    fi
    rc=0
    for i in $(seq 1 50); do
        kill -0 "$runpid" 2>/dev/null || break
        sleep 0.2
    done
    if kill -0 "$runpid" 2>/dev/null; then
        kill -KILL "$runpid" 2>/dev/null || true
        bad "daemon did not stop within 10 s of SIGTERM"
    else
        wait "$runpid" || rc=$?
        if [ "$rc" = 0 ]; then ok "SIGTERM stops the daemon cleanly (exit 0)"; else bad "exit $rc after SIGTERM"; fi
    fi
    if grep -q '"event":"started"' "$cfg/daemon.log"; then
        ok "daemon logged its start as JSON"
    else
        bad "no start line in the daemon log"
        sed 's/^/    daemon: /' "$cfg/daemon.log" | tail -20
    fi
    "${B[@]}" rm "$ctr" "$cli" >/dev/null
    rm -rf "$cfg"
}

main() {
    local t0
    t0=$(stamp)
    need_pkgs buildah debootstrap busybox-static python3 git
    make_base
    build_image
    if [ "${1:-}" = --build ]; then
        return 0
    fi
    check_config
    check_contents
    check_run
    if [ "${SHIP_KEEP:-1}" = 0 ]; then
        "${B[@]}" rmi "$image" >/dev/null || true
    fi
    echo "image.sh: total $(took "$t0")"
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}

main "$@"
