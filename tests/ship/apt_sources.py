#!/usr/bin/env python3
"""Print the host's Debian apt sources for a given suite family.

  apt_sources.py mirror  [--suite bookworm]   the main archive URI (for debootstrap)
  apt_sources.py list    [--suite bookworm]   one-line sources.list entries for a rootfs

Reads /etc/apt/sources.list, /etc/apt/sources.list.d/*.list and *.sources (deb822), keeps
`deb` entries whose suite belongs to the family (bookworm, bookworm-updates,
bookworm-security, ...) and that carry the `main` component. Nothing is hard-coded: the
image build uses whatever mirror apt on this machine uses. Exit 1 when none is found.
"""
import glob
import sys


def one_line_entries(path):
    out = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            words = line.split()
            if words[0] != "deb":
                continue
            words = words[1:]
            if words and words[0].startswith("["):      # [signed-by=... arch=...]
                while words and not words[0].endswith("]"):
                    words.pop(0)
                words.pop(0)
            if len(words) >= 3:
                out.append((words[0], [words[1]], words[2:]))
    return out


def deb822_entries(path):
    out = []
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    for stanza in text.split("\n\n"):
        fields, key = {}, None
        for line in stanza.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            if line[0] in " \t" and key:
                fields[key] += " " + line.strip()
                continue
            if ":" in line:
                key, val = line.split(":", 1)
                key = key.strip().lower()
                fields[key] = val.strip()
        if fields.get("enabled", "yes").lower() == "no":
            continue
        if "deb" not in fields.get("types", "").split():
            continue
        for uri in fields.get("uris", "").split():
            out.append((uri, fields.get("suites", "").split(),
                        fields.get("components", "").split()))
    return out


def entries():
    found = []
    files = glob.glob("/etc/apt/sources.list") + sorted(glob.glob("/etc/apt/sources.list.d/*.list"))
    for p in files:
        found += one_line_entries(p)
    for p in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        found += deb822_entries(p)
    return found


def main(argv):
    mode = argv[1] if len(argv) > 1 else "list"
    suite = "bookworm"
    if "--suite" in argv:
        suite = argv[argv.index("--suite") + 1]
    keep = []
    for uri, suites, comps in entries():
        if "main" not in comps:
            continue
        for s in suites:
            if s == suite or s.startswith(suite + "-") or s.startswith(suite + "/"):
                keep.append((uri.rstrip("/"), s))
    if not keep:
        print("apt_sources: no Debian %s source with 'main' in the apt config" % suite,
              file=sys.stderr)
        return 1
    if mode == "mirror":
        main_archive = [u for u, s in keep if s == suite]
        if not main_archive:
            print("apt_sources: no source for the suite %s itself" % suite, file=sys.stderr)
            return 1
        print(main_archive[0])
    elif mode == "list":
        seen = set()
        for u, s in keep:
            if (u, s) not in seen:
                seen.add((u, s))
                print("deb %s %s main" % (u, s))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
