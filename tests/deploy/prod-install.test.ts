// The images' production install (scripts/prod-install.sh, also run by docker/Dockerfile) boots: each
// service starts from its pruned folder with a real config, answers /healthz, and signs.
import { afterAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDevEnvironment, startCluster, type Cluster } from '@frostd/cli';

const repo = fileURLToPath(new URL('../../', import.meta.url));
let cluster: Cluster | undefined;
afterAll(async () => {
  await cluster?.stop();
});

describe('production install', () => {
  it('prunes to production dependencies, boots each service from its folder and signs', async () => {
    const out = mkdtempSync(join(tmpdir(), 'frost-prod-'));
    execFileSync('bash', [join(repo, 'scripts/prod-install.sh'), out], { cwd: repo, stdio: 'pipe' });
    for (const svc of ['coordinator', 'signer', 'frostctl']) {
      expect(existsSync(join(out, svc, 'dist/main.js'))).toBe(true);
      const deps = readdirSync(join(out, svc, 'node_modules'));
      // No dev tooling in a production tree.
      for (const dev of ['jest', 'typescript', '@swc', 'fast-check', '@types']) expect(deps).not.toContain(dev);
    }
    // The pruned engine loads its native group backend where it was built (always in CI).
    const backend = spawnSync(process.execPath, ['--input-type=module', '-e', "const m = await import('@frostd/frost'); console.log(m.group().name)"], { cwd: join(out, 'signer'), encoding: 'utf8' });
    expect(backend.status).toBe(0);
    if (process.env.CI === 'true' || existsSync(join(repo, 'packages/frost/native/frost_native.node'))) expect(backend.stdout.trim()).toBe('native');
    else expect(['sodium', 'noble']).toContain(backend.stdout.trim());
    const env = await createDevEnvironment(mkdtempSync(join(tmpdir(), 'frost-prod-env-')), { threshold: 2, signers: 3 });
    cluster = await startCluster(env, {
      signerMain: join(out, 'signer/dist/main.js'),
      coordinatorMain: join(out, 'coordinator/dist/main.js'),
    });
    expect((await fetch(`${cluster.opsUrl}/healthz`)).status).toBe(200);
    for (const s of cluster.signers) expect((await fetch(`http://127.0.0.1:${s.ports.opsPort}/healthz`)).status).toBe(200);
    const sign = spawnSync(process.execPath, [join(out, 'frostctl/dist/main.js'), 'sign', '--url', cluster.url, '--dev-dir', env.dir, '--message', 'from the pruned install'], { encoding: 'utf8' });
    expect(sign.stderr).toBe('');
    expect(sign.status).toBe(0);
    expect(JSON.parse(sign.stdout).verified).toBe(true);
  }, 120_000);
});
