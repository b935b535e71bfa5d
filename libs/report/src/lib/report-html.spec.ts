import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constraintViolationsFileSchema, statisticsFileSchema, constraintsFileSchema } from '@scones/monitor-analytics';
import { fixtureAnalysis } from '../../test/fixtures';
import { buildMonitoringReport } from './build-report';
import { escapeHtml } from './escape-html';
import { renderReportHtml } from './report-html';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'report-html-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

const GENERATED = new Date('2026-03-01T12:00:00.000Z');
const CHARTS = ['confidence-over-time', 'confidence-histogram', 'volume', 'class-mix', 'brightness', 'embedding-map', 'out-of-distribution'];

/** The text content of an HTML fragment (tags dropped, the few entities the page uses decoded). */
const text = (html: string) =>
  html
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
/** Each `<tr class="cls">` row's cells, as text. */
const rows = (html: string, cls: string) => [...html.matchAll(new RegExp(`<tr class="${cls}"[^>]*>(.*?)</tr>`, 'g'))].map((m) => [...m[1].matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((c) => text(c[1])));

describe('the monitoring report', () => {
  it('is one self-contained HTML page with every chart as inline SVG and the inputs as data: URIs', async () => {
    const { analysis, baseline } = await fixtureAnalysis(join(root, 'a'));
    const report = await buildMonitoringReport(analysis, baseline, GENERATED, 'hourly');
    const html = report.html;
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    for (const id of CHARTS) {
      expect(html).toMatch(new RegExp(`<figure class="chart" id="chart-${id}"><h3>[^<]+</h3><figcaption>[^<]+</figcaption><svg `));
    }
    const images = html.match(/<img src="data:image\/png;base64,[A-Za-z0-9+/=]+"/g) ?? [];
    expect(images).toHaveLength(analysis.examples.recent.length + analysis.examples.lowestConfidence.length);
    // Nothing is fetched: no script, no external src/href, and a CSP that forbids it anyway.
    expect(html).not.toMatch(/<script|<link|src="http|href="http|url\(http/i);
    expect(html).toContain('http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; img-src data:; style-src &#39;unsafe-inline&#39;"');
    expect(html).toContain('violations against the baseline of model scones-job-1');
    expect(html).toContain('schedule <b>hourly</b>');
    expect(html).toContain('data_capture/scones-endpoint/AllTraffic/2026/03/01/08/00-00-000-00000000-synthetic.jsonl</code></td><td class="num">61</td><td>not valid JSON');
  });

  it('says what the Model Monitor files beside it say: the same violations, word for word, and the same statistics', async () => {
    const { analysis, baseline } = await fixtureAnalysis(join(root, 'b'));
    const report = await buildMonitoringReport(analysis, baseline, GENERATED, 'hourly');
    const violations = constraintViolationsFileSchema.parse(report.violations);
    const statistics = statisticsFileSchema.parse(report.statistics);
    constraintsFileSchema.parse(report.baselineConstraints);
    statisticsFileSchema.parse(report.baselineStatistics);
    expect(violations.violations.length).toBeGreaterThan(0);
    expect(rows(report.html, 'mm-violation')).toEqual(violations.violations.map((v) => [v.feature_name, v.constraint_check_type, v.description]));
    // Every violation is also in the drift callout, with its check's description.
    for (const v of violations.violations) expect(text(report.html)).toContain(v.description.slice(v.description.indexOf(': ') + 2));
    const featureRows = rows(report.html, 'mm-feature');
    expect(featureRows.map((r) => r[0])).toEqual(statistics.features.map((f) => f.name));
    statistics.features.forEach((f, i) => {
      const common = f.inferred_type === 'String' ? f.string_statistics.common : f.numerical_statistics.common;
      expect(featureRows[i].slice(1, 4)).toEqual([f.inferred_type, common.num_present.toLocaleString('en-US'), common.num_missing.toLocaleString('en-US')]);
      if (f.inferred_type !== 'String') expect(Number(featureRows[i][4])).toBeCloseTo(f.numerical_statistics.mean ?? Number.NaN, 4);
    });
    // The headline figures and summary.json agree with the files.
    expect(statistics.dataset.item_count).toBe(report.summary.records.analyzed);
    expect(html(report.html, 'Violations')).toBe(String(violations.violations.length));
    expect(report.summary.drift.violations).toBe(violations.violations.length);
    expect(report.summary.drift.checks.filter((c) => c.status === 'violation').map((c) => [c.feature, c.checkType])).toEqual(violations.violations.map((v) => [v.feature_name, v.constraint_check_type]));
  });

  it('shows the embedding check, its statistic, the out-of-distribution share and where the traffic lies', async () => {
    const { analysis, baseline } = await fixtureAnalysis(join(root, 'c'));
    const report = await buildMonitoringReport(analysis, baseline, GENERATED, 'hourly');
    if ('unavailable' in analysis.embedding) throw new Error('embeddings expected');
    const check = analysis.drift.checks.find((c) => c.metric === 'embedding_log_rank')!;
    expect(report.html).toContain('Embeddings: atypicality, log-rank test');
    expect(report.html).toContain(`log-rank score excess ${analysis.embedding.test!.statistic.toFixed(4)}`);
    expect(text(report.html)).toContain(check.description);
    expect(report.summary.embedding).toMatchObject({ available: true, sampled: analysis.embedding.sampled, outOfDistribution: analysis.embedding.outOfDistribution });
    expect(report.summary.outOfDistributionOverTime.reduce((s, b) => s + b.embedded, 0)).toBe(analysis.embedding.sampled);
    expect(html(report.html, 'Out of distribution')).toBe(`${((analysis.embedding.outOfDistribution.share ?? 0) * 100).toFixed(1)} %`);
  });

  it('writes summary.json figures consistent with the analysis', async () => {
    const { analysis, baseline } = await fixtureAnalysis(join(root, 'd'));
    const { summary, violations } = await buildMonitoringReport(analysis, baseline, GENERATED, 'hourly');
    expect(summary).toMatchObject({
      version: 2,
      endpointName: 'scones-endpoint',
      schedule: 'hourly',
      generatedAt: GENERATED.toISOString(),
      model: { jobName: 'scones-job-1', threshold: 0.8, classNames: ['bicycle', 'motorcycle'] },
      records: { analyzed: 360, malformed: 2 },
      drift: { violations: violations.violations.length, significance: { checks: 7 } },
      malformedLines: { count: 2 },
      modelMonitor: { statistics: 'statistics.json', constraintViolations: 'constraint_violations.json', baselineStatistics: '_baselines/scones-job-1/statistics.json' },
    });
    expect(summary.predictedClasses.bicycle.count + summary.predictedClasses.motorcycle.count).toBe(360);
    expect(summary.confidence.quantiles.p50).toBeCloseTo(analysis.metrics.confidence.distribution.p50, 12);
    expect(violations.violations.map((v) => v.feature_name)).toEqual(expect.arrayContaining(['brightness_red', 'confidence']));
    expect(JSON.parse(JSON.stringify(summary))).toEqual(summary); // nothing JSON cannot hold (NaN, typed arrays)
  });

  it('escapes every data-derived text: class, endpoint and file names cannot inject markup', async () => {
    const evil = '<img src=x onerror=alert(1)>';
    const { analysis, baseline } = await fixtureAnalysis(join(root, 'e'), { classNames: [evil, 'motor"cycle'] });
    analysis.endpointName = `<script>alert("endpoint")</script>`;
    const { html } = await buildMonitoringReport(analysis, baseline, GENERATED, 'hourly');
    expect(html).not.toContain(evil);
    expect(html).not.toContain('<script');
    expect(html).toContain(escapeHtml(evil));
    expect(html).toContain('motor&quot;cycle');
  });

  it('says so instead of drawing empty charts when nothing was captured, and when there are no embeddings', async () => {
    const { analysis, baseline } = await fixtureAnalysis(join(root, 'f'), { embeddings: false });
    const report = await buildMonitoringReport(analysis, baseline, GENERATED, 'hourly');
    expect(report.html).toContain('Embedding drift and out-of-distribution share not available: the model manifest has no embeddings');
    expect(report.html).not.toContain('chart-embedding-map');
    const empty = { ...analysis, metrics: { ...analysis.metrics, records: { analyzed: 0, outsideWindow: 0, malformed: 0 } }, examples: { recent: [], lowestConfidence: [] } };
    const html = renderReportHtml({ analysis: empty, baseline, charts: [], generatedAt: GENERATED, schedule: 'hourly', modelMonitor: report });
    expect(html).toContain('No captured requests in this window: nothing to chart.');
    expect(html).not.toContain('<svg');
  });

  it('shows a placeholder, not a broken data: URI, for an input that is not an image', async () => {
    const { analysis, baseline } = await fixtureAnalysis(join(root, 'g'), { embeddings: false });
    const report = await buildMonitoringReport(analysis, baseline, GENERATED, 'hourly');
    analysis.examples.recent[0] = { ...analysis.examples.recent[0], imageBase64: Buffer.from('plain text " onload="x').toString('base64') };
    const html = renderReportHtml({ analysis, baseline, charts: [], generatedAt: GENERATED, schedule: 'hourly', modelMonitor: report });
    expect(html).toContain('<div class="broken">not a PNG/JPEG</div>');
    expect(html).not.toContain('onload=');
  });
});

/** The value of the headline figure labelled `label`. */
function html(page: string, label: string): string {
  const match = new RegExp(`<div class="label">${label}</div><div class="value">([^<]*)</div>`).exec(page);
  if (!match) throw new Error(`no headline figure "${label}"`);
  return text(match[1]);
}
