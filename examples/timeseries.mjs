// Time-series forecasting (many-to-one regression): a noisy seasonal series,
//   s_t = sin(2πt/24) + 0.5·sin(2πt/168) + 0.001·t + noise(σ = 0.1),
// one-step-ahead from the last 24 values. LSTM(1 → 32) → Dense(1), trained with
// fit() on 'mse' over windows of the first 80 % of the series; measured on
// the windows of the last 20 % (their targets never seen in training) against
// two baselines: the last value (naive) and the value one period (24 steps)
// ago (seasonal naive). The noise alone sets a floor of σ² = 0.01.
//
//   node examples/timeseries.mjs --backend cpu|webgpu [--epochs N] [--quick]
import { Adam } from 'webgpu-rnn';
import { lcg, report, setup } from './_common.mjs';

const { args, rt, t0 } = await setup('timeseries', 'One-step forecasting of a noisy seasonal series: test MSE vs the last-value and seasonal baselines.', {
  epochs: { default: 15, quick: 4, help: 'training epochs' },
  length: { default: 800, quick: 400, help: 'points in the series' },
});

const W = 24; // window (one period)
const SIGMA = 0.1;
const N = args.length;
const u = lcg(3);
const gauss = () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
const series = Array.from({ length: N }, (_, t) => Math.sin((2 * Math.PI * t) / 24) + 0.5 * Math.sin((2 * Math.PI * t) / 168) + 0.001 * t + SIGMA * gauss());
const split = Math.floor(0.8 * N);

// windows: inputs s[o .. o+W-1], target s[o+W]; training targets before `split`, test targets from it
function windows(from, to) {
  const x = [];
  const y = [];
  for (let o = from; o + W < to; o++) {
    x.push(...series.slice(o, o + W));
    y.push(series[o + W]);
  }
  return { x, y, n: y.length };
}
const train = windows(0, split);
const test = windows(split - W, N);
console.log(`series of ${N} points, period 24; ${train.n} training windows, ${test.n} test windows (the last ${N - split} targets)`);

const model = rt.sequential([rt.lstm({ inputSize: 1, hiddenSize: 32, seed: 1 }), rt.dense({ inputSize: 32, units: 1, seed: 2 })]);
console.log(model.summary());
const optimizer = new Adam(model.parameters(), { lr: 0.01 });
const hist = await model.fit(
  { x: train.x, y: train.y, seqLen: W },
  {
    loss: 'mse', optimizer, epochs: args.epochs, batchSize: 64, seed: 4, validationSplit: 0.1,
    onEpochEnd: ({ epoch, logs }) => {
      if (epoch === 0 || (epoch + 1) % 5 === 0 || epoch + 1 === args.epochs) console.log(`epoch ${String(epoch + 1).padStart(3)}  loss ${logs.loss.toFixed(5)}  val_loss ${logs.val_loss.toFixed(5)}`);
    },
  },
);

const out = await model.predict(test.x, { batch: test.n, seqLen: W });
const pred = await out.read();
out.dispose();
const mse = (f) => test.y.reduce((s, y, i) => s + (f(i) - y) ** 2, 0) / test.n;
const testMse = mse((i) => pred[i]);
const naiveMse = mse((i) => test.x[i * W + W - 1]); // the last value of the window
const seasonalMse = mse((i) => test.x[i * W]); // 24 steps before the target
console.log(`\ntest MSE: LSTM ${testMse.toFixed(5)}, last value ${naiveMse.toFixed(5)}, seasonal naive ${seasonalMse.toFixed(5)}, noise floor ${(SIGMA ** 2).toFixed(5)}`);
console.log(`the LSTM's error is ${(naiveMse / testMse).toFixed(1)}× lower than the last value's`);
console.log('\n  t      actual   LSTM     last value');
for (let i = 0; i < test.n; i += Math.floor(test.n / 8)) console.log(`  ${String(split + i).padEnd(6)} ${test.y[i].toFixed(3).padStart(7)}  ${pred[i].toFixed(3).padStart(7)}  ${test.x[i * W + W - 1].toFixed(3).padStart(7)}`);
console.log('');

optimizer.dispose();
model.dispose();
report(t0, {
  backend: rt.backend,
  epochs: args.epochs,
  firstLoss: hist.history.loss[0],
  lastLoss: hist.history.loss.at(-1),
  testMse,
  naiveMse,
  seasonalMse,
  noiseFloor: SIGMA ** 2,
});
rt.dispose();
