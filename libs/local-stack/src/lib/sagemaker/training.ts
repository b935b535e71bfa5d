import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@scones/stack-core';
import { AwsError } from '@scones/stack-core';
import type { LogsService } from '../logs/logs-service';
import type { StackContext } from '@scones/stack-core';
import { JsonStore } from '@scones/stack-core';
import { HyperparameterError, trainerSettings } from './hyperparameters';
import { imageKind, unsupportedImageReason } from './images';
import { epochSeconds, resourceKey, trainingJobNotFound } from './names';
import type { TrainingJobRecord, TrainingJobStatus } from './records';
import { WorkerProcess } from './worker-process';
import type { TrainingMetric, TrainingWorkerConfig, TrainingWorkerMessage } from './worker-protocol';

/** CloudWatch Logs group of every training job, as on SageMaker. */
export const TRAINING_LOG_GROUP = '/aws/sagemaker/TrainingJobs';
/** A stopping job that does not stop within this time is killed. */
const STOP_GRACE_MS = 60_000;
/** SageMaker's default MaxRuntimeInSeconds: one day. */
const DEFAULT_MAX_RUNTIME_SECONDS = 86_400;

/** Why a job that was running when the stack went down is Failed (SageMaker's answer to a lost instance). */
const LOST_INSTANCE_REASON =
  'InternalServerError: The local stack stopped while this training job was running, so its training instance was lost. Please try again with a new training job.';

class TrainingEntry {
  worker?: WorkerProcess<TrainingWorkerMessage>;
  runtimeTimer?: NodeJS.Timeout;
  stopReason?: 'StopTrainingJob' | 'MaxRuntimeExceeded';
  private writing: Promise<void> = Promise.resolve();

  constructor(
    public record: TrainingJobRecord,
    private readonly store: JsonStore<TrainingJobRecord>,
  ) {}

  persist(): Promise<void> {
    const snapshot = structuredClone(this.record);
    this.writing = this.writing.catch(() => undefined).then(() => this.store.put(resourceKey(snapshot.name), snapshot));
    return this.writing;
  }

  settled(): Promise<void> {
    return this.writing.catch(() => undefined);
  }

  /** Moves to a secondary status, closing the previous transition, as DescribeTrainingJob shows them. */
  transition(status: string, message: string, primary?: TrainingJobStatus, at = Date.now()): void {
    const transitions = this.record.transitions.map((t, i, all) => (i === all.length - 1 && t.endTime === undefined ? { ...t, endTime: at } : t));
    transitions.push({ status, startTime: at, message });
    this.record = { ...this.record, secondaryStatus: status, transitions, lastModifiedTime: at, ...(primary ? { status: primary } : {}) };
  }

  /** The final transition has no successor: it ends when it starts. */
  finish(status: string, message: string, primary: TrainingJobStatus, extra: Partial<TrainingJobRecord> = {}): void {
    const at = Date.now();
    this.transition(status, message, primary, at);
    const transitions = this.record.transitions.map((t, i, all) => (i === all.length - 1 ? { ...t, endTime: at } : t));
    this.record = { ...this.record, ...extra, transitions, trainingEndTime: at };
  }
}

export interface TrainingJobsOptions {
  stack: StackContext;
  logger: Logger;
  directory: string;
}

/**
 * The training jobs of the SageMaker service: each runs in a worker process (kind `training`)
 * with the project's trainer; status, secondary status transitions, metrics and the model
 * artifact are recorded as SageMaker reports them, and the job's log goes to CloudWatch Logs
 * (`/aws/sagemaker/TrainingJobs`, stream `<job>/algo-1-<epoch seconds>`).
 */
export class TrainingJobs {
  private readonly entries = new Map<string, TrainingEntry>();
  private readonly store: JsonStore<TrainingJobRecord>;
  private readonly workDirectory: string;
  private closing = false;

  constructor(private readonly options: TrainingJobsOptions) {
    this.store = new JsonStore<TrainingJobRecord>(join(options.directory, 'training-jobs'));
    this.workDirectory = join(options.directory, 'training-work');
  }

  has(name: string): boolean {
    return this.entries.has(resourceKey(name));
  }

  get(name: string): TrainingJobRecord {
    const entry = this.entries.get(resourceKey(name));
    if (!entry) throw trainingJobNotFound();
    return entry.record;
  }

  list(): TrainingJobRecord[] {
    return [...this.entries.values()].map((e) => e.record);
  }

  /** Jobs that were running when the stack stopped lost their instance: Failed (Stopped when they were being stopped). */
  async start(): Promise<void> {
    await rm(this.workDirectory, { recursive: true, force: true });
    for (const { value: record } of await this.store.list()) {
      const entry = new TrainingEntry(record, this.store);
      this.entries.set(resourceKey(record.name), entry);
      if (record.status === 'InProgress') {
        entry.finish('Failed', `Training job failed. Reason: ${LOST_INSTANCE_REASON}`, 'Failed', { failureReason: LOST_INSTANCE_REASON });
        this.options.logger.warn('training job was running when the stack stopped: marked Failed', { job: record.name });
        await entry.persist();
      } else if (record.status === 'Stopping') {
        entry.finish('Stopped', 'Training job stopped (the local stack stopped while it was stopping)', 'Stopped');
        await entry.persist();
      }
    }
  }

