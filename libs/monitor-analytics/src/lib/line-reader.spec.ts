import { readLines } from './line-reader';

async function collect(chunks: string[]) {
  async function* source() {
    for (const c of chunks) yield Buffer.from(c);
  }
  const lines = [];
  for await (const line of readLines(source())) lines.push(line);
  return lines;
}

describe('readLines', () => {
  it('numbers lines split anywhere across chunks, CRLF and a missing final newline included', async () => {
    const lines = await collect(['{"a":', '1}\r\n{"b"', ':2}\n\nlast', ' line']);
    expect(lines).toEqual([
      { number: 1, text: '{"a":1}' },
      { number: 2, text: '{"b":2}' },
      { number: 3, text: '' },
      { number: 4, text: 'last line' },
    ]);
  });
  it('keeps multi-byte UTF-8 characters split between chunks intact', async () => {
    const bytes = Buffer.from('é\nü\n');
    async function* source() {
      yield bytes.subarray(0, 1);
      yield bytes.subarray(1);
    }
    const lines = [];
    for await (const line of readLines(source())) lines.push(line.text);
    expect(lines).toEqual(['é', 'ü']);
  });
  it('yields nothing for an empty file', async () => {
    expect(await collect([])).toEqual([]);
  });
});
