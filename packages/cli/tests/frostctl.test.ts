// frostctl's commands as a user types them, run in-process through runCli with captured output (the
// built binary in a child process is covered by tests/e2e/frostctl.e2e.test.ts).
import { beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Identifier,
  SigningPackage,
  aggregate,
  keyPackageFromJson,
  publicKeyPackageFromJson,
  round1,
  round2,
  type SignatureShare,
} from '@hoarfrost/frost';
import { runCli } from '../src/index.js';

async function frostctl(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const status = await runCli(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { status, stdout: out.join('\n'), stderr: err.join('\n') };
}

describe('frostctl', () => {
  it('lists its commands; the local cluster is not one of them (it lives in the test kit)', async () => {
    const help = await frostctl('--help');
    expect(help.status).toBe(0);
    for (const c of ['keygen', 'verify', 'inspect', 'sign', 'keys', 'k8s-manifests']) expect(help.stdout).toContain(`  ${c} `);
    expect(help.stdout).not.toMatch(/^ {2}dev /m);
    const dev = await frostctl('dev');
    expect(dev.status).toBe(2);
    expect(dev.stderr).toMatch(/USAGE: unknown command "dev"/);
  });
});

describe('frostctl keys (the network half is end-to-end tested: tests/e2e/keys.e2e.test.ts)', () => {
  it('refuses what it cannot send, before reaching any coordinator, with USAGE (exit 2)', async () => {
    const cases: [string[], RegExp][] = [
      [['keys'], /a keys command is required/],
      [['keys', 'rotate'], /unknown keys command "rotate"/],
      [['keys', 'create', '--threshold', '2'], /--key-id is required/],
      [['keys', 'create', '--key-id', 'k'], /--threshold must be an integer of at least 2/],
      [['keys', 'create', '--key-id', 'k', '--threshold', '1'], /--threshold must be an integer of at least 2/],
      [['keys', 'refresh'], /--key-id is required/],
      [['keys', 'remove', '--key-id', 'k'], /--delete-shares/],
    ];
    for (const [args, message] of cases) {
      const r = await frostctl(...args);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/frostctl: USAGE: /);
      expect(r.stderr).toMatch(message);
    }
  });

  it('names what it cannot read: the operator certificate of a dev folder that has none', async () => {
    const r = await frostctl('keys', 'create', '--key-id', 'k', '--threshold', '2', '--dev-dir', mkdtempSync(join(tmpdir(), 'frostctl-keys-')));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/FILE_UNREADABLE: cannot read .*ca\.pem/);
  });
});

describe('frostctl keygen', () => {
  const dir = mkdtempSync(join(tmpdir(), 'frostctl-'));
  const out = join(dir, 'keys');

  it('writes frost-rs JSON key files, keys 0600, that decode and sign', async () => {
    const r = await frostctl('keygen', '--threshold', '3', '--signers', '5', '--out', out);
    expect(r.status).toBe(0);
    const pkp = publicKeyPackageFromJson(readFileSync(join(out, 'public-key-package.json'), 'utf8'));
    expect(pkp.minSigners).toBe(3);
    expect(pkp.maxSigners).toBe(5);
    pkp.assertConsistent();
    const kps = [1, 2, 3, 4, 5].map((i) => {
      const path = join(out, `key-package-${i}.json`);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      const kp = keyPackageFromJson(readFileSync(path, 'utf8'));
      expect(kp.identifier.equals(Identifier.fromNumber(i))).toBe(true);
      kp.assertMatches(pkp);
      return kp;
    });
    // Sign with 2, 4, 5 and check with frostctl verify.
    const chosen = [kps[1]!, kps[3]!, kps[4]!];
    const message = randomBytes(40);
    const commits = chosen.map((kp) => ({ kp, ...round1.commit(kp.signingShare) }));
    const pkg = new SigningPackage(commits.map((c) => ({ identifier: c.kp.identifier, commitments: c.commitments })), message);
    const shares = new Map<string, SignatureShare>(commits.map((c) => [c.kp.identifier.toHex(), round2.sign(pkg, c.nonces, c.kp)]));
    const sig = Buffer.from(aggregate(pkg, shares, pkp).toBytes());
    const pkpPath = join(out, 'public-key-package.json');
    const ok = await frostctl('verify', '--public-key-package', pkpPath, '--message-b64', message.toString('base64'), '--signature-b64', sig.toString('base64url'));
    expect(ok.status).toBe(0);
    sig[5]! ^= 0x40;
    const bad = await frostctl('verify', '--public-key-package', pkpPath, '--message-b64', message.toString('base64'), '--signature-b64', sig.toString('base64'));
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/INVALID/);
  });

  it('refuses to overwrite without --force and overwrites with it', async () => {
    const before = readFileSync(join(out, 'key-package-1.json'), 'utf8');
    const r = await frostctl('keygen', '--threshold', '3', '--signers', '5', '--out', out);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/FILE_EXISTS/);
    expect(readFileSync(join(out, 'key-package-1.json'), 'utf8')).toBe(before);
    expect((await frostctl('keygen', '--threshold', '3', '--signers', '5', '--out', out, '--force')).status).toBe(0);
    expect(readFileSync(join(out, 'key-package-1.json'), 'utf8')).not.toBe(before);
  });

  it.each([
    [['--threshold', '1', '--signers', '3'], /threshold must be an integer between 2 and signers/],
    [['--threshold', '4', '--signers', '3'], /threshold must be an integer between 2 and signers \(3\)/],
    [['--threshold', 'two', '--signers', '3'], /--threshold must be a positive integer/],
    [['--threshold', '2', '--signers', '300'], /signers must be at most 255/],
    [['--threshold', '2'], /--signers is required/],
  ])('rejects %j with a clear message', async (args, message) => {
    const r = await frostctl('keygen', ...args, '--out', join(dir, 'never'));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});

