import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from './json-logger';
import type { RequestContext } from './gateway/request-context';
import type { ServiceId } from './gateway/routing';

/** What every service of the stack is given: where its state lives and how to reach the others. */
export interface StackContext {
  /** The stack's data directory; each service keeps its state in `<dataDir>/<service>/`. */
  readonly dataDir: string;
  readonly region: string;
  readonly accountId: string;
  readonly logger: Logger;
  /** `http://127.0.0.1:<port>`; set before any service's `start()`. */
  readonly url: string;
  /**
   * Environment for a child process (a Lambda function, a training job, an endpoint, boto3, the
   * AWS CLI) so every AWS SDK in it talks to this stack: `AWS_ENDPOINT_URL`, credentials, region.
   */
  sdkEnvironment(): Record<string, string>;
  /** Another service of the stack, for in-process calls (Step Functions invoking Lambda…). */
  service<T extends StackService>(id: ServiceId): T | undefined;
  /**
   * The command that runs a stack worker in a new process (`[node, script, ...args]`); the worker
   * kind and its arguments are appended. See `runStackWorker`.
   */
  readonly workerCommand: readonly string[];
}

/** One AWS service served by the stack. */
export interface StackService {
  readonly id: ServiceId;
  /** Answers one request routed to this service; writes AWS's error shape on failure. */
  handle(req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void>;
  /** Restores persisted state (e.g. re-serves InService endpoints). Called once, after listen. */
  start?(): Promise<void>;
  /** Stops background work and child processes, flushing what must not be lost. */
  close?(): Promise<void>;
  /** A summary for `scones status` (JSON-serializable). */
  status?(): Promise<Record<string, unknown>>;
}
