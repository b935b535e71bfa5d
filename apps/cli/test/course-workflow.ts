// The workflow as a learner of the course writes it, for `scones functions deploy` and
// `scones run --definition`: three lambda_function.py files in the style of the course's starter
// and the state machine as the Step Functions console exports it (lambda:invoke with
// `Payload.$: "$"`, `OutputPath: "$.Payload"`, function ARNs of the learner's own account). The
// sources are the local stack's fixtures (one copy), written out as files.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SERIALIZE_PY, starterClassifyPy, starterDefinition, starterFilterPy } from '@scones/local-stack/testing';

/** The function names the learner chose in the console. */
export const COURSE_FUNCTIONS = { serialize: 'serializeImageData', classify: 'imageClassification', filter: 'filterLowConfidence' } as const;

/**
 * Writes `<dir>/serialize|classify|filter/lambda_function.py` (the endpoint name and the threshold
 * as a learner fills them in) and `<dir>/stepfunction.json`.
 */
export async function writeCourseWorkflow(dir: string, { endpoint, threshold }: { endpoint: string; threshold: number }): Promise<{ functions: Record<keyof typeof COURSE_FUNCTIONS, string>; definition: string }> {
  const sources = { serialize: SERIALIZE_PY, classify: starterClassifyPy(endpoint), filter: starterFilterPy(threshold) };
  const functions = {} as Record<keyof typeof COURSE_FUNCTIONS, string>;
  for (const [step, source] of Object.entries(sources) as Array<[keyof typeof COURSE_FUNCTIONS, string]>) {
    functions[step] = join(dir, step);
    await mkdir(functions[step], { recursive: true });
    await writeFile(join(functions[step], 'lambda_function.py'), source);
  }
  const definition = join(dir, 'stepfunction.json');
  await writeFile(definition, `${JSON.stringify(starterDefinition(COURSE_FUNCTIONS), null, 2)}\n`);
  return { functions, definition };
}
