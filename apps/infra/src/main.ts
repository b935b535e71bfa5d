// The CDK app entry (cdk.json runs it through tools/run-ts.js): `npx nx run infra:synth|diff|deploy`.
import { InfraConfigError } from './errors';
import { createSconesApp } from './lib/scones-app';

try {
  const { app, config } = createSconesApp();
  if (config.threshold.source === 'default') {
    process.stderr.write(
      `infra: THRESHOLD defaults to ${config.threshold.value}; set it to your model's recommended threshold with --context threshold=<p> or --context modelManifest=<manifest.json>\n`,
    );
  }
  app.synth();
} catch (error) {
  if (!(error instanceof InfraConfigError)) throw error;
  process.stderr.write(`infra: ${error.message}\n`);
  process.exitCode = 1;
}
