import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { fixtureAnalysis } from '../../test/fixtures';
import { buildMonitoringReport } from './build-report';

// Opens the report in a real browser (Debian's chromium, driven by playwright-core): the charts and
// thumbnails must render, with no console error and no network request. The page and a
// screenshot are kept under libs/report/test-artifacts/ (gitignored).

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(__dirname, '../../test-artifacts');

/** Installs Debian's chromium when missing (CI runs as root); otherwise fails saying what to do. */
function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`${CHROMIUM} is missing and this user cannot install it: run \`sudo bash tools/ci/install-system-deps.sh\` (installs Debian's chromium)`);
  }
  const install = () => execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium', 'fonts-dejavu-core'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  try {
    install();
  } catch {
    execFileSync('apt-get', ['update'], { stdio: 'inherit' });
    install();
  }
  if (!existsSync(CHROMIUM)) throw new Error(`apt-get install chromium did not provide ${CHROMIUM}`);
}

let root: string;
let context: BrowserContext | undefined;

beforeAll(async () => {
  ensureChromium();
  root = await mkdtemp(join(tmpdir(), 'report-browser-'));
}, 600_000);

afterAll(async () => {
  await context?.close();
  await rm(root, { recursive: true, force: true });
});

describe('the report in a real browser', () => {
  it('renders every chart and thumbnail offline, without console errors', async () => {
    const { analysis, baseline } = await fixtureAnalysis(join(root, 'capture'));
    const report = await buildMonitoringReport(analysis, baseline, new Date('2026-03-01T12:00:00.000Z'), 'hourly');
    await mkdir(ARTIFACTS, { recursive: true });
    const file = join(ARTIFACTS, 'report.html');
    await writeFile(file, report.html);

    context = await chromium.launchPersistentContext(await mkdtemp(join(root, 'profile-')), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 900 },
    });
    const page = await context.newPage();
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('request', (request) => {
      if (!/^(file|data):/.test(request.url())) requests.push(request.url());
    });
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });

    const charts = await page.$$eval('figure.chart', (figures) =>
      figures.map((f) => {
        const svg = f.querySelector('svg');
        const box = svg?.getBoundingClientRect();
        return { id: f.id, width: box?.width ?? 0, height: box?.height ?? 0, marks: svg?.querySelectorAll('path, rect, line, circle').length ?? 0 };
      }),
    );
    expect(charts.map((c) => c.id)).toEqual([
      'chart-confidence-over-time',
      'chart-confidence-histogram',
      'chart-volume',
      'chart-class-mix',
      'chart-brightness',
      'chart-embedding-map',
      'chart-out-of-distribution',
    ]);
    for (const chart of charts) {
      expect(chart.width).toBeGreaterThan(300);
      expect(chart.height).toBeGreaterThan(150);
      expect(chart.marks).toBeGreaterThan(10);
    }

    // (This callback runs in the page; the workspace compiles without the DOM library, hence the cast.)
    const images = await page.$$eval('.thumb img', (imgs) => imgs.map((img) => img as unknown as { complete: boolean; naturalWidth: number }).map((img) => ({ complete: img.complete, width: img.naturalWidth })));
    expect(images).toHaveLength(analysis.examples.recent.length + analysis.examples.lowestConfidence.length);
    for (const image of images) expect(image).toEqual({ complete: true, width: 32 });

    expect(await page.locator('h1').textContent()).toBe('Model monitoring report');
    expect(await page.locator('.callout.bad').count()).toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
    expect(problems).toEqual([]);
    expect(requests).toEqual([]);
  }, 120_000);
});
