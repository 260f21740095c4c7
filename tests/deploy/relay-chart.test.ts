// Deployment checks of the optional relay (relay.enabled): renders that validate against the Kubernetes and
// CRD schemas, hardening, every value reaching its variable, the cross-field refusals, the objects it
// brings (Deployment, Service, Ingress, NetworkPolicy, PDB, Certificate) and the linters (kube-score,
// checkov) with zero findings. Off by default, so the other renders (and k8s/base) are unchanged.
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KUBE_VERSION, chart, envOf, findObject, minimalValues, objects, podSpec, refusedRender, render as renderWith, repo, run, tool, validate, type Obj } from './support.js';

const helm = tool('helm', true);
const kubeScore = tool('kube-score', true);
const checkov = tool('checkov', true, join(repo, '.tools/checkov/bin/checkov'));
const relayValues = join(chart, 'ci/relay-values.yaml');
const render = (...extra: string[]): string => renderWith(helm!, ...extra);
/** The minimal install plus a relay in memory with a certificate Secret of the operator's. */
const MEMORY_RELAY = ['-f', minimalValues, '--set', 'relay.enabled=true', '--set', 'relay.tls.secretName=relay-tls'];
const relayObjects = (objs: Obj[]) => objs.filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'relay');
const find = findObject;
const refused = (...args: string[]): string => refusedRender(helm!, ...args);

