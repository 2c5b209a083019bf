// Node entry: `node build/node.js cpu|webgpu|wasm` prints one line, the JSON Report.
// 'webgpu' runs on Dawn (the `webgpu` package, the optional peer dependency).
import { runChecks } from './app.js';

const arg = process.argv[2];
const backend = arg === 'webgpu' || arg === 'wasm' ? arg : 'cpu';
const report = await runChecks(backend);

// The package exports only its entry: a deep import of the bundle is refused.
let deepImport = 'allowed';
try {
  const internal = 'webgpu-rnn/dist/webgpu-rnn.js';
  await import(internal);
} catch (err) {
  deepImport = (err as { code?: string }).code ?? String(err);
}

console.log(JSON.stringify({ ...report, deepImport }));
