// createRuntime(): the one object a user holds. It owns the GPU device (unless
// the caller passed one), every pipeline and, through the layers it creates,
// every GPU buffer; rt.dispose() frees them all.
import { attachBackend, type Backend, type RuntimeHandle } from './backend';
import { ShapeError, ValueError } from './errors';
import { GpuContext } from './gpu/context';
import type { GpuTime } from './gpu/timer';
import { acquireDevice, type DeviceRequest } from './gpu/device';
import { Dense, type DenseOptions } from './layers/dense';
import { Embedding, type EmbeddingOptions } from './layers/embedding';
import { Recurrent, type RecurrentOptions } from './layers/recurrent';
import { Softmax } from './layers/softmax';
import { Sequential } from './models/sequential';
import type { Layer } from './models/types';
import { Tensor, type BackendName } from './tensor';

export interface RuntimeOptions extends DeviceRequest {
  /** 'webgpu' (default): fail with WebGPUUnavailableError if there is no adapter. 'cpu': the float64 reference. */
  backend?: BackendName;
}

export class Runtime implements RuntimeHandle {
  readonly backend: BackendName;
  /** The adapter's name ('cpu reference' on the CPU backend). */
  readonly adapterName: string;
  private readonly be: Backend;

  /** @internal use createRuntime() */
  constructor(be: Backend) {
    this.be = be;
    this.backend = be.kind;
    this.adapterName = be.kind === 'webgpu' ? be.ctx.adapterName : 'cpu reference (float64)';
    attachBackend(this, be);
  }

  /** The GPUDevice (webgpu backend), e.g. to share with other WebGPU code. */
  get device(): GPUDevice | null {
    return this.be.kind === 'webgpu' ? this.be.ctx.device : null;
  }

  simpleRNN(opts: RecurrentOptions): Recurrent {
    return new Recurrent(this.be, 'rnn', opts);
  }
  gru(opts: RecurrentOptions): Recurrent {
    return new Recurrent(this.be, 'gru', opts);
  }
  lstm(opts: RecurrentOptions): Recurrent {
    return new Recurrent(this.be, 'lstm', opts);
  }
  embedding(opts: EmbeddingOptions): Embedding {
    return new Embedding(this.be, opts);
  }
  dense(opts: DenseOptions): Dense {
    return new Dense(this.be, opts);
  }
  softmax(): Softmax {
    return new Softmax(this.be);
  }
  sequential(layers: Layer[]): Sequential {
    return new Sequential(this, layers);
  }

  /** Copies data to this backend as a Tensor of `shape` (caller owns it). */
  tensor(data: ArrayLike<number>, shape: readonly number[]): Tensor {
    const n = shape.reduce((a, b) => a * b, 1);
    if (data.length !== n) throw new ShapeError(`tensor: data has ${data.length} values, shape (${shape.join(', ')}) needs ${n}.`);
    if (this.be.kind === 'cpu') return Tensor.fromCpu(Float64Array.from(data), shape);
    return Tensor.fromGpu(this.be.ctx, this.be.ctx.createStorage('tensor', Float32Array.from(data)), shape);
  }

  /** Live GPU buffers and their bytes (0 on the CPU backend). */
  memory(): { buffers: number; bytes: number } {
    return this.be.kind === 'webgpu' ? this.be.ctx.memory() : { buffers: 0, bytes: 0 };
  }

  /**
   * GPU-side time of the compute passes submitted since the last call (timestamp
   * queries; waits for passes still running), or null when the runtime was not
   * created with { timestamps: true } or the adapter has no 'timestamp-query'.
   * Browsers may round each timestamp (Chromium: to 100 µs).
   */
  async gpuTime(): Promise<GpuTime | null> {
    return this.be.kind === 'webgpu' ? this.be.ctx.gpuTime() : null;
  }

  /** Whether compute passes are timed on the GPU (see gpuTime). */
  get timestamps(): boolean {
    return this.be.kind === 'webgpu' && this.be.ctx.timestamps;
  }

  /** Counters of GPU work so far (webgpu backend): compute dispatches, and readbacks (GPU→CPU copies). */
  stats(): { dispatches: number; readbacks: number } {
    return this.be.kind === 'webgpu' ? { dispatches: this.be.ctx.dispatches, readbacks: this.be.ctx.readbacks } : { dispatches: 0, readbacks: 0 };
  }

  /** @internal */
  get backendRef(): Backend {
    return this.be;
  }

  /** Frees every GPU buffer and pipeline, and the device if the runtime created it. */
  dispose(): void {
    if (this.be.kind === 'webgpu') this.be.ctx.dispose();
  }
}

export async function createRuntime(opts: RuntimeOptions = {}): Promise<Runtime> {
  const backend = opts.backend ?? 'webgpu';
  if (backend === 'cpu') return new Runtime({ kind: 'cpu' });
  if (backend !== 'webgpu') throw new ValueError(`createRuntime: backend must be 'webgpu' or 'cpu', got '${String(backend)}'.`);
  const acq = await acquireDevice(opts);
  return new Runtime({ kind: 'webgpu', ctx: new GpuContext(acq) });
}
