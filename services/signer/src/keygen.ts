/**
 * This signer as a participant of dealerless key generation and refresh (the Pedersen DKG of
 * @hoarfrost/frost), with the coordinator as an untrusted relay: it can make a run fail, never make
 * one succeed with a key it knows or biased, and never sees a share.
 *
 * Steps, one handler each (decoded CBOR body in, `{ok}` or `{abort}` out): begin (part 1 and a fresh
 * HPKE key), echo (every round-1 message checked, a signed digest of each), deal (the echoes compared:
 * any participant with two round-1 messages is named; part 2, each share sealed with HPKE to its
 * recipient), finish (shares opened, part 3, a signed confirmation of the public key package and a
 * commitment for the activation signature), confirm (all confirmations equal: the key stored sealed
 * as pending), sign (a share of the activation message only), activate (the signature verified
 * under the new group key here, then the key made active). Every message a participant emits is
 * signed with its TLS certificate's key (peer-identity.ts); everything received is checked against
 * the session digest, so nothing from another run passes.
 *
 * A check that fails on protocol grounds drops the session (its secrets, and any pending key it
 * stored) and answers an abort naming the participants at fault, or the relay; a participant never
 * names itself, and never names another on a third participant's word alone. Before this
 * participant gives its share of the activation signature, its pending key's sealed record says so
 * (durably); from then on only an activation removes it: the signature may exist and the key be
 * active on the others, so an abort, a failed step, an expiry or a restart keeps it, a later begin
 * for the key id is refused (KEY_EXISTS), and `activate` works without a live session from the
 * pending key's stored record. Requests that are not well-formed, or for no live session, are
 * refused with signer error codes and leave it alone.
 *
 * A session digest is begun once: the digests begun are remembered for as long as their parameters
 * are fresh (issued_at within the session time to live and the clock tolerance of this signer's
 * clock), in memory and in the sealed store's `begun-sessions` file, written durably before a begin
 * answers and read at start; so neither an abort nor a restart lets a relay begin a session again
 * to make this participant sign a second round-1 message for one digest, which the others would
 * take for an equivocation. When that file cannot be read, this participant begins nothing
 * (DKG_UNAVAILABLE) rather than forget.
 *
 * Secrets (coefficients, shares, nonces, the HPKE private key) never leave this module and are
 * never logged; bigints cannot be wiped in JavaScript, so a dropped session drops every reference.
 * @module
 */
import {
  DkgRound1Package,
  DkgRound2Package,
  FrostError,
  Identifier,
  SigningCommitments,
  SigningPackage,
  dkg,
  dkgRound1PackageFromJson,
  dkgRound1PackageToJson,
  refreshDkgPart1,
  refreshDkgPart2,
  refreshDkgShares,
  round1,
  round2,
  verifyEd25519,
  type DkgRound1SecretPackage,
  type DkgRound2SecretPackage,
  type KeyPackage,
  type PublicKeyPackage,
  type RandomSource,
  type SigningNonces,
} from '@hoarfrost/frost';
import {
  KEYGEN_PATHS,
  SIGNER_ID_RE,
  activationMessage,
  decodeKeygenMessage,
  encodeKeygenMessage,
  encodePublicKeyPackage,
  parseAbortRequest,
  parseActivateRequest,
  parseConfirmRequest,
  parseDealRequest,
  parseEchoRequest,
  parseFinishRequest,
  parseKeygenParams,
  parseRetireRequest,
  parseSignRequest,
  sessionDigest,
  sha256,
  type BeginResult,
  type DealResult,
  type EchoResult,
  type EmptyResult,
  type FinishResult,
  type KeygenAbort,
  type KeygenAbortCode,
  type KeygenMessage,
  type KeygenMessageType,
  type KeygenParams,
  type KeygenRpc,
  type SignResult,
  type SignedMessage,
  type StepAnswer,
} from '@hoarfrost/rpc';
import type { Logger } from '@hoarfrost/runtime';
import { Aes128Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';
import { X509Certificate } from 'node:crypto';
import { SignerError } from './errors.js';
import type { KeygenStore, LoadedKey } from './key-store.js';
import { pendingShareGivenError } from './key-vault.js';
import { MessageSigner, PeerIdentityError, PeerVerifier } from './peer-identity.js';

/** HPKE (RFC 9180) base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM. */
const hpke = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes128Gcm() });
type HpkeKeyPair = Awaited<ReturnType<typeof hpke.kem.generateKeyPair>>;

const utf8 = new TextEncoder();
const ROUND2_INFO = utf8.encode('hoarfrost-dkg-v1/round2');
const ECHO_SET = utf8.encode('hoarfrost-dkg-v1/echo-set');

/** Most sessions alive at once on one signer (one per key id; a bound against a flood of begins). */
const MAX_SESSIONS = 16;

/**
 * Most session digests remembered as begun. When that many are still fresh, a begin is refused as
 * busy (failing closed: forgetting a fresh digest would let it be begun again).
 */
const MAX_BEGUN = 1024;

/** Default SIGNER_DKG_MIN_THRESHOLD: the smallest threshold a new key may have. */
export const DEFAULT_DKG_MIN_THRESHOLD = 2;

/** Default difference between this signer's clock and the coordinator's accepted for issued_at. */
export const DEFAULT_DKG_CLOCK_TOLERANCE_MS = 30_000;

/**
 * The storage key generation needs: the KeygenStore contract, and the sessions that made the pending
 * and the active version of a key (to activate without a live session, and to answer an activation
 * re-sent after it completed). The sealed store's vault implements it.
 */
export interface KeygenVault extends KeygenStore {
  /**
   * The pending version of a key, with the session (digest hex) that made it, and whether this
   * signer gave its share of that version's activation signature.
   */
  getPending(keyId: string): (LoadedKey & { sessionId: string; activationShareGiven: boolean }) | undefined;
  /** The session (digest hex) that made the active version of a key, when a key generation made it. */
  activeSession(keyId: string): string | undefined;
  /**
   * Records durably in the pending version of that session that its activation share is given;
   * resolves once on disk. From then on storePending refuses to replace it (KEY_EXISTS) and
   * discardPending keeps it. Throws when there is no such pending key.
   */
  markActivationShareGiven(keyId: string, sessionId: string): Promise<void>;
}

