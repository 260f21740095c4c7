// The chart's Grafana dashboard and PrometheusRule speak of the metrics the services register, by their
// exact names: every name they use is looked up in the registries of the built services, so a renamed or
// removed metric fails here instead of leaving a silent panel or an alert that can never fire.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chart, fullValues, minimalValues, objects, render as renderWith, repo, tool, validate, type Obj } from './support.js';

const helm = tool('helm', true);
const render = (...extra: string[]): string => renderWith(helm!, ...extra);

type Registry = {
  getMetricsAsJSON(): Promise<{ name: string; type: string }[]>;
  getSingleMetric(name: string): { labelNames?: string[] } | undefined;
};
type Factory = (...args: unknown[]) => { registry: Registry };

async function registries(): Promise<Registry[]> {
  const coordinator = (await import(join(repo, 'services/coordinator/dist/metrics.js'))) as { createCoordinatorMetrics: Factory };
  const signer = (await import(join(repo, 'services/signer/dist/metrics.js'))) as { createSignerMetrics: Factory };
  return [coordinator.createCoordinatorMetrics(() => true).registry, signer.createSignerMetrics(() => 0, () => true).registry];
}

/** Metric name → type, from the registries of createCoordinatorMetrics and createSignerMetrics (built). */
async function registered(): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (const r of await registries()) for (const m of await r.getMetricsAsJSON()) names.set(m.name, m.type);
  return names;
}

/** Labels Prometheus adds to every series it scrapes through the chart's ServiceMonitor. */
const TARGET_LABELS = ['namespace', 'job', 'pod', 'service', 'instance', 'endpoint', 'container'];

/** `metric{label="..."}` matchers naming a label the metric does not have (they could never match). */
async function unknownLabels(exprs: string[]): Promise<string[]> {
  const regs = await registries();
  const out: string[] = [];
  for (const expr of exprs) {
    for (const [, name, matchers] of expr.matchAll(/\b(frost_[a-z0-9_]+)\{([^}]*)\}/g)) {
      const base = name!.replace(/_(bucket|sum|count)$/, '');
      const metric = regs.map((r) => r.getSingleMetric(name!) ?? r.getSingleMetric(base)).find(Boolean);
      const own = [...(metric?.labelNames ?? []), ...(name !== base ? ['le'] : [])];
      for (const [, label] of matchers!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)) {
        if (!TARGET_LABELS.includes(label!) && !own.includes(label!)) out.push(`${name}{${label}}`);
      }
    }
  }
  return out;
}

/** Metric names a PromQL expression uses (the services' prefixes and Node's default metrics). */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b(?:frost|process|nodejs)_[a-z0-9_]+\b/g)].map((m) => m[0]);
}

/** Names not registered by the services; a histogram's series are its _bucket, _sum and _count. */
function unregistered(names: Iterable<string>, known: Map<string, string>): string[] {
  return [...new Set(names)].filter((n) => {
    if (known.has(n)) return false;
    const base = /^(.*)_(bucket|sum|count)$/.exec(n)?.[1];
    return !(base && known.get(base) === 'histogram');
  });
}

type Panel = { id: number; type: string; title: string; targets?: { expr: string }[]; panels?: Panel[] };
type Dashboard = { uid: string; title: string; panels: Panel[]; templating: { list: { name: string; query: string | { query: string } }[] } };
const dashboardFile = join(chart, 'dashboards/frost.json');
const dashboard = (): Dashboard => JSON.parse(readFileSync(dashboardFile, 'utf8')) as Dashboard;

function dashboardExprs(d: Dashboard): string[] {
  const panels = d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
  const queries = d.templating.list.map((v) => (typeof v.query === 'string' ? v.query : v.query.query));
  return [...panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)), ...queries];
}

