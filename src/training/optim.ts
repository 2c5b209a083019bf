// Optimizers (SGD, Adam, AdamW, RMSprop) and gradient clipping with torch.optim's
// semantics, on the GPU (kernels in src/kernels/optim.ts) or on the CPU (float64
// twins in src/reference/optim.ts).
//
//   const params = lstm.parameters();
//   const opt = new Adam(params, { lr: 1e-3, runtime: rt });
//   ... forward({ record: true }), backward(...) accumulate into the grads ...
//   await clipGradNorm(params, 1.0, { runtime: rt });  // optional, no readback
//   await opt.step();                                 // GPU: one submit, no readback
//   opt.zeroGrad();
//   await lstm.syncWeights();                         // before exporting GPU weights
//
// `runtime` is needed for GPU parameters only (a Param does not yet say which
// device its buffers live on); all parameters of one call share one backend.
//
// Defaults are torch.optim's:
//   SGD      lr 1e-3, momentum 0, dampening 0, weightDecay 0, nesterov false
//   Adam     lr 1e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 0 (L2: g += wd·p)
//   AdamW    lr 1e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 1e-2 (decoupled: p ·= 1 − lr·wd)
//   RMSprop  lr 1e-2, alpha 0.99, eps 1e-8, weightDecay 0, momentum 0 (centered = false)
// Not supported: amsgrad, maximize, centered RMSprop, parameter groups, sparse
// gradients; clipGradNorm is the L2 norm only (norm_type 2).
//
// Keras's defaults, for porting, and where Keras differs (trajectories will not
// match torch's bit for bit):
//   Adam     learning_rate 0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7. Keras adds
//            epsilon to √v BEFORE the √(1 − β2ᵗ) bias correction ("epsilon hat"):
//            p −= lr·√(1−β2ᵗ)/(1−β1ᵗ) · m / (√v + ε̂), i.e. torch's eps = ε̂ / √(1 − β2ᵗ).
//   AdamW    as Adam, weight_decay 0.004 (decoupled, as here).
//   RMSprop  learning_rate 0.001, rho 0.9 (torch's alpha, default 0.99), momentum 0,
//            epsilon 1e-7 INSIDE the root: lr·g / √(v + ε) (torch: g / (√v + ε)).
//            With momentum Keras keeps lr inside the buffer (same result at constant lr).
//   SGD      learning_rate 0.01, momentum 0, nesterov false (Keras keeps −lr·g in the
//            velocity; same trajectory as torch at constant lr and dampening 0).
//   Weight decay: Keras's `weight_decay` argument (any optimizer) is decoupled, like
//            AdamW here; torch's (and so this file's) SGD / Adam / RMSprop weightDecay
//            is an L2 term added to the gradient.
//   Clipping Keras's global_clipnorm is clipGradNorm's global L2 norm, scaled by
//            clip / max(norm, clip) (no +1e-6); its clipnorm is per tensor.
import { backendOf, type RuntimeHandle } from '../backend';
import { DisposedError, ValueError } from '../errors';
import type { GpuContext } from '../gpu/context';
import { submitOps, type EncodedOp } from '../kernels/common';
import { adamUpdate, clipScale, clipValue as clipValueKernel, rmspropUpdate, sgdUpdate, sumsqPartial, sumsqPartials, sumsqTotal } from '../kernels/optim';
import type { Param } from './params';
import { adamStepRef, clipGradNormRef, clipGradValueRef, rmspropStepRef, sgdStepRef } from '../reference/optim';

type GpuParam = Extract<Param, { kind: 'webgpu' }>;
type CpuParam = Extract<Param, { kind: 'cpu' }>;
type Placed = { kind: 'webgpu'; ctx: GpuContext; params: GpuParam[] } | { kind: 'cpu'; params: CpuParam[] };

/** Options every optimizer and clipping function takes. */
export interface BackendOptions {
  /** The runtime the parameters were created on. Required for GPU parameters. */
  runtime?: RuntimeHandle;
}

export interface SGDOptions extends BackendOptions {
  /** Learning rate, > 0. Default 1e-3. */
  lr?: number;
  /** In [0, 1). Default 0 (no momentum buffer is allocated). */
  momentum?: number;
  /** In [0, 1]. Default 0. */
  dampening?: number;
  /** L2 penalty added to the gradient, ≥ 0. Default 0. */
  weightDecay?: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0). Default false. */
  nesterov?: boolean;
}

