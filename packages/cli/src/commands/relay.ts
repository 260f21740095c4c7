/**
 * `frostctl relay`: helpers for the frostd-compatible relay. `identity` creates an X25519 identity (the
 * same kind of key as frost-client's communication key) in a file only its owner can read; `pubkey`
 * prints an identity's public key (frostctl's file or frost-client's credentials.toml); `sessions` logs
 * in with an identity and lists the open sessions it coordinates or is a member of, and can close the ones
 * it coordinates (lingering sessions stop frost-client participants from finding the right one).
 * @module
 */
import { chmodSync, existsSync, unlinkSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { RelayIdentity } from '@hoarfrost/relay/client';
import { CliError, readTextFile, type Io } from '../cli-error.js';

/** The relay client, loaded when a relay command runs (the other commands never need it). */
const relayClient = () => import('@hoarfrost/relay/client');

export const relayUsage =
  'frostctl relay identity --out FILE [--force] | relay pubkey --identity FILE | relay sessions --identity FILE [--url https://127.0.0.1:2744] [--ca FILE] [--close-all] [--json]';

async function loadIdentity(path: string | undefined): Promise<RelayIdentity> {
  if (!path) throw new CliError('USAGE', `--identity is required\nusage: ${relayUsage}`);
  const { parseIdentity } = await relayClient();
  try {
    return parseIdentity(readTextFile(path), path);
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError('INVALID_IDENTITY', (e as Error).message);
  }
}

async function identity(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args, options: { out: { type: 'string' }, force: { type: 'boolean', default: false } }, strict: true });
  const { identityPublicHex, identityToJson, newIdentity } = await relayClient();
  if (!values.out) throw new CliError('USAGE', `--out is required\nusage: ${relayUsage}`);
  if (existsSync(values.out) && !values.force) throw new CliError('EXISTS', `${values.out} exists; --force replaces it (and the identity in it)`);
  const id = newIdentity();
  // Written 0600 from the start (a replaced file goes first): the key is never readable by others, not even briefly.
  if (existsSync(values.out)) unlinkSync(values.out);
  writeFileSync(values.out, identityToJson(id), { mode: 0o600, flag: 'wx' });
  chmodSync(values.out, 0o600);
  io.out(identityPublicHex(id));
  io.err(`relay identity written to ${values.out} (mode 0600); its public key is above: give it to the session's coordinator`);
  return 0;
}

async function pubkey(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args, options: { identity: { type: 'string' } }, strict: true });
  const { identityPublicHex } = await relayClient();
  io.out(identityPublicHex(await loadIdentity(values.identity)));
  return 0;
}

async function sessions(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      identity: { type: 'string' },
      url: { type: 'string', default: 'https://127.0.0.1:2744' },
      ca: { type: 'string' },
      'close-all': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const { RelayClient, RelayRequestError, identityPublicHex } = await relayClient();
  const id = await loadIdentity(values.identity);
  // Like frost-client: the system's trust store, or the CA file SSL_CERT_FILE names (or --ca).
  const caFile = values.ca ?? process.env.SSL_CERT_FILE;
  const ca = caFile ? readTextFile(caFile) : undefined;
  let url: URL;
  try {
    url = new URL(values.url);
  } catch {
    throw new CliError('USAGE', `--url ${values.url} is not a URL`);
  }
  if (url.protocol !== 'https:') throw new CliError('USAGE', '--url must be https://');
  const client = new RelayClient({ url: url.origin, identity: id, ...(ca ? { ca } : {}) });
  try {
    await client.login();
    const me = identityPublicHex(id);
    const rows: { session_id: string; role: string; members: number; message_count: number; coordinator: string; closed?: boolean }[] = [];
    for (const sid of await client.listSessions()) {
      const info = await client.getSessionInfo(sid).catch((e: unknown) => {
        if (e instanceof RelayRequestError && e.variant === 'SessionNotFound') return undefined;
        throw e;
      });
      if (!info) continue;
      const role = info.coordinator_pubkey === me ? (info.pubkeys.includes(me) ? 'coordinator+member' : 'coordinator') : 'member';
      rows.push({ session_id: sid, role, members: info.pubkeys.length, message_count: info.message_count, coordinator: info.coordinator_pubkey });
    }
    if (values['close-all']) {
      for (const r of rows.filter((x) => x.role.startsWith('coordinator'))) {
        await client.closeSession(r.session_id);
        r.closed = true;
      }
    }
    await client.logout().catch(() => undefined);
    if (values.json) {
      io.out(JSON.stringify({ pubkey: me, sessions: rows }, null, 2));
      return 0;
    }
    io.out(`${rows.length} open session(s) of ${me} on ${url.origin}`);
    for (const r of rows) {
      io.out(`  ${r.session_id}  ${r.role.padEnd(18)} ${r.members} member(s), ${r.message_count} message(s)${r.role === 'member' ? `, coordinator ${r.coordinator.slice(0, 16)}…` : ''}${r.closed ? '  closed' : ''}`);
    }
    return 0;
  } catch (e) {
    if (e instanceof RelayRequestError) throw new CliError('RELAY_REFUSED', e.message, 1);
    if (e instanceof CliError) throw e;
    throw new CliError('UNREACHABLE', `cannot reach ${url.origin}: ${(e as Error).message}`, 1);
  } finally {
    client.close();
  }
}

/** `frostctl relay <identity|pubkey|sessions> ...` */
export async function relay(args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'identity') return identity(rest, io);
  if (sub === 'pubkey') return pubkey(rest, io);
  if (sub === 'sessions') return sessions(rest, io);
  throw new CliError('USAGE', `usage: ${relayUsage}`);
}

