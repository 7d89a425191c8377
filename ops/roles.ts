/**
 * Roles of `sluice serve` (`--roles`, config `roles`, `SLUICE_ROLES`; names in config.ts): which
 * parts of the server one process runs. All three in one process is the default; apart, they
 * meet only through the log, so the log must be one that several processes share.
 */
import type { Config, Role } from './config.ts';
import { ConfigError, ROLE_NAMES } from './config.ts';

export function runsRole(config: Readonly<Config>, role: Role): boolean {
  return config.roles.includes(role);
}

/** True when this process runs every role (the single-process server). */
export function runsAllRoles(config: Readonly<Config>): boolean {
  return ROLE_NAMES.every((r) => config.roles.includes(r));
}

/**
 * Refuses roles that cannot work with the configured engines: the embedded log is a file of one
 * process (its stages, its listeners, its push bus), so roles apart need `engines.log` kind kafka.
 */
export function checkRoles(config: Readonly<Config>): void {
  if (runsAllRoles(config) || config.engines.log.kind !== 'embedded') return;
  throw new ConfigError(
    `roles ${config.roles.join(',')} without ${ROLE_NAMES.filter((r) => !config.roles.includes(r)).join(',')}: ` +
      'the embedded log (engines.log kind embedded) is one process and cannot be shared by roles in separate processes; ' +
      'set engines.log to kind kafka (see ops/cluster.example.yaml), or run every role in one process (--roles ' +
      `${ROLE_NAMES.join(',')}, the default)`,
  );
}

/**
 * Engines kept in the data folder: processes of separate roles share them only on one machine
 * (and one data folder). Returned for a warning at start.
 */
export function localEngines(config: Readonly<Config>): string[] {
  const { store, search, blobs } = config.engines;
  return [store.kind === 'sqlite' && 'store (mail.db)', search.kind === 'sqlite' && 'search (search.db)', blobs.kind === 'files' && 'blobs (blobs/)'].filter(
    (e): e is string => typeof e === 'string',
  );
}