export interface AdamOptions extends BackendOptions {
  /** Learning rate, > 0. Default 1e-3. */
  lr?: number;
  /** [β1, β2], each in [0, 1). Default [0.9, 0.999]. */
  betas?: readonly [number, number];
  /** Added to √v̂, ≥ 0. Default 1e-8. */
  eps?: number;
  /** ≥ 0. Adam: L2 added to the gradient (default 0). AdamW: decoupled decay (default 1e-2). */
  weightDecay?: number;
}

export interface RMSpropOptions extends BackendOptions {
  /** Learning rate, > 0. Default 1e-2. */
  lr?: number;
  /** Smoothing constant of the running mean of g², in [0, 1). Default 0.99. */
  alpha?: number;
  /** Added to √v, ≥ 0. Default 1e-8. */
  eps?: number;
  /** L2 penalty added to the gradient, ≥ 0. Default 0. */
  weightDecay?: number;
  /** In [0, 1). Default 0 (no momentum buffer is allocated). */
  momentum?: number;
}

export interface ClipGradNormOptions extends BackendOptions {
  /** Read the total norm back to the CPU and return it (the only readback). Default false. */
  returnNorm?: boolean;
}

/**
 * What the optimizers share: the parameters on one backend, the optimizer's own
 * state (one zeroed buffer or array per slot and parameter, owned here and freed
 * by dispose()), the step counter, and step()/zeroGrad().
 */
export abstract class Optimizer<S extends string = string> {
  private readonly placed: Placed;
  private gpuState: Record<S, GPUBuffer>[] = [];
  private cpuState: Record<S, Float64Array>[] = [];
  private t = 0;
  private learningRate: number;
  private disposed = false;

