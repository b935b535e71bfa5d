import { dataCaptureRecordSchema, inferenceOutputSchema, toPayloadIssues } from '@scones/payload-schemas';

/** One captured request/response pair, validated and reduced to what monitoring needs. */
export interface CapturedInference {
  eventId: string;
  /** inferenceTime in epoch milliseconds. */
  time: number;
  /** Capture file (S3 key or path) and 1-based line the record came from. */
  file: string;
  line: number;
  /** Content type the endpoint saw for the request body. */
  contentType: string;
  /** The request body (the image), base64 as captured. */
  inputBase64: string;
  /** Size of the decoded request body in bytes. */
  inputBytes: number;
  probabilities: number[];
  /** Index of the most probable class (class order of the model artifact). */
  predictedClass: number;
  /** Probability of the predicted class (top-1 confidence). */
  confidence: number;
}

/** A capture line that could not be used, with where it is and why. */
export interface MalformedLine {
  file: string;
  line: number;
  reason: string;
}

export type ParsedCaptureLine = { ok: true; record: CapturedInference } | { ok: false; malformed: MalformedLine };

/** Decoded length of padded base64 text, without decoding it. */
export function base64DecodedLength(text: string): number {
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  return Math.max(0, Math.floor((text.length * 3) / 4) - padding);
}

const issuesText = (issues: { path: string; message: string }[]): string =>
  issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');

/**
 * Validates one JSONL line against the data-capture record schema and the endpoint output
 * contract (a probability per class of the model). Never throws: a bad line comes back as
 * `{ok: false}` with a reason naming the field.
 */
export function parseCaptureLine(text: string, file: string, line: number, classCount: number): ParsedCaptureLine {
  const bad = (reason: string): ParsedCaptureLine => ({ ok: false, malformed: { file, line, reason } });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return bad(`not valid JSON (${(error as Error).message})`);
  }
  const parsed = dataCaptureRecordSchema.safeParse(value);
  if (!parsed.success) return bad(issuesText(toPayloadIssues(parsed.error, value)));
  const record = parsed.data;
  const outputText = record.captureData.endpointOutput.data;
  let output: unknown;
  try {
    output = JSON.parse(outputText);
  } catch {
    return bad(`captureData.endpointOutput.data: not valid JSON (${JSON.stringify(outputText.slice(0, 40))})`);
  }
  const probabilities = inferenceOutputSchema.safeParse(output);
  if (!probabilities.success) {
    return bad(`captureData.endpointOutput.data: ${issuesText(toPayloadIssues(probabilities.error, output))}`);
  }
  const ps = probabilities.data;
  if (ps.length !== classCount) {
    return bad(`captureData.endpointOutput.data: expected ${classCount} class probabilities (one per class of the model), got ${ps.length}`);
  }
  let predictedClass = 0;
  for (let k = 1; k < ps.length; k++) if (ps[k] > ps[predictedClass]) predictedClass = k;
  const input = record.captureData.endpointInput;
  return {
    ok: true,
    record: {
      eventId: record.eventMetadata.eventId,
      time: Date.parse(record.eventMetadata.inferenceTime),
      file,
      line,
      contentType: input.observedContentType,
      inputBase64: input.data,
      inputBytes: base64DecodedLength(input.data),
      probabilities: ps,
      predictedClass,
      confidence: ps[predictedClass],
    },
  };
}
