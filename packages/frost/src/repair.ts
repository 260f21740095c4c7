/**
 * Repair of a lost share by t helpers, without anyone learning the repaired share or another helper's
 * share: the Repairable Threshold Scheme of Laing and Stinson (eprint 2017/1155), as frost-rs
 * `keys::repairable` implements it (repair_share_part1/2/3).
 *
 * The helpers (at least min_signers participants of the key set, agreed beforehand) each run
 * {@link repairSharePart1} and send every helper, themselves included, its delta; each helper sums
 * the deltas it received with {@link repairSharePart2} and sends the sigma to the participant being
 * repaired, who sums the sigmas with {@link repairSharePart3}. Deltas and sigmas are secret: send them
 * over confidential and authenticated channels.
 * @module
 */
import { ORDER, deserializeScalar, mod, serializeScalar } from './ciphersuite.js';
import { bytesEqual } from './bytes.js';
import { sortHex } from './dkg-packages.js';
import { InconsistentKeyError, InvalidParametersError, InvalidScalarError, UnknownIdentifierError } from './errors.js';
import { group } from './group.js';
import { Identifier } from './identifier.js';
import { KeyPackage, PublicKeyPackage } from './keys.js';
import { lagrangeAt } from './polynomial.js';
import { defaultRandom, randomNonZeroScalar, type RandomSource } from './random.js';

const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');

/** A secret scalar of the repair protocol, redacted in `JSON.stringify` and `util.inspect`. */
abstract class RepairValue {
  readonly #value: bigint;

  constructor(value: bigint) {
    if (typeof value !== 'bigint' || value < 0n || value >= ORDER) throw new InvalidScalarError('value must be a scalar below the group order');
    this.#value = value;
  }

  /** The scalar. */
  get value(): bigint {
    return this.#value;
  }

  /** 32-byte little-endian encoding (frost-rs serializes it as the hex of these bytes). */
  toBytes(): Uint8Array {
    return serializeScalar(this.#value);
  }

  toJSON(): string {
    return '[redacted]';
  }
  [inspectSymbol](): string {
    return `${this.constructor.name} { [redacted] }`;
  }
}

/** What a helper sends another helper (frost-rs `repairable::Delta`). */
export class RepairDelta extends RepairValue {
  /** From the 32-byte encoding; rejects non-canonical scalars. */
  static fromBytes(bytes: Uint8Array): RepairDelta {
    return new RepairDelta(deserializeScalar(bytes));
  }
}

/** What a helper sends the participant being repaired (frost-rs `repairable::Sigma`). */
export class RepairSigma extends RepairValue {
  /** From the 32-byte encoding; rejects non-canonical scalars. */
  static fromBytes(bytes: Uint8Array): RepairSigma {
    return new RepairSigma(deserializeScalar(bytes));
  }
}

/**
 * repair_share_part1: splits ζ_i·s_i (ζ_i the Lagrange coefficient of this helper over the helpers,
 * evaluated at the participant being repaired) into one random delta per helper. Returns the deltas
 * keyed by helper identifier hex, ascending; the one for this helper stays here.
 *
 * Throws InvalidParametersError when there are fewer helpers than the threshold, a helper is listed
 * twice (named in `culprits`), this helper is not listed, or the participant being repaired is listed.
 * Randomness is drawn as frost-rs draws it: one 64-byte value per helper but the last.
 */
export function repairSharePart1(
  helpers: readonly Identifier[],
  keyPackage: KeyPackage,
  participant: Identifier,
  rng: RandomSource = defaultRandom,
): Map<string, RepairDelta> {
  if (!(keyPackage instanceof KeyPackage)) throw new InvalidParametersError('repairSharePart1 expects this helper\'s KeyPackage');
  if (!(participant instanceof Identifier)) throw new InvalidParametersError('participant must be an Identifier');
  if (!Array.isArray(helpers) || !helpers.every((h) => h instanceof Identifier)) throw new InvalidParametersError('helpers must be an array of identifiers');
  if (helpers.length < keyPackage.minSigners) {
    throw new InvalidParametersError(`${helpers.length} helpers; at least min_signers (${keyPackage.minSigners}) are needed`);
  }
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const h of helpers) (seen.has(h.toHex()) ? duplicates : seen).add(h.toHex());
  if (duplicates.size > 0) {
    const culprits = sortHex(duplicates);
    throw new InvalidParametersError(`helpers lists ${culprits.join(', ')} more than once`, { culprits });
  }
  if (!seen.has(keyPackage.identifier.toHex())) throw new InvalidParametersError(`helpers does not include this helper (${keyPackage.identifier})`);
  if (seen.has(participant.toHex())) throw new InvalidParametersError(`the participant being repaired (${participant}) cannot be a helper`);

