// createRuntime(): the one object a user holds. It owns the GPU device (unless
// the caller passed one), every pipeline and, through the layers it creates,
// every GPU buffer; rt.dispose() frees them all.
import { attachBackend, backendName, type Backend, type RuntimeHandle } from './backend';
import { ShapeError, ValueError, WebGPUUnavailableError } from './errors';
import { GpuContext } from './gpu/context';
import type { GpuTime } from './gpu/timer';
import { acquireDevice, type DeviceRequest } from './gpu/device';
import { Dense, type DenseOptions } from './layers/dense';
import { Embedding, type EmbeddingOptions } from './layers/embedding';
import { Recurrent, type RecurrentOptions } from './layers/recurrent';
import { loadLayersModel, type LayersModel } from './io/layers_model_build';
import type { LayersModelSource } from './io/layers_model_source';
import { loadOnnx, type OnnxSession, type OnnxSource } from './io/onnx';
import { RepeatVector } from './layers/repeat_vector';
import { Softmax } from './layers/softmax';
import { Sequential } from './models/sequential';
import { Seq2Seq, type Seq2SeqOptions } from './models/seq2seq';
import type { Layer } from './models/types';
import { Tensor, type BackendName } from './tensor';
import { WasmEngine } from './wasm/engine';
import { assertFloat32, assertNumbers, assertShape, checkElements } from './validate';

export interface RuntimeOptions extends DeviceRequest {
  /**
   * 'webgpu' (default): fail with WebGPUUnavailableError if there is no adapter.
   * 'cpu': the float64 reference. 'wasm': float32 WebAssembly SIMD kernels (one thread).
   * 'auto', only when asked for: WebGPU if an adapter is found, else wasm; rt.backend says which ran.
   */
  backend?: BackendName | 'auto';
  /**
   * wasm: the threads its GEMMs run on (the input projections, weight gradients and
   * Dense; the recurrent steps run on one). Default 1. More need worker threads and
   * SharedArrayBuffer (Node; a cross-origin isolated page), else one runs and
   * rt.adapterName says why.
   */
  threads?: number;
  /**
   * Backpressure (webgpu): at most this many submissions may be in flight on the
   * GPU; the next call waits for the oldest to finish, so a loop that never waits
   * for the GPU cannot grow memory without bound. Default 4.
   */
  maxPendingSubmissions?: number;
}

export class Runtime implements RuntimeHandle {
  readonly backend: BackendName;
  /** The adapter's name ('cpu reference (float64)' on the CPU backend; on wasm e.g. 'wasm simd128 (float32, 1 thread)'). */
  readonly adapterName: string;
  private readonly be: Backend;

  /** @internal use createRuntime() */
  static create(be: Backend): Runtime {
    return new Runtime(be);
  }

  private constructor(be: Backend) {
    this.be = be;
    this.backend = backendName(be);
    this.adapterName = be.kind === 'webgpu' ? be.ctx.adapterName : be.engine ? be.engine.name : 'cpu reference (float64)';
    attachBackend(this, be);
  }

  /** The GPUDevice (webgpu backend), e.g. to share with other WebGPU code. */
  get device(): GPUDevice | null {
    return this.be.kind === 'webgpu' ? this.be.ctx.device : null;
  }

  simpleRNN(opts: RecurrentOptions): Recurrent {
    return Recurrent.create(this.be, 'rnn', opts);
  }
  gru(opts: RecurrentOptions): Recurrent {
    return Recurrent.create(this.be, 'gru', opts);
  }
  lstm(opts: RecurrentOptions): Recurrent {
    return Recurrent.create(this.be, 'lstm', opts);
  }
  embedding(opts: EmbeddingOptions): Embedding {
    return Embedding.create(this.be, opts);
  }
  dense(opts: DenseOptions): Dense {
    return Dense.create(this.be, opts);
  }
  softmax(): Softmax {
    return Softmax.create(this.be);
  }
  /** Keras RepeatVector(n): (B, F) → (B, n, F), e.g. a class vector fed to every step of a decoder. */
  repeatVector(n: number): RepeatVector {
    return RepeatVector.create(this.be, n);
  }
  sequential(layers: Layer[]): Sequential {
    return new Sequential(this, layers);
  }
  /** An encoder–decoder (token or vector source, optional Luong attention): fit, translate, beamSearch. */
  seq2seq(opts: Seq2SeqOptions): Seq2Seq {
    return new Seq2Seq(this, opts);
  }

