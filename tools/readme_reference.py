#!/usr/bin/env python3
"""Keeps README.md's config table equal to `rollguard --print-reference`."""
import argparse
import subprocess
import sys

BEGIN = "<!-- config-reference:begin -->"
END = "<!-- config-reference:end -->"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", metavar="README")
    mode.add_argument("--check", metavar="README")
    a = ap.parse_args()
    table = subprocess.run([a.binary, "--print-reference"], check=True,
                           capture_output=True, text=True).stdout
    path = a.write or a.check
    text = open(path, encoding="utf-8").read()
    try:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
    except ValueError:
        sys.exit(f"{path}: the markers {BEGIN} / {END} are missing")
    fresh = head + BEGIN + "\n" + table + END + tail
    if a.write:
        if fresh != text:
            open(path, "w", encoding="utf-8").write(fresh)
        return
    if fresh != text:
        sys.exit(f"{path}: the config table is stale; run `make docs`")
    print(f"{path}: config table matches --print-reference")


if __name__ == "__main__":
    main()
