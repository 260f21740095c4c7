/**
 * The signer's round handlers, behind authentication: round 1 issues commitments (RFC 9591 §5.1),
 * round 2 signs a package that passes every check (§5.2), info describes the keys held. They take
 * decoded wire messages and return wire messages; the HTTP layer is app.ts.
 * @module
 */
import {
  ORDER,
  SignatureShare,
  assertParticipantsInKeySet,
  round1,
  round2,
  type Identifier,
  type PreparedSigning,
  type PublicKeyPackage,
  type SigningNonces,
  type SigningPackage,
} from '@hoarfrost/frost';
import {
  activationMessage,
  decodeRound2Request,
  encodeCbor,
  encodePublicKeyPackage,
  encodeRound2Response,
  listedCommitment,
  parseInfoRequest,
  parseRound1Request,
  parseRound2BatchRequest,
  parseRound2Request,
  type CommitmentWire,
  type InfoResponse,
  type KeyInfoWire,
  type Round1Response,
  type Round2BatchResponse,
  type Round2Outcome,
  type Round2Request,
  type Round2Response,
} from '@hoarfrost/rpc';
import { createHash } from 'node:crypto';
import type { AuditTrail, Logger } from '@hoarfrost/runtime';
import type { SignerConfig } from './config.js';
import type { CryptoPool, PrepareTask } from './crypto-pool.js';
import { SignerError, toWireRefusal } from './errors.js';
import type { LoadedKey } from './key-store.js';
import type { SignerMetrics } from './metrics.js';
import { commitmentId, type NonceStore } from './nonce-store.js';
import type { PolicyResult } from './policy.js';

export interface RoundsDeps {
  config: Pick<SignerConfig, 'nonces' | 'testFault' | 'maxBodyBytes' | 'maxRound2Batch'> & { policy: Pick<SignerConfig['policy'], 'maxMessageBytes'>; audit?: Pick<SignerConfig['audit'], 'failClosed'> };
  /** Where each computed share leaves its hash-chained record (none: the log level hides info records). */
  audit?: AuditTrail;
  keys: ReadonlyMap<string, LoadedKey>;
  /** 16 random bytes drawn at each start: a change tells a coordinator that every commitment it holds is gone. */
  instanceId: Uint8Array;
  nonces: NonceStore;
  policy: (message: Uint8Array) => PolicyResult;
  metrics: Pick<SignerMetrics, 'commitmentsIssued' | 'policyRefusals' | 'round2'>;
  cryptoPool?: CryptoPool;
}

function keyFor(deps: RoundsDeps, keyId: string): LoadedKey {
  const key = deps.keys.get(keyId);
  if (!key) throw new SignerError('UNKNOWN_KEY', `no key "${keyId}" on this signer`);
  return key;
}

/**
 * The key to sign with: held and active. A pending key (not yet activated by its key generation)
 * and a retired one sign nothing; both are refused before any nonce is issued or claimed.
 */
function signingKey(deps: RoundsDeps, keyId: string): LoadedKey {
  const key = keyFor(deps, keyId);
  if (key.state === 'pending') throw new SignerError('KEY_NOT_ACTIVE', `key "${keyId}" is not active yet`);
  if (key.state === 'retired') throw new SignerError('KEY_RETIRED', `key "${keyId}" is retired`);
  return key;
}

/** Round 1: `count` fresh nonce pairs kept here, their commitments returned. */
export function handleRound1(deps: RoundsDeps, body: unknown): Round1Response {
  const req = parseRound1Request(body, deps.config.nonces.maxBatch);
  const key = signingKey(deps, req.key_id);
  const commitments = [];
  for (let i = 0; i < req.count; i++) {
    const { nonces, commitments: c } = round1.commit(key.keyPackage.signingShare);
    deps.nonces.add(req.key_id, nonces);
    commitments.push({ hiding: c.hidingBytes, binding: c.bindingBytes });
  }
  deps.metrics.commitmentsIssued.inc(req.count);
  return { identifier: key.keyPackage.identifier.toBytes(), commitments, ttl_ms: deps.nonces.ttlMs };
}

/** Who asked for a share: the coordinator token's issuer and id. */
export interface Requester {
  iss: string;
  jti: string;
}

