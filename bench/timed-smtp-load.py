#!/usr/bin/env python3
"""Runs the shared smtp_load.py unchanged, and prints the moment its clock started.

smtp_load.py times everything from `t_start = time.monotonic()` (right after its worker
processes pass the start barrier, messages already generated) but does not write that moment
out. This wrapper gives smtp_load a `time` module whose monotonic() remembers the first value
read in the parent process (that is t_start: the parent reads no monotonic time before it),
then prints `t_start_monotonic <seconds>` when smtp_load ends. CLOCK_MONOTONIC is the clock of
Node's process.hrtime(), so the bench can compare it with when it saw the messages indexed.

Usage: timed-smtp-load.py SHARED_BENCH_DIR [smtp_load.py arguments…]
"""
import os
import sys
import time

sys.path.insert(0, sys.argv.pop(1))
import smtp_load  # noqa: E402

_PARENT = os.getpid()
_first = []


class _Clock:
    """`time`, except that the parent's first monotonic() is remembered."""

    def __getattr__(self, name):
        return getattr(time, name)

    def monotonic(self):
        t = time.monotonic()
        if not _first and os.getpid() == _PARENT:
            _first.append(t)
        return t


smtp_load.time = _Clock()
try:
    smtp_load.main()
finally:
    if _first and os.getpid() == _PARENT:
        print("t_start_monotonic %.6f" % _first[0], flush=True)
