/**
 * The relay in the test kit: its TLS certificate from a dev CA (a leaf, CA:FALSE, naming 127.0.0.1 and
 * localhost, as frost-client's TLS stack requires), its process, and a real Redis-protocol server
 * (valkey-server or redis-server) on a free port for the replicated tests.
 * @module
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCertificateAuthority, type CertificateAuthority } from './pki.js';
import { startService, type ServiceProcess } from './process.js';

const require = createRequire(import.meta.url);

/** Absolute path of the built relay entry point (`@hoarfrost/relay/main`). */
export function relayMain(): string {
  try {
    return require.resolve('@hoarfrost/relay/main');
  } catch (e) {
    throw new Error(`cannot resolve @hoarfrost/relay/main (is the workspace built? run \`pnpm build\`): ${(e as Error).message}`, { cause: e });
  }
}

export interface RelayTls {
  certFile: string;
  keyFile: string;
  /** The CA that issued it: what a client trusts (frost-client: SSL_CERT_FILE). */
  caFile: string;
}

/** The relay's dev leaf: server auth, naming localhost and 127.0.0.1 (and `extraNames`). */
export async function issueRelayCertificate(ca: CertificateAuthority, dir: string, caFile: string, extraNames: string[] = []): Promise<RelayTls> {
  const pair = await ca.issue({ commonName: 'frost-relay', dnsNames: ['localhost', 'frost-relay', ...extraNames], ipAddresses: ['127.0.0.1'], usages: ['server'] });
  const certFile = join(dir, 'relay.pem');
  const keyFile = join(dir, 'relay-key.pem');
  writeFileSync(certFile, pair.certPem);
  writeFileSync(keyFile, pair.keyPem, { mode: 0o600 });
  chmodSync(keyFile, 0o600);
  return { certFile, keyFile, caFile };
}

/**
 * The relay certificate of a dev environment directory (`ca.pem`, `ca-key.pem`): issued once, reused
 * afterwards, so that directories made before the relay existed gain one.
 */
export async function ensureRelayCertificate(dir: string): Promise<RelayTls> {
  const caFile = join(dir, 'ca.pem');
  const tls = { certFile: join(dir, 'relay.pem'), keyFile: join(dir, 'relay-key.pem'), caFile };
  if (existsSync(tls.certFile) && existsSync(tls.keyFile)) return tls;
  const ca = await loadCertificateAuthority(readFileSync(caFile, 'utf8'), readFileSync(join(dir, 'ca-key.pem'), 'utf8'));
  return issueRelayCertificate(ca, dir, caFile);
}

/** Environment of a relay process on 127.0.0.1 (ports 0: any free port). */
export function relayEnv(tls: RelayTls, ports: { api: number; ops: number }, extra: Record<string, string> = {}): Record<string, string> {
  return {
    RELAY_HOST: '127.0.0.1',
    RELAY_PORT: String(ports.api),
    RELAY_OPS_HOST: '127.0.0.1',
    RELAY_OPS_PORT: String(ports.ops),
    RELAY_TLS_CERT_FILE: tls.certFile,
    RELAY_TLS_KEY_FILE: tls.keyFile,
    ...extra,
  };
}

export interface RelayProcess extends ServiceProcess {
  /** https://127.0.0.1:<port> */
  url: string;
  opsUrl: string;
}

export async function startRelay(tls: RelayTls, options: { port?: number; opsPort?: number; env?: Record<string, string>; onLine?: (line: string) => void; main?: string } = {}): Promise<RelayProcess> {
  const svc = await startService('relay', options.main ?? relayMain(), relayEnv(tls, { api: options.port ?? 0, ops: options.opsPort ?? 0 }, options.env), {
    readyMessage: 'relay ready',
    ...(options.onLine ? { onLine: options.onLine } : {}),
  });
  return Object.assign(svc, { url: `https://127.0.0.1:${svc.ports.port}`, opsUrl: `http://127.0.0.1:${svc.ports.opsPort}` });
}

/** A free TCP port on 127.0.0.1 (free when asked; taken by whoever binds first). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Where scripts/install-tools.sh puts a redis-server it unpacked (this file is packages/testkit/{src,dist}/). */
const TOOLS_REDIS = fileURLToPath(new URL('../../../.tools/bin/redis-server', import.meta.url));

/**
 * The Redis-protocol server binary: REDIS_SERVER_BIN, else valkey-server or redis-server on the PATH, else
 * the one scripts/install-tools.sh unpacked.
 */
export function findRedisServer(): string | undefined {
  const configured = process.env.REDIS_SERVER_BIN;
  if (configured && existsSync(configured)) return configured;
  for (const name of ['valkey-server', 'redis-server']) {
    const found = spawnSync('bash', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
    if (found) return found;
  }
  return existsSync(TOOLS_REDIS) ? TOOLS_REDIS : undefined;
}

export interface RedisServer {
  url: string;
  port: number;
  /** Ends the server (SIGTERM, then SIGKILL) and removes its directory. */
  stop(): Promise<void>;
  /** Stops it without removing anything (to test a relay whose store went away). */
  kill(): Promise<void>;
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection({ host: '127.0.0.1', port }, () => c.write('PING\r\n'));
    c.setTimeout(500, () => {
      c.destroy();
      resolve(false);
    });
    c.once('data', (d) => {
      c.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
    c.once('error', () => resolve(false));
  });
}

/**
 * Starts `bin` on `port` (default: a free one), in memory only (no snapshots, no append-only file), and
 * waits for PONG.
 */
export async function startRedisServer(bin: string, options: { port?: number } = {}): Promise<RedisServer> {
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'frost-relay-redis-'));
  const child: ChildProcess = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--maxmemory-policy', 'noeviction'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 10_000;
  while (!(await ping(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${bin} did not start on port ${port}: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const kill = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
