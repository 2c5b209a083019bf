// Sequential: a stack of layers run in order (Embedding → recurrent layers →
// Dense → Softmax, or Dense → RepeatVector → recurrent layers for one-to-many),
// with Keras's summary() table and parameter counts.
import { backendOf, type Backend, type RuntimeHandle } from '../backend';
import { ShapeError, ValueError } from '../errors';
import { Dense } from '../layers/dense';
import { Embedding } from '../layers/embedding';
import { Recurrent } from '../layers/recurrent';
import { RepeatVector } from '../layers/repeat_vector';
import type { Param } from '../training/params';
import { evaluate, fit, type EvaluateOptions, type FitData, type FitOptions, type History } from '../training/fit';
import { Softmax } from '../layers/softmax';
import { Tensor, type Input } from '../tensor';
import { selectTorchKeys } from '../weights/torch';
import { directions, type StateDict } from '../weights/types';
import { checkFormat, checkOptions, describe } from '../validate';
import { generate, generateStream, type GenerateOptions } from './generate';
import { disposeTape, type Layer, type PredictOptions, type SequentialTape } from './types';

const SNAKE: Record<string, string> = { Embedding: 'embedding', SimpleRNN: 'simple_rnn', GRU: 'gru', LSTM: 'lstm', Dense: 'dense', Softmax: 'softmax', RepeatVector: 'repeat_vector' };

/** Layers without weights: no parameters, gradients or weight files. */
function weightless(l: Layer): l is Softmax | RepeatVector {
  return l instanceof Softmax || l instanceof RepeatVector;
}

export class Sequential {
  readonly layers: readonly Layer[];
  private readonly backend: Backend;
  private readonly runtime: RuntimeHandle;
  /** Set to true (e.g. from a callback or a Stop button) to end fit() after the current batch. */
  stopTraining = false;

  constructor(runtime: RuntimeHandle, layers: Layer[]) {
    const backend = backendOf('sequential', 'runtime', runtime);
    if (!Array.isArray(layers) || layers.length === 0) throw new ValueError('sequential: pass a non-empty array of layers.');
    let width: number | null = null; // feature size flowing between layers
    let seq = true; // whether a time axis is still present
    layers.forEach((layer, i) => {
      const at = `sequential: layer ${i} (${layer.kind})`;
      if (layer.backendRef !== backend) throw new ValueError(`${at} was created by another runtime.`);
      if (layer instanceof Embedding) {
        if (i !== 0) throw new ValueError(`${at}: an Embedding must be the first layer.`);
        width = layer.dim;
      } else if (layer instanceof Recurrent) {
        if (!seq) throw new ValueError(`${at}: the previous recurrent layer has returnSequences: false, so there is no sequence left. Hint: set returnSequences: true on it.`);
        if (width !== null && layer.config.inputSize !== width) throw new ShapeError(`${at}: inputSize is ${layer.config.inputSize}, but the previous layer outputs ${width} features.`);
        width = layer.outputSize;
        seq = layer.returnSequences;
      } else if (layer instanceof Dense) {
        if (width !== null && layer.inputSize !== width) throw new ShapeError(`${at}: inputSize is ${layer.inputSize}, but the previous layer outputs ${width} features.`);
        width = layer.units;
      } else if (layer instanceof RepeatVector) {
        // it takes one vector per sample: the model's input (only Dense layers before it) or a recurrent layer's last step
        const vectorIn = !seq || layers.slice(0, i).every((l) => l instanceof Dense);
        if (!vectorIn) throw new ShapeError(`${at}: RepeatVector takes (B, F), one vector per sample, but the previous layer outputs a sequence. Hint: set returnSequences: false on the recurrent layer before it.`);
        if (width === null) throw new ValueError(`${at}: RepeatVector cannot be the first layer (its feature size F comes from the layer before). Hint: start with a Dense over the feature vectors.`);
        seq = true;
      }
    });
    this.layers = layers;
    this.backend = backend;
    this.runtime = runtime;
  }

  /**
   * Trains the model (Keras's fit): see FitOptions. Returns the history of the
   * loss and metrics per epoch. The optimizer is the caller's:
   *   await model.fit({ x, y, seqLen }, { loss: 'bce', optimizer: new Adam(model.parameters(), { lr: 0.01 }), epochs: 20 })
   */
  fit(data: FitData, opts: FitOptions): Promise<History> {
    return fit(this.runtime, this, data, opts);
  }

