// The cell activation (Keras `activation`, default tanh) as a kernel parameter:
// SimpleRNN's h, GRU's candidate n, LSTM's candidate g and the act(c) in
// h = o·act(c). 'relu', 'sigmoid' and 'linear' here ('tanh' is every other test's).
//  1. Against TensorFlow.js 4.22 (cpu backend, seeded weights): LSTM, GRU
//     reset_after=False (tfjs has no reset_after=True) and SimpleRNN built with each
//     activation, against our CPU reference, GPU kernels (per-step and persistent)
//     and the wasm backend.
//  2. GPU (both paths) and wasm against the CPU reference (parity/cell_activation_cases.ts,
//     shared with the browser parity page), every cell (GRU both
//     reset_after), 2-layer bidirectional with a short sample: outputs, states and
//     every gradient (the backward uses the derivative of the activation chosen).
//     Also B = T = H = 1 and inputs with |x| ≥ 30.
//  3. The CPU reference's backward against central finite differences, every cell
//     and activation (relu: entries whose ±eps straddles a kink are skipped).
//  4. Model files: a tfjs model with relu/sigmoid/linear cells loads and predicts
//     the same; toLayersModel writes the activation and tfjs predicts the same.
// Tolerances: float32 against float64, 1e-5 abs on outputs (values are O(1));
// gradients 1e-4 relative to the tensor's largest entry (float32 sums over T and
// B of products of O(1) terms); finite differences as in activations.test.ts.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValueError, createRuntime, toLayersModel, type LayersModelJSON, type Runtime } from '../src/index';
import { data } from './helpers/data';
import { cpuRuntime, gpuRuntime } from './helpers/runtimes';
import { compare } from './parity/compare';
import { CELL_VARIANTS, cellActivationCases, cellVariantName, runCellActivationCase } from './parity/cell_activation_cases';

let gpu: Runtime;
let cpu: Runtime;
let wasm: Runtime;
beforeAll(async () => {
  await tf.setBackend('cpu');
  gpu = await gpuRuntime();
  cpu = await cpuRuntime();
  wasm = await createRuntime({ backend: 'wasm' });
});
afterAll(() => {
  gpu?.dispose();
  cpu?.dispose();
  wasm?.dispose();
});

const B = 2;
const T = 4;
const I = 3;
const H = 4;
const ACTS = ['relu', 'sigmoid', 'linear'] as const;

const measured: Record<string, number> = {};
afterAll(() => console.log('cell activation max |err|:', JSON.stringify(measured)));

/** Compares, and keeps the largest |error| per `key` (what the summary line prints). */
function expectClose(key: string, name: string, ref: ArrayLike<number>, got: ArrayLike<number>, atol: number): void {
  const c = compare(name, ref, got, { atol });
  expect(c.ok, c.detail).toBe(true);
  measured[key] = Math.max(measured[key] ?? 0, c.maxAbs);
}

/** The runs to compare with a reference: our CPU reference, the GPU's two paths, wasm. */
const targets = () =>
  [
    [cpu, 'auto'],
    [gpu, 'step'],
    [gpu, 'persistent'],
    [wasm, 'auto'],
  ] as const;

