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
  type PreparedSigning,
  type SigningPackage,
} from '@hoarfrost/frost';
import {
  decodeRound2Request,
  encodeCbor,
  encodeRound2Response,
  listedCommitment,
  parseInfoRequest,
  parseRound1Request,
  parseRound2Request,
  type InfoResponse,
  type Round1Response,
  type Round2Response,
} from '@hoarfrost/rpc';
import { createHash } from 'node:crypto';
import type { AuditTrail, Logger } from '@hoarfrost/runtime';
import type { SignerConfig } from './config.js';
import type { CryptoPool } from './crypto-pool.js';
import { SignerError } from './errors.js';
import type { LoadedKey } from './key-store.js';
import type { SignerMetrics } from './metrics.js';
import { commitmentId, type NonceStore } from './nonce-store.js';
import type { PolicyResult } from './policy.js';

export interface RoundsDeps {
  config: Pick<SignerConfig, 'nonces' | 'testFault' | 'maxBodyBytes'> & { policy: Pick<SignerConfig['policy'], 'maxMessageBytes'>; audit?: Pick<SignerConfig['audit'], 'failClosed'> };
  /** Where each computed share leaves its hash-chained record (none: the log level hides info records). */
  audit?: AuditTrail;
  keys: ReadonlyMap<string, LoadedKey>;
  /** 16 random bytes drawn at each start: a change tells a coordinator that every commitment it holds is gone. */
  instanceId: Uint8Array;
  nonces: NonceStore;
  policy: (message: Uint8Array) => PolicyResult;
  metrics: Pick<SignerMetrics, 'commitmentsIssued' | 'policyRefusals'>;
  cryptoPool?: CryptoPool;
}

function keyFor(deps: RoundsDeps, keyId: string): LoadedKey {
  const key = deps.keys.get(keyId);
  if (!key) throw new SignerError('UNKNOWN_KEY', `no key "${keyId}" on this signer`);
  return key;
}

/** Round 1: `count` fresh nonce pairs kept here, their commitments returned. */
export function handleRound1(deps: RoundsDeps, body: unknown): Round1Response {
  const req = parseRound1Request(body, deps.config.nonces.maxBatch);
  const key = keyFor(deps, req.key_id);
  const commitments = [];
  for (let i = 0; i < req.count; i++) {
    const { nonces, commitments: c } = round1.commit(key.keyPackage.signingShare);
    deps.nonces.add(req.key_id, nonces);
    commitments.push({ hiding: c.hidingBytes, binding: c.bindingBytes });
  }
  deps.metrics.commitmentsIssued.inc(req.count);
  return { identifier: key.keyPackage.identifier.toBytes(), commitments, ttl_ms: deps.nonces.ttlMs };
}

/**
 * Round 2. Order matters: the nonce named by this signer's commitment is claimed (removed from the
 * store) before anything else is computed, so concurrent or repeated requests for it fail; then the
 * policy, the participants and every other commitment are checked, and only then is the share
 * computed. A request refused after the claim has burnt its nonce: it is never offered again (one
 * refused before it — not listing this signer once, an unknown key, a malformed body — names no nonce).
 */
/** Who asked for a share: the coordinator token's issuer and id. */
export interface Requester {
  iss: string;
  jti: string;
}

