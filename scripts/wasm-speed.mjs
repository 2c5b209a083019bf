#!/usr/bin/env node
// Times the wasm backend against the float64 CPU reference in Node (not a test; for
// tuning the kernels): inference (forward + read) and a training step (record,
// backward with dOutput = 1, zeroGrad) per cell and shape, median of --reps runs
// after warm-up. Loads src/ through Vite (TypeScript), like the benchmark.
//   node scripts/wasm-speed.mjs                 # LSTM (1, 256, 64, 128), every cell
//   node scripts/wasm-speed.mjs --all --reps 9  # also (32, 64, 64, 128) and (1, 1, 64, 128)
//   node scripts/wasm-speed.mjs --big --no-cpu  # also (64, 100, 128, 256); --no-cpu skips the (slow) reference
//   node scripts/wasm-speed.mjs --threads 2     # the wasm runtime with 2 threads (GEMMs, and the forward's steps by batch rows)
import { runnerImport } from 'vite';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const reps = Number(args[args.indexOf('--reps') + 1]) || 15;
const shapes = [[1, 256, 64, 128]];
if (args.includes('--all')) shapes.push([32, 64, 64, 128], [1, 1, 64, 128]);
if (args.includes('--big')) shapes.push([64, 100, 128, 256]);
const cells = args.includes('--lstm') ? ['lstm'] : ['lstm', 'gru', 'simpleRNN'];
const root = fileURLToPath(new URL('..', import.meta.url));
const { module: lib } = await runnerImport(`${root}src/index.ts`, { root, configFile: false, logLevel: 'silent' });

async function median(fn) {
  for (let i = 0; i < 3; i++) await fn();
  const t = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return { med: t[t.length >> 1], min: t[0] };
}

const threads = args.includes('--threads') ? Number(args[args.indexOf('--threads') + 1]) : 1;
const runtimes = [await lib.createRuntime({ backend: 'wasm', threads })];
if (!args.includes('--no-cpu')) runtimes.push(await lib.createRuntime({ backend: 'cpu' }));
console.log(`wasm: ${runtimes[0].adapterName}; ${reps} reps, ms (median / min)`);
for (const [B, T, I, H] of shapes) {
  for (const cell of cells) {
    const x = Float32Array.from({ length: B * T * I }, (_, i) => Math.sin(i * 0.37));
    const dOut = new Float32Array(B * T * H).fill(1e-2);
    const flops = 2 * B * T * (cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1) * H * (I + H);
    const line = [];
    for (const rt of runtimes) {
      const layer = rt[cell]({ inputSize: I, hiddenSize: H, seed: 1 });
      const inf = await median(async () => {
        const r = await layer.forward(x, { batch: B, seqLen: T });
        await r.output.read();
      });
      const train = await median(async () => {
        const r = await layer.forward(x, { batch: B, seqLen: T, record: true });
        const g = await layer.backward(r.tape, { dOutput: dOut });
        await g.dx.read();
        layer.zeroGrad();
      });
      line.push(`${rt.backend}: inference ${inf.med.toFixed(2)} / ${inf.min.toFixed(2)} (${(flops / inf.min / 1e6).toFixed(1)} GFLOP/s at min), training step ${train.med.toFixed(2)} / ${train.min.toFixed(2)}`);
      layer.dispose();
    }
    console.log(`${cell} (${B}, ${T}, ${I}, ${H}): ${line.join('; ')}`);
  }
}
for (const rt of runtimes) rt.dispose(); // stops the wasm runtime's worker threads