describe('against TensorFlow.js 4.22, cells built with activation relu, sigmoid, linear', () => {
  const cells = [
    { name: 'LSTM', ours: 'lstm', opts: {}, make: (activation: string) => tf.layers.lstm({ units: H, activation: activation as 'relu', recurrentActivation: 'sigmoid', returnSequences: true, inputShape: [T, I] }) },
    { name: 'GRU reset_after=False', ours: 'gru', opts: { resetAfter: false }, make: (activation: string) => tf.layers.gru({ units: H, activation: activation as 'relu', recurrentActivation: 'sigmoid', returnSequences: true, inputShape: [T, I] }) },
    { name: 'SimpleRNN', ours: 'simpleRNN', opts: {}, make: (activation: string) => tf.layers.simpleRNN({ units: H, activation: activation as 'relu', returnSequences: true, inputShape: [T, I] }) },
  ] as const;
  for (const cell of cells) {
    for (const activation of ACTS) {
      it(`${cell.name}, activation '${activation}': CPU reference, GPU (both paths) and wasm equal tfjs (≤ 1e-5)`, async () => {
        const model = tf.sequential();
        model.add(cell.make(activation));
        const weights = model.getWeights().map((w, k) => tf.tensor(data(w.size, 500 + k).map((v) => v * 0.9), w.shape));
        model.setWeights(weights);
        const x = data(B * T * I, 19).map((v) => v * 2);
        const want = Float64Array.from(await (model.predict(tf.tensor(x, [B, T, I])) as tf.Tensor).data());
        const [kernel, recurrentKernel, bias] = (await Promise.all(model.getWeights().map((w) => w.data()))) as Float32Array[];
        // the activation matters here: tanh gives another answer (else the test could not fail)
        const tanhLayer = cpu[cell.ours]({ inputSize: I, hiddenSize: H, convention: 'keras', ...cell.opts });
        tanhLayer.loadKerasWeights([{ kernel, recurrentKernel, bias }]);
        const rt0 = await tanhLayer.forward(x, { batch: B });
        expect(compare('tanh', want, await rt0.output.read(), { atol: 1e-3 }).ok).toBe(false);
        for (const t of [rt0.output, rt0.h, rt0.c]) t?.dispose();
        tanhLayer.dispose();
        for (const [rt, path] of targets()) {
          const layer = rt[cell.ours]({ inputSize: I, hiddenSize: H, convention: 'keras', activation, ...cell.opts });
          layer.loadKerasWeights([{ kernel, recurrentKernel, bias }]);
          const r = await layer.forward(x, { batch: B, path });
          expectClose(`tfjs vs ${rt.backend} ${path}`, `${rt.backend} ${path} [${cell.name} ${activation}]`, want, await r.output.read(), 1e-5);
          for (const t of [r.output, r.h, r.c]) t?.dispose();
          layer.dispose();
        }
        tf.dispose(weights);
        model.dispose();
      });
    }
  }
});

describe('GPU kernels (both paths) and wasm against the CPU reference, forward and backward', () => {
  for (const c of cellActivationCases) {
    it(`${c.name}: outputs, states and every gradient`, async () => {
      for (const [rt, path] of targets().slice(1)) {
        const rows = await runCellActivationCase(cpu, rt, path, c);
        const bad = rows.filter((r) => !r.ok);
        expect(bad.map((r) => r.detail).join('\n'), rows.length + ' rows').toBe('');
        const key = `vs reference ${rt.backend} ${path}${c.scale > 10 ? ' (|x| ≥ 30)' : ''}`;
        for (const r of rows) {
          const k = `${/\.d[a-z_0-9]+$/.test(r.name) ? 'gradients' : 'forward'} ${key}`;
          measured[k] = Math.max(measured[k] ?? 0, r.maxAbs);
        }
      }
    });
  }
});

const CELLS = CELL_VARIANTS;
const cellName = (cell: string, opts: object) => cellVariantName(cell, opts).replace('_v1', ' (reset_after=False)');

