import type { Command } from 'commander';
import { demoCommand } from './demo';

/** Every `scones` subcommand, in the order of the workflow. */
export const commands: Array<() => Command> = [demoCommand];
