/**
 * Transport for the FROST signing service.
 * @module
 */
export * from './errors.js';
export { encodeCbor, decodeCbor, CBOR_CONTENT_TYPE } from './cbor.js';
export {
  RpcTokenSigner,
  RpcTokenVerifier,
  RPC_TOKEN_TYPE,
  MAX_TOKEN_LIFETIME_SECONDS,
  bodyHash,
  loadEd25519PrivateKey,
  parseJwks,
  publicJwk,
  type RpcClaims,
} from './jwt.js';
export { createCertificateAuthority, loadCertificateAuthority, type CertificateAuthority, type CertificatePair, type LeafOptions } from './pki.js';
export { createLogger, REDACT_PATHS, type Logger } from './logger.js';
export { mtlsServerOptions, assertClientIdentity, subjectAltNames, sanMatches, readTlsFiles, type TlsFiles } from './tls.js';
export { createOpsServer, type OpsOptions } from './ops.js';
export * from './rpc-protocol.js';
export { SignerClient, type SignerClientOptions } from './rpc-client.js';
export { EnvReader, ConfigError, type Env } from './env.js';
export { listen, trackInFlight, drain, closeServer, runUntilSignal } from './lifecycle.js';
export { readBody } from './http-body.js';
