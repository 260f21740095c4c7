// The relay as a deployable: the built entry point as a real process, its configuration refusals, the ops
// port (health, readiness, metrics), logs that never hold tokens or message contents, the drain on
// SIGTERM (long polls answered, push connections told), and with a Redis-protocol store: push across two
// processes, and a store that goes away and comes back.
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCertificateAuthority, findRedisServer, issueRelayCertificate, relayMain, startRedisServer, startRelay, type RelayProcess } from '@hoarfrost/testkit';
import { RelayClient, RelayRequestError } from '@hoarfrost/relay/client';
import { RELAXED_RATES, newClient, redisPrefix, redisServer, relayTls, sleep } from './relay-support.js';

const started: RelayProcess[] = [];
afterAll(async () => {
  await Promise.all(started.map((p) => p.stop()));
});

async function relayProcess(env: Record<string, string> = {}): Promise<RelayProcess> {
  const p = await startRelay(await relayTls(), { env: { ...RELAXED_RATES, RELAY_LOG_LEVEL: 'debug', RELAY_SHUTDOWN_GRACE_MS: '3000', ...env } });
  started.push(p);
  return p;
}

describe('relay process', () => {
  it('refuses a bad configuration with exit 78 and a message naming the variable', () => {
    const r = spawnSync(process.execPath, [relayMain()], { env: { PATH: process.env.PATH ?? '', RELAY_TLS_CERT_FILE: '/c', RELAY_TLS_KEY_FILE: '/k', RELAY_STORE: 'redis', RELAY_REDIS_URL: 'redis://:hunter2@localhost:6379', RELAY_MAX_MESSAGE_BYTES: 'lots' }, encoding: 'utf8' });
    expect(r.status).toBe(78);
    expect(r.stderr).toMatch(/RELAY_MAX_MESSAGE_BYTES must be an integer/);
    expect(r.stderr).not.toMatch(/hunter2/);
  });

  it('serves health, readiness and metrics on the ops port; logs never carry tokens, challenges or contents', async () => {
    const relay = await relayProcess();
    expect((await fetch(`${relay.opsUrl}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${relay.opsUrl}/readyz`)).json()).toEqual({ status: 'ready' });
    const coordinator = await newClient(relay.url);
    const member = await newClient(relay.url);
    const token = await coordinator.login();
    await member.login();
    const id = await coordinator.createNewSession([member.pubkey]);
    const secretMsg = Buffer.from('a message the relay must never log').toString('hex');
    await member.send(id, [], secretMsg);
    await coordinator.raw('/login', JSON.stringify({ challenge: await coordinator.challenge(), pubkey: coordinator.pubkey, signature: '00'.repeat(64) }));
    const metrics = await (await fetch(`${relay.opsUrl}/metrics`)).text();
    for (const line of ['frost_relay_sessions 1', 'frost_relay_queued_messages 1', 'frost_relay_queued_bytes 34', 'frost_relay_logins_total{outcome="ok"} 2', 'frost_relay_logins_total{outcome="UNAUTHORIZED"} 1', 'frost_relay_ready 1']) {
      expect(metrics).toContain(line);
    }
    expect(await coordinator.receive(id, true)).toHaveLength(1);
    const after = await (await fetch(`${relay.opsUrl}/metrics`)).text();
    expect(after).toContain('frost_relay_deliveries_total{channel="poll"} 1');
    expect(after).toContain('frost_relay_queued_messages 0');
    expect(after).toMatch(/frost_relay_refusals_total\{code="UNAUTHORIZED"\} 1/);
    await sleep(200);
    const logs = relay.logs.join('\n');
    expect(logs).toMatch(/"msg":"session created"/);
    for (const secret of [token, secretMsg, Buffer.from(coordinator.identity!.privateKey).toString('hex')]) expect(logs).not.toContain(secret);
    coordinator.close();
    member.close();
  });

  it('serves a renewed certificate without a restart (the files are read again)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'frost-relay-rotate-'));
    const first = await createCertificateAuthority('first CA');
    const tls = await issueRelayCertificate(first, dir, join(dir, 'ca.pem'));
    const relay = await startRelay(tls, { env: { ...RELAXED_RATES, RELAY_TLS_RELOAD_SECONDS: '1' } });
    started.push(relay);
    const before = new RelayClient({ url: relay.url, ca: first.certPem });
    expect(await before.challenge()).toMatch(/-/);
    before.close();
    // Renewed by another CA, as cert-manager would rewrite the mounted Secret.
    const second = await createCertificateAuthority('second CA');
    await issueRelayCertificate(second, dir, join(dir, 'ca.pem'));
    const deadline = Date.now() + 10_000;
    while (!relay.logs.some((l) => l.includes('tls certificate reloaded')) && Date.now() < deadline) await sleep(100);
    const after = new RelayClient({ url: relay.url, ca: second.certPem });
    expect(await after.challenge()).toMatch(/-/);
    after.close();
    const stale = new RelayClient({ url: relay.url, ca: first.certPem });
    await expect(stale.challenge()).rejects.toThrow(/certificate/);
    stale.close();
  });

  it('on SIGTERM: not ready, long polls answered, push connections closed with 1001, exit 0', async () => {
    const relay = await relayProcess({ RELAY_SHUTDOWN_DELAY_MS: '300' });
    const coordinator = await newClient(relay.url);
    await coordinator.login();
    const id = await coordinator.createNewSession([]);
    const sub = await coordinator.subscribe();
    const polled = coordinator.receive(id, true, 20_000);
    await sleep(200);
    const stopped = relay.stop('SIGTERM');
    await sleep(100);
    expect((await fetch(`${relay.opsUrl}/readyz`)).status).toBe(503);
    expect(await polled).toEqual([]);
    expect((await sub.whenClosed()).code).toBe(1001);
    expect(await stopped).toBe(0);
    coordinator.close();
  });
});

