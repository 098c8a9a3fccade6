#!/usr/bin/env python3
"""A faithful fake Kubernetes API server for rollguard's tests (Python 3, stdlib only).

It emulates the parts of kube-apiserver that the rollback sidecar and `kubectl rollout
undo` touch: Deployments (+/status,
+/scale), ReplicaSets, Pods, Leases, core/v1 and events.k8s.io/v1 Events and Argo
Rollouts, with the real server's status codes and Status bodies (exact key order, Go's
HTML escaping, trailing newline), JSON/merge/strategic/apply patches, resourceVersion and
generation rules, label and field selectors, limit/continue, discovery (legacy and
aggregated), Table output for `kubectl get`, bearer tokens with rotation and revocation,
a Deployment controller simulation (revision renumbering) and per-path fault injection.

Start it
  CLI:  python3 fakeapi.py --port 0 --state seed_web.json --tls-dir DIR --token-file F
                           --control-port 0 --control-port-file info.json
        Prints one JSON line and writes the same object to --control-port-file:
        {"port", "http_port", "control_port", "pid", "url", "host", "tls", "ca",
         "tls_dir", "token", "token_file", "wrong_ca"}.  --no-tls serves plain HTTP on
        --port; --http-port N adds a plain listener; --token T (repeatable) adds accepted
        tokens; --token-file F accepts F's token (a random one is written if F is missing);
        --option NAME=JSON sets a simulation option.  SIGTERM/SIGINT stop it.
  Python: fa = FakeAPI("seed_web.json", tls_dir=d, tokens=["t"]).start(); ...; fa.stop()
        fa.url, fa.port, fa.ca_file, fa.token, fa.control_port, fa.http_port
  Remote: ControlClient(port) or ControlClient.from_info_file(path): same methods.

TLS: ca.crt/ca.key and server.crt/server.key (SAN 127.0.0.1, ::1, localhost,
kubernetes.default.svc...) are made once in --tls-dir with the openssl CLI, plus an
unrelated wrong-ca.crt for negative tests.  ALPN offers http/1.1 only.

Seed / state format: {"resourceVersion": "48220", "options": {...}, "objects": [full
objects with apiVersion and kind]}.  Missing uid/creationTimestamp/resourceVersion are
filled in; the global resourceVersion starts at max(resourceVersion, object RVs).

Operations (Python method = control endpoint, JSON in and out, plain HTTP on loopback):
  info()                               GET    /info
  dump_state() / load_state(state)     GET    /state     PUT /state
  reset()  (seed, log, faults, tokens) POST   /reset
  get_object(res, ns, name)            GET    /objects/RES/NS/NAME   (NS "_" = cluster)
  list_objects(res, ns=None)           GET    /objects/RES?namespace=NS
  put_object(obj, controller=False)    PUT    /objects[?controller=1]   (upsert, new RV)
  delete_object(res, ns, name)         DELETE /objects/RES/NS/NAME
  touch(res, ns, name, status=None)    POST   /touch/RES/NS/NAME {"status": {...}}
  requests(writes_only, method, path, since)
                                       GET    /log?writes=1&method=PATCH&path=RE&since=N
  clear_log()                          DELETE /log
  tls_failures()                       GET    /tls-failures
  add_fault(spec) -> id                POST   /faults  (object or list -> {"ids": [...]})
  list_faults() / clear_faults()       GET    /faults    DELETE /faults
  remove_fault(id)                     DELETE /faults/ID
  add_token / revoke_token / remove_token(t)
                                       POST   /tokens {"add"|"revoke"|"remove"|"set": [..]}
  rotate_token(t=None, revoke_old=True, write_file=False)
                                       POST   /tokens/rotate {"token", "revoke_old", ...}
  reload_token_file() / list_tokens()  POST   /tokens/reload   GET /tokens
  set_options(**kw) / get_options()    POST   /options {...}   GET /options
RES is a plural ("deployments") or plural.group ("events.events.k8s.io").

Request log entry: {seq, time, conn, method, path, query, params, headers (no
Authorization), auth (ok|missing|malformed|unknown|revoked), token_fp (sha256[:12]),
body (text), json (parsed or null), field_manager, dry_run, write, status (int, or
"dropped"/"refused"/"closed-mid:N"), fault (id), tls}.

Fault spec: {"type": T, "path": regex searched in the URL path (default ".*"),
  "method": "PATCH" | [...], "query": regex on the raw query, "times": N (default 1;
  -1/null/"always" = forever), "skip": K (let K matching requests pass first),
  "retry_after": s, "delay": s (sleep first), "message": text, "headers": {...}}
  T: 401 | 403 (forbidden body built from the request; user from option "user") | 409 |
     422 | 429-apf (text/plain, Retry-After default 1, APF headers) | 429-status
     (details.retryAfterSeconds, Retry-After default 5) | 500 (+Retry-After if
     retry_after) | 503 | 504 | status (code, body, content_type) | delay (then serve
     normally) | close-mid (headers + half the body, then close; "apply": true processes
     the request first, default) | drop (read the request, close without answer;
     "apply": false default) | stall (read the request, never answer: hold the
     connection for "delay" seconds, default 60, or until stop(), then close) |
     refuse (close right after accept; path/method ignored).
  "delay_after": s (any type that answers) processes the request first and sleeps before
  sending the answer: the write lands while the client still waits.
  The first matching rule wins; faults are checked before authentication.
  A TLS handshake that fails (say the client does not trust the CA) is no request: it is
  kept apart, in tls_failures() (GET /tls-failures): {time, conn, error}; clear_log() and
  reset() empty it.

Options (seed "options", set_options, --option): controller, controller_scale,
controller_cleanup, rollouts_status_subresource, user, page_size ({"replicasets": N}
paginates even without ?limit), strict_core_events, now (fixed clock), server_version,
log_limit.
"""

