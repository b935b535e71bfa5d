import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureAnalysis } from '../../test/fixtures';
import { buildMonitoringReport } from './build-report';
import { renderReportHtml } from './report-html';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'report-html-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

const GENERATED = new Date('2026-03-01T12:00:00.000Z');

describe('the monitoring report', () => {
  it('is one self-contained HTML page with every chart as inline SVG and the inputs as data: URIs', async () => {
    const { analysis, baseline } = await fixtureAnalysis(join(root, 'a'));
    const report = await buildMonitoringReport(analysis, baseline, GENERATED);
    const html = report.html;
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    for (const id of ['confidence-over-time', 'confidence-histogram', 'volume', 'class-mix', 'brightness']) {
      expect(html).toMatch(new RegExp(`<figure class="chart" id="chart-${id}"><h3>[^<]+</h3><figcaption>[^<]+</figcaption><svg `));
    }
    const images = html.match(/<img src="data:image\/png;base64,[A-Za-z0-9+/=]+"/g) ?? [];
    expect(images).toHaveLength(analysis.examples.recent.length + analysis.examples.lowestConfidence.length);
    // Nothing is fetched: no script, no external src/href, and a CSP that forbids it anyway.
    expect(html).not.toMatch(/<script|<link|src="http|href="http|url\(http/i);
    expect(html).toContain('http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; img-src data:; style-src &#39;unsafe-inline&#39;"');
    expect(html).toContain('drift violations against the baseline of model scones-job-1');
    expect(html).toContain('data_capture/scones-endpoint/AllTraffic/2026/03/01/08/00-00-000-00000000-synthetic.jsonl</code></td><td class="num">61</td><td>not valid JSON');
  });

  it('writes summary.json figures consistent with the analysis', async () => {
    const { analysis, baseline } = await fixtureAnalysis(join(root, 'b'));
    const { summary, violations, constraints } = await buildMonitoringReport(analysis, baseline, GENERATED);
    expect(summary).toMatchObject({
      version: 1,
      endpointName: 'scones-endpoint',
      generatedAt: GENERATED.toISOString(),
      model: { jobName: 'scones-job-1', threshold: 0.8, classNames: ['bicycle', 'motorcycle'] },
      records: { analyzed: 360, malformed: 2 },
      drift: { violations: violations.violations.length },
      malformedLines: { count: 2 },
    });
    expect(summary.predictedClasses.bicycle.count + summary.predictedClasses.motorcycle.count).toBe(360);
    expect(summary.confidence.quantiles.p50).toBeCloseTo(analysis.metrics.confidence.distribution.p50, 12);
    expect(violations.violations.map((v) => v.metric)).toEqual(expect.arrayContaining(['brightness_red_ks', 'confidence_ks']));
    expect(constraints.constraints).toHaveLength(6);
    expect(JSON.parse(JSON.stringify(summary))).toEqual(summary); // nothing JSON cannot hold (NaN, typed arrays)
  });

  it('escapes every data-derived text: class, endpoint and file names cannot inject markup', async () => {
    const evil = '<img src=x onerror=alert(1)>';
    const { analysis, baseline } = await fixtureAnalysis(join(root, 'c'), { classNames: [evil, 'motor"cycle'] });
    analysis.endpointName = `<script>alert("endpoint")</script>`;
    const { html } = await buildMonitoringReport(analysis, baseline, GENERATED);
    expect(html).not.toContain(evil);
    expect(html).not.toContain('<script');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('motor&quot;cycle');
  });

  it('says so instead of drawing empty charts when nothing was captured', async () => {
    const { analysis, baseline } = await fixtureAnalysis(join(root, 'd'));
    const empty = { ...analysis, metrics: { ...analysis.metrics, records: { analyzed: 0, outsideWindow: 0, malformed: 0 } }, examples: { recent: [], lowestConfidence: [] } };
    const html = renderReportHtml({ analysis: empty, baseline, charts: [], generatedAt: GENERATED });
    expect(html).toContain('No captured requests in this window: nothing to chart.');
    expect(html).not.toContain('<svg');
  });

  it('shows a placeholder, not a broken data: URI, for an input that is not an image', async () => {
    const { analysis, baseline } = await fixtureAnalysis(join(root, 'e'));
    analysis.examples.recent[0] = { ...analysis.examples.recent[0], imageBase64: Buffer.from('plain text " onload="x').toString('base64') };
    const html = renderReportHtml({ analysis, baseline, charts: [], generatedAt: GENERATED });
    expect(html).toContain('<div class="broken">not a PNG/JPEG</div>');
    expect(html).not.toContain('onload=');
  });
});