describe('frostctl inspect', () => {
  const dir = mkdtempSync(join(tmpdir(), 'frostctl-inspect-'));
  beforeAll(async () => {
    expect((await frostctl('keygen', '--threshold', '2', '--signers', '3', '--out', dir)).status).toBe(0);
  });

  it('summarises valid files without printing the secret share', async () => {
    const text = readFileSync(join(dir, 'key-package-2.json'), 'utf8');
    const r = await frostctl('inspect', join(dir, 'key-package-2.json'));
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/KeyPackage: valid/);
    expect(r.stdout).not.toContain(JSON.parse(text).signing_share);
    expect((await frostctl('inspect', join(dir, 'public-key-package.json'))).stdout).toMatch(/2-of-3/);
  });

  it.each([
    ['unknown field', (o: Record<string, unknown>) => ({ ...o, extra: true }), 'UNKNOWN_FIELD'],
    ['wrong ciphersuite', (o: Record<string, unknown>) => ({ ...o, header: { version: 0, ciphersuite: 'FROST-P256-SHA256-v1' } }), 'CIPHERSUITE_MISMATCH'],
    ['zero identifier', (o: Record<string, unknown>) => ({ ...o, identifier: '00'.repeat(32) }), 'INVALID_IDENTIFIER'],
    ['invalid point', (o: Record<string, unknown>) => ({ ...o, verifying_key: '01' + '00'.repeat(31) }), 'INVALID_POINT'],
    ['non-canonical scalar', (o: Record<string, unknown>) => ({ ...o, signing_share: 'ff'.repeat(32) }), 'INVALID_SCALAR'],
  ])('exits non-zero with the stable code on %s', async (_name, mutate, code) => {
    const o = JSON.parse(readFileSync(join(dir, 'key-package-1.json'), 'utf8'));
    const path = join(dir, `bad-${code}.json`);
    writeFileSync(path, JSON.stringify(mutate(o)));
    const r = await frostctl('inspect', path);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(code);
  });

  it('detects a tampered verifying share in a public key package', async () => {
    const o = JSON.parse(readFileSync(join(dir, 'public-key-package.json'), 'utf8'));
    const ids = Object.keys(o.verifying_shares);
    o.verifying_shares[ids[2]!] = o.verifying_shares[ids[0]!];
    const path = join(dir, 'bad-pkp.json');
    writeFileSync(path, JSON.stringify(o));
    const r = await frostctl('inspect', path);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('INCONSISTENT_KEY');
  });
});

describe('frostctl k8s-manifests', () => {
  it('writes one Secret per signer holding only its own share, the public ConfigMaps and the JWT key, 0600', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'frostctl-k8s-'));
    expect((await frostctl('keygen', '--threshold', '2', '--signers', '3', '--out', join(dir, 'keys'))).status).toBe(0);
    const out = join(dir, 'manifests.yaml');
    const r = await frostctl('k8s-manifests', '--keys', join(dir, 'keys'), '--namespace', 'frost', '--jwt-kid', 'coordinator-1', '--out', out);
    expect(r.status).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const docs = readFileSync(out, 'utf8').split(/^---$/m).map((d) => d.trim()).filter(Boolean).map((d) => JSON.parse(d) as { kind: string; metadata: { name: string; namespace: string }; data?: Record<string, string>; stringData?: Record<string, string> });
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual([
      'ConfigMap/frost-public-key-package',
      'Secret/frost-signer-1-keys',
      'Secret/frost-signer-2-keys',
      'Secret/frost-signer-3-keys',
      'Secret/frost-coordinator-jwt',
      'ConfigMap/frost-jwks',
    ]);
    for (const d of docs) expect(d.metadata.namespace).toBe('frost');
    for (const i of [1, 2, 3]) {
      const secret = docs.find((d) => d.metadata.name === `frost-signer-${i}-keys`)!;
      expect(secret.stringData!['key-package.json']).toBe(readFileSync(join(dir, 'keys', `key-package-${i}.json`), 'utf8'));
      expect(Object.keys(secret.stringData!).sort()).toEqual(['key-package.json', 'public-key-package.json']);
    }
    const jwks = JSON.parse(docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === 'frost-jwks')!.data!['jwks.json']!) as { keys: { kid: string; d?: string }[] };
    expect(jwks.keys.map((k) => k.kid)).toEqual(['coordinator-1']);
    expect(jwks.keys[0]!.d).toBeUndefined();
    // The ConfigMaps carry no secret material.
    const publicDocs = JSON.stringify(docs.filter((d) => d.kind === 'ConfigMap'));
    expect(publicDocs).not.toContain('signing_share');
    expect(publicDocs).not.toContain('PRIVATE KEY');
  });
});
