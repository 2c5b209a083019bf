// Losses and metrics (src/training/losses.ts, kernels in src/kernels/losses.ts, twins in
// src/reference/losses.ts):
//  1. the float64 twins against hand-computed values;
//  2. the twins' gradients against central finite differences of their own loss;
//  3. the GPU (Dawn on SwiftShader) against the twins on seeded random data: sizes
//     that do not divide the workgroup sizes (64, 256), N = 1, C = 1, logits ±50 and
//     ±1000, probabilities of exactly 0 and 1 (BCE's −100 clamp);
//  4. ignored / padded rows, the all-ignored batch, the label-range error and other
//     refused inputs; no readback until .read(), and no GPU buffer left behind.
// The cases of 3 and the first three of 4 live in parity/loss_cases.ts, shared with
// the headless-Chrome page (browser_training.test.ts).
//
// Tolerances (GPU vs twin, per tensor): the twin is fed the same float32-rounded
// inputs, so the gap is float32 arithmetic: WGSL's exp/log are accurate to a few ulp
// (log: 2^-21 absolute on [0.5, 2]), per-element terms are O(1) to O(2000) (±1000
// logits), and the mean sums at most a few thousand of them. Loss: atol 1e-6 + rtol 1e-5.
// Gradients are divided by n (or the kept rows), so their absolute tolerance is
// 1e-6 / n: the same 1e-6 relative to one unscaled term; rtol 1e-5 covers BCE's
// (p − y) / max(p(1 − p), 1e-12) up to 1e12 / n. (LOSS_TOL and gradTol in
// parity/loss_cases.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShapeError, ValueError, type Runtime } from '../src/index';
import { bceLoss, binaryAccuracy, categoricalAccuracy, mseLoss, perplexity, softmaxCrossEntropy } from '../src/training/losses';
import {
  bceLossRef,
  binaryAccuracyRef,
  categoricalAccuracyRef,
  mseLossRef,
  perplexityRef,
  softmaxXentRef,
  type RowSelection,
} from '../src/reference/losses';
import { Rng } from '../src/weights/random';
import { ignoredRowCases, lossCases, paddedData, PADDED, type LossRow } from './parity/loss_cases';
import { cpuRuntime, gpuRuntime } from './helpers/runtimes';

const FD_BAR = 1e-6;

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Every row within its tolerance; the message lists the ones that are not. */
function expectRowsOk(rows: LossRow[]): void {
  const bad = rows.filter((r) => !r.ok).map((r) => `${r.name}: ${r.detail}`);
  expect(bad, bad.join('\n')).toEqual([]);
}

// ---------------------------------------------------------------------------
// 1. Twins against hand-computed values

