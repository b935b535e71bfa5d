import { endpointNameSchema, endpointRegistrationSchema } from './endpoint-registration';
import { parseOrThrow } from './parse';

const entry = {
  name: 'scones-endpoint',
  url: 'http://127.0.0.1:8080',
  port: 8080,
  pid: 1234,
  model: 's3://scones/models/job-1/',
  captureDestination: 's3://scones/data_capture',
  startedAt: '2026-01-02T03:04:05.000Z',
};

describe('endpointRegistrationSchema', () => {
  it('accepts a registry entry, with or without capture', () => {
    expect(parseOrThrow(endpointRegistrationSchema, entry, 'endpoint entry')).toEqual(entry);
    expect(parseOrThrow(endpointRegistrationSchema, { ...entry, captureDestination: null }, 'endpoint entry').captureDestination).toBeNull();
  });

  it('names every wrong field', () => {
    expect(() => parseOrThrow(endpointRegistrationSchema, { ...entry, url: 'ftp://x', port: 0, pid: undefined }, 'endpoint entry')).toThrow(
      'endpoint entry: url: expected an http(s) URL; port: expected a port 1-65535; pid: is required (expected a process id)',
    );
  });

  it("enforces SageMaker's endpoint name rule (no path tricks)", () => {
    for (const bad of ['../x', '-a', 'a-', 'a_b', 'x'.repeat(64), '']) expect(endpointNameSchema.safeParse(bad).success).toBe(false);
    for (const good of ['a', 'scones-1', 'A--b', 'x'.repeat(63)]) expect(endpointNameSchema.safeParse(good).success).toBe(true);
  });
});
