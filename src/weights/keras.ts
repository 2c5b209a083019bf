// Conversion between Keras weight layouts and ours (PyTorch layout and gate order,
// see types.ts), both directions, for SimpleRNN, GRU (reset_after True/False), LSTM,
// Dense and Embedding.
//
// Keras recurrent layer weights, as layer.get_weights() lists them:
//   kernel           (I, nG·H)   Keras computes x · kernel, so it is W_ihᵀ
//   recurrent_kernel (H, nG·H)   h · recurrent_kernel, so W_hhᵀ
//   bias             (nG·H)      one bias (SimpleRNN, LSTM, GRU reset_after=False)
//                    (2, nG·H)   GRU reset_after=True: row 0 input bias, row 1 recurrent bias
// Gate blocks along the last axis:
//   LSTM  Keras (i, f, c, o)  = PyTorch (i, f, g, o)   same order
//   GRU   Keras (z, r, h)     vs PyTorch (r, z, n)     blocks 0 and 1 swap
//   SimpleRNN                                           one block
// Dense: Keras kernel (in, out) is PyTorch's weight (out, in) transposed.
// Embedding: (vocab, dim) in both.
//
// Inputs may be Float32Array / Float64Array / flat number[] (length checked against the
// expected shape), nested number arrays as Keras's get_weights() gives them through
// JSON (shape inferred and checked exactly), or { data, shape? } objects. Outputs are
// Float32Arrays in row-major order; `toNested` turns one back into nested arrays.

import { WeightError, fmtShape } from '../errors';
import { FLOAT32_MAX } from '../validate';
import { gateCount, type ArrayLikeTensor, type CellType, type CellWeights, type DenseWeights } from './types';

/** A nested array of numbers, e.g. a (2, 3) tensor as [[1, 2, 3], [4, 5, 6]]. */
export type NestedNumberArray = readonly (number | NestedNumberArray | Float32Array | Float64Array)[];

/** Anything we accept as one Keras weight tensor. */
export type KerasTensor = ArrayLikeTensor | NestedNumberArray;

/** One Keras recurrent layer's weights. A missing bias (use_bias=False) reads as zeros. */
export interface KerasRecurrentWeights {
  kernel: KerasTensor; // (I, nG·H)
  recurrentKernel: KerasTensor; // (H, nG·H)
  bias?: KerasTensor | null; // (nG·H), or (2, nG·H) for GRU reset_after=True
}

/** Keras recurrent weights as we produce them: row-major Float32Arrays. */
export interface KerasRecurrentArrays {
  kernel: Float32Array; // (I, nG·H)
  recurrentKernel: Float32Array; // (H, nG·H)
  bias: Float32Array; // (nG·H), or (2, nG·H) for GRU reset_after=True
}

export interface RecurrentDims {
  inputSize: number; // I (D·H for layers above the first)
  hiddenSize: number; // H
}

export interface DenseDims {
  inputSize: number; // in
  units: number; // out
}

export interface EmbeddingDims {
  vocabSize: number;
  dim: number;
}

/** Shapes with their symbolic names, for one Keras recurrent layer. */
export interface KerasRecurrentShapes {
  kernel: { shape: number[]; names: string };
  recurrentKernel: { shape: number[]; names: string };
  bias: { shape: number[]; names: string };
}

/**
 * For PyTorch gate block g, the Keras gate block that holds it. Each map is its own
 * inverse (GRU swaps r and z), but the code below never relies on that.
 */
function kerasBlockOf(cell: CellType): readonly number[] {
  if (cell === 'gru') return [1, 0, 2]; // PyTorch (r, z, n) <- Keras (z, r, h)
  if (cell === 'lstm') return [0, 1, 2, 3]; // (i, f, g, o) <- (i, f, c, o)
  return [0];
}

/** True for the one Keras layout with two bias rows: GRU reset_after=True. */
function kerasDoubleBias(cell: CellType, resetAfter: boolean): boolean {
  return cell === 'gru' && resetAfter;
}

