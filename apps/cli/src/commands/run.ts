import { Command, Option } from 'commander';
import { integer, jsonOption } from '../cli/options';
import { addWorkflowTargetOptions, type WorkflowTargetOptions } from '../cli/workflow-options';

export interface RunOptions extends WorkflowTargetOptions {
  random?: number;
  all?: string;
  prefix: string;
  groundTruth: string;
  concurrency: number;
  maxConcurrency?: number;
  history?: boolean;
  verbose?: boolean;
  json?: boolean;
}

/** `scones run`: executions of the state machine on images in the bucket, locally or on AWS. */
export function runWorkflowCommand(): Command {
  const command = new Command('run')
    .description("run the state machine on images in the bucket — the project's, or your own with --definition: the given keys, --random N test images, or every image under a prefix (--all: the batch Map; with --definition one execution per image)")
    .argument('[s3_keys...]', 'keys of images in the bucket, e.g. data/test/bicycle_s_000513.png')
    .addOption(new Option('--random <n>', "n random images from --prefix, drawn with replacement like the starter's generate_test_case()").argParser(integer(1, 10_000)))
    .addOption(new Option('--all <prefix>', 'every object under the prefix, in one execution of the batch (Map) state machine'))
    .addOption(new Option('--prefix <prefix>', 'where --random draws images from (default: the test images of --data-prefix, data/test/)').default('data/test/'))
    .addOption(new Option('--ground-truth <key>', '.lst manifest in the bucket with the labels, for the accuracy of the passed predictions (default: data/test.lst of --data-prefix)').default('data/test.lst'))
    .addOption(new Option('--concurrency <n>', 'executions in flight').argParser(integer(1, 256)).default(4))
    .addOption(new Option('--max-concurrency <n>', "local, with --all: the Map state's MaxConcurrency (0: no limit; default 10)").argParser(integer(0, 10_000)))
    .addOption(new Option('--history', 'print the states each execution entered and exited, with times (GetExecutionHistory)'))
    .addOption(new Option('--verbose', 'with --all: print every image, not only those that failed otherwise than by the threshold'));
  addWorkflowTargetOptions(command, { batch: true }).addOption(jsonOption());
  command.addHelpText(
    'after',
    '\nExit status: 0 when every image passed or was rejected with THRESHOLD_CONFIDENCE_NOT_MET (the filter doing its job),\n1 when an image failed otherwise (ImageNotFound, an endpoint error, ...), 2 on a bad command line.',
  );
  return command.action(async (keys: string[], options: RunOptions) => {
    // Loaded on use: the workflow engine, the SDK clients and the local stack cost nothing to other commands.
    const { run } = await import('./run-run.js');
    process.exitCode = await run(keys, options, command);
  });
}
