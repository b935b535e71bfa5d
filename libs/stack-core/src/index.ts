// The local stack's core: the gateway (routing by SigV4 scope / X-Amz-Target, AWS's four wire
// protocols and error shapes), persistence helpers, the instance file, and the S3 service every
// other service stands on. @scones/local-stack composes it with the other services.
export { LocalStackError, StackStartError, StackInstanceError } from './errors';
export {
  startStackServer,
  DEFAULT_DATA_DIR,
  DEFAULT_STACK_PORT,
  type ServiceFactory,
  type StackOptions,
  type StackServerOptions,
  type StackStatus,
  type LocalStack,
} from './lib/stack';
export { findRunningStack, readInstanceFile, probeStack, processExists, claimDataDirectory, INSTANCE_FILE, type StackInstance, type RunningStackInstance, type InstanceClaim } from './lib/instance';
export type { StackContext, StackService } from './lib/service';
export { createJsonLogger, parseLogLevel, silentLogger, type Logger, type LogLevel, type LogFields, type JsonLoggerOptions } from './lib/json-logger';
export { AwsError, validationError, internalError } from './lib/aws-error';
export { LOCAL_ACCOUNT_ID, DEFAULT_STACK_REGION, STACK_CREDENTIALS, parseArn, formatArn, type Arn } from './lib/arn';
export { routeRequest, SERVICE_PROTOCOLS, INTERNAL_PREFIX, type ServiceId, type Route } from './lib/gateway/routing';
export { signingScope, newRequestContext, type RequestContext, type SigningScope } from './lib/gateway/request-context';
export { awsJsonHandler, parseJsonInput, type JsonOperation, type AwsJsonServiceOptions } from './lib/protocol/aws-json';
export { awsQueryHandler, queryList, queryMap, type QueryOperation, type AwsQueryServiceOptions } from './lib/protocol/aws-query';
export { readBody, discardBody } from './lib/protocol/body';
export { renderError, JSON_CONTENT_TYPES, QUERY_NAMESPACES, type Protocol } from './lib/protocol/render-error';
export { parseInput } from './lib/protocol/validate';
export { escapeXml, toXml, type XmlNode, type XmlValue } from './lib/protocol/xml';
export { writeFileAtomic, isTemporaryFile } from './lib/store/atomic-file';
export { JsonStore } from './lib/store/json-store';
export { createS3Service, type S3Service, type S3ObjectInfo, type S3ListResult } from './lib/s3/s3-service';
