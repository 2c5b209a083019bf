// Recurrent layers: SimpleRNN, GRU and LSTM stacks (multi-layer, bidirectional),
// on the GPU through the scheduler or on the CPU through the reference.
//
// Data path: forward() validates everything first (so a bad call changes
// nothing), then runs either recurrentForwardGpu (scheduler → kernels → WGSL) or
// recurrentForwardCpu (reference), and returns Tensors the caller owns.
import type { Backend } from '../backend';
import { DisposedError, ShapeError, ValueError, WeightError, fmtShape } from '../errors';
import type { GpuContext } from '../gpu/context';
import type { Param } from '../training/params';
import { matmulBiasRef } from '../reference/matmul';
import { recurrenceRef } from '../reference/recurrent';
import { stackForwardBackwardRef, type CellGrads } from '../reference/stack_backward';
import {
  disposeTape,
  recurrentBackwardGpu,
  recurrentForwardGpu,
  type GpuCellGrads,
  type GpuCellWeights,
  type RecurrentPath,
  type RecurrentRunStats,
  type RecurrentTape as GpuTape,
} from '../scheduler';
import { Tensor, gpuInput, type Input } from '../tensor';
import type { WasmEngine } from '../wasm/engine';
import { freeCell, freeRecorded, packCell, wasmStackBackward, wasmStackForward, type PackedCell, type WasmRecorded, type WasmStackArgs } from '../wasm/recurrent';
import { assertPositiveInt, checkElements, checkFormat, checkInput, checkLengths, checkMask, checkOptions, resolveBT } from '../validate';
import { initKeras, initTorch } from '../weights/init';
import { bhhFromGpu, bhhToGpu, whhFromGpu, whhToGpu } from '../weights/gpu_layout';
import { cellToKeras, kerasToCell, type KerasRecurrentArrays, type KerasRecurrentWeights } from '../weights/keras';
import { checkPrefix, fromTorchStateDict, selectTorchKeys, toTorchStateDict, torchNames, type TorchLoadOptions } from '../weights/torch';
import {
  directions,
  gateCount,
  layerInputSize,
  recurrentParamCount,
  CELL_ACTIVATIONS,
  type CellActivation,
  type CellType,
  type GateActivation,
  type RecurrentConfig,
  type StackWeights,
  type StateDict,
} from '../weights/types';

export interface RecurrentOptions {
  inputSize: number;
  hiddenSize: number;
  numLayers?: number;
  bidirectional?: boolean;
  /** SimpleRNN only, PyTorch's name for `activation`. Default 'tanh'. */
  nonlinearity?: 'tanh' | 'relu';
  /**
   * The cell activation, Keras's `activation`: SimpleRNN's h, GRU's candidate n,
   * LSTM's candidate g and the act(c) in h = o·act(c). 'tanh' (default), 'relu',
   * 'sigmoid' or 'linear'. On both backends, forward and backward.
   */
  activation?: CellActivation;
  /** GRU only: true (default) = PyTorch = Keras reset_after=True; false = Keras reset_after=False. */
  resetAfter?: boolean;
  /**
   * 'pytorch' (default): two biases, PyTorch init (uniform ±1/√H).
   * 'keras': Keras's single bias (two for GRU reset_after=True), Glorot/orthogonal init, LSTM forget bias 1.
   */
  convention?: 'pytorch' | 'keras';
  /** Seed of the initialiser. Default 0. */
  seed?: number;
  /**
   * GRU and LSTM: the gate activation. 'sigmoid' (default, PyTorch and Keras 3),
   * 'hardSigmoid' = clip(0.2·x + 0.5, 0, 1) (Keras 2's and TensorFlow.js's default),
   * 'hardSigmoidKeras3' = relu6(x + 3) / 6. On both backends, forward and backward.
   */
  recurrentActivation?: GateActivation;
  /** In a Sequential model: pass the whole sequence on (true) or only the last step (false, default). */
  returnSequences?: boolean;
}


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
  /**
   * Keras masking instead of lengths: (B, T) row-major, 1 = the step is present, 0 =
   * masked, at any position (pre-padding too). A masked step carries the state and
   * repeats the previous output (0 before the first), as Keras's mask_zero/Masking.
   */
  mask?: ArrayLike<number>;
  /** GPU path: 'auto' (default) picks by shape and limits. */
  path?: RecurrentPath;
  /** Keep what backward() needs (training). The result then carries a tape. */
  record?: boolean;
}

/**
 * What a recorded forward pass keeps for its backward pass: on the GPU, the
 * layer inputs, states and gate activations (in buffers the tape owns); on wasm,
 * the same in the engine's memory (blocks the tape owns); on the CPU, the inputs
 * (the reference recomputes the rest). backward() consumes it;
 * dispose() frees it without a backward pass.
 */
export class RecurrentTape {
  /** @internal */
  static create(layer: Recurrent, data: RecurrentTape['data'], version: number): RecurrentTape {
    return new RecurrentTape(layer, data, version);
  }

  private constructor(
    readonly layer: Recurrent,
    /** @internal */ readonly data:
      | { kind: 'gpu'; tape: GpuTape }
      | { kind: 'cpu'; x: Float64Array; B: number; T: number; lengths: Uint32Array; mask: Uint32Array | null; h0: Float64Array | null; c0: Float64Array | null }
      | { kind: 'wasm'; rec: WasmRecorded; B: number; T: number },
    /** @internal The layer's weights version when recorded: backward() refuses a tape of older weights. */ readonly version: number,
  ) {}
  private used = false;

  get disposed(): boolean {
    return this.used;
  }

