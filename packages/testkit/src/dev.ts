#!/usr/bin/env node
/**
 * The local cluster (`pnpm start`): creates (or reuses) a dev PKI, JWT keys and the signers' sealed
 * key stores under FROST_DEV_DIR (default .frost-dev), starts the signers on 7001.., the coordinator
 * on 7100 and the frostd-compatible relay on 2744 (frostd's port; its leaf certificate from the dev
 * CA names 127.0.0.1 and localhost). On first start the signers make the `default` key themselves by
 * distributed key generation (`frostctl keys create`: no dealer ever sees it); later starts find every
 * key in the sealed stores. It waits until the coordinator sees a quorum, prints a ready-to-paste curl,
 * the JWKS URL, how to make another key and how to point ZF's frost-client at the relay, and stops
 * everything on Ctrl-C. (A folder made before key generation existed keeps its dealer key, imported
 * into the stores.)
 * It lives in the test kit, not in frostctl, because it needs the dev PKI and the services' builds,
 * neither of which belongs in an operator's install.
 * @module
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createDevEnvironment, readDevEnvironment, upgradeDevEnvironment } from './environment.js';
import { startCluster } from './cluster.js';
import { ensureRelayCertificate, startRelay } from './relay.js';

const usage = 'usage: pnpm start [--dir .frost-dev] [--threshold 2 --signers 3] [--port 7100] [--relay-port 2744] [--fresh]';
/** The relay's ops port: apart from the coordinator's (9100) and the signers' (9101..9199). */
const RELAY_OPS_PORT = 9744;
const out = (line: string) => process.stdout.write(line + '\n');
/** frostctl, built next to this package in the workspace. */
const FROSTCTL = fileURLToPath(new URL('../../cli/dist/main.js', import.meta.url));

