import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { publicKeyPackageFromJson, verifyEd25519 } from '@hoarfrost/frost';
import { PUBLIC_KEY_PACKAGE_FILE } from '@hoarfrost/rpc';
import { CliError, decodeBase64Strict, readTextFile, type Io } from '../cli-error.js';

export const signUsage =
  'frostctl sign (--message TEXT | --message-b64 B64) [--url https://127.0.0.1:7100] [--participants 1,2] [--dev-dir .frost-dev] [--ca F --cert F --key F] [--public-key-package F]';

/**
 * Calls the coordinator's POST /sign over mTLS and verifies the returned signature locally (against
 * the group key in the public key package, not only the one the coordinator reports).
 */
export async function sign(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      url: { type: 'string', default: 'https://127.0.0.1:7100' },
      message: { type: 'string' },
      'message-b64': { type: 'string' },
      participants: { type: 'string' },
      'dev-dir': { type: 'string' },
      ca: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      'public-key-package': { type: 'string' },
    },
    strict: true,
  });
  const dir = resolve(values['dev-dir'] ?? process.env.FROST_DEV_DIR ?? '.frost-dev');
  if ((values.message === undefined) === (values['message-b64'] === undefined)) throw new CliError('USAGE', `give exactly one of --message or --message-b64\nusage: ${signUsage}`);
  const message = values.message !== undefined ? new TextEncoder().encode(values.message) : decodeBase64Strict(values['message-b64']!, '--message-b64');
  const body: Record<string, unknown> = { msg_b64: Buffer.from(message).toString('base64') };
  if (values.participants) {
    const p = values.participants.split(',').map((s) => Number(s.trim()));
    if (p.some((n) => !Number.isInteger(n) || n < 1)) throw new CliError('USAGE', '--participants must be a comma-separated list of identifiers');
    body.participants = p;
  }
  const read = readTextFile;
  const dispatcher = new Agent({
    connect: {
      ca: read(values.ca ?? join(dir, 'ca.pem')),
      cert: read(values.cert ?? join(dir, 'client.pem')),
      key: read(values.key ?? join(dir, 'client-key.pem')),
    },
  });
  let res;
  try {
    res = await request(new URL('/sign', values.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      dispatcher,
    });
  } catch (e) {
    throw new CliError('UNREACHABLE', `cannot reach ${values.url}: ${(e as Error).message}`, 1);
  }
  const text = await res.body.text();
  await dispatcher.close();
  if (res.statusCode !== 200) {
    io.err(text);
    throw new CliError('SIGN_FAILED', `coordinator answered ${res.statusCode}`, 1);
  }
  const r = JSON.parse(text) as { signature_b64: string; group_public_b64: string; participants: number[] };
  const signature = new Uint8Array(Buffer.from(r.signature_b64, 'base64'));
  const pkpPath = values['public-key-package'] ?? join(dir, PUBLIC_KEY_PACKAGE_FILE);
  const groupKey = publicKeyPackageFromJson(read(pkpPath)).verifyingKeyBytes;
  if (Buffer.from(groupKey).toString('base64') !== r.group_public_b64) {
    throw new CliError('KEY_MISMATCH', `the coordinator signed under another group key than ${pkpPath}`, 1);
  }
  if (!verifyEd25519(groupKey, message, signature)) throw new CliError('BAD_SIGNATURE', 'the returned signature does NOT verify', 1);
  io.out(JSON.stringify({ ...r, verified: true }));
  return 0;
}
