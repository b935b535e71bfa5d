/** A context parameter or a workspace file the CDK app needs is missing or malformed. */
export class InfraConfigError extends Error {
  override readonly name = 'InfraConfigError';
}
