import { readFileSync } from 'node:fs';

/** A command-line error: printed as `frostctl: <code>: <message>` and mapped to an exit status. */
export class CliError extends Error {
  readonly code: string;
  readonly exitCode: number;
  constructor(code: string, message: string, exitCode = 2) {
    super(message);
    this.name = 'CliError';
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** Output sinks, injectable for tests. */
export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  /**
   * A transient status while waiting (a spinner line on a terminal), replaced by the next call and
   * cleared by `undefined`. Optional: without it, waits are silent.
   */
  status?: (text: string | undefined) => void;
}

const SPINNER = ['|', '/', '-', '\\'];

/** The process's streams; the status line is drawn on stderr only when it is a terminal. */
function createProcessIo(): Io {
  let timer: NodeJS.Timeout | undefined;
  let frame = 0;
  const clear = () => {
    if (timer) clearInterval(timer);
    timer = undefined;
    process.stderr.write('\r\x1b[K');
  };
  const io: Io = {
    out: (line) => {
      if (timer) clear();
      process.stdout.write(line + '\n');
    },
    err: (line) => {
      if (timer) clear();
      process.stderr.write(line + '\n');
    },
  };
  if (process.stderr.isTTY) {
    io.status = (text) => {
      if (timer) clear();
      if (text === undefined) return;
      const started = Date.now();
      const draw = () => process.stderr.write(`\r\x1b[K${SPINNER[frame++ % SPINNER.length]} ${text} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      draw();
      timer = setInterval(draw, 100);
      timer.unref();
    };
  }
  return io;
}

export const processIo: Io = createProcessIo();

/** Reads a text file or throws CliError FILE_UNREADABLE naming it. */
export function readTextFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new CliError('FILE_UNREADABLE', `cannot read ${path}: ${(e as Error).message}`);
  }
}

/** Strict base64 / base64url decoding; rejects anything else. */
export function decodeBase64Strict(value: string, what: string): Uint8Array {
  const s = value.replace(/=+$/, '');
  if (!/^[A-Za-z0-9+/]*$/.test(s) && !/^[A-Za-z0-9_-]*$/.test(s)) throw new CliError('INVALID_BASE64', `${what} is not base64 or base64url`);
  if (s.length % 4 === 1) throw new CliError('INVALID_BASE64', `${what} has an impossible base64 length`);
  return new Uint8Array(Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64'));
}
