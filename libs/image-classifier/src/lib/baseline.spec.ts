import { decodeFloat32Matrix, monitoringBaselineSchema } from '@scones/payload-schemas';
import { computeBaseline, l2Normalize } from './baseline';
import type { RgbImage } from './image-decode';

const image = (width: number, height: number, value: number): RgbImage => ({ width, height, data: new Uint8Array(width * height * 3).fill(value) });

describe('computeBaseline', () => {
  it('records the validation images per size and, given embeddings, both sets unit-length', () => {
    const images = [image(32, 32, 0), image(32, 32, 255), image(48, 32, 51)];
    const probabilities = [
      [0.9, 0.1],
      [0.2, 0.8],
      [0.6, 0.4],
    ];
    const validation = [Float32Array.of(3, 4), Float32Array.of(0, 2), Float32Array.of(1, 0)];
    const training = [Float32Array.of(6, 8), Float32Array.of(0, 0)];
    const baseline = computeBaseline(images, probabilities, 2, { validation, training });
    expect(monitoringBaselineSchema.parse(baseline)).toEqual(baseline);
    expect(baseline.imageSizes).toEqual({ '32x32': 2, '48x32': 1 });
    expect(baseline.predictedClassCounts).toEqual([2, 1]);
    const embedding = baseline.embedding!;
    expect(embedding).toMatchObject({ layer: 'stages', normalization: 'l2', validation: { rows: 3, columns: 2 }, training: { rows: 2, columns: 2 } });
    expect(Array.from(decodeFloat32Matrix(embedding.validation))).toEqual([0.6000000238418579, 0.800000011920929, 0, 1, 1, 0]);
    // A zero vector has no direction: it stays zero rather than becoming NaN.
    expect(Array.from(decodeFloat32Matrix(embedding.training))).toEqual([0.6000000238418579, 0.800000011920929, 0, 0]);
  });

  it('has no embedding part without embeddings, and refuses embeddings that do not match the images', () => {
    expect(computeBaseline([image(32, 32, 1)], [[0.7, 0.3]], 2).embedding).toBeUndefined();
    expect(() => computeBaseline([image(32, 32, 1)], [[0.7, 0.3]], 2, { validation: [], training: [Float32Array.of(1)] })).toThrow('0 validation embeddings for 1 validation images');
  });

  it('is refused by the manifest schema when a matrix does not hold rows × columns values', () => {
    const baseline = computeBaseline([image(32, 32, 1)], [[0.7, 0.3]], 2, { validation: [Float32Array.of(1, 2)], training: [Float32Array.of(1, 2)] });
    const broken = { ...baseline, embedding: { ...baseline.embedding!, training: { ...baseline.embedding!.training, rows: 2 } } };
    const result = monitoringBaselineSchema.safeParse(broken);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual(['embedding.training.base64: base64 does not hold rows × columns float32 values']);
  });

  it('normalises to unit length', () => {
    expect(Array.from(l2Normalize([3, 4]))).toEqual([0.6000000238418579, 0.800000011920929]);
  });
});
