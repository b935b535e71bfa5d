import { nonEmptyString } from './primitives';

/** SageMaker's rule for endpoint names (CreateEndpoint), which also keeps them safe as file names. */
export const ENDPOINT_NAME_PATTERN = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

export const endpointNameSchema = nonEmptyString.regex(ENDPOINT_NAME_PATTERN, {
  error: 'expected 1-63 letters, digits and hyphens, starting and ending with a letter or digit',
});
