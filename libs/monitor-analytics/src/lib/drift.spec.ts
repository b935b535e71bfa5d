import type { MonitoringBaseline } from './baseline';
import { checkDrift, DEFAULT_DRIFT_POLICY, type DriftObservations } from './drift';
import { cifarLikeProfile, normalSample, seededRandom, type TrafficProfile } from './synthetic-traffic';

const CLASSES = ['bicycle', 'motorcycle'];

/** Draws n observations (no images: the channel means directly) from a profile. */
function draw(random: () => number, n: number, profile: TrafficProfile): DriftObservations & { brightness: { r: number[]; g: number[]; b: number[] } } {
  const confidences: number[] = [];
  const classCounts = [0, 0];
  const brightness = { r: [] as number[], g: [] as number[], b: [] as number[] };
  for (let i = 0; i < n; i++) {
    confidences.push(profile.confidence(random));
    classCounts[profile.predictedClass(random)] += 1;
    const m = profile.brightness(random);
    brightness.r.push(m.r);
    brightness.g.push(m.g);
    brightness.b.push(m.b);
  }
  return { confidences, classCounts, brightness };
}

function baselineFrom(observations: ReturnType<typeof draw>): MonitoringBaseline {
  return {
    source: 'test',
    jobName: 'job',
    classNames: CLASSES,
    threshold: 0.8,
    count: observations.confidences.length,
    confidences: Array.from(observations.confidences),
    predictedClassCounts: [...observations.classCounts],
    brightness: observations.brightness,
  };
}

const violations = (report: ReturnType<typeof checkDrift>) => report.checks.filter((c) => c.status === 'violation');
const violated = (report: ReturnType<typeof checkDrift>) => violations(report).map((v) => v.metric).sort();
// The six statistical checks of traffic without images or embeddings (those report themselves as not evaluated).
const STATISTICAL = ['confidence_psi', 'confidence_ks', 'predicted_class_chi_square', 'brightness_red_ks', 'brightness_green_ks', 'brightness_blue_ks'];
const statistical = (report: ReturnType<typeof checkDrift>) => report.checks.filter((c) => STATISTICAL.includes(c.metric));

