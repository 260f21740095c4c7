// The images' production install (scripts/prod-install.sh, also run by docker/Dockerfile) boots: each
// service starts from its pruned folder with a real config, answers /healthz, and signs; the relay logs a
// client in, and frostctl's relay commands run from theirs. And it holds nothing of the development kit:
// no dev PKI library, no test kit, no dev tooling.
import { afterAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCertificateAuthority, createDevEnvironment, issueRelayCertificate, startCluster, startRelay, type Cluster, type RelayProcess } from '@hoarfrost/testkit';
import { RelayClient, newIdentity } from '@hoarfrost/relay/client';

const repo = fileURLToPath(new URL('../../', import.meta.url));
let cluster: Cluster | undefined;
let relay: RelayProcess | undefined;

/** Never in a production tree: the dev PKI (x509 generation) and the development/test kit. */
const FORBIDDEN = ['@peculiar/x509', '@hoarfrost/testkit'];

/**
 * Every place under `root` where one of `names` is installed: a `node_modules/<name>` entry (folder or
 * link) at any depth, or its folder in pnpm's virtual store (`.pnpm/<scope>+<name>@<version>...`).
 * Links are not followed: what they point at inside the tree is walked anyway.
 */
function installedCopies(root: string, names: string[]): string[] {
  const storePrefixes = names.map((n) => `${n.replace('/', '+')}@`);
  const found: string[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (names.some((n) => path.endsWith(`/node_modules/${n}`))) found.push(path);
      else if (basename(dir) === '.pnpm' && storePrefixes.some((p) => entry.name.startsWith(p))) found.push(path);
      if (entry.isDirectory()) stack.push(path);
    }
  }
  return found;
}
afterAll(async () => {
  await cluster?.stop();
  await relay?.stop();
});

describe('production install', () => {
  it('prunes to production dependencies, boots each service from its folder and signs', async () => {
    const out = mkdtempSync(join(tmpdir(), 'frost-prod-'));
    execFileSync('bash', [join(repo, 'scripts/prod-install.sh'), out], { cwd: repo, stdio: 'pipe' });
    for (const svc of ['coordinator', 'signer', 'relay', 'frostctl']) {
      expect(existsSync(join(out, svc, 'dist/main.js'))).toBe(true);
      const deps = readdirSync(join(out, svc, 'node_modules'));
      // No dev tooling in a production tree.
      for (const dev of ['jest', 'typescript', '@swc', 'fast-check', '@types']) expect(deps).not.toContain(dev);
      // Neither at the top nor anywhere deeper (transitively, or in the .pnpm store).
      expect(installedCopies(join(out, svc, 'node_modules'), FORBIDDEN)).toEqual([]);
    }
    // The search does find what is installed (a check that cannot pass vacuously).
    for (const present of ['@hoarfrost/frost', 'pino']) expect(installedCopies(join(out, 'signer/node_modules'), [present])).not.toEqual([]);
    // The pruned engine loads its native group backend where it was built (always in CI).
    const backend = spawnSync(process.execPath, ['--input-type=module', '-e', "const m = await import('@hoarfrost/frost'); console.log(m.group().name)"], { cwd: join(out, 'signer'), encoding: 'utf8' });
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

    // The relay from its folder: TLS with a leaf of a dev CA, a client logs in (XEdDSA) and lists its sessions.
    const relayDir = mkdtempSync(join(tmpdir(), 'frost-prod-relay-'));
    const ca = await createCertificateAuthority('prod-install relay CA');
    writeFileSync(join(relayDir, 'ca.pem'), ca.certPem);
    relay = await startRelay(await issueRelayCertificate(ca, relayDir, join(relayDir, 'ca.pem')), { main: join(out, 'relay/dist/main.js') });
    expect((await fetch(`${relay.opsUrl}/readyz`)).status).toBe(200);
    const client = new RelayClient({ url: relay.url, ca: ca.certPem, identity: newIdentity() });
    await client.login();
    expect(await client.listSessions()).toEqual([]);
    client.close();
    // frostctl's relay commands load the relay client from the pruned tree.
    const idFile = join(relayDir, 'me.json');
    const identity = spawnSync(process.execPath, [join(out, 'frostctl/dist/main.js'), 'relay', 'identity', '--out', idFile], { encoding: 'utf8' });
    expect(identity.status).toBe(0);
    expect(identity.stdout.trim()).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(idFile).mode & 0o777).toBe(0o600);
  }, 120_000);
});