import argparse
import json
import os
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from fakekube import *  # noqa: E402,F401,F403  (the modules: fakekube/, README.md)
from fakekube import FakeAPI  # noqa: E402


# --------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="API port (0 = pick a free one)")
    ap.add_argument("--state", help="seed JSON file ({resourceVersion, options, objects})")
    ap.add_argument("--tls-dir", help="where the test CA and server cert live (created if "
                                      "missing); default: a temporary directory")
    ap.add_argument("--no-tls", action="store_true", help="serve plain HTTP on --port")
    ap.add_argument("--http-port", type=int, default=None,
                    help="also serve plain HTTP on this port (0 = pick one)")
    ap.add_argument("--token", action="append", default=[], help="accepted bearer token "
                                                                  "(repeatable)")
    ap.add_argument("--token-file", help="accept the token in this file (created with a "
                                         "random token if missing)")
    ap.add_argument("--control-port", type=int, default=0, help="control API port (0 = pick)")
    ap.add_argument("--control-port-file", "--info-file", dest="info_file",
                    help="write {port, control_port, pid, ...} JSON here once listening")
    ap.add_argument("--option", action="append", default=[],
                    help="simulation option NAME=JSON (e.g. controller=false)")
    ap.add_argument("--verbose", "-v", action="store_true")
    a = ap.parse_args(argv)
    opts = {}
    for o in a.option:
        k, _, v = o.partition("=")
        try:
            opts[k] = json.loads(v)
        except ValueError:
            opts[k] = v
    fa = FakeAPI(a.state, host=a.host, port=a.port, tls=not a.no_tls, tls_dir=a.tls_dir,
                 tokens=a.token, token_file=a.token_file, http_port=a.http_port,
                 control_port=a.control_port, options=opts or None, verbose=a.verbose)
    fa.start()
    info = fa.info()
    if a.info_file:
        tmp = a.info_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(info, f)
        os.replace(tmp, a.info_file)
    sys.stdout.write(json.dumps(info) + "\n")
    sys.stdout.flush()
    stop = threading.Event()
    import signal

    def on_sig(signum, frame):
        stop.set()
    signal.signal(signal.SIGTERM, on_sig)
    signal.signal(signal.SIGINT, on_sig)
    while not stop.wait(0.5):
        pass
    fa.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
