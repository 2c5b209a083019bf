// The second step of loading a Layers model: layers from the validated specs
// of layers_model.ts (the reader has rejected every malformed input already),
// and the model that runs them. Runs of layers our Sequential has (Embedding,
// SimpleRNN/GRU/LSTM, Bidirectional concat, Dense, TimeDistributed(Dense),
// softmax) become Sequential stages; what it has not (go_backwards,
// Bidirectional sum/mul/ave, a standalone relu/sigmoid/tanh) runs between them
// as small host ops on the read-back values. A model of one stage trains with
// fit() like any Sequential.
import { backendOf, type Backend, type RuntimeHandle } from '../backend';
import { ShapeError, ValueError } from '../errors';
import { Dense } from '../layers/dense';
import { Embedding } from '../layers/embedding';
import { Recurrent } from '../layers/recurrent';
import { Softmax } from '../layers/softmax';
import { RepeatVector } from '../layers/repeat_vector';
import { Sequential } from '../models/sequential';
import type { Layer } from '../models/types';
import { Tensor, type FloatArray, type Input } from '../tensor';
import type { EvaluateOptions, FitData, FitOptions, History } from '../training/fit';
import type { Param } from '../training/params';
import { assertFloat32, assertNumbers } from '../validate';
import { directions } from '../weights/types';
import { readLayersModel, writeLayersModel, type LayerSpec, type LayersModelArtifacts, type ParsedLayersModel, type SpecActivation } from './layers_model';
import { readSource, type LayersModelSource } from './layers_model_source';

const OP = 'loadLayersModel';

type Stage =
  /** maskReversed: the stage of a go_backwards layer, which reads the mask reversed as it reads its input. */
  | { kind: 'layers'; model: Sequential; maskReversed: boolean }
  | { kind: 'reverse'; at: string }
  /**
   * Keras's zero_output_for_mask after a layer (Bidirectional returning sequences in
   * a Keras file): masked steps of the sequence become 0, or, for a last output,
   * the rows whose last processed step is masked. Only where the mask is made by the
   * model and a layer that does not skip masked steps sees the result.
   */
  | { kind: 'zeroMasked'; seq: boolean; reversed: boolean; at: string }
  | { kind: 'merge'; mode: 'sum' | 'mul' | 'ave'; at: string }
  | { kind: 'activation'; fn: 'relu' | 'sigmoid' | 'tanh'; at: string };

/** Options of LayersModel.predict. */
export interface LayersPredictOptions {
  /** B; inferred from seqLen (or the model's fixed input shape) if absent. */
  batch?: number;
  /** T; inferred from batch (or the model's fixed input shape) if absent. */
  seqLen?: number;
  /** Valid steps per sample (B), right-padded batches (see Recurrent.forward). Not with go_backwards layers. */
  lengths?: ArrayLike<number>;
  /**
   * Keras mask (B, T), 1 = the step is present (see RecurrentForwardOptions.mask).
   * Without it, a model with Embedding mask_zero or Masking makes it from x.
   */
  mask?: ArrayLike<number>;
}

/**
 * A model loaded from a TensorFlow.js Layers model.json (rt.loadLayersModel).
 * predict() and summary() always; fit(), evaluate(), parameters() when every
 * layer runs in one Sequential (no go_backwards, no Bidirectional sum/mul/ave,
 * no standalone relu/sigmoid/tanh Activation): `sequential` is then that model.
 * Stateful recurrent layers keep their state between predict() calls until
 * resetStates().
 */
export class LayersModel {
  /** The model's name in the file. */
  readonly name: string;
  private readonly stages: Stage[];
  private readonly entries: { spec: LayerSpec; layer: Recurrent | Dense | Embedding | null }[];
  private readonly parsed: ParsedLayersModel;
  private readonly stateful: Set<Recurrent>;
  private readonly states = new Map<Recurrent, { h: Tensor; c: Tensor | null }>();
  private readonly backend: Backend;
  /** Layers with zero_output_for_mask that no zeroMasked stage serves (the model makes no mask). */
  private readonly zeroOutputUnstaged: string[];