/**
 * Where the session digests begun on this signer are kept across restarts (the sealed store's
 * `begun-sessions` file: BegunSessionsFile), each with the time (ms) until which it is remembered.
 */
export interface BegunSessionStore {
  /** The sessions recorded. Throws, with a message naming the fault, when they cannot be read. */
  load(): Promise<ReadonlyMap<string, number>>;
  /** Replaces the record with `entries`; resolves once it is durable. */
  save(entries: ReadonlyMap<string, number>): Promise<void>;
}

export interface KeygenParticipantOptions {
  /** This signer's id: the DNS SAN of its certificate, the name it has in the session parameters. */
  signerId: string;
  /** Its TLS certificate (DER) and that certificate's private key (PEM): the key its messages are signed with. */
  certDer: Uint8Array;
  keyPem: string;
  /** PEM texts of the CAs whose certificates peers present (SIGNER_DKG_PEER_CA_FILE). */
  peerCaPems: readonly string[];
  /** Signer ids allowed to take part in key generation (SIGNER_DKG_PEERS); this signer must be one. */
  allowedPeers: readonly string[];
  store: KeygenVault;
  /** The durable record of the sessions begun here (read at construction, written by each begin). */
  begunSessions: BegunSessionStore;
  /**
   * How long a session lives in memory without progress (SIGNER_DKG_SESSION_TTL_MS): each step
   * completed starts it again. Also the oldest session parameters (issued_at) a begin accepts.
   */
  sessionTtlMs: number;
  /** The smallest threshold a key generation may create (SIGNER_DKG_MIN_THRESHOLD, default 2). */
  minThreshold?: number;
  /** How far the coordinator's clock may be from this one's for issued_at (default 30 s). */
  clockToleranceMs?: number;
  logger: Logger;
  /** Milliseconds since the epoch (tests). */
  clock?: () => number;
  /** Randomness of the secret polynomials (tests only: to check that no share leaves in clear). */
  random?: RandomSource;
}

type Stage = 'begun' | 'echoed' | 'dealt' | 'finished' | 'confirmed' | 'signed';

/** A session digest this signer has begun, remembered until its parameters are stale. */
interface Begun {
  /** After this time (ms, this signer's clock) a begin with those parameters is refused as stale anyway. */
  readonly until: number;
  /**
   * This participant's share of the activation signature is going or went out (in this process): its
   * pending key is kept. The pending key's sealed record says so durably before the share leaves.
   */
  shareOut: boolean;
}

/** One run on this signer, keyed by its session digest. Holds the secrets until it ends. */
interface Session {
  readonly params: KeygenParams;
  readonly digest: Uint8Array;
  readonly hex: string;
  readonly ids: readonly Identifier[];
  readonly signers: readonly string[];
  readonly me: number;
  readonly oldKey: LoadedKey | undefined;
  readonly begun: Begun;
  stage: Stage;
  busy: boolean;
  expiresAt: number;
  timer: NodeJS.Timeout | undefined;
  /** Bodies of this participant's own messages, to check the relay returned them unchanged. */
  own: Partial<Record<KeygenMessageType, Uint8Array>>;
  round1Secret?: DkgRound1SecretPackage;
  hpkeKeys?: HpkeKeyPair;
  /** Round 1 as received, by participant index. */
  round1Digests?: Uint8Array[];
  round1Packages?: Map<string, DkgRound1Package>;
  hpkePublicKeys?: Uint8Array[];
  echoSetDigest?: Uint8Array;
  round2Secret?: DkgRound2SecretPackage;
  keyPackage?: KeyPackage;
  publicKeyPackage?: PublicKeyPackage;
  pkpDigest?: Uint8Array;
  nonces?: SigningNonces;
  commitment?: SigningCommitments;
  stored: boolean;
}

/** A protocol failure: the session ends with this abort. */
class StepAbort extends Error {
  constructor(
    readonly code: KeygenAbortCode,
    message: string,
    readonly culprits: readonly string[] = [],
    readonly relayFault = false,
  ) {
    super(message);
  }
}

const relayFault = (message: string) => new StepAbort('DKG_RELAY_FAULT', message, [], true);

/** A participant of key generation on this signer. */
export class KeygenParticipant {
  readonly #signerId: string;
  readonly #signer: MessageSigner;
  readonly #peers: PeerVerifier;
  readonly #store: KeygenVault;
  readonly #ttlMs: number;
  readonly #minThreshold: number;
  readonly #toleranceMs: number;
  readonly #log: Logger;
  readonly #clock: () => number;
  readonly #random: RandomSource | undefined;
  readonly #sessions = new Map<string, Session>();
  readonly #byKey = new Map<string, string>();
  /** Session digests (hex) begun here, until their parameters are stale. */
  readonly #begun = new Map<string, Begun>();
  readonly #begunStore: BegunSessionStore;
  /** The begun sessions of earlier runs read (settles, never rejects). */
  readonly #begunLoaded: Promise<void>;
  /** Why the begun sessions could not be read: then nothing is begun. */
  #begunUnreadable: string | undefined;
  /** Writes of the begun sessions, one at a time, each of the whole record as it stands when it starts. */
  #begunWrites: Promise<unknown> = Promise.resolve();

