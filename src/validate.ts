// Input validation, in one home that every floor uses (layers, models, losses,
// the fit loop, the references). Each check throws the typed error of errors.ts
// that names the operation, the argument, what was expected and what arrived.
// Nothing here allocates GPU memory or touches a device: a call is checked in
// full before anything is built, so a refused call changes nothing.
import type { Backend } from './backend';
import { DisposedError, LimitError, ShapeError, ValueError, fmtShape } from './errors';
import { Tensor, type Input } from './tensor';

/** The largest finite float32; GPU data is float32, so larger values would become Inf. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Elements one CPU tensor may hold (float64: 2 GiB). Larger typed arrays fail to
 * allocate (RangeError) or exhaust memory, so sizes over it are refused up front.
 */
export const CPU_MAX_ELEMENTS = 2 ** 28;

/** How an unexpected value reads in a message: 'null', 'a string', 'a BigInt64Array'. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return `a ${v.constructor?.name ?? 'object'}`;
  return `a ${typeof v}`;
}

/** Checks that `data.length` equals the product of `shape`; names the argument. */
export function assertLength(op: string, arg: string, data: ArrayLike<number>, shape: readonly number[], names: string, hint?: string): void {
  assertNumbers(op, arg, data);
  const want = shape.reduce((a, b) => a * b, 1);
  if (data.length !== want) {
    throw new ShapeError(`${op}: ${arg} has ${data.length} elements, expected ${names} = ${fmtShape(shape)} = ${want}.` + (hint ? ` Hint: ${hint}` : ''));
  }
}

/**
 * An array of numbers: a number[] or a Float32/Float64/(U)Int typed array. Rejects
 * null, undefined, strings, plain objects and BigInt arrays with a ValueError.
 */
export function assertNumbers(op: string, arg: string, v: unknown): asserts v is ArrayLike<number> {
  const ok =
    v !== null &&
    typeof v === 'object' &&
    typeof (v as ArrayLike<unknown>).length === 'number' &&
    !(v instanceof BigInt64Array) &&
    !(v instanceof BigUint64Array) &&
    (Array.isArray(v) || ArrayBuffer.isView(v));
  if (!ok) throw new ValueError(`${op}: ${arg} must be an array of numbers (number[] or Float32Array), got ${describe(v)}.`);
}

/** Rejects NaN and ±Inf; reports the first bad index. */
export function assertFinite(op: string, arg: string, data: ArrayLike<number>): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) throw new ValueError(`${op}: ${arg}[${i}] is ${data[i]}; all values must be finite (no NaN or Inf).`);
  }
}

/**
 * Rejects NaN, ±Inf and finite values beyond float32's range (|v| > 3.4e38),
 * which would become Inf on the GPU (and numbers that are not numbers at all).
 */
export function assertFloat32(op: string, arg: string, data: ArrayLike<number>): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new ValueError(`${op}: ${arg}[${i}] is ${typeof v === 'number' ? v : describe(v)}; all values must be finite numbers (no NaN or Inf).`);
    }
    if (v > FLOAT32_MAX || v < -FLOAT32_MAX) {
      throw new ValueError(`${op}: ${arg}[${i}] is ${v}, outside float32's range ±${FLOAT32_MAX}; the runtime computes in float32.`);
    }
  }
}

export function assertPositiveInt(op: string, arg: string, v: unknown): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ValueError(`${op}: ${arg} must be a positive integer, got ${String(v)}.`);
}

/** A shape: a non-empty array of positive integers. */
export function assertShape(op: string, arg: string, shape: unknown): asserts shape is number[] {
  if (!Array.isArray(shape) || shape.length === 0 || shape.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 1)) {
    throw new ShapeError(`${op}: ${arg} must be a non-empty array of positive integers, got ${Array.isArray(shape) ? `[${shape.join(', ')}]` : describe(shape)}.`);
  }
}

/**
 * Refuses a tensor of `elements` values before anything is allocated: on the
 * GPU against the adapter's buffer limits (float32), on the CPU against
 * CPU_MAX_ELEMENTS. Names the tensor, its size and the limit.
 */
export function checkElements(op: string, what: string, elements: number, backend: Backend): void {
  if (backend.kind === 'webgpu') {
    backend.ctx.checkSize(op, what, elements * 4);
    return;
  }
  if (!(elements <= CPU_MAX_ELEMENTS)) {
    throw new LimitError(`${op}: ${what} needs ${elements} elements, over the CPU backend's limit of ${CPU_MAX_ELEMENTS} elements per tensor. Hint: use smaller sizes.`);
  }
}

/**
 * Shape, values and backend of an input array or tensor: arrays must be numbers,
 * finite and within float32's range; tensors must be live, of `shape`, and on this
 * very backend (a tensor of another runtime cannot be bound to this device).
 */
export function checkInput(op: string, arg: string, v: Input, shape: readonly number[], names: string, backend: Backend, hint?: string): void {
  if (v instanceof Tensor) {
    if (v.disposed) throw new DisposedError(`${op}: ${arg} is a disposed tensor.`);
    if (v.shape.length !== shape.length || v.shape.some((d, i) => d !== shape[i])) {
      throw new ShapeError(`${op}: ${arg} has shape ${fmtShape(v.shape)}, expected ${names} = ${fmtShape(shape)}.` + (hint ? ` Hint: ${hint}` : ''));
    }
    checkOwner(op, arg, v, backend);
    return;
  }
  assertLength(op, arg, v, shape, names, hint);
  assertFloat32(op, arg, v);
}

