import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@scones/stack-core';
import { AwsError } from '@scones/stack-core';
import type { LogsService } from '../logs/logs-service';
import type { StackContext } from '@scones/stack-core';
import { JsonStore } from '@scones/stack-core';
import { imageKind, unsupportedImageReason } from './images';
import { removePartialModelData } from './model-data';
import { alreadyExists, couldNotFind, epochSeconds, resourceArn, resourceKey } from './names';
import type { DeploymentSpec, EndpointConfigRecord, EndpointRecord, ModelRecord } from './records';
import type { EndpointStatus } from './shapes';
import { WorkerProcess } from './worker-process';
import type { EndpointWorkerConfig, EndpointWorkerMessage } from './worker-protocol';

/** Where InvokeEndpoint goes: the loopback port of the process serving the endpoint, while it serves. */
export interface EndpointRoute {
  readonly endpointName: string;
  readonly variantName: string;
  /** Undefined while the process (re)starts. */
  port: number | undefined;
}

/** How long an endpoint's process may take to load its model before the deployment fails. */
const DEPLOY_TIMEOUT_MS = 5 * 60_000;
/** How long a stopping endpoint may take to finish requests and write capture. */
const STOP_GRACE_MS = 15_000;
/** How long `start()` waits for re-served endpoints before letting them finish in the background. */
const RESERVE_WAIT_MS = 60_000;
/** A process that crashes is restarted after 1 s, 2 s, 4 s… up to this. */
const MAX_RESTART_DELAY_MS = 30_000;

/** One endpoint process, from spawn to ready (or failure). */
class ServingProcess {
  readonly worker: WorkerProcess<EndpointWorkerMessage>;
  /** Resolves with the port once the model is served; rejects with SageMaker's FailureReason. */
  readonly ready: Promise<number>;
  port?: number;
  /** Where its start-up time went, as the worker measured it. */
  timings?: Extract<EndpointWorkerMessage, { type: 'ready' }>['timings'];
  /** Set once we asked it to stop: its exit is then expected. */
  stopping = false;

  constructor(stack: StackContext, config: EndpointWorkerConfig, onLine: (line: string) => void) {
    let settle!: { resolve(port: number): void; reject(reason: Error): void };
    this.ready = new Promise<number>((resolve, reject) => (settle = { resolve, reject }));
    this.ready.catch(() => undefined);
    this.worker = new WorkerProcess<EndpointWorkerMessage>({
      stack,
      kind: 'endpoint',
      config,
      onLine,
      onMessage: (message) => {
        if (message.type === 'ready') {
          this.port = message.port;
          this.timings = message.timings;
          settle.resolve(message.port);
        } else if (message.type === 'failed') settle.reject(new Error(message.reason));
      },
    });
    const timer = setTimeout(() => {
      settle.reject(new Error(`the model was not served within ${DEPLOY_TIMEOUT_MS / 1000} s`));
      this.worker.kill();
    }, DEPLOY_TIMEOUT_MS);
    timer.unref();
    void this.worker.exited.then(({ code, signal }) => {
      clearTimeout(timer);
      settle.reject(new Error(`the endpoint process exited (${signal ?? `code ${code}`}) before serving the model`));
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.worker.stop(STOP_GRACE_MS);
  }
}

/** An endpoint the service knows, with the processes behind it. */
class EndpointEntry {
  route: EndpointRoute | undefined;
  /** Serves `record.deployed`. */
  active?: ServingProcess;
  /** Being deployed (`record.pending`). */
  candidate?: ServingProcess;
  deleted = false;
  restartDelayMs = 1000;
  restartTimer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    public record: EndpointRecord,
    private readonly store: JsonStore<EndpointRecord>,
  ) {}

  /** Persists the record; writes are serialized so the last state wins. */
  persist(): Promise<void> {
    const snapshot = structuredClone(this.record);
    this.writing = this.writing.catch(() => undefined).then(() => (this.deleted ? undefined : this.store.put(resourceKey(snapshot.name), snapshot)));
    return this.writing;
  }

  settled(): Promise<void> {
    return this.writing.catch(() => undefined);
  }
}

export interface EndpointsOptions {
  stack: StackContext;
  logger: Logger;
  directory: string;
  models: JsonStore<ModelRecord>;
  configs: JsonStore<EndpointConfigRecord>;
}

/**
 * The endpoints of the SageMaker service: their records, the worker process serving each one, and
 * the routes InvokeEndpoint follows. Creating, updating and deleting run in the background as on
 * SageMaker (Creating → InService or Failed, Updating → InService, Deleting → gone); a process that
 * crashes is restarted (its capture spool is recovered by the new process).
 */
export class Endpoints {
  private readonly entries = new Map<string, EndpointEntry>();
  private readonly store: JsonStore<EndpointRecord>;
  private readonly dataDirectory: string;
  private closing = false;

