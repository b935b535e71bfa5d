// The AWS SDK's own cost of the PUTs `scones stage` makes, with a server that answers at once:
// the floor under staging into any S3 through the SDK (the project's one client configuration).
//   node tools/run-ts.js libs/cifar-decoder/bench/sdk-put-floor.ts [objects] [concurrency]
// Prints {"seconds": <wall of the PUTs>} on stdout.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createS3Client } from '@scones/local-cloud';

async function main(): Promise<void> {
  const objects = Number(process.argv[2] ?? 1202);
  const concurrency = Number(process.argv[3] ?? 16);
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.setHeader('ETag', '"d41d8cd98f00b204e9800998ecf8427e"');
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = createS3Client({ kind: 'local', s3Endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, region: 'us-east-1' });
  const body = Buffer.alloc(2600, 7); // a CIFAR PNG is ~2.6 KB
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < objects) {
        const key = `data/train/object_${next++}.png`;
        await client.send(new PutObjectCommand({ Bucket: 'scones', Key: key, Body: body, ContentType: 'image/png' }));
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  client.destroy();
  server.close();
  process.stdout.write(`${JSON.stringify({ seconds })}\n`);
}

main().catch((error: Error) => {
  process.stderr.write(`sdk-put-floor: ${error.message}\n`);
  process.exit(1);
});
