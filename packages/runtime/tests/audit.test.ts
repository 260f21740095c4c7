import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { AUDIT_GENESIS_PREV, AuditChainVerifier, createAuditTrail, verifyAuditChain, type AuditTrail } from '../src/audit.js';
import { AuditError } from '../src/errors.js';
import { ConfigError, RuntimeError } from '../src/errors.js';
import { createLogger } from '../src/logger.js';

const dir = mkdtempSync(join(tmpdir(), 'audit-'));
let n = 0;
const tempPath = () => join(dir, `audit-${++n}.jsonl`);
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const lines = (text: string) => text.split('\n').filter((l) => l.length > 0);

/** What the coordinator records for a `/sign` request. */
const signEvent = (i: number) => ({
  event: 'sign',
  requestId: `req-${i}`,
  principal: 'spiffe://mint',
  keyId: 'default',
  messageSha256: sha256(`message ${i}`),
  participants: [1, 3],
  outcome: 'ok',
  culprits: [],
});

/** A file trail holding `count` sign records; returns the path and its text. */
async function writtenFile(count: number, path = tempPath()): Promise<{ path: string; text: string }> {
  const trail = await createAuditTrail({ path });
  for (let i = 1; i <= count; i++) await trail.append(signEvent(i));
  await trail.close();
  return { path, text: readFileSync(path, 'utf8') };
}

/** The AuditError a promise rejects with (fails the test when it resolves or rejects otherwise). */
async function auditError(p: Promise<unknown>): Promise<AuditError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(AuditError);
    return e as AuditError;
  }
  throw new Error('expected an AuditError, the promise resolved');
}

/** A log destination that keeps every line pino writes. */
function logSink() {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

/** Rewrites line `index` (0-based) of a JSONL text through `edit` of its parsed object. */
function editLine(text: string, index: number, edit: (o: Record<string, unknown>) => Record<string, unknown>, serialise = JSON.stringify): string {
  const ls = text.split('\n');
  ls[index] = serialise(edit(JSON.parse(ls[index]!) as Record<string, unknown>));
  return ls.join('\n');
}

/** The same object with its keys sorted (the trail's canonical form, for flat records). */
const sorted = (o: Record<string, unknown>) => JSON.stringify(Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1))));

