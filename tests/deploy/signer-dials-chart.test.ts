// Deployment checks of signer-dials mode in the Helm chart (signer.connectivity=signersDial): the
// coordinator's signer listener and its headless Service (one address per replica, so each signer reaches
// every replica), the signers' coordinator URL and pinned SANs, the certificates' usages and names, and
// the NetworkPolicies turned around. The services' own config readers take the rendered environments. By
// default nothing of it is rendered. chart.test.ts and checkov.test.ts lint the same render.
import { describe, expect, it } from '@jest/globals';
import { loadConfig as loadCoordinatorConfig } from '@hoarfrost/coordinator';
import { loadConfig as loadSignerConfig } from '@hoarfrost/signer';
import { certManagerValues, envOf, findObject, minimalValues, objects, podSpec, refusedRender, render as renderWith, signerDialsValues, tool, type Obj } from './support.js';

const helm = tool('helm', true);
const render = (...extra: string[]): string => renderWith(helm!, ...extra);
const find = findObject;
const refused = (...args: string[]): string => refusedRender(helm!, ...args);

const SIGNER_HOSTS = ['frost-signer-1.frost.svc', 'frost-signer-2.frost.svc', 'frost-signer-3.frost.svc'];
const LISTEN_HOST = 'frost-coordinator-signers.frost.svc';

type Port = { name: string; containerPort: number; protocol?: string };
type PolicyPeer = { podSelector?: { matchLabels?: Record<string, string> }; namespaceSelector?: unknown };
type PolicyRule = { from?: PolicyPeer[]; to?: PolicyPeer[]; ports?: { port: string | number; protocol: string }[] };
type PolicySpec = { ingress?: PolicyRule[] | null; egress?: PolicyRule[] | null };
type CertSpec = { dnsNames: string[]; usages: string[] };

const container = (w: Obj) => podSpec(w).containers[0]!;
const coordinatorOf = (objs: Obj[]) => find(objs, 'Deployment', 'frost-coordinator');
const signerSets = (objs: Obj[]): Obj[] => objs.filter((o) => o.kind === 'StatefulSet' && o.metadata.labels?.['app.kubernetes.io/component'] === 'signer');
const policy = (objs: Obj[], name: string) => find(objs, 'NetworkPolicy', name).spec as PolicySpec;
const cert = (objs: Obj[], name: string) => find(objs, 'Certificate', name).spec as unknown as CertSpec;
const component = (peer: PolicyPeer) => peer.podSelector?.matchLabels?.['app.kubernetes.io/component'];
/** The rules of `rules` whose peers include pods of `comp` (this release's), as [ports] lists. */
const portsTo = (rules: PolicyRule[] | null | undefined, side: 'from' | 'to', comp: string) =>
  (rules ?? []).filter((r) => (r[side] ?? []).some((p) => component(p) === comp && p.podSelector?.matchLabels?.['app.kubernetes.io/instance'] === 'frost')).map((r) => r.ports);

/** What the services read at start: the container's env, with any file it names left as named. */
const signerConfig = (env: Record<string, string>) => loadSignerConfig(env);
const coordinatorConfig = (env: Record<string, string>) => loadCoordinatorConfig(env);