  constructor(private readonly options: EndpointsOptions) {
    this.store = new JsonStore<EndpointRecord>(join(options.directory, 'endpoints'));
    this.dataDirectory = join(options.directory, 'endpoint-data');
  }

  /** The route of an endpoint that serves (InService, or Updating on its previous deployment). */
  route(name: string): EndpointRoute | undefined {
    return this.entries.get(resourceKey(name))?.route;
  }

  status(name: string): EndpointStatus | undefined {
    return this.entries.get(resourceKey(name))?.record.status;
  }

  list(): EndpointRecord[] {
    return [...this.entries.values()].map((e) => e.record);
  }

  get(name: string, region: string, accountId: string): EndpointRecord {
    const entry = this.entries.get(resourceKey(name));
    if (!entry) throw couldNotFind('endpoint', resourceArn('endpoint', region, accountId, name));
    return entry.record;
  }

  has(name: string): boolean {
    return this.entries.has(resourceKey(name));
  }

  /** A deployment of `config` (and its model) as it is now. */
  async specFor(configName: string, region: string, accountId: string): Promise<DeploymentSpec> {
    const config = await this.options.configs.get(resourceKey(configName));
    if (!config) throw couldNotFind('endpointConfig', resourceArn('endpointConfig', region, accountId, configName));
    const modelName = config.variant.ModelName ?? '';
    const model = await this.options.models.get(resourceKey(modelName));
    if (!model) throw couldNotFind('model', resourceArn('model', region, accountId, modelName));
    return {
      id: `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`,
      configName: config.name,
      variant: config.variant,
      modelName: model.name,
      image: model.container.Image ?? '',
      modelData: model.modelData,
      ...(config.capture ? { capture: config.capture } : {}),
      startTime: Date.now(),
    };
  }

  /** CreateEndpoint: records it as Creating and deploys in the background. */
  async create(record: EndpointRecord, spec: DeploymentSpec): Promise<void> {
    // Checked again here, synchronously with taking the name: two concurrent creates get one endpoint.
    if (this.entries.has(resourceKey(record.name))) throw alreadyExists('endpoint', record.arn);
    const entry = new EndpointEntry({ ...record, status: 'Creating', pending: spec }, this.store);
    this.entries.set(resourceKey(record.name), entry);
    await entry.persist();
    void this.deploy(entry, spec);
  }

  /** UpdateEndpoint: the current deployment serves until the new one is ready. */
  async update(name: string, spec: DeploymentSpec, region: string, accountId: string): Promise<string> {
    const entry = this.entries.get(resourceKey(name));
    if (!entry) throw couldNotFind('endpoint', resourceArn('endpoint', region, accountId, name));
    const { status, arn } = entry.record;
    if (status === 'Failed') throw new AwsError('ValidationException', `Cannot update failed endpoint "${arn}".`, 400);
    if (status !== 'InService') throw new AwsError('ValidationException', `Cannot update in-progress endpoint "${arn}".`, 400);
    entry.record = { ...entry.record, status: 'Updating', pending: spec, lastModifiedTime: Date.now() };
    await entry.persist();
    void this.deploy(entry, spec);
    return arn;
  }

  /** DeleteEndpoint: Deleting at once (no more invocations), gone once its processes stopped. */
  async delete(name: string, region: string, accountId: string): Promise<void> {
    const entry = this.entries.get(resourceKey(name));
    if (!entry) throw couldNotFind('endpoint', resourceArn('endpoint', region, accountId, name));
    if (entry.record.status === 'Deleting') return;
    entry.route = undefined;
    entry.record = { ...entry.record, status: 'Deleting', lastModifiedTime: Date.now() };
    await entry.persist();
    void this.finishDelete(entry);
  }

