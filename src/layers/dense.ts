// Dense (nn.Linear / keras Dense): y = act(x · Wᵀ + b) over the last dimension.
import type { Backend } from '../backend';
import { DisposedError, ShapeError, ValueError, WeightError, fmtShape } from '../errors';
import { submitOps, submitToNew, type EncodedOp } from '../kernels/common';
import { activationBackward } from '../kernels/heads';
import { colsumGrad, matmulBiasForward, matmulGrad } from '../kernels/matmul';
import type { Param } from '../training/params';
import { activationBackwardRef } from '../reference/heads';
import type { WasmEngine } from '../wasm/engine';
import { denseBackwardWasm, denseForwardWasm, freeDense, packDense, type PackedDense } from '../wasm/dense';
import { matmulBiasRef } from '../reference/matmul';
import type { ActivationName } from '../reference/math';
import type { GpuContext } from '../gpu/context';
import { Tensor, gpuInput, type Input } from '../tensor';
import { assertNumbers, assertPositiveInt, checkElements, checkFormat, checkInput, describe } from '../validate';
import { initDense } from '../weights/init';
import { denseToKeras, kerasToDense, type KerasTensor } from '../weights/keras';
import { checkPrefix, selectTorchKeys, toFloat32, type TorchLoadOptions } from '../weights/torch';
import type { ArrayLikeTensor, StateDict } from '../weights/types';

export interface DenseOptions {
  inputSize: number;
  units: number;
  activation?: ActivationName;
  convention?: 'pytorch' | 'keras';
  seed?: number;
}

const ACTIVATIONS: ActivationName[] = ['none', 'relu', 'sigmoid', 'tanh'];

/** What Dense.record() keeps for backward(): its input and (nonlinear activations) its output. */
export interface DenseTape {
  x: Tensor;
  y: Tensor | null;
  /** The layer's weights version when recorded: backward() refuses a tape of older weights. */
  version: number;
}

export class Dense {
  readonly kind = 'Dense';
  readonly inputSize: number;
  readonly units: number;
  readonly activation: ActivationName;
  private readonly backend: Backend;

  /** @internal */
  get backendRef(): Backend {
    return this.backend;
  }
  private weight: Float32Array; // (units, inputSize)
  private bias: Float32Array; // (units)
  private gpu: { weight: GPUBuffer; bias: GPUBuffer } | null = null;
  private grads: { kind: 'webgpu'; weight: GPUBuffer; bias: GPUBuffer } | { kind: 'cpu'; weight: Float64Array; bias: Float64Array } | null = null;
  private cpuStale = false;
  /** wasm backend: W and b packed into the engine's memory, for the weights as of wasmStamp. */
  private wasmPacked: PackedDense | null = null;
  private wasmStamp = { version: -1, edits: -1 };
  /** Bumped by in-place edits of parameters() values (optimizers call changed()). */
  private edits = 0;

  /** @internal use rt.dense() */
  static create(backend: Backend, opts: DenseOptions): Dense {
    return new Dense(backend, opts);
  }

  private constructor(backend: Backend, opts: DenseOptions) {
    const op = 'Dense';
    if (opts === null || typeof opts !== 'object') throw new ValueError(`${op}: options must be an object with inputSize and units, got ${describe(opts)}.`);
    assertPositiveInt(op, 'inputSize', opts.inputSize);
    assertPositiveInt(op, 'units', opts.units);
    checkElements(op, `weight (units, inputSize) = (${opts.units}, ${opts.inputSize})`, opts.units * opts.inputSize, backend);
    const act = opts.activation ?? 'none';
    if (!ACTIVATIONS.includes(act)) throw new ValueError(`Dense: activation must be one of ${ACTIVATIONS.join(', ')}, got '${String(act)}'. Hint: use rt.softmax() after a Dense for softmax.`);
    this.backend = backend;
    this.inputSize = opts.inputSize;
    this.units = opts.units;
    this.activation = act;
    const w = initDense(opts.inputSize, opts.units, opts.seed ?? 0, opts.convention === 'keras' ? 'keras' : 'torch');
    this.weight = w.weight;
    this.bias = w.bias;
    this.upload();
  }

  get paramCount(): number {
    return this.units * this.inputSize + this.units;
  }

