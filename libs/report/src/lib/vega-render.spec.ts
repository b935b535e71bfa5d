import { namespaceIds, renderVegaLiteSvg, type TopLevelSpec } from './vega-render';
import { ChartRenderError } from '../errors';

describe('renderVegaLiteSvg', () => {
  it('renders a Vega-Lite spec to SVG in Node, with escaped text', async () => {
    const spec = {
      data: { values: [{ label: '<script>alert(1)</script>', n: 3 }, { label: 'b & c', n: 5 }] },
      mark: 'bar',
      encoding: { x: { field: 'label', type: 'nominal' }, y: { field: 'n', type: 'quantitative' } },
    } as TopLevelSpec;
    const svg = await renderVegaLiteSvg(spec, 'c1');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(svg).not.toContain('<script');
    expect(svg).toContain('b &amp; c');
    expect((svg.match(/<path/g) ?? []).length).toBeGreaterThan(2);
  });

  it('fails with a ChartRenderError naming the chart for an invalid spec', async () => {
    const bad = { data: { values: [] }, mark: 'no-such-mark', encoding: {} } as unknown as TopLevelSpec;
    await expect(renderVegaLiteSvg(bad, 'broken-chart')).rejects.toThrow(ChartRenderError);
    await expect(renderVegaLiteSvg(bad, 'broken-chart')).rejects.toThrow(/^chart broken-chart: /);
  });
});

describe('namespaceIds', () => {
  it('prefixes ids and their references', () => {
    expect(namespaceIds('<clipPath id="clip1"/><g clip-path="url(#clip1)"><use href="#clip1"/></g>', 'a')).toBe(
      '<clipPath id="a-clip1"/><g clip-path="url(#a-clip1)"><use href="#a-clip1"/></g>',
    );
  });
});