  /** @internal marks the tape consumed; throws if it already was. */
  take(op: string): void {
    if (this.used) throw new ValueError(`${op}: this tape was already used or disposed; record a new forward pass.`);
    this.used = true;
  }

  dispose(): void {
    if (this.used) return;
    this.used = true;
    const be = this.layer.backendRef;
    if (this.data.kind === 'gpu' && be.kind === 'webgpu') disposeTape(be.ctx, this.data.tape);
    if (this.data.kind === 'wasm') freeRecorded(this.data.rec);
  }
}

export interface RecurrentBackwardOptions {
  /** ∂L/∂output (B, T, D·H). */
  dOutput: Input;
  /** ∂L/∂h (L·D, B, H) of the final states; zeros if absent. */
  dh?: Input;
  /** ∂L/∂c (L·D, B, H), LSTM; zeros if absent. */
  dc?: Input;
  /**
   * Also return ‖∂L/∂h_t‖ for every step t, per layer and direction: how much
   * gradient reaches each step (vanishing / exploding gradients through time).
   * Computed next to the step-backward kernels on the GPU; the same on the CPU.
   */
  stepGradNorms?: boolean;
}

export interface RecurrentBackwardResult {
  /** ∂L/∂x (B, T, I); 0 at padded positions. */
  dx: Tensor;
  /** ∂L/∂h0 (L·D, B, H). */
  dh0: Tensor;
  /** ∂L/∂c0 (L·D, B, H), LSTM. */
  dc0: Tensor | null;
  /**
   * With stepGradNorms: (L·D, T), row l·D + d = layer l, direction d; entry t =
   * ‖∂L/∂h_t‖ over the batch and units, h_t the state step t produced (time order,
   * also for the reverse direction). Null otherwise. Owned by the caller.
   */
  stepGradNorms: Tensor | null;
}

export interface RecurrentOutput {
  /** (B, T, D·H), directions concatenated (forward, reverse). */
  output: Tensor;
  /** (L·D, B, H) final hidden state of every layer and direction. */
  h: Tensor;
  /** (L·D, B, H) final cell state, LSTM only. */
  c: Tensor | null;
  stats: RecurrentRunStats;
  /** With { record: true }: what backward() needs; owned by the caller. */
  tape: RecurrentTape | null;
}

const CELL_NAME: Record<CellType, string> = { rnn: 'SimpleRNN', gru: 'GRU', lstm: 'LSTM' };

export class Recurrent {
  readonly config: Readonly<RecurrentConfig>;
  readonly returnSequences: boolean;
  private readonly backend: Backend;
  private weights: StackWeights; // CPU master copy (float32), PyTorch layout
  private gpuWeights: GpuCellWeights[][] | null = null;
  /** Accumulated weight gradients: GPU layout on the GPU (whh transposed), PyTorch layout on the CPU. */
  private gpuGrads: GpuCellGrads[][] | null = null;
  private cpuGrads: CellGrads[][] | null = null;
  /** wasm backend: the weights packed into the engine's memory (float32, padded), for weightStamp. */
  private wasmCells: PackedCell[][] | null = null;
  private wasmStamp = -1;
  /** Bumped whenever the host weights change (loads, optimizer steps on parameters()). */
  private weightStamp = 0;
  /** True once GPU weights may differ from the CPU master copy (after parameters() was handed out). */
  private cpuStale = false;
  private disposed = false;

  /** @internal use rt.simpleRNN(), rt.gru() or rt.lstm() */
  static create(backend: Backend, cell: CellType, opts: RecurrentOptions): Recurrent {
    return new Recurrent(backend, cell, opts);
  }

