// Bad inputs: every one is refused with a typed error (errors.ts) whose message
// names the operation and the argument, and shows what was expected and what
// arrived (STYLE.md, "Errors"). A refused call changes nothing: no weights, no
// stream state, and no GPU buffer is left behind (rt.memory() is the same before
// and after). Both backends where the check applies; GPU-only conditions (no
// adapter, device loss, adapter limits) run on the webgpu backend.
//
// Shapes are tiny (SwiftShader is slow); the one large shape is the
// input-projection limit case, which must fail before it allocates.
//
// Every webgpu runtime here is created on one Dawn GPU instance that this file
// holds for the life of the process: Dawn in Node aborts, segfaults or hangs
// when a GPU instance whose device has made buffers is garbage-collected, even
// after device.destroy(), and rt.dispose() drops the runtime's own hold on its
// instance (GpuContext.dispose sets keepAlive = []).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createRuntime,
  DeviceLostError,
  DisposedError,
  LimitError,
  ShapeError,
  ValueError,
  WeightError,
  WebGPUUnavailableError,
  type Recurrent,
  type Runtime,
  type StateDict,
} from '../src/index';
import { cpuRuntime } from './helpers/runtimes';
import { data } from './helpers/data';

type ErrorClass = new (message: string) => Error;
type BackendName = 'webgpu' | 'cpu';

/**
 * Calls `call` (sync or async), expects it to fail with `cls` and a message that
 * contains every string / matches every RegExp of `parts`, and (given a runtime)
 * that the failed call left the GPU buffer count and bytes as they were.
 */
async function expectError(rt: Runtime | null, call: () => unknown, cls: ErrorClass, parts: (string | RegExp)[]): Promise<Error> {
  const before = rt?.memory();
  let caught: unknown = undefined;
  let threw = false;
  try {
    await call();
  } catch (e) {
    caught = e;
    threw = true;
  }
  if (!threw) expect.fail(`expected a ${cls.name}, but the call succeeded`);
  expect(caught, `got ${String(caught)}`).toBeInstanceOf(cls);
  const msg = (caught as Error).message;
  for (const p of parts) {
    if (typeof p === 'string') expect(msg).toContain(p);
    else expect(msg).toMatch(p);
  }
  if (rt) expect(rt.memory(), 'live GPU buffers after the failed call').toEqual(before);
  return caught as Error;
}

let dawn: GPU | null = null;
/** The one Dawn instance of this file, never released (see the header). */
async function heldGpu(): Promise<GPU> {
  if (!dawn) {
    const { create, globals } = await import('webgpu');
    Object.assign(globalThis, globals);
    dawn = create([]);
  }
  return dawn;
}

async function webgpuRuntime(): Promise<Runtime> {
  return createRuntime({ backend: 'webgpu', gpu: await heldGpu() });
}


/** The weights and one forward output of a layer, to show that a failed call changed neither. */
async function snapshot(layer: Recurrent, x: Float32Array, B: number, T: number) {
  const sd = layer.torchStateDict();
  const res = await layer.forward(x, { batch: B, seqLen: T });
  const out = await res.output.read();
  res.output.dispose();
  res.h.dispose();
  res.c?.dispose();
  return { sd, out };
}

// LSTM with I = 2, H = 4 (G = 16) throughout, on B = 2, T = 3.
const I = 2;
const H = 4;
const B = 2;
const T = 3;
const X = data(B * T * I, 7); // (B, T, I)

const rts = {} as Record<BackendName, Runtime>;
beforeAll(async () => {
  rts.webgpu = await webgpuRuntime();
  rts.cpu = await cpuRuntime();
});
afterAll(() => {
  rts.webgpu?.dispose();
  rts.cpu?.dispose();
});

