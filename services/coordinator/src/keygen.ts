/**
 * The coordinator's side of dealerless key generation and refresh: it chooses the session (random
 * session id, participant identifiers) and relays the signers' signed messages between the steps
 * (begin, echo, deal, finish, confirm, sign, activate). It is an untrusted relay by design: the signers
 * check every message themselves (authenticity by their certificates, the session digest, echoes
 * against equivocation, HPKE for the shares), so this module can make a run fail but never make it
 * succeed with a key it knows, and never sees a share. What it checks (every answer's shape, that
 * each signer speaks for its own slot, that the confirmations agree, and the activation signature,
 * share by share and then with node:crypto) is there to name a misbehaving signer early and to send
 * `activate` only for a signature that verifies. It also checks every echo against the round-1
 * messages it relayed (the same set to every participant): an echo that lists another digest names
 * its own signer, before `deal`, as the signers themselves name nobody on one echo's word.
 *
 * On a failure before the activation signature is made, every participant is sent `abort` (best
 * effort: it drops the session and the pending key), and {@link KeygenFailed} says which step
 * failed, why (a stable code), whom the signers named and whether they saw the relay at fault. Once
 * the activation signature verifies, nothing is aborted: the key may be active on some participants
 * already, and a refresh's activation replaces the old shares. `activate` is retried for the
 * participants that failed; those still failing are reported (DKG_ACTIVATION_INCOMPLETE, with the
 * signature and session digest) to be activated later with {@link activateKey}.
 * @module
 */
import { createPublicKey, randomBytes, verify as nodeVerify } from 'node:crypto';
import {
  FrostError,
  Identifier,
  SignatureShare,
  SigningCommitments,
  SigningPackage,
  aggregate,
  type PublicKeyPackage,
} from '@hoarfrost/frost';
import {
  KEYGEN_PATHS,
  KEY_ID_RE,
  MAX_KEYGEN_PARTICIPANTS,
  SignerCallError,
  activationMessage,
  compareIdentifierBytes,
  decodeKeygenMessage,
  decodePublicKeyPackage,
  isKeygenAbort,
  parseBeginAnswer,
  parseDealAnswer,
  parseEchoAnswer,
  parseEmptyAnswer,
  parseFinishAnswer,
  parseSignAnswer,
  sessionDigest,
  sha256,
  type ActivationCommitmentWire,
  type KeygenAbort,
  type KeygenKind,
  type KeygenParams,
  type SignedMessage,
  type StepAnswer,
} from '@hoarfrost/rpc';

/** One participant as the driver reaches it: a CBOR RPC (with its token) to that signer. */
export interface KeygenTransport {
  /** The signer id (registry id, certificate SAN). */
  readonly id: string;
  /** Sends `body` (CBOR-encoded by the transport) to `path` and returns the decoded answer body. */
  call(path: string, body: unknown, signal?: AbortSignal): Promise<unknown>;
}

export type KeygenStep = 'begin' | 'echo' | 'deal' | 'finish' | 'confirm' | 'sign' | 'activate';

export interface KeygenProgress {
  step: KeygenStep;
  detail: string;
}

export interface RunKeygenOptions {
  kind: KeygenKind;
  keyId: string;
  minSigners: number;
  /**
   * The signers taking part. Create: numbered 1..n in this order. Refresh: each with its identifier
   * for the key (what its info RPC reports).
   */
  participants: readonly { id: string; rpc: KeygenTransport; identifier?: Uint8Array }[];
  /** Refresh: the group verifying key that must stay. */
  groupKey?: Uint8Array;
  onProgress?: (progress: KeygenProgress) => void;
  /**
   * Cuts the run before its activation (then every participant is sent abort). Once the activation
   * signature is made, activation runs to its end (bounded by the step timeout) whatever the signal.
   */
  signal?: AbortSignal;
  /** Time each step may take across all participants (default 30 000 ms); activation's retries included. */
  stepTimeoutMs?: number;
  /** 32 random bytes (tests); default node:crypto. */
  randomSessionId?: () => Uint8Array;
  /** Milliseconds since the epoch, for the parameters' issued_at (tests); default Date.now. */
  clock?: () => number;
}