  /**
   * Loads a TensorFlow.js Layers model (model.json + weight shards; tfjs-saved or
   * converted from Keras): a URL or (Node) path of model.json, { modelJSON, weights },
   * or the File objects of an <input type=file multiple>. Validates everything
   * before building anything.
   */
  loadLayersModel(source: LayersModelSource): Promise<LayersModel> {
    return loadLayersModel(this, source);
  }

  /**
   * Loads an ONNX model (LSTM/GRU/RNN nodes and the glue torch.onnx.export emits
   * around them): a session with inputNames, outputNames and run(feeds) in ONNX
   * Runtime's shape. Unsupported operators are listed before anything is built.
   */
  loadOnnx(bytes: OnnxSource): Promise<OnnxSession> {
    return loadOnnx(this, bytes);
  }

  /** Copies data to this backend as a Tensor of `shape` (caller owns it). Values must be finite and within float32's range. */
  tensor(data: ArrayLike<number>, shape: readonly number[]): Tensor {
    assertShape('tensor', 'shape', shape);
    assertNumbers('tensor', 'data', data);
    const n = shape.reduce((a, b) => a * b, 1);
    if (data.length !== n) throw new ShapeError(`tensor: data has ${data.length} values, shape (${shape.join(', ')}) needs ${n}.`);
    checkElements('tensor', `a tensor of shape (${shape.join(', ')})`, n, this.be);
    assertFloat32('tensor', 'data', data);
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

  /**
   * Counters of GPU work (webgpu backend; zeros on the CPU): compute dispatches and
   * readbacks (GPU→CPU copies) so far; compute submissions in flight now (the
   * small clears of synchronous methods such as zeroGrad() are not counted), the most ever
   * in flight at once, and the bound (maxPendingSubmissions).
   */
  stats(): { dispatches: number; readbacks: number; pendingSubmissions: number; peakPendingSubmissions: number; maxPendingSubmissions: number } {
    if (this.be.kind !== 'webgpu') return { dispatches: 0, readbacks: 0, pendingSubmissions: 0, peakPendingSubmissions: 0, maxPendingSubmissions: 0 };
    const ctx = this.be.ctx;
    return { dispatches: ctx.dispatches, readbacks: ctx.readbacks, pendingSubmissions: ctx.pendingSubmissions, peakPendingSubmissions: ctx.peakPending, maxPendingSubmissions: ctx.maxPending };
  }

  /** @internal */
  get backendRef(): Backend {
    return this.be;
  }

  /** Frees every GPU buffer and pipeline, and the device if the runtime created it; on wasm, stops its worker threads. */
  dispose(): void {
    if (this.be.kind === 'webgpu') this.be.ctx.dispose();
    else this.be.engine?.dispose(); // wasm: stops its worker threads
  }
}

export async function createRuntime(opts: RuntimeOptions = {}): Promise<Runtime> {
  if (opts === null || typeof opts !== 'object') throw new ValueError(`createRuntime: options must be an object, got ${opts === null ? 'null' : typeof opts}.`);
  const backend = opts.backend ?? 'webgpu';
  const threads = opts.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) throw new ValueError(`createRuntime: threads must be an integer in [1, 64], got ${String(opts.threads)}.`);
  if (opts.threads !== undefined && backend !== 'wasm' && backend !== 'auto') throw new ValueError(`createRuntime: threads is an option of the wasm backend, not '${backend}'.`);
  if (backend === 'cpu') return Runtime.create({ kind: 'cpu' });
  if (backend === 'wasm') return Runtime.create({ kind: 'cpu', engine: await WasmEngine.create({ threads }) });
  if (backend !== 'webgpu' && backend !== 'auto') throw new ValueError(`createRuntime: backend must be 'webgpu', 'cpu', 'wasm' or 'auto', got '${String(backend)}'.`);
  const maxPending = opts.maxPendingSubmissions ?? 4;
  if (!Number.isInteger(maxPending) || maxPending < 1) throw new ValueError(`createRuntime: maxPendingSubmissions must be a positive integer, got ${String(maxPending)}.`);
  let acq;
  try {
    acq = await acquireDevice(opts);
  } catch (e) {
    // 'auto' only: no WebGPU here (no navigator.gpu, no Dawn, or no adapter) → wasm. Never for the default.
    if (backend === 'auto' && e instanceof WebGPUUnavailableError) return Runtime.create({ kind: 'cpu', engine: await WasmEngine.create({ threads }) });
    throw e;
  }
  return Runtime.create({ kind: 'webgpu', ctx: new GpuContext(acq, maxPending) });
}
