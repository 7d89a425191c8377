/** `useEngines(configFile)`: this test file's servers on the engines of a config (engines.ts), the namespaces dropped afterwards. */
import { afterAll } from 'vitest';
import { dropNamespaces, runOnEngines } from './engines.ts';

export function useEngines(configFile: string): void {
  runOnEngines(configFile);
  afterAll(dropNamespaces, 120_000);
}
