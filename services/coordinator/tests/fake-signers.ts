// In-process signer doubles for the coordinator's unit tests: each runs the real protocol library
// (round 1, round 2 on the decoded wire request) and can be told to misbehave in one specific way.
import {
  FrostError,
  Identifier,
  KeyPackage,
  ORDER,
  Point,
  PublicKeyPackage,
  SignatureShare,
  round1,
  round2,
  trustedDealerKeygen,
  type SigningNonces,
  type TrustedDealerOutput,
} from '@hoarfrost/frost';
import {
  SignerCallError,
  decodeRound2Request,
  encodePublicKeyPackage,
  isSignerErrorCode,
  encodeRound2Response,
  listedCommitment,
  type InfoResponse,
  type KeyInfoWire,
  type KeyStateWire,
  type Round1Request,
  type Round1Response,
  type Round2Request,
  type Round2Response,
  type SignerErrorCode,
  type SignerRpc,
} from '@hoarfrost/rpc';
import { randomBytes } from 'node:crypto';
import { createLogger } from '@hoarfrost/runtime';
import { CommitmentPool, type KeyCommitmentPool } from '../src/commitment-pool.js';
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
 * - `cry-wolf`: round 2 refuses every package as holding an invalid point (INVALID_POINT), valid or not;
 * - `version-liar`: round 2 answers KEY_VERSION_CHANGED whatever version it is sent (its info tells the truth).
 */
export type Behaviour = 'ok' | 'flood' | 'down' | 'refuse' | 'forget' | 'corrupt' | 'impostor' | 'bad-point' | 'bad-share' | 'hang' | 'undocumented' | 'too-large' | 'cry-wolf' | 'version-liar';

const IDENTITY = Uint8Array.from([1, ...new Array<number>(31).fill(0)]);

/** One key a fake signer holds. */
export interface FakeKey {
  keyPackage: KeyPackage;
  pkp: PublicKeyPackage;
  state?: KeyStateWire;
  version?: number;
  createdAt?: number;
  /** Report it without its public key package, as an older signer does. */
  legacy?: boolean;
  /** The activation it reports (an active version made by key generation). */
  activation?: { session: Uint8Array; signature: Uint8Array };
  /** Report this package instead of `pkp` (a signer disagreeing with the others). */
  reportedPkp?: PublicKeyPackage;
}

export class FakeSigner implements SignerRpc {
  behaviour: Behaviour = 'ok';
  readonly calls = { round1: 0, round2: 0, info: 0 };
  /** Number of requests in each round2Batch call, in order. */
  readonly batches: number[] = [];
  /** Messages this signer's policy refuses (POLICY_NOT_JWS), whatever its behaviour. */
  refuseIf: ((message: Uint8Array) => boolean) | undefined;
  /** `count` of every round-1 request, in order (1: inside a request; more: a pool refill). */
  readonly round1Counts: number[] = [];
  /** The `key_version` of every round-2 request, in order (undefined: the request named none). */
  readonly keyVersions: (number | undefined)[] = [];
  readonly #nonces = new Map<string, SigningNonces>();
  /** What the info RPC reports (undefined: the field is left out, as an older signer would). */
  maxMessageBytes: number | undefined;
  instanceId = randomBytes(16);
  /** Lifetime the signer announces for its commitments. */
  ttlMs = 60_000;

  /** Every key held, by key id (the first: the one given to the constructor). */
  readonly keys = new Map<string, FakeKey>();

  constructor(
    readonly id: string,
    keyPackage: KeyPackage,
    pkp: PublicKeyPackage,
    readonly keyId: string,
  ) {
    this.keys.set(keyId, { keyPackage, pkp });
  }

  /** The key package of the constructor's key. */
  get keyPackage(): KeyPackage {
    return this.keys.get(this.keyId)!.keyPackage;
  }

  set keyPackage(kp: KeyPackage) {
    this.keys.get(this.keyId)!.keyPackage = kp;
  }