describe('audit trail file sink', () => {
  it('writes one canonical JSON record per line, chained by the hash of the previous line, file mode 0600', async () => {
    const { path, text } = await writtenFile(3);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(text.endsWith('\n')).toBe(true);
    const ls = lines(text);
    expect(ls).toHaveLength(3);
    const records = ls.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(records[0]!.prev).toBe(AUDIT_GENESIS_PREV);
    expect(records[1]!.prev).toBe(sha256(ls[0]!));
    expect(records[2]!.prev).toBe(sha256(ls[1]!));
    expect(records[1]).toMatchObject(signEvent(2));
    expect(new Date(records[0]!.ts as string).toISOString()).toBe(records[0]!.ts);
    // Canonical: sorted keys, no whitespace.
    expect(ls[0]).toBe(sorted(records[0]!));
    expect(verifyAuditChain(text)).toEqual({
      ok: true,
      records: 3,
      chains: [{ firstLine: 1, lastLine: 3, firstSeq: 1, lastSeq: 3, firstPrev: AUDIT_GENESIS_PREV, lastHash: sha256(ls[2]!) }],
    });
  });

  it('a reopened file continues its chain (seq and prev) instead of starting another', async () => {
    const { path } = await writtenFile(2);
    const trail = await createAuditTrail({ path, sync: true });
    await trail.append(signEvent(3));
    await trail.close();
    const text = readFileSync(path, 'utf8');
    const ls = lines(text);
    expect(JSON.parse(ls[2]!)).toMatchObject({ seq: 3, prev: sha256(ls[1]!), requestId: 'req-3' });
    expect(verifyAuditChain(text)).toMatchObject({ ok: true, records: 3, chains: [{ firstSeq: 1, lastSeq: 3 }] });
  });

  it('continues a file whose valid last record lost its final newline', async () => {
    const { path, text } = await writtenFile(2);
    writeFileSync(path, text.slice(0, -1));
    const trail = await createAuditTrail({ path });
    await trail.append(signEvent(3));
    await trail.close();
    expect(verifyAuditChain(readFileSync(path, 'utf8'))).toMatchObject({ ok: true, records: 3 });
  });

  it.each([
    ['a write cut short', (t: string) => t.slice(0, -20), /from byte \d+\) does not parse as JSON \(a write cut short\?\)/],
    ['a record edited out of canonical form', (t: string) => editLine(t, 1, (o) => o, (o) => JSON.stringify(o, null, 1).replace(/\n/g, '')), /is not in the canonical form/],
    ['a line that is not a record', (t: string) => t + '{"hello":"world"}\n', /is not an audit record: no valid seq/],
    ['a blank last line', (t: string) => t + '\n', /is empty/],
  ])('refuses to open a file whose last line is damaged: %s', async (_name, damage, message) => {
    const { path, text } = await writtenFile(2);
    writeFileSync(path, damage(text));
    const before = readFileSync(path, 'utf8');
    const e = await auditError(createAuditTrail({ path }));
    expect(e.code).toBe('AUDIT_FILE_DAMAGED');
    expect(e.message).toContain(path);
    expect(e.message).toMatch(message);
    expect(e.message).toMatch(/frostctl audit verify/);
    expect(readFileSync(path, 'utf8')).toBe(before);
  });

  it('names the byte offset of the damaged last line', async () => {
    const { path, text } = await writtenFile(2);
    writeFileSync(path, text + '{"seq":3');
    const e = await auditError(createAuditTrail({ path }));
    expect(e.message).toContain(`from byte ${Buffer.byteLength(text)})`);
  });

  it('keeps the order of the calls when appends overlap (written together, one flush)', async () => {
    const path = tempPath();
    const trail = await createAuditTrail({ path, sync: true });
    await Promise.all(Array.from({ length: 50 }, (_, i) => trail.append(signEvent(i + 1))));
    await trail.close();
    const text = readFileSync(path, 'utf8');
    expect(lines(text).map((l) => JSON.parse(l).requestId)).toEqual(Array.from({ length: 50 }, (_, i) => `req-${i + 1}`));
    expect(verifyAuditChain(text)).toMatchObject({ ok: true, records: 50 });
  });

  it('copies the event: changing it after append does not change the record', async () => {
    const path = tempPath();
    const trail = await createAuditTrail({ path });
    const event = { event: 'sign', participants: [1, 2], outcome: 'ok', principal: undefined };
    const written = trail.append(event);
    event.participants.push(3);
    event.outcome = 'changed';
    await written;
    await trail.close();
    const record = JSON.parse(readFileSync(path, 'utf8'));
    expect(record).toMatchObject({ participants: [1, 2], outcome: 'ok' });
    expect('principal' in record).toBe(false);
  });

  it('keeps a "__proto__" field as an ordinary field in both sinks', async () => {
    const path = tempPath();
    const out = logSink();
    const trail = await createAuditTrail({ path, logger: createLogger('t', 'info', out.stream) });
    await trail.append(JSON.parse('{"__proto__":{"polluted":true},"event":"x"}') as Record<string, unknown>);
    await trail.close();
    const text = readFileSync(path, 'utf8');
    expect(text).toContain('"__proto__":{"polluted":true}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(verifyAuditChain(text)).toMatchObject({ ok: true, records: 1 });
    expect(verifyAuditChain(out.text())).toMatchObject({ ok: true, records: 1 });
  });
});

