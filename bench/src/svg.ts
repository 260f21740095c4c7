/** Minimal SVG line charts for the benchmark report (no dependencies). */
export interface Series {
  name: string;
  points: [number, number][];
  color: string;
}

export function lineChart(title: string, xLabel: string, yLabel: string, series: Series[], options: { logY?: boolean } = {}): string {
  const W = 720;
  const H = 420;
  const m = { l: 70, r: 200, t: 40, b: 50 };
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).filter((y) => y > 0);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const f = options.logY ? Math.log10 : (v: number) => v;
  const [y0, y1] = options.logY ? [Math.floor(f(Math.min(...ys))), Math.ceil(f(Math.max(...ys)))] : [0, Math.max(...ys) * 1.1];
  const px = (x: number) => m.l + ((x - x0) / (x1 - x0 || 1)) * (W - m.l - m.r);
  const py = (y: number) => H - m.b - ((f(y) - y0) / (y1 - y0 || 1)) * (H - m.t - m.b);
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`, `<rect width="100%" height="100%" fill="white"/>`];
  out.push(`<text x="${W / 2 - 100}" y="22" font-size="15" font-weight="bold">${title}</text>`);
  out.push(`<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="black"/><line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${H - m.b}" stroke="black"/>`);
  for (const x of [...new Set(xs)]) out.push(`<text x="${px(x) - 6}" y="${H - m.b + 16}">${x}</text><line x1="${px(x)}" y1="${H - m.b}" x2="${px(x)}" y2="${H - m.b + 4}" stroke="black"/>`);
  const ticks = options.logY ? Array.from({ length: y1 - y0 + 1 }, (_, i) => 10 ** (y0 + i)) : Array.from({ length: 6 }, (_, i) => (y1 * i) / 5);
  for (const y of ticks) {
    out.push(`<line x1="${m.l}" y1="${py(y)}" x2="${W - m.r}" y2="${py(y)}" stroke="#ddd"/>`);
    out.push(`<text x="${m.l - 8}" y="${py(y) + 4}" text-anchor="end">${y >= 1000 ? `${y / 1000}k` : +y.toPrecision(3)}</text>`);
  }
  out.push(`<text x="${(m.l + W - m.r) / 2 - 40}" y="${H - 12}">${xLabel}</text>`);
  out.push(`<text transform="translate(18 ${(m.t + H - m.b) / 2 + 40}) rotate(-90)">${yLabel}</text>`);
  series.forEach((s, i) => {
    const d = s.points.filter((p) => p[1] > 0).map((p, j) => `${j ? 'L' : 'M'}${px(p[0]).toFixed(1)} ${py(p[1]).toFixed(1)}`).join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    for (const p of s.points) out.push(`<circle cx="${px(p[0]).toFixed(1)}" cy="${py(p[1]).toFixed(1)}" r="3" fill="${s.color}"/>`);
    out.push(`<rect x="${W - m.r + 12}" y="${m.t + i * 20}" width="12" height="12" fill="${s.color}"/><text x="${W - m.r + 30}" y="${m.t + i * 20 + 10}">${s.name}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
