import { DATA_CAPTURE_PREFIX } from './data-capture';

/**
 * Where everything lives in the workflow's bucket — the one owner of these prefixes:
 *
 *     <data>train/*.png  <data>train.lst  <data>test/*.png  <data>test.lst   staged images and manifests
 *     models/<job>/                                                         model artifacts
 *     data_capture/<endpoint>/AllTraffic/yyyy/mm/dd/hh/*.jsonl              endpoint data capture
 *     reports/<endpoint>/…                                                  monitoring reports
 *
 * `<data>` is `data/` by default; the course's starter notebook stages at the bucket root
 * (`train/`, `test/`, `train.lst`, `test.lst`), which is data prefix `''`.
 */
export interface BucketLayout {
  /** `data/`, or `''` for the course's root layout. Ends with `/` unless empty. */
  readonly dataPrefix: string;
  readonly trainPrefix: string;
  readonly testPrefix: string;
  readonly trainManifest: string;
  readonly testManifest: string;
  readonly modelsPrefix: string;
  readonly capturePrefix: string;
  readonly reportsPrefix: string;
  /** `models/<job>/` */
  modelPrefix(job: string): string;
}

export const DEFAULT_DATA_PREFIX = 'data/';
export const MODELS_PREFIX = 'models/';
export const REPORTS_PREFIX = 'reports/';

/**
 * Normalizes a data prefix given by a user: `data`, `data/` → `data/`; `''` or `/` → `''` (the
 * bucket root). Refuses what cannot be an S3 key prefix of the layout.
 */
export function normalizeDataPrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+/, '');
  if (trimmed === '') return '';
  if (trimmed.split('/').some((segment) => segment === '.' || segment === '..')) {
    throw new RangeError(`data prefix ${JSON.stringify(prefix)}: "." and ".." segments are not allowed`);
  }
  return trimmed.endsWith('/') ? trimmed : `${trimmed}/`;
}

/** The bucket layout for a data prefix (default `data/`). */
export function bucketLayout(dataPrefix: string = DEFAULT_DATA_PREFIX): BucketLayout {
  const data = normalizeDataPrefix(dataPrefix);
  return {
    dataPrefix: data,
    trainPrefix: `${data}train/`,
    testPrefix: `${data}test/`,
    trainManifest: `${data}train.lst`,
    testManifest: `${data}test.lst`,
    modelsPrefix: MODELS_PREFIX,
    capturePrefix: `${DATA_CAPTURE_PREFIX}/`,
    reportsPrefix: REPORTS_PREFIX,
    modelPrefix: (job) => `${MODELS_PREFIX}${job}/`,
  };
}

/** The project's default layout (`data/…`). */
export const DEFAULT_BUCKET_LAYOUT: BucketLayout = bucketLayout();
