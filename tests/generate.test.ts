// Generation (issue 11): Sequential.generate / generateStream on both backends.
//  - greedy tokens equal a reference computed by hand with model.predict over the
//    growing sequence (the whole prefix again every step), for a one-layer LSTM
//    model and a deeper one (2-layer GRU, Dense between, SimpleRNN with
//    returnSequences: false, two Dense after it); the GPU's greedy tokens equal
//    the CPU's;
//  - sampling: the same seed gives the same tokens, topK = 1 and a tiny topP give
//    the greedy ones, and the sampler itself (fixed logits) keeps to topK / topP
//    and draws in proportion to the probabilities;
//  - stopTokens (the stop token ends its row's result), batched prompts of
//    different lengths equal generating each alone, onToken and generateStream
//    stream the steps in order and can end early, one readback per step;
//  - every refused option, id or model is a typed error, and no call (finished,
//    ended early, or failed) leaves a GPU buffer behind;
//  - the character LSTM of tests/learning.test.ts completes 'good' → 'good i am fine'.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Adam, DisposedError, ShapeError, ValueError, type Runtime, type Sequential } from '../src/index';
import { sampleToken } from '../src/models/generate';
import { Rng } from '../src/weights/random';
import { cpuRuntime, gpuRuntime, wasmRuntime } from './helpers/runtimes';
import { charData } from './parity/loss_curve_cases';

const runtimes: Record<string, Runtime> = {};
beforeAll(async () => {
  runtimes.webgpu = await gpuRuntime();
  runtimes.cpu = await cpuRuntime();
  runtimes.wasm = await wasmRuntime();
});
afterAll(() => runtimes.webgpu.dispose());

const V = 7;

/** Embedding → LSTM → Dense, with weights scaled up so greedy decoding wanders instead of settling at once. */
function lstmModel(rt: Runtime): Sequential {
  const emb = rt.embedding({ vocabSize: V, dim: 4, seed: 51 });
  const lstm = rt.lstm({ inputSize: 4, hiddenSize: 6, returnSequences: true, seed: 52 });
  const head = rt.dense({ inputSize: 6, units: V, seed: 53 });
  scale(emb, 6);
  scale(lstm, 2);
  scale(head, 6);
  return rt.sequential([emb, lstm, head]);
}

/** Embedding → GRU (2 layers) → Dense tanh → SimpleRNN (last step only) → Dense relu → Dense (logits). */
function deepModel(rt: Runtime): Sequential {
  const layers = [
    rt.embedding({ vocabSize: V, dim: 3, seed: 41 }),
    rt.gru({ inputSize: 3, hiddenSize: 5, numLayers: 2, returnSequences: true, seed: 42 }),
    rt.dense({ inputSize: 5, units: 4, activation: 'tanh', seed: 43 }),
    rt.simpleRNN({ inputSize: 4, hiddenSize: 5, returnSequences: false, seed: 44 }),
    rt.dense({ inputSize: 5, units: 6, activation: 'relu', seed: 45 }),
    rt.dense({ inputSize: 6, units: V, seed: 46 }),
  ];
  for (const l of layers) scale(l, 2);
  return rt.sequential(layers);
}

/** Multiplies every weight of a layer by f (through its PyTorch state dict). */
function scale(layer: { torchStateDict(): Record<string, { data: Float32Array; shape: number[] }>; loadTorchStateDict(sd: never): void }, f: number): void {
  const sd = layer.torchStateDict();
  for (const k of Object.keys(sd)) sd[k] = { data: sd[k].data.map((v) => v * f), shape: sd[k].shape };
  layer.loadTorchStateDict(sd as never);
}

/** First index of the largest value. */
function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

/** Greedy decoding by hand: the whole growing sequence through model.predict each step, the last step's logits. */
async function greedyByPredict(model: Sequential, prompt: number[], n: number, stop: number[] = []): Promise<number[]> {
  const seq = [...prompt];
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const y = await model.predict(seq, { batch: 1, seqLen: seq.length });
    const v = await y.read();
    y.dispose();
    const t = argmax(v.subarray(v.length - V));
    out.push(t);
    seq.push(t);
    if (stop.includes(t)) break;
  }
  return out;
}

const makers = { lstm: lstmModel, deep: deepModel };
const PROMPTS = [[1, 4, 2], [3], [6, 0, 5, 5, 2]];

