/**
 * Summary statistics for the suite's figures.
 * @module
 */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

export function max(xs: readonly number[]): number {
  return xs.reduce((m, x) => (x > m ? x : m), -Infinity);
}

/** Least-squares slope of y over x (units of y per unit of x); NaN with fewer than two points. */
export function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}

/** The lowest point of each of `n` equal spans of x (spans without points are skipped). */
export function windowMinima(points: readonly { x: number; y: number }[], n: number): { x: number; y: number }[] {
  if (points.length === 0) return [];
  const x0 = points[0]!.x;
  const width = (points[points.length - 1]!.x - x0) / n || 1;
  const lows: ({ x: number; y: number } | undefined)[] = Array.from({ length: n }, () => undefined);
  for (const pt of points) {
    const i = Math.min(n - 1, Math.floor((pt.x - x0) / width));
    if (!lows[i] || pt.y < lows[i]!.y) lows[i] = pt;
  }
  return lows.filter((pt): pt is { x: number; y: number } => pt !== undefined);
}

/** Counts of each distinct key. */
export function tally(keys: Iterable<string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of keys) out[k] = (out[k] ?? 0) + 1;
  return out;
}

export const pct = (part: number, whole: number): string => (whole === 0 ? 'n/a' : `${((100 * part) / whole).toFixed(2)}%`);

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves once `condition()` holds (polled every 10 ms); rejects after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs: number, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}
