/**
 * A complete local deployment on disk: dev CA, TLS certificates for every process, the coordinator's
 * JWT signing key and the signers' JWKS, each signer's sealed key store and its key-encryption key,
 * an operator certificate for the coordinator's admin API, and (unless `dealer: false`) a t-of-n key
 * set made by a trusted dealer, split into per-signer key directories laid out exactly as the
 * services read them (the same layout a Kubernetes Secret mount gives; the signers import it into
 * their sealed stores). Without a dealer the keys are made by the signers (`frostctl keys create`).
 * Development and tests only: the CA key sits next to everything else.
 * @module
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { keyPackageToJson, publicKeyPackageToJson, trustedDealerKeygen } from '@hoarfrost/frost';
import { KEY_PACKAGE_FILE, PUBLIC_KEY_PACKAGE_FILE, publicJwk } from '@hoarfrost/rpc';
import { createCertificateAuthority, loadCertificateAuthority } from './pki.js';

export const COORDINATOR_CLIENT_SAN = 'DNS:frost-coordinator';
export const JWT_ISSUER = 'frost-coordinator';
export const JWT_KID = 'coordinator-1';
/** The SAN of the operator's client certificate: the only one the coordinator's admin API accepts. */
export const OPERATOR_CLIENT_SAN = 'DNS:frost-operator';

export interface DevSigner {
  index: number;
  id: string;
  dir: string;
  certFile: string;
  keyFile: string;
  /** Dealer key directory (imported into the sealed store at start; empty without a dealer). */
  keyDir: string;
  /** The sealed key store: where the signer keeps its key packages, encrypted under its KEK. */
  storeDir: string;
  /** The key-encryption key (32 random bytes, base64), as a Kubernetes Secret would mount it. */
  kekFile: string;
}

export interface DevEnvironment {
  dir: string;
  threshold: number;
  signers: DevSigner[];
  keyId: string;
  /** The deployment CA: every server certificate, and the coordinator's client certificate towards the signers. */
  caFile: string;
  /**
   * The CA of the coordinator's callers, apart from the deployment CA: no certificate a service holds
   * can call /sign.
   */
  callerCaFile: string;
  /** Coordinator's HTTPS server certificate (SAN localhost, 127.0.0.1). */
  coordinatorCertFile: string;
  coordinatorKeyFile: string;
  /** Coordinator's client certificate towards the signers. */
  coordinatorClientCertFile: string;
  coordinatorClientKeyFile: string;
  /** A mint-API client certificate for calling the coordinator (curl --cert). */
  clientCertFile: string;
  clientKeyFile: string;
  jwtKeyFile: string;
  jwksFile: string;
  /** The dealer's public key package (the file exists only when `dealer`). */
  publicKeyPackageFile: string;
  /** Whether a trusted dealer made the first key (`keyId`); otherwise the signers make keys by DKG. */
  dealer: boolean;
  /** The operator's client certificate for the admin API (`frostctl keys`); issued by the caller CA. */
  operatorCertFile: string;
  operatorKeyFile: string;
}

function write(path: string, text: string, mode = 0o644): void {
  writeFileSync(path, text, { mode });
  chmodSync(path, mode);
}

const MANIFEST = 'environment.json';

/** Reads an environment created earlier, or undefined when `dir` holds none. */
export function readDevEnvironment(dir: string): DevEnvironment | undefined {
  const p = join(resolve(dir), MANIFEST);
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as DevEnvironment) : undefined;
}

