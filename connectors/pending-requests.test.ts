import { describe, expect, it } from 'vitest';
import { PendingRequests } from './pending-requests.ts';

describe('PendingRequests', () => {
  it('numbers requests, settles each by its number, ignores unknown ones, and fails what is left', async () => {
    const pending = new PendingRequests<string>();
    const sent: number[] = [];
    const a = pending.send((id) => sent.push(id));
    const b = pending.send((id) => sent.push(id));
    const c = pending.send((id) => sent.push(id));
    expect(sent).toEqual([0, 1, 2]);
    expect(pending.size).toBe(3);
    pending.resolve(1, 'one');
    pending.reject(0, new Error('zero failed'));
    pending.resolve(99, 'nobody asked');
    await expect(b).resolves.toBe('one');
    await expect(a).rejects.toThrow('zero failed');
    pending.failAll(new Error('thread gone'));
    await expect(c).rejects.toThrow('thread gone');
    expect(pending.size).toBe(0);
  });
});
