// Weight initialisers matching PyTorch's and Keras's default distributions (not their
// random streams: numbers come from our seeded Rng, see random.ts).
//
//   initTorch   nn.RNN / nn.GRU / nn.LSTM reset_parameters(): every weight and bias
//               U(−1/√H, 1/√H). With cfg.bias === 'single' bhh stays zero.
//   initKeras   SimpleRNN / GRU / LSTM defaults, drawn in Keras's own layout and then
//               converted with kerasToCell (so the gate reordering is Keras's):
//                 kernel (I, G)            Glorot uniform, limit √(6 / (I + G))
//                 recurrent_kernel (H, G)  Orthogonal (see `orthogonal` below)
//                 bias                     zeros; LSTM forget block = 1 (unit_forget_bias)
//               With cfg.bias === 'single' the bias lives in bih and bhh is zero; a GRU
//               with reset_after=True (Keras's (2, 3H) bias) is all zeros either way.
//   initDense   torch: nn.Linear, weight and bias U(−1/√in, 1/√in) (kaiming_uniform with
//               a = √5 reduces to this bound); keras: Glorot uniform kernel, zero bias.
//   initEmbedding  torch: N(0, 1) (nn.Embedding); keras: U(−0.05, 0.05) (Embedding's
//               'uniform' default).
// Draw order (fixes the numbers for a seed): layers, then directions, then for each
// cell kernel, recurrent kernel, bias, each row-major in the layout named above.

import { assertPositiveInt } from '../validate';
import { kerasRecurrentShapes, kerasToCell } from './keras';
import { Rng } from './random';
import {
  directions,
  gateCount,
  layerInputSize,
  type CellWeights,
  type DenseWeights,
  type RecurrentConfig,
  type StackWeights,
} from './types';

/** A Dense (fully connected) layer in PyTorch layout. */

export type InitStyle = 'torch' | 'keras';

function toRng(rng: Rng | number): Rng {
  return rng instanceof Rng ? rng : new Rng(rng);
}

function checkConfig(op: string, cfg: RecurrentConfig): void {
  assertPositiveInt(op, 'cfg.inputSize', cfg.inputSize);
  assertPositiveInt(op, 'cfg.hiddenSize', cfg.hiddenSize);
  assertPositiveInt(op, 'cfg.numLayers', cfg.numLayers);
}

/** PyTorch nn.RNN/GRU/LSTM init: all weights and biases U(−1/√H, 1/√H). */
export function initTorch(cfg: RecurrentConfig, rng: Rng | number): StackWeights {
  checkConfig('initTorch', cfg);
  const r = toRng(rng);
  const H = cfg.hiddenSize;
  const G = gateCount(cfg.cell) * H;
  const k = 1 / Math.sqrt(H);
  const stack: StackWeights = [];
  for (let l = 0; l < cfg.numLayers; l++) {
    const I = layerInputSize(cfg, l);
    const layer: CellWeights[] = [];
    for (let d = 0; d < directions(cfg); d++) {
      const wih = r.fillUniform(new Float32Array(G * I), -k, k); // (G, I)
      const whh = r.fillUniform(new Float32Array(G * H), -k, k); // (G, H)
      const bih = r.fillUniform(new Float32Array(G), -k, k); // (G)
      const bhh = new Float32Array(G); // (G)
      if (cfg.bias === 'double') r.fillUniform(bhh, -k, k);
      layer.push({ wih, whh, bih, bhh });
    }
    stack.push(layer);
  }
  return stack;
}

/** Keras SimpleRNN/GRU/LSTM default init (Glorot kernel, orthogonal recurrent kernel, zero / unit-forget bias). */
export function initKeras(cfg: RecurrentConfig, rng: Rng | number): StackWeights {
  checkConfig('initKeras', cfg);
  const r = toRng(rng);
  const H = cfg.hiddenSize;
  const G = gateCount(cfg.cell) * H;
  const stack: StackWeights = [];
  for (let l = 0; l < cfg.numLayers; l++) {
    const I = layerInputSize(cfg, l);
    const shapes = kerasRecurrentShapes(cfg.cell, cfg.resetAfter, { inputSize: I, hiddenSize: H });
    const layer: CellWeights[] = [];
    for (let d = 0; d < directions(cfg); d++) {
      const kernel = glorotUniform(I, G, r); // (I, G)
      const recurrentKernel = Float32Array.from(orthogonal(H, G, r)); // (H, G)
      const bias = new Float32Array(shapes.bias.shape.reduce((a, b) => a * b, 1)); // (G) or (2, G)
      if (cfg.cell === 'lstm') bias.fill(1, H, 2 * H); // Keras LSTM (i, f, c, o): f block
      const dims = { inputSize: I, hiddenSize: H };
      const w = kerasToCell(cfg.cell, cfg.resetAfter, { kernel, recurrentKernel, bias }, dims, `initKeras: layer ${l}`);
      if (cfg.bias === 'single') {
        // One bias: keep it all in bih (only the zero GRU recurrent row could be in bhh).
        for (let k = 0; k < G; k++) w.bih[k] = w.bih[k]! + w.bhh[k]!;
        w.bhh.fill(0);
      }
      layer.push(w);
    }
    stack.push(layer);
  }
  return stack;
}