  protected constructor(
    private readonly opName: string,
    params: Param[],
    runtime: RuntimeHandle | undefined,
    lr: number,
    slots: readonly S[],
  ) {
    this.placed = placeParams(opName, params, runtime);
    this.learningRate = lr;
    const pl = this.placed;
    if (pl.kind === 'cpu') {
      this.cpuState = pl.params.map((p) => Object.fromEntries(slots.map((s) => [s, new Float64Array(p.size)])) as Record<S, Float64Array>);
      return;
    }
    try {
      for (const p of pl.params) {
        const st = {} as Record<S, GPUBuffer>;
        this.gpuState.push(st);
        for (const s of slots) st[s] = pl.ctx.createStorage(`${opName}.${p.name}.${s}`, p.size); // zeroed
      }
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  /** Learning rate; may be changed between steps (schedules). */
  get lr(): number {
    return this.learningRate;
  }
  set lr(v: number) {
    this.learningRate = checkRange(this.opName, 'lr', v, LR);
  }

  /** Steps taken so far (t of the last step). */
  get stepCount(): number {
    return this.t;
  }

  /** Live state buffers (GPU) or arrays (CPU) this optimizer owns. */
  get stateBuffers(): number {
    const st: Record<string, unknown>[] = this.placed.kind === 'webgpu' ? this.gpuState : this.cpuState;
    return st.reduce((n, s) => n + Object.keys(s).length, 0);
  }

  get backend(): 'webgpu' | 'cpu' {
    return this.placed.kind;
  }

  /**
   * One update of every parameter from its accumulated gradient. GPU: every
   * parameter's update in one command buffer and one submit, nothing read back.
   * The step counter advances when the step is issued.
   */
  async step(): Promise<void> {
    const op = `${this.opName}.step`;
    this.alive(op);
    const t = ++this.t;
    const pl = this.placed;
    if (pl.kind === 'cpu') {
      // The update is kept only if every new weight is finite in float32: an
      // overflow (a huge lr) would otherwise leave Inf/NaN weights behind even
      // though the (float64) loss that fit() checks was still finite.
      const saved = pl.params.map((p, i) => ({ value: p.value.slice(), state: Object.values<Float64Array>(this.cpuState[i]).map((a) => a.slice()) }));
      pl.params.forEach((p, i) => this.updateCpu(p, this.cpuState[i], t));
      for (const p of pl.params) p.changed?.(); // also when restored below: the owner re-reads its values either way
      const bad = pl.params.findIndex((p) => !p.value.every(Number.isFinite));
      if (bad >= 0) {
        pl.params.forEach((p, i) => {
          p.value.set(saved[i].value);
          Object.values<Float64Array>(this.cpuState[i]).forEach((a, k) => a.set(saved[i].state[k]));
        });
        this.t--;
        throw new ValueError(
          `${op}: the update would make '${pl.params[bad].name}' non-finite (float32 overflow); the weights and the optimizer state are as they were before this step. Hint: lower the learning rate or clip gradients.`,
        );
      }
      return;
    }
    const ops: EncodedOp[] = [];
    try {
      for (const [i, p] of pl.params.entries()) ops.push(await this.encodeGpu(pl.ctx, p, this.gpuState[i], t));
    } catch (e) {
      for (const o of ops) o.release();
      throw e;
    }
    await submitOps(pl.ctx, op, ops);
  }

  /** Sets every parameter's gradient to zero (GPU: clearBuffer, one submit). */
  zeroGrad(): void {
    const op = `${this.opName}.zeroGrad`;
    this.alive(op);
    zeroGrads(op, this.placed);
  }

  /** Frees the optimizer's state (momentum buffers, moments); the parameters stay. */
  dispose(): void {
    if (this.placed.kind === 'webgpu') {
      const ctx = this.placed.ctx;
      for (const st of this.gpuState) for (const b of Object.values(st) as GPUBuffer[]) ctx.destroyBuffer(b);
    }
    this.gpuState = [];
    this.cpuState = [];
    this.disposed = true;
  }

  /** @internal */
  protected abstract encodeGpu(ctx: GpuContext, p: GpuParam, state: Record<S, GPUBuffer>, t: number): Promise<EncodedOp>;
  /** @internal */
  protected abstract updateCpu(p: CpuParam, state: Record<S, Float64Array>, t: number): void;

  private alive(op: string): void {
    if (this.disposed) throw new DisposedError(`${op}: this optimizer was disposed.`);
    if (this.placed.kind === 'webgpu') this.placed.ctx.check(op);
  }
}

/** torch.optim.SGD: optional momentum (buffer starts as g), dampening, Nesterov, L2 weight decay. */
export class SGD extends Optimizer<'buf'> {
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;

  constructor(params: Param[], opts: SGDOptions = {}) {
    const op = 'SGD';
    checkKeys(op, opts, ['lr', 'momentum', 'dampening', 'weightDecay', 'nesterov', 'runtime']);
    const lr = checkRange(op, 'lr', opts.lr ?? 1e-3, LR);
    const momentum = checkRange(op, 'momentum', opts.momentum ?? 0, UNIT_OPEN);
    const dampening = checkRange(op, 'dampening', opts.dampening ?? 0, UNIT_CLOSED);
    const weightDecay = checkRange(op, 'weightDecay', opts.weightDecay ?? 0, NON_NEGATIVE);
    const nesterov = checkBool(op, 'nesterov', opts.nesterov ?? false);
    if (nesterov && (momentum <= 0 || dampening !== 0)) {
      throw new ValueError(`${op}: nesterov requires momentum > 0 and dampening = 0, got momentum ${momentum} and dampening ${dampening}.`);
    }
    super(op, params, opts.runtime, lr, momentum !== 0 ? ['buf'] : []);
    this.momentum = momentum;
    this.dampening = dampening;
    this.weightDecay = weightDecay;
    this.nesterov = nesterov;
  }

  /** @internal */
  protected encodeGpu(ctx: GpuContext, p: GpuParam, state: Record<'buf', GPUBuffer>, t: number): Promise<EncodedOp> {
    return sgdUpdate(ctx, {
      p: p.value,
      grad: p.grad,
      buf: state.buf ?? null,
      N: p.size,
      first: t === 1,
      lr: this.lr,
      momentum: this.momentum,
      dampening: this.dampening,
      weightDecay: this.weightDecay,
      nesterov: this.nesterov,
    });
  }

  /** @internal */
  protected updateCpu(p: CpuParam, state: Record<'buf', Float64Array>, t: number): void {
    sgdStepRef(p.value, p.grad, state.buf ?? null, this, t);
  }
}

/** Adam and AdamW: the update is shared, only the weight decay differs. */
abstract class AdamBase extends Optimizer<'m' | 'v'> {
  readonly betas: readonly [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  private readonly decoupled: boolean;

  protected constructor(op: string, params: Param[], opts: AdamOptions, decoupled: boolean) {
    checkKeys(op, opts, ['lr', 'betas', 'eps', 'weightDecay', 'runtime']);
    const lr = checkRange(op, 'lr', opts.lr ?? 1e-3, LR);
    const betas = opts.betas ?? [0.9, 0.999];
    if (!Array.isArray(betas) || betas.length !== 2) {
      throw new ValueError(`${op}: betas must be an array [beta1, beta2] of two numbers in [0, 1), got ${JSON.stringify(betas)}.`);
    }
    const b1 = checkRange(op, 'betas[0]', betas[0], UNIT_OPEN);
    const b2 = checkRange(op, 'betas[1]', betas[1], UNIT_OPEN);
    const eps = checkRange(op, 'eps', opts.eps ?? 1e-8, NON_NEGATIVE);
    const weightDecay = checkRange(op, 'weightDecay', opts.weightDecay ?? (decoupled ? 1e-2 : 0), NON_NEGATIVE);
    super(op, params, opts.runtime, lr, ['m', 'v']);
    this.betas = Object.freeze([b1, b2] as const);
    this.eps = eps;
    this.weightDecay = weightDecay;
    this.decoupled = decoupled;
  }

  /** @internal */
  protected encodeGpu(ctx: GpuContext, p: GpuParam, state: Record<'m' | 'v', GPUBuffer>, t: number): Promise<EncodedOp> {
    return adamUpdate(ctx, {
      p: p.value,
      grad: p.grad,
      m: state.m,
      v: state.v,
      N: p.size,
      step: t,
      lr: this.lr,
      beta1: this.betas[0],
      beta2: this.betas[1],
      eps: this.eps,
      weightDecay: this.weightDecay,
      decoupled: this.decoupled,
    });
  }

  /** @internal */
  protected updateCpu(p: CpuParam, state: Record<'m' | 'v', Float64Array>, t: number): void {
    const h = { lr: this.lr, beta1: this.betas[0], beta2: this.betas[1], eps: this.eps, weightDecay: this.weightDecay, decoupled: this.decoupled };
    adamStepRef(p.value, p.grad, state.m, state.v, h, t);
  }
}

/** torch.optim.Adam: weightDecay is an L2 penalty added to the gradient. */
export class Adam extends AdamBase {
  constructor(params: Param[], opts: AdamOptions = {}) {
    super('Adam', params, opts, false);
  }
}

/** torch.optim.AdamW: decoupled weight decay, p ·= 1 − lr·weightDecay before the Adam update. */
export class AdamW extends AdamBase {
  constructor(params: Param[], opts: AdamOptions = {}) {
    super('AdamW', params, opts, true);
  }
}

/** torch.optim.RMSprop (centered = false). */
export class RMSprop extends Optimizer<'v' | 'buf'> {
  readonly alpha: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly momentum: number;

  constructor(params: Param[], opts: RMSpropOptions = {}) {
    const op = 'RMSprop';
    checkKeys(op, opts, ['lr', 'alpha', 'eps', 'weightDecay', 'momentum', 'runtime']);
    const lr = checkRange(op, 'lr', opts.lr ?? 1e-2, LR);
    const alpha = checkRange(op, 'alpha', opts.alpha ?? 0.99, UNIT_OPEN);
    const eps = checkRange(op, 'eps', opts.eps ?? 1e-8, NON_NEGATIVE);
    const weightDecay = checkRange(op, 'weightDecay', opts.weightDecay ?? 0, NON_NEGATIVE);
    const momentum = checkRange(op, 'momentum', opts.momentum ?? 0, UNIT_OPEN);
    super(op, params, opts.runtime, lr, momentum > 0 ? ['v', 'buf'] : ['v']);
    this.alpha = alpha;
    this.eps = eps;
    this.weightDecay = weightDecay;
    this.momentum = momentum;
  }

  /** @internal */
  protected encodeGpu(ctx: GpuContext, p: GpuParam, state: Record<'v' | 'buf', GPUBuffer>): Promise<EncodedOp> {
    return rmspropUpdate(ctx, {
      p: p.value,
      grad: p.grad,
      v: state.v,
      buf: state.buf ?? null,
      N: p.size,
      lr: this.lr,
      alpha: this.alpha,
      eps: this.eps,
      weightDecay: this.weightDecay,
      momentum: this.momentum,
    });
  }

  /** @internal */
  protected updateCpu(p: CpuParam, state: Record<'v' | 'buf', Float64Array>): void {
    rmspropStepRef(p.value, p.grad, state.v, state.buf ?? null, this);
  }
}

/**
 * torch.nn.utils.clip_grad_norm_ (L2): scales every gradient by
 * min(1, maxNorm / (‖all gradients‖ + 1e-6)). On the GPU the norm is reduced and
 * applied on the GPU in one submit; it is read back (the CPU waits) only with
 * { returnNorm: true }, and then returned (the norm before clipping). Without
 * returnNorm the result is null on both backends.
 */
export async function clipGradNorm(params: Param[], maxNorm: number, opts: ClipGradNormOptions & { returnNorm: true }): Promise<number>;
export async function clipGradNorm(params: Param[], maxNorm: number, opts?: ClipGradNormOptions): Promise<number | null>;
export async function clipGradNorm(params: Param[], maxNorm: number, opts: ClipGradNormOptions = {}): Promise<number | null> {
  const op = 'clipGradNorm';
  checkKeys(op, opts, ['returnNorm', 'runtime']);
  checkRange(op, 'maxNorm', maxNorm, POSITIVE);
  const returnNorm = checkBool(op, 'returnNorm', opts.returnNorm ?? false);
  if (Array.isArray(params) && params.length === 0) return returnNorm ? 0 : null;
  const pl = placeParams(op, params, opts.runtime);
  if (pl.kind === 'cpu') {
    const norm = clipGradNormRef(
      pl.params.map((p) => p.grad.subarray(0, p.size)),
      maxNorm,
    );
    return returnNorm ? norm : null;
  }
  const ctx = pl.ctx;
  const P = pl.params.reduce((n, p) => n + sumsqPartials(p.size), 0);
  const partials = ctx.createStorage(`${op}.partials`, P);
  let total: GPUBuffer | null = null;
  const ops: EncodedOp[] = [];
  try {
    total = ctx.createStorage(`${op}.total`, 1);
    let offset = 0;
    for (const p of pl.params) {
      ops.push(await sumsqPartial(ctx, { grad: p.grad, partials, offset, N: p.size }));
      offset += sumsqPartials(p.size);
    }
    ops.push(await sumsqTotal(ctx, { partials, total, P }));
    for (const p of pl.params) ops.push(await clipScale(ctx, { grad: p.grad, total, N: p.size, maxNorm }));
  } catch (e) {
    for (const o of ops) o.release();
    ctx.destroyBuffer(partials);
    ctx.destroyBuffer(total);
    throw e;
  }
  try {
    await submitOps(ctx, op, ops);
    if (!returnNorm) return null;
    const [sumsq] = await ctx.readback(total, 1);
    return Math.sqrt(sumsq);
  } finally {
    ctx.destroyBuffer(partials);
    ctx.destroyBuffer(total);
  }
}

/** torch.nn.utils.clip_grad_value_: clamps every gradient to [−clipValue, clipValue] (GPU: one submit). */
export async function clipGradValue(params: Param[], clipValue: number, opts: BackendOptions = {}): Promise<void> {
  const op = 'clipGradValue';
  checkKeys(op, opts, ['runtime']);
  checkRange(op, 'clipValue', clipValue, POSITIVE);
  if (Array.isArray(params) && params.length === 0) return;
  const pl = placeParams(op, params, opts.runtime);
  if (pl.kind === 'cpu') {
    clipGradValueRef(
      pl.params.map((p) => p.grad.subarray(0, p.size)),
      clipValue,
    );
    return;
  }
  const ops: EncodedOp[] = [];
  try {
    for (const p of pl.params) ops.push(await clipValueKernel(pl.ctx, { grad: p.grad, N: p.size, clipValue }));
  } catch (e) {
    for (const o of ops) o.release();
    throw e;
  }
  await submitOps(pl.ctx, op, ops);
}

// ---- validation ---------------------------------------------------------------

interface Range {
  min: number;
  minOpen: boolean;
  max: number;
  maxOpen: boolean;
  text: string;
}
const LR: Range = { min: 0, minOpen: true, max: Infinity, maxOpen: true, text: 'a finite number > 0' };
const POSITIVE = LR;
const NON_NEGATIVE: Range = { min: 0, minOpen: false, max: Infinity, maxOpen: true, text: 'a finite number ≥ 0' };
const UNIT_OPEN: Range = { min: 0, minOpen: false, max: 1, maxOpen: true, text: 'a number in [0, 1)' };
const UNIT_CLOSED: Range = { min: 0, minOpen: false, max: 1, maxOpen: false, text: 'a number in [0, 1]' };

function checkRange(op: string, arg: string, v: unknown, r: Range): number {
  const ok =
    typeof v === 'number' &&
    Number.isFinite(v) &&
    (r.minOpen ? v > r.min : v >= r.min) &&
    (r.maxOpen ? v < r.max : v <= r.max);
  if (!ok) throw new ValueError(`${op}: ${arg} must be ${r.text}, got ${typeof v === 'number' ? v : JSON.stringify(v) ?? String(v)}.`);
  return v as number;
}

function checkBool(op: string, arg: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new ValueError(`${op}: ${arg} must be true or false, got ${JSON.stringify(v) ?? String(v)}.`);
  return v;
}

function checkKeys(op: string, opts: unknown, known: readonly string[]): void {
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new ValueError(`${op}: options must be an object (${known.join(', ')}), got ${opts === null ? 'null' : Array.isArray(opts) ? 'an array' : typeof opts}.`);
  }
  for (const k of Object.keys(opts)) {
    if (!known.includes(k)) {
      const camel = k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
      const hint = camel !== k && known.includes(camel) ? ` Hint: options are camelCase: ${camel}.` : '';
      throw new ValueError(`${op}: unknown option '${k}'; expected one of ${known.join(', ')}.${hint}`);
    }
  }
}

/**
 * Checks the parameter list (non-empty, well-formed, no parameter twice, one
 * backend) and finds the GPU context for GPU parameters. This is the one place
 * that would read the context from the Param once it carries one.
 */
function placeParams(op: string, params: Param[], runtime: RuntimeHandle | undefined): Placed {
  if (!Array.isArray(params) || params.length === 0) {
    throw new ValueError(`${op}: params must be a non-empty array of parameters, got ${Array.isArray(params) ? 'an empty array' : typeof params}. Hint: pass layer.parameters().`);
  }
  const seen = new Set<unknown>();
  params.forEach((p, i) => {
    if (!p || typeof p !== 'object' || (p.kind !== 'webgpu' && p.kind !== 'cpu')) {
      throw new ValueError(`${op}: params[${i}] is not a parameter ({ name, size, kind, value, grad }). Hint: pass layer.parameters().`);
    }
    const what = `params[${i}] ('${p.name}')`;
    if (p.kind !== params[0].kind) {
      throw new ValueError(`${op}: ${what} is a ${p.kind} parameter but params[0] ('${params[0].name}') is ${params[0].kind}; all parameters of one call must be on the same backend.`);
    }
    if (!Number.isInteger(p.size) || p.size < 1) throw new ValueError(`${op}: ${what} has size ${p.size}; expected a positive integer.`);
    if (p.kind === 'cpu') {
      if (!(p.value instanceof Float32Array) || !(p.grad instanceof Float64Array) || p.value.length !== p.size || p.grad.length !== p.size) {
        throw new ValueError(`${op}: ${what} must have a Float32Array value and a Float64Array grad of ${p.size} elements each.`);
      }
    } else if (!p.value || !p.grad || p.value.size < 4 * p.size || p.grad.size < 4 * p.size) {
      throw new ValueError(`${op}: ${what} must have GPU buffers value and grad of at least ${4 * p.size} bytes (size ${p.size} floats).`);
    }
    if (p.value === p.grad) throw new ValueError(`${op}: ${what} has the same buffer as value and grad.`);
    if (seen.has(p.value)) throw new ValueError(`${op}: ${what} appears more than once in params; each parameter may be listed once.`);
    seen.add(p.value);
  });
  const kind = params[0].kind;
  const be = runtime === undefined ? undefined : backendOf(op, 'runtime', runtime);
  if (be && be.kind !== kind) {
    throw new ValueError(`${op}: the parameters are ${kind} but runtime is a ${be.kind} runtime; pass the runtime the layers were created on.`);
  }
  if (kind === 'cpu') return { kind, params: params as CpuParam[] };
  const gpuParams = params as GpuParam[];
  const ctx = gpuParams[0].ctx;
  gpuParams.forEach((p, i) => {
    if (p.ctx !== ctx) throw new ValueError(`${op}: params[${i}] ('${p.name}') lives on another runtime than params[0]; all parameters of one call must share a device.`);
  });
  if (be && be.kind === 'webgpu' && be.ctx !== ctx) throw new ValueError(`${op}: the parameters live on another runtime than the one passed.`);
  ctx.check(op);
  return { kind, ctx, params: gpuParams };
}

/** Zeroes every gradient: fill(0) on the CPU, clearBuffer in one submit on the GPU. */
function zeroGrads(op: string, pl: Placed): void {
  if (pl.kind === 'cpu') {
    for (const p of pl.params) p.grad.fill(0);
    return;
  }
  pl.ctx.submitSync(op, (enc) => {
    for (const p of pl.params) enc.clearBuffer(p.grad, 0, 4 * p.size);
  });
}
