import { Command, Option } from 'commander';
import { decimal, duration, jsonOption } from '../cli/options';
import { dataDirOption } from '../cli/stack-options';

export interface DemoOptions {
  source?: string;
  quick?: boolean;
  restage?: boolean;
  retrain?: boolean;
  endpoint: string;
  dataDir: string;
  download?: boolean;
  rate: number;
  streamDuration: number;
  /** Default: {@link defaultReportsDir} of the data directory. */
  out?: string;
  json?: boolean;
}

/** `scones demo`: the whole workflow end to end (what `npm start` runs). */
export function demoCommand(): Command {
  const command = new Command('demo')
    .description('run the whole workflow on the local stack: stage, train (a training job), deploy with data capture, run the state machine (batch and a stream), monitoring report')
    .addOption(new Option('--source <path>', 'cifar-100-python.tar.gz to stage from (default: the bicycle/motorcycle rows shipped in the repository)').env('SCONES_CIFAR_SOURCE'))
    .addOption(new Option('--download', 'stage from the full CIFAR-100 archive (161 MB, downloaded once, md5-checked, cached)').conflicts('source'))
    .addOption(new Option('--quick', 'a fast smoke run: the quick training preset (about 20 s) and a 3 s stream'))
    .addOption(new Option('--restage', 'stage the data again even if it is already in the local S3'))
    .addOption(new Option('--retrain', 'train again even if a model of this preset exists'))
    .addOption(new Option('--endpoint <name>', 'name of the local endpoint').default('scones-demo'))
    .addOption(new Option('--rate <per-second>', 'executions per second of the stream').argParser(decimal(0.1, 1000)).default(20))
    .addOption(new Option('--stream-duration <duration>', 'how long the stream of single executions runs, e.g. 10s').argParser(duration).default(10_000, '10s'))
    .addOption(new Option('--out <dir>', 'where the monitoring report goes (default: <data-dir>/reports)'))
    .addOption(dataDirOption())
    .addOption(jsonOption());
  command.addHelpText(
    'after',
    '\nA second run reuses the staged data and the newest model of the same preset.\nExit status: 0 when every test image is accounted for and no execution failed otherwise than by the threshold;\n1 when a step failed or an execution failed; 2 on a bad command line; 130 when interrupted (everything started is stopped).',
  );
  return command.action(async (options: DemoOptions) => {
    if (options.quick && command.getOptionValueSource('streamDuration') === 'default') options.streamDuration = 3_000;
    // Loaded on use: the SDK clients and the stack cost nothing to other commands.
    const { demo } = await import('./demo-run.js');
    process.exitCode = await demo(options);
  });
}
