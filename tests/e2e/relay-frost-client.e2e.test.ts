// ZF's own frost-client (frost-tools) through this relay, as its users run it: three `init`s, contacts
// exchanged, a 2-of-3 DKG, then two signing sessions with different signer sets; both signatures must
// verify with OpenSSL under the DKG's group key. The relay runs as a real process with its dev leaf
// certificate; frost-client trusts the dev CA through SSL_CERT_FILE.
//
// Runs when FROST_CLIENT_BIN names a frost-client binary, skipped loudly otherwise. Build it with
// `cargo build --release --locked -p frost-client --bin frost-client` in a checkout of
// ZcashFoundation/frost-tools; its git dependencies (ZcashFoundation/reddsa, conradoplg/orchard) can come
// from local copies with `git config url.<copy>.insteadOf <their URL>` and CARGO_NET_GIT_FETCH_WITH_CLI=true.
// FROST_CLIENT_TRANSCRIPT names a file to keep the transcript in.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRelay, type RelayProcess } from '@hoarfrost/testkit';
import { relayTls } from './relay-support.js';

const bin = process.env.FROST_CLIENT_BIN;
if (!bin || !existsSync(bin)) {
  console.warn(`\n!!! FROST_CLIENT_BIN ${bin ? `(${bin}) does not exist` : 'is not set'}: the frost-client interoperability test is SKIPPED !!!\n`);
}
const d = bin && existsSync(bin) ? describe : describe.skip;

const transcript: string[] = [];
const note = (line: string) => transcript.push(line);

interface Run {
  code: number | null;
  out: string;
}