/** A round-2 request whose nonce this signer has claimed: the nonce is never offered again. */
interface Claimed {
  req: Round2Request;
  key: LoadedKey;
  me: Identifier;
  mine: CommitmentWire;
  nonces: SigningNonces;
}

/**
 * Round 2. Order matters: the nonce named by this signer's commitment is claimed (removed from the
 * store) before anything else is computed, so concurrent or repeated requests for it fail; then the
 * policy, the participants and every other commitment are checked, and only then is the share
 * computed. A request refused after the claim has burnt its nonce: it is never offered again (one
 * refused before it — not listing this signer once, an unknown key, a malformed body — names no nonce).
 */
export async function handleRound2(deps: RoundsDeps, body: unknown, log: Logger, requester?: Requester): Promise<Round2Response> {
  const c = claim(deps, parseRound2Request(body));
  try {
    const listed = admit(deps, c, log);
    const pool = deps.cryptoPool;
    // Large packages: the public point work (validating the others' commitments, binding factors,
    // their part of R) runs in a worker thread; it validated the commitments, so none is re-checked.
    const prepared = pool && c.req.commitments.length >= pool.minParticipants ? await pool.prepare(prepareTask(c)) : undefined;
    return await share(deps, c, listed, log, requester, prepared);
  } finally {
    c.nonces.discard(); // used or not, this nonce is never offered again
  }
}

/**
 * Round 2 for a batch of requests (one token, one body): the same steps as {@link handleRound2} for
 * each, with every listed nonce claimed first, before any point work on any of them; the point work
 * of large packages goes to the worker pool in one pass; and the event loop is given back every few
 * milliseconds, so a large batch never stalls probes or other RPCs. Each request gets its own
 * outcome, in order: its response, or the refusal of that request alone.
 */
export async function handleRound2Batch(deps: RoundsDeps, body: unknown, log: Logger, requester?: Requester): Promise<Round2BatchResponse> {
  const { requests } = parseRound2BatchRequest(body, deps.config.maxRound2Batch);
  const claims = requests.map((req) => attempt(() => claim(deps, req)));
  try {
    const admitted = claims.map((c) => (c instanceof Error ? c : attempt(() => admit(deps, c, log))));
    const pool = deps.cryptoPool;
    const large = pool ? claims.flatMap((c, i) => (c instanceof Error || admitted[i] instanceof Error || c.req.commitments.length < pool.minParticipants ? [] : [i])) : [];
    const prepared = new Map<number, PreparedSigning | Error>();
    if (pool && large.length > 0) {
      const parts = await pool.prepareMany(large.map((i) => prepareTask(claims[i] as Claimed)));
      large.forEach((i, k) => prepared.set(i, parts[k]!));
    }
    const outcomes: Promise<Round2Response>[] = [];
    const push = (p: Promise<Round2Response>) => {
      p.catch(() => undefined); // settled together below; marked handled now, as the loop may yield first
      outcomes.push(p);
    };
    let turn = performance.now();
    for (let i = 0; i < claims.length; i++) {
      const c = claims[i]!;
      const listed = admitted[i]!;
      const part = prepared.get(i);
      if (c instanceof Error) push(Promise.reject(c));
      else if (listed instanceof Error) push(Promise.reject(listed));
      else if (part instanceof Error) push(Promise.reject(part));
      // The share is computed synchronously here; only a fail-closed audit record is awaited later.
      else push(share(deps, c, listed, log, requester, part));
      if (performance.now() - turn > YIELD_AFTER_MS && i + 1 < claims.length) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        turn = performance.now();
      }
    }
    const settled = await Promise.allSettled(outcomes);
    return {
      results: settled.map((r): Round2Outcome => {
        if (r.status === 'fulfilled') {
          deps.metrics.round2.inc({ outcome: 'ok' });
          return r.value;
        }
        const refusal = toWireRefusal(r.reason);
        if (refusal.unexpected) log.error({ err: { name: (r.reason as Error)?.name, message: (r.reason as Error)?.message } }, 'unexpected error');
        deps.metrics.round2.inc({ outcome: refusal.code });
        return { error: { code: refusal.code, message: refusal.message } };
      }),
    };
  } finally {
    for (const c of claims) if (!(c instanceof Error)) c.nonces.discard();
  }
}

/** Time a batch may hold the event loop before it lets other work run. */
const YIELD_AFTER_MS = 2;

function attempt<T>(f: () => T): T | Error {
  try {
    return f();
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  }
}

