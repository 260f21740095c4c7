/**
 * A tamper-evident audit trail: one JSON record per line, each carrying the SHA-256 of the record
 * before it, so that editing, deleting or reordering a line breaks the chain where it happened.
 *
 * **Record.** The event's fields plus `seq` (1, 2, … within a chain), `ts` (ISO time of the append)
 * and `prev` (hex SHA-256 of the previous record's text). The first record of a chain has `seq` 1 and
 * a `prev` of 64 zeros: no separate start record, so every line is an event. A record's text is its
 * canonical JSON in the manner of RFC 8785 (keys sorted by UTF-16 code units, ECMAScript number and
 * string serialisation, no whitespace), so its hash can be recomputed from the parsed object even
 * after a log pipeline (pino, a shipper, jq) has re-serialised it with other key order or spacing.
 * Events are plain JSON: strings, finite numbers, booleans, null, arrays, plain objects;
 * `undefined` fields are dropped. They are copied at `append`, so later changes by the caller do
 * not reach the record.
 *
 * **Secrets never enter a record.** The services pass identifiers and digests only (the
 * coordinator: request id, principal, key id, message SHA-256, participants, outcome, culprits; a
 * signer: key id, message SHA-256, requester, commitment id). As a guard, an event using a field
 * name the log redact list censors (`token`, `secret`, `nonces`, `signingShare`, …) at any depth is
 * refused: it would be a credential, and redaction would break the chain of the log sink anyway.
 *
 * **Sinks.** A trail writes to a file, to the service's pino logger, or to both; each sink keeps
 * its own chain.
 * - File: opened in append mode, created 0600. A restarted process continues the file's chain: at
 *   open the last line must be a well-formed record in canonical form, and `seq` and `prev` follow
 *   it. A last line that is not (a write cut short, a hand edit) makes the open fail with
 *   `AUDIT_FILE_DAMAGED` and its byte offset, rather than silently starting a second chain. Only
 *   the last line is read at open; `verifyAuditChain` checks the whole file. One process writes a
 *   file: before each write the trail checks the file still has the size it left it at, so another
 *   writer or a truncation fails the trail instead of interleaving chains. With `sync`, each write
 *   is flushed to disk (`fdatasync`) before its appends resolve. Appends that arrive while a write
 *   is in progress are written together, in order, with one flush (group commit): the chain order
 *   is the order of the `append` calls, and the flush cost is shared under load.
 * - Log: the record as the `audit` field of an info line (`msg: "audit"`), so the output of
 *   `kubectl logs` can be verified too. Its chain starts afresh in every process (the log has no
 *   earlier lines to read). With a file sink as well, the line is logged once the file write has
 *   succeeded, so the log never shows a record the file refused. Buffering of log lines is the
 *   logger's: a deployment that needs each line written before the append resolves runs the logger
 *   synchronously (`*_LOG_SYNC=true`).
 *
 * **Failure.** An append whose write fails rejects with `AUDIT_WRITE_FAILED`, so the caller can fail
 * closed (refuse to return a signature it could not record). The file is then in an unknown state
 * (part of a line may have been written), so the trail stays failed: every later append rejects
 * with the same error and {@link AuditTrail.failure} reports it (for readiness). After fixing the
 * cause, check the file with `frostctl audit verify`, and restart.
 *
 * **Bounds.** At most `maxPending` appends wait or are being written; one more rejects with
 * `AUDIT_BACKLOG` at once instead of queueing without bound. A record is at most `maxRecordBytes`.
 *
 * **What a chain alone cannot show.** Removing records from the end (a truncated tail), or editing
 * the last record, leaves a valid shorter chain. Whoever can write the file can also rewrite it
 * whole with every hash recomputed. Anchor the chain outside the writer's reach: ship the lines as
 * they are written to an append-only store (object storage with a retention lock, a log service
 * the pods cannot delete from), and record the last hash that `frostctl audit verify` prints
 * elsewhere from time to time; `frostctl audit verify --anchor HASH` later fails unless the file
 * still holds the record with that hash, which a rewrite or a truncation before it removes.
 * @module
 */
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import type { Logger } from 'pino';
import { AuditError, ConfigError } from './errors.js';
import { REDACT_PATHS } from './logger.js';

/** The `prev` of the first record of a chain. */
export const AUDIT_GENESIS_PREV = '0'.repeat(64);

