/** Summarises V8 .cpuprofile files: self time per function (top N), as a share of the samples. */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

export function summarize(file: string, top = 15): { total_ms: number; rows: { fn: string; self_pct: number }[] } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  for (const id of p.samples) {
    const n = byId.get(id)!;
    const url = n.callFrame.url.replace(/^.*node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?/, '').replace(/^file:\/\/.*\/(packages|services)\//, '$1/');
    const key = `${n.callFrame.functionName || '(anonymous)'} ${url ? `(${url.split('/').slice(-2).join('/')})` : ''}`.trim();
    self.set(key, (self.get(key) ?? 0) + 1);
  }
  const total = p.samples.length;
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([fn, c]) => ({ fn, self_pct: (100 * c) / total }));
  return { total_ms: (p.endTime - p.startTime) / 1000, rows };
}
