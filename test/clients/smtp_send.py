#!/usr/bin/env python3
"""SMTP load client for Sluice's end-to-end tests, on Python's smtplib (a client nobody on the
team wrote). Sends --count messages over --concurrency connections (threads), each to one
recipient drawn round-robin (per thread) from --users. Messages come in threads: every --thread-size-th
message starts a thread, the others reply to the previous message of the same thread
(In-Reply-To / References). Each attempt of a message carries its own Message-ID
(<m{n}.a{attempt}@test>), so a retried message that the server had stored before a crash
is told apart. Prints one JSON line per event: {"ack": id, "rcpt": ..., "thread": t} after a
250, {"fail": id, "error": ...} after an error (the message is then retried until --deadline).
"""
import argparse, json, os, smtplib, sys, threading, time, random, email.utils

p = argparse.ArgumentParser()
p.add_argument('--host', default='127.0.0.1')
p.add_argument('--port', type=int, required=True)
p.add_argument('--users', required=True, help='comma-separated recipient addresses')
p.add_argument('--count', type=int, default=100)
p.add_argument('--concurrency', type=int, default=4)
p.add_argument('--per-conn', type=int, default=10, help='messages per SMTP session')
p.add_argument('--thread-size', type=int, default=5)
p.add_argument('--deadline', type=float, default=300, help='seconds before giving up on retries')
p.add_argument('--size', type=int, default=2000, help='approximate body size in bytes')
p.add_argument('--stop-file', default=None, help='once this file exists, start no new message (those in a session are finished)')
args = p.parse_args()

users = args.users.split(',')
lock = threading.Lock()
queue = list(range(args.count))
attempts = {}
start = time.time()
WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima']

def emit(obj):
    with lock:
        sys.stdout.write(json.dumps(obj) + '\n')
        sys.stdout.flush()

def message(n, attempt):
    thread = n // args.thread_size
    rcpt = users[thread % len(users)]  # a thread stays with one user: threads are per mailbox owner
    mid = f'<m{n}.a{attempt}@test>'
    root = f'<m{thread * args.thread_size}.root@test>'
    headers = [
        f'From: Load Tester <sender{n % 7}@client.test>',
        f'To: {rcpt}',
        f'Subject: {"Re: " if n % args.thread_size else ""}thread {thread} message {n}',
        f'Date: {email.utils.formatdate(localtime=False)}',
        f'Message-ID: {mid}',
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset=utf-8',
    ]
    if n % args.thread_size == 0:
        # the thread's first message: its Message-ID is also listed as the root in References of replies
        headers.append(f'References: {root}')
    else:
        headers.append(f'In-Reply-To: {root}')
        headers.append(f'References: {root}')
    rnd = random.Random(n)
    body_words = [f'uniqword{n}x'] + [rnd.choice(WORDS) for _ in range(max(1, args.size // 7))]
    lines, line = [], []
    for w in body_words:
        line.append(w)
        if len(line) == 10:
            lines.append(' '.join(line)); line = []
    if line: lines.append(' '.join(line))
    return rcpt, thread, mid, '\r\n'.join(headers) + '\r\n\r\n' + '\r\n'.join(lines) + '\r\n'

def take(k):
    with lock:
        batch = queue[:k]
        del queue[:k]
        return batch

def give_back(ns):
    with lock:
        queue.extend(ns)

def worker():
    while time.time() - start < args.deadline:
        if args.stop_file and os.path.exists(args.stop_file):
            return
        batch = take(args.per_conn)
        if not batch:
            with lock:
                if not queue and not in_flight[0]:
                    return
            time.sleep(0.05)
            continue
        with lock:
            in_flight[0] += 1
        pending = list(batch)
        try:
            with smtplib.SMTP(args.host, args.port, timeout=30) as s:
                s.ehlo('load.client.test')
                while pending:
                    n = pending[0]
                    attempt = attempts.get(n, 0)
                    attempts[n] = attempt + 1
                    rcpt, thread, mid, data = message(n, attempt)
                    s.sendmail(f'sender{n % 7}@client.test', [rcpt], data.encode('utf-8'))
                    emit({'ack': mid, 'rcpt': rcpt, 'thread': thread, 'n': n})
                    pending.pop(0)
        except Exception as e:  # connection refused / reset while the server restarts, 4xx …
            if pending:
                emit({'fail': f'<m{pending[0]}.a{attempts.get(pending[0], 1) - 1}@test>', 'error': repr(e)[:200]})
                give_back(pending)
            time.sleep(0.2)
        finally:
            with lock:
                in_flight[0] -= 1

in_flight = [0]
threads = [threading.Thread(target=worker) for _ in range(args.concurrency)]
for t in threads: t.start()
for t in threads: t.join()
emit({'done': True, 'left': len(queue), 'seconds': round(time.time() - start, 3)})
