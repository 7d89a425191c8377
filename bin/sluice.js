#!/usr/bin/env node
// Entry point of `npx sluice`: runs the TypeScript CLI through tsx's ESM loader.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../ops/cli.ts');
process.exitCode = await main(process.argv.slice(2));