(helm ? describe : describe.skip)('relay in the Helm chart', () => {
  it('is off by default: the minimal render has no relay object', () => {
    expect(relayObjects(objects(render('-f', minimalValues)))).toEqual([]);
  });

  it('renders, lints and validates with the relay on (memory; and Redis with replicas, ingress, cert-manager)', async () => {
    for (const args of [MEMORY_RELAY, ['-f', relayValues]]) {
      const r = run(helm!, ['lint', '--strict', chart, '--kube-version', KUBE_VERSION, ...args]);
      expect(r.out).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
      const objs = objects(render(...args));
      for (const o of objs) await validate(o);
      for (const o of relayObjects(objs)) expect(o.metadata.namespace).toBe('frost');
    }
    const kinds = relayObjects(objects(render('-f', relayValues))).map((o) => o.kind).sort();
    expect(kinds).toEqual(['Certificate', 'Deployment', 'Ingress', 'NetworkPolicy', 'PodDisruptionBudget', 'Service', 'ServiceAccount']);
  });

  it('the memory store\'s one pod is a StatefulSet\'s (never two at once, which would split the sessions); Redis replicas roll and spread', () => {
    const memoryObjs = objects(render(...MEMORY_RELAY));
    const memory = find(memoryObjs, 'StatefulSet', 'frost-relay');
    expect(memory.spec).toMatchObject({ replicas: 1, serviceName: 'frost-relay-headless', updateStrategy: { type: 'RollingUpdate' } });
    expect((find(memoryObjs, 'Service', 'frost-relay-headless').spec as { clusterIP: string }).clusterIP).toBe('None');
    expect(relayObjects(memoryObjs).some((o) => o.kind === 'PodDisruptionBudget' || o.kind === 'Deployment')).toBe(false);
    const objs = objects(render('-f', relayValues));
    const redis = find(objs, 'Deployment', 'frost-relay');
    expect(redis.spec).toMatchObject({ replicas: 3, strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0 } } });
    expect(podSpec(redis).affinity).toBeDefined();
    expect((find(objs, 'PodDisruptionBudget', 'frost-relay').spec as { maxUnavailable: number }).maxUnavailable).toBe(1);
  });

  it('hardened like the other services, probes on the ops port, its certificate mounted read-only', () => {
    const pod = podSpec(find(objects(render('-f', relayValues)), 'Deployment', 'frost-relay'));
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.serviceAccountName).toBe('frost-relay');
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    const c = pod.containers[0]!;
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(c.image).toBe('registry.example.com/hoarfrost/relay:0.1.0@sha256:' + '1'.repeat(64));
    expect((c.readinessProbe as { httpGet: unknown }).httpGet).toEqual({ path: '/readyz', port: 'ops' });
    expect(pod.volumes).toContainEqual({ name: 'tls', secret: { secretName: 'frost-relay-tls', defaultMode: expect.any(Number), items: [{ key: 'tls.crt', path: 'tls.crt' }, { key: 'tls.key', path: 'tls.key' }] } });
  });

  it('every relay value reaches its environment variable; the store address (it may hold a password) is a mounted Secret file', () => {
    const pod = podSpec(find(objects(render('-f', relayValues)), 'Deployment', 'frost-relay'));
    const c = pod.containers[0]!;
    expect(envOf(c)).toMatchObject({
      RELAY_PORT: '2744',
      RELAY_OPS_PORT: '9090',
      RELAY_STORE: 'redis',
      RELAY_REDIS_KEY_PREFIX: 'mint:',
      RELAY_MAX_MESSAGE_BYTES: '65535',
      RELAY_MAX_SESSIONS: '20000',
      RELAY_MAX_SESSION_QUEUE_BYTES: '16777216',
      RELAY_MAX_QUEUE_BYTES: '536870912',
      RELAY_MAX_WAIT_MS: '25000',
      RELAY_RATE_CHALLENGE_PER_MINUTE: '60',
      RELAY_RATE_CREATE_SESSION_PER_MINUTE: '10',
      RELAY_RATE_OTHER_PER_MINUTE: '240',
      RELAY_CONCURRENT_PER_ADDRESS: '10',
      RELAY_SHUTDOWN_DELAY_MS: '8000',
      RELAY_SHUTDOWN_GRACE_MS: '17000',
    });
    expect(envOf(c).RELAY_REDIS_URL_FILE).toBe('/etc/frost/redis/url');
    expect(c.env!.some((e) => e.name === 'RELAY_REDIS_URL')).toBe(false);
    expect(pod.volumes).toContainEqual({ name: 'redis', secret: { secretName: 'frost-relay-valkey', defaultMode: expect.any(Number), items: [{ key: 'url', path: 'url' }] } });
    // Without a Secret, the address (no password) is a plain variable.
    const plain = podSpec(find(objects(render(...MEMORY_RELAY, '--set', 'relay.store.kind=redis', '--set', 'relay.store.redis.url=redis://valkey:6379')), 'Deployment', 'frost-relay'));
    expect(envOf(plain.containers[0]!).RELAY_REDIS_URL).toBe('redis://valkey:6379');
    for (const [name, value] of Object.entries(envOf(c))) if (/^[-+\d.eE]+$/.test(value)) expect({ name, value }).toEqual({ name, value: expect.stringMatching(/^\d+$/) });
  });

  it('the certificate names the Service, the ingress host and the extra names; the ingress passes TLS through to the relay', () => {
    const objs = objects(render('-f', relayValues));
    const cert = find(objs, 'Certificate', 'frost-relay-tls').spec as { dnsNames: string[]; usages: string[]; issuerRef: { name: string } };
    expect(cert.dnsNames).toEqual(['frost-relay', 'frost-relay.frost.svc', 'frost-relay.frost.svc.cluster.local', 'frost-relay.example.com', 'relay.frost.example']);
    expect(cert.usages).toEqual(['digital signature', 'server auth']);
    expect(cert.issuerRef.name).toBe('frost-ca');
    const ingress = find(objs, 'Ingress', 'frost-relay');
    expect(ingress.metadata.annotations).toEqual({ 'nginx.ingress.kubernetes.io/ssl-passthrough': 'true' });
    expect(ingress.spec).toMatchObject({ ingressClassName: 'nginx', rules: [{ host: 'frost-relay.example.com', http: { paths: [{ backend: { service: { name: 'frost-relay', port: { name: 'https' } } } }] } }] });
  });

  it('NetworkPolicy: the API open to its clients, ops to scrapers, egress to the store and DNS only; the ServiceMonitor scrapes its Service', () => {
    const objs = objects(render('-f', relayValues));
    const np = find(objs, 'NetworkPolicy', 'frost-relay').spec as { ingress: { from?: unknown; ports: { port: unknown }[] }[]; egress: { to?: unknown; ports: { port: unknown }[] }[] };
    expect(np.ingress[0]).toEqual({ ports: [{ port: 'https', protocol: 'TCP' }] });
    expect(np.ingress[1]!.ports).toEqual([{ port: 'ops', protocol: 'TCP' }]);
    expect(np.egress.map((e) => e.ports.map((p) => p.port))).toEqual([[6379], [53, 53]]);
    expect(np.egress[0]!.to).toEqual([{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'valkey' } } }]);
    const limited = find(objects(render(...MEMORY_RELAY, '--set', 'relay.allowedClients[0].podSelector.matchLabels.app=wallet')), 'NetworkPolicy', 'frost-relay').spec as typeof np;
    expect(limited.ingress[0]!.from).toEqual([{ podSelector: { matchLabels: { app: 'wallet' } } }]);
    expect(limited.egress).toHaveLength(1);
    const svc = find(objs, 'Service', 'frost-relay');
    const monitor = find(objs, 'ServiceMonitor', 'frost').spec as { selector: { matchLabels: Record<string, string> }; endpoints: { port: string }[] };
    for (const [k, v] of Object.entries(monitor.selector.matchLabels)) expect(svc.metadata.labels?.[k]).toBe(v);
    expect((svc.spec as { ports: { name: string }[] }).ports.map((p) => p.name)).toContain(monitor.endpoints[0]!.port);
  });

  it('refuses relay values that cannot work or would leak', () => {
    const base = ['-f', minimalValues, '--set', 'relay.enabled=true'];
    expect(refused(...base)).toMatch(/relay\.tls\.secretName is required without cert-manager/);
    const tls = [...base, '--set', 'relay.tls.secretName=relay-tls'];
    expect(refused(...tls, '--set', 'relay.replicas=2')).toMatch(/relay\.replicas \(2\) > 1 needs relay\.store\.kind=redis/);
    expect(refused(...tls, '--set', 'relay.store.kind=redis')).toMatch(/needs relay\.store\.redis\.url .* or relay\.store\.redis\.existingSecret/);
    expect(refused(...tls, '--set', 'relay.store.kind=redis', '--set', 'relay.store.redis.url=redis://:hunter2@valkey:6379')).toMatch(/must not carry a password/);
    expect(refused(...tls, '--set', 'relay.ingress.enabled=true')).toMatch(/relay\.ingress\.enabled needs relay\.ingress\.host/);
    expect(refused(...tls, '--set', 'relay.terminationGracePeriodSeconds=10')).toMatch(/relay\.terminationGracePeriodSeconds \(10\) must be at least/);
    expect(refused(...tls, '--set', 'relay.store.kind=etcd')).toMatch(/kind/);
    expect(refused(...tls, '--set', 'relay.bogus=1')).toMatch(/additional properties 'bogus' not allowed/);
    // The same values with what was missing render.
    expect(run(helm!, ['template', 'frost', chart, ...tls, '--set', 'relay.store.kind=redis', '--set', 'relay.store.redis.url=redis://valkey:6379', '--set', 'relay.replicas=2']).status).toBe(0);
  });
});