  get outputSize(): number {
    return this.units;
  }

  /**
   * nn.Linear state dict: weight (units, inputSize), bias (units). With { prefix },
   * the keys are `${prefix}weight` and `${prefix}bias` (e.g. 'fc.'), keys not
   * starting with the prefix are ignored, and missing and unused keys under it
   * are listed in one WeightError (strict). Nothing changes on failure.
   */
  loadTorchStateDict(sd: { weight: ArrayLikeTensor; bias: ArrayLikeTensor } | StateDict, opts?: TorchLoadOptions): void {
    const op = 'Dense.loadTorchStateDict';
    if (opts !== undefined) {
      const prefix = checkPrefix(op, opts);
      this.alive(op);
      const [sub] = selectTorchKeys(op, sd as StateDict, [{ prefix, names: this.torchKeys(), label: 'Dense' }], 'prefixed');
      this.prepareTorchStateDict(prefix ? `${op} (prefix '${prefix}')` : op, sub)();
      return;
    }
    this.alive(op);
    if (sd === null || typeof sd !== 'object') throw new WeightError(`${op}: stateDict must be { weight (units, inputSize), bias (units) }, got ${describe(sd)}.`);
    const weight = toFloat32(op, 'weight', sd?.weight, [this.units, this.inputSize], '(units, inputSize)');
    const bias = toFloat32(op, 'bias', sd?.bias, [this.units], '(units)');
    this.weight = weight;
    this.bias = bias;
    this.upload();
  }

  /** @internal the state_dict names this layer expects, unprefixed */
  torchKeys(): string[] {
    return ['weight', 'bias'];
  }

  /** @internal validates a state dict (unprefixed) and returns the step that loads it; throws before anything changes */
  prepareTorchStateDict(op: string, sd: StateDict): () => void {
    this.alive('Dense.loadTorchStateDict');
    const weight = toFloat32(op, 'weight', sd.weight, [this.units, this.inputSize], '(units, inputSize)');
    const bias = toFloat32(op, 'bias', sd.bias, [this.units], '(units)');
    return () => {
      this.weight = weight;
      this.bias = bias;
      this.upload();
    };
  }

  torchStateDict(): { weight: { data: Float32Array; shape: number[] }; bias: { data: Float32Array; shape: number[] } } {
    this.notDisposed('Dense.torchStateDict');
    if (this.cpuStale) throw new ValueError('Dense.torchStateDict: the GPU weights may have changed (training); call await layer.syncWeights() first.');
    return { weight: { data: this.weight.slice(), shape: [this.units, this.inputSize] }, bias: { data: this.bias.slice(), shape: [this.units] } };
  }

  /** Keras get_weights(): [kernel (inputSize, units), bias (units)]. */
  loadKerasWeights(weights: [KerasTensor, KerasTensor?]): void {
    const op = 'Dense.loadKerasWeights';
    this.alive(op);
    if (!Array.isArray(weights) || weights.length < 1 || weights.length > 2) {
      throw new WeightError(`${op}: expected [kernel (inputSize, units), bias (units)] as Keras's get_weights() gives them, got ${Array.isArray(weights) ? `${weights.length} entries` : describe(weights)}.`);
    }
    const [kernel, bias] = weights;
    const w = kerasToDense(kernel, bias, { inputSize: this.inputSize, units: this.units }, op);
    this.weight = w.weight;
    this.bias = w.bias;
    this.upload();
  }

  kerasWeights(): { kernel: Float32Array; bias: Float32Array } {
    this.notDisposed('Dense.kerasWeights');
    if (this.cpuStale) throw new ValueError('Dense.kerasWeights: the GPU weights may have changed (training); call await layer.syncWeights() first.');
    return denseToKeras({ weight: this.weight, bias: this.bias }, { inputSize: this.inputSize, units: this.units }, 'Dense.kerasWeights');
  }

