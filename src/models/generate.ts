// Generation (one-to-many from a prompt) for a Sequential that ends in logits:
// Embedding → recurrent layers (Dense layers may sit between them) → Dense
// layers, the last one giving V logits with V = the embedding's vocabSize.
//
// Data path, per call:
//   1. the prompt pass: all B prompts at once, right-padded to T = the longest,
//      in one forward pass with `lengths` (PyTorch packed semantics), so each
//      row's recurrent state is the one at its own last prompt token;
//   2. the features of that step, the top recurrent layer's final h (B, H), go
//      through the Dense layers after it: logits (B, V);
//   3. one readback of the logits (one row of V per sequence), a token per row
//      chosen on the CPU (greedy, or temperature / top-k / top-p sampling);
//   4. the chosen tokens go through the whole stack as one step (B, 1), from the
//      states of the previous pass (h0/c0 tensors that never leave the backend),
//      and the loop continues at 3.
// Every tensor made here is freed when the call ends, returns early or fails.
import type { Backend } from '../backend';
import { ShapeError, ValueError } from '../errors';
import { Dense } from '../layers/dense';
import { Embedding } from '../layers/embedding';
import { Recurrent } from '../layers/recurrent';
import { Tensor } from '../tensor';
import { assertNumbers, checkOptions, describe } from '../validate';
import { Rng } from '../weights/random';
import type { Layer } from './types';

/** The most tokens one call generates per sequence (a bound against typos such as 1e9). */
export const MAX_NEW_TOKENS = 100_000;

/**
 * Options of Sequential.generate() and generateStream(). `Step` is what a step
 * delivers: a token id (number) for one prompt; for a batch of prompts, one entry
 * per prompt, null for a prompt that already stopped.
 */
export interface GenerateOptions<Step = number | (number | null)[]> {
  /** Tokens to generate per prompt (a positive integer ≤ 100 000); fewer if a stop token comes. */
  maxNewTokens: number;
  /**
   * 0 (default): greedy, the likeliest token (the first of equal maxima), topK and
   * topP unused. > 0: sampling from softmax(logits / temperature).
   */
  temperature?: number;
  /** Sample only among the k likeliest tokens (ties by lower id). 0 or absent: all V. */
  topK?: number;
  /** Nucleus sampling: only the likeliest tokens whose probabilities sum to ≥ topP, in (0, 1]. Default 1 (all). */
  topP?: number;
  /**
   * Seed of the sampling (a safe integer, default 0): the same seed gives the same
   * tokens. Prompt b of a batch draws from its own generator seeded with seed + b,
   * so it samples as it would alone with seed + b.
   */
  seed?: number;
  /**
   * Token ids that end a sequence: a prompt stops once it emits one, and the stop
   * token is the last id of its result (so a caller can tell a stop from the
   * maxNewTokens limit). The call ends when every prompt has stopped.
   */
  stopTokens?: ArrayLike<number>;
  /**
   * Called after every step, in order, with the new token(s) and the step index
   * (0-based); awaited if it returns a promise. Returning false ends generation
   * after this step (the result holds the tokens so far). generate() only:
   * generateStream() yields the steps instead.
   */
  onToken?: (step: Step, index: number) => void | boolean | Promise<void | boolean>;
}

/** What the recurrent layers hand from one pass to the next, in layer order. */
type States = { h: Tensor; c: Tensor | null }[];

/** The model, read once: where its recurrent part ends and what the head is. */
interface Plan {
  backend: Backend;
  embedding: Embedding;
  /** Layers 1..last recurrent (Recurrent or Dense), run on the whole sequence. */
  body: (Recurrent | Dense)[];
  /** The last recurrent layer, whose top state feeds the head. */
  top: Recurrent;
  /** The Dense layers after it, run on the features of the last valid step (B, H). */
  head: Dense[];
  vocabSize: number;
}

/** Validated inputs of one call. */
interface Request {
  prompts: Int32Array[];
  /** Whether the caller passed one prompt (results and steps are then unwrapped). */
  single: boolean;
  maxNewTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
  stop: Set<number>;
}

const OPTION_KEYS = ['maxNewTokens', 'temperature', 'topK', 'topP', 'seed', 'stopTokens', 'onToken'];

/**
 * generate(): the generated ids per prompt (prompt excluded). One prompt → number[];
 * an array of prompts → number[][] in prompt order.
 */
