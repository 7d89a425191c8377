#!/usr/bin/env python3
"""One IMAP session with Python's imaplib (a client nobody on the team wrote), for Sluice's
end-to-end tests: STARTTLS (the server's self-signed certificate is not verified), LOGIN, then
the steps named on the command line; prints one JSON object with what each step returned.

Steps: select:BOX  fetch:SET:ITEMS  uidsearch:CRITERIA  store:SET:+FLAGS:(\\Flagged)
       create:BOX  copy:SET:BOX  move:SET:BOX  status:BOX:ITEMS  list  expunge
"""
import argparse, imaplib, json, ssl, sys

p = argparse.ArgumentParser()
p.add_argument('--port', type=int, required=True)
p.add_argument('--user', required=True)
p.add_argument('--password', default='secret')
p.add_argument('--tls', choices=['starttls', 'implicit'], default='starttls')
p.add_argument('steps', nargs='*')
args = p.parse_args()

ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE

def text(data):
    out = []
    for item in data:
        if isinstance(item, tuple):
            out.append([x.decode('utf-8', 'replace') for x in item])
        elif isinstance(item, bytes):
            out.append(item.decode('utf-8', 'replace'))
        elif item is not None:
            out.append(str(item))
    return out

if args.tls == 'implicit':
    imap = imaplib.IMAP4_SSL('127.0.0.1', args.port, ssl_context=ctx, timeout=30)
else:
    imap = imaplib.IMAP4('127.0.0.1', args.port, timeout=30)
    result = {'capabilities_before_tls': list(imap.capabilities)}
    imap.starttls(ssl_context=ctx)
result = {} if args.tls == 'implicit' else result
typ, data = imap.login(args.user, args.password)
result['login'] = typ
result['capabilities'] = list(imap.capabilities)
steps = []
for step in args.steps:
    name, _, rest = step.partition(':')
    try:
        if name == 'select':
            typ, data = imap.select(rest)
        elif name == 'examine':
            typ, data = imap.select(rest, readonly=True)
        elif name == 'fetch':
            s, items = rest.split(':', 1)
            typ, data = imap.fetch(s, items)
        elif name == 'uidfetch':
            s, items = rest.split(':', 1)
            typ, data = imap.uid('FETCH', s, items)
        elif name == 'uidsearch':
            typ, data = imap.uid('SEARCH', *rest.split(' '))
        elif name == 'search':
            typ, data = imap.search(None, *rest.split(' '))
        elif name == 'store':
            s, op, flags = rest.rsplit(':', 2)
            typ, data = imap.store(s, op, flags)
        elif name == 'create':
            typ, data = imap.create(rest)
        elif name == 'copy':
            s, box = rest.rsplit(':', 1)
            typ, data = imap.copy(s, box)
        elif name == 'move':
            s, box = rest.rsplit(':', 1)
            typ, data = imap._simple_command('MOVE', s, box)
            data = imap.untagged_responses.pop('OK', [])
        elif name == 'status':
            box, items = rest.split(':', 1)
            typ, data = imap.status(box, items)
        elif name == 'list':
            typ, data = imap.list()
        elif name == 'expunge':
            typ, data = imap.expunge()
        elif name == 'append':
            box, body = rest.split(':', 1)
            typ, data = imap.append(box, '(\\Seen)', None, body.replace('\\n', '\r\n').encode())
        else:
            raise SystemExit(f'unknown step {name}')
        steps.append({'step': step, 'typ': typ, 'data': text(data)})
    except imaplib.IMAP4.error as e:
        steps.append({'step': step, 'typ': 'ERROR', 'data': [str(e)]})
result['steps'] = steps
imap.logout()
print(json.dumps(result))
