import { decodeImage, sniffImageFormat } from '@scones/image-classifier/decode';
import type { ConstraintsFile, ConstraintViolationsFile, DriftCheck, InputExample, MonitoringAnalysis, MonitoringBaseline, StatisticsFile } from '@scones/monitor-analytics';
import { escapeHtml as e } from './escape-html';

/** A chart rendered to SVG, with its heading and reading guide. */
export interface RenderedChart {
  id: string;
  title: string;
  caption: string;
  svg: string;
}

export interface ReportHtmlInput {
  analysis: MonitoringAnalysis;
  baseline: MonitoringBaseline;
  charts: RenderedChart[];
  generatedAt: Date;
  schedule: string;
  /** The Model Monitor files written beside the page: the page shows what they say. */
  modelMonitor: { statistics: StatisticsFile; violations: ConstraintViolationsFile; baselineStatistics: StatisticsFile; baselineConstraints: ConstraintsFile };
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const pct = (x: number | null, digits = 1) => (x === null || !Number.isFinite(x) ? '–' : `${(x * 100).toFixed(digits)} %`);
const num = (x: number | null | undefined, digits = 3) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits));
const pValue = (p: number | null) => (p === null || !Number.isFinite(p) ? '–' : p < 1e-4 ? p.toExponential(1) : p.toFixed(4));
const when = (iso: string | null) => (iso ? iso.replace('T', ' ').replace(/\.\d{3}Z$/, 'Z').replace(/Z$/, ' UTC') : 'open');
/** `2026-03-01 08:00–10:59 UTC`, or both dates when the span crosses midnight. */
function span(first: string, last: string): string {
  const [d1, t1] = [first.slice(0, 10), first.slice(11, 16)];
  const [d2, t2] = [last.slice(0, 10), last.slice(11, 16)];
  return d1 === d2 ? `${d1} ${t1}–${t2} UTC` : `${d1} ${t1} – ${d2} ${t2} UTC`;
}

// No scripts, no network: the CSP makes "self-contained" a property the browser enforces.
const CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'";

const STYLE = `
:root { --fg:#1f2933; --muted:#616e7c; --line:#e4e7eb; --bg:#f5f7fa; --card:#fff; --red:#c53030; --red-bg:#fde8e8; --green:#276749; --green-bg:#e3f9e5; --grey-bg:#eef2f7; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; color: var(--fg); background: var(--bg); }
header { background: #1f2933; color: #fff; padding: 22px 32px 20px; }
header h1 { margin: 0; font-size: 22px; font-weight: 600; }
header p { margin: 4px 0 0; color: #cbd2d9; font-size: 13px; }
header b { color: #fff; }
main { max-width: 1240px; margin: 0 auto; padding: 20px 32px 40px; }
h2 { font-size: 18px; margin: 32px 0 12px; }
h3 { font-size: 15px; margin: 0 0 2px; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(165px, 1fr)); gap: 12px; }
.kpi { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
.kpi .label { color: var(--muted); font-size: 11.5px; text-transform: uppercase; letter-spacing: .05em; }
.kpi .value { font-size: 24px; font-weight: 600; margin-top: 2px; font-variant-numeric: tabular-nums; }
.kpi .note { color: var(--muted); font-size: 12px; }
.kpi.alert .value { color: var(--red); }
.callout { border-radius: 8px; padding: 12px 16px; margin: 0 0 12px; font-weight: 600; }
.callout.bad { background: var(--red-bg); color: var(--red); border: 1px solid #f8b4b4; }
.callout.good { background: var(--green-bg); color: var(--green); border: 1px solid #a8e6b5; }
.callout.neutral { background: var(--grey-bg); color: var(--muted); border: 1px solid var(--line); }
.callout ul { margin: 6px 0 0; padding-left: 20px; font-weight: normal; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(540px, 1fr)); gap: 16px; }
figure.chart { margin: 0; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; }
figure.chart figcaption { color: var(--muted); font-size: 12.5px; margin-bottom: 8px; }
figure.chart svg { display: block; max-width: 100%; height: auto; }
.table-wrap { overflow-x: auto; background: var(--card); border: 1px solid var(--line); border-radius: 8px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 7px 12px; border-bottom: 1px solid var(--line); font-size: 13px; vertical-align: top; }
tr:last-child td { border-bottom: none; }
th { color: var(--muted); font-weight: 600; background: #f8fafc; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.status { display: inline-block; padding: 1px 9px; border-radius: 999px; font-size: 12px; font-weight: 600; white-space: nowrap; }
.status.violation { background: var(--red-bg); color: var(--red); }
.status.ok { background: var(--green-bg); color: var(--green); }
.status.insufficient-data, .status.not-available { background: var(--grey-bg); color: var(--muted); }
.thumbs { display: grid; grid-template-columns: repeat(auto-fill, minmax(140px, 1fr)); gap: 12px; }
.thumb { margin: 0; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 8px 8px; text-align: center; }
.thumb img, .thumb .broken { width: 96px; height: 96px; image-rendering: pixelated; border-radius: 4px; background: #e4e7eb; display: block; margin: 0 auto 6px; }
.thumb .broken { display: flex; align-items: center; justify-content: center; color: var(--muted); font-size: 11px; }
.thumb .label { font-weight: 600; }
.thumb .conf { font-variant-numeric: tabular-nums; font-size: 15px; }
.thumb .conf.below { color: var(--red); font-weight: 600; }
.thumb .flag { display: inline-block; margin-top: 2px; padding: 0 6px; border-radius: 999px; background: var(--red-bg); color: var(--red); font-size: 11px; }
.thumb .meta { color: var(--muted); font-size: 11px; word-break: break-all; }
.two-col { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; }
.muted { color: var(--muted); }
.empty { background: var(--card); border: 1px dashed var(--line); border-radius: 8px; padding: 24px; text-align: center; color: var(--muted); }
footer { color: var(--muted); font-size: 12px; margin-top: 36px; }
code { font-size: 12px; background: var(--grey-bg); padding: 1px 4px; border-radius: 3px; }
`;

