import { describe, expect, it } from '@jest/globals';
import { Identifier } from '../src/identifier.js';
import { commit } from '../src/round1.js';
import { MAX_COMMITMENTS, SigningPackage, type CommitmentEntry } from '../src/signing-package.js';
import { codeOf } from './helpers.js';

const entry = (n: number): CommitmentEntry => ({ identifier: Identifier.fromNumber(n), commitments: commit(BigInt(n)).commitments });
const msg = new TextEncoder().encode('message');

describe('SigningPackage (RFC 9591 §5.2 commitment_list and msg)', () => {
  it('sorts the commitment list by identifier value, whatever the input order', () => {
    const pkg = new SigningPackage([entry(256), entry(3), entry(1)], msg);
    expect(pkg.identifiers.map((i) => i.value)).toEqual([1n, 3n, 256n]);
    expect([...pkg.signingCommitments.keys()]).toEqual(pkg.identifiers.map((i) => i.toHex()));
  });

  it('refuses an empty list and a duplicate identifier', () => {
    expect(codeOf(() => new SigningPackage([], msg))).toBe('INVALID_SIGNING_PACKAGE');
    const a = entry(2);
    const b = { identifier: Identifier.fromNumber(2), commitments: commit(9n).commitments };
    expect(codeOf(() => new SigningPackage([entry(1), a, b], msg))).toBe('INVALID_SIGNING_PACKAGE');
  });

  it('refuses a message that is not bytes, and accepts an empty one', () => {
    expect(codeOf(() => new SigningPackage([entry(1)], 'text' as unknown as Uint8Array))).toBe('INVALID_SIGNING_PACKAGE');
    expect(new SigningPackage([entry(1)], new Uint8Array(0)).message).toHaveLength(0);
  });

  it('refuses more commitments than frost-rs identifiers allow', () => {
    const one = entry(1);
    const many = {
      *[Symbol.iterator]() {
        for (let i = 0; i <= MAX_COMMITMENTS; i++) yield one;
      },
    };
    expect(codeOf(() => new SigningPackage(many, msg))).toBe('INVALID_SIGNING_PACKAGE');
  });

  it('keeps its own copy of the message and cannot be modified', () => {
    const message = Uint8Array.from([1, 2, 3]);
    const pkg = new SigningPackage([entry(1), entry(2)], message);
    message[0] = 9;
    expect([...pkg.message]).toEqual([1, 2, 3]);
    expect(Object.isFrozen(pkg)).toBe(true);
    expect(Object.isFrozen(pkg.signingCommitments.get(Identifier.fromNumber(1).toHex()))).toBe(true);
  });

  it('commitmentsOf returns a participant\'s commitments, or undefined for a non-participant', () => {
    const e = entry(2);
    const pkg = new SigningPackage([entry(1), e], msg);
    expect(pkg.commitmentsOf(Identifier.fromNumber(2))).toBe(e.commitments);
    expect(pkg.commitmentsOf(Identifier.fromNumber(3))).toBeUndefined();
  });
});
