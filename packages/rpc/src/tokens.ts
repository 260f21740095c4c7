/**
 * Short-lived EdDSA JWTs that authorize each coordinator → signer RPC. The token binds the issuer
 * (coordinator), the audience (one signer), the RPC path and the SHA-256 of the exact request body;
 * `jti` is single-use. Verification accepts only Ed25519 keys from a pinned JWKS (selected by `kid`).
 * @module
 */
import { createHash, createPrivateKey, createPublicKey, randomBytes, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { InvalidArgumentError, TokenError } from './errors.js';
import { DEFAULT_MAX_REPLAY_ENTRIES, ReplayCache } from './replay-cache.js';

/** The JSON Web Key members this module reads and writes (RFC 7517, RFC 8037 OKP keys). */
export interface Jwk {
  kty?: string;
  crv?: string;
  x?: string;
  d?: string;
  kid?: string;
  alg?: string;
  use?: string;
}

/** A JWK Set (RFC 7517 §5). */
export interface JwkSet {
  keys: Jwk[];
}

/** `typ` header of RPC tokens. */
export const RPC_TOKEN_TYPE = 'frost-rpc+jwt';
/** Upper bound on a token's lifetime (exp − iat) and on how far in the future `exp` may be. */
export const MAX_TOKEN_LIFETIME_SECONDS = 60;

/** base64url(SHA-256(body)): the `bsh` claim. */
export function bodyHash(body: Uint8Array): string {
  return createHash('sha256').update(body).digest('base64url');
}

/** Loads an Ed25519 private key from PEM (PKCS#8) or a private JWK object/string. */
export function loadEd25519PrivateKey(material: string | Jwk): KeyObject {
  const key =
    typeof material === 'string' && material.includes('-----BEGIN')
      ? createPrivateKey(material)
      : createPrivateKey({ key: (typeof material === 'string' ? JSON.parse(material) : material) as Jwk & { kty: string }, format: 'jwk' } as never);
  if (key.asymmetricKeyType !== 'ed25519') throw new InvalidArgumentError('JWT signing key must be an Ed25519 private key');
  return key;
}

/** Public JWK (with kid, alg, use) of an Ed25519 key, for a JWKS file. */
export function publicJwk(key: KeyObject, kid: string): Jwk {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const jwk = pub.export({ format: 'jwk' }) as Jwk;
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, kid, alg: 'EdDSA', use: 'sig' };
}

/** Mints one token per RPC. */
export class RpcTokenSigner {
  readonly #key: KeyObject;
  readonly #kid: string;
  readonly #issuer: string;
  readonly #lifetime: number;
  readonly #header: string;

  constructor(options: { privateKey: KeyObject; kid: string; issuer: string; lifetimeSeconds?: number }) {
    const lifetime = options.lifetimeSeconds ?? 30;
    if (options.privateKey.asymmetricKeyType !== 'ed25519' || options.privateKey.type !== 'private') {
      throw new InvalidArgumentError('RPC token signer needs an Ed25519 private key');
    }
    if (!options.kid) throw new InvalidArgumentError('kid must not be empty');
    if (!options.issuer) throw new InvalidArgumentError('issuer must not be empty');
    if (!Number.isInteger(lifetime) || lifetime < 1 || lifetime > MAX_TOKEN_LIFETIME_SECONDS) {
      throw new InvalidArgumentError(`token lifetime must be between 1 and ${MAX_TOKEN_LIFETIME_SECONDS} seconds`);
    }
    this.#key = options.privateKey;
    this.#kid = options.kid;
    this.#issuer = options.issuer;
    this.#lifetime = lifetime;
    this.#header = Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: RPC_TOKEN_TYPE, kid: options.kid })).toString('base64url');
  }

