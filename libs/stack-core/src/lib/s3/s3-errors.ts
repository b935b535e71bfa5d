import { AwsError } from '../aws-error';

/** S3's error answers, with the codes, statuses and extra members S3 puts in its XML. */
export const s3Errors = {
  noSuchBucket: (bucket: string) => new AwsError('NoSuchBucket', 'The specified bucket does not exist', 404, { BucketName: bucket }),
  noSuchKey: (key: string) => new AwsError('NoSuchKey', 'The specified key does not exist.', 404, { Key: key }),
  noSuchUpload: (uploadId: string) =>
    new AwsError('NoSuchUpload', 'The specified multipart upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', 404, { UploadId: uploadId }),
  invalidBucketName: (bucket: string, problem: string) => new AwsError('InvalidBucketName', `The specified bucket is not valid: "${bucket}" ${problem}.`, 400, { BucketName: bucket }),
  bucketNotEmpty: (bucket: string) => new AwsError('BucketNotEmpty', 'The bucket you tried to delete is not empty', 409, { BucketName: bucket }),
  bucketAlreadyOwnedByYou: (bucket: string) =>
    new AwsError('BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.', 409, { BucketName: bucket }),
  keyTooLong: (size: number) => new AwsError('KeyTooLongError', `Your key is too long: ${size} bytes of UTF-8, the limit is 1024.`, 400, { Size: size, MaxSizeAllowed: 1024 }),
  invalidArgument: (message: string, name: string, value?: string) =>
    new AwsError('InvalidArgument', message, 400, { ArgumentName: name, ...(value !== undefined ? { ArgumentValue: value } : {}) }),
  invalidRequest: (message: string) => new AwsError('InvalidRequest', message, 400),
  invalidUri: (message: string) => new AwsError('InvalidURI', `Couldn't parse the specified URI: ${message}`, 400),
  malformedXml: (detail: string) =>
    new AwsError('MalformedXML', `The XML you provided was not well-formed or did not validate against our published schema: ${detail}`, 400),
  entityTooLarge: (proposed: number, max: number) =>
    new AwsError('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed object size.', 400, { ProposedSize: proposed, MaxSizeAllowed: max }),
  entityTooSmall: (partNumber: number, size: number, min: number) =>
    new AwsError('EntityTooSmall', `Your proposed upload is smaller than the minimum allowed object size: part ${partNumber} is ${size} bytes, each part but the last must be at least ${min} bytes.`, 400, {
      ProposedSize: size,
      MinSizeAllowed: min,
      PartNumber: partNumber,
    }),
  missingContentLength: () => new AwsError('MissingContentLength', 'You must provide the Content-Length HTTP header.', 411),
  incompleteBody: (expected: number, received: number) =>
    new AwsError('IncompleteBody', `You did not provide the number of bytes specified by the Content-Length HTTP header: expected ${expected}, received ${received}.`, 400),
  badDigest: (what: string) => new AwsError('BadDigest', `The ${what} you specified did not match the calculated checksum.`, 400),
  invalidDigest: (what: string) => new AwsError('InvalidDigest', `The ${what} you specified was invalid.`, 400),
  invalidRange: (range: string, size: number) =>
    new AwsError('InvalidRange', 'The requested range is not satisfiable', 416, { RangeRequested: range, ActualObjectSize: size }, { 'content-range': `bytes */${size}` }),
  preconditionFailed: (condition: string) => new AwsError('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', 412, { Condition: condition }),
  invalidPart: (partNumber: number, why: string) =>
    new AwsError('InvalidPart', `One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag: part ${partNumber} ${why}.`, 400, {
      PartNumber: partNumber,
    }),
  invalidPartOrder: () => new AwsError('InvalidPartOrder', 'The list of parts was not in ascending order. Parts must be ordered by part number.', 400),
  methodNotAllowed: (method: string, resource: string) =>
    new AwsError('MethodNotAllowed', 'The specified method is not allowed against this resource.', 405, { Method: method, ResourceType: resource }),
  notImplemented: (operation: string) =>
    new AwsError('NotImplemented', `The scones local S3 does not implement ${operation}. It serves buckets, objects, listings, copies and multipart uploads.`, 501, { Operation: operation }),
  metadataTooLarge: (size: number) => new AwsError('MetadataTooLarge', `Your metadata headers exceed the maximum allowed metadata size: ${size} bytes, the limit is 2048.`, 400, { Size: size, MaxSizeAllowed: 2048 }),
};