describe('CPU twins vs hand-computed values', () => {
  it('mse', () => {
    // d = [0, 2, 3, 0]: mean d² = 13/4, grad = 2d/4.
    const r = mseLossRef([1, 2, 3, 4], [1, 0, 0, 4]);
    expect(r.loss).toBe(3.25);
    expect([...r.grad]).toEqual([0, 1, 1.5, 0]);
  });

  it('bce on probabilities, with the −100 clamp at p = 0 and 1', () => {
    // −log 0.5, −log(1 − 0.9), and two exact hits (0·(−100) = 0, not NaN).
    const r = bceLossRef([0.5, 0.9, 0, 1], [1, 0, 0, 1], false);
    expect(r.loss).toBeCloseTo((Math.LN2 + Math.LN10) / 4, 14);
    // (p − y) / (p(1 − p)) / 4; exact hits at 0 and 1: (p − y) = 0.
    expect([...r.grad].map((g) => +g.toPrecision(12))).toEqual([-0.5, 2.5, 0, 0]);
    // Exact misses: log clamped at −100 each, gradient ±1 / 1e-12 / 2.
    const miss = bceLossRef([0, 1], [1, 0], false);
    expect(miss.loss).toBe(100);
    expect([...miss.grad]).toEqual([-0.5e12, 0.5e12]);
  });

  it('bce on logits (stable form)', () => {
    // x = 0, y = 1: log 2; x = 2, y = 0: log(1 + e²); x = −3, y = 1: log(1 + e³).
    const r = bceLossRef([0, 2, -3], [1, 0, 1], true);
    expect(r.loss).toBeCloseTo((Math.LN2 + Math.log(1 + Math.exp(2)) + Math.log(1 + Math.exp(3))) / 3, 14);
    const want = [(0.5 - 1) / 3, sigmoid(2) / 3, (sigmoid(-3) - 1) / 3];
    r.grad.forEach((g, i) => expect(g).toBeCloseTo(want[i], 15));
    // ±1000: the naive log(1 + e^−x) would overflow; the loss of a confident hit is 0,
    // of a confident miss 1000.
    const big = bceLossRef([1000, -1000, 1000], [1, 0, 0], true);
    expect(big.loss).toBeCloseTo(1000 / 3, 12);
    expect([...big.grad]).toEqual([0, 0, 1 / 3]);
  });

  it('softmax cross-entropy with an ignored row', () => {
    // Row 0: log(e + e² + e³) − 3 = log(1 + e⁻¹ + e⁻²); row 1: log 3; row 2 ignored.
    const logits = [1, 2, 3, 0, 0, 0, 5, 5, 5];
    const r = softmaxXentRef(logits, [2, 1, -100], 3, { ignoreIndex: -100 });
    const row0 = Math.log(1 + Math.exp(-1) + Math.exp(-2));
    expect(r.count).toBe(2);
    expect(r.loss).toBeCloseTo((row0 + Math.log(3)) / 2, 14);
    const z = Math.exp(1) + Math.exp(2) + Math.exp(3);
    const want = [Math.exp(1) / z / 2, Math.exp(2) / z / 2, (Math.exp(3) / z - 1) / 2, 1 / 6, (1 / 3 - 1) / 2, 1 / 6, 0, 0, 0];
    r.grad.forEach((g, i) => expect(g).toBeCloseTo(want[i], 15));
    expect(perplexityRef(logits, [2, 1, -100], 3, { ignoreIndex: -100 })).toBeCloseTo(Math.exp((row0 + Math.log(3)) / 2), 13);
  });

  it('accuracies', () => {
    // 0.2 → 0 hit, 0.5 → 1 hit (≥), 0.7 → 1 miss, 0.49 → 0 hit; logits likewise about 0.
    expect(binaryAccuracyRef([0.2, 0.5, 0.7, 0.49], [0, 1, 0, 0], false)).toBe(0.75);
    expect(binaryAccuracyRef([-1, 0, 2, -0.01], [0, 1, 0, 0], true)).toBe(0.75);
    // argmax 1 hit; tie (4, 4) → first index 0, miss; 2 hit; ignored row.
    const logits = [1, 3, 2, 4, 4, 0, 0, 0, 1, 9, 0, 0];
    expect(categoricalAccuracyRef(logits, [1, 1, 2, -100], 3, { ignoreIndex: -100 })).toBe(2 / 3);
    expect(categoricalAccuracyRef(logits, [1, 1, 2, 0], 3, { ignoreIndex: -100, mask: [1, 1, 1, 0] })).toBe(2 / 3);
  });
});

// ---------------------------------------------------------------------------
// 2. Twins' gradients against central finite differences (float64)
//
// fd_i = (L(x + h e_i) − L(x − h e_i)) / 2h with h = 1e-5. L is O(1) and rounded at
// ~1e-16, so rounding adds ~1e-11 absolute; the truncation h²·L'''/6 is ~1e-11 for
// these smooth losses (BCE probabilities kept in [0.05, 0.95]). Error measure: the
// largest |fd − grad| over the tensor divided by the largest |grad| (max-norm
// relative error), against the bar 1e-6.

function fdError(x: Float64Array, lossOf: (x: Float64Array) => number, grad: Float64Array): number {
  const h = 1e-5;
  let maxDiff = 0;
  let maxGrad = 0;
  for (let i = 0; i < x.length; i++) {
    const x0 = x[i];
    x[i] = x0 + h;
    const up = lossOf(x);
    x[i] = x0 - h;
    const down = lossOf(x);
    x[i] = x0;
    maxDiff = Math.max(maxDiff, Math.abs((up - down) / (2 * h) - grad[i]));
    maxGrad = Math.max(maxGrad, Math.abs(grad[i]));
  }
  return maxDiff / maxGrad;
}