  /** Loss and metrics on data, without training. */
  evaluate(data: FitData, opts: EvaluateOptions): Promise<Record<string, number>> {
    return evaluate(this.runtime, this, data, opts);
  }

  get paramCount(): number {
    return this.layers.reduce((n, l) => n + l.paramCount, 0);
  }

  /** A Keras-style table: layer (type), output shape, parameter count, and totals. */
  summary(): string {
    const seen: Record<string, number> = {};
    const rows: [string, string, string][] = [];
    // a model that feeds vectors to a RepeatVector starts from (None, F)
    const repeat = this.layers.findIndex((l) => l instanceof RepeatVector);
    let shape: (number | null)[] = repeat > 0 && this.layers.slice(0, repeat).every((l) => l instanceof Dense) ? [null, null] : [null, null, null];
    for (const l of this.layers) {
      const base = SNAKE[l.kind];
      const name = seen[base] === undefined ? base : `${base}_${seen[base]}`;
      seen[base] = (seen[base] ?? 0) + 1;
      if (l instanceof Embedding) shape = [null, null, l.dim];
      else if (l instanceof Recurrent) shape = l.returnSequences ? [null, shape.length === 3 ? shape[1] : null, l.outputSize] : [null, l.outputSize];
      else if (l instanceof Dense) shape = [...shape.slice(0, -1), l.units];
      else if (l instanceof RepeatVector) shape = [null, l.n, shape[shape.length - 1]];
      rows.push([`${name} (${l.kind})`, `(${shape.map((d) => (d === null ? 'None' : d)).join(', ')})`, l.paramCount.toLocaleString('en-US')]);
    }
    const head: [string, string, string] = ['Layer (type)', 'Output Shape', 'Param #'];
    const w = [0, 1, 2].map((c) => Math.max(head[c].length, ...rows.map((r) => r[c].length)) + 2);
    const line = (r: [string, string, string]) => r[0].padEnd(w[0]) + r[1].padEnd(w[1]) + r[2].padStart(w[2]);
    const rule = '─'.repeat(w[0] + w[1] + w[2]);
    const total = this.paramCount.toLocaleString('en-US');
    return [rule, line(head), rule, ...rows.map(line), rule, `Total params: ${total}`, `Trainable params: ${total}`, 'Non-trainable params: 0', rule].join('\n');
  }

  /**
   * Runs every layer. x is token ids (B, T) when the first layer is an Embedding,
   * else features (B, T, I). Returns the last layer's output (caller owns it).
   */
  async predict(x: Input | ArrayLike<number>, opts: PredictOptions = {}): Promise<Tensor> {
    return (await this.run(x, checkOptions('Sequential.predict', 'options', opts), false)).output;
  }

  /**
   * Generates tokens after a prompt (a model that ends in logits: Embedding →
   * recurrent layers → Dense with vocabSize units). Returns the new ids, prompt
   * excluded: number[] for one prompt, number[][] for an array of prompts (run
   * together as one batch; lengths may differ). The prompt runs in one forward
   * pass, the recurrent states stay on the backend between tokens, and each step
   * reads back one row of logits per prompt. See GenerateOptions.
   *   const ids = await model.generate(promptIds, { maxNewTokens: 20, temperature: 0.8, topK: 5, seed: 1 });
   */
  generate(prompt: ArrayLike<number>, options: GenerateOptions<number>): Promise<number[]>;
  generate(prompts: readonly ArrayLike<number>[], options: GenerateOptions<(number | null)[]>): Promise<number[][]>;
  generate(prompt: ArrayLike<number> | readonly ArrayLike<number>[], options: GenerateOptions<never>): Promise<number[] | number[][]> {
    return generate(this.backend, this.layers, prompt, options as GenerateOptions);
  }