const redis = await redisServer();
afterAll(async () => {
  await redis?.stop();
});
(redis ? describe : describe.skip)('relay processes sharing a Redis-protocol store', () => {
  it('push and long polls cross processes: the coordinator on one, a member subscribed on the other', async () => {
    const shared = { RELAY_STORE: 'redis', RELAY_REDIS_URL: redis!.url, RELAY_REDIS_KEY_PREFIX: redisPrefix() };
    const [a, b] = [await relayProcess(shared), await relayProcess(shared)];
    const coordinator = await newClient(a.url);
    const member = await newClient(b.url);
    await coordinator.login();
    await member.login();
    const sub = await member.subscribe();
    const id = await coordinator.createNewSession([member.pubkey]);
    expect(await sub.next((f) => f.type === 'created')).toMatchObject({ session_id: id });
    await coordinator.send(id, [member.pubkey], 'aa55');
    expect(await sub.next((f) => f.type === 'message')).toEqual({ type: 'message', session_id: id, as_coordinator: false, sender: coordinator.pubkey, msg: 'aa55' });
    const polled = coordinator.receive(id, true, 10_000);
    await sleep(200);
    await member.send(id, [], '55aa');
    expect(await polled).toEqual([{ sender: member.pubkey, msg: '55aa' }]);
    // The session is one session: its info and its close are seen from both processes.
    expect(await member.getSessionInfo(id)).toEqual({ message_count: 1, pubkeys: [member.pubkey], coordinator_pubkey: coordinator.pubkey });
    await coordinator.closeSession(id);
    expect(await sub.next((f) => f.type === 'closed')).toEqual({ type: 'closed', session_id: id });
    sub.close();
    coordinator.close();
    member.close();
  });

  it('a store that goes away: 503 STORE_UNAVAILABLE and not ready; back: ready and serving (scripts loaded again)', async () => {
    const own = await startRedisServer(findRedisServer()!);
    // The address read from a file, as the chart mounts it from a Secret.
    const urlFile = join(mkdtempSync(join(tmpdir(), 'frost-relay-url-')), 'url');
    writeFileSync(urlFile, `${own.url}\n`);
    const relay = await relayProcess({ RELAY_STORE: 'redis', RELAY_REDIS_URL_FILE: urlFile });
    const c = await newClient(relay.url);
    await c.login();
    await own.kill();
    const e = await c.listSessions().then(
      () => undefined,
      (x: unknown) => x as RelayRequestError,
    );
    expect({ status: e?.status, reason: e?.reason }).toEqual({ status: 503, reason: 'STORE_UNAVAILABLE' });
    await sleep(300);
    expect((await fetch(`${relay.opsUrl}/readyz`)).status).toBe(503);
    const back = await startRedisServer(findRedisServer()!, { port: own.port });
    try {
      const deadline = Date.now() + 15_000;
      while ((await fetch(`${relay.opsUrl}/readyz`)).status !== 200 && Date.now() < deadline) await sleep(200);
      expect((await fetch(`${relay.opsUrl}/readyz`)).status).toBe(200);
      // The server forgot everything (it keeps nothing on disk here), scripts included.
      await c.login();
      const id = await c.createNewSession([]);
      expect(await c.listSessions()).toEqual([id]);
      await c.send(id, [], '01');
      expect(await c.receive(id, true)).toHaveLength(1);
      expect(await c.getSessionInfo(randomUUID()).catch((x: RelayRequestError) => x.variant)).toBe('SessionNotFound');
      expect(relay.logs.join('\n')).toMatch(/store connection lost/);
    } finally {
      c.close();
      await relay.stop();
      await back.stop();
      await own.stop();
    }
  }, 60_000);
});