/** The Keras shapes of a recurrent layer, with symbols for messages. */
export function kerasRecurrentShapes(cell: CellType, resetAfter: boolean, dims: RecurrentDims): KerasRecurrentShapes {
  const n = gateCount(cell);
  const I = dims.inputSize;
  const H = dims.hiddenSize;
  const gH = n === 1 ? 'H' : `${n}H`;
  return {
    kernel: { shape: [I, n * H], names: `(I, ${gH})` },
    recurrentKernel: { shape: [H, n * H], names: `(H, ${gH})` },
    bias: kerasDoubleBias(cell, resetAfter)
      ? { shape: [2, n * H], names: `(2, ${gH})` }
      : { shape: [n * H], names: `(${gH})` },
  };
}

// ---------------------------------------------------------------------------
// Reading tensors

function isNumericArrayLike(v: unknown): v is ArrayLike<number> {
  return v instanceof Float32Array || v instanceof Float64Array;
}

/** Flattens a nested array row-major and infers its shape; throws on ragged input. */
function flattenNested(where: string, name: string, v: NestedNumberArray): { data: number[]; shape: number[] } {
  // Shape from the first element at every depth.
  const shape: number[] = [];
  let probe: unknown = v;
  while (Array.isArray(probe) || isNumericArrayLike(probe)) {
    const arr = probe as ArrayLike<unknown>;
    shape.push(arr.length);
    if (arr.length === 0 || isNumericArrayLike(probe)) break;
    probe = arr[0];
  }
  const data: number[] = [];
  const walk = (node: unknown, depth: number, path: number[]): void => {
    const at = path.length ? `[${path.join('][')}]` : '';
    if (depth === shape.length) {
      if (typeof node !== 'number') {
        throw new WeightError(
          `${where} ${name}${at} is ${Array.isArray(node) ? 'an array' : typeof node}, expected a number: ` +
            `the nested array is ragged (shape inferred from the first elements: ${fmtShape(shape)}).`,
        );
      }
      data.push(node);
      return;
    }
    const isArr = Array.isArray(node) || isNumericArrayLike(node);
    const len = isArr ? (node as ArrayLike<unknown>).length : -1;
    if (len !== shape[depth]) {
      throw new WeightError(
        `${where} ${name}${at} has ${isArr ? `length ${len}` : `a ${typeof node}`}, expected length ${shape[depth]}: ` +
          `the nested array is ragged (shape inferred from the first elements: ${fmtShape(shape)}).`,
      );
    }
    for (let k = 0; k < len; k++) walk((node as ArrayLike<unknown>)[k], depth + 1, [...path, k]);
  };
  walk(v, 0, []);
  return { data, shape };
}

/**
 * Reads one tensor into a fresh Float32Array, checking it against `shape`
 * (`names` is the symbolic form, e.g. "(I, 4H)"). Nested arrays and { data, shape }
 * objects must match the shape exactly; flat arrays must match its element count.
 */
