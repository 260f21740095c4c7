/**
 * Group arithmetic backends for the hot path, working on RFC 8032 point encodings. Three
 * implementations of one small interface (validate, fixed-base multiply, Σ adds + Σ [k]P):
 *
 * - `native`: curve25519-dalek behind N-API (packages/frost/native, built by scripts/build-native.mjs
 *   when a Rust toolchain is present). Fastest: compiled field arithmetic, and the sums are one
 *   variable-time multi-scalar multiplication instead of separate multiplications and additions.
 * - `sodium`: libsodium through sodium-native (prebuilt binaries in the npm package). Compiled too,
 *   but it has no multi-scalar multiplication and each variable-base multiplication re-checks its
 *   input, so sums of many terms cost noticeably more than with `native`.
 * - `noble`: @noble/curves in pure JavaScript, an order of magnitude slower than either: the
 *   reference, and the fallback that always loads.
 *
 * Measured figures for each backend are in bench/RESULTS.md (repository root).
 *
 * At load the fastest backend that loaded is active (native, else sodium, else noble). The package
 * reads no configuration: an application that wants another one calls {@link setGroupBackend} from
 * its own configuration. All backends implement exactly DeserializeElement's checks (RFC 9591 §6.1,
 * with the prime-order subgroup check); a differential test holds them to identical answers.
 * @module
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { ed25519 } from '@noble/curves/ed25519.js';
import { numberToBytesLE } from './bytes.js';

// Imported from the curve library rather than from ciphersuite.ts, which depends on this module.
const Point = ed25519.Point;
type Element = InstanceType<typeof Point>;

export type BackendName = 'native' | 'sodium' | 'noble';

/** Point operations on 32-byte encodings. All inputs except secret scalars are public. */
export interface GroupBackend {
  readonly name: BackendName;
  /** Canonical encoding of a curve point that is not the identity and lies in the prime-order subgroup. */
  isValidElement(bytes: Uint8Array): boolean;
  /** [s]B for a secret scalar 1 ≤ s < L, in constant time. */
  baseMul(s: bigint): Uint8Array;
  /**
   * Σ adds[i] + Σ [scalars[j]]·muls[j] for valid (already checked) elements and public scalars
   * 0 ≤ s < L. Returns the encoding of the sum (which may be the identity).
   */
  combine(adds: readonly Uint8Array[], muls: readonly Uint8Array[], scalars: readonly bigint[]): Uint8Array;
}

/** Encoding of the identity element (y = 1). */
export const IDENTITY = Uint8Array.from([1, ...new Array<number>(31).fill(0)]);

/** A Buffer view of the same bytes (no copy), as the native addons take. */
const asBuffer = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

type Sodium = {
  crypto_core_ed25519_is_valid_point(p: Buffer): boolean;
  crypto_scalarmult_ed25519_base_noclamp(q: Buffer, n: Buffer): void;
  crypto_scalarmult_ed25519_noclamp(q: Buffer, n: Buffer, p: Buffer): void;
  crypto_core_ed25519_add(r: Buffer, p: Buffer, q: Buffer): void;
  sodium_memzero(b: Buffer): void;
};

function sodiumBackend(sodium: Sodium): GroupBackend {
  const scalarBuf = (s: bigint): Buffer => Buffer.from(numberToBytesLE(s, 32));
  return {
    name: 'sodium',
    isValidElement(bytes) {
      return bytes.length === 32 && sodium.crypto_core_ed25519_is_valid_point(asBuffer(bytes));
    },
    baseMul(s) {
      const n = scalarBuf(s);
      const q = Buffer.alloc(32);
      try {
        sodium.crypto_scalarmult_ed25519_base_noclamp(q, n);
      } finally {
        sodium.sodium_memzero(n);
      }
      return new Uint8Array(q.buffer, q.byteOffset, 32);
    },
    combine(adds, muls, scalars) {
      let acc: Buffer | undefined;
      const add = (p: Buffer) => {
        if (!acc) {
          acc = Buffer.from(p);
          return;
        }
        sodium.crypto_core_ed25519_add(acc, acc, p);
      };
      for (const a of adds) add(asBuffer(a));
      const tmp = Buffer.alloc(32);
      for (let i = 0; i < muls.length; i++) {
        const s = scalars[i]!;
        if (s === 0n) continue; // [0]P is the identity: nothing to add (libsodium refuses a zero scalar)
        sodium.crypto_scalarmult_ed25519_noclamp(tmp, scalarBuf(s), asBuffer(muls[i]!));
        add(tmp);
      }
      return acc ? new Uint8Array(acc.buffer, acc.byteOffset, 32) : IDENTITY.slice();
    },
  };
}

