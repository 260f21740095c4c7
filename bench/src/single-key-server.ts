/**
 * The baseline: a single-key Ed25519 HTTPS signing service on the same stack (express + node:crypto),
 * same mTLS setup and request/response shape as the coordinator's /sign. Prints a ready line with its
 * port. Started by bench/src/e2e.ts, which reads its CPU time from GET /cpu.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import express from 'express';

const caFile = process.env.BENCH_CA_FILE!;
const certFile = process.env.BENCH_CERT_FILE!;
const keyFile = process.env.BENCH_KEY_FILE!;
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const publicB64 = (publicKey.export({ format: 'jwk' }) as { x: string }).x;
const app = express();
app.disable('x-powered-by');
app.use(express.json({ limit: '1mb' }));
// The benchmark reads this process's CPU time here (process.cpuUsage, as prom-client's process metrics do for the services).
app.get('/cpu', (_req, res) => void res.json(process.cpuUsage()));
app.post('/sign', (req, res) => {
  const msg = Buffer.from(String((req.body as { msg_b64?: string }).msg_b64 ?? ''), 'base64');
  res.json({ signature_b64: sign(null, msg, privateKey).toString('base64'), group_public_b64: publicB64 });
});
const server = createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile), ca: readFileSync(caFile), requestCert: true, rejectUnauthorized: true, keepAliveTimeout: 65_000 }, app);
server.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ msg: 'single-key ready', port: (server.address() as AddressInfo).port }));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
