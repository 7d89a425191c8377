import { describe, it, expect } from 'vitest';
import { baseSubject } from './base-subject.ts';

// RFC 5256 §2.1 base subject extraction.
describe('baseSubject', () => {
  it.each([
    ['Hello', 'HELLO', false],
    ['Re: Hello', 'HELLO', true],
    ['RE:Hello', 'HELLO', true],
    ['Fwd: Re: Hello', 'HELLO', true],
    ['fw: hello', 'HELLO', true],
    ['Re[2]: Hello', 'HELLO', true],
    ['[list] Re: Hello', 'HELLO', true],
    ['[list] Hello', 'HELLO', false],
    ['Hello (fwd)', 'HELLO', true],
    ['Hello (fwd) (FWD)  ', 'HELLO', true],
    ['[Fwd: Re: Hello]', 'HELLO', true],
    ['  Hello\t  world  ', 'HELLO WORLD', false],
    ['[only blob]', '[ONLY BLOB]', false],
    ['Re: [only blob]', '[ONLY BLOB]', true],
    ['Reply to this', 'REPLY TO THIS', false],
    ['', '', false],
    ['Re:', '', true],
    ['Ünïcode re: x', 'ÜNïCODE RE: X', false],
  ])('%j → %j', (subject, key, isReply) => {
    expect(baseSubject(subject)).toEqual({ key, isReply });
  });
});
