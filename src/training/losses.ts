// Training losses and metrics on either backend. Each loss returns the mean loss as a
// 1-element tensor and ∂(mean)/∂input shaped like the input, both computed in one
// submission and left on the GPU (nothing is read back until the caller reads them);
// the CPU backend runs the float64 twins of src/reference/losses.ts.
//
//   mseLoss(rt, pred, target)                          → { loss [1], grad like pred }
//   bceLoss(rt, pred, target, { fromLogits })          → { loss [1], grad like pred }
//   softmaxCrossEntropy(rt, logits, labels, { ignoreIndex, mask })
//                                                      → { loss [1], grad like logits }
//   binaryAccuracy / categoricalAccuracy / perplexity  → Tensor [1]
//
// Means follow PyTorch's reduction='mean': over all elements for MSE and BCE, over
// the kept rows for the cross-entropy (rows whose label is ignoreIndex, default −100,
// or whose mask is 0 are skipped: padded steps of a many-to-many model, with the
// (B, T, C) outputs read as B·T rows). A batch with no kept row gives loss 0 and a
// zero gradient instead of PyTorch's 0/0.
import { backendOf, type Backend, type RuntimeHandle } from '../backend';
import { ShapeError, ValueError, fmtShape } from '../errors';
import type { GpuContext } from '../gpu/context';
import { submitOps, type EncodedOp } from '../kernels/common';
import {
  bceLossPartials,
  binaryAccuracyPartials,
  categoricalAccuracyPartials,
  gradScale,
  meanReduce,
  mseLossPartials,
  softmaxXentPartials,
} from '../kernels/losses';
import { bceLossRef, binaryAccuracyRef, categoricalAccuracyRef, mseLossRef, perplexityRef, softmaxXentRef, type RowSelection } from '../reference/losses';
import { Tensor, type Input } from '../tensor';
import { assertFinite, checkInput, checkOwner, describe } from '../validate';

/** A loss and its gradient, both owned by the caller (dispose them when done). */
export interface LossResult {
  /** The mean loss, shape [1]. */
  loss: Tensor;
  /** ∂loss/∂input, shaped like the input (pred or logits). */
  grad: Tensor;
}

export interface BceOptions {
  /** pred holds logits (BCEWithLogitsLoss) instead of probabilities (BCELoss). Default false. */
  fromLogits?: boolean;
}

export interface RowOptions {
  /** Rows whose label equals this are skipped (default −100, as PyTorch). */
  ignoreIndex?: number;
  /** One value per row: rows where it is 0 are skipped (array or a tensor on this backend). */
  mask?: Input;
}

const DEFAULT_IGNORE_INDEX = -100;
const I32_MIN = -(2 ** 31);
const I32_MAX = 2 ** 31 - 1;

/** (pred − target)², averaged over all elements; grad = 2 (pred − target) / n. */
export async function mseLoss(rt: RuntimeHandle, pred: Tensor, target: Input): Promise<LossResult> {
  const op = 'mseLoss';
  const be = backendOf(op, 'rt', rt);
  checkPrediction(op, 'pred', pred, be);
  checkTarget(op, pred, target, be);
  if (be.kind === 'cpu') return cpuLoss(mseLossRef(pred.cpuData(op), cpuValues(op, target)), pred.shape);
  const ctx = be.ctx;
  const n = pred.size;
  return onGpu(ctx, op, async (job) => {
    const part = job.temp('part', n);
    const grad = job.output('grad', n);
    const loss = job.output('loss', 1);
    await job.submit([
      mseLossPartials(ctx, { pred: pred.gpuBuffer(op), target: job.input('target', target), part, grad, n }),
      meanReduce(ctx, { values: part, counts: null, out: loss, scale: null, n, count: n, exp: false }),
    ]);
    return gpuLoss(ctx, loss, grad, pred.shape);
  });
}

/**
 * Binary cross-entropy against targets in [0, 1], averaged over all elements: on
 * probabilities (log clamped at −100, as BCELoss) or, with fromLogits, on logits in
 * the stable form max(x, 0) − x·y + log(1 + e^−|x|) (BCEWithLogitsLoss).
 */
