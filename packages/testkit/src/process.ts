/**
 * Starting service processes for the local cluster and tests: spawn with an environment, read the
 * bound ports from the service's "ready" log line, stop with SIGTERM. Fault injection for the
 * reliability suite acts on the same handle: pause and resume (SIGSTOP/SIGCONT), kill, and the
 * process's resident memory.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  /** Operating-system process id. */
  readonly pid: number;
  /** Ports reported in the ready log line (e.g. rpcPort, opsPort, port). */
  ports: Record<string, number>;
  /** Log lines seen so far (JSON strings). */
  logs: string[];
  /** False once the process has exited. */
  readonly running: boolean;
  /** Resolves with the exit code (null when a signal ended it) once the process has exited. */
  readonly exited: Promise<number | null>;
  /** Sends `signal` (default SIGTERM) and resolves with the exit code; SIGKILL after 15 s. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /**
   * SIGSTOP: the process keeps its sockets open (connections are accepted by the kernel, and stay
   * established) but runs nothing, as a host stalled by the hypervisor or a long GC pause would.
   */
  pause(): void;
  /** SIGCONT after {@link pause}. */
  resume(): void;
  /** Resident set size (VmRSS of /proc/<pid>/status) in bytes; undefined once exited or without /proc. */
  rssBytes(): number | undefined;
}

/** VmRSS of a Linux process in bytes, or undefined when it cannot be read. */
export function readRssBytes(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
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
  let paused = false;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    exitCode = code;
    resolve(code);
  }));
  const signal = (s: NodeJS.Signals) => {
    if (exitCode === undefined) child.kill(s);
  };
  const svc: ServiceProcess = {
    name,
    child,
    pid: child.pid!,
    ports: {},
    logs,
    get running() {
      return exitCode === undefined;
    },
    exited,
    async stop(sig: NodeJS.Signals = 'SIGTERM') {
      if (exitCode !== undefined) return exitCode;
      child.kill(sig);
      // A stopped process holds every signal but SIGKILL until it runs again.
      if (paused) svc.resume();
      const timer = setTimeout(() => signal('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    pause() {
      signal('SIGSTOP');
      paused = true;
    },
    resume() {
      signal('SIGCONT');
      paused = false;
    },
    rssBytes() {
      return exitCode === undefined ? readRssBytes(child.pid!) : undefined;
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
