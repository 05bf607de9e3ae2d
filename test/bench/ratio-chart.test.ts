/** The benchmark chart: one bar per measured ratio, on a log axis where ×2 and ×½ get the same length. */
import { describe, expect, it } from 'vitest';
import { ratioChartSvg } from '../../bench/ratio-chart.ts';

const bars = (svg: string): { x: number; width: number; title: string }[] =>
  [
    ...svg.matchAll(
      /<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)" height="10" fill="#[0-9a-f]+"><title>([^<]*)<\/title>/g,
    ),
  ].map(([, x, width, title]) => ({ x: Number(x), width: Number(width), title }));

describe('ratio chart', () => {
  it('draws one bar per ratio, speed-ups right of 1× and slow-downs left, symmetric on the log axis', () => {
    const svg = ratioChartSvg({
      title: 'native vs node-seal',
      series: ['1 thread', '2 threads'],
      rows: [
        { label: 'N=8192 multiply', ratios: [2, 8] },
        { label: 'N=8192 keygen', ratios: [0.5, NaN] },
      ],
    });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    const drawn = bars(svg);
    expect(drawn.map((b) => b.title)).toEqual([
      'N=8192 multiply, 1 thread: 2.00×',
      'N=8192 multiply, 2 threads: 8.00×',
      'N=8192 keygen, 1 thread: 0.50×',
    ]);
    const [twice, eight, half] = drawn;
    expect(twice.x).toBeCloseTo(half.x + half.width, 0); // both start or end at the 1× line
    expect(half.width).toBeCloseTo(twice.width, 0);
    expect(eight.width).toBeCloseTo(3 * twice.width, 0);
    expect(svg).toContain('>1×</text>');
  });

  it('escapes labels', () => {
    const svg = ratioChartSvg({ title: 'a < b & "c"', series: ['x'], rows: [{ label: '<op>', ratios: [3] }] });
    expect(svg).toContain('a &lt; b &amp; &quot;c&quot;');
    expect(svg).toContain('&lt;op&gt;');
    expect(svg).not.toContain('<op>');
  });
});
