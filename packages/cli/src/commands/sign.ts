import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { publicKeyPackageFromJson, verifyEd25519 } from '@hoarfrost/frost';
import { PUBLIC_KEY_PACKAGE_FILE } from '@hoarfrost/rpc';
import { CliError, decodeBase64Strict, readTextFile, type Io } from '../cli-error.js';

export const signUsage =
  'frostctl sign (--message TEXT | --message-b64 B64)... [--url https://127.0.0.1:7100] [--participants 1,2] [--dev-dir .frost-dev] [--ca F --cert F --key F] [--public-key-package F]';

interface SignAnswer {
  signature_b64: string;
  group_public_b64: string;
  participants: (number | string)[];
}

interface BatchAnswer {
  group_public_b64: string;
  results: ({ signature_b64: string; participants: (number | string)[] } | { error: { code: string; message: string } })[];
}

/**
 * Calls the coordinator over mTLS and verifies every returned signature locally (against the group
 * key in the public key package, not only the one the coordinator reports). One message goes to
 * POST /sign and prints one JSON object; several (repeat --message / --message-b64, in the order
 * given) go to POST /v1/sign/batch in one request and print one JSON line per message, with its
 * `index`. Exits 1 unless every message was signed and every signature verifies.
 */
export async function sign(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      url: { type: 'string', default: 'https://127.0.0.1:7100' },
      message: { type: 'string', multiple: true },
      'message-b64': { type: 'string', multiple: true },
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
  const texts = values.message ?? [];
  const encoded = values['message-b64'] ?? [];
  if (texts.length > 0 && encoded.length > 0) throw new CliError('USAGE', `give messages with --message or with --message-b64, not both\nusage: ${signUsage}`);
  if (texts.length + encoded.length === 0) throw new CliError('USAGE', `give at least one --message or --message-b64\nusage: ${signUsage}`);
  const messages = texts.length > 0 ? texts.map((t) => new TextEncoder().encode(t)) : encoded.map((m, i) => decodeBase64Strict(m, encoded.length > 1 ? `--message-b64 #${i + 1}` : '--message-b64'));
  let participants: number[] | undefined;
  if (values.participants) {
    participants = values.participants.split(',').map((s) => Number(s.trim()));
    if (participants.some((n) => !Number.isInteger(n) || n < 1)) throw new CliError('USAGE', '--participants must be a comma-separated list of identifiers');
    if (messages.length > 1) throw new CliError('USAGE', '--participants pins the signers of one message; a batch of messages is signed by a quorum the coordinator picks');
  }
  const read = readTextFile;
  const pkpPath = values['public-key-package'] ?? join(dir, PUBLIC_KEY_PACKAGE_FILE);
  const groupKey = publicKeyPackageFromJson(read(pkpPath)).verifyingKeyBytes;
  const dispatcher = new Agent({
    connect: {
      ca: read(values.ca ?? join(dir, 'ca.pem')),
      cert: read(values.cert ?? join(dir, 'client.pem')),
      key: read(values.key ?? join(dir, 'client-key.pem')),
    },
  });
  const post = async (path: string, body: unknown): Promise<unknown> => {
    let res;
    try {
      res = await request(new URL(path, values.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), dispatcher });
    } catch (e) {
      throw new CliError('UNREACHABLE', `cannot reach ${values.url}: ${(e as Error).message}`, 1);
    }
    const text = await res.body.text();
    if (res.statusCode !== 200) {
      io.err(text);
      throw new CliError('SIGN_FAILED', `coordinator answered ${res.statusCode}`, 1);
    }
    return JSON.parse(text) as unknown;
  };
  const b64 = (m: Uint8Array) => Buffer.from(m).toString('base64');
  const checkGroupKey = (reported: string) => {
    if (Buffer.from(groupKey).toString('base64') !== reported) throw new CliError('KEY_MISMATCH', `the coordinator signed under another group key than ${pkpPath}`, 1);
  };
  try {
    if (messages.length === 1) {
      const r = (await post('/sign', { msg_b64: b64(messages[0]!), ...(participants ? { participants } : {}) })) as SignAnswer;
      checkGroupKey(r.group_public_b64);
      if (!verifyEd25519(groupKey, messages[0]!, new Uint8Array(Buffer.from(r.signature_b64, 'base64')))) throw new CliError('BAD_SIGNATURE', 'the returned signature does NOT verify', 1);
      io.out(JSON.stringify({ ...r, verified: true }));
      return 0;
    }
    const r = (await post('/v1/sign/batch', { items: messages.map((m) => ({ msg_b64: b64(m) })) })) as BatchAnswer;
    checkGroupKey(r.group_public_b64);
    if (!Array.isArray(r.results) || r.results.length !== messages.length) throw new CliError('SIGN_FAILED', `the coordinator answered ${r.results?.length} results for ${messages.length} messages`, 1);
    let failed = 0;
    r.results.forEach((item, index) => {
      if ('error' in item) {
        failed++;
        io.err(JSON.stringify({ index, error: item.error }));
      } else if (!verifyEd25519(groupKey, messages[index]!, new Uint8Array(Buffer.from(item.signature_b64, 'base64')))) {
        failed++;
        io.err(JSON.stringify({ index, error: { code: 'BAD_SIGNATURE', message: 'the returned signature does NOT verify' } }));
      } else {
        io.out(JSON.stringify({ index, ...item, group_public_b64: r.group_public_b64, verified: true }));
      }
    });
    if (failed > 0) throw new CliError('SIGN_FAILED', `${failed} of ${messages.length} messages were not signed`, 1);
    return 0;
  } finally {
    await dispatcher.close();
  }
}
