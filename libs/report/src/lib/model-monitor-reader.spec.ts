import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { colourEmbedder, directoryCaptureSource } from '@scones/monitor-analytics';
import { ENDPOINT, writeFixtureCapture } from '../../test/fixtures';
import { generateMonitoringReport } from './generate-report';

// The Model Monitor reader written from the AWS documentation alone (Python, standard library),
// run on every Model Monitor file a report writes.
const READER = join(__dirname, '../../../monitor-analytics/python/model_monitor_reader.py');

function read(paths: string[]): Promise<{ code: number; lines: Array<Record<string, unknown>>; stderr: string }> {
  return new Promise((resolve) => {
    execFile('python3', [READER, ...paths], { timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, lines: stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)), stderr }),
    );
  });
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mm-reader-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('a Model Monitor reader written from the AWS documentation', () => {
  it('parses every Model Monitor file a report writes, and reads the same figures', async () => {
    const capture = join(root, 'capture');
    const { baseline } = await writeFixtureCapture(capture);
    const out = join(root, 'reports');
    const result = await generateMonitoringReport({
      endpointName: ENDPOINT,
      source: directoryCaptureSource({ directory: capture, endpointName: ENDPOINT }),
      baseline,
      embedder: colourEmbedder,
      destination: { kind: 'directory', directory: out },
      schedule: 'hourly',
      now: new Date('2026-03-01T12:00:00Z'),
    });
    const { code, lines, stderr } = await read([out]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(lines.map((l) => [l.file, l.kind])).toEqual([
      [result.written.baseline.constraints, 'Constraints'],
      [result.written.baseline.statistics, 'Statistics'],
      [result.written.files.violations, 'ConstraintViolations'],
      [result.written.files.statistics, 'Statistics'],
    ]);
    const byFile = Object.fromEntries(lines.map((l) => [l.file, l]));
    expect(byFile[result.written.files.statistics].item_count).toBe(result.summary.records.analyzed);
    expect(byFile[result.written.baseline.statistics].item_count).toBe(baseline.count);
    expect(byFile[result.written.files.violations].violations).toEqual(result.violations.map((v) => [v.feature, v.checkType]));
    expect(byFile[result.written.baseline.constraints].features).toContain('embedding');
  });

  it('names the file and the field of a document that does not follow the schema', async () => {
    const file = join(root, 'constraint_violations.json');
    await writeFile(file, JSON.stringify({ violations: [{ feature_name: 'confidence', constraint_check_type: 'drift_check', description: 'x' }] }));
    const bad = await read([file]);
    expect(bad.code).toBe(1);
    expect(bad.lines[0]).toMatchObject({ ok: false, error: `${file}.violations[0].constraint_check_type: not a documented check type: 'drift_check'` });
    const statistics = join(root, 'statistics.json');
    const good = JSON.parse(await readFile(join(root, 'reports', ENDPOINT, 'hourly', '2026', '03', '01', '12', 'statistics.json'), 'utf8'));
    delete good.dataset;
    await writeFile(statistics, JSON.stringify(good));
    expect((await read([statistics])).lines[0]).toMatchObject({ ok: false, error: `${statistics}.dataset: missing` });
  });
});
