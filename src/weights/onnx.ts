// ONNX's recurrent weight layout and gate orders ↔ ours (PyTorch layout and gate
// order, see types.ts), both directions, one table per cell.
//
// An ONNX LSTM/GRU/RNN node holds, per direction d (0 = forward, 1 = reverse):
//   W (D, G, I)   input weights, gate blocks of H rows   = our wih (G, I) after reordering
//   R (D, G, H)   recurrent weights                      = our whh (G, H)
//   B (D, 2G)     [Wb (G), Rb (G)]: input then recurrent = our bih (G), bhh (G)
// Gate blocks of H rows, ONNX vs ours:
//   LSTM  ONNX (i, o, f, c)  vs ours (i, f, g, o)
//   GRU   ONNX (z, r, h)     vs ours (r, z, n)
//   RNN   one block
// GRU linear_before_reset = 1 is PyTorch's (= our resetAfter true); 0 is Keras's
// reset_after=False (= our resetAfter false): both keep Rbh outside of r ⊙ (·) /
// inside as ONNX defines it, so the biases map one to one in both variants.
import { WeightError } from '../errors';
import { gateCount, type CellType, type CellWeights } from './types';

/** For each of our gate blocks, the ONNX block it comes from. */
export const OURS_FROM_ONNX: Readonly<Record<CellType, readonly number[]>> = Object.freeze({
  lstm: [0, 2, 3, 1], // ours i ← ONNX i (0), f ← f (2), g ← c (3), o ← o (1)
  gru: [1, 0, 2], // ours r ← ONNX r (1), z ← z (0), n ← h (2)
  rnn: [0],
});

/** Reorders gate blocks of `rows` rows each × `cols`: out block k = in block perm[k]. */
function permuteBlocks(src: ArrayLike<number>, perm: readonly number[], rows: number, cols: number, inverse: boolean): Float32Array {
  const block = rows * cols;
  const out = new Float32Array(perm.length * block);
  for (let k = 0; k < perm.length; k++) {
    const from = inverse ? k : perm[k];
    const to = inverse ? perm[k] : k;
    for (let i = 0; i < block; i++) out[to * block + i] = src[from * block + i];
  }
  return out;
}

/** One direction of an ONNX node's weights: W_d (G, I), R_d (G, H), B_d (2G) in ONNX gate order. */
export interface OnnxCellWeights {
  W: Float32Array; // (G, I)
  R: Float32Array; // (G, H)
  B: Float32Array; // (2G): Wb then Rb
}

/** ONNX → ours for one direction. `B` absent means zeros, as ONNX defines it. */
export function onnxToCell(cell: CellType, w: { W: ArrayLike<number>; R: ArrayLike<number>; B?: ArrayLike<number> | null }, dims: { inputSize: number; hiddenSize: number }, op: string): CellWeights {
  const H = dims.hiddenSize;
  const I = dims.inputSize;
  const G = gateCount(cell) * H;
  const check = (name: string, v: ArrayLike<number>, n: number) => {
    if (v.length !== n) throw new WeightError(`${op}: ${name} has ${v.length} values per direction, expected ${n}.`);
  };
  check('W', w.W, G * I);
  check('R', w.R, G * H);
  if (w.B) check('B', w.B, 2 * G);
  const perm = OURS_FROM_ONNX[cell];
  const b = w.B ?? new Float32Array(2 * G);
  return {
    wih: permuteBlocks(w.W, perm, H, I, false),
    whh: permuteBlocks(w.R, perm, H, H, false),
    bih: permuteBlocks(Array.prototype.slice.call(b, 0, G), perm, H, 1, false),
    bhh: permuteBlocks(Array.prototype.slice.call(b, G, 2 * G), perm, H, 1, false),
  };
}

/** Ours → ONNX for one direction (the inverse of onnxToCell). */
export function cellToOnnx(cell: CellType, w: CellWeights, dims: { inputSize: number; hiddenSize: number }): OnnxCellWeights {
  const H = dims.hiddenSize;
  const I = dims.inputSize;
  const G = gateCount(cell) * H;
  const perm = OURS_FROM_ONNX[cell];
  const B = new Float32Array(2 * G);
  B.set(permuteBlocks(w.bih, perm, H, 1, true), 0);
  B.set(permuteBlocks(w.bhh, perm, H, 1, true), G);
  return { W: permuteBlocks(w.wih, perm, H, I, true), R: permuteBlocks(w.whh, perm, H, H, true), B };
}
