import { AwsError } from '@scones/stack-core';
import { copyJson } from './runnable-definition';
import { classifyTaskResource, SUPPORTED_TASK_RESOURCES, type TaskResource } from './task-resources';

// asl-validator is CommonJS (`module.exports = function validator`); loaded when first needed.
type AslValidator = (definition: unknown, options?: { checkArn?: boolean; checkPaths?: boolean }) => {
  isValid: boolean;
  errors: Array<{ 'Error code': string; Message: string; schemaError?: { instancePath?: string } }>;
};
const aslValidator = (): AslValidator => require('asl-validator');

/** One problem of a definition, as Step Functions words them: `CODE: message at /path`. */
export interface DefinitionProblem {
  code: string;
  message: string;
  /** JSON pointer of the field: `/States/Filter/Next`. */
  path: string;
}

/** A Task state of a checked definition, wherever it is nested. */
export interface TaskStateInfo {
  name: string;
  path: string;
  resource: TaskResource;
}

export interface CheckedDefinition {
  definition: Record<string, unknown>;
  tasks: TaskStateInfo[];
}

export interface DefinitionCheckOptions {
  /** The services the stack runs: a Task resource whose service is missing is refused. */
  services: ReadonlySet<string>;
}

const STATE_TYPES = ['Task', 'Pass', 'Choice', 'Wait', 'Succeed', 'Fail', 'Parallel', 'Map'] as const;
type StateType = (typeof STATE_TYPES)[number];

// The fields of each state type in the Amazon States Language (JSONPath and JSONata); anything
// else is refused as Step Functions refuses it. JSONata-only fields are refused separately, by name.
const COMMON_FIELDS = ['Type', 'Comment', 'QueryLanguage'];
const FIELDS: Record<StateType, readonly string[]> = {
  Pass: ['Next', 'End', 'InputPath', 'OutputPath', 'Parameters', 'ResultPath', 'Result', 'Assign', 'Output'],
  Task: ['Next', 'End', 'Resource', 'InputPath', 'OutputPath', 'Parameters', 'ResultSelector', 'ResultPath', 'Retry', 'Catch', 'TimeoutSeconds', 'TimeoutSecondsPath', 'HeartbeatSeconds', 'HeartbeatSecondsPath', 'Credentials', 'Arguments', 'Output', 'Assign'],
  Choice: ['Choices', 'Default', 'InputPath', 'OutputPath', 'Assign', 'Output'],
  Wait: ['Next', 'End', 'InputPath', 'OutputPath', 'Seconds', 'SecondsPath', 'Timestamp', 'TimestampPath', 'Assign', 'Output'],
  Succeed: ['InputPath', 'OutputPath', 'Output'],
  Fail: ['Error', 'ErrorPath', 'Cause', 'CausePath'],
  Parallel: ['Next', 'End', 'Branches', 'InputPath', 'OutputPath', 'Parameters', 'ResultSelector', 'ResultPath', 'Retry', 'Catch', 'Arguments', 'Output', 'Assign'],
  Map: [
    'Next', 'End', 'InputPath', 'OutputPath', 'ItemsPath', 'Items', 'MaxConcurrency', 'MaxConcurrencyPath', 'ItemProcessor', 'Iterator', 'ItemSelector', 'Parameters',
    'ItemReader', 'ItemBatcher', 'ResultWriter', 'ResultSelector', 'ResultPath', 'Retry', 'Catch', 'Label', 'ToleratedFailureCount', 'ToleratedFailureCountPath',
    'ToleratedFailurePercentage', 'ToleratedFailurePercentagePath', 'Arguments', 'Output', 'Assign',
  ],
};
const TOP_FIELDS = ['StartAt', 'States', 'Comment', 'Version', 'TimeoutSeconds', 'QueryLanguage'];
const BRANCH_FIELDS = ['StartAt', 'States', 'Comment', 'QueryLanguage'];
const PROCESSOR_FIELDS = [...BRANCH_FIELDS, 'ProcessorConfig'];

