// Seq2Seq: an encoder–decoder (sequence to sequence) model, trained with teacher
// forcing and decoded greedily or with beam search. Built from the library's
// layers (Embedding, the recurrent stacks, Dense) and the Attention layer:
//
//   token source:   src ids (B, S) → Embedding → encoder stack (lengths = source lengths)
//                     final states (L·D, B, He) → each layer's directions side by side
//                     (L, B, D·He) → [Dense bridge, tanh for h and linear for c, when
//                     D·He ≠ Hd] → the decoder's initial states (L, B, Hd)
//   vector source:  features (B, F) → per decoder layer l a Dense (tanh) → h0[l]
//                     (and a linear Dense → c0[l] for LSTM): one-to-many from a vector
//   decoder:        [start, y_0 … y_{n−1}] → Embedding → decoder stack from those
//                     states (lengths = target lengths + 1) → (B, T, Hd)
//   attention:      (optional, Luong dot) over the encoder outputs (B, S, D·He), with
//                     D·He = Hd: h̃ = tanh(W_c [context; h] + b_c)   (B, T, A)
//   output:         Dense → logits (B, T, V_tgt); labels [y_0 … y_{n−1}, end], padding −100
//
// Teacher forcing feeds the previous target token (no input feeding of h̃), so the
// attention over every decoder step runs in one dispatch after the decoder. At
// inference the decoder runs one step at a time for every row of the batch (B·K
// rows for beam search), its states and the encoder outputs kept on the backend;
// one readback of (rows, V) logits per step. Everything this file allocates is
// freed when a call ends, returns early or fails.
import { backendOf, type Backend, type RuntimeHandle } from '../backend';
import { DisposedError, ShapeError, ValueError } from '../errors';
import { Attention, disposeAttentionTape, type AttentionTape } from '../layers/attention';
import { Dense, type DenseTape } from '../layers/dense';
import { Embedding, type EmbeddingTape } from '../layers/embedding';
import { Recurrent, type RecurrentTape } from '../layers/recurrent';
import { RepeatVector } from '../layers/repeat_vector';
import type { Param } from '../training/params';
import { softmaxCrossEntropy } from '../training/losses';
import { clipGradNorm, clipGradValue, type Optimizer } from '../training/optim';
import { Tensor } from '../tensor';
import { assertNumbers, assertPositiveInt, checkFormat, checkOptions, describe } from '../validate';
import { selectTorchKeys } from '../weights/torch';
import type { CellType, StateDict } from '../weights/types';
import { Rng } from '../weights/random';
import { BeamState, logSoftmaxRows, type Hypothesis } from './beam';

export type { Hypothesis } from './beam';

export interface Seq2SeqOptions {
  /** Token-id sources: the source vocabulary (an Embedding and a recurrent encoder read them). */
  srcVocabSize?: number;
  /**
   * Vector sources instead (one-to-many): one feature vector of this size per
   * sample (an image feature, a one-hot class) sets the decoder's initial states
   * through a Dense per decoder layer (tanh for h, linear for LSTM's c).
   */
  srcFeatures?: number;
  tgtVocabSize: number;
  /** 'rnn' | 'gru' | 'lstm' for both stacks. Default 'gru'. */
  cell?: CellType;
  /** Size of both embeddings. */
  embeddingDim: number;
  /** The decoder's hidden size Hd. */
  hiddenSize: number;
  /** The encoder's hidden size He (per direction). Default hiddenSize (bidirectional with 'concat' states or attention: hiddenSize / 2 when even, so D·He = Hd). */
  encoderHiddenSize?: number;
  /** Layers of each stack (the encoder's layer l initialises the decoder's layer l). Default 1. */
  numLayers?: number;
  /** A bidirectional encoder; its directions' final states are joined per layer as mergeStates says. */
  bidirectional?: boolean;
  /**
   * How a bidirectional encoder's two final states (per layer) become one:
   * 'concat' (default; Keras's tutorial, D·He wide) or 'sum' (PyTorch's tutorials,
   * He wide). A Dense bridge projects them when that width is not hiddenSize.
   */
  mergeStates?: 'concat' | 'sum';
  /** Luong dot-product attention over the encoder outputs (needs D·He = Hd). Default false. */
  attention?: boolean;
  /** Size A of the attentional hidden state h̃ = tanh(W_c [context; h]). Default hiddenSize. */
  attentionSize?: number;
  /** The decoder's first input token (begin of sentence). */
  startToken: number;
  /** The token that ends a target: appended to every training target, and where decoding stops. */
  endToken: number;
  /** Seed of the initialisers. Default 0. */
  seed?: number;
}

/** A source sentence (token ids) or, for a vector-source model, a feature vector. */
export type Seq2SeqSource = ArrayLike<number>;

/** Padded tensors-to-be of one batch, as prepare() makes them (all CPU arrays). */
export interface Seq2SeqBatch {
  B: number;
  /** Source steps (token source) or features F (vector source). */
  S: number;
  /** Decoder steps: the longest target + 1 (the end token). */
  T: number;
  /** (B, S) ids right-padded with 0, or (B, F) features. */
  src: Float32Array;
  /** Valid source steps per sample (token source); null for a vector source. */
  srcLengths: number[] | null;
  /** Decoder inputs (B, T): [start, y_0 … y_{n−1}], padded with the end token. */
  decoderInput: Int32Array;
  /** Labels (B·T): [y_0 … y_{n−1}, end], −100 on padding (ignored by softmaxCrossEntropy). */
  labels: Int32Array;
  /** Valid decoder steps per sample, n + 1. */
  tgtLengths: number[];
}

/** What record() keeps for backward(), in forward order. */
export interface Seq2SeqTape {
  batch: Seq2SeqBatch;
  srcEmb: EmbeddingTape | null;
  encoder: RecurrentTape | null;
  bridgeH: DenseTape | null;
  bridgeC: DenseTape | null;
  initH: DenseTape[];
  initC: DenseTape[];
  tgtEmb: EmbeddingTape;
  decoder: RecurrentTape;
  attention: AttentionTape | null;
  combine: DenseTape | null;
  out: DenseTape;
  used: boolean;
}

export interface Seq2SeqFitData {
  /** Source sentences (token ids) or feature vectors, one per sample. */
  src: readonly Seq2SeqSource[];
  /** Target sentences (token ids), one per sample, without start or end token (the model adds them). */
  tgt: readonly ArrayLike<number>[];
}

