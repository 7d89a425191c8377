/** `roles` of the config (`--roles`, `SLUICE_ROLES`, YAML) and the check against the engines. */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { ConfigError, loadConfig, PROJECT_ROOT } from './config.ts';
import { checkRoles, localEngines, runsAllRoles, runsRole } from './roles.ts';

const CLUSTER = join(PROJECT_ROOT, 'ops/cluster.example.yaml');

describe('roles config', () => {
  it('runs every role by default', () => {
    const config = loadConfig({ env: {} });
    expect(config.roles).toEqual(['ingress', 'stages', 'access']);
    expect(runsAllRoles(config)).toBe(true);
  });

  it('takes a comma list from the command line and SLUICE_ROLES, trimmed, each once, in a fixed order', () => {
    expect(loadConfig({ env: {}, overrides: { roles: 'access, ingress' } }).roles).toEqual(['ingress', 'access']);
    expect(loadConfig({ env: { SLUICE_ROLES: 'stages' } }).roles).toEqual(['stages']);
    expect(loadConfig({ env: { SLUICE_ROLES: 'stages' }, overrides: { roles: 'ingress,ingress' } }).roles).toEqual(['ingress']);
    const config = loadConfig({ env: {}, overrides: { roles: 'stages,access' } });
    expect([runsRole(config, 'ingress'), runsRole(config, 'stages'), runsRole(config, 'access')]).toEqual([false, true, true]);
    expect(runsAllRoles(config)).toBe(false);
  });

  it('takes a YAML list or string', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-roles-'));
    writeFileSync(join(dir, 'list.yaml'), 'roles: [access, stages]\n');
    writeFileSync(join(dir, 'string.yaml'), 'roles: ingress\n');
    expect(loadConfig({ file: join(dir, 'list.yaml'), env: {} }).roles).toEqual(['stages', 'access']);
    expect(loadConfig({ file: join(dir, 'string.yaml'), env: {} }).roles).toEqual(['ingress']);
  });

  it('refuses unknown and empty role lists with the names it knows', () => {
    expect(() => loadConfig({ env: {}, overrides: { roles: 'ingress,smtp' } })).toThrow(ConfigError);
    expect(() => loadConfig({ env: {}, overrides: { roles: 'ingress,smtp' } })).toThrow(
      /roles: unknown role "smtp": expected one or more of ingress, stages, access \(comma-separated\)/,
    );
    expect(() => loadConfig({ env: {}, overrides: { roles: ' , ' } })).toThrow(/roles: no role given/);
    expect(() => loadConfig({ env: {}, overrides: { roles: [] } })).toThrow(/roles: no role given/);
  });
});

describe('checkRoles', () => {
  it('lets all three roles run on the embedded log', () => {
    expect(() => checkRoles(loadConfig({ env: {}, overrides: { roles: 'ingress,stages,access' } }))).not.toThrow();
  });

  it('refuses roles apart on the embedded log, and says to use Kafka', () => {
    for (const roles of ['ingress', 'stages', 'access', 'ingress,access', 'stages,access']) {
      const config = loadConfig({ env: {}, overrides: { roles } });
      expect(() => checkRoles(config)).toThrow(ConfigError);
      expect(() => checkRoles(config)).toThrow(/embedded log \(engines\.log kind embedded\) is one process.*set engines\.log to kind kafka/);
    }
  });

  it('lets any role run apart on the Kafka log', () => {
    for (const roles of ['ingress', 'stages', 'access', 'ingress,access']) {
      const config = loadConfig({ file: CLUSTER, env: {}, overrides: { roles } });
      expect(() => checkRoles(config)).not.toThrow();
      expect(localEngines(config)).toEqual([]);
    }
  });

  it('names the engines that stay in the data folder', () => {
    const config = loadConfig({ env: { SLUICE_ENGINES_LOG_KIND: 'kafka', SLUICE_ENGINES_LOG_BROKERS: '127.0.0.1:19092' }, overrides: { roles: 'access' } });
    expect(() => checkRoles(config)).not.toThrow();
    expect(localEngines(config)).toEqual(['store (mail.db)', 'search (search.db)', 'blobs (blobs/)']);
  });
});
