// ONNX import (issue 10, part C): rt.loadOnnx(bytes) → session.run(feeds).
//
// Fixtures: tests/fixtures/make_onnx.py with Debian's PyTorch 1.13 and onnx 1.12.
// - torch.onnx.export (opset 14, dynamic batch and sequence axes): lstm_bidir2
//   (nn.LSTM 2 layers, bidirectional, batch_first, with h0/c0), gru (nn.GRU,
//   time-major), rnn_tanh, rnn_relu (2 layers), embed_lstm (Embedding → LSTM →
//   Linear per step, and softmax(Linear(h_n[-1]))).
// - onnx.helper graphs for what torch does not export: lstm_seqlens
//   (sequence_lens, bidirectional; expected from torch with pack_padded_sequence),
//   lstm_layout1 (layout 1, direction reverse; expected from torch on the reversed
//   input), gru_v1 (linear_before_reset 0, bidirectional, sequence_lens) and
//   rnn_reverse (Relu, reverse, sequence_lens, initial_h), both expected from a
//   float64 loop of ONNX's equations (checked against torch for the GRU); lstm_acts
//   (bidirectional, [HardSigmoid, Relu, Relu], sequence_lens) and gru_acts
//   ([HardSigmoid(1/6, 0.5), Sigmoid]), expected from a float64 loop of ONNX's
//   LSTM/GRU equations with those activations (checked against torch with the
//   default ones) and cross-checked against ONNX Runtime below.
// Expected outputs are float64 from the stored float32 weights. Each model is run
// on several shapes (the dynamic axes), on the CPU reference and on the GPU.
//
// Tolerances: the bar, 1e-5 absolute, on both backends. The CPU backend
// computes in float64 and lands near 1e-15; the GPU in float32 near 1e-7.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fx from './fixtures/onnx/expected.json';
import { DisposedError, ShapeError, ValueError, WeightError, type OnnxFeed, type Runtime } from '../src/index';
import { parseOnnx } from '../src/io/onnx_proto';
import { cellToOnnx, onnxToCell, OURS_FROM_ONNX } from '../src/weights/onnx';
import { gateCount, type CellType } from '../src/weights/types';
import { compare } from './parity/compare';
import { cpuRuntime, gpuRuntime, wasmRuntime } from './helpers/runtimes';

const here = dirname(fileURLToPath(import.meta.url));
const model = (name: string): Uint8Array => new Uint8Array(readFileSync(join(here, 'fixtures', 'onnx', `${name}.onnx`)));

type FeedJson = { dtype: 'float32' | 'int64' | 'int32'; dims: number[]; data: number[] };
type Run = { feeds: Record<string, FeedJson>; outputs: Record<string, { dims: number[]; data: number[] }> };
const models = (fx as unknown as { models: Record<string, Run[]> }).models;

function toFeeds(feeds: Record<string, FeedJson>): Record<string, OnnxFeed> {
  const out: Record<string, OnnxFeed> = {};
  for (const [k, f] of Object.entries(feeds)) {
    const data = f.dtype === 'float32' ? Float32Array.from(f.data) : f.dtype === 'int32' ? Int32Array.from(f.data) : BigInt64Array.from(f.data.map((v) => BigInt(v)));
    out[k] = { data, dims: f.dims };
  }
  return out;
}

async function expectRejects(p: Promise<unknown>, cls: new (...a: any[]) => Error, ...parts: (string | RegExp)[]): Promise<string> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err, `expected a ${cls.name}`).toBeInstanceOf(cls);
  const msg = (err as Error).message;
  for (const part of parts) expect(msg).toMatch(part);
  return msg;
}

const TOL = { atol: 1e-5 };
const worst: Record<string, number> = {};

