export {
  CifarDecoderError,
  NotGzipError,
  NotTarError,
  TruncatedArchiveError,
  CorruptArchiveError,
  MissingMemberError,
  PickleDecodeError,
  NotCifarBatchError,
  ShapeMismatchError,
  UnknownClassError,
  EmptyClassError,
  DownloadError,
  ChecksumMismatchError,
  StageOutputError,
  ArchiveReadError,
} from './errors';
export { unpickle, PyBytes, Py3Bytes, NdArray, NpDtype } from './lib/pickle';
export { ChunkedBytes } from './lib/chunked-bytes';
export { decodeCifarBatch, decodeCifarMeta, ROW_BYTES, type CifarBatch, type CifarMeta } from './lib/cifar-batch';
export { readTarGz, type ReadTarGzOptions, type TarMemberSink } from './lib/tar-gz';
export { readCifarArchive, cifarMemberOf, CIFAR100_ARCHIVE_DIRECTORY, type CifarArchive, type CifarMember } from './lib/cifar-archive';
export { CIFAR100_FINE_LABEL_NAMES, CIFAR100_COARSE_LABEL_NAMES } from './lib/cifar100-labels';
export { selectClasses, parseClassList, checkClassList, checkCifar100Classes, DEFAULT_CLASSES, type ClassSelection } from './lib/class-selection';
export { encodeCifarRowPng } from './lib/cifar-png';
export { stageCifar, type StageCifarOptions, type StageSummary, type StageProgress, type StagedSplit } from './lib/stage-cifar';
export { STAGE_LAYOUT, type StageSink, type StagedFile, type SinkWriteResult, type SinkCommitResult, type SinkCommitOptions } from './lib/stage-sink';
export { directorySink } from './lib/directory-sink';
export { s3Sink, type S3SinkOptions, type StageBucket } from './lib/s3-sink';
export {
  BUNDLED_SUBSET,
  bundledSubsetPath,
  resolveCifarSource,
  describeCifarSource,
  obtainCifarSource,
  type CifarSource,
  type CifarSourceKind,
  type ResolveCifarSourceOptions,
  type ObtainedCifarSource,
} from './lib/cifar-source';
export { fetchCifarArchive, CIFAR100_URL, CIFAR100_MD5, DEFAULT_CACHE_DIRECTORY, type FetchArchiveOptions, type FetchedArchive } from './lib/download';
export {
  cifarFixtureArchive,
  cifarFixtureArchiveStream,
  writeCifarFixtureArchive,
  fixturePixels,
  fixtureRow,
  tarGz,
  type CifarFixtureOptions,
  type FixtureRow,
} from './lib/fixture-archive';
export { encodeCifarBatchPickle, encodeCifarMetaPickle, cifarBatchPickleParts, type CifarBatchFields } from './lib/pickle-writer';
