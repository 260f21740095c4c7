/**
 * One registered signer as the coordinator sees it: its client, circuit breaker and health, and the
 * one instrumented way of calling it. Every RPC to a signer — round 1 for a request or a pool refill,
 * round 2, the health check — goes through {@link SignerHandle}, which records latency and outcome,
 * feeds the breaker, and checks that the answer comes from the participant this signer holds.
 * @module
 */
import { FrostError, Identifier, type PublicKeyPackage, type SignatureShare } from '@hoarfrost/frost';
import {
  SIGNER_ERROR_CODES,
  SignerCallError,
  decodeRound2Response,
  type CommitmentWire,
  type InfoResponse,
  type KeyStateWire,
  type Round2Request,
  type Round2Response,
  type SignerRpc,
} from '@hoarfrost/rpc';
import type { Logger } from '@hoarfrost/runtime';
import type { CircuitBreaker } from './breaker.js';
import type { CoordinatorMetrics } from './metrics.js';

export type SignerRpcName = 'round1' | 'round2' | 'info';

/**
 * The abort reason of a call cut because its request's deadline came, not because the signer took
 * longer than the signer timeout: it says nothing about the signer.
 */
export class DeadlineCut extends Error {
  override name = 'DeadlineCut';
  constructor() {
    super('the request deadline came first');
  }
}

/**
 * What a failed call means for the request and for the signer:
 * - `policy`: the signer's policy refused the message (the signer doing its job);
 * - `stale`: the signer no longer knows the commitment (it restarted, or it expired);
 * - `request`: the signer refused the request's shape or size (e.g. a message over its limit): the
 *   request's doing, not a fault of the signer;
 * - `cut`: the request's deadline ended the call: nothing is known about the signer;
 * - `blame`: the signer says a commitment of the package is not a valid point: either another
 *   signer issued it (the coordinator hands commitments on unvalidated) or this one lies; the
 *   orchestrator validates the package to find out;
 * - `culprit`: the signer answered with invalid cryptographic values (proven misbehaviour);
 * - `fault`: anything else (unreachable, timeout, refused, wrong identity).
 */
export type FailureKind = 'policy' | 'stale' | 'request' | 'cut' | 'blame' | 'culprit' | 'fault';

export function failureKind(e: SignerCallError): FailureKind {
  if (e.code === 'SIGNER_INVALID_RESPONSE') return 'culprit';
  if (e.code === 'INVALID_POINT') return 'blame';
  if (e.code === 'SIGNER_TIMEOUT' && e.cause instanceof DeadlineCut) return 'cut';
  const kind = (SIGNER_ERROR_CODES as Record<string, string>)[e.code];
  return kind === 'policy' || kind === 'stale' || kind === 'request' ? kind : 'fault';
}

/** Any rejection of a call as a SignerCallError (a bug on this side becomes a fault, never a crash). */
export function asCallError(signer: string, e: unknown): SignerCallError {
  if (e instanceof SignerCallError) return e;
  if (e instanceof FrostError) return new SignerCallError(signer, 'SIGNER_INVALID_RESPONSE', e.message);
  return new SignerCallError(signer, 'SIGNER_ERROR', (e as Error)?.message ?? 'call failed');
}

/** One key as a signer reported it in its last info answer, checked on its own (registry.ts). */
export interface ReportedKey {
  keyId: string;
  /** The signer's participant identifier for this key. */
  identifier: Identifier;
  state: KeyStateWire;
  version: number;
  /** The signer reported `version` (older signers do not, and know no key versions). */
  versioned: boolean;
  /** When the key was made (ms since the epoch), when the signer says. */
  createdAt?: number;
  verifyingKey: Uint8Array;
  verifyingShare: Uint8Array;
  minSigners: number;
  /** The package it reported (decoded, consistent, holding its share), and that encoding's SHA-256 in hex; absent from older signers. */
  pkp?: PublicKeyPackage;
  pkpDigest?: string;
  /** For an active version made by key generation: its session digest and activation signature. */
  activation?: { session: Uint8Array; signature: Uint8Array };
}

export class SignerHandle {
  readonly id: string;
  readonly url: string;
  readonly breaker: CircuitBreaker;
  /** Answered its last health check with a well-formed description of its keys. */
  healthy = false;
  /** The keys it reported in its last well-formed info answer (kept while it is unhealthy). */
  reported: ReadonlyMap<string, ReportedKey> = new Map();
  /** Its identifier for each key it is usable for, as the registry accepted it. */
  #identifiers: ReadonlyMap<string, Identifier> = new Map();
  lastError: string | undefined;
  /** The largest message the signer accepts, from its info RPC (undefined: it does not say). */
  maxMessageBytes: number | undefined;
  /** The signer process's instance id from its info RPC: a change means it restarted. */
  instanceId: string | undefined;
  /** The most commitments one round-1 request may ask of it, from its info RPC (undefined: it does not say). */
  maxCommitmentBatch: number | undefined;
  readonly #client: SignerRpc;
  readonly #metrics: Pick<CoordinatorMetrics, 'signerRequests' | 'signerLatency'>;
  readonly #log: Logger;

  constructor(args: { id: string; url: string; client: SignerRpc; breaker: CircuitBreaker; metrics: Pick<CoordinatorMetrics, 'signerRequests' | 'signerLatency'>; logger: Logger }) {
    this.id = args.id;
    this.url = args.url;
    this.#client = args.client;
    this.breaker = args.breaker;
    this.#metrics = args.metrics;
    this.#log = args.logger;
  }

  /** Its identifier for `keyId` when the registry found it usable for that key. */
  identifierFor(keyId: string): Identifier | undefined {
    return this.#identifiers.get(keyId);
  }

