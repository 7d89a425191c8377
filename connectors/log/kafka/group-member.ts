/**
 * Child process of `../kafka.group.distributed.test.ts`: one member of a consumer group running a
 * copy stage (input → output, outputs and offsets in one transaction per batch) until it is
 * killed. Prints `owned <p,p,…>` whenever its assignment changes and `copied <n>` after each
 * commit; a commit refused by a rebalance rewinds quietly, as the runner does.
 *
 * Usage: group-member.ts <brokers> <input> <output> <group>
 */
import { KafkaLog } from '../kafka.ts';
import { RebalanceError } from '../log.ts';
import type { CommitOffset, LogRecord } from '../log.ts';

const [brokers, input, output, group] = process.argv.slice(2);
if (!group) throw new Error('usage: group-member.ts <brokers> <input> <output> <group>');
const log = new KafkaLog({ brokers: brokers.split(','), clientId: 'sluice-group-member' });
const consumer = await log.consumer(group, [input]);

let reported = '';
function report(): void {
  const owned = (consumer.owned?.() ?? []).map((p) => p.partition).sort((a, b) => a - b).join(',');
  if (owned === reported) return;
  reported = owned;
  process.stdout.write(`owned ${owned}\n`);
}
report();
setInterval(report, 20);

function nextOffsets(records: readonly LogRecord[]): CommitOffset[] {
  const next = new Map<number, CommitOffset>();
  for (const r of records) next.set(r.partition, { topic: r.topic, partition: r.partition, offset: r.offset + 1 });
  return [...next.values()];
}

for (;;) {
  try {
    const batch = await consumer.poll(200, 200);
    if (batch.length === 0) continue;
    await consumer.commit(batch.map((r) => ({ topic: output, key: r.key, value: r.value })), nextOffsets(batch));
    process.stdout.write(`copied ${batch.length}\n`);
  } catch (err) {
    await consumer.rewind();
    if (err instanceof RebalanceError) continue;
    process.stderr.write(`${String(err)}\n`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
