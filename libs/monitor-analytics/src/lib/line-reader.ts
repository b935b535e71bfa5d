export interface NumberedLine {
  /** 1-based line number in the file. */
  number: number;
  text: string;
}

const NEWLINE = 0x0a;

/**
 * Splits a byte stream into UTF-8 lines without holding the file in memory (only the current
 * partial line is buffered). A trailing `\r` is removed; a last line without `\n` is still a line.
 */
export async function* readLines(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<NumberedLine> {
  let pending: Buffer[] = [];
  let number = 0;
  const emit = (bytes: Buffer): NumberedLine => {
    number += 1;
    const end = bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.length - 1 : bytes.length;
    return { number, text: bytes.toString('utf8', 0, end) };
  };
  for await (const chunk of chunks) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    let index = buffer.indexOf(NEWLINE, start);
    while (index !== -1) {
      const piece = buffer.subarray(start, index);
      if (pending.length) {
        pending.push(piece);
        yield emit(Buffer.concat(pending));
        pending = [];
      } else {
        yield emit(piece);
      }
      start = index + 1;
      index = buffer.indexOf(NEWLINE, start);
    }
    if (start < buffer.length) pending.push(buffer.subarray(start));
  }
  if (pending.length) yield emit(Buffer.concat(pending));
}
