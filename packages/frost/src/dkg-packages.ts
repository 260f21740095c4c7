/**
 * The packages of distributed key generation and of share refresh, as frost-rs `keys::dkg::round1` and
 * `keys::dkg::round2` define them: what each participant broadcasts in round 1 (coefficient
 * commitments and a proof of knowledge), what it sends each other participant in round 2 (a secret
 * share), the secret state it keeps between the parts, the proof of knowledge with the HDKG challenge,
 * and the checks on who sent which package. Shared by dkg.ts and refresh.ts, which hold the protocol
 * steps; the public classes are re-exported from there.
 * @module
 */
import { createHash } from 'node:crypto';
import { bytesEqual, bytesToNumberLE, concatBytes } from './bytes.js';
import { CONTEXT_STRING, ORDER, assertValidElement, deserializeScalar, mod, serializeScalar } from './ciphersuite.js';
import {
  DuplicatePackageError,
  FrostError,
  InvalidIdentifierError,
  InvalidParametersError,
  InvalidPointError,
  InvalidScalarError,
  MalformedInputError,
  MissingPackageError,
  PackageMismatchError,
  SecretPackageReuseError,
  UnexpectedPackageError,
  InvalidCommitmentError,
} from './errors.js';
import { IDENTITY, group } from './group.js';
import { Identifier } from './identifier.js';
import { MAX_SIGNERS } from './keys.js';
import { randomNonZeroScalar, type RandomSource } from './random.js';

const HDKG_PREFIX = new TextEncoder().encode(CONTEXT_STRING + 'dkg');
const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');

/**
 * HDKG: the challenge hash of the DKG proof of knowledge for this suite, H(contextString ‖ "dkg" ‖ m)
 * reduced modulo L, as frost-ed25519 defines it (the DKG is outside RFC 9591, which leaves key
 * generation to the application).
 */
export function HDKG(m: Uint8Array): bigint {
  const digest = createHash('sha512').update(HDKG_PREFIX).update(m).digest();
  return mod(bytesToNumberLE(digest));
}

/** c = HDKG(identifier ‖ φ_0 ‖ R): the preimage frost-rs builds (identifier scalar, verifying key, R). */
export function proofOfKnowledgeChallenge(identifier: Identifier, verifyingKey: Uint8Array, R: Uint8Array): bigint {
  return HDKG(concatBytes(identifier.toBytes(), verifyingKey, R));
}

/**
 * σ = (R, μ) with R = G·k, μ = k + a_0·c for a fresh nonce k: a Schnorr proof of knowledge of a_0,
 * bound to the prover's identifier (FROST KeyGen round 1, step 2). Returns R ‖ μ (64 bytes).
 * `verifyingKey` is the element the challenge commits to (φ_0 = G·a_0 in a DKG).
 */
export function computeProofOfKnowledge(identifier: Identifier, a0: bigint, verifyingKey: Uint8Array, rng: RandomSource): Uint8Array {
  const k = randomNonZeroScalar(rng);
  const R = group().baseMul(k);
  const c = proofOfKnowledgeChallenge(identifier, verifyingKey, R);
  return concatBytes(R, serializeScalar(mod(k + a0 * c)));
}

/** Checks σ = (R, μ) for `identifier` and φ_0: G·μ == R + c·φ_0 (FROST KeyGen round 1, step 5). */
export function verifyProofOfKnowledge(identifier: Identifier, verifyingKey: Uint8Array, proof: Uint8Array): boolean {
  const R = proof.subarray(0, 32);
  const mu = bytesToNumberLE(proof.subarray(32, 64));
  const c = proofOfKnowledgeChallenge(identifier, verifyingKey, R);
  const lhs = mu === 0n ? IDENTITY : group().baseMul(mu);
  return bytesEqual(lhs, group().combine([R], [verifyingKey], [c]));
}

/** Runs `f`, prefixing the message of a point or scalar error with `what`. */
function withContext<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof InvalidPointError) throw new InvalidPointError(`${what}: ${e.message}`);
    if (e instanceof InvalidScalarError) throw new InvalidScalarError(`${what}: ${e.message}`);
    throw e;
  }
}

/**
 * Runs `f` and rethrows any FrostError it throws as the same class with `culprits` set to `sender`
 * (hex): for decoding a package whose sender the caller knows from the channel it arrived on.
 */
