/**
 * The development and test kit (never part of a production install): a dev PKI, a whole local
 * deployment on disk, the services started as real processes, and the local cluster. The light test
 * helpers live in `@hoarfrost/testkit/support` so unit tests need not load any of this.
 * @module
 */
export { createCertificateAuthority, loadCertificateAuthority, type CertificateAuthority, type CertificatePair, type LeafOptions } from './pki.js';
export {
  COORDINATOR_CLIENT_SAN,
  OPERATOR_CLIENT_SAN,
  JWT_ISSUER,
  JWT_KID,
  createDevEnvironment,
  readDevEnvironment,
  upgradeDevEnvironment,
  signerEnv,
  coordinatorEnv,
  type DevEnvironment,
  type DevSigner,
} from './environment.js';
export { readRssBytes, startService, type ServiceProcess } from './process.js';
export { signerMain, coordinatorMain } from './service-mains.js';
export { startCluster, type Cluster, type ClusterOptions } from './cluster.js';
export { startCheatingSigner, type CheatingSigner } from './cheating-signer.js';
export { certificateSans, issueCallerIdentity, type CallerIdentity } from './callers.js';
export { relayMain, issueRelayCertificate, ensureRelayCertificate, relayEnv, startRelay, freePort, findRedisServer, startRedisServer, type RelayTls, type RelayProcess, type RedisServer } from './relay.js';
