// The training loop behind Sequential.fit() / evaluate(), built from the same
// pieces a user drives by hand:
//   const { output, tape } = await model.record(x, { batch, seqLen, lengths });
//   const { loss, grad } = await softmaxCrossEntropy(rt, output, labels);
//   await model.backward(tape, grad); await opt.step(); model.zeroGrad();
// One readback per batch (the loss, to report it and to stop on NaN before the
// optimizer step, leaving the weights as they were before that step).
import { ShapeError, ValueError } from '../errors';
import { assertFloat32, assertNumbers, assertPositiveInt, describe } from '../validate';
import { Recurrent } from '../layers/recurrent';
import { Embedding } from '../layers/embedding';
import { Dense } from '../layers/dense';
import { RepeatVector } from '../layers/repeat_vector';
import { bceLoss, binaryAccuracy, categoricalAccuracy, mseLoss, perplexity, softmaxCrossEntropy, type LossResult } from './losses';
import { disposeTape, type Layer, type PredictOptions, type SequentialTape } from '../models/types';
import { clipGradNorm, clipGradValue, type Optimizer } from './optim';
import type { RuntimeHandle } from '../backend';
import type { Input, Tensor } from '../tensor';
import type { Param } from './params';
import { Rng } from '../weights/random';

export type LossName = 'mse' | 'bce' | 'bceWithLogits' | 'softmaxCrossEntropy';
export type MetricName = 'accuracy' | 'perplexity';

export interface FitData {
  /**
   * Token ids (N·T) for a model that starts with an Embedding, features (N·T·I)
   * batch-first for one that starts with a recurrent layer, or one feature vector
   * per sample (N·F) for Dense layers → RepeatVector(T) (one-to-many).
   */
  x: ArrayLike<number>;
  /**
   * Targets: integer labels for softmaxCrossEntropy, (N) many-to-one or (N·T)
   * many-to-many; floats (N·K) or (N·T·K) for mse and bce.
   */
  y: ArrayLike<number>;
  /** Steps per sample, T. */
  seqLen: number;
  /** Valid steps per sample (N), each in [1, T]; padded steps are ignored by the loss. */
  lengths?: ArrayLike<number>;
  /**
   * Keras masking instead of lengths: (N·T), 1 = the step is present, 0 = masked
   * (any position, e.g. pre-padding). Masked steps are ignored by a per-step loss.
   * With an Embedding that has maskZero, the mask comes from the ids (id 0 = masked).
   */
  mask?: ArrayLike<number>;
}

export interface EvaluateOptions {
  loss: LossName;
  batchSize?: number;
  metrics?: MetricName[];
}

export interface FitOptions extends EvaluateOptions {
  optimizer: Optimizer;
  epochs?: number;
  /** Shuffle the training samples every epoch (default true), seeded. */
  shuffle?: boolean;
  seed?: number;
  /** Fraction of samples (the last ones, as Keras) held out for validation. */
  validationSplit?: number;
  /** Truncated BPTT: train on windows of k steps, carrying the state forward without backpropagating across windows. */
  tbptt?: number;
  clipNorm?: number;
  clipValue?: number;
  earlyStopping?: { monitor?: string; patience?: number; minDelta?: number; mode?: 'min' | 'max'; restoreBest?: never };
  onBatchEnd?: (e: { epoch: number; batch: number; loss: number }) => void | Promise<void>;
  onEpochEnd?: (e: { epoch: number; logs: Record<string, number> }) => void | Promise<void>;
}

export interface History {
  epoch: number[];
  history: Record<string, number[]>;
  /** Why training ended early, if it did. */
  stopped?: string;
}

/** What the loop needs of a model (Sequential has it). */
export interface FitModel {
  readonly layers: readonly Layer[];
  stopTraining: boolean;
  predict(x: Input | ArrayLike<number>, opts?: PredictOptions): Promise<Tensor>;
  record(x: Input | ArrayLike<number>, opts?: PredictOptions): Promise<{ output: Tensor; tape: SequentialTape }>;
  backward(tape: SequentialTape, dOutput: Input): Promise<unknown>;
  parameters(): Param[];
  zeroGrad(): void;
}

const IGNORE = -100;

