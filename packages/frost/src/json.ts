/**
 * JSON codecs byte-compatible with frost-rs serde JSON (the format ZF frost tools read and write):
 * `{"header":{"version":0,"ciphersuite":"FROST-ED25519-SHA512-v1"}, ...}` with lowercase hex fields.
 * Decoders are strict: unknown or missing fields, a wrong header, a zero identifier, non-canonical
 * scalars and invalid points are each rejected with a typed error.
 * @module
 */
import { fromHexStrict, toHex } from './bytes.js';
import {
  CIPHERSUITE_ID,
  deserializeElement,
  deserializeScalar,
  serializeElement,
  serializeScalar,
  type Element,
} from './ciphersuite.js';
import {
  CiphersuiteMismatchError,
  InvalidCommitmentError,
  InvalidPointError,
  InvalidScalarError,
  MalformedInputError,
  MissingFieldError,
  UnknownFieldError,
  UnsupportedVersionError,
} from './errors.js';
import { Round1Package, Round2Package, blamingSender } from './dkg-packages.js';
import { Identifier } from './identifier.js';
import { KeyPackage, PublicKeyPackage, inferMinSigners } from './keys.js';
import { SigningCommitments } from './round1.js';
import { SignatureShare } from './round2.js';
import { SigningPackage } from './signing-package.js';

/** Serialization format version written in headers. */
export const FORMAT_VERSION = 0;

type Json = Record<string, unknown>;

/** The frost-rs serialization header. */
function header(): { version: number; ciphersuite: string } {
  return { version: FORMAT_VERSION, ciphersuite: CIPHERSUITE_ID };
}

function parse(input: string | unknown): unknown {
  if (typeof input !== 'string') return input;
  try {
    return JSON.parse(input);
  } catch {
    throw new MalformedInputError('not valid JSON');
  }
}

function asObject(v: unknown, what: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new MalformedInputError(`${what} must be a JSON object`);
  return v as Json;
}

/** Checks the exact field set of an object. */
function fields(obj: Json, required: readonly string[], what: string, optional: readonly string[] = []): void {
  for (const k of Object.keys(obj)) {
    if (!required.includes(k) && !optional.includes(k)) throw new UnknownFieldError(`${what}: unknown field "${k}"`);
  }
  for (const k of required) {
    if (!(k in obj)) throw new MissingFieldError(`${what}: missing field "${k}"`);
  }
}

function checkHeader(v: unknown, what: string): void {
  const h = asObject(v, `${what}.header`);
  fields(h, ['version', 'ciphersuite'], `${what}.header`);
  if (h.version !== FORMAT_VERSION) throw new UnsupportedVersionError(`${what}: unsupported serialization version ${JSON.stringify(h.version)}`);
  if (h.ciphersuite !== CIPHERSUITE_ID) {
    throw new CiphersuiteMismatchError(`${what}: ciphersuite ${JSON.stringify(h.ciphersuite)} is not ${CIPHERSUITE_ID}`);
  }
}

function hexField(v: unknown, what: string, length?: number): Uint8Array {
  const bytes = typeof v === 'string' ? fromHexStrict(v) : undefined;
  if (!bytes) throw new MalformedInputError(`${what} must be a hex string`);
  if (length !== undefined && bytes.length !== length) throw new MalformedInputError(`${what} must be ${length} bytes`);
  return bytes;
}

function rethrowWithPath<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof InvalidPointError) throw new InvalidPointError(`${what}: ${e.message}`);
    if (e instanceof InvalidScalarError) throw new InvalidScalarError(`${what}: ${e.message}`);
    throw e;
  }
}

function elementField(v: unknown, what: string): Element {
  const bytes = hexField(v, what, 32);
  return rethrowWithPath(what, () => deserializeElement(bytes));
}

/** Scalars include signing shares: their decoded bytes (memory of their own, see fromHexStrict) are wiped once read. */
function scalarField(v: unknown, what: string): bigint {
  const bytes = hexField(v, what, 32);
  try {
    return rethrowWithPath(what, () => deserializeScalar(bytes));
  } finally {
    bytes.fill(0);
  }
}

