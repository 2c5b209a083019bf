// Keras model.json files that TensorFlow.js 4.22 cannot build or write, against
// PyTorch: GRUs with reset_after=True, Keras 3's JSON and its hard_sigmoid, the
// converter's JSON shape, Bidirectional's zero output at masked steps, masks with
// go_backwards, quantized weights.
//
// How the fixtures are made: tests/fixtures/make_keras_fixtures.py (Debian's
// PyTorch 1.13, no TensorFlow) writes each model as tensorflowjs_converter writes a
// Keras model (tests/fixtures/keras/<name>/model.json + shards: format
// 'layers-model', modelTopology { keras_version, backend, model_config }, weight
// names such as 'sequential/gru/gru_cell/kernel', Keras layouts and gate orders),
// and its expected output in float64 with PyTorch: torch.nn.GRU/LSTM/RNN with the
// weights mapped from Keras where PyTorch has the layer, our own float64 PyTorch
// cells (checked against torch.nn to 1e-12) for hard_sigmoid gates, GRU
// reset_after=False and Keras masking. Each fixture's `how` in
// tests/fixtures/keras_fixtures.json says exactly how; the test names repeat it
// briefly. Regenerate with /usr/bin/python3 tests/fixtures/make_keras_fixtures.py.
//
// Tolerances: CPU (float64 reference, the weights float32 as stored) 1e-5 abs, the
// issue's bar; measured ~1e-16, so 1e-12 is asserted too. GPU (float32 throughout)
// 1e-5 abs: these models are 2-3 layers of 2-4 units with outputs below 1, where
// float32 rounding accumulates to ~1e-7 (the measured values are printed); 1e-5 is
// 100x that and still far below any semantic difference the fixtures probe (the
// self-checks of the script: Keras 2 vs 3 hard_sigmoid, zero vs carried outputs at
// masked steps, each ≥ 1e-2).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValueError, type LayersModelJSON, type Runtime } from '../src/index';
import { cpuRuntime, gpuRuntime } from './helpers/runtimes';
import { compare } from './parity/compare';

const FIX = join(__dirname, 'fixtures');

interface Fixture {
  name: string;
  how: string;
  dir: string;
  kerasVersion: string;
  input: { kind: 'ids' | 'features'; shape: number[]; data: number[] };
  output: { shape: number[]; data: number[] };
}

const fixtures: Fixture[] = JSON.parse(readFileSync(join(FIX, 'keras_fixtures.json'), 'utf8')).fixtures;
const byName = (n: string) => {
  const f = fixtures.find((x) => x.name === n);
  if (!f) throw new Error(`no fixture ${n}`);
  return f;
};

/** model.json and its shards, read from the fixture's folder. */
function files(f: Fixture): { modelJSON: LayersModelJSON; weights: Uint8Array[] } {
  const modelJSON = JSON.parse(readFileSync(join(FIX, f.dir, 'model.json'), 'utf8')) as LayersModelJSON;
  const weights = modelJSON.weightsManifest.flatMap((g) => g.paths).map((p) => new Uint8Array(readFileSync(join(FIX, f.dir, p))));
  return { modelJSON, weights };
}

let gpu: Runtime;
let cpu: Runtime;
beforeAll(async () => {
  gpu = await gpuRuntime();
  cpu = await cpuRuntime();
});
const measured: Record<string, number> = {};
afterAll(() => {
  console.log('layers_model_fixtures max |ours − PyTorch|:', JSON.stringify(measured));
  gpu?.dispose();
  cpu?.dispose();
});

const ATOL = 1e-5;

async function predictFixture(rt: Runtime, f: Fixture): Promise<Float32Array | Float64Array> {
  const m = await rt.loadLayersModel(files(f));
  try {
    const [B, T] = f.input.shape;
    const x = f.input.kind === 'ids' ? f.input.data : Float32Array.from(f.input.data);
    const y = await m.predict(x, { batch: B, seqLen: T });
    expect(y.shape).toEqual(f.output.shape);
    const v = await y.read();
    y.dispose();
    return v;
  } finally {
    m.dispose();
  }
}

async function parity(name: string) {
  const f = byName(name);
  for (const rt of [cpu, gpu]) {
    const got = await predictFixture(rt, f);
    const c = compare(`${name}[${rt.backend}]`, f.output.data, got, { atol: rt.backend === 'cpu' ? 1e-12 : ATOL });
    expect(c.ok, c.detail).toBe(true);
    measured[`${name}/${rt.backend}`] = c.maxAbs;
  }
}