/** Creates the whole environment under `dir` (which should be empty or absent). */
export async function createDevEnvironment(dir: string, options: { threshold: number; signers: number; keyId?: string; dealer?: boolean }): Promise<DevEnvironment> {
  const root = resolve(dir);
  const dealer = options.dealer ?? true;
  const keyId = options.keyId ?? 'default';
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const ca = await createCertificateAuthority('frost dev CA');
  const p = (name: string) => join(root, name);
  write(p('ca.pem'), ca.certPem);
  write(p('ca-key.pem'), ca.keyPem, 0o600);

  const server = await ca.issue({ commonName: 'frost-coordinator', dnsNames: ['localhost', 'frost-coordinator'], ipAddresses: ['127.0.0.1'], usages: ['server'] });
  write(p('coordinator.pem'), server.certPem);
  write(p('coordinator-key.pem'), server.keyPem, 0o600);
  const coordClient = await ca.issue({ commonName: 'frost-coordinator', dnsNames: ['frost-coordinator'], usages: ['client'] });
  write(p('coordinator-client.pem'), coordClient.certPem);
  write(p('coordinator-client-key.pem'), coordClient.keyPem, 0o600);
  const callerCa = await createCertificateAuthority('frost dev caller CA');
  write(p('caller-ca.pem'), callerCa.certPem);
  write(p('caller-ca-key.pem'), callerCa.keyPem, 0o600);
  const client = await callerCa.issue({ commonName: 'mint-api', dnsNames: ['mint-api'], usages: ['client'] });
  write(p('client.pem'), client.certPem);
  write(p('client-key.pem'), client.keyPem, 0o600);
  const operator = await callerCa.issue({ commonName: 'frost-operator', dnsNames: ['frost-operator'], usages: ['client'] });
  write(p('operator.pem'), operator.certPem);
  write(p('operator-key.pem'), operator.keyPem, 0o600);

  const { privateKey } = generateKeyPairSync('ed25519');
  write(p('coordinator-jwt-key.pem'), privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 0o600);
  write(p('jwks.json'), JSON.stringify({ keys: [publicJwk(privateKey, JWT_KID)] }, null, 2) + '\n');

  const dealt = dealer ? trustedDealerKeygen({ minSigners: options.threshold, maxSigners: options.signers }) : undefined;
  const pkpJson = dealt ? JSON.stringify(publicKeyPackageToJson(dealt.publicKeyPackage), null, 2) + '\n' : '';
  if (dealt) write(p(PUBLIC_KEY_PACKAGE_FILE), pkpJson);
  const keyPackages = dealt ? [...dealt.keyPackages.values()] : [];

  const signers: DevSigner[] = [];
  for (let index = 1; index <= options.signers; index++) {
    const id = `signer-${index}`;
    const sdir = p(id);
    const keyDir = join(sdir, 'keys');
    mkdirSync(keyDir, { recursive: true, mode: 0o700 });
    const kp = keyPackages[index - 1];
    if (kp) {
      mkdirSync(join(keyDir, keyId), { recursive: true, mode: 0o700 });
      write(join(keyDir, keyId, KEY_PACKAGE_FILE), JSON.stringify(keyPackageToJson(kp), null, 2) + '\n', 0o600);
      write(join(keyDir, keyId, PUBLIC_KEY_PACKAGE_FILE), pkpJson);
    }
    const tls = await ca.issue({ commonName: id, dnsNames: [id, 'localhost'], ipAddresses: ['127.0.0.1'], usages: ['server'] });
    write(join(sdir, 'tls.pem'), tls.certPem);
    write(join(sdir, 'tls-key.pem'), tls.keyPem, 0o600);
    const store = sealedStoreOf(sdir);
    signers.push({ index, id, dir: sdir, certFile: join(sdir, 'tls.pem'), keyFile: join(sdir, 'tls-key.pem'), keyDir, ...store });
  }
  const env: DevEnvironment = {
    dir: root,
    threshold: options.threshold,
    signers,
    keyId,
    caFile: p('ca.pem'),
    callerCaFile: p('caller-ca.pem'),
    coordinatorCertFile: p('coordinator.pem'),
    coordinatorKeyFile: p('coordinator-key.pem'),
    coordinatorClientCertFile: p('coordinator-client.pem'),
    coordinatorClientKeyFile: p('coordinator-client-key.pem'),
    clientCertFile: p('client.pem'),
    clientKeyFile: p('client-key.pem'),
    jwtKeyFile: p('coordinator-jwt-key.pem'),
    jwksFile: p('jwks.json'),
    publicKeyPackageFile: p(PUBLIC_KEY_PACKAGE_FILE),
    dealer,
    operatorCertFile: p('operator.pem'),
    operatorKeyFile: p('operator-key.pem'),
  };
  write(p(MANIFEST), JSON.stringify(env, null, 2) + '\n');
  return env;
}

/** A signer's sealed store directory and KEK file under `signerDir`, made when absent. */
function sealedStoreOf(signerDir: string): { storeDir: string; kekFile: string } {
  const storeDir = join(signerDir, 'store');
  const kekFile = join(signerDir, 'kek');
  mkdirSync(storeDir, { recursive: true, mode: 0o700 });
  if (!existsSync(kekFile)) write(kekFile, randomBytes(32).toString('base64') + '\n', 0o600);
  return { storeDir, kekFile };
}

/**
 * Brings an environment made by an earlier version up to date: sealed stores and KEKs for the signers,
 * the operator certificate. Never touches keys or certificates that exist.
 */