  private constructor(backend: Backend, cell: CellType, opts: RecurrentOptions) {
    const op = `${cell}`;
    if (!opts || typeof opts !== 'object') throw new ValueError(`${op}: options must be an object with inputSize and hiddenSize.`);
    assertPositiveInt(op, 'inputSize', opts.inputSize);
    assertPositiveInt(op, 'hiddenSize', opts.hiddenSize);
    const numLayers = opts.numLayers ?? 1;
    assertPositiveInt(op, 'numLayers', numLayers);
    const convention = opts.convention ?? 'pytorch';
    if (convention !== 'pytorch' && convention !== 'keras') throw new ValueError(`${op}: convention must be 'pytorch' or 'keras', got '${String(convention)}'.`);
    if (opts.nonlinearity !== undefined && opts.nonlinearity !== 'tanh' && opts.nonlinearity !== 'relu') throw new ValueError(`${op}: nonlinearity must be 'tanh' or 'relu', got '${String(opts.nonlinearity)}'.`);
    if (opts.nonlinearity && cell !== 'rnn') throw new ValueError(`${op}: nonlinearity applies to SimpleRNN only (GRU and LSTM take activation).`);
    if (opts.activation !== undefined && !CELL_ACTIVATIONS.includes(opts.activation)) {
      throw new ValueError(`${op}: activation must be one of ${CELL_ACTIVATIONS.map((a) => `'${a}'`).join(', ')}, got '${String(opts.activation)}'.`);
    }
    if (opts.activation !== undefined && opts.nonlinearity !== undefined && opts.activation !== opts.nonlinearity) {
      throw new ValueError(`${op}: activation '${opts.activation}' and nonlinearity '${opts.nonlinearity}' disagree; pass one of them.`);
    }
    const nonlinearity: CellActivation = opts.activation ?? opts.nonlinearity ?? 'tanh';
    if (opts.resetAfter !== undefined && cell !== 'gru') throw new ValueError(`${op}: resetAfter applies to GRU only.`);
    const resetAfter = opts.resetAfter ?? true;
    const recurrentActivation = opts.recurrentActivation ?? 'sigmoid';
    if (!['sigmoid', 'hardSigmoid', 'hardSigmoidKeras3'].includes(recurrentActivation)) {
      throw new ValueError(`${op}: recurrentActivation must be 'sigmoid', 'hardSigmoid' (Keras 2, TensorFlow.js) or 'hardSigmoidKeras3', got '${String(recurrentActivation)}'.`);
    }
    if (opts.recurrentActivation !== undefined && cell === 'rnn') throw new ValueError(`${op}: recurrentActivation applies to GRU and LSTM only (a SimpleRNN has no gates).`);
    this.config = Object.freeze({
      cell,
      inputSize: opts.inputSize,
      hiddenSize: opts.hiddenSize,
      numLayers,
      bidirectional: !!opts.bidirectional,
      nonlinearity,
      resetAfter,
      recurrentActivation,
      bias: convention === 'keras' && !(cell === 'gru' && resetAfter) ? 'single' : 'double',
    });
    this.returnSequences = !!opts.returnSequences;
    this.backend = backend;
    // Refuse sizes over the backend's limits before allocating anything.
    const G = gateCount(cell) * opts.hiddenSize;
    for (let l = 0; l < numLayers; l++) {
      checkElements(op, `weight_ih_l${l} (G, I_l) = (${G}, ${layerInputSize(this.config, l)})`, G * layerInputSize(this.config, l), backend);
    }
    checkElements(op, `weight_hh (G, H) = (${G}, ${opts.hiddenSize})`, G * opts.hiddenSize, backend);
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

  /**
   * Loads PyTorch weights (strict: every key present, none extra, shapes exact).
   * With { prefix }, the keys are `${prefix}weight_ih_l0` …, as a module's
   * state_dict names them (prefix 'rnn.' for `self.rnn = nn.LSTM(...)`); keys not
   * starting with the prefix are ignored, and missing and unused keys under it
   * are listed in one WeightError. Nothing changes on failure.
   */
  loadTorchStateDict(sd: StateDict, opts?: TorchLoadOptions): void {
    if (opts === undefined) {
      this.alive('loadTorchStateDict');
      this.setWeights(fromTorchStateDict(`${this.kind}.loadTorchStateDict`, this.config, sd));
      return;
    }
    const op = `${this.kind}.loadTorchStateDict`;
    const prefix = checkPrefix(op, opts);
    this.alive('loadTorchStateDict');
    const [sub] = selectTorchKeys(op, sd, [{ prefix, names: this.torchKeys(), label: this.kind }], 'prefixed');
    this.prepareTorchStateDict(prefix ? `${op} (prefix '${prefix}')` : op, sub)();
  }

  /** @internal the state_dict names this layer expects, unprefixed */
  torchKeys(): string[] {
    return torchNames(this.config);
  }

  /** @internal validates a state dict (unprefixed) and returns the step that loads it; throws before anything changes */
  prepareTorchStateDict(op: string, sd: StateDict): () => void {
    this.alive('loadTorchStateDict');
    const stack = fromTorchStateDict(op, this.config, sd);
    return () => this.setWeights(stack);
  }

  /** The weights in PyTorch's state_dict naming and layout. */
  torchStateDict(): Record<string, { data: Float32Array; shape: number[] }> {
    this.notDisposed('torchStateDict'); // works after device loss: the CPU copy is intact
    this.checkFresh('torchStateDict');
    return toTorchStateDict(this.config, this.weights);
  }

  /**
   * Loads Keras weights: one entry per layer (and direction: [forward, backward] for
   * bidirectional), each `[kernel (I, G), recurrent_kernel (H, G), bias]` as Keras's get_weights().
   */
  loadKerasWeights(layers: KerasRecurrentWeights[] | KerasRecurrentWeights[][]): void {
    const op = `${this.kind}.loadKerasWeights`;
    this.alive('loadKerasWeights');
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
    this.notDisposed('kerasWeights');
    this.checkFresh('kerasWeights');
    return this.weights.map((row, l) =>
      row.map((w) =>
        cellToKeras(this.config.cell, this.config.resetAfter, w, { inputSize: layerInputSize(this.config, l), hiddenSize: this.config.hiddenSize }, `${this.kind}.kerasWeights: layer ${l}`),
      ),
    );
  }

  /** Runs the stack over a padded batch. x is (B, T, I), batch-first. */
  async forward(x: Input, opts: RecurrentForwardOptions = {}): Promise<RecurrentOutput> {
    const op = `${this.kind}.forward`;
    this.alive('forward');
    opts = checkOptions(op, 'options', opts);
    const { config: cfg } = this;
    const I = cfg.inputSize;
    const H = cfg.hiddenSize;
    const LD = cfg.numLayers * directions(cfg);
    const { B, T } = resolveBT(op, x, I, opts.batch, opts.seqLen);
    if (opts.lengths !== undefined && opts.mask !== undefined) throw new ValueError(`${op}: pass lengths (PyTorch packed sequences) or mask (Keras masking), not both.`);
    const lengths = checkLengths(op, opts.lengths, B, T);
    const mask = opts.mask === undefined ? null : checkMask(op, opts.mask, B, T);
    if (opts.path !== undefined && !['auto', 'step', 'persistent'].includes(opts.path)) {
      throw new ValueError(`${op}: path must be 'auto', 'step' or 'persistent', got '${String(opts.path)}'.`);
    }
    if (opts.c0 !== undefined && cfg.cell !== 'lstm') throw new ValueError(`${op}: c0 is only for LSTM; a ${this.kind} has no cell state.`);
    const hint = 'pass one row per layer and direction (L·D), then per sequence in the batch.';
    checkInput(op, 'x', x, [B, T, I], '(B, T, I)', this.backend, 'x is batch-first: (batch, steps, features).');
    const G = gateCount(cfg.cell) * H;
    checkElements(op, `the input projection (B·T, G) = (${B * T}, ${G})`, B * T * G, this.backend);
    checkElements(op, `the output (B, T, D·H) = (${B}, ${T}, ${this.outputSize})`, B * T * this.outputSize, this.backend);
    checkElements(op, `the states (T + 1, B, H) = (${T + 1}, ${B}, ${H})`, (T + 1) * B * H, this.backend);
    if (opts.h0 !== undefined) checkInput(op, 'h0', opts.h0, [LD, B, H], '(L·D, B, H)', this.backend, hint);
    if (opts.c0 !== undefined) checkInput(op, 'c0', opts.c0, [LD, B, H], '(L·D, B, H)', this.backend, hint);

    if (this.backend.kind === 'cpu' && this.backend.engine) return this.forwardWasm(this.backend.engine, x, B, T, lengths, mask, opts);
    if (this.backend.kind === 'cpu') {
      const res = this.forwardCpu(x, B, T, lengths, mask, opts);
      if (opts.record) {
        const f64 = (v: Input | undefined) => (v === undefined ? null : v instanceof Tensor ? v.cpuData(op).slice() : Float64Array.from(v));
        res.tape = RecurrentTape.create(this, { kind: 'cpu', x: f64(x)!, B, T, lengths, mask, h0: f64(opts.h0), c0: f64(opts.c0) }, this.version);
      }
      return res;
    }
    const ctx = this.backend.ctx;
    const owned: GPUBuffer[] = [];
    const toGpu = (v: Input | undefined, label: string) => (v === undefined ? null : gpuInput(ctx, op, v, label, owned));
    try {
      const res = await recurrentForwardGpu(ctx, cfg, this.gpuWeights!, {
        x: toGpu(x, 'x')!,
        B,
        T,
        steps: mask ? { valid: mask, keras: true } : { valid: lengthsToValid(lengths, T), keras: false },
        h0: toGpu(opts.h0, 'h0'),
        c0: toGpu(opts.c0, 'c0'),
        path: opts.path ?? 'auto',
        record: !!opts.record,
      });
      return {
        output: Tensor.fromGpu(ctx, res.out, [B, T, this.outputSize]),
        h: Tensor.fromGpu(ctx, res.hN, [LD, B, H]),
        c: res.cN ? Tensor.fromGpu(ctx, res.cN, [LD, B, H]) : null,
        stats: res.stats,
        tape: res.tape ? RecurrentTape.create(this, { kind: 'gpu', tape: res.tape }, this.version) : null,
      };
    } finally {
      for (const b of owned) ctx.destroyBuffer(b);
    }
  }

  /** A batch of independent streams whose state stays on this layer's backend between calls. */
  stream(batch: number): RecurrentStream {
    this.alive('stream');
    return new RecurrentStream(this, batch);
  }

  /** Frees the GPU weights and gradients. */
  dispose(): void {
    this.freeGpu();
    this.freeWasm();
    if (this.gpuGrads && this.backend.kind === 'webgpu') freeGrads(this.backend.ctx, this.gpuGrads);
    this.gpuGrads = null;
    this.disposed = true;
  }

  /** @internal */
  get backendRef(): Backend {
    return this.backend;
  }

  /** The packed weights of the wasm engine, repacked when the host weights changed since. */
  private packed(eng: WasmEngine): PackedCell[][] {
    if (this.wasmCells && this.wasmStamp === this.weightStamp) return this.wasmCells;
    const fresh: PackedCell[][] = [];
    try {
      for (const [l, row] of this.weights.entries()) {
        const cells: PackedCell[] = [];
        fresh.push(cells);
        for (const w of row) cells.push(packCell(eng, this.config, l, w));
      }
    } catch (e) {
      for (const row of fresh) for (const p of row) freeCell(eng, p);
      throw e;
    }
    this.freeWasm();
    this.wasmCells = fresh;
    this.wasmStamp = this.weightStamp;
    return fresh;
  }

  private freeWasm(): void {
    const be = this.backend;
    if (this.wasmCells && be.kind === 'cpu' && be.engine) for (const row of this.wasmCells) for (const p of row) freeCell(be.engine, p);
    this.wasmCells = null;
  }

  /** The wasm backend's forward: the whole stack in float32 kernels (src/wasm/recurrent.ts). */
  private forwardWasm(eng: WasmEngine, x: Input, B: number, T: number, lengths: Uint32Array, mask: Uint32Array | null, opts: RecurrentForwardOptions): RecurrentOutput {
    const cfg = this.config;
    const H = cfg.hiddenSize;
    const LD = cfg.numLayers * directions(cfg);
    const host = (v: Input | undefined) => (v === undefined ? null : v instanceof Tensor ? v.cpuData('forward') : v);
    // with record, the layer inputs, states and gate activations stay in the engine's memory for backward()
    const { res: r, rec } = wasmStackForward(eng, cfg, this.packed(eng), host(x)!, wasmSteps(B, T, lengths, mask, host(opts.h0), host(opts.c0)), !!opts.record);
    return {
      output: Tensor.fromCpu(r.output, [B, T, this.outputSize]),
      h: Tensor.fromCpu(r.hN, [LD, B, H]),
      c: r.cN ? Tensor.fromCpu(r.cN, [LD, B, H]) : null,
      stats: { backend: 'wasm', path: 'wasm', dispatches: 0, dispatchesPerStep: 0 },
      tape: rec ? RecurrentTape.create(this, { kind: 'wasm', rec, B, T }, this.version) : null,
    };
  }

  private forwardCpu(x: Input, B: number, T: number, lengths: Uint32Array, mask: Uint32Array | null, opts: RecurrentForwardOptions): RecurrentOutput {
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
          recurrentActivation: cfg.recurrentActivation,
          B,
          T,
          H,
          reverse: d === 1,
          xg,
          whh: w.whh,
          bhh: w.bhh,
          lengths,
          mask,
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
      tape: null,
    };
  }

