export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export type LogFields = Record<string, unknown>;

/** Structured logger: one JSON object per line. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export interface JsonLoggerOptions {
  /** Lowest level written. Default `info`, or `SCONES_LOG_LEVEL`. */
  level?: LogLevel;
  /** Where each line goes. Default: standard error (stdout is for results in the CLI). */
  write?: (line: string) => void;
  /** Fields added to every line, e.g. `{ service: 'model-server', endpoint: 'scones' }`. */
  base?: LogFields;
  /** Clock, for tests. */
  now?: () => Date;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export function parseLogLevel(value: string | undefined, fallback: LogLevel = 'info'): LogLevel {
  const v = value?.trim().toLowerCase();
  return v && v in RANK ? (v as LogLevel) : fallback;
}

/** Errors do not serialize with JSON.stringify; this keeps their name, message and code. */
function serializable(value: unknown): unknown {
  if (value instanceof Error) {
    const { code } = value as Error & { code?: unknown };
    return { name: value.name, message: value.message, ...(code === undefined ? {} : { code }) };
  }
  return value;
}

/**
 * A logger writing one JSON line per call: `{"time","level","message",...base,...fields}`.
 * Levels below `level` cost one comparison.
 */
export function createJsonLogger(options: JsonLoggerOptions = {}): Logger {
  const threshold = RANK[options.level ?? parseLogLevel(process.env.SCONES_LOG_LEVEL)];
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const now = options.now ?? (() => new Date());
  const base = options.base ?? {};
  const log = (level: Exclude<LogLevel, 'silent'>) => (message: string, fields?: LogFields) => {
    if (RANK[level] < threshold) return;
    const entry: LogFields = { time: now().toISOString(), level, message, ...base };
    if (fields) for (const [key, value] of Object.entries(fields)) entry[key] = serializable(value);
    write(JSON.stringify(entry));
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

/** A logger that drops everything. */
export const silentLogger: Logger = createJsonLogger({ level: 'silent', write: () => undefined });
