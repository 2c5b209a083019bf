// Losses and metrics (src/losses.ts, kernels in src/kernels/losses.ts, twins in
// src/reference/losses.ts):
//  1. the float64 twins against hand-computed values;
//  2. the twins' gradients against central finite differences of their own loss;
//  3. the GPU (Dawn on SwiftShader) against the twins on seeded random data: sizes
//     that do not divide the workgroup sizes (64, 256), N = 1, C = 1, logits ±50 and
//     ±1000, probabilities of exactly 0 and 1 (BCE's −100 clamp);
//  4. ignored / padded rows, the all-ignored batch, the label-range error and other
//     refused inputs; no readback until .read(), and no GPU buffer left behind.
//
// Tolerances (GPU vs twin, per tensor): the twin is fed the same float32-rounded
// inputs, so the gap is float32 arithmetic: WGSL's exp/log are accurate to a few ulp
// (log: 2^-21 absolute on [0.5, 2]), per-element terms are O(1) to O(2000) (±1000
// logits), and the mean sums at most a few thousand of them. Loss: atol 1e-6 + rtol 1e-5.
// Gradients are divided by n (or the kept rows), so their absolute tolerance is
// 1e-6 / n: the same 1e-6 relative to one unscaled term; rtol 1e-5 covers BCE's
// (p − y) / max(p(1 − p), 1e-12) up to 1e12 / n.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShapeError, ValueError, type Runtime, type Tensor } from '../src/index';
import { bceLoss, binaryAccuracy, categoricalAccuracy, mseLoss, perplexity, softmaxCrossEntropy, type LossResult } from '../src/losses';
import {
  bceLossRef,
  binaryAccuracyRef,
  categoricalAccuracyRef,
  mseLossRef,
  perplexityRef,
  softmaxXentRef,
  type LossRef,
  type RowSelection,
} from '../src/reference/losses';
import { Rng } from '../src/weights/random';
import { compare, type Comparison } from './parity/compare';
import { cpuRuntime, gpuRuntime } from './helpers/runtimes';

const LOSS_TOL = { atol: 1e-6, rtol: 1e-5 };
const gradTol = (n: number) => ({ atol: 1e-6 / Math.max(n, 1), rtol: 1e-5 });
const FD_BAR = 1e-6;

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

function expectOk(...cs: Comparison[]): void {
  const bad = cs.filter((c) => !c.ok);
  expect(bad.map((c) => c.detail), bad.map((c) => c.detail).join('\n')).toEqual([]);
}

async function readLoss(r: LossResult): Promise<{ loss: number; grad: Float32Array | Float64Array }> {
  const [l, g] = await Promise.all([r.loss.read(), r.grad.read()]);
  r.loss.dispose();
  r.grad.dispose();
  return { loss: l[0], grad: g };
}

async function readScalar(t: Tensor): Promise<number> {
  expect(t.shape).toEqual([1]);
  const v = (await t.read())[0];
  t.dispose();
  return v;
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
// 3. GPU vs twin on random data

/** Seeded float32 data (what the GPU sees), as a Float32Array. */
function f32(n: number, rng: Rng, gen: (rng: Rng, i: number) => number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => gen(rng, i));
}

/** Logits with a few extreme rows: ±50 and ±1000 every 5th and 7th row. */
function extremeLogits(R: number, C: number, rng: Rng): Float32Array {
  return f32(R * C, rng, (g, i) => {
    const r = Math.floor(i / C);
    const big = r % 7 === 3 ? 1000 : r % 5 === 2 ? 50 : 0;
    return big ? (g.next() < 0.5 ? -big : big) * g.uniform(0.5, 1) : 3 * g.normal();
  });
}

interface ErrRow {
  case: string;
  loss: number;
  grad: number | null; // null: a metric, no gradient
}

