import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { BUCKET_PREFIXES, type DataBucket } from './data-bucket';
import { acknowledgeWildcardResource } from './nag';
import { SconesFunction } from './scones-function';

/** The report job's Lambda entry (apps/report-generator), relative to the workspace. */
export const REPORT_LAMBDA_ENTRY = 'apps/report-generator/src/lambda.ts';

/**
 * The report embeds captured images with the model (TensorFlow.js, bundled): the wasm binaries it
 * loads at run time ship beside the handler (the handler points the backend at its own folder).
 */
export const REPORT_LAMBDA_WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm'].map((file) => `node_modules/@tensorflow/tfjs-backend-wasm/dist/${file}`);

/** The monitoring schedule name the scheduled reports are filed under: `reports/<endpoint>/<schedule>/<yyyy>/<mm>/<dd>/<hh>/`. */
export const REPORT_SCHEDULE_NAME = 'scones-report';

export interface ScheduledReportProps {
  workspaceRoot: string;
  bucket: DataBucket;
  /** The endpoint whose captured traffic is reported on. */
  endpointName: string;
  /** EventBridge schedule expression, e.g. `rate(1 day)`. */
  schedule: string;
  logRetention: RetentionDays;
  logRemovalPolicy: RemovalPolicy;
}

/**
 * The monitoring report on a schedule: apps/report-generator's Lambda handler reads the captured
 * traffic (`data_capture/`) and the model (`models/<job>/`: the manifest with its baseline, and the
 * network that embeds captured images), and writes the report, in SageMaker Model Monitor's layout
 * and formats, under `reports/`. It may list and read those two prefixes and write under
 * `reports/`, nothing else.
 */
export class ScheduledReport extends Construct {
  readonly function: SconesFunction;
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: ScheduledReportProps) {
    super(scope, id);
    const { bucket } = props.bucket;
    this.function = new SconesFunction(this, 'Generator', {
      workspaceRoot: props.workspaceRoot,
      project: 'report-generator',
      entry: REPORT_LAMBDA_ENTRY,
      description: 'Scones monitoring report: captured endpoint traffic vs the model baseline, written under reports/',
      // Decodes, embeds (the model, on wasm) and charts a day of captured images; memory is CPU on Lambda.
      memorySize: 1024,
      copyFiles: REPORT_LAMBDA_WASM_FILES,
      timeout: Duration.minutes(5),
      // apps/report-generator's job-config.ts reads these.
      environment: {
        BUCKET: bucket.bucketName,
        ENDPOINT_NAME: props.endpointName,
        CAPTURE_PREFIX: BUCKET_PREFIXES.dataCapture.replace(/\/$/, ''),
        MODEL_PREFIX: BUCKET_PREFIXES.models,
        REPORT_PREFIX: BUCKET_PREFIXES.reports,
        SCHEDULE_NAME: REPORT_SCHEDULE_NAME,
        // Each run reports on the traffic since the previous one.
        ...(lookbackOf(props.schedule) ? { LOOKBACK: lookbackOf(props.schedule) } : {}),
      },
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
    });
    const role = this.function.role;
    role.addToPrincipalPolicy(props.bucket.listUnder('dataCapture', 'models'));
    const captured = props.bucket.objectsUnder('dataCapture');
    const models = props.bucket.objectsUnder('models');
    const reports = props.bucket.objectsUnder('reports');
    role.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:GetObject'], resources: [captured, models] }));
    role.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:PutObject'], resources: [reports] }));
    acknowledgeWildcardResource(role, captured, 'The report reads every capture file of its time window; their keys (date, uuid) are only known at run time.');
    acknowledgeWildcardResource(role, models, "The report reads the newest model under models/<job>/: manifest.json (its monitoring baseline), model.json and weights.bin (to embed captured images).");
    acknowledgeWildcardResource(role, reports, 'The report writes reports/<endpoint>/<schedule>/<yyyy>/<mm>/<dd>/<hh>/ and reports/_baselines/<job>/; the prefix is the narrowest scope.');

    this.rule = new Rule(this, 'Schedule', {
      description: 'Runs the Scones monitoring report',
      schedule: Schedule.expression(props.schedule),
      targets: [new LambdaFunction(this.function.function, { retryAttempts: 2 })],
    });
  }
}

/** The report window of a `rate(...)` schedule (`rate(6 hours)` → `6h`); cron schedules keep the job's default (24h). */
export function lookbackOf(schedule: string): string | undefined {
  const match = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(schedule);
  return match ? `${match[1]}${match[2][0]}` : undefined;
}
