// safetensors in and out (issue 10, part B).
//
// Fixtures: tests/fixtures/make_safetensors.py, run with Debian's PyTorch 1.13
// (python3-torch), writes the .safetensors files with struct/json (PyTorch has no
// safetensors writer) and safetensors.json with torch's outputs. The model is
// rnn = nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True),
// fc = nn.Linear(8, 2), y = fc(rnn(x)[0]), its state_dict saved as F32, F16 and
// BF16; torch's reference outputs are computed in float64 from the weights as
// stored (rounded for F16/BF16), so an exact loader matches them as closely as
// the F32 file does. Malformed files are built below from the good ones, one per
// validation rule of the reference reader (safetensors/src/tensor.rs).
//
// The parser is pure CPU code; the model-loading parts run on both backends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fx from './fixtures/safetensors.json';
import { WeightError, ValueError, parseSafetensors, safetensorsMetadata, toSafetensors, type Runtime, type SafetensorsTensor } from '../src/index';
import { cpuRuntime, gpuRuntime } from './helpers/runtimes';

const here = dirname(fileURLToPath(import.meta.url));
const file = (name: string): Uint8Array => new Uint8Array(readFileSync(join(here, 'fixtures', name)));
const f32File = file('lstm_fc_f32.safetensors');

/** The JSON header of a file, and a function that writes a file with a changed header. */
function header(bytes: Uint8Array): Record<string, any> {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
}
function withHeader(bytes: Uint8Array, text: string | Uint8Array, data?: Uint8Array): Uint8Array {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const h = typeof text === 'string' ? new TextEncoder().encode(text) : text;
  const body = data ?? bytes.subarray(8 + n);
  const out = new Uint8Array(8 + h.length + body.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(body, 8 + h.length);
  return out;
}
function expectWeightError(fn: () => unknown, ...parts: (string | RegExp)[]): string {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a WeightError').toBeInstanceOf(WeightError);
  const msg = (err as Error).message;
  for (const p of parts) expect(msg).toMatch(p);
  return msg;
}
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe('parseSafetensors (CPU only)', () => {
  it('reads the F32 state_dict with its module prefixes, shapes and values', () => {
    const sd = parseSafetensors(f32File);
    const names = Object.keys(sd).sort();
    expect(names).toContain('rnn.weight_ih_l0');
    expect(names).toContain('rnn.bias_hh_l1_reverse');
    expect(names).toContain('fc.weight');
    expect(names.length).toBe(16 + 2);
    expect(sd['rnn.weight_ih_l0'].shape).toEqual([16, 3]);
    expect(sd['rnn.weight_ih_l1'].shape).toEqual([16, 8]);
    expect(sd['fc.weight'].shape).toEqual([2, 8]);
    expect(sd['rnn.weight_ih_l0'].dtype).toBe('F32');
    expect(sd['rnn.weight_ih_l0'].data).toBeInstanceOf(Float32Array);
    // the same buffer as an ArrayBuffer, at a non-zero byteOffset, too
    const shifted = new Uint8Array(f32File.length + 3);
    shifted.set(f32File, 3);
    expect(parseSafetensors(shifted.subarray(3))).toEqual(sd);
    expect(parseSafetensors(f32File.slice().buffer)).toEqual(sd);
  });

  for (const dtype of ['F32', 'F16', 'BF16'] as const) {
    it(`${dtype}: values are torch's (exact conversion to float32)`, () => {
      const sd = parseSafetensors(file(`lstm_fc_${dtype.toLowerCase()}.safetensors`));
      const w = (fx.weights as Record<string, { 'rnn.weight_ih_l0[:8]': number[]; sum: number; sumAbs: number }>)[dtype];
      expect(sd['rnn.weight_ih_l0'].dtype).toBe(dtype);
      expect(Array.from(sd['rnn.weight_ih_l0'].data.slice(0, 8) as Float32Array)).toEqual(w['rnn.weight_ih_l0[:8]']);
      // sums in float64 over every value: equal to rounding of the sum only
      let sum = 0;
      let sumAbs = 0;
      for (const t of Object.values(sd)) for (const v of t.data as Float32Array) (sum += v), (sumAbs += Math.abs(v));
      expect(Math.abs(sum - w.sum)).toBeLessThan(1e-12);
      expect(Math.abs(sumAbs - w.sumAbs)).toBeLessThan(1e-12);
    });
  }

  it('reads __metadata__ (UTF-8) through safetensorsMetadata, not among the tensors', () => {
    const bytes = file('metadata.safetensors');
    expect(safetensorsMetadata(bytes)).toEqual(fx.metadata.__metadata__);
    const sd = parseSafetensors(bytes);
    expect(Object.keys(sd).sort()).toEqual(['a', 'b.bias']);
    for (const [k, t] of Object.entries(fx.metadata.tensors)) {
      expect(sd[k].shape).toEqual(t.shape);
      expect(Array.from(sd[k].data as Float32Array)).toEqual(t.data);
    }
    expect(safetensorsMetadata(f32File)).toBeNull();
  });

  it('keeps integer dtypes as typed arrays of their kind (I64/U64 exact as BigInt), BOOL as Uint8Array, F64 → float32', () => {
    const sd = parseSafetensors(file('dtypes.safetensors'));
    const kinds: Record<string, Function> = { F64: Float32Array, F32: Float32Array, I8: Int8Array, U8: Uint8Array, I16: Int16Array, U16: Uint16Array, I32: Int32Array, U32: Uint32Array, I64: BigInt64Array, U64: BigUint64Array, BOOL: Uint8Array };
    const want = fx.dtypes as Record<string, { dtype: string; shape: number[]; data: (number | string)[] }>;
    expect(Object.keys(sd).sort()).toEqual(Object.keys(want).sort());
    for (const [k, e] of Object.entries(want)) {
      const t = sd[k];
      expect(t.dtype, k).toBe(e.dtype);
      expect(t.shape, k).toEqual(e.shape);
      expect(t.data, k).toBeInstanceOf(kinds[e.dtype]);
      if (e.dtype === 'I64' || e.dtype === 'U64') expect(Array.from(t.data as BigInt64Array, String), k).toEqual(e.data);
      else if (e.dtype === 'F64') expect(Array.from(t.data as Float32Array), k).toEqual(e.data.map((v) => Math.fround(v as number)));
      else expect(Array.from(t.data as Int32Array), k).toEqual(e.data);
    }
    expect(sd.scalar.shape).toEqual([]); // a 0-d tensor: one element
    expect(sd.empty.data.length).toBe(0); // a 0-element tensor: data_offsets [k, k]
  });

  it('writes every fixture back byte for byte (the reference writer\'s layout)', () => {
    for (const name of ['lstm_fc_f32', 'lstm_fc_f16', 'lstm_fc_bf16', 'metadata']) {
      const bytes = file(`${name}.safetensors`);
      const again = toSafetensors(parseSafetensors(bytes), safetensorsMetadata(bytes));
      expect(Buffer.from(again).equals(Buffer.from(bytes)), name).toBe(true);
    }
    // dtypes.safetensors' F64 values are rounded to float32 when read, so it is
    // written back equal after that rounding, every other dtype exactly
    const bytes = file('dtypes.safetensors');
    const once = parseSafetensors(bytes);
    const again = toSafetensors(once, safetensorsMetadata(bytes));
    expect(again.length).toBe(bytes.length);
    expect(parseSafetensors(again)).toEqual(once);
    const [f64Begin, f64End] = header(bytes).f64.data_offsets;
    const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    const differ: number[] = [];
    for (let i = 0; i < bytes.length; i++) if (again[i] !== bytes[i]) differ.push(i - 8 - n);
    expect(differ.every((i) => i >= f64Begin && i < f64End), `bytes differ outside the F64 tensor: ${differ}`).toBe(true);
  });

  it('toSafetensors: 8-byte little-endian length, header padded with spaces to 8, tensors by element size then name, contiguous', () => {
    const out = toSafetensors({ b: { data: new Float32Array([1, 2]), shape: [2] }, a: { data: [3], shape: [1] }, '0': { data: new Float64Array([0.1]), shape: [] }, i: { data: new Int8Array([-1]), shape: [1, 1] } }, { k: 'v' });
    const n = Number(new DataView(out.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const text = new TextDecoder().decode(out.subarray(8, 8 + n));
    expect(text).toMatch(/^\{"__metadata__":\{"k":"v"\},"0":\{"dtype":"F64","shape":\[\],"data_offsets":\[0,8\]\},"a":\{"dtype":"F32","shape":\[1\],"data_offsets":\[8,12\]\},"b":\{"dtype":"F32","shape":\[2\],"data_offsets":\[12,20\]\},"i":\{"dtype":"I8","shape":\[1,1\],"data_offsets":\[20,21\]\}\} *$/);
    expect(out.length).toBe(8 + n + 21);
    const back = parseSafetensors(out);
    expect(Array.from(back.b.data as Float32Array)).toEqual([1, 2]);
    expect(Array.from(back.i.data as Int8Array)).toEqual([-1]);
    // the reference writer's own test vector (tensor.rs test_serialization): attn.0, F32 (1, 2, 3) = 0..5
    const ref = toSafetensors({ 'attn.0': { data: new Float32Array([0, 1, 2, 3, 4, 5]), shape: [1, 2, 3] } });
    expect(Array.from(ref.subarray(0, 8))).toEqual([64, 0, 0, 0, 0, 0, 0, 0]);
    expect(new TextDecoder().decode(ref.subarray(8, 72))).toBe('{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}');
    expect(Array.from(toSafetensors({}))).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
  });

  it('toSafetensors: F16/BF16 round to nearest even; bad input is refused', () => {
    const vals = [0, -0, 1, -2.5, 65504, 65520, 1e-8, 5.960464477539063e-8, 2 ** -25, 3 * 2 ** -26, 1 + 2 ** -11, 1 + 3 * 2 ** -11, Infinity, NaN, 1 + 2 ** -8, 1 + 3 * 2 ** -8];
    const back = (dtype: 'F16' | 'BF16') => Array.from(parseSafetensors(toSafetensors({ x: { data: vals, shape: [vals.length], dtype } })).x.data as Float32Array);
    // half: max 65504, 65520 rounds up to Inf; subnormal step 2^-24; ties to even
    expect(back('F16')).toEqual([0, -0, 1, -2.5, 65504, Infinity, 0, 2 ** -24, 0, 2 ** -24, 1, 1 + 2 ** -9, Infinity, NaN, 1 + 2 ** -8, 1 + 3 * 2 ** -8]);
    // bfloat16: 8 significand bits; 1 + 2^-8 ties to 1, 1 + 3·2^-8 to 1 + 2^-6
    const b = back('BF16');
    expect(b.slice(0, 4)).toEqual([0, -0, 1, -2.5]);
    expect(b.slice(-4)).toEqual([Infinity, NaN, 1, 1 + 2 ** -6]);
    expect(() => toSafetensors({ x: { data: [1.5], shape: [1], dtype: 'I32' } })).toThrow(/I32 needs integers/);
    expect(() => toSafetensors({ x: { data: [300], shape: [1], dtype: 'U8' } })).toThrow(/U8 needs integers in \[0, 255\]/);
    expect(() => toSafetensors({ x: { data: [2], shape: [1], dtype: 'BOOL' } })).toThrow(/0 or 1/);
    expect(() => toSafetensors({ x: { data: [1, 2], shape: [3] } })).toThrow(/shape \(3\) has 3 elements, but data has 2/);
    expect(() => toSafetensors({ __metadata__: { data: [1], shape: [1] } })).toThrow(/reserved/);
    expect(() => toSafetensors({ x: { data: [1], shape: [1] } }, { n: 1 } as never)).toThrow(ValueError);
    expect(() => toSafetensors({ x: { data: new BigInt64Array(1), shape: [1], dtype: 'F32' } })).toThrow(/only be written as I64 or U64/);
  });
});

describe('parseSafetensors rejects malformed files, naming the rule and the tensor', () => {
  const h = header(f32File);
  const n = Number(new DataView(f32File.buffer, f32File.byteOffset).getBigUint64(0, true));
  const data = f32File.subarray(8 + n);
  // the tensors sorted by offset, to find first/second/last
  const order = Object.keys(h).sort((a, b) => h[a].data_offsets[0] - h[b].data_offsets[0]);
  const [first, second] = order;
  const last = order[order.length - 1];
  const edit = (fn: (j: Record<string, any>) => void, body?: Uint8Array) => {
    const j = structuredClone(h);
    fn(j);
    return withHeader(f32File, JSON.stringify(j), body ?? data);
  };

  it('header too small: fewer than 8 bytes', () => {
    expectWeightError(() => parseSafetensors(new Uint8Array(5)), 'shorter than the 8-byte header length', 'rule: header too small');
  });
  it('header too large: length above 100,000,000', () => {
    const bad = f32File.slice();
    new DataView(bad.buffer).setBigUint64(0, 100_000_001n, true);
    expectWeightError(() => parseSafetensors(bad), 'above the limit of 100000000', 'rule: header too large');
    new DataView(bad.buffer).setBigUint64(0, 2n ** 64n - 1n, true);
    expectWeightError(() => parseSafetensors(bad), 'rule: header too large');
  });
  it('header length within the file: truncated inside the header', () => {
    expectWeightError(() => parseSafetensors(f32File.subarray(0, 8 + n - 1)), 'rule: header length within the file');
  });
  it('header is UTF-8 JSON: invalid UTF-8, invalid JSON, not an object', () => {
    const badUtf8 = new TextEncoder().encode(JSON.stringify(h));
    badUtf8[2] = 0xff;
    expectWeightError(() => parseSafetensors(withHeader(f32File, badUtf8)), 'not valid UTF-8');
    expectWeightError(() => parseSafetensors(withHeader(f32File, JSON.stringify(h).slice(0, -1))), 'not valid JSON', 'rule: header is UTF-8 JSON');
    expectWeightError(() => parseSafetensors(withHeader(f32File, '[1, 2]', new Uint8Array(0))), 'not an object', 'rule: header is a JSON object');
  });
  it('entry fields: missing data_offsets, a bad shape, bad offsets, bad metadata', () => {
    expectWeightError(() => parseSafetensors(edit((j) => delete j[first].data_offsets)), `tensor '${first}' has no 'data_offsets'`, 'rule: entry fields');
    expectWeightError(() => parseSafetensors(edit((j) => (j[first].shape = [16, -3]))), `tensor '${first}' has shape [16,-3]`, 'rule: entry fields');
    expectWeightError(() => parseSafetensors(edit((j) => (j[first].data_offsets = [0]))), `tensor '${first}' has data_offsets [0]`);
    expectWeightError(() => parseSafetensors(edit((j) => (j.__metadata__ = { a: 1 }))), '__metadata__ must map strings to strings');
  });
  it('known dtype: an unknown one is refused with the list', () => {
    expectWeightError(() => parseSafetensors(edit((j) => (j[first].dtype = 'F128'))), `tensor '${first}' has dtype "F128"`, 'supported: F64, F32, F16, BF16', 'rule: known dtype');
  });
  it('offsets contiguous: overlapping, gapped, not starting at 0, ending before beginning', () => {
    // second starts 4 bytes early: overlaps first
    expectWeightError(
      () => parseSafetensors(edit((j) => (j[second].data_offsets = [j[second].data_offsets[0] - 4, j[second].data_offsets[1] - 4]))),
      new RegExp(`tensor '${second.replace('.', '\\.')}'.*overlap tensor '${first.replace('.', '\\.')}'`),
      'no overlaps',
    );
    // second starts 4 bytes late: a gap
    expectWeightError(
      () => parseSafetensors(edit((j) => (j[second].data_offsets = [j[second].data_offsets[0] + 4, j[second].data_offsets[1] + 4]))),
      `leave a gap of 4 bytes after tensor '${first}'`,
      'no gaps',
    );
    // the first tensor does not begin at 0
    expectWeightError(
      () => parseSafetensors(edit((j) => (j[first].data_offsets = [4, j[first].data_offsets[1]]))),
      'gap of 4 bytes at the start of the data',
    );
    // two tensors on the same bytes
    expectWeightError(() => parseSafetensors(edit((j) => (j[second].data_offsets = j[first].data_offsets))), 'overlap');
    expectWeightError(() => parseSafetensors(edit((j) => (j[first].data_offsets = [0, 0]), data)), /end before they begin|overlap|numel/);
  });
  it('numel × dtype size: a wrong shape or a wrong dtype size', () => {
    expectWeightError(() => parseSafetensors(edit((j) => (j[first].shape = [16, 4]))), `tensor '${first}'`, 'needs 64 × 4 = 256 bytes', 'rule: end − begin = numel × dtype size');
    expectWeightError(() => parseSafetensors(edit((j) => (j[first].dtype = 'F16'))), 'rule: end − begin = numel × dtype size');
  });
  it("buffer ends at the file's end: truncated data, trailing bytes", () => {
    expectWeightError(() => parseSafetensors(f32File.subarray(0, f32File.length - 1)), `tensor '${last}' ends at`, 'the file is truncated', "rule: buffer ends at the file's end");
    const longer = new Uint8Array(f32File.length + 3);
    longer.set(f32File);
    expectWeightError(() => parseSafetensors(longer), '3 trailing bytes', "rule: buffer ends at the file's end");
  });
  it('not bytes at all: a ValueError', () => {
    expect(() => parseSafetensors('model.safetensors' as never)).toThrow(ValueError);
  });
});

for (const backend of ['cpu', 'webgpu'] as const) {
  describe(`loading safetensors into models (${backend})`, () => {
    let rt: Runtime;
    beforeAll(async () => {
      rt = backend === 'cpu' ? await cpuRuntime() : await gpuRuntime();
    });
    afterAll(() => rt?.dispose());
    const build = () => {
      const lstm = rt.lstm({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, returnSequences: true, seed: 1 });
      const fc = rt.dense({ inputSize: 8, units: 2, seed: 2 });
      return { lstm, fc, model: rt.sequential([lstm, fc]) };
    };
    const x = Float32Array.from(fx.x);
    const predict = async (model: ReturnType<typeof build>['model']) => {
      const y = await model.predict(x, { batch: fx.batch, seqLen: fx.seqLen });
      const out = await y.read();
      y.dispose();
      return out;
    };
    const maxErr: Record<string, number> = {};
    afterAll(() => console.log(`safetensors (${backend}): max abs vs torch float64 per weight dtype:`, maxErr));

    // Tolerances: the GPU computes in float32, the CPU reference in float64, from
    // the same float32 weights. F32: ≤ 1e-5 (issue 10). F16/BF16 weights convert
    // exactly, so the outputs must match torch run with the same rounded weights as
    // closely as F32 does; 1e-5 holds, though rounding itself moved the outputs by
    // up to 8e-5 (F16) and 1e-3 (BF16) from the F32 model's (make_safetensors.py prints these).
    for (const dtype of ['F32', 'F16', 'BF16'] as const) {
      it(`${dtype}: Sequential.loadTorchStateDict(parsed, { prefixes: ['rnn.', 'fc.'] }) predicts torch's outputs within 1e-5`, async () => {
        const { model } = build();
        model.loadTorchStateDict(parseSafetensors(file(`lstm_fc_${dtype.toLowerCase()}.safetensors`)), { prefixes: ['rnn.', 'fc.'] });
        const err = maxAbs(await predict(model), (fx.outputs as Record<string, number[]>)[dtype]);
        maxErr[dtype] = err;
        expect(err).toBeLessThan(1e-5);
        model.dispose();
      });
    }

    it('per layer: loadTorchStateDict(parsed, { prefix }) ignores other keys; a Map of prefixes does the same', async () => {
      const parsed = parseSafetensors(f32File);
      const a = build();
      a.lstm.loadTorchStateDict(parsed, { prefix: 'rnn.' });
      a.fc.loadTorchStateDict(parsed, { prefix: 'fc.' });
      const b = build();
      b.model.loadTorchStateDict(parsed, { prefixes: new Map<any, string>([[b.lstm, 'rnn.'], [b.fc, 'fc.']]) });
      const ya = await predict(a.model);
      expect(maxAbs(ya, fx.outputs.F32)).toBeLessThan(1e-5);
      expect(Array.from(await predict(b.model))).toEqual(Array.from(ya));
      // the one-argument call is unchanged: bare names, strict
      const c = build();
      const bare = Object.fromEntries(Object.entries(parsed).filter(([k]) => k.startsWith('rnn.')).map(([k, v]) => [k.slice(4), v]));
      c.lstm.loadTorchStateDict(bare);
      c.fc.loadTorchStateDict({ weight: parsed['fc.weight'], bias: parsed['fc.bias'] });
      expect(Array.from(await predict(c.model))).toEqual(Array.from(ya));
      expectWeightError(() => c.lstm.loadTorchStateDict(parsed), "unexpected key(s) 'fc.bias', 'fc.weight', 'rnn.bias_hh_l0'");
      for (const m of [a, b, c]) m.model.dispose();
    });

    it('strict: missing and unused keys in one WeightError, and nothing changes on failure', async () => {
      const { lstm, fc, model } = build();
      const before = await predict(model);
      const parsed: Record<string, SafetensorsTensor> = parseSafetensors(f32File);
      const { 'rnn.bias_hh_l1_reverse': _gone, ...rest } = parsed;
      const broken = { ...rest, 'rnn.extra': parsed['fc.bias'], 'head.weight': parsed['fc.weight'] };
      // Sequential: every key of the dict counts
      expectWeightError(
        () => model.loadTorchStateDict(broken, { prefixes: ['rnn.', 'fc.'] }),
        'Sequential.loadTorchStateDict',
        "missing 'rnn.bias_hh_l1_reverse' (layer 0 (LSTM))",
        "unused 'rnn.extra', 'head.weight'",
      );
      // a layer: only the keys under its prefix ('head.weight' is ignored)
      const m = expectWeightError(() => lstm.loadTorchStateDict(broken, { prefix: 'rnn.' }), "missing 'rnn.bias_hh_l1_reverse' (LSTM)", "unused 'rnn.extra'");
      expect(m).not.toContain('head.weight');
      // the last layer's part is bad: the first layer is not loaded either
      const wrongShape = { ...parsed, 'fc.weight': { data: new Float32Array(14), shape: [2, 7] } };
      expectWeightError(() => model.loadTorchStateDict(wrongShape, { prefixes: ['rnn.', 'fc.'] }), "layer 1 (Dense), prefix 'fc.': 'weight' has shape (2, 7), expected (units, inputSize) = (2, 8)");
      // a 64-bit integer tensor where a weight belongs
      const ints = parseSafetensors(file('dtypes.safetensors'));
      expectWeightError(() => fc.loadTorchStateDict({ 'fc.weight': ints.i64, 'fc.bias': parsed['fc.bias'] }, { prefix: 'fc.' }), "'weight' is a BigInt64Array");
      // the default prefixes are nn.Sequential's '0.', '1.'
      expectWeightError(() => model.loadTorchStateDict(parsed), "missing '0.weight_ih_l0' (layer 0 (LSTM))", "unused 'fc.bias', 'fc.weight', 'rnn.bias_hh_l0'");
      expect(() => model.loadTorchStateDict(parsed, { prefixes: ['rnn.'] })).toThrow(/2 strings, one per layer with weights \(0: LSTM, 1: Dense/);
      expect(() => lstm.loadTorchStateDict(parsed, { prefix: 3 } as never)).toThrow(ValueError);
      expect(Array.from(await predict(model))).toEqual(Array.from(before));
      model.dispose();
    });

    it("exportWeights('torch') → toSafetensors → parseSafetensors → loadTorchStateDict round trip (with a Softmax and an Embedding)", async () => {
      const emb = rt.embedding({ vocabSize: 7, dim: 3, seed: 3 });
      const gru = rt.gru({ inputSize: 3, hiddenSize: 4, seed: 4 });
      const head = rt.dense({ inputSize: 4, units: 5, seed: 5 });
      const model = rt.sequential([emb, gru, head, rt.softmax()]);
      const ids = [1, 2, 3, 0, 6, 5];
      const run = async (m: typeof model) => {
        const y = await m.predict(ids, { batch: 2, seqLen: 3 });
        const out = await y.read();
        y.dispose();
        return Array.from(out);
      };
      const sd = await model.exportWeights('torch');
      const bytes = toSafetensors(sd, { format: 'pt' });
      const parsed = parseSafetensors(bytes);
      expect(Object.keys(parsed).sort()).toEqual(Object.keys(sd).sort());
      for (const [k, t] of Object.entries(sd)) {
        expect(parsed[k].shape).toEqual(t.shape);
        expect(Array.from(parsed[k].data as Float32Array)).toEqual(Array.from(t.data));
      }
      const other = rt.sequential([rt.embedding({ vocabSize: 7, dim: 3, seed: 13 }), rt.gru({ inputSize: 3, hiddenSize: 4, seed: 14 }), rt.dense({ inputSize: 4, units: 5, seed: 15 }), rt.softmax()]);
      expect(await run(other)).not.toEqual(await run(model));
      other.loadTorchStateDict(parsed); // default prefixes '0.', '1.', '2.'
      expect(await run(other)).toEqual(await run(model));
      // and written again, byte for byte
      expect(Buffer.from(toSafetensors(parsed, safetensorsMetadata(bytes))).equals(Buffer.from(bytes))).toBe(true);
      model.dispose();
      other.dispose();
    });
  });
}
