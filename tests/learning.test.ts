// Learning actually happens, on the GPU and on the CPU reference:
//  - a character model trained on the seeds' three sentences generates
//    'good i am fine' from the prompt 'good';
//  - a many-to-one sentiment model where word order matters ('not good');
// plus NaN handling, truncated BPTT, and memory over a thousand steps.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Adam, SGD, ValueError, type Runtime } from '../src/index';
import { cpuRuntime, gpuRuntime, wasmRuntime } from './helpers/runtimes';
import { charData as sharedCharData } from './parity/loss_curve_cases';

const runtimes: Record<string, Runtime> = {};
beforeAll(async () => {
  runtimes.webgpu = await gpuRuntime();
  runtimes.cpu = await cpuRuntime();
  runtimes.wasm = await wasmRuntime();
});
afterAll(() => runtimes.webgpu.dispose());

function charData() {
  const d = sharedCharData();
  return { ...d, id: (c: string) => d.chars.indexOf(c) };
}

for (const backend of ['webgpu', 'cpu', 'wasm'] as const) {
  describe(`learning on ${backend}`, () => {
    it("character LSTM learns the seed sentences and generates 'good i am fine' from 'good'", async () => {
      const rt = runtimes[backend];
      const d = charData();
      const V = d.chars.length;
      const emb = rt.embedding({ vocabSize: V, dim: 12, seed: 1 });
      const lstm = rt.lstm({ inputSize: 12, hiddenSize: 32, returnSequences: true, seed: 2 });
      const head = rt.dense({ inputSize: 32, units: V, seed: 3 });
      const model = rt.sequential([emb, lstm, head]);
      const opt = new Adam(model.parameters(), { lr: 0.02 });
      const hist = await model.fit({ x: d.x, y: d.y, seqLen: d.seqLen }, { loss: 'softmaxCrossEntropy', optimizer: opt, epochs: 150, batchSize: 3, metrics: ['accuracy'] });
      const losses = hist.history.loss;
      console.log(`${backend} char model: loss ${losses[0].toFixed(4)} → ${losses[losses.length - 1].toFixed(4)}, accuracy ${hist.history.accuracy.at(-1)}`);
      expect(losses[losses.length - 1]).toBeLessThan(0.05);
      // 41 of 42: the character after the first 'h' is 'e' (hey) or 'a' (have), undecidable
      expect(hist.history.accuracy.at(-1)).toBeGreaterThanOrEqual(41 / 42 - 1e-6);

      // generate greedily from the state kept on the backend, one character at a time
      const stream = lstm.stream(1);
      let text = 'good';
      let logits: Float64Array | Float32Array | null = null;
      for (let i = 0; i < 'good i am fine'.length - 1; i++) {
        const c = i < text.length ? text[i] : null;
        if (c === null) {
          const next = d.chars[logits!.indexOf(Math.max(...logits!))];
          text += next;
        }
        const e = await emb.forward([d.id(text[i])], [1]);
        const h = await stream.step(e);
        const l = await head.forward(h);
        logits = await l.read();
        for (const t of [e, h, l]) t.dispose();
      }
      text += d.chars[logits!.indexOf(Math.max(...logits!))];
      console.log(`${backend} generated: '${text}'`);
      expect(text).toBe('good i am fine');
      stream.dispose();
      opt.dispose();
      model.dispose();
    });

    it('many-to-one sentiment (word order matters) reaches near-zero loss and classifies', async () => {
      const rt = runtimes[backend];
      const rows: [string, number][] = [
        ['movie was good', 1],
        ['movie was bad', 0],
        ['movie was not good', 0],
        ['movie was not bad', 1],
        ['the film was good', 1],
        ['the film was bad', 0],
        ['film was not good at all', 0],
        ['film was not bad at all', 1],
      ];
      const vocab = ['<pad>', '<oov>', ...new Set(rows.flatMap(([s]) => s.split(' ')))];
      const tok = (s: string) => s.split(' ').map((w) => Math.max(1, vocab.indexOf(w)));
      const T = Math.max(...rows.map(([s]) => tok(s).length));
      const x = rows.flatMap(([s]) => [...tok(s), ...new Array(T - tok(s).length).fill(0)]);
      const lengths = rows.map(([s]) => tok(s).length);
      const y = rows.map(([, v]) => v);
      const model = rt.sequential([
        rt.embedding({ vocabSize: vocab.length, dim: 8, seed: 5 }),
        rt.gru({ inputSize: 8, hiddenSize: 16, seed: 6 }),
        rt.dense({ inputSize: 16, units: 1, activation: 'sigmoid', seed: 7 }),
      ]);
      const opt = new Adam(model.parameters(), { lr: 0.03 });
      const hist = await model.fit({ x, y, seqLen: T, lengths }, { loss: 'bce', optimizer: opt, epochs: 120, batchSize: 4, metrics: ['accuracy'], seed: 1 });
      const losses = hist.history.loss;
      console.log(`${backend} sentiment: loss ${losses[0].toFixed(4)} → ${losses.at(-1)!.toFixed(4)}`);
      expect(losses.at(-1)).toBeLessThan(0.05);
      const evalLogs = await model.evaluate({ x, y, seqLen: T, lengths }, { loss: 'bce', metrics: ['accuracy'] });
      expect(evalLogs.accuracy).toBe(1);
      const prob = await model.predict(tok('movie was good'), { batch: 1, seqLen: 3 });
      expect((await prob.read())[0]).toBeGreaterThan(0.9);
      prob.dispose();
      opt.dispose();
      model.dispose();
    });

    it('a non-finite loss stops fit with an error naming the step, weights as before that step', async () => {
      const rt = runtimes[backend];
      const model = rt.sequential([rt.simpleRNN({ inputSize: 2, hiddenSize: 3, returnSequences: false, seed: 1 }), rt.dense({ inputSize: 3, units: 1, seed: 2 })]);
      // a learning rate so large that the second step's loss overflows (float32 on the GPU, float64 on the CPU)
      const opt = new SGD(model.parameters(), { lr: backend === 'webgpu' ? 1e30 : 1e200 });
      const x = [0.5, -0.2, 0.1, 0.3, -0.4, 0.6];
      const dense = model.layers[1] as { torchStateDict(): unknown };
      let afterFirst: unknown = null;
      const initial = backend !== 'webgpu' ? dense.torchStateDict() : null; // on the GPU, parameters() handed the weights to the optimizer
      const run = model.fit(
        { x, y: [1], seqLen: 3 },
        {
          loss: 'mse',
          optimizer: opt,
          epochs: 5,
          onEpochEnd: async () => {
            await model.syncWeights();
            afterFirst ??= (model.layers[1] as { torchStateDict(): unknown }).torchStateDict();
          },
        },
      );
      await expect(run).rejects.toThrow(ValueError);
      if (backend === 'webgpu') {
        // float32 on the GPU: the second step's loss overflows, and fit stops before that step
        await expect(run).rejects.toThrow(/epoch 1, batch 0/);
        await model.syncWeights();
        expect(dense.torchStateDict()).toEqual(afterFirst);
      } else {
        // the host backends' float64 loss (wasm: from float32 outputs) stays finite, but the first update overflows the float32
        // weights: the optimizer refuses it, and the weights stay finite, as before that step
        await expect(run).rejects.toThrow(/epoch 0, batch 0: SGD.step: the update would make .* non-finite/);
        expect(afterFirst).toBeNull();
        expect(dense.torchStateDict()).toEqual(initial);
      }
      opt.dispose();
      model.dispose();
    });

    it('truncated BPTT with k = T equals plain training; k < T still learns', async () => {
      const rt = runtimes[backend];
      const d = charData();
      const V = d.chars.length;
      const make = () =>
        rt.sequential([
          rt.embedding({ vocabSize: V, dim: 6, seed: 1 }),
          rt.gru({ inputSize: 6, hiddenSize: 12, returnSequences: true, seed: 2 }),
          rt.dense({ inputSize: 12, units: V, seed: 3 }),
        ]);
      const a = make();
      const b = make();
      const oa = new Adam(a.parameters(), { lr: 0.02 });
      const ob = new Adam(b.parameters(), { lr: 0.02 });
      const ha = await a.fit({ x: d.x, y: d.y, seqLen: d.seqLen }, { loss: 'softmaxCrossEntropy', optimizer: oa, epochs: 3, batchSize: 3 });
      const hb = await b.fit({ x: d.x, y: d.y, seqLen: d.seqLen }, { loss: 'softmaxCrossEntropy', optimizer: ob, epochs: 3, batchSize: 3, tbptt: d.seqLen });
      expect(hb.history.loss).toEqual(ha.history.loss);
      const c = make();
      const oc = new Adam(c.parameters(), { lr: 0.02 });
      const hc = await c.fit({ x: d.x, y: d.y, seqLen: d.seqLen }, { loss: 'softmaxCrossEntropy', optimizer: oc, epochs: 60, batchSize: 3, tbptt: 5 });
      console.log(`${backend} tbptt k=5: loss ${hc.history.loss[0].toFixed(3)} → ${hc.history.loss.at(-1)!.toFixed(3)}`);
      expect(hc.history.loss.at(-1)!).toBeLessThan(hc.history.loss[0] / 4);
      for (const o of [oa, ob, oc]) o.dispose();
      for (const m of [a, b, c]) m.dispose();
    });
  });
}

