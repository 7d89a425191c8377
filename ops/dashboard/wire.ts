/** Wiring for `serve`: the ops dashboard over the app's engines and scanners, its numbers on /metrics too. */
import type { App } from '../app.ts';
import type { Metrics } from '../metrics.ts';
import { registerOpsMetrics } from './metrics.ts';
import { OpsDashboard } from './snapshot.ts';

export function watchOps(app: App, metrics: Metrics, options: { runsStages?: boolean } = {}): OpsDashboard {
  const { scan } = app.resources();
  const dashboard = new OpsDashboard({
    log: app.log,
    topologies: app.topologies,
    engines: { log: app.log, store: app.store, search: app.search, blobs: app.blobs, clamd: scan?.virus ?? null, rspamd: scan?.spam ?? null },
    throughput: metrics.throughput,
    runsStages: options.runsStages,
  });
  registerOpsMetrics(metrics.registry, dashboard);
  return dashboard;
}
