/**
 * The configured signers, one {@link SignerHandle} each, their health, and the keys the coordinator
 * learns from them. Only these URLs are ever dialled (request-supplied `signer_urls` must name entries
 * of this registry).
 *
 * Keys: each health check asks a signer for every key it holds (info RPC): state, version, its
 * identifier and the whole public key package. A key is known when every healthy signer reporting it
 * reports the same package (byte-equal canonical encodings); when they differ, the key is refused
 * (nothing signs with it, a conflict naming the signers is logged and counted). A key pinned by
 * configuration (`COORDINATOR_PUBLIC_KEY_PACKAGE_FILE`, the default key) is known with that package
 * whatever the signers say; a signer reporting another is not used for it. A signer is usable for a
 * key when it holds the key with the agreed package; its identifier may differ from key to key.
 * @module
 */
import { createHash } from 'node:crypto';
import { Identifier, verifyEd25519, type PublicKeyPackage } from '@hoarfrost/frost';
import { KEYGEN_PATHS, SignerCallError, activationMessage, decodePublicKeyPackage, parseEmptyAnswer, encodePublicKeyPackage, type ChannelState, type InfoResponse, type KeyInfoWire, type KeyStateWire, type SignerRpc } from '@hoarfrost/rpc';
import type { Logger } from '@hoarfrost/runtime';
import { CircuitBreaker } from './breaker.js';
import type { CoordinatorConfig, SignerEntry } from './config.js';
import { ApiError } from './errors.js';
import type { CoordinatorMetrics } from './metrics.js';
import { SignerHandle, type ReportedKey } from './signer-handle.js';

const BREAKER_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;

export type KeyState = KeyStateWire;

/** A key the coordinator knows: its agreed package and state, and the signers usable for it. */
export interface KnownKey {
  keyId: string;
  pkp: PublicKeyPackage;
  /** Active while at least its threshold of holders report it active; else retired once any holder retired it; else pending. */
  state: KeyState;
  version: number;
  /** The earliest creation time a holder reports (ms since the epoch), if any does. */
  createdAt?: number;
  /** Pinned by configuration (COORDINATOR_PUBLIC_KEY_PACKAGE_FILE). */
  pinned: boolean;
  /**
   * The signers holding it with the agreed package, each with its identifier for it, in registry
   * order (healthy or not: an unhealthy one is still a candidate, ranked last).
   */
  holders: ReadonlyMap<SignerHandle, Identifier>;
}

/**
 * The version of a key's shares: the one most of the signers reporting its package report (the
 * lowest on a tie). Every honest holder of one package holds one version (a refresh changes the
 * package), so one signer reporting another version only leaves itself out; the version is what a
 * round-2 request names, and a signer holding another refuses it (KEY_VERSION_CHANGED).
 */
function versionOf(reports: readonly ReportedKey[]): number {
  const count = new Map<number, number>();
  for (const r of reports) count.set(r.version, (count.get(r.version) ?? 0) + 1);
  let best = 1;
  let most = 0;
  for (const [v, n] of [...count].sort((a, b) => a[0] - b[0])) {
    if (n > most) [best, most] = [v, n];
  }
  return best;
}

/** Call failures after which a re-sent activation is tried again: the signer was not reached, or not now. */
const TRANSIENT_CODES: ReadonlySet<string> = new Set(['SIGNER_UNREACHABLE', 'SIGNER_TIMEOUT', 'SHUTTING_DOWN', 'DKG_BUSY', 'DKG_UNAVAILABLE', 'REPLAY_CACHE_FULL', 'INTERNAL', 'SIGNER_ERROR']);

/** A signer's refusal of a re-sent activation (its abort answer). */
class ActivationRefused extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/** Time a re-sent activation may take. */
const ACTIVATION_TIMEOUT_MS = 10_000;

/** Why a signer's report of one key is not taken (logged; the signer is not used for that key). */
class KeyReportError extends Error {}

/** Decoded packages by the digest of their encoding: each is decoded and checked once. */
const PACKAGE_CACHE_MAX = 256;

