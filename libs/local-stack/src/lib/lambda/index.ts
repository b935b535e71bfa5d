// The stack's Lambda service: the HTTP API and the in-process invoke other services use.
export {
  createLambdaService,
  INVOKE_LIMITS,
  type LambdaService,
  type LambdaServiceOptions,
  type LambdaInvokeOptions,
  type LambdaInvokeResult,
  type InvocationType,
} from './lambda-service';
export { parseFunctionReference, functionArn, LATEST, type FunctionReference } from './function-name';
