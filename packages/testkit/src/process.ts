/**
 * Starting service processes for the local cluster and tests: spawn with an environment, read the
 * bound ports from the service's "ready" log line, stop with SIGTERM.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  /** Ports reported in the ready log line (e.g. rpcPort, opsPort, port). */
  ports: Record<string, number>;
  /** Log lines seen so far (JSON strings). */
  logs: string[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Spawns `node script` with `env` and resolves once a JSON log line with msg `readyMessage` appears.
 * Rejects if the process exits first or `timeoutMs` passes.
 */
export function startService(
  name: string,
  script: string,
  env: Record<string, string>,
  options: { readyMessage: string; timeoutMs?: number; onLine?: (line: string) => void; execArgv?: string[] },
): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [...(options.execArgv ?? []), script], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    exitCode = code;
    resolve(code);
  }));
  const svc: ServiceProcess = {
    name,
    child,
    ports: {},
    logs,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (exitCode !== undefined) return exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} not ready within ${options.timeoutMs ?? 20_000} ms\n${logs.join('\n')}`));
    }, options.timeoutMs ?? 20_000);
    let ready = false;
    const onLine = (line: string) => {
      logs.push(line);
      if (logs.length > 5000) logs.shift();
      options.onLine?.(line);
      if (ready) return;
      try {
        const rec = JSON.parse(line) as Record<string, unknown>;
        if (rec.msg === options.readyMessage) {
          for (const [k, v] of Object.entries(rec)) if (/port$/i.test(k) && typeof v === 'number') svc.ports[k] = v;
          ready = true;
          clearTimeout(timer);
          resolve(svc);
        }
      } catch {
        /* not JSON */
      }
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before ready\n${logs.join('\n')}`));
    });
  });
}
