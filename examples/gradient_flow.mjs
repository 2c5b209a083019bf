// Gradient flow through time: SimpleRNN vs GRU vs LSTM on a memory task
// (x: T = 30 steps of uniform(−1, 1) noise; y: the FIRST value, to be recalled
// at the last step). cell(1 → 16) → Dense(1), MSE on the last output.
//  1. ‖∂L/∂h_t‖ for every step t, from model.backward(..., { stepGradNorms: true })
//     at the initial weights: how much of the loss reaches step t. At PyTorch's
//     initialisation it falls geometrically going back in time for every cell
//     (vanishing; the LSTM's long memory runs through its cell state c, and
//     Keras's unit forget bias slows the fall); with the SimpleRNN's recurrent
//     weights scaled 4× it grows instead (exploding).
//  2. The exploding network trained with SGD, with and without clipGradNorm(1):
//     the global gradient norm (before clipping) and the loss, per step.
//
//   node examples/gradient_flow.mjs --backend cpu|webgpu [--steps N] [--quick]
import { Adam, SGD, clipGradNorm, mseLoss } from 'webgpu-rnn';
import { fmt, lcg, report, setup } from './_common.mjs';

const { args, rt, t0 } = await setup('gradient_flow', 'Vanishing and exploding gradients: ‖∂L/∂h_t‖ over t for SimpleRNN, GRU, LSTM, and training with and without clipping.', {
  steps: { default: 20, quick: 5, help: 'SGD steps in part 2' },
});

const [B, T, H] = [32, 30, 16];
const u = lcg(11);
function batch(n = B, steps = T, rand = u) {
  const x = Float32Array.from({ length: n * steps }, () => 2 * rand() - 1); // (n, steps, 1)
  const y = Float32Array.from({ length: n }, (_, b) => x[b * steps]); // (n, 1): the first value
  return { x, y };
}

function build(cell, scale = 1, seed = 1, convention = 'pytorch') {
  const rnn = rt[cell]({ inputSize: 1, hiddenSize: H, seed, convention });
  if (scale !== 1) {
    const sd = rnn.torchStateDict();
    for (const k of Object.keys(sd)) if (k.startsWith('weight_hh')) sd[k].data.forEach((v, i, a) => (a[i] = v * scale));
    rnn.loadTorchStateDict(sd);
  }
  return rt.sequential([rnn, rt.dense({ inputSize: H, units: 1, seed: seed + 1 })]);
}

/** One forward + backward; returns the loss and ‖∂L/∂h_t‖ for t = 0..T−1 (gradients stay accumulated in the model). */
async function lossAndNorms(model, { x, y }, seqLen = T) {
  const { output, tape } = await model.record(x, { batch: y.length, seqLen });
  const { loss, grad } = await mseLoss(rt, output, y);
  const { stepGradNorms } = await model.backward(tape, grad, { stepGradNorms: true });
  const [norms] = [...stepGradNorms.values()];
  const n = Array.from(await norms.read());
  const l = (await loss.read())[0];
  for (const t of [output, loss, grad, norms]) t.dispose();
  return { loss: l, norms: n };
}

// --- 1. the profiles ---------------------------------------------------------
const probe = batch();
const profiles = {};
const CASES = [['SimpleRNN', 'simpleRNN', 1], ['GRU', 'gru', 1], ['LSTM', 'lstm', 1], ['LSTM keras', 'lstm', 1, 'keras'], ['SimpleRNN ×4', 'simpleRNN', 4]];
for (const [name, cell, scale, convention] of CASES) {
  const model = build(cell, scale, 1, convention);
  profiles[name] = (await lossAndNorms(model, probe)).norms;
  model.dispose();
}
const names = Object.keys(profiles);
console.log(`\n1. ‖∂L/∂h_t‖ at the initial weights (B = ${B}, T = ${T}, H = ${H}; the loss is on step ${T - 1} only)\n`);
console.log("   ('LSTM keras': convention 'keras', Glorot/orthogonal weights and forget-gate bias 1)\n");
console.log(`   t  ${names.map((n) => n.padStart(13)).join('')}`);
for (let t = T - 1; t >= 0; t -= t > 24 ? 1 : 5) console.log(`  ${String(t).padStart(2)}  ${names.map((n) => fmt(profiles[n][t]).padStart(13)).join('')}`);
const ratios = Object.fromEntries(names.map((n) => [n, profiles[n][0] / profiles[n][T - 1]]));
console.log(`  h_0/h_${T - 1}${names.map((n) => ratios[n].toExponential(2).padStart(13)).join('').slice(4)}`);

// --- 2. training the exploding network, with and without clipping ------------
console.log(`\n2. SimpleRNN ×4 trained ${args.steps} steps with SGD(lr 0.1): global gradient norm before clipping, and the loss\n`);
const clipRuns = {};
for (const clip of [null, 1]) {
  const model = build('simpleRNN', 4);
  const opt = new SGD(model.parameters(), { lr: 0.1 });
  const rows = [];
  const data = lcg(5);
  for (let step = 0; step < args.steps; step++) {
    const { loss } = await lossAndNorms(model, batch(B, T, data));
    const norm = clip === null ? await clipGradNorm(model.parameters(), Number.MAX_VALUE, { returnNorm: true }) : await clipGradNorm(model.parameters(), clip, { returnNorm: true });
    await opt.step();
    model.zeroGrad();
    rows.push({ loss, norm });
  }
  clipRuns[clip === null ? 'none' : `clip ${clip}`] = rows;
  opt.dispose();
  model.dispose();
}
console.log(`  step  ${Object.keys(clipRuns).map((k) => `${k}: ‖g‖`.padStart(16) + 'loss'.padStart(10)).join('')}`);
for (let s = 0; s < args.steps; s += s < 4 ? 1 : 5) console.log(`  ${String(s + 1).padStart(4)}  ${Object.values(clipRuns).map((r) => fmt(r[s].norm).padStart(16) + fmt(r[s].loss).padStart(10)).join('')}`);
const last = (k) => clipRuns[k].at(-1).loss;
console.log(`  after ${args.steps} steps: loss ${fmt(last('none'))} without clipping, ${fmt(last('clip 1'))} with clipGradNorm(1)`);

console.log('');

report(t0, {
  backend: rt.backend,
  ratioSimpleRNN: ratios.SimpleRNN,
  ratioGRU: ratios.GRU,
  ratioLSTM: ratios.LSTM,
  ratioLSTMKeras: ratios['LSTM keras'],
  ratioSimpleRNNx4: ratios['SimpleRNN ×4'],
  firstNormNoClip: clipRuns.none[0].norm,
  lossNoClip: last('none'),
  lossClip: last('clip 1'),
});
rt.dispose();