function identifierField(v: unknown): Identifier {
  return Identifier.fromHex(v as string);
}

function minSignersField(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 65535) {
    throw new MalformedInputError(`${what}: min_signers must be an integer between 0 and 65535`);
  }
  return v;
}

const hex = (p: Element): string => toHex(serializeElement(p));

// --- KeyPackage -------------------------------------------------------------------------------

const KEY_PACKAGE_FIELDS = ['header', 'identifier', 'signing_share', 'verifying_share', 'verifying_key', 'min_signers'] as const;

/** frost-rs `KeyPackage` JSON value. Contains the secret signing share: write it only to its owner's key file. */
export function keyPackageToJson(kp: KeyPackage): Json {
  return {
    header: header(),
    identifier: kp.identifier.toHex(),
    signing_share: toHex(serializeScalar(kp.signingShare)),
    verifying_share: hex(kp.verifyingShare),
    verifying_key: hex(kp.verifyingKey),
    min_signers: kp.minSigners,
  };
}

/** Decodes and validates a frost-rs `KeyPackage` (checks the share matches its verifying share). */
export function keyPackageFromJson(input: string | unknown): KeyPackage {
  const o = asObject(parse(input), 'KeyPackage');
  fields(o, KEY_PACKAGE_FIELDS, 'KeyPackage');
  checkHeader(o.header, 'KeyPackage');
  return new KeyPackage({
    identifier: identifierField(o.identifier),
    signingShare: scalarField(o.signing_share, 'KeyPackage.signing_share'),
    verifyingShare: elementField(o.verifying_share, 'KeyPackage.verifying_share'),
    verifyingKey: elementField(o.verifying_key, 'KeyPackage.verifying_key'),
    minSigners: minSignersField(o.min_signers, 'KeyPackage'),
  });
}

// --- PublicKeyPackage -------------------------------------------------------------------------

const PUBLIC_KEY_PACKAGE_FIELDS = ['header', 'verifying_shares', 'verifying_key'] as const;

/** frost-rs `PublicKeyPackage` JSON value. */
export function publicKeyPackageToJson(pkp: PublicKeyPackage): Json {
  const shares: Record<string, string> = {};
  for (const [id, e] of pkp.verifyingShares) shares[id] = hex(e.verifyingShare);
  return { header: header(), verifying_shares: shares, verifying_key: hex(pkp.verifyingKey), min_signers: pkp.minSigners };
}

/**
 * Decodes and validates a frost-rs `PublicKeyPackage`. Call `assertConsistent()` for the polynomial
 * check. `min_signers` is optional, as in frost-rs (which omits it when it does not know it); when it is
 * absent the threshold is inferred from the verifying shares ({@link inferMinSigners}).
 */
export function publicKeyPackageFromJson(input: string | unknown): PublicKeyPackage {
  const o = asObject(parse(input), 'PublicKeyPackage');
  fields(o, PUBLIC_KEY_PACKAGE_FIELDS, 'PublicKeyPackage', ['min_signers']);
  checkHeader(o.header, 'PublicKeyPackage');
  const shares = asObject(o.verifying_shares, 'PublicKeyPackage.verifying_shares');
  const entries = Object.entries(shares).map(([id, v]) => ({
    identifier: identifierField(id),
    verifyingShare: elementField(v, `PublicKeyPackage.verifying_shares.${id}`),
  }));
  const verifyingKey = elementField(o.verifying_key, 'PublicKeyPackage.verifying_key');
  const minSigners = o.min_signers === undefined || o.min_signers === null ? inferMinSigners(entries, verifyingKey) : minSignersField(o.min_signers, 'PublicKeyPackage');
  return new PublicKeyPackage({ verifyingShares: entries, verifyingKey, minSigners });
}

// --- SigningCommitments -----------------------------------------------------------------------

