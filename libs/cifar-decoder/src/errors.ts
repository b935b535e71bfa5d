/** Base class of every error raised by @scones/cifar-decoder. */
export class CifarDecoderError extends Error {
  override readonly name: string = 'CifarDecoderError';
}

/** The source does not start with the gzip magic bytes. */
export class NotGzipError extends CifarDecoderError {
  override readonly name = 'NotGzipError';
}

/** The archive ends before its gzip stream or a tar member does. */
export class TruncatedArchiveError extends CifarDecoderError {
  override readonly name = 'TruncatedArchiveError';
}

/** The gzip stream holds something other than a tar archive (a gzipped pickle, text, ...). */
export class NotTarError extends CifarDecoderError {
  override readonly name = 'NotTarError';
}

/** The gzip or tar data is damaged (bad checksum, invalid deflate data, bad tar header). */
export class CorruptArchiveError extends CifarDecoderError {
  override readonly name = 'CorruptArchiveError';
}

/** A member the CIFAR-100 layout requires (`cifar-100-python/train`, `test`, `meta`) is absent. */
export class MissingMemberError extends CifarDecoderError {
  override readonly name = 'MissingMemberError';
}

/** A pickle could not be decoded (ends early, unsupported opcode, unexpected numpy type). */
export class PickleDecodeError extends CifarDecoderError {
  override readonly name = 'PickleDecodeError';
}

/** A pickle decoded, but it is not a CIFAR-100 batch or meta dictionary. */
export class NotCifarBatchError extends CifarDecoderError {
  override readonly name = 'NotCifarBatchError';
}

/** A batch's arrays disagree: data is not rows x 3072, or labels/filenames have another length. */
export class ShapeMismatchError extends CifarDecoderError {
  override readonly name = 'ShapeMismatchError';
}

/** A requested class name is not among the archive's fine label names (or the list is unusable). */
export class UnknownClassError extends CifarDecoderError {
  override readonly name = 'UnknownClassError';
}

/** A chosen class has no rows in the archive's `train` batch: there is nothing to stage or train on. */
export class EmptyClassError extends CifarDecoderError {
  override readonly name = 'EmptyClassError';
}

/** The archive could not be downloaded (HTTP error, network error, unexpected length). */
export class DownloadError extends CifarDecoderError {
  override readonly name = 'DownloadError';
}

/** A downloaded or cached archive does not have the expected MD5; the file has been deleted. */
export class ChecksumMismatchError extends CifarDecoderError {
  override readonly name = 'ChecksumMismatchError';
}

/** Staged files or objects could not be written. */
export class StageOutputError extends CifarDecoderError {
  override readonly name = 'StageOutputError';
}

/** The archive file cannot be opened or read. */
export class ArchiveReadError extends CifarDecoderError {
  override readonly name = 'ArchiveReadError';
}