  /**
   * generate() as an async iterable: one token id per step for one prompt; for an
   * array of prompts, one entry per prompt (null once it has stopped). Leaving the
   * loop early ends generation and frees its tensors.
   *   for await (const id of model.generateStream(promptIds, { maxNewTokens: 50 })) process.stdout.write(vocab[id]);
   */
  generateStream(prompt: ArrayLike<number>, options: Omit<GenerateOptions, 'onToken'>): AsyncIterable<number>;
  generateStream(prompts: readonly ArrayLike<number>[], options: Omit<GenerateOptions, 'onToken'>): AsyncIterable<(number | null)[]>;
  generateStream(prompt: ArrayLike<number> | readonly ArrayLike<number>[], options: Omit<GenerateOptions, 'onToken'>): AsyncIterable<number | (number | null)[]> {
    return generateStream(this.backend, this.layers, prompt, options);
  }

  /**
   * Forward pass that records what backward() needs, layer by layer. Returns the
   * output and the tape (both owned by the caller; backward() consumes the tape).
   */
  async record(x: Input | ArrayLike<number>, opts: PredictOptions = {}): Promise<{ output: Tensor; tape: SequentialTape }> {
    const r = await this.run(x, checkOptions('Sequential.record', 'options', opts), true);
    return { output: r.output, tape: r.tape! };
  }

  /**
   * Backpropagation through every layer in exact reverse order of the recorded
   * forward pass. Weight gradients accumulate in the layers (zeroGrad() clears).
   * With { stepGradNorms: true }, also returns each recurrent layer's ‖∂L/∂h_t‖
   * (L·D, T) (see RecurrentBackwardOptions.stepGradNorms), owned by the caller.
   */
  async backward(tape: SequentialTape, dOutput: Input, opts: { stepGradNorms?: boolean } = {}): Promise<{ stepGradNorms: Map<Recurrent, Tensor> | null }> {
    const wantNorms = !!checkOptions('Sequential.backward', 'options', opts).stepGradNorms;
    const stepGradNorms = wantNorms ? new Map<Recurrent, Tensor>() : null; // (L·D, T) per recurrent layer, owned by the caller
    if (tape === null || typeof tape !== 'object' || !Array.isArray(tape.entries)) throw new ValueError(`Sequential.backward: tape must come from model.record(), got ${describe(tape)}.`);
    if (tape.used) throw new ValueError('Sequential.backward: this tape was already used; record a new forward pass.');
    tape.used = true;
    let d: Tensor | Input = dOutput;
    let owned: Tensor | null = null;
    const take = (t: Tensor | null) => {
      owned?.dispose();
      owned = t;
      if (t) d = t;
    };
    try {
      for (let i = tape.entries.length - 1; i >= 0; i--) {
        const e = tape.entries[i];
        if (e.kind === 'dense') take(await e.layer.backward(e.tape, d));
        else if (e.kind === 'repeat') take(await e.layer.backward(e.tape, d));
        else if (e.kind === 'embedding') await e.layer.backward(e.tape, (d as Tensor).view([e.tape.ids.length, e.layer.dim]));
        else {
          const { layer } = e;
          const cfg = layer.config;
          const D = directions(cfg);
          const [B, T] = e.shape;
          let dOut: Input;
          let dh: Tensor | undefined;
          if (layer.returnSequences) dOut = d;
          else {
            const g = await lastStepBackward(this.backend, d as Tensor, cfg.numLayers, D, B, T, cfg.hiddenSize);
            dOut = g.dOut;
            dh = g.dh;
          }
          try {
            const r = await layer.backward(e.tape, { dOutput: dOut, dh, stepGradNorms: wantNorms });
            r.dh0.dispose();
            r.dc0?.dispose();
            if (r.stepGradNorms) stepGradNorms!.set(layer, r.stepGradNorms);
            take(r.dx);
          } finally {
            if (!layer.returnSequences) {
              (dOut as Tensor).dispose();
              dh?.dispose();
            }
          }
        }
      }
    } catch (e) {
      for (const t of stepGradNorms?.values() ?? []) t.dispose();
      throw e;
    } finally {
      (owned as Tensor | null)?.dispose();
      disposeTape(tape);
    }
    return { stepGradNorms };
  }

  /** Every layer's trainable parameters, in layer order. */
  parameters(): Param[] {
    return this.layers.flatMap((l, i) => (weightless(l) ? [] : l.parameters().map((p) => ({ ...p, name: `${i}.${p.name}` }))));
  }

  zeroGrad(): void {
    for (const l of this.layers) if (!weightless(l)) l.zeroGrad();
  }

