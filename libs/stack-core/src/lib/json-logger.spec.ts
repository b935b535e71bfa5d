import { createJsonLogger, parseLogLevel } from './json-logger';

describe('createJsonLogger', () => {
  const now = () => new Date(Date.UTC(2026, 0, 1));

  it('writes one JSON line per entry with time, level, message, base fields and serialized errors', () => {
    const lines: string[] = [];
    const logger = createJsonLogger({ level: 'debug', write: (l) => lines.push(l), base: { service: 'model-server' }, now });
    const error = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    logger.warn('write failed', { key: 'a/b', error });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toEqual({
      time: '2026-01-01T00:00:00.000Z',
      level: 'warn',
      message: 'write failed',
      service: 'model-server',
      key: 'a/b',
      error: { name: 'Error', message: 'socket hang up', code: 'ECONNRESET' },
    });
  });

  it('drops entries below its level', () => {
    const lines: string[] = [];
    const logger = createJsonLogger({ level: 'warn', write: (l) => lines.push(l), now });
    logger.debug('d');
    logger.info('i');
    logger.error('e');
    expect(lines.map((l) => JSON.parse(l).level)).toEqual(['error']);
    const silent = createJsonLogger({ level: 'silent', write: (l) => lines.push(l) });
    silent.error('x');
    expect(lines).toHaveLength(1);
  });

  it('parses level names leniently with a fallback', () => {
    expect(parseLogLevel(' DEBUG ')).toBe('debug');
    expect(parseLogLevel('verbose', 'warn')).toBe('warn');
    expect(parseLogLevel(undefined)).toBe('info');
  });
});
