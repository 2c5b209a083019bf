// Keras <-> PyTorch-layout weight conversion, the seeded Rng and the initialisers.
// Pure CPU. The conversion is checked two ways: exact round trips, and one recurrent
// step computed with Keras's formulas on Keras arrays against one step computed with
// PyTorch's formulas on the converted CellWeights (both written here, in float64).

import { describe, expect, it } from 'vitest';
import { WeightError } from '../src/errors';
import { initDense, initEmbedding, initKeras, initTorch, orthogonal } from '../src/weights/init';
import {
  cellToKeras,
  denseToKeras,
  embeddingToKeras,
  kerasRecurrentShapes,
  kerasToCell,
  kerasToDense,
  kerasToEmbedding,
  toNested,
  type KerasRecurrentArrays,
} from '../src/weights/keras';
import { Rng } from '../src/weights/random';
import { gateCount, type CellType, type CellWeights, type RecurrentConfig } from '../src/weights/types';

// ---------------------------------------------------------------------------
// Helpers

/** Compares elementwise with |got − want| ≤ atol + rtol·|want|; reports the first mismatches by index. */
function expectClose(name: string, got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol = 0): void {
  expect(got.length, `${name}: length`).toBe(want.length);
  const bad: string[] = [];
  for (let k = 0; k < want.length; k++) {
    const g = got[k]!;
    const w = want[k]!;
    if (!(Math.abs(g - w) <= atol + rtol * Math.abs(w))) {
      if (bad.length < 5) bad.push(`${name}[${k}]: got ${g} vs want ${w}`);
      else break;
    }
  }
  expect(bad, bad.join('\n')).toEqual([]);
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

interface Variant {
  cell: CellType;
  resetAfter: boolean;
  label: string;
}
const VARIANTS: Variant[] = [
  { cell: 'rnn', resetAfter: false, label: 'SimpleRNN' },
  { cell: 'lstm', resetAfter: false, label: 'LSTM' },
  { cell: 'gru', resetAfter: true, label: 'GRU reset_after=True' },
  { cell: 'gru', resetAfter: false, label: 'GRU reset_after=False' },
];

/** Random Keras weights (float32 values) for a variant, biases nonzero. */
function randomKeras(v: Variant, I: number, H: number, rng: Rng): KerasRecurrentArrays {
  const s = kerasRecurrentShapes(v.cell, v.resetAfter, { inputSize: I, hiddenSize: H });
  const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);
  return {
    kernel: rng.fillUniform(new Float32Array(size(s.kernel.shape)), -1, 1),
    recurrentKernel: rng.fillUniform(new Float32Array(size(s.recurrentKernel.shape)), -1, 1),
    bias: rng.fillUniform(new Float32Array(size(s.bias.shape)), -1, 1),
  };
}

