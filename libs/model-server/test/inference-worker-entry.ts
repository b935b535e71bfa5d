// The script of the inference workers in tests (bundled by bundleForTest, like an app's entry).
import { isInferenceWorker, serveInferenceWorker } from '../src';

if (isInferenceWorker()) serveInferenceWorker();
