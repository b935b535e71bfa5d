import { Command, Option } from 'commander';
import { DEFAULT_CLASS_LIST, PRESET_EPOCHS } from '../cli/library-defaults';
import { bucketOption, dataPrefixOption, integer, jsonOption, targetOption, stackBucketOption } from '../cli/options';
import { dataDirOption } from '../cli/stack-options';

export interface TrainOptions {
  target: 'local' | 'aws';
  data?: string;
  out?: string;
  bucket: string;
  stack?: string;
  dataDir: string;
  dataPrefix: string;
  jobName?: string;
  classes: string;
  epochs?: number;
  seed: number;
  quick?: boolean;
  roleArn?: string;
  region?: string;
  instanceType: string;
  json?: boolean;
}

/** `scones train`: train the classifier locally (or as a SageMaker training job with --target aws). */
export function trainCommand(): Command {
  const command = new Command('train')
    .description('train the image classifier as a training job (CreateTrainingJob) on the local stack, or on SageMaker with --target aws; the model artifact is models/<job>/output/model.tar.gz')
    .addOption(targetOption())
    .addOption(new Option('--data <dir>', 'with --out: train in this process from <dir>/data/train.lst, data/train/ (and data/test), written by `scones stage --out <dir>`, without the stack'))
    .addOption(new Option('--out <dir>', 'with --data: write the model artifact to this directory'))
    .addOption(bucketOption())
    .addOption(stackBucketOption())
    .addOption(dataDirOption())
    .addOption(dataPrefixOption())
    .addOption(new Option('--job-name <name>', 'training job name (default: scones-image-classification-<timestamp>)'))
    .addOption(new Option('--classes <names>', 'comma-separated class names; label i of the .lst files is the i-th name').default(DEFAULT_CLASS_LIST))
    .addOption(new Option('--epochs <n>', `training epochs (default: ${PRESET_EPOCHS.full}; --quick: ${PRESET_EPOCHS.quick}; aws: the original 30)`).argParser(integer(1, 1000)))
    .addOption(new Option('--seed <n>', 'random seed of the split, initialisation and augmentation').argParser(integer(0, 2 ** 31 - 1)).default(42))
    .addOption(new Option('--quick', "the local trainer's small, fast configuration for smoke runs and CI"))
    .addOption(new Option('--role-arn <arn>', 'IAM role for the SageMaker training job (--target aws)').env('SCONES_SAGEMAKER_ROLE_ARN'))
    .addOption(new Option('--region <region>', 'AWS region (--target aws; default: the SDK configuration)'))
    .addOption(new Option('--instance-type <type>', 'SageMaker training instance (--target aws)').default('ml.p3.2xlarge'))
    .addOption(jsonOption());
  return command.action(async (options: TrainOptions) => {
    // Loaded on use: TensorFlow.js, the SDK clients and the stack cost nothing to other commands.
    const { train } = await import('./train-run.js');
    process.exitCode = await train(options, command);
  });
}

