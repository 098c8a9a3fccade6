#!/usr/bin/env python3
"""Hold many idle TCP connections open against one port (a slowloris client).

    bench/serve_slowloris.py --port P [--conns 10000] [--trickle 0.1] [--seconds S]

Opens --conns non-blocking connections to 127.0.0.1:P and keeps that many
open: a connection the server closes is counted and opened again (at most
--reopen-rate a second), as an attacker would. A --trickle share of them send
a request line one byte every --trickle-every seconds and never finish it;
the rest send nothing. Prints "READY <established> <pending>" once every
connection was attempted and the first ones settled, then, at --seconds or on
SIGTERM/SIGINT, one JSON object with the counts:
  attempted, established_peak, open_at_end, pending_at_end (connect not done),
  closed_by_server (EOF or reset after the connection was up),
  connect_failed (refused, reset or timed out before it was up).
"""
import argparse
import errno
import json
import os
import selectors
import signal
import socket
import sys
import time

LINE = b"GET /health HTTP/1.1\r\nHost: slow\r\nUser-Agent: slowloris\r\nX-a: " + b"b" * 4000


class Conn:
    __slots__ = ("sock", "up", "trickle", "sent", "next_t")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--conns", type=int, default=10000)
    ap.add_argument("--trickle", type=float, default=0.1)
    ap.add_argument("--trickle-every", type=float, default=1.0)
    ap.add_argument("--reopen-rate", type=float, default=2000.0)
    ap.add_argument("--seconds", type=float, default=3600.0)
    a = ap.parse_args()

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    sel = selectors.DefaultSelector()
    st = {"attempted": 0, "established_peak": 0, "closed_by_server": 0, "connect_failed": 0,
          "open_failed": 0}
    conns = {}
    tconns = {}  # the trickling subset
    nup = 0
    ntrickle = int(a.conns * a.trickle)
    want_reopen = 0

    def open_one(trickle):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        st["attempted"] += 1
        try:
            s.connect(("127.0.0.1", a.port))
        except BlockingIOError:
            pass
        except OSError:
            st["open_failed"] += 1
            s.close()
            return False
        c = Conn()
        c.sock, c.up, c.trickle, c.sent, c.next_t = s, False, trickle, 0, 0.0
        conns[s.fileno()] = c
        if trickle:
            tconns[s.fileno()] = c
        sel.register(s, selectors.EVENT_WRITE, c)
        return True

    def drop(c, was_up):
        nonlocal nup, want_reopen
        try:
            sel.unregister(c.sock)
        except (KeyError, ValueError):
            pass
        del conns[c.sock.fileno()]
        tconns.pop(c.sock.fileno(), None)
        c.sock.close()
        if was_up:
            nup -= 1
            st["closed_by_server"] += 1
        else:
            st["connect_failed"] += 1
        want_reopen += 1

    t_end = time.monotonic() + a.seconds
    for i in range(a.conns):
        if not open_one(i < ntrickle):
            want_reopen += 1
    ready_at = time.monotonic() + 1.0
    ready = False
    budget_t = time.monotonic()
    budget = 0.0
    while not stop and time.monotonic() < t_end:
        now = time.monotonic()
        for key, ev in sel.select(timeout=0.05):
            c = key.data
            if not c.up:
                err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    drop(c, False)
                    continue
                c.up = True
                nup += 1
                st["established_peak"] = max(st["established_peak"], nup)
                sel.modify(c.sock, selectors.EVENT_READ, c)
                continue
            try:
                data = c.sock.recv(4096)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                drop(c, True)
        # trickle one byte on every due trickling connection
        for c in list(tconns.values()):
            if c.trickle and c.up and now >= c.next_t and c.sent < len(LINE):
                try:
                    c.sock.send(LINE[c.sent:c.sent + 1])
                    c.sent += 1
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    pass  # the read side sees the close and counts it
                c.next_t = now + a.trickle_every
        # reopen what the server closed, rate-limited
        budget = min(a.reopen_rate, budget + (now - budget_t) * a.reopen_rate)
        budget_t = now
        while want_reopen > 0 and budget >= 1:
            want_reopen -= 1
            budget -= 1
            open_one(len(tconns) < ntrickle)
        if not ready and now >= ready_at:
            ready = True
            print("READY %d %d" % (nup, len(conns) - nup), flush=True)
    st["open_at_end"] = nup
    st["pending_at_end"] = len(conns) - nup
    for c in list(conns.values()):
        c.sock.close()
    print(json.dumps(st), flush=True)


if __name__ == "__main__":
    main()
