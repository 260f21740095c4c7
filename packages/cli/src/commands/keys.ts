/**
 * `frostctl keys`: the keys of a deployment, through its coordinator. `list` reads the public key list;
 * `create` has the signers make a key by distributed key generation (no dealer, the coordinator only
 * relays); `refresh` gives the signers new shares of the same key; `retire` stops a key signing (its
 * public key stays in the JWKS); `remove` deletes a retired key's shares (and its JWKS entry). create, refresh and retire use the coordinator's admin API with the
 * operator's certificate; against the local cluster, the dev folder supplies every credential.
 * @module
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CliError, type Io } from '../cli-error.js';
import { openCoordinatorApi, type CoordinatorApi } from '../coordinator-api.js';

export const keysUsage =
  'frostctl keys list [--json] | keys create --key-id K --threshold T [--signers a,b,c] | keys refresh --key-id K | keys retire --key-id K | keys remove --key-id K --delete-shares   ' +
  '(each also takes [--url https://127.0.0.1:7100] [--dev-dir .frost-dev] [--ca F --cert F --key F] [--servername NAME])';

const connection = {
  url: { type: 'string', default: 'https://127.0.0.1:7100' },
  'dev-dir': { type: 'string' },
  ca: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  servername: { type: 'string' },
} as const;

interface KeyEntry {
  key_id: string;
  state: string;
  threshold: number;
  participants: number | { count?: number; signers?: string[] };
  group_public_key: string;
  version?: number;
  created?: string | number;
}

function api(values: { url: string; 'dev-dir'?: string | undefined; ca?: string | undefined; cert?: string | undefined; key?: string | undefined; servername?: string | undefined }, role: 'caller' | 'operator'): CoordinatorApi {
  return openCoordinatorApi({
    url: values.url,
    devDir: resolve(values['dev-dir'] ?? process.env.FROST_DEV_DIR ?? '.frost-dev'),
    ca: values.ca,
    cert: values.cert,
    key: values.key,
    servername: values.servername,
    role,
  });
}

async function list(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args, options: { ...connection, json: { type: 'boolean', default: false } }, strict: true });
  const coordinator = api(values, 'caller');
  try {
    const { keys } = (await coordinator.json('GET', '/v1/keys')) as { keys: KeyEntry[] };
    if (values.json) {
      io.out(JSON.stringify({ keys }, null, 2));
      return 0;
    }
    if (keys.length === 0) {
      io.out('no keys (make one: frostctl keys create --key-id K --threshold T)');
      return 0;
    }
    io.out(`${'KEY ID'.padEnd(20)} ${'STATE'.padEnd(8)} ${'T-OF-N'.padEnd(7)} ${'VER'.padEnd(4)} GROUP PUBLIC KEY`);
    for (const k of keys) {
      const n = typeof k.participants === 'number' ? k.participants : (k.participants.count ?? k.participants.signers?.length ?? '?');
      io.out(`${k.key_id.padEnd(20)} ${k.state.padEnd(8)} ${`${k.threshold}-of-${n}`.padEnd(7)} ${String(k.version ?? 1).padEnd(4)} ${k.group_public_key}`);
    }
    return 0;
  } finally {
    await coordinator.close();
  }
}

/** What each step of a key generation means to an operator (the coordinator's step names). */
const STEP_TEXT: Record<string, string> = {
  begin: 'round 1: each signer commits to its secret polynomial',
  echo: 'broadcast check: each signer signs what it received',
  deal: 'round 2: shares encrypted to each recipient (HPKE)',
  finish: 'each signer derives its share and the group key',
  confirm: 'every signer confirms the same public key package; stored sealed',
  sign: 'first signature with the new key',
  activate: 'the signers verify that signature and activate the key',
};