export interface AuditTrailOptions {
  /** The audit file; created 0600 if absent, its chain continued if present. */
  path?: string;
  /** Flush each write to disk before its appends resolve (file sink only). Default false. */
  sync?: boolean;
  /** Also write each record as the `audit` field of an info line of this logger. */
  logger?: Logger;
  /** Appends that may wait or be in a write at once; one more rejects. Default 1024. */
  maxPending?: number;
  /** Largest record, in bytes of JSON. Default 16 KiB. */
  maxRecordBytes?: number;
}

export interface AuditTrail {
  /**
   * Adds a record for `event`. Resolves once it is written to every sink (flushed to disk with
   * `sync`); rejects with an {@link AuditError} otherwise. Records keep the order of the calls.
   */
  append(event: Record<string, unknown>): Promise<void>;
  /** Writes what is pending, then closes the file. Later appends reject with `AUDIT_CLOSED`. */
  close(): Promise<void>;
  /** The write error that stopped the trail, if one did. */
  readonly failure: AuditError | undefined;
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** Set by the trail (`audit` names the record in a log line, so an event cannot use it). */
const RESERVED = new Set(['seq', 'ts', 'prev', 'audit']);
/** Field names the logger censors (the last segment of each redact path). */
const SECRET_NAMES = new Set(REDACT_PATHS.map((p) => p.slice(p.lastIndexOf('.') + 1)));
const MAX_DEPTH = 32;
/** Room for `seq`, `ts` and `prev` (with their keys) beyond the event's own JSON. */
const RECORD_OVERHEAD = 160;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && [Object.prototype, null].includes(Object.getPrototypeOf(v));

/** A validated deep copy of an event value as plain JSON, or AUDIT_INVALID_EVENT naming the field. */
function toJson(value: unknown, path: string, depth: number): Json {
  const invalid = (why: string, at = path) => new AuditError('AUDIT_INVALID_EVENT', `audit event field ${at} ${why}`);
  if (depth > MAX_DEPTH) throw invalid(`is nested deeper than ${MAX_DEPTH} levels`);
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw invalid('is not a finite number');
    return value;
  }
  if (Array.isArray(value)) {
    // Array.from visits the holes of a sparse array (as undefined), which map would skip.
    return Array.from(value as unknown[], (v, i) => {
      if (v === undefined) throw invalid('is undefined', `${path}[${i}]`);
      return toJson(v, `${path}[${i}]`, depth + 1);
    });
  }
  if (isPlainObject(value)) {
    // No prototype: a "__proto__" key stays an ordinary field.
    const out: JsonObject = Object.create(null);
    for (const [k, v] of Object.entries(value)) {
      if (SECRET_NAMES.has(k)) throw invalid(`has a field "${k}": secrets and credentials never enter an audit record`);
      if (v !== undefined) out[k] = toJson(v, `${path}.${k}`, depth + 1);
    }
    return out;
  }
  const kind = value === undefined ? 'undefined' : typeof value === 'object' ? ((value as object).constructor?.name ?? 'object') : typeof value;
  throw invalid(`is a ${kind}, not plain JSON`);
}

/** Canonical JSON text (RFC 8785 for these values): sorted keys, no whitespace. */
function canonical(value: Json, depth = 0): string {
  if (depth > MAX_DEPTH * 2) throw new RangeError('nested too deeply');
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => canonical(v, depth + 1)).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k]!, depth + 1)}`).join(',')}}`;
}

/** The position of a chain: the last record's `seq` and hash (0 and zeros before the first). */
interface ChainHead {
  seq: number;
  hash: string;
}

/** The next record of a chain for `event`; advances `head`. */
function nextRecord(head: ChainHead, event: JsonObject, ts: string): { record: JsonObject; text: string } {
  const record: JsonObject = { ...event, seq: head.seq + 1, ts, prev: head.hash };
  const text = canonical(record);
  head.seq += 1;
  head.hash = sha256(text);
  return { record, text };
}

/** Why `value` is not an audit record, or undefined when it is one. */
function recordShapeProblem(value: Record<string, unknown>): string | undefined {
  const { seq, ts, prev } = value;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) return 'no valid seq (a positive integer)';
  if (typeof prev !== 'string' || !/^[0-9a-f]{64}$/.test(prev)) return 'no valid prev (64 lowercase hex digits)';
  if (typeof ts !== 'string') return 'no ts';
  if ((seq === 1) !== (prev === AUDIT_GENESIS_PREV)) return seq === 1 ? 'seq 1 with a prev other than 64 zeros' : `a prev of 64 zeros with seq ${seq}, not 1`;
  return undefined;
}

