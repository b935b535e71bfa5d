import type { S3ClientConfig } from '@aws-sdk/client-s3';

/**
 * S3 client options for code that learns its endpoint from the standard SDK environment, like the
 * Lambda bundles (`AWS_ENDPOINT_URL_S3` is set by {@link localSdkEnvironment} for the embedded stack
 * and unset on AWS). The SDK reads the endpoint variables itself; it has no variable for path-style
 * addressing, though, and against a custom endpoint with a host name (`http://localhost:4566`)
 * it would address `bucket.localhost`, which does not resolve. So a configured endpoint means
 * path-style. This file imports no runtime code: Lambda bundles can use it without pulling in the SDK's clients.
 */
export function s3ClientConfigFromEnvironment(env: NodeJS.ProcessEnv = process.env): S3ClientConfig {
  const ignored = /^true$/i.test(env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS ?? '');
  const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL;
  return endpoint && !ignored ? { forcePathStyle: true } : {};
}
