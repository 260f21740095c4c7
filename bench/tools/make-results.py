#!/usr/bin/env python3
"""Writes bench/RESULTS.md: the summary template (RESULTS.tpl.md) filled from results/results.json, then the
generated report. Run by `pnpm bench` after bench/dist/run.js."""
import json
import os

BENCH = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
r = json.load(open(os.path.join(BENCH, 'results/results.json')))
comp = r['compute']
rs = next(c['impl'] for c in comp if c['impl'].startswith('frost-rs'))
def row(impl, t): return next(c for c in comp if c['impl'] == impl and c['t'] == t)
eng = 'engine (native)'
ratio = lambda t, k: row(eng, t)[k] / row(rs, t)[k]
e = r['e2e']; g = r['growth']
slope = (g[-1]['p50_ms'] - g[0]['p50_ms']) / (g[-1]['t'] - g[0]['t'])
lag64 = max(v['p99_ms'] for v in e['lag'].values())
lag1 = max(v['p99_ms'] for v in e['lagC1'].values())
c1f = [x['p50_ms'] for x in e['runs']['c1Frost']]; c1s = [x['p50_ms'] for x in e['runs']['c1Single']]
prof = {p['process']: p['rows'] for p in r['profiles']}
coord = {x['fn'].split(' ')[0]: x['self_pct'] for x in prof.get('coordinator', [])}
idle = coord.get('(idle)', 0)
def pct(name): return coord.get(name, 0)
tp = e['frost']['c64']['rps'] / e['single']['c64']['rps']
cpu_frost = 2000 / e['frost']['c64']['rps']; cpu_single = 2000 / e['single']['c64']['rps']
nat = lambda t, k: row(eng, t)[k]
vars = dict(
  r2=ratio(2,'full_signing_us'), r2w=ratio(2,'full_signing_wire_us'), r7=ratio(7,'full_signing_us'), r7w=ratio(7,'full_signing_wire_us'),
  p50=e['frost']['c1']['p50_ms'], p50s=e['single']['c1']['p50_ms'], c1f=', '.join(f'{x:.2f}' for x in c1f), c1s=', '.join(f'{x:.2f}' for x in c1s),
  rps=e['frost']['c64']['rps'], rpss=e['single']['c64']['rps'], tp=100*tp, slope=slope, lag64=lag64, lag1=lag1,
  idle=idle, writev=pct('writev'), valid=pct('isValidElement'), verify=pct('verifyOneShot'), signjwt=pct('signOneShot'),
  cpuf=cpu_frost, cpus=cpu_single, noble2=row('noble ed25519_FROST (as shipped)',2)['full_signing_us']/1000, nat2=nat(2,'full_signing_us')/1000, nat2w=nat(2,'full_signing_wire_us')/1000,
  sign2=nat(2,'sign_us'), sign15=nat(15,'sign_us'), per=(nat(15,'sign_us')-nat(2,'sign_us'))/13, perall=((nat(15,'sign_us')-nat(2,'sign_us'))/13+54)/1000, rsname=rs,
)
text = open(os.path.join(BENCH, 'tools/RESULTS.tpl.md')).read().format(**vars)
report = open(os.path.join(BENCH, 'results/report.md')).read().split('\n', 2)[2]
report = report.replace('(compute.svg)', '(results/compute.svg)').replace('(latency-vs-t.svg)', '(results/latency-vs-t.svg)')
open(os.path.join(BENCH, 'RESULTS.md'), 'w').write(text + '\n---\n\n' + report)
print('wrote', os.path.join(BENCH, 'RESULTS.md'))