/** Runs one key-generation request and prints its progress; 0 when the key is active. */
async function runGeneration(coordinator: CoordinatorApi, path: string, body: unknown, io: Io, what: string): Promise<number> {
  let outcome: Record<string, unknown> | undefined;
  const started = Date.now();
  try {
    await coordinator.stream(path, body, (event) => {
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      if (event.event === 'step') {
        const step = String(event.step);
        io.out(`[${secs.padStart(5)} s] ${step.padEnd(8)} ${STEP_TEXT[step] ?? ''}${event.detail ? ` (${String(event.detail)})` : ''}`);
        io.status?.(`waiting for the signers: ${step}`);
      } else if (event.event === 'done' || event.event === 'failed') {
        outcome = event;
      }
    });
  } finally {
    io.status?.(undefined);
  }
  if (!outcome) throw new CliError('BAD_ANSWER', 'the coordinator ended the answer without an outcome: nothing was activated', 1);
  if (outcome.event === 'failed') {
    const error = (outcome.error ?? {}) as { code?: string; message?: string; culprits?: string[]; relay_fault?: boolean; step?: string };
    io.err(JSON.stringify({ error }));
    const blame = error.culprits?.length ? `; culprit: ${error.culprits.join(', ')}` : error.relay_fault ? '; the relay (coordinator) altered or dropped a message' : '';
    throw new CliError(error.code ?? 'KEYGEN_FAILED', `${what} failed at ${error.step ?? '?'}: ${error.message ?? ''}${blame}. Nothing was activated; a new attempt starts fresh.`, 1);
  }
  io.out(JSON.stringify(outcome.key ?? {}, null, 2));
  return 0;
}

function keyIdOf(v: string | undefined): string {
  if (!v) throw new CliError('USAGE', `--key-id is required\nusage: ${keysUsage}`);
  return v;
}

async function create(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args, options: { ...connection, 'key-id': { type: 'string' }, threshold: { type: 'string' }, signers: { type: 'string' } }, strict: true });
  const keyId = keyIdOf(values['key-id']);
  const threshold = Number(values.threshold);
  if (!values.threshold || !Number.isInteger(threshold) || threshold < 2) throw new CliError('USAGE', `--threshold must be an integer of at least 2\nusage: ${keysUsage}`);
  const signers = values.signers?.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const coordinator = api(values, 'operator');
  try {
    io.out(`creating key "${keyId}" (${threshold}-of-${signers ? signers.length : 'all configured signers'}) by distributed key generation`);
    return await runGeneration(coordinator, '/admin/v1/keys', { key_id: keyId, threshold, ...(signers ? { signers } : {}) }, io, `key generation of "${keyId}"`);
  } finally {
    await coordinator.close();
  }
}

async function refresh(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args, options: { ...connection, 'key-id': { type: 'string' } }, strict: true });
  const keyId = keyIdOf(values['key-id']);
  const coordinator = api(values, 'operator');
  try {
    io.out(`refreshing the shares of key "${keyId}" (same group key, new shares)`);
    return await runGeneration(coordinator, `/admin/v1/keys/${encodeURIComponent(keyId)}/refresh`, {}, io, `refresh of "${keyId}"`);
  } finally {
    await coordinator.close();
  }
}

async function retire(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args, options: { ...connection, 'key-id': { type: 'string' } }, strict: true });
  const keyId = keyIdOf(values['key-id']);
  const coordinator = api(values, 'operator');
  try {
    const r = await coordinator.json('POST', `/admin/v1/keys/${encodeURIComponent(keyId)}/retire`, {});
    io.out(JSON.stringify(r, null, 2));
    return 0;
  } finally {
    await coordinator.close();
  }
}

/** Deletes a retired key's shares everywhere: asked for by name, as it cannot be undone. */
async function remove(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args, options: { ...connection, 'key-id': { type: 'string' }, 'delete-shares': { type: 'boolean', default: false } }, strict: true });
  const keyId = keyIdOf(values['key-id']);
  if (!values['delete-shares']) throw new CliError('USAGE', `removing key "${keyId}" deletes every signer's share of it for good (its public key leaves the JWKS): add --delete-shares\nusage: ${keysUsage}`);
  const coordinator = api(values, 'operator');
  try {
    const r = await coordinator.json('POST', `/admin/v1/keys/${encodeURIComponent(keyId)}/remove`, {});
    io.out(JSON.stringify(r, null, 2));
    return 0;
  } finally {
    await coordinator.close();
  }
}

const SUBCOMMANDS: Record<string, (args: string[], io: Io) => Promise<number>> = { list, create, refresh, retire, remove };

export async function keys(args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  const run = sub ? SUBCOMMANDS[sub] : undefined;
  if (!run) throw new CliError('USAGE', `${sub ? `unknown keys command "${sub}"` : 'a keys command is required'}\nusage: ${keysUsage}`);
  return run(rest, io);
}
