import { PayloadValidationError, WorkflowError } from '../errors';
import { WorkflowErrorName } from './workflow-errors';

describe('WorkflowError', () => {
  it('carries the workflow error name that Step Functions reports as the error type', () => {
    const error = new WorkflowError(WorkflowErrorName.ImageNotFound, 's3://b/k: no such key');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ImageNotFound');
    expect(error.message).toBe('s3://b/k: no such key');
    expect(String(error)).toBe('ImageNotFound: s3://b/k: no such key');
    expect(error.stack).toContain('ImageNotFound: s3://b/k: no such key');
  });

  it('keeps the cause', () => {
    const cause = new Error('NoSuchKey');
    expect(new WorkflowError(WorkflowErrorName.ImageNotFound, 'x', { cause }).cause).toBe(cause);
  });

  it('names payload errors with the same name the state machine matches', () => {
    expect(new PayloadValidationError('event', []).name).toBe(WorkflowErrorName.PayloadValidation);
  });

  it('has distinct error names', () => {
    const names = Object.values(WorkflowErrorName);
    expect(new Set(names).size).toBe(names.length);
  });
});
