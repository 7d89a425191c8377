import { describe, expect, it } from 'vitest';
import { matchesFields } from '../../../connectors/search/substring.ts';
import { fieldsOfBytes } from './message-fields.ts';

const message = (headers: string): Buffer => Buffer.from(`${headers}\r\nSubject: s\r\n\r\nbody\r\n`);

// imaptest search-addresses: FROM/TO/CC/BCC match the parsed addresses as well as the text.
describe('fieldsOfBytes: address fields', () => {
  it('finds an address written with comments inside the angle brackets', async () => {
    const f = await fieldsOfBytes(message('From: <user-from (comment)@ (comment) domain.org>\r\nBcc: <b (x)@ d.org>'));
    expect(matchesFields(f, { in: 'header', field: 'FROM', needle: 'user-from@domain.org' })).toBe(true);
    expect(matchesFields(f, { in: 'header', field: 'bcc', needle: 'B@D.ORG' })).toBe(true);
    // The text as written is still there (HEADER and substring keys).
    expect(matchesFields(f, { in: 'header', field: 'FROM', needle: '(comment)' })).toBe(true);
    expect(matchesFields(f, { in: 'header', field: 'FROM', needle: 'nobody@domain.org' })).toBe(false);
  });

  it('finds group names and members, and names given as comments', async () => {
    const f = await fieldsOfBytes(message('From: user-from@domain.org (RealFrom)\r\nTo: groupname: g1@domain.org,\r\n g2@domain.org;, groupname2: g3@domain.org;'));
    expect(matchesFields(f, { in: 'header', field: 'FROM', needle: 'ealfro' })).toBe(true);
    for (const needle of ['groupname', 'groupname2', 'g1@domain.org', 'g3@domain.org']) {
      expect(matchesFields(f, { in: 'header', field: 'TO', needle })).toBe(true);
    }
    expect(matchesFields(f, { in: 'header', field: 'TO', needle: 'g4@domain.org' })).toBe(false);
  });

  it('leaves fields that parse back to their own text as they are', async () => {
    const f = await fieldsOfBytes(message('From: a@b.org\r\nTo: "Quoted" <q@b.org>'));
    expect(f.from).toBe('a@b.org');
    expect(f.to).toBe('"quoted" <q@b.org>\tquoted <q@b.org>');
  });
});
