// Keras masking: forward(x, { mask }) with a (B, T) step mask, zeros anywhere
// (pre-padding as Keras's pad_sequences makes it, post-padding, holes). A masked
// step carries the state and repeats the previous output (0 before the first).
//
// The ladder:
//  1. TensorFlow.js 4.22 (the real peer, cpu backend): Masking + SimpleRNN / LSTM /
//     Bidirectional(LSTM) with the same weights, on pre- and post-padded batches,
//     against our CPU reference and our GPU kernels (both paths).
//  2. GPU kernels against the CPU reference on random masks, every cell (GRU
//     both conventions), 2 layers, bidirectional: outputs, final states, and the
//     gradients of x, h0, c0 and every weight.
//  3. The CPU reference's masked backward against central finite differences.
//  4. Sequential with Embedding(maskZero) against TensorFlow.js, and fit: masked
//     steps are ignored by a per-step loss, GPU and CPU curves agree.
// Tolerances: float32 kernels against float64 references, 1e-5 abs on outputs
// (measured ≤ 1e-6); gradients 1e-4 relative to each tensor's largest entry.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Adam, ShapeError, ValueError, softmaxCrossEntropy, type Recurrent, type Runtime } from '../src/index';
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

const B = 3;
const T = 5;
const I = 2;
const H = 4;

/** Row b pre-padded with `pre[b]` masked steps, post-padded with `post[b]`. */
function padMask(pre: number[], post: number[]): number[] {
  const m: number[] = [];
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) m.push(t >= pre[b] && t < T - post[b] ? 1 : 0);
  return m;
}

/** x with the masked steps' features set to 0 (what tfjs's Masking(0) reads as masked). */
function maskedInput(mask: number[], seed: number): Float32Array {
  const x = data(B * T * I, seed);
  for (let bt = 0; bt < B * T; bt++) {
    if (!mask[bt]) x.fill(0, bt * I, (bt + 1) * I);
    else if (x[bt * I] === 0) x[bt * I] = 0.5; // never all-zero at a present step
  }
  return x;
}

const worst: Record<string, number> = {};
afterAll(() => console.log('mask max |ours − reference| by check:', JSON.stringify(worst)));