for (const backend of ['cpu', 'webgpu', 'wasm'] as const) {
  describe(`rt.loadOnnx vs torch (${backend})`, () => {
    let rt: Runtime;
    beforeAll(async () => {
      rt = backend === 'cpu' ? await cpuRuntime() : backend === 'wasm' ? await wasmRuntime() : await gpuRuntime();
    });
    afterAll(() => rt?.dispose());

    for (const name of Object.keys(models)) {
      it(`${name}: every run matches torch within 1e-5`, async () => {
        const session = await rt.loadOnnx(model(name));
        expect(session.backend).toBe(backend);
        const runs = models[name];
        expect([...session.inputNames].sort()).toEqual(Object.keys(runs[0].feeds).sort());
        expect([...session.outputNames].sort()).toEqual(Object.keys(runs[0].outputs).sort());
        // The recurrent nodes run on our kernels, never on the host.
        for (const n of session.nodes) if (['LSTM', 'GRU', 'RNN'].includes(n.opType)) expect(n.runsOn, `${n.opType} ${n.name}`).toBe('kernel');
        const before = rt.memory();
        for (const [r, run] of runs.entries()) {
          const res = await session.run(toFeeds(run.feeds));
          for (const [out, want] of Object.entries(run.outputs)) {
            const t = res[out];
            expect(t.shape, `${name} run ${r} ${out} shape`).toEqual(want.dims);
            const c = compare(`${name}#${r}.${out}`, want.data, await t.read(), TOL);
            expect(c.ok, c.detail).toBe(true);
            worst[`${name} ${backend}`] = Math.max(worst[`${name} ${backend}`] ?? 0, c.maxAbs);
            t.dispose();
          }
        }
        // Outputs were disposed: the run left nothing behind on the GPU.
        expect(rt.memory()).toEqual(before);
        session.dispose();
      });
    }

    it('inputMetadata / outputMetadata give the declared types and shapes, symbolic axes by name', async () => {
      const session = await rt.loadOnnx(model('lstm_bidir2'));
      expect(session.inputMetadata.map((m) => [m.name, m.type, m.shape])).toEqual([
        ['x', 'float32', ['B', 'T', 3]],
        ['h0', 'float32', [4, 'B', 4]],
        ['c0', 'float32', [4, 'B', 4]],
      ]);
      expect(session.outputMetadata.map((m) => m.name)).toEqual([...session.outputNames]);
      expect(session.outputMetadata[0].type).toBe('float32');
      const ids = await rt.loadOnnx(model('embed_lstm'));
      expect(ids.inputMetadata[0].type).toBe('int64');
      session.dispose();
      ids.dispose();
    });

    it('embed_lstm: the data nodes run on Embedding, LSTM, Dense (MatMul + Add as one) and Softmax; the glue on the host', async () => {
      const session = await rt.loadOnnx(model('embed_lstm'));
      const kernel = session.nodes.filter((n) => n.runsOn === 'kernel').map((n) => `${n.opType}:${n.layer}`);
      expect(kernel).toEqual(['Gather:Embedding', 'LSTM:LSTM', 'MatMul:Dense', "Add:Dense (the bias of MatMul '/fc/MatMul')", 'Gemm:Dense', 'Softmax:Softmax']);
      expect(session.nodes.filter((n) => n.runsOn === 'host').map((n) => n.opType)).toContain('Shape');
      session.dispose();
    });

    it('a wrong feed is a typed error naming the input, and the session still runs after it', async () => {
      const session = await rt.loadOnnx(model('lstm_bidir2'));
      const good = toFeeds(models.lstm_bidir2[0].feeds);
      await expectRejects(session.run({ ...good, x: { data: new Float32Array(2 * 5 * 4), dims: [2, 5, 4] } }), ShapeError, /input 'x'/, /dimension 2 must be 3/);
      await expectRejects(session.run({ ...good, x: { data: new Float32Array(7), dims: [2, 5, 3] } }), ShapeError, /'x' has 7 values/, /need 30/);
      await expectRejects(session.run({ ...good, h0: { data: new Float32Array(4 * 3 * 4), dims: [4, 3, 4] } }), ShapeError, /'B' is 2 in input 'x' but 3 here/);
      await expectRejects(session.run({ x: good.x, h0: good.h0 }), ValueError, /missing input 'c0'/);
      await expectRejects(session.run({ ...good, extra: good.x }), ValueError, /unknown input\(s\) 'extra'/);
      await expectRejects(session.run({ ...good, x: { data: new Int32Array(30), dims: [2, 5, 3] } }), ValueError, /'x' is float32, so its data must be a Float32Array/);
      const nan = Float32Array.from(good.x.data as Float32Array);
      nan[3] = NaN;
      await expectRejects(session.run({ ...good, x: { data: nan, dims: [2, 5, 3] } }), ValueError, /input 'x'\[3\]/);
      await expectRejects(session.run(null as never), ValueError, /feeds must be an object/);
      const res = await session.run(good);
      expect(res.y.shape).toEqual([2, 5, 8]);
      for (const t of Object.values(res)) t.dispose();
      session.dispose();
      await expectRejects(session.run(good), DisposedError, /disposed/);
    });

    it('sequence_lens out of range and a wrong initial_h are refused with the node named', async () => {
      const session = await rt.loadOnnx(model('lstm_seqlens'));
      const good = toFeeds(models.lstm_seqlens[0].feeds);
      await expectRejects(session.run({ ...good, sequence_lens: { data: Int32Array.of(6, 3, 0, 5), dims: [4] } }), ValueError, /LSTM/, /sequence_lens\[2\] = 0 is out of range/);
      await expectRejects(session.run({ ...good, sequence_lens: { data: Int32Array.of(6, 3, 7, 5), dims: [4] } }), ValueError, /sequence_lens\[2\] = 7/);
      session.dispose();
    });

    it('rt.loadOnnx refuses unsupported operators, listing them all, before building anything', async () => {
      const before = rt.memory();
      const msg = await expectRejects(rt.loadOnnx(model('bad_ops')), ValueError, /Erf \(1 node\)/, /LeakyRelu \(2 nodes\)/, /Supported: LSTM, GRU, RNN/);
      expect(msg).not.toMatch(/LSTM \(/);
      expect(rt.memory()).toEqual(before);
    });

    it('rt.loadOnnx refuses peepholes, clip, non-default activations and input_forget, each by name', async () => {
      await expectRejects(rt.loadOnnx(model('bad_peephole')), ValueError, /peephole weights \(input P 'P'\)/);
      await expectRejects(rt.loadOnnx(model('bad_clip')), ValueError, /clip = 3 is not supported/);
      await expectRejects(rt.loadOnnx(model('bad_activations')), ValueError, /activations \[Sigmoid, Relu, Tanh\] are not supported/);
      await expectRejects(rt.loadOnnx(model('bad_acts_alpha')), ValueError, /HardSigmoid\(0\.3/, /alpha 0\.2 or 1\/6 and beta 0\.5/);
      await expectRejects(rt.loadOnnx(model('bad_acts_cell')), ValueError, /LeakyRelu\(0\.01\)/, /Tanh, Relu, Sigmoid or Affine\(1, 0\)/);
      await expectRejects(rt.loadOnnx(model('bad_input_forget')), ValueError, /input_forget = 1/);
      await expectRejects(rt.loadOnnx(model('bad_direction')), ValueError, /direction must be forward, reverse or bidirectional, got 'sideways'/);
      await expectRejects(rt.loadOnnx(model('bad_hidden_size')), WeightError, /hidden_size = 3 but W has shape \(1, 8, 3\)/);
      await expectRejects(rt.loadOnnx(model('bad_runtime_weights')), ValueError, /W \('W'\) must be an initializer or a Constant/);
    });

    it('a NaN weight is refused before any layer is built; a run failing after a kernel node leaks nothing', async () => {
      const before = rt.memory();
      await expectRejects(rt.loadOnnx(model('bad_nan_weights')), WeightError, /LSTM 'lstm2'/, /R\[7\] is NaN/);
      expect(rt.memory()).toEqual(before);
      const session = await rt.loadOnnx(model('bad_reshape_run'));
      const loaded = rt.memory();
      // T·B·H = 2·1·2 = 4 values: the Reshape to (-1, 7) after the LSTM fails.
      await expectRejects(session.run({ X: { data: new Float32Array(6), dims: [2, 1, 3] } }), ShapeError, /Reshape 'reshape7'/, /cannot reshape \(2, 1, 1, 2\)/);
      expect(rt.memory()).toEqual(loaded);
      // 7·1·2 = 14 values reshape to (2, 7).
      const ok = await session.run({ X: { data: new Float32Array(21).fill(0.5), dims: [7, 1, 3] } });
      expect(ok.Y.shape).toEqual([2, 7]);
      ok.Y.dispose();
      session.dispose();
      expect(rt.memory()).toEqual(before);
    });

    it('truncated and malformed files are WeightErrors naming the problem', async () => {
      const good = model('gru');
      for (const cut of [1, 10, 100, good.length - 1]) {
        await expectRejects(rt.loadOnnx(good.subarray(0, cut)), WeightError, /malformed ONNX file|has no graph|no opset/);
      }
      await expectRejects(rt.loadOnnx(new Uint8Array(0)), WeightError, /empty/);
      await expectRejects(rt.loadOnnx(new TextEncoder().encode('{"not": "onnx"}')), WeightError, /malformed ONNX file|no graph/);
      await expectRejects(rt.loadOnnx('model.onnx' as never), ValueError, /Uint8Array or ArrayBuffer/);
      // An ArrayBuffer works as well as a Uint8Array.
      const bytes = model('rnn_reverse');
      const s = await rt.loadOnnx(new Uint8Array(bytes).buffer);
      expect(s.inputNames).toEqual(['X', 'sequence_lens', 'initial_h']);
      s.dispose();
    });
  });
}

// ONNX Runtime (onnxruntime-web 1.30, wasm) is the format's own reference: the
// fixtures' expected outputs (torch, or the float64 loop of ONNX's equations) must
// agree with it, and so must ours, so the tests above check ONNX's semantics, not
// only torch's (padded steps, reverse-direction states, layout 1, GRU variants).
describe('cross-check against ONNX Runtime (wasm)', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await cpuRuntime();
  });
  afterAll(() => rt?.dispose());
  // ONNX Runtime refuses layout 1 ("Batchwise recurrent operations (layout == 1) are not supported").
  for (const name of Object.keys(models).filter((m) => m !== 'lstm_layout1')) {
    it(`${name}: ONNX Runtime, torch and ours agree within 1e-5`, async () => {
      const ort = await import('onnxruntime-web');
      ort.env.wasm.numThreads = 1;
      const ortSession = await ort.InferenceSession.create(model(name));
      const ours = await rt.loadOnnx(model(name));
      for (const [r, run] of models[name].entries()) {
        const feeds = toFeeds(run.feeds);
        const ortFeeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
        for (const [k, f] of Object.entries(feeds)) ortFeeds[k] = new ort.Tensor(f.data as Float32Array, f.dims);
        const theirs = await ortSession.run(ortFeeds);
        const mine = await ours.run(feeds);
        for (const [out, want] of Object.entries(run.outputs)) {
          expect(theirs[out].dims).toEqual(want.dims);
          const a = compare(`${name}#${r}.${out} ort vs torch`, want.data, theirs[out].data as Float32Array, TOL);
          expect(a.ok, a.detail).toBe(true);
          const b = compare(`${name}#${r}.${out} ours vs ort`, theirs[out].data as Float32Array, await mine[out].read(), TOL);
          expect(b.ok, b.detail).toBe(true);
          worst[`${name} vs onnxruntime`] = Math.max(worst[`${name} vs onnxruntime`] ?? 0, b.maxAbs);
        }
      }
      await ortSession.release();
      ours.dispose();
    });
  }
});