// Why the engine (aws-local-stepfunctions 3.0) cannot run a field: it would accept and ignore it.
const JSONATA = 'JSONata, which the local stack cannot evaluate (its engine, aws-local-stepfunctions 3.0, evaluates JSONPath only); write the state in JSONPath or run it on AWS';
const UNSUPPORTED_FIELDS: Record<string, string> = {
  Arguments: `"Arguments" is a JSONata field: ${JSONATA}`,
  Output: `"Output" is a JSONata field: ${JSONATA}`,
  Items: `"Items" is a JSONata field: ${JSONATA}`,
  Assign: 'workflow variables ("Assign") are not supported by the local stack\'s engine (aws-local-stepfunctions 3.0)',
  ItemReader: 'a distributed Map ("ItemReader") is not supported by the local stack; use an inline Map over an array of the state input',
  ItemBatcher: 'a distributed Map ("ItemBatcher") is not supported by the local stack',
  ResultWriter: 'a distributed Map ("ResultWriter") is not supported by the local stack',
  Label: 'a distributed Map ("Label") is not supported by the local stack',
  ToleratedFailureCount: 'a distributed Map ("ToleratedFailureCount") is not supported by the local stack',
  ToleratedFailureCountPath: 'a distributed Map ("ToleratedFailureCountPath") is not supported by the local stack',
  ToleratedFailurePercentage: 'a distributed Map ("ToleratedFailurePercentage") is not supported by the local stack',
  ToleratedFailurePercentagePath: 'a distributed Map ("ToleratedFailurePercentagePath") is not supported by the local stack',
};
/** Message prefix of problems the stack refuses although Step Functions accepts them. */
export const UNSUPPORTED_BY_LOCAL_STACK = 'UNSUPPORTED_BY_LOCAL_STACK';

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
const pointer = (...parts: string[]) => parts.map((p) => `/${p.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');

/**
 * Checks a definition as CreateStateMachine does, and refuses what the local stack cannot run
 * faithfully. Throws `InvalidDefinition` naming each problem's state and field; returns the
 * parsed definition and its Task states.
 */
export function checkDefinition(text: string, options: DefinitionCheckOptions): CheckedDefinition {
  // asl-validator compiles its JSON schemas on every call (a second or more on a busy machine):
  // the answer for a definition text is kept, so updating with the same definition is quick.
  const key = `${[...options.services].sort().join(',')}\n${text}`;
  const known = checked.get(key);
  if (known) {
    checked.delete(key);
    checked.set(key, known);
    if (known instanceof AwsError) throw known;
    return { definition: copyJson(known.definition), tasks: known.tasks };
  }
  let result: CheckedDefinition | AwsError;
  try {
    result = checkUncached(text, options);
  } catch (error) {
    if (!(error instanceof AwsError)) throw error;
    result = error;
  }
  checked.set(key, result);
  if (checked.size > CHECKED_KEPT) checked.delete(checked.keys().next().value as string);
  if (result instanceof AwsError) throw result;
  return { definition: copyJson(result.definition), tasks: result.tasks };
}

const CHECKED_KEPT = 32;
const checked = new Map<string, CheckedDefinition | AwsError>();

function checkUncached(text: string, options: DefinitionCheckOptions): CheckedDefinition {
  let definition: unknown;
  try {
    definition = JSON.parse(text);
  } catch (error) {
    throw invalidDefinition([{ code: 'INVALID_JSON_DESCRIPTION', message: `the definition is not JSON: ${(error as Error).message}`, path: '/' }]);
  }
  const problems: DefinitionProblem[] = [];
  const tasks: TaskStateInfo[] = [];
  if (!isObject(definition)) {
    throw invalidDefinition([{ code: 'SCHEMA_VALIDATION_FAILED', message: `a state machine definition is a JSON object with "StartAt" and "States", not ${Array.isArray(definition) ? 'an array' : typeof definition === 'string' ? 'a string' : String(definition)}`, path: '/' }]);
  }
  checkMachine(definition, '', TOP_FIELDS, false, options, problems, tasks);
  if (problems.length > 0) throw invalidDefinition(problems);

  // Our own checks found nothing: asl-validator checks the rest (field types, paths, reachability,
  // terminal states). It adds QueryLanguage to every state of what it is given, so it gets a copy.
  const result = aslValidator()(copyJson(definition), { checkArn: true, checkPaths: true });
  if (!result.isValid) throw invalidDefinition(result.errors.map(fromAslValidator).filter((p): p is DefinitionProblem => p !== undefined));
  return { definition, tasks };
}

function checkMachine(
  machine: Record<string, unknown>,
  base: string,
  allowedFields: readonly string[],
  inheritedJsonata: boolean,
  options: DefinitionCheckOptions,
  problems: DefinitionProblem[],
  tasks: TaskStateInfo[],
): void {
  const missing = ['StartAt', 'States'].filter((field) => !(field in machine));
  if (missing.length > 0) {
    problems.push({ code: 'SCHEMA_VALIDATION_FAILED', message: `These fields are required: [${missing.join(', ')}]`, path: base || '/' });
    return;
  }
  for (const field of Object.keys(machine)) {
    if (!allowedFields.includes(field)) problems.push({ code: 'SCHEMA_VALIDATION_FAILED', message: `The field "${field}" is not supported by Step Functions`, path: base || '/' });
  }
  const states = machine.States;
  if (!isObject(states) || Object.keys(states).length === 0) {
    problems.push({ code: 'SCHEMA_VALIDATION_FAILED', message: '"States" must be an object with at least one state', path: `${base}/States` });
    return;
  }
  if (typeof machine.StartAt !== 'string') {
    problems.push({ code: 'SCHEMA_VALIDATION_FAILED', message: '"StartAt" must be the name of a state', path: `${base}/StartAt` });
  } else if (!Object.hasOwn(states, machine.StartAt)) {
    problems.push({ code: 'MISSING_TRANSITION_TARGET', message: `Missing 'StartAt' target: ${machine.StartAt}`, path: `${base}/StartAt` });
  }
  if (machine.QueryLanguage !== undefined && machine.QueryLanguage !== 'JSONPath' && machine.QueryLanguage !== 'JSONata') {
    problems.push({ code: 'SCHEMA_VALIDATION_FAILED', message: `"QueryLanguage" must be "JSONPath" or "JSONata", not ${JSON.stringify(machine.QueryLanguage)}`, path: `${base}/QueryLanguage` });
  }
  if (machine.QueryLanguage === 'JSONata' && !inheritedJsonata) {
    const first = Object.entries(states).find(([, state]) => !isObject(state) || state.QueryLanguage !== 'JSONPath')?.[0];
    const who = first === undefined ? 'its states' : `state "${first}" and every state that does not set "QueryLanguage": "JSONPath"`;
    problems.push({ code: UNSUPPORTED_BY_LOCAL_STACK, message: `"QueryLanguage": "JSONata" makes ${who} use ${JSONATA}`, path: `${base}/QueryLanguage` });
  }
  const machineJsonata = inheritedJsonata || machine.QueryLanguage === 'JSONata';
  for (const [name, state] of Object.entries(states)) {
    const path = `${base}${pointer('States', name)}`;
    if (!isObject(state)) {
      problems.push({ code: 'SCHEMA_VALIDATION_FAILED', message: `State "${name}" must be an object`, path });
      continue;
    }
    checkState(name, state, path, states, machineJsonata, options, problems, tasks);
  }
}

function checkState(
  name: string,
  state: Record<string, unknown>,
  path: string,
  siblings: Record<string, unknown>,
  machineJsonata: boolean,
  options: DefinitionCheckOptions,
  problems: DefinitionProblem[],
  tasks: TaskStateInfo[],
): void {
  const type = state.Type;
  if (!STATE_TYPES.includes(type as StateType)) {
    problems.push({ code: 'SCHEMA_VALIDATION_FAILED', message: `State "${name}": "Type" must be one of ${STATE_TYPES.join(', ')}, not ${JSON.stringify(type)}`, path: `${path}/Type` });
    return;
  }
  const stateType = type as StateType;
  const unsupported = (field: string, why: string) => problems.push({ code: UNSUPPORTED_BY_LOCAL_STACK, message: `State "${name}": ${why}`, path: `${path}/${field}` });

  // A JSONata state machine is refused once, at its QueryLanguage; here a state that opts in itself.
  if (state.QueryLanguage === 'JSONata' && !machineJsonata) unsupported('QueryLanguage', `sets "QueryLanguage": "JSONata": ${JSONATA}`);
  for (const field of Object.keys(state)) {
    if (!COMMON_FIELDS.includes(field) && !FIELDS[stateType].includes(field)) {
      problems.push({ code: 'SCHEMA_VALIDATION_FAILED', message: `State "${name}": the field "${field}" is not supported by Step Functions for a ${stateType} state`, path: `${path}/${field}` });
    } else if (Object.hasOwn(UNSUPPORTED_FIELDS, field)) {
      unsupported(field, UNSUPPORTED_FIELDS[field]);
    }
  }
  const target = (field: string, value: unknown, where: string) => {
    if (typeof value !== 'string') return;
    if (!Object.hasOwn(siblings, value)) problems.push({ code: 'MISSING_TRANSITION_TARGET', message: `State "${name}": Missing '${field}' target: ${value}`, path: where });
  };
  target('Next', state.Next, `${path}/Next`);
  if (stateType === 'Choice') {
    target('Default', state.Default, `${path}/Default`);
    if (Array.isArray(state.Choices)) {
      state.Choices.forEach((rule, i) => {
        if (!isObject(rule)) return;
        target('Next', rule.Next, `${path}/Choices/${i}/Next`);
        if ('Condition' in rule) unsupported(`Choices/${i}/Condition`, `a Choice rule with "Condition" is JSONata: ${JSONATA}`);
      });
    }
  }
  if (Array.isArray(state.Catch)) {
    state.Catch.forEach((catcher, i) => {
      if (isObject(catcher)) target('Next', catcher.Next, `${path}/Catch/${i}/Next`);
    });
  }
  const variable = findVariableReference(state);
  if (variable) unsupported(variable.field, `${variable.reference} refers to a workflow variable; variables ("Assign") are not supported by the local stack's engine (aws-local-stepfunctions 3.0)`);

  if (stateType === 'Task') {
    if (typeof state.Resource !== 'string') {
      problems.push({ code: 'SCHEMA_VALIDATION_FAILED', message: `State "${name}": a Task state needs "Resource", a string`, path: `${path}/Resource` });
    } else {
      const resource = classifyTaskResource(state.Resource);
      if ('unsupported' in resource) {
        unsupported('Resource', `${resource.unsupported}; the stack serves ${SUPPORTED_TASK_RESOURCES.join(', ')}`);
      } else if (!options.services.has(resource.service)) {
        unsupported('Resource', `${state.Resource} needs the stack's ${resource.service} service, and this stack runs without it (services: ${[...options.services].sort().join(', ')})`);
      } else {
        for (const required of REQUIRED_PARAMETERS[resource.kind]) {
          const parameters = isObject(state.Parameters) ? state.Parameters : {};
          if (!required.some((field) => field in parameters || `${field}.$` in parameters)) {
            problems.push({ code: 'SCHEMA_VALIDATION_FAILED', message: `State "${name}": the field "${required[0]}" is required but was missing (${state.Resource} needs ${required.join(' or ')} in Parameters)`, path: `${path}/Parameters` });
          }
        }
        tasks.push({ name, path, resource });
      }
    }
  } else if (stateType === 'Parallel') {
    if (!Array.isArray(state.Branches) || state.Branches.length === 0) {
      problems.push({ code: 'SCHEMA_VALIDATION_FAILED', message: `State "${name}": a Parallel state needs "Branches", a non-empty array of state machines`, path: `${path}/Branches` });
    } else {
      state.Branches.forEach((branch, i) => {
        if (isObject(branch)) checkMachine(branch, `${path}/Branches/${i}`, BRANCH_FIELDS, machineJsonata, options, problems, tasks);
        else problems.push({ code: 'SCHEMA_VALIDATION_FAILED', message: `State "${name}": each branch must be a state machine object`, path: `${path}/Branches/${i}` });
      });
    }
  } else if (stateType === 'Map') {
    const field = 'ItemProcessor' in state ? 'ItemProcessor' : 'Iterator';
    const processor = state[field];
    if (!isObject(processor)) {
      problems.push({ code: 'SCHEMA_VALIDATION_FAILED', message: `State "${name}": a Map state needs "ItemProcessor" (or "Iterator"), a state machine object`, path: `${path}/${field}` });
    } else {
      const config = processor.ProcessorConfig;
      if (isObject(config) && config.Mode === 'DISTRIBUTED') {
        unsupported(`${field}/ProcessorConfig/Mode`, 'a distributed Map ("Mode": "DISTRIBUTED") is not supported by the local stack; use "Mode": "INLINE"');
      }
      checkMachine(processor, `${path}/${field}`, field === 'ItemProcessor' ? PROCESSOR_FIELDS : BRANCH_FIELDS, machineJsonata, options, problems, tasks);
    }
  }
}

