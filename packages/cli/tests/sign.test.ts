// frostctl sign against an in-process coordinator double over mutual TLS (the dev environment's
// certificates), which signs for real with the environment's key packages: one message goes to
// POST /sign, several to one POST /v1/sign/batch; every signature is verified locally.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  SigningPackage,
  aggregate,
  keyPackageFromJson,
  publicKeyPackageFromJson,
  round1,
  round2,
  type KeyPackage,
  type PublicKeyPackage,
  type SignatureShare,
} from '@hoarfrost/frost';
import { KEY_PACKAGE_FILE } from '@hoarfrost/rpc';
import { createDevEnvironment, type DevEnvironment } from '@hoarfrost/testkit';
import { runCli } from '../src/index.js';

let env: DevEnvironment;
let server: Server;
let url: string;
let keys: KeyPackage[];
let publicKeyPackage: PublicKeyPackage;
/** Every request the double received: path and JSON body. */
const received: { path: string; body: Record<string, unknown> }[] = [];
/** Items of a batch the double answers with an error, or with a wrong signature, by message text. */
const refuse = new Set<string>();
const forge = new Set<string>();

/** A real 2-of-3 signing of `message` with signers 1 and 2. */
function signatureOf(message: Uint8Array): Uint8Array {
  const chosen = keys.slice(0, 2).map((kp) => ({ kp, ...round1.commit(kp.signingShare) }));
  const pkg = new SigningPackage(chosen.map((c) => ({ identifier: c.kp.identifier, commitments: c.commitments })), message);
  const shares = new Map<string, SignatureShare>(chosen.map((c) => [c.kp.identifier.toHex(), round2.sign(pkg, c.nonces, c.kp)]));
  return aggregate(pkg, shares, publicKeyPackage).toBytes();
}

function answerFor(msgB64: string): Record<string, unknown> {
  const message = Buffer.from(msgB64, 'base64');
  const text = message.toString('utf8');
  if (refuse.has(text)) return { error: { code: 'POLICY_REFUSED', message: 'signers refused the message: POLICY_NOT_JWS' } };
  const signature = Buffer.from(signatureOf(message));
  if (forge.has(text)) signature[0]! ^= 1;
  return { signature_b64: signature.toString('base64'), participants: [1, 2] };
}

async function frostctl(...args: string[]): Promise<{ status: number; stdout: string[]; stderr: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const status = await runCli(['sign', '--url', url, '--dev-dir', env.dir, ...args], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { status, stdout: out, stderr: err };
}

beforeAll(async () => {
  env = await createDevEnvironment(mkdtempSync(join(tmpdir(), 'frostctl-sign-')), { threshold: 2, signers: 3 });
  keys = env.signers.map((s) => keyPackageFromJson(readFileSync(join(s.keyDir, env.keyId, KEY_PACKAGE_FILE), 'utf8')));
  publicKeyPackage = publicKeyPackageFromJson(readFileSync(env.publicKeyPackageFile, 'utf8'));
  const groupB64 = Buffer.from(publicKeyPackage.verifyingKeyBytes).toString('base64');
  server = createServer(
    { cert: readFileSync(env.coordinatorCertFile), key: readFileSync(env.coordinatorKeyFile), ca: readFileSync(env.callerCaFile), requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        received.push({ path: req.url!, body });
        const reply =
          req.url === '/v1/sign/batch'
            ? { group_public_b64: groupB64, results: (body.items as { msg_b64: string }[]).map((i) => answerFor(i.msg_b64)) }
            : { group_public_b64: groupB64, ...answerFor(body.msg_b64 as string) };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('frostctl sign', () => {
  it('one message: POST /sign, one verified JSON object', async () => {
    received.length = 0;
    const r = await frostctl('--message', 'hello');
    expect(r.status).toBe(0);
    expect(received.map((x) => x.path)).toEqual(['/sign']);
    expect(JSON.parse(r.stdout[0]!)).toMatchObject({ participants: [1, 2], verified: true });
  });

  it('several messages: one POST /v1/sign/batch, items in the order given, one verified line per message', async () => {
    received.length = 0;
    const r = await frostctl('--message', 'one', '--message', 'two', '--message', 'three');
    expect(r.status).toBe(0);
    expect(received).toEqual([{ path: '/v1/sign/batch', body: { items: ['one', 'two', 'three'].map((t) => ({ msg_b64: Buffer.from(t).toString('base64') })) } }]);
    const lines = r.stdout.map((l) => JSON.parse(l) as { index: number; verified: boolean; signature_b64: string });
    expect(lines.map((l) => [l.index, l.verified])).toEqual([[0, true], [1, true], [2, true]]);
    // Base64 input works the same way.
    const b = await frostctl('--message-b64', Buffer.from('four').toString('base64'), '--message-b64', Buffer.from('five').toString('base64url'));
    expect(b.status).toBe(0);
    expect(b.stdout).toHaveLength(2);
  });

  it('an item refused, or a signature that does not verify, is reported by index and fails the command (exit 1)', async () => {
    refuse.add('bad');
    forge.add('forged');
    const r = await frostctl('--message', 'good', '--message', 'bad', '--message', 'forged');
    expect(r.status).toBe(1);
    expect(r.stdout.map((l) => (JSON.parse(l) as { index: number }).index)).toEqual([0]);
    const errors = r.stderr.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { index: number; error: { code: string } });
    expect(errors.map((e) => [e.index, e.error.code])).toEqual([[1, 'POLICY_REFUSED'], [2, 'BAD_SIGNATURE']]);
    expect(r.stderr.at(-1)).toMatch(/SIGN_FAILED: 2 of 3 messages were not signed/);
  });

  it.each([
    [['--message', 'a', '--message-b64', 'Yg'], /not both/],
    [['--message', 'a', '--message', 'b', '--participants', '1,2'], /--participants pins the signers of one message/],
    [[], /at least one --message/],
  ])('refuses %j as a usage error (exit 2)', async (args, message) => {
    const r = await frostctl(...args);
    expect(r.status).toBe(2);
    expect(r.stderr.join('\n')).toMatch(message);
  });
});
