import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MonitoringAnalysis, MonitoringBaseline } from '@scones/monitor-analytics';
import { fixtureAnalysis } from '../../test/fixtures';
import { classMixChart, confidenceHistogramChart, embeddingMapChart, outOfDistributionChart, reportCharts, selectPoints, volumeChart } from './chart-specs';

let root: string;
let analysis: MonitoringAnalysis;
let baseline: MonitoringBaseline;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'chart-specs-'));
  ({ analysis, baseline } = await fixtureAnalysis(root));
});
afterAll(() => rm(root, { recursive: true, force: true }));

type Row = Record<string, number | string>;
const rowsOf = (spec: unknown): Row[] => (spec as { data: { values: Row[] } }).data.values;

describe('chart specs', () => {
  it('shows every request when there are few, and all below-threshold ones first when sampling', () => {
    const all = selectPoints(analysis, 10_000);
    expect(all.rows).toHaveLength(analysis.metrics.records.analyzed);
    const below = analysis.metrics.confidence.belowThreshold.count;
    const sampled = selectPoints(analysis, 2 * below + 10);
    expect(sampled.shown.below).toBe(below);
    expect(sampled.rows).toHaveLength(2 * below + 10);
    const tight = selectPoints(analysis, 40);
    expect(tight.shown).toEqual({ below: 20, passed: 20 });
    expect(tight.rows.filter((r) => r.status === 'below threshold').every((r) => r.confidence < 0.8)).toBe(true);
  });

  it('stacks volume per bucket so the bars add up to the requests', () => {
    const rows = rowsOf(volumeChart(analysis).spec);
    const total = rows.reduce((sum, r) => sum + (r.value as number), 0);
    expect(total).toBe(analysis.metrics.records.analyzed);
    for (const r of rows) expect((r.y1 as number) - (r.y0 as number)).toBeCloseTo(r.value as number, 9);
  });

  it('normalises the class mix to shares that sum to 1 per bucket', () => {
    const rows = rowsOf(classMixChart(analysis).spec);
    const tops = new Map<string, number>();
    for (const r of rows) tops.set(r.start as string, Math.max(tops.get(r.start as string) ?? 0, r.y1 as number));
    for (const top of tops.values()) expect(top).toBeCloseTo(1, 9);
  });

  it('puts baseline and traffic side by side in each confidence bin, each summing to 100 %', () => {
    const rows = rowsOf(confidenceHistogramChart(analysis, baseline).spec);
    const bySeries = new Map<string, number>();
    for (const r of rows) bySeries.set(r.series as string, (bySeries.get(r.series as string) ?? 0) + (r.share as number));
    expect([...bySeries.values()].map((v) => Number(v.toFixed(9)))).toEqual([1, 1]);
    const baselineRow = rows.find((r) => String(r.series).startsWith('baseline'))!;
    expect(baselineRow.x1).toBeCloseTo(((baselineRow.start as number) + (baselineRow.end as number)) / 2, 12);
  });

  it('names every chart and says how to read it', () => {
    const charts = reportCharts(analysis, baseline);
    expect(charts.map((c) => c.id)).toEqual(['confidence-over-time', 'confidence-histogram', 'volume', 'class-mix', 'brightness', 'embedding-map', 'out-of-distribution']);
    for (const c of charts) expect(c.caption.length).toBeGreaterThan(30);
    expect(charts[0].caption).toContain('threshold (0.80');
  });

  it('places every embedded request and every validation image on the embedding map, and each bucket\'s share on the timeline', () => {
    if ('unavailable' in analysis.embedding) throw new Error('embeddings expected');
    const map = rowsOf(embeddingMapChart(analysis)!.spec);
    expect(map.filter((r) => String(r.series).startsWith('validation'))).toHaveLength(analysis.embedding.baselinePoints.length);
    expect(map.filter((r) => String(r.series).startsWith('traffic, out'))).toHaveLength(analysis.embedding.outOfDistribution.count);
    const ood = rowsOf(outOfDistributionChart(analysis)!.spec);
    expect(ood.reduce((s, r) => s + (r.embedded as number), 0)).toBe(analysis.embedding.sampled);
    for (const r of ood) expect(r.share).toBeCloseTo((r.outOfDistribution as number) / (r.embedded as number), 12);
  });
});