describe('CPU twin gradients vs central finite differences', () => {
  const errors: Record<string, number> = {};
  afterAll(() => console.log('finite differences, max |fd − grad| / max |grad|:', errors));
  const rng = new Rng(7);
  const draw = (n: number, lo: number, hi: number) => Float64Array.from({ length: n }, () => rng.uniform(lo, hi));

  it('mse', () => {
    const pred = draw(6 * 5, -3, 3);
    const target = draw(6 * 5, -3, 3);
    errors.mse = fdError(pred, (p) => mseLossRef(p, target).loss, mseLossRef(pred, target).grad);
    expect(errors.mse).toBeLessThan(FD_BAR);
  });

  it('bce on probabilities (soft and hard targets)', () => {
    const p = draw(7 * 3, 0.05, 0.95);
    const y = Float64Array.from(draw(21, 0, 1), (v, i) => (i % 3 === 0 ? v : Math.round(v)));
    errors.bceProb = fdError(p, (q) => bceLossRef(q, y, false).loss, bceLossRef(p, y, false).grad);
    expect(errors.bceProb).toBeLessThan(FD_BAR);
  });

  it('bce on logits', () => {
    const x = draw(7 * 3, -6, 6);
    const y = Float64Array.from(draw(21, 0, 1), (v, i) => (i % 3 === 0 ? v : Math.round(v)));
    errors.bceLogits = fdError(x, (q) => bceLossRef(q, y, true).loss, bceLossRef(x, y, true).grad);
    expect(errors.bceLogits).toBeLessThan(FD_BAR);
  });

  it('softmax cross-entropy with ignored and masked rows', () => {
    const R = 9;
    const C = 4;
    const x = draw(R * C, -4, 4);
    const labels = [0, 3, -100, 1, 2, -100, 3, 0, 1];
    const sel: RowSelection = { ignoreIndex: -100, mask: [1, 1, 1, 1, 0, 1, 1, 1, 1] };
    const grad = softmaxXentRef(x, labels, C, sel).grad;
    errors.softmaxXent = fdError(x, (q) => softmaxXentRef(q, labels, C, sel).loss, grad);
    expect(errors.softmaxXent).toBeLessThan(FD_BAR);
    // Skipped rows (2, 4, 5): the loss does not depend on them and their gradient is 0.
    for (const r of [2, 4, 5]) expect([...grad.subarray(r * C, r * C + C)]).toEqual([0, 0, 0, 0]);
  });
});

// ---------------------------------------------------------------------------
// 3. GPU vs twin on random data (cases in parity/loss_cases.ts)

describe('GPU vs CPU twin (random data)', () => {
  let gpu: Runtime;
  const rows: LossRow[] = [];
  let buffersBefore = 0;
  beforeAll(async () => {
    gpu = await gpuRuntime();
    buffersBefore = gpu.memory().buffers;
  });
  afterAll(() => {
    console.log('GPU vs CPU twin: loss |Δ| / max(1, |ref|) (perplexity: |Δ| / ref; accuracies: |Δ|), grad max |Δ| / max |ref grad|');
    console.table(rows.map((r) => ({ case: r.name, loss: r.lossErr.toExponential(2), grad: r.gradErr === null ? '—' : r.gradErr.toExponential(2) })));
    gpu?.dispose();
  });

  for (const c of lossCases) {
    it(c.name, async () => {
      const got = await c.run(gpu);
      rows.push(...got);
      expect(got.length).toBeGreaterThan(0);
      expectRowsOk(got);
    });
  }

  it('no GPU buffer is left behind', () => {
    expect(gpu.memory().buffers).toBe(buffersBefore);
  });
});

// ---------------------------------------------------------------------------
// 4. Ignored and padded rows, all-ignored batches, errors, readbacks (both backends)

const BACKENDS: [string, () => Promise<Runtime>][] = [
  ['webgpu', gpuRuntime],
  ['cpu', cpuRuntime],
];

for (const [backend, make] of BACKENDS) {
  describe(`ignored rows and refused inputs (${backend})`, () => {
    let rt: Runtime;
    beforeAll(async () => {
      rt = await make();
    });
    afterAll(() => rt?.dispose());

    // A many-to-many model's outputs (B, T, C) with sequence lengths [4, 2, 0, 3]
    // (parity/loss_cases.ts): the rows b·T + t with t ≥ length are padding.
    const C = PADDED.C;
    const { logits } = paddedData();

    for (const c of ignoredRowCases) {
      it(c.name, async () => {
        const got = await c.run(rt);
        expect(got.length).toBeGreaterThan(0);
        expectRowsOk(got);
      });
    }

    /** Expects `call` to fail with `cls` and every part in the message, leaving GPU memory as it was. */
    async function refused(call: () => Promise<unknown>, cls: typeof ShapeError | typeof ValueError, parts: (string | RegExp)[]): Promise<void> {
      const before = rt.memory();
      const err = await call().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, 'expected the call to fail').toBeInstanceOf(cls);
      for (const p of parts) expect((err as Error).message).toMatch(p);
      expect(rt.memory()).toEqual(before);
    }

    it('labels out of [0, C) are refused before upload, naming labels[i], the value and the range', async () => {
      const x = rt.tensor(logits.subarray(0, 3 * C), [3, C]);
      await refused(() => softmaxCrossEntropy(rt, x, [0, 5, 1]), ValueError, [/labels\[1\] is 5/, '[0, 5)']);
      await refused(() => softmaxCrossEntropy(rt, x, [0, 1, -1]), ValueError, [/labels\[2\] is -1/, '[0, 5)', 'ignoreIndex -100']);
      await refused(() => softmaxCrossEntropy(rt, x, [0, 1.5, 1]), ValueError, [/labels\[1\] is 1\.5/]);
      await refused(() => softmaxCrossEntropy(rt, x, [0, NaN, 1]), ValueError, [/labels\[1\] is NaN/]);
      await refused(() => categoricalAccuracy(rt, x, [7, 0, 0]), ValueError, [/categoricalAccuracy: labels\[0\] is 7/]);
      await refused(() => perplexity(rt, x, [0, 0, 9], { ignoreIndex: 3 }), ValueError, [/labels\[2\] is 9/, 'ignoreIndex 3']);
      await refused(() => softmaxCrossEntropy(rt, x, [0, 1]), ShapeError, ['labels has 2 elements', '(3, 5)', '= 3']);
      await refused(() => softmaxCrossEntropy(rt, x, [0, 1, 2], { mask: [1, 0] }), ShapeError, ['mask has 2 elements']);
      x.dispose();
    });

    it('shape and value errors name the argument, the expected and the actual shape', async () => {
      const p = rt.tensor(new Float32Array(6).fill(0.5), [3, 2]);
      const wrong = rt.tensor(new Float32Array(6), [2, 3]);
      await refused(() => mseLoss(rt, p, wrong), ShapeError, ['mseLoss: target has shape (2, 3)', "expected pred's shape = (3, 2)"]);
      await refused(() => bceLoss(rt, p, new Float32Array(5)), ShapeError, ['bceLoss: target has 5 elements', '(3, 2) = 6']);
      await refused(() => mseLoss(rt, p, [0, 1, NaN, 0, 0, 0]), ValueError, ['mseLoss: target[2] is NaN']);
      await refused(() => bceLoss(rt, p, [0, 1, 1.5, 0, 0, 0]), ValueError, ['bceLoss: target[2] is 1.5', '[0, 1]']);
      await refused(() => binaryAccuracy(rt, p, [0, 1, 0.5, 0, 0, 0]), ValueError, ['binaryAccuracy: target[2] is 0.5', '0 or 1']);
      const flat = rt.tensor([1, 2], [2]);
      await refused(() => softmaxCrossEntropy(rt, flat, [0]), ShapeError, ['logits has shape (2)', '(N, C)']);
      for (const t of [p, wrong, flat]) t.dispose();
    });
  });
}

