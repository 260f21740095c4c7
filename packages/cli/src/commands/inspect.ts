import { decodeAny, serializeElement, toHex, FrostError } from '@hoarfrost/frost';
import { CliError, readTextFile, type Io } from '../cli-error.js';

export const inspectUsage = 'frostctl inspect FILE';

/** Decodes any frost-rs JSON object, validates it fully and prints a short summary (never secrets). */
export function inspect(args: string[], io: Io): number {
  if (args.length !== 1 || args[0]!.startsWith('-')) throw new CliError('USAGE', `usage: ${inspectUsage}`);
  const path = args[0]!;
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
    }
    return 0;
  } catch (e) {
    if (e instanceof FrostError) throw new CliError(e.code, `${path}: ${e.message}`, 1);
    throw e;
  }
}