function nobleBackend(): GroupBackend {
  const decode = (b: Uint8Array): Element => Point.fromBytes(b, false);
  return {
    name: 'noble',
    isValidElement(bytes) {
      if (bytes.length !== 32) return false;
      try {
        const p = decode(bytes);
        return !p.is0() && p.isTorsionFree();
      } catch {
        return false;
      }
    },
    baseMul(s) {
      return Point.BASE.multiply(s).toBytes();
    },
    combine(adds, muls, scalars) {
      let acc = Point.ZERO;
      for (const a of adds) acc = acc.add(decode(a));
      for (let i = 0; i < muls.length; i++) acc = acc.add(decode(muls[i]!).multiplyUnsafe(scalars[i]!));
      return acc.toBytes();
    },
  };
}

type Native = {
  isValidElement(b: Buffer): boolean;
  baseMul(s: Buffer): Buffer;
  combine(adds: Buffer, muls: Buffer, scalars: Buffer): Buffer;
};

function nativeBackend(native: Native): GroupBackend {
  return {
    name: 'native',
    isValidElement(bytes) {
      return bytes.length === 32 && native.isValidElement(asBuffer(bytes));
    },
    baseMul(s) {
      const n = Buffer.from(numberToBytesLE(s, 32));
      try {
        return new Uint8Array(native.baseMul(n));
      } finally {
        n.fill(0);
      }
    },
    combine(adds, muls, scalars) {
      const out = native.combine(
        Buffer.concat(adds.map(asBuffer)),
        Buffer.concat(muls.map(asBuffer)),
        Buffer.concat(scalars.map((s) => numberToBytesLE(s, 32))),
      );
      return new Uint8Array(out);
    },
  };
}

function load<T>(id: string): T | undefined {
  try {
    return createRequire(import.meta.url)(id) as T;
  } catch {
    return undefined;
  }
}

/** The reference backend (pure JavaScript). */
export const noble: GroupBackend = nobleBackend();
const sodiumModule = load<Sodium>('sodium-native');
/** The libsodium backend, when sodium-native loads on this platform. */
export const sodium: GroupBackend | undefined = sodiumModule ? sodiumBackend(sodiumModule) : undefined;
const nativeModule = load<Native>(fileURLToPath(new URL('../native/frost_native.node', import.meta.url)));
/** The curve25519-dalek backend, when it was built for this platform. */
export const native: GroupBackend | undefined = nativeModule ? nativeBackend(nativeModule) : undefined;

const backends: Readonly<Record<BackendName, GroupBackend | undefined>> = { native, sodium, noble };

let active: GroupBackend = native ?? sodium ?? noble;

/** The backend in use. */
export function group(): GroupBackend {
  return active;
}

/** The backends that loaded on this platform, fastest first. */
export function availableBackends(): BackendName[] {
  return (['native', 'sodium', 'noble'] as const).filter((n) => backends[n]);
}

/**
 * Makes `name` the backend in use for the whole process. For applications that choose by
 * configuration, and for benchmarks and differential tests. Throws when it did not load here.
 */
export function setGroupBackend(name: BackendName): void {
  const b = backends[name];
  if (!b) throw new Error(`group backend "${name}" is not available on this platform`);
  active = b;
}