describe('GPU vs CPU twin (random data)', () => {
  let gpu: Runtime;
  const rows: ErrRow[] = [];
  let buffersBefore = 0;
  beforeAll(async () => {
    gpu = await gpuRuntime();
    buffersBefore = gpu.memory().buffers;
  });
  afterAll(() => {
    console.log('GPU vs CPU twin: loss |Δ| / max(1, |ref|) (perplexity: |Δ| / ref), grad max |Δ| / max |ref grad|');
    console.table(rows.map((r) => ({ case: r.case, loss: r.loss.toExponential(2), grad: r.grad === null ? '—' : r.grad.toExponential(2) })));
    gpu?.dispose();
  });

  /** Compares a GPU loss with its twin and records the relative errors. */
  async function checkLoss(name: string, got: LossResult, ref: LossRef, n: number): Promise<void> {
    const g = await readLoss(got);
    let maxRef = 0;
    let maxDiff = 0;
    ref.grad.forEach((v, i) => {
      maxRef = Math.max(maxRef, Math.abs(v));
      maxDiff = Math.max(maxDiff, Math.abs(v - g.grad[i]));
    });
    rows.push({ case: name, loss: Math.abs(g.loss - ref.loss) / Math.max(1, Math.abs(ref.loss)), grad: maxRef ? maxDiff / maxRef : maxDiff });
    expectOk(compare(`${name}.loss`, [ref.loss], [g.loss], LOSS_TOL), compare(`${name}.grad`, ref.grad, g.grad, gradTol(n)));
  }

  const SHAPES: [number, number][] = [
    [1, 1],
    [1, 7],
    [7, 13], // 91: not a multiple of 64
    [64, 5], // 320 > 256: several strides of the reduction
    [300, 7], // 2100
  ];

  for (const [N, K] of SHAPES) {
    it(`mse (${N}, ${K})`, async () => {
      const rng = new Rng(100 + N * K);
      const pred = f32(N * K, rng, (g) => 3 * g.normal());
      const target = f32(N * K, rng, (g) => 3 * g.normal());
      const p = gpu.tensor(pred, [N, K]);
      await checkLoss(`mse (${N},${K})`, await mseLoss(gpu, p, target), mseLossRef(pred, target), N * K);
      // A target tensor already on the GPU gives the same result.
      const t = gpu.tensor(target, [N, K]);
      await checkLoss(`mse (${N},${K}) tensor target`, await mseLoss(gpu, p, t), mseLossRef(pred, target), N * K);
      p.dispose();
      t.dispose();
    });

    it(`bce on probabilities (${N}, ${K}), with exact 0 and 1`, async () => {
      const rng = new Rng(200 + N * K);
      // Every 4th probability is exactly 0 or 1 (hits and misses); targets mix hard and soft.
      const pred = f32(N * K, rng, (g, i) => (i % 4 === 1 ? (g.next() < 0.5 ? 0 : 1) : g.uniform(1e-4, 1 - 1e-4)));
      const target = f32(N * K, rng, (g, i) => (i % 3 === 2 ? g.next() : g.next() < 0.5 ? 0 : 1));
      const p = gpu.tensor(pred, [N, K]);
      await checkLoss(`bce prob (${N},${K})`, await bceLoss(gpu, p, target), bceLossRef(pred, target, false), N * K);
      p.dispose();
    });

    it(`bce on logits (${N}, ${K}), with ±50 and ±1000`, async () => {
      const rng = new Rng(300 + N * K);
      const pred = f32(N * K, rng, (g, i) => (i % 5 === 1 ? (g.next() < 0.5 ? -50 : 50) : i % 7 === 3 ? (g.next() < 0.5 ? -1000 : 1000) : 4 * g.normal()));
      const target = f32(N * K, rng, (g, i) => (i % 3 === 2 ? g.next() : g.next() < 0.5 ? 0 : 1));
      const p = gpu.tensor(pred, [N, K]);
      await checkLoss(`bce logits (${N},${K})`, await bceLoss(gpu, p, target, { fromLogits: true }), bceLossRef(pred, target, true), N * K);
      p.dispose();
    });

    it(`binary accuracy (${N}, ${K})`, async () => {
      const rng = new Rng(400 + N * K);
      const prob = f32(N * K, rng, (g, i) => (i % 9 === 0 ? 0.5 : g.next()));
      const logit = f32(N * K, rng, (g, i) => (i % 9 === 0 ? 0 : 2 * g.normal()));
      const target = f32(N * K, rng, (g) => (g.next() < 0.5 ? 0 : 1));
      const p = gpu.tensor(prob, [N, K]);
      const x = gpu.tensor(logit, [N, K]);
      expect(await readScalar(await binaryAccuracy(gpu, p, target))).toBeCloseTo(binaryAccuracyRef(prob, target, false), 6);
      expect(await readScalar(await binaryAccuracy(gpu, x, target, { fromLogits: true }))).toBeCloseTo(binaryAccuracyRef(logit, target, true), 6);
      p.dispose();
      x.dispose();
    });
  }

  const XENT_SHAPES: [number, number][] = [
    [1, 1],
    [1, 5],
    [37, 11],
    [130, 3],
    [300, 64],
  ];

  for (const [R, C] of XENT_SHAPES) {
    it(`softmax cross-entropy, perplexity, categorical accuracy (${R}, ${C}), ±50 and ±1000 rows, ignored rows`, async () => {
      const rng = new Rng(500 + R * C);
      const logits = extremeLogits(R, C, rng);
      // About a quarter of the rows ignored (never the only row).
      const labels = Array.from({ length: R }, () => (R > 1 && rng.next() < 0.25 ? -100 : Math.floor(rng.next() * C)));
      const sel = { ignoreIndex: -100 };
      const x = gpu.tensor(logits, [R, C]);
      const ref = softmaxXentRef(logits, labels, C, sel);
      await checkLoss(`xent (${R},${C})`, await softmaxCrossEntropy(gpu, x, labels), ref, ref.count);
      const acc = await readScalar(await categoricalAccuracy(gpu, x, labels));
      expect(acc).toBeCloseTo(categoricalAccuracyRef(logits, labels, C, sel), 6);
      // exp of a mean loss above ~88.7 is beyond float32: the GPU gives Infinity there.
      const ppl = await readScalar(await perplexity(gpu, x, labels));
      const pplRef = perplexityRef(logits, labels, C, sel);
      if (Number.isFinite(Math.fround(pplRef))) expectOk(compare(`perplexity (${R},${C})`, [pplRef], [ppl], { atol: 0, rtol: 1e-4 }));
      else expect(ppl).toBe(Infinity);
      // Moderate logits: perplexity from exp of a mean of O(1) terms; rtol 1e-5 as the loss.
      const moderate = f32(R * C, rng, (g) => 2 * g.normal());
      const xm = gpu.tensor(moderate, [R, C]);
      const pm = await readScalar(await perplexity(gpu, xm, labels));
      const pmRef = perplexityRef(moderate, labels, C, sel);
      rows.push({ case: `perplexity (${R},${C})`, loss: Math.abs(pm - pmRef) / pmRef, grad: null });
      expectOk(compare(`perplexity moderate (${R},${C})`, [pmRef], [pm], { atol: 0, rtol: 1e-5 }));
      x.dispose();
      xm.dispose();
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

    // A many-to-many model's outputs (B, T, C) with sequence lengths [4, 2, 0, 3]: the
    // rows b·T + t with t ≥ length are padding.
    const B = 4;
    const T = 4;
    const C = 5;
    const lengths = [4, 2, 0, 3];
    const padded = (r: number) => r % T >= lengths[Math.floor(r / T)];
    const rng = new Rng(11);
    const logits = Float32Array.from({ length: B * T * C }, () => 2 * rng.normal());
    const classes = Array.from({ length: B * T }, () => Math.floor(rng.next() * C));
    const labels = classes.map((c, r) => (padded(r) ? -100 : c));
    const mask = classes.map((_, r) => (padded(r) ? 0 : 1));
    const validRows = classes.map((_, r) => r).filter((r) => !padded(r));

    it('padded rows get exactly zero gradient and do not change the loss', async () => {
      const x = rt.tensor(logits, [B, T, C]);
      const base = await readLoss(await softmaxCrossEntropy(rt, x, labels));
      for (let r = 0; r < B * T; r++) if (padded(r)) expect([...base.grad.subarray(r * C, r * C + C)]).toEqual([0, 0, 0, 0, 0]);

      // Wild values in the padded rows change nothing, bit for bit.
      const wild = logits.map((v, i) => (padded(Math.floor(i / C)) ? (i % 2 ? 1000 : -1000) : v));
      const xw = rt.tensor(wild, [B, T, C]);
      const w = await readLoss(await softmaxCrossEntropy(rt, xw, labels));
      expect(w.loss).toBe(base.loss);
      expect([...w.grad]).toEqual([...base.grad]);

      // The same as the loss over the valid rows alone (the mean is over valid rows).
      const compact = Float32Array.from(validRows.flatMap((r) => [...logits.subarray(r * C, r * C + C)]));
      const xc = rt.tensor(compact, [validRows.length, C]);
      const c = await readLoss(await softmaxCrossEntropy(rt, xc, validRows.map((r) => labels[r])));
      const validGrad = validRows.flatMap((r) => [...base.grad.subarray(r * C, r * C + C)]);
      expectOk(compare('padded.loss', [c.loss], [base.loss], LOSS_TOL), compare('padded.grad', c.grad, validGrad, gradTol(validRows.length)));

      // A row mask (array, then a tensor on this backend) skips the same rows, whatever their labels.
      const m1 = await readLoss(await softmaxCrossEntropy(rt, x, classes, { mask }));
      const maskT = rt.tensor(mask, [B, T]);
      const m2 = await readLoss(await softmaxCrossEntropy(rt, x, classes, { mask: maskT }));
      for (const m of [m1, m2]) {
        expect(m.loss).toBe(base.loss);
        expect([...m.grad]).toEqual([...base.grad]);
      }
      // Metrics skip them too.
      const acc = await readScalar(await categoricalAccuracy(rt, xw, classes, { mask: maskT }));
      expect(acc).toBeCloseTo(categoricalAccuracyRef(logits, labels, C, { ignoreIndex: -100 }), 6);
      const ppl = await readScalar(await perplexity(rt, xw, labels));
      expect(ppl / Math.exp(base.loss)).toBeCloseTo(1, 5);
      for (const t of [x, xw, xc, maskT]) t.dispose();
    });

    it('a custom ignoreIndex inside the class range skips those rows', async () => {
      const x = rt.tensor(logits, [B * T, C]);
      const withTwo = await readLoss(await softmaxCrossEntropy(rt, x, classes, { ignoreIndex: 2 }));
      const ref = softmaxXentRef(logits, classes, C, { ignoreIndex: 2 });
      expectOk(compare('ignore2.loss', [ref.loss], [withTwo.loss], LOSS_TOL), compare('ignore2.grad', ref.grad, withTwo.grad, gradTol(ref.count)));
      x.dispose();
    });

    it('an all-ignored batch gives loss 0 and gradient 0 (no 0/0)', async () => {
      const x = rt.tensor(logits, [B * T, C]);
      const none = labels.map(() => -100);
      const all = await readLoss(await softmaxCrossEntropy(rt, x, none));
      expect(all.loss).toBe(0);
      expect(all.grad.every((v) => v === 0)).toBe(true);
      const masked = await readLoss(await softmaxCrossEntropy(rt, x, classes, { mask: mask.map(() => 0) }));
      expect(masked.loss).toBe(0);
      expect(masked.grad.every((v) => v === 0)).toBe(true);
      expect(await readScalar(await perplexity(rt, x, none))).toBe(1);
      expect(await readScalar(await categoricalAccuracy(rt, x, none))).toBe(0);
      x.dispose();
    });

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
