/** The HTTP listener: `GET /metrics` (Prometheus text format), `GET /healthz`, and the ops dashboard `GET /ops` and `GET /ops.json`. */
import { createServer, type ServerResponse, type Server } from 'node:http';
import type { Logger } from 'pino';
import type { Metrics } from './metrics.ts';
import type { OpsSnapshot } from './dashboard/snapshot.ts';
import { renderOpsPage } from './dashboard/page.ts';

export interface HttpDeps {
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** The ops dashboard's numbers (`ops/dashboard/`); without it /ops is 404. */
  readonly ops?: { snapshot(): Promise<OpsSnapshot> };
}

export function createHttpServer(deps: HttpDeps): Server {
  const failed = (res: ServerResponse, what: string) => (err: unknown) => {
    deps.logger.error({ err }, `${what} failed`);
    res.writeHead(500, { 'content-type': 'text/plain' }).end(`${what} unavailable\n`);
  };
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    if (url.pathname === '/metrics') {
      deps.metrics.registry
        .metrics()
        .then((text) => res.writeHead(200, { 'content-type': deps.metrics.registry.contentType }).end(text))
        .catch(failed(res, 'metrics collection'));
      return;
    }
    if (url.pathname === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    const ops = deps.ops;
    if (ops && (url.pathname === '/ops' || url.pathname === '/ops.json')) {
      const json = url.pathname === '/ops.json';
      ops
        .snapshot()
        .then((snapshot) => {
          const headers = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };
          if (json) res.writeHead(200, { ...headers, 'content-type': 'application/json' }).end(JSON.stringify(snapshot));
          else res.writeHead(200, { ...headers, 'content-type': 'text/html; charset=utf-8' }).end(renderOpsPage(snapshot));
        })
        .catch(failed(res, 'ops snapshot'));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
}
