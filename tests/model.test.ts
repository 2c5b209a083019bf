// Sequential models: Keras parameter counts and summary(), predict() on both
// backends, and Keras weights through the public layer API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../src/index';
import { compare } from './parity/compare';
import { cpuRuntime, gpuRuntime } from './helpers/runtimes';

let gpu: Runtime;
let cpu: Runtime;
beforeAll(async () => {
  gpu = await gpuRuntime();
  cpu = await cpuRuntime();
});
afterAll(() => gpu.dispose());

describe('parameter counts and summary', () => {
  it("SimpleRNN(3) on 5 features has 27 parameters (Keras's single bias), 30 in PyTorch", () => {
    expect(cpu.simpleRNN({ inputSize: 5, hiddenSize: 3, convention: 'keras' }).paramCount).toBe(27);
    expect(cpu.simpleRNN({ inputSize: 5, hiddenSize: 3 }).paramCount).toBe(30);
  });

  it('GRU and LSTM counts follow Keras and PyTorch', () => {
    // Keras GRU(4) reset_after=True on 3 features: 3·12 + 4·12 + 2·12 = 108; LSTM(4): 3·16 + 4·16 + 16 = 128
    expect(cpu.gru({ inputSize: 3, hiddenSize: 4, convention: 'keras' }).paramCount).toBe(108);
    expect(cpu.gru({ inputSize: 3, hiddenSize: 4, convention: 'keras', resetAfter: false }).paramCount).toBe(96);
    expect(cpu.lstm({ inputSize: 3, hiddenSize: 4, convention: 'keras' }).paramCount).toBe(128);
    // PyTorch nn.LSTM(3, 4, num_layers=2, bidirectional=True): 2·(16·3 + 16·4 + 32) + 2·(16·8 + 16·4 + 32) = 736
    expect(cpu.lstm({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true }).paramCount).toBe(736);
  });

  it('Embedding(88585, 64) → SimpleRNN(64) → Dense(64, relu) → Dense(1, sigmoid) has 5,681,921 parameters', () => {
    const model = cpu.sequential([
      cpu.embedding({ vocabSize: 88585, dim: 64, convention: 'keras' }),
      cpu.simpleRNN({ inputSize: 64, hiddenSize: 64, convention: 'keras' }),
      cpu.dense({ inputSize: 64, units: 64, activation: 'relu', convention: 'keras' }),
      cpu.dense({ inputSize: 64, units: 1, activation: 'sigmoid', convention: 'keras' }),
    ]);
    expect(model.layers.map((l) => l.paramCount)).toEqual([5_669_440, 8_256, 4_160, 65]);
    expect(model.paramCount).toBe(5_681_921);
    const s = model.summary();
    console.log(s);
    expect(s).toMatch(/embedding \(Embedding\)\s+\(None, None, 64\)\s+5,669,440/);
    expect(s).toMatch(/simple_rnn \(SimpleRNN\)\s+\(None, 64\)\s+8,256/);
    expect(s).toMatch(/dense \(Dense\)\s+\(None, 64\)\s+4,160/);
    expect(s).toMatch(/dense_1 \(Dense\)\s+\(None, 1\)\s+65/);
    expect(s).toContain('Total params: 5,681,921');
  });
});

describe('Sequential.predict', () => {
  it('Embedding → bidirectional GRU → LSTM → Dense → Softmax agrees on GPU and CPU, padded batch', async () => {
    const build = (rt: Runtime) =>
      rt.sequential([
        rt.embedding({ vocabSize: 20, dim: 6, seed: 1 }),
        rt.gru({ inputSize: 6, hiddenSize: 5, bidirectional: true, returnSequences: true, seed: 2 }),
        rt.lstm({ inputSize: 10, hiddenSize: 7, seed: 3 }),
        rt.dense({ inputSize: 7, units: 4, activation: 'tanh', seed: 4 }),
        rt.softmax(),
      ]);
    const g = build(gpu);
    const c = build(cpu);
    const ids = [1, 5, 19, 3, 0, 0, 7, 7, 2, 11, 4, 9];
    const opts = { batch: 2, seqLen: 6, lengths: [4, 6] };
    const yg = await g.predict(ids, opts);
    const yc = await c.predict(ids, opts);
    expect(yg.shape).toEqual([2, 4]);
    expect(yg.backend).toBe('webgpu');
    const cmp = compare('seq.probs', await yc.read(), await yg.read(), { atol: 1e-5 });
    expect(cmp.ok, cmp.detail).toBe(true);
    const p = await yc.read();
    expect(p[0] + p[1] + p[2] + p[3]).toBeCloseTo(1, 12);
    yg.dispose();
    g.dispose();
  });

  it('many-to-one takes the last valid step: padding does not change a sample', async () => {
    for (const rt of [gpu, cpu]) {
      const model = rt.sequential([rt.embedding({ vocabSize: 9, dim: 3 }), rt.lstm({ inputSize: 3, hiddenSize: 4 }), rt.dense({ inputSize: 4, units: 1, activation: 'sigmoid' })]);
      const short = await (await model.predict([1, 2, 3], { batch: 1, seqLen: 3 })).read();
      const padded = await (await model.predict([1, 2, 3, 0, 0], { batch: 1, seqLen: 5, lengths: [3] })).read();
      const cmp = compare(`${rt.backend}.last_step`, short, padded, { atol: 1e-6 });
      expect(cmp.ok, cmp.detail).toBe(true);
    }
  });
});

describe('Keras weights through the layer API', () => {
  for (const [cell, resetAfter] of [['rnn', true], ['gru', true], ['gru', false], ['lstm', true]] as const) {
    it(`${cell}${cell === 'gru' ? ` reset_after=${resetAfter}` : ''}: export → import round trip is exact and runs identically on both backends`, async () => {
      const make = (rt: Runtime, seed: number) => {
        const o = { inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, convention: 'keras' as const, seed, ...(cell === 'gru' ? { resetAfter } : {}) };
        return cell === 'rnn' ? rt.simpleRNN(o) : cell === 'gru' ? rt.gru(o) : rt.lstm(o);
      };
      const a = make(cpu, 7);
      const b = make(gpu, 8);
      const kw = a.kerasWeights();
      b.loadKerasWeights(kw);
      expect(b.kerasWeights()).toEqual(kw);
      const x = Float32Array.from({ length: 2 * 4 * 3 }, (_, i) => Math.sin(i));
      const ya = await (await a.forward(x, { batch: 2, seqLen: 4 })).output.read();
      const yb = await (await b.forward(x, { batch: 2, seqLen: 4 })).output.read();
      const cmp = compare(`${cell}.keras`, ya, yb, { atol: 1e-5 });
      expect(cmp.ok, cmp.detail).toBe(true);
    });
  }
});
