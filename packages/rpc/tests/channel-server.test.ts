// The signer's dialled channels (signer-dials mode): one connection to every address the
// coordinator's name has, following its lookups (replicas appearing and going), over real TLS to real
// listeners on 127.0.0.1, 127.0.0.2 and ::1, all on the same port as the replicas of a headless Service.
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import WebSocket, { WebSocketServer } from 'ws';
import { createCertificateAuthority, type CertificateAuthority, type CertificatePair } from '../../testkit/src/pki.js';
import { ChannelServer, type ChannelDialOptions } from '../src/channel-server.js';
import { CHANNEL_PROTOCOL, decodeFrame, encodeRequestFrame, type AnswerFrame } from '../src/frames.js';

let authority: CertificateAuthority;
let signer: CertificatePair;
let coordinator: CertificatePair;

beforeAll(async () => {
  authority = await createCertificateAuthority('channel server test CA');
  signer = await authority.issue({ commonName: 'signer-1', dnsNames: ['signer-1'], usages: ['server', 'client'] });
  coordinator = await authority.issue({ commonName: 'coordinator', dnsNames: ['coordinator.test', 'coordinator'], usages: ['server'] });
});

interface Accepted {
  ws: WebSocket;
  servername: string | false | null;
  hostHeader: string | undefined;
  peerSan: string | undefined;
  closed: number | undefined;
  answers: AnswerFrame[];
}

/** One coordinator replica's signer listener: it records the connections signers open to it. */
interface Replica {
  address: string;
  port: number;
  accepted: Accepted[];
  open(): Accepted[];
  close(): Promise<void>;
}

