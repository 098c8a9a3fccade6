#!/usr/bin/env bash
# image_size.sh — what the runtime image weighs, part by part, beside the
# debian:bookworm-slim base that the build stage starts from.
#
#   bench/image_size.sh        builds the image first when it is not in buildah's storage
#
# Sizes are of the unpacked filesystem (what a node stores) and of the same tree as a
# gzip'd tar (about what a registry stores and a node pulls).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
version=$(cat VERSION)
image=${SHIP_IMAGE:-localhost/rollguard:$version}
base=docker.io/library/debian:bookworm-slim
B=(buildah --storage-driver vfs)

if ! "${B[@]}" images --format '{{.Name}}:{{.Tag}}' 2>/dev/null | grep -qx "$image"; then
    tests/ship/image.sh --build
fi

measure() { # image -> "unpacked gzipped" bytes, and leaves the mount in $mnt
    local ctr
    ctr=$("${B[@]}" from --quiet "$1")
    mnt=$("${B[@]}" mount "$ctr")
    un=$(du -sb --apparent-size "$mnt" | cut -f1)
    gz=$(tar -C "$mnt" -cf - . | gzip -6 | wc -c)
    ctrs+=("$ctr")
}
ctrs=()
cleanup() { for c in "${ctrs[@]}"; do "${B[@]}" rm "$c" >/dev/null 2>&1 || true; done; }
trap cleanup EXIT

mb() { awk -v b="$1" 'BEGIN { printf "%8.2f MB", b / 1e6 }'; }

measure "$image"
rt=$mnt rt_un=$un rt_gz=$gz
bin=$(stat -c %s "$rt/usr/local/bin/rollguard")
libs=$(find "$rt" -name '*.so*' -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
nlibs=$(find "$rt" -name '*.so*' -type f | wc -l)
certs=$(stat -c %s "$rt/etc/ssl/certs/ca-certificates.crt")
other=$((rt_un - bin - libs - certs))

printf '%-44s %12s %12s\n' "image / part" "unpacked" "gzip'd"
printf '%-44s %12s %12s\n' "rollguard:$version runtime (scratch)" "$(mb "$rt_un")" "$(mb "$rt_gz")"
printf '%-44s %12s\n' "  rollguard binary (stripped)" "$(mb "$bin")"
printf '%-44s %12s\n' "  shared libraries ($nlibs files, from ldd)" "$(mb "$libs")"
printf '%-44s %12s\n' "  CA certificates" "$(mb "$certs")"
printf '%-44s %12s\n' "  passwd, group, nsswitch, directories" "$(mb "$other")"
if "${B[@]}" images --format '{{.Name}}:{{.Tag}}' 2>/dev/null | grep -qx "$base"; then
    measure "$base"
    printf '%-44s %12s %12s\n' "debian:bookworm-slim (build-stage base, local)" "$(mb "$un")" "$(mb "$gz")"
fi
printf '%-44s %12s\n' "limit" "$(mb 30000000)"
