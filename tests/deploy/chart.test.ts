// Deployment checks: Helm lint and render, Kubernetes schema validation of every object, the security
// linters on the chart and the kustomize output, and the values schema. The Go tools come from
// scripts/install-tools.sh (`pnpm test` runs it first); in CI a missing tool fails, locally it skips loudly.
import { describe, expect, it } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const chart = join(repo, 'charts/frost');
const fullValues = join(chart, 'ci/full-values.yaml');
const KUBE_VERSION = '1.31.0';

function tool(name: string, required: boolean): string | undefined {
  const local = join(repo, '.tools/bin', name);
  if (existsSync(local)) return local;
  const onPath = spawnSync('bash', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
  if (onPath) return onPath;
  if (required && process.env.CI === 'true') throw new Error(`${name} is required in CI: run scripts/install-tools.sh`);
  console.warn(`\n!!! ${name} not found: its deployment checks are SKIPPED (run scripts/install-tools.sh) !!!\n`);
  return undefined;
}

const helm = tool('helm', true);
const kubeScore = tool('kube-score', true);
const kustomize = tool('kustomize', true);
// kube-linter is not served by the Go module proxy reachable here; used whenever it is installed.
const kubeLinter = tool('kube-linter', false);

function run(bin: string, args: string[]): { status: number; out: string } {
  const r = spawnSync(bin, args, { encoding: 'utf8', cwd: repo });
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

function render(...extra: string[]): string {
  return execFileSync(helm!, ['template', 'frost', chart, '--namespace', 'frost', '--kube-version', KUBE_VERSION, ...extra], { encoding: 'utf8' });
}

type Obj = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; spec?: Record<string, unknown> };
function objects(yamlText: string): Obj[] {
  return parseAllDocuments(yamlText).map((d) => d.toJS() as Obj).filter(Boolean);
}

/** Validates one object against the Kubernetes (or CRD) JSON schema shipped with kubernetes-models. */
async function validate(o: Obj): Promise<void> {
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
  const pkg = group === 'cert-manager.io' ? '@kubernetes-models/cert-manager' : group === 'monitoring.coreos.com' ? '@kubernetes-models/prometheus-operator' : 'kubernetes-models';
  const mod = (await import(`${pkg}/${group ? `${group}/` : ''}${version}`)) as Record<string, new (o: unknown) => { validate(): void }>;
  const Model = mod[o.kind];
  if (!Model) throw new Error(`no schema for ${o.apiVersion} ${o.kind}`);
  new Model(o).validate();
}

const d = helm ? describe : describe.skip;

d('Helm chart', () => {
  it('helm lint --strict passes with default and fully-featured values', () => {
    for (const extra of [[], ['-f', fullValues]]) {
      const r = run(helm!, ['lint', '--strict', chart, '--kube-version', KUBE_VERSION, ...extra]);
      expect(r.out).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
      expect(r.status).toBe(0);
    }
  });

  it.each([
    ['default values', [] as string[]],
    ['fully-featured values', ['-f', fullValues]],
  ])('renders with %s; every object validates against its schema and carries the recommended labels', async (_n, extra) => {
    const objs = objects(render(...extra));
    expect(objs.length).toBeGreaterThan(10);
    for (const o of objs) {
      await validate(o);
      for (const l of ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/version', 'app.kubernetes.io/managed-by']) {
        expect({ obj: `${o.kind}/${o.metadata.name}`, has: Boolean(o.metadata.labels?.[l]) }).toEqual({ obj: `${o.kind}/${o.metadata.name}`, has: true });
      }
    }
  });

  it('a broken object is caught by the schema validation (the check can fail)', async () => {
    const deployment = objects(render()).find((o) => o.kind === 'Deployment')!;
    (deployment.spec as { replicas: unknown }).replicas = 'two';
    await expect(validate(deployment)).rejects.toThrow(/replicas must be integer/);
  });

  it('the fully-featured render has every optional object and the hardening everywhere', () => {
    const objs = objects(render('-f', fullValues));
    const kinds = new Set(objs.map((o) => o.kind));
    for (const k of ['HorizontalPodAutoscaler', 'ServiceMonitor', 'Certificate', 'Issuer', 'NetworkPolicy', 'PodDisruptionBudget', 'Job']) expect(kinds).toContain(k);
    const workloads = objs.filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind));
    expect(workloads.filter((o) => o.kind === 'StatefulSet')).toHaveLength(5);
    for (const w of workloads) {
      const pod = (w.spec as { template: { spec: Record<string, any> } }).template.spec;
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(pod.automountServiceAccountToken).toBe(false);
      for (const c of pod.containers) {
        expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
        expect(c.resources.limits).toBeDefined();
        expect(c.image).toMatch(/@sha256:[0-9a-f]{64}$/);
      }
    }
    // Each signer mounts only its own key Secret.
    const secretsBySigner = objs
      .filter((o) => o.kind === 'StatefulSet')
      .map((o) => ((o.spec as any).template.spec.volumes as { secret?: { secretName: string } }[]).filter((v) => v.secret && /keys|signer-\d$/.test(v.secret.secretName)).map((v) => v.secret!.secretName));
    expect(secretsBySigner).toEqual([1, 2, 3, 4, 5].map((i) => [`frost-mint-2026-signer-${i}`]));
    // PDBs evict unhealthy pods; the signer PDB keeps a quorum.
    for (const p of objs.filter((o) => o.kind === 'PodDisruptionBudget')) expect((p.spec as any).unhealthyPodEvictionPolicy).toBe('AlwaysAllow');
    expect((objs.find((o) => o.kind === 'PodDisruptionBudget' && o.metadata.name === 'frost-signers')!.spec as any).minAvailable).toBe(3);
    // cert-manager certificates state their usages explicitly.
    for (const c of objs.filter((o) => o.kind === 'Certificate' && !(o.spec as any).isCA)) {
      expect((c.spec as any).usages.some((u: string) => u === 'server auth' || u === 'client auth')).toBe(true);
    }
  });

  it('the values schema rejects a wrong type and an unknown key', () => {
    const cases: [string[], RegExp][] = [
      [['--set', 'coordinator.replicas=two'], /replicas.*(got string, want integer|integer)/],
      [['--set', 'coordinator.unknownKey=1'], /additional properties 'unknownKey' not allowed/],
      [['--set', 'signer.policy.mode=yolo'], /mode/],
      [['--set', 'bogus=true'], /additional properties 'bogus' not allowed/],
    ];
    for (const [args, message] of cases) {
      const t = run(helm!, ['template', 'frost', chart, '--kube-version', KUBE_VERSION, ...args]);
      expect(t.status).not.toBe(0);
      expect(t.out).toMatch(message);
      const l = run(helm!, ['lint', '--strict', chart, '--kube-version', KUBE_VERSION, ...args]);
      expect(l.status).not.toBe(0);
    }
  });

  it('k8s/base is the chart rendered with default values (not stale)', () => {
    const r = run(process.execPath, [join(repo, 'scripts/render-k8s-base.mjs'), '--check']);
    expect(r.out).toBe('');
    expect(r.status).toBe(0);
  });
});

const lintTargets = (): [string, string][] => [
  ['chart (default values)', render()],
  ['chart (fully-featured values)', render('-f', fullValues)],
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
    const bad = render().replace(/readOnlyRootFilesystem: true/g, 'readOnlyRootFilesystem: false');
    const r = spawnSync(kubeScore!, ['score', '-', '--output-format', 'ci'], { input: bad, encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stdout).toMatch(/writable root filesystem/);
  });
});

it('deployment files exist: Dockerfile with digest-pinned bases and non-root runtime, .dockerignore', () => {
  const dockerfile = readFileSync(join(repo, 'docker/Dockerfile'), 'utf8');
  for (const m of dockerfile.matchAll(/^ARG \w+_IMAGE=(.+)$/gm)) expect(m[1]).toMatch(/@sha256:[0-9a-f]{64}$/);
  expect(dockerfile).toMatch(/^USER 65532:65532$/m);
  expect(dockerfile).not.toMatch(/HEALTHCHECK/);
  expect(dockerfile).toMatch(/scripts\/prod-install\.sh/);
  expect(dockerfile).toMatch(/cargo build --release --locked/);
  expect(readFileSync(join(repo, '.dockerignore'), 'utf8')).toMatch(/node_modules/);
});
