/**
 * The statistics of embedding drift, written out like the rest (no opaque dependency): whitening,
 * nearest-neighbour distances and a rank two-sample test with a permutation null, on row-major
 * float32 matrices of feature vectors.
 */

/** Feature vectors, one per row, row-major. */
export interface Matrix {
  rows: number;
  columns: number;
  data: Float32Array;
}

export function matrixFromRows(rows: readonly ArrayLike<number>[], columns?: number): Matrix {
  const width = columns ?? rows[0]?.length ?? 0;
  const data = new Float32Array(rows.length * width);
  rows.forEach((row, i) => {
    if (row.length !== width) throw new RangeError(`row ${i} has ${row.length} values, expected ${width}`);
    data.set(row, i * width);
  });
  return { rows: rows.length, columns: width, data };
}

/**
 * Squared distance, or any value ≥ `bound` as soon as the partial sum reaches it: a row that
 * cannot be among the nearest is abandoned after a fraction of its dimensions.
 */
function squaredDistanceBelow(a: Float32Array, ai: number, b: Float32Array, bi: number, d: number, bound: number): number {
  let s = 0;
  for (let start = 0; start < d; start += 32) {
    const end = Math.min(d, start + 32);
    // Four independent sums: the loop is bound by the latency of the additions, not by the loads.
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let k = start;
    for (; k + 3 < end; k += 4) {
      const t0 = a[ai + k] - b[bi + k];
      const t1 = a[ai + k + 1] - b[bi + k + 1];
      const t2 = a[ai + k + 2] - b[bi + k + 2];
      const t3 = a[ai + k + 3] - b[bi + k + 3];
      s0 += t0 * t0;
      s1 += t1 * t1;
      s2 += t2 * t2;
      s3 += t3 * t3;
    }
    for (; k < end; k++) {
      const t = a[ai + k] - b[bi + k];
      s0 += t * t;
    }
    s += s0 + s1 + s2 + s3;
    if (s >= bound) return s;
  }
  return s;
}

/**
 * Mean distance from each row of `points` to its `k` nearest rows of `reference` (Euclidean): an
 * input's atypicality, steadier than the single nearest distance. With `excludeSelf` (points and
 * reference the same matrix) a row is not its own neighbour.
 */
export function meanNeighbourDistances(points: Matrix, reference: Matrix, k: number, options: { excludeSelf?: boolean } = {}): Float64Array {
  if (points.columns !== reference.columns) throw new RangeError(`points have ${points.columns} columns, the reference ${reference.columns}`);
  const available = reference.rows - (options.excludeSelf ? 1 : 0);
  if (!Number.isInteger(k) || k < 1 || k > available) throw new RangeError(`k: expected a whole number from 1 to ${available} (the reference rows), got ${k}`);
  const d = points.columns;
  const out = new Float64Array(points.rows);
  const nearest = new Float64Array(k);
  for (let i = 0; i < points.rows; i++) {
    // The k smallest squared distances, kept sorted (k is small).
    nearest.fill(Infinity);
    for (let j = 0; j < reference.rows; j++) {
      if (options.excludeSelf && i === j) continue;
      const s = squaredDistanceBelow(points.data, i * d, reference.data, j * d, d, nearest[k - 1]);
      if (s >= nearest[k - 1]) continue;
      let at = k - 1;
      while (at > 0 && nearest[at - 1] > s) {
        nearest[at] = nearest[at - 1];
        at -= 1;
      }
      nearest[at] = s;
    }
    let sum = 0;
    for (let a = 0; a < k; a++) sum += Math.sqrt(nearest[a]);
    out[i] = sum / k;
  }
  return out;
}

/** A linear map that makes the reference rows' covariance (about) the identity. */
export interface Whitening {
  mean: Float64Array;
  /** Lower-triangular Cholesky factor L of the shrunk covariance, row-major d×d: x ↦ L⁻¹(x − mean). */
  factor: Float64Array;
  columns: number;
}

/**
 * Whitening fitted on `reference`: Euclidean distances after it are Mahalanobis distances under
 * the rows' covariance, shrunk towards a multiple of the identity (Σ + λ·tr(Σ)/d·I) so that
 * directions with almost no variance (dead channels, fewer rows than columns) stay finite.
 * Without it, the few directions in which images vary most (lighting, the class) swamp the many
 * in which a foreign image stands out.
 */
