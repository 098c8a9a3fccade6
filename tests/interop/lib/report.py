"""PASS/FAIL lines and the closing `N passed, M failed` line."""

import sys


class Report:
    def __init__(self, out=sys.stdout):
        self.out = out
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        self.line("%s %s%s" % ("PASS" if ok else "FAIL", name, ": " + detail if detail else ""))
        return ok

    def line(self, text):
        self.out.write(text + "\n")
        self.out.flush()

    def summary(self):
        self.line("%d passed, %d failed" % (self.passed, self.failed))
        return 0 if self.failed == 0 else 1