function kpi(label: string, value: string, note = '', alert = false): string {
  return `<div class="kpi${alert ? ' alert' : ''}"><div class="label">${e(label)}</div><div class="value">${e(value)}</div><div class="note">${e(note)}</div></div>`;
}

const CHECK_NAMES: Record<string, string> = {
  confidence_psi: 'Confidence: population stability index',
  confidence_ks: 'Confidence: Kolmogorov-Smirnov',
  predicted_class_chi_square: 'Predicted-class mix: chi-square',
  brightness_red_ks: 'Brightness (red): Kolmogorov-Smirnov',
  brightness_green_ks: 'Brightness (green): Kolmogorov-Smirnov',
  brightness_blue_ks: 'Brightness (blue): Kolmogorov-Smirnov',
  embedding_log_rank: 'Embeddings: atypicality, log-rank test',
  brightness_red_completeness: 'Brightness (red): completeness',
  brightness_green_completeness: 'Brightness (green): completeness',
  brightness_blue_completeness: 'Brightness (blue): completeness',
  image_size_completeness: 'Image size: completeness',
  image_size_domain: 'Image size: values outside the baseline',
};

const STATISTIC_NAMES: Record<string, string> = {
  psi: 'PSI',
  ks_d: 'KS D',
  max_class_share_shift: 'max share change',
  log_rank_excess: 'log-rank score excess',
  completeness: 'completeness',
  share_outside_domain: 'share outside',
};

/** The "violation if" cell: the effect-size rule of each kind of check. */
function violationRule(c: DriftCheck): string {
  switch (c.test) {
    case 'population-stability-index':
      return `&gt; ${num(c.threshold)}`;
    case 'log-rank':
      return '&gt; 0';
    case 'completeness':
      return `&lt; ${pct(c.threshold, 0)}`;
    case 'domain':
      return `&gt; ${pct(c.threshold, 0)}`;
    default:
      return `≥ ${num(c.threshold)}`;
  }
}

const STATUS_TEXT: Record<string, string> = { 'insufficient-data': 'too little data', 'not-available': 'not available' };

function checksTable(checks: DriftCheck[]): string {
  const rows = checks
    .map(
      (c) => `<tr>
<td>${e(CHECK_NAMES[c.metric] ?? c.metric)}<div class="muted">${e(c.description)}</div></td>
<td>${e(STATISTIC_NAMES[c.statisticName] ?? c.statisticName)}</td>
<td class="num">${num(c.observed)}</td>
<td class="num">${violationRule(c)}</td>
<td class="num">${pValue(c.pValue)}</td>
<td class="num">${c.pValueThreshold < 1 ? `&lt; ${pValue(c.pValueThreshold)}` : '–'}</td>
<td class="num">${int(c.observedCount)} / ${int(c.baselineCount)}</td>
<td><span class="status ${e(c.status)}">${e(STATUS_TEXT[c.status] ?? c.status)}</span></td>
</tr>`,
    )
    .join('\n');
  return `<div class="table-wrap"><table>
<thead><tr><th>check</th><th>statistic</th><th class="num">observed</th><th class="num">violation if</th><th class="num">p-value</th><th class="num">and p</th><th class="num">n traffic / baseline</th><th>status</th></tr></thead>
<tbody>
${rows}
</tbody></table></div>`;
}

