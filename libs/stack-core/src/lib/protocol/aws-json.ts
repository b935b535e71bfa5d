import type { IncomingMessage, ServerResponse } from 'node:http';
import { AwsError } from '../aws-error';
import type { RequestContext } from '../gateway/request-context';
import { readBody } from './body';
import { JSON_CONTENT_TYPES, renderError } from './render-error';

/** One operation of a JSON-protocol service: the parsed input object in, the output object out. */
export type JsonOperation = (input: Record<string, unknown>, ctx: RequestContext) => unknown | Promise<unknown>;

export interface AwsJsonServiceOptions {
  /** Shown in errors: `SageMaker`, `Step Functions`… */
  serviceName: string;
  /** `X-Amz-Target` prefix before the dot: `SageMaker`, `AWSStepFunctions`, `Logs_20140328`. */
  targetPrefix: string;
  protocol: 'awsJson1_0' | 'awsJson1_1';
  operations: Readonly<Record<string, JsonOperation>>;
  /** Largest request accepted. Default 6 MiB. */
  maxBodyBytes?: number;
}

/**
 * The request handler of a JSON-protocol service (awsJson 1.0/1.1: POST `/`, operation in
 * `X-Amz-Target`, JSON in and out): dispatches by operation, answers malformed JSON with
 * `SerializationException` and an unknown operation with `UnknownOperationException` naming the
 * operations this stack supports.
 */
export function awsJsonHandler(options: AwsJsonServiceOptions): (req: IncomingMessage, res: ServerResponse, ctx: RequestContext) => Promise<void> {
  const limit = options.maxBodyBytes ?? 6 * 1024 * 1024;
  const supported = Object.keys(options.operations).sort().join(', ');
  return async (req, res, ctx) => {
    try {
      const target = ctx.target;
      const [prefix, operation] = target ? splitTarget(target) : [undefined, undefined];
      if (req.method !== 'POST') throw new AwsError('UnknownOperationException', `${options.serviceName}: expected POST with X-Amz-Target, got ${req.method} ${ctx.url.pathname}`, 400);
      if (!operation || prefix !== options.targetPrefix) {
        throw new AwsError('UnknownOperationException', `${options.serviceName}: X-Amz-Target ${JSON.stringify(target ?? '')} is not an operation of this service (expected ${options.targetPrefix}.<Operation>)`, 400);
      }
      const run = Object.hasOwn(options.operations, operation) ? options.operations[operation] : undefined;
      if (!run) throw new AwsError('UnknownOperationException', `${options.serviceName}: the local stack does not support ${operation}; supported: ${supported}`, 400);
      const body = await readBody(req, limit);
      const input = parseJsonInput(body, operation);
      const output = (await run(input, ctx)) ?? {};
      const text = JSON.stringify(output);
      res.writeHead(200, {
        'content-type': JSON_CONTENT_TYPES[options.protocol],
        'content-length': String(Buffer.byteLength(text)),
        'x-amzn-requestid': ctx.requestId,
      });
      res.end(text);
    } catch (error) {
      renderError(res, error, options.protocol, ctx.requestId);
    }
  };
}

function splitTarget(target: string): [string, string] {
  const dot = target.lastIndexOf('.');
  return dot < 0 ? [target, ''] : [target.slice(0, dot), target.slice(dot + 1)];
}

/** The request's JSON object; an empty body is `{}` (the SDKs send `{}` for no input). */
export function parseJsonInput(body: Buffer, operation: string): Record<string, unknown> {
  if (body.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new AwsError('SerializationException', `${operation}: the request body is not valid JSON (${(error as Error).message})`, 400);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new AwsError('SerializationException', `${operation}: the request body must be a JSON object`, 400);
  }
  return value as Record<string, unknown>;
}
