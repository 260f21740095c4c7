// The admin API's handlers (key management) in-process, over fake signers: what is refused before a
// key generation starts, how a run's failure is streamed, and retirement reaching every holder.
// Key generation itself is tested in keygen.test.ts and, end to end, in tests/e2e.
import { describe, expect, it } from '@jest/globals';
import { EventEmitter } from 'node:events';
import type { Request, Response } from 'express';
import { createAdminHandlers } from '../src/admin.js';
import { ApiError } from '../src/errors.js';
import { fakeDeployment, sample, silentLog, type FakeDeployment } from './fake-signers.js';

/** A response that records what the handler streams. */
class FakeResponse extends EventEmitter {
  statusCode = 0;
  headers: Record<string, string> = {};
  body = '';
  ended = false;
  headersSent = false;
  status(code: number): this {
    this.statusCode = code;
    return this;
  }
  setHeader(name: string, value: string): this {
    this.headers[name.toLowerCase()] = value;
    return this;
  }
  flushHeaders(): void {
    this.headersSent = true;
  }
  write(chunk: string): boolean {
    this.body += chunk;
    return true;
  }
  end(): void {
    this.ended = true;
  }
  /** The streamed JSON lines. */
  events(): Record<string, unknown>[] {
    return this.body.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}

const request = (params: Record<string, string> = {}) => ({ params, principal: 'mtls:DNS:frost-operator' }) as unknown as Request;

function handlers(d: FakeDeployment) {
  return createAdminHandlers({ registry: d.registry, metrics: d.metrics, logger: silentLog, stepTimeoutMs: 2000 });
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError) return e.code;
    throw e;
  }
  throw new Error('not refused');
}

describe('admin API: key creation', () => {
  it('refuses, before any run, a malformed body, an unknown or repeated signer, a threshold above the signers, and an existing key id', async () => {
    const d = await fakeDeployment(2, 3);
    const admin = handlers(d);
    const create = (body: unknown) => refusal(admin.create(request(), new FakeResponse() as unknown as Response, body));
    expect(await create(null)).toBe('INVALID_REQUEST');
    expect(await create({ key_id: 'k', threshold: 2, extra: 1 })).toBe('UNKNOWN_FIELD');
    expect(await create({ key_id: '../k', threshold: 2 })).toBe('INVALID_REQUEST');
    expect(await create({ key_id: 'k', threshold: 1 })).toBe('INVALID_REQUEST');
    expect(await create({ key_id: 'k', threshold: 2.5 })).toBe('INVALID_REQUEST');
    expect(await create({ key_id: 'k', threshold: 4 })).toBe('INVALID_REQUEST');
    expect(await create({ key_id: 'k', threshold: 2, signers: ['signer-1', 'signer-9'] })).toBe('INVALID_REQUEST');
    expect(await create({ key_id: 'k', threshold: 2, signers: ['signer-1', 'signer-1'] })).toBe('INVALID_REQUEST');
    expect(await create({ key_id: 'k', threshold: 3, signers: ['signer-1', 'signer-2'] })).toBe('INVALID_REQUEST');
    expect(await create({ key_id: 'default', threshold: 2 })).toBe('KEY_EXISTS');
  });

  it('a run that fails is streamed as its last line, counted, and names its culprits; nothing is answered as done', async () => {
    const d = await fakeDeployment(2, 3);
    // These signers take part in no key generation: the run fails at its first step.
    const res = new FakeResponse();
    await handlers(d).create(request(), res as unknown as Response, { key_id: 'fresh', threshold: 2 });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/application\/x-ndjson/);
    expect(res.ended).toBe(true);
    const events = res.events();
    expect(events.at(-1)).toMatchObject({ event: 'failed', error: { step: 'begin' } });
    expect(events.some((e) => e.event === 'done')).toBe(false);
    const error = events.at(-1)!.error as { code: string; culprits: string[]; relay_fault: boolean };
    expect(error).toMatchObject({ code: 'DKG_SIGNER_UNREACHABLE', culprits: ['signer-1', 'signer-2', 'signer-3'], relay_fault: false });
    const code = error.code;
    expect(await sample(d.metrics, 'frost_coordinator_keygen_runs_total', { kind: 'create', outcome: code })).toBe(1);
    expect(await sample(d.metrics, 'frost_coordinator_keygen_culprits_total', { signer: 'signer-2' })).toBe(1);
  });
});