  /** @internal use rt.loadLayersModel() */
  static create(backend: Backend, parsed: ParsedLayersModel, stages: Stage[], entries: LayersModel['entries'], stateful: Set<Recurrent>, zeroOutputUnstaged: string[]): LayersModel {
    return new LayersModel(backend, parsed, stages, entries, stateful, zeroOutputUnstaged);
  }

  private constructor(backend: Backend, parsed: ParsedLayersModel, stages: Stage[], entries: LayersModel['entries'], stateful: Set<Recurrent>, zeroOutputUnstaged: string[]) {
    this.backend = backend;
    this.zeroOutputUnstaged = zeroOutputUnstaged;
    this.name = parsed.name;
    this.parsed = parsed;
    this.stages = stages;
    this.entries = entries;
    this.stateful = stateful;
  }

  /** The one Sequential that runs the whole model, or null when host ops run between stages. */
  get sequential(): Sequential | null {
    return this.stages.length === 1 && this.stages[0].kind === 'layers' ? this.stages[0].model : null;
  }

  /** Our layers, in order (a Bidirectional is one bidirectional Recurrent). */
  get layers(): readonly Layer[] {
    return this.stages.flatMap((s) => (s.kind === 'layers' ? s.model.layers : []));
  }

  /**
   * Runs the model: x is token ids (B, T) when it starts with an Embedding, else
   * features (B, T, I). Returns the output (caller owns it).
   */
  async predict(x: Input | ArrayLike<number>, opts: LayersPredictOptions = {}): Promise<Tensor> {
    const op = `${this.name}.predict`;
    if (opts === null || typeof opts !== 'object') throw new ValueError(`${op}: options must be an object.`);
    let batch = opts.batch;
    let seqLen = opts.seqLen;
    if (batch === undefined && seqLen === undefined) {
      seqLen = this.parsed.seqLen ?? undefined;
      if (seqLen === undefined) batch = this.parsed.batchSize ?? undefined;
    }
    if (opts.lengths !== undefined && this.stages.some((s) => s.kind === 'reverse')) {
      throw new ValueError(`${op}: lengths cannot be combined with go_backwards layers (${this.stages.flatMap((s) => (s.kind === 'reverse' ? [s.at] : [])).join(', ')}): reversing a right-padded batch would put the padding first.`);
    }
    if (opts.mask !== undefined && this.zeroOutputUnstaged.length) {
      throw new ValueError(
        `${op}: ${this.zeroOutputUnstaged.join(', ')} output 0 at masked steps in Keras (zero_output_for_mask), which this model applies only to the mask its Embedding mask_zero or Masking makes; the model has neither, so an explicit mask is not supported.`,
      );
    }
    const mask = opts.mask ?? (await this.inputMask(op, x));
    // a go_backwards layer reads its input and its mask reversed (what it passes on keeps the original mask, as Keras's RNN.compute_mask)
    let reversedMask: Uint8Array | undefined;
    const maskOf = (reversed: boolean, B: number): ArrayLike<number> | undefined => {
      if (!reversed || mask === undefined) return mask;
      if (!reversedMask) {
        const T = mask.length / B;
        reversedMask = new Uint8Array(mask.length);
        for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) reversedMask[b * T + t] = mask[b * T + T - 1 - t] ? 1 : 0;
      }
      return reversedMask;
    };
    let cur: Input | ArrayLike<number> = x;
    let owned: Tensor | null = null;
    const take = (t: Tensor) => {
      owned?.dispose();
      owned = t;
      cur = t;
    };
    try {
      for (const [k, st] of this.stages.entries()) {
        if (st.kind === 'layers') {
          const keep = this.stateful.size > 0;
          const finalStates = keep ? new Map<Recurrent, { h: Tensor; c: Tensor | null }>() : undefined;
          const stageMask = st.maskReversed && mask !== undefined ? maskOf(true, (cur as Tensor).shape[0]) : mask;
          const out = await st.model.predict(cur, { batch: k === 0 ? batch : undefined, seqLen: k === 0 ? seqLen : undefined, lengths: opts.lengths, mask: stageMask, initialStates: keep ? this.states : undefined, finalStates });
          if (finalStates) this.keepStates(finalStates);
          take(out);
          continue;
        }
        if (st.kind === 'zeroMasked' && mask === undefined) continue;
        const t = cur instanceof Tensor ? cur : this.inputTensor(op, cur, batch, seqLen);
        if (!(cur instanceof Tensor)) take(t);
        const s = t.shape;
        const F = s[s.length - 1];
        if (st.kind === 'reverse') {
          const [B, T] = s;
          take(await hostOp(this.backend, t, s, (src, dst) => {
            for (let b = 0; b < B; b++) for (let i = 0; i < T; i++) dst.set(src.subarray((b * T + T - 1 - i) * F, (b * T + T - i) * F), (b * T + i) * F);
          }));
        } else if (st.kind === 'zeroMasked') {
          const B = s[0];
          const m = maskOf(st.reversed, B)!;
          const T = m.length / B;
          const seq = st.seq;
          take(await hostOp(this.backend, t, s, (src, dst) => {
            dst.set(src);
            for (let b = 0; b < B; b++) {
              if (seq) {
                for (let i = 0; i < T; i++) if (!m[b * T + i]) dst.fill(0, (b * T + i) * F, (b * T + i + 1) * F);
              } else if (!m[b * T + T - 1]) dst.fill(0, b * F, (b + 1) * F); // the last processed step (mask as the layer read it)
            }
          }));
        } else if (st.kind === 'merge') {
          const H = F / 2;
          const mode = st.mode;
          take(await hostOp(this.backend, t, [...s.slice(0, -1), H], (src, dst) => {
            for (let r = 0; r < dst.length / H; r++) {
              for (let j = 0; j < H; j++) {
                const f = src[r * F + j];
                const g = src[r * F + H + j];
                dst[r * H + j] = mode === 'sum' ? f + g : mode === 'mul' ? f * g : (f + g) / 2;
              }
            }
          }));
        } else {
          const fn = st.fn;
          take(await hostOp(this.backend, t, s, (src, dst) => {
            for (let i = 0; i < src.length; i++) {
              const v = src[i];
              dst[i] = fn === 'relu' ? Math.max(0, v) : fn === 'tanh' ? Math.tanh(v) : v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
            }
          }));
        }
      }
    } catch (e) {
      (owned as Tensor | null)?.dispose();
      throw e;
    }
    return owned!;
  }

  /** Forgets the states kept by stateful layers (the next predict starts from zeros). */
  resetStates(): void {
    for (const s of this.states.values()) {
      s.h.dispose();
      s.c?.dispose();
    }
    this.states.clear();
  }

  /** A Keras-style table with the file's layer names and classes. */
  summary(): string {
    const rows: [string, string, string][] = [];
    const T = this.parsed.seqLen;
    let shape: (number | null)[] = this.parsed.input.kind === 'ids' ? [null, T] : [null, T, this.parsed.input.size];
    let total = 0;
    for (const s of this.parsed.layers) {
      let cls = s.type === 'identity' ? s.className : s.type === 'masking' ? 'Masking' : s.type === 'activation' ? 'Activation' : s.type === 'embedding' ? 'Embedding' : s.type === 'dense' ? (s.timeDistributed ? 'TimeDistributed' : 'Dense') : s.bidirectional ? 'Bidirectional' : s.className;
      let n = 0;
      if (s.type === 'embedding') {
        shape = [...shape, s.outputDim];
        n = s.embeddings.data.length;
      } else if (s.type === 'recurrent') {
        const W = s.bidirectional?.merge === 'concat' ? 2 * s.units : s.units;
        shape = s.returnSequences ? [null, shape[1], W] : [null, W];
        n = s.weights.reduce((a, w) => a + w.kernel.data.length + w.recurrentKernel.data.length + (w.bias?.data.length ?? 0), 0);
        if (s.bidirectional) cls = `Bidirectional(${s.className})`;
      } else if (s.type === 'dense') {
        shape = [...shape.slice(0, -1), s.units];
        n = s.kernel.data.length + (s.bias?.data.length ?? 0);
      }
      total += n;
      rows.push([`${s.name} (${cls})`, `(${shape.map((d) => (d === null ? 'None' : d)).join(', ')})`, n.toLocaleString('en-US')]);
    }
    const head: [string, string, string] = ['Layer (type)', 'Output Shape', 'Param #'];
    const w = [0, 1, 2].map((c) => Math.max(head[c].length, ...rows.map((r) => r[c].length)) + 2);
    const line = (r: [string, string, string]) => r[0].padEnd(w[0]) + r[1].padEnd(w[1]) + r[2].padStart(w[2]);
    const rule = '─'.repeat(w[0] + w[1] + w[2]);
    return [`Model: "${this.name}"`, rule, line(head), rule, ...rows.map(line), rule, `Total params: ${total.toLocaleString('en-US')}`, rule].join('\n');
  }

  /** Trains the model (see Sequential.fit); only when it runs as one Sequential. */
  fit(data: FitData, opts: FitOptions): Promise<History> {
    return this.only('fit').fit(data, opts);
  }

  /** Loss and metrics on data (see Sequential.evaluate); only when it runs as one Sequential. */
  evaluate(data: FitData, opts: EvaluateOptions): Promise<Record<string, number>> {
    return this.only('evaluate').evaluate(data, opts);
  }

  /** Trainable parameters (see Sequential.parameters); only when it runs as one Sequential. */
  parameters(): Param[] {
    return this.only('parameters').parameters();
  }

  zeroGrad(): void {
    this.only('zeroGrad').zeroGrad();
  }

  /** The model with its current weights (read back from the device) as model.json + one shard. */
  async toLayersModel(): Promise<LayersModelArtifacts> {
    const layers: LayerSpec[] = [];
    for (const { spec, layer } of this.entries) {
      if (spec.type === 'embedding') {
        const [t] = await (layer as Embedding).exportWeights('keras');
        layers.push({ ...spec, embeddings: { data: t, shape: spec.embeddings.shape } });
      } else if (spec.type === 'dense') {
        const [k, b] = await (layer as Dense).exportWeights('keras');
        layers.push({ ...spec, kernel: { data: k, shape: spec.kernel.shape }, bias: { data: b, shape: [spec.units] } });
      } else if (spec.type === 'recurrent') {
        const [row] = await (layer as Recurrent).exportWeights('keras');
        layers.push({ ...spec, weights: row.map((w) => recurrentSpecWeights(w, spec.inputSize, spec.units, spec.cell, spec.resetAfter)) });
      } else layers.push(spec);
    }
    return writeLayersModel({ name: this.name, input: this.parsed.input, batchSize: this.stateful.size ? this.parsed.batchSize : null, layers });
  }

  /** Frees every layer and kept state. */
  dispose(): void {
    this.resetStates();
    for (const s of this.stages) if (s.kind === 'layers') s.model.dispose();
  }

  private only(op: string): Sequential {
    const seq = this.sequential;
    if (!seq) {
      const ops = this.stages.flatMap((s) => (s.kind === 'layers' ? [] : [`${s.at} (${s.kind === 'reverse' ? 'go_backwards' : s.kind === 'merge' ? `merge_mode ${s.mode}` : s.kind === 'zeroMasked' ? 'zero output at masked steps' : `Activation ${s.fn}`})`]));
      throw new ValueError(`${this.name}.${op}: not available for this model: ${ops.join(', ')} run${ops.length === 1 ? 's' : ''} outside our layers (inference only).`);
    }
    return seq;
  }

  private keepStates(final: Map<Recurrent, { h: Tensor; c: Tensor | null }>): void {
    for (const [layer, st] of final) {
      if (!this.stateful.has(layer)) {
        st.h.dispose();
        st.c?.dispose();
        continue;
      }
      const old = this.states.get(layer);
      old?.h.dispose();
      old?.c?.dispose();
      this.states.set(layer, st);
    }
  }

  /** The Keras mask the model makes from its input (Embedding mask_zero, Masking), or undefined. */
  private async inputMask(op: string, x: Input | ArrayLike<number>): Promise<Uint8Array | undefined> {
    const first = this.parsed.layers.find((s) => s.type !== 'identity');
    if (first?.type === 'embedding' && first.maskZero) {
      assertNumbers(op, 'x', x);
      return Uint8Array.from(x, (v) => (v === 0 ? 0 : 1));
    }
    if (first?.type !== 'masking' || this.parsed.input.kind !== 'features') return undefined;
    const I = this.parsed.input.size;
    const v = x instanceof Tensor ? await x.read() : x;
    assertNumbers(op, 'x', v);
    if (v.length % I !== 0) throw new ShapeError(`${op}: x has ${v.length} values, not a multiple of the ${I} features.`);
    const out = new Uint8Array(v.length / I);
    for (let r = 0; r < out.length; r++) for (let j = 0; j < I && !out[r]; j++) if (v[r * I + j] !== first.maskValue) out[r] = 1;
    return out;
  }

  private inputTensor(op: string, x: Input | ArrayLike<number>, batch?: number, seqLen?: number): Tensor {
    const inp = this.parsed.input;
    if (inp.kind !== 'features') throw new ValueError(`${op}: expected token ids for the Embedding.`);
    assertNumbers(op, 'x', x);
    const I = inp.size;
    const n = x.length;
    const T = seqLen ?? (batch ? n / (batch * I) : NaN);
    const B = batch ?? n / (T * I);
    if (!Number.isInteger(B) || !Number.isInteger(T) || B * T * I !== n) throw new ShapeError(`${op}: x has ${n} values, which is not (B, T, I) with I = ${I}${batch ? `, B = ${batch}` : ''}${seqLen ? `, T = ${seqLen}` : ''}. Hint: pass batch and/or seqLen.`);
    assertFloat32(op, 'x', x);
    if (this.backend.kind === 'cpu') return Tensor.fromCpu(Float64Array.from(x), [B, T, I]);
    return Tensor.fromGpu(this.backend.ctx, this.backend.ctx.createStorage('layers_model.x', Float32Array.from(x)), [B, T, I]);
  }
}

