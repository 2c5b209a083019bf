// Embedding (nn.Embedding / keras Embedding): token ids (B, T) -> vectors (B, T, D).
import type { Backend } from '../backend';
import { DisposedError, ShapeError, ValueError, WeightError, fmtShape } from '../errors';
import { submitOps, submitToNew } from '../kernels/common';
import { embeddingBackward, embeddingForward } from '../kernels/heads';
import type { Param } from '../training/params';
import { embeddingBackwardRef, embeddingRef } from '../reference/heads';
import type { GpuContext } from '../gpu/context';
import { Tensor, gpuInput, type Input } from '../tensor';
import { assertNumbers, assertPositiveInt, checkElements, checkFormat, checkInput, describe } from '../validate';
import { initEmbedding } from '../weights/init';
import { checkPrefix, selectTorchKeys, toFloat32, type TorchLoadOptions } from '../weights/torch';
import type { ArrayLikeTensor, StateDict } from '../weights/types';

export interface EmbeddingOptions {
  vocabSize: number;
  dim: number;
  convention?: 'pytorch' | 'keras';
  seed?: number;
  /**
   * Keras's mask_zero: id 0 is padding. In a Sequential, the recurrent layers then
   * skip (mask) the steps whose id is 0, wherever they are (pre-padding too), and
   * fit() ignores those steps in a per-step loss.
   */
  maskZero?: boolean;
}

/** What Embedding.record() keeps: the validated ids. */
export interface EmbeddingTape {
  ids: Uint32Array;
  /** The layer's weights version when recorded (see Dense's tape). */
  version: number;
}

export class Embedding {
  readonly kind = 'Embedding';
  readonly vocabSize: number;
  readonly dim: number;
  /** Whether id 0 is padding that masks its step (Keras mask_zero). */
  readonly maskZero: boolean;
  private readonly backend: Backend;

  /** @internal */
  get backendRef(): Backend {
    return this.backend;
  }
  private table: Float32Array; // (V, D)
  private gpuTable: GPUBuffer | null = null;
  private grad: GPUBuffer | Float64Array | null = null; // (V, D)
  private cpuStale = false;

  /** @internal use rt.embedding() */
  static create(backend: Backend, opts: EmbeddingOptions): Embedding {
    return new Embedding(backend, opts);
  }

  private constructor(backend: Backend, opts: EmbeddingOptions) {
    if (opts === null || typeof opts !== 'object') throw new ValueError(`Embedding: options must be an object with vocabSize and dim, got ${describe(opts)}.`);
    assertPositiveInt('Embedding', 'vocabSize', opts.vocabSize);
    assertPositiveInt('Embedding', 'dim', opts.dim);
    checkElements('Embedding', `the table (vocabSize, dim) = (${opts.vocabSize}, ${opts.dim})`, opts.vocabSize * opts.dim, backend);
    this.backend = backend;
    this.vocabSize = opts.vocabSize;
    this.dim = opts.dim;
    if (opts.maskZero !== undefined && typeof opts.maskZero !== 'boolean') throw new ValueError(`Embedding: maskZero must be true or false, got ${describe(opts.maskZero)}.`);
    this.maskZero = opts.maskZero ?? false;
    this.table = initEmbedding(opts.vocabSize, opts.dim, opts.seed ?? 0, opts.convention === 'keras' ? 'keras' : 'torch');
    this.upload();
  }

  get paramCount(): number {
    return this.vocabSize * this.dim;
  }

  get outputSize(): number {
    return this.dim;
  }

  /**
   * nn.Embedding state dict {weight (V, D)}; Keras's single weight has the same
   * layout. With { prefix }, the key is `${prefix}weight` (e.g. 'emb.'), keys not
   * starting with the prefix are ignored, and missing and unused keys under it
   * are listed in one WeightError (strict). Nothing changes on failure.
   */
  loadTorchStateDict(sd: { weight: ArrayLikeTensor } | StateDict, opts?: TorchLoadOptions): void {
    const op = 'Embedding.loadTorchStateDict';
    if (opts !== undefined) {
      const prefix = checkPrefix(op, opts);
      this.alive(op);
      const [sub] = selectTorchKeys(op, sd as StateDict, [{ prefix, names: this.torchKeys(), label: 'Embedding' }], 'prefixed');
      this.prepareTorchStateDict(prefix ? `${op} (prefix '${prefix}')` : op, sub)();
      return;
    }
    this.alive(op);
    if (sd === null || typeof sd !== 'object') throw new WeightError(`${op}: stateDict must be { weight (vocabSize, dim) }, got ${describe(sd)}.`);
    this.table = toFloat32(op, 'weight', sd.weight, [this.vocabSize, this.dim], '(vocabSize, dim)');
    this.upload();
  }