function readTensor(
  where: string,
  name: string,
  value: KerasTensor,
  shape: readonly number[],
  names: string,
): Float32Array {
  const want = shape.reduce((a, b) => a * b, 1);
  const expected = `expected ${names} = ${fmtShape(shape)}`;
  const transposedHint = (got: readonly number[]): string =>
    got.length === 2 && shape.length === 2 && got[0] === shape[1] && got[1] === shape[0] && shape[0] !== shape[1]
      ? ` Hint: this looks transposed; Keras stores ${name} as ${names}.`
      : '';

  let data: ArrayLike<number>;
  let got: readonly number[] | null = null; // null: a flat buffer, shape unknown
  if (value instanceof Float32Array || value instanceof Float64Array) {
    data = value;
  } else if (Array.isArray(value)) {
    if (value.length > 0 && value.every((x) => typeof x === 'number')) {
      data = value as number[];
    } else {
      const flat = flattenNested(where, name, value as NestedNumberArray);
      data = flat.data;
      got = flat.shape;
    }
  } else if (value !== null && typeof value === 'object' && 'data' in value) {
    data = value.data;
    if (value.shape) {
      got = [...value.shape];
      const n = got.reduce((a, b) => a * b, 1);
      if (n !== data.length) {
        throw new WeightError(
          `${where} ${name} says shape ${fmtShape(got)} (${n} elements) but its data has ${data.length} elements.`,
        );
      }
    }
  } else {
    throw new WeightError(
      `${where} ${name} is ${value === null ? 'null' : typeof value}, ${expected}. ` +
        `Hint: pass a Float32Array, a number[] or nested arrays as get_weights() returns them.`,
    );
  }

  if (got !== null) {
    if (got.length !== shape.length || got.some((d, k) => d !== shape[k])) {
      throw new WeightError(`${where} ${name} has shape ${fmtShape(got)}, ${expected}.${transposedHint(got)}`);
    }
  } else if (data.length !== want) {
    throw new WeightError(`${where} ${name} has ${data.length} elements, ${expected} = ${want}.`);
  }

  const out = new Float32Array(want);
  for (let k = 0; k < want; k++) {
    const v = data[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > FLOAT32_MAX) {
      throw new WeightError(`${where} ${name}[${k}] (flat index) is ${String(v)}; weights must be finite numbers within float32's range.`);
    }
    out[k] = v;
  }
  return out;
}

/** Checks the length of one of our own (PyTorch-layout) arrays. */
function checkOurs(where: string, name: string, data: Float32Array, shape: readonly number[], names: string): void {
  const want = shape.reduce((a, b) => a * b, 1);
  if (!(data instanceof Float32Array) || data.length !== want) {
    const got = data instanceof Float32Array ? `${data.length} elements` : `a ${typeof data}, not a Float32Array`;
    throw new WeightError(`${where} ${name} has ${got}, expected ${names} = ${fmtShape(shape)} = ${want}.`);
  }
}

// ---------------------------------------------------------------------------
// Recurrent layers

/**
 * Keras (rows, n·H) matrix -> PyTorch (n·H, rows) matrix, reordering gate blocks:
 * out[g·H + j, r] = k[r, kerasBlock[g]·H + j].
 */
function kerasMatToTorch(k: Float32Array, rows: number, H: number, block: readonly number[]): Float32Array {
  const n = block.length;
  const G = n * H;
  const out = new Float32Array(G * rows);
  for (let g = 0; g < n; g++) {
    const kb = block[g]! * H;
    for (let j = 0; j < H; j++) {
      for (let r = 0; r < rows; r++) out[(g * H + j) * rows + r] = k[r * G + kb + j]!;
    }
  }
  return out;
}

/** Inverse of kerasMatToTorch: PyTorch (n·H, rows) -> Keras (rows, n·H). */
function torchMatToKeras(w: Float32Array, rows: number, H: number, block: readonly number[]): Float32Array {
  const n = block.length;
  const G = n * H;
  const out = new Float32Array(rows * G);
  for (let g = 0; g < n; g++) {
    const kb = block[g]! * H;
    for (let j = 0; j < H; j++) {
      for (let r = 0; r < rows; r++) out[r * G + kb + j] = w[(g * H + j) * rows + r]!;
    }
  }
  return out;
}

/** Keras bias vector (n·H) at `offset` -> PyTorch order (n·H). */
function kerasVecToTorch(b: Float32Array, offset: number, H: number, block: readonly number[]): Float32Array {
  const out = new Float32Array(block.length * H);
  block.forEach((kb, g) => out.set(b.subarray(offset + kb * H, offset + (kb + 1) * H), g * H));
  return out;
}

/** PyTorch-order bias (n·H) -> Keras order, written into `out` at `offset`. */
function torchVecToKeras(
  b: Float32Array,
  out: Float32Array,
  offset: number,
  H: number,
  block: readonly number[],
): void {
  block.forEach((kb, g) => out.set(b.subarray(g * H, (g + 1) * H), offset + kb * H));
}

