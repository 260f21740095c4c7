/**
 * Who sent a key-generation message: the anchor the coordinator does not control. Each signer signs
 * every message it emits with the private key of its TLS certificate (issued by the deployment CA)
 * and sends the certificate along; a receiver accepts the message as participant `i`'s only when the
 * certificate was issued by a CA of its peer bundle and is valid now, carries SAN `DNS:<signer id of
 * i>` exactly, that signer id is on its allowlist of key-generation peers (the coordinator's own
 * certificate, from the same CA, never is), and the signature over the message verifies with the
 * certificate's key. Certificates are accepted as issued directly by a CA of the bundle (the
 * deployment CA issues the signers' certificates; no intermediate is followed).
 * @module
 */
import { X509Certificate, createPrivateKey, sign, verify, type KeyObject } from 'node:crypto';
import { signedData, type KeygenMessageType, type SignedMessage } from '@hoarfrost/rpc';

/** Why a message was not accepted as its claimed sender's. */
export class PeerIdentityError extends Error {
  override name = 'PeerIdentityError';
}

/** The digest a signature uses with this key type: none for EdDSA, SHA-256 for ECDSA and RSA (PKCS #1 v1.5). */
function digestFor(key: KeyObject): string | null {
  switch (key.asymmetricKeyType) {
    case 'ed25519':
    case 'ed448':
      return null;
    case 'ec':
    case 'rsa':
      return 'sha256';
    default:
      throw new PeerIdentityError(`certificate key type ${key.asymmetricKeyType ?? 'unknown'} is not accepted (Ed25519, Ed448, ECDSA or RSA)`);
  }
}

/** Splits a PEM bundle into its certificates. */
export function parseCertificateBundle(pems: readonly string[]): X509Certificate[] {
  const out: X509Certificate[] = [];
  for (const pem of pems) {
    const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    for (const block of blocks) out.push(new X509Certificate(block));
  }
  return out;
}

/** Signs this signer's messages with the key of its TLS certificate. */
export class MessageSigner {
  readonly #key: KeyObject;
  readonly #digest: string | null;
  /** The certificate (DER) sent with every message. */
  readonly certDer: Uint8Array;

  /** Throws when the key is not the certificate's or of a type peers cannot verify. */
  constructor(certDer: Uint8Array, keyPem: string) {
    const cert = new X509Certificate(certDer);
    this.#key = createPrivateKey(keyPem);
    this.#digest = digestFor(cert.publicKey);
    if (!cert.checkPrivateKey(this.#key)) throw new PeerIdentityError('the signing key is not the key of the certificate');
    this.certDer = new Uint8Array(cert.raw);
  }

  /** The signed message carrying `body` of `type`. */
  sign(type: KeygenMessageType, body: Uint8Array): SignedMessage {
    return { body, cert: this.certDer, sig: new Uint8Array(sign(this.#digest, signedData(type, body), this.#key)) };
  }
}

export interface PeerVerifierOptions {
  /** PEM texts of the peer CA bundle (each may hold several certificates). */
  caPems: readonly string[];
  /** Signer ids allowed to take part in key generation. */
  allowedPeers: readonly string[];
  /** Milliseconds since the epoch (tests). */
  clock?: () => number;
}

interface CheckedCertificate {
  publicKey: KeyObject;
  sans: readonly string[];
  notBefore: number;
  notAfter: number;
}

/** Checks that a signed message comes from the signer it claims to come from. */
export class PeerVerifier {
  readonly #cas: X509Certificate[];
  readonly #allowed: ReadonlySet<string>;
  readonly #clock: () => number;
  /** Certificates whose chain was checked, by DER (a run sees each peer's certificate many times). */
  readonly #checked = new Map<string, CheckedCertificate>();

  constructor(options: PeerVerifierOptions) {
    this.#cas = parseCertificateBundle(options.caPems).filter((c) => c.ca);
    if (this.#cas.length === 0) throw new PeerIdentityError('the peer CA bundle holds no CA certificate');
    this.#allowed = new Set(options.allowedPeers);
    this.#clock = options.clock ?? Date.now;
  }

  /** Is `signerId` allowed to take part in key generation? */
  isAllowed(signerId: string): boolean {
    return this.#allowed.has(signerId);
  }

  /**
   * Throws PeerIdentityError unless `message` is signed by `signerId` (allowed, certificate from a
   * peer CA, valid now, SAN `DNS:<signerId>`, signature over `type` and the body).
   */
  verify(message: SignedMessage, signerId: string, type: KeygenMessageType): void {
    if (!this.#allowed.has(signerId)) throw new PeerIdentityError(`signer ${signerId} is not a key-generation peer`);
    const cert = this.#certificate(message.cert);
    const now = this.#clock();
    if (now < cert.notBefore || now > cert.notAfter) throw new PeerIdentityError('the certificate is not valid now');
    if (!cert.sans.includes(`DNS:${signerId}`)) throw new PeerIdentityError(`the certificate does not name ${signerId}`);
    let ok = false;
    try {
      ok = verify(digestFor(cert.publicKey), signedData(type, message.body), cert.publicKey, message.sig);
    } catch {
      ok = false;
    }
    if (!ok) throw new PeerIdentityError('the signature does not verify');
  }

  #certificate(der: Uint8Array): CheckedCertificate {
    const id = Buffer.from(der).toString('base64');
    const hit = this.#checked.get(id);
    if (hit) return hit;
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(der);
    } catch {
      throw new PeerIdentityError('the certificate does not parse');
    }
    if (cert.ca) throw new PeerIdentityError('a CA certificate cannot sign key-generation messages');
    const issuer = this.#cas.find((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey));
    if (!issuer) throw new PeerIdentityError('the certificate is not issued by a peer CA');
    const checked: CheckedCertificate = {
      publicKey: cert.publicKey,
      sans: (cert.subjectAltName ?? '').split(/,\s*/).map((s) => s.trim()),
      notBefore: Date.parse(cert.validFrom),
      notAfter: Date.parse(cert.validTo),
    };
    if (this.#checked.size >= 256) this.#checked.clear();
    this.#checked.set(id, checked);
    return checked;
  }
}