  /** @internal the state_dict names this layer expects, unprefixed */
  torchKeys(): string[] {
    return ['weight'];
  }

  /** @internal validates a state dict (unprefixed) and returns the step that loads it; throws before anything changes */
  prepareTorchStateDict(op: string, sd: StateDict): () => void {
    this.alive('Embedding.loadTorchStateDict');
    const table = toFloat32(op, 'weight', sd.weight, [this.vocabSize, this.dim], '(vocabSize, dim)');
    return () => {
      this.table = table;
      this.upload();
    };
  }

  torchStateDict(): { weight: { data: Float32Array; shape: number[] } } {
    this.notDisposed('Embedding.torchStateDict');
    if (this.cpuStale) throw new ValueError('Embedding.torchStateDict: the GPU weights may have changed (training); call await layer.syncWeights() first.');
    return { weight: { data: this.table.slice(), shape: [this.vocabSize, this.dim] } };
  }

  /** ids: integers in [0, vocabSize), shape (B, T) (or any shape: `shape` defaults to [ids.length]). */
  async forward(ids: ArrayLike<number>, shape?: readonly number[]): Promise<Tensor> {
    const op = 'Embedding.forward';
    this.alive(op);
    assertNumbers(op, 'ids', ids);
    shape ??= [ids.length];
    const u = this.checkIds(op, ids, shape);
    const n = u.length;
    const outShape = [...shape, this.dim];
    if (this.backend.kind === 'cpu') return Tensor.fromCpu(embeddingRef(u, this.table, this.dim), outShape);
    const ctx = this.backend.ctx;
    const idsBuf = ctx.createStorage('embedding.ids', u);
    const table = this.gpuTable!;
    const out = await submitToNew(ctx, op, 'embedding.out', n * this.dim, [idsBuf], (out) =>
      embeddingForward(ctx, { ids: idsBuf, table, out, N: n, D: this.dim, V: this.vocabSize }),
    );
    return Tensor.fromGpu(ctx, out, outShape);
  }

  /** The Keras mask of a batch of ids: 1 where the id is not 0 (the step is present). */
  computeMask(ids: ArrayLike<number>): Uint8Array {
    assertNumbers('Embedding.computeMask', 'ids', ids);
    return Uint8Array.from(ids as ArrayLike<number>, (v) => (v === 0 ? 0 : 1));
  }

  /** Forward that keeps the ids for backward(). */
  async record(ids: ArrayLike<number>, shape?: readonly number[]): Promise<{ output: Tensor; tape: EmbeddingTape }> {
    const output = await this.forward(ids, shape);
    return { output, tape: { ids: this.checkIds('Embedding.record', ids, shape ?? [ids.length]), version: this.version } };
  }

  /** Accumulates ∂L/∂table: a scatter-add of dOutput (…, D) rows to the recorded ids. */
  async backward(tape: EmbeddingTape, dOutput: Input): Promise<void> {
    const op = 'Embedding.backward';
    this.alive(op);
    if (tape === null || typeof tape !== 'object' || !(tape.ids instanceof Uint32Array)) throw new ValueError(`${op}: tape must come from this layer's record(), got ${describe(tape)}.`);
    if (tape.version !== this.version) {
      throw new ValueError(`${op}: the weights were loaded again after this tape was recorded; its activations belong to the old weights. Hint: record a new forward pass.`);
    }
    const N = tape.ids.length;
    checkInput(op, 'dOutput', dOutput, [N, this.dim], '(N, D)', this.backend);
    if (this.backend.kind === 'cpu') {
      if (!(this.grad instanceof Float64Array)) this.grad = new Float64Array(this.vocabSize * this.dim);
      embeddingBackwardRef(tape.ids, dOutput instanceof Tensor ? dOutput.cpuData(op) : dOutput, this.grad, this.dim);
      return;
    }
    const ctx = this.backend.ctx;
    const grad = this.gpuGrad();
    const ids = ctx.createStorage('embedding.ids', tape.ids);
    const temps: GPUBuffer[] = [ids];
    const dy = gpuInput(ctx, op, dOutput, 'embedding.dy', temps);
    try {
      await submitOps(ctx, op, [await embeddingBackward(ctx, { ids, dOut: dy, dTable: grad, N, D: this.dim })]);
    } finally {
      for (const b of temps) ctx.destroyBuffer(b);
    }
  }

