// Shared by the deployment checks: where the chart and the tools are, rendering, object validation.
// The tools come from scripts/install-tools.sh (`pnpm test` runs it first); in CI a missing required tool
// fails, locally it skips loudly.
import { expect } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const repo = fileURLToPath(new URL('../../', import.meta.url));
export const chart = join(repo, 'charts/frost');
/** The least an install must state (callers' SANs and CA); the chart's defaults give the rest. */
export const minimalValues = join(chart, 'ci/minimal-values.yaml');
/** cert-manager issues everything, with the chart's own deployment CA and callers' CA. */
export const certManagerValues = join(chart, 'ci/cert-manager-values.yaml');
/** Every optional feature on. */
export const fullValues = join(chart, 'ci/full-values.yaml');
/** Signer-dials mode (the signers connect to every coordinator replica), certificates from cert-manager. */
export const signerDialsValues = join(chart, 'ci/signer-dials-values.yaml');
export const KUBE_VERSION = '1.31.0';

/** A tool from .tools/bin (or the PATH; `path` overrides for tools that live elsewhere in .tools). */
export function tool(name: string, required: boolean, path = join(repo, '.tools/bin', name)): string | undefined {
  if (existsSync(path)) return path;
  const onPath = spawnSync('bash', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
  if (onPath) return onPath;
  if (required && process.env.CI === 'true') throw new Error(`${name} is required in CI: run scripts/install-tools.sh`);
  console.warn(`\n!!! ${name} not found: its deployment checks are SKIPPED (run scripts/install-tools.sh) !!!\n`);
  return undefined;
}

export function run(bin: string, args: string[]): { status: number; out: string; stdout: string } {
  const r = spawnSync(bin, args, { encoding: 'utf8', cwd: repo, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}`, stdout: r.stdout };
}

/** `helm template` of the chart as release "frost" in namespace "frost". */
export function render(helm: string, ...extra: string[]): string {
  return execFileSync(helm, ['template', 'frost', chart, '--namespace', 'frost', '--kube-version', KUBE_VERSION, ...extra], { encoding: 'utf8' });
}

/** Renders with extra values expected to be refused (the test fails if they render); returns helm's message. */
export function refusedRender(helm: string, ...args: string[]): string {
  const t = run(helm, ['template', 'frost', chart, '--namespace', 'frost', ...args]);
  expect({ args, status: t.status === 0 ? 'rendered' : 'refused' }).toEqual({ args, status: 'refused' });
  return t.out;
}

/** The object of `kind` named `name` in a render; throws when there is none. */
export function findObject(objs: Obj[], kind: string, name: string): Obj {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind}/${name} in the render`);
  return o;
}

export type Obj = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
};

/**
 * The objects of a multi-document YAML text, read as Kubernetes reads it: YAML 1.1, where `0400` is an octal
 * file mode (256), not the decimal 400 of YAML 1.2.
 */
export function objects(yamlText: string): Obj[] {
  return parseAllDocuments(yamlText, { version: '1.1' })
    .map((d) => d.toJS() as Obj)
    .filter(Boolean);
}

/** Validates one object against the Kubernetes (or CRD) JSON schema shipped with kubernetes-models. */
export async function validate(o: Obj): Promise<void> {
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
  const pkg = group === 'cert-manager.io' ? '@kubernetes-models/cert-manager' : group === 'monitoring.coreos.com' ? '@kubernetes-models/prometheus-operator' : 'kubernetes-models';
  const mod = (await import(`${pkg}/${group ? `${group}/` : ''}${version}`)) as Record<string, new (o: unknown) => { validate(): void }>;
  const Model = mod[o.kind];
  if (!Model) throw new Error(`no schema for ${o.apiVersion} ${o.kind}`);
  new Model(o).validate();
}

export type Container = {
  name: string;
  image: string;
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  ports?: { name: string; containerPort: number }[];
  lifecycle?: unknown;
  [probe: string]: unknown;
};
export type PodSpec = { containers: Container[]; volumes?: { name: string; secret?: { secretName: string; items?: { key: string }[] } }[]; terminationGracePeriodSeconds?: number; [k: string]: unknown };

export function podSpec(o: Obj): PodSpec {
  return (o.spec as { template: { spec: PodSpec } }).template.spec;
}

/** A container's env as a map (plain values only). */
export function envOf(c: Container): Record<string, string> {
  return Object.fromEntries((c.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
}
