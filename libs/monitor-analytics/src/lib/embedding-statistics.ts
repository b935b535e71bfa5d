/**
 * The statistics of embedding drift, written out like the rest (no opaque dependency): a kernel
 * two-sample test (maximum mean discrepancy with a permutation test) and nearest-neighbour
 * distances, on row-major float32 matrices of feature vectors.
 */
import { quantileSorted, sortedCopy } from './statistics';

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

export function matrixRow(matrix: Matrix, row: number): Float32Array {
  return matrix.data.subarray(row * matrix.columns, (row + 1) * matrix.columns);
}

/** Rows `indexes` of a matrix, copied. */
export function selectRows(matrix: Matrix, indexes: readonly number[]): Matrix {
  const data = new Float32Array(indexes.length * matrix.columns);
  indexes.forEach((r, i) => data.set(matrixRow(matrix, r), i * matrix.columns));
  return { rows: indexes.length, columns: matrix.columns, data };
}

/** The rows of `a` then the rows of `b`. */
export function stackRows(a: Matrix, b: Matrix): Matrix {
  if (a.columns !== b.columns) throw new RangeError(`cannot stack ${a.columns}- and ${b.columns}-column matrices`);
  const data = new Float32Array((a.rows + b.rows) * a.columns);
  data.set(a.data);
  data.set(b.data, a.data.length);
  return { rows: a.rows + b.rows, columns: a.columns, data };
}

function squaredDistance(a: Float32Array, ai: number, b: Float32Array, bi: number, d: number): number {
  let s = 0;
  for (let k = 0; k < d; k++) {
    const t = a[ai + k] - b[bi + k];
    s += t * t;
  }
  return s;
}

/** Distance from each row of `points` to its nearest row of `reference` (Euclidean). */
export function nearestNeighbourDistances(points: Matrix, reference: Matrix, options: { excludeSelf?: boolean } = {}): Float64Array {
  if (points.columns !== reference.columns) throw new RangeError(`points have ${points.columns} columns, the reference ${reference.columns}`);
  const d = points.columns;
  const out = new Float64Array(points.rows);
  for (let i = 0; i < points.rows; i++) {
    let best = Infinity;
    for (let j = 0; j < reference.rows; j++) {
      if (options.excludeSelf && i === j) continue;
      const s = squaredDistance(points.data, i * d, reference.data, j * d, d);
      if (s < best) best = s;
    }
    out[i] = Math.sqrt(best);
  }
  return out;
}

/**
 * Median of the pairwise distances between rows: the usual bandwidth of a Gaussian kernel (the
 * "median heuristic"). Computed once, on the baseline, so the test's kernel does not depend on
 * the traffic it judges.
 */
export function medianPairwiseDistance(matrix: Matrix): number {
  const n = matrix.rows;
  const d = matrix.columns;
  const distances = new Float64Array((n * (n - 1)) / 2);
  let k = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) distances[k++] = Math.sqrt(squaredDistance(matrix.data, i * d, matrix.data, j * d, d));
  return quantileSorted(sortedCopy(distances), 0.5);
}

/** Gaussian kernel matrix exp(−|x−y|² / (2σ²)) of all rows of `pooled`, symmetric, N×N. */
function gaussianKernelMatrix(pooled: Matrix, bandwidth: number): Float64Array {
  const n = pooled.rows;
  const d = pooled.columns;
  const scale = -1 / (2 * bandwidth * bandwidth);
  const k = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    k[i * n + i] = 1;
    for (let j = i + 1; j < n; j++) {
      const v = Math.exp(scale * squaredDistance(pooled.data, i * d, pooled.data, j * d, d));
      k[i * n + j] = v;
      k[j * n + i] = v;
    }
  }
  return k;
}

export interface MmdTestResult {
  /** Unbiased estimate of MMD² between the two samples (0 in expectation when nothing changed). */
  statistic: number;
  /** Permutation p-value (1 + b) / (1 + B): b of the B label permutations gave a statistic at least as large. */
  pValue: number;
  /** Permutations actually run (fewer than asked when the test stopped early, see {@link mmdPermutationTest}). */
  permutations: number;
  /** True when the test stopped once significance at `alpha` had become impossible. */
  stoppedEarly: boolean;
}

