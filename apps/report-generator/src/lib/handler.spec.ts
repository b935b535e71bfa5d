import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { createS3Client, localLambdaContext } from '@scones/local-cloud';
import { startLocalS3, type LocalS3 } from '@scones/stack-core/testing';
import { statisticsFileSchema } from '@scones/monitor-analytics';
import { ENDPOINT, SCHEDULED, seedBucket } from '../../test/fixture';
import { createReportHandler } from './handler';

let root: string;
let s3: LocalS3;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'report-handler-'));
  s3 = await startLocalS3({ directory: join(root, 's3'), buckets: ['scones'] });
  await seedBucket(createS3Client(s3.target), 'scones');
});
afterAll(async () => {
  await s3?.stop();
  await rm(root, { recursive: true, force: true });
});

/** A real Powertools logger; its JSON lines are read back from stdout. */
function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const write = process.stdout.write.bind(process.stdout);
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = String(chunk);
    if (text.startsWith('{')) {
      for (const line of text.split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      return true;
    }
    return write(chunk, ...(rest as []));
  });
  return { logger: new Logger({ serviceName: 'report-generator' }), lines };
}

afterEach(() => jest.restoreAllMocks());

describe('report-generator handler', () => {
  it('reports the 24 hours before the scheduled time to reports/<endpoint>/<timestamp>/ with structured logs', async () => {
    const client = createS3Client(s3.target);
    const { logger, lines } = capturingLogger();
    const handler = createReportHandler({ s3: client, logger, environment: { BUCKET: 'scones', ENDPOINT_NAME: ENDPOINT } });
    const event = { 'detail-type': 'Scheduled Event', source: 'aws.events', time: SCHEDULED.toISOString(), detail: {} };
    const result = await handler(event, localLambdaContext('report-generator', { awsRequestId: 'req-report-1' }));
    const folder = `reports/${ENDPOINT}/scones-report/2026/03/02/06/`;
    expect(result).toMatchObject({
      report: `s3://scones/${folder}report.html`,
      endpointName: ENDPOINT,
      window: { since: '2026-03-01T06:00:00.000Z', until: '2026-03-02T06:00:00.000Z' },
      model: 'scones-job-7',
      schedule: 'scones-report',
      records: 96,
      malformed: 0,
      modelMonitor: {
        statistics: `s3://scones/${folder}statistics.json`,
        constraintViolations: `s3://scones/${folder}constraint_violations.json`,
        baselineStatistics: 's3://scones/reports/_baselines/scones-job-7/statistics.json',
        baselineConstraints: 's3://scones/reports/_baselines/scones-job-7/constraints.json',
      },
    });
    // The model was loaded and the captured images embedded.
    expect(result.outOfDistributionShare).not.toBeNull();
    const html = await client.send(new GetObjectCommand({ Bucket: 'scones', Key: `${folder}report.html` }));
    expect(await html.Body?.transformToString()).toContain('<svg');
    const statistics = await client.send(new GetObjectCommand({ Bucket: 'scones', Key: `${folder}statistics.json` }));
    expect(statisticsFileSchema.parse(JSON.parse((await statistics.Body?.transformToString()) ?? '')).dataset.item_count).toBe(96);
    // (One WARN "drift violation" per violated check goes to stderr, for alarms.)
    const info = lines.filter((l) => l.level === 'INFO');
    expect(info.map((l) => l.message)).toEqual(['report started', 'report written']);
    expect(info[1]).toMatchObject({ level: 'INFO', service: 'report-generator', function_request_id: 'req-report-1', records: 96 });
  });

  it('fails naming the variable when the environment is incomplete', async () => {
    const { logger } = capturingLogger();
    const handler = createReportHandler({ s3: createS3Client(s3.target), logger, environment: { BUCKET: 'scones' } });
    await expect(handler({})).rejects.toThrow('ENDPOINT_NAME is not set');
  });
});