  parameters(): Param[] {
    this.alive('Embedding.parameters');
    if (this.backend.kind === 'cpu') {
      if (!(this.grad instanceof Float64Array)) this.grad = new Float64Array(this.vocabSize * this.dim);
      return [{ name: 'weight', size: this.table.length, kind: 'cpu', value: this.table, grad: this.grad }];
    }
    this.cpuStale = true;
    return [{ name: 'weight', size: this.table.length, kind: 'webgpu', value: this.gpuTable!, grad: this.gpuGrad(), ctx: this.backend.ctx }];
  }

  zeroGrad(): void {
    this.alive('Embedding.zeroGrad');
    if (this.grad instanceof Float64Array) this.grad.fill(0);
    else if (this.grad && this.backend.kind === 'webgpu') {
      const grad = this.grad;
      this.backend.ctx.submitSync('Embedding.zeroGrad', (enc) => enc.clearBuffer(grad));
    }
  }

  async syncWeights(): Promise<void> {
    this.alive('Embedding.syncWeights');
    if (this.backend.kind !== 'webgpu' || !this.cpuStale) return;
    this.table = await this.backend.ctx.readback(this.gpuTable!, this.table.length);
    this.cpuStale = false;
  }

  /**
   * The table as it is on the device, read back first (GPU training changes it
   * there): 'torch' → { weight } as torchStateDict(), 'keras' → [embeddings (vocabSize, dim)].
   */
  async exportWeights(format: 'torch'): Promise<ReturnType<Embedding['torchStateDict']>>;
  async exportWeights(format: 'keras'): Promise<[Float32Array]>;
  async exportWeights(format: 'torch' | 'keras'): Promise<ReturnType<Embedding['torchStateDict']> | [Float32Array]> {
    checkFormat('Embedding.exportWeights', format);
    await this.syncWeights();
    const sd = this.torchStateDict();
    return format === 'torch' ? sd : [sd.weight.data];
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
    this.freeTable();
    if (this.grad && !(this.grad instanceof Float64Array) && this.backend.kind === 'webgpu') this.backend.ctx.destroyBuffer(this.grad);
    this.grad = null;
  }

  private gpuGrad(): GPUBuffer {
    if (!this.grad || this.grad instanceof Float64Array) this.grad = (this.backend as { kind: 'webgpu'; ctx: GpuContext }).ctx.createStorage('embedding.dweight', this.table.length);
    return this.grad;
  }

  private checkIds(op: string, ids: ArrayLike<number>, shape: readonly number[]): Uint32Array {
    const n = shape.reduce((a, b) => a * b, 1);
    if (!ids || ids.length !== n) throw new ShapeError(`${op}: ids has ${ids?.length} values, expected shape ${fmtShape(shape)} = ${n}.`);
    const u = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const v = ids[i];
      if (!Number.isInteger(v) || v < 0 || v >= this.vocabSize) {
        throw new ValueError(`${op}: ids[${i}] = ${v} is out of range; token ids must be integers in [0, vocabSize) = [0, ${this.vocabSize}). Hint: map unknown tokens to an out-of-vocabulary id.`);
      }
      u[i] = v;
    }
    return u;
  }

  private freeTable(): void {
    if (this.gpuTable && this.backend.kind === 'webgpu') this.backend.ctx.destroyBuffer(this.gpuTable);
    this.gpuTable = null;
  }

  private upload(): void {
    this.cpuStale = false;
    this.version++;
    if (this.backend.kind !== 'webgpu') return;
    const fresh = this.backend.ctx.createStorage('embedding.table', this.table);
    this.freeTable();
    this.gpuTable = fresh;
  }
}
