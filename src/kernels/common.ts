// Shared pieces of the kernel launchers: the WGSL helper file, the uniform
// layouts of the recurrent kernels, and the encoded-op shape the scheduler strings
// together into one command buffer.
import commonWgsl from '../../shaders/common.wgsl?raw';
import { dispatch, Usage, type BindingSpec, type Constants, type GpuContext, type KernelDef } from '../gpu/context';
import { packUniforms, uniformSize, type UniformLayout, type UniformValues } from '../gpu/uniforms';

/** Joins shaders/common.wgsl (stable sigmoid/tanh, activations) in front of a kernel. */
export function withCommon(wgsl: string): string {
  return `${commonWgsl}\n${wgsl}`;
}

// Binding helpers of the recurrent kernels' layouts.
export const ro = (binding: number): BindingSpec => ({ binding, type: 'read-only-storage' });
export const rw = (binding: number): BindingSpec => ({ binding, type: 'storage' });
/** Per-step kernels read their Params from one slot per step of a shared uniform buffer. */
export const stepParams: BindingSpec = { binding: 0, type: 'uniform', dynamic: true };
export const seqParams: BindingSpec = { binding: 0, type: 'uniform' };
/** Bindings every recurrent kernel has (LSTM adds cs, the Keras v1 GRU rh). */
export type StateBindings = 'params' | 'xg' | 'whhT' | 'bhh' | 'valid' | 'hs' | 'out';
/** Bindings every step-backward kernel has (each cell adds what its formulas read). */
export type BackwardBindings = 'params' | 'whhT' | 'dout' | 'valid' | 'dA' | 'dxg' | 'carry';

/** Activation codes shared with activate() in common.wgsl. */
export const ACT = { none: 0, relu: 1, sigmoid: 2, tanh: 3 } as const;
export type Activation = keyof typeof ACT;

/** Work recorded into a compute pass; `release` frees its temporaries after submit. */
export interface EncodedOp {
  label: string;
  dispatches: number;
  record(pass: GPUComputePassEncoder): void;
  release(): void;
}

/** A uniform buffer holding one packed struct. */
export function uniformBuffer<L extends UniformLayout>(ctx: GpuContext, label: string, layout: L, values: UniformValues<L>): GPUBuffer {
  const buf = ctx.createBuffer(label, uniformSize(layout), Usage.UNIFORM | Usage.COPY_DST);
  ctx.device.queue.writeBuffer(buf, 0, new Uint8Array(packUniforms(layout, values)));
  return buf;
}

/** One dispatch of a kernel with a single uniform struct at binding `params`. */
export async function encodeSingle<B extends string, L extends UniformLayout>(
  ctx: GpuContext,
  def: KernelDef<B | 'params'>,
  constants: Constants,
  layout: L,
  values: UniformValues<L>,
  buffers: Record<B, GPUBuffer>,
  workgroups: readonly [number, number?, number?],
): Promise<EncodedOp> {
  const pipeline = await ctx.pipeline(def, constants);
  const params = uniformBuffer(ctx, `${def.name}.params`, layout, values);
  const group = ctx.bindGroup(def, { ...buffers, params } as Record<B | 'params', GPUBuffer>);
  return {
    label: def.name,
    dispatches: 1,
    record: (pass) => dispatch(ctx, pass, pipeline, group, workgroups),
    release: () => ctx.destroyBuffer(params),
  };
}

// Per-step recurrent kernels: Params { B, T, H, step, reverse, outStride, outOffset, hasNext }
// (hasNext: backward kernels only, 0 at the first step they run, T−1).
export const STEP_PARAMS = [
  ['B', 'u32'],
  ['T', 'u32'],
  ['H', 'u32'],
  ['step', 'u32'],
  ['reverse', 'u32'],
  ['outStride', 'u32'],
  ['outOffset', 'u32'],
  ['hasNext', 'u32'],
] as const satisfies UniformLayout;

// Persistent (whole-sequence) kernels: Params { B, T, H, reverse, outStride, outOffset }.
export const SEQ_PARAMS = [
  ['B', 'u32'],
  ['T', 'u32'],
  ['H', 'u32'],
  ['reverse', 'u32'],
  ['outStride', 'u32'],
  ['outOffset', 'u32'],
  ['_pad0', 'u32'],
  ['_pad1', 'u32'],
] as const satisfies UniformLayout;