export async function upgradeDevEnvironment(env: DevEnvironment): Promise<DevEnvironment> {
  if (env.operatorCertFile && env.signers.every((s) => s.storeDir && s.kekFile)) return env;
  const root = env.dir;
  const p = (name: string) => join(root, name);
  const next: DevEnvironment = { ...env, dealer: env.dealer ?? true, signers: env.signers.map((s) => ({ ...s, ...sealedStoreOf(s.dir) })) };
  if (!env.operatorCertFile) {
    const callerCa = await loadCertificateAuthority(readFileSync(p('caller-ca.pem'), 'utf8'), readFileSync(p('caller-ca-key.pem'), 'utf8'));
    const operator = await callerCa.issue({ commonName: 'frost-operator', dnsNames: ['frost-operator'], usages: ['client'] });
    write(p('operator.pem'), operator.certPem);
    write(p('operator-key.pem'), operator.keyPem, 0o600);
    next.operatorCertFile = p('operator.pem');
    next.operatorKeyFile = p('operator-key.pem');
  }
  write(p(MANIFEST), JSON.stringify(next, null, 2) + '\n');
  return next;
}

/** Environment variables for signer `s` of `env` (ports 0 = any free port). */
export function signerEnv(env: DevEnvironment, s: DevSigner, ports: { rpc: number; ops: number }, extra: Record<string, string> = {}): Record<string, string> {
  return {
    SIGNER_ID: s.id,
    SIGNER_HOST: '127.0.0.1',
    SIGNER_PORT: String(ports.rpc),
    SIGNER_OPS_HOST: '127.0.0.1',
    SIGNER_OPS_PORT: String(ports.ops),
    SIGNER_TLS_CERT_FILE: s.certFile,
    SIGNER_TLS_KEY_FILE: s.keyFile,
    SIGNER_TLS_CLIENT_CA_FILE: env.caFile,
    SIGNER_ALLOWED_CLIENT_SANS: COORDINATOR_CLIENT_SAN,
    SIGNER_JWT_ISSUER: JWT_ISSUER,
    SIGNER_JWT_JWKS_FILE: env.jwksFile,
    SIGNER_KEY_DIR: s.keyDir,
    SIGNER_STORE_DIR: s.storeDir,
    SIGNER_KEK_FILE: s.kekFile,
    SIGNER_DKG_PEERS: env.signers.map((x) => x.id).join(','),
    // Local processes have no load balancer to wait for: stop at once (a test may set a delay).
    SIGNER_SHUTDOWN_DELAY_MS: '0',
    ...extra,
  };
}

/** Environment variables for the coordinator of `env`, talking to `signerUrls` (id → https URL). */
export function coordinatorEnv(env: DevEnvironment, signerUrls: Record<string, string>, ports: { api: number; ops: number }, extra: Record<string, string> = {}): Record<string, string> {
  return {
    COORDINATOR_HOST: '127.0.0.1',
    COORDINATOR_PORT: String(ports.api),
    COORDINATOR_OPS_HOST: '127.0.0.1',
    COORDINATOR_OPS_PORT: String(ports.ops),
    COORDINATOR_TLS_CERT_FILE: env.coordinatorCertFile,
    COORDINATOR_TLS_KEY_FILE: env.coordinatorKeyFile,
    COORDINATOR_TLS_CLIENT_CA_FILE: env.callerCaFile,
    COORDINATOR_AUTH_MODE: 'mtls',
    COORDINATOR_ALLOWED_CLIENT_SANS: 'DNS:mint-api',
    COORDINATOR_SIGNER_CLIENT_CERT_FILE: env.coordinatorClientCertFile,
    COORDINATOR_SIGNER_CLIENT_KEY_FILE: env.coordinatorClientKeyFile,
    COORDINATOR_SIGNER_CA_FILE: env.caFile,
    COORDINATOR_RPC_JWT_KEY_FILE: env.jwtKeyFile,
    COORDINATOR_RPC_JWT_KID: JWT_KID,
    COORDINATOR_RPC_JWT_ISSUER: JWT_ISSUER,
    COORDINATOR_SIGNERS: Object.entries(signerUrls).map(([id, url]) => `${id}=${url}`).join(','),
    ...(env.dealer ? { COORDINATOR_PUBLIC_KEY_PACKAGE_FILE: env.publicKeyPackageFile } : {}),
    COORDINATOR_ADMIN_CLIENT_SANS: OPERATOR_CLIENT_SAN,
    COORDINATOR_KEY_ID: env.keyId,
    // Local processes have no load balancer to wait for: stop at once (a test may set a delay).
    COORDINATOR_SHUTDOWN_DELAY_MS: '0',
    ...extra,
  };
}
