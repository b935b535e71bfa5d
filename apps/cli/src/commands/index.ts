import type { Command } from 'commander';
import { demoCommand } from './demo';
import { stageCommand } from './stage';
import { trainCommand } from './train';
import { reportCommand } from './report';
import { deployCommand } from './deploy';
import { invokeCommand } from './invoke';
import { runWorkflowCommand } from './run';
import { loadCommand } from './load';

/** Every `scones` subcommand, in the order of the workflow. */
export const commands: Array<() => Command> = [demoCommand, stageCommand, trainCommand, deployCommand, invokeCommand, runWorkflowCommand, loadCommand, reportCommand];
