// One-to-many from a vector (issue 11): a class id, one-hot over C = 4 classes,
// becomes its fixed token sequence of length 6. The model is
//   Dense(C → 8, tanh) → RepeatVector(6) → LSTM(8 → 16, returnSequences) → Dense(16 → V)
// trained with fit() on per-step labels (softmaxCrossEntropy); afterwards predict's
// argmax must spell every class's sequence exactly, on both backends. Also: the
// summary row, the gradient through RepeatVector (GPU vs CPU, and the CPU against
// finite differences), memory after dispose, and the typed errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Adam, RepeatVector, ShapeError, ValueError, mseLoss, toLayersModel, type Runtime, type Tensor } from '../src/index';
import { cpuRuntime, gpuRuntime } from './helpers/runtimes';

const C = 4; // classes
const T = 6; // output steps
const V = 4; // tokens
const SEQS = [
  [1, 2, 3, 1, 2, 3],
  [3, 2, 1, 3, 2, 1],
  [0, 0, 1, 1, 2, 2],
  [2, 0, 2, 0, 3, 3],
];

function oneHot(c: number): number[] {
  return Array.from({ length: C }, (_, k) => (k === c ? 1 : 0));
}

const x = SEQS.flatMap((_, c) => oneHot(c)); // (N, C), N = 4
const y = SEQS.flat(); // (N, T) labels

function argmaxRows(v: ArrayLike<number>, rows: number, width: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let k = 1; k < width; k++) if (v[r * width + k] > v[r * width + best]) best = k;
    out.push(best);
  }
  return out;
}

const runtimes: Record<string, Runtime> = {};
beforeAll(async () => {
  runtimes.webgpu = await gpuRuntime();
  runtimes.cpu = await cpuRuntime();
});
afterAll(() => runtimes.webgpu.dispose());

function build(rt: Runtime) {
  return rt.sequential([
    rt.dense({ inputSize: C, units: 8, activation: 'tanh', seed: 1 }),
    rt.repeatVector(T),
    rt.lstm({ inputSize: 8, hiddenSize: 16, returnSequences: true, seed: 2 }),
    rt.dense({ inputSize: 16, units: V, seed: 3 }),
  ]);
}

for (const backend of ['webgpu', 'cpu'] as const) {
  describe(`one-to-many on ${backend}`, () => {
    it('Dense → RepeatVector → LSTM → Dense learns each class id → its sequence: 100 % exact', async () => {
      const rt = runtimes[backend];
      const before = rt.memory();
      const model = build(rt);
      const opt = new Adam(model.parameters(), { lr: 0.05 });
      const hist = await model.fit({ x, y, seqLen: T }, { loss: 'softmaxCrossEntropy', optimizer: opt, epochs: 120, batchSize: 4, metrics: ['accuracy'], seed: 1 });
      const logits = await model.predict(x);
      expect(logits.shape).toEqual([SEQS.length, T, V]);
      const pred = argmaxRows(await logits.read(), SEQS.length * T, V);
      logits.dispose();
      const loss = hist.history.loss;
      console.log(`one-to-many ${backend}: loss ${loss[0].toFixed(3)} → ${loss[loss.length - 1].toFixed(4)}, accuracy ${hist.history.accuracy.at(-1)}, predicted ${JSON.stringify(pred)}`);
      expect(pred).toEqual(y);
      opt.dispose();
      model.dispose();
      expect(rt.memory()).toEqual(before);
    });
  });
}

