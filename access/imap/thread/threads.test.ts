import { describe, it, expect } from 'vitest';
import { referencesThreads } from './references.ts';
import { orderedSubjectThreads } from './ordered-subject.ts';
import { formatThreads, type ThreadInput } from './thread.ts';

function msg(partial: Partial<ThreadInput> & { id: number }): ThreadInput {
  return {
    order: partial.id,
    sentDate: partial.id * 1000,
    subject: `subject ${partial.id}`,
    messageId: `m${partial.id}@x`,
    references: [],
    inReplyTo: [],
    ...partial,
  };
}

describe('THREAD=REFERENCES (RFC 5256 §2.2)', () => {
  it('links by References and In-Reply-To and orders by sent date', () => {
    const messages = [
      msg({ id: 1 }),
      msg({ id: 2, references: ['m1@x'] }),
      msg({ id: 3, inReplyTo: ['m2@x'] }),
      msg({ id: 4, references: ['m1@x'] }),
      msg({ id: 5 }),
    ];
    expect(formatThreads(referencesThreads(messages))).toBe('(1 (2 3)(4))(5)');
  });

  it('keeps a missing parent as a dummy only at the root with several children', () => {
    const messages = [
      msg({ id: 1, references: ['gone@x'] }),
      msg({ id: 2, references: ['gone@x'] }),
      msg({ id: 3, references: ['lost@x'] }),
      msg({ id: 4, references: ['m3@x', 'lost2@x'] }),
    ];
    // gone@x: two children → dummy kept; lost@x: one child → promoted; lost2@x (not a root) → promoted.
    expect(formatThreads(referencesThreads(messages))).toBe('((1)(2))(3 4)');
  });

  it('a message arriving before its parent still ends up under it', () => {
    const messages = [msg({ id: 1, sentDate: 5000, references: ['m2@x'] }), msg({ id: 2, sentDate: 1000 })];
    expect(formatThreads(referencesThreads(messages))).toBe('(2 1)');
  });

  it('does not make loops from contradictory References', () => {
    const messages = [
      msg({ id: 1, references: ['m2@x'] }),
      msg({ id: 2, references: ['m1@x'] }),
      msg({ id: 3, references: ['m3@x'] }),
      msg({ id: 4, references: ['m5@x', 'm4@x'] }),
      msg({ id: 5 }),
    ];
    const out = formatThreads(referencesThreads(messages));
    // every message exactly once
    expect(out.match(/\d+/g)?.map(Number).sort()).toEqual([1, 2, 3, 4, 5]);
    expect(out).toContain('(3)');
    expect(out).toContain('(5 4)');
  });

  it('gives duplicate and missing Message-IDs unique ids', () => {
    const messages = [
      msg({ id: 1, messageId: 'dup@x' }),
      msg({ id: 2, messageId: 'dup@x' }),
      msg({ id: 3, messageId: null }),
      msg({ id: 4, references: ['dup@x'] }),
    ];
    expect(formatThreads(referencesThreads(messages))).toBe('(1 4)(2)(3)');
  });

  it('groups roots by base subject: a reply under the original, two originals under a dummy', () => {
    const messages = [
      msg({ id: 1, subject: 'Lunch' }),
      msg({ id: 2, subject: 'Re: Lunch', messageId: 'other@x' }),
      msg({ id: 3, subject: 'Plans' }),
      msg({ id: 4, subject: 'Plans' }),
      msg({ id: 5, subject: '' }),
      msg({ id: 6, subject: '' }),
    ];
    expect(formatThreads(referencesThreads(messages))).toBe('(1 2)((3)(4))(5)(6)');
  });

  it('puts a non-reply root under an existing dummy with the same subject', () => {
    const messages = [
      msg({ id: 1, subject: 'Topic', references: ['gone@x'] }),
      msg({ id: 2, subject: 'Re: Topic', references: ['gone@x'] }),
      msg({ id: 3, subject: 'Topic' }),
    ];
    expect(formatThreads(referencesThreads(messages))).toBe('((1)(2)(3))');
  });

  it('breaks sent-date ties by sequence number and sorts nested siblings', () => {
    const messages = [
      msg({ id: 1, sentDate: 0 }),
      msg({ id: 2, sentDate: 9000, references: ['m1@x'] }),
      msg({ id: 3, sentDate: 100, references: ['m1@x'] }),
      msg({ id: 4, sentDate: 100, references: ['m1@x'] }),
      msg({ id: 5, sentDate: 0 }),
    ];
    expect(formatThreads(referencesThreads(messages))).toBe('(1 (3)(4)(2))(5)');
  });

  it('handles a 5,000-deep reply chain without recursion trouble', () => {
    const messages: ThreadInput[] = [];
    for (let id = 1; id <= 5_000; id++) messages.push(msg({ id, subject: 'chain', references: id > 1 ? [`m${id - 1}@x`] : [] }));
    const out = formatThreads(referencesThreads(messages));
    expect(out.startsWith('(1 2 3 ')).toBe(true);
    expect(out.endsWith(' 5000)')).toBe(true);
  });
});

describe('THREAD=ORDEREDSUBJECT (RFC 5256 §2.3)', () => {
  it('groups by base subject, first by sent date is the parent, threads by first date', () => {
    const messages = [
      msg({ id: 1, subject: 'B', sentDate: 5 }),
      msg({ id: 2, subject: 'Re: A', sentDate: 3 }),
      msg({ id: 3, subject: 'a', sentDate: 4 }),
      msg({ id: 4, subject: 'Fwd: b', sentDate: 1 }),
      msg({ id: 5, subject: 'A', sentDate: 9 }),
      msg({ id: 6, subject: 'C', sentDate: 2 }),
    ];
    expect(formatThreads(orderedSubjectThreads(messages))).toBe('(4 1)(6)(2 (3)(5))');
  });
});