  /** x is (..., inputSize); returns (..., units). For arrays, `rows` = product of leading dims (inferred). */
  async forward(x: Input, shape?: readonly number[]): Promise<Tensor> {
    const op = 'Dense.forward';
    this.alive(op);
    if (!(x instanceof Tensor)) assertNumbers(op, 'x', x);
    if (!(x instanceof Tensor) && !shape && (x.length === 0 || x.length % this.inputSize !== 0)) {
      throw new ShapeError(`${op}: x has ${x.length} values, not a positive multiple of inputSize = ${this.inputSize}. Hint: x is (..., inputSize).`);
    }
    const inShape = x instanceof Tensor ? x.shape : (shape ?? [x.length / this.inputSize, this.inputSize]);
    if (inShape[inShape.length - 1] !== this.inputSize || !Number.isInteger(inShape[0])) {
      throw new ShapeError(`${op}: x has shape ${fmtShape(inShape)}, expected (..., inputSize) with inputSize = ${this.inputSize}.`);
    }
    checkInput(op, 'x', x, [...inShape], '(..., inputSize)', this.backend);
    const M = inShape.slice(0, -1).reduce((a, b) => a * b, 1);
    const outShape = [...inShape.slice(0, -1), this.units];
    if (this.backend.kind === 'cpu') {
      const data = x instanceof Tensor ? x.cpuData(op) : x;
      const eng = this.backend.engine;
      if (eng) return Tensor.fromCpu(denseForwardWasm(eng, this.packed(eng), data, M, this.units, this.inputSize, this.activation), outShape);
      return Tensor.fromCpu(matmulBiasRef(data, this.weight, this.bias, M, this.units, this.inputSize, this.activation), outShape);
    }
    const ctx = this.backend.ctx;
    const temps: GPUBuffer[] = [];
    const xb = gpuInput(ctx, op, x, 'dense.x', temps);
    const { weight, bias } = this.gpu!;
    const y = await submitToNew(ctx, op, 'dense.y', M * this.units, temps, (y) =>
      matmulBiasForward(ctx, { x: xb, w: weight, bias, y, M, N: this.units, K: this.inputSize, activation: this.activation }),
    );
    return Tensor.fromGpu(ctx, y, outShape);
  }

  /**
   * Forward that keeps what backward() needs: a copy of the input and, for a
   * nonlinear activation, of the output. The tape is owned by the caller.
   */
  async record(x: Input, shape?: readonly number[]): Promise<{ output: Tensor; tape: DenseTape }> {
    const output = await this.forward(x, shape);
    const inShape = [...output.shape.slice(0, -1), this.inputSize];
    const copy = async (v: Input, s: readonly number[]): Promise<Tensor> => {
      if (this.backend.kind === 'cpu') return Tensor.fromCpu(v instanceof Tensor ? v.cpuData('Dense.record').slice() : Float64Array.from(v), s);
      const ctx = this.backend.ctx;
      const n = s.reduce((a, b) => a * b, 1);
      const buf = ctx.createStorage('dense.tape', n);
      if (v instanceof Tensor) {
        const src = v.gpuBuffer('Dense.record');
        ctx.submitSync('Dense.record', (enc) => enc.copyBufferToBuffer(src, 0, buf, 0, n * 4));
      } else ctx.device.queue.writeBuffer(buf, 0, Float32Array.from(v));
      return Tensor.fromGpu(ctx, buf, s);
    };
    const xs = await copy(x, inShape);
    const ys = this.activation === 'none' ? null : await copy(output, output.shape);
    return { output, tape: { x: xs, y: ys, version: this.version } };
  }

