// The README's first command, as a new user runs it: `pnpm start` brings up the local cluster, has
// the signers make its first key, and prints a curl that works when pasted; frostctl keys needs no
// flags against it; started again on the same folder, every key is still there.
import { describe, expect, it } from '@jest/globals';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ed25519Verifies } from '@hoarfrost/testkit/support';

const repo = fileURLToPath(new URL('../../', import.meta.url));

/** `pnpm start` on `devDir` until it prints its instructions; stop() sends Ctrl-C and waits. */
async function startLocalCluster(devDir: string): Promise<{ out: () => string; stop: () => Promise<void> }> {
  const child = spawn('pnpm', ['start'], { cwd: repo, env: { ...process.env, FROST_DEV_DIR: devDir }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const stop = async () => {
    process.kill(-child.pid!, 'SIGINT');
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 90_000;
  while (!/Ctrl-C stops everything/.test(out) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
  if (!/Ctrl-C stops everything/.test(out)) {
    await stop();
    throw new Error(`pnpm start did not come up:\n${out}`);
  }
  return { out: () => out, stop };
}

/** frostctl as the README shows it, against the local cluster of `devDir` (no flags for credentials). */
function frostctl(devDir: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['packages/cli/dist/main.js', ...args], { cwd: repo, env: { ...process.env, FROST_DEV_DIR: devDir }, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('README quick start', () => {
  it('names `pnpm start` as the first command; the signers make its first key by DKG; its printed curl signs; frostctl keys works with no extra flags; a restart keeps every key', async () => {
    const readme = readFileSync(join(repo, 'README.md'), 'utf8');
    const start = /```sh\n(.*pnpm start.*)\n```/.exec(readme);
    expect(start).not.toBeNull();
    const devDir = mkdtempSync(join(tmpdir(), 'frost-readme-'));
    const first = await startLocalCluster(devDir);
    let groupKey: string;
    try {
      const out = first.out();
      // No dealer: the first start has the signers make the key, step by step.
      expect(out).toMatch(/the signers make it now/);
      expect(out).toMatch(/activate/);
      expect(out).toMatch(/jwks\.json/);
      const curl = /(curl [^\n]*\\\n[^\n]*\/sign)/.exec(out)![1]!.replace(/\\\n/g, ' ');
      const response = JSON.parse(execFileSync('bash', ['-c', `${curl} --silent --show-error`], { cwd: repo, encoding: 'utf8' })) as {
        signature_b64: string;
        group_public_b64: string;
      };
      const message = Buffer.from(/"msg_b64":"([^"]+)"/.exec(curl)![1]!, 'base64');
      expect(ed25519Verifies(response.group_public_b64, message, response.signature_b64)).toBe(true);
      groupKey = response.group_public_b64;
      const created = frostctl(devDir, 'keys', 'create', '--key-id', 'second', '--threshold', '2');
      expect(created.status).toBe(0);
    } finally {
      await first.stop();
    }
    expect(first.out()).toMatch(/stopping/);

    const again = await startLocalCluster(devDir);
    try {
      expect(again.out()).not.toMatch(/the signers make it now/);
      const listed = frostctl(devDir, 'keys', 'list', '--json');
      expect(listed.status).toBe(0);
      const keys = (JSON.parse(listed.stdout) as { keys: { key_id: string; group_public_key: string; state: string }[] }).keys;
      expect(keys.map((k) => [k.key_id, k.state]).sort()).toEqual([['default', 'active'], ['second', 'active']]);
      expect(Buffer.from(keys.find((k) => k.key_id === 'default')!.group_public_key, 'base64url').toString('base64')).toBe(groupKey);
      for (const keyId of ['default', 'second']) {
        const signed = frostctl(devDir, 'sign', '--key-id', keyId, '--message', 'hello');
        expect(signed.status).toBe(0);
        expect(JSON.parse(signed.stdout)).toMatchObject({ verified: true });
      }
    } finally {
      await again.stop();
    }
  }, 240_000);
});
