// Loss and metric kernels against their float64 CPU twins (src/reference/losses.ts),
// shared by the Node test (losses.test.ts) and the headless-Chrome page
// (tests/browser/training.ts). Two tables of cases, each `run` returning one row
// per check:
//  - lossCases(gpu): the GPU on seeded random data against the twins: sizes that do
//    not divide the workgroup sizes (64, 256), N = 1, C = 1, logits ±50 and ±1000,
//    probabilities of exactly 0 and 1 (BCE's −100 clamp), ignored rows;
//  - ignoredRowCases(rt), on either backend: padded rows get exactly zero gradient
//    and change nothing, a custom ignoreIndex, the all-ignored batch.
//
// Tolerances (GPU vs twin, per tensor): the twin is fed the same float32-rounded
// inputs, so the gap is float32 arithmetic: WGSL's exp/log are accurate to a few ulp
// (log: 2^-21 absolute on [0.5, 2]), per-element terms are O(1) to O(2000) (±1000
// logits), and the mean sums at most a few thousand of them. Loss: atol 1e-6 + rtol 1e-5.
// Gradients are divided by n (or the kept rows), so their absolute tolerance is
// 1e-6 / n: the same 1e-6 relative to one unscaled term; rtol 1e-5 covers BCE's
// (p − y) / max(p(1 − p), 1e-12) up to 1e12 / n. Accuracies: within 5e-7 (a
// difference of one row is ≥ 1/2100). Perplexity = exp(mean loss), so its relative
// error is the mean loss's absolute error: rtol 1e-4 with extreme logits (measured
// ≤ 5e-6), 1e-5 with moderate ones; beyond float32 (mean loss > ~88.7) the GPU must
// give Infinity.
import type { Runtime, Tensor } from '../../src/index';
import { bceLoss, binaryAccuracy, categoricalAccuracy, mseLoss, perplexity, softmaxCrossEntropy, type LossResult } from '../../src/training/losses';
import {
  bceLossRef,
  binaryAccuracyRef,
  categoricalAccuracyRef,
  mseLossRef,
  perplexityRef,
  softmaxXentRef,
  type LossRef,
} from '../../src/reference/losses';
import { Rng } from '../../src/weights/random';
import { compare, type Comparison } from './compare';

export const LOSS_TOL = { atol: 1e-6, rtol: 1e-5 };
export const gradTol = (n: number) => ({ atol: 1e-6 / Math.max(n, 1), rtol: 1e-5 });

export interface LossRow {
  /** 'mse' | 'bce' | 'binaryAccuracy' | 'softmaxXent' | 'categoricalAccuracy' | 'perplexity' | 'ignored' */
  group: string;
  /** The case (a Node test's name), then what was checked. */
  name: string;
  ok: boolean;
  /** The larger of lossErr and gradErr. */
  relErr: number;
  /** Loss (or metric): |Δ| / max(1, |ref|); perplexity |Δ| / ref. */
  lossErr: number;
  /** Gradient: max |Δ| / max |ref grad|; null for metrics. */
  gradErr: number | null;
  detail: string;
}

export interface LossCase {
  /** The Node test's name. */
  name: string;
  run(rt: Runtime): Promise<LossRow[]>;
}

export async function readLoss(r: LossResult): Promise<{ loss: number; grad: Float32Array | Float64Array }> {
  const [l, g] = await Promise.all([r.loss.read(), r.grad.read()]);
  r.loss.dispose();
  r.grad.dispose();
  return { loss: l[0], grad: g };
}

/** Reads and disposes a metric, which must have shape [1]. */
export async function readScalar(t: Tensor): Promise<number> {
  if (t.shape.length !== 1 || t.shape[0] !== 1) {
    t.dispose();
    throw new Error(`readScalar: expected a metric of shape (1), got (${t.shape.join(', ')}).`);
  }
  const v = (await t.read())[0];
  t.dispose();
  return v;
}

/** Seeded float32 data (what the GPU sees), as a Float32Array. */
export function f32(n: number, rng: Rng, gen: (rng: Rng, i: number) => number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => gen(rng, i));
}