  /** The keys it is usable for, with its identifier for each (set by the registry). */
  setIdentifiers(identifiers: ReadonlyMap<string, Identifier>): void {
    this.#identifiers = identifiers;
  }

  /** Round 1: `count` fresh commitments (encodings, validated by the commitment pool) and their lifetime. */
  commit(keyId: string, count: number, signal?: AbortSignal): Promise<{ commitments: CommitmentWire[]; ttlMs: number }> {
    return this.#call('round1', () => this.#client.round1({ key_id: keyId, count }, signal), (r) => {
      this.#expectIdentity(keyId, r.identifier);
      // More than asked would grow the pool past its bound on a signer's say-so.
      if (r.commitments.length !== count) throw new SignerCallError(this.id, 'SIGNER_BAD_RESPONSE', `asked for ${count} commitments, got ${r.commitments.length}`);
      return { commitments: r.commitments, ttlMs: r.ttl_ms };
    });
  }

  /** Round 2: this signer's share of the package in `request`. */
  sign(request: Round2Request, signal?: AbortSignal): Promise<SignatureShare> {
    return this.#call('round2', () => this.#client.round2(request, signal), (r) => this.#shareOf(request.key_id, r));
  }

  /**
   * Round 2 for several packages sent together (one RPC when the signer takes batches): one outcome
   * per request, in order, each accounted for like a call of its own.
   */
  async signMany(requests: Round2Request[], signal?: AbortSignal): Promise<(SignatureShare | SignerCallError)[]> {
    const start = process.hrtime.bigint();
    const client = this.#client;
    let answers: (Round2Response | SignerCallError)[];
    try {
      answers = client.round2Batch
        ? await client.round2Batch(requests, signal)
        : (await Promise.allSettled(requests.map((r) => client.round2(r, signal)))).map((x) => (x.status === 'fulfilled' ? x.value : asCallError(this.id, x.reason)));
    } catch (e) {
      answers = requests.map(() => asCallError(this.id, e));
    }
    return answers.map((a, i) => {
      try {
        if (a instanceof Error) throw a;
        const share = this.#shareOf(requests[i]!.key_id, a);
        this.#succeeded('round2', start, true);
        return share;
      } catch (err) {
        return this.#failed('round2', asCallError(this.id, err), true);
      }
    });
  }

  #shareOf(keyId: string, r: Round2Response): SignatureShare {
    this.#expectIdentity(keyId, r.identifier);
    return decodeRound2Response(r);
  }

  /**
   * A key-management RPC (key generation, retirement): relayed as is, its answer returned decoded
   * (the caller parses it strictly). Counted, and leaves the breaker alone: a refused or aborted key
   * generation says nothing about the signer's signing.
   */
  keygenCall(path: string, body: unknown, signal?: AbortSignal): Promise<unknown> {
    const client = this.#client;
    if (!client.call) return Promise.reject(new SignerCallError(this.id, 'SIGNER_UNREACHABLE', 'this signer client takes no key-management RPCs'));
    return client.call(path, body, signal);
  }

  /** The health check's RPC: every key the signer holds. Leaves the breaker alone. */
  info(signal?: AbortSignal): Promise<InfoResponse> {
    return this.#call('info', () => this.#client.info(undefined, signal), (r) => r, false);
  }

  /**
   * Records that a value this signer sent earlier (a preprocessed commitment) turned out invalid:
   * counted as that RPC's outcome and opens the breaker. Returns the error to throw.
   */
  convict(rpc: SignerRpcName, cause: FrostError): SignerCallError {
    const e = new SignerCallError(this.id, 'SIGNER_INVALID_RESPONSE', cause.message);
    this.#failed(rpc, e, true);
    return e;
  }

  close(): Promise<void> {
    return this.#client.close();
  }

  #expectIdentity(keyId: string, bytes: Uint8Array): void {
    const got = Identifier.fromBytes(bytes);
    const expected = this.#identifiers.get(keyId);
    if (!expected || !got.equals(expected)) throw new SignerCallError(this.id, 'SIGNER_IDENTITY_CHANGED', 'signer answered with another identifier');
  }

  async #call<W, T>(rpc: SignerRpcName, send: () => Promise<W>, accept: (answer: W) => T, breaker = true): Promise<T> {
    const start = process.hrtime.bigint();
    let value: T;
    try {
      value = accept(await send());
    } catch (err) {
      throw this.#failed(rpc, asCallError(this.id, err), breaker);
    }
    this.#succeeded(rpc, start, breaker);
    return value;
  }

  #succeeded(rpc: SignerRpcName, start: bigint, breaker: boolean): void {
    this.#metrics.signerLatency.observe({ signer: this.id, rpc }, Number(process.hrtime.bigint() - start) / 1e9);
    this.#metrics.signerRequests.inc({ signer: this.id, rpc, outcome: 'ok' });
    if (breaker) this.breaker.success();
  }

  #failed(rpc: SignerRpcName, e: SignerCallError, breaker: boolean): SignerCallError {
    this.#metrics.signerRequests.inc({ signer: this.id, rpc, outcome: e.code });
    const kind = failureKind(e);
    if (breaker) {
      // A policy refusal, a forgotten commitment or a refused request shape is a well-formed answer
      // from a working signer; a call cut by the request's deadline tells nothing either way.
      if (kind === 'policy' || kind === 'stale' || kind === 'request') this.breaker.success();
      // A claim of an invalid commitment is settled by the orchestrator, which knows the package.
      else if (kind === 'cut' || kind === 'blame') this.breaker.abandon();
      else this.breaker.failure(kind === 'culprit');
    }
    // The health check reports state changes itself; a failed probe every interval is not news.
    this.#log[rpc === 'info' ? 'debug' : 'warn']({ signer: this.id, rpc, code: e.code }, 'signer request failed');
    return e;
  }
}