  #key(keyId: string): FakeKey {
    const key = this.keys.get(keyId);
    if (!key) this.#fail('UNKNOWN_KEY');
    if (key.state === 'pending') this.#fail('KEY_NOT_ACTIVE');
    if (key.state === 'retired') this.#fail('KEY_RETIRED');
    return key;
  }

  #fail(code: SignerErrorCode | 'SIGNER_UNREACHABLE' | 'SIGNER_ERROR'): never {
    throw new SignerCallError(this.id, code, `${this.id}: ${code}`);
  }

  #identifierBytes(kp: KeyPackage): Uint8Array {
    return this.behaviour === 'impostor' ? Identifier.fromBytes(Uint8Array.from([0x7f, ...new Array<number>(31).fill(0)])).toBytes() : kp.identifier.toBytes();
  }

  async round1(req: Round1Request, signal?: AbortSignal): Promise<Round1Response> {
    this.calls.round1++;
    this.round1Counts.push(req.count);
    if (this.behaviour === 'down') this.#fail('SIGNER_UNREACHABLE');
    if (this.behaviour === 'hang') await this.#hang(signal);
    const { keyPackage } = this.#key(req.key_id);
    const commitments = [];
    for (let i = 0; i < (this.behaviour === 'flood' ? req.count * 10 : req.count); i++) {
      const { nonces, commitments: c } = round1.commit(keyPackage.signingShare);
      this.#nonces.set(`${req.key_id}/${c.toHex()}`, nonces);
      commitments.push({ hiding: this.behaviour === 'bad-point' ? IDENTITY : c.hidingBytes, binding: c.bindingBytes });
    }
    return { identifier: this.#identifierBytes(keyPackage), commitments, ttl_ms: this.ttlMs };
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
    this.keyVersions.push(req.key_version);
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
      case 'version-liar':
        this.#fail('KEY_VERSION_CHANGED');
      case 'forget':
        this.behaviour = 'ok';
        this.#nonces.clear();
        this.#fail('UNKNOWN_COMMITMENT');
      case 'hang':
        await this.#hang(signal);
    }
    const { keyPackage, version } = this.#key(req.key_id);
    // As the real signer: another version of the key's shares than the coordinator verifies against.
    if (req.key_version !== undefined && req.key_version !== (version ?? 1)) this.#fail('KEY_VERSION_CHANGED');
    const me = keyPackage.identifier;
    const mine = listedCommitment(req, me);
    if (!mine) this.#fail('NOT_A_PARTICIPANT');
    const id = `${req.key_id}/${Buffer.concat([mine.hiding, mine.binding]).toString('hex')}`;
    const nonces = this.#nonces.get(id);
    if (!nonces) this.#fail('UNKNOWN_COMMITMENT');
    this.#nonces.delete(id);
    let share: SignatureShare;
    try {
      share = round2.sign(decodeRound2Request(req, me), nonces, keyPackage);
    } catch (e) {
      // As the real signer answers: the library's documented codes (INVALID_POINT, ...).
      if (e instanceof FrostError && isSignerErrorCode(e.code)) this.#fail(e.code);
      throw e;
    }
    if (this.behaviour === 'bad-share') return { identifier: me.toBytes(), share: new Uint8Array(32).fill(0xff) };
    const out = this.behaviour === 'corrupt' ? new SignatureShare((share.share + 1n) % ORDER) : share;
    return { ...encodeRound2Response(me, out), identifier: this.#identifierBytes(keyPackage) };
  }

  #hang(signal?: AbortSignal): Promise<never> {
    // As the real client does: the abort's reason travels as the cause.
    return new Promise((_, reject) => signal?.addEventListener('abort', () => reject(new SignerCallError(this.id, 'SIGNER_TIMEOUT', 'aborted', { cause: signal.reason }))));
  }

  async info(): Promise<InfoResponse> {
    this.calls.info++;
    if (this.behaviour === 'down') this.#fail('SIGNER_UNREACHABLE');
    const keys = [...this.keys].map(([keyId, k]): KeyInfoWire => ({
      key_id: keyId,
      identifier: this.#identifierBytes(k.keyPackage),
      verifying_share: k.keyPackage.verifyingShare.toBytes(),
      verifying_key: (k.reportedPkp ?? k.pkp).verifyingKeyBytes,
      min_signers: k.keyPackage.minSigners,
      ...(k.state ? { state: k.state } : {}),
      ...(k.version ? { version: k.version } : {}),
      ...(k.createdAt !== undefined ? { created_at: Math.floor(k.createdAt / 1000) } : {}),
      ...(k.legacy ? {} : { public_key_package: encodePublicKeyPackage(k.reportedPkp ?? k.pkp) }),
      ...(k.activation ? { activation: k.activation } : {}),
    }));
    return {
      ...(keys[0] ? { identifier: keys[0].identifier! } : {}),
      keys,
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
  /** The pools of every key. */
  pools: CommitmentPool;
  /** The default key's pool. */
  pool: KeyCommitmentPool;
  orchestrator: Orchestrator;
}

export const silentLog = createLogger('test', 'silent');

/** A t-of-n key set, n fake signers, and the coordinator's registry, pool and orchestrator over them. */
export async function fakeDeployment(
  t: number,
  n: number,
  options: {
    poolSize?: number;
    deadlineMs?: number;
    signerTimeoutMs?: number;
    identifiers?: Identifier[];
    failureThreshold?: number;
    cooldownMs?: number;
    /** Pin each signer to its participant of the default key (COORDINATOR_SIGNER_PARTICIPANTS). */
    pinned?: boolean;
    /** Pin the default key's package by configuration (COORDINATOR_PUBLIC_KEY_PACKAGE_FILE). */
    pinnedPkp?: boolean;
  } = {},
): Promise<FakeDeployment> {
  const dealt = trustedDealerKeygen({ minSigners: t, maxSigners: n, ...(options.identifiers ? { identifiers: options.identifiers } : {}) });
  const pkp = dealt.publicKeyPackage;
  const keyId = 'default';
  const signers = [...dealt.keyPackages.values()].map((kp, i) => new FakeSigner(`signer-${i + 1}`, kp, pkp, keyId));
  let registry: SignerRegistry | undefined;
  const metrics = createCoordinatorMetrics(() => true, () => registry?.countByState() ?? {});
  const config = {
    signers: signers.map((s) => ({ id: s.id, url: `https://${s.id}.test:7443`, ...(options.pinned ? { participant: s.keyPackage.identifier.toHex() } : {}) })),
    keyId,
    breaker: { failureThreshold: options.failureThreshold ?? 3, cooldownMs: options.cooldownMs ?? 60_000 },
    signDeadlineMs: options.deadlineMs ?? 5000,
    signerTimeoutMs: options.signerTimeoutMs ?? 2000,
  };
  const pools = new CommitmentPool({ size: options.poolSize ?? 0, batch: 4 });
  registry = new SignerRegistry({ config, ...(options.pinnedPkp ? { pkp } : {}), connect: (s) => signers.find((f) => f.id === s.id)!, metrics, logger: silentLog, onRestart: (h) => pools.flush(h) });
  await registry.checkAll();
  const orchestrator = new Orchestrator({ config, registry, metrics, pool: pools });
  return { dealt, pkp, signers, metrics, registry, pools, pool: pools.key(keyId), orchestrator };
}

/**
 * Deals another key `keyId` (t-of-`on.length`) to the signers at the indexes `on`, with the given
 * identifiers (default 1..n), and runs a health round so the registry learns it. Returns the dealt set.
 */
export async function addKey(
  d: FakeDeployment,
  keyId: string,
  options: { t: number; on?: number[]; identifiers?: Identifier[]; state?: KeyStateWire; version?: number; createdAt?: number },
): Promise<TrustedDealerOutput> {
  const on = options.on ?? d.signers.map((_, i) => i);
  const dealt = trustedDealerKeygen({ minSigners: options.t, maxSigners: on.length, ...(options.identifiers ? { identifiers: options.identifiers } : {}) });
  const packages = [...dealt.keyPackages.values()];
  on.forEach((index, k) => {
    d.signers[index]!.keys.set(keyId, {
      keyPackage: packages[k]!,
      pkp: dealt.publicKeyPackage,
      ...(options.state ? { state: options.state } : {}),
      ...(options.version ? { version: options.version } : {}),
      ...(options.createdAt !== undefined ? { createdAt: options.createdAt } : {}),
    });
  });
  await d.registry.checkAll();
  return dealt;
}

/**
 * A refresh of key set `pkp`: the same group key, every share moved by a random polynomial with a zero
 * constant term (so shares of the two versions differ and do not combine). Returns the new package and
 * the new key package of each holder from its old one.
 */
export function refreshKeySet(pkp: PublicKeyPackage): { pkp: PublicKeyPackage; keyPackage: (old: KeyPackage) => KeyPackage } {
  const coefficients = Array.from({ length: pkp.minSigners - 1 }, randomScalar);
  // f(x) = a1·x + a2·x² + … (Horner's rule, then one more factor x).
  const delta = (x: bigint) => (coefficients.reduceRight((acc, a) => (acc * x + a) % ORDER, 0n) * x) % ORDER;
  const verifyingShares = [...pkp.verifyingShares.values()].map((e) => ({
    identifier: e.identifier,
    verifyingShare: e.verifyingShare.add(Point.BASE.multiply(delta(e.identifier.value))),
  }));
  const next = new PublicKeyPackage({ verifyingShares, verifyingKey: pkp.verifyingKey, minSigners: pkp.minSigners });
  return {
    pkp: next,
    keyPackage: (old) =>
      new KeyPackage({
        identifier: old.identifier,
        signingShare: (old.signingShare + delta(old.identifier.value)) % ORDER,
        verifyingShare: next.verifyingShareOf(old.identifier),
        verifyingKey: old.verifyingKey,
        minSigners: old.minSigners,
      }),
  };
}

function randomScalar(): bigint {
  for (;;) {
    const s = BigInt(`0x${randomBytes(64).toString('hex')}`) % ORDER;
    if (s !== 0n) return s;
  }
}

/**
 * A refresh of key `keyId` (default: the default key) activated on the signers at the indexes `on`
 * only (the others missed it), as version `version`. No health round runs: the coordinator has not
 * looked since. Returns the new public key package.
 */
export function refreshKey(d: FakeDeployment, options: { on: number[]; version: number; keyId?: string }): PublicKeyPackage {
  const keyId = options.keyId ?? 'default';
  const next = refreshKeySet(d.signers[options.on[0]!]!.keys.get(keyId)!.pkp);
  for (const i of options.on) {
    const key = d.signers[i]!.keys.get(keyId)!;
    key.keyPackage = next.keyPackage(key.keyPackage);
    key.pkp = next.pkp;
    key.version = options.version;
  }
  return next.pkp;
}

/** Value of a counter or gauge sample in a prom-client registry. */
export async function sample(metrics: CoordinatorMetrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = (await metrics.registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value ?? 0;
}
