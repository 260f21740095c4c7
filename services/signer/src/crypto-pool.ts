/**
 * A small pool of worker threads that keeps the signer's event loop free on large signing packages:
 * per-request point work grows with t (milliseconds at 15-of-20, bench/RESULTS.md), enough to stall
 * probes and TLS handshakes. Packages with at least `minParticipants` entries go to a worker; smaller
 * ones stay inline, where a thread hop would cost more than it saves.
 *
 * Only exact copies of the public bytes a task needs are posted ({@link workerMessage}): posting a
 * view clones the whole buffer behind it, and a field decoded from a request body is a view of a
 * larger buffer (Node's shared allocation pool for small bodies) that may hold anything the process
 * handled recently.
 * @module
 */
import { Worker } from 'node:worker_threads';
import type { PreparedSigning } from '@hoarfrost/frost';
import { isSignerErrorCode, type Round2Request } from '@hoarfrost/rpc';
import { SignerError } from './errors.js';

export interface PrepareTask {
  id: number;
  ownHex: string;
  verifyingKey: Uint8Array;
  request: Round2Request;
}

export type PrepareReply =
  | { id: number; bindingFactors: [string, bigint][]; othersTerm: Uint8Array; error?: undefined }
  | { id: number; error: { code: string; message: string } };

/** Several tasks in one message (a batch's share of one worker), answered in one message. */
export interface PrepareBatch {
  id: number;
  tasks: Omit<PrepareTask, 'id'>[];
}
export interface PrepareBatchReply {
  id: number;
  replies: Omit<PrepareReply, 'id'>[];
}

/**
 * The message that carries `task` to a worker: every byte field copied into an ArrayBuffer of its own,
 * exactly as long as the field, and only the fields a task has (what the worker reads, nothing else).
 */
export function workerMessage(task: Omit<PrepareTask, 'id'>, id: number): PrepareTask {
  const exact = (b: Uint8Array): Uint8Array => new Uint8Array(b); // a copy; Buffer#slice would be a view
  const { request } = task;
  return {
    id,
    ownHex: task.ownHex,
    verifyingKey: exact(task.verifyingKey),
    request: {
      key_id: request.key_id,
      message: exact(request.message),
      commitments: request.commitments.map((c) => ({ identifier: exact(c.identifier), hiding: exact(c.hiding), binding: exact(c.binding) })),
    },
  };
}

interface Pending {
  resolve: (r: PrepareReply | PrepareBatchReply) => void;
  reject: (e: Error) => void;
  worker: Worker;
}

export class CryptoPool {
  readonly minParticipants: number;
  #workers: Worker[] = [];
  #next = 0;
  #seq = 0;
  readonly #pending = new Map<number, Pending>();
  #closed = false;

  constructor(size: number, minParticipants: number) {
    this.minParticipants = minParticipants;
    for (let i = 0; i < size; i++) this.#workers.push(this.#spawn());
  }

  #spawn(): Worker {
    const w = new Worker(new URL('./crypto-worker.js', import.meta.url));
    w.on('message', (r: PrepareReply | PrepareBatchReply) => {
      const p = this.#pending.get(r.id);
      if (!p) return;
      this.#pending.delete(r.id);
      p.resolve(r);
    });
    const fail = (err: Error) => {
      for (const [id, p] of this.#pending) {
        if (p.worker !== w) continue;
        this.#pending.delete(id);
        p.reject(err);
      }
      if (!this.#closed) {
        const i = this.#workers.indexOf(w);
        if (i >= 0) this.#workers[i] = this.#spawn();
      }
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`crypto worker exited with ${code}`)));
    w.unref();
    return w;
  }

  /**
   * The public part of round two for `task.request`, computed in a worker. Rejects with a SignerError
   * carrying the documented code when the package is refused (INVALID_POINT, ...).
   */
  async prepare(task: Omit<PrepareTask, 'id'>): Promise<PreparedSigning> {
    const worker = this.#workers[this.#next++ % this.#workers.length]!;
    const id = ++this.#seq;
    const r = (await new Promise<PrepareReply | PrepareBatchReply>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, worker });
      worker.postMessage(workerMessage(task, id));
    })) as PrepareReply;
    const out = preparedOf(r);
    if (out instanceof Error) throw out;
    return out;
  }

  /**
   * {@link prepare} for many tasks in one pass: split evenly over the workers, one message each way
   * per worker. One outcome per task, in order: its prepared part, or the SignerError of that task.
   */
  async prepareMany(tasks: Omit<PrepareTask, 'id'>[]): Promise<(PreparedSigning | SignerError)[]> {
    const n = Math.min(this.#workers.length, tasks.length);
    const per = Math.ceil(tasks.length / n);
    const parts = await Promise.all(
      Array.from({ length: n }, (_, k) => {
        const chunk = tasks.slice(k * per, (k + 1) * per);
        const worker = this.#workers[this.#next++ % this.#workers.length]!;
        const id = ++this.#seq;
        return new Promise<PrepareReply | PrepareBatchReply>((resolve, reject) => {
          this.#pending.set(id, { resolve, reject, worker });
          const batch: PrepareBatch = { id, tasks: chunk.map((t) => workerMessage(t, 0)) };
          worker.postMessage(batch);
        }).then((r) => (r as PrepareBatchReply).replies.map((x) => preparedOf({ ...x, id } as PrepareReply)));
      }),
    );
    return parts.flat();
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}

/** A worker's reply as a prepared part, or the SignerError carrying the documented code of its refusal. */
function preparedOf(r: PrepareReply): PreparedSigning | SignerError {
  if (r.error) {
    const { code, message } = r.error;
    return new SignerError(isSignerErrorCode(code) ? code : code === 'INTERNAL' ? 'INTERNAL' : 'INVALID_SIGNING_PACKAGE', message);
  }
  return { bindingFactors: new Map(r.bindingFactors), othersTerm: r.othersTerm };
}