/** Parameters each integration cannot do without (Step Functions checks them at creation too). */
const REQUIRED_PARAMETERS: Record<TaskResource['kind'], string[][]> = {
  'lambda-invoke': [['FunctionName']],
  'lambda-function': [],
  'sns-publish': [['TopicArn', 'TargetArn'], ['Message']],
  's3-list-objects-v2': [['Bucket']],
};

// JSONPath variable references (`$name`, `$name.field`) need Assign; `$`, `$.x`, `$$`, `$[0]` do not.
const VARIABLE = /^\$[A-Za-z_][\w]*/;
const PATH_FIELDS = ['InputPath', 'OutputPath', 'ResultPath', 'ItemsPath', 'SecondsPath', 'TimestampPath', 'TimeoutSecondsPath', 'HeartbeatSecondsPath', 'MaxConcurrencyPath', 'ErrorPath', 'CausePath'];

function findVariableReference(state: Record<string, unknown>): { field: string; reference: string } | undefined {
  for (const field of PATH_FIELDS) {
    const value = state[field];
    if (typeof value === 'string' && VARIABLE.test(value)) return { field, reference: value };
  }
  for (const field of ['Parameters', 'ResultSelector', 'ItemSelector']) {
    const found = templateVariable(state[field], field);
    if (found) return found;
  }
  if (Array.isArray(state.Choices)) {
    for (const [i, rule] of state.Choices.entries()) {
      const found = choiceVariable(rule, `Choices/${i}`);
      if (found) return found;
    }
  }
  return undefined;
}

