// Worker entry: the same checks, on the worker's navigator.gpu.
import { runChecks } from './app.js';

runChecks('webgpu').then(
  (report) => postMessage(report),
  (err: unknown) => postMessage({ error: err instanceof Error ? `${err.name}: ${err.message}\n${err.stack ?? ''}` : String(err) }),
);
