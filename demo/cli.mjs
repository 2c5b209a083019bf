// The runtime's main job from the command line: run SimpleRNN, GRU and LSTM
// forward passes on the GPU (per-step and persistent paths) and on the CPU
// reference with the same weights, and print, for each, the time, the dispatches
// per time step and the max abs difference from the reference.
//
//   bash scripts/demo.sh                # builds dist/ and runs this in Node (Dawn)
//   bash scripts/demo.sh --reps 5       # more repetitions per timing
//
// Timings are wall-clock medians with the result read back inside the timed
// region. On a machine without a GPU, WebGPU is SwiftShader (a CPU emulation):
// the numbers show the runtime's overheads, not real-GPU speed.
import { createRuntime } from '../dist/webgpu-rnn.js';

const args = process.argv.slice(2);
const reps = Number(args[args.indexOf('--reps') + 1]) || 3;

const SHAPES = [
  // B, T, I, H
  [1, 1, 64, 128],
  [1, 256, 64, 128],
  [8, 32, 16, 32],
  [32, 64, 64, 128],
];

function data(n, seed) {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 31 - 1;
  }
  return a;
}

async function time(fn) {
  await fn(); // warm-up: pipelines compiled, buffers sized
  const ms = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return ms[Math.floor(ms.length / 2)];
}

const gpu = await createRuntime();
const cpu = await createRuntime({ backend: 'cpu' });
console.log(`WebGPU adapter: ${gpu.adapterName}`);
console.log(`CPU reference: ${cpu.adapterName}\n`);

const rows = [];
for (const cell of ['lstm', 'gru', 'simpleRNN']) {
  for (const [B, T, I, H] of SHAPES) {
    const opts = { inputSize: I, hiddenSize: H, seed: 1 };
    const g = gpu[cell](opts);
    const c = cpu[cell](opts);
    c.loadTorchStateDict(g.torchStateDict());
    const x = data(B * T * I, 7);
    const ref = await (await c.forward(x, { batch: B, seqLen: T })).output.read();
    const cpuMs = await time(async () => (await c.forward(x, { batch: B, seqLen: T })).output.read());
    for (const path of ['step', 'persistent']) {
      let res;
      try {
        res = await g.forward(x, { batch: B, seqLen: T, path });
      } catch (e) {
        rows.push({ cell, shape: `(${B}, ${T}, ${I}, ${H})`, path, note: e.constructor.name });
        continue;
      }
      const out = await res.output.read();
      res.output.dispose();
      res.h.dispose();
      res.c?.dispose();
      let maxAbs = 0;
      for (let i = 0; i < out.length; i++) maxAbs = Math.max(maxAbs, Math.abs(out[i] - ref[i]));
      const ms = await time(async () => {
        const r = await g.forward(x, { batch: B, seqLen: T, path });
        await r.output.read();
        r.output.dispose();
        r.h.dispose();
        r.c?.dispose();
      });
      rows.push({
        cell,
        shape: `(${B}, ${T}, ${I}, ${H})`,
        path,
        'dispatches/step': res.stats.dispatchesPerStep.toFixed(res.stats.dispatchesPerStep < 1 ? 4 : 0),
        'gpu ms': ms.toFixed(1),
        'cpu ms': cpuMs.toFixed(1),
        'cpu/gpu': (cpuMs / ms).toFixed(2),
        'max |gpu-cpu|': maxAbs.toExponential(2),
      });
    }
    g.dispose();
  }
}
console.table(rows);
console.log(`\nGPU memory still held by the runtime: ${JSON.stringify(gpu.memory())}`);
gpu.dispose();
