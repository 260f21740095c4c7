/**
 * Worker thread for the public part of round two on large signing packages: validating every other
 * participant's commitments (DeserializeElement with the subgroup check) and computing the binding
 * factors and Σ D_j + ρ_j·E_j. Only public data enters or leaves this thread; the signer's nonces and
 * share stay on the main thread, which finishes the signature share.
 * @module
 */
import { parentPort } from 'node:worker_threads';
import { FrostError, Identifier, computeBindingFactors, computeOthersTerm } from '@hoarfrost/frost';
import { decodeRound2Request } from '@hoarfrost/rpc';
import type { PrepareBatch, PrepareBatchReply, PrepareReply, PrepareTask } from './crypto-pool.js';

function prepare(task: PrepareTask): PrepareReply {
  try {
    const own = Identifier.fromHex(task.ownHex);
    // The signer's own commitment was matched against its nonce store by the main thread.
    const pkg = decodeRound2Request(task.request, own);
    const bindingFactors = computeBindingFactors(pkg, task.verifyingKey);
    // A copy of exactly the 32 bytes: a backend may return a view of a larger buffer, all of which would be posted.
    return { id: task.id, bindingFactors: [...bindingFactors], othersTerm: new Uint8Array(computeOthersTerm(pkg, bindingFactors, own)) };
  } catch (e) {
    return { id: task.id, error: { code: e instanceof FrostError ? e.code : 'INTERNAL', message: (e as Error).message } };
  }
}

parentPort!.on('message', (message: PrepareTask | PrepareBatch) => {
  if ('tasks' in message) {
    const reply: PrepareBatchReply = { id: message.id, replies: message.tasks.map((t) => prepare({ ...t, id: message.id })) };
    parentPort!.postMessage(reply);
  } else {
    parentPort!.postMessage(prepare(message));
  }
});