/** One step of the cell with Keras's formulas, on Keras arrays. Returns [h', c'] (c' only for LSTM). */
function kerasStep(
  v: Variant,
  k: KerasRecurrentArrays,
  x: Float64Array,
  h: Float64Array,
  c: Float64Array,
  I: number,
  H: number,
): [Float64Array, Float64Array] {
  const G = gateCount(v.cell) * H;
  const xk = new Float64Array(G); // x · kernel          (G)
  const hk = new Float64Array(G); // h · recurrent_kernel (G)
  for (let col = 0; col < G; col++) {
    for (let i = 0; i < I; i++) xk[col] += x[i]! * k.kernel[i * G + col]!;
    for (let j = 0; j < H; j++) hk[col] += h[j]! * k.recurrentKernel[j * G + col]!;
  }
  const hOut = new Float64Array(H);
  const cOut = new Float64Array(H);
  if (v.cell === 'rnn') {
    for (let j = 0; j < H; j++) hOut[j] = Math.tanh(xk[j]! + hk[j]! + k.bias[j]!);
  } else if (v.cell === 'lstm') {
    // Keras gate blocks (i, f, c, o).
    for (let j = 0; j < H; j++) {
      const pre = (blk: number): number => xk[blk * H + j]! + hk[blk * H + j]! + k.bias[blk * H + j]!;
      const ig = sigmoid(pre(0));
      const fg = sigmoid(pre(1));
      const cc = Math.tanh(pre(2));
      const og = sigmoid(pre(3));
      cOut[j] = fg * c[j]! + ig * cc;
      hOut[j] = og * Math.tanh(cOut[j]!);
    }
  } else if (v.resetAfter) {
    // Keras GRU reset_after=True, gate blocks (z, r, h); bias row 0 input, row 1 recurrent.
    for (let j = 0; j < H; j++) {
      const xz = xk[j]! + k.bias[j]!;
      const xr = xk[H + j]! + k.bias[H + j]!;
      const xh = xk[2 * H + j]! + k.bias[2 * H + j]!;
      const rz = hk[j]! + k.bias[G + j]!;
      const rr = hk[H + j]! + k.bias[G + H + j]!;
      const rh = hk[2 * H + j]! + k.bias[G + 2 * H + j]!;
      const z = sigmoid(xz + rz);
      const r = sigmoid(xr + rr);
      const hh = Math.tanh(xh + r * rh);
      hOut[j] = z * h[j]! + (1 - z) * hh;
    }
  } else {
    // Keras GRU reset_after=False, gate blocks (z, r, h); the reset gate scales h before
    // its product with the h block of recurrent_kernel.
    const r = new Float64Array(H);
    const z = new Float64Array(H);
    for (let j = 0; j < H; j++) {
      z[j] = sigmoid(xk[j]! + k.bias[j]! + hk[j]!);
      r[j] = sigmoid(xk[H + j]! + k.bias[H + j]! + hk[H + j]!);
    }
    for (let j = 0; j < H; j++) {
      let rhU = 0; // (r ⊙ h) · recurrent_kernel[:, 2H + j]
      for (let m = 0; m < H; m++) rhU += r[m]! * h[m]! * k.recurrentKernel[m * G + 2 * H + j]!;
      const hh = Math.tanh(xk[2 * H + j]! + k.bias[2 * H + j]! + rhU);
      hOut[j] = z[j]! * h[j]! + (1 - z[j]!) * hh;
    }
  }
  return [hOut, cOut];
}

/**
 * One step with PyTorch's formulas on CellWeights, gate order (i, f, g, o) / (r, z, n).
 * GRU reset_after=False uses this runtime's form (shaders/gru_reset_forward.wgsl and
 * gru_v1_step_forward.wgsl): n = tanh(W_in x + b_in + b_hn + W_hn (r ⊙ h)).
 */
function torchStep(
  v: Variant,
  w: CellWeights,
  x: Float64Array,
  h: Float64Array,
  c: Float64Array,
  I: number,
  H: number,
): [Float64Array, Float64Array] {
  const G = gateCount(v.cell) * H;
  const gi = new Float64Array(G); // W_ih x + b_ih (G)
  const gh = new Float64Array(G); // W_hh h + b_hh (G)
  for (let g = 0; g < G; g++) {
    gi[g] = w.bih[g]!;
    gh[g] = w.bhh[g]!;
    for (let i = 0; i < I; i++) gi[g] += w.wih[g * I + i]! * x[i]!;
    for (let j = 0; j < H; j++) gh[g] += w.whh[g * H + j]! * h[j]!;
  }
  const hOut = new Float64Array(H);
  const cOut = new Float64Array(H);
  if (v.cell === 'rnn') {
    for (let j = 0; j < H; j++) hOut[j] = Math.tanh(gi[j]! + gh[j]!);
  } else if (v.cell === 'lstm') {
    for (let j = 0; j < H; j++) {
      const ig = sigmoid(gi[j]! + gh[j]!);
      const fg = sigmoid(gi[H + j]! + gh[H + j]!);
      const gg = Math.tanh(gi[2 * H + j]! + gh[2 * H + j]!);
      const og = sigmoid(gi[3 * H + j]! + gh[3 * H + j]!);
      cOut[j] = fg * c[j]! + ig * gg;
      hOut[j] = og * Math.tanh(cOut[j]!);
    }
  } else {
    const r = new Float64Array(H);
    const z = new Float64Array(H);
    for (let j = 0; j < H; j++) {
      r[j] = sigmoid(gi[j]! + gh[j]!);
      z[j] = sigmoid(gi[H + j]! + gh[H + j]!);
    }
    for (let j = 0; j < H; j++) {
      let n: number;
      if (v.resetAfter) {
        n = Math.tanh(gi[2 * H + j]! + r[j]! * gh[2 * H + j]!);
      } else {
        let wrh = 0;
        for (let m = 0; m < H; m++) wrh += w.whh[(2 * H + j) * H + m]! * r[m]! * h[m]!;
        n = Math.tanh(gi[2 * H + j]! + w.bhh[2 * H + j]! + wrh);
      }
      hOut[j] = (1 - z[j]!) * n + z[j]! * h[j]!;
    }
  }
  return [hOut, cOut];
}

