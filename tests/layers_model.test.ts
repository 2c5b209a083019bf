// TensorFlow.js Layers format (model.json + weight shards), in and out, against
// the real peer: TensorFlow.js 4.22 (cpu backend).
//
// How the fixtures are made: each model is built with tfjs layers in this file,
// given seeded weights (tests/helpers/data, set explicitly with setWeights), and
// saved through a custom save handler (tf.io.withSaveHandler), which yields
// model.json's topology, the weight specs and the weight bytes exactly as tfjs
// writes them to disk. rt.loadLayersModel reads those; predict is compared on
// random inputs on both our backends. The converter-style fixture (Keras
// Python's tensorflowjs_converter) is a tfjs-saved topology rewrapped as the
// converter writes it: modelTopology = { keras_version, backend, model_config },
// weight names prefixed with the model name and the recurrent cell
// ('sequential/lstm/lstm_cell/kernel'). Quantized fixtures re-encode a model's
// weights as uint8/uint16 (scale, min) and float16, and tfjs loads the same bytes.
// Our own models go out through toLayersModel() and into tf.loadLayersModel.
//
// Tolerance: 1e-5 abs on outputs (the bar); our GPU computes in float32
// and the CPU reference in float64 against tfjs's float32, so the differences
// are float32 rounding (measured values are printed).
import * as tf from '@tensorflow/tfjs';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValueError, WeightError, saveLayersModelFiles, toLayersModel, type LayersModelJSON, type Runtime } from '../src/index';
import { data } from './helpers/data';
import { cpuRuntime, gpuRuntime } from './helpers/runtimes';
import { compare } from './parity/compare';

let gpu: Runtime;
let cpu: Runtime;
beforeAll(async () => {
  await tf.setBackend('cpu');
  gpu = await gpuRuntime();
  cpu = await cpuRuntime();
});
afterAll(() => {
  gpu?.dispose();
  cpu?.dispose();
});

const ATOL = 1e-5;
const B = 2;
const T = 3;
const I = 3;

interface Saved {
  modelJSON: LayersModelJSON;
  weights: ArrayBuffer;
}

/** Seeded weights, then model.json + weight bytes as tfjs saves them. */
async function save(model: tf.LayersModel, seed: number): Promise<Saved> {
  model.setWeights(model.getWeights().map((w, k) => tf.tensor(data(w.size, seed + 17 * k).map((v) => v * 0.8), w.shape)));
  let art: tf.io.ModelArtifacts | null = null;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      art = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const a = art! as tf.io.ModelArtifacts;
  const weightData = a.weightData as ArrayBuffer;
  return {
    modelJSON: {
      format: a.format,
      generatedBy: a.generatedBy,
      convertedBy: a.convertedBy ?? null,
      modelTopology: a.modelTopology,
      weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: a.weightSpecs as LayersModelJSON['weightsManifest'][0]['weights'] }],
    },
    weights: weightData,
  };
}

function tfPredict(model: tf.LayersModel, x: Float32Array, shape: number[]): Float32Array {
  const out = tf.tidy(() => model.predict(tf.tensor(x, shape)) as tf.Tensor);
  const v = out.dataSync() as Float32Array;
  out.dispose();
  return v;
}

const measured: Record<string, number> = {};
afterAll(() => console.log('layers_model max |ours − tfjs|:', JSON.stringify(measured)));

/** Loads `saved` on both backends and compares predict with tfjs on x. */
async function parity(name: string, model: tf.LayersModel, saved: Saved, x: Float32Array, shape: number[], ids = false) {
  const ref = tfPredict(model, x, shape);
  for (const rt of [cpu, gpu]) {
    const m = await rt.loadLayersModel({ modelJSON: saved.modelJSON, weights: saved.weights });
    const y = await m.predict(ids ? Array.from(x) : x, { batch: shape[0], seqLen: shape[1] });
    const got = await y.read();
    y.dispose();
    const c = compare(`${name}[${rt.backend}]`, ref, got, { atol: ATOL });
    expect(c.ok, c.detail).toBe(true);
    measured[`${name}/${rt.backend}`] = Math.max(measured[`${name}/${rt.backend}`] ?? 0, c.maxAbs);
    m.dispose();
  }
}

