/**
 * The admin API of key management: the signers make, refresh and retire keys; the coordinator only
 * relays (keygen.ts) and reports. Served on the API port to clients whose certificate carries one of
 * `COORDINATOR_ADMIN_CLIENT_SANS` — a list of its own, so a /sign caller cannot manage keys and an
 * operator cannot sign.
 *
 * - `POST /admin/v1/keys` `{key_id, threshold, signers?}`: a key generation among the named signers
 *   (default: every configured signer). Nothing is kept here: a run lives in this request.
 * - `POST /admin/v1/keys/{id}/refresh` `{}`: new shares of the same key for the signers holding it.
 * - `POST /admin/v1/keys/{id}/retire` `{}`: every holder stops signing with it (its public key stays
 *   published).
 * - `POST /admin/v1/keys/{id}/remove` `{}`: a retired key's shares are deleted on every holder, and its
 *   public key is published no more.
 *
 * Create and refresh answer `application/x-ndjson`: one JSON object per line as the run advances
 * (`{"event":"step","step":"begin","detail":...}`), the last one `{"event":"done","key":{...}}` or
 * `{"event":"failed","error":{code,message,culprits,relay_fault,step}}` (the HTTP status is 200 once
 * the run started; refusals before it are ordinary JSON errors). Each outcome is counted, logged and
 * leaves an audit record naming any culprit.
 * @module
 */
import type { Request, Response } from 'express';
import { KEYGEN_PATHS, KEY_ID_RE, SignerCallError, parseEmptyAnswer } from '@hoarfrost/rpc';
import type { AuditTrail, Logger } from '@hoarfrost/runtime';
import { ApiError } from './errors.js';
import { KeygenFailed, runKeygen, type KeygenResult, type KeygenTransport } from './keygen.js';
import type { CoordinatorMetrics } from './metrics.js';
import type { KnownKey, SignerRegistry } from './registry.js';
import type { SignerHandle } from './signer-handle.js';

export interface AdminDeps {
  registry: Pick<SignerRegistry, 'handles' | 'key' | 'checkAll'>;
  metrics: Pick<CoordinatorMetrics, 'keygenRuns' | 'keygenCulprits'>;
  logger: Logger;
  audit?: AuditTrail;
  /** Time one key-generation step may take across its participants. */
  stepTimeoutMs: number;
}

/** The body of an admin request: a JSON object with exactly the fields allowed. */
function fields(body: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError('INVALID_REQUEST', 'the body must be a JSON object');
  const o = body as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new ApiError('UNKNOWN_FIELD', `unknown field "${k.slice(0, 64)}"`);
  return o;
}

function keyIdOf(v: unknown): string {
  if (typeof v !== 'string' || !KEY_ID_RE.test(v)) throw new ApiError('INVALID_REQUEST', `key_id must match ${KEY_ID_RE.source}`);
  return v;
}

/** A signer's RPCs as key generation reaches them. */
function transport(h: SignerHandle): KeygenTransport {
  return { id: h.id, call: (path, body, signal) => h.keygenCall(path, body, signal) };
}

/** What an operator is told of a key made or refreshed. */
function describe(r: KeygenResult): Record<string, unknown> {
  return {
    key_id: r.keyId,
    group_public_key: Buffer.from(r.verifyingKey).toString('base64url'),
    threshold: r.minSigners,
    participants: r.participants.map((p) => p.id),
    state: 'active',
    kind: r.kind,
  };
}

export interface AdminHandlers {
  create(req: Request, res: Response, body: unknown): Promise<void>;
  refresh(req: Request, res: Response, body: unknown): Promise<void>;
  retire(req: Request, res: Response, body: unknown): Promise<{ key_id: string; retired_on?: string[] }>;
  /** Deletes a retired key's shares on every holder: its public key leaves the JWKS. */
  remove(req: Request, res: Response, body: unknown): Promise<{ key_id: string; removed_from?: string[] }>;
}