function randomVec(n: number, rng: Rng): Float64Array {
  return rng.fillUniform(new Float64Array(n), -2, 2);
}

function baseCfg(cell: CellType, over: Partial<RecurrentConfig> = {}): RecurrentConfig {
  return {
    cell,
    inputSize: 5,
    hiddenSize: 8,
    numLayers: 2,
    bidirectional: true,
    nonlinearity: 'tanh',
    resetAfter: true,
    bias: 'double',
    ...over,
  };
}

/** Keras's recurrent kernel (H, G) of an initialised cell, via the converter. */
function kerasRecurrentOf(cfg: RecurrentConfig, w: CellWeights, I: number): Float32Array {
  return cellToKeras(cfg.cell, cfg.resetAfter, w, { inputSize: I, hiddenSize: cfg.hiddenSize }, 'test').recurrentKernel;
}

/** max |A·Aᵀ − I| for A of shape (rows, cols). */
function gramError(a: ArrayLike<number>, rows: number, cols: number): number {
  let err = 0;
  for (let p = 0; p < rows; p++) {
    for (let q = 0; q < rows; q++) {
      let s = 0;
      for (let k = 0; k < cols; k++) s += a[p * cols + k]! * a[q * cols + k]!;
      err = Math.max(err, Math.abs(s - (p === q ? 1 : 0)));
    }
  }
  return err;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k]!));
  return m;
}

function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k]!;
  return s / a.length;
}

function std(a: ArrayLike<number>): number {
  const m = mean(a);
  let s = 0;
  for (let k = 0; k < a.length; k++) s += (a[k]! - m) ** 2;
  return Math.sqrt(s / a.length);
}

/** Runs fn, expects a WeightError, returns its message. */
function weightErrorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(WeightError);
    return (e as Error).message;
  }
  throw new Error('expected a WeightError, nothing was thrown');
}

// ---------------------------------------------------------------------------
// Rng

describe('Rng', () => {
  it('matches the xoshiro128** reference C code from state (1, 2, 3, 4)', () => {
    // Outputs of xoshiro128starstar.c's next() with s = {1, 2, 3, 4}.
    const rng = Rng.fromState([1, 2, 3, 4]);
    const got = Array.from({ length: 8 }, () => rng.nextUint32());
    expect(got).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849]);
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const sa = Array.from({ length: 16 }, () => a.nextUint32());
    expect(Array.from({ length: 16 }, () => b.nextUint32())).toEqual(sa);
    expect(Array.from({ length: 16 }, () => c.nextUint32())).not.toEqual(sa);
    expect(new Rng(2 ** 40).next()).not.toBe(new Rng(0).next());
    expect(() => new Rng(1.5)).toThrow(/safe integer/);
  });

  it('uniform and normal have the right moments', () => {
    // 1e5 samples: standard error of the mean ≈ 0.003 (normal) / 0.001 (uniform),
    // so the bounds below are > 5 standard errors.
    const rng = new Rng(7);
    const u = rng.fillUniform(new Float64Array(100_000), -3, 1);
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-3);
    expect(Math.max(...u)).toBeLessThan(1);
    expect(Math.abs(mean(u) + 1)).toBeLessThan(0.02);
    const n = new Rng(8).fillNormal(new Float64Array(100_000));
    expect(Math.abs(mean(n))).toBeLessThan(0.02);
    expect(Math.abs(std(n) - 1)).toBeLessThan(0.02);
  });
});