/** Logits with a few extreme rows: ±50 and ±1000 every 5th and 7th row. */
export function extremeLogits(R: number, C: number, rng: Rng): Float32Array {
  return f32(R * C, rng, (g, i) => {
    const r = Math.floor(i / C);
    const big = r % 7 === 3 ? 1000 : r % 5 === 2 ? 50 : 0;
    return big ? (g.next() < 0.5 ? -big : big) * g.uniform(0.5, 1) : 3 * g.normal();
  });
}

/** Rows of comparisons: ok when all are. */
function row(group: string, name: string, cs: Comparison[], lossErr: number, gradErr: number | null): LossRow {
  const bad = cs.filter((c) => !c.ok);
  return {
    group,
    name,
    ok: bad.length === 0,
    relErr: Math.max(lossErr, gradErr ?? 0),
    lossErr,
    gradErr,
    detail: bad.length ? bad.map((c) => c.detail).join('; ') : `loss ${lossErr.toExponential(2)}${gradErr === null ? '' : `, grad ${gradErr.toExponential(2)}`}`,
  };
}

/** A check that is not a tolerance comparison (exact values, a closeness bound). */
function fact(group: string, name: string, ok: boolean, detail: string, err = 0): LossRow {
  return { group, name, ok, relErr: err, lossErr: err, gradErr: null, detail: ok ? detail || 'ok' : detail };
}

/** vitest's toBeCloseTo(ref, digits): |got − ref| < 10^−digits / 2 (equal infinities pass). */
function closeTo(got: number, ref: number, digits: number): boolean {
  if (got === ref) return true;
  return Math.abs(got - ref) < 10 ** -digits / 2;
}