describe('RepeatVector', () => {
  it("summary(): 'repeat_vector (RepeatVector)  (None, 6, 8)  0', the LSTM after it (None, 6, 16)", () => {
    const model = build(runtimes.cpu);
    const s = model.summary();
    expect(s).toMatch(/dense \(Dense\)\s+\(None, 8\)\s+40/);
    expect(s).toMatch(/repeat_vector \(RepeatVector\)\s+\(None, 6, 8\)\s+0/);
    expect(s).toMatch(/lstm \(LSTM\)\s+\(None, 6, 16\)/);
    expect(s).toMatch(/dense_1 \(Dense\)\s+\(None, 6, 4\)/);
    model.dispose();
  });

  it('model gradients through RepeatVector: GPU matches CPU, CPU matches finite differences', async () => {
    const grads: Record<string, Float32Array[]> = {};
    const names: Record<string, string[]> = {};
    const losses: Record<string, (w: Float32Array) => Promise<number>> = {};
    const target = Float32Array.from({ length: SEQS.length * T * V }, (_, k) => Math.sin(k));
    const ref = build(runtimes.cpu).layers[0] as unknown as { torchStateDict(): { weight: { data: Float32Array } } };
    const w0 = ref.torchStateDict().weight.data;
    for (const backend of ['webgpu', 'cpu'] as const) {
      const rt = runtimes[backend];
      const model = build(rt);
      const { output, tape } = await model.record(x);
      const { grad, loss } = await mseLoss(rt, output, target);
      await model.backward(tape, grad);
      output.dispose();
      grad.dispose();
      loss.dispose();
      const params = model.parameters();
      names[backend] = params.map((p) => p.name);
      grads[backend] = await Promise.all(params.map(async (p) => (p.kind === 'cpu' ? Float32Array.from(p.grad) : await p.ctx.readback(p.grad, p.size))));
      if (backend === 'cpu') {
        const first = model.layers[0] as unknown as { loadTorchStateDict(sd: unknown): void; torchStateDict(): { bias: { data: Float32Array } } };
        const bias = first.torchStateDict().bias.data;
        losses.cpu = async (w) => {
          first.loadTorchStateDict({ weight: { data: w, shape: [8, C] }, bias: { data: bias, shape: [8] } });
          const out = await model.predict(x);
          const r = await mseLoss(rt, out, target);
          const v = (await r.loss.read())[0];
          out.dispose();
          r.loss.dispose();
          r.grad.dispose();
          return v;
        };
      } else model.dispose();
    }
    // the Dense layers on both sides of the LSTM (the recurrent layer keeps its GPU
    // gradients in its own layout; tests/grad_parity.test.ts covers it)
    expect(names.webgpu).toEqual(names.cpu);
    for (let p = 0; p < grads.cpu.length; p++) {
      if (!/^[03]\./.test(names.cpu[p])) continue;
      for (let k = 0; k < grads.cpu[p].length; k++) expect(Math.abs(grads.webgpu[p][k] - grads.cpu[p][k]), `${names.cpu[p]}[${k}]`).toBeLessThan(1e-6 + 1e-4 * Math.abs(grads.cpu[p][k]));
    }
    // central differences on the first Dense's weight (before the RepeatVector): its
    // gradient is the sum over the 6 steps that RepeatVector's backward computes
    const eps = 1e-3;
    for (const k of [0, 5, 13, 31]) {
      const plus = Float32Array.from(w0);
      const minus = Float32Array.from(w0);
      plus[k] += eps;
      minus[k] -= eps;
      const fd = ((await losses.cpu(plus)) - (await losses.cpu(minus))) / (2 * eps);
      expect(Math.abs(fd - grads.cpu[0][k])).toBeLessThan(1e-4 + 1e-3 * Math.abs(fd));
    }
  });

  it('layer forward/backward: (B, F) → (B, n, F), gradient summed over the steps; memory unchanged after dispose', async () => {
    const rt = runtimes.webgpu;
    const before = rt.memory();
    const layer = rt.repeatVector(3);
    expect(layer).toBeInstanceOf(RepeatVector);
    expect(layer.paramCount).toBe(0);
    const xt = rt.tensor([1, 2, 3, 4], [2, 2]);
    const { output, tape } = await layer.record(xt);
    expect(output.shape).toEqual([2, 3, 2]);
    expect(Array.from(await output.read())).toEqual([1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4]);
    const dx = await layer.backward(tape, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(dx.shape).toEqual([2, 2]);
    expect(Array.from(await dx.read())).toEqual([9, 12, 27, 30]);
    for (const t of [xt, output, dx] as Tensor[]) t.dispose();
    layer.dispose();
    expect(rt.memory()).toEqual(before);
  });

  it('typed errors: n not a positive integer, input not (B, F), wrong model places, mismatched seqLen', async () => {
    for (const rt of [runtimes.webgpu, runtimes.cpu]) {
      const before = rt.memory();
      for (const n of [0, -2, 1.5, Number.NaN, '3' as unknown as number, undefined as unknown as number]) expect(() => rt.repeatVector(n)).toThrow(ValueError);
      const layer = rt.repeatVector(2);
      const seq = rt.tensor([1, 2, 3, 4, 5, 6], [1, 3, 2]);
      await expect(layer.forward(seq)).rejects.toThrow(ShapeError); // (B, T, F): a sequence
      await expect(layer.forward([1, 2, 3])).rejects.toThrow(ShapeError); // an array without its shape
      await expect(layer.forward([1, 2, 3], [2, 2])).rejects.toThrow(ShapeError); // 3 values for (2, 2)
      await expect(layer.forward([1, 2, 3], [3])).rejects.toThrow(ShapeError);
      const { output, tape } = await layer.record([1, 2], [1, 2]);
      await expect(layer.backward(tape, [1, 2, 3])).rejects.toThrow(ShapeError); // not (B, n, F)
      const dx = await layer.backward(tape, [1, 2, 3, 4]);
      await expect(layer.backward(tape, [1, 2, 3, 4])).rejects.toThrow(ValueError); // tape used
      output.dispose();
      dx.dispose();
      seq.dispose();
      // in a model: after an Embedding or a returnSequences layer there is no vector; not first
      const emb = rt.embedding({ vocabSize: 5, dim: 3 });
      expect(() => rt.sequential([emb, rt.repeatVector(2)])).toThrow(ShapeError);
      const lstm = rt.lstm({ inputSize: 3, hiddenSize: 4, returnSequences: true });
      expect(() => rt.sequential([lstm, rt.repeatVector(2)])).toThrow(ShapeError);
      expect(() => rt.sequential([rt.repeatVector(2)])).toThrow(ValueError);
      emb.dispose();
      lstm.dispose();
      // many-to-one → RepeatVector is fine (an encoder's last state fed to a decoder)
      const enc = rt.gru({ inputSize: 3, hiddenSize: 4 });
      const ok = rt.sequential([enc, rt.repeatVector(2), rt.gru({ inputSize: 4, hiddenSize: 2, returnSequences: true })]);
      const out = await ok.predict(new Float32Array(2 * 5 * 3).fill(0.5), { batch: 2, seqLen: 5 });
      expect(out.shape).toEqual([2, 2, 2]);
      out.dispose();
      ok.dispose();
      // fit: seqLen must be the RepeatVector's n; tbptt needs a sequence input
      const model = build(rt);
      const opt = new Adam(model.parameters(), { lr: 0.01 });
      await expect(model.fit({ x, y, seqLen: 5 }, { loss: 'softmaxCrossEntropy', optimizer: opt })).rejects.toThrow(ShapeError);
      await expect(model.fit({ x, y: y.slice(1), seqLen: T }, { loss: 'softmaxCrossEntropy', optimizer: opt })).rejects.toThrow(ShapeError);
      await expect(model.fit({ x, y, seqLen: T }, { loss: 'softmaxCrossEntropy', optimizer: opt, tbptt: 2 })).rejects.toThrow(ValueError);
      await expect(model.predict(x, { seqLen: 3 })).rejects.toThrow(ShapeError);
      // not in model.json yet: refused rather than written wrong
      await expect(toLayersModel(model)).rejects.toThrow(ValueError);
      opt.dispose();
      model.dispose();
      layer.dispose();
      expect(rt.memory()).toEqual(before);
    }
  });
});