d('ZF frost-client through the relay', () => {
  let relay: RelayProcess;
  let dir: string;
  let server: string;
  let sessionsCreated = 0;
  const waiters: { n: number; resolve: () => void }[] = [];
  const env = () => ({ PATH: process.env.PATH ?? '', HOME: dir, SSL_CERT_FILE: join(dir, 'ca.pem') });

  /** Runs frost-client; `stdin` is written (and the input kept open until it exits). */
  function fc(name: string, args: string[], stdin?: string): Promise<Run> {
    note(`$ frost-client ${args.join(' ')}${stdin ? `   (stdin: ${JSON.stringify(stdin)})` : ''}   [${name}]`);
    return new Promise((resolve) => {
      const child = spawn(bin!, args, { cwd: dir, env: env(), stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (out += b.toString()));
      if (stdin) child.stdin.write(stdin);
      const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        child.stdin.destroy();
        for (const l of out.trimEnd().split('\n')) note(`  [${name}] ${l}`);
        note(`  [${name}] exit ${code}`);
        resolve({ code, out });
      });
    });
  }

  /** Resolves once the relay has logged its `n`-th "session created". */
  const sessionCreated = (n: number) => new Promise<void>((resolve) => (sessionsCreated >= n ? resolve() : waiters.push({ n, resolve })));

  const pubkey = (who: string) => /pubkey = "([0-9a-f]{64})"/.exec(readFileSync(join(dir, `${who}.toml`), 'utf8'))![1]!;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'frost-client-relay-'));
    const tls = await relayTls();
    writeFileSync(join(dir, 'ca.pem'), tls.caPem);
    relay = await startRelay(tls, {
      env: { RELAY_LOG_LEVEL: 'info' },
      onLine: (line) => {
        if (!line.includes('"session created"')) return;
        sessionsCreated++;
        for (const w of waiters.filter((x) => x.n <= sessionsCreated)) w.resolve();
      },
    });
    server = `127.0.0.1:${relay.ports.port}`;
    note(`relay: ${relay.url} (memory store), certificate from the dev CA, SSL_CERT_FILE=${join(dir, 'ca.pem')}`);
  });

  afterAll(async () => {
    await relay?.stop();
    const text = transcript.join('\n') + '\n';
    const file = process.env.FROST_CLIENT_TRANSCRIPT ?? join(dir ?? tmpdir(), 'transcript.txt');
    writeFileSync(file, text);
    console.log(`frost-client transcript: ${file}`);
  });

  it('init ×3, contact exchange, 2-of-3 DKG, two signing sessions; both signatures verify with OpenSSL', async () => {
    const users = ['alice', 'bob', 'eve'];
    for (const u of users) expect((await fc(u, ['init', '-c', `${u}.toml`])).code).toBe(0);
    const contacts: Record<string, string> = {};
    for (const u of users) {
      const r = await fc(u, ['export', '-n', u, '-c', `${u}.toml`]);
      expect(r.code).toBe(0);
      contacts[u] = /(zffrost1[0-9a-z]+)/.exec(r.out)![1]!;
    }
    for (const u of users) for (const other of users.filter((x) => x !== u)) expect((await fc(u, ['import', contacts[other]!, '-c', `${u}.toml`])).code).toBe(0);

    // DKG: alice creates the session naming the others; they join once it exists.
    const t0 = Date.now();
    const creator = fc('alice', ['dkg', '-c', 'alice.toml', '-d', 'relay test group', '-s', server, '-t', '2', '-S', `${pubkey('bob')},${pubkey('eve')}`]);
    await sessionCreated(1);
    const joiners = ['bob', 'eve'].map((u) => fc(u, ['dkg', '-c', `${u}.toml`, '-d', 'relay test group', '-s', server, '-t', '2']));
    const dkg = await Promise.all([creator, ...joiners]);
    note(`DKG took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    for (const r of dkg) expect(r.code).toBe(0);
    const groups = await fc('alice', ['groups', '-c', 'alice.toml']);
    const groupKey = /Public key ([0-9a-f]{64})/.exec(groups.out)![1]!;
    for (const u of ['bob', 'eve']) expect((await fc(u, ['groups', '-c', `${u}.toml`])).out).toContain(groupKey);

    const pem = join(dir, 'group.pem');
    writeFileSync(join(dir, 'group.der'), Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(groupKey, 'hex')]));
    execFileSync('openssl', ['pkey', '-pubin', '-inform', 'DER', '-in', join(dir, 'group.der'), '-out', pem]);

    // Two signing sessions: alice coordinates bob + eve, then bob coordinates alice + eve.
    const rounds = [
      { coordinator: 'alice', signers: ['bob', 'eve'], message: 'first message through the relay' },
      { coordinator: 'bob', signers: ['alice', 'eve'], message: 'second message, another signer set' },
    ];
    for (const [i, round] of rounds.entries()) {
      const msgFile = join(dir, `msg${i}.bin`);
      const sigFile = join(dir, `sig${i}.bin`);
      writeFileSync(msgFile, round.message);
      const started = Date.now();
      const coordinator = fc(round.coordinator, ['coordinator', '-c', `${round.coordinator}.toml`, '-g', groupKey, '-S', round.signers.map(pubkey).join(','), '-m', msgFile, '-o', sigFile, '-s', server]);
      await sessionCreated(2 + i);
      const participants = round.signers.map((u) => fc(u, ['participant', '-c', `${u}.toml`, '-g', groupKey, '-s', server], 'y\n'));
      const results = await Promise.all([coordinator, ...participants]);
      note(`signing session ${i + 1} took ${((Date.now() - started) / 1000).toFixed(1)} s`);
      for (const r of results) expect(r.code).toBe(0);
      const verify = execFileSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', pem, '-rawin', '-in', msgFile, '-sigfile', sigFile], { encoding: 'utf8' });
      note(`$ openssl pkeyutl -verify -pubin -inkey group.pem -rawin -in msg${i}.bin -sigfile sig${i}.bin\n  ${verify.trim()}`);
      expect(verify).toMatch(/Signature Verified Successfully/);
    }
    // The relay logged no message contents and no tokens.
    const logs = relay.logs.join('\n');
    expect(logs).not.toMatch(/access_token|"msg":"[0-9a-f]{64,}/);
  }, 240_000);
});