/** A new tensor of `shape` on x's backend from f(x's values) (one readback on the GPU). */
async function hostOp(be: Backend, x: Tensor, shape: readonly number[], f: (src: FloatArray, dst: Float64Array) => void): Promise<Tensor> {
  const src = await x.read();
  const dst = new Float64Array(shape.reduce((a, b) => a * b, 1));
  f(src, dst);
  if (be.kind === 'cpu') return Tensor.fromCpu(dst, shape);
  return Tensor.fromGpu(be.ctx, be.ctx.createStorage('layers_model.op', Float32Array.from(dst)), shape);
}

function recurrentSpecWeights(w: { kernel: Float32Array; recurrentKernel: Float32Array; bias: Float32Array }, I: number, H: number, cell: string, resetAfter: boolean) {
  const G = (cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1) * H;
  return { kernel: { data: w.kernel, shape: [I, G] }, recurrentKernel: { data: w.recurrentKernel, shape: [H, G] }, bias: { data: w.bias, shape: cell === 'gru' && resetAfter ? [2, G] : [G] } };
}

const DENSE_ACT: Record<SpecActivation, 'none' | 'relu' | 'sigmoid' | 'tanh' | null> = { linear: 'none', relu: 'relu', sigmoid: 'sigmoid', tanh: 'tanh', softmax: null };

