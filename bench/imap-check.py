#!/usr/bin/env python3
"""One IMAP session for the IMAP bench (not timed as part of it): LOGIN, SELECT INBOX,
FETCH 1:* (FLAGS ENVELOPE), SEARCH TEXT <word>, LOGOUT. Prints one JSON line:
{"exists": N, "matches": M, "select_ms": .., "fetch_ms": .., "search_ms": ..}. Used to check
that a server holds the loaded mailbox (and to warm it up)."""
import argparse
import imaplib
import json
import time

ap = argparse.ArgumentParser()
ap.add_argument("--host", default="127.0.0.1")
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--user", required=True)
ap.add_argument("--password", required=True)
ap.add_argument("--word", default="budget")
ap.add_argument("--no-fetch", action="store_true", help="skip FETCH 1:* (FLAGS ENVELOPE)")
a = ap.parse_args()

m = imaplib.IMAP4(a.host, a.port, timeout=300)
m.login(a.user, a.password)
t = time.perf_counter()
typ, data = m.select("INBOX")
out = {"exists": int(data[0]) if typ == "OK" else -1, "select_ms": round((time.perf_counter() - t) * 1000, 2)}
if out["exists"] > 0 and not a.no_fetch:
    t = time.perf_counter()
    typ, data = m.fetch("1:*", "(FLAGS ENVELOPE)")
    out["fetch_ms"] = round((time.perf_counter() - t) * 1000, 2)
    out["fetch_ok"] = typ == "OK"
t = time.perf_counter()
typ, data = m.search(None, "TEXT", '"%s"' % a.word)
out["search_ms"] = round((time.perf_counter() - t) * 1000, 2)
out["matches"] = len(data[0].split()) if typ == "OK" and data and data[0] else 0
m.logout()
print(json.dumps(out))
