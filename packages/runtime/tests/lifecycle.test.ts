import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { createServer, request, Agent, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { closeServer, drain, listen, runUntilSignal, trackInFlight } from '../src/lifecycle.js';

const servers: Server[] = [];

/** A server whose requests wait until the test releases them (or answer at once when `hold` is false). */
function holdingServer(hold = true) {
  const held: ServerResponse[] = [];
  const server = createServer((_req, res) => {
    if (hold) held.push(res);
    else res.end('now');
  });
  servers.push(server);
  return { server, held };
}

/** GET / on `port`; resolves with the status and body, or rejects when the connection breaks. */
function get(port: number, agent: Agent | false = false): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    if (s.listening) await new Promise((r) => s.close(r));
  }
});

describe('listen', () => {
  it('listens on port 0 and resolves with the bound port', async () => {
    const { server } = holdingServer(false);
    const port = await listen(server, 0, '127.0.0.1');
    expect(port).toBeGreaterThan(0);
    expect(port).toBe((server.address() as AddressInfo).port);
    expect(await get(port)).toEqual({ status: 200, body: 'now' });
  });

  it('rejects when the port is taken, and leaves no error listener behind on success', async () => {
    const { server: first } = holdingServer(false);
    const port = await listen(first, 0, '127.0.0.1');
    expect(first.listenerCount('error')).toBe(0);
    const { server: second } = holdingServer(false);
    await expect(listen(second, port, '127.0.0.1')).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});

describe('trackInFlight', () => {
  it('counts requests until their responses close', async () => {
    const { server, held } = holdingServer();
    const inFlight = trackInFlight(server);
    const port = await listen(server, 0, '127.0.0.1');
    expect(inFlight.count).toBe(0);
    const a = get(port);
    const b = get(port);
    await until(() => held.length === 2);
    expect(inFlight.count).toBe(2);
    held[0]!.end('a');
    await a;
    await until(() => inFlight.count === 1);
    held[1]!.end('b');
    await b;
    await until(() => inFlight.count === 0);
  });

  it('a request whose client goes away also stops counting', async () => {
    const { server, held } = holdingServer();
    const inFlight = trackInFlight(server);
    const port = await listen(server, 0, '127.0.0.1');
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false });
    req.on('error', () => {
      /* we destroy it ourselves */
    });
    req.end();
    await until(() => held.length === 1);
    expect(inFlight.count).toBe(1);
    req.destroy();
    await until(() => inFlight.count === 0);
  });
});