  /**
   * Backpropagation through time over a recorded forward pass. Weight gradients
   * accumulate into this layer's gradient buffers (see gradients(), zeroGrad());
   * returns the gradients of the input and the initial states (caller owns them).
   * Consumes the tape.
   */
  async backward(tape: RecurrentTape, g: RecurrentBackwardOptions): Promise<RecurrentBackwardResult> {
    const op = `${this.kind}.backward`;
    this.alive('backward');
    if (!(tape instanceof RecurrentTape) || tape.layer !== this) throw new ValueError(`${op}: tape must come from this layer's forward(x, { record: true }).`);
    if (tape.disposed) throw new ValueError(`${op}: this tape was already used or disposed; record a new forward pass.`);
    if (tape.version !== this.version) {
      tape.dispose();
      throw new ValueError(`${op}: the weights were loaded again after this tape was recorded; its activations belong to the old weights. Hint: record a new forward pass.`);
    }
    const cfg = this.config;
    const H = cfg.hiddenSize;
    const LD = cfg.numLayers * directions(cfg);
    const { B, T } = tape.data.kind === 'gpu' ? tape.data.tape : tape.data; // cpu and wasm tapes carry B, T
    if (!g || g.dOutput === undefined) throw new ValueError(`${op}: dOutput (B, T, D·H) = (${B}, ${T}, ${this.outputSize}) is required.`);
    if (g.dc !== undefined && cfg.cell !== 'lstm') throw new ValueError(`${op}: dc is only for LSTM.`);
    if (g.stepGradNorms !== undefined && typeof g.stepGradNorms !== 'boolean') throw new ValueError(`${op}: stepGradNorms must be true or false, got ${String(g.stepGradNorms)}.`);
    const norms = !!g.stepGradNorms;
    checkInput(op, 'dOutput', g.dOutput, [B, T, this.outputSize], '(B, T, D·H)', this.backend);
    if (g.dh !== undefined) checkInput(op, 'dh', g.dh, [LD, B, H], '(L·D, B, H)', this.backend);
    if (g.dc !== undefined) checkInput(op, 'dc', g.dc, [LD, B, H], '(L·D, B, H)', this.backend);
    tape.take(op);

    if (tape.data.kind === 'wasm') {
      const eng = (this.backend as { kind: 'cpu'; engine: WasmEngine }).engine;
      const host = (v: Input | undefined) => (v === undefined ? null : v instanceof Tensor ? v.cpuData(op) : v);
      // consumes (frees) the recorded activations, also on an error
      const r = wasmStackBackward(eng, cfg, this.packed(eng), tape.data.rec, { dOutput: host(g.dOutput)!, dhN: host(g.dh), dcN: host(g.dc), stepGradNorms: norms });
      if (!this.cpuGrads) this.cpuGrads = r.grads!;
      else this.cpuGrads.forEach((row, l) => row.forEach((acc, d) => addCellGrads(acc, r.grads![l][d])));
      return {
        dx: Tensor.fromCpu(r.dx!, [B, T, cfg.inputSize]),
        dh0: Tensor.fromCpu(r.dh0!, [LD, B, H]),
        dc0: r.dc0 ? Tensor.fromCpu(r.dc0, [LD, B, H]) : null,
        stepGradNorms: r.stepNorms ? Tensor.fromCpu(r.stepNorms, [LD, T]) : null,
      };
    }
    if (tape.data.kind === 'cpu') {
      const t = tape.data;
      const f64 = (v: Input | undefined) => (v === undefined ? null : v instanceof Tensor ? v.cpuData(op) : Float64Array.from(v));
      const r = stackForwardBackwardRef(cfg, this.weights, t.x, { B, T, lengths: t.lengths, mask: t.mask, h0: t.h0, c0: t.c0, dOutput: f64(g.dOutput)!, dhN: f64(g.dh), dcN: f64(g.dc), stepGradNorms: norms });
      if (!this.cpuGrads) this.cpuGrads = r.grads;
      else this.cpuGrads.forEach((row, l) => row.forEach((acc, d) => addCellGrads(acc, r.grads[l][d])));
      return {
        dx: Tensor.fromCpu(r.dx, [B, T, cfg.inputSize]),
        dh0: Tensor.fromCpu(r.dh0, [LD, B, H]),
        dc0: r.dc0 ? Tensor.fromCpu(r.dc0, [LD, B, H]) : null,
        stepGradNorms: r.stepNorms ? Tensor.fromCpu(r.stepNorms, [LD, T]) : null,
      };
    }
    const ctx = (this.backend as { kind: 'webgpu'; ctx: GpuContext }).ctx;
    const owned: GPUBuffer[] = [];
    const toGpu = (v: Input | undefined, label: string) => (v === undefined ? null : gpuInput(ctx, op, v, label, owned));
    try {
      const grads = this.ensureGpuGrads(ctx);
      const r = await recurrentBackwardGpu(ctx, cfg, this.gpuWeights!, grads, tape.data.tape, {
        dOut: toGpu(g.dOutput, 'dOutput')!,
        dhN: toGpu(g.dh, 'dh'),
        dcN: toGpu(g.dc, 'dc'),
        stepGradNorms: norms,
      });
      return {
        dx: Tensor.fromGpu(ctx, r.dx, [B, T, cfg.inputSize]),
        dh0: Tensor.fromGpu(ctx, r.dh0, [LD, B, H]),
        dc0: r.dc0 ? Tensor.fromGpu(ctx, r.dc0, [LD, B, H]) : null,
        stepGradNorms: r.norms ? Tensor.fromGpu(ctx, r.norms, [LD, T]) : null,
      };
    } finally {
      for (const b of owned) ctx.destroyBuffer(b);
      disposeTape(ctx, tape.data.tape);
    }
  }