for (const backend of ['webgpu', 'cpu'] as const) {
  const other: BackendName = backend === 'webgpu' ? 'cpu' : 'webgpu';

  describe(`forward inputs on ${backend}`, () => {
    let rt: Runtime;
    let lstm: Recurrent;
    let gru: Recurrent;
    beforeAll(() => {
      rt = rts[backend];
      lstm = rt.lstm({ inputSize: I, hiddenSize: H, seed: 1 });
      gru = rt.gru({ inputSize: I, hiddenSize: H, seed: 2 });
    });
    afterAll(() => {
      lstm.dispose();
      gru.dispose();
    });

    it('x: flat array of the wrong length', async () => {
      await expectError(rt, () => lstm.forward(new Float32Array(11), { batch: B, seqLen: T }), ShapeError, [
        'LSTM.forward',
        'x has 11 elements',
        '(B, T, I) = (2, 3, 2) = 12',
      ]);
    });

    it('x: flat array not a multiple of batch·I', async () => {
      await expectError(rt, () => lstm.forward(new Float32Array(11), { batch: B }), ShapeError, ['x has 11 values', 'batch·I = 4']);
    });

    it('x: flat array with neither batch nor seqLen', async () => {
      await expectError(rt, () => lstm.forward(X), ShapeError, ['x is a flat array of 12 values', 'batch', 'seqLen', 'I = 2']);
    });

    it('x: Tensor of the wrong rank', async () => {
      const t = rt.tensor(X, [B * T, I]);
      await expectError(rt, () => lstm.forward(t), ShapeError, ['LSTM.forward', 'x has shape (6, 2)', '(B, T, I)', 'I = 2']);
      t.dispose();
    });

    it('x: Tensor with the wrong feature size', async () => {
      const t = rt.tensor(new Float32Array(B * T * 5), [B, T, 5]);
      await expectError(rt, () => lstm.forward(t), ShapeError, ['x has shape (2, 3, 5)', '(B, T, I) = (2, 3, 2)']);
      t.dispose();
    });

    it('x: Tensor whose shape disagrees with batch/seqLen', async () => {
      const t = rt.tensor(X, [B, T, I]);
      await expectError(rt, () => lstm.forward(t, { batch: 3 }), ShapeError, ['x has shape (2, 3, 2)', 'batch = 3']);
      t.dispose();
    });

    it(`x: Tensor of the other backend (${other})`, async () => {
      const t = rts[other].tensor(X, [B, T, I]);
      await expectError(rt, () => lstm.forward(t), ValueError, ['x', `${other} tensor`, backend]);
      t.dispose();
    });

    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      it(`batch = ${bad} and seqLen = ${bad} are refused`, async () => {
        await expectError(rt, () => lstm.forward(X, { batch: bad, seqLen: T }), ValueError, ['batch must be a positive integer', `got ${bad}`]);
        await expectError(rt, () => lstm.forward(X, { batch: B, seqLen: bad }), ValueError, ['seqLen must be a positive integer', `got ${bad}`]);
      });
    }

    for (const [bad, text] of [
      [Number.NaN, 'NaN'],
      [Number.POSITIVE_INFINITY, 'Infinity'],
      [Number.NEGATIVE_INFINITY, '-Infinity'],
    ] as const) {
      it(`x containing ${text} names x and the index`, async () => {
        const x = X.slice();
        x[5] = bad;
        await expectError(rt, () => lstm.forward(x, { batch: B, seqLen: T }), ValueError, ['LSTM.forward', `x[5] is ${text}`, 'finite']);
      });
    }

    it('h0: flat array of the wrong length shows (L·D, B, H)', async () => {
      await expectError(rt, () => lstm.forward(X, { batch: B, seqLen: T, h0: new Float32Array(7) }), ShapeError, [
        'LSTM.forward',
        'h0 has 7 elements',
        '(L·D, B, H) = (1, 2, 4) = 8',
      ]);
    });

    it('h0: Tensor of the wrong shape shows (L·D, B, H)', async () => {
      const h0 = rt.tensor(new Float32Array(B * H), [B, H]);
      await expectError(rt, () => lstm.forward(X, { batch: B, seqLen: T, h0 }), ShapeError, ['h0 has shape (2, 4)', '(L·D, B, H) = (1, 2, 4)']);
      h0.dispose();
    });

    it('h0 of a 2-layer bidirectional GRU: (L·D, B, H) counts layers and directions', async () => {
      const deep = rt.gru({ inputSize: I, hiddenSize: 3, numLayers: 2, bidirectional: true });
      await expectError(rt, () => deep.forward(X, { batch: B, seqLen: T, h0: new Float32Array(2 * B * 3) }), ShapeError, [
        'GRU.forward',
        'h0 has 12 elements',
        '(L·D, B, H) = (4, 2, 3) = 24',
      ]);
      deep.dispose();
    });

    it('h0 with NaN names h0 and the index', async () => {
      const h0 = new Float32Array(B * H);
      h0[3] = Number.NaN;
      await expectError(rt, () => lstm.forward(X, { batch: B, seqLen: T, h0 }), ValueError, ['h0[3] is NaN']);
    });

    it('c0: wrong shape shows (L·D, B, H)', async () => {
      await expectError(rt, () => lstm.forward(X, { batch: B, seqLen: T, c0: new Float32Array(9) }), ShapeError, [
        'c0 has 9 elements',
        '(L·D, B, H) = (1, 2, 4) = 8',
      ]);
    });

    it('c0 given to a GRU', async () => {
      await expectError(rt, () => gru.forward(X, { batch: B, seqLen: T, c0: new Float32Array(B * H) }), ValueError, ['GRU.forward', 'c0', 'LSTM']);
    });

    it('lengths: wrong count', async () => {
      await expectError(rt, () => lstm.forward(X, { batch: B, seqLen: T, lengths: [3, 3, 3] }), ShapeError, [
        'lengths has 3 entries',
        '(B) = (2)',
      ]);
    });

    for (const bad of [0, T + 1, 1.5, -2, Number.NaN]) {
      it(`lengths containing ${bad} shows the range [1, T]`, async () => {
        await expectError(rt, () => lstm.forward(X, { batch: B, seqLen: T, lengths: [T, bad] }), ValueError, [
          'LSTM.forward',
          `lengths[1] = ${bad}`,
          '[1, T] = [1, 3]',
        ]);
      });
    }

    it('path: a name that does not exist', async () => {
      await expectError(rt, () => lstm.forward(X, { batch: B, seqLen: T, path: 'fastest' as 'auto' }), ValueError, [
        'path must be',
        "'step'",
        "'persistent'",
        "'fastest'",
      ]);
    });
  });

  describe(`recurrent options on ${backend}`, () => {
    let rt: Runtime;
    beforeAll(() => {
      rt = rts[backend];
    });

    for (const bad of [0, 2.5, -3]) {
      it(`hiddenSize ${bad}`, async () => {
        await expectError(rt, () => rt.lstm({ inputSize: I, hiddenSize: bad }), ValueError, ['lstm', 'hiddenSize must be a positive integer', `got ${bad}`]);
      });
    }

    it('inputSize and numLayers 0', async () => {
      await expectError(rt, () => rt.gru({ inputSize: 0, hiddenSize: H }), ValueError, ['inputSize must be a positive integer', 'got 0']);
      await expectError(rt, () => rt.gru({ inputSize: I, hiddenSize: H, numLayers: 0 }), ValueError, ['numLayers must be a positive integer', 'got 0']);
    });

    it('unknown nonlinearity', async () => {
      await expectError(rt, () => rt.simpleRNN({ inputSize: I, hiddenSize: H, nonlinearity: 'sigmoid' as 'tanh' }), ValueError, [
        'nonlinearity',
        "'tanh' or 'relu'",
        "'sigmoid'",
      ]);
    });

    it('nonlinearity on an LSTM, resetAfter on a SimpleRNN', async () => {
      await expectError(rt, () => rt.lstm({ inputSize: I, hiddenSize: H, nonlinearity: 'relu' }), ValueError, ['nonlinearity', 'SimpleRNN']);
      await expectError(rt, () => rt.simpleRNN({ inputSize: I, hiddenSize: H, resetAfter: false }), ValueError, ['resetAfter', 'GRU']);
    });

    it('unknown convention', async () => {
      await expectError(rt, () => rt.lstm({ inputSize: I, hiddenSize: H, convention: 'tensorflow' as 'keras' }), ValueError, [
        'convention',
        "'pytorch' or 'keras'",
        "'tensorflow'",
      ]);
    });
  });

  describe(`weights on ${backend}`, () => {
    let rt: Runtime;
    let lstm: Recurrent;
    let good: StateDict;
    beforeAll(() => {
      rt = rts[backend];
      lstm = rt.lstm({ inputSize: I, hiddenSize: H, seed: 5 });
      good = lstm.torchStateDict();
    });
    afterAll(() => lstm.dispose());

    /** Fails `load` with a WeightError matching `parts`, then checks that weights and outputs are unchanged. */
    async function expectRefusedLoad(load: () => void, parts: (string | RegExp)[]): Promise<void> {
      const before = await snapshot(lstm, X, B, T);
      await expectError(rt, load, WeightError, parts);
      const after = await snapshot(lstm, X, B, T);
      expect(after.sd, 'torchStateDict() after the failed load').toEqual(before.sd);
      expect(after.out, 'forward output after the failed load').toEqual(before.out);
    }

    it('loadTorchStateDict: a missing key', async () => {
      const sd: StateDict = { ...good };
      delete sd.bias_hh_l0;
      await expectRefusedLoad(() => lstm.loadTorchStateDict(sd), ['LSTM.loadTorchStateDict', "missing 'bias_hh_l0'", '(G) = (16)']);
    });

    it('loadTorchStateDict: an unexpected key', async () => {
      const sd: StateDict = { ...good, 'rnn.weight_ih_l0': good.weight_ih_l0 };
      await expectRefusedLoad(() => lstm.loadTorchStateDict(sd), ["unexpected key(s) 'rnn.weight_ih_l0'", 'weight_ih_l0, weight_hh_l0']);
    });

    it('loadTorchStateDict: {data, shape} with the wrong shape', async () => {
      const sd: StateDict = { ...good, weight_ih_l0: { data: new Float32Array(16 * 3), shape: [16, 3] } };
      await expectRefusedLoad(() => lstm.loadTorchStateDict(sd), ["'weight_ih_l0' has shape (16, 3)", '(G, I) = (16, 2)']);
    });

    it('loadTorchStateDict: a flat array of the wrong length', async () => {
      const sd: StateDict = { ...good, weight_hh_l0: new Array<number>(63).fill(0.1) };
      await expectRefusedLoad(() => lstm.loadTorchStateDict(sd), ["'weight_hh_l0' has 63 values", '(G, H) = (16, 4) = 64']);
    });

    it('loadTorchStateDict: a NaN weight (in the last tensor checked)', async () => {
      const bhh = (good.bias_hh_l0 as { data: Float32Array }).data.slice();
      bhh[3] = Number.NaN;
      const sd: StateDict = { ...good, weight_ih_l0: data(16 * I, 9), bias_hh_l0: bhh };
      await expectRefusedLoad(() => lstm.loadTorchStateDict(sd), ["'bias_hh_l0'[3] is NaN", 'finite']);
    });

    it('loadKerasWeights: kernel with the wrong (transposed) shape', async () => {
      const k = lstm.kerasWeights()[0][0];
      const bad = { kernel: { data: new Float32Array(16 * I), shape: [16, I] }, recurrentKernel: k.recurrentKernel, bias: k.bias };
      await expectRefusedLoad(() => lstm.loadKerasWeights([bad]), ['LSTM.loadKerasWeights', 'kernel has shape (16, 2)', '(I, 4H) = (2, 16)', 'transposed']);
    });

    it('loadKerasWeights: recurrent kernel and bias of the wrong length', async () => {
      const k = lstm.kerasWeights()[0][0];
      await expectRefusedLoad(() => lstm.loadKerasWeights([{ ...k, recurrentKernel: new Float32Array(60) }]), [
        'recurrent_kernel has 60 elements',
        '(H, 4H) = (4, 16) = 64',
      ]);
      await expectRefusedLoad(() => lstm.loadKerasWeights([{ ...k, bias: new Float32Array(32) }]), ['bias has 32 elements', '(4H) = (16) = 16']);
    });

    it('loadKerasWeights: the wrong number of layer entries', async () => {
      const k = lstm.kerasWeights()[0][0];
      await expectRefusedLoad(() => lstm.loadKerasWeights([k, k]), ['expected 1 layer entry', 'got 2']);
    });
  });

  describe(`heads and models on ${backend}`, () => {
    let rt: Runtime;
    beforeAll(() => {
      rt = rts[backend];
    });

    it('Dense: a Tensor with the wrong input width', async () => {
      const dense = rt.dense({ inputSize: 4, units: 3 });
      const x = rt.tensor(new Float32Array(10), [2, 5]);
      await expectError(rt, () => dense.forward(x), ShapeError, ['Dense.forward', 'x has shape (2, 5)', 'inputSize = 4']);
      x.dispose();
      dense.dispose();
    });

    it('Dense: an explicit shape with the wrong width', async () => {
      const dense = rt.dense({ inputSize: 4, units: 3 });
      await expectError(rt, () => dense.forward(new Float32Array(6), [2, 3]), ShapeError, ['x has shape (2, 3)', 'inputSize = 4']);
      dense.dispose();
    });

    it('Dense: a flat array whose length is not a multiple of inputSize names its length', async () => {
      const dense = rt.dense({ inputSize: 4, units: 3 });
      // Expected: the message states the 5 values that arrived (a standalone "5",
      // not a made-up fractional shape such as "(1.25, 4)") and inputSize = 4.
      await expectError(rt, () => dense.forward(new Float32Array(5)), ShapeError, ['Dense.forward', 'x', 'inputSize = 4', /(?<![\d.])5(?![\d.])/]);
      dense.dispose();
    });

    it('Embedding: ids out of range, negative and non-integer name ids[i] and the range', async () => {
      const emb = rt.embedding({ vocabSize: 10, dim: 3 });
      for (const [bad, shown] of [
        [10, '10'],
        [-1, '-1'],
        [2.5, '2.5'],
        [Number.NaN, 'NaN'],
      ] as const) {
        await expectError(rt, () => emb.forward([1, bad, 2], [1, 3]), ValueError, ['Embedding.forward', `ids[1] = ${shown}`, '[0, vocabSize) = [0, 10)']);
      }
      emb.dispose();
    });

    it('Embedding: ids count disagrees with the shape', async () => {
      const emb = rt.embedding({ vocabSize: 10, dim: 3 });
      await expectError(rt, () => emb.forward([1, 2, 3, 4, 5], [2, 3]), ShapeError, ['ids has 5 values', '(2, 3) = 6']);
      emb.dispose();
    });

    it('Sequential: mismatched layer widths', async () => {
      const lstm = rt.lstm({ inputSize: I, hiddenSize: H });
      const dense = rt.dense({ inputSize: 5, units: 2 });
      await expectError(rt, () => rt.sequential([lstm, dense]), ShapeError, ['sequential', 'layer 1 (Dense)', 'inputSize is 5', 'outputs 4 features']);
      const emb = rt.embedding({ vocabSize: 10, dim: 6 });
      await expectError(rt, () => rt.sequential([emb, lstm]), ShapeError, ['layer 1 (LSTM)', 'inputSize is 2', 'outputs 6 features']);
      lstm.dispose();
      dense.dispose();
      emb.dispose();
    });

    it('Dense.loadTorchStateDict with a mis-shaped weight: WeightError, weights unchanged', async () => {
      const dense = rt.dense({ inputSize: 4, units: 3, seed: 2 });
      const before = dense.torchStateDict();
      await expectError(rt, () => dense.loadTorchStateDict({ weight: { data: new Float32Array(12), shape: [4, 3] }, bias: new Float32Array(3) }), WeightError, [
        'Dense.loadTorchStateDict',
        "'weight' has shape (4, 3)",
        '(units, inputSize) = (3, 4)',
      ]);
      await expectError(rt, () => dense.loadKerasWeights([new Float32Array(12), new Float32Array(4)]), WeightError, ['bias has 4 elements', '(out) = (3) = 3']);
      expect(dense.torchStateDict()).toEqual(before);
      dense.dispose();
    });

    it('Sequential.predict: a failure in a later layer frees the earlier results', async () => {
      const emb = rt.embedding({ vocabSize: 10, dim: I });
      const lstm = rt.lstm({ inputSize: I, hiddenSize: H });
      const model = rt.sequential([emb, lstm]);
      // The Embedding runs (and allocates its output), then the LSTM refuses the lengths.
      await expectError(rt, () => model.predict([1, 2, 3, 4, 5, 6], { batch: B, seqLen: T, lengths: [T, 0] }), ValueError, [
        'LSTM.forward',
        'lengths[1] = 0',
        '[1, T] = [1, 3]',
      ]);
      await expectError(rt, () => model.predict([1, 2, 3, 4, 5, 6]), ShapeError, ['Sequential.predict', 'batch', 'seqLen']);
      model.dispose();
    });

    it('rt.tensor with data of the wrong length is a ShapeError', async () => {
      await expectError(rt, () => rt.tensor(new Float32Array(5), [2, 3]), ShapeError, ['tensor', 'data has 5 values', '(2, 3)', '6']);
    });

    it('Tensor.reshape to a different size is a ShapeError', async () => {
      const t = rt.tensor(X, [B, T, I]);
      await expectError(rt, () => t.reshape([5, 2]), ShapeError, ['reshape', '(2, 3, 2)', '(5, 2)']);
      t.dispose();
    });

    it('stream: batch not a positive integer, bidirectional layer', async () => {
      const lstm = rt.lstm({ inputSize: I, hiddenSize: H });
      await expectError(rt, () => lstm.stream(0), ValueError, ['LSTM.stream', 'batch must be a positive integer', 'got 0']);
      const bi = rt.gru({ inputSize: I, hiddenSize: H, bidirectional: true });
      await expectError(rt, () => bi.stream(B), ValueError, ['GRU.stream', 'bidirectional']);
      lstm.dispose();
      bi.dispose();
    });

    it('a failed stream step leaves the stream state unchanged', async () => {
      const lstm = rt.lstm({ inputSize: I, hiddenSize: H, seed: 3 });
      const stream = lstm.stream(B);
      (await stream.step(data(B * I, 3))).dispose();
      const h = stream.state.h!;
      const c = stream.state.c!;
      const hBefore = await h.read();
      const cBefore = await c.read();
      const nan = data(B * I, 4);
      nan[1] = Number.NaN;
      await expectError(rt, () => stream.step(nan), ValueError, ['LSTM.forward', 'x[1] is NaN']);
      await expectError(rt, () => stream.step(new Float32Array(B * I + 1)), ShapeError, ['x has 5 elements', '(B, T, I) = (2, 1, 2) = 4']);
      expect(stream.state.h, 'the same h tensor is kept').toBe(h);
      expect(stream.state.c, 'the same c tensor is kept').toBe(c);
      expect(await stream.state.h!.read()).toEqual(hBefore);
      expect(await stream.state.c!.read()).toEqual(cBefore);
      stream.dispose();
      lstm.dispose();
    });
  });

  describe(`disposed objects on ${backend}`, () => {
    let rt: Runtime;
    beforeAll(() => {
      rt = rts[backend];
    });

    it('a disposed recurrent layer throws DisposedError', async () => {
      const lstm = rt.lstm({ inputSize: I, hiddenSize: H });
      lstm.dispose();
      await expectError(rt, () => lstm.forward(X, { batch: B, seqLen: T }), DisposedError, ['LSTM.forward', 'disposed']);
      await expectError(rt, () => lstm.loadTorchStateDict({}), DisposedError, ['loadTorchStateDict', 'disposed']);
      await expectError(rt, () => lstm.stream(B), DisposedError, ['stream', 'disposed']);
    });

    it('a disposed tensor passed as x throws DisposedError', async () => {
      const lstm = rt.lstm({ inputSize: I, hiddenSize: H });
      const x = rt.tensor(X, [B, T, I]);
      x.dispose();
      await expectError(rt, () => lstm.forward(x), DisposedError, ['LSTM.forward', 'x', 'disposed']);
      lstm.dispose();
    });

    it('a disposed Dense and Embedding throw DisposedError', async () => {
      const dense = rt.dense({ inputSize: 4, units: 3 });
      dense.dispose();
      await expectError(rt, () => dense.forward(new Float32Array(8)), DisposedError, ['Dense.forward', 'disposed']);
      const emb = rt.embedding({ vocabSize: 10, dim: 3 });
      emb.dispose();
      await expectError(rt, () => emb.forward([1, 2]), DisposedError, ['Embedding.forward', 'disposed']);
    });
  });
}

