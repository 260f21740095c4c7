/**
 * The signer RPC: wire messages and the round-2 codec, the documented signer error codes, CBOR, EdDSA
 * RPC tokens and their replay cache, and the coordinator's client for one signer.
 * @module
 */
export { RpcError, InvalidArgumentError, TokenError, WireFormatError, SignerCallError, errorClasses } from './errors.js';
export type { TokenErrorCode, WireFormatErrorCode, CallFailureCode } from './errors.js';
export { encodeCbor, decodeCbor, CBOR_CONTENT_TYPE, MAX_CBOR_DEPTH } from './cbor.js';
export { ReplayCache, DEFAULT_MAX_REPLAY_ENTRIES, type ReplayClaim } from './replay-cache.js';
export {
  RpcTokenSigner,
  RpcTokenVerifier,
  RPC_TOKEN_TYPE,
  MAX_TOKEN_LIFETIME_SECONDS,
  bodyHash,
  loadEd25519PrivateKey,
  parseJwks,
  publicJwk,
  type Jwk,
  type JwkSet,
  type RpcClaims,
} from './tokens.js';
export {
  RPC_PATHS,
  KEY_ID_RE,
  KEY_PACKAGE_FILE,
  PUBLIC_KEY_PACKAGE_FILE,
  SIGNER_ERROR_CODES,
  isSignerErrorCode,
  parseRound1Request,
  parseRound1Response,
  MAX_ROUND1_BATCH,
  parseRound2Request,
  parseRound2Response,
  parseInfoRequest,
  parseInfoResponse,
  encodeRound2Request,
  decodeRound2Request,
  encodeRound2Response,
  decodeRound2Response,
  listedCommitment,
  type SignerErrorCode,
  type SignerErrorKind,
  type SignerErrorBody,
  type CommitmentWire,
  type Round1Request,
  type Round1Response,
  type Round2Request,
  type Round2Response,
  type InfoRequest,
  type InfoResponse,
  type KeyInfoWire,
} from './protocol.js';
export { SignerClient, DEFAULT_MAX_RESPONSE_BYTES, checkSignerIdentity, type SignerClientOptions, type SignerRpc } from './client.js';
