import { h } from 'preact';
import type { VNode } from 'preact';
import { renderToString } from 'preact-render-to-string';
import { describe, expect, it } from 'vitest';
import { BarChart, DataTable, LineChart, PieChart, formatNumber } from '../../site/src/components/charts.tsx';

/** The tiles' charts as the server renders them (the island hydrates the same markup). */
// renderToString is typed for VNode<unknown>; a component's vnode carries its props' type.
const html = <P>(node: VNode<P>) => renderToString(node as unknown as VNode);
const attr = (markup: string, name: string) => new RegExp(`${name}="([^"]*)"`).exec(markup)?.[1];

describe('bar chart', () => {
  const rows = [
    { label: 'Total Protection', value: 615 },
    { label: 'Multi-Device Protection Plus', value: 208 },
  ];

  it('keeps a long label readable: shortened on the bar, whole in the tooltip and the accessible label', () => {
    const out = html(h(BarChart, { rows, title: 'Claims by product' }));
    expect(out).toContain('>Multi-Device Pro…</text>');
    expect(out).toContain('<title>Multi-Device Protection Plus: 208</title>');
    expect(attr(out, 'aria-label')).toBe('Claims by product: bar chart. Total Protection 615, Multi-Device Protection Plus 208');
  });

  it('scales bars to the largest value', () => {
    const widths = [...html(h(BarChart, { rows, title: 't' })).matchAll(/<rect[^>]*width="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(widths[0]).toBe(160);
    expect(widths[1]).toBeCloseTo((208 / 615) * 160, 5);
  });

  it('says when there is nothing to draw', () => {
    expect(html(h(BarChart, { rows: [], title: 't' }))).toContain('No rows in this window.');
  });
});

describe('pie chart', () => {
  it('labels each slice with its share', () => {
    const out = html(h(PieChart, { rows: [{ label: 'approved', value: 3 }, { label: 'denied', value: 1 }], title: 'Status mix' }));
    expect(out).toContain('approved · 75%');
    expect(out).toContain('denied · 25%');
    expect(out.match(/<path /g)).toHaveLength(2);
  });
});

describe('line chart', () => {
  const day = (d: number, value: number | null) => ({ label: `2026-11-${String(d).padStart(2, '0')}T00:00:00.000Z`, value });

  it('leaves a gap where a bucket has no value instead of falling to zero', () => {
    const out = html(h(LineChart, { rows: [day(1, 4), day(2, 6), day(3, null), day(4, 5), day(5, 7)], title: 'Claims' }));
    const d = /<path d="([^"]+)"/.exec(out)?.[1] ?? '';
    expect(d.match(/M/g)).toHaveLength(2);
    expect(attr(out, 'aria-label')).toBe(
      'Claims: line chart of 5 points from Nov 1, 2026 to Nov 5, 2026; lowest 4 at Nov 1, 2026, highest 7 at Nov 5, 2026; latest 7.',
    );
  });

  it('draws a breakdown across its labels when the rows are not a time series', () => {
    const out = html(h(LineChart, { rows: [{ label: 'EMEA', value: 2 }, { label: 'APAC', value: 4 }], title: 'By region' }));
    expect(attr(out, 'aria-label')).toBe('By region: line chart across EMEA 2, APAC 4');
  });
});

describe('table and numbers', () => {
  it('formats numeric cells and leaves text alone', () => {
    const out = html(h(DataTable, { rows: [{ label: 'Device Care', value: 12345.678 }], columns: ['label', 'value'] }));
    expect(out).toContain('<td>Device Care</td><td>12,345.68</td>');
  });

  it('speaks each unit', () => {
    expect(formatNumber(116214.4, 'usd')).toBe('$116,214');
    expect(formatNumber(59.66, 'percent')).toBe('59.7%');
    expect(formatNumber(742, 'seconds')).toBe('12.4 min');
    expect(formatNumber(45, 'seconds')).toBe('45 s');
  });
});