/** A tensor belongs to this backend: same kind and, on the GPU, the same device. */
export function checkOwner(op: string, arg: string, t: Tensor, backend: Backend): void {
  if (t.backend !== backend.kind) throw new ValueError(`${op}: ${arg} is a ${t.backend} tensor but this runs on ${backend.kind}.`);
  if (backend.kind === 'webgpu' && !t.belongsTo(backend.ctx)) {
    throw new ValueError(`${op}: ${arg} was made by another runtime (another GPU device); pass tensors of this runtime. Hint: read() it and pass the array.`);
  }
}

/** B and T from explicit options, the input's shape, or its length. */
export function resolveBT(op: string, x: Input, I: number, batch?: number, seqLen?: number): { B: number; T: number } {
  if (x instanceof Tensor) {
    if (x.shape.length !== 3) throw new ShapeError(`${op}: x has shape ${fmtShape(x.shape)}, expected (B, T, I) with I = ${I}.`);
    const [B, T] = x.shape;
    if ((batch !== undefined && batch !== B) || (seqLen !== undefined && seqLen !== T)) {
      throw new ShapeError(`${op}: x has shape ${fmtShape(x.shape)} but batch = ${batch}, seqLen = ${seqLen} were given.`);
    }
    return { B, T };
  }
  if (x === null || x === undefined || typeof (x as ArrayLike<number>).length !== 'number') {
    throw new ValueError(`${op}: x must be a Float32Array, number[] or Tensor of shape (B, T, I), got ${describe(x)}.`);
  }
  assertNumbers(op, 'x', x);
  if (batch !== undefined) assertPositiveInt(op, 'batch', batch);
  if (seqLen !== undefined) assertPositiveInt(op, 'seqLen', seqLen);
  const n = x.length;
  if (batch !== undefined && seqLen !== undefined) return { B: batch, T: seqLen };
  if (batch === undefined && seqLen === undefined) {
    throw new ShapeError(`${op}: x is a flat array of ${n} values; pass batch and/or seqLen so its shape (B, T, I = ${I}) is known.`);
  }
  const known = (batch ?? seqLen)! * I;
  if (n % known !== 0 || n === 0) {
    throw new ShapeError(`${op}: x has ${n} values, not a multiple of ${batch !== undefined ? 'batch' : 'seqLen'}·I = ${known}.`);
  }
  return batch !== undefined ? { B: batch, T: n / known } : { B: n / known, T: seqLen! };
}

/** Lengths as u32, each an integer in [1, T]; all T when absent. */
export function checkLengths(op: string, lengths: ArrayLike<number> | undefined, B: number, T: number): Uint32Array {
  if (lengths === undefined) return new Uint32Array(B).fill(T);
  assertNumbers(op, 'lengths', lengths);
  if (lengths.length !== B) {
    throw new ShapeError(`${op}: lengths has ${lengths.length} entries, expected (B) = (${B}). Hint: one length per sequence in the batch.`);
  }
  const out = new Uint32Array(B);
  for (let b = 0; b < B; b++) {
    const v = lengths[b];
    if (!Number.isInteger(v) || v < 1 || v > T) {
      throw new ValueError(`${op}: lengths[${b}] = ${v} is out of range; each length must be an integer in [1, T] = [1, ${T}].`);
    }
    out[b] = v;
  }
  return out;
}

/** An options bag: undefined (→ {}) or a plain object; null and other values are refused. */
export function checkOptions<T extends object>(op: string, arg: string, v: T | undefined | null): T {
  if (v === undefined) return {} as T;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ValueError(`${op}: ${arg} must be an object, got ${describe(v)}.`);
  return v;
}

/** The weight formats exportWeights() writes. */
export function checkFormat(op: string, format: unknown): asserts format is 'torch' | 'keras' {
  if (format !== 'torch' && format !== 'keras') throw new ValueError(`${op}: format must be 'torch' or 'keras', got ${typeof format === 'string' ? `'${format}'` : describe(format)}.`);
}

/** A (B, T) step mask of 0s and 1s (booleans too), row-major, as u32. */
export function checkMask(op: string, mask: unknown, B: number, T: number): Uint32Array {
  const ok = Array.isArray(mask) || (ArrayBuffer.isView(mask) && !(mask instanceof BigInt64Array) && !(mask instanceof BigUint64Array) && !(mask instanceof DataView));
  if (!ok) throw new ValueError(`${op}: mask must be an array of 0/1 per (sample, step), (B, T) = (${B}, ${T}), got ${describe(mask)}.`);
  const m = mask as ArrayLike<unknown>;
  if (m.length !== B * T) throw new ShapeError(`${op}: mask has ${m.length} entries, expected (B, T) = (${B}, ${T}) = ${B * T}. Hint: one entry per sample and step, row-major.`);
  const out = new Uint32Array(B * T);
  for (let i = 0; i < out.length; i++) {
    const v = m[i];
    if (v === 1 || v === true) out[i] = 1;
    else if (v !== 0 && v !== false) throw new ValueError(`${op}: mask[${i}] (sample ${Math.floor(i / T)}, step ${i % T}) is ${String(v)}; expected 0 or 1.`);
  }
  return out;
}
