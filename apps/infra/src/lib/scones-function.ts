import { join } from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, LoggingFormat, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { readLambdaBuild } from './workspace';

/** The runtime the handlers are built and tested for (esbuild target node22 in their project.json). */
export const LAMBDA_RUNTIME = Runtime.NODEJS_22_X;

export interface SconesFunctionProps {
  /** The workspace root (where nx.json and package-lock.json are). */
  workspaceRoot: string;
  /** The Nx app whose handler this is, e.g. `serialize-lambda`. */
  project: string;
  /** Physical function name (the local stack holds the function under the same name). */
  functionName?: string;
  /** Entry file relative to the workspace, when it is not the project's build `main`. */
  entry?: string;
  description: string;
  memorySize: number;
  timeout: Duration;
  environment?: Record<string, string>;
  logRetention: RetentionDays;
  logRemovalPolicy: RemovalPolicy;
  /** Files (relative to the workspace) copied next to the bundled handler, e.g. wasm binaries it loads at run time. */
  copyFiles?: string[];
}

/**
 * One Lambda function built from a workspace app's handler (`export const handler`): bundled by the
 * local esbuild with the app's own build options (never Docker), arm64, JSON logs to its own log
 * group, and a role of its own that may write to that log group and nothing else until the caller
 * grants more. (The AWS managed AWSLambdaBasicExecutionRole would allow writing to every log group.)
 */
export class SconesFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: SconesFunctionProps) {
    super(scope, id);
    const build = readLambdaBuild(props.workspaceRoot, props.project, props.entry);
    this.logGroup = new LogGroup(this, 'Logs', { retention: props.logRetention, removalPolicy: props.logRemovalPolicy });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.project}: writes its own logs, plus what the stack grants`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry: build.entry,
      handler: 'handler',
      ...(props.functionName ? { functionName: props.functionName } : {}),
      description: props.description,
      runtime: LAMBDA_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      environment: {
        ...props.environment,
        ...(build.sourceMap ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
      },
      projectRoot: props.workspaceRoot,
      depsLockFilePath: join(props.workspaceRoot, 'package-lock.json'),
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.CJS,
        target: build.target,
        minify: build.minify,
        sourceMap: build.sourceMap,
        externalModules: build.external,
        tsconfig: build.tsconfig,
        esbuildArgs: Object.fromEntries(Object.entries(build.alias).map(([name, target]) => [`--alias:${name}`, target])),
        ...(props.copyFiles?.length
          ? {
              commandHooks: {
                beforeBundling: () => [],
                beforeInstall: () => [],
                afterBundling: (_inputDir: string, outputDir: string) => (props.copyFiles ?? []).map((file) => `cp "${join(props.workspaceRoot, file)}" "${outputDir}/"`),
              },
            }
          : {}),
      },
    });
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason: `${LAMBDA_RUNTIME.name} is the runtime the handlers are built for (esbuild target in their project.json) and tested on; a newer runtime is a deliberate change of the apps, made together with their build target.`,
    });
  }
}
