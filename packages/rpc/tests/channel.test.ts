// The client over a signer's channel (a WebSocket on the signer's mutual-TLS port): frames, pinning,
// fallback to HTTP for signers without a channel, failures, liveness, coalescing, and a channel the
// signer dials itself.
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import WebSocket, { WebSocketServer } from 'ws';
import { createCertificateAuthority, type CertificateAuthority, type CertificatePair } from '../../testkit/src/pki.js';
import { decodeCbor, encodeCbor } from '../src/cbor.js';
import type { ChannelAnswer, ChannelConnectOutcome, ChannelState } from '../src/channel.js';
import { ChannelServer } from '../src/channel-server.js';
import { SignerCallError } from '../src/errors.js';
import { CHANNEL_PROTOCOL, type RequestFrame } from '../src/frames.js';
import { SignerClient, type CoalescedRpc, type SignerClientOptions } from '../src/client.js';
import { RPC_PATHS } from '../src/protocol.js';
import { RpcTokenSigner, RpcTokenVerifier, publicJwk } from '../src/tokens.js';

const { privateKey } = generateKeyPairSync('ed25519');
const tokens = new RpcTokenSigner({ privateKey, kid: 'k1', issuer: 'coordinator' });
const verifier = () => new RpcTokenVerifier({ jwks: { keys: [publicJwk(privateKey, 'k1')] }, issuer: 'coordinator', audience: 'signer-1' });

let authority: CertificateAuthority;
let signer1: CertificatePair;
let signer2: CertificatePair;
/** Signer 1's certificate for dialling out too (a TLS client certificate needs the clientAuth usage). */
let signer1Dialling: CertificatePair;
let coordinator: CertificatePair;

const b32 = (fill: number) => new Uint8Array(32).fill(fill);
const cborAnswer = (value: unknown): ChannelAnswer => ({ status: 200, body: encodeCbor(value) });
const refusal = (status: number, code: string): ChannelAnswer => ({ status, body: Buffer.from(JSON.stringify({ error: { code, message: code.toLowerCase() } })) });
const infoAnswer = (extra: Record<string, number> = {}) => cborAnswer({ identifier: b32(1), keys: [], ...extra });
const shareAnswer = (fill: number) => cborAnswer({ identifier: b32(1), share: b32(fill) });
const round2Request = (n: number) => ({ key_id: 'default', message: Uint8Array.of(n), commitments: [{ identifier: b32(1), hiding: b32(2), binding: b32(3) }] });

interface FakeSigner {
  port: number;
  server: Server;
  frames: RequestFrame[];
  httpRequests: number;
  upgrades: number;
  answer: (f: RequestFrame) => ChannelAnswer | Promise<ChannelAnswer>;
  channels: ChannelServer;
  close(): Promise<void>;
}

/**
 * An mTLS server with a channel (or without: `channel: false`, an older signer answering every
 * request with a 404 JSON error), or refusing every upgrade with `refuseUpgrade`.
 */