export function blamingSender<T>(sender: Identifier | undefined, f: () => T): T {
  if (!sender) return f();
  try {
    return f();
  } catch (e) {
    if (!(e instanceof FrostError) || e.culprits.length > 0) throw e;
    const Class = e.constructor as new (message: string, options?: { culprits?: readonly string[]; cause?: unknown }) => FrostError;
    throw new Class(`from ${sender}: ${e.message}`, { culprits: [sender.toHex()], cause: e });
  }
}

/**
 * The package a participant broadcasts in round 1 (frost-rs `dkg::round1::Package`): its coefficient
 * commitments φ_0..φ_{t−1} (refresh: φ_1..φ_{t−1}, the constant term being zero) and its proof of
 * knowledge R ‖ μ. Every participant must receive the same package from each sender: deliver it over
 * a broadcast channel (or compare what everyone received), or key generation is not secure.
 */
export class Round1Package {
  /** Coefficient commitment encodings, constant term first. */
  readonly commitment: readonly Uint8Array[];
  /** R ‖ μ (64 bytes). */
  readonly proofOfKnowledge: Uint8Array;

  private constructor(commitment: readonly Uint8Array[], proofOfKnowledge: Uint8Array) {
    this.commitment = Object.freeze([...commitment]);
    this.proofOfKnowledge = proofOfKnowledge;
    Object.freeze(this);
  }

  /**
   * Validates and copies the encodings: every commitment and R must pass DeserializeElement (canonical,
   * not the identity, in the prime-order subgroup), μ must be a canonical scalar, and there must be
   * between 1 and 65535 commitments. The count against the threshold is checked by the protocol steps;
   * a receiver that knows it (t, or t − 1 in a refresh) passes it as `expectedLength`, so an oversized
   * package is refused before any point is decoded.
   */
  static fromBytes(commitment: readonly Uint8Array[], proofOfKnowledge: Uint8Array, expectedLength?: number): Round1Package {
    if (!Array.isArray(commitment) || commitment.length === 0 || commitment.length > MAX_SIGNERS) {
      throw new InvalidCommitmentError(`commitment must list between 1 and ${MAX_SIGNERS} coefficient commitments`);
    }
    if (expectedLength !== undefined && commitment.length !== expectedLength) {
      throw new InvalidCommitmentError(`commitment lists ${commitment.length} coefficient commitments; ${expectedLength} expected`);
    }
    commitment.forEach((c, k) => withContext(`commitment[${k}]`, () => assertValidElement(c)));
    if (!(proofOfKnowledge instanceof Uint8Array) || proofOfKnowledge.length !== 64) {
      throw new MalformedInputError('proof_of_knowledge must be 64 bytes (R ‖ μ)');
    }
    withContext('proof_of_knowledge R', () => assertValidElement(proofOfKnowledge.subarray(0, 32)));
    withContext('proof_of_knowledge μ', () => deserializeScalar(proofOfKnowledge.subarray(32)));
    return new Round1Package(
      commitment.map((c) => Uint8Array.from(c)),
      Uint8Array.from(proofOfKnowledge),
    );
  }

  /** @internal From encodings part 1 computed itself (no element checks); see {@link ownRound1Package}. */
  static _own(commitment: readonly Uint8Array[], proofOfKnowledge: Uint8Array): Round1Package {
    return new Round1Package(
      commitment.map((c) => Uint8Array.from(c)),
      Uint8Array.from(proofOfKnowledge),
    );
  }

  /** φ_0: the sender's contribution to the group verifying key (in a refresh, its first non-constant commitment). */
  get verifyingKey(): Uint8Array {
    return this.commitment[0]!;
  }

  /**
   * Whether the proof of knowledge verifies for `sender` (the check `dkg.part2` makes). Never true for
   * a refresh package, whose proof is formed over a zero constant term (see {@link isRefreshPackage}).
   */
  verifyProofOfKnowledge(sender: Identifier): boolean {
    return verifyProofOfKnowledge(sender, this.verifyingKey, this.proofOfKnowledge);
  }

  /**
   * Whether the proof has the form a refresh package's has (G·μ = R: a proof over a zero constant
   * term, which proves nothing). A key-generation package has it with negligible probability.
   */
  isRefreshPackage(): boolean {
    const mu = bytesToNumberLE(this.proofOfKnowledge.subarray(32));
    return mu !== 0n && bytesEqual(group().baseMul(mu), this.proofOfKnowledge.subarray(0, 32));
  }

