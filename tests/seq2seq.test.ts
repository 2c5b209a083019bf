// Seq2Seq (issue 11): an encoder–decoder built from the library's layers.
//  1. Gradients of small encoder–decoders (with and without attention, bidirectional
//     with and without a bridge, 2 layers, a vector source) against PyTorch float64
//     autograd (tests/fixtures/seq2seq.json from make_seq2seq_fixtures.py), every
//     parameter, on the CPU reference and on the GPU.
//  2. Learning: spelled-out numbers → digits, exact match on held-out numbers.
//  3. Beam search: width 1 equals greedy; on a hand-built model it finds a sequence
//     that scores higher than greedy's (both scored explicitly).
//  4. One-to-many from a vector through the initial state.
//  5. Typed errors, and no buffer left behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fixtures from './fixtures/seq2seq.json';
import { Adam, ShapeError, ValueError, softmaxCrossEntropy, type Runtime, type Seq2Seq, type Seq2SeqOptions } from '../src/index';
import { logSoftmaxRows } from '../src/models/beam';
import { Rng } from '../src/weights/random';
import { cpuRuntime, gpuRuntime, wasmRuntime } from './helpers/runtimes';
import { END, SRC_VOCAB, START, TGT_VOCAB, sourceIds, spell, targetIds } from './helpers/numbers';

interface Seq2SeqCase {
  name: string;
  options: Seq2SeqOptions;
  src: number[][];
  tgt: number[][];
  stateDict: Record<string, { shape: number[]; data: number[] }>;
  logits: number[];
  loss: number;
  grads: Record<string, number[]>;
}
const cases = fixtures.cases as unknown as Seq2SeqCase[];

const runtimes: Record<'webgpu' | 'cpu' | 'wasm', Runtime> = {} as never;
beforeAll(async () => {
  runtimes.webgpu = await gpuRuntime();
  runtimes.cpu = await cpuRuntime();
  runtimes.wasm = await wasmRuntime();
});
afterAll(() => {
  runtimes.webgpu?.dispose();
  runtimes.wasm?.dispose();
});

/** max |got − ref| / max |ref| over one tensor. */
function relErr(ref: ArrayLike<number>, got: ArrayLike<number>): number {
  let maxRef = 0;
  let maxDiff = 0;
  for (let i = 0; i < ref.length; i++) {
    maxRef = Math.max(maxRef, Math.abs(ref[i]));
    maxDiff = Math.max(maxDiff, Math.abs(got[i] - ref[i]));
  }
  if (ref.length !== got.length) return Infinity;
  return maxDiff / Math.max(maxRef, 1e-30);
}

// Tolerance, relative to each tensor's largest entry (as tests/parity/grad_cases.ts):
// the CPU reference computes in float64 like PyTorch, so only summation order
// differs (measured ≤ 1e-14; bar 1e-9). The GPU computes in float32 from the same
// float32 weights: errors of a few float32 ulps of the largest terms, accumulated
// through the encoder, the bridge, the decoder, the attention and the heads.
// Measured (Dawn/SwiftShader): CPU ≤ 1.7e-15; GPU ≤ 2.1e-6 (the 2-layer
// bidirectional LSTM's W_hh of layer 1), ≤ 6e-7 on the other cases; bar 1e-4 as the
// issue asks, ≥ 45x above the worst measured.
// The wasm backend computes in float32 as the GPU does: the same bar.
const TOL = { cpu: 1e-9, webgpu: 1e-4, wasm: 1e-4 };