describe('webgpu only: adapter, device and limits', () => {
  it('no WebGPU adapter: WebGPUUnavailableError that suggests the CPU backend', async () => {
    const gpu = { requestAdapter: async () => null } as unknown as GPU;
    await expectError(null, () => createRuntime({ gpu }), WebGPUUnavailableError, ['createRuntime', 'no adapter', "{ backend: 'cpu' }"]);
  });

  it('unknown backend name', async () => {
    await expectError(null, () => createRuntime({ backend: 'metal' as 'cpu' }), ValueError, ["'webgpu', 'cpu', 'wasm' or 'auto'", "'metal'"]);
  });

  it('device lost: calls reject with DeviceLostError, weights stay readable', async () => {
    const rt = await webgpuRuntime();
    const lstm = rt.lstm({ inputSize: I, hiddenSize: H, seed: 4 });
    const weights = lstm.torchStateDict();
    const res = await lstm.forward(X, { batch: B, seqLen: T });
    const device = rt.device!;
    device.destroy();
    const info = await device.lost;
    expect(info.reason).toBe('destroyed');

    await expectError(rt, () => lstm.forward(X, { batch: B, seqLen: T }), DeviceLostError, ['LSTM.forward', 'device was lost', 'new runtime']);
    await expectError(rt, () => res.output.read(), DeviceLostError, ['device was lost']);
    await expectError(rt, () => rt.gru({ inputSize: I, hiddenSize: H }), DeviceLostError, ['device was lost']);
    await expectError(rt, () => lstm.loadTorchStateDict(weights), DeviceLostError, ['loadTorchStateDict', 'device was lost']);
    // The hint says "create a new runtime and load the weights again": the CPU
    // master copy of the weights must still be readable from the lost layer.
    let recovered: unknown = null;
    expect(() => {
      recovered = lstm.torchStateDict();
    }, 'torchStateDict() after device loss').not.toThrow();
    expect(recovered).toEqual(weights);
    expect(() => rt.dispose()).not.toThrow();
  });

  it('a disposed runtime throws DisposedError', async () => {
    const rt = await webgpuRuntime();
    const lstm = rt.lstm({ inputSize: I, hiddenSize: H });
    const t = rt.tensor(X, [B, T, I]);
    rt.dispose();
    expect(rt.memory()).toEqual({ buffers: 0, bytes: 0 });
    await expectError(rt, () => lstm.forward(X, { batch: B, seqLen: T }), DisposedError, ['LSTM.forward', 'runtime was disposed']);
    await expectError(rt, () => t.read(), DisposedError, ['runtime was disposed']);
    await expectError(rt, () => rt.lstm({ inputSize: I, hiddenSize: H }), DisposedError, ['lstm', 'runtime was disposed']);
    await expectError(rt, () => rt.tensor(X, [B, T, I]), DisposedError, ['runtime was disposed']);
  });

  describe('adapter limits', () => {
    let rt: Runtime;
    beforeAll(async () => {
      rt = await webgpuRuntime();
    });
    afterAll(() => rt?.dispose());

    it('an input projection over maxStorageBufferBindingSize: LimitError before allocating', async () => {
      // x (1, T, 1) is small; the projection xg (1, T, G = 16) is 64 bytes per step.
      let target = rt;
      let own: GPUDevice | null = null;
      let limit = rt.device!.limits.maxStorageBufferBindingSize;
      let seqLen = Math.ceil(limit / (16 * 4)) + 1;
      if (seqLen > 64 * 2 ** 20) {
        // Too large an x to build on the CPU: use a device with the default 128 MiB limit.
        const adapter = await (await heldGpu()).requestAdapter();
        own = await adapter!.requestDevice();
        target = await createRuntime({ device: own });
        limit = own.limits.maxStorageBufferBindingSize;
        seqLen = Math.ceil(limit / (16 * 4)) + 1;
      }
      const lstm = target.lstm({ inputSize: 1, hiddenSize: 4 });
      const device = target.device!;
      const spy = vi.spyOn(device, 'createBuffer');
      try {
        await expectError(target, () => lstm.forward(new Float32Array(seqLen), { batch: 1, seqLen, path: 'step' }), LimitError, [
          'maxStorageBufferBindingSize',
          String(limit),
          String(seqLen * 16 * 4),
        ]);
        const sizes = spy.mock.calls.map(([d]) => d.size);
        expect(sizes.filter((s) => s > limit), 'buffers allocated over the limit').toEqual([]);
      } finally {
        spy.mockRestore();
        lstm.dispose();
        if (own) {
          target.dispose();
          own.destroy();
        }
      }
    });

    it('the persistent path forced on a shape too big for workgroup memory: LimitError', async () => {
      const lstm = rt.lstm({ inputSize: 1, hiddenSize: 256 });
      const wgMax = rt.device!.limits.maxComputeWorkgroupStorageSize;
      const need = 2 * 64 * 256 * 4; // h and c of B·H = 64·256 in f32
      expect(need).toBeGreaterThan(wgMax);
      await expectError(rt, () => lstm.forward(new Float32Array(64), { batch: 64, seqLen: 1, path: 'persistent' }), LimitError, [
        'persistent',
        'maxComputeWorkgroupStorageSize',
        String(wgMax),
        String(need),
        '64·256',
      ]);
      lstm.dispose();
    });

    it('a dispatch over maxComputeWorkgroupsPerDimension: LimitError, and no error scope left pushed', async () => {
      // The per-step kernel launches (ceil(H / 64), B) workgroups.
      const maxWg = rt.device!.limits.maxComputeWorkgroupsPerDimension;
      const Bbig = maxWg + 1;
      const rnn = rt.simpleRNN({ inputSize: 1, hiddenSize: 1 });
      await expectError(rt, () => rnn.forward(new Float32Array(Bbig), { batch: Bbig, seqLen: 1, path: 'step' }), LimitError, [
        'maxComputeWorkgroupsPerDimension',
        String(maxWg),
        String(Bbig),
      ]);
      // The runtime's error scopes must be balanced after the failure, or errors of
      // other WebGPU code sharing rt.device would be swallowed: popping now must
      // find no scope.
      await expect(rt.device!.popErrorScope()).rejects.toThrow();
      // And the layer still works.
      const ok = await rnn.forward(new Float32Array(2), { batch: 2, seqLen: 1 });
      expect(ok.output.shape).toEqual([2, 1, 1]);
      ok.output.dispose();
      ok.h.dispose();
      rnn.dispose();
    });
  });
});
