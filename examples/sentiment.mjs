// Sentiment (many-to-one): 200 short reviews written for this repository
// (examples/data/sentiment.json: 160 to train, 40 held out as whole topic pairs)
// → Keras's Tokenizer and padSequences (pre-padding, as Keras) → Embedding with
// maskZero → LSTM (last state) → Dense(1) logit, trained with fit() on
// 'bceWithLogits'. Prints the held-out accuracy and a few new sentences' scores.
//
//   node examples/sentiment.mjs --backend cpu|webgpu [--epochs N] [--quick]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Adam, Tokenizer, padSequences } from 'webgpu-rnn';
import { dataDir, report, setup } from './_common.mjs';

const { args, rt, t0 } = await setup('sentiment', 'Many-to-one sentiment: Tokenizer + padSequences + Embedding(maskZero) → LSTM → Dense, held-out accuracy.', {
  epochs: { default: 30, quick: 8, help: 'training epochs over the 160 training sentences' },
});

const data = JSON.parse(readFileSync(join(dataDir, 'sentiment.json'), 'utf8'));
const T = 12; // longest review is 12 words; longer ones would be cut at the front (truncating 'pre')

const tok = new Tokenizer({ oovToken: '<OOV>' });
tok.fitOnTexts(data.train.map((r) => r.text));
const V = Object.keys(tok.wordIndex).length + 1; // ids 1..; 0 is padding
function encode(rows) {
  const { ids, shape } = padSequences(tok.textsToSequences(rows.map((r) => r.text)), { maxlen: T });
  return { x: Array.from(ids), y: rows.map((r) => r.label), n: shape[0] };
}
const train = encode(data.train);
const test = encode(data.test);
const unseen = data.test.flatMap((r) => tok.textsToSequences([r.text])[0]).filter((id) => id === 1).length;
console.log(`vocabulary: ${V - 2} words from the training sentences (+ <OOV> and padding); ${train.n} training, ${test.n} held-out sentences, ${unseen} held-out words unseen in training`);

const model = rt.sequential([
  rt.embedding({ vocabSize: V, dim: 16, maskZero: true, seed: 1 }),
  rt.lstm({ inputSize: 16, hiddenSize: 32, seed: 2 }),
  rt.dense({ inputSize: 32, units: 1, seed: 3 }),
]);
console.log(model.summary());
const optimizer = new Adam(model.parameters(), { lr: 0.01 });

async function accuracy(set) {
  const logits = await model.predict(set.x, { batch: set.n, seqLen: T });
  const z = await logits.read();
  logits.dispose();
  let hit = 0;
  for (let i = 0; i < set.n; i++) hit += (z[i] > 0 ? 1 : 0) === set.y[i] ? 1 : 0;
  return { acc: hit / set.n, z };
}

const hist = await model.fit(
  { x: train.x, y: train.y, seqLen: T },
  {
    loss: 'bceWithLogits', optimizer, epochs: args.epochs, batchSize: 16, seed: 4,
    onEpochEnd: ({ epoch, logs }) => {
      if (epoch === 0 || (epoch + 1) % 5 === 0 || epoch + 1 === args.epochs) console.log(`epoch ${String(epoch + 1).padStart(3)}  loss ${logs.loss.toFixed(4)}`);
    },
  },
);
const trainAcc = (await accuracy(train)).acc;
const { acc: testAcc, z } = await accuracy(test);
const testLoss = (await model.evaluate({ x: test.x, y: test.y, seqLen: T }, { loss: 'bceWithLogits' })).loss;
console.log(`\ntraining accuracy ${(100 * trainAcc).toFixed(1)} %, held-out accuracy ${(100 * testAcc).toFixed(1)} % (${Math.round(testAcc * test.n)}/${test.n}; chance 50 %), held-out loss ${testLoss.toFixed(4)}`);
const sigmoid = (v) => 1 / (1 + Math.exp(-v));
console.log('\nheld-out sentences, P(positive):');
for (let i = 0; i < Math.min(8, test.n); i++) console.log(`  ${sigmoid(z[i]).toFixed(3)}  ${data.test[i].label ? 'pos' : 'neg'}  ${data.test[i].text}`);

const mine = ['The staff were friendly and the food was delicious.', 'The room was dirty and the service was slow.', 'A boring film with awful actors.', 'I loved the music and the view was wonderful.'];
const m = encode(mine.map((text) => ({ text, label: 0 })));
const out = await model.predict(m.x, { batch: m.n, seqLen: T });
const mz = await out.read();
out.dispose();
console.log('\nnew sentences, P(positive):');
mine.forEach((s, i) => console.log(`  ${sigmoid(mz[i]).toFixed(3)}  ${s}`));
console.log('');

optimizer.dispose();
model.dispose();
report(t0, {
  backend: rt.backend,
  epochs: args.epochs,
  firstLoss: hist.history.loss[0],
  lastLoss: hist.history.loss.at(-1),
  trainAccuracy: trainAcc,
  testAccuracy: testAcc,
  testLoss,
  testSize: test.n,
});
rt.dispose();