  private async finishDelete(entry: EndpointEntry): Promise<void> {
    clearTimeout(entry.restartTimer);
    await Promise.all([entry.active?.stop(), entry.candidate?.stop()]);
    await entry.settled();
    entry.deleted = true;
    const key = resourceKey(entry.record.name);
    await this.store.delete(key).catch((error: unknown) => this.options.logger.error('endpoint record could not be removed', { endpoint: entry.record.name, error }));
    await rm(join(this.dataDirectory, key), { recursive: true, force: true });
    if (this.entries.get(key) === entry) this.entries.delete(key);
    this.options.logger.info('endpoint deleted', { endpoint: entry.record.name });
  }

  /** Restores the endpoints: InService ones are served again (waited for, up to a minute). */
  async start(): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const { value: record } of await this.store.list()) {
      const entry = new EndpointEntry(record, this.store);
      this.entries.set(resourceKey(record.name), entry);
      if (record.status === 'Deleting') {
        void this.finishDelete(entry);
      } else if (record.status === 'Creating' && record.pending) {
        void this.deploy(entry, record.pending);
      } else if ((record.status === 'InService' || record.status === 'Updating') && record.deployed) {
        if (record.status === 'Updating') {
          const abandoned = record.pending;
          entry.record = {
            ...record,
            status: 'InService',
            pending: undefined,
            failureReason: `The update to endpoint configuration ${abandoned?.configName ?? '(unknown)'} was interrupted by a restart of the local stack; the endpoint keeps its previous configuration.`,
          };
          if (abandoned) void rm(this.deploymentDirectory(entry, abandoned), { recursive: true, force: true });
          void entry.persist();
        }
        waits.push(this.serveAgain(entry, record.deployed));
      }
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(waits), new Promise((resolve) => (timer = setTimeout(resolve, RESERVE_WAIT_MS)))]);
    clearTimeout(timer);
  }

  /** Stops every endpoint process (capture is written); records stay as they are for the next start. */
  async close(): Promise<void> {
    this.closing = true;
    const stops: Promise<void>[] = [];
    for (const entry of this.entries.values()) {
      clearTimeout(entry.restartTimer);
      entry.route = undefined;
      if (entry.active) stops.push(entry.active.stop());
      if (entry.candidate) stops.push(entry.candidate.stop());
    }
    await Promise.all(stops);
    await Promise.all([...this.entries.values()].map((e) => e.settled()));
  }

  summary(): Array<{ name: string; status: EndpointStatus; port?: number; pid?: number }> {
    return [...this.entries.values()].map((e) => ({
      name: e.record.name,
      status: e.record.status,
      ...(e.route?.port !== undefined ? { port: e.route.port } : {}),
      ...(e.active?.worker.pid !== undefined ? { pid: e.active.worker.pid } : {}),
    }));
  }

  /** Whether work on the endpoint should stop: it is being deleted, or the stack is closing. */
  private abandoned(entry: EndpointEntry): boolean {
    return entry.deleted || entry.record.status === 'Deleting' || this.closing;
  }

  private deploymentDirectory(entry: EndpointEntry, spec: DeploymentSpec): string {
    return join(this.dataDirectory, resourceKey(entry.record.name), spec.id);
  }

  private spawn(entry: EndpointEntry, spec: DeploymentSpec): ServingProcess {
    const directory = this.deploymentDirectory(entry, spec);
    const capture = spec.capture && spec.capture.EnableCapture !== false ? spec.capture : undefined;
    const config: EndpointWorkerConfig = {
      endpointName: entry.record.name,
      variantName: spec.variant.VariantName,
      image: spec.image,
      modelData: spec.modelData,
      modelDirectory: join(directory, 'model'),
      ...(capture
        ? { capture: { destination: capture.DestinationS3Uri, samplingPercentage: capture.InitialSamplingPercentage, spoolDirectory: join(directory, 'capture-spool') } }
        : {}),
      logLevel: process.env.SCONES_LOG_LEVEL ?? 'info',
    };
    const logs = this.options.stack.service<LogsService>('logs');
    const group = `/aws/sagemaker/Endpoints/${entry.record.name}`;
    const stream = `${spec.variant.VariantName}/i-${spec.id.replace(/[^a-z0-9]/g, '')}`;
    const serving = new ServingProcess(this.options.stack, config, (line) => {
      logs?.append(group, stream, [{ message: line }]);
      this.options.logger.debug('endpoint process', { endpoint: entry.record.name, line });
    });
    return serving;
  }

  /** Deploys `spec` as the endpoint's new deployment (CreateEndpoint, UpdateEndpoint). */
  private async deploy(entry: EndpointEntry, spec: DeploymentSpec): Promise<void> {
    await removePartialModelData(this.deploymentDirectory(entry, spec));
    if (this.abandoned(entry)) return;
    // An image the stack cannot stand in for fails at once, without a process.
    if (!imageKind(spec.image)) return this.deploymentFailed(entry, spec, unsupportedImageReason(spec.image, 'inference'));
    const candidate = this.spawn(entry, spec);
    entry.candidate = candidate;
    let port: number;
    try {
      port = await candidate.ready;
    } catch (error) {
      if (entry.candidate === candidate) entry.candidate = undefined;
      await candidate.stop();
      return this.deploymentFailed(entry, spec, (error as Error).message);
    }
    if (this.abandoned(entry)) {
      await candidate.stop();
      if (entry.deleted) await rm(this.deploymentDirectory(entry, spec), { recursive: true, force: true });
      return;
    }
    const previous = entry.active;
    const previousSpec = entry.record.deployed;
    entry.candidate = undefined;
    entry.active = candidate;
    this.watch(entry, candidate, spec);
    entry.route = { endpointName: entry.record.name, variantName: spec.variant.VariantName, port };
    entry.record = { ...entry.record, status: 'InService', configName: spec.configName, deployed: spec, pending: undefined, failureReason: undefined, lastModifiedTime: Date.now() };
    await entry.persist();
    this.options.logger.info('endpoint in service', { endpoint: entry.record.name, config: spec.configName, port, pid: candidate.worker.pid, timings: candidate.timings });
    if (previous) {
      await previous.stop();
      if (previousSpec) await rm(this.deploymentDirectory(entry, previousSpec), { recursive: true, force: true });
    }
  }

  /** A deployment that did not come up: Failed (Creating), or rolled back to what served (Updating). */
  private async deploymentFailed(entry: EndpointEntry, spec: DeploymentSpec, message: string): Promise<void> {
    if (this.abandoned(entry)) return;
    const reason = `Production variant ${spec.variant.VariantName}: ${message}`.slice(0, 1024);
    await rm(this.deploymentDirectory(entry, spec), { recursive: true, force: true });
    if (entry.record.status === 'Updating') {
      // SageMaker rolls a failed update back: the endpoint keeps serving what it served.
      entry.record = { ...entry.record, status: 'InService', pending: undefined, failureReason: reason, lastModifiedTime: Date.now() };
      this.options.logger.warn('endpoint update failed; rolled back', { endpoint: entry.record.name, reason });
    } else {
      entry.record = { ...entry.record, status: 'Failed', pending: undefined, failureReason: reason, lastModifiedTime: Date.now() };
      this.options.logger.warn('endpoint failed', { endpoint: entry.record.name, reason });
    }
    await entry.persist();
  }

  /** Serves an InService endpoint again after a restart of the stack. */
  private async serveAgain(entry: EndpointEntry, spec: DeploymentSpec): Promise<void> {
    entry.route = { endpointName: entry.record.name, variantName: spec.variant.VariantName, port: undefined };
    await removePartialModelData(this.deploymentDirectory(entry, spec));
    const serving = this.spawn(entry, spec);
    entry.active = serving;
    try {
      entry.route.port = await serving.ready;
      this.watch(entry, serving, spec);
      this.options.logger.info('endpoint served again', { endpoint: entry.record.name, port: entry.route.port, pid: serving.worker.pid, timings: serving.timings });
    } catch (error) {
      entry.active = undefined;
      await serving.stop();
      if (this.closing || entry.record.status !== 'InService') return;
      entry.route = undefined;
      const reason = `Production variant ${spec.variant.VariantName} could not be served again after a restart of the local stack: ${(error as Error).message}`.slice(0, 1024);
      entry.record = { ...entry.record, status: 'Failed', failureReason: reason, lastModifiedTime: Date.now() };
      this.options.logger.error('endpoint could not be served again', { endpoint: entry.record.name, reason });
      await entry.persist();
    }
  }

  /** Restarts the serving process if it exits without being asked to. */
  private watch(entry: EndpointEntry, serving: ServingProcess, spec: DeploymentSpec): void {
    const startedAt = Date.now();
    void serving.worker.exited.then(({ code, signal }) => {
      if (serving.stopping || this.closing || entry.deleted || entry.active !== serving) return;
      // A process that served for a minute earns a fresh backoff.
      if (Date.now() - startedAt > 60_000) entry.restartDelayMs = 1000;
      const delay = entry.restartDelayMs;
      entry.restartDelayMs = Math.min(delay * 2, MAX_RESTART_DELAY_MS);
      if (entry.route) entry.route.port = undefined;
      this.options.logger.error('endpoint process exited unexpectedly; restarting it', { endpoint: entry.record.name, pid: serving.worker.pid, code, signal, restartInMs: delay });
      this.options.stack.service<LogsService>('logs')?.append(`/aws/sagemaker/Endpoints/${entry.record.name}`, `${spec.variant.VariantName}/i-${spec.id.replace(/[^a-z0-9]/g, '')}`, [
        { message: `the endpoint process exited unexpectedly (${signal ?? `code ${code}`}); restarting it in ${delay} ms` },
      ]);
      entry.restartTimer = setTimeout(() => void this.restart(entry, spec), delay);
    });
  }

  private async restart(entry: EndpointEntry, spec: DeploymentSpec): Promise<void> {
    if (this.closing || entry.deleted || entry.record.deployed?.id !== spec.id) return;
    const serving = this.spawn(entry, spec);
    entry.active = serving;
    try {
      const port = await serving.ready;
      if (entry.route) entry.route.port = port;
      this.watch(entry, serving, spec);
      this.options.logger.info('endpoint process restarted', { endpoint: entry.record.name, port, pid: serving.worker.pid });
    } catch (error) {
      if (this.closing || entry.deleted || entry.active !== serving) return;
      // It served this model before, so try again later rather than give the endpoint up.
      const delay = entry.restartDelayMs;
      entry.restartDelayMs = Math.min(delay * 2, MAX_RESTART_DELAY_MS);
      this.options.logger.error('endpoint process could not be restarted; trying again', { endpoint: entry.record.name, error: (error as Error).message, restartInMs: delay });
      entry.restartTimer = setTimeout(() => void this.restart(entry, spec), delay);
    }
  }

  /** DescribeEndpoint's answer. */
  describe(record: EndpointRecord): Record<string, unknown> {
    const spec = record.deployed ?? record.pending;
    const variant = spec?.variant;
    const count = variant?.InitialInstanceCount ?? 1;
    const weight = variant?.InitialVariantWeight ?? 1;
    const serving = record.status === 'InService' || record.status === 'Updating';
    const capture = spec?.capture;
    return {
      EndpointName: record.name,
      EndpointArn: record.arn,
      EndpointConfigName: record.configName,
      ...(variant && spec
        ? {
            ProductionVariants: [
              {
                VariantName: variant.VariantName,
                DeployedImages: [{ SpecifiedImage: spec.image, ResolutionTime: epochSeconds(spec.startTime) }],
                CurrentWeight: serving ? weight : 0,
                DesiredWeight: weight,
                CurrentInstanceCount: serving ? count : 0,
                DesiredInstanceCount: count,
                ...(record.status === 'Creating' ? { VariantStatus: [{ Status: 'Creating', StatusMessage: 'Deploying the model on the local stack', StartTime: epochSeconds(spec.startTime) }] } : {}),
              },
            ],
          }
        : {}),
      ...(capture
        ? {
            DataCaptureConfig: {
              EnableCapture: capture.EnableCapture !== false,
              CaptureStatus: capture.EnableCapture !== false ? 'Started' : 'Stopped',
              CurrentSamplingPercentage: capture.InitialSamplingPercentage,
              DestinationS3Uri: capture.DestinationS3Uri,
              ...(capture.KmsKeyId ? { KmsKeyId: capture.KmsKeyId } : {}),
            },
          }
        : {}),
      EndpointStatus: record.status,
      ...(record.failureReason ? { FailureReason: record.failureReason } : {}),
      CreationTime: epochSeconds(record.creationTime),
      LastModifiedTime: epochSeconds(record.lastModifiedTime),
      ...(record.deploymentConfig ? { LastDeploymentConfig: record.deploymentConfig } : {}),
      ...(record.status === 'Updating' && record.pending
        ? { PendingDeploymentSummary: { EndpointConfigName: record.pending.configName, StartTime: epochSeconds(record.pending.startTime) } }
        : {}),
    };
  }
}