  /**
   * Loads a whole PyTorch state_dict (e.g. parseSafetensors() of a module's saved
   * weights) in one call. `prefixes` names each weighted layer's key prefix: a
   * Map from layer to prefix, or an array with one prefix per layer that has
   * weights, in order (a Softmax has none), e.g. ['rnn.', 'fc.'] for a module with
   * `self.rnn = nn.LSTM(...)` and `self.fc = nn.Linear(...)`. Without it, the
   * prefixes are nn.Sequential's `${index}.` (as exportWeights('torch') writes).
   * Strict: every key of the dict must be used and every expected key present;
   * both lists go in one WeightError. Every layer's part is validated before any
   * layer is loaded, so nothing changes on failure.
   */
  loadTorchStateDict(sd: StateDict, opts?: { prefixes?: Map<Layer, string> | readonly string[] }): void {
    const op = 'Sequential.loadTorchStateDict';
    const o = checkOptions(op, 'options', opts);
    const weighted = this.layers.map((layer, index) => ({ layer, index })).filter(({ layer }) => !weightless(layer)) as { layer: Recurrent | Dense | Embedding; index: number }[];
    const p = o.prefixes;
    let prefixes: string[];
    if (p === undefined) prefixes = weighted.map(({ index }) => `${index}.`);
    else if (p instanceof Map) {
      for (const [layer, prefix] of p) {
        if (!this.layers.includes(layer)) throw new ValueError(`${op}: prefixes has a ${describe(layer)} that is not a layer of this model.`);
        if (weightless(layer)) throw new ValueError(`${op}: prefixes names a ${layer.kind} layer, which has no weights.`);
        if (typeof prefix !== 'string') throw new ValueError(`${op}: the prefix of layer ${this.layers.indexOf(layer)} (${layer.kind}) must be a string, got ${describe(prefix)}.`);
      }
      prefixes = weighted.map(({ layer, index }) => {
        const prefix = p.get(layer);
        if (prefix === undefined) throw new ValueError(`${op}: prefixes has no entry for layer ${index} (${layer.kind}); give every layer with weights a prefix.`);
        return prefix;
      });
    } else if (Array.isArray(p)) {
      if (p.length !== weighted.length || p.some((x) => typeof x !== 'string')) {
        throw new ValueError(
          `${op}: prefixes must hold ${weighted.length} strings, one per layer with weights (${weighted.map(({ layer, index }) => `${index}: ${layer.kind}`).join(', ')}; a Softmax has none), got ${describe(p)}.`,
        );
      }
      prefixes = [...p];
    } else throw new ValueError(`${op}: prefixes must be a Map from layer to prefix or an array of prefixes, got ${describe(p)}.`);
    const dup = prefixes.find((x, i) => prefixes.indexOf(x) !== i);
    if (dup !== undefined) throw new ValueError(`${op}: two layers have the prefix '${dup}'; each layer's keys need a prefix of their own.`);
    const parts = weighted.map(({ layer, index }, i) => ({ prefix: prefixes[i], names: layer.torchKeys(), label: `layer ${index} (${layer.kind})` }));
    const subs = selectTorchKeys(op, sd, parts, 'all');
    // validate every layer's part before loading any
    const commits = weighted.map(({ layer, index }, i) => layer.prepareTorchStateDict(`${op}: layer ${index} (${layer.kind}), prefix '${prefixes[i]}'`, subs[i]));
    for (const commit of commits) commit();
  }

  /** Copies GPU weights changed by training back into the copies that exports read. */
  async syncWeights(): Promise<void> {
    for (const l of this.layers) if (!weightless(l)) await l.syncWeights();
  }