(helm ? describe : describe.skip)('signer-dials mode in the Helm chart', () => {
  it('by default the coordinator dials the signers: no listener, no headless Service for it, the signers do not dial', () => {
    for (const values of [minimalValues, certManagerValues]) {
      const text = render('-f', values);
      // The default is coordinatorDials: stating it changes nothing.
      expect(render('-f', values, '--set', 'signer.connectivity=coordinatorDials').replace(/kek: .*/g, '')).toBe(text.replace(/kek: .*/g, ''));
      const objs = objects(text);
      const coordinator = container(coordinatorOf(objs));
      const env = envOf(coordinator);
      expect(env.COORDINATOR_SIGNER_LISTEN_PORT).toBeUndefined();
      expect(env.COORDINATOR_SIGNERS!.split(',')).toEqual(SIGNER_HOSTS.map((h) => `${h}=https://${h}:7443`));
      expect((coordinator.ports as Port[]).map((p) => p.name)).toEqual(['https', 'ops']);
      expect(objs.some((o) => o.kind === 'Service' && o.metadata.name === 'frost-coordinator-signers')).toBe(false);
      for (const sts of signerSets(objs)) {
        const senv = envOf(container(sts));
        expect(senv.SIGNER_COORDINATOR_URL).toBeUndefined();
        expect(senv.SIGNER_ALLOWED_CLIENT_SANS).toBe('DNS:frost-coordinator-client');
      }
      const signers = policy(objs, 'frost-signers');
      expect(portsTo(signers.ingress, 'from', 'coordinator')).toEqual([[{ port: 'rpc', protocol: 'TCP' }]]);
      expect(signers.egress).toEqual([]);
      const coord = policy(objs, 'frost-coordinator');
      expect(portsTo(coord.egress, 'to', 'signer')).toEqual([[{ port: 7443, protocol: 'TCP' }]]);
      expect(portsTo(coord.ingress, 'from', 'signer')).toEqual([]);
      if (values === certManagerValues) {
        for (const h of SIGNER_HOSTS) expect(cert(objs, `${h.split('.')[0]}-tls`).usages).toEqual(['digital signature', 'server auth']);
        expect(cert(objs, 'frost-coordinator-tls').dnsNames).toEqual(['frost-coordinator', 'frost-coordinator.frost.svc', 'frost-coordinator.frost.svc.cluster.local']);
      }
    }
  });

  it('signersDial: every replica listens for signers, registers them as inbound, and a headless Service (not-ready pods included) names every replica', () => {
    const objs = objects(render('-f', signerDialsValues));
    const deployment = coordinatorOf(objs);
    const c = container(deployment);
    expect(c.ports as Port[]).toContainEqual({ name: 'signers', containerPort: 7444, protocol: 'TCP' });
    const env = envOf(c);
    expect(env.COORDINATOR_SIGNER_LISTEN_PORT).toBe('7444');
    expect(env.COORDINATOR_SIGNERS!.split(',')).toEqual(SIGNER_HOSTS.map((h) => `${h}=inbound`));
    // The coordinator's own config reader takes it: inbound signers with a listener to dial.
    const config = coordinatorConfig(env);
    expect(config.signerListen).toEqual({ host: '0.0.0.0', port: 7444 });
    expect(config.signers.map((s) => [s.id, s.inbound])).toEqual(SIGNER_HOSTS.map((h) => [h, true]));

    const svc = find(objs, 'Service', 'frost-coordinator-signers');
    const spec = svc.spec as { clusterIP: string; publishNotReadyAddresses: boolean; selector: Record<string, string>; ports: { name: string; port: number; targetPort: string }[] };
    expect(spec.clusterIP).toBe('None');
    // A replica is ready only once it reaches enough signers: its address must be published before.
    expect(spec.publishNotReadyAddresses).toBe(true);
    expect(spec.ports).toEqual([{ name: 'signers', port: 7444, targetPort: 'signers', protocol: 'TCP' }]);
    const podLabels = (deployment.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
    expect(spec.selector).toEqual({ 'app.kubernetes.io/name': 'frost', 'app.kubernetes.io/instance': 'frost', 'app.kubernetes.io/component': 'coordinator' });
    for (const [k, v] of Object.entries(spec.selector)) expect(podLabels[k]).toBe(v);
    // Every replica takes the signers' connections: still two of them.
    expect((deployment.spec as { replicas: number }).replicas).toBe(2);
  });

  it('signersDial: each signer dials the headless Service by its in-cluster name and pins the name the coordinator certificate carries', () => {
    const objs = objects(render('-f', signerDialsValues));
    const sets = signerSets(objs);
    expect(sets).toHaveLength(3);
    const coordinatorNames = cert(objs, 'frost-coordinator-tls').dnsNames;
    for (const sts of sets) {
      const env = envOf(container(sts));
      expect(env.SIGNER_COORDINATOR_URL).toBe(`https://${LISTEN_HOST}:7444`);
      expect(env.SIGNER_COORDINATOR_RESOLVE_INTERVAL_MS).toBe('10000');
      const pinned = env.SIGNER_ALLOWED_CLIENT_SANS!.split(',');
      expect(pinned).toEqual(['DNS:frost-coordinator-client', `DNS:${LISTEN_HOST}`]);
      // The coordinator's serving certificate (which its signer listener presents) carries a pinned SAN.
      expect(pinned.some((san) => coordinatorNames.includes(san.replace(/^DNS:/, '')))).toBe(true);
      // The signer's own config reader takes the URL and the interval.
      const config = signerConfig(env);
      expect(config.coordinatorUrl).toBe(`https://${LISTEN_HOST}:7444`);
      expect(config.coordinatorResolveIntervalMs).toBe(10_000);
    }
  });

  it('signersDial: signer certificates carry the client-auth usage; the coordinator certificate names the headless Service', () => {
    const objs = objects(render('-f', signerDialsValues));
    for (const h of SIGNER_HOSTS) {
      const c = cert(objs, `${h.split('.')[0]}-tls`);
      expect(c.usages).toEqual(['digital signature', 'server auth', 'client auth']);
      // The coordinator's listener pins a dialling signer by exactly this DNS SAN (its COORDINATOR_SIGNERS id).
      expect(c.dnsNames).toContain(h);
    }
    const coordinator = cert(objs, 'frost-coordinator-tls');
    expect(coordinator.usages).toEqual(['digital signature', 'server auth']);
    expect(coordinator.dnsNames).toEqual(
      expect.arrayContaining(['frost-coordinator', 'frost-coordinator.frost.svc', 'frost-coordinator-signers', LISTEN_HOST, `${LISTEN_HOST}.cluster.local`]),
    );
    // The coordinator's signer-client certificate is unchanged.
    expect(cert(objs, 'frost-coordinator-client-tls')).toMatchObject({ dnsNames: ['frost-coordinator-client'], usages: ['digital signature', 'client auth'] });
  });

  it('signersDial: the NetworkPolicies let the signers reach the listener (and DNS) and nothing reach the signers\' RPC port', () => {
    const objs = objects(render('-f', signerDialsValues));
    const signers = policy(objs, 'frost-signers');
    expect(portsTo(signers.ingress, 'from', 'coordinator')).toEqual([]);
    expect((signers.ingress ?? []).flatMap((r) => r.ports ?? []).map((p) => p.port)).toEqual(['ops']);
    expect(portsTo(signers.egress, 'to', 'coordinator')).toEqual([[{ port: 7444, protocol: 'TCP' }]]);
    const dns = (signers.egress ?? []).find((r) => (r.to ?? []).some((p) => p.podSelector?.matchLabels?.['k8s-app'] === 'kube-dns'));
    expect(dns?.ports).toEqual([
      { port: 53, protocol: 'UDP' },
      { port: 53, protocol: 'TCP' },
    ]);
    expect(signers.egress).toHaveLength(2);

    const coordinator = policy(objs, 'frost-coordinator');
    expect(portsTo(coordinator.ingress, 'from', 'signer')).toEqual([[{ port: 'signers', protocol: 'TCP' }]]);
    expect(portsTo(coordinator.egress, 'to', 'signer')).toEqual([]);
    expect((coordinator.egress ?? []).flatMap((r) => r.ports ?? []).map((p) => p.port)).toEqual([53, 53]);
  });

  it('the listener port and the lookup interval come from the values', () => {
    const objs = objects(render('-f', signerDialsValues, '--set', 'coordinator.signerListenPort=9444', '--set', 'signer.coordinatorResolveIntervalMs=2500'));
    const c = container(coordinatorOf(objs));
    expect(envOf(c).COORDINATOR_SIGNER_LISTEN_PORT).toBe('9444');
    expect(c.ports as Port[]).toContainEqual({ name: 'signers', containerPort: 9444, protocol: 'TCP' });
    expect((find(objs, 'Service', 'frost-coordinator-signers').spec as { ports: { port: number }[] }).ports[0]!.port).toBe(9444);
    expect(portsTo(policy(objs, 'frost-signers').egress, 'to', 'coordinator')).toEqual([[{ port: 9444, protocol: 'TCP' }]]);
    for (const sts of signerSets(objs)) {
      const env = envOf(container(sts));
      expect(env.SIGNER_COORDINATOR_URL).toBe(`https://${LISTEN_HOST}:9444`);
      expect(env.SIGNER_COORDINATOR_RESOLVE_INTERVAL_MS).toBe('2500');
    }
  });

  it('refuses an unknown mode, an interval out of range, and a listener port the coordinator already uses', () => {
    expect(refused('-f', minimalValues, '--set', 'signer.connectivity=both')).toMatch(/connectivity/);
    expect(refused('-f', signerDialsValues, '--set', 'signer.coordinatorResolveIntervalMs=10')).toMatch(/coordinatorResolveIntervalMs/);
    expect(refused('-f', signerDialsValues, '--set', 'coordinator.signerListenPort=8443')).toMatch(/coordinator.signerListenPort \(8443\) must differ/);
    expect(refused('-f', signerDialsValues, '--set', 'coordinator.signerListenPort=9090')).toMatch(/must differ from coordinator.port and coordinator.opsPort/);
  });
});