export interface Seq2SeqFitOptions {
  optimizer: Optimizer;
  epochs?: number;
  /** Default 32. */
  batchSize?: number;
  /** Shuffle every epoch (default true), seeded. */
  shuffle?: boolean;
  seed?: number;
  clipNorm?: number;
  clipValue?: number;
  onBatchEnd?: (e: { epoch: number; batch: number; loss: number }) => void | Promise<void>;
  onEpochEnd?: (e: { epoch: number; logs: Record<string, number> }) => void | Promise<void>;
}

export interface DecodeOptions {
  /** The most tokens per output (the end token included). Default 50. */
  maxLength?: number;
  /** Batch rows per decoding run (sources are decoded this many at a time). Default 64. */
  batchSize?: number;
}

export interface BeamOptions extends DecodeOptions {
  /** Beams per source, K. Default 4. */
  beamWidth?: number;
  /** GNMT length penalty α: hypotheses ranked by logProb / ((5 + n) / 6)^α. Default 0 (the log-probability). */
  lengthPenalty?: number;
}

const IGNORE = -100;
const MAX_DECODE = 10_000;

type States = { h: Tensor; c: Tensor | null };

export class Seq2Seq {
  readonly config: Readonly<Required<Omit<Seq2SeqOptions, 'srcVocabSize' | 'srcFeatures'>> & { srcVocabSize: number | null; srcFeatures: number | null }>;
  readonly srcEmbedding: Embedding | null;
  readonly encoder: Recurrent | null;
  /** (L, B, D·He) → (L, B, Hd) when D·He ≠ Hd: tanh for h, linear for c (LSTM). */
  readonly bridgeH: Dense | null;
  readonly bridgeC: Dense | null;
  /** Vector source: per decoder layer, features → h0[l] (tanh) and c0[l] (linear, LSTM). */
  readonly initH: readonly Dense[];
  readonly initC: readonly Dense[];
  readonly tgtEmbedding: Embedding;
  readonly decoder: Recurrent;
  readonly attention: Attention | null;
  /** W_c: [context; h] (2Hd) → h̃ (A), tanh. */
  readonly combine: Dense | null;
  /** h̃ or h → logits (V_tgt). */
  readonly output: Dense;
  private readonly backend: Backend;
  private readonly runtime: RuntimeHandle;
  private disposed = false;
  /** Set to true (e.g. from a callback) to end fit() after the current batch. */
  stopTraining = false;