describe('ONNX protobuf reader (CPU only)', () => {
  it('reads the graph, opset, initializers and symbolic input shapes of an exported model', () => {
    const m = parseOnnx(model('lstm_bidir2'));
    expect(m.opset).toBe(14);
    expect(m.producer).toBe('pytorch');
    expect(m.graph.inputs.map((v) => [v.name, v.dtype, v.shape])).toEqual([
      ['x', 'float32', ['B', 'T', 3]],
      ['h0', 'float32', [4, 'B', 4]],
      ['c0', 'float32', [4, 'B', 4]],
    ]);
    expect(m.graph.nodes.filter((n) => n.opType === 'LSTM').length).toBe(2);
    const lstm = m.graph.nodes.find((n) => n.opType === 'LSTM')!;
    expect(lstm.attrs.get('direction')).toEqual({ type: 'string', value: 'bidirectional' });
    expect(lstm.attrs.get('hidden_size')).toEqual({ type: 'int', value: 4 });
    const W = m.graph.initializers.get(lstm.inputs[1])!;
    expect(W.dims).toEqual([2, 16, 3]);
    expect(W.data.every((v) => Number.isFinite(v) && Math.fround(v) === v)).toBe(true);
  });

  it('names the tensor whose raw_data does not fit its dims', () => {
    // rnn_reverse's W is (1, 4, 3) float32: raw_data of 48 bytes. Patch its dims 3 → 5.
    const bytes = model('rnn_reverse').slice();
    // TensorProto dims are field 1 varints: the bytes 08 01 08 04 08 03 open W.
    let at = -1;
    for (let i = 0; i + 5 < bytes.length; i++) {
      if (bytes[i] === 0x08 && bytes[i + 1] === 1 && bytes[i + 2] === 0x08 && bytes[i + 3] === 4 && bytes[i + 4] === 0x08 && bytes[i + 5] === 3) {
        at = i + 5;
        break;
      }
    }
    expect(at).toBeGreaterThan(0);
    bytes[at] = 5;
    expect(() => parseOnnx(bytes)).toThrow(WeightError);
    expect(() => parseOnnx(bytes)).toThrow(/tensor 'W'.*48 bytes of raw_data, expected 20 × 4 = 80/);
  });

  it('refuses an unknown wire type and a length past the end, with the byte offset', () => {
    expect(() => parseOnnx(Uint8Array.of(0x0b))).toThrow(/wire type 3/);
    expect(() => parseOnnx(Uint8Array.of(0x3a, 0x05, 0x0a))).toThrow(/length-delimited field of 5 bytes with 1 left/);
    expect(() => parseOnnx(Uint8Array.of(0x08, 0x80))).toThrow(/varint runs past the end/);
  });
});

