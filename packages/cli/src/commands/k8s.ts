import { generateKeyPairSync, createPrivateKey } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FrostError, keyPackageFromJson, publicKeyPackageFromJson } from '@hoarfrost/frost';
import { parseJwks, publicJwk } from '@hoarfrost/rpc';
import { CliError, readTextFile, type Io } from '../cli-error.js';
import { KEY_PACKAGE_FILE, PUBLIC_KEY_PACKAGE_FILE } from '@hoarfrost/rpc';
import { keyPackageFile } from './keygen.js';

export const k8sUsage =
  'frostctl k8s-manifests --keys DIR [--name-prefix frost] [--namespace NS] [--jwt-key PEM] [--jwt-kid KID] [--extra-jwks FILE] --out FILE';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Writes the Kubernetes objects the Helm chart (and k8s/ base) expect, from a `frostctl keygen` folder:
 * one Secret per signer holding only its key package (plus the public key package), the public key
 * package ConfigMap, the coordinator's RPC JWT key Secret and the JWKS ConfigMap the signers pin. The
 * output holds secrets: it is written 0600 and never printed.
 */
export function k8sManifests(args: string[], io: Io): number {
  const { values } = parseArgs({
    args,
    options: {
      keys: { type: 'string' },
      'name-prefix': { type: 'string', default: 'frost' },
      namespace: { type: 'string' },
      'jwt-key': { type: 'string' },
      'jwt-kid': { type: 'string' },
      'extra-jwks': { type: 'string' },
      out: { type: 'string' },
    },
    strict: true,
  });
  if (!values.keys || !values.out) throw new CliError('USAGE', `usage: ${k8sUsage}`);
  const prefix = values['name-prefix'];
  if (!DNS_LABEL.test(prefix) || prefix.length > 40) throw new CliError('USAGE', '--name-prefix must be a DNS label of at most 40 characters');
  if (values.namespace !== undefined && !DNS_LABEL.test(values.namespace)) throw new CliError('USAGE', '--namespace must be a DNS label');
  const read = readTextFile;
  const pkpText = read(join(values.keys, PUBLIC_KEY_PACKAGE_FILE));
  const docs: object[] = [];
  const meta = (name: string) => ({ name, ...(values.namespace ? { namespace: values.namespace } : {}), labels: { 'app.kubernetes.io/part-of': 'frost' } });
  try {
    const pkp = publicKeyPackageFromJson(pkpText);
    pkp.assertConsistent();
    docs.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(`${prefix}-public-key-package`), data: { [PUBLIC_KEY_PACKAGE_FILE]: pkpText } });
    for (let i = 1; i <= pkp.maxSigners; i++) {
      const text = read(join(values.keys, keyPackageFile(i)));
      keyPackageFromJson(text).assertMatches(pkp);
      docs.push({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: meta(`${prefix}-signer-${i}-keys`),
        type: 'Opaque',
        stringData: { [KEY_PACKAGE_FILE]: text, [PUBLIC_KEY_PACKAGE_FILE]: pkpText },
      });
    }
  } catch (e) {
    if (e instanceof FrostError) throw new CliError(e.code, e.message, 1);
    throw e;
  }
  const kid = values['jwt-kid'] ?? `coordinator-${new Date().toISOString().slice(0, 10)}`;
  const key = values['jwt-key'] ? createPrivateKey(read(values['jwt-key'])) : generateKeyPairSync('ed25519').privateKey;
  if (key.asymmetricKeyType !== 'ed25519') throw new CliError('USAGE', '--jwt-key must be an Ed25519 private key (PKCS#8 PEM)');
  const extra = values['extra-jwks'] ? parseJwks(read(values['extra-jwks'])).keys.filter((k) => k.kid !== kid) : [];
  docs.push({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: meta(`${prefix}-coordinator-jwt`),
    type: 'Opaque',
    stringData: { 'jwt-key.pem': key.export({ format: 'pem', type: 'pkcs8' }).toString() },
  });
  docs.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(`${prefix}-jwks`), data: { 'jwks.json': JSON.stringify({ keys: [publicJwk(key, kid), ...extra] }, null, 2) } });
  writeFileSync(values.out, docs.map((d) => '---\n' + JSON.stringify(d, null, 2)).join('\n') + '\n', { mode: 0o600 });
  io.out(`wrote ${docs.length} objects to ${values.out} (contains secrets: apply it, then delete it)`);
  io.out(`  rpcJwt.kid for the chart: ${kid}`);
  return 0;
}