describe('Seq2Seq gradients vs PyTorch float64', () => {
  const worst: Record<string, number> = {};
  afterAll(() => console.log('Seq2Seq max relative error vs PyTorch (case backend: worst tensor):', worst));
  for (const c of cases) {
    for (const backend of ['cpu', 'webgpu', 'wasm'] as const) {
      it(`${c.name} on ${backend}: logits, loss and every parameter's gradient`, async () => {
        const rt = runtimes[backend];
        const before = rt.memory();
        const model = rt.seq2seq(c.options);
        model.loadTorchStateDict(c.stateDict);
        const batch = model.prepare(c.src, c.tgt);
        const { output, tape } = await model.record(batch);
        const { loss, grad } = await softmaxCrossEntropy(rt, output, batch.labels);
        const errs: Record<string, number> = { logits: relErr(c.logits, await output.read()), loss: relErr([c.loss], await loss.read()) };
        await model.backward(tape, grad);
        const grads = await model.gradients();
        expect(Object.keys(grads).sort()).toEqual(Object.keys(c.grads).sort());
        for (const [k, ref] of Object.entries(c.grads)) errs[k] = relErr(ref, grads[k]);
        for (const t of [output, loss, grad]) t.dispose();
        model.dispose();
        const [name, e] = Object.entries(errs).reduce((a, b) => (b[1] > a[1] ? b : a));
        worst[`${c.name} ${backend}`] = e;
        console.log(`${c.name} ${backend}: worst ${name} ${e.toExponential(2)}`);
        for (const [k, v] of Object.entries(errs)) expect(v, `${k}: relative error ${v}`).toBeLessThanOrEqual(TOL[backend]);
        expect(rt.memory()).toEqual(before);
      });
    }
  }
});

// ---------------------------------------------------------------------------
// Learning: English number words → digits ("three hundred forty two" → 3 4 2).
// Held out: 150 numbers of 100 … 999 drawn with a fixed seed (every word still
// occurs in training: all of 0 … 99 and the other 750 three-digit numbers are
// trained on). GRU encoder–decoder with attention, E = 16, H = 32, Adam lr 0.03,
// batches of 64, 7 epochs; exact match = every digit and the end token right,
// decoded greedily and with beam search (width 3) on the held-out numbers.
const exactMatch = (out: number[][], ns: number[]) => out.filter((o, i) => JSON.stringify(o) === JSON.stringify(targetIds(ns[i]))).length / ns.length;

describe('Seq2Seq learns number words → digits', () => {
  const order = Array.from({ length: 900 }, (_, i) => i + 100);
  const rng = new Rng(3);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const heldOut = order.slice(0, 150);
  const train = [...order.slice(150), ...Array.from({ length: 100 }, (_, i) => i)];
  for (const backend of ['cpu', 'webgpu'] as const) {
    it(`on ${backend}: ≥ 95 % exact match on held-out numbers, greedy and beam; beam width 1 = greedy`, async () => {
      const rt = runtimes[backend];
      const before = rt.memory();
      const model = rt.seq2seq({ srcVocabSize: SRC_VOCAB, tgtVocabSize: TGT_VOCAB, cell: 'gru', embeddingDim: 16, hiddenSize: 32, attention: true, startToken: START, endToken: END, seed: 1 });
      const opt = new Adam(model.parameters(), { lr: 0.03 });
      const hist = await model.fit({ src: train.map(sourceIds), tgt: train.map(targetIds) }, { optimizer: opt, epochs: 7, batchSize: 64, clipNorm: 5, seed: 1 });
      const src = heldOut.map(sourceIds);
      const greedy = await model.translate(src, { maxLength: 6 });
      const beam = await model.beamSearch(src, { beamWidth: 3, maxLength: 6 });
      const beam1 = await model.beamSearch(src, { beamWidth: 1, maxLength: 6 });
      const g = exactMatch(greedy, heldOut);
      const bm = exactMatch(beam.map((h) => h[0].tokens), heldOut);
      const wrong = heldOut.filter((n, i) => JSON.stringify(greedy[i]) !== JSON.stringify(targetIds(n))).map((n) => `${spell(n).join(' ')} → ${greedy[heldOut.indexOf(n)].map((d) => d - 3).join('')}`);
      console.log(`seq2seq numbers ${backend}: loss ${hist.history.loss[0].toFixed(3)} → ${hist.history.loss.at(-1)!.toFixed(4)}, token accuracy ${hist.history.accuracy.at(-1)!.toFixed(4)}; held-out exact match greedy ${g}, beam(3) ${bm}; wrong: ${wrong.join('; ') || 'none'}`);
      expect(g).toBeGreaterThanOrEqual(0.95);
      expect(bm).toBeGreaterThanOrEqual(0.95);
      expect(beam1.map((h) => h[0].tokens)).toEqual(greedy);
      expect(beam.every((h) => h.length >= 1 && h[0].ended)).toBe(true);
      opt.dispose();
      model.dispose();
      expect(rt.memory()).toEqual(before);
    });
  }
});