/**
 * Keras recurrent layer weights -> CellWeights (PyTorch layout and gate order).
 * Single-bias layers give bhh = 0; GRU reset_after=True splits its (2, 3H) bias into
 * bih (row 0) and bhh (row 1). `where` starts every error message, e.g.
 * "loadKerasWeights: layer 0".
 */
export function kerasToCell(
  cell: CellType,
  resetAfter: boolean,
  weights: KerasRecurrentWeights,
  dims: RecurrentDims,
  where: string,
): CellWeights {
  const I = dims.inputSize;
  const H = dims.hiddenSize;
  const G = gateCount(cell) * H;
  const block = kerasBlockOf(cell);
  const shapes = kerasRecurrentShapes(cell, resetAfter, dims);
  if (weights === null || typeof weights !== 'object' || Array.isArray(weights)) {
    throw new WeightError(
      `${where} is ${weights === null ? 'null' : Array.isArray(weights) ? 'an array' : typeof weights}, expected { kernel ${shapes.kernel.names}, recurrentKernel ${shapes.recurrentKernel.names}, bias ${shapes.bias.names} }.`,
    );
  }

  const kernel = readTensor(where, 'kernel', weights.kernel, shapes.kernel.shape, shapes.kernel.names);
  const recurrent = readTensor(
    where,
    'recurrent_kernel',
    weights.recurrentKernel,
    shapes.recurrentKernel.shape,
    shapes.recurrentKernel.names,
  );
  let bias: Float32Array;
  if (weights.bias === undefined || weights.bias === null) {
    bias = new Float32Array(shapes.bias.shape.reduce((a, b) => a * b, 1));
  } else {
    try {
      bias = readTensor(where, 'bias', weights.bias, shapes.bias.shape, shapes.bias.names);
    } catch (e) {
      if (!(e instanceof WeightError) || cell !== 'gru') throw e;
      const hint = resetAfter
        ? ' Hint: a GRU with reset_after=True has a (2, 3H) bias (input row, recurrent row); ' +
          'a (3H) bias means reset_after=False.'
        : ' Hint: a GRU with reset_after=False has a (3H) bias; a (2, 3H) bias means reset_after=True.';
      throw new WeightError(e.message + hint);
    }
  }

  const wih = kerasMatToTorch(kernel, I, H, block); // (G, I)
  const whh = kerasMatToTorch(recurrent, H, H, block); // (G, H)
  const bih = kerasVecToTorch(bias, 0, H, block); // (G)
  const bhh = kerasDoubleBias(cell, resetAfter) ? kerasVecToTorch(bias, G, H, block) : new Float32Array(G);
  return { wih, whh, bih, bhh };
}

/**
 * CellWeights -> Keras recurrent layer weights (the inverse of kerasToCell).
 * For single-bias Keras layouts a nonzero bhh is folded into the one bias
 * (bias = bih + bhh, rounded to float32). Every fold is exact up to that rounding:
 * SimpleRNN and LSTM add both biases to the same pre-activation, and so do the r and z
 * gates of a GRU. For a GRU with reset_after=False it is exact for the n gate too,
 * because this runtime's reset_after=False step (shaders/gru_v1_step_forward.wgsl,
 * tests/fixtures/make_fixtures.py) adds bhh_n outside the reset product:
 *   n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn).
 * PyTorch's bhh_n, inside r ⊙ (W_hn h + b_hn), belongs to reset_after=True, whose
 * (2, 3H) Keras bias keeps bhh as its own row.
 */
