// safetensors (huggingface/safetensors): reader, writer and validation. Pure
// functions on bytes, no GPU. parseSafetensors() turns a file into named,
// validated tensors (every malformed file is rejected before any tensor is
// decoded); what it returns goes straight to loadTorchStateDict() (layers,
// Sequential), which builds nothing until every key and shape has checked out.
//
// The format:
//   bytes [0, 8)        N, the header's length, u64 little-endian
//   bytes [8, 8 + N)    a UTF-8 JSON object: { "__metadata__"?: { str: str },
//                       name: { dtype, shape: [..], data_offsets: [begin, end] }, ... }
//   bytes [8 + N, end)  the tensors' bytes, row-major, little-endian; offsets are
//                       relative to 8 + N
//
// Validation follows the reference reader (safetensors/src/tensor.rs,
// SafeTensors::read_metadata and Metadata::validate): the file holds the 8 length
// bytes; N ≤ 100,000,000 and 8 + N ≤ file size; the header is valid UTF-8 and a
// JSON object; __metadata__, if present, maps strings to strings; each entry has a
// known dtype, a shape of non-negative integers and two integer data_offsets;
// sorted by offsets, the entries are contiguous from 0 (no gap, no overlap) with
// end − begin = numel × dtype size; and the last end is exactly the file's end
// (no truncation, no trailing bytes). Each violation is a WeightError naming the
// tensor and the rule.
//
// The writer does what the reference serialize() does: compact JSON with
// __metadata__ first, padded with spaces to a multiple of 8 bytes, then the
// tensors ordered by descending element size and then by name (so each tensor
// starts at a multiple of its element size), contiguous. Files written by
// huggingface/safetensors or tests/fixtures/make_safetensors.py and read here
// are written back byte for byte.
import { ShapeError, ValueError, WeightError, fmtShape } from '../errors';
import { halfToFloat } from './layers_model';

/** The dtypes read and written here (safetensors' names). */
export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'U64' | 'I32' | 'U32' | 'I16' | 'U16' | 'I8' | 'U8' | 'BOOL';

/**
 * One tensor of a parsed file. Float dtypes (F64, F32, F16, BF16) are converted to
 * float32 (F16 and BF16 exactly; F64 rounded to nearest); integer dtypes keep
 * their kind (I64/U64 as BigInt64Array/BigUint64Array), BOOL is a Uint8Array of
 * 0s and 1s. `dtype` is what the file stores.
 */
export type SafetensorsTensor =
  | { dtype: 'F64' | 'F32' | 'F16' | 'BF16'; shape: number[]; data: Float32Array }
  | { dtype: 'I64'; shape: number[]; data: BigInt64Array }
  | { dtype: 'U64'; shape: number[]; data: BigUint64Array }
  | { dtype: 'I32'; shape: number[]; data: Int32Array }
  | { dtype: 'U32'; shape: number[]; data: Uint32Array }
  | { dtype: 'I16'; shape: number[]; data: Int16Array }
  | { dtype: 'U16'; shape: number[]; data: Uint16Array }
  | { dtype: 'I8'; shape: number[]; data: Int8Array }
  | { dtype: 'U8' | 'BOOL'; shape: number[]; data: Uint8Array };

/**
 * A tensor to write. `dtype` defaults from the data: Float32Array or number[] → F32,
 * Float64Array → F64, Int8Array → I8, Uint8Array → U8, …, BigInt64Array → I64,
 * BigUint64Array → U64. Float data may be written as F16 or BF16 (rounded to
 * nearest even), integer dtypes need integers in range, BOOL needs 0s and 1s.
 */
export interface SafetensorsInput {
  data: ArrayLike<number> | BigInt64Array | BigUint64Array;
  shape: readonly number[];
  dtype?: SafetensorsDtype;
}

/** The reference reader's bound on the header length (tensor.rs MAX_HEADER_SIZE). */
const MAX_HEADER_SIZE = 100_000_000;

const DTYPE_SIZE: Record<SafetensorsDtype, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, U64: 8, I32: 4, U32: 4, I16: 2, U16: 2, I8: 1, U8: 1, BOOL: 1 };
const DTYPES = Object.keys(DTYPE_SIZE) as SafetensorsDtype[];
const isDtype = (d: unknown): d is SafetensorsDtype => typeof d === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_SIZE, d);

interface HeaderEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number; // byte offsets relative to the data section
  end: number;
}

interface Header {
  metadata: Record<string, string> | null;
  entries: HeaderEntry[]; // sorted by offsets
  dataStart: number; // 8 + N
}