function driftSection(analysis: MonitoringAnalysis, baseline: MonitoringBaseline): string {
  const violated = analysis.drift.checks.filter((c) => c.status === 'violation');
  const evaluated = analysis.drift.checks.filter((c) => c.status === 'ok' || c.status === 'violation').length;
  const { policy, significance } = analysis.drift;
  let callout: string;
  if (violated.length) {
    callout = `<div class="callout bad">${violated.length} violation${violated.length === 1 ? '' : 's'} against the baseline of model ${e(baseline.jobName)}<ul>${violated
      .map((v) => `<li>${e(CHECK_NAMES[v.metric] ?? v.metric)}: ${e(v.description)}</li>`)
      .join('')}</ul></div>`;
  } else if (evaluated === 0) {
    callout = `<div class="callout neutral">No drift check could be evaluated: each needs at least ${policy.minimumSampleSize} requests and ${policy.minimumSampleSize} baseline values.</div>`;
  } else {
    callout = `<div class="callout good">No violations against the baseline of model ${e(baseline.jobName)} (${evaluated} of ${analysis.drift.checks.length} checks evaluated).</div>`;
  }
  const rule =
    `A statistical check is violated when the difference is both significant (p below ${significance.level} split over the ${significance.checks} tests, Bonferroni: ${pValue(significance.perCheckSignificance)}) ` +
    `and material (PSI above ${policy.psiThreshold}, KS D of at least ${policy.ksMinimumStatistic}, a class share moving by at least ${policy.classShareMinimumShift}; the embedding test needs significance alone). ` +
    `Completeness and image sizes are held to the baseline's: every sampled input a decodable image, of a size the validation images had. ` +
    `Baseline: ${int(baseline.count)} validation images of model ${baseline.jobName}. Every rule is in summary.json; the violations, in Model Monitor's format, in constraint_violations.json.`;
  return `<section id="drift"><h2>Drift against the baseline</h2>${callout}${checksTable(analysis.drift.checks)}<p class="muted">${e(rule)}</p></section>`;
}

function embeddingSection(analysis: MonitoringAnalysis): string {
  const embedding = analysis.embedding;
  if ('unavailable' in embedding) {
    return `<section id="embeddings"><h2>The model's view of the inputs</h2><div class="callout neutral">Embedding drift and out-of-distribution share not available: ${e(embedding.unavailable)}.</div></section>`;
  }
  const check = analysis.drift.checks.find((c) => c.metric === 'embedding_log_rank');
  const ood = embedding.outOfDistribution;
  const test = embedding.test;
  const rows = [
    ['inputs embedded', `${int(embedding.sampled)}${embedding.sampled >= embedding.sampleLimit ? ` (a uniform sample, at most ${int(embedding.sampleLimit)})` : ''}, ${int(embedding.distinct)} distinct`],
    ['drift test', test ? `log-rank score excess ${num(test.statistic, 4)}, p ${test.stoppedEarly ? '≥' : '='} ${pValue(test.pValue)} over ${int(test.permutations)} permutations (violation when p &lt; ${pValue(check?.pValueThreshold ?? null)})` : 'not run: too few distinct inputs'],
    ['atypicality', `mean whitened distance to the ${int(embedding.neighbours)} nearest training images (Mahalanobis under the training images' covariance)`],
    ['out of distribution', `${pct(ood.share)} of embedded inputs (${int(ood.count)}) are more atypical than ${num(ood.threshold, 4)}, the atypicality ${pct(ood.quantile, 0)} of validation images stay within (${pct(ood.expectedShare, 0)} expected on healthy traffic)`],
  ];
  return `<section id="embeddings"><h2>The model's view of the inputs</h2>
<p class="muted">The model's stage features (per-channel mean and spread of every feature map it pools, from colour and texture to the object) of a sample of the captured images: how far each lies from the nearest training images, compared with the validation images' distances (the drift test and the out-of-distribution share). The pictures are in the charts below.</p>
<div class="table-wrap"><table><tbody>${rows.map(([k, v]) => `<tr><th>${e(k)}</th><td>${v}</td></tr>`).join('')}</tbody></table></div></section>`;
}