// ---------------------------------------------------------------------------
// Beam search against greedy decoding.

/** Σ log p of `tokens` (and of the end token when `ended`) under teacher forcing, float64 on the CPU. */
async function sequenceLogProb(model: Seq2Seq, src: number[], tokens: number[], ended: boolean): Promise<number> {
  const batch = model.prepare([src], [tokens]);
  const logits = await model.predict(batch);
  const v = await logits.read();
  logits.dispose();
  const V = model.config.tgtVocabSize;
  const lp = logSoftmaxRows(v, batch.T, V);
  let sum = 0;
  for (let t = 0; t < tokens.length + (ended ? 1 : 0); t++) sum += lp[t * V + batch.labels[t]];
  return sum;
}

describe('beam search', () => {
  for (const backend of ['cpu', 'webgpu'] as const) {
    it(`on ${backend}: width 1 gives greedy's tokens on an untrained model (batched, with attention, 2 layers)`, async () => {
      const rt = runtimes[backend];
      const before = rt.memory();
      const model = rt.seq2seq({ srcVocabSize: 9, tgtVocabSize: 11, cell: 'lstm', numLayers: 2, bidirectional: true, embeddingDim: 6, hiddenSize: 8, attention: true, startToken: 1, endToken: 2, seed: 5 });
      const r = new Rng(11);
      const src = Array.from({ length: 7 }, (_, b) => Array.from({ length: 1 + (b % 5) }, () => Math.floor(r.next() * 9)));
      const greedy = await model.translate(src, { maxLength: 8, batchSize: 3 });
      const beam1 = await model.beamSearch(src, { beamWidth: 1, maxLength: 8 });
      expect(beam1.map((h) => h[0].tokens)).toEqual(greedy);
      // the reported log-probability is the teacher-forced one
      for (let b = 0; b < src.length; b++) {
        const h = beam1[b][0];
        expect(h.logProb).toBeCloseTo(await sequenceLogProb(model, src[b], h.tokens, h.ended), backend === 'cpu' ? 10 : 4);
      }
      model.dispose();
      expect(rt.memory()).toEqual(before);
    });

    it(`on ${backend}: a hand-built bigram model where beam search (width 2) beats greedy`, async () => {
      // Tokens: 1 start, 2 end, 3 A, 4 B (0 unused). The decoder is a SimpleRNN whose
      // state is tanh(3)·onehot(previous token) (one-hot embedding, W_ih = 3·I, W_hh = 0),
      // and the output layer reads a bigram table p(next | previous):
      //   after start: A 0.55, B 0.45;  after A: A 0.36, B 0.34, end 0.30;  after B: end 0.95.
      // Greedy takes A, then A, A … (maxLength 3): log p = ln .55 + 2 ln .36 = −2.64.
      // Beam search keeps B and finds B end: ln .45 + ln .95 = −0.85.
      const rt = runtimes[backend];
      const before = rt.memory();
      const V = 5;
      const eps = 1e-4;
      const table: number[][] = [
        [0.2, 0.2, 0.2, 0.2, 0.2], // after 0 (unused)
        [eps, eps, eps, 0.55, 0.45], // after start
        [0.2, 0.2, 0.2, 0.2, 0.2], // after end (unused)
        [eps, eps, 0.3, 0.36, 0.34], // after A
        [eps, eps, 0.95, 0.025, 0.025], // after B
      ];
      const k = Math.tanh(3);
      const outW = new Float32Array(V * V); // (V_tgt, H): column p holds log p(· | p) / tanh(3)
      for (let p = 0; p < V; p++) for (let v = 0; v < V; v++) outW[v * V + p] = Math.log(table[p][v]) / k;
      const eye = (s: number) => Float32Array.from({ length: V * V }, (_, i) => (i % (V + 1) === 0 ? s : 0));
      const model = rt.seq2seq({ srcFeatures: 1, tgtVocabSize: V, cell: 'rnn', embeddingDim: V, hiddenSize: V, startToken: 1, endToken: 2 });
      model.loadTorchStateDict({
        'init_h.0.weight': { data: new Float32Array(V), shape: [V, 1] },
        'init_h.0.bias': { data: new Float32Array(V), shape: [V] },
        'tgt_emb.weight': { data: eye(1), shape: [V, V] },
        'decoder.weight_ih_l0': { data: eye(3), shape: [V, V] },
        'decoder.weight_hh_l0': { data: new Float32Array(V * V), shape: [V, V] },
        'decoder.bias_ih_l0': { data: new Float32Array(V), shape: [V] },
        'decoder.bias_hh_l0': { data: new Float32Array(V), shape: [V] },
        'out.weight': { data: outW, shape: [V, V] },
        'out.bias': { data: new Float32Array(V), shape: [V] },
      });
      const src = [[0]];
      const [greedy] = await model.translate(src, { maxLength: 3 });
      const [beam] = await model.beamSearch(src, { beamWidth: 2, maxLength: 3 });
      expect(greedy).toEqual([3, 3, 3]);
      expect(beam[0].tokens).toEqual([4]);
      expect(beam[0].ended).toBe(true);
      const greedyScore = await sequenceLogProb(model, src[0], greedy, false);
      const beamScore = await sequenceLogProb(model, src[0], beam[0].tokens, true);
      console.log(`beam vs greedy ${backend}: greedy ${JSON.stringify(greedy)} log p ${greedyScore.toFixed(4)}, beam ${JSON.stringify(beam[0].tokens)}+end log p ${beamScore.toFixed(4)}`);
      // the rows are renormalised by the softmax (they sum to 1 + 2·eps or so)
      const logp = (prev: number, next: number) => Math.log(table[prev][next] / table[prev].reduce((a, b) => a + b, 0));
      expect(greedyScore).toBeCloseTo(logp(1, 3) + 2 * logp(3, 3), 5);
      expect(beamScore).toBeCloseTo(logp(1, 4) + logp(4, 2), 5);
      expect(beamScore).toBeGreaterThan(greedyScore);
      expect(beam[0].logProb).toBeCloseTo(beamScore, 4);
      // GNMT length penalty: the score is logProb / ((5 + n) / 6)^α, n = 2 (B and end)
      const [lp] = await model.beamSearch(src, { beamWidth: 2, maxLength: 3, lengthPenalty: 1 });
      expect(lp[0].score).toBeCloseTo(lp[0].logProb / (7 / 6), 10);
      model.dispose();
      expect(rt.memory()).toEqual(before);
    });
  }
});

