// Gradients through a whole Sequential model (Embedding → GRU → LSTM → Dense):
// the CPU model against central finite differences, and the GPU against the CPU
// (parity/model_grad_cases.ts, shared with the headless-Chrome page); then a
// short training run whose GPU and CPU loss curves must agree
// (parity/loss_curve_cases.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../src/index';
import { build, ids, opts, rand, runModelGradCase } from './parity/model_grad_cases';
import { CURVE_EPOCHS, runLossCurveCase } from './parity/loss_curve_cases';
import { cpuRuntime, gpuRuntime } from './helpers/runtimes';

let gpu: Runtime;
let cpu: Runtime;
beforeAll(async () => {
  gpu = await gpuRuntime();
  cpu = await cpuRuntime();
});
afterAll(() => gpu.dispose());

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

    it('GPU gradients of every parameter match the CPU reference, also with a Keras mask and hard-sigmoid gates', async () => {
      for (const keras of [false, true]) {
      const r = await runModelGradCase(gpu, cpu, lastOnly, keras);
      expect(r.readbacksDuringBackward).toBe(0); // the whole backward stays on the GPU
      expect(r.gpuNames).toEqual(r.cpuNames);
      expect(r.rows.length).toBe(r.gpuNames.length);
      // float32 GPU vs float64 CPU: gradients are O(1) here; 1e-5 abs + 1e-4 rel (MODEL_GRAD_TOL).
      for (const row of r.rows) expect(row.ok, row.detail).toBe(true);
      expect(r.normRows.length).toBe(2); // ‖∂L/∂h_t‖ of both recurrent layers
      for (const row of r.normRows) expect(row.ok, row.detail).toBe(true);
      const worst = Math.max(...r.rows.map((row) => row.relErr));
      console.log(`model GPU vs CPU gradients, max |Δ| / max |cpu| (${lastOnly ? 'many-to-one' : 'many-to-many'}${keras ? ', Keras mask + hard sigmoid' : ''}):`, worst.toExponential(2));
      }
    });
  });
}

describe('a short training run on both backends', () => {
  it(`char model, ${CURVE_EPOCHS} epochs: GPU and CPU loss curves agree within 1e-4 relative per epoch`, async () => {
    const r = await runLossCurveCase(gpu, cpu);
    console.log(`loss curve gpu: ${r.gpu.map((v) => v.toFixed(4)).join(' ')}`);
    console.log(`loss curve cpu: ${r.cpu.map((v) => v.toFixed(4)).join(' ')}`);
    console.log('loss curve max |gpu − cpu| / cpu:', Math.max(...r.rows.map((row) => row.relErr)).toExponential(2));
    expect(r.rows.length).toBe(CURVE_EPOCHS);
    for (const row of r.rows) expect(row.ok, `${row.name}: ${row.detail}`).toBe(true);
    expect(r.cpu.at(-1)!).toBeLessThan(r.cpu[0] / 2); // it did train
  });
});
