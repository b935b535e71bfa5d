import * as z from 'zod';
import { nonEmptyString } from './primitives';

/** SageMaker's rule for endpoint names (CreateEndpoint), which also keeps them safe as file names. */
export const ENDPOINT_NAME_PATTERN = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

export const endpointNameSchema = nonEmptyString.regex(ENDPOINT_NAME_PATTERN, {
  error: 'expected 1-63 letters, digits and hyphens, starting and ending with a letter or digit',
});

/**
 * A running local endpoint, as the endpoint registry stores it (`.scones/endpoints/<name>.json`)
 * so other processes (`scones run`, `scones invoke`) can find it by name.
 */
export const endpointRegistrationSchema = z.object({
  name: endpointNameSchema,
  /** Base URL of the SageMaker Runtime API, e.g. `http://127.0.0.1:8080`. */
  url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }),
  port: z.number({ error: 'expected a port number' }).int().min(1, { error: 'expected a port 1-65535' }).max(65535, { error: 'expected a port 1-65535' }),
  /** Process serving it; an entry whose process is gone is stale. */
  pid: z.number({ error: 'expected a process id' }).int().positive({ error: 'expected a process id' }),
  /** Where the model came from: a directory or `s3://bucket/models/<job>/`. */
  model: nonEmptyString,
  /** Where data capture goes (`s3://bucket/data_capture` or a directory), null when off. */
  captureDestination: nonEmptyString.nullable(),
  startedAt: z.iso.datetime({ error: 'expected an ISO-8601 UTC timestamp' }),
});
export type EndpointRegistration = z.output<typeof endpointRegistrationSchema>;
