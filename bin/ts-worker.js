// Bootstrap of a worker thread that runs a TypeScript module: registers tsx's loader in this
// thread (loader hooks are per thread), then imports workerData.module.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.module);
