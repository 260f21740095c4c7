// Deployment checks of keys made by the signers and kept sealed: each signer's store volume (a
// volumeClaimTemplates entry kept past the StatefulSet), its own KEK Secret, the key-generation settings,
// the coordinator's admin API and its optional dealer public key package, the KEK Secrets the chart makes
// for development (carried over, never replaced under an existing store), the refusals of values that
// cannot work, and the kustomize manifests. chart.test.ts and checkov.test.ts lint the same renders.
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certManagerValues, chart, envOf, findObject, fullValues, minimalValues, objects, podSpec, refusedRender, render as renderWith, repo, run, tool, type Obj } from './support.js';

const helm = tool('helm', true);
const kustomize = tool('kustomize', true);
const render = (...extra: string[]): string => renderWith(helm!, ...extra);
const find = findObject;
const refused = (...args: string[]): string => refusedRender(helm!, ...args);

type Claim = { metadata: { name: string; labels: Record<string, string> }; spec: { accessModes: string[]; storageClassName?: string; resources: { requests: { storage: string } } } };
type Mount = { name: string; mountPath: string; readOnly?: boolean };
type Volume = { name: string; secret?: { secretName: string; defaultMode?: number; items?: { key: string; path: string }[] }; configMap?: { name: string } };
const claims = (sts: Obj): Claim[] => ((sts.spec as { volumeClaimTemplates?: Claim[] }).volumeClaimTemplates ?? []);
const mounts = (w: Obj): Mount[] => (podSpec(w).containers[0]! as unknown as { volumeMounts: Mount[] }).volumeMounts;
const volumes = (w: Obj): Volume[] => podSpec(w).volumes as Volume[];
const signerSets = (objs: Obj[]): Obj[] => objs.filter((o) => o.kind === 'StatefulSet' && o.metadata.labels?.['app.kubernetes.io/component'] === 'signer');
const PEERS = 'frost-signer-1.frost.svc,frost-signer-2.frost.svc,frost-signer-3.frost.svc';
/** Dealer key Secrets for the three default signers (a list index set by --set replaces the whole entry). */
const IDS = [0, 1, 2].flatMap((i) => ['--set', `signers[${i}].id=signer-${i + 1}`]);
const DEALER = [0, 1, 2].flatMap((i) => ['--set', `signers[${i}].id=signer-${i + 1}`, '--set', `signers[${i}].keySecret=frost-signer-${i + 1}-keys`]);
const SANS = ['--set', 'coordinator.auth.allowedClientSans={DNS:mint-api.frost.svc}', '--set', 'coordinator.auth.clientCaSecret=mint-callers-ca'];

