import { Logger } from '@aws-lambda-powertools/logger';
import { createFilterHandler } from './lib/filter';

// Created once per container (at cold start) and reused by every invocation.
const logger = new Logger({ serviceName: 'filter-lambda' });

/** The Lambda entry point (runtime nodejs22.x, handler `main.handler`); THRESHOLD is the minimum top-class probability. */
export const handler = createFilterHandler({ logger });
