// Gradient flow through time (issue 11): backward(..., { stepGradNorms: true })
// returns ‖∂L/∂h_t‖ for every step t, per layer and direction, computed on the
// GPU next to the step-backward kernels (RECORD_DH + step_grad_norms.wgsl).
//  1. The CPU reference against a hand-written backward of a SimpleRNN
//     (g_t = dout_t + W_hhᵀ (g_{t+1} ⊙ (1 − h_{t+1}²))), from the forward's states.
//  2. GPU against the CPU reference: every cell, 2-layer bidirectional, with
//     lengths, with a Keras mask, with hard-sigmoid gates; both GPU paths.
//  3. What the tutorials draw: with the loss on the last output only, a
//     SimpleRNN's gradient vanishes going back in time and scaled-up recurrent
//     weights make it explode (the LSTM's ‖∂L/∂h_t‖ is logged, not asserted:
//     its long memory runs through the cell state).
//  4. Sequential.backward returns one (L·D, T) tensor per recurrent layer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Recurrent, Runtime } from '../src/index';
import { data } from './helpers/data';
import { cpuRuntime, gpuRuntime } from './helpers/runtimes';
import { compare } from './parity/compare';

let gpu: Runtime;
let cpu: Runtime;
beforeAll(async () => {
  gpu = await gpuRuntime();
  cpu = await cpuRuntime();
});
afterAll(() => {
  gpu?.dispose();
  cpu?.dispose();
});

async function norms(layer: Recurrent, x: Float32Array, B: number, dOutput: Float32Array, extra: Record<string, unknown> = {}): Promise<Float64Array> {
  const r = await layer.forward(x, { batch: B, record: true, ...extra });
  const g = await layer.backward(r.tape!, { dOutput, stepGradNorms: true });
  const n = Float64Array.from(await g.stepGradNorms!.read());
  for (const t of [r.output, r.h, r.c, g.dx, g.dh0, g.dc0, g.stepGradNorms]) t?.dispose();
  return n;
}

describe('the CPU reference against a hand-written SimpleRNN backward', () => {
  it('‖∂L/∂h_t‖ for every t, with the loss on every output', async () => {
    const [B, T, I, H] = [2, 6, 3, 4];
    const rnn = cpu.simpleRNN({ inputSize: I, hiddenSize: H, seed: 3 });
    const x = data(B * T * I, 5);
    const dOut = data(B * T * H, 6);
    const got = await norms(rnn, x, B, dOut);
    // by hand: h_t = tanh(x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh), out_t = h_t
    const r = await rnn.forward(x, { batch: B });
    const h = await r.output.read(); // (B, T, H)
    for (const t of [r.output, r.h]) t.dispose();
    const W = rnn.torchStateDict().weight_hh_l0.data; // (H, H): W[j, k]
    const want = new Float64Array(T);
    const g = new Float64Array(B * H); // ∂L/∂h_t, from t = T−1 down
    for (let t = T - 1; t >= 0; t--) {
      const next = new Float64Array(B * H);
      for (let b = 0; b < B; b++) {
        for (let k = 0; k < H; k++) {
          let v = dOut[(b * T + t) * H + k];
          if (t < T - 1) for (let j = 0; j < H; j++) v += W[j * H + k] * g[b * H + j] * (1 - h[(b * T + t + 1) * H + j] ** 2);
          next[b * H + k] = v;
        }
      }
      g.set(next);
      want[t] = Math.hypot(...g);
    }
    const c = compare('stepGradNorms', want, got, { atol: 1e-12, rtol: 1e-10 });
    expect(c.ok, c.detail).toBe(true);
    rnn.dispose();
  });
});

describe('GPU against the CPU reference', () => {
  const [B, T, I, H] = [3, 5, 2, 4];
  const cases = [
    { cell: 'simpleRNN' as const, opts: {}, fwd: { lengths: [5, 3, 1] } },
    { cell: 'gru' as const, opts: {}, fwd: { mask: [0, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 0, 0, 1, 1] } },
    { cell: 'gru' as const, opts: { resetAfter: false, convention: 'keras' as const, recurrentActivation: 'hardSigmoid' as const }, fwd: {} },
    { cell: 'lstm' as const, opts: { recurrentActivation: 'hardSigmoidKeras3' as const }, fwd: { lengths: [2, 5, 4] } },
    { cell: 'lstm' as const, opts: {}, fwd: { mask: [1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 1, 0, 1] } },
  ];
  for (const { cell, opts, fwd } of cases) {
    it(`${cell} ${JSON.stringify(opts)} ${Object.keys(fwd).join('') || 'full'}: 2-layer bidirectional, both paths`, async () => {
      const mk = (rt: Runtime) => rt[cell]({ inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: true, seed: 7, ...opts });
      const x = data(B * T * I, 8).map((v) => v * 2);
      const dOut = data(B * T * 2 * H, 9);
      const cl = mk(cpu);
      const want = await norms(cl, x, B, dOut, fwd);
      expect(want.length).toBe(4 * T);
      for (const path of ['step', 'persistent'] as const) {
        const gl = mk(gpu);
        const got = await norms(gl, x, B, dOut, { ...fwd, path });
        const c = compare(`${path} stepGradNorms`, want, got, { atol: 1e-6, rtol: 1e-4 });
        expect(c.ok, c.detail).toBe(true);
        gl.dispose();
      }
      cl.dispose();
    });
  }
});