  /**
   * The accumulated weight gradients, copied to the CPU, by PyTorch state_dict
   * name and layout. Single-bias (Keras) layers have no bias_hh entries.
   */
  async gradients(): Promise<Record<string, Float32Array | Float64Array>> {
    this.alive('gradients');
    const cfg = this.config;
    const H = cfg.hiddenSize;
    const G = gateCount(cfg.cell) * H;
    const out: Record<string, Float32Array | Float64Array> = {};
    for (let l = 0; l < cfg.numLayers; l++) {
      const I = layerInputSize(cfg, l);
      for (let d = 0; d < directions(cfg); d++) {
        const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
        const single = cfg.bias === 'single';
        if (this.backend.kind === 'cpu') {
          const g = this.cpuGrads?.[l][d];
          out['weight_ih' + sfx] = g ? g.dwih.slice() : new Float64Array(G * I);
          out['weight_hh' + sfx] = g ? g.dwhh.slice() : new Float64Array(G * H);
          out['bias_ih' + sfx] = g ? g.dbih.slice() : new Float64Array(G);
          if (!single) out['bias_hh' + sfx] = g ? g.dbhh.slice() : new Float64Array(G);
          continue;
        }
        const ctx = this.backend.ctx;
        const g = this.gpuGrads?.[l][d];
        out['weight_ih' + sfx] = g ? await ctx.readback(g.dwih, G * I) : new Float32Array(G * I);
        out['weight_hh' + sfx] = g ? whhFromGpu(cfg.cell, await ctx.readback(g.dwhhT, H * G), H) : new Float32Array(G * H);
        out['bias_ih' + sfx] = g ? await ctx.readback(g.dbih, G) : new Float32Array(G);
        if (!single) out['bias_hh' + sfx] = g?.dbhh ? bhhFromGpu(cfg.cell, await ctx.readback(g.dbhh, G), H) : new Float32Array(G);
      }
    }
    return out;
  }

