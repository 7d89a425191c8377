/**
 * The query side of the OpenSearch index without a node: which candidates a string key asks
 * for (opensearch-substring.ts) and the documents it writes (opensearch-mapping.ts). The
 * behaviour against a real node is opensearch.distributed.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { indexBody, indexedDocument, storedDocument } from './opensearch-mapping.ts';
import { candidateMatches, substringPlan } from './opensearch-substring.ts';

const phrase = (field: string, query: string) => ({ match_phrase: { [`sub.${field}`]: { query } } });

describe('substringPlan', () => {
  it('looks a needle of three or more characters up by its folded trigrams, in the columns of the key', () => {
    expect(substringPlan({ in: 'body', needle: 'ALRUS' })).toEqual({
      clauses: [{ bool: { should: [phrase('body', 'alrus'), phrase('attachments', 'alrus')], minimum_should_match: 1 } }],
      source: ['uid', 'body', 'attachments'],
    });
    expect(substringPlan({ in: 'text', needle: 'ΟΔΟΣ' })?.clauses).toEqual([
      { bool: { should: [phrase('headers', 'οδοσ'), phrase('body', 'οδοσ'), phrase('attachments', 'οδοσ')], minimum_should_match: 1 } },
    ]);
    expect(substringPlan({ in: 'header', field: 'Subject', needle: 'École' })).toEqual({ clauses: [phrase('subject', 'école')], source: ['uid', 'headers'] });
  });

  it('scans the mailbox for needles too short for a trigram (code points, not UTF-16 units)', () => {
    expect(substringPlan({ in: 'body', needle: 'ab' })?.clauses).toEqual([]);
    expect(substringPlan({ in: 'text', needle: '' })?.clauses).toEqual([]);
    expect(substringPlan({ in: 'body', needle: '😀😀' })?.clauses).toEqual([]);
    expect(substringPlan({ in: 'body', needle: '😀😀😀' })?.clauses).toHaveLength(1);
  });

  it('asks a field without a column, or an empty needle, for documents having the field', () => {
    expect(substringPlan({ in: 'header', field: 'X-Mailer', needle: 'Zeppelin' })?.clauses).toEqual([
      phrase('headers', '\nx-mailer: '),
      phrase('headers', 'zeppelin'),
    ]);
    expect(substringPlan({ in: 'header', field: 'subject', needle: '' })?.clauses).toEqual([phrase('headers', '\nsubject: ')]);
    expect(substringPlan({ in: 'header', field: 'x-a', needle: 'z' })?.clauses).toEqual([phrase('headers', '\nx-a: ')]);
  });

  it('matches nothing for a field no header can have or a line break in a header needle', () => {
    expect(substringPlan({ in: 'header', field: '', needle: 'x' })).toBeNull();
    expect(substringPlan({ in: 'header', field: 'sub:ject', needle: 'x' })).toBeNull();
    expect(substringPlan({ in: 'header', field: 'subject', needle: 'a\nb' })).toBeNull();
    // TEXT with a line break still looks in the body.
    expect(substringPlan({ in: 'text', needle: 'line\nbreak' })?.clauses).toEqual([
      { bool: { should: [phrase('body', 'line\nbreak'), phrase('attachments', 'line\nbreak')], minimum_should_match: 1 } },
    ]);
  });

  it('decides each candidate exactly (a trigram phrase is only a filter)', () => {
    const doc = { headers: 'subject: Hello World\nx-mailer: Zeppelin', body: 'abcabd', attachments: 'a.pdf' };
    expect(candidateMatches(doc, { in: 'body', needle: 'CAB' })).toBe(true);
    expect(candidateMatches(doc, { in: 'body', needle: 'abcabc' })).toBe(false);
    expect(candidateMatches(doc, { in: 'header', field: 'subject', needle: 'o w' })).toBe(true);
    expect(candidateMatches(doc, { in: 'header', field: 'x-mailer', needle: 'world' })).toBe(false);
    expect(candidateMatches(doc, { in: 'text', needle: 'x-mailer: zep' })).toBe(true);
  });
});

describe('the indexed document', () => {
  it('keeps the raw fields, lowercases the owner and adds the folded trigram columns', () => {
    const stored = storedDocument({
      messageKey: 'k',
      userId: 'Bob@Example.TEST',
      mailboxId: 3,
      uid: 9,
      receivedAt: 5,
      from: 'Ann <ann@a.test>',
      to: '',
      cc: '',
      subject: 'Hi',
      body: 'Grüße ΣΑΣ',
      attachments: 'A.PDF',
      headers: 'subject: Hi\nfrom: Ann <ann@a.test>',
    });
    expect(stored).toMatchObject({ key: 'k', user_id: 'bob@example.test', imap: true, body: 'Grüße ΣΑΣ' });
    expect(indexedDocument(stored).sub).toEqual({
      headers: '\nsubject: hi\nfrom: ann <ann@a.test>\n',
      subject: 'hi',
      from: 'ann <ann@a.test>',
      to: '',
      cc: '',
      body: 'grüße σασ',
      attachments: 'a.pdf',
    });
    expect(storedDocument({ ...stored, messageKey: 'k', userId: 'b', mailboxId: 1, uid: 1, receivedAt: 1, headers: undefined }).imap).toBe(false);
  });

  it('maps every field explicitly and keeps the trigram columns out of _source', () => {
    const { mappings, settings } = indexBody({ shards: 3, replicas: 1, refreshInterval: '1s' });
    expect(mappings).toMatchObject({ dynamic: 'strict', _routing: { required: true }, _source: { excludes: ['sub', 'sub.*'] } });
    expect(settings).toMatchObject({ number_of_shards: 3, number_of_replicas: 1, refresh_interval: '1s' });
  });
});