type Rule = { alert: string; expr: string; for?: string; labels: { severity: string }; annotations: { summary: string; description: string } };
function rules(objs: Obj[]): Rule[] {
  const rule = objs.find((o) => o.kind === 'PrometheusRule');
  if (!rule) throw new Error('no PrometheusRule rendered');
  return (rule.spec as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
}

/** Brackets of an expression balance (a cheap guard against a broken template edit). */
function balanced(expr: string): boolean {
  const pairs: Record<string, string> = { ')': '(', '}': '{', ']': '[' };
  const stack: string[] = [];
  for (const ch of expr.replace(/"[^"]*"/g, '""')) {
    if ('({['.includes(ch)) stack.push(ch);
    else if (ch in pairs && stack.pop() !== pairs[ch]) return false;
  }
  return stack.length === 0;
}

describe('Grafana dashboard', () => {
  it('uses only metrics the services register', async () => {
    const known = await registered();
    const used = dashboardExprs(dashboard()).flatMap(metricNames);
    expect(new Set(used).size).toBeGreaterThan(15);
    expect(unregistered(used, known)).toEqual([]);
  });

  it('filters series only by labels the metrics carry', async () => {
    expect(await unknownLabels(dashboardExprs(dashboard()))).toEqual([]);
  });

  it('shows batches, the signer channels and coalescing: a panel for each of their metrics', () => {
    const used = new Set(dashboardExprs(dashboard()).flatMap(metricNames));
    for (const name of [
      'frost_coordinator_batch_items_count',
      'frost_coordinator_batch_items_bucket',
      'frost_coordinator_batch_duration_seconds_bucket',
      'frost_coordinator_signer_channel_state',
      'frost_coordinator_signer_channel_connects_total',
      'frost_coordinator_coalesced_requests_bucket',
    ]) {
      expect({ name, used: used.has(name) }).toEqual({ name, used: true });
    }
  });

  it('the name and label checks can fail: a misspelt or removed metric or label is reported', async () => {
    const known = await registered();
    expect(unregistered(['frost_coordinator_sign_total', 'frost_coordinator_sign_duration_seconds_bucket', 'frost_signer_ready_bucket'], known)).toEqual(['frost_coordinator_sign_total', 'frost_signer_ready_bucket']);
    expect(await unknownLabels(['rate(frost_coordinator_signs_total{job="x", result="ok"}[5m])', 'frost_coordinator_sign_duration_seconds_bucket{le="1", outcome="ok"}'])).toEqual(['frost_coordinator_signs_total{result}']);
  });

  it('is well formed: unique panel ids, every query scoped to the chosen namespace through the data source variable', () => {
    const d = dashboard();
    expect(d.uid).toBe('hoarfrost-frost');
    const panels = d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels.filter((x) => x.type !== 'row')) {
      expect({ panel: p.title, targets: (p.targets ?? []).length > 0 }).toEqual({ panel: p.title, targets: true });
      for (const t of p.targets!) {
        expect({ panel: p.title, scoped: t.expr.includes('namespace="$namespace"'), balanced: balanced(t.expr) }).toEqual({ panel: p.title, scoped: true, balanced: true });
        expect((t as { datasource?: { uid: string } }).datasource?.uid).toBe('${datasource}');
      }
    }
  });

  (helm ? it : it.skip)('ships as a ConfigMap for the Grafana sidecar only when enabled, with the file as it is', () => {
    expect(objects(render('-f', minimalValues)).some((o) => o.metadata.name === 'frost-dashboard')).toBe(false);
    const cm = objects(render('-f', fullValues)).find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'frost-dashboard')!;
    expect(cm.metadata.labels).toMatchObject({ grafana_dashboard: '1' });
    expect(cm.metadata.annotations).toEqual({ grafana_folder: 'Signing' });
    expect(cm.data!['frost.json']).toBe(readFileSync(dashboardFile, 'utf8').trim());
  });
});

