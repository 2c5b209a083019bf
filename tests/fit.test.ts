// The fit loop's bookkeeping: validation split, callbacks, history, early
// stopping, stopTraining, shuffling by seed, and its argument errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Adam, ShapeError, ValueError, type Runtime } from '../src/index';
import { cpuRuntime, gpuRuntime, wasmRuntime } from './helpers/runtimes';

const rts: Record<string, Runtime> = {};
beforeAll(async () => {
  rts.webgpu = await gpuRuntime();
  rts.cpu = await cpuRuntime();
  rts.wasm = await wasmRuntime();
});
afterAll(() => rts.webgpu.dispose());

// 12 samples of 4 steps with 2 features; target: is the first feature's sum positive
function data() {
  const x: number[] = [];
  const y: number[] = [];
  let s = 3;
  for (let n = 0; n < 12; n++) {
    let sum = 0;
    for (let t = 0; t < 4; t++) {
      for (let i = 0; i < 2; i++) {
        s = (s * 16807) % 2147483647;
        const v = (s / 2147483647) * 2 - 1;
        x.push(v);
        if (i === 0) sum += v;
      }
    }
    y.push(sum > 0 ? 1 : 0);
  }
  return { x, y, seqLen: 4 };
}

for (const backend of ['webgpu', 'cpu', 'wasm'] as const) {
  describe(`fit on ${backend}`, () => {
    const model = () => {
      const rt = rts[backend];
      return rt.sequential([rt.gru({ inputSize: 2, hiddenSize: 5, seed: 1 }), rt.dense({ inputSize: 5, units: 1, activation: 'sigmoid', seed: 2 })]);
    };

    it('validation split, metrics, callbacks and history', async () => {
      const m = model();
      const opt = new Adam(m.parameters(), { lr: 0.05 });
      const batches: number[] = [];
      const epochs: number[] = [];
      const h = await m.fit(data(), {
        loss: 'bce',
        optimizer: opt,
        epochs: 4,
        batchSize: 4,
        validationSplit: 0.25,
        metrics: ['accuracy'],
        onBatchEnd: ({ batch }) => void batches.push(batch),
        onEpochEnd: ({ epoch }) => void epochs.push(epoch),
      });
      // 12 samples, 3 held out → 9 train → batches of 4, 4, 1 per epoch
      expect(batches).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2]);
      expect(epochs).toEqual([0, 1, 2, 3]);
      expect(Object.keys(h.history).sort()).toEqual(['accuracy', 'loss', 'val_accuracy', 'val_loss']);
      expect(h.history.loss).toHaveLength(4);
      expect(h.history.loss.at(-1)!).toBeLessThan(h.history.loss[0]);
      const ev = await m.evaluate({ ...data(), x: data().x.slice(9 * 8), y: data().y.slice(9) }, { loss: 'bce', metrics: ['accuracy'] });
      expect(ev.loss).toBeCloseTo(h.history.val_loss.at(-1)!, 5);
      opt.dispose();
      m.dispose();
    });

    it('early stopping ends training when the monitored value stops improving', async () => {
      const m = model();
      const opt = new Adam(m.parameters(), { lr: 1e-9 }); // nothing improves
      const h = await m.fit(data(), { loss: 'bce', optimizer: opt, epochs: 50, batchSize: 12, shuffle: false, earlyStopping: { monitor: 'loss', patience: 2, minDelta: 1e-3 } });
      expect(h.epoch).toEqual([0, 1, 2, 3]);
      expect(h.stopped).toMatch(/early stopping/);
      opt.dispose();
      m.dispose();
    });

    it('stopTraining set from a callback ends fit after that batch', async () => {
      const m = model();
      const opt = new Adam(m.parameters(), { lr: 0.01 });
      const h = await m.fit(data(), { loss: 'bce', optimizer: opt, epochs: 10, batchSize: 4, onBatchEnd: ({ epoch, batch }) => void (epoch === 1 && batch === 0 && (m.stopTraining = true)) });
      expect(h.epoch).toEqual([0, 1]);
      expect(h.stopped).toMatch(/stopTraining/);
      opt.dispose();
      m.dispose();
    });

    it('the same seed gives the same run; bad arguments name themselves', async () => {
      const run = async () => {
        const m = model();
        const opt = new Adam(m.parameters(), { lr: 0.05 });
        const h = await m.fit(data(), { loss: 'bce', optimizer: opt, epochs: 2, batchSize: 5, seed: 9 });
        opt.dispose();
        m.dispose();
        return h.history.loss;
      };
      expect(await run()).toEqual(await run());
      const m = model();
      const opt = new Adam(m.parameters());
      await expect(m.fit({ ...data(), y: [1, 0] }, { loss: 'bce', optimizer: opt })).rejects.toThrow(ShapeError);
      await expect(m.fit({ ...data(), y: [1, 0] }, { loss: 'bce', optimizer: opt })).rejects.toThrow(/y has 2 values, expected 12/);
      await expect(m.fit(data(), { loss: 'hinge' as never, optimizer: opt })).rejects.toThrow(/loss must be/);
      await expect(m.fit(data(), { loss: 'bce', optimizer: opt, validationSplit: 1 })).rejects.toThrow(ValueError);
      await expect(m.fit(data(), { loss: 'bce', optimizer: opt, epochs: 0 })).rejects.toThrow(/epochs must be a positive integer/);
      await expect(m.fit({ ...data(), x: data().x.slice(1) }, { loss: 'bce', optimizer: opt })).rejects.toThrow(/x has 95 values/);
      opt.dispose();
      m.dispose();
    });
  });
}