  equals(other: Round1Package): boolean {
    return (
      this.commitment.length === other.commitment.length &&
      this.commitment.every((c, k) => bytesEqual(c, other.commitment[k]!)) &&
      bytesEqual(this.proofOfKnowledge, other.proofOfKnowledge)
    );
  }
}

/**
 * The package a participant sends one other participant in round 2 (frost-rs `dkg::round2::Package`):
 * the secret share f_i(ℓ) for that recipient. Deliver it over a confidential and authenticated channel.
 * Redacted in `JSON.stringify` and `util.inspect`; the round-2 codec in json.ts is the only way to
 * write the share out.
 */
export class Round2Package {
  readonly #signingShare: bigint;

  /** @param signingShare - a canonical scalar 0 ≤ s < L */
  constructor(signingShare: bigint) {
    if (typeof signingShare !== 'bigint' || signingShare < 0n || signingShare >= ORDER) {
      throw new InvalidScalarError('signing_share must be a scalar below the group order');
    }
    this.#signingShare = signingShare;
    Object.freeze(this);
  }

  /** From the 32-byte little-endian encoding (rejects non-canonical values). */
  static fromBytes(bytes: Uint8Array): Round2Package {
    return new Round2Package(withContext('signing_share', () => deserializeScalar(bytes)));
  }

  /** The secret share f_sender(recipient). */
  get signingShare(): bigint {
    return this.#signingShare;
  }

  toBytes(): Uint8Array {
    return serializeScalar(this.#signingShare);
  }

  toJSON(): Record<string, string> {
    return { signing_share: '[redacted]' };
  }
  [inspectSymbol](): string {
    return 'Round2Package { signing_share: [redacted] }';
  }
}

/** Which protocol a secret package belongs to: key generation, or refresh of an existing key. */
export type SecretPackageKind = 'dkg' | 'refresh';

interface Round1Secret {
  coefficients: bigint[] | undefined;
}
const round1Secrets = new WeakMap<Round1SecretPackage, Round1Secret>();

/**
 * What a participant keeps between the first and second parts (frost-rs `dkg::round1::SecretPackage`):
 * the secret polynomial's coefficients (held where no serialization or inspection reaches them), its
 * commitment and the parameters. Never send it anywhere. The second part uses it up.
 */
export class Round1SecretPackage {
  readonly identifier: Identifier;
  /** This participant's own coefficient commitments, as broadcast. */
  readonly commitment: readonly Uint8Array[];
  readonly minSigners: number;
  readonly maxSigners: number;
  /** Every participant of the run (this one included), ascending, when the first part was told them. */
  readonly participants: readonly Identifier[] | undefined;
  readonly kind: SecretPackageKind;

  /** Built by `dkg.part1` and `refreshDkgPart1`. */
  constructor(args: {
    kind: SecretPackageKind;
    identifier: Identifier;
    coefficients: bigint[];
    commitment: readonly Uint8Array[];
    minSigners: number;
    maxSigners: number;
    participants: readonly Identifier[] | undefined;
  }) {
    this.kind = args.kind;
    this.identifier = args.identifier;
    this.commitment = Object.freeze([...args.commitment]);
    this.minSigners = args.minSigners;
    this.maxSigners = args.maxSigners;
    this.participants = args.participants && Object.freeze([...args.participants]);
    round1Secrets.set(this, { coefficients: [...args.coefficients] });
    Object.freeze(this);
  }

  /** True once a second part has used this package. */
  get used(): boolean {
    return round1Secrets.get(this)?.coefficients === undefined;
  }

  toJSON(): Record<string, unknown> {
    return { identifier: this.identifier.toHex(), min_signers: this.minSigners, max_signers: this.maxSigners, coefficients: '[redacted]' };
  }
  [inspectSymbol](): string {
    return `Round1SecretPackage { identifier: ${this.identifier}, ${this.minSigners}-of-${this.maxSigners}, coefficients: [redacted] }`;
  }
}

/** Throws SecretPackageReuseError when `secret` was already used. */
export function assertUnused(secret: Round1SecretPackage): void {
  if (secret.used) throw new SecretPackageReuseError('this round-1 secret package was already used by a second part; start a new run');
}

/**
 * Hands out the coefficients of `secret` once and forgets them, so one polynomial is never evaluated
 * for two sets of recipients (evaluations at t points would reveal it).
 */
export function takeCoefficients(secret: Round1SecretPackage): bigint[] {
  assertUnused(secret);
  const state = round1Secrets.get(secret)!;
  const coefficients = state.coefficients!;
  state.coefficients = undefined;
  return coefficients;
}

const round2Secrets = new WeakMap<Round2SecretPackage, bigint>();

/**
 * What a participant keeps between the second and third parts (frost-rs `dkg::round2::SecretPackage`):
 * its own share f_i(i) (held where no serialization or inspection reaches it), its commitment, the
 * parameters, and the round-1 packages the second part accepted, which the third part must be given
 * again unchanged. Never send it anywhere.
 */
export class Round2SecretPackage {
  readonly identifier: Identifier;
  readonly commitment: readonly Uint8Array[];
  readonly minSigners: number;
  readonly maxSigners: number;
  readonly kind: SecretPackageKind;
  /** The other participants' round-1 packages as the second part accepted them, by identifier hex, ascending. */
  readonly round1Packages: ReadonlyMap<string, Round1Package>;

