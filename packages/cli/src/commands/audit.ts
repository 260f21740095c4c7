/**
 * frostctl audit: checks the hash chain of an audit trail, an audit file or log output holding
 * audit lines (`kubectl logs` of a service). The rules, and what a chain cannot show without an
 * anchor, are those of `verifyAuditChain` in @hoarfrost/runtime.
 * @module
 */
import { createReadStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { AUDIT_GENESIS_PREV, AuditChainVerifier } from '@hoarfrost/runtime';
import { CliError, type Io } from '../cli-error.js';

export const auditUsage = 'frostctl audit verify [--partial] [--anchor HASH] FILE';

/** Longer lines are cut here: a cut line does not parse, so it is not taken for a record. */
const MAX_LINE_BYTES = 16 * 1024 * 1024;

/** The lines of a file without their newlines, read as a stream (an audit file can be large). */
async function* readLines(path: string): AsyncGenerator<string> {
  const parts: Buffer[] = [];
  let size = 0;
  const take = (bytes: Buffer) => {
    const piece = bytes.subarray(0, MAX_LINE_BYTES - size);
    if (piece.length === 0) return;
    parts.push(piece);
    size += piece.length;
  };
  const line = () => {
    const text = Buffer.concat(parts, size).toString('utf8');
    parts.length = 0;
    size = 0;
    return text;
  };
  try {
    for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
      let start = 0;
      for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
        take(chunk.subarray(start, nl));
        yield line();
        start = nl + 1;
      }
      take(chunk.subarray(start));
    }
  } catch (e) {
    throw new CliError('FILE_UNREADABLE', `cannot read ${path}: ${(e as Error).message}`);
  }
  if (size > 0) yield line();
}

/** `audit verify`: exit 0 and a one-line summary when the chain is intact, 1 naming the line where it breaks. */
async function auditVerify(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { partial: { type: 'boolean' }, anchor: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1) throw new CliError('USAGE', `usage: ${auditUsage}`);
  const path = positionals[0]!;
  const anchor = values.anchor;
  if (anchor !== undefined && !/^[0-9a-fA-F]{64}$/.test(anchor)) throw new CliError('USAGE', '--anchor must be a record hash (64 hex digits), as printed by frostctl audit verify');
  const verifier = new AuditChainVerifier({ partial: values.partial ?? false, anchor });
  for await (const line of readLines(path)) if (!verifier.push(line)) break;
  const result = verifier.finish();
  if (!result.ok) throw new CliError('AUDIT_CHAIN_BROKEN', `${path}: line ${result.line}: ${result.reason}`, 1);
  const first = result.chains[0];
  const last = result.chains[result.chains.length - 1];
  if (!first || !last) {
    io.out(`${path}: intact: 0 records`);
    return 0;
  }
  const chains = result.chains.length === 1 ? '1 chain' : `${result.chains.length} chains`;
  const after = first.firstPrev === AUDIT_GENESIS_PREV ? '' : ` (partial: starts at seq ${first.firstSeq}, after ${first.firstPrev})`;
  io.out(`${path}: intact: ${result.records} records in ${chains}, last seq ${last.lastSeq}, last hash ${last.lastHash}${after}`);
  return 0;
}

/** frostctl audit <subcommand>. */
export async function audit(args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'verify') return auditVerify(rest, io);
  const problem = sub === undefined ? 'an audit subcommand is required' : `unknown audit subcommand "${sub}"`;
  throw new CliError('USAGE', `${problem}; usage: ${auditUsage}`);
}