  constructor(options: KeygenParticipantOptions) {
    const o = options;
    if (typeof o.signerId !== 'string' || !SIGNER_ID_RE.test(o.signerId)) throw new TypeError('signerId must be a signer id');
    if (!Number.isInteger(o.sessionTtlMs) || o.sessionTtlMs < 1000) throw new TypeError('sessionTtlMs must be an integer of at least 1000');
    const minThreshold = o.minThreshold ?? DEFAULT_DKG_MIN_THRESHOLD;
    if (!Number.isInteger(minThreshold) || minThreshold < 2) throw new TypeError('minThreshold must be an integer of at least 2');
    const tolerance = o.clockToleranceMs ?? DEFAULT_DKG_CLOCK_TOLERANCE_MS;
    if (!Number.isInteger(tolerance) || tolerance < 0) throw new TypeError('clockToleranceMs must be a non-negative integer');
    if (!o.allowedPeers.includes(o.signerId)) throw new TypeError(`allowedPeers must include this signer (${o.signerId})`);
    const cert = new X509Certificate(o.certDer);
    if (!(cert.subjectAltName ?? '').split(/,\s*/).includes(`DNS:${o.signerId}`)) {
      throw new TypeError(`the certificate does not carry DNS:${o.signerId}; peers would refuse its messages`);
    }
    this.#signerId = o.signerId;
    this.#signer = new MessageSigner(o.certDer, o.keyPem);
    this.#clock = o.clock ?? Date.now;
    this.#peers = new PeerVerifier({ caPems: o.peerCaPems, allowedPeers: o.allowedPeers, clock: this.#clock });
    this.#store = o.store;
    this.#ttlMs = o.sessionTtlMs;
    this.#minThreshold = minThreshold;
    this.#toleranceMs = tolerance;
    this.#log = o.logger;
    this.#random = o.random;
    this.#begunStore = o.begunSessions;
    this.#begunLoaded = this.#loadBegun();
  }

  /** Reads the sessions begun before this start; those still fresh are refused as begun. */
  async #loadBegun(): Promise<void> {
    let loaded: ReadonlyMap<string, number>;
    try {
      loaded = await this.#begunStore.load();
    } catch (e) {
      this.#begunUnreadable = (e as Error).message;
      this.#log.error({ err: this.#begunUnreadable }, 'the record of begun key generation sessions cannot be read: this signer begins no key generation');
      return;
    }
    const now = this.#clock();
    for (const [hex, until] of loaded) if (until >= now && !this.#begun.has(hex)) this.#begun.set(hex, { until, shareOut: false });
  }