  /** Built by `dkg.part2` and `refreshDkgPart2`. */
  constructor(args: {
    kind: SecretPackageKind;
    identifier: Identifier;
    commitment: readonly Uint8Array[];
    secretShare: bigint;
    minSigners: number;
    maxSigners: number;
    round1Packages: ReadonlyMap<string, Round1Package>;
  }) {
    this.kind = args.kind;
    this.identifier = args.identifier;
    this.commitment = Object.freeze([...args.commitment]);
    this.minSigners = args.minSigners;
    this.maxSigners = args.maxSigners;
    this.round1Packages = new Map(sortedByIdentifier([...args.round1Packages]));
    round2Secrets.set(this, args.secretShare);
    Object.freeze(this);
  }

  toJSON(): Record<string, unknown> {
    return { identifier: this.identifier.toHex(), min_signers: this.minSigners, max_signers: this.maxSigners, secret_share: '[redacted]' };
  }
  [inspectSymbol](): string {
    return `Round2SecretPackage { identifier: ${this.identifier}, ${this.minSigners}-of-${this.maxSigners}, secret_share: [redacted] }`;
  }
}

/** f_i(i), the share a participant dealt itself. */
export function ownSecretShare(secret: Round2SecretPackage): bigint {
  return round2Secrets.get(secret)!;
}

/** Packages keyed by their sender: a Map keyed by identifier hex, or any iterable of [identifier, package]. */
export type PackagesBySender<T> = Iterable<readonly [Identifier | string, T]>;

/** One package with its sender. */
export interface FromSender<T> {
  readonly identifier: Identifier;
  readonly pkg: T;
}

function sortedByIdentifier<T>(entries: [string, T][]): [string, T][] {
  return entries.sort(([a], [b]) => Identifier.compare(Identifier.fromHex(a), Identifier.fromHex(b)));
}

/** Identifier hex strings in ascending identifier order. */
export function sortHex(hexes: Iterable<string>): string[] {
  return [...hexes].map((h) => Identifier.fromHex(h)).sort(Identifier.compare).map((i) => i.toHex());
}

/**
 * Reads packages keyed by sender into a map by identifier hex (ascending). Throws
 * InvalidIdentifierError for a key that is no identifier, MalformedInputError for a value of the wrong
 * type, and DuplicatePackageError naming every sender that appears twice (two spellings of one
 * identifier count as one sender).
 */
export function collectPackages<T>(
  entries: PackagesBySender<T>,
  type: { readonly prototype: T; readonly name: string },
  what: string,
): Map<string, FromSender<T>> {
  if (entries === null || typeof entries !== 'object' || typeof (entries as Iterable<unknown>)[Symbol.iterator] !== 'function') {
    throw new MalformedInputError(`${what} must be a map of packages by sender identifier`);
  }
  const out = new Map<string, FromSender<T>>();
  const duplicates = new Set<string>();
  for (const entry of entries) {
    if (!Array.isArray(entry) || entry.length !== 2) throw new MalformedInputError(`${what} must hold [sender, package] entries`);
    const [key, pkg] = entry as readonly [unknown, unknown];
    let identifier: Identifier;
    if (key instanceof Identifier) identifier = key;
    else {
      try {
        identifier = Identifier.fromHex(key as string);
      } catch {
        throw new InvalidIdentifierError(`${what}: sender ${JSON.stringify(String(key).slice(0, 70))} is not an identifier (64 hex characters)`);
      }
    }
    const hex = identifier.toHex();
    if (!(pkg instanceof (type as unknown as abstract new () => T))) throw new MalformedInputError(`${what}: the package from ${identifier} is not a ${type.name}`, { culprits: [hex] });
    if (out.has(hex)) duplicates.add(hex);
    else out.set(hex, { identifier, pkg });
  }
  if (duplicates.size > 0) {
    const culprits = sortHex(duplicates);
    throw new DuplicatePackageError(`${what}: more than one package from ${culprits.join(', ')}`, { culprits });
  }
  return new Map(sortedByIdentifier([...out]));
}

/**
 * Checks who sent packages: never the receiver itself; when the other participants are known, exactly
 * them (naming unknown senders, then missing ones); otherwise exactly `count` senders.
 */
export function checkSenders(
  senders: ReadonlySet<string> | ReadonlyMap<string, unknown>,
  self: Identifier,
  expected: readonly string[] | undefined,
  count: number,
  what: string,
): void {
  const keys = [...senders.keys()];
  if (keys.includes(self.toHex())) {
    throw new UnexpectedPackageError(`${what}: a package claims to come from the receiver itself (${self})`, { culprits: [self.toHex()] });
  }
  if (expected) {
    const known = new Set(expected);
    const unknown = keys.filter((k) => !known.has(k));
    if (unknown.length > 0) {
      const culprits = sortHex(unknown);
      throw new UnexpectedPackageError(`${what}: packages from senders that do not take part: ${culprits.join(', ')}`, { culprits });
    }
    const missing = expected.filter((k) => !senders.has(k));
    if (missing.length > 0) {
      const culprits = sortHex(missing);
      throw new MissingPackageError(`${what}: no package from ${culprits.join(', ')}`, { culprits });
    }
    return;
  }
  if (keys.length > count) throw new UnexpectedPackageError(`${what}: ${keys.length} packages for ${count} other participants`);
  if (keys.length < count) throw new MissingPackageError(`${what}: ${keys.length} packages for ${count} other participants`);
}

/**
 * Checks that the round-1 packages given to a third part are exactly those its second part accepted
 * (same senders, same packages), naming the senders that differ.
 */
export function checkSameRound1Packages(
  recorded: ReadonlyMap<string, Round1Package>,
  given: ReadonlyMap<string, FromSender<Round1Package>>,
  self: Identifier,
  what: string,
): void {
  checkSenders(given, self, [...recorded.keys()], recorded.size, what);
  const changed = [...recorded].filter(([hex, pkg]) => !given.get(hex)!.pkg.equals(pkg)).map(([hex]) => hex);
  if (changed.length > 0) {
    throw new PackageMismatchError(`${what}: round-1 packages differ from those the second part used: ${changed.join(', ')}`, { culprits: changed });
  }
}

/**
 * Checks the participant list given to a first part: `maxSigners` distinct identifiers including
 * `identifier`. Returns it in ascending order.
 */
export function checkParticipants(identifier: Identifier, participants: readonly Identifier[] | undefined, maxSigners: number): Identifier[] | undefined {
  if (participants === undefined) return undefined;
  if (!Array.isArray(participants) || !participants.every((p) => p instanceof Identifier)) {
    throw new InvalidParametersError('participants must be an array of identifiers');
  }
  if (participants.length !== maxSigners) {
    throw new InvalidParametersError(`participants lists ${participants.length} identifiers; max_signers is ${maxSigners}`);
  }
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const p of participants) (seen.has(p.toHex()) ? duplicates : seen).add(p.toHex());
  if (duplicates.size > 0) {
    const culprits = sortHex(duplicates);
    throw new InvalidParametersError(`participants lists ${culprits.join(', ')} more than once`, { culprits });
  }
  if (!seen.has(identifier.toHex())) throw new InvalidParametersError(`participants does not include this participant (${identifier})`);
  return [...participants].sort(Identifier.compare);
}

/** Throws InvalidIdentifierError unless `identifier` is an Identifier. */
export function assertIdentifier(identifier: unknown, what = 'identifier'): asserts identifier is Identifier {
  if (!(identifier instanceof Identifier)) throw new InvalidIdentifierError(`${what} must be an Identifier`);
}

/**
 * A participant's own round-1 package, from encodings this library computed (the element checks are
 * skipped; the bytes are copied, so the broadcast package shares no memory with the secret package).
 * Not exported from the package: anything received goes through {@link Round1Package.fromBytes}.
 */
export function ownRound1Package(commitment: readonly Uint8Array[], proofOfKnowledge: Uint8Array): Round1Package {
  return Round1Package._own(commitment, proofOfKnowledge);
}
