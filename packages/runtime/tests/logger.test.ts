import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { REDACT_PATHS, createLogger } from '../src/logger.js';

/** A destination stream that keeps every chunk pino writes. */
function sink() {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return {
    stream,
    text: () => chunks.join(''),
    records: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('createLogger', () => {
  it('writes one JSON record per line with the service name, a label level and an ISO time', () => {
    const out = sink();
    const logger = createLogger('signer', 'info', out.stream);
    logger.info({ keyId: 'default' }, 'ready');
    logger.warn('slow');
    const [a, b] = out.records();
    expect(a).toMatchObject({ level: 'info', service: 'signer', keyId: 'default', msg: 'ready' });
    expect(b).toMatchObject({ level: 'warn', msg: 'slow' });
    expect(new Date(a!.time as string).toISOString()).toBe(a!.time);
    expect(out.records()).toHaveLength(2);
  });

  it('drops records below the level', () => {
    const out = sink();
    const logger = createLogger('coordinator', 'warn', out.stream);
    logger.info('hidden');
    logger.debug('hidden');
    logger.error('shown');
    expect(out.records().map((r) => r.msg)).toEqual(['shown']);
    const silent = sink();
    createLogger('coordinator', 'silent', silent.stream).fatal('nothing');
    expect(silent.text()).toBe('');
  });

  it('censors secrets under every redact path and keeps the rest', () => {
    const out = sink();
    const logger = createLogger('signer', 'info', out.stream);
    logger.info(
      {
        signingShare: 'SECRET-share-1',
        signing_share: 'SECRET-share-2',
        keyPackage: { signingShare: 'SECRET-share-3', signing_share: 'SECRET-share-4', identifier: '01' },
        nonces: 'SECRET-nonces-1',
        round: { nonces: 'SECRET-nonces-2', count: 3 },
        secret: 'SECRET-s1',
        config: { secret: 'SECRET-s2', auth: { secret: 'SECRET-s3' } },
        privateKey: 'SECRET-pk1',
        jwt: { privateKey: 'SECRET-pk2' },
        authorization: 'Bearer SECRET-auth-1',
        call: { authorization: 'Bearer SECRET-auth-2' },
        req: { method: 'POST', headers: { authorization: 'Bearer SECRET-auth-3', 'content-type': 'application/cbor' } },
        headers: { authorization: 'Bearer SECRET-auth-4' },
        token: 'SECRET-token-1',
        rpc: { token: 'SECRET-token-2' },
      },
      'with secrets',
    );
    const text = out.text();
    expect(text).not.toMatch(/SECRET-/);
    const [r] = out.records();
    const R = '[redacted]';
    expect(r).toMatchObject({
      signingShare: R,
      signing_share: R,
      keyPackage: { signingShare: R, signing_share: R, identifier: '01' },
      nonces: R,
      round: { nonces: R, count: 3 },
      secret: R,
      config: { secret: R, auth: { secret: R } },
      privateKey: R,
      jwt: { privateKey: R },
      authorization: R,
      call: { authorization: R },
      req: { method: 'POST', headers: { authorization: R, 'content-type': 'application/cbor' } },
      headers: { authorization: R },
      token: R,
      rpc: { token: R },
      msg: 'with secrets',
    });
  });

  it('censors credentials nested deeper than one level (request headers, tokens, secrets in sub-objects)', () => {
    const out = sink();
    const log = createLogger('t', 'info', out.stream);
    log.info({ request: { headers: { authorization: 'Bearer abc' } }, x: { y: { token: 'tok' } }, a: { b: { c: { secret: 's3' } } } }, 'deep');
    const text = out.text();
    for (const leaked of ['Bearer abc', 'tok"', 's3']) expect(text).not.toContain(leaked);
  });

  it('censors secrets in the bindings of child loggers', () => {
    const out = sink();
    createLogger('signer', 'info', out.stream).child({ token: 'SECRET-child' }).info('x');
    expect(out.text()).not.toContain('SECRET-child');
    expect(out.records()[0]).toMatchObject({ token: '[redacted]', msg: 'x' });
  });

  it('the redact list names the credentials the services handle', () => {
    for (const p of ['signingShare', 'nonces', 'authorization', 'req.headers.authorization', 'token', '*.secret', '*.*.secret', 'privateKey']) {
      expect(REDACT_PATHS).toContain(p);
    }
  });
});