export interface KeygenResult {
  keyId: string;
  kind: KeygenKind;
  publicKeyPackage: PublicKeyPackage;
  /** Its canonical encoding, as every participant confirmed it. */
  publicKeyPackageBytes: Uint8Array;
  /** The group verifying key (32 bytes). */
  verifyingKey: Uint8Array;
  minSigners: number;
  /** Signer id and identifier (hex) of each participant, in identifier order. */
  participants: { id: string; identifier: string }[];
  sessionDigest: Uint8Array;
  /** The signature of the activation message that every participant verified. */
  activationSignature: Uint8Array;
}

/** Stable codes of a failed run. */
export type KeygenFailureCode =
  | KeygenAbort['code']
  | 'DKG_TIMEOUT'
  | 'DKG_SIGNER_UNREACHABLE'
  | 'DKG_SIGNER_REFUSED'
  | 'DKG_INVALID_OPTIONS'
  /** The key is active on some participants, not yet on the others: re-send activate to them. */
  | 'DKG_ACTIVATION_INCOMPLETE';

/** What one participant reported when a step failed. */
export interface KeygenReport {
  signer: string;
  code: string;
  message: string;
  culprits: string[];
  relayFault: boolean;
}

/**
 * A run that did not produce a key active on every participant. Nothing was activated unless the code
 * is DKG_ACTIVATION_INCOMPLETE: then the key is active on `activated`, pending on `notActivated`,
 * and `activationSignature` with `sessionDigest` activate it there ({@link activateKey}).
 */
export class KeygenFailed extends Error {
  override name = 'KeygenFailed';
  readonly code: KeygenFailureCode;
  /** Signer ids named at fault. */
  readonly culprits: string[];
  /** A participant saw the relay deliver something no honest participant sent. */
  readonly relayFault: boolean;
  readonly step: KeygenStep | 'options';
  /**
   * For a signer refusal (DKG_SIGNER_REFUSED): the signer's documented error code (KEY_EXISTS,
   * DKG_BUSY, UNKNOWN_KEY, ...).
   */
  readonly signerCode: string | undefined;
  /** Each participant's own report of the failed step. */
  readonly reports: KeygenReport[];
  /** DKG_ACTIVATION_INCOMPLETE: the session digest of the run (what `activate` names). */
  readonly sessionDigest: Uint8Array | undefined;
  /** DKG_ACTIVATION_INCOMPLETE: the verified activation signature to re-send. */
  readonly activationSignature: Uint8Array | undefined;
  /** DKG_ACTIVATION_INCOMPLETE: the participants whose key is active. */
  readonly activated: string[];
  /** DKG_ACTIVATION_INCOMPLETE: the participants whose key is still pending. */
  readonly notActivated: string[];
  constructor(args: {
    code: KeygenFailureCode;
    message: string;
    culprits?: string[];
    relayFault?: boolean;
    step: KeygenStep | 'options';
    signerCode?: string;
    reports?: KeygenReport[];
    sessionDigest?: Uint8Array;
    activationSignature?: Uint8Array;
    activated?: string[];
    notActivated?: string[];
  }) {
    super(args.message);
    this.code = args.code;
    this.culprits = args.culprits ?? [];
    this.relayFault = args.relayFault ?? false;
    this.step = args.step;
    this.signerCode = args.signerCode;
    this.reports = args.reports ?? [];
    this.sessionDigest = args.sessionDigest;
    this.activationSignature = args.activationSignature;
    this.activated = args.activated ?? [];
    this.notActivated = args.notActivated ?? [];
  }
}

interface Participant {
  id: string;
  rpc: KeygenTransport;
  identifier: Identifier;
}

/**
 * Runs one key generation (or refresh) to a key active on every participant. Throws KeygenFailed:
 * before the activation signature is made, after aborting the run everywhere; after it, never
 * aborting, with DKG_ACTIVATION_INCOMPLETE when some participants could not be activated.
 */
export async function runKeygen(options: RunKeygenOptions): Promise<KeygenResult> {
  const { participants, params } = plan(options);
  const digest = sessionDigest(params);
  const run = new Run(options, participants, digest);
  try {
    return await run.drive(params);
  } catch (e) {
    // Past the activation signature an abort could leave fewer than t shares of either version.
    if (!run.activating) await run.abortAll();
    if (e instanceof KeygenFailed) throw e;
    throw new KeygenFailed({ code: 'DKG_INTERNAL', message: `key generation failed: ${(e as Error)?.message ?? String(e)}`, step: run.step });
  }
}