export function fitWhitening(reference: Matrix, shrinkage: number): Whitening {
  const { rows: n, columns: d, data } = reference;
  if (n < 2) throw new RangeError(`whitening needs at least 2 rows, got ${n}`);
  if (!(shrinkage > 0)) throw new RangeError(`shrinkage: expected a number > 0, got ${shrinkage}`);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) mean[k] += data[i * d + k] / n;
  // Centred columns, contiguous: each covariance entry is then one dot product held in registers.
  const columns = new Float64Array(d * n);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) columns[k * n + i] = data[i * d + k] - mean[k];
  const cov = new Float64Array(d * d);
  for (let a = 0; a < d; a++) {
    for (let b = 0; b <= a; b++) {
      let s0 = 0;
      let s1 = 0;
      let i = 0;
      for (; i + 1 < n; i += 2) {
        s0 += columns[a * n + i] * columns[b * n + i];
        s1 += columns[a * n + i + 1] * columns[b * n + i + 1];
      }
      if (i < n) s0 += columns[a * n + i] * columns[b * n + i];
      cov[a * d + b] = s0 + s1;
    }
  }
  let trace = 0;
  for (let a = 0; a < d; a++) trace += cov[a * d + a] / (n - 1);
  const ridge = (shrinkage * trace) / d || shrinkage;
  // Cholesky of the shrunk covariance (lower triangle only).
  const factor = new Float64Array(d * d);
  for (let a = 0; a < d; a++) {
    for (let b = 0; b <= a; b++) {
      let s = cov[a * d + b] / (n - 1) + (a === b ? ridge : 0);
      for (let k = 0; k < b; k++) s -= factor[a * d + k] * factor[b * d + k];
      factor[a * d + b] = a === b ? Math.sqrt(s) : s / factor[b * d + b];
    }
  }
  return { mean, factor, columns: d };
}

/** The rows of `matrix` whitened: L⁻¹(x − mean), by forward substitution. */
export function applyWhitening(matrix: Matrix, whitening: Whitening): Matrix {
  const { mean, factor, columns: d } = whitening;
  if (matrix.columns !== d) throw new RangeError(`rows have ${matrix.columns} columns, the whitening ${d}`);
  const out = new Float32Array(matrix.rows * d);
  const y = new Float64Array(d);
  for (let i = 0; i < matrix.rows; i++) {
    for (let a = 0; a < d; a++) {
      const row = a * d;
      let s0 = 0;
      let s1 = 0;
      let k = 0;
      for (; k + 1 < a; k += 2) {
        s0 += factor[row + k] * y[k];
        s1 += factor[row + k + 1] * y[k + 1];
      }
      if (k < a) s0 += factor[row + k] * y[k];
      y[a] = (matrix.data[i * d + a] - mean[a] - s0 - s1) / factor[row + a];
    }
    out.set(y, i * d);
  }
  return { rows: matrix.rows, columns: d, data: out };
}

/**
 * Savage (log-rank) scores of the pooled values: rank r of N (1 = smallest) scores
 * Σ_{j=N−r+1}^{N} 1/j, from 1/N for the smallest to about ln N + 0.58 for the largest, averaged
 * over ties; they sum to N (mean 1). The score of a value is −ln of its upper-tail share, so the
 * scores weigh the far tail: the rank test for a minority of inputs that lie beyond the bulk.
 */
export function savageScores(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a] - values[b]);
  const byRank = new Float64Array(n);
  let sum = 0;
  for (let r = 1; r <= n; r++) {
    sum += 1 / (n - r + 1);
    byRank[r - 1] = sum;
  }
  const scores = new Float64Array(n);
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && values[order[end]] === values[order[start]]) end++;
    let tie = 0;
    for (let r = start; r < end; r++) tie += byRank[r];
    for (let r = start; r < end; r++) scores[order[r]] = tie / (end - start);
    start = end;
  }
  return scores;
}

export interface RankTestResult {
  /**
   * The sample's mean Savage score minus 1 (its expectation when the sample is like the
   * reference): > 0 when the sample's values lie further out than the reference's.
   */
  statistic: number;
  /** Permutation p-value (1 + b) / (1 + B): b of the B label permutations gave a statistic at least as large. */
  pValue: number;
  /** Permutations actually run (fewer than asked when the test stopped early, see {@link rankPermutationTest}). */
  permutations: number;
  /** True when the test stopped once significance at `alpha` had become impossible. */
  stoppedEarly: boolean;
}

export interface RankTestOptions {
  /** Label permutations. Default 2000. */
  permutations?: number;
  /**
   * Stop as soon as the p-value cannot fall below `alpha` any more (Besag & Clifford's sequential
   * test): the decision at `alpha` is the same as with every permutation, and undrifted traffic
   * costs a fraction of them. Omit to run all permutations.
   */
  alpha?: number;
  /** Draws the permutations: a seeded generator gives the same p-value for the same data. */
  random: () => number;
}

