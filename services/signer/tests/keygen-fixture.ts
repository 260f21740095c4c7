// Shared fixtures of the key-generation tests (signer and coordinator): participants in this process
// with real certificates from one dev CA, an in-memory key store and record of begun sessions, transports that carry each step as
// the RPC does (a CBOR round trip, refusals as SignerCallError), a relay that records every byte it
// carries and may tamper with it, and a whole signing with key packages.
import { Writable } from 'node:stream';
import { X509Certificate, createHash, createPublicKey, verify } from 'node:crypto';
import {
  ORDER,
  SigningPackage,
  aggregate,
  round1,
  round2,
  type KeyPackage,
  type PublicKeyPackage,
  type RandomSource,
  type SignatureShare,
} from '@hoarfrost/frost';
import { SignerCallError, decodeCbor, encodeCbor } from '@hoarfrost/rpc';
import { createLogger } from '@hoarfrost/runtime';
import { createCertificateAuthority, type CertificateAuthority, type CertificatePair } from '@hoarfrost/testkit';
import { SignerError } from '../src/errors.js';
import type { LoadedKey } from '../src/key-store.js';
import { KEYGEN_RPC_OF_PATH, KeygenParticipant, type BegunSessionStore, type KeygenParticipantOptions, type KeygenVault } from '../src/keygen.js';
import { pendingShareGivenError } from '../src/key-vault.js';

/** The KeygenVault contract in memory, recording what happened to pending keys. */
export class MemoryKeygenStore implements KeygenVault {
  readonly keys = new Map<string, LoadedKey>();
  /** The session that made each key's active version. */
  readonly sessions = new Map<string, string>();
  readonly pending = new Map<string, { key: LoadedKey; sessionId: string; activationShareGiven?: boolean }>();
  readonly discarded: { keyId: string; sessionId: string }[] = [];
  readonly activated: { keyId: string; sessionId: string; signature: Uint8Array }[] = [];

  get(keyId: string): LoadedKey | undefined {
    return this.keys.get(keyId);
  }
  async storePending(key: LoadedKey, sessionId: string): Promise<void> {
    const kept = this.pending.get(key.keyId);
    if (kept?.activationShareGiven) throw pendingShareGivenError(key.keyId, kept.sessionId);
    this.pending.set(key.keyId, { key, sessionId });
  }
  async markActivationShareGiven(keyId: string, sessionId: string): Promise<void> {
    const p = this.pending.get(keyId);
    if (!p || p.sessionId !== sessionId) throw new SignerError('DKG_SESSION_UNKNOWN', 'no pending key of that session');
    p.activationShareGiven = true;
  }
  async activate(keyId: string, sessionId: string, signature: Uint8Array): Promise<void> {
    const p = this.pending.get(keyId);
    if ((!p || p.sessionId !== sessionId) && this.activeSession(keyId) === sessionId) return;
    if (!p || p.sessionId !== sessionId) throw new Error('no pending key of that session');
    this.pending.delete(keyId);
    this.keys.set(keyId, { ...p.key, state: 'active' });
    this.sessions.set(keyId, sessionId);
    this.activated.push({ keyId, sessionId, signature });
  }
  getPending(keyId: string): (LoadedKey & { sessionId: string; activationShareGiven: boolean }) | undefined {
    const p = this.pending.get(keyId);
    return p && { ...p.key, sessionId: p.sessionId, activationShareGiven: p.activationShareGiven === true };
  }
  activeSession(keyId: string): string | undefined {
    return this.active(keyId) ? this.sessions.get(keyId) : undefined;
  }
  async discardPending(keyId: string, sessionId: string): Promise<void> {
    const p = this.pending.get(keyId);
    if (p && p.sessionId === sessionId && !p.activationShareGiven) {
      this.pending.delete(keyId);
      this.discarded.push({ keyId, sessionId });
    }
  }
  async retire(keyId: string): Promise<void> {
    const k = this.keys.get(keyId);
    if (!k) throw new SignerError('UNKNOWN_KEY', `no key "${keyId}"`);
    this.keys.set(keyId, { ...k, state: 'retired' });
  }
  async remove(keyId: string): Promise<void> {
    const k = this.keys.get(keyId);
    if (!k) throw new SignerError('UNKNOWN_KEY', `no key "${keyId}"`);
    if (k.state !== 'retired') throw new SignerError('KEY_NOT_RETIRED', `key "${keyId}" is not retired`);
    this.keys.delete(keyId);
  }
  /** The key as active, or undefined. */
  active(keyId: string): LoadedKey | undefined {
    const k = this.keys.get(keyId);
    return k && (k.state ?? 'active') === 'active' ? k : undefined;
  }
}

