// Recurrent layers: SimpleRNN, GRU and LSTM stacks (multi-layer, bidirectional),
// on the GPU through the scheduler or on the CPU through the reference.
//
// Data path: forward() validates everything first (so a bad call changes
// nothing), then runs either recurrentForwardGpu (scheduler → kernels → WGSL) or
// recurrentForwardCpu (reference), and returns Tensors the caller owns.
import type { Backend } from '../backend';
import { ShapeError, ValueError, WeightError, assertFinite, assertLength, assertPositiveInt, fmtShape } from '../errors';
import type { GpuContext } from '../gpu/context';
import { matmulBiasRef } from '../reference/matmul';
import { recurrenceRef } from '../reference/recurrent';
import { recurrentForwardGpu, type GpuCellWeights, type RecurrentPath, type RecurrentRunStats } from '../scheduler';
import { Tensor } from '../tensor';
import { initKeras, initTorch } from '../weights/init';
import { cellToKeras, kerasToCell, type KerasRecurrentArrays, type KerasRecurrentWeights } from '../weights/keras';
import { fromTorchStateDict, toTorchStateDict } from '../weights/torch';
import {
  directions,
  gateCount,
  layerInputSize,
  recurrentParamCount,
  type CellType,
  type RecurrentConfig,
  type StackWeights,
  type StateDict,
} from '../weights/types';

export interface RecurrentOptions {
  inputSize: number;
  hiddenSize: number;
  numLayers?: number;
  bidirectional?: boolean;
  /** SimpleRNN only. Default 'tanh'. */
  nonlinearity?: 'tanh' | 'relu';
  /** GRU only: true (default) = PyTorch = Keras reset_after=True; false = Keras reset_after=False. */
  resetAfter?: boolean;
  /**
   * 'pytorch' (default): two biases, PyTorch init (uniform ±1/√H).
   * 'keras': Keras's single bias (two for GRU reset_after=True), Glorot/orthogonal init, LSTM forget bias 1.
   */
  convention?: 'pytorch' | 'keras';
  /** Seed of the initialiser. Default 0. */
  seed?: number;
  /** In a Sequential model: pass the whole sequence on (true) or only the last step (false, default). */
  returnSequences?: boolean;
}

/** A plain or GPU input: Float32Array data, or a Tensor already on this backend. */
export type Input = Float32Array | Float64Array | number[] | Tensor;

export interface RecurrentForwardOptions {
  /** B. Needed for array inputs unless seqLen is given (then inferred). */
  batch?: number;
  /** T. Needed for array inputs unless batch is given (then inferred). */
  seqLen?: number;
  /** Initial hidden state (L·D, B, H); zeros if absent. */
  h0?: Input;
  /** Initial cell state (L·D, B, H), LSTM only; zeros if absent. */
  c0?: Input;
  /** Valid steps per sample (B), each in [1, T]: outputs past it are 0 and the final state is taken at it. */
  lengths?: ArrayLike<number>;
  /** GPU path: 'auto' (default) picks by shape and limits. */
  path?: RecurrentPath;
}

export interface RecurrentOutput {
  /** (B, T, D·H), directions concatenated (forward, reverse). */
  output: Tensor;
  /** (L·D, B, H) final hidden state of every layer and direction. */
  h: Tensor;
  /** (L·D, B, H) final cell state, LSTM only. */
  c: Tensor | null;
  stats: RecurrentRunStats;
}

const CELL_NAME: Record<CellType, string> = { rnn: 'SimpleRNN', gru: 'GRU', lstm: 'LSTM' };

export class Recurrent {
  readonly config: Readonly<RecurrentConfig>;
  readonly returnSequences: boolean;
  private readonly backend: Backend;
  private weights: StackWeights; // CPU master copy (float32), PyTorch layout
  private gpuWeights: GpuCellWeights[][] | null = null;
  private disposed = false;