/** The file sink: append-only writes of whole lines, continuing the file's chain. */
class FileSink {
  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    private readonly sync: boolean,
    /** Regular files are checked for outside changes; a device or pipe has no meaningful size. */
    private readonly regular: boolean,
    private size: number,
    private needsNewline: boolean,
    readonly head: ChainHead,
  ) {}

  static async open(path: string, sync: boolean, maxRecordBytes: number): Promise<FileSink> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'a+', 0o600);
    } catch (e) {
      throw new AuditError('AUDIT_WRITE_FAILED', `cannot open audit file ${path}: ${(e as Error).message}`);
    }
    try {
      const stat = await fh.stat();
      if (!stat.isFile() || stat.size === 0) return new FileSink(path, fh, sync, stat.isFile(), 0, false, { seq: 0, hash: AUDIT_GENESIS_PREV });
      const { head, needsNewline } = await FileSink.readLastRecord(path, fh, stat.size, maxRecordBytes);
      return new FileSink(path, fh, sync, true, stat.size, needsNewline, head);
    } catch (e) {
      await fh.close().catch(() => undefined);
      if (e instanceof AuditError) throw e;
      throw new AuditError('AUDIT_WRITE_FAILED', `cannot read audit file ${path}: ${(e as Error).message}`);
    }
  }

  /** The chain head of a non-empty file, from its last line (which need not end in a newline). */
  private static async readLastRecord(path: string, fh: FileHandle, size: number, maxRecordBytes: number): Promise<{ head: ChainHead; needsNewline: boolean }> {
    const window = Math.min(size, maxRecordBytes + 2);
    const buf = Buffer.alloc(window);
    const { bytesRead } = await fh.read(buf, 0, window, size - window);
    if (bytesRead !== window) throw new Error(`short read (${bytesRead} of ${window} bytes)`);
    const needsNewline = buf[window - 1] !== 0x0a;
    const end = needsNewline ? window : window - 1;
    const nl = buf.lastIndexOf(0x0a, end - 1);
    const lineStart = size - window + nl + 1;
    const damaged = (why: string) =>
      new AuditError(
        'AUDIT_FILE_DAMAGED',
        `audit file ${path}: the last line (from byte ${lineStart}) ${why}, so the chain cannot be continued; check the file with 'frostctl audit verify ${path}', then repair or move it`,
      );
    if (nl === -1 && window < size) throw damaged(`is longer than ${maxRecordBytes} bytes`);
    const text = buf.subarray(nl + 1, end).toString('utf8');
    if (text.length === 0) throw damaged('is empty');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw damaged(`does not parse as JSON${needsNewline ? ' (a write cut short?)' : ''}`);
    }
    if (!isPlainObject(value)) throw damaged('is not a JSON object');
    const problem = recordShapeProblem(value);
    if (problem) throw damaged(`is not an audit record: ${problem}`);
    if (canonical(value as JsonObject) !== text) throw damaged('is not in the canonical form the trail writes (edited?)');
    return { head: { seq: value.seq as number, hash: sha256(text) }, needsNewline };
  }

  /** Appends the lines; resolves once written (and flushed with `sync`). */
  async write(texts: string[]): Promise<void> {
    const data = Buffer.from(`${this.needsNewline ? '\n' : ''}${texts.join('\n')}\n`);
    if (this.regular) {
      const { size } = await this.fh.stat();
      if (size !== this.size) throw new Error(`the file is ${size} bytes, not the ${this.size} this trail left it at: another process wrote to it or truncated it`);
    }
    let offset = 0;
    while (offset < data.length) {
      const { bytesWritten } = await this.fh.write(data, offset, data.length - offset);
      offset += bytesWritten;
    }
    if (this.sync) await this.fh.datasync();
    this.size += data.length;
    this.needsNewline = false;
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

interface Pending {
  event: JsonObject;
  ts: string;
  resolve: () => void;
  reject: (e: AuditError) => void;
}

/**
 * Opens an audit trail on a file and/or a logger (see the module doc). Rejects with ConfigError on
 * bad options, AUDIT_FILE_DAMAGED when the file's last line cannot continue a chain, and
 * AUDIT_WRITE_FAILED when the file cannot be opened.
 */
export async function createAuditTrail(options: AuditTrailOptions): Promise<AuditTrail> {
  const { path, sync = false, logger, maxPending = 1024, maxRecordBytes = 16 * 1024 } = options;
  if (path === undefined && logger === undefined) throw new ConfigError('an audit trail needs a file path, a logger, or both');
  if (path !== undefined && (typeof path !== 'string' || path.length === 0)) throw new ConfigError('the audit file path must be a non-empty string');
  if (typeof sync !== 'boolean') throw new ConfigError('audit sync must be a boolean');
  if (sync && path === undefined) throw new ConfigError('audit sync applies to the file sink, and no file path is set');
  if (!Number.isInteger(maxPending) || maxPending < 1 || maxPending > 1_000_000) throw new ConfigError(`audit maxPending must be an integer from 1 to 1000000, got ${maxPending}`);
  if (!Number.isInteger(maxRecordBytes) || maxRecordBytes < 1024 || maxRecordBytes > 1 << 24) throw new ConfigError(`audit maxRecordBytes must be an integer from 1024 to 16777216, got ${maxRecordBytes}`);
  if (logger !== undefined && !logger.isLevelEnabled('info')) throw new ConfigError(`the audit log sink writes at level info, but the logger's level is ${logger.level}`);

  const file = path === undefined ? undefined : await FileSink.open(path, sync, maxRecordBytes);
  const logHead: ChainHead = { seq: 0, hash: AUDIT_GENESIS_PREV };
  const log = (event: JsonObject, ts: string) => {
    if (!logger) return;
    try {
      logger.info({ audit: nextRecord(logHead, event, ts).record }, 'audit');
    } catch (e) {
      throw new AuditError('AUDIT_WRITE_FAILED', `audit log sink failed, the trail is stopped: ${(e as Error).message}`);
    }
  };

  const queue: Pending[] = [];
  let inWrite = 0;
  let writer: Promise<void> | undefined;
  let failure: AuditError | undefined;
  let closed = false;
  let closing: Promise<void> | undefined;

  /** Stops the trail: `e` becomes its failure, and `batch` and everything queued reject with it. */
  function stop(e: AuditError, batch: Pending[]): void {
    failure = e;
    for (const p of [...batch, ...queue.splice(0, queue.length)]) p.reject(e);
  }

  /** Writes the queue in batches until it is empty or a write fails. */
  async function drain(sink: FileSink): Promise<void> {
    while (queue.length > 0 && !failure) {
      const batch = queue.splice(0, queue.length);
      inWrite = batch.length;
      try {
        try {
          await sink.write(batch.map((p) => nextRecord(sink.head, p.event, p.ts).text));
        } catch (e) {
          throw new AuditError('AUDIT_WRITE_FAILED', `audit file ${sink.path}: write failed, the trail is stopped: ${(e as Error).message}`);
        }
        for (const p of batch) log(p.event, p.ts);
      } catch (e) {
        stop(e as AuditError, batch);
        break;
      } finally {
        inWrite = 0;
      }
      for (const p of batch) p.resolve();
    }
    writer = undefined;
  }

  return {
    get failure() {
      return failure;
    },
    append(event: Record<string, unknown>): Promise<void> {
      if (closed) return Promise.reject(new AuditError('AUDIT_CLOSED', 'the audit trail is closed'));
      if (failure) return Promise.reject(failure);
      let copy: JsonObject;
      try {
        if (!isPlainObject(event)) throw new AuditError('AUDIT_INVALID_EVENT', 'an audit event must be a plain object');
        for (const k of RESERVED) if (Object.hasOwn(event, k)) throw new AuditError('AUDIT_INVALID_EVENT', `audit event field "${k}" is reserved`);
        copy = toJson(event, 'event', 0) as JsonObject;
        const bytes = Buffer.byteLength(canonical(copy)) + RECORD_OVERHEAD;
        if (bytes > maxRecordBytes) throw new AuditError('AUDIT_INVALID_EVENT', `audit record of about ${bytes} bytes exceeds ${maxRecordBytes}`);
      } catch (e) {
        return Promise.reject(e);
      }
      const ts = new Date().toISOString();
      if (!file) {
        try {
          log(copy, ts);
        } catch (e) {
          stop(e as AuditError, []);
          return Promise.reject(e);
        }
        return Promise.resolve();
      }
      if (queue.length + inWrite >= maxPending) {
        return Promise.reject(new AuditError('AUDIT_BACKLOG', `${maxPending} audit records are already waiting to be written`));
      }
      return new Promise<void>((resolve, reject) => {
        queue.push({ event: copy, ts, resolve, reject });
        writer ??= drain(file);
      });
    },
    close(): Promise<void> {
      closed = true;
      closing ??= (async () => {
        await writer;
        try {
          await file?.close();
        } catch (e) {
          throw new AuditError('AUDIT_WRITE_FAILED', `audit file ${file?.path}: close failed: ${(e as Error).message}`);
        }
      })();
      return closing;
    },
  };
}

/** Options of {@link verifyAuditChain}. */
export interface AuditVerifyOptions {
  /**
   * Accept a text whose first record is not the start of its chain (a log whose earlier lines
   * were rotated away). Its `firstPrev` is reported, to match against the last hash of the text
   * before it. Default false: a text must hold its chains from their first record.
   */
  partial?: boolean;
  /** A hash recorded earlier: the text must hold the record with this hash. */
  anchor?: string;
}

/** One chain found in a text. */
export interface AuditChainSummary {
  firstLine: number;
  lastLine: number;
  firstSeq: number;
  lastSeq: number;
  /** The `prev` of the first record: 64 zeros unless the text starts in the middle of the chain. */
  firstPrev: string;
  /** The hash of the last record: the value to record elsewhere as an anchor. */
  lastHash: string;
}

/** The outcome of a verification; `line` is 1-based. */
export type AuditVerification = { ok: true; records: number; chains: AuditChainSummary[] } | { ok: false; line: number; reason: string };

type Classified = { kind: 'file'; record: Record<string, unknown> } | { kind: 'log'; record: unknown } | { kind: 'other'; reason: string };

function classify(text: string): Classified {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'other', reason: 'does not parse as JSON' };
  }
  if (!isPlainObject(value)) return { kind: 'other', reason: 'is not a JSON object' };
  if (Object.hasOwn(value, 'audit')) return { kind: 'log', record: value.audit };
  if (Object.hasOwn(value, 'seq') && Object.hasOwn(value, 'prev')) return { kind: 'file', record: value };
  return { kind: 'other', reason: 'is not an audit record' };
}