/** The record of begun sessions in memory; `unreadable` makes load fail, `failSaves` every save. */
export class MemoryBegunSessions implements BegunSessionStore {
  entries = new Map<string, number>();
  unreadable: string | undefined;
  failSaves = false;
  async load(): Promise<ReadonlyMap<string, number>> {
    if (this.unreadable !== undefined) throw new Error(this.unreadable);
    return new Map(this.entries);
  }
  async save(entries: ReadonlyMap<string, number>): Promise<void> {
    if (this.failSaves) throw new Error('no space left on device');
    this.entries = new Map(entries);
  }
}

export const derOf = (pem: string): Uint8Array => new Uint8Array(new X509Certificate(pem).raw);

/** Everything the participants logged, to scan for secrets. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.lines.push(chunk.toString('utf8'));
    done();
  }
}

/** A recording random source: each draw is kept (the polynomial coefficients are the first t of a run). */
export class RecordingRandom {
  draws: Uint8Array[] = [];
  readonly source: RandomSource = (n) => {
    const b = new Uint8Array(createHash('sha512').update(`draw ${this.draws.length} ${Math.random()}`).digest()).subarray(0, n);
    const out = Uint8Array.from(b);
    this.draws.push(Uint8Array.from(out));
    return out;
  };
}

export interface TestParticipant {
  id: string;
  participant: KeygenParticipant;
  store: MemoryKeygenStore;
  begun: MemoryBegunSessions;
  random: RecordingRandom;
  cert: CertificatePair;
}

export interface Pki {
  ca: CertificateAuthority;
  coordinator: CertificatePair;
  certs: Map<string, CertificatePair>;
}

/** One dev CA, a certificate per signer id (SAN DNS:<id>), and the coordinator's (SAN DNS:frost-coordinator). */
export async function createPki(ids: readonly string[]): Promise<Pki> {
  const ca = await createCertificateAuthority('dkg test CA');
  const certs = new Map<string, CertificatePair>();
  for (const id of ids) certs.set(id, await ca.issue({ commonName: id, dnsNames: [id], usages: ['server', 'client'] }));
  const coordinator = await ca.issue({ commonName: 'frost-coordinator', dnsNames: ['frost-coordinator'], usages: ['client'] });
  return { ca, coordinator, certs };
}

export const logs = new LogCapture();
const logger = createLogger('keygen-test', 'debug', logs);

/** A participant for `id` with its own store and record of begun sessions (unless `overrides` name others). */
export function makeParticipant(pki: Pki, id: string, allowedPeers: readonly string[], overrides: Partial<KeygenParticipantOptions> = {}): TestParticipant {
  const cert = pki.certs.get(id)!;
  const store = new MemoryKeygenStore();
  const begun = new MemoryBegunSessions();
  const random = new RecordingRandom();
  const participant = new KeygenParticipant({
    signerId: id,
    certDer: derOf(cert.certPem),
    keyPem: cert.keyPem,
    peerCaPems: [pki.ca.certPem],
    allowedPeers,
    store,
    begunSessions: begun,
    sessionTtlMs: 120_000,
    logger,
    random: random.source,
    ...overrides,
  });
  return { id, participant, store, begun, random, cert };
}

