/**
 * A small X.509 PKI for development and tests (CA, server and client certificates with explicit
 * usages), generated in-process with @peculiar/x509 and WebCrypto: no shelling out to openssl.
 * Production deployments bring their own PKI (cert-manager or Secrets).
 * @module
 */
import { webcrypto, randomBytes, createPrivateKey } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as never);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 24 * 3600 * 1000;

/** A PEM certificate and its PKCS#8 private key. */
export interface CertificatePair {
  certPem: string;
  keyPem: string;
}

/** A certificate authority able to issue leaf certificates. */
export interface CertificateAuthority extends CertificatePair {
  issue(options: LeafOptions): Promise<CertificatePair>;
}

/** Leaf certificate options. */
export interface LeafOptions {
  commonName: string;
  dnsNames?: string[];
  ipAddresses?: string[];
  uris?: string[];
  /** Extended key usages: 'server' (TLS server auth), 'client' (TLS client auth). */
  usages: ('server' | 'client')[];
  days?: number;
}

async function exportKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs8' }).toString();
}

const serial = (): string => '01' + randomBytes(15).toString('hex');

/** Creates a self-signed CA (P-256, path length 0). */
export async function createCertificateAuthority(commonName: string, days = 365): Promise<CertificateAuthority> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${commonName}`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + days * DAY),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return authority(ca, keys.privateKey, keys.publicKey, await exportKeyPem(keys.privateKey));
}

/** A CA from its PEM certificate and PKCS#8 P-256 key (e.g. to issue more dev certificates). */
export async function loadCertificateAuthority(certPem: string, keyPem: string): Promise<CertificateAuthority> {
  const ca = new x509.X509Certificate(certPem);
  const der = createPrivateKey(keyPem).export({ format: 'der', type: 'pkcs8' });
  const privateKey = await webcrypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign']);
  const publicKey = await ca.publicKey.export({ name: 'ECDSA', namedCurve: 'P-256' }, ['verify'], webcrypto as never);
  return authority(ca, privateKey, publicKey as unknown as webcrypto.CryptoKey, keyPem);
}

function authority(ca: x509.X509Certificate, caKey: webcrypto.CryptoKey, caPublicKey: webcrypto.CryptoKey, keyPem: string): CertificateAuthority {
  const keys = { privateKey: caKey, publicKey: caPublicKey };
  return {
    certPem: ca.toString('pem'),
    keyPem,
    async issue(options: LeafOptions): Promise<CertificatePair> {
      const leafKeys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
      const names: { type: 'dns' | 'ip' | 'url'; value: string }[] = [
        ...(options.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
        ...(options.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
        ...(options.uris ?? []).map((value) => ({ type: 'url' as const, value })),
      ];
      const eku = options.usages.map((u) => (u === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth));
      const t = Date.now();
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: serial(),
        subject: `CN=${options.commonName}`,
        issuer: ca.subject,
        notBefore: new Date(t - 60_000),
        notAfter: new Date(t + (options.days ?? 90) * DAY),
        signingKey: keys.privateKey,
        publicKey: leafKeys.publicKey,
        signingAlgorithm: ALG,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension(eku, false),
          new x509.SubjectAlternativeNameExtension(names, false),
          await x509.SubjectKeyIdentifierExtension.create(leafKeys.publicKey),
          await x509.AuthorityKeyIdentifierExtension.create(keys.publicKey),
        ],
      });
      return { certPem: cert.toString('pem'), keyPem: await exportKeyPem(leafKeys.privateKey) };
    },
  };
}
