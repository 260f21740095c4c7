/**
 * Compute benchmark: this engine (libsodium backend, and the noble backend) vs @noble/curves
 * ed25519_FROST as shipped vs frost-rs (frost-ed25519, built and run in the same invocation).
 * Per operation and per whole signing, for 2-of-3, 3-of-5, 7-of-10, 15-of-20.
 *
 * "in-memory": the library API with commitments already in memory (what frost-rs's API measures).
 * "wire": every message crosses a process boundary as bytes, so each receiver validates every element
 * (DeserializeElement with the subgroup check) — the work a deployed signer and coordinator really do,
 * and what noble's byte-oriented API always does.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ed25519_FROST } from '@noble/curves/ed25519.js';
import {
  Identifier,
  SignatureShare,
  SigningCommitments,
  SigningPackage,
  aggregate,
  computeSigningContext,
  round1,
  round2,
  availableBackends,
  setGroupBackend,
  type BackendName,
  trustedDealerKeygen,
  verifySignatureShare,
  type KeyPackage,
} from '@hoarfrost/frost';
import { median, sample } from './stats.js';

export interface ComputeRow {
  impl: string;
  t: number;
  n: number;
  commit_us: number;
  sign_us: number;
  aggregate_us: number;
  verify_share_us: number;
  full_signing_us: number;
  full_signing_wire_us: number;
}

const MESSAGE = new TextEncoder().encode('FROST benchmark message: a JWS signing input of typical size for a mint API, padded to ~100 bytes');

function engine(backend: BackendName, t: number, n: number, rounds: number): ComputeRow {
  setGroupBackend(backend);
  const dealt = trustedDealerKeygen({ minSigners: t, maxSigners: n });
  const kps = [...dealt.keyPackages.values()].slice(0, t);
  const pkp = dealt.publicKeyPackage;
  const fresh = () => kps.map((kp) => ({ kp, ...round1.commit(kp.signingShare) }));
  const pkgOf = (cs: ReturnType<typeof fresh>) => new SigningPackage(cs.map((c) => ({ identifier: c.kp.identifier, commitments: c.commitments })), MESSAGE);

  const commit = median(sample(rounds, () => round1.commit(kps[0]!.signingShare)));
  let cs = fresh();
  let pkg = pkgOf(cs);
  const signSamples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    cs = fresh();
    pkg = pkgOf(cs);
    const t0 = process.hrtime.bigint();
    round2.sign(pkg, cs[0]!.nonces, kps[0]!);
    signSamples.push(Number(process.hrtime.bigint() - t0) / 1e3);
  }
  cs = fresh();
  pkg = pkgOf(cs);
  const shares = new Map<string, SignatureShare>(cs.map((c) => [c.kp.identifier.toHex(), round2.sign(pkg, c.nonces, c.kp)]));
  const agg = median(sample(rounds, () => aggregate(pkg, shares, pkp)));
  const ctx = computeSigningContext(pkg, pkp.verifyingKeyBytes);
  const id0 = kps[0]!.identifier;
  const vs = median(sample(rounds, () => verifySignatureShare(ctx, id0, pkp.verifyingShareBytesOf(id0), shares.get(id0.toHex())!)));

  const full = median(sample(rounds, () => {
    const c = fresh();
    const p = pkgOf(c);
    const s = new Map(c.map((x) => [x.kp.identifier.toHex(), round2.sign(p, x.nonces, x.kp)]));
    aggregate(p, s, pkp);
  }));

  // Wire: commitments and shares as bytes; each signer and the coordinator validate what they receive.
  const decode = (wire: { id: Uint8Array; hiding: Uint8Array; binding: Uint8Array }[], mine?: { kp: KeyPackage; commitments: SigningCommitments }) =>
    new SigningPackage(wire.map((w) => {
      const identifier = Identifier.fromBytes(w.id);
      const own = mine && identifier.equals(mine.kp.identifier);
      return { identifier, commitments: own ? mine.commitments : SigningCommitments.fromBytes(w.hiding, w.binding) };
    }), MESSAGE);
  const wireFull = median(sample(rounds, () => {
    const c = fresh();
    const wire = c.map((x) => ({ id: x.kp.identifier.toBytes(), hiding: x.commitments.hidingBytes, binding: x.commitments.bindingBytes }));
    const coordinatorPkg = decode(wire); // coordinator validates the commitments it received in round 1
    // Shares travel as bytes with the signer's R hint, as in the service's round-2 response.
    const signed = c.map((x) => round2.sign(decode(wire, x), x.nonces, x.kp));
    const s = new Map(c.map((x, i) => [x.kp.identifier.toHex(), SignatureShare.fromBytes(signed[i]!.toBytes(), signed[i]!.groupCommitment)]));
    aggregate(coordinatorPkg, s, pkp);
  }));
  return { impl: `engine (${backend})`, t, n, commit_us: commit, sign_us: median(signSamples), aggregate_us: agg, verify_share_us: vs, full_signing_us: full, full_signing_wire_us: wireFull };
}

function nobleShipped(t: number, n: number, rounds: number): ComputeRow {
  const ids = Array.from({ length: n }, (_, i) => ed25519_FROST.Identifier.fromNumber(i + 1));
  const deal = ed25519_FROST.trustedDealer({ min: t, max: n }, ids);
  const signers = ids.slice(0, t);
  const fresh = () => signers.map((id) => ({ id, ...ed25519_FROST.commit(deal.secretShares[id]!) }));
  const commit = median(sample(rounds, () => ed25519_FROST.commit(deal.secretShares[signers[0]!]!)));
  const signSamples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const c = fresh();
    const list = c.map((x) => x.commitments);
    const t0 = process.hrtime.bigint();
    ed25519_FROST.signShare(deal.secretShares[c[0]!.id]!, deal.public, c[0]!.nonces, list, MESSAGE);
    signSamples.push(Number(process.hrtime.bigint() - t0) / 1e3);
  }
  const c = fresh();
  const list = c.map((x) => x.commitments);
  const shares = Object.fromEntries(c.map((x) => [x.id, ed25519_FROST.signShare(deal.secretShares[x.id]!, deal.public, x.nonces, list, MESSAGE)]));
  const agg = median(sample(rounds, () => ed25519_FROST.aggregate(deal.public, list, MESSAGE, shares), 1));
  const vs = median(sample(rounds, () => ed25519_FROST.verifyShare(deal.public, list, MESSAGE, c[0]!.id, shares[c[0]!.id]!), 1));
  const full = median(sample(rounds, () => {
    const cc = fresh();
    const l = cc.map((x) => x.commitments);
    const s = Object.fromEntries(cc.map((x) => [x.id, ed25519_FROST.signShare(deal.secretShares[x.id]!, deal.public, x.nonces, l, MESSAGE)]));
    ed25519_FROST.aggregate(deal.public, l, MESSAGE, s);
  }, 1));
  // noble's API takes bytes and validates on every call: its only mode is the wire mode.
  return { impl: 'noble ed25519_FROST (as shipped)', t, n, commit_us: commit, sign_us: median(signSamples), aggregate_us: agg, verify_share_us: vs, full_signing_us: full, full_signing_wire_us: full };
}

function frostRs(pairs: [number, number][], rounds: number): ComputeRow[] {
  const dir = fileURLToPath(new URL('../frost-rs/', import.meta.url));
  execFileSync('cargo', ['build', '--release', '--quiet'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  const out = execFileSync(`${dir}target/release/frost-rs-bench`, pairs.map(([t, n]) => `${t}:${n}`), { encoding: 'utf8', env: { ...process.env, ROUNDS: String(rounds) } });
  const parsed = JSON.parse(out) as { results: Omit<ComputeRow, 'impl'>[] };
  const lock = readFileSync(`${dir}Cargo.lock`, 'utf8');
  const version = /name = "frost-ed25519"\nversion = "([^"]+)"/.exec(lock)?.[1] ?? '?';
  return parsed.results.map((r) => ({ impl: `frost-rs (frost-ed25519 ${version})`, ...r }));
}

/** Per-field median of several measurements of the same implementation and size. */
function medianRow(rows: ComputeRow[]): ComputeRow {
  const keys = Object.keys(rows[0]!).filter((k) => k.endsWith('_us')) as (keyof ComputeRow)[];
  const out = { ...rows[0]! } as Record<string, unknown>;
  for (const k of keys) out[k] = median(rows.map((r) => r[k] as number));
  return out as unknown as ComputeRow;
}

/**
 * The machine is noisy and drifts: frost-rs and the fast backends are measured alternately, `repeats`
 * times per size, right next to each other, and each figure is the median of those runs' medians.
 */
export function runCompute(pairs: [number, number][], options: { rounds: number; nobleRounds: (t: number) => number; repeats?: number }): ComputeRow[] {
  const rows: ComputeRow[] = [];
  const fast = availableBackends().filter((b) => b !== 'noble');
  for (const [t, n] of pairs) {
    const runs = new Map<string, ComputeRow[]>();
    const add = (r: ComputeRow) => runs.set(r.impl, [...(runs.get(r.impl) ?? []), r]);
    for (let i = 0; i < (options.repeats ?? 3); i++) {
      add(frostRs([[t, n]], options.rounds)[0]!);
      for (const b of fast) add(engine(b, t, n, options.rounds));
    }
    rows.push(...[...runs.values()].map(medianRow));
    if (availableBackends().includes('noble')) rows.push(engine('noble', t, n, Math.max(3, Math.floor(options.rounds / 10))));
    rows.push(nobleShipped(t, n, options.nobleRounds(t)));
    process.stderr.write(`compute ${t}-of-${n} done\n`);
  }
  setGroupBackend(availableBackends()[0]!);
  return rows;
}