const features = (seed: number, b = B, t = T, i = I) => data(b * t * i, seed).map((v) => v * 2);

describe('tfjs-saved models → loadLayersModel: predict matches tfjs (≤ 1e-5), cpu and webgpu', () => {
  it("tfjs's default recurrentActivation (hardSigmoid): LSTM and Bidirectional GRU", async () => {
    const m = tf.sequential({
      layers: [
        tf.layers.lstm({ units: 4, inputShape: [T, I], returnSequences: true }),
        tf.layers.bidirectional({ layer: tf.layers.gru({ units: 3 }) as tf.RNN, mergeMode: 'concat' }),
        tf.layers.dense({ units: 2 }),
      ],
    });
    const saved = await save(m, 11);
    // the file does name the default: the loader must read it as clip(0.2·x + 0.5, 0, 1)
    expect(JSON.stringify(saved.modelJSON.modelTopology)).toContain('"recurrent_activation":"hard_sigmoid"');
    await parity('hard_sigmoid', m, saved, features(12).map((v) => v * 2), [B, T, I]);
  });

  it('LSTM (last step) → Dense', async () => {
    const m = tf.sequential({ layers: [tf.layers.lstm({ units: 4, inputShape: [T, I], recurrentActivation: 'sigmoid' }), tf.layers.dense({ units: 2 })] });
    await parity('lstm_dense', m, await save(m, 1), features(2), [B, T, I]);
  });

  it('GRU (reset_after false) sequences → TimeDistributed(Dense), unit_forget_bias LSTM stacked', async () => {
    const m = tf.sequential({
      layers: [
        tf.layers.gru({ units: 3, inputShape: [null, I], returnSequences: true, recurrentActivation: 'sigmoid' }),
        tf.layers.lstm({ units: 2, returnSequences: true, recurrentActivation: 'sigmoid', unitForgetBias: true }),
        tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 2, activation: 'tanh' }) }),
      ],
    });
    await parity('gru_lstm_td', m, await save(m, 3), features(4), [B, T, I]);
  });

  it('SimpleRNN relu and tanh, Dropout, Dense sigmoid', async () => {
    const m = tf.sequential({
      layers: [
        tf.layers.simpleRNN({ units: 3, inputShape: [T, I], returnSequences: true, activation: 'relu' }),
        tf.layers.dropout({ rate: 0.5 }),
        tf.layers.simpleRNN({ units: 2 }),
        tf.layers.dense({ units: 2, activation: 'sigmoid' }),
      ],
    });
    await parity('simple_rnn', m, await save(m, 5), features(6), [B, T, I]);
  });

  it('Bidirectional LSTM concat → Bidirectional GRU sum → Dense relu (use_bias false)', async () => {
    const m = tf.sequential({
      layers: [
        tf.layers.bidirectional({ layer: tf.layers.lstm({ units: 2, returnSequences: true, recurrentActivation: 'sigmoid' }) as tf.RNN, mergeMode: 'concat', inputShape: [T, I] }),
        tf.layers.bidirectional({ layer: tf.layers.gru({ units: 3, recurrentActivation: 'sigmoid' }) as tf.RNN, mergeMode: 'sum' }),
        tf.layers.dense({ units: 2, activation: 'relu', useBias: false }),
      ],
    });
    await parity('bidi_concat_sum', m, await save(m, 7), features(8), [B, T, I]);
  });

  it('Bidirectional mul and ave, go_backwards GRU, standalone Activation', async () => {
    const m = tf.sequential({
      layers: [
        tf.layers.bidirectional({ layer: tf.layers.simpleRNN({ units: 2, returnSequences: true }) as tf.RNN, mergeMode: 'mul', inputShape: [T, I] }),
        tf.layers.gru({ units: 3, returnSequences: true, goBackwards: true, recurrentActivation: 'sigmoid' }),
        tf.layers.activation({ activation: 'relu' }),
        tf.layers.bidirectional({ layer: tf.layers.lstm({ units: 2, recurrentActivation: 'sigmoid' }) as tf.RNN, mergeMode: 'ave' }),
        tf.layers.dense({ units: 3 }),
        tf.layers.activation({ activation: 'softmax' }),
      ],
    });
    await parity('bidi_mul_ave_backwards', m, await save(m, 9), features(10), [B, T, I]);
  });

  it('Embedding → LSTM → Dense(softmax), token ids', async () => {
    const m = tf.sequential({
      layers: [
        tf.layers.embedding({ inputDim: 7, outputDim: 3, inputLength: T }),
        tf.layers.lstm({ units: 4, recurrentActivation: 'sigmoid' }),
        tf.layers.dense({ units: 5, activation: 'softmax' }),
      ],
    });
    const ids = Float32Array.from(data(B * T, 11), (v) => Math.floor((v + 1) * 3.5));
    await parity('embedding_lstm_softmax', m, await save(m, 12), ids, [B, T], true);
  });

  it('functional chain: Input → SimpleRNN → TimeDistributed(Dense)', async () => {
    const inp = tf.input({ shape: [T, I] });
    const h = tf.layers.simpleRNN({ units: 2, returnSequences: true }).apply(inp) as tf.SymbolicTensor;
    const out = tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 2 }) }).apply(h) as tf.SymbolicTensor;
    const m = tf.model({ inputs: inp, outputs: out });
    await parity('functional_chain', m, await save(m, 13), features(14), [B, T, I]);
  });

  it('functional chain with return_state: Input → LSTM (return_state, its output 0 used) → Dense; a used state is refused', async () => {
    const inp = tf.input({ shape: [T, I] });
    const [seq] = tf.layers.lstm({ units: 3, returnSequences: true, returnState: true, recurrentActivation: 'sigmoid', name: 'with_state' }).apply(inp) as tf.SymbolicTensor[];
    const m = tf.model({ inputs: inp, outputs: tf.layers.dense({ units: 2 }).apply(seq) as tf.SymbolicTensor });
    const saved = await save(m, 18);
    expect(JSON.stringify(saved.modelJSON.modelTopology)).toContain('"return_state":true');
    await parity('functional_return_state', m, saved, features(19), [B, T, I]);
    const inp2 = tf.input({ shape: [T, I] });
    const [, h] = tf.layers.lstm({ units: 3, returnState: true, recurrentActivation: 'sigmoid', name: 'state_used' }).apply(inp2) as tf.SymbolicTensor[];
    const used = await save(tf.model({ inputs: inp2, outputs: tf.layers.dense({ units: 2 }).apply(h) as tf.SymbolicTensor }), 20);
    await expect(cpu.loadLayersModel({ modelJSON: used.modelJSON, weights: used.weights })).rejects.toThrow(/'state_used' \(LSTM\) has return_state: true and its states are used/);
  });

  it('stateful LSTM: state carried across predict calls until resetStates()', async () => {
    const m = tf.sequential({ layers: [tf.layers.lstm({ units: 3, batchInputShape: [B, T, I], stateful: true, recurrentActivation: 'sigmoid' })] });
    const saved = await save(m, 15);
    const x1 = features(16);
    const x2 = features(17);
    m.resetStates();
    const ref1 = tfPredict(m, x1, [B, T, I]);
    const ref2 = tfPredict(m, x2, [B, T, I]);
    m.resetStates();
    const ref3 = tfPredict(m, x2, [B, T, I]);
    for (const rt of [cpu, gpu]) {
      const ours = await rt.loadLayersModel({ modelJSON: JSON.stringify(saved.modelJSON), weights: [new Uint8Array(saved.weights)] });
      const run = async (x: Float32Array) => {
        const y = await ours.predict(x);
        const v = await y.read();
        y.dispose();
        return v;
      };
      for (const [name, ref, got] of [['call1', ref1, await run(x1)], ['call2', ref2, await run(x2)]] as const) {
        const c = compare(`stateful.${name}[${rt.backend}]`, ref, got, { atol: ATOL });
        expect(c.ok, c.detail).toBe(true);
      }
      ours.resetStates();
      const c = compare(`stateful.reset[${rt.backend}]`, ref3, await run(x2), { atol: ATOL });
      expect(c.ok, c.detail).toBe(true);
      measured[`stateful/${rt.backend}`] = c.maxAbs;
      ours.dispose();
    }
  });
});

