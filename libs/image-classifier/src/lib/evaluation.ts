/** Figures of a set of predictions against true labels. */
export interface Evaluation {
  count: number;
  accuracy: number;
  /** `confusionMatrix[true][predicted]` counts. */
  confusionMatrix: number[][];
  /** Per class: correct / predicted as that class (0 when nothing was predicted as it). */
  precision: number[];
  /** Per class: correct / truly that class (0 when the class has no images). */
  recall: number[];
  /** Mean cross-entropy of the true class (natural log, probabilities clipped at 1e-7). */
  loss: number;
}

/** Index of the largest probability (the first on ties). */
export function argMax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** Accuracy, confusion matrix, per-class precision/recall and loss of `probabilities` (one row per image). */
export function evaluate(probabilities: readonly (readonly number[])[], labels: readonly number[], numClasses: number): Evaluation {
  const confusionMatrix = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  let correct = 0;
  let loss = 0;
  probabilities.forEach((p, i) => {
    const predicted = argMax(p);
    confusionMatrix[labels[i]][predicted]++;
    if (predicted === labels[i]) correct++;
    loss -= Math.log(Math.max(p[labels[i]], 1e-7));
  });
  const count = labels.length;
  const precision = confusionMatrix.map((_, c) => {
    const predicted = confusionMatrix.reduce((sum, row) => sum + row[c], 0);
    return predicted ? confusionMatrix[c][c] / predicted : 0;
  });
  const recall = confusionMatrix.map((row, c) => {
    const actual = row.reduce((a, b) => a + b, 0);
    return actual ? row[c] / actual : 0;
  });
  return { count, accuracy: count ? correct / count : 0, confusionMatrix, precision, recall, loss: count ? loss / count : 0 };
}
