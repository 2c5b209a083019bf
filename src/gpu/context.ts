// GpuContext: the runtime's device, with
//  - buffers that are tracked (live count and bytes) and checked against limits,
//  - compute pipelines compiled once and cached by kernel name + constants,
//  - submission wrapped in error scopes, turned into typed errors,
//  - device loss recorded and reported on the next call,
//  - with timestamps on, every compute pass timed on the GPU (timer.ts).
// The CPU waits for the GPU only in `readback`.
import { DeviceLostError, DisposedError, KernelError, LimitError } from '../errors';
import type { AcquiredDevice } from './device';
import { PassTimer, type GpuTime } from './timer';

// GPUBufferUsage / GPUMapMode values are fixed by the spec; spelled out here so
// the library does not depend on those globals existing (Node).
export const Usage = {
  MAP_READ: 0x1,
  COPY_SRC: 0x4,
  COPY_DST: 0x8,
  UNIFORM: 0x40,
  STORAGE: 0x80,
} as const;
const MAP_READ_MODE = 0x1;

export type BindingType = 'uniform' | 'read-only-storage' | 'storage';

export interface BindingSpec {
  binding: number;
  type: BindingType;
  /** Uniform with a dynamic offset (one bind group serves every step of a sequence). */
  dynamic?: boolean;
}

/** A kernel's WGSL and its bind-group layout, declared once as one typed object. */
export interface KernelDef<B extends string = string> {
  name: string;
  wgsl: string;
  bindings: Record<B, BindingSpec>;
}

export type Constants = Record<string, number>;

export class GpuContext {
  readonly device: GPUDevice;
  readonly adapterName: string;
  readonly limits: GPUSupportedLimits;
  private readonly owned: boolean;
  /** Holds the GPU instance and adapter alive for the device's lifetime (see AcquiredDevice). */
  keepAlive: unknown[];
  private readonly pipelines = new Map<string, Promise<GPUComputePipeline>>();
  private readonly layouts = new Map<string, GPUBindGroupLayout>();
  private readonly live = new Map<GPUBuffer, number>();
  private lostInfo: string | null = null;
  private disposed = false;
  /** Dispatches issued since creation (for the scheduler's per-step counts). */
  dispatches = 0;
  /** GPU→CPU copies since creation: the only places the CPU waits for the GPU. */
  readbacks = 0;
  /**
   * Backpressure: command buffers submitted whose GPU work has not finished yet,
   * each with the promise that resolves when it has. submit() waits for the
   * oldest while there are `maxPending` of them, so a caller that never waits for
   * the GPU cannot queue unbounded work (and the memory it holds).
   */
  private readonly inFlight: Promise<void>[] = [];
  readonly maxPending: number;
  /** The most submissions ever in flight at once (see pendingSubmissions). */
  peakPending = 0;

  /** Times compute passes when the device has 'timestamp-query' and the runtime asked for it. */
  private readonly timer: PassTimer | null;

  constructor(acq: AcquiredDevice, maxPending = 4) {
    this.device = acq.device;
    this.maxPending = maxPending;
    this.timer = acq.timestamps ? new PassTimer(acq.device) : null;
    this.adapterName = acq.adapterName;
    this.owned = acq.owned;
    this.keepAlive = acq.keepAlive;
    this.limits = acq.device.limits;
    acq.device.lost.then((info) => {
      if (!this.disposed) this.lostInfo = `${info.reason}: ${info.message}`;
    });
  }

  /** Throws if the device was lost or the context disposed. */
  check(op: string): void {
    if (this.disposed) throw new DisposedError(`${op}: the runtime was disposed.`);
    if (this.lostInfo !== null) {
      throw new DeviceLostError(
        `${op}: the GPU device was lost (${this.lostInfo}). Hint: create a new runtime and load the weights again.`,
      );
    }
  }

  get isLost(): boolean {
    return this.lostInfo !== null;
  }

  memory(): { buffers: number; bytes: number } {
    let bytes = 0;
    for (const b of this.live.values()) bytes += b;
    return { buffers: this.live.size, bytes };
  }

  /** Refuses sizes over the adapter's limits with a message naming the tensor. */
  checkSize(op: string, what: string, bytes: number, storage = true): void {
    const maxBuf = this.limits.maxBufferSize;
    const maxBind = this.limits.maxStorageBufferBindingSize;
    if (bytes > maxBuf || (storage && bytes > maxBind)) {
      throw new LimitError(
        `${op}: ${what} needs ${bytes} bytes, over this adapter's limit of ${Math.min(maxBuf, storage ? maxBind : maxBuf)} bytes ` +
          `(maxBufferSize ${maxBuf}, maxStorageBufferBindingSize ${maxBind}). Hint: use a smaller batch or sequence length.`,
      );
    }
  }

  createBuffer(label: string, bytes: number, usage: number): GPUBuffer {
    this.check(label);
    const size = Math.max(16, Math.ceil(bytes / 4) * 4);
    this.checkSize('createBuffer', `buffer '${label}'`, size, (usage & Usage.STORAGE) !== 0);
    const buf = this.device.createBuffer({ label, size, usage });
    this.live.set(buf, size);
    return buf;
  }