function expectClose(name: string, ref: ArrayLike<number>, got: ArrayLike<number>, atol: number): void {
  const c = compare(name, ref, got, { atol });
  const key = name.replace(/\[.*$/, '');
  worst[key] = Math.max(worst[key] ?? 0, c.maxAbs);
  expect(c.ok, c.detail).toBe(true);
}

async function run(layer: Recurrent, x: Float32Array, mask: number[], path: 'step' | 'persistent' | 'auto' = 'auto'): Promise<{ out: Float64Array; h: Float64Array }> {
  const r = await layer.forward(x, { batch: B, mask, path });
  const out = Float64Array.from(await r.output.read());
  const h = Float64Array.from(await r.h.read());
  for (const t of [r.output, r.h, r.c]) t?.dispose();
  return { out, h };
}

describe('against TensorFlow.js 4.22: Masking(0) + recurrent layers, pre- and post-padded', () => {
  const masks = {
    'pre-padded (pad_sequences default)': padMask([2, 0, 4], [0, 0, 0]),
    'post-padded': padMask([0, 0, 0], [1, 0, 3]),
    'holes and an empty row': [1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0],
  };
  const cells = [
    { name: 'SimpleRNN', make: (units: number) => tf.layers.simpleRNN({ units, returnSequences: true }), ours: 'simpleRNN' as const },
    { name: 'LSTM', make: (units: number) => tf.layers.lstm({ units, returnSequences: true, recurrentActivation: 'sigmoid' }), ours: 'lstm' as const },
  ];
  for (const bidirectional of [false, true]) {
    for (const cell of cells) {
      for (const [what, mask] of Object.entries(masks)) {
        it(`${bidirectional ? 'Bidirectional ' : ''}${cell.name}, ${what}`, async () => {
          const model = tf.sequential();
          model.add(tf.layers.masking({ maskValue: 0, inputShape: [T, I] }));
          const rnn = cell.make(H);
          model.add(bidirectional ? tf.layers.bidirectional({ layer: rnn as tf.RNN, mergeMode: 'concat' }) : rnn);
          // seeded weights, set explicitly: kernel (I, G), recurrent_kernel (H, G), bias (G), per direction
          const weights = model.getWeights().map((w, k) => tf.tensor(data(w.size, 100 + k).map((v) => v * 0.8), w.shape));
          model.setWeights(weights);
          const x = maskedInput(mask, 7);
          const want = Float64Array.from(await (model.predict(tf.tensor(x, [B, T, I])) as tf.Tensor).data());
          const arrays = await Promise.all(model.getWeights().map((w) => w.data()));
          const entry = (d: number) => ({ kernel: arrays[3 * d] as Float32Array, recurrentKernel: arrays[3 * d + 1] as Float32Array, bias: arrays[3 * d + 2] as Float32Array });
          for (const rt of [cpu, gpu]) {
            const ours = rt[cell.ours]({ inputSize: I, hiddenSize: H, bidirectional, convention: 'keras' });
            ours.loadKerasWeights(bidirectional ? [[entry(0), entry(1)]] : [entry(0)]);
            const paths = rt === gpu ? (['step', 'persistent'] as const) : (['auto'] as const);
            for (const path of paths) {
              const got = await run(ours, x, mask, path);
              expectClose(`${rt.backend} ${path} output`, want, got.out, 1e-5);
            }
            ours.dispose();
          }
          tf.dispose(weights);
          model.dispose();
        });
      }
    }
  }
});

describe('GPU kernels against the CPU reference, random masks', () => {
  const cases = [
    { cell: 'simpleRNN' as const, opts: {} },
    { cell: 'gru' as const, opts: {} },
    { cell: 'gru' as const, opts: { resetAfter: false, convention: 'keras' as const } },
    { cell: 'lstm' as const, opts: {} },
  ];
  for (const { cell, opts } of cases) {
    for (const path of ['step', 'persistent'] as const) {
      it(`${cell}${'resetAfter' in opts ? ' (reset_after=False)' : ''}, 2 layers, bidirectional, ${path}: outputs, states and every gradient`, async () => {
        const mk = (rt: Runtime) => rt[cell]({ inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: true, seed: 3, ...opts });
        const layers = [mk(cpu), mk(gpu)];
        const mask = [0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, 1, 1];
        const x = data(B * T * I, 11);
        const h0 = data(4 * B * H, 12);
        const c0 = cell === 'lstm' ? data(4 * B * H, 13) : undefined;
        const dOut = data(B * T * 2 * H, 14);
        const dh = data(4 * B * H, 15);
        const res = [];
        for (const [k, layer] of layers.entries()) {
          const r = await layer.forward(x, { batch: B, mask, h0, c0, record: true, path: k === 1 ? path : 'auto' });
          const g = await layer.backward(r.tape!, { dOutput: dOut, dh });
          res.push({
            out: await r.output.read(),
            h: await r.h.read(),
            c: r.c ? await r.c.read() : null,
            dx: await g.dx.read(),
            dh0: await g.dh0.read(),
            dc0: g.dc0 ? await g.dc0.read() : null,
            grads: await layer.gradients(),
          });
          for (const t of [r.output, r.h, r.c, g.dx, g.dh0, g.dc0]) t?.dispose();
        }
        const [ref, got] = res;
        expectClose('output', ref.out, got.out, 1e-5);
        expectClose('h', ref.h, got.h, 1e-5);
        if (ref.c) expectClose('c', ref.c, got.c!, 1e-5);
        const rel = (name: string, a: ArrayLike<number>, b: ArrayLike<number>) => {
          const scale = Math.max(1e-3, ...Array.from(a, Math.abs));
          expectClose(name, a, b, 1e-4 * scale);
        };
        rel('dx', ref.dx, got.dx);
        rel('dh0', ref.dh0, got.dh0);
        if (ref.dc0) rel('dc0', ref.dc0, got.dc0!);
        for (const name of Object.keys(ref.grads)) rel(name, ref.grads[name], got.grads[name]);
        // the masked steps really repeat the previous output (forward direction, layer 2's first H columns)
        const o = ref.out;
        const at = (b: number, t: number) => Array.from(o.slice((b * T + t) * 2 * H, (b * T + t) * 2 * H + H));
        expect(at(0, 0)).toEqual(new Array(H).fill(0)); // masked before the first step: 0, although h0 ≠ 0
        expect(at(1, 4)).toEqual(at(1, 3)); // post-padding repeats the last output
        expect(at(2, 2)).toEqual(at(2, 1)); // a hole repeats the step before it
        for (const l of layers) l.dispose();
      });
    }
  }
});

describe('the CPU reference under a mask, against finite differences', () => {
  it('∂(Σ R ⊙ output + Σ R2 ⊙ h_n)/∂x and ∂/∂weight_hh_l0 of a bidirectional LSTM', async () => {
    const lstm = cpu.lstm({ inputSize: I, hiddenSize: H, bidirectional: true, seed: 5 });
    const mask = padMask([2, 0, 1], [0, 2, 1]);
    const x = Float64Array.from(data(B * T * I, 21));
    const R = data(B * T * 2 * H, 22);
    const R2 = data(2 * B * H, 23);
    const lossOf = async (xv: Float64Array): Promise<number> => {
      const r = await lstm.forward(xv, { batch: B, mask });
      const o = await r.output.read();
      const h = await r.h.read();
      for (const t of [r.output, r.h, r.c]) t?.dispose();
      let s = 0;
      for (let i = 0; i < o.length; i++) s += R[i] * o[i];
      for (let i = 0; i < h.length; i++) s += R2[i] * h[i];
      return s;
    };
    const r = await lstm.forward(x, { batch: B, mask, record: true });
    const g = await lstm.backward(r.tape!, { dOutput: R, dh: R2 });
    const dx = await g.dx.read();
    const eps = 1e-6;
    for (let i = 0; i < x.length; i++) {
      const xp = x.slice();
      const xm = x.slice();
      xp[i] += eps;
      xm[i] -= eps;
      const fd = ((await lossOf(xp)) - (await lossOf(xm))) / (2 * eps);
      expect(Math.abs(fd - dx[i]), `dx[${i}]: fd ${fd} vs backward ${dx[i]}`).toBeLessThan(1e-6 + 1e-5 * Math.abs(fd));
    }
    // one recurrent weight, through loadTorchStateDict
    const sd = lstm.torchStateDict();
    const dW = (await lstm.gradients()).weight_hh_l0;
    for (const k of [0, 5, 17, 40, 63]) {
      const bump = async (delta: number) => {
        const w = Float32Array.from(sd.weight_hh_l0.data);
        w[k] += delta;
        lstm.loadTorchStateDict({ ...sd, weight_hh_l0: { data: w, shape: sd.weight_hh_l0.shape } });
        return lossOf(x);
      };
      const e = 1e-3; // weights are float32: a larger step, and the difference taken in float64
      const fd = ((await bump(e)) - (await bump(-e))) / (2 * e);
      expect(Math.abs(fd - dW[k]), `weight_hh_l0[${k}]: fd ${fd} vs backward ${dW[k]}`).toBeLessThan(2e-5 + 1e-3 * Math.abs(fd));
    }
    for (const t of [r.output, r.h, r.c, g.dx, g.dh0, g.dc0]) t?.dispose();
    lstm.dispose();
  });
});

describe('mask arguments', () => {
  it('a mask of the wrong length or values, or with lengths too, is refused naming it', async () => {
    for (const rt of [cpu, gpu]) {
      const rnn = rt.simpleRNN({ inputSize: I, hiddenSize: H });
      const x = data(B * T * I);
      await expect(rnn.forward(x, { batch: B, mask: [1, 0] })).rejects.toThrow(ShapeError);
      await expect(rnn.forward(x, { batch: B, mask: new Array(B * T).fill(2) })).rejects.toThrow(/mask\[0\] \(sample 0, step 0\) is 2; expected 0 or 1/);
      await expect(rnn.forward(x, { batch: B, mask: new Array(B * T).fill(1), lengths: [1, 2, 3] })).rejects.toThrow(ValueError);
      await expect(rnn.forward(x, { batch: B, mask: null as never })).rejects.toThrow(/mask must be an array/);
      rnn.dispose();
    }
  });
});

describe('masks through Sequential and fit', () => {
  it('Embedding(maskZero) → LSTM → Dense predicts what TensorFlow.js predicts on pre-padded ids', async () => {
    const V = 6;
    const model = tf.sequential();
    model.add(tf.layers.embedding({ inputDim: V, outputDim: 3, maskZero: true, inputLength: T }));
    model.add(tf.layers.lstm({ units: H, recurrentActivation: 'sigmoid' }));
    model.add(tf.layers.dense({ units: 2 }));
    const weights = model.getWeights().map((w, k) => tf.tensor(data(w.size, 200 + k), w.shape));
    model.setWeights(weights);
    const ids = [0, 0, 3, 1, 5, 2, 4, 1, 3, 3, 0, 0, 0, 0, 4]; // pre-padded rows, one with a single token
    const want = Float64Array.from(await (model.predict(tf.tensor(ids, [B, T], 'int32')) as tf.Tensor).data());
    const w = await Promise.all(model.getWeights().map((t) => t.data() as Promise<Float32Array>));
    for (const rt of [cpu, gpu]) {
      const emb = rt.embedding({ vocabSize: V, dim: 3, maskZero: true });
      emb.loadTorchStateDict({ weight: w[0] });
      const lstm = rt.lstm({ inputSize: 3, hiddenSize: H, convention: 'keras' });
      lstm.loadKerasWeights([{ kernel: w[1], recurrentKernel: w[2], bias: w[3] }]);
      const dense = rt.dense({ inputSize: H, units: 2 });
      dense.loadKerasWeights([w[4], w[5]]);
      const ours = rt.sequential([emb, lstm, dense]);
      const y = await ours.predict(ids, { batch: B });
      expectClose(`${rt.backend} predict`, want, await y.read(), 1e-5);
      y.dispose();
      ours.dispose();
    }
    tf.dispose(weights);
    model.dispose();
  });

  it('fit with maskZero ignores masked steps in a per-step loss, and trains alike on both backends', async () => {
    const V = 5;
    const N = 4;
    const ids = [0, 0, 1, 2, 3, 0, 1, 2, 3, 4, 0, 0, 0, 4, 3, 0, 2, 2, 1, 1];
    const next = ids.map((_, i) => (i % T === T - 1 ? 0 : ids[i + 1])); // many-to-many labels
    const curves: number[][] = [];
    for (const rt of [cpu, gpu]) {
      const model = rt.sequential([rt.embedding({ vocabSize: V, dim: 3, seed: 1, maskZero: true }), rt.gru({ inputSize: 3, hiddenSize: H, seed: 2, returnSequences: true }), rt.dense({ inputSize: H, units: V, seed: 3 })]);
      // evaluate's loss equals the by-hand loss with the masked steps' labels ignored
      const logits = await model.predict(ids, { batch: N });
      const labels = next.map((v, i) => (ids[i] === 0 ? -100 : v));
      const byHand = await softmaxCrossEntropy(rt, logits, labels);
      const evaluated = await model.evaluate({ x: ids, y: next, seqLen: T }, { loss: 'softmaxCrossEntropy' });
      expect(evaluated.loss).toBeCloseTo((await byHand.loss.read())[0], 5);
      for (const t of [logits, byHand.loss, byHand.grad]) t.dispose();
      const opt = new Adam(model.parameters(), { lr: 0.05 });
      const h = await model.fit({ x: ids, y: next, seqLen: T }, { loss: 'softmaxCrossEntropy', optimizer: opt, epochs: 8, shuffle: false });
      curves.push(h.history.loss);
      opt.dispose();
      model.dispose();
    }
    expect(curves[1][7]).toBeLessThan(curves[1][0]);
    // maskZero and lengths together: refused before anything trains
    const m = cpu.sequential([cpu.embedding({ vocabSize: V, dim: 3, maskZero: true }), cpu.gru({ inputSize: 3, hiddenSize: H, returnSequences: true }), cpu.dense({ inputSize: H, units: V })]);
    const o = new Adam(m.parameters(), { lr: 0.05 });
    await expect(m.fit({ x: ids, y: next, seqLen: T, lengths: [5, 5, 5, 5] }, { loss: 'softmaxCrossEntropy', optimizer: o })).rejects.toThrow(/maskZero .* lengths .* cannot be used too/);
    o.dispose();
    m.dispose();
    expectClose('GPU loss curve vs CPU', curves[0], curves[1], 1e-4);
  });
});