describe('Keras-converted model.json (PyTorch fixtures): predict equals PyTorch, CPU ≤ 1e-12, GPU ≤ 1e-5', () => {
  it('k2_gru_reset_after: Keras 2.15 Sequential, two GRUs reset_after=True (bias (2, 3·units)) → Dense softmax; vs torch.nn.GRU', async () => {
    await parity('k2_gru_reset_after');
  });

  it('k2_functional_lstm_rnn: Keras 2.15 Functional chain LSTM (unit_forget_bias) → Dropout → SimpleRNN relu → TimeDistributed(Dense relu), two shards, no cell scope in names; vs torch.nn.LSTM/RNN', async () => {
    await parity('k2_functional_lstm_rnn');
  });

  it("k2_hard_sigmoid / k3_hard_sigmoid: the same weights read as Keras 2's clip(0.2·x + 0.5, 0, 1) and Keras 3's relu6(x + 3) / 6 (our PyTorch cells with that gate)", async () => {
    await parity('k2_hard_sigmoid');
    await parity('k3_hard_sigmoid');
    // the two files differ only in keras_version (and GRU reset_after): reading one as the other must fail
    const a = byName('k2_hard_sigmoid').output.data;
    const b = byName('k3_hard_sigmoid').output.data;
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i])))).toBeGreaterThan(1e-2);
  });

  it('k3_bidirectional: Keras 3.3 JSON (module, registered_name, DTypePolicy, batch_shape, backward_layer), Bidirectional LSTM concat → Bidirectional GRU sum → Dense tanh; vs torch.nn per direction', async () => {
    await parity('k3_bidirectional');
  });

  it('k3_functional_mask_zero: Keras 3.3 Functional, manifest in reverse order, Embedding(mask_zero) → LSTM → Bidirectional GRU (masked steps output 0) → Dense on every step; pre-/post-padded and holes', async () => {
    await parity('k3_functional_mask_zero');
  });

  it('k2_mask_go_backwards: Embedding(mask_zero) → LSTM go_backwards (reversed input and mask) → GRU reset_after → Dense; pre-/post-padded', async () => {
    await parity('k2_mask_go_backwards');
  });

  it('k2_quantized_uint8 / uint16 / float16: the converter\'s quantized weights dequantized (q·scale + min; float16); vs torch.nn.LSTM with the dequantized weights', async () => {
    for (const q of ['uint8', 'uint16', 'float16']) await parity(`k2_quantized_${q}`);
    // the quantization is visible: uint8's output is not float16's
    const u8 = byName('k2_quantized_uint8').output.data;
    const f16 = byName('k2_quantized_float16').output.data;
    expect(Math.max(...u8.map((v, i) => Math.abs(v - f16[i])))).toBeGreaterThan(1e-4);
  });

  it('loads from the fixture folder by path too (Node), shards fetched relative to model.json', async () => {
    const f = byName('k2_functional_lstm_rnn');
    const m = await cpu.loadLayersModel(join(FIX, f.dir, 'model.json'));
    const y = await m.predict(Float32Array.from(f.input.data), { batch: f.input.shape[0] });
    const c = compare('by path', f.output.data, await y.read(), { atol: 1e-12 });
    expect(c.ok, c.detail).toBe(true);
    y.dispose();
    m.dispose();
  });
});