describe('Keras masking from the file: Embedding mask_zero and Masking, pre- and post-padded (≤ 1e-5), cpu and webgpu', () => {
  // row 0 pre-padded by 2 steps, row 1 post-padded by 1 (T = 4)
  const TT = 4;
  const pad = [
    [0, 0, 1, 1],
    [1, 1, 1, 0],
  ];
  it('Embedding(mask_zero) → Bidirectional GRU concat (sequences) → LSTM → Dense(softmax)', async () => {
    const m = tf.sequential({
      layers: [
        tf.layers.embedding({ inputDim: 6, outputDim: 3, inputLength: TT, maskZero: true }),
        tf.layers.bidirectional({ layer: tf.layers.gru({ units: 2, returnSequences: true, recurrentActivation: 'sigmoid' }) as tf.RNN, mergeMode: 'concat' }),
        tf.layers.lstm({ units: 3, recurrentActivation: 'sigmoid' }),
        tf.layers.dense({ units: 4, activation: 'softmax' }),
      ],
    });
    const ids = Float32Array.from(pad.flat(), (p, k) => (p ? 1 + (k % 5) : 0));
    await parity('mask_zero_bidi', m, await save(m, 91), ids, [B, TT], true);
  });

  it('Embedding(mask_zero) → GRU go_backwards (sequences: reversed input and mask, original mask passed on) → LSTM → Dense', async () => {
    const m = tf.sequential({
      layers: [
        tf.layers.embedding({ inputDim: 6, outputDim: 3, inputLength: TT, maskZero: true }),
        tf.layers.gru({ units: 3, returnSequences: true, goBackwards: true, recurrentActivation: 'sigmoid' }),
        tf.layers.lstm({ units: 2, recurrentActivation: 'sigmoid' }),
        tf.layers.dense({ units: 2 }),
      ],
    });
    const ids = Float32Array.from(pad.flat(), (p, k) => (p ? 1 + (k % 5) : 0));
    await parity('mask_zero_go_backwards', m, await save(m, 94), ids, [B, TT], true);
  });

  it('Masking(mask_value 0) → LSTM (sequences) → TimeDistributed(Dense)', async () => {
    const m = tf.sequential({
      layers: [
        tf.layers.masking({ maskValue: 0, inputShape: [TT, I] }),
        tf.layers.lstm({ units: 3, returnSequences: true, recurrentActivation: 'sigmoid' }),
        tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 2 }) }),
      ],
    });
    const x = features(92, B, TT).map((v, k) => (pad.flat()[Math.floor(k / I)] ? v : 0));
    await parity('masking_lstm', m, await save(m, 93), x, [B, TT, I]);
  });
});