interface Layout {
  perSample: number; // x values per sample: T, T·I, or F (a vector for Dense → RepeatVector)
  manyToMany: boolean;
  targetWidth: number; // y values per sample
}

function layout(model: FitModel, d: FitData, loss: LossName, op: string, metrics: readonly MetricName[] | undefined): { N: number } & Layout {
  if (d === null || typeof d !== 'object') throw new ValueError(`${op}: data must be { x, y, seqLen, lengths? }, got ${describe(d)}.`);
  assertPositiveInt(op, 'seqLen', d.seqLen);
  assertNumbers(op, 'x', d.x);
  assertNumbers(op, 'y', d.y);
  if (d.lengths !== undefined) assertNumbers(op, 'lengths', d.lengths);
  if (d.mask !== undefined) assertNumbers(op, 'mask', d.mask);
  if (d.mask !== undefined && d.lengths !== undefined) throw new ValueError(`${op}: pass lengths (PyTorch packed sequences) or mask (Keras masking), not both.`);
  const first = model.layers[0];
  const repeat = vectorInput(model);
  const I = first instanceof Embedding ? 1 : first instanceof Recurrent ? first.config.inputSize : repeat ? (first as Dense).inputSize : NaN;
  if (Number.isNaN(I)) throw new ValueError(`${op}: the model must start with an Embedding, a recurrent layer, or Dense layers followed by a RepeatVector.`);
  if (repeat && repeat.n !== d.seqLen) throw new ShapeError(`${op}: seqLen is ${d.seqLen}, but the RepeatVector makes ${repeat.n} steps; pass seqLen: ${repeat.n}.`);
  const perSample = repeat ? I : d.seqLen * I;
  const perName = repeat ? 'F' : first instanceof Embedding ? 'T' : 'T·I';
  if (!d.x || d.x.length === 0 || d.x.length % perSample !== 0) {
    throw new ShapeError(`${op}: x has ${d.x?.length} values, not a positive multiple of ${perName} = ${perSample}.`);
  }
  const N = d.x.length / perSample;
  // per-step outputs when the last layer that sets the time axis (a recurrent layer or a RepeatVector) leaves one
  const timeLayer = [...model.layers].reverse().find((l) => l instanceof Recurrent || l instanceof RepeatVector);
  const manyToMany = timeLayer instanceof RepeatVector || (timeLayer instanceof Recurrent && timeLayer.returnSequences);
  const outWidth = (() => {
    const last = model.layers[model.layers.length - 1] as { outputSize?: number };
    return last.outputSize ?? 1;
  })();
  const targetWidth = (manyToMany ? d.seqLen : 1) * (loss === 'softmaxCrossEntropy' ? 1 : outWidth);
  if (!d.y || d.y.length !== N * targetWidth) {
    throw new ShapeError(
      `${op}: y has ${d.y?.length} values, expected ${N * targetWidth} = N (${N}) × ${manyToMany ? 'T × ' : ''}${loss === 'softmaxCrossEntropy' ? 'one label' : `${outWidth} outputs`}.`,
    );
  }
  if (d.lengths !== undefined && d.lengths.length !== N) throw new ShapeError(`${op}: lengths has ${d.lengths.length} entries, expected one per sample (N = ${N}).`);
  checkValues(op, model, d, loss, outWidth);
  // what a batch's loss or metric would refuse, refused before the first batch
  if (d.mask !== undefined && d.mask.length !== N * d.seqLen) {
    throw new ShapeError(`${op}: mask has ${d.mask.length} entries, expected one per sample and step (N·T = ${N}·${d.seqLen}).`);
  }
  const first0 = model.layers[0];
  if (first0 instanceof Embedding && first0.maskZero && d.lengths !== undefined) {
    throw new ValueError(`${op}: the Embedding has maskZero (Keras masking from the ids), so lengths (PyTorch packed sequences) cannot be used too; drop one of them.`);
  }
  const anyMasked = (d.mask !== undefined && Array.from(d.mask).some((v) => v === 0)) || (first0 instanceof Embedding && first0.maskZero && Array.from(d.x).some((v) => v === 0));
  if (loss !== 'softmaxCrossEntropy' && manyToMany && anyMasked) {
    throw new ValueError(`${op}: masked steps with a per-step ${loss} loss are not supported; use softmaxCrossEntropy.`);
  }
  if (loss !== 'softmaxCrossEntropy' && manyToMany && d.lengths && Array.from(d.lengths).some((l) => l !== d.seqLen)) {
    throw new ValueError(`${op}: padded sequences with a per-step ${loss} loss are not supported; use softmaxCrossEntropy or equal lengths.`);
  }
  if (metrics !== undefined && !Array.isArray(metrics)) throw new ValueError(`${op}: metrics must be an array of 'accuracy' | 'perplexity', got ${describe(metrics)}.`);
  for (const m of metrics ?? []) {
    if (m !== 'accuracy' && m !== 'perplexity') throw new ValueError(`${op}: unknown metric '${String(m)}'; expected 'accuracy' or 'perplexity'.`);
    if (m === 'perplexity' && loss !== 'softmaxCrossEntropy') throw new ValueError(`${op}: the perplexity metric needs the softmaxCrossEntropy loss.`);
  }
  return { N, perSample, manyToMany, targetWidth };
}