// ---------------------------------------------------------------------------
// Recurrent conversion

describe('Keras recurrent conversion', () => {
  const I = 3;
  const H = 5;

  for (const v of VARIANTS) {
    it(`${v.label}: keras -> ours -> keras is exact`, () => {
      const k = randomKeras(v, I, H, new Rng(1));
      const cellW = kerasToCell(v.cell, v.resetAfter, k, { inputSize: I, hiddenSize: H }, 'test');
      const back = cellToKeras(v.cell, v.resetAfter, cellW, { inputSize: I, hiddenSize: H }, 'test');
      expect(back.kernel).toEqual(k.kernel);
      expect(back.recurrentKernel).toEqual(k.recurrentKernel);
      expect(back.bias).toEqual(k.bias);
      if (!(v.cell === 'gru' && v.resetAfter)) expect(maxAbs(cellW.bhh)).toBe(0);
    });

    it(`${v.label}: nested arrays as get_weights() gives them read the same as flat ones`, () => {
      const k = randomKeras(v, I, H, new Rng(2));
      const s = kerasRecurrentShapes(v.cell, v.resetAfter, { inputSize: I, hiddenSize: H });
      const nested = {
        kernel: toNested(k.kernel, s.kernel.shape),
        recurrentKernel: toNested(k.recurrentKernel, s.recurrentKernel.shape),
        bias: toNested(k.bias, s.bias.shape),
      };
      const a = kerasToCell(v.cell, v.resetAfter, k, { inputSize: I, hiddenSize: H }, 'test');
      const b = kerasToCell(v.cell, v.resetAfter, nested, { inputSize: I, hiddenSize: H }, 'test');
      expect(b).toEqual(a);
    });

    it(`${v.label}: a Keras-formula step equals a PyTorch-formula step after conversion`, () => {
      const rng = new Rng(3);
      const k = randomKeras(v, I, H, rng);
      const w = kerasToCell(v.cell, v.resetAfter, k, { inputSize: I, hiddenSize: H }, 'test');
      for (let trial = 0; trial < 5; trial++) {
        const x = randomVec(I, rng);
        const h = randomVec(H, rng);
        const c = randomVec(H, rng);
        const [hk, ck] = kerasStep(v, k, x, h, c, I, H);
        const [ht, ct] = torchStep(v, w, x, h, c, I, H);
        // Both steps use the same float32 weights in float64 arithmetic; only the
        // summation order and algebraically equal rearrangements differ, worth a few
        // ulps of values of order 1 (~1e-15). 1e-12 leaves room and would still catch
        // any misplaced gate block or bias, which moves results by ~1e-1.
        expectClose(`${v.label} h'`, ht, hk, 1e-12);
        expectClose(`${v.label} c'`, ct, ck, 1e-12);
      }
    });
  }

  it('GRU: Keras block (z, r, h) lands in PyTorch block (r, z, n)', () => {
    const v = VARIANTS[2]!;
    const k = randomKeras(v, I, H, new Rng(4));
    const w = kerasToCell('gru', true, k, { inputSize: I, hiddenSize: H }, 'test');
    const G = 3 * H;
    for (let j = 0; j < H; j++) {
      for (let i = 0; i < I; i++) {
        expect(w.wih[(0 * H + j) * I + i]).toBe(k.kernel[i * G + 1 * H + j]); // r <- Keras block 1
        expect(w.wih[(1 * H + j) * I + i]).toBe(k.kernel[i * G + 0 * H + j]); // z <- Keras block 0
        expect(w.wih[(2 * H + j) * I + i]).toBe(k.kernel[i * G + 2 * H + j]); // n <- Keras block 2
      }
      expect(w.bih[j]).toBe(k.bias[H + j]);
      expect(w.bhh[H + j]).toBe(k.bias[G + j]);
    }
    // The step check has teeth: swap the r and z blocks back (weights only) and the
    // steps disagree.
    const unordered: CellWeights = { wih: w.wih.slice(), whh: w.whh.slice(), bih: w.bih.slice(), bhh: w.bhh.slice() };
    for (const key of ['wih', 'whh'] as const) {
      const cols = key === 'wih' ? I : H;
      const arr = unordered[key];
      const blockR = arr.slice(0, H * cols);
      arr.copyWithin(0, H * cols, 2 * H * cols);
      arr.set(blockR, H * cols);
    }
    const rng = new Rng(5);
    const x = randomVec(I, rng);
    const h = randomVec(H, rng);
    const [hk] = kerasStep(v, k, x, h, new Float64Array(H), I, H);
    const [hu] = torchStep(v, unordered, x, h, new Float64Array(H), I, H);
    expect(maxAbs(hk.map((a, j) => a - hu[j]!))).toBeGreaterThan(1e-3);
  });

  it('double-bias cells fold bhh into the single Keras bias exactly (up to float32 rounding)', () => {
    // float32 rounding of bih + bhh moves a pre-activation by ≤ 2^-24·|b| ≈ 1.2e-7 for
    // |b| ≤ 2, and h', c' by no more (sigmoid/tanh have slope ≤ 1): atol 1e-6.
    const rng = new Rng(6);
    for (const v of [VARIANTS[0]!, VARIANTS[1]!, VARIANTS[3]!]) {
      const G = gateCount(v.cell) * H;
      const w: CellWeights = {
        wih: rng.fillUniform(new Float32Array(G * I), -1, 1),
        whh: rng.fillUniform(new Float32Array(G * H), -1, 1),
        bih: rng.fillUniform(new Float32Array(G), -1, 1),
        bhh: rng.fillUniform(new Float32Array(G), -1, 1),
      };
      const k = cellToKeras(v.cell, v.resetAfter, w, { inputSize: I, hiddenSize: H }, 'test');
      expect(k.bias.length).toBe(G);
      const x = randomVec(I, rng);
      const h = randomVec(H, rng);
      const c = randomVec(H, rng);
      const [hk, ck] = kerasStep(v, k, x, h, c, I, H);
      const [ht, ct] = torchStep(v, w, x, h, c, I, H);
      expectClose(`${v.label} folded h'`, hk, ht, 1e-6);
      expectClose(`${v.label} folded c'`, ck, ct, 1e-6);
    }
  });

  it('GRU: the n-gate bhh folds for reset_after=False and keeps its own row for reset_after=True', () => {
    const G = 3 * H;
    const w: CellWeights = {
      wih: new Float32Array(G * I),
      whh: new Float32Array(G * H),
      bih: new Float32Array(G),
      bhh: new Float32Array(G),
    };
    w.bih[2 * H + 3] = 0.5;
    w.bhh[2 * H + 3] = 0.25;
    // reset_after=False: one bias, Keras block h (= PyTorch n) holds the sum.
    expect(cellToKeras('gru', false, w, { inputSize: I, hiddenSize: H }, 'test').bias[2 * H + 3]).toBe(0.75);
    // reset_after=True: bias (2, 3H), bhh becomes the recurrent row unchanged.
    const k = cellToKeras('gru', true, w, { inputSize: I, hiddenSize: H }, 'test');
    expect(k.bias[2 * H + 3]).toBe(0.5);
    expect(k.bias[G + 2 * H + 3]).toBe(0.25);
  });
});

