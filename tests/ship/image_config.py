#!/usr/bin/env python3
"""Check an image's OCI config (buildah inspect JSON on stdin).

  image_config.py VERSION REVISION < inspect.json

Prints one line per check, "ok TEXT" or "bad TEXT"; image.sh counts them.
"""
import json
import re
import sys

ENTRYPOINT = ["/usr/local/bin/rollguard", "--config", "/etc/rollguard/rollguard.yaml"]


def main():
    version, revision = sys.argv[1], sys.argv[2]
    cfg = json.load(sys.stdin)["OCIv1"]["config"]
    out = []

    def check(cond, good, wrong):
        out.append(("ok " + good) if cond else ("bad " + wrong))

    user = cfg.get("User", "")
    m = re.fullmatch(r"(\d+)(?::(\d+))?", user)
    check(m is not None and int(m.group(1)) != 0 and (m.group(2) is None or int(m.group(2)) != 0),
          "runs as numeric non-root user %s" % user,
          "image user is %r, want a numeric non-root UID:GID" % user)
    ep = cfg.get("Entrypoint")
    check(ep == ENTRYPOINT, "entrypoint is the daemon with the ConfigMap path",
          "entrypoint is %r" % (ep,))
    ports = cfg.get("ExposedPorts") or {}
    check("8080/tcp" in ports, "exposes 8080/tcp", "exposed ports: %r" % (sorted(ports),))
    labels = cfg.get("Labels") or {}
    want = {"org.opencontainers.image.version": version,
            "org.opencontainers.image.revision": revision}
    wrong = ["%s=%r" % (k, labels.get(k)) for k, v in want.items() if labels.get(k) != v]
    if not labels.get("org.opencontainers.image.source"):
        wrong.append("org.opencontainers.image.source missing")
    check(not wrong, "OCI labels version=%s revision=%s source=%s"
          % (version, revision[:12], labels.get("org.opencontainers.image.source")),
          "OCI labels: " + "; ".join(wrong))
    print("\n".join(out))


if __name__ == "__main__":
    main()
