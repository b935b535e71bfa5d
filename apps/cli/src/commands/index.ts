import type { Command } from 'commander';
import { demoCommand } from './demo';
import { stageCommand } from './stage';
import { trainCommand } from './train';
import { reportCommand } from './report';
import { deployCommand } from './deploy';
import { invokeCommand } from './invoke';
import { runWorkflowCommand } from './run';
import { loadCommand } from './load';
import { downCommand, envCommand, statusCommand, upCommand } from './up';
import { functionsCommand } from './functions';

/** Every `scones` subcommand: the local stack first, then the workflow in its order. */
export const commands: Array<() => Command> = [
  upCommand,
  downCommand,
  statusCommand,
  envCommand,
  demoCommand,
  stageCommand,
  trainCommand,
  deployCommand,
  invokeCommand,
  functionsCommand,
  runWorkflowCommand,
  loadCommand,
  reportCommand,
];