  constructor(runtime: RuntimeHandle, opts: Seq2SeqOptions) {
    const op = 'seq2seq';
    const backend = backendOf(op, 'runtime', runtime);
    if (opts === null || typeof opts !== 'object') throw new ValueError(`${op}: options must be an object with tgtVocabSize, embeddingDim, hiddenSize, startToken, endToken and srcVocabSize or srcFeatures, got ${describe(opts)}.`);
    const o = opts;
    if ((o.srcVocabSize === undefined) === (o.srcFeatures === undefined)) {
      throw new ValueError(`${op}: pass srcVocabSize (token-id sources) or srcFeatures (one feature vector per sample), exactly one of them.`);
    }
    if (o.srcVocabSize !== undefined) assertPositiveInt(op, 'srcVocabSize', o.srcVocabSize);
    if (o.srcFeatures !== undefined) assertPositiveInt(op, 'srcFeatures', o.srcFeatures);
    assertPositiveInt(op, 'tgtVocabSize', o.tgtVocabSize);
    assertPositiveInt(op, 'embeddingDim', o.embeddingDim);
    assertPositiveInt(op, 'hiddenSize', o.hiddenSize);
    const numLayers = o.numLayers ?? 1;
    assertPositiveInt(op, 'numLayers', numLayers);
    const cell = o.cell ?? 'gru';
    if (!['rnn', 'gru', 'lstm'].includes(cell)) throw new ValueError(`${op}: cell must be 'rnn', 'gru' or 'lstm', got ${describe(cell)}.`);
    for (const k of ['bidirectional', 'attention'] as const) {
      if (o[k] !== undefined && typeof o[k] !== 'boolean') throw new ValueError(`${op}: ${k} must be true or false, got ${describe(o[k])}.`);
    }
    const vector = o.srcFeatures !== undefined;
    const bidirectional = !!o.bidirectional;
    const attention = !!o.attention;
    if (vector && (bidirectional || attention || o.encoderHiddenSize !== undefined)) {
      throw new ValueError(`${op}: a vector source (srcFeatures) has no encoder, so bidirectional, attention and encoderHiddenSize do not apply.`);
    }
    const mergeStates = o.mergeStates ?? 'concat';
    if (mergeStates !== 'concat' && mergeStates !== 'sum') throw new ValueError(`${op}: mergeStates must be 'concat' or 'sum', got ${typeof o.mergeStates === 'string' ? `'${o.mergeStates}'` : describe(o.mergeStates)}.`);
    if (o.mergeStates !== undefined && !bidirectional) throw new ValueError(`${op}: mergeStates applies to a bidirectional encoder (bidirectional: true).`);
    const D = bidirectional ? 2 : 1;
    const Hd = o.hiddenSize;
    const He = o.encoderHiddenSize ?? (bidirectional && (mergeStates === 'concat' || attention) && Hd % 2 === 0 ? Hd / 2 : Hd);
    assertPositiveInt(op, 'encoderHiddenSize', He);
    if (attention && D * He !== Hd) {
      throw new ShapeError(`${op}: dot attention scores decoder states (hiddenSize ${Hd}) against encoder outputs (D·He = ${D}·${He} = ${D * He}); they must be equal. Hint: set encoderHiddenSize to ${bidirectional ? `hiddenSize / 2` : 'hiddenSize'}.`);
    }
    const attentionSize = o.attentionSize ?? Hd;
    assertPositiveInt(op, 'attentionSize', attentionSize);
    if (o.attentionSize !== undefined && !attention) throw new ValueError(`${op}: attentionSize needs attention: true.`);
    for (const k of ['startToken', 'endToken'] as const) {
      const v = o[k];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= o.tgtVocabSize) {
        throw new ValueError(`${op}: ${k} must be a token id in [0, tgtVocabSize) = [0, ${o.tgtVocabSize}), got ${describe(v)}.`);
      }
    }
    const seed = o.seed ?? 0;
    if (!Number.isSafeInteger(seed)) throw new ValueError(`${op}: seed must be a safe integer, got ${describe(seed)}.`);
    this.backend = backend;
    this.runtime = runtime;
    this.config = Object.freeze({
      srcVocabSize: o.srcVocabSize ?? null,
      srcFeatures: o.srcFeatures ?? null,
      tgtVocabSize: o.tgtVocabSize,
      cell,
      embeddingDim: o.embeddingDim,
      hiddenSize: Hd,
      encoderHiddenSize: vector ? 0 : He,
      numLayers,
      bidirectional,
      mergeStates,
      attention,
      attentionSize: attention ? attentionSize : 0,
      startToken: o.startToken,
      endToken: o.endToken,
      seed,
    });
    const made: { dispose(): void }[] = [];
    const keep = <L extends { dispose(): void }>(l: L): L => {
      made.push(l);
      return l;
    };
    try {
      const s = (k: number) => seed * 16 + k;
      const E = o.embeddingDim;
      const rec = (inputSize: number, hiddenSize: number, bidi: boolean, k: number) => keep(Recurrent.create(backend, cell, { inputSize, hiddenSize, numLayers, bidirectional: bidi, seed: s(k), returnSequences: true }));
      this.srcEmbedding = vector ? null : keep(Embedding.create(backend, { vocabSize: o.srcVocabSize!, dim: E, seed: s(1) }));
      this.encoder = vector ? null : rec(E, He, bidirectional, 2);
      const joined = mergeStates === 'sum' ? He : D * He; // the width of a layer's joined final state
      const project = !vector && joined !== Hd;
      this.bridgeH = project ? keep(Dense.create(backend, { inputSize: joined, units: Hd, activation: 'tanh', seed: s(3) })) : null;
      this.bridgeC = project && cell === 'lstm' ? keep(Dense.create(backend, { inputSize: joined, units: Hd, seed: s(4) })) : null;
      this.initH = vector ? Array.from({ length: numLayers }, (_, l) => keep(Dense.create(backend, { inputSize: o.srcFeatures!, units: Hd, activation: 'tanh', seed: s(5) + 1000 * l }))) : [];
      this.initC = vector && cell === 'lstm' ? Array.from({ length: numLayers }, (_, l) => keep(Dense.create(backend, { inputSize: o.srcFeatures!, units: Hd, seed: s(6) + 1000 * l }))) : [];
      this.tgtEmbedding = keep(Embedding.create(backend, { vocabSize: o.tgtVocabSize, dim: E, seed: s(7) }));
      this.decoder = rec(E, Hd, false, 8);
      this.attention = attention ? Attention.create(backend) : null;
      this.combine = attention ? keep(Dense.create(backend, { inputSize: 2 * Hd, units: attentionSize, activation: 'tanh', seed: s(9) })) : null;
      this.output = keep(Dense.create(backend, { inputSize: attention ? attentionSize : Hd, units: o.tgtVocabSize, seed: s(10) }));
    } catch (e) {
      for (const l of made) l.dispose();
      throw e;
    }
  }

  /** Whether sources are feature vectors (one-to-many) rather than token ids. */
  get vectorSource(): boolean {
    return this.config.srcFeatures !== null;
  }

  /** The weighted layers by their state_dict prefix, in forward order. */
  private named(): [string, Embedding | Recurrent | Dense][] {
    const out: [string, Embedding | Recurrent | Dense][] = [];
    if (this.srcEmbedding) out.push(['src_emb.', this.srcEmbedding]);
    if (this.encoder) out.push(['encoder.', this.encoder]);
    if (this.bridgeH) out.push(['bridge_h.', this.bridgeH]);
    if (this.bridgeC) out.push(['bridge_c.', this.bridgeC]);
    this.initH.forEach((d, l) => out.push([`init_h.${l}.`, d]));
    this.initC.forEach((d, l) => out.push([`init_c.${l}.`, d]));
    out.push(['tgt_emb.', this.tgtEmbedding], ['decoder.', this.decoder]);
    if (this.combine) out.push(['attn_combine.', this.combine]);
    out.push(['out.', this.output]);
    return out;
  }

  get paramCount(): number {
    return this.named().reduce((n, [, l]) => n + l.paramCount, 0);
  }

  /** Every trainable parameter, named `${prefix}${name}` (e.g. 'encoder.weight_ih_l0', 'out.bias'). */
  parameters(): Param[] {
    this.alive('parameters');
    return this.named().flatMap(([prefix, l]) => l.parameters().map((p) => ({ ...p, name: prefix + p.name })));
  }

  zeroGrad(): void {
    this.alive('zeroGrad');
    for (const [, l] of this.named()) l.zeroGrad();
  }

  /** The accumulated gradients, copied to the CPU, by state_dict name and PyTorch layout. */
  async gradients(): Promise<Record<string, Float32Array | Float64Array>> {
    this.alive('gradients');
    const out: Record<string, Float32Array | Float64Array> = {};
    for (const [prefix, l] of this.named()) {
      if (l instanceof Recurrent) {
        for (const [k, v] of Object.entries(await l.gradients())) out[prefix + k] = v;
        continue;
      }
      for (const p of l.parameters()) out[prefix + p.name] = p.kind === 'cpu' ? p.grad.slice() : await p.ctx.readback(p.grad, p.size);
    }
    return out;
  }

  /**
   * Loads a PyTorch state dict with the names of parameters(): 'src_emb.weight',
   * 'encoder.weight_ih_l0' …, 'bridge_h.weight', 'init_h.0.weight', 'tgt_emb.weight',
   * 'decoder.…', 'attn_combine.weight', 'out.weight', 'out.bias' (as a PyTorch module
   * with those attribute names saves them). Strict, and validated whole before any
   * layer changes.
   */
  loadTorchStateDict(sd: StateDict): void {
    const op = 'Seq2Seq.loadTorchStateDict';
    this.alive('loadTorchStateDict');
    const named = this.named();
    const subs = selectTorchKeys(op, sd, named.map(([prefix, l]) => ({ prefix, names: l.torchKeys(), label: prefix.slice(0, -1) })), 'all');
    const commits = named.map(([prefix, l], i) => l.prepareTorchStateDict(`${op}: '${prefix}'`, subs[i]));
    for (const c of commits) c();
  }

  /** The weights as they are on the device (read back first), by the names of loadTorchStateDict(). */
  async exportWeights(format: 'torch'): Promise<Record<string, { data: Float32Array; shape: number[] }>> {
    checkFormat('Seq2Seq.exportWeights', format);
    if (format !== 'torch') throw new ValueError("Seq2Seq.exportWeights: only 'torch' is supported (Keras has no single layout for an encoder–decoder).");
    this.alive('exportWeights');
    const out: Record<string, { data: Float32Array; shape: number[] }> = {};
    for (const [prefix, l] of this.named()) {
      const sd: Record<string, { data: Float32Array; shape: number[] }> = await (l as Dense).exportWeights('torch');
      for (const [k, v] of Object.entries(sd)) out[prefix + k] = v;
    }
    return out;
  }

  /**
   * Pads a batch: sources right-padded with 0 (their lengths kept), decoder
   * inputs [start, y…] and labels [y…, end] with −100 on padding. Validates every
   * id and feature.
   */
  prepare(src: readonly Seq2SeqSource[], tgt?: readonly ArrayLike<number>[]): Seq2SeqBatch {
    const op = 'Seq2Seq.prepare';
    this.alive('prepare');
    if (!Array.isArray(src) || src.length === 0) throw new ValueError(`${op}: src must be a non-empty array of ${this.vectorSource ? 'feature vectors' : 'token-id sequences'}, got ${describe(src)}.`);
    const B = src.length;
    if (tgt !== undefined && (!Array.isArray(tgt) || tgt.length !== B)) {
      throw new ShapeError(`${op}: tgt must be an array with one target per source (${B}), got ${Array.isArray(tgt) ? `${tgt.length} targets` : describe(tgt)}.`);
    }
    const cfg = this.config;
    let S: number;
    let srcArr: Float32Array;
    let srcLengths: number[] | null = null;
    if (this.vectorSource) {
      S = cfg.srcFeatures!;
      srcArr = new Float32Array(B * S);
      src.forEach((v, b) => {
        assertNumbers(op, `src[${b}]`, v);
        if (v.length !== S) throw new ShapeError(`${op}: src[${b}] has ${v.length} features, expected srcFeatures = ${S}.`);
        for (let f = 0; f < S; f++) {
          const x = v[f];
          if (!Number.isFinite(x) || Math.abs(x) > 3.4e38) throw new ValueError(`${op}: src[${b}][${f}] = ${x} is not a finite float32 value.`);
          srcArr[b * S + f] = x;
        }
      });
    } else {
      srcLengths = src.map((s, b) => {
        this.checkIds(op, `src[${b}]`, s, cfg.srcVocabSize!);
        if (s.length === 0) throw new ValueError(`${op}: src[${b}] is empty; a source needs at least one token.`);
        return s.length;
      });
      S = Math.max(...srcLengths);
      srcArr = new Float32Array(B * S);
      src.forEach((s, b) => {
        for (let t = 0; t < s.length; t++) srcArr[b * S + t] = s[t];
      });
    }
    const targets = tgt ?? src.map(() => []);
    targets.forEach((y, b) => this.checkIds(op, `tgt[${b}]`, y, cfg.tgtVocabSize));
    const tgtLengths = targets.map((y) => y.length + 1);
    const T = Math.max(...tgtLengths);
    const decoderInput = new Int32Array(B * T).fill(cfg.endToken);
    const labels = new Int32Array(B * T).fill(IGNORE);
    targets.forEach((y, b) => {
      decoderInput[b * T] = cfg.startToken;
      for (let t = 0; t < y.length; t++) {
        decoderInput[b * T + t + 1] = y[t];
        labels[b * T + t] = y[t];
      }
      labels[b * T + y.length] = cfg.endToken;
    });
    return { B, S, T, src: srcArr, srcLengths, decoderInput, labels, tgtLengths };
  }

  /** Teacher-forced logits (B, T, V_tgt) of a prepared batch (the caller owns them). */
  async predict(batch: Seq2SeqBatch): Promise<Tensor> {
    const r = await this.run(batch, false);
    return r.output;
  }

  /**
   * Teacher-forced forward pass that records what backward() needs:
   *   const batch = model.prepare(src, tgt);
   *   const { output, tape } = await model.record(batch);
   *   const { loss, grad } = await softmaxCrossEntropy(rt, output, batch.labels);
   *   await model.backward(tape, grad);
   */
  async record(batch: Seq2SeqBatch): Promise<{ output: Tensor; tape: Seq2SeqTape }> {
    const r = await this.run(batch, true);
    return { output: r.output, tape: r.tape! };
  }

  private async run(batch: Seq2SeqBatch, record: boolean): Promise<{ output: Tensor; tape: Seq2SeqTape | null }> {
    const op = record ? 'Seq2Seq.record' : 'Seq2Seq.predict';
    this.alive(record ? 'record' : 'predict');
    this.checkBatch(op, batch);
    const { B, T } = batch;
    const tape: Seq2SeqTape = {
      batch, srcEmb: null, encoder: null, bridgeH: null, bridgeC: null, initH: [], initC: [],
      tgtEmb: null as unknown as EmbeddingTape, decoder: null as unknown as RecurrentTape, attention: null, combine: null, out: null as unknown as DenseTape, used: false,
    };
    const live = new Set<Tensor>(); // results of this pass, freed once consumed
    const free = (...ts: (Tensor | null | undefined)[]) => {
      for (const t of ts) if (t) {
        t.dispose();
        live.delete(t);
      }
    };
    const own = <X extends Tensor | null>(t: X): X => {
      if (t) live.add(t);
      return t;
    };
    try {
      const enc = await this.encode(batch, record ? tape : null, own, free);
      // decoder, teacher forced
      let x: Tensor;
      if (record) {
        const r = await this.tgtEmbedding.record(batch.decoderInput, [B, T]);
        tape.tgtEmb = r.tape;
        x = own(r.output);
      } else x = own(await this.tgtEmbedding.forward(batch.decoderInput, [B, T]));
      const dec = await this.decoder.forward(x, { h0: enc.h, c0: enc.c ?? undefined, lengths: batch.tgtLengths, record });
      own(dec.output);
      free(x, dec.h, dec.c, enc.h, enc.c);
      if (dec.tape) tape.decoder = dec.tape;
      let feat = dec.output; // (B, T, Hd)
      if (this.attention && this.combine) {
        let cat: Tensor;
        if (record) {
          const r = await this.attention.record(feat, enc.encOut!, batch.srcLengths!);
          tape.attention = r.tape;
          cat = own(r.output);
        } else {
          const r = await this.attention.forward(feat, enc.encOut!, batch.srcLengths!);
          r.weights.dispose();
          cat = own(r.output);
        }
        free(feat);
        if (record) {
          const r = await this.combine.record(cat);
          tape.combine = r.tape;
          feat = own(r.output);
        } else feat = own(await this.combine.forward(cat));
        free(cat);
      }
      free(enc.encOut);
      let logits: Tensor;
      if (record) {
        const r = await this.output.record(feat);
        tape.out = r.tape;
        logits = r.output;
      } else logits = await this.output.forward(feat);
      free(feat);
      return { output: logits, tape: record ? tape : null };
    } catch (e) {
      for (const t of live) t.dispose();
      disposeTape(tape);
      throw e;
    }
  }

  /**
   * The decoder's initial states (L, B, Hd) from the sources, and the encoder
   * outputs (B, S, Hd) when attention needs them. Records into `tape` when given.
   */
  private async encode(
    batch: Seq2SeqBatch,
    tape: Seq2SeqTape | null,
    own: <X extends Tensor | null>(t: X) => X,
    free: (...ts: (Tensor | null | undefined)[]) => void,
  ): Promise<{ h: Tensor; c: Tensor | null; encOut: Tensor | null }> {
    const { B, S } = batch;
    const L = this.config.numLayers;
    const record = tape !== null;
    if (this.vectorSource) {
      const rows = async (layers: readonly Dense[], into: DenseTape[]) => {
        const parts: Tensor[] = [];
        try {
          for (const d of layers) {
            if (record) {
              const r = await d.record(batch.src, [B, S]);
              into.push(r.tape);
              parts.push(own(r.output));
            } else parts.push(own(await d.forward(batch.src, [B, S])));
          }
          return own(await stack(this.backend, parts));
        } finally {
          free(...parts);
        }
      };
      const h = await rows(this.initH, tape?.initH ?? []);
      const c = this.initC.length ? await rows(this.initC, tape?.initC ?? []) : null;
      return { h, c, encOut: null };
    }
    let x: Tensor;
    if (record) {
      const r = await this.srcEmbedding!.record(batch.src, [B, S]);
      tape.srcEmb = r.tape;
      x = own(r.output);
    } else x = own(await this.srcEmbedding!.forward(batch.src, [B, S]));
    const enc = await this.encoder!.forward(x, { lengths: batch.srcLengths!, record });
    own(enc.output);
    own(enc.h);
    own(enc.c);
    free(x);
    if (enc.tape) tape!.encoder = enc.tape;
    const D = this.config.bidirectional ? 2 : 1;
    const join = async (t: Tensor | null, bridge: Dense | null, slot: 'bridgeH' | 'bridgeC') => {
      if (!t) return null;
      const joined = D === 1 ? t : own(await (this.config.mergeStates === 'sum' ? sumDirections(this.backend, t, L, D) : joinDirections(this.backend, t, L, D)));
      if (D !== 1) free(t);
      if (!bridge) return joined;
      let out: Tensor;
      if (record) {
        const r = await bridge.record(joined);
        tape![slot] = r.tape;
        out = own(r.output);
      } else out = own(await bridge.forward(joined));
      free(joined);
      return out;
    };
    const h = (await join(enc.h, this.bridgeH, 'bridgeH'))!;
    const c = await join(enc.c, this.bridgeC, 'bridgeC');
    if (!this.attention) {
      free(enc.output);
      return { h, c, encOut: null };
    }
    return { h, c, encOut: enc.output };
  }

  /**
   * Backpropagation through the recorded pass, in exact reverse order; weight
   * gradients accumulate in the layers (zeroGrad() clears them). dOutput is
   * ∂L/∂logits (B, T, V_tgt). Consumes the tape.
   */
  async backward(tape: Seq2SeqTape, dOutput: Tensor): Promise<void> {
    const op = 'Seq2Seq.backward';
    this.alive('backward');
    if (tape === null || typeof tape !== 'object' || !tape.out || !tape.decoder) throw new ValueError(`${op}: tape must come from model.record(), got ${describe(tape)}.`);
    if (tape.used) throw new ValueError(`${op}: this tape was already used; record a new forward pass.`);
    const { B, S, T } = tape.batch;
    const V = this.config.tgtVocabSize;
    if (!(dOutput instanceof Tensor) || dOutput.shape.length !== 3 || dOutput.shape[0] !== B || dOutput.shape[1] !== T || dOutput.shape[2] !== V) {
      throw new ShapeError(`${op}: dOutput must be a Tensor (B, T, V) = (${B}, ${T}, ${V}), got ${dOutput instanceof Tensor ? `shape (${dOutput.shape.join(', ')})` : describe(dOutput)}.`);
    }
    tape.used = true;
    const live: Tensor[] = [];
    const own = <X extends Tensor | null>(t: X): X => {
      if (t) live.push(t);
      return t;
    };
    try {
      let d = own(await this.output.backward(tape.out, dOutput));
      let dEnc: Tensor | null = null;
      if (tape.attention && tape.combine) {
        const dCat = own(await this.combine!.backward(tape.combine, d));
        tape.combine = null;
        const r = await this.attention!.backward(tape.attention, dCat);
        tape.attention = null;
        d = own(r.dq);
        dEnc = own(r.de);
      }
      const dec = await this.decoder.backward(tape.decoder, { dOutput: d });
      own(dec.dx);
      own(dec.dh0);
      own(dec.dc0);
      await this.tgtEmbedding.backward(tape.tgtEmb, dec.dx.view([B * T, this.config.embeddingDim]));
      const L = this.config.numLayers;
      if (this.vectorSource) {
        const back = async (layers: readonly Dense[], tapes: DenseTape[], dState: Tensor) => {
          for (let l = 0; l < layers.length; l++) {
            const slice = own(await sliceFirst(this.backend, dState, l));
            own(await layers[l].backward(tapes[l], slice));
          }
        };
        await back(this.initH, tape.initH, dec.dh0);
        tape.initH = [];
        if (this.initC.length) await back(this.initC, tape.initC, dec.dc0!);
        tape.initC = [];
        return;
      }
      const D = this.config.bidirectional ? 2 : 1;
      const unjoin = async (g: Tensor | null, bridge: Dense | null, bt: DenseTape | null) => {
        if (!g) return undefined;
        const dj = bridge ? own(await bridge.backward(bt!, g)) : g;
        if (D === 1) return dj;
        return own(await (this.config.mergeStates === 'sum' ? repeatDirections(this.backend, dj, L, D) : splitDirections(this.backend, dj, L, D)));
      };
      const dh = await unjoin(dec.dh0, this.bridgeH, tape.bridgeH);
      tape.bridgeH = null;
      const dc = await unjoin(dec.dc0, this.bridgeC, tape.bridgeC);
      tape.bridgeC = null;
      const dOut = dEnc ?? own(zeros(this.backend, [B, S, D * this.config.encoderHiddenSize]));
      const enc = await this.encoder!.backward(tape.encoder!, { dOutput: dOut, dh, dc });
      tape.encoder = null;
      own(enc.dx);
      own(enc.dh0);
      own(enc.dc0);
      await this.srcEmbedding!.backward(tape.srcEmb!, enc.dx.view([B * S, this.config.embeddingDim]));
    } finally {
      for (const t of live) t.dispose();
      disposeTape(tape);
    }
  }

  /**
   * Trains with teacher forcing: per batch, record → softmax cross-entropy over the
   * target tokens and end tokens (padding ignored) → backward → clipping → the
   * optimizer's step. Every sample is validated before the first batch. One
   * readback per batch (the loss; a non-finite loss stops before that update).
   * Returns the history: loss (mean per token) and accuracy (per token) per epoch.
   */
  async fit(data: Seq2SeqFitData, opts: Seq2SeqFitOptions): Promise<{ epoch: number[]; history: Record<string, number[]>; stopped?: string }> {
    const op = 'Seq2Seq.fit';
    this.alive('fit');
    if (data === null || typeof data !== 'object') throw new ValueError(`${op}: data must be { src, tgt }, got ${describe(data)}.`);
    const o = checkOptions(op, 'options', opts);
    if (!o.optimizer) throw new ValueError(`${op}: pass { optimizer }, e.g. new Adam(model.parameters(), { lr: 0.01 }).`);
    const epochs = o.epochs ?? 1;
    assertPositiveInt(op, 'epochs', epochs);
    const batchSize = o.batchSize ?? 32;
    assertPositiveInt(op, 'batchSize', batchSize);
    for (const k of ['clipNorm', 'clipValue'] as const) {
      if (o[k] !== undefined && !(typeof o[k] === 'number' && o[k]! > 0)) throw new ValueError(`${op}: ${k} must be a positive number, got ${describe(o[k])}.`);
    }
    this.prepare(data.src as Seq2SeqSource[], data.tgt as ArrayLike<number>[]); // validates every sample up front
    const N = data.src.length;
    const rng = new Rng(o.seed ?? 0);
    const history: Record<string, number[]> = { loss: [], accuracy: [] };
    const epochsRun: number[] = [];
    this.stopTraining = false;
    for (let epoch = 0; epoch < epochs; epoch++) {
      const order = Array.from({ length: N }, (_, i) => i);
      if (o.shuffle ?? true) {
        for (let i = N - 1; i > 0; i--) {
          const j = Math.floor(rng.next() * (i + 1));
          [order[i], order[j]] = [order[j], order[i]];
        }
      }
      let lossSum = 0;
      let tokens = 0;
      let hits = 0;
      for (let start = 0, batchIndex = 0; start < N; start += batchSize, batchIndex++) {
        const rows = order.slice(start, start + batchSize);
        const batch = this.prepare(rows.map((i) => data.src[i]), rows.map((i) => data.tgt[i]));
        const { output, tape } = await this.record(batch);
        let grad: Tensor | null = null;
        try {
          const r = await softmaxCrossEntropy(this.runtime, output, batch.labels, { ignoreIndex: IGNORE });
          grad = r.grad;
          let value: number;
          try {
            value = (await r.loss.read())[0];
          } finally {
            r.loss.dispose();
          }
          if (!Number.isFinite(value)) {
            disposeTape(tape);
            throw new ValueError(`${op}: the loss is ${value} at epoch ${epoch}, batch ${batchIndex}; training stopped before that step, so the weights are as they were. Hint: lower the learning rate or set clipNorm.`);
          }
          await this.backward(tape, grad);
          const params = this.parameters();
          if (o.clipValue !== undefined) await clipGradValue(params, o.clipValue);
          if (o.clipNorm !== undefined) await clipGradNorm(params, o.clipNorm);
          try {
            await o.optimizer.step();
          } finally {
            this.zeroGrad();
          }
          const n = batch.labels.reduce((a, v) => a + (v === IGNORE ? 0 : 1), 0);
          lossSum += value * n;
          tokens += n;
          hits += tokenHits(await output.read(), batch.labels, this.config.tgtVocabSize);
          await o.onBatchEnd?.({ epoch, batch: batchIndex, loss: value });
        } finally {
          output.dispose();
          grad?.dispose();
          if (!tape.used) disposeTape(tape);
        }
        if (this.stopTraining) break;
      }
      epochsRun.push(epoch);
      history.loss.push(lossSum / Math.max(tokens, 1));
      history.accuracy.push(hits / Math.max(tokens, 1));
      await o.onEpochEnd?.({ epoch, logs: { loss: history.loss.at(-1)!, accuracy: history.accuracy.at(-1)! } });
      if (this.stopTraining) return { epoch: epochsRun, history, stopped: 'stopTraining was set' };
    }
    return { epoch: epochsRun, history };
  }

  /**
   * Greedy decoding: for each source, the likeliest token at every step (the
   * lowest id among equal maxima) until the end token or maxLength. Returns the
   * tokens, end token excluded, one array per source. Sources run batchSize at a time.
   */
  async translate(src: readonly Seq2SeqSource[], opts: DecodeOptions = {}): Promise<number[][]> {
    const op = 'Seq2Seq.translate';
    this.alive('translate');
    const o = checkOptions(op, 'options', opts);
    const maxLength = decodeLimit(op, o.maxLength);
    const batchSize = o.batchSize ?? 64;
    assertPositiveInt(op, 'batchSize', batchSize);
    this.prepare(src as Seq2SeqSource[]); // validates all before running any
    const out: number[][] = [];
    for (let i = 0; i < src.length; i += batchSize) out.push(...(await this.greedy(src.slice(i, i + batchSize), maxLength)));
    return out;
  }

  /**
   * Beam search (see src/models/beam.ts): K beams per source, ranked by the
   * GNMT-normalised log-probability, until every source has K finished hypotheses
   * (or cannot improve) or maxLength. Returns, per source, its hypotheses best
   * first (at most K), each with tokens (end token excluded), logProb and score.
   * All B·K beams decode as one batch; states are reordered on the backend.
   */
  async beamSearch(src: readonly Seq2SeqSource[], opts: BeamOptions = {}): Promise<Hypothesis[][]> {
    const op = 'Seq2Seq.beamSearch';
    this.alive('beamSearch');
    const o = checkOptions(op, 'options', opts);
    const maxLength = decodeLimit(op, o.maxLength);
    const K = o.beamWidth ?? 4;
    assertPositiveInt(op, 'beamWidth', K);
    if (K > this.config.tgtVocabSize) throw new ValueError(`${op}: beamWidth ${K} is more than the ${this.config.tgtVocabSize} target tokens.`);
    const alpha = o.lengthPenalty ?? 0;
    if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha < 0) throw new ValueError(`${op}: lengthPenalty must be a finite number ≥ 0, got ${describe(alpha)}.`);
    const batchSize = o.batchSize ?? 64;
    assertPositiveInt(op, 'batchSize', batchSize);
    this.prepare(src as Seq2SeqSource[]);
    const out: Hypothesis[][] = [];
    const per = Math.max(1, Math.floor(batchSize / K));
    for (let i = 0; i < src.length; i += per) out.push(...(await this.beam(src.slice(i, i + per), K, alpha, maxLength)));
    return out;
  }

  private async greedy(src: readonly Seq2SeqSource[], maxLength: number): Promise<number[][]> {
    const batch = this.prepare(src as Seq2SeqSource[]);
    const B = batch.B;
    const V = this.config.tgtVocabSize;
    const session = await this.startDecoding(batch, null);
    try {
      const out: number[][] = src.map(() => []);
      const done = new Array<boolean>(B).fill(false);
      let ids: Int32Array = new Int32Array(B).fill(this.config.startToken);
      for (let step = 0; step < maxLength && !done.every(Boolean); step++) {
        const logits = await session.step(ids);
        ids = new Int32Array(B);
        for (let b = 0; b < B; b++) {
          let best = 0;
          for (let v = 1; v < V; v++) if (logits[b * V + v] > logits[b * V + best]) best = v;
          ids[b] = best;
          if (done[b]) continue;
          if (best === this.config.endToken) done[b] = true;
          else out[b].push(best);
        }
      }
      return out;
    } finally {
      session.dispose();
    }
  }

  private async beam(src: readonly Seq2SeqSource[], K: number, alpha: number, maxLength: number): Promise<Hypothesis[][]> {
    const batch = this.prepare(src as Seq2SeqSource[]);
    const B = batch.B;
    const V = this.config.tgtVocabSize;
    const rows = Int32Array.from({ length: B * K }, (_, r) => Math.floor(r / K)); // row b·K + k reads source b
    const session = await this.startDecoding(batch, rows);
    try {
      const state = new BeamState(B, K, { lengthPenalty: alpha, endToken: this.config.endToken });
      let ids: Int32Array = new Int32Array(B * K).fill(this.config.startToken);
      for (let step = 0; step < maxLength && !state.done; step++) {
        const logits = await session.step(ids);
        const { parents, tokens } = state.advance(logSoftmaxRows(logits, B * K, V), V);
        if (state.done || step + 1 >= maxLength) break;
        await session.reorder(parents);
        ids = tokens;
      }
      return state.results();
    } finally {
      session.dispose();
    }
  }

  /**
   * Encodes a batch and returns a decoding session: step(ids) runs one decoder
   * step for every row (R = B, or B·K with `rows` naming each row's source) and
   * returns its logits (R, V) — the one readback per step; reorder(parents) makes
   * row r continue the state of row parents[r] (beam search), on the backend.
   */
  private async startDecoding(batch: Seq2SeqBatch, rows: Int32Array | null) {
    const be = this.backend;
    const live = new Set<Tensor>();
    const own = <X extends Tensor | null>(t: X): X => {
      if (t) live.add(t);
      return t;
    };
    const free = (...ts: (Tensor | null | undefined)[]) => {
      for (const t of ts) if (t) {
        t.dispose();
        live.delete(t);
      }
    };
    let states: States;
    let encOut: Tensor | null;
    let srcLengths: number[] | null = batch.srcLengths;
    let R = batch.B;
    try {
      const enc = await this.encode(batch, null, own, free);
      states = { h: enc.h, c: enc.c };
      encOut = enc.encOut;
      if (rows) {
        R = rows.length;
        const h = own(await gatherAxis(be, states.h, 1, rows));
        const c = states.c ? own(await gatherAxis(be, states.c, 1, rows)) : null;
        free(states.h, states.c);
        states = { h, c };
        if (encOut) {
          const e = own(await gatherAxis(be, encOut, 0, rows));
          free(encOut);
          encOut = e;
        }
        srcLengths = srcLengths ? Array.from(rows, (b) => srcLengths![b]) : null;
      }
    } catch (e) {
      for (const t of live) t.dispose();
      throw e;
    }
    const session = {
      step: async (ids: Int32Array): Promise<ArrayLike<number>> => {
        const x = own(await this.tgtEmbedding.forward(ids, [R, 1]));
        const r = await this.decoder.forward(x, { h0: states.h, c0: states.c ?? undefined });
        own(r.output);
        own(r.h);
        own(r.c);
        free(x, states.h, states.c);
        states = { h: r.h, c: r.c };
        let feat = r.output;
        if (this.attention && this.combine) {
          const a = await this.attention.forward(feat, encOut!, srcLengths!);
          a.weights.dispose();
          own(a.output);
          free(feat);
          feat = own(await this.combine.forward(a.output));
          free(a.output);
        }
        const logits = own(await this.output.forward(feat));
        free(feat);
        try {
          return await logits.read();
        } finally {
          free(logits);
        }
      },
      reorder: async (parents: Int32Array): Promise<void> => {
        const h = own(await gatherAxis(be, states.h, 1, parents));
        const c = states.c ? own(await gatherAxis(be, states.c, 1, parents)) : null;
        free(states.h, states.c);
        states = { h, c };
      },
      dispose: () => {
        for (const t of live) t.dispose();
        live.clear();
      },
    };
    return session;
  }

  private checkIds(op: string, arg: string, ids: unknown, V: number): void {
    assertNumbers(op, arg, ids);
    for (let t = 0; t < ids.length; t++) {
      const v = ids[t];
      if (!Number.isInteger(v) || v < 0 || v >= V) throw new ValueError(`${op}: ${arg}[${t}] = ${v} is not a token id in [0, ${V}).`);
    }
  }

  private checkBatch(op: string, batch: Seq2SeqBatch): void {
    if (batch === null || typeof batch !== 'object' || !(batch.src instanceof Float32Array) || !(batch.decoderInput instanceof Int32Array)) {
      throw new ValueError(`${op}: pass a batch from model.prepare(src, tgt), got ${describe(batch)}.`);
    }
    if (this.vectorSource !== (batch.srcLengths === null) || (this.vectorSource && batch.S !== this.config.srcFeatures)) {
      throw new ValueError(`${op}: this batch was prepared for another model (its source kind or size differs). Hint: use this model's prepare().`);
    }
  }

  private alive(method: string): void {
    if (this.disposed) throw new DisposedError(`Seq2Seq.${method}: this model was disposed.`);
    if (this.backend.kind === 'webgpu') this.backend.ctx.check(`Seq2Seq.${method}`);
  }

  /** Frees every layer's weights and gradients. */
  dispose(): void {
    for (const [, l] of this.named()) l.dispose();
    this.disposed = true;
  }
}

