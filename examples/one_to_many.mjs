// One-to-many from a vector: a digit 0–9, one-hot, becomes its English name,
// one letter per step ("7" → "seven."), with '.' ending the word and filling the
// rest of the 6 steps. Dense(10 → 16, tanh) → RepeatVector(6) → LSTM → Dense
// over the letters at every step (Keras's RepeatVector pattern), trained with
// fit() on per-step labels. Prints each digit's decoded name and the exact-match
// rate (a name counts only when every one of its 6 steps is right).
//
//   node examples/one_to_many.mjs --backend cpu|webgpu [--epochs N] [--quick]
import { Adam } from 'webgpu-rnn';
import { argmax, report, setup } from './_common.mjs';

const { args, rt, t0 } = await setup('one_to_many', 'One-to-many: a digit (one-hot) → RepeatVector → LSTM → its name, letter by letter.', {
  epochs: { default: 300, quick: 120, help: 'training epochs over the 10 digits' },
});

const NAMES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
const T = 6; // the longest name (5 letters) and its '.'
const C = NAMES.length;
const letters = ['.', ...[...new Set(NAMES.join(''))].sort()];
const V = letters.length;
const x = NAMES.flatMap((_, c) => Array.from({ length: C }, (_, k) => (k === c ? 1 : 0))); // (C, C) one-hot
const y = NAMES.flatMap((name) => Array.from({ length: T }, (_, t) => letters.indexOf(name[t] ?? '.'))); // (C, T)
console.log(`${C} digits → names over ${V} symbols (${letters.join('')}), ${T} steps`);

const model = rt.sequential([
  rt.dense({ inputSize: C, units: 16, activation: 'tanh', seed: 1 }),
  rt.repeatVector(T),
  rt.lstm({ inputSize: 16, hiddenSize: 32, returnSequences: true, seed: 2 }),
  rt.dense({ inputSize: 32, units: V, seed: 3 }),
]);
console.log(model.summary());
const optimizer = new Adam(model.parameters(), { lr: 0.02 });
const hist = await model.fit(
  { x, y, seqLen: T },
  {
    loss: 'softmaxCrossEntropy', optimizer, epochs: args.epochs, batchSize: C, metrics: ['accuracy'], seed: 1,
    onEpochEnd: ({ epoch, logs }) => {
      if (epoch === 0 || (epoch + 1) % 50 === 0 || epoch + 1 === args.epochs) console.log(`epoch ${String(epoch + 1).padStart(4)}  loss ${logs.loss.toFixed(4)}  step accuracy ${logs.accuracy.toFixed(3)}`);
    },
  },
);

const logits = await model.predict(x); // (C, T, V)
const z = await logits.read();
logits.dispose();
let exact = 0;
let steps = 0;
console.log('');
for (let c = 0; c < C; c++) {
  const pred = Array.from({ length: T }, (_, t) => argmax(z, c * T + t, V));
  const word = pred.map((i) => letters[i]).join('');
  const want = y.slice(c * T, c * T + T);
  const ok = pred.every((p, t) => p === want[t]);
  exact += ok ? 1 : 0;
  steps += pred.filter((p, t) => p === want[t]).length;
  console.log(`  ${c} → ${word.padEnd(T)} ${ok ? 'ok' : `(want ${NAMES[c]})`}`);
}
const exactMatch = exact / C;
console.log(`\nexact match ${exact}/${C} names, ${steps}/${C * T} steps right\n`);

optimizer.dispose();
model.dispose();
report(t0, {
  backend: rt.backend,
  epochs: args.epochs,
  firstLoss: hist.history.loss[0],
  lastLoss: hist.history.loss.at(-1),
  exactMatch,
  stepAccuracy: steps / (C * T),
});
rt.dispose();
