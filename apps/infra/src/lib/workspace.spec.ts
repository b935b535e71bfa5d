import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InfraConfigError } from '../errors';
import { findWorkspaceRoot, readLambdaBuild } from './workspace';

describe('readLambdaBuild', () => {
  const root = findWorkspaceRoot();

  it("bundles a Lambda app with its own project.json build options (nx build's)", () => {
    expect(readLambdaBuild(root, 'serialize-lambda')).toEqual({
      entry: join(root, 'apps/serialize-lambda/src/main.ts'),
      tsconfig: join(root, 'apps/serialize-lambda/tsconfig.app.json'),
      target: 'node22',
      minify: true,
      sourceMap: true,
      external: ['@aws-sdk/*'],
      alias: {},
    });
  });

  describe('in a broken workspace', () => {
    let dir: string;
    const project = (name: string, options: object) => {
      mkdirSync(join(dir, 'apps', name, 'src'), { recursive: true });
      writeFileSync(join(dir, 'apps', name, 'project.json'), JSON.stringify({ targets: { build: { options } } }));
    };
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'scones-infra-workspace-'));
      writeFileSync(join(dir, 'nx.json'), '{}');
      project('no-main', { tsConfig: 'x.json' });
      project('no-deps', { main: 'apps/no-deps/src/main.ts', tsConfig: 'x.json', thirdParty: false });
      project('no-entry', { main: 'apps/no-entry/src/main.ts', tsConfig: 'x.json' });
      project('aliased', { main: 'apps/aliased/src/main.ts', tsConfig: 'x.json', esbuildOptions: { alias: { canvas: './node_modules/canvas/browser.js', fs: 'memfs' } } });
      writeFileSync(join(dir, 'apps/aliased/src/main.ts'), 'export const handler = 1;');
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('names the missing app, option or entry file', () => {
      expect(() => readLambdaBuild(dir, 'missing')).toThrow(new InfraConfigError('apps/missing/project.json not found: the Lambda app missing is missing'));
      expect(() => readLambdaBuild(dir, 'no-main')).toThrow('apps/no-main/project.json: targets.build.options needs "main" and "tsConfig"');
      expect(() => readLambdaBuild(dir, 'no-deps')).toThrow('a Lambda bundle must include its npm packages ("thirdParty": true)');
      expect(() => readLambdaBuild(dir, 'no-entry')).toThrow(`${join(dir, 'apps/no-entry/src/main.ts')}: the handler entry of no-entry does not exist`);
    });

    it('resolves relative esbuild aliases against the workspace root', () => {
      expect(readLambdaBuild(dir, 'aliased').alias).toEqual({ canvas: join(dir, 'node_modules/canvas/browser.js'), fs: 'memfs' });
    });

    it('finds the workspace root above a directory, and says so when there is none', () => {
      expect(findWorkspaceRoot(join(dir, 'apps/aliased/src'))).toBe(dir);
      expect(() => findWorkspaceRoot(tmpdir())).toThrow('no nx.json in');
    });
  });
});