/** The RepeatVector of a model that starts with Dense layers followed by one (its input is one vector per sample), else null. */
function vectorInput(model: FitModel): RepeatVector | null {
  const k = model.layers.findIndex((l) => !(l instanceof Dense));
  const l = model.layers[k];
  return k > 0 && l instanceof RepeatVector ? l : null;
}

/**
 * Every value of the dataset, checked before the first batch runs, so a bad
 * sample anywhere (the last one too) fails fit() before any weight changes:
 * token ids in [0, vocabSize) or finite float32 features; integer labels in
 * [0, classes) (or the ignore index −100), finite regression targets, BCE targets
 * in [0, 1]; lengths in [1, T].
 */
function checkValues(op: string, model: FitModel, d: FitData, loss: LossName, classes: number): void {
  const first = model.layers[0];
  if (first instanceof Embedding) {
    for (let i = 0; i < d.x.length; i++) {
      const v = d.x[i];
      if (!Number.isInteger(v) || v < 0 || v >= first.vocabSize) {
        throw new ValueError(`${op}: x[${i}] (sample ${Math.floor(i / d.seqLen)}) = ${v} is not a token id in [0, vocabSize) = [0, ${first.vocabSize}).`);
      }
    }
  } else assertFloat32(op, 'x', d.x);
  if (loss === 'softmaxCrossEntropy') {
    for (let i = 0; i < d.y.length; i++) {
      const v = d.y[i];
      if (v !== IGNORE && !(Number.isInteger(v) && v >= 0 && v < classes)) {
        throw new ValueError(`${op}: y[${i}] = ${v} is not a class label: expected an integer in [0, ${classes}) (or ${IGNORE} to ignore the step).`);
      }
    }
  } else {
    assertFloat32(op, 'y', d.y);
    if (loss !== 'mse') {
      for (let i = 0; i < d.y.length; i++) {
        if (!(d.y[i] >= 0 && d.y[i] <= 1)) throw new ValueError(`${op}: y[${i}] = ${d.y[i]}, expected a ${loss} target in [0, 1].`);
      }
    }
  }
  if (d.mask !== undefined) {
    for (let i = 0; i < d.mask.length; i++) {
      if (d.mask[i] !== 0 && d.mask[i] !== 1) throw new ValueError(`${op}: mask[${i}] (sample ${Math.floor(i / d.seqLen)}) is ${d.mask[i]}; expected 0 or 1.`);
    }
  }
  if (d.lengths !== undefined) {
    for (let n = 0; n < d.lengths.length; n++) {
      const v = d.lengths[n];
      if (!Number.isInteger(v) || v < 1 || v > d.seqLen) throw new ValueError(`${op}: lengths[${n}] = ${v} is out of range; each length must be an integer in [1, T] = [1, ${d.seqLen}].`);
    }
  }
}

function gather(src: ArrayLike<number>, idx: number[], width: number): Float32Array {
  const out = new Float32Array(idx.length * width);
  idx.forEach((n, i) => {
    for (let k = 0; k < width; k++) out[i * width + k] = src[n * width + k];
  });
  return out;
}

