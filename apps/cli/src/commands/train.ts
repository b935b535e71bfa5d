import { Command, Option } from 'commander';
import { DEFAULT_CLASS_LIST, PRESET_EPOCHS } from '../cli/library-defaults';
import { bucketOption, integer, jsonOption, s3DirOption, targetOption, stackBucketOption } from '../cli/options';

export interface TrainOptions {
  target: 'local' | 'aws';
  data?: string;
  out?: string;
  bucket: string;
  stack?: string;
  s3Dir: string;
  jobName?: string;
  classes: string;
  epochs?: number;
  seed: number;
  quick?: boolean;
  threads: boolean;
  roleArn?: string;
  region?: string;
  instanceType: string;
  json?: boolean;
}

/** `scones train`: train the classifier locally (or as a SageMaker training job with --target aws). */
export function trainCommand(): Command {
  const command = new Command('train')
    .description('train the image classifier on the staged data/train channel and write the model artifact to models/<job>/')
    .addOption(targetOption())
    .addOption(new Option('--data <dir>', 'read <dir>/data/train.lst, data/train/ (and data/test) from a directory written by `scones stage --out <dir>`'))
    .addOption(new Option('--out <dir>', 'write the model artifact to this directory instead of s3://<bucket>/models/<job>/'))
    .addOption(bucketOption())
    .addOption(stackBucketOption())
    .addOption(s3DirOption())
    .addOption(new Option('--job-name <name>', 'training job name (default: scones-image-classification-<timestamp>)'))
    .addOption(new Option('--classes <names>', 'comma-separated class names; label i of the .lst files is the i-th name').default(DEFAULT_CLASS_LIST))
    .addOption(new Option('--epochs <n>', `training epochs (default: ${PRESET_EPOCHS.full}; --quick: ${PRESET_EPOCHS.quick}; aws: the original 30)`).argParser(integer(1, 1000)))
    .addOption(new Option('--seed <n>', 'random seed of the split, initialisation and augmentation').argParser(integer(0, 2 ** 31 - 1)).default(42))
    .addOption(new Option('--quick', 'a tiny, fast configuration for smoke runs and CI (not for a real model)'))
    .addOption(new Option('--no-threads', 'run the wasm backend on one thread (default: two threads on multi-core machines)'))
    .addOption(new Option('--role-arn <arn>', 'IAM role for the SageMaker training job (--target aws)').env('SCONES_SAGEMAKER_ROLE_ARN'))
    .addOption(new Option('--region <region>', 'AWS region (--target aws; default: the SDK configuration)'))
    .addOption(new Option('--instance-type <type>', 'SageMaker training instance (--target aws)').default('ml.p3.2xlarge'))
    .addOption(jsonOption());
  return command.action(async (options: TrainOptions) => {
    // Loaded on use: TensorFlow.js, the SDK clients and the embedded S3 cost nothing to other commands.
    const { train } = await import('./train-run.js');
    process.exitCode = await train(options, command);
  });
}