describe('audit trail failures', () => {
  it('an append whose write fails rejects, and the trail stays failed (fail closed)', async () => {
    // /dev/full accepts the open and fails every write with ENOSPC.
    const trail = await createAuditTrail({ path: '/dev/full', sync: false });
    const e = await auditError(trail.append(signEvent(1)));
    expect(e.code).toBe('AUDIT_WRITE_FAILED');
    expect(e.message).toMatch(/ENOSPC/);
    expect(trail.failure).toBe(e);
    expect((await auditError(trail.append(signEvent(2)))).code).toBe('AUDIT_WRITE_FAILED');
    await trail.close();
  });

  it('every append waiting behind a failed write rejects too', async () => {
    const trail = await createAuditTrail({ path: '/dev/full' });
    const results = await Promise.allSettled([1, 2, 3, 4].map((i) => trail.append(signEvent(i))));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected']);
    await trail.close();
  });

  it('fails when another process wrote to or truncated the file, instead of interleaving chains', async () => {
    for (const change of [(p: string) => appendFileSync(p, '{"other":"writer"}\n'), (p: string) => truncateSync(p, 10)]) {
      const path = tempPath();
      const trail = await createAuditTrail({ path });
      await trail.append(signEvent(1));
      change(path);
      const e = await auditError(trail.append(signEvent(2)));
      expect(e.code).toBe('AUDIT_WRITE_FAILED');
      expect(e.message).toMatch(/another process wrote to it or truncated it/);
      await trail.close();
    }
  });

  it('a file that cannot be opened fails creation', async () => {
    const e = await auditError(createAuditTrail({ path: join(dir, 'missing-dir', 'audit.jsonl') }));
    expect(e.code).toBe('AUDIT_WRITE_FAILED');
    expect(e.message).toMatch(/cannot open audit file .*ENOENT/);
  });

  it('rejects appends beyond maxPending at once instead of queueing them', async () => {
    const path = tempPath();
    const trail = await createAuditTrail({ path, maxPending: 2 });
    const results = await Promise.allSettled([1, 2, 3, 4, 5].map((i) => trail.append(signEvent(i))));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected', 'rejected']);
    expect((results[2] as PromiseRejectedResult).reason).toMatchObject({ code: 'AUDIT_BACKLOG' });
    // Not a sticky failure: once the backlog is written, appends are accepted again.
    await trail.append(signEvent(3));
    await trail.close();
    expect(verifyAuditChain(readFileSync(path, 'utf8'))).toMatchObject({ ok: true, records: 3 });
  });

  it('close writes what is pending; later appends reject with AUDIT_CLOSED', async () => {
    const path = tempPath();
    const trail = await createAuditTrail({ path });
    const pending = [trail.append(signEvent(1)), trail.append(signEvent(2))];
    await trail.close();
    await Promise.all(pending);
    expect(lines(readFileSync(path, 'utf8'))).toHaveLength(2);
    expect((await auditError(trail.append(signEvent(3)))).code).toBe('AUDIT_CLOSED');
    await trail.close();
  });

  it.each([
    ['a field the trail sets', { seq: 7 }, /field "seq" is reserved/],
    ['the log field name', { audit: {} }, /field "audit" is reserved/],
    ['a credential field, even nested', { call: { token: 'abc' } }, /field event\.call has a field "token": secrets and credentials never enter/],
    ['a signing share', { signingShare: '00' }, /"signingShare"/],
    ['a bigint', { n: 1n }, /field event\.n is a bigint, not plain JSON/],
    ['a Date', { at: new Date(0) }, /field event\.at is a Date, not plain JSON/],
    ['a Buffer', { bytes: Buffer.from('x') }, /is a Buffer, not plain JSON/],
    ['NaN', { x: Number.NaN }, /is not a finite number/],
    ['an undefined array element', { xs: [1, undefined] }, /event\.xs\[1\] is undefined/],
    ['a sparse array', { xs: [1, , 3] }, /event\.xs\[1\] is undefined/],
    ['a record too large', { blob: 'x'.repeat(2000) }, /exceeds 1024/],
  ])('refuses an event with %s', async (_name, event, message) => {
    const path = tempPath();
    const trail = await createAuditTrail({ path, maxRecordBytes: 1024 });
    const e = await auditError(trail.append(event as Record<string, unknown>));
    expect(e.code).toBe('AUDIT_INVALID_EVENT');
    expect(e.message).toMatch(message);
    expect(trail.failure).toBeUndefined();
    await trail.append(signEvent(1));
    await trail.close();
    expect(verifyAuditChain(readFileSync(path, 'utf8'))).toMatchObject({ ok: true, records: 1 });
  });

  it.each([
    [{}, /needs a file path, a logger, or both/],
    [{ path: '' }, /non-empty string/],
    [{ logger: createLogger('t', 'info', logSink().stream), sync: true }, /sync applies to the file sink/],
    [{ path: 'x', maxPending: 0 }, /maxPending must be an integer from 1/],
    [{ path: 'x', maxRecordBytes: 10 }, /maxRecordBytes must be an integer from 1024/],
    [{ logger: createLogger('t', 'warn', logSink().stream) }, /writes at level info, but the logger's level is warn/],
  ])('rejects bad options %#', async (options, message) => {
    await expect(createAuditTrail(options)).rejects.toThrow(message);
    await expect(createAuditTrail(options)).rejects.toBeInstanceOf(ConfigError);
  });

  it('AuditError is a RuntimeError with a stable code and name', () => {
    const e = new AuditError('AUDIT_BACKLOG', 'm');
    expect(e).toBeInstanceOf(RuntimeError);
    expect(e.code).toBe('AUDIT_BACKLOG');
    expect(e.name).toBe('AuditError');
    expect(String(e)).toBe('AuditError: m');
  });
});

describe('verifyAuditChain on a file', () => {
  const five = () => writtenFile(5).then((f) => f.text);

  it.each([
    ['an edited record (still canonical)', (t: string) => editLine(t, 1, (o) => ({ ...o, outcome: 'DENIED' }), sorted), 2, /does not hash to the prev of the next record \(line 3\): this record was edited/],
    ['an edited record (reformatted)', (t: string) => editLine(t, 2, (o) => o, (o) => JSON.stringify(o, null, 1).replace(/\n/g, '')), 3, /not in the canonical form/],
    ['a deleted line', (t: string) => lines(t).filter((_, i) => i !== 2).join('\n'), 3, /has seq 4, but seq 3 should follow line 2: records are missing/],
    ['reordered lines', (t: string) => { const l = lines(t); [l[1], l[2]] = [l[2]!, l[1]!]; return l.join('\n'); }, 2, /has seq 3, but seq 2 should follow line 1/],
    ['a repeated line', (t: string) => { const l = lines(t); l.splice(3, 0, l[2]!); return l.join('\n'); }, 4, /has seq 3, but seq 4 should follow line 3/],
    ['a line that does not parse', (t: string) => { const l = lines(t); l[3] = l[3]!.slice(0, 30); return l.join('\n'); }, 4, /^does not parse as JSON$/],
    ['a log line in the file', (t: string) => { const l = lines(t); l.splice(2, 0, '{"level":"info","audit":{}}'); return l.join('\n'); }, 3, /is a log line in an audit file/],
    ['a line that is JSON but not a record', (t: string) => { const l = lines(t); l.splice(2, 0, '{"note":"hi"}'); return l.join('\n'); }, 3, /is not an audit record/],
    ['a deleted head', (t: string) => lines(t).slice(2).join('\n'), 1, /starts in the middle of a chain \(seq 3\)/],
    ['an edited prev', (t: string) => editLine(t, 3, (o) => ({ ...o, prev: 'ab'.repeat(32) }), sorted), 3, /does not hash to the prev of the next record \(line 4\)/],
    ['a genesis prev on a later record', (t: string) => editLine(t, 3, (o) => ({ ...o, prev: AUDIT_GENESIS_PREV }), sorted), 4, /a prev of 64 zeros with seq 4, not 1/],
    ['a junk first line', (t: string) => 'garbage\n' + t, 1, /does not parse as JSON/],
  ])('detects %s and names its line', async (_name, tamper, line, reason) => {
    const result = verifyAuditChain(tamper(await five()));
    expect(result).toEqual({ ok: false, line, reason: expect.stringMatching(reason) });
  });

  it('refuses a second chain in a file: its tail was cut and a new chain written after it', async () => {
    const a = lines(await five()).slice(0, 3);
    const b = lines(await five());
    expect(verifyAuditChain([...a, ...b].join('\n'))).toEqual({ ok: false, line: 4, reason: expect.stringMatching(/starts a second chain after seq 3 \(line 3\)/) });
  });

  it('accepts a text that starts in the middle of a chain only as a partial text, and reports what it follows', async () => {
    const text = await five();
    const ls = lines(text);
    const result = verifyAuditChain(ls.slice(2).join('\n'), { partial: true });
    expect(result).toEqual({ ok: true, records: 3, chains: [{ firstLine: 1, lastLine: 3, firstSeq: 3, lastSeq: 5, firstPrev: sha256(ls[1]!), lastHash: sha256(ls[4]!) }] });
  });

  it('an anchor shows a cut tail and a wholesale rewrite, which the chain alone cannot', async () => {
    const text = await five();
    const ls = lines(text);
    const anchor = sha256(ls[3]!);
    expect(verifyAuditChain(text, { anchor })).toMatchObject({ ok: true, records: 5 });
    expect(verifyAuditChain(text, { anchor: anchor.toUpperCase() })).toMatchObject({ ok: true });
    // Cut after record 3: still a valid chain, but not the anchored one.
    const cut = ls.slice(0, 3).join('\n');
    expect(verifyAuditChain(cut)).toMatchObject({ ok: true, records: 3 });
    expect(verifyAuditChain(cut, { anchor })).toEqual({ ok: false, line: 3, reason: expect.stringMatching(/no record up to here has the anchored hash/) });
    // Rewritten whole with the outcome changed and every hash recomputed: valid, but not the anchored one.
    const rewritten = await writtenFile(0);
    const trail = await createAuditTrail({ path: rewritten.path });
    for (let i = 1; i <= 5; i++) await trail.append({ ...signEvent(i), outcome: i === 2 ? 'DENIED' : 'ok' });
    await trail.close();
    const forged = readFileSync(rewritten.path, 'utf8');
    expect(verifyAuditChain(forged)).toMatchObject({ ok: true, records: 5 });
    expect(verifyAuditChain(forged, { anchor })).toMatchObject({ ok: false });
  });

  it('an empty text is an intact empty trail; blank lines are ignored', async () => {
    expect(verifyAuditChain('')).toEqual({ ok: true, records: 0, chains: [] });
    const text = await five();
    expect(verifyAuditChain(text.replace('\n', '\n\n'))).toMatchObject({ ok: true, records: 5 });
  });

  it('the line-by-line verifier gives the same answer and stops at the first break', async () => {
    const tampered = lines(await five()).filter((_, i) => i !== 1);
    const v = new AuditChainVerifier();
    expect(tampered.map((l) => v.push(l))).toEqual([true, false, false, false]);
    expect(v.finish()).toEqual(verifyAuditChain(tampered.join('\n')));
  });

  it('property: changing any value of any record but the last is detected at that record', async () => {
    const text = await five();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 }), fc.constantFrom('requestId', 'principal', 'keyId', 'messageSha256', 'participants', 'outcome', 'culprits', 'ts'), fc.jsonValue(), (index, field, value) => {
        const original = JSON.parse(lines(text)[index]!) as Record<string, unknown>;
        fc.pre(JSON.stringify(original[field]) !== JSON.stringify(value));
        const tampered = editLine(text, index, (o) => ({ ...o, [field]: value }), sorted);
        const result = verifyAuditChain(tampered);
        expect(result).toMatchObject({ ok: false, line: index + 1 });
      }),
      { numRuns: 200 },
    );
  });
});

