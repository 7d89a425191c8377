/**
 * The Log contract on a real Kafka: the brokers that `ops/stack up kafka` (or
 * `bash ops/engines/kafka.sh up`) starts. Run with `npm run test:distributed`;
 * SLUICE_KAFKA_BROKERS (comma-separated host:port) overrides the bootstrap list. No broker
 * answering fails the run: it never skips. Topic and group names are unique per test.
 */
import { runLogConformance } from './conformance.ts';
import { KafkaLog } from './kafka.ts';

const brokers = (process.env.SLUICE_KAFKA_BROKERS ?? '127.0.0.1:19092').split(',').map((b) => b.trim()).filter(Boolean);

runLogConformance('kafka', async () => {
  const opened = [new KafkaLog({ brokers, clientId: 'sluice-conformance' })];
  return {
    log: opened[0],
    reopen: async () => {
      const log = new KafkaLog({ brokers, clientId: 'sluice-conformance' });
      opened.push(log);
      return log;
    },
    cleanup: async () => {
      for (const log of opened) await log.close();
    },
  };
});
