// How the CLI prints numbers people read (summaries, progress lines).

/**
 * A threshold for people: 4 decimals, more when 4 would round a value below 1 up to "1.0000" (a
 * network trained without label smoothing gives confidences like 0.99995, and "1.0000" would read
 * as "passes nothing").
 */
export function formatThreshold(value: number): string {
  let digits = 4;
  while (digits < 12 && value < 1 && Number(value.toFixed(digits)) >= 1) digits++;
  return value.toFixed(digits);
}