export interface MmdTestOptions {
  /** Gaussian kernel bandwidth σ (see {@link medianPairwiseDistance}). */
  bandwidth: number;
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
 * Two-sample test of "same distribution" with the maximum mean discrepancy (Gretton et al. 2012)
 * under a Gaussian kernel, calibrated by permuting the sample labels: under the null hypothesis the
 * pooled rows are exchangeable, so P(p ≤ α) ≤ α exactly, whatever the dimension and sample sizes.
 *
 * Each permutation costs O(s²) for the smaller sample's size s: with the kernel matrix K and the
 * indicator s of the smaller group, sᵀKs is summed directly, sᵀK(1−s) follows from K's row sums
 * and (1−s)ᵀK(1−s) from the constant 1ᵀK1.
 */
export function mmdPermutationTest(reference: Matrix, sample: Matrix, options: MmdTestOptions): MmdTestResult {
  const n = reference.rows;
  const m = sample.rows;
  if (n < 2 || m < 2) return { statistic: Number.NaN, pValue: Number.NaN, permutations: 0, stoppedEarly: false };
  const pooled = stackRows(reference, sample);
  const size = n + m;
  const kernel = gaussianKernelMatrix(pooled, options.bandwidth);
  let total = 0;
  for (let i = 0; i < kernel.length; i++) total += kernel[i];
  // The indicator group is the smaller sample: permutation cost is proportional to its size.
  const small = Math.min(n, m);
  const large = size - small;
  const smallIsReference = n <= m;
  // Unbiased MMD² from the block sums (the kernel's diagonal is 1: k(x, x) = 1).
  const mmd = (smallSmall: number, smallLarge: number): number => {
    const largeLarge = total - smallSmall - 2 * smallLarge;
    const within = (smallSmall - small) / (small * (small - 1)) + (largeLarge - large) / (large * (large - 1));
    return within - (2 * smallLarge) / (small * large);
  };
  // Row sums once; then a group's within-sum costs s² and its cross-sum follows from the row sums.
  const rowSums = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    let r = 0;
    const row = i * size;
    for (let j = 0; j < size; j++) r += kernel[row + j];
    rowSums[i] = r;
  }
  const blockSums = (members: Int32Array): [number, number] => {
    // K is symmetric with a unit diagonal: the within-sum is s + 2 Σ_{a<b} K.
    let upper = 0;
    let rows = 0;
    for (let a = 0; a < members.length; a++) {
      const row = members[a] * size;
      rows += rowSums[members[a]];
      for (let b = a + 1; b < members.length; b++) upper += kernel[row + members[b]];
    }
    const inside = members.length + 2 * upper;
    return [inside, rows - inside];
  };
  const observedMembers = Int32Array.from({ length: small }, (_, i) => (smallIsReference ? i : n + i));
  const statistic = mmd(...blockSums(observedMembers));

  const wanted = options.permutations ?? 2000;
  // Significance at alpha needs (1 + b) / (1 + B) <= alpha, i.e. b <= alpha (1 + B) - 1.
  const allowed = options.alpha === undefined ? Infinity : Math.floor(options.alpha * (1 + wanted) - 1);
  const order = Int32Array.from({ length: size }, (_, i) => i);
  let exceed = 0;
  let done = 0;
  let stoppedEarly = false;
  for (; done < wanted; ) {
    // A partial Fisher-Yates shuffle: the first `small` entries are a uniform random subset.
    for (let i = 0; i < small; i++) {
      const j = i + Math.floor(options.random() * (size - i));
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    done += 1;
    if (mmd(...blockSums(order.subarray(0, small))) >= statistic) exceed += 1;
    if (exceed > allowed) {
      stoppedEarly = done < wanted;
      break;
    }
  }
  return { statistic, pValue: (1 + exceed) / (1 + done), permutations: done, stoppedEarly };
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