  constructor(backend: Backend, cell: CellType, opts: RecurrentOptions) {
    const op = `${cell}`;
    if (!opts || typeof opts !== 'object') throw new ValueError(`${op}: options must be an object with inputSize and hiddenSize.`);
    assertPositiveInt(op, 'inputSize', opts.inputSize);
    assertPositiveInt(op, 'hiddenSize', opts.hiddenSize);
    const numLayers = opts.numLayers ?? 1;
    assertPositiveInt(op, 'numLayers', numLayers);
    const convention = opts.convention ?? 'pytorch';
    if (convention !== 'pytorch' && convention !== 'keras') throw new ValueError(`${op}: convention must be 'pytorch' or 'keras', got '${String(convention)}'.`);
    const nonlinearity = opts.nonlinearity ?? 'tanh';
    if (nonlinearity !== 'tanh' && nonlinearity !== 'relu') throw new ValueError(`${op}: nonlinearity must be 'tanh' or 'relu', got '${String(nonlinearity)}'.`);
    if (opts.nonlinearity && cell !== 'rnn') throw new ValueError(`${op}: nonlinearity applies to SimpleRNN only.`);
    if (opts.resetAfter !== undefined && cell !== 'gru') throw new ValueError(`${op}: resetAfter applies to GRU only.`);
    const resetAfter = opts.resetAfter ?? true;
    this.config = Object.freeze({
      cell,
      inputSize: opts.inputSize,
      hiddenSize: opts.hiddenSize,
      numLayers,
      bidirectional: !!opts.bidirectional,
      nonlinearity,
      resetAfter,
      bias: convention === 'keras' && !(cell === 'gru' && resetAfter) ? 'single' : 'double',
    });
    this.returnSequences = !!opts.returnSequences;
    this.backend = backend;
    this.weights = convention === 'keras' ? initKeras(this.config, opts.seed ?? 0) : initTorch(this.config, opts.seed ?? 0);
    this.upload();
  }

  get kind(): string {
    return CELL_NAME[this.config.cell];
  }

  /** Trainable parameters, as PyTorch (two biases) or Keras (one bias) count them. */
  get paramCount(): number {
    return recurrentParamCount(this.config);
  }

  /** Output feature size D·H. */
  get outputSize(): number {
    return this.config.hiddenSize * directions(this.config);
  }

  /** Loads PyTorch weights (strict: every key present, none extra, shapes exact). */
  loadTorchStateDict(sd: StateDict): void {
    this.alive('loadTorchStateDict');
    this.setWeights(fromTorchStateDict(`${this.kind}.loadTorchStateDict`, this.config, sd));
  }

  /** The weights in PyTorch's state_dict naming and layout. */
  torchStateDict(): Record<string, { data: Float32Array; shape: number[] }> {
    this.alive('torchStateDict');
    return toTorchStateDict(this.config, this.weights);
  }

  /**
   * Loads Keras weights: one entry per layer (and direction: [forward, backward] for
   * bidirectional), each `[kernel (I, G), recurrent_kernel (H, G), bias]` as Keras's get_weights().
   */
  loadKerasWeights(layers: KerasRecurrentWeights[] | KerasRecurrentWeights[][]): void {
    const op = `${this.kind}.loadKerasWeights`;
    this.alive(op);
    const D = directions(this.config);
    if (!Array.isArray(layers) || layers.length !== this.config.numLayers) {
      throw new WeightError(`${op}: expected ${this.config.numLayers} layer entr${this.config.numLayers === 1 ? 'y' : 'ies'}, got ${Array.isArray(layers) ? layers.length : typeof layers}.`);
    }
    const stack: StackWeights = layers.map((entry, l) => {
      const dirs = (D === 2 ? entry : [entry]) as KerasRecurrentWeights[];
      if (!Array.isArray(dirs) || dirs.length !== D) throw new WeightError(`${op}: layer ${l} needs ${D} direction entries [forward, backward], got ${Array.isArray(dirs) ? dirs.length : typeof dirs}.`);
      return dirs.map((w, d) =>
        kerasToCell(this.config.cell, this.config.resetAfter, w, { inputSize: layerInputSize(this.config, l), hiddenSize: this.config.hiddenSize }, `${op}: layer ${l}${D === 2 ? (d ? ' backward' : ' forward') : ''}`),
      );
    });
    this.setWeights(stack);
  }

  /** The weights in Keras layout, one [kernel, recurrent_kernel, bias] per layer (per direction if bidirectional). */
  kerasWeights(): KerasRecurrentArrays[][] {
    this.alive('kerasWeights');
    return this.weights.map((row, l) =>
      row.map((w) =>
        cellToKeras(this.config.cell, this.config.resetAfter, w, { inputSize: layerInputSize(this.config, l), hiddenSize: this.config.hiddenSize }, `${this.kind}.kerasWeights: layer ${l}`),
      ),
    );
  }