// ---------------------------------------------------------------------------
// Dense and Embedding conversion

describe('Keras Dense and Embedding conversion', () => {
  it('Dense: kernel (in, out) transposes to weight (out, in) and back exactly', () => {
    const rng = new Rng(9);
    const nIn = 4;
    const nOut = 3;
    const kernel = rng.fillUniform(new Float32Array(nIn * nOut), -1, 1);
    const bias = rng.fillUniform(new Float32Array(nOut), -1, 1);
    const dims = { inputSize: nIn, units: nOut };
    const d = kerasToDense(toNested(kernel, [nIn, nOut]), Array.from(bias), dims, 'test');
    for (let o = 0; o < nOut; o++) {
      for (let i = 0; i < nIn; i++) expect(d.weight[o * nIn + i]).toBe(kernel[i * nOut + o]);
    }
    const back = denseToKeras(d, dims, 'test');
    expect(back.kernel).toEqual(kernel);
    expect(back.bias).toEqual(bias);
    // use_bias=False reads as a zero bias.
    expect(maxAbs(kerasToDense(kernel, null, dims, 'test').bias)).toBe(0);
  });

  it('Embedding: same (vocab, dim) layout both ways', () => {
    const table = new Rng(10).fillUniform(new Float32Array(6 * 4), -1, 1);
    const ours = kerasToEmbedding(toNested(table, [6, 4]), { vocabSize: 6, dim: 4 }, 'test');
    expect(ours).toEqual(table);
    expect(embeddingToKeras(ours, { vocabSize: 6, dim: 4 }, 'test')).toEqual(table);
  });
});