/** The same values, element by element, by Object.is (so +0 ≠ −0), as toEqual. */
function sameValues(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** A loss result against its twin: the loss within LOSS_TOL, the gradient within gradTol(n). */
export async function checkLoss(group: string, name: string, got: LossResult, ref: LossRef, n: number): Promise<LossRow> {
  const g = await readLoss(got);
  let maxRef = 0;
  let maxDiff = 0;
  ref.grad.forEach((v, i) => {
    maxRef = Math.max(maxRef, Math.abs(v));
    maxDiff = Math.max(maxDiff, Math.abs(v - g.grad[i]));
  });
  const lossErr = Math.abs(g.loss - ref.loss) / Math.max(1, Math.abs(ref.loss));
  const gradErr = maxRef ? maxDiff / maxRef : maxDiff;
  return row(group, name, [compare(`${name}.loss`, [ref.loss], [g.loss], LOSS_TOL), compare(`${name}.grad`, ref.grad, g.grad, gradTol(n))], lossErr, gradErr);
}

// ---------------------------------------------------------------------------
// GPU vs twin on random data

const SHAPES: [number, number][] = [
  [1, 1],
  [1, 7],
  [7, 13], // 91: not a multiple of 64
  [64, 5], // 320 > 256: several strides of the reduction
  [300, 7], // 2100
];

const XENT_SHAPES: [number, number][] = [
  [1, 1],
  [1, 5],
  [37, 11],
  [130, 3],
  [300, 64],
];

function elementwiseCases(N: number, K: number): LossCase[] {
  return [
    {
      name: `mse (${N}, ${K})`,
      async run(rt) {
        const rng = new Rng(100 + N * K);
        const pred = f32(N * K, rng, (g) => 3 * g.normal());
        const target = f32(N * K, rng, (g) => 3 * g.normal());
        const p = rt.tensor(pred, [N, K]);
        // A target tensor already on the backend gives the same result.
        const t = rt.tensor(target, [N, K]);
        try {
          return [
            await checkLoss('mse', `mse (${N},${K})`, await mseLoss(rt, p, target), mseLossRef(pred, target), N * K),
            await checkLoss('mse', `mse (${N},${K}) tensor target`, await mseLoss(rt, p, t), mseLossRef(pred, target), N * K),
          ];
        } finally {
          p.dispose();
          t.dispose();
        }
      },
    },
    {
      name: `bce on probabilities (${N}, ${K}), with exact 0 and 1`,
      async run(rt) {
        const rng = new Rng(200 + N * K);
        // Every 4th probability is exactly 0 or 1 (hits and misses); targets mix hard and soft.
        const pred = f32(N * K, rng, (g, i) => (i % 4 === 1 ? (g.next() < 0.5 ? 0 : 1) : g.uniform(1e-4, 1 - 1e-4)));
        const target = f32(N * K, rng, (g, i) => (i % 3 === 2 ? g.next() : g.next() < 0.5 ? 0 : 1));
        const p = rt.tensor(pred, [N, K]);
        try {
          return [await checkLoss('bce', `bce prob (${N},${K})`, await bceLoss(rt, p, target), bceLossRef(pred, target, false), N * K)];
        } finally {
          p.dispose();
        }
      },
    },
    {
      name: `bce on logits (${N}, ${K}), with ±50 and ±1000`,
      async run(rt) {
        const rng = new Rng(300 + N * K);
        const pred = f32(N * K, rng, (g, i) => (i % 5 === 1 ? (g.next() < 0.5 ? -50 : 50) : i % 7 === 3 ? (g.next() < 0.5 ? -1000 : 1000) : 4 * g.normal()));
        const target = f32(N * K, rng, (g, i) => (i % 3 === 2 ? g.next() : g.next() < 0.5 ? 0 : 1));
        const p = rt.tensor(pred, [N, K]);
        try {
          return [await checkLoss('bce', `bce logits (${N},${K})`, await bceLoss(rt, p, target, { fromLogits: true }), bceLossRef(pred, target, true), N * K)];
        } finally {
          p.dispose();
        }
      },
    },
    {
      name: `binary accuracy (${N}, ${K})`,
      async run(rt) {
        const rng = new Rng(400 + N * K);
        const prob = f32(N * K, rng, (g, i) => (i % 9 === 0 ? 0.5 : g.next()));
        const logit = f32(N * K, rng, (g, i) => (i % 9 === 0 ? 0 : 2 * g.normal()));
        const target = f32(N * K, rng, (g) => (g.next() < 0.5 ? 0 : 1));
        const p = rt.tensor(prob, [N, K]);
        const x = rt.tensor(logit, [N, K]);
        try {
          const rows: LossRow[] = [];
          for (const [label, t, data, fromLogits] of [['prob', p, prob, false], ['logits', x, logit, true]] as const) {
            const got = await readScalar(await binaryAccuracy(rt, t, target, { fromLogits }));
            const ref = binaryAccuracyRef(data, target, fromLogits);
            const name = `binary accuracy ${label} (${N},${K})`;
            rows.push(fact('binaryAccuracy', name, closeTo(got, ref, 6), `${name}: ref ${ref} vs got ${got}`, Math.abs(got - ref)));
          }
          return rows;
        } finally {
          p.dispose();
          x.dispose();
        }
      },
    },
  ];
}

function xentCase(R: number, C: number): LossCase {
  return {
    name: `softmax cross-entropy, perplexity, categorical accuracy (${R}, ${C}), ±50 and ±1000 rows, ignored rows`,
    async run(rt) {
      const rng = new Rng(500 + R * C);
      const logits = extremeLogits(R, C, rng);
      // About a quarter of the rows ignored (never the only row).
      const labels = Array.from({ length: R }, () => (R > 1 && rng.next() < 0.25 ? -100 : Math.floor(rng.next() * C)));
      const sel = { ignoreIndex: -100 };
      const x = rt.tensor(logits, [R, C]);
      const moderate = f32(R * C, rng, (g) => 2 * g.normal());
      const xm = rt.tensor(moderate, [R, C]);
      try {
        const rows: LossRow[] = [];
        const ref = softmaxXentRef(logits, labels, C, sel);
        rows.push(await checkLoss('softmaxXent', `xent (${R},${C})`, await softmaxCrossEntropy(rt, x, labels), ref, ref.count));

        const acc = await readScalar(await categoricalAccuracy(rt, x, labels));
        const accRef = categoricalAccuracyRef(logits, labels, C, sel);
        rows.push(fact('categoricalAccuracy', `categorical accuracy (${R},${C})`, closeTo(acc, accRef, 6), `ref ${accRef} vs got ${acc}`, Math.abs(acc - accRef)));

        // exp of a mean loss above ~88.7 is beyond float32: the GPU gives Infinity there.
        const ppl = await readScalar(await perplexity(rt, x, labels));
        const pplRef = perplexityRef(logits, labels, C, sel);
        if (Number.isFinite(Math.fround(pplRef))) {
          const c = compare(`perplexity (${R},${C})`, [pplRef], [ppl], { atol: 0, rtol: 1e-4 });
          rows.push(row('perplexity', c.name, [c], Math.abs(ppl - pplRef) / pplRef, null));
        } else {
          rows.push(fact('perplexity', `perplexity (${R},${C}) beyond float32`, ppl === Infinity, `ref ${pplRef} (beyond float32): expected Infinity, got ${ppl}`));
        }

        // Moderate logits: perplexity from exp of a mean of O(1) terms; rtol 1e-5 as the loss.
        const pm = await readScalar(await perplexity(rt, xm, labels));
        const pmRef = perplexityRef(moderate, labels, C, sel);
        rows.push(row('perplexity', `perplexity moderate (${R},${C})`, [compare(`perplexity moderate (${R},${C})`, [pmRef], [pm], { atol: 0, rtol: 1e-5 })], Math.abs(pm - pmRef) / pmRef, null));
        return rows;
      } finally {
        x.dispose();
        xm.dispose();
      }
    },
  };
}

/** Every GPU-vs-twin case, in the order of the Node tests. */
export const lossCases: LossCase[] = [...SHAPES.flatMap(([N, K]) => elementwiseCases(N, K)), ...XENT_SHAPES.map(([R, C]) => xentCase(R, C))];

// ---------------------------------------------------------------------------
// Ignored and padded rows, the all-ignored batch (either backend)

// A many-to-many model's outputs (B, T, C) with sequence lengths [4, 2, 0, 3]: the
// rows b·T + t with t ≥ length are padding.
export const PADDED = { B: 4, T: 4, C: 5, lengths: [4, 2, 0, 3] };
const { B, T, C, lengths } = PADDED;
const padded = (r: number) => r % T >= lengths[Math.floor(r / T)];

/** Seeded logits (B·T·C), classes and labels (B·T; −100 on padded rows), the row mask, the valid rows. */
export function paddedData() {
  const rng = new Rng(11);
  const logits = Float32Array.from({ length: B * T * C }, () => 2 * rng.normal());
  const classes = Array.from({ length: B * T }, () => Math.floor(rng.next() * C));
  const labels = classes.map((c, r) => (padded(r) ? -100 : c));
  const mask = classes.map((_, r) => (padded(r) ? 0 : 1));
  const validRows = classes.map((_, r) => r).filter((r) => !padded(r));
  return { logits, classes, labels, mask, validRows };
}

export const ignoredRowCases: LossCase[] = [
  {
    name: 'padded rows get exactly zero gradient and do not change the loss',
    async run(rt) {
      const { logits, classes, labels, mask, validRows } = paddedData();
      const group = 'ignored';
      const rows: LossRow[] = [];
      const x = rt.tensor(logits, [B, T, C]);
      const base = await readLoss(await softmaxCrossEntropy(rt, x, labels));
      const nonZero = [...Array(B * T).keys()].filter((r) => padded(r) && !sameValues(base.grad.subarray(r * C, r * C + C), [0, 0, 0, 0, 0]));
      rows.push(fact(group, 'padded: padded rows get exactly zero gradient', nonZero.length === 0, nonZero.length ? `padded rows ${nonZero.join(', ')} have a non-zero gradient` : ''));

      // Wild values in the padded rows change nothing, bit for bit.
      const wild = logits.map((v, i) => (padded(Math.floor(i / C)) ? (i % 2 ? 1000 : -1000) : v));
      const xw = rt.tensor(wild, [B, T, C]);
      const w = await readLoss(await softmaxCrossEntropy(rt, xw, labels));
      const same = Object.is(w.loss, base.loss) && sameValues(w.grad, base.grad);
      rows.push(fact(group, 'padded: ±1000 in the padded rows change nothing, bit for bit', same, `loss ${w.loss} vs ${base.loss}, gradients ${sameValues(w.grad, base.grad) ? 'equal' : 'differ'}`));

      // The same as the loss over the valid rows alone (the mean is over valid rows).
      const compact = Float32Array.from(validRows.flatMap((r) => [...logits.subarray(r * C, r * C + C)]));
      const xc = rt.tensor(compact, [validRows.length, C]);
      const c = await readLoss(await softmaxCrossEntropy(rt, xc, validRows.map((r) => labels[r])));
      const validGrad = validRows.flatMap((r) => [...base.grad.subarray(r * C, r * C + C)]);
      const lossErr = Math.abs(base.loss - c.loss) / Math.max(1, Math.abs(c.loss));
      rows.push(row(group, 'padded: equals the loss over the valid rows alone', [compare('padded.loss', [c.loss], [base.loss], LOSS_TOL), compare('padded.grad', c.grad, validGrad, gradTol(validRows.length))], lossErr, 0));

      // A row mask (array, then a tensor on this backend) skips the same rows, whatever their labels.
      const m1 = await readLoss(await softmaxCrossEntropy(rt, x, classes, { mask }));
      const maskT = rt.tensor(mask, [B, T]);
      const m2 = await readLoss(await softmaxCrossEntropy(rt, x, classes, { mask: maskT }));
      for (const [label, m] of [['array', m1], ['tensor', m2]] as const) {
        const ok = Object.is(m.loss, base.loss) && sameValues(m.grad, base.grad);
        rows.push(fact(group, `padded: a mask ${label} skips the same rows, bit for bit`, ok, `loss ${m.loss} vs ${base.loss}, gradients ${sameValues(m.grad, base.grad) ? 'equal' : 'differ'}`));
      }
      // Metrics skip them too.
      const acc = await readScalar(await categoricalAccuracy(rt, xw, classes, { mask: maskT }));
      const accRef = categoricalAccuracyRef(logits, labels, C, { ignoreIndex: -100 });
      rows.push(fact(group, 'padded: categorical accuracy skips masked rows', closeTo(acc, accRef, 6), `ref ${accRef} vs got ${acc}`, Math.abs(acc - accRef)));
      const ppl = await readScalar(await perplexity(rt, xw, labels));
      const ratio = ppl / Math.exp(base.loss);
      rows.push(fact(group, 'padded: perplexity = exp(loss), ignoring padded rows', closeTo(ratio, 1, 5), `perplexity / exp(loss) = ${ratio}`, Math.abs(ratio - 1)));
      for (const t of [x, xw, xc, maskT]) t.dispose();
      return rows;
    },
  },
  {
    name: 'a custom ignoreIndex inside the class range skips those rows',
    async run(rt) {
      const { logits, classes } = paddedData();
      const x = rt.tensor(logits, [B * T, C]);
      try {
        const ref = softmaxXentRef(logits, classes, C, { ignoreIndex: 2 });
        return [await checkLoss('ignored', 'ignoreIndex 2', await softmaxCrossEntropy(rt, x, classes, { ignoreIndex: 2 }), ref, ref.count)];
      } finally {
        x.dispose();
      }
    },
  },
  {
    name: 'an all-ignored batch gives loss 0 and gradient 0 (no 0/0)',
    async run(rt) {
      const { logits, classes, labels, mask } = paddedData();
      const group = 'ignored';
      const x = rt.tensor(logits, [B * T, C]);
      try {
        const none = labels.map(() => -100);
        const all = await readLoss(await softmaxCrossEntropy(rt, x, none));
        const masked = await readLoss(await softmaxCrossEntropy(rt, x, classes, { mask: mask.map(() => 0) }));
        const ppl = await readScalar(await perplexity(rt, x, none));
        const acc = await readScalar(await categoricalAccuracy(rt, x, none));
        return [
          fact(group, 'all ignored: loss 0, gradient 0', Object.is(all.loss, 0) && all.grad.every((v) => v === 0), `loss ${all.loss}, max |grad| ${Math.max(...all.grad.map(Math.abs))}`),
          fact(group, 'all masked: loss 0, gradient 0', Object.is(masked.loss, 0) && masked.grad.every((v) => v === 0), `loss ${masked.loss}, max |grad| ${Math.max(...masked.grad.map(Math.abs))}`),
          fact(group, 'all ignored: perplexity 1', Object.is(ppl, 1), `perplexity ${ppl}`),
          fact(group, 'all ignored: categorical accuracy 0', Object.is(acc, 0), `accuracy ${acc}`),
        ];
      } finally {
        x.dispose();
      }
    },
  },
];