describe('admin API: refresh and retirement', () => {
  it('refresh and retire refuse an unknown key; refresh refuses a retired one', async () => {
    const d = await fakeDeployment(2, 3);
    const admin = handlers(d);
    expect(await refusal(admin.refresh(request({ keyId: 'nope' }), new FakeResponse() as unknown as Response, {}))).toBe('UNKNOWN_KEY');
    expect(await refusal(admin.retire(request({ keyId: 'nope' }), new FakeResponse() as unknown as Response, {}))).toBe('UNKNOWN_KEY');
    expect(await refusal(admin.refresh(request({ keyId: 'default' }), new FakeResponse() as unknown as Response, { extra: true }))).toBe('UNKNOWN_FIELD');
    for (const s of d.signers) s.keys.get('default')!.state = 'retired';
    await d.registry.checkAll();
    expect(await refusal(admin.refresh(request({ keyId: 'default' }), new FakeResponse() as unknown as Response, {}))).toBe('KEY_RETIRED');
  });

  it('refresh refuses a key pinned by configuration (its new shares would no longer match the pinned package)', async () => {
    const d = await fakeDeployment(2, 3, { pinnedPkp: true });
    const res = new FakeResponse();
    let message = '';
    try {
      await handlers(d).refresh(request({ keyId: 'default' }), res as unknown as Response, {});
    } catch (e) {
      expect((e as ApiError).code).toBe('INVALID_REQUEST');
      message = (e as Error).message;
    }
    expect(message).toMatch(/COORDINATOR_PUBLIC_KEY_PACKAGE_FILE/);
    expect(res.body).toBe('');
  });

  it('retire reaches every holder; one that does not answer makes it KEY_RETIRE_INCOMPLETE (retried later), naming it', async () => {
    const d = await fakeDeployment(2, 3);
    const asked: string[] = [];
    for (const s of d.signers) {
      (s as unknown as { call: (path: string, body: unknown) => Promise<unknown> }).call = async (path, body) => {
        asked.push(`${s.id} ${path} ${JSON.stringify(body)}`);
        if (s.behaviour === 'down') throw new Error('connection refused');
        s.keys.get('default')!.state = 'retired';
        return { ok: {} };
      };
    }
    d.signers[2]!.behaviour = 'down';
    const admin = handlers(d);
    let message = '';
    try {
      await admin.retire(request({ keyId: 'default' }), new FakeResponse() as unknown as Response, {});
    } catch (e) {
      expect((e as ApiError).code).toBe('KEY_RETIRE_INCOMPLETE');
      message = (e as Error).message;
    }
    expect(message).toContain('signer-3');
    expect(asked.sort()).toEqual(['signer-1', 'signer-2', 'signer-3'].map((id) => `${id} /v1/keys/retire {"key_id":"default"}`));
    d.signers[2]!.behaviour = 'ok';
    const done = await admin.retire(request({ keyId: 'default' }), new FakeResponse() as unknown as Response, {});
    expect(done).toEqual({ key_id: 'default', retired_on: ['signer-1', 'signer-2', 'signer-3'] });
    expect(d.registry.key('default')!.state).toBe('retired');
  });

  it('remove refuses a key that is not retired (KEY_NOT_RETIRED) and asks no signer; once retired, every holder removes it and the key is gone', async () => {
    const d = await fakeDeployment(2, 3);
    const asked: string[] = [];
    for (const s of d.signers) {
      (s as unknown as { call: (path: string, body: unknown) => Promise<unknown> }).call = async (path) => {
        asked.push(`${s.id} ${path}`);
        if (path.endsWith('/retire')) s.keys.get('default')!.state = 'retired';
        else s.keys.delete('default');
        return { ok: {} };
      };
    }
    const admin = handlers(d);
    expect(await refusal(admin.remove(request({ keyId: 'default' }), new FakeResponse() as unknown as Response, {}))).toBe('KEY_NOT_RETIRED');
    expect(asked).toEqual([]);
    await admin.retire(request({ keyId: 'default' }), new FakeResponse() as unknown as Response, {});
    expect(await admin.remove(request({ keyId: 'default' }), new FakeResponse() as unknown as Response, {})).toEqual({ key_id: 'default', removed_from: ['signer-1', 'signer-2', 'signer-3'] });
    expect(asked.filter((a) => a.endsWith('/v1/keys/remove'))).toHaveLength(3);
    expect(d.registry.key('default')).toBeUndefined();
  });
});