for (const backend of ['webgpu', 'cpu', 'wasm'] as const) {
  describe(`generate on ${backend}`, () => {
    for (const [name, make] of Object.entries(makers)) {
      it(`${name} model: greedy tokens equal predict over the growing sequence, step by step`, async () => {
        const rt = runtimes[backend];
        const model = make(rt);
        const before = rt.memory();
        for (const prompt of PROMPTS) {
          const want = await greedyByPredict(model, prompt, 8);
          const got = await model.generate(prompt, { maxNewTokens: 8 });
          expect(got, `prompt [${prompt}]`).toEqual(want);
          expect(await model.generate(Int32Array.from(prompt), { maxNewTokens: 8, temperature: 0 })).toEqual(want);
        }
        console.log(`${backend} ${name}: greedy from [${PROMPTS[0]}] → [${await model.generate(PROMPTS[0], { maxNewTokens: 8 })}]`);
        expect(rt.memory()).toEqual(before);
        model.dispose();
      });

      it(`${name} model: batched prompts of different lengths equal each alone (greedy, and sampling with seed + b)`, async () => {
        const rt = runtimes[backend];
        const model = make(rt);
        const before = rt.memory();
        const alone = [];
        for (const p of PROMPTS) alone.push(await model.generate(p, { maxNewTokens: 6 }));
        expect(await model.generate(PROMPTS, { maxNewTokens: 6 })).toEqual(alone);
        // sampling: prompt b of the batch draws from seed + b
        const sampled = { maxNewTokens: 6, temperature: 1.5, topK: 5 };
        const aloneS = [];
        for (const [b, p] of PROMPTS.entries()) aloneS.push(await model.generate(p, { ...sampled, seed: 40 + b }));
        expect(await model.generate(PROMPTS, { ...sampled, seed: 40 })).toEqual(aloneS);
        expect(rt.memory()).toEqual(before);
        model.dispose();
      });
    }

    it('sampling: the same seed gives the same tokens, seeds differ; topK = 1 and a tiny topP are greedy', async () => {
      const rt = runtimes[backend];
      const model = lstmModel(rt);
      const greedy = await model.generate([1, 2], { maxNewTokens: 10 });
      const hot = { maxNewTokens: 10, temperature: 2 };
      const a = await model.generate([1, 2], { ...hot, seed: 7 });
      expect(await model.generate([1, 2], { ...hot, seed: 7 })).toEqual(a);
      const others = [];
      for (const seed of [1, 2, 3]) others.push(await model.generate([1, 2], { ...hot, seed }));
      expect(others.some((o) => o.join() !== a.join())).toBe(true);
      expect(await model.generate([1, 2], { ...hot, topK: 1, seed: 3 })).toEqual(greedy);
      expect(await model.generate([1, 2], { ...hot, topP: 1e-9, seed: 3 })).toEqual(greedy);
      console.log(`${backend} sampling at temperature 2, seed 7: [${a}]; greedy [${greedy}]`);
      model.dispose();
    });

    it('stopTokens end a row with the stop token; the batch ends when every row has stopped', async () => {
      const rt = runtimes[backend];
      const model = lstmModel(rt);
      const before = rt.memory();
      const full = await model.generate(PROMPTS[0], { maxNewTokens: 10 });
      const stop = full[3];
      const cut = full.slice(0, full.indexOf(stop) + 1);
      expect(await model.generate(PROMPTS[0], { maxNewTokens: 10, stopTokens: [stop] })).toEqual(cut);
      expect(await greedyByPredict(model, PROMPTS[0], 10, [stop])).toEqual(cut);
      // a batch: each row stops at its own first stop token (or runs to maxNewTokens)
      const rows = [];
      for (const p of PROMPTS) {
        const g = await model.generate(p, { maxNewTokens: 10 });
        rows.push(g.includes(stop) ? g.slice(0, g.indexOf(stop) + 1) : g);
      }
      const steps: (number | null)[][] = [];
      const batch = await model.generate(PROMPTS, { maxNewTokens: 10, stopTokens: [stop], onToken: (t) => void steps.push([...t]) });
      expect(batch).toEqual(rows);
      expect(steps.length).toBe(Math.max(...rows.map((r) => (r.at(-1) === stop ? r.length : 10))));
      for (const [b, r] of rows.entries()) expect(steps.map((s) => s[b]).filter((t) => t !== null)).toEqual(r); // null once stopped
      expect(rt.memory()).toEqual(before);
      model.dispose();
    });

    it('onToken streams the steps in order (awaited) and can end early; generateStream yields the same', async () => {
      const rt = runtimes[backend];
      const model = deepModel(rt);
      const before = rt.memory();
      const want = await model.generate(PROMPTS[2], { maxNewTokens: 7, temperature: 1, seed: 5 });
      const seen: [number, number][] = [];
      const got = await model.generate(PROMPTS[2], {
        maxNewTokens: 7,
        temperature: 1,
        seed: 5,
        onToken: async (t, i) => {
          await new Promise((r) => setTimeout(r, 1));
          seen.push([i, t]);
        },
      });
      expect(got).toEqual(want);
      expect(seen).toEqual(want.map((t, i) => [i, t]));
      // returning false ends after that step
      expect(await model.generate(PROMPTS[2], { maxNewTokens: 7, temperature: 1, seed: 5, onToken: (_, i) => i < 2 })).toEqual(want.slice(0, 3));
      // the async iterator
      const streamed: number[] = [];
      for await (const t of model.generateStream(PROMPTS[2], { maxNewTokens: 7, temperature: 1, seed: 5 })) streamed.push(t);
      expect(streamed).toEqual(want);
      const early: number[] = [];
      for await (const t of model.generateStream(PROMPTS[2], { maxNewTokens: 7, temperature: 1, seed: 5 })) {
        early.push(t);
        if (early.length === 2) break; // frees the states
      }
      expect(early).toEqual(want.slice(0, 2));
      const rows: (number | null)[][] = [];
      for await (const s of model.generateStream([PROMPTS[0], PROMPTS[1]], { maxNewTokens: 3 })) rows.push(s);
      expect(rows.length).toBe(3);
      expect(rows.map((s) => s[1])).toEqual(await model.generate(PROMPTS[1], { maxNewTokens: 3 }));
      // a throwing onToken ends generation with its error, and frees everything
      await expect(model.generate(PROMPTS[2], { maxNewTokens: 7, onToken: () => Promise.reject(new Error('boom')) })).rejects.toThrow('boom');
      expect(rt.memory()).toEqual(before);
      model.dispose();
      // a pass that fails halfway (the model disposed under it) frees the states too
      const empty = rt.memory();
      const doomed = deepModel(rt);
      await expect(doomed.generate(PROMPTS, { maxNewTokens: 5, onToken: () => doomed.dispose() })).rejects.toThrow(DisposedError);
      expect(rt.memory()).toEqual(empty);
    });

    it('refuses bad options, ids and models with typed errors naming them, and allocates nothing', async () => {
      const rt = runtimes[backend];
      const model = lstmModel(rt);
      const before = rt.memory();
      const refuse = async (f: () => Promise<unknown>, err: new (...a: never[]) => Error, msg: RegExp) => {
        await expect(f()).rejects.toThrow(err);
        await expect(f()).rejects.toThrow(msg);
      };
      const g = (p: unknown, o: unknown) => () => model.generate(p as number[], o as { maxNewTokens: number });
      await refuse(g([1], undefined), ValueError, /maxNewTokens/);
      await refuse(g([1], {}), ValueError, /maxNewTokens must be an integer in \[1, 100000\], got none/);
      for (const n of [0, -1, 2.5, NaN, Infinity, 1e9, '3']) await refuse(g([1], { maxNewTokens: n }), ValueError, /maxNewTokens/);
      for (const t of [-0.1, NaN, Infinity, '1']) await refuse(g([1], { maxNewTokens: 2, temperature: t }), ValueError, /temperature/);
      for (const k of [-1, 1.5, NaN]) await refuse(g([1], { maxNewTokens: 2, temperature: 1, topK: k }), ValueError, /topK/);
      for (const p of [0, -0.5, 1.01, NaN]) await refuse(g([1], { maxNewTokens: 2, temperature: 1, topP: p }), ValueError, /topP/);
      for (const s of [1.5, NaN, 2 ** 60]) await refuse(g([1], { maxNewTokens: 2, seed: s }), ValueError, /seed/);
      await refuse(g([1], { maxNewTokens: 2, stopTokens: [V] }), ValueError, /stopTokens\[0\] = 7 is not a token id/);
      await refuse(g([1], { maxNewTokens: 2, stopTokens: 3 }), ValueError, /stopTokens must be an array/);
      await refuse(g([1], { maxNewTokens: 2, onToken: 'x' }), ValueError, /onToken must be a function/);
      await refuse(g([1], { maxNewTokens: 2, maxTokens: 3 }), ValueError, /unknown option 'maxTokens'/);
      await refuse(g([1], null), ValueError, /options must be an object/);
      // prompts
      await refuse(g([], { maxNewTokens: 2 }), ValueError, /prompt is empty/);
      await refuse(g([1, V], { maxNewTokens: 2 }), ValueError, /prompt\[1\] = 7 is not a token id; ids must be integers in \[0, vocabSize\) = \[0, 7\)/);
      await refuse(g([1, -1], { maxNewTokens: 2 }), ValueError, /prompt\[1\] = -1/);
      await refuse(g([0.5], { maxNewTokens: 2 }), ValueError, /prompt\[0\] = 0.5/);
      await refuse(g('abc', { maxNewTokens: 2 }), ValueError, /prompt must be an array of numbers/);
      await refuse(g(null, { maxNewTokens: 2 }), ValueError, /prompt must be an array of numbers/);
      await refuse(g([[1], []], { maxNewTokens: 2 }), ValueError, /prompts\[1\] is empty/);
      await refuse(g([[1], [2, 9]], { maxNewTokens: 2 }), ValueError, /prompts\[1\]\[1\] = 9/);
      expect(() => model.generateStream([1], { maxNewTokens: 0 })).toThrow(/maxNewTokens/); // at once, before iterating
      expect(() => model.generateStream([1], { maxNewTokens: 2, onToken: () => {} } as never)).toThrow(/onToken is for generate/);
      expect(rt.memory()).toEqual(before);
      // models that do not end in logits of the vocabulary
      const emb = () => rt.embedding({ vocabSize: V, dim: 4 });
      const lstm = (o = {}) => rt.lstm({ inputSize: 4, hiddenSize: 6, returnSequences: true, ...o });
      const bad: [string, Sequential, new (...a: never[]) => Error, RegExp][] = [
        ['softmax', rt.sequential([emb(), lstm(), rt.dense({ inputSize: 6, units: V }), rt.softmax()]), ValueError, /layer 3 is a Softmax; the model must end in logits/],
        ['sigmoid', rt.sequential([emb(), lstm(), rt.dense({ inputSize: 6, units: V, activation: 'sigmoid' })]), ValueError, /activation 'sigmoid'/],
        ['no head', rt.sequential([emb(), lstm()]), ValueError, /ends in a LSTM, not in a Dense/],
        ['no embedding', rt.sequential([rt.lstm({ inputSize: 4, hiddenSize: 6 }), rt.dense({ inputSize: 6, units: V })]), ValueError, /first layer is a LSTM, not an Embedding/],
        ['no recurrent', rt.sequential([emb(), rt.dense({ inputSize: 4, units: V })]), ValueError, /no recurrent layer/],
        ['bidirectional', rt.sequential([emb(), lstm({ bidirectional: true }), rt.dense({ inputSize: 12, units: V })]), ValueError, /bidirectional/],
        ['units', rt.sequential([emb(), lstm(), rt.dense({ inputSize: 6, units: V + 1 })]), ShapeError, /gives 8 logits, but the Embedding has vocabSize 7/],
      ];
      for (const [what, m, err, msg] of bad) {
        await expect(m.generate([1], { maxNewTokens: 2 }), what).rejects.toThrow(err);
        await expect(m.generate([1], { maxNewTokens: 2 }), what).rejects.toThrow(msg);
        m.dispose();
      }
      model.dispose();
    });
  });
}