const P = 'parseSafetensors';

function asBytes(op: string, bytes: unknown): Uint8Array {
  if (bytes instanceof ArrayBuffer) return new Uint8Array(bytes);
  if (bytes instanceof Uint8Array) return bytes; // Node's Buffer too
  if (ArrayBuffer.isView(bytes)) return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  throw new ValueError(`${op}: bytes must be an ArrayBuffer or a Uint8Array (the file's contents), got ${bytes === null ? 'null' : typeof bytes}.`);
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Reads and validates the header; every rule of the format is checked here. */
function readHeader(op: string, u8: Uint8Array): Header {
  if (u8.length < 8) {
    throw new WeightError(`${op}: the file is ${u8.length} bytes, shorter than the 8-byte header length it must start with (rule: header too small).`);
  }
  const n64 = new DataView(u8.buffer, u8.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_SIZE)) {
    throw new WeightError(`${op}: the header length is ${n64} bytes, above the limit of ${MAX_HEADER_SIZE} (rule: header too large). Hint: is this a safetensors file?`);
  }
  const n = Number(n64);
  if (8 + n > u8.length) {
    throw new WeightError(`${op}: the header length is ${n} bytes, but the file has only ${u8.length - 8} bytes after the length (rule: header length within the file). Hint: the file may be truncated.`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(u8.subarray(8, 8 + n));
  } catch {
    throw new WeightError(`${op}: the header is not valid UTF-8 (rule: header is UTF-8 JSON).`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new WeightError(`${op}: the header is not valid JSON (${(e as Error).message}) (rule: header is UTF-8 JSON).`);
  }
  if (!isObj(json)) throw new WeightError(`${op}: the header is JSON but not an object of tensors, got ${Array.isArray(json) ? 'an array' : String(json)} (rule: header is a JSON object).`);

  let metadata: Record<string, string> | null = null;
  const entries: HeaderEntry[] = [];
  for (const [name, e] of Object.entries(json)) {
    if (name === '__metadata__') {
      if (!isObj(e) || Object.values(e).some((v) => typeof v !== 'string')) {
        throw new WeightError(`${op}: __metadata__ must map strings to strings, got ${JSON.stringify(e)} (rule: metadata is a string map).`);
      }
      metadata = { ...(e as Record<string, string>) };
      continue;
    }
    const at = `${op}: tensor '${name}'`;
    if (!isObj(e)) throw new WeightError(`${at} must be { dtype, shape, data_offsets }, got ${JSON.stringify(e)} (rule: entry fields).`);
    for (const k of ['dtype', 'shape', 'data_offsets']) {
      if (!(k in e)) throw new WeightError(`${at} has no '${k}'; an entry is { dtype, shape, data_offsets } (rule: entry fields).`);
    }
    if (!isDtype(e.dtype)) {
      throw new WeightError(`${at} has dtype ${JSON.stringify(e.dtype)}, unknown or not supported here; supported: ${DTYPES.join(', ')} (rule: known dtype).`);
    }
    if (!Array.isArray(e.shape) || !e.shape.every(isCount)) {
      throw new WeightError(`${at} has shape ${JSON.stringify(e.shape)}, expected an array of non-negative integers (rule: entry fields).`);
    }
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every(isCount)) {
      throw new WeightError(`${at} has data_offsets ${JSON.stringify(off)}, expected [begin, end], two non-negative integers (rule: entry fields).`);
    }
    entries.push({ name, dtype: e.dtype, shape: [...(e.shape as number[])], begin: off[0] as number, end: off[1] as number });
  }

  // Metadata::validate: sorted by offsets, contiguous from 0, each span = numel × size.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let start = 0;
  let prev: HeaderEntry | null = null;
  for (const t of entries) {
    const at = `${op}: tensor '${t.name}'`;
    const span = `data_offsets [${t.begin}, ${t.end}]`;
    if (t.end < t.begin) throw new WeightError(`${at}: ${span} end before they begin (rule: offsets contiguous from 0).`);
    if (t.begin < start) {
      throw new WeightError(`${at}: ${span} overlap ${prev ? `tensor '${prev.name}' (which ends at ${start})` : 'the previous tensor'} (rule: offsets contiguous from 0, no overlaps).`);
    }
    if (t.begin > start) {
      throw new WeightError(
        `${at}: ${span} leave a gap of ${t.begin - start} bytes ${prev ? `after tensor '${prev.name}' (which ends at ${start})` : 'at the start of the data (expected to begin at 0)'} (rule: offsets contiguous from 0, no gaps).`,
      );
    }
    let numel = 1;
    for (const d of t.shape) {
      numel *= d;
      if (!Number.isSafeInteger(numel)) throw new WeightError(`${at}: shape ${fmtShape(t.shape)} has more elements than can be counted exactly (rule: numel × dtype size).`);
    }
    const need = numel * DTYPE_SIZE[t.dtype];
    if (t.end - t.begin !== need) {
      throw new WeightError(
        `${at}: ${span} span ${t.end - t.begin} bytes, but ${t.dtype} shape ${fmtShape(t.shape)} needs ${numel} × ${DTYPE_SIZE[t.dtype]} = ${need} bytes (rule: end − begin = numel × dtype size).`,
      );
    }
    start = t.end;
    prev = t;
  }
  const dataStart = 8 + n;
  const fileData = u8.length - dataStart;
  if (start !== fileData) {
    const last = prev ? `tensor '${prev.name}' ends at ${start}` : 'there are no tensors';
    throw new WeightError(
      start > fileData
        ? `${op}: ${last}, but the file has only ${fileData} data bytes after the header (rule: buffer ends at the file's end). Hint: the file is truncated.`
        : `${op}: ${last}, but the file has ${fileData} data bytes after the header: ${fileData - start} trailing bytes (rule: buffer ends at the file's end).`,
    );
  }
  return { metadata, entries, dataStart };
}

function decode(u8: Uint8Array, at: number, t: HeaderEntry): SafetensorsTensor {
  const bytes = t.end - t.begin;
  const n = bytes / DTYPE_SIZE[t.dtype];
  const v = new DataView(u8.buffer, u8.byteOffset + at, bytes);
  const shape = t.shape;
  const fill = <A extends { [i: number]: number | bigint }>(out: A, get: (i: number) => number | bigint): A => {
    for (let i = 0; i < n; i++) out[i] = get(i);
    return out;
  };
  switch (t.dtype) {
    case 'F64':
      return { dtype: t.dtype, shape, data: fill(new Float32Array(n), (i) => v.getFloat64(8 * i, true)) };
    case 'F32':
      return { dtype: t.dtype, shape, data: fill(new Float32Array(n), (i) => v.getFloat32(4 * i, true)) };
    case 'F16':
      return { dtype: t.dtype, shape, data: fill(new Float32Array(n), (i) => halfToFloat(v.getUint16(2 * i, true))) };
    case 'BF16': {
      // bfloat16 is the top half of a float32's bits
      const bits = new Uint32Array(n);
      for (let i = 0; i < n; i++) bits[i] = v.getUint16(2 * i, true) << 16;
      return { dtype: t.dtype, shape, data: new Float32Array(bits.buffer) };
    }
    case 'I64':
      return { dtype: t.dtype, shape, data: fill(new BigInt64Array(n), (i) => v.getBigInt64(8 * i, true)) };
    case 'U64':
      return { dtype: t.dtype, shape, data: fill(new BigUint64Array(n), (i) => v.getBigUint64(8 * i, true)) };
    case 'I32':
      return { dtype: t.dtype, shape, data: fill(new Int32Array(n), (i) => v.getInt32(4 * i, true)) };
    case 'U32':
      return { dtype: t.dtype, shape, data: fill(new Uint32Array(n), (i) => v.getUint32(4 * i, true)) };
    case 'I16':
      return { dtype: t.dtype, shape, data: fill(new Int16Array(n), (i) => v.getInt16(2 * i, true)) };
    case 'U16':
      return { dtype: t.dtype, shape, data: fill(new Uint16Array(n), (i) => v.getUint16(2 * i, true)) };
    case 'I8':
      return { dtype: t.dtype, shape, data: fill(new Int8Array(n), (i) => v.getInt8(i)) };
    case 'U8':
    case 'BOOL':
      return { dtype: t.dtype, shape, data: u8.slice(at, at + bytes) };
  }
}

/**
 * Reads a .safetensors file: name → { dtype, shape, data }, in file (offset)
 * order. The whole file is validated first (see the header of this module);
 * a malformed one throws a WeightError naming the tensor and the rule. The
 * `__metadata__` map is not among the tensors: read it with safetensorsMetadata().
 * The result passes straight to loadTorchStateDict().
 */
export function parseSafetensors(bytes: ArrayBuffer | Uint8Array): Record<string, SafetensorsTensor> {
  const u8 = asBytes(P, bytes);
  const h = readHeader(P, u8);
  const out: Record<string, SafetensorsTensor> = {};
  for (const t of h.entries) out[t.name] = decode(u8, h.dataStart + t.begin, t);
  return out;
}

/** The file's `__metadata__` map (string → string), or null if it has none. Validates the file as parseSafetensors() does. */
export function safetensorsMetadata(bytes: ArrayBuffer | Uint8Array): Record<string, string> | null {
  return readHeader('safetensorsMetadata', asBytes('safetensorsMetadata', bytes)).metadata;
}

// ---------------------------------------------------------------------------
// Writer

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** number → IEEE 754 half bits, rounded to nearest even (through float32). */
function floatToHalf(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf, NaN
  const e = exp - 112; // rebias 127 → 15
  if (e >= 31) return sign | 0x7c00; // overflows to Inf
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal: ±0
    mant |= 0x800000;
    const shift = 14 - e;
    const m = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    return sign | (m + (rem > half || (rem === half && m & 1) ? 1 : 0));
  }
  const m = mant >>> 13;
  const rem = mant & 0x1fff;
  // a carry out of the mantissa bumps the exponent, which is the right encoding
  return (sign | (e << 10) | m) + (rem > 0x1000 || (rem === 0x1000 && m & 1) ? 1 : 0);
}