export interface ActivateKeyOptions {
  keyId: string;
  /** The session digest of the run that made the pending key. */
  sessionDigest: Uint8Array;
  /** Its activation signature (each participant verifies it under the pending key itself). */
  activationSignature: Uint8Array;
  /** The participants to activate the key on. */
  participants: readonly { id: string; rpc: KeygenTransport }[];
  /** Time all attempts may take together (default 30 000 ms). */
  timeoutMs?: number;
  /** Attempts per participant (default 4), with a doubling pause between them. */
  attempts?: number;
  /** Stops further attempts. */
  signal?: AbortSignal;
}

/**
 * Sends `activate` to each participant, again to those that failed (a few attempts with a doubling
 * pause, all within the timeout). A participant whose key that session already made active answers
 * ok, so re-sending to every participant is harmless. Returns the participants activated; throws
 * KeygenFailed DKG_ACTIVATION_INCOMPLETE naming those still pending (never aborts anything).
 */
export async function activateKey(o: ActivateKeyOptions): Promise<{ activated: string[] }> {
  const timeoutMs = o.timeoutMs ?? 30_000;
  const attempts = o.attempts ?? 4;
  const deadline = Date.now() + timeoutMs;
  const body = { session: o.sessionDigest, key_id: o.keyId, signature: o.activationSignature };
  let left = [...o.participants];
  const activated: string[] = [];
  let reports: KeygenReport[] = [];
  for (let attempt = 0; attempt < attempts && left.length > 0; attempt++) {
    if (attempt > 0) {
      const pause = Math.min(ACTIVATE_RETRY_MS * 2 ** (attempt - 1), deadline - Date.now());
      if (pause <= 0 || o.signal?.aborted) break;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    const signal = o.signal ? AbortSignal.any([o.signal, AbortSignal.timeout(remaining)]) : AbortSignal.timeout(remaining);
    const outcomes = await Promise.all(left.map((p) => callStep(p, [KEYGEN_PATHS.keygenActivate, body], (v) => parseEmptyAnswer(v, 'activate answer'), () => undefined, signal)));
    reports = outcomes.flatMap((out) => ('ok' in out ? [] : [out.report]));
    activated.push(...left.filter((_, i) => 'ok' in outcomes[i]!).map((p) => p.id));
    left = left.filter((_, i) => !('ok' in outcomes[i]!));
  }
  if (left.length === 0) return { activated };
  const notActivated = left.map((p) => p.id);
  throw new KeygenFailed({
    code: 'DKG_ACTIVATION_INCOMPLETE',
    message:
      `activate: key "${o.keyId}" is active on ${activated.length > 0 ? activated.join(', ') : 'no participant'} and still pending on ${notActivated.join(', ')} ` +
      `(${reports.map((r) => `${r.signer}: ${r.code}: ${r.message}`).join('; ')}); the key is active where activated, and the others can be activated later by ` +
      `re-sending activate with this session digest and activation signature`,
    culprits: notActivated,
    relayFault: reports.some((r) => r.relayFault),
    step: 'activate',
    reports,
    sessionDigest: o.sessionDigest,
    activationSignature: o.activationSignature,
    activated,
    notActivated,
  });
}

/** First pause before activate is sent again to a participant that failed it. */
const ACTIVATE_RETRY_MS = 100;

/** Checks the options and fixes the participants' identifiers and the session parameters. */
function plan(o: RunKeygenOptions): { participants: Participant[]; params: KeygenParams } {
  const bad = (message: string) => new KeygenFailed({ code: 'DKG_INVALID_OPTIONS', message, step: 'options' });
  if (o.kind !== 'create' && o.kind !== 'refresh') throw bad('kind must be create or refresh');
  if (typeof o.keyId !== 'string' || !KEY_ID_RE.test(o.keyId)) throw bad(`key id must match ${KEY_ID_RE.source}`);
  const n = o.participants.length;
  if (n < 2 || n > MAX_KEYGEN_PARTICIPANTS) throw bad(`between 2 and ${MAX_KEYGEN_PARTICIPANTS} participants are needed`);
  if (new Set(o.participants.map((p) => p.id)).size !== n) throw bad('participants must be distinct signers');
  if (!Number.isInteger(o.minSigners) || o.minSigners < 2 || o.minSigners > n) throw bad(`the threshold must be between 2 and ${n}`);
  let participants: Participant[];
  try {
    participants = o.participants.map((p, i) => {
      if (o.kind === 'create') return { id: p.id, rpc: p.rpc, identifier: Identifier.fromNumber(i + 1) };
      if (!p.identifier) throw new Error(`a refresh needs the identifier of ${p.id}`);
      return { id: p.id, rpc: p.rpc, identifier: Identifier.fromBytes(p.identifier) };
    });
  } catch (e) {
    throw bad((e as Error).message);
  }
  participants.sort((a, b) => compareIdentifierBytes(a.identifier.toBytes(), b.identifier.toBytes()));
  if (new Set(participants.map((p) => p.identifier.toHex())).size !== n) throw bad('participants must have distinct identifiers');
  const sessionId = (o.randomSessionId ?? (() => new Uint8Array(randomBytes(32))))();
  if (!(sessionId instanceof Uint8Array) || sessionId.length !== 32) throw bad('the session id must be 32 bytes');
  const params: KeygenParams = {
    session_id: sessionId,
    // Each signer begins only parameters issued recently by its clock, and each digest once.
    issued_at: Math.floor((o.clock ?? Date.now)() / 1000),
    kind: o.kind,
    key_id: o.keyId,
    min_signers: o.minSigners,
    participants: participants.map((p) => ({ identifier: p.identifier.toBytes(), signer: p.id })),
  };
  if (o.kind === 'refresh') {
    if (!(o.groupKey instanceof Uint8Array) || o.groupKey.length !== 32) throw bad('a refresh needs the 32-byte group key');
    params.group_key = o.groupKey;
  } else if (o.groupKey !== undefined) throw bad('a group key belongs to a refresh only');
  return { participants, params };
}

/** Why one participant's step did not give a usable result. */
type Outcome<T> = { ok: T } | { report: KeygenReport; kind: 'abort' | 'refused' | 'timeout' | 'unreachable' | 'bad-answer' };

/** One participant's call of a step: its answer parsed and `check`ed, or why it gave none usable. */
async function callStep<P extends { id: string; rpc: KeygenTransport }, A, R>(
  p: P,
  [path, body]: [string, unknown],
  parse: (v: unknown) => StepAnswer<A>,
  check: (p: P, ok: A) => R,
  signal: AbortSignal,
): Promise<Outcome<R>> {
  const report = (code: string, message: string, culprits: string[] = [], relayFault = false): KeygenReport => ({ signer: p.id, code, message, culprits, relayFault });
  let raw: unknown;
  try {
    raw = await p.rpc.call(path, body, signal);
  } catch (e) {
    if (e instanceof SignerCallError) {
      if (e.code === 'SIGNER_TIMEOUT') return { kind: 'timeout', report: report('DKG_TIMEOUT', e.message, [p.id]) };
      if (e.code === 'SIGNER_UNREACHABLE') return { kind: 'unreachable', report: report('DKG_SIGNER_UNREACHABLE', e.message, [p.id]) };
      if (e.code === 'SIGNER_BAD_RESPONSE' || e.code === 'SIGNER_INVALID_RESPONSE' || e.code === 'SIGNER_ERROR' || e.code === 'INTERNAL') {
        return { kind: 'bad-answer', report: report(e.code, e.message, [p.id]) };
      }
      return { kind: 'refused', report: report(e.code, e.message) };
    }
    if (signal.aborted) return { kind: 'timeout', report: report('DKG_TIMEOUT', `${p.id}: no answer in time`, [p.id]) };
    return { kind: 'unreachable', report: report('DKG_SIGNER_UNREACHABLE', `${p.id}: ${(e as Error)?.message ?? String(e)}`, [p.id]) };
  }
  let answer: StepAnswer<A>;
  try {
    answer = parse(raw);
  } catch (e) {
    return { kind: 'bad-answer', report: report('DKG_CULPRIT', `${p.id} answered malformed: ${(e as Error).message}`, [p.id]) };
  }
  if (isKeygenAbort(answer)) {
    const a = answer.abort;
    return { kind: 'abort', report: report(a.code, `${p.id}: ${a.message}`, a.culprits, a.relay_fault) };
  }
  try {
    return { ok: check(p, answer.ok) };
  } catch (e) {
    return { kind: 'bad-answer', report: report('DKG_CULPRIT', `${p.id}: ${(e as Error).message}`, [p.id]) };
  }
}

/** One run's state: the participants, the session, the step it is at. */
class Run {
  step: KeygenStep = 'begin';
  /** The activation signature verified: from here nothing is aborted. */
  activating = false;
  readonly #o: RunKeygenOptions;
  readonly #ps: Participant[];
  readonly #digest: Uint8Array;
  readonly #timeoutMs: number;

  constructor(o: RunKeygenOptions, participants: Participant[], digest: Uint8Array) {
    this.#o = o;
    this.#ps = participants;
    this.#digest = digest;
    this.#timeoutMs = o.stepTimeoutMs ?? 30_000;
  }

  async drive(params: KeygenParams): Promise<KeygenResult> {
    const ps = this.#ps;
    const n = ps.length;
    const session = this.#digest;

    this.#enter('begin', `${params.kind} ${params.key_id}: ${params.min_signers} of ${n} (${ps.map((p) => p.id).join(', ')})`);
    const round1 = await this.#all((p) => [KEYGEN_PATHS.keygenBegin, params], parseBeginAnswer, (p, r) => this.#own(p, 'round1', r.round1).signed);

    this.#enter('echo', `${n} round-1 messages to each participant`);
    const relayed = round1.map((m) => sha256(m.body));
    const echoes = await this.#all(() => [KEYGEN_PATHS.keygenEcho, { session, round1 }], parseEchoAnswer, (p, r) => {
      const echo = this.#own(p, 'echo', r.echo);
      this.#checkEcho(echo.message.digests, relayed);
      return echo.signed;
    });

    this.#enter('deal', `${n} echoes to each participant`);
    const dealt = await this.#all(() => [KEYGEN_PATHS.keygenDeal, { session, echoes }], (v) => parseDealAnswer(v, n - 1), (p, r) => this.#round2(p, r.round2));

    this.#enter('finish', `${n - 1} sealed shares to each participant`);
    const finished = await this.#all(
      (p) => [KEYGEN_PATHS.keygenFinish, { session, round2: dealt.flatMap((out) => out.filter((m) => m.recipient === p.identifier.toHex()).map((m) => m.signed)) }],
      parseFinishAnswer,
      (p, r) => {
        const confirm = this.#own(p, 'confirm', r.confirm);
        if (Buffer.compare(r.commitment.identifier, p.identifier.toBytes()) !== 0) throw new Error('its activation commitment names another participant');
        return { confirm, commitment: r.commitment };
      },
    );

    const { pkp, pkpBytes, pkpDigest } = this.#agreedPackage(finished.map((f) => f.confirm.message));
    this.#enter('confirm', `public key package ${Buffer.from(pkpDigest).toString('hex').slice(0, 16)}… confirmed by each participant`);
    const confirms = finished.map((f) => f.confirm.signed);
    await this.#all(() => [KEYGEN_PATHS.keygenConfirm, { session, confirms }], (v) => parseEmptyAnswer(v, 'confirm answer'), () => undefined);

    this.#enter('sign', 'activation signature shares');
    const commitments: ActivationCommitmentWire[] = finished.map((f) => f.commitment);
    const shares = await this.#all(() => [KEYGEN_PATHS.keygenSign, { session, commitments }], parseSignAnswer, (_, r) => r.share);
    const signature = this.#activationSignature(pkp, pkpDigest, commitments, shares);

    this.activating = true;
    this.step = 'activate';
    try {
      this.#o.onProgress?.({ step: 'activate', detail: 'activation signature to each participant' });
    } catch {
      // A progress listener's failure is not the run's.
    }
    await activateKey({ keyId: params.key_id, sessionDigest: session, activationSignature: signature, participants: ps, timeoutMs: this.#timeoutMs });

    return {
      keyId: params.key_id,
      kind: params.kind,
      publicKeyPackage: pkp,
      publicKeyPackageBytes: pkpBytes,
      verifyingKey: pkp.verifyingKeyBytes,
      minSigners: pkp.minSigners,
      participants: ps.map((p) => ({ id: p.id, identifier: p.identifier.toHex() })),
      sessionDigest: session,
      activationSignature: signature,
    };
  }

  /** Best effort: every participant drops the session and its pending key. */
  async abortAll(): Promise<void> {
    const body = { session: this.#digest, key_id: this.#o.keyId };
    await Promise.allSettled(this.#ps.map((p) => p.rpc.call(KEYGEN_PATHS.keygenAbort, body, AbortSignal.timeout(5000))));
  }

  #enter(step: KeygenStep, detail: string): void {
    this.step = step;
    this.#o.signal?.throwIfAborted();
    try {
      this.#o.onProgress?.({ step, detail });
    } catch {
      // A progress listener's failure is not the run's.
    }
  }

  /**
   * Calls every participant at once with the body `request` gives for it; each answer parsed and
   * `check`ed (a throw there names that participant). Any failure fails the step with every report.
   */
  async #all<A, R>(request: (p: Participant) => [string, unknown], parse: (v: unknown) => StepAnswer<A>, check: (p: Participant, ok: A) => R): Promise<R[]> {
    const signal = this.#o.signal ? AbortSignal.any([this.#o.signal, AbortSignal.timeout(this.#timeoutMs)]) : AbortSignal.timeout(this.#timeoutMs);
    const outcomes = await Promise.all(this.#ps.map((p) => callStep(p, request(p), parse, check, signal)));
    const failed = outcomes.filter((o): o is Exclude<Outcome<R>, { ok: R }> => !('ok' in o));
    if (failed.length > 0) throw this.#failure(failed);
    return outcomes.map((o) => (o as { ok: R }).ok);
  }

  /**
   * An echo must list, in identifier order, the digests of the round-1 messages this driver relayed
   * (one set, the same to every participant): one that lists another digest misstates what its
   * signer received, and names that signer, whose word alone would otherwise end the run.
   */
  #checkEcho(digests: Uint8Array[], relayed: Uint8Array[]): void {
    if (digests.length !== relayed.length) throw new Error(`its echo lists ${digests.length} round-1 digests, not ${relayed.length}`);
    const misstated = this.#ps.filter((_, j) => Buffer.compare(digests[j]!, relayed[j]!) !== 0).map((q) => q.id);
    if (misstated.length > 0) throw new Error(`its echo lists other round-1 messages than those relayed to it, for ${misstated.join(', ')}`);
  }

  /**
   * One error for a failed step. The participants' own aborts come first (they hold the evidence:
   * signatures, shares); then refusals, answers that do not fit, timeouts, unreachable signers.
   */
  #failure(failed: Exclude<Outcome<unknown>, { ok: unknown }>[]): KeygenFailed {
    const order = ['abort', 'bad-answer', 'refused', 'timeout', 'unreachable'] as const;
    const kind = order.find((k) => failed.some((f) => f.kind === k))!;
    const chosen = failed.filter((f) => f.kind === kind);
    const reports = failed.map((f) => f.report);
    const culprits = [...new Set(chosen.flatMap((f) => f.report.culprits))].sort();
    const relayFault = chosen.some((f) => f.report.relayFault);
    const first = chosen[0]!.report;
    const code: KeygenFailureCode =
      kind === 'abort'
        ? (first.code as KeygenFailureCode)
        : kind === 'bad-answer'
          ? 'DKG_CULPRIT'
          : kind === 'refused'
            ? 'DKG_SIGNER_REFUSED'
            : kind === 'timeout'
              ? 'DKG_TIMEOUT'
              : 'DKG_SIGNER_UNREACHABLE';
    const message = `${this.step}: ${chosen.map((f) => f.report.message).join('; ')}`;
    return new KeygenFailed({ code, message, culprits, relayFault, step: this.step, ...(kind === 'refused' ? { signerCode: first.code } : {}), reports });
  }

  /** A signed message a participant answered with must be its own, of this session. */
  #own<T extends 'round1' | 'echo' | 'confirm'>(p: Participant, type: T, signed: SignedMessage) {
    const message = decodeKeygenMessage(type, signed.body);
    const inner: { session: Uint8Array; sender: Uint8Array } = message;
    if (Buffer.compare(inner.session, this.#digest) !== 0) throw new Error(`its ${type} message is of another session`);
    if (Buffer.compare(inner.sender, p.identifier.toBytes()) !== 0) throw new Error(`its ${type} message names another sender`);
    return { signed, message };
  }

  /** A participant's round-2 messages: one to each other participant, from it, of this session. */
  #round2(p: Participant, messages: SignedMessage[]): { recipient: string; signed: SignedMessage }[] {
    const seen = new Set<string>();
    const out = messages.map((signed) => {
      const m = decodeKeygenMessage('round2', signed.body);
      if (Buffer.compare(m.session, this.#digest) !== 0 || Buffer.compare(m.sender, p.identifier.toBytes()) !== 0) throw new Error('a round-2 message of another session or sender');
      const recipient = Buffer.from(m.recipient).toString('hex');
      if (recipient === p.identifier.toHex() || !this.#ps.some((q) => q.identifier.toHex() === recipient) || seen.has(recipient)) {
        throw new Error('round-2 messages must go to each other participant once');
      }
      seen.add(recipient);
      return { recipient, signed };
    });
    return out;
  }

  /**
   * The public key package every participant confirmed: equal digests, the package decoding to that
   * digest, consistent, with the participants' identifiers and (refresh) the group key kept.
   */
  #agreedPackage(confirms: { pkp_digest: Uint8Array; public_key_package: Uint8Array }[]): { pkp: PublicKeyPackage; pkpBytes: Uint8Array; pkpDigest: Uint8Array } {
    const counts = new Map<string, number>();
    for (const c of confirms) counts.set(Buffer.from(c.pkp_digest).toString('hex'), (counts.get(Buffer.from(c.pkp_digest).toString('hex')) ?? 0) + 1);
    const [majority] = [...counts].sort((a, b) => b[1] - a[1])[0]!;
    const differ = this.#ps.filter((_, i) => Buffer.from(confirms[i]!.pkp_digest).toString('hex') !== majority).map((p) => p.id);
    if (differ.length > 0) {
      throw new KeygenFailed({ code: 'DKG_CONFIRMATION_MISMATCH', message: `finish: participants confirmed different public key packages: ${differ.join(', ')}`, culprits: differ, step: 'finish' });
    }
    const culprit = (message: string, culprits: string[]) => new KeygenFailed({ code: 'DKG_CULPRIT', message: `finish: ${message}`, culprits, step: 'finish' });
    const all = this.#ps.map((p) => p.id);
    const bytes = confirms[0]!.public_key_package;
    const mismatched = this.#ps.filter((_, i) => Buffer.compare(sha256(confirms[i]!.public_key_package), confirms[i]!.pkp_digest) !== 0).map((p) => p.id);
    if (mismatched.length > 0) throw culprit('confirmations whose package is not their digest\'s', mismatched);
    let pkp: PublicKeyPackage;
    try {
      pkp = decodePublicKeyPackage(bytes);
      pkp.assertConsistent();
    } catch (e) {
      throw culprit(`the confirmed public key package is not valid: ${(e as Error).message}`, all);
    }
    const ids = this.#ps.map((p) => p.identifier.toHex());
    if (pkp.verifyingShares.size !== ids.length || !ids.every((id) => pkp.verifyingShares.has(id)) || pkp.minSigners !== this.#o.minSigners) {
      throw culprit('the confirmed public key package is not of these participants and threshold', all);
    }
    if (this.#o.kind === 'refresh' && Buffer.compare(pkp.verifyingKeyBytes, this.#o.groupKey!) !== 0) throw culprit('the refresh changed the group key', all);
    return { pkp, pkpBytes: bytes, pkpDigest: confirms[0]!.pkp_digest };
  }

  /**
   * The activation signature from every participant's share: each share verified against the
   * confirmed verifying shares (a bad one names its signer), the aggregate verified with node:crypto.
   */
  #activationSignature(pkp: PublicKeyPackage, pkpDigest: Uint8Array, commitments: ActivationCommitmentWire[], shares: Uint8Array[]): Uint8Array {
    const message = activationMessage(this.#digest, pkpDigest);
    const byHex = new Map(this.#ps.map((p) => [p.identifier.toHex(), p.id]));
    try {
      const pkg = new SigningPackage(
        commitments.map((c) => ({ identifier: Identifier.fromBytes(c.identifier), commitments: SigningCommitments.fromBytes(c.hiding, c.binding) })),
        message,
      );
      const sigShares = new Map(this.#ps.map((p, i) => [p.identifier.toHex(), SignatureShare.fromBytes(shares[i]!)]));
      const signature = aggregate(pkg, sigShares, pkp).toBytes();
      const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(pkp.verifyingKeyBytes).toString('base64url') }, format: 'jwk' });
      if (!nodeVerify(null, message, key, signature)) throw new Error('the activation signature does not verify');
      return signature;
    } catch (e) {
      const culprits = e instanceof FrostError ? e.culprits.map((hex) => byHex.get(hex) ?? hex) : [];
      throw new KeygenFailed({ code: culprits.length > 0 ? 'DKG_CULPRIT' : 'DKG_ACTIVATION_FAILED', message: `sign: ${(e as Error).message}`, culprits, step: 'sign' });
    }
  }
}
