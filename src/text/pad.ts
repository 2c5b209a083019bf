// padSequences: Keras's `pad_sequences` (keras_preprocessing / tf.keras), plus
// what the runtime needs to know where the padding is.
//
//   T = maxlen, or the longest sequence when maxlen is absent.
//   truncating 'pre' (default) keeps a long sequence's last T values, 'post' its first T.
//   padding 'pre' (default) puts `value` before the kept values, 'post' after them.
//   An empty sequence is a row of `value`.
//
// Returned beside the ids, row-major (N, T):
//   lengths (N): how many values of each row are the sequence's (min(len, T)).
//   mask (N, T): 1 where a value is the sequence's, 0 where it is padding. By
//     position, not by value: a real token equal to `value` is still 1.
//
// The runtime's `lengths` option (forward, predict, fit) is PyTorch's packed
// semantics and so fits post-padded rows: steps past a row's length are not
// run into its state. Pre-padded rows take `mask` instead (forward, predict,
// fit), or an Embedding with maskZero: masked steps carry the state as Keras's
// mask_zero does. The runtime takes lengths in [1, T]: drop empty
// sequences (length 0) before passing lengths on.
import { LimitError, ValueError } from '../errors';
import { CPU_MAX_ELEMENTS, FLOAT32_MAX, assertNumbers, assertPositiveInt, checkOptions, describe } from '../validate';

export type PadDtype = 'int32' | 'float32';

export interface PadOptions {
  /** Row length T. Default: the longest sequence. */
  maxlen?: number | null;
  /** Where `value` goes in a short row. Default: 'pre', as in Keras. */
  padding?: 'pre' | 'post';
  /** Which end of a long sequence is cut. Default: 'pre', as in Keras. */
  truncating?: 'pre' | 'post';
  /** The padding value. Default: 0. */
  value?: number;
  /** Element type of `ids`: 'int32' (Int32Array, default, as in Keras) or 'float32' (Float32Array, for features). */
  dtype?: PadDtype;
}

export interface PaddedSequences<A extends Int32Array | Float32Array = Int32Array> {
  /** (N, T) row-major. */
  ids: A;
  /** [N, T]. */
  shape: [number, number];
  /** (N): the kept length of each row, min(len, T). */
  lengths: Int32Array;
  /** (N, T): 1 at a row's own values, 0 at padding. */
  mask: Uint8Array;
}

const OPTION_NAMES = ['maxlen', 'padding', 'truncating', 'value', 'dtype'];
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

export function padSequences(sequences: readonly ArrayLike<number>[], options?: PadOptions & { dtype?: 'int32' }): PaddedSequences<Int32Array>;
export function padSequences(sequences: readonly ArrayLike<number>[], options: PadOptions & { dtype: 'float32' }): PaddedSequences<Float32Array>;
export function padSequences(sequences: readonly ArrayLike<number>[], options?: PadOptions): PaddedSequences<Int32Array | Float32Array>;
export function padSequences(sequences: readonly ArrayLike<number>[], options?: PadOptions): PaddedSequences<Int32Array | Float32Array> {
  const op = 'padSequences';
  const o = checkOptions(op, 'options', options);
  for (const k of Object.keys(o)) {
    if (!OPTION_NAMES.includes(k)) throw new ValueError(`${op}: unknown option '${k}'; the options are ${OPTION_NAMES.join(', ')}.`);
  }
  const padding = o.padding ?? 'pre';
  const truncating = o.truncating ?? 'pre';
  const dtype = o.dtype ?? 'int32';
  const value = o.value ?? 0;
  if (padding !== 'pre' && padding !== 'post') throw new ValueError(`${op}: padding must be 'pre' or 'post', got ${show(padding)}.`);
  if (truncating !== 'pre' && truncating !== 'post') throw new ValueError(`${op}: truncating must be 'pre' or 'post', got ${show(truncating)}.`);
  if (dtype !== 'int32' && dtype !== 'float32') throw new ValueError(`${op}: dtype must be 'int32' or 'float32', got ${show(dtype)}.`);
  if (o.maxlen !== undefined && o.maxlen !== null) assertPositiveInt(op, 'maxlen', o.maxlen);
  const checkValue = valueCheck(op, dtype);
  checkValue('value', value);

  if (!Array.isArray(sequences)) {
    const hint = ArrayBuffer.isView(sequences) ? ' Hint: one sequence is [ids]; padSequences takes a list of them.' : '';
    throw new ValueError(`${op}: sequences must be an array of sequences (arrays of numbers), got ${describe(sequences)}.${hint}`);
  }
  let longest = 0;
  sequences.forEach((s, n) => {
    assertNumbers(op, `sequences[${n}]`, s);
    for (let t = 0; t < s.length; t++) checkValue(`sequences[${n}][${t}]`, s[t]);
    longest = Math.max(longest, s.length);
  });
  const N = sequences.length;
  const T = o.maxlen ?? longest;
  if (N * T > CPU_MAX_ELEMENTS) throw new LimitError(`${op}: (N, T) = (${N}, ${T}) is ${N * T} elements, over the limit of ${CPU_MAX_ELEMENTS}. Hint: pass a smaller maxlen.`);

  const ids = dtype === 'int32' ? new Int32Array(N * T) : new Float32Array(N * T); // (N, T)
  const mask = new Uint8Array(N * T); // (N, T)
  const lengths = new Int32Array(N); // (N)
  if (value !== 0) ids.fill(value);
  sequences.forEach((s, n) => {
    const len = Math.min(s.length, T);
    const from = truncating === 'pre' ? s.length - len : 0; // first kept index of s
    const at = n * T + (padding === 'pre' ? T - len : 0); // where it goes in the row
    for (let t = 0; t < len; t++) ids[at + t] = s[from + t];
    mask.fill(1, at, at + len);
    lengths[n] = len;
  });
  return { ids, shape: [N, T], lengths, mask };
}

/** Values must fit the dtype: int32 integers, or finite float32 numbers. */
function valueCheck(op: string, dtype: PadDtype): (arg: string, v: unknown) => void {
  return (arg, v) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ValueError(`${op}: ${arg} is ${typeof v === 'number' ? v : describe(v)}; expected a finite number.`);
    if (dtype === 'int32' && (!Number.isInteger(v) || v < INT32_MIN || v > INT32_MAX)) {
      throw new ValueError(`${op}: ${arg} is ${v}, not an int32 integer (dtype 'int32'). Hint: use dtype: 'float32' for real values.`);
    }
    if (dtype === 'float32' && Math.abs(v) > FLOAT32_MAX) throw new ValueError(`${op}: ${arg} is ${v}, outside float32's range ±${FLOAT32_MAX}.`);
  };
}

function show(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : describe(v);
}
