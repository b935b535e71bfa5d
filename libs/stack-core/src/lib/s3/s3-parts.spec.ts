import { decodeAwsChunked } from './aws-chunked';
import { createChecksum, isChecksumValue } from './checksums';
import { bucketNameProblem } from './names';
import { decodeContinuationToken, encodeContinuationToken } from './bucket-operations';
import { parseRange } from './object-operations';
import { parseXml, XmlSyntaxError } from './xml-parse';

async function decodeAll(pieces: Buffer[]): Promise<{ data: Buffer; trailers: Map<string, string> }> {
  const body = decodeAwsChunked((async function* () {
    yield* pieces;
  })());
  const out: Buffer[] = [];
  for await (const chunk of body.chunks) out.push(chunk);
  return { data: Buffer.concat(out), trailers: body.trailers };
}

/** Every way of cutting `data` in two, plus one byte at a time: network chunks fall anywhere. */
function cuts(data: Buffer): Buffer[][] {
  const all: Buffer[][] = [Array.from(data, (b) => Buffer.from([b]))];
  for (let i = 1; i < data.length; i++) all.push([data.subarray(0, i), data.subarray(i)]);
  return all;
}

describe('aws-chunked decoding', () => {
  const signed = Buffer.from(`5;chunk-signature=${'a'.repeat(64)}\r\nhello\r\n6;chunk-signature=${'b'.repeat(64)}\r\n world\r\n0;chunk-signature=${'c'.repeat(64)}\r\n\r\n`);
  const trailer = Buffer.from('b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n');

  it('decodes signed chunks wherever the network cuts them', async () => {
    for (const pieces of cuts(signed)) expect((await decodeAll(pieces)).data.toString()).toBe('hello world');
  });

  it('decodes unsigned chunks with trailers wherever the network cuts them', async () => {
    for (const pieces of cuts(trailer)) {
      const { data, trailers } = await decodeAll(pieces);
      expect([data.toString(), trailers.get('x-amz-checksum-crc32')]).toEqual(['hello world', 'DUoRhQ==']);
    }
  });

  it('accepts a body that ends after the last trailer line without the empty line', async () => {
    const { trailers } = await decodeAll([Buffer.from('0\r\nx-amz-checksum-crc32:AAAAAA==\r\n')]);
    expect(trailers.get('x-amz-checksum-crc32')).toBe('AAAAAA==');
  });

  it.each([
    ['a size that is not hex', 'xyz\r\nabc\r\n0\r\n\r\n', /chunk header/],
    ['data longer than its size', '2\r\nabc\r\n0\r\n\r\n', /not followed by CRLF/],
    ['a body cut inside a chunk', '5\r\nab', /ends inside a chunk/],
    ['no final chunk', '3\r\nabc\r\n', /before the final zero-size chunk/],
    ['a header line without end', `${'1'.repeat(5000)}`, /without CRLF/],
    ['bytes after the final chunk', '0\r\n\r\nextra', /after the final chunk/],
    ['a malformed trailer', '0\r\nno-colon-here\r\n\r\n', /name:value/],
  ])('refuses %s', async (_what, text, message) => {
    await expect(decodeAll([Buffer.from(text)])).rejects.toMatchObject({ code: 'InvalidRequest', message: expect.stringMatching(message) });
  });
});

describe('request XML', () => {
  it('parses namespaces, entities, CDATA and comments, keeping text exact', () => {
    const root = parseXml('<?xml version="1.0"?>\n<!-- c --><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key> a&amp;b&#x41;&#66;<![CDATA[<c>]]> </Key></Object><s3:Quiet xmlns:s3="x">true</s3:Quiet></Delete>');
    expect(root.name).toBe('Delete');
    expect(root.children.map((c) => c.name)).toEqual(['Object', 'Quiet']);
    expect(root.children[0].children[0].text).toBe(' a&bAB<c> ');
  });

  it.each([
    ['<a><b></a>', /closes/],
    ['<a>', /never closed/],
    ['<a/><b/>', /more than one root|content after/],
    ['<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>', /DOCTYPE/],
    ['<a>&unknown;</a>', /unknown entity/],
    ['<a>AT&T</a>', /unknown entity|bare/],
    ['', /no root/],
    ['text', /outside the root/],
  ])('refuses %j', (xml, message) => {
    expect(() => parseXml(xml)).toThrow(XmlSyntaxError);
    expect(() => parseXml(xml)).toThrow(message);
  });
});

describe('small parts', () => {
  it('resolves ranges as S3 does', () => {
    expect(parseRange('bytes=0-0', 10)).toEqual({ start: 0, end: 0 });
    expect(parseRange('bytes=-20', 10)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=3-1', 10)).toBeUndefined(); // invalid: whole object
    expect(parseRange('bytes=0-1,3-4', 10)).toBeUndefined(); // several ranges: whole object
    expect(parseRange('items=0-1', 10)).toBeUndefined();
    expect(() => parseRange('bytes=10-', 10)).toThrow(expect.objectContaining({ code: 'InvalidRange', status: 416 }));
    expect(() => parseRange('bytes=-0', 10)).toThrow(expect.objectContaining({ code: 'InvalidRange' }));
    expect(() => parseRange('bytes=0-', 0)).toThrow(expect.objectContaining({ code: 'InvalidRange' }));
  });

  it('round-trips continuation tokens and refuses foreign ones', () => {
    for (const key of ['', 'a/b', '../x', '🍰 é']) expect(decodeContinuationToken(encodeContinuationToken(key))).toBe(key);
    expect(() => decodeContinuationToken('bm90LW91cnM')).toThrow(expect.objectContaining({ code: 'InvalidArgument' }));
    expect(() => decodeContinuationToken('a b')).toThrow(expect.objectContaining({ code: 'InvalidArgument' }));
  });

  it('computes the checksums of the standard check string', () => {
    const hex = (algorithm: Parameters<typeof createChecksum>[0]) => {
      const h = createChecksum(algorithm);
      h.update(Buffer.from('1234'));
      h.update(Buffer.from('56789'));
      return h.digest().toString('hex');
    };
    expect([hex('CRC32'), hex('CRC32C'), hex('CRC64NVME')]).toEqual(['cbf43926', 'e3069283', 'ae8b14860a799888']);
    expect(isChecksumValue('CRC32', 'y/Q5Jg==')).toBe(true);
    expect(isChecksumValue('CRC32', 'y/Q5Jg')).toBe(false);
    expect(isChecksumValue('SHA256', 'y/Q5Jg==')).toBe(false);
  });

  it('validates bucket names with the reason', () => {
    expect(bucketNameProblem('scones-unlimited.data')).toBeUndefined();
    expect(bucketNameProblem('xn--bucket')).toMatch(/reserved prefix/);
    expect(bucketNameProblem('bucket-s3alias')).toMatch(/reserved suffix/);
    expect(bucketNameProblem('.')).toMatch(/between 3 and 63/);
    expect(bucketNameProblem('...')).toMatch(/begin and end/);
  });
});
