/**
 * frostctl: the operator's command-line tool of Hoarfrost.
 * @module
 */
import { CliError, processIo, type Io } from './cli-error.js';
import { inspect, inspectUsage } from './commands/inspect.js';
import { keygen, keygenUsage } from './commands/keygen.js';
import { verify, verifyUsage } from './commands/verify.js';
import { sign, signUsage } from './commands/sign.js';
import { k8sManifests, k8sUsage } from './commands/k8s.js';
import { audit, auditUsage } from './commands/audit.js';
import { relay, relayUsage } from './commands/relay.js';
import { keys, keysUsage } from './commands/keys.js';

export { CliError, decodeBase64Strict, type Io } from './cli-error.js';
export { keygenToDir, PUBLIC_KEY_PACKAGE_FILE, keyPackageFile } from './commands/keygen.js';

type Command = (args: string[], io: Io) => number | Promise<number>;

const commands: Record<string, { run: Command; usage: string; summary: string }> = {
  keygen: { run: keygen, usage: keygenUsage, summary: 'trusted-dealer t-of-n key generation (frost-rs JSON files)' },
  verify: { run: verify, usage: verifyUsage, summary: 'verify an Ed25519 signature under a group key' },
  inspect: { run: inspect, usage: inspectUsage, summary: 'decode and validate any frost-rs JSON object' },
  sign: { run: sign, usage: signUsage, summary: 'sign through a coordinator and verify the result' },
  keys: { run: keys, usage: keysUsage, summary: "a deployment's keys: list, create by DKG (no dealer), refresh, retire, remove" },
  'k8s-manifests': { run: k8sManifests, usage: k8sUsage, summary: 'Kubernetes Secrets/ConfigMaps for the Helm chart from a key folder' },
  audit: { run: audit, usage: auditUsage, summary: 'check the hash chain of an audit file or of service logs (tamper evidence)' },
  relay: { run: relay, usage: relayUsage, summary: 'relay identities (X25519) and the sessions of one on a frostd-compatible relay' },
};

/** Registers another subcommand (used by modules that need network or process code). */
export function registerCommand(name: string, run: Command, usage: string, summary: string): void {
  commands[name] = { run, usage, summary };
}

function help(io: Io): void {
  io.out('frostctl: the Hoarfrost operator tool (threshold Ed25519 signing with FROST, RFC 9591)\n');
  io.out('usage: frostctl <command> [options]\n');
  for (const [name, c] of Object.entries(commands)) io.out(`  ${name.padEnd(14)} ${c.summary}\n                 ${c.usage}`);
}

/** Runs frostctl with `argv` (without node and script); returns the exit status. */
export async function runCli(argv: string[], io: Io = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    help(io);
    return name ? 0 : 2;
  }
  const cmd = commands[name];
  if (!cmd) {
    io.err(`frostctl: USAGE: unknown command "${name}"`);
    help(io);
    return 2;
  }
  try {
    return await cmd.run(rest, io);
  } catch (e) {
    if (e instanceof CliError) {
      io.err(`frostctl: ${e.code}: ${e.message}`);
      return e.exitCode;
    }
    if (e instanceof TypeError && (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`frostctl: USAGE: ${e.message}\nusage: ${cmd.usage}`);
      return 2;
    }
    io.err(`frostctl: INTERNAL: ${(e as Error).message}`);
    return 1;
  }
}