/** The prefix every activation message starts with (the bytes before its two digests). */
const ACTIVATION_PREFIX = Buffer.from(activationMessage(new Uint8Array(32), new Uint8Array(32)).subarray(0, -64));

/**
 * The key, this signer's listed commitment, and its nonce claimed: synchronous, before any point work.
 * A message that starts like a key generation's activation message is refused first, touching no
 * nonce: only a key generation signs one (with the new key's nonce), so an ordinary signing cannot
 * be made to produce the signature that activates a key.
 */
function claim(deps: RoundsDeps, req: Round2Request): Claimed {
  if (req.message.length >= ACTIVATION_PREFIX.length && ACTIVATION_PREFIX.equals(req.message.subarray(0, ACTIVATION_PREFIX.length))) {
    throw new SignerError('DKG_REFUSED', 'the message starts like a key activation message, which only key generation signs');
  }
  const key = signingKey(deps, req.key_id);
  if (req.key_version !== undefined && req.key_version !== (key.version ?? 1)) {
    throw new SignerError('KEY_VERSION_CHANGED', `this signer holds version ${key.version ?? 1} of key "${req.key_id}", not ${req.key_version}`);
  }
  const me = key.keyPackage.identifier;
  const mine = listedCommitment(req, me);
  if (!mine) throw new SignerError('NOT_A_PARTICIPANT', 'signing package must list this signer exactly once');
  const claimed = deps.nonces.claim(commitmentId(mine.hiding, mine.binding), req.key_id);
  if ('error' in claimed) throw new SignerError(claimed.error, 'commitment is not one this signer issued and has not used');
  return { req, key, me, mine, nonces: claimed.nonces };
}

/**
 * The policy's verdict on the message, and the participants: the package unvalidated (identifiers
 * and duplicates only) is enough to refuse one naming a participant outside the key set, before
 * any point work. Returns that package.
 */
function admit(deps: RoundsDeps, c: Claimed, log: Logger): SigningPackage {
  const verdict = deps.policy(c.req.message);
  if (!verdict.ok) {
    deps.metrics.policyRefusals.inc({ reason: verdict.code });
    log.warn({ keyId: c.req.key_id, reason: verdict.code, messageBytes: c.req.message.length }, 'policy refused message');
    throw new SignerError(verdict.code, verdict.reason);
  }
  const listed = decodeRound2Request(c.req, 'all');
  try {
    assertParticipantsInKeySet(listed, c.key.publicKeyPackage);
  } catch (e) {
    throw new SignerError('UNKNOWN_PARTICIPANT', (e as Error).message);
  }
  return listed;
}

function prepareTask(c: Claimed): Omit<PrepareTask, 'id'> {
  return { ownHex: c.me.toHex(), verifyingKey: c.key.publicKeyPackage.verifyingKeyBytes, request: c.req };
}

/**
 * The share of an admitted request: the others' commitments validated here unless a worker did it
 * (`prepared`), the share computed, its audit record written (awaited when failing closed).
 */
async function share(deps: RoundsDeps, c: Claimed, listed: SigningPackage, log: Logger, requester: Requester | undefined, prepared: PreparedSigning | undefined): Promise<Round2Response> {
  const pkg = prepared ? listed : decodeRound2Request(c.req, c.me);
  const s = round2.sign(pkg, c.nonces, c.key.keyPackage, undefined, prepared);
  const out = deps.config.testFault === 'corrupt-shares' ? new SignatureShare((s.share + 1n) % ORDER, s.groupCommitment) : s;
  await recordShare(deps, log, {
    event: 'round2',
    keyId: c.req.key_id,
    messageSha256: createHash('sha256').update(c.req.message).digest('hex'),
    ...(requester ? { requester: `${requester.iss}#${requester.jti}` } : {}),
    commitment: commitmentId(c.mine.hiding, c.mine.binding),
    participants: c.req.commitments.length,
  });
  return encodeRound2Response(c.me, out);
}

/**
 * The record of a share about to be returned. Failing closed, a share whose record is not written is
 * withheld (its nonce is burnt either way). Failing open, the share does not wait for its record: the
 * record is appended right after the answer has gone out (records keep the order of their shares), and
 * a failure is logged.
 */
