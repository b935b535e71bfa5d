import type { ServerResponse } from 'node:http';
import { AwsError, internalError } from '../aws-error';
import { escapeXml, toXml } from './xml';

/** The wire protocols of the services the stack serves (Smithy's names). */
export type Protocol = 'awsJson1_0' | 'awsJson1_1' | 'restJson1' | 'restXml' | 'awsQuery';

export const JSON_CONTENT_TYPES: Record<'awsJson1_0' | 'awsJson1_1' | 'restJson1', string> = {
  awsJson1_0: 'application/x-amz-json-1.0',
  awsJson1_1: 'application/x-amz-json-1.1',
  restJson1: 'application/json',
};

/** Query-protocol XML namespaces, by service. */
export const QUERY_NAMESPACES: Record<string, string> = {
  sns: 'http://sns.amazonaws.com/doc/2010-03-31/',
  sts: 'https://sts.amazonaws.com/doc/2011-06-15/',
};

/**
 * Writes `error` as `protocol`'s SDKs parse it. JSON protocols: `x-amzn-ErrorType` and `__type`;
 * REST-XML (S3): `<Error><Code>`; query: `<ErrorResponse><Error><Type><Code>`. Anything that is
 * not an {@link AwsError} becomes a 500 `InternalFailure` that still names what failed.
 */
export function renderError(res: ServerResponse, thrown: unknown, protocol: Protocol, requestId: string, options: { service?: string; head?: boolean } = {}): void {
  const error = thrown instanceof AwsError ? thrown : internalError(thrown);
  if (res.headersSent) {
    res.destroy(error);
    return;
  }
  const headers: Record<string, string> = { ...error.headers };
  let body: string;
  if (protocol === 'restXml') {
    headers['content-type'] = 'application/xml';
    headers['x-amz-request-id'] = requestId;
    body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${toXml({ Code: error.code, Message: error.message, ...error.fields, RequestId: requestId })}</Error>`;
  } else if (protocol === 'awsQuery') {
    headers['content-type'] = 'text/xml';
    headers['x-amzn-requestid'] = requestId;
    const ns = QUERY_NAMESPACES[options.service ?? ''] ?? '';
    body = `<ErrorResponse${ns ? ` xmlns="${escapeXml(ns)}"` : ''}><Error>${toXml({ Type: error.fault, Code: error.code, Message: error.message, ...error.fields })}</Error>${toXml({ RequestId: requestId })}</ErrorResponse>`;
  } else {
    headers['content-type'] = JSON_CONTENT_TYPES[protocol];
    headers['x-amzn-requestid'] = requestId;
    headers['x-amzn-errortype'] = error.code;
    const payload: Record<string, unknown> = protocol === 'restJson1' ? { message: error.message, ...error.fields } : { __type: error.code, message: error.message, ...error.fields };
    if (protocol === 'restJson1' && error.fault === 'Sender' && !('Type' in payload)) payload.Type = 'User';
    body = JSON.stringify(payload);
  }
  headers['content-length'] = String(Buffer.byteLength(body));
  res.writeHead(error.status, headers);
  res.end(options.head ? undefined : body);
}
