/**
 * The signer's own validation policy: each member checks what it is asked to sign before producing a
 * share, so a compromised coordinator cannot get arbitrary messages signed.
 *
 * - `raw`: any message up to `maxMessageBytes`.
 * - `jws`: the message must be a JWS signing input (RFC 7515 §5.1: ASCII
 *   BASE64URL(protected header) '.' BASE64URL(payload)) whose header is a JSON object with `alg`
 *   EdDSA (or Ed25519, RFC 9864), no `crit` and no unencoded payload (`b64`: false), and whose payload
 *   is a JSON object carrying every required claim.
 * @module
 */
import type { PolicyConfig } from './config.js';

export type PolicyRefusal =
  | 'POLICY_MESSAGE_TOO_LARGE'
  | 'POLICY_EMPTY_MESSAGE'
  | 'POLICY_NOT_JWS'
  | 'POLICY_JWS_HEADER'
  | 'POLICY_JWS_ALG'
  | 'POLICY_JWS_PAYLOAD'
  | 'POLICY_JWS_MISSING_CLAIM';

export type PolicyResult = { ok: true } | { ok: false; code: PolicyRefusal; reason: string };

const B64URL = /^[A-Za-z0-9_-]+$/;
const ALLOWED_ALGS = new Set(['EdDSA', 'Ed25519']);

function jsonObject(segment: string): Record<string, unknown> | undefined {
  if (!B64URL.test(segment) || segment.length % 4 === 1) return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Builds the policy check once from validated config. */
export function createPolicy(config: PolicyConfig): (message: Uint8Array) => PolicyResult {
  const required = [...config.jwsRequiredClaims];
  return (message) => {
    if (message.length > config.maxMessageBytes) {
      return { ok: false, code: 'POLICY_MESSAGE_TOO_LARGE', reason: `message is ${message.length} bytes; the limit is ${config.maxMessageBytes}` };
    }
    if (config.mode === 'raw') return { ok: true };
    if (message.length === 0) return { ok: false, code: 'POLICY_EMPTY_MESSAGE', reason: 'empty message' };
    const text = Buffer.from(message).toString('latin1');
    const parts = text.split('.');
    if (parts.length !== 2 || !B64URL.test(parts[0]!) || !B64URL.test(parts[1]!)) {
      return { ok: false, code: 'POLICY_NOT_JWS', reason: 'message is not a JWS signing input (header.payload, base64url)' };
    }
    const header = jsonObject(parts[0]!);
    if (!header) return { ok: false, code: 'POLICY_JWS_HEADER', reason: 'JWS protected header is not a JSON object' };
    if (typeof header.alg !== 'string' || !ALLOWED_ALGS.has(header.alg)) {
      return { ok: false, code: 'POLICY_JWS_ALG', reason: 'JWS alg must be EdDSA or Ed25519' };
    }
    if ('crit' in header || header.b64 === false) {
      return { ok: false, code: 'POLICY_JWS_HEADER', reason: 'JWS crit and unencoded payloads are not accepted' };
    }
    const payload = jsonObject(parts[1]!);
    if (!payload) return { ok: false, code: 'POLICY_JWS_PAYLOAD', reason: 'JWS payload is not a JSON object' };
    for (const claim of required) {
      if (!(claim in payload)) return { ok: false, code: 'POLICY_JWS_MISSING_CLAIM', reason: `JWS payload lacks required claim "${claim}"` };
    }
    return { ok: true };
  };
}
