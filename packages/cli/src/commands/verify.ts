import { parseArgs } from 'node:util';
import { publicKeyPackageFromJson, verifyEd25519, FrostError } from '@hoarfrost/frost';
import { CliError, decodeBase64Strict, readTextFile, type Io } from '../cli-error.js';

export const verifyUsage = 'frostctl verify --public-key-package FILE --message-b64 M --signature-b64 S';

function readPublicKeyPackage(path: string) {
  const text = readTextFile(path);
  try {
    return publicKeyPackageFromJson(text);
  } catch (e) {
    if (e instanceof FrostError) throw new CliError(e.code, `${path}: ${e.message}`);
    throw e;
  }
}

/** Exit 0 when the signature verifies under the group key, 1 when it does not, 2 on bad usage. */
export function verify(args: string[], io: Io): number {
  const { values } = parseArgs({
    args,
    options: {
      'public-key-package': { type: 'string' },
      'message-b64': { type: 'string' },
      'signature-b64': { type: 'string' },
    },
    strict: true,
  });
  const path = values['public-key-package'];
  const m = values['message-b64'];
  const s = values['signature-b64'];
  if (!path || m === undefined || s === undefined) throw new CliError('USAGE', `usage: ${verifyUsage}`);
  const pkp = readPublicKeyPackage(path);
  const message = decodeBase64Strict(m, '--message-b64');
  const signature = decodeBase64Strict(s, '--signature-b64');
  if (verifyEd25519(pkp.verifyingKeyBytes, message, signature)) {
    io.out('signature valid');
    return 0;
  }
  io.out('signature INVALID');
  return 1;
}