export class SignerRegistry {
  readonly handles: readonly SignerHandle[];
  readonly #byUrl = new Map<string, SignerHandle>();
  /** The default key (COORDINATOR_KEY_ID). */
  readonly defaultKeyId: string;
  /** The default key's package when configuration pins it. */
  readonly #pinnedPkp: { pkp: PublicKeyPackage; digest: string } | undefined;
  readonly #metrics: CoordinatorMetrics;
  readonly #log: Logger;
  readonly #onRestart: (h: SignerHandle) => void;
  /** Activations re-sent by #completeActivations (signer, key, session): once each, until a transport failure. */
  readonly #activationsSent = new Set<string>();
  /** Each reported activation's verdict (its signature verifies or not), checked once while it is reported. */
  readonly #checkedActivations = new Map<string, boolean>();
  /** Key ids some signers report with one package, but fewer than its threshold: not usable now. */
  #underReported = new Set<string>();
  /** In-flight info RPCs: one per signer at a time, whoever asks. */
  readonly #probing = new Map<SignerHandle, Promise<void>>();
  /** The participant each signer must answer as for the default key (COORDINATOR_SIGNER_PARTICIPANTS). */
  readonly #pinned = new Map<SignerHandle, Identifier>();
  readonly #onChannelUp: (h: SignerHandle) => void;
  readonly #packages = new Map<string, PublicKeyPackage | Error>();
  #keys = new Map<string, KnownKey>();
  /** Keys refused now, with the description of their conflict (logged and counted when it changes). */
  readonly #conflicts = new Map<string, string>();
  /** Per signer, the problems of its key reports last logged (each logged once, not every check). */
  readonly #problems = new Map<SignerHandle, Map<string, string>>();

  /** `connect` makes the RPC client of one configured signer (mTLS in production, a double in tests). */
  constructor(args: {
    config: Pick<CoordinatorConfig, 'signers' | 'keyId' | 'breaker'>;
    /** The default key's public key package, when configuration pins it. */
    pkp?: PublicKeyPackage | undefined;
    connect: (signer: SignerEntry) => SignerRpc;
    metrics: CoordinatorMetrics;
    logger: Logger;
    /** A signer came back as a new process: what it issued before (pooled commitments) is gone. */
    onRestart?: (h: SignerHandle) => void;
    /** A signer's channel opened and its check has run (e.g. to refill its pool at once). */
    onChannelUp?: (h: SignerHandle) => void;
  }) {
    this.#onRestart = args.onRestart ?? (() => {});
    this.#onChannelUp = args.onChannelUp ?? (() => {});
    this.defaultKeyId = args.config.keyId;
    this.#pinnedPkp = args.pkp ? { pkp: args.pkp, digest: digestOf(encodePublicKeyPackage(args.pkp)) } : undefined;
    this.#metrics = args.metrics;
    this.#log = args.logger;
    this.handles = args.config.signers.map((s) => {
      const breaker = new CircuitBreaker(args.config.breaker);
      const h = new SignerHandle({ id: s.id, url: s.url, client: args.connect(s), breaker, metrics: args.metrics, logger: args.logger });
      breaker.onChange = (state) => {
        this.#metrics.breakerState.set({ signer: s.id }, BREAKER_VALUE[state]);
        this.#log.info({ signer: s.id, breaker: state }, 'circuit breaker changed');
      };
      this.#metrics.breakerState.set({ signer: s.id }, 0);
      // From 0, so that a signer's first culprit shows as an increase.
      this.#metrics.culprits.inc({ signer: s.id }, 0);
      this.#metrics.signerHealthy.set({ signer: s.id }, 0);
      this.#byUrl.set(s.url, h);
      if (s.participant !== undefined) this.#pinned.set(h, Identifier.fromHex(s.participant));
      return h;
    });
    this.#recompute();
  }

  /** The handle for a URL given in a request (normalised to its origin), if registered. */
  byUrl(url: string): SignerHandle | undefined {
    try {
      return this.#byUrl.get(new URL(url).origin);
    } catch {
      return undefined;
    }
  }

