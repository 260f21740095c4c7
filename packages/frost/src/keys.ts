/**
 * Key material: key packages (one participant), public key packages (the whole key set) and
 * trusted-dealer key generation. RFC 9591 §4, Appendix C; names follow frost-rs.
 * @module
 */
import { pippenger } from '@noble/curves/abstract/curve.js';
import { bytesEqual, toHex } from './bytes.js';
import { Point, baseMulSecret, serializeElement, type Element } from './ciphersuite.js';
import { group } from './group.js';
import {
  InconsistentKeyError,
  InvalidParametersError,
  UnknownIdentifierError,
} from './errors.js';
import { Identifier } from './identifier.js';
import { lagrangeAt, polynomialEvaluate } from './polynomial.js';
import { defaultRandom, randomNonZeroScalar, type RandomSource } from './random.js';
import type { SigningPackage } from './signing-package.js';

/** Smallest meaningful threshold. */
export const MIN_THRESHOLD = 2;
/** Largest key-set size this library generates (identifiers are u16 in frost-rs). */
export const MAX_SIGNERS = 65535;

/** Checks 2 ≤ minSigners ≤ maxSigners ≤ 65535 with a precise message. */
export function validateThreshold(minSigners: number, maxSigners: number): void {
  if (!Number.isInteger(maxSigners) || maxSigners < MIN_THRESHOLD || maxSigners > MAX_SIGNERS) {
    throw new InvalidParametersError(`signers must be an integer between ${MIN_THRESHOLD} and ${MAX_SIGNERS}`);
  }
  if (!Number.isInteger(minSigners) || minSigners < MIN_THRESHOLD || minSigners > maxSigners) {
    throw new InvalidParametersError(`threshold must be an integer between ${MIN_THRESHOLD} and signers (${maxSigners})`);
  }
}

/** One participant's public verifying share. */
export interface VerifyingShareEntry {
  readonly identifier: Identifier;
  readonly verifyingShare: Element;
  /** Its encoding (cached for the byte-oriented hot path). */
  readonly verifyingShareBytes?: Uint8Array;
}

/**
 * The public view of a key set: the group verifying key, every participant's verifying share, and the
 * threshold. Decoded and subgroup-checked once, so per-signature work never re-parses it.
 */
export class PublicKeyPackage {
  readonly verifyingKey: Element;
  readonly verifyingKeyBytes: Uint8Array;
  readonly minSigners: number;
  /** Entries keyed by identifier hex, in ascending identifier order. */
  readonly verifyingShares: ReadonlyMap<string, VerifyingShareEntry>;

  constructor(args: { verifyingShares: readonly VerifyingShareEntry[]; verifyingKey: Element; minSigners: number }) {
    const n = args.verifyingShares.length;
    if (!Number.isInteger(args.minSigners) || args.minSigners < MIN_THRESHOLD || args.minSigners > n) {
      throw new InvalidParametersError(
        `min_signers must be an integer between ${MIN_THRESHOLD} and the number of verifying shares (${n})`,
      );
    }
    const sorted = [...args.verifyingShares].sort((a, b) => Identifier.compare(a.identifier, b.identifier));
    const map = new Map<string, VerifyingShareEntry>();
    for (const e of sorted) {
      if (map.has(e.identifier.toHex())) throw new InvalidParametersError(`duplicate identifier ${e.identifier}`);
      map.set(e.identifier.toHex(), Object.freeze({ identifier: e.identifier, verifyingShare: e.verifyingShare, verifyingShareBytes: serializeElement(e.verifyingShare) }));
    }
    this.verifyingShares = map;
    this.verifyingKey = args.verifyingKey;
    this.verifyingKeyBytes = serializeElement(args.verifyingKey);
    this.minSigners = args.minSigners;
    Object.freeze(this);
  }

  /** Number of participants in the key set. */
  get maxSigners(): number {
    return this.verifyingShares.size;
  }

  /** Identifiers in ascending order. */
  get identifiers(): Identifier[] {
    return [...this.verifyingShares.values()].map((e) => e.identifier);
  }

  /** Encoding of the verifying share of `identifier`; throws UnknownIdentifierError if unknown. */
  verifyingShareBytesOf(identifier: Identifier): Uint8Array {
    const e = this.verifyingShares.get(identifier.toHex());
    if (!e) throw new UnknownIdentifierError(`identifier ${identifier} is not in the key set`, { culprits: [] });
    return e.verifyingShareBytes!;
  }