export async function handleRound2(deps: RoundsDeps, body: unknown, log: Logger, requester?: Requester): Promise<Round2Response> {
  const req = parseRound2Request(body);
  const key = keyFor(deps, req.key_id);
  const me = key.keyPackage.identifier;
  const mine = listedCommitment(req, me);
  if (!mine) throw new SignerError('NOT_A_PARTICIPANT', 'signing package must list this signer exactly once');
  const claimed = deps.nonces.claim(commitmentId(mine.hiding, mine.binding), req.key_id);
  if ('error' in claimed) throw new SignerError(claimed.error, 'commitment is not one this signer issued and has not used');
  const nonces = claimed.nonces;
  try {
    const verdict = deps.policy(req.message);
    if (!verdict.ok) {
      deps.metrics.policyRefusals.inc({ reason: verdict.code });
      log.warn({ keyId: req.key_id, reason: verdict.code, messageBytes: req.message.length }, 'policy refused message');
      throw new SignerError(verdict.code, verdict.reason);
    }
    // Participants first, before any point work: the package unvalidated (identifiers and duplicates
    // only) is enough to refuse one naming a participant outside the key set.
    const listed = decodeRound2Request(req, 'all');
    try {
      assertParticipantsInKeySet(listed, key.publicKeyPackage);
    } catch (e) {
      throw new SignerError('UNKNOWN_PARTICIPANT', (e as Error).message);
    }
    let pkg: SigningPackage;
    let prepared: PreparedSigning | undefined;
    const pool = deps.cryptoPool;
    if (pool && req.commitments.length >= pool.minParticipants) {
      // Large packages: the public point work (validating the others' commitments, binding factors,
      // their part of R) runs in a worker thread; it validated the commitments, so none is re-checked.
      prepared = await pool.prepare({ ownHex: me.toHex(), verifyingKey: key.publicKeyPackage.verifyingKeyBytes, request: req });
      pkg = listed;
    } else {
      pkg = decodeRound2Request(req, me);
    }
    const share = round2.sign(pkg, nonces, key.keyPackage, undefined, prepared);
    const out = deps.config.testFault === 'corrupt-shares' ? new SignatureShare((share.share + 1n) % ORDER, share.groupCommitment) : share;
    await recordShare(deps, log, {
      event: 'round2',
      keyId: req.key_id,
      messageSha256: createHash('sha256').update(req.message).digest('hex'),
      ...(requester ? { requester: `${requester.iss}#${requester.jti}` } : {}),
      commitment: commitmentId(mine.hiding, mine.binding),
      participants: req.commitments.length,
    });
    return encodeRound2Response(me, out);
  } finally {
    nonces.discard(); // used or not, this nonce is never offered again
  }
}

/**
 * The record of a share about to be returned. Failing closed, a share whose record is not written is
 * withheld (its nonce is burnt either way); failing open, the failure is logged and the share returned.
 */
async function recordShare(deps: RoundsDeps, log: Logger, event: Record<string, unknown>): Promise<void> {
  if (!deps.audit) return;
  const written = deps.audit.append(event);
  if (deps.config.audit?.failClosed) {
    await written.catch((e: Error) => {
      log.error({ err: { name: e.name, message: e.message } }, 'audit record not written: share withheld');
      throw new SignerError('AUDIT_UNAVAILABLE', 'the audit record could not be written; no share was returned');
    });
  } else {
    written.catch((e: Error) => log.error({ err: { name: e.name, message: e.message } }, 'audit record not written'));
  }
}

/**
 * The keys this signer holds (all, or the one asked for): what the coordinator's health check compares;
 * with the largest message it accepts for them and this start's instance id.
 */
export function handleInfo(deps: RoundsDeps, body: unknown): InfoResponse {
  const req = parseInfoRequest(body);
  const all = [...deps.keys.values()];
  const keys = all.filter((k) => req.key_id === undefined || k.keyId === req.key_id);
  if (req.key_id !== undefined && keys.length === 0) throw new SignerError('UNKNOWN_KEY', `no key "${req.key_id}" on this signer`);
  const res: InfoResponse = {
    identifier: (keys[0] ?? all[0]!).keyPackage.identifier.toBytes(),
    keys: keys.map((k) => ({
      key_id: k.keyId,
      verifying_share: k.keyPackage.verifyingShare.toBytes(),
      verifying_key: k.publicKeyPackage.verifyingKeyBytes,
      min_signers: k.keyPackage.minSigners,
    })),
    instance_id: deps.instanceId,
  };
  const max = Math.min(deps.config.policy.maxMessageBytes, largestMessageInBody(deps.config.maxBodyBytes, keys));
  // A body limit that holds no request at all (a misconfiguration) leaves no message size to announce.
  if (max > 0) res.max_message_bytes = max;
  return res;
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