describe('what the fixtures refuse when changed', () => {
  const edit = (name: string, fn: (j: LayersModelJSON) => void) => {
    const src = files(byName(name));
    fn(src.modelJSON);
    return src;
  };
  const mc = (j: LayersModelJSON) => (j.modelTopology as { model_config: { config: { layers: { class_name: string; config: Record<string, unknown> }[] } } }).model_config.config;

  it('a Keras 3 Bidirectional whose backward_layer is not the reversed copy of its layer, naming it', async () => {
    const src = edit('k3_bidirectional', (j) => {
      const bwd = (mc(j).layers[1].config.backward_layer as { config: Record<string, unknown> }).config;
      bwd.units = 4;
    });
    await expect(cpu.loadLayersModel(src)).rejects.toThrow(ValueError);
    await expect(cpu.loadLayersModel(src)).rejects.toThrow(/'bidirectional'.*backward_layer.*units/);
  });

  it('hard_sigmoid under an unknown keras_version names both definitions', async () => {
    const src = edit('k3_hard_sigmoid', (j) => {
      (j.modelTopology as Record<string, unknown>).keras_version = '4.0.0';
    });
    await expect(cpu.loadLayersModel(src)).rejects.toThrow(/keras_version is '4.0.0'.*clip\(0.2·x \+ 0.5, 0, 1\).*relu6\(x \+ 3\) \/ 6/);
  });

  it("an explicit mask where Keras would zero masked Bidirectional outputs but the model makes no mask: refused naming the layer", async () => {
    const f = byName('k3_functional_mask_zero');
    const src = edit('k3_functional_mask_zero', (j) => {
      (mc(j).layers[1].config as Record<string, unknown>).mask_zero = false;
    });
    const m = await cpu.loadLayersModel(src);
    const mask = f.input.data.map((v) => (v === 0 ? 0 : 1));
    await expect(m.predict(f.input.data, { batch: 3, seqLen: 5, mask })).rejects.toThrow(/bidirectional output 0 at masked steps .*zero_output_for_mask/);
    const y = await m.predict(f.input.data, { batch: 3, seqLen: 5 }); // without a mask it runs
    expect(y.shape).toEqual([3, 5, 2]);
    y.dispose();
    m.dispose();
  });

  it('a cell activation we do not have (selu) on an LSTM is refused naming layer, activation and the supported ones', async () => {
    const src = edit('k2_quantized_uint8', (j) => {
      mc(j).layers[1].config.activation = 'selu';
    });
    await expect(cpu.loadLayersModel(src)).rejects.toThrow(/'lstm' \(LSTM\) has activation 'selu', which is not supported yet; supported: tanh, relu, sigmoid, linear/);
  });
});

describe('the fixtures rewritten as other writers write them: the same PyTorch outputs', () => {
  async function same(name: string, fn: (src: { modelJSON: LayersModelJSON; weights: Uint8Array[] }) => void, tag: string) {
    const f = byName(name);
    const src = files(f);
    fn(src);
    for (const rt of [cpu, gpu]) {
      const m = await rt.loadLayersModel(src);
      const y = await m.predict(f.input.kind === 'ids' ? f.input.data : Float32Array.from(f.input.data), { batch: f.input.shape[0], seqLen: f.input.shape[1] });
      const c = compare(`${tag}[${rt.backend}]`, f.output.data, await y.read(), { atol: rt.backend === 'cpu' ? 1e-12 : ATOL });
      expect(c.ok, c.detail).toBe(true);
      measured[`${tag}/${rt.backend}`] = c.maxAbs;
      y.dispose();
      m.dispose();
    }
  }
  const layersOf = (j: LayersModelJSON) => (j.modelTopology as { model_config: { config: { layers: unknown[] } } }).model_config.config.layers;

  it("weight names that carry no layer name ('model_1/cell_3/kernel'): matched by manifest order and suffix", async () => {
    await same('k2_gru_reset_after', (src) => {
      src.modelJSON.weightsManifest[0].weights.forEach((w, k) => (w.name = `model_1/cell_${k}/${w.name.split('/').at(-1)}`));
    }, 'by_order');
  });

  it("a Keras 3 node that also records the mask among its kwargs (the mask is not another input)", async () => {
    await same('k3_functional_mask_zero', (src) => {
      const ls = layersOf(src.modelJSON) as { name: string; inbound_nodes: { kwargs: Record<string, unknown> }[] }[];
      const lstm = ls.find((l) => l.name === 'lstm')!;
      lstm.inbound_nodes[0].kwargs.mask = { class_name: '__keras_tensor__', config: { shape: [null, 5], dtype: 'bool', keras_history: ['embedding', 0, 1] } };
    }, 'k3_mask_kwarg');
  });

  it("weights stored with dtype 'float16' (no quantization entry), the same bytes as the float16-quantized fixture", async () => {
    await same('k2_quantized_float16', (src) => {
      for (const w of src.modelJSON.weightsManifest[0].weights) {
        delete w.quantization;
        w.dtype = 'float16';
      }
    }, 'dtype_float16');
  });

  it('SpatialDropout1D, Dropout and Activation(linear) inserted: inference identities', async () => {
    await same('k2_quantized_uint8', (src) => {
      const ls = layersOf(src.modelJSON);
      ls.splice(1, 0, { class_name: 'SpatialDropout1D', config: { name: 'spatial_dropout1d', trainable: true, dtype: 'float32', rate: 0.3 } });
      ls.splice(3, 0, { class_name: 'Dropout', config: { name: 'dropout', trainable: true, dtype: 'float32', rate: 0.3 } });
      ls.push({ class_name: 'Activation', config: { name: 'activation', trainable: true, dtype: 'float32', activation: 'linear' } });
    }, 'identities');
  });
});