  /**
   * Every layer's weights as they are on the device (read back first):
   *  - 'torch': one state dict named as nn.Sequential's, `${index}.${name}`
   *    (e.g. '0.weight', '1.weight_ih_l0'), each { data, shape };
   *  - 'keras': the flat list of arrays of Keras's model.get_weights(), in layer
   *    order (recurrent: kernel, recurrent_kernel, bias per layer and direction;
   *    Dense: kernel, bias; Embedding: embeddings).
   */
  async exportWeights(format: 'torch'): Promise<Record<string, { data: Float32Array; shape: number[] }>>;
  async exportWeights(format: 'keras'): Promise<Float32Array[]>;
  async exportWeights(format: 'torch' | 'keras'): Promise<Record<string, { data: Float32Array; shape: number[] }> | Float32Array[]> {
    checkFormat('Sequential.exportWeights', format);
    const torch: Record<string, { data: Float32Array; shape: number[] }> = {};
    const keras: Float32Array[] = [];
    for (const [i, l] of this.layers.entries()) {
      if (weightless(l)) continue;
      if (format === 'torch') {
        const sd: Record<string, { data: Float32Array; shape: number[] }> = await l.exportWeights('torch');
        for (const [k, v] of Object.entries(sd)) torch[`${i}.${k}`] = v;
      } else if (l instanceof Recurrent) {
        for (const row of await l.exportWeights('keras')) for (const w of row) keras.push(w.kernel, w.recurrentKernel, w.bias);
      } else keras.push(...(l instanceof Dense ? await l.exportWeights('keras') : await l.exportWeights('keras')));
    }
    return format === 'torch' ? torch : keras;
  }

  private async run(x: Input | ArrayLike<number>, opts: PredictOptions, record: boolean): Promise<{ output: Tensor; tape: SequentialTape | null }> {
    let cur: Input | null = null;
    let owned: Tensor | null = null; // intermediate result to free once consumed
    const tape: SequentialTape | null = record ? { entries: [], used: false } : null;
    const take = (t: Tensor) => {
      // while recording, the layer tapes hold their own copies, so the chain can still free its results
      owned?.dispose();
      owned = t;
      cur = t;
    };
    let B = opts.batch;
    let T = opts.seqLen;
    // Keras masking for the recurrent layers: the caller's mask, or (Embedding with
    // maskZero) the steps whose token id is not 0
    let mask: ArrayLike<number> | undefined = opts.mask;
    try {
      for (const layer of this.layers) {
        if (layer instanceof Embedding) {
          const ids = x as ArrayLike<number>;
          if (B === undefined && T === undefined) throw new ShapeError('Sequential.predict: token ids are flat; pass batch and/or seqLen.');
          B ??= ids.length / T!;
          T ??= ids.length / B;
          if (layer.maskZero && mask === undefined) mask = layer.computeMask(ids);
          if (tape) {
            const r = await layer.record(ids, [B, T]);
            tape.entries.push({ kind: 'embedding', layer, tape: r.tape });
            take(r.output);
          } else take(await layer.forward(ids, [B, T]));
        } else if (layer instanceof Recurrent) {
          const init = opts.initialStates?.get(layer);
          const res = await layer.forward(cur ?? (x as Input), { batch: B, seqLen: T, lengths: opts.lengths, mask, record, h0: init?.h, c0: init?.c ?? undefined });
          B = res.output.shape[0];
          T = res.output.shape[1];
          if (res.tape) tape!.entries.push({ kind: 'recurrent', layer, tape: res.tape, shape: [B, T] });
          let h: Tensor | null = res.h;
          if (opts.finalStates) {
            opts.finalStates.set(layer, { h: res.h, c: res.c });
            h = layer.returnSequences ? null : res.h.view(res.h.shape);
          } else res.c?.dispose();
          if (layer.returnSequences) {
            if (!opts.finalStates) res.h.dispose();
            take(res.output);
          } else {
            res.output.dispose();
            take(await lastStep(this.backend, h!, layer.config.numLayers, directions(layer.config)));
          }
        } else if (layer instanceof Dense) {
          if (tape) {
            const r = await layer.record(cur ?? (x as Input));
            tape.entries.push({ kind: 'dense', layer, tape: r.tape });
            take(r.output);
          } else take(await layer.forward(cur ?? (x as Input)));
        } else if (layer instanceof RepeatVector) {
          // fed from the model's input (Dense layers only before it): its n steps are the model's seqLen
          const fromInput = this.layers.slice(0, this.layers.indexOf(layer)).every((l) => l instanceof Dense);
          if (fromInput && opts.seqLen !== undefined && opts.seqLen !== layer.n) {
            throw new ShapeError(`Sequential.predict: seqLen is ${opts.seqLen}, but the RepeatVector makes ${layer.n} steps. Hint: leave seqLen out or pass ${layer.n}.`);
          }
          // never the first layer (the constructor refuses that), so its input is the previous layer's (B, F) tensor
          let out: Tensor;
          if (tape) {
            const r = await layer.record(cur ?? (x as Input));
            tape.entries.push({ kind: 'repeat', layer, tape: r.tape });
            out = r.output;
          } else out = await layer.forward(cur ?? (x as Input));
          take(out);
          B = out.shape[0];
          T = layer.n;
        } else {
          if (tape) throw new ValueError('Sequential.record: a Softmax layer cannot be trained through; end the model with logits and use softmaxCrossEntropy.');
          take(await layer.forward(cur ?? (x as Input)));
        }
      }
    } catch (e) {
      (owned as Tensor | null)?.dispose();
      if (tape) disposeTape(tape);
      throw e;
    }
    return { output: owned!, tape };
  }

