#!/usr/bin/env node
// Runs one TypeScript file (for scripts such as `npm run bench`): node bin/run-ts.js FILE [ARGS…]
import { register } from 'tsx/esm/api';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

register();
const file = process.argv[2];
if (!file) {
  console.error('usage: run-ts.js FILE [ARGS…]');
  process.exit(2);
}
process.argv.splice(1, 1);
await import(pathToFileURL(resolve(file)).href);
