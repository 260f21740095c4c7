/**
 * More callers of the coordinator than the one a dev environment comes with: a second client
 * certificate from the same CA as the environment's caller certificate, so that tests can play two
 * principals (a hostile caller and a normal one). The issuing CA is found by what it signed, not by
 * file name.
 * @module
 */
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCertificateAuthority } from './pki.js';
import type { DevEnvironment } from './environment.js';

export interface CallerIdentity {
  /** The certificate's SAN as the coordinator's allowlist names it (`DNS:<name>`). */
  san: string;
  certFile: string;
  keyFile: string;
}

/** PEM files under `dir` (two levels deep: the environment's own files and one level of subdirectories). */
function pemFiles(dir: string, depth = 2): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory() && depth > 1) out.push(...pemFiles(p, depth - 1));
    else if (st.isFile() && name.endsWith('.pem')) out.push(p);
  }
  return out;
}

/** The `DNS:` SANs of a certificate file. */
export function certificateSans(certFile: string): string[] {
  const alt = new X509Certificate(readFileSync(certFile)).subjectAltName ?? '';
  return alt.split(/,\s*/).filter((s) => s.startsWith('DNS:'));
}

/** The CA certificate and key (PEM) in `env.dir` that issued the environment's caller certificate. */
function callerAuthority(env: DevEnvironment): { certPem: string; keyPem: string } {
  const leaf = new X509Certificate(readFileSync(env.clientCertFile));
  const files = pemFiles(env.dir);
  for (const f of files) {
    let ca: X509Certificate;
    try {
      ca = new X509Certificate(readFileSync(f));
    } catch {
      continue;
    }
    if (!ca.ca || !leaf.checkIssued(ca) || !leaf.verify(ca.publicKey)) continue;
    const spki = ca.publicKey.export({ type: 'spki', format: 'der' });
    for (const k of files) {
      try {
        const keyPem = readFileSync(k, 'utf8');
        if (createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' }).equals(spki)) return { certPem: readFileSync(f, 'utf8'), keyPem };
      } catch {
        /* not a private key */
      }
    }
  }
  throw new Error(`no CA key in ${env.dir} issued ${env.clientCertFile}`);
}

/**
 * Issues a client certificate for caller `name` (DNS SAN `name`) from the CA of the environment's
 * caller certificate and writes it next to the environment's files. The coordinator accepts it only
 * when its allowlist names `DNS:<name>`.
 */
export async function issueCallerIdentity(env: DevEnvironment, name: string): Promise<CallerIdentity> {
  const { certPem, keyPem } = callerAuthority(env);
  const ca = await loadCertificateAuthority(certPem, keyPem);
  const pair = await ca.issue({ commonName: name, dnsNames: [name], usages: ['client'] });
  const certFile = join(env.dir, `caller-${name}.pem`);
  const keyFile = join(env.dir, `caller-${name}-key.pem`);
  writeFileSync(certFile, pair.certPem, { mode: 0o644 });
  writeFileSync(keyFile, pair.keyPem, { mode: 0o600 });
  return { san: `DNS:${name}`, certFile, keyFile };
}