// ---------------------------------------------------------------------------
// Shape errors

describe('bad Keras weights throw WeightError naming the shapes', () => {
  const dims = { inputSize: 4, hiddenSize: 4 };
  const lstm = randomKeras(VARIANTS[1]!, 4, 4, new Rng(11));

  it('a nested recurrent_kernel of the wrong shape', () => {
    const bad = toNested(new Float32Array(4 * 12), [4, 12]);
    const msg = weightErrorOf(() =>
      kerasToCell('lstm', false, { ...lstm, recurrentKernel: bad }, dims, 'loadKerasWeights: layer 0'),
    );
    expect(msg).toBe('loadKerasWeights: layer 0 recurrent_kernel has shape (4, 12), expected (H, 4H) = (4, 16).');
  });

  it('a flat kernel of the wrong length', () => {
    const msg = weightErrorOf(() =>
      kerasToCell('lstm', false, { ...lstm, kernel: new Float32Array(60) }, dims, 'loadKerasWeights: layer 2'),
    );
    expect(msg).toContain('layer 2 kernel has 60 elements, expected (I, 4H) = (4, 16) = 64');
  });

  it('a GRU bias that does not match reset_after', () => {
    const gru = randomKeras(VARIANTS[2]!, 4, 4, new Rng(12));
    const msg = weightErrorOf(() =>
      kerasToCell('gru', true, { ...gru, bias: toNested(new Float32Array(12), [12]) }, dims, 'L0'),
    );
    // A flat number[] (like a Float32Array) is checked by element count only.
    expect(msg).toContain('L0 bias has 12 elements, expected (2, 3H) = (2, 12) = 24.');
    expect(msg).toContain('reset_after=False');
    const nested2x12 = toNested(gru.bias, [2, 12]);
    const msg2 = weightErrorOf(() => kerasToCell('gru', false, { ...gru, bias: nested2x12 }, dims, 'L0'));
    expect(msg2).toContain('has shape (2, 12), expected (3H) = (12)');
  });

  it('a transposed Dense kernel gets a hint', () => {
    const msg = weightErrorOf(() =>
      kerasToDense(toNested(new Float32Array(12), [3, 4]), null, { inputSize: 4, units: 3 }, 'head'),
    );
    expect(msg).toContain('head kernel has shape (3, 4), expected (in, out) = (4, 3).');
    expect(msg).toContain('transposed');
  });

  it('ragged arrays, non-finite values, inconsistent {data, shape}, wrong internal lengths', () => {
    expect(weightErrorOf(() => kerasToEmbedding([[1, 2], [3]], { vocabSize: 2, dim: 2 }, 'emb'))).toContain('ragged');
    expect(weightErrorOf(() => kerasToEmbedding([[1, 2], [3, NaN]], { vocabSize: 2, dim: 2 }, 'emb'))).toContain(
      'emb embeddings[3] (flat index) is NaN',
    );
    expect(
      weightErrorOf(() => kerasToEmbedding({ data: [1, 2, 3], shape: [2, 2] }, { vocabSize: 2, dim: 2 }, 'emb')),
    ).toContain('says shape (2, 2)');
    expect(
      weightErrorOf(() => kerasToEmbedding({ data: [1, 2, 3, 4], shape: [4, 1] }, { vocabSize: 2, dim: 2 }, 'emb')),
    ).toContain('has shape (4, 1), expected (vocab, dim) = (2, 2).');
    const w = kerasToCell('lstm', false, lstm, dims, 'test');
    const msg = weightErrorOf(() => cellToKeras('lstm', false, { ...w, wih: new Float32Array(10) }, dims, 'save'));
    expect(msg).toContain('save wih has 10 elements, expected (4H, I) = (16, 4) = 64.');
  });
});