/** number → bfloat16 bits, rounded to nearest even (through float32). */
function floatToBf16(x: number): number {
  f32[0] = x;
  const b = u32[0];
  if ((b & 0x7fffffff) > 0x7f800000) return ((b >>> 16) & 0x8000) | 0x7fc0; // NaN
  return Math.floor((b + 0x7fff + ((b >>> 16) & 1)) / 0x10000);
}

const INT_RANGE: Partial<Record<SafetensorsDtype, [number, number]>> = {
  I32: [-(2 ** 31), 2 ** 31 - 1],
  U32: [0, 2 ** 32 - 1],
  I16: [-32768, 32767],
  U16: [0, 65535],
  I8: [-128, 127],
  U8: [0, 255],
  BOOL: [0, 1],
};

function defaultDtype(data: unknown): SafetensorsDtype | null {
  if (data instanceof Float32Array || Array.isArray(data)) return 'F32';
  if (data instanceof Float64Array) return 'F64';
  if (data instanceof BigInt64Array) return 'I64';
  if (data instanceof BigUint64Array) return 'U64';
  if (data instanceof Int32Array) return 'I32';
  if (data instanceof Uint32Array) return 'U32';
  if (data instanceof Int16Array) return 'I16';
  if (data instanceof Uint16Array) return 'U16';
  if (data instanceof Int8Array) return 'I8';
  if (data instanceof Uint8Array || data instanceof Uint8ClampedArray) return 'U8';
  return null;
}