(helm ? describe : describe.skip)('PrometheusRule', () => {
  it('validates against the prometheus-operator schema and holds the alerts operators need', async () => {
    const objs = objects(render('-f', fullValues));
    const rule = objs.find((o) => o.kind === 'PrometheusRule')!;
    await validate(rule);
    expect(rule.metadata.labels).toMatchObject({ release: 'prometheus' });
    const names = rules(objs).map((r) => r.alert);
    for (const a of ['FrostQuorumLost', 'FrostQuorumAtRisk', 'FrostSignerBreakerOpen', 'FrostSignerChannelFlapping', 'FrostCulpritNamed', 'FrostSignErrorRatio', 'FrostSignLatencyP99', 'FrostSignerNonceEvictions', 'FrostSignerPolicyRefusals']) {
      expect(names).toContain(a);
    }
    for (const r of rules(objs)) {
      expect({ alert: r.alert, balanced: balanced(r.expr), severity: ['warning', 'critical'].includes(r.labels.severity) }).toEqual({ alert: r.alert, balanced: true, severity: true });
      expect(r.annotations.summary.length).toBeGreaterThan(10);
      // Prometheus templating survives Helm's.
      expect(r.annotations.summary).not.toMatch(/<no value>/);
    }
    expect(rules(objs).find((r) => r.alert === 'FrostQuorumLost')!.annotations.summary).toMatch(/\{\{ \$labels\.pod \}\}/);
  });

  it('uses only metrics the services register', async () => {
    const known = await registered();
    const exprs = rules(objects(render('-f', fullValues))).map((r) => r.expr);
    const used = exprs.flatMap(metricNames);
    expect(new Set(used).size).toBeGreaterThanOrEqual(8);
    expect(unregistered(used, known)).toEqual([]);
    expect(await unknownLabels(exprs)).toEqual([]);
    // The eviction alert watches a reason the signer reports.
    const { NONCE_DROP_REASONS } = (await import(join(repo, 'services/signer/dist/metrics.js'))) as { NONCE_DROP_REASONS: readonly string[] };
    const evictions = exprs.find((e) => e.includes('frost_signer_nonces_dropped_total'))!;
    expect(NONCE_DROP_REASONS).toContain(/reason="([^"]+)"/.exec(evictions)![1]);
    // The flapping alert watches an outcome the coordinator counts.
    const { CHANNEL_CONNECT_OUTCOMES } = (await import(join(repo, 'services/coordinator/dist/metrics.js'))) as { CHANNEL_CONNECT_OUTCOMES: readonly string[] };
    const flapping = exprs.find((e) => e.includes('frost_coordinator_signer_channel_connects_total'))!;
    expect(/outcome="([^"]+)"/.exec(flapping)![1]).toBe('lost');
    expect(CHANNEL_CONNECT_OUTCOMES).toContain('lost');
  });

  it('counts exactly the 5xx codes of the public API as the SLO\'s errors, in the rules and the dashboard', async () => {
    const { STATUS, ADMIN_ONLY_CODES } = (await import(join(repo, 'services/coordinator/dist/errors.js'))) as { STATUS: Record<string, number>; ADMIN_ONLY_CODES: string[] };
    const serverCodes = Object.entries(STATUS).filter(([code, status]) => status >= 500 && !ADMIN_ONLY_CODES.includes(code)).map(([code]) => code).sort();
    expect(serverCodes.length).toBeGreaterThan(0);
    const ratio = rules(objects(render('-f', fullValues))).find((r) => r.alert === 'FrostSignErrorRatio')!.expr;
    const inDashboard = dashboardExprs(dashboard()).filter((e) => e.includes('outcome=~'));
    expect(inDashboard.length).toBeGreaterThan(0);
    for (const expr of [ratio, ...inDashboard]) {
      const codes = /outcome=~"([^"]+)"/.exec(expr)![1]!.split('|').sort();
      expect(codes).toEqual(serverCodes);
    }
  });

  it('takes the quorum size from the threshold and the SLO from the values; scopes series to this release', () => {
    const full = rules(objects(render('-f', fullValues)));
    const expr = (objs: Rule[], alert: string): string => objs.find((r) => r.alert === alert)!.expr;
    // 3-of-5: lost below 3, at risk below 4.
    expect(expr(full, 'FrostQuorumLost')).toMatch(/\) < 3$/);
    expect(expr(full, 'FrostQuorumAtRisk')).toMatch(/\) < 4$/);
    expect(expr(full, 'FrostSignErrorRatio')).toMatch(/> 0\.005\s*$/);
    expect(expr(full, 'FrostSignLatencyP99')).toMatch(/> 0\.1\s*$/);
    expect(expr(full, 'FrostQuorumLost')).toContain('{namespace="frost", job="frost-coordinator"}');
    expect(expr(full, 'FrostSignerPolicyRefusals')).toContain('job=~"frost-signer-1|frost-signer-2|frost-signer-3|frost-signer-4|frost-signer-5"');
    // 3-of-3: no spare ever, so "at risk" is any loss.
    const tight = rules(objects(render('-f', minimalValues, '--set', 'prometheusRule.enabled=true', '--set', 'threshold=3')));
    expect(expr(tight, 'FrostQuorumAtRisk')).toMatch(/\) < 3$/);
    // Selectors can be given for other scrape setups.
    const own = rules(objects(render('-f', minimalValues, '--set', 'prometheusRule.enabled=true', '--set-string', 'prometheusRule.coordinatorSelector=app="frost-coordinator"')));
    expect(expr(own, 'FrostCulpritNamed')).toContain('frost_coordinator_culprits_total{app="frost-coordinator"}');
    expect(objects(render('-f', minimalValues)).some((o) => o.kind === 'PrometheusRule')).toBe(false);
  });
});
