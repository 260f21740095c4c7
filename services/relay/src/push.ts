/**
 * Push delivery: `GET /subscribe` with `Upgrade: websocket` and the bearer token of /login in
 * `Authorization`. The connection takes delivery of everything waiting for its user, in every session
 * the user is in (both of its queues where it is also the coordinator), as it arrives, and of the
 * session events: one JSON text frame each,
 *
 *   {"type":"message","session_id":"…","as_coordinator":false,"sender":"<hex>","msg":"<hex>"}
 *   {"type":"created","session_id":"…","coordinator":"<hex>"}
 *   {"type":"joined","session_id":"…","pubkey":"<hex>"}
 *   {"type":"closed","session_id":"…"}
 *
 * after a first {"type":"ready"} once what was already queued has been sent. A pushed message has left
 * its queue (a later /receive does not return it again); one whose frame could not be written goes back
 * to the head of its queue. Messages are drained only when the connection's send buffer is below its
 * bound, so a slow reader holds its backlog in the store, not in this process. The connection closes
 * with 4001 when its token expires or is logged out, and with 1001 when the relay shuts down.
 * @module
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '@hoarfrost/runtime';
import { WebSocket, WebSocketServer } from 'ws';
import type { RelayApi, User } from './api.js';
import type { RelayConfig } from './config.js';
import { RelayError, errorBody, toRelayError } from './errors.js';
import { clientAddress, rateClassOf } from './http.js';
import type { RelayMetrics } from './metrics.js';
import type { ConcurrencyLimiter, RateLimiter } from './rate-limit.js';
import { COORDINATOR_QUEUE, type QueueOwner, type RelayEvent, type RelayStore } from './store.js';
import { PUSH_PATH } from './wire.js';

export interface PushDeps {
  config: Readonly<RelayConfig>;
  api: RelayApi;
  store: RelayStore;
  metrics: RelayMetrics;
  logger: Logger;
  rate: RateLimiter;
  concurrency: ConcurrencyLimiter;
  isDraining: () => boolean;
}

/** Close codes of a push connection. */
export const PUSH_CLOSE = { tokenExpired: 4001, shuttingDown: 1001 } as const;

/** Frames a client may send are never larger than this (the relay reads none of them). */
const MAX_CLIENT_FRAME = 1024;
/** When the send buffer is over its bound, how soon to look again. */
const BACKLOG_RETRY_MS = 100;

/** One push connection: its user, its subscription, and the deliveries still to make. */
class PushConnection {
  readonly #ws: WebSocket;
  readonly #user: User;
  readonly #d: PushDeps;
  /** Queues to drain (session id + owner); drained one at a time, in order. */
  readonly #pending = new Map<string, { session: string; owner: QueueOwner }>();
  #draining = false;
  #closed = false;
  #alive = true;
  #unsubscribe: (() => Promise<void>) | undefined;
  #timers: NodeJS.Timeout[] = [];
  #retry: NodeJS.Timeout | undefined;

  constructor(ws: WebSocket, user: User, deps: PushDeps) {
    this.#ws = ws;
    this.#user = user;
    this.#d = deps;
  }

  async open(): Promise<void> {
    this.#ws.on('pong', () => (this.#alive = true));
    this.#unsubscribe = await this.#d.store.subscribe(this.#user.pubkey, (e) => this.#onEvent(e));
    if (this.#closed) return void (await this.#unsubscribe());
    await this.#flushAll();
    this.#send({ type: 'ready' });
    this.#timers.push(
      setInterval(() => {
        if (!this.#alive) return this.#ws.terminate();
        this.#alive = false;
        this.#ws.ping();
      }, this.#d.config.push.heartbeatMs),
      // The token is checked again from time to time (expiry, or a logout on another replica), and
      // everything is looked at again, in case an event was lost while the store was unreachable.
      setInterval(() => void this.#recheck(), this.#d.config.push.tokenCheckMs),
    );
    for (const t of this.#timers) t.unref();
  }

  async #recheck(): Promise<void> {
    try {
      const owner = await this.#d.store.tokenOwner(this.#user.token);
      if (owner !== this.#user.pubkey) return this.close(PUSH_CLOSE.tokenExpired, 'token expired or logged out');
      await this.#flushAll();
    } catch {
      // The store is unreachable: try again at the next tick.
    }
  }

  #onEvent(e: RelayEvent): void {
    if (e.type === 'queued') {
      this.#want(e.session_id, e.as_coordinator ? COORDINATOR_QUEUE : this.#user.pubkey);
      return;
    }
    this.#send(e);
  }

  /** Every queue of every session of the user. */
  async #flushAll(): Promise<void> {
    for (const id of await this.#d.store.sessionsOf(this.#user.pubkey)) {
      const s = await this.#d.store.session(id);
      if (!s) continue;
      if (s.coordinator === this.#user.pubkey) this.#want(id, COORDINATOR_QUEUE);
      if (s.pubkeys.includes(this.#user.pubkey)) this.#want(id, this.#user.pubkey);
    }
    await this.#drainPending();
  }

  #want(session: string, owner: QueueOwner): void {
    this.#pending.set(`${session} ${owner}`, { session, owner });
    void this.#drainPending();
  }

  async #drainPending(): Promise<void> {
    if (this.#draining || this.#closed) return;
    this.#draining = true;
    try {
      while (this.#pending.size > 0 && !this.#closed) {
        if (this.#ws.bufferedAmount > this.#d.config.push.maxBufferedBytes) {
          this.#retry ??= setTimeout(() => {
            this.#retry = undefined;
            void this.#drainPending();
          }, BACKLOG_RETRY_MS);
          return;
        }
        const [key, { session, owner }] = this.#pending.entries().next().value!;
        this.#pending.delete(key);
        const msgs = await this.#d.store.drain(session, owner).catch(() => []);
        if (msgs.length === 0) continue;
        const asCoordinator = owner === COORDINATOR_QUEUE;
        const frames = msgs.map((m) => JSON.stringify({ type: 'message', session_id: session, as_coordinator: asCoordinator, sender: m.sender, msg: m.msg }));
        const failed = await this.#write(frames);
        const delivered = msgs.length - failed;
        if (delivered > 0) this.#d.metrics.deliveries.inc({ channel: 'push' }, delivered);
        if (failed > 0) await this.#d.store.requeue(session, owner, msgs.slice(delivered)).catch(() => undefined);
      }
    } finally {
      this.#draining = false;
    }
  }

  /** Writes frames in order; resolves with how many (at the end) were not written. */
  #write(frames: string[]): Promise<number> {
    return new Promise((resolve) => {
      let written = 0;
      let done = false;
      const finish = (failed: number) => {
        if (!done) {
          done = true;
          resolve(failed);
        }
      };
      if (this.#ws.readyState !== WebSocket.OPEN) return finish(frames.length);
      for (const f of frames) {
        this.#ws.send(f, (err) => {
          if (err) return finish(frames.length - written);
          if (++written === frames.length) finish(0);
        });
      }
    });
  }