export async function bceLoss(rt: RuntimeHandle, pred: Tensor, target: Input, opts: BceOptions = {}): Promise<LossResult> {
  const op = 'bceLoss';
  const be = backendOf(op, 'rt', rt);
  const fromLogits = booleanOption(op, 'fromLogits', opts.fromLogits);
  checkPrediction(op, 'pred', pred, be);
  checkTarget(op, pred, target, be, (v) => v >= 0 && v <= 1, 'a probability in [0, 1]');
  if (be.kind === 'cpu') return cpuLoss(bceLossRef(pred.cpuData(op), cpuValues(op, target), fromLogits), pred.shape);
  const ctx = be.ctx;
  const n = pred.size;
  return onGpu(ctx, op, async (job) => {
    const part = job.temp('part', n);
    const grad = job.output('grad', n);
    const loss = job.output('loss', 1);
    await job.submit([
      bceLossPartials(ctx, { pred: pred.gpuBuffer(op), target: job.input('target', target), part, grad, n, fromLogits }),
      meanReduce(ctx, { values: part, counts: null, out: loss, scale: null, n, count: n, exp: false }),
    ]);
    return gpuLoss(ctx, loss, grad, pred.shape);
  });
}

/**
 * Softmax cross-entropy of logits (..., C) against integer labels, one per row,
 * averaged over the kept rows; grad = (softmax − onehot) / kept rows, exactly 0 on
 * skipped rows. The count of kept rows is computed on the GPU (from labels and mask).
 */
export async function softmaxCrossEntropy(rt: RuntimeHandle, logits: Tensor, labels: ArrayLike<number>, opts: RowOptions = {}): Promise<LossResult> {
  const op = 'softmaxCrossEntropy';
  const be = backendOf(op, 'rt', rt);
  const rows = checkRows(op, be, logits, labels, opts);
  const { R, C } = rows;
  if (be.kind === 'cpu') {
    return cpuLoss(softmaxXentRef(logits.cpuData(op), rows.labels, C, cpuSelection(op, rows)), logits.shape);
  }
  const ctx = be.ctx;
  return onGpu(ctx, op, async (job) => {
    const part = job.temp('part', R);
    const valid = job.temp('valid', R);
    const scale = job.temp('scale', 1);
    const grad = job.output('grad', R * C);
    const loss = job.output('loss', 1);
    const { labels: lb, mask } = uploadRows(job, rows);
    await job.submit([
      softmaxXentPartials(ctx, { logits: logits.gpuBuffer(op), labels: lb, mask, part, valid, grad, R, C, ignoreIndex: rows.ignoreIndex }),
      meanReduce(ctx, { values: part, counts: valid, out: loss, scale, n: R, count: 0, exp: false }),
      gradScale(ctx, { scale, grad, n: R * C }),
    ]);
    return gpuLoss(ctx, loss, grad, logits.shape);
  });
}

/** exp(mean softmax cross-entropy over the kept rows), shape [1]; 1 when no row is kept. */
export async function perplexity(rt: RuntimeHandle, logits: Tensor, labels: ArrayLike<number>, opts: RowOptions = {}): Promise<Tensor> {
  const op = 'perplexity';
  const be = backendOf(op, 'rt', rt);
  const rows = checkRows(op, be, logits, labels, opts);
  const { R, C } = rows;
  if (be.kind === 'cpu') return cpuScalar(perplexityRef(logits.cpuData(op), rows.labels, C, cpuSelection(op, rows)));
  const ctx = be.ctx;
  return onGpu(ctx, op, async (job) => {
    const part = job.temp('part', R);
    const valid = job.temp('valid', R);
    const out = job.output('perplexity', 1);
    const { labels: lb, mask } = uploadRows(job, rows);
    await job.submit([
      softmaxXentPartials(ctx, { logits: logits.gpuBuffer(op), labels: lb, mask, part, valid, grad: null, R, C, ignoreIndex: rows.ignoreIndex }),
      meanReduce(ctx, { values: part, counts: valid, out, scale: null, n: R, count: 0, exp: true }),
    ]);
    return Tensor.fromGpu(ctx, out, [1]);
  });
}

/** Fraction of elements where pred ≥ 0.5 (fromLogits: logit ≥ 0) matches the 0/1 target, shape [1]. */
export async function binaryAccuracy(rt: RuntimeHandle, pred: Tensor, target: Input, opts: BceOptions = {}): Promise<Tensor> {
  const op = 'binaryAccuracy';
  const be = backendOf(op, 'rt', rt);
  const fromLogits = booleanOption(op, 'fromLogits', opts.fromLogits);
  checkPrediction(op, 'pred', pred, be);
  checkTarget(op, pred, target, be, (v) => v === 0 || v === 1, '0 or 1');
  if (be.kind === 'cpu') return cpuScalar(binaryAccuracyRef(pred.cpuData(op), cpuValues(op, target), fromLogits));
  const ctx = be.ctx;
  const n = pred.size;
  return onGpu(ctx, op, async (job) => {
    const hit = job.temp('hit', n);
    const out = job.output('accuracy', 1);
    await job.submit([
      binaryAccuracyPartials(ctx, { pred: pred.gpuBuffer(op), target: job.input('target', target), hit, n, fromLogits }),
      meanReduce(ctx, { values: hit, counts: null, out, scale: null, n, count: n, exp: false }),
    ]);
    return Tensor.fromGpu(ctx, out, [1]);
  });
}

