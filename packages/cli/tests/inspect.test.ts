// frostctl inspect on the DKG packages (frost-rs dkg::round1::Package and dkg::round2::Package), run
// in-process through runCli with captured output.
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Identifier, dkg, dkgRound1PackageToJson, dkgRound2PackageToJson, refreshDkgPart1, toHex } from '@hoarfrost/frost';
import { runCli } from '../src/index.js';

async function frostctl(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const status = await runCli(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { status, stdout: out.join('\n'), stderr: err.join('\n') };
}

const dir = mkdtempSync(join(tmpdir(), 'frostctl-inspect-dkg-'));
function file(name: string, value: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(value));
  return path;
}

const ids = [1, 2, 3].map((i) => Identifier.fromNumber(i));
const r1 = ids.map((id) => dkg.part1(id, 3, 2));
const round1Path = file('round1-from-2.json', dkgRound1PackageToJson(r1[1]!.package));
const others = new Map([[ids[1]!.toHex(), r1[1]!.package], [ids[2]!.toHex(), r1[2]!.package]]);
const round2 = dkg.part2(r1[0]!.secretPackage, others).packages.get(ids[1]!.toHex())!;
const round2Path = file('round2-for-2.json', dkgRound2PackageToJson(round2));

describe('frostctl inspect: DKG packages', () => {
  it('summarises a round-1 package; its proof is checked when the sender is given (number or hex)', async () => {
    const plain = await frostctl('inspect', round1Path);
    expect(plain.status).toBe(0);
    expect(plain.stdout).toMatch(/DKG round-1 package \(key generation\): valid encodings, threshold 2/);
    expect(plain.stdout).toContain(toHex(r1[1]!.package.verifyingKey));
    expect(plain.stdout).toMatch(/not checked \(give --sender ID\)/);
    const checked = await frostctl('inspect', '--sender', '2', round1Path);
    expect(checked.status).toBe(0);
    expect(checked.stdout).toMatch(/proof of knowledge: valid for sender 2/);
    expect((await frostctl('inspect', round1Path, '--sender', ids[1]!.toHex())).status).toBe(0);
  });

  it('exits 1 with INVALID_PROOF_OF_KNOWLEDGE when the package is not from the sender given', async () => {
    const r = await frostctl('inspect', round1Path, '--sender', '3');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('INVALID_PROOF_OF_KNOWLEDGE');
  });

  it('recognises a refresh round-1 package (t − 1 commitments, a proof that is not checked)', async () => {
    const path = file('refresh-round1.json', dkgRound1PackageToJson(refreshDkgPart1(ids[0]!, 3, 3).package));
    const r = await frostctl('inspect', path, '--sender', '1');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/DKG round-1 package \(refresh\): valid encodings, threshold 3/);
    expect(r.stdout).toMatch(/not checked/);
  });

  it('summarises a round-2 package without printing its secret share', async () => {
    const r = await frostctl('inspect', round2Path);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/DKG round-2 package: valid/);
    expect(r.stdout + r.stderr).not.toContain(toHex(round2.toBytes()));
  });

  it.each([
    ['an identity commitment', () => ({ ...dkgRound1PackageToJson(r1[1]!.package), commitment: ['01' + '00'.repeat(31), toHex(r1[1]!.package.commitment[1]!)] }), 'INVALID_POINT'],
    ['an unknown field', () => ({ ...dkgRound2PackageToJson(round2), extra: 1 }), 'UNKNOWN_FIELD'],
    ['a non-canonical share', () => ({ ...dkgRound2PackageToJson(round2), signing_share: 'ff'.repeat(32) }), 'INVALID_SCALAR'],
  ])('exits 1 with the stable code on %s', async (_name, make, code) => {
    const r = await frostctl('inspect', file(`bad-${code}.json`, make()));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(code);
    expect(r.stderr).not.toContain(toHex(round2.toBytes()));
  });

  it('refuses a malformed --sender and stray arguments with USAGE', async () => {
    for (const args of [[round1Path, '--sender'], [round1Path, '--sender', '0'], [round1Path, '--sender', 'zz'], [round1Path, round2Path], ['--sender', '2'], [round1Path, '--verbose']]) {
      const r = await frostctl('inspect', ...args);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('USAGE');
    }
  });
});
