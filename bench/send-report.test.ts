import { describe, expect, it } from 'vitest';
import { relayDeliveries, sendFigures, sendTable, undeliveredNote, type LoadSummary, type SendRecord, type Submitted } from './send-report.ts';

const LOG = [
  'Dec 07 06:06:01 relay postfix-relay/qmgr[18463]: 0503CD607D: from=<u1@bench.test>, size=424, nrcpt=1 (queue active)',
  'Dec 07 06:06:01 relay postfix-relay/smtp[18517]: 0503CD607D: to=<r1@d3.remote.test>, relay=127.0.0.77[127.0.0.77]:2525, delay=0.022, delays=0.0072/0.0094/0.003/0.0022, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 089B1D607F)',
  'Dec 07 06:06:02 relay postfix-relay/smtp[18517]: 1111111111: to=<r2@d3.remote.test>, relay=none, delay=0.5, delays=0.1/0/0.4/0, dsn=4.4.1, status=deferred (connect to 127.0.0.77[127.0.0.77]:2525: Connection refused)',
  'Dec 07 06:06:09 relay postfix-relay/smtp[18517]: 1111111111: to=<r2@d3.remote.test>, relay=127.0.0.77[127.0.0.77]:2525, delay=7.25, delays=7/0/0.2/0.05, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 22)',
  'Dec 07 06:06:09 relay postfix-relay/smtp[18517]: 2222222222: to=<r3@d3.remote.test>, relay=127.0.0.77[127.0.0.77]:2525, delay=0.1, delays=0.1/0/0/0, dsn=5.1.1, status=bounced (host said 550)',
].join('\n');

describe('send bench figures', () => {
  it('reads the relay\'s outcome per queue id, the last attempt winning', () => {
    const d = relayDeliveries(LOG);
    expect(d.get('0503CD607D')).toEqual({ status: 'sent', delay: 0.022 });
    expect(d.get('1111111111')).toEqual({ status: 'sent', delay: 7.25 });
    expect(d.get('2222222222')).toEqual({ status: 'bounced', delay: 0.1, response: 'host said 550' });
  });

  it('latency from the 250 to the remote 250; delivered rate up to the last remote 250', () => {
    const summary: LoadSummary = { accepted: 4, failed: 0, errors_sample: [], t_start: 100, t_last: 101, accepted_per_s: 4, txn_p50_ms: 1, txn_p99_ms: 2 };
    const sub = (i: number, qid: string, tMail: number, t250: number): Submitted => ({ i, qid, mid: `<m${i}>`, rcpt: 'r@d1.remote.test', t_mail: tMail, t_250: t250 });
    const submitted = [sub(0, 'A', 100, 100.01), sub(1, 'B', 100.5, 100.51), sub(2, 'C', 101, 101.01), sub(3, 'S', 101, 101.02)];
    const deliveries = new Map([
      ['A', { status: 'sent', delay: 0.03 }], // 20 ms after the 250
      ['B', { status: 'sent', delay: 1.01 }], // 1000 ms
      ['C', { status: 'bounced', delay: 0.1 }],
      ['S', { status: 'delivered', at: 101.06 }], // Sluice gives the time itself: 40 ms
    ]);
    const f = sendFigures(summary, submitted, deliveries);
    expect(f.delivered).toBe(3);
    expect(f.deliveredPerS).toBeCloseTo(3 / 1.51, 6);
    expect(f.p50Ms).toBeCloseTo(40, 6);
    expect(f.maxMs).toBeCloseTo(1000, 6);
    expect(undeliveredNote(submitted, deliveries)).toBe('1 bounced');
  });

  it('writes one row per load with both servers and the ratio of medians', () => {
    const base = { size: '5k', concurrency: 4, messages: 10, at: '', accepted: 10, failed: 0, submittedPerS: 100, clientTxnP50Ms: 1, clientTxnP99Ms: 2, delivered: 10, p50Ms: 5, p99Ms: 9 };
    const records: SendRecord[] = [
      { ...base, server: 'sluice', rep: 0, deliveredPerS: 300 },
      { ...base, server: 'sluice', rep: 1, deliveredPerS: 100 },
      { ...base, server: 'postfix', rep: 0, deliveredPerS: 100 },
    ];
    const table = sendTable(records, ['5k'], [4]);
    expect(table.split('\n')[2]).toBe('| 5k, 4 connections | 100 / 100 | 200 / 100 | 5.0 / 5.0 | 9.0 / 9.0 | – / – | 2.00 |');
  });
});