  /** A storage buffer holding `data` (f32 or u32). */
  createStorage(label: string, data: Float32Array | Uint32Array | number, extraUsage = 0): GPUBuffer {
    const bytes = typeof data === 'number' ? data * 4 : data.byteLength;
    const buf = this.createBuffer(label, bytes, Usage.STORAGE | Usage.COPY_SRC | Usage.COPY_DST | extraUsage);
    if (typeof data !== 'number' && data.length) this.device.queue.writeBuffer(buf, 0, data as Float32Array<ArrayBuffer>);
    return buf;
  }

  /**
   * A 16-byte storage buffer bound where a kernel declares a binding that its
   * variant does not use (e.g. `gates` when not recording). Owned by the context,
   * outside the live-buffer count.
   */
  get placeholder(): GPUBuffer {
    this.placeholderBuf ??= this.device.createBuffer({ label: 'placeholder', size: 16, usage: Usage.STORAGE });
    return this.placeholderBuf;
  }
  private placeholderBuf: GPUBuffer | null = null;

  destroyBuffer(buf: GPUBuffer | null | undefined): void {
    if (!buf || !this.live.has(buf)) return;
    this.live.delete(buf);
    buf.destroy();
  }

  /** Copies `count` f32 values from `buf` to the CPU. The CPU waits for the GPU here. */
  async readback(buf: GPUBuffer, count: number, offsetElems = 0): Promise<Float32Array> {
    this.check('readback');
    this.readbacks++;
    const bytes = count * 4;
    if (bytes === 0) return new Float32Array(0);
    const staging = this.device.createBuffer({ label: 'readback', size: bytes, usage: Usage.MAP_READ | Usage.COPY_DST });
    try {
      const enc = this.device.createCommandEncoder();
      enc.copyBufferToBuffer(buf, offsetElems * 4, staging, 0, bytes);
      this.device.queue.submit([enc.finish()]);
      await staging.mapAsync(MAP_READ_MODE);
      return new Float32Array(staging.getMappedRange().slice(0));
    } catch (e) {
      this.check('readback');
      throw e;
    } finally {
      staging.destroy();
    }
  }

  bindGroupLayout(def: KernelDef): GPUBindGroupLayout {
    let layout = this.layouts.get(def.name);
    if (!layout) {
      const entries: GPUBindGroupLayoutEntry[] = Object.values(def.bindings).map((b) => ({
        binding: b.binding,
        visibility: 0x4 /* GPUShaderStage.COMPUTE */,
        buffer: { type: b.type, hasDynamicOffset: !!b.dynamic },
      }));
      layout = this.device.createBindGroupLayout({ label: def.name, entries });
      this.layouts.set(def.name, layout);
    }
    return layout;
  }

  /** The compiled pipeline for a kernel and override constants, compiled once. */
  pipeline(def: KernelDef, constants: Constants = {}): Promise<GPUComputePipeline> {
    this.check(def.name);
    const key = def.name + JSON.stringify(Object.entries(constants).sort());
    let p = this.pipelines.get(key);
    if (!p) {
      p = this.compile(def, constants);
      this.pipelines.set(key, p);
      p.catch(() => this.pipelines.delete(key));
    }
    return p;
  }

  private async compile(def: KernelDef, constants: Constants): Promise<GPUComputePipeline> {
    const device = this.device;
    device.pushErrorScope('validation');
    const module = device.createShaderModule({ label: def.name, code: def.wgsl });
    const moduleError = await device.popErrorScope();
    if (moduleError) {
      const info = await module.getCompilationInfo();
      const lines = info.messages.filter((m) => m.type === 'error').map((m) => `  line ${m.lineNum}:${m.linePos}: ${m.message}`);
      throw new KernelError(`kernel '${def.name}' failed to compile:\n${lines.join('\n') || moduleError.message}`);
    }
    // Synchronous creation inside an error scope: Dawn in Node (the `webgpu`
    // package) aborts the process on createComputePipelineAsync here, and a
    // pipeline is compiled once per kernel variant anyway.
    device.pushErrorScope('validation');
    const pipeline = device.createComputePipeline({
      label: def.name,
      layout: device.createPipelineLayout({ bindGroupLayouts: [this.bindGroupLayout(def)] }),
      compute: { module, entryPoint: 'main', constants },
    });
    const err = await device.popErrorScope();
    if (err) throw new KernelError(`kernel '${def.name}' failed to build a pipeline: ${err.message}`);
    return pipeline;
  }

  bindGroup<B extends string>(def: KernelDef<B>, buffers: Record<B, GPUBuffer | { buffer: GPUBuffer; size: number }>): GPUBindGroup {
    const entries: GPUBindGroupEntry[] = (Object.keys(def.bindings) as B[]).map((name) => {
      const b: GPUBuffer | GPUBufferBinding = buffers[name];
      if (!b) throw new Error(`kernel '${def.name}': binding '${name}' has no buffer`);
      const resource: GPUBufferBinding = 'buffer' in b ? b : { buffer: b };
      return { binding: def.bindings[name].binding, resource };
    });
    return this.device.createBindGroup({ label: def.name, layout: this.bindGroupLayout(def), entries });
  }

