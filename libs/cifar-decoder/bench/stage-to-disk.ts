// The staging work alone, without the CLI: what `scones stage --out` does after start-up.
//   node tools/run-ts.js libs/cifar-decoder/bench/stage-to-disk.ts <archive> <out dir>
import { directorySink, stageCifar } from '../src/index';

const [source, out] = process.argv.slice(2);
stageCifar({ source, sink: directorySink(out) }).catch((error: Error) => {
  process.stderr.write(`stage-to-disk: ${error.message}\n`);
  process.exit(1);
});