describe('other shapes of model.json', () => {
  it('converter-style topology (model_config, keras_version, cell-scoped weight names)', async () => {
    const m = tf.sequential({ layers: [tf.layers.lstm({ units: 3, inputShape: [T, I], returnSequences: true, recurrentActivation: 'sigmoid' }), tf.layers.gru({ units: 2, recurrentActivation: 'sigmoid' }), tf.layers.dense({ units: 2 })] });
    const saved = await save(m, 21);
    const topo = saved.modelJSON.modelTopology as { class_name: string; config: { name: string; layers: { class_name: string; config: { name: string } }[] } };
    const cells: Record<string, string> = Object.fromEntries(topo.config.layers.map((l) => [l.config.name, l.class_name === 'Dense' ? '' : `${l.class_name.toLowerCase()}_cell`]));
    const modelJSON: LayersModelJSON = {
      format: 'layers-model',
      generatedBy: 'keras v2.15.0',
      convertedBy: 'TensorFlow.js Converter v4.22.0',
      modelTopology: { keras_version: '2.15.0', backend: 'tensorflow', model_config: { class_name: topo.class_name, config: topo.config }, training_config: { loss: 'mse' } },
      weightsManifest: saved.modelJSON.weightsManifest.map((g) => ({
        paths: g.paths,
        weights: g.weights.map((w) => {
          const [layer, leaf] = w.name.split('/');
          return { ...w, name: [topo.config.name, layer, cells[layer], leaf].filter(Boolean).join('/') };
        }),
      })),
    };
    expect(modelJSON.weightsManifest[0].weights[0].name).toMatch(/^sequential_\d+\/lstm_LSTM\d+\/lstm_cell\/kernel$/);
    const ref = tfPredict(m, features(22), [B, T, I]);
    for (const rt of [cpu, gpu]) {
      const ours = await rt.loadLayersModel({ modelJSON, weights: saved.weights });
      const y = await ours.predict(features(22), { batch: B });
      const c = compare(`converter[${rt.backend}]`, ref, await y.read(), { atol: ATOL });
      expect(c.ok, c.detail).toBe(true);
      measured[`converter/${rt.backend}`] = c.maxAbs;
      y.dispose();
      ours.dispose();
    }
  });

  it('quantized weights (uint8, uint16 with scale/min; float16): the same bytes tfjs loads', async () => {
    const m = tf.sequential({ layers: [tf.layers.gru({ units: 3, inputShape: [T, I], recurrentActivation: 'sigmoid' }), tf.layers.dense({ units: 2 })] });
    const saved = await save(m, 31);
    const floats = new Float32Array(saved.weights);
    for (const q of ['uint8', 'uint16', 'float16'] as const) {
      const specs = saved.modelJSON.weightsManifest[0].weights;
      const parts: Uint8Array[] = [];
      let off = 0;
      const qspecs = specs.map((w) => {
        const n = w.shape.reduce((a, b) => a * b, 1);
        const v = floats.subarray(off, (off += n));
        if (q === 'float16') {
          const u = new Uint16Array(n);
          for (let i = 0; i < n; i++) u[i] = toHalf(v[i]);
          parts.push(new Uint8Array(u.buffer));
          return { ...w, quantization: { dtype: q } };
        }
        const lo = Math.min(...v);
        const hi = Math.max(...v);
        const levels = q === 'uint8' ? 255 : 65535;
        const scale = (hi - lo) / levels || 1;
        const u = q === 'uint8' ? new Uint8Array(n) : new Uint16Array(n);
        for (let i = 0; i < n; i++) u[i] = Math.round((v[i] - lo) / scale);
        parts.push(new Uint8Array(u.buffer));
        return { ...w, quantization: { dtype: q, scale, min: lo } };
      });
      const bytes = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
      let o = 0;
      for (const p of parts) bytes.set(p, (o += p.length) - p.length);
      const tfm = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: saved.modelJSON.modelTopology as object, weightSpecs: qspecs as tf.io.WeightsManifestEntry[], weightData: bytes.buffer }));
      const x = features(32);
      const ref = tfPredict(tfm, x, [B, T, I]);
      for (const rt of [cpu, gpu]) {
        // two shards: the group's bytes split in path order
        const cut = Math.floor(bytes.length / 2);
        const modelJSON = { ...saved.modelJSON, weightsManifest: [{ paths: ['a.bin', 'b.bin'], weights: qspecs }] };
        const ours = await rt.loadLayersModel({ modelJSON, weights: [bytes.slice(0, cut), bytes.slice(cut)] });
        const y = await ours.predict(x, { batch: B });
        const c = compare(`quantized.${q}[${rt.backend}]`, ref, await y.read(), { atol: ATOL });
        expect(c.ok, c.detail).toBe(true);
        measured[`quantized_${q}/${rt.backend}`] = c.maxAbs;
        y.dispose();
        ours.dispose();
      }
    }
  });

  it('sources: a path and a file:// URL (Node), an http URL, File objects; saveLayersModelFiles writes model.json + weights.bin', async () => {
    const m = tf.sequential({ layers: [tf.layers.simpleRNN({ units: 2, inputShape: [T, I] }), tf.layers.dense({ units: 1 })] });
    const saved = await save(m, 41);
    const dir = mkdtempSync(join(tmpdir(), 'layers-model-'));
    const paths = await saveLayersModelFiles({ modelJSON: saved.modelJSON, weightData: saved.weights }, dir);
    expect(JSON.parse(readFileSync(paths.modelJSON, 'utf8')).weightsManifest[0].paths).toEqual(['weights.bin']);
    const server: Server = createServer((req, res) => {
      try {
        res.end(readFileSync(join(dir, req.url!.slice(1))));
      } catch {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const x = features(42);
    const ref = tfPredict(m, x, [B, T, I]);
    const files = [new File([readFileSync(paths.weights)], 'weights.bin'), new File([readFileSync(paths.modelJSON)], 'model.json')];
    try {
      for (const source of [paths.modelJSON, pathToFileURL(paths.modelJSON).href, `http://127.0.0.1:${port}/model.json`, files]) {
        const ours = await cpu.loadLayersModel(source);
        const y = await ours.predict(x, { batch: B });
        const c = compare(`source ${typeof source === 'string' ? source.slice(0, 8) : 'File[]'}`, ref, await y.read(), { atol: ATOL });
        expect(c.ok, c.detail).toBe(true);
      }
      await expect(cpu.loadLayersModel(`http://127.0.0.1:${port}/missing.json`)).rejects.toThrow(/HTTP 404/);
      await expect(cpu.loadLayersModel([files[1]])).rejects.toThrow(WeightError);
    } finally {
      server.close();
    }
  });

  it('summary() lists the file\'s layers; fit() trains a loaded single-stage model', async () => {
    const m = tf.sequential({ layers: [tf.layers.lstm({ units: 3, inputShape: [T, I], recurrentActivation: 'sigmoid' }), tf.layers.dense({ units: 1 })] });
    const saved = await save(m, 51);
    const ours = await cpu.loadLayersModel({ modelJSON: saved.modelJSON, weights: saved.weights });
    const s = ours.summary();
    expect(s).toMatch(/lstm_LSTM\d+ \(LSTM\)\s+\(None, 3\)\s+84/);
    expect(s).toMatch(/Total params: 88/);
    expect(ours.sequential).not.toBeNull();
    const { Adam } = await import('../src/index');
    const h = await ours.fit({ x: features(52, 4), y: data(4, 53), seqLen: T }, { loss: 'mse', optimizer: new Adam(ours.parameters(), { lr: 0.05 }), epochs: 5, batchSize: 4 });
    expect(h.history.loss[4]).toBeLessThan(h.history.loss[0]);
    ours.dispose();
  });
});

describe('ours → toLayersModel() → tf.loadLayersModel(tf.io.fromMemory(...)): tfjs predicts the same', () => {
  const toTf = async (art: { modelJSON: LayersModelJSON; weightData: ArrayBuffer }) =>
    tf.loadLayersModel(tf.io.fromMemory({ modelTopology: art.modelJSON.modelTopology as object, weightSpecs: art.modelJSON.weightsManifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[], weightData: art.weightData }));

  it('rt.sequential: Embedding → bidirectional 2-layer LSTM (PyTorch biases) → Keras GRU → Dense → Softmax', async () => {
    for (const rt of [cpu, gpu]) {
      const model = rt.sequential([
        rt.embedding({ vocabSize: 6, dim: 3, seed: 1 }),
        rt.lstm({ inputSize: 3, hiddenSize: 2, numLayers: 2, bidirectional: true, returnSequences: true, seed: 2 }),
        rt.gru({ inputSize: 4, hiddenSize: 3, resetAfter: false, convention: 'keras', seed: 3 }),
        rt.dense({ inputSize: 3, units: 4, activation: 'tanh', seed: 4 }),
        rt.softmax(),
      ]);
      const art = await toLayersModel(model);
      const tfm = await toTf(art);
      const ids = Float32Array.from(data(B * T, 61), (v) => Math.floor((v + 1) * 3));
      const y = await model.predict(ids, { batch: B, seqLen: T });
      const c = compare(`ours→tfjs[${rt.backend}]`, tfPredict(tfm, ids, [B, T]), await y.read(), { atol: ATOL });
      expect(c.ok, c.detail).toBe(true);
      measured[`ours_to_tfjs/${rt.backend}`] = c.maxAbs;
      y.dispose();
      model.dispose();
    }
  });

  it('a loaded model with go_backwards, merge modes and activations goes back out unchanged', async () => {
    const m = tf.sequential({
      layers: [
        tf.layers.bidirectional({ layer: tf.layers.lstm({ units: 2, returnSequences: true, recurrentActivation: 'sigmoid' }) as tf.RNN, mergeMode: 'ave', inputShape: [T, I] }),
        tf.layers.simpleRNN({ units: 3, goBackwards: true, returnSequences: true }),
        tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 2 }) }),
        tf.layers.activation({ activation: 'sigmoid' }),
      ],
    });
    const saved = await save(m, 71);
    const x = features(72);
    const ref = tfPredict(m, x, [B, T, I]);
    for (const rt of [cpu, gpu]) {
      const ours = await rt.loadLayersModel({ modelJSON: saved.modelJSON, weights: saved.weights });
      const back = await toTf(await ours.toLayersModel());
      const c = compare(`roundtrip[${rt.backend}]`, ref, tfPredict(back, x, [B, T, I]), { atol: ATOL });
      expect(c.ok, c.detail).toBe(true);
      measured[`roundtrip/${rt.backend}`] = c.maxAbs;
      ours.dispose();
    }
  });
});

