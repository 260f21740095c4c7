// `frostctl relay` as an operator runs it (the built binary): identities kept 0600, public keys of
// frostctl's and frost-client's files, and the sessions of an identity on a running relay.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RelayClient, identityPublicHex, newIdentity, readIdentityFile } from '@hoarfrost/relay/client';
import { RELAXED_RATES, newClient, relayTls, startInProcess, type StartedRelay } from './relay-support.js';

const bin = fileURLToPath(new URL('../../packages/cli/dist/main.js', import.meta.url));
function frostctl(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Asynchronously: the relay under test runs in this process and must keep answering meanwhile. */
function frostctlAsync(args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('frostctl relay', () => {
  let dir: string;
  let relay: StartedRelay;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'frostctl-relay-'));
    relay = await startInProcess(RELAXED_RATES);
  });
  afterAll(() => relay.relay.close());

  it('identity: a new X25519 key in a 0600 file, its public key on stdout; an existing file is kept unless --force', () => {
    const file = join(dir, 'me.json');
    const r = frostctl(['relay', 'identity', '--out', file]);
    expect(r.status).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(r.stdout.trim()).toBe(identityPublicHex(readIdentityFile(file)));
    expect(r.stdout).not.toContain(JSON.parse(readFileSync(file, 'utf8')).privkey);
    const again = frostctl(['relay', 'identity', '--out', file]);
    expect({ status: again.status, err: again.stderr }).toEqual({ status: 2, err: expect.stringMatching(/EXISTS/) });
    expect(frostctl(['relay', 'identity', '--out', file, '--force']).stdout.trim()).not.toBe(r.stdout.trim());
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('pubkey: of frostctl\'s file and of frost-client\'s credentials.toml', () => {
    const id = newIdentity();
    const toml = join(dir, 'credentials.toml');
    writeFileSync(toml, `version = 0\n\n[communication_key]\nprivkey = "${Buffer.from(id.privateKey).toString('hex')}"\npubkey = "${identityPublicHex(id)}"\n`);
    expect(frostctl(['relay', 'pubkey', '--identity', toml]).stdout.trim()).toBe(identityPublicHex(id));
    const bad = frostctl(['relay', 'pubkey', '--identity', join(dir, 'missing.json')]);
    expect({ status: bad.status, err: bad.stderr }).toEqual({ status: 2, err: expect.stringMatching(/FILE_UNREADABLE/) });
  });

  it('sessions: lists the identity\'s open sessions with its role; --close-all closes the ones it coordinates', async () => {
    const file = join(dir, 'operator.json');
    frostctl(['relay', 'identity', '--out', file]);
    const me = readIdentityFile(file);
    const mine = new RelayClient({ url: relay.url, ca: (await relayTls()).caPem, identity: me });
    await mine.login();
    const other = await newClient(relay.url);
    await other.login();
    const coordinated = await mine.createNewSession([other.pubkey]);
    const joined = await other.createNewSession([identityPublicHex(me)]);
    const caFile = (await relayTls()).caFile;
    const listed = await frostctlAsync(['relay', 'sessions', '--identity', file, '--url', relay.url, '--json'], { SSL_CERT_FILE: caFile });
    expect(listed.status).toBe(0);
    const out = JSON.parse(listed.stdout) as { pubkey: string; sessions: { session_id: string; role: string }[] };
    expect(out.pubkey).toBe(identityPublicHex(me));
    expect(out.sessions.map((s) => [s.session_id, s.role]).sort()).toEqual([
      [coordinated, 'coordinator'],
      [joined, 'member'],
    ].sort());
    const closed = await frostctlAsync(['relay', 'sessions', '--identity', file, '--url', relay.url, '--ca', caFile, '--close-all']);
    expect(closed.status).toBe(0);
    expect(closed.stdout).toMatch(new RegExp(`${coordinated}\\s+coordinator .* closed`));
    expect(await other.listSessions()).toEqual([joined]);
    // Without the dev CA the relay's certificate is not trusted.
    const untrusted = await frostctlAsync(['relay', 'sessions', '--identity', file, '--url', relay.url]);
    expect({ status: untrusted.status, err: untrusted.stderr }).toEqual({ status: 1, err: expect.stringMatching(/UNREACHABLE/) });
    mine.close();
    other.close();
  });
});