/** Fraction of kept rows whose argmax (first maximum) equals the label, shape [1]; 0 when no row is kept. */
export async function categoricalAccuracy(rt: RuntimeHandle, logits: Tensor, labels: ArrayLike<number>, opts: RowOptions = {}): Promise<Tensor> {
  const op = 'categoricalAccuracy';
  const be = backendOf(op, 'rt', rt);
  const rows = checkRows(op, be, logits, labels, opts);
  const { R, C } = rows;
  if (be.kind === 'cpu') return cpuScalar(categoricalAccuracyRef(logits.cpuData(op), rows.labels, C, cpuSelection(op, rows)));
  const ctx = be.ctx;
  return onGpu(ctx, op, async (job) => {
    const hit = job.temp('hit', R);
    const valid = job.temp('valid', R);
    const out = job.output('accuracy', 1);
    const { labels: lb, mask } = uploadRows(job, rows);
    await job.submit([
      categoricalAccuracyPartials(ctx, { logits: logits.gpuBuffer(op), labels: lb, mask, hit, valid, R, C, ignoreIndex: rows.ignoreIndex }),
      meanReduce(ctx, { values: hit, counts: valid, out, scale: null, n: R, count: 0, exp: false }),
    ]);
    return Tensor.fromGpu(ctx, out, [1]);
  });
}

// ---------------------------------------------------------------------------
// Validation (all on the CPU, before anything is uploaded)

function checkPrediction(op: string, arg: string, t: unknown, be: Backend): asserts t is Tensor {
  if (!(t instanceof Tensor)) throw new ValueError(`${op}: ${arg} must be a Tensor, got ${describe(t)}. Hint: rt.tensor(data, shape) makes one.`);
  if (t.disposed) throw new ValueError(`${op}: ${arg} is a disposed tensor.`);
  if (t.shape.length === 0 || t.size === 0) throw new ShapeError(`${op}: ${arg} has shape ${fmtShape(t.shape)}, expected at least one element.`);
  checkOwner(op, arg, t, be);
}

/** target: pred's shape, this backend, finite and (when checkable on the CPU) in range. */
function checkTarget(op: string, pred: Tensor, target: Input, be: Backend, inRange?: (v: number) => boolean, range?: string): void {
  checkInput(op, 'target', target, [...pred.shape], "pred's shape", be);
  if (target instanceof Tensor && target.backend === 'webgpu') return; // values stay on the GPU, unchecked
  const values = cpuValues(op, target);
  if (target instanceof Tensor) assertFinite(op, 'target', values);
  if (!inRange) return;
  for (let i = 0; i < values.length; i++) {
    if (!inRange(values[i])) throw new ValueError(`${op}: target[${i}] is ${values[i]}, expected ${range}.`);
  }
}

interface Rows {
  R: number;
  C: number;
  labels: Int32Array;
  ignoreIndex: number;
  mask: Input | null;
}

