/**
 * A whole local deployment as real processes: n signers and one coordinator on 127.0.0.1, over real
 * mutual TLS. Used by the local cluster program (`pnpm start`), the end-to-end tests and the benchmark.
 * @module
 */
import { coordinatorMain, signerMain } from './service-mains.js';
import { coordinatorEnv, signerEnv, type DevEnvironment, type DevSigner } from './environment.js';
import { startService, type ServiceProcess } from './process.js';

export interface ClusterOptions {
  /** Coordinator API port (0 = any). */
  coordinatorPort?: number;
  coordinatorOpsPort?: number;
  /** First signer RPC port; signer i gets base + i - 1 (0 = any). */
  signerBasePort?: number;
  signerOpsBasePort?: number;
  signerExtraEnv?: (index: number) => Record<string, string>;
  coordinatorExtraEnv?: Record<string, string>;
  onLine?: (service: string, line: string) => void;
  /** Entry points to run (default: the built services this package resolves); e.g. a pruned production install. */
  signerMain?: string;
  coordinatorMain?: string;
  /** Extra node flags for every service (e.g. --cpu-prof for profiling). */
  execArgv?: string[];
  /**
   * The signer URLs the coordinator is configured with, given the signers' own (id → URL), once the
   * signers run: e.g. a proxy in front of one of them. Default: their own URLs.
   */
  coordinatorSignerUrls?: (signerUrls: Record<string, string>) => Record<string, string> | Promise<Record<string, string>>;
}

export interface Cluster {
  env: DevEnvironment;
  signers: ServiceProcess[];
  coordinator: ServiceProcess;
  /** https://127.0.0.1:<port> of the coordinator API. */
  url: string;
  opsUrl: string;
  /** The signers' own URLs (id → https://127.0.0.1:<port>). */
  signerUrls: Record<string, string>;
  /**
   * Starts signer `id` again on the same RPC and ops ports with the same environment (stopping it
   * first with SIGTERM if it still runs) and puts the new process in `signers`.
   */
  restartSigner(id: string): Promise<ServiceProcess>;
  stop(): Promise<void>;
}

const port = (base: number | undefined, i: number) => (base ? base + i : 0);

export async function startCluster(env: DevEnvironment, options: ClusterOptions = {}): Promise<Cluster> {
  const signers: ServiceProcess[] = [];
  const startSigner = (s: DevSigner, ports: { rpc: number; ops: number }) =>
    startService(s.id, options.signerMain ?? signerMain(), signerEnv(env, s, ports, options.signerExtraEnv?.(s.index) ?? {}), {
      readyMessage: 'signer ready',
      ...(options.execArgv ? { execArgv: options.execArgv } : {}),
      ...(options.onLine ? { onLine: (l: string) => options.onLine!(s.id, l) } : {}),
    });
  try {
    const started = await Promise.all(env.signers.map((s, i) => startSigner(s, { rpc: port(options.signerBasePort, i), ops: port(options.signerOpsBasePort, i) })));
    signers.push(...started);
    const signerUrls = Object.fromEntries(env.signers.map((s, i) => [s.id, `https://127.0.0.1:${signers[i]!.ports.rpcPort}`]));
    const routed = options.coordinatorSignerUrls ? await options.coordinatorSignerUrls({ ...signerUrls }) : signerUrls;
    const coordinator = await startService(
      'coordinator',
      options.coordinatorMain ?? coordinatorMain(),
      coordinatorEnv(env, routed, { api: options.coordinatorPort ?? 0, ops: options.coordinatorOpsPort ?? 0 }, {
        COORDINATOR_HEALTH_INTERVAL_MS: '1000',
        ...options.coordinatorExtraEnv,
      }),
      { readyMessage: 'coordinator ready', ...(options.execArgv ? { execArgv: options.execArgv } : {}), ...(options.onLine ? { onLine: (l: string) => options.onLine!('coordinator', l) } : {}) },
    );
    return {
      env,
      signers,
      coordinator,
      url: `https://127.0.0.1:${coordinator.ports.port}`,
      opsUrl: `http://127.0.0.1:${coordinator.ports.opsPort}`,
      signerUrls,
      async restartSigner(id: string) {
        const i = env.signers.findIndex((s) => s.id === id);
        if (i < 0) throw new Error(`no signer ${id} in this cluster`);
        const old = signers[i]!;
        await old.stop();
        signers[i] = await startSigner(env.signers[i]!, { rpc: old.ports.rpcPort!, ops: old.ports.opsPort! });
        return signers[i]!;
      },
      async stop() {
        await coordinator.stop();
        await Promise.all(signers.map((s) => s.stop()));
      },
    };
  } catch (e) {
    await Promise.all(signers.map((s) => s.stop()));
    throw e;
  }
}
