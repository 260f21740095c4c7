// frostctl as an operator runs it: the built binary in a child process (the commands themselves are
// unit-tested in-process in packages/cli/tests). Checks the entry point, exit statuses and the streams.
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../packages/cli/dist/main.js', import.meta.url));
function frostctl(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('frostctl binary', () => {
  it('prints help on stdout (exit 0) and refuses an unknown command on stderr (exit 2)', () => {
    const help = frostctl('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/usage: frostctl <command>/);
    const unknown = frostctl('dev');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/frostctl: USAGE: unknown command "dev"/);
  });

  it('keygen writes files that inspect accepts; verify exits 1 on a bad signature', () => {
    const dir = mkdtempSync(join(tmpdir(), 'frostctl-bin-'));
    expect(frostctl('keygen', '--threshold', '2', '--signers', '3', '--out', dir).status).toBe(0);
    const inspect = frostctl('inspect', join(dir, 'public-key-package.json'));
    expect(inspect.status).toBe(0);
    expect(inspect.stdout).toMatch(/2-of-3/);
    const bad = frostctl('verify', '--public-key-package', join(dir, 'public-key-package.json'), '--message-b64', 'aGk', '--signature-b64', randomBytes(64).toString('base64'));
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/INVALID/);
  });
});
