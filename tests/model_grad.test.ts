// Gradients through a whole Sequential model (Embedding → GRU → LSTM → Dense):
// the CPU model against central finite differences, and the GPU against the CPU.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime, Sequential } from '../src/index';
import { compare } from './parity/compare';
import { cpuRuntime, gpuRuntime } from './helpers/runtimes';

let gpu: Runtime;
let cpu: Runtime;
beforeAll(async () => {
  gpu = await gpuRuntime();
  cpu = await cpuRuntime();
});
afterAll(() => gpu.dispose());

const ids = [1, 5, 6, 3, 0, 2, 6, 6, 2, 4, 4, 1];
const opts = { batch: 2, seqLen: 6, lengths: [4, 6] };

function build(rt: Runtime, lastOnly: boolean, act: 'tanh' | 'relu' | 'sigmoid' | 'none' = 'tanh'): Sequential {
  return rt.sequential([
    rt.embedding({ vocabSize: 7, dim: 3, seed: 1 }),
    rt.gru({ inputSize: 3, hiddenSize: 4, bidirectional: true, returnSequences: true, seed: 2 }),
    rt.lstm({ inputSize: 8, hiddenSize: 3, returnSequences: !lastOnly, seed: 3 }),
    rt.dense({ inputSize: 3, units: 2, activation: act, seed: 4 }),
  ]);
}

function rand(n: number, seed: number): Float64Array {
  const a = new Float64Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 16807) % 2147483647;
    a[i] = (s / 2147483647) * 2 - 1;
  }
  return a;
}

for (const lastOnly of [false, true]) {
  describe(`Sequential backward (${lastOnly ? 'many-to-one' : 'many-to-many'})`, () => {
    it('CPU gradients match central finite differences of L = Σ output ⊙ R', async () => {
      const m = build(cpu, lastOnly);
      const outSize = lastOnly ? 2 * 2 : 2 * 6 * 2;
      const R = rand(outSize, 7);
      const loss = async () => {
        const y = await (await m.predict(ids, opts)).read();
        let l = 0;
        for (let i = 0; i < y.length; i++) l += y[i] * R[i];
        return l;
      };
      const { tape } = await m.record(ids, opts);
      m.zeroGrad();
      await m.backward(tape, R);
      let worst = 0;
      // Weights are float32: perturb by 2^-12 (exact in float32 for |w| < 1) and
      // compare with a central difference; float64 compute keeps the error ~1e-8.
      const eps = 2 ** -12;
      for (const p of m.parameters()) {
        if (p.kind !== 'cpu') throw new Error('expected CPU params');
        const picks = [0, Math.floor(p.size / 2), p.size - 1];
        for (const i of picks) {
          const w0 = p.value[i];
          p.value[i] = w0 + eps;
          const lp = await loss();
          p.value[i] = w0 - eps;
          const lm = await loss();
          p.value[i] = w0;
          const fd = (lp - lm) / (2 * eps);
          const err = Math.abs(fd - p.grad[i]) / Math.max(Math.abs(fd) + Math.abs(p.grad[i]), 1e-3);
          worst = Math.max(worst, err);
          expect(err, `${p.name}[${i}]: fd ${fd} vs analytic ${p.grad[i]}`).toBeLessThan(1e-5);
        }
      }
      console.log(`model finite-difference max relative error (${lastOnly ? 'many-to-one' : 'many-to-many'}):`, worst.toExponential(2));
    });

    it('GPU gradients of every parameter match the CPU reference', async () => {
      const g = build(gpu, lastOnly, 'relu');
      const c = build(cpu, lastOnly, 'relu');
      const R = rand(lastOnly ? 4 : 24, 9);
      const before = gpu.stats().readbacks;
      const rg = await g.record(ids, opts);
      g.zeroGrad();
      await g.backward(rg.tape, Float32Array.from(R));
      expect(gpu.stats().readbacks - before).toBe(0); // the whole backward stays on the GPU
      const rc = await c.record(ids, opts);
      await c.backward(rc.tape, R);
      const pg = g.parameters();
      const pc = c.parameters();
      expect(pg.map((p) => p.name)).toEqual(pc.map((p) => p.name));
      for (let i = 0; i < pg.length; i++) {
        const a = pg[i];
        const b = pc[i];
        if (a.kind !== 'webgpu' || b.kind !== 'cpu') throw new Error('backends');
        let got = await (gpu.backendRef as { kind: 'webgpu'; ctx: { readback(b: GPUBuffer, n: number): Promise<Float32Array> } }).ctx.readback(a.grad, a.size);
        if (a.name.includes('weight_hh')) {
          // the GPU keeps W_hh transposed, (H, G); the CPU keeps PyTorch's (G, H)
          const layer = g.layers[Number(a.name.split('.')[0])] as { config: { hiddenSize: number } };
          const H = layer.config.hiddenSize;
          const G = a.size / H;
          const t = new Float32Array(a.size);
          for (let k = 0; k < H; k++) for (let r = 0; r < G; r++) t[r * H + k] = got[k * G + r];
          got = t;
        }
        // float32 GPU vs float64 CPU: gradients are O(1) here; 1e-5 abs + 1e-4 rel.
        const cmp = compare(`d${a.name}`, b.grad, got, { atol: 1e-5, rtol: 1e-4 });
        expect(cmp.ok, cmp.detail).toBe(true);
      }
      rg.output.dispose();
      g.dispose();
    });
  });
}