/** Renders `probe` as a template of a copy of the chart (its helpers in scope); `{ status, out }` of helm. */
function probe(text: string): { status: number; out: string; stdout: string } {
  const dir = mkdtempSync(join(tmpdir(), 'frost-probe-'));
  try {
    cpSync(chart, join(dir, 'frost'), { recursive: true });
    writeFileSync(join(dir, 'frost/templates/zz-probe.yaml'), text);
    return run(helm!, ['template', 'frost', join(dir, 'frost'), '--namespace', 'frost', '-f', minimalValues, '--show-only', 'templates/zz-probe.yaml']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
/** The KEK the chart's helper returns given what the cluster holds (`secret` as lookup returns it). */
const kekData = (secret: string, claimExists: boolean) =>
  probe(`kek: {{ include "frost.signer.kekData" (dict "secret" ${secret} "secretName" "frost-signer-1-kek" "signer" "signer-1" "claim" "store-frost-signer-1-0" "claimExists" ${claimExists}) | quote }}\n`);

(helm ? describe : describe.skip)('sealed key store in the Helm chart', () => {
  it('by default each signer keeps its keys on a volume of its own, sealed under its own KEK, and may take part in key generation with every signer of the release', () => {
    const sets = signerSets(objects(render('-f', minimalValues)));
    expect(sets.map((s) => s.metadata.name)).toEqual(['frost-signer-1', 'frost-signer-2', 'frost-signer-3']);
    for (const [i, sts] of sets.entries()) {
      const id = `signer-${i + 1}`;
      // One claim per signer: 64Mi, the cluster's default class, kept when the StatefulSet goes or shrinks.
      expect(claims(sts)).toEqual([
        {
          metadata: { name: 'store', labels: { 'app.kubernetes.io/name': 'frost', 'app.kubernetes.io/instance': 'frost', 'app.kubernetes.io/component': 'signer', 'frost.dev/signer': id } },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '64Mi' } } },
        },
      ]);
      expect((sts.spec as { persistentVolumeClaimRetentionPolicy: unknown }).persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Retain', whenScaled: 'Retain' });
      expect(mounts(sts)).toContainEqual({ name: 'store', mountPath: '/var/lib/frost/store' });
      expect(mounts(sts)).toContainEqual({ name: 'kek', mountPath: '/etc/frost/kek', readOnly: true });
      expect(volumes(sts)).toContainEqual({ name: 'kek', secret: { secretName: `frost-${id}-kek`, defaultMode: 0o400, items: [{ key: 'kek', path: 'kek' }] } });
      // No dealer keys: nothing to import.
      expect(volumes(sts).some((v) => v.name === 'key')).toBe(false);
      const env = envOf(podSpec(sts).containers[0]!);
      expect(env).not.toHaveProperty('SIGNER_KEY_DIR');
      expect(env).toMatchObject({
        SIGNER_STORE_DIR: '/var/lib/frost/store',
        SIGNER_KEK_FILE: '/etc/frost/kek/kek',
        SIGNER_DKG_PEERS: PEERS,
        SIGNER_DKG_PEER_CA_FILE: env.SIGNER_TLS_CLIENT_CA_FILE,
        SIGNER_DKG_SESSION_TTL_MS: '120000',
      });
      // Its own id is one of the peers: the DNS SAN of its certificate.
      expect(env.SIGNER_DKG_PEERS!.split(',')).toContain(env.SIGNER_ID);
      // The non-root user writes the volume through fsGroup; the root filesystem stays read-only.
      expect(podSpec(sts).securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, fsGroup: 65532, fsGroupChangePolicy: 'OnRootMismatch' });
      expect(podSpec(sts).containers[0]!.securityContext).toMatchObject({ readOnlyRootFilesystem: true, runAsUser: 65532 });
    }
  });

  it('the store\'s size, class, access modes and KEK names come from the values; a dealer\'s key Secret is mounted for import', () => {
    const objs = objects(render('-f', fullValues));
    const sets = signerSets(objs);
    expect(sets).toHaveLength(5);
    for (const [i, sts] of sets.entries()) {
      expect(claims(sts)[0]!.spec).toEqual({ accessModes: ['ReadWriteOncePod'], storageClassName: 'encrypted-ssd', resources: { requests: { storage: '128Mi' } } });
      const kek = volumes(sts).find((v) => v.name === 'kek')!.secret!.secretName;
      expect(kek).toBe(i === 0 ? 'mint-signer-1-kek' : `frost-kek-signer-${i + 1}`);
      expect(volumes(sts)).toContainEqual(expect.objectContaining({ name: 'key', secret: expect.objectContaining({ secretName: `frost-mint-2026-signer-${i + 1}` }) }));
      expect(mounts(sts)).toContainEqual({ name: 'key', mountPath: '/etc/frost/keys/mint-2026', readOnly: true });
      expect(envOf(podSpec(sts).containers[0]!)).toMatchObject({ SIGNER_KEY_DIR: '/etc/frost/keys', SIGNER_STORE_DIR: '/var/lib/frost/store', SIGNER_DKG_SESSION_TTL_MS: '60000' });
    }
    // The chart makes no KEK unless asked.
    expect(objs.filter((o) => o.kind === 'Secret')).toEqual([]);
    expect(objects(render('-f', minimalValues)).filter((o) => o.kind === 'Secret')).toEqual([]);
  });

  it('without a store, signers serve their dealer keys read-only as before: no volume claim, no KEK, no key generation', () => {
    const keys = ['--set', 'signer.store.enabled=false', '--set', 'signers[0].id=signer-1', '--set', 'signers[0].keySecret=frost-signer-1-keys', '--set', 'signers[1].id=signer-2', '--set', 'signers[1].keySecret=frost-signer-2-keys'];
    const sets = signerSets(objects(render('-f', minimalValues, ...keys)));
    expect(sets).toHaveLength(2);
    for (const sts of sets) {
      expect(claims(sts)).toEqual([]);
      expect(sts.spec).not.toHaveProperty('persistentVolumeClaimRetentionPolicy');
      expect(volumes(sts).map((v) => v.name)).not.toContain('kek');
      expect(mounts(sts).map((m) => m.name)).toEqual(['tls', 'jwks', 'key', 'tmp']);
      const env = envOf(podSpec(sts).containers[0]!);
      expect(env.SIGNER_KEY_DIR).toBe('/etc/frost/keys');
      for (const name of ['SIGNER_STORE_DIR', 'SIGNER_KEK_FILE', 'SIGNER_DKG_PEERS', 'SIGNER_DKG_SESSION_TTL_MS']) expect(env).not.toHaveProperty(name);
    }
  });

  it('the coordinator learns keys from the signers unless a dealer\'s public key package pins the default key', () => {
    const minimal = objects(render('-f', minimalValues));
    const coordinator = find(minimal, 'Deployment', 'frost-coordinator');
    expect(envOf(podSpec(coordinator).containers[0]!)).not.toHaveProperty('COORDINATOR_PUBLIC_KEY_PACKAGE_FILE');
    expect(volumes(coordinator).map((v) => v.name)).not.toContain('public');
    expect(minimal.filter((o) => o.kind === 'ConfigMap' && /public-key-package/.test(o.metadata.name))).toEqual([]);
    // The helm test signs with the default key and checks it against the coordinator's key list.
    const job = podSpec(find(minimal, 'Job', 'frost-test-sign'));
    expect(job.containers[0]!.args).toEqual(expect.arrayContaining(['--key-id', 'default']));
    expect(job.containers[0]!.args).not.toContain('--public-key-package');
    expect((job.volumes as Volume[]).map((v) => v.name)).not.toContain('public');
    // An existing ConfigMap (as `frostctl k8s-manifests` writes it), or the JSON inline: mounted as before.
    for (const [args, name] of [
      [['--set', 'publicKeyPackage.existingConfigMap=frost-public-key-package'], 'frost-public-key-package'],
      [['-f', fullValues], 'frost-public-key-package'],
    ] as [string[], string][]) {
      const objs = objects(render('-f', minimalValues, ...args));
      const pod = podSpec(find(objs, 'Deployment', 'frost-coordinator'));
      expect(envOf(pod.containers[0]!).COORDINATOR_PUBLIC_KEY_PACKAGE_FILE).toBe('/etc/frost/public/public-key-package.json');
      expect(pod.volumes).toContainEqual({ name: 'public', configMap: { name, items: [{ key: 'public-key-package.json', path: 'public-key-package.json' }] } });
      expect(podSpec(find(objs, 'Job', 'frost-test-sign')).containers[0]!.args).toEqual(expect.arrayContaining(['--public-key-package', '/etc/frost/public/public-key-package.json']));
    }
    expect(objects(render('-f', fullValues)).some((o) => o.kind === 'ConfigMap' && o.metadata.name === 'frost-public-key-package')).toBe(true);
  });

  it('the admin API is off unless operators\' SANs are listed; they reach it through the NetworkPolicy', () => {
    const env = (values: string) => envOf(podSpec(find(objects(render('-f', values)), 'Deployment', 'frost-coordinator')).containers[0]!);
    expect(env(minimalValues).COORDINATOR_ADMIN_CLIENT_SANS).toBe('');
    expect(env(certManagerValues).COORDINATOR_ADMIN_CLIENT_SANS).toBe('DNS:frost-operator');
    const full = objects(render('-f', fullValues));
    const coordinator = envOf(podSpec(find(full, 'Deployment', 'frost-coordinator')).containers[0]!);
    expect(coordinator.COORDINATOR_ADMIN_CLIENT_SANS).toBe('DNS:frost-operator.payments.svc');
    expect(coordinator.COORDINATOR_ALLOWED_CLIENT_SANS!.split(',')).not.toContain('DNS:frost-operator.payments.svc');
    const ingress = (find(full, 'NetworkPolicy', 'frost-coordinator').spec as { ingress: { from: unknown[] }[] }).ingress[0]!.from;
    expect(ingress).toContainEqual({ podSelector: { matchLabels: { 'frost.dev/operator': 'true' } } });
  });

  it('KEK Secrets made for development: 32 random bytes each, one per signer, kept on uninstall', () => {
    const secrets = objects(render('-f', certManagerValues)).filter((o) => o.kind === 'Secret');
    expect(secrets.map((s) => s.metadata.name)).toEqual(['frost-signer-1-kek', 'frost-signer-2-kek', 'frost-signer-3-kek']);
    const keks = secrets.map((s) => {
      expect(s.metadata.annotations).toEqual({ 'helm.sh/resource-policy': 'keep' });
      expect(Object.keys(s.data!)).toEqual(['kek']);
      // The file holds the base64 of the KEK, one of the forms the signer reads.
      const file = Buffer.from(s.data!.kek!, 'base64').toString('ascii');
      expect(file).toMatch(/^[A-Za-z0-9+/]{43}=$/);
      return Buffer.from(file, 'base64');
    });
    for (const k of keks) expect(k).toHaveLength(32);
    expect(new Set(keks.map((k) => k.toString('hex'))).size).toBe(3);
  });

  it('a KEK the cluster holds is carried over byte for byte; none is made for an existing store; an existing Secret is never replaced', () => {
    const kept = kekData('(dict "data" (dict "kek" "S0VLLWZyb20tdGhlLWNsdXN0ZXI="))', true);
    expect(kept.status).toBe(0);
    expect(objects(kept.stdout)[0]).toEqual({ kek: 'S0VLLWZyb20tdGhlLWNsdXN0ZXI=' });
    // The Secret is gone but the signer's volume is not: its sealed keys need the lost KEK, not a new one.
    const lost = kekData('dict', true);
    expect(lost.status).not.toBe(0);
    expect(lost.out).toMatch(/KEK Secret frost-signer-1-kek is missing but signer signer-1's store volume store-frost-signer-1-0 exists: a new KEK cannot open its sealed keys\. Restore the Secret from its backup/);
    const foreign = kekData('(dict "data" (dict "other" "eA=="))', false);
    expect(foreign.status).not.toBe(0);
    expect(foreign.out).toMatch(/Secret frost-signer-1-kek exists without the key `kek`: the chart will not replace it/);
    // A new store: a new KEK, different each time.
    const fresh = [kekData('dict', false), kekData('dict', false)].map((r) => (objects(r.stdout)[0] as unknown as { kek: string }).kek);
    // Secret data: the base64 of the file, which holds the base64 of the 32 bytes.
    for (const k of fresh) expect(Buffer.from(Buffer.from(k, 'base64').toString('ascii'), 'base64')).toHaveLength(32);
    expect(fresh[0]).not.toBe(fresh[1]);
    // The Secret template asks the cluster for the Secret and for the claim the StatefulSet makes
    // (<claim template>-<StatefulSet>-0), by the names the signers use.
    const names = probe('names:\n{{ range .Values.signers }}{{ $c := dict "root" $ "signer" . }}  - [{{ include "frost.signer.kekSecret" $c }}, {{ printf "%s-%s-0" (include "frost.store.claim" $) (include "frost.signer.name" $c) }}]\n{{ end }}');
    expect((objects(names.stdout)[0] as unknown as { names: unknown }).names).toEqual([1, 2, 3].map((i) => [`frost-signer-${i}-kek`, `store-frost-signer-${i}-0`]));
    const source = readFileSync(join(chart, 'templates/signer-kek-secrets.yaml'), 'utf8');
    expect(source).toContain('lookup "v1" "Secret" $root.Release.Namespace $secretName');
    expect(source).toContain('lookup "v1" "PersistentVolumeClaim" $root.Release.Namespace $claim');
    expect(source).toContain('printf "%s-%s-0" (include "frost.store.claim" $root) (include "frost.signer.name" $ctx)');
  });

  it('refuses values that cannot work or that would mix operators with callers', () => {
    expect(refused(...SANS, '--set', 'signer.store.enabled=false')).toMatch(
      /signers\[0\] \(signer-1\) has no keySecret and signer\.store\.enabled=false: without a sealed store a signer can neither make nor keep a key/,
    );
    expect(refused(...SANS, '--set', 'signer.store.enabled=false', ...DEALER, '--set', 'signer.store.createKekSecrets=true')).toMatch(
      /signer\.store\.createKekSecrets needs signer\.store\.enabled/,
    );
    expect(refused(...SANS, ...IDS, '--set', 'signers[1].kekSecret=shared-kek', '--set', 'signers[2].kekSecret=shared-kek')).toMatch(/signers signer-3 and another share the KEK Secret shared-kek: every signer needs a KEK of its own/);
    expect(refused(...SANS, '--set', 'signer.store.kekSecret=frost-kek')).toMatch(/share the KEK Secret frost-kek/);
    expect(refused(...SANS, '--set-json', 'signer.store.kekSecret="{{ .name }}_KEK"')).toMatch(/"frost-signer-1_KEK" .* is not a valid Secret name/);
    // Operators are not callers, and callers are not operators.
    expect(refused(...SANS, '--set', 'coordinator.admin.allowedClientSans={DNS:mint-api.frost.svc}')).toMatch(
      /coordinator\.admin\.allowedClientSans and the \/sign callers .* must not overlap: DNS:mint-api\.frost\.svc is in both/,
    );
    expect(refused(...SANS, '--set', 'coordinator.admin.allowedClientSans={DNS:ops,DNS:frost-test-client}')).toMatch(/must not overlap: DNS:frost-test-client is in both/);
    expect(refused(...SANS, '--set', 'coordinator.admin.allowedClientSans={DNS:frost-coordinator-client}')).toMatch(/must not hold DNS:frost-coordinator-client: that is the coordinator's own signer-client certificate/);
    const jwt = ['--set', 'coordinator.auth.mode=jwt', '--set', 'coordinator.auth.jwksConfigMap=j', '--set', 'coordinator.auth.jwtIssuer=i', '--set', 'tests.enabled=false'];
    expect(refused(...jwt, '--set', 'coordinator.admin.allowedClientSans={DNS:ops}')).toMatch(/coordinator\.admin\.allowedClientSans needs a client CA: auth mode jwt takes no client certificates/);
    // The schema: sizes, access modes, SANs.
    expect(refused(...SANS, '--set', 'signer.store.size=lots')).toMatch(/size/);
    expect(refused(...SANS, '--set', 'signer.store.accessModes={ReadOnlyMany}')).toMatch(/accessModes/);
    expect(refused(...SANS, '--set', 'coordinator.admin.allowedClientSans={operator}')).toMatch(/allowedClientSans/);
    expect(refused(...SANS, '--set', 'signer.dkg.sessionTtlMs=500')).toMatch(/sessionTtlMs/);
    // What was refused above, fixed, renders.
    for (const fixed of [
      ['--set', 'coordinator.admin.allowedClientSans={DNS:ops}'],
      [...IDS, '--set', 'signers[1].kekSecret=kek-b', '--set', 'signers[2].kekSecret=kek-c'],
      ['--set', 'signer.store.enabled=false', ...DEALER],
    ]) {
      const r = run(helm!, ['template', 'frost', chart, '--namespace', 'frost', ...SANS, ...fixed]);
      expect({ fixed, out: r.status === 0 ? '' : r.out }).toEqual({ fixed, out: '' });
    }
  });
});

(helm && kustomize ? describe : describe.skip)('sealed key store in the kustomize manifests', () => {
  it('k8s/base and the dev overlay carry the store claim, the KEK Secret, the key-generation peers, and the dev overlay an operator SAN', () => {
    const objs = objects(execFileSync(kustomize!, ['build', join(repo, 'k8s/overlays/dev')], { encoding: 'utf8' }));
    const sets = signerSets(objs);
    expect(sets).toHaveLength(3);
    for (const [i, sts] of sets.entries()) {
      expect(claims(sts).map((c) => [c.metadata.name, c.spec.resources.requests.storage])).toEqual([['store', '64Mi']]);
      expect(volumes(sts)).toContainEqual(expect.objectContaining({ name: 'kek', secret: expect.objectContaining({ secretName: `frost-signer-${i + 1}-kek` }) }));
      expect(envOf(podSpec(sts).containers[0]!)).toMatchObject({ SIGNER_STORE_DIR: '/var/lib/frost/store', SIGNER_KEK_FILE: '/etc/frost/kek/kek', SIGNER_DKG_PEERS: PEERS });
    }
    expect(objs.some((o) => o.kind === 'Secret')).toBe(false);
    const coordinator = envOf(podSpec(find(objs, 'Deployment', 'frost-coordinator')).containers[0]!);
    expect(coordinator.COORDINATOR_ADMIN_CLIENT_SANS).toBe('DNS:frost-operator');
    expect(coordinator).not.toHaveProperty('COORDINATOR_PUBLIC_KEY_PACKAGE_FILE');
  });

  it('k8s/base keeps the chart\'s file modes: the KEK, keys and TLS keys are 0400, not the decimal 400 (0620) YAML 1.2 would make of it', () => {
    const objs = objects(execFileSync(kustomize!, ['build', join(repo, 'k8s/base')], { encoding: 'utf8' }));
    const modes = objs
      .filter((o) => ['Deployment', 'StatefulSet'].includes(o.kind))
      .flatMap((w) => volumes(w).filter((v) => v.secret?.defaultMode !== undefined).map((v) => `${w.metadata.name}/${v.name}: ${v.secret!.defaultMode!.toString(8)}`));
    expect(modes).toEqual(expect.arrayContaining(['frost-signer-1/kek: 400', 'frost-signer-1/tls: 400', 'frost-coordinator/jwt: 400']));
    for (const m of modes) expect(m).toMatch(/: 400$/);
  });
});
