#!/usr/bin/env python3
"""Submission load for `npm run bench -- --suite send`: N messages over C concurrent
connections (one process each), STARTTLS then AUTH PLAIN as one of the sender users, each
message from that user to one random remote recipient. The messages are the shared bench's
(`gen_messages.py`, generated and cached before the clock starts), with From: set to the
authenticated sender (a submission server insists) and a Message-ID of our own.

Writes one JSON line per accepted message to --per-message (queue id from the 250 reply,
wall-clock time of MAIL FROM and of the 250, Message-ID, recipient) and prints one summary JSON
line on stdout: accepted, failed, errors_sample, t_start (wall clock when the workers passed the
start barrier), t_last (last 250), accepted_per_s, txn p50/p99 (MAIL .. 250).

Usage: send-load.py SHARED_BENCH_DIR --port P --senders 'u{n}@bench.test' --sender-count 10
       --password pw --rcpts 'r{n}@d{d}.remote.test' --rcpt-count 100 --domains 10 -n 2000 -c 4
       --size 5k --per-message out.jsonl [--cache-dir DIR] [--seed 1] [--per-conn 10]
"""
import argparse
import hashlib
import json
import multiprocessing as mp
import os
import pickle
import random
import re
import smtplib
import ssl
import sys
import time

sys.path.insert(0, sys.argv.pop(1))
from gen_messages import MessageGenerator, parse_mix  # noqa: E402

_DOT = re.compile(rb"(?m)^\.")
_FROM = re.compile(rb"(?mi)^From:[^\r\n]*(\r\n[ \t][^\r\n]*)*")
_MSGID = re.compile(rb"(?mi)^Message-ID:[^\r\n]*(\r\n[ \t][^\r\n]*)*")
_QUEUED = re.compile(r"queued as (\S+)")


def stuffed(raw):
    """CRLF-terminated, dot-stuffed (RFC 5321 §4.5.2) body to send after DATA."""
    raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if not raw.endswith(b"\r\n"):
        raw += b"\r\n"
    return _DOT.sub(b"..", raw)


def base_messages(a):
    """`a.messages` generated messages (bytes), cached by seed/size/count in --cache-dir."""
    key = hashlib.sha1(repr(("send-load", a.seed, a.size, a.messages)).encode()).hexdigest()[:16]
    path = os.path.join(a.cache_dir, "send-%s.pickle" % key) if a.cache_dir else ""
    if path:
        try:
            with open(path, "rb") as f:
                return pickle.load(f)
        except OSError:
            pass
    gen = MessageGenerator(seed=a.seed)
    mix = parse_mix(a.size)
    rng = random.Random(a.seed)
    out = [gen.message(rng.choices([s for s, _ in mix], [w for _, w in mix])[0], "rcpt@remote.test") for _ in range(a.messages)]
    if path:
        os.makedirs(a.cache_dir, exist_ok=True)
        with open(path + ".tmp", "wb") as f:
            pickle.dump(out, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(path + ".tmp", path)
    return out


def jobs_for(a):
    rng = random.Random(a.seed + 1)
    run = "%x" % int(time.time() * 1000)
    jobs = []
    for i, raw in enumerate(base_messages(a)):
        d = rng.randint(1, a.domains)
        rcpt = a.rcpts.replace("{n}", str(rng.randint(1, a.rcpt_count))).replace("{d}", str(d))
        mid = "<bench.%s.%d@bench.test>" % (run, i)
        jobs.append((i, rcpt, mid, raw))
    return jobs


def worker(wid, jobs, a, barrier, queue):
    sender = a.senders.replace("{n}", str(wid % a.sender_count + 1))
    mine = jobs[wid::a.concurrency]
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # both servers use self-signed certificates
    # The From: and Message-ID rewrite happens before the clock starts.
    prepared = [(i, rcpt, mid, stuffed(_MSGID.sub(b"Message-ID: " + mid.encode(), _FROM.sub(("From: Bench Sender <%s>" % sender).encode(), raw, 1), 1))) for i, rcpt, mid, raw in mine]
    done, errors = [], []
    barrier.wait()
    k = 0
    while k < len(prepared):
        batch = prepared[k:k + a.per_conn]
        k += len(batch)
        sent_before = len(done) + len(errors)
        try:
            s = smtplib.SMTP(a.host, a.port, local_hostname="bench-client.local", timeout=a.timeout)
            s.ehlo()
            s.starttls(context=ctx)
            s.ehlo()
            s.login(sender, a.password)
            for i, rcpt, mid, body in batch:
                t_mail = time.time()
                code, resp = s.mail(sender)
                if code != 250:
                    errors.append("MAIL %d %s" % (code, resp[:100]))
                    s.rset()
                    continue
                code, resp = s.rcpt(rcpt)
                if code not in (250, 251):
                    errors.append("RCPT %d %s" % (code, resp[:100]))
                    s.rset()
                    continue
                code, resp = s.docmd("DATA")
                if code != 354:
                    errors.append("DATA %d %s" % (code, resp[:100]))
                    s.rset()
                    continue
                s.send(body + b".\r\n")
                code, resp = s.getreply()
                t_250 = time.time()
                if code != 250:
                    errors.append("END-OF-DATA %d %s" % (code, resp[:100]))
                    continue
                m = _QUEUED.search(resp.decode("utf-8", "replace"))
                done.append({"i": i, "qid": m.group(1) if m else None, "mid": mid, "rcpt": rcpt, "t_mail": t_mail, "t_250": t_250})
            s.quit()
        except Exception as e:  # connection lost, refused, timed out: the rest of the batch failed
            unsent = len(batch) - (len(done) + len(errors) - sent_before)
            errors.extend(["%s: %s" % (type(e).__name__, e)] * max(1, unsent))
    queue.put({"done": done, "errors": errors})


def pct(values, q):
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--senders", default="u{n}@bench.test")
    ap.add_argument("--sender-count", type=int, default=10)
    ap.add_argument("--password", default="pw")
    ap.add_argument("--rcpts", default="r{n}@d{d}.remote.test")
    ap.add_argument("--rcpt-count", type=int, default=100)
    ap.add_argument("--domains", type=int, default=10)
    ap.add_argument("-n", "--messages", type=int, default=1000)
    ap.add_argument("-c", "--concurrency", type=int, default=4)
    ap.add_argument("--per-conn", type=int, default=10)
    ap.add_argument("--size", default="5k")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cache-dir", default="")
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--per-message", required=True)
    a = ap.parse_args()

    jobs = jobs_for(a)
    barrier = mp.Barrier(a.concurrency + 1)
    queue = mp.Queue()
    procs = [mp.Process(target=worker, args=(w, jobs, a, barrier, queue)) for w in range(a.concurrency)]
    for p in procs:
        p.start()
    barrier.wait()
    t_start = time.time()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    done = [d for r in results for d in r["done"]]
    errors = [e for r in results for e in r["errors"]]
    with open(a.per_message, "w") as f:
        for d in sorted(done, key=lambda d: d["t_250"]):
            f.write(json.dumps(d) + "\n")
    t_last = max((d["t_250"] for d in done), default=t_start)
    txn = [d["t_250"] - d["t_mail"] for d in done]
    print(json.dumps({
        "accepted": len(done), "failed": len(errors), "errors_sample": errors[:5],
        "t_start": t_start, "t_last": t_last,
        "accepted_per_s": len(done) / (t_last - t_start) if done and t_last > t_start else 0,
        "txn_p50_ms": (pct(txn, 0.5) or 0) * 1000, "txn_p99_ms": (pct(txn, 0.99) or 0) * 1000,
    }))


if __name__ == "__main__":
    main()