  /** The verifying share of `identifier`; throws UnknownIdentifierError if it is not in the key set. */
  verifyingShareOf(identifier: Identifier): Element {
    const e = this.verifyingShares.get(identifier.toHex());
    if (!e) throw new UnknownIdentifierError(`identifier ${identifier} is not in the key set`, { culprits: [] });
    return e.verifyingShare;
  }

  /**
   * Checks that the verifying shares lie on one polynomial of degree minSigners−1 whose value at 0 is the
   * verifying key (so any minSigners of them produce signatures under it). Costs O(n·t) point work with
   * multi-scalar multiplication; run it once when loading key material, not per request.
   */
  assertConsistent(): void {
    const entries = [...this.verifyingShares.values()];
    const t = this.minSigners;
    const basis = entries.slice(0, t);
    const xs = basis.map((e) => e.identifier.value);
    const points = basis.map((e) => e.verifyingShare);
    const interpolate = (x: bigint): Element =>
      pippenger(Point, points, xs.map((xi) => lagrangeAt(xs, xi, x)));
    if (!interpolate(0n).equals(this.verifyingKey)) {
      throw new InconsistentKeyError('verifying shares do not interpolate to the verifying key');
    }
    for (const e of entries.slice(t)) {
      if (!interpolate(e.identifier.value).equals(e.verifyingShare)) {
        throw new InconsistentKeyError(`verifying share of ${e.identifier} is not on the key polynomial`, {
          culprits: [e.identifier.toHex()],
        });
      }
    }
  }
}

/**
 * Throws UnknownIdentifierError unless every participant of `pkg` is in the key set `pkp`; its
 * `culprits` name every identifier (hex, ascending) that is not. For the coordinator before
 * aggregating (RFC 9591 §5.3) and for each signer before signing (§5.2): a {@link SigningPackage}
 * checks only its own structure, and a stranger in it would otherwise go unnoticed until the
 * aggregate fails to verify (every λ_i is computed over the package's participants).
 */
export function assertParticipantsInKeySet(pkg: SigningPackage, pkp: PublicKeyPackage): void {
  const unknown = [...pkg.signingCommitments.keys()].filter((hex) => !pkp.verifyingShares.has(hex));
  if (unknown.length === 0) return;
  throw new UnknownIdentifierError(`identifiers not in the key set: ${unknown.join(', ')}`, { culprits: unknown });
}

/**
 * The threshold of a key set whose public key package does not state it (frost-rs writes
 * `min_signers` only when it knows it): the smallest t ≥ 2 such that the degree t−1 polynomial through
 * the first t verifying shares passes through every other share and has the verifying key at 0.
 * Throws InconsistentKeyError when no such t exists. O(n²) point work: load time only.
 */
export function inferMinSigners(shares: readonly VerifyingShareEntry[], verifyingKey: Element): number {
  const entries = [...shares].sort((a, b) => Identifier.compare(a.identifier, b.identifier));
  for (let t = MIN_THRESHOLD; t <= entries.length; t++) {
    const basis = entries.slice(0, t);
    const xs = basis.map((e) => e.identifier.value);
    const points = basis.map((e) => e.verifyingShare);
    const at = (x: bigint): Element => pippenger(Point, points, xs.map((xi) => lagrangeAt(xs, xi, x)));
    if (entries.slice(t).every((e) => at(e.identifier.value).equals(e.verifyingShare)) && at(0n).equals(verifyingKey)) return t;
  }
  throw new InconsistentKeyError('verifying shares do not lie on one polynomial through the verifying key');
}

/**
 * One participant's key package: its identifier, secret signing share, verifying share, the group
 * verifying key and the threshold (frost-rs `KeyPackage`). The constructor checks that the signing
 * share matches the verifying share.
 *
 * The signing share is a bigint: JavaScript cannot reliably erase it, so keep key packages in as few
 * places as possible and never serialize them except to the owner's key file.
 */
export class KeyPackage {
  readonly identifier: Identifier;
  readonly signingShare: bigint;
  readonly verifyingShare: Element;
  readonly verifyingKey: Element;
  readonly minSigners: number;

