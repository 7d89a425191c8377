import { describe, it, expect } from 'vitest';
import { flagsFromStatus, normalizeMessageId, parseDate, scanHeaders } from './headers.ts';

describe('header scan', () => {
  it('finds Message-ID, Date and status fields, unfolding and ignoring the body', () => {
    const bytes = Buffer.from(
      'Subject: x\r\nmessage-id:\r\n <abc@example.test>\r\nDate: Tue, 2 Jan 2024 10:00:00 +0100 (CET)\r\nStatus: RO\r\nX-Status: A\r\n\r\nMessage-ID: <body@x>\r\n',
    );
    expect(scanHeaders(bytes)).toEqual({ messageId: '<abc@example.test>', date: Date.UTC(2024, 0, 2, 9), status: 'RO', xStatus: 'A' });
  });

  it('reads LF messages and messages without the fields', () => {
    expect(scanHeaders(Buffer.from('Subject: x\n\nDate: Tue, 2 Jan 2024 10:00:00 +0000\n'))).toEqual({ messageId: null, date: null, status: null, xStatus: null });
  });

  it('normalizes Message-IDs and dates', () => {
    expect(normalizeMessageId('  <a@b>  (comment)')).toBe('<a@b>');
    expect(normalizeMessageId('a@b')).toBe('<a@b>');
    expect(normalizeMessageId('')).toBeNull();
    expect(parseDate('garbage')).toBeNull();
  });

  it('maps mbox status letters to IMAP flags', () => {
    expect(flagsFromStatus('RO', 'AFTD')).toEqual(['\\Answered', '\\Flagged', '\\Seen', '\\Draft', '\\Deleted']);
    expect(flagsFromStatus('O', null)).toEqual([]);
  });
});
