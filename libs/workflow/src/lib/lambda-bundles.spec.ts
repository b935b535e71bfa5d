import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LambdaBundleError } from '../errors';
import { checkLambdaBundle, lambdaBundleFile, loadLambdaHandlers } from './lambda-bundles';

describe('Lambda bundles', () => {
  let root: string;
  let bundle: string;
  let source: string;
  const at = (seconds: number) => new Date(1_700_000_000_000 + seconds * 1000);

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'workflow-bundles-'));
    bundle = lambdaBundleFile(join(root, 'dist/apps'), 'filter-lambda');
    source = join(root, 'apps/filter-lambda/src/main.ts');
    await mkdir(join(root, 'dist/apps/filter-lambda'), { recursive: true });
    await mkdir(join(root, 'apps/filter-lambda/src'), { recursive: true });
    await writeFile(source, 'export const handler = 1;');
    await writeFile(bundle, 'exports.handler = async (event) => ({ echoed: event });');
    // esbuild writes sources relative to the map's directory.
    await writeFile(`${bundle}.map`, JSON.stringify({ version: 3, sources: ['../../../apps/filter-lambda/src/main.ts'], mappings: '' }));
    await utimes(source, at(0), at(0));
    await utimes(bundle, at(10), at(10));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('lays bundles out like dist/apps', () => {
    expect(lambdaBundleFile('/w/dist/apps', 'filter-lambda')).toBe('/w/dist/apps/filter-lambda/main.js');
  });

  it('is fresh when no source changed since the build', async () => {
    expect(await checkLambdaBundle(bundle)).toEqual({ file: bundle, fresh: true });
  });

  it('is stale when a source listed in its source map changed, naming the file', async () => {
    await utimes(source, at(20), at(20));
    const freshness = await checkLambdaBundle(bundle);
    expect(freshness.fresh).toBe(false);
    expect(freshness.reason).toMatch(/apps\/filter-lambda\/src\/main\.ts changed since the bundle was built$/);
  });

  it('is stale when an extra input (project.json) changed or a source is gone', async () => {
    const projectJson = join(root, 'apps/filter-lambda/project.json');
    await writeFile(projectJson, '{}');
    await utimes(projectJson, at(30), at(30));
    expect((await checkLambdaBundle(bundle, [projectJson])).reason).toMatch(/project\.json changed/);
    await rm(source);
    expect((await checkLambdaBundle(bundle)).reason).toMatch(/main\.ts no longer exists/);
  });

  it('is stale when not built or without a readable source map', async () => {
    expect(await checkLambdaBundle(join(root, 'dist/apps/none/main.js'))).toMatchObject({ fresh: false, reason: 'not built yet' });
    await writeFile(`${bundle}.map`, 'not json');
    expect((await checkLambdaBundle(bundle)).reason).toMatch(/source map .* cannot be read/);
  });

  it('loads the handler of each bundle by function name', async () => {
    const handlers = loadLambdaHandlers({ 'filter-lambda': bundle });
    await expect(handlers['filter-lambda']({ a: 1 }, {} as never)).resolves.toEqual({ echoed: { a: 1 } });
  });

  it('names the function and file of a bundle without a handler or that cannot load', async () => {
    const noHandler = join(root, 'no-handler.js');
    await writeFile(noHandler, 'exports.other = 1;');
    expect(() => loadLambdaHandlers({ f: noHandler })).toThrow(new LambdaBundleError(`f: ${noHandler} exports no handler function`));
    const broken = join(root, 'broken.js');
    await writeFile(broken, 'this is not javascript');
    expect(() => loadLambdaHandlers({ g: broken })).toThrow(/^g: cannot load .*broken\.js: /);
  });
});