  #send(frame: object): void {
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify(frame));
  }

  get token(): string {
    return this.#user.token;
  }

  terminate(): void {
    this.#ws.terminate();
  }

  close(code: number, reason: string): void {
    if (this.#ws.readyState === WebSocket.OPEN || this.#ws.readyState === WebSocket.CONNECTING) this.#ws.close(code, reason);
  }

  /** After the socket closed: stop listening and timers. */
  async dispose(): Promise<void> {
    this.#closed = true;
    for (const t of this.#timers) clearInterval(t);
    clearTimeout(this.#retry);
    await this.#unsubscribe?.().catch(() => undefined);
  }
}

/** Accepts push connections on the API server's `upgrade` event. */
export class PushHub {
  readonly #d: PushDeps;
  readonly #wss: WebSocketServer;
  readonly #connections = new Set<PushConnection>();

  constructor(deps: PushDeps) {
    this.#d = deps;
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_FRAME, perMessageDeflate: false, clientTracking: false });
  }

  /** Refuses with the same statuses and body as the API: the upgrade never happens. */
  #refuse(socket: Duplex, e: RelayError): void {
    this.#d.metrics.refusals.inc({ code: e.code });
    const body = JSON.stringify(errorBody(e));
    const reason = e.status === 500 ? 'Internal Server Error' : 'Refused';
    const retry = e.retryAfterSeconds !== undefined ? `Retry-After: ${e.retryAfterSeconds}\r\n` : '';
    socket.end(`HTTP/1.1 ${e.status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${retry}Connection: close\r\n\r\n${body}`);
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const path = (req.url ?? '/').split('?')[0];
    if (path !== PUSH_PATH) return this.#refuse(socket, new RelayError('NOT_FOUND', 'no such endpoint'));
    if (req.method !== 'GET' || (req.headers.upgrade ?? '').toLowerCase() !== 'websocket') return this.#refuse(socket, new RelayError('UPGRADE_REQUIRED', 'WebSocket upgrade expected'));
    if (this.#d.isDraining()) return this.#refuse(socket, new RelayError('SHUTTING_DOWN', 'the relay is shutting down; retry'));
    const address = clientAddress(req, this.#d.config.trustedProxies);
    const wait = this.#d.rate.take(rateClassOf(PUSH_PATH), address);
    if (wait !== undefined) return this.#refuse(socket, new RelayError('THROTTLED', 'too many requests from this address', { retryAfterSeconds: wait }));
    const release = this.#d.concurrency.acquire(address);
    if (!release) return this.#refuse(socket, new RelayError('THROTTLED', 'too many requests in progress from this address', { retryAfterSeconds: 1 }));
    this.#d.api.authenticate(req.headers.authorization).then(
      (user) => {
        if (socket.destroyed) return release();
        this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws, user, release));
      },
      (err: unknown) => {
        release();
        this.#refuse(socket, toRelayError(err));
      },
    );
  }

  #accept(ws: WebSocket, user: User, release: () => void): void {
    const conn = new PushConnection(ws, user, this.#d);
    this.#connections.add(conn);
    this.#d.metrics.pushConnections.inc();
    ws.on('error', () => ws.terminate());
    ws.once('close', () => {
      this.#connections.delete(conn);
      this.#d.metrics.pushConnections.dec();
      release();
      void conn.dispose();
    });
    conn.open().catch((e: Error) => {
      this.#d.logger.warn({ err: e.message }, 'push connection could not start');
      conn.close(1011, 'relay error');
    });
  }

  /** Closes the connections of a token just logged out here (other replicas notice at their next check). */
  closeToken(token: string): void {
    for (const c of this.#connections) if (c.token === token) c.close(PUSH_CLOSE.tokenExpired, 'logged out');
  }

  /** Closes every push connection (shutdown); those still open after `terminateAfterMs` are cut. */
  closeAll(terminateAfterMs: number): void {
    for (const c of this.#connections) c.close(PUSH_CLOSE.shuttingDown, 'relay shutting down');
    setTimeout(() => {
      for (const c of this.#connections) c.terminate();
    }, terminateAfterMs).unref();
  }
}