describe('the CPU reference with each cell activation, against finite differences', () => {
  for (const activation of ACTS) {
    for (const [cell, opts] of CELLS) {
      it(`${cellName(cell, opts)}, ${activation}: ∂(Σ R ⊙ output + Σ S ⊙ h)/∂x and ∂/∂h0`, async () => {
        const layer = cpu[cell]({ inputSize: I, hiddenSize: H, seed: 6, activation, ...opts });
        const x = Float64Array.from(data(B * T * I, 41).map((v) => v * 2));
        const h0 = Float64Array.from(data(B * H, 43).map((v) => v * 0.5));
        const R = data(B * T * H, 42);
        const S = data(B * H, 44);
        const lossOf = async (xv: Float64Array, h0v: Float64Array) => {
          const r = await layer.forward(xv, { batch: B, h0: h0v });
          const [o, h] = [await r.output.read(), await r.h.read()];
          for (const t of [r.output, r.h, r.c]) t?.dispose();
          let s = 0;
          for (let i = 0; i < o.length; i++) s += o[i] * R[i];
          for (let i = 0; i < h.length; i++) s += h[i] * S[i];
          return s;
        };
        const r = await layer.forward(x, { batch: B, h0, record: true });
        const g = await layer.backward(r.tape!, { dOutput: R, dh: S });
        const [dx, dh0] = [await g.dx.read(), await g.dh0.read()];
        const eps = 1e-7; // small enough that few relu units cross their kink (those are skipped)
        let checked = 0;
        let total = 0;
        const check = async (name: string, v: Float64Array, grad: ArrayLike<number>, lossAt: (v: Float64Array) => Promise<number>) => {
          for (let i = 0; i < v.length; i++) {
            total++;
            const vp = v.slice();
            const vm = v.slice();
            vp[i] += eps;
            vm[i] -= eps;
            const [lp, l0, lm] = [await lossAt(vp), await lossAt(v), await lossAt(vm)];
            // a kink inside ±eps shows as one-sided slopes that differ: skip that entry
            if (Math.abs(lp - l0 - (l0 - lm)) > 1e-9 * Math.max(1, Math.abs(l0))) continue;
            const fd = (lp - lm) / (2 * eps);
            expect(Math.abs(fd - grad[i]), `${name}[${i}]: fd ${fd} vs backward ${grad[i]}`).toBeLessThan(1e-6 + 1e-5 * Math.abs(fd));
            checked++;
          }
        };
        await check('dx', x, dx, (v) => lossOf(v, h0));
        await check('dh0', h0, dh0, (v) => lossOf(x, v));
        expect(checked).toBeGreaterThan(total * 0.75);
        expect(Math.max(...Array.from(dx, Math.abs))).toBeGreaterThan(1e-3);
        for (const t of [r.output, r.h, r.c, g.dx, g.dh0, g.dc0]) t?.dispose();
        layer.dispose();
      });
    }
  }
});

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
  return {
    modelJSON: {
      format: a.format,
      generatedBy: a.generatedBy,
      convertedBy: a.convertedBy ?? null,
      modelTopology: a.modelTopology,
      weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: a.weightSpecs as LayersModelJSON['weightsManifest'][0]['weights'] }],
    },
    weights: a.weightData as ArrayBuffer,
  };
}

function tfPredict(model: tf.LayersModel, x: Float32Array, shape: number[]): Float32Array {
  const out = tf.tidy(() => model.predict(tf.tensor(x, shape)) as tf.Tensor);
  const v = out.dataSync() as Float32Array;
  out.dispose();
  return v;
}

const toTf = async (art: { modelJSON: LayersModelJSON; weightData: ArrayBuffer }) =>
  tf.loadLayersModel(tf.io.fromMemory({ modelTopology: art.modelJSON.modelTopology as object, weightSpecs: art.modelJSON.weightsManifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[], weightData: art.weightData }));

/** The cell configs of a Layers model.json, Bidirectional unwrapped, in order. */
function cellConfigs(j: LayersModelJSON): Record<string, unknown>[] {
  const topo = j.modelTopology as { config?: { layers?: { class_name: string; config: Record<string, unknown> }[] }; model_config?: { config: { layers: { class_name: string; config: Record<string, unknown> }[] } } };
  const layers = topo.model_config?.config.layers ?? topo.config?.layers ?? [];
  return layers
    .map((l) => (l.class_name === 'Bidirectional' ? (l.config.layer as { class_name: string; config: Record<string, unknown> }) : l))
    .filter((l) => ['SimpleRNN', 'GRU', 'LSTM'].includes(l.class_name))
    .map((l) => l.config);
}

