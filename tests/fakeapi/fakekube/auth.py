"""Bearer tokens (accept, revoke, rotate, token file) and the TLS material (openssl CLI).

Part of the fake Kubernetes API server; see ../fakeapi.py and ../README.md.
"""

import hashlib
import os
import subprocess
import tempfile
import threading


# --------------------------------------------------------------------------------------
# Tokens and the request log
# --------------------------------------------------------------------------------------


class Tokens:
    def __init__(self, accepted=(), token_file=None):
        self.lock = threading.Lock()
        self.accepted = list(accepted)
        self.revoked = []
        self.token_file = token_file
        self.initial = list(accepted)

    def check(self, header):
        """-> (status, token): status ok|missing|malformed|unknown|revoked."""
        if header is None:
            return "missing", None
        parts = header.split(" ", 1)
        if len(parts) != 2 or parts[0].lower() != "bearer" or not parts[1].strip():
            return "malformed", None
        tok = parts[1].strip()
        with self.lock:
            if tok in self.revoked:
                return "revoked", tok
            if tok in self.accepted:
                return "ok", tok
        return "unknown", tok

    def add(self, tok):
        with self.lock:
            if tok not in self.accepted:
                self.accepted.append(tok)
            if tok in self.revoked:
                self.revoked.remove(tok)

    def revoke(self, tok):
        with self.lock:
            if tok in self.accepted:
                self.accepted.remove(tok)
            if tok not in self.revoked:
                self.revoked.append(tok)

    def remove(self, tok):
        with self.lock:
            if tok in self.accepted:
                self.accepted.remove(tok)

    def rotate(self, new, revoke_old=True, write_file=False):
        with self.lock:
            old = [t for t in self.accepted if t != new]
            self.accepted = [new]
            if revoke_old:
                for t in old:
                    if t not in self.revoked:
                        self.revoked.append(t)
            else:
                self.accepted += old
            if new in self.revoked:
                self.revoked.remove(new)
        if write_file and self.token_file:
            write_atomic(self.token_file, new)

    def reload_file(self):
        if not self.token_file:
            return None
        with open(self.token_file) as f:
            tok = f.read().strip()
        self.add(tok)
        return tok

    def reset(self):
        with self.lock:
            self.accepted = list(self.initial)
            self.revoked = []

    def dump(self):
        with self.lock:
            return {"accepted": list(self.accepted), "revoked": list(self.revoked),
                    "token_file": self.token_file}


def write_atomic(path, text):
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tok")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def token_fp(tok):
    return hashlib.sha256(tok.encode()).hexdigest()[:12] if tok else None


# --------------------------------------------------------------------------------------
# TLS material
# --------------------------------------------------------------------------------------


def ensure_tls(tls_dir):
    """Create (once) ca.crt/ca.key, server.crt/server.key for 127.0.0.1, ::1, localhost and
    kubernetes.default.svc, plus an unrelated wrong-ca.crt, using the openssl CLI.
    Returns a dict of paths."""
    import fcntl
    os.makedirs(tls_dir, exist_ok=True)
    with open(os.path.join(tls_dir, ".lock"), "w") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)  # concurrent starts share one consistent set
        return _ensure_tls_locked(tls_dir)


def _ensure_tls_locked(tls_dir):
    p = {k: os.path.join(tls_dir, k) for k in
         ("ca.crt", "ca.key", "server.crt", "server.key", "wrong-ca.crt", "wrong-ca.key")}
    if all(os.path.exists(v) for v in p.values()):
        return p

    def run(*args):
        subprocess.run(["openssl"] + list(args), check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *ec, "-keyout", p["ca.key"], "-out", p["ca.crt"], "-days", "3650",
        "-subj", "/CN=fakeapi-test-ca", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", "-x509", *ec, "-keyout", p["wrong-ca.key"], "-out", p["wrong-ca.crt"],
        "-days", "3650", "-subj", "/CN=fakeapi-wrong-ca", "-addext",
        "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    csr = os.path.join(tls_dir, "server.csr")
    ext = os.path.join(tls_dir, "server.ext")
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n"
                "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost,DNS:kubernetes,"
                "DNS:kubernetes.default,DNS:kubernetes.default.svc,"
                "DNS:kubernetes.default.svc.cluster.local\n")
    run("req", "-new", *ec, "-keyout", p["server.key"], "-out", csr, "-subj",
        "/CN=kube-apiserver")
    run("x509", "-req", "-in", csr, "-CA", p["ca.crt"], "-CAkey", p["ca.key"],
        "-CAcreateserial", "-out", p["server.crt"], "-days", "3650", "-extfile", ext)
    for k in ("ca.key", "server.key", "wrong-ca.key"):
        os.chmod(p[k], 0o600)
    return p