/** What the driver's transport interface asks for (the coordinator's KeygenTransport). */
export interface Transport {
  readonly id: string;
  call(path: string, body: unknown, signal?: AbortSignal): Promise<unknown>;
}

/** The RPC of one participant: CBOR both ways, a signer refusal as SignerCallError with its code. */
export function transportOf(p: TestParticipant): Transport {
  return {
    id: p.id,
    async call(path, body) {
      const rpc = KEYGEN_RPC_OF_PATH.get(path);
      if (!rpc) throw new SignerCallError(p.id, 'NOT_FOUND', `no RPC ${path}`);
      try {
        return decodeCbor(encodeCbor(await p.participant.handle(rpc, decodeCbor(encodeCbor(body)))));
      } catch (e) {
        const code = (e instanceof SignerError ? e.code : 'INVALID_REQUEST') as 'INVALID_REQUEST';
        throw new SignerCallError(p.id, code, (e as Error).message);
      }
    },
  };
}

/** What a relay may do to a request before it reaches a participant, and to its answer. */
export interface Tamper {
  request?(target: string, path: string, body: any): any;
  answer?(target: string, path: string, answer: any): any;
}

/** A relay around the transports: records the encoding of every request and answer it carries. */
export class Relay {
  readonly carried: Uint8Array[] = [];
  constructor(readonly tamper: Tamper = {}) {}
  wrap(t: Transport): Transport {
    return {
      id: t.id,
      call: async (path, body, signal) => {
        // Each target gets its own copy (the driver hands every participant the same object).
        const sent = this.tamper.request ? await this.tamper.request(t.id, path, decodeCbor(encodeCbor(body))) : body;
        this.carried.push(encodeCbor(sent));
        let answer = await t.call(path, sent, signal);
        if (this.tamper.answer) answer = await this.tamper.answer(t.id, path, answer);
        this.carried.push(encodeCbor(answer));
        return answer;
      },
    };
  }
}

/** 32-byte little-endian encoding of a scalar. */
export function scalarLE(x: bigint): Buffer {
  const out = Buffer.alloc(32);
  let v = x;
  for (let i = 0; i < 32; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

const mod = (x: bigint) => ((x % ORDER) + ORDER) % ORDER;
const le = (b: Uint8Array) => b.reduceRight((acc, byte) => (acc << 8n) | BigInt(byte), 0n);

/**
 * The secret polynomial a participant drew in its last run, from its recorded randomness: `count`
 * coefficients of 64 bytes each reduced modulo L (create: a_0..a_{t−1}; refresh: a_1..a_{t−1}, a_0 = 0).
 */
export function coefficients(random: RecordingRandom, kind: 'create' | 'refresh', minSigners: number): bigint[] {
  const drawn = random.draws.slice(0, kind === 'create' ? minSigners : minSigners - 1).map((d) => mod(le(d)));
  return kind === 'create' ? drawn : [0n, ...drawn];
}

/** f(x) for a polynomial given by its coefficients. */
export function evaluate(coeffs: readonly bigint[], x: bigint): bigint {
  return coeffs.reduceRight((acc, a) => mod(acc * x + a), 0n);
}

/** Signs `message` with these key packages (round 1, round 2, aggregate); returns the 64-byte signature. */
export function signWith(keyPackages: readonly KeyPackage[], pkp: PublicKeyPackage, message: Uint8Array): Uint8Array {
  const commits = keyPackages.map((kp) => ({ kp, ...round1.commit(kp.signingShare) }));
  const pkg = new SigningPackage(commits.map((c) => ({ identifier: c.kp.identifier, commitments: c.commitments })), message);
  const shares = new Map<string, SignatureShare>(commits.map((c) => [c.kp.identifier.toHex(), round2.sign(pkg, c.nonces, c.kp)]));
  return aggregate(pkg, shares, pkp).toBytes();
}

/** Ed25519 verification with node:crypto. */
export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey).toString('base64url') }, format: 'jwk' });
  return verify(null, message, key, signature);
}
