import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

/** Where capture files go. `write` must be idempotent per key: a retry rewrites the same object. */
export interface CaptureSink {
  /** Writes one capture file (JSONL) under `key`, e.g. `data_capture/<endpoint>/AllTraffic/.../x.jsonl`. */
  write(key: string, body: string): Promise<void>;
  /** `s3://bucket` or a directory path, for logs and the endpoint registry. */
  readonly description: string;
}

/** Capture files as S3 objects (embedded S3 or AWS), keyed exactly as SageMaker does. */
export class S3CaptureSink implements CaptureSink {
  readonly description: string;
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {
    this.description = `s3://${bucket}`;
  }

  async write(key: string, body: string): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: 'application/jsonl' }));
  }
}

/**
 * Capture files in a directory, with the bucket's key layout below it
 * (`<dir>/data_capture/<endpoint>/AllTraffic/yyyy/mm/dd/hh/…jsonl`). Each file is written under a
 * temporary name and renamed, so a reader never sees half a file; the temporary name derives from
 * the key, so rewriting a key after a killed write leaves no debris.
 */
export class DirectoryCaptureSink implements CaptureSink {
  readonly description: string;
  private readonly directory: string;
  constructor(directory: string) {
    this.directory = resolve(directory);
    this.description = this.directory;
  }

  async write(key: string, body: string): Promise<void> {
    const file = join(this.directory, ...key.split('/'));
    await mkdir(dirname(file), { recursive: true });
    const temporary = `${file}.partial`;
    await writeFile(temporary, body);
    await rename(temporary, file);
  }
}