/** @internal Layers from validated specs. On a failure (e.g. a LimitError) frees what it made and rethrows. */
export function buildLayersModel(runtime: RuntimeHandle, parsed: ParsedLayersModel): LayersModel {
  const be = backendOf(OP, 'runtime', runtime);
  const made: Layer[] = [];
  const stages: Stage[] = [];
  const entries: { spec: LayerSpec; layer: Recurrent | Dense | Embedding | null }[] = [];
  const stateful = new Set<Recurrent>();
  let pending: Layer[] = [];
  const flush = (maskReversed = false) => {
    if (pending.length) stages.push({ kind: 'layers', model: new Sequential(runtime, pending), maskReversed });
    pending = [];
  };
  const zeroOutputUnstaged: string[] = [];
  const first = parsed.layers.find((s) => s.type !== 'identity');
  const makesMask = (first?.type === 'embedding' && first.maskZero) || first?.type === 'masking';
  const add = <L extends Layer>(l: L): L => {
    made.push(l);
    pending.push(l);
    return l;
  };
  const specs = parsed.layers;
  try {
    for (let i = 0; i < specs.length; i++) {
      const s = specs[i];
      if (s.type === 'identity' || s.type === 'masking') {
        entries.push({ spec: s, layer: null });
      } else if (s.type === 'embedding') {
        const e = add(Embedding.create(be, { vocabSize: s.inputDim, dim: s.outputDim, maskZero: s.maskZero }));
        e.loadTorchStateDict({ weight: s.embeddings });
        entries.push({ spec: s, layer: e });
      } else if (s.type === 'dense') {
        // a linear Dense followed (past identities) by an Activation relu/sigmoid/tanh takes it on
        let act = DENSE_ACT[s.activation];
        let j = i + 1;
        while (j < specs.length && specs[j].type === 'identity') j++;
        const next = specs[j];
        const fold = act === 'none' && next?.type === 'activation' && DENSE_ACT[next.activation] !== null && next.activation !== 'linear';
        if (fold) act = DENSE_ACT[(next as { activation: SpecActivation }).activation];
        const d = add(Dense.create(be, { inputSize: s.inputSize, units: s.units, activation: act ?? 'none', convention: 'keras' }));
        d.loadKerasWeights(s.bias ? [s.kernel, s.bias] : [s.kernel]);
        entries.push({ spec: s, layer: d });
        if (s.activation === 'softmax') add(Softmax.create(be));
        if (fold) {
          for (let k = i + 1; k <= j; k++) entries.push({ spec: specs[k], layer: null });
          i = j;
        }
      } else if (s.type === 'activation') {
        entries.push({ spec: s, layer: null });
        if (s.activation === 'softmax') add(Softmax.create(be));
        else if (s.activation !== 'linear') {
          flush();
          stages.push({ kind: 'activation', fn: s.activation, at: s.name });
        }
      } else {
        if (s.goBackwards) {
          flush();
          stages.push({ kind: 'reverse', at: s.name });
        }
        const r = add(
          Recurrent.create(be, s.cell, {
            inputSize: s.inputSize,
            hiddenSize: s.units,
            bidirectional: !!s.bidirectional,
            convention: 'keras',
            returnSequences: s.returnSequences,
            activation: s.activation,
            ...(s.cell === 'rnn' ? {} : { recurrentActivation: s.recurrentActivation }),
            ...(s.cell === 'gru' ? { resetAfter: s.resetAfter } : {}),
          }),
        );
        const w = s.weights.map((x) => ({ kernel: x.kernel, recurrentKernel: x.recurrentKernel, bias: x.bias }));
        r.loadKerasWeights(s.bidirectional ? [w] : [w[0]]);
        if (s.stateful) stateful.add(r);
        entries.push({ spec: s, layer: r });
        if (s.goBackwards) flush(true); // alone in its stage: it reads the mask reversed
        const merge = s.bidirectional?.merge;
        if (merge && merge !== 'concat') {
          flush();
          stages.push({ kind: 'merge', mode: merge, at: s.name });
        }
        // zeros at masked steps are seen unless the next layer is recurrent (which skips masked steps)
        let j = i + 1;
        while (j < specs.length && specs[j].type === 'identity') j++;
        if (s.zeroMaskedOutput && !(s.returnSequences && specs[j]?.type === 'recurrent')) {
          if (makesMask) {
            flush();
            stages.push({ kind: 'zeroMasked', seq: s.returnSequences, reversed: s.goBackwards, at: s.name });
          } else zeroOutputUnstaged.push(s.name);
        }
      }
    }
    flush();
  } catch (e) {
    for (const l of made) l.dispose();
    throw e;
  }
  return LayersModel.create(be, parsed, stages, entries, stateful, zeroOutputUnstaged);
}