/** Frees what a tape still holds (after a failed or skipped backward). */
function disposeTape(tape: Seq2SeqTape): void {
  tape.used = true;
  tape.encoder?.dispose();
  tape.decoder?.dispose();
  for (const d of [tape.bridgeH, tape.bridgeC, tape.combine, tape.out, ...tape.initH, ...tape.initC]) {
    d?.x.dispose();
    d?.y?.dispose();
  }
  if (tape.attention) disposeAttentionTape(tape.attention);
  tape.encoder = tape.bridgeH = tape.bridgeC = tape.combine = tape.attention = null;
  tape.initH = [];
  tape.initC = [];
}

function decodeLimit(op: string, v: unknown): number {
  const n = v ?? 50;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_DECODE) throw new ValueError(`${op}: maxLength must be an integer in [1, ${MAX_DECODE}], got ${describe(v)}.`);
  return n;
}

/** Rows whose argmax is the label, among rows whose label is kept. */
function tokenHits(logits: ArrayLike<number>, labels: Int32Array, V: number): number {
  let hits = 0;
  for (let r = 0; r < labels.length; r++) {
    if (labels[r] === IGNORE) continue;
    let best = 0;
    for (let v = 1; v < V; v++) if (logits[r * V + v] > logits[r * V + best]) best = v;
    if (best === labels[r]) hits++;
  }
  return hits;
}

