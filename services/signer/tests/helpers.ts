// Shared fixtures of the signer's unit tests: signers whose round dependencies hold real key material,
// one whole signing through the round handlers, and metric samples read from a prom-client registry.
import { expect } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import {
  Identifier,
  SigningCommitments,
  SigningPackage,
  aggregate,
  type CommitmentEntry,
  type Signature,
  type SignatureShare,
  type SigningNonces,
  type TrustedDealerOutput,
} from '@hoarfrost/frost';
import { decodeCbor, decodeRound2Response, encodeCbor, encodeRound2Request, parseRound2Response, type Round2Request } from '@hoarfrost/rpc';
import { createLogger } from '@hoarfrost/runtime';
import { loadConfig, type SignerConfig } from '../src/config.js';
import { SignerError } from '../src/errors.js';
import type { LoadedKey } from '../src/key-store.js';
import { createSignerMetrics, type SignerMetrics } from '../src/metrics.js';
import { NonceStore } from '../src/nonce-store.js';
import { createPolicy, type PolicyResult } from '../src/policy.js';
import { handleRound1, handleRound2, type RoundsDeps } from '../src/rounds.js';

export const KEY_ID = 'default';
export const silentLog = createLogger('t', 'silent');

/** The variables loadConfig requires; file paths are never read by the units under test. */
export const BASE_ENV: Record<string, string> = {
  SIGNER_ID: 'signer-1',
  SIGNER_TLS_CERT_FILE: '/c',
  SIGNER_TLS_KEY_FILE: '/k',
  SIGNER_TLS_CLIENT_CA_FILE: '/ca',
  SIGNER_ALLOWED_CLIENT_SANS: 'DNS:frost-coordinator',
  SIGNER_JWT_JWKS_FILE: '/jwks',
};

/** A validated config, as the service builds it (loadConfig), with `env` on top of the required variables. */
export function signerConfig(env: Record<string, string> = {}): Readonly<SignerConfig> {
  return loadConfig({ ...BASE_ENV, ...env });
}

/** A CBOR round trip: what the HTTP layer hands a round handler (byte strings arrive as Buffers). */
export function wire(value: unknown): unknown {
  return decodeCbor(encodeCbor(value));
}

/** Participant `n`'s key of a dealt key set, as the key store loads it. */
export function loadedKey(keyId: string, dealt: TrustedDealerOutput, n: number): LoadedKey {
  const keyPackage = dealt.keyPackages.get(Identifier.fromNumber(n).toHex());
  if (!keyPackage) throw new Error(`participant ${n} is not in the dealt key set`);
  return { keyId, keyPackage, publicKeyPackage: dealt.publicKeyPackage };
}

export interface TestSigner {
  n: number;
  identifier: Identifier;
  deps: RoundsDeps;
  nonces: NonceStore;
  metrics: SignerMetrics;
  /** Every secret nonce pair its store was given, in order: to check they are wiped, not just unlisted. */
  issued: SigningNonces[];
}

export interface TestSignerOptions {
  policy?: (message: Uint8Array) => PolicyResult;
  testFault?: SignerConfig['testFault'];
  maxBatch?: number;
  now?: () => number;
  ttlMs?: number;
  /** The policy's message limit as configured (the `policy` check itself is given separately). */
  maxMessageBytes?: number;
  maxBodyBytes?: number;
  /** Round-2 requests one batch may carry (SIGNER_MAX_ROUND2_BATCH). */
  maxRound2Batch?: number;
}