async function startReplica(address: string, port: number): Promise<Replica> {
  const server: Server = createServer({ cert: coordinator.certPem, key: coordinator.keyPem, ca: authority.certPem, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' });
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (p) => (p.has(CHANNEL_PROTOCOL) ? CHANNEL_PROTOCOL : false) });
  const replica: Replica = {
    address,
    port,
    accepted: [],
    open: () => replica.accepted.filter((a) => a.closed === undefined),
    close: async () => {
      for (const a of replica.accepted) a.ws.terminate();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  server.on('upgrade', (req: IncomingMessage, socket, head) => {
    const tls = socket as TLSSocket;
    wss.handleUpgrade(req, socket, head, (ws) => {
      const a: Accepted = { ws, servername: tls.servername, hostHeader: req.headers.host, peerSan: tls.getPeerCertificate().subjectaltname, closed: undefined, answers: [] };
      ws.on('message', (data: Buffer) => a.answers.push(decodeFrame(data) as AnswerFrame));
      ws.on('close', (code) => (a.closed = code));
      replica.accepted.push(a);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => resolve());
  });
  replica.port = (server.address() as AddressInfo).port;
  return replica;
}

/** Replicas on each of `addresses`, all on one port (as a Service port is the same on every pod). */
async function startReplicas(addresses: string[]): Promise<{ port: number; replicas: Replica[] }> {
  for (let attempt = 0; ; attempt++) {
    const first = await startReplica(addresses[0]!, 0);
    const replicas = [first];
    try {
      for (const a of addresses.slice(1)) replicas.push(await startReplica(a, first.port));
      open.push(...replicas);
      return { port: first.port, replicas };
    } catch (e) {
      // The port was free on the first address only: try another.
      await Promise.all(replicas.map((r) => r.close()));
      if (attempt >= 5) throw e;
    }
  }
}

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

async function until(ok: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A signer's channel server answering every request with 200 and the request's body; `seen` gets each request id as it arrives. */
function signerSide(hold?: Promise<void>, seen?: number[]): ChannelServer {
  const channels = new ChannelServer({
    maxRequestBytes: 4096,
    handle: async (frame) => {
      seen?.push(frame.id);
      await hold;
      return { status: 200, body: frame.body };
    },
  });
  open.unshift({ close: () => channels.close(0) });
  return channels;
}

function dialOptions(port: number, extra: Partial<ChannelDialOptions> = {}): ChannelDialOptions {
  return {
    url: `https://coordinator.test:${port}`,
    caPem: authority.certPem,
    certPem: signer.certPem,
    keyPem: signer.keyPem,
    connectTimeoutMs: 2000,
    checkServerIdentity: (_host, cert) => (cert.subjectaltname?.split(', ').includes('DNS:coordinator.test') ? undefined : new Error('not the coordinator')),
    backoff: { initialMs: 10, maxMs: 50 },
    resolveIntervalMs: 20,
    ...extra,
  };
}

/** A request frame from a replica over its connection, answered by the signer's handler. */
function ask(a: Accepted, id: number): void {
  a.ws.send(encodeRequestFrame(id, '/v1/info', 'token', Uint8Array.of(id)));
}

describe('ChannelServer.dial: one connection per address of the coordinator name', () => {
  it('dials each address as it appears, over TLS for the name, and retires the connection of one that disappeared', async () => {
    const { port, replicas } = await startReplicas(['127.0.0.1', '127.0.0.2']);
    const [a, b] = replicas as [Replica, Replica];
    let addresses = ['127.0.0.1'];
    const lookedUp: string[] = [];
    const events: unknown[] = [];
    const channels = signerSide();
    channels.dial(
      dialOptions(port, {
        resolve: async (host) => (lookedUp.push(host), addresses),
        onResolve: (e) => events.push(e),
      }),
    );
    await until(() => a.open().length === 1);
    expect(lookedUp[0]).toBe('coordinator.test');
    expect(a.accepted[0]!).toMatchObject({ servername: 'coordinator.test', hostHeader: `coordinator.test:${port}`, peerSan: 'DNS:signer-1' });

    addresses = ['127.0.0.2', '127.0.0.1'];
    await until(() => b.open().length === 1);
    expect(b.accepted[0]!.servername).toBe('coordinator.test');
    // The connection to the address already known is kept, not dialled again.
    expect(a.accepted).toHaveLength(1);
    expect(a.open()).toHaveLength(1);
    // Both are served: each replica gets its answers on its own connection.
    ask(a.accepted[0]!, 1);
    ask(b.accepted[0]!, 2);
    await until(() => a.accepted[0]!.answers.length === 1 && b.accepted[0]!.answers.length === 1);
    expect(a.accepted[0]!.answers[0]).toMatchObject({ id: 1, status: 200 });
    expect(b.accepted[0]!.answers[0]).toMatchObject({ id: 2, status: 200 });

    addresses = ['127.0.0.2'];
    await until(() => a.accepted[0]!.closed !== undefined);
    expect(a.accepted[0]!.closed).toBe(1001);
    await pause(150); // several lookups later: the gone address is not dialled again
    expect(a.accepted).toHaveLength(1);
    expect(b.open()).toHaveLength(1);
    expect(b.accepted).toHaveLength(1);
    expect(events).toEqual([
      { added: ['127.0.0.1'], removed: [] },
      { added: ['127.0.0.2'], removed: [] },
      { added: [], removed: ['127.0.0.1'] },
    ]);
  });

  it('keeps its connections when a lookup fails or finds nothing', async () => {
    const { port, replicas } = await startReplicas(['127.0.0.1', '127.0.0.2']);
    let answer: () => Promise<string[]> = async () => ['127.0.0.1', '127.0.0.2'];
    const errors: string[] = [];
    const channels = signerSide();
    channels.dial(dialOptions(port, { resolve: () => answer(), onResolve: (e) => 'error' in e && errors.push(e.error) }));
    await until(() => replicas.every((r) => r.open().length === 1));
    answer = async () => {
      throw new Error('getaddrinfo EAI_AGAIN coordinator.test');
    };
    await until(() => errors.length >= 2);
    answer = async () => [];
    await until(() => errors.includes('no address'));
    expect(errors[0]).toBe('getaddrinfo EAI_AGAIN coordinator.test');
    for (const r of replicas) {
      expect(r.accepted).toHaveLength(1);
      expect(r.open()).toHaveLength(1);
    }
  });

  it('closes a gone address only once its requests are answered', async () => {
    const { port, replicas } = await startReplicas(['127.0.0.1', '127.0.0.2']);
    const [a] = replicas as [Replica, Replica];
    let addresses = ['127.0.0.1', '127.0.0.2'];
    let release!: () => void;
    const hold = new Promise<void>((r) => (release = r));
    const removed: string[] = [];
    const seen: number[] = [];
    const channels = signerSide(hold, seen);
    channels.dial(dialOptions(port, { resolve: async () => addresses, onResolve: (e) => 'removed' in e && removed.push(...e.removed) }));
    await until(() => replicas.every((r) => r.open().length === 1));
    ask(a.accepted[0]!, 7);
    await until(() => seen.includes(7)); // in the handler, unanswered, before its address goes
    addresses = ['127.0.0.2'];
    await until(() => removed.includes('127.0.0.1'));
    await pause(100);
    expect(a.accepted[0]!.closed).toBeUndefined();
    release();
    await until(() => a.accepted[0]!.closed !== undefined);
    expect(a.accepted[0]!.answers.map((f) => f.id)).toEqual([7]);
    expect(a.accepted[0]!.closed).toBe(1001);
  });

  it('dials only the addresses of the family listed first (a dual-stack replica is dialled once)', async () => {
    const { port, replicas } = await startReplicas(['127.0.0.1', '::1']);
    const [v4, v6] = replicas as [Replica, Replica];
    const first = signerSide();
    first.dial(dialOptions(port, { resolve: async () => ['::1', '127.0.0.1', '::1'] }));
    await until(() => v6.open().length === 1);
    expect(v6.accepted[0]!.servername).toBe('coordinator.test');
    const second = signerSide();
    second.dial(dialOptions(port, { resolve: async () => ['127.0.0.1', '::1'] }));
    await until(() => v4.open().length === 1);
    await pause(150);
    expect(v6.accepted).toHaveLength(1);
    expect(v4.accepted).toHaveLength(1);
  });

  it('dials an IP literal as it is, without a lookup', async () => {
    const { port, replicas } = await startReplicas(['127.0.0.1']);
    const lookups: string[] = [];
    const channels = signerSide();
    channels.dial(dialOptions(port, { url: `https://127.0.0.1:${port}`, resolve: async (h) => (lookups.push(h), []) }));
    await until(() => replicas[0]!.open().length === 1);
    await pause(100);
    expect(lookups).toEqual([]);
    expect(replicas[0]!.accepted).toHaveLength(1);
    expect(replicas[0]!.accepted[0]!.servername).toBe(false);
  });

  it('close: every dialled connection closes (1001) and none is dialled again', async () => {
    const { port, replicas } = await startReplicas(['127.0.0.1', '127.0.0.2']);
    const channels = new ChannelServer({ maxRequestBytes: 4096, handle: async (f) => ({ status: 200, body: f.body }) });
    let up = 0;
    channels.dial(dialOptions(port, { resolve: async () => ['127.0.0.1', '127.0.0.2'], onStateChange: (connected) => (up += connected ? 1 : 0) }));
    // Open on the signer's side too (one still connecting at close is dropped, not closed).
    await until(() => up === 2);
    await channels.close(1000);
    await until(() => replicas.every((r) => r.accepted[0]!.closed !== undefined));
    for (const r of replicas) expect(r.accepted[0]!.closed).toBe(1001);
    await pause(150);
    for (const r of replicas) expect(r.accepted).toHaveLength(1);
  });

  it('reconnects to an address whose connection dropped', async () => {
    const { port, replicas } = await startReplicas(['127.0.0.1', '127.0.0.2']);
    const [a, b] = replicas as [Replica, Replica];
    const states: string[] = [];
    const channels = signerSide();
    channels.dial(dialOptions(port, { resolve: async () => ['127.0.0.1', '127.0.0.2'], onStateChange: (up, address) => states.push(`${up ? 'up' : 'down'} ${address}`) }));
    await until(() => states.length === 2);
    a.accepted[0]!.ws.terminate();
    await until(() => states.filter((s) => s === 'up 127.0.0.1').length === 2);
    expect(a.open()).toHaveLength(1);
    expect(a.accepted).toHaveLength(2);
    expect(b.accepted).toHaveLength(1);
    expect(states.filter((s) => s.endsWith('127.0.0.1'))).toEqual(['up 127.0.0.1', 'down 127.0.0.1', 'up 127.0.0.1']);
  });

  it('redials with backoff a peer that closes each connection as soon as it opens (no reconnection storm)', async () => {
    const { port, replicas } = await startReplicas(['127.0.0.1']);
    const [a] = replicas as [Replica];
    const ups: number[] = [];
    const channels = signerSide();
    // The replica drops every connection at once (e.g. another signer with the same certificate replaces it).
    const drop = setInterval(() => a.open().forEach((x) => x.ws.terminate()), 5);
    try {
      channels.dial(dialOptions(port, { resolve: async () => ['127.0.0.1'], backoff: { initialMs: 100, maxMs: 400 }, onStateChange: (up) => up && ups.push(Date.now()) }));
      await until(() => ups.length >= 1);
      await pause(1000);
    } finally {
      clearInterval(drop);
    }
    // Redialled at once after each drop, a loopback TLS connection would reopen every few milliseconds
    // (hundreds in a second); with backoff, at most a handful.
    expect(a.accepted.length).toBeGreaterThanOrEqual(2);
    expect(a.accepted.length).toBeLessThanOrEqual(12);
  });

  it('refuses a dial URL that is not https', () => {
    const channels = signerSide();
    expect(() => channels.dial(dialOptions(1, { url: 'http://coordinator.test:1' }))).toThrow(/https origin/);
    expect(() => channels.dial(dialOptions(1, { resolveIntervalMs: 0 }))).toThrow(/resolveIntervalMs/);
  });
});