/** The Model Monitor files of the report, as the page shows them: the same rows, the same words. */
function modelMonitorSection(input: ReportHtmlInput): string {
  const { statistics, violations } = input.modelMonitor;
  const violationRows = violations.violations.length
    ? violations.violations
        .map((v) => `<tr class="mm-violation"><td><code>${e(v.feature_name)}</code></td><td><code>${e(v.constraint_check_type)}</code></td><td>${e(v.description)}</td></tr>`)
        .join('')
    : '<tr><td colspan="3" class="muted">none</td></tr>';
  const featureRows = statistics.features
    .map((f) => {
      if (f.inferred_type === 'String') {
        const s = f.string_statistics;
        const values = s.distribution.categorical.buckets.map((b) => `${b.value} (${int(b.count)})`).join(', ');
        return `<tr class="mm-feature" data-feature="${e(f.name)}"><td><code>${e(f.name)}</code></td><td>${e(f.inferred_type)}</td><td class="num">${int(s.common.num_present)}</td><td class="num">${int(s.common.num_missing)}</td><td colspan="3">${e(values)}</td></tr>`;
      }
      const s = f.numerical_statistics;
      return `<tr class="mm-feature" data-feature="${e(f.name)}"><td><code>${e(f.name)}</code></td><td>${e(f.inferred_type)}</td><td class="num">${int(s.common.num_present)}</td><td class="num">${int(s.common.num_missing)}</td><td class="num">${num(s.mean ?? null, 4)}</td><td class="num">${num(s.min ?? null, 4)}</td><td class="num">${num(s.max ?? null, 4)}</td></tr>`;
    })
    .join('');
  return `<section id="model-monitor"><h2>Model Monitor files</h2>
<p class="muted">Next to this page, in SageMaker Model Monitor's formats: <code>statistics.json</code> (${int(statistics.dataset.item_count)} items) and <code>constraint_violations.json</code>; the baseline's <code>statistics.json</code> and <code>constraints.json</code> are under <code>_baselines/${e(input.baseline.jobName)}/</code> of the reports folder. Schedule: <code>${e(input.schedule)}</code>.</p>
<h3>constraint_violations.json</h3>
<div class="table-wrap"><table><thead><tr><th>feature_name</th><th>constraint_check_type</th><th>description</th></tr></thead><tbody>${violationRows}</tbody></table></div>
<h3 style="margin-top:16px">statistics.json</h3>
<div class="table-wrap"><table><thead><tr><th>feature</th><th>inferred_type</th><th class="num">num_present</th><th class="num">num_missing</th><th class="num">mean</th><th class="num">min</th><th class="num">max</th></tr></thead><tbody>${featureRows}</tbody></table></div>
</section>`;
}

/** A data: URI for a captured image, rebuilt from its decoded bytes so nothing else can get into the attribute. */
function imageDataUri(example: InputExample): string | undefined {
  const bytes = Buffer.from(example.imageBase64, 'base64');
  const format = sniffImageFormat(bytes);
  if (!format) return undefined;
  try {
    decodeImage(bytes);
  } catch {
    return undefined;
  }
  return `data:image/${format};base64,${bytes.toString('base64')}`;
}

function thumbnails(title: string, note: string, examples: InputExample[]): string {
  if (!examples.length) return `<h3>${e(title)}</h3><div class="empty">No captured requests.</div>`;
  const cards = examples
    .map((x) => {
      const uri = imageDataUri(x);
      const image = uri
        ? `<img src="${e(uri)}" alt="${e(`input predicted ${x.predictedLabel} with confidence ${x.confidence.toFixed(3)}`)}" width="96" height="96">`
        : '<div class="broken">not a PNG/JPEG</div>';
      return `<figure class="thumb" title="${e(`${x.file}:${x.line} · event ${x.eventId}`)}">${image}
<div class="label">${e(x.predictedLabel)}</div>
<div class="conf${x.belowThreshold ? ' below' : ''}" title="top-1 confidence">${(x.confidence * 100).toFixed(1)} %</div>${x.belowThreshold ? '<div class="flag">below threshold</div>' : ''}
<div class="meta">${e(x.time.slice(0, 10))}<br>${e(x.time.slice(11, 19))} UTC</div></figure>`;
    })
    .join('\n');
  return `<h3>${e(title)}</h3><p class="muted">${e(note)}</p><div class="thumbs">${cards}</div>`;
}

