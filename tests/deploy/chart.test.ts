// Deployment checks: Helm lint and render, Kubernetes schema validation of every object, the values schema
// and the chart's own cross-field checks, the drain settings, the callers' identity (SAN list and a CA of
// their own), the security linters on the chart and the kustomize output. checkov has its own file
// (checkov.test.ts), the dashboard and alerts theirs (monitoring.test.ts).
import { describe, expect, it } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KUBE_VERSION, certManagerValues, chart, envOf, findObject, fullValues, minimalValues, objects, podSpec, refusedRender, render as renderWith, repo, run, signerDialsValues, tool, validate, type Obj } from './support.js';

const helm = tool('helm', true);
const kubeScore = tool('kube-score', true);
const kustomize = tool('kustomize', true);
// kube-linter is not served by the Go module proxy reachable here; used whenever it is installed.
const kubeLinter = tool('kube-linter', false);

const render = (...extra: string[]): string => renderWith(helm!, ...extra);
const VALUES: [string, string][] = [
  ['minimal values', minimalValues],
  ['cert-manager values', certManagerValues],
  ['fully-featured values', fullValues],
  ['signer-dials values', signerDialsValues],
];
const workloads = (objs: Obj[]): Obj[] => objs.filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind));
const find = findObject;
const refused = (...args: string[]): string => refusedRender(helm!, ...args);

/** NOTES.txt as `helm install` prints it, rendered through a probe template in a copy of the chart (no cluster). */
function notes(values: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'frost-notes-'));
  cpSync(chart, join(dir, 'frost'), { recursive: true });
  writeFileSync(join(dir, 'frost/templates/zz-notes-probe.yaml'), 'notes: {{ include "frost/templates/NOTES.txt" . | quote }}\n');
  const out = execFileSync(helm!, ['template', 'frost', join(dir, 'frost'), '--namespace', 'frost', '-f', values, '--show-only', 'templates/zz-notes-probe.yaml'], { encoding: 'utf8' });
  rmSync(dir, { recursive: true, force: true });
  return (objects(out)[0] as unknown as { notes: string }).notes;
}

const d = helm ? describe : describe.skip;

