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
}

export const processIo: Io = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
};

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
