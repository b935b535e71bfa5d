import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { decodeImage, loadClassifier, type Classifier } from '@scones/image-classifier';
import { sageMakerRuntimeClientConfig } from '@scones/local-cloud';
import { inferenceOutputSchema, parseJsonOrThrow } from '@scones/payload-schemas';
import { writeFixtureArtifact } from '@scones/image-classifier/testing';
import { solidPng } from '../../test/fake-predictor';
import { ModelServer } from './model-server';

// The server with the real Classifier of @scones/image-classifier (a saved artifact loaded by
// loadClassifier), invoked through the AWS SDK.
describe('ModelServer with a real classifier artifact', () => {
  let dir: string;
  let classifier: Classifier;
  let server: ModelServer;
  let client: SageMakerRuntimeClient;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scones-artifact-'));
    await writeFixtureArtifact(dir);
    classifier = await loadClassifier(dir);
    server = new ModelServer({ endpointName: 'real-model', predictor: classifier });
    const url = await server.listen();
    client = new SageMakerRuntimeClient({ ...sageMakerRuntimeClientConfig({ kind: 'local', s3Endpoint: url, sagemakerRuntimeEndpoint: url }), maxAttempts: 1 });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    classifier?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers what the classifier predicts, for single and concurrent (batched) requests', async () => {
    const images = [solidPng(10), solidPng(120), solidPng(250), solidPng(60, 64)];
    const expected = await classifier.predictImages(images.map((i) => decodeImage(i.png)));
    // Distinct answers per image, so a mix-up between concurrent requests would show.
    expect(new Set(expected.map((e) => e[0].toFixed(5))).size).toBe(images.length);
    const answers = await Promise.all(
      images.map(async ({ png }) => {
        const answer = await client.send(new InvokeEndpointCommand({ EndpointName: 'real-model', ContentType: 'image/png', Body: png }));
        return parseJsonOrThrow(inferenceOutputSchema, Buffer.from(answer.Body!).toString(), 'answer');
      }),
    );
    answers.forEach((answer, i) => {
      expect(answer).toHaveLength(2);
      answer.forEach((p, c) => expect(p).toBeCloseTo(expected[i][c], 5));
    });
  });
});
