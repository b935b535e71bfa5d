// Helpers for the S3 service's tests: real clients (JS SDK v3, raw HTTP over a socket) against a stack.
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { Logger } from '../src/lib/json-logger';

export const run = promisify(execFile);

export function s3Client(url: string, config: Partial<S3ClientConfig> = {}): S3Client {
  return new S3Client({
    endpoint: url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
    ...config,
  });
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * Sends exactly `head` + `body` bytes on a new connection (no client-side path normalization, any
 * Content-Length) and reads one response. `head` is the request line and headers without the blank
 * line; `Connection: close` is added.
 */
export function rawHttp(url: string, head: string, body: Buffer | string = '', options: { endAfterWrite?: boolean; timeoutMs?: number; host?: string } = {}): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no response within ${options.timeoutMs ?? 10_000} ms`));
    }, options.timeoutMs ?? 10_000);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', (error) => {
      // A reset after the server answered still leaves the answer in `chunks`.
      if (chunks.length) finish();
      else {
        clearTimeout(timer);
        reject(error);
      }
    });
    socket.on('end', finish);
    socket.on('close', finish);
    let done = false;
    function finish() {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      if (split === -1) return reject(new Error(`no HTTP response: ${JSON.stringify(all.toString('latin1').slice(0, 200))}`));
      const lines = all.toString('latin1', 0, split).split('\r\n');
      const status = Number(lines[0].split(' ')[1]);
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      let rest: Buffer = all.subarray(split + 4);
      if (headers['transfer-encoding'] === 'chunked') rest = dechunk(rest);
      else if (headers['content-length'] !== undefined) rest = rest.subarray(0, Number(headers['content-length']));
      resolve({ status, headers, body: rest });
    }
    socket.on('connect', () => {
      socket.write(`${head}\r\nHost: ${options.host ?? `${hostname}:${port}`}\r\nConnection: close\r\n\r\n`);
      socket.write(body);
      if (options.endAfterWrite) socket.end();
    });
  });
}

function dechunk(data: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const end = data.indexOf('\r\n', at);
    if (end === -1) break;
    const size = parseInt(data.toString('latin1', at, end), 16);
    if (!size) break;
    out.push(data.subarray(end + 2, end + 2 + size));
    at = end + 2 + size + 2;
  }
  return Buffer.concat(out);
}

/** Every file under `directory`, relative paths, sorted. */
export async function filesUnder(directory: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, rel: string) => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isDirectory()) await walk(join(dir, e.name), `${rel}${e.name}/`);
      else out.push(`${rel}${e.name}`);
    }
  };
  await walk(directory, '');
  return out.sort();
}

/** The `<Code>` of an S3 XML error body. */
export function xmlCode(body: Buffer): string | undefined {
  return /<Code>([^<]*)<\/Code>/.exec(body.toString('utf8'))?.[1];
}

/** A logger that keeps every line, and can wait for one (the condition itself, with a generous deadline). */
export function recordingLogger(): Logger & { lines: Array<{ level: string; message: string; fields?: Record<string, unknown> }>; waitFor(predicate: (line: { message: string; fields?: Record<string, unknown> }) => boolean, timeoutMs?: number): Promise<void> } {
  const lines: Array<{ level: string; message: string; fields?: Record<string, unknown> }> = [];
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push({ level, message, fields });
  return {
    lines,
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    async waitFor(predicate, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!lines.some(predicate)) {
        if (Date.now() > deadline) throw new Error(`no such log line within ${timeoutMs} ms; got: ${lines.map((l) => l.message).join(' | ')}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}
