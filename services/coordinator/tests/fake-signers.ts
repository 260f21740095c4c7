// In-process signer doubles for the coordinator's unit tests: each runs the real protocol library
// (round 1, round 2 on the decoded wire request) and can be told to misbehave in one specific way.
import {
  FrostError,
  Identifier,
  ORDER,
  SignatureShare,
  round1,
  round2,
  trustedDealerKeygen,
  type KeyPackage,
  type PublicKeyPackage,
  type SigningNonces,
  type TrustedDealerOutput,
} from '@hoarfrost/frost';
import {
  SignerCallError,
  decodeRound2Request,
  isSignerErrorCode,
  encodeRound2Response,
  listedCommitment,
  type InfoResponse,
  type Round1Request,
  type Round1Response,
  type Round2Request,
  type Round2Response,
  type SignerErrorCode,
  type SignerRpc,
} from '@hoarfrost/rpc';
import { randomBytes } from 'node:crypto';
import { createLogger } from '@hoarfrost/runtime';
import { CommitmentPool } from '../src/commitment-pool.js';
import { createCoordinatorMetrics, type CoordinatorMetrics } from '../src/metrics.js';
import { Orchestrator } from '../src/orchestrator.js';
import { SignerRegistry } from '../src/registry.js';

/**
 * - `ok`: a correct signer;
 * - `down`: every call fails as unreachable;
 * - `refuse`: round 2 refuses by policy (POLICY_NOT_JWS);
 * - `forget`: round 2 answers UNKNOWN_COMMITMENT once (a restart), then behaves;
 * - `corrupt`: round 2 returns a wrong share (a cheat only aggregation can see);
 * - `impostor`: answers with another participant's identifier;
 * - `bad-point`: round 1 issues an invalid commitment encoding;
 * - `bad-share`: round 2 returns a non-canonical scalar;
 * - `hang`: never answers (until the caller's signal aborts);
 * - `undocumented`: answers with an error code outside the documented set;
 * - `flood`: round 1 answers with more commitments than asked;
 * - `too-large`: round 2 refuses the request as larger than its body limit (PAYLOAD_TOO_LARGE);
 * - `cry-wolf`: round 2 refuses every package as holding an invalid point (INVALID_POINT), valid or not.
 */
export type Behaviour = 'ok' | 'flood' | 'down' | 'refuse' | 'forget' | 'corrupt' | 'impostor' | 'bad-point' | 'bad-share' | 'hang' | 'undocumented' | 'too-large' | 'cry-wolf';

const IDENTITY = Uint8Array.from([1, ...new Array<number>(31).fill(0)]);

export class FakeSigner implements SignerRpc {
  behaviour: Behaviour = 'ok';
  readonly calls = { round1: 0, round2: 0, info: 0 };
  /** Number of requests in each round2Batch call, in order. */
  readonly batches: number[] = [];
  /** Messages this signer's policy refuses (POLICY_NOT_JWS), whatever its behaviour. */
  refuseIf: ((message: Uint8Array) => boolean) | undefined;
  /** `count` of every round-1 request, in order (1: inside a request; more: a pool refill). */
  readonly round1Counts: number[] = [];
  readonly #nonces = new Map<string, SigningNonces>();
  /** What the info RPC reports (undefined: the field is left out, as an older signer would). */
  maxMessageBytes: number | undefined;
  instanceId = randomBytes(16);
  /** Lifetime the signer announces for its commitments. */
  ttlMs = 60_000;

  constructor(
    readonly id: string,
    public keyPackage: KeyPackage,
    readonly pkp: PublicKeyPackage,
    readonly keyId: string,
  ) {}