/** frost-rs `SigningCommitments` JSON value. */
export function signingCommitmentsToJson(c: SigningCommitments): Json {
  return { header: header(), hiding: toHex(c.hidingBytes), binding: toHex(c.bindingBytes) };
}

/** Decodes and validates a frost-rs `SigningCommitments`. */
export function signingCommitmentsFromJson(input: string | unknown, what = 'SigningCommitments'): SigningCommitments {
  const o = asObject(parse(input), what);
  fields(o, ['header', 'hiding', 'binding'], what);
  checkHeader(o.header, what);
  const hiding = hexField(o.hiding, `${what}.hiding`, 32);
  const binding = hexField(o.binding, `${what}.binding`, 32);
  return rethrowWithPath(what, () => SigningCommitments.fromBytes(hiding, binding));
}

// --- SigningPackage ---------------------------------------------------------------------------

/** frost-rs `SigningPackage` JSON value. */
export function signingPackageToJson(pkg: SigningPackage): Json {
  const commitments: Record<string, Json> = {};
  for (const [id, e] of pkg.signingCommitments) commitments[id] = signingCommitmentsToJson(e.commitments);
  return { header: header(), signing_commitments: commitments, message: toHex(pkg.message) };
}

/** Decodes and validates a frost-rs `SigningPackage`. */
export function signingPackageFromJson(input: string | unknown): SigningPackage {
  const o = asObject(parse(input), 'SigningPackage');
  fields(o, ['header', 'signing_commitments', 'message'], 'SigningPackage');
  checkHeader(o.header, 'SigningPackage');
  const c = asObject(o.signing_commitments, 'SigningPackage.signing_commitments');
  const entries = Object.entries(c).map(([id, v]) => ({
    identifier: identifierField(id),
    commitments: signingCommitmentsFromJson(v, `SigningPackage.signing_commitments.${id}`),
  }));
  return new SigningPackage(entries, hexField(o.message, 'SigningPackage.message'));
}

// --- SignatureShare ---------------------------------------------------------------------------

/** frost-rs `SignatureShare` JSON value. */
export function signatureShareToJson(s: SignatureShare): Json {
  return { header: header(), share: toHex(s.toBytes()) };
}

/** Decodes and validates a frost-rs `SignatureShare`. */
export function signatureShareFromJson(input: string | unknown): SignatureShare {
  const o = asObject(parse(input), 'SignatureShare');
  fields(o, ['header', 'share'], 'SignatureShare');
  checkHeader(o.header, 'SignatureShare');
  return new SignatureShare(scalarField(o.share, 'SignatureShare.share'));
}

// --- DKG round-1 and round-2 packages (frost-rs keys::dkg, also used by refresh) --------------

/** Options of the DKG package decoders. */
export interface DkgPackageDecodeOptions {
  /**
   * The sender, as the channel the package arrived on authenticated it. Every error then names it in
   * `culprits`, so a participant can report who sent an undecodable package.
   */
  sender?: Identifier;
  /**
   * Round 1: the number of coefficient commitments the package must list (t; t − 1 in a refresh). A
   * package of another length is refused before any point is decoded.
   */
  commitmentLength?: number;
}

/** frost-rs `dkg::round1::Package` JSON value: the coefficient commitments and the proof of knowledge. */
export function dkgRound1PackageToJson(p: Round1Package): Json {
  return { header: header(), commitment: p.commitment.map(toHex), proof_of_knowledge: toHex(p.proofOfKnowledge) };
}

/**
 * Decodes and validates a frost-rs `dkg::round1::Package`: every commitment and R a valid element (not
 * the identity, in the prime-order subgroup), μ a canonical scalar. Whether the commitment count fits
 * the threshold and the proof verifies is checked by `dkg.part2`, which knows both.
 */