describe('training memory', () => {
  it('a thousand training steps leave live GPU buffers and bytes unchanged', async () => {
    const rt = runtimes.webgpu;
    const model = rt.sequential([
      rt.embedding({ vocabSize: 5, dim: 3, seed: 1 }),
      rt.lstm({ inputSize: 3, hiddenSize: 4, returnSequences: true, seed: 2 }),
      rt.dense({ inputSize: 4, units: 5, seed: 3 }),
    ]);
    const opt = new Adam(model.parameters(), { lr: 0.01 });
    let afterFirst: { buffers: number; bytes: number } | null = null;
    await model.fit(
      { x: [1, 2, 3, 4, 0, 1], y: [2, 3, 4, 0, 1, 2], seqLen: 3 },
      { loss: 'softmaxCrossEntropy', optimizer: opt, epochs: 1000, batchSize: 2, clipNorm: 1, onEpochEnd: ({ epoch }) => void (epoch === 0 && (afterFirst = rt.memory())) },
    );
    const after = rt.memory();
    console.log('live GPU buffers after the first and the 1000th training step:', afterFirst, after);
    expect(after).toEqual(afterFirst);
    opt.dispose();
    model.dispose();
    expect(rt.memory()).toEqual({ buffers: 0, bytes: 0 });
  });
});