  constructor(args: {
    identifier: Identifier;
    signingShare: bigint;
    verifyingShare: Element;
    verifyingKey: Element;
    minSigners: number;
  }) {
    if (!Number.isInteger(args.minSigners) || args.minSigners < MIN_THRESHOLD || args.minSigners > MAX_SIGNERS) {
      throw new InvalidParametersError(`min_signers must be an integer between ${MIN_THRESHOLD} and ${MAX_SIGNERS}`);
    }
    if (args.signingShare === 0n || !bytesEqual(group().baseMul(args.signingShare), serializeElement(args.verifyingShare))) {
      throw new InconsistentKeyError('signing share does not match the verifying share');
    }
    this.identifier = args.identifier;
    this.signingShare = args.signingShare;
    this.verifyingShare = args.verifyingShare;
    this.verifyingKey = args.verifyingKey;
    this.minSigners = args.minSigners;
    Object.freeze(this);
  }

  /** Throws InconsistentKeyError unless this key package belongs to `pkp`. */
  assertMatches(pkp: PublicKeyPackage): void {
    if (!this.verifyingKey.equals(pkp.verifyingKey)) {
      throw new InconsistentKeyError('key package verifying key differs from the public key package');
    }
    if (this.minSigners !== pkp.minSigners) {
      throw new InconsistentKeyError('key package min_signers differs from the public key package');
    }
    const vs = pkp.verifyingShares.get(this.identifier.toHex());
    if (!vs || !vs.verifyingShare.equals(this.verifyingShare)) {
      throw new InconsistentKeyError('key package verifying share is not the one in the public key package');
    }
  }

  /** Redacts the secret in logs and `util.inspect`. */
  toJSON(): Record<string, unknown> {
    return { identifier: this.identifier.toHex(), signing_share: '[redacted]', verifying_key: toHex(serializeElement(this.verifyingKey)) };
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `KeyPackage { identifier: ${this.identifier}, signing_share: [redacted] }`;
  }
}

/** Options of {@link trustedDealerKeygen}. */
export interface TrustedDealerOptions {
  /** Threshold t. */
  minSigners: number;
  /** Number of participants n. */
  maxSigners: number;
  /** Identifiers to use; defaults to 1..n. */
  identifiers?: readonly Identifier[];
  /** Randomness source (tests only). */
  rng?: RandomSource;
  /** Secret to share (tests and key import only); random when omitted. */
  secret?: bigint;
}

/** Output of trusted-dealer key generation. */
export interface TrustedDealerOutput {
  /** One key package per participant, keyed by identifier hex, ascending. */
  keyPackages: Map<string, KeyPackage>;
  publicKeyPackage: PublicKeyPackage;
}

/**
 * Trusted-dealer key generation: Shamir-shares a random group secret among n participants with
 * threshold t. RFC 9591 Appendix C (trusted_dealer_keygen). The group secret exists only inside this
 * call.
 */
export function trustedDealerKeygen(options: TrustedDealerOptions): TrustedDealerOutput {
  const { minSigners, maxSigners } = options;
  validateThreshold(minSigners, maxSigners);
  const rng = options.rng ?? defaultRandom;
  const identifiers =
    options.identifiers ?? Array.from({ length: maxSigners }, (_, i) => Identifier.fromNumber(i + 1));
  if (identifiers.length !== maxSigners) {
    throw new InvalidParametersError(`expected ${maxSigners} identifiers, got ${identifiers.length}`);
  }
  const secret = options.secret ?? randomNonZeroScalar(rng);
  if (secret === 0n) throw new InvalidParametersError('secret must not be zero');
  const coefficients = [secret];
  for (let k = 1; k < minSigners; k++) coefficients.push(randomNonZeroScalar(rng));
  const verifyingKey = baseMulSecret(secret);
  const entries: VerifyingShareEntry[] = [];
  const keyPackages = new Map<string, KeyPackage>();
  const sortedIds = [...identifiers].sort(Identifier.compare);
  for (const identifier of sortedIds) {
    if (keyPackages.has(identifier.toHex())) throw new InvalidParametersError(`duplicate identifier ${identifier}`);
    const signingShare = polynomialEvaluate(identifier.value, coefficients);
    const verifyingShare = baseMulSecret(signingShare);
    entries.push({ identifier, verifyingShare });
    keyPackages.set(identifier.toHex(), new KeyPackage({ identifier, signingShare, verifyingShare, verifyingKey, minSigners }));
  }
  coefficients.fill(0n);
  return { keyPackages, publicKeyPackage: new PublicKeyPackage({ verifyingShares: entries, verifyingKey, minSigners }) };
}
