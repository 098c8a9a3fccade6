#!/usr/bin/env python3
"""make check-layers: every #include of product code follows the layer rules.

    python3 tools/check_layers.py [ROOT]

The rules (README: Layout) say, for each folder, which folders its files may
include, and which module alone may include each third-party library. Prints
one line per forbidden include (FILE:LINE: what and why), then a summary;
exits 1 when any was found. Standard library only.
"""

import os
import re
import sys

# Folder -> the folders its files may include (their own always). Longest prefix wins.
ALLOWED = {
    "config/": ["config/"],
    "probes/": ["probes/", "config/"],
    "sidecar/base/": ["sidecar/base/", "config/"],
    "sidecar/http/": ["sidecar/http/", "sidecar/base/"],
    "sidecar/analysis/": ["sidecar/analysis/", "sidecar/base/", "probes/sample.h",
                          "config/utf8.h"],
    "sidecar/kube/": ["sidecar/kube/", "sidecar/base/", "probes/curlm.h", "config/"],
    "sidecar/rollback/": ["sidecar/rollback/", "sidecar/kube/", "sidecar/analysis/",
                          "sidecar/base/", "probes/curlm.h", "probes/sample.h", "config/"],
    # the root: the daemon, its endpoints and the composition roots use everything
    "sidecar/": ["sidecar/", "probes/", "config/"],
}

# Third-party headers (by prefix) -> the only files that may include them.
ADAPTERS = {
    "curl/": ["probes/curlm.c", "probes/curlm.h"],
    "yaml.h": ["config/cfg_yaml.c"],
    "jansson.h": ["sidecar/kube/kube_json.c", "sidecar/kube/kube_json_summary.c",
                  "sidecar/kube/kube_json_baseline.c", "sidecar/kube/kube_json_pods.c",
                  "sidecar/kube/kube_json-int.h"],
    # libevent: the loop owners (each owns its timers or sockets)
    "event2/": ["probes/curlm.c", "probes/probe.c", "probes/scraper.c", "sidecar/http/httpd.c",
                "probes/sched.c", "sidecar/base/clock.c",
                "sidecar/kube/kube.c", "sidecar/rollback/rollback.c", "sidecar/daemon.c",
                "sidecar/daemon-int.h",
                "sidecar/doctor_cli.c", "sidecar/rollback_cli.c", "sidecar/main.c"],
}

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def folder_rule(path):
    best = None
    for prefix in ALLOWED:
        if path.startswith(prefix) and (best is None or len(prefix) > len(best)):
            best = prefix
    return best


def allowed(path, target):
    rule = folder_rule(path)
    return any(target.startswith(p) for p in ALLOWED[rule])


def check_file(root, path, problems):
    with open(os.path.join(root, path), encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            kind, target = m.groups()
            if kind == '"':
                if "/" not in target or target.startswith(".."):
                    problems.append("%s:%d: #include \"%s\" is not root-relative"
                                    % (path, n, target))
                elif path.startswith("sidecar/") and target.startswith("sidecar/") and \
                        target.count("/") == 1 and path.count("/") > 1:
                    problems.append("%s:%d: %s includes the sidecar root (%s)"
                                    % (path, n, folder_rule(path), target))
                elif not allowed(path, target):
                    problems.append("%s:%d: %s may not include %s (allowed: %s)"
                                    % (path, n, folder_rule(path), target,
                                       ", ".join(ALLOWED[folder_rule(path)])))
                continue
            for lib, owners in ADAPTERS.items():
                if target.startswith(lib) and path not in owners:
                    problems.append("%s:%d: <%s> belongs to %s only"
                                    % (path, n, target, ", ".join(owners)))


def self_test():
    """The rules must catch what they forbid: a tree with one breach of each kind."""
    import tempfile
    bad = {
        "sidecar/base/x.c": '#include "sidecar/http/httpd.h"\n',       # upward
        "sidecar/http/y.c": '#include "sidecar/analysis/window.h"\n',   # sideways
        "sidecar/kube/z.c": '#include "sidecar/state.h"\n',            # the root
        "probes/p.c": '#include "sidecar/base/log.h"\n',               # probes -> sidecar
        "config/c.c": '#include "probes/promtext.h"\n#include <jansson.h>\n',
        "probes/q.c": '#include "scrape.h"\n',                         # not root-relative
        "sidecar/analysis/ok.c": '#include "probes/sample.h"\n#include <math.h>\n',
    }
    with tempfile.TemporaryDirectory() as root:
        problems = []
        for path, text in bad.items():
            os.makedirs(os.path.join(root, os.path.dirname(path)), exist_ok=True)
            with open(os.path.join(root, path), "w") as f:
                f.write(text)
            check_file(root, path, problems)
    want = ["sidecar/base/x.c", "sidecar/http/y.c", "sidecar/kube/z.c", "probes/p.c",
            "config/c.c:1", "config/c.c:2", "probes/q.c"]
    for w in want:
        if not any(p.startswith(w) for p in problems):
            print("check-layers self-test: %s not reported" % w)
            return 1
    if len(problems) != len(want):
        print("check-layers self-test: unexpected reports: %s" % problems)
        return 1
    return 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    problems, files = [], 0
    for top in ("config", "probes", "sidecar"):
        for d, _, names in os.walk(os.path.join(root, top)):
            for name in sorted(names):
                if name.endswith((".c", ".h")):
                    path = os.path.relpath(os.path.join(d, name), root)
                    check_file(root, path, problems)
                    files += 1
    for p in problems:
        print(p)
    print("check-layers: %d files, %d forbidden includes" % (files, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