export function createAdminHandlers(deps: AdminDeps): AdminHandlers {
  const { registry, metrics, logger } = deps;

  /** Runs one generation, streaming its progress; the outcome is the stream's last line. */
  async function stream(res: Response, kind: 'create' | 'refresh', keyId: string, principal: string, run: (onProgress: (p: { step: string; detail: string }) => void, signal: AbortSignal) => Promise<KeygenResult>): Promise<void> {
    res.status(200).setHeader('content-type', 'application/x-ndjson; charset=utf-8');
    res.setHeader('cache-control', 'no-store');
    res.flushHeaders();
    const write = (event: Record<string, unknown>) => res.write(JSON.stringify(event) + '\n');
    // An operator who goes away ends the run (every participant is then told to abort).
    const cut = new AbortController();
    res.on('close', () => cut.abort(new Error('the admin client went away')));
    const started = Date.now();
    let result: KeygenResult;
    try {
      result = await run((p) => write({ event: 'step', step: p.step, detail: p.detail }), cut.signal);
    } catch (e) {
      const f = e instanceof KeygenFailed ? e : new KeygenFailed({ code: 'DKG_INTERNAL', message: `the coordinator failed: ${(e as Error).message}`, step: 'begin' });
      metrics.keygenRuns.inc({ kind, outcome: f.code });
      const incomplete = f.code === 'DKG_ACTIVATION_INCOMPLETE';
      // A signer that missed its activation is not at fault (it was down or slow); the others are named.
      if (!incomplete) for (const c of f.culprits) metrics.keygenCulprits.inc({ signer: c });
      const partial = incomplete ? { activated: f.activated ?? [], notActivated: f.notActivated ?? [] } : {};
      logger.warn(
        { keyId, kind, principal, code: f.code, step: f.step, culprits: f.culprits, relayFault: f.relayFault, err: f.message, ...partial },
        incomplete ? 'key activation incomplete: active where activated; the health loop re-sends the activation to the others' : 'key generation failed: nothing activated',
      );
      await deps.audit?.append({ event: `key_${kind}`, keyId, principal, outcome: f.code, step: f.step, culprits: f.culprits, relayFault: f.relayFault, ...partial }).catch(() => undefined);
      if (incomplete) await registry.checkAll().catch(() => undefined);
      write({
        event: 'failed',
        error: {
          code: f.code,
          message: f.message,
          culprits: f.culprits,
          relay_fault: f.relayFault,
          step: f.step,
          ...(f.signerCode ? { signer_code: f.signerCode } : {}),
          ...(incomplete
            ? {
                activated: f.activated ?? [],
                not_activated: f.notActivated ?? [],
                ...(f.sessionDigest ? { session_digest: Buffer.from(f.sessionDigest).toString('hex') } : {}),
                ...(f.activationSignature ? { activation_signature: Buffer.from(f.activationSignature).toString('base64') } : {}),
              }
            : {}),
        },
      });
      res.end();
      return;
    }
    // The key is active on every participant: what follows only reports it (a failure here is logged,
    // never turned into a failed run).
    metrics.keygenRuns.inc({ kind, outcome: 'ok' });
    logger.info({ keyId, kind, principal, participants: result.participants.map((p) => p.id), ms: Date.now() - started }, 'key generation done: key active');
    await deps.audit
      ?.append({ event: `key_${kind}`, keyId, principal, outcome: 'ok', groupKey: Buffer.from(result.verifyingKey).toString('hex'), participants: result.participants.map((p) => p.id) })
      .catch((e: Error) => logger.error({ keyId, err: e.message }, 'audit record of an active key not written'));
    // The signers now report the key: learn it before answering, so the caller can sign at once.
    await registry.checkAll().catch((e: Error) => logger.warn({ keyId, err: e.message }, 'signers not read again after key generation'));
    write({ event: 'done', key: describe(result) });
    res.end();
  }

  /**
   * Retires (or removes, once retired) a key on every holder. A holder that does not answer leaves the
   * operation incomplete (KEY_RETIRE_INCOMPLETE, naming it): both are idempotent, so the operator
   * runs it again.
   */
  async function everyHolder(req: Request, body: unknown, op: 'retire' | 'remove'): Promise<{ key_id: string; retired_on?: string[]; removed_from?: string[] }> {
    fields(body, []);
    const keyId = keyIdOf(req.params.keyId);
    const key = registry.key(keyId);
    if (!key) throw new ApiError('UNKNOWN_KEY', `no key "${keyId}" here`);
    if (op === 'remove' && key.state !== 'retired') throw new ApiError('KEY_NOT_RETIRED', `key "${keyId}" is ${key.state}: only a retired key is removed (retire it first)`);
    const holders = [...key.holders.keys()];
    const path = op === 'retire' ? KEYGEN_PATHS.keyRetire : KEYGEN_PATHS.keyRemove;
    const outcomes = await Promise.allSettled(
      holders.map(async (h) => {
        const answer = parseEmptyAnswer(await h.keygenCall(path, { key_id: keyId }, AbortSignal.timeout(deps.stepTimeoutMs)), `${op} answer`);
        if ('abort' in answer) throw new Error(`${answer.abort.code}: ${answer.abort.message}`);
      }),
    );
    const failed = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [`${holders[i]!.id}: ${o.reason instanceof SignerCallError ? o.reason.code : (o.reason as Error).message}`] : []));
    const principal = principalOf(req);
    await deps.audit?.append({ event: `key_${op}`, keyId, principal, outcome: failed.length === 0 ? 'ok' : 'partial', failed });
    await registry.checkAll();
    if (failed.length > 0) {
      logger.warn({ keyId, principal, failed }, `key ${op} reached some holders only`);
      throw new ApiError('KEY_RETIRE_INCOMPLETE', `key "${keyId}" was not ${op === 'retire' ? 'retired' : 'removed'} on every holder (${failed.join('; ')}); run it again`);
    }
    logger.info({ keyId, principal }, op === 'retire' ? 'key retired' : 'retired key removed from every holder');
    const ids = holders.map((h) => h.id);
    return op === 'retire' ? { key_id: keyId, retired_on: ids } : { key_id: keyId, removed_from: ids };
  }

  const principalOf = (req: Request) => String((req as Request & { principal?: string }).principal ?? 'admin');

  return {
    async create(req, res, body) {
      const o = fields(body, ['key_id', 'threshold', 'signers']);
      const keyId = keyIdOf(o.key_id);
      const threshold = o.threshold;
      if (typeof threshold !== 'number' || !Number.isInteger(threshold) || threshold < 2) throw new ApiError('INVALID_REQUEST', 'threshold must be an integer of at least 2');
      let chosen: SignerHandle[];
      if (o.signers === undefined) chosen = [...registry.handles];
      else {
        if (!Array.isArray(o.signers) || o.signers.some((s) => typeof s !== 'string')) throw new ApiError('INVALID_REQUEST', 'signers must be an array of signer ids');
        const ids = o.signers as string[];
        if (new Set(ids).size !== ids.length) throw new ApiError('INVALID_REQUEST', 'signers lists a signer twice');
        chosen = ids.map((id) => {
          const h = registry.handles.find((x) => x.id === id);
          if (!h) throw new ApiError('INVALID_REQUEST', `"${id.slice(0, 64)}" is not a configured signer`);
          return h;
        });
      }
      if (threshold > chosen.length) throw new ApiError('INVALID_REQUEST', `threshold ${threshold} exceeds the ${chosen.length} signers taking part`);
      if (registry.key(keyId)) throw new ApiError('KEY_EXISTS', `key "${keyId}" exists; choose another key id (rotation: a new id, then retire the old one)`);
      await stream(res, 'create', keyId, principalOf(req), (onProgress, signal) =>
        runKeygen({ kind: 'create', keyId, minSigners: threshold, participants: chosen.map((h) => ({ id: h.id, rpc: transport(h) })), onProgress, signal, stepTimeoutMs: deps.stepTimeoutMs }),
      );
    },

    async refresh(req, res, body) {
      fields(body, []);
      const keyId = keyIdOf(req.params.keyId);
      const key: KnownKey | undefined = registry.key(keyId);
      if (!key) throw new ApiError('UNKNOWN_KEY', `no key "${keyId}" here`);
      if (key.state !== 'active') throw new ApiError(key.state === 'retired' ? 'KEY_RETIRED' : 'KEY_NOT_ACTIVE', `key "${keyId}" is ${key.state}; only an active key is refreshed`);
      // A pinned package names every verifying share: refreshed shares would no longer match it, and
      // the key would stop signing on every coordinator pinned to it.
      if (key.pinned) throw new ApiError('INVALID_REQUEST', `key "${keyId}" is pinned by COORDINATOR_PUBLIC_KEY_PACKAGE_FILE; unset it on every coordinator (the key is then learnt from the signers) before a refresh`);
      const holders = [...key.holders.entries()];
      await stream(res, 'refresh', keyId, principalOf(req), (onProgress, signal) =>
        runKeygen({
          kind: 'refresh',
          keyId,
          minSigners: key.pkp.minSigners,
          groupKey: key.pkp.verifyingKeyBytes,
          participants: holders.map(([h, identifier]) => ({ id: h.id, rpc: transport(h), identifier: identifier.toBytes() })),
          onProgress,
          signal,
          stepTimeoutMs: deps.stepTimeoutMs,
        }),
      );
    },

    retire: (req, _res, body) => everyHolder(req, body, 'retire'),
    remove: (req, _res, body) => everyHolder(req, body, 'remove'),
  };
}