/** Writes one tensor's values at `v`'s start, little-endian. */
function encode(op: string, name: string, dtype: SafetensorsDtype, data: SafetensorsInput['data'], v: DataView): void {
  const n = data.length;
  const at = `${op}: tensor '${name}'`;
  const big = data instanceof BigInt64Array || data instanceof BigUint64Array;
  if (dtype === 'I64' || dtype === 'U64') {
    const lo = dtype === 'I64' ? -(2n ** 63n) : 0n;
    const hi = dtype === 'I64' ? 2n ** 63n - 1n : 2n ** 64n - 1n;
    for (let i = 0; i < n; i++) {
      const x = data[i];
      if (typeof x === 'number' && !Number.isSafeInteger(x)) throw new ValueError(`${at}[${i}] is ${x}; ${dtype} needs integers (above 2^53, pass a BigInt64Array/BigUint64Array).`);
      const b = BigInt(x);
      if (b < lo || b > hi) throw new ValueError(`${at}[${i}] is ${b}, out of ${dtype}'s range [${lo}, ${hi}].`);
      if (dtype === 'I64') v.setBigInt64(8 * i, b, true);
      else v.setBigUint64(8 * i, b, true);
    }
    return;
  }
  if (big) throw new ValueError(`${at} holds a ${data.constructor.name}; 64-bit integer data can only be written as I64 or U64, not ${dtype}.`);
  const d = data as ArrayLike<number>;
  const range = INT_RANGE[dtype];
  for (let i = 0; i < n; i++) {
    const x = d[i];
    if (typeof x !== 'number') throw new ValueError(`${at}[${i}] is ${typeof x}, expected a number.`);
    if (range && !(Number.isInteger(x) && x >= range[0] && x <= range[1])) {
      throw new ValueError(`${at}[${i}] is ${x}; ${dtype} needs ${dtype === 'BOOL' ? '0 or 1' : `integers in [${range[0]}, ${range[1]}]`}.`);
    }
    switch (dtype) {
      case 'F64': v.setFloat64(8 * i, x, true); break;
      case 'F32': v.setFloat32(4 * i, x, true); break;
      case 'F16': v.setUint16(2 * i, floatToHalf(x), true); break;
      case 'BF16': v.setUint16(2 * i, floatToBf16(x), true); break;
      case 'I32': v.setInt32(4 * i, x, true); break;
      case 'U32': v.setUint32(4 * i, x, true); break;
      case 'I16': v.setInt16(2 * i, x, true); break;
      case 'U16': v.setUint16(2 * i, x, true); break;
      case 'I8': v.setInt8(i, x); break;
      default: v.setUint8(i, x); // U8, BOOL
    }
  }
}