  /** Runs the stack over a padded batch. x is (B, T, I), batch-first. */
  async forward(x: Input, opts: RecurrentForwardOptions = {}): Promise<RecurrentOutput> {
    const op = `${this.kind}.forward`;
    this.alive(op);
    const { config: cfg } = this;
    const I = cfg.inputSize;
    const H = cfg.hiddenSize;
    const LD = cfg.numLayers * directions(cfg);
    const { B, T } = resolveBT(op, x, I, opts.batch, opts.seqLen);
    const lengths = checkLengths(op, opts.lengths, B, T);
    if (opts.path !== undefined && !['auto', 'step', 'persistent'].includes(opts.path)) {
      throw new ValueError(`${op}: path must be 'auto', 'step' or 'persistent', got '${String(opts.path)}'.`);
    }
    if (opts.c0 !== undefined && cfg.cell !== 'lstm') throw new ValueError(`${op}: c0 is only for LSTM; a ${this.kind} has no cell state.`);
    const hint = 'pass one row per layer and direction (L·D), then per sequence in the batch.';
    checkInput(op, 'x', x, [B, T, I], '(B, T, I)', this.backend, 'x is batch-first: (batch, steps, features).');
    if (opts.h0 !== undefined) checkInput(op, 'h0', opts.h0, [LD, B, H], '(L·D, B, H)', this.backend, hint);
    if (opts.c0 !== undefined) checkInput(op, 'c0', opts.c0, [LD, B, H], '(L·D, B, H)', this.backend, hint);

    if (this.backend.kind === 'cpu') return this.forwardCpu(x, B, T, lengths, opts);
    const ctx = this.backend.ctx;
    const owned: GPUBuffer[] = [];
    const toGpu = (v: Input | undefined, label: string): GPUBuffer | null => {
      if (v === undefined) return null;
      if (v instanceof Tensor) return v.gpuBuffer(op);
      const b = ctx.createStorage(label, Float32Array.from(v));
      owned.push(b);
      return b;
    };
    try {
      const res = await recurrentForwardGpu(ctx, cfg, this.gpuWeights!, {
        x: toGpu(x, 'x')!,
        B,
        T,
        lengths,
        h0: toGpu(opts.h0, 'h0'),
        c0: toGpu(opts.c0, 'c0'),
        path: opts.path ?? 'auto',
      });
      return {
        output: Tensor.fromGpu(ctx, res.out, [B, T, this.outputSize]),
        h: Tensor.fromGpu(ctx, res.hN, [LD, B, H]),
        c: res.cN ? Tensor.fromGpu(ctx, res.cN, [LD, B, H]) : null,
        stats: res.stats,
      };
    } finally {
      for (const b of owned) ctx.destroyBuffer(b);
    }
  }

  /** A batch of independent streams whose state stays on this layer's backend between calls. */
  stream(batch: number): RecurrentStream {
    this.alive(`${this.kind}.stream`);
    return new RecurrentStream(this, batch);
  }

  /** Frees the GPU weights. */
  dispose(): void {
    this.freeGpu();
    this.disposed = true;
  }

  /** @internal */
  get backendRef(): Backend {
    return this.backend;
  }

  private forwardCpu(x: Input, B: number, T: number, lengths: Uint32Array, opts: RecurrentForwardOptions): RecurrentOutput {
    const cfg = this.config;
    const H = cfg.hiddenSize;
    const D = directions(cfg);
    const G = gateCount(cfg.cell) * H;
    const BH = B * H;
    const data = (v: Input | undefined) => (v === undefined ? null : v instanceof Tensor ? v.cpuData('forward') : Float64Array.from(v));
    const h0 = data(opts.h0);
    const c0 = data(opts.c0);
    let input: ArrayLike<number> = data(x)!;
    const hN = new Float64Array(cfg.numLayers * D * BH);
    const cN = cfg.cell === 'lstm' ? new Float64Array(cfg.numLayers * D * BH) : null;
    let out = new Float64Array(0);
    for (let l = 0; l < cfg.numLayers; l++) {
      out = new Float64Array(B * T * D * H);
      for (let d = 0; d < D; d++) {
        const w = this.weights[l][d];
        const ld = l * D + d;
        const xg = matmulBiasRef(input, w.wih, w.bih, B * T, G, layerInputSize(cfg, l));
        const r = recurrenceRef({
          cell: cfg.cell,
          nonlinearity: cfg.nonlinearity,
          resetAfter: cfg.resetAfter,
          B,
          T,
          H,
          reverse: d === 1,
          xg,
          whh: w.whh,
          bhh: w.bhh,
          lengths,
          h0: h0 ? h0.subarray(ld * BH, (ld + 1) * BH) : new Float64Array(BH),
          c0: c0 ? c0.subarray(ld * BH, (ld + 1) * BH) : null,
        });
        for (let bt = 0; bt < B * T; bt++) {
          for (let j = 0; j < H; j++) out[bt * D * H + d * H + j] = r.out[bt * H + j];
        }
        hN.set(r.hs.subarray(T * BH), ld * BH);
        if (cN && r.cs) cN.set(r.cs.subarray(T * BH), ld * BH);
      }
      input = out;
    }
    return {
      output: Tensor.fromCpu(out, [B, T, D * H]),
      h: Tensor.fromCpu(hN, [cfg.numLayers * D, B, H]),
      c: cN ? Tensor.fromCpu(cN, [cfg.numLayers * D, B, H]) : null,
      stats: { backend: 'cpu', path: 'cpu', dispatches: 0, dispatchesPerStep: 0 },
    };
  }