/**
 * One-sided two-sample test of "the sample's values are no larger than the reference's": the
 * linear rank test with Savage scores (the log-rank test), calibrated by permuting the labels.
 * Under the null hypothesis the pooled values are exchangeable, so P(p ≤ α) ≤ α exactly whatever
 * their distribution. Each permutation costs the smaller sample's size.
 */
export function rankPermutationTest(reference: ArrayLike<number>, sample: ArrayLike<number>, options: RankTestOptions): RankTestResult {
  const n = reference.length;
  const m = sample.length;
  if (n < 1 || m < 1) return { statistic: Number.NaN, pValue: Number.NaN, permutations: 0, stoppedEarly: false };
  const size = n + m;
  const pooled = new Float64Array(size);
  for (let i = 0; i < n; i++) pooled[i] = reference[i];
  for (let i = 0; i < m; i++) pooled[n + i] = sample[i];
  const scores = savageScores(pooled);
  // The scores sum to N: the sample's sum follows from the smaller group's.
  const small = Math.min(n, m);
  const smallIsReference = n <= m;
  const sampleSum = (smallSum: number) => (smallIsReference ? size - smallSum : smallSum);
  let observed = 0;
  for (let i = 0; i < small; i++) observed += scores[smallIsReference ? i : n + i];
  const observedSum = sampleSum(observed);
  // Sums of the same scores in another order differ by rounding only: count those as ties.
  const tolerance = 1e-9 * size;

  const wanted = options.permutations ?? 2000;
  // Significance at alpha needs (1 + b) / (1 + B) <= alpha, i.e. b <= alpha (1 + B) - 1.
  const allowed = options.alpha === undefined ? Infinity : Math.floor(options.alpha * (1 + wanted) - 1);
  const order = Int32Array.from({ length: size }, (_, i) => i);
  let exceed = 0;
  let done = 0;
  let stoppedEarly = false;
  for (; done < wanted; ) {
    // A partial Fisher-Yates shuffle: the first `small` entries are a uniform random subset.
    let sum = 0;
    for (let i = 0; i < small; i++) {
      const j = i + Math.floor(options.random() * (size - i));
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
      sum += scores[order[i]];
    }
    done += 1;
    if (sampleSum(sum) >= observedSum - tolerance) exceed += 1;
    if (exceed > allowed) {
      stoppedEarly = done < wanted;
      break;
    }
  }
  return { statistic: observedSum / m - 1, pValue: (1 + exceed) / (1 + done), permutations: done, stoppedEarly };
}

/** Mean and principal axes of the rows (power iteration with deflation on the covariance). */
export function principalAxes(matrix: Matrix, count: number, random: () => number): { mean: Float64Array; axes: Float64Array[]; variances: number[] } {
  const { rows: n, columns: d, data } = matrix;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) mean[k] += data[i * d + k] / n;
  const cov = new Float64Array(d * d);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < d; a++) {
      const va = data[i * d + a] - mean[a];
      if (va === 0) continue;
      for (let b = a; b < d; b++) cov[a * d + b] += (va * (data[i * d + b] - mean[b])) / Math.max(1, n - 1);
    }
  }
  for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) cov[a * d + b] = cov[b * d + a];
  const axes: Float64Array[] = [];
  const variances: number[] = [];
  for (let c = 0; c < Math.min(count, d); c++) {
    let v = Float64Array.from({ length: d }, () => random() - 0.5);
    let lambda = 0;
    for (let iteration = 0; iteration < 500; iteration++) {
      const w = new Float64Array(d);
      for (let a = 0; a < d; a++) {
        let s = 0;
        for (let b = 0; b < d; b++) s += cov[a * d + b] * v[b];
        w[a] = s;
      }
      // Deflation: remove the axes already found.
      for (const axis of axes) {
        let dot = 0;
        for (let a = 0; a < d; a++) dot += w[a] * axis[a];
        for (let a = 0; a < d; a++) w[a] -= dot * axis[a];
      }
      const norm = Math.hypot(...w);
      if (norm === 0) break;
      for (let a = 0; a < d; a++) w[a] /= norm;
      let change = 0;
      for (let a = 0; a < d; a++) change = Math.max(change, Math.abs(w[a] - v[a]));
      v = w;
      lambda = norm;
      if (change < 1e-9) break;
    }
    axes.push(v);
    variances.push(lambda);
  }
  return { mean, axes, variances };
}