async function startSigner(pair: CertificatePair, options: { channel?: boolean; refuseUpgrade?: [number, string] } = {}): Promise<FakeSigner> {
  const fake = { frames: [] as RequestFrame[], httpRequests: 0, upgrades: 0, answer: () => infoAnswer() } as unknown as FakeSigner;
  fake.channels = new ChannelServer({
    maxRequestBytes: 64 * 1024,
    handle: async (frame) => {
      fake.frames.push(frame);
      return fake.answer(frame);
    },
  });
  fake.server = createServer({ cert: pair.certPem, key: pair.keyPem, ca: authority.certPem, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' }, (req, res) => {
    fake.httpRequests++;
    req.resume();
    req.on('end', () => {
      // An old signer: round 1 over HTTP works, anything else is unknown.
      if (req.url === RPC_PATHS.round1) res.writeHead(200, { 'content-type': 'application/cbor' }).end(encodeCbor({ identifier: b32(1), commitments: [{ hiding: b32(2), binding: b32(3) }], ttl_ms: 1000 }));
      else res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'no such RPC' } }));
    });
  });
  if (options.channel !== false) {
    fake.server.on('upgrade', (req, socket, head) => {
      fake.upgrades++;
      if (options.refuseUpgrade) {
        const [status, code] = options.refuseUpgrade;
        const body = JSON.stringify({ error: { code, message: 'refused' } });
        return void socket.end(`HTTP/1.1 ${status} Refused\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
      }
      fake.channels.upgrade(req, socket, head);
    });
  }
  await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
  fake.port = (fake.server.address() as AddressInfo).port;
  fake.close = async () => {
    await fake.channels.close(0);
    fake.server.closeAllConnections();
    await new Promise<void>((resolve) => fake.server.close(() => resolve()));
  };
  return fake;
}

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

function client(port: number, options: Partial<SignerClientOptions> = {}): SignerClient {
  const c = new SignerClient({ id: 'signer-1', url: `https://127.0.0.1:${port}`, caPem: authority.certPem, certPem: coordinator.certPem, keyPem: coordinator.keyPem, tokens, timeoutMs: 5000, ...options });
  open.unshift(c);
  return c;
}

async function started(pair: CertificatePair, options?: Parameters<typeof startSigner>[1]): Promise<FakeSigner> {
  const s = await startSigner(pair, options);
  open.push(s);
  return s;
}

async function callError(p: Promise<unknown>): Promise<SignerCallError> {
  const e = await p.then(
    () => new Error('expected the call to fail'),
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(SignerCallError);
  return e as SignerCallError;
}

/** A peer on 127.0.0.1 that accepts TCP and never says anything (no TLS): its port, and the connections it holds. */
async function silentTcpPeer(): Promise<{ port: number; sockets: ReadonlySet<Socket> }> {
  const sockets = new Set<Socket>();
  const tcp = createTcpServer((sock) => {
    sockets.add(sock);
    sock.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  open.push({
    close: async () => {
      for (const sock of sockets) sock.destroy();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    },
  });
  return { port: (tcp.address() as AddressInfo).port, sockets };
}

beforeAll(async () => {
  authority = await createCertificateAuthority('channel test CA');
  signer1 = await authority.issue({ commonName: 'signer-1', dnsNames: ['signer-1'], usages: ['server'] });
  signer2 = await authority.issue({ commonName: 'signer-2', dnsNames: ['signer-2'], usages: ['server'] });
  signer1Dialling = await authority.issue({ commonName: 'signer-1', dnsNames: ['signer-1'], usages: ['server', 'client'] });
  coordinator = await authority.issue({ commonName: 'coordinator', dnsNames: ['coordinator'], usages: ['client', 'server'] });
});

describe('SignerClient over the channel', () => {
  it('sends each RPC as a frame on one connection, with a token for exactly its path and body; no HTTP request', async () => {
    const s = await started(signer1);
    const states: ChannelState[] = [];
    const connects: ChannelConnectOutcome[] = [];
    const c = client(s.port, { onChannelState: (st) => states.push(st), onChannelConnect: (o) => connects.push(o) });
    s.answer = () => infoAnswer({ max_message_bytes: 1000 });
    await Promise.all([c.info(), c.info('default'), c.info()]);
    expect(s.frames).toHaveLength(3);
    const v = verifier();
    for (const f of s.frames) {
      expect(f.path).toBe(RPC_PATHS.info);
      expect(v.verify(f.authorization, { path: f.path, body: f.body }).aud).toBe('signer-1');
    }
    expect(new Set(s.frames.map((f) => f.id)).size).toBe(3);
    expect(s.upgrades).toBe(1);
    expect(s.httpRequests).toBe(0);
    expect(c.channelState).toBe('open');
    expect(states).toEqual(['connecting', 'open']);
    expect(connects).toEqual(['opened']);
  });

  it('answers come back in the order they are ready: a slow RPC does not hold up a fast one', async () => {
    const s = await started(signer1);
    const c = client(s.port);
    await c.info();
    const order: string[] = [];
    s.answer = async (f) => {
      const slow = decodeCbor(f.body) as { key_id?: string };
      if (slow.key_id === 'slow') await new Promise((r) => setTimeout(r, 300));
      return infoAnswer();
    };
    await Promise.all([c.info('slow').then(() => order.push('slow')), c.info('fast').then(() => order.push('fast'))]);
    expect(order).toEqual(['fast', 'slow']);
  });

  it("pins the signer's identity: a certificate of the same CA naming another signer → SIGNER_UNREACHABLE, nothing sent", async () => {
    const s = await started(signer2);
    const connects: ChannelConnectOutcome[] = [];
    const e = await callError(client(s.port, { onChannelConnect: (o) => connects.push(o) }).info());
    expect(e.code).toBe('SIGNER_UNREACHABLE');
    expect(connects).toEqual(['failed']);
    expect(s.frames).toHaveLength(0);
    expect(s.upgrades).toBe(0);
  });

  it('an upgrade refused for the caller (CLIENT_IDENTITY_NOT_ALLOWED) fails with that code, not over HTTP', async () => {
    const s = await started(signer1, { refuseUpgrade: [403, 'CLIENT_IDENTITY_NOT_ALLOWED'] });
    const e = await callError(client(s.port).round1({ key_id: 'default', count: 1 }));
    expect(e.code).toBe('CLIENT_IDENTITY_NOT_ALLOWED');
    expect(s.httpRequests).toBe(0);
  });

  it('a signer without a channel is reached over HTTP/1.1, and not asked for the channel again at every call', async () => {
    const s = await started(signer1, { channel: false });
    const connects: ChannelConnectOutcome[] = [];
    const c = client(s.port, { onChannelConnect: (o) => connects.push(o) });
    for (let i = 0; i < 3; i++) expect((await c.round1({ key_id: 'default', count: 1 })).commitments).toHaveLength(1);
    expect(c.channelState).toBe('unsupported');
    expect(connects).toEqual(['unsupported']);
    // The upgrade attempt itself reached the server as a plain request (no upgrade listener), then the three RPCs.
    expect(s.httpRequests).toBe(4);
  });

  it("transport 'channel' does not fall back: a signer without a channel is unreachable", async () => {
    const s = await started(signer1, { channel: false });
    const e = await callError(client(s.port, { transport: 'channel' }).round1({ key_id: 'default', count: 1 }));
    expect(e.code).toBe('SIGNER_UNREACHABLE');
    expect(s.httpRequests).toBe(1); // the upgrade attempt only
  });

  it('an answer over the response cap → SIGNER_BAD_RESPONSE; the next call reconnects and works', async () => {
    const s = await started(signer1);
    const c = client(s.port, { maxResponseBytes: 2048 });
    s.answer = () => ({ status: 200, body: new Uint8Array(100_000) });
    expect((await callError(c.info())).code).toBe('SIGNER_BAD_RESPONSE');
    s.answer = () => infoAnswer();
    expect((await c.info()).identifier).toEqual(b32(1));
    expect(s.upgrades).toBe(2);
  });

  it('a connection lost while calls wait fails them at once (SIGNER_UNREACHABLE), and the channel comes back', async () => {
    const s = await started(signer1);
    const states: ChannelState[] = [];
    const connects: ChannelConnectOutcome[] = [];
    const c = client(s.port, { onChannelState: (st) => states.push(st), onChannelConnect: (o) => connects.push(o) });
    await c.info();
    s.answer = () => new Promise(() => undefined); // never answers
    const pending = callError(c.info(undefined, AbortSignal.timeout(4000)));
    await new Promise((r) => setTimeout(r, 50));
    const started_ = Date.now();
    s.server.closeAllConnections();
    await s.channels.close(0); // the signer goes away: its connections end
    const e = await pending;
    expect(e.code).toBe('SIGNER_UNREACHABLE');
    expect(Date.now() - started_).toBeLessThan(1000);
    expect(states).toContain('idle');
    expect(connects.slice(0, 2)).toEqual(['opened', 'lost']);
  });

  it("a peer that stops answering pings is cut off: calls fail at once, not at their signal", async () => {
    // A bare WebSocket server that accepts the channel and then stays silent (no pongs, no answers).
    const server = createServer({ cert: signer1.certPem, key: signer1.keyPem, ca: authority.certPem, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' });
    const wss = new WebSocketServer({ server, autoPong: false, handleProtocols: () => CHANNEL_PROTOCOL });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    open.push({
      close: async () => {
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    });
    const c = client((server.address() as AddressInfo).port, { pingIntervalMs: 100 });
    const t0 = Date.now();
    const e = await callError(c.info(undefined, AbortSignal.timeout(10_000)));
    expect(e.code).toBe('SIGNER_UNREACHABLE');
    expect(e.message).toMatch(/ping/);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it("a peer that accepts TCP and never completes TLS → SIGNER_TIMEOUT at the caller's signal, its reason as the cause", async () => {
    const { port } = await silentTcpPeer();
    const signal = AbortSignal.timeout(200);
    const e = await callError(client(port, { timeoutMs: 10_000 }).info(undefined, signal));
    expect(e.code).toBe('SIGNER_TIMEOUT');
    expect(e.cause).toBe(signal.reason);
  });

  it('a client closed while its channel dials stays closed when the dial ends (no state change, no connection counted)', async () => {
    const { port, sockets } = await silentTcpPeer();
    const states: ChannelState[] = [];
    const connects: ChannelConnectOutcome[] = [];
    const c = client(port, { timeoutMs: 200, onChannelState: (st) => states.push(st), onChannelConnect: (o) => connects.push(o) });
    const pending = callError(c.info(undefined, AbortSignal.timeout(5000)));
    for (let i = 0; i < 50 && sockets.size === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await c.close();
    expect((await pending).code).toBe('SIGNER_UNREACHABLE');
    // The dial's own timeout (200 ms) comes and goes.
    await new Promise((r) => setTimeout(r, 400));
    expect(c.channelState).toBe('closed');
    expect(states).toEqual(['connecting', 'closed']);
    expect(connects).toEqual([]);
  });
});

describe('SignerClient coalescing (within what the signer announced)', () => {
  it('round-2 calls that pile up go as one batch; each gets its own outcome', async () => {
    const s = await started(signer1);
    const sent: [CoalescedRpc, number][] = [];
    const c = client(s.port, { maxInFlight: 1, onRpcSent: (rpc, calls) => sent.push([rpc, calls]) });
    s.answer = () => infoAnswer({ max_round2_batch: 8, max_request_bytes: 64 * 1024 });
    await c.info();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    s.answer = async (f) => {
      if (f.path === RPC_PATHS.round2) {
        await gate;
        return shareAnswer(9);
      }
      const { requests } = decodeCbor(f.body) as { requests: { message: Uint8Array }[] };
      return cborAnswer({ results: requests.map((r) => (r.message[0] === 3 ? { error: { code: 'POLICY_NOT_JWS', message: 'no' } } : { identifier: b32(1), share: b32(r.message[0]!) })) });
    };
    const first = c.round2(round2Request(1));
    const rest = [2, 3, 4, 5].map((n) => c.round2(round2Request(n)));
    await new Promise((r) => setTimeout(r, 50));
    release();
    expect((await first).share).toEqual(b32(9));
    const settled = await Promise.allSettled(rest);
    expect(settled.map((r) => (r.status === 'fulfilled' ? r.value.share[0] : (r.reason as SignerCallError).code))).toEqual([2, 'POLICY_NOT_JWS', 4, 5]);
    expect(s.frames.filter((f) => f.path !== RPC_PATHS.info).map((f) => f.path)).toEqual([RPC_PATHS.round2, RPC_PATHS.round2Batch]);
    // Each RPC is told with the calls it carries: the first alone, then the four that piled up.
    expect(sent).toEqual([
      ['round2', 1],
      ['round2', 4],
    ]);
    // One token per RPC: the batch's covers its exact body.
    const batch = s.frames.find((f) => f.path === RPC_PATHS.round2Batch)!;
    expect(verifier().verify(batch.authorization, { path: batch.path, body: batch.body }).jti).toBeTruthy();
  });

  it('round2Batch sends its requests together as one RPC', async () => {
    const s = await started(signer1);
    const c = client(s.port);
    s.answer = () => infoAnswer({ max_round2_batch: 100 });
    await c.info();
    s.answer = (f) => {
      const { requests } = decodeCbor(f.body) as { requests: { message: Uint8Array }[] };
      return cborAnswer({ results: requests.map((r) => ({ identifier: b32(1), share: b32(r.message[0]!) })) });
    };
    const out = await c.round2Batch([1, 2, 3].map(round2Request));
    expect(out.map((o) => (o instanceof Error ? o.code : o.share[0]))).toEqual([1, 2, 3]);
    expect(s.frames.filter((f) => f.path === RPC_PATHS.round2Batch)).toHaveLength(1);
  });

  it('a batch answer with the wrong number of outcomes fails every call as SIGNER_BAD_RESPONSE', async () => {
    const s = await started(signer1);
    const c = client(s.port);
    s.answer = () => infoAnswer({ max_round2_batch: 100 });
    await c.info();
    s.answer = () => cborAnswer({ results: [{ identifier: b32(1), share: b32(1) }] });
    const out = await c.round2Batch([1, 2].map(round2Request));
    expect(out.map((o) => (o instanceof Error ? o.code : 'ok'))).toEqual(['SIGNER_BAD_RESPONSE', 'SIGNER_BAD_RESPONSE']);
  });

  it('a signer that announces no batches gets one round-2 RPC per call', async () => {
    const s = await started(signer1);
    const sent: [CoalescedRpc, number][] = [];
    const c = client(s.port, { maxInFlight: 1, onRpcSent: (rpc, calls) => sent.push([rpc, calls]) });
    await c.info(); // no max_round2_batch
    s.answer = (f) => shareAnswer((decodeCbor(f.body) as { message: Uint8Array }).message[0]!);
    const out = await c.round2Batch([1, 2, 3].map(round2Request));
    expect(out.map((o) => (o instanceof Error ? o.code : o.share[0]))).toEqual([1, 2, 3]);
    expect(s.frames.filter((f) => f.path !== RPC_PATHS.info).map((f) => f.path)).toEqual([RPC_PATHS.round2, RPC_PATHS.round2, RPC_PATHS.round2]);
    expect(sent).toEqual([
      ['round2', 1],
      ['round2', 1],
      ['round2', 1],
    ]);
  });

  it('round-1 calls for one key that pile up go as one request for their sum, within the announced batch limit', async () => {
    const s = await started(signer1);
    const sent: [CoalescedRpc, number][] = [];
    const c = client(s.port, { maxInFlight: 1, onRpcSent: (rpc, calls) => sent.push([rpc, calls]) });
    s.answer = () => infoAnswer({ max_commitment_batch: 8 });
    await c.info();
    let next = 0;
    s.answer = (f) => {
      const { count } = decodeCbor(f.body) as { count: number };
      return cborAnswer({ identifier: b32(1), commitments: Array.from({ length: count }, () => ({ hiding: b32(++next), binding: b32(100) })), ttl_ms: 1000 });
    };
    const answers = await Promise.all([1, 1, 2, 1].map((count) => c.round1({ key_id: 'default', count })));
    expect(answers.map((a) => a.commitments.length)).toEqual([1, 1, 2, 1]);
    expect(new Set(answers.flatMap((a) => a.commitments.map((x) => x.hiding[0]))).size).toBe(5);
    expect(s.frames.filter((f) => f.path === RPC_PATHS.round1).map((f) => (decodeCbor(f.body) as { count: number }).count)).toEqual([1, 4]);
    // The second RPC carried three calls (for 1, 2 and 1 commitments).
    expect(sent).toEqual([
      ['round1', 1],
      ['round1', 3],
    ]);
  });
});

describe('a channel the signer dials (dial: false)', () => {
  it('calls fail at once until the signer connects; then they travel on its connection', async () => {
    const connects: ChannelConnectOutcome[] = [];
    const c = client(1, { dial: false, onChannelConnect: (o) => connects.push(o) });
    expect((await callError(c.info())).code).toBe('SIGNER_UNREACHABLE');
    expect(connects).toEqual([]);
    // The coordinator's listener: it authenticates the signer and hands the socket to the client.
    const server = createServer({ cert: coordinator.certPem, key: coordinator.keyPem, ca: authority.certPem, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' });
    const wss = new WebSocketServer({ noServer: true, handleProtocols: () => CHANNEL_PROTOCOL });
    server.on('upgrade', (req, socket, head) => {
      expect((socket as TLSSocket).getPeerCertificate().subjectaltname).toBe('DNS:signer-1');
      wss.handleUpgrade(req, socket, head, (ws) => c.adopt(ws));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const frames: RequestFrame[] = [];
    const signerSide = new ChannelServer({ maxRequestBytes: 4096, handle: async (f) => (frames.push(f), infoAnswer()) });
    const ws = new WebSocket(`wss://127.0.0.1:${(server.address() as AddressInfo).port}/v1/channel`, CHANNEL_PROTOCOL, {
      ca: authority.certPem,
      cert: signer1Dialling.certPem,
      key: signer1Dialling.keyPem,
      servername: 'coordinator',
    } as WebSocket.ClientOptions);
    open.push({
      close: async () => {
        ws.terminate();
        await signerSide.close(0);
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    signerSide.serve(ws);
    for (let i = 0; i < 50 && c.channelState !== 'open'; i++) await new Promise((r) => setTimeout(r, 10));
    expect((await c.info()).identifier).toEqual(b32(1));
    expect(frames).toHaveLength(1);
    ws.terminate();
    for (let i = 0; i < 50 && c.channelState === 'open'; i++) await new Promise((r) => setTimeout(r, 10));
    expect((await callError(c.info())).code).toBe('SIGNER_UNREACHABLE');
    expect(connects).toEqual(['opened', 'lost']);
  });
});
