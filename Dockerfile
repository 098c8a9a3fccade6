# rollguard — container image.
#
# Two stages: `build` compiles with the project's own Makefile on Debian 12;
# the runtime stage is `scratch` carrying only the binary, the shared objects
# it loads (found with ldd), the CA bundle, a passwd/group entry for the
# non-root user and the nsswitch file glibc's resolver reads. No shell, no
# package manager: see bench/image_size.sh for its size.
#
# Build (Docker):  docker build --build-arg VERSION=$(cat VERSION) \
#                      --build-arg REVISION=$(git rev-parse HEAD) -t rollguard .
# Build (no engine, as CI does):  tests/ship/image.sh   (buildah, vfs, chroot)
#
# Runs as UID/GID 65532 with a read-only root filesystem: it writes nothing.
# The config comes from the ConfigMap mounted as a directory at /etc/rollguard.

ARG BASE_IMAGE=docker.io/library/debian:bookworm-slim

FROM ${BASE_IMAGE} AS build
ARG REVISION=unknown
ENV DEBIAN_FRONTEND=noninteractive
# The Makefile links a minimal static libcurl that tools/build-curl.sh builds
# from Debian's curl source package (dpkg-dev fetches it through the image's
# own apt sources): the runtime stage then needs no libcurl and its ~30 libraries.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        gcc make libc6-dev pkg-config binutils ca-certificates dpkg-dev openssl \
        libevent-dev libjansson-dev libyaml-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .
RUN make -j2 GIT_REV="$(printf '%.12s' "${REVISION}")" build/rollguard \
 && build/rollguard --version \
 && build/rollguard --check-config

# The runtime tree: the binary, every shared object ldd names (kept at the
# path the dynamic loader will look for it), glibc's NSS modules for name
# lookups, CA certificates, and the user the image runs as.
RUN set -eu; \
    out=/out; \
    install -d -m 0755 "$out/usr/local/bin" "$out/etc/ssl/certs" "$out/etc/rollguard"; \
    install -m 0755 build/rollguard "$out/usr/local/bin/rollguard"; \
    strip --strip-unneeded "$out/usr/local/bin/rollguard"; \
    for lib in $(ldd build/rollguard | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do \
        cp -L --parents "$lib" "$out/"; \
    done; \
    for nss in $(ls /lib/*/libnss_files.so.2 /lib/*/libnss_dns.so.2 2>/dev/null); do \
        cp -L --parents "$nss" "$out/"; \
    done; \
    cp /etc/ssl/certs/ca-certificates.crt "$out/etc/ssl/certs/ca-certificates.crt"; \
    printf 'root:x:0:0:root:/root:/sbin/nologin\nrollguard:x:65532:65532:rollguard:/nonexistent:/sbin/nologin\n' > "$out/etc/passwd"; \
    printf 'root:x:0:\nrollguard:x:65532:\n' > "$out/etc/group"; \
    printf 'hosts: files dns\n' > "$out/etc/nsswitch.conf"; \
    chmod -R u=rwX,go=rX "$out"

FROM scratch
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
ARG SOURCE=unknown
LABEL org.opencontainers.image.title="rollguard" \
      org.opencontainers.image.description="Sidecar that answers the kubelet's probes, judges a rollout's errors and latency, and undoes a bad rollout" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.base.name="scratch"
COPY --from=build /out/ /
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/rollguard", "--config", "/etc/rollguard/rollguard.yaml"]