// ---------------------------------------------------------------------------
// Moving rows between tensors on either backend (buffer copies on the GPU, no
// readback): one function does the copying, the others say which regions.

/** A region: `len` floats from src at srcOff to the new tensor at dstOff. */
type Region = { src: Tensor; srcOff: number; dstOff: number; len: number };

async function assemble(be: Backend, shape: readonly number[], regions: Region[], label: string): Promise<Tensor> {
  const n = shape.reduce((a, b) => a * b, 1);
  if (be.kind === 'cpu') {
    const out = new Float64Array(n);
    for (const r of regions) out.set(r.src.cpuData(label).subarray(r.srcOff, r.srcOff + r.len), r.dstOff);
    return Tensor.fromCpu(out, shape);
  }
  const ctx = be.ctx;
  const out = ctx.createStorage(label, n);
  try {
    await ctx.submit(label, (enc) => {
      for (const r of regions) enc.copyBufferToBuffer(r.src.gpuBuffer(label), r.srcOff * 4, out, r.dstOff * 4, r.len * 4);
    });
  } catch (e) {
    ctx.destroyBuffer(out);
    throw e;
  }
  return Tensor.fromGpu(ctx, out, shape);
}

/** (L·D, B, H) → (L, B, D·H): each layer's directions side by side (forward, reverse). */
function joinDirections(be: Backend, h: Tensor, L: number, D: number): Promise<Tensor> {
  const [, B, H] = h.shape;
  const regions: Region[] = [];
  for (let l = 0; l < L; l++) for (let d = 0; d < D; d++) for (let b = 0; b < B; b++) regions.push({ src: h, srcOff: ((l * D + d) * B + b) * H, dstOff: (l * B + b) * D * H + d * H, len: H });
  return assemble(be, [L, B, D * H], regions, 'seq2seq.join_directions');
}