export function dkgRound1PackageFromJson(input: string | unknown, options: DkgPackageDecodeOptions = {}): Round1Package {
  return blamingSender(options.sender, () => {
    const what = 'DkgRound1Package';
    const o = asObject(parse(input), what);
    fields(o, ['header', 'commitment', 'proof_of_knowledge'], what);
    checkHeader(o.header, what);
    if (!Array.isArray(o.commitment)) throw new MalformedInputError(`${what}.commitment must be an array`);
    if (o.commitment.length > 65535) throw new MalformedInputError(`${what}.commitment has more than 65535 entries`);
    if (options.commitmentLength !== undefined && o.commitment.length !== options.commitmentLength) {
      throw new InvalidCommitmentError(`${what}.commitment lists ${o.commitment.length} coefficient commitments; ${options.commitmentLength} expected`);
    }
    const commitment = o.commitment.map((v: unknown, k) => hexField(v, `${what}.commitment[${k}]`, 32));
    const proof = hexField(o.proof_of_knowledge, `${what}.proof_of_knowledge`, 64);
    return rethrowWithPath(what, () => Round1Package.fromBytes(commitment, proof, options.commitmentLength));
  });
}

/**
 * frost-rs `dkg::round2::Package` JSON value. Contains a secret share: send it only to its recipient,
 * over a confidential and authenticated channel.
 */
export function dkgRound2PackageToJson(p: Round2Package): Json {
  return { header: header(), signing_share: toHex(p.toBytes()) };
}

/** Decodes and validates a frost-rs `dkg::round2::Package` (a canonical scalar). */
export function dkgRound2PackageFromJson(input: string | unknown, options: DkgPackageDecodeOptions = {}): Round2Package {
  return blamingSender(options.sender, () => {
    const what = 'DkgRound2Package';
    const o = asObject(parse(input), what);
    fields(o, ['header', 'signing_share'], what);
    checkHeader(o.header, what);
    return new Round2Package(scalarField(o.signing_share, `${what}.signing_share`));
  });
}

// --- detection --------------------------------------------------------------------------------

/** Any object {@link decodeAny} recognises. */
export type Decoded =
  | { kind: 'KeyPackage'; value: KeyPackage }
  | { kind: 'PublicKeyPackage'; value: PublicKeyPackage }
  | { kind: 'SigningCommitments'; value: SigningCommitments }
  | { kind: 'SigningPackage'; value: SigningPackage }
  | { kind: 'SignatureShare'; value: SignatureShare }
  | { kind: 'DkgRound1Package'; value: Round1Package }
  | { kind: 'DkgRound2Package'; value: Round2Package };

/**
 * Detects which frost-rs object a JSON document is (by its distinguishing field) and decodes it fully.
 * Throws MalformedInputError when it is none of them.
 */
export function decodeAny(input: string | unknown): Decoded {
  const o = asObject(parse(input), 'document');
  // A DKG round-2 package is the one object with a signing share and nothing but its header besides.
  if ('signing_share' in o && Object.keys(o).every((k) => k === 'header' || k === 'signing_share')) {
    return { kind: 'DkgRound2Package', value: dkgRound2PackageFromJson(o) };
  }
  if ('signing_share' in o) return { kind: 'KeyPackage', value: keyPackageFromJson(o) };
  if ('proof_of_knowledge' in o || 'commitment' in o) return { kind: 'DkgRound1Package', value: dkgRound1PackageFromJson(o) };
  if ('verifying_shares' in o) return { kind: 'PublicKeyPackage', value: publicKeyPackageFromJson(o) };
  if ('signing_commitments' in o) return { kind: 'SigningPackage', value: signingPackageFromJson(o) };
  if ('hiding' in o || 'binding' in o) return { kind: 'SigningCommitments', value: signingCommitmentsFromJson(o) };
  if ('share' in o) return { kind: 'SignatureShare', value: signatureShareFromJson(o) };
  throw new MalformedInputError(
    'not a known FROST object (KeyPackage, PublicKeyPackage, SigningCommitments, SigningPackage, SignatureShare, DKG round-1 or round-2 package)',
  );
}