describe('model files with relu, sigmoid and linear cells', () => {
  it('a tfjs model (LSTM relu → Bidirectional GRU sigmoid → SimpleRNN linear → Dense) loads and predicts as tfjs on every backend, and goes back out', async () => {
    const m = tf.sequential({
      layers: [
        tf.layers.lstm({ units: 4, activation: 'relu', inputShape: [T, I], returnSequences: true }),
        tf.layers.bidirectional({ layer: tf.layers.gru({ units: 3, activation: 'sigmoid', returnSequences: true }) as tf.RNN, mergeMode: 'concat' }),
        tf.layers.simpleRNN({ units: 2, activation: 'linear' }),
        tf.layers.dense({ units: 2 }),
      ],
    });
    const saved = await save(m, 81);
    expect(cellConfigs(saved.modelJSON).map((c) => c.activation)).toEqual(['relu', 'sigmoid', 'linear']);
    const x = data(B * T * I, 82).map((v) => v * 2);
    const ref = tfPredict(m, x, [B, T, I]);
    for (const rt of [cpu, gpu, wasm]) {
      const ours = await rt.loadLayersModel({ modelJSON: saved.modelJSON, weights: saved.weights });
      const y = await ours.predict(x, { batch: B, seqLen: T });
      expectClose(`loaded tfjs model ${rt.backend}`, `load tfjs[${rt.backend}]`, ref, await y.read(), 1e-5);
      y.dispose();
      const art = await ours.toLayersModel();
      expect(cellConfigs(art.modelJSON).map((c) => c.activation)).toEqual(['relu', 'sigmoid', 'linear']);
      const back = await toTf(art);
      expectClose(`round trip to tfjs ${rt.backend}`, `roundtrip tfjs[${rt.backend}]`, ref, tfPredict(back, x, [B, T, I]), 1e-5);
      back.dispose();
      ours.dispose();
    }
    m.dispose();
  });

  it('rt.sequential with a linear GRU and a sigmoid LSTM → toLayersModel → tfjs predicts the same', async () => {
    for (const rt of [cpu, gpu]) {
      const model = rt.sequential([
        rt.gru({ inputSize: I, hiddenSize: 3, resetAfter: false, convention: 'keras', activation: 'linear', returnSequences: true, seed: 3 }),
        rt.lstm({ inputSize: 3, hiddenSize: 2, activation: 'sigmoid', seed: 2 }),
        rt.dense({ inputSize: 2, units: 2, seed: 4 }),
      ]);
      const art = await toLayersModel(model);
      expect(cellConfigs(art.modelJSON).map((c) => c.activation)).toEqual(['linear', 'sigmoid']);
      const tfm = await toTf(art);
      const x = data(B * T * I, 91).map((v) => v * 2);
      const y = await model.predict(x, { batch: B, seqLen: T });
      expectClose(`ours to tfjs ${rt.backend}`, `ours→tfjs[${rt.backend}]`, tfPredict(tfm, x, [B, T, I]), await y.read(), 1e-5);
      y.dispose();
      tfm.dispose();
      model.dispose();
    }
  });
});

describe('the activation option', () => {
  it('is validated: unknown names, nonlinearity on GRU/LSTM, a disagreeing pair on SimpleRNN', () => {
    expect(() => cpu.lstm({ inputSize: I, hiddenSize: H, activation: 'selu' as never })).toThrow(ValueError);
    expect(() => cpu.lstm({ inputSize: I, hiddenSize: H, activation: 'selu' as never })).toThrow(/activation must be one of 'tanh', 'relu', 'sigmoid', 'linear', got 'selu'/);
    expect(() => cpu.gru({ inputSize: I, hiddenSize: H, nonlinearity: 'relu' })).toThrow(/nonlinearity applies to SimpleRNN only \(GRU and LSTM take activation\)/);
    expect(() => cpu.simpleRNN({ inputSize: I, hiddenSize: H, nonlinearity: 'relu', activation: 'tanh' })).toThrow(/disagree/);
    expect(() => cpu.simpleRNN({ inputSize: I, hiddenSize: H, nonlinearity: 'sigmoid' as never })).toThrow(/nonlinearity must be 'tanh' or 'relu'/);
  });

  it('reaches the layer config, and nonlinearity stays SimpleRNN’s synonym', () => {
    for (const [layer, want] of [
      [cpu.gru({ inputSize: I, hiddenSize: H, activation: 'relu' }), 'relu'],
      [cpu.lstm({ inputSize: I, hiddenSize: H }), 'tanh'],
      [cpu.simpleRNN({ inputSize: I, hiddenSize: H, nonlinearity: 'relu' }), 'relu'],
      [cpu.simpleRNN({ inputSize: I, hiddenSize: H, activation: 'sigmoid' }), 'sigmoid'],
    ] as const) {
      expect(layer.config.nonlinearity).toBe(want);
      layer.dispose();
    }
  });
});
