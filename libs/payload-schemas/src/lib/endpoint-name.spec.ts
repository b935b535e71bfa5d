import { endpointNameSchema } from './endpoint-name';

describe('endpointNameSchema', () => {
  it("enforces SageMaker's endpoint name rule (no path tricks)", () => {
    for (const bad of ['../x', '-a', 'a-', 'a_b', 'x'.repeat(64), '']) expect(endpointNameSchema.safeParse(bad).success).toBe(false);
    for (const good of ['a', 'scones-1', 'A--b', 'x'.repeat(63)]) expect(endpointNameSchema.safeParse(good).success).toBe(true);
  });
});