async function recordShare(deps: RoundsDeps, log: Logger, event: Record<string, unknown>): Promise<void> {
  const audit = deps.audit;
  if (!audit) return;
  if (deps.config.audit?.failClosed) {
    await audit.append(event).catch((e: Error) => {
      log.error({ err: { name: e.name, message: e.message } }, 'audit record not written: share withheld');
      throw new SignerError('AUDIT_UNAVAILABLE', 'the audit record could not be written; no share was returned');
    });
    return;
  }
  setImmediate(() => audit.append(event).catch((e: Error) => log.error({ err: { name: e.name, message: e.message } }, 'audit record not written')));
}

/**
 * The keys this signer holds (all, or the one asked for), in every state, each with this signer's
 * identifier for it and the whole public key package: what the coordinator learns keys from and its
 * health check compares; with the largest message it accepts for them and this start's instance id.
 * A signer holding no key yet (a sealed store before any key generation) still answers, with none.
 */
export function handleInfo(deps: RoundsDeps, body: unknown): InfoResponse {
  const req = parseInfoRequest(body);
  const keys = [...deps.keys.values()].filter((k) => req.key_id === undefined || k.keyId === req.key_id);
  if (req.key_id !== undefined && keys.length === 0) throw new SignerError('UNKNOWN_KEY', `no key "${req.key_id}" on this signer`);
  const res: InfoResponse = {
    keys: keys.map((k) => {
      const entry: KeyInfoWire = {
        key_id: k.keyId,
        identifier: k.keyPackage.identifier.toBytes(),
        verifying_share: k.keyPackage.verifyingShare.toBytes(),
        verifying_key: k.publicKeyPackage.verifyingKeyBytes,
        min_signers: k.keyPackage.minSigners,
        state: k.state ?? 'active',
        version: k.version ?? 1,
        public_key_package: encodedPackage(k.publicKeyPackage),
      };
      if (k.createdAt !== undefined) entry.created_at = Math.floor(k.createdAt / 1000);
      if (k.activation) entry.activation = { session: new Uint8Array(Buffer.from(k.activation.sessionId, 'hex')), signature: k.activation.signature };
      return entry;
    }),
    instance_id: deps.instanceId,
    max_request_bytes: deps.config.maxBodyBytes,
    max_round2_batch: deps.config.maxRound2Batch,
    max_commitment_batch: deps.config.nonces.maxBatch,
  };
  // Older coordinators read the signer's identifier here: the first key's.
  if (keys[0]) res.identifier = keys[0].keyPackage.identifier.toBytes();
  const max = Math.min(deps.config.policy.maxMessageBytes, largestMessageInBody(deps.config.maxBodyBytes, keys));
  // A body limit that holds no request at all (a misconfiguration) leaves no message size to announce.
  if (max > 0) res.max_message_bytes = max;
  return res;
}

/** Canonical encodings of the packages held, made once per package (every health check asks). */
const encodedPackages = new WeakMap<PublicKeyPackage, Uint8Array>();

function encodedPackage(pkp: PublicKeyPackage): Uint8Array {
  let bytes = encodedPackages.get(pkp);
  if (!bytes) encodedPackages.set(pkp, (bytes = encodePublicKeyPackage(pkp)));
  return bytes;
}

/** Length of the head of a CBOR byte string of `n` bytes (RFC 8949 §3). */
const byteStringHead = (n: number): number => (n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5);

/**
 * The longest message a round-2 request for any of `keys` can carry in a body of `maxBodyBytes`: what
 * is left beside the largest rest of a request (the longest key id, every participant of the largest
 * key set listed), measured with the RPC's own encoder.
 */
export function largestMessageInBody(maxBodyBytes: number, keys: readonly LoadedKey[]): number {
  const participants = Math.max(0, ...keys.map((k) => k.publicKeyPackage.verifyingShares.size));
  const keyId = keys.reduce((longest, k) => (k.keyId.length > longest.length ? k.keyId : longest), '');
  const entry = { identifier: new Uint8Array(32), hiding: new Uint8Array(32), binding: new Uint8Array(32) };
  const empty = encodeCbor({ key_id: keyId, message: new Uint8Array(0), commitments: new Array(participants).fill(entry) }).length;
  const room = maxBodyBytes - (empty - byteStringHead(0));
  let n = room - 1;
  while (n > 0 && n + byteStringHead(n) > room) n--;
  return Math.max(0, n);
}