/** Runs frostctl against the cluster; its output goes to ours unless captured. */
function frostctl(args: string[], capture = false): Promise<{ status: number; stdout: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [FROSTCTL, ...args], { stdio: ['ignore', capture ? 'pipe' : 'inherit', 'inherit'] });
    let stdout = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.on('error', fail);
    child.on('exit', (code) => done({ status: code ?? 1, stdout }));
  });
}

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        dir: { type: 'string' },
        threshold: { type: 'string', default: '2' },
        signers: { type: 'string', default: '3' },
        port: { type: 'string', default: '7100' },
        'relay-port': { type: 'string', default: '2744' },
        fresh: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${usage}\n`);
    return 2;
  }
  if (values.help) {
    out(usage);
    return 0;
  }
  const dir = resolve(values.dir ?? process.env.FROST_DEV_DIR ?? '.frost-dev');
  const t = Number(values.threshold);
  const n = Number(values.signers);
  const port = Number(values.port);
  if (!Number.isInteger(t) || !Number.isInteger(n) || t < 2 || t > n || n > 99) {
    process.stderr.write(`need 2 <= threshold <= signers <= 99\n${usage}\n`);
    return 2;
  }
  const relayPort = Number(values['relay-port']);
  for (const [flag, p] of [['--port', port], ['--relay-port', relayPort]] as const) {
    if (!Number.isInteger(p) || p < 1 || p > 65535) {
      process.stderr.write(`${flag} must be a TCP port\n${usage}\n`);
      return 2;
    }
  }
  const found = values.fresh ? undefined : readDevEnvironment(dir);
  let env = found ? await upgradeDevEnvironment(found) : undefined;
  if (env && (env.threshold !== t || env.signers.length !== n)) {
    out(`${dir} holds a ${env.threshold}-of-${env.signers.length} key set; use --fresh to replace it`);
    return 2;
  }
  if (!env) {
    out(`creating dev PKI, JWT keys and ${n} sealed key stores in ${dir} (no dealer: the signers make the keys)`);
    env = await createDevEnvironment(dir, { threshold: t, signers: n, dealer: false });
  }
  const cluster = await startCluster(env, {
    coordinatorPort: port,
    coordinatorOpsPort: 9100,
    signerBasePort: 7001,
    signerOpsBasePort: 9101,
  });
  // Environments made before the relay existed gain its certificate here.
  const relay = await startRelay(await ensureRelayCertificate(env.dir), { port: relayPort, opsPort: RELAY_OPS_PORT }).catch(async (e: unknown) => {
    await cluster.stop();
    throw e;
  });
  const cli = ['--url', cluster.url, '--dev-dir', dir];
  const listed = await frostctl(['keys', 'list', '--json', ...cli], true);
  const keys = listed.status === 0 ? (JSON.parse(listed.stdout) as { keys: { key_id: string }[] }).keys : [];
  if (!keys.some((k) => k.key_id === env.keyId)) {
    out(`\nNo key "${env.keyId}" yet: the signers make it now (frostctl keys create --key-id ${env.keyId} --threshold ${t})`);
    const made = await frostctl(['keys', 'create', '--key-id', env.keyId, '--threshold', String(t), ...cli]);
    if (made.status !== 0) {
      await relay.stop();
      await cluster.stop();
      throw new Error(`the first key could not be made (frostctl exited ${made.status}); run pnpm start again to retry`);
    }
  }
  // The processes are up once they log "ready"; a signature needs the coordinator to have seen a quorum.
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const r = await fetch(`${cluster.opsUrl}/readyz`).catch(() => undefined);
    if (r?.status === 200) break;
    await new Promise((res) => setTimeout(res, 200));
  }
  const rel = (p: string) => (p.startsWith(process.cwd() + '/') ? p.slice(process.cwd().length + 1) : p);
  out('');
  out(`FROST ${t}-of-${n} signing cluster is up:`);
  out(`  coordinator  ${cluster.url}   (metrics ${cluster.opsUrl}/metrics)`);
  for (const [id, url] of Object.entries(cluster.signerUrls)) out(`  ${id.padEnd(12)} ${url}`);
  out('');
  out('Sign a message (base64 of "hello"):');
  out(
    `  curl --cacert ${rel(env.caFile)} --cert ${rel(env.clientCertFile)} --key ${rel(env.clientKeyFile)} \\\n` +
      `    -H 'content-type: application/json' -d '{"msg_b64":"aGVsbG8="}' ${cluster.url}/sign`,
  );
  out('or: node packages/cli/dist/main.js sign --message hello');
  out('');
  out(`Public keys for relying parties (JWKS): ${cluster.url}/.well-known/jwks.json`);
  out(`  curl --cacert ${rel(env.caFile)} ${cluster.url}/.well-known/jwks.json`);
  out('A JWS of a JSON payload:');
  out(
    `  curl --cacert ${rel(env.caFile)} --cert ${rel(env.clientCertFile)} --key ${rel(env.clientKeyFile)} \\\n` +
      `    -H 'content-type: application/json' -d '{"payload":{"sub":"demo"}}' ${cluster.url}/v1/jws`,
  );
  out('Make another key by DKG (the signers make it; the coordinator only relays), list them, sign with it:');
  out(`  node packages/cli/dist/main.js keys create --key-id mint-2027 --threshold ${t}`);
  out('  node packages/cli/dist/main.js keys list');
  out('  node packages/cli/dist/main.js sign --key-id mint-2027 --message hello');
  out('');
  out(`frostd-compatible relay  ${relay.url}   (push: wss://127.0.0.1:${relayPort}/subscribe; metrics ${relay.opsUrl}/metrics)`);
  out("Point ZF's frost-client at it (it trusts the dev CA through SSL_CERT_FILE):");
  out(`  export SSL_CERT_FILE=${env.caFile}`);
  out(`  frost-client init -c alice.toml`);
  out(`  frost-client dkg -c alice.toml -d demo -s 127.0.0.1:${relayPort} -t 2 -S <pubkey of bob>,<pubkey of eve>`);
  out(`or list an identity's sessions: node packages/cli/dist/main.js relay sessions --identity alice.toml --url ${relay.url} --ca ${rel(env.caFile)}`);
  out('');
  out('Ctrl-C stops everything.');
  await new Promise<void>((resolveStop) => {
    const stop = () => resolveStop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  out('stopping...');
  await relay.stop();
  await cluster.stop();
  return 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  // A service that did not come up carries its own log in the message; a stack adds nothing.
  process.stderr.write(`local cluster: ${(e as Error).message}\n`);
  process.exitCode = 1;
}
