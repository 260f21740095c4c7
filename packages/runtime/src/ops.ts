/**
 * The plain-HTTP operations listener: `/healthz` (liveness, never depends on peers), `/readyz`
 * (readiness), `/metrics` (Prometheus) and a service's static JSON documents (the coordinator's
 * OpenAPI description). Kubelet probes and Prometheus present no client certificate, so these live
 * apart from the mTLS RPC/API port, which serves authenticated callers only; they expose no secrets.
 * @module
 */
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface OpsOptions {
  registry: Registry;
  /** Readiness: a reason string when not ready, undefined when ready. */
  notReadyReason: () => string | undefined;
  /** Static JSON documents by path, e.g. `{ '/openapi.json': spec }`. */
  documents?: Readonly<Record<string, unknown>>;
}

export function createOpsServer(options: OpsOptions): Server {
  return createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'application/json', allow: 'GET, HEAD' }).end(JSON.stringify({ error: { code: 'METHOD_NOT_ALLOWED', message: 'use GET' } }));
      return;
    }
    if (url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    } else if (url === '/readyz') {
      const reason = options.notReadyReason();
      if (reason === undefined) res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ready"}');
      else res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'not ready', reason }));
    } else if (url === '/metrics') {
      options.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': options.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    } else if (url !== undefined && options.documents && Object.hasOwn(options.documents, url)) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(options.documents[url]));
    } else {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'not found' } }));
    }
  });
}
