// Every way a signer gets convicted is counted in frost_coordinator_culprits_total (the metric the
// FrostCulpritNamed alert watches), for /sign and for the joint attempt of a batch alike.
import { describe, expect, it } from '@jest/globals';
import { ed25519Verifies } from '@hoarfrost/testkit/support';
import { fakeDeployment, sample, silentLog, type Behaviour } from './fake-signers.js';

const message = new TextEncoder().encode('mint: 100 tokens to alice');
const culpritsOf = (d: Awaited<ReturnType<typeof fakeDeployment>>, signer: string) => sample(d.metrics, 'frost_coordinator_culprits_total', { signer });

describe('a convicted signer is counted, whichever way it was caught', () => {
  const ways: [string, Behaviour][] = [
    ['a share that does not verify', 'corrupt'],
    ['a share that is not a canonical scalar', 'bad-share'],
    ['a false claim of an invalid point in a valid package', 'cry-wolf'],
  ];

  it.each(ways)('/sign, %s: named, excluded, counted once; signed by the others', async (_way, behaviour) => {
    const d = await fakeDeployment(2, 3, { failureThreshold: 5 });
    d.signers[0]!.behaviour = behaviour;
    d.registry.handles[2]!.healthy = false; // ranked last: signer 1 is in the first quorum
    const r = await d.orchestrator.sign({ message, log: silentLog });
    expect(ed25519Verifies(d.pkp.verifyingKeyBytes, message, r.signature)).toBe(true);
    expect(r.culprits).toEqual([1]);
    expect(r.participants).toEqual([2, 3]);
    expect(await culpritsOf(d, 'signer-1')).toBe(1);
    expect(await culpritsOf(d, 'signer-2')).toBe(0);
  });

  it.each(ways)('a batch, %s: every message it touched names it and is counted; every message is signed', async (_way, behaviour) => {
    const d = await fakeDeployment(2, 3, { failureThreshold: 5 });
    d.signers[0]!.behaviour = behaviour;
    d.registry.handles[2]!.healthy = false; // the joint quorum is {1, 2}
    const ms = Array.from({ length: 3 }, (_, i) => new TextEncoder().encode(`mint: ${i}`));
    const out = await d.orchestrator.signBatch(ms.map((m) => ({ message: m, log: silentLog })));
    out.forEach((o, i) => {
      expect(o).not.toBeInstanceOf(Error);
      const r = o as Exclude<typeof o, Error>;
      expect(ed25519Verifies(d.pkp.verifyingKeyBytes, ms[i]!, r.signature)).toBe(true);
      expect(r.culprits).toEqual([1]);
      expect(r.participants).toEqual([2, 3]);
    });
    expect(await culpritsOf(d, 'signer-1')).toBe(3);
  });

  it('an invalid commitment convicts its issuer (counted), not the signer that refused it', async () => {
    const d = await fakeDeployment(2, 3, { poolSize: 0 });
    d.signers[2]!.behaviour = 'bad-point';
    d.registry.handles[1]!.healthy = false; // ranked last: the first quorum is {1, 3}
    const r = await d.orchestrator.sign({ message, log: silentLog });
    expect(ed25519Verifies(d.pkp.verifyingKeyBytes, message, r.signature)).toBe(true);
    expect(r.culprits).toEqual([3]);
    expect(await culpritsOf(d, 'signer-3')).toBe(1);
    expect(await culpritsOf(d, 'signer-1')).toBe(0);
  });
});

describe('a signer convicted in a batch stays convicted', () => {
  it('one share that does not decode among valid ones: its breaker is open after the batch (the valid shares do not close it)', async () => {
    const d = await fakeDeployment(2, 3, { failureThreshold: 5 });
    const cheat = d.signers[0]!;
    const honest = cheat.round2Batch.bind(cheat);
    cheat.round2Batch = async (reqs, signal) => {
      const out = await honest(reqs, signal);
      const first = out[0]!;
      if (!(first instanceof Error)) out[0] = { ...first, share: new Uint8Array(32).fill(0xff) };
      return out;
    };
    d.registry.handles[2]!.healthy = false; // the joint quorum is {1, 2}
    const ms = Array.from({ length: 4 }, (_, i) => new TextEncoder().encode(`mint: ${i}`));
    const out = await d.orchestrator.signBatch(ms.map((m) => ({ message: m, log: silentLog })));
    expect(out.map((o) => (o instanceof Error ? o : o.culprits))).toEqual([[1], [], [], []]);
    out.forEach((o, i) => expect(ed25519Verifies(d.pkp.verifyingKeyBytes, ms[i]!, (o as Exclude<typeof o, Error>).signature)).toBe(true));
    expect(d.registry.handles[0]!.breaker.state).toBe('open');
    expect(await culpritsOf(d, 'signer-1')).toBe(1);
  });
});
