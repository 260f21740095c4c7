// Coalescing of calls to one signer, with a hand-driven send: which calls travel together, and how
// each call's own signal bounds it.
import { describe, expect, it } from '@jest/globals';
import { Coalescer } from '../src/coalescer.js';

interface Sent {
  items: number[];
  signal: AbortSignal;
  answer: (outcomes: (string | Error)[]) => void;
  fail: (e: Error) => void;
}

function harness(limits: { maxInFlight?: number; maxItems?: number; maxSize?: number; timeoutMs?: number } = {}) {
  const sent: Sent[] = [];
  const c = new Coalescer<number, string>({
    send: (items, signal) =>
      new Promise((resolve, reject) => {
        sent.push({ items, signal, answer: resolve, fail: reject });
      }),
    maxInFlight: () => limits.maxInFlight ?? 1,
    maxItems: () => limits.maxItems ?? 100,
    maxSize: () => limits.maxSize ?? 1000,
    sizeOf: (n) => n,
    aborted: (reason) => new Error(`aborted: ${String((reason as Error)?.message ?? reason)}`),
    timeoutMs: limits.timeoutMs ?? 60_000,
  });
  return { c, sent };
}

const never = () => new AbortController().signal;
const tick = () => new Promise((r) => setImmediate(r));

describe('Coalescer', () => {
  it('at concurrency 1 a call goes out at once, alone', async () => {
    const { c, sent } = harness();
    const [p] = c.submit([5], never());
    expect(sent.map((s) => s.items)).toEqual([[5]]);
    sent[0]!.answer(['five']);
    await expect(p).resolves.toBe('five');
  });

  it('calls arriving while the RPCs in flight are at the limit go out together when one completes', async () => {
    const { c, sent } = harness({ maxInFlight: 1 });
    const first = c.submit([1], never());
    const later = [...c.submit([2], never()), ...c.submit([3], never()), ...c.submit([4], never())];
    expect(sent).toHaveLength(1);
    sent[0]!.answer(['one']);
    await first[0];
    await tick();
    expect(sent.map((s) => s.items)).toEqual([[1], [2, 3, 4]]);
    sent[1]!.answer(['two', new Error('refused'), 'four']);
    const settled = await Promise.allSettled(later);
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message))).toEqual(['two', 'refused', 'four']);
  });

  it('items submitted together travel together, within the item and size limits', async () => {
    const { c, sent } = harness({ maxInFlight: 3, maxItems: 3, maxSize: 10 });
    c.submit([1, 1, 1, 1, 4, 4, 4, 20], never());
    // [1,1,1] (item limit), [1,4,4] (size 9; one more 4 would make 13), [4] + 20 does not fit: 3 in flight.
    expect(sent.map((s) => s.items)).toEqual([[1, 1, 1], [1, 4, 4], [4]]);
    sent[0]!.answer(['a', 'b', 'c']);
    await tick();
    // An item larger than the size limit still goes, alone.
    expect(sent[3]!.items).toEqual([20]);
  });

  it('an RPC that fails as a whole fails each of its calls with its error', async () => {
    const { c, sent } = harness({ maxInFlight: 1 });
    const [first] = c.submit([1], never());
    const ps = c.submit([2, 3], never());
    sent[0]!.fail(new Error('down'));
    await expect(first).rejects.toThrow('down');
    await tick();
    sent[1]!.fail(new Error('still down'));
    for (const r of await Promise.allSettled(ps)) expect((r as PromiseRejectedResult).reason.message).toBe('still down');
  });

  it('a waiting call whose signal aborts leaves the queue with its own error; the others still go', async () => {
    const { c, sent } = harness({ maxInFlight: 1 });
    c.submit([1], never());
    const ctl = new AbortController();
    const [cut] = c.submit([2], ctl.signal);
    const [kept] = c.submit([3], never());
    ctl.abort(new Error('deadline'));
    await expect(cut).rejects.toThrow('aborted: deadline');
    sent[0]!.answer(['one']);
    await tick();
    expect(sent[1]!.items).toEqual([3]);
    sent[1]!.answer(['three']);
    await expect(kept).resolves.toBe('three');
  });

  it('a sent call whose signal aborts settles at once; its RPC is aborted only when all its calls are given up', async () => {
    const { c, sent } = harness({ maxInFlight: 1 });
    const a = new AbortController();
    const b = new AbortController();
    const [pa, pb] = [...c.submit([1], a.signal), ...c.submit([2], b.signal)];
    expect(sent).toHaveLength(1);
    a.abort(new Error('gone'));
    await expect(pa).rejects.toThrow('aborted: gone');
    expect(sent[0]!.signal.aborted).toBe(true); // its only call was given up: the RPC's place is freed
    sent[0]!.fail(new Error('aborted'));
    await tick();
    expect(sent[1]!.items).toEqual([2]);
    sent[1]!.answer(['two']);
    await expect(pb).resolves.toBe('two');
    expect(sent[1]!.signal.aborted).toBe(false);
  });

  it('a call whose signal has already aborted is refused without being sent', async () => {
    const { c, sent } = harness();
    const [p] = c.submit([1], AbortSignal.abort(new Error('late')));
    await expect(p).rejects.toThrow('aborted: late');
    expect(sent).toHaveLength(0);
  });

  it('an RPC that outlives timeoutMs has its signal aborted as a timeout', async () => {
    const { c, sent } = harness({ timeoutMs: 50 });
    const [p] = c.submit([1], never());
    await new Promise((r) => setTimeout(r, 100));
    expect(sent[0]!.signal.aborted).toBe(true);
    expect((sent[0]!.signal.reason as DOMException).name).toBe('TimeoutError');
    sent[0]!.fail(new Error('timed out'));
    await expect(p).rejects.toThrow('timed out');
  });

  it('hands the outcomes of one RPC out one per turn of the event loop, in order', async () => {
    const { c, sent } = harness({ maxInFlight: 1 });
    c.submit([0], never());
    const settled: string[] = [];
    for (const p of c.submit([1, 2, 3], never())) void p.then((v) => settled.push(v));
    sent[0]!.answer(['zero']);
    await tick();
    sent[1]!.answer(['one', 'two', 'three']);
    await Promise.resolve();
    await Promise.resolve();
    expect(settled).toEqual(['one']);
    await tick();
    expect(settled).toEqual(['one', 'two']);
    await tick();
    expect(settled).toEqual(['one', 'two', 'three']);
  });
});

