import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createProgram } from './program';

const run = promisify(execFile);
const launcher = join(__dirname, '../../../tools/scones.js');

async function scones(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [launcher, ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('scones command line', () => {
  const program = createProgram();
  const names = program.commands.map((c) => c.name());

  it('has a description for every command', () => {
    expect(names.length).toBeGreaterThan(0);
    for (const command of program.commands) expect(command.description()).not.toBe('');
  });

  it.each(names)('`scones %s --help` exits 0 and shows usage', async (name) => {
    const { code, stdout } = await scones([name, '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain(`Usage: scones ${name}`);
  });

  it('exits 2 with a message on an unknown option', async () => {
    const { code, stderr } = await scones([names[0], '--no-such-option']);
    expect(code).toBe(2);
    expect(stderr).toContain("unknown option '--no-such-option'");
  });

  it('exits 2 on an unknown command', async () => {
    const { code } = await scones(['no-such-command']);
    expect(code).toBe(2);
  });
});