  /** Kills running jobs (their instance is lost, as the next start reports). */
  async close(): Promise<void> {
    this.closing = true;
    const running: Promise<unknown>[] = [];
    for (const entry of this.entries.values()) {
      clearTimeout(entry.runtimeTimer);
      if (entry.worker?.running) {
        entry.worker.kill();
        running.push(entry.worker.exited);
        if (entry.record.status === 'InProgress') {
          entry.finish('Failed', `Training job failed. Reason: ${LOST_INSTANCE_REASON}`, 'Failed', { failureReason: LOST_INSTANCE_REASON });
        } else if (entry.record.status === 'Stopping') {
          entry.finish('Stopped', 'Training job stopped', 'Stopped');
        }
        void entry.persist();
      }
    }
    await Promise.all(running);
    await Promise.all([...this.entries.values()].map((e) => e.settled()));
  }

  /** CreateTrainingJob (after the service validated the request): records the job and starts it. */
  async create(record: TrainingJobRecord): Promise<void> {
    const entry = new TrainingEntry(record, this.store);
    this.entries.set(resourceKey(record.name), entry);
    entry.transition('Starting', 'Preparing the instances for training', 'InProgress', record.creationTime);
    await entry.persist();
    this.log(entry, [`Training job ${record.name} created`]);
    void this.run(entry).catch((error: unknown) => this.options.logger.error('training job could not run', { job: record.name, error }));
  }

  /** StopTrainingJob. */
  async stop(name: string): Promise<void> {
    const entry = this.entries.get(resourceKey(name));
    if (!entry) throw trainingJobNotFound();
    const status = entry.record.status;
    if (status === 'Stopping') return;
    if (status !== 'InProgress') throw new AwsError('ValidationException', `The request was rejected because the training job is in status ${status}.`, 400);
    this.requestStop(entry, 'StopTrainingJob');
    await entry.persist();
  }

  summary(): Array<{ name: string; status: string; secondaryStatus: string }> {
    return this.list().map((r) => ({ name: r.name, status: r.status, secondaryStatus: r.secondaryStatus }));
  }

  private requestStop(entry: TrainingEntry, why: 'StopTrainingJob' | 'MaxRuntimeExceeded'): void {
    entry.stopReason = why;
    entry.transition('Stopping', why === 'MaxRuntimeExceeded' ? 'Stopping the training job: it exceeded MaxRuntimeInSeconds' : 'Stopping the training job', 'Stopping');
    const worker = entry.worker;
    if (worker) {
      void worker.stop(STOP_GRACE_MS);
    } else {
      // Not started yet (between create and spawn): nothing runs, so it is stopped at once.
      this.finishStopped(entry);
    }
  }

  private finishStopped(entry: TrainingEntry): void {
    if (entry.record.status === 'Stopped') return;
    const exceeded = entry.stopReason === 'MaxRuntimeExceeded';
    entry.finish(exceeded ? 'MaxRuntimeExceeded' : 'Stopped', exceeded ? 'Job stopped because it exceeded MaxRuntimeInSeconds' : 'Training job stopped', 'Stopped');
    void entry.persist();
  }

  private log(entry: TrainingEntry, lines: string[]): void {
    const logs = this.options.stack.service<LogsService>('logs');
    logs?.append(TRAINING_LOG_GROUP, entry.record.logStream, lines.map((message) => ({ message })));
  }