d('Helm chart', () => {
  it('helm lint --strict passes with minimal, cert-manager, fully-featured and signer-dials values', () => {
    for (const [, values] of VALUES) {
      const r = run(helm!, ['lint', '--strict', chart, '--kube-version', KUBE_VERSION, '-f', values]);
      expect(r.out).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
      expect(r.status).toBe(0);
    }
  });

  it('plain `helm template` works without --kube-version (no field needs a newer cluster than helm assumes)', () => {
    const r = run(helm!, ['template', 'frost', chart, '-f', minimalValues]);
    expect(r.out).not.toMatch(/kubeVersion|incompatible/);
    expect(r.status).toBe(0);
    expect(objects(r.stdout).some((o) => o.kind === 'Deployment')).toBe(true);
  });

  it.each(VALUES)('renders with %s; every object validates against its schema, carries the recommended labels and the release namespace', async (_n, values) => {
    const objs = objects(render('-f', values));
    expect(objs.length).toBeGreaterThan(10);
    for (const o of objs) {
      await validate(o);
      const id = `${o.kind}/${o.metadata.name}`;
      for (const l of ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/version', 'app.kubernetes.io/managed-by']) {
        expect({ id, label: l, has: Boolean(o.metadata.labels?.[l]) }).toEqual({ id, label: l, has: true });
      }
      // Every object here is namespaced; the dashboard ConfigMap may be placed where Grafana looks.
      const expected = id === 'ConfigMap/frost-dashboard' ? 'monitoring' : 'frost';
      expect({ id, namespace: o.metadata.namespace }).toEqual({ id, namespace: expected });
    }
  });

  it('a broken object is caught by the schema validation (the check can fail)', async () => {
    const deployment = objects(render('-f', minimalValues)).find((o) => o.kind === 'Deployment')!;
    (deployment.spec as { replicas: unknown }).replicas = 'two';
    await expect(validate(deployment)).rejects.toThrow(/replicas must be integer/);
  });

  it('the fully-featured render has every optional object and the hardening everywhere', () => {
    const objs = objects(render('-f', fullValues));
    const kinds = new Set(objs.map((o) => o.kind));
    for (const k of ['HorizontalPodAutoscaler', 'ServiceMonitor', 'PrometheusRule', 'ConfigMap', 'Certificate', 'Issuer', 'NetworkPolicy', 'PodDisruptionBudget', 'Job']) expect(kinds).toContain(k);
    expect(workloads(objs).filter((o) => o.kind === 'StatefulSet')).toHaveLength(5);
    for (const w of workloads(objs)) {
      const pod = podSpec(w);
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(pod.automountServiceAccountToken).toBe(false);
      for (const c of pod.containers) {
        expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
        expect((c.resources as { limits?: unknown }).limits).toBeDefined();
        expect(c.image).toMatch(/@sha256:[0-9a-f]{64}$/);
      }
    }
    // Each signer mounts only its own dealer key Secret and its own KEK Secret.
    const secretsBySigner = objs
      .filter((o) => o.kind === 'StatefulSet')
      .map((o) => (podSpec(o).volumes ?? []).filter((v) => v.name === 'key' || v.name === 'kek').map((v) => v.secret!.secretName));
    expect(secretsBySigner).toEqual([1, 2, 3, 4, 5].map((i) => [`frost-mint-2026-signer-${i}`, i === 1 ? 'mint-signer-1-kek' : `frost-kek-signer-${i}`]));
    // PDBs evict unhealthy pods; the signer PDB keeps a quorum.
    for (const p of objs.filter((o) => o.kind === 'PodDisruptionBudget')) expect((p.spec as { unhealthyPodEvictionPolicy: string }).unhealthyPodEvictionPolicy).toBe('AlwaysAllow');
    expect((find(objs, 'PodDisruptionBudget', 'frost-signers').spec as { minAvailable: number }).minAvailable).toBe(3);
    // cert-manager certificates state their usages explicitly.
    for (const c of objs.filter((o) => o.kind === 'Certificate' && !(o.spec as { isCA?: boolean }).isCA)) {
      expect((c.spec as { usages: string[] }).usages.some((u) => u === 'server auth' || u === 'client auth')).toBe(true);
    }
  });

  it('every value of the services settings reaches its environment variable, as a plain integer where numeric', () => {
    const objs = objects(render('-f', fullValues));
    const coordinator = envOf(podSpec(find(objs, 'Deployment', 'frost-coordinator')).containers[0]!);
    expect(coordinator).toMatchObject({
      COORDINATOR_MAX_BODY_BYTES: '1048576',
      COORDINATOR_MAX_MESSAGE_BYTES: '16384',
      COORDINATOR_BODY_TIMEOUT_MS: '3000',
      COORDINATOR_MAX_IN_FLIGHT_PER_PRINCIPAL: '32',
      COORDINATOR_AUTH_JWT_ISSUER: 'https://issuer.example.com',
      COORDINATOR_AUTH_JWT_MAX_AGE_SECONDS: '120',
      COORDINATOR_AUTH_JWT_REPLAY_CACHE_MAX: '50000',
      COORDINATOR_AUDIT_FILE: '/var/lib/frost/audit/$(POD_NAME).jsonl',
      COORDINATOR_AUDIT_FAIL_CLOSED: 'true',
      COORDINATOR_AUDIT_SYNC: 'true',
    });
    const signer = envOf(podSpec(find(objs, 'StatefulSet', 'frost-signer-1')).containers[0]!);
    expect(signer).toMatchObject({
      SIGNER_BODY_TIMEOUT_MS: '3000',
      SIGNER_REPLAY_CACHE_MAX: '100000',
      SIGNER_AUDIT_FILE: '/var/lib/frost/audit/$(POD_NAME).jsonl',
      SIGNER_AUDIT_FAIL_CLOSED: 'true',
      SIGNER_AUDIT_SYNC: 'false',
    });
    // The audit file names the pod it belongs to: POD_NAME comes from the downward API, before its use.
    for (const w of [find(objs, 'Deployment', 'frost-coordinator'), find(objs, 'StatefulSet', 'frost-signer-1')]) {
      const env = podSpec(w).containers[0]!.env!;
      const pod = env.findIndex((e) => e.name === 'POD_NAME');
      expect(env[pod]!.valueFrom).toEqual({ fieldRef: { fieldPath: 'metadata.name' } });
      expect(pod).toBeLessThan(env.findIndex((e) => /_AUDIT_FILE$/.test(e.name)));
      expect(podSpec(w).volumes).toContainEqual({ name: 'audit', persistentVolumeClaim: { claimName: expect.stringMatching(/audit$/) } });
    }
    // Helm reads numbers as floats: a large one quoted as is becomes "1.048576e+06", which no service parses.
    for (const [, values] of VALUES) {
      for (const w of workloads(objects(render('-f', values)))) {
        for (const [name, value] of Object.entries(envOf(podSpec(w).containers[0]!))) {
          if (/^[-+\d.eE]+$/.test(value)) expect({ name, value }).toEqual({ name, value: expect.stringMatching(/^\d+$/) });
        }
      }
    }
    // Without an audit volume the services keep their audit records in the log stream.
    const minimal = envOf(podSpec(find(objects(render('-f', minimalValues)), 'Deployment', 'frost-coordinator')).containers[0]!);
    expect(minimal).not.toHaveProperty('COORDINATOR_AUDIT_FILE');
    expect(minimal).toMatchObject({ COORDINATOR_MAX_MESSAGE_BYTES: '65536', COORDINATOR_BODY_TIMEOUT_MS: '5000', COORDINATOR_MAX_IN_FLIGHT_PER_PRINCIPAL: '64' });
  });

  it('services drain by themselves: no preStop hook, a shutdown delay, a grace that fits the termination grace period, probes on the ops port', () => {
    for (const [, values] of VALUES) {
      for (const w of workloads(objects(render('-f', values)))) {
        const pod = podSpec(w);
        for (const c of pod.containers) {
          expect({ w: w.metadata.name, lifecycle: c.lifecycle }).toEqual({ w: w.metadata.name, lifecycle: undefined });
          if (w.kind === 'Job') continue;
          const env = envOf(c);
          const prefix = w.kind === 'Deployment' ? 'COORDINATOR' : 'SIGNER';
          const delay = Number(env[`${prefix}_SHUTDOWN_DELAY_MS`]);
          const grace = Number(env[`${prefix}_SHUTDOWN_GRACE_MS`]);
          expect(delay).toBeGreaterThan(0);
          expect(grace).toBeGreaterThanOrEqual(prefix === 'COORDINATOR' ? Number(env.COORDINATOR_SIGN_DEADLINE_MS) : 2000);
          // The kubelet's SIGKILL comes after the delay, the grace and a margin for the process to exit.
          expect(pod.terminationGracePeriodSeconds! * 1000).toBeGreaterThanOrEqual(delay + grace + 5000);
          // /readyz and /openapi.json live on the ops port, not on the public API port.
          const ops = c.ports!.find((p) => p.name === 'ops')!;
          expect(String(ops.containerPort)).toBe(env[`${prefix}_OPS_PORT`]);
          for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
            expect({ probe, get: (c[probe] as { httpGet: unknown }).httpGet }).toEqual({ probe, get: { path: probe === 'readinessProbe' ? '/readyz' : '/healthz', port: 'ops' } });
          }
        }
      }
    }
    const defaults = envOf(podSpec(find(objects(render('-f', minimalValues)), 'Deployment', 'frost-coordinator')).containers[0]!);
    expect(defaults).toMatchObject({ COORDINATOR_SHUTDOWN_DELAY_MS: '5000', COORDINATOR_SHUTDOWN_GRACE_MS: '20000' });
  });

  it('only listed callers, with certificates from a CA of their own, may call /sign (cert-manager creates both CAs)', () => {
    const objs = objects(render('-f', certManagerValues));
    const cas = objs.filter((o) => o.kind === 'Certificate' && (o.spec as { isCA?: boolean }).isCA).map((o) => o.metadata.name);
    expect(cas.sort()).toEqual(['frost-ca', 'frost-callers-ca']);
    const issuerOf = (name: string): string => ((find(objs, 'Certificate', name).spec as { issuerRef: { name: string } }).issuerRef.name);
    // Callers' certificates (the helm test's) come from the callers' CA; everything else from the deployment CA.
    expect(issuerOf('frost-test-client-tls')).toBe('frost-callers-ca');
    for (const name of ['frost-coordinator-tls', 'frost-coordinator-client-tls', 'frost-signer-1-tls']) expect(issuerOf(name)).toBe('frost-ca');
    const pod = podSpec(find(objs, 'Deployment', 'frost-coordinator'));
    const env = envOf(pod.containers[0]!);
    expect(env.COORDINATOR_TLS_CLIENT_CA_FILE).toBe('/etc/frost/client-ca/ca.crt');
    expect(pod.volumes).toContainEqual({ name: 'client-ca', secret: { secretName: 'frost-callers-ca', items: [{ key: 'ca.crt', path: 'ca.crt' }] } });
    expect(env.COORDINATOR_ALLOWED_CLIENT_SANS!.split(',')).toEqual(['DNS:mint-api.frost.svc', 'DNS:frost-test-client']);
    // The test Job checks the server against the deployment CA and presents its callers'-CA certificate.
    const job = podSpec(find(objs, 'Job', 'frost-test-sign'));
    expect(job.containers[0]!.args).toEqual(expect.arrayContaining(['/etc/frost/server-ca/ca.crt', '/etc/frost/tls/tls.crt']));
    expect(job.volumes).toContainEqual({ name: 'server-ca', secret: { secretName: 'frost-coordinator-tls', items: [{ key: 'ca.crt', path: 'ca.crt' }] } });
  });

  it('with the operator\'s callers\' CA, the coordinator trusts it alone and the test client comes from its issuer', () => {
    for (const values of [minimalValues, fullValues]) {
      const objs = objects(render('-f', values));
      const pod = podSpec(find(objs, 'Deployment', 'frost-coordinator'));
      const secret = values === fullValues ? 'mint-clients-ca' : 'frost-callers-ca';
      expect(pod.volumes).toContainEqual({ name: 'client-ca', secret: { secretName: secret, items: [{ key: 'ca.crt', path: 'ca.crt' }] } });
      expect(objs.some((o) => o.kind === 'Certificate' && o.metadata.name === 'frost-callers-ca')).toBe(false);
    }
    const full = objects(render('-f', fullValues));
    expect((find(full, 'Certificate', 'frost-test-client-tls').spec as { issuerRef: unknown }).issuerRef).toEqual({ name: 'mint-clients', kind: 'ClusterIssuer', group: 'cert-manager.io' });
  });

  it('refuses values that would let anyone with a deployment certificate call /sign, or that cannot work', () => {
    const sans = ['--set', 'coordinator.auth.allowedClientSans={DNS:mint-api.frost.svc}'];
    const ca = ['--set', 'coordinator.auth.clientCaSecret=mint-callers-ca'];
    // Pure defaults: nobody is named as a caller.
    expect(refused()).toMatch(/coordinator\.auth\.allowedClientSans is required for auth mode mtls/);
    for (const mode of ['mtls-or-jwt', 'mtls-and-jwt']) {
      expect(refused('--set', `coordinator.auth.mode=${mode}`, ...ca, '--set', 'tests.enabled=false')).toMatch(new RegExp(`allowedClientSans is required for auth mode ${mode}`));
    }
    // No callers' CA: without one the deployment CA would be trusted for callers.
    expect(refused(...sans)).toMatch(/coordinator\.auth\.clientCaSecret is required for auth mode mtls/);
    expect(refused(...sans, '--set', 'certManager.enabled=true', '--set', 'certManager.createIssuer=false', '--set', 'certManager.issuerRef.name=corp-ca')).toMatch(/clientCaSecret is required/);
    // The deployment CA's Secrets are not a callers' CA.
    for (const secret of ['frost-ca', 'frost-coordinator-tls', 'frost-coordinator-client-tls', 'frost-signer-2-tls']) {
      expect(refused(...sans, '--set', `coordinator.auth.clientCaSecret=${secret}`)).toMatch(/must not be .*deployment CA/);
    }
    expect(refused(...ca, '--set', 'coordinator.auth.allowedClientSans={DNS:frost-coordinator-client}')).toMatch(/coordinator's own signer-client certificate/);
    expect(refused(...sans, ...ca, '--set', 'certManager.enabled=true', '--set', 'certManager.callerIssuerRef.name=frost-ca')).toMatch(/callerIssuerRef must not be the deployment CA's issuer/);
    // JWT modes: an issuer is required, and the token keys.
    const jwt = ['--set', 'coordinator.auth.mode=jwt', '--set', 'tests.enabled=false'];
    expect(refused(...jwt, '--set', 'coordinator.auth.jwksConfigMap=callers-jwks')).toMatch(/coordinator\.auth\.jwtIssuer is required for auth mode jwt/);
    expect(refused(...jwt, '--set', 'coordinator.auth.jwtIssuer=https://issuer')).toMatch(/coordinator\.auth\.jwksConfigMap is required/);
    expect(refused(...sans, ...ca, '--set', 'coordinator.auth.mode=mtls-or-jwt', '--set', 'coordinator.auth.jwksConfigMap=callers-jwks')).toMatch(/jwtIssuer is required for auth mode mtls-or-jwt/);
    expect(refused('--set', 'coordinator.auth.mode=jwt', '--set', 'coordinator.auth.jwksConfigMap=j', '--set', 'coordinator.auth.jwtIssuer=i')).toMatch(/tests\.enabled needs auth mode mtls or mtls-or-jwt/);
    // Limits that contradict each other.
    expect(refused(...sans, ...ca, '--set', 'coordinator.maxMessageBytes=131072')).toMatch(/coordinator\.maxMessageBytes \(131072\) must not exceed signer\.policy\.maxMessageBytes \(65536\)/);
    expect(refused(...sans, ...ca, '--set', 'coordinator.maxBodyBytes=4096')).toMatch(/coordinator\.maxBodyBytes \(4096\) must be at least/);
    expect(refused(...sans, ...ca, '--set', 'coordinator.terminationGracePeriodSeconds=12')).toMatch(/coordinator\.terminationGracePeriodSeconds \(12\) must be at least/);
    expect(refused(...sans, ...ca, '--set', 'signer.shutdownDelaySeconds=30')).toMatch(/signer\.terminationGracePeriodSeconds \(30\) must be at least/);
    // An audit trail needs a volume that outlives the pod.
    expect(refused(...sans, ...ca, '--set', 'coordinator.audit.enabled=true')).toMatch(/coordinator\.audit\.volume is required/);
    expect(refused(...sans, ...ca, '--set', 'signer.audit.enabled=true')).toMatch(/signer\.audit\.volume is required/);
    expect(refused(...sans, ...ca, '--set', 'coordinator.audit.failClosed=true')).toMatch(/coordinator\.audit\.failClosed needs coordinator\.audit\.enabled/);
    expect(refused(...sans, ...ca, '--set', 'signer.audit.sync=true')).toMatch(/signer\.audit\.sync needs signer\.audit\.enabled/);
    // The same values with what was missing render (the refusals above are about what they name).
    expect(run(helm!, ['template', 'frost', chart, ...sans, ...ca]).status).toBe(0);
  });

  it('the values schema rejects a wrong type and an unknown (or removed) key', () => {
    const cases: [string[], RegExp][] = [
      [['--set', 'coordinator.replicas=two'], /replicas.*(got string, want integer|integer)/],
      [['--set', 'coordinator.unknownKey=1'], /additional properties 'unknownKey' not allowed/],
      [['--set', 'coordinator.preStopSleepSeconds=5'], /additional properties 'preStopSleepSeconds' not allowed/],
      [['--set', 'signer.policy.mode=yolo'], /mode/],
      [['--set', 'prometheusRule.slo.errorRatio=2'], /errorRatio/],
      [['--set', 'bogus=true'], /additional properties 'bogus' not allowed/],
    ];
    for (const [args, message] of cases) {
      const t = run(helm!, ['template', 'frost', chart, '-f', minimalValues, ...args]);
      expect(t.status).not.toBe(0);
      expect(t.out).toMatch(message);
      const l = run(helm!, ['lint', '--strict', chart, '-f', minimalValues, ...args]);
      expect(l.status).not.toBe(0);
    }
  });

  it('NOTES name the callers\' SANs and CA, and the expected Secrets', () => {
    const cm = notes(certManagerValues);
    expect(cm).toMatch(/naming one of: DNS:mint-api\.frost\.svc\n/);
    expect(cm).toMatch(/issued by the callers' CA: cert-manager Issuer frost-callers-ca in frost/);
    const own = notes(minimalValues);
    expect(own).toMatch(/issued by the callers' CA in Secret frost-callers-ca/);
    expect(own).toMatch(/from the callers' CA frost-test-client-tls \(SAN DNS:frost-test-client\)/);
    expect(notes(fullValues)).toMatch(/or send a bearer JWT .* iss "https:\/\/issuer\.example\.com"/);
  });

  it('NOTES tell how to make the first key, which KEK Secrets to create, and where the JWKS is', () => {
    const own = notes(minimalValues);
    expect(own).toMatch(/Secrets frost-signer-1-kek, frost-signer-2-kek, frost-signer-3-kek \(key `kek`, 32 bytes\)/);
    expect(own).toMatch(/create secret generic frost-signer-1-kek --from-literal=kek="\$\(openssl rand -hex 32\)"/);
    expect(own).toMatch(/the admin API is off: set coordinator\.admin\.allowedClientSans/);
    expect(own).toMatch(/frostctl keys create --key-id default --threshold 2 --url https:\/\/frost-coordinator\.frost\.svc:443/);
    expect(own).toContain('https://frost-coordinator.frost.svc:443/.well-known/jwks.json');
    const cm = notes(certManagerValues);
    expect(cm).toMatch(/Create the first key .*\n {2}frostctl keys create --key-id default --threshold 2 .* --cert operator\.crt/);
    expect(cm).toMatch(/The chart created missing KEK Secrets \(development only\)/);
    // A dealer's key is imported under keyId: the first key exists, further keys get other ids.
    const full = notes(fullValues);
    expect(full).toMatch(/imported into the stores as key "mint-2026" at start/);
    expect(full).toMatch(/Create further keys .*\n {2}frostctl keys create --key-id <new-key-id> --threshold 3/);
  });

  it('k8s/base is the chart rendered with the minimal values (not stale)', () => {
    const r = run(process.execPath, [join(repo, 'scripts/render-k8s-base.mjs'), '--check']);
    expect(r.out).toBe('');
    expect(r.status).toBe(0);
  });
});

const lintTargets = (): [string, string][] => [
  ['chart (minimal values)', render('-f', minimalValues)],
  ['chart (cert-manager values)', render('-f', certManagerValues)],
  ['chart (fully-featured values)', render('-f', fullValues)],
  ['chart (signer-dials values)', render('-f', signerDialsValues)],
  ['kustomize overlays/dev', execFileSync(kustomize!, ['build', join(repo, 'k8s/overlays/dev')], { encoding: 'utf8' })],
];

(helm && kustomize && kubeScore ? describe : describe.skip)('security linters report zero findings', () => {
  it('kustomize renders the dev overlay', () => {
    const objs = objects(execFileSync(kustomize!, ['build', join(repo, 'k8s/overlays/dev')], { encoding: 'utf8' }));
    expect(objs.some((o) => o.kind === 'Deployment' && o.metadata.name === 'frost-coordinator')).toBe(true);
  });

  it('kube-score', () => {
    for (const [name, text] of lintTargets()) {
      const r = spawnSync(kubeScore!, ['score', '-', '--output-format', 'ci'], { input: text, encoding: 'utf8' });
      const findings = r.stdout.split('\n').filter((l) => l && !l.startsWith('[OK]') && !l.startsWith('[SKIPPED]'));
      expect({ name, findings }).toEqual({ name, findings: [] });
      expect(r.status).toBe(0);
    }
  });

  (kubeLinter ? it : it.skip)('kube-linter', () => {
    for (const [name, text] of lintTargets()) {
      const r = spawnSync(kubeLinter!, ['lint', '-'], { input: text, encoding: 'utf8' });
      expect({ name, status: r.status, out: r.status === 0 ? '' : r.stdout + r.stderr }).toEqual({ name, status: 0, out: '' });
    }
  });

  it('kube-score catches a known-bad manifest (the check can fail)', () => {
    const bad = render('-f', minimalValues).replace(/readOnlyRootFilesystem: true/g, 'readOnlyRootFilesystem: false');
    const r = spawnSync(kubeScore!, ['score', '-', '--output-format', 'ci'], { input: bad, encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stdout).toMatch(/writable root filesystem/);
  });
});

it('deployment files exist: Dockerfile with digest-pinned bases and non-root runtime, .dockerignore', () => {
  const dockerfile = readFileSync(join(repo, 'docker/Dockerfile'), 'utf8');
  const bases = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]!).filter((b) => b.includes('/') || b.includes(':'));
  expect(bases.length).toBeGreaterThanOrEqual(3);
  for (const b of bases) expect(b).toMatch(/@sha256:[0-9a-f]{64}$/);
  expect(dockerfile).toMatch(/^USER 65532:65532$/m);
  expect(dockerfile).not.toMatch(/HEALTHCHECK/);
  expect(dockerfile).toMatch(/scripts\/prod-install\.sh/);
  expect(dockerfile).toMatch(/cargo build --release --locked/);
  // The image installs the pnpm the workspace pins.
  const pnpm = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { packageManager: string }).packageManager.split('@')[1];
  expect(dockerfile).toContain(`npm install --global pnpm@${pnpm}`);
  expect(readFileSync(join(repo, '.dockerignore'), 'utf8')).toMatch(/node_modules/);
});

it('the README installs pnpm the way that works on Node 20 here (npm, at the pinned version), not with corepack', () => {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const pnpm = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { packageManager: string }).packageManager.split('@')[1]!;
  expect(readme).toContain(`npm install --global pnpm@${pnpm}`);
  // Node 20's corepack fails its signature check for current pnpm releases.
  expect(readme).not.toMatch(/corepack/i);
  const ci = readFileSync(join(repo, '.ci/run'), 'utf8');
  expect(ci).toMatch(/npm install --global "pnpm@\$PNPM_VERSION"/);
});
