/**
 * The signer RPC: wire messages and the round-2 codec, the documented signer error codes, CBOR, EdDSA
 * RPC tokens and their replay cache, the persistent channel (frames, both ends) and the coordinator's
 * client for one signer.
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
  CHANNEL_PATH,
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
  parseRound2BatchRequest,
  parseRound2BatchResponse,
  isRound2Refusal,
  MAX_ROUND2_BATCH,
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
  type Round2BatchRequest,
  type Round2BatchResponse,
  type Round2Outcome,
  type Round2Refusal,
  type InfoRequest,
  type InfoResponse,
  type KeyInfoWire,
} from './protocol.js';
export {
  CHANNEL_PROTOCOL,
  MAX_REQUEST_FRAME_OVERHEAD,
  decodeFrame,
  encodeAnswerFrame,
  encodeRequestFrame,
  type AnswerFrame,
  type RequestFrame,
} from './frames.js';
export { SignerChannel, ChannelUnsupportedError, InboundChannels, type ChannelAnswer, type ChannelOptions, type ChannelState } from './channel.js';
export { ChannelServer, type ChannelServerOptions, type ChannelDialOptions } from './channel-server.js';
export {
  SignerClient,
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_MAX_BATCH_ITEMS,
  checkSignerIdentity,
  type SignerClientOptions,
  type SignerRpc,
  type SignerTransport,
} from './client.js';
