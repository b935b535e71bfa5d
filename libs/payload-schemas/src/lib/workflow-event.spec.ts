import { parseOrThrow } from './parse';
import { batchWorkflowEventSchema, workflowEventSchema } from './workflow-event';

describe('workflowEventSchema', () => {
  it('accepts the exact event of the Udacity starter test-case generator', () => {
    const starter = JSON.parse('{"image_data": "", "s3_bucket": "sagemaker-us-east-1-123456789012", "s3_key": "test/bicycle_s_000513.png"}');
    expect(parseOrThrow(workflowEventSchema, starter, 'workflow event')).toEqual(starter);
  });

  it('defaults a missing image_data to ""', () => {
    expect(parseOrThrow(workflowEventSchema, { s3_bucket: 'b', s3_key: 'k' }, 'e').image_data).toBe('');
  });

  it('rejects a missing s3_key, an empty bucket and non-base64 image data', () => {
    expect(() => parseOrThrow(workflowEventSchema, { s3_bucket: 'b' }, 'workflow event')).toThrow('workflow event: s3_key: is required (expected a non-empty string)');
    expect(() => parseOrThrow(workflowEventSchema, { s3_bucket: '', s3_key: 'k' }, 'workflow event')).toThrow('s3_bucket: expected a non-empty string');
    expect(() => parseOrThrow(workflowEventSchema, { s3_bucket: 'b', s3_key: 'k', image_data: 'not base64!' }, 'workflow event')).toThrow(/image_data/);
    expect(() => parseOrThrow(workflowEventSchema, { s3_bucket: 'b', s3_key: 7 }, 'workflow event')).toThrow('s3_key: expected a non-empty string');
  });
});

describe('batchWorkflowEventSchema', () => {
  it('accepts keys or a prefix', () => {
    expect(parseOrThrow(batchWorkflowEventSchema, { s3_bucket: 'b', s3_keys: ['a.png', 'b.png'] }, 'batch').s3_keys).toHaveLength(2);
    expect(parseOrThrow(batchWorkflowEventSchema, { s3_bucket: 'b', s3_prefix: 'data/test/' }, 'batch').s3_prefix).toBe('data/test/');
  });
  it('rejects both or neither, and empty keys', () => {
    expect(() => parseOrThrow(batchWorkflowEventSchema, { s3_bucket: 'b' }, 'batch')).toThrow('batch: expected exactly one of s3_keys or s3_prefix');
    expect(() => parseOrThrow(batchWorkflowEventSchema, { s3_bucket: 'b', s3_keys: [], s3_prefix: 'p' }, 'batch')).toThrow(/exactly one/);
    expect(() => parseOrThrow(batchWorkflowEventSchema, { s3_bucket: 'b', s3_keys: ['ok', ''] }, 'batch')).toThrow('s3_keys[1]: expected a non-empty string');
  });
});