  /**
   * The trainable parameters with their gradient buffers (allocated, zeroed, on
   * first use), by PyTorch name. Single-bias layers have no bias_hh. An optimizer
   * updates the values in place. On the host backends a parameter's changed() says
   * its values were edited in place (the optimizers call it; the wasm backend repacks).
   */
  parameters(): Param[] {
    this.alive('parameters');
    const cfg = this.config;
    const out: Param[] = [];
    const H = cfg.hiddenSize;
    const G = gateCount(cfg.cell) * H;
    if (this.backend.kind === 'webgpu') {
      const ctx = this.backend.ctx;
      const grads = this.ensureGpuGrads(ctx);
      this.gpuWeights!.forEach((row, l) =>
        row.forEach((w, d) => {
          const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
          const g = grads[l][d];
          out.push({ name: 'weight_ih' + sfx, size: G * layerInputSize(cfg, l), kind: 'webgpu', value: w.wih, grad: g.dwih, ctx });
          out.push({ name: 'weight_hh' + sfx, size: G * H, kind: 'webgpu', value: w.whhT, grad: g.dwhhT, ctx });
          out.push({ name: 'bias_ih' + sfx, size: G, kind: 'webgpu', value: w.bih, grad: g.dbih, ctx });
          if (g.dbhh) out.push({ name: 'bias_hh' + sfx, size: G, kind: 'webgpu', value: w.bhh, grad: g.dbhh, ctx });
        }),
      );
      this.cpuStale = true; // the caller may now change the GPU values
      return out;
    }
    const changed = () => void this.weightStamp++; // the wasm engine repacks before its next use
    if (!this.cpuGrads) {
      this.cpuGrads = this.weights.map((row) => row.map((w) => ({ dwih: new Float64Array(w.wih.length), dwhh: new Float64Array(w.whh.length), dbih: new Float64Array(G), dbhh: new Float64Array(G) })));
    }
    this.weights.forEach((row, l) =>
      row.forEach((w, d) => {
        const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
        const g = this.cpuGrads![l][d];
        out.push({ name: 'weight_ih' + sfx, size: w.wih.length, kind: 'cpu', value: w.wih, grad: g.dwih, changed });
        out.push({ name: 'weight_hh' + sfx, size: w.whh.length, kind: 'cpu', value: w.whh, grad: g.dwhh, changed });
        out.push({ name: 'bias_ih' + sfx, size: G, kind: 'cpu', value: w.bih, grad: g.dbih, changed });
        if (cfg.bias === 'double') out.push({ name: 'bias_hh' + sfx, size: G, kind: 'cpu', value: w.bhh, grad: g.dbhh, changed });
      }),
    );
    return out;
  }

