// Writes a CIFAR-100 python archive with the official layout (member order, tar headers, pickle
// opcodes) and generated pixels, at any size:
//   node tools/run-ts.js libs/cifar-decoder/scripts/write-fixture-archive.ts <out.tar.gz> [--train 50000] [--test 10000] [--classes bicycle,motorcycle]
// Defaults to full size (50 000 + 10 000 rows, all 100 classes balanced, ~170 MB).
import { parseArgs } from 'node:util';
import { parseClassList, writeCifarFixtureArchive } from '../src';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { train: { type: 'string', default: '50000' }, test: { type: 'string', default: '10000' }, classes: { type: 'string' } },
  });
  const out = positionals[0];
  const trainRows = Number(values.train);
  const testRows = Number(values.test);
  if (!out || !Number.isInteger(trainRows) || !Number.isInteger(testRows) || trainRows < 0 || testRows < 0) {
    process.stderr.write('usage: node tools/run-ts.js libs/cifar-decoder/scripts/write-fixture-archive.ts <out.tar.gz> [--train N] [--test N] [--classes a,b]\n');
    process.exit(2);
  }
  const started = Date.now();
  await writeCifarFixtureArchive(out, { trainRows, testRows, classes: values.classes ? parseClassList(values.classes) : undefined });
  process.stderr.write(`wrote ${out} (${trainRows} + ${testRows} rows) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

main().catch((error: Error) => {
  process.stderr.write(`write-fixture-archive: ${error.message}\n`);
  process.exit(1);
});
