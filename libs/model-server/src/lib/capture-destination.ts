import type { S3Client } from '@aws-sdk/client-s3';
import { DATA_CAPTURE_PREFIX } from '@scones/payload-schemas';
import { ModelServerConfigError } from '../errors';
import { DirectoryCaptureSink, S3CaptureSink, type CaptureSink } from './capture-sink';

/** Where data capture goes: SageMaker's `DestinationS3Uri` (bucket + key prefix), or a local directory. */
export type CaptureDestination = { kind: 's3'; bucket: string; prefix: string } | { kind: 'directory'; directory: string; prefix: string };

/**
 * Reads `s3://bucket[/prefix]` (prefix default `data_capture`, as in SageMaker's
 * DataCaptureConfig) or a directory path (files go to `<dir>/data_capture/...`).
 */
export function parseCaptureDestination(value: string): CaptureDestination {
  const text = value.trim();
  if (!text) throw new ModelServerConfigError('capture destination: expected s3://bucket[/prefix] or a directory, got an empty value');
  if (!text.startsWith('s3://')) return { kind: 'directory', directory: text, prefix: DATA_CAPTURE_PREFIX };
  const [bucket, ...rest] = text.slice('s3://'.length).split('/');
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new ModelServerConfigError(`capture destination ${JSON.stringify(value)}: ${JSON.stringify(bucket)} is not a valid S3 bucket name`);
  }
  const prefix = rest.filter(Boolean).join('/');
  return { kind: 's3', bucket, prefix: prefix || DATA_CAPTURE_PREFIX };
}

/** The sink for a destination; S3 needs a client (from `createS3Client(target)` of @scones/local-cloud). */
export function createCaptureSink(destination: CaptureDestination, s3?: S3Client): CaptureSink {
  if (destination.kind === 'directory') return new DirectoryCaptureSink(destination.directory);
  if (!s3) throw new ModelServerConfigError(`capture destination s3://${destination.bucket}/${destination.prefix}: no S3 client given`);
  return new S3CaptureSink(s3, destination.bucket);
}