/** @internal rt.loadLayersModel(source): read, validate, then build. */
export async function loadLayersModel(runtime: RuntimeHandle, source: LayersModelSource): Promise<LayersModel> {
  backendOf(OP, 'runtime', runtime);
  const { json, buffers } = await readSource(source);
  return buildLayersModel(runtime, readLayersModel(json, buffers));
}

// ---------------------------------------------------------------------------
// Our Sequential → specs → model.json

const SNAKE: Record<string, string> = { SimpleRNN: 'simple_rnn', GRU: 'gru', LSTM: 'lstm' };

/**
 * A model as TensorFlow.js Layers files: model.json's content (class_name
 * Sequential, float32 weights in one shard 'weights.bin') and the shard's bytes.
 * Weights are read from the device first. tfjs 4.22 loads the result with
 * tf.loadLayersModel(tf.io.fromMemory(...)), except GRUs with reset_after true
 * (PyTorch's GRU, our default), which tfjs cannot build (Keras can).
 */
export async function toLayersModel(model: Sequential | LayersModel): Promise<LayersModelArtifacts> {
  if (model instanceof LayersModel) return model.toLayersModel();
  if (!(model instanceof Sequential)) throw new ValueError('toLayersModel: pass a Sequential (rt.sequential) or a loaded LayersModel.');
  const counts: Record<string, number> = {};
  const nameOf = (base: string) => {
    const n = counts[base] ?? 0;
    counts[base] = n + 1;
    return n === 0 ? base : `${base}_${n}`;
  };
  const layers: LayerSpec[] = [];
  let input: ParsedLayersModel['input'] | null = null;
  for (const l of model.layers) {
    if (l instanceof Embedding) {
      input ??= { kind: 'ids' };
      const [t] = await l.exportWeights('keras');
      layers.push({ type: 'embedding', name: nameOf('embedding'), inputDim: l.vocabSize, outputDim: l.dim, maskZero: l.maskZero, embeddings: { data: t, shape: [l.vocabSize, l.dim] } });
    } else if (l instanceof Recurrent) {
      const cfg = l.config;
      input ??= { kind: 'features', size: cfg.inputSize };
      const D = directions(cfg);
      const H = cfg.hiddenSize;
      const rows = await l.exportWeights('keras');
      rows.forEach((row, k) => {
        const I = k === 0 ? cfg.inputSize : D * H;
        const inner = nameOf(SNAKE[l.kind]);
        layers.push({
          type: 'recurrent',
          name: D === 2 ? nameOf('bidirectional') : inner,
          className: l.kind as 'SimpleRNN' | 'GRU' | 'LSTM',
          cell: cfg.cell,
          inputSize: I,
          units: H,
          activation: cfg.nonlinearity,
          recurrentActivation: cfg.recurrentActivation ?? 'sigmoid',
          resetAfter: cfg.cell === 'gru' && cfg.resetAfter,
          returnSequences: k < rows.length - 1 || l.returnSequences,
          goBackwards: false,
          stateful: false,
          zeroMaskedOutput: false,
          bidirectional: D === 2 ? { name: '', inner, merge: 'concat' } : null,
          weights: row.map((w) => recurrentSpecWeights(w, I, H, cfg.cell, cfg.cell === 'gru' && cfg.resetAfter)),
        });
        const last = layers[layers.length - 1];
        if (last.type === 'recurrent' && last.bidirectional) last.bidirectional.name = last.name;
      });
    } else if (l instanceof Dense) {
      input ??= { kind: 'features', size: l.inputSize };
      const [k, b] = await l.exportWeights('keras');
      const activation: SpecActivation = l.activation === 'none' ? 'linear' : l.activation;
      layers.push({ type: 'dense', name: nameOf('dense'), timeDistributed: null, inputSize: l.inputSize, units: l.units, activation, kernel: { data: k, shape: [l.inputSize, l.units] }, bias: { data: b, shape: [l.units] } });
    } else if (l instanceof RepeatVector) {
      throw new ValueError('toLayersModel: a RepeatVector layer cannot be written to model.json yet; only Embedding, recurrent, Dense and Softmax layers are.');
    } else {
      layers.push({ type: 'activation', name: nameOf('activation'), activation: 'softmax' });
    }
  }
  if (!input) throw new ValueError('toLayersModel: the model starts with a Softmax; nothing to export.');
  return writeLayersModel({ name: 'sequential', input, batchSize: null, layers });
}