/** The inverse of joinDirections: (L, B, D·H) → (L·D, B, H). */
function splitDirections(be: Backend, g: Tensor, L: number, D: number): Promise<Tensor> {
  const [, B, DH] = g.shape;
  const H = DH / D;
  const regions: Region[] = [];
  for (let l = 0; l < L; l++) for (let d = 0; d < D; d++) for (let b = 0; b < B; b++) regions.push({ src: g, srcOff: (l * B + b) * DH + d * H, dstOff: ((l * D + d) * B + b) * H, len: H });
  return assemble(be, [L * D, B, H], regions, 'seq2seq.split_directions');
}

/**
 * (L·D, B, H) → (L, B, H): each layer's directions summed. Viewed as (L, D, B·H),
 * that is RepeatVector's backward (a sum over its middle axis): its kernels and CPU twin.
 */
function sumDirections(be: Backend, h: Tensor, L: number, D: number): Promise<Tensor> {
  const [, B, H] = h.shape;
  const sum = RepeatVector.create(be, D);
  return sum.backward({ B: L, F: B * H, used: false }, h.view([L, D, B * H])).then((t) => t.reshape([L, B, H]));
}

/** The gradient of sumDirections: (L, B, H) → (L·D, B, H), each direction gets it whole (RepeatVector's forward). */
function repeatDirections(be: Backend, g: Tensor, L: number, D: number): Promise<Tensor> {
  const [, B, H] = g.shape;
  return RepeatVector.create(be, D).forward(g.view([L, B * H])).then((t) => t.reshape([L * D, B, H]));
}

