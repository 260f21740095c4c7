/**
 * The signing package a coordinator sends in round two: every chosen participant's commitments and the
 * message. RFC 9591 §5.2 (commitment_list, msg); frost-rs `SigningPackage`.
 * @module
 */
import { InvalidSigningPackageError } from './errors.js';
import { Identifier } from './identifier.js';
import type { SigningCommitments } from './round1.js';

/** One entry of the commitment list. */
export interface CommitmentEntry {
  readonly identifier: Identifier;
  readonly commitments: SigningCommitments;
}

/** Largest number of commitments a package may carry (frost-rs identifiers are u16). */
export const MAX_COMMITMENTS = 65535;

export class SigningPackage {
  /** Commitments keyed by identifier hex, in ascending identifier order (RFC 9591 requires sorting). */
  readonly signingCommitments: ReadonlyMap<string, CommitmentEntry>;
  readonly message: Uint8Array;

  constructor(entries: Iterable<CommitmentEntry>, message: Uint8Array) {
    if (!(message instanceof Uint8Array)) throw new InvalidSigningPackageError('message must be bytes');
    const list = [...entries].sort((a, b) => Identifier.compare(a.identifier, b.identifier));
    if (list.length === 0) throw new InvalidSigningPackageError('signing package has no commitments');
    if (list.length > MAX_COMMITMENTS) throw new InvalidSigningPackageError('signing package has too many commitments');
    const map = new Map<string, CommitmentEntry>();
    for (const e of list) {
      const key = e.identifier.toHex();
      if (map.has(key)) throw new InvalidSigningPackageError(`duplicate commitment for ${e.identifier}`);
      map.set(key, Object.freeze({ identifier: e.identifier, commitments: e.commitments }));
    }
    this.signingCommitments = map;
    this.message = Uint8Array.from(message);
    Object.freeze(this);
  }

  /** Participant identifiers in ascending order. */
  get identifiers(): Identifier[] {
    return [...this.signingCommitments.values()].map((e) => e.identifier);
  }

  /** Commitments of `identifier`, or undefined when it does not take part. */
  commitmentsOf(identifier: Identifier): SigningCommitments | undefined {
    return this.signingCommitments.get(identifier.toHex())?.commitments;
  }
}