/** Geometry of one layer direction's recurrence. */
export interface RecurrenceDims {
  B: number;
  T: number;
  H: number;
  reverse: boolean;
  /** Row width of `out` (D·H) and this direction's first column (d·H). */
  outStride: number;
  outOffset: number;
}

/** One kernel of a step: its definition, constants and buffers. */
export interface StepStage<B extends string = string> {
  def: KernelDef<B | 'params'>;
  constants?: Constants;
  buffers: Record<B, GPUBuffer>;
  /** Batch rows per thread (kernels with a ROWS override): dispatch height ceil(B / rows). Default 1. */
  rows?: number;
}

/**
 * Encodes T time steps of a per-step kernel (or a pair of kernels that make one
 * step, as the Keras reset_after=False GRU needs): one uniform buffer holds a
 * Params slot per step at the adapter's dynamic-offset alignment, and one bind
 * group per stage serves all steps. Backward kernels run the steps in reverse.
 */
export async function encodeSteps(ctx: GpuContext, label: string, stages: StepStage[], dims: RecurrenceDims, order: 'forward' | 'backward' = 'forward'): Promise<EncodedOp> {
  const { B, T, H } = dims;
  const pipelines = await Promise.all(stages.map((s) => ctx.pipeline(s.def, s.constants)));
  const align = Math.max(ctx.limits.minUniformBufferOffsetAlignment, uniformSize(STEP_PARAMS));
  const data = new ArrayBuffer(align * T);
  for (let s = 0; s < T; s++) {
    packUniforms(
      STEP_PARAMS,
      { B, T, H, step: s, reverse: dims.reverse ? 1 : 0, outStride: dims.outStride, outOffset: dims.outOffset, hasNext: s < T - 1 ? 1 : 0 },
      data,
      s * align,
    );
  }
  const params = ctx.createBuffer(`${label}.params`, data.byteLength, Usage.UNIFORM | Usage.COPY_DST);
  ctx.device.queue.writeBuffer(params, 0, new Uint8Array(data));
  const groups = stages.map((s) => ctx.bindGroup(s.def, { ...s.buffers, params: { buffer: params, size: uniformSize(STEP_PARAMS) } }));
  const wgs = stages.map((s): [number, number] => [Math.ceil(H / 64), Math.ceil(B / (s.rows ?? 1))]);
  return {
    label,
    dispatches: T * stages.length,
    record(pass) {
      for (let i = 0; i < T; i++) {
        const s = order === 'forward' ? i : T - 1 - i;
        for (let k = 0; k < stages.length; k++) dispatch(ctx, pass, pipelines[k], groups[k], wgs[k], [s * align]);
      }
    },
    release: () => ctx.destroyBuffer(params),
  };
}

/** Workgroup-memory floats a persistent kernel needs, rounded up to limit pipeline variants. */
export function persistentCapacity(floats: number): number {
  return Math.max(256, 2 ** Math.ceil(Math.log2(floats)));
}

/**
 * Submits one op that writes a new buffer of `floats` and returns that buffer
 * (the caller owns it). On any failure, creating it included, the buffer is
 * freed; `temps` (the call's uploads) are freed either way.
 */
export async function submitToNew(
  ctx: GpuContext,
  op: string,
  label: string,
  floats: number,
  temps: GPUBuffer[],
  encode: (out: GPUBuffer) => Promise<EncodedOp>,
): Promise<GPUBuffer> {
  let out: GPUBuffer | null = null;
  try {
    out = ctx.createStorage(label, floats);
    await submitOps(ctx, op, [await encode(out)]);
    return out;
  } catch (e) {
    ctx.destroyBuffer(out);
    throw e;
  } finally {
    for (const b of temps) ctx.destroyBuffer(b);
  }
}

/** Records `ops` into one compute pass, submits, and releases their temporaries. */
export async function submitOps(ctx: GpuContext, label: string, ops: EncodedOp[]): Promise<void> {
  try {
    await ctx.submit(label, (enc) => {
      const pass = enc.beginComputePass(ctx.passDescriptor(label));
      for (const o of ops) o.record(pass);
      pass.end();
    });
  } finally {
    for (const o of ops) o.release();
  }
}
