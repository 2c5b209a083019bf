// The gate (recurrent) activation of LSTM and GRU as a kernel parameter:
// 'sigmoid', 'hardSigmoid' (Keras 2 and TensorFlow.js: clip(0.2·x + 0.5, 0, 1),
// tfjs's default recurrentActivation) and 'hardSigmoidKeras3' (relu6(x + 3) / 6).
//  1. Against TensorFlow.js 4.22 (cpu backend), its default hardSigmoid gates:
//     LSTM and GRU reset_after=False (tfjs has no reset_after=True), our CPU reference and GPU kernels
//     (per-step and persistent), inputs large enough to reach the clipped parts.
//  2. GPU against the CPU reference for every gate activation: outputs, states
//     and every gradient (the backward uses the derivative of the gate chosen).
//  3. The CPU reference's hard-sigmoid backward against finite differences.
// Tolerances: float32 against float64, 1e-5 abs on outputs; gradients 1e-4
// relative to the tensor's largest entry.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValueError, type Runtime } from '../src/index';
import { data } from './helpers/data';
import { cpuRuntime, gpuRuntime } from './helpers/runtimes';
import { compare } from './parity/compare';

let gpu: Runtime;
let cpu: Runtime;
beforeAll(async () => {
  await tf.setBackend('cpu');
  gpu = await gpuRuntime();
  cpu = await cpuRuntime();
});
afterAll(() => {
  gpu?.dispose();
  cpu?.dispose();
});

const B = 2;
const T = 4;
const I = 3;
const H = 4;

function expectClose(name: string, ref: ArrayLike<number>, got: ArrayLike<number>, atol: number): void {
  const c = compare(name, ref, got, { atol });
  expect(c.ok, c.detail).toBe(true);
}

describe('against TensorFlow.js 4.22, whose default recurrentActivation is hardSigmoid', () => {
  const cells: { name: string; make: () => tf.layers.Layer; ours: 'lstm' | 'gru'; opts: { resetAfter?: boolean } }[] = [
    { name: 'LSTM', make: () => tf.layers.lstm({ units: H, returnSequences: true, inputShape: [T, I] }), ours: 'lstm' as const, opts: {} },
    { name: 'GRU reset_after=False', make: () => tf.layers.gru({ units: H, returnSequences: true, inputShape: [T, I] }), ours: 'gru' as const, opts: { resetAfter: false } },
  ];
  for (const cell of cells) {
    it(`${cell.name}: CPU reference and GPU kernels (both paths) equal tfjs`, async () => {
      const model = tf.sequential();
      model.add(cell.make());
      const weights = model.getWeights().map((w, k) => tf.tensor(data(w.size, 300 + k).map((v) => v * 1.5), w.shape));
      model.setWeights(weights);
      const x = data(B * T * I, 9).map((v) => v * 3); // pre-activations beyond ±2.5: the clipped parts
      const want = Float64Array.from(await (model.predict(tf.tensor(x, [B, T, I])) as tf.Tensor).data());
      const [kernel, recurrentKernel, bias] = (await Promise.all(model.getWeights().map((w) => w.data()))) as Float32Array[];
      // the gate pre-activations do reach both clipped ends (the test would not see a wrong slope otherwise)
      expect(Math.max(...Array.from(x, Math.abs))).toBeGreaterThan(2.5);
      for (const rt of [cpu, gpu]) {
        const layer = rt[cell.ours]({ inputSize: I, hiddenSize: H, convention: 'keras', recurrentActivation: 'hardSigmoid', ...cell.opts });
        layer.loadKerasWeights([{ kernel, recurrentKernel, bias }]);
        for (const path of rt === gpu ? (['step', 'persistent'] as const) : (['auto'] as const)) {
          const r = await layer.forward(x, { batch: B, path });
          expectClose(`${rt.backend} ${path}`, want, await r.output.read(), 1e-5);
          for (const t of [r.output, r.h, r.c]) t?.dispose();
        }
        layer.dispose();
      }
      tf.dispose(weights);
      model.dispose();
    });
  }
});

