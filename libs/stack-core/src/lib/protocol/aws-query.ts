import type { IncomingMessage, ServerResponse } from 'node:http';
import { AwsError } from '../aws-error';
import type { RequestContext } from '../gateway/request-context';
import { readBody } from './body';
import { QUERY_NAMESPACES, renderError } from './render-error';
import { escapeXml, toXml, type XmlNode } from './xml';

/** One operation of a query-protocol service: the form parameters in, the `<Action>Result` members out. */
export type QueryOperation = (params: URLSearchParams, ctx: RequestContext) => XmlNode | Promise<XmlNode>;

export interface AwsQueryServiceOptions {
  serviceName: string;
  /** Signing name, for the XML namespace: `sns`, `sts`. */
  service: string;
  operations: Readonly<Record<string, QueryOperation>>;
  maxBodyBytes?: number;
}

/**
 * The request handler of a query-protocol service (SNS, STS): `Action=…&Version=…` as a form body
 * (or the query string), XML out as `<ActionResponse><ActionResult>…</ActionResult>
 * <ResponseMetadata><RequestId>`.
 */
export function awsQueryHandler(options: AwsQueryServiceOptions): (req: IncomingMessage, res: ServerResponse, ctx: RequestContext) => Promise<void> {
  const limit = options.maxBodyBytes ?? 1024 * 1024;
  const supported = Object.keys(options.operations).sort().join(', ');
  const namespace = QUERY_NAMESPACES[options.service] ?? '';
  return async (req, res, ctx) => {
    try {
      const body = req.method === 'POST' ? (await readBody(req, limit)).toString('utf8') : '';
      const params = new URLSearchParams(body);
      for (const [key, value] of ctx.url.searchParams) if (!params.has(key)) params.append(key, value);
      const action = params.get('Action');
      if (!action) throw new AwsError('MissingAction', `${options.serviceName}: the request has no Action parameter`, 400);
      const run = Object.hasOwn(options.operations, action) ? options.operations[action] : undefined;
      if (!run) throw new AwsError('InvalidAction', `${options.serviceName}: the local stack does not support ${action}; supported: ${supported}`, 400);
      const result = await run(params, ctx);
      const xml =
        `<${action}Response${namespace ? ` xmlns="${escapeXml(namespace)}"` : ''}>` +
        `<${action}Result>${toXml(result)}</${action}Result>` +
        `<ResponseMetadata>${toXml({ RequestId: ctx.requestId })}</ResponseMetadata></${action}Response>`;
      res.writeHead(200, { 'content-type': 'text/xml', 'content-length': String(Buffer.byteLength(xml)), 'x-amzn-requestid': ctx.requestId });
      res.end(xml);
    } catch (error) {
      renderError(res, error, 'awsQuery', ctx.requestId, { service: options.service });
    }
  };
}

/**
 * A query-protocol list or map: `prefix.member.N` (lists) or `prefix.entry.N.key/value` (maps),
 * in index order.
 */
export function queryList(params: URLSearchParams, prefix: string): string[] {
  const items: Array<[number, string]> = [];
  for (const [key, value] of params) {
    const match = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.member\\.(\\d+)$`).exec(key);
    if (match) items.push([Number(match[1]), value]);
  }
  return items.sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}

export function queryMap(params: URLSearchParams, prefix: string, keyName = 'key', valueName = 'value'): Record<string, string> {
  const keys = new Map<number, string>();
  const values = new Map<number, string>();
  const pattern = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.entry\\.(\\d+)\\.(${keyName}|${valueName})$`);
  for (const [key, value] of params) {
    const match = pattern.exec(key);
    if (!match) continue;
    (match[2] === keyName ? keys : values).set(Number(match[1]), value);
  }
  const map: Record<string, string> = {};
  for (const [index, key] of [...keys].sort((a, b) => a[0] - b[0])) map[key] = values.get(index) ?? '';
  return map;
}
