"""Child processes: start and stop them all, valgrind, clean stderr, JSON log lines."""

import json
import signal
import subprocess


class Procs:
    """Every child we start, so that all of them end on exit or Ctrl-C."""

    def __init__(self):
        self.items = []

    def start(self, argv, **kw):
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, **kw)
        self.items.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM, wait=5.0):
        if p.poll() is None:
            try:
                p.send_signal(sig)
                p.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if p in self.items:
            self.items.remove(p)

    def stop_all(self):
        for p in list(self.items):
            self.stop(p, wait=3.0)


def valgrind_prefix(on):
    """The command prefix of a child run under memcheck (exit 9 on an error), or []."""
    return (["valgrind", "-q", "--error-exitcode=9", "--leak-check=full",
             "--errors-for-leak-kinds=definite,indirect"] if on else [])


def check_clean(err, rc=0):
    """No sanitizer or valgrind report in a child's stderr (AssertionError otherwise)."""
    for mark in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                 "Invalid read", "Invalid write", "definitely lost"):
        assert mark not in err, "%s in:\n%s" % (mark, err[-4000:])


def communicate_or_kill(p, timeout=15):
    """Wait for p (a Popen with stderr=PIPE, text) to exit; SIGKILL after timeout.
    Returns its stderr."""
    try:
        _, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
    return err or ""


def terminate(p, timeout=15):
    """SIGTERM (when still running), then communicate_or_kill; returns stderr."""
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
    return communicate_or_kill(p, timeout)


def logs(text):
    """The JSON objects among text's lines (other lines skipped)."""
    out = []
    for line in text.splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def events_named(lines, name):
    return [l for l in lines if l.get("event") == name]
