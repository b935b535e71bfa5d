import { histogram, type MonitoringAnalysis, type MonitoringBaseline } from '@scones/monitor-analytics';
import type { TopLevelSpec } from './vega-render';

/** The charts of a report, each a Vega-Lite spec with its data inlined. */
export interface ChartSpec {
  id: string;
  title: string;
  /** One sentence under the title saying how to read the chart (units, sampling). */
  caption: string;
  spec: TopLevelSpec;
}

export const COLORS = {
  passed: '#4c78a8',
  below: '#e45756',
  baseline: '#9aa5b1',
  threshold: '#1f2933',
  channels: { red: '#d62728', green: '#2ca02c', blue: '#1f77b4' },
};

const WIDTH = 540;
const HEIGHT = 230;

const CONFIG = {
  font: 'DejaVu Sans, Segoe UI, Helvetica, Arial, sans-serif',
  background: 'white',
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', titleColor: '#3e4c59', labelColor: '#52606d', gridColor: '#e4e7eb', domainColor: '#9aa5b1', tickColor: '#9aa5b1' },
  legend: { orient: 'top', direction: 'horizontal', labelFontSize: 11, labelLimit: 320, titleFontSize: 11, titleFontWeight: 'normal', symbolSize: 80 },
} as const;

const base = (data: unknown[]) => ({
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  width: WIDTH,
  height: HEIGHT,
  config: CONFIG,
  data: { values: data },
});

/** Time axis in UTC, 24-hour clock; the date is added when the data spans more than a day. */
function timeAxis(analysis: MonitoringAnalysis) {
  const { firstTime, lastTime } = analysis.metrics;
  const days = firstTime && lastTime ? (Date.parse(lastTime) - Date.parse(firstTime)) / 86_400_000 : 0;
  return { title: 'time (UTC)', labelOverlap: true, labelFlush: true, format: days > 1 ? '%b %d %H:%M' : days * 24 * 60 < 10 ? '%H:%M:%S' : '%H:%M' } as const;
}
const utc = { type: 'utc' } as const;

