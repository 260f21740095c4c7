/**
 * Coalescing of calls to one signer under load: a call goes out at once while fewer than
 * `maxInFlight` RPCs are on their way; past that, calls wait, and each RPC that completes sends
 * everything waiting (up to the size limits) as one. At concurrency 1 nothing waits; under load the
 * per-RPC work (a token, a frame, a pass through the signer's handlers) is shared by many calls.
 *
 * Each call keeps its own deadline: its promise settles when its signal aborts, whether it is still
 * waiting (it never leaves) or already sent (its answer is dropped). An RPC whose every call was
 * given up is aborted too, which frees its place for calls that still wait, and so is one that
 * outlives `timeoutMs`.
 * @module
 */

export interface CoalescerOptions<I, R> {
  /**
   * Sends `items` as one RPC, bounded by `signal`; resolves with one outcome per item, in order (a
   * value, or the Error of that item), or rejects when the RPC as a whole failed.
   */
  send(items: I[], signal: AbortSignal): Promise<(R | Error)[]>;
  /** RPCs on their way at once. */
  maxInFlight: () => number;
  /** Items one RPC may carry. */
  maxItems: () => number;
  /** Size one RPC's items may add up to (in `sizeOf` units); a single larger item still goes, alone. */
  maxSize: () => number;
  sizeOf: (item: I) => number;
  /** The rejection of a call whose signal aborted (given the abort reason). */
  aborted: (reason: unknown) => Error;
  /** Bound on one RPC: its signal aborts then, whatever its calls allow (ms). */
  timeoutMs: number;
}

interface Entry<I, R> {
  item: I;
  settled: boolean;
  resolve: (r: R) => void;
  reject: (e: Error) => void;
  /** Set when sent: aborts the RPC once all its calls are given up. */
  group?: Group;
}

interface Group {
  open: number;
  controller: AbortController;
  /** The RPC has answered (or failed): nothing left to abort. */
  done: boolean;
}

export class Coalescer<I, R> {
  readonly #o: CoalescerOptions<I, R>;
  #queue: Entry<I, R>[] = [];
  #inFlight = 0;

  constructor(options: CoalescerOptions<I, R>) {
    this.#o = options;
  }

  /** One promise per item; items given together travel together when they fit in one RPC. */
  submit(items: readonly I[], signal: AbortSignal): Promise<R>[] {
    const promises = items.map((item) => {
      let resolveCall!: (r: R) => void;
      let rejectCall!: (e: Error) => void;
      const p = new Promise<R>((resolve, reject) => {
        resolveCall = resolve;
        rejectCall = reject;
      });
      /** Settles the call once; the last call of an RPC to settle before its answer aborts that RPC. */
      const settle = (f: () => void) => {
        if (entry.settled) return;
        entry.settled = true;
        signal.removeEventListener('abort', onAbort);
        f();
        if (entry.group && --entry.group.open === 0 && !entry.group.done) entry.group.controller.abort();
      };
      const entry: Entry<I, R> = { item, settled: false, resolve: (r) => settle(() => resolveCall(r)), reject: (e) => settle(() => rejectCall(e)) };
      const onAbort = () => {
        const queued = this.#queue.indexOf(entry);
        if (queued >= 0) this.#queue.splice(queued, 1);
        entry.reject(this.#o.aborted(signal.reason));
      };
      if (signal.aborted) onAbort();
      else {
        signal.addEventListener('abort', onAbort, { once: true });
        this.#queue.push(entry);
      }
      return p;
    });
    this.#pump();
    return promises;
  }

  #pump(): void {
    while (this.#inFlight < this.#o.maxInFlight() && this.#queue.length > 0) this.#send(this.#take());
  }

  /** The next RPC's entries: from the front of the queue, within the item and size limits. */
  #take(): Entry<I, R>[] {
    const maxItems = Math.max(1, this.#o.maxItems());
    const maxSize = this.#o.maxSize();
    const group: Entry<I, R>[] = [this.#queue.shift()!];
    let size = this.#o.sizeOf(group[0]!.item);
    while (group.length < maxItems && this.#queue.length > 0) {
      const next = this.#o.sizeOf(this.#queue[0]!.item);
      if (size + next > maxSize) break;
      size += next;
      group.push(this.#queue.shift()!);
    }
    return group;
  }

  #send(entries: Entry<I, R>[]): void {
    this.#inFlight++;
    const group: Group = { open: entries.length, controller: new AbortController(), done: false };
    for (const e of entries) e.group = group;
    const timer = setTimeout(() => group.controller.abort(new DOMException('The RPC timed out', 'TimeoutError')), this.#o.timeoutMs);
    timer.unref();
    let sent: Promise<(R | Error)[]>;
    try {
      sent = this.#o.send(
        entries.map((e) => e.item),
        group.controller.signal,
      );
    } catch (e) {
      sent = Promise.reject(e);
    }
    sent
      .then(
        (outcomes) => {
          group.done = true;
          deliver(entries, outcomes);
        },
        (err: unknown) => {
          group.done = true;
          const error = err instanceof Error ? err : new Error(String(err));
          for (const e of entries) e.reject(error);
        },
      )
      .finally(() => {
        clearTimeout(timer);
        this.#inFlight--;
        this.#pump();
      });
  }
}

/**
 * Hands each call its outcome, one per turn of the event loop after the first: what each caller does
 * with its outcome (for a coordinator: aggregate, verify, answer its caller) then runs in a turn of its
 * own, so one large batch never holds timers and other I/O for the sum of it.
 */
function deliver<I, R>(entries: Entry<I, R>[], outcomes: (R | Error)[]): void {
  let i = 0;
  const next = () => {
    const e = entries[i]!;
    const o = outcomes[i];
    i++;
    if (o instanceof Error) e.reject(o);
    else e.resolve(o as R);
    if (i < entries.length) setImmediate(next);
  };
  next();
}