// ---------------------------------------------------------------------------
// Initialisers

describe('initKeras', () => {
  for (const cell of ['rnn', 'gru', 'lstm'] as const) {
    it(`${cell}: Glorot kernel, orthogonal recurrent kernel, Keras biases`, () => {
      const cfg = baseCfg(cell, { bias: cell === 'gru' ? 'double' : 'single' });
      const H = cfg.hiddenSize;
      const G = gateCount(cell) * H;
      const stack = initKeras(cfg, 123);
      expect(stack.length).toBe(2);
      for (let l = 0; l < 2; l++) {
        const I = l === 0 ? cfg.inputSize : 2 * H;
        expect(stack[l]!.length).toBe(2);
        for (const w of stack[l]!) {
          expect(w.wih.length).toBe(G * I);
          expect(w.whh.length).toBe(G * H);
          // Glorot on the Keras kernel (I, G); float32 rounding may reach the limit itself.
          const limit = Math.sqrt(6 / (I + G));
          expect(maxAbs(w.wih)).toBeLessThanOrEqual(Math.fround(limit));
          expect(maxAbs(w.wih)).toBeGreaterThan(0.8 * limit); // P(fail) ≤ 0.8^(G·I) < 1e-15
          // Keras's Orthogonal on (H, G): orthonormal rows, W·Wᵀ = I_H (float32 storage: ~1e-7).
          const K = kerasRecurrentOf(cfg, w, I);
          expect(gramError(K, H, G)).toBeLessThan(1e-5);
          if (cell === 'rnn') {
            // Square: also orthonormal columns.
            const Kt = new Float32Array(H * H);
            for (let p = 0; p < H; p++) for (let q = 0; q < H; q++) Kt[q * H + p] = K[p * H + q]!;
            expect(gramError(Kt, H, H)).toBeLessThan(1e-5);
          }
          const wantBias = new Float32Array(G);
          if (cell === 'lstm') wantBias.fill(1, H, 2 * H); // PyTorch (i, f, g, o): f block
          expect(w.bih).toEqual(wantBias);
          expect(maxAbs(w.bhh)).toBe(0);
        }
      }
    });
  }

  it('orthogonal() is the sign-fixed QR of the normal matrix it draws, as Keras computes it', () => {
    for (const [rows, cols] of [
      [4, 16],
      [6, 6],
      [9, 3],
    ] as const) {
      const m = Math.max(rows, cols);
      const n = Math.min(rows, cols);
      const a = new Rng(77).fillNormal(new Float64Array(m * n)); // (m, n), the same draws
      const W = orthogonal(rows, cols, new Rng(77)); // (rows, cols)
      // q (m, n) with orthonormal columns: W itself, or Wᵀ when rows < cols.
      const q = new Float64Array(m * n);
      for (let i = 0; i < m; i++) {
        for (let c = 0; c < n; c++) q[i * n + c] = rows < cols ? W[c * cols + i]! : W[i * cols + c]!;
      }
      // r = qᵀ a must be upper triangular with a positive diagonal, and q·r = a.
      for (let p = 0; p < n; p++) {
        for (let c = 0; c < n; c++) {
          let s = 0;
          for (let i = 0; i < m; i++) s += q[i * n + p]! * a[i * n + c]!;
          if (p > c) expect(Math.abs(s)).toBeLessThan(1e-12);
          if (p === c) expect(s).toBeGreaterThan(0);
        }
      }
      // Orthonormal columns of q to double rounding.
      const qt = new Float64Array(n * m);
      for (let i = 0; i < m; i++) for (let c = 0; c < n; c++) qt[c * m + i] = q[i * n + c]!;
      expect(gramError(qt, n, m)).toBeLessThan(1e-12);
    }
  });

  it('is deterministic for a seed', () => {
    const cfg = baseCfg('lstm');
    expect(initKeras(cfg, 5)).toEqual(initKeras(cfg, new Rng(5)));
    expect(initKeras(cfg, 5)).not.toEqual(initKeras(cfg, 6));
  });
});