  /**
   * Backward of a recorded forward: accumulates ∂L/∂W and ∂L/∂b, returns ∂L/∂x
   * (caller owns it), and frees the tape.
   *   da = dy ⊙ act'   dW += daᵀ·x   db += Σ da   dx = da·W
   */
  async backward(tape: DenseTape, dOutput: Input): Promise<Tensor> {
    const op = 'Dense.backward';
    this.alive(op);
    if (tape === null || typeof tape !== 'object' || !(tape.x instanceof Tensor)) throw new ValueError(`${op}: tape must come from this layer's record(), got ${describe(tape)}.`);
    if (tape.x.disposed) throw new ValueError(`${op}: this tape was already used; record a new forward pass.`);
    if (tape.version !== this.version) {
      tape.x.dispose();
      tape.y?.dispose();
      throw new ValueError(`${op}: the weights were loaded again after this tape was recorded; its activations belong to the old weights. Hint: record a new forward pass.`);
    }
    const M = tape.x.size / this.inputSize;
    const outShape = [...tape.x.shape.slice(0, -1), this.units];
    checkInput(op, 'dOutput', dOutput, outShape, '(..., units)', this.backend);
    try {
      if (this.backend.kind === 'cpu') {
        const dy = dOutput instanceof Tensor ? dOutput.cpuData(op) : Float64Array.from(dOutput);
        const da = tape.y ? activationBackwardRef(this.activation, tape.y.cpuData(op), dy) : dy;
        const g = this.cpuGrads();
        const x = tape.x.cpuData(op);
        const eng = this.backend.engine;
        if (eng) return Tensor.fromCpu(denseBackwardWasm(eng, this.packed(eng), x, da, M, this.units, this.inputSize, g.weight, g.bias), tape.x.shape);
        const dx = new Float64Array(M * this.inputSize);
        for (let m = 0; m < M; m++) {
          for (let n = 0; n < this.units; n++) {
            const d = da[m * this.units + n];
            g.bias[n] += d;
            for (let k = 0; k < this.inputSize; k++) {
              g.weight[n * this.inputSize + k] += d * x[m * this.inputSize + k];
              dx[m * this.inputSize + k] += d * this.weight[n * this.inputSize + k];
            }
          }
        }
        return Tensor.fromCpu(dx, tape.x.shape);
      }
      const ctx = this.backend.ctx;
      const g = this.gpuGrads();
      const temps: GPUBuffer[] = [];
      const dy = gpuInput(ctx, op, dOutput, 'dense.dy', temps);
      const ops: EncodedOp[] = [];
      let da = dy;
      if (tape.y) {
        da = ctx.createStorage('dense.da', M * this.units);
        temps.push(da);
        ops.push(await activationBackward(ctx, { y: tape.y.gpuBuffer(op), dy, da, N: M * this.units, activation: this.activation }));
      }
      const dx = ctx.createStorage('dense.dx', M * this.inputSize);
      try {
        const x = tape.x.gpuBuffer(op);
        ops.push(await matmulGrad(ctx, { a: da, b: x, c: g.weight, M: this.units, N: this.inputSize, K: M, transA: true, accumulate: true }));
        ops.push(await colsumGrad(ctx, { y: da, out: g.bias, M, N: this.units, accumulate: true }));
        ops.push(await matmulGrad(ctx, { a: da, b: this.gpu!.weight, c: dx, M, N: this.inputSize, K: this.units, transA: false, accumulate: false }));
        await submitOps(ctx, op, ops);
      } catch (e) {
        ctx.destroyBuffer(dx);
        throw e;
      } finally {
        for (const b of temps) ctx.destroyBuffer(b);
      }
      return Tensor.fromGpu(ctx, dx, tape.x.shape);
    } finally {
      tape.x.dispose();
      tape.y?.dispose();
    }
  }

  /** weight (units, inputSize) and bias (units) with their gradients. */
  parameters(): Param[] {
    this.alive('Dense.parameters');
    if (this.backend.kind === 'cpu') {
      const g = this.cpuGrads();
      const changed = () => void this.edits++; // the wasm engine repacks before its next use
      return [
        { name: 'weight', size: this.weight.length, kind: 'cpu', value: this.weight, grad: g.weight, changed },
        { name: 'bias', size: this.units, kind: 'cpu', value: this.bias, grad: g.bias, changed },
      ];
    }
    const g = this.gpuGrads();
    this.cpuStale = true;
    return [
      { name: 'weight', size: this.weight.length, kind: 'webgpu', value: this.gpu!.weight, grad: g.weight, ctx: this.backend.ctx },
      { name: 'bias', size: this.units, kind: 'webgpu', value: this.gpu!.bias, grad: g.bias, ctx: this.backend.ctx },
    ];
  }

  zeroGrad(): void {
    this.alive('Dense.zeroGrad');
    if (!this.grads) return;
    if (this.grads.kind === 'cpu') {
      this.grads.weight.fill(0);
      this.grads.bias.fill(0);
    } else if (this.backend.kind === 'webgpu') {
      const g = this.grads;
      this.backend.ctx.submitSync('Dense.zeroGrad', (enc) => {
        enc.clearBuffer(g.weight);
        enc.clearBuffer(g.bias);
      });
    }
  }