/** Equal-shaped tensors (B, H) stacked along a new first axis: (n, B, H). */
function stack(be: Backend, parts: Tensor[]): Promise<Tensor> {
  const size = parts[0].size;
  return assemble(be, [parts.length, ...parts[0].shape], parts.map((p, i) => ({ src: p, srcOff: 0, dstOff: i * size, len: size })), 'seq2seq.stack');
}

/** t[i] along the first axis, as a tensor of its own. */
function sliceFirst(be: Backend, t: Tensor, i: number): Promise<Tensor> {
  const inner = t.size / t.shape[0];
  return assemble(be, t.shape.slice(1), [{ src: t, srcOff: i * inner, dstOff: 0, len: inner }], 'seq2seq.slice');
}

/** Picks indices `idx` along `axis`: out[…, k, …] = t[…, idx[k], …]. */
function gatherAxis(be: Backend, t: Tensor, axis: number, idx: ArrayLike<number>): Promise<Tensor> {
  const outer = t.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const n = t.shape[axis];
  const inner = t.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const regions: Region[] = [];
  for (let o = 0; o < outer; o++) for (let k = 0; k < idx.length; k++) regions.push({ src: t, srcOff: (o * n + idx[k]) * inner, dstOff: (o * idx.length + k) * inner, len: inner });
  const shape = [...t.shape];
  shape[axis] = idx.length;
  return assemble(be, shape, regions, 'seq2seq.gather');
}

function zeros(be: Backend, shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  if (be.kind === 'cpu') return Tensor.fromCpu(new Float64Array(n), shape);
  return Tensor.fromGpu(be.ctx, be.ctx.createStorage('seq2seq.zeros', n), shape);
}
