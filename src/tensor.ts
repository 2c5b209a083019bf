// Tensor: a shaped array that lives either on the GPU (a GPUBuffer the tensor
// owns) or on the CPU (float64, the reference backend's precision). Results of
// the runtime are Tensors so that GPU results stay on the GPU until the caller
// asks for them with read().
import { DisposedError, ShapeError, fmtShape } from './errors';
import type { GpuContext } from './gpu/context';

export type FloatArray = Float32Array | Float64Array;

/** A plain or backend input: array data, or a Tensor already on this backend. */
export type Input = Float32Array | Float64Array | number[] | Tensor;
/** 'wasm' computes in float32 WebAssembly kernels; its tensors live in host memory like the CPU reference's ('cpu' tensors). */
export type BackendName = 'webgpu' | 'cpu' | 'wasm';

type Store = { kind: 'cpu'; data: Float64Array } | { kind: 'gpu'; ctx: GpuContext; buffer: GPUBuffer; owns: boolean };

export class Tensor {
  readonly shape: readonly number[];
  private store: Store | null;

  private constructor(shape: readonly number[], store: Store) {
    this.shape = [...shape];
    this.store = store;
  }

  /** @internal A tensor owning `buffer` (the caller hands ownership over). */
  static fromGpu(ctx: GpuContext, buffer: GPUBuffer, shape: readonly number[]): Tensor {
    return new Tensor(shape, { kind: 'gpu', ctx, buffer, owns: true });
  }

  /** @internal A CPU tensor over `data` (not copied). */
  static fromCpu(data: Float64Array, shape: readonly number[]): Tensor {
    return new Tensor(shape, { kind: 'cpu', data });
  }

  /** Where the data lives: 'webgpu' (a GPU buffer) or 'cpu' (host memory: the CPU and wasm backends' tensors). */
  get backend(): 'webgpu' | 'cpu' {
    return this.live('backend').kind === 'gpu' ? 'webgpu' : 'cpu';
  }

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  get disposed(): boolean {
    return this.store === null;
  }

  /**
   * The values, copied to the CPU. For a GPU tensor this is the one place the CPU
   * waits for the GPU (float32); a CPU tensor returns its float64 values.
   */
  async read(): Promise<FloatArray> {
    const s = this.live('read');
    if (s.kind === 'cpu') return s.data.slice();
    return s.ctx.readback(s.buffer, this.size);
  }

  /** @internal Whether this is a GPU tensor of `ctx` (the device that can bind its buffer). */
  belongsTo(ctx: GpuContext): boolean {
    return this.store?.kind === 'gpu' && this.store.ctx === ctx;
  }

  /** @internal */
  gpuBuffer(op: string): GPUBuffer {
    const s = this.live(op);
    if (s.kind !== 'gpu') throw new Error(`${op}: expected a GPU tensor, got a CPU tensor`);
    return s.buffer;
  }

  /** @internal */
  cpuData(op: string): Float64Array {
    const s = this.live(op);
    if (s.kind !== 'cpu') throw new Error(`${op}: expected a CPU tensor, got a GPU tensor`);
    return s.data;
  }

  /** The same data under a new shape, taking over ownership: this handle is disposed. */
  reshape(shape: readonly number[]): Tensor {
    const s = this.live('reshape');
    checkSameSize(this.shape, shape);
    this.store = null;
    return new Tensor(shape, s);
  }

  /** @internal A non-owning view under a new shape: disposing the view frees nothing. */
  view(shape: readonly number[]): Tensor {
    const s = this.live('view');
    checkSameSize(this.shape, shape);
    return new Tensor(shape, s.kind === 'gpu' ? { ...s, owns: false } : s);
  }

  /** Frees the GPU buffer (if any and owned). Further use throws DisposedError. */
  dispose(): void {
    if (this.store?.kind === 'gpu' && this.store.owns) this.store.ctx.destroyBuffer(this.store.buffer);
    this.store = null;
  }

  toString(): string {
    return `Tensor${fmtShape(this.shape)} on ${this.store ? this.backend : 'disposed'}`;
  }

  private live(op: string): Store {
    if (!this.store) throw new DisposedError(`${op}: tensor ${fmtShape(this.shape)} was disposed.`);
    return this.store;
  }
}

function checkSameSize(from: readonly number[], to: readonly number[]): void {
  const n = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
  if (n(from) !== n(to)) throw new ShapeError(`reshape: cannot view ${fmtShape(from)} as ${fmtShape(to)}: they differ in size.`);
}

/**
 * The GPU buffer of an input: a Tensor's own buffer (borrowed), or a float32
 * upload of an array, added to `temps` for the caller to free after submitting.
 */
export function gpuInput(ctx: GpuContext, op: string, v: Input, label: string, temps: GPUBuffer[]): GPUBuffer {
  if (v instanceof Tensor) return v.gpuBuffer(op);
  const b = ctx.createStorage(label, Float32Array.from(v));
  temps.push(b);
  return b;
}