describe('vanishing and exploding gradients, as the tutorials draw them', () => {
  // the loss is on the last output only: ∂L/∂h_t measures how much of it reaches step t
  const [B, T, I, H] = [4, 30, 3, 16];
  const x = data(B * T * I, 11);
  const lastOnly = new Float32Array(B * T * H);
  for (let b = 0; b < B; b++) lastOnly.set(data(H, 12 + b), (b * T + T - 1) * H);

  async function profile(rt: Runtime, cell: 'simpleRNN' | 'lstm', scale: number): Promise<Float64Array> {
    const layer = rt[cell]({ inputSize: I, hiddenSize: H, seed: 13 });
    const sd = layer.torchStateDict();
    for (const k of Object.keys(sd)) if (k.startsWith('weight_hh')) sd[k].data.forEach((v, i, a) => (a[i] = v * scale));
    layer.loadTorchStateDict(sd);
    const n = await norms(layer, x, B, lastOnly);
    layer.dispose();
    return n;
  }

  for (const rt of ['webgpu', 'cpu'] as const) {
    it(`${rt}: SimpleRNN vanishes, SimpleRNN with 4× recurrent weights explodes (and the LSTM's profile, logged)`, async () => {
      const run = rt === 'webgpu' ? gpu : cpu;
      const rnn = await profile(run, 'simpleRNN', 1);
      const big = await profile(run, 'simpleRNN', 4);
      const lstm = await profile(run, 'lstm', 1);
      const ratio = (n: Float64Array) => n[0] / n[T - 1];
      console.log(
        `${rt} ‖∂L/∂h_0‖ / ‖∂L/∂h_T−1‖ over T = ${T}: SimpleRNN ${ratio(rnn).toExponential(2)}, ×4 weights ${ratio(big).toExponential(2)}, LSTM ${ratio(lstm).toExponential(2)}`,
      );
      expect(ratio(rnn)).toBeLessThan(1e-3);
      expect(ratio(big)).toBeGreaterThan(10);
      // the norms fall step by step back from the loss (vanishing), rise step by step (exploding)
      for (let t = 1; t < T; t++) {
        expect(rnn[t - 1], `SimpleRNN t = ${t - 1}`).toBeLessThan(rnn[t]);
        expect(big[t - 1], `×4 t = ${t - 1}`).toBeGreaterThan(big[t] * 0.5);
      }
      // no claim on the LSTM's ‖∂L/∂h_t‖: its long memory runs through c, not h
      expect(lstm.every(Number.isFinite)).toBe(true);
    });
  }
});

describe('Sequential.backward with stepGradNorms', () => {
  it('returns one (L·D, T) tensor per recurrent layer, equal on both backends, and frees everything', async () => {
    const res: Float64Array[][] = [];
    for (const rt of [cpu, gpu]) {
      const before = rt.memory();
      const model = rt.sequential([
        rt.embedding({ vocabSize: 6, dim: 3, seed: 1 }),
        rt.gru({ inputSize: 3, hiddenSize: 4, bidirectional: true, returnSequences: true, seed: 2 }),
        rt.lstm({ inputSize: 8, hiddenSize: 3, seed: 3 }),
        rt.dense({ inputSize: 3, units: 2, seed: 4 }),
      ]);
      const { output, tape } = await model.record([1, 2, 3, 4, 5, 0, 2, 2], { batch: 2 });
      const { stepGradNorms } = await model.backward(tape, data(4, 5), { stepGradNorms: true });
      expect(stepGradNorms!.size).toBe(2);
      const gru = stepGradNorms!.get(model.layers[1] as Recurrent)!;
      const lstm = stepGradNorms!.get(model.layers[2] as Recurrent)!;
      expect([gru.shape, lstm.shape]).toEqual([
        [2, 4],
        [1, 4],
      ]);
      const arrays = [Float64Array.from(await gru.read()), Float64Array.from(await lstm.read())];
      res.push(arrays);
      for (const t of [output, ...stepGradNorms!.values()]) t.dispose();
      model.dispose();
      expect(rt.memory()).toEqual(before);
    }
    for (let k = 0; k < 2; k++) {
      const c = compare(`layer ${k}`, res[0][k], res[1][k], { atol: 1e-6, rtol: 1e-4 });
      expect(c.ok, c.detail).toBe(true);
    }
  });
});