describe('ONNX ↔ ours gate-order table (both directions)', () => {
  for (const cell of ['lstm', 'gru', 'rnn'] as CellType[]) {
    it(`${cell}: block k of ours is ONNX block OURS_FROM_ONNX[k], and the round trip is exact`, () => {
      const H = 2;
      const I = 3;
      const nG = gateCount(cell);
      const G = nG * H;
      // Fill every ONNX gate block with its block number (plus a position code) to see where it lands.
      const W = Float32Array.from({ length: G * I }, (_, i) => Math.floor(i / (H * I)) * 100 + (i % (H * I)));
      const R = Float32Array.from({ length: G * H }, (_, i) => Math.floor(i / (H * H)) * 100 + (i % (H * H)));
      const B = Float32Array.from({ length: 2 * G }, (_, i) => (i < G ? 0 : 1000) + Math.floor((i % G) / H) * 100 + (i % H));
      const ours = onnxToCell(cell, { W, R, B }, { inputSize: I, hiddenSize: H }, 'test');
      const names = { lstm: ['i', 'f', 'g', 'o'], gru: ['r', 'z', 'n'], rnn: ['h'] }[cell];
      const onnxNames = { lstm: ['i', 'o', 'f', 'c'], gru: ['z', 'r', 'h'], rnn: ['h'] }[cell];
      for (let k = 0; k < nG; k++) {
        const from = OURS_FROM_ONNX[cell][k];
        expect(ours.wih[k * H * I] / 100, `${names[k]} ← ${onnxNames[from]}`).toBe(from);
        expect(ours.whh[k * H * H] / 100).toBe(from);
        expect(ours.bih[k * H]).toBe(from * 100);
        expect(ours.bhh[k * H]).toBe(1000 + from * 100);
      }
      if (cell === 'lstm') expect(OURS_FROM_ONNX.lstm).toEqual([0, 2, 3, 1]); // ours (i, f, g, o) from ONNX (i, o, f, c)
      if (cell === 'gru') expect(OURS_FROM_ONNX.gru).toEqual([1, 0, 2]); // ours (r, z, n) from ONNX (z, r, h)
      const back = cellToOnnx(cell, ours, { inputSize: I, hiddenSize: H });
      expect(Array.from(back.W)).toEqual(Array.from(W));
      expect(Array.from(back.R)).toEqual(Array.from(R));
      expect(Array.from(back.B)).toEqual(Array.from(B));
    });
  }

  it('refuses a weight of the wrong size', () => {
    expect(() => onnxToCell('lstm', { W: new Float32Array(5), R: new Float32Array(16) }, { inputSize: 3, hiddenSize: 2 }, 'op')).toThrow(/W has 5 values per direction, expected 24/);
  });
});

afterAll(() => {
  const rows = Object.entries(worst).map(([k, v]) => `${k}: ${v.toExponential(2)}`);
  if (rows.length) console.log(`ONNX vs torch, max abs error:\n  ${rows.join('\n  ')}`);
});