/** Steps [t0, t0 + k) of each sample in a batch-first (B, T, W) array. */
function window(src: Float32Array, B: number, T: number, W: number, t0: number, k: number): Float32Array {
  const out = new Float32Array(B * k * W);
  for (let b = 0; b < B; b++) out.set(src.subarray((b * T + t0) * W, (b * T + t0 + k) * W), b * k * W);
  return out;
}

/**
 * Which steps of a batch are present, (B, T) 1/0, from its Keras mask (explicit,
 * or maskZero's from the ids) or its lengths; undefined when every step is.
 */
function presentSteps(model: FitModel, xb: Float32Array, maskRows: Float32Array | undefined, lengths: ArrayLike<number> | undefined, B: number, T: number): Uint8Array | undefined {
  const first = model.layers[0];
  if (maskRows) return Uint8Array.from(maskRows);
  if (first instanceof Embedding && first.maskZero) return first.computeMask(xb);
  if (!lengths) return undefined;
  const present = new Uint8Array(B * T);
  for (let b = 0; b < B; b++) present.fill(1, b * T, b * T + lengths[b]);
  return present;
}

/** Integer labels with absent steps (padding, masked) replaced by the ignore index. */
function maskedLabels(y: Float32Array, manyToMany: boolean, present: Uint8Array | undefined): Float64Array {
  const labels = Float64Array.from(y);
  if (manyToMany && present) for (let i = 0; i < labels.length; i++) if (!present[i]) labels[i] = IGNORE;
  return labels;
}

async function lossOf(rt: RuntimeHandle, loss: LossName, out: Tensor, y: Float32Array, manyToMany: boolean, present: Uint8Array | undefined): Promise<LossResult> {
  if (loss === 'softmaxCrossEntropy') {
    return softmaxCrossEntropy(rt, out, maskedLabels(y, manyToMany, present), { ignoreIndex: IGNORE });
  }
  if (manyToMany && present && present.some((v) => v === 0)) {
    throw new ValueError(`fit: padded or masked steps with a per-step ${loss} loss are not supported; use softmaxCrossEntropy.`);
  }
  if (loss === 'mse') return mseLoss(rt, out, y);
  return bceLoss(rt, out, y, { fromLogits: loss === 'bceWithLogits' });
}

async function metricOf(rt: RuntimeHandle, m: MetricName, loss: LossName, out: Tensor, y: Float32Array, manyToMany: boolean, present: Uint8Array | undefined): Promise<Tensor> {
  if (loss === 'softmaxCrossEntropy') {
    const labels = maskedLabels(y, manyToMany, present);
    return m === 'accuracy' ? categoricalAccuracy(rt, out, labels, { ignoreIndex: IGNORE }) : perplexity(rt, out, labels, { ignoreIndex: IGNORE });
  }
  if (m === 'perplexity') throw new ValueError(`fit: the perplexity metric needs the softmaxCrossEntropy loss.`);
  return binaryAccuracy(rt, out, y, { fromLogits: loss === 'bceWithLogits' });
}

/** Loss (and metrics) of the model on data, batch by batch, without training. */
export async function evaluate(rt: RuntimeHandle, model: FitModel, d: FitData, opts: EvaluateOptions): Promise<Record<string, number>> {
  const op = 'evaluate';
  if (!opts || typeof opts !== 'object') throw new ValueError(`${op}: pass { loss }, got ${describe(opts)}.`);
  const L = layout(model, d, opts.loss, op, opts.metrics);
  const idx = Array.from({ length: L.N }, (_, i) => i);
  return runEpoch(rt, model, d, L, idx, { ...opts, train: false });
}

