// frostctl audit verify as an operator runs it, in-process through runCli with captured output, on
// files the runtime's audit trail wrote.
import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createAuditTrail, createLogger } from '@hoarfrost/runtime';
import { runCli } from '../src/index.js';

async function frostctl(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const status = await runCli(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { status, stdout: out.join('\n'), stderr: err.join('\n') };
}

const dir = mkdtempSync(join(tmpdir(), 'frostctl-audit-'));
let n = 0;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const lines = (text: string) => text.split('\n').filter((l) => l.length > 0);
const event = (i: number) => ({ event: 'sign', requestId: `req-${i}`, keyId: 'default', messageSha256: sha256(`m${i}`), participants: [1, 2], outcome: 'ok', culprits: [] });

/** An audit file with `count` records written by the runtime's trail. */
async function auditFile(count: number): Promise<{ path: string; text: string }> {
  const path = join(dir, `audit-${++n}.jsonl`);
  const trail = await createAuditTrail({ path });
  for (let i = 1; i <= count; i++) await trail.append(event(i));
  await trail.close();
  return { path, text: readFileSync(path, 'utf8') };
}

/** Log output of a service whose trail logged `count` records among other lines. */
async function logOutput(count: number): Promise<string> {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger('coordinator', 'info', stream);
  logger.info('listening');
  const trail = await createAuditTrail({ logger });
  for (let i = 1; i <= count; i++) {
    await trail.append(event(i));
    logger.info({ requestId: `req-${i}` }, 'signed');
  }
  await trail.close();
  return chunks.join('');
}

function write(text: string): string {
  const path = join(dir, `text-${++n}.log`);
  writeFileSync(path, text);
  return path;
}

describe('frostctl audit verify', () => {
  it('is listed in the help with its usage', async () => {
    const help = await frostctl('--help');
    expect(help.stdout).toMatch(/^ {2}audit {10}check the hash chain/m);
    expect(help.stdout).toContain('frostctl audit verify [--partial] [--anchor HASH] FILE');
  });

  it('prints a one-line summary with the last hash and exits 0 on an intact file', async () => {
    const { path, text } = await auditFile(3);
    const r = await frostctl('audit', 'verify', path);
    expect(r).toEqual({ status: 0, stdout: `${path}: intact: 3 records in 1 chain, last seq 3, last hash ${sha256(lines(text)[2]!)}`, stderr: '' });
  });

  it('exits 1 naming the line and the reason on an edited record', async () => {
    const { text } = await auditFile(4);
    const path = write(text.replace('"outcome":"ok","participants":[1,2],"prev"', '"outcome":"DENIED","participants":[1,2],"prev"'));
    const r = await frostctl('audit', 'verify', path);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`frostctl: AUDIT_CHAIN_BROKEN: ${path}: line 1: does not hash to the prev of the next record (line 2): this record was edited (or that prev, or records between them were replaced)`);
  });

  it('exits 1 naming the line on a deleted, a reordered and a damaged line', async () => {
    const ls = lines((await auditFile(5)).text);
    const deleted = await frostctl('audit', 'verify', write([ls[0], ls[1], ls[3], ls[4]].join('\n') + '\n'));
    expect(deleted.status).toBe(1);
    expect(deleted.stderr).toMatch(/: line 3: has seq 4, but seq 3 should follow line 2/);
    const reordered = await frostctl('audit', 'verify', write([ls[0], ls[2], ls[1], ls[3]].join('\n')));
    expect(reordered.stderr).toMatch(/: line 2: has seq 3, but seq 2 should follow line 1/);
    const damaged = await frostctl('audit', 'verify', write([ls[0], ls[1], ls[2]!.slice(0, 40)].join('\n')));
    expect(damaged.status).toBe(1);
    expect(damaged.stderr).toMatch(/: line 3: does not parse as JSON$/);
  });

  it('verifies service log output: other log lines are ignored, each process start is a chain', async () => {
    const path = write((await logOutput(2)) + (await logOutput(3)));
    const r = await frostctl('audit', 'verify', path);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/: intact: 5 records in 2 chains, last seq 3, last hash [0-9a-f]{64}$/);
    const tampered = write((await logOutput(3)).replace('"requestId":"req-2"', '"requestId":"req-9"'));
    const bad = await frostctl('audit', 'verify', tampered);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/: line 4: does not hash to the prev of the next record \(line 6\)/);
  });

  it('--anchor fails once the anchored record is gone; --partial accepts a text cut at its head', async () => {
    const { path, text } = await auditFile(4);
    const ls = lines(text);
    const anchor = sha256(ls[2]!);
    expect((await frostctl('audit', 'verify', '--anchor', anchor, path)).status).toBe(0);
    const cut = write(ls.slice(0, 2).join('\n') + '\n');
    expect((await frostctl('audit', 'verify', cut)).status).toBe(0);
    const anchored = await frostctl('audit', 'verify', '--anchor', anchor, cut);
    expect(anchored.status).toBe(1);
    expect(anchored.stderr).toMatch(/: line 2: no record up to here has the anchored hash/);
    const head = write(ls.slice(2).join('\n') + '\n');
    expect((await frostctl('audit', 'verify', head)).stderr).toMatch(/: line 1: starts in the middle of a chain \(seq 3\)/);
    const partial = await frostctl('audit', 'verify', '--partial', head);
    expect(partial.status).toBe(0);
    expect(partial.stdout).toContain(`(partial: starts at seq 3, after ${sha256(ls[1]!)})`);
  });

  it('reads large files as a stream: records across read chunks, a last line without newline, an over-long log line', async () => {
    const { path, text } = await auditFile(1500);
    expect(text.length).toBeGreaterThan(4 * 65536);
    expect((await frostctl('audit', 'verify', path)).stdout).toMatch(/intact: 1500 records in 1 chain, last seq 1500/);
    expect((await frostctl('audit', 'verify', write(text.slice(0, -1)))).stdout).toMatch(/intact: 1500 records/);
    // A log line over 16 MiB is cut, does not parse, and is ignored like any other non-audit line.
    const log = lines(await logOutput(3));
    const huge = JSON.stringify({ level: 'info', msg: 'x'.repeat(17 * 1024 * 1024) });
    const r = await frostctl('audit', 'verify', write([log[0], log[1], huge, ...log.slice(2)].join('\n')));
    expect(r.stdout).toMatch(/intact: 3 records in 1 chain/);
  });

  it('an empty file is an intact empty trail', async () => {
    expect(await frostctl('audit', 'verify', write(''))).toMatchObject({ status: 0, stdout: expect.stringMatching(/: intact: 0 records$/) });
  });

  it.each([
    [['audit'], 'USAGE', /an audit subcommand is required; usage: frostctl audit verify/],
    [['audit', 'check', 'x'], 'USAGE', /unknown audit subcommand "check"/],
    [['audit', 'verify'], 'USAGE', /usage: frostctl audit verify/],
    [['audit', 'verify', 'a', 'b'], 'USAGE', /usage: frostctl audit verify/],
    [['audit', 'verify', '--anchor', 'abc', 'x'], 'USAGE', /--anchor must be a record hash \(64 hex digits\)/],
    [['audit', 'verify', '/nonexistent/audit.jsonl'], 'FILE_UNREADABLE', /cannot read \/nonexistent\/audit.jsonl: .*ENOENT/],
  ])('%j exits 2 with %s', async (args, code, message) => {
    const r = await frostctl(...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`frostctl: ${code}: `);
    expect(r.stderr).toMatch(message);
  });
});