  /** Sets the accumulated weight gradients to zero. */
  zeroGrad(): void {
    this.alive('zeroGrad');
    for (const row of this.cpuGrads ?? []) for (const g of row) for (const a of [g.dwih, g.dwhh, g.dbih, g.dbhh]) a.fill(0);
    if (this.gpuGrads && this.backend.kind === 'webgpu') {
      const grads = this.gpuGrads;
      this.backend.ctx.submitSync(`${this.kind}.zeroGrad`, (enc) => {
        for (const row of grads) for (const g of row) for (const b of [g.dwih, g.dwhhT, g.dbih, g.dbhh]) if (b) enc.clearBuffer(b);
      });
    }
  }

  private ensureGpuGrads(ctx: GpuContext): GpuCellGrads[][] {
    if (this.gpuGrads) return this.gpuGrads;
    const cfg = this.config;
    const H = cfg.hiddenSize;
    const G = gateCount(cfg.cell) * H;
    const grads: GpuCellGrads[][] = [];
    try {
      for (let l = 0; l < cfg.numLayers; l++) {
        const row: GpuCellGrads[] = [];
        grads.push(row);
        for (let d = 0; d < directions(cfg); d++) {
          const tag = `${cfg.cell}_l${l}_d${d}`;
          row.push({
            dwih: ctx.createStorage(`${tag}.dwih`, G * layerInputSize(cfg, l)),
            dwhhT: ctx.createStorage(`${tag}.dwhhT`, H * G),
            dbih: ctx.createStorage(`${tag}.dbih`, G),
            dbhh: cfg.bias === 'double' ? ctx.createStorage(`${tag}.dbhh`, G) : null,
          });
        }
      }
    } catch (e) {
      freeGrads(ctx, grads);
      throw e;
    }
    this.gpuGrads = grads;
    return grads;
  }

  /** Copies GPU weights (changed by an optimizer) back into the CPU copy that exports read. */
  async syncWeights(): Promise<void> {
    this.alive('syncWeights');
    if (this.backend.kind !== 'webgpu' || !this.cpuStale) return;
    const ctx = this.backend.ctx;
    const H = this.config.hiddenSize;
    const G = gateCount(this.config.cell) * H;
    const fresh: StackWeights = [];
    for (const [l, row] of this.gpuWeights!.entries()) {
      const out = [];
      const I = layerInputSize(this.config, l);
      for (const w of row) {
        const cell = this.config.cell;
        out.push({
          wih: await ctx.readback(w.wih, G * I),
          whh: whhFromGpu(cell, await ctx.readback(w.whhT, H * G), H),
          bih: await ctx.readback(w.bih, G),
          bhh: bhhFromGpu(cell, await ctx.readback(w.bhh, G), H),
        });
      }
      fresh.push(out);
    }
    this.weights = fresh;
    this.cpuStale = false;
  }

  private checkFresh(op: string): void {
    if (this.cpuStale) {
      const lost = this.backend.kind === 'webgpu' && this.backend.ctx.isLost;
      throw new ValueError(
        lost
          ? `${this.kind}.${op}: the GPU device was lost after training changed the weights; changes since the last syncWeights() are gone.`
          : `${this.kind}.${op}: the GPU weights may have changed (training); call await layer.syncWeights() first.`,
      );
    }
  }

  private setWeights(stack: StackWeights): void {
    // Everything was validated before this point; replace atomically.
    const old = this.weights;
    this.weights = stack;
    try {
      this.upload();
    } catch (e) {
      this.weights = old;
      throw e;
    }
    this.cpuStale = false;
    this.version++;
    this.weightStamp++;
  }

  /** Bumped whenever weights are loaded: tapes of older weights are refused by backward(). */
  private version = 0;

  /**
   * The weights as they are on the device, read back first (GPU training changes
   * them there): 'torch' → torchStateDict(), 'keras' → kerasWeights().
   */
  async exportWeights(format: 'torch'): Promise<ReturnType<Recurrent['torchStateDict']>>;
  async exportWeights(format: 'keras'): Promise<KerasRecurrentArrays[][]>;
  async exportWeights(format: 'torch' | 'keras'): Promise<ReturnType<Recurrent['torchStateDict']> | KerasRecurrentArrays[][]> {
    checkFormat(`${this.kind}.exportWeights`, format);
    await this.syncWeights();
    return format === 'torch' ? this.torchStateDict() : this.kerasWeights();
  }

  private upload(): void {
    if (this.backend.kind !== 'webgpu') return;
    const ctx = this.backend.ctx;
    const H = this.config.hiddenSize;
    const fresh: GpuCellWeights[][] = [];
    const made: GPUBuffer[] = []; // every buffer as soon as it exists, to free all on a failure
    const storage = (label: string, data: Float32Array) => {
      const b = ctx.createStorage(label, data);
      made.push(b);
      return b;
    };
    try {
      for (const [l, row] of this.weights.entries()) {
        fresh.push(
          row.map((w, d) => {
            const tag = `${this.config.cell}_l${l}_d${d}`;
            return {
              wih: storage(`${tag}.wih`, w.wih),
              whhT: storage(`${tag}.whhT`, whhToGpu(this.config.cell, w.whh, H)),
              bih: storage(`${tag}.bih`, w.bih),
              bhh: storage(`${tag}.bhh`, bhhToGpu(this.config.cell, w.bhh, H)),
            };
          }),
        );
      }
    } catch (e) {
      for (const b of made) ctx.destroyBuffer(b);
      throw e;
    }
    this.freeGpu();
    this.gpuWeights = fresh;
  }

