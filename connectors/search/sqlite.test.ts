import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSearchIndexConformance } from './conformance.ts';
import { buildMatch, ftsString } from './fts-query.ts';
import { SqliteSearchIndex } from './sqlite.ts';

runSearchIndexConformance('sqlite', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-'));
  const file = path.join(dir, 'search.db');
  const opened = [new SqliteSearchIndex({ path: file })];
  return {
    index: opened[0],
    reopen: async () => {
      const index = new SqliteSearchIndex({ path: file });
      opened.push(index);
      return index;
    },
    cleanup: async () => {
      for (const index of opened) await index.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('FTS5 MATCH building', () => {
  it('quotes every value as one FTS5 string, doubling quotes', () => {
    expect(ftsString('a "b" c')).toBe('"a ""b"" c"');
    expect(buildMatch('uX', [{ field: 'subject', value: 'x" OR owner:"uY' }])).toBe(
      'owner : "uX" AND subject : "x"" OR owner:""uY"*',
    );
  });

  it('searches every text column (not the owner) for field "text" and skips blank values', () => {
    expect(buildMatch('uX', [{ field: 'text', value: 'hi' }, { field: 'body', value: ' ' }])).toBe(
      'owner : "uX" AND {from_addr to_addr cc_addr subject body attachments} : "hi"*',
    );
  });
});
