import { decodeAny, serializeElement, toHex, FrostError, Identifier, type DkgRound1Package } from '@hoarfrost/frost';
import { CliError, readTextFile, type Io } from '../cli-error.js';

export const inspectUsage = 'frostctl inspect FILE [--sender ID]';

/** Parses `FILE [--sender ID]` in either order. */
function parseArgs(args: string[]): { path: string; sender: Identifier | undefined } {
  const usage = new CliError('USAGE', `usage: ${inspectUsage}`);
  let path: string | undefined;
  let senderText: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--sender') {
      if (senderText !== undefined || i + 1 >= args.length) throw usage;
      senderText = args[++i]!;
    } else if (a.startsWith('-') || path !== undefined) throw usage;
    else path = a;
  }
  if (path === undefined) throw usage;
  if (senderText === undefined) return { path, sender: undefined };
  try {
    return { path, sender: /^\d{1,5}$/.test(senderText) ? Identifier.fromNumber(Number(senderText)) : Identifier.fromHex(senderText) };
  } catch {
    throw new CliError('USAGE', `--sender must be a participant number (1-65535) or 64 hex characters`);
  }
}

/** Summary of a DKG round-1 package; with the sender known, its proof of knowledge is checked. */
function inspectRound1(pkg: DkgRound1Package, sender: Identifier | undefined, path: string, io: Io): void {
  const refresh = pkg.isRefreshPackage();
  const n = pkg.commitment.length;
  if (refresh) io.out(`DKG round-1 package (refresh): valid encodings, threshold ${n + 1}`);
  else io.out(`DKG round-1 package (key generation): valid encodings, threshold ${n}`);
  io.out(`  commitments:        ${n} coefficient commitments`);
  if (!refresh) io.out(`  group key share:    ${toHex(pkg.verifyingKey)}`);
  if (refresh) io.out(`  proof of knowledge: not checked (a refresh proof is over a zero constant term)`);
  else if (!sender) io.out(`  proof of knowledge: not checked (give --sender ID)`);
  else if (pkg.verifyProofOfKnowledge(sender)) io.out(`  proof of knowledge: valid for sender ${sender}`);
  else throw new CliError('INVALID_PROOF_OF_KNOWLEDGE', `${path}: the proof of knowledge does not verify for sender ${sender}`, 1);
}

/** Decodes any frost-rs JSON object, validates it fully and prints a short summary (never secrets). */
export function inspect(args: string[], io: Io): number {
  const { path, sender } = parseArgs(args);
  const text = readTextFile(path);
  try {
    const d = decodeAny(text);
    switch (d.kind) {
      case 'KeyPackage': {
        const kp = d.value;
        io.out(`KeyPackage: valid (signing share matches verifying share)`);
        io.out(`  identifier:      ${kp.identifier}`);
        io.out(`  min_signers:     ${kp.minSigners}`);
        io.out(`  verifying_share: ${toHex(serializeElement(kp.verifyingShare))}`);
        io.out(`  verifying_key:   ${toHex(serializeElement(kp.verifyingKey))}`);
        break;
      }
      case 'PublicKeyPackage': {
        const pkp = d.value;
        pkp.assertConsistent();
        io.out(`PublicKeyPackage: valid (${pkp.minSigners}-of-${pkp.maxSigners}, shares consistent with the verifying key)`);
        io.out(`  verifying_key: ${toHex(pkp.verifyingKeyBytes)}`);
        io.out(`  identifiers:   ${pkp.identifiers.map(String).join(', ')}`);
        break;
      }
      case 'SigningCommitments':
        io.out(`SigningCommitments: valid`);
        io.out(`  hiding:  ${toHex(d.value.hidingBytes)}`);
        io.out(`  binding: ${toHex(d.value.bindingBytes)}`);
        break;
      case 'SigningPackage':
        io.out(`SigningPackage: valid`);
        io.out(`  participants: ${d.value.identifiers.map(String).join(', ')}`);
        io.out(`  message:      ${d.value.message.length} bytes`);
        break;
      case 'SignatureShare':
        io.out(`SignatureShare: valid (canonical scalar)`);
        break;
      case 'DkgRound1Package':
        inspectRound1(d.value, sender, path, io);
        break;
      case 'DkgRound2Package':
        io.out(`DKG round-2 package: valid (canonical scalar)`);
        io.out(`  holds a secret share: only its recipient may see it (confidential, authenticated channel)`);
        break;
    }
    return 0;
  } catch (e) {
    if (e instanceof FrostError) throw new CliError(e.code, `${path}: ${e.message}`, 1);
    throw e;
  }
}