async function runEpoch(
  rt: RuntimeHandle,
  model: FitModel,
  d: FitData,
  L: Layout,
  idx: number[],
  o: EvaluateOptions & { train: boolean; fit?: FitOptions; epoch?: number },
): Promise<Record<string, number>> {
  const batchSize = o.batchSize ?? 32;
  assertPositiveInt('fit', 'batchSize', batchSize);
  const T = d.seqLen;
  const sums: Record<string, number> = { loss: 0 };
  let seen = 0;
  for (let start = 0, batch = 0; start < idx.length; start += batchSize, batch++) {
    const rows = idx.slice(start, start + batchSize);
    const B = rows.length;
    const xb = gather(d.x, rows, L.perSample);
    const yb = gather(d.y, rows, L.targetWidth);
    const lengths = d.lengths ? rows.map((n) => d.lengths![n]) : undefined;
    const maskRows = d.mask ? gather(d.mask, rows, T) : undefined; // (B, T)
    const k = o.train && o.fit?.tbptt ? o.fit.tbptt : T;
    const W = L.perSample / T; // x values per step
    const Y = L.targetWidth / (L.manyToMany ? T : 1); // y values per step
    let states: Map<Recurrent, { h: Tensor; c: Tensor | null }> | undefined;
    let batchLoss = 0;
    try {
      for (let t0 = 0; t0 < T; t0 += k) {
        const kk = Math.min(k, T - t0);
        const xw = kk === T ? xb : window(xb, B, T, W, t0, kk);
        const yw = kk === T || !L.manyToMany ? yb : window(yb, B, T, Y, t0, kk);
        const finals = new Map<Recurrent, { h: Tensor; c: Tensor | null }>();
        const runOpts = { batch: B, seqLen: kk, lengths: kk === T ? lengths : undefined, mask: maskRows, initialStates: states, finalStates: k < T ? finals : undefined };
        // the steps a per-step loss counts (tbptt windows never come with lengths or masks)
        const present = kk === T ? presentSteps(model, xw, maskRows, lengths, B, T) : undefined;
        // many-to-one with TBPTT: only the last window has a target, earlier ones only carry the state
        const hasTarget = L.manyToMany || t0 + kk === T;
        const { output, tape } = o.train && hasTarget ? await model.record(xw, runOpts) : { output: await model.predict(xw, runOpts), tape: null };
        let grad: Tensor | null = null;
        try {
          if (hasTarget) {
            const r = await lossOf(rt, o.loss, output, yw, L.manyToMany, present);
            grad = r.grad;
            let value: number;
            try {
              value = (await r.loss.read())[0];
            } finally {
              r.loss.dispose();
            }
            if (!Number.isFinite(value)) {
              model.zeroGrad();
              const hint =
                o.loss === 'bce'
                  ? " Hint: 'bce' takes probabilities, and a prediction outside [0, 1] makes it NaN (PyTorch raises): end the model with a sigmoid Dense, or use 'bceWithLogits' on raw outputs."
                  : ' Hint: lower the learning rate or clip gradients (clipNorm).';
              throw new ValueError(`fit: the loss is ${value} at epoch ${o.epoch ?? 0}, batch ${batch}; training stopped before that step, so the weights are as they were.${hint}`);
            }
            batchLoss += value * (L.manyToMany ? kk / T : 1);
            if (tape) {
              await model.backward(tape, grad);
              const params = model.parameters();
              if (o.fit?.clipValue !== undefined) await clipGradValue(params, o.fit.clipValue);
              if (o.fit?.clipNorm !== undefined) await clipGradNorm(params, o.fit.clipNorm);
              try {
                await o.fit!.optimizer.step();
              } catch (e) {
                model.zeroGrad();
                if (e instanceof ValueError) throw new ValueError(`fit: at epoch ${o.epoch ?? 0}, batch ${batch}: ${e.message}`);
                throw e;
              }
              model.zeroGrad();
            }
            if (!o.train || t0 + kk === T) {
              for (const m of o.metrics ?? []) {
                const t = await metricOf(rt, m, o.loss, output, yw, L.manyToMany, present);
                sums[m] = (sums[m] ?? 0) + (await t.read())[0] * B;
                t.dispose();
              }
            }
          }
        } finally {
          output.dispose();
          grad?.dispose();
          if (tape) disposeTape(tape); // after backward() it holds nothing any more
        }
        for (const s of states?.values() ?? []) {
          s.h.dispose();
          s.c?.dispose();
        }
        states = k < T ? finals : undefined;
      }
    } finally {
      for (const s of states?.values() ?? []) {
        s.h.dispose();
        s.c?.dispose();
      }
    }
    sums.loss += batchLoss * B;
    seen += B;
    if (o.train) await o.fit?.onBatchEnd?.({ epoch: o.epoch ?? 0, batch, loss: batchLoss });
    if (model.stopTraining) break;
  }
  const logs: Record<string, number> = {};
  for (const [k, v] of Object.entries(sums)) logs[k] = v / Math.max(seen, 1);
  return logs;
}

