import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ChecksumMismatchError, DownloadError } from '../errors';
import { fetchCifarArchive } from './download';
import { scratch } from '../../test/archives';

/** A loopback file server with Range support and switchable misbehaviour. */
class FileServer {
  requests: Array<{ url: string; range?: string }> = [];
  /** Close the connection after this many body bytes of the next response. */
  cutAfter: number | undefined;
  ignoreRange = false;
  status = 200;
  private server: Server;

  constructor(public body: Buffer) {
    this.server = createServer((req, res) => {
      this.requests.push({ url: req.url ?? '', range: req.headers.range });
      if (this.status !== 200) {
        res.writeHead(this.status).end('nope');
        return;
      }
      const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      let start = 0;
      if (range && !this.ignoreRange) {
        start = Number(range[1]);
        if (start >= this.body.length) {
          res.writeHead(416, { 'Content-Range': `bytes */${this.body.length}` }).end();
          return;
        }
        res.writeHead(206, { 'Content-Length': this.body.length - start, 'Content-Range': `bytes ${start}-${this.body.length - 1}/${this.body.length}` });
      } else {
        res.writeHead(200, { 'Content-Length': this.body.length });
      }
      const rest = this.body.subarray(start);
      if (this.cutAfter !== undefined) {
        const cut = this.cutAfter;
        this.cutAfter = undefined;
        res.write(rest.subarray(0, cut), () => res.destroy());
        return;
      }
      res.end(rest);
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/files/cifar-100-python.tar.gz`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

describe('fetchCifarArchive (loopback HTTP server)', () => {
  jest.setTimeout(60_000);
  const body = Buffer.from(Uint8Array.from({ length: 2 * 1024 * 1024 + 17 }, (_, i) => (i * 13) % 256));
  let server: FileServer;
  let url: string;
  let tmp: { dir: string; remove(): Promise<void> };
  let n = 0;
  const cache = () => join(tmp.dir, `cache-${++n}`);

  beforeAll(async () => {
    tmp = await scratch('download-');
    server = new FileServer(body);
    url = await server.start();
  });
  afterAll(async () => {
    await server.stop();
    await tmp.remove();
  });
  beforeEach(() => {
    // Every test starts from the same server state, whatever an earlier (or failed) test left.
    server.requests = [];
    server.cutAfter = undefined;
    server.ignoreRange = false;
    server.status = 200;
    server.body = body;
  });

  it('downloads, verifies the MD5 and reports progress', async () => {
    const progress: Array<[number, number | undefined]> = [];
    const dir = cache();
    const got = await fetchCifarArchive({ url, md5: md5(body), cacheDirectory: dir, onProgress: (r, t) => progress.push([r, t]) });
    expect(got).toEqual({ path: join(dir, 'cifar-100-python.tar.gz'), downloaded: true, resumedBytes: 0, bytes: body.length });
    expect((await readFile(got.path)).equals(body)).toBe(true);
    expect(progress.at(-1)).toEqual([body.length, body.length]);
    expect((await readdir(dir)).sort()).toEqual(['cifar-100-python.tar.gz', 'cifar-100-python.tar.gz.verified']);
  });

  it('uses the verified cached copy without a request', async () => {
    const dir = cache();
    await fetchCifarArchive({ url, md5: md5(body), cacheDirectory: dir });
    server.requests = [];
    const again = await fetchCifarArchive({ url, md5: md5(body), cacheDirectory: dir });
    expect(again.downloaded).toBe(false);
    expect(server.requests).toEqual([]);
  });

  it('resumes an interrupted download with a Range request', async () => {
    const dir = cache();
    server.cutAfter = 700_000;
    await expect(fetchCifarArchive({ url, md5: md5(body), cacheDirectory: dir })).rejects.toThrow(DownloadError);
    const partial = join(dir, 'cifar-100-python.tar.gz.partial');
    const kept = (await stat(partial)).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(body.length);
    const resumed = await fetchCifarArchive({ url, md5: md5(body), cacheDirectory: dir });
    expect(resumed).toMatchObject({ downloaded: true, resumedBytes: kept, bytes: body.length });
    expect(server.requests.at(-1)).toEqual({ url: '/files/cifar-100-python.tar.gz', range: `bytes=${kept}-` });
    expect((await readFile(resumed.path)).equals(body)).toBe(true);
    expect(existsSync(partial)).toBe(false);
  });

  it('starts over when the server ignores the Range header', async () => {
    const dir = cache();
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'cifar-100-python.tar.gz.partial'), body.subarray(0, 1000));
    server.ignoreRange = true;
    const got = await fetchCifarArchive({ url, md5: md5(body), cacheDirectory: dir });
    expect(got.resumedBytes).toBe(0);
    expect((await readFile(got.path)).equals(body)).toBe(true);
  });

  it('deletes a download whose MD5 does not match and says so', async () => {
    const dir = cache();
    const attempt = fetchCifarArchive({ url, md5: 'eb9058c3a382ffc7106e4002c42a8d85', cacheDirectory: dir });
    await expect(attempt).rejects.toThrow(ChecksumMismatchError);
    await expect(fetchCifarArchive({ url, md5: 'eb9058c3a382ffc7106e4002c42a8d85', cacheDirectory: dir })).rejects.toThrow(
      `${url}: MD5 of the downloaded file is ${md5(body)}, expected eb9058c3a382ffc7106e4002c42a8d85; the file was deleted, run again to download it afresh`,
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('replaces a cached copy that no longer matches', async () => {
    const dir = cache();
    await fetchCifarArchive({ url, md5: md5(body), cacheDirectory: dir });
    await writeFile(join(dir, 'cifar-100-python.tar.gz'), 'damaged');
    server.requests = [];
    const got = await fetchCifarArchive({ url, md5: md5(body), cacheDirectory: dir });
    expect(got.downloaded).toBe(true);
    expect(server.requests).toHaveLength(1);
    expect((await readFile(got.path)).equals(body)).toBe(true);
  });

  it('names HTTP and network failures', async () => {
    server.status = 404;
    await expect(fetchCifarArchive({ url, md5: md5(body), cacheDirectory: cache() })).rejects.toThrow(new DownloadError(`GET ${url}: HTTP 404 Not Found`));
    const closed = new FileServer(body);
    const deadUrl = await closed.start();
    await closed.stop();
    await expect(fetchCifarArchive({ url: deadUrl, md5: md5(body), cacheDirectory: cache() })).rejects.toThrow(/^GET http:\/\/127\.0\.0\.1:\d+\/files\/cifar-100-python\.tar\.gz: .*ECONNREFUSED/);
  });

  it('stops on abort and keeps the partial file for a later resume', async () => {
    const dir = cache();
    const controller = new AbortController();
    const reason = new Error('Ctrl-C');
    const attempt = fetchCifarArchive({
      url,
      md5: md5(body),
      cacheDirectory: dir,
      signal: controller.signal,
      onProgress: (received) => received > 0 && controller.abort(reason),
    });
    await expect(attempt).rejects.toBe(reason);
    expect(existsSync(join(dir, 'cifar-100-python.tar.gz'))).toBe(false);
  });
});
