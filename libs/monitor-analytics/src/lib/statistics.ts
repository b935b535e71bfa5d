/**
 * The statistics the drift checks and metrics need, written out so every figure in a report can be
 * traced to a formula (no opaque dependency): quantiles, histograms, the two-sample
 * Kolmogorov-Smirnov test, the chi-square test of homogeneity and the population stability index.
 */

/** Quantile of ascending-sorted values with linear interpolation (R type 7, numpy's default). */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const h = (n - 1) * Math.min(Math.max(p, 0), 1);
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** A copy of the values as an ascending Float64Array (typed-array sort is numeric and fast). */
export function sortedCopy(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values).sort();
}

export interface Distribution {
  count: number;
  mean: number;
  std: number;
  min: number;
  p05: number;
  p25: number;
  p50: number;
  p75: number;
  p95: number;
  max: number;
}

/** Count, mean, standard deviation and the usual quantiles of a sample (NaN fields when empty). */
export function describeDistribution(values: ArrayLike<number>): Distribution {
  const sorted = sortedCopy(values);
  const n = sorted.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i];
  const mean = n ? sum / n : Number.NaN;
  let squares = 0;
  for (let i = 0; i < n; i++) squares += (sorted[i] - mean) ** 2;
  return {
    count: n,
    mean,
    std: n > 1 ? Math.sqrt(squares / (n - 1)) : n === 1 ? 0 : Number.NaN,
    min: n ? sorted[0] : Number.NaN,
    p05: quantileSorted(sorted, 0.05),
    p25: quantileSorted(sorted, 0.25),
    p50: quantileSorted(sorted, 0.5),
    p75: quantileSorted(sorted, 0.75),
    p95: quantileSorted(sorted, 0.95),
    max: n ? sorted[n - 1] : Number.NaN,
  };
}

export interface HistogramBin {
  start: number;
  end: number;
  count: number;
}

/** Equal-width histogram over [start, end]; values outside are clamped into the edge bins. */
export function histogram(values: ArrayLike<number>, start: number, end: number, bins: number): HistogramBin[] {
  const width = (end - start) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < values.length; i++) {
    const index = Math.floor((values[i] - start) / width);
    counts[Math.min(Math.max(index, 0), bins - 1)] += 1;
  }
  return counts.map((count, i) => ({ start: start + i * width, end: i === bins - 1 ? end : start + (i + 1) * width, count }));
}

// --- special functions -------------------------------------------------------------------------

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos approximation, g = 7; ~15 significant digits). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

const EPSILON = 1e-14;
const TINY = 1e-300;

/** Regularized upper incomplete gamma Q(a, x) = Γ(a, x) / Γ(a) (series or Lentz continued fraction). */
export function regularizedGammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const logPrefix = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 10_000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * EPSILON) break;
    }
    return Math.min(1, Math.max(0, 1 - sum * Math.exp(logPrefix)));
  }
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPSILON) break;
  }
  return Math.min(1, Math.max(0, Math.exp(logPrefix) * h));
}

/** P(X > x) for X ~ chi-square with `df` degrees of freedom. */
export function chiSquareSurvival(x: number, df: number): number {
  if (df <= 0) return 1;
  return regularizedGammaQ(df / 2, x / 2);
}

/** The x with P(X > x) = `alpha` for X ~ chi-square(df): the critical value of a level-alpha test. */
export function chiSquareCriticalValue(alpha: number, df: number): number {
  let lo = 0;
  let hi = Math.max(1, df);
  while (chiSquareSurvival(hi, df) > alpha) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (chiSquareSurvival(mid, df) > alpha) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Kolmogorov distribution tail Q(λ) = 2 Σ (-1)^(j-1) exp(-2 j² λ²). */
export function kolmogorovSurvival(lambda: number): number {
  if (lambda < 0.2) return 1; // the series converges too slowly here, and Q(0.2) = 1 - 1e-15
  let sum = 0;
  let sign = 1;
  let previous = 0;
  for (let j = 1; j <= 100; j++) {
    const term = sign * 2 * Math.exp(-2 * j * j * lambda * lambda);
    sum += term;
    if (Math.abs(term) <= 1e-10 * previous || Math.abs(term) <= 1e-16 * Math.abs(sum)) break;
    sign = -sign;
    previous = Math.abs(term);
  }
  return Math.min(1, Math.max(0, sum));
}

// --- tests -----------------------------------------------------------------------------------

export interface TestResult {
  statistic: number;
  pValue: number;
}

/**
 * Two-sample Kolmogorov-Smirnov test: D = max |F_a(x) − F_b(x)| and its asymptotic p-value with
 * Stephens' small-sample correction (Numerical Recipes §14.3). Ties are handled by stepping both
 * empirical distributions past each distinct value together.
 */
export function kolmogorovSmirnov(a: ArrayLike<number>, b: ArrayLike<number>): TestResult {
  const x = sortedCopy(a);
  const y = sortedCopy(b);
  const n = x.length;
  const m = y.length;
  if (n === 0 || m === 0) return { statistic: Number.NaN, pValue: Number.NaN };
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n && j < m) {
    const v = Math.min(x[i], y[j]);
    while (i < n && x[i] <= v) i++;
    while (j < m && y[j] <= v) j++;
    d = Math.max(d, Math.abs(i / n - j / m));
  }
  const en = Math.sqrt((n * m) / (n + m));
  return { statistic: d, pValue: kolmogorovSurvival((en + 0.12 + 0.11 / en) * d) };
}

