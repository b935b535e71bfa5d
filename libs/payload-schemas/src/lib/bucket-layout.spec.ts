import { bucketLayout, DEFAULT_BUCKET_LAYOUT, normalizeDataPrefix } from './bucket-layout';

describe('bucket layout', () => {
  it('puts the staged data under data/ by default', () => {
    expect(DEFAULT_BUCKET_LAYOUT).toMatchObject({
      trainPrefix: 'data/train/',
      testPrefix: 'data/test/',
      trainManifest: 'data/train.lst',
      testManifest: 'data/test.lst',
      modelsPrefix: 'models/',
      capturePrefix: 'data_capture/',
      reportsPrefix: 'reports/',
    });
    expect(DEFAULT_BUCKET_LAYOUT.modelPrefix('job-1')).toBe('models/job-1/');
  });

  it("stages at the bucket root for the course's layout (prefix '')", () => {
    expect(bucketLayout('')).toMatchObject({ dataPrefix: '', trainPrefix: 'train/', testManifest: 'test.lst' });
  });

  it('normalizes user input and refuses dot segments', () => {
    expect(normalizeDataPrefix('data')).toBe('data/');
    expect(normalizeDataPrefix('/course/data/')).toBe('course/data/');
    expect(normalizeDataPrefix('/')).toBe('');
    expect(() => normalizeDataPrefix('a/../b')).toThrow(/"\.\." segments are not allowed/);
  });
});
