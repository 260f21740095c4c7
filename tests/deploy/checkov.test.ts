// checkov (PyPI; pinned and installed into .tools/checkov by scripts/install-tools.sh) on the rendered chart
// and the Dockerfile. Its findings must be exactly the reasoned skips of checkov-skips.yaml: anything new
// fails, and so does a skip that is no longer needed. In CI a missing checkov fails; locally it skips loudly.
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { certManagerValues, fullValues, minimalValues, render, repo, run, signerDialsValues, tool } from './support.js';

const helm = tool('helm', true);
const checkov = tool('checkov', true, join(repo, '.tools/checkov/bin/checkov'));

type Skips = { targets: Record<string, Record<string, { reason: string }>> };
const skips = parse(readFileSync(join(repo, 'tests/deploy/checkov-skips.yaml'), 'utf8')) as Skips;

type Finding = { check_id: string; check_name: string; resource: string };
type Report = { results?: { failed_checks: Finding[] }; summary: { passed: number; failed: number; parsing_errors: number; resource_count?: number; checkov_version?: string } };

/** checkov on one file, no skips, no network (--skip-download: no guideline or policy download). */
function scan(file: string, framework: 'kubernetes' | 'dockerfile'): Report {
  const r = run(checkov!, ['-f', file, '--framework', framework, '--skip-download', '--output', 'json']);
  const report = JSON.parse(r.stdout) as Report;
  // A scan that parsed nothing would pass vacuously.
  expect(report.summary.parsing_errors).toBe(0);
  expect(report.summary.passed).toBeGreaterThan(0);
  return report;
}

const dir = mkdtempSync(join(tmpdir(), 'frost-checkov-'));
function renderedFile(name: string, text: string): string {
  const file = join(dir, `${name.replace(/\W+/g, '-')}.yaml`);
  writeFileSync(file, text);
  return file;
}

const targets = (): [string, string, 'kubernetes' | 'dockerfile'][] => [
  ['chart (minimal values)', renderedFile('minimal', render(helm!, '-f', minimalValues)), 'kubernetes'],
  ['chart (cert-manager values)', renderedFile('cert-manager', render(helm!, '-f', certManagerValues)), 'kubernetes'],
  ['chart (fully-featured values)', renderedFile('full', render(helm!, '-f', fullValues)), 'kubernetes'],
  ['chart (signer-dials values)', renderedFile('signer-dials', render(helm!, '-f', signerDialsValues)), 'kubernetes'],
  ['docker/Dockerfile', join(repo, 'docker/Dockerfile'), 'dockerfile'],
];

(helm && checkov ? describe : describe.skip)('checkov', () => {
  it('every skip names a target that is scanned and gives a reason', () => {
    const scanned = targets().map(([name]) => name);
    expect(Object.keys(skips.targets).sort()).toEqual([...scanned].sort());
    for (const [target, checks] of Object.entries(skips.targets)) {
      for (const [id, { reason }] of Object.entries(checks)) {
        expect({ target, id, reasoned: /^CKV_[A-Z0-9]+_\d+$/.test(id) && reason.length > 80 }).toEqual({ target, id, reasoned: true });
      }
    }
  });

  it('reports, on the chart and the Dockerfile, exactly the findings with a reasoned skip', () => {
    for (const [name, file, framework] of targets()) {
      const report = scan(file, framework);
      const found = [...new Set((report.results?.failed_checks ?? []).map((f) => f.check_id))].sort();
      const allowed = Object.keys(skips.targets[name] ?? {}).sort();
      const unexplained = (report.results?.failed_checks ?? []).filter((f) => !allowed.includes(f.check_id)).map((f) => `${f.check_id} ${f.check_name}: ${f.resource}`);
      expect({ name, unexplained }).toEqual({ name, unexplained: [] });
      expect({ name, found }).toEqual({ name, found: allowed });
    }
  }, 180_000);

  it('catches a known-bad manifest (the check can fail): objects without a namespace land in "default"', () => {
    const bad = render(helm!, '-f', fullValues).replace(/^ {2}namespace: frost\n/gm, '');
    const report = scan(renderedFile('bad', bad), 'kubernetes');
    const ids = (report.results?.failed_checks ?? []).map((f) => f.check_id);
    expect(ids).toContain('CKV_K8S_21');
  }, 60_000);
});
