import { UnknownClassError } from '../errors';
import { CIFAR100_FINE_LABEL_NAMES } from './cifar100-labels';

/** The classes of the Scones Unlimited model, in label order (0 bicycle, 1 motorcycle). */
export const DEFAULT_CLASSES: readonly string[] = ['bicycle', 'motorcycle'];

/** Chosen classes: label `i` (0..n-1, the `.lst` label and the model's output index) is `names[i]`. */
export interface ClassSelection {
  names: readonly string[];
  /** Fine label (index in meta's `fine_label_names`) of each chosen class. */
  fineLabels: readonly number[];
  /** Label 0..n-1 of a fine label, or -1 when that class is not chosen. */
  labelOfFine: Int32Array;
}

/** Splits a comma-separated class list (`"bicycle, motorcycle"`). */
export function parseClassList(text: string): string[] {
  const names = text.split(',').map((s) => s.trim());
  if (names.some((n) => n === '')) throw new UnknownClassError(`class list ${JSON.stringify(text)}: empty class name`);
  return names;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

function suggestion(name: string, known: readonly string[]): string {
  let best = '';
  let bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(name.toLowerCase(), k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? ` (did you mean "${best}"?)` : '';
}

/** Rejects an empty list or a class named twice (before any archive is read). */
export function checkClassList(names: readonly string[]): void {
  if (names.length === 0) throw new UnknownClassError('no classes chosen: give at least one CIFAR-100 fine label name');
  const twice = names.find((name, i) => names.indexOf(name) !== i);
  if (twice !== undefined) throw new UnknownClassError(`class "${twice}" is listed twice`);
}

/**
 * Maps class names to labels 0..n-1 in the order given, using the archive's fine label names.
 * Unknown, duplicate or missing names raise {@link UnknownClassError} naming the problem.
 */
export function selectClasses(fineLabelNames: readonly string[], names: readonly string[], whose = "the archive's"): ClassSelection {
  checkClassList(names);
  const fineLabels: number[] = [];
  const labelOfFine = new Int32Array(fineLabelNames.length).fill(-1);
  names.forEach((name, label) => {
    const fine = fineLabelNames.indexOf(name);
    if (fine < 0) {
      throw new UnknownClassError(
        `unknown class "${name}"${suggestion(name, fineLabelNames)}; ${whose} ${fineLabelNames.length} fine labels are: ${fineLabelNames.join(', ')}`,
      );
    }
    labelOfFine[fine] = label;
    fineLabels.push(fine);
  });
  return { names: [...names], fineLabels, labelOfFine };
}

/**
 * Checks a class list against CIFAR-100's published fine label names before any archive is read
 * (empty, repeated or unknown names raise {@link UnknownClassError}); returns the selection.
 */
export function checkCifar100Classes(names: readonly string[]): ClassSelection {
  return selectClasses(CIFAR100_FINE_LABEL_NAMES, names, "CIFAR-100's");
}
