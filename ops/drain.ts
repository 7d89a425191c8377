/**
 * Runs the pipeline in this process until every stage has caught up with its input — for
 * tools (import, dlq replay) used while no server runs on the data folder.
 */
import type { App } from './app.ts';
import { TopologyRunner, stageGroup } from '../topology/runner.ts';
import { PROCESSORS } from '../processors/index.ts';

export async function lagOf(app: App): Promise<number> {
  let total = 0;
  for (const t of app.topologies) {
    // A stage with waitUntil (the outgoing retry topics) holds records by design, perhaps for hours.
    for (const s of t.stages) if (!s.waitUntil) for (const p of await app.log.lag(stageGroup(t, s), [s.from])) total += p.records;
  }
  return total;
}

export async function drainPipeline(app: App, onLag?: (records: number) => void): Promise<void> {
  const runner = new TopologyRunner({ log: app.log, topologies: app.topologies, processors: PROCESSORS, resources: app.resources(), logger: app.logger, pollTimeoutMs: 100 });
  await runner.start();
  try {
    for (;;) {
      const lag = await lagOf(app);
      onLag?.(lag);
      if (lag === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await runner.stop();
  }
}