describe('generate across backends', () => {
  it('greedy tokens on the GPU equal those on the CPU (same weights), for single and batched prompts', async () => {
    for (const make of Object.values(makers)) {
      const gpu = make(runtimes.webgpu);
      const cpu = make(runtimes.cpu);
      const g = await gpu.generate(PROMPTS, { maxNewTokens: 12 });
      expect(g).toEqual(await cpu.generate(PROMPTS, { maxNewTokens: 12 }));
      expect(await gpu.generate(PROMPTS[2], { maxNewTokens: 12 })).toEqual(g[2]);
      gpu.dispose();
      cpu.dispose();
    }
  });

  it('reads back one (B, V) block of logits per step and nothing else on the GPU', async () => {
    const rt = runtimes.webgpu;
    const model = deepModel(rt);
    const s0 = rt.stats().readbacks;
    await model.generate(PROMPTS, { maxNewTokens: 5 });
    expect(rt.stats().readbacks - s0).toBe(5);
    model.dispose();
  });
});

describe('sampleToken (fixed logits)', () => {
  // probabilities 0.5, 0.3, 0.15, 0.05 at temperature 1, in a shuffled id order
  const p = [0.15, 0.5, 0.05, 0.3];
  const logits = p.map(Math.log);
  const draw = (o: { temperature: number; topK: number; topP: number }, n = 4000) => {
    const rng = new Rng(1);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) counts[sampleToken(logits, o, rng)]++;
    return counts.map((c) => c / n);
  };

  it('greedy takes the first of equal maxima', () => {
    expect(sampleToken([0, 3, 1, 3], { temperature: 0, topK: 0, topP: 1 }, new Rng(0))).toBe(1);
    expect(sampleToken([2, 3, 1, 3], { temperature: 1, topK: 1, topP: 1 }, new Rng(0))).toBe(1); // topK 1: the same one
  });

  it('draws in proportion to softmax(logits / temperature)', () => {
    const f = draw({ temperature: 1, topK: 0, topP: 1 });
    f.forEach((v, i) => expect(Math.abs(v - p[i]), `id ${i}`).toBeLessThan(0.03));
    // temperature 0.5 squares the probabilities (renormalised)
    const q = p.map((v) => v * v);
    const s = q.reduce((a, b) => a + b);
    draw({ temperature: 0.5, topK: 0, topP: 1 }).forEach((v, i) => expect(Math.abs(v - q[i] / s), `id ${i}`).toBeLessThan(0.03));
  });

  it('topK keeps the k likeliest; topP the shortest prefix reaching topP', () => {
    const k2 = draw({ temperature: 1, topK: 2, topP: 1 });
    expect(k2[0]).toBe(0);
    expect(k2[2]).toBe(0);
    expect(Math.abs(k2[1] - 0.5 / 0.8)).toBeLessThan(0.03);
    // topP 0.7: 0.5 < 0.7 ≤ 0.5 + 0.3, so ids 1 and 3
    const p7 = draw({ temperature: 1, topK: 0, topP: 0.7 });
    expect(p7[0] + p7[2]).toBe(0);
    expect(Math.abs(p7[1] - 0.5 / 0.8)).toBeLessThan(0.03);
    // 0.79 is reached by the first two; 0.81 needs the third
    expect(draw({ temperature: 1, topK: 0, topP: 0.79 })[0]).toBe(0);
    expect(draw({ temperature: 1, topK: 0, topP: 0.81 })[0]).toBeGreaterThan(0.1);
    expect(draw({ temperature: 1, topK: 0, topP: 0.81 })[2]).toBe(0);
    // both: topK first, then topP within it
    expect(draw({ temperature: 1, topK: 1, topP: 0.9 })).toEqual([0, 1, 0, 0]);
    // a tiny temperature does not overflow: only the max remains
    expect(draw({ temperature: 1e-300, topK: 0, topP: 1 }, 50)).toEqual([0, 1, 0, 0]);
  });
});

for (const backend of ['webgpu', 'cpu', 'wasm'] as const) {
  it(`${backend}: the character LSTM of the training section completes 'good' → 'good i am fine' through generate`, async () => {
    const rt = runtimes[backend];
    const d = charData();
    const model = rt.sequential([
      rt.embedding({ vocabSize: d.chars.length, dim: 12, seed: 1 }),
      rt.lstm({ inputSize: 12, hiddenSize: 32, returnSequences: true, seed: 2 }),
      rt.dense({ inputSize: 32, units: d.chars.length, seed: 3 }),
    ]);
    const opt = new Adam(model.parameters(), { lr: 0.02 });
    await model.fit({ x: d.x, y: d.y, seqLen: d.seqLen }, { loss: 'softmaxCrossEntropy', optimizer: opt, epochs: 150, batchSize: 3 });
    const before = rt.memory();
    const ids = await model.generate([...'good'].map((c) => d.chars.indexOf(c)), { maxNewTokens: 'good i am fine'.length - 4 });
    const text = 'good' + ids.map((i) => d.chars[i]).join('');
    console.log(`${backend} generate: '${text}'`);
    expect(text).toBe('good i am fine');
    expect(rt.memory()).toEqual(before);
    opt.dispose();
    model.dispose();
  });
}