export async function generate(backend: Backend, layers: readonly Layer[], prompt: unknown, options: GenerateOptions): Promise<number[] | number[][]> {
  const op = 'Sequential.generate';
  const plan = planOf(op, backend, layers);
  const req = checkRequest(op, plan, prompt, options);
  const onToken = options.onToken;
  if (onToken !== undefined && typeof onToken !== 'function') throw new ValueError(`${op}: onToken must be a function, got ${describe(onToken)}.`);
  const out: number[][] = req.prompts.map(() => []);
  let index = 0;
  for await (const tokens of steps(plan, req)) {
    tokens.forEach((t, b) => t !== null && out[b].push(t));
    if (onToken) {
      const go = await onToken(req.single ? tokens[0]! : tokens, index);
      if (go === false) break;
    }
    index++;
  }
  return req.single ? out[0] : out;
}

/**
 * generateStream(): the steps as an async iterable: a token id per step for one
 * prompt, an array (null for stopped prompts) for a batch. Breaking out of the
 * loop ends generation and frees everything. Options are checked at once.
 */
export function generateStream(backend: Backend, layers: readonly Layer[], prompt: unknown, options: Omit<GenerateOptions, 'onToken'>): AsyncIterable<number | (number | null)[]> {
  const op = 'Sequential.generateStream';
  const plan = planOf(op, backend, layers);
  const req = checkRequest(op, plan, prompt, options);
  if ((options as GenerateOptions).onToken !== undefined) throw new ValueError(`${op}: onToken is for generate(); generateStream() yields the tokens. Hint: for await (const t of model.generateStream(...)).`);
  return {
    [Symbol.asyncIterator]: () => {
      const it = steps(plan, req);
      return {
        next: async () => {
          const r = await it.next();
          return r.done ? { done: true, value: undefined } : { done: false, value: req.single ? r.value[0]! : r.value };
        },
        return: async () => {
          await it.return(undefined);
          return { done: true, value: undefined };
        },
      };
    },
  };
}

/** The model's structure for generation, or a ValueError saying what does not fit. */
function planOf(op: string, backend: Backend, layers: readonly Layer[]): Plan {
  const first = layers[0];
  const hint = 'generation needs Embedding → recurrent layers → Dense (logits), e.g. rt.sequential([rt.embedding(...), rt.lstm({ ..., returnSequences: true }), rt.dense({ ..., units: vocabSize })]).';
  if (!(first instanceof Embedding)) throw new ValueError(`${op}: the model's first layer is a ${first.kind}, not an Embedding; generation feeds token ids back in. Hint: ${hint}`);
  let last = -1;
  layers.forEach((l, i) => {
    if (l instanceof Recurrent) last = i;
  });
  if (last < 0) throw new ValueError(`${op}: the model has no recurrent layer. Hint: ${hint}`);
  const body: (Recurrent | Dense)[] = [];
  const head: Dense[] = [];
  layers.forEach((l, i) => {
    if (i === 0) return;
    if (l instanceof Embedding) throw new ValueError(`${op}: layer ${i} is a second Embedding.`); // the Sequential refuses this already
    if (!(l instanceof Recurrent || l instanceof Dense)) {
      throw new ValueError(`${op}: layer ${i} is a ${l.kind}; the model must end in logits (a Dense without activation), and generation samples from them itself. Hint: drop the ${l.kind} layer (it is not needed for generation).`);
    }
    if (l instanceof Recurrent && l.config.bidirectional) {
      throw new ValueError(`${op}: layer ${i} (${l.kind}) is bidirectional; its reverse direction needs the whole sequence, so it cannot generate one token at a time.`);
    }
    (i <= last ? body : head).push(l);
  });
  const logits = head.at(-1);
  if (!logits) throw new ValueError(`${op}: the model ends in a ${layers[last].kind}, not in a Dense giving the logits. Hint: ${hint}`);
  if (logits.activation !== 'none') {
    throw new ValueError(`${op}: the last Dense has activation '${logits.activation}'; generation needs logits (activation 'none'). Hint: ${hint}`);
  }
  if (logits.units !== first.vocabSize) {
    throw new ShapeError(`${op}: the last Dense gives ${logits.units} logits, but the Embedding has vocabSize ${first.vocabSize}; the sampled ids feed the Embedding, so they must be equal.`);
  }
  return { backend, embedding: first, body, top: layers[last] as Recurrent, head, vocabSize: first.vocabSize };
}