describe('initTorch', () => {
  it('every weight and bias within ±1/√H, bhh zero for a single bias', () => {
    for (const cell of ['rnn', 'gru', 'lstm'] as const) {
      for (const bias of ['double', 'single'] as const) {
        const cfg = baseCfg(cell, { bias });
        const k = 1 / Math.sqrt(cfg.hiddenSize);
        for (const layer of initTorch(cfg, 99)) {
          for (const w of layer) {
            for (const arr of [w.wih, w.whh, w.bih, w.bhh]) expect(maxAbs(arr)).toBeLessThanOrEqual(Math.fround(k));
            expect(maxAbs(w.whh)).toBeGreaterThan(0.8 * k);
            if (bias === 'single') expect(maxAbs(w.bhh)).toBe(0);
            else expect(maxAbs(w.bhh)).toBeGreaterThan(0);
          }
        }
      }
    }
  });

  it('is deterministic for a seed', () => {
    const cfg = baseCfg('gru');
    expect(initTorch(cfg, 1)).toEqual(initTorch(cfg, 1));
    expect(initTorch(cfg, 1)).not.toEqual(initTorch(cfg, 2));
  });
});

describe('initDense and initEmbedding', () => {
  it('Dense torch: weight and bias within ±1/√in', () => {
    const d = initDense(50, 7, 3, 'torch');
    expect(d.weight.length).toBe(7 * 50);
    const k = 1 / Math.sqrt(50);
    expect(maxAbs(d.weight)).toBeLessThanOrEqual(Math.fround(k));
    expect(maxAbs(d.weight)).toBeGreaterThan(0.8 * k);
    expect(maxAbs(d.bias)).toBeLessThanOrEqual(Math.fround(k));
    expect(maxAbs(d.bias)).toBeGreaterThan(0);
  });

  it('Dense keras: Glorot weight, zero bias; deterministic', () => {
    const d = initDense(50, 7, 3, 'keras');
    const limit = Math.sqrt(6 / 57);
    expect(maxAbs(d.weight)).toBeLessThanOrEqual(Math.fround(limit));
    expect(maxAbs(d.weight)).toBeGreaterThan(0.8 * limit);
    expect(maxAbs(d.bias)).toBe(0);
    expect(initDense(50, 7, 3, 'keras')).toEqual(d);
  });

  it('Embedding: torch N(0, 1), keras U(±0.05)', () => {
    // 6400 samples: standard error of the mean 0.0125, of the std ≈ 0.009; bounds ≥ 4 s.e.
    const t = initEmbedding(100, 64, 4, 'torch');
    expect(Math.abs(mean(t))).toBeLessThan(0.05);
    expect(Math.abs(std(t) - 1)).toBeLessThan(0.04);
    const k = initEmbedding(100, 64, 4, 'keras');
    expect(maxAbs(k)).toBeLessThanOrEqual(Math.fround(0.05));
    expect(maxAbs(k)).toBeGreaterThan(0.045);
  });
});
