// A stack serving only S3 in its own process, for the crash tests: prints {"url"} when ready,
// and on SIGINT/SIGTERM closes cleanly and exits 0, as `scones up` does.
//   node tools/run-ts.js libs/stack-core/test/s3-stack-process.ts <dataDir>
import { createS3Service } from '../src/lib/s3/s3-service';
import { startStackServer } from '../src/lib/stack';
import { TEST_CREDENTIALS } from '../src/testing';

async function main(): Promise<void> {
  const dataDir = process.argv[2];
  if (!dataDir) throw new Error('usage: s3-stack-process.ts <dataDir>');
  const stack = await startStackServer({ dataDir, port: 0, factories: [['s3', createS3Service]], credentials: TEST_CREDENTIALS });
  const stop = () => {
    stack.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.stdout.write(`${JSON.stringify({ url: stack.url, pid: process.pid })}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