  /** Copies GPU weights changed by training back to the CPU copy that exports read. */
  async syncWeights(): Promise<void> {
    this.alive('Dense.syncWeights');
    if (this.backend.kind !== 'webgpu' || !this.cpuStale) return;
    this.weight = await this.backend.ctx.readback(this.gpu!.weight, this.weight.length);
    this.bias = await this.backend.ctx.readback(this.gpu!.bias, this.units);
    this.cpuStale = false;
  }

  /**
   * The weights as they are on the device, exported after reading them back
   * (training on the GPU changes them there): 'torch' → { weight, bias } as
   * torchStateDict(), 'keras' → [kernel (inputSize, units), bias (units)].
   */
  async exportWeights(format: 'torch'): Promise<ReturnType<Dense['torchStateDict']>>;
  async exportWeights(format: 'keras'): Promise<[Float32Array, Float32Array]>;
  async exportWeights(format: 'torch' | 'keras'): Promise<ReturnType<Dense['torchStateDict']> | [Float32Array, Float32Array]> {
    checkFormat('Dense.exportWeights', format);
    await this.syncWeights();
    if (format === 'torch') return this.torchStateDict();
    const k = this.kerasWeights();
    return [k.kernel, k.bias];
  }

  private disposed = false;
  /** Bumped whenever weights are loaded: tapes of older weights are refused by backward(). */
  private version = 0;

  private alive(op: string): void {
    this.notDisposed(op);
    if (this.backend.kind === 'webgpu') this.backend.ctx.check(op);
  }

  private notDisposed(op: string): void {
    if (this.disposed) throw new DisposedError(`${op}: this layer was disposed.`);
  }

  dispose(): void {
    this.disposed = true;
    this.freeWeights();
    this.freeWasm();
    if (this.grads?.kind === 'webgpu' && this.backend.kind === 'webgpu') {
      this.backend.ctx.destroyBuffer(this.grads.weight);
      this.backend.ctx.destroyBuffer(this.grads.bias);
    }
    this.grads = null;
  }

  private cpuGrads(): { weight: Float64Array; bias: Float64Array } {
    if (this.grads?.kind !== 'cpu') this.grads = { kind: 'cpu', weight: new Float64Array(this.weight.length), bias: new Float64Array(this.units) };
    return this.grads;
  }

  private gpuGrads(): { weight: GPUBuffer; bias: GPUBuffer } {
    if (this.grads?.kind !== 'webgpu') {
      const ctx = (this.backend as { kind: 'webgpu'; ctx: GpuContext }).ctx;
      this.grads = { kind: 'webgpu', weight: ctx.createStorage('dense.dweight', this.weight.length), bias: ctx.createStorage('dense.dbias', this.units) };
    }
    return this.grads;
  }

  /** The weights packed for the wasm engine, repacked after loads (version) and in-place edits. */
  private packed(eng: WasmEngine): PackedDense {
    if (this.wasmPacked && this.wasmStamp.version === this.version && this.wasmStamp.edits === this.edits) return this.wasmPacked;
    const fresh = packDense(eng, this.weight, this.bias, this.units, this.inputSize);
    this.freeWasm();
    this.wasmPacked = fresh;
    this.wasmStamp = { version: this.version, edits: this.edits };
    return fresh;
  }

  private freeWasm(): void {
    if (this.wasmPacked && this.backend.kind === 'cpu' && this.backend.engine) freeDense(this.backend.engine, this.wasmPacked);
    this.wasmPacked = null;
  }

  private freeWeights(): void {
    if (this.gpu && this.backend.kind === 'webgpu') {
      this.backend.ctx.destroyBuffer(this.gpu.weight);
      this.backend.ctx.destroyBuffer(this.gpu.bias);
    }
    this.gpu = null;
  }

  private upload(): void {
    this.cpuStale = false;
    this.version++;
    if (this.backend.kind !== 'webgpu') return;
    const ctx = this.backend.ctx;
    const fresh = { weight: ctx.createStorage('dense.weight', this.weight), bias: ctx.createStorage('dense.bias', this.bias) };
    this.freeWeights();
    this.gpu = fresh;
  }
}
