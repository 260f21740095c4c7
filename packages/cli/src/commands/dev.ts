import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createDevEnvironment, readDevEnvironment } from '../dev/environment.js';
import { startCluster } from '../dev/cluster.js';
import { CliError, type Io } from '../cli-error.js';

export const devUsage = 'frostctl dev [--dir .frost-dev] [--threshold 2 --signers 3] [--port 7100] [--fresh]';

/**
 * The local cluster: creates (or reuses) a dev PKI, JWT keys and a key set under FROST_DEV_DIR
 * (default .frost-dev), starts the signers on 7001.. and the coordinator on 7100, waits until ready,
 * prints a ready-to-paste curl, and stops everything on Ctrl-C.
 */
export async function dev(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      dir: { type: 'string' },
      threshold: { type: 'string', default: '2' },
      signers: { type: 'string', default: '3' },
      port: { type: 'string', default: '7100' },
      fresh: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const dir = resolve(values.dir ?? process.env.FROST_DEV_DIR ?? '.frost-dev');
  const t = Number(values.threshold);
  const n = Number(values.signers);
  const port = Number(values.port);
  if (!Number.isInteger(t) || !Number.isInteger(n) || t < 2 || t > n || n > 99) throw new CliError('USAGE', 'need 2 <= threshold <= signers <= 99');
  let env = values.fresh ? undefined : readDevEnvironment(dir);
  if (env && (env.threshold !== t || env.signers.length !== n)) {
    io.out(`${dir} holds a ${env.threshold}-of-${env.signers.length} key set; use --fresh to replace it`);
    return 2;
  }
  if (!env) {
    io.out(`creating dev PKI, JWT keys and a ${t}-of-${n} key set in ${dir}`);
    env = await createDevEnvironment(dir, { threshold: t, signers: n });
  }
  const cluster = await startCluster(env, {
    coordinatorPort: port,
    coordinatorOpsPort: 9100,
    signerBasePort: 7001,
    signerOpsBasePort: 9101,
  });
  // Wait until the coordinator sees a quorum.
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const r = await fetch(`${cluster.opsUrl}/readyz`).catch(() => undefined);
    if (r?.status === 200) break;
    await new Promise((res) => setTimeout(res, 200));
  }
  const rel = (p: string) => (p.startsWith(process.cwd() + '/') ? p.slice(process.cwd().length + 1) : p);
  io.out('');
  io.out(`FROST ${t}-of-${n} signing cluster is up:`);
  io.out(`  coordinator  ${cluster.url}   (metrics ${cluster.opsUrl}/metrics)`);
  for (const [id, url] of Object.entries(cluster.signerUrls)) io.out(`  ${id.padEnd(12)} ${url}`);
  io.out('');
  io.out('Sign a message (base64 of "hello"):');
  io.out(
    `  curl --cacert ${rel(env.caFile)} --cert ${rel(env.clientCertFile)} --key ${rel(env.clientKeyFile)} \\\n` +
      `    -H 'content-type: application/json' -d '{"msg_b64":"aGVsbG8="}' ${cluster.url}/sign`,
  );
  io.out('or: node packages/cli/dist/main.js sign --message hello');
  io.out('');
  io.out('Ctrl-C stops everything.');
  await new Promise<void>((resolveStop) => {
    const stop = () => resolveStop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  io.out('stopping...');
  await cluster.stop();
  return 0;
}