  private setWeights(stack: StackWeights): void {
    // Everything was validated before this point; replace atomically.
    this.weights = stack;
    this.upload();
  }

  private upload(): void {
    if (this.backend.kind !== 'webgpu') return;
    const ctx = this.backend.ctx;
    const H = this.config.hiddenSize;
    const G = gateCount(this.config.cell) * H;
    const fresh: GpuCellWeights[][] = [];
    try {
      for (const [l, row] of this.weights.entries()) {
        fresh.push(
          row.map((w, d) => {
            const whhT = new Float32Array(H * G);
            for (let g = 0; g < G; g++) for (let k = 0; k < H; k++) whhT[k * G + g] = w.whh[g * H + k];
            const tag = `${this.config.cell}_l${l}_d${d}`;
            return {
              wih: ctx.createStorage(`${tag}.wih`, w.wih),
              whhT: ctx.createStorage(`${tag}.whhT`, whhT),
              bih: ctx.createStorage(`${tag}.bih`, w.bih),
              bhh: ctx.createStorage(`${tag}.bhh`, w.bhh),
            };
          }),
        );
      }
    } catch (e) {
      freeCells(ctx, fresh);
      throw e;
    }
    this.freeGpu();
    this.gpuWeights = fresh;
  }

  private freeGpu(): void {
    if (this.gpuWeights && this.backend.kind === 'webgpu') freeCells(this.backend.ctx, this.gpuWeights);
    this.gpuWeights = null;
  }

  private alive(op: string): void {
    if (this.disposed) throw new ValueError(`${op}: this layer was disposed.`);
    if (this.backend.kind === 'webgpu') this.backend.ctx.check(op);
  }
}

function freeCells(ctx: GpuContext, cells: GpuCellWeights[][]): void {
  for (const row of cells) for (const w of row) for (const b of [w.wih, w.whhT, w.bih, w.bhh]) ctx.destroyBuffer(b);
}

/** B and T from explicit options, the input's shape, or its length. */
export function resolveBT(op: string, x: Input, I: number, batch?: number, seqLen?: number): { B: number; T: number } {
  if (x instanceof Tensor) {
    if (x.shape.length !== 3) throw new ShapeError(`${op}: x has shape ${fmtShape(x.shape)}, expected (B, T, I) with I = ${I}.`);
    const [B, T] = x.shape;
    if ((batch !== undefined && batch !== B) || (seqLen !== undefined && seqLen !== T)) {
      throw new ShapeError(`${op}: x has shape ${fmtShape(x.shape)} but batch = ${batch}, seqLen = ${seqLen} were given.`);
    }
    return { B, T };
  }
  if (!x || typeof (x as ArrayLike<number>).length !== 'number') throw new ShapeError(`${op}: x must be a Float32Array, number[] or Tensor of shape (B, T, I).`);
  if (batch !== undefined) assertPositiveInt(op, 'batch', batch);
  if (seqLen !== undefined) assertPositiveInt(op, 'seqLen', seqLen);
  const n = x.length;
  if (batch !== undefined && seqLen !== undefined) return { B: batch, T: seqLen };
  if (batch === undefined && seqLen === undefined) {
    throw new ShapeError(`${op}: x is a flat array of ${n} values; pass batch and/or seqLen so its shape (B, T, I = ${I}) is known.`);
  }
  const known = (batch ?? seqLen)! * I;
  if (n % known !== 0 || n === 0) {
    throw new ShapeError(`${op}: x has ${n} values, not a multiple of ${batch !== undefined ? 'batch' : 'seqLen'}·I = ${known}.`);
  }
  return batch !== undefined ? { B: batch, T: n / known } : { B: n / known, T: seqLen! };
}