  /** Writes the begun sessions durably, this one included; the write of a later begin waits for this one. */
  #recordBegun(): Promise<void> {
    const write = this.#begunWrites.then(() => this.#begunStore.save(new Map([...this.#begun].map(([hex, b]) => [hex, b.until]))));
    this.#begunWrites = write.catch(() => undefined);
    return write;
  }

  /** Runs the handler of `rpc` on a decoded body. */
  handle(rpc: KeygenRpc, body: unknown): Promise<StepAnswer<unknown>> {
    switch (rpc) {
      case 'keygenBegin':
        return this.begin(body);
      case 'keygenEcho':
        return this.echo(body);
      case 'keygenDeal':
        return this.deal(body);
      case 'keygenFinish':
        return this.finish(body);
      case 'keygenConfirm':
        return this.confirm(body);
      case 'keygenSign':
        return this.sign(body);
      case 'keygenActivate':
        return this.activate(body);
      case 'keygenAbort':
        return this.abort(body);
      case 'keyRetire':
        return this.retire(body);
      case 'keyRemove':
        return this.remove(body);
    }
  }

  /** Number of live sessions (metrics, tests). */
  get liveSessions(): number {
    return this.#sessions.size;
  }

  /** Drops every session (shutdown). Pending keys stay pending. */
  close(): void {
    for (const s of [...this.#sessions.values()]) this.#drop(s);
  }

  // --- steps ---------------------------------------------------------------------------------------

  /**
   * Step 1: checks the parameters (fresh, never begun here before, this signer in them, its peers,
   * the key), runs part 1, draws the session's HPKE key; returns the signed round-1 message.
   */
  async begin(body: unknown): Promise<StepAnswer<BeginResult>> {
    const params = parseKeygenParams(body);
    await this.#begunLoaded;
    if (this.#begunUnreadable !== undefined) {
      const window = Math.ceil((this.#ttlMs + this.#toleranceMs) / 1000);
      throw new SignerError(
        'DKG_UNAVAILABLE',
        `the record of the key generation sessions begun on this signer cannot be read (${this.#begunUnreadable}); it begins none rather than forget one. ` +
          `Fix the file, or remove it once ${window} s (the session time to live and the clock tolerance) have passed since this signer last began a session, then restart the signer`,
      );
    }
    const mine = params.participants.findIndex((p) => p.signer === this.#signerId);
    if (mine < 0) throw new SignerError('DKG_REFUSED', 'this signer is not a participant of the session');
    const strangers = params.participants.filter((p) => !this.#peers.isAllowed(p.signer)).map((p) => p.signer);
    if (strangers.length > 0) throw new SignerError('DKG_REFUSED', `not key-generation peers: ${strangers.join(', ')}`);
    let ids: Identifier[];
    try {
      ids = params.participants.map((p) => Identifier.fromBytes(p.identifier));
    } catch (e) {
      throw new SignerError('DKG_REFUSED', `participants: ${(e as Error).message}`);
    }
    if (params.kind === 'create' && params.min_signers < this.#minThreshold) {
      throw new SignerError('DKG_REFUSED', `this signer makes keys with a threshold of at least ${this.#minThreshold} (SIGNER_DKG_MIN_THRESHOLD)`);
    }
    const oldKey = this.#checkKey(params, ids[mine]!, ids);
    const digest = sessionDigest(params);
    const hex = Buffer.from(digest).toString('hex');
    const now = this.#clock();
    this.#expire();
    this.#forgetStale(now);
    const begun = this.#checkFresh(params, hex, now);
    if (this.#byKey.has(params.key_id)) throw new SignerError('DKG_BUSY', `a key generation for "${params.key_id}" is running`);
    if (this.#sessions.size >= MAX_SESSIONS) throw new SignerError('DKG_BUSY', 'too many key generations are running');

    const me = ids[mine]!;
    const n = ids.length;
    const part1Options = { participants: ids, ...(this.#random ? { rng: this.#random } : {}) };
    const part1 = params.kind === 'create' ? dkg.part1(me, n, params.min_signers, part1Options) : refreshDkgPart1(me, n, params.min_signers, part1Options);
    const session: Session = {
      params,
      digest,
      hex,
      ids,
      signers: params.participants.map((p) => p.signer),
      me: mine,
      oldKey,
      begun,
      stage: 'begun',
      busy: true,
      expiresAt: now + this.#ttlMs,
      timer: undefined,
      own: {},
      round1Secret: part1.secretPackage,
      stored: false,
    };
    // Registered before the first await: a second begin for the key meanwhile is refused as busy, and
    // the digest is begun for good (whatever happens to the session, it is never begun again).
    this.#begun.set(hex, begun);
    this.#sessions.set(hex, session);
    this.#byKey.set(params.key_id, hex);
    session.timer = setTimeout(() => this.#onExpiry(session), this.#ttlMs);
    session.timer.unref();
    try {
      try {
        await this.#recordBegun();
      } catch (e) {
        // The digest stays begun in memory; only the answer is withheld (nothing was signed).
        this.#log.error({ keyId: params.key_id, err: (e as Error).message }, 'key generation not begun: the begun session could not be recorded');
        throw new SignerError('DKG_UNAVAILABLE', 'this signer could not record the session as begun in its sealed store; nothing was begun');
      }
      session.hpkeKeys = await hpke.kem.generateKeyPair();
      const hpkePublicKey = new Uint8Array(await hpke.kem.serializePublicKey(session.hpkeKeys.publicKey));
      const round1 = this.#emit(session, {
        type: 'round1',
        session: digest,
        sender: me.toBytes(),
        package: utf8.encode(JSON.stringify(dkgRound1PackageToJson(part1.package))),
        hpke_public_key: hpkePublicKey,
      });
      this.#log.info({ keyId: params.key_id, session: hex.slice(0, 16), kind: params.kind, participants: n, minSigners: params.min_signers }, 'key generation begun');
      return { ok: { round1 } };
    } catch (e) {
      this.#drop(session);
      throw e;
    } finally {
      session.busy = false;
    }
  }

  /** Step 2: every round-1 message authentic, proofs of knowledge valid; returns the signed echo of their digests. */
  echo(body: unknown): Promise<StepAnswer<EchoResult>> {
    const req = parseEchoRequest(body);
    return this.#step(req.session, 'begun', 'echo', async (s) => {
      const received = this.#collect(s, 'round1', req.round1, true);
      const length = s.params.kind === 'create' ? s.params.min_signers : s.params.min_signers - 1;
      const packages = new Map<string, DkgRound1Package>();
      const culprits: string[] = [];
      for (const [j, { message }] of received) {
        if (j === s.me) continue;
        const sender = s.ids[j]!;
        try {
          const text = new TextDecoder('utf-8', { fatal: true }).decode(message.package);
          const pkg = dkgRound1PackageFromJson(text, { sender, commitmentLength: length });
          if (s.params.kind === 'create' && !pkg.verifyProofOfKnowledge(sender)) throw new Error('invalid proof of knowledge');
          packages.set(sender.toHex(), pkg);
        } catch {
          culprits.push(s.signers[j]!);
        }
      }
      if (culprits.length > 0) throw new StepAbort('DKG_CULPRIT', `invalid round-1 packages from ${culprits.join(', ')}`, culprits);
      s.round1Packages = packages;
      s.hpkePublicKeys = s.ids.map((_, j) => received.get(j)!.message.hpke_public_key);
      s.round1Digests = s.ids.map((_, j) => sha256(received.get(j)!.signed.body));
      const echo = this.#emit(s, { type: 'echo', session: s.digest, sender: s.ids[s.me]!.toBytes(), digests: s.round1Digests });
      s.stage = 'echoed';
      return { echo };
    });
  }

  /**
   * Step 3: every echo must list the digests this participant saw. An echo that lists another digest
   * for some participant ends the run (DKG_EQUIVOCATION) naming nobody: either that participant
   * signed two round-1 messages or the echo's signer lies, and one echo's word cannot tell which (the
   * coordinator, which relayed round 1, names a lying echo before this step). Then part 2, each share
   * sealed with HPKE to its recipient's session key, bound to the session and the agreed round 1.
   */
  deal(body: unknown): Promise<StepAnswer<DealResult>> {
    const req = parseDealRequest(body);
    return this.#step(req.session, 'echoed', 'deal', async (s) => {
      const echoes = this.#collect(s, 'echo', req.echoes, true);
      const n = s.ids.length;
      const malformed = [...echoes].filter(([, e]) => e.message.digests.length !== n).map(([j]) => s.signers[j]!);
      if (malformed.length > 0) throw new StepAbort('DKG_CULPRIT', `echoes of the wrong length from ${malformed.join(', ')}`, malformed);
      const mine = s.round1Digests!;
      const disagreements = [...echoes].flatMap(([k, e]) =>
        s.ids.flatMap((_, j) => (Buffer.compare(e.message.digests[j]!, mine[j]!) !== 0 ? [`${s.signers[k]}'s echo about ${s.signers[j]}'s`] : [])),
      );
      if (disagreements.length > 0) {
        throw new StepAbort(
          'DKG_EQUIVOCATION',
          `round-1 messages seen differently: ${disagreements.join(', ')} (a participant signed two, or an echo lies; nobody is named on one echo's word)`,
        );
      }
      s.echoSetDigest = sha256(ECHO_SET, ...mine);
      const others = s.round1Packages!;
      const dealt = this.#library(s, () => (s.params.kind === 'create' ? dkg.part2(s.round1Secret!, others) : refreshDkgPart2(s.round1Secret!, others)));
      s.round1Secret = undefined;
      s.round2Secret = dealt.secretPackage;
      const info = concat(ROUND2_INFO, s.digest, s.echoSetDigest);
      const me = s.ids[s.me]!;
      const round2: SignedMessage[] = [];
      for (let j = 0; j < n; j++) {
        if (j === s.me) continue;
        const recipient = s.ids[j]!;
        const share = dealt.packages.get(recipient.toHex())!.toBytes();
        let sealed: { enc: ArrayBuffer; ct: ArrayBuffer };
        try {
          const recipientPublicKey = await hpke.kem.deserializePublicKey(s.hpkePublicKeys![j]!);
          sealed = await hpke.seal({ recipientPublicKey, info }, share, concat(me.toBytes(), recipient.toBytes()));
        } catch {
          throw new StepAbort('DKG_CULPRIT', `the HPKE key of ${s.signers[j]} is unusable`, [s.signers[j]!]);
        } finally {
          share.fill(0);
        }
        round2.push(
          this.#emit(s, { type: 'round2', session: s.digest, sender: me.toBytes(), recipient: recipient.toBytes(), enc: new Uint8Array(sealed.enc), ciphertext: new Uint8Array(sealed.ct) }),
        );
      }
      dealt.packages.clear();
      s.stage = 'dealt';
      return { round2 };
    });
  }

  /**
   * Step 4: opens the share each other participant sealed for this one, runs part 3 (a share that
   * fails its sender's commitment names the sender), keeps the key package in memory, and returns the
   * signed confirmation of the public key package with a commitment for the activation signature.
   */
  finish(body: unknown): Promise<StepAnswer<FinishResult>> {
    const req = parseFinishRequest(body);
    return this.#step(req.session, 'dealt', 'finish', async (s) => {
      const received = this.#collect(s, 'round2', req.round2, false);
      const me = s.ids[s.me]!;
      const info = concat(ROUND2_INFO, s.digest, s.echoSetDigest!);
      const shares = new Map<string, DkgRound2Package>();
      const culprits: string[] = [];
      for (const [j, { message }] of received) {
        let plain: Uint8Array | undefined;
        try {
          plain = new Uint8Array(await hpke.open({ recipientKey: s.hpkeKeys!, enc: message.enc, info }, message.ciphertext, concat(s.ids[j]!.toBytes(), me.toBytes())));
          if (plain.length !== 32) throw new Error('share of the wrong length');
          shares.set(s.ids[j]!.toHex(), DkgRound2Package.fromBytes(plain));
        } catch {
          culprits.push(s.signers[j]!);
        } finally {
          plain?.fill(0);
        }
      }
      if (culprits.length > 0) throw new StepAbort('DKG_CULPRIT', `round-2 shares that do not open from ${culprits.join(', ')}`, culprits);
      s.hpkeKeys = undefined;
      const r1 = s.round1Packages!;
      const out = this.#library(s, () =>
        s.params.kind === 'create'
          ? dkg.part3(s.round2Secret!, r1, shares)
          : refreshDkgShares(s.round2Secret!, r1, shares, s.oldKey!.publicKeyPackage, s.oldKey!.keyPackage),
      );
      shares.clear();
      s.round2Secret = undefined;
      if (s.params.kind === 'refresh' && Buffer.compare(out.publicKeyPackage.verifyingKeyBytes, s.params.group_key!) !== 0) {
        throw new StepAbort('DKG_INTERNAL', 'the refresh changed the group key');
      }
      s.keyPackage = out.keyPackage;
      s.publicKeyPackage = out.publicKeyPackage;
      const pkpBytes = encodePublicKeyPackage(out.publicKeyPackage);
      s.pkpDigest = sha256(pkpBytes);
      const c = round1.commit(out.keyPackage.signingShare);
      s.nonces = c.nonces;
      s.commitment = c.commitments;
      const confirm = this.#emit(s, { type: 'confirm', session: s.digest, sender: me.toBytes(), pkp_digest: s.pkpDigest, public_key_package: pkpBytes });
      s.stage = 'finished';
      return { confirm, commitment: { identifier: me.toBytes(), hiding: c.commitments.hidingBytes, binding: c.commitments.bindingBytes } };
    });
  }

  /** Step 5: every confirmation names the same public key package; the key is then stored sealed, pending. */
  confirm(body: unknown): Promise<StepAnswer<EmptyResult>> {
    const req = parseConfirmRequest(body);
    return this.#step(req.session, 'finished', 'confirm', async (s) => {
      const confirms = this.#collect(s, 'confirm', req.confirms, true);
      const inconsistent = [...confirms].filter(([, c]) => Buffer.compare(sha256(c.message.public_key_package), c.message.pkp_digest) !== 0).map(([j]) => s.signers[j]!);
      if (inconsistent.length > 0) throw new StepAbort('DKG_CULPRIT', `confirmations whose digest is not their package's from ${inconsistent.join(', ')}`, inconsistent);
      const differ = [...confirms].filter(([, c]) => Buffer.compare(c.message.pkp_digest, s.pkpDigest!) !== 0).map(([j]) => s.signers[j]!);
      if (differ.length > 0) throw new StepAbort('DKG_CONFIRMATION_MISMATCH', `different public key packages from ${differ.join(', ')}`, differ);
      const key: LoadedKey = {
        keyId: s.params.key_id,
        keyPackage: s.keyPackage!,
        publicKeyPackage: s.publicKeyPackage!,
        state: 'pending',
        version: s.oldKey ? (s.oldKey.version ?? 1) + 1 : 1,
        createdAt: this.#clock(),
      };
      try {
        await this.#store.storePending(key, s.hex);
      } catch (e) {
        this.#log.error({ keyId: s.params.key_id, err: { name: (e as Error)?.name, message: (e as Error)?.message } }, 'pending key not stored');
        throw new StepAbort('DKG_INTERNAL', 'the key could not be stored');
      }
      s.stored = true;
      s.stage = 'confirmed';
      return {};
    });
  }

  /**
   * Step 6: this participant's share of the activation message, signed with the new share, over the
   * commitments of every participant. The nonce is used once: the step cannot be repeated.
   */
  sign(body: unknown): Promise<StepAnswer<SignResult>> {
    const req = parseSignRequest(body);
    return this.#step(req.session, 'confirmed', 'sign', async (s) => {
      s.stage = 'signed';
      const nonces = s.nonces!;
      s.nonces = undefined;
      try {
        if (req.commitments.length !== s.ids.length) throw relayFault(`the activation needs the commitments of all ${s.ids.length} participants`);
        let pkg: SigningPackage;
        try {
          const entries = req.commitments.map((c) => {
            const identifier = Identifier.fromBytes(c.identifier);
            return { identifier, commitments: SigningCommitments.fromBytes(c.hiding, c.binding) };
          });
          pkg = new SigningPackage(entries, activationMessage(s.digest, s.pkpDigest!));
        } catch {
          throw relayFault('the activation commitments are not valid');
        }
        if (!s.ids.every((id) => pkg.commitmentsOf(id) !== undefined)) throw relayFault('the activation commitments are not those of the participants');
        if (!pkg.commitmentsOf(s.ids[s.me]!)!.equals(s.commitment!)) throw relayFault('the activation commitment listed for this participant is not its own');
        const share = round2.sign(pkg, nonces, s.keyPackage!);
        // From here the activation signature may exist: this participant's pending key is kept, in
        // memory at once (an abort meanwhile keeps it) and in its sealed record before the share leaves.
        s.begun.shareOut = true;
        try {
          await this.#store.markActivationShareGiven(s.params.key_id, s.hex);
        } catch (e) {
          s.begun.shareOut = false;
          throw e;
        }
        return { share: share.toBytes() };
      } finally {
        nonces.discard();
      }
    });
  }

  /**
   * Step 7: the activation signature verified here under the pending key's own group key, over the
   * activation message rebuilt from the stored pending record (its session digest and public key
   * package); then the key is made active. Needs no live session: an activation cut by a session's
   * expiry or a restart can be re-sent. Re-sent after it completed, it answers ok.
   */
  async activate(body: unknown): Promise<StepAnswer<EmptyResult>> {
    const req = parseActivateRequest(body);
    this.#expire();
    if (this.#sessions.has(Buffer.from(req.session).toString('hex'))) {
      return this.#step(req.session, 'signed', 'activate', async (s) => {
        if (s.params.key_id !== req.key_id) throw relayFault(`the activation names key "${req.key_id}", the session makes "${s.params.key_id}"`);
        await this.#activatePending(req.session, req.key_id, req.signature);
        s.stored = false;
        this.#drop(s);
        return {};
      });
    }
    try {
      await this.#activatePending(req.session, req.key_id, req.signature);
      return { ok: {} };
    } catch (e) {
      if (!(e instanceof StepAbort)) throw e;
      this.#log.warn({ keyId: req.key_id, session: Buffer.from(req.session).toString('hex').slice(0, 16), step: 'activate', code: e.code, relayFault: e.relayFault }, 'key not activated');
      return { abort: { code: e.code, message: `activate: ${e.message}`, culprits: [], relay_fault: e.relayFault } };
    }
  }

  /**
   * Drops the session. The pending key it stored is removed too, unless this participant gave its
   * share of the activation signature (its sealed record says so, or the sign step is under way):
   * that key is kept, unusable, until activated. Idempotent.
   */
  async abort(body: unknown): Promise<StepAnswer<EmptyResult>> {
    const req = parseAbortRequest(body);
    const hex = Buffer.from(req.session).toString('hex');
    const s = this.#sessions.get(hex);
    if (s) this.#drop(s);
    const pending = this.#store.getPending(req.key_id);
    const log = { keyId: s?.params.key_id ?? req.key_id, session: hex.slice(0, 16) };
    if (this.#begun.get(hex)?.shareOut || (pending?.sessionId === hex && pending.activationShareGiven)) {
      // The activation signature may exist, and the key be active elsewhere (a refresh: the old shares replaced).
      if (pending?.sessionId === hex) {
        this.#log.warn(log, 'key generation aborted by the coordinator after this signer may have given its activation share: its pending key is kept');
      } else if (s) this.#log.info(log, 'key generation aborted by the coordinator');
      return { ok: {} };
    }
    await this.#store.discardPending(req.key_id, hex);
    if (s && s.params.key_id !== req.key_id) await this.#store.discardPending(s.params.key_id, hex);
    if (s) this.#log.info(log, 'key generation aborted by the coordinator');
    return { ok: {} };
  }

  /** Retires a key: it signs nothing more; its public key stays published. */
  /** Deletes a retired key's share (the request has the retire request's shape). */
  async remove(body: unknown): Promise<StepAnswer<EmptyResult>> {
    const req = parseRetireRequest(body);
    await this.#store.remove(req.key_id);
    this.#log.warn({ keyId: req.key_id }, 'retired key removed: its share is deleted');
    return { ok: {} };
  }

  async retire(body: unknown): Promise<StepAnswer<EmptyResult>> {
    const req = parseRetireRequest(body);
    await this.#store.retire(req.key_id);
    this.#log.info({ keyId: req.key_id }, 'key retired');
    return { ok: {} };
  }

  // --- helpers -------------------------------------------------------------------------------------

  /**
   * Create: no active or retired key of that id. Refresh: the active key, with that group key,
   * identifier and threshold. Either: no pending version of that id whose activation share was given.
   */
  #checkKey(params: KeygenParams, me: Identifier, ids: readonly Identifier[]): LoadedKey | undefined {
    const kept = this.#store.getPending(params.key_id);
    if (kept?.activationShareGiven) throw pendingShareGivenError(params.key_id, kept.sessionId);
    const held = this.#store.get(params.key_id);
    if (params.kind === 'create') {
      if (held) throw new SignerError('KEY_EXISTS', `key "${params.key_id}" exists`);
      return undefined;
    }
    if (!held) throw new SignerError('UNKNOWN_KEY', `no key "${params.key_id}" on this signer`);
    if (held.state === 'retired') throw new SignerError('KEY_RETIRED', `key "${params.key_id}" is retired`);
    if (held.state !== undefined && held.state !== 'active') throw new SignerError('KEY_NOT_ACTIVE', `key "${params.key_id}" is not active`);
    if (Buffer.compare(held.publicKeyPackage.verifyingKeyBytes, params.group_key!) !== 0) throw new SignerError('DKG_REFUSED', 'group_key is not the key held');
    if (!held.keyPackage.identifier.equals(me)) throw new SignerError('DKG_REFUSED', 'the identifier listed for this signer is not its identifier for the key');
    if (held.keyPackage.minSigners !== params.min_signers) throw new SignerError('DKG_REFUSED', `a refresh keeps the threshold (${held.keyPackage.minSigners})`);
    const shares = held.publicKeyPackage.verifyingShares;
    if (ids.length !== shares.size || !ids.every((id) => shares.has(id.toHex()))) {
      // A refresh leaving a holder out would remove its share from the key set; the key's every holder takes part.
      throw new SignerError('DKG_REFUSED', `a refresh takes every holder of the key: the participants must be exactly its ${shares.size} identifiers`);
    }
    return held;
  }

  /**
   * Fresh parameters never begun here: issued_at within the session time to live (plus the clock
   * tolerance) before this signer's clock and at most the tolerance after it, and the digest not
   * begun here before. Returns the record to remember the digest by, until the parameters are stale.
   */
  #checkFresh(params: KeygenParams, hex: string, now: number): Begun {
    const issued = params.issued_at * 1000;
    if (issued > now + this.#toleranceMs) throw new SignerError('DKG_REFUSED', `the session parameters are issued in the future (issued_at ${params.issued_at}; this signer's clock says ${Math.floor(now / 1000)})`);
    if (now - issued > this.#ttlMs + this.#toleranceMs) throw new SignerError('DKG_REFUSED', `the session parameters are stale (issued_at ${params.issued_at}; this signer's clock says ${Math.floor(now / 1000)})`);
    if (this.#begun.has(hex)) throw new SignerError('DKG_REFUSED', 'this session was begun on this signer before; a session is begun once (a new attempt needs new parameters)');
    if (this.#begun.size >= MAX_BEGUN) throw new SignerError('DKG_BUSY', 'too many key generations were begun lately');
    return { until: issued + this.#ttlMs + this.#toleranceMs, shareOut: false };
  }

  /** Forgets the begun digests whose parameters are stale (a begin would refuse them anyway) and whose session ended. */
  #forgetStale(now: number): void {
    for (const [hex, b] of this.#begun) if (now > b.until && !this.#sessions.has(hex)) this.#begun.delete(hex);
  }

  /**
   * Runs a step on a live session in the stage it expects: an abort (or a step out of order, which
   * only a relay makes) ends the session and answers the abort.
   */
  async #step<T>(digest: Uint8Array, stage: Stage, step: string, run: (s: Session) => Promise<T>): Promise<StepAnswer<T>> {
    const s = this.#live(digest);
    if (s.busy) throw new SignerError('DKG_BUSY', 'a step of this session is running');
    s.busy = true;
    try {
      if (s.stage !== stage) throw relayFault(`${step} is out of order (the session is at ${s.stage})`);
      const ok = await run(s);
      this.#progressed(s);
      return { ok };
    } catch (e) {
      if (!(e instanceof StepAbort)) {
        // Not a protocol failure of the peers: this signer failed. The session cannot go on.
        this.#log.error({ keyId: s.params.key_id, step, err: { name: (e as Error)?.name, message: (e as Error)?.message } }, 'key generation step failed');
        e = new StepAbort('DKG_INTERNAL', `${step} failed on this signer`);
      }
      return { abort: await this.#fail(s, step, e as StepAbort) };
    } finally {
      s.busy = false;
    }
  }

  async #fail(s: Session, step: string, e: StepAbort): Promise<KeygenAbort> {
    // Never itself: what it sent is checked byte for byte, so a fault "of its own" is the relay's.
    const culprits = e.culprits.filter((c) => c !== this.#signerId);
    const abort: KeygenAbort = { code: e.code, message: `${step}: ${e.message}`, culprits, relay_fault: e.relayFault || culprits.length < e.culprits.length };
    this.#log.warn({ keyId: s.params.key_id, session: s.hex.slice(0, 16), step, code: e.code, culprits, relayFault: abort.relay_fault }, 'key generation aborted');
    this.#drop(s);
    if (s.stored && s.begun.shareOut) {
      this.#log.warn({ keyId: s.params.key_id, session: s.hex.slice(0, 16) }, 'its activation share was given: the pending key is kept');
    } else if (s.stored) {
      await this.#store.discardPending(s.params.key_id, s.hex).catch((err: Error) => this.#log.error({ keyId: s.params.key_id, err: { name: err.name, message: err.message } }, 'pending key not discarded'));
    }
    return abort;
  }

  /** A step completed: the session's time to live starts again. */
  #progressed(s: Session): void {
    if (this.#sessions.get(s.hex) !== s) return;
    s.expiresAt = this.#clock() + this.#ttlMs;
    if (s.timer) clearTimeout(s.timer);
    s.timer = setTimeout(() => this.#onExpiry(s), this.#ttlMs);
    s.timer.unref();
  }

  /**
   * Activates the pending key `keyId` of session `digest` after verifying `signature` over the
   * activation message under that pending key's group key. Already active from that session: done.
   */
  async #activatePending(digest: Uint8Array, keyId: string, signature: Uint8Array): Promise<void> {
    const hex = Buffer.from(digest).toString('hex');
    const pending = this.#store.getPending(keyId);
    if (!pending || pending.sessionId !== hex) {
      if (this.#store.activeSession(keyId) === hex) return;
      throw new SignerError('DKG_SESSION_UNKNOWN', `no pending key "${keyId}" of this session on this signer`);
    }
    const message = activationMessage(digest, sha256(encodePublicKeyPackage(pending.publicKeyPackage)));
    if (!verifyEd25519(pending.publicKeyPackage.verifyingKeyBytes, message, signature)) {
      throw new StepAbort('DKG_ACTIVATION_FAILED', 'the activation signature does not verify under the new key', [], true);
    }
    try {
      await this.#store.activate(keyId, hex, signature);
    } catch (e) {
      this.#log.error({ keyId, err: { name: (e as Error)?.name, message: (e as Error)?.message } }, 'key not activated');
      throw new StepAbort('DKG_INTERNAL', 'the key could not be activated');
    }
    this.#log.info({ keyId, session: hex.slice(0, 16), version: this.#store.get(keyId)?.version }, 'key activated');
  }

  #live(digest: Uint8Array): Session {
    this.#expire();
    const s = this.#sessions.get(Buffer.from(digest).toString('hex'));
    if (!s) throw new SignerError('DKG_SESSION_UNKNOWN', 'no live key generation session with this digest');
    return s;
  }

  #expire(): void {
    const now = this.#clock();
    for (const s of [...this.#sessions.values()]) if (now > s.expiresAt && !s.busy) this.#onExpiry(s);
  }

  /** An expired session: memory only (a pending key it stored stays pending, unusable, until replaced or aborted). */
  #onExpiry(s: Session): void {
    if (this.#sessions.get(s.hex) !== s) return;
    this.#log.info({ keyId: s.params.key_id, session: s.hex.slice(0, 16), stage: s.stage }, 'key generation session expired');
    this.#drop(s);
  }

  /** Ends a session: forgets it and every secret it holds. */
  #drop(s: Session): void {
    if (this.#sessions.get(s.hex) === s) this.#sessions.delete(s.hex);
    if (this.#byKey.get(s.params.key_id) === s.hex) this.#byKey.delete(s.params.key_id);
    if (s.timer) clearTimeout(s.timer);
    s.nonces?.discard();
    s.nonces = undefined;
    s.round1Secret = undefined;
    s.round2Secret = undefined;
    s.hpkeKeys = undefined;
    s.keyPackage = undefined;
    s.round1Packages = undefined;
  }

  /** Signs a message of this participant, remembering its body. */
  #emit(s: Session, m: KeygenMessage): SignedMessage {
    const body = encodeKeygenMessage(m);
    s.own[m.type] = body;
    return this.#signer.sign(m.type, body);
  }

  /**
   * The messages of `type` a step received, by participant index: each authentic (signed by the
   * participant its `sender` names, with a certificate this signer accepts), of this session, this
   * participant's own (when `withOwn`) exactly as it sent it, one per participant and none missing.
   * Round-2 messages must be addressed to this participant. Anything the relay could have altered,
   * replayed or misaddressed is a relay fault; two different authentic messages of one participant
   * for one slot (type, sender and, for round 2, recipient) are its equivocation.
   */
  #collect<T extends KeygenMessageType>(s: Session, type: T, messages: readonly SignedMessage[], withOwn: boolean): Map<number, { signed: SignedMessage; message: Extract<KeygenMessage, { type: T }> }> {
    const out = new Map<number, { signed: SignedMessage; message: Extract<KeygenMessage, { type: T }> }>();
    for (const signed of messages) {
      let message: Extract<KeygenMessage, { type: T }>;
      try {
        message = decodeKeygenMessage(type, signed.body);
      } catch {
        const signer = this.#authenticAs(s, signed, type);
        if (signer !== undefined && signer !== this.#signerId) throw new StepAbort('DKG_CULPRIT', `an unreadable ${type} message signed by ${signer}`, [signer]);
        throw relayFault(`an unreadable ${type} message`);
      }
      const j = s.ids.findIndex((id) => Buffer.compare(id.toBytes(), message.sender) === 0);
      if (j < 0) throw relayFault(`a ${type} message from a sender outside the session`);
      try {
        this.#peers.verify(signed, s.signers[j]!, type);
      } catch (e) {
        if (e instanceof PeerIdentityError) throw relayFault(`a ${type} message not authentic as ${s.signers[j]}'s: ${e.message}`);
        throw e;
      }
      if (Buffer.compare(message.session, s.digest) !== 0) throw relayFault(`a ${type} message of ${s.signers[j]} from another session`);
      // Checked before any duplicate: two messages of one sender to different recipients are no equivocation.
      const inner: KeygenMessage = message;
      if (inner.type === 'round2' && Buffer.compare(inner.recipient, s.ids[s.me]!.toBytes()) !== 0) {
        throw relayFault(`a round2 message of ${s.signers[j]} addressed to another participant was delivered here`);
      }
      if (j === s.me) {
        if (!withOwn) throw relayFault(`this participant's own ${type} message was delivered back to it`);
        if (Buffer.compare(signed.body, s.own[type]!) !== 0) throw relayFault(`this participant's own ${type} message was changed`);
      }
      const seen = out.get(j);
      if (seen) {
        if (Buffer.compare(seen.signed.body, signed.body) !== 0) {
          throw new StepAbort('DKG_EQUIVOCATION', `${s.signers[j]} signed two different ${type} messages`, [s.signers[j]!]);
        }
        throw relayFault(`the ${type} message of ${s.signers[j]} was delivered twice`);
      }
      out.set(j, { signed, message });
    }
    if (withOwn && !out.has(s.me)) throw relayFault(`this participant's own ${type} message was not delivered back to it`);
    const missing = s.signers.filter((_, j) => j !== s.me && !out.has(j));
    if (missing.length > 0) {
      // This participant cannot tell a message the relay dropped from one never sent: both are named.
      throw new StepAbort('DKG_MISSING_MESSAGE', `no ${type} message from ${missing.join(', ')}`, missing, true);
    }
    return out;
  }

  /** The signer id of the participant that signed an unreadable message, if any did. */
  #authenticAs(s: Session, signed: SignedMessage, type: KeygenMessageType): string | undefined {
    return s.signers.find((signer) => {
      try {
        this.#peers.verify(signed, signer, type);
        return true;
      } catch {
        return false;
      }
    });
  }

  /** A protocol library call: its culprits (identifiers) become signer ids. */
  #library<T>(s: Session, f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof FrostError && e.culprits.length > 0) {
        const culprits = e.culprits.map((hex) => s.signers[s.ids.findIndex((id) => id.toHex() === hex)] ?? hex);
        throw new StepAbort('DKG_CULPRIT', `${e.code}: ${e.message}`, culprits);
      }
      throw e;
    }
  }
}

/** The keygen RPC of each path. */
export const KEYGEN_RPC_OF_PATH = new Map<string, KeygenRpc>(Object.entries(KEYGEN_PATHS).map(([rpc, path]) => [path, rpc as KeygenRpc]));

function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}