describe('audit trail log sink', () => {
  async function loggedTrail(count: number): Promise<string> {
    const out = logSink();
    const logger = createLogger('coordinator', 'info', out.stream);
    logger.info({ port: 8443 }, 'listening');
    const trail = await createAuditTrail({ logger });
    for (let i = 1; i <= count; i++) {
      await trail.append(signEvent(i));
      logger.warn({ requestId: `req-${i}` }, 'slow signer');
    }
    await trail.close();
    return out.text();
  }

  it('writes each record as the audit field of an info line; the log output verifies, other lines ignored', async () => {
    const text = await loggedTrail(3);
    const logLines = lines(text).map((l) => JSON.parse(l) as Record<string, unknown>);
    const audits = logLines.filter((l) => 'audit' in l);
    expect(audits).toHaveLength(3);
    expect(audits[0]).toMatchObject({ level: 'info', service: 'coordinator', msg: 'audit', audit: { ...signEvent(1), seq: 1, prev: AUDIT_GENESIS_PREV } });
    expect(verifyAuditChain(text)).toMatchObject({ ok: true, records: 3, chains: [{ firstLine: 2, lastLine: 6, firstSeq: 1, lastSeq: 3 }] });
    // Non-JSON lines (a runtime warning on stderr, merged by kubectl logs) do not matter in a log.
    expect(verifyAuditChain('(node:1) Warning: something\n' + text)).toMatchObject({ ok: true, records: 3 });
  });

  it('detects an edited, a deleted and a reordered audit line in log output', async () => {
    const text = await loggedTrail(4);
    const ls = lines(text); // 1 listening, then audit/warn pairs: audit lines are 2, 4, 6, 8
    const edited = editLine(text, 3, (o) => ({ ...o, audit: { ...(o.audit as object), outcome: 'DENIED' } }));
    expect(verifyAuditChain(edited)).toEqual({ ok: false, line: 4, reason: expect.stringMatching(/does not hash to the prev of the next record \(line 6\)/) });
    const deleted = ls.filter((_, i) => i !== 3).join('\n');
    expect(verifyAuditChain(deleted)).toEqual({ ok: false, line: 5, reason: expect.stringMatching(/has seq 3, but seq 2 should follow line 2/) });
    const reordered = [...ls];
    [reordered[3], reordered[5]] = [reordered[5]!, reordered[3]!];
    expect(verifyAuditChain(reordered.join('\n'))).toMatchObject({ ok: false, line: 4 });
    const bare = [...ls];
    bare.splice(2, 0, JSON.stringify((JSON.parse(ls[1]!) as { audit: unknown }).audit));
    expect(verifyAuditChain(bare.join('\n'))).toEqual({ ok: false, line: 3, reason: 'is a bare audit record among log lines' });
  });

  it('each process start begins a new chain in the log; concatenated logs verify as several chains', async () => {
    const text = (await loggedTrail(2)) + (await loggedTrail(3));
    const result = verifyAuditChain(text);
    expect(result).toMatchObject({ ok: true, records: 5, chains: [{ firstSeq: 1, lastSeq: 2 }, { firstSeq: 1, lastSeq: 3 }] });
  });

  it('with a file as well, both sinks hold their own intact chain and the log line follows the file write', async () => {
    const path = tempPath();
    await writtenFile(2, path);
    const out = logSink();
    const trail: AuditTrail = await createAuditTrail({ path, logger: createLogger('signer', 'info', out.stream) });
    const appended = trail.append({ event: 'sign-share', keyId: 'default', messageSha256: sha256('m'), requester: 'coordinator', commitmentId: 'c-1' });
    expect(out.text()).toBe(''); // not logged before the file write succeeded
    await appended;
    await trail.close();
    expect(verifyAuditChain(readFileSync(path, 'utf8'))).toMatchObject({ ok: true, records: 3, chains: [{ lastSeq: 3 }] });
    expect(verifyAuditChain(out.text())).toMatchObject({ ok: true, records: 1, chains: [{ lastSeq: 1 }] });
  });

  it('a failed file write is not logged', async () => {
    const out = logSink();
    const trail = await createAuditTrail({ path: '/dev/full', logger: createLogger('signer', 'info', out.stream) });
    await auditError(trail.append(signEvent(1)));
    await trail.close();
    expect(out.text()).toBe('');
  });

  it('a logger that fails makes the append reject and stops the trail', async () => {
    const broken = { write: () => { throw new Error('log stream closed'); } } as unknown as NodeJS.WritableStream;
    for (const path of [undefined, tempPath()]) {
      const trail = await createAuditTrail({ path, logger: createLogger('t', 'info', broken) });
      const e = await auditError(trail.append(signEvent(1)));
      expect(e.code).toBe('AUDIT_WRITE_FAILED');
      expect(e.message).toMatch(/audit log sink failed, the trail is stopped: log stream closed/);
      expect(trail.failure).toBe(e);
      expect(await auditError(trail.append(signEvent(2)))).toBe(e);
      await trail.close();
    }
  });

  it('property: any plain JSON event survives the log round trip and verifies, as it does in a file', async () => {
    const reserved = new Set(['seq', 'ts', 'prev', 'audit', 'token', 'secret', 'nonces', 'signingShare', 'signing_share', 'privateKey', 'authorization']);
    const key = fc.string({ maxLength: 8 }).filter((k) => !reserved.has(k));
    const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
      v: fc.oneof({ depthSize: 'small' }, fc.string(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null), fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(key, tie('v'), { maxKeys: 3 })),
    })).v;
    const event = fc.dictionary(key, value, { maxKeys: 5 });
    const path = tempPath();
    await fc.assert(
      fc.asyncProperty(fc.array(event, { minLength: 1, maxLength: 4 }), async (events) => {
        const out = logSink();
        writeFileSync(path, '');
        const trail = await createAuditTrail({ path, logger: createLogger('t', 'info', out.stream) });
        for (const e of events) await trail.append(e);
        await trail.close();
        expect(verifyAuditChain(out.text())).toMatchObject({ ok: true, records: events.length });
        expect(verifyAuditChain(readFileSync(path, 'utf8'))).toMatchObject({ ok: true, records: events.length });
      }),
      { numRuns: 100 },
    );
  });
});

describe('openServiceAuditTrail', () => {
  it('failing closed needs a file: the log sink cannot refuse a record', async () => {
    const { openServiceAuditTrail } = await import('../src/audit.js');
    const { createLogger } = await import('../src/logger.js');
    await expect(openServiceAuditTrail({ sync: false, failClosed: true }, createLogger('t', 'info'), 'SIGNER_')).rejects.toThrow(/SIGNER_AUDIT_FAIL_CLOSED needs SIGNER_AUDIT_FILE/);
    const silent = await openServiceAuditTrail({ sync: false, failClosed: false }, createLogger('t', 'silent'), 'SIGNER_');
    expect(silent).toBeUndefined();
  });
});
