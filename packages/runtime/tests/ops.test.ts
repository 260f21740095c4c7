import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Registry } from 'prom-client';
import { createOpsServer } from '../src/ops.js';

let server: Server;
let base: string;
let notReady: string | undefined;
const registry = new Registry();
const requests = new Counter({ name: 'frost_test_requests_total', help: 'requests seen by the test', registers: [registry] });

beforeAll(async () => {
  server = createOpsServer({ registry, notReadyReason: () => notReady, documents: { '/openapi.json': { openapi: '3.1.0' } } });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('operations listener', () => {
  it('serves its static documents by exact path, and nothing inherited', async () => {
    const res = await fetch(`${base}/openapi.json`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ openapi: '3.1.0' });
    expect((await fetch(`${base}/toString`)).status).toBe(404);
    expect((await fetch(`${base}/openapi.json/x`)).status).toBe(404);
  });

  it('GET /healthz → 200 {"status":"ok"}', async () => {
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('GET /readyz → 200 when ready, 503 with the reason when not, asked on every request', async () => {
    notReady = undefined;
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });

    notReady = 'no key loaded';
    const down = await fetch(`${base}/readyz`);
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ status: 'not ready', reason: 'no key loaded' });

    notReady = undefined;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });

  it('liveness does not depend on readiness', async () => {
    notReady = 'draining';
    try {
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
    } finally {
      notReady = undefined;
    }
  });

  it('GET /metrics → the registry in its exposition format', async () => {
    requests.inc(3);
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(registry.contentType);
    const text = await res.text();
    expect(text).toContain('# HELP frost_test_requests_total requests seen by the test');
    expect(text).toMatch(/^frost_test_requests_total 3$/m);
  });

  it('ignores the query string', async () => {
    expect((await fetch(`${base}/healthz?verbose=1`)).status).toBe(200);
    expect((await fetch(`${base}/metrics?name[]=x`)).status).toBe(200);
  });

  it('HEAD is allowed and has no body', async () => {
    const res = await fetch(`${base}/healthz`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
  });

  it.each(['POST', 'PUT', 'DELETE', 'PATCH'])('%s → 405 METHOD_NOT_ALLOWED with an Allow header', async (method) => {
    const res = await fetch(`${base}/healthz`, { method, body: method === 'DELETE' ? undefined : 'x' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    expect(await res.json()).toEqual({ error: { code: 'METHOD_NOT_ALLOWED', message: 'use GET' } });
  });

  it.each(['/', '/health', '/healthz/', '/metrics/extra', '/v1/round1'])('GET %s → 404 NOT_FOUND', async (path) => {
    const res = await fetch(`${base}${path}`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'not found' } });
  });

  it('a registry that fails to render → 500 with no details', async () => {
    const failing = { metrics: () => Promise.reject(new Error('collector crashed: secret detail')), contentType: 'text/plain' } as unknown as Registry;
    const s = createOpsServer({ registry: failing, notReadyReason: () => undefined });
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    try {
      const res = await fetch(`http://127.0.0.1:${(s.address() as AddressInfo).port}/metrics`);
      expect(res.status).toBe(500);
      expect(await res.text()).toBe('');
    } finally {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  });
});