/** Checks the prompt(s) and options before anything runs. */
function checkRequest(op: string, plan: Plan, prompt: unknown, options: Omit<GenerateOptions, 'onToken'>): Request {
  const V = plan.vocabSize;
  if (options === undefined) throw new ValueError(`${op}: pass options with maxNewTokens, e.g. { maxNewTokens: 20 }.`);
  const o = checkOptions(op, 'options', options);
  for (const k of Object.keys(o)) {
    if (!OPTION_KEYS.includes(k)) throw new ValueError(`${op}: unknown option '${k}'; expected ${OPTION_KEYS.join(', ')}.`);
  }
  // the prompts
  const batch = Array.isArray(prompt) && prompt.length > 0 && prompt.every((p) => p !== null && typeof p === 'object');
  const list = batch ? (prompt as unknown[]) : [prompt];
  const prompts = list.map((p, b) => {
    const arg = batch ? `prompts[${b}]` : 'prompt';
    assertNumbers(op, arg, p);
    if (p.length === 0) throw new ValueError(`${op}: ${arg} is empty; generation continues a prompt of at least one token. Hint: start with a token such as a newline's or a start-of-text id.`);
    const ids = new Int32Array(p.length);
    for (let t = 0; t < p.length; t++) {
      const v = p[t];
      if (!Number.isInteger(v) || v < 0 || v >= V) throw new ValueError(`${op}: ${arg}[${t}] = ${v} is not a token id; ids must be integers in [0, vocabSize) = [0, ${V}).`);
      ids[t] = v;
    }
    return ids;
  });
  // the options
  const maxNewTokens = o.maxNewTokens;
  if (typeof maxNewTokens !== 'number' || !Number.isInteger(maxNewTokens) || maxNewTokens < 1 || maxNewTokens > MAX_NEW_TOKENS) {
    throw new ValueError(`${op}: maxNewTokens must be an integer in [1, ${MAX_NEW_TOKENS}], got ${maxNewTokens === undefined ? 'none' : String(maxNewTokens)}.`);
  }
  const temperature = o.temperature ?? 0;
  if (typeof temperature !== 'number' || !Number.isFinite(temperature) || temperature < 0) {
    throw new ValueError(`${op}: temperature must be a finite number ≥ 0 (0 = greedy), got ${String(temperature)}.`);
  }
  const topK = o.topK ?? 0;
  if (typeof topK !== 'number' || !Number.isInteger(topK) || topK < 0) throw new ValueError(`${op}: topK must be an integer ≥ 0 (0 = all tokens), got ${String(topK)}.`);
  const topP = o.topP ?? 1;
  if (typeof topP !== 'number' || !(topP > 0 && topP <= 1)) throw new ValueError(`${op}: topP must be a number in (0, 1] (1 = all tokens), got ${String(topP)}.`);
  const seed = o.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || !Number.isSafeInteger(seed + prompts.length)) {
    throw new ValueError(`${op}: seed must be a safe integer, got ${String(seed)}.`);
  }
  const stop = new Set<number>();
  if (o.stopTokens !== undefined) {
    assertNumbers(op, 'stopTokens', o.stopTokens);
    for (let i = 0; i < o.stopTokens.length; i++) {
      const v = o.stopTokens[i];
      if (!Number.isInteger(v) || v < 0 || v >= V) throw new ValueError(`${op}: stopTokens[${i}] = ${v} is not a token id; ids must be integers in [0, vocabSize) = [0, ${V}).`);
      stop.add(v);
    }
  }
  return { prompts, single: !batch, maxNewTokens, temperature, topK, topP, seed, stop };
}

/**
 * The generation loop: yields one entry per prompt and step (null once that
 * prompt has stopped). Frees every tensor when it ends, however it ends.
 */
async function* steps(plan: Plan, req: Request): AsyncGenerator<(number | null)[], void, undefined> {
  const B = req.prompts.length;
  const V = plan.vocabSize;
  const T = Math.max(...req.prompts.map((p) => p.length));
  const ids = new Int32Array(B * T); // (B, T), right-padded with id 0 (past each length, ignored)
  req.prompts.forEach((p, b) => ids.set(p, b * T));
  const ragged = req.prompts.some((p) => p.length !== T);
  const rngs = req.prompts.map((_, b) => new Rng(req.seed + b));
  const stopped = new Array<boolean>(B).fill(false);
  let states: States = [];
  let logits: Tensor | null = null;
  try {
    ({ logits, states } = await pass(plan, ids, B, T, ragged ? req.prompts.map((p) => p.length) : undefined, null));
    for (let step = 0; ; step++) {
      const values = await logits.read(); // (B, V): the one readback of this step
      logits.dispose();
      logits = null;
      const tokens = stopped.map((done, b) => {
        if (done) return null;
        const row = values.subarray(b * V, (b + 1) * V);
        const t = pickToken(row, req, rngs[b], `Sequential.generate: step ${step}, prompt ${b}`);
        if (req.stop.has(t)) stopped[b] = true;
        return t;
      });
      yield tokens;
      if (step + 1 >= req.maxNewTokens || stopped.every(Boolean)) return;
      // stopped rows keep running (B stays fixed) on token 0; their tokens are dropped
      const next = Int32Array.from(tokens, (t) => t ?? 0);
      const r = await pass(plan, next, B, 1, undefined, states);
      for (const s of states) freeState(s);
      ({ logits, states } = r);
    }
  } finally {
    logits?.dispose();
    for (const s of states) freeState(s);
  }
}

