import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { publicKeyPackageFromJson, verifyEd25519 } from '@hoarfrost/frost';
import { PUBLIC_KEY_PACKAGE_FILE } from '@hoarfrost/rpc';
import { CliError, decodeBase64Strict, readTextFile, type Io } from '../cli-error.js';
import { openCoordinatorApi } from '../coordinator-api.js';

export const signUsage =
  'frostctl sign (--message TEXT | --message-b64 B64)... [--key-id K] [--url https://127.0.0.1:7100] [--participants 1,2] [--dev-dir .frost-dev] [--ca F --cert F --key F] [--servername NAME] [--public-key-package F]';

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
 * Calls the coordinator over mTLS and verifies every returned signature locally, against the group
 * key of the public key package (given, or the dealer's in the dev folder) — not only the one the
 * coordinator reports; for a key made by the signers, the key the coordinator lists (GET /v1/keys),
 * which all its signers agreed on. One message goes to
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
      'key-id': { type: 'string' },
      servername: { type: 'string' },
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
  const coordinator = openCoordinatorApi({ url: values.url, devDir: dir, ca: values.ca, cert: values.cert, key: values.key, servername: values.servername, role: 'caller' });
  const keyId = values['key-id'];
  const post = async (path: string, body: Record<string, unknown>): Promise<unknown> => {
    try {
      return await coordinator.json('POST', path, body);
    } catch (e) {
      if (e instanceof CliError && e.code !== 'UNREACHABLE') {
        io.err(e.message);
        throw new CliError('SIGN_FAILED', `${e.code}: ${e.message}`, 1);
      }
      throw e;
    }
  };
  const devPkp = join(dir, PUBLIC_KEY_PACKAGE_FILE);
  const pkpPath = values['public-key-package'] ?? (keyId === undefined && existsSync(devPkp) ? devPkp : undefined);
  let groupKey: Uint8Array = new Uint8Array(0);
  let keySource = '';
  const withKey = keyId === undefined ? {} : { key_id: keyId };
  const b64 = (m: Uint8Array) => Buffer.from(m).toString('base64');
  const checkGroupKey = (reported: string) => {
    if (Buffer.from(groupKey).toString('base64') !== reported) throw new CliError('KEY_MISMATCH', `the coordinator signed under another group key than ${keySource}`, 1);
  };
  try {
    if (pkpPath) {
      groupKey = publicKeyPackageFromJson(readTextFile(pkpPath)).verifyingKeyBytes;
      keySource = pkpPath;
    } else {
      groupKey = await listedGroupKey(coordinator, keyId);
      keySource = `the coordinator's key list (${keyId ?? 'its default key'})`;
    }
    if (messages.length === 1) {
      const r = (await post('/sign', { msg_b64: b64(messages[0]!), ...withKey, ...(participants ? { participants } : {}) })) as SignAnswer;
      checkGroupKey(r.group_public_b64);
      if (!verifyEd25519(groupKey, messages[0]!, new Uint8Array(Buffer.from(r.signature_b64, 'base64')))) throw new CliError('BAD_SIGNATURE', 'the returned signature does NOT verify', 1);
      io.out(JSON.stringify({ ...r, verified: true }));
      return 0;
    }
    const r = (await post('/v1/sign/batch', { items: messages.map((m) => ({ msg_b64: b64(m), ...withKey })) })) as BatchAnswer;
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
    await coordinator.close();
  }
}

/** The group key of `keyId` (undefined: the coordinator's default, which it lists first as `default`) from GET /v1/keys. */
async function listedGroupKey(coordinator: ReturnType<typeof openCoordinatorApi>, keyId: string | undefined): Promise<Uint8Array> {
  const { keys } = (await coordinator.json('GET', '/v1/keys')) as { keys: { key_id: string; group_public_key: string; default?: boolean }[] };
  const key = keyId === undefined ? (keys.find((k) => k.default) ?? keys.find((k) => k.key_id === 'default')) : keys.find((k) => k.key_id === keyId);
  if (!key) throw new CliError('UNKNOWN_KEY', `the coordinator lists no key ${keyId === undefined ? '(default)' : `"${keyId}"`}`, 1);
  return decodeBase64Strict(key.group_public_key, 'group_public_key');
}
