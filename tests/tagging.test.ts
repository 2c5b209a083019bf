// Many-to-many of the same length (tagging, issue 11): a Dense at every step over
// a bidirectional GRU, per-step labels, and padding. The task, generated here:
// strings of letters and digits of random length 3..10, pre-padded with id 0 as
// Keras's pad_sequences does (the Embedding has maskZero, so the padding steps are
// masked in the recurrence and ignored by the loss); a step's tag is 1 when it is a
// digit that follows a letter, else 0, so the tag needs the previous token (a
// per-token lookup is not enough). Trained on 96 strings, measured on 64 held out:
// token accuracy over the real (unmasked) steps must reach 98 %, on both backends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Adam, categoricalAccuracy, padSequences, type Runtime } from '../src/index';
import { Rng } from '../src/weights/random';
import { cpuRuntime, gpuRuntime, wasmRuntime } from './helpers/runtimes';

const LETTERS = [1, 2, 3, 4]; // ids of a, b, c, d
const DIGITS = [5, 6, 7, 8]; // ids of 0, 1, 2, 3
const V = 9; // 0 is padding
const T = 10;

function dataset(n: number, seed: number) {
  const rng = new Rng(seed);
  const seqs: number[][] = [];
  const tags: number[][] = [];
  for (let i = 0; i < n; i++) {
    const len = 3 + Math.floor(rng.next() * (T - 2));
    const s: number[] = [];
    for (let t = 0; t < len; t++) {
      const pool = rng.next() < 0.5 ? LETTERS : DIGITS;
      s.push(pool[Math.floor(rng.next() * pool.length)]);
    }
    seqs.push(s);
    tags.push(s.map((v, t) => (DIGITS.includes(v) && t > 0 && LETTERS.includes(s[t - 1]) ? 1 : 0)));
  }
  const x = padSequences(seqs, { maxlen: T }); // pre-padding, the Keras default
  const y = padSequences(tags, { maxlen: T, value: 0 });
  return { x: Array.from(x.ids), y: Array.from(y.ids), mask: x.mask, n };
}

const runtimes: Record<string, Runtime> = {};
beforeAll(async () => {
  runtimes.webgpu = await gpuRuntime();
  runtimes.cpu = await cpuRuntime();
  runtimes.wasm = await wasmRuntime();
});
afterAll(() => runtimes.webgpu.dispose());

for (const backend of ['webgpu', 'cpu', 'wasm'] as const) {
  describe(`tagging on ${backend}`, () => {
    it('Embedding(maskZero) → bidirectional GRU → per-step Dense learns the tags: ≥ 98 % token accuracy on held-out strings', async () => {
      const rt = runtimes[backend];
      const train = dataset(96, 1);
      const test = dataset(64, 2);
      const model = rt.sequential([
        rt.embedding({ vocabSize: V, dim: 8, seed: 1, maskZero: true }),
        rt.gru({ inputSize: 8, hiddenSize: 12, bidirectional: true, returnSequences: true, seed: 2 }),
        rt.dense({ inputSize: 24, units: 2, seed: 3 }),
      ]);
      const opt = new Adam(model.parameters(), { lr: 0.03 });
      const hist = await model.fit({ x: train.x, y: train.y, seqLen: T }, { loss: 'softmaxCrossEntropy', optimizer: opt, epochs: 25, batchSize: 16, seed: 3 });
      const logs = await model.evaluate({ x: test.x, y: test.y, seqLen: T }, { loss: 'softmaxCrossEntropy', metrics: ['accuracy'] });
      // the same accuracy by hand, over the unmasked steps only, from predict
      const logits = await model.predict(test.x, { batch: test.n });
      const labels = test.y.map((v, i) => (test.mask[i] ? v : -100));
      const acc = await categoricalAccuracy(rt, logits, labels);
      const byHand = (await acc.read())[0];
      console.log(`${backend} tagging: loss ${hist.history.loss[0].toFixed(3)} → ${hist.history.loss.at(-1)!.toFixed(4)}, held-out token accuracy ${byHand.toFixed(4)} (evaluate: ${logs.accuracy.toFixed(4)})`);
      expect(byHand).toBeGreaterThanOrEqual(0.98);
      expect(Math.abs(logs.accuracy - byHand)).toBeLessThan(1e-6);
      logits.dispose();
      acc.dispose();
      opt.dispose();
      model.dispose();
    });
  });
}