// ---------------------------------------------------------------------------
// One-to-many from a vector through the initial state: a class id (one-hot over
// 4 classes) sets the decoder's initial state through a Dense (tanh), then the
// decoder generates that class's fixed sequence (until the end token).
describe('one-to-many through the initial state (vector source)', () => {
  const SEQS = [
    [3, 4, 5, 3, 4, 5],
    [5, 4, 3],
    [3, 3, 6, 6, 4],
    [6, 5, 6, 5, 3, 3, 4],
  ];
  const classes = SEQS.map((_, c) => Array.from({ length: 4 }, (_, k) => (k === c ? 1 : 0)));
  for (const backend of ['cpu', 'webgpu'] as const) {
    it(`on ${backend}: each class id → its sequence, greedy and beam, 100 % exact`, async () => {
      const rt = runtimes[backend];
      const before = rt.memory();
      const model = rt.seq2seq({ srcFeatures: 4, tgtVocabSize: 7, cell: 'lstm', numLayers: 2, embeddingDim: 8, hiddenSize: 16, startToken: 1, endToken: 2, seed: 2 });
      const opt = new Adam(model.parameters(), { lr: 0.03 });
      const hist = await model.fit({ src: classes, tgt: SEQS }, { optimizer: opt, epochs: 60, batchSize: 4 });
      const greedy = await model.translate(classes, { maxLength: 10 });
      const beam = await model.beamSearch(classes, { beamWidth: 2, maxLength: 10 });
      console.log(`one-to-many (initial state) ${backend}: loss ${hist.history.loss[0].toFixed(3)} → ${hist.history.loss.at(-1)!.toFixed(4)}; greedy ${JSON.stringify(greedy)}`);
      expect(greedy).toEqual(SEQS);
      expect(beam.map((h) => h[0].tokens)).toEqual(SEQS);
      opt.dispose();
      model.dispose();
      expect(rt.memory()).toEqual(before);
    });
  }
});