/** logits (..., C) on this backend, one integer label per row in [0, C) or ignoreIndex, mask (R). */
function checkRows(op: string, be: Backend, logits: Tensor, labels: ArrayLike<number>, opts: RowOptions): Rows {
  checkPrediction(op, 'logits', logits, be);
  const shape = logits.shape;
  if (shape.length < 2) {
    throw new ShapeError(`${op}: logits has shape ${fmtShape(shape)}, expected (N, C) or (B, T, C): one row of class scores per label.`);
  }
  const C = shape[shape.length - 1];
  const R = logits.size / C;
  const rowShape = shape.slice(0, -1);
  const ignoreIndex = opts.ignoreIndex ?? DEFAULT_IGNORE_INDEX;
  if (!Number.isInteger(ignoreIndex) || ignoreIndex < I32_MIN || ignoreIndex > I32_MAX) {
    throw new ValueError(`${op}: ignoreIndex must be a 32-bit integer, got ${String(ignoreIndex)}.`);
  }
  if (labels === null || typeof labels !== 'object' || typeof labels.length !== 'number') {
    throw new ValueError(`${op}: labels must be an array of integers, got ${describe(labels)}.`);
  }
  if (labels.length !== R) {
    throw new ShapeError(
      `${op}: labels has ${labels.length} elements, expected one per row of logits ${fmtShape(shape)}: ${fmtShape(rowShape)} = ${R}.`,
    );
  }
  const ids = new Int32Array(R);
  for (let i = 0; i < R; i++) {
    const v = labels[i];
    if (v !== ignoreIndex && !(Number.isInteger(v) && v >= 0 && v < C)) {
      throw new ValueError(
        `${op}: labels[${i}] is ${v}, expected an integer class in [0, ${C}) or the ignoreIndex ${ignoreIndex}. ` +
          `Hint: label padded rows with ignoreIndex to skip them.`,
      );
    }
    ids[i] = v;
  }
  const mask = opts.mask ?? null;
  if (mask !== null) checkInput(op, 'mask', mask, mask instanceof Tensor && mask.shape.length === 1 ? [R] : rowShape, 'one value per row', be);
  return { R, C, labels: ids, ignoreIndex, mask };
}

function booleanOption(op: string, name: string, v: unknown): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new ValueError(`${op}: ${name} must be true or false, got ${String(v)}.`);
  return v;
}

// ---------------------------------------------------------------------------
// Backends

function cpuValues(op: string, v: Input): ArrayLike<number> {
  return v instanceof Tensor ? v.cpuData(op) : v;
}

function cpuSelection(op: string, rows: Rows): RowSelection {
  return { ignoreIndex: rows.ignoreIndex, mask: rows.mask === null ? null : cpuValues(op, rows.mask) };
}

function cpuLoss(r: { loss: number; grad: Float64Array }, shape: readonly number[]): LossResult {
  return { loss: cpuScalar(r.loss), grad: Tensor.fromCpu(r.grad, shape) };
}

function cpuScalar(v: number): Tensor {
  return Tensor.fromCpu(Float64Array.of(v), [1]);
}

function gpuLoss(ctx: GpuContext, loss: GPUBuffer, grad: GPUBuffer, shape: readonly number[]): LossResult {
  return { loss: Tensor.fromGpu(ctx, loss, [1]), grad: Tensor.fromGpu(ctx, grad, shape) };
}

/** Labels as i32 and the mask (if any) on the GPU. */
function uploadRows(job: GpuJob, rows: Rows): { labels: GPUBuffer; mask: GPUBuffer | null } {
  return {
    labels: job.temp('labels', new Uint32Array(rows.labels.buffer)),
    mask: rows.mask === null ? null : job.input('mask', rows.mask),
  };
}

/**
 * The buffers of one GPU loss or metric: scratch buffers, freed once the work is
 * submitted, and outputs, handed to the caller unless something fails.
 */
class GpuJob {
  private readonly temps: GPUBuffer[] = [];
  readonly outputs: GPUBuffer[] = [];

  constructor(
    private readonly ctx: GpuContext,
    private readonly op: string,
  ) {}

  temp(name: string, data: Float32Array | Uint32Array | number): GPUBuffer {
    const buf = this.ctx.createStorage(`${this.op}.${name}`, data);
    this.temps.push(buf);
    return buf;
  }

  output(name: string, n: number): GPUBuffer {
    const buf = this.ctx.createStorage(`${this.op}.${name}`, n);
    this.outputs.push(buf);
    return buf;
  }

  /** A tensor's own buffer, or a scratch float32 copy of an array. */
  input(name: string, v: Input): GPUBuffer {
    return v instanceof Tensor ? v.gpuBuffer(this.op) : this.temp(name, Float32Array.from(v));
  }

  /** Encodes every op (compiling pipelines as needed) and submits them in one pass. */
  async submit(encoders: Promise<EncodedOp>[]): Promise<void> {
    const settled = await Promise.allSettled(encoders);
    const ops = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      for (const o of ops) o.release();
      throw failed.reason;
    }
    await submitOps(this.ctx, this.op, ops);
  }

  releaseTemps(): void {
    for (const b of this.temps) this.ctx.destroyBuffer(b);
  }
}

async function onGpu<T>(ctx: GpuContext, op: string, body: (job: GpuJob) => Promise<T>): Promise<T> {
  const job = new GpuJob(ctx, op);
  try {
    return await body(job);
  } catch (e) {
    for (const b of job.outputs) ctx.destroyBuffer(b);
    throw e;
  } finally {
    job.releaseTemps();
  }
}