  /**
   * Encodes work with `record`, submits it in one command buffer, and turns any
   * validation or out-of-memory error into a typed error naming `op`.
   */
  /** The descriptor every compute pass of the runtime begins with (timestamp writes when timing). */
  passDescriptor(label: string): GPUComputePassDescriptor {
    return this.timer ? this.timer.pass(label) : { label };
  }

  /** Whether compute passes are being timed on the GPU (see gpuTime). */
  get timestamps(): boolean {
    return this.timer !== null;
  }

  /** GPU time of the compute passes submitted since the last call, or null when not timing. */
  async gpuTime(): Promise<GpuTime | null> {
    this.check('gpuTime');
    return this.timer ? this.timer.take() : null;
  }

  /** Submissions whose GPU work has not finished (at most maxPending once submit() has run). */
  get pendingSubmissions(): number {
    return this.inFlight.length;
  }

  /** Submits command buffers and tracks them until the GPU has finished them. */
  private queueSubmit(cmds: GPUCommandBuffer[]): void {
    this.device.queue.submit(cmds);
    const done: Promise<void> = this.device.queue.onSubmittedWorkDone().then(
      () => this.settle(done),
      () => this.settle(done),
    );
    this.inFlight.push(done);
    this.peakPending = Math.max(this.peakPending, this.inFlight.length);
  }

  private settle(p: Promise<void>): void {
    const i = this.inFlight.indexOf(p);
    if (i >= 0) this.inFlight.splice(i, 1);
  }

  /** Waits until fewer than maxPending submissions are in flight. */
  private async throttle(): Promise<void> {
    while (this.inFlight.length >= this.maxPending && !this.disposed && this.lostInfo === null) await this.inFlight[0];
  }

  /**
   * Records and submits small synchronous work (the buffer clears and copies of
   * methods that do not return a promise). Not counted in pendingSubmissions: it
   * cannot wait, holds no workspace, and the queue runs in order, so it is done
   * before the next counted submission is.
   */
  submitSync(label: string, record: (enc: GPUCommandEncoder) => void): void {
    this.check(label);
    const enc = this.device.createCommandEncoder({ label });
    record(enc);
    this.device.queue.submit([enc.finish()]);
  }

  async submit(op: string, record: (enc: GPUCommandEncoder) => void): Promise<void> {
    this.check(op);
    await this.throttle();
    this.check(op);
    const device = this.device;
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    let validation: GPUError | null;
    let oom: GPUError | null;
    try {
      const enc = device.createCommandEncoder({ label: op });
      record(enc);
      const startRead = this.timer?.resolve(enc) ?? null;
      this.queueSubmit([enc.finish()]);
      startRead?.();
    } finally {
      // always close both scopes, so errors of other code on this device are not swallowed
      validation = await device.popErrorScope();
      oom = await device.popErrorScope();
    }
    this.check(op);
    if (validation) throw new KernelError(`${op}: GPU validation error: ${validation.message}`);
    if (oom) throw new LimitError(`${op}: the GPU ran out of memory: ${oom.message}`);
  }

  /**
   * After a failed call has destroyed its buffers: submits nothing and waits for
   * the queue, so the device really releases them (Dawn frees destroyed buffers
   * and pending buffer writes only when the queue moves on; without this, a run of
   * failing calls kept hundreds of MB until some later successful submission).
   */
  async releaseDestroyed(): Promise<void> {
    if (this.disposed || this.lostInfo !== null) return;
    this.queueSubmit([]);
    await this.inFlight[this.inFlight.length - 1];
  }

  /** Waits until the GPU has finished all submitted work (for timing). */
  async finish(): Promise<void> {
    await this.device.queue.onSubmittedWorkDone();
    this.check('finish');
  }

  dispose(): void {
    if (this.disposed) return;
    for (const b of this.live.keys()) b.destroy();
    this.live.clear();
    this.placeholderBuf?.destroy();
    this.timer?.destroy();
    this.pipelines.clear();
    this.disposed = true;
    if (this.owned) this.device.destroy();
    this.keepAlive = [];
  }
}

/** Records one compute pass dispatch, counting it. */
export function dispatch(
  ctx: GpuContext,
  pass: GPUComputePassEncoder,
  pipeline: GPUComputePipeline,
  group: GPUBindGroup,
  workgroups: readonly [number, number?, number?],
  dynamicOffsets?: number[],
): void {
  const [x, y = 1, z = 1] = workgroups;
  const max = ctx.limits.maxComputeWorkgroupsPerDimension;
  if (x > max || y > max || z > max) {
    throw new LimitError(
      `dispatch of '${pipeline.label}': ${x}x${y}x${z} workgroups exceeds maxComputeWorkgroupsPerDimension ${max}. Hint: use a smaller batch or sequence length.`,
    );
  }
  pass.setPipeline(pipeline);
  if (dynamicOffsets) pass.setBindGroup(0, group, dynamicOffsets);
  else pass.setBindGroup(0, group);
  pass.dispatchWorkgroups(x, y, z);
  ctx.dispatches++;
}