  const sorted = [...helpers].sort(Identifier.compare);
  const xs = sorted.map((h) => h.value);
  const zeta = lagrangeAt(xs, keyPackage.identifier.value, participant.value);
  const target = mod(zeta * keyPackage.signingShare);
  const out = new Map<string, RepairDelta>();
  let sum = 0n;
  for (const helper of sorted.slice(0, -1)) {
    const r = randomNonZeroScalar(rng);
    sum = mod(sum + r);
    out.set(helper.toHex(), new RepairDelta(r));
  }
  out.set(sorted[sorted.length - 1]!.toHex(), new RepairDelta(mod(target - sum)));
  return out;
}

/** repair_share_part2: σ_j = Σ of the deltas this helper received (one from each helper, its own included). */
export function repairSharePart2(deltas: Iterable<RepairDelta>): RepairSigma {
  const list = [...deltas];
  if (list.length === 0 || !list.every((d) => d instanceof RepairDelta)) throw new InvalidParametersError('repairSharePart2 expects the deltas received from the helpers');
  return new RepairSigma(list.reduce((acc, d) => mod(acc + d.value), 0n));
}

/**
 * repair_share_part3: the repaired signing share is Σ of the sigmas (one from each helper). Returns the
 * key package of `identifier`, checked against its verifying share in `publicKeyPackage` (which any
 * helper can provide): a wrong sigma, or helpers that did not all use the same helper set, end in
 * InconsistentKeyError rather than a share that cannot sign. UnknownIdentifierError when `identifier`
 * is not in the key set; InvalidParametersError for fewer sigmas than the threshold.
 */
export function repairSharePart3(sigmas: Iterable<RepairSigma>, identifier: Identifier, publicKeyPackage: PublicKeyPackage): KeyPackage {
  if (!(publicKeyPackage instanceof PublicKeyPackage)) throw new InvalidParametersError('repairSharePart3 expects the PublicKeyPackage');
  if (!(identifier instanceof Identifier)) throw new InvalidParametersError('identifier must be an Identifier');
  const list = [...sigmas];
  if (!list.every((s) => s instanceof RepairSigma)) throw new InvalidParametersError('repairSharePart3 expects the sigmas received from the helpers');
  if (list.length < publicKeyPackage.minSigners) {
    throw new InvalidParametersError(`${list.length} sigmas; one from each of at least min_signers (${publicKeyPackage.minSigners}) helpers is needed`);
  }
  if (!publicKeyPackage.verifyingShares.has(identifier.toHex())) throw new UnknownIdentifierError(`${identifier} is not in the key set`);
  const signingShare = list.reduce((acc, s) => mod(acc + s.value), 0n);
  const expected = publicKeyPackage.verifyingShareBytesOf(identifier);
  if (signingShare === 0n || !bytesEqual(group().baseMul(signingShare), expected)) {
    throw new InconsistentKeyError('the repaired share does not match its verifying share: a helper sent a wrong value, or the helpers did not agree on who helps');
  }
  return new KeyPackage({
    identifier,
    signingShare,
    verifyingShare: publicKeyPackage.verifyingShareOf(identifier),
    verifyingKey: publicKeyPackage.verifyingKey,
    minSigners: publicKeyPackage.minSigners,
  });
}
