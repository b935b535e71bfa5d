import { DescribeLogStreamsCommand, GetLogEventsCommand, type CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';

/** The log group SageMaker writes training jobs' logs to (one stream per instance: `<job>/algo-1-<epoch s>`). */
export const TRAINING_LOG_GROUP = '/aws/sagemaker/TrainingJobs';

/**
 * Follows a training job's log as the SageMaker Python SDK's `logs=True` does: finds the job's
 * streams (`DescribeLogStreams` with the `<job>/` prefix) and pages `GetLogEvents` forward from
 * where the last poll stopped. Call {@link TrainingLogFollower.poll} while the job runs and once
 * more after it ended, so no final line is lost.
 */
export class TrainingLogFollower {
  private readonly tokens = new Map<string, string | undefined>();

  constructor(
    private readonly client: CloudWatchLogsClient,
    private readonly jobName: string,
    private readonly onLine: (line: string) => void,
  ) {}

  /** Reads every event not seen yet. Streams that do not exist yet (the job is starting) are simply not there. */
  async poll(signal?: AbortSignal): Promise<void> {
    const streams = await this.client.send(new DescribeLogStreamsCommand({ logGroupName: TRAINING_LOG_GROUP, logStreamNamePrefix: `${this.jobName}/` }), { abortSignal: signal });
    for (const stream of streams.logStreams ?? []) {
      const name = stream.logStreamName;
      if (!name) continue;
      for (;;) {
        const token = this.tokens.get(name);
        const page = await this.client.send(
          new GetLogEventsCommand({ logGroupName: TRAINING_LOG_GROUP, logStreamName: name, startFromHead: true, ...(token ? { nextToken: token } : {}) }),
          { abortSignal: signal },
        );
        for (const event of page.events ?? []) if (event.message !== undefined) this.onLine(event.message.replace(/\n$/, ''));
        // The forward token stays the same once there is nothing new.
        this.tokens.set(name, page.nextForwardToken);
        if (page.nextForwardToken === token || !page.events?.length) break;
      }
    }
  }

  /**
   * Polls every `intervalMs` until `signal` aborts. The log is a view of progress: a failed poll
   * (the log group does not exist yet, a transient error) is retried at the next interval.
   */
  async follow(signal: AbortSignal, intervalMs = 2000): Promise<void> {
    while (!signal.aborted) {
      await this.poll(signal).catch(() => undefined);
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, intervalMs);
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }
}