function templateVariable(template: unknown, at: string): { field: string; reference: string } | undefined {
  if (Array.isArray(template)) {
    for (const [i, item] of template.entries()) {
      const found = templateVariable(item, `${at}/${i}`);
      if (found) return found;
    }
  } else if (isObject(template)) {
    for (const [key, value] of Object.entries(template)) {
      if (key.endsWith('.$') && typeof value === 'string' && VARIABLE.test(value)) return { field: `${at}/${key}`, reference: value };
      const found = templateVariable(value, `${at}/${key}`);
      if (found) return found;
    }
  }
  return undefined;
}

function choiceVariable(rule: unknown, at: string): { field: string; reference: string } | undefined {
  if (!isObject(rule)) return undefined;
  for (const [key, value] of Object.entries(rule)) {
    if ((key === 'Variable' || key.endsWith('Path')) && typeof value === 'string' && VARIABLE.test(value)) return { field: `${at}/${key}`, reference: value };
    if (key === 'And' || key === 'Or') {
      for (const [i, inner] of (Array.isArray(value) ? value : []).entries()) {
        const found = choiceVariable(inner, `${at}/${key}/${i}`);
        if (found) return found;
      }
    }
    if (key === 'Not') {
      const found = choiceVariable(value, `${at}/Not`);
      if (found) return found;
    }
  }
  return undefined;
}