  private async run(entry: TrainingEntry): Promise<void> {
    const { record } = entry;
    const request = record.request;
    const fail = (reason: string) => {
      entry.finish('Failed', `Training job failed. Reason: ${reason}`, 'Failed', { failureReason: reason.slice(0, 1024) });
      this.log(entry, [reason]);
      this.options.logger.warn('training job failed', { job: record.name, reason });
      return entry.persist();
    };
    const image = request.AlgorithmSpecification?.TrainingImage ?? '';
    if (imageKind(image) !== 'builtin') return fail(`ClientError: ${unsupportedImageReason(image, 'training')}`);
    try {
      trainerSettings(request.HyperParameters ?? {});
    } catch (error) {
      if (error instanceof HyperparameterError) return fail(`ClientError: ${error.message}`);
      throw error;
    }
    if (entry.record.status !== 'InProgress' || this.closing) return;

    const config: TrainingWorkerConfig = {
      jobName: record.name,
      workDirectory: join(this.workDirectory, resourceKey(record.name)),
      channels: (request.InputDataConfig ?? []).map((c) => ({ name: c.ChannelName, s3Uri: c.DataSource.S3DataSource?.S3Uri ?? '', ...(c.ContentType ? { contentType: c.ContentType } : {}) })),
      hyperParameters: request.HyperParameters ?? {},
      outputPath: request.OutputDataConfig.S3OutputPath,
      instanceCount: request.ResourceConfig?.InstanceCount ?? 1,
    };
    const maxRuntime = (request.StoppingCondition?.MaxRuntimeInSeconds ?? DEFAULT_MAX_RUNTIME_SECONDS) * 1000;
    entry.record = { ...entry.record, trainingStartTime: Date.now() };
    let outcome: 'completed' | 'failed' | 'stopped' | undefined;
    const worker = new WorkerProcess<TrainingWorkerMessage>({
      stack: this.options.stack,
      kind: 'training',
      config,
      onLine: (line) => this.log(entry, [line]),
      onMessage: (message) => {
        if (message.type === 'status') {
          if (entry.record.status !== 'InProgress') return;
          entry.transition(message.status, message.message);
          void entry.persist();
        } else if (message.type === 'metrics') {
          entry.record = { ...entry.record, finalMetrics: mergeMetrics(entry.record.finalMetrics, message.metrics) };
        } else if (message.type === 'completed') {
          outcome = 'completed';
          entry.finish('Completed', 'Training job completed', 'Completed', {
            artifactUri: message.artifactUri,
            finalMetrics: mergeMetrics(entry.record.finalMetrics, message.metrics),
          });
          this.options.logger.info('training job completed', { job: record.name, artifact: message.artifactUri, seconds: Math.round(message.trainingSeconds) });
          void entry.persist();
        } else if (message.type === 'failed') {
          outcome = 'failed';
          void fail(message.reason);
        } else if (message.type === 'stopped') {
          outcome = 'stopped';
          this.finishStopped(entry);
        }
      },
    });
    entry.worker = worker;
    entry.runtimeTimer = setTimeout(() => {
      if (entry.record.status === 'InProgress') {
        this.requestStop(entry, 'MaxRuntimeExceeded');
        void entry.persist();
      }
    }, maxRuntime);
    entry.runtimeTimer.unref();
    const { code, signal } = await worker.exited;
    clearTimeout(entry.runtimeTimer);
    entry.worker = undefined;
    if (this.closing) return;
    if (outcome === undefined) {
      if (entry.record.status === 'Stopping') this.finishStopped(entry);
      else if (entry.record.status === 'InProgress') await fail(`AlgorithmError: the training process exited (${signal ?? `code ${code}`}) without a result; see the job's log in /aws/sagemaker/TrainingJobs`);
    }
    await entry.settled();
  }

  /** DescribeTrainingJob's answer. */
  describe(record: TrainingJobRecord): Record<string, unknown> {
    const { Tags: _tags, ...request } = record.request;
    const seconds = record.trainingStartTime !== undefined && record.trainingEndTime !== undefined ? Math.max(1, Math.round((record.trainingEndTime - record.trainingStartTime) / 1000)) : undefined;
    return {
      ...request,
      TrainingJobName: record.name,
      TrainingJobArn: record.arn,
      ...(record.artifactUri ? { ModelArtifacts: { S3ModelArtifacts: record.artifactUri } } : {}),
      TrainingJobStatus: record.status,
      SecondaryStatus: record.secondaryStatus,
      ...(record.failureReason ? { FailureReason: record.failureReason } : {}),
      HyperParameters: record.request.HyperParameters ?? {},
      StoppingCondition: record.request.StoppingCondition ?? { MaxRuntimeInSeconds: DEFAULT_MAX_RUNTIME_SECONDS },
      CreationTime: epochSeconds(record.creationTime),
      ...(record.trainingStartTime !== undefined ? { TrainingStartTime: epochSeconds(record.trainingStartTime) } : {}),
      ...(record.trainingEndTime !== undefined ? { TrainingEndTime: epochSeconds(record.trainingEndTime) } : {}),
      LastModifiedTime: epochSeconds(record.lastModifiedTime),
      SecondaryStatusTransitions: record.transitions.map((t) => ({
        Status: t.status,
        StartTime: epochSeconds(t.startTime),
        ...(t.endTime !== undefined ? { EndTime: epochSeconds(t.endTime) } : {}),
        StatusMessage: t.message,
      })),
      FinalMetricDataList: record.finalMetrics.map((m) => ({ MetricName: m.name, Value: m.value, Timestamp: epochSeconds(m.timestamp) })),
      EnableNetworkIsolation: record.request.EnableNetworkIsolation ?? false,
      EnableInterContainerTrafficEncryption: record.request.EnableInterContainerTrafficEncryption ?? false,
      EnableManagedSpotTraining: record.request.EnableManagedSpotTraining ?? false,
      ...(seconds !== undefined ? { TrainingTimeInSeconds: seconds, BillableTimeInSeconds: seconds } : {}),
    };
  }
}

/** The latest value of each metric. */
function mergeMetrics(previous: readonly TrainingMetric[], next: readonly TrainingMetric[]): TrainingMetric[] {
  const byName = new Map(previous.map((m) => [m.name, m]));
  for (const m of next) byName.set(m.name, m);
  return [...byName.values()];
}