/** Keras-style training: epochs of shuffled mini-batches, validation, callbacks, early stopping. */
export async function fit(rt: RuntimeHandle, model: FitModel, d: FitData, opts: FitOptions): Promise<History> {
  const op = 'fit';
  if (!opts || !opts.optimizer) throw new ValueError(`${op}: pass { loss, optimizer }.`);
  if (opts.batchSize !== undefined) assertPositiveInt(op, 'batchSize', opts.batchSize);
  if (!['mse', 'bce', 'bceWithLogits', 'softmaxCrossEntropy'].includes(opts.loss)) {
    throw new ValueError(`${op}: loss must be 'mse', 'bce', 'bceWithLogits' or 'softmaxCrossEntropy', got '${String(opts.loss)}'.`);
  }
  const epochs = opts.epochs ?? 1;
  assertPositiveInt(op, 'epochs', epochs);
  if (opts.tbptt !== undefined) {
    assertPositiveInt(op, 'tbptt', opts.tbptt);
    if (d.lengths && Array.from(d.lengths).some((l) => l !== d.seqLen)) throw new ValueError(`${op}: tbptt needs sequences of equal length (no lengths shorter than seqLen).`);
    const first = model.layers[0];
    if (d.mask !== undefined || (first instanceof Embedding && first.maskZero)) throw new ValueError(`${op}: tbptt does not take masks yet (mask or an Embedding with maskZero).`);
    if (vectorInput(model)) throw new ValueError(`${op}: tbptt needs a sequence input; this model starts from one vector per sample (Dense → RepeatVector).`);
  }
  const split = opts.validationSplit ?? 0;
  if (!(split >= 0 && split < 1)) throw new ValueError(`${op}: validationSplit must be in [0, 1), got ${split}.`);
  const L = layout(model, d, opts.loss, op, opts.metrics);
  const nVal = Math.floor(L.N * split);
  const trainIdx = Array.from({ length: L.N - nVal }, (_, i) => i);
  const valIdx = Array.from({ length: nVal }, (_, i) => L.N - nVal + i);
  const rng = new Rng(opts.seed ?? 0);
  const history: History = { epoch: [], history: {} };
  const es = opts.earlyStopping;
  const monitor = es?.monitor ?? (nVal ? 'val_loss' : 'loss');
  const sign = (es?.mode ?? (monitor.includes('acc') ? 'max' : 'min')) === 'min' ? 1 : -1;
  let best = Infinity;
  let wait = 0;
  model.stopTraining = false;
  for (let epoch = 0; epoch < epochs; epoch++) {
    const order = [...trainIdx];
    if (opts.shuffle ?? true) {
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(rng.next() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
    }
    const logs = await runEpoch(rt, model, d, L, order, { ...opts, train: true, fit: opts, epoch });
    if (nVal) {
      const v = await runEpoch(rt, model, d, L, valIdx, { ...opts, train: false, epoch });
      for (const [k, val] of Object.entries(v)) logs[`val_${k}`] = val;
    }
    history.epoch.push(epoch);
    for (const [k, v] of Object.entries(logs)) (history.history[k] ??= []).push(v);
    await opts.onEpochEnd?.({ epoch, logs });
    if (model.stopTraining) {
      history.stopped = 'stopTraining was set';
      break;
    }
    if (es) {
      const v = logs[monitor];
      if (v === undefined) throw new ValueError(`${op}: earlyStopping monitors '${monitor}', which is not among the logs (${Object.keys(logs).join(', ')}).`);
      if (sign * v < best - (es.minDelta ?? 0)) {
        best = sign * v;
        wait = 0;
      } else if (++wait > (es.patience ?? 0)) {
        history.stopped = `early stopping: ${monitor} did not improve for ${wait} epochs`;
        break;
      }
    }
  }
  return history;
}