describe('GPU kernels against the CPU reference for every gate activation', () => {
  for (const recurrentActivation of ['sigmoid', 'hardSigmoid', 'hardSigmoidKeras3'] as const) {
    for (const [cell, opts] of [
      ['lstm', {}],
      ['gru', {}],
      ['gru', { resetAfter: false, convention: 'keras' as const }],
    ] as const) {
      it(`${cell}${'resetAfter' in opts ? ' (reset_after=False)' : ''}, ${recurrentActivation}: outputs, states and every gradient, both paths`, async () => {
        const mk = (rt: Runtime) => rt[cell]({ inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: true, seed: 4, recurrentActivation, ...opts });
        const x = data(B * T * I, 31).map((v) => v * 4);
        const dOut = data(B * T * 2 * H, 32);
        const results = [];
        for (const [rt, path] of [
          [cpu, 'auto'],
          [gpu, 'step'],
          [gpu, 'persistent'],
        ] as const) {
          const layer = mk(rt);
          const r = await layer.forward(x, { batch: B, record: true, path });
          const g = await layer.backward(r.tape!, { dOutput: dOut });
          results.push({ out: await r.output.read(), h: await r.h.read(), dx: await g.dx.read(), grads: await layer.gradients() });
          for (const t of [r.output, r.h, r.c, g.dx, g.dh0, g.dc0]) t?.dispose();
          layer.dispose();
        }
        const [ref, ...gots] = results;
        for (const got of gots) {
          expectClose('output', ref.out, got.out, 1e-5);
          expectClose('h', ref.h, got.h, 1e-5);
          const rel = (name: string, a: ArrayLike<number>, b: ArrayLike<number>) => expectClose(name, a, b, 1e-4 * Math.max(1e-3, ...Array.from(a, Math.abs)));
          rel('dx', ref.dx, got.dx);
          for (const name of Object.keys(ref.grads)) rel(name, ref.grads[name], got.grads[name]);
        }
      });
    }
  }
});

describe('the CPU reference with hard sigmoid gates, against finite differences', () => {
  for (const recurrentActivation of ['hardSigmoid', 'hardSigmoidKeras3'] as const) {
    it(`LSTM ${recurrentActivation}: ∂(Σ R ⊙ output)/∂x`, async () => {
      const lstm = cpu.lstm({ inputSize: I, hiddenSize: H, seed: 6, recurrentActivation });
      const x = Float64Array.from(data(B * T * I, 41).map((v) => v * 3));
      const R = data(B * T * H, 42);
      const lossOf = async (xv: Float64Array) => {
        const r = await lstm.forward(xv, { batch: B });
        const o = await r.output.read();
        for (const t of [r.output, r.h, r.c]) t?.dispose();
        let s = 0;
        for (let i = 0; i < o.length; i++) s += o[i] * R[i];
        return s;
      };
      const r = await lstm.forward(x, { batch: B, record: true });
      const g = await lstm.backward(r.tape!, { dOutput: R });
      const dx = await g.dx.read();
      const eps = 1e-7; // small enough that no gate crosses a kink of the hard sigmoid (checked below)
      let checked = 0;
      for (let i = 0; i < x.length; i++) {
        const xp = x.slice();
        const xm = x.slice();
        xp[i] += eps;
        xm[i] -= eps;
        const [lp, l0, lm] = [await lossOf(xp), await lossOf(x), await lossOf(xm)];
        // a kink inside ±eps shows as one-sided slopes that differ: skip that entry
        if (Math.abs((lp - l0) - (l0 - lm)) > 1e-9 * Math.max(1, Math.abs(l0))) continue;
        const fd = (lp - lm) / (2 * eps);
        expect(Math.abs(fd - dx[i]), `dx[${i}]: fd ${fd} vs backward ${dx[i]}`).toBeLessThan(1e-6 + 1e-5 * Math.abs(fd));
        checked++;
      }
      expect(checked).toBeGreaterThan(x.length / 2);
      for (const t of [r.output, r.h, r.c, g.dx, g.dh0, g.dc0]) t?.dispose();
      lstm.dispose();
    });
  }

  it('refuses recurrentActivation on a SimpleRNN and unknown names', () => {
    expect(() => cpu.simpleRNN({ inputSize: I, hiddenSize: H, recurrentActivation: 'hardSigmoid' })).toThrow(/applies to GRU and LSTM only/);
    expect(() => cpu.lstm({ inputSize: I, hiddenSize: H, recurrentActivation: 'hard_sigmoid' as never })).toThrow(ValueError);
  });
});