/**
 * Checks a chain line by line, for texts too large to hold as one string. Feed each line (without
 * its newline) to `push`, then call `finish`. {@link verifyAuditChain} explains the rules.
 */
export class AuditChainVerifier {
  readonly #partial: boolean;
  readonly #anchor: string | undefined;
  #line = 0;
  #mode: 'file' | 'log' | undefined;
  /** The first line that is not a record, before the text showed whether it is a file or a log. */
  #firstOther: { line: number; reason: string } | undefined;
  #failure: { line: number; reason: string } | undefined;
  #last: { line: number; seq: number; hash: string } | undefined;
  #records = 0;
  #anchorSeen = false;
  readonly #chains: AuditChainSummary[] = [];

  constructor(options: AuditVerifyOptions = {}) {
    this.#partial = options.partial ?? false;
    this.#anchor = options.anchor?.toLowerCase();
  }

  /** Checks the next line; false once the chain is broken (further lines are not looked at). */
  push(text: string): boolean {
    const line = ++this.#line;
    if (this.#failure) return false;
    if (text.trim() === '') return true;
    const c = classify(text);
    if (c.kind === 'other') {
      if (this.#mode === 'file') return this.#fail(line, c.reason);
      if (this.#mode === undefined) this.#firstOther ??= { line, reason: c.reason };
      return true;
    }
    if (this.#mode === undefined) {
      this.#mode = c.kind;
      if (c.kind === 'file' && this.#firstOther) return this.#fail(this.#firstOther.line, this.#firstOther.reason);
    } else if (this.#mode !== c.kind) {
      return this.#fail(line, c.kind === 'file' ? 'is a bare audit record among log lines' : 'is a log line in an audit file');
    }
    if (!isPlainObject(c.record)) return this.#fail(line, 'has an audit field that is not a JSON object');
    return this.#record(line, c.record, c.kind === 'file' ? text : undefined);
  }

  #record(line: number, record: Record<string, unknown>, exactText: string | undefined): boolean {
    const problem = recordShapeProblem(record);
    if (problem) return this.#fail(line, `is not an audit record: ${problem}`);
    let text: string;
    try {
      text = canonical(record as JsonObject);
    } catch {
      return this.#fail(line, 'is nested too deeply to be an audit record');
    }
    if (exactText !== undefined && exactText !== text) return this.#fail(line, 'is not in the canonical form the trail writes: the record was edited');
    const seq = record.seq as number;
    const prev = record.prev as string;
    const hash = sha256(text);
    const last = this.#last;
    if (last === undefined || seq === 1) {
      if (seq !== 1 && !this.#partial) {
        return this.#fail(line, `starts in the middle of a chain (seq ${seq}): the records before it are missing (verify it as a partial text to accept this)`);
      }
      if (last !== undefined && this.#mode === 'file') {
        return this.#fail(line, `starts a second chain after seq ${last.seq} (line ${last.line}): a file holds one chain, so records after line ${last.line} were removed, or this one was added`);
      }
      this.#chains.push({ firstLine: line, lastLine: line, firstSeq: seq, lastSeq: seq, firstPrev: prev, lastHash: hash });
    } else if (seq !== last.seq + 1) {
      return this.#fail(line, `has seq ${seq}, but seq ${last.seq + 1} should follow line ${last.line}: records are missing, repeated or out of order`);
    } else if (prev !== last.hash) {
      return this.#fail(
        last.line,
        `does not hash to the prev of the next record (line ${line}): this record was edited (or that prev, or records between them were replaced)`,
      );
    } else {
      const chain = this.#chains[this.#chains.length - 1]!;
      chain.lastLine = line;
      chain.lastSeq = seq;
      chain.lastHash = hash;
    }
    this.#last = { line, seq, hash };
    this.#records += 1;
    if (hash === this.#anchor) this.#anchorSeen = true;
    return true;
  }

  #fail(line: number, reason: string): false {
    this.#failure = { line, reason };
    return false;
  }

  /** The outcome, after the last line. */
  finish(): AuditVerification {
    if (this.#failure) return { ok: false, ...this.#failure };
    if (this.#mode === undefined && this.#firstOther) return { ok: false, ...this.#firstOther };
    if (this.#anchor !== undefined && !this.#anchorSeen) {
      const line = this.#last?.line ?? this.#line;
      return { ok: false, line, reason: `no record up to here has the anchored hash ${this.#anchor}: the text was rewritten, or cut before that record` };
    }
    return { ok: true, records: this.#records, chains: this.#chains.map((c) => ({ ...c })) };
  }
}

/**
 * Checks the chains of an audit file, or of log output holding audit lines (the `audit` field of
 * lines that have one; other log lines are ignored). Returns the records and chains found, or the
 * first line where the chain breaks and why:
 * - a line that does not parse, or is not a record (in a file; in a log it is just another line);
 * - a record whose text differs from its canonical form, or whose hash does not match the `prev`
 *   of the next record (an edited record: the line named is the edited one);
 * - a `seq` that does not follow the previous record's (deleted, repeated or reordered lines);
 * - a text that starts in the middle of a chain (unless `partial`), or a file with a second chain.
 * A log may hold several chains: each process start begins one. What this cannot show (a cut
 * tail, a whole rewrite) and how `anchor` helps is in the module doc.
 */
export function verifyAuditChain(text: string, options: AuditVerifyOptions = {}): AuditVerification {
  const verifier = new AuditChainVerifier(options);
  for (const line of text.split('\n')) if (!verifier.push(line)) break;
  return verifier.finish();
}

/** A service's audit settings (its `*_AUDIT_FILE`, `*_AUDIT_SYNC`, `*_AUDIT_FAIL_CLOSED`). */
export interface ServiceAuditConfig {
  file?: string;
  sync: boolean;
  failClosed: boolean;
}

/**
 * A service's audit trail: into its log whenever the log shows info lines, and into the configured
 * file. Failing closed needs the file. With neither there is nowhere to write: a warning is logged.
 * `prefix` names the service's variables in messages (`COORDINATOR_`, `SIGNER_`).
 */
export async function openServiceAuditTrail(config: ServiceAuditConfig, logger: Logger, prefix: string): Promise<AuditTrail | undefined> {
  const toLog = logger.isLevelEnabled('info');
  // The log sink's writes are asynchronous and their failures never reach the append: only a file
  // can refuse a record, so only a file can make failing closed mean something.
  if (config.failClosed && !config.file) throw new ConfigError(`${prefix}AUDIT_FAIL_CLOSED needs ${prefix}AUDIT_FILE`);
  if (!config.file && !toLog) {
    logger.warn(`no audit trail: the log level hides info lines and ${prefix}AUDIT_FILE is not set`);
    return undefined;
  }
  return createAuditTrail({
    ...(config.file ? { path: config.file, sync: config.sync } : {}),
    ...(toLog ? { logger } : {}),
  });
}

