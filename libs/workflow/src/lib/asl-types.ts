/**
 * The part of the Amazon States Language (https://states-language.net/spec.html) the Scones
 * definitions use, typed so a misspelt field fails to compile. Values are plain JSON: a definition
 * is what `JSON.stringify` writes into `workflow.asl.json` and what CDK deploys.
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface AslRetrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: 'FULL' | 'NONE';
}

export interface AslCatcher {
  ErrorEquals: string[];
  Next: string;
  ResultPath?: string | null;
}

/** `Next` or `End: true`, never both. */
type Transition = { Next: string; End?: never } | { End: true; Next?: never };

interface AslStateBase {
  Comment?: string;
  InputPath?: string | null;
  OutputPath?: string | null;
}

export type AslTaskState = AslStateBase &
  Transition & {
    Type: 'Task';
    Resource: string;
    Parameters?: JsonObject;
    ResultSelector?: JsonObject;
    ResultPath?: string | null;
    TimeoutSeconds?: number;
    Retry?: AslRetrier[];
    Catch?: AslCatcher[];
  };

export type AslPassState = AslStateBase &
  Transition & {
    Type: 'Pass';
    Parameters?: JsonObject;
    Result?: JsonValue;
    ResultPath?: string | null;
  };

export type AslParallelState = AslStateBase &
  Transition & {
    Type: 'Parallel';
    Branches: AslStateMachine[];
    ResultSelector?: JsonObject;
    ResultPath?: string | null;
    Retry?: AslRetrier[];
    Catch?: AslCatcher[];
  };

export type AslMapState = AslStateBase &
  Transition & {
    Type: 'Map';
    ItemsPath?: string;
    ItemSelector?: JsonObject;
    ItemProcessor: AslStateMachine & { ProcessorConfig?: { Mode: 'INLINE' } };
    MaxConcurrency?: number;
    ResultSelector?: JsonObject;
    ResultPath?: string | null;
    Retry?: AslRetrier[];
    Catch?: AslCatcher[];
  };

export interface AslChoiceRule {
  Variable: string;
  Next: string;
  IsPresent?: boolean;
  BooleanEquals?: boolean;
  StringEquals?: string;
}

export interface AslChoiceState extends AslStateBase {
  Type: 'Choice';
  Choices: AslChoiceRule[];
  Default?: string;
}

/** A Fail state names its error and cause literally or by a path into its input. */
export interface AslFailState {
  Type: 'Fail';
  Comment?: string;
  Error?: string;
  ErrorPath?: string;
  Cause?: string;
  CausePath?: string;
}

export interface AslSucceedState extends AslStateBase {
  Type: 'Succeed';
}

export type AslState = AslTaskState | AslPassState | AslParallelState | AslMapState | AslChoiceState | AslFailState | AslSucceedState;

/** States and where to start: a whole definition, a Parallel branch or a Map's item processor. */
export interface AslStateMachine {
  Comment?: string;
  StartAt: string;
  States: Record<string, AslState>;
}

/** A complete state machine definition. */
export interface AslDefinition extends AslStateMachine {
  TimeoutSeconds?: number;
}
