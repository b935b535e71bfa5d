import { keptTmpDirectories, privateTmpPath } from './node-private-tmp';

describe('privateTmpPath', () => {
  const privateDir = '/data/lambda/tmp/env-1';
  const keep = ['/tmp/stack-data', '/tmp/check'];
  const map = (p: unknown) => privateTmpPath(p, privateDir, keep);

  it('moves /tmp and what is under it into the environment directory', () => {
    expect(map('/tmp')).toBe(privateDir);
    expect(map('/tmp/')).toBe(`${privateDir}/`);
    expect(map('/tmp/image.png')).toBe(`${privateDir}/image.png`);
    expect(map('/tmp/a/../b.png')).toBe(`${privateDir}/b.png`);
    expect(map(Buffer.from('/tmp/image.png'))).toBe(`${privateDir}/image.png`);
    expect(map(new URL('file:///tmp/image%20one.png'))).toBe(`${privateDir}/image one.png`);
  });

  it('leaves everything else as it is', () => {
    for (const path of ['/tmpfile', '/var/tmp/x', 'tmp/x', './x', '/tmp/stack-data', '/tmp/stack-data/fn/index.js', '/tmp/check/node_modules/x.js', 3, undefined]) {
      expect(map(path)).toBe(path);
    }
    const url = new URL('https://example.com/tmp/x');
    expect(map(url)).toBe(url);
    // Leaving /tmp through `..` is not a way back in.
    expect(map('/tmp/../etc/passwd')).toBe('/tmp/../etc/passwd');
    // A kept directory is matched as a whole name, not a prefix of another.
    expect(map('/tmp/stack-data2/x')).toBe(`${privateDir}/stack-data2/x`);
  });
});

describe('keptTmpDirectories', () => {
  it('keeps the directories under /tmp the runtime itself needs, and only those', () => {
    const kept = keptTmpDirectories('/tmp/stack/lambda/tmp/env-1', { SCONES_STACK_DATA_DIR: '/tmp/stack', LAMBDA_TASK_ROOT: '/tmp/stack/lambda/code/fn', NODE_PATH: '/tmp/check/node_modules' });
    expect(kept).toEqual(expect.arrayContaining(['/tmp/stack/lambda/tmp/env-1', '/tmp/stack', '/tmp/stack/lambda/code/fn', '/tmp/check/node_modules', '/tmp/check']));
    expect(kept.every((p) => p.startsWith('/tmp/') || p === '/tmp')).toBe(true);
    expect(keptTmpDirectories('/data/env-1', { SCONES_STACK_DATA_DIR: '/data', NODE_PATH: '/srv/node_modules' }).filter((p) => !p.startsWith('/tmp'))).toEqual([]);
  });
});
