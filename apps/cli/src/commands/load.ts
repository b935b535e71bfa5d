import { Command, Option } from 'commander';
import { decimal, duration, integer, jsonOption } from '../cli/options';
import { addWorkflowTargetOptions, type WorkflowTargetOptions } from '../cli/workflow-options';

export interface LoadOptions extends WorkflowTargetOptions {
  rate?: number;
  duration: number;
  concurrency: number;
  maxExecutions?: number;
  prefix: string;
  json?: boolean;
}

/** `scones load`: a traffic generator of workflow executions over the test images. */
export function loadCommand(): Command {
  const command = new Command('load')
    .description('keep starting workflow executions over the test images at a rate (or as a parallel burst) and report throughput and latency percentiles')
    .addOption(new Option('--rate <per-second>', 'executions started per second (default: back to back, as many as --concurrency allows)').argParser(decimal(0.01, 100_000)))
    .addOption(new Option('--duration <time>', 'stop starting executions after this long, e.g. 30s, 5m (at most 1h)').argParser(duration).default(10_000, '10s'))
    .addOption(new Option('--concurrency <n>', 'executions in flight at most').argParser(integer(1, 1024)).default(8))
    .addOption(new Option('--max-executions <n>', 'stop after this many executions (default: rate × duration)').argParser(integer(1, 10_000_000)))
    .addOption(new Option('--prefix <prefix>', 'the images the executions cycle through').default('data/test/'));
  addWorkflowTargetOptions(command, { batch: false }).addOption(jsonOption());
  command.addHelpText('after', '\nExit status: 0 unless an execution failed otherwise than with THRESHOLD_CONFIDENCE_NOT_MET, or the command itself failed.');
  return command.action(async (options: LoadOptions) => {
    // Loaded on use: the workflow engine, the SDK clients and the local stack cost nothing to other commands.
    const { load } = await import('./load-run.js');
    process.exitCode = await load(options, command);
  });
}