/** Lengths as u32, each in [1, T]; all T when absent. */
export function checkLengths(op: string, lengths: ArrayLike<number> | undefined, B: number, T: number): Uint32Array {
  if (lengths === undefined) return new Uint32Array(B).fill(T);
  if (typeof lengths.length !== 'number' || lengths.length !== B) {
    throw new ShapeError(`${op}: lengths has ${lengths?.length} entries, expected (B) = (${B}). Hint: one length per sequence in the batch.`);
  }
  const out = new Uint32Array(B);
  for (let b = 0; b < B; b++) {
    const v = lengths[b];
    if (!Number.isInteger(v) || v < 1 || v > T) {
      throw new ValueError(`${op}: lengths[${b}] = ${v} is out of range; each length must be an integer in [1, T] = [1, ${T}].`);
    }
    out[b] = v;
  }
  return out;
}

/** Shape, finiteness and backend checks of an input array or tensor. */
export function checkInput(op: string, arg: string, v: Input, shape: number[], names: string, backend: Backend, hint?: string): void {
  if (v instanceof Tensor) {
    if (v.disposed) throw new ValueError(`${op}: ${arg} is a disposed tensor.`);
    if (v.shape.length !== shape.length || v.shape.some((d, i) => d !== shape[i])) {
      throw new ShapeError(`${op}: ${arg} has shape ${fmtShape(v.shape)}, expected ${names} = ${fmtShape(shape)}.` + (hint ? ` Hint: ${hint}` : ''));
    }
    if (v.backend !== backend.kind) throw new ValueError(`${op}: ${arg} is a ${v.backend} tensor but this layer runs on ${backend.kind}.`);
    return;
  }
  assertLength(op, arg, v, shape, names, hint);
  assertFinite(op, arg, v);
}

/**
 * Stateful streaming: B independent streams whose (h, c) stay on the layer's
 * backend between calls. step() and forward() continue from the kept state;
 * nothing is read back unless the caller reads a returned tensor.
 */
export class RecurrentStream {
  readonly batch: number;
  private readonly layer: Recurrent;
  private h: Tensor | null = null; // (L, B, H)
  private c: Tensor | null = null;

  constructor(layer: Recurrent, batch: number) {
    assertPositiveInt(`${layer.kind}.stream`, 'batch', batch);
    if (layer.config.bidirectional) {
      throw new ValueError(`${layer.kind}.stream: a bidirectional layer cannot stream (its reverse direction needs the whole sequence).`);
    }
    this.layer = layer;
    this.batch = batch;
  }

  /** One time step: x is (B, I); returns the output (B, H), owned by the caller. */
  async step(x: Input): Promise<Tensor> {
    const I = this.layer.config.inputSize;
    if (x instanceof Tensor) {
      if (x.shape.length !== 2) throw new ShapeError(`${this.layer.kind}.stream.step: x has shape ${fmtShape(x.shape)}, expected (B, I) = (${this.batch}, ${I}).`);
      x = x.view([x.shape[0], 1, x.shape[1]]);
    }
    const y = await this.forward(x, 1);
    return y.reshape([this.batch, this.layer.outputSize]);
  }

  /** T steps at once: x is (B, T, I); returns (B, T, H), owned by the caller. */
  async forward(x: Input, seqLen?: number): Promise<Tensor> {
    const res = await this.layer.forward(x, { batch: this.batch, seqLen, h0: this.h ?? undefined, c0: this.c ?? undefined });
    this.h?.dispose();
    this.c?.dispose();
    this.h = res.h;
    this.c = res.c;
    return res.output;
  }

  /** Sets the state back to zeros. */
  resetState(): void {
    this.h?.dispose();
    this.c?.dispose();
    this.h = null;
    this.c = null;
  }

  /** The kept state (L, B, H) — read() them to see the values. Null before the first step. */
  get state(): { h: Tensor | null; c: Tensor | null } {
    return { h: this.h, c: this.c };
  }

  dispose(): void {
    this.resetState();
  }
}