function detailsSection(analysis: MonitoringAnalysis, baseline: MonitoringBaseline): string {
  const m = analysis.metrics;
  const total = m.records.analyzed;
  const baselineTotal = baseline.predictedClassCounts.reduce((a, b) => a + b, 0);
  const quantiles = m.confidence.quantiles.map((q) => `<tr><td>p${Math.round(q.p * 100)}</td><td class="num">${num(q.value)}</td></tr>`).join('');
  const classes = m.classNames
    .map(
      (name, k) =>
        `<tr><td>${e(name)}</td><td class="num">${int(m.classCounts[k])}</td><td class="num">${pct(total ? m.classCounts[k] / total : null)}</td><td class="num">${pct(baselineTotal ? baseline.predictedClassCounts[k] / baselineTotal : null)}</td></tr>`,
    )
    .join('');
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  const brightness = (['r', 'g', 'b'] as const)
    .map(
      (c, i) =>
        `<tr><td>${['red', 'green', 'blue'][i]}</td><td class="num">${num(m.images.brightness[c].mean)}</td><td class="num">${num(m.images.brightness[c].p05)} – ${num(m.images.brightness[c].p95)}</td><td class="num">${num(mean(baseline.brightness[c]))}</td></tr>`,
    )
    .join('');
  const dims = m.images.dimensions.map((d) => `${d.width}×${d.height} (${int(d.count)})`).join(', ') || '–';
  const types = Object.entries(m.images.contentTypes).map(([t, n]) => `${t} (${int(n)})`).join(', ') || '–';
  const malformed = m.records.malformed
    ? `<div class="table-wrap"><table><thead><tr><th>file</th><th class="num">line</th><th>problem</th></tr></thead><tbody>${m.malformedLines
        .map((l) => `<tr><td><code>${e(l.file)}</code></td><td class="num">${l.line}</td><td>${e(l.reason)}</td></tr>`)
        .join('')}</tbody></table></div>${m.malformedOmitted ? `<p class="muted">and ${int(m.malformedOmitted)} more (all are counted above).</p>` : ''}`
    : '<p class="muted">None: every line of the capture files read was a valid record.</p>';
  const undecodable = m.images.undecodable
    ? `<p class="muted">${int(m.images.undecodable)} sampled input(s) are not decodable images, e.g. ${m.images.undecodableExamples
        .slice(0, 3)
        .map((x) => `${e(x.file)}:${x.line} (${e(x.reason)})`)
        .join('; ')}.</p>`
    : '';
  return `<section id="details"><h2>Details</h2>
<div class="two-col">
<div><h3>Confidence quantiles</h3><div class="table-wrap"><table><thead><tr><th>quantile</th><th class="num">top-1 confidence</th></tr></thead><tbody>${quantiles}</tbody></table></div></div>
<div><h3>Predicted classes</h3><div class="table-wrap"><table><thead><tr><th>class</th><th class="num">requests</th><th class="num">share</th><th class="num">baseline share</th></tr></thead><tbody>${classes}</tbody></table></div>
<h3 style="margin-top:16px">Input images</h3><div class="table-wrap"><table><thead><tr><th>mean brightness</th><th class="num">traffic mean</th><th class="num">traffic p5 – p95</th><th class="num">baseline mean</th></tr></thead><tbody>${brightness}</tbody></table></div>
<p class="muted">Sizes: ${e(dims)}. Content types: ${e(types)}. Request body ${num(m.images.byteSize.mean, 0)} bytes on average (max ${num(m.images.byteSize.max, 0)}). Brightness from ${int(m.images.sampled)} decoded input(s)${m.images.sampled < total ? ` (uniform sample, at most ${int(m.images.sampleLimit)})` : ''}.</p>${undecodable}</div>
</div>
<h3 style="margin-top:16px">Malformed capture lines (${int(m.records.malformed)})</h3>${malformed}
<h3 style="margin-top:16px">Sources</h3>
<div class="table-wrap"><table><tbody>
<tr><th>capture files</th><td><code>${e(analysis.location)}</code> · ${int(analysis.files.read)} file(s), ${num(analysis.files.bytes / 2 ** 20, 1)} MiB read</td></tr>
<tr><th>records</th><td>${int(total)} in the window, ${int(m.records.outsideWindow)} outside it (in files straddling its edges), ${int(m.records.malformed)} malformed</td></tr>
<tr><th>model</th><td>${e(baseline.jobName)} · classes ${e(m.classNames.join(', '))} · threshold ${num(m.threshold, 2)}</td></tr>
<tr><th>manifest</th><td><code>${e(baseline.source)}</code></td></tr>
</tbody></table></div>
</section>`;
}

