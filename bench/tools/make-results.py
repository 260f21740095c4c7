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
nat = lambda t, k: row(eng, t)[k]
e = r['e2e']; g = r['growth']; m = r['machine']
slope = (g[-1]['p50_ms'] - g[0]['p50_ms']) / (g[-1]['t'] - g[0]['t'])
lag64 = max(v['p99_ms'] for v in e['lag'].values())
lag1 = max(v['p99_ms'] for v in e['lagC1'].values())
runs = e['runs']
c1f = ', '.join(f"{x['p50_ms']:.2f}" for x in runs['c1']['frost'])
c1s = ', '.join(f"{x['p50_ms']:.2f}" for x in runs['c1']['single'])
tp = e['frost']['c64']['rps'] / e['single']['c64']['rps']
c1ratio = e['frost']['c1']['p50_ms'] / e['single']['c1']['p50_ms']
batch = e['batch']
bratio = batch['signatures_per_s'] / e['single']['c64']['rps']
total = lambda c: sum(c.values())
cpu_frost = total(e['frost']['cpu_per_1000']); cpu_single = total(e['single']['cpu_per_1000']); cpu_batch = total(batch['cpu_per_1000'])
coord_cpu = e['frost']['cpu_per_1000']['coordinator']
signer_cpu = sum(e['frost']['cpu_per_1000'][k] for k in ('signer-1', 'signer-2', 'signer-3')) / 3
single_cpu = e['single']['cpu_per_1000']['single-key']
verdict = lambda ok: '**met**' if ok else '**missed**'
base = e.get('baseline')
# Protocol compute per 2-of-3 signature: two shares (with the others' commitment validated: 2 points),
# two commitments, one verification on the coordinator (node:crypto, ≈ a third of aggregate's cost here).
validate_us = 27
verify_us = 60
floor_us = 2 * (nat(2, 'sign_us') + 2 * validate_us + nat(2, 'commit_us')) + verify_us
ceiling = 100 * cpu_single / (cpu_single + floor_us / 1000)
tr = {t['transport']: t for t in (r.get('transports') or [])}
def trcpu(k): return tr[k]['client_cpu_us'] + tr[k]['server_cpu_us'] if k in tr else float('nan')
g2 = g[0]; g15 = g[-1]
bd = e.get('c1_breakdown') or dict(request_ms=float('nan'), sign_ms=float('nan'), rpc_ms=float('nan'), signer_ms=float('nan'), cpu_ms={}, machine_busy=float('nan'), single_machine_busy=float('nan'))
vars = dict(
  rsname=rs, load=m.get('load_average_at_start', 'n/a'),
  parts_note=os.environ.get('BENCH_PARTS_NOTE', 'The compute figures come from the last run that measured them (their machine and date: the first table of the report) unless this run measured them too; the other parts are from this run.'),
  baseline_note=(f"`BENCH_BASELINE` ran the build before this change (`{base['dir']}`: the last commit's services) beside it, so before/after figures are from the same run too." if base else ''),
  r2=ratio(2, 'full_signing_us'), r2w=ratio(2, 'full_signing_wire_us'), r7=ratio(7, 'full_signing_us'), r7w=ratio(7, 'full_signing_wire_us'),
  v_r2=verdict(ratio(2, 'full_signing_us') <= 1.5), v_r7=verdict(ratio(7, 'full_signing_us') <= 2),
  p50=e['frost']['c1']['p50_ms'], p50s=e['single']['c1']['p50_ms'], c1ratio=c1ratio, c1f=c1f, c1s=c1s, v_c1=verdict(c1ratio <= 2.5),
  c1_before=(f"; before: {base['c1']['p50_ms']:.2f} ms = {base['c1']['p50_ms'] / e['single']['c1']['p50_ms']:.1f}×" if base else ''),
  rps=e['frost']['c64']['rps'], rpss=e['single']['c64']['rps'], tp=100 * tp, v_tp=verdict(tp >= 0.4),
  tp_before=(f"; before: {base['c64']['rps']:.0f} req/s = {100 * base['c64']['rps'] / e['single']['c64']['rps']:.1f}%" if base else ''),
  bsize=batch['size'], bsig=batch['signatures_per_s'], bratio=100 * bratio, bx=batch['signatures_per_s'] / e['frost']['c64']['rps'], v_batch=verdict(bratio >= 1),
  lag64=lag64, lag1=lag1, v_lag=verdict(lag64 < 10),
  slope=slope, v_slope=verdict(slope <= 0.5),
  cpu_frost=cpu_frost, cpu_single=cpu_single, cpu_batch=cpu_batch, cpu_ratio=cpu_frost / cpu_single,
  cpu_before=(f" (before: {total(base['cpu_per_1000']):.2f} s)" if base else ''),
  coord_cpu=coord_cpu, signer_cpu=signer_cpu, single_cpu=single_cpu, coord_ratio=coord_cpu / single_cpu,
  batch_items=e.get('round2_items_per_rpc', float('nan')),
  coalesce_change=(f"the coordinator's CPU per signature fell from {base['cpu_per_1000']['coordinator']:.2f} to {coord_cpu:.2f} ms, each signer's from {sum(base['cpu_per_1000'][k] for k in ('signer-1', 'signer-2', 'signer-3')) / 3:.2f} to {signer_cpu:.2f} ms" if base else f"the coordinator spent {coord_cpu:.2f} ms of CPU per signature and each signer {signer_cpu:.2f} ms (2.03 and 1.11 ms before coalescing, measured beside it in an earlier run)"),
  ws_cpu=trcpu('ws'), h1_cpu=trcpu('http1'), h2_cpu=trcpu('http2'),
  ws_p50=tr.get('ws', {}).get('p50_us', float('nan')), h1_p50=tr.get('http1', {}).get('p50_us', float('nan')), h2_p50=tr.get('http2', {}).get('p50_us', float('nan')),
  floor_ms=floor_us / 1000, nat_sign=nat(2, 'sign_us'), nat_commit=nat(2, 'commit_us'), verify_us=verify_us, ceiling=ceiling,
  coord_c1=g2['coordinator_cpu_ms'], signer_c1=g2['signer_cpu_ms'],
  bd_request=bd['request_ms'], bd_sign=bd['sign_ms'], bd_rpc=bd['rpc_ms'], bd_signer=bd['signer_ms'],
  bd_outside=bd['sign_ms'] - bd['rpc_ms'], bd_wire=bd['rpc_ms'] - bd['signer_ms'],
  bd_cpu=total(bd['cpu_ms']), bd_coord=bd['cpu_ms'].get('coordinator', float('nan')), bd_busy=100 * bd['machine_busy'], bd_sbusy=100 * bd['single_machine_busy'],
  cpu_frost_sig=cpu_frost,
  bd_single_cpu=(f", and the single-key service's {total(bd['single_cpu_ms']):.1f} ms (server and load generator)" if bd.get('single_cpu_ms') else ''),
  c1_change=(f"is {e['frost']['c1']['p50_ms']:.2f} ms against {base['c1']['p50_ms']:.2f} ms before" if base else f"is {e['frost']['c1']['p50_ms']:.2f} ms"),
  s15=g15['signer_cpu_ms'], c15=g15['coordinator_cpu_ms'],
  noble2=row('noble ed25519_FROST (as shipped)', 2)['full_signing_us'] / 1000, nat2=nat(2, 'full_signing_us') / 1000, nat2w=nat(2, 'full_signing_wire_us') / 1000,
)
text = open(os.path.join(BENCH, 'tools/RESULTS.tpl.md')).read().format(**vars)
report = open(os.path.join(BENCH, 'results/report.md')).read().split('\n', 2)[2]
report = report.replace('(compute.svg)', '(results/compute.svg)').replace('(latency-vs-t.svg)', '(results/latency-vs-t.svg)')
open(os.path.join(BENCH, 'RESULTS.md'), 'w').write(text + '\n---\n\n' + report)
print('wrote', os.path.join(BENCH, 'RESULTS.md'))