  /** The signer that is participant `id` of key `keyId`. */
  byIdentifier(keyId: string, id: Identifier): SignerHandle | undefined {
    for (const [h, mine] of this.#keys.get(keyId)?.holders ?? []) if (mine.equals(id)) return h;
    return undefined;
  }

  /** Every key known now (refused ones are not), in key id order. */
  keys(): KnownKey[] {
    return [...this.#keys.values()];
  }

  key(keyId: string): KnownKey | undefined {
    return this.#keys.get(keyId);
  }

  /**
   * The key to sign with: known (UNKNOWN_KEY), and active (KEY_RETIRED, KEY_NOT_ACTIVE otherwise).
   * A key refused for conflicting packages is unknown.
   */
  signingKey(keyId: string): KnownKey {
    const key = this.#keys.get(keyId);
    if (!key) {
      // Reported, but by fewer signers than its threshold (the others down or not read yet): the key
      // exists, it cannot be used now.
      if (this.#underReported.has(keyId)) throw new ApiError('QUORUM_UNAVAILABLE', `fewer signers than the threshold of key "${keyId}" report it now`);
      throw new ApiError('UNKNOWN_KEY', `no key "${keyId}" is known`);
    }
    if (key.state === 'retired') throw new ApiError('KEY_RETIRED', `key "${keyId}" is retired`);
    if (key.state !== 'active') throw new ApiError('KEY_NOT_ACTIVE', `key "${keyId}" is not active yet`);
    return key;
  }

  /**
   * The largest message that t healthy signers of `keyId` accept, and at most `configured`: a larger
   * one cannot be signed, so it is refused before any round. It is the t-th largest limit, not the
   * smallest: one signer announcing a tiny limit only takes itself out of quorums for larger messages
   * (the orchestrator picks among the signers that accept the message), never blocks every caller.
   */
  maxMessageBytes(keyId: string, configured: number): number {
    const key = this.#keys.get(keyId);
    if (!key) return configured;
    const limits = [...key.holders.keys()].filter((h) => h.healthy).map((h) => Math.min(configured, h.maxMessageBytes ?? configured));
    const t = key.pkp.minSigners;
    if (limits.length < t) return configured;
    return limits.sort((a, b) => b - a)[t - 1]!;
  }

  healthyCount(): number {
    return this.handles.filter((h) => h.healthy).length;
  }

  /**
   * Why the coordinator is not ready, or undefined: the default key, when known and active, needs t
   * healthy signers; without it (no key made yet, or not active) one healthy signer will do.
   */
  notReadyReason(): string | undefined {
    const key = this.#keys.get(this.defaultKeyId);
    if (key?.state === 'active') {
      const healthy = [...key.holders.keys()].filter((h) => h.healthy).length;
      if (healthy < key.pkp.minSigners) return `${healthy} of ${key.pkp.minSigners} required signers healthy for key "${key.keyId}"`;
      return undefined;
    }
    return this.healthyCount() > 0 ? undefined : 'no signer healthy';
  }

  /** Known keys counted by state (the keys gauge). */
  countByState(): Record<KeyState, number> {
    const out: Record<KeyState, number> = { pending: 0, active: 0, retired: 0 };
    for (const k of this.#keys.values()) out[k.state]++;
    return out;
  }

  /** One health round: info RPC to every signer, then what the keys are. */
  async checkAll(): Promise<void> {
    await Promise.all(this.handles.map((h) => this.#probeOnce(h)));
    this.#recompute();
    this.#completeActivations();
  }

  /** One signer read again (single-flight: concurrent callers share one info RPC), then the keys. */
  async check(h: SignerHandle): Promise<void> {
    await this.#probeOnce(h);
    this.#recompute();
    this.#completeActivations();
  }

  /**
   * Several signers read again at once, and the keys worked out once from what arrived within
   * `waitMs` (a later answer is taken at the next check). Returns the signers that answered in time.
   */
  async checkMany(hs: Iterable<SignerHandle>, waitMs: number): Promise<Set<SignerHandle>> {
    const answered = new Set<SignerHandle>();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([...new Set(hs)].map((h) => this.#probeOnce(h).then(() => answered.add(h)))),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs))),
    ]);
    clearTimeout(timer);
    this.#recompute();
    this.#completeActivations();
    return answered;
  }

  #probeOnce(h: SignerHandle): Promise<void> {
    let p = this.#probing.get(h);
    if (!p) {
      p = this.#probe(h).finally(() => this.#probing.delete(h));
      this.#probing.set(h, p);
    }
    return p;
  }

  /**
   * A key generation or refresh whose activation reached only some participants (the coordinator
   * that ran it stopped, signers were down) is finished here, whatever the key's state (it may be
   * pending everywhere but on fewer than t signers, or in conflict mid-refresh): every activation a
   * signer reports — checked here first: the Ed25519 signature of the activation message of that
   * signer's package, under that package's group key, so a junk one is dropped and blocks nothing —
   * is sent to each signer reporting the key id that is not active at that package. Each signer
   * verifies it again itself under its pending key, and one with no matching pending version
   * refuses. One attempt per signer and session, until a transport failure (tried again at the next
   * health round); marks of a signer active at that package are dropped.
   */
  #completeActivations(): void {
    const activations = new Map<string, { keyId: string; session: Uint8Array; signature: Uint8Array; pkpDigest: string; groupKey: Uint8Array }>();
    const reported = new Set<string>();
    for (const h of this.handles) {
      for (const r of h.reported.values()) {
        if (r.state !== 'active' || !r.activation || !r.pkp || !r.pkpDigest) continue;
        // Named by everything it says, so a junk report reusing a real session cannot stand for the real one.
        const id = [r.keyId, Buffer.from(r.activation.session).toString('hex'), r.pkpDigest, Buffer.from(r.activation.signature).toString('hex')].join('\0');
        reported.add(id);
        if (activations.has(id)) continue;
        let valid = this.#checkedActivations.get(id);
        if (valid === undefined) {
          valid = verifyEd25519(r.pkp.verifyingKeyBytes, activationMessage(r.activation.session, Buffer.from(r.pkpDigest, 'hex')), r.activation.signature);
          this.#checkedActivations.set(id, valid);
          if (!valid) this.#log.warn({ signer: h.id, keyId: r.keyId }, 'signer reports an activation whose signature does not verify: ignored');
        }
        if (valid) activations.set(id, { keyId: r.keyId, session: r.activation.session, signature: r.activation.signature, pkpDigest: r.pkpDigest, groupKey: r.pkp.verifyingKeyBytes });
      }
    }
    // What no signer reports any more is forgotten: the verdicts and marks stay as small as what is reported.
    for (const id of this.#checkedActivations.keys()) if (!reported.has(id)) this.#checkedActivations.delete(id);
    for (const mark of this.#activationsSent) if (!activations.has(mark.slice(mark.indexOf('\0') + 1))) this.#activationsSent.delete(mark);
    for (const [id, a] of activations) {
      for (const h of this.handles) {
        const mine = h.reported.get(a.keyId);
        const mark = `${h.id}\0${id}`;
        if (!mine) continue;
        if (mine.state === 'active' && mine.pkpDigest === a.pkpDigest) {
          this.#activationsSent.delete(mark);
          continue;
        }
        // Only to a signer holding that group key (a key generation's pending key, or the key a refresh
        // keeps): an activation made up under a package of the reporter's own can reach nobody.
        if (Buffer.compare(mine.verifyingKey, a.groupKey) !== 0) continue;
        if (!h.healthy || this.#activationsSent.has(mark)) continue;
        this.#activationsSent.add(mark);
        h.keygenCall(KEYGEN_PATHS.keygenActivate, { session: a.session, key_id: a.keyId, signature: a.signature }, AbortSignal.timeout(ACTIVATION_TIMEOUT_MS))
          .then((answer) => {
            const parsed = parseEmptyAnswer(answer, 'activate answer');
            if ('abort' in parsed) throw new ActivationRefused(parsed.abort.code, parsed.abort.message);
            this.#log.info({ signer: h.id, keyId: a.keyId }, 'key activated on a signer that had missed its activation');
            return this.check(h);
          })
          .catch((e: unknown) => {
            // Not reached (down, timed out, busy) or its write failed: tried again at the next health
            // round. A refusal (no matching pending version, a signature it does not accept) is final
            // for this session.
            const transient = e instanceof ActivationRefused ? e.code === 'DKG_INTERNAL' : e instanceof SignerCallError && TRANSIENT_CODES.has(e.code);
            if (transient) this.#activationsSent.delete(mark);
            this.#log.info({ signer: h.id, keyId: a.keyId, err: (e as Error).message, retry: transient }, 'signer did not take the activation of a key it reports');
          });
      }
    }
  }


  /** The info RPC to one signer: its health, limits and key reports (each key checked on its own). */
  async #probe(h: SignerHandle): Promise<void> {
    try {
      const info = await h.info();
      const reported = new Map<string, ReportedKey>();
      const problems = new Map<string, string>();
      for (const k of info.keys) {
        try {
          reported.set(k.key_id, this.#reportOf(info, k));
        } catch (e) {
          if (!(e instanceof KeyReportError)) throw e;
          problems.set(k.key_id, e.message);
        }
      }
      this.#logProblems(h, problems);
      if (!h.healthy) this.#log.info({ signer: h.id, keys: [...reported.keys()] }, 'signer healthy');
      const instance = info.instance_id ? Buffer.from(info.instance_id).toString('hex') : undefined;
      const restarted = h.instanceId !== undefined && instance !== h.instanceId;
      h.instanceId = instance;
      h.maxMessageBytes = info.max_message_bytes;
      h.maxCommitmentBatch = info.max_commitment_batch;
      if (restarted) {
        this.#log.info({ signer: h.id }, 'signer restarted');
        this.#onRestart(h);
      }
      h.reported = reported;
      h.healthy = true;
      h.lastError = undefined;
    } catch (e) {
      const code = e instanceof SignerCallError ? e.code : 'SIGNER_BAD_RESPONSE';
      if (h.healthy || h.lastError === undefined) this.#log.warn({ signer: h.id, code, err: (e as Error).message }, 'signer unhealthy');
      h.healthy = false;
      h.lastError = (e as Error).message;
    }
    this.#metrics.signerHealthy.set({ signer: h.id }, h.healthy ? 1 : 0);
  }

  /** One key of an info answer, checked on its own: its identifier, and its package against its other fields. */
  #reportOf(info: InfoResponse, k: KeyInfoWire): ReportedKey {
    const bytes = k.identifier ?? info.identifier;
    let identifier: Identifier;
    try {
      identifier = Identifier.fromBytes(bytes!);
    } catch {
      throw new KeyReportError('its identifier is not a valid participant identifier');
    }
    const report: ReportedKey = {
      keyId: k.key_id,
      identifier,
      state: k.state ?? 'active',
      version: k.version ?? 1,
      versioned: k.version !== undefined,
      verifyingKey: k.verifying_key,
      verifyingShare: k.verifying_share,
      minSigners: k.min_signers,
    };
    if (k.created_at !== undefined) report.createdAt = k.created_at * 1000;
    if (k.activation) report.activation = k.activation;
    if (k.public_key_package) {
      report.pkpDigest = digestOf(k.public_key_package);
      report.pkp = this.#decodePackage(report.pkpDigest, k.public_key_package);
      assertFits(report, report.pkp);
    }
    return report;
  }

  /** The package of an encoding, decoded and checked once per distinct encoding. */
  #decodePackage(digest: string, bytes: Uint8Array): PublicKeyPackage {
    let pkp = this.#packages.get(digest);
    if (!pkp) {
      try {
        pkp = decodePublicKeyPackage(bytes);
        pkp.assertConsistent();
      } catch (e) {
        pkp = new Error((e as Error).message);
      }
      if (this.#packages.size >= PACKAGE_CACHE_MAX) this.#packages.delete(this.#packages.keys().next().value!);
      this.#packages.set(digest, pkp);
    }
    if (pkp instanceof Error) throw new KeyReportError(`its public key package is invalid: ${pkp.message}`);
    return pkp;
  }

  #logProblems(h: SignerHandle, problems: Map<string, string>): void {
    const before = this.#problems.get(h) ?? new Map<string, string>();
    for (const [keyId, problem] of problems) {
      if (before.get(keyId) !== problem) this.#log.warn({ signer: h.id, keyId, problem }, 'signer key report refused: signer not used for this key');
    }
    this.#problems.set(h, problems);
  }

  /**
   * The known keys from every signer's last reports, and each signer's identifiers for the keys it
   * is usable for. Agreement is among the healthy signers reporting a key (all that report it, when
   * none is healthy: a key stays known while its signers are down).
   */
  #recompute(): void {
    const ids = new Set<string>();
    for (const h of this.handles) for (const keyId of h.reported.keys()) ids.add(keyId);
    if (this.#pinnedPkp) ids.add(this.defaultKeyId);
    const keys = new Map<string, KnownKey>();
    const conflicts = new Map<string, string>();
    const underReported = new Set<string>();
    for (const keyId of [...ids].sort()) {
      const key = this.#agree(keyId, conflicts, underReported);
      if (key) keys.set(keyId, key);
    }
    this.#keys = keys;
    this.#underReported = underReported;
    for (const h of this.handles) {
      const mine = new Map<string, Identifier>();
      for (const k of keys.values()) {
        const id = k.holders.get(h);
        if (id) mine.set(k.keyId, id);
      }
      h.setIdentifiers(mine);
    }
    for (const [keyId, description] of conflicts) {
      if (this.#conflicts.get(keyId) === description) continue;
      this.#log.error({ keyId, conflict: description }, 'signers report different public key packages: key refused');
      this.#metrics.keyConflicts.inc();
    }
    for (const keyId of this.#conflicts.keys()) if (!conflicts.has(keyId)) this.#log.info({ keyId }, 'key conflict resolved');
    this.#conflicts.clear();
    for (const [k, v] of conflicts) this.#conflicts.set(k, v);
  }

  /**
   * Key `keyId` as the reports make it, or undefined (a conflict is added to `conflicts`).
   *
   * A key is learnt only from a public key package that at least its threshold of signers report,
   * each under a distinct identifier (or the package pinned by configuration): fewer signers than
   * that cannot sign with it, and a package reported by fewer — one signer making up a key it knows,
   * or reporting another package for an existing id — is never published (JWKS) nor used. The last
   * report of an unhealthy signer still counts, so a key stays known, and a hostile signer cannot
   * take over an id, while honest holders are down. One package that a threshold reports wins over
   * a dissenting minority, which is left out by name (#holders); two such packages are a conflict.
   */
  #agree(keyId: string, conflicts: Map<string, string>, underReported: Set<string>): KnownKey | undefined {
    const reporting = this.handles.filter((h) => h.reported.has(keyId));
    const pinned = keyId === this.defaultKeyId ? this.#pinnedPkp : undefined;
    let agreed: { pkp: PublicKeyPackage; digest: string } | undefined = pinned;
    if (!agreed) {
      const byDigest = new Map<string, SignerHandle[]>();
      for (const h of reporting) {
        const r = h.reported.get(keyId)!;
        if (r.pkpDigest) byDigest.set(r.pkpDigest, [...(byDigest.get(r.pkpDigest) ?? []), h]);
      }
      const signable = [...byDigest.entries()].filter(([digest, hs]) => {
        const pkp = hs[0]!.reported.get(keyId)!.pkp!;
        const identifiers = new Set(hs.map((h) => h.reported.get(keyId)!.identifier.toHex()));
        return identifiers.size >= pkp.minSigners && digest !== undefined;
      });
      if (signable.length > 1 || (signable.length === 0 && byDigest.size > 1)) {
        conflicts.set(keyId, [...byDigest.entries()].map(([digest, hs]) => `${hs.map((h) => h.id).join(', ')} report package sha256:${digest.slice(0, 16)}`).join('; '));
        return undefined;
      }
      // Older signers do not report a package, and too few reports teach nothing.
      if (signable.length === 0) {
        if (byDigest.size === 1) underReported.add(keyId);
        return undefined;
      }
      const [digest, hs] = signable[0]!;
      agreed = { pkp: hs[0]!.reported.get(keyId)!.pkp!, digest };
    }
    const version = versionOf(reporting.map((h) => h.reported.get(keyId)!).filter((r) => r.pkpDigest === agreed.digest || r.pkpDigest === undefined));
    const holders = this.#holders(keyId, agreed, version, reporting);
    const states = [...holders.keys()].map((h) => h.reported.get(keyId)!);
    // Active while a threshold of its holders sign with it: a retirement that reached only some
    // holders leaves it active (the operator is told and retries), and one signer reporting it retired
    // or pending cannot take it out of service. Otherwise retired once any holder retired it.
    const active = states.filter((r) => r.state === 'active').length;
    const state: KeyState = active >= agreed.pkp.minSigners ? 'active' : states.some((r) => r.state === 'retired') ? 'retired' : 'pending';
    const created = states.flatMap((r) => (r.createdAt === undefined ? [] : [r.createdAt]));
    const key: KnownKey = {
      keyId,
      pkp: agreed.pkp,
      state,
      version,
      pinned: pinned !== undefined,
      holders,
    };
    if (created.length > 0) key.createdAt = Math.min(...created);
    return key;
  }

  /**
   * The signers usable for a key with package `agreed`: those whose report fits it, each identifier
   * held by one signer only (the one that held it before keeps it; for the default key, a signer
   * pinned to a participant must answer as that one).
   */
  #holders(keyId: string, agreed: { pkp: PublicKeyPackage; digest: string }, version: number, reporting: SignerHandle[]): Map<SignerHandle, Identifier> {
    const previous = this.#keys.get(keyId)?.holders;
    const order = [...reporting].sort((a, b) => Number(!previous?.has(a)) - Number(!previous?.has(b)));
    const holders = new Map<SignerHandle, Identifier>();
    const taken = new Map<string, SignerHandle>();
    const problems: [SignerHandle, string][] = [];
    for (const h of order) {
      const r = h.reported.get(keyId)!;
      const pinned = keyId === this.defaultKeyId ? this.#pinned.get(h) : undefined;
      let problem: string | undefined;
      if (r.pkpDigest !== undefined && r.pkpDigest !== agreed.digest) problem = 'it reports another public key package';
      else if (Buffer.compare(r.verifyingKey, agreed.pkp.verifyingKeyBytes) !== 0) problem = 'it holds a different group key';
      else if (!fitsShare(r, agreed.pkp)) problem = 'its verifying share differs from the public key package';
      else if (r.version !== version) problem = `it reports version ${r.version} of the key; its holders hold version ${version}`;
      else if (pinned && !r.identifier.equals(pinned)) problem = `it answered as participant ${r.identifier}; it is pinned to ${pinned}`;
      else if (taken.has(r.identifier.toHex())) problem = `identifier ${r.identifier} is also claimed by ${taken.get(r.identifier.toHex())!.id}`;
      if (problem) {
        problems.push([h, problem]);
        continue;
      }
      taken.set(r.identifier.toHex(), h);
      holders.set(h, r.identifier);
    }
    for (const [h, problem] of problems) {
      const logged = this.#problems.get(h) ?? new Map<string, string>();
      if (logged.get(keyId) !== problem) this.#log.warn({ signer: h.id, keyId, problem }, 'signer not used for this key');
      logged.set(keyId, problem);
      this.#problems.set(h, logged);
    }
    // Registry order, so that iteration is stable whatever the check order was.
    return new Map(this.handles.filter((h) => holders.has(h)).map((h) => [h, holders.get(h)!]));
  }

  /**
   * Health from the channel itself: a signer whose channel connection ends is unhealthy at once
   * (its calls fail fast until it is back); one whose channel (re)opens is checked at once, since it
   * may be a new process.
   */
  channelChanged(id: string, state: ChannelState): void {
    const h = this.handles.find((x) => x.id === id);
    if (!h) return;
    if (state === 'open') {
      void this.check(h).then(() => this.#onChannelUp(h));
    } else if (state === 'idle' && h.healthy) {
      h.healthy = false;
      h.lastError = 'channel connection lost';
      this.#log.warn({ signer: h.id, code: 'SIGNER_UNREACHABLE', err: h.lastError }, 'signer unhealthy');
      this.#metrics.signerHealthy.set({ signer: h.id }, 0);
      this.#recompute();
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.handles.map((h) => h.close()));
  }
}

function digestOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Does a report carry the share, group key and threshold of `pkp` for its identifier? */
function fitsShare(r: ReportedKey, pkp: PublicKeyPackage): boolean {
  const entry = pkp.verifyingShares.get(r.identifier.toHex());
  return entry !== undefined && Buffer.compare(entry.verifyingShareBytes!, r.verifyingShare) === 0 && r.minSigners === pkp.minSigners;
}

/** A report's own package must hold what the report says (its share, its group key, its threshold). */
function assertFits(r: ReportedKey, pkp: PublicKeyPackage): void {
  if (Buffer.compare(r.verifyingKey, pkp.verifyingKeyBytes) !== 0) throw new KeyReportError('its verifying key is not the one of its public key package');
  if (!fitsShare(r, pkp)) throw new KeyReportError('its identifier, verifying share or threshold is not in its public key package');
}