/** The complete report as one HTML document: inline CSS and SVG, images as data: URIs, no script. */
export function renderReportHtml(input: ReportHtmlInput): string {
  const { analysis, baseline, charts, generatedAt } = input;
  const m = analysis.metrics;
  const total = m.records.analyzed;
  const violations = input.modelMonitor.violations.violations.length;
  const ood = 'unavailable' in analysis.embedding ? null : analysis.embedding.outOfDistribution;
  const window = analysis.window.since || analysis.window.until ? `${analysis.window.since ? when(analysis.window.since) : 'start'} → ${analysis.window.until ? when(analysis.window.until) : 'now'}` : 'all captured data';
  const kpis = [
    kpi('Requests analysed', int(total), m.firstTime && m.lastTime ? span(m.firstTime, m.lastTime) : 'none in this window'),
    kpi('Request rate', m.rate.perMinute === null ? '–' : `${num(m.rate.perMinute, m.rate.perMinute < 10 ? 2 : 0)} /min`, m.rate.peakPerMinute === null ? '' : `peak ${num(m.rate.peakPerMinute, m.rate.peakPerMinute < 10 ? 2 : 0)} /min`),
    kpi('Below threshold', pct(m.confidence.belowThreshold.share), `${int(m.confidence.belowThreshold.count)} requests < ${num(m.threshold, 2)}`, (m.confidence.belowThreshold.share ?? 0) > 0.5),
    kpi('Median confidence', num(m.confidence.distribution.p50), `mean ${num(m.confidence.distribution.mean)}`),
    kpi('Violations', String(violations), `${analysis.drift.checks.length} checks`, violations > 0),
    kpi('Out of distribution', ood ? pct(ood.share) : '–', ood && !('unavailable' in analysis.embedding) ? `of ${int(analysis.embedding.sampled)} embedded; ${pct(ood.expectedShare, 0)} expected` : 'no embeddings', ood !== null && ood.share !== null && ood.share > 2 * ood.expectedShare),
    kpi('Malformed lines', int(m.records.malformed), 'counted, never dropped', m.records.malformed > 0),
  ].join('\n');
  const chartsHtml = total
    ? `<div class="charts">${charts
        .map((c) => `<figure class="chart" id="chart-${e(c.id)}"><h3>${e(c.title)}</h3><figcaption>${e(c.caption)}</figcaption>${c.svg}</figure>`)
        .join('\n')}</div>`
    : '<div class="empty">No captured requests in this window: nothing to chart.</div>';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${e(CSP)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(`Monitoring report · ${analysis.endpointName} · ${generatedAt.toISOString()}`)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>Model monitoring report</h1>
<p>Endpoint <b>${e(analysis.endpointName)}</b> · model <b>${e(baseline.jobName)}</b> · schedule <b>${e(input.schedule)}</b> · window ${e(window)} · generated ${e(when(generatedAt.toISOString()))}</p>
</header>
<main>
<section id="overview"><div class="kpis">${kpis}</div></section>
${driftSection(analysis, baseline)}
${embeddingSection(analysis)}
<section id="charts"><h2>Traffic</h2>${chartsHtml}</section>
<section id="inputs"><h2>Inputs</h2>
${thumbnails('Lowest-confidence inputs', 'The requests the model was least sure about, lowest first: candidates for labelling and retraining.', analysis.examples.lowestConfidence)}
<div style="height:16px"></div>
${thumbnails('Most recent inputs', 'The latest requests in the window, newest first.', analysis.examples.recent)}
</section>
${modelMonitorSection(input)}
${detailsSection(analysis, baseline)}
<footer>Generated by scones report. Figures and every rule: summary.json · Model Monitor: statistics.json, constraint_violations.json (next to this file), the baseline's statistics.json and constraints.json.</footer>
</main>
</body>
</html>
`;
}