/** Dense layer init in PyTorch layout: weight (out, in), bias (out). */
export function initDense(inF: number, outF: number, rng: Rng | number, style: InitStyle): DenseWeights {
  assertPositiveInt('initDense', 'inF', inF);
  assertPositiveInt('initDense', 'outF', outF);
  const r = toRng(rng);
  if (style === 'torch') {
    const k = 1 / Math.sqrt(inF);
    const weight = r.fillUniform(new Float32Array(outF * inF), -k, k); // (out, in)
    const bias = r.fillUniform(new Float32Array(outF), -k, k); // (out)
    return { weight, bias };
  }
  // Keras draws its kernel as (in, out); transpose into our (out, in).
  const kernel = glorotUniform(inF, outF, r); // (in, out)
  const weight = new Float32Array(outF * inF); // (out, in)
  for (let i = 0; i < inF; i++) {
    for (let o = 0; o < outF; o++) weight[o * inF + i] = kernel[i * outF + o]!;
  }
  return { weight, bias: new Float32Array(outF) };
}

/** Embedding table (vocab, dim): torch N(0, 1), keras U(−0.05, 0.05). */
export function initEmbedding(vocab: number, dim: number, rng: Rng | number, style: InitStyle): Float32Array {
  assertPositiveInt('initEmbedding', 'vocab', vocab);
  assertPositiveInt('initEmbedding', 'dim', dim);
  const r = toRng(rng);
  const table = new Float32Array(vocab * dim); // (vocab, dim)
  return style === 'torch' ? r.fillNormal(table, 0, 1) : r.fillUniform(table, -0.05, 0.05);
}

/** Glorot (Xavier) uniform for a Keras kernel of shape (fanIn, fanOut), row-major. */
export function glorotUniform(fanIn: number, fanOut: number, rng: Rng): Float32Array {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  return rng.fillUniform(new Float32Array(fanIn * fanOut), -limit, limit);
}

/**
 * Keras's Orthogonal initializer (gain 1) for a 2-D shape (rows, cols), in float64:
 *   1. a = N(0, 1) of shape (m, n), m = max(rows, cols), n = min(rows, cols), drawn row-major;
 *   2. a = q·r, the thin QR decomposition, with q (m, n) and diag(r) > 0. Keras takes
 *      linalg.qr and multiplies q's columns by sign(diag(r)); we get the same q directly
 *      from modified Gram–Schmidt, whose r has a positive diagonal by construction
 *      (each column is projected twice, "twice is enough", to stay orthogonal to
 *      rounding level);
 *   3. rows < cols: return qᵀ (rows, cols), whose rows are orthonormal (W·Wᵀ = I);
 *      otherwise q, whose columns are orthonormal (WᵀW = I).
 * For a recurrent kernel (H, G) with G = nG·H ≥ H this is qᵀ with q of shape (G, H), so
 * W·Wᵀ = I_H; for SimpleRNN (H, H) it is a square orthogonal matrix.
 */
export function orthogonal(rows: number, cols: number, rng: Rng): Float64Array {
  const m = Math.max(rows, cols);
  const n = Math.min(rows, cols);
  const a = rng.fillNormal(new Float64Array(m * n)); // (m, n)
  // Column-major working copy: q[c] is column c, length m.
  const q: Float64Array[] = [];
  for (let c = 0; c < n; c++) {
    const v = new Float64Array(m);
    for (let i = 0; i < m; i++) v[i] = a[i * n + c]!;
    for (let pass = 0; pass < 2; pass++) {
      for (const u of q) {
        let dot = 0;
        for (let i = 0; i < m; i++) dot += u[i]! * v[i]!;
        for (let i = 0; i < m; i++) v[i] = v[i]! - dot * u[i]!;
      }
    }
    let norm = 0;
    for (let i = 0; i < m; i++) norm += v[i]! * v[i]!;
    norm = Math.sqrt(norm);
    // A Gaussian matrix is rank-deficient with probability 0; m ≥ n keeps it possible.
    for (let i = 0; i < m; i++) v[i] = v[i]! / norm;
    q.push(v);
  }
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < m; i++) {
    for (let c = 0; c < n; c++) {
      if (rows < cols) out[c * cols + i] = q[c]![i]!; // qᵀ: (n, m) = (rows, cols)
      else out[i * cols + c] = q[c]![i]!; // q: (m, n) = (rows, cols)
    }
  }
  return out;
}