function bucketLabel(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400} day${seconds === 86_400 ? '' : 's'}`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/** Lower edge of the confidence axis: 1 / classes (the lowest possible top-1), rounded down to 0.05. */
function confidenceFloor(analysis: MonitoringAnalysis): number {
  const lowest = 1 / Math.max(2, analysis.metrics.classNames.length);
  return Math.max(0, Math.floor(Math.min(lowest, analysis.metrics.threshold) * 20) / 20);
}

/**
 * Which requests the scatter shows: every below-threshold one (up to half the budget) and an even
 * stride of the others, so 100 000 requests stay a readable, light SVG. The caption says so.
 */
export function selectPoints(analysis: MonitoringAnalysis, maxPoints: number): { rows: Array<{ time: string; confidence: number; status: string; label: string }>; shown: { below: number; passed: number } } {
  const { times, confidences, predictedClasses } = analysis.observations;
  const threshold = analysis.metrics.threshold;
  const names = analysis.metrics.classNames;
  const below: number[] = [];
  const passed: number[] = [];
  for (let i = 0; i < times.length; i++) (confidences[i] < threshold ? below : passed).push(i);
  const pick = (indexes: number[], budget: number) => {
    if (indexes.length <= budget) return indexes;
    const step = indexes.length / budget;
    return Array.from({ length: budget }, (_, k) => indexes[Math.floor(k * step)]);
  };
  const belowShown = pick(below, Math.floor(maxPoints / 2));
  const passedShown = pick(passed, maxPoints - belowShown.length);
  const rows = [...passedShown, ...belowShown].map((i) => ({
    time: new Date(times[i]).toISOString(),
    confidence: confidences[i],
    status: confidences[i] < threshold ? 'below threshold' : 'passed',
    label: names[predictedClasses[i]] ?? String(predictedClasses[i]),
  }));
  return { rows, shown: { below: belowShown.length, passed: passedShown.length } };
}

export function confidenceOverTimeChart(analysis: MonitoringAnalysis, maxPoints = 2000): ChartSpec {
  const { rows, shown } = selectPoints(analysis, maxPoints);
  const total = analysis.metrics.records.analyzed;
  const belowTotal = analysis.metrics.confidence.belowThreshold.count;
  const threshold = analysis.metrics.threshold;
  const sampled = shown.below + shown.passed < total;
  const buckets = analysis.metrics.timeline.buckets.filter((b) => b.confidenceP50 !== null);
  const layers: unknown[] = [
    {
      data: { values: rows },
      mark: { type: 'point', filled: true, size: 22, opacity: 0.65 },
      encoding: {
        x: { field: 'time', type: 'temporal', scale: utc, axis: timeAxis(analysis) },
        y: { field: 'confidence', type: 'quantitative', scale: { domain: [confidenceFloor(analysis), 1] }, axis: { title: 'top-1 confidence', format: '.2f' } },
        color: {
          field: 'status',
          type: 'nominal',
          scale: { domain: ['passed', 'below threshold'], range: [COLORS.passed, COLORS.below] },
          legend: { title: null },
        },
        tooltip: [{ field: 'time', type: 'temporal' }, { field: 'confidence', format: '.3f' }, { field: 'label' }],
      },
    },
  ];
  if (buckets.length > 1) {
    layers.push({
      data: { values: buckets.map((b) => ({ time: b.start, median: b.confidenceP50 })) },
      mark: { type: 'line', color: COLORS.threshold, strokeWidth: 1.5, opacity: 0.6, interpolate: 'monotone' },
      encoding: { x: { field: 'time', type: 'temporal', scale: utc }, y: { field: 'median', type: 'quantitative' } },
    });
  }
  layers.push(
    { data: { values: [{ threshold }] }, mark: { type: 'rule', color: COLORS.below, strokeDash: [6, 4], strokeWidth: 1.5 }, encoding: { y: { field: 'threshold', type: 'quantitative' } } },
    {
      data: { values: [{ threshold, text: `threshold ${threshold.toFixed(2)}` }] },
      mark: { type: 'text', align: 'left', baseline: 'bottom', dx: 4, dy: -3, color: COLORS.below, fontSize: 11, x: 0 },
      encoding: { y: { field: 'threshold', type: 'quantitative' }, text: { field: 'text' } },
    },
  );
  return {
    id: 'confidence-over-time',
    title: 'Confidence over time',
    caption:
      `Top-1 confidence of each request; red points fall below the filter threshold (${threshold.toFixed(2)}, dashed)` +
      (buckets.length > 1 ? `, the grey line is the median per ${bucketLabel(analysis.metrics.timeline.bucketSeconds)}` : '') +
      '. ' +
      (sampled
        ? `Shown: ${shown.below.toLocaleString('en-US')} of ${belowTotal.toLocaleString('en-US')} below-threshold and ${shown.passed.toLocaleString('en-US')} of ${(total - belowTotal).toLocaleString('en-US')} other requests (evenly spaced sample).`
        : `All ${total.toLocaleString('en-US')} requests shown.`),
    spec: { ...base([]), layer: layers } as unknown as TopLevelSpec,
  };
}

export function confidenceHistogramChart(analysis: MonitoringAnalysis, baseline: MonitoringBaseline): ChartSpec {
  const floor = confidenceFloor(analysis);
  const bins = Math.round((1 - floor) / 0.025);
  // Baseline and traffic side by side in each bin: the left half is the baseline, the right half traffic.
  const share = (values: ArrayLike<number>, half: 0 | 1) => {
    const n = values.length || 1;
    return histogram(values, floor, 1, bins).map((b) => {
      const mid = (b.start + b.end) / 2;
      return { start: b.start, end: b.end, x0: half ? mid : b.start, x1: half ? b.end : mid, share: b.count / n };
    });
  };
  const rows = [
    ...share(baseline.confidences, 0).map((b) => ({ ...b, series: `baseline (n=${baseline.confidences.length})` })),
    ...share(analysis.observations.confidences, 1).map((b) => ({ ...b, series: `traffic (n=${analysis.observations.confidences.length})` })),
  ];
  const series = [...new Set(rows.map((r) => r.series))];
  return {
    id: 'confidence-histogram',
    title: 'Confidence distribution vs baseline',
    caption: 'Share of requests per confidence bin (width 0.025): traffic in blue, the model’s validation predictions (the baseline) in grey, side by side; the dashed line is the threshold.',
    spec: {
      ...base(rows),
      layer: [
        {
          // rect, not bar: a bar with x and x2 is drawn as a horizontal range (Gantt style).
          mark: { type: 'rect' },
          encoding: {
            x: { field: 'x0', type: 'quantitative', scale: { domain: [floor, 1] }, axis: { title: 'top-1 confidence', format: '.2f' } },
            x2: { field: 'x1' },
            y: { field: 'share', type: 'quantitative', axis: { title: 'share of requests', format: '.0%' } },
            y2: { datum: 0 },
            color: { field: 'series', type: 'nominal', scale: { domain: series, range: [COLORS.baseline, COLORS.passed] }, legend: { title: null } },
            tooltip: [{ field: 'series' }, { field: 'start', format: '.3f', title: 'from' }, { field: 'share', format: '.1%' }],
          },
        },
        {
          data: { values: [{ threshold: analysis.metrics.threshold }] },
          mark: { type: 'rule', color: COLORS.below, strokeDash: [6, 4], strokeWidth: 1.5 },
          encoding: { x: { field: 'threshold', type: 'quantitative' } },
        },
      ],
    } as unknown as TopLevelSpec,
  };
}

/**
 * Stacks per-bucket values into rectangles (x from bucket start to 92 % of its width, y0..y1), so
 * time bars keep a small gap and a known orientation; Vega-Lite then only draws rects.
 */
function stackedBuckets<T extends { start: string }>(
  items: T[],
  seconds: number,
  parts: (item: T) => Array<{ key: string; value: number }>,
  normalize: boolean,
): Array<{ start: string; end: string; key: string; value: number; y0: number; y1: number }> {
  const rows: Array<{ start: string; end: string; key: string; value: number; y0: number; y1: number }> = [];
  for (const item of items) {
    const values = parts(item);
    const total = values.reduce((sum, p) => sum + p.value, 0);
    if (normalize && total === 0) continue;
    const end = new Date(Date.parse(item.start) + seconds * 920).toISOString();
    let y = 0;
    for (const part of values) {
      const height = normalize ? part.value / total : part.value;
      rows.push({ start: item.start, end, key: part.key, value: part.value, y0: y, y1: y + height });
      y += height;
    }
  }
  return rows;
}

/** Stacked time-bucket rectangles (see stackedBuckets) with a given y axis and colour scale. */
function bucketRectSpec(analysis: MonitoringAnalysis, rows: unknown[], y: { axis: object; domain?: number[] }, color: object, keyTitle: string): TopLevelSpec {
  return {
    ...base(rows),
    mark: { type: 'rect' },
    encoding: {
      x: { field: 'start', type: 'temporal', scale: utc, axis: timeAxis(analysis) },
      x2: { field: 'end' },
      y: { field: 'y1', type: 'quantitative', ...(y.domain ? { scale: { domain: y.domain } } : {}), axis: y.axis },
      y2: { field: 'y0' },
      color: { field: 'key', type: 'nominal', scale: color, legend: { title: null } },
      tooltip: [{ field: 'start', type: 'temporal', title: 'from' }, { field: 'key', title: keyTitle }, { field: 'value', title: 'requests' }],
    },
  } as unknown as TopLevelSpec;
}

export function classMixChart(analysis: MonitoringAnalysis): ChartSpec {
  const { bucketSeconds, buckets } = analysis.metrics.timeline;
  const names = analysis.metrics.classNames;
  const rows = stackedBuckets(buckets, bucketSeconds, (b) => b.classCounts.map((count, k) => ({ key: names[k] ?? String(k), value: count })), true);
  return {
    id: 'class-mix',
    title: 'Predicted-class mix over time',
    caption: `Share of requests predicted as each class, per ${bucketLabel(bucketSeconds)}.`,
    spec: bucketRectSpec(analysis, rows, { axis: { title: 'share of predictions', format: '.0%' }, domain: [0, 1] }, { domain: names, scheme: 'tableau10' }, 'class'),
  };
}

export function volumeChart(analysis: MonitoringAnalysis): ChartSpec {
  const { bucketSeconds, buckets } = analysis.metrics.timeline;
  const rows = stackedBuckets(
    buckets,
    bucketSeconds,
    (b) => [
      { key: 'passed', value: b.count - b.belowThreshold },
      { key: 'below threshold', value: b.belowThreshold },
    ],
    false,
  );
  const unit = bucketLabel(bucketSeconds);
  return {
    id: 'volume',
    title: 'Request volume',
    caption: `Requests per ${unit}, split by whether the prediction met the threshold.`,
    spec: bucketRectSpec(
      analysis,
      rows,
      { axis: { title: `requests per ${unit}`, tickMinStep: 1 } },
      { domain: ['passed', 'below threshold'], range: [COLORS.passed, COLORS.below] },
      'status',
    ),
  };
}

export function brightnessChart(analysis: MonitoringAnalysis, baseline: MonitoringBaseline): ChartSpec {
  const channels = [
    ['r', 'red'],
    ['g', 'green'],
    ['b', 'blue'],
  ] as const;
  const rows: Array<{ brightness: number; share: number; channel: string; series: string }> = [];
  for (const [key, name] of channels) {
    for (const [series, values] of [
      ['baseline', baseline.brightness[key]],
      ['traffic', analysis.observations.brightness[key]],
    ] as const) {
      const n = values.length || 1;
      if (!values.length) continue;
      for (const b of histogram(values, 0, 1, 20)) rows.push({ brightness: (b.start + b.end) / 2, share: b.count / n, channel: name, series });
    }
  }
  const sampled = analysis.metrics.images.sampled;
  return {
    id: 'brightness',
    title: 'Input brightness vs baseline',
    caption: `Distribution of each image’s mean brightness per channel (0 = black, 1 = full intensity): traffic solid, validation baseline dashed. From ${sampled.toLocaleString('en-US')} decoded input${sampled === 1 ? '' : 's'}${sampled < analysis.metrics.records.analyzed ? ' (uniform sample)' : ''}.`,
    spec: {
      ...base(rows),
      mark: { type: 'line', interpolate: 'monotone', strokeWidth: 2 },
      encoding: {
        x: { field: 'brightness', type: 'quantitative', scale: { domain: [0, 1] }, axis: { title: 'mean brightness per image', format: '.1f' } },
        y: { field: 'share', type: 'quantitative', axis: { title: 'share of images', format: '.0%' } },
        color: { field: 'channel', type: 'nominal', scale: { domain: ['red', 'green', 'blue'], range: [COLORS.channels.red, COLORS.channels.green, COLORS.channels.blue] }, legend: { title: null } },
        strokeDash: { field: 'series', type: 'nominal', scale: { domain: ['traffic', 'baseline'], range: [[1, 0], [5, 4]] }, legend: { title: null, symbolType: 'stroke', symbolSize: 500, symbolStrokeColor: '#52606d' } },
        detail: { field: 'series' },
      },
    } as unknown as TopLevelSpec,
  };
}

/**
 * Where the traffic lies against the baseline in the model's view: the embedded inputs and the
 * validation images on the plane of the validation embeddings' first two principal axes.
 */
export function embeddingMapChart(analysis: MonitoringAnalysis): ChartSpec | undefined {
  const embedding = analysis.embedding;
  if ('unavailable' in embedding) return undefined;
  const series = {
    baseline: `validation images (n=${embedding.baselinePoints.length})`,
    traffic: 'traffic, in distribution',
    foreign: 'traffic, out of distribution',
  };
  const rows = [
    ...embedding.baselinePoints.map(([x, y]) => ({ x, y, series: series.baseline })),
    ...embedding.inputs.map((input) => ({ x: input.x, y: input.y, series: input.outOfDistribution ? series.foreign : series.traffic, time: new Date(input.time).toISOString(), distance: input.distance })),
  ];
  return {
    id: 'embedding-map',
    title: 'Where the traffic lies in the model’s view',
    caption:
      `The model’s stage features of ${embedding.sampled.toLocaleString('en-US')} sampled requests and of the validation images, projected on the validation features’ first two principal axes. ` +
      `Red: farther from the nearest training images than ${(embedding.outOfDistribution.quantile * 100).toFixed(0)} % of validation images are. A projection loses distances: the test and the share use all dimensions.`,
    spec: {
      ...base(rows),
      mark: { type: 'point', filled: true, size: 26, opacity: 0.65 },
      encoding: {
        x: { field: 'x', type: 'quantitative', axis: { title: 'first principal axis', format: '.2f' }, scale: { zero: false } },
        y: { field: 'y', type: 'quantitative', axis: { title: 'second principal axis', format: '.2f' }, scale: { zero: false } },
        color: { field: 'series', type: 'nominal', scale: { domain: [series.baseline, series.traffic, series.foreign], range: [COLORS.baseline, COLORS.passed, COLORS.below] }, legend: { title: null } },
        tooltip: [{ field: 'series' }, { field: 'time', type: 'temporal' }, { field: 'distance', format: '.3f', title: 'distance to training' }],
      },
    } as unknown as TopLevelSpec,
  };
}

/** Share of embedded requests out of distribution per timeline bucket, against the share expected on healthy traffic. */
export function outOfDistributionChart(analysis: MonitoringAnalysis): ChartSpec | undefined {
  const embedding = analysis.embedding;
  if ('unavailable' in embedding) return undefined;
  const { bucketSeconds, buckets } = analysis.metrics.timeline;
  const end = (start: string) => new Date(Date.parse(start) + bucketSeconds * 920).toISOString();
  const rows = buckets.filter((b) => b.embedded > 0).map((b) => ({ start: b.start, end: end(b.start), share: b.outOfDistribution / b.embedded, outOfDistribution: b.outOfDistribution, embedded: b.embedded }));
  const expected = embedding.outOfDistribution.expectedShare;
  return {
    id: 'out-of-distribution',
    title: 'Out-of-distribution share over time',
    caption:
      `Share of the embedded requests in each ${bucketLabel(bucketSeconds)} that are far from every training image; the dashed line is the ${(expected * 100).toFixed(0)} % expected on traffic like the validation images. ` +
      `From a uniform sample of ${embedding.sampled.toLocaleString('en-US')} requests, so a bucket with few of them is noisy (see its count).`,
    spec: {
      ...base(rows),
      layer: [
        {
          mark: { type: 'rect', color: COLORS.below, opacity: 0.8 },
          encoding: {
            x: { field: 'start', type: 'temporal', scale: utc, axis: timeAxis(analysis) },
            x2: { field: 'end' },
            y: { field: 'share', type: 'quantitative', scale: { domain: [0, 1] }, axis: { title: 'share out of distribution', format: '.0%' } },
            y2: { datum: 0 },
            tooltip: [{ field: 'start', type: 'temporal', title: 'from' }, { field: 'share', format: '.1%' }, { field: 'outOfDistribution', title: 'out of distribution' }, { field: 'embedded', title: 'embedded' }],
          },
        },
        { data: { values: [{ expected }] }, mark: { type: 'rule', color: COLORS.threshold, strokeDash: [6, 4], strokeWidth: 1.5 }, encoding: { y: { field: 'expected', type: 'quantitative' } } },
      ],
    } as unknown as TopLevelSpec,
  };
}

/** Every chart of the report, in reading order (the embedding charts when the model's embeddings were compared). */
export function reportCharts(analysis: MonitoringAnalysis, baseline: MonitoringBaseline): ChartSpec[] {
  return [
    confidenceOverTimeChart(analysis),
    confidenceHistogramChart(analysis, baseline),
    volumeChart(analysis),
    classMixChart(analysis),
    brightnessChart(analysis, baseline),
    embeddingMapChart(analysis),
    outOfDistributionChart(analysis),
  ].filter((chart): chart is ChartSpec => chart !== undefined);
}
