// Writes the fixture model artifact of @scones/image-classifier/testing from the command line:
//   node tools/run-ts.js libs/image-classifier/scripts/write-model-fixture.ts <dir> [job-name]
//   AWS_ENDPOINT_URL_S3=http://127.0.0.1:<port> node tools/run-ts.js libs/image-classifier/scripts/write-model-fixture.ts s3://<bucket>/<prefix>/ [job-name]
import { createS3Client } from '@scones/local-cloud';
import { writeFixtureArtifact } from '../src/testing';

async function main(): Promise<void> {
  const [location, jobName] = process.argv.slice(2);
  if (!location) throw new Error('usage: write-model-fixture.ts <dir | s3://bucket/prefix/> [job-name]');
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(location);
  if (m) {
    const endpoint = process.env.AWS_ENDPOINT_URL_S3;
    if (!endpoint) throw new Error('AWS_ENDPOINT_URL_S3 must point at the (embedded) S3 to write to');
    await writeFixtureArtifact({ s3: createS3Client({ kind: 'local', s3Endpoint: endpoint }), bucket: m[1], prefix: m[2].endsWith('/') ? m[2] : `${m[2]}/` }, { jobName });
  } else {
    await writeFixtureArtifact(location, { jobName });
  }
  process.stdout.write(`wrote ${location}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`write-model-fixture: ${(error as Error)?.message ?? String(error)}\n`);
  process.exit(1);
});