describe('drain', () => {
  it('waits for an in-flight request to finish within the grace period, then closes', async () => {
    const { server, held } = holdingServer();
    const inFlight = trackInFlight(server);
    const port = await listen(server, 0, '127.0.0.1');
    const pending = get(port);
    await until(() => held.length === 1);
    setTimeout(() => held[0]!.end('finished'), 150);
    const started = Date.now();
    await drain(server, inFlight, { graceMs: 5000 });
    // It waited for the answer (not the whole grace period), and the client got it whole.
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(Date.now() - started).toBeLessThan(4000);
    expect(await pending).toEqual({ status: 200, body: 'finished' });
    expect(server.listening).toBe(false);
    await expect(get(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('stops accepting new connections at once while it waits', async () => {
    const { server, held } = holdingServer();
    const inFlight = trackInFlight(server);
    const port = await listen(server, 0, '127.0.0.1');
    const pending = get(port);
    await until(() => held.length === 1);
    const drained = drain(server, inFlight, { graceMs: 5000 });
    await expect(get(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    held[0]!.end('ok');
    await drained;
    expect((await pending).body).toBe('ok');
  });

  it('cuts a request that outlives the grace period', async () => {
    const { server, held } = holdingServer();
    const inFlight = trackInFlight(server);
    const port = await listen(server, 0, '127.0.0.1');
    const pending = get(port);
    pending.catch(() => undefined);
    await until(() => held.length === 1);
    const started = Date.now();
    await drain(server, inFlight, { graceMs: 200 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(Date.now() - started).toBeLessThan(3000);
    await expect(pending).rejects.toThrow();
  });

  it('closes idle keep-alive connections without waiting for their timeout', async () => {
    const { server } = holdingServer(false);
    const inFlight = trackInFlight(server);
    const port = await listen(server, 0, '127.0.0.1');
    const agent = new Agent({ keepAlive: true });
    try {
      expect((await get(port, agent)).body).toBe('now');
      const started = Date.now();
      await drain(server, inFlight, { graceMs: 5000 });
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      agent.destroy();
    }
  });
});

describe('drain: kept-alive clients', () => {
  /** GET with the response headers too. */
  function getWithHeaders(port: number, agent: Agent): Promise<{ status: number; connection: string | undefined }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('keeps serving during the delay, every answer with connection: close, then closes; no request is cut', async () => {
    const { server } = holdingServer(false);
    const inFlight = trackInFlight(server);
    const port = await listen(server, 0, '127.0.0.1');
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    try {
      await Promise.all([1, 2, 3, 4].map(() => getWithHeaders(port, agent)));
      const drained = drain(server, inFlight, { delayMs: 3000, graceMs: 1000 });
      // A client that keeps sending over its kept-alive connections during the delay: every request answered.
      const answers = [];
      const until = Date.now() + 1000;
      for (let i = 0; i < 20 && Date.now() < until; i++) {
        answers.push(await Promise.all([getWithHeaders(port, agent), getWithHeaders(port, agent)]));
        await new Promise((r) => setTimeout(r, 8));
      }
      expect(answers.flat().every((a) => a.status === 200 && a.connection === 'close')).toBe(true);
      await drained;
      expect(server.listening).toBe(false);
    } finally {
      agent.destroy();
    }
  });

  it('a request in flight when the drain starts is answered with connection: close', async () => {
    const { server, held } = holdingServer();
    const inFlight = trackInFlight(server);
    const port = await listen(server, 0, '127.0.0.1');
    const agent = new Agent({ keepAlive: true });
    try {
      const pending = getWithHeaders(port, agent);
      await until(() => held.length === 1);
      const drained = drain(server, inFlight, { graceMs: 2000 });
      held[0]!.end('ok');
      expect(await pending).toEqual({ status: 200, connection: 'close' });
      await drained;
    } finally {
      agent.destroy();
    }
  });
});

describe('closeServer', () => {
  it('does not wait for an open request: it closes its connection too', async () => {
    const { server, held } = holdingServer(true);
    const port = await listen(server, 0, '127.0.0.1');
    const pending = get(port).then(
      () => 'answered',
      () => 'closed',
    );
    await until(() => held.length === 1);
    const started = Date.now();
    await closeServer(server);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await pending).toBe('closed');
  });

  it('closes the listener and idle keep-alive connections', async () => {
    const { server } = holdingServer(false);
    const port = await listen(server, 0, '127.0.0.1');
    const agent = new Agent({ keepAlive: true });
    try {
      expect((await get(port, agent)).body).toBe('now');
      const started = Date.now();
      await closeServer(server);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(server.listening).toBe(false);
      await expect(get(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      agent.destroy();
    }
  });
});

describe('runUntilSignal', () => {
  /** A logger double: records calls; flush runs its callback at once. */
  function fakeLogger() {
    const calls: { level: string; args: unknown[] }[] = [];
    const logger = {
      info: (...args: unknown[]) => calls.push({ level: 'info', args }),
      fatal: (...args: unknown[]) => calls.push({ level: 'fatal', args }),
      flush: (cb?: (err?: Error) => void) => cb?.(),
    };
    return { logger: logger as unknown as Logger, calls };
  }

  /** Runs `fn`, returns the SIGTERM/SIGINT listeners it added (removed again from the test process). */
  function addedSignalListeners(fn: () => void): { sigterm: () => void; sigint: () => void } {
    const before = { term: process.listeners('SIGTERM'), int: process.listeners('SIGINT') };
    fn();
    const term = process.listeners('SIGTERM').filter((l) => !before.term.includes(l));
    const int = process.listeners('SIGINT').filter((l) => !before.int.includes(l));
    for (const l of term) process.off('SIGTERM', l);
    for (const l of int) process.off('SIGINT', l);
    expect(term).toHaveLength(1);
    expect(int).toHaveLength(1);
    return { sigterm: term[0] as () => void, sigint: int[0] as () => void };
  }

  it('starts the service, closes it once on SIGTERM (then SIGINT is ignored) and exits 0 after flushing the logs', async () => {
    const exit = jest.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    try {
      const { logger, calls } = fakeLogger();
      let starts = 0;
      let closes = 0;
      const service = { start: async () => void starts++, close: async () => void closes++ };
      const { sigterm, sigint } = addedSignalListeners(() => runUntilSignal('signer', service, logger));
      expect(starts).toBe(1);
      sigterm();
      sigint();
      await until(() => exit.mock.calls.length > 0);
      expect(closes).toBe(1);
      expect(exit.mock.calls).toEqual([[0]]);
      expect(calls).toContainEqual({ level: 'info', args: [{ signal: 'SIGTERM' }, 'stopping'] });
    } finally {
      exit.mockRestore();
    }
  });

  it('exits 1 when the service fails to start, logging only the error name and message', async () => {
    const exit = jest.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    try {
      const { logger, calls } = fakeLogger();
      const failure = Object.assign(new Error('port in use'), { name: 'ListenError', secretDetail: 'SECRET' });
      const service = { start: () => Promise.reject(failure), close: async () => undefined };
      addedSignalListeners(() => runUntilSignal('coordinator', service, logger));
      await until(() => exit.mock.calls.length > 0);
      expect(exit.mock.calls).toEqual([[1]]);
      expect(calls).toEqual([{ level: 'fatal', args: [{ err: { name: 'ListenError', message: 'port in use' } }, 'coordinator failed to start'] }]);
    } finally {
      exit.mockRestore();
    }
  });

  it('exits 1 when closing fails', async () => {
    const exit = jest.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    try {
      const { logger } = fakeLogger();
      const service = { start: async () => undefined, close: () => Promise.reject(new Error('stuck')) };
      const { sigint } = addedSignalListeners(() => runUntilSignal('signer', service, logger));
      sigint();
      await until(() => exit.mock.calls.length > 0);
      expect(exit.mock.calls).toEqual([[1]]);
    } finally {
      exit.mockRestore();
    }
  });
});

describe('drain: connections that never finish a TLS handshake', () => {
  it('are closed at the end of the grace period instead of holding the shutdown until the handshake timeout', async () => {
    const { createServer: createTlsServer } = await import('node:https');
    const { connect } = await import('node:net');
    // No certificate is needed: the client never sends a ClientHello.
    const server = createTlsServer({ handshakeTimeout: 60_000 }, (_req, res) => res.end('ok'));
    servers.push(server as unknown as Server);
    const inFlight = trackInFlight(server as unknown as Server);
    const port = await listen(server as unknown as Server, 0, '127.0.0.1');
    const silent = connect(port, '127.0.0.1'); // TCP only: no ClientHello ever
    silent.on('error', () => {});
    await until(() => inFlight.sockets.size === 1);
    const started = Date.now();
    await drain(server as unknown as Server, inFlight, { graceMs: 200 });
    expect(Date.now() - started).toBeLessThan(5000);
    await until(() => inFlight.sockets.size === 0 && silent.destroyed);
  }, 20_000);
});