  /**
   * A token for `audience` authorizing `path` with exactly `body`. Built directly with node:crypto
   * (RFC 7515 compact serialization, RFC 8037 EdDSA), synchronously: jose's WebCrypto path costs a
   * thread-pool hop per token on the hot path (bench/RESULTS.md); jose verifies these tokens in the tests.
   */
  sign(args: { audience: string; path: string; body: Uint8Array }): string {
    const now = Math.floor(Date.now() / 1000);
    const payload = {
      bsh: bodyHash(args.body),
      htu: args.path,
      iss: this.#issuer,
      aud: args.audience,
      iat: now,
      exp: now + this.#lifetime,
      jti: randomBytes(16).toString('base64url'),
    };
    const input = `${this.#header}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
    return `${input}.${nodeSign(null, Buffer.from(input), this.#key).toString('base64url')}`;
  }



  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `RpcTokenSigner { kid: ${this.#kid}, issuer: ${this.#issuer}, key: [redacted] }`;
  }
}

/** Parses a JWKS document and keeps only well-formed Ed25519 public keys with a `kid`. */
export function parseJwks(text: string): JwkSet {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new InvalidArgumentError('JWKS is not valid JSON');
  }
  return checkJwks(doc);
}

/** {@link parseJwks} for an already parsed document. */
function checkJwks(doc: unknown): JwkSet {
  const keys = (doc as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new InvalidArgumentError('JWKS must have a non-empty "keys" array');
  const out: Jwk[] = [];
  for (const k of keys as Jwk[]) {
    if (typeof k !== 'object' || k === null || k.kty !== 'OKP' || k.crv !== 'Ed25519' || typeof k.x !== 'string' || typeof k.kid !== 'string' || !k.kid) {
      throw new InvalidArgumentError('every JWKS key must be an Ed25519 (OKP) public key with a kid');
    }
    if ('d' in k) throw new InvalidArgumentError('JWKS must not contain private keys');
    if (k.alg !== undefined && k.alg !== 'EdDSA' && k.alg !== 'Ed25519') throw new InvalidArgumentError(`JWKS key ${k.kid} has alg ${k.alg}`);
    out.push({ kty: 'OKP', crv: 'Ed25519', x: k.x, kid: k.kid, alg: 'EdDSA' });
  }
  if (new Set(out.map((k) => k.kid)).size !== out.length) throw new InvalidArgumentError('JWKS kids must be unique');
  return { keys: out };
}

/** Verified claims of an RPC token. */
export interface RpcClaims {
  iss: string;
  aud: string;
  jti: string;
  iat: number;
  exp: number;
  kid: string;
}

/**
 * Verifies RPC tokens: EdDSA only, pinned JWKS selected by `kid`, issuer, audience, `typ`, lifetime
 * ≤ 60 s, path and body binding, and single use of `jti` while the token is valid.
 *
 * Synchronous node:crypto verification (RFC 7515 §5.2, RFC 8037): jose's WebCrypto verification
 * takes a libuv thread-pool hop per token, several times slower under load (bench/RESULTS.md).
 * Tokens are still standard JWTs: the tests mint adversarial tokens with jose and check that jose
 * accepts ours. The header is checked before any signature work, so `alg: none`,
 * HS256 with the public key as secret and unknown kids are refused without touching a key.
 */
export class RpcTokenVerifier {
  readonly #keys: ReadonlyMap<string, KeyObject>;
  readonly #issuer: string;
  readonly #audience: string;
  readonly #tolerance: number;
  readonly #seen: ReplayCache;

  /**
   * `maxReplayEntries` caps the ids of live tokens kept for replay detection (default
   * {@link DEFAULT_MAX_REPLAY_ENTRIES}); when they are all taken, new tokens are refused with
   * REPLAY_CACHE_FULL until some expire.
   */
  constructor(options: { jwks: JwkSet; issuer: string; audience: string; clockToleranceSeconds?: number; maxReplayEntries?: number }) {
    if (!options.issuer || !options.audience) throw new InvalidArgumentError('issuer and audience must not be empty');
    const keys = new Map<string, KeyObject>();
    for (const k of checkJwks(options.jwks).keys) {
      keys.set(k.kid!, createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: k.x! }, format: 'jwk' }));
    }
    this.#keys = keys;
    this.#issuer = options.issuer;
    this.#audience = options.audience;
    this.#tolerance = options.clockToleranceSeconds ?? 5;
    this.#seen = new ReplayCache({ maxEntries: options.maxReplayEntries ?? DEFAULT_MAX_REPLAY_ENTRIES });
  }

  /** Verifies `authorization` ("Bearer <jwt>") for `path` and raw `body`; throws TokenError. */
  verify(authorization: string | undefined, args: { path: string; body: Uint8Array }): RpcClaims {
    if (!authorization) throw new TokenError('TOKEN_MISSING', 'Authorization: Bearer token required');
    const m = /^Bearer ([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]*)$/.exec(authorization);
    if (!m || authorization.length > 4096) throw new TokenError('TOKEN_MALFORMED', 'Authorization header is not a Bearer JWT');
    const [, h, p, sig] = m as unknown as [string, string, string, string];
    const header = jsonObject(h);
    if (!header) throw new TokenError('TOKEN_INVALID', 'token header is not a JSON object');
    if (header.alg !== 'EdDSA' && header.alg !== 'Ed25519') throw new TokenError('TOKEN_ALG_NOT_ALLOWED', 'only EdDSA tokens are accepted');
    if (header.typ !== RPC_TOKEN_TYPE) throw new TokenError('TOKEN_WRONG_TYPE', `token typ must be ${RPC_TOKEN_TYPE}`);
    if ('crit' in header || 'b64' in header || 'jku' in header || 'jwk' in header || 'x5u' in header) {
      throw new TokenError('TOKEN_INVALID', 'token header parameters crit, b64, jku, jwk and x5u are not accepted');
    }
    const key = typeof header.kid === 'string' ? this.#keys.get(header.kid) : undefined;
    if (!key) throw new TokenError('TOKEN_UNKNOWN_KEY', 'token key id is not pinned');
    const signature = Buffer.from(sig, 'base64url');
    if (signature.length !== 64 || !nodeVerify(null, Buffer.from(`${h}.${p}`), key, signature)) {
      throw new TokenError('TOKEN_BAD_SIGNATURE', 'token signature is invalid');
    }
    const payload = jsonObject(p);
    if (!payload) throw new TokenError('TOKEN_INVALID', 'token payload is not a JSON object');
    const { iss, aud, iat, exp, jti, bsh, htu, nbf } = payload;
    if (typeof iss !== 'string' || typeof iat !== 'number' || typeof exp !== 'number' || typeof jti !== 'string' || typeof bsh !== 'string' || typeof htu !== 'string') {
      throw new TokenError('TOKEN_CLAIM_INVALID', 'token lacks one of iss, aud, iat, exp, jti, bsh, htu');
    }
    if (iss !== this.#issuer) throw new TokenError('TOKEN_WRONG_ISSUER', 'token has an unexpected issuer');
    const audiences = Array.isArray(aud) ? aud : [aud];
    if (!audiences.includes(this.#audience)) throw new TokenError('TOKEN_WRONG_AUDIENCE', 'token is for another audience');
    const now = Math.floor(Date.now() / 1000);
    const tol = this.#tolerance;
    if (now - tol >= exp || now - iat > MAX_TOKEN_LIFETIME_SECONDS + tol) throw new TokenError('TOKEN_EXPIRED', 'token has expired');
    if (iat > now + tol || (typeof nbf === 'number' && nbf > now + tol)) throw new TokenError('TOKEN_INVALID', 'token is not valid yet');
    if (exp - iat > MAX_TOKEN_LIFETIME_SECONDS || exp - now > MAX_TOKEN_LIFETIME_SECONDS + tol) {
      throw new TokenError('TOKEN_LIFETIME_TOO_LONG', `token lifetime exceeds ${MAX_TOKEN_LIFETIME_SECONDS} s`);
    }
    if (htu !== args.path) throw new TokenError('TOKEN_PATH_MISMATCH', 'token was issued for another RPC');
    if (bsh !== bodyHash(args.body)) throw new TokenError('TOKEN_BODY_MISMATCH', 'request body does not match the token');
    if (jti.length < 16 || jti.length > 128) throw new TokenError('TOKEN_INVALID', 'jti must be 16..128 characters');
    const claim = this.#seen.claim(jti, exp + tol, now);
    if (claim === 'replayed') throw new TokenError('TOKEN_REPLAYED', 'token was already used');
    if (claim === 'full') throw new TokenError('REPLAY_CACHE_FULL', 'too many live tokens; retry later');
    return { iss, aud: this.#audience, jti, iat, exp, kid: header.kid as string };
  }
}

function jsonObject(segment: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

