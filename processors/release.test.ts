/** The release stage passes a record on unchanged (the waiting is the runner's: topology/runner-wait.test.ts). */
import { describe, expect, it } from 'vitest';
import { releaseProcessor } from './release.ts';
import { inputRecord, openTestResources } from './test-resources.ts';
import { queuedMail } from './outbound/test-outbound.ts';

describe('release stage', () => {
  it('passes the queued record on as it is, keyed by its domain', async () => {
    const res = openTestResources();
    try {
      const mail = await queuedMail(res.blobs, { domain: 'remote.test', recipients: ['a@remote.test'], attempt: 2, notBefore: 123 });
      const stage = releaseProcessor.create(releaseProcessor.spec.config.parse({}), res);
      expect(await stage.process(inputRecord('mail.outbound.retry.2', 'remote.test', mail))).toEqual([{ key: 'remote.test', value: mail }]);
    } finally {
      await res.close();
    }
  });
});
