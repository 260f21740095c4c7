// The README's first command, as a new user runs it: `pnpm start` brings up the local cluster and
// prints a curl that works when pasted.
import { describe, expect, it } from '@jest/globals';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ed25519Verifies } from '@hoarfrost/testkit/support';

const repo = fileURLToPath(new URL('../../', import.meta.url));

describe('README quick start', () => {
  it('names `pnpm start` as the first command, and its printed curl signs a message', async () => {
    const readme = readFileSync(join(repo, 'README.md'), 'utf8');
    const start = /```sh\n(.*pnpm start.*)\n```/.exec(readme);
    expect(start).not.toBeNull();
    const devDir = mkdtempSync(join(tmpdir(), 'frost-readme-'));
    const child = spawn('pnpm', ['start'], { cwd: repo, env: { ...process.env, FROST_DEV_DIR: devDir }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const deadline = Date.now() + 60_000;
      while (!/Ctrl-C stops everything/.test(out) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
      expect(out).toMatch(/Ctrl-C stops everything/);
      const curl = /(curl [^\n]*\\\n[^\n]*\/sign)/.exec(out)![1]!.replace(/\\\n/g, ' ');
      const response = JSON.parse(execFileSync('bash', ['-c', `${curl} --silent --show-error`], { cwd: repo, encoding: 'utf8' })) as {
        signature_b64: string;
        group_public_b64: string;
      };
      const message = Buffer.from(/"msg_b64":"([^"]+)"/.exec(curl)![1]!, 'base64');
      expect(ed25519Verifies(response.group_public_b64, message, response.signature_b64)).toBe(true);
    } finally {
      process.kill(-child.pid!, 'SIGINT');
      const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    expect(out).toMatch(/stopping/);
  }, 120_000);
});
