import * as z from 'zod';
import { PayloadValidationError } from '../errors';

/**
 * One row of a SageMaker image-classification `.lst` manifest:
 * `row<TAB>label<TAB>relative/path.png`. `row` is the image's index in its source batch.
 */
export const lstRowSchema = z.object({
  row: z.number({ error: 'expected an integer row index' }).int({ error: 'expected an integer row index' }).nonnegative({ error: 'expected a row index >= 0' }),
  label: z.number({ error: 'expected an integer class label' }).int({ error: 'expected an integer class label' }).nonnegative({ error: 'expected a class label >= 0' }),
  path: z.string().min(1, { error: 'expected a non-empty relative path' }).refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), {
    error: 'expected a path relative to the channel directory',
  }),
});
export type LstRow = z.output<typeof lstRowSchema>;

/** Formats rows as `.lst` text (one line each, trailing newline). */
export function formatLst(rows: readonly LstRow[]): string {
  return rows.map((r) => `${r.row}\t${r.label}\t${r.path}\n`).join('');
}

// SageMaker writes labels as floats ("1.000000") in some tools; both forms are accepted.
const INTEGER_TEXT = /^\d+(?:\.0*)?$/;

/**
 * Parses `.lst` text. Errors name the source and line, e.g. `data/train.lst line 7: label: ...`.
 * Blank lines are ignored.
 */
export function parseLst(text: string, source = '.lst'): LstRow[] {
  const rows: LstRow[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    const where = `${source} line ${i + 1}`;
    const fields = line.split('\t');
    if (fields.length !== 3) {
      throw new PayloadValidationError(where, [{ path: '', message: `expected 3 tab-separated fields (row, label, path), got ${fields.length}` }]);
    }
    const [row, label, path] = fields;
    const issues = [];
    if (!INTEGER_TEXT.test(row)) issues.push({ path: 'row', message: `expected an integer row index, got ${JSON.stringify(row)}` });
    if (!INTEGER_TEXT.test(label)) issues.push({ path: 'label', message: `expected an integer class label, got ${JSON.stringify(label)}` });
    if (issues.length) throw new PayloadValidationError(where, issues);
    const parsed = lstRowSchema.safeParse({ row: Number(row), label: Number(label), path });
    if (!parsed.success) {
      throw new PayloadValidationError(where, parsed.error.issues.map((x) => ({ path: x.path.join('.'), message: x.message })));
    }
    rows.push(parsed.data);
  }
  return rows;
}
