// Tagging (many-to-many, one tag per token): strings of letters a–d and digits
// 0–3, of random length 3..12, pre-padded with id 0 as Keras's pad_sequences
// does. Three tags: 1 = a digit that directly follows a letter ("a3": the 3),
// 2 = a letter that appears again later in the string ("abca": the first a),
// 0 = anything else. Tag 1 needs the token before, tag 2 the rest of the
// string: a job for a bidirectional layer. Embedding(maskZero) → bidirectional
// GRU → Dense at every step, trained with fit() on per-step labels; the padding
// steps are masked in the recurrence and ignored by the loss. Prints the
// held-out token accuracy (real tokens only), the exact-match rate of whole
// strings, and the accuracy of the best rule that sees one token alone (the
// baseline a model must beat).
//
//   node examples/tagging.mjs --backend cpu|webgpu [--epochs N] [--train N] [--quick]
import { Adam, categoricalAccuracy, padSequences } from 'webgpu-rnn';
import { argmax, lcg, report, setup } from './_common.mjs';

const { args, rt, t0 } = await setup('tagging', 'Per-token tagging with a bidirectional GRU over pre-padded, masked strings.', {
  epochs: { default: 20, quick: 10, help: 'training epochs' },
  train: { default: 512, quick: 128, help: 'training strings (128 more are held out)' },
});

const ALPHABET = ' abcd0123'; // id 0 is padding
const LETTERS = [1, 2, 3, 4];
const DIGITS = [5, 6, 7, 8];
const T = 12;

function dataset(n, seed) {
  const u = lcg(seed);
  const seqs = [];
  const tags = [];
  for (let i = 0; i < n; i++) {
    const len = 3 + Math.floor(u() * (T - 2));
    const s = [];
    for (let t = 0; t < len; t++) {
      const pool = u() < 0.5 ? LETTERS : DIGITS;
      s.push(pool[Math.floor(u() * pool.length)]);
    }
    seqs.push(s);
    tags.push(s.map((v, t) => (DIGITS.includes(v) && t > 0 && LETTERS.includes(s[t - 1]) ? 1 : LETTERS.includes(v) && s.indexOf(v, t + 1) > t ? 2 : 0)));
  }
  const x = padSequences(seqs, { maxlen: T }); // 'pre' padding and truncating, the Keras defaults
  const y = padSequences(tags, { maxlen: T });
  return { x: Array.from(x.ids), y: Array.from(y.ids), mask: x.mask, seqs, tags, n };
}
const train = dataset(args.train, 1);
// the best rule that sees one token alone, from the training tags: each token's most frequent tag
const counts = ALPHABET.split('').map(() => [0, 0, 0]);
train.seqs.forEach((s, i) => s.forEach((v, t) => counts[v][train.tags[i][t]]++));
const oneTokenRule = (v) => counts[v].indexOf(Math.max(...counts[v]));
const test = dataset(128, 2);

const model = rt.sequential([
  rt.embedding({ vocabSize: ALPHABET.length, dim: 8, maskZero: true, seed: 1 }),
  rt.gru({ inputSize: 8, hiddenSize: 16, bidirectional: true, returnSequences: true, seed: 2 }),
  rt.dense({ inputSize: 32, units: 3, seed: 3 }),
]);
console.log(model.summary());
const optimizer = new Adam(model.parameters(), { lr: 0.03 });
const hist = await model.fit(
  { x: train.x, y: train.y, seqLen: T },
  {
    loss: 'softmaxCrossEntropy', optimizer, epochs: args.epochs, batchSize: 32, seed: 3,
    onEpochEnd: ({ epoch, logs }) => {
      if (epoch === 0 || (epoch + 1) % 5 === 0 || epoch + 1 === args.epochs) console.log(`epoch ${String(epoch + 1).padStart(3)}  loss ${logs.loss.toFixed(4)}`);
    },
  },
);

// held-out: token accuracy over the real steps (padding labelled -100 is ignored), and exact strings
const logits = await model.predict(test.x, { batch: test.n, seqLen: T });
const acc = await categoricalAccuracy(rt, logits, test.y.map((v, i) => (test.mask[i] ? v : -100)));
const tokenAccuracy = (await acc.read())[0];
acc.dispose();
const z = await logits.read();
logits.dispose();
let exact = 0;
let shown = 0;
let tokens = 0;
let baselineHits = 0;
console.log('\nheld-out strings and the model\'s tags (1: digit after a letter, 2: letter seen again later, * = a wrong tag):');
for (let i = 0; i < test.n; i++) {
  const s = test.seqs[i];
  const pad = T - s.length;
  const pred = s.map((_, t) => argmax(z, i * T + pad + t, 3));
  const ok = pred.every((p, t) => p === test.tags[i][t]);
  exact += ok ? 1 : 0;
  tokens += s.length;
  baselineHits += s.filter((v, t) => oneTokenRule(v) === test.tags[i][t]).length;
  if (shown < 6) {
    shown++;
    console.log(`  ${s.map((v) => ALPHABET[v]).join('')}\n  ${pred.map((p, t) => (p === test.tags[i][t] ? (p ? String(p) : ' ') : '*')).join('')}`);
  }
}
const exactMatch = exact / test.n;
const baseline = baselineHits / tokens;
console.log(`\nheld-out token accuracy ${(100 * tokenAccuracy).toFixed(2)} % over ${tokens} tokens (one-token baseline ${(100 * baseline).toFixed(2)} %), exact match ${(100 * exactMatch).toFixed(1)} % of ${test.n} strings\n`);

optimizer.dispose();
model.dispose();
report(t0, {
  backend: rt.backend,
  epochs: args.epochs,
  firstLoss: hist.history.loss[0],
  lastLoss: hist.history.loss.at(-1),
  tokenAccuracy,
  baselineAccuracy: baseline,
  exactMatch,
});
rt.dispose();