  private freeGpu(): void {
    if (this.gpuWeights && this.backend.kind === 'webgpu') freeCells(this.backend.ctx, this.gpuWeights);
    this.gpuWeights = null;
  }

  /** `method` is the bare method name; messages say `${kind}.${method}`. */
  private alive(method: string): void {
    this.notDisposed(method);
    if (this.backend.kind === 'webgpu') this.backend.ctx.check(`${this.kind}.${method}`);
  }

  private notDisposed(method: string): void {
    if (this.disposed) throw new DisposedError(`${this.kind}.${method}: this layer was disposed.`);
  }
}

/** The (B, T) step mask of PyTorch lengths: step t of sample b runs while t < lengths[b]. */
function lengthsToValid(lengths: Uint32Array, T: number): Uint32Array {
  const valid = new Uint32Array(lengths.length * T);
  lengths.forEach((len, b) => valid.fill(1, b * T, b * T + len));
  return valid;
}

/** The wasm kernels' step table: (B, T) 1 where the step runs, from lengths or a Keras mask. */
function wasmSteps(B: number, T: number, lengths: Uint32Array, mask: Uint32Array | null, h0: ArrayLike<number> | null, c0: ArrayLike<number> | null): WasmStackArgs {
  return { B, T, valid: mask ?? lengthsToValid(lengths, T), keras: !!mask, h0, c0 };
}

function freeGrads(ctx: GpuContext, grads: GpuCellGrads[][]): void {
  for (const row of grads) for (const g of row) for (const b of [g.dwih, g.dwhhT, g.dbih, g.dbhh]) ctx.destroyBuffer(b);
}

function addCellGrads(acc: CellGrads, g: CellGrads): void {
  for (const k of ['dwih', 'dwhh', 'dbih', 'dbhh'] as const) {
    const a = acc[k]; // hoisted: a keyed lookup per element made this 10× slower than the wasm backward it follows
    const b = g[k];
    for (let i = 0; i < a.length; i++) a[i] += b[i];
  }
}

function freeCells(ctx: GpuContext, cells: GpuCellWeights[][]): void {
  for (const row of cells) for (const w of row) for (const b of [w.wih, w.whhT, w.bih, w.bhh]) ctx.destroyBuffer(b);
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
  /** Calls run one after another in call order, each from the state the previous one left. */
  private queue: Promise<unknown> = Promise.resolve();
  private pending = 0;
  private disposed = false;

  constructor(layer: Recurrent, batch: number) {
    assertPositiveInt(`${layer.kind}.stream`, 'batch', batch);
    if (layer.config.bidirectional) {
      throw new ValueError(`${layer.kind}.stream: a bidirectional layer cannot stream (its reverse direction needs the whole sequence).`);
    }
    this.layer = layer;
    this.batch = batch;
  }

  /** One time step: x is (B, I); returns the output (B, H), owned by the caller. */
  step(x: Input): Promise<Tensor> {
    const op = `${this.layer.kind}.stream.step`;
    return this.enqueue(op, async () => {
      const I = this.layer.config.inputSize;
      let input = x;
      if (input instanceof Tensor) {
        if (input.shape.length !== 2) throw new ShapeError(`${op}: x has shape ${fmtShape(input.shape)}, expected (B, I) = (${this.batch}, ${I}).`);
        input = input.view([input.shape[0], 1, input.shape[1]]);
      }
      const y = await this.run(input, 1);
      return y.reshape([this.batch, this.layer.outputSize]);
    });
  }

  /** T steps at once: x is (B, T, I); returns (B, T, H), owned by the caller. */
  forward(x: Input, seqLen?: number): Promise<Tensor> {
    const op = `${this.layer.kind}.stream.forward`;
    return this.enqueue(op, () => this.run(x, seqLen));
  }

  /** Sets the state back to zeros (after the calls already made, in call order). */
  resetState(): void {
    this.notDisposed(`${this.layer.kind}.stream.resetState`);
    if (this.pending === 0) this.clear();
    else this.queue = this.queue.then(() => this.clear());
  }

  /** The kept state (L, B, H) — read() them to see the values. Null before the first step. */
  get state(): { h: Tensor | null; c: Tensor | null } {
    return { h: this.h, c: this.c };
  }

  /** Frees the kept state; later calls throw DisposedError (calls already made finish first). */
  dispose(): void {
    this.disposed = true;
    this.clear();
  }

  private enqueue<T>(op: string, body: () => Promise<T>): Promise<T> {
    if (this.disposed) return Promise.reject(this.disposedError(op));
    this.pending++;
    const run = this.queue.then(() => {
      this.notDisposed(op);
      return body();
    });
    const settled = run.then(
      () => this.pending--,
      () => this.pending--,
    );
    this.queue = settled;
    return run;
  }

  private async run(x: Input, seqLen: number | undefined): Promise<Tensor> {
    const res = await this.layer.forward(x, { batch: this.batch, seqLen, h0: this.h ?? undefined, c0: this.c ?? undefined });
    if (this.disposed) {
      // disposed while this call ran: the caller still gets its output, the state is dropped
      res.h.dispose();
      res.c?.dispose();
      return res.output;
    }
    this.h?.dispose();
    this.c?.dispose();
    this.h = res.h;
    this.c = res.c;
    return res.output;
  }

  private clear(): void {
    this.h?.dispose();
    this.c?.dispose();
    this.h = null;
    this.c = null;
  }

  private notDisposed(op: string): void {
    if (this.disposed) throw this.disposedError(op);
  }

  private disposedError(op: string): DisposedError {
    return new DisposedError(`${op}: this stream was disposed. Hint: make a new one with layer.stream(batch).`);
  }
}
