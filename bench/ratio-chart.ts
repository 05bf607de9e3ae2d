/**
 * A ratio table as an SVG bar chart (no dependencies): one row per op, one bar per series, on a log2 axis
 * centred on 1× so that speed-ups and slow-downs get the same length for the same factor. `npm run bench`
 * writes one per suite with ratios, next to its markdown table, and refreshes docs/bench-<suite>.svg.
 */
import { mkdirSync, writeFileSync } from 'node:fs';

export interface RatioRow {
  /** e.g. "8192 multiply" */
  readonly label: string;
  /** One ratio per series (native speed-up: node-seal time / native time); NaN when not measured. */
  readonly ratios: readonly number[];
}

export interface RatioChart {
  readonly title: string;
  /** What each bar of a row is, e.g. ["1 thread", "2 threads"]. */
  readonly series: readonly string[];
  readonly rows: readonly RatioRow[];
  /** A line under the title: machine, load, date. */
  readonly note?: string;
}

const COLORS = ['#2f6fb3', '#e08a1e', '#3a9a5b', '#9b59b6'];
const LABEL_WIDTH = 190;
const PLOT_WIDTH = 560;
const BAR_HEIGHT = 12;
const ROW_GAP = 8;
const TOP = 70;

const escapeXml = (text: string): string =>
  text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c);

export function ratioChartSvg(chart: RatioChart): string {
  const finite = chart.rows.flatMap((r) => r.ratios.filter((v) => Number.isFinite(v) && v > 0));
  const lo = Math.floor(Math.log2(Math.min(0.5, ...finite)));
  const hi = Math.ceil(Math.log2(Math.max(2, ...finite)));
  const x = (ratio: number): number => LABEL_WIDTH + ((Math.log2(ratio) - lo) / (hi - lo)) * PLOT_WIDTH;
  const rowHeight = chart.series.length * BAR_HEIGHT + ROW_GAP;
  const height = TOP + chart.rows.length * rowHeight + 40;
  const width = LABEL_WIDTH + PLOT_WIDTH + 70;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${escapeXml(chart.title)}</text>`,
  ];
  if (chart.note) parts.push(`<text x="10" y="36" fill="#555555">${escapeXml(chart.note)}</text>`);
  chart.series.forEach((name, i) => {
    const lx = LABEL_WIDTH + i * 120;
    parts.push(
      `<rect x="${lx}" y="46" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/>`,
      `<text x="${lx + 14}" y="55">${escapeXml(name)}</text>`,
    );
  });
  const bottom = TOP + chart.rows.length * rowHeight;
  for (let p = lo; p <= hi; p++) {
    const tx = x(2 ** p).toFixed(1);
    const label = p >= 0 ? `${2 ** p}×` : `1/${2 ** -p}×`;
    parts.push(
      `<line x1="${tx}" y1="${TOP - 4}" x2="${tx}" y2="${bottom}" stroke="${p === 0 ? '#333333' : '#dddddd'}"/>`,
      `<text x="${tx}" y="${bottom + 14}" text-anchor="middle" fill="#555555">${label}</text>`,
    );
  }
  parts.push(
    `<text x="${LABEL_WIDTH + PLOT_WIDTH / 2}" y="${bottom + 30}" text-anchor="middle" fill="#555555">native speed-up over node-seal (log scale; right of 1× is faster)</text>`,
  );
  chart.rows.forEach((row, r) => {
    const y0 = TOP + r * rowHeight;
    parts.push(
      `<text x="${LABEL_WIDTH - 6}" y="${y0 + (chart.series.length * BAR_HEIGHT) / 2 + 4}" text-anchor="end">${escapeXml(row.label)}</text>`,
    );
    row.ratios.forEach((ratio, i) => {
      if (!Number.isFinite(ratio) || ratio <= 0) return;
      const [a, b] = [x(1), x(ratio)].sort((p, q) => p - q);
      const y = y0 + i * BAR_HEIGHT;
      parts.push(
        `<rect x="${a.toFixed(1)}" y="${y}" width="${Math.max(1, b - a).toFixed(1)}" height="${BAR_HEIGHT - 2}" fill="${COLORS[i % COLORS.length]}"><title>${escapeXml(`${row.label}, ${chart.series[i]}: ${ratio.toFixed(2)}×`)}</title></rect>`,
        `<text x="${(Math.max(x(1), x(ratio)) + 4).toFixed(1)}" y="${y + BAR_HEIGHT - 3}" fill="#333333">${ratio.toFixed(2)}×</text>`,
      );
    });
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** Writes bench/results/<stamp>-<suite>-ratios.svg and docs/bench-<suite>.svg (the copy the README shows). */
export function writeRatioChart(suite: string, chart: RatioChart, stamp: string): string {
  const svg = ratioChartSvg(chart);
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL(`./results/${stamp}-${suite}-ratios.svg`, import.meta.url), svg);
  mkdirSync(new URL('../docs/', import.meta.url), { recursive: true });
  const shown = new URL(`../docs/bench-${suite}.svg`, import.meta.url);
  writeFileSync(shown, svg);
  return shown.pathname;
}