describe('checkDrift', () => {
  it.each([1, 2, 3, 4, 5])('raises no violation for traffic from the baseline distribution (seed %i)', (seed) => {
    const random = seededRandom(seed);
    const baseline = baselineFrom(draw(random, 200, cifarLikeProfile()));
    const report = checkDrift(baseline, draw(random, 300, cifarLikeProfile()));
    expect(violated(report)).toEqual([]);
    expect(statistical(report).map((c) => c.status)).toEqual(Array(6).fill('ok'));
  });

  it('keeps the false-alarm rate of a whole report near the 1 % family-wise level', () => {
    const random = seededRandom(99);
    let alarms = 0;
    const reports = 300;
    for (let i = 0; i < reports; i++) {
      const baseline = baselineFrom(draw(random, 150, cifarLikeProfile()));
      if (violations(checkDrift(baseline, draw(random, 200, cifarLikeProfile()))).length) alarms += 1;
    }
    expect(alarms / reports).toBeLessThanOrEqual(0.03);
  });

  it('flags visibly darkened inputs (pixels x 0.5) on every brightness channel', () => {
    const random = seededRandom(11);
    const baseline = baselineFrom(draw(random, 200, cifarLikeProfile()));
    const normal = cifarLikeProfile();
    const darkened = cifarLikeProfile({
      brightness: (r) => {
        const m = normal.brightness(r);
        return { r: m.r * 0.5, g: m.g * 0.5, b: m.b * 0.5 };
      },
    });
    const report = checkDrift(baseline, draw(random, 300, darkened));
    expect(violated(report)).toEqual(['brightness_blue_ks', 'brightness_green_ks', 'brightness_red_ks']);
    const red = violations(report).find((v) => v.metric === 'brightness_red_ks')!;
    expect(red).toMatchObject({ feature: 'brightness_red', checkType: 'baseline_drift_check' });
    expect(red.observed).toBeGreaterThan(0.5);
    expect(red.pValue!).toBeLessThan(red.pValueThreshold);
    expect(red.threshold).toBe(DEFAULT_DRIFT_POLICY.ksMinimumStatistic);
  });

  it('flags inputs with another colour profile (other CIFAR-100 classes: sky, sea, plants)', () => {
    const random = seededRandom(12);
    const baseline = baselineFrom(draw(random, 200, cifarLikeProfile()));
    const outdoors = cifarLikeProfile({
      brightness: (r) => ({ r: 0.3 + 0.08 * normalSample(r), g: 0.45 + 0.08 * normalSample(r), b: 0.62 + 0.08 * normalSample(r) }),
    });
    const report = checkDrift(baseline, draw(random, 300, outdoors));
    expect(violated(report)).toEqual(expect.arrayContaining(['brightness_blue_ks', 'brightness_red_ks']));
  });

  it('flags an unsure model (confidence drifting down) with PSI and KS', () => {
    const random = seededRandom(13);
    const baseline = baselineFrom(draw(random, 200, cifarLikeProfile()));
    const unsure = cifarLikeProfile({ confidence: (r) => 0.5 + 0.35 * r() });
    const report = checkDrift(baseline, draw(random, 300, unsure));
    expect(violated(report)).toEqual(['confidence_ks', 'confidence_psi']);
    const psi = report.checks.find((c) => c.metric === 'confidence_psi')!;
    expect(psi.observed).toBeGreaterThan(psi.threshold);
  });

  it('flags a change of the predicted-class mix', () => {
    const random = seededRandom(14);
    const baseline = baselineFrom(draw(random, 200, cifarLikeProfile()));
    const mostlyBicycles = cifarLikeProfile({ predictedClass: (r) => (r() < 0.85 ? 0 : 1) });
    const report = checkDrift(baseline, draw(random, 300, mostlyBicycles));
    expect(violated(report)).toEqual(['predicted_class_chi_square']);
    const check = report.checks.find((c) => c.metric === 'predicted_class_chi_square')!;
    expect(check.details.mostChangedClass).toBeDefined();
    expect(check.observed).toBeGreaterThan(0.25);
  });

  it('does not flag a significant but immaterial shift in heavy traffic', () => {
    const random = seededRandom(15);
    const baseline = baselineFrom(draw(random, 2000, cifarLikeProfile()));
    const normal = cifarLikeProfile();
    const slightlyBrighter = cifarLikeProfile({
      brightness: (r) => {
        const m = normal.brightness(r);
        return { r: m.r + 0.02, g: m.g + 0.02, b: m.b + 0.02 };
      },
    });
    const report = checkDrift(baseline, draw(random, 50_000, slightlyBrighter));
    const red = report.checks.find((c) => c.metric === 'brightness_red_ks')!;
    expect(red.pValue).toBeLessThan(red.pValueThreshold); // detectable...
    expect(red.status).toBe('ok'); // ...but D < 0.1: not worth waking anyone up
  });

  it('reports too few observations as insufficient data, never as a violation', () => {
    const random = seededRandom(16);
    const baseline = baselineFrom(draw(random, 200, cifarLikeProfile()));
    const report = checkDrift(baseline, draw(random, 10, cifarLikeProfile({ confidence: () => 0.5 })));
    expect(statistical(report).every((c) => c.status === 'insufficient-data')).toBe(true);
    expect(violations(report)).toEqual([]);
    expect(report.checks[0].description).toContain('at least 30');
  });

  it('states every rule it applied, and the Bonferroni split over a fixed number of tests', () => {
    const random = seededRandom(17);
    const baseline = baselineFrom(draw(random, 100, cifarLikeProfile()));
    const report = checkDrift(baseline, draw(random, 100, cifarLikeProfile()));
    expect(report.significance).toEqual({ level: 0.01, correction: 'bonferroni', checks: 7, perCheckSignificance: 0.01 / 7 });
    expect(report.rules.map((c) => c.metric)).toEqual([
      ...STATISTICAL,
      'embedding_log_rank',
      'brightness_red_completeness',
      'brightness_green_completeness',
      'brightness_blue_completeness',
      'image_size_completeness',
      'image_size_domain',
    ]);
    expect(report.checks.map((c) => c.metric)).toEqual(report.rules.map((c) => c.metric));
    // Without embeddings in the baseline, and without image sizes, those checks say why they did not run.
    const embedding = report.checks.find((c) => c.metric === 'embedding_log_rank')!;
    expect(embedding).toMatchObject({ status: 'not-available', feature: 'embedding', checkType: 'baseline_drift_check' });
    expect(embedding.description).toContain('has no embeddings');
  });

  it('flags inputs that are not decodable images (completeness) and image sizes the baseline never had', () => {
    const random = seededRandom(19);
    const baseline = { ...baselineFrom(draw(random, 100, cifarLikeProfile())), imageSizes: { '32x32': 100 } };
    const traffic = { ...draw(random, 100, cifarLikeProfile()), images: { sampled: 100, undecodable: 3, sizes: { '32x32': 90, '64x48': 7 } } };
    const report = checkDrift(baseline, traffic);
    expect(violated(report)).toEqual(['brightness_blue_completeness', 'brightness_green_completeness', 'brightness_red_completeness', 'image_size_completeness', 'image_size_domain']);
    const domain = report.checks.find((c) => c.metric === 'image_size_domain')!;
    expect(domain).toMatchObject({ feature: 'image_size', checkType: 'categorical_values_check', observed: 7 / 97 });
    expect(domain.description).toBe('7 of 97 sampled images have a size the baseline never had: 64x48 (7); baseline sizes: 32x32');
    const completeness = report.checks.find((c) => c.metric === 'image_size_completeness')!;
    expect(completeness).toMatchObject({ checkType: 'completeness_check', observed: 0.97 });
    const clean = checkDrift(baseline, { ...traffic, images: { sampled: 100, undecodable: 0, sizes: { '32x32': 100 } } });
    expect(violated(clean)).toEqual([]);
  });

  it('raises the PSI threshold above 0.2 when samples are small enough for noise to reach it', () => {
    const random = seededRandom(18);
    const baseline = baselineFrom(draw(random, 60, cifarLikeProfile()));
    const report = checkDrift(baseline, draw(random, 60, cifarLikeProfile()));
    const psi = report.checks.find((c) => c.metric === 'confidence_psi')!;
    expect(psi.threshold).toBeGreaterThan(0.2);
    expect(psi.details.noiseFloor).toBeCloseTo(psi.threshold, 12);
  });
});
