// The crypto pool's side of the thread boundary: what a task posts to a worker, and how a reply comes
// back. Jest runs the sources and cannot load the compiled crypto-worker.js, so the Worker class is a
// stand-in that hands every posted message through a real MessageChannel (the structured clone a
// worker's postMessage makes) and answers as crypto-worker.ts does.
import { afterAll, describe, expect, it, jest } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { MessageChannel } from 'node:worker_threads';
import { Identifier, SigningPackage, computeBindingFactors, computeOthersTerm, round1, toHex, trustedDealerKeygen } from '@hoarfrost/frost';
import { decodeCbor, decodeRound2Request, encodeCbor, encodeRound2Request, parseRound2Request } from '@hoarfrost/rpc';
import type { PrepareBatch, PrepareReply, PrepareTask } from '../src/crypto-pool.js';

/** What reached the stand-in worker, after the structured clone: each task, and how many messages carried them. */
const received: PrepareTask[] = [];
let messages = 0;

class StandInWorker extends EventEmitter {
  postMessage(message: unknown): void {
    const { port1, port2 } = new MessageChannel();
    const answer = (task: PrepareTask): PrepareReply => {
      received.push(task);
      const own = Identifier.fromHex(task.ownHex);
      const pkg = decodeRound2Request(task.request, own);
      const bindingFactors = computeBindingFactors(pkg, task.verifyingKey);
      return { id: task.id, bindingFactors: [...bindingFactors], othersTerm: computeOthersTerm(pkg, bindingFactors, own) };
    };
    port2.once('message', (m: PrepareTask | PrepareBatch) => {
      port1.close();
      messages++;
      this.emit('message', 'tasks' in m ? { id: m.id, replies: m.tasks.map((t) => answer({ ...t, id: m.id })) } : answer(m));
    });
    port1.postMessage(message);
  }
  unref(): void {}
  async terminate(): Promise<number> {
    return 0;
  }
}

jest.unstable_mockModule('node:worker_threads', () => ({ Worker: StandInWorker }));
const { CryptoPool, workerMessage } = await import('../src/crypto-pool.js');

const pool = new CryptoPool(1, 2);
afterAll(() => pool.close());

const dealt = trustedDealerKeygen({ minSigners: 2, maxSigners: 3 });
const kpOf = (n: number) => dealt.keyPackages.get(Identifier.fromNumber(n).toHex())!;

/** Every byte array of a task, by field. */
function byteFields(task: Pick<PrepareTask, 'verifyingKey' | 'request'>): [string, Uint8Array][] {
  return [
    ['verifyingKey', task.verifyingKey],
    ['message', task.request.message],
    ...task.request.commitments.flatMap((c, i) => [[`identifier[${i}]`, c.identifier], [`hiding[${i}]`, c.hiding], [`binding[${i}]`, c.binding]] as [string, Uint8Array][]),
  ];
}

/**
 * A round-2 request decoded as the signer decodes a body, from bytes that share one larger buffer with
 * `secret` (as a small body shares Node's allocation pool with whatever was decoded before it), and the
 * group key as a view of a buffer that holds the secret too.
 */
function taskBesideSecret(secret: Uint8Array) {
  const pkg = new SigningPackage([1, 2].map((n) => ({ identifier: Identifier.fromNumber(n), commitments: round1.commit(kpOf(n).signingShare).commitments })), new TextEncoder().encode('mint'));
  const body = encodeCbor(encodeRound2Request('default', pkg));
  const backing = new Uint8Array(4096);
  backing.set(secret, 0);
  backing.set(body, 64);
  const request = parseRound2Request(decodeCbor(Buffer.from(backing.buffer, 64, body.length)));
  const keyBacking = new Uint8Array(96);
  keyBacking.set(secret, 0);
  keyBacking.set(dealt.publicKeyPackage.verifyingKeyBytes, 32);
  const verifyingKey = keyBacking.subarray(32, 64);
  return { pkg, task: { ownHex: Identifier.fromNumber(1).toHex(), verifyingKey, request } };
}

describe('workerMessage', () => {
  it('copies every byte field into an ArrayBuffer of exactly its length', () => {
    const { task } = taskBesideSecret(randomBytes(32));
    // The hazard is real: the decoded fields are views of the whole backing buffer.
    expect(task.request.message.buffer.byteLength).toBe(4096);
    const message = workerMessage(task, 7);
    expect(message.id).toBe(7);
    expect(Object.keys(message).sort()).toEqual(['id', 'ownHex', 'request', 'verifyingKey']);
    for (const [name, bytes] of byteFields(message)) {
      expect({ name, offset: bytes.byteOffset, buffer: bytes.buffer.byteLength }).toEqual({ name, offset: 0, buffer: bytes.length });
    }
    expect(byteFields(message).map(([, b]) => toHex(b))).toEqual(byteFields(task).map(([, b]) => toHex(b)));
  });
});

describe('CryptoPool.prepare', () => {
  it('posts no byte beyond the fields a task needs, and the reply is what the worker computed', async () => {
    const secret = randomBytes(32);
    const { pkg, task } = taskBesideSecret(secret);
    const prepared = await pool.prepare(task);
    const got = received.at(-1)!;
    for (const [name, bytes] of byteFields(got)) {
      expect({ name, offset: bytes.byteOffset, buffer: bytes.buffer.byteLength }).toEqual({ name, offset: 0, buffer: bytes.length });
      expect(Buffer.from(bytes.buffer).indexOf(secret)).toBe(-1);
    }
    const own = Identifier.fromNumber(1);
    const bindingFactors = computeBindingFactors(pkg, dealt.publicKeyPackage.verifyingKeyBytes);
    expect(prepared.bindingFactors).toEqual(bindingFactors);
    expect(toHex(prepared.othersTerm)).toBe(toHex(computeOthersTerm(pkg, bindingFactors, own)));
  });
});

describe('CryptoPool.prepareMany', () => {
  it('sends a batch to the worker in one message, every field copied exactly, and answers each task in order', async () => {
    const secret = randomBytes(32);
    const many = [0, 1, 2].map(() => taskBesideSecret(secret));
    const before = { messages, tasks: received.length };
    const prepared = await pool.prepareMany(many.map((m) => m.task));
    expect(messages - before.messages).toBe(1);
    const got = received.slice(before.tasks);
    expect(got).toHaveLength(3);
    for (const task of got) {
      for (const [name, bytes] of byteFields(task)) {
        expect({ name, offset: bytes.byteOffset, buffer: bytes.buffer.byteLength }).toEqual({ name, offset: 0, buffer: bytes.length });
        expect(Buffer.from(bytes.buffer).indexOf(secret)).toBe(-1);
      }
    }
    many.forEach(({ pkg }, i) => {
      const p = prepared[i]!;
      if (p instanceof Error) throw p;
      const bindingFactors = computeBindingFactors(pkg, dealt.publicKeyPackage.verifyingKeyBytes);
      expect(p.bindingFactors).toEqual(bindingFactors);
      expect(toHex(p.othersTerm)).toBe(toHex(computeOthersTerm(pkg, bindingFactors, Identifier.fromNumber(1))));
    });
  });
});
