import { readFile } from 'node:fs/promises';
import { DeleteFunctionCommand, InvokeCommand, ListFunctionsCommand, type FunctionConfiguration } from '@aws-sdk/client-lambda';
import { createLambdaClient, LOCAL_ROLE_ARN } from '@scones/local-cloud';
import { deploymentPackage, putFunction } from '@scones/workflow';
import { UsageError } from '../cli/errors';
import { runCommand } from '../cli/run-command';
import { openTarget } from '../cli/target';
import type { FunctionsDeployOptions, FunctionsInvokeOptions, FunctionsOptions } from './functions';

/** `scones functions deploy <name> <code>`. */
export function deployFunction(name: string, code: string, options: FunctionsDeployOptions): Promise<number> {
  return runCommand('functions deploy', options, async ({ output, signal }) => {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) throw new UsageError(`<name> ${JSON.stringify(name)}: expected 1-64 letters, digits, hyphens and underscores`);
    if (options.target === 'aws' && !options.roleArn) throw new UsageError('--role-arn is required with --target aws: the execution role of the function');
    const zip = await deploymentPackage(code).catch((error: Error) => {
      throw new UsageError(`<code> ${error.message}`);
    });
    const target = await openTarget(options, output);
    const lambda = createLambdaClient(target.target);
    try {
      const result = await putFunction(
        lambda,
        {
          name,
          zip,
          runtime: options.runtime,
          handler: options.handler,
          roleArn: options.roleArn ?? LOCAL_ROLE_ARN,
          environment: options.env,
          ...(options.timeout !== undefined ? { timeoutSeconds: options.timeout } : {}),
          ...(options.memory !== undefined ? { memorySize: options.memory } : {}),
        },
        { signal, onProgress: (message) => output.info(`scones functions: ${message}`) },
      );
      output.result({ ok: true, command: 'functions deploy', target: target.kind, name, ...result, runtime: options.runtime, handler: options.handler, bytes: zip.length }, () =>
        [`function ${name} ${result.action} (${options.runtime}, ${options.handler}, ${zip.length} bytes zipped)`, `arn      ${result.functionArn}`, `try      scones functions invoke ${name} --payload '{}'`].join('\n'),
      );
    } finally {
      lambda.destroy();
      await target.close();
    }
  });
}

/** `scones functions invoke <name>`: exit 1 when the function failed. */
export async function invokeFunction(name: string, options: FunctionsInvokeOptions): Promise<number> {
  let failed = false;
  const code = await runCommand('functions invoke', options, async ({ output, signal }) => {
    let payload = options.payload;
    if (payload.startsWith('@')) {
      payload = await readFile(payload.slice(1), 'utf8').catch((error: NodeJS.ErrnoException) => {
        throw new UsageError(`--payload ${options.payload}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
      });
    }
    try {
      JSON.parse(payload);
    } catch (error) {
      throw new UsageError(`--payload: not JSON (${(error as Error).message})`);
    }
    const target = await openTarget(options, output);
    const lambda = createLambdaClient(target.target);
    try {
      const answer = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from(payload), LogType: 'Tail' }), { abortSignal: signal });
      const text = Buffer.from(answer.Payload ?? []).toString('utf8');
      const logs = answer.LogResult ? Buffer.from(answer.LogResult, 'base64').toString('utf8') : '';
      if (logs.trim()) output.info(logs.trimEnd());
      failed = answer.FunctionError !== undefined;
      let result: unknown = text;
      try {
        result = JSON.parse(text);
      } catch {
        // not JSON: shown as text
      }
      output.result({ ok: !failed, command: 'functions invoke', name, statusCode: answer.StatusCode, functionError: answer.FunctionError ?? null, executedVersion: answer.ExecutedVersion, result }, () =>
        failed ? `function error (${answer.FunctionError}): ${text}` : text,
      );
    } finally {
      lambda.destroy();
      await target.close();
    }
  });
  return code === 0 && failed ? 1 : code;
}

/** `scones functions list`. */
export function listFunctions(options: FunctionsOptions): Promise<number> {
  return runCommand('functions list', options, async ({ output, signal }) => {
    const target = await openTarget(options, output);
    const lambda = createLambdaClient(target.target);
    try {
      const all: FunctionConfiguration[] = [];
      let marker: string | undefined;
      do {
        const page = await lambda.send(new ListFunctionsCommand({ Marker: marker }), { abortSignal: signal });
        all.push(...(page.Functions ?? []));
        marker = page.NextMarker;
      } while (marker);
      output.result(
        { ok: true, command: 'functions list', functions: all.map((f) => ({ name: f.FunctionName, runtime: f.Runtime, handler: f.Handler, state: f.State, lastModified: f.LastModified, arn: f.FunctionArn })) },
        () => (all.length ? all.map((f) => `${f.FunctionName}  ${f.Runtime}  ${f.Handler}  ${f.State ?? ''}`).join('\n') : 'no functions'),
      );
    } finally {
      lambda.destroy();
      await target.close();
    }
  });
}

/** `scones functions delete <name>`. */
export function deleteFunction(name: string, options: FunctionsOptions): Promise<number> {
  return runCommand('functions delete', options, async ({ output, signal }) => {
    const target = await openTarget(options, output);
    const lambda = createLambdaClient(target.target);
    try {
      await lambda.send(new DeleteFunctionCommand({ FunctionName: name }), { abortSignal: signal });
      output.result({ ok: true, command: 'functions delete', name }, () => `deleted function ${name}`);
    } finally {
      lambda.destroy();
      await target.close();
    }
  });
}
