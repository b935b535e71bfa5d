import { Command, InvalidArgumentError, Option } from 'commander';
import { integer, jsonOption, targetOption } from '../cli/options';
import { dataDirOption } from '../cli/stack-options';

export interface FunctionsOptions {
  target: 'local' | 'aws';
  dataDir: string;
  region?: string;
  json?: boolean;
}

export interface FunctionsDeployOptions extends FunctionsOptions {
  runtime: string;
  handler: string;
  env: Record<string, string>;
  timeout?: number;
  memory?: number;
  roleArn?: string;
}

export interface FunctionsInvokeOptions extends FunctionsOptions {
  payload: string;
}

/** `--env K=V`, repeatable. */
function environmentEntry(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected KEY=VALUE, got ${JSON.stringify(value)}`);
  const key = value.slice(0, eq);
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(key)) throw new InvalidArgumentError(`${JSON.stringify(key)} is not an environment variable name (letters, digits, _; starting with a letter)`);
  return { ...previous, [key]: value.slice(eq + 1) };
}

const common = (command: Command) =>
  command.addOption(targetOption()).addOption(dataDirOption()).addOption(new Option('--region <region>', 'aws: region (default: the SDK configuration)')).addOption(jsonOption());

/** `scones functions`: your own Lambda functions (e.g. the course's lambda.py) on the local stack, or on AWS. */
export function functionsCommand(): Command {
  const functions = new Command('functions').description("your own Lambda functions (Python or Node.js) on the local stack, e.g. the course's lambda.py, for `scones run --definition`");
  functions.addCommand(
    common(
      new Command('deploy')
        .description('create or update a function from a directory or a .zip (CreateFunction / UpdateFunctionCode / UpdateFunctionConfiguration)')
        .argument('<name>', 'function name')
        .argument('<code>', 'a directory (zipped with its files at the root) or a .zip deployment package')
        .requiredOption('--runtime <runtime>', 'e.g. python3.12, nodejs22.x')
        .requiredOption('--handler <handler>', 'e.g. lambda_function.lambda_handler (Python) or index.handler (Node.js)')
        .addOption(new Option('--env <KEY=VALUE>', 'an environment variable of the function (repeatable)').argParser(environmentEntry).default({}, 'none'))
        .addOption(new Option('--timeout <seconds>', 'function timeout (default: 3, as Lambda)').argParser(integer(1, 900)))
        .addOption(new Option('--memory <MB>', 'memory size (recorded locally)').argParser(integer(128, 10_240)))
        .addOption(new Option('--role-arn <arn>', 'execution role (required with --target aws; any locally)')),
    ).action(async (name: string, code: string, options: FunctionsDeployOptions) => {
      const { deployFunction } = await import('./functions-run.js');
      process.exitCode = await deployFunction(name, code, options);
    }),
  );
  functions.addCommand(
    common(
      new Command('invoke')
        .description('invoke a function once (RequestResponse) and print its result; exit 1 when the function raised an error')
        .argument('<name>', 'function name or ARN')
        .addOption(new Option('--payload <json|@file>', 'the event: JSON text, or @path to a JSON file').default('{}')),
    ).action(async (name: string, options: FunctionsInvokeOptions) => {
      const { invokeFunction } = await import('./functions-run.js');
      process.exitCode = await invokeFunction(name, options);
    }),
  );
  functions.addCommand(
    common(new Command('list').description('list the functions')).action(async (options: FunctionsOptions) => {
      const { listFunctions } = await import('./functions-run.js');
      process.exitCode = await listFunctions(options);
    }),
  );
  functions.addCommand(
    common(new Command('delete').description('delete a function').argument('<name>', 'function name')).action(async (name: string, options: FunctionsOptions) => {
      const { deleteFunction } = await import('./functions-run.js');
      process.exitCode = await deleteFunction(name, options);
    }),
  );
  return functions;
}