(helm && kubeScore ? describe : describe.skip)('relay renders pass the security linters', () => {
  it('kube-score: zero findings', () => {
    for (const args of [MEMORY_RELAY, ['-f', relayValues]]) {
      const r = spawnSync(kubeScore!, ['score', '-', '--output-format', 'ci'], { input: render(...args), encoding: 'utf8' });
      const findings = r.stdout.split('\n').filter((l) => l && !l.startsWith('[OK]') && !l.startsWith('[SKIPPED]'));
      expect({ args, findings }).toEqual({ args, findings: [] });
    }
  });

  (checkov ? it : it.skip)(
    'checkov: zero findings on the relay objects',
    () => {
      const file = join(mkdtempSync(join(tmpdir(), 'frost-relay-checkov-')), 'relay.yaml');
      writeFileSync(file, render('-f', relayValues));
      const r = run(checkov!, ['-f', file, '--framework', 'kubernetes', '--skip-download', '--output', 'json']);
      const report = JSON.parse(r.stdout) as { results?: { failed_checks: { check_id: string; resource: string }[] }; summary: { passed: number; parsing_errors: number } };
      expect(report.summary.parsing_errors).toBe(0);
      expect(report.summary.passed).toBeGreaterThan(0);
      const findings = (report.results?.failed_checks ?? []).map((f) => `${f.check_id} ${f.resource}`);
      expect(findings).toEqual([]);
    },
    180_000,
  );
});