/** asl-validator's `"/States/A/Type is invalid. must …"` in Step Functions' wording. */
function fromAslValidator(error: { 'Error code': string; Message: string; schemaError?: { instancePath?: string } }): DefinitionProblem | undefined {
  const path = error.schemaError?.instancePath;
  // It writes a QueryLanguage into every state it checks: a complaint about that field is its own artefact.
  if (path?.endsWith('/QueryLanguage')) return undefined;
  if (path !== undefined) {
    const message = error.Message.startsWith(`${path} is invalid. `) ? error.Message.slice(path.length + ' is invalid. '.length) : error.Message;
    return { code: error['Error code'], message: `${stateOf(path)}${message}`, path: path || '/' };
  }
  return { code: error['Error code'], message: error.Message, path: '/' };
}

/** `State "Filter": ` for a path inside a state, naming the innermost state. */
function stateOf(path: string): string {
  const match = /.*\/States\/([^/]+)/.exec(path);
  return match ? `State "${match[1].replace(/~1/g, '/').replace(/~0/g, '~')}": ` : '';
}

/** `InvalidDefinition` as Step Functions words it: `Invalid State Machine Definition: 'CODE: message at /path', …`. */
export function invalidDefinition(problems: DefinitionProblem[]): AwsError {
  const listed = problems.map((p) => `'${p.code}: ${p.message} at ${p.path}'`).join(', ');
  return new AwsError('InvalidDefinition', `Invalid State Machine Definition: ${listed}`, 400);
}
