#!/usr/bin/env python3
"""Sends N messages at a fixed rate (messages/s) over C SMTP connections (Python stdlib).

smtp_load.py sends as fast as the server answers; this one spaces the messages out: message i
is due at start + i/rate, and the next free connection sends it when due (at once if late).
Messages come from smtp_load.build_jobs (same generator, same --cache-dir), so they are
generated before the clock starts. Prints one JSON object on stdout:
  t_start_monotonic   CLOCK_MONOTONIC at the start (same clock as Node's process.hrtime)
  accepted, failed, send_s, accepted_per_s, target_rate, late (messages sent > 10 ms late)
  txn_latency         MAIL FROM to the 250 after the final dot: p50/p90/p99 ms

Usage: paced-send.py SHARED_BENCH_DIR --port P --rate R -n N [-c C] [--size 5k] [--cache-dir D]
"""
import argparse
import json
import smtplib
import sys
import threading
import time

sys.path.insert(0, sys.argv.pop(1))
from benchlib import expand_users, latency_summary  # noqa: E402
from smtp_load import build_jobs  # noqa: E402


def send_one(s, rcpt, body):
    """MAIL, RCPT, DATA, the (already dot-stuffed, RFC 5321 §4.5.2) body and the final dot."""
    for code, resp in (s.mail("loadgen@example.org"), s.rcpt(rcpt)):
        if code not in (250, 251):
            s.rset()
            raise RuntimeError("%d %s" % (code, resp[:80]))
    code, resp = s.docmd("DATA")
    if code != 354:
        s.rset()
        raise RuntimeError("DATA %d %s" % (code, resp[:80]))
    s.send(body + b".\r\n")
    code, resp = s.getreply()
    if code != 250:
        raise RuntimeError("END-OF-DATA %d %s" % (code, resp[:80]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--rate", type=float, required=True, help="messages per second")
    ap.add_argument("-n", "--messages", type=int, default=1000)
    ap.add_argument("-c", "--concurrency", type=int, default=4)
    ap.add_argument("--per-conn", type=int, default=10)
    ap.add_argument("--size", default="5k")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cache-dir", default="")
    ap.add_argument("--rcpt-pattern", default="u{n}@bench.test")
    ap.add_argument("--users", type=int, default=100)
    ap.add_argument("--helo", default="bench-client.local")
    a = ap.parse_args()
    a.msg_dir = ""
    jobs = build_jobs(a, expand_users(a.rcpt_pattern, a.users))

    lock = threading.Lock()
    state = {"next": 0}
    txn_lat, errors, late = [], [], []
    t0 = time.monotonic() + 0.05

    def take():
        with lock:
            i = state["next"]
            state["next"] += 1
        return i if i < len(jobs) else None

    def worker():
        s, used = None, 0
        while True:
            i = take()
            if i is None:
                break
            due = t0 + i / a.rate
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            elif wait < -0.01:
                late.append(i)
            rcpt, body, _ = jobs[i]
            try:
                if s is None:
                    s = smtplib.SMTP(a.host, a.port, local_hostname=a.helo, timeout=60)
                    s.ehlo()
                    used = 0
                t_a = time.perf_counter()
                send_one(s, rcpt, body)
                txn_lat.append(time.perf_counter() - t_a)
                used += 1
                if used >= a.per_conn:
                    s.quit()
                    s = None
            except Exception as e:  # noqa: BLE001 — one failed message, go on
                errors.append("%s: %s" % (type(e).__name__, e))
                s = None
        if s is not None:
            s.quit()

    threads = [threading.Thread(target=worker) for _ in range(a.concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    send_s = time.monotonic() - t0
    print(json.dumps({
        "t_start_monotonic": t0, "accepted": len(txn_lat), "failed": len(errors),
        "errors_sample": errors[:5], "send_s": round(send_s, 3),
        "accepted_per_s": round(len(txn_lat) / send_s, 2), "target_rate": a.rate,
        "late": len(late), "txn_latency": latency_summary(txn_lat),
    }), flush=True)


if __name__ == "__main__":
    main()
