/**
 * Typed readers for prefixed environment variables, used by each service's config.ts. Every reader
 * fails with a message naming the variable and what it expects, so a bad setting stops start-up.
 * @module
 */
import { ConfigError } from './errors.js';

export type Env = Readonly<Record<string, string | undefined>>;

export class EnvReader {
  readonly #env: Env;
  readonly #prefix: string;
  constructor(env: Env, prefix: string) {
    this.#env = env;
    this.#prefix = prefix;
  }

  name(key: string): string {
    return this.#prefix + key;
  }

  #raw(key: string): string | undefined {
    const v = this.#env[this.name(key)];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  }

  string(key: string, fallback?: string): string {
    const v = this.#raw(key) ?? fallback;
    if (v === undefined) throw new ConfigError(`${this.name(key)} is required`);
    return v;
  }

  optionalString(key: string): string | undefined {
    return this.#raw(key);
  }

  int(key: string, fallback: number, min: number, max: number): number {
    const v = this.#raw(key);
    if (v === undefined) return fallback;
    if (!/^-?\d+$/.test(v)) throw new ConfigError(`${this.name(key)} must be an integer, got "${v}"`);
    const n = Number(v);
    if (n < min || n > max) throw new ConfigError(`${this.name(key)} must be between ${min} and ${max}, got ${n}`);
    return n;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.#raw(key);
    if (v === undefined) return fallback;
    if (/^(1|true|yes|on)$/i.test(v)) return true;
    if (/^(0|false|no|off)$/i.test(v)) return false;
    throw new ConfigError(`${this.name(key)} must be true or false, got "${v}"`);
  }

  list(key: string, fallback: string[] = []): string[] {
    const v = this.#raw(key);
    if (v === undefined) return fallback;
    return v.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  }

  oneOf<T extends string>(key: string, values: readonly T[], fallback: T): T {
    const v = this.#raw(key) ?? fallback;
    if (!values.includes(v as T)) throw new ConfigError(`${this.name(key)} must be one of ${values.join(', ')}, got "${v}"`);
    return v as T;
  }

  port(key: string, fallback: number): number {
    return this.int(key, fallback, 0, 65535);
  }
}
