import type { TopLevelSpec } from 'vega-lite' with { 'resolution-mode': 'import' };
import { ChartRenderError } from '../errors';

export type { TopLevelSpec };

type Vega = typeof import('vega', { with: { 'resolution-mode': 'import' } });
type VegaLite = typeof import('vega-lite', { with: { 'resolution-mode': 'import' } });

let modules: Promise<{ vega: Vega; vegaLite: VegaLite }> | undefined;

/**
 * vega and vega-lite are ESM-only and vega-canvas uses top-level await, so they cannot be
 * `require`d. With `module: node16` TypeScript keeps this `import()` as a real dynamic import in
 * the CommonJS output (and esbuild keeps it for external packages), so Node loads them as ES
 * modules. Loaded once, on the first chart.
 */
function loadVega(): Promise<{ vega: Vega; vegaLite: VegaLite }> {
  // One after the other: they share modules, and Jest's ESM loader (tests) races on parallel imports.
  modules ??= (async () => ({ vega: await import('vega'), vegaLite: await import('vega-lite') }))().catch((error: unknown) => {
    modules = undefined;
    throw new ChartRenderError(`cannot load vega/vega-lite: ${(error as Error).message}`);
  });
  return modules;
}

/**
 * Compiles a Vega-Lite spec and renders it to an SVG string in Node, headless (`renderer: 'none'`:
 * no DOM, no canvas; text widths are estimated). Element ids inside the SVG (clip paths,
 * gradients) get `idPrefix` so several charts can be inlined in one HTML document.
 */
export async function renderVegaLiteSvg(spec: TopLevelSpec, idPrefix: string): Promise<string> {
  const { vega, vegaLite } = await loadVega();
  let view: InstanceType<Vega['View']> | undefined;
  try {
    const compiled = vegaLite.compile(spec).spec;
    view = new vega.View(vega.parse(compiled), { renderer: 'none' });
    const svg = await view.toSVG();
    return namespaceIds(svg, idPrefix);
  } catch (error) {
    throw new ChartRenderError(`chart ${idPrefix}: ${(error as Error).message}`);
  } finally {
    view?.finalize();
  }
}

/** Prefixes `id="x"`, `url(#x)` and `href="#x"` so ids stay unique across inlined SVGs. */
export function namespaceIds(svg: string, prefix: string): string {
  return svg
    .replace(/\bid="([^"]+)"/g, (_, id: string) => `id="${prefix}-${id}"`)
    .replace(/url\(#([^)]+)\)/g, (_, id: string) => `url(#${prefix}-${id})`)
    .replace(/href="#([^"]+)"/g, (_, id: string) => `href="#${prefix}-${id}"`);
}