/** Participant `n` holding its share of every key set in `keySets` (key id → dealt keys), with real metrics. */
export function testSigner(n: number, keySets: Record<string, TrustedDealerOutput>, options: TestSignerOptions = {}): TestSigner {
  const nonces = new NonceStore({ max: 1000, ttlMs: options.ttlMs ?? 60_000, ...(options.now ? { now: options.now } : {}) });
  const metrics = createSignerMetrics(() => nonces.size, () => true);
  const issued: SigningNonces[] = [];
  const add = nonces.add.bind(nonces);
  nonces.add = (keyId, n) => {
    issued.push(n);
    return add(keyId, n);
  };
  const keys = new Map(Object.entries(keySets).map(([keyId, dealt]) => [keyId, loadedKey(keyId, dealt, n)] as const));
  const maxMessageBytes = options.maxMessageBytes ?? 64 * 1024;
  const deps: RoundsDeps = {
    config: {
      nonces: { max: 1000, ttlMs: nonces.ttlMs, maxBatch: options.maxBatch ?? 32 },
      testFault: options.testFault ?? 'none',
      maxBodyBytes: options.maxBodyBytes ?? maxMessageBytes + 64 * 1024,
      maxRound2Batch: options.maxRound2Batch ?? 256,
      policy: { maxMessageBytes },
    },
    keys,
    instanceId: new Uint8Array(randomBytes(16)),
    nonces,
    policy: options.policy ?? createPolicy({ mode: 'raw', maxMessageBytes, jwsRequiredClaims: [] }),
    metrics,
  };
  return { n, identifier: Identifier.fromNumber(n), deps, nonces, metrics, issued };
}

/** One fresh commitment of `s` through its round-1 handler, as a signing package entry. */
export function commitOnce(s: TestSigner, keyId = KEY_ID): CommitmentEntry {
  const r = handleRound1(s.deps, wire({ key_id: keyId, count: 1 }));
  const c = r.commitments[0]!;
  return { identifier: Identifier.fromBytes(r.identifier), commitments: SigningCommitments.fromBytes(c.hiding, c.binding) };
}

/** The secret nonces `s` issued for `entry`'s commitments. */
export function noncesOf(s: TestSigner, entry: CommitmentEntry): SigningNonces {
  const n = s.issued.find((x) => x.commitments.equals(entry.commitments));
  if (!n) throw new Error('no such commitment was issued by this signer');
  return n;
}

/** Round 2 at `s` over the wire shapes; resolves with the decoded share or rejects with the handler's error. */
export async function shareOf(s: TestSigner, req: Round2Request): Promise<SignatureShare> {
  const r = parseRound2Response(wire(await handleRound2(s.deps, wire(req), silentLog)));
  expect(Buffer.from(r.identifier)).toEqual(Buffer.from(s.identifier.toBytes()));
  return decodeRound2Response(r);
}

export interface Signing {
  pkg: SigningPackage;
  req: Round2Request;
  shares: Map<string, SignatureShare>;
  signature: Signature;
}

/** A whole signing among `signers`: round 1 at each, the package the coordinator would send, round 2 at each, aggregate. */
export async function signWith(signers: TestSigner[], message: Uint8Array, keyId = KEY_ID): Promise<Signing> {
  const pkg = new SigningPackage(signers.map((s) => commitOnce(s, keyId)), message);
  const req = encodeRound2Request(keyId, pkg);
  const shares = new Map<string, SignatureShare>();
  for (const s of signers) shares.set(s.identifier.toHex(), await shareOf(s, req));
  const pkp = signers[0]!.deps.keys.get(keyId)!.publicKeyPackage;
  return { pkg, req, shares, signature: aggregate(pkg, shares, pkp) };
}

/** The rejection of `p` (fails the test when `p` resolves). */
export async function rejectionOf(p: Promise<unknown> | (() => unknown)): Promise<unknown> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection, but the call succeeded');
}

/** Asserts that `p` fails with a SignerError carrying `code`, and returns it. */
export async function expectSignerError(p: Promise<unknown> | (() => unknown), code: SignerError['code']): Promise<SignerError> {
  const e = await rejectionOf(p);
  expect(e).toBeInstanceOf(SignerError);
  expect((e as SignerError).code).toBe(code);
  return e as SignerError;
}

type Registry = SignerMetrics['registry'];
type Sample = { value: number; labels: Partial<Record<string, string | number>> };

/** The samples of `name` (a metric, or one series of a histogram such as `x_count`) in `registry`. */
export async function samplesOf(registry: Registry, name: string): Promise<Sample[]> {
  const all = await registry.getMetricsAsJSON();
  return all.flatMap((m) => m.values.filter((v) => ((v as { metricName?: string }).metricName ?? m.name) === name));
}

/** Sum of the samples of `name` whose labels include `labels` (0 when there is none). */
export async function sampleValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const matching = (await samplesOf(registry, name)).filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want));
  return matching.reduce((sum, v) => sum + v.value, 0);
}