  dispose(): void {
    for (const l of this.layers) l.dispose();
  }
}

/**
 * The last step's features (B, D·H) of a recurrent stack from its final states
 * h (L·D, B, H): the forward direction's state at each sample's last valid step,
 * and the reverse direction's state after it has read back to t = 0 (as Keras's
 * return_sequences=False). Takes ownership of h.
 */
async function lastStep(backend: Backend, h: Tensor, L: number, D: number): Promise<Tensor> {
  const [, B, H] = h.shape;
  const first = (L - 1) * D; // the top layer's rows
  if (backend.kind === 'cpu') {
    const src = h.cpuData('lastStep');
    const out = new Float64Array(B * D * H);
    for (let d = 0; d < D; d++) for (let b = 0; b < B; b++) out.set(src.subarray(((first + d) * B + b) * H, ((first + d) * B + b + 1) * H), (b * D + d) * H);
    h.dispose();
    return Tensor.fromCpu(out, [B, D * H]);
  }
  const ctx = backend.ctx;
  const out = ctx.createStorage('last_step', B * D * H);
  try {
    await ctx.submit('lastStep', (enc) => {
      for (let d = 0; d < D; d++) {
        for (let b = 0; b < B; b++) enc.copyBufferToBuffer(h.gpuBuffer('lastStep'), ((first + d) * B + b) * H * 4, out, (b * D + d) * H * 4, H * 4);
      }
    });
  } catch (e) {
    ctx.destroyBuffer(out);
    throw e;
  } finally {
    h.dispose();
  }
  return Tensor.fromGpu(ctx, out, [B, D * H]);
}

/**
 * Backward of lastStep(): ∂L/∂(last step features) (B, D·H) becomes ∂L/∂h_n
 * (L·D, B, H), nonzero only in the top layer's rows, and a zero ∂L/∂output.
 * On the GPU these are buffer copies, no readback.
 */
async function lastStepBackward(backend: Backend, d: Tensor, L: number, D: number, B: number, T: number, H: number): Promise<{ dOut: Tensor; dh: Tensor }> {
  const first = (L - 1) * D;
  if (backend.kind === 'cpu') {
    const src = d.cpuData('lastStepBackward');
    const dh = new Float64Array(L * D * B * H);
    for (let dir = 0; dir < D; dir++) for (let b = 0; b < B; b++) dh.set(src.subarray((b * D + dir) * H, (b * D + dir + 1) * H), ((first + dir) * B + b) * H);
    return { dOut: Tensor.fromCpu(new Float64Array(B * T * D * H), [B, T, D * H]), dh: Tensor.fromCpu(dh, [L * D, B, H]) };
  }
  const ctx = backend.ctx;
  const dOut = ctx.createStorage('last_step.dout', B * T * D * H);
  const dh = ctx.createStorage('last_step.dh', L * D * B * H);
  try {
    await ctx.submit('lastStepBackward', (enc) => {
      for (let dir = 0; dir < D; dir++) {
        for (let b = 0; b < B; b++) enc.copyBufferToBuffer(d.gpuBuffer('lastStepBackward'), (b * D + dir) * H * 4, dh, ((first + dir) * B + b) * H * 4, H * 4);
      }
    });
  } catch (e) {
    ctx.destroyBuffer(dOut);
    ctx.destroyBuffer(dh);
    throw e;
  }
  return { dOut: Tensor.fromGpu(ctx, dOut, [B, T, D * H]), dh: Tensor.fromGpu(ctx, dh, [L * D, B, H]) };
}