  #fail(code: SignerErrorCode | 'SIGNER_UNREACHABLE' | 'SIGNER_ERROR'): never {
    throw new SignerCallError(this.id, code, `${this.id}: ${code}`);
  }

  #identifierBytes(): Uint8Array {
    return this.behaviour === 'impostor' ? Identifier.fromBytes(Uint8Array.from([0x7f, ...new Array<number>(31).fill(0)])).toBytes() : this.keyPackage.identifier.toBytes();
  }

  async round1(req: Round1Request, signal?: AbortSignal): Promise<Round1Response> {
    this.calls.round1++;
    this.round1Counts.push(req.count);
    if (this.behaviour === 'down') this.#fail('SIGNER_UNREACHABLE');
    if (this.behaviour === 'hang') await this.#hang(signal);
    const commitments = [];
    for (let i = 0; i < (this.behaviour === 'flood' ? req.count * 10 : req.count); i++) {
      const { nonces, commitments: c } = round1.commit(this.keyPackage.signingShare);
      this.#nonces.set(c.toHex(), nonces);
      commitments.push({ hiding: this.behaviour === 'bad-point' ? IDENTITY : c.hidingBytes, binding: c.bindingBytes });
    }
    return { identifier: this.#identifierBytes(), commitments, ttl_ms: this.ttlMs };
  }

  /** A new process: a new instance id, and every commitment issued before is forgotten. */
  restart(): void {
    this.instanceId = randomBytes(16);
    this.#nonces.clear();
  }

  /** As the real client: one call carrying every request, one outcome each. */
  async round2Batch(reqs: Round2Request[], signal?: AbortSignal): Promise<(Round2Response | SignerCallError)[]> {
    this.batches.push(reqs.length);
    const out = await Promise.allSettled(reqs.map((r) => this.round2(r, signal)));
    this.calls.round2 += 1 - reqs.length; // one RPC, however many requests it carried
    return out.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as SignerCallError)));
  }

  async round2(req: Round2Request, signal?: AbortSignal): Promise<Round2Response> {
    this.calls.round2++;
    if (this.refuseIf?.(req.message)) this.#fail('POLICY_NOT_JWS');
    switch (this.behaviour) {
      case 'down':
        this.#fail('SIGNER_UNREACHABLE');
      case 'refuse':
        this.#fail('POLICY_NOT_JWS');
      case 'undocumented':
        this.#fail('SIGNER_ERROR');
      case 'too-large':
        this.#fail('PAYLOAD_TOO_LARGE');
      case 'cry-wolf':
        this.#fail('INVALID_POINT');
      case 'forget':
        this.behaviour = 'ok';
        this.#nonces.clear();
        this.#fail('UNKNOWN_COMMITMENT');
      case 'hang':
        await this.#hang(signal);
    }
    const me = this.keyPackage.identifier;
    const mine = listedCommitment(req, me);
    if (!mine) this.#fail('NOT_A_PARTICIPANT');
    const id = Buffer.concat([mine.hiding, mine.binding]).toString('hex');
    const nonces = this.#nonces.get(id);
    if (!nonces) this.#fail('UNKNOWN_COMMITMENT');
    this.#nonces.delete(id);
    let share: SignatureShare;
    try {
      share = round2.sign(decodeRound2Request(req, me), nonces, this.keyPackage);
    } catch (e) {
      // As the real signer answers: the library's documented codes (INVALID_POINT, ...).
      if (e instanceof FrostError && isSignerErrorCode(e.code)) this.#fail(e.code);
      throw e;
    }
    if (this.behaviour === 'bad-share') return { identifier: me.toBytes(), share: new Uint8Array(32).fill(0xff) };
    const out = this.behaviour === 'corrupt' ? new SignatureShare((share.share + 1n) % ORDER) : share;
    return { ...encodeRound2Response(me, out), identifier: this.#identifierBytes() };
  }

  #hang(signal?: AbortSignal): Promise<never> {
    // As the real client does: the abort's reason travels as the cause.
    return new Promise((_, reject) => signal?.addEventListener('abort', () => reject(new SignerCallError(this.id, 'SIGNER_TIMEOUT', 'aborted', { cause: signal.reason }))));
  }

  async info(): Promise<InfoResponse> {
    this.calls.info++;
    if (this.behaviour === 'down') this.#fail('SIGNER_UNREACHABLE');
    return {
      identifier: this.#identifierBytes(),
      keys: [{ key_id: this.keyId, verifying_share: this.keyPackage.verifyingShare.toBytes(), verifying_key: this.pkp.verifyingKeyBytes, min_signers: this.keyPackage.minSigners }],
      instance_id: this.instanceId,
      ...(this.maxMessageBytes !== undefined ? { max_message_bytes: this.maxMessageBytes } : {}),
    };
  }

  async close(): Promise<void> {}
}

export interface FakeDeployment {
  dealt: TrustedDealerOutput;
  pkp: PublicKeyPackage;
  signers: FakeSigner[];
  metrics: CoordinatorMetrics;
  registry: SignerRegistry;
  pool: CommitmentPool;
  orchestrator: Orchestrator;
}

export const silentLog = createLogger('test', 'silent');

/** A t-of-n key set, n fake signers, and the coordinator's registry, pool and orchestrator over them. */
export async function fakeDeployment(
  t: number,
  n: number,
  options: { poolSize?: number; deadlineMs?: number; signerTimeoutMs?: number; identifiers?: Identifier[]; failureThreshold?: number; cooldownMs?: number; pinned?: boolean } = {},
): Promise<FakeDeployment> {
  const dealt = trustedDealerKeygen({ minSigners: t, maxSigners: n, ...(options.identifiers ? { identifiers: options.identifiers } : {}) });
  const pkp = dealt.publicKeyPackage;
  const keyId = 'default';
  const signers = [...dealt.keyPackages.values()].map((kp, i) => new FakeSigner(`signer-${i + 1}`, kp, pkp, keyId));
  const metrics = createCoordinatorMetrics(() => true);
  const config = {
    signers: signers.map((s) => ({ id: s.id, url: `https://${s.id}.test:7443`, ...(options.pinned ? { participant: s.keyPackage.identifier.toHex() } : {}) })),
    keyId,
    breaker: { failureThreshold: options.failureThreshold ?? 3, cooldownMs: options.cooldownMs ?? 60_000 },
    signDeadlineMs: options.deadlineMs ?? 5000,
    signerTimeoutMs: options.signerTimeoutMs ?? 2000,
  };
  const pool = new CommitmentPool({ size: options.poolSize ?? 0, batch: 4, keyId });
  const registry = new SignerRegistry({ config, pkp, connect: (s) => signers.find((f) => f.id === s.id)!, metrics, logger: silentLog, onRestart: (h) => pool.flush(h) });
  await registry.checkAll();
  const orchestrator = new Orchestrator({ config, pkp, registry, metrics, pool });
  return { dealt, pkp, signers, metrics, registry, pool, orchestrator };
}

/** Value of a counter or gauge sample in a prom-client registry. */
export async function sample(metrics: CoordinatorMetrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = (await metrics.registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value ?? 0;
}