// ---------------------------------------------------------------------------
describe('Seq2Seq errors', () => {
  it('typed errors name the argument; failed calls change nothing and leave no buffer', async () => {
    for (const rt of [runtimes.webgpu, runtimes.cpu]) {
      const before = rt.memory();
      const base = { srcVocabSize: 5, tgtVocabSize: 6, embeddingDim: 3, hiddenSize: 4, startToken: 1, endToken: 2 };
      expect(() => rt.seq2seq({ ...base, srcFeatures: 3 })).toThrow(/exactly one/);
      expect(() => rt.seq2seq({ ...base, srcVocabSize: undefined })).toThrow(ValueError);
      expect(() => rt.seq2seq({ ...base, startToken: 6 })).toThrow(/startToken/);
      expect(() => rt.seq2seq({ ...base, endToken: 1.5 })).toThrow(/endToken/);
      expect(() => rt.seq2seq({ ...base, attention: true, encoderHiddenSize: 3 })).toThrow(ShapeError);
      expect(() => rt.seq2seq({ ...base, cell: 'xlstm' as never })).toThrow(/cell/);
      expect(() => rt.seq2seq({ ...base, bidirectional: true, mergeStates: 'mean' as never })).toThrow(/mergeStates must be 'concat' or 'sum', got 'mean'/);
      expect(() => rt.seq2seq({ ...base, mergeStates: 'sum' })).toThrow(/mergeStates applies to a bidirectional encoder/);
      expect(() => rt.seq2seq({ srcFeatures: 3, tgtVocabSize: 6, embeddingDim: 3, hiddenSize: 4, startToken: 1, endToken: 2, attention: true })).toThrow(/vector source/);
      const model = rt.seq2seq({ ...base, attention: true });
      expect(() => model.prepare([[1, 5]], [[3]])).toThrow(/src\[0\]\[1\] = 5/);
      expect(() => model.prepare([[]], [[3]])).toThrow(/empty/);
      expect(() => model.prepare([[1]], [[3], [4]])).toThrow(ShapeError);
      expect(() => model.prepare([[1]], [[6]])).toThrow(/tgt\[0\]\[0\] = 6/);
      await expect(model.translate([[1]], { maxLength: 0 })).rejects.toThrow(/maxLength/);
      await expect(model.beamSearch([[1]], { beamWidth: 0 })).rejects.toThrow(/beamWidth/);
      await expect(model.beamSearch([[1]], { beamWidth: 7 })).rejects.toThrow(/beamWidth/);
      await expect(model.beamSearch([[1]], { lengthPenalty: -1 })).rejects.toThrow(/lengthPenalty/);
      const opt = new Adam(model.parameters(), { lr: 0.01 });
      // a bad last sample fails fit before any batch
      const w0 = JSON.stringify(Array.from((await model.exportWeights('torch'))['out.weight'].data));
      await expect(model.fit({ src: [[1], [2], [9]], tgt: [[3], [4], [5]] }, { optimizer: opt, batchSize: 1 })).rejects.toThrow(/src\[2\]/);
      expect(JSON.stringify(Array.from((await model.exportWeights('torch'))['out.weight'].data))).toBe(w0);
      await expect(model.fit({ src: [[1]], tgt: [[3]] }, {} as never)).rejects.toThrow(/optimizer/);
      // backward: wrong gradient shape, then a used tape
      const batch = model.prepare([[1, 2], [3]], [[3, 4], [5]]);
      const { output, tape } = await model.record(batch);
      const wrong = rt.tensor(new Float32Array(2 * 3 * 5), [2, 3, 5]);
      await expect(model.backward(tape, wrong)).rejects.toThrow(ShapeError);
      const { loss, grad } = await softmaxCrossEntropy(rt, output, batch.labels);
      await model.backward(tape, grad);
      await expect(model.backward(tape, grad)).rejects.toThrow(/already used/);
      for (const t of [output, wrong, loss, grad]) t.dispose();
      expect(() => model.loadTorchStateDict({})).toThrow(/missing|expected/i);
      opt.dispose();
      model.dispose();
      await expect(model.translate([[1]])).rejects.toThrow(/disposed/);
      expect(rt.memory()).toEqual(before);
    }
  });
});
