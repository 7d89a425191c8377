/**
 * Child process of the crash test in `../embedded.test.ts`: produces forever, 16 calls in
 * flight, and prints `id partition offset` for each record only after its produce() resolved.
 * The test kills it with SIGKILL and checks every printed record is in the file.
 * `--sync-on-pool`: the log fsyncs on libuv's thread pool (`EmbeddedLogOptions.syncOnPool`).
 */
import { EmbeddedLog } from '../embedded.ts';

const path = process.argv[2];
if (!path) throw new Error('usage: crash-producer.ts <log file> [--sync-on-pool]');
const log = new EmbeddedLog({ path, syncOnPool: process.argv[3] === '--sync-on-pool' });
await log.ensureTopics([{ name: 'crash', partitions: 3 }]);
let next = 0;

async function worker(): Promise<void> {
  for (;;) {
    const id = next++;
    const [position] = await log.produce([{ topic: 'crash', key: `user-${id % 7}`, value: Buffer.from(`msg-${id}`) }]);
    process.stdout.write(`${id} ${position.partition} ${position.offset}\n`);
  }
}

await Promise.all(Array.from({ length: 16 }, () => worker()));
