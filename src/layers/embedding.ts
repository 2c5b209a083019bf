// Embedding (nn.Embedding / keras Embedding): token ids (B, T) -> vectors (B, T, D).
import type { Backend } from '../backend';
import { ShapeError, ValueError, assertPositiveInt, fmtShape } from '../errors';
import { submitOps } from '../kernels/common';
import { embeddingForward } from '../kernels/heads';
import { embeddingRef } from '../reference/heads';
import { Tensor } from '../tensor';
import { initEmbedding } from '../weights/init';
import { toFloat32 } from '../weights/torch';
import type { ArrayLikeTensor } from '../weights/types';

export interface EmbeddingOptions {
  vocabSize: number;
  dim: number;
  convention?: 'pytorch' | 'keras';
  seed?: number;
}

export class Embedding {
  readonly kind = 'Embedding';
  readonly vocabSize: number;
  readonly dim: number;
  private readonly backend: Backend;

  /** @internal */
  get backendRef(): Backend {
    return this.backend;
  }
  private table: Float32Array; // (V, D)
  private gpuTable: GPUBuffer | null = null;

  constructor(backend: Backend, opts: EmbeddingOptions) {
    assertPositiveInt('Embedding', 'vocabSize', opts?.vocabSize);
    assertPositiveInt('Embedding', 'dim', opts.dim);
    this.backend = backend;
    this.vocabSize = opts.vocabSize;
    this.dim = opts.dim;
    this.table = initEmbedding(opts.vocabSize, opts.dim, opts.seed ?? 0, opts.convention === 'keras' ? 'keras' : 'torch');
    this.upload();
  }

  get paramCount(): number {
    return this.vocabSize * this.dim;
  }

  get outputSize(): number {
    return this.dim;
  }

  /** nn.Embedding state dict {weight (V, D)}; Keras's single weight has the same layout. */
  loadTorchStateDict(sd: { weight: ArrayLikeTensor }): void {
    this.table = toFloat32('Embedding.loadTorchStateDict', 'weight', sd?.weight, [this.vocabSize, this.dim], '(vocabSize, dim)');
    this.upload();
  }

  torchStateDict(): { weight: { data: Float32Array; shape: number[] } } {
    return { weight: { data: this.table.slice(), shape: [this.vocabSize, this.dim] } };
  }

  /** ids: integers in [0, vocabSize), shape (B, T) (or any shape: `shape` defaults to [ids.length]). */
  async forward(ids: ArrayLike<number>, shape: readonly number[] = [ids.length]): Promise<Tensor> {
    const op = 'Embedding.forward';
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
    const outShape = [...shape, this.dim];
    if (this.backend.kind === 'cpu') return Tensor.fromCpu(embeddingRef(u, this.table, this.dim), outShape);
    const ctx = this.backend.ctx;
    const idsBuf = ctx.createStorage('embedding.ids', u);
    const out = ctx.createStorage('embedding.out', n * this.dim);
    try {
      await submitOps(ctx, op, [await embeddingForward(ctx, { ids: idsBuf, table: this.gpuTable!, out, N: n, D: this.dim, V: this.vocabSize })]);
    } catch (e) {
      ctx.destroyBuffer(out);
      throw e;
    } finally {
      ctx.destroyBuffer(idsBuf);
    }
    return Tensor.fromGpu(ctx, out, outShape);
  }

  dispose(): void {
    if (this.gpuTable && this.backend.kind === 'webgpu') this.backend.ctx.destroyBuffer(this.gpuTable);
    this.gpuTable = null;
  }

  private upload(): void {
    if (this.backend.kind !== 'webgpu') return;
    const fresh = this.backend.ctx.createStorage('embedding.table', this.table);
    this.dispose();
    this.gpuTable = fresh;
  }
}