describe('no readback until read() (webgpu)', () => {
  it('losses and metrics stay on the GPU', async () => {
    const rt = await gpuRuntime();
    const be = rt.backendRef;
    if (be.kind !== 'webgpu') throw new Error('expected the webgpu backend');
    const ctx = be.ctx;
    const before = ctx.readbacks;
    const x = rt.tensor([0.2, 0.9, 0.4, 0.7], [2, 2]);
    const y = [0, 1, 1, 0];
    const results = [await mseLoss(rt, x, y), await bceLoss(rt, x, y), await bceLoss(rt, x, y, { fromLogits: true }), await softmaxCrossEntropy(rt, x, [1, -100])];
    const metrics = [await binaryAccuracy(rt, x, y), await categoricalAccuracy(rt, x, [1, 0]), await perplexity(rt, x, [1, 0])];
    expect(ctx.readbacks).toBe(before);
    for (const r of results) expect([r.loss.backend, r.grad.backend, r.loss.shape]).toEqual(['webgpu', 'webgpu', [1]]);
    for (const m of metrics) expect([m.backend, m.shape]).toEqual(['webgpu', [1]]);
    await results[0].loss.read();
    expect(ctx.readbacks).toBe(before + 1);
    rt.dispose();
  });
});

describe('CPU runtime returns CPU tensors equal to the twins', () => {
  it('all six', async () => {
    const rt = await cpuRuntime();
    const data = [0.2, 0.9, 0.4, 0.7, 0.1, 0.3];
    const y = [0, 1, 1, 0, 0, 1];
    const x = rt.tensor(data, [3, 2]);
    const mse = await mseLoss(rt, x, y);
    expect(mse.loss.backend).toBe('cpu');
    expect(mse.grad.shape).toEqual([3, 2]);
    expect((await mse.loss.read())[0]).toBe(mseLossRef(data, y).loss);
    expect((await (await bceLoss(rt, x, y)).loss.read())[0]).toBe(bceLossRef(data, y, false).loss);
    expect((await (await bceLoss(rt, x, y, { fromLogits: true })).grad.read())).toEqual(bceLossRef(data, y, true).grad);
    const sel = { ignoreIndex: -100 };
    expect((await (await softmaxCrossEntropy(rt, x, [1, -100, 0])).loss.read())[0]).toBe(softmaxXentRef(data, [1, -100, 0], 2, sel).loss);
    expect((await (await binaryAccuracy(rt, x, y)).read())[0]).toBe(binaryAccuracyRef(data, y, false));
    expect((await (await categoricalAccuracy(rt, x, [1, 1, 0])).read())[0]).toBe(categoricalAccuracyRef(data, [1, 1, 0], 2, sel));
    expect((await (await perplexity(rt, x, [1, 1, 0])).read())[0]).toBe(perplexityRef(data, [1, 1, 0], 2, sel));
  });
});