describe('errors: typed, naming the culprit, nothing built', () => {
  let base: Saved;
  beforeAll(async () => {
    const m = tf.sequential({ layers: [tf.layers.lstm({ units: 2, inputShape: [T, I], recurrentActivation: 'sigmoid' }), tf.layers.dense({ units: 1 })] });
    base = await save(m, 81);
  });
  const clone = (): LayersModelJSON => JSON.parse(JSON.stringify(base.modelJSON));
  const layersOf = (j: LayersModelJSON) => (j.modelTopology as { config: { layers: { class_name: string; config: Record<string, unknown> }[] } }).config.layers;

  async function refuses(source: Parameters<Runtime['loadLayersModel']>[0], type: typeof ValueError | typeof WeightError, msg: RegExp) {
    const before = gpu.memory();
    await expect(gpu.loadLayersModel(source)).rejects.toThrow(type);
    await expect(gpu.loadLayersModel(source)).rejects.toThrow(msg);
    expect(gpu.memory()).toEqual(before);
    await expect(cpu.loadLayersModel(source)).rejects.toThrow(type);
  }

  it('an unknown class_name, listing what is supported', async () => {
    const j = clone();
    layersOf(j)[1].class_name = 'Conv1D';
    await refuses({ modelJSON: j, weights: base.weights }, ValueError, /'Conv1D' is not supported; supported: InputLayer, Embedding, .*LSTM, Bidirectional/);
  });

  it('a branching functional graph, naming the layer where it branches', async () => {
    const inp = tf.input({ shape: [T, I] });
    const h = tf.layers.lstm({ units: 2, name: 'trunk', recurrentActivation: 'sigmoid' }).apply(inp) as tf.SymbolicTensor;
    const a = tf.layers.dense({ units: 1, name: 'head_a' }).apply(h) as tf.SymbolicTensor;
    const b = tf.layers.dense({ units: 1, name: 'head_b' }).apply(h) as tf.SymbolicTensor;
    const sum = tf.layers.add({ name: 'join' }).apply([a, b]) as tf.SymbolicTensor;
    const saved = await save(tf.model({ inputs: inp, outputs: sum }), 82);
    await refuses({ modelJSON: saved.modelJSON, weights: saved.weights }, ValueError, /branches at layer '(join|trunk)'/);
  });

  it('a missing and a mis-shaped weight, by name', async () => {
    const j = clone();
    const ws = j.weightsManifest[0].weights;
    const dropped = ws.pop()!; // the Dense bias, the last 4 bytes
    await refuses({ modelJSON: j, weights: base.weights.slice(0, base.weights.byteLength - 4 * dropped.shape[0]) }, WeightError, /has no weight 'bias'.*dense_Dense\d+/s);
    const k = clone();
    k.weightsManifest[0].weights[0].shape = [2, 12]; // lstm kernel (3, 8) → (2, 12): same bytes
    await refuses({ modelJSON: k, weights: base.weights }, WeightError, /weight 'lstm_LSTM\d+\/kernel'.* has shape \(2, 12\), expected \(input, 4·units\) = \(3, 8\)/);
  });

  it('a truncated shard, a wrong shard count, malformed JSON', async () => {
    await refuses({ modelJSON: base.modelJSON, weights: base.weights.slice(0, 40) }, WeightError, /truncated/);
    await refuses({ modelJSON: base.modelJSON, weights: [base.weights, base.weights] }, WeightError, /2 weight buffers/);
    await refuses({ modelJSON: '{"modelTopology": {', weights: base.weights }, ValueError, /not valid JSON/);
    await refuses({ modelJSON: { weightsManifest: [] } as unknown as LayersModelJSON, weights: [] }, ValueError, /no modelTopology/);
  });

  it("activations the runtime has not, and a hard_sigmoid whose Keras version is unknown, naming layer and activation", async () => {
    const j = clone();
    delete layersOf(j)[0].config.recurrent_activation; // the default, hard_sigmoid, whose meaning depends on the version
    delete (j.modelTopology as Record<string, unknown>).keras_version;
    await refuses({ modelJSON: j, weights: base.weights }, ValueError, /lstm_LSTM\d+.*recurrent_activation 'hard_sigmoid' but keras_version is missing.*Keras 3 as relu6/);
    const s3 = clone();
    layersOf(s3)[0].config.recurrent_activation = 'softsign';
    await refuses({ modelJSON: s3, weights: base.weights }, ValueError, /recurrent_activation 'softsign', which is not supported/);
    const k = clone();
    layersOf(k)[0].config.activation = 'softsign'; // relu, sigmoid, linear load (tests/cell_activation.test.ts)
    await refuses({ modelJSON: k, weights: base.weights }, ValueError, /lstm_LSTM\d+.*activation 'softsign', which is not supported yet; supported: tanh, relu, sigmoid, linear/);
    const e = clone();
    layersOf(e)[1].config.activation = 'elu';
    await refuses({ modelJSON: e, weights: base.weights }, ValueError, /dense_Dense\d+.*'elu'/);
  });
});

/** float32 → IEEE half bits (round to nearest even; the test weights are normal halves). */
function toHalf(v: number): number {
  const f = new Float32Array([v]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = ((u >>> 23) & 0xff) - 127 + 15;
  let mant = u & 0x7fffff;
  if (exp <= 0) return sign; // flush tiny values (not in these weights)
  let h = sign | (exp << 10) | (mant >>> 13);
  mant &= 0x1fff;
  if (mant > 0x1000 || (mant === 0x1000 && h & 1)) h++;
  return h;
}