/**
 * One forward pass over ids (B, T) from `init` states (zeros when null): the
 * logits (B, V) of each row's last valid step, and every recurrent layer's final
 * states. The caller owns both; on failure everything made here is freed.
 */
async function pass(plan: Plan, ids: Int32Array, B: number, T: number, lengths: number[] | undefined, init: States | null): Promise<{ logits: Tensor; states: States }> {
  const states: States = [];
  let cur: Tensor | undefined; // the latest result, freed once the next layer has consumed it
  try {
    cur = await plan.embedding.forward(ids, [B, T]); // (B, T, D)
    for (const layer of plan.body) {
      let next: Tensor;
      if (layer instanceof Dense) next = await layer.forward(cur);
      else {
        const s = init?.[states.length];
        const res = await layer.forward(cur, { lengths, h0: s?.h, c0: s?.c ?? undefined });
        states.push({ h: res.h, c: res.c });
        next = res.output; // (B, T, H)
      }
      cur.dispose();
      cur = next;
    }
    // the features of each row's last valid step: (B, H)
    const H = plan.top.outputSize;
    if (T === 1) cur = cur.reshape([B, H]);
    else {
      const top = await topState(plan.backend, states[states.length - 1].h, plan.top.config.numLayers, B, H);
      cur.dispose();
      cur = top;
    }
    for (const d of plan.head) {
      const next = await d.forward(cur); // → (B, V) after the last
      cur.dispose();
      cur = next;
    }
    return { logits: cur, states };
  } catch (e) {
    cur?.dispose();
    for (const s of states) freeState(s);
    throw e;
  }
}

/** The top layer's rows (B, H) of final states h (L, B, H), as a tensor of their own (h stays the caller's). */
async function topState(backend: Backend, h: Tensor, L: number, B: number, H: number): Promise<Tensor> {
  const offset = (L - 1) * B * H;
  if (backend.kind === 'cpu') return Tensor.fromCpu(h.cpuData('generate').slice(offset, offset + B * H), [B, H]);
  const ctx = backend.ctx;
  const out = ctx.createStorage('generate.top_state', B * H);
  try {
    await ctx.submit('generate', (enc) => enc.copyBufferToBuffer(h.gpuBuffer('generate'), offset * 4, out, 0, B * H * 4));
  } catch (e) {
    ctx.destroyBuffer(out);
    throw e;
  }
  return Tensor.fromGpu(ctx, out, [B, H]);
}

function freeState(s: { h: Tensor; c: Tensor | null }): void {
  s.h.dispose();
  s.c?.dispose();
}

/** One token from one row of V logits, as the request says (greedy or sampled). */
function pickToken(logits: ArrayLike<number>, req: Request, rng: Rng, where: string): number {
  for (let i = 0; i < logits.length; i++) {
    if (!Number.isFinite(logits[i])) throw new ValueError(`${where}: logit ${i} is ${logits[i]}; the model's outputs are not finite (diverged weights?).`);
  }
  return sampleToken(logits, { temperature: req.temperature, topK: req.topK, topP: req.topP }, rng);
}

/**
 * @internal The choice of one token from finite logits (exported for the tests).
 *  - temperature 0: argmax, the lowest id among equal maxima;
 *  - else: the tokens ordered by logit (descending, ties by lower id), the first
 *    topK kept (0 = all), p = softmax(logit / temperature) over them, then the
 *    shortest prefix whose p sums to ≥ topP kept, and one drawn from it in
 *    proportion to p with one rng.next().
 */
export function sampleToken(logits: ArrayLike<number>, o: { temperature: number; topK: number; topP: number }, rng: Rng): number {
  const V = logits.length;
  if (o.temperature === 0) {
    let best = 0;
    for (let i = 1; i < V; i++) if (logits[i] > logits[best]) best = i;
    return best;
  }
  const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b);
  const k = o.topK > 0 ? Math.min(o.topK, V) : V;
  const max = logits[order[0]];
  const p = new Float64Array(k);
  let sum = 0;
  for (let j = 0; j < k; j++) {
    p[j] = Math.exp((logits[order[j]] - max) / o.temperature); // ≤ 1, and 1 at the max: no overflow
    sum += p[j];
  }
  let n = k;
  if (o.topP < 1) {
    let acc = 0;
    for (n = 0; n < k; ) {
      acc += p[n++] / sum;
      if (acc >= o.topP) break;
    }
  }
  let kept = 0;
  for (let j = 0; j < n; j++) kept += p[j];
  let r = rng.next() * kept;
  for (let j = 0; j < n; j++) {
    r -= p[j];
    if (r < 0) return order[j];
  }
  return order[n - 1];
}
