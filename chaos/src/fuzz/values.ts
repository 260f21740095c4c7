/**
 * Building blocks of fuzzed input, all drawn from the seeded generator: odd strings and numbers,
 * random JSON values, byte-level mutation of a valid encoding.
 * @module
 */
import type { Rng } from '../rng.js';

/** Strings a parser may trip on: control characters, lone surrogates, long runs, look-alikes. */
export function oddString(rng: Rng): string {
  return rng.pick([
    () => '',
    () => ' ',
    () => '\u0000',
    () => '\ud800',
    () => '\udfff\ud800',
    () => '\u202e\u2066',
    () => 'ʼnℌ🔑',
    () => '%00%ff',
    () => '../'.repeat(rng.int(1, 20)),
    () => 'a'.repeat(rng.size(8192)),
    () => rng.bytes(rng.size(64)).toString('latin1'),
    () => rng.bytes(rng.size(64)).toString('base64'),
    () => String(rng.u32()),
    () => 'null',
    () => 'true',
    () => '{"a":1}',
    () => '__proto__',
  ])();
}

/** Numbers at the edges: zero signs, huge, tiny, fractional, just past the integer ranges. */
export function oddNumber(rng: Rng): number {
  return rng.pick([0, -0, 1, -1, 2, 3, 4, 1.5, 0.1, 65535, 65536, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, 2 ** 64, -(2 ** 63), 1e308, -1e308, 5e-324, Number.MAX_VALUE]);
}

/** Number literals JSON.stringify never writes but JSON.parse reads (some to Infinity or lossy values). */
export function oddNumberLiteral(rng: Rng): string {
  return rng.pick(['1e999', '-1e999', '1E2', '1.0', '-0', '0.0000000000000000000001', '123456789012345678901234567890', '2e0', '1.999999999999999999999', '00', '+1', '.5', '0x10', 'NaN', 'Infinity']);
}

/** A random JSON value, at most `depth` levels deep. */
export function randomJson(rng: Rng, depth = 4): unknown {
  const leaf = () =>
    rng.pick<() => unknown>([() => null, () => rng.chance(0.5), () => oddNumber(rng), () => rng.int(-1000, 1000), () => oddString(rng), () => rng.bytes(rng.size(48)).toString('base64')])();
  if (depth <= 0 || rng.chance(0.4)) return leaf();
  if (rng.chance(0.5)) return Array.from({ length: rng.size(8) }, () => randomJson(rng, depth - 1));
  const o: Record<string, unknown> = {};
  for (let i = rng.size(6); i > 0; i--) o[rng.chance(0.3) ? rng.pick(['msg_b64', 'participants', 'signer_urls', 'key_id', 'constructor', 'toString']) : oddString(rng).slice(0, 32)] = randomJson(rng, depth - 1);
  return o;
}

/** One to `max` byte-level edits of `input`: flips, deletions, insertions, duplications, truncation. */
export function mutateBytes(rng: Rng, input: Uint8Array, max = 4): Buffer {
  let b = Buffer.from(input);
  for (let n = rng.int(1, max); n > 0; n--) {
    const at = b.length ? rng.int(0, b.length - 1) : 0;
    switch (rng.int(0, 5)) {
      case 0:
        if (b.length) b[at] = b[at]! ^ (1 << rng.int(0, 7));
        break;
      case 1:
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + rng.int(1, 8))]);
        break;
      case 2:
        b = Buffer.concat([b.subarray(0, at), rng.bytes(rng.int(1, 8)), b.subarray(at)]);
        break;
      case 3: {
        const len = rng.int(1, 32);
        b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + len), b.subarray(at)]);
        break;
      }
      case 4:
        b = b.subarray(0, at);
        break;
      default:
        if (b.length) b[at] = rng.pick([0x00, 0xff, 0x7f, 0x80, 0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d]);
    }
  }
  return b;
}