export interface ChiSquareResult extends TestResult {
  degreesOfFreedom: number;
  /** Smallest expected cell count; the chi-square approximation wants at least 5. */
  minimumExpected: number;
}

/**
 * Chi-square test of homogeneity of two count vectors over the same categories (is the observed
 * mix drawn from the same distribution as the reference mix?). Categories empty in both are dropped.
 */
export function chiSquareHomogeneity(reference: readonly number[], observed: readonly number[]): ChiSquareResult {
  const columns = reference.map((r, k) => [r, observed[k] ?? 0]).filter(([r, o]) => r + o > 0);
  const nr = columns.reduce((s, [r]) => s + r, 0);
  const no = columns.reduce((s, [, o]) => s + o, 0);
  const total = nr + no;
  if (columns.length < 2 || nr === 0 || no === 0) return { statistic: 0, pValue: 1, degreesOfFreedom: 0, minimumExpected: Number.NaN };
  let statistic = 0;
  let minimumExpected = Infinity;
  for (const [r, o] of columns) {
    const er = (nr * (r + o)) / total;
    const eo = (no * (r + o)) / total;
    statistic += (r - er) ** 2 / er + (o - eo) ** 2 / eo;
    minimumExpected = Math.min(minimumExpected, er, eo);
  }
  const degreesOfFreedom = columns.length - 1;
  return { statistic, pValue: chiSquareSurvival(statistic, degreesOfFreedom), degreesOfFreedom, minimumExpected };
}

export interface PsiResult extends TestResult {
  /** Number of bins actually used (quantile edges that coincide are merged). */
  bins: number;
  /** Upper bin edges (the last bin is open-ended). */
  edges: number[];
  /** n·m/(n+m): PSI times this is approximately chi-square(bins − 1) when nothing changed. */
  scale: number;
}

/**
 * Population stability index of `observed` against `reference`, over bins cut at the reference's
 * quantiles (deciles by default, the usual practice). Empty bins are smoothed by adding ½ to every
 * count, so the logarithm stays finite. PSI is the symmetrised Kullback-Leibler divergence
 * (Jeffreys); scaled by n·m/(n+m) it is asymptotically chi-square with bins − 1 degrees of
 * freedom under "same distribution", which gives the p-value: sampling noise alone produces a
 * sizeable PSI when samples are small, and the check must know how much.
 */
export function populationStabilityIndex(reference: ArrayLike<number>, observed: ArrayLike<number>, bins = 10): PsiResult {
  const ref = sortedCopy(reference);
  const n = ref.length;
  const m = observed.length;
  if (n === 0 || m === 0) return { statistic: Number.NaN, pValue: Number.NaN, bins: 0, edges: [], scale: 0 };
  const edges: number[] = [];
  for (let i = 1; i < bins; i++) {
    const q = quantileSorted(ref, i / bins);
    if (edges.length === 0 || q > edges[edges.length - 1]) edges.push(q);
  }
  if (edges.length && edges[edges.length - 1] >= ref[n - 1]) edges.pop(); // no bin that only holds the maximum
  const k = edges.length + 1;
  const binOf = (v: number): number => {
    let lo = 0;
    let hi = edges.length; // first edge >= v, or edges.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (edges[mid] >= v) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  const refCounts = new Array<number>(k).fill(0);
  const obsCounts = new Array<number>(k).fill(0);
  for (let i = 0; i < n; i++) refCounts[binOf(ref[i])] += 1;
  for (let i = 0; i < m; i++) obsCounts[binOf(observed[i])] += 1;
  let psi = 0;
  for (let i = 0; i < k; i++) {
    const p = (refCounts[i] + 0.5) / (n + 0.5 * k);
    const q = (obsCounts[i] + 0.5) / (m + 0.5 * k);
    psi += (q - p) * Math.log(q / p);
  }
  const scale = (n * m) / (n + m);
  return { statistic: psi, pValue: k > 1 ? chiSquareSurvival(psi * scale, k - 1) : 1, bins: k, edges, scale };
}
