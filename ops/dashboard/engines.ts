/**
 * Engine health for /ops and /metrics: each engine of the config (log, store, search, blobs)
 * answers its connector's `health()`, and each scanner (clamd, rspamd) is either not configured
 * or asked whether it answers. All checks run at once; each has its own time limit.
 */
import type { EngineHealth, HealthCheck } from '../../connectors/health.ts';

export const ENGINE_NAMES = ['log', 'store', 'search', 'blobs'] as const;
export const SCANNER_NAMES = ['clamd', 'rspamd'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number] | (typeof SCANNER_NAMES)[number];

export interface EngineStatus extends EngineHealth {
  readonly engine: EngineName;
  /** False for a scanner the config does not name (then `ok` is false and nothing was asked). */
  readonly configured: boolean;
}

export type EngineChecks = Readonly<Record<(typeof ENGINE_NAMES)[number], HealthCheck>> &
  Readonly<Record<(typeof SCANNER_NAMES)[number], HealthCheck | null>>;

export async function checkEngines(checks: EngineChecks): Promise<EngineStatus[]> {
  return Promise.all(
    [...ENGINE_NAMES, ...SCANNER_NAMES].map(async (engine): Promise<EngineStatus> => {
      const check = checks[engine];
      if (!check) return { engine, configured: false, kind: engine, ok: false, latencyMs: 0, detail: 'not configured' };
      return { engine, configured: true, ...(await check.health()) };
    }),
  );
}