export function cellToKeras(
  cell: CellType,
  resetAfter: boolean,
  w: CellWeights,
  dims: RecurrentDims,
  where: string,
): KerasRecurrentArrays {
  const I = dims.inputSize;
  const H = dims.hiddenSize;
  const n = gateCount(cell);
  const G = n * H;
  const gH = n === 1 ? 'H' : `${n}H`;
  const block = kerasBlockOf(cell);
  checkOurs(where, 'wih', w.wih, [G, I], `(${gH}, I)`);
  checkOurs(where, 'whh', w.whh, [G, H], `(${gH}, H)`);
  checkOurs(where, 'bih', w.bih, [G], `(${gH})`);
  checkOurs(where, 'bhh', w.bhh, [G], `(${gH})`);

  const kernel = torchMatToKeras(w.wih, I, H, block); // (I, G)
  const recurrentKernel = torchMatToKeras(w.whh, H, H, block); // (H, G)
  let bias: Float32Array;
  if (kerasDoubleBias(cell, resetAfter)) {
    bias = new Float32Array(2 * G); // (2, G)
    torchVecToKeras(w.bih, bias, 0, H, block);
    torchVecToKeras(w.bhh, bias, G, H, block);
  } else {
    const folded = new Float32Array(G);
    for (let k = 0; k < G; k++) folded[k] = w.bih[k]! + w.bhh[k]!;
    bias = new Float32Array(G);
    torchVecToKeras(folded, bias, 0, H, block);
  }
  return { kernel, recurrentKernel, bias };
}

// ---------------------------------------------------------------------------
// Dense and Embedding

/**
 * Keras Dense kernel (in, out) and bias (out) -> {weight (out, in), bias (out)}.
 * A null or undefined bias (use_bias=False) reads as zeros.
 */
export function kerasToDense(
  kernel: KerasTensor,
  bias: KerasTensor | null | undefined,
  dims: DenseDims,
  where: string,
): DenseWeights {
  const { inputSize: nIn, units: nOut } = dims;
  const k = readTensor(where, 'kernel', kernel, [nIn, nOut], '(in, out)'); // (in, out)
  const b = // (out)
    bias === undefined || bias === null ? new Float32Array(nOut) : readTensor(where, 'bias', bias, [nOut], '(out)');
  return { weight: transpose(k, nIn, nOut), bias: b };
}

/** {weight (out, in), bias (out)} -> Keras Dense {kernel (in, out), bias (out)}. */
export function denseToKeras(
  w: DenseWeights,
  dims: DenseDims,
  where: string,
): { kernel: Float32Array; bias: Float32Array } {
  const { inputSize: nIn, units: nOut } = dims;
  checkOurs(where, 'weight', w.weight, [nOut, nIn], '(out, in)');
  checkOurs(where, 'bias', w.bias, [nOut], '(out)');
  return { kernel: transpose(w.weight, nOut, nIn), bias: w.bias.slice() };
}

/** Keras Embedding embeddings (vocab, dim) -> our (vocab, dim) table (same layout, copied). */
export function kerasToEmbedding(embeddings: KerasTensor, dims: EmbeddingDims, where: string): Float32Array {
  return readTensor(where, 'embeddings', embeddings, [dims.vocabSize, dims.dim], '(vocab, dim)');
}

/** Our (vocab, dim) table -> Keras Embedding embeddings (vocab, dim), copied. */
export function embeddingToKeras(weight: Float32Array, dims: EmbeddingDims, where: string): Float32Array {
  checkOurs(where, 'weight', weight, [dims.vocabSize, dims.dim], '(vocab, dim)');
  return weight.slice();
}

// ---------------------------------------------------------------------------
// Helpers

/** (rows, cols) row-major -> (cols, rows) row-major. */
function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c]!;
  }
  return out;
}

/** A row-major flat array as nested number arrays of `shape` (for JSON / Keras set_weights). */
export function toNested(data: ArrayLike<number>, shape: readonly number[]): NestedNumberArray {
  const want = shape.reduce((a, b) => a * b, 1);
  if (data.length !== want || shape.length === 0) {
    throw new WeightError(`toNested: data has ${data.length} elements, expected shape ${fmtShape(shape)} = ${want}.`);
  }
  const build = (offset: number, depth: number): NestedNumberArray => {
    const len = shape[depth]!;
    if (depth === shape.length - 1) return Array.from({ length: len }, (_, k) => data[offset + k]!);
    const stride = shape.slice(depth + 1).reduce((a, b) => a * b, 1);
    return Array.from({ length: len }, (_, k) => build(offset + k * stride, depth + 1));
  };
  return build(0, 0);
}
