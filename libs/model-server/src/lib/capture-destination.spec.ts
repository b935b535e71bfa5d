import { DirectoryCaptureSink } from './capture-sink';
import { createCaptureSink, parseCaptureDestination } from './capture-destination';

describe('parseCaptureDestination', () => {
  it("reads SageMaker's DestinationS3Uri, defaulting the prefix to data_capture", () => {
    expect(parseCaptureDestination('s3://scones/data_capture')).toEqual({ kind: 's3', bucket: 'scones', prefix: 'data_capture' });
    expect(parseCaptureDestination('s3://my-bucket')).toEqual({ kind: 's3', bucket: 'my-bucket', prefix: 'data_capture' });
    expect(parseCaptureDestination('s3://my-bucket/a/b/')).toEqual({ kind: 's3', bucket: 'my-bucket', prefix: 'a/b' });
  });
  it('reads anything else as a directory', () => {
    expect(parseCaptureDestination('./capture')).toEqual({ kind: 'directory', directory: './capture', prefix: 'data_capture' });
  });
  it('names a bad value', () => {
    expect(() => parseCaptureDestination('s3://Bad_Bucket/x')).toThrow('capture destination "s3://Bad_Bucket/x": "Bad_Bucket" is not a valid S3 bucket name');
    expect(() => parseCaptureDestination(' ')).toThrow('capture destination: expected s3://bucket[/prefix] or a directory, got an empty value');
  });
  it('creates the matching sink, and needs a client for S3', () => {
    expect(createCaptureSink(parseCaptureDestination('/tmp/x'))).toBeInstanceOf(DirectoryCaptureSink);
    expect(() => createCaptureSink(parseCaptureDestination('s3://scones'))).toThrow('no S3 client given');
  });
});