/**
 * Writes tensors (name → { data, shape, dtype? }) and an optional string map
 * `__metadata__` as a .safetensors file. Tensors are stored by descending element
 * size, then by name (the reference writer's order, which keeps each one aligned),
 * contiguous after a header padded with spaces to a multiple of 8 bytes.
 * A model's `await model.exportWeights('torch')` passes straight in, and so does
 * what parseSafetensors() returns (each tensor written back in its own dtype).
 */
export function toSafetensors(tensors: Record<string, SafetensorsInput>, metadata?: Record<string, string> | null): Uint8Array {
  const op = 'toSafetensors';
  if (!isObj(tensors)) throw new ValueError(`${op}: tensors must be an object of name → { data, shape, dtype? }, got ${tensors === null ? 'null' : Array.isArray(tensors) ? 'an array' : typeof tensors}.`);
  if (metadata !== undefined && metadata !== null && (!isObj(metadata) || Object.values(metadata).some((v) => typeof v !== 'string'))) {
    throw new ValueError(`${op}: metadata must map strings to strings (safetensors' __metadata__), got ${JSON.stringify(metadata)}.`);
  }
  const items = Object.entries(tensors).map(([name, t]) => {
    const at = `${op}: tensor '${name}'`;
    if (name === '__metadata__') throw new ValueError(`${at}: the name is reserved for the metadata map; pass metadata as the second argument.`);
    if (!isObj(t) || !t.data || typeof t.data !== 'object' || typeof t.data.length !== 'number') throw new ValueError(`${at} must be { data, shape, dtype? }, got ${describeValue(t)}.`);
    if (!Array.isArray(t.shape) || !t.shape.every(isCount)) throw new ShapeError(`${at}: shape must be an array of non-negative integers, got ${JSON.stringify(t.shape)}.`);
    const dtype = t.dtype ?? defaultDtype(t.data);
    if (dtype === null) throw new ValueError(`${at}: cannot tell the dtype of a ${(t.data as object).constructor?.name ?? typeof t.data}; pass dtype (one of ${DTYPES.join(', ')}).`);
    if (!isDtype(dtype)) throw new ValueError(`${at}: dtype must be one of ${DTYPES.join(', ')}, got ${JSON.stringify(dtype)}.`);
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (numel !== t.data.length) throw new ShapeError(`${at}: shape ${fmtShape(t.shape)} has ${numel} elements, but data has ${t.data.length}.`);
    return { name, dtype, shape: [...t.shape], data: t.data, bytes: numel * DTYPE_SIZE[dtype] };
  });
  items.sort((a, b) => DTYPE_SIZE[b.dtype] - DTYPE_SIZE[a.dtype] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  // The JSON is assembled by hand so the key order is exactly this (a JS object
  // would put integer-like names such as '0' first).
  const parts: string[] = metadata ? [`"__metadata__":${JSON.stringify(metadata)}`] : [];
  let offset = 0;
  for (const t of items) {
    parts.push(`${JSON.stringify(t.name)}:{"dtype":"${t.dtype}","shape":${JSON.stringify(t.shape)},"data_offsets":[${offset},${offset + t.bytes}]}`);
    offset += t.bytes;
  }
  let header = new TextEncoder().encode(`{${parts.join(',')}}`);
  const pad = (8 - (header.length % 8)) % 8;
  if (pad) {
    const padded = new Uint8Array(header.length + pad).fill(0x20);
    padded.set(header);
    header = padded;
  }
  const out = new Uint8Array(8 + header.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(header.length), true);
  out.set(header, 8);
  let at = 8 + header.length;
  for (const t of items) {
    encode(op, t.name, t.dtype, t.data, new DataView(out.buffer, at, t.bytes));
    at += t.bytes;
  }
  return out;
}

function describeValue(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object without data' : typeof v;
}
